/*
 * export_worker.c: one export job on a thread of its own, the snapshot
 * thread (export_worker.h), and its hand-back to the loop: the job's
 * connection, the run from its export_run row to its manifest, the COPY
 * statements of the CSV files, the reports in the same snapshot, and on
 * the loop side the async that brings the results back, the log lines,
 * and the cancel at shutdown.
 *
 * Formula injection: a text cell that begins with = + - or @ (or with
 * apostrophes followed by one of them) gets one more leading apostrophe,
 * in the SELECT that feeds COPY (EXPORT_DEFUSE); an importer removes one
 * apostrophe from a cell matching ^'+[=+-@].
 *
 * Not for: writing, committing and removing files (export_files.c), when
 * runs happen and the recovery at start (export_schedule.c), the methods
 * and their waiting requests (export.c), the reports' content (report.c).
 */
#include "export_worker.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "export_files.h"
#include "export_schedule.h"
#include "bb_limits.h"
#include "log.h"
#include "pool.h"
#include "replica.h"
#include "report.h"

/* The export connection: seconds to connect, and the longest statement
 * (a COPY of every status report, a report query); the pool's 30 s is for
 * requests, not for this. */
#define EXPORT_CONNECT_TIMEOUT_S "10"
#define EXPORT_STATEMENT_TIMEOUT "1h"
#define EXPORT_ID_TEXT 24
/* The export connection holds the export lock (EXPORT_LOCK) for the whole
 * run: when its machine is lost without a TCP reset, PostgreSQL must drop
 * the session (and the lock) in well under a minute, not after the
 * server's keepalive defaults (hours). Set on both sides: the server's
 * tcp_keepalives_* and tcp_user_timeout for the session (SET at start;
 * ignored on a Unix socket), libpq's keepalives* for the client. Idle 10 s,
 * then 5 probes 5 s apart: a dead peer is dropped after about 35 s; the
 * user timeout (unacknowledged data) after 30 s. */
#define EXPORT_KEEPALIVE_IDLE_S "10"
#define EXPORT_KEEPALIVE_INTERVAL_S "5"
#define EXPORT_KEEPALIVE_COUNT "5"
#define EXPORT_TCP_USER_TIMEOUT_MS "30000"
/* Shutdown: the helper thread sends the cancel request this many times,
 * this far apart, while the job is not done (a cancel that reaches the
 * server between two statements cancels nothing). */
#define EXPORT_CANCEL_TRIES 20
#define EXPORT_CANCEL_EVERY_MS 250
/* Connecting polls the socket this often to see a shutdown. */
#define EXPORT_CONNECT_POLL_MS 100
/* export_db in recovery: the snapshot begins only once it has replayed
 * the primary's WAL position of the moment the run was claimed, asked this
 * often, for at most this long; past it the run fails (a replica stopped
 * for days must not give a fresh-dated run of old data). */
#define EXPORT_REPLICA_POLL_MS 200
#define EXPORT_REPLICA_WAIT_MS 60000

/* One exporter per database (sql/026_export_claim.sql): every run, and
 * every recovery, holds this session advisory lock on its export
 * connection. It dies with the connection, so a killed process cannot
 * keep it (a lost machine: within about a minute, EXPORT_KEEPALIVE_*).
 * Whoever holds it knows every 'running' row is dead; the heartbeat
 * (EXPORT_HEARTBEAT_MS) tells one without the lock (a manual run) whether
 * a 'running' row still has an owner worth joining. Needs a session of
 * its own: a direct connection or session pooling, never pgbouncer's
 * transaction pooling. */
#define EXPORT_LOCK "hashtext('bb_export'), 0"

#define EXPORT_XLSX "reports.xlsx"
#define EXPORT_HTML "reports.html"

/* ---- SQL ---------------------------------------------------------------- */

/* Nonzero once the shutdown asked the job to stop (below). */
static int cancelled(void);

/* A text cell defused against formula injection (see the top). Nested
 * CASE so the regular expression runs only for cells starting with '. */
#define EXPORT_DEFUSE(x)                                                                      \
    "CASE WHEN left(" x ", 1) IN ('=', '+', '-', '@') THEN '''' || " x " WHEN left(" x        \
    ", 1) <> '''' THEN " x " WHEN " x " ~ '^''+[=+@-]' THEN '''' || " x " ELSE " x " END"

/* An instant in a CSV file: local time in time_zone (the export
 * connection's TimeZone, export_connect), to the second, "YYYY-MM-DD
 * HH:MM:SS", which Excel reads as a date and time (issue 13: the files
 * showed UTC). x: a timestamptz, or the wire's RFC 3339 text of one (the
 * *_wire views), which reads back exactly. */
#define EXPORT_TS(x) "to_char((" x ")::timestamptz, 'YYYY-MM-DD HH24:MI:SS')"

/* One CSV file of a run. Header names are the contract (PROTOCOL.md,
 * "Exports"); money in yuan as integers, dates YYYY-MM-DD, timestamps
 * local (EXPORT_TS), labels joined by a line feed. */
typedef struct csv_spec {
    const char *name;     /* file name; NULL: audit_<export_date>.csv */
    const char *sql;      /* COPY ... TO STDOUT */
} csv_spec;

