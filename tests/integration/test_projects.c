/*
 * test_projects.c: the project.* methods (PROTOCOL.md section 6,
 * "Projects"): a Project round-trips with its five milestones; the
 * lifecycle rules and each refusal's code and field (forward only, a jump
 * recording the skipped stages, 终止/暂停 with a reason, resuming from
 * 暂停 at paused_from or later, 终止 and 竣工 final); the milestone rules
 * (an actual date not after the server's today, also across the time zone
 * boundary with a pinned clock; 投产 not before 开工; replanning with a
 * reason, kept in the history; an actual date moving the stage forward);
 * the history newest first; list filters and keyset paging while rows
 * arrive; idempotency per user; the audit row of each write; and the
 * roles and scope: supervisors write, everyone reads, township staff see
 * only their townships (out of scope answered exactly like missing).
 *
 * Not for: units and officials (test_assignments.c), overdue milestones
 * (test_overdue.c). Units are inserted with SQL here, as official.c is
 * written at the same time.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static uint32_t g_msgid = 10;
static int64_t g_unit_a, g_unit_b;   /* units (SQL) */
static int64_t g_ent;                /* an enterprise, investor of some projects */

/* One argument of a request: a str, an int or nil. */
typedef struct kv {
    const char *k;
    int t;          /* 's', 'i', 'n' */
    const char *s;
    int64_t i;
} kv;
#define S(k, v) {k, 's', v, 0}
#define I(k, v) {k, 'i', NULL, v}
#define N(k) {k, 'n', NULL, 0}
#define NKV(a) (sizeof(a) / sizeof(a)[0])

/* Sends method(args) and reads the reply into out (free it). */
static int rpc(it_conn *c, const char *method, const kv *a, size_t n, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, method, n);
    for (size_t i = 0; i < n; i++) {
        if (a[i].t == 's')
            it_kv_str(&b, a[i].k, a[i].s);
        else if (a[i].t == 'i')
            it_kv_int(&b, a[i].k, a[i].i);
        else
            it_kv_nil(&b, a[i].k);
    }
    int r = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    if (r != IT_RECV_MSG) {
        it_fail(__FILE__, __LINE__, "%s: no reply (%d)", method, r);
        return -1;
    }
    return 0;
}

