/*
 * test_todo.c: todo.mine and `baobao todo` against a real server whose
 * clock is pinned (fake_now, the machine's zone UTC): township staff see
 * exactly the enterprises of their townships not visited in the reporting
 * month (a visit last month or one dated after today does not count, one
 * this month removes it, 注销 never shows), and their townships' problems
 * overdue or due within the window, with lights; moving the pinned clock
 * moves the month, also across the time zone boundary; supervisors see the
 * overdue milestones and problems of their unit and of their own official
 * and nothing of others', each once; a supervisor who maps to neither sees
 * nothing (not everything); another township's enterprise never appears;
 * each list is cut at `limit` with `more`; admins are forbidden, a role
 * changed behind the session is refused by the database, bad arguments
 * name their field; the CLI prints the sections with counts, names and
 * dates (English and Chinese) and --json.
 *
 * Data goes in with SQL (it_pg_exec): townships, users, enterprises,
 * visits, problems and projects of this file's own, so that tests sharing
 * the database never see each other's rows (every list of todo.mine is
 * whole-township or whole-unit).
 * Not for: the overdue rules themselves (test_overdue.c), status.submit
 * (test_status_reports.c).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ---- */

static unsigned long g_code_n = 610000;
static uint32_t g_msgid = 1;

/* The townships of this file (ids far above any county's), each with its
 * own staff user. */
static const struct {
    int id;
    const char *name, *staff;
} g_towns[] = {
    {901, "待办甲镇", "todo_staff_a"},   /* unvisited enterprises */
    {902, "待办乙镇", "todo_staff_b"},   /* another township's enterprise */
    {903, "待办丙镇", "todo_staff_c"},   /* problems */
    {904, "待办丁镇", "todo_staff_d"},   /* the month moves */
    {905, "待办戊镇", "todo_staff_e"},   /* the CLI */
    {906, "待办己镇", "todo_staff_f"},   /* limits */
    {907, "待办庚镇", "todo_staff_g"},   /* other townships' problems, supervisors' data */
};
#define NTOWNS (sizeof g_towns / sizeof g_towns[0])

/* Supervisors and the unit their account names. */
#define SUPER_A "todo_super_a"   /* unit 待办测试局, official 待办干部甲 */
#define SUPER_B "todo_super_b"   /* unit 待办另一局 */
#define SUPER_C "todo_super_c"   /* a unit that is not in the directory, no official */
#define SUPER_E "todo_super_e"   /* the CLI: unit 待办命令局 */

static int64_t sql_id(const char *sql, int n, const char *const *p)
{
    return it_pg_int(sql, n, p);
}

/* A user with IT_PASSWORD (the hash of it_staff's), role, unit, township. */
static int mk_user(const char *login, const char *role, const char *unit, const char *township)
{
    const char *p[] = {login, role, unit, township};
    return it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, unit,"
                      "  password_hash)"
                      " SELECT $1, $1, $2, $3, password_hash FROM app_user"
                      "  WHERE login = 'it_staff' RETURNING id)"
                      " INSERT INTO app_user_township (user_id, township_id)"
                      " SELECT u.id, t.id FROM u JOIN township t ON t.name = $4",
                      4, p);
}

static int64_t mk_unit(const char *name)
{
    const char *p[] = {name};
    return sql_id("INSERT INTO unit (name) VALUES ($1) RETURNING id", 1, p);
}

/* An official of unit, linked to user login (NULL: to none). */
static int64_t mk_official(const char *name, int64_t unit, const char *login)
{
    char u[24];
    snprintf(u, sizeof u, "%" PRId64, unit);
    const char *p[] = {name, u, login};
    return sql_id("INSERT INTO official (name, unit_id, user_id)"
                  " VALUES ($1, $2::bigint, (SELECT id FROM app_user WHERE login = $3))"
                  " RETURNING id",
                  3, p);
}

static int64_t mk_enterprise(const char *name, const char *township, const char *status)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *p[] = {name, cc, township, status};
    return sql_id("INSERT INTO enterprise (name, credit_code, township_id, status)"
                  " SELECT $1, $2, t.id, $4 FROM township t WHERE t.name = $3 RETURNING id",
                  4, p);
}

