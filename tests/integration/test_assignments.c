/*
 * test_assignments.c: units, officials and 包保 assignments (PROTOCOL.md
 * section 6, unit.* / official.* / assignment.* / coverage.gaps): the
 * directory's writes and reads, each refusal of assignment.create and
 * assignment.end with its code and field, overlapping periods, versions,
 * idempotent retries, the audit rows, who may call what, township staff
 * seeing only assignments, projects and problems of their townships, an
 * official's and a unit's portfolio on a given day, coverage gaps (a row
 * per missing (target, role), filters, keyset paging), and the CLI.
 *
 * Projects and problems are inserted with SQL (their methods are another
 * area's), so this file depends only on the tables of 007_projects.sql.
 * Users (harness.h): it_staff works for 赵李桥镇 and 高新技术产业园区,
 * it_staff2 for 新店镇.
 * Not for: projects' own rules (test_projects.c), problems
 * (test_problems.c), overdue lists (test_overdue.c).
 */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t g_msgid = 10;
static int64_t g_ent_in;     /* 赵李桥镇, 规上: a key enterprise in it_staff's scope */
static int64_t g_ent_out;    /* 新店镇, 规上: outside it_staff's scope */
static int64_t g_ent_plain;  /* 赵李桥镇, no labels: not key */
static int64_t g_ent_gap;    /* 茶庵岭镇, 重点企业: only the coverage tests touch it */

/* ---- helpers ---- */

/*
 * Builds [0, id, method, [{...}]] from nargs (key, type, value) triples:
 * type 's' a const char *, 'i' an int64_t, 'n' nil (no value).
 */
static void build(it_buf *b, uint32_t id, const char *method, size_t nargs, ...)
{
    va_list ap;
    va_start(ap, nargs);
    it_req(b, id, method, nargs);
    for (size_t i = 0; i < nargs; i++) {
        const char *key = va_arg(ap, const char *);
        int type = va_arg(ap, int);
        if (type == 's')
            it_kv_str(b, key, va_arg(ap, const char *));
        else if (type == 'i')
            it_kv_int(b, key, va_arg(ap, int64_t));
        else
            it_kv_nil(b, key);
    }
    va_end(ap);
}
#define S(k, v) (k), 's', (const char *)(v)
#define I(k, v) (k), 'i', (int64_t)(v)
#define N(k) (k), 'n'

