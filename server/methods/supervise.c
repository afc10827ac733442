/*
 * supervise.c: supervision that runs itself (issue 13): the sweep of
 * sql/023_supervision.sql (bb_supervise: every open milestone's and
 * problem's light, its history, the 督办 notices) run by this module on its
 * own, and the methods supervise.run, light.history and light.changes
 * (PROTOCOL.md section 6, "Supervision: lights and notices").
 *
 * When the sweep runs, in each baobaod process:
 *   - at start, as soon as the pool is up (a pass that finds it down is
 *     tried again SUPERVISE_RETRY_MS later);
 *   - every supervise_interval_ms, and just after local midnight (the day
 *     changed: lights move by the calendar alone), whichever comes first;
 *   - supervise_debounce_ms after a bb_dirty notification (a committed
 *     change that can move a light; 023's statement triggers), counted
 *     from the first one, so a stream of writes cannot put it off forever;
 *   - when LISTEN (re)connects (on_ready): notifications sent while it was
 *     down are lost, the sweep finds what they would have said.
 * One sweep at a time per process (a request for another while one runs
 * makes one more run after it). A sweep is a series of calls of
 * bb_supervise, each bounded (SUPERVISE_MAX_ITEMS items written and notices
 * issued, so each stays far below the pool's statement_timeout; a large
 * first sweep takes many) and each its own transaction, sent alone in its
 * sync group (a heavy statement, pool.h); the next call goes as soon as
 * one answers `more`. Across processes the function's advisory lock
 * serialises them: this module only tries it, and when another process
 * holds it (busy) tries again supervise_debounce_ms later, without holding
 * a pool connection meanwhile; its sweep then finds what the other one
 * left, including a write committed while that one ran. A sweep for a day
 * before the last sweep's (clocks that disagree, fake_now moved back) does
 * nothing: logged as event=supervise_clock_behind.
 * The sweep is the system, not a request: no caller, no audit record
 * (023 says why); it logs event=supervise only when something changed.
 *
 * "Today" is clock_today (time_zone, fake_now in tests). Under fake_now the
 * day never changes, so there is no midnight to wait for.
 * Not for: the rules themselves (023), notices for people (notice.c),
 * pushing to clients (push.c), delivery (delivery.c).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "light.h"
#include "listen.h"
#include "log.h"
#include "methods.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"

/* A sweep that could not reach the database (the pool still connecting at
 * start, or down) is tried again this much later. */
#define SUPERVISE_RETRY_MS 1000u
/* The sweep after midnight runs this long after it, so the clock's date
 * has surely turned (a timer may fire a little early). */
#define SUPERVISE_MIDNIGHT_SLACK_MS 2000u
/* Another process sweeping (busy): again supervise_debounce_ms later, but
 * not sooner than this (a debounce of 0 would knock in a tight loop). */
#define SUPERVISE_BUSY_MIN_MS 100u
/* The most light_state rows one call of bb_supervise writes, and the most
 * notices it issues (p_max_items): on bench/gen-data.sql with 100,000
 * projects a call of 5,000 took at most 8.2 s (023 has the figures), well
 * below the pool's statement_timeout of 30 s. */
#define SUPERVISE_MAX_ITEMS "5000"

/* ---- the sweep's statement ----
 * Everything it needs is passed in: the module runs it without a request
 * (not waiting for another process's sweep), supervise.run with one
 * (waiting); both bind the same six values. */
static const char *const sweep_extras[] = {"_day", "_red_after", "_due_days", "_escalate_days",
                                           "_max_items", "_wait", NULL};
/* The first RUN_WIRE_NCOLS are supervise.run's answer; busy is the
 * module's alone (supervise.run waits, so is never busy). */
