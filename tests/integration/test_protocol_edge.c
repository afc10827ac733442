/*
 * test_protocol_edge.c: the edge of baobaod as raw TCP bytes: framing across
 * writes, pipelining and ordering, every limit of PROTOCOL.md section 2
 * (message size, nesting, declared lengths, in-flight requests, write
 * backpressure, idle timeout, connections), bytes that are not msgpack and
 * msgpack that is not an envelope.
 *
 * Not for: method semantics (test_enterprise.c, test_status.c) or the error
 * table as a whole (test_error_codes.c). Raw bytes only: no client library,
 * so nothing is checked or fixed up before the server sees it.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define SHORT_MS 3000        /* a reply that must come "at once" */
#define EOF_MS 5000          /* the server closing after a violation */

static int64_t g_eid;        /* an enterprise that exists */

static int setup(void)
{
    g_eid = it_shared_enterprise(1, "住方科技", "赤壁镇");
    IT_CHECK(g_eid > 0);
    return 0;
}

/* [0, msgid, "enterprise.list", [{"name_contains": "住方", "limit": 5}]] */
static void pack_list(it_buf *b, uint32_t msgid)
{
    it_req(b, msgid, "enterprise.list", 2);
    it_kv_str(b, "name_contains", "住方");
    it_kv_int(b, "limit", 5);
}

/* Reads one response to msgid that is a success; -1 with a note otherwise. */
static int expect_ok(it_conn *c, uint32_t msgid, int timeout_ms)
{
    it_msg m;
    char d[800];
    int r = it_recv(c, timeout_ms, &m);
    if (r != IT_RECV_MSG) {
        it_note("msgid %u: no reply (%d)", msgid, r);
        return -1;
    }
    int rc = 0;
    if (m.kind != 1 || m.msgid != msgid || m.is_error) {
        it_note("msgid %u: got %s", msgid, it_describe(&m, d, sizeof d));
        rc = -1;
    }
    it_msg_free(&m);
    return rc;
}

static int split_request_at_every_byte_is_answered(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* Two requests back to back, so a cut also falls between them and a
     * read may end mid-way through the second one. */
    it_buf b;
    it_buf_init(&b);
    unsigned sends = 0;
    for (uint32_t cut = 1;; cut++) {
        it_buf_reset(&b);
        uint32_t id1 = cut * 2, id2 = cut * 2 + 1;
        pack_list(&b, id1);
        size_t first_len = b.sb.size;
        unsigned char info[32];
        size_t ilen = it_server_info_bytes(id2, info);
        msgpack_sbuffer_write(&b.sb, (const char *)info, ilen);
        if (cut >= b.sb.size)
            break;
        IT_CHECK(it_send(c, b.sb.data, cut) == 0);
        it_sleep_ms(2);
        IT_CHECK(it_send(c, b.sb.data + cut, b.sb.size - cut) == 0);
        sends += 2;
        /* Two answers, in any order. */
        bool seen1 = false, seen2 = false;
        for (int k = 0; k < 2; k++) {
            it_msg m;
            char d[800];
            int r = it_recv(c, IT_REPLY_TIMEOUT_MS, &m);
            IT_CHECKF(r == IT_RECV_MSG, "cut at byte %u (of %zu; first request %zu bytes): "
                      "reply %d missing (recv %d)", cut, b.sb.size, first_len, k, r);
            IT_CHECKF(m.kind == 1 && !m.is_error && (m.msgid == id1 || m.msgid == id2),
                      "cut at byte %u: %s", cut, it_describe(&m, d, sizeof d));
            if (m.msgid == id1)
                seen1 = true;
            else
                seen2 = true;
            it_msg_free(&m);
        }
        IT_CHECKF(seen1 && seen2, "cut at byte %u: both msgids expected", cut);
    }
    /* And one request a byte at a time. */
    it_buf_reset(&b);
    pack_list(&b, 1);
    for (size_t i = 0; i < b.sb.size; i++) {
        IT_CHECK(it_send(c, b.sb.data + i, 1) == 0);
        sends++;
        it_sleep_ms(1);
    }
    IT_CHECK(expect_ok(c, 1, IT_REPLY_TIMEOUT_MS) == 0);
    it_note("%u sends", sends);
    it_buf_free(&b);
    return 0;
}

