/*
 * test_visits.c: coverage.visits, `baobao visits` and the workbook's
 * 走访完成情况 sheet (reporting-cycle completeness, issue 12) against a
 * real server whose clock is pinned (fake_now, the machine's zone UTC):
 * township staff see exactly their own townships, supervisors and admins
 * every one; the counts are exact (注销 left out, a visit last month or one
 * dated after the day counted does not count, one this month does, a
 * withdrawn one never); the list of those not visited is in todo.mine's
 * order and is todo.mine's list; moving the pinned clock, the `on` date or
 * the setting visit_cycle_months moves the cycle (a quarter counts last
 * month's visit); a setting that does not divide the year stops the
 * server at start; each township's list is cut at `limit` with `more`;
 * bad arguments name their field; the CLI prints the cycle and each
 * township in English and Chinese, and --json; the export's workbook has
 * the sheet after 本月未走访 with the same figures, numbers in number
 * cells, names one per line cut at REPORT_VISITS_NAMES_MAX (30), and the
 * configured cycle.
 *
 * Data goes in with SQL (it_pg_exec): townships, users, enterprises and
 * visits of this file's own (township ids far above any county's), so the
 * figures of each township are known whatever else the database holds.
 * Not for: the rule's other users in detail (test_todo.c, test_reports.c),
 * status.withdraw itself (test_corrections.c).
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
/* Today is 2026-12-05 in Beijing, the machine in UTC. */
#define NOW "2026-12-05T10:00:00+08:00"
/* An export under ASan on a shared machine: generous. */
#define EXPORT_TIMEOUT_MS 180000
/* Names in a township's cell of the sheet (REPORT_VISITS_NAMES_MAX). */
#define SHEET_NAMES_MAX 30

/* ---- data ---- */

static unsigned long g_code_n = 620000;
static uint32_t g_msgid = 1;

/* The townships of this file, each with its own staff user (NULL: none). */
static const struct {
    int id;
    const char *name, *staff;
} g_towns[] = {
    {921, "走访甲镇", "visits_staff_a"},   /* counts, order, scope */
    {922, "走访乙镇", "visits_staff_b"},   /* another township */
    {923, "走访丙镇", "visits_staff_c"},   /* the cycle moves */
    {924, "走访丁镇", "visits_staff_d"},   /* a withdrawn visit */
    {925, "走访戊镇", NULL},               /* 31 never visited: limits */
    {926, "走访己镇", "visits_staff_f"},   /* the CLI */
};
#define NTOWNS (sizeof g_towns / sizeof g_towns[0])

/* A user with IT_PASSWORD (the hash of it_staff's), role, township. */
static int mk_user(const char *login, const char *role, const char *township)
{
    const char *p[] = {login, role, township};
    return it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, password_hash)"
                      " SELECT $1, $1, $2, password_hash FROM app_user"
                      "  WHERE login = 'it_staff' RETURNING id)"
                      " INSERT INTO app_user_township (user_id, township_id)"
                      " SELECT u.id, t.id FROM u JOIN township t ON t.name = $3",
                      3, p);
}

static int64_t mk_enterprise(const char *name, const char *township, const char *status)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *p[] = {name, cc, township, status};
    return it_pg_int("INSERT INTO enterprise (name, credit_code, township_id, status)"
                     " SELECT $1, $2, t.id, $4 FROM township t WHERE t.name = $3 RETURNING id",
                     4, p);
}

/* A visit (status report) of enterprise on date; its id. */
static int64_t visit(int64_t enterprise, const char *date)
{
    char e[24];
    snprintf(e, sizeof e, "%" PRId64, enterprise);
    const char *p[] = {e, date};
    return it_pg_int("INSERT INTO status_report (enterprise_id, report_date, reporter,"
                     " production_status) VALUES ($1::bigint, $2::date, '走访测试', '正常')"
                     " RETURNING id",
                     2, p);
}

/* The enterprises and visits every test reads (none changes them, but
 * staff_see_only_their_townships_with_exact_counts adds a visit of its
 * own to 走访甲镇 at its end). Today is 2026-12-05. */
