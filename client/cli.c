/*
 * cli.c: main() of `baobao`, the command-line client of baobaod.
 *
 * For: the global options, choosing the command, the top-level help with
 * the exit codes, and closing the connection at the end.
 * Not for: any one command (cli_server.c, cli_enterprise.c, cli_status.c).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char top_help[] =
    "Usage: baobao [--server HOST:PORT] [--json] [--timeout MS] COMMAND ...\n"
    "\n"
    "The command-line client of baobaod, the 包保 work server.\n"
    "\n"
    "Commands:\n"
    "  server info                        the server's version, limits and database state\n"
    "  enterprise add|show|list|edit      enterprises (企业)\n"
    "  status submit|list                 status reports (走访 / 调度记录)\n"
    "Run 'baobao COMMAND --help' (e.g. 'baobao enterprise add --help') for a command's options.\n"
    "\n"
    "Global options (also accepted after the command):\n"
    "  --server HOST:PORT   the server (an IPv6 address as [ADDR]:PORT); default\n"
    "                       $BAOBAO_SERVER, then " BB_CLIENT_DEFAULT_SERVER "\n"
    "  --json               print the server's result as JSON instead of text\n"
    "  --timeout MS         timeout for connecting and for each reply, in\n"
    "                       milliseconds (default 10000)\n"
    "  -h, --help           this help\n"
    "\n"
    "Writes (enterprise add, enterprise edit, status submit) carry an idempotency key\n"
    "(random unless --idempotency-key is given) and are retried once with the same key\n"
    "after timeout, connection_lost or unavailable, so a retried write is never stored\n"
    "twice.\n"
    "\n"
    "Errors go to stderr as \"baobao: CODE: MESSAGE (field: FIELD)\".\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the server refused the request: invalid_argument, invalid_utf8, not_found,\n"
    "     version_conflict, already_exists, idempotency_key_reused, unknown_method, ...\n"
    "     (also when the client's own check refuses an argument before sending)\n"
    "  2  usage error: bad command line\n"
    "  3  could not reach the server or the database: connect_failed,\n"
    "     connection_lost, timeout, unavailable, shutting_down\n"
    "  4  protocol_error or internal (a bug on one side), out_of_memory\n";

int main(int argc, char **argv)
{
    cli_ctx ctx = { .server = NULL, .json = false, .timeout_ms = BB_CLIENT_DEFAULT_TIMEOUT_MS };
    int first;
    int rc = cli_parse_leading(&ctx, argc - 1, argv + 1, "", top_help, &first);
    if (rc == CLI_HELP_SHOWN)
        return CLI_EXIT_OK;
    if (rc != 0)
        return rc;
    first += 1;   /* index into argv */
    if (first >= argc)
        return cli_usage_error("", "missing command (server, enterprise, status)");
    const char *cmd = argv[first];
    int sub_argc = argc - first - 1;
    char **sub_argv = argv + first + 1;
    if (strcmp(cmd, "server") == 0)
        rc = cli_server(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "enterprise") == 0)
        rc = cli_enterprise(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "status") == 0)
        rc = cli_status(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "help") == 0) {
        fputs(top_help, stdout);
        rc = CLI_EXIT_OK;
    } else
        rc = cli_usage_error("", "unknown command \"%s\"", cmd);
    cli_disconnect(&ctx);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        perror("baobao: writing output");
        rc = CLI_EXIT_PROTOCOL;
    }
    return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
}
