/*
 * test_tls.c: TLS between libbaobao and baobaod, end to end over real
 * sockets, and the start-up rules around it.
 *
 * Certificates are made at test time (setup) with the openssl command in a
 * temporary directory, removed at exit; nothing is committed: a CA, a
 * server certificate for 127.0.0.1 and localhost signed by it (ECDSA
 * P-256), and a second, unrelated CA.
 *
 * A TLS server is started with it_server_start_nowait (it_server_start
 * checks readiness over plaintext, which a TLS port refuses) and waited for
 * here over TLS (start_tls).
 *
 * Not for: what the methods do (their own tests); only that they work the
 * same through TLS.
 */
#include "harness.h"

#include <baobao.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* How long a refused handshake may take at most (the library's timeout is
 * set well above it, so a hang shows as a failure, not a pass). */
#define TLS_FAIL_FAST_MS 5000
#define TLS_CONNECT_TIMEOUT_MS 15000
/* Pipelined requests in one burst, and the replies' write marks on the
 * server (small, so backpressure pauses and resumes many times). */
#define TLS_PIPELINE_N 5000
#define TLS_HIGH_WATER "write_high_water=65536"
#define TLS_LOW_WATER "write_low_water=16384"
/* The large request: 1 MiB of argument in a server with a 4 MiB limit. */
#define TLS_BIG_BYTES (1024u * 1024u)
#define TLS_IDLE_CONNS 50
/* Pipelined requests followed by close_notify, against a tiny
 * write_high_water (so the server pauses with most of them unread). */
#define TLS_CLOSE_PIPELINE_N 1000
/* The handshake deadline in its test, and how long the server may take
 * past it at most (ASan, loaded machine). */
#define TLS_HS_TIMEOUT_MS 300
#define TLS_HS_GUARD_MS 5000
/* A failed login is answered after this delay (login_delay_ms): the
 * request is in flight that long. The connection must end well before. */
#define TLS_SLOW_LOGIN_MS 3000
#define TLS_ERROR_CLOSE_GUARD_MS 2000
/* Raw OpenSSL connections: how long one blocking recv may wait before the
 * reader looks at its own deadline again. */
#define RAW_RECV_SLICE_MS 200

static char g_dir[256];
static char g_ca[300], g_ca_key[300], g_crt[300], g_key[300], g_csr[300], g_ext[300];
static char g_ca2[300], g_ca2_key[300];
static char g_set_cert[400], g_set_key[400];

/* ---- certificates ---- */

static int run_ok(const char *const *argv)
{
    it_cli r;
    if (it_run(&r, argv, 60000) != 0) {
        it_note("cannot run %s", argv[0]);
        return -1;
    }
    int ok = r.status == 0;
    if (!ok)
        it_note("%s %s failed (status %d): %s", argv[0], argv[1], r.status,
                r.err ? r.err : "");
    it_cli_free(&r);
    return ok ? 0 : -1;
}

static void remove_dir(void)
{
    const char *files[] = {g_ca, g_ca_key, g_crt, g_key, g_csr, g_ext, g_ca2, g_ca2_key};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (files[i][0] != '\0')
            unlink(files[i]);
    if (g_dir[0] != '\0')
        rmdir(g_dir);
}

static int make_ca(const char *key, const char *crt, const char *cn)
{
    char subj[128];
    snprintf(subj, sizeof subj, "/CN=%s", cn);
    const char *gen[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                         "-out", key, NULL};
    const char *req[] = {"openssl", "req", "-x509", "-new", "-key", key, "-subj", subj,
                         "-days", "2", "-out", crt,
                         "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL};
    return run_ok(gen) == 0 && run_ok(req) == 0 ? 0 : -1;
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/bbtls-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(g_dir) == NULL) {
        it_note("mkdtemp: %s", strerror(errno));
        g_dir[0] = '\0';
        return -1;
    }
    atexit(remove_dir);
    snprintf(g_ca, sizeof g_ca, "%s/ca.crt", g_dir);
    snprintf(g_ca_key, sizeof g_ca_key, "%s/ca.key", g_dir);
    snprintf(g_crt, sizeof g_crt, "%s/server.crt", g_dir);
    snprintf(g_key, sizeof g_key, "%s/server.key", g_dir);
    snprintf(g_csr, sizeof g_csr, "%s/server.csr", g_dir);
    snprintf(g_ext, sizeof g_ext, "%s/server.ext", g_dir);
    snprintf(g_ca2, sizeof g_ca2, "%s/ca2.crt", g_dir);
    snprintf(g_ca2_key, sizeof g_ca2_key, "%s/ca2.key", g_dir);
    snprintf(g_set_cert, sizeof g_set_cert, "tls_cert=%s", g_crt);
    snprintf(g_set_key, sizeof g_set_key, "tls_key=%s", g_key);

    FILE *f = fopen(g_ext, "w");
    if (f == NULL)
        return -1;
    fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
          "basicConstraints=critical,CA:FALSE\n"
          "keyUsage=critical,digitalSignature\n"
          "extendedKeyUsage=serverAuth\n", f);
    fclose(f);
    if (make_ca(g_ca_key, g_ca, "baobao test CA") != 0 ||
        make_ca(g_ca2_key, g_ca2, "unrelated test CA") != 0)
        return -1;
    const char *gen[] = {"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                         "-out", g_key, NULL};
    const char *csr[] = {"openssl", "req", "-new", "-key", g_key, "-subj", "/CN=localhost",
                         "-out", g_csr, NULL};
    const char *sign[] = {"openssl", "x509", "-req", "-in", g_csr, "-CA", g_ca, "-CAkey",
                          g_ca_key, "-set_serial", "2", "-days", "2", "-out", g_crt,
                          "-extfile", g_ext, NULL};
    if (run_ok(gen) != 0 || run_ok(csr) != 0 || run_ok(sign) != 0)
        return -1;
    return 0;
}