static int setup(void)
{
    for (size_t i = 0; i < NTOWNS; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", g_towns[i].id);
        const char *p[] = {id, g_towns[i].name};
        IT_CHECK(it_pg_exec("INSERT INTO township (id, name, kind) VALUES ($1::smallint, $2, '镇')",
                            2, p) == 0);
        if (g_towns[i].staff != NULL)
            IT_CHECK(mk_user(g_towns[i].staff, "township_staff", g_towns[i].name) == 0);
    }
    /* A retired township without enterprises: listed to nobody. */
    IT_CHECK(it_pg_exec("INSERT INTO township (id, name, kind, retired_at)"
                        " VALUES (927, '走访撤并镇', '镇', now())",
                        0, NULL) == 0);

    /* 走访甲镇: 5 to visit (甲四 is 注销), 2 visited this month. */
    int64_t a1 = mk_enterprise("甲一", "走访甲镇", "在营");
    int64_t a2 = mk_enterprise("甲二", "走访甲镇", "在营");
    int64_t a3 = mk_enterprise("甲三", "走访甲镇", "半停产");
    int64_t a4 = mk_enterprise("甲四", "走访甲镇", "注销");
    int64_t a5 = mk_enterprise("甲五", "走访甲镇", "在营");
    int64_t a6 = mk_enterprise("甲六", "走访甲镇", "停产");
    IT_CHECK(a1 > 0 && a2 > 0 && a3 > 0 && a4 > 0 && a5 > 0 && a6 > 0);
    IT_CHECK(visit(a1, "2026-11-20") > 0);   /* last month: not this month's visit */
    IT_CHECK(visit(a1, "2026-12-20") > 0);   /* after today: not yet a visit */
    IT_CHECK(visit(a2, "2026-11-30") > 0);
    IT_CHECK(visit(a2, "2026-12-02") > 0);   /* visited this month */
    IT_CHECK(visit(a4, "2026-10-01") > 0);   /* 注销: never counted */
    IT_CHECK(visit(a5, "2026-12-01") > 0);   /* the month's first day counts */
    IT_CHECK(visit(a6, "2026-10-15") > 0);

    /* 走访乙镇: one, never visited. */
    IT_CHECK(mk_enterprise("乙一", "走访乙镇", "在营") > 0);

    /* 走访丙镇: visits on the last days of three months. */
    int64_t c1 = mk_enterprise("丙一", "走访丙镇", "在营");
    int64_t c2 = mk_enterprise("丙二", "走访丙镇", "在营");
    int64_t c3 = mk_enterprise("丙三", "走访丙镇", "在营");
    IT_CHECK(c1 > 0 && c2 > 0 && c3 > 0);
    IT_CHECK(visit(c1, "2026-12-31") > 0);
    IT_CHECK(visit(c2, "2026-11-30") > 0);
    IT_CHECK(visit(c3, "2026-10-02") > 0);

    /* 走访戊镇: 31 never visited, one more than a cell names. */
    for (int i = 1; i <= SHEET_NAMES_MAX + 1; i++) {
        char name[32];
        snprintf(name, sizeof name, "戊%02d", i);
        IT_CHECK(mk_enterprise(name, "走访戊镇", "在营") > 0);
    }

    /* 走访己镇: the CLI's. */
    int64_t f1 = mk_enterprise("己一", "走访己镇", "在营");
    int64_t f2 = mk_enterprise("己二", "走访己镇", "在营");
    int64_t f3 = mk_enterprise("己三", "走访己镇", "在营");
    IT_CHECK(f1 > 0 && f2 > 0 && f3 > 0);
    IT_CHECK(visit(f2, "2026-11-03") > 0);
    IT_CHECK(visit(f3, "2026-12-01") > 0);
    return 0;
}

/* ---- calls ---- */

/* A server whose today is fake_now's date in Beijing while the machine
 * runs in UTC, with one more setting (NULL: none). */
static it_server *start_at(const char *fake_now, const char *set)
{
    char fn[64];
    snprintf(fn, sizeof fn, "fake_now=%s", fake_now);
    const char *sets[] = {fn, set, NULL};
    const char *env[] = {"TZ=UTC", NULL};
    return it_server_start_env(sets, env);
}

/* coverage.visits with township, on (NULL: absent) and limit (0: absent);
 * the answer must be a result. */
static int visits(it_conn *c, const char *township, const char *on, int64_t limit, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "coverage.visits",
           (size_t)(township != NULL) + (size_t)(on != NULL) + (size_t)(limit > 0));
    if (township != NULL)
        it_kv_str(&b, "township", township);
    if (on != NULL)
        it_kv_str(&b, "on", on);
    if (limit > 0)
        it_kv_int(&b, "limit", limit);
    int rc = it_buf_ok(c, &b, id, out);
    it_buf_free(&b);
    return rc;
}

