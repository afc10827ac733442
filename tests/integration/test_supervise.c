/*
 * test_supervise.c: the supervision sweep (sql/023_supervision.sql,
 * server/methods/supervise.c) against real baobaod processes whose clock
 * is pinned: one milestone and one problem are walked through the days by
 * restarting baobaod with another fake_now, green -> 提醒 -> yellow -> red ->
 * 升级 -> (planned date / deadline moved) green -> done, and their light
 * histories (light.history), notices (levels, numbers, recipients,
 * escalation, closing) and deliveries are compared with exact rows; two
 * sweeps on one day change nothing; township staff see only their
 * townships' history; a write through the API is swept within the
 * debounce without supervise.run (LISTEN, bb_dirty); `baobao history`
 * prints the history in Chinese; light.changes `mine` lists exactly what
 * light.changed is pushed to the caller for (bb_light_audience). The sweep
 * is sent alone in its sync group (a failing request sent with it neither
 * rolls it back nor runs it twice); an item late at its first sweep counts
 * its red from deadline + R + 1; a sweep that finds another one running
 * holds no pool connection and comes back; today never goes back (a server
 * on an earlier day changes nothing).
 *
 * Data goes in with SQL (it_pg_exec) while no baobaod runs, as in
 * test_overdue.c: the project and problem methods are other files'
 * business, and SQL can set dates the API refuses (a deadline in the past).
 * The notices are read from the tables: what people see of them is
 * test_notices.c's.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The settings of every server here: red after 5 days late, 提醒 3 days
 * ahead, 升级 after 2 days red, the regular sweep far away (only the start,
 * supervise.run and bb_dirty sweep). */
#define SET_RED "overdue_red_after_days=5"
#define SET_DUE "notice_due_days=3"
#define SET_ESC "notice_escalate_days=2"
#define SET_INTERVAL "supervise_interval_ms=3600000"
#define SET_DEBOUNCE "supervise_debounce_ms=200"

static uint32_t g_msgid = 1;

/* The ids the lifecycle test made (the later tests use them). */
static int64_t g_project, g_problem, g_enterprise;

/* ---- SQL helpers ---- */

static char *sql_text(const char *sql, int n, const char *const *p)
{
    PGconn *pg = it_pg();
    if (pg == NULL)
        return NULL;
    PGresult *r = PQexecParams(pg, sql, n, NULL, p, NULL, NULL, 0);
    char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        out = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    else
        it_note("query failed: %s", PQerrorMessage(pg));
    PQclear(r);
    return out;
}

/* Compares the one text value of sql with want. */
static int expect_sql(const char *what, const char *sql, int64_t id, const char *want)
{
    char v[24];
    snprintf(v, sizeof v, "%" PRId64, id);
    const char *p[] = {v};
    char *got = sql_text(sql, 1, p);
    IT_CHECKF(got != NULL, "%s: no answer", what);
    int ok = strcmp(got, want) == 0;
    if (!ok)
        it_note("%s:\n  got  %s\n  want %s", what, got, want);
    free(got);
    IT_CHECK(ok);
    return 0;
}

static int64_t sql_id(const char *sql, int n, const char *const *p)
{
    return (int64_t)it_pg_int(sql, n, p);
}

/* ---- the server of one day ---- */

static it_server *start_day(const char *date)
{
    char fake[64];
    snprintf(fake, sizeof fake, "fake_now=%sT09:00:00+08:00", date);
    const char *sets[] = {fake, SET_RED, SET_DUE, SET_ESC, SET_INTERVAL, SET_DEBOUNCE, NULL};
    return it_server_start(sets);
}

/* supervise.run as the supervisor: its counts in out[3]. */
static int run_sweep(it_conn *c, int64_t out[3])
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "supervise.run", 0);
    it_msg m;
    int rc = it_buf_ok(c, &b, id, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    bool ok = it_get_int(m.result, "changes", &out[0]) && it_get_int(m.result, "notices", &out[1]) &&
              it_get_int(m.result, "closed", &out[2]);
    it_msg_free(&m);
    IT_CHECK(ok);
    return 0;
}

/* One day: baobaod started with that day's clock (it sweeps at start),
 * supervise.run (which waits for that sweep and finds it done, or does it
 * itself), then supervise.run again, which must find nothing to do. */
