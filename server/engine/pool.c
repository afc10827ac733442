/*
 * pool.c: the pool of pgconn connections (see pool.h).
 *
 * For: the statement registry, choosing a connection (the READY one with
 * the fewest queries in flight, below pipeline_depth), a bounded FIFO queue
 * for when every slot is taken, mapping PostgreSQL errors to protocol codes,
 * and shutting the connections down. Not for: talking to libpq (pgconn.c)
 * or building SQL.
 *
 * SQLSTATE -> protocol code: the table `sqlstates` below (the BBxxx states
 * the stored functions in sql/ raise, with the argument's key in COLUMN;
 * the states after which a retry may work), and 23505 on a constraint a
 * module named (pool_name_constraint) -> already_exists. Anything else
 * is internal, logged here with sqlstate and message. The pool knows no
 * table or constraint of the domain.
 *
 * Ownership: the pool owns its pgconns, its copy of conninfo and every pgq
 * (queued or in flight). A pgq is freed right after its callback returns.
 */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"

/* Statements registered by all domain areas together. */
#define POOL_MAX_STMTS 256u

static const pool_stmt *registry[POOL_MAX_STMTS];
static unsigned nregistered;
/* The heavy ones among them (pool_register_heavy); a handful at most. */
#define POOL_MAX_HEAVY_STMTS 8
static const pool_stmt *heavy[POOL_MAX_HEAVY_STMTS];
static unsigned nheavy;

struct pool {
    uv_loop_t *loop;
    pool_config cfg;
    char *conninfo;            /* owned copy */
    pgconn **conns;            /* owned, cfg.size of them */
    unsigned nconns;
    unsigned nclosed;
    pgq *qhead, *qtail;        /* waiting for a slot, FIFO */
    unsigned queued;
    bool closing;
    /* True from pool_create until a connection first becomes READY or
     * fails: requests then wait in the queue instead of getting
     * unavailable, so a server that has just started (and just migrated,
     * so the database is up) does not refuse its first clients. */
    bool starting;
    void (*done)(void *arg);
    void *done_arg;
};

/* Appends stmt to a fixed-size list (the registry, the heavy ones); when
 * the list is full, logs why (full: the reason) and returns -1. */
static int list_add(const pool_stmt **list, unsigned *n, unsigned max, const pool_stmt *stmt,
                    const char *full)
{
    if (*n >= max) {
        log_event(LOG_ERROR, "pool_register_failed", "stmt=%s reason=\"%s\"", stmt->name, full);
        return -1;
    }
    list[(*n)++] = stmt;
    return 0;
}

int pool_register(const pool_stmt *stmt)
{
    for (unsigned i = 0; i < nregistered; i++) {
        if (registry[i] == stmt)
            return 0;
        if (strcmp(registry[i]->name, stmt->name) == 0) {
            log_event(LOG_ERROR, "pool_register_failed", "stmt=%s reason=\"duplicate name\"",
                      stmt->name);
            return -1;
        }
    }
    return list_add(registry, &nregistered, POOL_MAX_STMTS, stmt, "registry full");
}

int pool_register_heavy(const pool_stmt *stmt)
{
    if (pool_register(stmt) != 0)
        return -1;
    for (unsigned i = 0; i < nheavy; i++)
        if (heavy[i] == stmt)
            return 0;
    return list_add(heavy, &nheavy, POOL_MAX_HEAVY_STMTS, stmt, "too many heavy statements");
}

static bool is_heavy(const pool_stmt *stmt)
{
    for (unsigned i = 0; i < nheavy; i++)
        if (heavy[i] == stmt)
            return true;
    return false;
}

size_t pool_values_bytes(const pool_stmt *stmt, const char *const *values, const int *lengths)
{
    size_t n = stmt->nparams > 0 ? (size_t)stmt->nparams : 0;
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        if (values[i] != NULL)
            bytes += (lengths != NULL && lengths[i] >= 0 ? (size_t)lengths[i]
                                                         : strlen(values[i])) + 1;
    return bytes;
}

char **pool_values_copy(void *dst, const pool_stmt *stmt, const char *const *values,
                        const int *lengths)
{
    size_t n = stmt->nparams > 0 ? (size_t)stmt->nparams : 0;
    char **out = dst;
    char *text = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        if (values[i] == NULL)
            continue;
        size_t len = lengths != NULL && lengths[i] >= 0 ? (size_t)lengths[i] : strlen(values[i]);
        memcpy(text, values[i], len);
        text[len] = '\0';
        out[i] = text;
        text += len + 1;
    }
    return out;
}

