/*
 * cli_export.c: `baobao export run [--wait]` and `baobao export list`, the
 * supervisors' handle on the nightly exports (export.run, export.list).
 *
 * For: options to arguments (raw cli_call with bbi_args: no typed library
 * functions for these methods), printing one ExportRun as a field block
 * (with its files) and a list of runs as a table; --json prints the
 * server's result as it is.
 * Not for: the export itself (baobaod writes the folder on its own
 * machine; this only asks for it and reports where it went).
 */
#include "cli.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `export run --wait` waits this long for the run when --timeout was not
 * given (a run of a large database takes minutes, not seconds). */
#define CLI_EXPORT_WAIT_TIMEOUT_MS 3600000

static const char export_help[] =
    "Usage: baobao export run [--wait]\n"
    "       baobao export list [--limit N] [--after ID] [--all]\n"
    "\n"
    "Nightly exports (supervisors and admins). baobaod writes every run to a dated\n"
    "folder under its export_dir: one CSV per entity, reports.xlsx and reports.html,\n"
    "and manifest.json last (a folder without it is incomplete).\n"
    "\n"
    "  run              start an export now (or join the one in progress) and print\n"
    "                   the run; --wait waits until it has finished (exit 1 when it\n"
    "                   failed)\n"
    "  list             the runs, newest first: when, how long, outcome, folder\n";

static const char run_help[] =
    "Usage: baobao export run [--wait]\n"
    "\n"
    "Starts an export now and prints the run (status running). A run already in\n"
    "progress is not started twice: you get that run.\n"
    "\n"
    "  --wait           wait until the run has finished and print its outcome and\n"
    "                   files; exit 1 when it failed (default timeout 1 hour\n"
    "                   unless --timeout is given)\n";

static const char list_help[] =
    "Usage: baobao export list [--limit N] [--after ID] [--all]\n"
    "\n"
    "Prints the export runs, newest first: ID, KIND (scheduled, catch_up, manual),\n"
    "DATE, STATUS (running, ok, failed), STARTED, SECONDS, FOLDER, BY, ERROR.\n"
    "\n"
    "  --limit N        runs per page (default: the server's page_limit_default)\n"
    "  --after ID       start after this run (the id printed for the next page)\n"
    "  --all            fetch every page; with --json prints {\"items\": [...], \"next\": null}\n";

/* A str field as a NUL-terminated copy ("-" for nil or missing). */
static char *str_field(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = bbi_map_get(map, key);
    if (o == NULL || o->type != MSGPACK_OBJECT_STR)
        return strdup("-");
    char *s = malloc(o->via.str.size + 1);
    if (s != NULL) {
        memcpy(s, o->via.str.ptr, o->via.str.size);
        s[o->via.str.size] = '\0';
    }
    return s;
}