static const csv_spec csv_specs[] = {
    {"enterprises.csv",
     "COPY (SELECT w.id AS \"编号\", " EXPORT_DEFUSE("w.name") " AS \"企业名称\","
     " w.credit_code AS \"统一社会信用代码\", w.township AS \"乡镇园区\","
     " w.cluster AS \"产业集群\", " EXPORT_DEFUSE("w.labels") " AS \"标签\","
     " w.status AS \"经营状态\", w.version AS \"版本\","
     " " EXPORT_TS("w.created_at") " AS \"创建时间\","
     " " EXPORT_TS("w.updated_at") " AS \"更新时间\""
     " FROM enterprise_wire w ORDER BY w.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"status_reports.csv",
     /* The same SELECT is timed against psql \copy by scripts/bench. */
     "COPY (SELECT s.id AS \"编号\", s.enterprise_id AS \"企业编号\","
     " " EXPORT_DEFUSE("e.name") " AS \"企业名称\","
     " to_char(s.report_date, 'YYYY-MM-DD') AS \"报告日期\","
     " " EXPORT_DEFUSE("s.reporter") " AS \"报告人\", s.production_status AS \"生产状态\","
     " s.output_value AS \"产值(元)\", s.employees AS \"从业人数\","
     " s.labour_shortage AS \"缺工人数\", " EXPORT_DEFUSE("s.note") " AS \"备注\","
     " " EXPORT_TS("s.created_at") " AS \"创建时间\""
     " FROM status_report s JOIN enterprise e ON e.id = s.enterprise_id"
     " WHERE s.withdrawn_at IS NULL ORDER BY s.id)"   /* the manifest counts the others */
     " TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"projects.csv",
     "COPY (SELECT w.id AS \"编号\", " EXPORT_DEFUSE("w.name") " AS \"项目名称\","
     " w.enterprise_id AS \"投资企业编号\", w.cluster AS \"产业集群\","
     " w.planned_investment AS \"计划投资(元)\", w.priority AS \"优先级\","
     " " EXPORT_DEFUSE("u.name") " AS \"牵头单位\", w.township AS \"乡镇园区\","
     " w.stage AS \"阶段\", " EXPORT_DEFUSE("w.stage_reason") " AS \"阶段说明\","
     " w.planned_1 AS \"签约计划\", w.actual_1 AS \"签约实际\","
     " w.planned_2 AS \"注册计划\", w.actual_2 AS \"注册实际\","
     " w.planned_3 AS \"开工计划\", w.actual_3 AS \"开工实际\","
     " w.planned_4 AS \"投产计划\", w.actual_4 AS \"投产实际\","
     " w.planned_5 AS \"竣工计划\", w.actual_5 AS \"竣工实际\", w.version AS \"版本\""
     " FROM project_wire w LEFT JOIN unit u ON u.id = w.lead_unit_id ORDER BY w.id)"
     " TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"assignments.csv",
     "COPY (SELECT a.id AS \"编号\", " EXPORT_DEFUSE("a.official_name") " AS \"包保干部\","
     " " EXPORT_DEFUSE("a.unit_name") " AS \"责任单位\","
     " CASE WHEN a.enterprise_id IS NOT NULL THEN '企业' ELSE '项目' END AS \"对象类型\","
     " a.enterprise_id AS \"企业编号\", a.project_id AS \"项目编号\","
     " " EXPORT_DEFUSE("a.target_name") " AS \"对象名称\", a.role AS \"角色\","
     " a.period_start AS \"开始日期\", a.period_end AS \"结束日期\""
     " FROM assignment_wire a ORDER BY a.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"problems.csv",
     "COPY (SELECT p.id AS \"编号\", p.enterprise_id AS \"企业编号\","
     " " EXPORT_DEFUSE("p.enterprise_name") " AS \"企业名称\", p.township AS \"乡镇园区\","
     " p.category AS \"类别\", " EXPORT_DEFUSE("p.description") " AS \"描述\","
     " " EXPORT_DEFUSE("p.assignee_unit") " AS \"责任单位\","
     " " EXPORT_DEFUSE("p.assignee_official") " AS \"责任人\", p.deadline AS \"期限\","
     " p.state AS \"状态\", " EXPORT_TS("p.closed_at") " AS \"办结时间\","
     " " EXPORT_TS("p.created_at") " AS \"创建时间\""
     " FROM problem_wire p ORDER BY p.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
    /* The audit of the day: records from the start of the day before the
     * export date (in time_zone) up to the snapshot, so a nightly run
     * covers the whole previous day; the bound is set per transaction
     * (COPY takes no parameters). */
    {NULL,
     "COPY (SELECT a.id AS \"编号\", " EXPORT_TS("a.at") " AS \"时间\","
     " " EXPORT_DEFUSE("a.login") " AS \"用户\", " EXPORT_DEFUSE("a.addr") " AS \"地址\","
     " a.method AS \"方法\", a.entity AS \"对象\", a.entity_id AS \"对象编号\","
     " array_to_string(a.changed, E'\\n') AS \"变更字段\", a.before::text AS \"变更前\","
     " a.after::text AS \"变更后\""
     " FROM audit_log a WHERE a.at >= current_setting('baobao.export_audit_from')::timestamptz"
     " ORDER BY a.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
};
#define EXPORT_NCSV ((int)(sizeof csv_specs / sizeof csv_specs[0]))

/* Where the run's files are read (the snapshot): export_db, which may be a
 * replica, else the lock's connection itself. */
static const char *export_read_db(const config *cfg)
{
    return cfg->export_db[0] != '\0' ? cfg->export_db : config_session_db(cfg);
}

static PGconn *export_connect(const config *cfg, const char *conninfo, char *err, size_t errlen)
{
    /* Keepalives on the client side too: a database host that vanished
     * ends a run's statement (and its lock wait) in about a minute. */
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", "keepalives",
                                "keepalives_idle", "keepalives_interval", "keepalives_count",
                                "tcp_user_timeout", NULL};
    const char *const vals[] = {conninfo, EXPORT_CONNECT_TIMEOUT_S, "baobaod-export", "1",
                                EXPORT_KEEPALIVE_IDLE_S, EXPORT_KEEPALIVE_INTERVAL_S,
                                EXPORT_KEEPALIVE_COUNT, EXPORT_TCP_USER_TIMEOUT_MS, NULL};
    /* Non-blocking, so a shutdown need not wait for the connect timeout:
     * the socket is polled in short steps and the cancel flag looked at. */
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    uint64_t give_up = exp_mono_ms() + (uint64_t)atoi(EXPORT_CONNECT_TIMEOUT_S) * 1000u;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (c != NULL && PQstatus(c) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
           ps != PGRES_POLLING_FAILED) {
        if (cancelled()) {
            exp_errf(err, errlen, "cannot connect: the server is shutting down");
            PQfinish(c);
            return NULL;
        }
        if (exp_mono_ms() >= give_up) {
            exp_errf(err, errlen, "cannot connect: timeout after %s s", EXPORT_CONNECT_TIMEOUT_S);
            PQfinish(c);
            return NULL;
        }
        struct pollfd pfd = {.fd = PQsocket(c),
                             .events = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        int pr = pfd.fd >= 0 ? poll(&pfd, 1, EXPORT_CONNECT_POLL_MS) : -1;
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0)
            ps = PQconnectPoll(c);
    }
    if (c == NULL || PQstatus(c) != CONNECTION_OK) {
        exp_errf(err, errlen, "cannot connect: %s", c ? PQerrorMessage(c) : "out of memory");
        PQfinish(c);
        return NULL;
    }
    /* Dates in the CSV files are YYYY-MM-DD whatever the database's or
     * role's DateStyle (SQL, DMY would break the contract); intervals in
     * the one format. Every SET checked: a half-set session does not run. */
    /* TimeZone: the instants of the CSV files are local (EXPORT_TS); a
     * parameter, so set_config (SET takes none). */
    static const char *const sets[] = {
        "SET statement_timeout = '" EXPORT_STATEMENT_TIMEOUT "'",
        "SET DateStyle = ISO, YMD",
        "SET IntervalStyle = postgres",
        "SET tcp_keepalives_idle = " EXPORT_KEEPALIVE_IDLE_S,
        "SET tcp_keepalives_interval = " EXPORT_KEEPALIVE_INTERVAL_S,
        "SET tcp_keepalives_count = " EXPORT_KEEPALIVE_COUNT,
        "SET tcp_user_timeout = " EXPORT_TCP_USER_TIMEOUT_MS,
        "SELECT set_config('TimeZone', $1, false)",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        const char *tz[1] = {cfg->time_zone};
        PGresult *r = PQexecParams(c, sets[i], strchr(sets[i], '$') ? 1 : 0, NULL, tz, NULL,
                                   NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        PQclear(r);
        if (!ok) {
            exp_errf(err, errlen, "%s: %s", sets[i], PQerrorMessage(c));
            PQfinish(c);
            return NULL;
        }
    }
    return c;
}

/* Runs one parameterized statement; the result (owned) or NULL with err. */
static PGresult *q(PGconn *c, const char *sql, int n, const char *const *vals, char *err,
                   size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        exp_errf(err, errlen, "%s", PQerrorMessage(c));
        PQclear(r);
        return NULL;
    }
    return r;
}

static PGresult *read_run(PGconn *c, const char *id_text)
{
    char err[EXPORT_ERR_MAX];
    const char *v[1] = {id_text};
    PGresult *r = q(c, EXPORT_RUN_SELECT " WHERE r.id = $1::bigint", 1, v, err, sizeof err);
    if (r != NULL && PQntuples(r) != 1) {
        PQclear(r);
        r = NULL;
    }
    return r;
}


/* The heartbeat (loop, through the pool): the job's own run, by its id
 * (an owner "host:pid" may repeat: a pid reused on the same host). */
static const char *const heartbeat_extras[] = {"_id", NULL};
mstmt export_heartbeat_stmt = {
    .name = "export_heartbeat", .extras = heartbeat_extras,
    .sql = "UPDATE export_run SET heartbeat_at = now()"
           " WHERE id = :_id::bigint AND status = 'running'"};

/* ---- the state shared with the thread ---------------------------------- */

/* The worker's lifecycle (loop thread). */
typedef enum exp_state {
    EXP_IDLE = 0,   /* no job */
    EXP_BUSY,       /* a job's thread runs */
    EXP_CLOSING,    /* shutdown: the job was told to stop; waiting for it */
    EXP_CLOSED,     /* handles closed; nothing runs again */
} exp_state;

/* What the thread gets (written before uv_thread_create, read-only then). */
typedef struct exp_job {
    exp_job_kind job;
    const char *kind;              /* "scheduled" | "catch_up" | "manual" */
    char export_date[11];
    int64_t requested_by;          /* app_user.id; 0: none */
    char last_due_date[11];        /* start-up: the last due nightly date; "" none */
    const config *cfg;             /* borrowed: the server's, fixed while running */
    const char *owner;             /* borrowed: W.owner, "host:pid" */
} exp_job;

/* What the thread tells the loop; guarded by mu except `cancel`. */
typedef struct exp_shared {
    uv_mutex_t mu;
    bool async_open;               /* the loop still has `async`: may send */
    atomic_bool cancel;            /* shutdown: stop at the next row */
    /* The running job's connection's cancel handle: published by the
     * thread once connected, taken (and freed) by the shutdown's helper
     * thread, else freed by the thread before PQfinish. */
    PGcancel *pgcancel;
    bool cancel_taken;             /* the shutdown took pgcancel (maybe NULL) */
    PGresult *started;             /* owned: the run's row once it exists */
    PGresult *finished;            /* owned: the run's row at the end */
    bool done;
    bool connect_failed;           /* the job's connection could not be opened */
    bb_err fail_code;              /* no run row at all: why (BB_E__COUNT: none) */
    char fail_msg[EXPORT_ERR_MAX];
    /* for the loop's log lines */
    long recovered, removed, pruned;
    bool catch_up;
    long left_alone;               /* other processes' live runs recovery left alone */
    bool deferred;                 /* start-up: another process held the export lock */
    bool joined;                   /* a manual run joined another process's run */
    char run_id[EXPORT_ID_TEXT];   /* the job's own run, once inserted ("" none) */
    bool lock_wait_failed;         /* the wait for the export lock ended in an error */
    char skipped[EXPORT_ERR_MAX];  /* a scheduled/catch-up date already claimed: why */
    char log_err[EXPORT_ERR_MAX];
    int nfiles;                    /* the run's files, for event=export_file */
    exp_file *files;               /* owned (malloc'd) */
} exp_shared;

static struct {
    server *s;
    exp_state state;
    uv_async_t async;
    bool async_open;
    uv_thread_t thread;
    exp_job job;
    exp_shared sh;
    void (*on_started)(PGresult *row);
    void (*on_done)(const exp_outcome *o);
    char owner[EXPORT_OWNER_MAX];  /* "host:pid", written once at init */
    uv_timer_t hb;                 /* the heartbeat of the running job's run */
    bool hb_open, hb_in_flight;
} W;

/* The one place the worker's state changes; refuses other moves. */
static bool set_state(exp_state to)
{
    exp_state from = W.state;
    bool ok = (from == EXP_IDLE && (to == EXP_BUSY || to == EXP_CLOSED)) ||
              (from == EXP_BUSY && (to == EXP_IDLE || to == EXP_CLOSING)) ||
              (from == EXP_CLOSING && to == EXP_CLOSED);
    if (!ok) {
        log_event(LOG_ERROR, "export_bad_state", "from=%d to=%d", (int)from, (int)to);
        return false;
    }
    W.state = to;
    return true;
}

static int cancelled(void)
{
    return atomic_load(&W.sh.cancel) ? 1 : 0;
}

bool export_run_row_ok(const PGresult *r)
{
    return r != NULL && PQnfields(r) == RUN_NCOLS && PQntuples(r) >= 1;
}

/* ---- the thread: a run --------------------------------------------------- */

typedef struct run_ctx {
    const exp_job *job;
    PGconn *conn;                  /* the lock's (export_session_db) */
    PGconn *reader;                /* the snapshot's (export_read_db): conn,
                                      or a connection of its own, owned */
    int64_t id;
    char id_text[EXPORT_ID_TEXT];
    char started_at[40];
    int64_t withdrawn;             /* withdrawn status reports left out (manifest) */
    exp_folder f;                  /* f.err: why the run failed */
} run_ctx;

/* Hands the run's row to the loop (export.run without wait). */
static void post_started(PGresult *row)
{
    uv_mutex_lock(&W.sh.mu);
    W.sh.started = row;
    if (W.sh.async_open)
        uv_async_send(&W.async);
    uv_mutex_unlock(&W.sh.mu);
}

/* Marks the run failed (why in x->f.err); leaves the row for the loop. */
static void fail_run(run_ctx *x)
{
    PGresult *r = PQexec(x->conn, "ROLLBACK");
    PQclear(r);
    expf_remove_partials(&x->f);
    char err[EXPORT_ERR_MAX];
    const char *v[2] = {x->id_text, x->f.err};
    r = q(x->conn,
          "UPDATE export_run SET status = 'failed', finished_at = clock_timestamp(), error = $2,"
          " claim_date = NULL WHERE id = $1::bigint",
          2, v, err, sizeof err);
    PQclear(r);
    PGresult *row = read_run(x->conn, x->id_text);
    uv_mutex_lock(&W.sh.mu);
    W.sh.finished = row;
    exp_errf(W.sh.log_err, sizeof W.sh.log_err, "%s", x->f.err);
    uv_mutex_unlock(&W.sh.mu);
}

/* A report, written by report.c to NAME.partial, then committed. */
static int write_report(run_ctx *x, const char *name, bool xlsx, const report_params *rp)
{
    char path[EXPORT_PATH_MAX + EXPORT_NAME_MAX + 16];
    expf_partial_path(&x->f, name, path, sizeof path);
    int64_t rows = 0;
    uint64_t t0 = exp_mono_ms();
    char rerr[EXPORT_ERR_MAX - 64];
    rerr[0] = '\0';
    int r = xlsx ? report_write_xlsx(x->reader, rp, path, &rows, rerr, sizeof rerr)
                 : report_write_html(x->reader, rp, path, &rows, rerr, sizeof rerr);
    if (r != 0) {
        exp_errf(x->f.err, sizeof x->f.err, "%s: %s", name, rerr[0] ? rerr : "report failed");
        return -1;
    }
    return expf_adopt(&x->f, name, rows, t0);
}

/* The files of the run, in the snapshot, on x->reader. 0 or -1 (x->f.err). */
static int read_files(run_ctx *x)
{
    const exp_job *j = x->job;
    PGresult *r = PQexec(x->reader, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        exp_errf(x->f.err, sizeof x->f.err, "BEGIN: %s", PQerrorMessage(x->reader));
        return -1;
    }
    /* The audit file's lower bound: the start of the day before the export
     * date in time_zone. */
    const char *v[2] = {j->export_date, j->cfg->time_zone};
    r = q(x->reader,
          "SELECT set_config('baobao.export_audit_from',"
          " ((($1::date - 1)::timestamp) AT TIME ZONE $2)::text, true)",
          2, v, x->f.err, sizeof x->f.err);
    if (r == NULL)
        return -1;
    PQclear(r);
    /* Withdrawn status reports count nowhere in a run (status_reports.csv,
     * the reports): the manifest says how many were left out. */
    r = q(x->reader, "SELECT count(*) FROM status_report WHERE withdrawn_at IS NOT NULL", 0, NULL,
          x->f.err, sizeof x->f.err);
    if (r == NULL)
        return -1;
    x->withdrawn = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    for (int i = 0; i < EXPORT_NCSV; i++) {
        char name[EXPORT_NAME_MAX];
        if (csv_specs[i].name != NULL)
            snprintf(name, sizeof name, "%s", csv_specs[i].name);
        else
            snprintf(name, sizeof name, "audit_%s.csv", j->export_date);
        if (cancelled()) {
            exp_errf(x->f.err, sizeof x->f.err, "the server is shutting down");
            return -1;
        }
        if (expf_csv(&x->f, x->reader, name, csv_specs[i].sql) != 0)
            return -1;
    }
    char today[11], generated[64];
    if (clock_today(today) != 0)
        snprintf(today, sizeof today, "%s", j->export_date);
    time_t now = (time_t)clock_now_s();
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL ||
        strftime(generated, sizeof generated, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(generated, sizeof generated, "%s", today);
    char gen_text[128];
    exp_errf(gen_text, sizeof gen_text, "%s (%s)", generated, j->cfg->time_zone);
    report_params rp = {.today = today,
                        .red_after_days = j->cfg->overdue_red_after_days,
                        .visit_cycle_months = j->cfg->visit_cycle_months,
                        .generated_at = gen_text,
                        .cancelled = cancelled};
    if (cancelled()) {
        exp_errf(x->f.err, sizeof x->f.err, "the server is shutting down");
        return -1;
    }
    if (write_report(x, EXPORT_XLSX, true, &rp) != 0 || cancelled() ||
        write_report(x, EXPORT_HTML, false, &rp) != 0) {
        if (x->f.err[0] == '\0')
            exp_errf(x->f.err, sizeof x->f.err, "the server is shutting down");
        return -1;
    }
    r = PQexec(x->reader, "COMMIT");
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        exp_errf(x->f.err, sizeof x->f.err, "COMMIT: %s", PQerrorMessage(x->reader));
        return -1;
    }
    return 0;
}

/* The primary's WAL position now (on x->conn, session_db: the claim was
 * just committed there), then export_db asked until it replayed it:
 * outside a transaction, a short statement every EXPORT_REPLICA_POLL_MS,
 * so a shutdown stops the wait at once. An export_db out of recovery must
 * be session_db's server (REPLICA_SERVER_ID): a promoted or split-off one
 * would give old or other data. 0 or -1 (x->f.err). */
static int wait_for_replay(run_ctx *x)
{
    char err[EXPORT_ERR_MAX];
    PGresult *r = q(x->conn, "SELECT pg_current_wal_lsn()::text, " REPLICA_SERVER_ID, 0, NULL,
                    err, sizeof err);
    if (r == NULL || PQntuples(r) != 1 || PQgetisnull(r, 0, 1)) {
        exp_errf(x->f.err, sizeof x->f.err, "the primary's WAL position: %s",
                 r == NULL ? err : "no answer");
        PQclear(r);
        return -1;
    }
    char lsn[64], id[REPLICA_SERVER_ID_MAX];
    exp_errf(lsn, sizeof lsn, "%s", PQgetvalue(r, 0, 0));
    exp_errf(id, sizeof id, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    const char *v[1] = {lsn};
    uint64_t t0 = exp_mono_ms();
    for (;;) {
        if (cancelled()) {
            exp_errf(x->f.err, sizeof x->f.err, "the server is shutting down");
            return -1;
        }
        r = q(x->reader,
              "SELECT pg_is_in_recovery(),"
              " coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false),"
              " CASE WHEN pg_is_in_recovery() THEN NULL ELSE " REPLICA_SERVER_ID " END,"
              " coalesce(pg_last_xact_replay_timestamp()::text, '-')",
              1, v, err, sizeof err);
        if (r == NULL || PQntuples(r) != 1) {
            exp_errf(x->f.err, sizeof x->f.err, "export_db: %s", r == NULL ? err : "no answer");
            PQclear(r);
            return -1;
        }
        bool in_recovery = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        bool caught_up = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
        bool same = !PQgetisnull(r, 0, 2) && strcmp(PQgetvalue(r, 0, 2), id) == 0;
        char replayed[64];
        exp_errf(replayed, sizeof replayed, "%s", PQgetvalue(r, 0, 3));
        PQclear(r);
        if (!in_recovery && !same) {
            exp_errf(x->f.err, sizeof x->f.err,
                     "export_db is not in recovery and is not the server db reaches"
                     " (a promoted or split-off replica?): not read");
            return -1;
        }
        if (!in_recovery || caught_up)
            return 0;
        if (exp_mono_ms() - t0 >= EXPORT_REPLICA_WAIT_MS) {
            exp_errf(x->f.err, sizeof x->f.err,
                     "export_db has not replayed the primary's WAL position %s within %d s"
                     " (last replayed commit: %s): its data would be old; is replay paused"
                     " or the replica cut off?",
                     lsn, EXPORT_REPLICA_WAIT_MS / 1000, replayed);
            return -1;
        }
        poll(NULL, 0, EXPORT_REPLICA_POLL_MS);
    }
}

/* The files of the run: on the lock's connection, or with export_db on a
 * connection of their own (a replica may serve it: the snapshot is
 * REPEATABLE READ READ ONLY), once it has replayed what the primary had
 * (wait_for_replay). While it reads, the shutdown's cancel goes to that
 * connection, where the long statements run. 0 or -1 (x->f.err). */
static int write_files(run_ctx *x)
{
    const config *cfg = x->job->cfg;
    if (strcmp(export_read_db(cfg), config_session_db(cfg)) == 0) {
        x->reader = x->conn;
        return read_files(x);
    }
    char err[EXPORT_ERR_MAX];
    x->reader = export_connect(cfg, export_read_db(cfg), err, sizeof err);
    if (x->reader == NULL) {
        exp_errf(x->f.err, sizeof x->f.err, "export_db: %s", err);
        return -1;
    }
    /* Swapped only with a handle of our own and before the shutdown took
     * the lock connection's: else the shutdown has it (and cancelled() is
     * set), or, with no handle (PQgetCancel failed), the lock connection's
     * stays published. */
    PGcancel *mine = PQgetCancel(x->reader);
    PGcancel *lock_cancel = NULL;
    bool swapped = false;
    uv_mutex_lock(&W.sh.mu);
    if (mine != NULL && !W.sh.cancel_taken) {
        lock_cancel = W.sh.pgcancel;
        W.sh.pgcancel = mine;
        swapped = true;
    }
    uv_mutex_unlock(&W.sh.mu);
    if (!swapped)
        PQfreeCancel(mine); /* NULL-safe */
    /* The SQLSTATE in every error text of this connection: a recovery
     * conflict (40001) is told apart whatever the server's lc_messages. */
    PQsetErrorVerbosity(x->reader, PQERRORS_VERBOSE);
    int r = cancelled() ? -1 : wait_for_replay(x);
    if (r == 0)
        r = read_files(x);
    if (r != 0 && x->f.err[0] == '\0')
        exp_errf(x->f.err, sizeof x->f.err, "the server is shutting down");
    else if (r != 0 && strstr(x->f.err, " 40001: ") != NULL)
        /* A standby cancels a long snapshot whose rows replay removes
         * (stock settings: hot_standby_feedback off, 30 s of
         * max_standby_streaming_delay). */
        exp_errf(x->f.err, sizeof x->f.err,
                 "export_db cancelled the snapshot (conflict with recovery): set"
                 " hot_standby_feedback = on on the replica (PROTOCOL.md, \"Read replicas\")");
    if (swapped) {
        /* mine back out (unless the shutdown's helper has it), the lock
         * connection's back in: the worker frees it before PQfinish. */
        uv_mutex_lock(&W.sh.mu);
        PGcancel *left = W.sh.cancel_taken ? NULL : W.sh.pgcancel;
        W.sh.pgcancel = lock_cancel;
        uv_mutex_unlock(&W.sh.mu);
        PQfreeCancel(left);
    }
    PQfinish(x->reader);
    x->reader = x->conn;
    return r;
}

static void end_run(run_ctx *x)
{
    if (x->f.dirfd >= 0)
        close(x->f.dirfd);
    free(x);
}

/* Sets the job's failure (no run row of its own) for the loop. */
static void job_failed(bb_err code, const char *what, const char *why)
{
    uv_mutex_lock(&W.sh.mu);
    W.sh.fail_code = code;
    exp_errf(W.sh.fail_msg, sizeof W.sh.fail_msg, "%s: %s", what, why);
    uv_mutex_unlock(&W.sh.mu);
}

/* The export lock (EXPORT_LOCK) on the job's connection: waiting for it
 * (a run; the wait ends with the other process's run, or its connection,
 * and the shutdown's cancel ends it too) or not (the start-up job). 1
 * held, 0 another process holds it, -1 error (err). */
static int take_lock(PGconn *c, bool wait, char *err, size_t errlen)
{
    PGresult *r = q(c, wait ? "SELECT pg_advisory_lock(" EXPORT_LOCK ")::text, true"
                            : "SELECT true, pg_try_advisory_lock(" EXPORT_LOCK ")",
                    0, NULL, err, errlen);
    if (r == NULL)
        return -1;
    int got = PQntuples(r) == 1 && PQgetvalue(r, 0, 1)[0] == 't' ? 1 : 0;
    PQclear(r);
    return got;
}

/* Under the lock: runs left 'running' (their owners are gone: they would
 * hold the lock) are failed and their folders removed (export_recover); counted
 * for the loop's log line. */
static void recover_stale(PGconn *conn, const char *last_due_date, int topfd, bool *catch_up)
{
    long marked = 0, removed = 0, left = 0;
    bool due = export_recover(conn, last_due_date, topfd, &marked, &removed, &left);
    uv_mutex_lock(&W.sh.mu);
    W.sh.recovered += marked;
    W.sh.removed += removed;
    W.sh.left_alone = left;
    uv_mutex_unlock(&W.sh.mu);
    if (catch_up != NULL)
        *catch_up = due;
}

/* A manual run found another process's run going on (the lock busy):
 * the request gets that run, as a second request in one process does
 * (export.c): its row now, and with `wait` its end, once the lock comes
 * free. True when there was such a run. */
static bool join_other_run(PGconn *conn, bool *locked)
{
    char err[EXPORT_ERR_MAX];
    /* Only a run whose owner beats: a row left by a dead process (its lock
     * may still be held by a connection PostgreSQL has not dropped yet) is
     * no run to wait for. */
    char stale_ms[16];
    snprintf(stale_ms, sizeof stale_ms, "%u", EXPORT_OWNER_STALE_MS);
    const char *sv[1] = {stale_ms};
    PGresult *r = q(conn, "SELECT id::text FROM export_run WHERE status = 'running'"
                          " AND heartbeat_at >= clock_timestamp()"
                          " - make_interval(secs => $1::numeric / 1000)"
                          " ORDER BY id DESC LIMIT 1", 1, sv, err, sizeof err);
    if (r == NULL || PQntuples(r) != 1) {
        PQclear(r);
        return false;
    }
    char id[EXPORT_ID_TEXT];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    post_started(read_run(conn, id));
    int got = take_lock(conn, true, err, sizeof err);
    if (got == 1)
        *locked = true;
    PGresult *row = read_run(conn, id);
    if (got == 1 && row != NULL && strcmp(PQgetvalue(row, 0, RUN_STATUS), "running") == 0) {
        /* The lock came free and the run is still 'running': its owner is
         * gone (it held the lock to the end). We hold the lock now: the
         * recovery fails it, and the request gets a run of its own. */
        PQclear(row);
        return false;
    }
    uv_mutex_lock(&W.sh.mu);
    W.sh.finished = row;
    W.sh.joined = true;
    if (got != 1)
        exp_errf(W.sh.log_err, sizeof W.sh.log_err, "waiting for run %s: %s", id, err);
    uv_mutex_unlock(&W.sh.mu);
    return true;
}

/* One run, from its row to its manifest: under the export lock (taken
 * here unless *locked), with the scheduled or catch-up date claimed. */
static void run_export(PGconn *conn, const exp_job *j, int topfd, bool *locked)
{
    if (!*locked) {
        char lerr[EXPORT_ERR_MAX];
        int got = take_lock(conn, false, lerr, sizeof lerr);
        if (got == 0 && strcmp(j->kind, "manual") == 0 && join_other_run(conn, locked))
            return;
        if (*locked)
            got = 1;   /* the joined run's owner is gone: the lock is ours */
        else if (got == 0)
            got = take_lock(conn, true, lerr, sizeof lerr);
        if (got != 1) {
            job_failed(cancelled() ? BB_E_SHUTTING_DOWN : BB_E_UNAVAILABLE, "export lock", lerr);
            uv_mutex_lock(&W.sh.mu);
            W.sh.lock_wait_failed = !cancelled();
            uv_mutex_unlock(&W.sh.mu);
            return;
        }
        *locked = true;
        recover_stale(conn, NULL, topfd, NULL);
    }
    run_ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        uv_mutex_lock(&W.sh.mu);
        W.sh.fail_code = BB_E_INTERNAL;
        exp_errf(W.sh.fail_msg, sizeof W.sh.fail_msg, "out of memory");
        uv_mutex_unlock(&W.sh.mu);
        return;
    }
    x->job = j;
    x->conn = conn;
    x->f.dirfd = -1;
    x->f.cancelled = cancelled;
    char by[EXPORT_ID_TEXT];
    snprintf(by, sizeof by, "%" PRId64, j->requested_by);
    const char *v[4] = {j->kind, j->export_date, j->requested_by > 0 ? by : NULL, j->owner};
    char err[EXPORT_ERR_MAX];
    /* A scheduled or catch-up run claims its date (sql/026): a second
     * process due the same night finds it claimed and runs nothing. */
    PGresult *r = q(conn,
                    "INSERT INTO export_run (kind, export_date, requested_by, owner, claim_date)"
                    " VALUES ($1, $2::date, $3::bigint, $4,"
                    "  CASE WHEN $1 IN ('scheduled', 'catch_up') THEN $2::date END)"
                    " ON CONFLICT (claim_date) DO NOTHING RETURNING id, bb_ts(started_at)",
                    4, v, err, sizeof err);
    if (r != NULL && PQntuples(r) == 0) {
        PQclear(r);
        r = q(conn, "SELECT id::text || ' (' || status || ', ' || coalesce(owner, 'no owner') || ')'"
                    " FROM export_run WHERE claim_date = $1::date", 1, v + 1, err, sizeof err);
        uv_mutex_lock(&W.sh.mu);
        exp_errf(W.sh.skipped, sizeof W.sh.skipped, "export_date %s claimed by run %s",
                 j->export_date, r != NULL && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "?");
        uv_mutex_unlock(&W.sh.mu);
        PQclear(r);
        free(x);
        return;
    }
    if (r == NULL || PQntuples(r) != 1) {
        PQclear(r);
        uv_mutex_lock(&W.sh.mu);
        W.sh.fail_code = BB_E_UNAVAILABLE;
        exp_errf(W.sh.fail_msg, sizeof W.sh.fail_msg, "export_run: %s", err);
        uv_mutex_unlock(&W.sh.mu);
        free(x);
        return;
    }
    snprintf(x->id_text, sizeof x->id_text, "%s", PQgetvalue(r, 0, 0));
    x->id = strtoll(x->id_text, NULL, 10);
    uv_mutex_lock(&W.sh.mu);
    snprintf(W.sh.run_id, sizeof W.sh.run_id, "%s", x->id_text);
    uv_mutex_unlock(&W.sh.mu);
    snprintf(x->started_at, sizeof x->started_at, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    (void)expf_create(&x->f, topfd, j->cfg->export_dir, j->export_date);
    if (x->f.name[0] != '\0') {
        /* A folder was made (even if it could not be opened): the row
         * names it, so a failed run's leftovers can be removed. */
        char uerr[EXPORT_ERR_MAX];
        const char *fv[2] = {x->id_text, x->f.name};
        r = q(conn, "UPDATE export_run SET folder = $2 WHERE id = $1::bigint", 2, fv, uerr,
              sizeof uerr);
        if (r == NULL && x->f.dirfd >= 0)
            exp_errf(x->f.err, sizeof x->f.err, "%s", uerr);
        PQclear(r);
    }
    post_started(read_run(conn, x->id_text));
    if (x->f.dirfd < 0) {
        if (x->f.err[0] == '\0')
            exp_errf(x->f.err, sizeof x->f.err, "the run's folder could not be created");
        fail_run(x);
        end_run(x);
        return;
    }
    if (write_files(x) != 0) {
        fail_run(x);
        end_run(x);
        return;
    }
    char *files = expf_files_json(&x->f);
    r = q(conn, "SELECT bb_ts(clock_timestamp())", 0, NULL, x->f.err, sizeof x->f.err);
    char finished_at[40] = "";
    if (r != NULL)
        snprintf(finished_at, sizeof finished_at, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (files == NULL || finished_at[0] == '\0' ||
        expf_write_manifest(&x->f, j->export_date, x->id, j->kind, x->started_at, finished_at,
                            files, x->withdrawn) != 0) {
        if (x->f.err[0] == '\0')
            exp_errf(x->f.err, sizeof x->f.err, "manifest: out of memory");
        free(files);
        fail_run(x);
        end_run(x);
        return;
    }
    const char *uv3[3] = {x->id_text, finished_at, files};
    r = q(conn,
          "UPDATE export_run SET status = 'ok', finished_at = $2::timestamptz, files = $3::jsonb"
          " WHERE id = $1::bigint",
          3, uv3, x->f.err, sizeof x->f.err);
    /* The files are complete (manifest written); the row could not say
     * so: logged (event=export_finished error=...), the row stays
     * 'running' and the next start marks it failed. */
    char ok_err[EXPORT_ERR_MAX] = "";
    if (r == NULL)
        exp_errf(ok_err, sizeof ok_err, "status ok not recorded: %s", x->f.err);
    PQclear(r);
    free(files);
    long pruned = expf_prune(topfd, x->f.name, j->cfg->export_keep_days);
    PGresult *row = read_run(conn, x->id_text);
    exp_file *copy = malloc((size_t)x->f.nfiles * sizeof *copy);
    if (copy != NULL)
        memcpy(copy, x->f.files, (size_t)x->f.nfiles * sizeof *copy);
    uv_mutex_lock(&W.sh.mu);
    W.sh.files = copy;
    W.sh.nfiles = copy != NULL ? x->f.nfiles : 0;
    W.sh.finished = row;
    W.sh.pruned = pruned;
    if (ok_err[0] != '\0')
        exp_errf(W.sh.log_err, sizeof W.sh.log_err, "%s", ok_err);
    uv_mutex_unlock(&W.sh.mu);
    end_run(x);
}

static void worker(void *arg)
{
    exp_job *j = arg;
    char err[EXPORT_ERR_MAX];
    int topfd = expf_open_top(j->cfg->export_dir, err, sizeof err);
    PGconn *conn = export_connect(j->cfg, config_session_db(j->cfg), err, sizeof err);
    if (conn == NULL) {
        uv_mutex_lock(&W.sh.mu);
        W.sh.connect_failed = true;
        W.sh.fail_code = BB_E_UNAVAILABLE;
        exp_errf(W.sh.fail_msg, sizeof W.sh.fail_msg, "%s", err);
        uv_mutex_unlock(&W.sh.mu);
    } else {
        /* Published for the shutdown, which cancels the running statement
         * (a report query, an UPDATE) rather than wait for it. */
        PGcancel *pc = PQgetCancel(conn);
        uv_mutex_lock(&W.sh.mu);
        W.sh.pgcancel = pc;
        uv_mutex_unlock(&W.sh.mu);
        bool run = j->job == JOB_RUN;
        bool locked = false;   /* EXPORT_LOCK; released with the connection */
        if (j->job == JOB_STARTUP) {
            /* Recovery only under the lock: a process that holds it is
             * exporting (its run is alive whatever its heartbeat says),
             * and is left alone; the schedule tries again later. */
            int got = take_lock(conn, false, err, sizeof err);
            bool catch_up = false;
            if (got == 1) {
                locked = true;
                recover_stale(conn, j->last_due_date, topfd, &catch_up);
            }
            uv_mutex_lock(&W.sh.mu);
            W.sh.deferred = got != 1;
            W.sh.catch_up = catch_up;
            if (got < 0)
                exp_errf(W.sh.log_err, sizeof W.sh.log_err, "export lock: %s", err);
            uv_mutex_unlock(&W.sh.mu);
            if (catch_up) {
                j->kind = "catch_up";
                snprintf(j->export_date, sizeof j->export_date, "%s", j->last_due_date);
                run = true;
            }
        }
        if (run)
            run_export(conn, j, topfd, &locked);
        uv_mutex_lock(&W.sh.mu);
        pc = W.sh.pgcancel;   /* NULL when the shutdown's helper took it */
        W.sh.pgcancel = NULL;
        uv_mutex_unlock(&W.sh.mu);
        PQfreeCancel(pc);
        PQfinish(conn);
    }
    if (topfd >= 0)
        close(topfd);
    uv_mutex_lock(&W.sh.mu);
    W.sh.done = true;
    if (W.sh.async_open)
        uv_async_send(&W.async);
    uv_mutex_unlock(&W.sh.mu);
}

/* ---- the loop ------------------------------------------------------------ */

static void on_heartbeat(uv_timer_t *t);

int export_worker_start(exp_job_kind kind, const char *run_kind, const char *date, int64_t by,
                        const char *last_due_date)
{
    if (W.state != EXP_IDLE)
        return UV_EBUSY;
    memset(&W.job, 0, sizeof W.job);
    W.job.job = kind;
    W.job.kind = run_kind;
    W.job.requested_by = by;
    W.job.cfg = &W.s->cfg;
    W.job.owner = W.owner;
    if (date != NULL)
        snprintf(W.job.export_date, sizeof W.job.export_date, "%s", date);
    if (kind == JOB_STARTUP && last_due_date != NULL)
        snprintf(W.job.last_due_date, sizeof W.job.last_due_date, "%s", last_due_date);
    uv_mutex_lock(&W.sh.mu);
    atomic_store(&W.sh.cancel, false);
    W.sh.started = W.sh.finished = NULL;
    W.sh.done = false;
    W.sh.cancel_taken = false;
    W.sh.connect_failed = false;
    W.sh.fail_code = BB_E__COUNT;
    W.sh.fail_msg[0] = W.sh.log_err[0] = '\0';
    W.sh.recovered = W.sh.removed = W.sh.pruned = 0;
    W.sh.catch_up = false;
    W.sh.left_alone = 0;
    W.sh.deferred = false;
    W.sh.joined = false;
    W.sh.run_id[0] = '\0';
    W.sh.lock_wait_failed = false;
    W.sh.skipped[0] = '\0';
    uv_mutex_unlock(&W.sh.mu);
    if (!set_state(EXP_BUSY))
        return UV_EINVAL;
    int r = uv_thread_create(&W.thread, worker, &W.job);
    if (r == 0 && W.hb_open)
        (void)uv_timer_start(&W.hb, on_heartbeat, EXPORT_HEARTBEAT_MS, EXPORT_HEARTBEAT_MS);
    if (r != 0) {
        (void)set_state(EXP_IDLE);
        log_event(LOG_ERROR, "export_thread_failed", "err=%s", uv_err_name(r));
    }
    return r;
}

bool export_worker_busy(void)
{
    return W.state == EXP_BUSY;
}

bool export_worker_closing(void)
{
    return W.state == EXP_CLOSING || W.state == EXP_CLOSED;
}

/* The heartbeat's answer: nothing to do but allow the next one; a
 * heartbeat that fails is logged (the run itself goes on: it holds the
 * export lock, so no recovery fails it meanwhile). */
static void heartbeat_done(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    (void)res;
    W.hb_in_flight = false;
    if (e != NULL && W.state == EXP_BUSY)
        log_event(LOG_WARN, "export_heartbeat_failed", "owner=%s why=%s", log_q(W.owner),
                  log_q(e->message));
}

/* Every EXPORT_HEARTBEAT_MS while a job runs: this process's running
 * run (if any yet) is still owned (sql/026). One UPDATE through the pool,
 * never two at once. */
static void on_heartbeat(uv_timer_t *t)
{
    (void)t;
    if (W.hb_in_flight || W.state == EXP_IDLE || W.state == EXP_CLOSED)
        return;
    char id[EXPORT_ID_TEXT];
    uv_mutex_lock(&W.sh.mu);
    snprintf(id, sizeof id, "%s", W.sh.run_id);
    uv_mutex_unlock(&W.sh.mu);
    if (id[0] == '\0')
        return;   /* no run of its own yet (waiting for the lock, a recovery) */
    const char *vals[] = {id};
    int r = pool_query(W.s->pool, &export_heartbeat_stmt.ps, vals, NULL, heartbeat_done, NULL);
    if (r == 0)
        W.hb_in_flight = true;
    else
        log_event(LOG_WARN, "export_heartbeat_skipped", "run=%s owner=%s err=%d why=%s", id,
                  log_q(W.owner), -r,
                  r == -BB_E_SHUTTING_DOWN ? "\"the pool is closing\""
                                           : "\"no database connection up, or its queue full\"");
}

static void close_async(void)
{
    if (W.hb_open) {
        W.hb_open = false;
        uv_timer_stop(&W.hb);
        uv_close((uv_handle_t *)&W.hb, NULL);
    }
    uv_mutex_lock(&W.sh.mu);
    W.sh.async_open = false;
    uv_mutex_unlock(&W.sh.mu);
    if (W.async_open) {
        W.async_open = false;
        uv_close((uv_handle_t *)&W.async, NULL);
    }
}

static void on_async(uv_async_t *h)
{
    (void)h;
    uv_mutex_lock(&W.sh.mu);
    PGresult *started = W.sh.started, *finished = NULL;
    W.sh.started = NULL;
    /* `finished` is taken only once the thread is done: it may be set
     * while the thread still closes its connection, and the async that
     * sees `done` must find it there. */
    bool done = W.sh.done;
    if (done) {
        finished = W.sh.finished;
        W.sh.finished = NULL;
    }
    uv_mutex_unlock(&W.sh.mu);
    if (started != NULL) {
        if (export_run_row_ok(started))
            log_event(LOG_INFO, "export_started", "run=%s kind=%s export_date=%s folder=%s",
                      PQgetvalue(started, 0, RUN_ID), PQgetvalue(started, 0, RUN_KIND),
                      PQgetvalue(started, 0, RUN_DATE), log_q(PQgetvalue(started, 0, RUN_FOLDER)));
        W.on_started(started);
    }
    if (!done)
        return;
    uv_thread_join(&W.thread);
    if (W.hb_open)
        uv_timer_stop(&W.hb);
    if (W.sh.recovered > 0 || W.sh.removed > 0 || W.sh.catch_up)
        log_event(LOG_INFO, "export_recovered", "marked_failed=%ld folders_removed=%ld catch_up=%d",
                  W.sh.recovered, W.sh.removed, (int)W.sh.catch_up);
    if (W.sh.left_alone > 0 || W.sh.deferred)
        log_event(LOG_INFO, "export_left_alone",
                  "running=%ld lock_busy=%d owner=%s why=\"another process is exporting\"",
                  W.sh.left_alone, (int)W.sh.deferred, log_q(W.owner));
    if (W.sh.skipped[0] != '\0')
        log_event(LOG_INFO, "export_skipped", "kind=%s export_date=%s owner=%s why=%s",
                  W.job.kind != NULL ? W.job.kind : "", W.job.export_date, log_q(W.owner),
                  log_q(W.sh.skipped));
    for (int i = 0; i < W.sh.nfiles; i++)
        log_event(LOG_INFO, "export_file", "name=%s rows=%" PRId64 " bytes=%" PRIu64 " ms=%" PRIu64,
                  W.sh.files[i].name, W.sh.files[i].rows, W.sh.files[i].bytes, W.sh.files[i].ms);
    free(W.sh.files);
    W.sh.files = NULL;
    W.sh.nfiles = 0;
    bool closing = W.state == EXP_CLOSING;
    if (closing) {
        (void)set_state(EXP_CLOSED);
        close_async();
    } else {
        (void)set_state(EXP_IDLE);
    }
    exp_outcome o = {
        .job = W.job.job,
        .finished = finished,
        .connect_failed = W.sh.connect_failed,
        .fail_code = W.sh.fail_code,
        .fail_msg = W.sh.fail_msg,
        .log_err = W.sh.log_err,
        .pruned = W.sh.pruned,
        .skipped = W.sh.skipped,
        .left_alone = W.sh.left_alone,
        .deferred = W.sh.deferred,
        .joined = W.sh.joined,
        .closing = closing,
        .run_kind = W.job.kind,
        .lock_wait_failed = W.sh.lock_wait_failed,
        .own_status = finished != NULL && !W.sh.joined && export_run_row_ok(finished)
                          ? PQgetvalue(finished, 0, RUN_STATUS)[0]
                          : 0,
    };
    W.on_done(&o);
}

int export_worker_init(server *s, void (*started)(PGresult *row),
                       void (*done)(const exp_outcome *o))
{
    memset(&W, 0, sizeof W);
    W.s = s;
    W.state = EXP_IDLE;
    W.on_started = started;
    W.on_done = done;
    int r = uv_mutex_init(&W.sh.mu);
    if (r != 0)
        return r;
    atomic_init(&W.sh.cancel, false);
    char host[256];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(W.owner, sizeof W.owner, "%s:%ld", host, (long)getpid());
    if ((r = uv_timer_init(s->loop, &W.hb)) != 0)
        return r;
    W.hb_open = true;
    if ((r = uv_async_init(s->loop, &W.async, on_async)) != 0)
        return r;
    W.async_open = true;
    W.sh.async_open = true;
    return 0;
}

/* Shutdown's helper (detached): sends the cancel request for the job's
 * running statement, again while the job is not done. PQcancel blocks
 * (it connects to the server), so never on the loop. Owns `arg`. */
static void *cancel_helper(void *arg)
{
    PGcancel *pc = arg;
    for (int i = 0; i < EXPORT_CANCEL_TRIES; i++) {
        uv_mutex_lock(&W.sh.mu);
        bool done = W.sh.done;
        uv_mutex_unlock(&W.sh.mu);
        if (done)
            break;
        char eb[256];
        (void)PQcancel(pc, eb, sizeof eb);
        struct timespec ts = {0, (long)EXPORT_CANCEL_EVERY_MS * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    PQfreeCancel(pc);
    return NULL;
}

void export_worker_shutdown(void)
{
    if (W.state == EXP_BUSY) {
        atomic_store(&W.sh.cancel, true);
        uv_mutex_lock(&W.sh.mu);
        PGcancel *pc = W.sh.pgcancel;
        W.sh.pgcancel = NULL;
        W.sh.cancel_taken = true;
        uv_mutex_unlock(&W.sh.mu);
        if (pc != NULL) {
            pthread_t t;
            pthread_attr_t a;
            bool started = pthread_attr_init(&a) == 0;
            if (started) {
                started = pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0 &&
                          pthread_create(&t, &a, cancel_helper, pc) == 0;
                pthread_attr_destroy(&a);
            }
            if (!started) {
                PQfreeCancel(pc);
                log_event(LOG_WARN, "export_cancel_failed", "why=\"no helper thread\"");
            }
        }
        (void)set_state(EXP_CLOSING);
    } else if (W.state == EXP_IDLE) {
        (void)set_state(EXP_CLOSED);
        close_async();
    }
}
