/*
 * test_problems.c: problems (诉求) and the troubled-enterprise file (困难企业)
 * against a real server: the default deadline (5 working days, in the
 * server's time zone with a pinned clock at the Beijing/UTC day boundary),
 * the workflow 受理 → 交办 → 办理 → 反馈 → 确认 and each refusal's code and
 * field, reopening, assignment rules, the events problem.get shows, the
 * audit rows, idempotent retries, list filters and keyset pages, scope for
 * township staff and roles, and trouble.set/get/list with exact decimals;
 * and the `baobao problem` / `baobao trouble` commands.
 *
 * Units and officials are inserted with SQL (their methods are another
 * file's); everything else goes through the protocol.
 * Not for: overdue and due-soon queries (test_overdue.c).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2024-03-01 07:30 in Beijing is 2024-02-29 23:30 UTC: a Friday there, a
 * Thursday in UTC. Five working days after Friday 1 March is Friday 8
 * March; after Thursday 29 February it would be Thursday 7 March. */
#define FAKE_NOW "fake_now=2024-03-01T07:30:00+08:00"

static uint32_t g_msgid = 100;
static int64_t g_eid_zlq;     /* 赵李桥镇: in it_staff's scope */
static int64_t g_eid_xd;      /* 新店镇: in it_staff2's, not it_staff's */
static int64_t g_eid_gx;      /* 高新技术产业园区: it_staff's too */
static int64_t g_unit;        /* a unit (SQL) */
static int64_t g_official;    /* an official (SQL) */

static int64_t sql_id(const char *sql, int n, const char *const *p)
{
    long long v = it_pg_int(sql, n, p);
    return v;
}

static int setup(void)
{
    g_eid_zlq = it_shared_enterprise(8101, "龙兴无纺布", "赵李桥镇");
    g_eid_xd = it_shared_enterprise(8102, "润坊卫生湿巾", "新店镇");
    g_eid_gx = it_shared_enterprise(8103, "诚森桦泰智能电子数码", "高新技术产业园区");
    IT_CHECK(g_eid_zlq > 0 && g_eid_xd > 0 && g_eid_gx > 0);
    g_unit = sql_id("INSERT INTO unit (name) VALUES ('自然资源和规划局') RETURNING id", 0, NULL);
    IT_CHECK(g_unit > 0);
    char u[24];
    snprintf(u, sizeof u, "%lld", (long long)g_unit);
    const char *p[] = {u};
    g_official = sql_id("INSERT INTO official (name, title, unit_id) VALUES ('王建国', '副局长', $1)"
                        " RETURNING id",
                        1, p);
    IT_CHECK(g_official > 0);
    return 0;
}

/* ---- helpers ---- */

static void req(it_buf *b, const char *method, size_t nargs)
{
    it_req(b, ++g_msgid, method, nargs);
}

/* One request of this file (msgid g_msgid) and its response: harness.h. */
#define call(c, b, m) it_buf_call((c), (b), g_msgid, (m))
#define ok(c, b, m) it_buf_ok((c), (b), g_msgid, (m))
#define err(c, b, code, field) it_buf_err((c), (b), g_msgid, (code), (field))

/* The same, keeping the message for comparisons. */
static int err_msg(it_conn *c, it_buf *b, const char *code, const char *field, char *msg,
                   size_t cap)
{
    it_msg m;
    IT_CHECK(call(c, b, &m) == 0);
    char d[1200];
    bool good = m.is_error && strcmp(m.code, code) == 0 && strcmp(m.field, field) == 0;
    if (!good)
        it_fail(__FILE__, __LINE__, "expected %s (field \"%s\"), got %s", code, field,
                it_describe(&m, d, sizeof d));
    snprintf(msg, cap, "%s", m.message);
    it_msg_free(&m);
    return good ? 0 : -1;
}

/* problem.create with the usual arguments; unit 0 = none, deadline NULL =
 * default. *id and *version of the new problem. */
static int create_problem(it_conn *c, int64_t eid, const char *category, const char *desc,
                          int64_t unit, const char *deadline, int64_t *id, int64_t *version)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.create", 3 + (unit ? 1 : 0) + (deadline ? 1 : 0));
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "category", category);
    it_kv_str(&b, "description", desc);
    if (unit)
        it_kv_int(&b, "assignee_unit_id", unit);
    if (deadline)
        it_kv_str(&b, "deadline", deadline);
    it_msg m;
    int rc = ok(c, &b, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    IT_CHECK(it_get_int(m.result, "id", id));
    IT_CHECK(it_get_int(m.result, "version", version));
    it_msg_free(&m);
    return 0;
}

/* problem.advance to to_state from version; *version becomes the new one. */
static int advance(it_conn *c, int64_t id, int64_t *version, const char *to_state)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", *version);
    it_kv_str(&b, "to_state", to_state);
    it_msg m;
    int rc = ok(c, &b, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    IT_CHECKF(it_get_str_eq(m.result, "state", to_state), "state after advance to %s", to_state);
    IT_CHECK(it_get_int(m.result, "version", version));
    it_msg_free(&m);
    return 0;
}

