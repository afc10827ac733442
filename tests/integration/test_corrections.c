/*
 * test_corrections.c: status.correct and status.withdraw (issue 12)
 * against a real server: who may change a report (the township staff user
 * who stored it, within status_correct_days of the day it was stored, a
 * day of the server's time_zone; a supervisor any time; other staff as if
 * it did not exist; admins not at all), the reason each change needs,
 * version conflicts, a withdrawn report that is never changed again,
 * status.get, status.list without withdrawn reports, the audit rows
 * (before, after, the reason), todo.mine's unvisited list, and an export
 * run (export.run wait): status_reports.csv shows the corrected value and
 * leaves the withdrawn report out, the manifest counts it, and the reports
 * (reports.xlsx, reports.html) count no withdrawn report, in output value
 * or in visits. Also problem.correct (a problem's text), and `baobao
 * status correct` / `withdraw`.
 *
 * The time a report was stored is set with SQL (created_at) to step past
 * the window, or near midnight; everything else goes through the protocol.
 * The clock of the time zone test and of the export is pinned (fake_now).
 * Not for: the duplicate rule (test_duplicates.c).
 */
#include "harness.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT_WAIT_MS 60000

static uint32_t g_msgid = 100;
static int64_t g_eid;       /* 赵李桥镇: it_staff's township */
static int64_t g_eid2;      /* 新店镇: it_staff2's, not it_staff's */
static unsigned g_day;      /* report dates handed out (one per report) */

static int setup(void)
{
    g_eid = it_shared_enterprise(12001, "蒲纺更正测试纺织", "赵李桥镇");
    g_eid2 = it_shared_enterprise(12002, "新店撤回测试茶厂", "新店镇");
    IT_CHECK(g_eid > 0 && g_eid2 > 0);
    return 0;
}

/* ---- helpers ---- */

static void req(it_buf *b, const char *method, size_t nargs)
{
    it_req(b, ++g_msgid, method, nargs);
}
#define call(c, b, m) it_buf_call((c), (b), g_msgid, (m))
#define ok(c, b, m) it_buf_ok((c), (b), g_msgid, (m))
#define err(c, b, code, field) it_buf_err((c), (b), g_msgid, (code), (field))

/* A date of its own for each report (2024-01-01 + n days), so no two
 * reports of this file are duplicates of each other. */
static void next_date(char out[11])
{
    unsigned n = g_day++;
    unsigned y = 2024, m = 1, d = 1 + n;
    static const unsigned days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (d > days[m - 1]) {
        d -= days[m - 1];
        m++;
    }
    snprintf(out, 11, "%04u-%02u-%02u", y, m, d);
}

static it_conn *as(const char *login)
{
    return it_connect_as(it_shared_server()->port, login, IT_PASSWORD);
}

/* status.submit of enterprise eid on date (NULL: today) with an output
 * value; *id of the new report. */
static int submit(it_conn *c, int64_t eid, const char *date, int64_t output, int64_t *id)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "status.submit", date != NULL ? 5 : 4);
    it_kv_int(&b, "enterprise_id", eid);
    if (date != NULL)
        it_kv_str(&b, "report_date", date);
    it_kv_str(&b, "reporter", "刘更正");
    it_kv_str(&b, "production_status", "正常");
    it_kv_int(&b, "output_value", output);
    it_msg m;
    int rc = ok(c, &b, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    int64_t v = 0;
    IT_CHECK(it_get_int(m.result, "id", id) && it_get_int(m.result, "version", &v) && v == 1);
    it_msg_free(&m);
    return 0;
}

/* A report of its own date stored by login; *id. */
static int stored_by(const char *login, int64_t eid, int64_t *id)
{
    it_conn *c = as(login);
    IT_CHECK(c != NULL);
    char date[11];
    next_date(date);
    int rc = submit(c, eid, date, 1000000, id);
    it_close(c);
    return rc;
}

/* status.correct of id at version with output_value and reason. */
static void pack_correct(it_buf *b, int64_t id, int64_t version, int64_t output,
                         const char *reason)
{
    req(b, "status.correct", 4);
    it_kv_int(b, "id", id);
    it_kv_int(b, "version", version);
    it_kv_str(b, "reason", reason);
    it_kv_int(b, "output_value", output);
}

static void pack_withdraw(it_buf *b, int64_t id, int64_t version, const char *reason)
{
    req(b, "status.withdraw", 3);
    it_kv_int(b, "id", id);
    it_kv_int(b, "version", version);
    it_kv_str(b, "reason", reason);
}

