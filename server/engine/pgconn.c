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

/* libpq does not time out a non-blocking connect by itself. */
#define PGCONN_CONNECT_TIMEOUT_MS 10000u
/* Server-side guard so one runaway query cannot hold a slot forever. */
#define PGCONN_OPTIONS "-c statement_timeout=30000"
#define PGCONN_APP_NAME "baobaod"
/* Doubling stops here; reconnect_max_ms caps the delay anyway. */
#define PGCONN_MAX_BACKOFF_SHIFT 20u

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
    bool flush_pending;        /* a query sent alone waits for the flush */

    unsigned failures;         /* consecutive, for backoff; 0 after READY */
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
    c->failing = false;
    c->prep_failed = false;
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
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
     * operator wrote wins over our defaults. */
    const char *keys[] = {"options", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {PGCONN_OPTIONS, PGCONN_APP_NAME, c->cfg.conninfo, NULL};
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

/* Connected: pipeline mode, prepare every statement, one sync. */
static void begin_prepare(pgconn *c)
{
    if (!set_state(c, PGC_PREPARING))
        return;
    if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
        do_break(c, PQerrorMessage(c->pg));
        return;
    }
    c->prep_failed = false;
    for (unsigned i = 0; i < c->cfg.nstmts; i++) {
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
        log_event(LOG_INFO, "db_conn_ready", "pg=%u statements=%u", c->id, c->cfg.nstmts);
        set_state(c, PGC_READY);
        return;
    }
    if (st != PGRES_COMMAND_OK && !c->prep_failed) {
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

/* Sends q again alone (its own sync) at the tail of the FIFO; it is still
 * in flight. A failure to send leaves it in the FIFO, and the break that
 * follows completes it as lost. */
static void resend_alone(pgconn *c, pgq *q)
{
    fifo_append(c, q, true);
    if (c->failing)
        return;
    if (PQsendQueryPrepared(c->pg, q->stmt->name, q->stmt->nparams,
                            (const char *const *)q->values, NULL, NULL, 0) != 1 ||
        PQpipelineSync(c->pg) != 1)
        send_failed(c, q->stmt->name);
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

/* The sync that ends the group at the head of the FIFO: its transaction has
 * committed (or rolled back). Hands each result on, or, when a group of
 * several had a failure, replays every query of it alone. */
static void group_done(pgconn *c)
{
    pgq *first = c->head, *last = first;
    unsigned n = 1;
    bool ok = result_ok(first->res);
    while (!last->sync_after && last->next != NULL) {
        last = last->next;
        n++;
        ok = ok && result_ok(last->res);
    }
    c->head = last->next;
    if (c->head == NULL)
        c->tail = NULL;
    c->cur = NULL;
    last->next = NULL;
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
            c->tail->sync_after = true;
            c->unsynced = 0;
            uv_prepare_stop(&c->sync_prep);
            if (PQpipelineSync(c->pg) != 1)
                send_failed(c, "sync");
        }
        for (pgq *q = first, *next; q != NULL; q = next) {
            next = q->next;
            if (q->res != NULL) {
                PQclear(q->res);
                q->res = NULL;
            }
            resend_alone(c, q);
        }
        return;
    }
    for (pgq *q = first, *next; q != NULL; q = next) {
        next = q->next;
        q->next = NULL;
        c->in_flight--;
        PGresult *res = q->res;
        q->res = NULL;
        c->hooks.done(c->owner, c, q, res, false);
    }
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
    if (status < 0) {
        do_break(c, uv_strerror(status));
    } else if (c->state == PGC_CONNECTING) {
        connect_step(c);
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
        c->tail->sync_after = true;
        c->unsynced = 0;
        if (PQpipelineSync(c->pg) != 1) {
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
    if (c->unsynced > 0) {
        c->tail->sync_after = true;
        c->unsynced = 0;
        if (PQpipelineSync(c->pg) != 1) {
            send_failed(c, "sync");
            return -1;
        }
    }
    if (PQsendQueryPrepared(c->pg, q->stmt->name, q->stmt->nparams,
                            (const char *const *)q->values, NULL, NULL, 0) != 1) {
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

int pgconn_send(pgconn *c, pgq *q)
{
    if (!pgconn_ready(c))
        return -1;
    if (q->alone)
        return send_alone(c, q);
    /* Nothing is written to the socket here (libpq buffers in pipeline
     * mode below its 64 KiB threshold); sync_prep_cb syncs and flushes.
     * (An `alone` query above is written at once by its syncs.) */
    if (PQsendQueryPrepared(c->pg, q->stmt->name, q->stmt->nparams,
                            (const char *const *)q->values, NULL, NULL, 0) != 1) {
        /* Not in the pipeline: the connection is finished before anything
         * else is sent, so the caller may send q elsewhere. Queries of the
         * open group complete as lost when it breaks. */
        send_failed(c, q->stmt->name);
        return -1;
    }
    fifo_append(c, q, false);
    c->in_flight++;
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
    return c->state == PGC_READY && !c->failing && !c->close_pending;
}
