/*
 * test_proxy.c: the PROXY protocol (proto/PROTOCOL.md section 1, "Behind
 * a balancer") against a real baobaod: this test is the balancer, a raw
 * TCP client on 127.0.0.1 (trusted with proxy_trusted=127.0.0.1) writing
 * v1 and v2 headers that claim other client addresses.
 *
 * Pins down: failed logins from two claimed addresses lock out only the
 * one that failed too often (its login_throttle row is the claimed
 * address's, none is the balancer's); login_event and the audit trail
 * record the claimed address; the log shows peer and via; v2 LOCAL keeps
 * the real peer; a trusted peer that sends no header, a malformed header,
 * an oversized v2 header or half a header (deadline) is closed and logged;
 * an untrusted peer sending a header is told so and closed, while its
 * ordinary clients work; a header before a TLS handshake; a bad
 * proxy_trusted stops the start (exit 2). Not for: the parser's corner
 * cases (tests/unit/test_proxy.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "harness.h"

/* Half a header is closed at this deadline (tls_handshake_timeout_ms);
 * how long the test waits for that close (not a speed check). */
#define HDR_TIMEOUT_MS 500
#define CLOSE_GUARD_MS 20000

static char g_dir[256];
static char g_crt[320], g_key[320], g_set_cert[340], g_set_key[340];
static uint32_t g_msgid = 100;

static bool log_wait(it_server *s, const char *needle, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    while (!it_server_log_has(s, needle)) {
        if (it_now_ms() >= deadline)
            return false;
        it_sleep_ms(20);
    }
    return true;
}

static int send_str(it_conn *c, const char *s) { return it_send(c, s, strlen(s)); }

static const uint8_t v2_local[16] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51,
                                     0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};

/* it_server_start for a server that trusts 127.0.0.1: the harness's own
 * readiness probe sends no header (it would be closed), so the probe here
 * is a balancer's health check, v2 LOCAL, then server.info until the
 * database is available. */