static int assign_unit(it_conn *c, int64_t id, int64_t *version, int64_t unit)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", *version);
    it_kv_int(&b, "assignee_unit_id", unit);
    it_msg m;
    int rc = ok(c, &b, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    IT_CHECK(it_get_int(m.result, "version", version));
    it_msg_free(&m);
    return 0;
}

static long long count_rows(const char *sql, int64_t id)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)id);
    const char *p[] = {t};
    return it_pg_int(sql, 1, p);
}

static bool is_nil(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = it_map_get(map, key);
    return v != NULL && v->type == MSGPACK_OBJECT_NIL;
}

/* ---- tests ---- */

/* The default deadline is 5 working days after today in the server's
 * time zone: at 07:30 on Friday 1 March in Beijing (still Thursday in UTC)
 * that is Friday 8 March. */
static int default_deadline_is_five_working_days_in_the_server_zone(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用工");
    it_kv_str(&b, "description", "缺少熟练挡车工 30 人\n希望人社局帮助招聘");
    it_msg m;
    IT_CHECK(ok(c, &b, &m) == 0);
    char d[1200];
    IT_CHECKF(it_get_str_eq(m.result, "deadline", "2024-03-08"), "%s",
              it_describe(&m, d, sizeof d));
    IT_CHECK(it_get_str_eq(m.result, "state", "受理"));
    IT_CHECK(it_get_str_eq(m.result, "township", "赵李桥镇"));
    IT_CHECK(it_get_str_eq(m.result, "enterprise_name", "龙兴无纺布"));
    IT_CHECK(is_nil(m.result, "closed_at"));
    IT_CHECK(is_nil(m.result, "assignee_unit_id"));
    IT_CHECK(m.result->type == MSGPACK_OBJECT_MAP && m.result->via.map.size == 17);
    it_msg_free(&m);
    /* A deadline of today is accepted; yesterday (29 Feb) is refused. */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用电");
    it_kv_str(&b, "description", "变压器增容");
    it_kv_str(&b, "deadline", "2024-03-01");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "deadline", "2024-03-01"));
    it_msg_free(&m);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用电");
    it_kv_str(&b, "description", "变压器增容");
    it_kv_str(&b, "deadline", "2024-02-29");
    IT_CHECK(err(c, &b, "invalid_argument", "deadline") == 0);
    it_buf_free(&b);
    return 0;
}

/* The working-day arithmetic across weekends, month ends and 29 Feb. */
static int working_days_skip_weekends(void)
{
    static const struct {
        const char *from, *want;
    } cases[] = {
        {"2024-03-01", "2024-03-08"},  /* Friday */
        {"2024-03-02", "2024-03-08"},  /* Saturday */
        {"2024-03-03", "2024-03-08"},  /* Sunday */
        {"2024-02-26", "2024-03-04"},  /* Monday, over 29 Feb */
        {"2023-12-28", "2024-01-04"},  /* Thursday, over the year end */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p[] = {cases[i].from, cases[i].want};
        long long same = it_pg_int("SELECT (bb_add_working_days($1::date, 5) = $2::date)::int",
                                   2, p);
        IT_CHECKF(same == 1, "5 working days after %s should be %s", cases[i].from,
                  cases[i].want);
    }
    return 0;
}

