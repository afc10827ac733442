/*
 * export.c: export runs (issue 6): the nightly schedule, the catch-up of a
 * run missed while baobaod was down, export.run and export.list, and the
 * run itself: one CSV file per entity and the reports (report.h), all from
 * one REPEATABLE READ snapshot, written atomically with a manifest.
 *
 * Threads. Everything blocking (libpq, file I/O, fsync, SHA-256) runs on a
 * thread of its own (uv_thread_create, one per job), with its own blocking
 * libpq connection from the `db` setting: never on the loop, and never on
 * libuv's thread pool (password hashing lives there). The thread reports
 * back with uv_async_send: once the run's export_run row exists
 * ("started": export.run without wait is answered then) and once it is
 * done. Only the loop thread logs (log.h): the thread leaves what to log in
 * the shared block. At most one job runs at a time; export.run while a run
 * is in progress starts no second run but answers the one in progress.
 *
 * A job, on its thread:
 *   start-up only: runs left 'running' by a server that died are marked
 *     'failed'; the folders of failed runs without a manifest are removed;
 *     when the last due nightly run (export_time) has no successful
 *     scheduled or catch-up run, a catch-up run follows;
 *   a run: export_run row ('running') -> folder <export_dir>/<date>[-N] ->
 *     BEGIN REPEATABLE READ READ ONLY -> each CSV through COPY (SELECT ...)
 *     TO STDOUT read row by row with PQgetCopyData (a UTF-8 BOM first, CRLF
 *     after each record; memory does not grow with rows) -> the reports
 *     (same connection, same transaction) -> every file NAME.partial,
 *     fsync'd, renamed, the folder fsync'd -> manifest.json last, the same
 *     way -> the row 'ok' with its files -> idempotency records older than
 *     EXPORT_IDEMPOTENCY_KEEP_DAYS deleted -> old run folders pruned. A
 *     failure (or shutdown) removes the .partial files and marks the row
 *     'failed' with why: a folder without manifest.json is incomplete.
 *
 * Formula injection: a text cell that begins with = + - or @ (or with
 * apostrophes followed by one of them) gets one more leading apostrophe,
 * in the SELECT that feeds COPY (EXPORT_DEFUSE); an importer removes one
 * apostrophe from a cell matching ^'+[=+-@].
 *
 * Not for: the reports' content (report.c), the export_run table
 * (sql/012_exports.sql), importing (import.c).
 */
#include "export.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bb_limits.h"
#include "clock.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "report.h"
#include "rowpack.h"
#include "session.h"

/* Bytes gathered before one write(2) of a CSV file. */
#define EXPORT_WRITE_BUF 65536
/* The export connection: seconds to connect, and the longest statement
 * (a COPY of every status report, a report query); the pool's 30 s is for
 * requests, not for this. */
#define EXPORT_CONNECT_TIMEOUT_S "10"
#define EXPORT_STATEMENT_TIMEOUT "1h"
/* Runs on one date: <date>, <date>-2 ... <date>-EXPORT_MAX_SAME_DAY. */
#define EXPORT_MAX_SAME_DAY 999
/* The nightly run deletes idempotency records older than this (PROTOCOL.md
 * section 4: a retry must come within this window). */
#define EXPORT_IDEMPOTENCY_KEEP_DAYS "7"
/* ... and login_throttle rows whose last failure is older than this, with
 * no lock in force and no check running. */
#define EXPORT_THROTTLE_KEEP_DAYS "1"
/* The schedule's timer never sleeps longer than this before it looks at the
 * clock again (wall-clock changes, daylight saving in other zones). */
#define EXPORT_SCHEDULE_RECHECK_MS 3600000u
#define EXPORT_ERR_MAX 512
#define EXPORT_PATH_MAX 4096
#define EXPORT_MAX_FILES 16
#define EXPORT_NAME_MAX 64
#define EXPORT_MANIFEST "manifest.json"
#define EXPORT_PARTIAL ".partial"
#define EXPORT_ID_TEXT 24
/* Shutdown: the helper thread sends the cancel request this many times,
 * this far apart, while the job is not done (a cancel that reaches the
 * server between two statements cancels nothing). */
#define EXPORT_CANCEL_TRIES 20
#define EXPORT_CANCEL_EVERY_MS 250
/* Connecting polls the socket this often to see a shutdown. */
#define EXPORT_CONNECT_POLL_MS 100
/* The start-up job could not connect: tried again this much later. */
#define EXPORT_STARTUP_RETRY_MS 60000u

