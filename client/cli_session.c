/*
 * cli_session.c: the saved sessions file of `baobao login` and the resume
 * with one (cli_session.h).
 *
 * For: where the file is, the checks that keep it private (a regular
 * file, owned by the caller, no group or other bits, not a symbolic
 * link), reading it, replacing it whole under a lock (a temporary file in
 * the same folder, fsync, rename, fsync of the folder), and logging a
 * connection in with a saved token. Not for: passwords or the config file
 * (cli_auth.c) or what the commands print (cli_user.c).
 *
 * The file: comment lines (#) and one line per session,
 *   SERVER <TAB> LOGIN <TAB> EXPIRES <TAB> TOKEN
 * in the order they were stored (the last is the newest). Neither a
 * server nor a login can hold a tab or a newline (both are refused
 * before they get here), and a line that does not parse is dropped the
 * next time the file is written.
 */
#include "cli_session.h"

#include "i18n.h"
#include "state_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A file of a few lines; more is not ours. */
#define CLI_SAVED_MAX_BYTES (64u * 1024u)
/* Sessions kept at once (servers x logins); storing one more drops the
 * oldest. */
#define CLI_SAVED_MAX_ENTRIES 64u
#define CLI_SAVED_PATH_MAX 4096u
#define CLI_SAVED_NAME "session"
/* A token, a login (64 bytes) or a server as stored: longer is refused. */
#define CLI_SAVED_FIELD_MAX 1024u

static const char saved_header[] =
    "# baobao: sessions kept by `baobao login` (one line per server and login).\n"
    "# Private: whoever reads a line can act as that user until it expires or\n"
    "# `baobao logout` ends it. Do not copy or share this file.\n";

/* Fills err as BB_C_EARG "session_file_error" (exit 2, like a config
 * file's config_error): the saved sessions file or its folder is at
 * fault, not the config file, and the message (translated) says how. */
__attribute__((format(printf, 2, 3)))
static int session_error(bb_error *err, const char *fmt, ...)
{
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return bbi_err(err, BB_C_EARG, "session_file_error", NULL, "%s", msg);
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

void cli_saved_free(cli_saved *s)
{
    free(s->server);
    free(s->login);
    free(s->expires);
    cli_password_free(s->token);
    memset(s, 0, sizeof *s);
}

const char *cli_saved_key(const char *server)
{
    return server != NULL ? server : BB_CLIENT_DEFAULT_SERVER;
}

/* ---- where ---- */

static int no_home(bb_error *err)
{
    return session_error(err, _("cannot keep a session: neither $XDG_STATE_HOME nor $HOME "
                                   "is set"));
}

/* ---- entries ---- */

typedef struct entries {
    cli_saved v[CLI_SAVED_MAX_ENTRIES + 1];
    size_t n;
} entries;

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        cli_saved_free(&e->v[i]);
    e->n = 0;
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS[.f]Z"; -1 when it is
 * not that. */
static long long parse_utc(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    char z = 0;
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    const char *rest = s + n;
    if (*rest == '.')
        rest += strspn(rest + 1, "0123456789") + 1;
    z = *rest;
    if (z != 'Z' || rest[1] != '\0')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (long long)t;
}

long long cli_saved_seconds_left(const char *expires)
{
    long long t = parse_utc(expires);
    if (t < 0)
        return -1;
    long long left = t - (long long)time(NULL);
    return left > 0 ? left : 0;
}

/* An entry whose expiry has passed (one whose expiry does not parse is
 * left to the server to judge). */
static bool expired(const cli_saved *s)
{
    long long t = parse_utc(s->expires);
    return t >= 0 && t <= (long long)time(NULL);
}

static bool field_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= CLI_SAVED_FIELD_MAX &&
           strpbrk(s, "\t\r\n") == NULL;
}

/* Parses buf (NUL-terminated, changed in place) into e; lines that do not
 * parse are skipped. BB_C_OK or ENOMEM. */
