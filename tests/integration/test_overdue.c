/*
 * test_overdue.c: overdue.milestones, overdue.problems, due.milestones and
 * due.problems against a real server whose clock is pinned (fake_now):
 * days overdue across month ends, 29 February 2024 and the time zone
 * boundary (07:30 in Beijing is still the day before in UTC), traffic
 * lights from the configured thresholds, the level filter as a date range,
 * the due window, the people responsible, filters, keyset pagination that
 * neither skips nor repeats while rows come and go, township staff scope,
 * argument refusals, and the CLI's table (plain when piped, coloured on
 * request) and --json.
 *
 * Data goes in with SQL (it_pg_exec): the project, assignment and problem
 * methods are other files' business. Each test makes its own lead unit and
 * filters on it (unit_id), so tests sharing the database never see each
 * other's rows.
 * Not for: the project lifecycle or the problem workflow (test_projects.c,
 * test_problems.c).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- data ---- */

static unsigned long g_code_n = 500000;

static int64_t sql_id(const char *sql, int n, const char *const *p)
{
    long long v = it_pg_int(sql, n, p);
    return v;
}

static int64_t mk_unit(const char *name)
{
    const char *p[] = {name};
    return sql_id("INSERT INTO unit (name) VALUES ($1) RETURNING id", 1, p);
}

static int64_t mk_official(const char *name, int64_t unit)
{
    char u[24];
    snprintf(u, sizeof u, "%" PRId64, unit);
    const char *p[] = {name, u};
    return sql_id("INSERT INTO official (name, unit_id) VALUES ($1, $2::bigint) RETURNING id", 2,
                  p);
}

static int64_t mk_enterprise(const char *name, const char *township, const char *cluster)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *p[] = {name, cc, township, cluster};
    return sql_id("INSERT INTO enterprise (name, credit_code, township_id, cluster)"
                  " SELECT $1, $2, t.id, $4 FROM township t WHERE t.name = $3 RETURNING id",
                  4, p);
}

/* A project led by unit, in township, at stage, with an investor or not
 * (enterprise 0). */
static int64_t mk_project(const char *name, const char *township, int64_t unit, const char *stage,
                          int64_t enterprise, const char *cluster)
{
    char u[24], e[24];
    snprintf(u, sizeof u, "%" PRId64, unit);
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    const char *p[] = {name, township, u, stage, enterprise > 0 ? e : NULL, cluster};
    return sql_id("INSERT INTO project (name, township_id, lead_unit_id, stage, enterprise_id,"
                  "  planned_investment, priority, cluster, stage_reason)"
                  " SELECT $1, t.id, $3::bigint, $4, $5::bigint, 100000000, '市级重点', $6,"
                  "  CASE WHEN $4 IN ('终止', '暂停') THEN '测试' END"
                  " FROM township t WHERE t.name = $2 RETURNING id",
                  6, p);
}

static int mk_milestone(int64_t project, const char *node, const char *planned,
                        const char *actual)
{
    char pr[24];
    snprintf(pr, sizeof pr, "%" PRId64, project);
    const char *p[] = {pr, node, planned, actual};
    return it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date, actual_date)"
                      " VALUES ($1::bigint, $2, $3::date, $4::date)",
                      4, p);
}

static int mk_assignment(int64_t official, int64_t unit, int64_t enterprise, int64_t project,
                         const char *role, const char *start, const char *end)
{
    char o[24], u[24], e[24], pr[24];
    snprintf(o, sizeof o, "%" PRId64, official);
    snprintf(u, sizeof u, "%" PRId64, unit);
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    snprintf(pr, sizeof pr, "%" PRId64, project);
    const char *p[] = {official > 0 ? o : NULL, unit > 0 ? u : NULL, enterprise > 0 ? e : NULL,
                       project > 0 ? pr : NULL, role, start, end};
    return it_pg_exec("INSERT INTO assignment (official_id, unit_id, enterprise_id, project_id,"
                      " role, period_start, period_end)"
                      " VALUES ($1::bigint, $2::bigint, $3::bigint, $4::bigint, $5, $6::date,"
                      " $7::date)",
                      7, p);
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

/* ---- calls ---- */

typedef struct q {
    const char *township, *cluster, *stage, *state, *level, *after;
    int64_t official, unit, limit;
    int64_t wd;   /* within_days + 1; 0 = absent */
} q;

static uint32_t g_msgid = 1;

/* Sends method with the arguments set in a and reads the answer. */
static int run_q(it_conn *c, const char *method, const q *a, it_msg *out)
{
    size_t n = (a->township != NULL) + (a->cluster != NULL) + (a->stage != NULL) +
               (a->state != NULL) + (a->level != NULL) + (a->after != NULL) +
               (a->official > 0) + (a->unit > 0) + (a->wd > 0) + (a->limit > 0);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, method, n);
    if (a->township) it_kv_str(&b, "township", a->township);
    if (a->cluster) it_kv_str(&b, "cluster", a->cluster);
    if (a->stage) it_kv_str(&b, "stage", a->stage);
    if (a->state) it_kv_str(&b, "state", a->state);
    if (a->official > 0) it_kv_int(&b, "official_id", a->official);
    if (a->unit > 0) it_kv_int(&b, "unit_id", a->unit);
    if (a->level) it_kv_str(&b, "level", a->level);
    if (a->wd > 0) it_kv_int(&b, "within_days", a->wd - 1);
    if (a->after) it_kv_str(&b, "after", a->after);
    if (a->limit > 0) it_kv_int(&b, "limit", a->limit);
    int rc = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    return rc == IT_RECV_MSG ? 0 : -1;
}

