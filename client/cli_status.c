/*
 * cli_status.c: `baobao status submit|list`.
 *
 * For: turning options into status.submit/status.list arguments, paging
 * for --all with the server's opaque cursor, and printing the reports.
 * Not for: date and range rules (the server checks them: exit 1).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char status_help[] =
    "Usage: baobao status COMMAND ...\n"
    "\n"
    "Commands:\n"
    "  submit   record a visit to an enterprise (status.submit)\n"
    "  list     an enterprise's reports, newest first (status.list)\n"
    "Run 'baobao status COMMAND --help' for a command's options.\n";

static const char submit_help[] =
    "Usage: baobao status submit --enterprise ID --date YYYY-MM-DD --reporter NAME\n"
    "                            --production-status S [--output-value YUAN]\n"
    "                            [--employees N] [--shortage N] [--note TEXT]\n"
    "                            [--idempotency-key KEY]\n"
    "\n"
    "Records a status report (走访 / 调度记录) and prints it.\n"
    "\n"
    "  --enterprise ID          the enterprise visited\n"
    "  --date YYYY-MM-DD        the day of the visit (not after today)\n"
    "  --reporter NAME          who visited, 1-50 characters\n"
    "  --production-status S    正常 半停产 停产 在建\n"
    "  --output-value YUAN      output value (产值) this month in whole yuan:\n"
    "                           1234567, 1,234,567, 123.45万 or 3亿 all work\n"
    "  --employees N            employees\n"
    "  --shortage N             workers short (缺工)\n"
    "  --note TEXT              up to 2000 characters; newlines allowed\n"
    "  --idempotency-key KEY    key of this write (default: a random UUID)\n";

static const char list_help[] =
    "Usage: baobao status list --enterprise ID [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
    "                          [--limit N] [--after CURSOR] [--all]\n"
    "\n"
    "Prints an enterprise's status reports, newest report_date first, as a table\n"
    "with a header row (output value in yuan). One page unless --all; when more\n"
    "pages follow, the --after cursor for the next one is printed to stderr.\n"
    "\n"
    "  --enterprise ID    required\n"
    "  --from, --to       inclusive bounds on the report date\n"
    "  --limit N          rows per page (1 - the server's page_limit_max)\n"
    "  --after CURSOR     the `next` of the previous page\n"
    "  --all              fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

static int status_submit(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--enterprise", .metavar = "ID" },
        { .name = "--date", .metavar = "YYYY-MM-DD" },
        { .name = "--reporter", .metavar = "NAME" },
        { .name = "--production-status", .metavar = "S" },
        { .name = "--output-value", .metavar = "YUAN" },
        { .name = "--employees", .metavar = "N" },
        { .name = "--shortage", .metavar = "N" },
        { .name = "--note", .metavar = "TEXT" },
        { .name = "--idempotency-key", .metavar = "KEY" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "status submit";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, submit_help);
    const char *need[] = { "--enterprise", "--date", "--reporter", "--production-status" };
    for (size_t i = 0; rc == 0 && i < 4; i++)
        if (cli_get(o, no, need[i])->count == 0)
            rc = cli_usage_error(cmd, "%s is required", need[i]);
    bb_status_input in = { 0 };
    int64_t output_value, employees, shortage;
    if (rc == 0)
        rc = cli_int_arg(cmd, "--enterprise", cli_get(o, no, "--enterprise")->value, INT64_MIN,
                         INT64_MAX, &in.enterprise_id);
    cli_opt *ov = cli_get(o, no, "--output-value");
    cli_opt *em = cli_get(o, no, "--employees");
    cli_opt *sh = cli_get(o, no, "--shortage");
    if (rc == 0 && ov->count > 0 && (rc = cli_money_arg(cmd, ov->name, ov->value, &output_value)) == 0)
        in.output_value = &output_value;
    if (rc == 0 && em->count > 0 &&
        (rc = cli_int_arg(cmd, em->name, em->value, INT64_MIN, INT64_MAX, &employees)) == 0)
        in.employees = &employees;
    if (rc == 0 && sh->count > 0 &&
        (rc = cli_int_arg(cmd, sh->name, sh->value, INT64_MIN, INT64_MAX, &shortage)) == 0)
        in.labour_shortage = &shortage;
    if (rc != 0)
        return rc;
    in.report_date = cli_get(o, no, "--date")->value;
    in.reporter = cli_get(o, no, "--reporter")->value;
    in.production_status = cli_get(o, no, "--production-status")->value;
    in.note = cli_get(o, no, "--note")->value;
    char keybuf[37];
    const char *key = cli_get(o, no, "--idempotency-key")->value;
    if (key == NULL) {
        cli_new_key(keybuf);
        key = keybuf;
    }
    bb_error err;
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    rc = bbi_pack_status_submit(&a, &in, key, &err);
    if (rc == BB_C_OK)
        rc = cli_call(ctx, "status.submit", &a, true, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    bb_status_report rep;
    if (bbi_decode_status_report(bb_reply_result(r), &rep, &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    rc = CLI_EXIT_OK;
    if (ctx->json)
        rc = cli_print_json(bb_reply_result(r));
    else
        cli_print_status_report(&rep);
    bb_status_report_free(&rep);
    bb_reply_free(r);
    return rc;
}

/* Pages of one `status list`: the replies and all their reports. */
typedef struct pages {
    cli_replies replies;
    bb_status_report *items;
    size_t nitems;
} pages;