/* Formats an error text, cut to fit (vsnprintf: a cut message is fine). */
static void errf(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* strerror is not thread-safe and the run has a thread of its own: the
 * GNU strerror_r, into a buffer living as long as the enclosing block
 * (ERRSTR's compound literal). */
#define EXPORT_ERRSTR_MAX 128
static const char *errstr(int e, char *buf, size_t len)
{
    return strerror_r(e, buf, len);
}
#define ERRSTR(e) errstr((e), (char[EXPORT_ERRSTR_MAX]){0}, EXPORT_ERRSTR_MAX)

/* ---- SQL ---------------------------------------------------------------- */

/* A text cell defused against formula injection (see the top). Nested
 * CASE so the regular expression runs only for cells starting with '. */
#define EXPORT_DEFUSE(x)                                                                      \
    "CASE WHEN left(" x ", 1) IN ('=', '+', '-', '@') THEN '''' || " x " WHEN left(" x        \
    ", 1) <> '''' THEN " x " WHEN " x " ~ '^''+[=+@-]' THEN '''' || " x " ELSE " x " END"

/* One CSV file of a run. Header names are the contract (PROTOCOL.md,
 * "Exports"); money in yuan as integers, dates YYYY-MM-DD, timestamps as
 * the wire shows them, labels joined by a line feed. */
typedef struct csv_spec {
    const char *name;     /* file name; NULL: audit_<export_date>.csv */
    const char *sql;      /* COPY ... TO STDOUT */
} csv_spec;

static const csv_spec csv_specs[] = {
    {"enterprises.csv",
     "COPY (SELECT w.id AS \"编号\", " EXPORT_DEFUSE("w.name") " AS \"企业名称\","
     " w.credit_code AS \"统一社会信用代码\", w.township AS \"乡镇园区\","
     " w.cluster AS \"产业集群\", " EXPORT_DEFUSE("w.labels") " AS \"标签\","
     " w.status AS \"经营状态\", w.version AS \"版本\", w.created_at AS \"创建时间\","
     " w.updated_at AS \"更新时间\""
     " FROM enterprise_wire w ORDER BY w.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
    {"status_reports.csv",
     /* The same SELECT is timed against psql \copy by scripts/bench. */
     "COPY (SELECT s.id AS \"编号\", s.enterprise_id AS \"企业编号\","
     " " EXPORT_DEFUSE("e.name") " AS \"企业名称\","
     " to_char(s.report_date, 'YYYY-MM-DD') AS \"报告日期\","
     " " EXPORT_DEFUSE("s.reporter") " AS \"报告人\", s.production_status AS \"生产状态\","
     " s.output_value AS \"产值(元)\", s.employees AS \"从业人数\","
     " s.labour_shortage AS \"缺工人数\", " EXPORT_DEFUSE("s.note") " AS \"备注\","
     " bb_ts(s.created_at) AS \"创建时间\""
     " FROM status_report s JOIN enterprise e ON e.id = s.enterprise_id ORDER BY s.id)"
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
     " p.state AS \"状态\", p.closed_at AS \"办结时间\", p.created_at AS \"创建时间\""
     " FROM problem_wire p ORDER BY p.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
    /* The audit of the day: records from the start of the day before the
     * export date (in time_zone) up to the snapshot, so a nightly run
     * covers the whole previous day; the bound is set per transaction
     * (COPY takes no parameters). */
    {NULL,
     "COPY (SELECT a.id AS \"编号\", bb_ts(a.at) AS \"时间\","
     " " EXPORT_DEFUSE("a.login") " AS \"用户\", " EXPORT_DEFUSE("a.addr") " AS \"地址\","
     " a.method AS \"方法\", a.entity AS \"对象\", a.entity_id AS \"对象编号\","
     " array_to_string(a.changed, E'\\n') AS \"变更字段\", a.before::text AS \"变更前\","
     " a.after::text AS \"变更后\""
     " FROM audit_log a WHERE a.at >= current_setting('baobao.export_audit_from')::timestamptz"
     " ORDER BY a.id) TO STDOUT WITH (FORMAT csv, HEADER)"},
};
#define EXPORT_NCSV ((int)(sizeof csv_specs / sizeof csv_specs[0]))

#define EXPORT_XLSX "reports.xlsx"
#define EXPORT_HTML "reports.html"

/* An ExportRun as the wire shows it: export.list's rows and the rows the
 * thread reads back. files: one line per file, "name\trows\tbytes\tsha256"
 * (names are ours: no tab or newline). */
#define EXPORT_RUN_SELECT                                                                     \
    "SELECT r.id, r.kind, to_char(r.export_date, 'YYYY-MM-DD') AS export_date,"              \
    " u.login AS requested_by, bb_ts(r.started_at) AS started_at,"                           \
    " bb_ts(r.finished_at) AS finished_at, r.status,"                                         \
    " round(extract(epoch FROM r.finished_at - r.started_at) * 1000)::bigint AS duration_ms," \
    " r.folder,"                                                                              \
    " coalesce((SELECT string_agg(f.v->>'name' || E'\\t' || (f.v->>'rows') || E'\\t' ||"      \
    "   (f.v->>'bytes') || E'\\t' || (f.v->>'sha256'), E'\\n' ORDER BY f.n)"                  \
    "   FROM jsonb_array_elements(r.files) WITH ORDINALITY AS f(v, n)), '') AS files,"        \
    " r.error"                                                                                \
    " FROM export_run r LEFT JOIN app_user u ON u.id = r.requested_by"

enum { RUN_ID, RUN_KIND, RUN_DATE, RUN_BY, RUN_STARTED, RUN_FINISHED, RUN_STATUS, RUN_DURATION,
       RUN_FOLDER, RUN_FILES, RUN_ERROR, RUN_NCOLS };
static const char *const run_keys[RUN_NCOLS] = {
    "id", "kind", "export_date", "requested_by", "started_at", "finished_at",
    "status", "duration_ms", "folder", "files", "error",
};

/* export.list: newest first; $1 the cursor (ids below it), $2 the page
 * size plus one (to learn whether a next page exists). */
static const pool_stmt st_list = {
    "export_list",
    EXPORT_RUN_SELECT " WHERE ($1::bigint IS NULL OR r.id < $1::bigint)"
    " ORDER BY r.id DESC LIMIT $2::int",
    2};

static int export_register_statements(void)
{
    return pool_register(&st_list);
}

/* ---- the state shared with the thread ---------------------------------- */

/* The module's lifecycle (loop thread). */
typedef enum exp_state {
    EXP_IDLE = 0,   /* no job */
    EXP_BUSY,       /* a job's thread runs */
    EXP_CLOSING,    /* shutdown: the job was told to stop; waiting for it */
    EXP_CLOSED,     /* handles closed; nothing runs again */
} exp_state;

typedef enum exp_job_kind { JOB_STARTUP, JOB_RUN } exp_job_kind;

/* What the thread gets (written before uv_thread_create, read-only then). */
typedef struct exp_job {
    exp_job_kind job;
    const char *kind;              /* "scheduled" | "catch_up" | "manual" */
    char export_date[11];
    int64_t requested_by;          /* app_user.id; 0: none */
    char last_due_date[11];        /* start-up: the last due nightly date; "" none */
    const config *cfg;             /* borrowed: the server's, fixed while running */
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
    PGresult *started;             /* owned: the run's row once it exists */
    PGresult *finished;            /* owned: the run's row at the end */
    bool done;
    bool connect_failed;           /* the job's connection could not be opened */
    bb_err fail_code;              /* no run row at all: why (BB_E__COUNT: none) */
    char fail_msg[EXPORT_ERR_MAX];
    /* for the loop's log lines */
    long recovered, removed, pruned, idem_deleted;
    bool catch_up;
    char log_err[EXPORT_ERR_MAX];
    int nfiles;                    /* the run's files, for event=export_file */
    struct exp_file *files;        /* owned (malloc'd) */
} exp_shared;

/* A request waiting for the run: answered when the row exists (!wait) or
 * when the run is over (wait). */
typedef struct waiter {
    struct waiter *next;
    request *req;
    bool wait;
    int64_t user_id;
} waiter;

static struct {
    server *s;
    exp_state state;
    uv_timer_t timer;
    uv_timer_t retry;              /* the start-up job again, after a failed connect */
    uv_async_t async;
    bool timer_open, retry_open, async_open;
    uv_thread_t thread;
    exp_job job;
    exp_shared sh;
    waiter *waiters;
    PGresult *run_row;             /* owned: the running run's row (answers !wait) */
    bool schedule_on;
    int at_hour, at_min;
    int64_t due_s;                 /* the instant the timer is armed for */
    char due_date[11];
    bool scheduled_pending;        /* the timer fired during another job */
    char pending_date[11];
    char last_due_date[11];        /* at start: the last due nightly date */
} X;

/* The one place the module's state changes; refuses other moves. */
static bool set_state(exp_state to)
{
    exp_state from = X.state;
    bool ok = (from == EXP_IDLE && (to == EXP_BUSY || to == EXP_CLOSED)) ||
              (from == EXP_BUSY && (to == EXP_IDLE || to == EXP_CLOSING)) ||
              (from == EXP_CLOSING && to == EXP_CLOSED);
    if (!ok) {
        log_event(LOG_ERROR, "export_bad_state", "from=%d to=%d", (int)from, (int)to);
        return false;
    }
    X.state = to;
    return true;
}

/* ---- the thread: files ------------------------------------------------- */

typedef struct exp_file exp_file;
struct exp_file {
    char name[EXPORT_NAME_MAX];
    int64_t rows;
    uint64_t bytes;
    char sha256[65];
    uint64_t ms;                   /* how long it took (logged, not in the manifest) */
};

/* One output file being written: buffered, hashed as it goes. */
typedef struct wfile {
    int fd;
    EVP_MD_CTX *sha;
    uint64_t bytes;
    size_t len;
    char buf[EXPORT_WRITE_BUF];
} wfile;

typedef struct run_ctx {
    const exp_job *job;
    PGconn *conn;
    int dirfd;                     /* the run's folder */
    char folder[EXPORT_NAME_MAX];
    char folder_path[EXPORT_PATH_MAX];
    int64_t id;
    char id_text[EXPORT_ID_TEXT];
    char started_at[40];
    exp_file files[EXPORT_MAX_FILES];
    int nfiles;
    char err[EXPORT_ERR_MAX];
} run_ctx;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool cancelled(void)
{
    return atomic_load(&X.sh.cancel);
}

/* report_params.cancelled */
static int report_cancelled(void)
{
    return cancelled() ? 1 : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int wf_flush(wfile *f)
{
    if (f->len == 0)
        return 0;
    if (write_all(f->fd, f->buf, f->len) != 0)
        return -1;
    f->len = 0;
    return 0;
}

static int wf_put(wfile *f, const char *p, size_t n)
{
    if (EVP_DigestUpdate(f->sha, p, n) != 1)
        return -1;
    f->bytes += n;
    if (f->len + n > sizeof f->buf) {
        if (wf_flush(f) != 0)
            return -1;
        if (n > sizeof f->buf)
            return write_all(f->fd, p, n);
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return 0;
}

static void hex_digest(EVP_MD_CTX *sha, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    if (EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen != 32)
        return;
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int fsync_dir(int dirfd)
{
    return fsync(dirfd) == 0 || errno == EINVAL ? 0 : -1;
}

/* NAME.partial -> NAME: fsync'd before, the folder fsync'd after. */
static int commit_file(run_ctx *x, int fd, const char *name)
{
    char partial[EXPORT_NAME_MAX + 16];
    snprintf(partial, sizeof partial, "%s" EXPORT_PARTIAL, name);
    if (fsync(fd) != 0) {
        errf(x->err, sizeof x->err, "%s: fsync: %s", name, ERRSTR(errno));
        return -1;
    }
    if (renameat(x->dirfd, partial, x->dirfd, name) != 0) {
        errf(x->err, sizeof x->err, "%s: rename: %s", name, ERRSTR(errno));
        return -1;
    }
    if (fsync_dir(x->dirfd) != 0) {
        /* The rename may not be durable, and the run fails: the name must
         * not stay (a manifest.json would make the folder look complete). */
        errf(x->err, sizeof x->err, "%s: fsync of the folder: %s", name, ERRSTR(errno));
        (void)unlinkat(x->dirfd, name, 0);
        return -1;
    }
    return 0;
}

static int open_partial(run_ctx *x, const char *name)
{
    char partial[EXPORT_NAME_MAX + 16];
    snprintf(partial, sizeof partial, "%s" EXPORT_PARTIAL, name);
    int fd = openat(x->dirfd, partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        errf(x->err, sizeof x->err, "%s: %s", partial, ERRSTR(errno));
    return fd;
}

/* Stops a COPY OUT still streaming (cancel, write error): asks the server
 * to cancel, then reads what is left until the COPY ends. */
static void abort_copy(PGconn *conn)
{
    PGcancel *c = PQgetCancel(conn);
    if (c != NULL) {
        char eb[256];
        (void)PQcancel(c, eb, sizeof eb);
        PQfreeCancel(c);
    }
    char *row;
    int n;
    while ((n = PQgetCopyData(conn, &row, 0)) > 0)
        PQfreemem(row);
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL)
        PQclear(r);
}

/* One CSV: BOM, then COPY's rows, each record ending CRLF (a line feed
 * inside a quoted cell stays as it is, so cells round-trip). */
static int export_csv(run_ctx *x, const char *name, const char *sql)
{
    static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
    wfile *f = malloc(sizeof *f);
    if (f == NULL) {
        errf(x->err, sizeof x->err, "out of memory");
        return -1;
    }
    f->len = 0;
    f->bytes = 0;
    f->sha = EVP_MD_CTX_new();
    f->fd = -1;
    int rc = -1;
    bool copying = false;
    int64_t records = 0;
    uint64_t t0 = mono_ms();
    if (f->sha == NULL || EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1) {
        errf(x->err, sizeof x->err, "sha256 unavailable");
        goto out;
    }
    if ((f->fd = open_partial(x, name)) < 0)
        goto out;
    if (wf_put(f, bom, sizeof bom) != 0)
        goto write_failed;
    PGresult *r = PQexec(x->conn, sql);
    if (PQresultStatus(r) != PGRES_COPY_OUT) {
        errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(x->conn));
        PQclear(r);
        goto out;
    }
    PQclear(r);
    copying = true;
    for (;;) {
        char *row;
        int n = PQgetCopyData(x->conn, &row, 0);
        if (n == -1)
            break;
        if (n < 0) {
            errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(x->conn));
            copying = false;
            goto out;
        }
        int w;
        if (n > 0 && row[n - 1] == '\n')
            w = wf_put(f, row, (size_t)n - 1) == 0 && wf_put(f, "\r\n", 2) == 0 ? 0 : -1;
        else
            w = wf_put(f, row, (size_t)n);
        PQfreemem(row);
        if (w != 0)
            goto write_failed;
        records++;
        if (cancelled()) {
            errf(x->err, sizeof x->err, "the server is shutting down");
            goto out;
        }
    }
    copying = false;
    r = PQgetResult(x->conn);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        errf(x->err, sizeof x->err, "%s: %s", name, PQerrorMessage(x->conn));
    PQclear(r);
    while ((r = PQgetResult(x->conn)) != NULL)
        PQclear(r);
    if (!ok)
        goto out;
    if (wf_flush(f) != 0)
        goto write_failed;
    if (commit_file(x, f->fd, name) != 0)
        goto out;
    exp_file *ef = &x->files[x->nfiles++];
    snprintf(ef->name, sizeof ef->name, "%s", name);
    ef->rows = records > 0 ? records - 1 : 0;   /* the header is no data row */
    ef->bytes = f->bytes;
    ef->ms = mono_ms() - t0;
    hex_digest(f->sha, ef->sha256);
    rc = 0;
    goto out;
write_failed:
    errf(x->err, sizeof x->err, "%s: write: %s", name, ERRSTR(errno));
out:
    if (copying)
        abort_copy(x->conn);
    if (f->fd >= 0)
        close(f->fd);
    EVP_MD_CTX_free(f->sha);
    free(f);
    return rc;
}

/* A report file written by report.c to NAME.partial: hashed, fsync'd,
 * renamed. */
static int export_report(run_ctx *x, const char *name, bool xlsx, const report_params *rp)
{
    char path[EXPORT_PATH_MAX + EXPORT_NAME_MAX + 16];
    snprintf(path, sizeof path, "%s/%s" EXPORT_PARTIAL, x->folder_path, name);
    int64_t rows = 0;
    uint64_t t0 = mono_ms();
    char rerr[EXPORT_ERR_MAX - 64];
    rerr[0] = '\0';
    int r = xlsx ? report_write_xlsx(x->conn, rp, path, &rows, rerr, sizeof rerr)
                 : report_write_html(x->conn, rp, path, &rows, rerr, sizeof rerr);
    if (r != 0) {
        errf(x->err, sizeof x->err, "%s: %s", name, rerr[0] ? rerr : "report failed");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        errf(x->err, sizeof x->err, "%s: %s", name, ERRSTR(errno));
        return -1;
    }
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    char *buf = malloc(EXPORT_WRITE_BUF);
    uint64_t bytes = 0;
    int rc = -1;
    if (sha == NULL || buf == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
        errf(x->err, sizeof x->err, "%s: out of memory", name);
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf, EXPORT_WRITE_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errf(x->err, sizeof x->err, "%s: read: %s", name, ERRSTR(errno));
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(sha, buf, (size_t)n) != 1)
            goto out;
        bytes += (uint64_t)n;
    }
    if (commit_file(x, fd, name) != 0)
        goto out;
    exp_file *ef = &x->files[x->nfiles++];
    snprintf(ef->name, sizeof ef->name, "%s", name);
    ef->rows = rows;
    ef->bytes = bytes;
    ef->ms = mono_ms() - t0;
    hex_digest(sha, ef->sha256);
    rc = 0;
out:
    close(fd);
    free(buf);
    EVP_MD_CTX_free(sha);
    return rc;
}

/* The files array (manifest and export_run.files): names are ours (ASCII,
 * nothing to escape). */
static char *files_json(const run_ctx *x)
{
    size_t cap = 4 + (size_t)x->nfiles * (EXPORT_NAME_MAX + 200);
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < x->nfiles; i++) {
        const exp_file *f = &x->files[i];
        len += (size_t)snprintf(out + len, cap - len,
                                "%s\n    {\"name\": \"%s\", \"rows\": %" PRId64
                                ", \"bytes\": %" PRIu64 ", \"sha256\": \"%s\"}",
                                i ? "," : "", f->name, f->rows, f->bytes, f->sha256);
    }
    snprintf(out + len, cap - len, "\n  ]");
    return out;
}

static int write_manifest(run_ctx *x, const char *finished_at, const char *files)
{
    int fd = open_partial(x, EXPORT_MANIFEST);
    if (fd < 0)
        return -1;
    char *text = NULL;
    int n = asprintf(&text,
                     "{\n  \"export_date\": \"%s\",\n  \"run_id\": %" PRId64 ",\n"
                     "  \"kind\": \"%s\",\n  \"started_at\": \"%s\",\n"
                     "  \"finished_at\": \"%s\",\n  \"snapshot\": \"REPEATABLE READ\",\n"
                     "  \"files\": %s\n}\n",
                     x->job->export_date, x->id, x->job->kind, x->started_at, finished_at,
                     files);
    int rc = -1;
    if (n < 0) {
        errf(x->err, sizeof x->err, "out of memory");
    } else if (write_all(fd, text, (size_t)n) != 0) {
        errf(x->err, sizeof x->err, EXPORT_MANIFEST ": write: %s", ERRSTR(errno));
    } else {
        rc = commit_file(x, fd, EXPORT_MANIFEST);
    }
    free(n < 0 ? NULL : text);
    close(fd);
    return rc;
}

/* ---- the thread: folders ------------------------------------------------ */

/* "YYYY-MM-DD" or "YYYY-MM-DD-N": the only names pruning and clean-up
 * ever remove. */
static bool is_run_folder_name(const char *n)
{
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
            return false;
    }
    if (n[10] == '\0')
        return true;
    if (n[10] != '-' || n[11] < '1' || n[11] > '9')
        return false;
    for (const char *p = n + 12; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return strlen(n) <= 14;
}

/* Removes a run folder inside export_dir: its regular files, then itself.
 * keep_complete: leave a folder that has a manifest (a finished run).
 * 1 removed, 0 left, -1 error. */
static int remove_run_folder(int topfd, const char *name, bool keep_complete)
{
    if (!is_run_folder_name(name))
        return 0;
    int fd = openat(topfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (keep_complete && fstatat(fd, EXPORT_MANIFEST, &st, 0) == 0) {
        close(fd);
        return 0;
    }
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            S_ISDIR(st.st_mode) || unlinkat(dirfd(d), e->d_name, 0) != 0)
            rc = -1;   /* not ours to remove: the folder stays */
    }
    closedir(d);
    if (rc == 0 && unlinkat(topfd, name, AT_REMOVEDIR) != 0)
        rc = -1;
    (void)fsync_dir(topfd);
    return rc == 0 ? 1 : -1;
}

/* export_dir, created when missing (parents too). Returns an O_DIRECTORY
 * descriptor or -1 with err set. */
static int open_export_dir(const char *dir, char *err, size_t errlen)
{
    char path[EXPORT_PATH_MAX];
    snprintf(path, sizeof path, "%s", dir[0] ? dir : ".");
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
        return -1;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        errf(err, errlen, "export_dir %s: %s", path, ERRSTR(errno));
    return fd;
}

/* Days since 1970-01-01 of "YYYY-MM-DD" (first 10 characters). */
static int64_t date_days(const char *d)
{
    struct tm tm = {0};
    if (sscanf(d, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return INT64_MIN;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) / 86400;
}

/* After a successful run: run folders whose date is before today −
 * export_keep_days. Returns how many were removed. */
static long prune(int topfd, const char *own, unsigned keep_days)
{
    char today[11];
    if (clock_today(today) != 0)
        return 0;
    int64_t cutoff = date_days(today) - (int64_t)keep_days;
    int fd = dup(topfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    /* Names first, removal after: readdir while entries vanish may skip. */
    char (*names)[EXPORT_NAME_MAX] = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_run_folder_name(e->d_name) || strcmp(e->d_name, own) == 0 ||
            date_days(e->d_name) >= cutoff)
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            void *p = realloc(names, nc * sizeof *names);
            if (p == NULL)
                break;
            names = p;
            cap = nc;
        }
        memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);   /* at most 14 bytes */
    }
    closedir(d);
    long removed = 0;
    for (size_t i = 0; i < n; i++)
        if (remove_run_folder(topfd, names[i], false) == 1)
            removed++;
    free(names);
    return removed;
}