/* A visit (status report) of enterprise on date. */
static int visit(int64_t enterprise, const char *date)
{
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    const char *p[] = {e, date};
    return it_pg_exec("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                      " production_status) VALUES ($1::bigint, $2::date, '待办测试', '正常')",
                      2, p);
}

static int64_t mk_problem(int64_t enterprise, const char *desc, int64_t unit, int64_t official,
                          const char *deadline, const char *state)
{
    char e[24], u[24], o[24];
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    snprintf(u, sizeof u, "%" PRId64, unit);
    snprintf(o, sizeof o, "%" PRId64, official);
    const char *p[] = {e, desc, unit > 0 ? u : NULL, official > 0 ? o : NULL, deadline, state};
    return sql_id("INSERT INTO problem (enterprise_id, category, description, assignee_unit_id,"
                  " assignee_official_id, deadline, state, closed_at)"
                  " VALUES ($1::bigint, '用地', $2, $3::bigint, $4::bigint, $5::date, $6,"
                  "  CASE WHEN $6 = '确认' THEN now() END) RETURNING id",
                  6, p);
}

/* A project led by unit in township, with one milestone planned on date. */
static int64_t mk_project(const char *name, const char *township, int64_t unit, const char *node,
                          const char *planned)
{
    char u[24];
    snprintf(u, sizeof u, "%" PRId64, unit);
    const char *p[] = {name, township, u};
    int64_t id = sql_id("INSERT INTO project (name, township_id, lead_unit_id, stage,"
                        "  planned_investment, priority)"
                        " SELECT $1, t.id, $3::bigint, '洽谈', 100000000, '市级重点'"
                        " FROM township t WHERE t.name = $2 RETURNING id",
                        3, p);
    if (id <= 0)
        return -1;
    char pr[24];
    snprintf(pr, sizeof pr, "%" PRId64, id);
    const char *q[] = {pr, node, planned};
    if (it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date)"
                   " VALUES ($1::bigint, $2, $3::date)",
                   3, q) != 0)
        return -1;
    return id;
}

/* An active 联络员 assignment of official on an enterprise or a project. */
static int mk_assignment(int64_t official, int64_t enterprise, int64_t project)
{
    char o[24], e[24], pr[24];
    snprintf(o, sizeof o, "%" PRId64, official);
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    snprintf(pr, sizeof pr, "%" PRId64, project);
    const char *p[] = {o, enterprise > 0 ? e : NULL, project > 0 ? pr : NULL};
    return it_pg_exec("INSERT INTO assignment (official_id, enterprise_id, project_id, role,"
                      " period_start) VALUES ($1::bigint, $2::bigint, $3::bigint, '联络员',"
                      " '2026-01-01')",
                      3, p);
}

static int setup(void)
{
    for (size_t i = 0; i < NTOWNS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", g_towns[i].id);
        const char *p[] = {id, g_towns[i].name};
        IT_CHECK(it_pg_exec("INSERT INTO township (id, name, kind) VALUES ($1::smallint, $2, '镇')",
                            2, p) == 0);
        IT_CHECK(mk_user(g_towns[i].staff, "township_staff", NULL, g_towns[i].name) == 0);
    }
    IT_CHECK(mk_user(SUPER_A, "supervisor", "待办测试局", NULL) == 0);
    IT_CHECK(mk_user(SUPER_B, "supervisor", "待办另一局", NULL) == 0);
    IT_CHECK(mk_user(SUPER_C, "supervisor", "待办无此局", NULL) == 0);
    IT_CHECK(mk_user(SUPER_E, "supervisor", "待办命令局", NULL) == 0);
    return 0;
}

/* ---- calls ---- */

/* A server whose today is fake_now's date in Beijing while the machine
 * runs in UTC. */
static it_server *start_at(const char *fake_now)
{
    char fn[64];
    snprintf(fn, sizeof fn, "fake_now=%s", fake_now);
    const char *sets[] = {fn, NULL};
    const char *env[] = {"TZ=UTC", NULL};
    return it_server_start_env(sets, env);
}

