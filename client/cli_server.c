/*
 * cli_server.c: `baobao server info`.
 *
 * For: showing server.info (version, limits, whether the database is up).
 * Not for: anything that changes the server.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char server_help[] =
    "Usage: baobao server info\n"
    "\n"
    "Commands:\n"
    "  info   the server's name, version, protocol, whether its database is\n"
    "         available, its time zone and today's date there, and its limits\n";

static const char info_help[] =
    "Usage: baobao server info [--json]\n"
    "\n"
    "Shows server.info: name, version, protocol, database_available, time_zone,\n"
    "today, and the limits max_message_bytes, max_nesting_depth, max_in_flight,\n"
    "page_limit_default, page_limit_max. Works also while the database is down,\n"
    "and without logging in (no user or password needed).\n";

static int server_info(cli_ctx *ctx, int argc, char **argv)
{
    size_t npos;
    const char *pos[1];
    int rc = cli_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos, "server info", info_help);
    if (rc != 0)
        return rc;
    /* server.info answers before login: the one command that needs no
     * credentials (to check a server is there and which it is). */
    ctx->anonymous = true;
    bb_error err;
    bb_reply *r;
    if (cli_call(ctx, "server.info", NULL, false, &r, &err) != BB_C_OK)
        return cli_fail(&err);
    bb_server_info info;
    if (bbi_decode_server_info(bb_reply_result(r), &info, &err) != BB_C_OK) {
        bb_reply_free(r);
        return cli_fail(&err);
    }
    rc = ctx->json ? cli_print_json(bb_reply_result(r)) : (cli_print_server_info(&info), 0);
    bb_server_info_free(&info);
    bb_reply_free(r);
    return rc;
}

int cli_server(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_leading(ctx, argc, argv, "server", server_help, &first);
    if (rc != 0)
        return rc;
    if (first >= argc)
        return cli_usage_error("server", "missing subcommand (info)");
    if (strcmp(argv[first], "info") == 0)
        return server_info(ctx, argc - first - 1, argv + first + 1);
    return cli_usage_error("server", "unknown subcommand \"%s\"", argv[first]);
}