/* method(args) must succeed; the reply stays in out. */
static int ok(it_conn *c, const char *method, const kv *a, size_t n, it_msg *out)
{
    if (rpc(c, method, a, n, out) != 0)
        return -1;
    if (out->is_error) {
        char d[800];
        it_fail(__FILE__, __LINE__, "%s: expected success, got %s", method,
                it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

/* method(args) must fail with code and field (NULL: none); the message is
 * copied to msg when not NULL. */
static int fails(it_conn *c, const char *method, const kv *a, size_t n, const char *code,
                 const char *field, char *msg, size_t msglen)
{
    it_msg m;
    if (rpc(c, method, a, n, &m) != 0)
        return -1;
    bool good = m.is_error && strcmp(m.code, code) == 0 &&
                strcmp(m.field, field != NULL ? field : "") == 0;
    if (good && msg != NULL)
        snprintf(msg, msglen, "%s", m.message);
    if (!good) {
        char d[800];
        it_fail(__FILE__, __LINE__, "%s: expected %s (field %s), got %s", method, code,
                field != NULL ? field : "-", it_describe(&m, d, sizeof d));
    }
    it_msg_free(&m);
    return good ? 0 : -1;
}

#define OK(c, method, a, out) IT_CHECK(ok(c, method, a, NKV(a), out) == 0)
#define FAILS(c, method, a, code, field) \
    IT_CHECK(fails(c, method, a, NKV(a), code, field, NULL, 0) == 0)

/* Creates a project as the connection's user; returns its id or -1. */
static int64_t new_project(it_conn *c, const char *name, const char *township,
                           const char *priority, int64_t money, const char *cluster)
{
    kv a[] = {S("name", name), I("planned_investment", money), S("priority", priority),
              S("township", township), S("cluster", cluster)};
    it_msg m;
    if (ok(c, "project.create", a, cluster != NULL ? 5 : 4, &m) != 0)
        return -1;
    int64_t id = -1;
    if (!it_get_int(m.result, "id", &id))
        it_fail(__FILE__, __LINE__, "project.create: no id");
    it_msg_free(&m);
    return id;
}

/* The stage and version of a project (get). */
static int stage_of(it_conn *c, int64_t id, char *stage, size_t len, int64_t *version)
{
    kv a[] = {I("id", id)};
    it_msg m;
    if (ok(c, "project.get", a, 1, &m) != 0)
        return -1;
    bool good = it_get_str(m.result, "stage", stage, len) &&
                it_get_int(m.result, "version", version);
    it_msg_free(&m);
    return good ? 0 : -1;
}

/* milestones[node] of a Project result: the map, or NULL. */
static const msgpack_object *milestone(const msgpack_object *p, const char *node)
{
    const msgpack_object *ms = it_map_get(p, "milestones");
    if (ms == NULL || ms->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < ms->via.array.size; i++)
        if (it_get_str_eq(&ms->via.array.ptr[i], "node", node))
            return &ms->via.array.ptr[i];
    return NULL;
}

static bool is_nil(const msgpack_object *map, const char *key)
{
    const msgpack_object *v = it_map_get(map, key);
    return v != NULL && v->type == MSGPACK_OBJECT_NIL;
}

/* The skipped stages of a history item, joined with ",". */
static void skipped_of(const msgpack_object *item, char *out, size_t len)
{
    out[0] = '\0';
    const msgpack_object *s = it_map_get(item, "skipped");
    if (s == NULL || s->type != MSGPACK_OBJECT_ARRAY) {
        snprintf(out, len, "(not an array)");
        return;
    }
    for (uint32_t i = 0; i < s->via.array.size; i++) {
        char one[64];
        if (!it_obj_str(&s->via.array.ptr[i], one, sizeof one))
            snprintf(one, sizeof one, "?");
        size_t l = strlen(out);
        snprintf(out + l, len - l, "%s%s", i ? "," : "", one);
    }
}

/* Moves a project (version read first); 0 or -1. */
static int move(it_conn *c, int64_t id, const char *stage, const char *reason)
{
    char cur[64];
    int64_t v;
    if (stage_of(c, id, cur, sizeof cur, &v) != 0)
        return -1;
    kv a[] = {I("id", id), I("version", v), S("stage", stage), S("reason", reason)};
    it_msg m;
    if (ok(c, "project.move_stage", a, reason != NULL ? 4 : 3, &m) != 0)
        return -1;
    it_msg_free(&m);
    return 0;
}

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(it_pg_exec("INSERT INTO unit (name) VALUES ('招商办'), ('科信局')", 0, NULL) == 0);
    g_unit_a = it_pg_int("SELECT id FROM unit WHERE name = '招商办'", 0, NULL);
    g_unit_b = it_pg_int("SELECT id FROM unit WHERE name = '科信局'", 0, NULL);
    g_ent = it_shared_enterprise(950, "维达力实业", "赵李桥镇");
    IT_CHECK(g_unit_a > 0 && g_unit_b > 0 && g_ent > 0);
    return 0;
}

/* ---- the object ---- */

static int create_and_get_round_trip_with_five_milestones(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    kv a[] = {S("name", "维达力四期（苹果产业园）"), I("enterprise_id", g_ent),
              S("cluster", "电子信息"), I("planned_investment", INT64_C(3000000000)),
              S("priority", "省级重点"), I("lead_unit_id", g_unit_a),
              S("township", "赵李桥镇")};
    it_msg m;
    OK(c, "project.create", a, &m);
    static const char *const keys[] = {"id", "name", "enterprise_id", "cluster",
                                       "planned_investment", "priority", "lead_unit_id",
                                       "township", "stage", "stage_reason", "paused_from",
                                       "version", "created_at", "updated_at", "milestones"};
    const msgpack_object *r = m.result;
    IT_CHECK(r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 15);
    for (uint32_t i = 0; i < 15; i++) {
        const msgpack_object *k = &r->via.map.ptr[i].key;
        IT_CHECKF(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(keys[i]) &&
                      memcmp(k->via.str.ptr, keys[i], k->via.str.size) == 0,
                  "key %u is not %s", i, keys[i]);
    }
    int64_t id, v, money, ent, unit;
    IT_CHECK(it_get_int(r, "id", &id) && it_get_int(r, "version", &v) && v == 1);
    IT_CHECK(it_get_int(r, "planned_investment", &money) && money == INT64_C(3000000000));
    IT_CHECK(it_get_int(r, "enterprise_id", &ent) && ent == g_ent);
    IT_CHECK(it_get_int(r, "lead_unit_id", &unit) && unit == g_unit_a);
    IT_CHECK(it_get_str_eq(r, "name", "维达力四期（苹果产业园）"));
    IT_CHECK(it_get_str_eq(r, "stage", "信息收集"));
    IT_CHECK(is_nil(r, "stage_reason") && is_nil(r, "paused_from"));
    const msgpack_object *ms = it_map_get(r, "milestones");
    IT_CHECK(ms != NULL && ms->type == MSGPACK_OBJECT_ARRAY && ms->via.array.size == 5);
    static const char *const nodes[] = {"签约", "注册", "开工", "投产", "竣工"};
    for (int i = 0; i < 5; i++) {
        const msgpack_object *e = &ms->via.array.ptr[i];
        IT_CHECK(e->type == MSGPACK_OBJECT_MAP && e->via.map.size == 3);
        IT_CHECK(it_get_str_eq(e, "node", nodes[i]));
        IT_CHECK(is_nil(e, "planned_date") && is_nil(e, "actual_date"));
    }
    char created[64], updated[64];
    IT_CHECK(it_get_str(r, "created_at", created, sizeof created) &&
             it_get_str(r, "updated_at", updated, sizeof updated) && strcmp(created, updated) == 0);
    it_msg_free(&m);

    kv g[] = {I("id", id)};
    OK(c, "project.get", g, &m);
    IT_CHECK(it_get_str_eq(m.result, "township", "赵李桥镇"));
    IT_CHECK(it_get_str_eq(m.result, "cluster", "电子信息"));
    IT_CHECK(it_get_str_eq(m.result, "priority", "省级重点"));
    IT_CHECK(milestone(m.result, "竣工") != NULL);
    it_msg_free(&m);

    /* Optional ones absent: nil; a starting stage later than the first. */
    kv b[] = {S("name", "壹嘉制衣"), I("planned_investment", 520000000), S("priority", "市级重点"),
              S("township", "新店镇"), S("stage", "签约"), N("cluster"), N("enterprise_id")};
    OK(c, "project.create", b, &m);
    IT_CHECK(is_nil(m.result, "cluster") && is_nil(m.result, "enterprise_id") &&
             is_nil(m.result, "lead_unit_id"));
    IT_CHECK(it_get_str_eq(m.result, "stage", "签约"));
    it_msg_free(&m);

    kv missing[] = {I("id", 999999999)};
    char msg[600];
    IT_CHECK(fails(c, "project.get", missing, 1, "not_found", "id", msg, sizeof msg) == 0);
    IT_CHECK_STR(msg, "project 999999999 does not exist");
    it_close(c);
    return 0;
}

static int create_refuses_bad_arguments_with_their_field(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    kv p1[] = {S("name", "x"), I("planned_investment", 1), S("priority", "重点"),
               S("township", "赤壁镇")};
    FAILS(c, "project.create", p1, "invalid_argument", "priority");
    kv p2[] = {S("name", "x"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "火星镇")};
    FAILS(c, "project.create", p2, "invalid_argument", "township");
    kv p3[] = {S("name", "x"), I("planned_investment", -1), S("priority", "一般"),
               S("township", "赤壁镇")};
    FAILS(c, "project.create", p3, "invalid_argument", "planned_investment");
    kv p4[] = {S("name", "x"), I("planned_investment", INT64_C(1000000000000001)),
               S("priority", "一般"), S("township", "赤壁镇")};
    FAILS(c, "project.create", p4, "invalid_argument", "planned_investment");
    kv p5[] = {S("name", "x"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "赤壁镇"), S("stage", "终止")};
    FAILS(c, "project.create", p5, "invalid_argument", "stage");
    kv p6[] = {S("name", "x"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "赤壁镇"), S("cluster", "钢铁")};
    FAILS(c, "project.create", p6, "invalid_argument", "cluster");
    kv p7[] = {S("name", "x"), I("enterprise_id", 888888888), I("planned_investment", 1),
               S("priority", "一般"), S("township", "赤壁镇")};
    FAILS(c, "project.create", p7, "not_found", "enterprise_id");
    kv p8[] = {S("name", "x"), I("planned_investment", 1), S("priority", "一般"),
               I("lead_unit_id", 888888888), S("township", "赤壁镇")};
    FAILS(c, "project.create", p8, "not_found", "lead_unit_id");
    kv p9[] = {S("name", "x"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "赤壁镇"), S("budget", "1")};
    FAILS(c, "project.create", p9, "invalid_argument", "budget");
    kv p10[] = {I("planned_investment", 1), S("priority", "一般"), S("township", "赤壁镇")};
    FAILS(c, "project.create", p10, "invalid_argument", "name");
    kv p11[] = {S("name", "x"), I("planned_investment", 1), N("priority"),
                S("township", "赤壁镇")};
    FAILS(c, "project.create", p11, "invalid_argument", "priority");
    IT_CHECK(it_pg_int("SELECT count(*) FROM project WHERE name = 'x'", 0, NULL) == 0);
    it_close(c);
    return 0;
}

/* ---- the lifecycle ---- */

static int a_jump_forward_records_the_skipped_stages(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "中亮光电二期", "高新技术产业园区", "市级重点", 500000000, NULL);
    IT_CHECK(id > 0);
    kv a[] = {I("id", id), I("version", 1), S("stage", "签约")};
    it_msg m;
    OK(c, "project.move_stage", a, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "签约"));
    int64_t v;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    it_msg_free(&m);
    kv h[] = {I("id", id)};
    OK(c, "project.history", h, &m);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size == 2);
    const msgpack_object *e0 = &items->via.array.ptr[0];
    IT_CHECK(e0->type == MSGPACK_OBJECT_MAP && e0->via.map.size == 11);
    IT_CHECK(it_get_str_eq(e0, "kind", "stage"));
    IT_CHECK(it_get_str_eq(e0, "from_stage", "信息收集") && it_get_str_eq(e0, "to_stage", "签约"));
    IT_CHECK(it_get_str_eq(e0, "user", IT_USER_SUPER));
    int64_t uid;
    IT_CHECK(it_get_int(e0, "user_id", &uid) && uid == it_user_id(IT_USER_SUPER));
    char sk[256];
    skipped_of(e0, sk, sizeof sk);
    IT_CHECK_STR(sk, "研判,洽谈");
    /* The oldest: the creation, from nil. */
    const msgpack_object *e1 = &items->via.array.ptr[1];
    IT_CHECK(is_nil(e1, "from_stage") && it_get_str_eq(e1, "to_stage", "信息收集"));
    skipped_of(e1, sk, sizeof sk);
    IT_CHECK_STR(sk, "");
    it_msg_free(&m);

    /* One step: nothing skipped. */
    IT_CHECK(move(c, id, "注册", NULL) == 0);
    OK(c, "project.history", h, &m);
    items = it_map_get(m.result, "items");
    IT_CHECK(items->via.array.size == 3);
    skipped_of(&items->via.array.ptr[0], sk, sizeof sk);
    IT_CHECK_STR(sk, "");
    it_msg_free(&m);
    it_close(c);
    return 0;
}

