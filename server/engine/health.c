/*
 * health.c: /live, /ready and /metrics over plain HTTP/1.1 on
 * health_listen (health.h). Requests are parsed by nodejs/http-parser
 * (Debian's libhttp-parser-dev, 2.9): a small, long-used C parser, the one
 * llhttp grew from; llhttp and picohttpparser are not packaged as C
 * libraries in Debian 12. We parse nothing by hand.
 *
 * Each connection reads at most HEALTH_REQUEST_MAX bytes, gets one answer
 * and is closed (Connection: close); at most HEALTH_MAX_CONNECTIONS are
 * open and each lives at most HEALTH_TIMEOUT_MS. /ready answers from state
 * kept by a timer (pool up, and `pg_is_in_recovery()` false at the last
 * check), so a probe never waits for the database. Probes are logged at
 * debug level only; changes of readiness at info.
 *
 * Not for: the counters themselves (metrics.c) or the protocol port.
 */
#include "health.h"

#include <arpa/inet.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "replica.h"
#include "session.h"

/* Pending HTTP connections the kernel queues for us. */
#define HEALTH_BACKLOG 64

typedef struct hconn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wr;
    http_parser parser;
    struct hconn *next, *prev;   /* H.conns: open connections */
    uint64_t id;
    size_t nread;                /* request bytes so far */
    char url[256];               /* the path; a longer one answers 404 */
    size_t url_len;
    int url_long;
    int complete;                /* a whole request was parsed */
    int answered;                /* the answer is being written: read no more */
    char *out;                   /* the answer; owned */
    char inbuf[1024];
    int handles;                 /* open handles; freed when it reaches 0 */
} hconn;

static const pool_stmt st_recovery = {
    .name = "health_recovery", .sql = "SELECT pg_is_in_recovery()", .nparams = 0};

static struct {
    server *s;
    uv_tcp_t listener;
    uv_timer_t timer;
    int listening, timer_on;
    int check_pending;           /* a readiness query is out */
    int writable;                /* last check: the database takes writes */
    uint64_t checked_ms;         /* loop time of the last answered check */
    int ready;                   /* what /ready said last (for the log) */
    hconn *conns;
    unsigned nconns;
    uint64_t next_id;
    http_parser_settings settings;
} H;

static void on_hconn_closed(uv_handle_t *h)
{
    hconn *c = h->data;
    if (--c->handles > 0)
        return;
    free(c->out);
    free(c);
}

static void hconn_close(hconn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        H.conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    H.nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_hconn_closed);
    uv_close((uv_handle_t *)&c->timer, on_hconn_closed);
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    hconn *c = p->data;
    if (c->url_len + len >= sizeof c->url) {
        c->url_long = 1;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_message_complete(http_parser *p)
{
    hconn *c = p->data;
    c->complete = 1;
    http_parser_pause(p, 1); /* one request per connection */
    return 0;
}

/* Readiness as /ready answers it, with the reason when not ready. */
static int is_ready(const char **why)
{
    if (H.s->shutting_down) {
        *why = "shutting down";
        return 0;
    }
    if (!pool_available(H.s->pool)) {
        *why = "no database connection";
        return 0;
    }
    if (!H.writable) {
        *why = "the database does not take writes (in recovery, or not checked yet)";
        return 0;
    }
    /* Its sessions are refused `unavailable` meanwhile (session.h). */
    if (!session_hearing(uv_now(H.s->loop))) {
        *why = "cannot hear account changes (LISTEN down, or no beat heard back)";
        return 0;
    }
    /* A database that stopped answering without closing its connections
     * (a partition, a frozen host) leaves the last verdict standing: it
     * holds only while the checks keep being answered. */
    if (uv_now(H.s->loop) - H.checked_ms > HEALTH_READY_STALE_MS) {
        *why = "the readiness check was not answered in time";
        return 0;
    }
    *why = "ready";
    return 1;
}

static void note_ready(void)
{
    const char *why;
    int r = is_ready(&why);
    if (r != H.ready)
        log_event(LOG_INFO, "health_ready", "ready=%d why=%s", r, log_q(why));
    H.ready = r;
}

static void on_written(uv_write_t *wr, int status)
{
    hconn *c = wr->data;
    if (status < 0)
        log_event(LOG_DEBUG, "health_write_failed", "health_conn=%llu err=%s",
                  (unsigned long long)c->id, uv_err_name(status));
    hconn_close(c);
}

/* Answers and closes. body is copied; HEAD gets the headers only. */
static void answer(hconn *c, int code, const char *reason, const char *ctype, const char *body,
                   size_t blen)
{
    int head_only = c->complete && c->parser.method == HTTP_HEAD;
    size_t cap = blen + 256;
    c->out = malloc(cap);
    if (c->out == NULL) {
        log_event(LOG_ERROR, "out_of_memory", "what=health_answer health_conn=%llu",
                  (unsigned long long)c->id);
        hconn_close(c);
        return;
    }
    int n = snprintf(c->out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     code, reason, ctype, blen);
    size_t len = (size_t)n;
    if (!head_only) {
        memcpy(c->out + len, body, blen);
        len += blen;
    }
    c->answered = 1;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->wr.data = c;
    uv_buf_t b = uv_buf_init(c->out, (unsigned)len);
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0)
        hconn_close(c);
}