static int live_day(const char *date)
{
    it_server *s = start_day(date);
    IT_CHECKF(s != NULL, "baobaod for %s did not start", date);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t n[3];
    IT_CHECK(run_sweep(c, n) == 0);
    IT_CHECK(run_sweep(c, n) == 0);
    IT_CHECKF(n[0] == 0 && n[1] == 0 && n[2] == 0,
              "%s: a second sweep on the same day did %" PRId64 " changes, %" PRId64
              " notices, %" PRId64 " closes",
              date, n[0], n[1], n[2]);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* light.history of an item as "from>to@on/days/due" joined by ","; from
 * "-" for the first. */
static int history(it_conn *c, const char *key, int64_t id, const char *node, char *out,
                   size_t outlen)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t mid = g_msgid++;
    it_req(&b, mid, "light.history", node != NULL ? 2 : 1);
    it_kv_int(&b, key, id);
    if (node != NULL)
        it_kv_str(&b, "node", node);
    it_msg m;
    int rc = it_buf_ok(c, &b, mid, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    out[0] = '\0';
    bool ok = items != NULL && items->type == MSGPACK_OBJECT_ARRAY;
    for (uint32_t i = 0; ok && i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char from[16] = "-", to[16], on[16], due[16] = "";
        int64_t days;
        const msgpack_object *f = it_map_get(it, "from_light");
        if (f != NULL && f->type == MSGPACK_OBJECT_STR)
            ok = it_obj_str(f, from, sizeof from);
        ok = ok && it_get_str(it, "to_light", to, sizeof to) &&
             it_get_str(it, "on_date", on, sizeof on) && it_get_int(it, "days_overdue", &days);
        (void)it_get_str(it, "due_date", due, sizeof due);
        size_t len = strlen(out);
        if (ok)
            snprintf(out + len, outlen - len, "%s%s>%s@%s/%" PRId64 "/%s", i ? "," : "", from,
                     to, on, days, due);
    }
    it_msg_free(&m);
    IT_CHECK(ok);
    return 0;
}

/* ---- tests ---- */

/* Notices of an item, oldest first: level:seq:issued_on:state:reason:closed_on. */
#define NOTICES_SQL(col)                                                                    \
    "SELECT string_agg(level || ':' || year || '-' || seq || ':' || issued_on || ':' || state" \
    " || ':' || coalesce(close_reason, '') || ':' || coalesce(closed_on::text, ''), ','"       \
    " ORDER BY id) FROM notice WHERE " col " = $1::bigint"
/* Their recipients: level>role#name, by notice, then role rank, then name. */
#define RECIPIENTS_SQL(col)                                                                 \
    "SELECT string_agg(n.level || '>' || r.role || '#' || coalesce(o.name, u.name), ','"      \
    " ORDER BY n.id, bb_overdue_role_rank(r.role), coalesce(o.name, u.name))"                \
    " FROM notice n JOIN notice_recipient r ON r.notice_id = n.id"                          \
    " LEFT JOIN official o ON o.id = r.official_id LEFT JOIN unit u ON u.id = r.unit_id"    \
    " WHERE n." col " = $1::bigint"

static int lights_and_notices_follow_the_days(void)
{
    /* People: the project is led by 甲单位 (牵头单位), 乙单位 holds it
     * (责任单位), 联络员张 and the city leader 市领导李 (包保市领导); the
     * problem is assigned to 丙单位 and 承办王, and its enterprise has no
     * city leader (升级 then goes to the red notice's people). */
    int64_t u1 = sql_id("INSERT INTO unit (name) VALUES ('督办甲单位') RETURNING id", 0, NULL);
    int64_t u2 = sql_id("INSERT INTO unit (name) VALUES ('督办乙单位') RETURNING id", 0, NULL);
    int64_t u3 = sql_id("INSERT INTO unit (name) VALUES ('督办丙单位') RETURNING id", 0, NULL);
    int64_t o1 = sql_id("INSERT INTO official (name) VALUES ('联络员张') RETURNING id", 0, NULL);
    int64_t lead = sql_id("INSERT INTO official (name) VALUES ('市领导李') RETURNING id", 0, NULL);
    int64_t o3 = sql_id("INSERT INTO official (name) VALUES ('承办王') RETURNING id", 0, NULL);
    IT_CHECK(u1 > 0 && u2 > 0 && u3 > 0 && o1 > 0 && lead > 0 && o3 > 0);
    char cc[19];
    it_credit_code(913001, cc);
    const char *pe[] = {cc};
    g_enterprise = sql_id("INSERT INTO enterprise (name, credit_code, township_id)"
                          " SELECT '督办测试企业', $1, t.id FROM township t"
                          " WHERE t.name = '赵李桥镇' RETURNING id",
                          1, pe);
    IT_CHECK(g_enterprise > 0);
    char a[6][24];
    snprintf(a[0], sizeof a[0], "%" PRId64, u1);
    snprintf(a[1], sizeof a[1], "%" PRId64, u2);
    snprintf(a[2], sizeof a[2], "%" PRId64, u3);
    snprintf(a[3], sizeof a[3], "%" PRId64, o1);
    snprintf(a[4], sizeof a[4], "%" PRId64, lead);
    snprintf(a[5], sizeof a[5], "%" PRId64, o3);
    const char *pp[] = {a[0]};
    g_project = sql_id("INSERT INTO project (name, township_id, lead_unit_id, stage,"
                       " planned_investment, priority)"
                       " SELECT '督办测试项目', t.id, $1::bigint, '签约', 100000000, '市级重点'"
                       " FROM township t WHERE t.name = '赵李桥镇' RETURNING id",
                       1, pp);
    IT_CHECK(g_project > 0);
    char pj[24], en[24];
    snprintf(pj, sizeof pj, "%" PRId64, g_project);
    snprintf(en, sizeof en, "%" PRId64, g_enterprise);
    const char *pm[] = {pj};
    IT_CHECK(it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date)"
                        " VALUES ($1::bigint, '开工', '2026-03-10')",
                        1, pm) == 0);
    const char *pa[] = {pj, a[1], a[3], a[4]};
    IT_CHECK(it_pg_exec("INSERT INTO assignment (official_id, unit_id, project_id, role,"
                        " period_start) VALUES"
                        " (NULL, $2::bigint, $1::bigint, '责任单位', '2026-01-01'),"
                        " ($3::bigint, NULL, $1::bigint, '联络员', '2026-01-01'),"
                        " ($4::bigint, NULL, $1::bigint, '包保市领导', '2026-01-01')",
                        4, pa) == 0);
    const char *pq[] = {en, a[2], a[5]};
    g_problem = sql_id("INSERT INTO problem (enterprise_id, category, description,"
                       " assignee_unit_id, assignee_official_id, deadline, state)"
                       " VALUES ($1::bigint, '用地', '厂房用地手续迟迟未批', $2::bigint,"
                       " $3::bigint, '2026-03-10', '交办') RETURNING id",
                       3, pq);
    IT_CHECK(g_problem > 0);

    /* 03-05: first light, green; 03-08: due within 3 days -> 提醒;
     * 03-11: 1 day late -> yellow; 03-16: 6 > 5 days late -> red;
     * 03-17: red 1 day, no 升级 yet; 03-18: red 2 days -> 升级. */
    const char *days[] = {"2026-03-05", "2026-03-08", "2026-03-11", "2026-03-16",
                          "2026-03-17", "2026-03-18"};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        IT_CHECK(live_day(days[i]) == 0);

    /* Both moved to 03-20 (a new plan, an extended deadline): green again
     * on 03-19, with no new 提醒 (the first one is still open). */
    IT_CHECK(it_pg_exec("UPDATE project_milestone SET planned_date = '2026-03-20'"
                        " WHERE project_id = $1::bigint AND node = '开工'",
                        1, pm) == 0);
    const char *pr[] = {en};
    IT_CHECK(it_pg_exec("UPDATE problem SET deadline = '2026-03-20'"
                        " WHERE enterprise_id = $1::bigint",
                        1, pr) == 0);
    IT_CHECK(live_day("2026-03-19") == 0);

    /* Done on 03-20: the milestone reached, the problem confirmed; every
     * notice of both closed. */
    IT_CHECK(it_pg_exec("UPDATE project_milestone SET actual_date = '2026-03-20'"
                        " WHERE project_id = $1::bigint AND node = '开工'",
                        1, pm) == 0);
    IT_CHECK(it_pg_exec("UPDATE problem SET state = '确认', closed_at = now()"
                        " WHERE enterprise_id = $1::bigint",
                        1, pr) == 0);
    IT_CHECK(live_day("2026-03-20") == 0);

    /* The histories, exact. */
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char got[2048];
    const char *want =
        "->green@2026-03-05/0/2026-03-10,green>yellow@2026-03-11/1/2026-03-10,"
        "yellow>red@2026-03-16/6/2026-03-10,red>green@2026-03-19/0/2026-03-20,"
        "green>done@2026-03-20/0/2026-03-20";
    IT_CHECK(history(c, "project_id", g_project, "开工", got, sizeof got) == 0);
    IT_CHECK_STR(got, want);
    IT_CHECK(history(c, "problem_id", g_problem, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, want);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    /* Notices: numbered in 2026 in the order level, date, milestone before
     * problem; all closed on 03-20 as done. */
    IT_CHECK(expect_sql("milestone notices", NOTICES_SQL("project_id"), g_project,
                        "due:2026-1:2026-03-08:closed:done:2026-03-20,"
                        "yellow:2026-3:2026-03-11:closed:done:2026-03-20,"
                        "red:2026-5:2026-03-16:closed:done:2026-03-20,"
                        "escalated:2026-7:2026-03-18:closed:done:2026-03-20") == 0);
    IT_CHECK(expect_sql("problem notices", NOTICES_SQL("problem_id"), g_problem,
                        "due:2026-2:2026-03-08:closed:done:2026-03-20,"
                        "yellow:2026-4:2026-03-11:closed:done:2026-03-20,"
                        "red:2026-6:2026-03-16:closed:done:2026-03-20,"
                        "escalated:2026-8:2026-03-18:closed:done:2026-03-20") == 0);
    /* Recipients: the people except the city leader; 升级 to the city
     * leader, or (the problem has none) to the red notice's people. */
    char mexp[1024] = "";
    const char *levels[] = {"due", "yellow", "red"};
    for (int l = 0; l < 3; l++) {
        size_t len = strlen(mexp);
        snprintf(mexp + len, sizeof mexp - len,
                 "%s%s>联络员#联络员张,%s>责任单位#督办乙单位,%s>牵头单位#督办甲单位",
                 l ? "," : "", levels[l], levels[l], levels[l]);
    }
    size_t len = strlen(mexp);
    snprintf(mexp + len, sizeof mexp - len, ",escalated>包保市领导#市领导李");
    IT_CHECK(expect_sql("milestone recipients", RECIPIENTS_SQL("project_id"), g_project,
                        mexp) == 0);
    char pexp[1024] = "";
    const char *plevels[] = {"due", "yellow", "red", "escalated"};
    for (int l = 0; l < 4; l++) {
        len = strlen(pexp);
        snprintf(pexp + len, sizeof pexp - len, "%s%s>承办人#承办王,%s>承办单位#督办丙单位",
                 l ? "," : "", plevels[l], plevels[l]);
    }
    IT_CHECK(expect_sql("problem recipients", RECIPIENTS_SQL("problem_id"), g_problem,
                        pexp) == 0);
    /* 升级 names the red notice it raises; each notice has one delivery. */
    IT_CHECK(expect_sql("escalated_from",
                        "SELECT string_agg((e.escalated_from = r.id)::text, ',')"
                        " FROM notice e JOIN notice r ON r.project_id = e.project_id"
                        "  AND r.node = e.node AND r.level = 'red'"
                        " WHERE e.level = 'escalated' AND e.project_id = $1::bigint",
                        g_project, "true") == 0);
    IT_CHECK(expect_sql("deliveries",
                        "SELECT count(*)::text FROM notice_delivery d JOIN notice n"
                        " ON n.id = d.notice_id WHERE n.project_id = $1::bigint"
                        " OR n.problem_id IS NOT NULL",
                        g_project, "8") == 0);
    return 0;
}