static int backward_same_stage_and_stale_versions_are_refused(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "科蓝特铝材", "赤壁镇", "市级重点", 600000000, "新材料");
    IT_CHECK(id > 0);
    IT_CHECK(move(c, id, "开工", NULL) == 0);
    kv back[] = {I("id", id), I("version", 2), S("stage", "洽谈")};
    FAILS(c, "project.move_stage", back, "invalid_argument", "stage");
    kv same[] = {I("id", id), I("version", 2), S("stage", "开工")};
    FAILS(c, "project.move_stage", same, "invalid_argument", "stage");
    kv stale[] = {I("id", id), I("version", 1), S("stage", "投产")};
    FAILS(c, "project.move_stage", stale, "version_conflict", "version");
    kv bad[] = {I("id", id), I("version", 2), S("stage", "完工")};
    FAILS(c, "project.move_stage", bad, "invalid_argument", "stage");
    kv none[] = {I("id", 999999999), I("version", 1), S("stage", "投产")};
    FAILS(c, "project.move_stage", none, "not_found", "id");
    char st[64];
    int64_t v;
    IT_CHECK(stage_of(c, id, st, sizeof st, &v) == 0);
    IT_CHECK_STR(st, "开工");
    IT_CHECK(v == 2);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    IT_CHECK(it_pg_int("SELECT count(*) FROM project_stage_event WHERE project_id = $1", 1,
                       (const char *[]){ids}) == 2);
    it_close(c);
    return 0;
}

static int pause_needs_a_reason_and_resumes_at_paused_from_or_later(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "北京双吉制药", "美丽健康产业园", "市级重点", 500000000, "大健康");
    IT_CHECK(id > 0);
    IT_CHECK(move(c, id, "洽谈", NULL) == 0);
    kv noreason[] = {I("id", id), I("version", 2), S("stage", "暂停")};
    FAILS(c, "project.move_stage", noreason, "invalid_argument", "reason");
    kv pause[] = {I("id", id), I("version", 2), S("stage", "暂停"), S("reason", "投资方资金未到位")};
    it_msg m;
    OK(c, "project.move_stage", pause, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "暂停"));
    IT_CHECK(it_get_str_eq(m.result, "paused_from", "洽谈"));
    IT_CHECK(it_get_str_eq(m.result, "stage_reason", "投资方资金未到位"));
    it_msg_free(&m);
    kv again[] = {I("id", id), I("version", 3), S("stage", "暂停"), S("reason", "again")};
    FAILS(c, "project.move_stage", again, "invalid_argument", "stage");
    kv early[] = {I("id", id), I("version", 3), S("stage", "研判")};
    FAILS(c, "project.move_stage", early, "invalid_argument", "stage");
    kv resume[] = {I("id", id), I("version", 3), S("stage", "洽谈")};
    OK(c, "project.move_stage", resume, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "洽谈"));
    IT_CHECK(is_nil(m.result, "paused_from") && is_nil(m.result, "stage_reason"));
    it_msg_free(&m);
    /* Paused again, resumed past where it was: the stages in between are skipped. */
    IT_CHECK(move(c, id, "暂停", "环评") == 0);
    IT_CHECK(move(c, id, "注册", NULL) == 0);
    kv h[] = {I("id", id)};
    OK(c, "project.history", h, &m);
    const msgpack_object *e0 = &it_map_get(m.result, "items")->via.array.ptr[0];
    IT_CHECK(it_get_str_eq(e0, "from_stage", "暂停") && it_get_str_eq(e0, "to_stage", "注册"));
    char sk[128];
    skipped_of(e0, sk, sizeof sk);
    IT_CHECK_STR(sk, "签约");
    const msgpack_object *e1 = &it_map_get(m.result, "items")->via.array.ptr[1];
    IT_CHECK(it_get_str_eq(e1, "to_stage", "暂停") && it_get_str_eq(e1, "reason", "环评"));
    it_msg_free(&m);
    it_close(c);
    return 0;
}

static int terminated_and_completed_projects_move_no_more(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t a = new_project(c, "终止项目", "车埠镇", "一般", 1000, NULL);
    int64_t b = new_project(c, "竣工项目", "车埠镇", "一般", 1000, NULL);
    IT_CHECK(a > 0 && b > 0);
    kv noreason[] = {I("id", a), I("version", 1), S("stage", "终止")};
    FAILS(c, "project.move_stage", noreason, "invalid_argument", "reason");
    IT_CHECK(move(c, a, "终止", "投资方撤回") == 0);
    static const char *const targets[] = {"研判", "竣工", "暂停", "终止"};
    for (size_t i = 0; i < 4; i++) {
        kv t[] = {I("id", a), I("version", 2), S("stage", targets[i]), S("reason", "r")};
        FAILS(c, "project.move_stage", t, "invalid_argument", "stage");
    }
    IT_CHECK(move(c, b, "竣工", NULL) == 0);
    kv t2[] = {I("id", b), I("version", 2), S("stage", "暂停"), S("reason", "r")};
    FAILS(c, "project.move_stage", t2, "invalid_argument", "stage");
    kv t3[] = {I("id", b), I("version", 2), S("stage", "终止"), S("reason", "r")};
    FAILS(c, "project.move_stage", t3, "invalid_argument", "stage");
    /* A paused project may still be terminated. */
    int64_t p = new_project(c, "暂停后终止", "车埠镇", "一般", 1000, NULL);
    IT_CHECK(p > 0 && move(c, p, "暂停", "r1") == 0 && move(c, p, "终止", "r2") == 0);
    it_close(c);
    return 0;
}

/* ---- milestones ---- */

