/*
 * cli_user.c: `baobao login`, `whoami`, `passwd` and `baobao user
 * create|get|list|update|disable|enable|set-password` (issue 4).
 *
 * For: turning options into session.* and user.* arguments, asking for new
 * passwords (twice, without echo) or taking $BAOBAO_NEW_PASSWORD, paging
 * user.list for --all, and printing users. Not for: where the caller's own
 * login and password come from (cli_auth.c), logging in (cli_call.c), or
 * rules the server checks (roles, townships, who may do what: exit 1).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static const char whoami_help[] =
    "Usage: baobao whoami\n"
    "\n"
    "Logs in and prints the user the server says you are (session.whoami): login,\n"
    "display name, role, unit, townships.\n";

static const char passwd_help[] =
    "Usage: baobao passwd\n"
    "\n"
    "Changes your own password (session.change_password). The current password\n"
    "is the one you log in with ($BAOBAO_PASSWORD, the config file, or a prompt);\n"
    "the new one is asked twice on the terminal without echo, or taken from\n"
    "$BAOBAO_NEW_PASSWORD (for scripts). New passwords are 8-1024 bytes.\n"
    "Update `password` in your config file afterwards if you keep it there.\n";

static const char user_help[] =
    "Usage: baobao user COMMAND ...\n"
    "\n"
    "User accounts (admins only; others get `forbidden`, exit 1).\n"
    "\n"
    "Commands:\n"
    "  create         add a user (user.create)\n"
    "  get ID         one user (user.get)\n"
    "  list           users, filtered, in pages (user.list)\n"
    "  update ID      change a user (user.update)\n"
    "  disable ID     stop a user from logging in (user.update disabled=true)\n"
    "  enable ID      let a disabled user log in again\n"
    "  set-password ID  set a user's password (user.set_password; also lifts a lock)\n"
    "Run 'baobao user COMMAND --help' for a command's options.\n";

static const char create_help[] =
    "Usage: baobao user create --login LOGIN --name NAME --role ROLE [--unit UNIT]\n"
    "                          [--township TOWNSHIP]... [--idempotency-key KEY]\n"
    "\n"
    "Adds a user and prints it. The new user's password is asked twice on the\n"
    "terminal without echo, or taken from $BAOBAO_NEW_PASSWORD (8-1024 bytes).\n"
    "\n"
    "  --login LOGIN        1-64 bytes, no spaces, e.g. zhaoliqiao\n"
    "  --name NAME          display name, 1-50 characters, e.g. 赵李桥镇包保专班\n"
    "  --role ROLE          township_staff | supervisor | admin\n"
    "  --unit UNIT          the unit of a supervisor, e.g. 科信局\n"
    "  --township T         a township or park of township staff (repeat for more;\n"
    "                       required for township_staff, not allowed for others)\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char get_help[] =
    "Usage: baobao user get ID\n"
    "\n"
    "Prints one user as \"field: value\" lines (or JSON with --json).\n";

static const char list_help[] =
    "Usage: baobao user list [--role ROLE] [--township T] [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints users in ascending id as a table with a header row. One page unless\n"
    "--all; when more pages follow, the --after value is printed to stderr.\n"
    "\n"
    "  --role ROLE      only users of this role\n"
    "  --township T     only township staff of this township or park\n"
    "  --limit N        rows per page (1 - the server's page_limit_max)\n"
    "  --after ID       start after this id (the `next` of the previous page)\n"
    "  --all            fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

static const char update_help[] =
    "Usage: baobao user update ID --version V [--name NAME] [--role ROLE]\n"
    "                          [--unit UNIT | --no-unit]\n"
    "                          [--township T... | --no-townships]\n"
    "                          [--idempotency-key KEY]\n"
    "\n"
    "Changes the given fields of user ID and prints it with its new version.\n"
    "--version is the version your change is based on (version_conflict, exit 1,\n"
    "when someone changed the user since). To disable or enable a user use\n"
    "'baobao user disable|enable ID'; for a password 'baobao user set-password ID'.\n"
    "\n"
    "  --version V          required\n"
    "  --name NAME          new display name\n"
    "  --role ROLE          township_staff | supervisor | admin\n"
    "  --unit UNIT          set the unit; --no-unit clears it\n"
    "  --township T         replace the townships with these (repeat for more);\n"
    "                       --no-townships removes them all\n"
    "  --idempotency-key KEY  key of this write (default: a random UUID)\n";

static const char disable_help[] =
    "Usage: baobao user disable ID\n"
    "\n"
    "Disables user ID: they can no longer log in (login_failed, as for a wrong\n"
    "password). Reads the user's version, then updates it; prints the user.\n";

static const char enable_help[] =
    "Usage: baobao user enable ID\n"
    "\n"
    "Enables a disabled user ID again. Reads the user's version, then updates\n"
    "it; prints the user.\n";

static const char setpw_help[] =
    "Usage: baobao user set-password ID\n"
    "\n"
    "Sets the password of user ID (an admin's reset; also lifts a lock after too\n"
    "many failed logins). The new password is asked twice on the terminal without\n"
    "echo, or taken from $BAOBAO_NEW_PASSWORD (8-1024 bytes).\n";

/* ---- shared ---- */

