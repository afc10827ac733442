/*
 * test_demo.c: the demo shows the heart of the product on the first try
 * (issue 12, item 5). data/demo.sql (named by IT_DEMO_SQL) is loaded twice
 * into the test database, with the reference data already there as
 * scripts/run loads them, and then, through a real baobaod:
 *   - loading it again adds nothing (every table's count stays);
 *   - `overdue.milestones` and `overdue.problems` each show red AND yellow
 *     rows on the day it was loaded (its dates count from that day, so this
 *     holds whatever the date), and every late row names its responsible
 *     people (an official or a unit);
 *   - `due.milestones` within 14 days is not empty;
 *   - `coverage.gaps` finds the gaps left on purpose (北京双吉制药 without a
 *     包保市领导);
 *   - township staff of 新店镇 see the late milestone of 壹嘉制衣 and nothing
 *     of another township.
 *
 * Not for: what the overdue lists compute (test_overdue.c) or scripts/run.
 */
#include "harness.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tables the demo fills, counted before and after a second load. */
static const char *const demo_tables[] = {
    "enterprise", "status_report", "unit", "official", "project", "project_milestone",
    "project_stage_event", "assignment", "problem", "problem_event",
};
#define NTABLES (sizeof demo_tables / sizeof demo_tables[0])

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* The file is several statements in its own transaction: one simple query
 * on a connection of our own (the harness's helper sends one statement). */
static int load_demo(void)
{
    const char *path = getenv("IT_DEMO_SQL");
    if (path == NULL || path[0] == '\0') {
        it_note("IT_DEMO_SQL is not set: run through meson test");
        return -1;
    }
    char *sql = read_all(path);
    if (sql == NULL) {
        it_note("cannot read %s", path);
        return -1;
    }
    PGconn *pg = PQconnectdb(it_db_conninfo());
    int rc = -1;
    if (PQstatus(pg) == CONNECTION_OK) {
        PGresult *r = PQexec(pg, sql);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
        if (rc != 0)
            it_note("loading %s: %s", path, PQresultErrorMessage(r));
        PQclear(r);
    } else {
        it_note("connecting: %s", PQerrorMessage(pg));
    }
    PQfinish(pg);
    free(sql);
    return rc;
}

static void count_tables(long long out[NTABLES])
{
    char q[128];
    for (size_t i = 0; i < NTABLES; i++) {
        snprintf(q, sizeof q, "SELECT count(*) FROM %s", demo_tables[i]);
        out[i] = it_pg_int(q, 0, NULL);
    }
}

static int demo_loads_twice_and_adds_nothing_the_second_time(void)
{
    long long first[NTABLES], second[NTABLES];
    IT_CHECK(load_demo() == 0);
    count_tables(first);
    for (size_t i = 0; i < NTABLES; i++)
        IT_CHECKF(first[i] > 0, "the demo left %s empty", demo_tables[i]);
    IT_CHECK(load_demo() == 0);
    count_tables(second);
    for (size_t i = 0; i < NTABLES; i++)
        IT_CHECKF(first[i] == second[i], "%s: %lld rows after one load, %lld after two",
                     demo_tables[i], first[i], second[i]);
    return 0;
}

/* Counts the items of a page by level and checks each late one names
 * someone responsible. */
static int levels_of(const msgpack_object *res, int *red, int *yellow)
{
    const msgpack_object *items = it_map_get(res, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    *red = *yellow = 0;
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *it = &items->via.array.ptr[i];
        char level[16];
        IT_CHECK(it_get_str(it, "level", level, sizeof level));
        *red += strcmp(level, "red") == 0;
        *yellow += strcmp(level, "yellow") == 0;
        const msgpack_object *o = it_map_get(it, "officials"), *u = it_map_get(it, "units");
        IT_CHECK(o != NULL && u != NULL && o->type == MSGPACK_OBJECT_ARRAY &&
                 u->type == MSGPACK_OBJECT_ARRAY);
        IT_CHECKF(o->via.array.size + u->via.array.size > 0,
                     "a late row of the demo names nobody responsible (item %u)", i);
    }
    return 0;
}

static int overdue_lists_show_red_and_yellow_with_people(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    int red, yellow;

    it_req(&b, 1, "overdue.milestones", 1);
    it_kv_int(&b, "limit", 100);
    IT_CHECK(it_buf_ok(c, &b, 1, &m) == 0);
    IT_CHECK(levels_of(m.result, &red, &yellow) == 0);
    it_msg_free(&m);
    IT_CHECKF(red >= 1 && yellow >= 1, "overdue.milestones: %d red, %d yellow", red, yellow);

    it_req(&b, 2, "overdue.problems", 1);
    it_kv_int(&b, "limit", 100);
    IT_CHECK(it_buf_ok(c, &b, 2, &m) == 0);
    IT_CHECK(levels_of(m.result, &red, &yellow) == 0);
    it_msg_free(&m);
    IT_CHECKF(red >= 1 && yellow >= 1, "overdue.problems: %d red, %d yellow", red, yellow);

    it_req(&b, 3, "due.milestones", 1);
    it_kv_int(&b, "within_days", 14);
    IT_CHECK(it_buf_ok(c, &b, 3, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size >= 1);
    it_msg_free(&m);

    it_buf_free(&b);
    it_close(c);
    return 0;
}

static int coverage_gaps_find_the_gaps_left_on_purpose(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, 1, "coverage.gaps", 1);
    it_kv_int(&b, "limit", 100);
    IT_CHECK(it_buf_ok(c, &b, 1, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    bool found = false;
    for (uint32_t i = 0; i < items->via.array.size && !found; i++) {
        char name[128];
        found = it_get_str(&items->via.array.ptr[i], "name", name, sizeof name) &&
                strcmp(name, "北京双吉制药") == 0;
    }
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    IT_CHECKF(found, "coverage.gaps does not list 北京双吉制药 (no 包保市领导)");
    return 0;
}

static int township_staff_see_their_milestones_only(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);   /* 新店镇 */
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, 1, "overdue.milestones", 1);
    it_kv_int(&b, "limit", 100);
    IT_CHECK(it_buf_ok(c, &b, 1, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY);
    /* 壹嘉制衣 (新店镇) is late; nothing of another township shows. */
    IT_CHECKF(items->via.array.size >= 1, "新店镇 staff see no late milestone of 壹嘉制衣");
    for (uint32_t i = 0; i < items->via.array.size; i++)
        IT_CHECK(it_get_str_eq(&items->via.array.ptr[i], "township", "新店镇"));
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"demo_loads_twice_and_adds_nothing_the_second_time",
         demo_loads_twice_and_adds_nothing_the_second_time},
        {"overdue_lists_show_red_and_yellow_with_people",
         overdue_lists_show_red_and_yellow_with_people},
        {"coverage_gaps_find_the_gaps_left_on_purpose", coverage_gaps_find_the_gaps_left_on_purpose},
        {"township_staff_see_their_milestones_only", township_staff_see_their_milestones_only},
    };
    return it_main(argc, argv, "demo", tests, sizeof tests / sizeof tests[0], NULL);
}
