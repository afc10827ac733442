/*
 * test_notices.c: the 督办 notices as people use them (notice.list, .get,
 * .read, .answer, .stats and `baobao notices` / `baobao notice`), against
 * a real server whose clock is pinned (fake_now 2026-12-07 in Beijing) and
 * notices issued by the real sweep (bb_supervise of sql/023, called here
 * with the server's default rules so a sweep of the server itself finds
 * nothing left to do).
 *
 * Pinned down: township staff see only their townships' notices (another
 * one is not_found), and are concerned (audience, `mine`, light.changes
 * `mine`) by those only, even when linked to a recipient official or unit
 * elsewhere; every filter of notice.list, `mine` by official, by unit and
 * by township; the reads in the audit trail (audit.list, audit.as_of with
 * entity notice); a Notice's fields and recipients exactly; read is
 * idempotent and audited once; an answer by a supervisor who is no
 * recipient is recorded as theirs; a retried answer with its idempotency
 * key changes nothing, the same key with another note is refused; admins
 * may neither read nor answer; a notice closed by the sweep (its problem
 * confirmed) takes no answer and stays closed when read; the counts of
 * notice.stats exactly, by unit and by township, with date bounds; the
 * CLI's table and record in Chinese and English, times in the server's
 * zone.
 *
 * Data goes in with SQL: two townships, units, officials and users of
 * this file's own (the database is this binary's: the sweep sees only
 * these items). The tests run in order and build on each other's state
 * (read and answered notices are counted by the stats test).
 * Not for: when notices are issued or escalated and how they are numbered
 * (test_supervise.c), their push (test_push.c) or delivery
 * (test_delivery.c).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TODAY "2026-12-07"
#define FAKE_NOW "fake_now=2026-12-07T09:00:00+08:00"
/* The sweep with the server's default rules (proto/bb_limits.h):
 * overdue_red_after_days 30, notice_due_days 3, notice_escalate_days 7. */
#define SWEEP "SELECT changes FROM bb_supervise(p_today => '" TODAY "', p_red_after => 30," \
              " p_due_days => 3, p_escalate_days => 7)"

#define TOWN_A "督办甲镇"
#define TOWN_B "督办乙镇"
#define UNIT_1 "督办测试局"     /* P1's 承办单位; SUPER_U's unit */
#define UNIT_2 "督办另一局"     /* P2's 承办单位, the project's 牵头单位; SUPER_V's unit */
#define STAFF_A "ntc_staff_a"   /* township staff of TOWN_A */
#define STAFF_B "ntc_staff_b"   /* township staff of TOWN_B */
#define SUPER_U "ntc_super_u"   /* supervisor, unit UNIT_1 */
#define SUPER_V "ntc_super_v"   /* supervisor, unit UNIT_2 */
#define SUPER_O "ntc_super_o"   /* supervisor, the user of official O1 (no unit) */
#define SUPER_X "ntc_super_x"   /* supervisor, neither unit nor official */
#define SUPER_D "ntc_super_d"   /* supervisor, unit UNIT_1, disabled: in no audience */
#define SUPER_E "ntc_super_e"   /* supervisor, the user of official O2, whose 联络员
                                   assignment on the project ended in June */
#define STAFF_BU "ntc_staff_bu" /* township staff of TOWN_B whose unit is UNIT_1 (P1's
                                   承办单位, in TOWN_A): P1 is not theirs */
#define STAFF_BO "ntc_staff_bo" /* township staff of TOWN_B, the user of official O3,
                                   承办人 of P3 in TOWN_A (the last test's) */

/* The items and the notice the sweep issues for each:
 *   P1 a problem of TOWN_A, deadline 33 days ago: red (since 2 days, too
 *      few for 升级), to UNIT_1 (承办单位);
 *   P2 a problem of TOWN_B, deadline 5 days ago: yellow, to UNIT_2;
 *   M1 the 开工 milestone of a project of TOWN_A, due in 2 days: due, to
 *      official O1 (联络员) and UNIT_2 (牵头单位). */
static struct {
    int64_t unit1, unit2, o1, p1, p2, m1;      /* ids of the data */
    int64_t n_p1, n_p2, n_m1;                  /* ids of their notices */
} g;

static uint32_t g_msgid = 1;
static unsigned long g_code_n = 640000;

/* ---- data ---- */

static int mk_user(const char *login, const char *role, const char *unit, const char *township)
{
    const char *p[] = {login, role, unit, township};
    return it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, unit,"
                      "  password_hash)"
                      " SELECT $1, $1 || '君', $2, $3, password_hash FROM app_user"
                      "  WHERE login = 'it_staff' RETURNING id)"
                      " INSERT INTO app_user_township (user_id, township_id)"
                      " SELECT u.id, t.id FROM u JOIN township t ON t.name = $4",
                      4, p);
}

static int64_t mk_problem(const char *township, int64_t unit, const char *deadline)
{
    char cc[19], u[24];
    it_credit_code(g_code_n++, cc);
    snprintf(u, sizeof u, "%" PRId64, unit);
    const char *p[] = {cc, township, u, deadline};
    return it_pg_int("WITH e AS (INSERT INTO enterprise (name, credit_code, township_id)"
                     "  SELECT '督办企业' || $1, $1, t.id FROM township t WHERE t.name = $2"
                     "  RETURNING id)"
                     " INSERT INTO problem (enterprise_id, category, description,"
                     "  assignee_unit_id, deadline)"
                     " SELECT e.id, '用地', '督办测试诉求', $3::bigint, $4::date FROM e"
                     " RETURNING id",
                     4, p);
}

