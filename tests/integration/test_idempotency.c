/*
 * test_idempotency.c: PROTOCOL.md section 4. A write retried with the same
 * idempotency key and the same arguments returns the first result and
 * stores nothing more; with other arguments it is refused; keys are scoped
 * per method; a failed write stores no key; many concurrent retries of one
 * key from several connections store one row. Rows are counted with libpq.
 *
 * Not for: the other argument checks of the write methods.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t g_eid;
static uint32_t g_msgid = 10;

static int setup(void)
{
    g_eid = it_shared_enterprise(500, "龙兴无纺布", "赵李桥镇");
    IT_CHECK(g_eid > 0);
    return 0;
}

static void pack_create(it_buf *b, uint32_t msgid, const char *name, const char *code,
                        const char *township, const char *key)
{
    it_req(b, msgid, "enterprise.create", key ? 4 : 3);
    it_kv_str(b, "name", name);
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", township);
    if (key)
        it_kv_str(b, "idempotency_key", key);
}

/* Sends one request and reads its reply into out. */
static int call(it_conn *c, it_buf *b, uint32_t msgid, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, msgid, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

static long long count_code(const char *code)
{
    const char *p[] = {code};
    return it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p);
}

/* Same id, version and timestamps: the first result again. */
static bool same_enterprise(const msgpack_object *a, const msgpack_object *b)
{
    static const char *const keys[] = {"id", "version", "created_at", "updated_at", "name",
                                       "credit_code"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const msgpack_object *x = it_map_get(a, keys[i]), *y = it_map_get(b, keys[i]);
        if (x == NULL || y == NULL || !msgpack_object_equal(*x, *y))
            return false;
    }
    return true;
}

static int create_twice_with_same_key_returns_first_result_one_row(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(501, code);
    it_buf b;
    it_buf_init(&b);
    it_msg m1, m2;
    char d[800];
    pack_create(&b, ++g_msgid, "泽翰实业", code, "车埠镇", "idem-create-1");
    IT_CHECK(call(c, &b, g_msgid, &m1) == IT_RECV_MSG);
    IT_CHECKF(!m1.is_error, "first create: %s", it_describe(&m1, d, sizeof d));
    it_sleep_ms(20);   /* a re-run would get another timestamp */
    pack_create(&b, ++g_msgid, "泽翰实业", code, "车埠镇", "idem-create-1");
    IT_CHECK(call(c, &b, g_msgid, &m2) == IT_RECV_MSG);
    IT_CHECKF(!m2.is_error, "retry: %s", it_describe(&m2, d, sizeof d));
    IT_CHECKF(same_enterprise(m1.result, m2.result),
              "the retry did not return the first result (id/version/timestamps differ)");
    IT_CHECK(count_code(code) == 1);
    /* A third time from another connection. */
    it_conn *c2 = it_connect(s->port);
    IT_CHECK(c2 != NULL);
    it_msg m3;
    pack_create(&b, ++g_msgid, "泽翰实业", code, "车埠镇", "idem-create-1");
    IT_CHECK(call(c2, &b, g_msgid, &m3) == IT_RECV_MSG);
    IT_CHECKF(!m3.is_error && same_enterprise(m1.result, m3.result), "retry elsewhere: %s",
              it_describe(&m3, d, sizeof d));
    IT_CHECK(count_code(code) == 1);
    it_msg_free(&m1);
    it_msg_free(&m2);
    it_msg_free(&m3);
    it_buf_free(&b);
    return 0;
}

