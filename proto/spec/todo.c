/*
 * todo.c (spec): todo.mine, what is waiting for the caller (PROTOCOL.md
 * section 6, "todo.mine"): for township staff the enterprises of their
 * townships not visited this month and their townships' problems near or
 * past their deadline; for supervisors the overdue milestones and problems
 * of their unit and of themselves.
 *
 * Admins may not call it (forbidden): they have no townships, unit or
 * responsibility of their own, so an empty answer would mislead.
 * Not for: how it runs (server/methods/todo.c, sql/017_todo.sql).
 */
#include "spec.h"

/* The longest problem window, in days: the same bound as due.*'s
 * within_days (proto/spec/overdue.c). */
#define TODO_WITHIN_DAYS_MAX 3650

static const bb_arg todo_mine[] = {
    {"within_days", BB_T_INT, 0, 0, TODO_WITHIN_DAYS_MAX, 0, NULL, NULL,
     "乡镇人员：列出今天起多少天内到期的诉求；默认 due_soon_days"},
    {NULL},
};

const bb_method_spec bb_spec_todo[] = {
    /* BB_M_LIMIT: `limit` cuts each list (no cursor: a to-do list is read
     * whole or narrowed, not paged). */
    {"todo.mine", BB_ROLE_STAFF | BB_ROLE_SUPERVISOR, BB_M_LIMIT | BB_M_SCOPED | BB_M_REPLICA,
     todo_mine, "Todo",
     "我的待办：本月未走访的企业、快到期或已逾期的诉求、逾期的项目节点"},
    {NULL},
};
