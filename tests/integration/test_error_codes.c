/*
 * test_error_codes.c: every error code of PROTOCOL.md section 5, each
 * produced by a real request to a real server, with its field and what
 * happens to the connection afterwards (closed or still usable). The table
 * is checked against proto/bb_errors.h so a new code without a row fails.
 *
 * Not for: the finer cases of each code (the other test files). Stops
 * PostgreSQL for `unavailable`, so meson runs it alone (is_parallel false).
 */
#include "harness.h"
#include "bb_errors.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#define ROW_MSGID 77u

static int64_t g_eid;
static char g_code[19];

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_credit_code(11, g_code);
    /* Created with an idempotency key, for idempotency_key_reused. */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.create", 4);
    it_kv_str(&b, "name", "高正新材料");
    it_kv_str(&b, "credit_code", g_code);
    it_kv_str(&b, "township", "新材料产业园");
    it_kv_str(&b, "idempotency_key", "errors-key-1");
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 1, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error && it_get_int(m.result, "id", &g_eid), "create: %s %s", m.code,
              m.message);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* Sends b and reads the next message. */
static int send_read(it_conn *c, const void *bytes, size_t n, it_msg *out)
{
    (void)it_send(c, bytes, n);
    return it_recv(c, IT_REPLY_TIMEOUT_MS, out);
}

static int send_buf(it_conn *c, it_buf *b, it_msg *out)
{
    int r = send_read(c, b->sb.data, b->sb.size, out);
    it_buf_free(b);
    return r;
}

static int run_malformed_envelope(it_conn **c, it_msg *out)
{
    /* [0, 77, "server.info", {}]: params not an array. */
    static const unsigned char bytes[] = {0x94, 0x00, ROW_MSGID, 0xab, 's', 'e', 'r', 'v',
                                          'e', 'r', '.', 'i', 'n', 'f', 'o', 0x80};
    return send_read(*c, bytes, sizeof bytes, out);
}

static int run_malformed_bytes(it_conn **c, it_msg *out)
{
    static const unsigned char bytes[] = {0xc1, 0xc1, 0xc1};
    return send_read(*c, bytes, sizeof bytes, out);
}

static int run_message_too_large(it_conn **c, it_msg *out)
{
    /* [0, 77, "x", [{"k": str32 of 2 MiB ...: over the default 1 MiB. */
    static const unsigned char bytes[] = {0x94, 0x00, ROW_MSGID, 0xa1, 'x', 0x91, 0x81, 0xa1,
                                          'k', 0xdb, 0x00, 0x20, 0x00, 0x00};
    return send_read(*c, bytes, sizeof bytes, out);
}

static int run_nesting_too_deep(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.list", 1);
    it_str(&b, "name_contains");
    for (int i = 0; i < 30; i++)
        msgpack_pack_array(&b.pk, 1);
    msgpack_pack_nil(&b.pk);
    return send_buf(*c, &b, out);
}

static int run_too_many_in_flight(it_conn **c, it_msg *out)
{
    /* Default max_in_flight is 128: hold 128 in the database, send more. */
    if (it_pg_exec("BEGIN", 0, NULL) != 0 ||
        it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) != 0)
        return IT_RECV_ERROR;
    it_buf b;
    it_buf_init(&b);
    for (uint32_t i = 0; i < 140; i++) {
        it_req(&b, i == 128 ? ROW_MSGID : 1000 + i, "enterprise.get", 1);
        it_kv_int(&b, "id", g_eid);
    }
    (void)it_send(*c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    int r;
    for (;;) {
        r = it_recv(*c, IT_REPLY_TIMEOUT_MS, out);
        if (r != IT_RECV_MSG || strcmp(out->code, "too_many_in_flight") == 0)
            break;
        it_msg_free(out);
    }
    if (it_pg_exec("COMMIT", 0, NULL) != 0)
        it_note("COMMIT failed");
    if (r == IT_RECV_MSG && out->msgid != ROW_MSGID)
        it_note("too_many_in_flight came for msgid %u (the 129th request was %u)", out->msgid,
                ROW_MSGID);
    if (r == IT_RECV_MSG)
        out->msgid = ROW_MSGID;   /* which one is timing; the code is what counts here */
    return r;
}