static int actual_date_not_after_today_in_the_configured_zone(void)
{
    /* 07:30 on 1 March in Beijing is still 29 February in UTC: today is
     * 2024-03-01 for the server whatever the machine's zone. */
    it_server *s = it_server_start((const char *const[]){"fake_now=2024-03-01T07:30:00+08:00",
                                                          NULL});
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "华润电力三期", "赤壁镇", "省级重点", 900000000, "电力能源");
    IT_CHECK(id > 0);
    kv later[] = {I("id", id), S("node", "签约"), S("actual_date", "2024-03-02")};
    char msg[600];
    IT_CHECK(fails(c, "project.set_milestone", later, NKV(later), "invalid_argument",
                   "actual_date", msg, sizeof msg) == 0);
    IT_CHECKF(strstr(msg, "2024-03-01") != NULL, "message names today: %s", msg);
    kv today[] = {I("id", id), S("node", "签约"), S("actual_date", "2024-03-01")};
    it_msg m;
    OK(c, "project.set_milestone", today, &m);
    IT_CHECK(it_get_str_eq(milestone(m.result, "签约"), "actual_date", "2024-03-01"));
    it_msg_free(&m);
    kv leap[] = {I("id", id), S("node", "注册"), S("actual_date", "2024-02-29")};
    OK(c, "project.set_milestone", leap, &m);
    IT_CHECK(it_get_str_eq(milestone(m.result, "注册"), "actual_date", "2024-02-29"));
    it_msg_free(&m);
    /* A planned date may be in the future. */
    kv plan[] = {I("id", id), S("node", "竣工"), S("planned_date", "2030-12-31")};
    OK(c, "project.set_milestone", plan, &m);
    it_msg_free(&m);
    kv notadate[] = {I("id", id), S("node", "竣工"), S("planned_date", "2023-02-29")};
    FAILS(c, "project.set_milestone", notadate, "invalid_argument", "planned_date");
    kv neither[] = {I("id", id), S("node", "竣工")};
    FAILS(c, "project.set_milestone", neither, "invalid_argument", "planned_date");
    kv badnode[] = {I("id", id), S("node", "洽谈"), S("planned_date", "2025-01-01")};
    FAILS(c, "project.set_milestone", badnode, "invalid_argument", "node");
    kv none[] = {I("id", 999999999), S("node", "签约"), S("planned_date", "2025-01-01")};
    FAILS(c, "project.set_milestone", none, "not_found", "id");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int production_cannot_precede_construction_start(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "人福药辅迁扩建", "赤马港街道", "省级重点", 1000000000, "大健康");
    IT_CHECK(id > 0);
    kv start[] = {I("id", id), S("node", "开工"), S("actual_date", "2024-02-10")};
    it_msg m;
    OK(c, "project.set_milestone", start, &m);
    it_msg_free(&m);
    kv before[] = {I("id", id), S("node", "投产"), S("actual_date", "2024-02-09")};
    FAILS(c, "project.set_milestone", before, "invalid_argument", "actual_date");
    kv same[] = {I("id", id), S("node", "投产"), S("actual_date", "2024-02-10")};
    OK(c, "project.set_milestone", same, &m);
    it_msg_free(&m);
    /* Moving 开工 after 投产 breaks the same rule. */
    kv late_start[] = {I("id", id), S("node", "开工"), S("actual_date", "2024-02-11")};
    FAILS(c, "project.set_milestone", late_start, "invalid_argument", "actual_date");
    kv g[] = {I("id", id)};
    OK(c, "project.get", g, &m);
    IT_CHECK(it_get_str_eq(milestone(m.result, "开工"), "actual_date", "2024-02-10"));
    IT_CHECK(it_get_str_eq(milestone(m.result, "投产"), "actual_date", "2024-02-10"));
    it_msg_free(&m);
    it_close(c);
    return 0;
}

static int replanning_needs_a_reason_and_keeps_the_old_plan(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "龙兴无纺布扩产", "中伙铺镇", "市级重点", 200000000, "纺织服装");
    IT_CHECK(id > 0);
    kv first[] = {I("id", id), S("node", "开工"), S("planned_date", "2025-05-01")};
    it_msg m;
    OK(c, "project.set_milestone", first, &m);
    IT_CHECK(it_get_str_eq(milestone(m.result, "开工"), "planned_date", "2025-05-01"));
    it_msg_free(&m);
    kv noreason[] = {I("id", id), S("node", "开工"), S("planned_date", "2025-08-01")};
    FAILS(c, "project.set_milestone", noreason, "invalid_argument", "reason");
    kv clear[] = {I("id", id), S("node", "开工"), N("planned_date")};
    FAILS(c, "project.set_milestone", clear, "invalid_argument", "reason");
    /* The same date again changes nothing and needs no reason. */
    OK(c, "project.set_milestone", first, &m);
    it_msg_free(&m);
    kv replan[] = {I("id", id), S("node", "开工"), S("planned_date", "2025-08-01"),
                   S("reason", "用地报批延后")};
    OK(c, "project.set_milestone", replan, &m);
    IT_CHECK(it_get_str_eq(milestone(m.result, "开工"), "planned_date", "2025-08-01"));
    it_msg_free(&m);
    kv h[] = {I("id", id)};
    OK(c, "project.history", h, &m);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->via.array.size == 3); /* two plan events, the creation */
    const msgpack_object *e0 = &items->via.array.ptr[0];
    IT_CHECK(it_get_str_eq(e0, "kind", "plan") && it_get_str_eq(e0, "node", "开工"));
    IT_CHECK(it_get_str_eq(e0, "old_planned", "2025-05-01"));
    IT_CHECK(it_get_str_eq(e0, "new_planned", "2025-08-01"));
    IT_CHECK(it_get_str_eq(e0, "reason", "用地报批延后"));
    IT_CHECK(it_get_str_eq(e0, "user", IT_USER_SUPER));
    IT_CHECK(is_nil(e0, "from_stage") && is_nil(e0, "to_stage"));
    const msgpack_object *e1 = &items->via.array.ptr[1];
    IT_CHECK(it_get_str_eq(e1, "kind", "plan") && is_nil(e1, "old_planned"));
    IT_CHECK(it_get_str_eq(e1, "new_planned", "2025-05-01") && is_nil(e1, "reason"));
    it_msg_free(&m);
    it_close(c);
    return 0;
}

static int an_actual_date_moves_the_stage_forward_to_its_node(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "凯利隆新厂", "官塘驿镇", "一般", 80000000, NULL);
    IT_CHECK(id > 0);
    IT_CHECK(move(c, id, "洽谈", NULL) == 0);
    kv start[] = {I("id", id), S("node", "开工"), S("actual_date", "2024-06-18"),
                  S("planned_date", "2024-06-01")};
    it_msg m;
    OK(c, "project.set_milestone", start, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "开工"));
    it_msg_free(&m);
    kv h[] = {I("id", id)};
    OK(c, "project.history", h, &m);
    const msgpack_object *e0 = &it_map_get(m.result, "items")->via.array.ptr[0];
    IT_CHECK(it_get_str_eq(e0, "kind", "stage"));
    IT_CHECK(it_get_str_eq(e0, "from_stage", "洽谈") && it_get_str_eq(e0, "to_stage", "开工"));
    char sk[128];
    skipped_of(e0, sk, sizeof sk);
    IT_CHECK_STR(sk, "签约,注册");
    const msgpack_object *e1 = &it_map_get(m.result, "items")->via.array.ptr[1];
    IT_CHECK(it_get_str_eq(e1, "kind", "plan"));
    it_msg_free(&m);
    /* An earlier node's actual date does not move it back. */
    kv sign[] = {I("id", id), S("node", "签约"), S("actual_date", "2024-01-05")};
    OK(c, "project.set_milestone", sign, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "开工"));
    it_msg_free(&m);
    /* A paused project keeps its stage. */
    IT_CHECK(move(c, id, "暂停", "停工整改") == 0);
    kv prod[] = {I("id", id), S("node", "投产"), S("actual_date", "2024-09-01")};
    OK(c, "project.set_milestone", prod, &m);
    IT_CHECK(it_get_str_eq(m.result, "stage", "暂停"));
    IT_CHECK(it_get_str_eq(milestone(m.result, "投产"), "actual_date", "2024-09-01"));
    it_msg_free(&m);
    it_close(c);
    return 0;
}

