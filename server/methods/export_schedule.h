/*
 * export_schedule.h: when export runs happen by themselves: the nightly
 * run at export_time (in time_zone), the catch-up at start of a nightly
 * run missed while baobaod was down, and the recovery at start of runs a
 * killed server left 'running'.
 *
 * The timers live on the loop; the recovery (export_recover) is SQL and
 * file removal, run on the export's own thread by the start-up job.
 *
 * Not for: running a job (export_worker.c), the files (export_files.c),
 * export.run (export.c).
 */
#ifndef BB_EXPORT_SCHEDULE_H
#define BB_EXPORT_SCHEDULE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "export_worker.h"
#include "server.h"

/* Reads export_time (UV_EINVAL, logged, when it is not "HH:MM" or ""),
 * arms the nightly timer. 0 or a negative uv error. */
__attribute__((warn_unused_result))
int export_schedule_start(server *s);
/* The last due nightly date now ("YYYY-MM-DD", computed at each call), or
 * "" with no schedule: what the start-up job checks for a catch-up. */
const char *export_schedule_last_due(void);
/* A job ended (the worker is idle): a nightly run that came during it
 * starts now; a start-up job that could not connect, or a scheduled or
 * catch-up run that did not end ok, is tried again later (the start-up
 * job, with a backoff for failed runs). True when a job was started. */
bool export_schedule_after_job(const exp_outcome *o);
/* Shutdown: the timers stop and close. */
void export_schedule_stop(void);

/* On the export's thread, holding the export lock (at start, and before
 * every run): every run left 'running' is marked failed (*marked): under
 * the lock its owner is gone, whatever its heartbeat; the folders of
 * failed runs without a manifest removed (*removed), the runs still
 * 'running' counted (*left_alone: 0 unless a process of an older version,
 * which takes no lock, started one meanwhile), and whether the
 * nightly run of last_due_date ("" or NULL: none) was missed: true when a
 * catch-up run is due. */
bool export_recover(PGconn *conn, const char *last_due_date, int topfd, long *marked,
                    long *removed, long *left_alone);

#endif
