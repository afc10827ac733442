/*
 * pgconn.c: one non-blocking PostgreSQL connection in pipeline mode (see
 * pgconn.h for the state diagram).
 *
 * For: connecting without blocking the loop, preparing the registered
 * statements, sending queries in sync groups (one sync and one flush per
 * loop iteration; each group is one implicit transaction that commits
 * before its results are handed on; a group with a failure is replayed
 * query by query, see pgconn.h), reading results in order, and failing over
 * to backoff + reconnect when anything goes wrong. Not for: choosing a
 * connection, queueing, or mapping errors to protocol codes (pool.c).
 *
 * Re-entrancy: hooks run user callbacks, which may send more queries on
 * this connection (fine: pipeline mode) or ask to close it. Every entry
 * point from libuv runs between enter()/leave(); a close asked for inside
 * is done in leave(), so PQfinish never runs under our own feet. Failures
 * found inside pgconn_send are turned into a break from a zero timer, so
 * no callback ever runs inside pgconn_send.
 *
 * Ownership: a pgconn owns its PGconn, its uv_timer, its uv_prepare (the
 * end-of-iteration sync) and its current uv_poll (heap-allocated, because a changed socket during connection needs a new
 * poll while the old one is still closing). It is freed only once every
 * handle's close callback has run (state CLOSED).
 */
#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* libpq does not time out a non-blocking connect by itself (connect_timeout
 * is ignored with PQconnectPoll). This covers the whole attempt, every host
 * of a multi-host conninfo included. */
#define PGCONN_CONNECT_TIMEOUT_MS 10000u
/* POOL_TCP_USER_TIMEOUT_MS (pool.h): three silent hosts of a multi-host
 * conninfo fit within PGCONN_CONNECT_TIMEOUT_MS. */
/* Behind a pooler in transaction mode the open sync group is closed (synced
 * and flushed) before it grows past this many bytes: libpq flushes by
 * itself once its buffer reaches 64 KiB, and PgBouncer 1.18 may give the
 * server connection away in the middle of a group it got only part of
 * (PgBouncer issue #759). Unnamed statements carry their whole SQL text, so
 * a group gets there quickly. Well below 64 KiB: the estimate leaves out
 * the protocol's few bytes per message beyond PGCONN_MSG_OVERHEAD. */
#define PGCONN_GROUP_MAX_BYTES (48u * 1024u)
/* Parse, Bind, Describe, Execute headers and the like, per query (an
 * over-estimate). */
#define PGCONN_MSG_OVERHEAD 64u
#define PGCONN_APP_NAME "baobaod"
/* The statement_timeout guard that opens every sync group behind a pooler
 * in transaction mode (pgconn.h, "Poolers"): local to the group's
 * transaction, so it holds on whichever server connection the pooler lends
 * for it and is gone when the transaction ends. */
static const pool_stmt guard_stmt = {
    .name = "statement_timeout_guard",
    .sql = "SELECT set_config('statement_timeout', $1, true)",
    .nparams = 1,
};
/* The same, once per connection, in session mode (begin_prepare). */
#define PGCONN_SESSION_TIMEOUT_SQL "SELECT set_config('statement_timeout', $1, false)"
/* Doubling stops here; reconnect_max_ms caps the delay anyway. */
#define PGCONN_MAX_BACKOFF_SHIFT 20u
/* A connection retired again within this long of its last retirement
 * (it keeps reaching a standby) backs off as after a failure, doubling:
 * a standby under writes is not reconnected to ten times a second. */
#define PGCONN_RETIRE_RESET_MS 60000u

typedef struct pgpoll {
    uv_poll_t h;
    pgconn *c;
} pgpoll;

struct pgconn {
    uv_loop_t *loop;
    unsigned id;
    pgconn_config cfg;
    pgconn_hooks hooks;
    void *owner;

    pgconn_state state;
    PGconn *pg;                /* owned; NULL when not connected */
    pgpoll *poll;              /* owned; NULL when not watching */
    int poll_events;           /* events the current poll was started with */
    uv_timer_t timer;          /* connect timeout / deferred break / backoff */
    uv_prepare_t sync_prep;    /* syncs the open group before the loop polls */
    unsigned handles;          /* libuv handles not yet closed */

    pgq *head, *tail;          /* in-flight FIFO, in send order */
    pgq *cur;                  /* the query results are arriving for; NULL = head */
    unsigned in_flight;
    unsigned unsynced;         /* queries at the tail of the FIFO not yet synced */
    size_t group_bytes;        /* estimated bytes of the open group (unsynced) */
    bool flush_pending;        /* a query sent alone waits for the flush */

