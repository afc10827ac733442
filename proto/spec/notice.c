/*
 * notice.c (spec): 督办 notices for people (notice.*), PROTOCOL.md section
 * 6 "Notices": listing them, reading one, marking it read, answering it,
 * and the counts supervisors read (notice.stats).
 *
 * Notices are made by the sweep (supervise.run, sql/023_supervision.sql),
 * never by a method. Levels and states are values of the protocol with
 * rules attached (023's header), so they are listed here. A township
 * filter takes any name: an unknown one matches nothing.
 * Not for: how the methods run (server/methods/notice.c,
 * sql/024_notices.sql).
 */
#include "spec.h"

#include "bb_limits.h"

/* An answer: what was done, as long as a problem's note. */
#define ANSWER_CHARS 2000
#define SHORT BB_MAX_SHORT_TEXT_CHARS

static const char *const levels[] = {"due", "yellow", "red", "escalated", NULL};
static const char *const states[] = {"issued", "read", "answered", "closed", NULL};
static const char *const stats_by[] = {"unit", "township", NULL};

#define ID {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "督办单编号（id）"}

static const bb_arg by_id[] = {ID, {NULL}};
static const bb_arg notice_list[] = {
    {"mine", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "只列与我有关的；默认 false"},
    {"state", BB_T_STR, 0, 1, SHORT, 0, states, NULL, "只列此状态的"},
    {"level", BB_T_STR, 0, 1, SHORT, 0, levels, NULL, "只列此级别的"},
    {"unit_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "只列发给此单位的"},
    {"township", BB_T_STR, 0, 1, SHORT, 0, NULL, NULL, "只列此乡镇的"},
    {"unanswered", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL, "只列未答复的（已下发、已读）；默认 false"},
    {NULL},
};
static const bb_arg notice_answer[] = {
    ID,
    {"note", BB_T_TEXT, BB_A_REQ, 1, ANSWER_CHARS, 0, NULL, NULL, "答复：已做了什么"},
    {NULL},
};
static const bb_arg notice_stats[] = {
    {"by", BB_T_STR, 0, 1, SHORT, 0, stats_by, NULL, "unit（按责任单位，默认）或 township（按乡镇）"},
    {"from", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "下发日期从（含）；默认不限"},
    {"to", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "下发日期到（含）；默认不限"},
    {NULL},
};

#define WRITE (BB_M_WRITE | BB_M_SCOPED)

const bb_method_spec bb_spec_notice[] = {
    {"notice.list", BB_ROLES_USERS, BB_M_PAGED | BB_M_SCOPED | BB_M_REPLICA, notice_list,
     "page of Notice",
     "督办单列表"},
    {"notice.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "Notice", "查看督办单"},
    {"notice.read", BB_ROLES_BUSINESS_WRITE, WRITE, by_id, "Notice", "督办单标记已读"},
    {"notice.answer", BB_ROLES_BUSINESS_WRITE, WRITE, notice_answer, "Notice", "答复督办单"},
    {"notice.stats", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_REPLICA, notice_stats, "NoticeStats",
     "督办单统计：按单位或乡镇，下发、已读、已答复、未答复、已办结"},
    {NULL},
};
