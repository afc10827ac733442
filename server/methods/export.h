/*
 * export.h: export runs (issue 6) as a method area: export.run and
 * export.list (export_module, methods.h), and the module's start and stop,
 * which start the schedule (export_schedule.h) and the start-up job on
 * the export's own thread (export_worker.h).
 *
 * Not for: the job itself (export_worker.c), the files (export_files.c),
 * the reports (report.h).
 */
#ifndef BB_EXPORT_H
#define BB_EXPORT_H

#include "server.h"

/* After the pool and listener started: arms the daily timer and starts the
 * start-up job (recovery, and a catch-up run when the last due run was
 * missed). 0 or a negative uv error. */
__attribute__((warn_unused_result))
int export_module_start(server *s);
/* Shutdown began: no new runs; a run in progress is stopped (its folder
 * never gets a manifest, so nothing looks complete) and its handles close
 * so the loop can end. */
void export_module_shutdown(server *s);

#endif