static const rp_col run_cols[] = {
    {"changes", RP_INT},      {"notices", RP_INT},     {"closed", RP_INT},
    {"first_change", RP_INT}, {"last_change", RP_INT}, {"first_notice", RP_INT},
    {"last_notice", RP_INT},  {"more", RP_BOOL},       {"clock_behind", RP_BOOL},
    {"busy", RP_BOOL},
};
#define RUN_NCOLS ((int)(sizeof run_cols / sizeof run_cols[0]))
#define RUN_WIRE_NCOLS (RUN_NCOLS - 1)
enum { RC_CHANGES, RC_NOTICES, RC_CLOSED, RC_MORE = 7, RC_CLOCK_BEHIND, RC_BUSY };

static mstmt st_sweep = {
    .name = "supervise_sweep", .extras = sweep_extras, .heavy = true,
    .cols = run_cols, .ncols = RUN_NCOLS, .sql =
    "SELECT changes, notices, closed, first_change, last_change, first_notice, last_notice,"
    " more, clock_behind, busy"
    " FROM bb_supervise(p_today => :_day::date, p_red_after => :_red_after::int,"
    " p_due_days => :_due_days::int, p_escalate_days => :_escalate_days::int,"
    " p_max_items => :_max_items::int, p_wait => :_wait::boolean)"};

/* ---- light history ---- */

/* A LightChange (light.h). */
static const rp_col lc_cols[] = {LIGHT_COLS};
#define LC_NCOLS ((int)(sizeof lc_cols / sizeof lc_cols[0]))

/* One item's changes, oldest first. The item itself is the first table:
 * no row = no such item in the caller's scope (not_found); one row with a
 * NULL id = an item the sweep has not seen yet (no history). */
static mstmt st_history_problem = {
    .name = "light_history_problem", .cols = lc_cols, .ncols = LC_NCOLS, .sql =
    "SELECT " LIGHT_SELECT
    "  FROM problem p JOIN enterprise e ON e.id = p.enterprise_id"
    "  LEFT JOIN light_change_wire w ON w.problem_id = p.id"
    " WHERE p.id = :problem_id::bigint AND " SCOPE_HAS("e.township_id")
    " ORDER BY w.id"};

static mstmt st_history_milestone = {
    .name = "light_history_milestone", .cols = lc_cols, .ncols = LC_NCOLS, .sql =
    "SELECT " LIGHT_SELECT
    "  FROM project_milestone m JOIN project p ON p.id = m.project_id"
    "  LEFT JOIN light_change_wire w ON w.project_id = m.project_id AND w.node = m.node"
    " WHERE m.project_id = :project_id::bigint AND m.node = :node"
    "   AND " SCOPE_HAS("p.township_id")
    " ORDER BY w.id"};

/* Keyset pages by ascending id. Dates compare as 'YYYY-MM-DD' text (the
 * view's wire form, ISO order). An unknown township name matches nothing;
 * rows outside the scope are never looked at. */
#define CHANGES_FILTERS                                                                   \
    "   AND (:to_light::text IS NULL OR w.to_light = :to_light::text)"                    \
    "   AND (:from::text IS NULL OR w.on_date >= :from::text)"                            \
    "   AND (:to::text IS NULL OR w.on_date <= :to::text)"                                \
    "   AND (:township::text IS NULL"                                                     \
    "        OR w.township_id = (SELECT t.id FROM township t WHERE t.name = :township::text))" \
    "   AND " SCOPE_HAS("w.township_id")                                                  \
    " ORDER BY w.id LIMIT :limit::int + 1"
static mstmt st_changes = {
    .name = "light_changes", .cols = lc_cols, .ncols = LC_NCOLS, .sql =
    "SELECT " LIGHT_SELECT
    "  FROM light_change_wire w"
    " WHERE w.id > :after::bigint" CHANGES_FILTERS};
/* `mine`: the caller's changes (sql/024's bb_light_mine, the push's
 * audience rule) gathered from the indexes of the caller's officials,
 * units and townships first, then filtered: a supervisor's few changes
 * among many are not found by walking every id. */
