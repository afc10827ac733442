/*
 * guided.c: guided entry (guided.h). A township staff member types
 * `baobao status submit` and nothing else; this file asks for what is
 * missing, one value at a time, in their language: the record by a part
 * of its name (resolve.c finds it, the user picks among candidates), a
 * reference value or an allowed value by its number in a list, a default
 * taken with Enter (today, their own name), an amount as 856万. Each
 * answer is checked as it is typed (the packer's conversion, a date's
 * shape, an integer's range, a choice) and asked again when wrong, so
 * the call that follows is refused only for what the server alone knows.
 * Before sending, the whole request is shown (names next to ids) and must
 * be confirmed. Ctrl-C or Ctrl-D at any prompt ends the command with exit
 * 2 and nothing sent.
 *
 * Line editing and history are libedit's (emacs keys, arrows; answers of
 * earlier runs under the up arrow), kept in a private file.
 *
 * Which optional arguments are offered and which defaults Enter takes are
 * data (extras[] below), not code; everything else comes from the method
 * spec. Not for: finding records by name (resolve.c), converting or
 * checking values beyond what a prompt needs to ask again (args.c, the
 * server), or anything without a terminal.
 */
#include "guided.h"

#include "i18n.h"
#include "labels.h"
#include "money.h"
#include "resolve.h"
#include "state_dir.h"
#include "table.h"

#include "bb_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* The history file's name in its folder (guided.h). */
#define CLI_GUIDED_HISTORY_NAME "history"
#define CLI_GUIDED_PATH_MAX 4096u

/* ---- what is asked beyond the required arguments: data ---- */

/* What Enter gives for an argument, beyond what the spec says (a date
 * with BB_A_TODAY: absent, the server's today). */
typedef enum guided_default {
    DEF_NONE = 0,    /* optional: Enter skips it */
    DEF_MY_NAME,     /* the logged-in user's display_name */
} guided_default;

/* An argument offered although the method does not require it, or with a
 * default of its own. */
typedef struct guided_extra {
    const char *method, *arg;
    guided_default def;
} guided_extra;

static const guided_extra extras[] = {
    /* A visit is logged by the one who made it; the figures are what a
     * visit usually brings back. */
    {"status.submit", "reporter", DEF_MY_NAME},
    {"status.submit", "output_value", DEF_NONE},
    {"status.submit", "employees", DEF_NONE},
    {"status.submit", "labour_shortage", DEF_NONE},
    {"status.submit", "note", DEF_NONE},
    {"enterprise.create", "cluster", DEF_NONE},
    {"problem.create", "deadline", DEF_NONE},
};

static const guided_extra *extra_of(const bb_method_spec *ms, const bb_arg *a)
{
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++)
        if (strcmp(extras[i].method, ms->name) == 0 && strcmp(extras[i].arg, a->name) == 0)
            return &extras[i];
    return NULL;
}

/* ---- the terminal session: libedit, history, Ctrl-C ---- */

static struct {
    bool open;               /* between session_open and session_close */
    EditLine *el;
    History *hist;
    char *hist_path;         /* owned, for messages; NULL: no history kept */
    int hist_dirfd;          /* its folder, open while hist_path is set */
    char *prompt;            /* owned: what el_gets shows */
    char *locale;            /* owned: LC_CTYPE before the session */
    struct termios tty;      /* stdin's modes before the session */
    bool have_tty;
    struct sigaction old_int;
    const char *cancel_msg;  /* translated before Ctrl-C can come */
    size_t cancel_len;
    /* collect asked something: confirm shows the summary */
    bool asked;
    /* the logged-in user (display_name, role, townships) */
    bb_reply *me_reply;      /* owned when whoami was called */
    const msgpack_object *me;
} G;

/* Ctrl-C: nothing has been sent (the session ends before the call), so
 * the terminal gets its modes back and the command ends at once. Only
 * async-signal-safe calls. */
static void on_interrupt(int sig)
{
    (void)sig;
    if (G.have_tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &G.tty);
    static const char nl[] = "\n";
    (void)!write(STDERR_FILENO, nl, 1);
    if (G.cancel_msg != NULL)
        (void)!write(STDERR_FILENO, G.cancel_msg, G.cancel_len);
    (void)!write(STDERR_FILENO, nl, 1);
    _exit(CLI_EXIT_USAGE);
}

