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
    int color;             /* --color: -1 auto (a terminal, no $NO_COLOR), 0 never, 1 always */
} cli_ctx;

/* The longest password read or sent (PROTOCOL.md, session.login). */
#define BB_PASSWORD_MAX_BYTES 1024u

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
/* cli_parse_leading for a command that needs a word after its options
 * (what to import, the method to call): no word is the usage error
 * "missing" (e.g. "missing METHOD ..."). */
int cli_parse_word(cli_ctx *ctx, int argc, char **argv, const char *cmd, const char *help,
                   const char *missing, int *first);
/* Finds an option's result by name (must exist in opts). */
cli_opt *cli_get(cli_opt *opts, size_t nopts, const char *name);
/* Prints "baobao: MESSAGE" and "Try 'baobao CMD --help'." to stderr;
 * returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Integer arguments: 0 or CLI_EXIT_USAGE (message printed). */
int cli_int_arg(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
                int64_t *out);
/* Whether name ("--user") is a global option: those are matched before a
 * command's own, wherever they stand. */
bool cli_is_global(const char *name);
/* Prints "baobao: out_of_memory" to stderr; returns CLI_EXIT_PROTOCOL. */
int cli_oom(void);

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
/* Prints err to stderr and returns its exit code. English: "baobao: CODE:
 * MESSAGE (field: FIELD)"; Chinese: a sentence naming the field by its doc
 * in method's spec, then "[CODE FIELD]" (cli_error_text). When the server
 * refused a value of an argument with allowed values, a second line lists
 * them: the spec's, or the current ones of the reference data the argument
 * names (asked with ref.list on ctx's connection). method and ctx may be
 * NULL (the field is then looked up in every method; no ref.list). */
int cli_fail_in(cli_ctx *ctx, const char *method, const bb_error *err);
/* cli_fail_in(NULL, NULL, err). */
int cli_fail(const bb_error *err);
/* err as one line without "baobao: ": English its message, Chinese the
 * sentence and brackets of cli_fail_in (for a usage error's text). */
void cli_error_text(char *out, size_t cap, const char *method, const bb_error *err);
int cli_exit_code(const bb_error *err);
/* A fresh random idempotency key (a UUID v4, 36 characters). */
void cli_new_key(char out[37]);
void cli_disconnect(cli_ctx *ctx);

/* ---- output (cli_print.c) ---- */

/* Writes result as pretty JSON to stdout; CLI_EXIT_OK or CLI_EXIT_PROTOCOL. */
int cli_print_json(const msgpack_object *result);
/* Writes a rendered string to stdout and frees it; false on NULL (no memory). */
bool cli_put(char *s);
/* map[key] as a NUL-terminated string in buf ("" when absent or not a
 * str; cut at the buffer's size n >= 1); returns buf. For printers that
 * read a result themselves (todo, visits). */
const char *cli_map_str(const msgpack_object *map, const char *key, char *buf, size_t n);
/* map[key] as an integer; 0 when absent or not an integer. */
int64_t cli_map_int(const msgpack_object *map, const char *key);
/* The run's context (borrowed; main's, for the whole run), for printers
 * that need the server: times are shown in its time zone. */
void cli_print_init(cli_ctx *ctx);
/* Room for a time as shown ("2026-12-07 12:44:40" and its NUL). */
#define CLI_TIME_BUF 32
/* When s[0..len) is an instant as the wire sends it (RFC 3339:
 * YYYY-MM-DDTHH:MM:SS, optionally a fraction, then Z or +hh:mm / -hh:mm),
 * writes it to out as "YYYY-MM-DD HH:MM:SS" in the server's time_zone
 * (server.info, asked once per run, the first time one is needed) and
 * returns true. False for anything else, and when the zone is not known
 * (server.info failed, or the zone is not in this machine's zone
 * database): the text is then shown as it is. JSON output never uses it. */
bool cli_time_text(const char *s, size_t len, char out[CLI_TIME_BUF]);

/* Supervision's codes (PROTOCOL.md section 6, "Supervision: lights and
 * notices") as people read them, in the run's language; the code itself
 * when unknown (a newer server). One table each, so `notices`, `history`
 * and `watch` say the same words. cli_light_text("") is the first
 * evaluation (a light change with no from_light). */
const char *cli_light_text(const char *light);
const char *cli_level_text(const char *level);
const char *cli_state_text(const char *state);