static int run_unknown_method(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.frobnicate", IT_NO_ARGS);
    return send_buf(*c, &b, out);
}

static int run_invalid_argument_type(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.get", 1);
    it_kv_str(&b, "id", "7");
    return send_buf(*c, &b, out);
}

static int run_invalid_argument_unknown_key(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.get", 2);
    it_kv_int(&b, "id", g_eid);
    it_kv_int(&b, "idd", 1);
    return send_buf(*c, &b, out);
}

static int run_invalid_argument_missing(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.create", 2);
    it_kv_str(&b, "name", "缺少信用代码");
    it_kv_str(&b, "township", "赤壁镇");
    return send_buf(*c, &b, out);
}

static int run_invalid_utf8(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.list", 1);
    it_kv_strn(&b, "name_contains", "\xe4\xbd", 2);   /* a cut-off 3-byte sequence */
    return send_buf(*c, &b, out);
}

static int run_not_found(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.get", 1);
    it_kv_int(&b, "id", 987654321);
    return send_buf(*c, &b, out);
}

static int run_version_conflict(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.update", 3);
    it_kv_int(&b, "id", g_eid);
    it_kv_int(&b, "version", 999);
    it_kv_str(&b, "name", "改名");
    return send_buf(*c, &b, out);
}

static int run_already_exists(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.create", 3);
    it_kv_str(&b, "name", "同码企业");
    it_kv_str(&b, "credit_code", g_code);
    it_kv_str(&b, "township", "赤壁镇");
    return send_buf(*c, &b, out);
}

/* The same report twice: the first one stored (its answer read here),
 * the second the row's. */
static void pack_report(it_buf *b, uint32_t msgid)
{
    it_req(b, msgid, "status.submit", 4);
    it_kv_int(b, "enterprise_id", g_eid);
    it_kv_str(b, "report_date", "2024-05-01");
    it_kv_str(b, "reporter", "错误码");
    it_kv_str(b, "production_status", "正常");
}

static int run_duplicate_report(it_conn **c, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    pack_report(&b, ROW_MSGID - 1);
    it_msg first;
    int r = send_read(*c, b.sb.data, b.sb.size, &first);
    bool stored = r == IT_RECV_MSG && !first.is_error;
    if (r == IT_RECV_MSG)
        it_msg_free(&first);
    it_buf_reset(&b);
    if (!stored) {
        it_buf_free(&b);
        return -1;
    }
    pack_report(&b, ROW_MSGID);
    return send_buf(*c, &b, out);
}

static int run_idempotency_key_reused(it_conn **c, it_msg *out)
{
    char other[19];
    it_credit_code(12, other);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.create", 4);
    it_kv_str(&b, "name", "另一家企业");
    it_kv_str(&b, "credit_code", other);
    it_kv_str(&b, "township", "赤壁镇");
    it_kv_str(&b, "idempotency_key", "errors-key-1");
    return send_buf(*c, &b, out);
}

/* After PostgreSQL comes back: waits until the shared server's pool serves
 * again, so the next row does not meet a reconnecting pool. */
static void wait_database_back(void)
{
    it_server *s = it_shared_server();
    it_conn *c = s != NULL ? it_connect(s->port) : NULL;
    if (c == NULL)
        return;
    int64_t deadline = it_now_ms() + 30000;
    while (it_now_ms() < deadline) {
        it_buf b;
        it_buf_init(&b);
        it_req(&b, 5, "enterprise.get", 1);
        it_kv_int(&b, "id", g_eid);
        it_msg m;
        int r = it_call(c, b.sb.data, b.sb.size, 5, IT_REPLY_TIMEOUT_MS, &m);
        it_buf_free(&b);
        bool ok = r == IT_RECV_MSG && !m.is_error;
        if (r == IT_RECV_MSG)
            it_msg_free(&m);
        if (ok)
            break;
        it_sleep_ms(100);
    }
    it_close(c);
}

