/*
 * pool.h: the pool of non-blocking PostgreSQL connections.
 *
 * Callers hand the pool a prepared statement (registered once at start, see
 * pool_stmt) and its parameters; the pool sends it on a connection in
 * pipeline mode and calls back exactly once with the result or an error.
 * Queries sent to one connection in the same loop iteration share one sync
 * (one socket write, one transaction; a heavy statement has a sync of its
 * own, pool_register_heavy); a result is handed on only after
 * that transaction committed, and if any query of such a group fails, the
 * others are run again alone, so one failing query never affects its
 * neighbours (pgconn.h, "Sync groups"). Each connection is a pgconn driven
 * by a uv_poll on its socket; nothing here blocks.
 *
 * When no connection is up, pool_query fails at once with BB_E_UNAVAILABLE
 * (the callback does not run). Queries in flight on a connection that breaks
 * complete with BB_E_UNAVAILABLE; the pool reconnects with backoff
 * (reconnect_min_ms doubling to reconnect_max_ms; the probe connection at
 * most POOL_PROBE_MAX_MS) and service resumes by itself. A connection that
 * turns out to reach a standby (SQLSTATE 25006 and the like: clients get
 * BB_E_UNAVAILABLE) is retired and connects again, so a multi-host
 * conninfo with target_session_attrs=read-write finds the new primary.
 *
 * Not for: migrations (migrate.c runs before the loop, blocking is fine
 * there), or building SQL (every statement is a constant with $n params).
 */
#ifndef BB_POOL_H
#define BB_POOL_H

#include <uv.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include "bb_errors.h"

typedef struct pool pool;

/* tcp_user_timeout (ms, libpq's keyword) every connection of baobaod to
 * PostgreSQL is given unless its conninfo says otherwise (the pool's, the
 * LISTEN connection's, the migrations'): a host that drops packets silently
 * (no RST) fails its connect after this long instead of the kernel's SYN
 * retries (about 127 s), so libpq moves on to the next host of a
 * multi-host conninfo. It also drops an established connection whose sent
 * data goes unacknowledged this long. */
#define POOL_TCP_USER_TIMEOUT_MS "3000"

/* A statement every connection prepares when it connects. Define these as
 * static const objects next to the code that runs them; register them all
 * with pool_register before pool_start. */
typedef struct pool_stmt {
    const char *name;      /* prepared statement name, unique */
    const char *sql;       /* text with $1..$n */
    int nparams;
} pool_stmt;

/* What went wrong with a query, when err != BB_OK in the callback. */
typedef struct pool_error {
    bb_err err;            /* BB_E_UNAVAILABLE, or mapped from SQLSTATE (see
                              pool.c: BBxxx custom states raised by the
                              stored functions, a named 23505, ...), else
                              BB_E_INTERNAL */
    const char *sqlstate;  /* borrowed, valid during the callback; may be NULL */
    const char *message;   /* borrowed, valid during the callback */
    const char *field;     /* borrowed: PG_DIAG_COLUMN_NAME, or NULL */
} pool_error;

/* Called once per query. On success res is the PGRES_TUPLES_OK/COMMAND_OK
 * result and e is NULL; on failure res is NULL and e says why. res is
 * borrowed: the pool PQclears it after the callback returns. */
typedef void (*pool_cb)(void *arg, const PGresult *res, const pool_error *e);

/* What stands between the pool and PostgreSQL (setting db_pooler). */
typedef enum pool_pooler {
    POOL_POOLER_NONE = 0,     /* a direct connection: named statements,
                                 statement_timeout as a start-up option */
    POOL_POOLER_SESSION,      /* pgbouncer in session mode: named statements,
                                 statement_timeout SET after connecting (a
                                 pooler refuses the `options` parameter) */
    POOL_POOLER_TRANSACTION,  /* pgbouncer in transaction mode: unnamed
                                 statements, statement_timeout set locally
                                 at the start of every sync group */
} pool_pooler;

/* Parses "none" / "session" / "transaction"; -1 for anything else. */
int pool_pooler_parse(const char *name);

/* The first connection of a pool is its probe: while the database is away
 * it retries at most this far apart (reconnect_max_ms may be longer for
 * the others), and once it gets through, every other connection waiting
 * in backoff is woken at once. So service is back within about this long
 * of PostgreSQL accepting connections, while a pool knocks with one
 * connection, not all of them, during an outage. */
#define POOL_PROBE_MAX_MS 500u