/* The township named name in a result, or NULL. */
static const msgpack_object *township_of(const msgpack_object *res, const char *name)
{
    const msgpack_object *ts = it_map_get(res, "townships");
    if (ts == NULL || ts->type != MSGPACK_OBJECT_ARRAY)
        return NULL;
    for (uint32_t i = 0; i < ts->via.array.size; i++)
        if (it_get_str_eq(&ts->via.array.ptr[i], "township", name))
            return &ts->via.array.ptr[i];
    return NULL;
}

/* One township as "enterprises/visited/not_visited:name/last,...;more",
 * last "-" when never, more "more" or "all". */
static int township_text(const msgpack_object *t, char *out, size_t outlen)
{
    int64_t n = -1, v = -1, nv = -1;
    IT_CHECK(it_get_int(t, "enterprises", &n) && it_get_int(t, "visited", &v) &&
             it_get_int(t, "not_visited", &nv));
    const msgpack_object *items = it_map_get(t, "items");
    const msgpack_object *more = it_map_get(t, "more");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    IT_CHECK(more != NULL && more->type == MSGPACK_OBJECT_BOOLEAN);
    int w = snprintf(out, outlen, "%" PRId64 "/%" PRId64 "/%" PRId64 ":", n, v, nv);
    size_t len = w > 0 ? (size_t)w : 0;
    for (uint32_t i = 0; i < items->via.array.size && len < outlen; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char name[128] = "", last[16] = "-";
        int64_t id = 0;
        IT_CHECK(it_get_int(it, "id", &id) && id > 0);
        IT_CHECK(it_get_str(it, "name", name, sizeof name));
        const msgpack_object *lv = it_map_get(it, "last_visit");
        IT_CHECK(lv != NULL);
        if (lv->type != MSGPACK_OBJECT_NIL)
            IT_CHECK(it_obj_str(lv, last, sizeof last));
        w = snprintf(out + len, outlen - len, "%s%s/%s", i ? "," : "", name, last);
        len += w > 0 ? (size_t)w : 0;
    }
    if (len < outlen)
        snprintf(out + len, outlen - len, ";%s", more->via.boolean ? "more" : "all");
    return 0;
}

/* Calls coverage.visits and compares township name's text with want
 * (want NULL: the township must not be in the answer). */
static int expect_township(it_conn *c, const char *filter, const char *on, int64_t limit,
                           const char *name, const char *want)
{
    it_msg m;
    IT_CHECK(visits(c, filter, on, limit, &m) == 0);
    const msgpack_object *t = township_of(m.result, name);
    char got[2048] = "";
    int rc = t != NULL ? township_text(t, got, sizeof got) : 0;
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    if (want == NULL) {
        IT_CHECKF(t == NULL, "%s is listed: %s", name, got);
        return 0;
    }
    IT_CHECKF(t != NULL, "%s is not listed", name);
    IT_CHECKF(strcmp(got, want) == 0, "%s: got   %s\n    want  %s", name, got, want);
    return 0;
}

/* The names of the townships of an answer, joined by ",". */
static int township_names(it_conn *c, const char *filter, char *out, size_t outlen)
{
    it_msg m;
    IT_CHECK(visits(c, filter, NULL, 0, &m) == 0);
    const msgpack_object *ts = it_map_get(m.result, "townships");
    bool ok = ts != NULL && ts->type == MSGPACK_OBJECT_ARRAY;
    size_t len = 0;
    out[0] = '\0';
    for (uint32_t i = 0; ok && i < ts->via.array.size && len < outlen; i++) {
        char name[128];
        ok = it_get_str(&ts->via.array.ptr[i], "township", name, sizeof name);
        int w = snprintf(out + len, outlen - len, "%s%s", i ? "," : "", name);
        len += w > 0 ? (size_t)w : 0;
    }
    it_msg_free(&m);
    IT_CHECK(ok);
    return 0;
}

/* The head of an answer: on, cycle_months, cycle_start, cycle_end. */
static int expect_cycle(it_conn *c, const char *on, const char *want_on, int64_t months,
                        const char *start, const char *end)
{
    it_msg m;
    IT_CHECK(visits(c, NULL, on, 0, &m) == 0);
    int64_t got = 0;
    bool ok = it_get_str_eq(m.result, "on", want_on) &&
              it_get_int(m.result, "cycle_months", &got) && got == months &&
              it_get_str_eq(m.result, "cycle_start", start) &&
              it_get_str_eq(m.result, "cycle_end", end);
    char d[1024];
    it_describe(&m, d, sizeof d);
    it_msg_free(&m);
    IT_CHECKF(ok, "expected on %s, %" PRId64 " months, %s - %s: %s", want_on, months, start, end,
              d);
    return 0;
}