static int create_refusals_name_their_field(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    /* unknown category */
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "税收");
    it_kv_str(&b, "description", "x");
    IT_CHECK(err(c, &b, "invalid_argument", "category") == 0);
    /* missing description */
    req(&b, "problem.create", 2);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    IT_CHECK(err(c, &b, "invalid_argument", "description") == 0);
    /* a control character in the description (tab and newline are fine) */
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "a\x01" "b");
    IT_CHECK(err(c, &b, "invalid_argument", "description") == 0);
    /* deadline not a date; nil deadline */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    it_kv_str(&b, "deadline", "2024-02-30");
    IT_CHECK(err(c, &b, "invalid_argument", "deadline") == 0);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    it_kv_nil(&b, "deadline");
    IT_CHECK(err(c, &b, "invalid_argument", "deadline") == 0);
    /* unknown argument */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    it_kv_str(&b, "assignee", "x");
    IT_CHECK(err(c, &b, "invalid_argument", "assignee") == 0);
    /* a missing enterprise */
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", 987654321);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    IT_CHECK(err(c, &b, "not_found", "enterprise_id") == 0);
    /* unknown unit, unknown official */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    it_kv_int(&b, "assignee_unit_id", 987654321);
    IT_CHECK(err(c, &b, "not_found", "assignee_unit_id") == 0);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    it_kv_int(&b, "assignee_official_id", 987654321);
    IT_CHECK(err(c, &b, "not_found", "assignee_official_id") == 0);
    /* a status report of another enterprise */
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)g_eid_gx);
    const char *p[] = {e};
    int64_t sr = it_pg_int("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                           " production_status) VALUES ($1, '2024-01-10', '李四', '正常')"
                           " RETURNING id",
                           1, p);
    IT_CHECK(sr > 0);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_int(&b, "status_report_id", sr);
    it_kv_str(&b, "category", "用地");
    it_kv_str(&b, "description", "x");
    IT_CHECK(err(c, &b, "invalid_argument", "status_report_id") == 0);
    /* ... and of its own enterprise: accepted, with the report's id */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_gx);
    it_kv_int(&b, "status_report_id", sr);
    it_kv_str(&b, "category", "融资");
    it_kv_str(&b, "description", "流动资金贷款 500 万元");
    it_msg m;
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t got;
    IT_CHECK(it_get_int(m.result, "status_report_id", &got) && got == sr);
    it_msg_free(&m);
    /* Nothing refused was stored. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM problem WHERE description = 'x'", 0, NULL) == 0);
    it_buf_free(&b);
    return 0;
}

/* The whole workflow, with every refusal on the way. */
static int workflow_moves_one_step_forward_and_records_who_and_when(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t id, v;
    IT_CHECK(create_problem(c, g_eid_zlq, "用地", "厂房扩建用地指标 20 亩", 0, NULL, &id, &v) == 0);
    IT_CHECK(v == 1);
    it_buf b;
    it_buf_init(&b);
    /* 交办 needs an assignee */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "交办");
    IT_CHECK(err(c, &b, "invalid_argument", "to_state") == 0);
    /* a jump (受理 → 办理) */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "办理");
    IT_CHECK(err(c, &b, "invalid_argument", "to_state") == 0);
    /* not a state at all */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "完成");
    IT_CHECK(err(c, &b, "invalid_argument", "to_state") == 0);
    IT_CHECK(assign_unit(c, id, &v, g_unit) == 0);
    IT_CHECK(v == 2);
    /* a stale version */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "to_state", "交办");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    IT_CHECK(advance(c, id, &v, "交办") == 0);
    /* backwards */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "受理");
    IT_CHECK(err(c, &b, "invalid_argument", "to_state") == 0);
    /* with a note (newlines allowed) */
    req(&b, "problem.advance", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "办理");
    it_kv_str(&b, "note", "自规局已受理\n正在组卷");
    it_msg m;
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    IT_CHECK(advance(c, id, &v, "反馈") == 0);
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "确认");
    IT_CHECK(ok(c, &b, &m) == 0);
    char closed[64];
    IT_CHECK(it_get_str(m.result, "closed_at", closed, sizeof closed) && strlen(closed) == 27);
    IT_CHECK(it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    /* closed: no further step */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "to_state", "确认");
    IT_CHECK(err(c, &b, "invalid_argument", "to_state") == 0);
    /* assign on a closed problem */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_int(&b, "assignee_official_id", g_official);
    IT_CHECK(err(c, &b, "invalid_argument", "id") == 0);
    /* reopen needs a reason, the current version */
    req(&b, "problem.reopen", 2);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    IT_CHECK(err(c, &b, "invalid_argument", "reason") == 0);
    req(&b, "problem.reopen", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v - 1);
    it_kv_str(&b, "reason", "企业反映用地指标仍未落实");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    req(&b, "problem.reopen", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "reason", "企业反映用地指标仍未落实");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "state", "办理"));
    IT_CHECK(is_nil(m.result, "closed_at"));
    IT_CHECK(it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    /* reopen of an open problem */
    req(&b, "problem.reopen", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "reason", "again");
    IT_CHECK(err(c, &b, "invalid_argument", "id") == 0);

    /* problem.get: the problem and its events, oldest first */
    req(&b, "problem.get", 1);
    it_kv_int(&b, "id", id);
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(m.result->type == MSGPACK_OBJECT_MAP && m.result->via.map.size == 18);
    IT_CHECK(it_get_str_eq(m.result, "assignee_unit", "自然资源和规划局"));
    const msgpack_object *ev = it_map_get(m.result, "events");
    static const char *const want_from[] = {NULL, "受理", "交办", "办理", "反馈", "确认"};
    static const char *const want_to[] = {"受理", "交办", "办理", "反馈", "确认", "办理"};
    static const char *const want_note[] = {NULL, NULL, "自规局已受理\n正在组卷", NULL, NULL,
                                            "企业反映用地指标仍未落实"};
    IT_CHECK(ev != NULL && ev->type == MSGPACK_OBJECT_ARRAY && ev->via.array.size == 6);
    int64_t super = it_user_id(IT_USER_SUPER);
    int64_t prev_id = 0;
    for (uint32_t i = 0; i < ev->via.array.size; i++) {
        const msgpack_object *e = &ev->via.array.ptr[i];
        IT_CHECK(e->type == MSGPACK_OBJECT_MAP && e->via.map.size == 7);
        IT_CHECK(it_get_str_eq(e, "user", IT_USER_SUPER));
        int64_t uid, eid;
        IT_CHECK(it_get_int(e, "user_id", &uid) && uid == super);
        IT_CHECK(it_get_int(e, "id", &eid) && eid > prev_id);
        prev_id = eid;
        char at[64];
        IT_CHECK(it_get_str(e, "at", at, sizeof at) && strlen(at) == 27);
        IT_CHECKF(want_from[i] == NULL ? is_nil(e, "from_state")
                                       : it_get_str_eq(e, "from_state", want_from[i]),
                  "event %u from_state", i);
        IT_CHECKF(it_get_str_eq(e, "to_state", want_to[i]), "event %u to_state", i);
        IT_CHECKF(want_note[i] == NULL ? is_nil(e, "note") : it_get_str_eq(e, "note", want_note[i]),
                  "event %u note", i);
    }
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

static int assign_keeps_an_assignee_and_a_future_deadline(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t id, v;
    IT_CHECK(create_problem(c, g_eid_zlq, "审批", "环评审批", g_unit, NULL, &id, &v) == 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    /* at 受理 an assignee may be cleared (nil) and set again */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_nil(&b, "assignee_unit_id");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(is_nil(m.result, "assignee_unit_id") && is_nil(m.result, "assignee_unit"));
    IT_CHECK(it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    req(&b, "problem.assign", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_int(&b, "assignee_official_id", g_official);
    it_kv_str(&b, "deadline", "2099-12-31");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "assignee_official", "王建国"));
    IT_CHECK(it_get_str_eq(m.result, "deadline", "2099-12-31"));
    IT_CHECK(it_get_int(m.result, "version", &v));
    it_msg_free(&m);
    IT_CHECK(advance(c, id, &v, "交办") == 0);
    /* past 受理 the last assignee cannot be removed */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_nil(&b, "assignee_official_id");
    IT_CHECK(err(c, &b, "invalid_argument", "assignee_unit_id") == 0);
    /* a deadline in the past */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "deadline", "2001-01-01");
    IT_CHECK(err(c, &b, "invalid_argument", "deadline") == 0);
    /* an official that does not exist */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", v);
    it_kv_int(&b, "assignee_official_id", 987654321);
    IT_CHECK(err(c, &b, "not_found", "assignee_official_id") == 0);
    /* a problem that does not exist */
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", 987654321);
    it_kv_int(&b, "version", 1);
    it_kv_int(&b, "assignee_unit_id", g_unit);
    IT_CHECK(err(c, &b, "not_found", "id") == 0);
    /* the refusals changed nothing */
    IT_CHECK(count_rows("SELECT version FROM problem WHERE id = $1", id) == v);
    it_buf_free(&b);
    return 0;
}

/* Every write leaves one audit row with the Problem before and after; a
 * refused write leaves none. */
static int every_write_is_audited_once(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t id, v;
    IT_CHECK(create_problem(c, g_eid_zlq, "物流", "货运通道", g_unit, NULL, &id, &v) == 0);
    IT_CHECK(advance(c, id, &v, "交办") == 0);
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "to_state", "办理");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    it_buf_free(&b);
    IT_CHECK(count_rows("SELECT count(*) FROM audit_log WHERE entity = 'problem'"
                        " AND entity_id = $1",
                        id) == 2);
    IT_CHECK(count_rows("SELECT count(*) FROM audit_log WHERE entity = 'problem'"
                        " AND entity_id = $1 AND method = 'problem.create' AND before IS NULL"
                        " AND (after ->> 'state') = '受理'",
                        id) == 1);
    IT_CHECK(count_rows("SELECT count(*) FROM audit_log WHERE entity = 'problem'"
                        " AND entity_id = $1 AND method = 'problem.advance'"
                        " AND (before ->> 'state') = '受理' AND (after ->> 'state') = '交办'"
                        " AND changed @> ARRAY['state', 'version']",
                        id) == 1);
    return 0;
}