/* An int field as text ("-" for nil or missing). */
static void int_field(const msgpack_object *map, const char *key, char *out, size_t len)
{
    const msgpack_object *o = bbi_map_get(map, key);
    if (o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        snprintf(out, len, "%" PRIu64, o->via.u64);
    else if (o != NULL && o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        snprintf(out, len, "%" PRId64, o->via.i64);
    else
        snprintf(out, len, "-");
}

/* One run as a field block, then its files as a table. */
static int print_run(const msgpack_object *run)
{
    static const char *const keys[] = {"kind", "export_date", "status", "requested_by",
                                       "started_at", "finished_at", "folder", "error"};
    enum { NK = sizeof keys / sizeof keys[0] };
    const char *names[NK + 2] = {"id"};
    char *vals[NK + 2] = {0};
    char idt[32], dur[32];
    int_field(run, "id", idt, sizeof idt);
    int_field(run, "duration_ms", dur, sizeof dur);
    vals[0] = strdup(idt);
    for (size_t i = 0; i < NK; i++) {
        names[i + 1] = keys[i];
        vals[i + 1] = str_field(run, keys[i]);
    }
    names[NK + 1] = "duration_ms";
    vals[NK + 1] = strdup(dur);
    bool ok = true;
    for (size_t i = 0; i < NK + 2; i++)
        ok = ok && vals[i] != NULL;
    char *text = ok ? fields_render(names, (const char *const *)vals, NK + 2) : NULL;
    for (size_t i = 0; i < NK + 2; i++)
        free(vals[i]);
    if (!cli_put(text))
        return CLI_EXIT_PROTOCOL;
    const msgpack_object *files = bbi_map_get(run, "files");
    if (files == NULL || files->type != MSGPACK_OBJECT_ARRAY || files->via.array.size == 0)
        return CLI_EXIT_OK;
    table *t = table_new(4);
    if (t == NULL)
        return CLI_EXIT_PROTOCOL;
    table_set_align(t, 1, TABLE_RIGHT);
    table_set_align(t, 2, TABLE_RIGHT);
    const char *header[4] = {"FILE", "ROWS", "BYTES", "SHA256"};
    ok = table_add_row(t, header) == 0;
    for (uint32_t i = 0; ok && i < files->via.array.size; i++) {
        const msgpack_object *f = &files->via.array.ptr[i];
        char *name = str_field(f, "name"), *sha = str_field(f, "sha256");
        char rows[32], bytes[32];
        int_field(f, "rows", rows, sizeof rows);
        int_field(f, "bytes", bytes, sizeof bytes);
        const char *row[4] = {name, rows, bytes, sha};
        ok = name != NULL && sha != NULL && table_add_row(t, row) == 0;
        free(name);
        free(sha);
    }
    text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    fputs("\n", stdout);
    return cli_put(text) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int export_run(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {{.name = "--wait"}};
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, "export run", run_help);
    if (rc != 0)
        return rc;
    bool wait = cli_get(o, no, "--wait")->count > 0;
    cli_opts_free(o, no);
    if (wait && ctx->timeout_ms == BB_CLIENT_DEFAULT_TIMEOUT_MS)
        ctx->timeout_ms = CLI_EXPORT_WAIT_TIMEOUT_MS;
    bbi_args a;
    bbi_args_init(&a);
    msgpack_pack_map(&a.pk, 1);
    msgpack_pack_str(&a.pk, 4);
    msgpack_pack_str_body(&a.pk, "wait", 4);
    if (wait)
        msgpack_pack_true(&a.pk);
    else
        msgpack_pack_false(&a.pk);
    bb_reply *r = NULL;
    bb_error err;
    /* Not retried as a write: a second export.run joins the run in
     * progress anyway, and a run is no record to store twice. */
    rc = cli_call(ctx, "export.run", &a, false, &r, &err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return cli_fail(&err);
    const msgpack_object *res = bb_reply_result(r);
    if (bbi_want_map(res, "export.run", &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    rc = ctx->json ? cli_print_json(res) : print_run(res);
    char *status = str_field(res, "status");
    if (rc == CLI_EXIT_OK && wait && status != NULL && strcmp(status, "ok") != 0) {
        fprintf(stderr, "baobao: export run: the run ended with status %s\n", status);
        rc = CLI_EXIT_REFUSED;
    }
    free(status);
    bb_reply_free(r);
    return rc;
}

/* Every run of the pages as one table. */
static int print_runs(const cli_replies *rs)
{
    enum { NC = 9 };
    table *t = table_new(NC);
    if (t == NULL)
        return CLI_EXIT_PROTOCOL;
    table_set_align(t, 0, TABLE_RIGHT);
    table_set_align(t, 5, TABLE_RIGHT);
    const char *header[NC] = {"ID", "KIND", "DATE", "STATUS", "STARTED", "SECONDS",
                              "FOLDER", "BY", "ERROR"};
    bool ok = table_add_row(t, header) == 0;
    for (size_t i = 0; ok && i < rs->n; i++) {
        const msgpack_object *a = bbi_map_get(bb_reply_result(rs->r[i]), "items");
        for (uint32_t j = 0; ok && j < a->via.array.size; j++) {
            const msgpack_object *run = &a->via.array.ptr[j];
            char id[32], ms[32], secs[32];
            int_field(run, "id", id, sizeof id);
            int_field(run, "duration_ms", ms, sizeof ms);
            if (strcmp(ms, "-") == 0)
                snprintf(secs, sizeof secs, "-");
            else
                snprintf(secs, sizeof secs, "%.1f", strtod(ms, NULL) / 1000.0);
            char *kind = str_field(run, "kind"), *date = str_field(run, "export_date");
            char *status = str_field(run, "status"), *started = str_field(run, "started_at");
            char *folder = str_field(run, "folder"), *by = str_field(run, "requested_by");
            char *error = str_field(run, "error");
            char *errcell = error != NULL ? text_cell(error, 40) : NULL;
            const char *row[NC] = {id, kind, date, status, started, secs, folder, by, errcell};
            ok = kind && date && status && started && folder && by && errcell &&
                 table_add_row(t, row) == 0;
            free(kind);
            free(date);
            free(status);
            free(started);
            free(folder);
            free(by);
            free(error);
            free(errcell);
        }
    }
    char *text = ok ? table_render(t, NULL) : NULL;
    table_free(t);
    return cli_put(text) ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
}

static int export_list(cli_ctx *ctx, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--limit", .metavar = "N"},
        {.name = "--after", .metavar = "ID"},
        {.name = "--all"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 0, &npos, "export list", list_help);
    if (rc != 0)
        return rc;
    int64_t limit = 0, after = 0;
    if (cli_get(o, no, "--limit")->count > 0)
        rc = cli_int_arg("export list", "--limit", cli_get(o, no, "--limit")->value, INT64_MIN,
                         INT64_MAX, &limit);
    if (rc == 0 && cli_get(o, no, "--after")->count > 0)
        rc = cli_int_arg("export list", "--after", cli_get(o, no, "--after")->value, INT64_MIN,
                         INT64_MAX, &after);
    bool all = cli_get(o, no, "--all")->count > 0;
    bool has_limit = cli_get(o, no, "--limit")->count > 0;
    bool has_after = cli_get(o, no, "--after")->count > 0;
    cli_opts_free(o, no);
    if (rc != 0)
        return rc;
    cli_replies rs = {0};
    bb_error err;
    bool more = false;
    int64_t next = 0;
    for (;;) {
        bbi_args a;
        bbi_args_init(&a);
        msgpack_pack_map(&a.pk, (uint32_t)(has_after + has_limit));
        if (has_after)
            bbi_pack_kv_int(&a.pk, "after", after);
        if (has_limit)
            bbi_pack_kv_int(&a.pk, "limit", limit);
        bb_reply *r = NULL;
        rc = cli_call(ctx, "export.list", &a, false, &r, &err);
        bbi_args_free(&a);
        const msgpack_object *res = rc == BB_C_OK ? bb_reply_result(r) : NULL;
        const msgpack_object_array *items = NULL;
        if (rc == BB_C_OK)
            rc = bbi_get_array(res, "export.list", "items", &items, &err);
        if (rc == BB_C_OK)
            rc = bbi_get_nint(res, "export.list", "next", &more, &next, &err);
        if (rc == BB_C_OK)
            rc = cli_replies_add(&rs, r, &err);
        else if (r != NULL)
            bb_reply_free(r);
        if (rc == BB_C_OK && all && more && has_after && next >= after)
            rc = bbi_err(&err, BB_C_EPROTO, NULL, NULL, "export.list: next does not move on");
        if (rc != BB_C_OK) {
            cli_replies_free(&rs);
            return cli_fail(&err);
        }
        if (!all || !more)
            break;
        after = next;
        has_after = true;
    }
    if (ctx->json)
        rc = all ? cli_print_all_json(&rs) : cli_print_json(bb_reply_result(rs.r[0]));
    else
        rc = print_runs(&rs);
    if (!all && more)
        fprintf(stderr, "baobao: more runs follow: add --after %" PRId64 " (or use --all)\n",
                next);
    cli_replies_free(&rs);
    return rc;
}

int cli_export(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "export", export_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("export", "missing subcommand (run, list)");
    const char *sub = argv[first];
    if (strcmp(sub, "run") == 0)
        return export_run(ctx, argc - first - 1, argv + first + 1);
    if (strcmp(sub, "list") == 0)
        return export_list(ctx, argc - first - 1, argv + first + 1);
    return cli_usage_error("export", "unknown subcommand \"%s\"", sub);
}