/* ---- tests ---- */

/* Township staff: their own townships only, whatever they ask for;
 * supervisors and admins every one (a retired township with nothing to
 * visit left out). The counts are exact, the list in todo.mine's order;
 * a visit today moves an enterprise to the visited. */
static int staff_see_only_their_townships_with_exact_counts(void)
{
    it_server *s = start_at(NOW, NULL);
    IT_CHECK(s != NULL);
    it_conn *a = it_connect_as(s->port, "visits_staff_a", IT_PASSWORD);
    it_conn *b = it_connect_as(s->port, "visits_staff_b", IT_PASSWORD);
    it_conn *sup = it_connect_as(s->port, IT_USER_SUPER, IT_PASSWORD);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(a != NULL && b != NULL && sup != NULL && adm != NULL);
    const char *jia = "5/2/3:甲三/-,甲六/2026-10-15,甲一/2026-11-20;all";
    const char *yi = "1/0/1:乙一/-;all";

    char names[4096];
    IT_CHECK(township_names(a, NULL, names, sizeof names) == 0);
    IT_CHECK_STR(names, "走访甲镇");
    IT_CHECK(township_names(b, NULL, names, sizeof names) == 0);
    IT_CHECK_STR(names, "走访乙镇");
    IT_CHECK(expect_township(a, NULL, NULL, 0, "走访甲镇", jia) == 0);
    IT_CHECK(expect_township(b, NULL, NULL, 0, "走访乙镇", yi) == 0);
    IT_CHECK(expect_cycle(a, NULL, "2026-12-05", 1, "2026-12-01", "2026-12-31") == 0);
    /* Another township, or one that does not exist: nothing, no error. */
    IT_CHECK(township_names(a, "走访乙镇", names, sizeof names) == 0);
    IT_CHECK_STR(names, "");
    IT_CHECK(township_names(a, "没有这个镇", names, sizeof names) == 0);
    IT_CHECK_STR(names, "");
    IT_CHECK(township_names(a, "走访甲镇", names, sizeof names) == 0);
    IT_CHECK_STR(names, "走访甲镇");

    /* Supervisors and admins: every township, the same figures. */
    IT_CHECK(township_names(sup, NULL, names, sizeof names) == 0);
    IT_CHECKF(strstr(names, "走访甲镇,走访乙镇,走访丙镇,走访丁镇,走访戊镇,走访己镇") != NULL &&
                  strstr(names, "蒲圻街道") != NULL && strstr(names, "走访撤并镇") == NULL,
              "supervisor's townships: %s", names);
    IT_CHECK(expect_township(sup, NULL, NULL, 0, "走访甲镇", jia) == 0);
    IT_CHECK(expect_township(adm, NULL, NULL, 0, "走访乙镇", yi) == 0);
    IT_CHECK(township_names(adm, "走访乙镇", names, sizeof names) == 0);
    IT_CHECK_STR(names, "走访乙镇");

    /* The same list as todo.mine's (one rule, sql/021's bb_visit_state). */
    it_buf tb;
    it_buf_init(&tb);
    it_req(&tb, g_msgid, "todo.mine", 0);
    it_msg m;
    IT_CHECK(it_buf_ok(a, &tb, g_msgid++, &m) == 0);
    it_buf_free(&tb);
    const msgpack_object *uv = it_map_get(it_map_get(m.result, "unvisited"), "items");
    char todo[1024] = "";
    size_t len = 0;
    for (uint32_t i = 0; uv != NULL && uv->type == MSGPACK_OBJECT_ARRAY && i < uv->via.array.size;
         i++) {
        char name[64] = "";
        (void)it_get_str(&uv->via.array.ptr[i], "name", name, sizeof name);
        len += (size_t)snprintf(todo + len, sizeof todo - len, "%s%s", i ? "," : "", name);
    }
    it_msg_free(&m);
    IT_CHECK_STR(todo, "甲三,甲六,甲一");

    /* A visit today counts at once. */
    int64_t a3 = it_pg_int("SELECT id FROM enterprise WHERE name = '甲三'", 0, NULL);
    IT_CHECK(a3 > 0 && visit(a3, "2026-12-05") > 0);
    IT_CHECK(expect_township(a, NULL, NULL, 0, "走访甲镇",
                             "5/3/2:甲六/2026-10-15,甲一/2026-11-20;all") == 0);
    return 0;
}

