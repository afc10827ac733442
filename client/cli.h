/*
 * cli.h: what the files of the `baobao` command share.
 *
 * For: the run context (global options, the connection), option parsing,
 * calling the server with the retry rule for writes, exit codes, output.
 * Not for: the library (baobao.h, client_int.h) or text layout (table.h,
 * json.h, money.h).
 */
#ifndef BB_CLI_H
#define BB_CLI_H

#include "baobao.h"
#include "client_int.h"
#include "user_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes (also in `baobao --help` and client/README.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REFUSED = 1,      /* the server (or the local check) refused the request */
    CLI_EXIT_USAGE = 2,        /* bad command line, config file or missing credentials */
    CLI_EXIT_UNREACHABLE = 3,  /* server or database not reachable */
    CLI_EXIT_PROTOCOL = 4,     /* protocol_error, internal, out of memory */
};

/* Returned by cli_parse when --help was asked for and printed. */
#define CLI_HELP_SHOWN (-100)

/* The settings of the config file (cli_auth.c). Strings owned; password
 * zeroed when freed. NULL: the file does not set the key. */
typedef struct cli_config {
    char *path;            /* the file read, NULL when none */
    char *server, *user, *password, *ca, *server_name;
    int tls;               /* -1 not set, 0, 1 */
} cli_config;

typedef struct cli_ctx {
    const char *server;    /* --server; NULL: $BAOBAO_SERVER, config, then the default */
    bool json;             /* --json */
    int timeout_ms;        /* --timeout */
    const char *user;      /* --user; NULL: $BAOBAO_USER, then config `user` */
    bool tls;              /* --tls (or implied by --ca) */
    const char *ca;        /* --ca FILE */
    const char *server_name; /* --server-name NAME */
    bool anonymous;        /* the command needs no login (server info) */
    bb_client *client;     /* owned; NULL until the first call */
    /* cli_auth.c */
    bool config_loaded;
    cli_config config;
    char *login;           /* owned: the login resolved by cli_credentials */
    char *password;        /* owned, zeroed when freed: the login's password */
    bb_reply *login_reply; /* owned: the reply of the last session.login */
} cli_ctx;

/* ---- options (cli_opts.c) ---- */

typedef struct cli_opt {
    const char *name;        /* "--name" */
    const char *metavar;     /* NULL for a flag */
    bool repeatable;
    /* results */
    int count;
    const char *value;       /* the last value */
    const char **values;     /* every value (repeatable only; owned by cli_parse's caller
                                through cli_opts_free) */
    size_t nvalues;
} cli_opt;

/*
 * Parses argv[0..argc) (the words after the command) against opts, also
 * accepting the global options (--server, --json, --timeout, --user, --tls,
 * --ca, --server-name) anywhere.
 * Positional words go to pos (at most maxpos). "--opt value" and
 * "--opt=value" both work; "--" ends options. -h/--help prints help (to
 * stdout) and returns CLI_HELP_SHOWN. A usage error is printed to stderr
 * with a pointer to `cmd --help` and returns CLI_EXIT_USAGE. Returns 0.
 */
int cli_parse(cli_ctx *ctx, int argc, char **argv, cli_opt *opts, size_t nopts,
              const char **pos, size_t maxpos, size_t *npos, const char *cmd,
              const char *help);
void cli_opts_free(cli_opt *opts, size_t nopts);
/* Parses the options before a command or subcommand word (only global
 * options and -h/--help are allowed there); *first receives the index of
 * the first word that is not an option (argc when none). Returns 0,
 * CLI_HELP_SHOWN or CLI_EXIT_USAGE. */
int cli_parse_leading(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                      int *first);
/* Finds an option's result by name (must exist in opts). */
cli_opt *cli_get(cli_opt *opts, size_t nopts, const char *name);
/* Prints "baobao: MESSAGE" and "Try 'baobao CMD --help'." to stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Integer arguments: 0 or CLI_EXIT_USAGE (message printed). */
int cli_int_arg(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                int64_t *out);
/* A money argument ("1234567", "123.45万", "3亿元"): 0 or CLI_EXIT_USAGE. */
int cli_money_arg(const char *cmd, const char *opt, const char *s, int64_t *out);