/* ---- helpers ---- */

static bb_connect_opts tls_opts(const char *ca, const char *name, int timeout_ms)
{
    bb_connect_opts o;
    memset(&o, 0, sizeof o);
    o.timeout_ms = timeout_ms;
    o.tls = true;
    o.tls_ca_file = ca;
    o.tls_server_name = name;
    return o;
}

static bb_client *tls_connect(int port, const char *host)
{
    char addr[64];
    snprintf(addr, sizeof addr, "%s:%d", host, port);
    bb_connect_opts o = tls_opts(g_ca, NULL, TLS_CONNECT_TIMEOUT_MS);
    bb_error err;
    bb_client *c = bb_connect_with(addr, &o, &err);
    if (c == NULL)
        it_note("TLS connect to %s: %s: %s", addr, err.code, err.message);
    else
        bb_set_timeout(c, IT_REPLY_TIMEOUT_MS);
    return c;
}

/* A TLS server with the test certificate and extra settings (up to 6),
 * waited for over TLS until server.info says the database is there (or
 * the start-up timeout passes: then it is returned anyway, noted). */
static it_server *start_tls_log(const char *const *extra, bool debug_log)
{
    const char *sets[10] = {g_set_cert, g_set_key};
    size_t n = 2;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 9; i++)
        sets[n++] = extra[i];
    sets[n] = NULL;
    /* The server inherits the environment (it_server_start_env waits for
     * it over plaintext, which a TLS port refuses). */
    if (debug_log)
        setenv("BAOBAO_LOG", "debug", 1);
    it_server *s = it_server_start_nowait(sets);
    if (debug_log)
        unsetenv("BAOBAO_LOG");
    if (s == NULL)
        return NULL;
    int64_t deadline = it_now_ms() + IT_START_TIMEOUT_MS;
    while (it_now_ms() < deadline) {
        bb_client *c = tls_connect(s->port, "127.0.0.1");
        if (c != NULL) {
            bb_server_info info;
            bb_error err;
            bool up = bb_server_info_get(c, &info, &err) == BB_C_OK && info.database_available;
            bb_server_info_free(&info);
            bb_close(c);
            if (up)
                return s;
        }
        it_sleep_ms(50);
    }
    it_note("TLS server on port %d: database never available; going on", s->port);
    return s;
}

static it_server *start_tls(const char *const *extra) { return start_tls_log(extra, false); }

/* Waits up to timeout_ms for needle in the server's log. */
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

/* ---- raw OpenSSL connections ----
 *
 * libbaobao hides how a TLS connection ends (it ignores a missing
 * close_notify) and cannot send close_notify while it keeps reading; these
 * tests need both, so they drive OpenSSL themselves on a blocking socket
 * (SO_RCVTIMEO keeps every read short). */

typedef enum raw_end {
    RAW_OPEN = 0,
    RAW_CLOSE_NOTIFY,   /* the server's close_notify */
    RAW_EOF,            /* FIN without close_notify */
    RAW_RESET,
    RAW_TLS_ERROR,      /* an alert or a broken record */
} raw_end;

static const char *const raw_end_names[] = {"open", "close_notify", "eof", "reset",
                                            "tls_error"};

typedef struct raw_tls {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    msgpack_unpacker up;
    raw_end end;
    char why[200];
} raw_tls;

/* A TCP connection to 127.0.0.1:port, blocking, reads cut at
 * RAW_RECV_SLICE_MS. -1 on failure (noted). */
static int raw_tcp(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    struct timeval tv = {0, RAW_RECV_SLICE_MS * 1000};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        it_note("raw connect to port %d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void raw_tls_free(raw_tls *r)
{
    if (r == NULL)
        return;
    SSL_free(r->ssl);
    SSL_CTX_free(r->ctx);
    if (r->fd >= 0)
        close(r->fd);
    msgpack_unpacker_destroy(&r->up);
    free(r);
}

/* A finished handshake with the test server (certificate checked against
 * the test CA and 127.0.0.1), or NULL (noted). Deliberately without
 * SSL_OP_IGNORE_UNEXPECTED_EOF: a FIN without close_notify shows. */
static raw_tls *raw_tls_connect(int port)
{
    raw_tls *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->fd = -1;
    if (!msgpack_unpacker_init(&r->up, 65536)) {
        free(r);
        return NULL;
    }
    r->fd = raw_tcp(port);
    r->ctx = SSL_CTX_new(TLS_client_method());
    if (r->fd < 0 || r->ctx == NULL ||
        SSL_CTX_load_verify_locations(r->ctx, g_ca, NULL) != 1) {
        it_note("raw TLS: cannot set up");
        raw_tls_free(r);
        return NULL;
    }
    SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
    r->ssl = SSL_new(r->ctx);
    if (r->ssl == NULL || SSL_set_fd(r->ssl, r->fd) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(r->ssl), "127.0.0.1") != 1) {
        raw_tls_free(r);
        return NULL;
    }
    int64_t deadline = it_now_ms() + TLS_CONNECT_TIMEOUT_MS;
    for (;;) {
        ERR_clear_error();
        int rc = SSL_connect(r->ssl);
        if (rc == 1)
            break;
        int e = SSL_get_error(r->ssl, rc);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && it_now_ms() < deadline)
            continue; /* the receive timeout cut a read */
        char why[256] = "";
        ERR_error_string_n(ERR_get_error(), why, sizeof why);
        it_note("raw TLS handshake: error %d %s", e, why);
        raw_tls_free(r);
        return NULL;
    }
    return r;
}