/* The cycle is the pinned clock's, in Beijing; `on` picks the cycle of
 * another day and counts up to it; visit_cycle_months = 3 makes it the
 * quarter; a setting that does not divide the year stops the server. */
static int the_cycle_follows_the_clock_the_on_date_and_the_setting(void)
{
    it_server *s = start_at("2026-12-31T12:00:00+08:00", NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, "visits_staff_c", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_township(c, NULL, NULL, 0, "走访丙镇",
                             "3/1/2:丙三/2026-10-02,丙二/2026-11-30;all") == 0);
    /* As of 30 November: November's cycle; 丙一's visit is a month ahead. */
    IT_CHECK(expect_cycle(c, "2026-11-30", "2026-11-30", 1, "2026-11-01", "2026-11-30") == 0);
    IT_CHECK(expect_township(c, NULL, "2026-11-30", 0, "走访丙镇",
                             "3/1/2:丙一/-,丙三/2026-10-02;all") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    s = start_at("2026-12-31T23:30:00Z", NULL);   /* 2027-01-01 07:30 in Beijing */
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, "visits_staff_c", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_cycle(c, NULL, "2027-01-01", 1, "2027-01-01", "2027-01-31") == 0);
    IT_CHECK(expect_township(c, NULL, NULL, 0, "走访丙镇",
                             "3/0/3:丙三/2026-10-02,丙二/2026-11-30,丙一/2026-12-31;all") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    /* Quarters: October to December, every visit of the quarter counts. */
    s = start_at("2026-12-31T12:00:00+08:00", "visit_cycle_months=3");
    IT_CHECK(s != NULL);
    c = it_connect_as(s->port, "visits_staff_c", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_cycle(c, NULL, "2026-12-31", 3, "2026-10-01", "2026-12-31") == 0);
    IT_CHECK(expect_township(c, NULL, NULL, 0, "走访丙镇", "3/3/0:;all") == 0);
    IT_CHECK(expect_cycle(c, "2026-09-30", "2026-09-30", 3, "2026-07-01", "2026-09-30") == 0);
    IT_CHECK(expect_township(c, NULL, "2026-09-30", 0, "走访丙镇",
                             "3/0/3:丙一/-,丙二/-,丙三/-;all") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    /* 5 months would not tile the year: exit 2, the setting named. */
    const char *bin = getenv("BAOBAOD");
    IT_CHECK(bin != NULL);
    const char *argv[] = {bin, "--set", "visit_cycle_months=5", "--migrate-only", NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, 30000) == 0);
    bool ok = r.status == 2 && strstr(r.err, "visit_cycle_months") != NULL;
    IT_CHECKF(ok, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    return 0;
}

/* A withdrawn visit is no visit: the enterprise is back among those not
 * visited, with its last visit before. */
static int a_withdrawn_visit_does_not_count(void)
{
    int64_t d1 = mk_enterprise("丁一", "走访丁镇", "在营");
    IT_CHECK(d1 > 0);
    IT_CHECK(visit(d1, "2026-11-10") > 0);
    int64_t r = visit(d1, "2026-12-02");
    IT_CHECK(r > 0);
    it_server *s = start_at(NOW, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, "visits_staff_d", IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(expect_township(c, NULL, NULL, 0, "走访丁镇", "1/1/0:;all") == 0);
    /* Withdrawn as status.withdraw leaves it (sql/020): marked, kept. */
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, r);
    const char *p[] = {id};
    IT_CHECK(it_pg_exec("UPDATE status_report SET withdrawn_at = now(), reason = '重复录入',"
                        " withdrawn_by = (SELECT id FROM app_user WHERE login = 'visits_staff_d')"
                        " WHERE id = $1::bigint",
                        1, p) == 0);
    IT_CHECK(expect_township(c, NULL, NULL, 0, "走访丁镇", "1/0/1:丁一/2026-11-10;all") == 0);
    return 0;
}

/* Each township's list is cut at limit, with more; the counts stay
 * whole. Bad arguments name their field. */
static int each_list_is_cut_at_limit_and_bad_arguments_name_their_field(void)
{
    it_server *s = start_at(NOW, NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* Never visited: by id, 戊01 first. */
    IT_CHECK(expect_township(c, "走访戊镇", NULL, 2, "走访戊镇", "31/0/31:戊01/-,戊02/-;more") ==
             0);
    it_msg m;
    IT_CHECK(visits(c, "走访戊镇", NULL, 31, &m) == 0);
    char got[4096];
    const msgpack_object *t = township_of(m.result, "走访戊镇");
    int rc = t != NULL ? township_text(t, got, sizeof got) : -1;
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    IT_CHECKF(strstr(got, "戊31/-;all") != NULL, "limit 31: %s", got);
    /* The default limit is page_limit_default (50): all 31. */
    IT_CHECK(visits(c, "走访戊镇", NULL, 0, &m) == 0);
    t = township_of(m.result, "走访戊镇");
    rc = t != NULL ? township_text(t, got, sizeof got) : -1;
    it_msg_free(&m);
    IT_CHECK(rc == 0);
    IT_CHECKF(strstr(got, "戊31/-;all") != NULL, "default limit: %s", got);

    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "coverage.visits", 1);
    it_kv_int(&b, "limit", 0);
    IT_CHECK(it_buf_err(c, &b, 1, "invalid_argument", "limit") == 0);
    it_req(&b, 2, "coverage.visits", 1);
    it_kv_int(&b, "limit", 501);   /* page_limit_max */
    IT_CHECK(it_buf_err(c, &b, 2, "invalid_argument", "limit") == 0);
    it_req(&b, 3, "coverage.visits", 1);
    it_kv_str(&b, "on", "2026-02-30");
    IT_CHECK(it_buf_err(c, &b, 3, "invalid_argument", "on") == 0);
    it_req(&b, 4, "coverage.visits", 1);
    it_kv_str(&b, "township", "");
    IT_CHECK(it_buf_err(c, &b, 4, "invalid_argument", "township") == 0);
    it_req(&b, 5, "coverage.visits", 1);
    it_kv_str(&b, "after", "1");
    IT_CHECK(it_buf_err(c, &b, 5, "invalid_argument", "after") == 0);
    it_req(&b, 6, "coverage.visits", 1);
    it_kv_nil(&b, "on");
    IT_CHECK(it_buf_err(c, &b, 6, "invalid_argument", "on") == 0);
    it_buf_free(&b);
    /* Not logged in. */
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    it_buf_init(&b);
    it_req(&b, 7, "coverage.visits", 0);
    rc = it_buf_err(anon, &b, 7, "unauthenticated", "");
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    return 0;
}

/* `baobao visits`: the cycle, each township's counts and those not
 * visited, in English and in Chinese; --limit cuts; --json as sent. */
static int cli_prints_the_cycle_and_each_township(void)
{
    it_server *s = start_at(NOW, NULL);
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    it_cli r;
    const char *args[] = {"visits", NULL};
    const char *env_en[] = {"BAOBAO_USER=visits_staff_f", "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_en) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    IT_CHECKF(strstr(r.out, "Reporting cycle: 2026-12-01 to 2026-12-31 (a calendar month), "
                            "counted up to 2026-12-05.") != NULL &&
                  strstr(r.out, "走访己镇: enterprises 3, visited 1, not visited 2") != NULL &&
                  strstr(r.out, "LAST VISIT") != NULL && strstr(r.out, "己一") != NULL &&
                  strstr(r.out, "never") != NULL && strstr(r.out, "己二") != NULL &&
                  strstr(r.out, "2026-11-03") != NULL && strstr(r.out, "己三") == NULL &&
                  strstr(r.out, "走访甲镇") == NULL && strstr(r.out, "more") == NULL,
              "out: %s", r.out);
    it_cli_free(&r);

    const char *args_cut[] = {"visits", "--limit", "1", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args_cut, env_en) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "己一") != NULL && strstr(r.out, "己二") == NULL &&
                  strstr(r.out, "there are more") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    const char *args_other[] = {"visits", "--township", "走访甲镇", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args_other, env_en) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "No township to show") != NULL &&
                  strstr(r.out, "甲") == NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    const char *env_zh[] = {"BAOBAO_USER=visits_staff_f", "BAOBAO_LANG=zh", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args, env_zh) == 0);
    IT_CHECKF(r.status == 0 &&
                  strstr(r.out, "走访周期：2026-12-01 至 2026-12-31（自然月），统计到 "
                                "2026-12-05。") != NULL &&
                  strstr(r.out, "走访己镇：企业 3 家，已走访 1 家，未走访 2 家") != NULL &&
                  strstr(r.out, "从未走访") != NULL && strstr(r.out, "上次走访") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);

    /* A supervisor, another day's cycle, --json: the result as sent. */
    const char *args_json[] = {"visits", "--json", "--township", "走访己镇", "--on", "2026-11-30",
                               NULL};
    const char *env_sup[] = {"BAOBAO_USER=" IT_USER_SUPER, "BAOBAO_LANG=en", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, args_json, env_sup) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "\"cycle_start\": \"2026-11-01\"") != NULL &&
                  strstr(r.out, "\"on\": \"2026-11-30\"") != NULL &&
                  strstr(r.out, "\"not_visited\": 2") != NULL &&
                  strstr(r.out, "\"last_visit\": null") != NULL &&
                  strstr(r.out, "\"more\": false") != NULL,
              "exit %d: %s%s", r.status, r.out, r.err);
    it_cli_free(&r);
    return 0;
}