    unsigned failures;         /* consecutive, for backoff; 0 after READY */
    char timeout_text[16];     /* statement_timeout_ms in decimal (guards, SET) */
    bool retiring;             /* pgconn_retire: no new queries; breaks when
                                  the last in flight is done */
    char retire_why[128];
    unsigned retires;          /* retired in a row, each within
                                  PGCONN_RETIRE_RESET_MS of the one before */
    uint64_t last_retire_ms;
    bool backoff_retired;      /* this backoff follows a retirement: not kicked */
    unsigned depth;            /* enter/leave nesting */
    bool close_pending;        /* pgconn_close asked for inside a hook */
    bool failing;              /* send/flush failed; a zero timer breaks it */
    bool prep_failed;
    char prep_err[256];
};

static const char *const state_names[PGC__COUNT] = {
    "idle", "connecting", "preparing", "ready", "broken", "backoff", "closing", "closed",
};

const char *pgconn_state_name(pgconn_state s)
{
    return (unsigned)s < PGC__COUNT ? state_names[s] : "?";
}

/* allowed[from] is a bit set of the states `from` may move to. */
#define BIT(s) (1u << (s))
static const unsigned allowed[PGC__COUNT] = {
    [PGC_IDLE] = BIT(PGC_CONNECTING) | BIT(PGC_CLOSING),
    [PGC_CONNECTING] = BIT(PGC_PREPARING) | BIT(PGC_BROKEN) | BIT(PGC_CLOSING),
    [PGC_PREPARING] = BIT(PGC_READY) | BIT(PGC_BROKEN) | BIT(PGC_CLOSING),
    [PGC_READY] = BIT(PGC_BROKEN) | BIT(PGC_CLOSING),
    [PGC_BROKEN] = BIT(PGC_BACKOFF) | BIT(PGC_CLOSING),
    [PGC_BACKOFF] = BIT(PGC_CONNECTING) | BIT(PGC_CLOSING),
    [PGC_CLOSING] = BIT(PGC_CLOSED),
    [PGC_CLOSED] = 0,
};

static void timer_cb(uv_timer_t *t);
static void poll_cb(uv_poll_t *h, int status, int events);

/* The one transition function. Returns false (and logs) for a move the
 * diagram does not have. After a move to CLOSED the caller must return
 * without touching c: the owner may have freed it. */
static bool set_state(pgconn *c, pgconn_state to)
{
    pgconn_state from = c->state;
    if ((allowed[from] & BIT(to)) == 0) {
        log_event(LOG_ERROR, "db_conn_bad_transition", "pg=%u from=%s to=%s", c->id,
                  pgconn_state_name(from), pgconn_state_name(to));
        return false;
    }
    c->state = to;
    log_event(LOG_DEBUG, "db_conn_state", "pg=%u from=%s to=%s", c->id,
              pgconn_state_name(from), pgconn_state_name(to));
    c->hooks.state(c->owner, c, from, to);
    return true;
}

static void do_close(pgconn *c);

static void enter(pgconn *c) { c->depth++; }

static void leave(pgconn *c)
{
    if (--c->depth == 0 && c->close_pending) {
        c->close_pending = false;
        do_close(c);
    }
}

static void handle_closed(pgconn *c)
{
    if (--c->handles == 0 && c->state == PGC_CLOSING)
        set_state(c, PGC_CLOSED); /* last touch of c */
}

static void poll_close_cb(uv_handle_t *h)
{
    pgpoll *p = h->data;
    pgconn *c = p->c;
    free(p);
    handle_closed(c);
}

static void timer_close_cb(uv_handle_t *h)
{
    handle_closed(h->data);
}

static void prep_close_cb(uv_handle_t *h)
{
    handle_closed(h->data);
}

static void poll_drop(pgconn *c)
{
    if (c->poll == NULL)
        return;
    uv_close((uv_handle_t *)&c->poll->h, poll_close_cb);
    c->poll = NULL;
    c->poll_events = 0;
}

/* Watches PQsocket for events. With renew, starts a fresh uv_poll even when
 * the fd number is the same: during connection libpq may close a socket and
 * open another that gets the same number, which an existing epoll
 * registration would silently miss. Returns 0 or -1. */
