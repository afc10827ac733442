/*
 * tls.c: TLS under libbaobao's connection (OpenSSL), for bb_connect_with.
 *
 * For: the handshake with the client's deadline (the socket stays
 * non-blocking; WANT_READ / WANT_WRITE become poll(2) waits), verifying the
 * server's chain against tls_ca_file (or the system's default CAs) and its
 * name (DNS name with SNI, or an IP address), and the read / write / close
 * calls client.c makes instead of recv / send / close once TLS is on.
 * Failures are BB_C_EIO "tls_failed" with the cause in the message.
 *
 * The socket is driven through a small BIO of our own rather than
 * SSL_set_fd: OpenSSL's socket BIO writes with write(2), which raises
 * SIGPIPE when the server has gone, and a library must not kill the
 * program that uses it. Ours uses send(MSG_NOSIGNAL) and recv, and is
 * otherwise the same (non-blocking, "retry" on EAGAIN).
 *
 * Not for: framing, msgid matching, deadlines of calls (client.c).
 */
#include "client_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* TLS 1.2 suites the client offers: forward secrecy and AEAD only (as the
 * server; TLS 1.3 keeps OpenSSL's defaults). */
#define BBI_TLS_CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20"

struct bbi_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;                 /* borrowed: client.c closes it */
    int saved_errno;        /* errno of the last failed send/recv */
};

/* ---- the socket BIO (send with MSG_NOSIGNAL) ---- */

/* Built once per process (sock_method_build, under g_sock_once) and kept
 * for the program's life: a library may be used from several threads, each
 * with its own bb_client, connecting at the same time. */
static BIO_METHOD *g_sock_method;
static pthread_once_t g_sock_once = PTHREAD_ONCE_INIT;

static int sock_write(BIO *b, const char *data, int len)
{
    bbi_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = send(t->fd, data, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        t->saved_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        return -1;
    }
    return (int)n;
}

static int sock_read(BIO *b, char *data, int len)
{
    bbi_tls *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = recv(t->fd, data, (size_t)len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        t->saved_errno = errno;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_read(b);
        return -1;
    }
    if (n == 0)
        t->saved_errno = 0;
    return (int)n;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: /* nothing is buffered here */
    case BIO_CTRL_DUP:
        return 1;
    default:
        return 0;
    }
}

static int sock_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int sock_puts(BIO *b, const char *s)
{
    return sock_write(b, s, (int)strlen(s));
}

static void sock_method_build(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "baobao socket");
    if (m == NULL)
        return;
    if (BIO_meth_set_write(m, sock_write) != 1 || BIO_meth_set_read(m, sock_read) != 1 ||
        BIO_meth_set_puts(m, sock_puts) != 1 || BIO_meth_set_ctrl(m, sock_ctrl) != 1 ||
        BIO_meth_set_create(m, sock_create) != 1) {
        BIO_meth_free(m);
        return;
    }
    g_sock_method = m;
}

/* The socket BIO method, or NULL when it could not be built (out of
 * memory; then every TLS connect of this process fails: pthread_once runs
 * the builder once only). */
static BIO_METHOD *sock_method(void)
{
    if (pthread_once(&g_sock_once, sock_method_build) != 0)
        return NULL;
    return g_sock_method;
}

/* ---- errors ---- */

/* OpenSSL's newest error reason ("wrong version number"), or "".
 * Clears the queue. Also returns the packed error for its reason code. */
static unsigned long ssl_reason(char *out, size_t outlen)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    out[0] = '\0';
    if (last != 0) {
        const char *r = ERR_reason_error_string(last);
        if (r != NULL)
            snprintf(out, outlen, "%s", r);
        else
            ERR_error_string_n(last, out, outlen);
    }
    return last;
}

/* True when the error means the bytes from the server were not TLS at all
 * (a plaintext baobaod answers our hello with msgpack). */
static bool not_tls_reason(unsigned long e)
{
    if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL)
        return false;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
#ifdef SSL_R_RECORD_LAYER_FAILURE
    case SSL_R_RECORD_LAYER_FAILURE:
#endif
        return true;
    default:
        return false;
    }
}

/* Every failure of this file: BB_C_EIO, code tls_failed. */
#define TLS_FAIL(err, ...) bbi_err((err), BB_C_EIO, "tls_failed", NULL, __VA_ARGS__)

/* ---- connect ---- */

static bool is_ip_literal(const char *name)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

void bbi_tls_free(bbi_tls *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t);
}

/* Sets up the context and the SSL: versions, CAs, name. */
static int tls_setup(bbi_tls *t, const char *name, const bb_connect_opts *opts, bb_error *err)
{
    char why[256];
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL) {
        ssl_reason(why, sizeof why);
        return TLS_FAIL(err, "TLS: cannot create a context: %s", why);
    }
    if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(t->ctx, BBI_TLS_CIPHERS_12) != 1) {
        ssl_reason(why, sizeof why);
        return TLS_FAIL(err, "TLS: cannot set versions or ciphers: %s", why);
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* The server's FIN without close_notify is an ordinary end here:
     * msgpack framing, not the TLS close, tells where replies end. */
    SSL_CTX_set_options(t->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    const char *ca = opts->tls_ca_file;
    if (ca != NULL && ca[0] != '\0') {
        if (SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
            ssl_reason(why, sizeof why);
            return TLS_FAIL(err, "cannot load the CA file %s: %s", ca,
                            why[0] ? why : "no PEM certificate in it");
        }
    } else if (SSL_CTX_set_default_verify_paths(t->ctx) != 1) {
        ssl_reason(why, sizeof why);
        return TLS_FAIL(err, "cannot load the system's CA certificates: %s", why);
    }
    t->ssl = SSL_new(t->ctx);
    BIO *bio = NULL;
    BIO_METHOD *m = sock_method();
    if (t->ssl == NULL || m == NULL || (bio = BIO_new(m)) == NULL) {
        ERR_clear_error();
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory setting up TLS");
    }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);
    SSL_set_connect_state(t->ssl);
    X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
    if (is_ip_literal(name)) {
        /* An address is checked against the certificate's IP entries; SNI
         * carries names only (RFC 6066). */
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) != 1)
            return TLS_FAIL(err, "TLS: bad server address %s", name);
    } else {
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (SSL_set1_host(t->ssl, name) != 1 || SSL_set_tlsext_host_name(t->ssl, name) != 1) {
            ERR_clear_error();
            return TLS_FAIL(err, "TLS: bad server name %s", name);
        }
    }
    return BB_C_OK;
}