static int a_retry_with_the_same_key_returns_the_first_result(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m1, m2;
    for (int i = 0; i < 2; i++) {
        req(&b, "problem.create", 4);
        it_kv_int(&b, "enterprise_id", g_eid_zlq);
        it_kv_str(&b, "category", "市场");
        it_kv_str(&b, "description", "开拓海外市场");
        it_kv_str(&b, "idempotency_key", "prob-idem-1");
        IT_CHECK(ok(c, &b, i == 0 ? &m1 : &m2) == 0);
    }
    int64_t id1, id2;
    IT_CHECK(it_get_int(m1.result, "id", &id1) && it_get_int(m2.result, "id", &id2));
    IT_CHECK(id1 == id2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM problem WHERE description = '开拓海外市场'", 0,
                       NULL) == 1);
    it_msg_free(&m1);
    it_msg_free(&m2);
    /* other arguments, same key */
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "市场");
    it_kv_str(&b, "description", "开拓国内市场");
    it_kv_str(&b, "idempotency_key", "prob-idem-1");
    IT_CHECK(err(c, &b, "idempotency_key_reused", "idempotency_key") == 0);
    /* another user, same key and arguments */
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c2 != NULL);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_eid_zlq);
    it_kv_str(&b, "category", "市场");
    it_kv_str(&b, "description", "开拓海外市场");
    it_kv_str(&b, "idempotency_key", "prob-idem-1");
    IT_CHECK(err(c2, &b, "idempotency_key_reused", "idempotency_key") == 0);
    /* an advance retried: the first result, not version_conflict */
    int64_t v = 1;
    IT_CHECK(assign_unit(c, id1, &v, g_unit) == 0);
    for (int i = 0; i < 2; i++) {
        req(&b, "problem.advance", 4);
        it_kv_int(&b, "id", id1);
        it_kv_int(&b, "version", v);
        it_kv_str(&b, "to_state", "交办");
        it_kv_str(&b, "idempotency_key", "prob-idem-adv");
        IT_CHECK(ok(c, &b, i == 0 ? &m1 : &m2) == 0);
    }
    int64_t v1, v2;
    IT_CHECK(it_get_int(m1.result, "version", &v1) && it_get_int(m2.result, "version", &v2));
    IT_CHECK(v1 == v + 1 && v2 == v1);
    IT_CHECK(count_rows("SELECT count(*) FROM problem_event WHERE problem_id = $1", id1) == 2);
    it_msg_free(&m1);
    it_msg_free(&m2);
    it_buf_free(&b);
    return 0;
}

