/*
 * replica.c: the read pool, the replica's horizon, and the choice of pool
 * for a statement (replica.h says the rule).
 *
 * The horizon, measured every replica_every_ms(read_max_lag_ms) on the
 * loop:
 *   1. at t0 (uv_now) the primary is asked for pg_current_wal_lsn() = P;
 *   2. at t1 the replica is asked whether it replayed up to P, and how old
 *      its last replayed commit is (now() - pg_last_xact_replay_timestamp()
 *      = L ms);
 *   3. replayed up to P: every commit acknowledged before t0 is on the
 *      replica, horizon = t0. Else horizon = t1 - L (t1 is taken before the
 *      replica reads its clock, so this is never later than the commit it
 *      replayed last), kept below t0. A read_db that is not in recovery
 *      has horizon t0 when it is the server db reaches (same system
 *      identifier and postmaster start time); any other (a promoted or
 *      split-off replica) is not used at all.
 * A measurement that fails, or a replica that has replayed nothing yet
 * (L unknown), leaves the horizon where it was: it only ages.
 *
 * Recent writes are kept in a table of REPLICA_WRITE_SLOTS slots indexed
 * by a hash of the user id: the end of the user's last request of a method
 * that may write, and how many are in flight. Process-local: see replica.h.
 *
 * Not for: connecting or sending (pool.c), binding values (mstmt.c).
 */
#include "replica.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "method.h"
#include "request.h"
#include "server.h"

/* The primary's WAL position (NULL on a standby, a misdirected `db`:
 * nothing is measured then; CASE keeps pg_current_wal_lsn from running in
 * recovery, where it fails), and which server it is. */
static const pool_stmt st_primary_lsn = {
    .name = "replica_primary_lsn",
    .sql = "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END,"
           " " REPLICA_SERVER_ID,
    .nparams = 0};
/* On the replica: in recovery?, replayed up to $1?, age of the last
 * replayed commit in ms (NULL: none replayed since it started), and, when
 * not in recovery, which server it is. */
static const pool_stmt st_replay = {
    .name = "replica_replay",
    .sql = "SELECT pg_is_in_recovery(),"
           " coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false),"
           " (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::bigint,"
           " CASE WHEN pg_is_in_recovery() THEN NULL ELSE " REPLICA_SERVER_ID " END",
    .nparams = 1};

typedef struct write_slot {
    uint64_t last_end_ms;      /* uv_now when the last write request ended */
    uint32_t in_flight;
} write_slot;

static struct {
    server *s;
    pool *read;                /* NULL: no read_db, or stopped */
    pool *closing;             /* the read pool while it closes */
    uv_timer_t timer;
    bool timer_open;
    uint64_t every_ms;         /* replica_every_ms(read_max_lag_ms) */
    bool measuring;            /* a measurement is in flight */
    bool horizon_known;
    uint64_t horizon_ms;
    uint64_t t0_ms, t1_ms;     /* the measurement in flight */
    char primary_id[REPLICA_SERVER_ID_MAX]; /* REPLICA_SERVER_ID of db, same measurement */
    /* read_db is out of recovery and is not the server db reaches (a
     * promoted or split-off replica): its answers follow no primary we
     * write to, so it is not used until it is in recovery again. */
    bool foreign;
    uint64_t floor_ms;         /* replica_all_changed: no reads until the horizon passes it */
    bool was_in_use;           /* for the log line when it changes */
    uint64_t to_replica, to_primary, fallbacks;
    write_slot slots[REPLICA_WRITE_SLOTS];
} R;

static void replica_count_fallback(void) { R.fallbacks++; }

static write_slot *slot_of(int64_t user)
{
    uint64_t h = (uint64_t)user * UINT64_C(0x9E3779B97F4A7C15);
    return &R.slots[(h >> 32) % REPLICA_WRITE_SLOTS];
}

void replica_write_begin(int64_t user)
{
    if (user != 0)
        slot_of(user)->in_flight++;
}

void replica_write_end(int64_t user, uint64_t now_ms)
{
    if (user == 0)
        return;
    write_slot *w = slot_of(user);
    if (w->in_flight > 0)
        w->in_flight--;
    if (now_ms > w->last_end_ms)
        w->last_end_ms = now_ms;
}

void replica_user_changed(int64_t user_id, uint64_t now_ms)
{
    if (user_id == 0)
        return;
    write_slot *w = slot_of(user_id);
    /* The same barrier as the user's own write: reads at or before the
     * horizon passing now_ms go to the primary. */
    if (now_ms > w->last_end_ms)
        w->last_end_ms = now_ms;
}