static int poll_watch(pgconn *c, int events, bool renew)
{
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    uv_os_fd_t cur = -1;
    if (c->poll != NULL &&
        (renew || uv_fileno((const uv_handle_t *)&c->poll->h, &cur) != 0 || cur != fd))
        poll_drop(c);
    if (c->poll == NULL) {
        pgpoll *p = calloc(1, sizeof *p);
        if (p == NULL)
            return -1;
        if (uv_poll_init(c->loop, &p->h, fd) != 0) {
            free(p);
            return -1;
        }
        p->c = c;
        p->h.data = p;
        c->handles++;
        c->poll = p;
        c->poll_events = 0;
    }
    if (events != c->poll_events) {
        if (uv_poll_start(&c->poll->h, events, poll_cb) != 0)
            return -1;
        c->poll_events = events;
    }
    return 0;
}

static unsigned next_backoff_ms(pgconn *c)
{
    unsigned shift = c->failures < PGCONN_MAX_BACKOFF_SHIFT ? c->failures : PGCONN_MAX_BACKOFF_SHIFT;
    uint64_t d = (uint64_t)(c->cfg.reconnect_min_ms > 0 ? c->cfg.reconnect_min_ms : 1) << shift;
    if (d > c->cfg.reconnect_max_ms)
        d = c->cfg.reconnect_max_ms;
    c->failures++;
    /* Jitter: somewhere in [3/4 d, d], so the pool's connections (and
     * several servers) do not all knock at the same instant. */
    uint64_t quarter = d / 4;
    return (unsigned)(d - quarter + (quarter > 0 ? (uint64_t)rand() % (quarter + 1) : 0));
}

/* Takes the in-flight FIFO and completes each query as conn_lost. */
static void fail_in_flight(pgconn *c)
{
    pgq *list = c->head;
    c->head = c->tail = c->cur = NULL;
    c->in_flight = 0;
    c->unsynced = 0;
    c->group_bytes = 0;
    c->flush_pending = false;
    uv_prepare_stop(&c->sync_prep);
    while (list != NULL) {
        pgq *q = list;
        list = q->next;
        q->next = NULL;
        if (q->res != NULL) {
            PQclear(q->res);
            q->res = NULL;
        }
        if (q->guard)
            free(q);
        else
            c->hooks.done(c->owner, c, q, NULL, true);
    }
}

/* Any failure: BROKEN, fail what is in flight, drop the PGconn, BACKOFF. */
static void do_break(pgconn *c, const char *why)
{
    char reason[512];
    snprintf(reason, sizeof reason, "%s", why != NULL && why[0] != '\0' ? why : "unknown");
    size_t n = strlen(reason);
    while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
        reason[--n] = '\0';

    pgconn_state from = c->state;
    unsigned lost = c->in_flight;
    if (!set_state(c, PGC_BROKEN))
        return;
    poll_drop(c);
    uv_timer_stop(&c->timer);
    bool retired = c->retiring;
    c->failing = false;
    c->prep_failed = false;
    c->retiring = false;
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    if (retired)
        c->failures = c->retires; /* back off by how often in a row */
    c->backoff_retired = retired;
    unsigned delay = next_backoff_ms(c);
    log_event(LOG_WARN, "db_conn_broken", "pg=%u was=%s failed_queries=%u retry_ms=%u reason=%s",
              c->id, pgconn_state_name(from), lost, delay, log_q(reason));
    fail_in_flight(c);
    if (c->state == PGC_BROKEN && set_state(c, PGC_BACKOFF))
        uv_timer_start(&c->timer, timer_cb, delay, 0);
}

static void do_close(pgconn *c)
{
    if (c->state == PGC_CLOSING || c->state == PGC_CLOSED)
        return;
    if (!set_state(c, PGC_CLOSING))
        return;
    poll_drop(c);
    uv_timer_stop(&c->timer);
    fail_in_flight(c);
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    uv_close((uv_handle_t *)&c->timer, timer_close_cb);
    uv_close((uv_handle_t *)&c->sync_prep, prep_close_cb);
}

static void notice_cb(void *arg, const char *message)
{
    pgconn *c = arg;
    log_event(LOG_DEBUG, "db_notice", "pg=%u msg=%s", c->id, log_q(message));
}

/* Pushes buffered output; watches for writable while some remains. */
static int flush_and_watch(pgconn *c)
{
    int r = PQflush(c->pg);
    if (r < 0)
        return -1;
    return poll_watch(c, UV_READABLE | (r == 1 ? UV_WRITABLE : 0), false);
}