static char *el_prompt(EditLine *el)
{
    static char none[] = "";
    (void)el;
    return G.prompt != NULL ? G.prompt : none;
}

static bool utf8_ctype(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs != NULL && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Says once a run (not at every question) that no history is kept, and
 * why: what (a file or a folder) is not private. */
static void history_refused(const char *what)
{
    static bool said;
    if (!said)
        fprintf(stderr, "baobao: %s\n", what);
    said = true;
}

/* Opens the history's folder, refusing one that is not a folder of ours
 * that only we may write to (as the saved sessions' folder,
 * cli_session.c: else another user could put a file or a link of theirs
 * in place of the history). The descriptor is kept: the file is opened
 * in it, never again by a path someone could change meanwhile. false
 * (said when refused): no history. */
static bool history_dir_open(void)
{
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[CLI_GUIDED_PATH_MAX];
    if ((state == NULL || state[0] != '/') && (home == NULL || home[0] != '/'))
        return false;   /* nowhere to keep it: no history */
    if (!cli_state_dir(dir, sizeof dir))
        return false;
    int fd;
    switch (cli_state_dir_open(dir, true, &fd)) {
    case CLI_STATE_DIR_OK:
        break;
    case CLI_STATE_DIR_EMAKE:
        return false;
    case CLI_STATE_DIR_EOPEN:
    case CLI_STATE_DIR_NOT_PRIVATE: {
        char *msg = NULL;
        if (asprintf(&msg, _("%s is not a private folder of yours: no history kept"), dir) >= 0)
            history_refused(msg);
        free(msg);
        return false;
    }
    }
    if (asprintf(&G.hist_path, "%s/%s", dir, CLI_GUIDED_HISTORY_NAME) < 0) {
        G.hist_path = NULL;
        close(fd);
        return false;
    }
    G.hist_dirfd = fd;
    return true;
}

/* Forgets the history's file and folder: nothing more is read or kept. */
static void history_forget(void)
{
    if (G.hist_path != NULL)
        close(G.hist_dirfd);
    free(G.hist_path);
    G.hist_path = NULL;
    G.hist_dirfd = -1;
}

/* Opens the history file in its folder for flags, refusing one that is
 * not a regular file of ours (a link, another user's), and makes it
 * private. */
static int history_open(int flags)
{
    int fd = openat(G.hist_dirfd, CLI_GUIDED_HISTORY_NAME, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
                    ((st.st_mode & 077) != 0 && fchmod(fd, 0600) != 0))) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

static void history_load(void)
{
    G.hist_dirfd = -1;
    if (!history_dir_open())
        return;
    int fd = history_open(O_RDONLY);
    if (fd < 0 && errno == ENOENT)
        return;   /* the first run */
    if (fd < 0) {
        char *msg = NULL;
        if (asprintf(&msg, _("%s is not a private file of yours: no history kept"),
                     G.hist_path) >= 0)
            history_refused(msg);
        free(msg);
        history_forget();
        return;
    }
    /* libedit reads a history by name only: the name of the descriptor
     * just checked, so the file read is the one checked, whatever was
     * put in its place since (a link). Without /proc: none read. */
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    HistEvent ev;
    history(G.hist, &ev, H_LOAD, self);
    close(fd);
}

/* Writes the history (at most CLI_GUIDED_HISTORY_MAX answers) after each
 * answer, so that Ctrl-C loses none of them. */
static void history_save(void)
{
    if (G.hist_path == NULL)
        return;
    int fd = history_open(O_WRONLY | O_CREAT);
    FILE *f = fd >= 0 && ftruncate(fd, 0) == 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    HistEvent ev;
    history(G.hist, &ev, H_SAVE_FP, f);
    fclose(f);
}

static void session_close(void)
{
    if (!G.open)
        return;
    G.open = false;
    if (G.el != NULL)
        el_end(G.el);   /* gives the terminal its modes back */
    if (G.hist != NULL)
        history_end(G.hist);
    G.el = NULL;
    G.hist = NULL;
    history_forget();
    free(G.prompt);
    G.prompt = NULL;
    sigaction(SIGINT, &G.old_int, NULL);
    if (G.locale != NULL)
        setlocale(LC_CTYPE, G.locale);
    free(G.locale);
    G.locale = NULL;
}

/* Starts asking: a UTF-8 LC_CTYPE (libedit measures and decodes what is
 * typed by it: Chinese input needs it, whatever the locale says), Ctrl-C
 * caught, the editor and the history. 0 or an exit code. */
static int session_open(void)
{
    const char *cur = setlocale(LC_CTYPE, NULL);
    G.locale = strdup(cur != NULL ? cur : "C");
    if (G.locale == NULL)
        return cli_oom();
    G.open = true;
    if (!utf8_ctype() && (setlocale(LC_CTYPE, "") == NULL || !utf8_ctype()))
        setlocale(LC_CTYPE, "C.UTF-8");
    G.cancel_msg = _("Cancelled: nothing was sent.");
    G.cancel_len = strlen(G.cancel_msg);
    G.have_tty = tcgetattr(STDIN_FILENO, &G.tty) == 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &G.old_int);
    G.hist = history_init();
    G.el = G.hist != NULL ? el_init("baobao", stdin, stderr, stderr) : NULL;
    if (G.el == NULL) {
        session_close();
        return cli_oom();
    }
    HistEvent ev;
    history(G.hist, &ev, H_SETSIZE, CLI_GUIDED_HISTORY_MAX);
    history(G.hist, &ev, H_SETUNIQUE, 1);
    history_load();
    el_set(G.el, EL_EDITOR, "emacs");
    el_set(G.el, EL_SIGNAL, 0);   /* ours: on_interrupt */
    el_set(G.el, EL_PROMPT, el_prompt);
    el_set(G.el, EL_HIST, history, G.hist);
    return 0;
}

