/*
 * overdue.c (spec): supervision of what is late (overdue.milestones,
 * overdue.problems) and what falls due soon (due.milestones,
 * due.problems), PROTOCOL.md section 6 "Overdue and due".
 *
 * The four share their filters; an overdue list takes a level, a due list
 * a window. `after` is an opaque str cursor (date, id, node), not the int
 * cursor of BB_M_PAGED, so it is declared here with BB_M_LIMIT. Township
 * and cluster filters take any name: an unknown one matches nothing.
 * Not for: how they run (server/methods/overdue.c).
 */
#include "spec.h"

#include "bb_limits.h"

/* A cursor: "YYYY-MM-DD.ID" or "YYYY-MM-DD.ID.N". */
#define CURSOR_CHARS 40
/* due.*: the longest window, in days. */
#define WITHIN_DAYS_MAX 3650
#define SHORT BB_MAX_SHORT_TEXT_CHARS

static const char *const levels[] = {"red", "yellow", NULL};

#define TOWNSHIP {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇的"}
#define CLUSTER {"cluster", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此产业集群的"}
#define STAGE {"stage", BB_T_STR, 0, 1, SHORT, 0, bb_stages, NULL, "只列此阶段的项目"}
#define STATE {"state", BB_T_STR, 0, 1, SHORT, 0, bb_problem_states, NULL, "只列此状态的诉求"}
#define PEOPLE                                                                            \
    {"official_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "只列此干部包保或承办的"}, \
    {"unit_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "只列此单位牵头、包保或承办的"}
#define LEVEL {"level", BB_T_STR, 0, 1, SHORT, 0, levels, NULL, "red 或 yellow"}
#define WITHIN                                                                            \
    {"within_days", BB_T_INT, 0, 0, WITHIN_DAYS_MAX, 0, NULL, NULL,                       \
     "今天起多少天内到期；默认 due_soon_days"}
#define AFTER {"after", BB_T_STR, 0, 1, CURSOR_CHARS, 0, NULL, NULL, "上一页的 next"}

static const bb_arg overdue_milestones[] = {TOWNSHIP, CLUSTER, STAGE, PEOPLE, LEVEL, AFTER, {NULL}};
static const bb_arg overdue_problems[] = {TOWNSHIP, CLUSTER, STATE, PEOPLE, LEVEL, AFTER, {NULL}};
static const bb_arg due_milestones[] = {TOWNSHIP, CLUSTER, STAGE, PEOPLE, WITHIN, AFTER, {NULL}};
static const bb_arg due_problems[] = {TOWNSHIP, CLUSTER, STATE, PEOPLE, WITHIN, AFTER, {NULL}};

/* Reads that write nothing: the replica may answer them (BB_M_REPLICA). */
#define READ (BB_M_LIMIT | BB_M_SCOPED | BB_M_REPLICA)

const bb_method_spec bb_spec_overdue[] = {
    {"overdue.milestones", BB_ROLES_USERS, READ, overdue_milestones, "page of OverdueMilestone",
     "逾期的项目节点（红灯、黄灯）"},
    {"overdue.problems", BB_ROLES_USERS, READ, overdue_problems, "page of OverdueProblem",
     "逾期的诉求（红灯、黄灯）"},
    {"due.milestones", BB_ROLES_USERS, READ, due_milestones, "page of OverdueMilestone",
     "即将到期的项目节点"},
    {"due.problems", BB_ROLES_USERS, READ, due_problems, "page of OverdueProblem",
     "即将到期的诉求"},
    {NULL},
};