static int setup(void)
{
    const char *towns[][2] = {{"931", TOWN_A}, {"932", TOWN_B}};
    for (size_t i = 0; i < 2; i++)
        IT_CHECK(it_pg_exec("INSERT INTO township (id, name, kind) VALUES ($1::smallint, $2, '镇')",
                            2, towns[i]) == 0);
    IT_CHECK(mk_user(STAFF_A, "township_staff", NULL, TOWN_A) == 0);
    IT_CHECK(mk_user(STAFF_B, "township_staff", NULL, TOWN_B) == 0);
    IT_CHECK(mk_user(SUPER_U, "supervisor", UNIT_1, NULL) == 0);
    IT_CHECK(mk_user(SUPER_V, "supervisor", UNIT_2, NULL) == 0);
    IT_CHECK(mk_user(SUPER_O, "supervisor", NULL, NULL) == 0);
    IT_CHECK(mk_user(SUPER_X, "supervisor", NULL, NULL) == 0);
    IT_CHECK(mk_user(SUPER_D, "supervisor", UNIT_1, NULL) == 0);
    IT_CHECK(mk_user(SUPER_E, "supervisor", NULL, NULL) == 0);
    IT_CHECK(mk_user(STAFF_BU, "township_staff", UNIT_1, TOWN_B) == 0);
    IT_CHECK(it_pg_exec("UPDATE app_user SET disabled = true WHERE login = '" SUPER_D "'", 0,
                        NULL) == 0);
    const char *u1[] = {UNIT_1}, *u2[] = {UNIT_2};
    g.unit1 = it_pg_int("INSERT INTO unit (name) VALUES ($1) RETURNING id", 1, u1);
    g.unit2 = it_pg_int("INSERT INTO unit (name) VALUES ($1) RETURNING id", 1, u2);
    IT_CHECK(g.unit1 > 0 && g.unit2 > 0);
    const char *o1[] = {SUPER_O};
    g.o1 = it_pg_int("INSERT INTO official (name, user_id)"
                     " SELECT '督办干部甲', id FROM app_user WHERE login = $1 RETURNING id",
                     1, o1);
    IT_CHECK(g.o1 > 0);
    g.p1 = mk_problem(TOWN_A, g.unit1, "2026-11-04");
    g.p2 = mk_problem(TOWN_B, g.unit2, "2026-12-02");
    IT_CHECK(g.p1 > 0 && g.p2 > 0);
    char u[24], o[24];
    snprintf(u, sizeof u, "%" PRId64, g.unit2);
    const char *pj[] = {TOWN_A, u};
    g.m1 = it_pg_int("INSERT INTO project (name, township_id, lead_unit_id, stage,"
                     "  planned_investment, priority)"
                     " SELECT '督办测试项目', t.id, $2::bigint, '签约', 100000000, '市级重点'"
                     " FROM township t WHERE t.name = $1 RETURNING id",
                     2, pj);
    IT_CHECK(g.m1 > 0);
    char m[24];
    snprintf(m, sizeof m, "%" PRId64, g.m1);
    snprintf(o, sizeof o, "%" PRId64, g.o1);
    const char *ms[] = {m, o};
    IT_CHECK(it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date)"
                        " VALUES ($1::bigint, '开工', '2026-12-09')",
                        1, ms) == 0);
    IT_CHECK(it_pg_exec("INSERT INTO assignment (official_id, project_id, role, period_start)"
                        " VALUES ($2::bigint, $1::bigint, '联络员', '2026-01-01')",
                        2, ms) == 0);
    const char *me[] = {m, SUPER_E};
    IT_CHECK(it_pg_exec("WITH o AS (INSERT INTO official (name, user_id)"
                        "  SELECT '督办干部乙', id FROM app_user WHERE login = $2 RETURNING id)"
                        " INSERT INTO assignment (official_id, project_id, role, period_start,"
                        "  period_end)"
                        " SELECT o.id, $1::bigint, '联络员', '2026-01-01', '2026-06-30' FROM o",
                        2, me) == 0);
    IT_CHECK(it_pg_int(SWEEP, 0, NULL) >= 0);
    char p1[24], p2[24];
    snprintf(p1, sizeof p1, "%" PRId64, g.p1);
    snprintf(p2, sizeof p2, "%" PRId64, g.p2);
    const char *q1[] = {p1, "red"}, *q2[] = {p2, "yellow"};
    const char *qm[] = {m, "due"};
    g.n_p1 = it_pg_int("SELECT id FROM notice WHERE problem_id = $1::bigint AND level = $2", 2, q1);
    g.n_p2 = it_pg_int("SELECT id FROM notice WHERE problem_id = $1::bigint AND level = $2", 2, q2);
    g.n_m1 = it_pg_int("SELECT id FROM notice WHERE project_id = $1::bigint AND level = $2", 2, qm);
    IT_CHECKF(g.n_p1 > 0 && g.n_p2 > 0 && g.n_m1 > 0, "notices %lld %lld %lld",
              (long long)g.n_p1, (long long)g.n_p2, (long long)g.n_m1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM notice", 0, NULL) == 3);
    return 0;
}

/* ---- calls ---- */

static it_server *start(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    const char *env[] = {"TZ=UTC", NULL};
    return it_server_start_env(sets, env);
}