static void start_connect(pgconn *c)
{
    if (!set_state(c, PGC_CONNECTING))
        return;
    /* Ours first, then the caller's conninfo expanded from dbname: what the
     * operator wrote wins over our defaults. With no pooler the statement
     * timeout is a start-up option; a pooler refuses `options` (pgbouncer:
     * "unsupported startup parameter"), so behind one it is set by a query
     * (begin_prepare, guards) and the key is left out. */
    char options[48];
    snprintf(options, sizeof options, "-c statement_timeout=%s", c->timeout_text);
    bool direct = c->cfg.pooler == POOL_POOLER_NONE && c->cfg.statement_timeout_ms > 0;
    const char *keys[5], *vals[5];
    unsigned n = 0;
    if (direct) {
        keys[n] = "options";
        vals[n++] = options;
    }
    keys[n] = "tcp_user_timeout";
    vals[n++] = POOL_TCP_USER_TIMEOUT_MS;
    keys[n] = "fallback_application_name";
    vals[n++] = PGCONN_APP_NAME;
    keys[n] = "dbname"; /* last: what it sets overrides the keys before it */
    vals[n++] = c->cfg.conninfo;
    keys[n] = vals[n] = NULL;
    c->pg = PQconnectStartParams(keys, vals, 1);
    if (c->pg == NULL) {
        do_break(c, "out of memory");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        do_break(c, PQerrorMessage(c->pg));
        return;
    }
    PQsetNoticeProcessor(c->pg, notice_cb, c);
    uv_timer_start(&c->timer, timer_cb, PGCONN_CONNECT_TIMEOUT_MS, 0);
    /* As if PQconnectPoll had said PGRES_POLLING_WRITING (libpq's docs). */
    if (poll_watch(c, UV_WRITABLE, true) < 0)
        do_break(c, "cannot watch the socket");
}

/* Connected: pipeline mode, prepare every statement, one sync. Behind a
 * pooler in session mode the server connection may have served a client
 * before (and kept its session when the pooler's server_reset_query is
 * empty): DEALLOCATE ALL first, or our names would already exist (42P05),
 * and statement_timeout is set, or RESET when statement_timeout_ms is 0
 * (the server's own setting), never inherited from that client. In
 * transaction mode nothing is prepared (nothing would outlive the sync's
 * transaction) and only the sync is sent. */
static void begin_prepare(pgconn *c)
{
    if (!set_state(c, PGC_PREPARING))
        return;
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
        do_break(c, PQerrorMessage(c->pg));
        return;
    }
    c->prep_failed = false;
    if (c->cfg.pooler == POOL_POOLER_SESSION) {
        const char *v[1] = {c->timeout_text};
        bool set = c->cfg.statement_timeout_ms > 0;
        if (PQsendQueryParams(c->pg, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0) != 1 ||
            PQsendQueryParams(c->pg, set ? PGCONN_SESSION_TIMEOUT_SQL : "RESET statement_timeout",
                              set ? 1 : 0, NULL, set ? v : NULL, NULL, NULL, 0) != 1) {
            do_break(c, PQerrorMessage(c->pg));
            return;
        }
    }
    for (unsigned i = 0; i < c->cfg.nstmts && c->cfg.pooler != POOL_POOLER_TRANSACTION; i++) {
        const pool_stmt *s = c->cfg.stmts[i];
        if (PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL) != 1) {
            do_break(c, PQerrorMessage(c->pg));
            return;
        }
    }
    if (PQpipelineSync(c->pg) != 1 || flush_and_watch(c) < 0)
        do_break(c, PQerrorMessage(c->pg));
}

static void connect_step(pgconn *c)
{
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_FAILED:
        do_break(c, PQerrorMessage(c->pg));
        return;
    case PGRES_POLLING_OK:
        begin_prepare(c);
        return;
    case PGRES_POLLING_READING:
        if (poll_watch(c, UV_READABLE, true) < 0)
            do_break(c, "cannot watch the socket");
        return;
    case PGRES_POLLING_WRITING:
    default:
        if (poll_watch(c, UV_WRITABLE, true) < 0)
            do_break(c, "cannot watch the socket");
        return;
    }
}

/* One result while PREPARING: COMMAND_OK per statement, NULL after each,
 * then the sync. Any failure breaks the connection at the sync (the
 * statements after a failed one come back PIPELINE_ABORTED). */
