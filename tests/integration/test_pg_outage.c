/*
 * test_pg_outage.c: PostgreSQL stops under a running baobaod, for real
 * ($BAOBAO_PG_LOCAL stop ... immediate). Requests get `unavailable` quickly
 * (no hang), server.info keeps working and says the database is away,
 * baobaod stays up, and once the cluster is back requests succeed again
 * without restarting baobaod.
 *
 * Not for: the error table (test_error_codes.c). Stops the shared cluster,
 * so meson runs it alone (is_parallel false).
 */
#include "harness.h"

#include <stdio.h>
#include <sys/wait.h>

/* "quickly": the pool must not wait for a dead database. */
#define UNAVAILABLE_WITHIN_MS 5000
#define RECOVER_WITHIN_MS 30000

static uint32_t g_msgid = 10;

/* enterprise.get id; returns the reply (caller frees) and its latency. */
static int get(it_conn *c, int64_t id, it_msg *out, int64_t *ms)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t m = ++g_msgid;
    it_req(&b, m, "enterprise.get", 1);
    it_kv_int(&b, "id", id);
    int64_t t0 = it_now_ms();
    int r = it_call(c, b.sb.data, b.sb.size, m, 20000, out);
    *ms = it_now_ms() - t0;
    it_buf_free(&b);
    return r;
}

/* server.info's database_available; -1 when not answered. */
static int db_available(it_conn *c)
{
    unsigned char req[32];
    uint32_t id = ++g_msgid;
    size_t n = it_server_info_bytes(id, req);
    it_msg m;
    if (it_call(c, req, n, id, IT_REPLY_TIMEOUT_MS, &m) != IT_RECV_MSG)
        return -1;
    const msgpack_object *o = it_map_get(m.result, "database_available");
    int v = o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN ? (o->via.boolean ? 1 : 0) : -1;
    it_msg_free(&m);
    return v;
}