/* ---- settings, credentials, passwords (cli_auth.c) ----
 *
 * Precedence everywhere: flags > environment > config file > a session
 * kept by `baobao login` (cli_session.h) > prompt.
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
/* The login the command names: --user, else $BAOBAO_USER, else `user` in
 * the config file (loaded); NULL when none. Borrowed. */
const char *cli_named_login(cli_ctx *ctx);
/* Whether a password for login is at hand without asking: $BAOBAO_PASSWORD,
 * or `password` in the config file when the file's user is login (or it
 * names none). */
bool cli_password_given(cli_ctx *ctx, const char *login);
/* Asks for a login on the terminal (echoed; spaces around it, U+3000
 * too, trimmed). *out owned. "no_credentials" naming the ways to give a
 * login when there is no terminal or nothing was typed. */
BBI_WUR int cli_prompt_login(cli_ctx *ctx, char **out, bb_error *err);
/* Fills err as BB_C_EARG "config_error" (exit 2) with the message;
 * returns BB_C_EARG. */
int cli_config_error(bb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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

/* ---- commands from the method spec (cli_spec.c) ---- */

/* A table column: the header and the key of the item it shows. */
typedef struct cli_col {
    const char *head;
    const char *key;
} cli_col;
/* Another option name for an argument: {"unit", "unit_id"} -> also --unit. */
typedef struct cli_alias {
    const char *opt;       /* without the leading "--": "unit" */
    const char *arg;
} cli_alias;
/* A flag that sends a fixed text: {"open", "open_only", "true"} is --open;
 * opt NULL: a preset, always sent, and the argument has no option. */
typedef struct cli_flag {
    const char *opt;
    const char *arg;
    const char *text;
} cli_flag;
/* How a key is shown (money is read by the packer, as every int is). */
typedef enum cli_fmt_kind {
    CLI_F_TEXT = 0,
    CLI_F_MONEY,   /* yuan: a record shows "1,234,567 元 (123.4567 万元)", a
                      table "1,234,567" */
    CLI_F_WAN,     /* as MONEY, but a table shows 万元 */
    CLI_F_CLIP,    /* a table cuts it to 30 columns */
} cli_fmt_kind;
typedef struct cli_fmt {
    const char *key;       /* NULL ends a list */
    cli_fmt_kind kind;
} cli_fmt;
/* The (name, text) arguments a mechanical command collected. */
typedef struct cli_mech_args cli_mech_args;
/* Sets (or replaces) argument name; text NULL = nil (borrowed until the
 * call). 0, or -1 when full. */
int cli_mech_set(cli_mech_args *t, const char *name, const char *text);
/* The same with a malloc'd text the run zeroes and frees (a password);
 * text is freed on failure too. 0 or -1. */
int cli_mech_own(cli_mech_args *t, const char *name, char *text);
/* The text of argument name ("" for nil; an array's first element), NULL
 * when not given. */
const char *cli_mech_get(const cli_mech_args *t, const char *name);

/* A mechanical command: calls one method and prints its record or page;
 * its options and help come from the method's spec. */
typedef struct cli_mech {
    const char *cmd;             /* "unit list"; NULL ends a table */
    const char *method;          /* "unit.list" */
    const char *pos, *pos2;      /* the arguments given as positional words, or NULL */
    const cli_alias *aliases;    /* {NULL}-ended, or NULL */
    const cli_flag *flags;       /* {NULL}-ended, or NULL */
    const cli_fmt *fmts;         /* {NULL}-ended, or NULL */
    const cli_col *cols;         /* a page's table; NULL: the first item's keys */
    size_t ncols;
    const char *about;           /* more help text, or NULL */
    /* Without --version: the method that reads the current one (called
     * with pos). */
    const char *version_from;
    /* The arguments that get an option (NULL-ended), when not all do:
     * user disable has no --role. pos and presets are never options. */
    const char *const *only;
    /* With version_from and presets: the record is always read first, and
     * when it already holds every preset nothing is sent; this is said on
     * stderr ("baobao: user 5 is already disabled: nothing sent") and the
     * record printed. */
    const char *same;
    /* Retried once after an unknown outcome like a write (BB_M_WRITE)
     * although the method carries no idempotency key: doing it twice is
     * harmless (user.set_password). */
    bool retry;
    /* Optional: supplies what the command finds itself (a password asked,
     * a login first), after the options are checked and before the call;
     * returns 0 or an exit code. */
    int (*fill)(cli_ctx *ctx, cli_mech_args *t);
    /* Optional: the server refused the call (err). Returns CLI_MECH_AGAIN
     * to send it once more, with t changed (an argument the user agreed to
     * on a terminal) and the same idempotency key (a refusal stored
     * nothing, so the key is free), or an exit code once it has said why (cli_fail_in). NULL:
     * cli_fail_in. (dup_confirm.h) */
    int (*refused)(cli_ctx *ctx, const struct cli_mech *m, cli_mech_args *t,
                   const bb_error *err);
    /* Optional: prints a result that is not a plain record (not with --json). */
    int (*print)(const msgpack_object *res);
    /* Optional: prints the items of every page (not with --json). */
    int (*print_items)(cli_ctx *ctx, const msgpack_object *items);
    /* A command that does more than call and print, listed in its group
     * (help: its method's summary): run instead of the above. */
    int (*run)(cli_ctx *ctx, int argc, char **argv);
} cli_mech;

/* What a `refused` hook returns to have the call sent once more. */
#define CLI_MECH_AGAIN (-101)

/* Runs m with the words after its name. Returns an exit code. */
int cli_mech_run(cli_ctx *ctx, const cli_mech *m, int argc, char **argv);
/* `baobao GROUP SUB ...` for a table of commands named "GROUP SUB"; the
 * group's help is intro and a line per command. */
int cli_mech_group(cli_ctx *ctx, const char *group, const char *intro, const cli_mech *subs,
                   int argc, char **argv);
/* The scalar keys (and arrays of scalars) of a map as "key: value" lines. */
bool cli_print_fields(const msgpack_object *map, const cli_fmt *fmts);
/* The items (maps) as a table of cols (NULL: the first item's keys). */
bool cli_print_table(const msgpack_object *items, const cli_col *cols, size_t ncols,
                     const cli_fmt *fmts);
struct bb_arg;   /* bb_spec.h */
/* Hands every option of m to each, exactly as cli_mech_run parses them:
 * the option (metavar NULL for a flag) and the argument it gives (NULL for
 * --all). Returns the count, or -1 (m's method not in the spec, no
 * memory). For the bash completion (cli_complete.c). */
int cli_mech_each_opt(const cli_mech *m,
                      void (*each)(void *data, const cli_opt *o, const struct bb_arg *arg),
                      void *data);
int cli_call_cmd(cli_ctx *ctx, int argc, char **argv);   /* baobao call */
int cli_methods(cli_ctx *ctx, int argc, char **argv);    /* baobao methods */

/* ---- commands ---- */

/* A word of `baobao WORD ...`: the top-level table (cli.c) that dispatch,
 * the top help, "did you mean" and the bash completion (cli_complete.c)
 * all read. */
typedef struct cli_command {
    const char *name;              /* "enterprise"; NULL ends the table */
    int (*run)(cli_ctx *ctx, int argc, char **argv);
    const cli_mech *subs;          /* a group's commands (cli_mech_group), or NULL */
} cli_command;
extern const cli_command cli_commands[];

/* The command tables of the groups (each in its file). */
extern const cli_mech cli_server_cmds[], cli_enterprise_cmds[], cli_status_cmds[],
    cli_user_cmds[], cli_project_cmds[], cli_unit_cmds[], cli_official_cmds[],
    cli_assign_cmds[], cli_problem_cmds[], cli_trouble_cmds[], cli_overdue_cmds[],
    cli_due_cmds[], cli_export_cmds[], cli_audit_cmds[];

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
int cli_logout(cli_ctx *ctx, int argc, char **argv);    /* cli_user.c */
int cli_audit(cli_ctx *ctx, int argc, char **argv);     /* cli_audit.c */
int cli_todo(cli_ctx *ctx, int argc, char **argv);      /* cli_todo.c */
int cli_notices(cli_ctx *ctx, int argc, char **argv);   /* cli_notice.c */
int cli_notice(cli_ctx *ctx, int argc, char **argv);    /* cli_notice.c */
extern const cli_mech cli_notice_cmds[];                /* cli_notice.c */
int cli_supervise(cli_ctx *ctx, int argc, char **argv); /* cli_supervise.c */
int cli_history(cli_ctx *ctx, int argc, char **argv);   /* cli_supervise.c */
int cli_watch(cli_ctx *ctx, int argc, char **argv);     /* cli_watch.c */
int cli_completion(cli_ctx *ctx, int argc, char **argv); /* cli_complete.c */

#endif