/* Sends b and reads the reply to its msgid. */
static int call(it_conn *c, it_buf *b, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

static int expect_err(it_conn *c, it_buf *b, const char *code, const char *field, char *msg,
                      size_t msglen)
{
    it_msg m;
    IT_CHECK(call(c, b, &m) == IT_RECV_MSG);
    char d[800];
    bool ok = m.is_error && strcmp(m.code, code) == 0 &&
              strcmp(m.field, field != NULL ? field : "") == 0;
    if (ok && msg != NULL)
        snprintf(msg, msglen, "%s", m.message);
    if (!ok)
        it_fail(__FILE__, __LINE__, "expected %s (field %s), got %s", code,
                field != NULL ? field : "-", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return ok ? 0 : -1;
}

static int expect_ok(it_conn *c, it_buf *b, it_msg *out)
{
    IT_CHECK(call(c, b, out) == IT_RECV_MSG);
    char d[800];
    if (out->is_error) {
        it_fail(__FILE__, __LINE__, "expected success, got %s", it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

/* Calls and returns result[key] as an int (-1 on any failure, noted). */
static int64_t call_id(it_conn *c, it_buf *b, const char *key)
{
    it_msg m;
    if (expect_ok(c, b, &m) != 0)
        return -1;
    int64_t v = -1;
    if (!it_get_int(m.result, key, &v))
        it_note("result has no int %s", key);
    it_msg_free(&m);
    return v;
}

#define REQ(...) build(&b, ++g_msgid, __VA_ARGS__)

static it_conn *conn_as(const char *login)
{
    it_server *s = it_shared_server();
    if (s == NULL)
        return NULL;
    return it_connect_as(s->port, login, IT_PASSWORD);
}

static int64_t new_unit(it_conn *c, const char *name)
{
    it_buf b;
    it_buf_init(&b);
    REQ("unit.create", 1, S("name", name));
    int64_t id = call_id(c, &b, "id");
    it_buf_free(&b);
    return id;
}

static int64_t new_official(it_conn *c, const char *name, int64_t unit_id)
{
    it_buf b;
    it_buf_init(&b);
    if (unit_id > 0)
        REQ("official.create", 2, S("name", name), I("unit_id", unit_id));
    else
        REQ("official.create", 1, S("name", name));
    int64_t id = call_id(c, &b, "id");
    it_buf_free(&b);
    return id;
}

/* An assignment of an official (holder_unit false) or a unit to an
 * enterprise (to_project false) or a project; end NULL = open. */
static int64_t new_assignment(it_conn *c, bool holder_unit, int64_t holder, bool to_project,
                              int64_t target, const char *role, const char *start,
                              const char *end)
{
    it_buf b;
    it_buf_init(&b);
    const char *hk = holder_unit ? "unit_id" : "official_id";
    const char *tk = to_project ? "project_id" : "enterprise_id";
    if (end != NULL)
        REQ("assignment.create", 5, I(hk, holder), I(tk, target), S("role", role),
            S("period_start", start), S("period_end", end));
    else
        REQ("assignment.create", 4, I(hk, holder), I(tk, target), S("role", role),
            S("period_start", start));
    int64_t id = call_id(c, &b, "id");
    it_buf_free(&b);
    return id;
}

/* A project inserted with SQL, with its five milestone rows. */
static int64_t sql_project(const char *name, const char *priority, const char *township,
                           int64_t lead_unit, const char *stage)
{
    char lu[32];
    snprintf(lu, sizeof lu, "%lld", (long long)lead_unit);
    const char *p[5] = {name, priority, township, lead_unit > 0 ? lu : NULL, stage};
    long long id = it_pg_int(
        "INSERT INTO project (name, planned_investment, priority, township_id, lead_unit_id,"
        " stage, stage_reason)"
        " VALUES ($1, 500000000, $2, (SELECT id FROM township WHERE name = $3), $4::bigint,"
        " $5, CASE WHEN $5 IN ('终止', '暂停') THEN '测试' END) RETURNING id",
        5, p);
    if (id <= 0)
        return -1;
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *q[1] = {ids};
    if (it_pg_exec("INSERT INTO project_milestone (project_id, node)"
                   " SELECT $1::bigint, n FROM unnest(ARRAY['签约', '注册', '开工', '投产', '竣工']) n",
                   1, q) != 0)
        return -1;
    return id;
}

/* A problem inserted with SQL; closed = state 确认. */
static int64_t sql_problem(int64_t enterprise, int64_t unit, int64_t official, bool closed)
{
    char e[32], u[32], o[32];
    snprintf(e, sizeof e, "%lld", (long long)enterprise);
    snprintf(u, sizeof u, "%lld", (long long)unit);
    snprintf(o, sizeof o, "%lld", (long long)official);
    const char *p[4] = {e, unit > 0 ? u : NULL, official > 0 ? o : NULL, closed ? "t" : "f"};
    return it_pg_int(
        "INSERT INTO problem (enterprise_id, category, description, assignee_unit_id,"
        " assignee_official_id, deadline, state, closed_at)"
        " VALUES ($1::bigint, '用地', '用地指标不足', $2::bigint, $3::bigint, DATE '2024-03-10',"
        " CASE WHEN $4::boolean THEN '确认' ELSE '办理' END,"
        " CASE WHEN $4::boolean THEN now() END) RETURNING id",
        4, p);
}

static int set_labels(int64_t enterprise, const char *labels)
{
    char e[32];
    snprintf(e, sizeof e, "%lld", (long long)enterprise);
    const char *p[2] = {e, labels};
    return it_pg_exec("UPDATE enterprise SET labels = $2::text[] WHERE id = $1::bigint", 2, p);
}

/* Number of items of result[key] (an array), -1 when not an array. */
static int array_len(const msgpack_object *map, const char *key)
{
    const msgpack_object *a = it_map_get(map, key);
    return a != NULL && a->type == MSGPACK_OBJECT_ARRAY ? (int)a->via.array.size : -1;
}

/* True when result[key] (an array of maps) holds one whose int `id_key` is id. */
static bool array_has_id(const msgpack_object *map, const char *key, const char *id_key,
                         int64_t id)
{
    const msgpack_object *a = it_map_get(map, key);
    if (a == NULL || a->type != MSGPACK_OBJECT_ARRAY)
        return false;
    for (uint32_t i = 0; i < a->via.array.size; i++) {
        int64_t v;
        if (it_get_int(&a->via.array.ptr[i], id_key, &v) && v == id)
            return true;
    }
    return false;
}

static int setup(void)
{
    g_ent_in = it_shared_enterprise(9100, "赵李桥规上茶厂", "赵李桥镇");
    g_ent_out = it_shared_enterprise(9101, "新店规上纺织", "新店镇");
    g_ent_plain = it_shared_enterprise(9102, "赵李桥小作坊", "赵李桥镇");
    g_ent_gap = it_shared_enterprise(9103, "茶庵岭重点电子", "茶庵岭镇");
    IT_CHECK(g_ent_in > 0 && g_ent_out > 0 && g_ent_plain > 0 && g_ent_gap > 0);
    IT_CHECK(set_labels(g_ent_in, "{规上}") == 0);
    IT_CHECK(set_labels(g_ent_out, "{规上}") == 0);
    IT_CHECK(set_labels(g_ent_gap, "{重点企业}") == 0);
    return 0;
}

/* ---- units and officials ---- */

static int units_are_created_read_listed_and_unique_by_name(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    REQ("unit.create", 2, S("name", "招商服务中心"), S("idempotency_key", "unit-k1"));
    it_msg m;
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    int64_t id = 0, version = 0;
    IT_CHECK(it_get_int(m.result, "id", &id) && it_get_int(m.result, "version", &version));
    IT_CHECK(version == 1);
    IT_CHECK(it_get_str_eq(m.result, "name", "招商服务中心"));
    IT_CHECK(m.result->via.map.size == 5);
    it_msg_free(&m);

    /* A retry with the key: the same unit, nothing new. */
    REQ("unit.create", 2, S("name", "招商服务中心"), S("idempotency_key", "unit-k1"));
    IT_CHECK(call_id(c, &b, "id") == id);
    REQ("unit.create", 2, S("name", "别的单位"), S("idempotency_key", "unit-k1"));
    IT_CHECK(expect_err(c, &b, "idempotency_key_reused", "idempotency_key", NULL, 0) == 0);
    /* Without the key, the name is taken. */
    REQ("unit.create", 1, S("name", "招商服务中心"));
    IT_CHECK(expect_err(c, &b, "already_exists", "name", NULL, 0) == 0);
    /* 51 characters (the limit is 50 characters, not bytes). */
    char longname[51 * 3 + 1] = "";
    for (int i = 0; i < 51; i++)
        strcat(longname, "局");
    REQ("unit.create", 1, S("name", longname));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "name", NULL, 0) == 0);
    longname[50 * 3] = '\0';
    REQ("unit.create", 1, S("name", longname));
    IT_CHECK(call_id(c, &b, "id") > 0);

    REQ("unit.get", 1, I("id", id));
    IT_CHECK(call_id(c, &b, "id") == id);
    REQ("unit.get", 1, I("id", 987654321));
    IT_CHECK(expect_err(c, &b, "not_found", "id", NULL, 0) == 0);

    REQ("unit.list", 1, S("name_contains", "招商服务"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 1 && array_has_id(m.result, "items", "id", id));
    it_msg_free(&m);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'unit'"
                       " AND method = 'unit.create' AND after ->> 'name' = '招商服务中心'",
                       0, NULL) == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

static int officials_are_created_updated_with_versions_and_listed_by_unit(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t unit = new_unit(c, "发改局");
    IT_CHECK(unit > 0);
    it_buf b;
    it_buf_init(&b);
    REQ("official.create", 4, S("name", "王建国"), S("title", "副局长"), I("unit_id", unit),
        S("phone", "0715-5321234"));
    it_msg m;
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    int64_t id = 0;
    IT_CHECK(it_get_int(m.result, "id", &id));
    IT_CHECK(it_get_str_eq(m.result, "unit_name", "发改局"));
    IT_CHECK(it_get_str_eq(m.result, "title", "副局长"));
    IT_CHECK(m.result->via.map.size == 10);
    it_msg_free(&m);

    REQ("official.create", 2, S("name", "李四"), S("phone", "call me"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "phone", NULL, 0) == 0);
    REQ("official.create", 2, S("name", "李四"), I("unit_id", 987654321));
    IT_CHECK(expect_err(c, &b, "not_found", "unit_id", NULL, 0) == 0);
    REQ("official.create", 2, S("name", "李四"), I("user_id", 987654321));
    IT_CHECK(expect_err(c, &b, "not_found", "user_id", NULL, 0) == 0);

    /* Update: nil title clears it, the unit moves; a stale version changes nothing. */
    REQ("official.update", 4, I("id", id), I("version", 1), N("title"), N("unit_id"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    int64_t version = 0;
    IT_CHECK(it_get_int(m.result, "version", &version) && version == 2);
    const msgpack_object *t = it_map_get(m.result, "title");
    IT_CHECK(t != NULL && t->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_get_str_eq(m.result, "phone", "0715-5321234"));
    it_msg_free(&m);
    REQ("official.update", 3, I("id", id), I("version", 1), S("name", "王二"));
    IT_CHECK(expect_err(c, &b, "version_conflict", "version", NULL, 0) == 0);
    REQ("official.update", 3, I("id", 987654321), I("version", 1), S("name", "王二"));
    IT_CHECK(expect_err(c, &b, "not_found", "id", NULL, 0) == 0);
    REQ("official.update", 3, I("id", id), I("version", 2), N("name"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "name", NULL, 0) == 0);
    REQ("official.get", 1, I("id", id));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "name", "王建国"));
    it_msg_free(&m);

    int64_t o2 = new_official(c, "赵六", unit);
    int64_t o3 = new_official(c, "钱七", unit);
    IT_CHECK(o2 > 0 && o3 > 0);
    /* official.list by unit, in pages of one. */
    int64_t after = 0;
    int seen = 0;
    for (int page = 0; page < 5; page++) {
        REQ("official.list", 3, I("unit_id", unit), I("after", after), I("limit", 1));
        IT_CHECK(expect_ok(c, &b, &m) == 0);
        int n = array_len(m.result, "items");
        seen += n;
        const msgpack_object *next = it_map_get(m.result, "next");
        bool last = next == NULL || next->type == MSGPACK_OBJECT_NIL;
        if (!last)
            IT_CHECK(it_get_int(m.result, "next", &after));
        it_msg_free(&m);
        if (last)
            break;
    }
    IT_CHECK(seen == 2);   /* 赵六 and 钱七; 王建国 left the unit */
    REQ("official.list", 1, N("unit_id"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "unit_id", NULL, 0) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'official'"
                       " AND method = 'official.update'", 0, NULL) == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- assignments ---- */

static int assignment_create_refuses_each_bad_shape_with_its_field(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t unit = new_unit(c, "经信局");
    int64_t off = new_official(c, "孙八", unit);
    IT_CHECK(unit > 0 && off > 0);
    it_buf b;
    it_buf_init(&b);
    REQ("assignment.create", 3, I("enterprise_id", g_ent_in), S("role", "联络员"),
        S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "official_id", NULL, 0) == 0);
    REQ("assignment.create", 5, I("official_id", off), I("unit_id", unit),
        I("enterprise_id", g_ent_in), S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "unit_id", NULL, 0) == 0);
    REQ("assignment.create", 3, I("official_id", off), S("role", "联络员"),
        S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "enterprise_id", NULL, 0) == 0);
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        I("project_id", 1), S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "project_id", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "责任单位"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "role", NULL, 0) == 0);
    REQ("assignment.create", 4, I("unit_id", unit), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "role", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "包保干部"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "role", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-02-30"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "period_start", NULL, 0) == 0);
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-03-01"), S("period_end", "2024-02-29"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "period_end", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), N("period_start"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "period_start", NULL, 0) == 0);
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-01-01"), S("note", "x"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "note", NULL, 0) == 0);
    /* In the database: the holder, then the target. */
    REQ("assignment.create", 4, I("official_id", 987654321), I("enterprise_id", 987654321),
        S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "not_found", "official_id", NULL, 0) == 0);
    REQ("assignment.create", 4, I("unit_id", 987654321), I("enterprise_id", g_ent_in),
        S("role", "责任单位"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "not_found", "unit_id", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("enterprise_id", 987654321),
        S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "not_found", "enterprise_id", NULL, 0) == 0);
    REQ("assignment.create", 4, I("official_id", off), I("project_id", 987654321),
        S("role", "联络员"), S("period_start", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "not_found", "project_id", NULL, 0) == 0);
    /* Nothing of it was stored. */
    char offs[32];
    snprintf(offs, sizeof offs, "%lld", (long long)off);
    const char *p[1] = {offs};
    IT_CHECK(it_pg_int("SELECT count(*) FROM assignment WHERE official_id = $1::bigint", 1, p) == 0);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

static int overlapping_periods_are_refused_and_end_moves_the_period(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t off = new_official(c, "周九", 0);
    IT_CHECK(off > 0);
    it_buf b;
    it_buf_init(&b);
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-01-01"), S("idempotency_key", "asg-k1"));
    it_msg m;
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    int64_t a1 = 0;
    IT_CHECK(it_get_int(m.result, "id", &a1));
    IT_CHECK(it_get_str_eq(m.result, "role", "联络员"));
    IT_CHECK(it_get_str_eq(m.result, "official_name", "周九"));
    IT_CHECK(it_get_str_eq(m.result, "target_name", "赵李桥规上茶厂"));
    IT_CHECK(it_get_str_eq(m.result, "township", "赵李桥镇"));
    IT_CHECK(it_get_str_eq(m.result, "period_start", "2024-01-01"));
    const msgpack_object *pe = it_map_get(m.result, "period_end");
    IT_CHECK(pe != NULL && pe->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(m.result->via.map.size == 15);
    it_msg_free(&m);
    /* The retry returns the first result; the same key with other arguments is refused. */
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-01-01"), S("idempotency_key", "asg-k1"));
    IT_CHECK(call_id(c, &b, "id") == a1);
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2024-01-02"), S("idempotency_key", "asg-k1"));
    IT_CHECK(expect_err(c, &b, "idempotency_key_reused", "idempotency_key", NULL, 0) == 0);

    /* The same person in the same role of the same enterprise, overlapping. */
    REQ("assignment.create", 5, I("official_id", off), I("enterprise_id", g_ent_in),
        S("role", "联络员"), S("period_start", "2023-06-01"), S("period_end", "2024-01-01"));
    IT_CHECK(expect_err(c, &b, "already_exists", "period_start", NULL, 0) == 0);
    /* Another role of the same enterprise is fine. */
    IT_CHECK(new_assignment(c, false, off, false, g_ent_in, "包保市领导", "2024-01-01", NULL) > 0);

    /* end: version, the end before the start, then success. */
    REQ("assignment.end", 3, I("id", a1), I("version", 2), S("period_end", "2024-06-30"));
    IT_CHECK(expect_err(c, &b, "version_conflict", "version", NULL, 0) == 0);
    REQ("assignment.end", 3, I("id", a1), I("version", 1), S("period_end", "2023-12-31"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "period_end", NULL, 0) == 0);
    REQ("assignment.end", 3, I("id", 987654321), I("version", 1), S("period_end", "2024-06-30"));
    IT_CHECK(expect_err(c, &b, "not_found", "id", NULL, 0) == 0);
    REQ("assignment.end", 3, I("id", a1), I("version", 1), S("period_end", "2024-06-30"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    int64_t v = 0;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    IT_CHECK(it_get_str_eq(m.result, "period_end", "2024-06-30"));
    it_msg_free(&m);
    /* After the end the place is free; extending the first into the second is refused. */
    int64_t a2 = new_assignment(c, false, off, false, g_ent_in, "联络员", "2024-07-01", NULL);
    IT_CHECK(a2 > 0);
    REQ("assignment.end", 3, I("id", a1), I("version", 2), S("period_end", "2024-07-01"));
    IT_CHECK(expect_err(c, &b, "already_exists", "period_end", NULL, 0) == 0);

    /* assignment.list: by official, active on a day. */
    REQ("assignment.list", 2, I("official_id", off), S("active_on", "2024-03-01"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 2);   /* a1 (联络员) and 包保市领导 */
    IT_CHECK(array_has_id(m.result, "items", "id", a1));
    IT_CHECK(!array_has_id(m.result, "items", "id", a2));
    it_msg_free(&m);
    REQ("assignment.list", 3, I("official_id", off), S("role", "联络员"), I("limit", 1));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 1);
    int64_t next = 0;
    IT_CHECK(it_get_int(m.result, "next", &next) && next == a1);
    it_msg_free(&m);
    REQ("assignment.list", 4, I("official_id", off), S("role", "联络员"), I("limit", 1),
        I("after", next));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 1 && array_has_id(m.result, "items", "id", a2));
    it_msg_free(&m);

    /* The audit trail: one row per write, none for the replay or the refusals. */
    char as[32];
    snprintf(as, sizeof as, "%lld", (long long)a1);
    const char *p[1] = {as};
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'assignment'"
                       " AND entity_id = $1::bigint", 1, p) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'assignment'"
                       " AND entity_id = $1::bigint AND method = 'assignment.end'"
                       " AND changed @> ARRAY['period_end', 'version']", 1, p) == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- roles and scope ---- */

static int roles_directory_by_supervisor_and_admin_assignments_by_supervisor(void)
{
    it_conn *staff = conn_as(IT_USER_STAFF);
    it_conn *admin = conn_as(IT_USER_ADMIN);
    IT_CHECK(staff != NULL && admin != NULL);
    it_buf b;
    it_buf_init(&b);
    /* The gate answers before any argument is looked at. */
    static const char *const super_only[] = {"assignment.create", "assignment.end"};
    static const char *const directory[] = {"unit.create", "official.create", "official.update"};
    static const char *const reads[] = {"unit.get", "unit.list", "unit.portfolio",
                                        "official.get", "official.list", "official.portfolio",
                                        "assignment.get", "assignment.list", "coverage.gaps"};
    for (size_t i = 0; i < 2; i++) {
        REQ(super_only[i], 0);
        IT_CHECK(expect_err(staff, &b, "forbidden", NULL, NULL, 0) == 0);
        REQ(super_only[i], 0);
        IT_CHECK(expect_err(admin, &b, "forbidden", NULL, NULL, 0) == 0);
    }
    for (size_t i = 0; i < 3; i++) {
        REQ(directory[i], 0);
        IT_CHECK(expect_err(staff, &b, "forbidden", NULL, NULL, 0) == 0);
    }
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        it_msg m;
        REQ(reads[i], 0);
        IT_CHECK(call(staff, &b, &m) == IT_RECV_MSG);
        IT_CHECKF(!m.is_error || (strcmp(m.code, "forbidden") != 0 &&
                                  strcmp(m.code, "unauthenticated") != 0),
                  "%s by township staff: %s", reads[i], m.code);
        it_msg_free(&m);
    }
    /* Admins keep the directory. */
    int64_t u = new_unit(admin, "人社局");
    IT_CHECK(u > 0);
    IT_CHECK(new_official(admin, "吴十", u) > 0);
    /* Not logged in: unauthenticated. */
    it_server *s = it_shared_server();
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    REQ("unit.list", 0);
    IT_CHECK(expect_err(anon, &b, "unauthenticated", NULL, NULL, 0) == 0);
    it_close(anon);
    it_buf_free(&b);
    it_close(staff);
    it_close(admin);
    return 0;
}

/* "assignment 123 does not exist" with the id replaced by X. */
static void generic_message(const char *msg, int64_t id, char *out, size_t outlen)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p = strstr(msg, ids);
    if (p == NULL) {
        snprintf(out, outlen, "%s", msg);
        return;
    }
    snprintf(out, outlen, "%.*sX%s", (int)(p - msg), msg, p + strlen(ids));
}