void replica_all_changed(uint64_t now_ms)
{
    if (now_ms > R.floor_ms)
        R.floor_ms = now_ms;
}

uint64_t replica_every_ms(uint32_t max_lag_ms)
{
    uint64_t every = max_lag_ms / REPLICA_LAG_EVERY_PARTS;
    if (max_lag_ms == 0 || every > REPLICA_LAG_EVERY_MS)
        return REPLICA_LAG_EVERY_MS;
    return every < REPLICA_LAG_EVERY_MIN_MS ? REPLICA_LAG_EVERY_MIN_MS : every;
}

static void note_in_use(void);

/* True when reads of a user with no recent write may go to the replica. */
static bool replica_usable(uint64_t now)
{
    return R.read != NULL && pool_available(R.read) && R.horizon_known && !R.foreign &&
           now - R.horizon_ms <= R.s->cfg.read_max_lag_ms;
}

bool replica_wants(server *s, const bb_method_spec *m, int64_t user)
{
    if (m == NULL || (m->flags & BB_M_REPLICA) == 0)
        return false;
    uint64_t now = uv_now(s->loop);
    bool ok = replica_usable(now);
    if (ok != R.was_in_use)
        note_in_use(); /* the lag crossed the limit between two measurements */
    /* A change to anyone's rights may have gone unheard before floor_ms. */
    if (ok && R.floor_ms != 0 && R.horizon_ms <= R.floor_ms)
        ok = false;
    if (ok && user != 0) {
        const write_slot *w = slot_of(user);
        ok = w->in_flight == 0 && w->last_end_ms < R.horizon_ms;
    }
    if (ok)
        R.to_replica++;
    else
        R.to_primary++;
    return ok;
}

/* A read sent to the replica: what it takes to send it again to the
 * primary. One allocation (the values follow the struct), owned by
 * replica_query until its callback ran. */
typedef struct rq {
    const pool_stmt *stmt;
    request *req;              /* the request it reads for (alive until cb) */
    pool_cb cb;
    void *arg;
    char **vals;               /* nparams copies, NUL-terminated; NULL = SQL NULL */
} rq;

static rq *rq_make(request *req, const pool_stmt *stmt, const char *const *values,
                   const int *lengths, pool_cb cb, void *arg)
{
    rq *q = malloc(sizeof(rq) + pool_values_bytes(stmt, values, lengths));
    if (q == NULL)
        return NULL;
    *q = (rq){.stmt = stmt, .req = req, .cb = cb, .arg = arg};
    q->vals = pool_values_copy(q + 1, stmt, values, lengths);
    return q;
}

/* The replica could not answer, but the primary can: the connection was
 * lost, or a query was cancelled by a recovery conflict (40001), or the
 * replica is shutting down. Not a refused write (25006: a method declared
 * BB_M_REPLICA that writes is a bug to see, not to hide) nor a statement
 * timeout (57014: the primary would be as slow). */
static bool retry_on_primary(const pool_error *e)
{
    if (e->err != BB_E_UNAVAILABLE)
        return false;
    const char *st = e->sqlstate;
    return st == NULL || strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
           strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0;
}

/* The request's later statements go to the primary too: one request
 * reads one server (mstmt.c). */
static void send_to_primary(rq *q)
{
    replica_count_fallback();
    req_set_route(q->req, REQ_ROUTE_PRIMARY);
    int rc = pool_query(R.s->pool, q->stmt, (const char *const *)q->vals, NULL, q->cb, q->arg);
    if (rc != 0) {
        pool_error e2 = {.err = (bb_err)-rc,
                         .message = rc == -BB_E_SHUTTING_DOWN ? "the server is shutting down"
                                                              : "the database is unavailable"};
        q->cb(q->arg, NULL, &e2);
    }
}

static void rq_done(void *arg, const PGresult *res, const pool_error *e)
{
    rq *q = arg;
    if (e != NULL && retry_on_primary(e) && R.s != NULL && R.s->pool != NULL) {
        log_req(LOG_INFO, req_conn_id(q->req), req_msgid(q->req), "replica_read_retried",
                "stmt=%s sqlstate=%s msg=%s", q->stmt->name,
                e->sqlstate != NULL ? e->sqlstate : "-",
                log_q(e->message != NULL ? e->message : "-"));
        send_to_primary(q);
    } else {
        q->cb(q->arg, res, e);
    }
    free(q);
}