/* todo.mine with within_days (< 0: absent) and limit (0: absent). */
static int todo(it_conn *c, int64_t within, int64_t limit, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "todo.mine", (size_t)(within >= 0) + (size_t)(limit > 0));
    if (within >= 0)
        it_kv_int(&b, "within_days", within);
    if (limit > 0)
        it_kv_int(&b, "limit", limit);
    int rc = it_buf_call(c, &b, id, out);
    it_buf_free(&b);
    return rc;
}

/* A list of the result as "a/b/c" items joined by ",": unvisited
 * "name/last_visit" ("-" when never), problems "description/days/level",
 * milestones "name/node/days/level"; *more its flag. */
static int summary(const msgpack_object *res, const char *list, char *out, size_t outlen,
                   bool *more)
{
    const msgpack_object *l = it_map_get(res, list);
    IT_CHECKF(l != NULL && l->type == MSGPACK_OBJECT_MAP, "%s is not a list", list);
    const msgpack_object *items = it_map_get(l, "items");
    const msgpack_object *m = it_map_get(l, "more");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    IT_CHECK(m != NULL && m->type == MSGPACK_OBJECT_BOOLEAN);
    *more = m->via.boolean;
    out[0] = '\0';
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char a[256] = "", b[64] = "", lv[16] = "";
        int64_t days = 0;
        size_t len = strlen(out);
        if (strcmp(list, "unvisited") == 0) {
            IT_CHECK(it_get_str(it, "name", a, sizeof a));
            const msgpack_object *last = it_map_get(it, "last_visit");
            IT_CHECK(last != NULL);
            if (last->type == MSGPACK_OBJECT_NIL)
                snprintf(b, sizeof b, "-");
            else
                IT_CHECK(it_obj_str(last, b, sizeof b));
            snprintf(out + len, outlen - len, "%s%s/%s", i ? "," : "", a, b);
            continue;
        }
        bool ms = strcmp(list, "milestones") == 0;
        IT_CHECK(it_get_str(it, ms ? "name" : "description", a, sizeof a));
        IT_CHECK(it_get_int(it, "days_overdue", &days));
        IT_CHECK(it_get_str(it, "level", lv, sizeof lv));
        if (ms) {
            IT_CHECK(it_get_str(it, "node", b, sizeof b));
            snprintf(out + len, outlen - len, "%s%s/%s/%" PRId64 "/%s", i ? "," : "", a, b, days,
                     lv);
        } else {
            snprintf(out + len, outlen - len, "%s%s/%" PRId64 "/%s", i ? "," : "", a, days, lv);
        }
    }
    return 0;
}

