/*
 * cli_auth.c: where `baobao` gets its settings and credentials: the config
 * file (and the check that only its owner can read it), the environment,
 * the flags, and the password prompt on the terminal without echo.
 *
 * For: one precedence everywhere (flags > environment > config file >
 * a session kept by `baobao login` > prompt), refusing a config file
 * others could read (it may hold a password), and keeping each password
 * in one malloc'd buffer that is zeroed before it is freed. Not for:
 * talking to the server (cli_call.c logs in with what this file
 * resolves), the kept sessions themselves (cli_session.c) or what a login
 * means (the server).
 *
 * A password never comes from the command line: argv is visible to every
 * user of the machine (ps), the environment and a private file are not.
 */
#include "cli.h"
#include "i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define CLI_CONFIG_MAX_BYTES (64u * 1024u)   /* a config file is a few lines */
#define CLI_PATH_MAX 4096u
/* A typed password: the protocol's maximum, the newline, a byte to notice
 * a longer one. */
#define CLI_PROMPT_MAX (BB_PASSWORD_MAX_BYTES + 2u)
/* A login typed at the prompt: the protocol's 64 bytes, and room for the
 * spaces around it that are trimmed. */
#define CLI_LOGIN_MAX_BYTES 256u

/* ---- passwords in memory ---- */

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

void cli_password_free(char *pw)
{
    if (pw == NULL)
        return;
    wipe(pw, strlen(pw));
    free(pw);
}


static void config_free(cli_config *c)
{
    free(c->path);
    free(c->server);
    free(c->user);
    cli_password_free(c->password);
    free(c->ca);
    free(c->server_name);
    memset(c, 0, sizeof *c);
    c->tls = -1;
}

void cli_ctx_free(cli_ctx *ctx)
{
    cli_disconnect(ctx);
    bb_reply_free(ctx->login_reply);
    ctx->login_reply = NULL;
    config_free(&ctx->config);
    free(ctx->login);
    ctx->login = NULL;
    cli_password_free(ctx->password);
    ctx->password = NULL;
}

/* ---- the config file ---- */

int cli_config_error(bb_error *err, const char *fmt, ...)
{
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bbi_err(err, BB_C_EARG, "config_error", NULL, "%s", msg);
}

/* The file to read: $BAOBAO_CONFIG (explicit: must exist), else the XDG
 * default (may be missing). *explicit_path tells which. */