/* ---- calling (cli_call.c) ---- */

/* Connects when not connected (bb_connect_with, TLS settings from
 * cli_settings), then, unless ctx->anonymous, logs in with the credentials
 * of cli_credentials (asking for the password first when needed), keeping
 * the login's reply in ctx->login_reply. A failed login closes the
 * connection. */
BBI_WUR int cli_connect(cli_ctx *ctx, bb_error *err);
/*
 * Calls method with args (NULL for []). When is_write, a failure that may
 * have left the request done or undone (timeout, connection_lost,
 * unavailable) is retried once on a new connection with the same bytes,
 * hence the same idempotency key. *out is the reply (owned) on success.
 */
BBI_WUR int cli_call(cli_ctx *ctx, const char *method, const bbi_args *args, bool is_write,
                     bb_reply **out, bb_error *err);
/* Prints "baobao: CODE: MESSAGE (field: FIELD)" to stderr and returns the
 * exit code for err. */
int cli_fail(const bb_error *err);
int cli_exit_code(const bb_error *err);
/* A fresh random idempotency key (a UUID v4, 36 characters). */
void cli_new_key(char out[37]);
void cli_disconnect(cli_ctx *ctx);

/* ---- paging a list (cli_call.c) ---- */

/* How one list method paged by an integer id cursor is asked and kept: the
 * command fills it in, cli_page runs the loop. self is the command's own
 * state (borrowed). */
typedef struct cli_pager {
    const char *method;   /* called, and named in the protocol error */
    /* Packs the arguments of one page into a (initialised, empty). after is
     * the cursor: the --after value on the first page (has_after: whether
     * one was given), then the previous page's next. */
    int (*pack)(void *self, bbi_args *a, int64_t after, bool has_after, bb_error *err);
    /* Decodes and keeps the reply r of the page asked with after: takes r
     * on success, leaves it on failure. *next is the page's next (0: the
     * last page). */
    int (*keep)(void *self, bb_reply *r, int64_t after, int64_t *next, bb_error *err);
} cli_pager;

/*
 * Calls pg->method once, or when all page after page until next is 0,
 * refusing (BB_C_EPROTO) a next that does not move past after, which would
 * loop for ever. *next is the last page's next. Returns BB_C_OK or the
 * first failure (err filled); the pages kept so far stay with self.
 */
BBI_WUR int cli_page(cli_ctx *ctx, const cli_pager *pg, void *self, int64_t after,
                     bool has_after, bool all, int64_t *next, bb_error *err);

/* ---- output (cli_print.c) ---- */

/* Writes result as pretty JSON to stdout; CLI_EXIT_OK or CLI_EXIT_PROTOCOL. */
int cli_print_json(const msgpack_object *result);
/* A NUL-terminated copy of s[0..n) (malloc'd; NULL when out of memory).
 * For msgpack strs, which are not NUL-terminated and may end exactly at
 * the end of a reply's buffer: strndup may look one byte past them. */
char *cli_dup_n(const char *s, size_t n);
void cli_print_server_info(const bb_server_info *i);
void cli_print_enterprise(const bb_enterprise *e);
void cli_print_enterprises(const bb_enterprise *items, size_t n);
void cli_print_status_report(const bb_status_report *r);
void cli_print_status_reports(const bb_status_report *items, size_t n);
/* Writes a rendered string to stdout and frees it; false on NULL (no memory). */
bool cli_put(char *s);

/* The replies of a paged list command (`--all`), kept (owned) so that
 * `--json --all` prints the server's own items rather than a re-encoding.
 * Zero-initialise; free with cli_replies_free. */
typedef struct cli_replies {
    bb_reply **r;
    size_t n, cap;
} cli_replies;
/* Takes r (owned from now on). BB_C_OK, or BB_C_ENOMEM (r not taken). */
BBI_WUR int cli_replies_add(cli_replies *rs, bb_reply *r, bb_error *err);
void cli_replies_free(cli_replies *rs);
/* Appends n items of size bytes each from src to the growing array *items
 * of *nitems (the pages of a list, item type aside). Returns 0, or
 * BB_C_ENOMEM with err filled; on failure *items is unchanged. */