/* The item a notice id stands for, and its level: "P1:red". */
static const char *label(int64_t id)
{
    if (id == g.n_p1)
        return "P1:red";
    if (id == g.n_p2)
        return "P2:yellow";
    if (id == g.n_m1)
        return "M1:due";
    return "?";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* notice.list with one filter (key NULL: none; a str, an int when num,
 * true when flag), every page of limit 1, as sorted labels joined by ",".
 * Also checks the ids ascend. */
typedef enum { F_NONE, F_STR, F_INT, F_TRUE } ftype;
static int list_as(it_conn *c, const char *key, ftype t, const char *s, int64_t n, char *out,
                   size_t cap)
{
    const char *labels[16];
    size_t count = 0;
    int64_t after = 0, last = 0;
    for (int page = 0; page < 10; page++) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = g_msgid++;
        it_req(&b, id, "notice.list", (t != F_NONE ? 1u : 0u) + 2u);
        if (t == F_STR)
            it_kv_str(&b, key, s);
        else if (t == F_INT)
            it_kv_int(&b, key, n);
        else if (t == F_TRUE)
            it_kv_bool(&b, key, true);
        it_kv_int(&b, "after", after);
        it_kv_int(&b, "limit", 1);
        it_msg m;
        int rc = it_buf_ok(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECK(rc == 0);
        const msgpack_object *items = it_map_get(m.result, "items");
        const msgpack_object *next = it_map_get(m.result, "next");
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && next != NULL);
        IT_CHECK(items->via.array.size <= 1);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            int64_t nid = 0;
            IT_CHECK(it_get_int(&items->via.array.ptr[i], "id", &nid));
            IT_CHECKF(nid > last, "ids not ascending: %lld after %lld", (long long)nid,
                      (long long)last);
            last = nid;
            IT_CHECK(count < 16);
            labels[count++] = label(nid);
        }
        bool more = next->type != MSGPACK_OBJECT_NIL;
        if (more)
            IT_CHECK(it_obj_int(next, &after) && after == last);
        it_msg_free(&m);
        if (!more)
            break;
    }
    qsort(labels, count, sizeof labels[0], cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? "," : "", labels[i]);
    }
    return 0;
}

#define EXPECT_LIST(c, key, t, s, n, want)                                          \
    do {                                                                           \
        char got_[256];                                                            \
        IT_CHECK(list_as((c), (key), (t), (s), (n), got_, sizeof got_) == 0);      \
        IT_CHECKF(strcmp(got_, (want)) == 0, "list %s=%s: got \"%s\", want \"%s\"", \
                  (key) ? (key) : "-", (s) ? (s) : "", got_, (want));              \
    } while (0)

/* A one-id method (notice.get / .read) or notice.answer (note not NULL),
 * with an idempotency key when key is not NULL; the response in m. */
static int call_id(it_conn *c, const char *method, int64_t nid, const char *note,
                   const char *key, it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, method, 1u + (note != NULL) + (key != NULL));
    it_kv_int(&b, "id", nid);
    if (note != NULL)
        it_kv_str(&b, "note", note);
    if (key != NULL)
        it_kv_str(&b, "idempotency_key", key);
    int rc = it_buf_call(c, &b, id, m);
    it_buf_free(&b);
    return rc;
}

/* The call answers a Notice; its state, version and the user id under
 * by_key (NULL: not checked) must be these. */