static int township_staff_see_only_assignments_of_their_townships(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    it_conn *staff = conn_as(IT_USER_STAFF);
    IT_CHECK(c != NULL && staff != NULL);
    int64_t unit = new_unit(c, "商务局");
    int64_t off = new_official(c, "郑十一", unit);
    IT_CHECK(unit > 0 && off > 0);
    int64_t prj_in = sql_project("高新区光电项目", "市级重点", "高新技术产业园区", unit, "洽谈");
    int64_t prj_out = sql_project("新店纺织项目", "省级重点", "新店镇", unit, "签约");
    IT_CHECK(prj_in > 0 && prj_out > 0);
    int64_t a_in = new_assignment(c, false, off, false, g_ent_in, "包保市领导", "2024-01-01", NULL);
    int64_t a_out = new_assignment(c, false, off, false, g_ent_out, "包保市领导", "2024-01-01", NULL);
    int64_t ap_in = new_assignment(c, true, unit, true, prj_in, "责任单位", "2024-01-01", NULL);
    int64_t ap_out = new_assignment(c, true, unit, true, prj_out, "责任单位", "2024-01-01", NULL);
    IT_CHECK(a_in > 0 && a_out > 0 && ap_in > 0 && ap_out > 0);
    int64_t q_in = sql_problem(g_ent_in, unit, off, false);
    int64_t q_out = sql_problem(g_ent_out, unit, off, false);
    IT_CHECK(q_in > 0 && q_out > 0);

    it_buf b;
    it_buf_init(&b);
    it_msg m;
    /* get: outside = missing, same code, message and field. */
    char m_missing[512], m_out[512], g1[512], g2[512];
    REQ("assignment.get", 1, I("id", a_in));
    IT_CHECK(call_id(staff, &b, "id") == a_in);
    REQ("assignment.get", 1, I("id", a_out));
    IT_CHECK(expect_err(staff, &b, "not_found", "id", m_out, sizeof m_out) == 0);
    REQ("assignment.get", 1, I("id", 987654321));
    IT_CHECK(expect_err(staff, &b, "not_found", "id", m_missing, sizeof m_missing) == 0);
    generic_message(m_out, a_out, g1, sizeof g1);
    generic_message(m_missing, 987654321, g2, sizeof g2);
    IT_CHECK_STR(g1, g2);
    REQ("assignment.get", 1, I("id", a_out));
    IT_CHECK(call_id(c, &b, "id") == a_out);

    /* list: by the official, the unit, the outside enterprise. */
    REQ("assignment.list", 1, I("official_id", off));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 1 && array_has_id(m.result, "items", "id", a_in));
    it_msg_free(&m);
    REQ("assignment.list", 1, I("unit_id", unit));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 1 && array_has_id(m.result, "items", "id", ap_in));
    it_msg_free(&m);
    REQ("assignment.list", 1, I("enterprise_id", g_ent_out));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 0);
    const msgpack_object *nx = it_map_get(m.result, "next");
    IT_CHECK(nx != NULL && nx->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    REQ("assignment.list", 1, I("official_id", off));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 2);
    it_msg_free(&m);

    /* Portfolios: the official and the unit themselves are a directory; their items are scoped. */
    REQ("unit.portfolio", 2, I("id", unit), S("on", "2024-05-01"));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "assignments") == 1);
    IT_CHECK(array_has_id(m.result, "assignments", "id", ap_in));
    IT_CHECK(array_len(m.result, "projects") == 1);
    IT_CHECK(array_has_id(m.result, "projects", "id", prj_in));
    IT_CHECK(array_len(m.result, "problems") == 1);
    IT_CHECK(array_has_id(m.result, "problems", "id", q_in));
    it_msg_free(&m);
    REQ("official.portfolio", 2, I("id", off), S("on", "2024-05-01"));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "assignments") == 1);
    IT_CHECK(array_has_id(m.result, "assignments", "id", a_in));
    IT_CHECK(array_len(m.result, "problems") == 1);
    it_msg_free(&m);
    REQ("official.portfolio", 2, I("id", off), S("on", "2024-05-01"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "assignments") == 2 && array_len(m.result, "problems") == 2);
    it_msg_free(&m);

    /* Coverage gaps never name a target outside the scope. */
    REQ("coverage.gaps", 2, S("on", "2024-05-01"), I("limit", 500));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size > 0);
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        char t[64];
        IT_CHECK(it_get_str(&items->via.array.ptr[i], "township", t, sizeof t));
        IT_CHECKF(strcmp(t, "赵李桥镇") == 0 || strcmp(t, "高新技术产业园区") == 0,
                  "gap in %s shown to it_staff", t);
    }
    it_msg_free(&m);
    REQ("coverage.gaps", 2, S("township", "新店镇"), S("on", "2024-05-01"));
    IT_CHECK(expect_ok(staff, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    it_close(staff);
    return 0;
}

/* ---- portfolios ---- */

static int portfolio_shows_what_is_active_on_the_day_asked(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t unit = new_unit(c, "自然资源局");
    int64_t off = new_official(c, "冯十二", unit);
    IT_CHECK(unit > 0 && off > 0);
    int64_t prj = sql_project("人福药辅迁扩建", "市级重点", "赵李桥镇", unit, "开工");
    int64_t prj_done = sql_project("已竣工项目", "市级重点", "赵李桥镇", unit, "竣工");
    int64_t prj_stop = sql_project("已终止项目", "省级重点", "赵李桥镇", unit, "终止");
    IT_CHECK(prj > 0 && prj_done > 0 && prj_stop > 0);
    int64_t a_old = new_assignment(c, false, off, false, g_ent_plain, "联络员", "2023-01-01",
                                   "2023-12-31");
    int64_t a_now = new_assignment(c, false, off, true, prj, "联络员", "2024-01-01", NULL);
    int64_t a_later = new_assignment(c, false, off, false, g_ent_in, "联络员", "2025-01-01", NULL);
    int64_t a_unit = new_assignment(c, true, unit, false, g_ent_plain, "责任单位", "2024-02-29",
                                    "2024-02-29");
    IT_CHECK(a_old > 0 && a_now > 0 && a_later > 0 && a_unit > 0);
    int64_t q_open = sql_problem(g_ent_plain, unit, off, false);
    int64_t q_closed = sql_problem(g_ent_plain, unit, off, true);
    IT_CHECK(q_open > 0 && q_closed > 0);

    it_buf b;
    it_buf_init(&b);
    it_msg m;
    REQ("official.portfolio", 2, I("id", off), S("on", "2023-06-30"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(m.result->via.map.size == 4);
    IT_CHECK(it_get_str_eq(m.result, "on", "2023-06-30"));
    const msgpack_object *o = it_map_get(m.result, "official");
    IT_CHECK(o != NULL && it_get_str_eq(o, "name", "冯十二"));
    IT_CHECK(array_len(m.result, "assignments") == 1);
    IT_CHECK(array_has_id(m.result, "assignments", "id", a_old));
    IT_CHECK(array_len(m.result, "problems") == 1);
    IT_CHECK(array_has_id(m.result, "problems", "id", q_open));
    it_msg_free(&m);
    REQ("official.portfolio", 2, I("id", off), S("on", "2024-12-31"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "assignments") == 1);
    IT_CHECK(array_has_id(m.result, "assignments", "id", a_now));
    const msgpack_object *as = it_map_get(m.result, "assignments");
    IT_CHECK(it_get_str_eq(&as->via.array.ptr[0], "target_name", "人福药辅迁扩建"));
    it_msg_free(&m);
    /* Without `on`: today (not 2023, not 2025 unless the machine's clock says so). */
    REQ("official.portfolio", 1, I("id", off));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    char on[16];
    IT_CHECK(it_get_str(m.result, "on", on, sizeof on) && strlen(on) == 10);
    it_msg_free(&m);

    /* A one-day period, on a leap day. */
    REQ("unit.portfolio", 2, I("id", unit), S("on", "2024-02-29"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(m.result->via.map.size == 5);
    IT_CHECK(array_len(m.result, "assignments") == 1);
    IT_CHECK(array_has_id(m.result, "assignments", "id", a_unit));
    IT_CHECK(array_len(m.result, "projects") == 1);   /* not the 竣工 nor the 终止 one */
    IT_CHECK(array_has_id(m.result, "projects", "id", prj));
    IT_CHECK(array_len(m.result, "problems") == 1);
    it_msg_free(&m);
    REQ("unit.portfolio", 2, I("id", unit), S("on", "2024-03-01"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "assignments") == 0);
    it_msg_free(&m);

    REQ("unit.portfolio", 1, I("id", 987654321));
    IT_CHECK(expect_err(c, &b, "not_found", "id", NULL, 0) == 0);
    REQ("official.portfolio", 1, I("id", 987654321));
    IT_CHECK(expect_err(c, &b, "not_found", "id", NULL, 0) == 0);
    REQ("official.portfolio", 2, I("id", off), S("on", "2024-13-01"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "on", NULL, 0) == 0);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- coverage gaps ---- */

/* The (kind, id, role) rows of coverage.gaps for township 茶庵岭镇 on a day,
 * read in pages of `limit`, as "kind:id:role;" joined in out. */
static int gaps_walk(it_conn *c, const char *on, const char *role, int limit, char *out,
                     size_t outlen, int *nrows)
{
    it_buf b;
    it_buf_init(&b);
    out[0] = '\0';
    *nrows = 0;
    char after[64] = "";
    for (int page = 0; page < 100; page++) {
        size_t n = 3 + (role != NULL) + (after[0] != '\0');
        it_req(&b, ++g_msgid, "coverage.gaps", n);
        it_kv_str(&b, "township", "茶庵岭镇");
        it_kv_str(&b, "on", on);
        it_kv_int(&b, "limit", limit);
        if (role != NULL)
            it_kv_str(&b, "role", role);
        if (after[0] != '\0')
            it_kv_str(&b, "after", after);
        it_msg m;
        IT_CHECK(expect_ok(c, &b, &m) == 0);
        const msgpack_object *items = it_map_get(m.result, "items");
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
        IT_CHECK(items->via.array.size <= (uint32_t)limit);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            char kind[16], r[32], row[96];
            int64_t id = 0;
            IT_CHECK(it_get_str(it, "kind", kind, sizeof kind) && it_get_int(it, "id", &id) &&
                     it_get_str(it, "role", r, sizeof r));
            IT_CHECK(it->via.map.size == 7);
            snprintf(row, sizeof row, "%s:%lld:%s;", kind, (long long)id, r);
            IT_CHECK(strlen(out) + strlen(row) < outlen);
            strcat(out, row);
            (*nrows)++;
        }
        const msgpack_object *next = it_map_get(m.result, "next");
        bool last = next == NULL || next->type == MSGPACK_OBJECT_NIL;
        if (!last)
            IT_CHECK(it_get_str(m.result, "next", after, sizeof after));
        it_msg_free(&m);
        if (last)
            break;
    }
    it_buf_free(&b);
    return 0;
}

static int coverage_gaps_name_each_missing_target_and_role(void)
{
    it_conn *c = conn_as(IT_USER_SUPER);
    IT_CHECK(c != NULL);
    int64_t unit = new_unit(c, "应急管理局");
    int64_t leader = new_official(c, "陈市长", 0);
    int64_t liaison = new_official(c, "褚干部", unit);
    IT_CHECK(unit > 0 && leader > 0 && liaison > 0);
    int64_t p_key = sql_project("中亮光电二期", "市级重点", "茶庵岭镇", unit, "签约");
    int64_t p_plain = sql_project("一般项目", "一般", "茶庵岭镇", unit, "签约");
    int64_t p_stop = sql_project("暂停的省级项目", "省级重点", "茶庵岭镇", unit, "暂停");
    int64_t p_done = sql_project("竣工的省级项目", "省级重点", "茶庵岭镇", unit, "竣工");
    IT_CHECK(p_key > 0 && p_plain > 0 && p_stop > 0 && p_done > 0);
    int64_t e_small = it_shared_enterprise(9104, "茶庵岭小微", "茶庵岭镇");
    IT_CHECK(e_small > 0);
    /* The key enterprise has a leader and a unit from 2024-03-01; no liaison. */
    IT_CHECK(new_assignment(c, false, leader, false, g_ent_gap, "包保市领导", "2024-03-01",
                            NULL) > 0);
    IT_CHECK(new_assignment(c, true, unit, false, g_ent_gap, "责任单位", "2024-03-01",
                            "2024-12-31") > 0);
    /* The 暂停 key project is complete on every role. */
    IT_CHECK(new_assignment(c, false, leader, true, p_stop, "包保市领导", "2024-01-01", NULL) > 0);
    IT_CHECK(new_assignment(c, true, unit, true, p_stop, "责任单位", "2024-01-01", NULL) > 0);
    IT_CHECK(new_assignment(c, false, liaison, true, p_stop, "联络员", "2024-01-01", NULL) > 0);

    char rows[2048], want[1024], rows1[2048];
    int n = 0, n1 = 0;
    IT_CHECK(gaps_walk(c, "2024-06-01", NULL, 50, rows, sizeof rows, &n) == 0);
    snprintf(want, sizeof want,
             "enterprise:%lld:联络员;project:%lld:包保市领导;project:%lld:责任单位;"
             "project:%lld:联络员;",
             (long long)g_ent_gap, (long long)p_key, (long long)p_key, (long long)p_key);
    IT_CHECK_STR(rows, want);
    /* Page by page (one row a page): the same rows, each once. */
    IT_CHECK(gaps_walk(c, "2024-06-01", NULL, 1, rows1, sizeof rows1, &n1) == 0);
    IT_CHECK_STR(rows1, want);
    IT_CHECK(n1 == 4);
    /* Before the leader's period began: the enterprise misses all three roles. */
    IT_CHECK(gaps_walk(c, "2024-02-29", NULL, 2, rows, sizeof rows, &n) == 0);
    IT_CHECK(n == 6);
    /* After the unit's period ended: 责任单位 is missing again. */
    IT_CHECK(gaps_walk(c, "2025-01-01", "责任单位", 50, rows, sizeof rows, &n) == 0);
    snprintf(want, sizeof want, "enterprise:%lld:责任单位;project:%lld:责任单位;",
             (long long)g_ent_gap, (long long)p_key);
    IT_CHECK_STR(rows, want);

    it_buf b;
    it_buf_init(&b);
    it_msg m;
    REQ("coverage.gaps", 3, S("township", "茶庵岭镇"), S("on", "2024-06-01"), S("kind", "project"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 3);
    const msgpack_object *first = &it_map_get(m.result, "items")->via.array.ptr[0];
    IT_CHECK(it_get_str_eq(first, "priority", "市级重点") && it_get_str_eq(first, "stage", "签约"));
    it_msg_free(&m);
    REQ("coverage.gaps", 1, S("kind", "company"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "kind", NULL, 0) == 0);
    REQ("coverage.gaps", 1, S("role", "干部"));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "role", NULL, 0) == 0);
    static const char *const bad[] = {"1.2", "3.1.1", "1.01.1", "1.1.4", "1.1.1.", "x", "1..1",
                                      "1.-1.1", "1.0.1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQ("coverage.gaps", 1, S("after", bad[i]));
        IT_CHECKF(expect_err(c, &b, "invalid_argument", "after", NULL, 0) == 0, "after %s",
                  bad[i]);
    }
    REQ("coverage.gaps", 1, I("limit", 0));
    IT_CHECK(expect_err(c, &b, "invalid_argument", "limit", NULL, 0) == 0);
    REQ("coverage.gaps", 1, S("township", "不存在镇"));
    IT_CHECK(expect_ok(c, &b, &m) == 0);
    IT_CHECK(array_len(m.result, "items") == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- the CLI ---- */

static int cli_manages_units_officials_and_assignments(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    it_cli r;
    const char *a1[] = {"unit", "create", "--name", "文旅局", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a1) == 0);
    IT_CHECKF(r.status == 0, "unit create: %s", r.err);
    IT_CHECK(strstr(r.out, "文旅局") != NULL);
    it_cli_free(&r);

    const char *a2[] = {"unit", "list", "--name-contains", "文旅", "--json", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a2) == 0);
    IT_CHECKF(r.status == 0, "unit list: %s", r.err);
    char *p = strstr(r.out, "\"id\": ");
    IT_CHECK(p != NULL);
    long long unit = strtoll(p + 6, NULL, 10);
    IT_CHECK(unit > 0);
    it_cli_free(&r);

    char us[32];
    snprintf(us, sizeof us, "%lld", unit);
    const char *a3[] = {"official", "create", "--name", "蒋主任", "--unit", us, "--title", "主任",
                        "--phone", "13800000000", "--json", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a3) == 0);
    IT_CHECKF(r.status == 0, "official create: %s", r.err);
    p = strstr(r.out, "\"id\": ");
    IT_CHECK(p != NULL);
    long long off = strtoll(p + 6, NULL, 10);
    it_cli_free(&r);

    char os[32], es[32];
    snprintf(os, sizeof os, "%lld", off);
    snprintf(es, sizeof es, "%lld", (long long)g_ent_in);
    const char *a4[] = {"assign", "create", "--official", os, "--enterprise", es, "--role",
                        "联络员", "--from", "2024-01-01", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a4) == 0);
    IT_CHECKF(r.status == 0, "assign create: %s", r.err);
    IT_CHECK(strstr(r.out, "赵李桥规上茶厂") != NULL);
    it_cli_free(&r);

    /* A refusal: exit 1 and the code on stderr. */
    const char *a5[] = {"assign", "create", "--official", os, "--enterprise", es, "--role",
                        "联络员", "--from", "2024-02-01", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a5) == 0);
    IT_CHECK(r.status == 1);
    IT_CHECK(strstr(r.err, "already_exists") != NULL);
    it_cli_free(&r);

    const char *a6[] = {"official", "portfolio", os, "--on", "2024-05-01", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a6) == 0);
    IT_CHECKF(r.status == 0, "official portfolio: %s", r.err);
    IT_CHECK(strstr(r.out, "蒋主任") != NULL && strstr(r.out, "赵李桥规上茶厂") != NULL);
    it_cli_free(&r);

    const char *a7[] = {"assign", "gaps", "--township", "赵李桥镇", "--all", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a7) == 0);
    IT_CHECKF(r.status == 0, "assign gaps: %s", r.err);
    IT_CHECK(strstr(r.out, "赵李桥镇") != NULL || r.out[0] != '\0');
    it_cli_free(&r);

    const char *a8[] = {"assign", "list", "--official", os, NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a8) == 0);
    IT_CHECKF(r.status == 0, "assign list: %s", r.err);
    IT_CHECK(strstr(r.out, "联络员") != NULL);
    it_cli_free(&r);

    /* assign end: reads the version, then ends. */
    char as[32];
    snprintf(as, sizeof as, "%lld",
             (long long)it_pg_int("SELECT max(id) FROM assignment", 0, NULL));
    const char *a9[] = {"assign", "end", as, "--on", "2024-06-30", "--json", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a9) == 0);
    IT_CHECKF(r.status == 0, "assign end: %s", r.err);
    IT_CHECK(strstr(r.out, "\"period_end\": \"2024-06-30\"") != NULL);
    it_cli_free(&r);

    const char *a10[] = {"unit", "create", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a10) == 0);
    IT_CHECK(r.status == 2);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"units_are_created_read_listed_and_unique_by_name",
     units_are_created_read_listed_and_unique_by_name},
    {"officials_are_created_updated_with_versions_and_listed_by_unit",
     officials_are_created_updated_with_versions_and_listed_by_unit},
    {"assignment_create_refuses_each_bad_shape_with_its_field",
     assignment_create_refuses_each_bad_shape_with_its_field},
    {"overlapping_periods_are_refused_and_end_moves_the_period",
     overlapping_periods_are_refused_and_end_moves_the_period},
    {"roles_directory_by_supervisor_and_admin_assignments_by_supervisor",
     roles_directory_by_supervisor_and_admin_assignments_by_supervisor},
    {"township_staff_see_only_assignments_of_their_townships",
     township_staff_see_only_assignments_of_their_townships},
    {"portfolio_shows_what_is_active_on_the_day_asked",
     portfolio_shows_what_is_active_on_the_day_asked},
    {"coverage_gaps_name_each_missing_target_and_role",
     coverage_gaps_name_each_missing_target_and_role},
    {"cli_manages_units_officials_and_assignments", cli_manages_units_officials_and_assignments},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "assignments", tests, sizeof tests / sizeof tests[0], setup);
}