/* Reads the ids of one list page into ids (at most cap); *next 0 = last. */
static int list_page(it_conn *c, it_buf *b, size_t *n, int64_t *ids, size_t cap, int64_t *next)
{
    it_msg m;
    IT_CHECK(ok(c, b, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    const msgpack_object *nx = it_map_get(m.result, "next");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && nx != NULL);
    IT_CHECK(m.result->via.map.size == 2);
    *n = 0;
    for (uint32_t i = 0; i < items->via.array.size && *n < cap; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        int64_t id;
        IT_CHECK(it_get_int(it, "id", &id) || it_get_int(it, "enterprise_id", &id));
        ids[(*n)++] = id;
    }
    *next = 0;
    if (nx->type != MSGPACK_OBJECT_NIL)
        IT_CHECK(it_obj_int(nx, next) && *next > 0);
    it_msg_free(&m);
    return 0;
}

static int list_filters_and_pages_return_each_problem_once(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t ent = it_shared_enterprise(8120, "荟海药业", "神山镇");
    IT_CHECK(ent > 0);
    int64_t ids[9], v;
    for (int i = 0; i < 9; i++)
        IT_CHECK(create_problem(c, ent, "其他", "列表测试", i % 3 == 0 ? g_unit : 0, NULL,
                                &ids[i], &v) == 0);
    /* close ids[0] */
    v = 1;
    IT_CHECK(advance(c, ids[0], &v, "交办") == 0);
    IT_CHECK(advance(c, ids[0], &v, "办理") == 0);
    IT_CHECK(advance(c, ids[0], &v, "反馈") == 0);
    IT_CHECK(advance(c, ids[0], &v, "确认") == 0);
    it_buf b;
    it_buf_init(&b);
    /* pages of 2 by enterprise: all 9, each once, ascending */
    int64_t seen[32], page[8], next = 0;
    size_t nseen = 0, n;
    do {
        req(&b, "problem.list", next ? 3 : 2);
        it_kv_int(&b, "enterprise_id", ent);
        it_kv_int(&b, "limit", 2);
        if (next)
            it_kv_int(&b, "after", next);
        IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
        IT_CHECK(n <= 2);
        for (size_t i = 0; i < n && nseen < 32; i++)
            seen[nseen++] = page[i];
    } while (next != 0);
    IT_CHECKF(nseen == 9, "paged %zu problems, expected 9", nseen);
    for (size_t i = 0; i < 9; i++)
        IT_CHECK(seen[i] == ids[i]);
    /* open_only leaves out the closed one */
    req(&b, "problem.list", 2);
    it_kv_int(&b, "enterprise_id", ent);
    msgpack_pack_str(&b.pk, 9);
    msgpack_pack_str_body(&b.pk, "open_only", 9);
    msgpack_pack_true(&b.pk);
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 8 && page[0] == ids[1] && next == 0);
    /* state 确认 */
    req(&b, "problem.list", 2);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_str(&b, "state", "确认");
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 1 && page[0] == ids[0]);
    /* by unit */
    req(&b, "problem.list", 2);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_int(&b, "assignee_unit_id", g_unit);
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 3 && page[0] == ids[0] && page[1] == ids[3] && page[2] == ids[6]);
    /* by township: 神山镇 holds only this enterprise's problems */
    req(&b, "problem.list", 2);
    it_kv_str(&b, "township", "神山镇");
    it_kv_int(&b, "limit", 8);
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 8 && next == page[7]);
    /* an unknown township matches nothing; a bad state is refused */
    req(&b, "problem.list", 1);
    it_kv_str(&b, "township", "不存在镇");
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 0 && next == 0);
    req(&b, "problem.list", 1);
    it_kv_str(&b, "state", "完成");
    IT_CHECK(err(c, &b, "invalid_argument", "state") == 0);
    req(&b, "problem.list", 1);
    it_kv_int(&b, "open_only", 1);
    IT_CHECK(err(c, &b, "invalid_argument", "open_only") == 0);
    req(&b, "problem.list", 1);
    it_kv_int(&b, "limit", 100000);
    IT_CHECK(err(c, &b, "invalid_argument", "limit") == 0);
    req(&b, "problem.list", 1);
    it_kv_nil(&b, "after");
    IT_CHECK(err(c, &b, "invalid_argument", "after") == 0);
    it_buf_free(&b);
    return 0;
}

/* Township staff see and change only problems and files of their
 * townships; outside them the answer is exactly that of a missing one. */
