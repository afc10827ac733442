/*
 * methods.h: the areas of methods baobaod serves, as modules (method.h):
 * each area file defines one method_module, and modules.c lists them in
 * the order main.c registers and starts them.
 *
 * Adding an area: its spec table in proto/spec/, its module here and in
 * modules.c (docs/adding-a-method.md).
 */
#ifndef BB_METHODS_H
#define BB_METHODS_H

#include "method.h"

extern const method_module server_info_module;  /* server_info.c: server.* */
extern const method_module enterprise_module;   /* enterprise.c: enterprise.* */
extern const method_module status_module;       /* status.c: status.* */
extern const method_module session_module;      /* login.c: session.* */
extern const method_module user_module;         /* user.c: user.* */
extern const method_module audit_module;        /* audit.c: audit.* */
extern const method_module project_module;      /* project.c: project.* */
extern const method_module official_module;     /* official.c: unit.*, official.*,
                                                   assignment.*, coverage.* */
extern const method_module problem_module;      /* problem.c: problem.*, trouble.* */
extern const method_module overdue_module;      /* overdue.c: overdue.*, due.* */
extern const method_module todo_module;         /* todo.c: todo.mine */
extern const method_module visits_module;       /* visits.c: coverage.visits */
extern const method_module notice_module;       /* notice.c: notice.* */
extern const method_module supervise_module;    /* supervise.c: the sweep, supervise.run, light.* */
extern const method_module export_module;       /* export.c: export.* and the nightly run */
extern const method_module import_module;       /* import.c: enterprise.import, status.import */
extern const method_module refdata_module;      /* refdata.c: ref.* (reference data) */
extern const method_module housekeeping_module; /* housekeeping.c: pruning on a timer */
extern const method_module delivery_module;     /* delivery.c: notices by delivery_command */
extern const method_module push_module;         /* push.c: watch.*, pushes to subscribers */

/* Every module, NULL-ended (modules.c). */
extern const method_module *const bb_modules[];

#endif
