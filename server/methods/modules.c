/*
 * modules.c: the list of method areas baobaod serves (methods.h), in the
 * order they are registered and started (and stopped in reverse).
 */
#include "methods.h"

const method_module *const bb_modules[] = {
    &server_info_module, &enterprise_module, &status_module,   &session_module,
    &user_module,        &audit_module,      &project_module,  &official_module,
    &problem_module,     &overdue_module,    &export_module,   &import_module,
    &todo_module,
    &visits_module,
    &notice_module,
    &supervise_module,
    &housekeeping_module,
    &delivery_module,
    &push_module,
    &refdata_module,
    NULL,
};