static int expect_notice(it_conn *c, const char *method, int64_t nid, const char *note,
                         const char *key, const char *state, int64_t version,
                         const char *by_key, const char *by_login)
{
    it_msg m;
    IT_CHECK(call_id(c, method, nid, note, key, &m) == 0);
    char d[512];
    if (m.is_error) {
        it_fail(__FILE__, __LINE__, "%s %lld: %s", method, (long long)nid,
                it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        return -1;
    }
    int64_t v = 0, by = 0;
    bool ok = it_get_str_eq(m.result, "state", state) && it_get_int(m.result, "version", &v) &&
              v == version &&
              (by_key == NULL || (it_get_int(m.result, by_key, &by) && by == it_user_id(by_login)));
    if (!ok)
        it_fail(__FILE__, __LINE__, "%s %lld: want state %s version %lld %s %s: %s", method,
                (long long)nid, state, (long long)version, by_key ? by_key : "",
                by_login ? by_login : "",
                it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return ok ? 0 : -1;
}

static int expect_refusal(it_conn *c, const char *method, int64_t nid, const char *note,
                          const char *key, const char *code, const char *field)
{
    it_msg m;
    IT_CHECK(call_id(c, method, nid, note, key, &m) == 0);
    char d[512];
    bool ok = m.is_error && strcmp(m.code, code) == 0 &&
              (field == NULL || strcmp(m.field, field) == 0);
    if (!ok)
        it_fail(__FILE__, __LINE__, "%s %lld: want %s (%s): %s", method, (long long)nid, code,
                field ? field : "", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return ok ? 0 : -1;
}

static long long audit_count(const char *method, int64_t nid)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, nid);
    const char *p[] = {method, id};
    return it_pg_int("SELECT count(*) FROM audit_log WHERE method = $1 AND entity = 'notice'"
                     " AND entity_id = $2::bigint",
                     2, p);
}

/* audit.list and audit.as_of with entity `notice`: the one read of nid
 * (by STAFF_A), and the notice as it was after it. */
static int audit_shows_the_read(it_conn *c, int64_t nid)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "audit.list", 2);
    it_kv_str(&b, "entity", "notice");
    it_kv_int(&b, "entity_id", nid);
    it_msg m;
    int rc = it_buf_ok(c, &b, id, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    bool ok = items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
              items->via.array.size == 1;
    int64_t eid = 0;
    if (ok) {
        const msgpack_object *r = &items->via.array.ptr[0];
        const msgpack_object *after = it_map_get(r, "after");
        ok = it_get_str_eq(r, "method", "notice.read") && it_get_str_eq(r, "entity", "notice") &&
             it_get_str_eq(r, "user", STAFF_A) && it_get_int(r, "entity_id", &eid) &&
             eid == nid && after != NULL && it_get_str_eq(after, "state", "read");
    }
    it_msg_free(&m);
    IT_CHECKF(ok, "audit.list entity=notice entity_id=%lld: not the one read", (long long)nid);

    it_buf_init(&b);
    id = g_msgid++;
    it_req(&b, id, "audit.as_of", 3);
    it_kv_str(&b, "entity", "notice");
    it_kv_int(&b, "id", nid);
    it_kv_str(&b, "at", "2099-12-31T00:00:00Z");
    rc = it_buf_ok(c, &b, id, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    int64_t v = 0;
    ok = it_get_str_eq(m.result, "state", "read") && it_get_int(m.result, "version", &v) && v == 2;
    it_msg_free(&m);
    IT_CHECKF(ok, "audit.as_of notice %lld: not as read", (long long)nid);
    return 0;
}

/* ---- tests ---- */

/* Every filter of notice.list, for the roles and mappings that decide
 * what a user sees and what is theirs. */
static int list_filters_and_scope(void)
{
    it_server *s = start();
    IT_CHECK(s != NULL);
    it_conn *x = it_connect_as(s->port, SUPER_X, IT_PASSWORD);
    it_conn *a = it_connect_as(s->port, STAFF_A, IT_PASSWORD);
    it_conn *bb = it_connect_as(s->port, STAFF_B, IT_PASSWORD);
    it_conn *u = it_connect_as(s->port, SUPER_U, IT_PASSWORD);
    it_conn *v = it_connect_as(s->port, SUPER_V, IT_PASSWORD);
    it_conn *o = it_connect_as(s->port, SUPER_O, IT_PASSWORD);
    it_conn *bu = it_connect_as(s->port, STAFF_BU, IT_PASSWORD);
    IT_CHECK(x && a && bb && u && v && o && bu);

    EXPECT_LIST(x, NULL, F_NONE, NULL, 0, "M1:due,P1:red,P2:yellow");
    EXPECT_LIST(a, NULL, F_NONE, NULL, 0, "M1:due,P1:red");
    EXPECT_LIST(bb, NULL, F_NONE, NULL, 0, "P2:yellow");
    EXPECT_LIST(x, "level", F_STR, "red", 0, "P1:red");
    EXPECT_LIST(x, "state", F_STR, "issued", 0, "M1:due,P1:red,P2:yellow");
    EXPECT_LIST(x, "state", F_STR, "answered", 0, "");
    EXPECT_LIST(x, "unanswered", F_TRUE, NULL, 0, "M1:due,P1:red,P2:yellow");
    EXPECT_LIST(x, "unit_id", F_INT, NULL, g.unit2, "M1:due,P2:yellow");
    EXPECT_LIST(x, "unit_id", F_INT, NULL, g.unit1, "P1:red");
    EXPECT_LIST(x, "township", F_STR, TOWN_B, 0, "P2:yellow");
    EXPECT_LIST(x, "township", F_STR, "无此乡镇", 0, "");
    /* Staff: another township's name finds nothing, not its notices. */
    EXPECT_LIST(bb, "township", F_STR, TOWN_A, 0, "");
    /* mine: by unit, by official, by township; nothing for nobody. */
    EXPECT_LIST(u, "mine", F_TRUE, NULL, 0, "P1:red");
    EXPECT_LIST(v, "mine", F_TRUE, NULL, 0, "M1:due,P2:yellow");
    EXPECT_LIST(o, "mine", F_TRUE, NULL, 0, "M1:due");
    EXPECT_LIST(x, "mine", F_TRUE, NULL, 0, "");
    EXPECT_LIST(a, "mine", F_TRUE, NULL, 0, "M1:due,P1:red");
    /* Staff whose unit is P1's recipient: their own township's only. */
    EXPECT_LIST(bu, "mine", F_TRUE, NULL, 0, "P2:yellow");
    IT_CHECK(expect_refusal(bu, "notice.get", g.n_p1, NULL, NULL, "not_found", "id") == 0);

    /* A Notice, every field. */
    it_msg m;
    IT_CHECK(call_id(x, "notice.get", g.n_p1, NULL, NULL, &m) == 0 && !m.is_error);
    const msgpack_object *r = m.result;
    char number[64], issued_at[64];
    int64_t v64 = 0;
    IT_CHECK(it_get_str(r, "number", number, sizeof number));
    IT_CHECKF(strncmp(number, "督〔2026〕", strlen("督〔2026〕")) == 0 &&
                  strcmp(number + strlen(number) - strlen("号"), "号") == 0,
              "number %s", number);
    IT_CHECK(it_get_str_eq(r, "level", "red") && it_get_str_eq(r, "state", "issued"));
    IT_CHECK(it_get_str_eq(r, "kind", "problem"));
    IT_CHECK(it_get_int(r, "problem_id", &v64) && v64 == g.p1);
    IT_CHECK(it_map_get(r, "project_id")->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_get_str_eq(r, "township", TOWN_A));
    IT_CHECK(it_get_int(r, "township_id", &v64) && v64 == 931);
    IT_CHECK(it_get_str_eq(r, "due_date", "2026-11-04"));
    IT_CHECK(it_get_int(r, "days_overdue", &v64) && v64 == 33);
    IT_CHECK(it_get_str_eq(r, "issued_on", TODAY));
    IT_CHECK(it_get_str(r, "issued_at", issued_at, sizeof issued_at));
    IT_CHECKF(strlen(issued_at) == 27 && issued_at[26] == 'Z', "issued_at %s", issued_at);
    IT_CHECK(it_map_get(r, "read_at")->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_map_get(r, "answer")->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_get_int(r, "version", &v64) && v64 == 1);
    const msgpack_object *rs = it_map_get(r, "recipients");
    IT_CHECK(rs != NULL && rs->type == MSGPACK_OBJECT_ARRAY && rs->via.array.size == 1);
    IT_CHECK(it_get_int(&rs->via.array.ptr[0], "unit_id", &v64) && v64 == g.unit1);
    IT_CHECK(it_get_str_eq(&rs->via.array.ptr[0], "name", UNIT_1));
    IT_CHECK(it_get_str_eq(&rs->via.array.ptr[0], "role", "承办单位"));
    IT_CHECK(rs->via.array.ptr[0].via.map.size == 3);
    it_msg_free(&m);

    /* A milestone's: the official first (role order), then the lead unit. */
    IT_CHECK(call_id(a, "notice.get", g.n_m1, NULL, NULL, &m) == 0 && !m.is_error);
    r = m.result;
    IT_CHECK(it_get_str_eq(r, "kind", "milestone") && it_get_str_eq(r, "node", "开工"));
    IT_CHECK(it_get_int(r, "project_id", &v64) && v64 == g.m1);
    IT_CHECK(it_get_int(r, "days_overdue", &v64) && v64 == -2);
    rs = it_map_get(r, "recipients");
    IT_CHECK(rs != NULL && rs->type == MSGPACK_OBJECT_ARRAY && rs->via.array.size == 2);
    IT_CHECK(it_get_int(&rs->via.array.ptr[0], "official_id", &v64) && v64 == g.o1);
    IT_CHECK(it_get_str_eq(&rs->via.array.ptr[0], "role", "联络员"));
    IT_CHECK(it_get_int(&rs->via.array.ptr[1], "unit_id", &v64) && v64 == g.unit2);
    IT_CHECK(it_get_str_eq(&rs->via.array.ptr[1], "role", "牵头单位"));
    it_msg_free(&m);

    /* Outside the scope: exactly as missing. */
    IT_CHECK(expect_refusal(bb, "notice.get", g.n_p1, NULL, NULL, "not_found", "id") == 0);
    IT_CHECK(expect_refusal(x, "notice.get", 999999, NULL, NULL, "not_found", "id") == 0);

    it_close(x);
    it_close(a);
    it_close(bb);
    it_close(u);
    it_close(v);
    it_close(o);
    it_close(bu);
    return 0;
}

/* Reading and answering: who may, what is recorded, retries, closed. */
static int read_and_answer_rules(void)
{
    it_server *s = start();
    IT_CHECK(s != NULL);
    it_conn *x = it_connect_as(s->port, SUPER_X, IT_PASSWORD);
    it_conn *a = it_connect_as(s->port, STAFF_A, IT_PASSWORD);
    it_conn *bb = it_connect_as(s->port, STAFF_B, IT_PASSWORD);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(x && a && bb && adm);

    /* Read: once, then idempotent (no second audit row), key or not. */
    IT_CHECK(expect_notice(a, "notice.read", g.n_p1, NULL, NULL, "read", 2, "read_by",
                           STAFF_A) == 0);
    IT_CHECK(expect_notice(a, "notice.read", g.n_p1, NULL, "rd-1", "read", 2, "read_by",
                           STAFF_A) == 0);
    IT_CHECK(expect_notice(x, "notice.read", g.n_p1, NULL, NULL, "read", 2, "read_by",
                           STAFF_A) == 0);
    IT_CHECK(audit_count("notice.read", g.n_p1) == 1);
    IT_CHECK(audit_shows_the_read(x, g.n_p1) == 0);
    IT_CHECK(expect_refusal(bb, "notice.read", g.n_p1, NULL, NULL, "not_found", "id") == 0);
    IT_CHECK(expect_refusal(adm, "notice.read", g.n_p1, NULL, NULL, "forbidden", NULL) == 0);

    /* A supervisor who is no recipient answers: recorded as them, and the
     * answer reads the notice too. */
    IT_CHECK(expect_notice(x, "notice.answer", g.n_p2, "已协调人社局", "ans-1", "answered", 2,
                           "answered_by", SUPER_X) == 0);
    IT_CHECK(expect_notice(x, "notice.answer", g.n_p2, "已协调人社局", "ans-1", "answered", 2,
                           "read_by", SUPER_X) == 0);
    IT_CHECK(audit_count("notice.answer", g.n_p2) == 1);
    IT_CHECK(expect_refusal(x, "notice.answer", g.n_p2, "另一段答复", "ans-1",
                            "idempotency_key_reused", "idempotency_key") == 0);
    /* The township's staff answer again: the new answer, read_by kept. */
    IT_CHECK(expect_notice(bb, "notice.answer", g.n_p2, "专场招聘会\n已于12月10日举办", NULL,
                           "answered", 3, "answered_by", STAFF_B) == 0);
    IT_CHECK(expect_notice(bb, "notice.get", g.n_p2, NULL, NULL, "answered", 3, "read_by",
                           SUPER_X) == 0);
    IT_CHECK(audit_count("notice.answer", g.n_p2) == 2);
    {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, g.n_p2);
        const char *p[] = {id};
        IT_CHECK(it_pg_int("SELECT count(*) FROM notice WHERE id = $1::bigint"
                           " AND answer = E'专场招聘会\\n已于12月10日举办'",
                           1, p) == 1);
    }
    IT_CHECK(expect_refusal(bb, "notice.answer", g.n_p2, "   ", NULL, "invalid_argument",
                            "note") == 0);
    IT_CHECK(expect_refusal(adm, "notice.answer", g.n_p2, "管理员答复", NULL, "forbidden",
                            NULL) == 0);
    IT_CHECK(expect_refusal(a, "notice.answer", g.n_p2, "越界答复", NULL, "not_found", "id") == 0);
    EXPECT_LIST(x, "state", F_STR, "answered", 0, "P2:yellow");
    EXPECT_LIST(x, "unanswered", F_TRUE, NULL, 0, "M1:due,P1:red");

    /* P1 confirmed: the sweep closes its notice; it takes no answer and
     * stays closed when read. */
    char p1[24];
    snprintf(p1, sizeof p1, "%" PRId64, g.p1);
    const char *pp[] = {p1};
    IT_CHECK(it_pg_exec("UPDATE problem SET state = '确认', closed_at = now()"
                        " WHERE id = $1::bigint",
                        1, pp) == 0);
    IT_CHECK(it_pg_int(SWEEP, 0, NULL) >= 0);
    IT_CHECK(expect_notice(a, "notice.get", g.n_p1, NULL, NULL, "closed", 3, NULL, NULL) == 0);
    it_msg m;
    IT_CHECK(call_id(a, "notice.get", g.n_p1, NULL, NULL, &m) == 0 && !m.is_error);
    IT_CHECK(it_get_str_eq(m.result, "closed_on", TODAY));
    IT_CHECK(it_get_str_eq(m.result, "close_reason", "done"));
    it_msg_free(&m);
    IT_CHECK(expect_refusal(a, "notice.answer", g.n_p1, "已办结", NULL, "invalid_argument",
                            "id") == 0);
    IT_CHECK(expect_notice(a, "notice.read", g.n_p1, NULL, NULL, "closed", 3, NULL, NULL) == 0);

    it_close(x);
    it_close(a);
    it_close(bb);
    it_close(adm);
    return 0;
}