static pgq *pgq_make(const pool_stmt *stmt, const char *const *values, const int *lengths,
                     pool_cb cb, void *arg)
{
    pgq *q = malloc(sizeof(pgq) + pool_values_bytes(stmt, values, lengths));
    if (q == NULL)
        return NULL;
    memset(q, 0, sizeof *q);
    q->stmt = stmt;
    q->cb = cb;
    q->arg = arg;
    q->alone = is_heavy(stmt);
    q->values = pool_values_copy(q + 1, stmt, values, lengths);
    return q;
}

static void pgq_free(pgq *q)
{
    if (q->res != NULL)
        PQclear(q->res);
    free(q);
}


/* SQLSTATEs and the codes clients see, PostgREST-style: one table. An
 * entry of two characters is a class. The BBxxx states are raised by the
 * stored functions in sql/ (field in COLUMN); the others mean the
 * database could not do it now, so a retry may succeed. Anything else is
 * `internal`. */
static const struct {
    const char *state;
    bb_err err;
} sqlstates[] = {
    {"BB400", BB_E_INVALID_ARGUMENT}, {"BB404", BB_E_NOT_FOUND},
    {"BB409", BB_E_VERSION_CONFLICT}, {"BB410", BB_E_ALREADY_EXISTS},
    {"BB401", BB_E_UNAUTHENTICATED},  {"BB403", BB_E_FORBIDDEN},
    {"BB422", BB_E_IDEMPOTENCY_KEY_REUSED}, {"BB411", BB_E_DUPLICATE_REPORT},
    {"08", BB_E_UNAVAILABLE},         {"53", BB_E_UNAVAILABLE},
    {"57P01", BB_E_UNAVAILABLE},      {"57P02", BB_E_UNAVAILABLE},
    {"57P03", BB_E_UNAVAILABLE},      {"57014", BB_E_UNAVAILABLE},
    {"40001", BB_E_UNAVAILABLE},      {"40P01", BB_E_UNAVAILABLE},
    /* A standby (read_only_sql_transaction: a write, nextval or NOTIFY in
     * recovery): the connection is retired too (is_standby_state). */
    {"25006", BB_E_UNAVAILABLE},
};

/* SQLSTATEs that say the connection reaches a standby, not the primary:
 * it is retired and connects again (pgconn_retire), so a multi-host
 * conninfo with target_session_attrs=read-write finds the primary after a
 * promote. A write refused in recovery says 25006 whatever it was (INSERT,
 * nextval, pg_notify, a function that writes). */
static bool is_standby_state(const char *state)
{
    return state != NULL && strcmp(state, "25006") == 0;
}

int pool_pooler_parse(const char *name)
{
    if (name == NULL || strcmp(name, "none") == 0 || name[0] == '\0')
        return POOL_POOLER_NONE;
    if (strcmp(name, "session") == 0)
        return POOL_POOLER_SESSION;
    if (strcmp(name, "transaction") == 0)
        return POOL_POOLER_TRANSACTION;
    return -1;
}

bb_err pool_map_sqlstate(const char *state)
{
    for (size_t i = 0; state != NULL && i < sizeof sqlstates / sizeof sqlstates[0]; i++)
        if (strncmp(state, sqlstates[i].state, strlen(sqlstates[i].state)) == 0)
            return sqlstates[i].err;
    return BB_E_INTERNAL;
}

/* Unique constraints named by the modules (pool_name_constraint). */
static pool_constraint constraints[POOL_MAX_CONSTRAINTS];
static size_t nconstraints;

int pool_name_constraint(const pool_constraint *c)
{
    if (nconstraints == POOL_MAX_CONSTRAINTS)
        return -1;
    constraints[nconstraints++] = *c;
    return 0;
}