static void prep_result(pgconn *c, PGresult *r)
{
    if (r == NULL)
        return;
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        if (c->prep_failed) {
            char why[sizeof c->prep_err + 32];
            snprintf(why, sizeof why, "preparing statements: %s", c->prep_err);
            do_break(c, why);
            return;
        }
        uv_timer_stop(&c->timer);
        c->failures = 0;
        log_event(LOG_INFO, "db_conn_ready", "pg=%u statements=%u pooler=%s", c->id,
                  c->cfg.pooler == POOL_POOLER_TRANSACTION ? 0u : c->cfg.nstmts,
                  c->cfg.pooler == POOL_POOLER_TRANSACTION ? "transaction"
                  : c->cfg.pooler == POOL_POOLER_SESSION   ? "session"
                                                           : "none");
        set_state(c, PGC_READY);
        return;
    }
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !c->prep_failed) {
        c->prep_failed = true;
        snprintf(c->prep_err, sizeof c->prep_err, "%s", PQresultErrorMessage(r));
    }
    PQclear(r);
}

static void send_failed(pgconn *c, const char *stmt);

/* Puts q, just sent, at the tail of the FIFO of queries in flight, its
 * result not yet seen; sync_after: it ends a group with its own sync. The
 * first send and a resend after a broken group both start q afresh here. */
static void fifo_append(pgconn *c, pgq *q, bool sync_after)
{
    q->res = NULL;
    q->got_end = false;
    q->sync_after = sync_after;
    pgq_append(&c->head, &c->tail, q);
}

/* Puts q in libpq's buffer: by name (prepared at connect), or unnamed with
 * its text behind a pooler in transaction mode. libpq's 1 or 0. */
static int send_stmt(pgconn *c, const pgq *q)
{
    if (c->cfg.pooler == POOL_POOLER_TRANSACTION)
        return PQsendQueryParams(c->pg, q->stmt->sql, q->stmt->nparams, NULL,
                                 (const char *const *)q->values, NULL, NULL, 0);
    return PQsendQueryPrepared(c->pg, q->stmt->name, q->stmt->nparams,
                               (const char *const *)q->values, NULL, NULL, 0);
}

/* True when every sync group must open with the statement_timeout guard. */
static bool needs_guard(const pgconn *c)
{
    return c->cfg.pooler == POOL_POOLER_TRANSACTION && c->cfg.statement_timeout_ms > 0;
}

/* Sends the guard that opens a sync group (needs_guard) and puts it in the
 * FIFO. 0, or -1 when it could not be sent (then the caller's send fails
 * the same way). */
static int send_guard(pgconn *c)
{
    pgq *g = calloc(1, sizeof *g + sizeof(char *));
    if (g == NULL)
        return -1;
    g->stmt = &guard_stmt;
    g->guard = true;
    g->values = (char **)(g + 1);
    g->values[0] = c->timeout_text; /* the connection outlives its FIFO */
    if (send_stmt(c, g) != 1) {
        free(g);
        return -1;
    }
    fifo_append(c, g, false);
    return 0;
}

/* Sends q again alone (its own sync) at the tail of the FIFO; it is still
 * in flight. A failure to send leaves it in the FIFO, and the break that
 * follows completes it as lost. */
