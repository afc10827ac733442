/*
 * export.c: export runs (issue 6) as methods: export.run and export.list
 * (PROTOCOL.md sections 6 and 7), and the module that starts the schedule
 * and the start-up job and stops them. Its table also lists export.read,
 * which export_read.c runs (a run's files over the protocol).
 *
 * The arguments are declared in proto/spec/export.c and checked by the
 * dispatcher. export.run never starts a second run while one is in
 * progress: the request gets that run. Requests wait in a list: without
 * `wait` they are answered when the run's row exists, with `wait` when the
 * run is over (the worker calls back on the loop: export_worker.h). A job
 * that ends without a run of their own (the start-up job) leaves them a
 * manual run. export.list pages newest first; its `files` column is
 * unpacked into maps here.
 *
 * Not for: the job on its thread (export_worker.c), the files
 * (export_files.c), the nightly schedule and the recovery at start
 * (export_schedule.c), the reports (report.c), the export_run table
 * (sql/012_exports.sql), importing (import.c).
 */
#include "export.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "export_read.h"
#include "export_schedule.h"
#include "export_worker.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "rowpack.h"
#include "session.h"

/* An ExportRun (EXPORT_RUN_SELECT, in RUN_* order). */
static const rp_col run_cols[RUN_NCOLS] = {
    {"id", RP_INT},          {"kind", RP_TEXT},        {"export_date", RP_TEXT},
    {"requested_by", RP_TEXT}, {"started_at", RP_TEXT}, {"finished_at", RP_TEXT},
    {"status", RP_TEXT},     {"duration_ms", RP_INT},  {"folder", RP_TEXT},
    {"files", RP_TEXT},      {"error", RP_TEXT},
};

/* export.list: newest first, ids below the cursor. */
static mstmt st_list = {
    .name = "export_list", .sql =
    EXPORT_RUN_SELECT " WHERE (:after::bigint IS NULL OR r.id < :after::bigint)"
    " ORDER BY r.id DESC LIMIT :limit::int + 1",
    .cols = run_cols, .ncols = RUN_NCOLS};

/* A request waiting for the run: answered when the row exists (!wait) or
 * when the run is over (wait). */
typedef struct waiter {
    struct waiter *next;
    request *req;
    bool wait;
    int64_t user_id;
} waiter;

static struct {
    waiter *waiters;
    PGresult *run_row;             /* owned: the running run's row (answers !wait) */
} E;

/* ---- replies ------------------------------------------------------------- */

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
static int pack_run(msgpack_packer *pk, const PGresult *r, int row)
{
    msgpack_pack_map(pk, RUN_NCOLS);
    for (int c = 0; c < RUN_NCOLS; c++) {
        rowpack_str(pk, run_cols[c].key);
        if (PQgetisnull(r, row, c) && c != RUN_FILES)
            msgpack_pack_nil(pk);
        else if (c == RUN_FILES)
            pack_files(pk, PQgetisnull(r, row, c) ? "" : PQgetvalue(r, row, c));
        else if (run_cols[c].type == RP_INT)
            msgpack_pack_int64(pk, strtoll(PQgetvalue(r, row, c), NULL, 10));
        else
            rowpack_str(pk, PQgetvalue(r, row, c));
    }
    return 0;
}

static const mshape run_shape = {.pack = pack_run};

static void reply_run(request *req, const PGresult *r)
{
    if (!export_run_row_ok(r)) {
        rowpack_reply_bad_result(req, "export_run", "the run's row could not be read");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    (void)pack_run(pk, r, 0);
    req_result_end(req);
}

/* Answers every waiter (and empties the list) with the run row, or with
 * an error when there is no row. Only waiters matching `wait_only` when
 * `only` is set. */
static void answer_waiters(const PGresult *row, bool only, bool wait_only, bb_err code,
                           const char *msg)
{
    waiter **pp = &E.waiters;
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
        export_worker_start(JOB_RUN, "manual", today, E.waiters->user_id, NULL) != 0)
        answer_waiters(NULL, false, false, BB_E_INTERNAL, "the export could not be started");
}

/* ---- the worker's callbacks (loop thread) --------------------------------- */

static void on_started(PGresult *row)
{
    PQclear(E.run_row);
    E.run_row = row;
    answer_waiters(row, true, false, BB_E__COUNT, NULL);
}

/* A waiter is answered with a run only once it has ended: a run whose end
 * could not be recorded or read back (its row missing, or still saying
 * running: a shutdown's cancel can land on the closing UPDATE) is answered
 * shutting_down when the server stops, else unavailable. */
static void answer_unended(bool closing)
{
    if (closing)
        answer_waiters(NULL, false, false, BB_E_SHUTTING_DOWN,
                       "the server is shutting down; the export's end was not recorded");
    else
        answer_waiters(NULL, false, false, BB_E_UNAVAILABLE,
                       "the export's end could not be recorded in the database; "
                       "see export.list later");
}

static bool run_ended(const PGresult *row)
{
    return PQgetvalue(row, 0, RUN_STATUS)[0] != 'r';   /* not "running" */
}

