/*
 * tls.c: TLS for client connections: the SSL_CTX built at start-up from
 * tls_cert/tls_key, the plaintext-on-the-network refusal, and one SSL per
 * connection between two memory BIOs (see tls.h for how client.c drives it).
 *
 * Why memory BIOs: the socket stays libuv's, so reading, writing,
 * backpressure and linger are the same code for TLS and plaintext; OpenSSL
 * only ever turns bytes into bytes, on the loop thread, and never blocks.
 * The handshake (one ECDHE and one signature with the server's key) runs on
 * the loop thread too: OpenSSL objects are not handed to the thread pool.
 *
 * Memory: SSL_MODE_RELEASE_BUFFERS lets an idle SSL drop its record
 * buffers; tls_conn_trim replaces a memory BIO that grew (a large request or
 * reply) once it is empty, so an idle connection keeps the SSL object and
 * two empty BIOs. No session cache, no tickets: nothing kept per session.
 *
 * Not for: the socket, framing, states (client.c).
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "log.h"

/* Plaintext handed to one SSL_write: one full TLS record, so each write
 * BIO holds at most a record (plus overhead) before it is drained. */
#define TLS_WRITE_CHUNK 16384u
/* A memory BIO whose buffer grew beyond this is replaced once empty. */
#define TLS_BIO_KEEP_BYTES 512u
/* Bytes of record overhead reserved per chunk when sizing the output
 * (header, explicit nonce, tag, padding; TLS 1.2 GCM needs 29). */
#define TLS_RECORD_OVERHEAD 64u
/* TLS 1.2 suites: forward secrecy and AEAD only (TLS 1.3 suites are all
 * of that kind and keep OpenSSL's defaults). */
#define TLS_CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20"

struct tls_server {
    SSL_CTX *ctx;
};

struct tls_conn {
    SSL *ssl;               /* owns both BIOs */
    bool failed;
    bool close_sent;
    char err[200];
};

/* ---- start-up ------------------------------------------------------- */

/* The newest OpenSSL error as "reason (library)", or fallback; clears the
 * error queue. */
static void ssl_reason(char *out, size_t outlen, const char *fallback)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    if (last == 0) {
        snprintf(out, outlen, "%s", fallback);
        return;
    }
    const char *reason = ERR_reason_error_string(last);
    const char *lib = ERR_lib_error_string(last);
    if (reason != NULL)
        snprintf(out, outlen, "%s%s%s%s", reason, lib ? " (" : "", lib ? lib : "", lib ? ")" : "");
    else
        ERR_error_string_n(last, out, outlen);
}

/* Refuses to ask for a passphrase on the terminal: baobaod runs unattended,
 * so an encrypted key is an error at start, not a prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static bool is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

/* A readable file, or -1 with the reason in err. */
static int check_readable(const char *key, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read %s: %s", key, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static void log_certificate(SSL_CTX *ctx, const char *path)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    if (x == NULL)
        return;
    char subject[256] = "?", not_after[64] = "?";
    X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof subject);
    BIO *b = BIO_new(BIO_s_mem());
    if (b != NULL) {
        if (ASN1_TIME_print(b, X509_get0_notAfter(x)) == 1) {
            int n = BIO_read(b, not_after, (int)sizeof not_after - 1);
            not_after[n > 0 ? n : 0] = '\0';
        }
        BIO_free(b);
    }
    log_event(LOG_INFO, "tls_enabled", "cert=%s subject=%s not_after=%s min_version=TLSv1.2",
              log_q(path), log_q(subject), log_q(not_after));
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        log_event(LOG_WARN, "tls_cert_expired", "cert=%s not_after=%s", log_q(path),
                  log_q(not_after));
}