static void resend_alone(pgconn *c, pgq *q)
{
    if (!c->failing && needs_guard(c) && send_guard(c) != 0)
        send_failed(c, guard_stmt.name);
    fifo_append(c, q, true);
    if (c->failing)
        return;
    if (send_stmt(c, q) != 1 || PQpipelineSync(c->pg) != 1)
        send_failed(c, q->stmt->name);
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* Closes the open sync group (c->unsynced > 0): its last query is marked
 * sync_after and one sync is queued (PQpipelineSync, which also tries to
 * write). -1 when the sync could not be queued (the caller breaks the
 * connection: send_failed). */
static int close_group(pgconn *c)
{
    c->tail->sync_after = true;
    c->unsynced = 0;
    c->group_bytes = 0;
    return PQpipelineSync(c->pg) == 1 ? 0 : -1;
}

/* The sync that ends the group at the head of the FIFO: its transaction has
 * committed (or rolled back). Hands each result on, or, when a group of
 * several had a failure, replays every query of it alone. */
static void group_done(pgconn *c)
{
    pgq *first = c->head, *last = first;
    unsigned n = first->guard ? 0 : 1; /* the owner's queries; guards aside */
    bool ok = result_ok(first->res);
    while (!last->sync_after && last->next != NULL) {
        last = last->next;
        n += last->guard ? 0 : 1;
        ok = ok && result_ok(last->res);
    }
    c->head = last->next;
    if (c->head == NULL)
        c->tail = NULL;
    c->cur = NULL;
    last->next = NULL;
    if (!ok && n == 1 && first->guard && !result_ok(first->res) && first->next != NULL) {
        /* A query alone whose guard failed: it was not run (aborted); the
         * guard's error is the one that says why. */
        pgq *q = first->next;
        if (q->res != NULL)
            PQclear(q->res);
        q->res = first->res;
        first->res = NULL;
    }
    if (!ok && n > 1) {
        const pgq *bad = first;
        while (bad != last && result_ok(bad->res))
            bad = bad->next;
        const char *state =
            bad->res != NULL ? PQresultErrorField(bad->res, PG_DIAG_SQLSTATE) : NULL;
        log_event(LOG_DEBUG, "db_group_replayed", "pg=%u queries=%u stmt=%s sqlstate=%s msg=%s",
                  c->id, n, bad->stmt->name, state != NULL ? state : "-",
                  log_q(bad->res != NULL ? PQresultErrorMessage(bad->res) : "no result"));
        /* The open group (if any) is synced first, so no replayed query
         * joins it. */
        if (c->unsynced > 0 && !c->failing) {
            uv_prepare_stop(&c->sync_prep);
            if (close_group(c) != 0)
                send_failed(c, "sync");
        }
        for (pgq *q = first, *next; q != NULL; q = next) {
            next = q->next;
            if (q->res != NULL) {
                PQclear(q->res);
                q->res = NULL;
            }
            if (q->guard)
                free(q); /* resend_alone opens each query's group anew */
            else
                resend_alone(c, q);
        }
        return;
    }
    for (pgq *q = first, *next; q != NULL; q = next) {
        next = q->next;
        q->next = NULL;
        PGresult *res = q->res;
        q->res = NULL;
        if (q->guard) {
            if (res != NULL)
                PQclear(res);
            free(q);
            continue;
        }
        c->in_flight--;
        c->hooks.done(c->owner, c, q, res, false);
    }
    if (c->retiring && c->in_flight == 0 && !c->failing)
        uv_timer_start(&c->timer, timer_cb, 0, 0);
}

/* One result for the query results are arriving for: its result(s), a
 * NULL, then (for the last of its group) the group's sync. */
static void query_result(pgconn *c, PGresult *r)
{
    /* The first query of the group whose results have not ended. The last
     * of a group stays current once ended: an error that comes after its
     * results (at commit) is attributed to it. A query of the open group
     * may end before more are appended (libpq flushes by itself past its
     * buffer threshold), hence the walk rather than a plain next. */
    pgq *q = c->cur != NULL ? c->cur : c->head;
    while (q->got_end && !q->sync_after && q->next != NULL)
        q = q->next;
    c->cur = q;
    if (r == NULL) {
        /* Every query yields a result before its NULL; a NULL before any
         * is libpq having nothing (idle), not the end of q. */
        if (q->res != NULL)
            q->got_end = true;
        return;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        group_done(c);
        return;
    }
    if (q->res == NULL) {
        q->res = r;
    } else if (st == PGRES_FATAL_ERROR && PQresultStatus(q->res) != PGRES_FATAL_ERROR) {
        /* An error after the result (e.g. at commit) is what counts. */
        PQclear(q->res);
        q->res = r;
    } else {
        PQclear(r);
    }
}

/* Reads every result that is complete. */
static void drain(pgconn *c)
{
    unsigned nulls = 0;
    while (c->state == PGC_PREPARING || (c->state == PGC_READY && c->head != NULL)) {
        if (PQisBusy(c->pg))
            break;
        PGresult *r = PQgetResult(c->pg);
        if (r == NULL) {
            /* Two NULLs in a row: nothing more is ready yet. */
            if (++nulls > 1)
                break;
        } else {
            nulls = 0;
        }
        if (c->state == PGC_PREPARING)
            prep_result(c, r);
        else
            query_result(c, r);
    }
    if ((c->state == PGC_PREPARING || c->state == PGC_READY) && PQstatus(c->pg) == CONNECTION_BAD)
        do_break(c, PQerrorMessage(c->pg));
}

static void io_step(pgconn *c)
{
    if (PQconsumeInput(c->pg) != 1) {
        do_break(c, PQerrorMessage(c->pg));
        return;
    }
    drain(c);
    if ((c->state == PGC_PREPARING || c->state == PGC_READY) && !c->failing &&
        flush_and_watch(c) < 0)
        do_break(c, PQerrorMessage(c->pg));
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    (void)events;
    pgpoll *p = h->data;
    pgconn *c = p->c;
    enter(c);
    if (c->state == PGC_CONNECTING) {
        /* Even on an error: libuv reports a socket's POLLERR as UV_EBADF
         * (and stops the poll), which is how a refused connect shows up.
         * PQconnectPoll reads the socket's own error and, with a
         * multi-host conninfo, goes on to the next host on a new socket
         * (connect_step watches that one afresh). */
        connect_step(c);
    } else if (status < 0) {
        do_break(c, uv_strerror(status));
    } else if ((c->state == PGC_PREPARING || c->state == PGC_READY) && !c->failing) {
        io_step(c);
    }
    leave(c);
}

static void timer_cb(uv_timer_t *t)
{
    pgconn *c = t->data;
    enter(c);
    switch (c->state) {
    case PGC_CONNECTING:
    case PGC_PREPARING:
        do_break(c, "connection attempt timed out");
        break;
    case PGC_READY:
        if (c->failing)
            do_break(c, c->pg != NULL ? PQerrorMessage(c->pg) : "send failed");
        else if (c->retiring && c->in_flight == 0)
            do_break(c, c->retire_why);
        break;
    case PGC_BACKOFF:
        start_connect(c);
        break;
    default:
        break;
    }
    leave(c);
}

pgconn *pgconn_create(uv_loop_t *loop, unsigned id, const pgconn_config *cfg,
                      const pgconn_hooks *hooks, void *owner)
{
    pgconn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->loop = loop;
    c->id = id;
    c->cfg = *cfg;
    c->hooks = *hooks;
    c->owner = owner;
    c->state = PGC_IDLE;
    snprintf(c->timeout_text, sizeof c->timeout_text, "%u", cfg->statement_timeout_ms);
    uv_timer_init(loop, &c->timer); /* cannot fail */
    c->timer.data = c;
    uv_prepare_init(loop, &c->sync_prep); /* cannot fail */
    c->sync_prep.data = c;
    c->handles = 2;
    return c;
}

int pgconn_start(pgconn *c)
{
    if (c->state != PGC_IDLE)
        return -1;
    enter(c);
    start_connect(c);
    int rc = c->state == PGC_CONNECTING ? 0 : -1;
    leave(c);
    return rc;
}

/* Marks the connection failing: it breaks from a zero timer, never inside
 * the caller. */
static void send_failed(pgconn *c, const char *stmt)
{
    log_event(LOG_WARN, "db_send_failed", "pg=%u stmt=%s msg=%s", c->id, stmt,
              log_q(PQerrorMessage(c->pg)));
    c->failing = true;
    uv_prepare_stop(&c->sync_prep);
    uv_timer_start(&c->timer, timer_cb, 0, 0);
}

/* Ends the open group: one sync for it, one flush for everything. Runs just
 * before the loop polls, so every query sent during the iteration (from
 * client reads, results, timers) goes out in one write. */
static void sync_prep_cb(uv_prepare_t *h)
{
    pgconn *c = h->data;
    uv_prepare_stop(&c->sync_prep);
    if (c->failing || c->state != PGC_READY)
        return;
    if (c->unsynced > 0) {
        if (close_group(c) != 0) {
            send_failed(c, "sync");
            return;
        }
    } else if (!c->flush_pending) {
        return;
    }
    c->flush_pending = false;
    if (flush_and_watch(c) < 0)
        send_failed(c, "flush");
}

/* Sends q in a sync group of its own (q->alone): the open group, if any,
 * is synced first. 0 or -1 as pgconn_send. */
static int send_alone(pgconn *c, pgq *q)
{
    if (c->unsynced > 0 && close_group(c) != 0) {
        send_failed(c, "sync");
        return -1;
    }
    if (needs_guard(c) && send_guard(c) != 0) {
        send_failed(c, guard_stmt.name);
        return -1;
    }
    if (send_stmt(c, q) != 1) {
        send_failed(c, q->stmt->name);
        return -1;
    }
    fifo_append(c, q, true);
    c->in_flight++;
    if (PQpipelineSync(c->pg) != 1) {
        /* q is in flight: the break that follows completes it as lost. */
        send_failed(c, "sync");
        return 0;
    }
    c->flush_pending = true;
    uv_prepare_start(&c->sync_prep, sync_prep_cb);
    return 0;
}

/* About how many bytes q takes in libpq's buffer (send_stmt). */
static size_t stmt_bytes(const pgconn *c, const pgq *q)
{
    size_t n = PGCONN_MSG_OVERHEAD +
               strlen(c->cfg.pooler == POOL_POOLER_TRANSACTION ? q->stmt->sql : q->stmt->name);
    for (unsigned i = 0; i < (unsigned)q->stmt->nparams; i++)
        if (q->values[i] != NULL)
            n += strlen(q->values[i]);
    return n;
}

int pgconn_send(pgconn *c, pgq *q)
{
    if (!pgconn_ready(c))
        return -1;
    if (q->alone)
        return send_alone(c, q);
    size_t bytes = stmt_bytes(c, q);
    if (c->cfg.pooler == POOL_POOLER_TRANSACTION && c->unsynced > 0 &&
        c->group_bytes + bytes > PGCONN_GROUP_MAX_BYTES) {
        /* The open group is closed before libpq would flush part of it by
         * itself (PGCONN_GROUP_MAX_BYTES); PQpipelineSync writes it. */
        log_event(LOG_DEBUG, "db_group_split", "pg=%u queries=%u bytes=%zu", c->id, c->unsynced,
                  c->group_bytes);
        if (close_group(c) != 0) {
            send_failed(c, "sync");
            return -1;
        }
        c->flush_pending = true; /* what the sync could not write */
    }
    /* Nothing is written to the socket here (libpq buffers in pipeline
     * mode below its 64 KiB threshold); sync_prep_cb syncs and flushes.
     * (An `alone` query above is written at once by its syncs.) */
    if (c->unsynced == 0 && needs_guard(c)) {
        if (send_guard(c) != 0) {
            send_failed(c, guard_stmt.name);
            return -1;
        }
        c->group_bytes += PGCONN_MSG_OVERHEAD + strlen(guard_stmt.sql) + strlen(c->timeout_text);
    }
    if (send_stmt(c, q) != 1) {
        /* Not in the pipeline: the connection is finished before anything
         * else is sent, so the caller may send q elsewhere. Queries of the
         * open group complete as lost when it breaks. */
        send_failed(c, q->stmt->name);
        return -1;
    }
    fifo_append(c, q, false);
    c->in_flight++;
    c->group_bytes += bytes;
    if (c->unsynced++ == 0)
        uv_prepare_start(&c->sync_prep, sync_prep_cb);
    return 0;
}

void pgconn_close(pgconn *c)
{
    if (c->depth > 0) {
        c->close_pending = true;
        return;
    }
    do_close(c);
}

void pgconn_free(pgconn *c)
{
    free(c);
}

pgconn_state pgconn_get_state(const pgconn *c) { return c->state; }
unsigned pgconn_in_flight(const pgconn *c) { return c->in_flight; }

bool pgconn_any_in_flight(const pgconn *c, bool (*pred)(const pool_stmt *stmt))
{
    /* At most pipeline_depth queries: a walk is cheaper than keeping a
     * second count right on every path that completes or resends one. */
    for (const pgq *q = c->head; q != NULL; q = q->next)
        if (pred(q->stmt))
            return true;
    return false;
}
unsigned pgconn_id(const pgconn *c) { return c->id; }

bool pgconn_ready(const pgconn *c)
{
    return c->state == PGC_READY && !c->failing && !c->close_pending && !c->retiring;
}

void pgconn_retire(pgconn *c, const char *why)
{
    if (c->state != PGC_READY || c->retiring || c->failing)
        return;
    c->retiring = true;
    uint64_t now = uv_now(c->loop);
    c->retires = c->last_retire_ms != 0 && now - c->last_retire_ms < PGCONN_RETIRE_RESET_MS
                     ? c->retires + 1
                     : 0;
    c->last_retire_ms = now;
    snprintf(c->retire_why, sizeof c->retire_why, "%s", why != NULL ? why : "retired");
    log_event(LOG_WARN, "db_conn_retiring", "pg=%u in_flight=%u reason=%s", c->id, c->in_flight,
              log_q(c->retire_why));
    /* Never inside the caller (it may be a done hook of this connection):
     * the zero timer breaks it once nothing is in flight (group_done
     * starts it again when the last query is handed on). */
    if (c->in_flight == 0)
        uv_timer_start(&c->timer, timer_cb, 0, 0);
}

void pgconn_kick(pgconn *c)
{
    /* A backoff after a retirement stands: the connection reached a standby
     * and another one getting through says nothing about where it would go
     * now; kicked, connections retired by every write would reconnect at
     * the write rate. */
    if (c->state != PGC_BACKOFF || c->backoff_retired)
        return;
    unsigned lo = c->cfg.reconnect_min_ms > 0 ? c->cfg.reconnect_min_ms : 1;
    unsigned delay = (unsigned)rand() % (lo + 1);
    if (uv_timer_get_due_in(&c->timer) <= delay)
        return; /* due sooner anyway */
    log_event(LOG_INFO, "db_conn_kicked", "pg=%u retry_ms=%u", c->id, delay);
    uv_timer_start(&c->timer, timer_cb, delay, 0);
}