static void on_done(const exp_outcome *o)
{
    PGresult *finished = o->finished;
    if (finished != NULL && export_run_row_ok(finished) && !run_ended(finished)) {
        /* Read back, but not ended: see answer_unended. A joined run is
         * another process's to end and count. */
        if (!o->joined)
            metrics_count(METRICS_EXPORT_RUNS, "unknown");
        log_event(LOG_ERROR, o->joined ? "export_joined" : "export_finished",
                  "run=%s status=unknown closing=%d error=%s", PQgetvalue(finished, 0, RUN_ID),
                  o->closing ? 1 : 0, log_q(o->log_err[0] ? o->log_err : NULL));
        answer_unended(o->closing);
    } else if (finished != NULL && export_run_row_ok(finished) && o->joined) {
        /* Another process's run, which the requests joined: its owner
         * logs and counts it. */
        log_event(o->log_err[0] ? LOG_WARN : LOG_INFO, "export_joined",
                  "run=%s status=%s why=\"another process's run\" error=%s",
                  PQgetvalue(finished, 0, RUN_ID), PQgetvalue(finished, 0, RUN_STATUS),
                  log_q(o->log_err[0] ? o->log_err : NULL));
        answer_waiters(finished, false, false, BB_E__COUNT, NULL);
    } else if (finished != NULL && export_run_row_ok(finished)) {
        metrics_count(METRICS_EXPORT_RUNS,
                      PQgetvalue(finished, 0, RUN_STATUS)[0] == 'o' ? "ok" : "failed");
        log_event(PQgetvalue(finished, 0, RUN_STATUS)[0] == 'o' ? LOG_INFO : LOG_ERROR,
                  "export_finished", "run=%s status=%s duration_ms=%s pruned=%ld error=%s",
                  PQgetvalue(finished, 0, RUN_ID), PQgetvalue(finished, 0, RUN_STATUS),
                  PQgetvalue(finished, 0, RUN_DURATION), o->pruned,
                  log_q(o->log_err[0] ? o->log_err : NULL));
        answer_waiters(finished, false, false, BB_E__COUNT, NULL);
    } else if (o->fail_code != BB_E__COUNT) {
        if (o->lock_wait_failed) {
            /* No run was made: not a failed run (export_schedule.c tries
             * a scheduled one again). */
            log_event(LOG_WARN, "export_lock_wait_failed", "kind=%s why=%s",
                      o->run_kind != NULL ? o->run_kind : "", log_q(o->fail_msg));
        } else {
            metrics_count(METRICS_EXPORT_RUNS, "failed");
            log_event(LOG_ERROR, "export_failed", "why=%s", log_q(o->fail_msg));
        }
        if (o->closing)   /* e.g. the wait for the export lock, cancelled */
            answer_waiters(NULL, false, false, BB_E_SHUTTING_DOWN, "the server is shutting down");
        else
            answer_waiters(NULL, false, false,
                           o->fail_code == BB_E_UNAVAILABLE ? BB_E_UNAVAILABLE : BB_E_INTERNAL,
                           o->fail_code == BB_E_UNAVAILABLE
                               ? "the database is unavailable just now; retry"
                               : "internal error (logged by the server)");
    } else if (E.run_row != NULL) {
        /* The run's end could not be read back (the export connection
         * went away, or a shutdown's cancel hit the read): see
         * answer_unended. The row is ended by the next export that finds
         * its owner gone. */
        metrics_count(METRICS_EXPORT_RUNS, "unknown");
        log_event(LOG_ERROR, "export_finished", "run=%s status=unknown closing=%d error=%s",
                  PQgetvalue(E.run_row, 0, RUN_ID), o->closing ? 1 : 0, log_q(o->log_err));
        answer_unended(o->closing);
    }
    PQclear(finished);
    PQclear(E.run_row);
    E.run_row = NULL;
    if (o->closing) {
        answer_waiters(NULL, false, false, BB_E_SHUTTING_DOWN, "the server is shutting down");
        return;
    }
    /* A nightly run that came meanwhile goes first; the requests that came
     * during a job that ran no export of theirs (the start-up job) get a
     * run of their own. */
    if (!export_schedule_after_job(o) && E.waiters != NULL)
        start_manual_for_waiters();
}

/* ---- methods ------------------------------------------------------------ */

static void export_run(request *req, const margs *a)
{
    bool wait = margs_int(a, "wait", 0) != 0;
    if (export_worker_closing() || req_server(req)->shutting_down) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    /* A run in progress whose row exists answers a request without wait
     * at once. */
    if (export_worker_busy() && !wait && E.run_row != NULL) {
        reply_run(req, E.run_row);
        return;
    }
    waiter *w = req_alloc(req, sizeof *w);
    if (w == NULL)
        return;
    w->req = req;
    w->wait = wait;
    w->user_id = req_session(req)->user_id;
    w->next = E.waiters;
    E.waiters = w;
    if (!export_worker_busy())
        start_manual_for_waiters();
}

/* ---- start and stop ------------------------------------------------------ */

int export_module_start(server *s)
{
    memset(&E, 0, sizeof E);
    int r = export_schedule_start(s);
    if (r != 0)
        return r;
    if ((r = export_worker_init(s, on_started, on_done)) != 0)
        return r;
    return export_worker_start(JOB_STARTUP, NULL, NULL, 0, export_schedule_last_due());
}

void export_module_shutdown(server *s)
{
    (void)s;
    export_schedule_stop();
    export_worker_shutdown();
}

static const method_impl export_methods[] = {
    {"export.run", .fn = export_run},
    /* Newest first (the cursor is still the first column, the id), and
     * `files` unpacked into maps. */
    {"export.list", .stmt = &st_list, .reply = MR_PAGE, .shape = &run_shape},
    {"export.read", .fn = export_read},
    {NULL},
};

static mstmt *const export_stmts[] = {&export_read_stmt, &export_heartbeat_stmt, NULL};

const method_module export_module = {
    .name = "export",
    .methods = export_methods,
    .stmts = export_stmts,
    .start = export_module_start,
    .stop = export_module_shutdown,
};