static mstmt st_changes_mine = {
    .name = "light_changes_mine", .cols = lc_cols, .ncols = LC_NCOLS, .sql =
    "SELECT " LIGHT_SELECT
    "  FROM bb_light_mine(p_actor => :_actor::bigint, p_after => :after::bigint) m"
    "  JOIN light_change_wire w ON w.id = m.change_id"
    " WHERE true" CHANGES_FILTERS};

/* ---- module state (loop thread) ---- */

static struct {
    server *s;
    uv_timer_t tick;       /* interval / midnight / retry */
    uv_timer_t debounce;   /* after bb_dirty */
    bool tick_open, debounce_open;
    bool running;          /* a call of the sweep is in flight */
    bool again;            /* another was asked for meanwhile */
    bool stopped;
    /* The sweep under way (its calls, until one is not `more`): totals for
     * its one log line. */
    unsigned calls;
    long long changes, notices, closed;
} S;

static void on_tick(uv_timer_t *t);
static void sweep(void);

/* Milliseconds to just after the next local midnight (TZ is time_zone,
 * main.c), or 0 when the clock is pinned or the time cannot be had. */
static uint64_t ms_to_midnight(void)
{
    if (clock_is_fake())
        return 0;
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL)
        return 0;
    tm.tm_sec = 0;
    tm.tm_min = 0;
    tm.tm_hour = 0;
    tm.tm_mday += 1;
    tm.tm_isdst = -1;
    time_t next = mktime(&tm);
    if (next == (time_t)-1 || next <= now)
        return 0;
    return (uint64_t)(next - now) * 1000u + SUPERVISE_MIDNIGHT_SLACK_MS;
}

static void arm_tick(uint64_t ms)
{
    if (S.stopped || !S.tick_open)
        return;
    (void)uv_timer_start(&S.tick, on_tick, ms, 0);
}

/* The next regular sweep: the interval, or midnight when that is sooner. */
static void arm_next(void)
{
    uint64_t ms = S.s->cfg.supervise_interval_ms;
    uint64_t mid = ms_to_midnight();
    if (mid > 0 && mid < ms)
        ms = mid;
    arm_tick(ms);
}

static bool col_true(const PGresult *res, int col)
{
    return strcmp(PQgetvalue(res, 0, col), "t") == 0;
}

/* The end of a sweep (its last call answered, or failed): its log line
 * when it did something. */
static void sweep_end(void)
{
    if (S.changes != 0 || S.notices != 0 || S.closed != 0)
        log_event(LOG_INFO, "supervise", "changes=%lld notices=%lld closed=%lld calls=%u",
                  S.changes, S.notices, S.closed, S.calls);
    S.calls = 0;
    S.changes = S.notices = S.closed = 0;
}

static void sweep_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    S.running = false;
    if (S.stopped)
        return;
    bool more = false;
    if (e != NULL) {
        log_event(LOG_WARN, "supervise_failed", "why=%s", log_q(e->message));
        sweep_end();
        /* Down: soon again; anything else: the next regular sweep. */
        arm_tick(e->err == BB_E_UNAVAILABLE ? SUPERVISE_RETRY_MS : S.s->cfg.supervise_interval_ms);
    } else {
        const char *why = NULL;
        if (rowpack_check(res, run_cols, RUN_NCOLS, &why) != 0 || PQntuples(res) != 1) {
            log_event(LOG_WARN, "supervise_failed", "why=%s",
                      log_q(why != NULL ? why : "not one row"));
            sweep_end();
            arm_next();
        } else if (col_true(res, RC_BUSY)) {
            /* Another process sweeps: again after it, counted like a
             * bb_dirty (what it did not see is found then). */
            uint64_t ms = S.s->cfg.supervise_debounce_ms;
            arm_tick(ms > SUPERVISE_BUSY_MIN_MS ? ms : SUPERVISE_BUSY_MIN_MS);
        } else {
            S.calls++;
            S.changes += strtoll(PQgetvalue(res, 0, RC_CHANGES), NULL, 10);
            S.notices += strtoll(PQgetvalue(res, 0, RC_NOTICES), NULL, 10);
            S.closed += strtoll(PQgetvalue(res, 0, RC_CLOSED), NULL, 10);
            if (col_true(res, RC_CLOCK_BEHIND)) {
                char day[11];
                if (clock_today(day) != 0)
                    snprintf(day, sizeof day, "?");
                log_event(LOG_WARN, "supervise_clock_behind",
                          "today=%s why=%s", day,
                          log_q("a sweep of another process (or before a restart) ran for a "
                                "later day: nothing done (time_zone or fake_now differ?)"));
            }
            more = col_true(res, RC_MORE);
            if (!more) {
                sweep_end();
                arm_next();
            }
        }
    }
    if (more || S.again) {
        S.again = false;
        sweep();
    }
}