/* Prints a reply's user (decoded, or raw with --json); frees r. */
static int print_user_reply(cli_ctx *ctx, bb_reply *r)
{
    bb_error err;
    bb_user u;
    if (bbi_decode_user(bb_reply_result(r), &u, &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(bb_reply_result(r));
    else
        cli_print_user(&u);
    bb_user_free(&u);
    bb_reply_free(r);
    return rc;
}

/* Prints the `true` of a method that answers only that; frees r. */
static int print_true_reply(cli_ctx *ctx, bb_reply *r, const char *method, const char *text)
{
    bb_error err;
    if (bbi_decode_true(bb_reply_result(r), method, &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(bb_reply_result(r));
    else
        printf("%s\n", text);
    bb_reply_free(r);
    return rc;
}

/* The ID word of get, update, disable, enable and set-password. */
static int id_arg(const char *cmd, const char *const *pos, size_t npos, int64_t *id)
{
    if (npos != 1)
        return cli_usage_error(cmd, "expected one user ID");
    return cli_int_arg(cmd, "ID", pos[0], INT64_MIN, INT64_MAX, id);
}

static const char *key_or_new(cli_opt *o, char buf[37])
{
    if (o->value != NULL)
        return o->value;
    cli_new_key(buf);
    return buf;
}

/* ---- login, whoami, passwd ---- */

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
    bb_reply *r = ctx->login_reply;
    ctx->login_reply = NULL;
    if (!ctx->json)
        fprintf(stderr, "baobao: logged in as %s\n", ctx->login);
    return print_user_reply(ctx, r);
}

int cli_whoami(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "whoami", whoami_help);
    if (rc != 0)
        return rc;
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    msgpack_pack_map(&a.pk, 0);
    bb_reply *r = NULL;
    rc = cli_call(ctx, "session.whoami", &a, false, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    return print_user_reply(ctx, r);
}

int cli_passwd(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "passwd", passwd_help);
    if (rc != 0)
        return rc;
    bb_error err;
    /* Log in first: a wrong current password fails before a new one is
     * asked for. */
    if (cli_connect(ctx, &err) != BB_C_OK)
        return cli_fail(&err);
    char *new_pw = NULL;
    if (cli_new_password(ctx->login, &new_pw, &err) != BB_C_OK)
        return cli_fail(&err);
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    rc = bbi_pack_change_password(&a, ctx->password, new_pw, &err);
    cli_password_free(new_pw);
    /* Not retried: after an unknown outcome the old password may or may
     * not still work, and a retry with it would then fail confusingly. */
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "session.change_password", &a, false, &r, &err);
    bbi_args_wipe(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    return print_true_reply(ctx, r, "session.change_password", "password changed");
}

/* ---- user ... ---- */

static int user_create(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--login", .metavar = "LOGIN" },
        { .name = "--name", .metavar = "NAME" },
        { .name = "--role", .metavar = "ROLE" },
        { .name = "--unit", .metavar = "UNIT" },
        { .name = "--township", .metavar = "TOWNSHIP", .repeatable = true },
        { .name = "--idempotency-key", .metavar = "KEY" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "user create";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, create_help);
    const char *need[] = { "--login", "--name", "--role" };
    for (size_t i = 0; rc == 0 && i < 3; i++)
        if (cli_get(o, no, need[i])->count == 0)
            rc = cli_usage_error(cmd, "%s is required", need[i]);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    cli_opt *towns = cli_get(o, no, "--township");
    bb_user_fields f = {
        .login = cli_get(o, no, "--login")->value,
        .display_name = cli_get(o, no, "--name")->value,
        .role = cli_get(o, no, "--role")->value,
        .unit = cli_get(o, no, "--unit")->value,
        .townships = towns->values,
        .ntownships = towns->nvalues,
    };
    char keybuf[37];
    const char *key = key_or_new(cli_get(o, no, "--idempotency-key"), keybuf);
    bb_error err;
    char *pw = NULL;
    /* Your own password first (when it is to be asked), then the new
     * user's: the prompts come in the order a person expects. */
    if (cli_credentials(ctx, &err) != BB_C_OK ||
        cli_new_password(f.login, &pw, &err) != BB_C_OK) {
        cli_opts_free(o, no);
        return cli_fail(&err);
    }
    f.password = pw;
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    rc = bbi_pack_user_create(&a, &f, key, &err);
    cli_password_free(pw);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "user.create", &a, true, &r, &err);
    bbi_args_wipe(&a);
    cli_opts_free(o, no);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    return print_user_reply(ctx, r);
}

/* user.get of id; *out the reply (owned) and *u decoded from it. */
static int get_user(cli_ctx *ctx, int64_t id, bb_reply **out, bb_user *u, bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_get(&a, id, err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "user.get", &a, false, out, err);
    bbi_args_free(&a);
    if (rc == BB_C_OK && (rc = bbi_decode_user(bb_reply_result(*out), u, err)) != BB_C_OK) {
        bb_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

static int user_get(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = "user get";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, get_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    bb_reply *r = NULL;
    bb_user u;
    if (get_user(ctx, id, &r, &u, &err) != BB_C_OK)
        return cli_fail(&err);
    bb_user_free(&u);
    return print_user_reply(ctx, r);
}

/* Sends a packed user.update (a write: retried once with the same key)
 * and prints the user. */
static int update_and_print(cli_ctx *ctx, bbi_args *a)
{
    bb_error err;
    bb_reply *r = NULL;
    if (cli_call(ctx, "user.update", a, true, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_user_reply(ctx, r);
}

static int user_update(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--version", .metavar = "V" },
        { .name = "--name", .metavar = "NAME" },
        { .name = "--role", .metavar = "ROLE" },
        { .name = "--unit", .metavar = "UNIT" },
        { .name = "--no-unit" },
        { .name = "--township", .metavar = "TOWNSHIP", .repeatable = true },
        { .name = "--no-townships" },
        { .name = "--idempotency-key", .metavar = "KEY" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "user update";
    int64_t id = 0, version = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, update_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc == 0 && cli_get(o, no, "--version")->count == 0)
        rc = cli_usage_error(cmd, "--version is required (the version your change is based on)");
    if (rc == 0)
        rc = cli_int_arg(cmd, "--version", cli_get(o, no, "--version")->value, INT64_MIN,
                         INT64_MAX, &version);
    cli_opt *towns = cli_get(o, no, "--township");
    cli_opt *no_towns = cli_get(o, no, "--no-townships");
    cli_opt *unit = cli_get(o, no, "--unit");
    cli_opt *no_unit = cli_get(o, no, "--no-unit");
    if (rc == 0 && unit->count > 0 && no_unit->count > 0)
        rc = cli_usage_error(cmd, "--unit and --no-unit exclude each other");
    if (rc == 0 && towns->count > 0 && no_towns->count > 0)
        rc = cli_usage_error(cmd, "--township and --no-townships exclude each other");
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    bb_user_fields f = {
        .display_name = cli_get(o, no, "--name")->value,
        .role = cli_get(o, no, "--role")->value,
        .unit = unit->value,
        .clear_unit = no_unit->count > 0,
        .townships = towns->values,
        .ntownships = towns->nvalues,
        .set_townships = towns->count > 0 || no_towns->count > 0,
    };
    char keybuf[37];
    const char *key = key_or_new(cli_get(o, no, "--idempotency-key"), keybuf);
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    if (bbi_pack_user_update(&a, id, version, &f, key, &err) != BB_C_OK)
        rc = cli_fail(&err);
    else
        rc = update_and_print(ctx, &a);
    bbi_args_free(&a);
    cli_opts_free(o, no);
    return rc;
}

/* disable / enable: the current version from user.get, then user.update. */
static int user_set_disabled(cli_ctx *ctx, int argc, char **argv, bool disabled)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = disabled ? "user disable" : "user enable";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd,
                       disabled ? disable_help : enable_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    bb_reply *r = NULL;
    bb_user u;
    if (get_user(ctx, id, &r, &u, &err) != BB_C_OK)
        return cli_fail(&err);
    if (u.disabled == disabled) {
        fprintf(stderr, "baobao: user %lld (%s) is already %s\n", (long long)id, u.login,
                disabled ? "disabled" : "enabled");
        bb_user_free(&u);
        return print_user_reply(ctx, r);
    }
    int64_t version = u.version;
    bb_user_free(&u);
    bb_reply_free(r);
    bb_user_fields f = { .disabled = disabled, .set_disabled = true };
    char keybuf[37];
    cli_new_key(keybuf);
    bbi_args a;
    bbi_args_init(&a);
    if (bbi_pack_user_update(&a, id, version, &f, keybuf, &err) != BB_C_OK)
        rc = cli_fail(&err);
    else
        rc = update_and_print(ctx, &a);
    bbi_args_free(&a);
    return rc;
}

static int user_set_password(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = "user set-password";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, setpw_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    char what[32];
    snprintf(what, sizeof what, "user %lld", (long long)id);
    char *pw = NULL;
    if (cli_credentials(ctx, &err) != BB_C_OK || cli_new_password(what, &pw, &err) != BB_C_OK)
        return cli_fail(&err);
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    rc = bbi_pack_user_set_password(&a, id, pw, &err);
    cli_password_free(pw);
    /* Setting the same password twice is harmless: retried like a write. */
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "user.set_password", &a, true, &r, &err);
    bbi_args_wipe(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    char text[64];
    snprintf(text, sizeof text, "password of user %lld set", (long long)id);
    return print_true_reply(ctx, r, "user.set_password", text);
}

/* Pages of one `user list`. */
typedef struct pages {
    cli_replies replies;
    bb_user *items;
    size_t nitems;
} pages;

static void pages_free(pages *p)
{
    cli_replies_free(&p->replies);
    for (size_t i = 0; i < p->nitems; i++)
        bb_user_free(&p->items[i]);
    free(p->items);
}

/* A `user list` being paged: the filter asks, the pages keep. */
typedef struct lister {
    bb_user_filter f;
    pages p;
} lister;

static int list_pack(void *self, bbi_args *a, int64_t after, bool has_after, bb_error *err)
{
    (void)has_after;   /* the filter sends after when it is not 0 */
    lister *l = self;
    l->f.after = after;
    return bbi_pack_user_list(a, &l->f, err);
}

/* Keeps r and its decoded page (whose items move into l->p). */
static int list_keep(void *self, bb_reply *r, int64_t after, int64_t *next, bb_error *err)
{
    (void)after;
    lister *l = self;
    bb_user_page pg;
    int rc = bbi_decode_user_page(bb_reply_result(r), &pg, err);
    if (rc != BB_C_OK)
        return rc;
    *next = pg.next;
    void *items = l->p.items;
    rc = cli_items_append(&items, &l->p.nitems, pg.items, pg.n, sizeof *pg.items, err);
    if (rc == BB_C_OK) {
        l->p.items = items;
        free(pg.items);
        pg.items = NULL;
        pg.n = 0;
        rc = cli_replies_add(&l->p.replies, r, err);
    }
    bb_user_page_free(&pg);
    return rc;
}

static const cli_pager list_pager = { "user.list", list_pack, list_keep };

static int user_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--role", .metavar = "ROLE" },
        { .name = "--township", .metavar = "T" },
        { .name = "--limit", .metavar = "N" },
        { .name = "--after", .metavar = "ID" },
        { .name = "--all" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "user list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, list_help);
    int64_t limit = 0, after = 0;
    if (rc == 0 && cli_get(o, no, "--limit")->count > 0)
        rc = cli_int_arg(cmd, "--limit", cli_get(o, no, "--limit")->value, 1, UINT32_MAX,
                         &limit);
    if (rc == 0 && cli_get(o, no, "--after")->count > 0)
        rc = cli_int_arg(cmd, "--after", cli_get(o, no, "--after")->value, INT64_MIN,
                         INT64_MAX, &after);
    if (rc != 0)
        return rc;
    bool all = cli_get(o, no, "--all")->count > 0;
    bb_user_filter f = {
        .role = cli_get(o, no, "--role")->value,
        .township = cli_get(o, no, "--township")->value,
        .after = after,
        .limit = (unsigned)limit,
    };
    lister l = { .f = f };
    pages *p = &l.p;
    bb_error err;
    int64_t next = 0;
    if (cli_page(ctx, &list_pager, &l, after, after != 0, all, &next, &err) != BB_C_OK) {
        pages_free(p);
        return cli_fail(&err);
    }
    if (ctx->json)
        rc = all ? cli_print_all_json(&p->replies)
                 : cli_print_json(bb_reply_result(p->replies.r[0]));
    else
        cli_print_users(p->items, p->nitems);
    if (!all && next != 0)
        fprintf(stderr, "baobao: more users follow: add --after %lld (or use --all)\n",
                (long long)next);
    pages_free(p);
    return rc;
}

int cli_user(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "user", user_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("user", "missing subcommand (create, get, list, update, "
                               "disable, enable, set-password)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "create") == 0)
        return user_create(ctx, sargc, sargv);
    if (strcmp(sub, "get") == 0)
        return user_get(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return user_list(ctx, sargc, sargv);
    if (strcmp(sub, "update") == 0)
        return user_update(ctx, sargc, sargv);
    if (strcmp(sub, "disable") == 0)
        return user_set_disabled(ctx, sargc, sargv, true);
    if (strcmp(sub, "enable") == 0)
        return user_set_disabled(ctx, sargc, sargv, false);
    if (strcmp(sub, "set-password") == 0)
        return user_set_password(ctx, sargc, sargv);
    return cli_usage_error("user", "unknown subcommand \"%s\"", sub);
}