static int township_staff_see_only_their_townships(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *sup = it_connect(s->port);
    it_conn *st = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *st2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(sup != NULL && st != NULL && st2 != NULL && adm != NULL);
    int64_t xd, v;
    IT_CHECK(create_problem(sup, g_eid_xd, "用工", "新店镇的诉求", 0, NULL, &xd, &v) == 0);
    /* staff of 新店镇 create and see it */
    int64_t own;
    IT_CHECK(create_problem(st2, g_eid_xd, "用工", "新店镇员工登记", 0, NULL, &own, &v) == 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    req(&b, "problem.get", 1);
    it_kv_int(&b, "id", xd);
    IT_CHECK(ok(st2, &b, &m) == 0);
    it_msg_free(&m);
    /* it_staff: not_found, same message as a missing id */
    char hidden[512], missing[512];
    req(&b, "problem.get", 1);
    it_kv_int(&b, "id", xd);
    IT_CHECK(err_msg(st, &b, "not_found", "id", hidden, sizeof hidden) == 0);
    int64_t absent = xd + 1000000;
    req(&b, "problem.get", 1);
    it_kv_int(&b, "id", absent);
    IT_CHECK(err_msg(st, &b, "not_found", "id", missing, sizeof missing) == 0);
    char want[512];
    snprintf(want, sizeof want, "problem %lld does not exist", (long long)xd);
    IT_CHECK_STR(hidden, want);
    /* a write with a wrong version: still not_found, never version_conflict */
    req(&b, "problem.advance", 3);
    it_kv_int(&b, "id", xd);
    it_kv_int(&b, "version", 99);
    it_kv_str(&b, "to_state", "交办");
    IT_CHECK(err(st, &b, "not_found", "id") == 0);
    req(&b, "problem.reopen", 3);
    it_kv_int(&b, "id", xd);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "reason", "x");
    IT_CHECK(err(st, &b, "not_found", "id") == 0);
    req(&b, "problem.assign", 3);
    it_kv_int(&b, "id", xd);
    it_kv_int(&b, "version", 1);
    it_kv_int(&b, "assignee_unit_id", g_unit);
    IT_CHECK(err(st, &b, "not_found", "id") == 0);
    /* create for an enterprise outside: not_found enterprise_id */
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    it_kv_str(&b, "category", "用工");
    it_kv_str(&b, "description", "越权");
    IT_CHECK(err(st, &b, "not_found", "enterprise_id") == 0);
    /* list: a township filter outside gives an empty page; no filter
     * never shows 新店镇 */
    int64_t page[600], next;
    size_t n;
    req(&b, "problem.list", 1);
    it_kv_str(&b, "township", "新店镇");
    IT_CHECK(list_page(st, &b, &n, page, 600, &next) == 0);
    IT_CHECK(n == 0 && next == 0);
    req(&b, "problem.list", 1);
    it_kv_int(&b, "limit", 500);
    IT_CHECK(list_page(st, &b, &n, page, 600, &next) == 0);
    for (size_t i = 0; i < n; i++)
        IT_CHECK(page[i] != xd && page[i] != own);
    IT_CHECK(n > 0);
    req(&b, "problem.list", 1);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    IT_CHECK(list_page(st, &b, &n, page, 600, &next) == 0);
    IT_CHECK(n == 0);
    /* an enterprise moved out of the scope takes its problems along */
    /* admin reads all, writes nothing */
    req(&b, "problem.get", 1);
    it_kv_int(&b, "id", xd);
    IT_CHECK(ok(adm, &b, &m) == 0);
    it_msg_free(&m);
    req(&b, "problem.create", 3);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    it_kv_str(&b, "category", "用工");
    it_kv_str(&b, "description", "x");
    IT_CHECK(err(adm, &b, "forbidden", "") == 0);
    static const char *const writes[] = {"problem.advance", "problem.reopen", "problem.assign",
                                         "trouble.set"};
    for (size_t i = 0; i < 4; i++) {
        req(&b, writes[i], 0);
        IT_CHECK(err(adm, &b, "forbidden", "") == 0);
    }
    static const char *const reads[] = {"problem.list", "trouble.list"};
    for (size_t i = 0; i < 2; i++) {
        req(&b, reads[i], 0);
        IT_CHECK(ok(adm, &b, &m) == 0);
        it_msg_free(&m);
    }
    /* not logged in */
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    req(&b, "problem.list", 0);
    IT_CHECK(err(anon, &b, "unauthenticated", "") == 0);
    /* troubled-enterprise files follow the same rule */
    req(&b, "trouble.set", 2);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    it_kv_str(&b, "idle_reason", "订单不足");
    IT_CHECK(ok(st2, &b, &m) == 0);
    it_msg_free(&m);
    req(&b, "trouble.get", 1);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    IT_CHECK(err_msg(st, &b, "not_found", "enterprise_id", hidden, sizeof hidden) == 0);
    req(&b, "trouble.get", 1);
    it_kv_int(&b, "enterprise_id", 987654321);
    IT_CHECK(err_msg(st, &b, "not_found", "enterprise_id", missing, sizeof missing) == 0);
    snprintf(want, sizeof want, "enterprise %lld has no troubled-enterprise file",
             (long long)g_eid_xd);
    IT_CHECK_STR(hidden, want);
    req(&b, "trouble.set", 3);
    it_kv_int(&b, "enterprise_id", g_eid_xd);
    it_kv_int(&b, "version", 7);
    it_kv_str(&b, "revival_plan", "越权");
    IT_CHECK(err(st, &b, "not_found", "enterprise_id") == 0);
    req(&b, "trouble.list", 1);
    it_kv_str(&b, "township", "新店镇");
    IT_CHECK(list_page(st, &b, &n, page, 600, &next) == 0);
    IT_CHECK(n == 0);
    req(&b, "trouble.list", 0);
    IT_CHECK(list_page(st2, &b, &n, page, 600, &next) == 0);
    IT_CHECK(n == 1 && page[0] == g_eid_xd);
    it_buf_free(&b);
    return 0;
}

