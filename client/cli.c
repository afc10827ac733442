/*
 * cli.c: main() of `baobao`, the command-line client of baobaod.
 *
 * For: choosing the language (--lang, before anything is printed), the
 * global options, choosing the command from cli_commands ("did you mean"
 * for a mistyped one), the top-level help with the commands, the exit
 * codes and the language, and closing the connection at the end.
 * Not for: any one command (cli_server.c, cli_enterprise.c, cli_user.c,
 * ...) or where settings and credentials come from (cli_auth.c).
 */
#include "cli.h"

#include "cli_outbox.h"
#include "cli_visits.h"
#include "i18n.h"
#include "suggest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cli_command cli_commands[] = {
    {"server", cli_server, cli_server_cmds},
    {"login", cli_login, NULL},
    {"logout", cli_logout, NULL},
    {"whoami", cli_whoami, NULL},
    {"passwd", cli_passwd, NULL},
    {"todo", cli_todo, NULL},
    {"visits", cli_visits, NULL},
    {"notices", cli_notices, NULL},
    {"notice", cli_notice, cli_notice_cmds},
    {"supervise", cli_supervise, NULL},
    {"history", cli_history, NULL},
    {"watch", cli_watch, NULL},
    {"enterprise", cli_enterprise, cli_enterprise_cmds},
    {"status", cli_status, cli_status_cmds},
    {"user", cli_user, cli_user_cmds},
    {"project", cli_project, cli_project_cmds},
    {"unit", cli_unit, cli_unit_cmds},
    {"official", cli_official, cli_official_cmds},
    {"assign", cli_assign, cli_assign_cmds},
    {"problem", cli_problem, cli_problem_cmds},
    {"trouble", cli_trouble, cli_trouble_cmds},
    {"overdue", cli_overdue, cli_overdue_cmds},
    {"due", cli_due, cli_due_cmds},
    {"audit", cli_audit, cli_audit_cmds},
    {"export", cli_export, cli_export_cmds},
    {"import", cli_import, NULL},
    {"outbox", cli_outbox, NULL},
    {"sync", cli_sync, NULL},
    {"call", cli_call_cmd, NULL},
    {"methods", cli_methods, NULL},
    {"completion", cli_completion, NULL},
    {NULL, NULL, NULL},
};

/* The top help's line of a command: how it is typed when that is not its
 * name and its subcommands (words), and what it is for. A command without
 * a row here is listed by its name alone. */
static const struct {
    const char *name, *words, *about;
} top_lines[] = {
    {"server", NULL, N_("version, limits, database state (no login)")},
    {"login", NULL, N_("log in once and keep a session")},
    {"logout", NULL, N_("end the session kept by login")},
    {"whoami", NULL, N_("the user you are logged in as")},
    {"passwd", NULL, N_("change your own password")},
    {"todo", NULL, N_("what is waiting for you")},
    {"visits", NULL, N_("which enterprises were visited this cycle, per township")},
    {"notices", NULL, N_("督办 notices: yours, by state, unanswered")},
    {"notice", "notice show|read|answer ID [NOTE] | notice stats", N_("one 督办 notice; counts by unit")},
    {"supervise", NULL, N_("run the supervision sweep now (lights, notices)")},
    {"history", "history --problem ID | --project ID --node N", N_("when an item turned green, yellow, red, done")},
    {"watch", "watch [--all]", N_("notices and light changes as they are issued")},
    {"enterprise", NULL, N_("enterprises (企业)")},
    {"status", NULL, N_("status reports (走访 / 调度记录)")},
    {"user", NULL, N_("user accounts (admins)")},
    {"project", NULL, N_("investment projects and their milestones")},
    {"unit", NULL, N_("units (单位)")},
    {"official", NULL, N_("officials (干部)")},
    {"assign", NULL, N_("包保 assignments and the gaps in them")},
    {"problem", NULL, N_("problems enterprises raise (诉求)")},
    {"trouble", NULL, N_("troubled enterprises (困难企业)")},
    {"overdue", NULL, N_("what is late (traffic lights)")},
    {"due", NULL, N_("what falls due soon")},
    {"audit", NULL, N_("who changed what and when")},
    {"export", NULL, N_("the nightly exports")},
    {"import", "import enterprises|status FILE.csv", N_("bulk import from a CSV file")},
    {"outbox", "outbox [--all] | outbox drop ID", N_("writes kept while the server was out of reach")},
    {"sync", NULL, N_("send the writes kept in the outbox")},
    {"call", "call METHOD [--ARG VALUE ...]", N_("call any method of the protocol")},
    {"methods", NULL, N_("the protocol's methods")},
    {"completion", "completion bash", N_("the bash completion script")},
};

