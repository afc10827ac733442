/*
 * official.c (spec): the directory of units and officials, the 包保
 * assignments and coverage gaps (PROTOCOL.md section 6).
 */
#include "spec.h"

#include "bb_limits.h"

/* Names and titles of units and officials (CHECKs in sql/007_projects.sql). */
#define NAME_CHARS 50
/* A phone number: 3-32 bytes (the pattern is checked by the server). */
#define PHONE_BYTES 32
/* The coverage.gaps cursor "K.ID.R". */
#define GAPS_CURSOR_CHARS 30

static const char *const asg_roles[] = {"包保市领导", "责任单位", "联络员", NULL};
static const char *const gap_kinds[] = {"enterprise", "project", NULL};

#define ID(doc) {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, doc}
#define VERSION {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"}
#define OPT_ID(name, flags, doc) {name, BB_T_INT, flags, 1, INT64_MAX, 0, NULL, NULL, doc}
#define ON_DATE {"on", BB_T_DATE, BB_A_TODAY, 0, 0, 0, NULL, NULL, "哪一天；默认今天"}

static const bb_arg unit_create[] = {
    {"name", BB_T_STR, BB_A_REQ, 1, NAME_CHARS, 0, NULL, NULL, "单位名称"},
    {NULL},
};
static const bb_arg by_id[] = {ID("编号"), {NULL}};
static const bb_arg unit_list[] = {
    {"name_contains", BB_T_STR, 0, 1, NAME_CHARS, 0, NULL, NULL, "名称包含"},
    {NULL},
};
static const bb_arg portfolio[] = {ID("编号"), ON_DATE, {NULL}};

static const bb_arg official_create[] = {
    {"name", BB_T_STR, BB_A_REQ, 1, NAME_CHARS, 0, NULL, NULL, "姓名"},
    {"title", BB_T_STR, BB_A_NIL, 1, NAME_CHARS, 0, NULL, NULL, "职务"},
    OPT_ID("unit_id", BB_A_NIL, "所在单位编号"),
    {"phone", BB_T_STR, BB_A_NIL | BB_A_BYTES, 1, PHONE_BYTES, 0, NULL, NULL, "电话"},
    OPT_ID("user_id", BB_A_NIL, "对应的 baobao 用户编号"),
    {NULL},
};
static const bb_arg official_update[] = {
    ID("编号"),
    VERSION,
    {"name", BB_T_STR, 0, 1, NAME_CHARS, 0, NULL, NULL, "姓名"},
    {"title", BB_T_STR, BB_A_NIL, 1, NAME_CHARS, 0, NULL, NULL, "职务；nil 清空"},
    OPT_ID("unit_id", BB_A_NIL, "所在单位编号；nil 清空"),
    {"phone", BB_T_STR, BB_A_NIL | BB_A_BYTES, 1, PHONE_BYTES, 0, NULL, NULL, "电话；nil 清空"},
    OPT_ID("user_id", BB_A_NIL, "对应的 baobao 用户编号；nil 清空"),
    {NULL},
};
static const bb_arg official_list[] = {
    OPT_ID("unit_id", 0, "只列此单位的干部"),
    {"name_contains", BB_T_STR, 0, 1, NAME_CHARS, 0, NULL, NULL, "姓名包含"},
    {NULL},
};

static const bb_arg assignment_create[] = {
    OPT_ID("official_id", 0, "包保干部编号（与 unit_id 二选一）"),
    OPT_ID("unit_id", 0, "责任单位编号（与 official_id 二选一）"),
    OPT_ID("enterprise_id", 0, "包保的企业（与 project_id 二选一）"),
    OPT_ID("project_id", 0, "包保的项目（与 enterprise_id 二选一）"),
    {"role", BB_T_STR, BB_A_REQ, 1, BB_MAX_SHORT_TEXT_CHARS, 0, asg_roles, NULL, "包保角色"},
    {"period_start", BB_T_DATE, BB_A_REQ, 0, 0, 0, NULL, NULL, "起始日期"},
    {"period_end", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "结束日期"},
    {NULL},
};
static const bb_arg assignment_end[] = {
    ID("编号"),
    VERSION,
    {"period_end", BB_T_DATE, BB_A_REQ, 0, 0, 0, NULL, NULL, "结束日期"},
    {NULL},
};
static const bb_arg assignment_list[] = {
    OPT_ID("enterprise_id", 0, "只列此企业的"),
    OPT_ID("project_id", 0, "只列此项目的"),
    OPT_ID("official_id", 0, "只列此干部的"),
    OPT_ID("unit_id", 0, "只列此单位的"),
    {"role", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, asg_roles, NULL, "包保角色"},
    {"active_on", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "只列这一天有效的"},
    {NULL},
};
static const bb_arg coverage_gaps[] = {
    {"kind", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, gap_kinds, NULL, "企业或项目"},
    {"role", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, asg_roles, NULL, "缺的包保角色"},
    {"township", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, NULL, "乡镇（街道、园区）"},
    ON_DATE,
    {"after", BB_T_STR, 0, 1, GAPS_CURSOR_CHARS, 0, NULL, NULL, "上一页的 next"},
    {NULL},
};

const bb_method_spec bb_spec_official[] = {
    {"unit.create", BB_ROLES_DIRECTORY_WRITE, BB_M_WRITE, unit_create, "Unit", "新建单位"},
    {"unit.get", BB_ROLES_USERS, BB_M_REPLICA, by_id, "Unit", "查看单位"},
    {"unit.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_REPLICA, unit_list, "page of Unit", "列出单位"},
    {"unit.portfolio", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, portfolio, "UnitPortfolio",
     "单位的包保责任：企业、项目、诉求"},
    {"official.create", BB_ROLES_DIRECTORY_WRITE, BB_M_WRITE, official_create, "Official",
     "新建干部"},
    {"official.get", BB_ROLES_USERS, BB_M_REPLICA, by_id, "Official", "查看干部"},
    {"official.update", BB_ROLES_DIRECTORY_WRITE, BB_M_WRITE, official_update, "Official",
     "修改干部"},
    {"official.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_REPLICA, official_list,
     "page of Official", "列出干部"},
    {"official.portfolio", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, portfolio,
     "OfficialPortfolio",
     "干部的包保责任"},
    {"assignment.create", BB_ROLE_SUPERVISOR, BB_M_WRITE | BB_M_SCOPED, assignment_create,
     "Assignment", "新建包保关系"},
    {"assignment.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "Assignment", "查看包保关系"},
    {"assignment.end", BB_ROLE_SUPERVISOR, BB_M_WRITE | BB_M_SCOPED, assignment_end, "Assignment",
     "结束包保关系"},
    {"assignment.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, assignment_list,
     "page of Assignment", "列出包保关系"},
    {"coverage.gaps", BB_ROLES_USERS, BB_M_LIMIT | BB_M_SCOPED | BB_M_REPLICA, coverage_gaps,
     "page of Gap",
     "缺少包保的企业和项目"},
    {NULL},
};
