/*
 * spec.h: the spec's tables of methods, one per area (proto/spec/<area>.c).
 * Each ends with an entry whose name is NULL.
 */
#ifndef BB_SPEC_TABLES_H
#define BB_SPEC_TABLES_H

#include "bb_spec.h"

extern const bb_method_spec bb_spec_official[];  /* unit.*, official.*, assignment.*, coverage.* */
extern const bb_method_spec bb_spec_refdata[];   /* ref.* (reference data) */
extern const bb_method_spec bb_spec_enterprise[]; /* enterprise.create/get/update/list */
extern const bb_method_spec bb_spec_status[];     /* status.submit, status.list */
extern const bb_method_spec bb_spec_import[];     /* enterprise.import, status.import */
extern const bb_method_spec bb_spec_status_import_row; /* a row of status.import: no method */
extern const bb_method_spec bb_spec_server[];   /* server.info, server.api */
extern const bb_method_spec bb_spec_session[];  /* session.* */
extern const bb_method_spec bb_spec_user[];     /* user.* */
extern const bb_method_spec bb_spec_audit[];    /* audit.* */
extern const bb_method_spec bb_spec_export[];    /* export.* */
extern const bb_method_spec bb_spec_project[];   /* project.* */
extern const bb_method_spec bb_spec_problem[];   /* problem.*, trouble.* */
extern const bb_method_spec bb_spec_overdue[];   /* overdue.*, due.* */
extern const bb_method_spec bb_spec_todo[];      /* todo.mine */
extern const bb_method_spec bb_spec_visits[];    /* coverage.visits */
extern const bb_method_spec bb_spec_notice[];    /* notice.* */
extern const bb_method_spec bb_spec_supervise[]; /* supervise.run, light.* */
extern const bb_method_spec bb_spec_watch[];     /* watch.* (pushes) */
/* Value lists of the protocol shared by areas (proto/spec/project.c, problem.c). */
extern const char *const bb_stages[], *const bb_milestone_nodes[], *const bb_problem_states[];

#endif