/* Columns of the command words in the top help: longer words put what
 * they are for on the next line. */
#define TOP_WORDS_COLS 36

static const char top_usage[] = N_(
    "Usage: baobao [--lang zh|en] [--server HOST:PORT] [--user LOGIN] [--tls]\n"
    "              [--ca FILE] [--server-name NAME] [--json] [--timeout MS] COMMAND ...\n"
    "\n"
    "The command-line client of baobaod, the 包保 work server.\n"
    "\n"
    "Commands:\n");

static const char top_more[] =
    N_("Run 'baobao COMMAND --help' (e.g. 'baobao enterprise add --help') for a command's "
       "options.\n");

/* The rest of the top help, paragraph by paragraph. */
static const char *const top_rest[] = {
    N_("\n"
       "Logging in: `baobao login` asks for your password once and keeps a session on\n"
       "this computer, so later commands do not ask again until it expires or your\n"
       "password, role or townships change; `baobao logout` ends it. A password at\n"
       "hand comes first: $BAOBAO_PASSWORD, else `password` in the config file (login\n"
       "then keeps nothing). Without one, the kept session is used, else the password\n"
       "is asked on the terminal without echo; never from the command line. New\n"
       "passwords (passwd, user create, user set-password) are asked twice, or taken\n"
       "from $BAOBAO_NEW_PASSWORD. Precedence: flags > environment > config file >\n"
       "kept session > prompt. `server info` needs no login.\n"),
    N_("\n"
       "Config file: $BAOBAO_CONFIG, else $XDG_CONFIG_HOME/baobao/config, else\n"
       "~/.config/baobao/config (a missing default file is fine). Lines `key = value`,\n"
       "# comments; keys server, user, password, tls, ca, server_name. It is used only\n"
       "when it is a regular file of yours that nobody else may read (chmod 600).\n"),
    N_("\n"
       "Writes carry an idempotency key (random unless --idempotency-key is given) and\n"
       "are retried once after timeout, connection_lost or unavailable: a retried write\n"
       "is never stored twice.\n"),
    N_("\n"
       "Working offline: a write that still cannot reach the server is kept in the\n"
       "outbox on this computer (exit 5) and sent, once, by the next command that\n"
       "reaches the server, or by `baobao sync`; `baobao outbox` lists what waits.\n"),
    N_("\n"
       "Times are shown in the server's time zone. Errors go to stderr as\n"
       "\"baobao: CODE: MESSAGE (field: FIELD)\" (in Chinese: a sentence, then the code\n"
       "and field in brackets); a refused value is followed by the values allowed.\n"),
    N_("\n"
       "Exit codes:\n"
       "  0  success\n"
       "  1  the server refused the request: invalid_argument, invalid_utf8, not_found,\n"
       "     version_conflict, already_exists, idempotency_key_reused, unknown_method,\n"
       "     login_failed, locked, unauthenticated, forbidden, ...\n"
       "     (also when the client's own check refuses an argument before sending)\n"
       "  2  usage error: bad command line, a config file refused (config_error), the\n"
       "     saved logins file refused (session_file_error), no user or password and\n"
       "     no terminal to ask on (no_credentials)\n"
       "  3  could not reach the server or the database: connect_failed,\n"
       "     connection_lost, timeout, unavailable, shutting_down, tls_failed\n"
       "  4  protocol_error or internal (a bug on one side), out_of_memory\n"),
    N_("  5  the server could not be reached and the write is kept in the outbox\n"
       "     (queued): it is sent later; do not run it again\n"),
};