/* Ctrl-D (or the terminal gone): the short message, exit 2. */
static int cancelled(void)
{
    fprintf(stderr, "\n%s\n", _("Cancelled: nothing was sent."));
    return CLI_EXIT_USAGE;
}

/* Whether p[0..] starts U+3000 (the ideographic space of Chinese input). */
static bool ideo_space(const char *p)
{
    return (unsigned char)p[0] == 0xe3 && (unsigned char)p[1] == 0x80 &&
           (unsigned char)p[2] == 0x80;
}

/* s without leading and trailing blanks (ASCII and U+3000), in place. */
static char *trim(char *s)
{
    char *p = s;
    for (;;) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        else if (ideo_space(p))
            p += 3;
        else
            break;
    }
    size_t n = strlen(p);
    for (;;) {
        if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' ||
                      p[n - 1] == '\n'))
            n--;
        else if (n >= 3 && ideo_space(p + n - 3))
            n -= 3;
        else
            break;
    }
    memmove(s, p, n);
    s[n] = '\0';
    return s;
}

/* One answer after prompt (taken). 0 and *out (owned, trimmed), or
 * CLI_EXIT_USAGE after Ctrl-D, said. */
static int read_answer(char *prompt, char **out)
{
    free(G.prompt);
    G.prompt = prompt;
    *out = NULL;
    if (G.prompt == NULL)
        return cli_oom();
    int n = 0;
    const char *line = el_gets(G.el, &n);
    if (line == NULL || n <= 0)
        return cancelled();
    char *s = strdup(line);
    if (s == NULL)
        return cli_oom();
    trim(s);
    if (s[0] != '\0') {
        HistEvent ev;
        history(G.hist, &ev, H_ENTER, s);
        history_save();
    }
    *out = s;
    return 0;
}

int cli_guided_ask(const char *prompt, char **out)
{
    bool opened = !G.open;
    int rc = opened ? session_open() : 0;
    if (rc == 0)
        rc = read_answer(strdup(prompt), out);
    if (opened)
        session_close();
    return rc;
}

bool cli_guided_available(void)
{
    return isatty(STDIN_FILENO) && isatty(STDERR_FILENO) && getenv("BAOBAO_NO_PROMPT") == NULL;
}

/* ---- talking to the server ---- */

/* Calls a read method with k; 0 and *out, or (said unless quiet) the
 * exit code of the failure. */
static int call_read(cli_ctx *ctx, const char *method, const bbi_kvs *k, bool quiet,
                     bb_reply **out)
{
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack(&a, method, k, &err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, method, &a, false, out, &err);
    bbi_args_free(&a);
    if (rc == BB_C_OK)
        return 0;
    return quiet ? cli_exit_code(&err) : cli_fail_in(ctx, method, &err);
}