static SSL_CTX *build_ctx(const config *cfg, char *err, size_t errlen)
{
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) {
        ssl_reason(why, sizeof why, "out of memory");
        snprintf(err, errlen, "TLS: cannot create a context: %s", why);
        return NULL;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
        ssl_reason(why, sizeof why, "unsupported");
        snprintf(err, errlen, "TLS: cannot set the protocol versions or ciphers: %s", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* Renegotiation off (a client cannot make us redo the expensive part
     * on an open connection); no compression (CRIME); no session state
     * kept for resumption (memory per client, and nothing to expire). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    (void)SSL_CTX_set_num_tickets(ctx, 0);

    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
        ssl_reason(why, sizeof why, "no certificate found");
        snprintf(err, errlen, "tls_cert %s: cannot load a PEM certificate chain: %s",
                 cfg->tls_cert, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
        ssl_reason(why, sizeof why, "no key found");
        /* A key that does not fit the certificate fails already here
         * (OpenSSL compares them while loading). */
        if (strstr(why, "values mismatch") != NULL || strstr(why, "mismatch") != NULL)
            snprintf(err, errlen, "tls_key %s does not match the certificate in tls_cert %s",
                     cfg->tls_key, cfg->tls_cert);
        else
            snprintf(err, errlen,
                     "tls_key %s: cannot load a PEM private key (an encrypted key is not "
                     "supported): %s",
                     cfg->tls_key, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "tls_key %s does not match the certificate in tls_cert %s",
                 cfg->tls_key, cfg->tls_cert);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int tls_server_init(server *s, char *err, size_t errlen)
{
    const config *cfg = &s->cfg;
    s->tls = NULL;
    bool has_cert = cfg->tls_cert[0] != '\0', has_key = cfg->tls_key[0] != '\0';
    if (has_cert != has_key) {
        snprintf(err, errlen, "%s is set but %s is not: TLS needs both the certificate chain "
                 "(tls_cert) and its private key (tls_key)",
                 has_cert ? "tls_cert" : "tls_key", has_cert ? "tls_key" : "tls_cert");
        return -1;
    }
    if (!has_cert) {
        if (is_loopback(cfg->listen_host))
            return 0;
        if (cfg->allow_plaintext != 1) {
            snprintf(err, errlen,
                     "listen address %s is not loopback and TLS is off: requests and passwords "
                     "would cross the network in plaintext; set tls_cert and tls_key, or "
                     "allow_plaintext=1 to serve plaintext anyway",
                     cfg->listen_host);
            return -1;
        }
        log_event(LOG_WARN, "plaintext_allowed", "listen=%s why=allow_plaintext",
                  log_q(cfg->listen_host));
        return 0;
    }
    if (check_readable("tls_cert", cfg->tls_cert, err, errlen) != 0 ||
        check_readable("tls_key", cfg->tls_key, err, errlen) != 0)
        return -1;
    struct tls_server *ts = calloc(1, sizeof *ts);
    if (ts == NULL) {
        snprintf(err, errlen, "TLS: out of memory");
        return -1;
    }
    ts->ctx = build_ctx(cfg, err, errlen);
    if (ts->ctx == NULL) {
        free(ts);
        return -1;
    }
    log_certificate(ts->ctx, cfg->tls_cert);
    s->tls = ts;
    return 0;
}

void tls_server_free(server *s)
{
    if (s->tls == NULL)
        return;
    SSL_CTX_free(s->tls->ctx);
    free(s->tls);
    s->tls = NULL;
}

/* ---- per connection --------------------------------------------------- */

tls_conn *tls_conn_new(struct tls_server *ts)
{
    tls_conn *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->ssl = SSL_new(ts->ctx);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || rb == NULL || wb == NULL) {
        BIO_free(rb);
        BIO_free(wb);
        SSL_free(t->ssl);
        free(t);
        ERR_clear_error();
        return NULL;
    }
    /* An empty memory BIO answers "retry", not EOF: more may come. */
    BIO_set_mem_eof_return(rb, -1);
    BIO_set_mem_eof_return(wb, -1);
    SSL_set_bio(t->ssl, rb, wb);
    SSL_set_accept_state(t->ssl);
    return t;
}

void tls_conn_free(tls_conn *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    free(t);
}

static tls_status fail(tls_conn *t, const char *fallback)
{
    ssl_reason(t->err, sizeof t->err, fallback);
    t->failed = true;
    return TLS_ERROR;
}

tls_status tls_conn_feed(tls_conn *t, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        int n = len > INT_MAX ? INT_MAX : (int)len;
        int w = BIO_write(SSL_get_rbio(t->ssl), p, n);
        if (w <= 0)
            return fail(t, "out of memory buffering ciphertext");
        p += w;
        len -= (size_t)w;
    }
    return TLS_OK;
}

/* What an OpenSSL call that returned r <= 0 means for the caller, the same
 * for the handshake and for reads: wait for more bytes, the peer closed
 * (closed_ok: a close_notify is a clean end; otherwise it fails like any
 * other error), or the connection failed (failure: the message). */
static tls_status ssl_outcome(tls_conn *t, int r, bool closed_ok, const char *failure)
{
    switch (SSL_get_error(t->ssl, r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: /* a memory BIO takes every write */
        return TLS_WANT_MORE;
    case SSL_ERROR_ZERO_RETURN:
        if (closed_ok)
            return TLS_CLOSED;
        break;
    case SSL_ERROR_SYSCALL:
        return fail(t, "unexpected end of the TLS stream");
    default:
        break;
    }
    return fail(t, failure);
}

tls_status tls_conn_handshake(tls_conn *t)
{
    if (t->failed)
        return TLS_ERROR;
    if (SSL_is_init_finished(t->ssl))
        return TLS_OK;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return TLS_OK;
    /* A close_notify before the handshake ends is a failed handshake. */
    return ssl_outcome(t, r, false, "TLS handshake failed");
}

tls_status tls_conn_read(tls_conn *t, void *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (t->failed)
        return TLS_ERROR;
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (r > 0) {
        *n = (size_t)r;
        return TLS_OK;
    }
    return ssl_outcome(t, r, true, "TLS protocol error");
}

/* Makes room for extra more bytes in out. 0 or -1. */
static int buf_reserve(tls_buf *out, size_t extra)
{
    if (out->cap - out->len >= extra)
        return 0;
    size_t cap = out->cap ? out->cap : 4096;
    while (cap - out->len < extra)
        cap *= 2;
    char *d = realloc(out->data, cap);
    if (d == NULL)
        return -1;
    out->data = d;
    out->cap = cap;
    return 0;
}

tls_status tls_conn_drain(tls_conn *t, tls_buf *out)
{
    BIO *wb = SSL_get_wbio(t->ssl);
    size_t pending = BIO_ctrl_pending(wb);
    while (pending > 0) {
        if (buf_reserve(out, pending) != 0) {
            snprintf(t->err, sizeof t->err, "out of memory draining ciphertext");
            t->failed = true;
            return TLS_ERROR;
        }
        int want = pending > INT_MAX ? INT_MAX : (int)pending;
        int r = BIO_read(wb, out->data + out->len, want);
        if (r <= 0)
            break;
        out->len += (size_t)r;
        pending = BIO_ctrl_pending(wb);
    }
    return TLS_OK;
}

tls_status tls_conn_encrypt(tls_conn *t, const void *data, size_t len, tls_buf *out)
{
    if (!tls_conn_ready(t))
        return TLS_ERROR;
    const char *p = data;
    /* Sized once for the whole reply, so a large one is not re-copied
     * while it grows. */
    size_t records = len / TLS_WRITE_CHUNK + 1;
    if (buf_reserve(out, len + records * TLS_RECORD_OVERHEAD + tls_conn_pending_out(t)) != 0) {
        snprintf(t->err, sizeof t->err, "out of memory encrypting");
        t->failed = true;
        return TLS_ERROR;
    }
    while (len > 0) {
        int n = len > TLS_WRITE_CHUNK ? (int)TLS_WRITE_CHUNK : (int)len;
        ERR_clear_error();
        int w = SSL_write(t->ssl, p, n);
        if (w <= 0)
            return fail(t, "TLS write failed");
        p += w;
        len -= (size_t)w;
        if (tls_conn_drain(t, out) != TLS_OK)
            return TLS_ERROR;
    }
    return TLS_OK;
}

size_t tls_conn_pending_out(const tls_conn *t)
{
    return BIO_ctrl_pending(SSL_get_wbio(t->ssl));
}

bool tls_conn_ready(const tls_conn *t)
{
    return !t->failed && SSL_is_init_finished(t->ssl);
}

bool tls_conn_failed(const tls_conn *t) { return t->failed; }

void tls_conn_close_notify(tls_conn *t)
{
    if (t->close_sent || !tls_conn_ready(t))
        return;
    t->close_sent = true;
    ERR_clear_error();
    /* 0 (sent, the peer's not yet seen) or 1 are both fine: we do not wait
     * for the peer's close_notify, the TCP close follows. */
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
}

static bool bio_grew(BIO *b)
{
    BUF_MEM *bm = NULL;
    if (BIO_ctrl_pending(b) != 0)
        return false;
    BIO_get_mem_ptr(b, &bm);
    return bm != NULL && bm->max > TLS_BIO_KEEP_BYTES;
}

void tls_conn_trim(tls_conn *t)
{
    if (!tls_conn_ready(t))
        return; /* the handshake's buffering BIO sits on the write side */
    if (bio_grew(SSL_get_rbio(t->ssl))) {
        BIO *n = BIO_new(BIO_s_mem());
        if (n != NULL) {
            BIO_set_mem_eof_return(n, -1);
            SSL_set0_rbio(t->ssl, n); /* frees the old one */
        }
    }
    if (bio_grew(SSL_get_wbio(t->ssl))) {
        BIO *n = BIO_new(BIO_s_mem());
        if (n != NULL) {
            BIO_set_mem_eof_return(n, -1);
            SSL_set0_wbio(t->ssl, n);
        }
    }
}

const char *tls_conn_error(const tls_conn *t) { return t->err[0] ? t->err : "-"; }
const char *tls_conn_version(const tls_conn *t) { return SSL_get_version(t->ssl); }
const char *tls_conn_cipher(const tls_conn *t)
{
    const char *c = SSL_get_cipher_name(t->ssl);
    return c != NULL ? c : "-";
}