/* The line of command c in the top help. */
static void top_line(FILE *f, const cli_command *c)
{
    const char *words = NULL, *about = NULL;
    for (size_t i = 0; i < sizeof top_lines / sizeof top_lines[0]; i++)
        if (strcmp(top_lines[i].name, c->name) == 0) {
            words = top_lines[i].words;
            about = top_lines[i].about;
        }
    char w[256];
    if (words != NULL) {
        snprintf(w, sizeof w, "%s", words);
    } else {
        /* A group: its name and its subcommands ("status submit|list"). */
        size_t used = (size_t)snprintf(w, sizeof w, "%s", c->name);
        for (const cli_mech *m = c->subs; m != NULL && m->cmd != NULL && used < sizeof w; m++) {
            const char *sp = strchr(m->cmd, ' ');
            int n = snprintf(w + used, sizeof w - used, "%s%s", m == c->subs ? " " : "|",
                             sp != NULL ? sp + 1 : m->cmd);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (about == NULL)
        fprintf(f, "  %s\n", w);
    else if (strlen(w) + 2 < TOP_WORDS_COLS)
        fprintf(f, "  %-*s%s\n", TOP_WORDS_COLS - 2, w, _(about));
    else
        fprintf(f, "  %s\n  %-*s%s\n", w, TOP_WORDS_COLS - 2, "", _(about));
}

/* The top help in the chosen language (malloc'd; NULL on no memory). */
static char *top_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    fputs(_(top_usage), f);
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        top_line(f, c);
    fputs(_(top_more), f);
    /* The global options; %s is the default server. */
    fprintf(f, _("\n"
        "Global options (also accepted after the command):\n"
        "  --lang zh|en         the language of messages, help and table headers;\n"
        "                       default $BAOBAO_LANG, then the locale ($LC_ALL,\n"
        "                       $LC_MESSAGES, $LANG): zh_* is Chinese, else English\n"
        "  --server HOST:PORT   the server (an IPv6 address as [ADDR]:PORT); default\n"
        "                       $BAOBAO_SERVER, then `server` in the config file, then\n"
        "                       %s\n"
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
        "  --color WHEN         colour the traffic lights: auto (a terminal without\n"
        "                       $NO_COLOR), always or never\n"
        "  --timeout MS         timeout for connecting and for each reply, in\n"
        "                       milliseconds (default 10000)\n"
        "  -h, --help           this help\n"),
            BB_CLIENT_DEFAULT_SERVER);
    for (size_t i = 0; i < sizeof top_rest / sizeof top_rest[0]; i++)
        fputs(_(top_rest[i]), f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* The value of --lang, wherever it stands before "--" (NULL: none): the
 * language must be known before the first message, and global options
 * may follow the command. */
static const char *lang_option(int argc, char **argv)
{
    const char *lang = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc)
            lang = argv[++i];
        else if (strncmp(argv[i], "--lang=", 7) == 0)
            lang = argv[i] + 7;
    }
    return lang;
}

/* "unknown command" with the closest commands. */
static int unknown_command(const char *cmd)
{
    const char *names[sizeof cli_commands / sizeof cli_commands[0] + 1];
    size_t n = 0;
    for (const cli_command *c = cli_commands; c->name != NULL; c++)
        names[n++] = c->name;
    names[n++] = "help";
    char near[256];
    suggest_list(near, sizeof near, cmd, names, n);
    if (near[0] != '\0')
        return cli_usage_error("", _("unknown command \"%s\" (did you mean %s?)"), cmd, near);
    return cli_usage_error("", _("unknown command \"%s\""), cmd);
}

int main(int argc, char **argv)
{
    cli_ctx ctx = { .server = NULL, .json = false, .timeout_ms = BB_CLIENT_DEFAULT_TIMEOUT_MS,
                    .color = -1 };
    if (cli_i18n_init(lang_option(argc, argv)) != 0) {
        /* Said in the language the rest would choose. */
        cli_i18n_init(NULL);
        return cli_usage_error("", _("--lang must be zh or en"));
    }
    cli_print_init(&ctx);
    char *help = top_help();
    if (help == NULL)
        return cli_oom();
    int first;
    int rc = cli_parse_leading(&ctx, argc - 1, argv + 1, "", help, &first);
    first += 1;   /* index into argv */
    if (rc == 0 && first >= argc) {
        rc = cli_usage_error("", _("missing command (run 'baobao --help')"));
    } else if (rc == 0) {
        const char *cmd = argv[first];
        const cli_command *c = cli_commands;
        while (c->name != NULL && strcmp(c->name, cmd) != 0)
            c++;
        if (c->name != NULL) {
            rc = c->run(&ctx, argc - first - 1, argv + first + 1);
        } else if (strcmp(cmd, "help") == 0) {
            fputs(help, stdout);
            rc = CLI_EXIT_OK;
        } else {
            rc = unknown_command(cmd);
        }
    }
    free(help);
    cli_ctx_free(&ctx);
    if (fflush(stdout) != 0 && (rc == CLI_EXIT_OK || rc == CLI_HELP_SHOWN)) {
        perror("baobao: writing output");
        rc = CLI_EXIT_PROTOCOL;
    }
    return rc == CLI_HELP_SHOWN ? CLI_EXIT_OK : rc;
}
