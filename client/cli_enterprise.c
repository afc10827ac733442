/*
 * cli_enterprise.c: `baobao enterprise add|show|list|edit`.
 *
 * For: turning options into enterprise.create/get/list/update arguments,
 * paging through enterprise.list for --all, and printing the results.
 * Not for: rules the server checks (known townships, clusters, statuses,
 * lengths); the library checks UTF-8 and the credit code before sending.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char enterprise_help[] =
    "Usage: baobao enterprise COMMAND ...\n"
    "\n"
    "Commands:\n"
    "  add    register an enterprise (enterprise.create)\n"
    "  show   one enterprise by id (enterprise.get)\n"
    "  list   enterprises, filtered, in pages (enterprise.list)\n"
    "  edit   change an enterprise (enterprise.update)\n"
    "Run 'baobao enterprise COMMAND --help' for a command's options.\n";

static const char add_help[] =
    "Usage: baobao enterprise add --name NAME --credit-code CODE --township TOWNSHIP\n"
    "                             [--cluster CLUSTER] [--label LABEL]... [--status STATUS]\n"
    "                             [--idempotency-key KEY]\n"
    "\n"
    "Registers an enterprise and prints it (version 1).\n"
    "\n"
    "  --name NAME              1-100 characters, e.g. 住方科技\n"
    "  --credit-code CODE       unified social credit code (统一社会信用代码), 18\n"
    "                           characters, checked before sending\n"
    "  --township TOWNSHIP      a known township, street or park, e.g. 赤壁镇\n"
    "  --cluster CLUSTER        industry cluster: 青砖茶 电子信息 纺织服装 电力能源\n"
    "                           安全应急 大健康 新材料 节能环保\n"
    "  --label LABEL            a label (repeat for more), e.g. 规上, 高新技术企业\n"
    "  --status STATUS          在营 (default) 半停产 停产 筹建 注销\n"
    "  --idempotency-key KEY    key of this write (default: a random UUID); the same\n"
    "                           key with the same arguments returns the first result\n";

static const char show_help[] =
    "Usage: baobao enterprise show ID\n"
    "\n"
    "Prints one enterprise as \"field: value\" lines (or JSON with --json).\n";

static const char list_help[] =
    "Usage: baobao enterprise list [--township T] [--cluster C] [--status S]\n"
    "                              [--label L] [--name TEXT] [--limit N] [--after ID]\n"
    "                              [--all]\n"
    "\n"
    "Prints enterprises in ascending id as a table with a header row. Filters match\n"
    "exactly; --name matches a part of the name. One page (--limit rows, default\n"
    "the server's page_limit_default) unless --all; when more pages follow, the\n"
    "--after value for the next one is printed to stderr.\n"
    "\n"
    "  --township T     only in this township, street or park\n"
    "  --cluster C      only in this industry cluster\n"
    "  --status S       only with this operating status\n"
    "  --label L        only those having this label\n"
    "  --name TEXT      only those whose name contains TEXT\n"
    "  --limit N        rows per page (1 - the server's page_limit_max)\n"
    "  --after ID       start after this id (the `next` of the previous page)\n"
    "  --all            fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

static const char edit_help[] =
    "Usage: baobao enterprise edit ID --version V [--name N] [--credit-code C]\n"
    "                             [--township T] [--cluster C | --no-cluster]\n"
    "                             [--label L... | --no-labels] [--status S]\n"
    "                             [--idempotency-key KEY]\n"
    "\n"
    "Changes the given fields of enterprise ID and prints it with its new version.\n"
    "--version is the version your edit is based on: when someone changed the\n"
    "enterprise since, the server refuses with version_conflict (exit 1); show it\n"
    "again and redo the edit.\n"
    "\n"
    "  --version V              required: the version the edit is based on\n"
    "  --name, --credit-code, --township, --status   new values\n"
    "  --cluster C              set the industry cluster; --no-cluster clears it\n"
    "  --label L                replace the labels with these (repeat for more);\n"
    "                           --no-labels removes all labels\n"
    "  --idempotency-key KEY    key of this write (default: a random UUID)\n";

/* Prints a reply's enterprise (decoded, or raw with --json). */
static int print_enterprise_reply(cli_ctx *ctx, bb_reply *r)
{
    bb_error err;
    bb_enterprise e;
    if (bbi_decode_enterprise(bb_reply_result(r), &e, &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    int rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(bb_reply_result(r));
    else
        cli_print_enterprise(&e);
    bb_enterprise_free(&e);
    bb_reply_free(r);
    return rc;
}

/* Calls a write with its packed arguments and prints the enterprise. */
static int write_and_print(cli_ctx *ctx, const char *method, bbi_args *a)
{
    bb_error err;
    bb_reply *r;
    if (cli_call(ctx, method, a, true, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    return print_enterprise_reply(ctx, r);
}

static int enterprise_add(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--name", .metavar = "NAME" },
        { .name = "--credit-code", .metavar = "CODE" },
        { .name = "--township", .metavar = "TOWNSHIP" },
        { .name = "--cluster", .metavar = "CLUSTER" },
        { .name = "--label", .metavar = "LABEL", .repeatable = true },
        { .name = "--status", .metavar = "STATUS" },
        { .name = "--idempotency-key", .metavar = "KEY" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "enterprise add";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, add_help);
    const char *need[] = { "--name", "--credit-code", "--township" };
    for (size_t i = 0; rc == 0 && i < 3; i++)
        if (cli_get(o, no, need[i])->count == 0)
            rc = cli_usage_error(cmd, "%s is required", need[i]);
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    cli_opt *labels = cli_get(o, no, "--label");
    bb_enterprise_fields f = {
        .name = cli_get(o, no, "--name")->value,
        .credit_code = cli_get(o, no, "--credit-code")->value,
        .township = cli_get(o, no, "--township")->value,
        .cluster = cli_get(o, no, "--cluster")->value,
        .labels = labels->values,
        .nlabels = labels->nvalues,
        .status = cli_get(o, no, "--status")->value,
    };
    char keybuf[37];
    const char *key = cli_get(o, no, "--idempotency-key")->value;
    if (key == NULL) {
        cli_new_key(keybuf);
        key = keybuf;
    }
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    if (bbi_pack_enterprise_create(&a, &f, key, &err) != BB_C_OK)
        rc = cli_fail(&err);
    else
        rc = write_and_print(ctx, "enterprise.create", &a);
    bbi_args_free(&a);
    cli_opts_free(o, no);
    return rc;
}

/* The ID word of show and edit. */
static int id_arg(const char *cmd, const char *const *pos, size_t npos, int64_t *id)
{
    if (npos != 1)
        return cli_usage_error(cmd, "expected one enterprise ID");
    return cli_int_arg(cmd, "ID", pos[0], INT64_MIN, INT64_MAX, id);
}

static int enterprise_show(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    const char *cmd = "enterprise show";
    int64_t id;
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos, cmd, show_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc != 0)
        return rc;
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    rc = bbi_pack_enterprise_get(&a, id, &err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "enterprise.get", &a, false, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    return print_enterprise_reply(ctx, r);
}

static int enterprise_edit(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--version", .metavar = "V" },
        { .name = "--name", .metavar = "NAME" },
        { .name = "--credit-code", .metavar = "CODE" },
        { .name = "--township", .metavar = "TOWNSHIP" },
        { .name = "--cluster", .metavar = "CLUSTER" },
        { .name = "--no-cluster" },
        { .name = "--label", .metavar = "LABEL", .repeatable = true },
        { .name = "--no-labels" },
        { .name = "--status", .metavar = "STATUS" },
        { .name = "--idempotency-key", .metavar = "KEY" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "enterprise edit";
    int64_t id = 0, version = 0;
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, edit_help);
    if (rc == 0)
        rc = id_arg(cmd, pos, npos, &id);
    if (rc == 0 && cli_get(o, no, "--version")->count == 0)
        rc = cli_usage_error(cmd, "--version is required (the version your edit is based on)");
    if (rc == 0)
        rc = cli_int_arg(cmd, "--version", cli_get(o, no, "--version")->value, INT64_MIN,
                         INT64_MAX, &version);
    cli_opt *labels = cli_get(o, no, "--label");
    cli_opt *no_labels = cli_get(o, no, "--no-labels");
    cli_opt *cluster = cli_get(o, no, "--cluster");
    cli_opt *no_cluster = cli_get(o, no, "--no-cluster");
    if (rc == 0 && cluster->count > 0 && no_cluster->count > 0)
        rc = cli_usage_error(cmd, "--cluster and --no-cluster exclude each other");
    if (rc == 0 && labels->count > 0 && no_labels->count > 0)
        rc = cli_usage_error(cmd, "--label and --no-labels exclude each other");
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    bb_enterprise_fields f = {
        .name = cli_get(o, no, "--name")->value,
        .credit_code = cli_get(o, no, "--credit-code")->value,
        .township = cli_get(o, no, "--township")->value,
        .cluster = cluster->value,
        .clear_cluster = no_cluster->count > 0,
        .labels = labels->values,
        .nlabels = labels->nvalues,
        .set_labels = labels->count > 0 || no_labels->count > 0,
        .status = cli_get(o, no, "--status")->value,
    };
    char keybuf[37];
    const char *key = cli_get(o, no, "--idempotency-key")->value;
    if (key == NULL) {
        cli_new_key(keybuf);
        key = keybuf;
    }
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    if (bbi_pack_enterprise_update(&a, id, version, &f, key, &err) != BB_C_OK)
        rc = cli_fail(&err);
    else
        rc = write_and_print(ctx, "enterprise.update", &a);
    bbi_args_free(&a);
    cli_opts_free(o, no);
    return rc;
}

/* Pages fetched for one list command: the replies and what was decoded
 * from them. */
typedef struct pages {
    cli_replies replies;
    bb_enterprise *items;      /* all pages' items, moved out of their pages */
    size_t nitems;
} pages;

static void pages_free(pages *p)
{
    cli_replies_free(&p->replies);
    for (size_t i = 0; i < p->nitems; i++)
        bb_enterprise_free(&p->items[i]);
    free(p->items);
}

/* An `enterprise list` being paged: the filter asks, the pages keep. */
typedef struct lister {
    bb_enterprise_filter f;
    pages p;
} lister;

static int list_pack(void *self, bbi_args *a, int64_t after, bool has_after, bb_error *err)
{
    (void)has_after;   /* the filter sends after when it is not 0 */
    lister *l = self;
    l->f.after = after;
    return bbi_pack_enterprise_list(a, &l->f, err);
}

/* Keeps r and its decoded page (whose items move into l->p). */
static int list_keep(void *self, bb_reply *r, int64_t after, int64_t *next, bb_error *err)
{
    (void)after;
    lister *l = self;
    bb_enterprise_page pg;
    int rc = bbi_decode_enterprise_page(bb_reply_result(r), &pg, err);
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
    bb_enterprise_page_free(&pg);
    return rc;
}

static const cli_pager list_pager = { "enterprise.list", list_pack, list_keep };

static int enterprise_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--township", .metavar = "T" },
        { .name = "--cluster", .metavar = "C" },
        { .name = "--status", .metavar = "S" },
        { .name = "--label", .metavar = "L" },
        { .name = "--name", .metavar = "TEXT" },
        { .name = "--limit", .metavar = "N" },
        { .name = "--after", .metavar = "ID" },
        { .name = "--all" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "enterprise list";
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
    bb_enterprise_filter f = {
        .township = cli_get(o, no, "--township")->value,
        .cluster = cli_get(o, no, "--cluster")->value,
        .status = cli_get(o, no, "--status")->value,
        .label = cli_get(o, no, "--label")->value,
        .name_contains = cli_get(o, no, "--name")->value,
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
        cli_print_enterprises(p->items, p->nitems);
    if (!all && next != 0)
        fprintf(stderr, "baobao: more enterprises follow: add --after %lld (or use --all)\n",
                (long long)next);
    pages_free(p);
    return rc;
}

int cli_enterprise(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "enterprise", enterprise_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("enterprise", "missing subcommand (add, show, list, edit)");
    const char *sub = argv[first];
    int sargc = argc - first - 1;
    char **sargv = argv + first + 1;
    if (strcmp(sub, "add") == 0)
        return enterprise_add(ctx, sargc, sargv);
    if (strcmp(sub, "show") == 0)
        return enterprise_show(ctx, sargc, sargv);
    if (strcmp(sub, "list") == 0)
        return enterprise_list(ctx, sargc, sargv);
    if (strcmp(sub, "edit") == 0)
        return enterprise_edit(ctx, sargc, sargv);
    return cli_usage_error("enterprise", "unknown subcommand \"%s\"", sub);
}