/* Calls todo.mine and compares one list with want (and its more flag). */
static int expect_list(it_conn *c, int64_t within, int64_t limit, const char *list,
                       const char *want, bool want_more)
{
    it_msg m;
    IT_CHECK(todo(c, within, limit, &m) == 0);
    char d[512];
    if (m.is_error) {
        it_fail(__FILE__, __LINE__, "todo.mine: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        return -1;
    }
    char got[4096];
    bool more = false;
    int rc = summary(m.result, list, got, sizeof got, &more);
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    IT_CHECKF(strcmp(got, want) == 0, "%s: got   %s\n    want  %s", list, got, want);
    IT_CHECKF(more == want_more, "%s: more is %d", list, more);
    return 0;
}

/* The result's key is nil. */
static int expect_nil(const msgpack_object *res, const char *key)
{
    const msgpack_object *o = it_map_get(res, key);
    IT_CHECKF(o != NULL && o->type == MSGPACK_OBJECT_NIL, "%s is not nil", key);
    return 0;
}

/* ---- tests ---- */

/* The enterprises of the staff's townships with no visit this month:
 * never visited first, then the longest unvisited; 注销 and another
 * township's never; a visit this month removes one. */
static int staff_sees_exactly_their_unvisited_enterprises_this_month(void)
{
    int64_t e1 = mk_enterprise("甲一", "待办甲镇", "在营");
    int64_t e2 = mk_enterprise("甲二", "待办甲镇", "在营");
    int64_t e3 = mk_enterprise("甲三", "待办甲镇", "半停产");
    int64_t e4 = mk_enterprise("甲四", "待办甲镇", "注销");
    int64_t e5 = mk_enterprise("甲五", "待办甲镇", "在营");
    int64_t e6 = mk_enterprise("甲六", "待办甲镇", "停产");
    int64_t f1 = mk_enterprise("乙一", "待办乙镇", "在营");
    IT_CHECK(e1 > 0 && e2 > 0 && e3 > 0 && e4 > 0 && e5 > 0 && e6 > 0 && f1 > 0);
    IT_CHECK(visit(e1, "2026-11-20") == 0);   /* last month: not this month's visit */
    IT_CHECK(visit(e1, "2026-12-20") == 0);   /* after today: not yet a visit */
    IT_CHECK(visit(e2, "2026-11-30") == 0);
    IT_CHECK(visit(e2, "2026-12-02") == 0);   /* visited this month */
    IT_CHECK(visit(e5, "2026-12-01") == 0);   /* the month's first day counts */
    IT_CHECK(visit(e6, "2026-10-15") == 0);

    it_server *s = start_at("2026-12-05T10:00:00+08:00");
    IT_CHECK(s != NULL);
    it_conn *a = it_connect_as(s->port, "todo_staff_a", IT_PASSWORD);
    it_conn *b = it_connect_as(s->port, "todo_staff_b", IT_PASSWORD);
    IT_CHECK(a != NULL && b != NULL);
    IT_CHECK(expect_list(a, -1, 0, "unvisited", "甲三/-,甲六/2026-10-15,甲一/2026-11-20",
                         false) == 0);
    IT_CHECK(expect_list(b, -1, 0, "unvisited", "乙一/-", false) == 0);

    /* The head of the answer. */
    it_msg m;
    IT_CHECK(todo(a, -1, 0, &m) == 0);
    char d[512];
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    IT_CHECK(it_get_str_eq(m.result, "role", "township_staff"));
    IT_CHECK(it_get_str_eq(m.result, "today", "2026-12-05"));
    IT_CHECK(it_get_str_eq(m.result, "month", "2026-12"));
    int64_t within = -1;
    IT_CHECK(it_get_int(m.result, "within_days", &within) && within == 7);
    const msgpack_object *ts = it_map_get(m.result, "townships");
    IT_CHECK(ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY && ts->via.array.size == 1);
    char t0[64];
    IT_CHECK(it_obj_str(&ts->via.array.ptr[0], t0, sizeof t0));
    IT_CHECK_STR(t0, "待办甲镇");
    int rc = expect_nil(m.result, "milestones") | expect_nil(m.result, "official") |
             expect_nil(m.result, "unit");
    it_msg_free(&m);
    IT_CHECK(rc == 0);

    /* A visit today removes 甲三. */
    IT_CHECK(visit(e3, "2026-12-05") == 0);
    IT_CHECK(expect_list(a, -1, 0, "unvisited", "甲六/2026-10-15,甲一/2026-11-20", false) == 0);
    return 0;
}

/* The reporting month is the pinned clock's, in Beijing: at 07:30 on
 * 1 January there (still 31 December in UTC) December's visits no longer
 * count. */
static int pinned_clock_moves_the_month_across_the_zone_boundary(void)
{
    int64_t g1 = mk_enterprise("月一", "待办丁镇", "在营");
    int64_t g2 = mk_enterprise("月二", "待办丁镇", "在营");
    IT_CHECK(g1 > 0 && g2 > 0);
    IT_CHECK(visit(g1, "2026-12-31") == 0);
    IT_CHECK(visit(g2, "2026-11-30") == 0);
    it_server *s = start_at("2026-12-31T12:00:00+08:00");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, "todo_staff_d", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 0, "unvisited", "月二/2026-11-30", false) == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    s = start_at("2026-12-31T23:30:00Z");   /* 2027-01-01 07:30 in Beijing */
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, "todo_staff_d", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 0, "unvisited", "月二/2026-11-30,月一/2026-12-31", false) == 0);
    it_msg m;
    IT_CHECK(todo(c, -1, 0, &m) == 0);
    bool ok = !m.is_error && it_get_str_eq(m.result, "month", "2027-01") &&
              it_get_str_eq(m.result, "today", "2027-01-01");
    it_msg_free(&m);
    IT_CHECKF(ok, "the month did not move to 2027-01");
    return 0;
}

/* The open problems of the staff's townships, overdue (red, yellow) or due
 * within the window (green); closed ones and another township's never. */
