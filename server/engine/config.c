/*
 * config.c: baobaod's settings: defaults (proto/bb_limits.h), then an
 * optional `--config FILE`, then the command line, later wins.
 *
 * Every key of proto/PROTOCOL.md section 2 plus "listen", "port" and "db" is
 * one row of the key table below; `--set key=value`, a config file line
 * `key = value` and the long options all go through config_set, so a key
 * behaves the same wherever it is given. An unknown key or a number that is
 * not a number is an error (exit 2), never ignored: a typo in a limit must
 * not silently leave the default in force.
 *
 * Not for: run-time changes (settings are fixed once the loop runs), or
 * anything that needs the loop (this runs before it exists).
 */
#include "config.h"
#include "bb_spec.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "server.h"

/* msgpack-c's unpacker has a fixed stack of MSGPACK_EMBED_STACK_SIZE (32)
 * containers; a deeper limit would let the scanner pass messages that
 * msgpack_unpack then refuses. The argument map sits at depth 3. */
#define CONFIG_MIN_NESTING_DEPTH 3u
#define CONFIG_MAX_NESTING_DEPTH 32u
/* The smallest useful message limit: an envelope with a short method name
 * and a small argument map. */
#define CONFIG_MIN_MESSAGE_BYTES 64u
/* Above this a single message would be an abuse of one connection's
 * memory; 1 GiB also keeps every size in an unsigned 32-bit msgpack length. */
#define CONFIG_MAX_MESSAGE_BYTES (1024u * 1024u * 1024u)
/* The smallest output_budget_bytes: below it a few ordinary answers in
 * flight at once would close connections (0 would close every one). */
#define CONFIG_MIN_OUTPUT_BUDGET (64u * 1024u)
#define CONFIG_LINE_MAX 4096

typedef enum key_kind { K_STR, K_SIZE, K_UINT } key_kind;

typedef struct key_def {
    const char *key;
    key_kind kind;
    size_t offset;        /* into config */
    size_t size;          /* K_STR: buffer size */
    uint64_t min, max;    /* K_SIZE / K_UINT: accepted range */
} key_def;

#define KSTR(k, f) {k, K_STR, offsetof(config, f), sizeof(((config *)0)->f), 0, 0}
#define KSIZE(k, f, lo, hi) {k, K_SIZE, offsetof(config, f), 0, lo, hi}
#define KUINT(k, f, lo, hi) {k, K_UINT, offsetof(config, f), 0, lo, hi}