/* ---- the workbook ---- */

/* Checks one export's reports.xlsx: "xlsx PATH CYCLE ROWS_JSON" where
 * ROWS_JSON maps a township to its expected row. The sheet follows
 * 本月未走访; its total row is the sum of the rows above; numbers are
 * numbers. Prints what is wrong and exits 1, or prints OK. */
static const char *const checker_lines[] = {
    "import sys, json, openpyxl\n",
    "errors = []\n",
    "def want(cond, what):\n",
    "    if not cond: errors.append(what)\n",
    "wb = openpyxl.load_workbook(sys.argv[1])\n",
    "names = wb.sheetnames\n",
    "want('走访完成情况' in names and names.index('走访完成情况') == names.index('本月未走访') + 1, 'sheets %r' % names)\n",
    "rows = [[c.value for c in r] for r in wb['走访完成情况'].iter_rows()]\n",
    "want(rows[0] == ['乡镇园区', '走访周期', '企业数', '已走访', '未走访', '未走访企业'], 'head %r' % rows[0])\n",
    "by = {r[0]: r for r in rows[1:]}\n",
    "for name, exp in json.loads(sys.argv[3]).items():\n",
    "    got = by.get(name)\n",
    "    want(got == [name, sys.argv[2]] + exp, '%s: %r, expected %r' % (name, got, [name, sys.argv[2]] + exp))\n",
    "want('走访撤并镇' not in by, 'a retired township without enterprises is listed')\n",
    "about = {r[0].value: r[1].value for r in wb['说明'].iter_rows()}\n",
    "want('visit_cycle_months' in (about.get('走访完成情况') or ''), '说明 lacks the rule: %r' % about.get('走访完成情况'))\n",
    "tot = rows[-1]\n",
    "want(tot[0] == '合计' and tot[1] == sys.argv[2] and tot[5] is None, 'total %r' % tot)\n",
    "for i in (2, 3, 4):\n",
    "    want(tot[i] == sum(r[i] for r in rows[1:-1]), 'total column %d %r' % (i, tot[i]))\n",
    "for r in rows[1:]:\n",
    "    want(all(isinstance(v, int) for v in r[2:5]), 'not numbers %r' % r)\n",
    "    want(r[2] == r[3] + r[4], 'counts %r' % r)\n",
    "print('\\n'.join(errors) if errors else 'OK')\n",
    "sys.exit(1 if errors else 0)\n",
    NULL,
};