static int trouble_file_keeps_exact_decimals_and_versions(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t ent = it_shared_enterprise(8130, "泽翰实业", "茶庵岭镇");
    IT_CHECK(ent > 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    /* badly formed areas */
    static const char *const bad[] = {"1.234", "01", "1e3", "-1", ".5", "5.", "12,5",
                                      "12345678901", " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req(&b, "trouble.set", 3);
        it_kv_int(&b, "enterprise_id", ent);
        it_kv_str(&b, "idle_reason", "停产");
        it_kv_str(&b, "idle_land_mu", bad[i]);
        IT_CHECKF(err(c, &b, "invalid_argument", "idle_land_mu") == 0, "idle_land_mu \"%s\"",
                  bad[i]);
    }
    req(&b, "trouble.set", 3);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_str(&b, "idle_reason", "停产");
    it_kv_int(&b, "idle_floor_m2", 1200);
    IT_CHECK(err(c, &b, "invalid_argument", "idle_floor_m2") == 0);
    /* no idle_reason on a create */
    req(&b, "trouble.set", 2);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_str(&b, "idle_land_mu", "3");
    IT_CHECK(err(c, &b, "invalid_argument", "idle_reason") == 0);
    /* a missing enterprise */
    req(&b, "trouble.set", 2);
    it_kv_int(&b, "enterprise_id", 987654321);
    it_kv_str(&b, "idle_reason", "停产");
    IT_CHECK(err(c, &b, "not_found", "enterprise_id") == 0);
    /* update of a file that does not exist */
    req(&b, "trouble.set", 3);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "idle_reason", "停产");
    IT_CHECK(err(c, &b, "not_found", "enterprise_id") == 0);
    /* create */
    req(&b, "trouble.set", 6);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_str(&b, "idle_reason", "主要客户流失，全面停产");
    it_kv_str(&b, "idle_land_mu", "12.5");
    it_kv_str(&b, "idle_floor_m2", "9999999999.99");
    it_kv_str(&b, "strengths", "厂房完好\n交通便利");
    it_kv_str(&b, "revival_plan", "引进纺织服装企业租赁");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(m.result->type == MSGPACK_OBJECT_MAP && m.result->via.map.size == 12);
    IT_CHECK(it_get_str_eq(m.result, "idle_land_mu", "12.50"));
    IT_CHECK(it_get_str_eq(m.result, "idle_floor_m2", "9999999999.99"));
    IT_CHECK(it_get_str_eq(m.result, "township", "茶庵岭镇"));
    IT_CHECK(is_nil(m.result, "revival_progress"));
    int64_t v;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 1);
    it_msg_free(&m);
    /* a second create */
    req(&b, "trouble.set", 2);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_str(&b, "idle_reason", "again");
    IT_CHECK(err(c, &b, "already_exists", "enterprise_id") == 0);
    /* update: only the progress; nil clears strengths */
    req(&b, "trouble.set", 4);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "revival_progress", "已与两家企业洽谈");
    it_kv_nil(&b, "strengths");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "revival_progress", "已与两家企业洽谈"));
    IT_CHECK(it_get_str_eq(m.result, "idle_land_mu", "12.50"));
    IT_CHECK(it_get_str_eq(m.result, "idle_reason", "主要客户流失，全面停产"));
    IT_CHECK(is_nil(m.result, "strengths"));
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    it_msg_free(&m);
    /* stale version */
    req(&b, "trouble.set", 3);
    it_kv_int(&b, "enterprise_id", ent);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "idle_land_mu", "0.01");
    IT_CHECK(err(c, &b, "version_conflict", "version") == 0);
    /* get */
    req(&b, "trouble.get", 1);
    it_kv_int(&b, "enterprise_id", ent);
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "idle_land_mu", "12.50"));
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    it_msg_free(&m);
    /* audit: a create (before nil) and an update */
    IT_CHECK(count_rows("SELECT count(*) FROM audit_log WHERE entity = 'enterprise_trouble'"
                        " AND entity_id = $1",
                        ent) == 2);
    IT_CHECK(count_rows("SELECT count(*) FROM audit_log WHERE entity = 'enterprise_trouble'"
                        " AND entity_id = $1 AND before IS NULL",
                        ent) == 1);
    /* list by township; paging over files */
    int64_t ent2 = it_shared_enterprise(8131, "高正新材料", "茶庵岭镇");
    IT_CHECK(ent2 > 0);
    req(&b, "trouble.set", 2);
    it_kv_int(&b, "enterprise_id", ent2);
    it_kv_str(&b, "idle_reason", "资金链断裂");
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    int64_t page[8], next;
    size_t n;
    req(&b, "trouble.list", 2);
    it_kv_str(&b, "township", "茶庵岭镇");
    it_kv_int(&b, "limit", 1);
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 1 && page[0] == ent && next == ent);
    req(&b, "trouble.list", 3);
    it_kv_str(&b, "township", "茶庵岭镇");
    it_kv_int(&b, "limit", 1);
    it_kv_int(&b, "after", next);
    IT_CHECK(list_page(c, &b, &n, page, 8, &next) == 0);
    IT_CHECK(n == 1 && page[0] == ent2 && next == 0);
    it_buf_free(&b);
    return 0;
}