/* bytes[0..n) as a string (owned; NULL on no memory). Not strndup: the
 * bytes may be msgpack's, with no NUL after them. */
static char *copy_bytes(const char *bytes, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        if (n > 0)
            memcpy(s, bytes, n);
        s[n] = '\0';
    }
    return s;
}

/* A str of a map as a new string (NULL when absent, not a str, or no
 * memory). */
static char *map_str(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = bb_map_get(map, key);
    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return NULL;
    return copy_bytes(o->via.str.ptr, o->via.str.size);
}

static bool obj_is(const msgpack_object *o, const char *s)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* The logged-in user (the login's reply, else session.whoami): whose
 * name is the default reporter and whose townships are offered. */
static int load_me(cli_ctx *ctx)
{
    if (ctx->login_reply != NULL && bb_map_get(bb_reply_result(ctx->login_reply),
                                               "display_name") != NULL) {
        G.me = bb_reply_result(ctx->login_reply);
        return 0;
    }
    bbi_kvs k = {.n = 0};
    int rc = call_read(ctx, "session.whoami", &k, false, &G.me_reply);
    G.me = rc == 0 ? bb_reply_result(G.me_reply) : NULL;
    return rc;
}

static void forget_me(void)
{
    bb_reply_free(G.me_reply);
    G.me_reply = NULL;
    G.me = NULL;
}

/* ---- choices ---- */

typedef struct choices {
    char **send;    /* what is sent (owned) */
    char **shown;   /* what the list shows (owned) */
    size_t n;
} choices;

static void choices_free(choices *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->send[i]);
        free(c->shown[i]);
    }
    free(c->send);
    free(c->shown);
    *c = (choices){0};
}

/* Adds a choice (copies both); false on no memory. */
static bool choice_add(choices *c, const char *send, size_t send_len, const char *shown)
{
    char **ns = realloc(c->send, (c->n + 1) * sizeof *ns);
    if (ns != NULL)
        c->send = ns;
    char **nh = ns != NULL ? realloc(c->shown, (c->n + 1) * sizeof *nh) : NULL;
    if (nh != NULL)
        c->shown = nh;
    char *s = nh != NULL ? copy_bytes(send, send_len) : NULL;
    char *h = s != NULL ? strdup(shown != NULL ? shown : s) : NULL;
    if (h == NULL) {
        free(s);
        return false;
    }
    c->send[c->n] = s;
    c->shown[c->n] = h;
    c->n++;
    return true;
}

/* Whether the user's townships allow township value v: township staff
 * are offered their own only (the server would refuse the others). */
static bool my_township(const msgpack_object *v)
{
    const msgpack_object *role = bb_map_get(G.me, "role");
    const msgpack_object *ts = bb_map_get(G.me, "townships");
    if (!obj_is(role, "township_staff") || ts == NULL || ts->type != MSGPACK_OBJECT_ARRAY)
        return true;
    for (uint32_t i = 0; i < ts->via.array.size; i++) {
        const msgpack_object *t = &ts->via.array.ptr[i];
        if (t->type == MSGPACK_OBJECT_STR && t->via.str.size == v->via.str.size &&
            memcmp(t->via.str.ptr, v->via.str.ptr, v->via.str.size) == 0)
            return true;
    }
    return false;
}

/* The current (not retired) values of reference kind ref, in the
 * server's order. 0 or an exit code. */
static int ref_choices(cli_ctx *ctx, const char *ref, choices *c)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "kind", ref);
    bb_reply *r = NULL;
    int rc = call_read(ctx, "ref.list", &k, false, &r);
    if (rc != 0)
        return rc;
    const msgpack_object *items = bb_map_get(bb_reply_result(r), "items");
    for (uint32_t i = 0; rc == 0 && items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
                         i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        const msgpack_object *v = bb_map_get(it, "value"), *ret = bb_map_get(it, "retired");
        if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
            (ret != NULL && ret->type == MSGPACK_OBJECT_BOOLEAN && ret->via.boolean) ||
            (strcmp(ref, "township") == 0 && !my_township(v)))
            continue;
        char *shown = copy_bytes(v->via.str.ptr, v->via.str.size);
        if (shown == NULL || !choice_add(c, v->via.str.ptr, v->via.str.size, shown))
            rc = cli_oom();
        free(shown);
    }
    bb_reply_free(r);
    return rc;
}