static it_server *start_trusting(const char *const *sets)
{
    it_server *s = it_server_start_nowait(sets);
    if (s == NULL)
        return NULL;
    int64_t deadline = it_now_ms() + IT_START_TIMEOUT_MS;
    while (it_now_ms() < deadline) {
        it_conn *c = it_connect_anon(s->port);
        bool up = false;
        if (c != NULL && it_send(c, v2_local, sizeof v2_local) == 0) {
            unsigned char info[32];
            size_t n = it_server_info_bytes(9, info);
            it_msg m;
            if (it_call(c, info, n, 9, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG) {
                const msgpack_object *a = it_map_get(m.result, "database_available");
                up = a != NULL && a->type == MSGPACK_OBJECT_BOOLEAN && a->via.boolean;
                it_msg_free(&m);
            }
        }
        if (c != NULL)
            it_close(c);
        if (up)
            return s;
        it_sleep_ms(50);
    }
    it_note("baobaod on port %d: never ready behind the PROXY header", s->port);
    return NULL;
}

/* A v2 PROXY header (TCP over IPv4) claiming a.b.c.d:port. */
static size_t v2_inet(uint8_t out[28], const uint8_t src[4], unsigned port)
{
    static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                    0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    memcpy(out, sig, 12);
    out[12] = 0x21; /* version 2, PROXY */
    out[13] = 0x11; /* AF_INET, STREAM */
    out[14] = 0;
    out[15] = 12;
    memcpy(out + 16, src, 4);
    const uint8_t dst[4] = {127, 0, 0, 1};
    memcpy(out + 20, dst, 4);
    out[24] = (uint8_t)(port >> 8);
    out[25] = (uint8_t)port;
    out[26] = 0x1C;
    out[27] = 0xFC;
    return 28;
}

static int login_expect(it_conn *c, const char *login, const char *password, const char *code)
{
    it_msg m;
    char d[800];
    IT_CHECK(it_login(c, login, password, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    if (code == NULL)
        IT_CHECKF(!m.is_error, "login %s: %s", login, it_describe(&m, d, sizeof d));
    else
        IT_CHECKF(m.is_error && strcmp(m.code, code) == 0, "login %s: expected %s, got %s",
                  login, code, it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

/* login_event rows of logins LIKE login_like from addresses LIKE addr. */
static long long events_from(const char *login_like, const char *addr)
{
    const char *p[2] = {login_like, addr};
    return it_pg_int("SELECT count(*) FROM login_event WHERE login LIKE $1 AND addr LIKE $2", 2,
                     p);
}

static const char *const trusted_sets[] = {"proxy_trusted=127.0.0.1", "login_max_failures=2",
                                           "login_lock_ms=60000", "login_delay_ms=1", NULL};

/* Eight failures (4 x login_max_failures, each for another login, so no
 * account locks) claimed from 203.0.113.7 by v1 lock that address; a
 * client claimed by v2 from 198.51.100.9 through the same balancer logs
 * in, and its write is audited with its address. */
static int lockout_and_audit_follow_the_claimed_address(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    it_server *s = start_trusting(trusted_sets);
    IT_CHECK(s != NULL);
    it_conn *a = it_connect_anon(s->port);
    IT_CHECK(a != NULL);
    IT_CHECK(send_str(a, "PROXY TCP4 203.0.113.7 127.0.0.1 40001 7420\r\n") == 0);
    for (int i = 0; i < 8; i++) {
        char login[32];
        snprintf(login, sizeof login, "px_guess_%d", i);
        IT_CHECK(login_expect(a, login, "wrong", "login_failed") == 0);
    }
    IT_CHECK(login_expect(a, IT_USER_SUPER, IT_PASSWORD, "locked") == 0);

    it_conn *b = it_connect_anon(s->port);
    IT_CHECK(b != NULL);
    uint8_t hdr[28];
    size_t n = v2_inet(hdr, (const uint8_t[]){198, 51, 100, 9}, 50123);
    IT_CHECK(it_send(b, hdr, n) == 0);
    IT_CHECK(login_expect(b, IT_USER_SUPER, IT_PASSWORD, NULL) == 0);

    /* the lock is the claimed address's; the balancer's is never counted */
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_throttle WHERE subject = "
                       "'addr:203.0.113.7' AND locked_until > now()", 0, NULL) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_throttle WHERE subject = "
                       "'addr:127.0.0.1'", 0, NULL) == 0);
    IT_CHECK(events_from("px_guess_%", "203.0.113.7") == 8);
    IT_CHECK(events_from(IT_USER_SUPER, "198.51.100.9") == 1);
    IT_CHECK(events_from("%", "127.0.0.1") == 0);

    char code[19];
    it_credit_code(7001, code);
    int64_t id = it_create_enterprise(b, "代理测试企业", code, "赵李桥镇");
    IT_CHECK(id > 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[1] = {ids};
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity_id = $1::bigint"
                       " AND addr = '198.51.100.9:50123'", 1, p) == 1);
    /* the log names both: the client and the balancer it came through */
    IT_CHECK(log_wait(s, "peer=198.51.100.9:50123 via=127.0.0.1:", 5000));
    IT_CHECK(log_wait(s, "peer=203.0.113.7:40001 via=127.0.0.1:", 5000));
    it_close(a);
    it_close(b);
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* v2 LOCAL (a balancer's health check) and v1 UNKNOWN: the connection is
 * the balancer's own, so the real peer is used. */
static int local_and_unknown_keep_the_real_peer(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    it_server *s = start_trusting(trusted_sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_send(c, v2_local, sizeof v2_local) == 0);
    IT_CHECK(login_expect(c, "px_local", "wrong", "login_failed") == 0);
    it_conn *u = it_connect_anon(s->port);
    IT_CHECK(u != NULL);
    IT_CHECK(send_str(u, "PROXY UNKNOWN\r\n") == 0);
    IT_CHECK(login_expect(u, "px_unknown", "wrong", "login_failed") == 0);
    IT_CHECK(events_from("px_local", "127.0.0.1") == 1);
    IT_CHECK(events_from("px_unknown", "127.0.0.1") == 1);
    it_close(c);
    it_close(u);
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* A trusted peer must begin with a header: a client talking msgpack
 * straight away, a malformed line, a v2 header declaring more than 536
 * bytes, or half a header left hanging are all closed, and logged. */
static int trusted_peer_without_a_good_header_is_closed(void)
{
    char hs[64];
    snprintf(hs, sizeof hs, "tls_handshake_timeout_ms=%d", HDR_TIMEOUT_MS);
    const char *sets[] = {"proxy_trusted=127.0.0.0/8", hs, NULL};
    it_server *s = start_trusting(sets);
    IT_CHECK(s != NULL);

    it_conn *direct = it_connect_anon(s->port);
    IT_CHECK(direct != NULL);
    unsigned char info[32];
    size_t n = it_server_info_bytes(7, info);
    IT_CHECK(it_send(direct, info, n) == 0);
    IT_CHECK(it_wait_eof(direct, CLOSE_GUARD_MS)); /* no answer: closed */
    IT_CHECK(log_wait(s, "reason=proxy_header_bad", 5000));
    IT_CHECK(it_server_log_has(s, "event=proxy_header_bad"));

    it_conn *bad = it_connect_anon(s->port);
    IT_CHECK(bad != NULL);
    IT_CHECK(send_str(bad, "PROXY TCP4 203.0.113.07 127.0.0.1 1 2\r\n") == 0);
    IT_CHECK(it_wait_eof(bad, CLOSE_GUARD_MS));

    it_conn *big = it_connect_anon(s->port);
    IT_CHECK(big != NULL);
    uint8_t hdr[28];
    (void)v2_inet(hdr, (const uint8_t[]){10, 1, 2, 3}, 1);
    hdr[14] = 0x02; /* 16 + 524 bytes: over 536 */
    hdr[15] = 0x0C;
    IT_CHECK(it_send(big, hdr, 16) == 0);
    IT_CHECK(it_wait_eof(big, CLOSE_GUARD_MS));
    IT_CHECK(log_wait(s, "longer than 536 bytes", 5000));

    it_conn *half = it_connect_anon(s->port);
    IT_CHECK(half != NULL);
    IT_CHECK(send_str(half, "PROXY TCP4 203.0.") == 0);
    IT_CHECK(it_wait_eof(half, CLOSE_GUARD_MS));
    IT_CHECK(log_wait(s, "event=proxy_header_timeout", 5000));

    /* a good header still works on the same server */
    it_conn *good = it_connect_anon(s->port);
    IT_CHECK(good != NULL);
    /* the header and a request in one write: the request is not lost */
    static const char line[] = "PROXY TCP6 2001:db8::7 ::1 5555 7420\r\n";
    unsigned char both[sizeof line + 32];
    memcpy(both, line, sizeof line - 1);
    size_t ni = it_server_info_bytes(8, both + sizeof line - 1);
    it_msg m;
    IT_CHECK(it_call(good, both, sizeof line - 1 + ni, 8, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    IT_CHECK(it_expect_alive(good) == 0);
    IT_CHECK(log_wait(s, "peer=[2001:db8::7]:5555 via=127.0.0.1:", 5000));
    it_close(direct);
    it_close(bad);
    it_close(big);
    it_close(half);
    it_close(good);
    return 0;
}

/* Only proxy_trusted may send a header: from anyone else it is refused
 * (told in plaintext, logged), and that peer's ordinary clients work. */
static int untrusted_peer_sending_a_header_is_closed(void)
{
    const char *sets[] = {"proxy_trusted=10.9.9.9,192.0.2.0/24", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(send_str(c, "PROXY TCP4 203.0.113.7 127.0.0.1 40001 7420\r\n") == 0);
    IT_CHECK(it_expect_closing(c, "malformed_message", IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_wait_eof(c, CLOSE_GUARD_MS));
    IT_CHECK(log_wait(s, "event=proxy_header_untrusted", 5000));

    it_conn *v2c = it_connect_anon(s->port);
    IT_CHECK(v2c != NULL);
    uint8_t hdr[28];
    size_t n = v2_inet(hdr, (const uint8_t[]){203, 0, 113, 8}, 1);
    IT_CHECK(it_send(v2c, hdr, n) == 0);
    IT_CHECK(it_expect_closing(v2c, "malformed_message", IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_wait_eof(v2c, CLOSE_GUARD_MS));

    it_conn *plain = it_connect(s->port); /* logs in: an ordinary client */
    IT_CHECK(plain != NULL);
    IT_CHECK(it_expect_alive(plain) == 0);
    it_close(c);
    it_close(v2c);
    it_close(plain);
    return 0;
}

/* ---- TLS: the header comes before the handshake ---- */

static int run_quiet(const char *const *argv)
{
    it_cli r;
    if (it_run(&r, argv, 60000) != 0)
        return -1;
    int st = r.status;
    if (st != 0)
        it_note("%s: %s", argv[0], r.err ? r.err : "");
    it_cli_free(&r);
    return st == 0 ? 0 : -1;
}

static void remove_dir(void)
{
    if (g_dir[0] == '\0')
        return;
    unlink(g_crt);
    unlink(g_key);
    rmdir(g_dir);
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/bbproxy-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        g_dir[0] = '\0';
        return -1;
    }
    atexit(remove_dir);
    snprintf(g_crt, sizeof g_crt, "%s/server.crt", g_dir);
    snprintf(g_key, sizeof g_key, "%s/server.key", g_dir);
    snprintf(g_set_cert, sizeof g_set_cert, "tls_cert=%s", g_crt);
    snprintf(g_set_key, sizeof g_set_key, "tls_key=%s", g_key);
    const char *gen[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                         "-out", g_key, NULL};
    const char *crt[] = {"openssl", "req", "-x509", "-new", "-key", g_key, "-subj",
                         "/CN=127.0.0.1", "-days", "2", "-out", g_crt,
                         "-addext", "subjectAltName=IP:127.0.0.1", NULL};
    return run_quiet(gen) == 0 && run_quiet(crt) == 0 ? 0 : -1;
}

/* Reads one msgpack message from ssl into u (the whole reply of a login is
 * small); 0 or -1. */
static int ssl_recv(SSL *ssl, msgpack_unpacked *u)
{
    char buf[8192];
    size_t len = 0;
    for (;;) {
        size_t off = 0;
        if (len > 0 && msgpack_unpack_next(u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS)
            return 0;
        if (len == sizeof buf)
            return -1;
        int r = SSL_read(ssl, buf + len, (int)(sizeof buf - len));
        if (r <= 0) {
            it_note("SSL_read: %d %s", SSL_get_error(ssl, r),
                    ERR_error_string(ERR_get_error(), NULL));
            return -1;
        }
        len += (size_t)r;
    }
}

/* One TLS connection through the "balancer": the header, then the
 * handshake on the same socket, then a failed login. True when a reply
 * came. */
static bool tls_login_once(int port)
{
    it_conn *c = it_connect_anon(port);
    if (c == NULL)
        return false;
    /* the header and the ClientHello may arrive in one read: the server
     * must hand what follows the header to TLS */
    static const char hdr[] = "PROXY TCP4 192.0.2.44 127.0.0.1 40404 7420\r\n";
    /* MSG_MORE: the kernel holds the header until the ClientHello joins it
     * in one segment, so the server reads both at once */
    bool ok = send(c->fd, hdr, sizeof hdr - 1, MSG_MORE) == (ssize_t)(sizeof hdr - 1);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
    /* the harness's sockets are non-blocking; OpenSSL here reads
     * blocking, with a guard so a silent server fails the test */
    int fl = fcntl(c->fd, F_GETFL);
    struct timeval tv = {.tv_sec = IT_REPLY_TIMEOUT_MS / 1000};
    ok = ok && ssl != NULL && fl >= 0 && fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) == 0 &&
         setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
    if (ok) {
        /* verification is test_tls's; here the point is the byte order */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        SSL_set_fd(ssl, c->fd);
        int hs = SSL_connect(ssl);
        if (hs != 1) {
            it_note("SSL_connect: %d", SSL_get_error(ssl, hs));
            ok = false;
        }
    }
    if (ok) {
        it_buf b;
        it_buf_init(&b);
        it_req(&b, g_msgid++, "session.login", 2);
        it_kv_str(&b, "login", "px_tls");
        it_kv_str(&b, "password", "wrong");
        ok = SSL_write(ssl, b.sb.data, (int)b.sb.size) == (int)b.sb.size;
        it_buf_free(&b);
    }
    if (ok) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        ok = ssl_recv(ssl, &u) == 0 && u.data.type == MSGPACK_OBJECT_ARRAY &&
             u.data.via.array.size == 4;
        msgpack_unpacked_destroy(&u);
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    it_close(c);
    return ok;
}

static int header_before_tls_handshake(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    const char *sets[] = {"proxy_trusted=127.0.0.1", g_set_cert, g_set_key,
                          "login_delay_ms=1", NULL};
    /* the harness's probe is plaintext without a header: not usable here.
     * Until the pool is up a login is answered unavailable and not
     * recorded, so the login is tried until one is recorded. */
    it_server *s = it_server_start_nowait(sets);
    IT_CHECK(s != NULL);
    int64_t deadline = it_now_ms() + IT_START_TIMEOUT_MS;
    bool recorded = false;
    while (!recorded && it_now_ms() < deadline) {
        IT_CHECK(tls_login_once(s->port));
        recorded = events_from("px_tls", "%") >= 1;
        if (!recorded)
            it_sleep_ms(100);
    }
    IT_CHECK(recorded);
    IT_CHECK(events_from("px_tls", "192.0.2.44") >= 1);
    IT_CHECK(events_from("px_tls", "127.0.0.1") == 0);
    IT_CHECK(log_wait(s, "peer=192.0.2.44:40404 via=127.0.0.1:", 5000));
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* A proxy_trusted that does not parse stops baobaod before it serves. */
static int bad_proxy_trusted_exits_2(void)
{
    const char *bin = getenv("BAOBAOD");
    IT_CHECK(bin != NULL);
    static const char *const bad[] = {"proxy_trusted=10.0.0.0/33",
                                      "proxy_trusted=192.168.1.5/24",
                                      "proxy_trusted=balancer.example", NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        const char *argv[] = {bin, "--port", "0", "--db", it_db_conninfo(), "--set", bad[i],
                              NULL};
        it_cli r;
        IT_CHECK(it_run(&r, argv, 30000) == 0);
        int st = r.status;
        bool named = r.err != NULL && strstr(r.err, "proxy_trusted") != NULL;
        it_cli_free(&r);
        IT_CHECKF(st == 2 && named, "%s: status %d", bad[i], st);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"lockout_and_audit_follow_the_claimed_address",
         lockout_and_audit_follow_the_claimed_address},
        {"local_and_unknown_keep_the_real_peer", local_and_unknown_keep_the_real_peer},
        {"trusted_peer_without_a_good_header_is_closed",
         trusted_peer_without_a_good_header_is_closed},
        {"untrusted_peer_sending_a_header_is_closed", untrusted_peer_sending_a_header_is_closed},
        {"header_before_tls_handshake", header_before_tls_handshake},
        {"bad_proxy_trusted_exits_2", bad_proxy_trusted_exits_2},
    };
    return it_main(argc, argv, "proxy", tests, sizeof tests / sizeof tests[0], setup);
}