static int run_checker(const char *path, const char *cycle, const char *rows_json)
{
    static char script[4096];
    if (script[0] == '\0')
        for (size_t i = 0; checker_lines[i] != NULL; i++)
            strcat(script, checker_lines[i]);
    IT_CHECKF(access(PYTHON, X_OK) == 0, "%s is missing: the workbook needs an independent reader "
              "(python3-openpyxl)", PYTHON);
    const char *argv[] = {PYTHON, "-c", script, path, cycle, rows_json, NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, 120000) == 0);
    bool ok = r.status == 0 && strncmp(r.out, "OK", 2) == 0;
    if (!ok)
        it_fail(__FILE__, __LINE__, "checker: exit %d\n%s%s", r.status, r.out, r.err);
    it_cli_free(&r);
    return ok ? 0 : -1;
}

/* The export folders this binary made, removed at the end when every test
 * passed (kept for a look otherwise). */
#define MAX_EXPORT_DIRS 4
static char g_dirs[MAX_EXPORT_DIRS][32];
static int g_ndirs;

/* Runs export.run {wait: true} on a server pinned to NOW with its own
 * export folder and one more setting (NULL: none); path receives the
 * run's reports.xlsx. */
static int export_once(const char *set, char *path, size_t pathlen)
{
    char dir[] = "/tmp/itest-visits-XXXXXX";
    IT_CHECK(mkdtemp(dir) != NULL);
    if (g_ndirs < MAX_EXPORT_DIRS)
        snprintf(g_dirs[g_ndirs++], sizeof g_dirs[0], "%s", dir);
    char set_dir[128];
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    const char *sets[] = {"fake_now=" NOW, set_dir, "export_time=", set, NULL};
    const char *env[] = {"TZ=UTC", NULL};
    it_server *s = it_server_start_env(sets, env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    it_msg m;
    int rc = it_call(c, b.sb.data, b.sb.size, 1, EXPORT_TIMEOUT_MS, &m);
    it_buf_free(&b);
    IT_CHECK(rc == IT_RECV_MSG);
    char d[512], sub[128] = "";
    it_describe(&m, d, sizeof d);
    bool ok = !m.is_error && m.result != NULL && it_get_str_eq(m.result, "status", "ok") &&
              it_get_str(m.result, "folder", sub, sizeof sub);
    it_msg_free(&m);
    IT_CHECKF(ok, "export.run: %s", d);
    snprintf(path, pathlen, "%s/%s/reports.xlsx", dir, sub);
    struct stat st;
    IT_CHECKF(stat(path, &st) == 0 && st.st_size > 0, "%s missing or empty", path);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The sheet 走访完成情况: coverage.visits' figures for every township, the
 * names one per line and cut at 30 with how many more; the quarter when
 * visit_cycle_months = 3. */
static int workbook_sheet_has_the_cycles_counts_and_names(void)
{
    char path[256];
    IT_CHECK(export_once(NULL, path, sizeof path) == 0);
    char wu[2048] = "";
    size_t len = 0;
    for (int i = 1; i <= SHEET_NAMES_MAX; i++)
        len += (size_t)snprintf(wu + len, sizeof wu - len, "%s戊%02d（从未走访）",
                                i > 1 ? "\\n" : "", i);
    snprintf(wu + len, sizeof wu - len, "\\n……另有 1 家");
    char rows[4096];
    snprintf(rows, sizeof rows,
             "{\"走访乙镇\": [1, 0, 1, \"乙一（从未走访）\"],"
             " \"走访丙镇\": [3, 0, 3, \"丙一（从未走访）\\n丙三（最近走访 2026-10-02）"
             "\\n丙二（最近走访 2026-11-30）\"],"
             " \"走访戊镇\": [31, 0, 31, \"%s\"],"
             " \"走访己镇\": [3, 1, 2, \"己一（从未走访）\\n己二（最近走访 2026-11-03）\"]}",
             wu);
    IT_CHECK(run_checker(path, "2026-12-01 至 2026-12-31", rows) == 0);

    /* Quarters: 丙二 and 丙三 were visited in the quarter. */
    IT_CHECK(export_once("visit_cycle_months=3", path, sizeof path) == 0);
    IT_CHECK(run_checker(path, "2026-10-01 至 2026-12-31",
                         "{\"走访丙镇\": [3, 2, 1, \"丙一（从未走访）\"],"
                         " \"走访己镇\": [3, 2, 1, \"己一（从未走访）\"]}") == 0);
    return 0;
}

static const it_test tests[] = {
    {"staff_see_only_their_townships_with_exact_counts",
     staff_see_only_their_townships_with_exact_counts},
    {"the_cycle_follows_the_clock_the_on_date_and_the_setting",
     the_cycle_follows_the_clock_the_on_date_and_the_setting},
    {"a_withdrawn_visit_does_not_count", a_withdrawn_visit_does_not_count},
    {"each_list_is_cut_at_limit_and_bad_arguments_name_their_field",
     each_list_is_cut_at_limit_and_bad_arguments_name_their_field},
    {"cli_prints_the_cycle_and_each_township", cli_prints_the_cycle_and_each_township},
    {"workbook_sheet_has_the_cycles_counts_and_names",
     workbook_sheet_has_the_cycles_counts_and_names},
};

int main(int argc, char **argv)
{
    int rc = it_main(argc, argv, "visits", tests, sizeof tests / sizeof tests[0], setup);
    for (int i = 0; rc == 0 && i < g_ndirs; i++) {
        const char *rm[] = {"rm", "-rf", "--", g_dirs[i], NULL};
        it_cli r;
        if (it_run(&r, rm, 30000) == 0)
            it_cli_free(&r);
    }
    return rc;
}