/* The choices of argument a: reference data, allowed values, yes/no; none
 * for a free value. 0 or an exit code. */
static int arg_choices(cli_ctx *ctx, const bb_arg *a, choices *c)
{
    if (a->ref != NULL)
        return ref_choices(ctx, a->ref, c);
    bool ok = true;
    for (size_t i = 0; a->values != NULL && a->values[i] != NULL && ok; i++)
        ok = choice_add(c, a->values[i], strlen(a->values[i]), NULL);
    if (a->type == BB_T_BOOL)
        ok = choice_add(c, "true", 4, _("yes")) && choice_add(c, "false", 5, _("no"));
    return ok ? 0 : cli_oom();
}

static void print_choices(const choices *c)
{
    for (size_t i = 0; i < c->n; i++)
        fprintf(stderr, "  %zu. %s\n", i + 1, c->shown[i]);
}

/* The choice an answer names: its number, the value or the shown text,
 * or a part of exactly one of them. NULL (said) when none. */
static const char *pick(const choices *c, const char *ans)
{
    size_t len = strlen(ans), digits = strspn(ans, "0123456789");
    if (digits == len && len > 0 && len < 10) {
        unsigned long k = strtoul(ans, NULL, 10);
        if (k >= 1 && k <= c->n)
            return c->send[k - 1];
        fprintf(stderr, _("Choose a number from 1 to %zu.\n"), c->n);
        return NULL;
    }
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(ans, c->send[i]) == 0 || strcmp(ans, c->shown[i]) == 0)
            return c->send[i];
    const char *found = NULL;
    size_t nfound = 0;
    for (size_t i = 0; i < c->n; i++)
        if (strstr(c->shown[i], ans) != NULL || strstr(c->send[i], ans) != NULL) {
            found = c->send[i];
            nfound++;
        }
    if (nfound == 1)
        return found;
    fprintf(stderr, _("\"%s\" is not one of the choices above: type its number.\n"), ans);
    return NULL;
}

/* ---- asking one argument ---- */

/* "label (hint; enter): " with the parts there are. Owned; NULL on no
 * memory. */
static char *make_prompt(const char *label, const char *hint, const char *enter)
{
    char *inner = NULL, *p = NULL;
    int rc = 0;
    if (hint != NULL && enter != NULL)
        rc = asprintf(&inner, _("%s; %s"), hint, enter);
    else if (hint != NULL || enter != NULL)
        rc = asprintf(&inner, "%s", hint != NULL ? hint : enter);
    if (rc < 0)
        return NULL;
    if (inner != NULL)
        rc = asprintf(&p, _("%s (%s): "), label, inner);
    else
        rc = asprintf(&p, _("%s: "), label);
    free(inner);
    return rc < 0 ? NULL : p;
}

static cli_fmt_kind fmt_of(const cli_mech *m, const char *name)
{
    for (const cli_fmt *f = m->fmts; f != NULL && f->key != NULL; f++)
        if (strcmp(f->key, name) == 0)
            return f->kind;
    return CLI_F_TEXT;
}

static bool is_money(const cli_mech *m, const char *name)
{
    cli_fmt_kind k = fmt_of(m, name);
    return k == CLI_F_MONEY || k == CLI_F_WAN;
}

/* Whether value (a text for argument a) would be sent as it is: the
 * packer converts it, a date is a calendar date, an integer is in range.
 * Says why not. */
static bool value_ok(const bb_method_spec *ms, const bb_arg *a, const char *value)
{
    bbi_kvs k = {.n = 0};
    bb_error err;
    bool ok = bbi_kv_text(&k, ms->name, a->name, value, &err) == BB_C_OK;
    if (!ok) {
        char why[512];
        cli_error_text(why, sizeof why, ms->name, &err);
        fprintf(stderr, "%s\n", why);
    } else if (k.n == 1 && k.v[0].kind == BBI_STR && a->type == BB_T_DATE &&
               bb_date_check(k.v[0].s, strlen(k.v[0].s)) != BB_DATE_OK) {
        fprintf(stderr, _("\"%s\" is not a date (e.g. 2026-12-05).\n"), value);
        ok = false;
    } else if (k.n == 1 && k.v[0].kind == BBI_INT && a->type == BB_T_INT &&
               (k.v[0].i < a->min || k.v[0].i > a->max)) {
        fprintf(stderr, _("Give a number from %lld to %lld.\n"), (long long)a->min,
                (long long)a->max);
        ok = false;
    }
    bbi_kvs_free(&k);
    return ok;
}