/* light.history and light.changes in the caller's scope: 赵李桥镇's staff
 * see the item, 新店镇's do not (not_found, an empty page). */
static int township_staff_see_their_townships_only(void)
{
    IT_CHECKF(g_problem > 0, "needs lights_and_notices_follow_the_days");
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c != NULL && c2 != NULL);
    char got[2048];
    IT_CHECK(history(c, "problem_id", g_problem, NULL, got, sizeof got) == 0);
    IT_CHECKF(strstr(got, "green>done@2026-03-20") != NULL, "staff history: %s", got);

    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "light.history", 1);
    it_kv_int(&b, "problem_id", g_problem);
    IT_CHECK(it_buf_err(c2, &b, id, "not_found", "problem_id") == 0);

    /* light.changes: red ones, for everyone and for the other township. */
    id = g_msgid++;
    it_req(&b, id, "light.changes", 1);
    it_kv_str(&b, "to_light", "red");
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECKF(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size == 2,
              "赵李桥镇 staff: two red changes expected");
    it_msg_free(&m);
    id = g_msgid++;
    it_req(&b, id, "light.changes", 1);
    it_kv_str(&b, "to_light", "red");
    IT_CHECK(it_buf_ok(c2, &b, id, &m) == 0);
    items = it_map_get(m.result, "items");
    IT_CHECKF(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size == 0,
              "新店镇 staff see another township's changes");
    it_msg_free(&m);

    /* Arguments: neither item, both, node without project. */
    id = g_msgid++;
    it_req(&b, id, "light.history", 0);
    IT_CHECK(it_buf_err(c, &b, id, "invalid_argument", "problem_id") == 0);
    id = g_msgid++;
    it_req(&b, id, "light.history", 1);
    it_kv_int(&b, "project_id", g_project);
    IT_CHECK(it_buf_err(c, &b, id, "invalid_argument", "node") == 0);
    /* supervise.run is for supervisors and admins. */
    id = g_msgid++;
    it_req(&b, id, "supervise.run", 0);
    IT_CHECK(it_buf_err(c, &b, id, "forbidden", "") == 0);
    it_buf_free(&b);
    it_close(c);
    it_close(c2);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A problem created through the API moves a light: the sweep comes on
 * its own within the debounce (bb_dirty over LISTEN), no supervise.run. */
