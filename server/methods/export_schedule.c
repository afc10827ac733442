/*
 * export_schedule.c: when export runs happen by themselves
 * (export_schedule.h): the nightly timer at export_time in time_zone, a
 * nightly time that comes during another job (its run starts right after
 * it), the start-up job tried again when it could not reach the database,
 * and the recovery at start (stale 'running' rows failed, unfinished
 * folders removed, a missed nightly run caught up).
 *
 * The timer never sleeps longer than EXPORT_SCHEDULE_RECHECK_MS before it
 * looks at the clock again (wall-clock changes, daylight saving in other
 * zones). With fake_now (tests) the schedule's clock is the pinned instant
 * advancing with the loop's clock, so a schedule near it fires.
 *
 * Not for: running a job (export_worker.c), the files (export_files.c),
 * export.run (export.c).
 */
#include "export_schedule.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bb_limits.h"
#include "clock.h"
#include "export_files.h"
#include "log.h"

#define EXPORT_SCHEDULE_RECHECK_MS 3600000u
/* The start-up job could not connect: tried again this much later. */
#define EXPORT_STARTUP_RETRY_MS 60000u
/* A scheduled or catch-up run that failed: tried again after
 * EXPORT_STARTUP_RETRY_MS, doubling up to this. */
#define EXPORT_RETRY_MAX_MS 3600000u

static struct {
    server *s;
    uv_timer_t timer;
    uv_timer_t retry;              /* the start-up job again, after a failed connect */
    bool timer_open, retry_open;
    bool schedule_on;
    int at_hour, at_min;
    int64_t due_s;                 /* the instant the timer is armed for */
    char due_date[11];
    bool scheduled_pending;        /* the timer fired during another job */
    char pending_date[11];
    char last_due_date[11];        /* the last due nightly date, as last computed */
    unsigned fail_backoff_ms;      /* the retry after a failed run; 0 after an ok one */
} S;

/* The schedule's clock (see the top). */
static int64_t sched_now(void)
{
    if (!clock_is_fake())
        return (int64_t)time(NULL);
    return clock_now_s() + (int64_t)((uv_now(S.s->loop) - S.s->started_at_ms) / 1000);
}

/* The due instant on the day of `day_of` shifted by `shift` days, and its
 * date. */
static int64_t due_on(int64_t day_of, int shift, char date[11])
{
    time_t t = (time_t)day_of;
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL)
        return -1;
    tm.tm_mday += shift;
    tm.tm_hour = S.at_hour;
    tm.tm_min = S.at_min;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t due = mktime(&tm);
    struct tm back;
    if (due == (time_t)-1 || localtime_r(&due, &back) == NULL ||
        strftime(date, 11, "%Y-%m-%d", &back) != 10)
        return -1;
    return (int64_t)due;
}

/* The first due instant after `after`. */
static int64_t next_due(int64_t after, char date[11])
{
    int64_t d = due_on(after, 0, date);
    if (d >= 0 && d <= after)
        d = due_on(after, 1, date);
    return d;
}

/* The last due instant at or before `now`. */
static int64_t last_due(int64_t now, char date[11])
{
    int64_t d = due_on(now, 0, date);
    if (d > now)
        d = due_on(now, -1, date);
    return d;
}

static void on_timer(uv_timer_t *t);