#define Q(...) ((q){__VA_ARGS__})

/* One page summarised as "name/node/days/level" (milestones) or
 * "description/days/level" (problems) items joined by ",", and its next. */
static int summary(const it_msg *m, bool milestones, char *out, size_t outlen, char *next,
                   size_t nextlen)
{
    char d[256];
    IT_CHECKF(!m->is_error, "error: %s", it_describe(m, d, sizeof d));
    const msgpack_object *items = it_map_get(m->result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    out[0] = '\0';
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char name[160] = "", node[32] = "", level[16] = "";
        int64_t days = 0;
        IT_CHECK(it_get_str(it, milestones ? "name" : "description", name, sizeof name));
        IT_CHECK(it_get_int(it, "days_overdue", &days));
        IT_CHECK(it_get_str(it, "level", level, sizeof level));
        size_t len = strlen(out);
        if (milestones) {
            IT_CHECK(it_get_str(it, "node", node, sizeof node));
            snprintf(out + len, outlen - len, "%s%s/%s/%" PRId64 "/%s", i ? "," : "", name, node,
                     days, level);
        } else {
            snprintf(out + len, outlen - len, "%s%s/%" PRId64 "/%s", i ? "," : "", name, days,
                     level);
        }
    }
    const msgpack_object *nx = it_map_get(m->result, "next");
    IT_CHECK(nx != NULL);
    if (next != NULL) {
        next[0] = '\0';
        if (nx->type == MSGPACK_OBJECT_STR)
            IT_CHECK(it_obj_str(nx, next, nextlen));
        else
            IT_CHECK(nx->type == MSGPACK_OBJECT_NIL);
    }
    return 0;
}

/* Runs a query and compares its one page with want. */
static int expect_page(it_conn *c, const char *method, q a, const char *want)
{
    it_msg m;
    IT_CHECK(run_q(c, method, &a, &m) == 0);
    char got[4096], next[64];
    int rc = summary(&m, strstr(method, "milestones") != NULL, got, sizeof got, next, sizeof next);
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    IT_CHECKF(strcmp(got, want) == 0, "%s: got   %s\n    want  %s", method, got, want);
    IT_CHECKF(next[0] == '\0', "%s: unexpected next %s", method, next);
    return 0;
}

static int expect_refusal(it_conn *c, const char *method, q a, const char *code,
                          const char *field)
{
    it_msg m;
    IT_CHECK(run_q(c, method, &a, &m) == 0);
    char d[256];
    bool ok = m.is_error && strcmp(m.code, code) == 0 &&
              (field == NULL ? m.field[0] == '\0' : strcmp(m.field, field) == 0);
    it_describe(&m, d, sizeof d);
    it_msg_free(&m);
    IT_CHECKF(ok, "%s: expected %s field %s, got %s", method, code, field ? field : "-", d);
    return 0;
}

static it_server *start_at(const char *fake_now, const char *extra)
{
    char fn[64];
    snprintf(fn, sizeof fn, "fake_now=%s", fake_now);
    const char *sets[] = {fn, extra, NULL};
    /* The machine's zone is UTC: "today" must still be Beijing's. */
    const char *env[] = {"TZ=UTC", NULL};
    return it_server_start_env(sets, env);
}

/* ---- tests ---- */

/* 2024-03-01T07:30+08:00 is 2024-02-29T23:30Z: today is 2024-03-01, so a
 * milestone planned for 29 February is one day late, one planned for
 * 1 March is due today (0 days, not late). */