/* notice.stats with by (NULL: absent), from and to (NULL: absent), as
 * "name/issued/read/answered/unanswered/closed/red/escalated" joined. */
static int stats(it_conn *c, const char *by, const char *from, const char *to, char *out,
                 size_t cap)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "notice.stats", (by != NULL) + (from != NULL) + (to != NULL));
    if (by)
        it_kv_str(&b, "by", by);
    if (from)
        it_kv_str(&b, "from", from);
    if (to)
        it_kv_str(&b, "to", to);
    it_msg m;
    int rc = it_buf_ok(c, &b, id, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    out[0] = '\0';
    static const char *const keys[] = {"issued", "read", "answered", "unanswered",
                                       "closed", "red", "escalated"};
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char name[128];
        IT_CHECK(it_get_str(it, "name", name, sizeof name));
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%s", i ? "," : "", name);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            int64_t v = -1;
            IT_CHECK(it_get_int(it, keys[k], &v));
            len = strlen(out);
            snprintf(out + len, cap - len, "/%" PRId64, v);
        }
    }
    it_msg_free(&m);
    return 0;
}

/* The counts after read_and_answer_rules: P1 red read and closed (UNIT_1,
 * TOWN_A), P2 yellow answered (UNIT_2, TOWN_B), M1 due issued (UNIT_2,
 * TOWN_A). */