/* The six values of st_sweep, in its order; today as "YYYY-MM-DD". */
typedef struct sweep_vals {
    char day[11], red[16], due[16], esc[16];
    const char *v[6];
} sweep_vals;

static int sweep_values(const server *s, bool wait, sweep_vals *sv)
{
    if (clock_today(sv->day) != 0)
        return -1;
    snprintf(sv->red, sizeof sv->red, "%u", s->cfg.overdue_red_after_days);
    snprintf(sv->due, sizeof sv->due, "%u", s->cfg.notice_due_days);
    snprintf(sv->esc, sizeof sv->esc, "%u", s->cfg.notice_escalate_days);
    sv->v[0] = sv->day;
    sv->v[1] = sv->red;
    sv->v[2] = sv->due;
    sv->v[3] = sv->esc;
    sv->v[4] = SUPERVISE_MAX_ITEMS;
    sv->v[5] = wait ? "true" : "false";
    return 0;
}

static void sweep(void)
{
    if (S.stopped)
        return;
    if (S.running) {
        S.again = true;
        return;
    }
    sweep_vals sv;
    if (sweep_values(S.s, false, &sv) != 0) {
        log_event(LOG_WARN, "supervise_failed", "why=%s", log_q("no today"));
        arm_tick(S.s->cfg.supervise_interval_ms);
        return;
    }
    /* A sweep asked for now replaces the regular one it would have met. */
    if (S.tick_open)
        uv_timer_stop(&S.tick);
    int rc = pool_query(S.s->pool, &st_sweep.ps, sv.v, NULL, sweep_done, NULL);
    if (rc < 0) {   /* the pool is not up (yet): soon again */
        arm_tick(SUPERVISE_RETRY_MS);
        return;
    }
    S.running = true;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    sweep();
}

static void on_debounce(uv_timer_t *t)
{
    (void)t;
    sweep();
}

/* bb_dirty: a change that can move a light committed somewhere. The first
 * one arms the debounce; those that follow within it ride on it. */
static void on_dirty(void *arg, const char *payload)
{
    (void)arg;
    (void)payload;
    if (S.stopped || !S.debounce_open || uv_is_active((uv_handle_t *)&S.debounce))
        return;
    (void)uv_timer_start(&S.debounce, on_debounce, S.s->cfg.supervise_debounce_ms, 0);
}

/* LISTEN is (again) active: what was missed meanwhile is found by a sweep. */
static void on_ready(void *arg)
{
    (void)arg;
    sweep();
}

/* ---- methods ---- */

/* supervise.run: one call of the sweep now, through the request (its
 * errors are the request's), waiting for another process's sweep; the
 * counts and ranges of bb_supervise as a map. When it answers `more`, the
 * module goes on with the rest by itself. */
static void run_done(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, st_sweep.name, "not one row");
        return;
    }
    bool more = col_true(res, RC_MORE);
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, run_cols, RUN_WIRE_NCOLS);
    req_result_end(req);
    if (more && S.s != NULL)
        sweep();
}

static void supervise_run(request *req, const margs *a)
{
    sweep_vals sv;
    if (sweep_values(req_server(req), true, &sv) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "today could not be computed");
        return;
    }
    mstmt_query(req, &st_sweep, a, sv.v, run_done, NULL, NULL);
}

