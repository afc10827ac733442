/*
 * cli_user.c: `baobao login`, `logout`, `whoami`, `passwd` and `baobao
 * user create|get|list|update|disable|enable|set-password` (issues 4, 11).
 *
 * For: which method each command calls, the option names users know
 * (--name for display_name, --township for townships), and what the spec
 * cannot say: `login` keeps the session on this computer (session.login
 * with keep; the token stored by cli_session.c) when the password had to
 * be asked, `logout` ends that session on the server and forgets it here,
 * `passwd` asks the current password when the session was kept and keeps
 * it again with the new one; new passwords are asked (twice, without
 * echo) or taken from $BAOBAO_NEW_PASSWORD; disable/enable are user.update
 * of `disabled` alone with the current version (nothing sent when it
 * holds already). Options, help and paging come from the method spec
 * (cli_spec.c).
 * Not for: where the caller's own login and password come from
 * (cli_auth.c), the saved sessions file (cli_session.c), logging in for
 * the other commands (cli_call.c), or rules the server checks (roles,
 * townships, password lengths, who may do what: exit 1).
 */
#include "cli.h"
#include "cli_session.h"
#include "i18n.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
/* The keys of a User the server sends; a login with keep adds two. */
#define USER_KEYS_MAX 32u

static const char login_help[] = N_(
    "Usage: baobao login [LOGIN] [--user LOGIN]\n"
    "\n"
    "Logs in (session.login), prints who you are, and keeps the session on this\n"
    "computer: later commands do not ask for the password until it expires (the\n"
    "server's session_token_ttl_s, 7 days unless set), until 'baobao logout', or\n"
    "until your password, role or townships change. It is kept in\n"
    "$XDG_STATE_HOME/baobao/session (else ~/.local/state/baobao/session), which\n"
    "only you may read: a file others can read is refused.\n"
    "\n"
    "The login comes from LOGIN, --user, $BAOBAO_USER or `user` in the config file,\n"
    "else it is asked on the terminal. The password is asked on the terminal\n"
    "(without echo), unless $BAOBAO_PASSWORD or `password` in the config file gives\n"
    "it: then every command logs in with that password, nothing is kept, and login\n"
    "only checks it. See 'baobao --help'.\n");

static const char logout_help[] = N_(
    "Usage: baobao logout [--user LOGIN]\n"
    "\n"
    "Ends the session 'baobao login' kept on this computer for the server: on the\n"
    "server (session.logout) and in the saved sessions file. Without --user (or\n"
    "$BAOBAO_USER, `user` in the config file): the one you logged in with last.\n"
    "It works also when the server has ended the session already. Changing your\n"
    "password ('baobao passwd') ends the sessions kept on every computer.\n");

static const char user_intro[] = N_(
    "User accounts (admins only; others get `forbidden`, exit 1). New passwords\n"
    "are asked twice on the terminal without echo, or taken from\n"
    "$BAOBAO_NEW_PASSWORD (8-1024 bytes).\n");

/* The new password of a user (create: its login; set-password: its id),
 * after the caller has logged in (a kept session, or the caller's own
 * password asked first): the prompts come in the order a person
 * expects, and none for a password that is not needed. */
