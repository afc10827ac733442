/*
 * spec.c: the list of the spec's tables (bb_spec.h), one per area.
 * A new area adds its table here and in spec.h.
 */
#include "spec.h"

const bb_method_spec *const bb_spec_tables[] = {
    bb_spec_official,
    bb_spec_refdata,
    bb_spec_enterprise,
    bb_spec_status,
    bb_spec_import,
    bb_spec_server,
    bb_spec_session,
    bb_spec_user,
    bb_spec_audit,
    bb_spec_export,
    bb_spec_project,
    bb_spec_problem,
    bb_spec_overdue,
    bb_spec_todo,
    bb_spec_visits,
    bb_spec_notice,
    bb_spec_supervise,
    bb_spec_watch,
    NULL,
};