static const key_def keys[] = {
    KSTR("listen", listen_host),
    KUINT("port", port, 0, 65535),
    KSTR("db", conninfo),
    KSTR("db_pooler", db_pooler),
    /* 0 = none; at most a day */
    KUINT("statement_timeout_ms", statement_timeout_ms, 0, 86400000),
    KSTR("session_db", session_db),
    KSTR("read_db", read_db),
    KUINT("read_pool_size", read_pool_size, 1, 1024),
    KUINT("read_max_lag_ms", read_max_lag_ms, 0, 3600000),
    KSTR("export_db", export_db),
    KSTR("time_zone", time_zone),
    KSIZE("max_message_bytes", max_message_bytes, CONFIG_MIN_MESSAGE_BYTES,
          CONFIG_MAX_MESSAGE_BYTES),
    KUINT("max_nesting_depth", max_nesting_depth, CONFIG_MIN_NESTING_DEPTH,
          CONFIG_MAX_NESTING_DEPTH),
    KUINT("max_in_flight", max_in_flight, 1, 1000000),
    KUINT("max_connections", max_connections, 1, 10000000),
    KSIZE("input_budget_bytes", input_budget_bytes, 0, SIZE_MAX / 2),
    KSIZE("output_budget_bytes", output_budget_bytes, CONFIG_MIN_OUTPUT_BUDGET, SIZE_MAX / 2),
    KUINT("idle_timeout_ms", idle_timeout_ms, 0, UINT_MAX),
    KSIZE("write_high_water", write_high_water, 1, SIZE_MAX / 2),
    KSIZE("write_low_water", write_low_water, 0, SIZE_MAX / 2),
    KUINT("page_limit_default", page_limit_default, 1, 1000000),
    KUINT("page_limit_max", page_limit_max, 1, 1000000),
    KUINT("shutdown_deadline_ms", shutdown_deadline_ms, 0, UINT_MAX),
    KUINT("pool_size", pool_size, 1, 1024),
    KUINT("pool_pipeline_depth", pipeline_depth, 1, 100000),
    KUINT("pool_queue_max", pool_queue_max, 0, 100000000),
    KUINT("reconnect_min_ms", reconnect_min_ms, 1, 3600000),
    KUINT("reconnect_max_ms", reconnect_max_ms, 1, 3600000),
    KUINT("status_batch_max", status_batch_max, 1, 10000),
    KUINT("status_batches_in_flight", status_batches_in_flight, 1, 1024),
    KSTR("tls_cert", tls_cert),
    KSTR("tls_key", tls_key),
    KUINT("allow_plaintext", allow_plaintext, 0, 1),
    KUINT("tls_handshake_timeout_ms", tls_handshake_timeout_ms, 1, 3600000),
    KUINT("login_max_failures", login_max_failures, 1, 1000000),
    KUINT("login_lock_ms", login_lock_ms, 0, UINT_MAX),
    KUINT("login_delay_ms", login_delay_ms, 0, 60000),
    KUINT("login_max_pending", login_max_pending, 1, 100000),
    /* 1 s (tests of expiry) to 366 days */
    KUINT("session_token_ttl_s", session_token_ttl_s, 1, 31622400),
    /* 0 = no limit; else 1 s (tests) to 366 days */
    KUINT("session_idle_s", session_idle_s, 0, 31622400),
    KUINT("session_max_s", session_max_s, 0, 31622400),
    KSTR("health_listen", health_listen),
    KSTR("proxy_trusted", proxy_trusted),
    /* a day (tests) to ten years */
    KUINT("idempotency_keep_days", idempotency_keep_days, 1, 3650),
    /* libsodium's crypto_pwhash_OPSLIMIT_MIN and _MEMLIMIT_MIN (8 KiB) */
    KUINT("password_opslimit", password_opslimit, 1, 64),
    KUINT("password_memlimit_kib", password_memlimit_kib, 8, 4u * 1024u * 1024u),
    KUINT("overdue_red_after_days", overdue_red_after_days, 0, 36500),
    KUINT("due_soon_days", due_soon_days, 1, 3650),
    KUINT("status_correct_days", status_correct_days, 0, 36500),
    KUINT("visit_cycle_months", visit_cycle_months, 1, 12),   /* and divides 12: validate */
    KUINT("notice_due_days", notice_due_days, 0, 3650),
    KUINT("notice_escalate_days", notice_escalate_days, 0, 36500),
    KUINT("supervise_interval_ms", supervise_interval_ms, 1000, 86400000),
    KUINT("supervise_debounce_ms", supervise_debounce_ms, 0, 60000),
    KSTR("delivery_command", delivery_command),
    KUINT("delivery_timeout_ms", delivery_timeout_ms, 100, 3600000),
    KUINT("delivery_retry_min_ms", delivery_retry_min_ms, 10, 3600000),
    KUINT("delivery_retry_max_ms", delivery_retry_max_ms, 10, 86400000),
    KUINT("delivery_parallel", delivery_parallel, 1, 64),
    KUINT("delivery_max_age_hours", delivery_max_age_hours, 1, 87600),
    KSTR("fake_now", fake_now),
    KSTR("export_dir", export_dir),
    KSTR("export_time", export_time),
    KUINT("export_keep_days", export_keep_days, 1, 36500),
};

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "%s", "127.0.0.1");
    c->port = 7420;
    snprintf(c->time_zone, sizeof c->time_zone, "%s", "Asia/Shanghai");
    c->max_message_bytes = BB_DEFAULT_MAX_MESSAGE_BYTES;
    c->max_nesting_depth = BB_DEFAULT_MAX_NESTING_DEPTH;
    c->max_in_flight = BB_DEFAULT_MAX_IN_FLIGHT;
    c->write_high_water = BB_DEFAULT_WRITE_HIGH_WATER;
    c->write_low_water = BB_DEFAULT_WRITE_LOW_WATER;
    c->idle_timeout_ms = BB_DEFAULT_IDLE_TIMEOUT_MS;
    c->shutdown_deadline_ms = BB_DEFAULT_SHUTDOWN_DEADLINE_MS;
    c->max_connections = BB_DEFAULT_MAX_CONNECTIONS;
    c->input_budget_bytes = BB_DEFAULT_INPUT_BUDGET_BYTES;
    c->output_budget_bytes = BB_DEFAULT_OUTPUT_BUDGET_BYTES;
    c->tls_handshake_timeout_ms = BB_DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
    c->page_limit_default = BB_DEFAULT_PAGE_LIMIT;
    c->page_limit_max = BB_MAX_PAGE_LIMIT;
    c->pool_size = BB_DEFAULT_POOL_SIZE;
    c->pipeline_depth = BB_DEFAULT_PIPELINE_DEPTH;
    c->pool_queue_max = BB_DEFAULT_POOL_QUEUE_MAX;
    c->reconnect_min_ms = BB_DEFAULT_RECONNECT_MIN_MS;
    c->reconnect_max_ms = BB_DEFAULT_RECONNECT_MAX_MS;
    c->status_batch_max = BB_DEFAULT_STATUS_BATCH_MAX;
    c->status_batches_in_flight = BB_DEFAULT_STATUS_BATCHES_IN_FLIGHT;
    c->login_max_failures = BB_DEFAULT_LOGIN_MAX_FAILURES;
    c->login_lock_ms = BB_DEFAULT_LOGIN_LOCK_MS;
    c->login_delay_ms = BB_DEFAULT_LOGIN_DELAY_MS;
    c->login_max_pending = BB_DEFAULT_LOGIN_MAX_PENDING;
    c->session_token_ttl_s = BB_DEFAULT_SESSION_TOKEN_TTL_S;
    c->session_idle_s = BB_DEFAULT_SESSION_IDLE_S;
    c->session_max_s = BB_DEFAULT_SESSION_MAX_S;
    snprintf(c->db_pooler, sizeof c->db_pooler, "%s", "none");
    c->statement_timeout_ms = BB_DEFAULT_STATEMENT_TIMEOUT_MS;
    c->read_pool_size = BB_DEFAULT_READ_POOL_SIZE;
    c->read_max_lag_ms = BB_DEFAULT_READ_MAX_LAG_MS;
    c->idempotency_keep_days = BB_DEFAULT_IDEMPOTENCY_KEEP_DAYS;
    c->password_opslimit = BB_DEFAULT_PASSWORD_OPSLIMIT;
    c->password_memlimit_kib = BB_DEFAULT_PASSWORD_MEMLIMIT_KIB;
    c->overdue_red_after_days = BB_DEFAULT_OVERDUE_RED_AFTER_DAYS;
    c->due_soon_days = BB_DEFAULT_DUE_SOON_DAYS;
    c->status_correct_days = BB_DEFAULT_STATUS_CORRECT_DAYS;
    c->visit_cycle_months = BB_DEFAULT_VISIT_CYCLE_MONTHS;
    c->notice_due_days = BB_DEFAULT_NOTICE_DUE_DAYS;
    c->notice_escalate_days = BB_DEFAULT_NOTICE_ESCALATE_DAYS;
    c->supervise_interval_ms = BB_DEFAULT_SUPERVISE_INTERVAL_MS;
    c->supervise_debounce_ms = BB_DEFAULT_SUPERVISE_DEBOUNCE_MS;
    c->delivery_timeout_ms = BB_DEFAULT_DELIVERY_TIMEOUT_MS;
    c->delivery_retry_min_ms = BB_DEFAULT_DELIVERY_RETRY_MIN_MS;
    c->delivery_retry_max_ms = BB_DEFAULT_DELIVERY_RETRY_MAX_MS;
    c->delivery_parallel = BB_DEFAULT_DELIVERY_PARALLEL;
    c->delivery_max_age_hours = BB_DEFAULT_DELIVERY_MAX_AGE_HOURS;
    snprintf(c->export_dir, sizeof c->export_dir, "%s", BB_DEFAULT_EXPORT_DIR);
    snprintf(c->export_time, sizeof c->export_time, "%s", BB_DEFAULT_EXPORT_TIME);
    c->export_keep_days = BB_DEFAULT_EXPORT_KEEP_DAYS;
}

