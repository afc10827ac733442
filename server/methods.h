/*
 * methods.h: the method tables of each domain area, and their statements.
 *
 * Each area (server_info.c, enterprise.c, status.c, ...) exports a table of
 * methods ending with {NULL, NULL}, and a function that registers its
 * prepared statements with the pool (pool_register) before the pool starts.
 * dispatch.c looks methods up in all tables; main.c calls every
 * *_register_statements before pool_create.
 */
#ifndef BB_METHODS_H
#define BB_METHODS_H

#include "request.h"

extern const method_def server_info_methods[];
extern const method_def enterprise_methods[];
extern const method_def status_methods[];
extern const method_def session_methods[];   /* session.c */
extern const method_def user_methods[];      /* user.c */
extern const method_def audit_methods[];     /* audit.c */
extern const method_def project_methods[];   /* project.c */
extern const method_def official_methods[];  /* official.c: unit.*, official.*, assignment.*, coverage.* */
extern const method_def problem_methods[];   /* problem.c: problem.*, trouble.* */
extern const method_def overdue_methods[];   /* overdue.c: overdue.*, due.* */
extern const method_def export_methods[];    /* export.c: export.run, export.list */
extern const method_def import_methods[];    /* import.c: enterprise.import */

/* Return 0, or -1 when the pool's statement table is full. */
__attribute__((warn_unused_result)) int enterprise_register_statements(void);
__attribute__((warn_unused_result)) int status_register_statements(void);
__attribute__((warn_unused_result)) int session_register_statements(void);
__attribute__((warn_unused_result)) int user_register_statements(void);
__attribute__((warn_unused_result)) int audit_register_statements(void);
__attribute__((warn_unused_result)) int project_register_statements(void);
__attribute__((warn_unused_result)) int official_register_statements(void);
__attribute__((warn_unused_result)) int problem_register_statements(void);
__attribute__((warn_unused_result)) int overdue_register_statements(void);
__attribute__((warn_unused_result)) int export_register_statements(void);
__attribute__((warn_unused_result)) int import_register_statements(void);

#endif
