/*
 * cli_call.c: how `baobao` talks to the server: connecting, calling, the
 * one retry of a write, idempotency keys, what an error means as an exit
 * code.
 *
 * For: the rule that makes a retried write safe: every write carries an
 * idempotency key (random unless --idempotency-key gave one), and when its
 * outcome is unknown (timeout, connection_lost, unavailable) it is sent
 * again once, on a new connection, with the same bytes and so the same
 * key: the server then returns the first result instead of storing twice.
 * Every connection (the retry's too) logs in first, except for the commands
 * that need no login (server info): the server answers nothing else before.
 * A write that still cannot reach the server is kept in the outbox
 * (cli_outbox.h; exit CLI_EXIT_QUEUED), and once a connection has logged
 * in, what waits in the outbox is sent first.
 * Also what an error says to a person (cli_fail: a sentence in the user's
 * language, the values allowed) and means as an exit code.
 * Not for: building arguments or printing results (the command files), or
 * where the credentials come from (cli_auth.c).
 */
#include "cli.h"
#include "cli_outbox.h"
#include "cli_session.h"

#include "i18n.h"

#include "bb_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CLI_RETRY_PAUSE_MS 300   /* before the one retry of a write */
/* Bytes of an error's sentence (cli_error_text). */
#define CLI_SENTENCE_BYTES 1024

/* session.login on the fresh connection; keeps the reply (the User) for
 * `baobao login`. */
static int login(cli_ctx *ctx, bb_error *err)
{
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "login", ctx->login);
    bbi_kv_str(&k, "password", ctx->password);
    bb_reply *r = NULL;
    int rc = bbi_call_kvs(ctx->client, "session.login", &k, &r, err);
    if (rc == BB_C_OK)
        rc = bbi_want_map(bb_reply_result(r), "session.login result", err);
    if (rc != BB_C_OK) {
        bb_reply_free(r);
        return rc;
    }
    bb_reply_free(ctx->login_reply);
    ctx->login_reply = r;
    return BB_C_OK;
}

int cli_connect(cli_ctx *ctx, bb_error *err)
{
    if (ctx->client != NULL)
        return BB_C_OK;
    const char *server;
    bb_connect_opts opts;
    int rc = cli_settings(ctx, &server, &opts, err);
    /* A session kept by `baobao login`, when no password is at hand
     * (cli_session.h): logged in without asking. One the server refuses
     * is forgotten, and the password asked for as below. */
    if (rc == BB_C_OK && !ctx->anonymous) {
        rc = cli_session_resume(ctx, server, &opts, err);
        if (rc == BB_C_OK)
            cli_outbox_send_waiting(ctx, server);
        if (rc == BB_C_OK || rc != CLI_SAVED_NONE)
            return rc;
        rc = BB_C_OK;
    }
    /* The password is asked for before connecting, so the server does not
     * wait on a person typing. */
    if (rc == BB_C_OK && !ctx->anonymous)
        rc = cli_credentials(ctx, err);
    if (rc != BB_C_OK)
        return rc;
    ctx->client = bb_connect_with(server, &opts, err);
    if (ctx->client == NULL)
        return err->rc;
    bb_set_timeout(ctx->client, ctx->timeout_ms);
    if (!ctx->anonymous && (rc = login(ctx, err)) != BB_C_OK) {
        cli_disconnect(ctx);
        return rc;
    }
    /* What waits in the outbox goes before the command's own request. */
    if (!ctx->anonymous)
        cli_outbox_send_waiting(ctx, server);
    return BB_C_OK;
}

void cli_disconnect(cli_ctx *ctx)
{
    bb_close(ctx->client);
    ctx->client = NULL;
}

/* The outcomes after which a write may or may not have been done. */
static bool outcome_unknown(const bb_error *err)
{
    return err->rc == BB_C_ETIMEOUT ||
           (err->rc == BB_C_EIO && strcmp(err->code, "connection_lost") == 0) ||
           (err->rc == BB_C_ESERVER && strcmp(err->code, "unavailable") == 0);
}