/* Writes all bytes through TLS. 0 or -1 (noted). */
static int raw_tls_write(raw_tls *r, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ERR_clear_error();
        int n = SSL_write(r->ssl, p, len > 16384 ? 16384 : (int)len);
        if (n <= 0) {
            it_note("raw TLS write: error %d", SSL_get_error(r->ssl, n));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The next message (1, in *u), the end of the stream (0, r->end says
 * which), or a timeout (-2). */
static int raw_tls_next(raw_tls *r, int timeout_ms, msgpack_unpacked *u)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        if (msgpack_unpacker_next(&r->up, u) == MSGPACK_UNPACK_SUCCESS)
            return 1;
        if (r->end != RAW_OPEN)
            return 0;
        if (it_now_ms() >= deadline)
            return -2;
        if (!msgpack_unpacker_reserve_buffer(&r->up, 16384))
            return -1;
        ERR_clear_error();
        errno = 0;
        int n = SSL_read(r->ssl, msgpack_unpacker_buffer(&r->up), 16384);
        if (n > 0) {
            msgpack_unpacker_buffer_consumed(&r->up, (size_t)n);
            continue;
        }
        int e = SSL_get_error(r->ssl, n);
        unsigned long last = ERR_peek_last_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            continue; /* the receive timeout: look at the deadline */
        if (e == SSL_ERROR_ZERO_RETURN)
            r->end = RAW_CLOSE_NOTIFY;
        else if (e == SSL_ERROR_SYSCALL)
            r->end = errno == ECONNRESET ? RAW_RESET : RAW_EOF;
        else if (e == SSL_ERROR_SSL && ERR_GET_LIB(last) == ERR_LIB_SSL &&
                 ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
            r->end = RAW_EOF;
        else
            r->end = RAW_TLS_ERROR;
        if (last != 0)
            ERR_error_string_n(last, r->why, sizeof r->why);
        ERR_clear_error();
    }
}

/* Waits for the end of the stream, discarding messages; the end or
 * RAW_OPEN when it did not come within timeout_ms. */
static raw_end raw_tls_wait_end(raw_tls *r, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    while (r->end == RAW_OPEN && it_now_ms() < deadline)
        (void)raw_tls_next(r, (int)(deadline - it_now_ms()), &u);
    msgpack_unpacked_destroy(&u);
    return r->end;
}

/* Reads the socket itself (under TLS) until FIN or reset: true when one
 * came within timeout_ms. */
static bool raw_socket_closed(int fd, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    char buf[4096];
    while (it_now_ms() < deadline) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return true;
    }
    return false;
}

/* Packs {key: str} (or {k1: v1, k2: v2}) into sb. */
static void pack_map_strs(msgpack_sbuffer *sb, size_t n, const char *const *kv,
                          const size_t *lens)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(kv[2 * i]);
        size_t vl = lens != NULL ? lens[i] : strlen(kv[2 * i + 1]);
        msgpack_pack_str(&pk, kl);
        msgpack_pack_str_body(&pk, kv[2 * i], kl);
        msgpack_pack_str(&pk, vl);
        msgpack_pack_str_body(&pk, kv[2 * i + 1], vl);
    }
}

/* Runs baobaod directly (not through the harness: it must fail at start)
 * with the given --set values; returns its exit status and stderr. */