#define PIPELINE_N 50

static int pipelined_requests_all_answered_by_msgid(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    /* Three kinds: server.info, get of an existing enterprise, get of a
     * missing one (not_found): each reply must match its request. */
    for (uint32_t i = 0; i < PIPELINE_N; i++) {
        uint32_t id = 1000 + i;
        if (i % 3 == 0) {
            it_req(&b, id, "server.info", IT_NO_ARGS);
        } else {
            it_req(&b, id, "enterprise.get", 1);
            it_kv_int(&b, "id", i % 3 == 1 ? g_eid : 999999999);
        }
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    bool seen[PIPELINE_N] = {false};
    unsigned out_of_order = 0;
    uint32_t last = 0;
    for (int k = 0; k < PIPELINE_N; k++) {
        it_msg m;
        char d[800];
        int r = it_recv(c, IT_REPLY_TIMEOUT_MS, &m);
        IT_CHECKF(r == IT_RECV_MSG, "only %d of %d replies (recv %d)", k, PIPELINE_N, r);
        IT_CHECKF(m.kind == 1 && m.msgid >= 1000 && m.msgid < 1000 + PIPELINE_N,
                  "unexpected %s", it_describe(&m, d, sizeof d));
        uint32_t i = m.msgid - 1000;
        IT_CHECKF(!seen[i], "msgid %u answered twice", m.msgid);
        seen[i] = true;
        if (m.msgid < last)
            out_of_order++;
        last = m.msgid;
        int64_t id = 0;
        if (i % 3 == 0)
            IT_CHECKF(!m.is_error && it_get_str_eq(m.result, "name", "baobaod"),
                      "server.info msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
        else if (i % 3 == 1)
            IT_CHECKF(!m.is_error && it_get_int(m.result, "id", &id) && id == g_eid,
                      "get msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
        else
            IT_CHECKF(m.is_error && strcmp(m.code, "not_found") == 0 &&
                          strcmp(m.field, "id") == 0,
                      "get missing msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    it_note("%u replies came after a higher msgid", out_of_order);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

/* A request stuck in the database must not hold up one that needs no
 * database: the server works on pipelined requests concurrently. The table
 * lock makes the slow one deterministic. */
static int fast_request_overtakes_blocked_one(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.get", 1);
    it_kv_int(&b, "id", g_eid);
    unsigned char info[32];
    size_t ilen = it_server_info_bytes(2, info);
    msgpack_sbuffer_write(&b.sb, (const char *)info, ilen);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_msg m;
    char d[800];
    int r = it_recv(c, SHORT_MS, &m);
    IT_CHECKF(r == IT_RECV_MSG, "server.info (msgid 2) not answered while msgid 1 waits "
              "for a locked table (recv %d)", r);
    IT_CHECKF(m.kind == 1 && m.msgid == 2 && !m.is_error, "first reply: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECK(expect_ok(c, 1, IT_REPLY_TIMEOUT_MS) == 0);
    return 0;
}

/* A request of exactly `total` bytes: enterprise.list with a name_contains
 * padded so the whole envelope has that size. */
static void pack_sized(it_buf *b, uint32_t msgid, size_t total)
{
    /* Header without the str: 94 00 ce xxxxxxxx af "enterprise.list" 91 81
     * ad "name_contains" then str header (3 bytes for str16) + body. */
    size_t fixed = 1 + 1 + 5 + 1 + 15 + 1 + 1 + 1 + 13 + 3;
    size_t body = total - fixed;
    char *pad = malloc(body);
    memset(pad, 'a', body);
    msgpack_pack_array(&b->pk, 4);
    msgpack_pack_uint8(&b->pk, 0);
    unsigned char id[5] = {0xce, (unsigned char)(msgid >> 24), (unsigned char)(msgid >> 16),
                           (unsigned char)(msgid >> 8), (unsigned char)msgid};
    msgpack_sbuffer_write(&b->sb, (const char *)id, 5);
    it_str(b, "enterprise.list");
    msgpack_pack_array(&b->pk, 1);
    msgpack_pack_map(&b->pk, 1);
    it_str(b, "name_contains");
    unsigned char h[3] = {0xda, (unsigned char)(body >> 8), (unsigned char)body};
    msgpack_sbuffer_write(&b->sb, (const char *)h, 3);
    msgpack_sbuffer_write(&b->sb, pad, body);
    free(pad);
}

static int message_over_max_message_bytes_refused_by_msgid_then_closed(void)
{
    static const char *const sets[] = {"max_message_bytes=4096", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_buf b;
    it_buf_init(&b);

    /* Exactly at the limit: not refused for size. */
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    pack_sized(&b, 6, 4096);
    IT_CHECK(b.sb.size == 4096);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_msg m;
    char d[800];
    IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(m.kind == 1 && m.msgid == 6 && strcmp(m.code, "message_too_large") != 0,
              "a 4096-byte message with max_message_bytes=4096: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(it_expect_alive(c) == 0);
    it_close(c);

    /* One byte over: refused by msgid, then closed. */
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf_reset(&b);
    pack_sized(&b, 7, 4097);
    IT_CHECK(b.sb.size == 4097);
    (void)it_send(c, b.sb.data, b.sb.size);  /* the server may close before it all arrives */
    IT_CHECK(it_expect_error(c, 7, "message_too_large", NULL, SHORT_MS) == 0);
    IT_CHECKF(it_wait_eof(c, EOF_MS), "connection not closed after message_too_large");
    it_buf_free(&b);

    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* [0, msgid, "enterprise.list", [{"name_contains": k nested arrays}]]: the
 * deepest array is at depth 3 + k. */
static void pack_nested(it_buf *b, uint32_t msgid, unsigned k)
{
    it_req(b, msgid, "enterprise.list", 1);
    it_str(b, "name_contains");
    for (unsigned i = 0; i + 1 < k; i++)
        msgpack_pack_array(&b->pk, 1);
    msgpack_pack_array(&b->pk, 0);
}

static int nesting_at_max_depth_is_not_refused_for_depth(void)
{
    it_server *s = it_shared_server();   /* max_nesting_depth 16 */
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_nested(&b, 8, 13);   /* depth 16 */
    it_msg m;
    char d[800];
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 8, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    /* name_contains is not a str: invalid_argument, not a depth error. */
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "name_contains") == 0,
              "depth 16: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(it_expect_alive(c) == 0);
    it_buf_free(&b);
    return 0;
}

static int nesting_over_max_depth_refused_then_closed(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    pack_nested(&b, 9, 14);   /* depth 17 */
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 9, "nesting_too_deep", NULL, SHORT_MS) == 0);
    IT_CHECKF(it_wait_eof(c, EOF_MS), "connection not closed after nesting_too_deep");
    /* Very deep (thousands of levels) must not crash the server either. */
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf_reset(&b);
    pack_nested(&b, 10, 100000);
    (void)it_send(c, b.sb.data, b.sb.size);
    IT_CHECK(it_expect_error(c, 10, "nesting_too_deep", NULL, SHORT_MS) == 0);
    IT_CHECK(it_wait_eof(c, EOF_MS));
    it_buf_free(&b);
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

/* Sends a few bytes that declare a huge length and nothing more: the server
 * must answer message_too_large for msgid at once (it must not wait for
 * bytes that would never fit), close, and not allocate for the claim. */
static int huge_declared_length(const unsigned char *bytes, size_t n, uint32_t msgid)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_expect_alive(c) == 0);
    long rss0 = it_server_rss_kb(s);
    int64_t t0 = it_now_ms();
    IT_CHECK(it_send(c, bytes, n) == 0);
    IT_CHECK(it_expect_error(c, msgid, "message_too_large", NULL, SHORT_MS) == 0);
    it_note("answered in %lld ms", (long long)(it_now_ms() - t0));
    IT_CHECKF(it_wait_eof(c, EOF_MS), "connection not closed after message_too_large");
    long rss1 = it_server_rss_kb(s);
    it_note("server VmRSS %ld kB before, %ld kB after", rss0, rss1);
    /* Allocating for the claim would be gigabytes; 16 MiB is noise. */
    IT_CHECKF(rss0 > 0 && rss1 > 0 && rss1 - rss0 < 16 * 1024, "VmRSS grew by %ld kB",
              rss1 - rss0);
    IT_CHECK(it_server_alive(s));
    return 0;
}

static int array32_of_4e9_refused_at_once_without_allocating(void)
{
    static const unsigned char b[] = {0x94, 0x00, 0x05, 0xa1, 0x78, 0xdd,
                                      0xff, 0xff, 0xff, 0xff};
    return huge_declared_length(b, sizeof b, 5);
}

static int map32_of_4e9_refused_at_once_without_allocating(void)
{
    /* [0, 6, "x", [ map32 4e9 ... */
    static const unsigned char b[] = {0x94, 0x00, 0x06, 0xa1, 0x78, 0x91,
                                      0xdf, 0xff, 0xff, 0xff, 0xff};
    return huge_declared_length(b, sizeof b, 6);
}

static int str32_of_4e9_refused_at_once_without_allocating(void)
{
    /* [0, 7, "enterprise.list", [{"name_contains": str32 4e9 ... */
    static const unsigned char b[] = {0x94, 0x00, 0x07, 0xaf, 'e', 'n', 't', 'e', 'r', 'p',
                                      'r', 'i', 's', 'e', '.', 'l', 'i', 's', 't', 0x91,
                                      0x81, 0xad, 'n', 'a', 'm', 'e', '_', 'c', 'o', 'n',
                                      't', 'a', 'i', 'n', 's', 0xdb, 0xff, 0xff, 0xff, 0xff};
    return huge_declared_length(b, sizeof b, 7);
}

static int bin32_of_4e9_refused_at_once_without_allocating(void)
{
    /* [0, 8, "x", [{"k": bin32 4e9 ... */
    static const unsigned char b[] = {0x94, 0x00, 0x08, 0xa1, 0x78, 0x91, 0x81, 0xa1,
                                      0x6b, 0xc6, 0xff, 0xff, 0xff, 0xff};
    return huge_declared_length(b, sizeof b, 8);
}

static int method_str32_of_4e9_refused_at_once(void)
{
    /* [0, 9, str32 4e9 ...: the method name itself claims 4 GB. */
    static const unsigned char b[] = {0x94, 0x00, 0x09, 0xdb, 0xff, 0xff, 0xff, 0xff};
    return huge_declared_length(b, sizeof b, 9);
}

static int non_msgpack_bytes_get_closing_notification_then_eof(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    static const unsigned char junk[] = {0xc1, 0xc1, 0x00, 0x01, 'G', 'E', 'T', ' '};
    IT_CHECK(it_send(c, junk, sizeof junk) == 0);
    IT_CHECK(it_expect_closing(c, "malformed_message", SHORT_MS) == 0);
    IT_CHECKF(it_wait_eof(c, EOF_MS), "connection not closed after malformed bytes");
    /* 0xc1 after a valid request's first bytes: msgid already read, so the
     * answer may come by msgid; either way the connection closes. */
    c = it_connect(s->port);
    IT_CHECK(c != NULL);
    static const unsigned char junk2[] = {0x94, 0x00, 0x0b, 0xc1};
    IT_CHECK(it_send(c, junk2, sizeof junk2) == 0);
    it_msg m;
    char d[800];
    IT_CHECK(it_recv(c, SHORT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(strcmp(m.code, "malformed_message") == 0 &&
                  ((m.kind == 1 && m.msgid == 11) ||
                   (m.kind == 2 && strcmp(m.method, "connection.closing") == 0)),
              "after 94 00 0b c1: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECKF(it_wait_eof(c, EOF_MS), "connection not closed after 0xc1");
    return 0;
}

/* Valid msgpack that is not a valid envelope: answered malformed_message
 * by msgid when it can be read (the connection stays usable), else by
 * connection.closing (and then the connection is closed). */
typedef struct envelope_case {
    const char *what;
    unsigned char bytes[40];
    size_t len;
    int64_t msgid;          /* -1: answered by connection.closing; -2: either way */
} envelope_case;

static const envelope_case envelope_cases[] = {
    {"a map, not an array", {0x81, 0xa1, 'a', 0x01}, 4, -1},
    {"a bare integer", {0x05}, 1, -1},
    {"an empty array", {0x90}, 1, -1},
    {"array of 3 with type 0", {0x93, 0x00, 0x0a, 0xa1, 'x'}, 5, 10},
    {"array of 5", {0x95, 0x00, 0x0b, 0xa1, 'x', 0x90, 0xc0}, 7, 11},
    {"method not a str", {0x94, 0x00, 0x0c, 0x2a, 0x90}, 5, 12},
    {"method as bin", {0x94, 0x00, 0x0d, 0xc4, 0x0b, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i',
                       'n', 'f', 'o', 0x90}, 17, 13},
    {"params a map", {0x94, 0x00, 0x0e, 0xab, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i', 'n',
                      'f', 'o', 0x80}, 16, 14},
    {"params [1]", {0x94, 0x00, 0x0f, 0xab, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i', 'n', 'f',
                    'o', 0x91, 0x01}, 17, 15},
    {"params [{}, {}]", {0x94, 0x00, 0x10, 0xab, 's', 'e', 'r', 'v', 'e', 'r', '.', 'i', 'n',
                         'f', 'o', 0x92, 0x80, 0x80}, 18, 16},
    {"map key not a str", {0x94, 0x00, 0x11, 0xae, 'e', 'n', 't', 'e', 'r', 'p', 'r', 'i', 's',
                           'e', '.', 'g', 'e', 't', 0x91, 0x81, 0x01, 0x07}, 22, 17},
    {"msgid negative", {0x94, 0x00, 0xff, 0xa1, 'x', 0x90}, 6, -1},
    {"msgid 2^32", {0x94, 0x00, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0xa1, 'x', 0x90}, 14, -1},
    {"msgid a str", {0x94, 0x00, 0xa1, '1', 0xa1, 'x', 0x90}, 7, -1},
    {"type 3", {0x94, 0x03, 0x12, 0xa1, 'x', 0x90}, 6, -2},
};

static int valid_msgpack_not_an_envelope_answered_and_conn_kept(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    int bad = 0;
    for (size_t i = 0; i < sizeof envelope_cases / sizeof envelope_cases[0]; i++) {
        const envelope_case *k = &envelope_cases[i];
        it_conn *c = it_connect(s->port);
        IT_CHECK(c != NULL);
        IT_CHECK(it_send(c, k->bytes, k->len) == 0);
        it_msg m;
        char d[800];
        int r = it_recv(c, SHORT_MS, &m);
        if (r != IT_RECV_MSG) {
            it_note("%s: no answer (recv %d)", k->what, r);
            bad++;
            it_close(c);
            continue;
        }
        bool by_closing = m.kind == 2 && strcmp(m.method, "connection.closing") == 0;
        bool ok = strcmp(m.code, "malformed_message") == 0 &&
                  (k->msgid >= 0 ? (m.kind == 1 && m.msgid == (uint32_t)k->msgid)
                                 : k->msgid == -1 ? by_closing : (by_closing || m.kind == 1));
        if (!ok) {
            it_note("%s: expected malformed_message %s%lld, got %s", k->what,
                    k->msgid >= 0 ? "for msgid " : "by connection.closing ",
                    (long long)(k->msgid >= 0 ? k->msgid : 0), it_describe(&m, d, sizeof d));
            bad++;
        }
        it_msg_free(&m);
        /* Answered by msgid: the stream is in step and stays usable. By
         * connection.closing: the server closes, as the notice says. */
        if (!by_closing && it_expect_alive(c) != 0) {
            it_note("%s: the connection is not usable afterwards", k->what);
            bad++;
        }
        if (by_closing && !it_wait_eof(c, SHORT_MS)) {
            it_note("%s: connection.closing sent but the connection stayed open", k->what);
            bad++;
        }
        it_close(c);
    }
    IT_CHECKF(bad == 0, "%d envelope case(s) wrong (see notes)", bad);
    return 0;
}

static int notification_from_client_is_ignored(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* [2, "hello", []] */
    static const unsigned char n[] = {0x93, 0x02, 0xa5, 'h', 'e', 'l', 'l', 'o', 0x90};
    IT_CHECK(it_send(c, n, sizeof n) == 0);
    unsigned char info[32];
    size_t ilen = it_server_info_bytes(3, info);
    IT_CHECK(it_send(c, info, ilen) == 0);
    IT_CHECK(expect_ok(c, 3, IT_REPLY_TIMEOUT_MS) == 0);
    return 0;
}

static int unknown_method_answered_and_conn_stays_open(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 21, "enterprise.delete", 1);
    it_kv_int(&b, "id", g_eid);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, 21, "unknown_method", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_expect_alive(c) == 0);
    it_buf_free(&b);
    return 0;
}

static int too_many_in_flight_refused_then_closed(void)
{
    static const char *const sets[] = {"max_in_flight=4", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* Hold the requests in the database so they stay in flight. */
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    for (uint32_t id = 1; id <= 10; id++) {
        it_req(&b, id, "enterprise.get", 1);
        it_kv_int(&b, "id", g_eid);
    }
    (void)it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    uint32_t refused = 0;
    int answered = 0;
    it_msg m;
    char d[800];
    int64_t deadline = it_now_ms() + 10000;
    while (refused == 0 && it_now_ms() < deadline) {
        int r = it_recv(c, 500, &m);
        if (r == IT_RECV_TIMEOUT)
            continue;
        IT_CHECKF(r == IT_RECV_MSG, "connection ended (recv %d) before too_many_in_flight", r);
        if (m.kind == 1 && strcmp(m.code, "too_many_in_flight") == 0)
            refused = m.msgid;
        else
            it_note("before the refusal: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECKF(refused >= 5, "too_many_in_flight for msgid %u (expected one of 5..10 with "
              "max_in_flight=4 and 1..4 held in the database)", refused);
    for (;;) {
        int r = it_recv(c, EOF_MS, &m);
        if (r == IT_RECV_EOF)
            break;
        IT_CHECKF(r == IT_RECV_MSG, "no EOF after too_many_in_flight (recv %d)", r);
        it_note("after the refusal: %s", it_describe(&m, d, sizeof d));
        answered++;
        it_msg_free(&m);
    }
    it_note("refused msgid %u; %d more messages before EOF", refused, answered);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

#define FLOOD_REQUESTS 300000
#define FLOOD_BLOCK 1000
/* With write_high_water 64 KiB the server may hold that much of unread
 * responses, plus the responses to one read's worth of requests (a 64 KiB
 * read is ~3000 server.info requests, ~0.7 MB of responses), plus allocator
 * noise. Buffering everything instead would be the responses to all 300000
 * requests: ~60 MB natively (measured: 41 MB for 200000), more under ASan.
 * Under ASan the allocator's quarantine keeps freed memory resident (up to
 * 256 MB), which says nothing about buffering, so this server runs with the
 * quarantine off. */
#define FLOOD_RSS_BOUND_KB (24 * 1024)

static int client_that_stops_reading_does_not_grow_server_memory(void)
{
    static const char *const sets[] = {"write_high_water=65536", "write_low_water=16384",
                                       NULL};
    static char asan[1024];
    const char *cur = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=0:"
             "thread_local_quarantine_size_kb=0", cur ? cur : "", cur && *cur ? ":" : "");
    const char *const env[] = {asan, NULL};
    it_server *s = it_server_start_env(sets, env);
    IT_CHECK(s != NULL);
    it_conn *a = it_connect(s->port);
    it_conn *other = it_connect(s->port);
    IT_CHECK(a != NULL && other != NULL);
    IT_CHECK(it_expect_alive(a) == 0);
    IT_CHECK(it_expect_alive(other) == 0);
    long rss0 = it_server_rss_kb(s);

    unsigned char one[32];
    size_t rl = it_server_info_bytes(0, one);
    unsigned char *block = malloc(rl * FLOOD_BLOCK);
    IT_CHECK(block != NULL);
    size_t sent_bytes = 0, total_bytes = rl * (size_t)FLOOD_REQUESTS;
    int64_t stalled_since = 0, t0 = it_now_ms();
    while (sent_bytes < total_bytes && it_now_ms() - t0 < 20000) {
        /* Requests numbered 1..N by position. */
        size_t first = sent_bytes / rl;
        size_t off = sent_bytes % rl;
        size_t n = 0;
        for (size_t i = 0; i < FLOOD_BLOCK && first + i < FLOOD_REQUESTS; i++)
            n += it_server_info_bytes((uint32_t)(first + i + 1), block + n);
        ssize_t w = it_send_some(a, block + off, n - off, 100);
        IT_CHECKF(w >= 0, "the server closed the flooding connection after %zu requests",
                  sent_bytes / rl);
        sent_bytes += (size_t)w;
        if (w == 0) {
            if (stalled_since == 0)
                stalled_since = it_now_ms();
            else if (it_now_ms() - stalled_since > 2000)
                break;   /* the server stopped reading us: backpressure */
        } else {
            stalled_since = 0;
        }
    }
    it_sleep_ms(500);
    long rss1 = it_server_rss_kb(s);
    size_t complete = sent_bytes / rl;
    it_note("sent %zu requests (%zu bytes) without reading; VmRSS %ld -> %ld kB", complete,
            sent_bytes, rss0, rss1);
    IT_CHECKF(rss1 - rss0 < FLOOD_RSS_BOUND_KB, "server VmRSS grew by %ld kB (bound %d kB)",
              rss1 - rss0, FLOOD_RSS_BOUND_KB);
    /* Others are still served meanwhile. */
    int64_t t1 = it_now_ms();
    IT_CHECK(it_expect_alive(other) == 0);
    IT_CHECKF(it_now_ms() - t1 < SHORT_MS, "another client waited %lld ms",
              (long long)(it_now_ms() - t1));

    /* Nothing is lost: read every response (finishing a half-sent request
     * as the server reads again). */
    size_t got = 0;
    uint32_t expect_next = 1;
    unsigned reordered = 0;
    while (got < (sent_bytes + rl - 1) / rl) {
        if (sent_bytes % rl != 0) {
            size_t off = sent_bytes % rl;
            unsigned char tail[32];
            it_server_info_bytes((uint32_t)(sent_bytes / rl + 1), tail);
            ssize_t w = it_send_some(a, tail + off, rl - off, 0);
            if (w > 0)
                sent_bytes += (size_t)w;
        }
        it_msg m;
        int r = it_recv(a, IT_REPLY_TIMEOUT_MS, &m);
        IT_CHECKF(r == IT_RECV_MSG, "after %zu of %zu responses: recv %d", got,
                  (sent_bytes + rl - 1) / rl, r);
        IT_CHECKF(m.kind == 1 && !m.is_error, "response %zu is an error %s", got, m.code);
        if (m.msgid != expect_next)
            reordered++;
        expect_next = m.msgid + 1;
        got++;
        it_msg_free(&m);
    }
    free(block);
    it_note("read all %zu responses (%u out of sequence)", got, reordered);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

static int idle_connection_closed_after_idle_timeout(void)
{
    static const char *const sets[] = {"idle_timeout_ms=500", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t t0 = it_now_ms();
    it_msg m;
    int r = it_recv(c, 10000, &m);
    int64_t dt = it_now_ms() - t0;
    if (r == IT_RECV_MSG) {
        char d[800];
        IT_CHECKF(false, "expected a silent close, got %s", it_describe(&m, d, sizeof d));
    }
    IT_CHECKF(r == IT_RECV_EOF, "idle connection not closed within 10 s (recv %d)", r);
    it_note("closed after %lld ms", (long long)dt);
    IT_CHECKF(dt >= 400, "closed after %lld ms, before idle_timeout_ms=500", (long long)dt);
    IT_CHECKF(dt <= 5000, "closed only after %lld ms", (long long)dt);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int active_or_waiting_connection_not_closed_by_idle_timeout(void)
{
    static const char *const sets[] = {"idle_timeout_ms=500", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    /* One that keeps talking. */
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    for (int i = 0; i < 8; i++) {
        IT_CHECKF(it_expect_alive(c) == 0, "closed although it talked every 200 ms (%d)", i);
        it_sleep_ms(200);
    }
    /* One whose request waits (in flight) longer than the timeout. */
    it_conn *w = it_connect(s->port);
    IT_CHECK(w != NULL);
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "enterprise.get", 1);
    it_kv_int(&b, "id", g_eid);
    IT_CHECK(it_send(w, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_msg m;
    int r = it_recv(w, 1500, &m);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECKF(r == IT_RECV_TIMEOUT, "a connection with a request in flight: recv %d "
              "(closed or answered while the table was locked)", r);
    IT_CHECK(expect_ok(w, 1, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int connection_over_max_connections_gets_closing_unavailable(void)
{
    static const char *const sets[] = {"max_connections=2", NULL};
    /* Connections that never log in: a refused connection could not, and
     * the count must not depend on the database. */
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    /* The harness's own start-up probe may still count for a moment. */
    it_conn *a = NULL, *b = NULL;
    for (int64_t t0 = it_now_ms(); it_now_ms() - t0 < 5000; it_sleep_ms(100)) {
        it_close(a);
        it_close(b);
        a = it_connect_anon(s->port);
        b = it_connect_anon(s->port);
        IT_CHECK(a != NULL && b != NULL);
        if (it_expect_alive(a) == 0 && it_expect_alive(b) == 0)
            break;
    }
    IT_CHECK(it_expect_alive(a) == 0);
    IT_CHECK(it_expect_alive(b) == 0);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_expect_closing(c, "unavailable", SHORT_MS) == 0);
    IT_CHECKF(it_wait_eof(c, EOF_MS), "the third connection was not closed");
    IT_CHECK(it_expect_alive(a) == 0);
    /* A refused client that has already sent a request still gets the
     * notice, and a clean close rather than a reset that could destroy
     * it: the server reads and drops what was sent before closing. */
    for (int i = 0; i < 20; i++) {
        it_conn *r = it_connect_anon(s->port);
        IT_CHECK(r != NULL);
        unsigned char req[32];
        size_t n = it_server_info_bytes(7, req);
        IT_CHECK(it_send(r, req, n) == 0);
        it_sleep_ms(20); /* let the request arrive before the notice is written */
        IT_CHECKF(it_expect_closing(r, "unavailable", SHORT_MS) == 0,
                  "refused connection %d lost its notice", i);
        IT_CHECKF(it_wait_eof(r, EOF_MS) && !r->reset,
                  "refused connection %d ended with a reset", i);
        it_close(r);
    }
    /* A slot freed is usable again. */
    it_close(b);
    it_sleep_ms(300);
    it_conn *d = it_connect_anon(s->port);
    IT_CHECK(d != NULL);
    IT_CHECK(it_expect_alive(d) == 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static const it_test tests[] = {
    {"split_request_at_every_byte_is_answered", split_request_at_every_byte_is_answered},
    {"pipelined_requests_all_answered_by_msgid", pipelined_requests_all_answered_by_msgid},
    {"fast_request_overtakes_blocked_one", fast_request_overtakes_blocked_one},
    {"message_over_max_message_bytes_refused_by_msgid_then_closed",
     message_over_max_message_bytes_refused_by_msgid_then_closed},
    {"nesting_at_max_depth_is_not_refused_for_depth",
     nesting_at_max_depth_is_not_refused_for_depth},
    {"nesting_over_max_depth_refused_then_closed", nesting_over_max_depth_refused_then_closed},
    {"array32_of_4e9_refused_at_once_without_allocating",
     array32_of_4e9_refused_at_once_without_allocating},
    {"map32_of_4e9_refused_at_once_without_allocating",
     map32_of_4e9_refused_at_once_without_allocating},
    {"str32_of_4e9_refused_at_once_without_allocating",
     str32_of_4e9_refused_at_once_without_allocating},
    {"bin32_of_4e9_refused_at_once_without_allocating",
     bin32_of_4e9_refused_at_once_without_allocating},
    {"method_str32_of_4e9_refused_at_once", method_str32_of_4e9_refused_at_once},
    {"non_msgpack_bytes_get_closing_notification_then_eof",
     non_msgpack_bytes_get_closing_notification_then_eof},
    {"valid_msgpack_not_an_envelope_answered_and_conn_kept",
     valid_msgpack_not_an_envelope_answered_and_conn_kept},
    {"notification_from_client_is_ignored", notification_from_client_is_ignored},
    {"unknown_method_answered_and_conn_stays_open", unknown_method_answered_and_conn_stays_open},
    {"too_many_in_flight_refused_then_closed", too_many_in_flight_refused_then_closed},
    {"client_that_stops_reading_does_not_grow_server_memory",
     client_that_stops_reading_does_not_grow_server_memory},
    {"idle_connection_closed_after_idle_timeout", idle_connection_closed_after_idle_timeout},
    {"active_or_waiting_connection_not_closed_by_idle_timeout",
     active_or_waiting_connection_not_closed_by_idle_timeout},
    {"connection_over_max_connections_gets_closing_unavailable",
     connection_over_max_connections_gets_closing_unavailable},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "edge", tests, sizeof tests / sizeof tests[0], setup);
}