/* light.history: {items}; not_found when the item is not there (or not in
 * the caller's townships: township staff learn nothing of others). */
static void history_done(request *req, const PGresult *res, void *ctx)
{
    bool problem = ctx != NULL;
    int n = PQntuples(res);
    if (n == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, problem ? "problem_id" : "project_id",
                        problem ? "problem does not exist" : "milestone does not exist");
        return;
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!PQgetisnull(res, i, 0))
            k++;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 1);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (size_t)k);
    for (int i = 0; i < n; i++)
        if (!PQgetisnull(res, i, 0))
            rowpack_row(pk, res, i, lc_cols, LC_NCOLS);
    req_result_end(req);
}

/* Exactly one item: problem_id, or project_id with node. */
static int check_item(request *req, const margs *a)
{
    bool pr = margs_set(a, "problem_id"), pj = margs_set(a, "project_id"),
         nd = margs_set(a, "node");
    if (pr == pj) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "problem_id",
                        "problem_id: give either problem_id, or project_id with node");
        return -1;
    }
    if (pj != nd) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "node",
                        pj ? "node: required with project_id" : "node: only with project_id");
        return -1;
    }
    return 0;
}

static void light_history(request *req, const margs *a)
{
    if (check_item(req, a) != 0)
        return;
    /* ctx says which item (non-NULL: a problem) for the not_found field. */
    static int problem_tag;
    if (margs_set(a, "problem_id"))
        mstmt_query(req, &st_history_problem, a, NULL, history_done, &problem_tag, NULL);
    else
        mstmt_query(req, &st_history_milestone, a, NULL, history_done, NULL, NULL);
}

/* light.changes: `to` not before `from` (both 'YYYY-MM-DD', checked). */
static int check_changes(request *req, const margs *a)
{
    const bb_val *f = margs_get(a, "from"), *t = margs_get(a, "to");
    if (f->state == BB_V_SET && t->state == BB_V_SET && strcmp(t->text, f->text) < 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "to", "to: before from");
        return -1;
    }
    return 0;
}

/* light.changes: all the caller may see, or with `mine` only what
 * concerns them. */
static void light_changes(request *req, const margs *a)
{
    if (check_changes(req, a) != 0)
        return;
    mstmt_query_page(req, margs_int(a, "mine", 0) ? &st_changes_mine : &st_changes, a, NULL,
                     NULL);
}

static const method_impl supervise_methods[] = {
    {"supervise.run", .fn = supervise_run},
    {"light.history", .fn = light_history},
    {"light.changes", .fn = light_changes},
    {NULL},
};

/* ---- the module ---- */

static int supervise_start(server *s)
{
    memset(&S, 0, sizeof S);
    S.s = s;
    int r = uv_timer_init(s->loop, &S.tick);
    if (r != 0)
        return r;
    S.tick_open = true;
    if ((r = uv_timer_init(s->loop, &S.debounce)) != 0)
        return r;
    S.debounce_open = true;
    /* UV_EINVAL as push.c and delivery.c: main logs it as the reason. */
    if (listen_on("bb_dirty", on_dirty, on_ready, NULL) != 0)
        return UV_EINVAL;
    arm_tick(0);   /* once at start */
    return 0;
}

static void supervise_stop(server *s)
{
    (void)s;
    S.stopped = true;
    if (S.tick_open) {
        S.tick_open = false;
        uv_timer_stop(&S.tick);
        uv_close((uv_handle_t *)&S.tick, NULL);
    }
    if (S.debounce_open) {
        S.debounce_open = false;
        uv_timer_stop(&S.debounce);
        uv_close((uv_handle_t *)&S.debounce, NULL);
    }
}

static mstmt *const supervise_stmts[] = {&st_sweep, &st_history_problem, &st_history_milestone,
                                         &st_changes, &st_changes_mine, NULL};

const method_module supervise_module = {
    .name = "supervise",
    .methods = supervise_methods,
    .stmts = supervise_stmts,
    .start = supervise_start,
    .stop = supervise_stop,
};
