/*
 * pgconn.h: one non-blocking PostgreSQL connection in pipeline mode, driven
 * by the libuv loop. Used only by the pool (pool.c); method code never
 * sees it.
 *
 * Lifecycle (pgconn_state; one transition function refuses other moves):
 *
 *   IDLE -> CONNECTING -> PREPARING -> READY
 *              |              |          |
 *              +--------------+----------+--> BROKEN -> BACKOFF -> CONNECTING ...
 *   any state but CLOSED -> CLOSING -> CLOSED
 *
 * "Busy" is not a state: a READY connection has 0..pipeline_depth queries
 * in flight. BROKEN is passed through at once: in-flight queries complete
 * as failed (conn_lost), the PGconn is finished and a reconnect timer runs
 * with exponential backoff (min doubling to max, with jitter; reset after a
 * connection reaches READY). The owner may cut a backoff short
 * (pgconn_kick: another connection got through; not a backoff that follows
 * a retirement) and may retire a READY connection (pgconn_retire: it
 * reached a standby): it takes no more queries, and breaks once those in
 * flight are done.
 *
 * Sync groups. Queries sent during one loop iteration are written to
 * libpq's buffer only; just before the loop polls again (a uv_prepare) they
 * get ONE sync and one flush: one socket write, and one transaction on the
 * server, committed at that sync. A query's result is handed on only at its
 * group's sync, i.e. after the commit. If any query of a group of several
 * fails, the others were rolled back with it (and those after it were not
 * run): none is handed on; each is sent again alone, with its own sync, so
 * every query gets exactly the answer it would have got alone. So a failing
 * query never sinks its neighbours, as with one sync per query, while the
 * common case costs one write, one wakeup and one commit per group.
 * A query marked `alone` (the pool's heavy statements: long, with many
 * rows and locks) is never grouped: the open group is synced before it and
 * it gets its own sync, so nothing waits for its commit in its transaction,
 * a neighbour's failure never rolls it back (nor replays it), and its locks
 * never meet a neighbour's row locks in one transaction. Its syncs are
 * flushed at once (libpq's PQpipelineSync writes, non-blocking), not at the
 * end of the loop iteration like a group's. Behind a pooler in
 * transaction mode a group is also closed early, before it grows past
 * PGCONN_GROUP_MAX_BYTES (pgconn.c): libpq would flush part of it by itself
 * at 64 KiB, and PgBouncer may lend the server connection away mid-group.
 *
 * Poolers (pool_pooler). Behind a pooler in transaction mode a server
 * connection is ours only for one transaction, so nothing may outlive one:
 * no statement is prepared at connect, each query is sent unnamed
 * (PQsendQueryParams: Parse, Bind, Execute, all within its sync group), and
 * statement_timeout is set for the group's transaction by a guard query
 * (set_config(..., true)) that opens every group; guards are the
 * connection's own, never handed to the owner. In session mode the
 * statements are prepared as with no pooler, after a DEALLOCATE ALL (the
 * server connection may keep a former client's session when the pooler
 * does not reset it), and statement_timeout is SET once after connecting
 * (RESET with statement_timeout_ms 0; a pooler refuses the `options`
 * start-up parameter used with no pooler).
 *
 * Connecting: tcp_user_timeout defaults to a few seconds (the conninfo may
 * say otherwise), so a host that drops packets silently fails over to the
 * next host of a multi-host conninfo; libpq resolves host names with a
 * blocking getaddrinfo on the loop thread while connecting (hostaddr= or IP addresses
 * avoid it).
 *
 * Nothing here blocks: PQconnectStartParams/PQconnectPoll, PQsendPrepare,
 * PQsendQueryPrepared, PQsendQueryParams, PQpipelineSync, PQflush,
 * PQconsumeInput, PQgetResult.
 */
#ifndef BB_PGCONN_H
#define BB_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pool.h"

typedef enum pgconn_state {
    PGC_IDLE = 0,     /* created, not started */
    PGC_CONNECTING,   /* PQconnectPoll in progress */
    PGC_PREPARING,    /* pipeline on, PQsendPrepare batch sent, awaiting its sync */
    PGC_READY,        /* takes queries */
    PGC_BROKEN,       /* failed; cleaning up (transient) */
    PGC_BACKOFF,      /* waiting for the reconnect timer */
    PGC_CLOSING,      /* pgconn_close called; handles closing */
    PGC_CLOSED,       /* everything released; the owner may free it */
    PGC__COUNT
} pgconn_state;

const char *pgconn_state_name(pgconn_state s);