static int create_same_key_other_arguments_refused(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19], code2[19];
    it_credit_code(502, code);
    it_credit_code(503, code2);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_create(&b, ++g_msgid, "凯利隆", code, "神山镇", "idem-create-2");
    IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    /* Other name. */
    pack_create(&b, ++g_msgid, "凯利隆二厂", code, "神山镇", "idem-create-2");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    IT_CHECK(it_expect_error(c, g_msgid, "idempotency_key_reused", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    /* Other credit code: nothing stored under it. */
    pack_create(&b, ++g_msgid, "凯利隆", code2, "神山镇", "idem-create-2");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, g_msgid, "idempotency_key_reused", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(count_code(code) == 1);
    IT_CHECK(count_code(code2) == 0);
    const char *p[] = {"凯利隆二厂"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE name = $1", 1, p) == 0);
    it_buf_free(&b);
    return 0;
}

static void pack_submit(it_buf *b, uint32_t msgid, int64_t eid, const char *date,
                        const char *note, const char *key)
{
    it_req(b, msgid, "status.submit", key ? 6 : 5);
    it_kv_int(b, "enterprise_id", eid);
    it_kv_str(b, "report_date", date);
    it_kv_str(b, "reporter", "李四");
    it_kv_str(b, "production_status", "正常");
    it_kv_str(b, "note", note);
    if (key)
        it_kv_str(b, "idempotency_key", key);
}

static long long count_reports(const char *note)
{
    const char *p[] = {note};
    return it_pg_int("SELECT count(*) FROM status_report WHERE note = $1", 1, p);
}

static int status_submit_same_key_twice_one_row_and_other_args_refused(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m1, m2;
    char d[800];
    pack_submit(&b, ++g_msgid, g_eid, "2024-03-01", "幂等走访一", "idem-submit-1");
    IT_CHECK(call(c, &b, g_msgid, &m1) == IT_RECV_MSG);
    IT_CHECKF(!m1.is_error, "%s", it_describe(&m1, d, sizeof d));
    pack_submit(&b, ++g_msgid, g_eid, "2024-03-01", "幂等走访一", "idem-submit-1");
    IT_CHECK(call(c, &b, g_msgid, &m2) == IT_RECV_MSG);
    IT_CHECKF(!m2.is_error, "%s", it_describe(&m2, d, sizeof d));
    int64_t id1 = 0, id2 = -1;
    IT_CHECK(it_get_int(m1.result, "id", &id1) && it_get_int(m2.result, "id", &id2));
    IT_CHECKF(id1 == id2, "retry gave report %lld, first %lld", (long long)id2,
              (long long)id1);
    IT_CHECK(msgpack_object_equal(*it_map_get(m1.result, "created_at"),
                                  *it_map_get(m2.result, "created_at")));
    IT_CHECK(count_reports("幂等走访一") == 1);
    it_msg_free(&m1);
    it_msg_free(&m2);
    pack_submit(&b, ++g_msgid, g_eid, "2024-03-02", "幂等走访一", "idem-submit-1");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    IT_CHECK(it_expect_error(c, g_msgid, "idempotency_key_reused", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(count_reports("幂等走访一") == 1);
    it_buf_free(&b);
    return 0;
}

static int update_retried_with_same_key_applies_once(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(504, code);
    int64_t id = it_create_enterprise(c, "润坊卫生湿巾", code, "中伙铺镇");
    IT_CHECK(id > 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    char d[800];
    for (int i = 0; i < 2; i++) {
        it_req(&b, ++g_msgid, "enterprise.update", 4);
        it_kv_int(&b, "id", id);
        it_kv_int(&b, "version", 1);
        it_kv_str(&b, "status", "半停产");
        it_kv_str(&b, "idempotency_key", "idem-update-1");
        IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
        int64_t v = 0;
        IT_CHECKF(!m.is_error && it_get_int(m.result, "version", &v) && v == 2,
                  "update attempt %d: %s (version %lld)", i + 1, it_describe(&m, d, sizeof d),
                  (long long)v);
        it_msg_free(&m);
    }
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[] = {ids};
    IT_CHECK(it_pg_int("SELECT version FROM enterprise WHERE id = $1", 1, p) == 2);
    it_buf_free(&b);
    return 0;
}

static int keys_are_scoped_per_method(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(505, code);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    char d[800];
    pack_create(&b, ++g_msgid, "荟海药业", code, "美丽健康产业园", "idem-shared-key");
    IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, "2024-03-05", "同一个键", "idem-shared-key");
    IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "status.submit with a key used by enterprise.create: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

static int failed_write_stores_no_key(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(506, code);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    char d[800];
    pack_create(&b, ++g_msgid, "思贝林药业", code, "不存在的镇", "idem-failed-1");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    IT_CHECK(it_expect_error(c, g_msgid, "invalid_argument", "township",
                             IT_REPLY_TIMEOUT_MS) == 0);
    pack_create(&b, ++g_msgid, "思贝林药业", code, "官塘驿镇", "idem-failed-1");
    IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "after a failed write with the key, a good one: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(count_code(code) == 1);
    it_buf_free(&b);
    return 0;
}

static int key_length_limits_enforced(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(507, code);
    char key[130];
    memset(key, 'k', 129);
    key[129] = '\0';
    it_buf b;
    it_buf_init(&b);
    pack_create(&b, ++g_msgid, "键太长", code, "新店镇", key);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    IT_CHECK(it_expect_error(c, g_msgid, "invalid_argument", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    pack_create(&b, ++g_msgid, "键为空", code, "新店镇", "");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_reset(&b);
    IT_CHECK(it_expect_error(c, g_msgid, "invalid_argument", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    key[128] = '\0';   /* exactly 128 bytes: fine */
    it_msg m;
    char d[800];
    pack_create(&b, ++g_msgid, "键正好", code, "新店镇", key);
    IT_CHECK(call(c, &b, g_msgid, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "a 128-byte key: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(count_code(code) == 1);
    it_buf_free(&b);
    return 0;
}

#define RACE_CONNS 8
#define RACE_PER_CONN 5

static int concurrent_retries_of_one_key_store_one_row(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *cs[RACE_CONNS];
    for (int i = 0; i < RACE_CONNS; i++) {
        cs[i] = it_connect(s->port);
        IT_CHECK(cs[i] != NULL);
    }
    char code[19];
    it_credit_code(508, code);
    /* Each connection gets its pipelined copies ready, then all are sent
     * back to back so they reach the server together. */
    it_buf bufs[RACE_CONNS];
    for (int i = 0; i < RACE_CONNS; i++) {
        it_buf_init(&bufs[i]);
        for (int k = 0; k < RACE_PER_CONN; k++)
            pack_create(&bufs[i], (uint32_t)(100 + k), "诚森桦泰智能电子数码", code,
                        "高新技术产业园区", "idem-race-1");
    }
    for (int i = 0; i < RACE_CONNS; i++)
        IT_CHECK(it_send(cs[i], bufs[i].sb.data, bufs[i].sb.size) == 0);
    int64_t first_id = -1;
    for (int i = 0; i < RACE_CONNS; i++) {
        for (int k = 0; k < RACE_PER_CONN; k++) {
            it_msg m;
            char d[800];
            IT_CHECK(it_recv(cs[i], IT_REPLY_TIMEOUT_MS * 2, &m) == IT_RECV_MSG);
            int64_t id = 0;
            IT_CHECKF(m.kind == 1 && !m.is_error && it_get_int(m.result, "id", &id),
                      "connection %d reply %d: %s", i, k, it_describe(&m, d, sizeof d));
            if (first_id < 0)
                first_id = id;
            IT_CHECKF(id == first_id, "connection %d got id %lld, another %lld", i,
                      (long long)id, (long long)first_id);
            it_msg_free(&m);
        }
        it_buf_free(&bufs[i]);
    }
    IT_CHECK(count_code(code) == 1);
    return 0;
}

static int concurrent_status_submits_of_one_key_store_one_row(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *cs[RACE_CONNS];
    it_buf bufs[RACE_CONNS];
    for (int i = 0; i < RACE_CONNS; i++) {
        cs[i] = it_connect(s->port);
        IT_CHECK(cs[i] != NULL);
        it_buf_init(&bufs[i]);
        for (int k = 0; k < RACE_PER_CONN; k++)
            pack_submit(&bufs[i], (uint32_t)(200 + k), g_eid, "2024-04-01", "并发重试",
                        "idem-race-submit");
    }
    for (int i = 0; i < RACE_CONNS; i++)
        IT_CHECK(it_send(cs[i], bufs[i].sb.data, bufs[i].sb.size) == 0);
    int64_t first = -1;
    for (int i = 0; i < RACE_CONNS; i++) {
        for (int k = 0; k < RACE_PER_CONN; k++) {
            it_msg m;
            char d[800];
            IT_CHECK(it_recv(cs[i], IT_REPLY_TIMEOUT_MS * 2, &m) == IT_RECV_MSG);
            int64_t id = 0;
            IT_CHECKF(m.kind == 1 && !m.is_error && it_get_int(m.result, "id", &id),
                      "connection %d reply %d: %s", i, k, it_describe(&m, d, sizeof d));
            if (first < 0)
                first = id;
            IT_CHECK(id == first);
            it_msg_free(&m);
        }
        it_buf_free(&bufs[i]);
    }
    IT_CHECK(count_reports("并发重试") == 1);
    return 0;
}

static const it_test tests[] = {
    {"create_twice_with_same_key_returns_first_result_one_row",
     create_twice_with_same_key_returns_first_result_one_row},
    {"create_same_key_other_arguments_refused", create_same_key_other_arguments_refused},
    {"status_submit_same_key_twice_one_row_and_other_args_refused",
     status_submit_same_key_twice_one_row_and_other_args_refused},
    {"update_retried_with_same_key_applies_once", update_retried_with_same_key_applies_once},
    {"keys_are_scoped_per_method", keys_are_scoped_per_method},
    {"failed_write_stores_no_key", failed_write_stores_no_key},
    {"key_length_limits_enforced", key_length_limits_enforced},
    {"concurrent_retries_of_one_key_store_one_row",
     concurrent_retries_of_one_key_store_one_row},
    {"concurrent_status_submits_of_one_key_store_one_row",
     concurrent_status_submits_of_one_key_store_one_row},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "idem", tests, sizeof tests / sizeof tests[0], setup);
}