static int run_unavailable(it_conn **c, it_msg *out)
{
    if (it_pg_stop() != 0)
        return IT_RECV_ERROR;
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.get", 1);
    it_kv_int(&b, "id", g_eid);
    int r = send_buf(*c, &b, out);
    if (it_pg_start() != 0)
        it_note("PostgreSQL did not start again");
    wait_database_back();
    return r;
}

/* shutting_down answers the requests a connection had received but not yet
 * dispatched when SIGTERM came (server/main.c: on SIGTERM every connection
 * stops reading and refuses what it holds). Requests are held undispatched
 * under backpressure: a client that floods server.info without reading,
 * with a small write_high_water, leaves the server holding part of its last
 * read. After SIGTERM the client reads: results, then shutting_down for the
 * held ones, then EOF; the server exits 0. */
static int run_shutting_down(it_conn **c, it_msg *out)
{
    static const char *const sets[] = {"write_high_water=4096", "write_low_water=1024", NULL};
    it_server *s = it_server_start(sets);
    if (s == NULL)
        return IT_RECV_ERROR;
    *c = it_connect_rcvbuf(s->port, 16384);
    if (*c == NULL)
        return IT_RECV_ERROR;
    enum { N = 100000 };
    unsigned char *flood = malloc((size_t)N * 32);
    size_t len = 0;
    for (uint32_t i = 0; i < N; i++)
        len += it_server_info_bytes(i + 1, flood + len);
    ssize_t sent = it_send_some(*c, flood, len, 3000);
    free(flood);
    it_note("sent %zd of %zu bytes before the server stopped reading", sent, len);
    it_sleep_ms(300);
    it_server_signal(s, SIGTERM);
    it_sleep_ms(200);
    int results = 0, r;
    for (;;) {
        r = it_recv(*c, IT_REPLY_TIMEOUT_MS, out);
        if (r != IT_RECV_MSG)
            break;
        if (out->kind == 1 && !out->is_error) {
            results++;
            it_msg_free(out);
            continue;
        }
        break;   /* the first error: expected shutting_down */
    }
    it_note("%d results before the first error (recv %d)", results, r);
    if (r == IT_RECV_MSG && out->kind == 1 && strcmp(out->code, "shutting_down") == 0)
        out->msgid = ROW_MSGID;   /* which msgid is timing; the code is what counts */
    bool ok = it_wait_eof(*c, IT_STOP_TIMEOUT_MS);
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    if (!ok)
        it_note("no EOF after SIGTERM");
    if (st != 0) {
        it_note("baobaod wait status %d after SIGTERM (expected exit 0)", st);
        if (r == IT_RECV_MSG)
            it_msg_free(out);
        return IT_RECV_ERROR;
    }
    return r;
}

/* A write that fails in a way the server cannot foresee: a trigger added
 * behind its back raises a plain exception. */
static int run_internal(it_conn **c, it_msg *out)
{
    if (it_pg_exec("CREATE OR REPLACE FUNCTION itest_boom() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.name = '触发内部错误' THEN RAISE EXCEPTION 'itest boom'; END IF; "
                   "RETURN NEW; END $$", 0, NULL) != 0 ||
        it_pg_exec("CREATE TRIGGER itest_boom BEFORE INSERT ON enterprise "
                   "FOR EACH ROW EXECUTE FUNCTION itest_boom()", 0, NULL) != 0)
        return IT_RECV_ERROR;
    char code[19];
    it_credit_code(13, code);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.create", 3);
    it_kv_str(&b, "name", "触发内部错误");
    it_kv_str(&b, "credit_code", code);
    it_kv_str(&b, "township", "赤壁镇");
    int r = send_buf(*c, &b, out);
    if (it_pg_exec("DROP TRIGGER itest_boom ON enterprise", 0, NULL) != 0)
        it_note("could not drop the trigger");
    return r;
}

