/*
 * config.h: baobaod's settings, from defaults, an optional config file and
 * the command line, in that order (later wins).
 *
 *   baobaod [--listen HOST] [--port N] [--db CONNINFO] [--config FILE]
 *           [--set key=value ...] [--migrate-only]
 *           [--create-admin LOGIN [--display-name TEXT]]
 *
 * The config file holds `key = value` lines (# comments) with the same keys
 * as --set. Keys are listed in proto/PROTOCOL.md ("Limits and settings").
 * With no --db, libpq reads the standard PG* environment variables, as psql
 * does. Not for: run-time changes (settings are fixed once the loop runs).
 */
#ifndef BB_CONFIG_H
#define BB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct config {
    char listen_host[256];        /* "listen", default 127.0.0.1 */
    unsigned port;                /* "port", default 7420 */
    char conninfo[1024];          /* "db", default "" (PG* environment) */
    /* Issue 14: how the pool's connections reach PostgreSQL, and the other
     * databases a deployment may name (PROTOCOL.md section 2). */
    char db_pooler[16];           /* "db_pooler": none | session | transaction */
    unsigned statement_timeout_ms;/* "statement_timeout_ms": 0 = none */
    char session_db[1024];        /* "session_db": connections that keep a session
                                     (LISTEN, the exporter's lock, migrations);
                                     "" = db */
    char read_db[1024];           /* "read_db": a replica for reads; "" = none */
    unsigned read_pool_size;      /* "read_pool_size" */
    unsigned read_max_lag_ms;     /* "read_max_lag_ms": a replica further behind
                                     is not read from */
    char export_db[1024];         /* "export_db": where exports read; "" = session_db */
    char time_zone[64];           /* "time_zone", default Asia/Shanghai */
    bool migrate_only;
    /* --create-admin LOGIN [--display-name TEXT]: create the first admin
     * after the migrations, then exit (user.h user_create_admin). */
    char create_admin[128];       /* "" = not asked */
    char admin_display_name[256];

    size_t max_message_bytes;     /* "max_message_bytes" */
    unsigned max_nesting_depth;   /* "max_nesting_depth" */
    unsigned max_in_flight;       /* "max_in_flight" */
    size_t write_high_water;      /* "write_high_water" */
    size_t write_low_water;       /* "write_low_water" */
    unsigned idle_timeout_ms;     /* "idle_timeout_ms" */
    unsigned shutdown_deadline_ms;/* "shutdown_deadline_ms" */
    unsigned max_connections;     /* "max_connections" */
    size_t input_budget_bytes;    /* "input_budget_bytes": input buffer
                                     growth, summed over connections */
    size_t output_budget_bytes;   /* "output_budget_bytes": pending output,
                                     summed over connections */
    unsigned page_limit_default;  /* "page_limit_default" */
    unsigned page_limit_max;      /* "page_limit_max" */
    unsigned pool_size;           /* "pool_size" */
    unsigned pipeline_depth;      /* "pool_pipeline_depth" */
    unsigned pool_queue_max;      /* "pool_queue_max" */
    unsigned reconnect_min_ms;    /* "reconnect_min_ms" */
    unsigned reconnect_max_ms;    /* "reconnect_max_ms" */
    unsigned status_batch_max;    /* "status_batch_max" */
    unsigned status_batches_in_flight; /* "status_batches_in_flight" */

    char tls_cert[1024];          /* "tls_cert": PEM chain; "" = no TLS */
    char tls_key[1024];           /* "tls_key": PEM private key */
    unsigned allow_plaintext;     /* "allow_plaintext" 0/1: plaintext on a
                                     non-loopback listen address */
    unsigned tls_handshake_timeout_ms; /* "tls_handshake_timeout_ms" */
    unsigned login_max_failures;  /* "login_max_failures" */
    unsigned login_lock_ms;       /* "login_lock_ms" */
    unsigned login_delay_ms;      /* "login_delay_ms" */
    unsigned login_max_pending;   /* "login_max_pending" */
    unsigned session_token_ttl_s; /* "session_token_ttl_s": a kept session's life */
    unsigned session_idle_s;      /* "session_idle_s": 0 = no idle limit */
    unsigned session_max_s;       /* "session_max_s": 0 = no absolute limit */
    char health_listen[280];      /* "health_listen": "host:port" of /live /ready
                                     /metrics; "" = none (issue 14) */
    char proxy_trusted[1024];     /* "proxy_trusted": addresses / CIDRs allowed to
                                     send a PROXY header; "" = none (issue 14) */
    unsigned idempotency_keep_days; /* "idempotency_keep_days": retries and offline writes */
    unsigned password_opslimit;   /* "password_opslimit" */
    unsigned password_memlimit_kib; /* "password_memlimit_kib" */

    unsigned overdue_red_after_days; /* "overdue_red_after_days": later is red */
    unsigned due_soon_days;       /* "due_soon_days": default window of due.* */
    unsigned status_correct_days; /* "status_correct_days": staff's window to correct */
    unsigned visit_cycle_months;  /* "visit_cycle_months": the reporting cycle (1, 2, 3, 4, 6, 12) */
    unsigned notice_due_days;     /* "notice_due_days": 提醒 this many days ahead; 0 = none */
    unsigned notice_escalate_days;/* "notice_escalate_days": red this long -> 升级; 0 = never */
    unsigned supervise_interval_ms; /* "supervise_interval_ms": sweep at least this often */
    unsigned supervise_debounce_ms; /* "supervise_debounce_ms": sweep this long after a change */
    char delivery_command[1024];  /* "delivery_command": "" = no delivery */
    unsigned delivery_timeout_ms; /* "delivery_timeout_ms": killed after */
    unsigned delivery_retry_min_ms; /* "delivery_retry_min_ms" */
    unsigned delivery_retry_max_ms; /* "delivery_retry_max_ms" */
    unsigned delivery_parallel;   /* "delivery_parallel": commands at once */
    unsigned delivery_max_age_hours; /* "delivery_max_age_hours": given up after */
    char fake_now[40];            /* "fake_now": RFC 3339; "" = real clock (tests) */

    char export_dir[1024];        /* "export_dir": where runs are written */
    char export_time[8];          /* "export_time": "HH:MM" in time_zone; "" = never */
    unsigned export_keep_days;    /* "export_keep_days": older runs are pruned */
} config;

void config_defaults(config *c);
/* Sets one key from text. Returns 0, or -1 with a message in err. */
__attribute__((warn_unused_result))
int config_set(config *c, const char *key, const char *value, char *err, size_t errlen);
/* Reads a config file. Returns 0, or -1 with a message in err. */
__attribute__((warn_unused_result))
int config_load_file(config *c, const char *path, char *err, size_t errlen);
/* Parses argv (after defaults). Returns 0, 1 when --help/--version was
 * printed (exit 0), or -1 with a message in err (exit 2). */
__attribute__((warn_unused_result))
int config_from_args(config *c, int argc, char **argv, char *err, size_t errlen);
/* The conninfo of the connections that keep a session (LISTEN, the
 * exporter's lock, the migrations): session_db, else db. */
const char *config_session_db(const config *c);
/* Checks cross-field rules (low < high water, ...). */
__attribute__((warn_unused_result))
int config_validate(const config *c, char *err, size_t errlen);

#endif
