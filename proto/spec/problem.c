/*
 * problem.c (spec): problems raised by enterprises (诉求, problem.*) and
 * the file of a troubled enterprise (困难企业, trouble.*), PROTOCOL.md
 * section 6; and the problem states, a value list overdue.* filters on
 * too.
 *
 * Categories are reference data (`ref`), checked by the database. The
 * states are values of the protocol with rules attached (one step
 * forward), so they are listed here. A township filter takes any name:
 * an unknown one matches nothing.
 * Not for: how the methods run (server/methods/problem.c), the decimal
 * form of a file's areas (checked there).
 */
#include "spec.h"

#include "bb_limits.h"

#define TEXT_CHARS 2000     /* description, note, a file's texts */
#define REASON_CHARS 500    /* reopen's reason, a file's idle reason */
/* An area: up to 12 digits, a point and two decimals (the pattern is
 * checked by the server). */
#define DECIMAL_CHARS 16
#define SHORT BB_MAX_SHORT_TEXT_CHARS

/* The workflow in order: 受理 → 交办 → 办理 → 反馈 → 确认. */
const char *const bb_problem_states[] = {"受理", "交办", "办理", "反馈", "确认", NULL};

#define ID {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "诉求编号"}
#define VERSION {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"}
#define OPT_ID(name, flags, doc) {name, BB_T_INT, flags, 1, INT64_MAX, 0, NULL, NULL, doc}
#define ENTERPRISE {"enterprise_id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "企业编号"}
#define FILE_TEXT(name, doc) {name, BB_T_TEXT, BB_A_NIL, 1, TEXT_CHARS, 0, NULL, NULL, doc}
#define AREA(name, doc) {name, BB_T_STR, BB_A_NIL, 1, DECIMAL_CHARS, 0, NULL, NULL, doc}

static const bb_arg problem_create[] = {
    ENTERPRISE,
    OPT_ID("status_report_id", BB_A_NIL, "提出诉求的报送编号"),
    {"category", BB_T_STR, BB_A_REQ, 1, SHORT, 0, NULL, "problem_category", "诉求类别"},
    {"description", BB_T_TEXT, BB_A_REQ, 1, TEXT_CHARS, 0, NULL, NULL, "诉求内容"},
    OPT_ID("assignee_unit_id", BB_A_NIL, "承办单位编号"),
    OPT_ID("assignee_official_id", BB_A_NIL, "承办干部编号"),
    {"deadline", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "办结期限；默认今天起 5 个工作日"},
    {NULL},
};
static const bb_arg by_id[] = {ID, {NULL}};
static const bb_arg problem_list[] = {
    OPT_ID("enterprise_id", 0, "只列此企业的"),
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇企业的"},
    {"state", BB_T_STR, 0, 1, SHORT, 0, bb_problem_states, NULL, "只列此状态的"},
    OPT_ID("assignee_unit_id", 0, "只列此单位承办的"),
    OPT_ID("assignee_official_id", 0, "只列此干部承办的"),
    {"open_only", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "只列未办结的；默认 false"},
    {NULL},
};
static const bb_arg problem_advance[] = {
    ID,
    VERSION,
    {"to_state", BB_T_STR, BB_A_REQ, 1, SHORT, 0, bb_problem_states, NULL, "下一状态"},
    {"note", BB_T_TEXT, BB_A_NIL, 1, TEXT_CHARS, 0, NULL, NULL, "办理情况"},
    {NULL},
};
static const bb_arg problem_reopen[] = {
    ID,
    VERSION,
    {"reason", BB_T_STR, BB_A_REQ, 1, REASON_CHARS, 0, NULL, NULL, "重新办理的原因"},
    {NULL},
};
/* A problem's text corrected (issue 12): the new description and why. */
static const bb_arg problem_correct[] = {
    ID,
    VERSION,
    {"description", BB_T_TEXT, BB_A_REQ, 1, TEXT_CHARS, 0, NULL, NULL, "更正后的诉求内容"},
    {"reason", BB_T_STR, BB_A_REQ, 1, REASON_CHARS, 0, NULL, NULL, "更正的原因"},
    {NULL},
};
static const bb_arg problem_assign[] = {
    ID,
    VERSION,
    OPT_ID("assignee_unit_id", BB_A_NIL, "承办单位编号；nil 清空"),
    OPT_ID("assignee_official_id", BB_A_NIL, "承办干部编号；nil 清空"),
    {"deadline", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "新的办结期限"},
    {NULL},
};

static const bb_arg trouble_set[] = {
    ENTERPRISE,
    {"version", BB_T_INT, 0, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号；不给则新建"},
    {"idle_reason", BB_T_STR, 0, 1, REASON_CHARS, 0, NULL, NULL, "闲置原因；新建时必填"},
    AREA("idle_land_mu", "闲置土地（亩），如 \"12.5\""),
    AREA("idle_floor_m2", "闲置厂房（平方米），如 \"800\""),
    FILE_TEXT("strengths", "企业优势"),
    FILE_TEXT("revival_plan", "盘活计划"),
    FILE_TEXT("revival_progress", "盘活进展"),
    {NULL},
};
static const bb_arg trouble_get[] = {ENTERPRISE, {NULL}};
static const bb_arg trouble_list[] = {
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇的"},
    {NULL},
};

#define WRITERS BB_ROLES_BUSINESS_WRITE

const bb_method_spec bb_spec_problem[] = {
    {"problem.create", WRITERS, BB_M_WRITE | BB_M_SCOPED, problem_create, "Problem", "登记诉求"},
    {"problem.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "Problem with events",
     "查看诉求及其办理记录"},
    {"problem.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, problem_list,
     "page of Problem",
     "列出诉求"},
    {"problem.advance", WRITERS, BB_M_WRITE | BB_M_SCOPED, problem_advance, "Problem",
     "诉求推进一步"},
    {"problem.reopen", WRITERS, BB_M_WRITE | BB_M_SCOPED, problem_reopen, "Problem",
     "重新办理已办结的诉求"},
    {"problem.assign", WRITERS, BB_M_WRITE | BB_M_SCOPED, problem_assign, "Problem",
     "指定承办单位、干部和期限"},
    {"problem.correct", WRITERS, BB_M_WRITE | BB_M_SCOPED, problem_correct, "Problem",
     "更正诉求内容（需写明原因）"},
    {"trouble.set", WRITERS, BB_M_WRITE | BB_M_SCOPED, trouble_set, "EnterpriseTrouble",
     "新建或修改困难企业档案"},
    {"trouble.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, trouble_get, "EnterpriseTrouble",
     "查看困难企业档案"},
    {"trouble.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, trouble_list,
     "page of EnterpriseTrouble", "列出困难企业档案"},
    {NULL},
};
