/*
 * cli_export.c: `baobao export run [--wait]` and `baobao export list`, the
 * supervisors' handle on the nightly exports (export.run, export.list).
 *
 * For: `export run`, which does more than call and print (a longer timeout
 * with --wait, exit 1 when the run failed, the run's files as a table),
 * and the columns of `export list` (options, help and paging from the
 * method spec, cli_spec.c); --json prints the server's result as it is.
 * Not for: the export itself (baobaod writes the folder on its own
 * machine; this only asks for it and reports where it went).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `export run --wait` waits this long for the run when --timeout was not
 * given (a run of a large database takes minutes, not seconds). */
#define CLI_EXPORT_WAIT_TIMEOUT_MS 3600000

static const char export_intro[] =
    "Nightly exports (supervisors and admins). baobaod writes every run to a dated\n"
    "folder under its export_dir: one CSV per entity, reports.xlsx and reports.html,\n"
    "and manifest.json last (a folder without it is incomplete).\n";

static const char run_help[] =
    "Usage: baobao export run [--wait]\n"
    "\n"
    "Starts an export now and prints the run (status running). A run already in\n"
    "progress is not started twice: you get that run.\n"
    "\n"
    "  --wait           wait until the run has finished and print its outcome and\n"
    "                   files; exit 1 when it failed (default timeout 1 hour\n"
    "                   unless --timeout is given)\n";

static const cli_col file_table[] = {
    {"FILE", "name"}, {"ROWS", "rows"}, {"BYTES", "bytes"}, {"SHA256", "sha256"},
};

/* One run as a field block, then its files as a table. */
static int print_run(const msgpack_object *run)
{
    const msgpack_object *files = bb_map_get(run, "files");
    bool ok = cli_print_fields(run, NULL);
    if (ok && files != NULL && files->type == MSGPACK_OBJECT_ARRAY && files->via.array.size > 0) {
        fputs("\n", stdout);
        ok = cli_print_table(files, file_table, sizeof file_table / sizeof file_table[0], NULL);
    }
    return ok ? CLI_EXIT_OK : CLI_EXIT_PROTOCOL;
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
    bbi_kvs k = {.n = 0};
    bbi_kv_bool(&k, "wait", wait);
    bbi_args a;
    bbi_args_init(&a);
    bb_reply *r = NULL;
    bb_error err;
    rc = bbi_pack(&a, "export.run", &k, &err);
    /* Not retried as a write: a second export.run joins the run in
     * progress anyway, and a run is no record to store twice. */
    if (rc == BB_C_OK)
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
    const msgpack_object *st = bb_map_get(res, "status");
    bool ok = st != NULL && st->type == MSGPACK_OBJECT_STR && st->via.str.size == 2 &&
              memcmp(st->via.str.ptr, "ok", 2) == 0;
    if (rc == CLI_EXIT_OK && wait && !ok) {
        fprintf(stderr, "baobao: export run: the run ended with status %.*s\n",
                st != NULL && st->type == MSGPACK_OBJECT_STR ? (int)st->via.str.size : 1,
                st != NULL && st->type == MSGPACK_OBJECT_STR ? st->via.str.ptr : "?");
        rc = CLI_EXIT_REFUSED;
    }
    bb_reply_free(r);
    return rc;
}

static const cli_col run_table[] = {
    {"ID", "id"},          {"KIND", "kind"},       {"DATE", "export_date"},
    {"STATUS", "status"},  {"STARTED", "started_at"}, {"MS", "duration_ms"},
    {"FOLDER", "folder"},  {"BY", "requested_by"}, {"ERROR", "error"},
};
static const cli_fmt run_fmts[] = {{"error", CLI_F_CLIP}, {NULL, CLI_F_TEXT}};

static const cli_mech export_cmds[] = {
    {.cmd = "export run", .method = "export.run", .run = export_run},
    {.cmd = "export list", .method = "export.list", .fmts = run_fmts, .cols = run_table,
     .ncols = sizeof run_table / sizeof run_table[0], .about = "Newest first.\n"},
    {.cmd = NULL},
};

int cli_export(cli_ctx *ctx, int argc, char **argv)
{
    return cli_mech_group(ctx, "export", export_intro, export_cmds, argc, argv);
}
