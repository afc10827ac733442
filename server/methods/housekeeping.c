/*
 * housekeeping.c: maintenance on its own timer (pgbouncer's janitor):
 * idempotency records older than the setting idempotency_keep_days
 * (PROTOCOL.md section 4: a retry, or a write a client kept offline, must
 * come within this window; server.info tells clients),
 * login_throttle rows with nothing left to say and expired session tokens
 * (sql/016: a token nobody presents again would otherwise stay until its
 * user is issued a new one) are deleted, once at start
 * (as soon as the pool is up) and then every HOUSEKEEPING_INTERVAL_MS,
 * whether or not exports are enabled or succeed.
 *
 * Once per database, not once per process (issue 14): a pass first claims
 * the one row of housekeeping_claim (sql/026) by moving its last_at
 * forward, only when the last pass of any process is older than
 * HOUSEKEEPING_CLAIM_S; a pass that finds it claimed deletes nothing and
 * logs event=housekeeping_skipped. Two passes at the same moment: the
 * second waits on the row lock, then sees the first's last_at (READ
 * COMMITTED re-checks the row) and claims nothing.
 *
 * One statement through the pool (non-blocking, on the loop); a pass that
 * finds the pool down is tried again after HOUSEKEEPING_RETRY_MS rather
 * than a whole interval later.
 *
 * Not for: export runs (export*.c) or the pruning of their folders
 * (export_files.c), the login throttle's rules (login.c, sql/005).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "methods.h"
#include "pool.h"
#include "server.h"

/* Between two passes. */
#define HOUSEKEEPING_INTERVAL_MS 3600000u
/* A pass that could not reach the database (the pool still connecting at
 * start, or down) is tried again this much later. */
#define HOUSEKEEPING_RETRY_MS 1000u
/* login_throttle rows whose last failure is older than this, with no lock
 * in force and no check running, are deleted. */
#define HOUSEKEEPING_THROTTLE_KEEP_DAYS "1"
/* A pass claims the database's housekeeping when the last one (of any
 * process) is older than this: the interval less a minute, so the timers
 * of two processes a few seconds apart do not skip a whole period. */
#define HOUSEKEEPING_CLAIM_S (HOUSEKEEPING_INTERVAL_MS / 1000u - 60u)

/* Throttle rows with nothing to say any more (no lock in force, no live
 * claim, the last failure long past): every login anybody tried, known or
 * not, leaves one, so they would grow for ever. The count of a row
 * restarts after login_lock_ms anyway (sql/005). */
static const char *const sweep_extras[] = {"_keep_days", "_claim_s", "_owner", NULL};
static mstmt st_sweep = {
    .name = "housekeeping_sweep", .extras = sweep_extras, .sql =
    "WITH c AS (UPDATE housekeeping_claim SET last_at = now(), last_owner = :_owner"
    "            WHERE id = 1 AND last_at < now() - make_interval(secs => :_claim_s::int)"
    "           RETURNING 1),"
    " i AS (DELETE FROM idempotency"
    "            WHERE EXISTS (SELECT 1 FROM c)"
    "              AND created_at < now() - make_interval(days => :_keep_days::int)"
    "           RETURNING 1),"
    " t AS (DELETE FROM login_throttle"
    "        WHERE EXISTS (SELECT 1 FROM c) AND NOT EXISTS (SELECT 1 FROM unnest(claims) AS u(c)"
    "                           WHERE c > now() - interval '1 minute')"
    "          AND (locked_until IS NULL OR locked_until < now())"
    "          AND (last_failure_at IS NULL OR last_failure_at < now() - interval '"
    HOUSEKEEPING_THROTTLE_KEEP_DAYS " days')"
    "       RETURNING 1),"
    " k AS (DELETE FROM session_token WHERE EXISTS (SELECT 1 FROM c)"
    "        AND expires_at <= now() RETURNING 1)"
    " SELECT (SELECT count(*) FROM i) AS idempotency_deleted,"
    "        (SELECT count(*) FROM t) AS throttles_deleted,"
    "        (SELECT count(*) FROM k) AS tokens_deleted,"
    "        EXISTS (SELECT 1 FROM c) AS claimed,"
    "        (SELECT last_owner || ' at ' || bb_ts(last_at) FROM housekeeping_claim"
    "          WHERE id = 1) AS last_pass"};

static struct {
    server *s;
    uv_timer_t timer;
    bool timer_open;
    bool stopped;
    char owner[300];               /* "host:pid": housekeeping_claim.last_owner */
} H;

static void on_tick(uv_timer_t *t);

static void arm(uint64_t ms)
{
    if (!H.stopped && H.timer_open)
        (void)uv_timer_start(&H.timer, on_tick, ms, 0);
}

static void sweep_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    if (e != NULL) {
        if (!H.stopped)
            log_event(LOG_WARN, "housekeeping_failed", "why=%s", log_q(e->message));
        arm(e->err == BB_E_UNAVAILABLE ? HOUSEKEEPING_RETRY_MS : HOUSEKEEPING_INTERVAL_MS);
        return;
    }
    if (PQntuples(res) == 1 && PQnfields(res) == 5 && PQgetvalue(res, 0, 3)[0] != 't')
        /* Another process's pass of this period (the row's last_pass is
         * the snapshot's: that pass's, or an older one while it runs). */
        log_event(LOG_INFO, "housekeeping_skipped", "why=\"another process did this period's pass\""
                  " last_pass=%s", log_q(PQgetvalue(res, 0, 4)));
    else if (PQntuples(res) == 1 && PQnfields(res) == 5)
        log_event(LOG_INFO, "housekeeping",
                  "idempotency_deleted=%s throttles_deleted=%s tokens_deleted=%s",
                  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    arm(HOUSEKEEPING_INTERVAL_MS);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    if (H.stopped)
        return;
    /* idempotency_keep_days (PROTOCOL.md sections 2 and 4). */
    char days[16], claim_s[16];
    snprintf(days, sizeof days, "%u", H.s->cfg.idempotency_keep_days);
    snprintf(claim_s, sizeof claim_s, "%u", HOUSEKEEPING_CLAIM_S);
    /* In the order the statement's text first names them ($1, $2, $3). */
    const char *vals[] = {H.owner, claim_s, days};
    int rc = pool_query(H.s->pool, &st_sweep.ps, vals, NULL, sweep_done, NULL);
    if (rc < 0)   /* the pool is not up (yet): soon again */
        arm(HOUSEKEEPING_RETRY_MS);
}

static int housekeeping_start(server *s)
{
    H.s = s;
    H.stopped = false;
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(H.owner, sizeof H.owner, "%s:%ld", host, (long)getpid());
    int r = uv_timer_init(s->loop, &H.timer);
    if (r != 0)
        return r;
    H.timer_open = true;
    arm(0);   /* once at start */
    return 0;
}

static void housekeeping_stop(server *s)
{
    (void)s;
    H.stopped = true;
    if (H.timer_open) {
        H.timer_open = false;
        uv_timer_stop(&H.timer);
        uv_close((uv_handle_t *)&H.timer, NULL);
    }
}

static mstmt *const housekeeping_stmts[] = {&st_sweep, NULL};

const method_module housekeeping_module = {
    .name = "housekeeping",
    .stmts = housekeeping_stmts,
    .start = housekeeping_start,
    .stop = housekeeping_stop,
};