/* session.login with msgid ROW_MSGID. */
static int send_login(it_conn *c, const char *login, const char *password, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "session.login", 2);
    it_kv_str(&b, "login", login);
    it_kv_str(&b, "password", password);
    return send_buf(c, &b, out);
}

/* A connection that never logged in asks for an enterprise. */
static int run_unauthenticated(it_conn **c, it_msg *out)
{
    it_close(*c);
    *c = it_connect_anon(it_shared_server()->port);
    if (*c == NULL)
        return IT_RECV_ERROR;
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.get", 1);
    it_kv_int(&b, "id", g_eid);
    return send_buf(*c, &b, out);
}

/* An admin may not write business data. */
static int run_forbidden(it_conn **c, it_msg *out)
{
    it_close(*c);
    *c = it_connect_as(it_shared_server()->port, IT_USER_ADMIN, IT_PASSWORD);
    if (*c == NULL)
        return IT_RECV_ERROR;
    char code[19];
    it_credit_code(14, code);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ROW_MSGID, "enterprise.create", 3);
    it_kv_str(&b, "name", "管理员不能写");
    it_kv_str(&b, "credit_code", code);
    it_kv_str(&b, "township", "赤壁镇");
    return send_buf(*c, &b, out);
}

static int run_login_failed(it_conn **c, it_msg *out)
{
    return send_login(*c, IT_USER_STAFF2, "not-the-password", out);
}

/* An account locked by earlier failures (its throttle row written here). */
static int run_locked(it_conn **c, it_msg *out)
{
    if (it_pg_exec("INSERT INTO login_throttle (subject, failures, last_failure_at, locked_until)"
                   " VALUES ('user:it_locked_errors', 5, now(), now() + interval '1 hour')",
                   0, NULL) != 0)
        return IT_RECV_ERROR;
    return send_login(*c, "it_locked_errors", IT_PASSWORD, out);
}

typedef struct err_case {
    const char *code;
    const char *field;      /* NULL: none expected */
    bool closes;
    bool by_closing;        /* answered by connection.closing, not by msgid */
    int (*run)(it_conn **c, it_msg *out);
    const char *what;
    const char *name;       /* the test's name after the code */
} err_case;