int replica_query(server *s, request *req, const pool_stmt *stmt, const char *const *values,
                  const int *lengths, pool_cb cb, void *arg)
{
    rq *q = rq_make(req, stmt, values, lengths, cb, arg);
    if (q == NULL)
        return -BB_E_INTERNAL;
    int rc = R.read != NULL ? pool_query(R.read, stmt, values, lengths, rq_done, q)
                            : -BB_E_UNAVAILABLE;
    if (rc == 0)
        return 0; /* q is rq_done's now */
    free(q);
    if (rc == -BB_E_UNAVAILABLE) {
        /* The read pool went down since replica_wants, or its queue is
         * full: the primary, at once. */
        replica_count_fallback();
        req_set_route(req, REQ_ROUTE_PRIMARY);
        rc = pool_query(s->pool, stmt, values, lengths, cb, arg);
    }
    return rc;
}

/* Logs when the replica starts or stops being used (lag, pool up). */
static void note_in_use(void)
{
    uint64_t now = uv_now(R.s->loop);
    bool in_use = replica_usable(now);
    if (in_use == R.was_in_use)
        return;
    R.was_in_use = in_use;
    if (in_use)
        log_event(LOG_INFO, "replica_in_use", "lag_ms=%" PRIu64 " max_lag_ms=%u",
                  now - R.horizon_ms, R.s->cfg.read_max_lag_ms);
    else if (R.read != NULL && !pool_available(R.read))
        log_event(LOG_WARN, "replica_not_used", "why=\"the read pool is down\"");
    else if (R.foreign)
        log_event(LOG_WARN, "replica_not_used",
                  "why=\"read_db is not in recovery and is not the server db reaches\"");
    else if (!R.horizon_known)
        log_event(LOG_WARN, "replica_not_used", "why=\"lag unknown\"");
    else
        log_event(LOG_WARN, "replica_not_used", "lag_ms=%" PRIu64 " max_lag_ms=%u",
                  now - R.horizon_ms, R.s->cfg.read_max_lag_ms);
}

static void replay_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    R.measuring = false;
    if (e != NULL || R.read == NULL) {
        if (e != NULL)
            log_event(LOG_DEBUG, "replica_lag_failed", "where=replica msg=%s",
                      log_q(e->message != NULL ? e->message : "-"));
        note_in_use();
        return;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 4) {
        note_in_use();
        return;
    }
    bool in_recovery = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    bool caught_up = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    /* Out of recovery, read_db is trusted only when it is db's server
     * (read_db pointing at the primary): a promoted replica would count as
     * caught up forever while the primary moves on. */
    R.foreign = !in_recovery &&
                (PQgetisnull(res, 0, 3) || strcmp(PQgetvalue(res, 0, 3), R.primary_id) != 0);
    if (R.foreign) {
        /* note_in_use logs it. */
    } else if (!in_recovery || caught_up) {
        R.horizon_ms = R.t0_ms;
        R.horizon_known = true;
    } else if (!PQgetisnull(res, 0, 2)) {
        long long age = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        uint64_t a = age > 0 ? (uint64_t)age : 0;
        uint64_t h = R.t1_ms > a ? R.t1_ms - a : 0;
        if (h >= R.t0_ms)
            h = R.t0_ms > 0 ? R.t0_ms - 1 : 0;
        /* Never back: what was replayed stays replayed. */
        if (!R.horizon_known || h > R.horizon_ms)
            R.horizon_ms = h;
        R.horizon_known = true;
    }
    note_in_use();
}

static void lsn_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    if (e != NULL || R.read == NULL || PQntuples(res) != 1 || PQnfields(res) != 2 ||
        PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1)) {
        if (e != NULL)
            log_event(LOG_DEBUG, "replica_lag_failed", "where=primary msg=%s",
                      log_q(e->message != NULL ? e->message : "-"));
        R.measuring = false;
        note_in_use();
        return;
    }
    const char *vals[1] = {PQgetvalue(res, 0, 0)};
    snprintf(R.primary_id, sizeof R.primary_id, "%s", PQgetvalue(res, 0, 1));
    R.t1_ms = uv_now(R.s->loop);
    if (pool_query(R.read, &st_replay, vals, NULL, replay_done, NULL) != 0) {
        R.measuring = false;
        note_in_use();
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    note_in_use();
    if (R.measuring || R.read == NULL)
        return;
    /* A read pool that is down or still connecting is not asked: its
     * queue would hold the measurement until the connect failed. */
    if (!pool_available(R.read) || !pool_available(R.s->pool)) {
        note_in_use();
        return;
    }
    R.t0_ms = uv_now(R.s->loop);
    if (pool_query(R.s->pool, &st_primary_lsn, NULL, NULL, lsn_done, NULL) == 0)
        R.measuring = true;
}

