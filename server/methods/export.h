/*
 * export.h: export runs (issue 6): the nightly schedule, export.run and
 * export.list, and the run itself on a thread of its own with its own
 * database connection (blocking libpq and file I/O never touch the loop).
 *
 * placeholder: being written (export helper). The two functions below are
 * the agreed start-up/shutdown contract used by main.c.
 */
#ifndef BB_EXPORT_H
#define BB_EXPORT_H

#include "server.h"

/* After the pool and listener started: arms the daily timer and starts a
 * catch-up run when the last due run was missed. 0 or a negative uv error. */
__attribute__((warn_unused_result))
int export_module_start(server *s);
/* Shutdown began: no new runs; a run in progress is stopped (its folder
 * never gets a manifest, so nothing looks complete) and its handles close
 * so the loop can end. */
void export_module_shutdown(server *s);

#endif
