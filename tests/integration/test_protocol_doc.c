/*
 * test_protocol_doc.c: statements of proto/PROTOCOL.md that no other
 * integration test pins down: the exact keys of server.info, a response
 * sent by a client, an argument given twice, nil refused where an argument
 * is not nil-able (and accepted where it is), a client's half-close,
 * which requests too_many_in_flight leaves unanswered, requests sent after
 * SIGTERM, an idempotent replay after the enterprise changed, and
 * enterprise.list's unknown status.
 *
 * Requests are held in the database by a table lock taken on a libpq
 * connection of this file's own, so the harness's connection stays free to
 * watch pg_stat_activity.
 *
 * Not for: what the other files already test (see README.md).
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define EOF_MS 5000
#define LOCK_WAIT_MS 10000

static int64_t g_eid;

static int setup(void)
{
    g_eid = it_shared_enterprise(7100, "协议文档测试", "神山镇");
    IT_CHECK(g_eid > 0);
    return 0;
}

/* ---- helpers ---- */

/* Opens a connection of our own and locks table enterprise in it, so that
 * every baobaod query touching it waits. NULL on failure (printed). */
static PGconn *lock_enterprise(void)
{
    PGconn *pg = PQconnectdb(it_db_conninfo());
    if (PQstatus(pg) != CONNECTION_OK) {
        it_note("lock connection: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    PGresult *r = PQexec(pg, "BEGIN; LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE");
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        it_note("lock: %s", PQerrorMessage(pg));
    PQclear(r);
    if (!ok) {
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static void unlock_enterprise(PGconn *pg)
{
    if (pg == NULL)
        return;
    PQclear(PQexec(pg, "COMMIT"));
    PQfinish(pg);
}

/* Waits until n baobaod backends wait for a lock. */
static bool wait_blocked(long long n)
{
    int64_t deadline = it_now_ms() + LOCK_WAIT_MS;
    while (it_now_ms() < deadline) {
        long long k = it_pg_int("SELECT count(*) FROM pg_stat_activity"
                                " WHERE application_name = 'baobaod' AND wait_event_type = 'Lock'",
                                0, NULL);
        if (k >= n)
            return true;
        it_sleep_ms(20);
    }
    return false;
}

static void pack_get(it_buf *b, uint32_t msgid, int64_t id)
{
    it_req(b, msgid, "enterprise.get", 1);
    it_kv_int(b, "id", id);
}

/* The next message must be a success response to msgid; *out keeps it. */
static int expect_result(it_conn *c, uint32_t msgid, it_msg *out)
{
    char d[800];
    int r = it_recv(c, IT_REPLY_TIMEOUT_MS, out);
    IT_CHECKF(r == IT_RECV_MSG, "no answer for msgid %u (recv %d)", msgid, r);
    if (!(out->kind == 1 && out->msgid == msgid && !out->is_error && out->result != NULL)) {
        it_fail(__FILE__, __LINE__, "expected a result for msgid %u, got %s", msgid,
                it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

/* ---- section 5: server.info ---- */

static int server_info_has_exactly_the_documented_keys(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "server.info", 0);   /* [{}] is the same as [] */
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 1, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error && m.result != NULL && m.result->type == MSGPACK_OBJECT_MAP);
    static const char *const keys[] = {"name", "version", "protocol", "database_available",
                                       "time_zone", "today", "limits", "idempotency_keep_days"};
    const msgpack_object *r = m.result;
    IT_CHECKF(r->via.map.size == 8, "server.info has %u keys", r->via.map.size);
    for (uint32_t i = 0; i < 8; i++) {
        char k[64];
        IT_CHECK(it_obj_str(&r->via.map.ptr[i].key, k, sizeof k));
        IT_CHECK_STR(k, keys[i]);
    }
    IT_CHECK(it_get_str_eq(r, "name", "baobaod"));
    int64_t v;
    IT_CHECK(it_get_int(r, "protocol", &v) && v == 1);
    const msgpack_object *avail = it_map_get(r, "database_available");
    IT_CHECK(avail != NULL && avail->type == MSGPACK_OBJECT_BOOLEAN && avail->via.boolean);
    IT_CHECK(it_get_str_eq(r, "time_zone", "Asia/Shanghai"));
    char today[32];
    IT_CHECK(it_get_str(r, "today", today, sizeof today) && strlen(today) == 10 &&
             today[4] == '-' && today[7] == '-');
    const msgpack_object *lim = it_map_get(r, "limits");
    IT_CHECK(lim != NULL && lim->type == MSGPACK_OBJECT_MAP && lim->via.map.size == 5);
    static const struct {
        const char *key;
        int64_t value;
    } limits[] = {{"max_message_bytes", 1048576}, {"max_nesting_depth", 16},
                  {"max_in_flight", 128},         {"page_limit_default", 50},
                  {"page_limit_max", 500}};
    for (size_t i = 0; i < 5; i++)
        IT_CHECKF(it_get_int(lim, limits[i].key, &v) && v == limits[i].value,
                  "limits.%s is not %lld", limits[i].key, (long long)limits[i].value);
    /* Section 4: the default window of idempotency records. */
    IT_CHECK(it_get_int(r, "idempotency_keep_days", &v) && v == 7);
    it_msg_free(&m);

    /* Any argument is unknown to server.info. */
    it_buf_reset(&b);
    it_req(&b, 2, "server.info", 1);
    it_kv_int(&b, "verbose", 1);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 2, "invalid_argument", "verbose", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    return 0;
}

/* ---- section 1: messages a client may send ---- */

static int response_from_client_refused_by_msgid_conn_kept(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* [1, 77, nil, nil] */
    static const unsigned char resp[] = {0x94, 0x01, 0x4d, 0xc0, 0xc0};
    IT_CHECK(it_send(c, resp, sizeof resp) == 0);
    IT_CHECK(it_expect_error(c, 77, "malformed_message", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

static int argument_given_twice_refused_with_its_field(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 3, "enterprise.get", 2);
    it_kv_int(&b, "id", g_eid);
    it_kv_int(&b, "id", g_eid);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 3, "invalid_argument", "id", IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_expect_alive(c) == 0);
    it_buf_free(&b);
    return 0;
}

/* ---- section 1 "Optional and nil", and each method's table ---- */

/* Packs a valid request of `method` plus nil_key: nil. */
static void pack_with_nil(it_buf *b, uint32_t msgid, const char *method, const char *nil_key)
{
    char cc[19];
    if (strcmp(method, "enterprise.create") == 0) {
        it_credit_code(7200 + msgid, cc);
        it_req(b, msgid, method, 4);
        it_kv_str(b, "name", "空值测试");
        it_kv_str(b, "credit_code", cc);
        it_kv_str(b, "township", "新店镇");
    } else if (strcmp(method, "enterprise.update") == 0) {
        it_req(b, msgid, method, 3);
        it_kv_int(b, "id", g_eid);
        it_kv_int(b, "version", 1);
    } else if (strcmp(method, "status.submit") == 0) {
        /* The same report each time: a second one must be meant. */
        it_req(b, msgid, method, 6);
        it_kv_int(b, "enterprise_id", g_eid);
        it_kv_str(b, "report_date", "2024-05-06");
        it_kv_str(b, "reporter", "李四");
        it_kv_str(b, "production_status", "正常");
        if (strcmp(nil_key, "allow_duplicate") != 0) {
            it_str(b, "allow_duplicate");
            msgpack_pack_true(&b->pk);
        } else {
            it_kv_str(b, "note", "allow_duplicate: nil");
        }
    } else if (strcmp(method, "status.list") == 0) {
        it_req(b, msgid, method, 2);
        it_kv_int(b, "enterprise_id", g_eid);
    } else {
        it_req(b, msgid, method, 1);
    }
    it_kv_nil(b, nil_key);
}

static int nil_refused_unless_nil_able(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    static const struct {
        const char *method, *key;
        bool accepted;
    } cases[] = {
        {"enterprise.create", "status", false},
        {"enterprise.create", "labels", false},
        {"enterprise.create", "idempotency_key", false},
        {"enterprise.create", "cluster", true},
        {"enterprise.update", "name", false},
        {"enterprise.update", "credit_code", false},
        {"enterprise.update", "township", false},
        {"enterprise.update", "status", false},
        {"enterprise.update", "labels", false},
        {"enterprise.update", "idempotency_key", false},
        {"enterprise.list", "township", false},
        {"enterprise.list", "cluster", false},
        {"enterprise.list", "status", false},
        {"enterprise.list", "label", false},
        {"enterprise.list", "name_contains", false},
        {"enterprise.list", "after", false},
        {"enterprise.list", "limit", false},
        {"status.submit", "output_value", true},
        {"status.submit", "employees", true},
        {"status.submit", "labour_shortage", true},
        {"status.submit", "note", true},
        {"status.submit", "idempotency_key", false},
        {"status.submit", "allow_duplicate", false},
        {"status.list", "from", false},
        {"status.list", "to", false},
        {"status.list", "after", false},
        {"status.list", "limit", false},
    };
    it_buf b;
    it_buf_init(&b);
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t msgid = 100 + (uint32_t)i;
        it_buf_reset(&b);
        pack_with_nil(&b, msgid, cases[i].method, cases[i].key);
        it_msg m;
        char d[800];
        IT_CHECK(it_call(c, b.sb.data, b.sb.size, msgid, IT_REPLY_TIMEOUT_MS, &m) ==
                 IT_RECV_MSG);
        bool ok = cases[i].accepted ? !m.is_error
                                    : m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                                          strcmp(m.field, cases[i].key) == 0;
        if (cases[i].accepted && ok && strcmp(cases[i].key, "cluster") == 0) {
            const msgpack_object *cl = it_map_get(m.result, "cluster");
            ok = cl != NULL && cl->type == MSGPACK_OBJECT_NIL;
        }
        if (!ok) {
            it_note("%s with %s: nil expected %s, got %s", cases[i].method, cases[i].key,
                    cases[i].accepted ? "accepted" : "refused (invalid_argument, that field)",
                    it_describe(&m, d, sizeof d));
            bad++;
        }
        it_msg_free(&m);
    }
    it_buf_free(&b);
    IT_CHECKF(bad == 0, "%d nil case(s) wrong (see notes)", bad);
    return 0;
}

static int update_cluster_nil_clears_it(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(7300, cc);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.create", 4);
    it_kv_str(&b, "name", "青砖茶厂");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "赵李桥镇");
    it_kv_str(&b, "cluster", "青砖茶");
    it_msg m;
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(expect_result(c, 1, &m) == 0);
    int64_t id, version;
    IT_CHECK(it_get_int(m.result, "id", &id) && it_get_int(m.result, "version", &version));
    IT_CHECK(it_get_str_eq(m.result, "cluster", "青砖茶"));
    it_msg_free(&m);

    it_buf_reset(&b);
    it_req(&b, 2, "enterprise.update", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", version);
    it_kv_nil(&b, "cluster");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(expect_result(c, 2, &m) == 0);
    const msgpack_object *cl = it_map_get(m.result, "cluster");
    IT_CHECK(cl != NULL && cl->type == MSGPACK_OBJECT_NIL);
    int64_t v2;
    IT_CHECK(it_get_int(m.result, "version", &v2) && v2 == version + 1);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* ---- section 2: how a connection ends ---- */

static int half_close_still_gets_every_answer_then_eof(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    for (uint32_t id = 1; id <= 5; id++)
        pack_get(&b, id, g_eid);
    unsigned char info[32];
    size_t ilen = it_server_info_bytes(6, info);
    msgpack_sbuffer_write(&b.sb, (const char *)info, ilen);
    /* and the first bytes of a seventh request, never completed */
    msgpack_sbuffer_write(&b.sb, (const char *)info, 5);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(shutdown(c->fd, SHUT_WR) == 0);
    bool seen[7] = {false};
    for (int n = 0; n < 6; n++) {
        it_msg m;
        char d[800];
        int r = it_recv(c, IT_REPLY_TIMEOUT_MS, &m);
        IT_CHECKF(r == IT_RECV_MSG, "answer %d of 6 missing after half-close (recv %d)", n + 1,
                  r);
        IT_CHECKF(m.kind == 1 && !m.is_error && m.msgid >= 1 && m.msgid <= 6 && !seen[m.msgid],
                  "unexpected %s", it_describe(&m, d, sizeof d));
        seen[m.msgid] = true;
        it_msg_free(&m);
    }
    IT_CHECKF(it_wait_eof(c, EOF_MS), "no EOF after the last answer");
    IT_CHECKF(!c->reset, "the connection ended with a reset");
    return 0;
}

static int too_many_in_flight_leaves_later_requests_unanswered(void)
{
    static const char *const sets[] = {"max_in_flight=2", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    PGconn *lock = lock_enterprise();
    IT_CHECK(lock != NULL);
    it_buf b;
    it_buf_init(&b);
    for (uint32_t id = 1; id <= 4; id++)
        pack_get(&b, id, g_eid);
    unsigned char info[32];
    size_t ilen = it_server_info_bytes(5, info);
    msgpack_sbuffer_write(&b.sb, (const char *)info, ilen);
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    /* 1 and 2 wait in the database; 3 is one too many. */
    it_msg m;
    char d[800];
    int r = sent == 0 ? it_recv(c, IT_REPLY_TIMEOUT_MS, &m) : IT_RECV_ERROR;
    bool refused3 = r == IT_RECV_MSG && m.kind == 1 && m.msgid == 3 &&
                    strcmp(m.code, "too_many_in_flight") == 0;
    if (r == IT_RECV_MSG && !refused3)
        it_note("first message: %s", it_describe(&m, d, sizeof d));
    if (r == IT_RECV_MSG)
        it_msg_free(&m);
    unlock_enterprise(lock);
    IT_CHECKF(refused3, "msgid 3 was not answered too_many_in_flight first (recv %d)", r);
    bool seen[6] = {false};
    for (;;) {
        r = it_recv(c, EOF_MS, &m);
        if (r == IT_RECV_EOF)
            break;
        IT_CHECKF(r == IT_RECV_MSG, "no EOF after too_many_in_flight (recv %d)", r);
        IT_CHECKF(m.kind == 1 && !m.is_error && (m.msgid == 1 || m.msgid == 2) &&
                      !seen[m.msgid],
                  "after the refusal only 1 and 2 may be answered, got %s",
                  it_describe(&m, d, sizeof d));
        seen[m.msgid] = true;
        it_msg_free(&m);
    }
    IT_CHECKF(seen[1] && seen[2], "the requests in flight were not both answered");
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* Shutdown: a request in flight is answered; one sent after the signal is
 * never read; then EOF, exit 0. */
static int request_sent_after_sigterm_is_never_answered(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_expect_alive(c) == 0);
    PGconn *lock = lock_enterprise();
    IT_CHECK(lock != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_get(&b, 1, g_eid);
    bool ok = it_send(c, b.sb.data, b.sb.size) == 0 && wait_blocked(1);
    it_buf_free(&b);
    bool began = false;
    if (ok) {
        it_server_signal(s, SIGTERM);
        int64_t deadline = it_now_ms() + LOCK_WAIT_MS;
        while (!(began = it_server_log_has(s, "event=shutdown_begin")) && it_now_ms() < deadline)
            it_sleep_ms(20);
        if (began) {
            unsigned char info[32];
            size_t ilen = it_server_info_bytes(2, info);
            (void)it_send(c, info, ilen);
            it_sleep_ms(300);
        }
    }
    unlock_enterprise(lock);
    IT_CHECKF(ok, "request 1 never waited in the database");
    IT_CHECKF(began, "no event=shutdown_begin in the log");
    it_msg m;
    IT_CHECK(expect_result(c, 1, &m) == 0);
    it_msg_free(&m);
    int r = it_recv(c, EOF_MS, &m);
    if (r == IT_RECV_MSG) {
        char d[800];
        it_fail(__FILE__, __LINE__, "expected EOF, got %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        return -1;
    }
    IT_CHECKF(r == IT_RECV_EOF, "expected EOF after the in-flight answer (recv %d)", r);
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* ---- section 3: a replay returns the first result as it was ---- */

static int update_replay_returns_first_result_after_later_change(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19], key[64];
    it_credit_code(7400, cc);
    snprintf(key, sizeof key, "doc-replay-%ld", (long)getpid());
    int64_t id = it_create_enterprise(c, "重放测试", cc, "车埠镇");
    IT_CHECK(id > 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;

    /* v1 -> v2 with the key */
    it_req(&b, 1, "enterprise.update", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "name", "重放测试甲");
    it_kv_str(&b, "idempotency_key", key);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(expect_result(c, 1, &m) == 0);
    int64_t v;
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    it_msg_free(&m);

    /* v2 -> v3 by someone else */
    it_buf_reset(&b);
    it_req(&b, 2, "enterprise.update", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 2);
    it_kv_str(&b, "name", "重放测试乙");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(expect_result(c, 2, &m) == 0);
    it_msg_free(&m);

    /* the first request again: its first result, not version_conflict */
    it_buf_reset(&b);
    it_req(&b, 3, "enterprise.update", 4);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "name", "重放测试甲");
    it_kv_str(&b, "idempotency_key", key);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(expect_result(c, 3, &m) == 0);
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    IT_CHECK(it_get_str_eq(m.result, "name", "重放测试甲"));
    it_msg_free(&m);

    /* the key with other arguments, for an id that does not exist:
     * idempotency_key_reused comes before not_found */
    it_buf_reset(&b);
    it_req(&b, 4, "enterprise.update", 3);
    it_kv_int(&b, "id", INT64_MAX);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "idempotency_key", key);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 4, "idempotency_key_reused", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    return 0;
}

/* ---- section 5: enterprise.list filters ---- */

static int list_unknown_status_refused_unknown_township_matches_nothing(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.list", 1);
    it_kv_str(&b, "status", "营业");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 1, "invalid_argument", "status", IT_REPLY_TIMEOUT_MS) == 0);

    it_buf_reset(&b);
    it_req(&b, 2, "enterprise.list", 1);
    it_kv_str(&b, "township", "火星镇");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_msg m;
    IT_CHECK(expect_result(c, 2, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    const msgpack_object *next = it_map_get(m.result, "next");
    IT_CHECK(m.result->via.map.size == 2);
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size == 0);
    IT_CHECK(next != NULL && next->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

static const it_test tests[] = {
    {"server_info_has_exactly_the_documented_keys", server_info_has_exactly_the_documented_keys},
    {"response_from_client_refused_by_msgid_conn_kept",
     response_from_client_refused_by_msgid_conn_kept},
    {"argument_given_twice_refused_with_its_field", argument_given_twice_refused_with_its_field},
    {"nil_refused_unless_nil_able", nil_refused_unless_nil_able},
    {"update_cluster_nil_clears_it", update_cluster_nil_clears_it},
    {"half_close_still_gets_every_answer_then_eof", half_close_still_gets_every_answer_then_eof},
    {"too_many_in_flight_leaves_later_requests_unanswered",
     too_many_in_flight_leaves_later_requests_unanswered},
    {"request_sent_after_sigterm_is_never_answered",
     request_sent_after_sigterm_is_never_answered},
    {"update_replay_returns_first_result_after_later_change",
     update_replay_returns_first_result_after_later_change},
    {"list_unknown_status_refused_unknown_township_matches_nothing",
     list_unknown_status_refused_unknown_township_matches_nothing},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "doc", tests, sizeof tests / sizeof tests[0], setup);
}