/* Fills e from a failed result. */
static void map_error(const pool *p, pgconn *c, const pgq *q, const PGresult *res,
                      pool_error *e)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    e->sqlstate = state;
    e->message = msg != NULL ? msg : PQresultErrorMessage(res);
    e->field = PQresultErrorField(res, PG_DIAG_COLUMN_NAME);
    e->err = BB_E_INTERNAL;
    (void)p;
    if (state == NULL) {
        /* Not from the server: libpq's own (e.g. PIPELINE_ABORTED). */
    } else if (strcmp(state, "23505") == 0) {
        const char *cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
        for (size_t i = 0; cons != NULL && i < nconstraints; i++)
            if (strcmp(cons, constraints[i].name) == 0) {
                e->err = BB_E_ALREADY_EXISTS;
                e->field = constraints[i].field;
                e->message = constraints[i].message;
            }
    } else {
        e->err = pool_map_sqlstate(state);
        if (is_standby_state(state))
            pgconn_retire(c, "a write was refused as read-only (25006): a standby?");
    }
    if (e->err == BB_E_INTERNAL)
        log_event(LOG_ERROR, "db_query_failed", "pg=%u stmt=%s sqlstate=%s msg=%s", pgconn_id(c),
                  q->stmt->name, state != NULL ? state : "-", log_q(PQresultErrorMessage(res)));
    else if (e->err == BB_E_UNAVAILABLE)
        log_event(LOG_WARN, "db_query_unavailable", "pg=%u stmt=%s sqlstate=%s msg=%s",
                  pgconn_id(c), q->stmt->name, state, log_q(e->message));
}

/* Runs q's callback once; then frees q and res. */
static void deliver(pool *p, pgconn *c, pgq *q, PGresult *res, bool conn_lost)
{
    pool_error e;
    memset(&e, 0, sizeof e);
    if (conn_lost) {
        e.err = BB_E_UNAVAILABLE;
        e.message = "the database connection was lost";
        q->cb(q->arg, NULL, &e);
    } else if (res == NULL) {
        log_event(LOG_ERROR, "db_query_failed", "pg=%u stmt=%s msg=\"no result\"", pgconn_id(c),
                  q->stmt->name);
        e.err = BB_E_INTERNAL;
        e.message = "no result from the database";
        q->cb(q->arg, NULL, &e);
    } else {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            q->cb(q->arg, res, NULL);
        } else {
            map_error(p, c, q, res, &e);
            q->cb(q->arg, NULL, &e);
        }
        PQclear(res);
    }
    pgq_free(q);
}

/* Completes every queued query with err (not sent: nothing was done). */
static void fail_queue(pool *p, bb_err err, const char *message)
{
    pgq *list = p->qhead;
    p->qhead = p->qtail = NULL;
    p->queued = 0;
    while (list != NULL) {
        pgq *q = list;
        list = q->next;
        pool_error e = {.err = err, .message = message};
        q->cb(q->arg, NULL, &e);
        pgq_free(q);
    }
}

/* The READY connection with a free slot and, first, no heavy statement
 * in flight (pool_register_heavy: a read queued behind a group-commit
 * batch or a sweep on one connection would wait for it to finish; two
 * batches on one connection would commit one after the other), then the
 * fewest queries in flight. */
static pgconn *pick(const pool *p)
{
    pgconn *best = NULL;
    bool best_busy = false;
    for (unsigned i = 0; i < p->nconns; i++) {
        pgconn *c = p->conns[i];
        if (!pgconn_ready(c) || pgconn_in_flight(c) >= p->cfg.pipeline_depth)
            continue;
        bool busy = nheavy > 0 && pgconn_any_in_flight(c, is_heavy);
        if (best == NULL || (best_busy && !busy) ||
            (busy == best_busy && pgconn_in_flight(c) < pgconn_in_flight(best))) {
            best = c;
            best_busy = busy;
        }
    }
    return best;
}

static unsigned count_ready(const pool *p)
{
    unsigned n = 0;
    for (unsigned i = 0; i < p->nconns; i++)
        if (pgconn_ready(p->conns[i]))
            n++;
    return n;
}

/* Sends queued queries while there are free slots. */
static void pump(pool *p)
{
    while (p->qhead != NULL) {
        pgconn *c = pick(p);
        if (c == NULL)
            return;
        pgq *q = p->qhead;
        p->qhead = q->next;
        if (p->qhead == NULL)
            p->qtail = NULL;
        p->queued--;
        q->next = NULL;
        if (pgconn_send(c, q) != 0) {
            /* c is failing now and no longer picked; q goes back first. */
            q->next = p->qhead;
            p->qhead = q;
            if (p->qtail == NULL)
                p->qtail = q;
            p->queued++;
        }
    }
}