static int staff_sees_their_townships_problems_near_or_past_deadline(void)
{
    int64_t g = mk_enterprise("丙企", "待办丙镇", "在营");
    int64_t other = mk_enterprise("庚企", "待办庚镇", "在营");
    IT_CHECK(g > 0 && other > 0);
    IT_CHECK(mk_problem(g, "丙红", 0, 0, "2026-10-01", "交办") > 0);     /* 65 days */
    IT_CHECK(mk_problem(g, "丙黄", 0, 0, "2026-12-01", "办理") > 0);     /* 4 days */
    IT_CHECK(mk_problem(g, "丙今", 0, 0, "2026-12-05", "受理") > 0);     /* due today */
    IT_CHECK(mk_problem(g, "丙七", 0, 0, "2026-12-12", "反馈") > 0);     /* in 7 days */
    IT_CHECK(mk_problem(g, "丙八", 0, 0, "2026-12-13", "受理") > 0);     /* in 8 days */
    IT_CHECK(mk_problem(g, "丙结", 0, 0, "2026-11-01", "确认") > 0);     /* closed */
    IT_CHECK(mk_problem(other, "庚题", 0, 0, "2026-11-01", "受理") > 0); /* not theirs */
    it_server *s = start_at("2026-12-05T10:00:00+08:00");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, "todo_staff_c", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 0, "problems",
                         "丙红/65/red,丙黄/4/yellow,丙今/0/green,丙七/-7/green", false) == 0);
    IT_CHECK(expect_list(c, 0, 0, "problems", "丙红/65/red,丙黄/4/yellow,丙今/0/green",
                         false) == 0);
    IT_CHECK(expect_list(c, 8, 0, "problems",
                         "丙红/65/red,丙黄/4/yellow,丙今/0/green,丙七/-7/green,丙八/-8/green",
                         false) == 0);
    /* Staff of another township see none of these. */
    it_conn *cg = it_connect_as(s->port, "todo_staff_g", IT_PASSWORD);
    IT_CHECK(cg != NULL);
    it_msg m;
    IT_CHECK(todo(cg, 3650, 0, &m) == 0);
    char got[4096];
    bool more;
    int rc = m.is_error ? -1 : summary(m.result, "problems", got, sizeof got, &more);
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    IT_CHECKF(strstr(got, "丙") == NULL && strstr(got, "庚题") != NULL, "staff g: %s", got);
    /* The default window is the setting due_soon_days. */
    it_close(c);
    it_close(cg);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    const char *sets[] = {"fake_now=2026-12-05T10:00:00+08:00", "due_soon_days=8", NULL};
    s = it_server_start(sets);
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, "todo_staff_c", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 0, "problems",
                         "丙红/65/red,丙黄/4/yellow,丙今/0/green,丙七/-7/green,丙八/-8/green",
                         false) == 0);
    return 0;
}

/* Supervisors: the overdue rows of their unit and of their own official,
 * each once, nothing of other units; one who maps to neither sees
 * nothing. */