/* Asks argument a until an acceptable answer (or Enter for the default /
 * to skip) and stores it in t. 0 or an exit code. */
static int ask_arg(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms, const bb_arg *a,
                   cli_mech_args *t)
{
    const guided_extra *x = extra_of(ms, a);
    const char *kind = cli_resolve_kind(ms, a->name);
    bool required = (a->flags & BB_A_REQ) != 0, money = is_money(m, a->name);
    char *my_name = x != NULL && x->def == DEF_MY_NAME ? map_str(G.me, "display_name") : NULL;
    /* def_shown: what Enter means; def_sent: what it sends (NULL: the
     * argument stays absent and the server fills it) */
    const char *def_shown = my_name, *def_sent = my_name;
    if (def_shown == NULL && (a->flags & BB_A_TODAY))
        def_shown = _("today");
    choices c = {0};
    int rc = kind == NULL ? arg_choices(ctx, a, &c) : 0;
    char *label = cli_arg_label(a, kind != NULL);   /* labels.h */
    /* The amounts as they are written here, in either language. */
    char *amount_hint = NULL;
    if (money && asprintf(&amount_hint, _("e.g. %s or %s"), "856万", "1.2亿") < 0)
        amount_hint = NULL;
    const char *hint = kind != NULL      ? _("a part of its name, or its id")
                       : c.n > 0         ? _("its number or name")
                       : money           ? amount_hint
                       : a->type == BB_T_DATE ? _("e.g. 2026-12-05")
                                              : NULL;
    char *enter = NULL;
    if (rc == 0 && def_shown != NULL && asprintf(&enter, _("Enter = %s"), def_shown) < 0)
        enter = NULL;
    const char *enter_text = enter != NULL ? enter : required ? NULL : _("Enter to skip");
    if (rc == 0 && label == NULL)
        rc = cli_oom();
    if (rc == 0 && c.n > 0)
        print_choices(&c);
    bool done = rc != 0;
    while (!done) {
        char *ans = NULL;
        rc = read_answer(make_prompt(label, hint, enter_text), &ans);
        if (rc != 0)
            break;
        char *owned = NULL;   /* what is stored, when not ans itself */
        const char *value = ans;
        if (ans[0] == '\0' || (def_shown != NULL && strcmp(ans, def_shown) == 0)) {
            if (def_sent != NULL)
                rc = cli_mech_own(t, a->name, strdup(def_sent)) == 0 ? 0 : cli_oom();
            else if (def_shown == NULL && required)
                fprintf(stderr, "%s\n", _("This one is required."));
            done = !(def_shown == NULL && required);
            free(ans);
            continue;
        }
        if (c.n > 0) {
            value = pick(&c, ans);
        } else if (kind != NULL) {
            rc = cli_resolve_one(ctx, kind, ans, &owned);
            value = owned;
            if (rc == CLI_RESOLVE_CANCELLED)
                rc = CLI_EXIT_USAGE;   /* Ctrl-D at the pick: the command ends, said */
            else if (rc == CLI_EXIT_USAGE)
                rc = 0;   /* not found, or too many: asked again */
        } else if (money) {
            int64_t yuan;
            if (money_parse(ans, &yuan) == 0 && asprintf(&owned, "%lld", (long long)yuan) >= 0)
                value = owned;
            else
                fprintf(stderr, _("\"%s\" is not an amount of yuan (e.g. %s, %s or %s).\n"),
                        ans, "8560000", "856万", "1.2亿");
            if (owned == NULL)
                value = NULL;
        }
        if (rc == 0 && value != NULL && value_ok(ms, a, value)) {
            rc = cli_mech_own(t, a->name, strdup(value)) == 0 ? 0 : cli_oom();
            done = true;
        }
        done = done || rc != 0;
        free(owned);
        free(ans);
    }
    free(enter);
    free(amount_hint);
    free(label);
    free(my_name);
    choices_free(&c);
    return rc;
}