static int time_zone_boundary_today_is_beijing_date(void)
{
    int64_t u = mk_unit("时区测试单位");
    IT_CHECK(u > 0);
    int64_t p = mk_project("时区项目", "赤壁镇", u, "签约", 0, NULL);
    IT_CHECK(p > 0);
    IT_CHECK(mk_milestone(p, "注册", "2024-02-29", NULL) == 0);
    IT_CHECK(mk_milestone(p, "开工", "2024-03-01", NULL) == 0);
    it_server *s = start_at("2024-03-01T07:30:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u), "时区项目/注册/1/yellow") == 0);
    IT_CHECK(expect_page(c, "due.milestones", Q(.unit = u, .wd = 1 + 0),
                         "时区项目/开工/0/green") == 0);
    return 0;
}

/* Days counted across 29 February 2024 and month ends, with the default
 * threshold (red after 30 days). */
static int leap_day_and_month_ends_counted_in_calendar_days(void)
{
    int64_t u = mk_unit("闰年测试单位");
    IT_CHECK(u > 0);
    int64_t a = mk_project("闰A", "新店镇", u, "洽谈", 0, NULL);
    int64_t b = mk_project("闰B", "新店镇", u, "洽谈", 0, NULL);
    int64_t cc = mk_project("闰C", "新店镇", u, "洽谈", 0, NULL);
    IT_CHECK(a > 0 && b > 0 && cc > 0);
    IT_CHECK(mk_milestone(a, "签约", "2024-02-28", NULL) == 0);
    IT_CHECK(mk_milestone(a, "注册", "2024-02-29", NULL) == 0);
    IT_CHECK(mk_milestone(b, "签约", "2024-03-01", NULL) == 0);
    IT_CHECK(mk_milestone(b, "注册", "2024-01-31", NULL) == 0);
    IT_CHECK(mk_milestone(cc, "签约", "2024-01-30", NULL) == 0);
    IT_CHECK(mk_milestone(cc, "注册", "2024-01-29", "2024-02-01") == 0); /* done: never late */
    /* today 2024-03-31: 02-28 is 32 days, 02-29 31 (red), 03-01 30 (yellow) */
    it_server *s = start_at("2024-03-31T12:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u),
                         "闰C/签约/61/red,闰B/注册/60/red,闰A/签约/32/red,闰A/注册/31/red,"
                         "闰B/签约/30/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .level = "yellow"),
                         "闰B/签约/30/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .level = "red"),
                         "闰C/签约/61/red,闰B/注册/60/red,闰A/签约/32/red,闰A/注册/31/red") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    /* today 2024-03-01: 01-31 is 30 days (29 in February + 1), 01-30 31 */
    s = start_at("2024-03-01T00:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u),
                         "闰C/签约/31/red,闰B/注册/30/yellow,闰A/签约/2/yellow,"
                         "闰A/注册/1/yellow") == 0);
    /* a year that is not leap: 2023-03-01 - 2023-02-28 = 1 */
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    int64_t d = mk_project("平年D", "新店镇", u, "洽谈", 0, NULL);
    IT_CHECK(d > 0 && mk_milestone(d, "签约", "2023-02-28", NULL) == 0);
    s = start_at("2023-03-01T09:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u), "平年D/签约/1/yellow") == 0);
    return 0;
}

/* overdue_red_after_days and due_soon_days come from configuration. */
static int thresholds_from_configuration(void)
{
    int64_t u = mk_unit("阈值测试单位");
    IT_CHECK(u > 0);
    int64_t p = mk_project("阈值项目", "赤壁镇", u, "签约", 0, NULL);
    IT_CHECK(p > 0);
    IT_CHECK(mk_milestone(p, "注册", "2024-02-24", NULL) == 0);  /* 6 days */
    IT_CHECK(mk_milestone(p, "开工", "2024-02-25", NULL) == 0);  /* 5 days */
    IT_CHECK(mk_milestone(p, "投产", "2024-03-04", NULL) == 0);  /* due in 3 */
    IT_CHECK(mk_milestone(p, "竣工", "2024-03-05", NULL) == 0);  /* due in 4 */
    it_server *s = start_at("2024-03-01T10:00:00+08:00", "overdue_red_after_days=5");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u),
                         "阈值项目/注册/6/red,阈值项目/开工/5/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .level = "red"),
                         "阈值项目/注册/6/red") == 0);
    IT_CHECK(expect_page(c, "due.milestones", Q(.unit = u),
                         "阈值项目/投产/-3/green,阈值项目/竣工/-4/green") == 0);
    IT_CHECK(expect_page(c, "due.milestones", Q(.unit = u, .wd = 1 + 3),
                         "阈值项目/投产/-3/green") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    /* the defaults: red after 30 days, due within 7 */
    s = start_at("2024-03-01T10:00:00+08:00", "due_soon_days=3");
    IT_CHECK(s != NULL);
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u),
                         "阈值项目/注册/6/yellow,阈值项目/开工/5/yellow") == 0);
    IT_CHECK(expect_page(c, "due.milestones", Q(.unit = u), "阈值项目/投产/-3/green") == 0);
    return 0;
}

static int items_field_count(const it_msg *m, uint32_t i, const char *key, uint32_t *n)
{
    const msgpack_object *items = it_map_get(m->result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && i < items->via.array.size);
    const msgpack_object *a = it_map_get(&items->via.array.ptr[i], key);
    IT_CHECK(a != NULL && a->type == MSGPACK_OBJECT_ARRAY);
    *n = a->via.array.size;
    return 0;
}

/* The row's people: active assignments only, the lead unit, the
 * enterprise; and the official_id / unit_id filters. Problems: closed ones
 * are never late, the assignee is listed, the state filter. */