static int a_write_is_swept_within_the_debounce(void)
{
    IT_CHECKF(g_enterprise > 0, "needs lights_and_notices_follow_the_days");
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", g_enterprise);
    it_kv_str(&b, "category", "用电");
    it_kv_str(&b, "description", "增容申请待批");
    it_kv_str(&b, "deadline", "2026-03-22");
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    int64_t pid = 0;
    bool ok = it_get_int(m.result, "id", &pid);
    it_msg_free(&m);
    it_buf_free(&b);
    IT_CHECK(ok);
    /* Green, and due within 3 days: a 提醒 too. */
    int64_t t0 = it_now_ms();
    char got[512] = "";
    while (it_now_ms() - t0 < 10000) {
        IT_CHECK(history(c, "problem_id", pid, NULL, got, sizeof got) == 0);
        if (got[0] != '\0')
            break;
        it_sleep_ms(50);
    }
    IT_CHECK_STR(got, "->green@2026-03-20/0/2026-03-22");
    it_note("swept %lld ms after the write", (long long)(it_now_ms() - t0));
    IT_CHECK(expect_sql("due notice", NOTICES_SQL("problem_id"), pid,
                        "due:2026-9:2026-03-20:issued::") == 0);
    IT_CHECK(it_server_log_has(s, "event=supervise"));
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A project that ends (终止) takes its milestone off supervision: light
 * `off`, its notices closed as `off`. A confirmed problem reopened is
 * supervised again: from `done` to its light, and a new red notice (the
 * old one was closed). Through supervise.run on a running server. */
static int ended_projects_go_off_and_reopened_problems_come_back(void)
{
    IT_CHECKF(g_enterprise > 0, "needs lights_and_notices_follow_the_days");
    int64_t pj = sql_id("INSERT INTO project (name, township_id, stage, planned_investment,"
                        " priority) SELECT '督办终止项目', t.id, '签约', 1, '一般'"
                        " FROM township t WHERE t.name = '赵李桥镇' RETURNING id",
                        0, NULL);
    IT_CHECK(pj > 0);
    char pjs[24], en[24];
    snprintf(pjs, sizeof pjs, "%" PRId64, pj);
    snprintf(en, sizeof en, "%" PRId64, g_enterprise);
    const char *pm[] = {pjs};
    IT_CHECK(it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date)"
                        " VALUES ($1::bigint, '注册', '2026-02-01')",
                        1, pm) == 0);
    const char *pe[] = {en};
    int64_t pr = sql_id("INSERT INTO problem (enterprise_id, category, description, deadline,"
                        " state, closed_at) VALUES ($1::bigint, '其他', '复开的诉求',"
                        " '2026-02-01', '确认', now()) RETURNING id",
                        1, pe);
    IT_CHECK(pr > 0);
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t n[3];
    IT_CHECK(run_sweep(c, n) == 0);
    char got[1024];
    IT_CHECK(history(c, "project_id", pj, "注册", got, sizeof got) == 0);
    IT_CHECK_STR(got, "->red@2026-03-20/47/2026-02-01");
    /* A confirmed problem the sweep never saw open has no light. */
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "");

    IT_CHECK(it_pg_exec("UPDATE project SET stage = '终止', stage_reason = '测试'"
                        " WHERE id = $1::bigint",
                        1, pm) == 0);
    char prs[24];
    snprintf(prs, sizeof prs, "%" PRId64, pr);
    const char *pp[] = {prs};
    IT_CHECK(it_pg_exec("UPDATE problem SET state = '办理', closed_at = NULL"
                        " WHERE id = $1::bigint",
                        1, pp) == 0);
    IT_CHECK(run_sweep(c, n) == 0);
    IT_CHECK(history(c, "project_id", pj, "注册", got, sizeof got) == 0);
    IT_CHECK_STR(got, "->red@2026-03-20/47/2026-02-01,red>off@2026-03-20/0/2026-02-01");
    /* Red since 02-07 (02-01 + 5 + 1) when first seen on 03-20: 升级 at
     * once (the escalation counts from the day it turned red). */
    IT_CHECK(expect_sql("ended project's notices",
                        "SELECT string_agg(level || ':' || state || ':' || close_reason, ','"
                        " ORDER BY id) FROM notice WHERE project_id = $1::bigint",
                        pj, "red:closed:off,escalated:closed:off") == 0);
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "->red@2026-03-20/47/2026-02-01");

    /* Confirmed again, then reopened again: done, then red from done with a
     * new red notice. */
    IT_CHECK(it_pg_exec("UPDATE problem SET state = '确认', closed_at = now()"
                        " WHERE id = $1::bigint",
                        1, pp) == 0);
    IT_CHECK(run_sweep(c, n) == 0);
    IT_CHECK(it_pg_exec("UPDATE problem SET state = '办理', closed_at = NULL"
                        " WHERE id = $1::bigint",
                        1, pp) == 0);
    IT_CHECK(run_sweep(c, n) == 0);
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "->red@2026-03-20/47/2026-02-01,red>done@2026-03-20/0/2026-02-01,"
                      "done>red@2026-03-20/47/2026-02-01");
    IT_CHECK(expect_sql("reopened problem's notices",
                        "SELECT string_agg(level || ':' || state || ':'"
                        " || coalesce(close_reason, '-'), ',' ORDER BY id)"
                        " FROM notice WHERE problem_id = $1::bigint",
                        pr, "red:closed:done,escalated:closed:done,red:issued:-") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A user for light_changes_mine (password as it_staff's): role, unit (NULL:
 * none), township (NULL: none), and the official it is the user of (NULL:
 * none). */
static int mine_user(const char *login, const char *role, const char *unit, const char *township,
                     const char *official)
{
    const char *p[] = {login, role, unit, township};
    IT_CHECK(it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, unit,"
                        "  password_hash) SELECT $1, $1, $2, $3, password_hash FROM app_user"
                        "  WHERE login = 'it_staff' RETURNING id)"
                        " INSERT INTO app_user_township (user_id, township_id)"
                        " SELECT u.id, t.id FROM u JOIN township t ON t.name = $4",
                        4, p) == 0);
    if (official != NULL) {
        const char *q[] = {login, official};
        IT_CHECK(it_pg_exec("UPDATE official SET user_id = (SELECT id FROM app_user"
                            " WHERE login = $1) WHERE name = $2",
                            2, q) == 0);
    }
    return 0;
}

