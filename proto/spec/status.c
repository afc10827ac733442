/*
 * status.c (spec): status reports (走访 / 调度记录): status.submit,
 * status.list, status.get, and their corrections and withdrawals,
 * status.correct and status.withdraw (PROTOCOL.md section 6). The bulk
 * import is in import.c.
 *
 * The production status names reference data: the database refuses a
 * value that is not a current member. Not for: the rules the server
 * checks beyond these (from not after to, the list cursor; who may change
 * a report and until when, the duplicate rule: sql/020_corrections.sql)
 * or how the methods run (server/methods/status.c).
 *
 * Also here, because it has status.submit's arguments: the row of
 * status.import (bb_spec_status_import_row), an argument table that is no
 * method (so not in bb_spec_tables). C cannot splice one array into
 * another, so the arguments both have are written once, in SUBMIT_ARGS
 * and REPORT_DATE (optional in status.submit, required in a row).
 */
#include "spec.h"

#include "bb_limits.h"

/* 10^15 yuan, and a headcount (the CHECKs of status_report). */
#define MAX_OUTPUT_VALUE INT64_C(1000000000000000)
#define MAX_PEOPLE 1000000
/* The status.list cursor "YYYY-MM-DD.ID". */
#define CURSOR_CHARS 30
/* The reason of a correction or a withdrawal (the CHECK of
 * status_report.reason). */
#define REASON_CHARS 500

#define ENTERPRISE_ID {"enterprise_id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "企业编号"}

/* The report date: status.submit fills in today (in time_zone) when it is
 * left out, since a visit is mostly logged the day it is made; a row of
 * status.import must say its date (a file of old reports has no today). */
#define REPORT_DATE(flags, doc) {"report_date", BB_T_DATE, flags, 20000101, 0, 0, NULL, NULL, doc}

/* status.submit's arguments after the enterprise and the date. */
#define SUBMIT_ARGS                                                                             \
    {"reporter", BB_T_STR, BB_A_REQ, 1, BB_MAX_REPORTER_CHARS, 0, NULL, NULL, "填报人"},        \
    {"production_status", BB_T_STR, BB_A_REQ, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL,              \
     "production_status", "生产状态"},                                                          \
    {"output_value", BB_T_INT, BB_A_NIL, 0, MAX_OUTPUT_VALUE, 0, NULL, NULL, "产值（元）"},     \
    {"employees", BB_T_INT, BB_A_NIL, 0, MAX_PEOPLE, 0, NULL, NULL, "用工人数"},                \
    {"labour_shortage", BB_T_INT, BB_A_NIL, 0, MAX_PEOPLE, 0, NULL, NULL, "缺工人数"},          \
    {"note", BB_T_TEXT, BB_A_NIL, 1, BB_MAX_NOTE_CHARS, 0, NULL, NULL, "备注；可换行"}

static const bb_arg submit[] = {
    ENTERPRISE_ID,
    REPORT_DATE(BB_A_TODAY, "报告日期：不早于 2000-01-01，不晚于今天；默认今天"),
    SUBMIT_ARGS,
    /* Not in SUBMIT_ARGS: an import says it once for the call
     * (allow_duplicates, proto/spec/import.c). */
    {"allow_duplicate", BB_T_BOOL, 0, 0, 0, 0, NULL, NULL,
     "同一企业、同一报告日期、同一填报人已有报告时仍然保存；默认 false"},
    {NULL},
};
static const bb_arg by_id[] = {
    {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "报告编号"},
    {NULL},
};
#define ID_VERSION_REASON(doc)                                                                  \
    {"id", BB_T_INT, BB_A_REQ, 1, INT64_MAX, 0, NULL, NULL, "报告编号"},                        \
    {"version", BB_T_INT, BB_A_REQ, 1, INT32_MAX, 0, NULL, NULL, "修改所依据的版本号"},         \
    {"reason", BB_T_STR, BB_A_REQ, 1, REASON_CHARS, 0, NULL, NULL, doc}
/* The fields a correction may change, each optional (absent = unchanged;
 * nil clears a nil-able one), in the order the brief of issue 12 gives. */
static const bb_arg correct[] = {
    ID_VERSION_REASON("更正的原因"),
    REPORT_DATE(0, "新的报告日期：不早于 2000-01-01，不晚于今天"),
    {"production_status", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL,
     "production_status", "新的生产状态"},
    {"output_value", BB_T_INT, BB_A_NIL, 0, MAX_OUTPUT_VALUE, 0, NULL, NULL,
     "新的产值（元）；nil 清空"},
    {"employees", BB_T_INT, BB_A_NIL, 0, MAX_PEOPLE, 0, NULL, NULL, "新的用工人数；nil 清空"},
    {"labour_shortage", BB_T_INT, BB_A_NIL, 0, MAX_PEOPLE, 0, NULL, NULL,
     "新的缺工人数；nil 清空"},
    {"note", BB_T_TEXT, BB_A_NIL, 1, BB_MAX_NOTE_CHARS, 0, NULL, NULL, "新的备注；nil 清空"},
    {"reporter", BB_T_STR, 0, 1, BB_MAX_REPORTER_CHARS, 0, NULL, NULL, "新的填报人"},
    {NULL},
};
static const bb_arg withdraw[] = {
    ID_VERSION_REASON("撤回的原因"),
    {NULL},
};
static const bb_arg list[] = {
    ENTERPRISE_ID,
    {"from", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "报告日期不早于"},
    {"to", BB_T_DATE, 0, 0, 0, 0, NULL, NULL, "报告日期不晚于"},
    {"after", BB_T_STR, 0, 1, CURSOR_CHARS, 0, NULL, NULL, "上一页的 next"},
    {NULL},
};

const bb_method_spec bb_spec_status[] = {
    {"status.submit", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, submit, "StatusReport",
     "填报企业状态（走访、调度记录）"},
    {"status.list", BB_ROLES_USERS, BB_M_LIMIT | BB_M_SCOPED | BB_M_REPLICA, list,
     "page of StatusReport",
     "列出企业的状态报告，新的在前"},
    {"status.get", BB_ROLES_USERS, BB_M_SCOPED | BB_M_REPLICA, by_id, "StatusReport", "查看一条状态报告"},
    {"status.correct", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, correct,
     "StatusReport", "更正一条状态报告"},
    {"status.withdraw", BB_ROLES_BUSINESS_WRITE, BB_M_WRITE | BB_M_SCOPED, withdraw,
     "StatusReport", "撤回一条状态报告"},
    {NULL},
};

/* A row of status.import: status.submit's arguments without the
 * idempotency key (the call has one), the enterprise named by id or by
 * credit code, nil counting as absent; that exactly one is given is the
 * server's rule, checked before the values (server/methods/import.c). The
 * credit code is as enterprise.create takes it (proto/spec/enterprise.c:
 * a str of at most 64 characters, then the credit code's own rules). */
static const bb_arg import_row[] = {
    {"enterprise_id", BB_T_INT, BB_A_NILABSENT, 1, INT64_MAX, 0, NULL, NULL, "企业编号"},
    {"credit_code", BB_T_STR, BB_A_NILABSENT, 1, 64, 0, NULL, NULL, "统一社会信用代码"},
    REPORT_DATE(BB_A_REQ, "报告日期：不早于 2000-01-01，不晚于今天"),
    SUBMIT_ARGS,
    {NULL},
};
const bb_method_spec bb_spec_status_import_row = {
    "status.import row", 0, 0, import_row, "ImportItem", "status.import 的一行（不是方法）"};