/* One query, in the pool's queue or a connection's in-flight FIFO. Owned by
 * the pool (allocated in pool_query, freed after its callback); a pgconn
 * only links it while it is in flight. */
typedef struct pgq {
    struct pgq *next;
    const pool_stmt *stmt;     /* borrowed: static */
    pool_cb cb;
    void *arg;
    char **values;             /* nparams copies, NUL-terminated; NULL = SQL NULL */
    PGresult *res;             /* owned: the query's result once it arrived */
    bool got_end;              /* the NULL that ends its results was seen */
    bool sync_after;           /* last query of its sync group */
    bool alone;                /* a heavy statement: sent in a sync group of
                                  its own (set by the pool) */
    bool guard;                /* the connection's own statement_timeout guard
                                  (transaction pooling): never handed on */
} pgq;

/* Appends q to a FIFO of queries linked by next: the pool's queue and a
 * connection's in-flight list are both kept this way. */
static inline void pgq_append(pgq **head, pgq **tail, pgq *q)
{
    q->next = NULL;
    if (*tail != NULL)
        (*tail)->next = q;
    else
        *head = q;
    *tail = q;
}

typedef struct pgconn pgconn;

/* What a pgconn tells its owner. All run on the loop thread, never inside
 * pgconn_send. */
typedef struct pgconn_hooks {
    /* A query is finished: res is the result (ownership passes to the
     * callee), or NULL with conn_lost when the connection failed first. */
    void (*done)(void *owner, pgconn *c, pgq *q, PGresult *res, bool conn_lost);
    /* The state changed. After `to == PGC_CLOSED` the pgconn is never
     * touched again by its own code: the owner may free it then. */
    void (*state)(void *owner, pgconn *c, pgconn_state from, pgconn_state to);
} pgconn_hooks;

typedef struct pgconn_config {
    const char *conninfo;            /* borrowed for the pgconn's life */
    const pool_stmt *const *stmts;   /* borrowed: prepared on every connect */
    unsigned nstmts;
    unsigned reconnect_min_ms;
    unsigned reconnect_max_ms;
    pool_pooler pooler;              /* how statements and the timeout are sent */
    unsigned statement_timeout_ms;   /* 0 = none set by us */
} pgconn_config;

/* Creates an IDLE connection (returned owned; freed with pgconn_free once
 * CLOSED or never started). id names it in logs (pg=id). */
pgconn *pgconn_create(uv_loop_t *loop, unsigned id, const pgconn_config *cfg,
                      const pgconn_hooks *hooks, void *owner);
/* IDLE -> CONNECTING. Returns 0, or -1 when even starting failed (then it
 * is in BACKOFF and retries by itself). */
int pgconn_start(pgconn *c);
/* Sends q (READY, in-flight below the caller's depth) in this loop
 * iteration's sync group. Returns 0 (q is in flight; done will run for it)
 * or -1 (not sent, q still the caller's; the connection is failing and will
 * break from a zero timer, not inside this call). */
__attribute__((warn_unused_result)) int pgconn_send(pgconn *c, pgq *q);
/* Starts closing: in-flight queries complete as conn_lost; state CLOSING,
 * then CLOSED once every handle's close callback ran. Safe to call from a
 * hook of this same connection (then it happens when the hook returns). */
void pgconn_close(pgconn *c);
/* Stops taking queries (pgconn_ready is false from now on), lets those in
 * flight finish, then breaks and connects again after a backoff:
 * reconnect_min_ms the first time, doubling (up to reconnect_max_ms) each
 * time it is retired again within a minute of the last retirement
 * (PGCONN_RETIRE_RESET_MS), and never cut short by pgconn_kick. For a connection found to reach a standby: a multi-host conninfo
 * with target_session_attrs=read-write then finds the primary. why is
 * logged. A no-op unless READY. */
void pgconn_retire(pgconn *c, const char *why);
/* A connection waiting in BACKOFF tries again after a short random delay
 * (up to reconnect_min_ms) instead of its full backoff: another connection
 * of the pool just got through. A no-op in other states and when the
 * backoff follows a retirement (pgconn_retire). */
void pgconn_kick(pgconn *c);
/* Frees a CLOSED or IDLE connection. */
void pgconn_free(pgconn *c);

pgconn_state pgconn_get_state(const pgconn *c);
unsigned pgconn_in_flight(const pgconn *c);
/* True when a query whose statement satisfies pred is in flight. */
bool pgconn_any_in_flight(const pgconn *c, bool (*pred)(const pool_stmt *stmt));
/* READY, not failing, not closing. */
bool pgconn_ready(const pgconn *c);
unsigned pgconn_id(const pgconn *c);

#endif