static int run_baobaod(const char *listen, const char *const *sets, char *errout, size_t errlen)
{
    const char *bin = getenv("BAOBAOD");
    if (bin == NULL)
        return -1;
    const char *argv[24] = {bin, "--listen", listen, "--port", "0", "--db", it_db_conninfo()};
    size_t n = 7;
    for (size_t i = 0; sets != NULL && sets[i] != NULL && n < 21; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    it_cli r;
    if (it_run(&r, argv, 30000) != 0)
        return -1;
    snprintf(errout, errlen, "%s", r.err ? r.err : "");
    int st = r.status;
    it_cli_free(&r);
    return st;
}

/* ---- tests ---- */

/* server.info, login (when the accounts part is there), a method behind
 * the gate, by address (IP SAN) and by name (DNS SAN + SNI). */
static int test_end_to_end(void)
{
    it_server *s = start_tls(NULL);
    IT_CHECK(s != NULL);
    bb_client *c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    bb_server_info info;
    bb_error err;
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s: %s", err.code, err.message);
    IT_CHECK_STR(info.name, "baobaod");
    bb_server_info_free(&info);

    msgpack_sbuffer sb;
    const char *kv[] = {"login", IT_USER_SUPER, "password", IT_PASSWORD};
    pack_map_strs(&sb, 2, kv, NULL);
    bb_reply *r = NULL;
    int rc = bb_call(c, "session.login", sb.data, sb.size, &r, &err);
    msgpack_sbuffer_destroy(&sb);
    bool logged_in = rc == BB_C_OK;
    bb_reply_free(r);
    if (!logged_in) {
        IT_CHECKF(rc == BB_C_ESERVER, "session.login: %d %s: %s", rc, err.code, err.message);
        it_note("session.login over TLS answered %s (%s): checking the gate instead",
                err.code, err.message);
    }
    /* enterprise.get of an id that does not exist: not_found when logged
     * in, unauthenticated when not (the gate answers before the database) */
    msgpack_sbuffer gb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&gb);
    msgpack_packer_init(&pk, &gb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str(&pk, 2);
    msgpack_pack_str_body(&pk, "id", 2);
    msgpack_pack_int64(&pk, 987654321);
    rc = bb_call(c, "enterprise.get", gb.data, gb.size, &r, &err);
    msgpack_sbuffer_destroy(&gb);
    bb_reply_free(r);
    IT_CHECKF(rc == BB_C_ESERVER, "enterprise.get: rc %d", rc);
    IT_CHECK_STR(err.code, logged_in ? "not_found" : "unauthenticated");
    it_note("TLS session: login %s, enterprise.get -> %s",
            logged_in ? "ok" : "not available", err.code);
    bb_close(c);

    /* by name: the certificate's DNS entry, sent as SNI */
    c = tls_connect(s->port, "localhost");
    IT_CHECK(c != NULL);
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s: %s", err.code, err.message);
    bb_server_info_free(&info);
    bb_close(c);
    IT_CHECK(it_server_log_has(s, "tls=1"));
    IT_CHECK(it_server_log_has(s, "event=tls_enabled"));
    return 0;
}

/* A 1 MiB request (64+ records, read in many pieces) is decrypted and
 * framed whole: the server names the unknown 1 MiB argument; the same
 * connection then still works; a non-msgpack byte over TLS gets the
 * encrypted connection.closing. */
static int test_large_request(void)
{
    const char *extra[] = {"max_message_bytes=4194304", NULL};
    it_server *s = start_tls(extra);
    IT_CHECK(s != NULL);
    bb_client *c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    char *big = malloc(TLS_BIG_BYTES);
    IT_CHECK(big != NULL);
    for (size_t i = 0; i < TLS_BIG_BYTES; i++)
        big[i] = (char)('a' + i % 26);
    msgpack_sbuffer sb;
    const char *kv[] = {"pad", big};
    size_t lens[] = {TLS_BIG_BYTES};
    pack_map_strs(&sb, 1, kv, lens);
    free(big);
    bb_reply *r = NULL;
    bb_error err;
    int rc = bb_call(c, "server.info", sb.data, sb.size, &r, &err);
    msgpack_sbuffer_destroy(&sb);
    bb_reply_free(r);
    IT_CHECKF(rc == BB_C_ESERVER, "rc %d %s", rc, err.message);
    IT_CHECK_STR(err.code, "invalid_argument");
    IT_CHECK_STR(err.field, "pad");
    bb_server_info info;
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s: %s", err.code, err.message);
    bb_server_info_free(&info);

    /* bytes that are not msgpack: connection.closing, through TLS */
    const unsigned char junk[] = {0xc1};
    IT_CHECK(bb_send_bytes(c, junk, sizeof junk, &err) == BB_C_OK);
    rc = bb_wait(c, 77, IT_REPLY_TIMEOUT_MS, &r, &err);
    IT_CHECKF(rc == BB_C_ESERVER, "rc %d %s %s", rc, err.code, err.message);
    IT_CHECK_STR(err.code, "malformed_message");
    bb_close(c);
    return 0;
}

/* Many pipelined requests, whose replies (about 1 MiB in all) outrun the
 * server's small write_high_water: it pauses and resumes reading many
 * times, each reply arrives, in records cut anywhere. */
static int pipeline_burst(it_server *s)
{
    bb_client *c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    uint32_t *ids = calloc(TLS_PIPELINE_N, sizeof *ids);
    IT_CHECK(ids != NULL);
    bb_error err;
    int64_t t0 = it_now_ms();
    for (size_t i = 0; i < TLS_PIPELINE_N; i++) {
        int rc = bb_send(c, "server.info", NULL, 0, &ids[i], &err);
        if (rc != BB_C_OK) {
            free(ids);
            IT_CHECKF(false, "send %zu: %s: %s", i, err.code, err.message);
        }
    }
    size_t bytes = 0;
    for (size_t i = 0; i < TLS_PIPELINE_N; i++) {
        bb_reply *r = NULL;
        int rc = bb_wait(c, ids[i], IT_REPLY_TIMEOUT_MS, &r, &err);
        if (rc != BB_C_OK) {
            free(ids);
            IT_CHECKF(false, "reply %zu: %s: %s", i, err.code, err.message);
        }
        const msgpack_object *res = bb_reply_result(r);
        if (res == NULL || res->type != MSGPACK_OBJECT_MAP) {
            bb_reply_free(r);
            free(ids);
            IT_CHECKF(false, "reply %zu is not a map", i);
        }
        bytes += 200; /* about one server.info reply */
        bb_reply_free(r);
    }
    free(ids);
    it_note("%d pipelined requests over TLS, ~%zu KiB of replies, in %lld ms", TLS_PIPELINE_N,
            bytes / 1024, (long long)(it_now_ms() - t0));
    bb_close(c);
    return 0;
}

static int test_pipelined(void)
{
    const char *extra[] = {TLS_HIGH_WATER, TLS_LOW_WATER, NULL};
    it_server *s = start_tls_log(extra, true);
    IT_CHECK(s != NULL);
    IT_CHECK(pipeline_burst(s) == 0);
    /* the point of the test: the server did pause and resume */
    IT_CHECK(log_wait(s, "event=backpressure_on", 5000));
    IT_CHECK(log_wait(s, "event=backpressure_off", 5000));
    /* with the default marks, the replies to one read of requests (far
     * more than one 256 KiB encryption slice) pile up before a flush:
     * they go out slice by slice, whole and in order */
    it_server *d = start_tls(NULL);
    IT_CHECK(d != NULL);
    raw_tls *r = raw_tls_connect(d->port);
    IT_CHECK(r != NULL);
    unsigned char *reqs = malloc((size_t)TLS_PIPELINE_N * 32);
    if (reqs == NULL) {
        raw_tls_free(r);
        IT_CHECK(false);
    }
    size_t len = 0;
    for (uint32_t i = 0; i < TLS_PIPELINE_N; i++)
        len += it_server_info_bytes(i + 1, reqs + len);
    int wrc = raw_tls_write(r, reqs, len);
    free(reqs);
    uint32_t next = 1;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    while (wrc == 0 && next <= TLS_PIPELINE_N && raw_tls_next(r, IT_REPLY_TIMEOUT_MS, &u) == 1) {
        const msgpack_object *o = &u.data;
        if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 4 ||
            o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
            o->via.array.ptr[1].via.u64 != next || o->via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
            break;
        next++;
    }
    msgpack_unpacked_destroy(&u);
    raw_tls_free(r);
    IT_CHECK(wrc == 0);
    IT_CHECKF(next == TLS_PIPELINE_N + 1, "reply %u missing or out of order", next);
    return 0;
}

/* Pipelined requests, then close_notify (the client keeps reading): as
 * with a TCP half-close, every request is answered, then the connection
 * ends. The server pauses (write_high_water) with most requests still
 * buffered, and OpenSSL has already taken the close_notify off the wire:
 * it must not end the connection before those are handled. */
static int test_pipelined_close_notify(void)
{
    const char *extra[] = {"write_high_water=1024", "write_low_water=512", NULL};
    it_server *s = start_tls_log(extra, true);
    IT_CHECK(s != NULL);
    raw_tls *r = raw_tls_connect(s->port);
    IT_CHECK(r != NULL);
    unsigned char *reqs = malloc(TLS_CLOSE_PIPELINE_N * 32);
    bool *seen = calloc(TLS_CLOSE_PIPELINE_N, sizeof *seen);
    if (reqs == NULL || seen == NULL) {
        free(reqs);
        free(seen);
        raw_tls_free(r);
        IT_CHECK(false);
    }
    size_t len = 0;
    for (uint32_t i = 0; i < TLS_CLOSE_PIPELINE_N; i++)
        len += it_server_info_bytes(i + 1, reqs + len);
    int wrc = raw_tls_write(r, reqs, len);
    free(reqs);
    /* close_notify right behind the last request (0: sent, the server's
     * not yet seen) */
    int sd = wrc == 0 ? SSL_shutdown(r->ssl) : -1;
    size_t answered = 0, wrong = 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc;
    while ((rc = raw_tls_next(r, IT_REPLY_TIMEOUT_MS, &u)) == 1) {
        const msgpack_object *o = &u.data;
        if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 4 &&
            o->via.array.ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
            o->via.array.ptr[2].type == MSGPACK_OBJECT_NIL &&
            o->via.array.ptr[1].via.u64 >= 1 &&
            o->via.array.ptr[1].via.u64 <= TLS_CLOSE_PIPELINE_N &&
            !seen[o->via.array.ptr[1].via.u64 - 1]) {
            seen[o->via.array.ptr[1].via.u64 - 1] = true;
            answered++;
        } else {
            wrong++;
        }
    }
    msgpack_unpacked_destroy(&u);
    free(seen);
    raw_end end = r->end;
    raw_tls_free(r);
    it_note("%d pipelined requests then close_notify: %zu answered, %zu other, end %s",
            TLS_CLOSE_PIPELINE_N, answered, wrong, raw_end_names[end]);
    IT_CHECK(wrc == 0);
    IT_CHECKF(sd >= 0, "SSL_shutdown %d", sd);
    IT_CHECKF(rc == 0, "no end of the stream (rc %d)", rc);
    IT_CHECKF(answered == TLS_CLOSE_PIPELINE_N && wrong == 0, "%zu of %d answered, %zu wrong",
              answered, TLS_CLOSE_PIPELINE_N, wrong);
    IT_CHECKF(end == RAW_CLOSE_NOTIFY || end == RAW_EOF, "ended by %s", raw_end_names[end]);
    IT_CHECK(log_wait(s, "event=backpressure_on", 5000));
    IT_CHECK(log_wait(s, "tls=close_notify", 5000));
    IT_CHECK(log_wait(s, "reason=peer_closed", 5000));
    return 0;
}