static int rows_carry_people_enterprise_and_filters_work(void)
{
    int64_t u = mk_unit("人员测试牵头单位");
    int64_t u2 = mk_unit("人员测试责任单位");
    int64_t o1 = mk_official("张市长", u2), o2 = mk_official("李干部", u2),
            o3 = mk_official("王旧联络员", u2);
    int64_t e = mk_enterprise("人员测试企业", "赤壁镇", "新材料");
    IT_CHECK(u > 0 && u2 > 0 && o1 > 0 && o2 > 0 && o3 > 0 && e > 0);
    int64_t p = mk_project("人员项目", "赤壁镇", u, "签约", e, "新材料");
    int64_t p2 = mk_project("人员项目二", "赤壁镇", u, "注册", 0, "大健康");
    int64_t p3 = mk_project("终止项目", "赤壁镇", u, "终止", 0, NULL);
    IT_CHECK(p > 0 && p2 > 0 && p3 > 0);
    IT_CHECK(mk_milestone(p, "注册", "2024-02-20", NULL) == 0);
    IT_CHECK(mk_milestone(p2, "开工", "2024-02-21", NULL) == 0);
    IT_CHECK(mk_milestone(p3, "开工", "2024-02-19", NULL) == 0);  /* ended: not listed */
    IT_CHECK(mk_assignment(o1, 0, 0, p, "包保市领导", "2024-01-01", NULL) == 0);
    IT_CHECK(mk_assignment(o2, 0, 0, p, "联络员", "2024-02-01", NULL) == 0);
    IT_CHECK(mk_assignment(o3, 0, 0, p, "联络员", "2023-01-01", "2024-01-31") == 0); /* ended */
    IT_CHECK(mk_assignment(0, u2, 0, p, "责任单位", "2024-01-01", NULL) == 0);
    IT_CHECK(mk_assignment(o2, 0, e, 0, "联络员", "2024-01-01", NULL) == 0);
    IT_CHECK(mk_problem(e, "人员问题一", u, o1, "2024-02-25", "交办") > 0);
    IT_CHECK(mk_problem(e, "人员问题二", u, 0, "2024-02-26", "确认") > 0);  /* closed */
    IT_CHECK(mk_problem(e, "人员问题三", u, 0, "2024-02-27", "办理") > 0);

    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(run_q(c, "overdue.milestones", &Q(.unit = u), &m) == 0);
    char d[512];
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->via.array.size == 2);
    const msgpack_object *r0 = &items->via.array.ptr[0];
    IT_CHECK(r0->type == MSGPACK_OBJECT_MAP && r0->via.map.size == 11);
    static const char *const keys[] = {"project_id", "node", "name", "township", "enterprise",
                                       "planned_date", "days_overdue", "level", "stage",
                                       "officials", "units"};
    for (uint32_t k = 0; k < 11; k++) {
        const msgpack_object *key = &r0->via.map.ptr[k].key;
        IT_CHECKF(key->type == MSGPACK_OBJECT_STR && key->via.str.size == strlen(keys[k]) &&
                      memcmp(key->via.str.ptr, keys[k], key->via.str.size) == 0,
                  "key %u is not %s", k, keys[k]);
    }
    int64_t v;
    IT_CHECK(it_get_int(r0, "project_id", &v) && v == p);
    IT_CHECK(it_get_str_eq(r0, "township", "赤壁镇"));
    IT_CHECK(it_get_str_eq(r0, "planned_date", "2024-02-20"));
    IT_CHECK(it_get_str_eq(r0, "stage", "签约"));
    const msgpack_object *ent = it_map_get(r0, "enterprise");
    IT_CHECK(ent != NULL && it_get_int(ent, "id", &v) && v == e);
    IT_CHECK(it_get_str_eq(ent, "name", "人员测试企业"));
    const msgpack_object *offs = it_map_get(r0, "officials");
    IT_CHECKF(offs != NULL && offs->via.array.size == 2, "two active officials");
    IT_CHECK(it_get_int(&offs->via.array.ptr[0], "id", &v) && v == o1);
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[0], "name", "张市长"));
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[0], "role", "包保市领导"));
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[1], "name", "李干部"));
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[1], "role", "联络员"));
    const msgpack_object *units = it_map_get(r0, "units");
    IT_CHECK(units != NULL && units->via.array.size == 2);
    IT_CHECK(it_get_str_eq(&units->via.array.ptr[0], "role", "责任单位"));
    IT_CHECK(it_get_int(&units->via.array.ptr[0], "id", &v) && v == u2);
    IT_CHECK(it_get_str_eq(&units->via.array.ptr[1], "role", "牵头单位"));
    IT_CHECK(it_get_int(&units->via.array.ptr[1], "id", &v) && v == u);
    const msgpack_object *r1 = &items->via.array.ptr[1];
    ent = it_map_get(r1, "enterprise");
    IT_CHECK(ent != NULL && ent->type == MSGPACK_OBJECT_NIL);
    uint32_t n;
    IT_CHECK(items_field_count(&m, 1, "officials", &n) == 0 && n == 0);
    it_msg_free(&m);

    /* filters */
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.official = o2), "人员项目/注册/10/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.official = o3), "") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u2), "人员项目/注册/10/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .cluster = "大健康"),
                         "人员项目二/开工/9/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .stage = "注册"),
                         "人员项目二/开工/9/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .township = "新店镇"), "") == 0);
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u, .township = "没有这个镇"), "") == 0);

    /* problems */
    IT_CHECK(expect_page(c, "overdue.problems", Q(.unit = u),
                         "人员问题一/5/yellow,人员问题三/3/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.problems", Q(.unit = u, .state = "办理"),
                         "人员问题三/3/yellow") == 0);
    IT_CHECK(expect_page(c, "overdue.problems", Q(.official = o1), "人员问题一/5/yellow") == 0);
    IT_CHECK(run_q(c, "overdue.problems", &Q(.unit = u), &m) == 0);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    items = it_map_get(m.result, "items");
    r0 = &items->via.array.ptr[0];
    IT_CHECK(r0->via.map.size == 10);
    IT_CHECK(it_get_str_eq(r0, "deadline", "2024-02-25"));
    IT_CHECK(it_get_str_eq(r0, "state", "交办"));
    ent = it_map_get(r0, "enterprise");
    IT_CHECK(ent != NULL && it_get_int(ent, "id", &v) && v == e);
    offs = it_map_get(r0, "officials");
    /* 李干部 (联络员 of the enterprise), then 张市长 as 承办人 */
    IT_CHECKF(offs != NULL && offs->via.array.size == 2, "officials of the problem");
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[0], "role", "联络员"));
    IT_CHECK(it_get_str_eq(&offs->via.array.ptr[1], "role", "承办人"));
    IT_CHECK(it_get_int(&offs->via.array.ptr[1], "id", &v) && v == o1);
    units = it_map_get(r0, "units");
    IT_CHECK(units != NULL && units->via.array.size == 1);
    IT_CHECK(it_get_str_eq(&units->via.array.ptr[0], "role", "承办单位"));
    it_msg_free(&m);
    /* due within 7 days from 2024-03-01: nothing (all are late) */
    IT_CHECK(expect_page(c, "due.problems", Q(.unit = u), "") == 0);
    return 0;
}

