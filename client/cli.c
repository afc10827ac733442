/*
 * cli.c: main() of `baobao`, the command-line client of baobaod.
 *
 * For: the global options, choosing the command, the top-level help with
 * the exit codes, and closing the connection at the end.
 * Not for: any one command (cli_server.c, cli_enterprise.c, cli_status.c,
 * cli_user.c) or where settings and credentials come from (cli_auth.c).
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static const char top_help[] =
    "Usage: baobao [--server HOST:PORT] [--user LOGIN] [--tls] [--ca FILE]\n"
    "              [--server-name NAME] [--json] [--timeout MS] COMMAND ...\n"
    "\n"
    "The command-line client of baobaod, the 包保 work server.\n"
    "\n"
    "Commands:\n"
    "  server info                        the server's version, limits and database state\n"
    "                                     (the only command that needs no login)\n"
    "  login                              check your credentials, print who you are\n"
    "  whoami                             the user you are logged in as\n"
    "  passwd                             change your own password\n"
    "  enterprise add|show|list|edit      enterprises (企业)\n"
    "  status submit|list                 status reports (走访 / 调度记录)\n"
    "  user create|get|list|update|disable|enable|set-password\n"
    "                                     user accounts (admins)\n"
    "  project|unit|official|assign ...   projects, units, officials, 包保 assignments\n"
    "  problem|trouble ...                problems (诉求), troubled enterprises (困难企业)\n"
    "  overdue, due                       what is late or falls due (traffic lights)\n"
    "  export run|list, import enterprises  nightly exports; bulk import from CSV\n"
    "  methods, call METHOD [--ARG V ...] the protocol's methods; call any of them\n"
    "Run 'baobao COMMAND --help' (e.g. 'baobao enterprise add --help') for a command's options.\n"
    "\n"
    "Global options (also accepted after the command):\n"
    "  --server HOST:PORT   the server (an IPv6 address as [ADDR]:PORT); default\n"
    "                       $BAOBAO_SERVER, then `server` in the config file, then\n"
    "                       " BB_CLIENT_DEFAULT_SERVER "\n"
    "  --user LOGIN         log in as LOGIN; default $BAOBAO_USER, then `user` in the\n"
    "                       config file\n"
    "  --tls                speak TLS (default $BAOBAO_TLS=1, then `tls = 1` in the\n"
    "                       config file); the server's certificate is verified\n"
    "  --ca FILE            PEM file of the CA(s) the server's certificate must chain\n"
    "                       to (implies --tls); default $BAOBAO_CA, then `ca`, then the\n"
    "                       system's CAs\n"
    "  --server-name NAME   the name the certificate must carry; default\n"
    "                       $BAOBAO_SERVER_NAME, then `server_name`, then the HOST of\n"
    "                       the server address\n"
    "  --json               print the server's result as JSON instead of text\n"
    "  --timeout MS         timeout for connecting and for each reply, in\n"
    "                       milliseconds (default 10000)\n"
    "  -h, --help           this help\n"
    "\n"
    "Logging in: every command but `server info` logs in first. The password comes\n"
    "from $BAOBAO_PASSWORD, else `password` in the config file, else a prompt on the\n"
    "terminal without echo; never from the command line. New passwords (passwd,\n"
    "user create, user set-password) are asked twice, or taken from\n"
    "$BAOBAO_NEW_PASSWORD. Precedence: flags > environment > config file > prompt.\n"
    "\n"
    "Config file: $BAOBAO_CONFIG, else $XDG_CONFIG_HOME/baobao/config, else\n"
    "~/.config/baobao/config (a missing default file is fine). Lines `key = value`,\n"
    "# comments; keys server, user, password, tls, ca, server_name. It is used only\n"
    "when it is a regular file of yours that nobody else may read (chmod 600).\n"
    "\n"
    "Writes carry an idempotency key (random unless --idempotency-key is given) and\n"
    "are retried once after timeout, connection_lost or unavailable: a retried write\n"
    "is never stored twice.\n"
    "\n"
    "Errors go to stderr as \"baobao: CODE: MESSAGE (field: FIELD)\".\n"
    "\n"
    "Exit codes:\n"
    "  0  success\n"
    "  1  the server refused the request: invalid_argument, invalid_utf8, not_found,\n"
    "     version_conflict, already_exists, idempotency_key_reused, unknown_method,\n"
    "     login_failed, locked, unauthenticated, forbidden, ...\n"
    "     (also when the client's own check refuses an argument before sending)\n"
    "  2  usage error: bad command line, a config file refused (config_error), no\n"
    "     user or password and no terminal to ask on (no_credentials)\n"
    "  3  could not reach the server or the database: connect_failed,\n"
    "     connection_lost, timeout, unavailable, shutting_down, tls_failed\n"
    "  4  protocol_error or internal (a bug on one side), out_of_memory\n";

int main(int argc, char **argv)
{
    cli_ctx ctx = { .server = NULL, .json = false, .timeout_ms = BB_CLIENT_DEFAULT_TIMEOUT_MS,
                    .color = -1 };
    int first;
    int rc = cli_parse_leading(&ctx, argc - 1, argv + 1, "", top_help, &first);
    if (rc == CLI_HELP_SHOWN)
        return CLI_EXIT_OK;
    if (rc != 0)
        return rc;
    first += 1;   /* index into argv */
    if (first >= argc)
        return cli_usage_error("", "missing command (server, login, whoami, passwd, "
                               "enterprise, status, user, project, unit, official, assign, "
                               "problem, trouble, overdue, due, export, import, call, methods)");
    const char *cmd = argv[first];
    int sub_argc = argc - first - 1;
    char **sub_argv = argv + first + 1;
    if (strcmp(cmd, "server") == 0)
        rc = cli_server(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "enterprise") == 0)
        rc = cli_enterprise(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "status") == 0)
        rc = cli_status(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "login") == 0)
        rc = cli_login(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "whoami") == 0)
        rc = cli_whoami(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "passwd") == 0)
        rc = cli_passwd(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "user") == 0)
        rc = cli_user(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "project") == 0)
        rc = cli_project(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "unit") == 0)
        rc = cli_unit(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "official") == 0)
        rc = cli_official(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "assign") == 0)
        rc = cli_assign(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "problem") == 0)
        rc = cli_problem(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "trouble") == 0)
        rc = cli_trouble(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "overdue") == 0)
        rc = cli_overdue(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "due") == 0)
        rc = cli_due(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "export") == 0)
        rc = cli_export(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "import") == 0)
        rc = cli_import(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "call") == 0)
        rc = cli_call_cmd(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "methods") == 0)
        rc = cli_methods(&ctx, sub_argc, sub_argv);
    else if (strcmp(cmd, "help") == 0) {
        fputs(top_help, stdout);
        rc = CLI_EXIT_OK;
    } else
        rc = cli_usage_error("", "unknown command \"%s\"", cmd);
    cli_ctx_free(&ctx);
    if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
        perror("baobao: writing output");
        rc = CLI_EXIT_PROTOCOL;
    }
    return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
}