/* A TLS error (a corrupted record) while a request is in flight (a failed
 * login, answered only after login_delay_ms): nothing more can be
 * answered, so the server ends the connection after its alert, without
 * waiting for the request (the peer sees the end well before the delay),
 * and a SIGTERM afterwards has nothing to wait for. */
static int test_tls_error_in_flight(void)
{
    char delay[64];
    snprintf(delay, sizeof delay, "login_delay_ms=%d", TLS_SLOW_LOGIN_MS);
    const char *extra[] = {"idle_timeout_ms=0", delay, "shutdown_deadline_ms=30000", NULL};
    it_server *s = start_tls(extra);
    IT_CHECK(s != NULL);
    raw_tls *r = raw_tls_connect(s->port);
    IT_CHECK(r != NULL);
    /* Two records in one segment: a login for nobody (in flight for
     * login_delay_ms), then a request whose last byte (its tag) is flipped:
     * the server decrypts the first, dispatches it, and fails on the
     * second. */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 7, "session.login", 2);
    it_kv_str(&b, "login", "tls_nobody");
    it_kv_str(&b, "password", "not-the-password");
    unsigned char info[32];
    size_t info_len = it_server_info_bytes(8, info);
    BIO *mem = BIO_new(BIO_s_mem());
    bool ok = mem != NULL;
    if (ok) {
        SSL_set0_wbio(r->ssl, mem); /* the SSL owns it now */
        ok = SSL_write(r->ssl, b.sb.data, (int)b.sb.size) == (int)b.sb.size &&
             SSL_write(r->ssl, info, (int)info_len) == (int)info_len;
    }
    it_buf_free(&b);
    char *wire = NULL;
    long wire_len = ok ? BIO_get_mem_data(mem, &wire) : 0;
    ssize_t sent = -1;
    int64_t t0 = it_now_ms();
    if (ok && wire_len > 0) {
        wire[wire_len - 1] ^= 0x01;
        sent = send(r->fd, wire, (size_t)wire_len, MSG_NOSIGNAL);
    }
    bool closed = sent == wire_len && raw_socket_closed(r->fd, TLS_ERROR_CLOSE_GUARD_MS);
    int64_t took = it_now_ms() - t0;
    raw_tls_free(r);
    IT_CHECKF(ok && sent == wire_len, "could not send the records (%zd of %ld)", sent, wire_len);
    IT_CHECKF(closed, "the connection was not closed within %d ms of the TLS error",
              TLS_ERROR_CLOSE_GUARD_MS);
    it_note("TLS error with a request in flight: closed after %lld ms", (long long)took);
    IT_CHECK(log_wait(s, "event=tls_error", 5000));
    IT_CHECK(log_wait(s, "reason=tls_error", 5000));
    /* the slot is free: SIGTERM finds no connection to wait for */
    t0 = it_now_ms();
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    took = it_now_ms() - t0;
    it_note("SIGTERM after it: exit status %d in %lld ms", st, (long long)took);
    IT_CHECKF(st == 0, "wait status %d", st);
    IT_CHECK(!it_server_log_has(s, "reason=shutdown_deadline"));
    IT_CHECKF(took < 15000, "shutdown took %lld ms", (long long)took);
    return 0;
}