/* ---- the CLI ---- */

static int cli(it_cli *r, const char *const *args)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    IT_CHECK(it_cli_run(r, server, 30000, args) == 0);
    return 0;
}

static int cli_problem_and_trouble_commands(void)
{
    if (getenv("BAOBAO_CLI") == NULL) {
        it_note("BAOBAO_CLI not set: skipped");
        return 0;
    }
    char eid[24], unit[24];
    snprintf(eid, sizeof eid, "%lld", (long long)g_eid_gx);
    snprintf(unit, sizeof unit, "%lld", (long long)g_unit);
    it_cli r;
    const char *create[] = {"--json", "problem", "create", "--enterprise", eid, "--category",
                            "用地", "--description", "CLI 诉求：用地报批", "--unit", unit, NULL};
    IT_CHECK(cli(&r, create) == 0);
    IT_CHECKF(r.status == 0, "problem create: %s", r.err);
    char *p = strstr(r.out, "\"id\": ");
    IT_CHECKF(p != NULL, "no id in %s", r.out);
    long long id = strtoll(p + 6, NULL, 10);
    IT_CHECK(id > 0);
    it_cli_free(&r);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", id);
    /* advance reads the version itself */
    const char *adv[] = {"problem", "advance", ids, "交办", "--note", "转自规局", NULL};
    IT_CHECK(cli(&r, adv) == 0);
    IT_CHECKF(r.status == 0, "problem advance: %s", r.err);
    IT_CHECKF(strstr(r.out, "交办") != NULL, "%s", r.out);
    it_cli_free(&r);
    const char *get[] = {"problem", "get", ids, NULL};
    IT_CHECK(cli(&r, get) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "转自规局") != NULL &&
                  strstr(r.out, "自然资源和规划局") != NULL,
              "problem get: %s %s", r.out, r.err);
    it_cli_free(&r);
    const char *list[] = {"problem", "list", "--enterprise", eid, "--open", NULL};
    IT_CHECK(cli(&r, list) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "CLI 诉求") != NULL, "problem list: %s %s", r.out,
              r.err);
    it_cli_free(&r);
    /* a refusal exits 1 with the code */
    const char *bad[] = {"problem", "advance", ids, "确认", NULL};
    IT_CHECK(cli(&r, bad) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "invalid_argument") != NULL, "bad advance: %d %s",
              r.status, r.err);
    it_cli_free(&r);
    const char *tset[] = {"trouble", "set", eid, "--idle-reason", "订单下滑", "--idle-land",
                          "8.25", NULL};
    IT_CHECK(cli(&r, tset) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "8.25") != NULL, "trouble set: %s %s", r.out,
              r.err);
    it_cli_free(&r);
    /* the second set updates (the version is read first) */
    const char *tset2[] = {"trouble", "set", eid, "--progress", "已签约新租户", NULL};
    IT_CHECK(cli(&r, tset2) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "已签约新租户") != NULL, "trouble set 2: %s %s",
              r.out, r.err);
    it_cli_free(&r);
    const char *tlist[] = {"--json", "trouble", "list", "--township", "高新技术产业园区", NULL};
    IT_CHECK(cli(&r, tlist) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "\"idle_land_mu\": \"8.25\"") != NULL,
              "trouble list: %s %s", r.out, r.err);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"default_deadline_is_five_working_days_in_the_server_zone",
     default_deadline_is_five_working_days_in_the_server_zone},
    {"working_days_skip_weekends", working_days_skip_weekends},
    {"create_refusals_name_their_field", create_refusals_name_their_field},
    {"workflow_moves_one_step_forward_and_records_who_and_when",
     workflow_moves_one_step_forward_and_records_who_and_when},
    {"assign_keeps_an_assignee_and_a_future_deadline",
     assign_keeps_an_assignee_and_a_future_deadline},
    {"every_write_is_audited_once", every_write_is_audited_once},
    {"a_retry_with_the_same_key_returns_the_first_result",
     a_retry_with_the_same_key_returns_the_first_result},
    {"list_filters_and_pages_return_each_problem_once",
     list_filters_and_pages_return_each_problem_once},
    {"township_staff_see_only_their_townships", township_staff_see_only_their_townships},
    {"trouble_file_keeps_exact_decimals_and_versions",
     trouble_file_keeps_exact_decimals_and_versions},
    {"cli_problem_and_trouble_commands", cli_problem_and_trouble_commands},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "problems", tests, sizeof tests / sizeof tests[0], setup);
}
