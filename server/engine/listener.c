/*
 * listener.c: the listening socket. Binds host:port (an IPv4 or IPv6
 * literal, or a name resolved once at start), accepts, and hands each
 * connection to client.c, or, past max_connections, tells it
 * `connection.closing` (unavailable) and closes it: a refused client learns
 * why instead of seeing a bare reset. On a TLS port the refused client
 * gets no notice (it could only read one after a full handshake, which is
 * the cost max_connections is there to bound): it sees the connection
 * closed, without a reset.
 *
 * Not for: anything after a connection is accepted (client.c).
 */
#include "listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "bb_rpc.h"
#include "client.h"
#include "log.h"

/* Pending connections the kernel queues for us. */
#define LISTENER_BACKLOG 511

/* A refused connection half-closes after its notice and reads (and drops)
 * what the client sent for at most this long, so the close does not turn
 * into a TCP reset that could destroy the notice in flight (the same reason
 * client.c lingers). */
#define REFUSED_LINGER_MS 2000u
/* Where a refused connection's input goes: the loop thread is the only
 * reader, and nothing is kept. */
static char refused_discard[4096];

/* A connection refused for max_connections, alive until its notice is
 * written, the FIN sent, and both its handles (tcp, timer) closed. */
typedef struct refused {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    uv_shutdown_t shut;
    msgpack_sbuffer sb;
    uint64_t id;
    int handles;       /* open handles; freed when it reaches 0 */
} refused;

static void on_refused_handle_closed(uv_handle_t *h)
{
    refused *r = h->data;
    if (--r->handles > 0)
        return;
    msgpack_sbuffer_destroy(&r->sb);
    free(r);
}

static void refused_close(refused *r)
{
    if (!uv_is_closing((uv_handle_t *)&r->tcp))
        uv_close((uv_handle_t *)&r->tcp, on_refused_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&r->timer))
        uv_close((uv_handle_t *)&r->timer, on_refused_handle_closed);
}

static void refused_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    *buf = uv_buf_init(refused_discard, sizeof refused_discard);
}

static void refused_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    if (n < 0) /* EOF or error: the client has everything or is gone */
        refused_close(st->data);
}

static void refused_timeout(uv_timer_t *t) { refused_close(t->data); }

static void on_refused_shutdown(uv_shutdown_t *sd, int status)
{
    (void)status;
    (void)sd;
}

static void on_refused_written(uv_write_t *wr, int status)
{
    refused *r = wr->data;
    if (status < 0) {
        log_conn(LOG_DEBUG, r->id, "write_failed", "err=%s", uv_err_name(status));
        refused_close(r);
        return;
    }
    r->shut.data = r;
    if (uv_shutdown(&r->shut, (uv_stream_t *)&r->tcp, on_refused_shutdown) < 0 ||
        uv_read_start((uv_stream_t *)&r->tcp, refused_alloc, refused_read) < 0 ||
        uv_timer_start(&r->timer, refused_timeout, REFUSED_LINGER_MS, 0) < 0)
        refused_close(r);
}

static void refuse(server *s, uv_stream_t *listener)
{
    refused *r = calloc(1, sizeof *r);
    if (r == NULL) {
        log_event(LOG_ERROR, "out_of_memory", "what=refused_connection");
        return;
    }
    r->id = ++s->next_conn_id;
    msgpack_sbuffer_init(&r->sb);
    if (uv_tcp_init(s->loop, &r->tcp) < 0) {
        free(r);
        return;
    }
    if (uv_timer_init(s->loop, &r->timer) < 0) {
        r->tcp.data = r;
        r->handles = 1;
        uv_close((uv_handle_t *)&r->tcp, on_refused_handle_closed);
        return;
    }
    r->handles = 2;
    r->tcp.data = r;
    r->timer.data = r;
    r->wr.data = r;
    int e = uv_accept(listener, (uv_stream_t *)&r->tcp);
    if (e < 0) {
        log_event(LOG_WARN, "accept_failed", "err=%s", uv_err_name(e));
        refused_close(r);
        return;
    }
    log_conn(LOG_WARN, r->id, "conn_refused", "reason=max_connections clients=%u max=%u tls=%d",
             s->nclients, s->cfg.max_connections, s->tls != NULL);
    if (s->tls != NULL) {
        on_refused_written(&r->wr, 0); /* straight to FIN and linger */
        return;
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
    bb_rpc_pack_closing(&pk, BB_E_UNAVAILABLE, "too many connections (max_connections)");
    uv_buf_t b = uv_buf_init(r->sb.data, (unsigned)r->sb.size);
    e = uv_write(&r->wr, (uv_stream_t *)&r->tcp, &b, 1, on_refused_written);
    if (e < 0)
        refused_close(r);
}

static void on_connection(uv_stream_t *listener, int status)
{
    server *s = listener->data;
    if (status < 0) {
        log_event(LOG_WARN, "accept_failed", "err=%s", uv_err_name(status));
        return;
    }
    if (s->nclients >= s->cfg.max_connections) {
        refuse(s, listener);
        return;
    }
    int r = client_accept(s, listener);
    if (r < 0)
        log_event(LOG_WARN, "accept_failed", "err=%s", uv_err_name(r));
}

int listener_start(server *s)
{
    const char *host = s->cfg.listen_host;
    char port[16];
    snprintf(port, sizeof port, "%u", s->cfg.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    struct addrinfo *ai = NULL;
    /* Blocking name resolution is fine here: the loop is not running yet. */
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0 || ai == NULL) {
        log_event(LOG_ERROR, "listen_failed", "host=%s port=%u err=%s", log_q(host),
                  s->cfg.port, log_q(gai_strerror(g)));
        return UV_EINVAL;
    }
    int r = uv_tcp_init(s->loop, &s->listener);
    if (r < 0) {
        freeaddrinfo(ai);
        return r;
    }
    s->listener.data = s;
    s->listener_open = true;
    r = uv_tcp_bind(&s->listener, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&s->listener, LISTENER_BACKLOG, on_connection);
    if (r < 0) {
        log_event(LOG_ERROR, "listen_failed", "host=%s port=%u err=%s", log_q(host),
                  s->cfg.port, uv_err_name(r));
        listener_stop(s);
        return r;
    }
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    unsigned real_port = s->cfg.port;
    if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            real_port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            real_port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    }
    log_event(LOG_INFO, "listening", "host=%s port=%u", host, real_port);
    return 0;
}

void listener_stop(server *s)
{
    if (!s->listener_open)
        return;
    s->listener_open = false;
    uv_close((uv_handle_t *)&s->listener, NULL);
}