/* Paging with limit 2 while milestones are added before and after the
 * cursor and others are closed: every row that stayed open throughout
 * comes exactly once, and nothing comes twice. */
static int pagination_neither_skips_nor_repeats_while_rows_change(void)
{
    int64_t u = mk_unit("分页测试单位");
    IT_CHECK(u > 0);
    enum { NP = 9 };
    int64_t ids[NP];
    char name[NP][32];
    static const char *const dates[NP] = {"2024-01-05", "2024-01-05", "2024-01-06", "2024-01-07",
                                          "2024-01-07", "2024-01-09", "2024-01-10", "2024-01-12",
                                          "2024-01-12"};
    for (int i = 0; i < NP; i++) {
        snprintf(name[i], sizeof name[i], "分页%d", i);
        ids[i] = mk_project(name[i], "赤壁镇", u, "洽谈", 0, NULL);
        IT_CHECK(ids[i] > 0);
        IT_CHECK(mk_milestone(ids[i], "签约", dates[i], NULL) == 0);
        /* two nodes of one project on one day: the node breaks the tie */
        if (i == 4)
            IT_CHECK(mk_milestone(ids[i], "注册", dates[i], NULL) == 0);
    }
    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char seen[64][48];
    int nseen = 0, pages = 0;
    char after[64] = "";
    for (;;) {
        it_msg m;
        q a = Q(.unit = u, .limit = 2, .after = after[0] ? after : NULL);
        IT_CHECK(run_q(c, "overdue.milestones", &a, &m) == 0);
        char d[256];
        IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
        const msgpack_object *items = it_map_get(m.result, "items");
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            char nm[32], nd[16];
            IT_CHECK(it_get_str(&items->via.array.ptr[i], "name", nm, sizeof nm));
            IT_CHECK(it_get_str(&items->via.array.ptr[i], "node", nd, sizeof nd));
            IT_CHECK(nseen < 64);
            snprintf(seen[nseen++], sizeof seen[0], "%s/%s", nm, nd);
        }
        const msgpack_object *nx = it_map_get(m.result, "next");
        bool more = nx->type == MSGPACK_OBJECT_STR;
        if (more)
            IT_CHECK(it_obj_str(nx, after, sizeof after));
        it_msg_free(&m);
        pages++;
        if (pages == 1) {
            /* before the cursor, after it, and closing one not yet seen */
            int64_t x = mk_project("分页新早", "赤壁镇", u, "洽谈", 0, NULL);
            int64_t y = mk_project("分页新晚", "赤壁镇", u, "洽谈", 0, NULL);
            IT_CHECK(x > 0 && y > 0);
            IT_CHECK(mk_milestone(x, "签约", "2024-01-01", NULL) == 0);
            IT_CHECK(mk_milestone(y, "签约", "2024-01-11", NULL) == 0);
            char pid[24];
            snprintf(pid, sizeof pid, "%" PRId64, ids[6]);
            const char *pp[] = {pid};
            IT_CHECK(it_pg_exec("UPDATE project_milestone SET actual_date = '2024-02-01'"
                                " WHERE project_id = $1::bigint", 1, pp) == 0);
        }
        if (pages == 3) {
            /* close one already seen: nothing shifts */
            char pid[24];
            snprintf(pid, sizeof pid, "%" PRId64, ids[0]);
            const char *pp[] = {pid};
            IT_CHECK(it_pg_exec("UPDATE project_milestone SET actual_date = '2024-02-01'"
                                " WHERE project_id = $1::bigint", 1, pp) == 0);
        }
        if (!more)
            break;
        IT_CHECK(pages < 20);
    }
    /* each name/node once */
    for (int i = 0; i < nseen; i++)
        for (int j = i + 1; j < nseen; j++)
            IT_CHECKF(strcmp(seen[i], seen[j]) != 0, "%s came twice", seen[i]);
    /* every row open throughout came */
    for (int i = 0; i < NP; i++) {
        if (i == 6)
            continue;
        char want[48];
        snprintf(want, sizeof want, "%s/签约", name[i]);
        bool found = false;
        for (int j = 0; j < nseen; j++)
            found |= strcmp(seen[j], want) == 0;
        IT_CHECKF(found, "%s was skipped", want);
    }
    bool found4 = false;
    for (int j = 0; j < nseen; j++)
        found4 |= strcmp(seen[j], "分页4/注册") == 0;
    IT_CHECK(found4);
    /* the one added after the cursor came, the one before did not */
    bool late = false, early = false;
    for (int j = 0; j < nseen; j++) {
        late |= strcmp(seen[j], "分页新晚/签约") == 0;
        early |= strcmp(seen[j], "分页新早/签约") == 0;
    }
    IT_CHECK(late && !early);
    IT_CHECKF(pages >= 5, "%d pages", pages);
    return 0;
}