/* tls_handshake_timeout_ms: a peer that starts a handshake and stalls (a
 * partial ClientHello), or sends nothing, is closed at the deadline even
 * with no idle timeout; a real client handshakes well within it and is
 * not affected afterwards. The setting has a range. */
static int test_handshake_timeout(void)
{
    char hs[64];
    snprintf(hs, sizeof hs, "tls_handshake_timeout_ms=%d", TLS_HS_TIMEOUT_MS);
    const char *extra[] = {hs, "idle_timeout_ms=0", NULL};
    it_server *s = start_tls(extra);
    IT_CHECK(s != NULL);
    it_conn *partial = it_connect_anon(s->port);
    IT_CHECK(partial != NULL);
    it_conn *silent = it_connect_anon(s->port);
    IT_CHECK(silent != NULL);
    /* a record header announcing 512 bytes of ClientHello, and 4 of them */
    const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    IT_CHECK(it_send(partial, hello, sizeof hello) == 0);
    int64_t t0 = it_now_ms();
    IT_CHECK(it_wait_eof(partial, TLS_HS_TIMEOUT_MS + TLS_HS_GUARD_MS));
    int64_t took = it_now_ms() - t0;
    IT_CHECK(it_wait_eof(silent, TLS_HS_GUARD_MS));
    it_close(partial);
    it_close(silent);
    it_note("partial ClientHello closed after %lld ms (deadline %d ms)", (long long)took,
            TLS_HS_TIMEOUT_MS);
    IT_CHECKF(took >= TLS_HS_TIMEOUT_MS - 50, "closed after %lld ms", (long long)took);
    IT_CHECK(log_wait(s, "event=tls_handshake_timeout", 5000));
    IT_CHECK(it_server_log_has(s, "reason=tls_handshake_timeout"));

    /* a normal client: connects, and stays usable past the deadline */
    bb_client *c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    bb_server_info info;
    bb_error err;
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s: %s", err.code, err.message);
    bb_server_info_free(&info);
    it_sleep_ms(TLS_HS_TIMEOUT_MS * 2);
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s: %s", err.code, err.message);
    bb_server_info_free(&info);
    bb_close(c);

    char errout[4096];
    const char *zero[] = {"tls_handshake_timeout_ms=0", NULL};
    int st = run_baobaod("127.0.0.1", zero, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "tls_handshake_timeout_ms") != NULL, "stderr: %s", errout);
    const char *big[] = {"tls_handshake_timeout_ms=3600001", NULL};
    st = run_baobaod("127.0.0.1", big, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    return 0;
}