/* ---- update ---- */

static int update_changes_given_fields_and_checks_the_version(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    kv a[] = {S("name", "泽翰实业项目"), I("planned_investment", 100), S("priority", "一般"),
              S("township", "神山镇"), S("cluster", "新材料"), I("lead_unit_id", g_unit_a),
              I("enterprise_id", g_ent)};
    it_msg m;
    OK(c, "project.create", a, &m);
    int64_t id;
    IT_CHECK(it_get_int(m.result, "id", &id));
    it_msg_free(&m);
    kv u[] = {I("id", id), I("version", 1), S("name", "泽翰实业二期"), N("cluster"),
              I("planned_investment", 250000000), S("priority", "市级重点"),
              I("lead_unit_id", g_unit_b), S("township", "柳山湖镇")};
    OK(c, "project.update", u, &m);
    int64_t v, money, unit, ent;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    IT_CHECK(it_get_str_eq(m.result, "name", "泽翰实业二期"));
    IT_CHECK(is_nil(m.result, "cluster"));
    IT_CHECK(it_get_int(m.result, "planned_investment", &money) && money == 250000000);
    IT_CHECK(it_get_int(m.result, "lead_unit_id", &unit) && unit == g_unit_b);
    IT_CHECK(it_get_int(m.result, "enterprise_id", &ent) && ent == g_ent); /* absent: kept */
    IT_CHECK(it_get_str_eq(m.result, "township", "柳山湖镇"));
    IT_CHECK(it_get_str_eq(m.result, "stage", "信息收集"));
    it_msg_free(&m);
    kv stale[] = {I("id", id), I("version", 1), S("name", "lost")};
    FAILS(c, "project.update", stale, "version_conflict", "version");
    kv clear[] = {I("id", id), I("version", 2), N("enterprise_id"), N("lead_unit_id")};
    OK(c, "project.update", clear, &m);
    IT_CHECK(is_nil(m.result, "enterprise_id") && is_nil(m.result, "lead_unit_id"));
    it_msg_free(&m);
    kv nilname[] = {I("id", id), I("version", 3), N("name")};
    FAILS(c, "project.update", nilname, "invalid_argument", "name");
    kv stage[] = {I("id", id), I("version", 3), S("stage", "签约")};
    FAILS(c, "project.update", stage, "invalid_argument", "stage");
    kv badunit[] = {I("id", id), I("version", 3), I("lead_unit_id", 777777777)};
    FAILS(c, "project.update", badunit, "not_found", "lead_unit_id");
    kv none[] = {I("id", 999999999), I("version", 1), S("name", "y")};
    FAILS(c, "project.update", none, "not_found", "id");
    it_close(c);
    return 0;
}

/* ---- idempotency and audit ---- */

static int a_retry_with_the_same_key_stores_once_and_other_users_cannot_reuse_it(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    kv a[] = {S("name", "诚森桦泰智能电子"), I("planned_investment", 300000000),
              S("priority", "市级重点"), S("township", "茶庵岭镇"),
              S("idempotency_key", "prj-key-1")};
    it_msg m1, m2;
    OK(c, "project.create", a, &m1);
    OK(c, "project.create", a, &m2);
    int64_t id1, id2;
    IT_CHECK(it_get_int(m1.result, "id", &id1) && it_get_int(m2.result, "id", &id2) && id1 == id2);
    it_msg_free(&m1);
    it_msg_free(&m2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM project WHERE name = '诚森桦泰智能电子'", 0, NULL) == 1);
    kv other[] = {S("name", "诚森桦泰智能电子"), I("planned_investment", 300000001),
                  S("priority", "市级重点"), S("township", "茶庵岭镇"),
                  S("idempotency_key", "prj-key-1")};
    FAILS(c, "project.create", other, "idempotency_key_reused", "idempotency_key");
    /* Another supervisor with the same key and arguments: refused, not replayed. */
    IT_CHECK(it_pg_exec("INSERT INTO app_user (login, display_name, role, password_hash)"
                        " SELECT 'prj_super2', '招商办', 'supervisor', password_hash"
                        "   FROM app_user WHERE login = 'it_super'"
                        " ON CONFLICT (login) DO NOTHING",
                        0, NULL) == 0);
    it_conn *c2 = it_connect_as(it_shared_server()->port, "prj_super2", IT_PASSWORD);
    IT_CHECK(c2 != NULL);
    FAILS(c2, "project.create", a, "idempotency_key_reused", "idempotency_key");
    /* move_stage replays too: the second call is not a version_conflict. */
    kv mv[] = {I("id", id1), I("version", 1), S("stage", "研判"),
               S("idempotency_key", "prj-key-2")};
    OK(c, "project.move_stage", mv, &m1);
    OK(c, "project.move_stage", mv, &m2);
    int64_t v1, v2;
    IT_CHECK(it_get_int(m1.result, "version", &v1) && it_get_int(m2.result, "version", &v2));
    IT_CHECK(v1 == 2 && v2 == 2);
    it_msg_free(&m1);
    it_msg_free(&m2);
    it_close(c2);
    it_close(c);
    return 0;
}

static int every_write_leaves_one_audit_row_and_a_refusal_none(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    int64_t id = new_project(c, "荟海药业新区", "余家桥乡", "一般", 5000, NULL);
    IT_CHECK(id > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[] = {ids};
    const char *q = "SELECT count(*) FROM audit_log WHERE entity = 'project' AND entity_id = $1";
    IT_CHECK(it_pg_int(q, 1, p) == 1);
    IT_CHECK(move(c, id, "研判", NULL) == 0);
    kv plan[] = {I("id", id), S("node", "签约"), S("planned_date", "2025-01-01")};
    it_msg m;
    OK(c, "project.set_milestone", plan, &m);
    it_msg_free(&m);
    kv upd[] = {I("id", id), I("version", 3), S("name", "荟海药业新区一期")};
    OK(c, "project.update", upd, &m);
    it_msg_free(&m);
    IT_CHECK(it_pg_int(q, 1, p) == 4);
    kv back[] = {I("id", id), I("version", 4), S("stage", "信息收集")};
    FAILS(c, "project.move_stage", back, "invalid_argument", "stage");
    IT_CHECK(it_pg_int(q, 1, p) == 4);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'project' AND entity_id = $1"
                       " AND method = 'project.set_milestone' AND changed = '{milestones,updated_at,version}'"
                       " AND after -> 'milestones' -> 0 ->> 'planned_date' = '2025-01-01'"
                       " AND before -> 'milestones' -> 0 -> 'planned_date' = 'null'::jsonb",
                       1, p) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'project' AND entity_id = $1"
                       " AND method = 'project.create' AND before IS NULL"
                       " AND user_id = (SELECT id FROM app_user WHERE login = 'it_super')",
                       1, p) == 1);
    it_close(c);
    return 0;
}

/* ---- list ---- */