/* Waits for the socket as SSL asked (want: SSL_ERROR_WANT_*). BB_C_OK,
 * BB_C_ETIMEOUT, or BB_C_EIO with errno set. */
static int wait_for(int fd, int want, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd,
                            .events = want == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
        int pr = poll(&p, 1, bbi_time_left(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return BB_C_EIO;
        return pr == 0 ? BB_C_ETIMEOUT : BB_C_OK;
    }
}

int bbi_tls_connect(int fd, const char *host, const bb_connect_opts *opts, int64_t deadline,
                    bbi_tls **out, bb_error *err)
{
    *out = NULL;
    const char *name = opts->tls_server_name != NULL && opts->tls_server_name[0] != '\0'
                           ? opts->tls_server_name
                           : host;
    bbi_tls *t = calloc(1, sizeof *t);
    if (t == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    t->fd = fd;
    ERR_clear_error();
    int rc = tls_setup(t, name, opts, err);
    if (rc != BB_C_OK) {
        bbi_tls_free(t);
        return rc;
    }
    for (;;) {
        ERR_clear_error();
        t->saved_errno = 0;
        int r = SSL_connect(t->ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_for(fd, e, deadline);
            if (w == BB_C_OK)
                continue;
            rc = w == BB_C_ETIMEOUT
                     ? TLS_FAIL(err, "TLS handshake with %s: no answer within the timeout "
                                     "(does the server speak TLS?)", name)
                     : TLS_FAIL(err, "TLS handshake with %s: poll: %s", name, strerror(errno));
            bbi_tls_free(t);
            return rc;
        }
        char why[256];
        unsigned long last = ssl_reason(why, sizeof why);
        long vr = SSL_get_verify_result(t->ssl);
        if (vr != X509_V_OK) {
            /* "unable to get local issuer certificate", "hostname
             * mismatch", "IP address mismatch", "certificate has expired" */
            rc = TLS_FAIL(err, "certificate verify failed: %s (server name %s)",
                          X509_verify_cert_error_string(vr), name);
        } else if (not_tls_reason(last)) {
            rc = TLS_FAIL(err, "the peer does not speak TLS (%s); is %s a plaintext server?",
                          why, name);
        } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN ||
                   (e == SSL_ERROR_SSL && last != 0 && ERR_GET_LIB(last) == ERR_LIB_SSL &&
                    ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
            const char *cause = t->saved_errno != 0 ? strerror(t->saved_errno)
                                                    : "the server closed the connection";
            rc = TLS_FAIL(err, "TLS handshake with %s failed: %s during the handshake "
                               "(too many connections, or not a TLS server?)",
                          name, cause);
        } else {
            rc = TLS_FAIL(err, "TLS handshake with %s failed: %s", name,
                          why[0] ? why : "unknown error");
        }
        bbi_tls_free(t);
        return rc;
    }
    *out = t;
    return BB_C_OK;
}

/* ---- I/O after the handshake ---- */

/* The BBI_TLS_* answer to an SSL_read (reading) or SSL_write that
 * returned r <= 0. They differ only where the socket failed without an
 * errno: to a read that is the server's FIN, an EOF; a write cannot
 * complete, so it is a socket error saying the server closed. */
static ssize_t io_failure(bbi_tls *t, int r, bool reading, char *why, size_t whylen)
{
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        return BBI_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return BBI_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return BBI_TLS_EOF;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (reading && t->saved_errno == 0)
            return BBI_TLS_EOF;
        snprintf(why, whylen, "%s",
                 t->saved_errno ? strerror(t->saved_errno) : "the server closed the connection");
        return BBI_TLS_SOCKET_ERROR;
    default: {
        char r2[200];
        ssl_reason(r2, sizeof r2);
        snprintf(why, whylen, "TLS error: %s", r2[0] ? r2 : "unknown");
        return BBI_TLS_ERROR;
    }
    }
}

ssize_t bbi_tls_read(bbi_tls *t, void *buf, size_t len, char *why, size_t whylen)
{
    ERR_clear_error();
    t->saved_errno = 0;
    int r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return r > 0 ? r : io_failure(t, r, true, why, whylen);
}

ssize_t bbi_tls_write(bbi_tls *t, const void *buf, size_t len, char *why, size_t whylen)
{
    ERR_clear_error();
    t->saved_errno = 0;
    int r = SSL_write(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
    return r > 0 ? r : io_failure(t, r, false, why, whylen);
}

size_t bbi_tls_pending(const bbi_tls *t)
{
    int n = SSL_pending(t->ssl);
    return n > 0 ? (size_t)n : 0;
}

void bbi_tls_close(bbi_tls *t, bool notify)
{
    if (t == NULL)
        return;
    if (notify) {
        /* Best effort, without waiting: one try at queueing close_notify. */
        ERR_clear_error();
        (void)SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
    bbi_tls_free(t);
}
