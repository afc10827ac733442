/*
 * supervise.c (spec): supervision that runs itself (issue 13), PROTOCOL.md
 * section 6 "Supervision: lights and notices": running the sweep now
 * (supervise.run) and the history of lights (light.history for one item,
 * light.changes for everything a caller may see, or with `mine` what
 * concerns them (what light.changed is pushed to them for), paged by id).
 *
 * The sweep itself runs on its own (server/methods/supervise.c): at start,
 * on a timer, after midnight and after changes; supervise.run is for a
 * supervisor who wants it now and for tests. Lights are values of the
 * protocol with rules attached (sql/023_supervision.sql), so they are
 * listed here. A township filter takes any name: an unknown one matches
 * nothing.
 * Not for: notices (notice.c), how the methods run
 * (server/methods/supervise.c).
 */
#include "spec.h"

#include "bb_limits.h"

#define SHORT BB_MAX_SHORT_TEXT_CHARS

static const char *const lights[] = {"green", "yellow", "red", "done", "off", NULL};

static const bb_arg none[] = {{NULL}};
static const bb_arg history[] = {
    {"problem_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "诉求编号（与 project_id 二选一）"},
    {"project_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "项目编号（与 node 一起）"},
    {"node", BB_T_STR, 0, 1, SHORT, 0, bb_milestone_nodes, NULL, "项目节点：签约 注册 开工 投产 竣工"},
    {NULL},
};
static const bb_arg changes[] = {
    {"to_light", BB_T_STR, 0, 1, SHORT, 0, lights, NULL, "只列变为此灯的"},
    {"from", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "变化日期从（含）；默认不限"},
    {"to", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "变化日期到（含）；默认不限"},
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇的"},
    {"mine", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "只列与我有关的；默认 false"},
    {NULL},
};

const bb_method_spec bb_spec_supervise[] = {
    {"supervise.run", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_WRITES, none, "SuperviseRun",
     "立即督办一次：重算红黄绿灯，下发、关闭督办单"},
    {"light.history", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, history, "{items: [LightChange]}",
     "一个项目节点或诉求的亮灯历史"},
    {"light.changes", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, changes,
     "page of LightChange",
     "亮灯变化列表（按编号）"},
    {NULL},
};