typedef struct pool_config {
    const char *conninfo;         /* libpq connection string; "" = PG* env */
    unsigned size;                /* connections */
    unsigned pipeline_depth;      /* queries in flight per connection */
    unsigned queue_max;           /* queries waiting for a free slot */
    unsigned reconnect_min_ms;
    unsigned reconnect_max_ms;
    pool_pooler pooler;           /* db_pooler */
    unsigned statement_timeout_ms;/* 0 = none set by baobaod */
} pool_config;

/* Registers a statement; call before pool_start. Returns 0 or -1 (full). */
__attribute__((warn_unused_result))
int pool_register(const pool_stmt *stmt);
/* The same for a heavy statement: one that keeps its connection busy for
 * long (a group-commit batch: many rows and a WAL flush; the supervision
 * sweep: many rows, an advisory lock, row locks on notices). A heavy
 * statement is sent in a sync group of its own (one transaction for it
 * alone, pgconn.h "Sync groups"): a query sent in the same loop turn does
 * not share its transaction, so it never waits for its commit, never rolls
 * it back by failing, and no lock it holds meets the heavy one's in one
 * transaction. Queries behind it on the same connection still wait for it
 * (a pipeline is in order), so the pool also sends other queries to
 * connections without a heavy one in flight whenever it can, and spreads
 * heavy ones over connections. */
__attribute__((warn_unused_result))
int pool_register_heavy(const pool_stmt *stmt);

/* What a unique violation (23505) of a named constraint means to a
 * client: already_exists, with this field and message (static strings).
 * Other unique violations are `internal`. */
typedef struct pool_constraint {
    const char *name;       /* the constraint, e.g. a table's unique key */
    const char *field;
    const char *message;
} pool_constraint;
#define POOL_MAX_CONSTRAINTS 32
/* Before pool_start. Returns 0, or -1 when the table is full. */
__attribute__((warn_unused_result))
int pool_name_constraint(const pool_constraint *c);

/* The code clients see for a SQLSTATE (the table in pool.c; 23505 and
 * unknown states: BB_E_INTERNAL). For a statement whose errors come back
 * inside its rows (a group-commit batch). */
bb_err pool_map_sqlstate(const char *sqlstate);

/* A query's parameters copied into one block after its own header (the
 * pool's queries, replica.c's reads kept for a retry): pool_values_bytes
 * is the room they take (nparams pointers, then the NUL-ended texts;
 * lengths as for pool_query), pool_values_copy writes them at dst and
 * returns the pointer array. */
size_t pool_values_bytes(const pool_stmt *stmt, const char *const *values, const int *lengths);
char **pool_values_copy(void *dst, const pool_stmt *stmt, const char *const *values,
                        const int *lengths);

/* Creates the pool and starts connecting (asynchronously). Returns NULL on
 * allocation failure. cfg strings are copied. */
pool *pool_create(uv_loop_t *loop, const pool_config *cfg);

/*
 * Sends a prepared statement. values[i] is parameter $i+1 in text format,
 * lengths[i] its byte length (-1 when NUL-terminated), NULL value = SQL
 * NULL. Values are copied: the caller may free them when this returns.
 * Returns 0 (cb will run exactly once, never before this returns) or a
 * negative bb_err value (cb will not run): -BB_E_UNAVAILABLE when no
 * connection is up or the queue is full, -BB_E_SHUTTING_DOWN after
 * pool_close.
 */
__attribute__((warn_unused_result))
int pool_query(pool *p, const pool_stmt *stmt, const char *const *values,
               const int *lengths, pool_cb cb, void *arg);

/* True when at least one connection is ready. */
bool pool_available(const pool *p);
/* Counts for server.info and logs. */
void pool_stats(const pool *p, unsigned *ready, unsigned *total, unsigned *queued);
/* Queries sent and not yet answered, over every connection (/metrics). */
unsigned pool_in_flight(const pool *p);

/* Fails queued queries with BB_E_SHUTTING_DOWN, lets in-flight ones finish,
 * closes every connection, then calls done (which may free nothing of the
 * pool: the pool frees itself after done returns). */
void pool_close(pool *p, void (*done)(void *arg), void *arg);
/* For the shutdown deadline, after pool_close: closes every connection at
 * once. Queries still in flight complete with BB_E_UNAVAILABLE (the client
 * cannot know whether they committed: a retry with the same idempotency key
 * is safe). done still runs, once, when the last connection has closed. */
void pool_abort(pool *p);

#endif