/* The arguments a command takes as options: all, or those it lists
 * (user disable has no --role); its positional words are always given. */
static bool offered(const cli_mech *m, const bb_arg *a)
{
    if (m->only == NULL)
        return true;
    for (const char *const *o = m->only; *o != NULL; o++)
        if (strcmp(*o, a->name) == 0)
            return true;
    return false;
}

/* The implied arguments of the protocol, never asked nor shown. */
static bool implied(const bb_arg *a)
{
    return strcmp(a->name, "idempotency_key") == 0 || strcmp(a->name, "after") == 0 ||
           strcmp(a->name, "limit") == 0;
}

/* Whether the user gave argument a on the command line: not one the
 * protocol implies, nor a preset of the command, nor a positional word
 * (every run of the command has those). */
static bool typed_option(const cli_mech *m, const bb_arg *a, const cli_mech_args *t)
{
    if (implied(a) || cli_mech_get(t, a->name) == NULL ||
        (m->pos != NULL && strcmp(m->pos, a->name) == 0) ||
        (m->pos2 != NULL && strcmp(m->pos2, a->name) == 0))
        return false;
    for (const cli_flag *f = m->flags; f != NULL && f->arg != NULL; f++)
        if (f->opt == NULL && strcmp(f->arg, a->name) == 0)
            return false;
    return true;
}

/* Whether argument a is asked. A required one that is missing always;
 * a date that defaults to today and the optional ones of extras[] only
 * when no option was given at all: `baobao status submit` alone is a
 * conversation, `baobao status submit --enterprise 赵李桥` asks only what
 * it lacks. */
static bool to_ask(const cli_mech *m, const bb_method_spec *ms, const bb_arg *a,
                   const cli_mech_args *t, bool bare)
{
    if (implied(a) || cli_mech_get(t, a->name) != NULL || (a->flags & BB_A_SECRET) ||
        a->type == BB_T_STRS || a->type == BB_T_ANY || !offered(m, a) ||
        (m->version_from != NULL && strcmp(a->name, "version") == 0))
        return false;
    return (a->flags & BB_A_REQ) != 0 ||
           (bare && ((a->flags & BB_A_TODAY) != 0 || extra_of(ms, a) != NULL));
}

int cli_guided_collect(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                       cli_mech_args *t)
{
    G.asked = false;
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(ms, all), nask = 0;
    bool bare = true;
    for (unsigned i = 0; i < n; i++)
        bare = bare && !typed_option(m, all[i], t);
    for (unsigned i = 0; i < n; i++)
        nask += to_ask(m, ms, all[i], t, bare);
    if (nask == 0)
        return 0;
    /* Logged in first: a password prompt comes before the questions. */
    bb_error err;
    if (cli_connect(ctx, &err) != BB_C_OK)
        return cli_fail_in(ctx, ms->name, &err);
    int rc = load_me(ctx);
    if (rc == 0)
        rc = session_open();
    if (rc != 0) {
        forget_me();
        return rc;
    }
    fprintf(stderr, "%s\n", _("Please fill in the missing values (Ctrl-C cancels)."));
    for (unsigned i = 0; rc == 0 && i < n; i++)
        if (to_ask(m, ms, all[i], t, bare))
            rc = ask_arg(ctx, m, ms, all[i], t);
    session_close();
    forget_me();
    G.asked = rc == 0;
    return rc;
}

/* ---- the summary ---- */

/* The name of record kind's id (its get method's name or display_name),
 * or NULL when it cannot be read. Owned. */
static char *record_name(cli_ctx *ctx, const char *kind, const char *id)
{
    char method[64];
    snprintf(method, sizeof method, "%s.get", kind);
    if (bb_spec_find(method, strlen(method)) == NULL)
        return NULL;
    bbi_kvs k = {.n = 0};
    bb_error err;
    bb_reply *r = NULL;
    char *name = NULL;
    if (bbi_kv_text(&k, method, "id", id, &err) == BB_C_OK &&
        call_read(ctx, method, &k, true, &r) == 0) {
        name = map_str(bb_reply_result(r), "name");
        if (name == NULL)
            name = map_str(bb_reply_result(r), "display_name");
    }
    bb_reply_free(r);
    bbi_kvs_free(&k);
    return name;
}