static void hook_done(void *owner, pgconn *c, pgq *q, PGresult *res, bool conn_lost)
{
    pool *p = owner;
    deliver(p, c, q, res, conn_lost);
    if (p->closing) {
        if (pgconn_in_flight(c) == 0)
            pgconn_close(c);
    } else {
        pump(p);
    }
}

static void pool_free(pool *p)
{
    for (unsigned i = 0; i < p->nconns; i++)
        pgconn_free(p->conns[i]);
    free(p->conns);
    free(p->conninfo);
    free(p);
}

static void hook_state(void *owner, pgconn *c, pgconn_state from, pgconn_state to)
{
    pool *p = owner;
    if (p->starting && (to == PGC_READY || to == PGC_BROKEN || to == PGC_BACKOFF)) {
        p->starting = false;
        if (to != PGC_READY && count_ready(p) == 0 && p->qhead != NULL) {
            log_event(LOG_WARN, "pool_queue_failed",
                      "queued=%u reason=\"first connection attempt failed\"", p->queued);
            fail_queue(p, BB_E_UNAVAILABLE, "the database is unavailable");
        }
    }
    if (to == PGC_READY) {
        if (p->closing) {
            pgconn_close(c);
        } else {
            /* The database is back: the others need not sit out their
             * backoff (POOL_PROBE_MAX_MS). Not those retired from a
             * standby: pgconn_kick leaves their backoff alone. */
            for (unsigned i = 0; i < p->nconns; i++)
                if (p->conns[i] != c)
                    pgconn_kick(p->conns[i]);
            pump(p);
        }
    } else if (from == PGC_READY && count_ready(p) == 0 && p->qhead != NULL) {
        /* The last connection went: nobody will serve the queue soon. */
        log_event(LOG_WARN, "pool_queue_failed", "queued=%u reason=\"no connection left\"",
                  p->queued);
        fail_queue(p, BB_E_UNAVAILABLE, "the database is unavailable");
    }
    if (to == PGC_BACKOFF && p->closing)
        pgconn_close(c);
    if (to == PGC_CLOSED && ++p->nclosed == p->nconns && p->closing) {
        log_event(LOG_INFO, "pool_closed", "connections=%u", p->nconns);
        if (p->done != NULL)
            p->done(p->done_arg);
        pool_free(p);
    }
}

static const pgconn_hooks hooks = {.done = hook_done, .state = hook_state};

pool *pool_create(uv_loop_t *loop, const pool_config *cfg)
{
    pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->loop = loop;
    p->cfg = *cfg;
    p->starting = true;
    if (p->cfg.size == 0)
        p->cfg.size = 1;
    if (p->cfg.pipeline_depth == 0)
        p->cfg.pipeline_depth = 1;
    if (p->cfg.reconnect_max_ms < p->cfg.reconnect_min_ms)
        p->cfg.reconnect_max_ms = p->cfg.reconnect_min_ms;
    p->conninfo = strdup(cfg->conninfo != NULL ? cfg->conninfo : "");
    p->conns = calloc(p->cfg.size, sizeof *p->conns);
    if (p->conninfo == NULL || p->conns == NULL) {
        free(p->conninfo);
        free(p->conns);
        free(p);
        return NULL;
    }
    p->cfg.conninfo = p->conninfo;
    pgconn_config cc = {
        .conninfo = p->conninfo,
        .stmts = registry,
        .nstmts = nregistered,
        .reconnect_min_ms = p->cfg.reconnect_min_ms,
        .reconnect_max_ms = p->cfg.reconnect_max_ms,
        .pooler = p->cfg.pooler,
        .statement_timeout_ms = p->cfg.statement_timeout_ms,
    };
    for (unsigned i = 0; i < p->cfg.size; i++) {
        /* The first is the probe (POOL_PROBE_MAX_MS); pgconn copies cc. */
        pgconn_config ci = cc;
        if (i == 0 && ci.reconnect_max_ms > POOL_PROBE_MAX_MS)
            ci.reconnect_max_ms =
                ci.reconnect_min_ms > POOL_PROBE_MAX_MS ? ci.reconnect_min_ms : POOL_PROBE_MAX_MS;
        pgconn *c = pgconn_create(loop, i + 1, &ci, &hooks, p);
        if (c == NULL)
            break;
        p->conns[p->nconns++] = c;
    }
    if (p->nconns < p->cfg.size) {
        /* Out of memory: close what was made; the pool frees itself. */
        log_event(LOG_ERROR, "pool_create_failed", "reason=\"out of memory\"");
        if (p->nconns == 0) {
            pool_free(p);
            return NULL;
        }
        pool_close(p, NULL, NULL);
        return NULL;
    }
    log_event(LOG_INFO, "pool_starting", "size=%u pipeline_depth=%u queue_max=%u statements=%u",
              p->cfg.size, p->cfg.pipeline_depth, p->cfg.queue_max, nregistered);
    for (unsigned i = 0; i < p->nconns; i++)
        (void)pgconn_start(p->conns[i]); /* a failed start retries by itself */
    return p;
}