static int stats_count_exactly(void)
{
    it_server *s = start();
    IT_CHECK(s != NULL);
    it_conn *x = it_connect_as(s->port, SUPER_X, IT_PASSWORD);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *a = it_connect_as(s->port, STAFF_A, IT_PASSWORD);
    IT_CHECK(x && adm && a);
    char got[512];
    IT_CHECK(stats(x, "unit", NULL, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, UNIT_2 "/2/1/1/1/0/0/0," UNIT_1 "/1/1/0/0/1/1/0");
    IT_CHECK(stats(adm, NULL, TODAY, TODAY, got, sizeof got) == 0);   /* by defaults to unit */
    IT_CHECK_STR(got, UNIT_2 "/2/1/1/1/0/0/0," UNIT_1 "/1/1/0/0/1/1/0");
    IT_CHECK(stats(x, "township", NULL, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, TOWN_A "/2/1/0/1/1/1/0," TOWN_B "/1/1/1/0/0/0/0");
    IT_CHECK(stats(x, "township", "2026-12-08", NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "");
    IT_CHECK(stats(x, "unit", NULL, "2026-12-06", got, sizeof got) == 0);
    IT_CHECK_STR(got, "");

    it_buf b;
    it_buf_init(&b);
    it_req(&b, 900, "notice.stats", 2);
    it_kv_str(&b, "from", "2026-12-08");
    it_kv_str(&b, "to", "2026-12-07");
    IT_CHECK(it_buf_err(x, &b, 900, "invalid_argument", "from") == 0);
    it_req(&b, 901, "notice.stats", 1);
    it_kv_str(&b, "by", "official");
    IT_CHECK(it_buf_err(x, &b, 901, "invalid_argument", "by") == 0);
    it_req(&b, 902, "notice.stats", IT_NO_ARGS);
    IT_CHECK(it_buf_err(a, &b, 902, "forbidden", "") == 0);
    it_buf_free(&b);
    it_close(x);
    it_close(adm);
    it_close(a);
    return 0;
}

/* `baobao notices` and `baobao notice ...`: Chinese words for people,
 * times in the server's zone, English when asked. */
static int cli_prints_notices_in_chinese(void)
{
    it_server *s = start();
    IT_CHECK(s != NULL);
    char server[64], id[24];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    it_cli r;

    /* The table of staff A: M1 (提醒, not answered) and P1 (红牌, closed). */
    const char *list[] = {"notices", NULL};
    const char *env_a[] = {"BAOBAO_USER=" STAFF_A, "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, list, env_a) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "督〔2026〕") != NULL && strstr(r.out, "级别") != NULL &&
                  strstr(r.out, "红牌") != NULL && strstr(r.out, "提醒") != NULL &&
                  strstr(r.out, "已办结") != NULL && strstr(r.out, "已下发") != NULL &&
                  strstr(r.out, "督办干部甲、督办另一局") != NULL &&
                  strstr(r.out, "2026-12-09") != NULL && strstr(r.out, "黄牌") == NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    /* English, only the unanswered ones. */
    const char *unans[] = {"notices", "--unanswered", NULL};
    const char *env_en[] = {"BAOBAO_USER=" STAFF_A, "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, unans, env_en) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "reminder") != NULL &&
                  strstr(r.out, "red card") == NULL && strstr(r.out, "LEVEL") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    /* One notice, every field: the answer, the recipients, local times. */
    snprintf(id, sizeof id, "%" PRId64, g.n_p2);
    const char *show[] = {"notice", "show", id, NULL};
    const char *env_x[] = {"BAOBAO_USER=" SUPER_X, "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, show, env_x) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "黄牌") != NULL && strstr(r.out, "已答复") != NULL &&
                  strstr(r.out, "承办单位 " UNIT_2) != NULL &&
                  strstr(r.out, "专场招聘会") != NULL && strstr(r.out, STAFF_B "君") != NULL &&
                  strstr(r.out, "逾期 5 天") != NULL && strstr(r.out, TOWN_B) != NULL &&
                  strstr(r.out, "Z)") == NULL && strstr(r.out, "Z,") == NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    /* Answering M1 as its official's user, in one command. */
    snprintf(id, sizeof id, "%" PRId64, g.n_m1);
    const char *ans[] = {"notice", "answer", id, "已完成开工前准备", NULL};
    const char *env_o[] = {"BAOBAO_USER=" SUPER_O, "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, ans, env_o) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "已答复") != NULL &&
                  strstr(r.out, "已完成开工前准备") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    /* A closed one refuses, exit 1, saying why. */
    snprintf(id, sizeof id, "%" PRId64, g.n_p1);
    const char *closed[] = {"notice", "answer", id, "再答复", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, closed, env_a) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "invalid_argument") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    /* The counts by township. */
    const char *st[] = {"notice", "stats", "--by", "township", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, st, env_x) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "未答复") != NULL && strstr(r.out, TOWN_A) != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);
    return 0;
}

/* The first column of the first row of a query as text ("" for NULL),
 * into out; 0 or -1. */
static int pg_text(const char *sql, int n, const char *const *params, char *out, size_t cap)
{
    PGresult *res = PQexecParams(it_pg(), sql, n, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    if (!ok)
        it_fail(__FILE__, __LINE__, "%s: %s", sql, PQresultErrorMessage(res));
    else
        snprintf(out, cap, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return ok ? 0 : -1;
}

/* Whom a notice and a light change concern (what push.c pushes to):
 * recipients' users by official and by unit, the township's staff; not a
 * disabled user, not an official whose assignment had ended, not township
 * staff of another township whose unit is a recipient (STAFF_BU and P1). */
static int audience_of_notices_and_light_changes(void)
{
    static const char q_notice[] =
        "SELECT coalesce(string_agg(u.login, ',' ORDER BY u.login), '')"
        " FROM bb_notice_audience(p_first => $1::bigint, p_last => $1::bigint) a"
        " JOIN app_user u ON u.id = a.user_id";
    struct {
        int64_t id;
        const char *want;
    } nt[] = {
        {g.n_p1, STAFF_A "," SUPER_U},
        {g.n_p2, STAFF_B "," STAFF_BU "," SUPER_V},
        {g.n_m1, STAFF_A "," SUPER_O "," SUPER_V},
    };
    for (size_t i = 0; i < sizeof nt / sizeof nt[0]; i++) {
        char id[24], got[512];
        snprintf(id, sizeof id, "%" PRId64, nt[i].id);
        const char *p[] = {id};
        IT_CHECK(pg_text(q_notice, 1, p, got, sizeof got) == 0);
        IT_CHECKF(strcmp(got, nt[i].want) == 0, "notice %s: got %s, want %s", id, got,
                  nt[i].want);
    }
    /* One range: every pair once, ordered by notice then user. */
    char lo[24], hi[24], got[512];
    int64_t first = g.n_p1 < g.n_p2 ? g.n_p1 : g.n_p2, last = g.n_p1 > g.n_p2 ? g.n_p1 : g.n_p2;
    first = g.n_m1 < first ? g.n_m1 : first;
    last = g.n_m1 > last ? g.n_m1 : last;
    snprintf(lo, sizeof lo, "%" PRId64, first);
    snprintf(hi, sizeof hi, "%" PRId64, last);
    const char *r[] = {lo, hi};
    IT_CHECK(pg_text("SELECT count(*) || '/' || count(DISTINCT (notice_id, user_id))"
                     " || '/' || bool_and(ord = rn)"
                     " FROM (SELECT a.*, row_number() OVER () AS ord,"
                     "  row_number() OVER (ORDER BY a.notice_id, a.user_id) AS rn"
                     "  FROM bb_notice_audience(p_first => $1::bigint, p_last => $2::bigint) a) x",
                     2, r, got, sizeof got) == 0);
    IT_CHECK_STR(got, "8/8/true");

    /* Light changes: the people of the item on the change's day. */
    static const char q_light[] =
        "SELECT coalesce(string_agg(DISTINCT u.login, ',' ORDER BY u.login), '')"
        " FROM light_change lc"
        " CROSS JOIN LATERAL bb_light_audience(p_first => lc.id, p_last => lc.id) a"
        " JOIN app_user u ON u.id = a.user_id"
        " WHERE lc.problem_id = $1::bigint OR lc.project_id = $2::bigint";
    struct {
        int64_t problem, project;
        const char *want;
    } lt[] = {
        {g.p1, 0, STAFF_A "," SUPER_U},
        {g.p2, 0, STAFF_B "," STAFF_BU "," SUPER_V},
        {0, g.m1, STAFF_A "," SUPER_O "," SUPER_V},
    };
    for (size_t i = 0; i < sizeof lt / sizeof lt[0]; i++) {
        char pb[24], pj[24];
        snprintf(pb, sizeof pb, "%" PRId64, lt[i].problem);
        snprintf(pj, sizeof pj, "%" PRId64, lt[i].project);
        const char *p[] = {pb, pj};
        IT_CHECK(it_pg_int("SELECT count(*) FROM light_change"
                           " WHERE problem_id = $1::bigint OR project_id = $2::bigint",
                           2, p) >= 1);
        IT_CHECK(pg_text(q_light, 2, p, got, sizeof got) == 0);
        IT_CHECKF(strcmp(got, lt[i].want) == 0, "light of %s/%s: got %s, want %s", pb, pj, got,
                  lt[i].want);
    }
    return 0;
}

/* light.changes with mine, every page of 50: how many of the items are
 * problem pid's changes, and how many items in all. */
static int changes_mine(it_conn *c, int64_t pid, int *of_pid, int *all)
{
    *of_pid = 0;
    *all = 0;
    int64_t after = 0;
    for (int page = 0; page < 20; page++) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = g_msgid++;
        it_req(&b, id, "light.changes", 3);
        it_kv_bool(&b, "mine", true);
        it_kv_int(&b, "after", after);
        it_kv_int(&b, "limit", 50);
        it_msg m;
        int rc = it_buf_ok(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECK(rc == 0);
        const msgpack_object *items = it_map_get(m.result, "items");
        const msgpack_object *next = it_map_get(m.result, "next");
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && next != NULL);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            int64_t p = 0;
            const msgpack_object *pv = it_map_get(&items->via.array.ptr[i], "problem_id");
            if (pv != NULL && it_obj_int(pv, &p) && p == pid)
                (*of_pid)++;
            (*all)++;
        }
        bool more = next->type != MSGPACK_OBJECT_NIL;
        if (more)
            IT_CHECK(it_obj_int(next, &after));
        it_msg_free(&m);
        if (!more)
            return 0;
    }
    IT_CHECK(!"light.changes mine: too many pages");
    return -1;
}

/* Township staff linked to an official or a unit are concerned by their
 * own townships' items only: STAFF_BO, staff of TOWN_B and the user of
 * P3's 承办人 (P3 in TOWN_A), is in no audience of P3's notice or light
 * change, cannot see or read the notice, and neither `mine` lists it. */
static int staff_are_concerned_by_their_townships_only(void)
{
    IT_CHECK(mk_user(STAFF_BO, "township_staff", NULL, TOWN_B) == 0);
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *pp[] = {STAFF_BO, cc, TOWN_A};
    int64_t p3 = it_pg_int("WITH o AS (INSERT INTO official (name, user_id)"
                           "  SELECT '督办干部丙', id FROM app_user WHERE login = $1 RETURNING id),"
                           " e AS (INSERT INTO enterprise (name, credit_code, township_id)"
                           "  SELECT '督办企业' || $2, $2, t.id FROM township t WHERE t.name = $3"
                           "  RETURNING id)"
                           " INSERT INTO problem (enterprise_id, category, description,"
                           "  assignee_official_id, deadline)"
                           " SELECT e.id, '用地', '督办越界诉求', o.id, '2026-11-04'::date FROM e, o"
                           " RETURNING id",
                           3, pp);
    IT_CHECK(p3 > 0);
    IT_CHECK(it_pg_int(SWEEP, 0, NULL) >= 1);
    char p3s[24], n3s[24], bo[24], got[512];
    snprintf(p3s, sizeof p3s, "%" PRId64, p3);
    const char *q3[] = {p3s};
    int64_t n3 = it_pg_int("SELECT id FROM notice WHERE problem_id = $1::bigint AND level = 'red'",
                           1, q3);
    IT_CHECK(n3 > 0);
    snprintf(n3s, sizeof n3s, "%" PRId64, n3);
    snprintf(bo, sizeof bo, "%" PRId64, it_user_id(STAFF_BO));
    /* The notice is addressed to STAFF_BO's official, yet concerns only
     * TOWN_A's staff. */
    IT_CHECK(pg_text("SELECT string_agg(o.name || '/' || r.role, ',') FROM notice_recipient r"
                     " JOIN official o ON o.id = r.official_id WHERE r.notice_id = $1::bigint",
                     1, (const char *[]){n3s}, got, sizeof got) == 0);
    IT_CHECK_STR(got, "督办干部丙/承办人");
    IT_CHECK(pg_text("SELECT coalesce(string_agg(u.login, ',' ORDER BY u.login), '')"
                     " FROM bb_notice_audience(p_first => $1::bigint, p_last => $1::bigint) a"
                     " JOIN app_user u ON u.id = a.user_id",
                     1, (const char *[]){n3s}, got, sizeof got) == 0);
    IT_CHECK_STR(got, STAFF_A);
    IT_CHECK(pg_text("SELECT bb_notice_concerns(p_notice => $1::bigint, p_user => $2::bigint)",
                     2, (const char *[]){n3s, bo}, got, sizeof got) == 0);
    IT_CHECK_STR(got, "f");
    IT_CHECK(pg_text("SELECT coalesce(string_agg(DISTINCT u.login, ',' ORDER BY u.login), '')"
                     " FROM light_change lc"
                     " CROSS JOIN LATERAL bb_light_audience(p_first => lc.id, p_last => lc.id) a"
                     " JOIN app_user u ON u.id = a.user_id WHERE lc.problem_id = $1::bigint",
                     1, q3, got, sizeof got) == 0);
    IT_CHECK_STR(got, STAFF_A);

    it_server *s = start();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, STAFF_BO, IT_PASSWORD);
    it_conn *a = it_connect_as(s->port, STAFF_A, IT_PASSWORD);
    IT_CHECK(c != NULL && a != NULL);
    IT_CHECK(expect_refusal(c, "notice.get", n3, NULL, NULL, "not_found", "id") == 0);
    IT_CHECK(expect_refusal(c, "notice.read", n3, NULL, NULL, "not_found", "id") == 0);
    EXPECT_LIST(c, "mine", F_TRUE, NULL, 0, "P2:yellow");
    /* light.changes mine: TOWN_A's staff get P3's first light, STAFF_BO
     * only TOWN_B's changes (P2's). */
    int of_p3 = 0, all = 0;
    IT_CHECK(changes_mine(a, p3, &of_p3, &all) == 0);
    IT_CHECKF(of_p3 == 1, "STAFF_A: %d changes of P3", of_p3);
    IT_CHECK(changes_mine(c, p3, &of_p3, &all) == 0);
    char p2s[24];
    snprintf(p2s, sizeof p2s, "%" PRId64, g.p2);
    long long of_p2 = it_pg_int("SELECT count(*) FROM light_change WHERE problem_id = $1::bigint",
                                1, (const char *[]){p2s});
    IT_CHECKF(of_p3 == 0 && all == of_p2 && of_p2 >= 1,
              "STAFF_BO: %d changes of P3, %d in all, want P2's %lld", of_p3, all, of_p2);
    it_close(c);
    it_close(a);
    return 0;
}

static const it_test tests[] = {
    {"audience_of_notices_and_light_changes", audience_of_notices_and_light_changes},
    {"list_filters_and_scope", list_filters_and_scope},
    {"read_and_answer_rules", read_and_answer_rules},
    {"stats_count_exactly", stats_count_exactly},
    {"cli_prints_notices_in_chinese", cli_prints_notices_in_chinese},
    {"staff_are_concerned_by_their_townships_only", staff_are_concerned_by_their_townships_only},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "notices", tests, sizeof tests / sizeof tests[0], setup);
}