/* How the summary shows text of argument a. Owned; NULL on no memory. */
static char *shown_value(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                         const bb_arg *a, const char *text)
{
    char *out = NULL;
    const char *kind = cli_resolve_kind(ms, a->name);
    if (text[0] == '\0' && (a->flags & (BB_A_NIL | BB_A_NILABSENT)))
        return strdup(_("(cleared)"));
    if (a->type == BB_T_BOOL) {
        bool yes = strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 ||
                   strcmp(text, "1") == 0;
        return strdup(yes ? _("yes") : _("no"));
    }
    if (kind != NULL && text[0] != '\0' && strspn(text, "0123456789") == strlen(text)) {
        char *name = record_name(ctx, kind, text);
        if (name != NULL && asprintf(&out, _("%s (%s)"), text, name) < 0)
            out = NULL;
        free(name);
        return out != NULL ? out : strdup(text);
    }
    char *end = NULL;
    long long v = is_money(m, a->name) ? strtoll(text, &end, 10) : 0;
    if (end != NULL && end != text && *end == '\0') {
        char yuan[MONEY_BUF], wan[MONEY_BUF];
        money_yuan(v, yuan, sizeof yuan);
        money_wan(v, wan, sizeof wan);
        /* As records show money (cli_spec.c), in either language. */
        if (asprintf(&out, "%s 元 (%s 万元)", yuan, wan) < 0)
            out = NULL;
        return out;
    }
    return strdup(text);
}

/* Asks "Send it? [Y/n]" until yes or no. 0 (yes), or CLI_EXIT_USAGE
 * (no, Ctrl-D; said). */
static int ask_yes(void)
{
    static const char *const yes[] = {"y", "yes", "Y", "YES", "Yes", "是", "好", "确认", "对"};
    static const char *const no[] = {"n", "no", "N", "NO", "No", "否", "不", "取消"};
    for (;;) {
        char *ans = NULL;
        int rc = read_answer(strdup(_("Send it? [Y/n] ")), &ans);
        if (rc != 0)
            return rc;
        bool y = ans[0] == '\0', n = false;
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
            y = y || strcmp(ans, yes[i]) == 0;
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
            n = n || strcmp(ans, no[i]) == 0;
        free(ans);
        if (y)
            return 0;
        if (n) {
            fprintf(stderr, "%s\n", _("Cancelled: nothing was sent."));
            return CLI_EXIT_USAGE;
        }
        fprintf(stderr, "%s\n", _("Please answer y or n."));
    }
}

int cli_guided_confirm(cli_ctx *ctx, const cli_mech *m, const bb_method_spec *ms,
                       const cli_mech_args *t)
{
    if (!G.asked)
        return 0;
    G.asked = false;
    int rc = session_open();   /* Ctrl-C from here on: nothing sent */
    if (rc != 0)
        return rc;
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(ms, all), k = 0;
    char *labels[BB_SPEC_MAX_ARGS], *values[BB_SPEC_MAX_ARGS];
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        const bb_arg *a = all[i];
        const char *text = cli_mech_get(t, a->name);
        if (implied(a) || (a->flags & BB_A_SECRET) ||
            (m->version_from != NULL && strcmp(a->name, "version") == 0) ||
            (text == NULL && !(a->flags & BB_A_TODAY)))
            continue;
        labels[k] = cli_arg_label(a, cli_resolve_kind(ms, a->name) != NULL);
        values[k] = text != NULL ? shown_value(ctx, m, ms, a, text) : strdup(_("today"));
        if (labels[k] == NULL || values[k] == NULL)
            rc = cli_oom();
        k++;
    }
    char *block = rc == 0 ? fields_render((const char *const *)labels,
                                          (const char *const *)values, k)
                          : NULL;
    if (rc == 0 && block == NULL)
        rc = cli_oom();
    if (rc == 0)
        fprintf(stderr, "\n%s\n%s", _("About to send:"), block);
    free(block);
    for (unsigned i = 0; i < k; i++) {
        free(labels[i]);
        free(values[i]);
    }
    if (rc == 0)
        rc = ask_yes();
    session_close();
    return rc;
}