/* Parses a whole decimal number: no sign, no spaces, no suffix. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int config_set(config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const key_def *k = NULL;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, key) == 0)
            k = &keys[i];
    if (k == NULL) {
        snprintf(err, errlen, "unknown setting \"%s\" (see proto/PROTOCOL.md section 2)", key);
        return -1;
    }
    char *field = (char *)c + k->offset;
    if (k->kind == K_STR) {
        size_t n = strlen(value);
        if (n >= k->size) {
            snprintf(err, errlen, "%s: value too long (at most %zu bytes)", key, k->size - 1);
            return -1;
        }
        memcpy(field, value, n + 1);
        return 0;
    }
    uint64_t v;
    if (parse_u64(value, &v) != 0) {
        snprintf(err, errlen, "%s: \"%s\" is not a whole non-negative number", key, value);
        return -1;
    }
    if (v < k->min || v > k->max) {
        snprintf(err, errlen, "%s: %llu is out of range %llu..%llu", key,
                 (unsigned long long)v, (unsigned long long)k->min,
                 (unsigned long long)k->max);
        return -1;
    }
    if (k->kind == K_SIZE) {
        size_t sv = (size_t)v;
        memcpy(field, &sv, sizeof sv);
    } else {
        unsigned uv = (unsigned)v;
        memcpy(field, &uv, sizeof uv);
    }
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int config_load_file(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[CONFIG_LINE_MAX];
    unsigned lineno = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "%s:%u: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (s[0] == '\0' || s[0] == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s:%u: expected `key = value`", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        char why[512];
        if (config_set(c, key, value, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

static void print_help(void)
{
    printf("usage: baobaod [options]\n"
           "\n"
           "  --listen HOST        address to listen on (default 127.0.0.1; IPv4 or IPv6)\n"
           "  --port N             TCP port (default 7420; 0 = any free port, see the\n"
           "                       `event=listening` log line)\n"
           "  --db CONNINFO        libpq connection string (default: PG* environment)\n"
           "  --config FILE        read `key = value` lines (# comments) before the\n"
           "                       other options\n"
           "  --set KEY=VALUE      set any key (repeatable); keys as in\n"
           "                       proto/PROTOCOL.md section 2, plus listen, port, db\n"
           "  --migrate-only       apply database migrations and exit\n"
           "  --create-admin LOGIN create the first admin after the migrations and exit\n"
           "                       (password from BAOBAO_ADMIN_PASSWORD, else asked on the\n"
           "                       terminal); --display-name TEXT names them\n"
           "  --help, --version, --api-info (the methods and their arguments, as JSON)\n"
           "\n"
           "keys:");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        printf("%s%s", i % 4 == 0 ? "\n  " : " ", keys[i].key);
    printf("\n\nlogs go to stderr as logfmt lines; BAOBAO_LOG=debug|info|warn|error\n");
}

/* Returns the value of option argv[*i] (either --opt=value or --opt value),
 * advancing *i past a separate value; NULL when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
    size_t n = strlen(opt);
    const char *a = argv[*i];
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc)
        return NULL;
    (*i)++;
    return argv[*i];
}

static bool opt_is(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(a, opt, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

int config_from_args(config *c, int argc, char **argv, char *err, size_t errlen)
{
    /* First pass: --help/--version, and the config file, which the other
     * options override wherever --config stands. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help();
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("baobaod %s (protocol 1)\n", BAOBAOD_VERSION);
            return 1;
        }
        /* The method spec (proto/bb_spec.h) as JSON, for client writers
         * and tests/doc/check_protocol.py. */
        if (strcmp(argv[i], "--api-info") == 0)
            return bb_spec_write_json(stdout) == 0 ? 1 : -1;
    }
    for (int i = 1; i < argc; i++) {
        if (!opt_is(argv[i], "--config"))
            continue;
        const char *v = opt_value(argc, argv, &i, "--config");
        if (v == NULL) {
            snprintf(err, errlen, "--config needs a FILE");
            return -1;
        }
        if (config_load_file(c, v, err, errlen) != 0)
            return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        if (opt_is(a, "--config")) {
            (void)opt_value(argc, argv, &i, "--config");
            continue;
        }
        if (strcmp(a, "--migrate-only") == 0) {
            c->migrate_only = true;
            continue;
        }
        static const struct {
            const char *opt;
            size_t off, size;
        } boot[] = {
            {"--create-admin", offsetof(config, create_admin), sizeof c->create_admin},
            {"--display-name", offsetof(config, admin_display_name),
             sizeof c->admin_display_name},
        };
        bool booted = false;
        for (size_t b = 0; b < sizeof boot / sizeof boot[0] && !booted; b++) {
            if (!opt_is(a, boot[b].opt))
                continue;
            v = opt_value(argc, argv, &i, boot[b].opt);
            if (v == NULL || v[0] == '\0') {
                snprintf(err, errlen, "%s needs a value", boot[b].opt);
                return -1;
            }
            if (strlen(v) >= boot[b].size) {
                snprintf(err, errlen, "%s: value too long (at most %zu bytes)", boot[b].opt,
                         boot[b].size - 1);
                return -1;
            }
            memcpy((char *)c + boot[b].off, v, strlen(v) + 1);
            booted = true;
        }
        if (booted)
            continue;
        static const char *const direct[][2] = {
            {"--listen", "listen"}, {"--port", "port"}, {"--db", "db"}};
        bool done = false;
        for (size_t d = 0; d < 3 && !done; d++) {
            if (!opt_is(a, direct[d][0]))
                continue;
            v = opt_value(argc, argv, &i, direct[d][0]);
            if (v == NULL) {
                snprintf(err, errlen, "%s needs a value", direct[d][0]);
                return -1;
            }
            if (config_set(c, direct[d][1], v, err, errlen) != 0)
                return -1;
            done = true;
        }
        if (done)
            continue;
        if (opt_is(a, "--set")) {
            v = opt_value(argc, argv, &i, "--set");
            if (v == NULL) {
                snprintf(err, errlen, "--set needs KEY=VALUE");
                return -1;
            }
            const char *eq = strchr(v, '=');
            if (eq == NULL || eq == v) {
                snprintf(err, errlen, "--set %s: expected KEY=VALUE", v);
                return -1;
            }
            char key[128];
            size_t kn = (size_t)(eq - v);
            if (kn >= sizeof key) {
                snprintf(err, errlen, "--set: key too long");
                return -1;
            }
            memcpy(key, v, kn);
            key[kn] = '\0';
            if (config_set(c, key, eq + 1, err, errlen) != 0)
                return -1;
            continue;
        }
        snprintf(err, errlen, "unknown option \"%s\" (try --help)", a);
        return -1;
    }
    if (c->admin_display_name[0] != '\0' && c->create_admin[0] == '\0') {
        snprintf(err, errlen, "--display-name goes with --create-admin LOGIN");
        return -1;
    }
    return 0;
}