static bool config_path(char *out, size_t cap, bool *explicit_path)
{
    const char *env = getenv("BAOBAO_CONFIG");
    *explicit_path = env != NULL && env[0] != '\0';
    int n;
    if (*explicit_path) {
        n = snprintf(out, cap, "%s", env);
    } else {
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        if (xdg != NULL && xdg[0] == '/')
            n = snprintf(out, cap, "%s/baobao/config", xdg);
        else if (home != NULL && home[0] != '\0')
            n = snprintf(out, cap, "%s/.config/baobao/config", home);
        else
            return false;
    }
    return n > 0 && (size_t)n < cap;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* "1", "yes", "true", "on" -> 1; "0", "no", "false", "off" -> 0; else -1. */
static int parse_bool(const char *v)
{
    static const char *const yes[] = { "1", "yes", "true", "on" };
    static const char *const no[] = { "0", "no", "false", "off" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/* One `key = value` line (already trimmed, not a comment). */
static int config_line(cli_config *c, const char *path, unsigned lineno, char *line,
                       bb_error *err)
{
    char *eq = strchr(line, '=');
    if (eq == NULL)
        return cli_config_error(err, _("%s:%u: expected `key = value`"), path, lineno);
    *eq = '\0';
    char *key = trim(line);
    char *val = trim(eq + 1);
    char **slot = NULL;
    if (strcmp(key, "server") == 0)
        slot = &c->server;
    else if (strcmp(key, "user") == 0)
        slot = &c->user;
    else if (strcmp(key, "password") == 0)
        slot = &c->password;
    else if (strcmp(key, "ca") == 0)
        slot = &c->ca;
    else if (strcmp(key, "server_name") == 0)
        slot = &c->server_name;
    else if (strcmp(key, "tls") == 0) {
        c->tls = parse_bool(val);
        if (c->tls < 0)
            return cli_config_error(err, _("%s:%u: tls must be 1 or 0 (yes/no, true/false)"),
                                    path, lineno);
        return BB_C_OK;
    } else
        return cli_config_error(err, _("%s:%u: unknown key \"%s\" (known: server, user, "
                                       "password, tls, ca, server_name)"),
                                path, lineno, key);
    if (val[0] == '\0')
        return cli_config_error(err, _("%s:%u: %s has no value"), path, lineno, key);
    if (*slot != NULL) {
        if (slot == &c->password)
            cli_password_free(*slot);
        else
            free(*slot);
    }
    *slot = strdup(val);
    if (*slot == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    return BB_C_OK;
}

/* Only the owner may read or write it: it may hold a password. Checked on
 * the opened file (fstat), so what is checked is what is read. */
static int config_check_mode(int fd, const char *path, bb_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return cli_config_error(err, _("cannot read config file %s: %s"), path,
                                strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cli_config_error(err, _("refusing to use config file %s: it is not a regular "
                                       "file"), path);
    if (st.st_uid != geteuid())
        return cli_config_error(err, _("refusing to use config file %s: it is owned by uid "
                                       "%lu, not by you (uid %lu); it may hold a password, so "
                                       "only its owner may use it"),
                                path, (unsigned long)st.st_uid, (unsigned long)geteuid());
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return cli_config_error(err, _("refusing to use config file %s: its mode is %04o, so "
                                       "others on this machine can read or change it (it may "
                                       "hold a password); make it private with: chmod 600 %s"),
                                path, (unsigned)(st.st_mode & 07777), path);
    return BB_C_OK;
}

int cli_config_load(cli_ctx *ctx, bb_error *err)
{
    if (ctx->config_loaded)
        return BB_C_OK;
    cli_config *c = &ctx->config;
    memset(c, 0, sizeof *c);
    c->tls = -1;
    char path[CLI_PATH_MAX];
    bool explicit_path;
    if (!config_path(path, sizeof path, &explicit_path)) {
        ctx->config_loaded = true;   /* no HOME: no default file */
        return BB_C_OK;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && !explicit_path) {
            ctx->config_loaded = true;
            return BB_C_OK;
        }
        return cli_config_error(err, _("cannot open config file %s%s: %s"), path,
                                explicit_path ? " ($BAOBAO_CONFIG)" : "", strerror(errno));
    }
    int rc = config_check_mode(fd, path, err);
    char *buf = NULL;
    size_t len = 0;
    if (rc == BB_C_OK) {
        buf = malloc(CLI_CONFIG_MAX_BYTES + 1);
        if (buf == NULL)
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    while (rc == BB_C_OK) {
        ssize_t n = read(fd, buf + len, CLI_CONFIG_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cli_config_error(err, _("cannot read config file %s: %s"), path,
                                  strerror(errno));
        else if (n == 0)
            break;
        else if ((len += (size_t)n) > CLI_CONFIG_MAX_BYTES)
            rc = cli_config_error(err, _("config file %s is larger than %u bytes"), path,
                                  CLI_CONFIG_MAX_BYTES);
    }
    close(fd);
    if (rc == BB_C_OK) {
        buf[len] = '\0';
        if (strlen(buf) != len)
            rc = cli_config_error(err, _("config file %s holds a NUL byte"), path);
    }
    unsigned lineno = 0;
    for (char *p = buf; rc == BB_C_OK && p != NULL && *p != '\0';) {
        char *eol = strchr(p, '\n');
        if (eol != NULL)
            *eol = '\0';
        lineno++;
        char *line = trim(p);
        if (line[0] != '\0' && line[0] != '#')
            rc = config_line(c, path, lineno, line, err);
        p = eol != NULL ? eol + 1 : NULL;
    }
    if (buf != NULL) {
        wipe(buf, CLI_CONFIG_MAX_BYTES + 1);
        free(buf);
    }
    if (rc == BB_C_OK) {
        c->path = strdup(path);
        if (c->path == NULL)
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    if (rc != BB_C_OK) {
        config_free(c);
        return rc;
    }
    ctx->config_loaded = true;
    return BB_C_OK;
}

/* ---- precedence ---- */

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* True when "HOST:PORT" names this machine: an IPv4 address in
 * 127.0.0.0/8 or [::1], parsed strictly (inet_pton: "127.0.0.256" or
 * "127.1." are not addresses and would go to DNS), or the name localhost.
 * NULL is the default server, which is loopback. */
static bool server_is_loopback(const char *server)
{
    if (server == NULL)
        return true;
    if (strncmp(server, "localhost:", 10) == 0)
        return true;
    char host[64];
    const char *colon = strrchr(server, ':');
    if (colon == NULL || (size_t)(colon - server) >= sizeof host)
        return false;
    size_t n = (size_t)(colon - server);
    if (n >= 2 && server[0] == '[' && server[n - 1] == ']') {
        memcpy(host, server + 1, n - 2);
        host[n - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    memcpy(host, server, n);
    host[n] = '\0';
    struct in_addr a4;
    return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int cli_settings(cli_ctx *ctx, const char **server, bb_connect_opts *opts, bb_error *err)
{
    int rc = cli_config_load(ctx, err);
    if (rc != BB_C_OK)
        return rc;
    const cli_config *c = &ctx->config;
    *server = ctx->server;
    if (*server == NULL)
        *server = env_nonempty("BAOBAO_SERVER");
    if (*server == NULL)
        *server = c->server;
    memset(opts, 0, sizeof *opts);
    opts->timeout_ms = ctx->timeout_ms;
    opts->tls_ca_file = ctx->ca;
    if (opts->tls_ca_file == NULL)
        opts->tls_ca_file = env_nonempty("BAOBAO_CA");
    if (opts->tls_ca_file == NULL)
        opts->tls_ca_file = c->ca;
    opts->tls_server_name = ctx->server_name;
    if (opts->tls_server_name == NULL)
        opts->tls_server_name = env_nonempty("BAOBAO_SERVER_NAME");
    if (opts->tls_server_name == NULL)
        opts->tls_server_name = c->server_name;
    int tls = ctx->tls ? 1 : -1;
    const char *env_tls = getenv("BAOBAO_TLS");
    if (tls < 0 && env_tls != NULL && env_tls[0] != '\0') {
        tls = parse_bool(env_tls);
        if (tls < 0)
            return cli_config_error(err, _("BAOBAO_TLS must be 1 or 0, not \"%s\""), env_tls);
    }
    if (tls < 0)
        tls = c->tls;
    /* A CA file only means something with TLS: giving one asks for it. */
    opts->tls = tls == 1 || (tls < 0 && opts->tls_ca_file != NULL);
    /* The password must not cross a network in the clear by default: as
     * the server refuses plaintext on other addresses unless told, the CLI
     * refuses it unless TLS was turned off explicitly (tls = 0). */
    if (!opts->tls && tls < 0 && !server_is_loopback(*server))
        return cli_config_error(err,
                                _("%s is not this machine: refusing to send a password "
                                  "without TLS; use --tls (with --ca FILE), or set "
                                  "BAOBAO_TLS=0 to allow plaintext"),
                                *server);
    return BB_C_OK;
}

/* ---- the terminal ---- */

static volatile sig_atomic_t g_tty_fd = -1;
static struct termios g_tty_saved;

/* Ctrl-C at the prompt: give the terminal its echo back, then die of the
 * signal as usual. */
static void restore_and_reraise(int sig)
{
    if (g_tty_fd >= 0)
        tcsetattr(g_tty_fd, TCSAFLUSH, &g_tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from fd (a terminal) into a malloc'd buffer of
 * CLI_PROMPT_MAX bytes. BB_C_OK (*out set, *len its length), or
 * "no_credentials" when the terminal was closed (closed_msg), or
 * invalid_argument field when longer than max bytes. */
static int read_line(int fd, const char *field, size_t max, const char *closed_msg, char **out,
                     size_t *len, bb_error *err)
{
    *out = NULL;
    *len = 0;
    char *buf = malloc(CLI_PROMPT_MAX);
    if (buf == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    size_t n = 0;
    int rc = BB_C_OK;
    for (bool eol = false; rc == BB_C_OK && !eol;) {
        char ch;
        ssize_t k = read(fd, &ch, 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = bbi_err(err, BB_C_EARG, "no_credentials", NULL, "%s", closed_msg);
            break;
        }
        if (ch == '\n' || ch == '\r')
            eol = true;
        else if (n >= max || n + 1 >= CLI_PROMPT_MAX)
            rc = bbi_err(err, BB_C_EARG, "invalid_argument", field,
                         _("%s: longer than %zu bytes"), field, max);
        else
            buf[n++] = ch;
        ch = 0;
    }
    if (rc != BB_C_OK) {
        wipe(buf, CLI_PROMPT_MAX);
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return BB_C_OK;
}

int cli_prompt_password(const char *prompt, const char *what, const char *env, char **out,
                        bb_error *err)
{
    *out = NULL;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        char also[256] = "";
        if (strcmp(env, "BAOBAO_PASSWORD") == 0)
            snprintf(also, sizeof also, "%s",
                     _(" or put `password = ...` in the config file (mode 600)"));
        return bbi_err(err, BB_C_EARG, "no_credentials", NULL,
                       _("no password for %s: set %s%s, or run baobao on a terminal to be "
                         "asked for it (no terminal here: %s)"), what, env, also,
                       strerror(errno));
    }
    struct termios t;
    bool have_termios = tcgetattr(fd, &t) == 0;
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_reraise;
    sigemptyset(&sa.sa_mask);
    if (have_termios) {
        g_tty_saved = t;
        g_tty_fd = fd;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
        t.c_lflag |= ECHONL | ICANON;   /* the Enter still moves to a new line */
        tcsetattr(fd, TCSAFLUSH, &t);
    }
    (void)!write(fd, prompt, strlen(prompt));
    char closed[256];
    snprintf(closed, sizeof closed, _("no password for %s: the terminal was closed"), what);
    char *buf = NULL;
    size_t len = 0;
    int rc = read_line(fd, "password", BB_PASSWORD_MAX_BYTES, closed, &buf, &len, err);
    if (have_termios) {
        tcsetattr(fd, TCSAFLUSH, &g_tty_saved);
        g_tty_fd = -1;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
    } else {
        (void)!write(fd, "\n", 1);
    }
    close(fd);
    if (rc == BB_C_OK && len == 0) {
        cli_password_free(buf);
        return bbi_err(err, BB_C_EARG, "no_credentials", NULL,
                       _("no password for %s: an empty password was typed"), what);
    }
    if (rc != BB_C_OK)
        return rc;
    *out = buf;
    return BB_C_OK;
}

/* The message when no login can be had: the ways to give one. */
static int no_user(cli_ctx *ctx, bb_error *err)
{
    const cli_config *c = &ctx->config;
    return bbi_err(err, BB_C_EARG, "no_credentials", NULL,
                   _("no user to log in as: give --user LOGIN, set BAOBAO_USER, or put "
                     "`user = LOGIN` in the config file%s%s"),
                   c->path != NULL ? " " : "", c->path != NULL ? c->path : "");
}

int cli_prompt_login(cli_ctx *ctx, char **out, bb_error *err)
{
    *out = NULL;
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return no_user(ctx, err);
    const char *prompt = _("Login: ");
    (void)!write(fd, prompt, strlen(prompt));
    char *buf = NULL;
    size_t len = 0;
    int rc = read_line(fd, "login", CLI_LOGIN_MAX_BYTES, _("no login: the terminal was closed"),
                       &buf, &len, err);
    close(fd);
    if (rc != BB_C_OK)
        return rc;
    /* Forgiving input: spaces around it (also U+3000, typed with a
     * Chinese input method) are not part of a login. */
    char *b = buf;
    for (;;) {
        if (*b == ' ' || *b == '\t')
            b++;
        else if (strncmp(b, "\xe3\x80\x80", 3) == 0)
            b += 3;
        else
            break;
    }
    size_t n = strlen(b);
    for (;;) {
        if (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
        else if (n >= 3 && strncmp(b + n - 3, "\xe3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    memmove(buf, b, n);
    buf[n] = '\0';
    if (n == 0) {
        free(buf);
        return no_user(ctx, err);
    }
    *out = buf;
    return BB_C_OK;
}

int cli_new_password(const char *what, char **out, bb_error *err)
{
    *out = NULL;
    const char *env = env_nonempty("BAOBAO_NEW_PASSWORD");
    if (env != NULL) {
        *out = strdup(env);
        return *out != NULL ? BB_C_OK : bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    char prompt[256], again_prompt[256];
    snprintf(prompt, sizeof prompt, _("New password for %s: "), what);
    snprintf(again_prompt, sizeof again_prompt, _("New password for %s, again: "), what);
    char *first = NULL, *second = NULL;
    int rc = cli_prompt_password(prompt, what, "BAOBAO_NEW_PASSWORD", &first, err);
    if (rc == BB_C_OK)
        rc = cli_prompt_password(again_prompt, what, "BAOBAO_NEW_PASSWORD", &second, err);
    if (rc == BB_C_OK && strcmp(first, second) != 0)
        rc = bbi_err(err, BB_C_EARG, "no_credentials", NULL,
                     _("the two new passwords for %s differ: nothing was changed"), what);
    cli_password_free(second);
    if (rc != BB_C_OK) {
        cli_password_free(first);
        return rc;
    }
    *out = first;
    return BB_C_OK;
}

/* ---- credentials ---- */

const char *cli_named_login(cli_ctx *ctx)
{
    const char *login = ctx->user;
    if (login == NULL)
        login = env_nonempty("BAOBAO_USER");
    if (login == NULL)
        login = ctx->config.user;
    return login;
}

/* The password for login that needs no asking, or NULL. The file's
 * password is for the file's user: a --user or BAOBAO_USER naming someone
 * else is asked for their own. */
static const char *password_at_hand(cli_ctx *ctx, const char *login)
{
    const char *pw = env_nonempty("BAOBAO_PASSWORD");
    const cli_config *c = &ctx->config;
    if (pw == NULL && (c->user == NULL || (login != NULL && strcmp(c->user, login) == 0)))
        pw = c->password;
    return pw;
}

bool cli_password_given(cli_ctx *ctx, const char *login)
{
    return password_at_hand(ctx, login) != NULL;
}

int cli_credentials(cli_ctx *ctx, bb_error *err)
{
    if (ctx->login != NULL && ctx->password != NULL)
        return BB_C_OK;
    int rc = cli_config_load(ctx, err);
    if (rc != BB_C_OK)
        return rc;
    /* The login may be known already: the one of a saved session the
     * server no longer accepts (cli_session.c), or asked by login. */
    if (ctx->login == NULL) {
        const char *login = cli_named_login(ctx);
        if (login == NULL)
            rc = cli_prompt_login(ctx, &ctx->login, err);
        else if ((ctx->login = strdup(login)) == NULL)
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        if (rc != BB_C_OK)
            return rc;
    }
    const char *pw = password_at_hand(ctx, ctx->login);
    if (pw != NULL) {
        ctx->password = strdup(pw);
        if (ctx->password == NULL)
            return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        return BB_C_OK;
    }
    char prompt[256];
    snprintf(prompt, sizeof prompt, _("Password for %s: "), ctx->login);
    return cli_prompt_password(prompt, ctx->login, "BAOBAO_PASSWORD", &ctx->password, err);
}