/* A change that must succeed; *version of the result. */
static int change_ok(it_conn *c, it_buf *b, int64_t *version)
{
    it_msg m;
    IT_CHECK(ok(c, b, &m) == 0);
    IT_CHECK(it_get_int(m.result, "version", version));
    it_msg_free(&m);
    return 0;
}

/* The report's stored time moved back by days (the window is counted
 * from the day it was stored). */
static int age(int64_t id, int days)
{
    char sid[24], sd[16];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    snprintf(sd, sizeof sd, "%d", days);
    const char *p[] = {sid, sd};
    return it_pg_exec("UPDATE status_report SET created_at = now() - make_interval(days => $2::int)"
                      " WHERE id = $1::bigint",
                      2, p);
}

static long long q1(const char *sql, int64_t id)
{
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    const char *p[] = {sid};
    return it_pg_int(sql, 1, p);
}

/* ---- who may ---- */

/* The staff user who stored a report corrects it, then withdraws it, within
 * the window: each change a new version, the reason kept, who withdrew it
 * and when. */
static int staff_who_stored_it_corrects_and_withdraws_within_the_window(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    IT_CHECK(age(id, 6) == 0);   /* 6 days ago: inside the default 7 */
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_correct(&b, id, 1, 2500000, "产值多录了一个零");
    it_msg m;
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t v = 0, out = 0;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    IT_CHECK(it_get_int(m.result, "output_value", &out) && out == 2500000);
    IT_CHECK(it_get_str_eq(m.result, "reason", "产值多录了一个零"));
    IT_CHECK(it_get_str_eq(m.result, "reporter", "刘更正"));   /* the rest unchanged */
    const msgpack_object *w = it_map_get(m.result, "withdrawn_at");
    IT_CHECK(w != NULL && w->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);

    pack_withdraw(&b, id, 2, "重复走访，撤回");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t by = 0;
    char at[40] = "";
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 3);
    IT_CHECK(it_get_int(m.result, "withdrawn_by", &by) && by == it_user_id(IT_USER_STAFF));
    IT_CHECK(it_get_str(m.result, "withdrawn_at", at, sizeof at) && at[0] == '2');
    IT_CHECK(it_get_str_eq(m.result, "reason", "重复走访，撤回"));
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* Past the window the same user is refused (forbidden, field id), for
 * both changes, and nothing changes; status_correct_days widens it. */