/* light.changes with mine true as login, pages of 2, ids joined by ","
 * into out; next must be the last id of each page. */
static int changes_mine(int port, const char *login, char *out, size_t cap)
{
    it_conn *c = it_connect_as(port, login, IT_PASSWORD);
    IT_CHECKF(c != NULL, "login %s", login);
    out[0] = '\0';
    int64_t after = 0;
    for (int page = 0; page < 100; page++) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = g_msgid++;
        it_req(&b, id, "light.changes", 3);
        it_kv_bool(&b, "mine", true);
        it_kv_int(&b, "after", after);
        it_kv_int(&b, "limit", 2);
        it_msg m;
        int rc = it_buf_ok(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECK(rc == 0);
        const msgpack_object *items = it_map_get(m.result, "items");
        const msgpack_object *next = it_map_get(m.result, "next");
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && next != NULL);
        int64_t last = after;
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            int64_t cid = 0;
            IT_CHECK(it_get_int(&items->via.array.ptr[i], "id", &cid) && cid > last);
            last = cid;
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%s%" PRId64, len ? "," : "", cid);
        }
        bool more = next->type != MSGPACK_OBJECT_NIL;
        if (more)
            IT_CHECK(it_obj_int(next, &after) && after == last);
        it_msg_free(&m);
        if (!more) {
            it_close(c);
            return 0;
        }
    }
    it_close(c);
    IT_CHECK(!"light.changes mine: too many pages");
    return -1;
}

/* light.changes `mine` lists exactly the changes light.changed is pushed to
 * the caller for (bb_light_audience): by official (联络员张: the project's
 * milestone; 承办王: the problem), by unit (督办甲单位 leads the project),
 * as of the change's day (an assignment that ended on 03-12: only the
 * changes up to then), township staff by township (赵李桥镇's: all;
 * 新店镇's: none, though its unit 督办丙单位 holds the problem). */