/* Pages of one row each from the start: the rows as "name/node" joined by
 * ",", each page's cursor passed back; fails on a page of more than one
 * row or when the paging does not end. */
static int page_by_one(it_conn *c, const char *method, q a, char *out, size_t outlen)
{
    char after[64] = "";
    out[0] = '\0';
    for (int pages = 0;; pages++) {
        IT_CHECK(pages < 20);
        a.limit = 1;
        a.after = after[0] ? after : NULL;
        it_msg m;
        IT_CHECK(run_q(c, method, &a, &m) == 0);
        char got[256], next[64];
        int rc = summary(&m, true, got, sizeof got, next, sizeof next);
        it_msg_free(&m);
        IT_CHECK(rc == 0);
        IT_CHECKF(strchr(got, ',') == NULL, "%s: a page of limit 1 held %s", method, got);
        if (got[0] != '\0') {
            char *slash = strchr(got, '/');
            slash = slash ? strchr(slash + 1, '/') : NULL;   /* drop days and level */
            if (slash)
                *slash = '\0';
            size_t len = strlen(out);
            snprintf(out + len, outlen - len, "%s%s", len ? "," : "", got);
        }
        if (next[0] == '\0')
            break;
        snprintf(after, sizeof after, "%s", next);
    }
    return 0;
}

/* The milestones of one project that fall on one date come in lifecycle
 * order (签约, 注册, 开工, 投产, 竣工), not in the order of their names
 * as text (开工, 投产, 注册, 竣工, 签约), and paging one row at a time
 * with the cursors gives every row once, in that order: through the index
 * walk (unit_id), the official's sorted portfolio (official_id), and
 * due.milestones. */
static int milestones_on_one_date_come_in_lifecycle_order(void)
{
    int64_t u = mk_unit("节点顺序单位");
    IT_CHECK(u > 0);
    int64_t o = mk_official("节点顺序干部", u);
    int64_t p = mk_project("节点顺序项目", "赤壁镇", u, "洽谈", 0, NULL);
    int64_t p2 = mk_project("节点顺序二", "赤壁镇", u, "洽谈", 0, NULL);
    IT_CHECK(o > 0 && p > 0 && p2 > 0);
    /* inserted in no particular order; p2's 签约 a day later, after all of p's */
    static const char *const nodes[] = {"竣工", "开工", "签约", "投产", "注册"};
    for (size_t i = 0; i < 5; i++) {
        IT_CHECK(mk_milestone(p, nodes[i], "2024-02-10", NULL) == 0);
        IT_CHECK(mk_milestone(p2, nodes[i], strcmp(nodes[i], "签约") == 0 ? "2024-02-11"
                                                                       : "2024-03-03",
                              NULL) == 0);
    }
    IT_CHECK(mk_assignment(o, 0, 0, p, "包保市领导", "2024-01-01", NULL) == 0);
    IT_CHECK(mk_assignment(o, 0, 0, p2, "包保市领导", "2024-01-01", NULL) == 0);
    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    static const char want_late[] =
        "节点顺序项目/签约,节点顺序项目/注册,节点顺序项目/开工,节点顺序项目/投产,"
        "节点顺序项目/竣工,节点顺序二/签约";
    static const char want_due[] =
        "节点顺序二/注册,节点顺序二/开工,节点顺序二/投产,节点顺序二/竣工";
    IT_CHECK(expect_page(c, "overdue.milestones", Q(.unit = u),
                         "节点顺序项目/签约/20/yellow,节点顺序项目/注册/20/yellow,"
                         "节点顺序项目/开工/20/yellow,节点顺序项目/投产/20/yellow,"
                         "节点顺序项目/竣工/20/yellow,节点顺序二/签约/19/yellow") == 0);
    char got[1024];
    IT_CHECK(page_by_one(c, "overdue.milestones", Q(.unit = u), got, sizeof got) == 0);
    IT_CHECKF(strcmp(got, want_late) == 0, "by unit: %s", got);
    IT_CHECK(page_by_one(c, "overdue.milestones", Q(.official = o), got, sizeof got) == 0);
    IT_CHECKF(strcmp(got, want_late) == 0, "by official: %s", got);
    IT_CHECK(page_by_one(c, "due.milestones", Q(.unit = u), got, sizeof got) == 0);
    IT_CHECKF(strcmp(got, want_due) == 0, "due: %s", got);
    return 0;
}

/* Township staff see rows of their townships only (赵李桥镇 and
 * 高新技术产业园区 for it_staff); a township filter outside them gives
 * an empty page. */