int pool_query(pool *p, const pool_stmt *stmt, const char *const *values, const int *lengths,
               pool_cb cb, void *arg)
{
    if (p->closing)
        return -BB_E_SHUTTING_DOWN;
    if (count_ready(p) == 0 && !p->starting)
        return -BB_E_UNAVAILABLE;
    pgq *q = pgq_make(stmt, values, lengths, cb, arg);
    if (q == NULL)
        return -BB_E_INTERNAL;
    /* Keep FIFO order: only skip the queue when it is empty. */
    if (p->qhead == NULL) {
        pgconn *c;
        while ((c = pick(p)) != NULL)
            if (pgconn_send(c, q) == 0)
                return 0;
        if (count_ready(p) == 0 && !p->starting) {
            pgq_free(q);
            return -BB_E_UNAVAILABLE;
        }
    }
    if (p->queued >= p->cfg.queue_max) {
        log_event(LOG_WARN, "pool_queue_full", "queued=%u stmt=%s", p->queued, stmt->name);
        pgq_free(q);
        return -BB_E_UNAVAILABLE;
    }
    pgq_append(&p->qhead, &p->qtail, q);
    p->queued++;
    return 0;
}

bool pool_available(const pool *p)
{
    return p != NULL && !p->closing && count_ready(p) > 0;
}

void pool_stats(const pool *p, unsigned *ready, unsigned *total, unsigned *queued)
{
    if (ready != NULL)
        *ready = p != NULL ? count_ready(p) : 0;
    if (total != NULL)
        *total = p != NULL ? p->nconns : 0;
    if (queued != NULL)
        *queued = p != NULL ? p->queued : 0;
}

unsigned pool_in_flight(const pool *p)
{
    unsigned n = 0;
    for (unsigned i = 0; p != NULL && i < p->nconns; i++)
        n += pgconn_in_flight(p->conns[i]);
    return n;
}

void pool_close(pool *p, void (*done)(void *arg), void *arg)
{
    if (p->closing)
        return;
    p->closing = true;
    p->done = done;
    p->done_arg = arg;
    log_event(LOG_INFO, "pool_closing", "queued=%u", p->queued);
    fail_queue(p, BB_E_SHUTTING_DOWN, "the server is shutting down");
    /* Connections with queries in flight close when the last one is done
     * (hook_done). Closing is asynchronous: p outlives this loop and is
     * freed from the last connection's CLOSED hook. */
    for (unsigned i = 0; i < p->nconns; i++) {
        pgconn *c = p->conns[i];
        pgconn_state s = pgconn_get_state(c);
        if (s != PGC_CLOSING && s != PGC_CLOSED && pgconn_in_flight(c) == 0)
            pgconn_close(c);
    }
}

void pool_abort(pool *p)
{
    if (!p->closing)
        pool_close(p, p->done, p->done_arg);
    log_event(LOG_WARN, "pool_aborting", "reason=\"shutdown deadline\"");
    /* pgconn_close completes in-flight queries as lost (unavailable). The
     * last connection's CLOSED hook frees p, so p must not be touched once
     * the last one is closed: count first. */
    unsigned n = p->nconns;
    pgconn **conns = p->conns;
    unsigned open = 0;
    for (unsigned i = 0; i < n; i++) {
        pgconn_state s = pgconn_get_state(conns[i]);
        if (s != PGC_CLOSING && s != PGC_CLOSED)
            open++;
    }
    for (unsigned i = 0; i < n && open > 0; i++) {
        pgconn_state s = pgconn_get_state(conns[i]);
        if (s != PGC_CLOSING && s != PGC_CLOSED) {
            open--;
            pgconn_close(conns[i]);
        }
    }
}