static int supervisor_sees_their_units_and_their_own_overdue_items_only(void)
{
    int64_t u = mk_unit("待办测试局");
    int64_t v = mk_unit("待办另一局");
    IT_CHECK(u > 0 && v > 0);
    int64_t o = mk_official("待办干部甲", u, SUPER_A);
    int64_t q = mk_official("待办干部乙", v, NULL);
    IT_CHECK(o > 0 && q > 0);
    /* Milestones (today 2026-12-05). */
    int64_t pa = mk_project("督甲", "待办庚镇", u, "签约", "2026-11-01");      /* 34: U */
    int64_t pb = mk_project("督乙", "待办庚镇", v, "签约", "2026-12-01");      /* 4: V, O's */
    int64_t pc = mk_project("督丙", "待办庚镇", v, "签约", "2026-11-15");      /* 20: V */
    int64_t pd = mk_project("督丁", "待办庚镇", u, "注册", "2026-12-10");      /* not late */
    IT_CHECK(pa > 0 && pb > 0 && pc > 0 && pd > 0);
    IT_CHECK(mk_assignment(o, 0, pb) == 0);
    /* Problems. */
    int64_t h1 = mk_enterprise("督企一", "待办庚镇", "在营");
    int64_t h2 = mk_enterprise("督企二", "待办庚镇", "在营");
    IT_CHECK(h1 > 0 && h2 > 0);
    IT_CHECK(mk_assignment(o, h2, 0) == 0);
    IT_CHECK(mk_problem(h1, "督题甲", u, 0, "2026-10-20", "交办") > 0);   /* 46: U */
    IT_CHECK(mk_problem(h1, "督题乙", v, o, "2026-11-25", "办理") > 0);   /* 10: O (A), V (B) */
    IT_CHECK(mk_problem(h2, "督题丙", 0, 0, "2026-12-04", "受理") > 0);   /* 1: O's enterprise */
    IT_CHECK(mk_problem(h1, "督题丁", v, q, "2026-11-10", "交办") > 0);   /* 25: V */
    IT_CHECK(mk_problem(h1, "督题戊", u, 0, "2026-12-06", "交办") > 0);   /* not late */
    IT_CHECK(mk_problem(h1, "督题己", u, o, "2026-11-30", "办理") > 0);   /* 5: U and O */
    IT_CHECK(mk_problem(h1, "督题庚", u, 0, "2026-11-01", "确认") > 0);   /* closed */

    it_server *s = start_at("2026-12-05T10:00:00+08:00");
    IT_CHECK(s != NULL);
    it_conn *a = it_connect_as(s->port, SUPER_A, IT_PASSWORD);
    it_conn *b = it_connect_as(s->port, SUPER_B, IT_PASSWORD);
    it_conn *c = it_connect_as(s->port, SUPER_C, IT_PASSWORD);
    IT_CHECK(a != NULL && b != NULL && c != NULL);
    IT_CHECK(expect_list(a, -1, 0, "milestones", "督甲/签约/34/red,督乙/签约/4/yellow",
                         false) == 0);
    IT_CHECK(expect_list(a, -1, 0, "problems",
                         "督题甲/46/red,督题乙/10/yellow,督题己/5/yellow,督题丙/1/yellow",
                         false) == 0);
    IT_CHECK(expect_list(b, -1, 0, "milestones", "督丙/签约/20/yellow,督乙/签约/4/yellow",
                         false) == 0);
    IT_CHECK(expect_list(b, -1, 0, "problems", "督题丁/25/yellow,督题乙/10/yellow", false) == 0);
    /* within_days changes nothing for supervisors: late rows only. */
    IT_CHECK(expect_list(a, 30, 0, "problems",
                         "督题甲/46/red,督题乙/10/yellow,督题己/5/yellow,督题丙/1/yellow",
                         false) == 0);
    /* Cut at limit, in order. */
    IT_CHECK(expect_list(a, -1, 1, "milestones", "督甲/签约/34/red", true) == 0);
    IT_CHECK(expect_list(a, -1, 3, "problems", "督题甲/46/red,督题乙/10/yellow,督题己/5/yellow",
                         true) == 0);
    IT_CHECK(expect_list(a, -1, 4, "problems",
                         "督题甲/46/red,督题乙/10/yellow,督题己/5/yellow,督题丙/1/yellow",
                         false) == 0);
    /* Who they are. */
    it_msg m;
    IT_CHECK(todo(a, -1, 0, &m) == 0);
    char d[512], name[64];
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    IT_CHECK(it_get_str_eq(m.result, "role", "supervisor"));
    const msgpack_object *unit = it_map_get(m.result, "unit");
    const msgpack_object *off = it_map_get(m.result, "official");
    bool ok = unit != NULL && it_get_str(unit, "name", name, sizeof name) &&
              strcmp(name, "待办测试局") == 0 && off != NULL &&
              it_get_str(off, "name", name, sizeof name) && strcmp(name, "待办干部甲") == 0;
    int rc = expect_nil(m.result, "unvisited") | expect_nil(m.result, "within_days");
    const msgpack_object *ts = it_map_get(m.result, "townships");
    ok = ok && ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY && ts->via.array.size == 0;
    it_msg_free(&m);
    IT_CHECKF(ok && rc == 0, "supervisor a's head");
    /* No unit of the directory, no official: nothing (never everyone's). */
    IT_CHECK(expect_list(c, -1, 0, "milestones", "", false) == 0);
    IT_CHECK(expect_list(c, -1, 0, "problems", "", false) == 0);
    IT_CHECK(todo(c, -1, 0, &m) == 0);
    rc = m.is_error ? -1 : expect_nil(m.result, "unit") | expect_nil(m.result, "official");
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    return 0;
}