static int light_changes_mine_is_the_push_audience(void)
{
    IT_CHECKF(g_problem > 0, "needs lights_and_notices_follow_the_days");
    IT_CHECK(mine_user("sv_zhang", "supervisor", NULL, NULL, "联络员张") == 0);
    IT_CHECK(mine_user("sv_wang", "supervisor", NULL, NULL, "承办王") == 0);
    IT_CHECK(mine_user("sv_unit", "supervisor", "督办甲单位", NULL, NULL) == 0);
    IT_CHECK(mine_user("sv_ended", "supervisor", NULL, NULL, NULL) == 0);
    IT_CHECK(mine_user("st_xindian", "township_staff", "督办丙单位", "新店镇", NULL) == 0);
    char pj[24];
    snprintf(pj, sizeof pj, "%" PRId64, g_project);
    const char *pe[] = {pj};
    IT_CHECK(it_pg_exec("WITH o AS (INSERT INTO official (name, user_id)"
                        "  SELECT '联络员旧', id FROM app_user WHERE login = 'sv_ended' RETURNING id)"
                        " INSERT INTO assignment (official_id, project_id, role, period_start,"
                        "  period_end) SELECT o.id, $1::bigint, '联络员', '2026-01-01', '2026-03-12'"
                        " FROM o",
                        1, pe) == 0);
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    static const struct {
        const char *login;
        const char *want_sql; /* the expected ids, $1 = g_project, $2 = g_problem */
    } cases[] = {
        {"sv_zhang", "SELECT string_agg(id::text, ',' ORDER BY id) FROM light_change"
                     " WHERE project_id = $1::bigint AND node = '开工' AND $2::bigint > 0"},
        {"sv_unit", "SELECT string_agg(id::text, ',' ORDER BY id) FROM light_change"
                    " WHERE project_id = $1::bigint AND $2::bigint > 0"},
        {"sv_wang", "SELECT string_agg(id::text, ',' ORDER BY id) FROM light_change"
                    " WHERE problem_id = $2::bigint AND $1::bigint > 0"},
        {"sv_ended", "SELECT string_agg(id::text, ',' ORDER BY id) FROM light_change"
                     " WHERE project_id = $1::bigint AND on_date <= '2026-03-12'"
                     " AND $2::bigint > 0"},
        {IT_USER_STAFF, "SELECT string_agg(c.id::text, ',' ORDER BY c.id) FROM light_change c"
                        " JOIN light_change_wire w ON w.id = c.id JOIN township t"
                        " ON t.id = w.township_id WHERE t.name = '赵李桥镇'"
                        " AND $1::bigint > 0 AND $2::bigint > 0"},
        {"st_xindian", "SELECT '' WHERE $1::bigint > 0 AND $2::bigint > 0"},
    };
    char pr[24];
    snprintf(pr, sizeof pr, "%" PRId64, g_problem);
    const char *pp[] = {pj, pr};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[4096];
        IT_CHECK(changes_mine(s->port, cases[i].login, got, sizeof got) == 0);
        char *want = sql_text(cases[i].want_sql, 2, pp);
        IT_CHECK(want != NULL);
        /* The push's rule, read from the other side. */
        const char *pa[] = {cases[i].login};
        char *aud = sql_text("SELECT coalesce(string_agg(a.change_id::text, ','"
                             "  ORDER BY a.change_id), '')"
                             " FROM bb_light_audience(p_first => 1, p_last => 9223372036854775807) a"
                             " JOIN app_user u ON u.id = a.user_id WHERE u.login = $1",
                             1, pa);
        IT_CHECK(aud != NULL);
        bool ok = strcmp(got, want) == 0 && strcmp(got, aud) == 0 &&
                  (got[0] != '\0' || strcmp(cases[i].login, "st_xindian") == 0);
        if (!ok)
            it_note("%s: mine %s, want %s, audience %s", cases[i].login, got, want, aud);
        free(want);
        free(aud);
        IT_CHECK(ok);
    }
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* `baobao history --problem ID` and `baobao supervise`, in Chinese. */
static int cli_prints_history_in_chinese(void)
{
    IT_CHECKF(g_problem > 0, "needs lights_and_notices_follow_the_days");
    it_server *s = start_day("2026-03-20");
    IT_CHECK(s != NULL);
    char server[64], id[24];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    snprintf(id, sizeof id, "%" PRId64, g_problem);
    it_cli r;
    const char *zh[] = {"BAOBAO_LANG=zh", NULL};
    const char *a1[] = {"history", "--problem", id, NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, a1, zh) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    bool ok = strstr(r.out, "厂房用地手续迟迟未批") != NULL && strstr(r.out, "红灯") != NULL &&
              strstr(r.out, "黄灯") != NULL && strstr(r.out, "2026-03-16") != NULL &&
              strstr(r.out, "Z") == NULL;
    if (!ok)
        it_note("history output:\n%s", r.out);
    it_cli_free(&r);
    IT_CHECK(ok);
    const char *a2[] = {"supervise", NULL};
    IT_CHECK(it_cli_run_env(&r, server, 30000, a2, zh) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    ok = strstr(r.out, "督办") != NULL;
    if (!ok)
        it_note("supervise output:\n%s", r.out);
    it_cli_free(&r);
    IT_CHECK(ok);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Notices of a problem, oldest first: level:issued_on:state. */
#define PROBLEM_NOTICES_SQL                                                                 \
    "SELECT string_agg(level || ':' || issued_on || ':' || state, ',' ORDER BY id)"         \
    " FROM notice WHERE problem_id = $1::bigint"

/* The responses to id1 and id2 on c, in whatever order they come. */
static int recv_two(it_conn *c, uint32_t id1, it_msg *m1, uint32_t id2, it_msg *m2)
{
    bool got1 = false, got2 = false;
    while (!got1 || !got2) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        if (m.kind == 1 && m.msgid == id1 && !got1) {
            *m1 = m;
            got1 = true;
        } else if (m.kind == 1 && m.msgid == id2 && !got2) {
            *m2 = m;
            got2 = true;
        } else {
            it_msg_free(&m);
        }
    }
    return 0;
}

/* The sweep is a heavy statement, sent alone in its sync group (pool.h):
 * with one pool connection, supervise.run and a failing notice.read sent
 * in one write reach the same connection in the same loop turn. Grouped,
 * the failure rolled the sweep back and the replay ran it a second time:
 * its first light change then had an id one past the one the rolled-back
 * run used. Alone, the ids follow the sequence. Also: an item late before
 * its first sweep is red since the day it turned red (deadline + 5 + 1),
 * so it is escalated at once (2 days). */
static int the_sweep_is_not_grouped_with_other_requests(void)
{
    IT_CHECKF(g_enterprise > 0, "needs lights_and_notices_follow_the_days");
    const char *sets[] = {"fake_now=2026-03-20T09:00:00+08:00", SET_RED, SET_DUE, SET_ESC,
                          SET_INTERVAL, "supervise_debounce_ms=60000", "pool_size=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t n[3];
    IT_CHECK(run_sweep(c, n) == 0);   /* the start's sweep is over */
    char en[24];
    snprintf(en, sizeof en, "%" PRId64, g_enterprise);
    const char *pe[] = {en};
    /* bb_dirty: the debounce (60 s) does not come within this test. */
    int64_t pr = sql_id("INSERT INTO problem (enterprise_id, category, description, deadline,"
                        " state) VALUES ($1::bigint, '其他', '分组测试诉求', '2026-03-01', '交办')"
                        " RETURNING id",
                        1, pe);
    IT_CHECK(pr > 0);
    int64_t last = sql_id("SELECT last_value FROM light_change_id_seq", 0, NULL);
    IT_CHECK(last > 0);

    it_buf b;
    it_buf_init(&b);
    uint32_t id1 = g_msgid++, id2 = g_msgid++;
    it_req(&b, id1, "supervise.run", 0);
    it_req(&b, id2, "notice.read", 1);
    it_kv_int(&b, "id", 999999999);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_msg m1, m2;
    IT_CHECK(recv_two(c, id1, &m1, id2, &m2) == 0);
    int64_t changes = -1, first = -1;
    bool more = true, behind = true;
    const msgpack_object *mo = it_map_get(m1.result, "more"),
                         *cb = it_map_get(m1.result, "clock_behind");
    bool ok = !m1.is_error && it_get_int(m1.result, "changes", &changes) &&
              it_get_int(m1.result, "first_change", &first) && mo != NULL &&
              mo->type == MSGPACK_OBJECT_BOOLEAN && cb != NULL &&
              cb->type == MSGPACK_OBJECT_BOOLEAN;
    if (ok) {
        more = mo->via.boolean;
        behind = cb->via.boolean;
    }
    bool failed = m2.is_error;
    char d1[256];
    if (!ok)
        it_note("supervise.run: %s", it_describe(&m1, d1, sizeof d1));
    it_msg_free(&m1);
    it_msg_free(&m2);
    IT_CHECK(ok && failed);
    IT_CHECKF(changes == 1 && first == last + 1 && !more && !behind,
              "changes %" PRId64 ", first_change %" PRId64 " after %" PRId64
              " (one more: the sweep was rolled back and run again)",
              changes, first, last);

    char got[512];
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "->red@2026-03-20/19/2026-03-01");
    IT_CHECK(expect_sql("since", "SELECT since::text FROM light_state WHERE problem_id = $1",
                        pr, "2026-03-07") == 0);
    IT_CHECK(expect_sql("late at first sight", PROBLEM_NOTICES_SQL, pr,
                        "red:2026-03-20:issued,escalated:2026-03-20:issued") == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Another process's sweep holds the lock: this one does not wait for it
 * on a pool connection (with one connection, a request is still
 * answered), and sweeps once the lock is free, supervise_debounce_ms
 * later. */
static int a_busy_sweep_waits_without_a_connection(void)
{
    IT_CHECKF(g_enterprise > 0, "needs lights_and_notices_follow_the_days");
    PGconn *lk = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(lk) == CONNECTION_OK);
    PGresult *r = PQexec(lk, "BEGIN; SELECT pg_advisory_xact_lock(hashtext('bb_supervise'), 0)");
    bool locked = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    IT_CHECK(locked);
    char en[24];
    snprintf(en, sizeof en, "%" PRId64, g_enterprise);
    const char *pe[] = {en};
    int64_t pr = sql_id("INSERT INTO problem (enterprise_id, category, description, deadline,"
                        " state) VALUES ($1::bigint, '其他', '锁测试诉求', '2026-03-19', '交办')"
                        " RETURNING id",
                        1, pe);
    IT_CHECK(pr > 0);
    const char *sets[] = {"fake_now=2026-03-20T09:00:00+08:00", SET_RED, SET_DUE, SET_ESC,
                          SET_INTERVAL, SET_DEBOUNCE, "pool_size=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char got[512] = "x";
    int64_t t0 = it_now_ms();
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECKF(it_now_ms() - t0 < 5000, "light.history waited for the sweep");
    IT_CHECK_STR(got, "");
    it_sleep_ms(500);
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "");
    r = PQexec(lk, "COMMIT");
    PQclear(r);
    PQfinish(lk);
    t0 = it_now_ms();
    while (it_now_ms() - t0 < 10000) {
        IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
        if (got[0] != '\0')
            break;
        it_sleep_ms(50);
    }
    IT_CHECK_STR(got, "->yellow@2026-03-20/1/2026-03-19");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Today never goes back: a server whose day is before the last sweep's
 * changes nothing (event=supervise_clock_behind), and the later day again
 * finds nothing to change (a yellow item would otherwise go green and
 * yellow again, with notices). Runs last: the day stays 03-21. */
static int a_clock_behind_changes_nothing(void)
{
    IT_CHECKF(g_enterprise > 0, "needs lights_and_notices_follow_the_days");
    char en[24];
    snprintf(en, sizeof en, "%" PRId64, g_enterprise);
    const char *pe[] = {en};
    int64_t pr = sql_id("INSERT INTO problem (enterprise_id, category, description, deadline,"
                        " state) VALUES ($1::bigint, '其他', '时钟测试诉求', '2026-03-20', '交办')"
                        " RETURNING id",
                        1, pe);
    IT_CHECK(pr > 0);
    IT_CHECK(live_day("2026-03-21") == 0);
    it_server *s = start_day("2026-03-19");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = g_msgid++;
    it_req(&b, id, "supervise.run", 0);
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, id, &m) == 0);
    it_buf_free(&b);
    int64_t changes = -1;
    const msgpack_object *cb = it_map_get(m.result, "clock_behind");
    bool ok = it_get_int(m.result, "changes", &changes) && cb != NULL &&
              cb->type == MSGPACK_OBJECT_BOOLEAN && cb->via.boolean && changes == 0;
    it_msg_free(&m);
    IT_CHECKF(ok, "supervise.run on 03-19 after 03-21: clock_behind and nothing done expected");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    IT_CHECK(it_server_log_has(s, "event=supervise_clock_behind"));
    IT_CHECK(live_day("2026-03-21") == 0);
    s = start_day("2026-03-21");
    IT_CHECK(s != NULL);
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char got[512];
    IT_CHECK(history(c, "problem_id", pr, NULL, got, sizeof got) == 0);
    IT_CHECK_STR(got, "->yellow@2026-03-21/1/2026-03-20");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    IT_CHECK(expect_sql("clock notices", PROBLEM_NOTICES_SQL, pr,
                        "yellow:2026-03-21:issued") == 0);
    return 0;
}

/* A part whose first phase (due, yellow, red) uses up p_max_items says
 * `more`, so its escalations come in the next part, not at the next sweep
 * (an hour later). Runs after a_clock_behind_changes_nothing (03-21 swept).
 * Two red notices to issue in a part of 2: a new milestone red at first
 * sight (one light change; its 升级 also due), and an old red item whose
 * red notice was closed by hand (no light change). */
static int a_part_used_up_by_its_first_phase_says_more(void)
{
    int64_t pj = sql_id("INSERT INTO project (name, township_id, stage, planned_investment,"
                        " priority) SELECT '督办分批项目', t.id, '签约', 1, '一般'"
                        " FROM township t WHERE t.name = '赵李桥镇' RETURNING id",
                        0, NULL);
    IT_CHECK(pj > 0);
    char pjs[24];
    snprintf(pjs, sizeof pjs, "%" PRId64, pj);
    const char *pm[] = {pjs};
    IT_CHECK(it_pg_exec("INSERT INTO project_milestone (project_id, node, planned_date)"
                        " VALUES ($1::bigint, '注册', '2026-02-01')",
                        1, pm) == 0);
    IT_CHECK(it_pg_exec("UPDATE notice SET state = 'closed', closed_at = now(),"
                        " closed_on = '2026-03-21', close_reason = 'done'"
                        " WHERE id = (SELECT min(n.id) FROM notice n WHERE n.level = 'red'"
                        "   AND n.state <> 'closed' AND n.project_id IS DISTINCT FROM $1::bigint"
                        "   AND EXISTS (SELECT 1 FROM light_state l WHERE l.light = 'red'"
                        "     AND (l.problem_id = n.problem_id OR (l.project_id = n.project_id"
                        "          AND l.node = n.node))))",
                        1, pm) == 0);
#define PART_SQL                                                                          \
    "SELECT s.more || ':' || s.changes || ':' || s.notices FROM bb_supervise("          \
    " p_today => '2026-03-21', p_red_after => 5, p_due_days => 3, p_escalate_days => 2,"  \
    " p_max_items => 2) s WHERE $1::bigint > 0"
    IT_CHECK(expect_sql("first part", PART_SQL, pj, "true:1:2") == 0);
    IT_CHECK(expect_sql("second part", PART_SQL, pj, "false:0:1") == 0);
#undef PART_SQL
    IT_CHECK(expect_sql("the milestone's notices",
                        "SELECT string_agg(level, ',' ORDER BY id) FROM notice"
                        " WHERE project_id = $1::bigint",
                        pj, "red,escalated") == 0);
    return 0;
}

static const it_test tests[] = {
    {"lights_and_notices_follow_the_days", lights_and_notices_follow_the_days},
    {"township_staff_see_their_townships_only", township_staff_see_their_townships_only},
    {"a_write_is_swept_within_the_debounce", a_write_is_swept_within_the_debounce},
    {"ended_projects_go_off_and_reopened_problems_come_back",
     ended_projects_go_off_and_reopened_problems_come_back},
    {"cli_prints_history_in_chinese", cli_prints_history_in_chinese},
    {"light_changes_mine_is_the_push_audience", light_changes_mine_is_the_push_audience},
    {"the_sweep_is_not_grouped_with_other_requests",
     the_sweep_is_not_grouped_with_other_requests},
    {"a_busy_sweep_waits_without_a_connection", a_busy_sweep_waits_without_a_connection},
    {"a_clock_behind_changes_nothing", a_clock_behind_changes_nothing},
    {"a_part_used_up_by_its_first_phase_says_more", a_part_used_up_by_its_first_phase_says_more},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "supervise", tests, sizeof tests / sizeof tests[0], NULL);
}