static int new_password(cli_ctx *ctx, cli_mech_args *t)
{
    char what[96];
    const char *login = cli_mech_get(t, "login");
    if (login != NULL)
        snprintf(what, sizeof what, "%s", login);
    else
        snprintf(what, sizeof what, _("user %s"), cli_mech_get(t, "id"));
    bb_error err;
    char *pw = NULL;
    if (cli_connect(ctx, &err) != BB_C_OK || cli_new_password(what, &pw, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    return cli_mech_own(t, "password", pw) == 0 ? 0 : CLI_EXIT_PROTOCOL;
}

/* passwd: the new password, kept (a copy, wiped) so that a kept session
 * can be kept again with it once the change is done. */
static char *g_passwd_new;

/* passwd: log in first (a wrong current password fails before a new one
 * is asked for). The current password is the one logged in with, or,
 * logged in with a kept session, asked for. */
static int change_password(cli_ctx *ctx, cli_mech_args *t)
{
    bb_error err;
    char *pw = NULL;
    if (cli_connect(ctx, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    if (ctx->password == NULL) {
        char prompt[256];
        snprintf(prompt, sizeof prompt, _("Current password for %s: "), ctx->login);
        if (cli_prompt_password(prompt, ctx->login, "BAOBAO_PASSWORD", &ctx->password, &err) !=
            BB_C_OK)
            return cli_fail_in(ctx, "session.login", &err);
    }
    if (cli_new_password(ctx->login, &pw, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.change_password", &err);
    cli_password_free(g_passwd_new);
    if ((g_passwd_new = strdup(pw)) == NULL) {
        cli_password_free(pw);
        return cli_oom();
    }
    cli_mech_set(t, "old_password", ctx->password);
    return cli_mech_own(t, "new_password", pw) == 0 ? 0 : CLI_EXIT_PROTOCOL;
}

static const cli_col user_table[] = {
    {N_("ID"), "id"},     {N_("LOGIN"), "login"},       {N_("DISPLAY_NAME"), "display_name"},
    {N_("ROLE"), "role"}, {N_("UNIT"), "unit"},         {N_("TOWNSHIPS"), "townships"},
    {N_("DISABLED"), "disabled"}, {N_("VERSION"), "version"},
};
static const cli_alias user_alias[] = {
    {"name", "display_name"}, {"township", "townships"}, {NULL, NULL},
};
static const cli_flag disable_flags[] = {{NULL, "disabled", "true"}, {NULL, NULL, NULL}};
static const cli_flag enable_flags[] = {{NULL, "disabled", "false"}, {NULL, NULL, NULL}};
/* disable / enable change `disabled` only: no --role, --townships, ... */
static const char *const switch_only[] = {"idempotency_key", NULL};

const cli_mech cli_user_cmds[] = {
    {.cmd = "user create", .method = "user.create", .aliases = user_alias, .fill = new_password,
     .about = N_("The password is asked, or taken from $BAOBAO_NEW_PASSWORD.\n")},
    {.cmd = "user get", .method = "user.get", .pos = "id"},
    {.cmd = "user list", .method = "user.list", .cols = user_table, .ncols = NCOLS(user_table)},
    {.cmd = "user update", .method = "user.update", .pos = "id", .aliases = user_alias,
     .about = N_("--version is the version your change is based on (version_conflict, exit 1,\n"
                 "when someone changed the user since).\n")},
    {.cmd = "user disable", .method = "user.update", .pos = "id", .flags = disable_flags,
     .version_from = "user.get", .only = switch_only, .same = N_("is already disabled"),
     .about = N_("Disables the user: they can no longer log in (login_failed), and the\n"
                 "sessions kept for them end. The user is read first: one already disabled\n"
                 "is left as it is (nothing sent).\n")},
    {.cmd = "user enable", .method = "user.update", .pos = "id", .flags = enable_flags,
     .version_from = "user.get", .only = switch_only, .same = N_("is already enabled"),
     .about = N_("Enables a disabled user again (one not disabled: nothing sent).\n")},
    /* No idempotency key, but retried after an unknown outcome all the
     * same: setting the same password twice is harmless. */
    {.cmd = "user set-password", .method = "user.set_password", .pos = "id",
     .fill = new_password, .retry = true,
     .about = N_("An admin's reset; also lifts a lock after too many failed logins, and ends\n"
                 "the sessions kept for the user.\n")},
    {.cmd = NULL},
};

int cli_user(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "user", user_intro, cli_user_cmds, argc, argv);
}

int cli_whoami(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_mech m = {.cmd = "whoami", .method = "session.whoami"};
    return cli_mech_run(ctx, &m, argc, argv);
}

/* ---- keeping a session ---- */

/* "7 days", "5 hours", ... for seconds left: how long a kept session
 * lasts, without a clock time (which would have to be in the server's
 * zone). */
static void describe_left(long long s, char *out, size_t cap)
{
    if (s >= 2 * 86400)
        snprintf(out, cap, _("%lld days"), (s + 43200) / 86400);
    else if (s >= 2 * 3600)
        snprintf(out, cap, _("%lld hours"), (s + 1800) / 3600);
    else if (s >= 120)
        snprintf(out, cap, _("%lld minutes"), (s + 30) / 60);
    else
        snprintf(out, cap, _("%lld seconds"), s);
}

/* session.login of ctx->login with password on ctx->client, keeping the
 * session when keep; the reply to ctx->login_reply. */
static int login_call(cli_ctx *ctx, const char *password, bool keep, bb_error *err)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "login", ctx->login);
    bbi_kv_str(&k, "password", password);
    if (keep)
        bbi_kv_bool(&k, "keep", true);
    bb_reply *r = NULL;
    int rc = bbi_call_kvs(ctx->client, "session.login", &k, &r, err);
    if (rc == BB_C_OK)
        rc = bbi_want_map(bb_reply_result(r), "session.login result", err);
    if (rc != BB_C_OK) {
        bb_reply_free(r);
        return rc;
    }
    bb_reply_free(ctx->login_reply);
    ctx->login_reply = r;
    return BB_C_OK;
}

/* session.logout, ending token too (NULL: the connection's session only).
 * The connection is logged out after it. */
static int logout_call(cli_ctx *ctx, const char *token, bb_error *err)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "token", token);
    bb_reply *r = NULL;
    int rc = bbi_call_kvs(ctx->client, "session.logout", &k, &r, err);
    bb_reply_free(r);
    return rc;
}

/* Stores the token of the last login (its reply) for server; the token
 * it replaces is ended on the server, best effort (it would expire
 * anyway). *left: the seconds the session lasts. */
static int keep_session(cli_ctx *ctx, const char *server, long long *left, bb_error *err)
{
    const msgpack_object *user = bb_reply_result(ctx->login_reply);
    char *token = NULL, *expires = NULL, *old = NULL;
    int rc = bbi_get_str(user, "session.login result", "token", &token, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(user, "session.login result", "token_expires_at", &expires, err);
    if (rc == BB_C_OK)
        rc = cli_saved_put(cli_saved_key(server), ctx->login, token, expires, &old, err);
    if (rc == BB_C_OK) {
        *left = cli_saved_seconds_left(expires);
        bb_error ignored;
        if (old != NULL && strcmp(old, token) != 0)
            (void)logout_call(ctx, old, &ignored);
    } else if (token != NULL) {
        /* Not stored: no one would ever use it; end it now. */
        bb_error ignored;
        (void)logout_call(ctx, token, &ignored);
    }
    cli_password_free(old);
    cli_password_free(token);
    free(expires);
    return rc;
}

/* Prints the User of a login, without the token keys. */
static int print_login_user(cli_ctx *ctx)
{
    const msgpack_object *user = bb_reply_result(ctx->login_reply);
    msgpack_object_kv kv[USER_KEYS_MAX];
    msgpack_object shown = *user;
    uint32_t n = 0;
    for (uint32_t i = 0; i < user->via.map.size && n < USER_KEYS_MAX; i++) {
        const msgpack_object *key = &user->via.map.ptr[i].key;
        bool secret = key->type == MSGPACK_OBJECT_STR &&
                      ((key->via.str.size == 5 && memcmp(key->via.str.ptr, "token", 5) == 0) ||
                       (key->via.str.size == 16 &&
                        memcmp(key->via.str.ptr, "token_expires_at", 16) == 0));
        if (!secret)
            kv[n++] = user->via.map.ptr[i];
    }
    shown.via.map.ptr = kv;
    shown.via.map.size = n;
    if (ctx->json)
        return cli_print_json(&shown);
    return cli_print_fields(&shown, NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

int cli_login(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, "login", _(login_help));
    if (rc != 0)
        return rc;
    if (npos == 1)
        ctx->user = pos[0];
    bb_error err;
    const char *server;
    bb_connect_opts opts;
    if (cli_settings(ctx, &server, &opts, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    /* The login first (asked when nothing names it), then whether the
     * password will be asked: only then is the session kept, and the file
     * it goes to must be usable before anyone types a password. */
    const char *named = cli_named_login(ctx);
    if (named != NULL)
        ctx->login = strdup(named);
    else if (cli_prompt_login(ctx, &ctx->login, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    if (ctx->login == NULL)
        return cli_oom();
    bool keep = !cli_password_given(ctx, ctx->login);
    if ((keep && cli_saved_check(&err) != BB_C_OK) || cli_credentials(ctx, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    ctx->client = bb_connect_with(server, &opts, &err);
    if (ctx->client == NULL)
        return cli_fail_in(ctx, "session.login", &err);
    bb_set_timeout(ctx->client, ctx->timeout_ms);
    if (login_call(ctx, ctx->password, keep, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    long long left = -1;
    if (keep && keep_session(ctx, server, &left, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    if (!keep || left < 0) {
        /* (A kept session whose expiry does not parse: said without how
         * long; the server decides.) */
        fprintf(stderr, _("baobao: logged in as %s\n"), ctx->login);
    } else {
        char how_long[64];
        describe_left(left, how_long, sizeof how_long);
        fprintf(stderr,
                _("baobao: logged in as %s; this computer stays logged in for %s, until "
                  "'baobao logout'\n"),
                ctx->login, how_long);
    }
    return print_login_user(ctx);
}

int cli_logout(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "logout", _(logout_help));
    if (rc != 0)
        return rc;
    bb_error err;
    const char *server;
    bb_connect_opts opts;
    if (cli_settings(ctx, &server, &opts, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.logout", &err);
    const char *key = cli_saved_key(server);
    cli_saved s;
    rc = cli_saved_find(key, cli_named_login(ctx), &s, &err);
    if (rc == CLI_SAVED_NONE) {
        fprintf(stderr, _("baobao: no session is kept on this computer for %s: nothing to end\n"),
                key);
        return CLI_EXIT_OK;
    }
    if (rc != BB_C_OK)
        return cli_fail_in(ctx, "session.logout", &err);
    /* Forgotten here whatever the server says: a person who logs out
     * wants this computer not to act as them any more. */
    bb_error ferr;
    if (cli_saved_remove(key, s.login, &ferr) != BB_C_OK) {
        cli_saved_free(&s);
        return cli_fail_in(ctx, "session.logout", &ferr);
    }
    /* On the server: logged in with the token (an ended one is refused,
     * and then there is nothing left to end), then logout ends it. */
    ctx->client = bb_connect_with(server, &opts, &err);
    if (ctx->client != NULL) {
        bb_set_timeout(ctx->client, ctx->timeout_ms);
        bbi_kvs k = {.n = 0};
        bbi_kv_str(&k, "token", s.token);
        bb_reply *r = NULL;
        rc = bbi_call_kvs(ctx->client, "session.resume", &k, &r, &err);
        bb_reply_free(r);
        if (rc == BB_C_OK)
            rc = logout_call(ctx, s.token, &err);
    } else {
        rc = err.rc;
    }
    if (rc == BB_C_OK)
        fprintf(stderr, _("baobao: logged out: the session of %s on %s has ended\n"), s.login,
                key);
    else if (rc == BB_C_ESERVER && strcmp(err.code, "unauthenticated") == 0)
        fprintf(stderr,
                _("baobao: the session of %s on %s had ended already; this computer has "
                  "forgotten it too\n"),
                s.login, key);
    else {
        fprintf(stderr,
                _("baobao: this computer has forgotten the session of %s on %s, but the server "
                  "could not be told: it stays valid there until it expires\n"),
                s.login, key);
        cli_saved_free(&s);
        return cli_fail_in(ctx, "session.logout", &err);
    }
    cli_saved_free(&s);
    return CLI_EXIT_OK;
}

/* After passwd: the change ended every kept session of the user (the
 * server's rule); the one this computer kept is kept again, logged in
 * with the new password. Nothing kept: nothing to do. */
static int keep_again(cli_ctx *ctx)
{
    bb_error err;
    const char *server;
    bb_connect_opts opts;
    if (cli_settings(ctx, &server, &opts, &err) != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    cli_saved s;
    int rc = cli_saved_find(cli_saved_key(server), ctx->login, &s, &err);
    if (rc == CLI_SAVED_NONE)
        return CLI_EXIT_OK;
    if (rc != BB_C_OK)
        return cli_fail_in(ctx, "session.login", &err);
    cli_saved_free(&s);
    if (ctx->client == NULL) {
        ctx->client = bb_connect_with(server, &opts, &err);
        if (ctx->client == NULL)
            return cli_fail_in(ctx, "session.login", &err);
        bb_set_timeout(ctx->client, ctx->timeout_ms);
    }
    long long left = -1;
    if (login_call(ctx, g_passwd_new, true, &err) != BB_C_OK ||
        keep_session(ctx, server, &left, &err) != BB_C_OK) {
        fprintf(stderr, _("baobao: the password was changed, but this computer could not stay "
                          "logged in: run 'baobao login'\n"));
        return cli_fail_in(ctx, "session.login", &err);
    }
    fprintf(stderr, _("baobao: the password change ended the sessions kept on every computer; "
                      "this one stays logged in with the new password\n"));
    return CLI_EXIT_OK;
}

int cli_passwd(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_mech m = {
        .cmd = "passwd", .method = "session.change_password", .fill = change_password,
        .about = N_("The current password is the one you log in with (asked for when you are\n"
                    "logged in with a session kept by 'baobao login'); the new one is asked\n"
                    "twice, or taken from $BAOBAO_NEW_PASSWORD. The change ends the sessions\n"
                    "kept on every computer; this one is kept again with the new password.\n"
                    "Update `password` in your config file afterwards if you keep it there.\n")};
    int rc = cli_mech_run(ctx, &m, argc, argv);
    if (rc == CLI_EXIT_OK && g_passwd_new != NULL)
        rc = keep_again(ctx);
    cli_password_free(g_passwd_new);
    g_passwd_new = NULL;
    return rc;
}