const char *config_session_db(const config *c)
{
    return c->session_db[0] != '\0' ? c->session_db : c->conninfo;
}

int config_validate(const config *c, char *err, size_t errlen)
{
    if (c->listen_host[0] == '\0') {
        snprintf(err, errlen, "listen: must not be empty");
        return -1;
    }
    if (c->write_low_water >= c->write_high_water) {
        snprintf(err, errlen, "write_low_water (%zu) must be below write_high_water (%zu)",
                 c->write_low_water, c->write_high_water);
        return -1;
    }
    if (c->output_budget_bytes < c->write_high_water) {
        snprintf(err, errlen,
                 "output_budget_bytes (%zu) must be at least write_high_water (%zu): one "
                 "connection may hold that much",
                 c->output_budget_bytes, c->write_high_water);
        return -1;
    }
    if (c->page_limit_default > c->page_limit_max) {
        snprintf(err, errlen, "page_limit_default (%u) must not exceed page_limit_max (%u)",
                 c->page_limit_default, c->page_limit_max);
        return -1;
    }
    if (strcmp(c->db_pooler, "none") != 0 && strcmp(c->db_pooler, "session") != 0 &&
        strcmp(c->db_pooler, "transaction") != 0) {
        snprintf(err, errlen, "db_pooler: \"%s\" is not none, session or transaction",
                 c->db_pooler);
        return -1;
    }
    if (c->reconnect_min_ms > c->reconnect_max_ms) {
        snprintf(err, errlen, "reconnect_min_ms (%u) must not exceed reconnect_max_ms (%u)",
                 c->reconnect_min_ms, c->reconnect_max_ms);
        return -1;
    }
    if (c->delivery_retry_min_ms > c->delivery_retry_max_ms) {
        snprintf(err, errlen,
                 "delivery_retry_min_ms (%u) must not exceed delivery_retry_max_ms (%u)",
                 c->delivery_retry_min_ms, c->delivery_retry_max_ms);
        return -1;
    }
    if (c->export_time[0] != '\0' &&
        !(strlen(c->export_time) == 5 && c->export_time[2] == ':' &&
          c->export_time[0] >= '0' && c->export_time[0] <= '2' && c->export_time[1] >= '0' &&
          c->export_time[1] <= '9' && c->export_time[3] >= '0' && c->export_time[3] <= '5' &&
          c->export_time[4] >= '0' && c->export_time[4] <= '9' &&
          (c->export_time[0] < '2' || c->export_time[1] <= '3'))) {
        snprintf(err, errlen, "export_time: \"%s\" is not a time of day HH:MM (00:00-23:59), "
                 "or \"\" for no schedule", c->export_time);
        return -1;
    }
    if (c->time_zone[0] == '\0' || strchr(c->time_zone, ' ') != NULL) {
        snprintf(err, errlen, "time_zone: \"%s\" is not a zone name (e.g. Asia/Shanghai)",
                 c->time_zone);
        return -1;
    }
    /* Cycles counted from 1 January must tile the year: 5 would start a
     * cycle in November that runs into the next year's first one. */
    if (12 % c->visit_cycle_months != 0) {
        snprintf(err, errlen, "visit_cycle_months: %u does not divide the year (1, 2, 3, 4, 6 "
                 "or 12)", c->visit_cycle_months);
        return -1;
    }
    return 0;
}