BBI_WUR int cli_items_append(void **items, size_t *nitems, const void *src, size_t n,
                             size_t size, bb_error *err);
/* Prints {"items": [every reply's items, in order], "next": null} as JSON.
 * Each reply's result must be a map with an "items" array (decoded once
 * already). CLI_EXIT_OK or CLI_EXIT_PROTOCOL. */
int cli_print_all_json(const cli_replies *rs);

void cli_print_user(const bb_user *u);
void cli_print_users(const bb_user *items, size_t n);

/* ---- settings, credentials, passwords (cli_auth.c) ----
 *
 * Precedence everywhere: flags > environment > config file > prompt.
 * Config file: $BAOBAO_CONFIG, else $XDG_CONFIG_HOME/baobao/config, else
 * ~/.config/baobao/config; `key = value` lines, # comments; keys server,
 * user, password, tls, ca, server_name. It is refused unless it is a
 * regular file owned by the caller with no group or other permission bits.
 * Failures here are BB_C_EARG with code "config_error" or
 * "no_credentials", which cli_exit_code maps to CLI_EXIT_USAGE.
 */

/* Loads the config file once. */
BBI_WUR int cli_config_load(cli_ctx *ctx, bb_error *err);
/* The server and the connect options after precedence. */
BBI_WUR int cli_settings(cli_ctx *ctx, const char **server, bb_connect_opts *opts,
                         bb_error *err);
/* Resolves ctx->login and ctx->password once (prompting on the terminal
 * for the password when no other source gives it). */
BBI_WUR int cli_credentials(cli_ctx *ctx, bb_error *err);
/* Reads a password on /dev/tty without echo, after prompt. *out is owned
 * (free with cli_password_free). "no_credentials" when there is no
 * terminal: what says what the password was for, and env the variable
 * that could give it instead. */
BBI_WUR int cli_prompt_password(const char *prompt, const char *what, const char *env,
                                char **out, bb_error *err);
/* A new password for what: $BAOBAO_NEW_PASSWORD, else asked twice on the
 * terminal (the two must match). */
BBI_WUR int cli_new_password(const char *what, char **out, bb_error *err);
/* Zeroes and frees a password (NULL allowed). */
void cli_password_free(char *pw);
/* Frees what ctx owns (closes the connection, zeroes the password). */
void cli_ctx_free(cli_ctx *ctx);

/* ---- commands ---- */

int cli_server(cli_ctx *ctx, int argc, char **argv);
int cli_enterprise(cli_ctx *ctx, int argc, char **argv);
int cli_status(cli_ctx *ctx, int argc, char **argv);
int cli_login(cli_ctx *ctx, int argc, char **argv);
int cli_whoami(cli_ctx *ctx, int argc, char **argv);
int cli_passwd(cli_ctx *ctx, int argc, char **argv);
int cli_user(cli_ctx *ctx, int argc, char **argv);
int cli_project(cli_ctx *ctx, int argc, char **argv);   /* cli_project.c */
int cli_unit(cli_ctx *ctx, int argc, char **argv);      /* cli_official.c */
int cli_official(cli_ctx *ctx, int argc, char **argv);  /* cli_official.c */
int cli_assign(cli_ctx *ctx, int argc, char **argv);    /* cli_official.c */
int cli_problem(cli_ctx *ctx, int argc, char **argv);   /* cli_problem.c */
int cli_trouble(cli_ctx *ctx, int argc, char **argv);   /* cli_problem.c */
int cli_overdue(cli_ctx *ctx, int argc, char **argv);   /* cli_overdue.c */
int cli_due(cli_ctx *ctx, int argc, char **argv);       /* cli_overdue.c */
int cli_export(cli_ctx *ctx, int argc, char **argv);    /* cli_export.c */
int cli_import(cli_ctx *ctx, int argc, char **argv);    /* cli_import.c */

#endif