static int entries_parse(char *buf, entries *e, bb_error *err)
{
    for (char *p = buf; p != NULL && *p != '\0';) {
        char *eol = strchr(p, '\n');
        if (eol != NULL)
            *eol = '\0';
        char *f[4];
        size_t nf = 0;
        if (p[0] != '#') {
            char *q = p;
            while (nf < 4) {
                f[nf++] = q;
                char *tab = strchr(q, '\t');
                if (tab == NULL)
                    break;
                *tab = '\0';
                q = tab + 1;
            }
        }
        if (nf == 4 && strchr(f[3], '\t') == NULL && field_ok(f[0]) && field_ok(f[1]) &&
            field_ok(f[2]) && field_ok(f[3]) && e->n < CLI_SAVED_MAX_ENTRIES) {
            cli_saved *s = &e->v[e->n];
            s->server = strdup(f[0]);
            s->login = strdup(f[1]);
            s->expires = strdup(f[2]);
            s->token = strdup(f[3]);
            e->n++;
            if (s->server == NULL || s->login == NULL || s->expires == NULL || s->token == NULL)
                return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return BB_C_OK;
}

/* The checks of the file, on the opened file (fstat): what is checked is
 * what is read. */
static int check_file(int fd, const char *path, bb_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return session_error(err, _("cannot read the saved sessions file %s: %s"), path,
                                strerror(errno));
    if (!S_ISREG(st.st_mode))
        return session_error(err,
                                _("refusing to use the saved sessions file %s: it is not a "
                                  "regular file"),
                                path);
    if (st.st_uid != geteuid())
        return session_error(err,
                                _("refusing to use the saved sessions file %s: it is owned by "
                                  "uid %lu, not by you (uid %lu); whoever can read it can act "
                                  "as the users in it, so only its owner may use it; delete it "
                                  "and log in again"),
                                path, (unsigned long)st.st_uid, (unsigned long)geteuid());
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return session_error(err,
                                _("refusing to use the saved sessions file %s: its mode is "
                                  "%04o, so others on this machine can read or change it "
                                  "(whoever reads it can act as you); delete it and log in "
                                  "again, or make it private with: chmod 600 %s"),
                                path, (unsigned)(st.st_mode & 07777), path);
    return BB_C_OK;
}

/* Reads the file of dir into e (none: e empty). BB_C_OK or an error. */
static int entries_load(const char *dir, entries *e, bb_error *err)
{
    char path[CLI_SAVED_PATH_MAX];
    int pn = snprintf(path, sizeof path, "%s/" CLI_SAVED_NAME, dir);
    if (pn < 0 || (size_t)pn >= sizeof path)
        return session_error(err, _("the folder %s is too long a path"), dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return BB_C_OK;
        if (errno == ELOOP)
            return session_error(err,
                                    _("refusing to use the saved sessions file %s: it is a "
                                      "symbolic link"),
                                    path);
        return session_error(err, _("cannot read the saved sessions file %s: %s"), path,
                                strerror(errno));
    }
    int rc = check_file(fd, path, err);
    char *buf = NULL;
    size_t len = 0;
    if (rc == BB_C_OK && (buf = malloc(CLI_SAVED_MAX_BYTES + 1)) == NULL)
        rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    while (rc == BB_C_OK) {
        ssize_t n = read(fd, buf + len, CLI_SAVED_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = session_error(err, _("cannot read the saved sessions file %s: %s"), path,
                                  strerror(errno));
        else if (n == 0)
            break;
        else if ((len += (size_t)n) > CLI_SAVED_MAX_BYTES)
            rc = session_error(err,
                                  _("the saved sessions file %s is larger than %u bytes: "
                                    "delete it and log in again"),
                                  path, CLI_SAVED_MAX_BYTES);
    }
    close(fd);
    if (rc == BB_C_OK) {
        buf[len] = '\0';
        rc = entries_parse(buf, e, err);
    }
    if (buf != NULL) {
        wipe(buf, CLI_SAVED_MAX_BYTES + 1);
        free(buf);
    }
    if (rc != BB_C_OK)
        entries_free(e);
    return rc;
}

/* A new entries with the file of dir in it (*out; free with
 * entries_drop). BB_C_OK or an error (nothing to free). */
static int entries_read(const char *dir, entries **out, bb_error *err)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    int rc = entries_load(dir, *out, err);
    if (rc != BB_C_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static void entries_drop(entries *e)
{
    if (e != NULL)
        entries_free(e);
    free(e);
}

/* ---- writing ---- */

static bool write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

/* Opens dir (made when missing, 0700) and checks it: a folder owned by
 * the caller that no one else may write to (else they could put their
 * own file in place of this one). *dfd open on success. */
static int open_dir(const char *dir, int *dfd, bb_error *err)
{
    switch (cli_state_dir_open(dir, true, dfd)) {
    case CLI_STATE_DIR_OK:
        return BB_C_OK;
    case CLI_STATE_DIR_EMAKE:
        return session_error(err, _("cannot make the folder %s for the saved sessions: %s"), dir,
                                strerror(errno));
    case CLI_STATE_DIR_EOPEN:
        return session_error(err, _("cannot open the folder %s of the saved sessions: %s"), dir,
                                strerror(errno));
    case CLI_STATE_DIR_NOT_PRIVATE:
        break;
    }
    return session_error(err,
                            _("refusing to keep sessions in %s: the folder must be yours "
                              "and writable by you only (chmod 700 %s)"),
                            dir, dir);
}

/* The folder (dir, cap bytes), made when missing and checked, open in
 * *dfd. BB_C_OK or an error. */
static int saved_open(char *dir, size_t cap, int *dfd, bb_error *err)
{
    if (!cli_state_dir(dir, cap))
        return no_home(err);
    return open_dir(dir, dfd, err);
}

/* Writes e as the file of dir: a new file, renamed over the old one. */
static int entries_store(const char *dir, int dfd, const entries *e, bb_error *err)
{
    char path[CLI_SAVED_PATH_MAX], tmp[CLI_SAVED_PATH_MAX];
    int pn = snprintf(path, sizeof path, "%s/" CLI_SAVED_NAME, dir);
    int tn = snprintf(tmp, sizeof tmp, "%s/." CLI_SAVED_NAME ".XXXXXX", dir);
    if (pn < 0 || (size_t)pn >= sizeof path || tn < 0 || (size_t)tn >= sizeof tmp)
        return session_error(err, _("the folder %s is too long a path"), dir);
    int fd = mkostemp(tmp, O_CLOEXEC);   /* 0600, O_EXCL */
    if (fd < 0)
        return session_error(err, _("cannot write the saved sessions file in %s: %s"), dir,
                                strerror(errno));
    bool ok = fchmod(fd, 0600) == 0 && write_all(fd, saved_header, strlen(saved_header));
    for (size_t i = 0; ok && i < e->n; i++) {
        const cli_saved *s = &e->v[i];
        ok = write_all(fd, s->server, strlen(s->server)) && write_all(fd, "\t", 1) &&
             write_all(fd, s->login, strlen(s->login)) && write_all(fd, "\t", 1) &&
             write_all(fd, s->expires, strlen(s->expires)) && write_all(fd, "\t", 1) &&
             write_all(fd, s->token, strlen(s->token)) && write_all(fd, "\n", 1);
    }
    ok = ok && fsync(fd) == 0;
    int saved_errno = errno;
    if (close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0) {
        saved_errno = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        return session_error(err, _("cannot write the saved sessions file %s: %s"), path,
                                strerror(saved_errno));
    }
    (void)fsync(dfd);   /* the rename itself; a failure here loses nothing written */
    return BB_C_OK;
}

/* An entry to add, borrowed. */
typedef struct saved_add {
    const char *server, *login, *expires, *token;
} saved_add;

/*
 * The one way the file changes: under an exclusive lock on its folder,
 * reads it, removes the entry of server and login (its token to
 * *old_token when asked), the expired ones and, past the limit, the
 * oldest, adds add (when not NULL) as the newest, and writes it back.
 */
static int saved_update(const char *server, const char *login, const saved_add *add,
                        char **old_token, bb_error *err)
{
    if (old_token != NULL)
        *old_token = NULL;
    char dir[CLI_SAVED_PATH_MAX];
    int dfd;
    int rc = saved_open(dir, sizeof dir, &dfd, err);
    if (rc != BB_C_OK)
        return rc;
    if (flock(dfd, LOCK_EX) != 0) {
        rc = session_error(err, _("cannot lock the folder %s of the saved sessions: %s"), dir,
                              strerror(errno));
        close(dfd);
        return rc;
    }
    entries *e = NULL;
    rc = entries_read(dir, &e, err);
    if (rc == BB_C_OK) {
        size_t w = 0;
        for (size_t i = 0; i < e->n; i++) {
            cli_saved *s = &e->v[i];
            bool same = strcmp(s->server, server) == 0 && strcmp(s->login, login) == 0;
            if (same && old_token != NULL && *old_token == NULL) {
                *old_token = s->token;
                s->token = NULL;
            }
            if (same || expired(s))
                cli_saved_free(s);
            else
                e->v[w++] = *s;
        }
        e->n = w;
        if (add != NULL) {
            if (e->n >= CLI_SAVED_MAX_ENTRIES) {
                cli_saved_free(&e->v[0]);
                memmove(&e->v[0], &e->v[1], (e->n - 1) * sizeof e->v[0]);
                e->n--;
            }
            cli_saved *s = &e->v[e->n++];
            memset(s, 0, sizeof *s);
            s->server = strdup(add->server);
            s->login = strdup(add->login);
            s->expires = strdup(add->expires);
            s->token = strdup(add->token);
            if (s->server == NULL || s->login == NULL || s->expires == NULL || s->token == NULL)
                rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        }
    }
    if (rc == BB_C_OK)
        rc = entries_store(dir, dfd, e, err);
    entries_drop(e);
    close(dfd);   /* and the lock with it */
    if (rc != BB_C_OK && old_token != NULL) {
        cli_password_free(*old_token);
        *old_token = NULL;
    }
    return rc;
}

/* ---- the API ---- */

int cli_saved_find(const char *server, const char *login, cli_saved *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    char dir[CLI_SAVED_PATH_MAX];
    if (!cli_state_dir(dir, sizeof dir))
        return CLI_SAVED_NONE;
    entries *e = NULL;
    int rc = entries_read(dir, &e, err);
    if (rc == BB_C_OK) {
        rc = CLI_SAVED_NONE;
        for (size_t i = e->n; i-- > 0;) {
            cli_saved *s = &e->v[i];
            if (strcmp(s->server, server) != 0 || (login != NULL && strcmp(s->login, login) != 0)
                || expired(s))
                continue;
            *out = *s;
            memset(s, 0, sizeof *s);
            rc = BB_C_OK;
            break;
        }
    }
    entries_drop(e);
    return rc;
}

int cli_saved_put(const char *server, const char *login, const char *token, const char *expires,
                  char **old_token, bb_error *err)
{
    if (!field_ok(server) || !field_ok(login) || !field_ok(token) || !field_ok(expires))
        return session_error(err, _("cannot keep this session: the server, login or token holds "
                                       "a tab or a line break, or is too long"));
    saved_add add = {server, login, expires, token};
    return saved_update(server, login, &add, old_token, err);
}

int cli_saved_remove(const char *server, const char *login, bb_error *err)
{
    return saved_update(server, login, NULL, NULL, err);
}

int cli_saved_check(bb_error *err)
{
    char dir[CLI_SAVED_PATH_MAX];
    int dfd;
    int rc = saved_open(dir, sizeof dir, &dfd, err);
    if (rc != BB_C_OK)
        return rc;
    close(dfd);
    entries *e = NULL;
    rc = entries_read(dir, &e, err);
    entries_drop(e);
    return rc;
}

/* ---- resuming ---- */

int cli_session_resume(cli_ctx *ctx, const char *server, const bb_connect_opts *opts,
                       bb_error *err)
{
    const char *named = cli_named_login(ctx);
    if (cli_password_given(ctx, named))
        return CLI_SAVED_NONE;
    const char *key = cli_saved_key(server);
    cli_saved s;
    int rc = cli_saved_find(key, named, &s, err);
    if (rc == CLI_SAVED_NONE)
        return rc;
    if (rc != BB_C_OK) {
        /* Refused or unreadable: said, and not used; the password is
         * asked for as if there were none. */
        fprintf(stderr, "baobao: %s\n", err->message);
        return CLI_SAVED_NONE;
    }
    ctx->client = bb_connect_with(server, opts, err);
    if (ctx->client == NULL) {
        cli_saved_free(&s);
        return err->rc;
    }
    bb_set_timeout(ctx->client, ctx->timeout_ms);
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "token", s.token);
    bb_reply *r = NULL;
    rc = bbi_call_kvs(ctx->client, "session.resume", &k, &r, err);
    if (rc == BB_C_OK)
        rc = bbi_want_map(bb_reply_result(r), "session.resume result", err);
    if (rc == BB_C_OK && ctx->login == NULL && (ctx->login = strdup(s.login)) == NULL)
        rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (rc == BB_C_OK) {
        bb_reply_free(ctx->login_reply);
        ctx->login_reply = r;
        cli_saved_free(&s);
        return BB_C_OK;
    }
    bb_reply_free(r);
    cli_disconnect(ctx);
    if (rc == BB_C_ESERVER && strcmp(err->code, "unauthenticated") == 0) {
        fprintf(stderr, _("baobao: the saved session of %s on %s has ended (it expired, it was "
                          "logged out, or the password, role or townships changed); log in "
                          "again\n"), s.login, key);
        bb_error rerr;
        if (cli_saved_remove(key, s.login, &rerr) != BB_C_OK)
            fprintf(stderr, "baobao: %s\n", rerr.message);
        rc = CLI_SAVED_NONE;
        if (ctx->login == NULL && (ctx->login = strdup(s.login)) == NULL)
            rc = bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    cli_saved_free(&s);
    return rc;
}