int replica_register(void)
{
    if (pool_register(&st_primary_lsn) != 0 || pool_register(&st_replay) != 0)
        return -1;
    return 0;
}

int replica_start(server *s)
{
    R.s = s;
    if (s->cfg.read_db[0] == '\0')
        return 0;
    pool_config pc = {
        .conninfo = s->cfg.read_db,
        .size = s->cfg.read_pool_size,
        .pipeline_depth = s->cfg.pipeline_depth,
        .queue_max = s->cfg.pool_queue_max,
        .reconnect_min_ms = s->cfg.reconnect_min_ms,
        .reconnect_max_ms = s->cfg.reconnect_max_ms,
        .statement_timeout_ms = s->cfg.statement_timeout_ms,
    };
    R.every_ms = replica_every_ms(s->cfg.read_max_lag_ms);
    R.read = pool_create(s->loop, &pc);
    if (R.read == NULL) {
        log_event(LOG_ERROR, "startup_failed", "what=read_pool");
        return -1;
    }
    int r = uv_timer_init(s->loop, &R.timer);
    if (r == 0) {
        R.timer_open = true;
        r = uv_timer_start(&R.timer, on_tick, R.every_ms, R.every_ms);
    }
    if (r < 0) {
        log_event(LOG_ERROR, "startup_failed", "what=replica_timer err=%s", uv_err_name(r));
        return r;
    }
    log_event(LOG_INFO, "replica_configured",
              "read_pool_size=%u read_max_lag_ms=%u measured_every_ms=%" PRIu64,
              s->cfg.read_pool_size, s->cfg.read_max_lag_ms, R.every_ms);
    return 0;
}

static void on_read_pool_closed(void *arg)
{
    (void)arg;
    R.closing = NULL; /* frees itself after this returns */
}

void replica_stop(server *s)
{
    (void)s;
    if (R.timer_open) {
        uv_timer_stop(&R.timer);
        uv_close((uv_handle_t *)&R.timer, NULL);
        R.timer_open = false;
    }
    if (R.read == NULL)
        return;
    R.closing = R.read;
    R.read = NULL; /* from now on every read goes to the primary */
    pool_close(R.closing, on_read_pool_closed, NULL);
}

void replica_abort(void)
{
    if (R.closing != NULL)
        pool_abort(R.closing);
}

void replica_metrics(server *s, metrics_text *t)
{
    uint64_t now = uv_now(s->loop);
    unsigned ready = 0, total = 0;
    pool_stats(R.read, &ready, &total, NULL);
    long long lag = R.read != NULL && R.horizon_known ? (long long)(now - R.horizon_ms) : -1;
    metrics_textf(t,
                  "# HELP baobao_replica_in_use 1 when reads may go to the read replica now"
                  " (read_db set, its pool up, lag within read_max_lag_ms).\n"
                  "# TYPE baobao_replica_in_use gauge\nbaobao_replica_in_use %d\n"
                  "# HELP baobao_replica_lag_ms How far behind the read replica may be, in ms"
                  " (-1: unknown or no read_db).\n"
                  "# TYPE baobao_replica_lag_ms gauge\nbaobao_replica_lag_ms %lld\n"
                  "# HELP baobao_replica_pool_connections Connections of the read pool, by"
                  " state.\n"
                  "# TYPE baobao_replica_pool_connections gauge\n"
                  "baobao_replica_pool_connections{state=\"up\"} %u\n"
                  "baobao_replica_pool_connections{state=\"configured\"} %u\n"
                  "# HELP baobao_replica_reads_total Requests of methods that may read from"
                  " the replica, by where they were sent (fallback: a statement the replica"
                  " failed, sent again to the primary).\n"
                  "# TYPE baobao_replica_reads_total counter\n"
                  "baobao_replica_reads_total{to=\"replica\"} %" PRIu64 "\n"
                  "baobao_replica_reads_total{to=\"primary\"} %" PRIu64 "\n"
                  "baobao_replica_reads_total{to=\"fallback\"} %" PRIu64 "\n",
                  replica_usable(now) ? 1 : 0, lag, ready, total, R.to_replica, R.to_primary,
                  R.fallbacks);
}