static int test_wrong_ca(void)
{
    it_server *s = start_tls(NULL);
    IT_CHECK(s != NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    bb_connect_opts o = tls_opts(g_ca2, NULL, TLS_CONNECT_TIMEOUT_MS);
    bb_error err;
    int64_t t0 = it_now_ms();
    bb_client *c = bb_connect_with(addr, &o, &err);
    IT_CHECK(c == NULL);
    IT_CHECK(it_now_ms() - t0 < TLS_FAIL_FAST_MS);
    IT_CHECK_STR(err.code, "tls_failed");
    IT_CHECK(err.rc == BB_C_EIO);
    IT_CHECKF(strstr(err.message, "certificate verify failed") != NULL &&
                  strstr(err.message, "unable to get local issuer certificate") != NULL,
              "message: %s", err.message);
    it_note("wrong CA: %s", err.message);
    /* the server logs the failed handshake with its connection */
    int64_t deadline = it_now_ms() + 5000;
    while (!it_server_log_has(s, "event=tls_handshake_failed") && it_now_ms() < deadline)
        it_sleep_ms(20);
    IT_CHECK(it_server_log_has(s, "event=tls_handshake_failed"));
    /* and keeps serving */
    c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    bb_close(c);
    return 0;
}

static int test_wrong_name(void)
{
    it_server *s = start_tls(NULL);
    IT_CHECK(s != NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    bb_connect_opts o = tls_opts(g_ca, "wrong.example", TLS_CONNECT_TIMEOUT_MS);
    bb_error err;
    bb_client *c = bb_connect_with(addr, &o, &err);
    IT_CHECK(c == NULL);
    IT_CHECK_STR(err.code, "tls_failed");
    IT_CHECKF(strstr(err.message, "hostname mismatch") != NULL, "message: %s", err.message);
    it_note("wrong name: %s", err.message);
    /* an address the certificate does not carry */
    o = tls_opts(g_ca, "127.0.0.2", TLS_CONNECT_TIMEOUT_MS);
    c = bb_connect_with(addr, &o, &err);
    IT_CHECK(c == NULL);
    IT_CHECK_STR(err.code, "tls_failed");
    IT_CHECKF(strstr(err.message, "IP address mismatch") != NULL, "message: %s", err.message);
    /* the right name given explicitly works from an address */
    o = tls_opts(g_ca, "localhost", TLS_CONNECT_TIMEOUT_MS);
    c = bb_connect_with(addr, &o, &err);
    IT_CHECKF(c != NULL, "%s", err.message);
    bb_close(c);
    return 0;
}

/* A plaintext client on the TLS port is told so in plaintext, then EOF;
 * the server goes on serving TLS clients. */
static int test_plaintext_client(void)
{
    it_server *s = start_tls(NULL);
    IT_CHECK(s != NULL);
    it_conn *p = it_connect_anon(s->port);
    IT_CHECK(p != NULL);
    unsigned char req[32];
    size_t n = it_server_info_bytes(1, req);
    IT_CHECK(it_send(p, req, n) == 0);
    it_msg m;
    IT_CHECK(it_recv(p, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    bool ok = m.kind == 2 && strcmp(m.method, "connection.closing") == 0 &&
              strcmp(m.code, "malformed_message") == 0 && strstr(m.message, "TLS") != NULL;
    char desc[512];
    it_describe(&m, desc, sizeof desc);
    it_msg_free(&m);
    IT_CHECKF(ok, "got %s", desc);
    IT_CHECK(it_wait_eof(p, IT_REPLY_TIMEOUT_MS));
    it_close(p);
    IT_CHECK(it_server_log_has(s, "event=not_tls"));
    bb_client *c = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(c != NULL);
    bb_server_info info;
    bb_error err;
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s", err.message);
    bb_server_info_free(&info);
    bb_close(c);
    return 0;
}

/* A TLS client on a plaintext port fails quickly with tls_failed. */
static int test_tls_client_plain_server(void)
{
    it_server *s = it_server_start_nowait(NULL);
    IT_CHECK(s != NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    bb_connect_opts o = tls_opts(g_ca, NULL, TLS_CONNECT_TIMEOUT_MS);
    bb_error err;
    int64_t t0 = it_now_ms();
    bb_client *c = bb_connect_with(addr, &o, &err);
    int64_t took = it_now_ms() - t0;
    IT_CHECK(c == NULL);
    IT_CHECK_STR(err.code, "tls_failed");
    IT_CHECKF(took < TLS_FAIL_FAST_MS, "took %lld ms", (long long)took);
    IT_CHECKF(strstr(err.message, "does not speak TLS") != NULL, "message: %s", err.message);
    it_note("TLS to a plaintext server (%lld ms): %s", (long long)took, err.message);
    /* plaintext still works there */
    c = bb_connect(addr, TLS_CONNECT_TIMEOUT_MS, &err);
    IT_CHECK(c != NULL);
    bb_server_info info;
    IT_CHECKF(bb_server_info_get(c, &info, &err) == BB_C_OK, "%s", err.message);
    bb_server_info_free(&info);
    bb_close(c);
    return 0;
}

/* Plaintext on a non-loopback address: refused at start unless allowed. */
static int test_plaintext_refused_on_network(void)
{
    char errout[4096];
    int st = run_baobaod("0.0.0.0", NULL, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d, stderr: %s", st, errout);
    IT_CHECKF(strstr(errout, "allow_plaintext") != NULL, "stderr: %s", errout);
    const char *sets[] = {"listen=0.0.0.0", "allow_plaintext=1", NULL};
    it_server *s = it_server_start_nowait(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(it_server_log_has(s, "event=plaintext_allowed"));
    it_conn *p = it_connect_anon(s->port);
    IT_CHECK(p != NULL);
    IT_CHECK(it_expect_alive(p) == 0);
    it_close(p);
    return 0;
}

/* Certificate and key problems are refused at start (exit 2). */
static int test_bad_cert_key(void)
{
    char errout[4096], a[400], b[400];
    snprintf(a, sizeof a, "tls_cert=%s", g_crt);
    snprintf(b, sizeof b, "tls_key=%s", g_ca2_key);
    const char *mismatch[] = {a, b, NULL};
    int st = run_baobaod("127.0.0.1", mismatch, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "does not match") != NULL, "stderr: %s", errout);

    const char *cert_only[] = {a, NULL};
    st = run_baobaod("127.0.0.1", cert_only, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "tls_key") != NULL, "stderr: %s", errout);

    const char *key_only[] = {g_set_key, NULL};
    st = run_baobaod("127.0.0.1", key_only, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "tls_cert") != NULL, "stderr: %s", errout);

    char missing[400];
    snprintf(missing, sizeof missing, "tls_cert=%s/missing.crt", g_dir);
    const char *unreadable[] = {missing, g_set_key, NULL};
    st = run_baobaod("127.0.0.1", unreadable, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "cannot read") != NULL, "stderr: %s", errout);

    /* a key file given as the certificate: not a certificate */
    char notcert[400];
    snprintf(notcert, sizeof notcert, "tls_cert=%s", g_key);
    const char *wrong_kind[] = {notcert, g_set_key, NULL};
    st = run_baobaod("127.0.0.1", wrong_kind, errout, sizeof errout);
    IT_CHECKF(st == 2, "status %d: %s", st, errout);
    IT_CHECKF(strstr(errout, "tls_cert") != NULL, "stderr: %s", errout);
    return 0;
}

/* Past max_connections a TLS client gets no notice (it would need a
 * handshake) but a prompt, clean failure, and the server logs why. */
static int test_max_connections(void)
{
    const char *extra[] = {"max_connections=1", NULL};
    it_server *s = start_tls(extra);
    IT_CHECK(s != NULL);
    /* start_tls's probe connection may still be closing on the server */
    bb_client *first = NULL;
    for (int i = 0; i < 100 && first == NULL; i++) {
        first = tls_connect(s->port, "127.0.0.1");
        if (first == NULL)
            it_sleep_ms(20);
    }
    IT_CHECK(first != NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    bb_connect_opts o = tls_opts(g_ca, NULL, TLS_CONNECT_TIMEOUT_MS);
    bb_error err;
    int64_t t0 = it_now_ms();
    bb_client *second = bb_connect_with(addr, &o, &err);
    int64_t took = it_now_ms() - t0;
    bb_close(second);
    IT_CHECK(second == NULL);
    IT_CHECK_STR(err.code, "tls_failed");
    IT_CHECKF(took < TLS_FAIL_FAST_MS, "took %lld ms", (long long)took);
    it_note("over max_connections (%lld ms): %s", (long long)took, err.message);
    IT_CHECK(it_server_log_has(s, "reason=max_connections"));
    bb_server_info info;
    IT_CHECK(bb_server_info_get(first, &info, &err) == BB_C_OK);
    bb_server_info_free(&info);
    bb_close(first);
    return 0;
}

/* The idle timeout ends a TLS connection as a plaintext one (close_notify
 * then FIN: the client sees the end, and a raw OpenSSL client that does
 * not ignore a missing close_notify sees that it came); SIGTERM with TLS
 * clients open exits 0 (under ASan that includes LeakSanitizer: no SSL
 * left behind). */
static int test_idle_timeout_and_shutdown(void)
{
    const char *extra[] = {"idle_timeout_ms=300", NULL};
    it_server *s = start_tls(extra);
    IT_CHECK(s != NULL);
    raw_tls *raw = raw_tls_connect(s->port);
    IT_CHECK(raw != NULL);
    raw_end end = raw_tls_wait_end(raw, 5000);
    int shut = SSL_get_shutdown(raw->ssl);
    raw_tls_free(raw);
    IT_CHECKF(end == RAW_CLOSE_NOTIFY, "the idle connection ended by %s", raw_end_names[end]);
    IT_CHECK((shut & SSL_RECEIVED_SHUTDOWN) != 0);

    bb_client *idle = tls_connect(s->port, "127.0.0.1");
    IT_CHECK(idle != NULL);
    it_sleep_ms(900);
    bb_server_info info;
    bb_error err;
    int rc = bb_server_info_get(idle, &info, &err);
    bb_server_info_free(&info);
    IT_CHECKF(rc == BB_C_EIO, "rc %d %s %s", rc, err.code, err.message);
    IT_CHECK_STR(err.code, "connection_lost");
    bb_close(idle);
    IT_CHECK(it_server_log_has(s, "event=idle_timeout"));

    bb_client *cs[3];
    for (int i = 0; i < 3; i++) {
        cs[i] = tls_connect(s->port, "127.0.0.1");
        IT_CHECK(cs[i] != NULL);
        IT_CHECK(bb_server_info_get(cs[i], &info, &err) == BB_C_OK);
        bb_server_info_free(&info);
    }
    /* one connection mid-handshake: a hello byte and nothing more */
    it_conn *half = it_connect_anon(s->port);
    IT_CHECK(half != NULL);
    const unsigned char hello_start[] = {0x16, 0x03, 0x01};
    IT_CHECK(it_send(half, hello_start, sizeof hello_start) == 0);
    it_sleep_ms(50);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    for (int i = 0; i < 3; i++)
        bb_close(cs[i]);
    it_close(half);
    IT_CHECKF(st == 0, "wait status %d", st);
    return 0;
}

/* Server RSS growth per idle connection after a server.info each, in KiB
 * (-1 on failure). */
static long idle_cost_kb(it_server *s, bool tls)
{
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", s->port);
    bb_client *cs[TLS_IDLE_CONNS];
    bb_error err;
    /* warm up the allocator and OpenSSL's tables first */
    bb_client *w = tls ? tls_connect(s->port, "127.0.0.1") : bb_connect(addr, 5000, &err);
    if (w == NULL)
        return -1;
    bb_close(w);
    it_sleep_ms(100);
    long before = it_server_rss_kb(s);
    size_t n = 0;
    for (; n < TLS_IDLE_CONNS; n++) {
        cs[n] = tls ? tls_connect(s->port, "127.0.0.1") : bb_connect(addr, 5000, &err);
        if (cs[n] == NULL)
            break;
        bb_server_info info;
        if (bb_server_info_get(cs[n], &info, &err) != BB_C_OK) {
            bb_close(cs[n]);
            break;
        }
        bb_server_info_free(&info);
    }
    it_sleep_ms(200);
    long after = it_server_rss_kb(s);
    for (size_t i = 0; i < n; i++)
        bb_close(cs[i]);
    if (n != TLS_IDLE_CONNS || before <= 0 || after <= 0)
        return -1;
    it_note("idle %s connections: %zu, server RSS %ld -> %ld KiB", tls ? "TLS" : "plaintext", n,
            before, after);
    return (after - before) / (long)n;
}

/* What an idle TLS connection costs the server, against a plaintext one.
 * Bounded only without sanitizers (ASan's redzones and quarantine make
 * RSS meaningless). */
static int test_idle_memory(void)
{
    it_server *s = start_tls(NULL);
    IT_CHECK(s != NULL);
    long tls = idle_cost_kb(s, true);
    IT_CHECK(tls >= 0);
    it_server *p = it_server_start_nowait(NULL);
    IT_CHECK(p != NULL);
    long plain = idle_cost_kb(p, false);
    IT_CHECK(plain >= 0);
    it_note("per idle connection: TLS about %ld KiB, plaintext about %ld KiB", tls, plain);
#if defined(__SANITIZE_ADDRESS__)
    it_note("built with AddressSanitizer: not bounded");
#else
    IT_CHECKF(tls < 64, "%ld KiB per idle TLS connection", tls);
#endif
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"end_to_end", test_end_to_end},
        {"large_request", test_large_request},
        {"pipelined", test_pipelined},
        {"pipelined_close_notify", test_pipelined_close_notify},
        {"tls_error_in_flight", test_tls_error_in_flight},
        {"handshake_timeout", test_handshake_timeout},
        {"wrong_ca", test_wrong_ca},
        {"wrong_name", test_wrong_name},
        {"plaintext_client", test_plaintext_client},
        {"tls_client_plain_server", test_tls_client_plain_server},
        {"plaintext_refused_on_network", test_plaintext_refused_on_network},
        {"bad_cert_key", test_bad_cert_key},
        {"max_connections", test_max_connections},
        {"idle_timeout_and_shutdown", test_idle_timeout_and_shutdown},
        {"idle_memory", test_idle_memory},
    };
    return it_main(argc, argv, "tls", tests, sizeof tests / sizeof tests[0], setup);
}