/* Each list of township staff is cut at limit, with more. */
static int staff_lists_are_cut_at_limit_with_more(void)
{
    int64_t e[3];
    const char *names[3] = {"限一", "限二", "限三"};
    for (int i = 0; i < 3; i++) {
        e[i] = mk_enterprise(names[i], "待办己镇", "在营");
        IT_CHECK(e[i] > 0);
    }
    IT_CHECK(mk_problem(e[0], "限题一", 0, 0, "2026-11-01", "受理") > 0);
    IT_CHECK(mk_problem(e[1], "限题二", 0, 0, "2026-11-02", "受理") > 0);
    it_server *s = start_at("2026-12-05T10:00:00+08:00");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, "todo_staff_f", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 2, "unvisited", "限一/-,限二/-", true) == 0);
    IT_CHECK(expect_list(c, -1, 3, "unvisited", "限一/-,限二/-,限三/-", false) == 0);
    IT_CHECK(expect_list(c, -1, 1, "problems", "限题一/34/red", true) == 0);
    IT_CHECK(expect_list(c, -1, 2, "problems", "限题一/34/red,限题二/33/red", false) == 0);
    /* The default limit is page_limit_default. */
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    const char *sets[] = {"fake_now=2026-12-05T10:00:00+08:00", "page_limit_default=1", NULL};
    s = it_server_start(sets);
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, "todo_staff_f", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_list(c, -1, 0, "unvisited", "限一/-", true) == 0);
    return 0;
}

/* Admins and callers without a session are refused before anything runs;
 * a role changed behind a session is refused by the database; bad
 * arguments name their field. */

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

static int refusals_name_their_code_and_field(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *anon = it_connect_anon(s->port);
    it_conn *staff = it_connect_as(s->port, "todo_staff_e", IT_PASSWORD);
    IT_CHECK(admin != NULL && anon != NULL && staff != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "todo.mine", 0);
    IT_CHECK(it_buf_err(admin, &b, 1, "forbidden", "") == 0);
    it_req(&b, 2, "todo.mine", 0);
    IT_CHECK(it_buf_err(anon, &b, 2, "unauthenticated", "") == 0);
    it_req(&b, 3, "todo.mine", 1);
    it_kv_int(&b, "within_days", -1);
    IT_CHECK(it_buf_err(staff, &b, 3, "invalid_argument", "within_days") == 0);
    it_req(&b, 4, "todo.mine", 1);
    it_kv_int(&b, "within_days", 3651);
    IT_CHECK(it_buf_err(staff, &b, 4, "invalid_argument", "within_days") == 0);
    it_req(&b, 5, "todo.mine", 1);
    it_kv_int(&b, "limit", 0);
    IT_CHECK(it_buf_err(staff, &b, 5, "invalid_argument", "limit") == 0);
    it_req(&b, 6, "todo.mine", 1);
    it_kv_str(&b, "after", "1");
    IT_CHECK(it_buf_err(staff, &b, 6, "invalid_argument", "after") == 0);
    /* The session still says supervisor; the database knows better. */
    it_conn *gone = it_connect_as(s->port, SUPER_C, IT_PASSWORD);
    IT_CHECK(gone != NULL);
    const char *p[] = {SUPER_C};
    IT_CHECK(exec_untold("UPDATE app_user SET role = 'admin' WHERE login = $1", 1, p) == 0);
    it_req(&b, 7, "todo.mine", 0);
    int rc = it_buf_err(gone, &b, 7, "forbidden", "");
    IT_CHECK(exec_untold("UPDATE app_user SET role = 'supervisor' WHERE login = $1", 1, p) == 0);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    return 0;
}

/* `baobao todo`: the sections with their counts, names, dates and lights
 * in English and in Chinese; --json the result as sent. */