/* The ids of a list page, in order, and its next (0 for nil). */
static int list_ids(it_conn *c, const kv *a, size_t n, int64_t *ids, size_t cap, size_t *nids,
                    int64_t *next)
{
    it_msg m;
    if (ok(c, "project.list", a, n, &m) != 0)
        return -1;
    const msgpack_object *items = it_map_get(m.result, "items");
    const msgpack_object *nx = it_map_get(m.result, "next");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && nx != NULL);
    *nids = 0;
    for (uint32_t i = 0; i < items->via.array.size && *nids < cap; i++)
        IT_CHECK(it_get_int(&items->via.array.ptr[i], "id", &ids[(*nids)++]));
    *next = 0;
    if (nx->type != MSGPACK_OBJECT_NIL)
        IT_CHECK(it_obj_int(nx, next));
    it_msg_free(&m);
    return 0;
}

static bool has(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

static int list_filters_each_narrow_to_their_rows(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    kv a1[] = {S("name", "筛选甲青砖茶"), I("planned_investment", 1000), S("priority", "省级重点"),
               S("township", "黄盖湖镇"), S("cluster", "青砖茶"), I("lead_unit_id", g_unit_b)};
    kv a2[] = {S("name", "筛选乙安全应急"), I("planned_investment", 5000), S("priority", "一般"),
               S("township", "黄盖湖镇"), S("cluster", "安全应急")};
    kv a3[] = {S("name", "筛选丙节能"), I("planned_investment", 9000), S("priority", "一般"),
               S("township", "陆水湖街道"), S("cluster", "节能环保"), S("stage", "洽谈")};
    it_msg m;
    int64_t x1, x2, x3;
    OK(c, "project.create", a1, &m);
    IT_CHECK(it_get_int(m.result, "id", &x1));
    it_msg_free(&m);
    OK(c, "project.create", a2, &m);
    IT_CHECK(it_get_int(m.result, "id", &x2));
    it_msg_free(&m);
    OK(c, "project.create", a3, &m);
    IT_CHECK(it_get_int(m.result, "id", &x3));
    it_msg_free(&m);
    int64_t ids[600], next;
    size_t n;
    kv f1[] = {S("township", "黄盖湖镇"), I("limit", 500)};
    IT_CHECK(list_ids(c, f1, NKV(f1), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 2 && ids[0] == x1 && ids[1] == x2 && next == 0);
    kv f2[] = {S("cluster", "青砖茶"), I("limit", 500)};
    IT_CHECK(list_ids(c, f2, NKV(f2), ids, 600, &n, &next) == 0);
    IT_CHECK(has(ids, n, x1) && !has(ids, n, x2) && !has(ids, n, x3));
    kv f3[] = {S("stage", "洽谈"), S("name_contains", "筛选"), I("limit", 500)};
    IT_CHECK(list_ids(c, f3, NKV(f3), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 1 && ids[0] == x3);
    kv f4[] = {S("priority", "一般"), S("name_contains", "筛选"), I("limit", 500)};
    IT_CHECK(list_ids(c, f4, NKV(f4), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 2 && ids[0] == x2 && ids[1] == x3);
    kv f5[] = {I("lead_unit_id", g_unit_b), S("name_contains", "筛选"), I("limit", 500)};
    IT_CHECK(list_ids(c, f5, NKV(f5), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 1 && ids[0] == x1);
    kv f6[] = {I("investment_min", 5000), I("investment_max", 9000), S("name_contains", "筛选"),
               I("limit", 500)};
    IT_CHECK(list_ids(c, f6, NKV(f6), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 2 && ids[0] == x2 && ids[1] == x3);
    kv f7[] = {I("investment_max", 4999), S("name_contains", "筛选"), I("limit", 500)};
    IT_CHECK(list_ids(c, f7, NKV(f7), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 1 && ids[0] == x1);
    kv f8[] = {S("township", "不存在镇")};
    IT_CHECK(list_ids(c, f8, NKV(f8), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 0 && next == 0);
    kv e1[] = {I("investment_min", 10), I("investment_max", 9)};
    FAILS(c, "project.list", e1, "invalid_argument", "investment_min");
    kv e2[] = {S("stage", "完工")};
    FAILS(c, "project.list", e2, "invalid_argument", "stage");
    kv e3[] = {S("priority", "重点")};
    FAILS(c, "project.list", e3, "invalid_argument", "priority");
    kv e4[] = {I("limit", 501)};
    FAILS(c, "project.list", e4, "invalid_argument", "limit");
    kv e5[] = {N("after")};
    FAILS(c, "project.list", e5, "invalid_argument", "after");
    kv e6[] = {S("town", "x")};
    FAILS(c, "project.list", e6, "invalid_argument", "town");
    it_close(c);
    return 0;
}

static int paging_neither_skips_nor_repeats_while_rows_arrive(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    enum { N0 = 23 };
    int64_t made[N0 + 8];
    for (int i = 0; i < N0; i++) {
        char name[64];
        snprintf(name, sizeof name, "分页项目%02d", i);
        made[i] = new_project(c, name, "蒲圻街道", "一般", 1000 + i, NULL);
        IT_CHECK(made[i] > 0);
    }
    int64_t seen[200];
    size_t nseen = 0;
    int64_t after = 0;
    int pages = 0, extra = 0;
    for (;;) {
        kv a[] = {S("name_contains", "分页项目"), I("after", after), I("limit", 5)};
        int64_t ids[5], next;
        size_t n;
        IT_CHECK(list_ids(c, a, NKV(a), ids, 5, &n, &next) == 0);
        for (size_t i = 0; i < n; i++) {
            IT_CHECKF(!has(seen, nseen, ids[i]), "id %lld repeated", (long long)ids[i]);
            IT_CHECK(ids[i] > after);
            seen[nseen++] = ids[i];
        }
        pages++;
        if (next == 0)
            break;
        IT_CHECK(next == ids[n - 1]);
        after = next;
        if (extra < 8) { /* a new row between pages: may or may not appear */
            char name[64];
            snprintf(name, sizeof name, "分页项目新%d", extra);
            made[N0 + extra] = new_project(c, name, "蒲圻街道", "一般", 1, NULL);
            IT_CHECK(made[N0 + extra] > 0);
            extra++;
        }
    }
    for (int i = 0; i < N0; i++)
        IT_CHECKF(has(seen, nseen, made[i]), "id %lld skipped", (long long)made[i]);
    IT_CHECK(pages >= 5);
    it_close(c);
    return 0;
}

/* ---- roles and scope ---- */

static int only_supervisors_write_and_everyone_reads(void)
{
    it_server *s = it_shared_server();
    it_conn *sup = it_connect(s->port);
    IT_CHECK(sup != NULL);
    int64_t id = new_project(sup, "角色测试项目", "赵李桥镇", "一般", 1, NULL);
    IT_CHECK(id > 0);
    const char *writers_refused[] = {IT_USER_STAFF, IT_USER_ADMIN};
    for (int u = 0; u < 2; u++) {
        it_conn *c = it_connect_as(s->port, writers_refused[u], IT_PASSWORD);
        IT_CHECK(c != NULL);
        static const char *const writes[] = {"project.create", "project.update",
                                             "project.move_stage", "project.set_milestone"};
        for (int w = 0; w < 4; w++) {
            kv none[] = {I("id", id)};
            /* The gate answers before the arguments: forbidden, no field. */
            IT_CHECK(fails(c, writes[w], none, 1, "forbidden", NULL, NULL, 0) == 0);
        }
        static const char *const reads[] = {"project.get", "project.history"};
        for (int r = 0; r < 2; r++) {
            kv a[] = {I("id", id)};
            it_msg m;
            OK(c, reads[r], a, &m);
            it_msg_free(&m);
        }
        kv l[] = {S("name_contains", "角色测试")};
        int64_t ids[4], next;
        size_t n;
        IT_CHECK(list_ids(c, l, NKV(l), ids, 4, &n, &next) == 0);
        IT_CHECK(n == 1 && ids[0] == id);
        it_close(c);
    }
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    kv g[] = {I("id", id)};
    FAILS(anon, "project.get", g, "unauthenticated", NULL);
    FAILS(anon, "project.list", g, "unauthenticated", NULL);
    it_close(anon);
    it_close(sup);
    return 0;
}

static int township_staff_see_only_their_townships(void)
{
    it_server *s = it_shared_server();
    it_conn *sup = it_connect(s->port);
    IT_CHECK(sup != NULL);
    int64_t in = new_project(sup, "范围内高新项目", "高新技术产业园区", "一般", 1, NULL);
    int64_t out = new_project(sup, "范围外新店项目", "新店镇", "一般", 1, NULL);
    IT_CHECK(in > 0 && out > 0);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    kv gi[] = {I("id", in)};
    it_msg m;
    OK(c, "project.get", gi, &m);
    it_msg_free(&m);
    /* Out of scope: exactly as missing (code, field, message with the id). */
    char msg_out[600], msg_missing[600];
    kv go[] = {I("id", out)};
    IT_CHECK(fails(c, "project.get", go, 1, "not_found", "id", msg_out, sizeof msg_out) == 0);
    char want[128];
    snprintf(want, sizeof want, "project %lld does not exist", (long long)out);
    IT_CHECK_STR(msg_out, want);
    kv gm[] = {I("id", 999999999)};
    IT_CHECK(fails(c, "project.get", gm, 1, "not_found", "id", msg_missing, sizeof msg_missing) == 0);
    IT_CHECK_STR(msg_missing, "project 999999999 does not exist");
    IT_CHECK(fails(c, "project.history", go, 1, "not_found", "id", msg_out, sizeof msg_out) == 0);
    IT_CHECK_STR(msg_out, want);
    /* Lists leave it out whatever the filters. */
    int64_t ids[600], next;
    size_t n;
    kv l1[] = {S("township", "新店镇")};
    IT_CHECK(list_ids(c, l1, NKV(l1), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 0 && next == 0);
    kv l2[] = {S("name_contains", "范围外新店")};
    IT_CHECK(list_ids(c, l2, NKV(l2), ids, 600, &n, &next) == 0);
    IT_CHECK(n == 0);
    kv l3[] = {I("limit", 500)};
    IT_CHECK(list_ids(c, l3, NKV(l3), ids, 600, &n, &next) == 0);
    IT_CHECK(has(ids, n, in) && !has(ids, n, out));
    IT_CHECK(n == (size_t)it_pg_int("SELECT count(*) FROM project p JOIN township t"
                                    " ON t.id = p.township_id"
                                    " WHERE t.name IN ('赵李桥镇', '高新技术产业园区')",
                                    0, NULL));
    it_close(c);
    /* it_staff2 (新店镇) sees the other one. */
    c = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c != NULL);
    OK(c, "project.get", go, &m);
    it_msg_free(&m);
    FAILS(c, "project.get", gi, "not_found", "id");
    it_close(c);
    it_close(sup);
    return 0;
}

/* The enterprise_id a project.get answer (or a project.list item with
 * that id) shows: 0 for nil, -1 when the project is not in the answer. */
static int64_t investor_of(it_conn *c, const char *method, int64_t id)
{
    it_msg m;
    kv g[] = {I("id", id)};
    kv l[] = {S("name_contains", "投资方测试"), I("limit", 50)};
    bool get = strcmp(method, "project.get") == 0;
    if (ok(c, method, get ? g : l, get ? NKV(g) : NKV(l), &m) != 0)
        return -1;
    const msgpack_object *p = NULL;
    if (get) {
        p = m.result;
    } else {
        const msgpack_object *items = it_map_get(m.result, "items");
        for (uint32_t i = 0; items != NULL && i < items->via.array.size; i++) {
            int64_t v;
            if (it_get_int(&items->via.array.ptr[i], "id", &v) && v == id)
                p = &items->via.array.ptr[i];
        }
    }
    const msgpack_object *e = p != NULL ? it_map_get(p, "enterprise_id") : NULL;
    int64_t v = -1;
    if (e != NULL && e->type == MSGPACK_OBJECT_NIL)
        v = 0;
    else if (e != NULL && !it_obj_int(e, &v))
        v = -1;
    it_msg_free(&m);
    return v;
}

/* A project in a township of theirs whose investor is registered in
 * another township: township staff see the project with enterprise_id nil
 * (enterprise.get would answer not_found: overdue.milestones hides the
 * same investor), in project.get and in project.list; an investor inside
 * their townships is shown, and supervisors see every investor. */
static int investor_outside_their_townships_is_hidden_from_staff(void)
{
    it_server *s = it_shared_server();
    it_conn *sup = it_connect(s->port);
    IT_CHECK(sup != NULL);
    int64_t far = it_shared_enterprise(951, "新店镇投资方", "新店镇");
    IT_CHECK(far > 0);
    kv a1[] = {S("name", "投资方测试外地"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "高新技术产业园区"), I("enterprise_id", far)};
    kv a2[] = {S("name", "投资方测试本地"), I("planned_investment", 1), S("priority", "一般"),
               S("township", "高新技术产业园区"), I("enterprise_id", g_ent)};
    it_msg m;
    int64_t p_far = -1, p_near = -1;
    OK(sup, "project.create", a1, &m);
    IT_CHECK(it_get_int(m.result, "id", &p_far));
    it_msg_free(&m);
    OK(sup, "project.create", a2, &m);
    IT_CHECK(it_get_int(m.result, "id", &p_near));
    it_msg_free(&m);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(staff != NULL);
    const char *const methods[] = {"project.get", "project.list"};
    for (int i = 0; i < 2; i++) {
        int64_t v = investor_of(staff, methods[i], p_far);
        IT_CHECKF(v == 0, "%s: township staff saw investor %lld of another township",
                  methods[i], (long long)v);
        IT_CHECK(investor_of(staff, methods[i], p_near) == g_ent);
        IT_CHECK(investor_of(sup, methods[i], p_far) == far);
        IT_CHECK(investor_of(sup, methods[i], p_near) == g_ent);
    }
    /* and the investor itself stays hidden from them */
    kv ge[] = {I("id", far)};
    FAILS(staff, "enterprise.get", ge, "not_found", "id");
    it_close(staff);
    it_close(sup);
    return 0;
}


/* A change to a user made behind every baobaod's back: its notification
 * (sql/027_session_epoch.sql) is held back, so the session lives on in
 * the server's memory and what answers is the database's own check (the
 * second wall), as for a change that commits while a request is already
 * past the gate. */
static int exec_untold(const char *sql, int nparams, const char *const *params)
{
    if (it_pg_exec("ALTER TABLE app_user DISABLE TRIGGER app_user_epoch_notify", 0, NULL) != 0)
        return -1;
    int rc = it_pg_exec(sql, nparams, params);
    if (it_pg_exec("ALTER TABLE app_user ENABLE TRIGGER app_user_epoch_notify", 0, NULL) != 0)
        return -1;
    return rc;
}

/* A supervisor demoted in the database while logged in: the write
 * function refuses (the second wall), nothing stored. */
static int the_database_refuses_a_writer_no_longer_supervisor(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(it_pg_exec("INSERT INTO app_user (login, display_name, role, password_hash)"
                        " SELECT 'prj_demoted', '将降级', 'supervisor', password_hash"
                        "   FROM app_user WHERE login = 'it_super'",
                        0, NULL) == 0);
    it_conn *c = it_connect_as(s->port, "prj_demoted", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(exec_untold("UPDATE app_user SET role = 'admin' WHERE login = 'prj_demoted'", 0,
                        NULL) == 0);
    kv a[] = {S("name", "降级后项目"), I("planned_investment", 1), S("priority", "一般"),
              S("township", "赤壁镇")};
    FAILS(c, "project.create", a, "forbidden", NULL);
    IT_CHECK(exec_untold("UPDATE app_user SET disabled = true WHERE login = 'prj_demoted'", 0,
                        NULL) == 0);
    FAILS(c, "project.create", a, "unauthenticated", NULL);
    IT_CHECK(it_pg_int("SELECT count(*) FROM project WHERE name = '降级后项目'", 0, NULL) == 0);
    it_close(c);
    return 0;
}

/* ---- the CLI ---- */

/* Runs the CLI with args; checks its exit status and that stdout (or
 * stderr for a failure) holds each of the NULL-terminated wants. */
static int cli_expect(const char *server, const char *const *args, int status,
                      const char *const *wants)
{
    it_cli r;
    IT_CHECK(it_cli_run(&r, server, 30000, args) == 0);
    const char *text = status == 0 ? r.out : r.err;
    bool good = r.status == status;
    for (size_t i = 0; good && wants[i] != NULL; i++)
        good = strstr(text, wants[i]) != NULL;
    if (!good)
        it_fail(__FILE__, __LINE__, "baobao %s %s: status %d (want %d)\nstdout: %s\nstderr: %s",
                args[0], args[1], r.status, status, r.out, r.err);
    it_cli_free(&r);
    return good ? 0 : -1;
}

static int cli_adds_shows_moves_and_lists_projects(void)
{
    if (getenv("BAOBAO_CLI") == NULL) {
        it_note("BAOBAO_CLI unset: CLI test skipped");
        return 0;
    }
    it_server *s = it_shared_server();
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    IT_CHECK(cli_expect(server,
                        (const char *const[]){"project", "add", "--name", "思贝林药业扩建",
                                              "--investment", "3.5亿", "--priority", "市级重点",
                                              "--township", "赤壁镇", "--cluster", "大健康",
                                              "--json", NULL},
                        0, (const char *const[]){"\"planned_investment\": 350000000", NULL}) == 0);
    long long id = it_pg_int("SELECT id FROM project WHERE name = '思贝林药业扩建'", 0, NULL);
    IT_CHECK(id > 0);
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    IT_CHECK(cli_expect(server,
                        (const char *const[]){"project", "move", ids, "--version", "1",
                                              "--stage", "签约", NULL},
                        0, (const char *const[]){"签约", NULL}) == 0);
    IT_CHECK(cli_expect(server,
                        (const char *const[]){"project", "plan", ids, "--node", "开工",
                                              "--planned", "2025-03-01", NULL},
                        0, (const char *const[]){"2025-03-01", NULL}) == 0);
    IT_CHECK(cli_expect(server, (const char *const[]){"project", "show", ids, NULL}, 0,
                        (const char *const[]){"思贝林药业扩建", "350,000,000 元 (35000 万元)",
                                              "MILESTONE", "2025-03-01", NULL}) == 0);
    IT_CHECK(cli_expect(server, (const char *const[]){"project", "list", "--name", "思贝林", NULL},
                        0, (const char *const[]){"思贝林药业扩建", "签约", "35000", NULL}) == 0);
    IT_CHECK(cli_expect(server, (const char *const[]){"project", "history", ids, NULL}, 0,
                        (const char *const[]){"信息收集 → 签约 (skipped 研判 洽谈)",
                                              "开工 planned - → 2025-03-01", NULL}) == 0);
    /* A refusal: exit 1 with the code; a bad command line: exit 2. */
    IT_CHECK(cli_expect(server,
                        (const char *const[]){"project", "move", ids, "--version", "3",
                                              "--stage", "洽谈", NULL},
                        1, (const char *const[]){"invalid_argument", NULL}) == 0);
    IT_CHECK(cli_expect(server, (const char *const[]){"project", "add", "--name", "x", NULL}, 2,
                        (const char *const[]){"--investment", NULL}) == 0);
    return 0;
}

static const it_test tests[] = {
    {"create_and_get_round_trip_with_five_milestones",
     create_and_get_round_trip_with_five_milestones},
    {"create_refuses_bad_arguments_with_their_field",
     create_refuses_bad_arguments_with_their_field},
    {"a_jump_forward_records_the_skipped_stages", a_jump_forward_records_the_skipped_stages},
    {"backward_same_stage_and_stale_versions_are_refused",
     backward_same_stage_and_stale_versions_are_refused},
    {"pause_needs_a_reason_and_resumes_at_paused_from_or_later",
     pause_needs_a_reason_and_resumes_at_paused_from_or_later},
    {"terminated_and_completed_projects_move_no_more",
     terminated_and_completed_projects_move_no_more},
    {"actual_date_not_after_today_in_the_configured_zone",
     actual_date_not_after_today_in_the_configured_zone},
    {"production_cannot_precede_construction_start",
     production_cannot_precede_construction_start},
    {"replanning_needs_a_reason_and_keeps_the_old_plan",
     replanning_needs_a_reason_and_keeps_the_old_plan},
    {"an_actual_date_moves_the_stage_forward_to_its_node",
     an_actual_date_moves_the_stage_forward_to_its_node},
    {"update_changes_given_fields_and_checks_the_version",
     update_changes_given_fields_and_checks_the_version},
    {"a_retry_with_the_same_key_stores_once_and_other_users_cannot_reuse_it",
     a_retry_with_the_same_key_stores_once_and_other_users_cannot_reuse_it},
    {"every_write_leaves_one_audit_row_and_a_refusal_none",
     every_write_leaves_one_audit_row_and_a_refusal_none},
    {"list_filters_each_narrow_to_their_rows", list_filters_each_narrow_to_their_rows},
    {"paging_neither_skips_nor_repeats_while_rows_arrive",
     paging_neither_skips_nor_repeats_while_rows_arrive},
    {"only_supervisors_write_and_everyone_reads", only_supervisors_write_and_everyone_reads},
    {"township_staff_see_only_their_townships", township_staff_see_only_their_townships},
    {"investor_outside_their_townships_is_hidden_from_staff",
     investor_outside_their_townships_is_hidden_from_staff},
    {"the_database_refuses_a_writer_no_longer_supervisor",
     the_database_refuses_a_writer_no_longer_supervisor},
    {"cli_adds_shows_moves_and_lists_projects", cli_adds_shows_moves_and_lists_projects},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "projects", tests, sizeof tests / sizeof tests[0], setup);
}