static const err_case cases[] = {
    {"malformed_message", NULL, false, false, run_malformed_envelope, "params is a map", "params_not_an_array"},
    {"malformed_message", NULL, true, true, run_malformed_bytes, "bytes that are not msgpack", "bytes_not_msgpack"},
    {"message_too_large", NULL, true, false, run_message_too_large, "a 2 MiB str declared", "declared_str_over_limit"},
    {"nesting_too_deep", NULL, true, false, run_nesting_too_deep, "34 levels", "deep_arrays"},
    {"too_many_in_flight", NULL, true, false, run_too_many_in_flight,
     "140 requests held in the database", "pipelined_past_limit"},
    {"unknown_method", NULL, false, false, run_unknown_method, "enterprise.frobnicate", "method_not_known"},
    {"invalid_argument", "id", false, false, run_invalid_argument_type, "id as a str", "id_wrong_type"},
    {"invalid_argument", "idd", false, false, run_invalid_argument_unknown_key,
     "an unknown key", "unknown_key"},
    {"invalid_argument", "credit_code", false, false, run_invalid_argument_missing,
     "credit_code missing", "required_missing"},
    {"invalid_utf8", "name_contains", false, false, run_invalid_utf8, "a cut UTF-8 sequence", "cut_sequence"},
    {"not_found", "id", false, false, run_not_found, "no such enterprise", "missing_enterprise"},
    {"version_conflict", "version", false, false, run_version_conflict, "stale version", "stale_version"},
    {"already_exists", "credit_code", false, false, run_already_exists, "same credit code", "duplicate_credit_code"},
    {"idempotency_key_reused", "idempotency_key", false, false, run_idempotency_key_reused,
     "same key, other arguments", "same_key_other_args"},
    {"duplicate_report", "report_date", false, false, run_duplicate_report,
     "the same report twice", "same_report_twice"},
    {"unavailable", NULL, false, false, run_unavailable, "PostgreSQL stopped", "postgres_stopped"},
    {"shutting_down", NULL, true, false, run_shutting_down,
     "requests held under backpressure at SIGTERM", "held_requests_at_sigterm"},
    {"internal", NULL, false, false, run_internal, "a trigger raising an exception", "unforeseen_database_error"},
    {"unauthenticated", NULL, false, false, run_unauthenticated, "enterprise.get before login", "not_logged_in"},
    {"forbidden", NULL, false, false, run_forbidden, "an admin creating an enterprise", "role_not_allowed"},
    {"login_failed", NULL, false, false, run_login_failed, "wrong password", "wrong_password"},
    {"locked", NULL, false, false, run_locked, "an account with a lock in force", "account_locked"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static int run_case(const err_case *k)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    char d[800];
    int64_t t0 = it_now_ms();
    int r = k->run(&c, &m);
    IT_CHECKF(r == IT_RECV_MSG, "%s (%s): no answer (recv %d)", k->code, k->what, r);
    bool ok_kind = k->by_closing
                       ? (m.kind == 2 && strcmp(m.method, "connection.closing") == 0)
                       : (m.kind == 1 && m.msgid == ROW_MSGID && m.is_error);
    bool ok = ok_kind && strcmp(m.code, k->code) == 0 &&
              (k->field == NULL ? m.field[0] == '\0' : strcmp(m.field, k->field) == 0);
    IT_CHECKF(ok, "%s (%s): expected code=%s field=%s%s, got %s", k->code, k->what, k->code,
              k->field ? k->field : "(none)",
              k->by_closing ? " by connection.closing" : " for msgid 77",
              it_describe(&m, d, sizeof d));
    IT_CHECKF(m.message[0] != '\0', "%s: the error has no message", k->code);
    it_msg_free(&m);
    it_note("%-22s %-40s answered in %lld ms", k->code, k->what,
            (long long)(it_now_ms() - t0));
    if (k->closes)
        IT_CHECKF(it_wait_eof(c, 10000), "%s: connection not closed", k->code);
    else
        IT_CHECKF(it_expect_alive(c) == 0, "%s: connection not usable afterwards", k->code);
    return 0;
}

/* One test per row, named for its code and case. */
#define ROW(i)                                                            \
    static int row_##i(void)                                              \
    {                                                                     \
        return run_case(&cases[i]);                                       \
    }
ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7) ROW(8) ROW(9) ROW(10) ROW(11)
ROW(12) ROW(13) ROW(14) ROW(15) ROW(16) ROW(17) ROW(18) ROW(19) ROW(20) ROW(21)
static const it_test_fn row_fns[] = {row_0, row_1, row_2, row_3, row_4, row_5, row_6,
                                     row_7, row_8, row_9, row_10, row_11, row_12, row_13,
                                     row_14, row_15, row_16, row_17, row_18, row_19, row_20,
                                     row_21};
_Static_assert(sizeof row_fns / sizeof row_fns[0] == NCASES, "one ROW() per case");

static int table_covers_every_code_of_bb_errors(void)
{
    for (int e = BB_E_MALFORMED_MESSAGE; e < BB_E__COUNT; e++) {
        const char *code = bb_err_code((bb_err)e);
        bool found = false;
        for (size_t i = 0; i < NCASES; i++)
            if (strcmp(cases[i].code, code) == 0)
                found = true;
        IT_CHECKF(found, "error code %s has no row in this test", code);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static it_test tests[NCASES + 1];
    static char names[NCASES][96];
    tests[0].name = "table_covers_every_code_of_bb_errors";
    tests[0].fn = table_covers_every_code_of_bb_errors;
    for (size_t i = 0; i < NCASES; i++) {
        snprintf(names[i], sizeof names[i], "%s_%s", cases[i].code, cases[i].name);
        tests[i + 1].name = names[i];
        tests[i + 1].fn = row_fns[i];
    }
    return it_main(argc, argv, "errors", tests, NCASES + 1, setup);
}