static int cli_prints_sections_with_counts_names_and_dates(void)
{
    int64_t e1 = mk_enterprise("命令企业一", "待办戊镇", "在营");
    int64_t e2 = mk_enterprise("命令企业二", "待办戊镇", "在营");
    IT_CHECK(e1 > 0 && e2 > 0);
    IT_CHECK(visit(e2, "2026-11-03") == 0);
    IT_CHECK(mk_problem(e1, "命令诉求", 0, 0, "2026-11-01", "交办") > 0);
    int64_t w = mk_unit("待办命令局");
    IT_CHECK(w > 0);
    IT_CHECK(mk_project("命令项目", "待办戊镇", w, "开工", "2026-11-25") > 0);
    it_server *s = start_at("2026-12-05T10:00:00+08:00");
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    it_cli r;
    const char *args[] = {"todo", NULL};
    const char *env_en[] = {"BAOBAO_USER=todo_staff_e", "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_en) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "Today: 2026-12-05") != NULL &&
                  strstr(r.out, "Your townships: 待办戊镇") != NULL &&
                  strstr(r.out, "Enterprises not visited in 2026-12: 2") != NULL &&
                  strstr(r.out, "命令企业一") != NULL && strstr(r.out, "never") != NULL &&
                  strstr(r.out, "命令企业二") != NULL && strstr(r.out, "2026-11-03") != NULL &&
                  strstr(r.out, "within 7 days: 1") != NULL &&
                  strstr(r.out, "命令诉求") != NULL && strstr(r.out, "2026-11-01") != NULL &&
                  strstr(r.out, "红") != NULL && strstr(r.out, "more") == NULL,
              "out: %s", r.out);
    IT_CHECKF(strchr(r.out, '\033') == NULL, "escape sequence in piped output: %s", r.out);
    it_cli_free(&r);

    const char *args_cut[] = {"todo", "--limit", "1", "--within", "0", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args_cut, env_en) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "Enterprises not visited in 2026-12: 1") != NULL &&
                  strstr(r.out, "there are more") != NULL &&
                  strstr(r.out, "within 0 days: 1") != NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    const char *env_zh[] = {"BAOBAO_USER=todo_staff_e", "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_zh) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "今天：2026-12-05") != NULL &&
                  strstr(r.out, "2026年12月未走访的企业：2") != NULL &&
                  strstr(r.out, "从未走访") != NULL && strstr(r.out, "命令企业一") != NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    const char *args_json[] = {"todo", "--json", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args_json, env_en) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "\"role\": \"township_staff\"") != NULL &&
                  strstr(r.out, "\"month\": \"2026-12\"") != NULL &&
                  strstr(r.out, "\"last_visit\": null") != NULL &&
                  strstr(r.out, "\"milestones\": null") != NULL,
              "json: %s", r.out);
    it_cli_free(&r);

    /* A supervisor: the milestone with its light; no unvisited section. */
    const char *env_sup[] = {"BAOBAO_USER=" SUPER_E, "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_sup) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "Your unit: 待办命令局") != NULL &&
                  strstr(r.out, "Overdue project milestones: 1") != NULL &&
                  strstr(r.out, "命令项目") != NULL && strstr(r.out, "黄") != NULL &&
                  strstr(r.out, "Overdue problems: none.") != NULL &&
                  strstr(r.out, "not visited") == NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    /* An admin: refused, exit 1. */
    const char *env_adm[] = {"BAOBAO_USER=" IT_USER_ADMIN, "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_adm) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "forbidden") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"staff_sees_exactly_their_unvisited_enterprises_this_month",
     staff_sees_exactly_their_unvisited_enterprises_this_month},
    {"pinned_clock_moves_the_month_across_the_zone_boundary",
     pinned_clock_moves_the_month_across_the_zone_boundary},
    {"staff_sees_their_townships_problems_near_or_past_deadline",
     staff_sees_their_townships_problems_near_or_past_deadline},
    {"supervisor_sees_their_units_and_their_own_overdue_items_only",
     supervisor_sees_their_units_and_their_own_overdue_items_only},
    {"staff_lists_are_cut_at_limit_with_more", staff_lists_are_cut_at_limit_with_more},
    {"refusals_name_their_code_and_field", refusals_name_their_code_and_field},
    {"cli_prints_sections_with_counts_names_and_dates",
     cli_prints_sections_with_counts_names_and_dates},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "todo", tests, sizeof tests / sizeof tests[0], setup);
}