static void arm_timer(int64_t after)
{
    S.due_s = next_due(after, S.due_date);
    if (S.due_s < 0) {
        log_event(LOG_ERROR, "export_schedule_failed", "why=\"no next due time\"");
        return;
    }
    int64_t wait_s = S.due_s - sched_now();
    uint64_t ms = wait_s <= 0 ? 0 : (uint64_t)wait_s * 1000;
    if (ms > EXPORT_SCHEDULE_RECHECK_MS)
        ms = EXPORT_SCHEDULE_RECHECK_MS;
    (void)uv_timer_start(&S.timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    (void)t;
    if (export_worker_closing())
        return;
    int64_t now = sched_now();
    if (now < S.due_s) {   /* a recheck, or a wall-clock change */
        arm_timer(S.due_s - 1);
        return;
    }
    if (export_worker_busy()) {
        S.scheduled_pending = true;
        snprintf(S.pending_date, sizeof S.pending_date, "%s", S.due_date);
        log_event(LOG_INFO, "export_scheduled_later", "export_date=%s why=\"a run is in progress\"",
                  S.due_date);
    } else {
        (void)export_worker_start(JOB_RUN, "scheduled", S.due_date, 0, NULL);
    }
    arm_timer(now > S.due_s ? now : S.due_s);
}

/* The start-up job (recovery, catch-up) once more; later again while
 * another job runs. */
static void on_retry(uv_timer_t *t)
{
    (void)t;
    if (export_worker_closing())
        return;
    if (export_worker_busy())
        (void)uv_timer_start(&S.retry, on_retry, EXPORT_STARTUP_RETRY_MS, 0);
    else
        (void)export_worker_start(JOB_STARTUP, NULL, NULL, 0, export_schedule_last_due());
}

/* "HH:MM", 00:00-23:59. */
static int parse_time_of_day(const char *s, int *h, int *m)
{
    if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' ||
        s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    *h = (s[0] - '0') * 10 + (s[1] - '0');
    *m = (s[3] - '0') * 10 + (s[4] - '0');
    return *h <= 23 ? 0 : -1;
}

int export_schedule_start(server *s)
{
    memset(&S, 0, sizeof S);
    S.s = s;
    if (s->cfg.export_time[0] != '\0') {
        if (parse_time_of_day(s->cfg.export_time, &S.at_hour, &S.at_min) != 0) {
            log_event(LOG_ERROR, "export_time_invalid", "export_time=%s want=\"HH:MM\"",
                      log_q(s->cfg.export_time));
            return UV_EINVAL;
        }
        S.schedule_on = true;
    }
    (void)uv_timer_init(s->loop, &S.timer);
    S.timer_open = true;
    (void)uv_timer_init(s->loop, &S.retry);
    S.retry_open = true;
    if (S.schedule_on) {
        int64_t now = sched_now();
        if (last_due(now, S.last_due_date) < 0)
            S.last_due_date[0] = '\0';
        arm_timer(now);
        log_event(LOG_INFO, "export_schedule",
                  "export_time=%s next_export_date=%s export_dir=%s keep_days=%u",
                  s->cfg.export_time, S.due_date, log_q(s->cfg.export_dir),
                  s->cfg.export_keep_days);
    }
    return 0;
}

const char *export_schedule_last_due(void)
{
    if (!S.schedule_on)
        return "";
    /* Fresh each time: a start-up job tried again, or a retry after a
     * failed run, catches up the last night due now, not the one due when
     * the process started. */
    if (last_due(sched_now(), S.last_due_date) < 0)
        S.last_due_date[0] = '\0';
    return S.last_due_date;
}

bool export_schedule_after_job(const exp_outcome *o)
{
    if (!o->connect_failed && (o->deferred || o->left_alone > 0) && S.retry_open) {
        /* Another process is exporting, or a run's owner may be gone but
         * its heartbeat is not stale yet (a start-up, or a run that found
         * such a row): look again when it would be, so a killed process's
         * run is failed without waiting for the next run or restart. */
        (void)uv_timer_start(&S.retry, on_retry, EXPORT_OWNER_STALE_MS, 0);
    }
    bool own_failed = !o->connect_failed && !o->deferred && !o->joined && o->skipped[0] == '\0' &&
                      o->run_kind != NULL && strcmp(o->run_kind, "manual") != 0 &&
                      (o->fail_code != BB_E__COUNT || o->own_status != 'o');
    if (o->own_status == 'o')
        S.fail_backoff_ms = 0;
    if (own_failed && !o->closing && S.retry_open) {
        /* A scheduled or catch-up run that did not end ok in this live
         * process (its connection lost mid-run, the lock wait ended by a
         * timeout): the start-up job again, with the last due date fresh,
         * after a backoff; its recovery under the lock fails a leftover
         * 'running' row, and its catch-up runs the date again. */
        S.fail_backoff_ms = S.fail_backoff_ms == 0 ? EXPORT_STARTUP_RETRY_MS
                            : S.fail_backoff_ms >= EXPORT_RETRY_MAX_MS / 2 ? EXPORT_RETRY_MAX_MS
                                                                            : S.fail_backoff_ms * 2;
        log_event(LOG_WARN, "export_retry", "in_ms=%u why=%s", S.fail_backoff_ms,
                  log_q(o->fail_code != BB_E__COUNT ? o->fail_msg : o->log_err));
        (void)uv_timer_start(&S.retry, on_retry, S.fail_backoff_ms, 0);
    }
    if (o->job == JOB_STARTUP && o->connect_failed && S.retry_open) {
        /* No recovery and no catch-up happened: try again later rather
         * than wait for the next restart. */
        log_event(LOG_WARN, "export_startup_retry", "in_ms=%u why=%s", EXPORT_STARTUP_RETRY_MS,
                  log_q(o->fail_msg));
        (void)uv_timer_start(&S.retry, on_retry, EXPORT_STARTUP_RETRY_MS, 0);
    }
    if (!S.scheduled_pending)
        return false;
    S.scheduled_pending = false;
    return export_worker_start(JOB_RUN, "scheduled", S.pending_date, 0, NULL) == 0;
}

void export_schedule_stop(void)
{
    if (S.timer_open) {
        S.timer_open = false;
        uv_timer_stop(&S.timer);
        uv_close((uv_handle_t *)&S.timer, NULL);
    }
    if (S.retry_open) {
        S.retry_open = false;
        uv_timer_stop(&S.retry);
        uv_close((uv_handle_t *)&S.retry, NULL);
    }
}

/* ---- the recovery, on the export's thread ---- */

static PGresult *exec(PGconn *conn, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(conn, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        PQclear(r);
        return NULL;
    }
    return r;
}

bool export_recover(PGconn *conn, const char *last_due_date, int topfd, long *marked,
                    long *removed, long *left_alone)
{
    *marked = *removed = *left_alone = 0;
    /* Called only under the export lock (export_worker.c): no other
     * process of this version can be running a run, so every 'running'
     * row is dead (its owner killed, or its connection lost) whatever its
     * heartbeat says; the heartbeat matters only to whoever lacks the lock
     * (a manual run deciding whether to join). The claim is given back. */
    PGresult *r = exec(conn,
                       "UPDATE export_run SET status = 'failed', finished_at = clock_timestamp(),"
                       " claim_date = NULL, error = 'its server stopped during the run (owner '"
                       " || coalesce(owner, 'unknown') || ', last heartbeat '"
                       " || bb_ts(heartbeat_at) || ')'"
                       " WHERE status = 'running'",
                       0, NULL);
    if (r != NULL)
        *marked = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    r = exec(conn, "SELECT count(*) FROM export_run WHERE status = 'running'", 0, NULL);
    if (r != NULL && PQntuples(r) == 1)
        *left_alone = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    r = exec(conn,
             "SELECT DISTINCT folder FROM export_run WHERE status = 'failed' AND folder IS NOT NULL",
             0, NULL);
    for (int i = 0; r != NULL && topfd >= 0 && i < PQntuples(r); i++)
        if (expf_remove_unfinished(topfd, PQgetvalue(r, i, 0)) == 1)
            (*removed)++;
    PQclear(r);
    if (last_due_date == NULL || last_due_date[0] == '\0')
        return false;
    const char *v[1] = {last_due_date};
    r = exec(conn,
             "SELECT EXISTS (SELECT 1 FROM export_run) AND NOT EXISTS (SELECT 1 FROM export_run"
             " WHERE status = 'ok' AND kind IN ('scheduled', 'catch_up')"
             " AND export_date >= $1::date)",
             1, v);
    bool catch_up = r != NULL && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return catch_up;
}