static int township_staff_see_their_townships_only(void)
{
    int64_t u = mk_unit("范围测试单位");
    IT_CHECK(u > 0);
    int64_t in = mk_project("范围内项目", "赵李桥镇", u, "洽谈", 0, NULL);
    int64_t park = mk_project("园区项目", "高新技术产业园区", u, "洽谈", 0, NULL);
    int64_t out = mk_project("范围外项目", "新店镇", u, "洽谈", 0, NULL);
    IT_CHECK(in > 0 && park > 0 && out > 0);
    IT_CHECK(mk_milestone(out, "签约", "2024-02-01", NULL) == 0);
    IT_CHECK(mk_milestone(in, "签约", "2024-02-02", NULL) == 0);
    IT_CHECK(mk_milestone(park, "签约", "2024-02-03", NULL) == 0);
    int64_t ein = mk_enterprise("范围内企业", "赵李桥镇", NULL);
    int64_t eout = mk_enterprise("范围外企业", "新店镇", NULL);
    IT_CHECK(ein > 0 && eout > 0);
    IT_CHECK(mk_problem(eout, "范围外问题", u, 0, "2024-02-01", "受理") > 0);
    IT_CHECK(mk_problem(ein, "范围内问题", u, 0, "2024-02-02", "受理") > 0);
    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *staff2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(staff != NULL && staff2 != NULL && admin != NULL);
    IT_CHECK(expect_page(staff, "overdue.milestones", Q(.unit = u),
                         "范围内项目/签约/28/yellow,园区项目/签约/27/yellow") == 0);
    IT_CHECK(expect_page(staff, "overdue.milestones", Q(.unit = u, .township = "新店镇"), "") == 0);
    IT_CHECK(expect_page(staff2, "overdue.milestones", Q(.unit = u),
                         "范围外项目/签约/29/yellow") == 0);
    IT_CHECK(expect_page(staff, "overdue.problems", Q(.unit = u), "范围内问题/28/yellow") == 0);
    IT_CHECK(expect_page(staff2, "overdue.problems", Q(.unit = u), "范围外问题/29/yellow") == 0);
    /* a page boundary does not reveal the hidden row: limit 1 from the
     * start gives the first row in scope and a cursor past it */
    it_msg m;
    IT_CHECK(run_q(staff, "overdue.milestones", &Q(.unit = u, .limit = 1), &m) == 0);
    char got[512], next[64];
    IT_CHECK(summary(&m, true, got, sizeof got, next, sizeof next) == 0);
    it_msg_free(&m);
    IT_CHECK_STR(got, "范围内项目/签约/28/yellow");
    IT_CHECK(next[0] != '\0');
    IT_CHECK(expect_page(staff, "overdue.milestones", Q(.unit = u, .after = next),
                         "园区项目/签约/27/yellow") == 0);
    /* everyone reads: admins too */
    IT_CHECK(expect_page(admin, "overdue.milestones", Q(.unit = u),
                         "范围外项目/签约/29/yellow,范围内项目/签约/28/yellow,"
                         "园区项目/签约/27/yellow") == 0);
    return 0;
}

/* The enterprise of a row: nil when absent; else its name into out. */
static int row_enterprise(it_conn *c, int64_t unit, char *out, size_t outlen)
{
    it_msg m;
    IT_CHECK(run_q(c, "overdue.milestones", &Q(.unit = unit), &m) == 0);
    IT_CHECK(!m.is_error);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size == 1);
    const msgpack_object *e = it_map_get(&items->via.array.ptr[0], "enterprise");
    IT_CHECK(e != NULL);
    out[0] = '\0';
    if (e->type != MSGPACK_OBJECT_NIL)
        IT_CHECK(it_get_str(e, "name", out, outlen));
    it_msg_free(&m);
    return 0;
}

/* A project in a township of theirs whose investor is registered in
 * another township: township staff see the row, not the investor (whose
 * name enterprise.get would not give them); a supervisor sees both. */
static int investor_outside_scope_is_not_shown(void)
{
    int64_t u = mk_unit("投资方范围单位");
    int64_t inv = mk_enterprise("新店镇投资方企业", "新店镇", NULL);
    IT_CHECK(u > 0 && inv > 0);
    int64_t p = mk_project("外地投资项目", "赵李桥镇", u, "洽谈", inv, NULL);
    IT_CHECK(p > 0);
    IT_CHECK(mk_milestone(p, "签约", "2024-02-05", NULL) == 0);
    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(staff != NULL && sup != NULL);
    char name[128];
    IT_CHECK(row_enterprise(staff, u, name, sizeof name) == 0);
    IT_CHECKF(name[0] == '\0', "township staff saw the investor %s of another township", name);
    IT_CHECK(row_enterprise(sup, u, name, sizeof name) == 0);
    IT_CHECK_STR(name, "新店镇投资方企业");
    return 0;
}

/* Every argument fault has its code and field; unknown keys, nil, the
 * level on due.*, a cursor of the other kind. */