/* Removes NAME.partial files left in the run's folder. */
static void remove_partials(int dirfd)
{
    int fd = dup(dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *e;
    size_t pl = strlen(EXPORT_PARTIAL);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > pl && strcmp(e->d_name + l - pl, EXPORT_PARTIAL) == 0)
            (void)unlinkat(dirfd, e->d_name, 0);
    }
    closedir(d);
    (void)fsync_dir(dirfd);
}

/* ---- the thread: database ------------------------------------------------ */

static PGconn *export_connect(const config *cfg, char *err, size_t errlen)
{
    const char *const keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *const vals[] = {cfg->conninfo, EXPORT_CONNECT_TIMEOUT_S, "baobaod-export", NULL};
    /* Non-blocking, so a shutdown need not wait for the connect timeout:
     * the socket is polled in short steps and the cancel flag looked at. */
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    uint64_t give_up = mono_ms() + (uint64_t)atoi(EXPORT_CONNECT_TIMEOUT_S) * 1000u;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (c != NULL && PQstatus(c) != CONNECTION_BAD && ps != PGRES_POLLING_OK &&
           ps != PGRES_POLLING_FAILED) {
        if (cancelled()) {
            errf(err, errlen, "cannot connect: the server is shutting down");
            PQfinish(c);
            return NULL;
        }
        if (mono_ms() >= give_up) {
            errf(err, errlen, "cannot connect: timeout after %s s", EXPORT_CONNECT_TIMEOUT_S);
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
        errf(err, errlen, "cannot connect: %s", c ? PQerrorMessage(c) : "out of memory");
        PQfinish(c);
        return NULL;
    }
    /* Dates in the CSV files are YYYY-MM-DD whatever the database's or
     * role's DateStyle (SQL, DMY would break the contract); intervals in
     * the one format. Every SET checked: a half-set session does not run. */
    static const char *const sets[] = {
        "SET statement_timeout = '" EXPORT_STATEMENT_TIMEOUT "'",
        "SET DateStyle = ISO, YMD",
        "SET IntervalStyle = postgres",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        PGresult *r = PQexec(c, sets[i]);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            errf(err, errlen, "%s: %s", sets[i], PQerrorMessage(c));
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
        errf(err, errlen, "%s", PQerrorMessage(c));
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

/* Hands the run's row to the loop (export.run without wait). */
static void post_started(PGresult *row)
{
    uv_mutex_lock(&X.sh.mu);
    X.sh.started = row;
    if (X.sh.async_open)
        uv_async_send(&X.async);
    uv_mutex_unlock(&X.sh.mu);
}

/* Marks the run failed (why in x->err); leaves the row for the loop. */
static void fail_run(run_ctx *x)
{
    PGresult *r = PQexec(x->conn, "ROLLBACK");
    PQclear(r);
    if (x->dirfd >= 0)
        remove_partials(x->dirfd);
    char err[EXPORT_ERR_MAX];
    const char *v[2] = {x->id_text, x->err};
    r = q(x->conn,
          "UPDATE export_run SET status = 'failed', finished_at = clock_timestamp(), error = $2"
          " WHERE id = $1::bigint",
          2, v, err, sizeof err);
    PQclear(r);
    PGresult *row = read_run(x->conn, x->id_text);
    uv_mutex_lock(&X.sh.mu);
    X.sh.finished = row;
    errf(X.sh.log_err, sizeof X.sh.log_err, "%s", x->err);
    uv_mutex_unlock(&X.sh.mu);
}

/* The files of the run, in the snapshot. 0 or -1 (x->err). */
static int write_files(run_ctx *x)
{
    const exp_job *j = x->job;
    PGresult *r = PQexec(x->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        errf(x->err, sizeof x->err, "BEGIN: %s", PQerrorMessage(x->conn));
        return -1;
    }
    /* The audit file's lower bound: the start of the day before the export
     * date in time_zone. */
    const char *v[2] = {j->export_date, j->cfg->time_zone};
    r = q(x->conn,
          "SELECT set_config('baobao.export_audit_from',"
          " ((($1::date - 1)::timestamp) AT TIME ZONE $2)::text, true)",
          2, v, x->err, sizeof x->err);
    if (r == NULL)
        return -1;
    PQclear(r);
    for (int i = 0; i < EXPORT_NCSV; i++) {
        char name[EXPORT_NAME_MAX];
        if (csv_specs[i].name != NULL)
            snprintf(name, sizeof name, "%s", csv_specs[i].name);
        else
            snprintf(name, sizeof name, "audit_%s.csv", j->export_date);
        if (cancelled()) {
            errf(x->err, sizeof x->err, "the server is shutting down");
            return -1;
        }
        if (export_csv(x, name, csv_specs[i].sql) != 0)
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
    errf(gen_text, sizeof gen_text, "%s (%s)", generated, j->cfg->time_zone);
    report_params rp = {.today = today,
                        .red_after_days = j->cfg->overdue_red_after_days,
                        .generated_at = gen_text,
                        .cancelled = report_cancelled};
    if (cancelled()) {
        errf(x->err, sizeof x->err, "the server is shutting down");
        return -1;
    }
    if (export_report(x, EXPORT_XLSX, true, &rp) != 0 || cancelled() ||
        export_report(x, EXPORT_HTML, false, &rp) != 0) {
        if (x->err[0] == '\0')
            errf(x->err, sizeof x->err, "the server is shutting down");
        return -1;
    }
    r = PQexec(x->conn, "COMMIT");
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        errf(x->err, sizeof x->err, "COMMIT: %s", PQerrorMessage(x->conn));
        return -1;
    }
    return 0;
}

/* One run, from its row to its manifest. */
static void run_export(PGconn *conn, const exp_job *j, int topfd)
{
    run_ctx *x = calloc(1, sizeof *x);
    if (x == NULL) {
        uv_mutex_lock(&X.sh.mu);
        X.sh.fail_code = BB_E_INTERNAL;
        errf(X.sh.fail_msg, sizeof X.sh.fail_msg, "out of memory");
        uv_mutex_unlock(&X.sh.mu);
        return;
    }
    x->job = j;
    x->conn = conn;
    x->dirfd = -1;
    char by[EXPORT_ID_TEXT];
    snprintf(by, sizeof by, "%" PRId64, j->requested_by);
    const char *v[3] = {j->kind, j->export_date, j->requested_by > 0 ? by : NULL};
    char err[EXPORT_ERR_MAX];
    PGresult *r = q(conn,
                    "INSERT INTO export_run (kind, export_date, requested_by)"
                    " VALUES ($1, $2::date, $3::bigint) RETURNING id, bb_ts(started_at)",
                    3, v, err, sizeof err);
    if (r == NULL || PQntuples(r) != 1) {
        PQclear(r);
        uv_mutex_lock(&X.sh.mu);
        X.sh.fail_code = BB_E_UNAVAILABLE;
        errf(X.sh.fail_msg, sizeof X.sh.fail_msg, "export_run: %s", err);
        uv_mutex_unlock(&X.sh.mu);
        free(x);
        return;
    }
    snprintf(x->id_text, sizeof x->id_text, "%s", PQgetvalue(r, 0, 0));
    x->id = strtoll(x->id_text, NULL, 10);
    snprintf(x->started_at, sizeof x->started_at, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);

    /* The folder: <date>, else <date>-2, -3 ... */
    if (topfd < 0) {
        errf(x->err, sizeof x->err, "export_dir %s cannot be opened", j->cfg->export_dir);
    } else {
        for (int n = 1; n <= EXPORT_MAX_SAME_DAY; n++) {
            if (n == 1)
                snprintf(x->folder, sizeof x->folder, "%s", j->export_date);
            else
                snprintf(x->folder, sizeof x->folder, "%s-%d", j->export_date, n);
            if (mkdirat(topfd, x->folder, 0755) == 0)
                break;
            if (errno != EEXIST || n == EXPORT_MAX_SAME_DAY) {
                errf(x->err, sizeof x->err, "%s/%s: %s", j->cfg->export_dir, x->folder,
                         ERRSTR(errno));
                x->folder[0] = '\0';
                break;
            }
        }
    }
    if (x->folder[0] != '\0') {
        (void)fsync_dir(topfd);
        snprintf(x->folder_path, sizeof x->folder_path, "%s/%s",
                 j->cfg->export_dir[0] ? j->cfg->export_dir : ".", x->folder);
        x->dirfd = openat(topfd, x->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int open_errno = errno;   /* the UPDATE and read_run below change errno */
        if (x->dirfd < 0)
            errf(x->err, sizeof x->err, "%s: %s", x->folder, ERRSTR(open_errno));
        const char *fv[2] = {x->id_text, x->folder};
        r = q(conn, "UPDATE export_run SET folder = $2 WHERE id = $1::bigint", 2, fv, x->err,
              sizeof x->err);
        PQclear(r);
    }
    post_started(read_run(conn, x->id_text));
    if (x->dirfd < 0) {
        if (x->err[0] == '\0')
            errf(x->err, sizeof x->err, "the run's folder could not be created");
        fail_run(x);
        free(x);
        return;
    }
    if (write_files(x) != 0) {
        fail_run(x);
        close(x->dirfd);
        free(x);
        return;
    }
    char *files = files_json(x);
    r = q(conn, "SELECT bb_ts(clock_timestamp())", 0, NULL, x->err, sizeof x->err);
    char finished_at[40] = "";
    if (r != NULL)
        snprintf(finished_at, sizeof finished_at, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (files == NULL || finished_at[0] == '\0' || write_manifest(x, finished_at, files) != 0) {
        if (x->err[0] == '\0')
            errf(x->err, sizeof x->err, "manifest: out of memory");
        free(files);
        fail_run(x);
        close(x->dirfd);
        free(x);
        return;
    }
    const char *uv3[3] = {x->id_text, finished_at, files};
    r = q(conn,
          "UPDATE export_run SET status = 'ok', finished_at = $2::timestamptz, files = $3::jsonb"
          " WHERE id = $1::bigint",
          3, uv3, x->err, sizeof x->err);
    /* The files are complete (manifest written); the row could not say
     * so: logged (event=export_finished error=...), the row stays
     * 'running' and the next start marks it failed. */
    char ok_err[EXPORT_ERR_MAX] = "";
    if (r == NULL)
        errf(ok_err, sizeof ok_err, "status ok not recorded: %s", x->err);
    PQclear(r);
    free(files);
    r = q(conn,
          "DELETE FROM idempotency WHERE created_at < now() - interval '"
          EXPORT_IDEMPOTENCY_KEEP_DAYS " days'",
          0, NULL, err, sizeof err);
    long idem = r != NULL ? strtol(PQcmdTuples(r), NULL, 10) : -1;
    PQclear(r);
    /* Throttle rows with nothing to say any more (no lock in force, no
     * live claim, the last failure long past): every login anybody
     * tried, known or not, leaves one, so they would grow for ever. The
     * count of a row restarts after login_lock_ms anyway (sql/005). */
    r = q(conn,
          "DELETE FROM login_throttle"
          " WHERE NOT EXISTS (SELECT 1 FROM unnest(claims) AS u(c)"
          "                    WHERE c > now() - interval '1 minute')"
          " AND (locked_until IS NULL OR locked_until < now())"
          " AND (last_failure_at IS NULL OR last_failure_at < now() - interval '"
          EXPORT_THROTTLE_KEEP_DAYS " days')",
          0, NULL, err, sizeof err);
    PQclear(r);
    long pruned = prune(topfd, x->folder, j->cfg->export_keep_days);
    PGresult *row = read_run(conn, x->id_text);
    exp_file *copy = malloc((size_t)x->nfiles * sizeof *copy);
    if (copy != NULL)
        memcpy(copy, x->files, (size_t)x->nfiles * sizeof *copy);
    uv_mutex_lock(&X.sh.mu);
    X.sh.files = copy;
    X.sh.nfiles = copy != NULL ? x->nfiles : 0;
    X.sh.finished = row;
    X.sh.pruned = pruned;
    X.sh.idem_deleted = idem;
    if (ok_err[0] != '\0')
        errf(X.sh.log_err, sizeof X.sh.log_err, "%s", ok_err);
    uv_mutex_unlock(&X.sh.mu);
    close(x->dirfd);
    free(x);
}

/* Start-up: stale 'running' rows failed, leftovers of failed runs
 * removed, and whether the last nightly run was missed. */
static bool recover(PGconn *conn, const exp_job *j, int topfd)
{
    char err[EXPORT_ERR_MAX];
    long marked = 0, removed = 0;
    PGresult *r = q(conn,
                    "UPDATE export_run SET status = 'failed', finished_at = clock_timestamp(),"
                    " error = 'the server stopped during the run' WHERE status = 'running'",
                    0, NULL, err, sizeof err);
    if (r != NULL)
        marked = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    r = q(conn, "SELECT DISTINCT folder FROM export_run WHERE status = 'failed' AND folder IS NOT NULL",
          0, NULL, err, sizeof err);
    for (int i = 0; r != NULL && topfd >= 0 && i < PQntuples(r); i++)
        if (remove_run_folder(topfd, PQgetvalue(r, i, 0), true) == 1)
            removed++;
    PQclear(r);
    bool catch_up = false;
    if (j->last_due_date[0] != '\0') {
        const char *v[1] = {j->last_due_date};
        r = q(conn,
              "SELECT EXISTS (SELECT 1 FROM export_run) AND NOT EXISTS (SELECT 1 FROM export_run"
              " WHERE status = 'ok' AND kind IN ('scheduled', 'catch_up')"
              " AND export_date >= $1::date)",
              1, v, err, sizeof err);
        catch_up = r != NULL && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
    }
    uv_mutex_lock(&X.sh.mu);
    X.sh.recovered = marked;
    X.sh.removed = removed;
    X.sh.catch_up = catch_up;
    uv_mutex_unlock(&X.sh.mu);
    return catch_up;
}

static void worker(void *arg)
{
    exp_job *j = arg;
    char err[EXPORT_ERR_MAX];
    int topfd = open_export_dir(j->cfg->export_dir, err, sizeof err);
    PGconn *conn = export_connect(j->cfg, err, sizeof err);
    if (conn == NULL) {
        uv_mutex_lock(&X.sh.mu);
        X.sh.connect_failed = true;
        X.sh.fail_code = BB_E_UNAVAILABLE;
        errf(X.sh.fail_msg, sizeof X.sh.fail_msg, "%s", err);
        uv_mutex_unlock(&X.sh.mu);
    } else {
        /* Published for the shutdown, which cancels the running statement
         * (a report query, an UPDATE) rather than wait for it. */
        PGcancel *pc = PQgetCancel(conn);
        uv_mutex_lock(&X.sh.mu);
        X.sh.pgcancel = pc;
        uv_mutex_unlock(&X.sh.mu);
        bool run = j->job == JOB_RUN;
        if (j->job == JOB_STARTUP && recover(conn, j, topfd)) {
            j->kind = "catch_up";
            snprintf(j->export_date, sizeof j->export_date, "%s", j->last_due_date);
            run = true;
        }
        if (run)
            run_export(conn, j, topfd);
        uv_mutex_lock(&X.sh.mu);
        pc = X.sh.pgcancel;   /* NULL when the shutdown's helper took it */
        X.sh.pgcancel = NULL;
        uv_mutex_unlock(&X.sh.mu);
        PQfreeCancel(pc);
        PQfinish(conn);
    }
    if (topfd >= 0)
        close(topfd);
    uv_mutex_lock(&X.sh.mu);
    X.sh.done = true;
    if (X.sh.async_open)
        uv_async_send(&X.async);
    uv_mutex_unlock(&X.sh.mu);
}

/* ---- the loop: answering ------------------------------------------------- */

static void pack_cell_text(msgpack_packer *pk, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        msgpack_pack_nil(pk);
    else
        rowpack_str(pk, PQgetvalue(r, row, col));
}

static void pack_cell_int(msgpack_packer *pk, const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        msgpack_pack_nil(pk);
    else
        msgpack_pack_int64(pk, strtoll(PQgetvalue(r, row, col), NULL, 10));
}

/* files: "name\trows\tbytes\tsha256" lines -> [{name, rows, bytes, sha256}]. */
static void pack_files(msgpack_packer *pk, const char *text)
{
    uint32_t n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    n += text[0] != '\0';
    msgpack_pack_array(pk, n);
    const char *line = text;
    for (uint32_t i = 0; i < n; i++) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *t1 = memchr(line, '\t', len);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - line)) : NULL;
        const char *t3 = t2 ? memchr(t2 + 1, '\t', len - (size_t)(t2 + 1 - line)) : NULL;
        msgpack_pack_map(pk, 4);
        rowpack_str(pk, "name");
        size_t nl = t1 ? (size_t)(t1 - line) : len;
        msgpack_pack_str(pk, nl);
        msgpack_pack_str_body(pk, line, nl);
        rowpack_str(pk, "rows");
        msgpack_pack_int64(pk, t1 ? strtoll(t1 + 1, NULL, 10) : 0);
        rowpack_str(pk, "bytes");
        msgpack_pack_int64(pk, t2 ? strtoll(t2 + 1, NULL, 10) : 0);
        rowpack_str(pk, "sha256");
        size_t sl = t3 ? len - (size_t)(t3 + 1 - line) : 0;
        msgpack_pack_str(pk, sl);
        if (t3)
            msgpack_pack_str_body(pk, t3 + 1, sl);
        line = end ? end + 1 : line + len;
    }
}

/* One ExportRun from a row of EXPORT_RUN_SELECT. */
static void pack_run(msgpack_packer *pk, const PGresult *r, int row)
{
    msgpack_pack_map(pk, RUN_NCOLS);
    for (int c = 0; c < RUN_NCOLS; c++) {
        rowpack_str(pk, run_keys[c]);
        if (c == RUN_ID || c == RUN_DURATION)
            pack_cell_int(pk, r, row, c);
        else if (c == RUN_FILES)
            pack_files(pk, PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c));
        else
            pack_cell_text(pk, r, row, c);
    }
}

static bool run_result_ok(const PGresult *r)
{
    return r != NULL && PQnfields(r) == RUN_NCOLS && PQntuples(r) >= 1;
}

static void reply_run(request *req, const PGresult *r)
{
    if (!run_result_ok(r)) {
        rowpack_reply_bad_result(req, "export_run", "the run's row could not be read");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    pack_run(pk, r, 0);
    req_result_end(req);
}

/* ---- the loop: jobs --------------------------------------------------- */

static void on_async(uv_async_t *h);

/* Starts a job on a new thread. 0, or a negative uv error. */
static int start_job(exp_job_kind kind, const char *run_kind, const char *date, int64_t by)
{
    memset(&X.job, 0, sizeof X.job);
    X.job.job = kind;
    X.job.kind = run_kind;
    X.job.requested_by = by;
    X.job.cfg = &X.s->cfg;
    if (date != NULL)
        snprintf(X.job.export_date, sizeof X.job.export_date, "%s", date);
    if (kind == JOB_STARTUP && X.schedule_on)
        snprintf(X.job.last_due_date, sizeof X.job.last_due_date, "%s", X.last_due_date);
    uv_mutex_lock(&X.sh.mu);
    atomic_store(&X.sh.cancel, false);
    X.sh.started = X.sh.finished = NULL;
    X.sh.done = false;
    X.sh.connect_failed = false;
    X.sh.fail_code = BB_E__COUNT;
    X.sh.fail_msg[0] = X.sh.log_err[0] = '\0';
    X.sh.recovered = X.sh.removed = X.sh.pruned = X.sh.idem_deleted = 0;
    X.sh.catch_up = false;
    uv_mutex_unlock(&X.sh.mu);
    if (!set_state(EXP_BUSY))
        return UV_EINVAL;
    int r = uv_thread_create(&X.thread, worker, &X.job);
    if (r != 0) {
        (void)set_state(EXP_IDLE);
        log_event(LOG_ERROR, "export_thread_failed", "err=%s", uv_err_name(r));
    }
    return r;
}

/* Answers every waiter (and empties the list) with the run row, or with
 * an error when there is no row. Only waiters matching `wait_only` when
 * `only` is set. */
static void answer_waiters(const PGresult *row, bool only, bool wait_only, bb_err code,
                           const char *msg)
{
    waiter **pp = &X.waiters;
    while (*pp != NULL) {
        waiter *w = *pp;
        if (only && w->wait != wait_only) {
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (row != NULL)
            reply_run(w->req, row);
        else
            req_reply_error(w->req, code, NULL, "%s", msg != NULL ? msg : "the export failed");
        free(w);
    }
}

static void start_manual_for_waiters(void)
{
    char today[11];
    if (clock_today(today) != 0 ||
        start_job(JOB_RUN, "manual", today, X.waiters->user_id) != 0)
        answer_waiters(NULL, false, false, BB_E_INTERNAL, "the export could not be started");
}

static void close_async(void)
{
    uv_mutex_lock(&X.sh.mu);
    X.sh.async_open = false;
    uv_mutex_unlock(&X.sh.mu);
    if (X.async_open) {
        X.async_open = false;
        uv_close((uv_handle_t *)&X.async, NULL);
    }
}

/* The start-up job (recovery, catch-up) once more; later again while
 * another job runs. */
static void on_retry(uv_timer_t *t)
{
    (void)t;
    if (X.state == EXP_IDLE)
        (void)start_job(JOB_STARTUP, NULL, NULL, 0);
    else if (X.state == EXP_BUSY)
        (void)uv_timer_start(&X.retry, on_retry, EXPORT_STARTUP_RETRY_MS, 0);
}

static void on_async(uv_async_t *h)
{
    (void)h;
    uv_mutex_lock(&X.sh.mu);
    PGresult *started = X.sh.started, *finished = NULL;
    X.sh.started = NULL;
    /* `finished` is taken only once the thread is done: it may be set
     * while the thread still closes its connection, and the async that
     * sees `done` must find it there. */
    bool done = X.sh.done;
    if (done) {
        finished = X.sh.finished;
        X.sh.finished = NULL;
    }
    uv_mutex_unlock(&X.sh.mu);
    if (started != NULL) {
        PQclear(X.run_row);
        X.run_row = started;
        if (run_result_ok(started))
            log_event(LOG_INFO, "export_started", "run=%s kind=%s export_date=%s folder=%s",
                      PQgetvalue(started, 0, RUN_ID), PQgetvalue(started, 0, RUN_KIND),
                      PQgetvalue(started, 0, RUN_DATE), log_q(PQgetvalue(started, 0, RUN_FOLDER)));
        answer_waiters(started, true, false, BB_E__COUNT, NULL);
    }
    if (!done)
        return;
    uv_thread_join(&X.thread);
    if (X.sh.recovered > 0 || X.sh.removed > 0 || X.sh.catch_up)
        log_event(LOG_INFO, "export_recovered", "marked_failed=%ld folders_removed=%ld catch_up=%d",
                  X.sh.recovered, X.sh.removed, (int)X.sh.catch_up);
    for (int i = 0; i < X.sh.nfiles; i++)
        log_event(LOG_INFO, "export_file", "name=%s rows=%" PRId64 " bytes=%" PRIu64 " ms=%" PRIu64,
                  X.sh.files[i].name, X.sh.files[i].rows, X.sh.files[i].bytes, X.sh.files[i].ms);
    free(X.sh.files);
    X.sh.files = NULL;
    X.sh.nfiles = 0;
    if (finished != NULL && run_result_ok(finished)) {
        log_event(PQgetvalue(finished, 0, RUN_STATUS)[0] == 'o' ? LOG_INFO : LOG_ERROR,
                  "export_finished", "run=%s status=%s duration_ms=%s pruned=%ld idempotency_deleted=%ld error=%s",
                  PQgetvalue(finished, 0, RUN_ID), PQgetvalue(finished, 0, RUN_STATUS),
                  PQgetvalue(finished, 0, RUN_DURATION), X.sh.pruned, X.sh.idem_deleted,
                  log_q(X.sh.log_err[0] ? X.sh.log_err : NULL));
        answer_waiters(finished, false, false, BB_E__COUNT, NULL);
    } else if (X.sh.fail_code != BB_E__COUNT) {
        log_event(LOG_ERROR, "export_failed", "why=%s", log_q(X.sh.fail_msg));
        answer_waiters(NULL, false, false,
                       X.sh.fail_code == BB_E_UNAVAILABLE ? BB_E_UNAVAILABLE : BB_E_INTERNAL,
                       X.sh.fail_code == BB_E_UNAVAILABLE
                           ? "the database is unavailable just now; retry"
                           : "internal error (logged by the server)");
    } else if (X.run_row != NULL) {
        /* The run's end could not be read back: answer with its start. */
        log_event(LOG_ERROR, "export_finished", "run=%s status=unknown error=%s",
                  PQgetvalue(X.run_row, 0, RUN_ID), log_q(X.sh.log_err));
        answer_waiters(X.run_row, false, false, BB_E__COUNT, NULL);
    }
    PQclear(finished);
    PQclear(X.run_row);
    X.run_row = NULL;
    if (X.state == EXP_CLOSING) {
        answer_waiters(NULL, false, false, BB_E_SHUTTING_DOWN, "the server is shutting down");
        (void)set_state(EXP_CLOSED);
        close_async();
        return;
    }
    (void)set_state(EXP_IDLE);
    if (X.job.job == JOB_STARTUP && X.sh.connect_failed && X.retry_open) {
        /* No recovery and no catch-up happened: try again later rather
         * than wait for the next restart. */
        log_event(LOG_WARN, "export_startup_retry", "in_ms=%u why=%s", EXPORT_STARTUP_RETRY_MS,
                  log_q(X.sh.fail_msg));
        (void)uv_timer_start(&X.retry, on_retry, EXPORT_STARTUP_RETRY_MS, 0);
    }
    if (X.scheduled_pending) {
        X.scheduled_pending = false;
        (void)start_job(JOB_RUN, "scheduled", X.pending_date, 0);
    } else if (X.waiters != NULL) {
        /* A start-up job that ran no export: the requests that came
         * meanwhile get a run of their own. */
        start_manual_for_waiters();
    }
}

/* ---- the loop: schedule ------------------------------------------------ */

/* The schedule's clock: the real time, or with fake_now (tests) the pinned
 * instant advancing with the loop's clock, so a schedule near it fires. */
static int64_t sched_now(void)
{
    if (!clock_is_fake())
        return (int64_t)time(NULL);
    return clock_now_s() + (int64_t)((uv_now(X.s->loop) - X.s->started_at_ms) / 1000);
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
    tm.tm_hour = X.at_hour;
    tm.tm_min = X.at_min;
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
    X.due_s = next_due(after, X.due_date);
    if (X.due_s < 0) {
        log_event(LOG_ERROR, "export_schedule_failed", "why=\"no next due time\"");
        return;
    }
    int64_t wait_s = X.due_s - sched_now();
    uint64_t ms = wait_s <= 0 ? 0 : (uint64_t)wait_s * 1000;
    if (ms > EXPORT_SCHEDULE_RECHECK_MS)
        ms = EXPORT_SCHEDULE_RECHECK_MS;
    (void)uv_timer_start(&X.timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
    (void)t;
    if (X.state == EXP_CLOSING || X.state == EXP_CLOSED)
        return;
    int64_t now = sched_now();
    if (now < X.due_s) {   /* a recheck, or a wall-clock change */
        arm_timer(X.due_s - 1);
        return;
    }
    if (X.state == EXP_BUSY) {
        X.scheduled_pending = true;
        snprintf(X.pending_date, sizeof X.pending_date, "%s", X.due_date);
        log_event(LOG_INFO, "export_scheduled_later", "export_date=%s why=\"a run is in progress\"",
                  X.due_date);
    } else {
        (void)start_job(JOB_RUN, "scheduled", X.due_date, 0);
    }
    arm_timer(now > X.due_s ? now : X.due_s);
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

/* ---- start and stop ------------------------------------------------------ */

int export_module_start(server *s)
{
    memset(&X, 0, sizeof X);
    X.s = s;
    X.state = EXP_IDLE;
    if (s->cfg.export_time[0] != '\0') {
        if (parse_time_of_day(s->cfg.export_time, &X.at_hour, &X.at_min) != 0) {
            log_event(LOG_ERROR, "export_time_invalid", "export_time=%s want=\"HH:MM\"",
                      log_q(s->cfg.export_time));
            return UV_EINVAL;
        }
        X.schedule_on = true;
    }
    int r = uv_mutex_init(&X.sh.mu);
    if (r != 0)
        return r;
    atomic_init(&X.sh.cancel, false);
    if ((r = uv_async_init(s->loop, &X.async, on_async)) != 0)
        return r;
    X.async_open = true;
    X.sh.async_open = true;
    (void)uv_timer_init(s->loop, &X.timer);
    X.timer_open = true;
    (void)uv_timer_init(s->loop, &X.retry);
    X.retry_open = true;
    int64_t now = sched_now();
    if (X.schedule_on) {
        if (last_due(now, X.last_due_date) < 0)
            X.last_due_date[0] = '\0';
        arm_timer(now);
        log_event(LOG_INFO, "export_schedule", "export_time=%s next_export_date=%s export_dir=%s keep_days=%u",
                  s->cfg.export_time, X.due_date, log_q(s->cfg.export_dir),
                  s->cfg.export_keep_days);
    }
    return start_job(JOB_STARTUP, NULL, NULL, 0);
}

/* Shutdown's helper (detached): sends the cancel request for the job's
 * running statement, again while the job is not done. PQcancel blocks
 * (it connects to the server), so never on the loop. Owns `arg`. */
static void *cancel_helper(void *arg)
{
    PGcancel *pc = arg;
    for (int i = 0; i < EXPORT_CANCEL_TRIES; i++) {
        uv_mutex_lock(&X.sh.mu);
        bool done = X.sh.done;
        uv_mutex_unlock(&X.sh.mu);
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

void export_module_shutdown(server *s)
{
    (void)s;
    if (X.timer_open) {
        X.timer_open = false;
        uv_timer_stop(&X.timer);
        uv_close((uv_handle_t *)&X.timer, NULL);
    }
    if (X.retry_open) {
        X.retry_open = false;
        uv_timer_stop(&X.retry);
        uv_close((uv_handle_t *)&X.retry, NULL);
    }
    if (X.state == EXP_BUSY) {
        atomic_store(&X.sh.cancel, true);
        uv_mutex_lock(&X.sh.mu);
        PGcancel *pc = X.sh.pgcancel;
        X.sh.pgcancel = NULL;
        uv_mutex_unlock(&X.sh.mu);
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
    } else if (X.state == EXP_IDLE) {
        (void)set_state(EXP_CLOSED);
        close_async();
    }
}

/* ---- methods ------------------------------------------------------------ */

/* An optional bool argument (nil refused). -1 when answered. */
static int opt_bool(request *req, const msgpack_object *args, const char *key, bool *out)
{
    for (uint32_t i = 0; i < args->via.map.size; i++) {
        const msgpack_object_kv *kv = &args->via.map.ptr[i];
        if (kv->key.via.str.size != strlen(key) ||
            memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size) != 0)
            continue;
        if (kv->val.type != MSGPACK_OBJECT_BOOLEAN) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be a bool", key);
            return -1;
        }
        *out = kv->val.via.boolean;
    }
    return 0;
}

static void export_run_method(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"wait", NULL};
    bool wait = false;
    if (params_check_known(req, args, known) != 0 || opt_bool(req, args, "wait", &wait) != 0)
        return;
    if (X.state == EXP_CLOSING || X.state == EXP_CLOSED || req_server(req)->shutting_down) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    /* A run in progress whose row exists answers a request without wait
     * at once. */
    if (X.state == EXP_BUSY && !wait && X.run_row != NULL) {
        reply_run(req, X.run_row);
        return;
    }
    waiter *w = malloc(sizeof *w);
    if (w == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    w->req = req;
    w->wait = wait;
    w->user_id = req_session(req)->user_id;
    w->next = X.waiters;
    X.waiters = w;
    if (X.state == EXP_IDLE)
        start_manual_for_waiters();
}

static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = ((void **)arg)[0];
    int64_t limit = (int64_t)(intptr_t)((void **)arg)[1];
    free(arg);
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_list.name, e);
        return;
    }
    if (PQnfields(res) != RUN_NCOLS) {
        rowpack_reply_bad_result(req, st_list.name, "unexpected columns");
        return;
    }
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? (int)limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        pack_run(pk, res, i);
    rowpack_str(pk, "next");
    if (more)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, RUN_ID), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

static void export_list_method(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    int64_t after = 0, limit = cfg->page_limit_default;
    pstate after_st, limit_st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "after", false, 1, INT64_MAX, &after, &after_st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, &limit, &limit_st) != 0)
        return;
    if (after_st != P_SET)
        after = 0;
    if (limit_st != P_SET)
        limit = cfg->page_limit_default;
    char at[EXPORT_ID_TEXT], lt[EXPORT_ID_TEXT];
    snprintf(at, sizeof at, "%" PRId64, after);
    snprintf(lt, sizeof lt, "%" PRId64, limit + 1);
    void **arg = malloc(2 * sizeof *arg);
    if (arg == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    arg[0] = req;
    arg[1] = (void *)(intptr_t)limit;
    const char *vals[2] = {after > 0 ? at : NULL, lt};
    int rc = pool_query(req_server(req)->pool, &st_list, vals, NULL, list_cb, arg);
    if (rc < 0) {
        free(arg);
        rowpack_reply_query_rc(req, st_list.name, rc);
    }
}

const method_impl export_methods[] = {
    {"export.run", .raw = export_run_method, .raw_roles = BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN},
    {"export.list", .raw = export_list_method, .raw_roles = BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN},
    {NULL},
};

const method_module export_module = {
    .name = "export",
    .methods = export_methods,
    .register_statements = export_register_statements,
    .start = export_module_start,
    .stop = export_module_shutdown,
};