static void answer_text(hconn *c, int code, const char *reason, const char *text)
{
    answer(c, code, reason, "text/plain; charset=utf-8", text, strlen(text));
}

static void answer_metrics(hconn *c)
{
    server *s = H.s;
    metrics_text t;
    metrics_text_init(&t, HEALTH_METRICS_MAX);
    metrics_render(&t);
    unsigned ready = 0, total = 0, queued = 0;
    pool_stats(s->pool, &ready, &total, &queued);
    const char *why;
    metrics_textf(&t,
                  "# HELP baobao_pool_connections Database connections of the pool, by state.\n"
                  "# TYPE baobao_pool_connections gauge\n"
                  "baobao_pool_connections{state=\"up\"} %u\n"
                  "baobao_pool_connections{state=\"configured\"} %u\n"
                  "# HELP baobao_pool_queue_depth Queries waiting for a free pipeline slot.\n"
                  "# TYPE baobao_pool_queue_depth gauge\nbaobao_pool_queue_depth %u\n"
                  "# HELP baobao_pool_in_flight Queries sent to the database, not yet answered.\n"
                  "# TYPE baobao_pool_in_flight gauge\nbaobao_pool_in_flight %u\n"
                  "# HELP baobao_client_connections Open protocol connections.\n"
                  "# TYPE baobao_client_connections gauge\nbaobao_client_connections %u\n"
                  "# HELP baobao_client_connections_max The max_connections setting.\n"
                  "# TYPE baobao_client_connections_max gauge\nbaobao_client_connections_max %u\n"
                  "# HELP baobao_input_budget_bytes Input buffer bytes in use beyond each"
                  " connection's base, and the input_budget_bytes setting.\n"
                  "# TYPE baobao_input_budget_bytes gauge\n"
                  "baobao_input_budget_bytes{state=\"used\"} %zu\n"
                  "baobao_input_budget_bytes{state=\"limit\"} %zu\n"
                  "# HELP baobao_output_budget_bytes Answers waiting to be written, summed"
                  " over connections, and the output_budget_bytes setting.\n"
                  "# TYPE baobao_output_budget_bytes gauge\n"
                  "baobao_output_budget_bytes{state=\"used\"} %zu\n"
                  "baobao_output_budget_bytes{state=\"limit\"} %zu\n"
                  "# HELP baobao_output_budget_closes_total Connections closed because the"
                  " output of all connections was past output_budget_bytes.\n"
                  "# TYPE baobao_output_budget_closes_total counter\n"
                  "baobao_output_budget_closes_total %llu\n"
                  "# HELP baobao_ready 1 when /ready answers 200.\n"
                  "# TYPE baobao_ready gauge\nbaobao_ready %d\n",
                  ready, total, queued, pool_in_flight(s->pool), s->nclients,
                  s->cfg.max_connections, s->input_reserved, (size_t)s->cfg.input_budget_bytes,
                  s->output_pending, s->cfg.output_budget_bytes,
                  (unsigned long long)s->output_budget_closes,
                  is_ready(&why));
    replica_metrics(s, &t);
    if (t.failed) {
        log_event(LOG_ERROR, "health_metrics_failed", "health_conn=%llu bytes=%zu",
                  (unsigned long long)c->id, t.len);
        answer_text(c, 500, "Internal Server Error", "metrics page too large\n");
    } else {
        answer(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", t.data, t.len);
    }
    metrics_text_free(&t);
}

static void route(hconn *c)
{
    char *q = strchr(c->url, '?');
    if (q != NULL)
        *q = '\0';
    unsigned m = c->parser.method;
    log_event(LOG_DEBUG, "health_probe", "health_conn=%llu method=%s path=%s",
              (unsigned long long)c->id, http_method_str((enum http_method)m), log_q(c->url));
    if (c->parser.http_major != 1) {
        answer_text(c, 400, "Bad Request", "HTTP/1.x only\n");
    } else if (m != HTTP_GET && m != HTTP_HEAD) {
        answer_text(c, 405, "Method Not Allowed", "GET or HEAD only\n");
    } else if (c->url_long) {
        answer_text(c, 404, "Not Found", "not found\n");
    } else if (strcmp(c->url, "/live") == 0) {
        answer_text(c, 200, "OK", "live\n");
    } else if (strcmp(c->url, "/ready") == 0) {
        const char *why;
        char body[160];
        int r = is_ready(&why);
        note_ready(); /* the log says what probes were told */
        snprintf(body, sizeof body, "%s\n", why);
        answer_text(c, r ? 200 : 503, r ? "OK" : "Service Unavailable", body);
    } else if (strcmp(c->url, "/metrics") == 0) {
        answer_metrics(c);
    } else {
        answer_text(c, 404, "Not Found", "not found\n");
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    hconn *c = h->data;
    *buf = uv_buf_init(c->inbuf, sizeof c->inbuf);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    hconn *c = st->data;
    if (n == 0 || c->answered)
        return;
    if (n < 0) { /* EOF before a whole request, or an error */
        log_event(LOG_DEBUG, "health_closed", "health_conn=%llu err=%s",
                  (unsigned long long)c->id, uv_err_name((int)n));
        hconn_close(c);
        return;
    }
    c->nread += (size_t)n;
    if (c->nread > HEALTH_REQUEST_MAX) {
        log_event(LOG_DEBUG, "health_oversized", "health_conn=%llu bytes=%zu max=%u",
                  (unsigned long long)c->id, c->nread, HEALTH_REQUEST_MAX);
        hconn_close(c);
        return;
    }
    size_t done = http_parser_execute(&c->parser, &H.settings, buf->base, (size_t)n);
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (c->complete) { /* paused after the first request: the rest is ignored */
        route(c);
        return;
    }
    if (e != HPE_OK || done != (size_t)n) {
        log_event(LOG_DEBUG, "health_bad_request", "health_conn=%llu err=%s",
                  (unsigned long long)c->id, http_errno_name(e));
        answer_text(c, 400, "Bad Request", "bad request\n");
    }
}

static void on_timeout(uv_timer_t *t)
{
    hconn *c = t->data;
    log_event(LOG_DEBUG, "health_timeout", "health_conn=%llu bytes=%zu",
              (unsigned long long)c->id, c->nread);
    hconn_close(c);
}

static void on_connection(uv_stream_t *l, int status)
{
    if (status < 0) {
        log_event(LOG_WARN, "health_accept_failed", "err=%s", uv_err_name(status));
        return;
    }
    hconn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        log_event(LOG_ERROR, "out_of_memory", "what=health_connection");
        return;
    }
    c->id = ++H.next_id;
    if (uv_tcp_init(H.s->loop, &c->tcp) < 0) {
        free(c);
        return;
    }
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 1;
    if (uv_timer_init(H.s->loop, &c->timer) < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_hconn_closed); /* not yet in H.conns */
        return;
    }
    c->handles = 2;
    c->next = H.conns;
    if (H.conns != NULL)
        H.conns->prev = c;
    H.conns = c;
    H.nconns++;
    int r = uv_accept(l, (uv_stream_t *)&c->tcp);
    if (r < 0) {
        log_event(LOG_WARN, "health_accept_failed", "err=%s", uv_err_name(r));
        hconn_close(c);
        return;
    }
    if (H.nconns > HEALTH_MAX_CONNECTIONS) {
        log_event(LOG_WARN, "health_refused", "health_conn=%llu reason=connections max=%u",
                  (unsigned long long)c->id, HEALTH_MAX_CONNECTIONS);
        hconn_close(c);
        return;
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (uv_timer_start(&c->timer, on_timeout, HEALTH_TIMEOUT_MS, 0) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        hconn_close(c);
}

static void on_recovery(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    H.check_pending = 0;
    if (e != NULL) {
        H.writable = 0;
        log_event(LOG_DEBUG, "health_check_failed", "code=%s msg=%s", bb_err_code(e->err),
                  log_q(e->message));
    } else {
        H.writable = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "f") == 0;
        H.checked_ms = uv_now(H.s->loop);
    }
    note_ready();
}

static void on_check(uv_timer_t *t)
{
    (void)t;
    if (!pool_available(H.s->pool)) {
        H.writable = 0; /* a new connection may reach a standby: check again */
    } else if (!H.check_pending) {
        int r = pool_query(H.s->pool, &st_recovery, NULL, NULL, on_recovery, NULL);
        /* Not queued (the pool's queue is full under load): the last
         * verdict stands, bounded by HEALTH_READY_STALE_MS, so a busy
         * fleet is not taken out of the balancer all at once. */
        if (r == 0)
            H.check_pending = 1;
    }
    note_ready();
}

int health_register(void)
{
    if (pool_register(&st_recovery) != 0) {
        log_event(LOG_ERROR, "startup_failed", "what=health why=\"statement registry full\"");
        return -1;
    }
    return 0;
}

/* Splits "host:port" / "[v6]:port" into host and port. 0 or -1. */
static int split_host_port(const char *in, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon;
    const char *h = in;
    size_t hlen;
    if (in[0] == '[') {
        const char *close = strchr(in, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = in + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(in, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - in);
    }
    size_t plen = strlen(colon + 1);
    if (hlen == 0 || hlen >= hcap || plen == 0 || plen >= pcap ||
        strspn(colon + 1, "0123456789") != plen)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    memcpy(port, colon + 1, plen + 1);
    return 0;
}

int health_check_setting(const config *c, char *err, size_t errlen)
{
    char host[256], port[16];
    if (c->health_listen[0] == '\0')
        return 0;
    if (split_host_port(c->health_listen, host, sizeof host, port, sizeof port) != 0 ||
        strlen(port) > 5 || atoi(port) > 65535) {
        snprintf(err, errlen, "health_listen: \"%s\" is not host:port", c->health_listen);
        return -1;
    }
    if (atoi(port) != 0 && (unsigned)atoi(port) == c->port) {
        snprintf(err, errlen, "health_listen: port %s is the protocol's port", port);
        return -1;
    }
    return 0;
}

int health_start(server *s)
{
    H.s = s;
    const char *spec = s->cfg.health_listen;
    if (spec[0] == '\0')
        return 0;
    http_parser_settings_init(&H.settings);
    H.settings.on_url = on_url;
    H.settings.on_message_complete = on_message_complete;
    char host[256], port[16];
    if (split_host_port(spec, host, sizeof host, port, sizeof port) != 0) {
        log_event(LOG_ERROR, "health_listen_failed", "health_listen=%s why=\"not host:port\"",
                  log_q(spec));
        return UV_EINVAL;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    /* Blocking name resolution is fine here: the loop is not running yet. */
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0 || ai == NULL) {
        log_event(LOG_ERROR, "health_listen_failed", "health_listen=%s err=%s", log_q(spec),
                  log_q(gai_strerror(g)));
        return UV_EINVAL;
    }
    int r = uv_tcp_init(s->loop, &H.listener);
    if (r < 0) {
        freeaddrinfo(ai);
        return r;
    }
    H.listening = 1;
    H.listener.data = s;
    r = uv_tcp_bind(&H.listener, ai->ai_addr, 0);
    freeaddrinfo(ai);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&H.listener, HEALTH_BACKLOG, on_connection);
    if (r == 0)
        r = uv_timer_init(s->loop, &H.timer);
    if (r == 0) {
        H.timer_on = 1;
        r = uv_timer_start(&H.timer, on_check, 0, HEALTH_READY_CHECK_MS);
    }
    if (r < 0) {
        log_event(LOG_ERROR, "health_listen_failed", "health_listen=%s err=%s", log_q(spec),
                  uv_err_name(r));
        health_stop(s);
        return r;
    }
    /* The real port, also for port 0 (tests), as listener.c does. */
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    unsigned real_port = 0;
    if (uv_tcp_getsockname(&H.listener, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            real_port = ntohs(((const struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            real_port = ntohs(((const struct sockaddr_in6 *)&ss)->sin6_port);
    }
    log_event(LOG_INFO, "health_listening", "host=%s port=%u", log_q(host), real_port);
    return 0;
}

void health_stop(server *s)
{
    (void)s;
    if (H.listening) {
        H.listening = 0;
        uv_close((uv_handle_t *)&H.listener, NULL);
    }
    if (H.timer_on) {
        H.timer_on = 0;
        uv_close((uv_handle_t *)&H.timer, NULL);
    }
    while (H.conns != NULL)
        hconn_close(H.conns);
}