static void pages_free(pages *p)
{
    cli_replies_free(&p->replies);
    for (size_t i = 0; i < p->nitems; i++)
        bb_status_report_free(&p->items[i]);
    free(p->items);
}

/* Keeps a reply and its decoded page (whose items move into p). On failure
 * r is not taken. */
static int pages_add(pages *p, bb_reply *r, bb_status_page *pg, bb_error *err)
{
    void *items = p->items;
    int rc = cli_items_append(&items, &p->nitems, pg->items, pg->n, sizeof *pg->items, err);
    if (rc != 0)
        return rc;
    p->items = items;
    free(pg->items);
    pg->items = NULL;
    pg->n = 0;
    return cli_replies_add(&p->replies, r, err);
}

static int status_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        { .name = "--enterprise", .metavar = "ID" },
        { .name = "--from", .metavar = "YYYY-MM-DD" },
        { .name = "--to", .metavar = "YYYY-MM-DD" },
        { .name = "--limit", .metavar = "N" },
        { .name = "--after", .metavar = "CURSOR" },
        { .name = "--all" },
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    const char *cmd = "status list";
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, cmd, list_help);
    bb_status_filter f = { 0 };
    int64_t limit = 0;
    if (rc == 0 && cli_get(o, no, "--enterprise")->count == 0)
        rc = cli_usage_error(cmd, "--enterprise is required");
    if (rc == 0)
        rc = cli_int_arg(cmd, "--enterprise", cli_get(o, no, "--enterprise")->value, INT64_MIN,
                         INT64_MAX, &f.enterprise_id);
    if (rc == 0 && cli_get(o, no, "--limit")->count > 0)
        rc = cli_int_arg(cmd, "--limit", cli_get(o, no, "--limit")->value, 1, UINT32_MAX,
                         &limit);
    if (rc != 0)
        return rc;
    f.limit = (unsigned)limit;
    f.from = cli_get(o, no, "--from")->value;
    f.to = cli_get(o, no, "--to")->value;
    bool all = cli_get(o, no, "--all")->count > 0;
    /* The cursor of the next request: owned copy, since each page's
     * decoded `next` is freed with its page. */
    char *after = NULL;
    if (cli_get(o, no, "--after")->value != NULL) {
        after = strdup(cli_get(o, no, "--after")->value);
        if (after == NULL)
            return CLI_EXIT_PROTOCOL;
    }
    pages p = { 0 };
    bb_error err;
    for (;;) {
        f.after = after;
        bbi_args a;
        bbi_args_init(&a);
        bb_reply *r = NULL;
        bb_status_page pg = { 0 };
        rc = bbi_pack_status_list(&a, &f, &err);
        if (rc == BB_C_OK)
            rc = cli_call(ctx, "status.list", &a, false, &r, &err);
        bbi_args_free(&a);
        if (rc == BB_C_OK) {
            rc = bbi_decode_status_page(bb_reply_result(r), &pg, &err);
            if (rc != BB_C_OK)
                bb_reply_free(r);
        }
        char *next = NULL;
        if (rc == BB_C_OK) {
            next = pg.next;
            pg.next = NULL;
            rc = pages_add(&p, r, &pg, &err);
            if (rc != BB_C_OK)
                bb_reply_free(r);
            bb_status_page_free(&pg);
        }
        if (rc == BB_C_OK && all && next != NULL && after != NULL && strcmp(next, after) == 0)
            rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL,
                         "status.list: next cursor repeats the previous one");
        free(after);
        after = next;
        if (rc != BB_C_OK) {
            free(after);
            pages_free(&p);
            return cli_fail(&err);
        }
        if (!all || after == NULL)
            break;
    }
    if (ctx->json)
        rc = all ? cli_print_all_json(&p.replies)
                 : cli_print_json(bb_reply_result(p.replies.r[0]));
    else
        cli_print_status_reports(p.items, p.nitems);
    if (!all && after != NULL)
        fprintf(stderr, "baobao: more reports follow: add --after %s (or use --all)\n", after);
    free(after);
    pages_free(&p);
    return rc;
}

int cli_status(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "status", status_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("status", "missing subcommand (submit, list)");
    const char *sub = argv[first];
    if (strcmp(sub, "submit") == 0)
        return status_submit(ctx, argc - first - 1, argv + first + 1);
    if (strcmp(sub, "list") == 0)
        return status_list(ctx, argc - first - 1, argv + first + 1);
    return cli_usage_error("status", "unknown subcommand \"%s\"", sub);
}
