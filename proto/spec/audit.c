/*
 * audit.c (spec): reading the audit trail (PROTOCOL.md section 6, "Audit"):
 * audit.list, audit.get (one record, with its before and after) and
 * audit.as_of; and the login log, audit.logins (admins only).
 */
#include "spec.h"

/* A login: 1-64 bytes (SESSION_LOGIN_MAX, server/engine/session.h). */
#define LOGIN_BYTES 64
/* An entity name. */
#define ENTITY_CHARS 32
/* A bound: a date or an RFC 3339 timestamp, at most
 * "YYYY-MM-DDTHH:MM:SS.ffffff+hh:mm" (its form is checked by the server). */
#define BOUND_CHARS 32

/* Every kind of record a write function audits (sql/): fixed by the
 * protocol, not reference data. */
static const char *const entities[] = {"enterprise", "status_report", "user", "project",
                                       "unit", "official", "assignment", "problem",
                                       "enterprise_trouble", "township", "ref_value",
                                       "notice", NULL};

static const bb_arg audit_list[] = {
    {"entity", BB_T_STR, 0, 1, ENTITY_CHARS, 0, entities, NULL, "记录的种类"},
    {"entity_id", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "一条记录的历史（需要 entity）"},
    {"user", BB_T_STR, BB_A_BYTES, 1, LOGIN_BYTES, 0, NULL, NULL, "修改人的登录名"},
    {"from", BB_T_STR, 0, 1, BOUND_CHARS, 0, NULL, NULL, "起：日期或 RFC 3339 时刻"},
    {"to", BB_T_STR, 0, 1, BOUND_CHARS, 0, NULL, NULL, "止：日期或 RFC 3339 时刻"},
    /* Its own cursor (an audit id, newest first), so not BB_M_PAGED. */
    {"after", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "上一页的 next"},
    {NULL},
};
static const bb_arg audit_as_of[] = {
    {"entity", BB_T_STR, BB_A_REQ, 1, ENTITY_CHARS, 0, entities, NULL, "记录的种类"},
    {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "记录的编号"},
    {"at", BB_T_STR, BB_A_REQ, 1, BOUND_CHARS, 0, NULL, NULL,
     "时间：日期（当天结束时）或 RFC 3339 时刻"},
    {NULL},
};

static const bb_arg audit_get[] = {
    {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "审计记录的编号"},
    {NULL},
};
/* The outcomes a login_event row may hold (sql/004_accounts.sql, and
 * bad_token of sql/016_session_token.sql): fixed by the protocol
 * (PROTOCOL.md section 3, "Failed logins"). */
static const char *const outcomes[] = {"ok",       "unknown_user", "bad_password", "bad_token",
                                       "locked",   "disabled",     "refused",      "unavailable",
                                       NULL};
static const bb_arg audit_logins[] = {
    {"login", BB_T_STR, BB_A_BYTES, 1, LOGIN_BYTES, 0, NULL, NULL, "登录名（按输入的原样）"},
    {"outcome", BB_T_STR, 0, 1, ENTITY_CHARS, 0, outcomes, NULL, "结果"},
    {"from", BB_T_STR, 0, 1, BOUND_CHARS, 0, NULL, NULL, "起：日期或 RFC 3339 时刻"},
    {"to", BB_T_STR, 0, 1, BOUND_CHARS, 0, NULL, NULL, "止：日期或 RFC 3339 时刻"},
    /* Newest first, as audit.list: its own cursor. */
    {"after", BB_T_INT, 0, 1, INT64_MAX, 0, NULL, NULL, "上一页的 next"},
    {NULL},
};

const bb_method_spec bb_spec_audit[] = {
    {"audit.list", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_LIMIT | BB_M_REPLICA, audit_list,
     "page of Audit",
     "审计记录，最新的在前"},
    {"audit.as_of", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_REPLICA, audit_as_of, "record",
     "某条记录在某一时间的样子"},
    {"audit.get", BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN, BB_M_REPLICA, audit_get, "Audit",
     "一条审计记录：改了什么、谁改的、改前改后"},
    {"audit.logins", BB_ROLE_ADMIN, BB_M_LIMIT | BB_M_REPLICA, audit_logins, "page of LoginEvent",
     "登录日志，最新的在前（仅管理员）"},
    {NULL},
};
