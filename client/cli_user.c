/*
 * cli_user.c: `baobao login`, `whoami`, `passwd` and `baobao user
 * create|get|list|update|disable|enable|set-password` (issue 4).
 *
 * For: which method each command calls, the option names users know
 * (--name for display_name, --township for townships), and what the spec
 * cannot say: new passwords are asked (twice, without echo) or taken from
 * $BAOBAO_NEW_PASSWORD, disable/enable are user.update of `disabled`
 * alone with the current version (nothing sent when it holds already).
 * Options, help and paging come from the method spec (cli_spec.c).
 * Not for: where the caller's own login and password come from
 * (cli_auth.c), logging in (cli_call.c), or rules the server checks
 * (roles, townships, password lengths, who may do what: exit 1).
 */
#include "cli.h"

#include <stdio.h>

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char login_help[] =
    "Usage: baobao login [--user LOGIN]\n"
    "\n"
    "Logs in (session.login) and prints who you are: a check of your credentials.\n"
    "Every other command logs in the same way before it runs; there is no\n"
    "session kept between commands.\n"
    "\n"
    "The login comes from --user, else $BAOBAO_USER, else `user` in the config\n"
    "file; the password from $BAOBAO_PASSWORD, else `password` in the config file,\n"
    "else a prompt on the terminal (without echo). See 'baobao --help'.\n";

static const char user_intro[] =
    "User accounts (admins only; others get `forbidden`, exit 1). New passwords\n"
    "are asked twice on the terminal without echo, or taken from\n"
    "$BAOBAO_NEW_PASSWORD (8-1024 bytes).\n";

/* The new password of a user (create: its login; set-password: its id),
 * after the caller's own when that is to be asked: the prompts come in
 * the order a person expects. */
static int new_password(cli_ctx *ctx, cli_mech_args *t)
{
    char what[96];
    const char *login = cli_mech_get(t, "login");
    if (login != NULL)
        snprintf(what, sizeof what, "%s", login);
    else
        snprintf(what, sizeof what, "user %s", cli_mech_get(t, "id"));
    bb_error err;
    char *pw = NULL;
    if (cli_credentials(ctx, &err) != BB_C_OK || cli_new_password(what, &pw, &err) != BB_C_OK)
        return cli_fail(&err);
    return cli_mech_own(t, "password", pw) == 0 ? 0 : CLI_EXIT_PROTOCOL;
}

/* passwd: log in first (a wrong current password fails before a new one
 * is asked for); the current password is the one logged in with. */
static int change_password(cli_ctx *ctx, cli_mech_args *t)
{
    bb_error err;
    char *pw = NULL;
    if (cli_connect(ctx, &err) != BB_C_OK || cli_new_password(ctx->login, &pw, &err) != BB_C_OK)
        return cli_fail(&err);
    cli_mech_set(t, "old_password", ctx->password);
    return cli_mech_own(t, "new_password", pw) == 0 ? 0 : CLI_EXIT_PROTOCOL;
}

static const cli_col user_table[] = {
    {"ID", "id"},     {"LOGIN", "login"},         {"DISPLAY_NAME", "display_name"},
    {"ROLE", "role"}, {"UNIT", "unit"},           {"TOWNSHIPS", "townships"},
    {"DISABLED", "disabled"}, {"VERSION", "version"},
};
static const cli_alias user_alias[] = {
    {"name", "display_name"}, {"township", "townships"}, {NULL, NULL},
};
static const cli_flag disable_flags[] = {{NULL, "disabled", "true"}, {NULL, NULL, NULL}};
static const cli_flag enable_flags[] = {{NULL, "disabled", "false"}, {NULL, NULL, NULL}};
/* disable / enable change `disabled` only: no --role, --townships, ... */
static const char *const switch_only[] = {"idempotency_key", NULL};

static const cli_mech user_cmds[] = {
    {.cmd = "user create", .method = "user.create", .aliases = user_alias, .fill = new_password,
     .about = "The password is asked, or taken from $BAOBAO_NEW_PASSWORD.\n"},
    {.cmd = "user get", .method = "user.get", .pos = "id"},
    {.cmd = "user list", .method = "user.list", .cols = user_table, .ncols = NCOLS(user_table)},
    {.cmd = "user update", .method = "user.update", .pos = "id", .aliases = user_alias,
     .about = "--version is the version your change is based on (version_conflict, exit 1,\n"
              "when someone changed the user since).\n"},
    {.cmd = "user disable", .method = "user.update", .pos = "id", .flags = disable_flags,
     .version_from = "user.get", .only = switch_only, .same = "is already disabled",
     .about = "Disables the user: they can no longer log in (login_failed). The user is\n"
              "read first: one already disabled is left as it is (nothing sent).\n"},
    {.cmd = "user enable", .method = "user.update", .pos = "id", .flags = enable_flags,
     .version_from = "user.get", .only = switch_only, .same = "is already enabled",
     .about = "Enables a disabled user again (one not disabled: nothing sent).\n"},
    /* No idempotency key, but retried after an unknown outcome all the
     * same: setting the same password twice is harmless. */
    {.cmd = "user set-password", .method = "user.set_password", .pos = "id",
     .fill = new_password, .retry = true,
     .about = "An admin's reset; also lifts a lock after too many failed logins.\n"},
    {.cmd = NULL},
};

int cli_user(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "user", user_intro, user_cmds, argc, argv);
}

int cli_whoami(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_mech m = {.cmd = "whoami", .method = "session.whoami"};
    return cli_mech_run(ctx, &m, argc, argv);
}

int cli_passwd(cli_ctx *ctx, int argc, char **argv)
{
    static const cli_mech m = {
        .cmd = "passwd", .method = "session.change_password", .fill = change_password,
        .about = "The current password is the one you log in with; the new one is asked\n"
                 "twice, or taken from $BAOBAO_NEW_PASSWORD. Update `password` in your\n"
                 "config file afterwards if you keep it there.\n"};
    return cli_mech_run(ctx, &m, argc, argv);
}

int cli_login(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "login", login_help);
    if (rc != 0)
        return rc;
    bb_error err;
    if (cli_connect(ctx, &err) != BB_C_OK)
        return cli_fail(&err);
    const msgpack_object *user = bb_reply_result(ctx->login_reply);
    if (ctx->json)
        return cli_print_json(user);
    fprintf(stderr, "baobao: logged in as %s\n", ctx->login);
    return cli_print_fields(user, NULL) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}