static int bad_arguments_are_refused_with_their_field(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_refusal(c, "overdue.milestones", Q(.level = "green"), "invalid_argument",
                            "level") == 0);
    IT_CHECK(expect_refusal(c, "overdue.milestones", Q(.stage = "开会"), "invalid_argument",
                            "stage") == 0);
    IT_CHECK(expect_refusal(c, "overdue.problems", Q(.state = "签约"), "invalid_argument",
                            "state") == 0);
    IT_CHECK(expect_refusal(c, "overdue.problems", Q(.stage = "签约"), "invalid_argument",
                            "stage") == 0);
    IT_CHECK(expect_refusal(c, "due.milestones", Q(.level = "red"), "invalid_argument",
                            "level") == 0);
    IT_CHECK(expect_refusal(c, "overdue.milestones", Q(.wd = 1 + 3), "invalid_argument",
                            "within_days") == 0);
    IT_CHECK(expect_refusal(c, "due.problems", Q(.wd = 1 + 3651), "invalid_argument",
                            "within_days") == 0);
    IT_CHECK(expect_refusal(c, "overdue.milestones", Q(.limit = 501), "invalid_argument",
                            "limit") == 0);
    static const char *const bad_cursors[] = {"x", "2024-02-30.5.1", "2024-02-01.5",
                                              "2024-02-01.05.1", "2024-02-01.5.6",
                                              "2024-02-01.0.1", "2024-02-01.5.1 ",
                                              "2024-02-01.99999999999999999999.1"};
    for (size_t i = 0; i < sizeof bad_cursors / sizeof bad_cursors[0]; i++)
        IT_CHECK(expect_refusal(c, "overdue.milestones", Q(.after = bad_cursors[i]),
                                "invalid_argument", "after") == 0);
    IT_CHECK(expect_refusal(c, "overdue.problems", Q(.after = "2024-02-01.5.1"),
                            "invalid_argument", "after") == 0);
    IT_CHECK(expect_page(c, "overdue.problems", Q(.unit = 999999999, .after = "2024-02-01.5"),
                         "") == 0);
    /* unknown key, nil for a filter */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 77, "overdue.milestones", 1);
    it_kv_str(&b, "townshp", "赤壁镇");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 77, "invalid_argument", "townshp", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    it_req(&b, 78, "due.problems", 1);
    it_kv_nil(&b, "township");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 78, "invalid_argument", "township", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    it_req(&b, 79, "overdue.problems", 1);
    it_kv_str(&b, "official_id", "7");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 79, "invalid_argument", "official_id", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    /* not logged in */
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    it_msg m;
    IT_CHECK(run_q(anon, "due.milestones", &Q(.wd = 1 + 1), &m) == 0);
    IT_CHECK(m.is_error && strcmp(m.code, "unauthenticated") == 0);
    it_msg_free(&m);
    return 0;
}

/* The CLI: a table with a header, plain text when piped (no escape
 * sequences), coloured lights with --color always, and --json. */
static int cli_prints_table_plain_when_piped_and_json(void)
{
    int64_t u = mk_unit("命令行测试单位");
    IT_CHECK(u > 0);
    int64_t p = mk_project("命令行项目", "赤壁镇", u, "签约", 0, NULL);
    IT_CHECK(p > 0);
    IT_CHECK(mk_milestone(p, "注册", "2024-01-01", NULL) == 0);  /* 60 days: red */
    IT_CHECK(mk_milestone(p, "开工", "2024-02-20", NULL) == 0);  /* 10 days: yellow */
    IT_CHECK(mk_milestone(p, "投产", "2024-03-05", NULL) == 0);  /* due in 4 */
    it_server *s = start_at("2024-03-01T10:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    char server[64], unit[24];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    snprintf(unit, sizeof unit, "%" PRId64, u);
    it_cli r;
    const char *a1[] = {"overdue", "milestones", "--unit", unit, NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a1) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "命令行项目") != NULL && strstr(r.out, "注册") != NULL,
              "out: %s", r.out);
    IT_CHECKF(strstr(r.out, "红") != NULL && strstr(r.out, "黄") != NULL, "out: %s", r.out);
    IT_CHECKF(strchr(r.out, '\033') == NULL, "escape sequence in piped output: %s", r.out);
    /* header + 2 rows */
    int lines = 0;
    for (const char *x = r.out; *x; x++)
        lines += *x == '\n';
    IT_CHECKF(lines == 3, "%d lines: %s", lines, r.out);
    it_cli_free(&r);

    const char *a2[] = {"overdue", "milestones", "--unit", unit, "--color", "always", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a2) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "\033[31m") != NULL && strstr(r.out, "\033[33m") != NULL,
              "no colours: %s", r.out);
    it_cli_free(&r);

    const char *a3[] = {"due", "milestones", "--unit", unit, "--within", "7", "--json", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a3) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "\"items\"") != NULL && strstr(r.out, "\"days_overdue\": -4") != NULL &&
                  strstr(r.out, "\"level\": \"green\"") != NULL,
              "json: %s", r.out);
    it_cli_free(&r);

    const char *a4[] = {"overdue", "milestones", "--level", "purple", NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a4) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "invalid_argument") != NULL, "exit %d: %s",
              r.status, r.err);
    it_cli_free(&r);

    const char *a5[] = {"overdue", "problems", "--unit", unit, NULL};
    IT_CHECK(it_cli_run(&r, server, 30000, a5) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    return 0;
}

static const it_test tests[] = {
    {"investor_outside_scope_is_not_shown", investor_outside_scope_is_not_shown},
    {"time_zone_boundary_today_is_beijing_date", time_zone_boundary_today_is_beijing_date},
    {"leap_day_and_month_ends_counted_in_calendar_days",
     leap_day_and_month_ends_counted_in_calendar_days},
    {"thresholds_from_configuration", thresholds_from_configuration},
    {"rows_carry_people_enterprise_and_filters_work",
     rows_carry_people_enterprise_and_filters_work},
    {"pagination_neither_skips_nor_repeats_while_rows_change",
     pagination_neither_skips_nor_repeats_while_rows_change},
    {"milestones_on_one_date_come_in_lifecycle_order",
     milestones_on_one_date_come_in_lifecycle_order},
    {"township_staff_see_their_townships_only", township_staff_see_their_townships_only},
    {"bad_arguments_are_refused_with_their_field", bad_arguments_are_refused_with_their_field},
    {"cli_prints_table_plain_when_piped_and_json", cli_prints_table_plain_when_piped_and_json},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "overdue", tests, sizeof tests / sizeof tests[0], NULL);
}
