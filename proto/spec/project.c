/*
 * project.c (spec): investment projects (招商项目 / 重点项目), their
 * lifecycle stage and milestone plan (PROTOCOL.md section 6, "Projects"),
 * and the value lists of the lifecycle that other areas filter on too
 * (overdue.*): the stages in order and the five milestone nodes.
 *
 * Townships and clusters are reference data (`ref`), checked by the
 * database on a write; as list filters an unknown name matches nothing,
 * so the filters carry no `ref`. Stages, nodes and priorities are values
 * of the protocol with rules attached (their order, the lifecycle), so
 * they are listed here.
 * Not for: how the methods run (server/methods/project.c).
 */
#include "spec.h"

#include "bb_limits.h"

/* A project's name (CHECK in sql/007_projects.sql). */
#define NAME_CHARS 100
/* A reason for a stage move or a replanning (CHECK on stage_reason). */
#define REASON_CHARS 500
/* Planned investment, whole yuan (CHECK in 007). */
#define MONEY_MAX INT64_C(1000000000000000)
#define SHORT BB_MAX_SHORT_TEXT_CHARS

/* The lifecycle in order, then the two stages off the line. */
const char *const bb_stages[] = {"信息收集", "研判", "洽谈", "签约", "注册", "开工",
                                 "投产",     "竣工", "终止", "暂停", NULL};
/* Where a project may start: the lifecycle only (终止 and 暂停 need a
 * reason, so project.move_stage). */
static const char *const start_stages[] = {"信息收集", "研判", "洽谈", "签约",
                                           "注册",     "开工", "投产", "竣工", NULL};
/* The milestone nodes in lifecycle order (the order of `milestones`). */
const char *const bb_milestone_nodes[] = {"签约", "注册", "开工", "投产", "竣工", NULL};
static const char *const priorities[] = {"省级重点", "市级重点", "一般", NULL};

#define ID {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "项目编号"}
#define VERSION {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"}
#define OPT_ID(name, flags, doc) {name, BB_T_INT, flags, 1, INT64_MAX, 0, NULL, NULL, doc}
#define MONEY(name, flags, doc) {name, BB_T_INT, flags, 0, MONEY_MAX, 0, NULL, NULL, doc}
#define REASON(doc) {"reason", BB_T_STR, 0, 1, REASON_CHARS, 0, NULL, NULL, doc}

static const bb_arg project_create[] = {
    {"name", BB_T_STR, BB_A_REQ, 1, NAME_CHARS, 0, NULL, NULL, "项目名称"},
    OPT_ID("enterprise_id", BB_A_NIL, "投资企业编号"),
    {"cluster", BB_T_STR, BB_A_NIL, 1, SHORT, 0, NULL, "cluster", "产业集群"},
    MONEY("planned_investment", BB_A_REQ, "计划投资（元）"),
    {"priority", BB_T_STR, BB_A_REQ, 1, SHORT, 0, priorities, NULL, "重点级别"},
    OPT_ID("lead_unit_id", BB_A_NIL, "牵头单位编号"),
    {"township", BB_T_STR, BB_A_REQ, 1, SHORT, 0, NULL, "township", "乡镇（街道、园区）"},
    {"stage", BB_T_STR, 0, 1, SHORT, 0, start_stages, NULL, "起始阶段；默认信息收集"},
    {NULL},
};
static const bb_arg by_id[] = {ID, {NULL}};
static const bb_arg project_update[] = {
    ID,
    VERSION,
    {"name", BB_T_STR, 0, 1, NAME_CHARS, 0, NULL, NULL, "项目名称"},
    OPT_ID("enterprise_id", BB_A_NIL, "投资企业编号；nil 清空"),
    {"cluster", BB_T_STR, BB_A_NIL, 1, SHORT, 0, NULL, "cluster", "产业集群；nil 清空"},
    MONEY("planned_investment", 0, "计划投资（元）"),
    {"priority", BB_T_STR, 0, 1, SHORT, 0, priorities, NULL, "重点级别"},
    OPT_ID("lead_unit_id", BB_A_NIL, "牵头单位编号；nil 清空"),
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, "township", "乡镇（街道、园区）"},
    {NULL},
};
static const bb_arg project_list[] = {
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇的"},
    {"cluster", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此产业集群的"},
    {"stage", BB_T_STR, 0, 1, SHORT, 0, bb_stages, NULL, "只列此阶段的"},
    {"priority", BB_T_STR, 0, 1, SHORT, 0, priorities, NULL, "只列此重点级别的"},
    OPT_ID("lead_unit_id", 0, "只列此单位牵头的"),
    MONEY("investment_min", 0, "计划投资不少于"),
    MONEY("investment_max", 0, "计划投资不多于"),
    {"name_contains", BB_T_STR, 0, 1, NAME_CHARS, 0, NULL, NULL, "名称包含"},
    {NULL},
};
static const bb_arg project_move_stage[] = {
    ID,
    VERSION,
    {"stage", BB_T_STR, BB_A_REQ, 1, SHORT, 0, bb_stages, NULL, "目标阶段"},
    REASON("原因；终止、暂停时必填"),
    {NULL},
};
static const bb_arg project_set_milestone[] = {
    ID,
    {"node", BB_T_STR, BB_A_REQ, 1, SHORT, 0, bb_milestone_nodes, NULL, "节点"},
    {"planned_date", BB_T_DATE, BB_A_NIL, 0, 0, 0, NULL, NULL, "计划日期；nil 清空"},
    {"actual_date", BB_T_DATE, BB_A_NIL, 0, 0, 0, NULL, NULL, "实际日期；nil 清空"},
    REASON("改计划日期的原因"),
    {NULL},
};

const bb_method_spec bb_spec_project[] = {
    {"project.create", BB_ROLE_SUPERVISOR, BB_M_WRITE, project_create, "Project", "新建项目"},
    {"project.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "Project", "查看项目"},
    {"project.update", BB_ROLE_SUPERVISOR, BB_M_WRITE, project_update, "Project", "修改项目"},
    {"project.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, project_list,
     "page of Project",
     "列出项目"},
    {"project.move_stage", BB_ROLE_SUPERVISOR, BB_M_WRITE, project_move_stage, "Project",
     "推进或暂停、终止项目"},
    {"project.set_milestone", BB_ROLE_SUPERVISOR, BB_M_WRITE, project_set_milestone, "Project",
     "设定节点的计划、实际日期"},
    {"project.history", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "items of ProjectEvent",
     "项目的阶段和计划变更记录"},
    {NULL},
};