static int requests_get_unavailable_quickly_then_recover_after_restart(void)
{
    IT_CHECKF(it_pg_can_restart(), "BAOBAO_PG_LOCAL and BAOBAO_PG_DIR must be set");
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(900, cc);
    int64_t eid = it_create_enterprise(c, "住方科技", cc, "赤壁镇");
    IT_CHECK(eid > 0);
    IT_CHECK(db_available(c) == 1);

    IT_CHECK(it_pg_stop() == 0);
    it_msg m;
    char d[800];
    int64_t ms;
    /* Several requests in a row: the first finds the connections broken,
     * the later ones meet the pool while it reconnects with backoff. */
    for (int i = 0; i < 5; i++) {
        int r = get(c, eid, &m, &ms);
        IT_CHECKF(r == IT_RECV_MSG, "request %d with PostgreSQL down: recv %d after %lld ms",
                  i, r, (long long)ms);
        IT_CHECKF(m.is_error && strcmp(m.code, "unavailable") == 0,
                  "request %d with PostgreSQL down: %s", i, it_describe(&m, d, sizeof d));
        IT_CHECKF(ms < UNAVAILABLE_WITHIN_MS, "unavailable took %lld ms", (long long)ms);
        it_note("request %d: unavailable in %lld ms", i, (long long)ms);
        it_msg_free(&m);
        it_sleep_ms(300);
    }
    /* A write too, and a list. */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "enterprise.list", IT_NO_ARGS);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, g_msgid, "unavailable", NULL, UNAVAILABLE_WITHIN_MS) == 0);
    it_buf_reset(&b);
    it_req(&b, ++g_msgid, "status.submit", 4);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "report_date", "2024-06-01");
    it_kv_str(&b, "reporter", "张三");
    it_kv_str(&b, "production_status", "正常");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, g_msgid, "unavailable", NULL, UNAVAILABLE_WITHIN_MS) == 0);
    /* server.info works and tells. */
    IT_CHECKF(db_available(c) == 0, "server.info database_available is not false");
    IT_CHECK(it_server_alive(s));
    /* A new connection is accepted and served meanwhile (server.info
     * needs no login); a login needs the database, so it is unavailable. */
    it_conn *c2 = it_connect_anon(s->port);
    IT_CHECK(c2 != NULL);
    IT_CHECK(it_expect_alive(c2) == 0);
    IT_CHECK(it_login(c2, IT_USER_SUPER, IT_PASSWORD, UNAVAILABLE_WITHIN_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "unavailable") == 0, "login during the outage: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);

    IT_CHECK(it_pg_start() == 0);
    int64_t t0 = it_now_ms();
    bool back = false;
    while (it_now_ms() - t0 < RECOVER_WITHIN_MS) {
        int r = get(c, eid, &m, &ms);
        IT_CHECKF(r == IT_RECV_MSG, "during recovery: recv %d", r);
        if (!m.is_error) {
            back = true;
            it_msg_free(&m);
            break;
        }
        IT_CHECKF(strcmp(m.code, "unavailable") == 0, "during recovery: %s",
                  it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        it_sleep_ms(200);
    }
    IT_CHECKF(back, "requests still fail %d ms after PostgreSQL came back", RECOVER_WITHIN_MS);
    it_note("requests succeed again %lld ms after the restart", (long long)(it_now_ms() - t0));
    IT_CHECK(db_available(c) == 1);
    /* A write succeeds too, and is stored once. */
    it_buf_reset(&b);
    it_req(&b, ++g_msgid, "status.submit", 5);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "report_date", "2024-06-01");
    it_kv_str(&b, "reporter", "张三");
    it_kv_str(&b, "production_status", "正常");
    it_kv_str(&b, "note", "恢复之后");
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "write after recovery: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_buf_free(&b);
    const char *p[] = {"恢复之后"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE note = $1", 1, p) == 1);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* A request already sent to the database when its connection dies gets an
 * answer (unavailable) rather than hanging, and the pool reconnects. The
 * request waits on a lock this test holds, and its PostgreSQL backend is
 * terminated under it: deterministic, unlike racing a cluster stop. */
static int request_in_flight_when_its_backend_dies_gets_unavailable(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(901, cc);
    int64_t eid = it_create_enterprise(c, "高正新材料", cc, "新材料产业园");
    IT_CHECK(eid > 0);
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.get", 1);
    it_kv_int(&b, "id", eid);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_sleep_ms(500);   /* the query reaches PostgreSQL and waits on the lock */
    long long killed = it_pg_int(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'", 0, NULL);
    it_note("terminated %lld backends of baobaod", killed);
    IT_CHECK(killed > 0);
    int64_t t0 = it_now_ms();
    int rc = it_expect_error(c, 1, "unavailable", NULL, UNAVAILABLE_WITHIN_MS);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECK(rc == 0);
    it_note("answered %lld ms after the backends died", (long long)(it_now_ms() - t0));
    IT_CHECK(it_server_alive(s));
    /* And the pool comes back by itself. */
    int64_t deadline = it_now_ms() + RECOVER_WITHIN_MS;
    bool back = false;
    while (!back && it_now_ms() < deadline) {
        it_msg m;
        int64_t ms;
        IT_CHECK(get(c, eid, &m, &ms) == IT_RECV_MSG);
        back = !m.is_error;
        it_msg_free(&m);
        if (!back)
            it_sleep_ms(200);
    }
    IT_CHECKF(back, "enterprise.get still fails %d ms after the backends were terminated",
              RECOVER_WITHIN_MS);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

static const it_test tests[] = {
    {"requests_get_unavailable_quickly_then_recover_after_restart",
     requests_get_unavailable_quickly_then_recover_after_restart},
    {"request_in_flight_when_its_backend_dies_gets_unavailable",
     request_in_flight_when_its_backend_dies_gets_unavailable},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "outage", tests, sizeof tests / sizeof tests[0], NULL);
}