int cli_call(cli_ctx *ctx, const char *method, const bbi_args *args, bool is_write,
             bb_reply **out, bb_error *err)
{
    *out = NULL;
    const void *data = args != NULL ? args->sb.data : NULL;
    size_t len = args != NULL ? args->sb.size : 0;
    /* Whether the request may have reached the server: then a copy kept
     * in the outbox must be the same bytes. */
    bool maybe_sent = false;
    for (int attempt = 0;; attempt++) {
        int rc = cli_connect(ctx, err);
        if (rc == BB_C_OK) {
            maybe_sent = true;
            rc = bb_call(ctx->client, method, data, len, out, err);
        }
        if (rc == BB_C_OK || !is_write)
            return rc;
        if (attempt > 0 || !outcome_unknown(err))
            return cli_outbox_keep(ctx, method, args, maybe_sent, err);
        if (cli_lang_zh()) {
            /* The sentence of the error ("...[timeout]"), as cli_fail says it. */
            char why[CLI_SENTENCE_BYTES + sizeof err->message + 128];
            cli_error_text(why, sizeof why, method, err);
            fprintf(stderr, _("baobao: %s; retrying once with the same idempotency key\n"), why);
        } else {
            /* English keeps the wire's words, as cli_fail_in does. */
            fprintf(stderr, "baobao: %s: %s; retrying once with the same idempotency key\n",
                    err->code, err->message);
        }
        cli_disconnect(ctx);
        /* After a timeout we already waited; otherwise give a restarting
         * server or database a moment rather than failing twice at once. */
        if (err->rc != BB_C_ETIMEOUT) {
            struct timespec ts = { .tv_sec = 0, .tv_nsec = CLI_RETRY_PAUSE_MS * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

int cli_exit_code(const bb_error *err)
{
    /* A write kept in the outbox (cli_outbox.h): not stored yet, and not
     * to be retried by hand either. */
    if (strcmp(err->code, "queued") == 0)
        return CLI_EXIT_QUEUED;
    switch (err->rc) {
    case BB_C_OK:
        return CLI_EXIT_OK;
    case BB_C_ETIMEOUT:
    case BB_C_EIO:
        return CLI_EXIT_UNREACHABLE;
    case BB_C_EARG:
        /* A bad --server / $BAOBAO_SERVER, config file, saved sessions
         * file or missing credentials are a bad command line, not a
         * refused request. */
        if (strcmp(err->field, "server") == 0 || strcmp(err->code, "config_error") == 0 ||
            strcmp(err->code, "session_file_error") == 0 ||
            strcmp(err->code, "outbox_file_error") == 0 ||
            strcmp(err->code, "no_credentials") == 0)
            return CLI_EXIT_USAGE;
        return CLI_EXIT_REFUSED;
    case BB_C_ESERVER:
        if (strcmp(err->code, "unavailable") == 0 || strcmp(err->code, "shutting_down") == 0)
            return CLI_EXIT_UNREACHABLE;
        if (strcmp(err->code, "internal") == 0)
            return CLI_EXIT_PROTOCOL;
        return CLI_EXIT_REFUSED;
    default:   /* BB_C_EPROTO, BB_C_ENOMEM */
        return CLI_EXIT_PROTOCOL;
    }
}

/* ---- errors as sentences ----
 *
 * English keeps the wire's words: "baobao: CODE: MESSAGE (field: FIELD)".
 * Chinese says what happened in a plain sentence, naming the field by its
 * doc in the method spec (报告日期 for report_date), and ends with the code
 * and field in brackets, for whoever supports the user:
 * "baobao: 报告日期不能晚于今天。[invalid_argument report_date]". The
 * server's message is English; the sentence comes from its code and, for
 * invalid_argument, from the shape of the message (the argument checks of
 * the spec and the database say a few things in fixed words); a message of
 * another shape is shown in the brackets, after the code. In both languages
 * a refused value is followed by the values allowed: the spec's, or the
 * current ones of the reference data it names (ref.list). */

/* Values of the reference data listed at most. */
#define CLI_ALLOWED_MAX 60

/* The argument a field names ("labels[2]" names labels) in method, else
 * in any method of the spec; NULL when none. */
static const bb_arg *field_arg(const char *method, const char *field)
{
    size_t len = strcspn(field, "[.");
    if (len == 0)
        return NULL;
    const bb_method_spec *ms = method != NULL ? bb_spec_find(method, strlen(method)) : NULL;
    const bb_arg *a = ms != NULL ? bb_spec_arg(ms, field, len) : NULL;
    for (size_t i = 0; a == NULL && bb_spec_tables[i] != NULL; i++)
        for (const bb_method_spec *m = bb_spec_tables[i]; a == NULL && m->name != NULL; m++)
            a = bb_spec_arg(m, field, len);
    return a;
}

/* What a person calls the field: its doc up to the first clause mark
 * ("报告日期：不早于 …" is 报告日期), else the field as sent. */
static void field_name(char *out, size_t cap, const bb_arg *a, const char *field)
{
    static const char *const marks[] = {"：", "；", "，", ":", ";", ","};
    const char *doc = a != NULL && a->doc != NULL && a->doc[0] != '\0' ? a->doc : NULL;
    if (doc == NULL) {
        snprintf(out, cap, "%s", field);
        return;
    }
    size_t len = strlen(doc);
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        const char *m = strstr(doc, marks[i]);
        if (m != NULL && (size_t)(m - doc) < len)
            len = (size_t)(m - doc);
    }
    snprintf(out, cap, "%.*s", (int)(len > 0 ? len : strlen(doc)), doc);
}

/* Matches text against pat, where each '*' stands for one or more bytes
 * (the shortest that lets the rest match); the parts go to parts[at..]
 * (at most 3, each cut to 127 bytes). */
static bool match(const char *pat, const char *text, char parts[][128], int at)
{
    if (*pat == '\0')
        return *text == '\0';
    if (*pat == '*') {
        for (size_t n = 1; text[n - 1] != '\0'; n++)
            if (match(pat + 1, text + n, parts, at + 1)) {
                if (at < 3)
                    snprintf(parts[at], 128, "%.*s", (int)n, text);
                return true;
            }
        return false;
    }
    return *pat == *text && match(pat + 1, text + 1, parts, at);
}

/* Writes template t into out: {field} the field's name, {name} the field
 * as sent, {1} {2} {3} the parts matched. Braces let a translation put
 * them in any order. */
static void fill(char *out, size_t cap, const char *t, const char *field, const char *raw,
                 char parts[][128])
{
    size_t used = 0;
    out[0] = '\0';
    while (*t != '\0' && used + 1 < cap) {
        const char *sub = NULL;
        size_t skip = 0;
        if (strncmp(t, "{field}", 7) == 0) {
            sub = field;
            skip = 7;
        } else if (strncmp(t, "{name}", 6) == 0) {
            sub = raw;
            skip = 6;
        } else if (t[0] == '{' && t[1] >= '1' && t[1] <= '3' && t[2] == '}') {
            sub = parts[t[1] - '1'];
            skip = 3;
        }
        if (sub != NULL) {
            int w = snprintf(out + used, cap - used, "%s", sub);
            used += w > 0 ? (size_t)w : 0;
            t += skip;
        } else {
            out[used++] = *t++;
            out[used] = '\0';
        }
    }
    if (used >= cap)
        out[cap - 1] = '\0';
}

/* The shapes of the invalid_argument messages the spec's checks
 * (server/engine/args.c), the database and the client's packer write
 * after "FIELD: ", and the sentence each becomes. First match wins. */
static const struct {
    const char *pat;
    const char *text;
} arg_says[] = {
    /* TRANSLATORS: {field} is the field's name (its doc), {name} the field
     * as sent, {1} {2} {3} the parts the '*' of the English message
     * matched; keep the braces, in any order. */
    {"required", N_("Fill in {field}.")},
    {"required (nil given)", N_("Fill in {field}.")},
    {"must not be empty", N_("{field} must not be empty.")},
    {"must not be nil (leave it out instead)", N_("{field} cannot be cleared.")},
    {"cannot be cleared (nil)", N_("{field} cannot be cleared.")},
    {"at most * characters (got *)",
     N_("{field} is too long: at most {1} characters ({2} given).")},
    {"at most * bytes (got *)", N_("{field} is too long: at most {1} bytes ({2} given).")},
    {"* to * characters (got *)", N_("{field} must have {1} to {2} characters ({3} given).")},
    {"* to * bytes (got *)", N_("{field} must have {1} to {2} bytes ({3} given).")},
    {"must not contain control characters",
     N_("{field} must not contain line breaks, tabs or other control characters.")},
    {"must be a date string YYYY-MM-DD", N_("{field} must be a date, such as 2026-12-05.")},
    {"must be a date YYYY-MM-DD", N_("{field} must be a date, such as 2026-12-05.")},
    {"* is not a calendar date", N_("{field}: {1} is not a date of the calendar.")},
    {"* is after today (*)", N_("{field} cannot be later than today.")},
    {"* is before today (*)", N_("{field} cannot be earlier than today.")},
    {"* is before the start of the period (*)",
     N_("{field} cannot be earlier than the start of the period ({2}).")},
    {"* is before *", N_("{field} cannot be earlier than {2}.")},
    {"must be an integer", N_("{field} must be a whole number.")},
    {"out of range *..*", N_("{field} must be between {1} and {2}.")},
    {"must be one of: *", N_("{field} is not one of the allowed values.")},
    {"must be one of *", N_("{field} is not one of the allowed values.")},
    {"must be an array of strings", N_("{field} must be a list of texts.")},
    {"at most * items (got *)", N_("{field} has too many items: at most {1} ({2} given).")},
    {"duplicate of *", N_("{field} repeats a value given before.")},
    {"must be true or false", N_("{field} must be true or false.")},
    {"unknown argument", N_("There is no argument {name}.")},
    {"given twice", N_("{field} was given twice.")},
    {"the * * is retired", N_("{field}: {2} is no longer in use.")},
    {"unknown * * (the list of them is empty)", N_("{field}: there are no values to choose yet.")},
    {"unknown township *", N_("{field}: there is no township {1}.")},
    {"unknown industry cluster *", N_("{field}: there is no industry cluster {1}.")},
    {"* is not one of your townships", N_("{1} is not one of your townships.")},
    {"not valid UTF-8", N_("{field} holds bytes that are not text (not UTF-8).")},
    /* The credit code's own rules (proto/bb_creditcode.c). */
    {"must be 18 characters", N_("{field} must have 18 characters.")},
    {"only 0-9 and upper-case A-Z without I, O, S, V, Z are allowed",
     N_("{field} may hold only 0-9 and capital letters A-Z except I, O, S, V and Z.")},
    {"1st character must be 1-9, A, N or Y and 2nd a digit 1-9",
     N_("{field}: the 1st character must be 1-9, A, N or Y, the 2nd a digit 1-9.")},
    {"characters 3-8 must be a region code starting with a province code",
     N_("{field}: characters 3 to 8 must be a region code (starting with a province's).")},
    {"check character does not match",
     N_("{field}: the last character (the check character) does not match; check for a "
        "typo.")},
    /* The client's own reading of forgiving input (input.c, args.c). */
    {"\"*\" is not a number: separators go between groups of three digits (e.g. *)",
     N_("{field}: \"{1}\" is not a number: a comma may only separate groups of three digits "
        "(e.g. {2}).")},
    {"\"*\" is not a number (e.g. *)", N_("{field}: \"{1}\" is not a number (e.g. {2}).")},
    {"not a number (e.g. *)", N_("{field} must be a number (e.g. {1}).")},
    {"\"*\" is not a whole number", N_("{field}: \"{1}\" is not a whole number.")},
    {"\"*\" is not a whole number: *", N_("{field}: \"{1}\" is not a whole number.")},
    {"\"*\" is too large", N_("{field}: \"{1}\" is too large.")},
    {"\"*\" is not a date (e.g. *)", N_("{field}: \"{1}\" is not a date (e.g. {2}).")},
    {"not a date (e.g. *)", N_("{field} must be a date (e.g. {1}).")},
    {"\"*\" is not yes or no (*)", N_("{field}: \"{1}\" is neither yes nor no ({2}).")},
};

/* The sentence of each code: with a field, without one, and whether the
 * message is worth showing after it (it names something the sentence
 * cannot: an address, a file, a reason). */
static const struct {
    const char *code;
    const char *with_field, *plain;
    bool details;
} code_says[] = {
    {"invalid_argument", N_("{field} is not right."), N_("The request is not right."), true},
    {"invalid_utf8", N_("{field} holds bytes that are not text (not UTF-8)."),
     N_("The request holds bytes that are not text (not UTF-8)."), false},
    {"not_found", N_("No record found for {field} (or it is not yours to see)."),
     N_("No such record (or it is not yours to see)."), false},
    {"version_conflict", N_("Someone changed this record after you read it: show it again, "
                            "then redo your change."),
     N_("Someone changed this record after you read it: show it again, then redo your "
        "change."), false},
    {"already_exists", N_("This {field} exists already."), N_("This record exists already."),
     false},
    {"duplicate_report",
     N_("This enterprise already has a report of that date by that reporter: correct or "
        "withdraw that one instead."),
     N_("This enterprise already has a report of that date by that reporter: correct or "
        "withdraw that one instead."), false},
    {"idempotency_key_reused",
     N_("This idempotency key was already used for a different request."),
     N_("This idempotency key was already used for a different request."), false},
    {"unknown_method",
     N_("The server does not know this request: client and server versions differ."),
     N_("The server does not know this request: client and server versions differ."), true},
    {"unauthenticated", N_("You are not logged in (or your session ended): run 'baobao login'."),
     N_("You are not logged in (or your session ended): run 'baobao login'."), false},
    {"forbidden", N_("Your account may not do this."), N_("Your account may not do this."), true},
    {"login_failed", N_("Wrong user name or password."), N_("Wrong user name or password."),
     false},
    {"locked", N_("Too many failed logins: the account is locked for a while; try again later."),
     N_("Too many failed logins: the account is locked for a while; try again later."), true},
    {"unavailable", N_("The database cannot be reached just now; try again in a moment."),
     N_("The database cannot be reached just now; try again in a moment."), false},
    {"shutting_down", N_("The server is shutting down; try again in a moment."),
     N_("The server is shutting down; try again in a moment."), false},
    {"internal", N_("The server ran into an internal error: tell your technician what the "
                    "brackets say."),
     N_("The server ran into an internal error: tell your technician what the brackets say."),
     true},
    {"malformed_message", N_("The server refused the request as malformed."),
     N_("The server refused the request as malformed."), true},
    {"message_too_large", N_("The request is too large for the server."),
     N_("The request is too large for the server."), true},
    {"nesting_too_deep", N_("The server refused the request as malformed."),
     N_("The server refused the request as malformed."), true},
    {"too_many_in_flight", N_("Too many requests at once; try again in a moment."),
     N_("Too many requests at once; try again in a moment."), false},
    {"connect_failed", N_("Cannot reach the server."), N_("Cannot reach the server."), true},
    {"connection_lost", N_("The connection to the server was lost."),
     N_("The connection to the server was lost."), true},
    {"timeout", N_("The server did not answer in time."), N_("The server did not answer in time."),
     true},
    {"tls_failed", N_("The encrypted connection (TLS) could not be set up."),
     N_("The encrypted connection (TLS) could not be set up."), true},
    {"protocol_error", N_("The server's answer breaks the protocol (a bug on one side)."),
     N_("The server's answer breaks the protocol (a bug on one side)."), true},
    {"out_of_memory", N_("Out of memory."), N_("Out of memory."), false},
    {"config_error", N_("The config file cannot be used."),
     N_("The config file cannot be used."), true},
    {"session_file_error", N_("The file of saved logins cannot be used."),
     N_("The file of saved logins cannot be used."), true},
    {"no_credentials", N_("No user name or password, and no terminal to ask on."),
     N_("No user name or password, and no terminal to ask on."), true},
    {"outbox_file_error", N_("The outbox file cannot be used."),
     N_("The outbox file cannot be used."), true},
    {"outbox_full", N_("The outbox is full."), N_("The outbox is full."), true},
};

/* The client's own errors (cli_auth.c, cli_session.c), whose messages are
 * translated where they are made and say more than the code's sentence
 * could ("the two new passwords differ" is no_credentials too; a bad
 * $BAOBAO_TLS is config_error without any config file): the message is
 * the sentence. */
static bool own_words(const char *code)
{
    static const char *const own[] = {"config_error", "session_file_error", "no_credentials",
                                      "queued", "outbox_file_error", "outbox_full",
                                      "outbox_busy"};
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (strcmp(code, own[i]) == 0)
            return true;
    return false;
}

/* The message after "FIELD: " (the server's messages mostly start so). */
static const char *reason(const bb_error *err)
{
    size_t fl = strlen(err->field);
    if (fl > 0 && strncmp(err->message, err->field, fl) == 0 && err->message[fl] == ':' &&
        err->message[fl + 1] == ' ')
        return err->message + fl + 2;
    return err->message;
}

/* The Chinese sentence of err; *details: whether the message should be
 * shown too (it names something the sentence does not). */
static void sentence(char *out, size_t cap, const char *method, const bb_error *err,
                     bool *details)
{
    char name[256], parts[3][128] = {"", "", ""};
    const bb_arg *a = err->field[0] != '\0' ? field_arg(method, err->field) : NULL;
    field_name(name, sizeof name, a, err->field);
    *details = true;
    if (strcmp(err->code, "invalid_argument") == 0 || strcmp(err->code, "invalid_utf8") == 0)
        for (size_t i = 0; err->field[0] != '\0' && i < sizeof arg_says / sizeof arg_says[0];
             i++)
            if (match(arg_says[i].pat, reason(err), parts, 0)) {
                fill(out, cap, _(arg_says[i].text), name, err->field, parts);
                *details = false;
                return;
            }
    if (own_words(err->code) && err->message[0] != '\0') {
        /* Chinese only (cli_error_text): the sentence's full stop, unless
         * the message ends with one. */
        size_t n = strlen(err->message);
        bool stop = n >= 3 && strcmp(err->message + n - 3, "。") == 0;
        snprintf(out, cap, "%s%s", err->message, stop ? "" : "。");
        *details = false;
        return;
    }
    for (size_t i = 0; i < sizeof code_says / sizeof code_says[0]; i++)
        if (strcmp(code_says[i].code, err->code) == 0) {
            bool f = err->field[0] != '\0';
            fill(out, cap, f ? _(code_says[i].with_field) : _(code_says[i].plain), name,
                 err->field, parts);
            *details = code_says[i].details;
            return;
        }
    fill(out, cap, _("Something went wrong."), name, err->field, parts);
}

void cli_error_text(char *out, size_t cap, const char *method, const bb_error *err)
{
    if (!cli_lang_zh()) {
        snprintf(out, cap, "%s", err->message);
        return;
    }
    /* The sentence, then in brackets the code, the field and, when the
     * sentence does not say it all, the message: for support. */
    char s[CLI_SENTENCE_BYTES];
    bool details;
    sentence(s, sizeof s, method, err, &details);
    details = details && reason(err)[0] != '\0';
    snprintf(out, cap, "%s[%s%s%s%s%s]", s, err->code, err->field[0] ? " " : "", err->field,
             details ? ": " : "", details ? reason(err) : "");
}

/* The values the argument allows, on stderr: the spec's, or the current
 * (not retired) ones of its reference data, asked of the server. */
static void allowed_values(cli_ctx *ctx, const bb_arg *a)
{
    /* TRANSLATORS: between two allowed values. */
    const char *sep = _(", ");
    if (a->values != NULL) {
        fprintf(stderr, "%s", _("baobao: allowed values: "));
        for (size_t i = 0; a->values[i] != NULL; i++)
            fprintf(stderr, "%s%s", i > 0 ? sep : "", a->values[i]);
        fputc('\n', stderr);
        return;
    }
    if (a->ref == NULL || ctx == NULL || ctx->client == NULL)
        return;
    bbi_kvs k = {.n = 0};
    bbi_kv_str(&k, "kind", a->ref);
    bb_reply *r = NULL;
    bb_error err;
    if (bbi_call_kvs(ctx->client, "ref.list", &k, &r, &err) != BB_C_OK)
        return;   /* the refusal stands without the list */
    const msgpack_object *items = bb_map_get(bb_reply_result(r), "items");
    size_t shown = 0;
    for (uint32_t i = 0; items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
                         i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        const msgpack_object *v = bb_map_get(it, "value");
        const msgpack_object *retired = bb_map_get(it, "retired");
        if (v == NULL || v->type != MSGPACK_OBJECT_STR ||
            (retired != NULL && retired->type == MSGPACK_OBJECT_BOOLEAN && retired->via.boolean))
            continue;
        if (shown == 0)
            fprintf(stderr, "%s", _("baobao: allowed values: "));
        if (shown == CLI_ALLOWED_MAX) {
            fprintf(stderr, "%s…", sep);
            break;
        }
        fprintf(stderr, "%s%.*s", shown > 0 ? sep : "", (int)v->via.str.size, v->via.str.ptr);
        shown++;
    }
    if (shown > 0)
        fputc('\n', stderr);
    bb_reply_free(r);
}

int cli_fail_in(cli_ctx *ctx, const char *method, const bb_error *err)
{
    if (!cli_lang_zh()) {
        if (err->field[0] != '\0')
            fprintf(stderr, "baobao: %s: %s (field: %s)\n", err->code, err->message,
                    err->field);
        else
            fprintf(stderr, "baobao: %s: %s\n", err->code, err->message);
    } else {
        char text[CLI_SENTENCE_BYTES + sizeof err->message + 128];
        cli_error_text(text, sizeof text, method, err);
        fprintf(stderr, "baobao: %s\n", text);
    }
    const bb_arg *a = err->field[0] != '\0' ? field_arg(method, err->field) : NULL;
    if (a != NULL && err->rc == BB_C_ESERVER && strcmp(err->code, "invalid_argument") == 0)
        allowed_values(ctx, a);
    return cli_exit_code(err);
}

int cli_fail(const bb_error *err)
{
    return cli_fail_in(NULL, NULL, err);
}

/* Fills buf from the kernel's random source: getrandom, else /dev/urandom. */
static bool random_bytes(unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got == n)
        return true;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    return got == n;
}

void cli_new_key(char out[37])
{
    unsigned char b[16];
    if (!random_bytes(b, sizeof b)) {
        /* No randomness at all: a key unique enough for one process's retry. */
        unsigned long seed = (unsigned long)getpid() ^ (unsigned long)time(NULL);
        for (size_t i = 0; i < sizeof b; i++) {
            seed = seed * 6364136223846793005UL + 1442695040888963407UL;
            b[i] = (unsigned char)(seed >> 33);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
