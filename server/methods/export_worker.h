/*
 * export_worker.h: one export job on a thread of its own (the snapshot
 * thread), and its hand-back to the loop.
 *
 * Everything blocking (libpq, file I/O, fsync, SHA-256) runs on a thread
 * created per job (uv_thread_create), with its own blocking libpq
 * connection from the `db` setting: never on the loop, and never on
 * libuv's thread pool (password hashing lives there). The thread reports
 * back with uv_async_send: once the run's export_run row exists and once
 * it is done; the loop then calls the callbacks given to
 * export_worker_init. Only the loop thread logs. At most one job runs at a
 * time.
 *
 * One exporter per database (issue 14, sql/026): a job holds the export
 * lock (a session advisory lock on its connection) while it recovers or
 * runs; a scheduled or catch-up run claims its date in the row; the row
 * names its owner ("host:pid") and the loop refreshes its heartbeat every
 * EXPORT_HEARTBEAT_MS through the pool. A manual run that finds another
 * process's run going on joins it (its row, and its end).
 *
 * A job: start-up (recovery and, when due, a catch-up run:
 * export_schedule.h) or a run: export_run row ('running') -> folder ->
 * BEGIN REPEATABLE READ READ ONLY -> each CSV through COPY -> the reports
 * (same connection, same transaction) -> manifest.json last -> the row
 * 'ok' with its files -> old run folders pruned. A failure (or shutdown)
 * removes the .partial files and marks the row 'failed' with why.
 *
 * Not for: the files' mechanics (export_files.c), when runs happen
 * (export_schedule.c), the methods (export.c).
 */
#ifndef BB_EXPORT_WORKER_H
#define BB_EXPORT_WORKER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "bb_errors.h"
#include "method.h"
#include "server.h"

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

/* An owner's name: "host:pid". */
#define EXPORT_OWNER_MAX 300

/* The heartbeat statement (registered by export.c's module). */
extern mstmt export_heartbeat_stmt;

/* A row of EXPORT_RUN_SELECT is there (a run's row read back). */
bool export_run_row_ok(const PGresult *r);

typedef enum exp_job_kind { JOB_STARTUP, JOB_RUN } exp_job_kind;

/* How a job ended, for the loop (valid during the done callback). */
typedef struct exp_outcome {
    exp_job_kind job;
    PGresult *finished;            /* the run's row at the end, or NULL; the
                                      callback owns it */
    bool connect_failed;           /* the job's connection could not be opened */
    bb_err fail_code;              /* no run row at all: why (BB_E__COUNT: none) */
    const char *fail_msg;
    const char *log_err;           /* the run's error, for the log; "" none */
    long pruned;                   /* old folders removed */
    const char *skipped;           /* "" or why a scheduled/catch-up run did not
                                      run (its date claimed by another run) */
    long left_alone;               /* other processes' live runs, not failed */
    bool deferred;                 /* start-up: the export lock was busy, no
                                      recovery done (tried again later) */
    bool joined;                   /* `finished` is another process's run, which
                                      a manual run joined */
    bool closing;                  /* shutdown: no job starts again */
    const char *run_kind;          /* the job's run: "scheduled", "catch_up",
                                      "manual"; NULL none (a start-up job
                                      without catch-up) */
    bool lock_wait_failed;         /* no run: the wait for the export lock failed
                                      (a timeout, a lost connection); not a run
                                      failure, a scheduled run is tried again */
    char own_status;               /* first letter of the status of the job's own
                                      run at its end ('o' ok, 'f' failed, 'r'
                                      running); 0 when unknown or none */
} exp_outcome;

/* started: the run's row exists (the callback owns row). done: the job's
 * thread has ended; the worker is idle again (or closed, o->closing), so
 * done may start the next job. */
__attribute__((warn_unused_result))
int export_worker_init(server *s, void (*started)(PGresult *row),
                       void (*done)(const exp_outcome *o));
/* Starts a job: JOB_STARTUP with the last due nightly date ("" or NULL:
 * no schedule), or JOB_RUN of run_kind ("scheduled", "catch_up",
 * "manual") for date, requested by user `by` (0: nobody). 0, or a
 * negative uv error (logged). */
int export_worker_start(exp_job_kind job, const char *run_kind, const char *date, int64_t by,
                        const char *last_due_date);
bool export_worker_busy(void);
/* Shutdown has begun (or is over): no job starts any more. */
bool export_worker_closing(void);
/* Shutdown: a job in progress is told to stop (its running statement
 * cancelled); done runs with o->closing when it has. Idle: handles close
 * now. */
void export_worker_shutdown(void);

#endif