static int staff_after_the_window_is_refused(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    IT_CHECK(age(id, 8) == 0);   /* 8 days ago: the 7-day window is over */
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_correct(&b, id, 1, 1, "太晚了");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    pack_withdraw(&b, id, 1, "太晚了");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    IT_CHECK(q1("SELECT version FROM status_report WHERE id = $1::bigint", id) == 1);
    it_close(c);

    /* The window is a setting: 10 days let the same user change it. */
    const char *sets[] = {"status_correct_days=10", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    int64_t v;
    pack_correct(&b, id, 1, 1, "窗口放宽后更正");
    IT_CHECK(change_ok(c, &b, &v) == 0 && v == 2);
    /* ... and 0 only the day it was stored. */
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    const char *zero[] = {"status_correct_days=0", NULL};
    s = it_server_start(zero);
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    int64_t today_id, yesterday_id;
    char d1[11], d2[11];
    next_date(d1);
    next_date(d2);
    IT_CHECK(submit(c, g_eid, d1, 5, &today_id) == 0);
    IT_CHECK(submit(c, g_eid, d2, 5, &yesterday_id) == 0);
    IT_CHECK(age(yesterday_id, 1) == 0);
    pack_correct(&b, today_id, 1, 6, "当天更正");
    IT_CHECK(change_ok(c, &b, &v) == 0 && v == 2);
    pack_correct(&b, yesterday_id, 1, 6, "隔天更正");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The window is counted in the server's time_zone (Asia/Shanghai), on both
 * ends: a report stored at 23:30 UTC on 10 March was stored on 11 March
 * (07:30 in Beijing), so the default 7 days run until 18 March. With the
 * clock pinned at 23:30 on 18 March in Beijing (still 18 March in UTC) it
 * may be corrected; at 07:00 on 19 March in Beijing (18 March in UTC) it
 * may not. The server's own zone is UTC (TZ), so neither side can be
 * taken from it. Counted from the UTC date the first would be refused,
 * the second allowed with today's UTC date. */
static int window_counts_in_the_server_time_zone(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    char sid[24];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    const char *p[] = {sid};
    IT_CHECK(it_pg_exec("UPDATE status_report SET created_at = '2024-03-10T23:30:00Z'"
                        " WHERE id = $1::bigint", 1, p) == 0);
    const char *env[] = {"TZ=UTC", NULL};
    const char *after[] = {"fake_now=2024-03-19T07:00:00+08:00", NULL};
    it_server *s = it_server_start_env(after, env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_correct(&b, id, 1, 2, "北京时间已过第七天");
    IT_CHECK(call(c, &b, &m) == 0);
    char d[900];
    bool refused = m.is_error && strcmp(m.code, "forbidden") == 0 && strcmp(m.field, "id") == 0 &&
                   strstr(m.message, "stored on 2024-03-11") != NULL &&
                   strstr(m.message, "until 2024-03-18") != NULL;
    IT_CHECKF(refused, "%s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    pack_withdraw(&b, id, 1, "北京时间已过第七天");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    IT_CHECK(q1("SELECT version FROM status_report WHERE id = $1::bigint", id) == 1);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    const char *last_day[] = {"fake_now=2024-03-18T23:30:00+08:00", NULL};
    s = it_server_start_env(last_day, env);
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    int64_t v;
    pack_correct(&b, id, 1, 2, "北京时间第七天的深夜");
    IT_CHECK(change_ok(c, &b, &v) == 0 && v == 2);
    IT_CHECK(q1("SELECT output_value FROM status_report WHERE id = $1::bigint", id) == 2);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Township staff of another township: the report does not exist for them
 * (not_found, field id, the same message as a missing one); staff of the
 * report's township who did not store it: forbidden. */
static int other_staff_see_not_found_or_forbidden(void)
{
    int64_t id, sup_id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    IT_CHECK(stored_by(IT_USER_SUPER, g_eid, &sup_id) == 0);
    it_conn *c2 = as(IT_USER_STAFF2);
    IT_CHECK(c2 != NULL);
    it_buf b;
    it_buf_init(&b);
    char msg[512], missing[512];
    it_msg m;
    pack_correct(&b, id, 1, 1, "不是我的乡镇");
    IT_CHECK(call(c2, &b, &m) == 0);
    IT_CHECK(m.is_error && strcmp(m.code, "not_found") == 0 && strcmp(m.field, "id") == 0);
    snprintf(msg, sizeof msg, "%s", m.message);
    it_msg_free(&m);
    pack_withdraw(&b, id, 1, "不是我的乡镇");
    IT_CHECK(err(c2, &b, "not_found", "id") == 0);
    req(&b, "status.get", 1);
    it_kv_int(&b, "id", id);
    IT_CHECK(err(c2, &b, "not_found", "id") == 0);
    /* A missing report, said in the same words. */
    pack_correct(&b, 9000000000000LL, 1, 1, "没有这条");
    IT_CHECK(call(c2, &b, &m) == 0);
    snprintf(missing, sizeof missing, "%s", m.message);
    it_msg_free(&m);
    char want[512];
    snprintf(want, sizeof want, "status report %lld does not exist", (long long)id);
    IT_CHECK_STR(msg, want);
    IT_CHECK_STR(missing, "status report 9000000000000 does not exist");
    it_close(c2);

    /* it_staff may see the supervisor's report, not change it. */
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    pack_correct(&b, sup_id, 1, 1, "别人录的");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    pack_withdraw(&b, sup_id, 1, "别人录的");
    IT_CHECK(err(c, &b, "forbidden", "id") == 0);
    req(&b, "status.get", 1);
    it_kv_int(&b, "id", sup_id);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* A supervisor changes any report at any time; an admin may not call
 * either method (forbidden, no field: the role). */
static int supervisor_any_time_admin_never(void)
{
    int64_t id, id2;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    IT_CHECK(stored_by(IT_USER_STAFF2, g_eid2, &id2) == 0);
    IT_CHECK(age(id, 400) == 0 && age(id2, 400) == 0);
    it_conn *a = as(IT_USER_ADMIN);
    IT_CHECK(a != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_correct(&b, id, 1, 1, "管理员");
    IT_CHECK(err(a, &b, "forbidden", "") == 0);
    pack_withdraw(&b, id, 1, "管理员");
    IT_CHECK(err(a, &b, "forbidden", "") == 0);
    it_close(a);
    it_conn *s = as(IT_USER_SUPER);
    IT_CHECK(s != NULL);
    int64_t v;
    pack_correct(&b, id, 1, 7, "督办核实后更正");
    IT_CHECK(change_ok(s, &b, &v) == 0 && v == 2);
    pack_withdraw(&b, id2, 1, "督办核实后撤回");
    IT_CHECK(change_ok(s, &b, &v) == 0 && v == 2);
    IT_CHECK(q1("SELECT withdrawn_by FROM status_report WHERE id = $1::bigint", id2) ==
             it_user_id(IT_USER_SUPER));
    it_buf_free(&b);
    it_close(s);
    return 0;
}

/* ---- versions, reasons, withdrawn reports ---- */

static int stale_version_is_a_conflict(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    int64_t v;
    pack_correct(&b, id, 1, 11, "第一次更正");
    IT_CHECK(change_ok(c, &b, &v) == 0 && v == 2);
    pack_correct(&b, id, 1, 12, "基于旧版本");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    pack_withdraw(&b, id, 1, "基于旧版本");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    IT_CHECK(q1("SELECT output_value FROM status_report WHERE id = $1::bigint", id) == 11);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* A withdrawn report is neither corrected nor withdrawn again
 * (invalid_argument, field id), whatever the version. */
static int withdrawn_report_is_never_changed_again(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    it_conn *c = as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    int64_t v;
    pack_withdraw(&b, id, 1, "录错企业");
    IT_CHECK(change_ok(c, &b, &v) == 0 && v == 2);
    pack_correct(&b, id, 2, 1, "再改");
    IT_CHECK(err(c, &b, "invalid_argument", "id") == 0);
    pack_withdraw(&b, id, 2, "再撤");
    IT_CHECK(err(c, &b, "invalid_argument", "id") == 0);
    pack_withdraw(&b, id, 1, "旧版本再撤");
    IT_CHECK(err(c, &b, "invalid_argument", "id") == 0);
    IT_CHECK(q1("SELECT version FROM status_report WHERE id = $1::bigint", id) == 2);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* The reason is required and not blank; a correction names at least one
 * field. */
static int reason_required_and_something_to_correct(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    req(&b, "status.withdraw", 2);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    IT_CHECK(err(c, &b, "invalid_argument", "reason") == 0);
    pack_withdraw(&b, id, 1, " ");
    IT_CHECK(err(c, &b, "invalid_argument", "reason") == 0);
    pack_correct(&b, id, 1, 5, "\xe3\x80\x80");   /* U+3000 alone */
    IT_CHECK(err(c, &b, "invalid_argument", "reason") == 0);
    req(&b, "status.correct", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "reason", "什么也没改");
    IT_CHECK(err(c, &b, "invalid_argument", "") == 0);
    IT_CHECK(q1("SELECT version FROM status_report WHERE id = $1::bigint", id) == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* Corrections keep the rules of a submit: a date after today and an
 * unknown production status are refused; nil clears a nil-able field,
 * absent leaves it. A retry with the same key returns the first result. */
static int correction_values_and_retry(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    req(&b, "status.correct", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "reason", "日期");
    it_kv_str(&b, "report_date", "2999-01-01");
    IT_CHECK(err(c, &b, "invalid_argument", "report_date") == 0);
    req(&b, "status.correct", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "reason", "状态");
    it_kv_str(&b, "production_status", "倒闭");
    IT_CHECK(err(c, &b, "invalid_argument", "production_status") == 0);
    for (int i = 0; i < 2; i++) {
        req(&b, "status.correct", 6);
        it_kv_int(&b, "id", id);
        it_kv_int(&b, "version", 1);
        it_kv_str(&b, "reason", "产值未核实，清空");
        it_kv_nil(&b, "output_value");
        it_kv_int(&b, "employees", 120);
        it_kv_str(&b, "idempotency_key", "corrections-retry-1");
        it_msg m;
        IT_CHECK(ok(c, &b, &m) == 0);
        int64_t v = 0, e = 0;
        const msgpack_object *o = it_map_get(m.result, "output_value");
        IT_CHECK(o != NULL && o->type == MSGPACK_OBJECT_NIL);
        IT_CHECK(it_get_int(m.result, "employees", &e) && e == 120);
        IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);   /* the retry too */
        it_msg_free(&m);
    }
    IT_CHECK(q1("SELECT count(*) FROM audit_log WHERE method = 'status.correct'"
                " AND entity_id = $1::bigint", id) == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- what reads show ---- */

/* status.list leaves a withdrawn report out and shows the corrected
 * values; status.get still answers a withdrawn one, saying so. */
static int list_and_get_after_changes(void)
{
    it_conn *c = as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t keep, gone, v;
    char d1[11], d2[11];
    next_date(d1);
    next_date(d2);
    IT_CHECK(submit(c, g_eid2, d1, 100, &keep) == 0);
    IT_CHECK(submit(c, g_eid2, d2, 200, &gone) == 0);
    it_buf b;
    it_buf_init(&b);
    pack_correct(&b, keep, 1, 150, "核对发票");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    pack_withdraw(&b, gone, 1, "不存在的走访");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    req(&b, "status.list", 4);
    it_kv_int(&b, "enterprise_id", g_eid2);
    it_kv_str(&b, "from", d1);
    it_kv_str(&b, "to", d2);
    it_kv_int(&b, "limit", 500);
    it_msg m;
    IT_CHECK(ok(c, &b, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    bool saw_keep = false, saw_gone = false;
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        int64_t id = 0, out = 0;
        IT_CHECK(it_get_int(&items->via.array.ptr[i], "id", &id));
        if (id == keep) {
            saw_keep = true;
            IT_CHECK(it_get_int(&items->via.array.ptr[i], "output_value", &out) && out == 150);
        }
        saw_gone = saw_gone || id == gone;
    }
    it_msg_free(&m);
    IT_CHECK(saw_keep && !saw_gone);
    req(&b, "status.get", 1);
    it_kv_int(&b, "id", gone);
    IT_CHECK(ok(c, &b, &m) == 0);
    char at[40] = "";
    IT_CHECK(it_get_str(m.result, "withdrawn_at", at, sizeof at) && at[0] == '2');
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* Each change has its audit row: method, before and after as the wire
 * showed the report, the reason in after, the fields that changed. */
static int audit_rows_keep_before_after_and_reason(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    int64_t v;
    pack_correct(&b, id, 1, 3300000, "少录了三十万");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    pack_withdraw(&b, id, 2, "企业已注销，误报");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(q1("SELECT count(*) FROM audit_log WHERE entity = 'status_report'"
                " AND entity_id = $1::bigint AND method = 'status.correct'"
                " AND (before ->> 'output_value')::bigint = 1000000"
                " AND (after ->> 'output_value')::bigint = 3300000"
                " AND after ->> 'reason' = '少录了三十万' AND before -> 'reason' = 'null'"
                " AND changed = ARRAY['output_value', 'reason', 'version']"
                " AND login = 'it_staff'", id) == 1);
    IT_CHECK(q1("SELECT count(*) FROM audit_log WHERE entity = 'status_report'"
                " AND entity_id = $1::bigint AND method = 'status.withdraw'"
                " AND before ->> 'withdrawn_at' IS NULL AND after ->> 'withdrawn_at' IS NOT NULL"
                " AND after ->> 'reason' = '企业已注销，误报'"
                " AND changed = ARRAY['reason', 'version', 'withdrawn_at', 'withdrawn_by']",
                id) == 1);
    /* The report as the audit says it was before the withdrawal. */
    IT_CHECK(q1("SELECT (after ->> 'version')::int FROM audit_log WHERE entity = 'status_report'"
                " AND entity_id = $1::bigint AND method = 'status.submit'", id) == 1);
    return 0;
}

/* todo.mine: an enterprise whose only report this month was withdrawn is
 * not visited (sql/021's rule, which 020's column feeds). */
static int todo_counts_a_withdrawn_visit_as_none(void)
{
    int64_t eid = it_shared_enterprise(12003, "撤回后未走访酒业", "新店镇");
    IT_CHECK(eid > 0);
    it_conn *c = as(IT_USER_STAFF2);
    IT_CHECK(c != NULL);
    int64_t id, v;
    IT_CHECK(submit(c, eid, NULL, 10, &id) == 0);   /* today */
    it_buf b;
    it_buf_init(&b);
    for (int round = 0; round < 2; round++) {
        req(&b, "todo.mine", 1);
        it_kv_int(&b, "limit", 500);
        it_msg m;
        IT_CHECK(ok(c, &b, &m) == 0);
        const msgpack_object *u = it_map_get(m.result, "unvisited");
        const msgpack_object *items = u != NULL ? it_map_get(u, "items") : NULL;
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
        bool listed = false;
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            int64_t x = 0;
            listed = listed || (it_get_int(&items->via.array.ptr[i], "id", &x) && x == eid);
        }
        it_msg_free(&m);
        IT_CHECKF(listed == (round == 1), "round %d: listed %d", round, listed);
        if (round == 0) {
            pack_withdraw(&b, id, 1, "走访记录录错企业");
            IT_CHECK(change_ok(c, &b, &v) == 0);
        }
    }
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- the export ---- */

static char g_dir[256];

/* Runs python3 with a small program; 0 when it exits 0 (its output noted
 * otherwise). */
static int py(const char *prog, const char *arg1, const char *arg2)
{
    const char *argv[] = {"/usr/bin/python3", "-c", prog, arg1, arg2, NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, 60000) == 0);
    bool good = r.status == 0;
    if (!good)
        it_note("python3: %s%s", r.out, r.err);
    it_cli_free(&r);
    return good ? 0 : -1;
}

/* The export's clock: "this month" of its reports is June 2023, when no
 * other report of this file was made (theirs are of 2024 and of today). */
#define EXPORT_NOW "fake_now=2023-06-20T10:00:00+08:00"
/* The two enterprises of 陆水湖街道, the only ones there. */
#define LAKE_KEPT "湖畔撤回测试建材"
#define LAKE_GONE "湖畔未走访测试船厂"

/* reports.xlsx (read with openpyxl, as test_reports.c does) and
 * reports.html count no withdrawn report. In 陆水湖街道 this month
 * (June): LAKE_KEPT's kept report of 30 万元, and its later one of 9000
 * 万元 withdrawn (the month's last report would count: it must not);
 * LAKE_GONE's May report of 10 万元, and its only June report, of 8000
 * 万元, withdrawn. So 本月产值 30, 本年累计产值 40, one enterprise visited
 * this month, one not: LAKE_GONE is in 本月未走访, its last visit in May.
 * argv[1] the run's folder, argv[2] "kept,gone" (the names). */
static const char reports_check[] =
    "import os, re, sys, openpyxl\n"
    "d = sys.argv[1]; kept, gone = sys.argv[2].split(',')\n"
    "wb = openpyxl.load_workbook(os.path.join(d, 'reports.xlsx'))\n"
    "t = [[c.value for c in r] for r in wb['乡镇汇总'].iter_rows()]\n"
    "rows = [dict(zip(t[0], r)) for r in t[1:] if r[0] == '陆水湖街道']\n"
    "assert len(rows) == 1, t\n"
    "got = [rows[0].get(k) for k in ('本月产值(万元)', '本年累计产值(万元)', '本月已走访企业',"
    " '本月未走访企业')]\n"
    "assert got == [30, 40, 1, 1], '乡镇汇总 陆水湖街道 %r' % got\n"
    "m = [[c.value for c in r] for r in wb['本月未走访'].iter_rows()]\n"
    "got = [(r[2], r[6]) for r in m[1:] if r[0] == '陆水湖街道']\n"
    "assert got == [(gone, '2023-05-15')], '本月未走访 %r' % got\n"
    "s = open(os.path.join(d, 'reports.html'), encoding='utf-8').read()\n"
    "def section(n):\n"
    "    x = s[s.index('<section id=\"%s\">' % n):]\n"
    "    return x[:x.index('</section>')]\n"
    "tr = re.search(r'<tr><td>陆水湖街道</td>((?:<td[^>]*>[^<]*</td>)*)</tr>',"
    " section('乡镇汇总'))\n"
    "assert tr is not None, 'the page has no row of 陆水湖街道'\n"
    "cells = re.findall(r'<td[^>]*>([^<]*)</td>', tr.group(1))\n"
    "assert cells[-6:-4] == ['30.00', '40.00'] and cells[-2:] == ['1', '1'], cells\n"
    "x = section('本月未走访')\n"
    "assert gone in x and kept not in x and '2023-05-15' in x, x[-800:]\n";

/* status_reports.csv shows a corrected report with its new value and
 * leaves a withdrawn one out; the manifest says how many were left out
 * (all withdrawn reports of the database, in the run's snapshot); the
 * reports count no withdrawn report (reports_check). */
static int export_shows_corrections_and_leaves_withdrawn_out(void)
{
    int64_t lake_kept = it_shared_enterprise(12004, LAKE_KEPT, "陆水湖街道");
    int64_t lake_gone = it_shared_enterprise(12005, LAKE_GONE, "陆水湖街道");
    IT_CHECK(lake_kept > 0 && lake_gone > 0);
    snprintf(g_dir, sizeof g_dir, "/tmp/bb-corrections-%d", (int)getpid());
    char set[300];
    snprintf(set, sizeof set, "export_dir=%s", g_dir);
    const char *sets[] = {set, "export_time=", EXPORT_NOW, NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_SUPER, IT_PASSWORD);
    IT_CHECK(c != NULL);
    int64_t fixed, gone, v;
    char d1[11], d2[11];
    next_date(d1);
    next_date(d2);
    IT_CHECK(submit(c, g_eid, d1, 4000000, &fixed) == 0);
    IT_CHECK(submit(c, g_eid, d2, 5000000, &gone) == 0);
    it_buf b;
    it_buf_init(&b);
    pack_correct(&b, fixed, 1, 4200000, "按报表更正");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    pack_withdraw(&b, gone, 1, "重复录入");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    /* 陆水湖街道 (reports_check): each enterprise's later report withdrawn. */
    int64_t lake[4];
    IT_CHECK(submit(c, lake_kept, "2023-06-05", 300000, &lake[0]) == 0);
    IT_CHECK(submit(c, lake_kept, "2023-06-10", 90000000, &lake[1]) == 0);
    IT_CHECK(submit(c, lake_gone, "2023-05-15", 100000, &lake[2]) == 0);
    IT_CHECK(submit(c, lake_gone, "2023-06-08", 80000000, &lake[3]) == 0);
    pack_withdraw(&b, lake[1], 1, "多录了两个零");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    pack_withdraw(&b, lake[3], 1, "走访记录录错企业");
    IT_CHECK(change_ok(c, &b, &v) == 0);
    long long withdrawn = it_pg_int("SELECT count(*) FROM status_report"
                                    " WHERE withdrawn_at IS NOT NULL", 0, NULL);
    IT_CHECK(withdrawn >= 1);
    req(&b, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, EXPORT_WAIT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    char status[16] = "", folder[64] = "";
    IT_CHECKF(!m.is_error && it_get_str(m.result, "status", status, sizeof status) &&
                  strcmp(status, "ok") == 0 &&
                  it_get_str(m.result, "folder", folder, sizeof folder),
              "export.run: %s %s", m.code, m.message);
    it_msg_free(&m);
    char path[512], want[64], ids[64];
    snprintf(path, sizeof path, "%s/%s", g_dir, folder);
    snprintf(want, sizeof want, "%lld", withdrawn);
    snprintf(ids, sizeof ids, "%lld,%lld", (long long)fixed, (long long)gone);
    /* The count of the manifest. */
    char prog[256];
    snprintf(prog, sizeof prog,
             "import json, os, sys\n"
             "m = json.load(open(os.path.join(sys.argv[1], 'manifest.json')))\n"
             "sys.exit(0 if m['withdrawn_status_reports'] == %s else 1)\n",
             want);
    IT_CHECK(py(prog, path, "") == 0);
    IT_CHECK(py("import csv, io, os, sys\n"
                "d = sys.argv[1]; fixed, gone = sys.argv[2].split(',')\n"
                "rows = list(csv.DictReader(io.StringIO(open(os.path.join(d, "
                "'status_reports.csv'), encoding='utf-8-sig').read(), newline='')))\n"
                "by = {r['编号']: r for r in rows}\n"
                "assert fixed in by and by[fixed]['产值(元)'] == '4200000', by.get(fixed)\n"
                "assert gone not in by, 'the withdrawn report is in the file'\n",
                path, ids) == 0);
    IT_CHECK(py(reports_check, path, LAKE_KEPT "," LAKE_GONE) == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    const char *rm[] = {"rm", "-rf", g_dir, NULL};
    it_cli r;
    if (it_run(&r, rm, 30000) == 0)
        it_cli_free(&r);
    return 0;
}

/* ---- problem.correct ---- */

/* A problem's text corrected with a reason: the new description, a new
 * version, the audit record's before (the old text) and after (the new
 * text and the reason); a stale version, a blank reason and a problem of
 * another township refused; an admin may not. */
static int problem_text_is_corrected_with_a_reason(void)
{
    it_conn *c = as(IT_USER_STAFF);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid);
    it_kv_str(&b, "category", "用工");
    it_kv_str(&b, "description", "缺工人三十人");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t pid = 0, v = 0;
    IT_CHECK(it_get_int(m.result, "id", &pid) && it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    req(&b, "problem.correct", 4);
    it_kv_int(&b, "id", pid);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "description", "缺工三十人，其中技工十人");
    it_kv_str(&b, "reason", "补充技工人数");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t v2 = 0;
    IT_CHECK(it_get_int(m.result, "version", &v2) && v2 == v + 1);
    IT_CHECK(it_get_str_eq(m.result, "description", "缺工三十人，其中技工十人"));
    it_msg_free(&m);
    IT_CHECK(q1("SELECT count(*) FROM audit_log WHERE entity = 'problem'"
                " AND entity_id = $1::bigint AND method = 'problem.correct'"
                " AND before ->> 'description' = '缺工人三十人'"
                " AND after ->> 'description' = '缺工三十人，其中技工十人'"
                " AND after ->> 'reason' = '补充技工人数'"
                " AND 'reason' = ANY (changed) AND 'description' = ANY (changed)", pid) == 1);
    req(&b, "problem.correct", 4);
    it_kv_int(&b, "id", pid);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "description", "旧版本上改");
    it_kv_str(&b, "reason", "冲突");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    req(&b, "problem.correct", 4);
    it_kv_int(&b, "id", pid);
    it_kv_int(&b, "version", v2);
    it_kv_str(&b, "description", "没有原因");
    it_kv_str(&b, "reason", "\xe3\x80\x80");
    IT_CHECK(err(c, &b, "invalid_argument", "reason") == 0);
    it_close(c);
    it_conn *c2 = as(IT_USER_STAFF2);
    IT_CHECK(c2 != NULL);
    req(&b, "problem.correct", 4);
    it_kv_int(&b, "id", pid);
    it_kv_int(&b, "version", v2);
    it_kv_str(&b, "description", "别的乡镇");
    it_kv_str(&b, "reason", "不该看到");
    IT_CHECK(err(c2, &b, "not_found", "id") == 0);
    it_close(c2);
    it_conn *a = as(IT_USER_ADMIN);
    IT_CHECK(a != NULL);
    req(&b, "problem.correct", 4);
    it_kv_int(&b, "id", pid);
    it_kv_int(&b, "version", v2);
    it_kv_str(&b, "description", "管理员");
    it_kv_str(&b, "reason", "管理员");
    IT_CHECK(err(a, &b, "forbidden", "") == 0);
    it_close(a);
    it_buf_free(&b);
    IT_CHECK(q1("SELECT version FROM problem WHERE id = $1::bigint", pid) == v2);
    return 0;
}

/* ---- the CLI ---- */

/* `baobao status correct ID` (its version read with status.get) and
 * `baobao status withdraw ID`, as the township staff user who stored it. */
static int cli_corrects_and_withdraws(void)
{
    int64_t id;
    IT_CHECK(stored_by(IT_USER_STAFF, g_eid, &id) == 0);
    char server[64], sid[24];
    snprintf(server, sizeof server, "127.0.0.1:%d", it_shared_server()->port);
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    const char *env[] = {"BAOBAO_USER=" IT_USER_STAFF, "BAOBAO_LANG=zh_CN", NULL};
    const char *correct[] = {"status", "correct", sid, "--output-value", "120万",
                             "--reason", "少写了二十万", NULL};
    it_cli r;
    IT_CHECK(it_cli_run_env(&r, server, 30000, correct, env) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);
    IT_CHECK(q1("SELECT output_value FROM status_report WHERE id = $1::bigint", id) == 1200000);
    const char *withdraw[] = {"status", "withdraw", sid, "--reason", "重复录入", "--json", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, withdraw, env) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "\"withdrawn_at\": \"") != NULL, "exit %d: %s%s",
              r.status, r.out, r.err);
    it_cli_free(&r);
    /* Again: refused, exit 1, in Chinese with the code in brackets. */
    IT_CHECK(it_cli_run_env(&r, server, 30000, withdraw, env) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "invalid_argument") != NULL, "exit %d: %s%s",
              r.status, r.out, r.err);
    it_cli_free(&r);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"staff_who_stored_it_corrects_and_withdraws_within_the_window",
         staff_who_stored_it_corrects_and_withdraws_within_the_window},
        {"staff_after_the_window_is_refused", staff_after_the_window_is_refused},
        {"window_counts_in_the_server_time_zone", window_counts_in_the_server_time_zone},
        {"other_staff_see_not_found_or_forbidden", other_staff_see_not_found_or_forbidden},
        {"supervisor_any_time_admin_never", supervisor_any_time_admin_never},
        {"stale_version_is_a_conflict", stale_version_is_a_conflict},
        {"withdrawn_report_is_never_changed_again", withdrawn_report_is_never_changed_again},
        {"reason_required_and_something_to_correct", reason_required_and_something_to_correct},
        {"correction_values_and_retry", correction_values_and_retry},
        {"list_and_get_after_changes", list_and_get_after_changes},
        {"audit_rows_keep_before_after_and_reason", audit_rows_keep_before_after_and_reason},
        {"todo_counts_a_withdrawn_visit_as_none", todo_counts_a_withdrawn_visit_as_none},
        {"export_shows_corrections_and_leaves_withdrawn_out",
         export_shows_corrections_and_leaves_withdrawn_out},
        {"problem_text_is_corrected_with_a_reason", problem_text_is_corrected_with_a_reason},
        {"cli_corrects_and_withdraws", cli_corrects_and_withdraws},
    };
    return it_main(argc, argv, "corrections", tests, sizeof tests / sizeof tests[0], setup);
}
