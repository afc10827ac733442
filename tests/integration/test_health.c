/*
 * test_health.c: the HTTP listener on health_listen (server/engine/health.c),
 * scraped with a raw socket as a balancer's probe or Prometheus would:
 * /live answers while the loop runs; /ready follows the database for real
 * (the cluster is stopped: 503, started again: 200); /metrics is the
 * Prometheus text format and its request counter moves with requests; a
 * malformed request gets 400, an oversized one is closed; probes are not
 * logged at info level.
 *
 * Not for: what the counters count in detail (their tables are plain data,
 * metrics.c). Stops the shared cluster, so meson runs it alone.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Polls of /ready wait at most this long for it to change (the server
 * checks the database every HEALTH_READY_CHECK_MS = 1 s; reconnects back
 * off up to reconnect_max_ms). A deadline for a state, not a speed. */
#define READY_WITHIN_MS 30000
/* More than HEALTH_REQUEST_MAX (8192). */
#define OVERSIZED_BYTES 20000

static uint32_t g_msgid = 100;

/* The health port from the server's log line `event=health_listening ...
 * port=N`; 0 when not found. */
static int health_port(const it_server *s)
{
    char *log = it_server_log(s);
    int port = 0;
    const char *l = log != NULL ? strstr(log, "event=health_listening") : NULL;
    const char *p = l != NULL ? strstr(l, " port=") : NULL;
    if (p != NULL)
        port = atoi(p + 6);
    free(log);
    return port;
}

static it_server *start_with_health(void)
{
    static const char *const sets[] = {"health_listen=127.0.0.1:0", NULL};
    return it_server_start(sets);
}

static int http_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req (len bytes, send errors tolerated: the server may close
 * first) and reads until the server closes. Returns the bytes read
 * (malloc'd, NUL-terminated; "" when closed without an answer), NULL when
 * no connection. *reset is set when the read ended with an error. */
static char *http_exchange(int port, const char *req, size_t len, bool *reset)
{
    int fd = http_connect(port);
    if (fd < 0)
        return NULL;
    *reset = false;
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (got == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t n = recv(fd, buf + got, cap - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            *reset = true;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    return buf;
}

static char *http_get(int port, const char *path)
{
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: probe\r\n\r\n", path);
    bool reset;
    return http_exchange(port, req, (size_t)n, &reset);
}

/* The status code of GET path, or -1. */
static int http_status(int port, const char *path)
{
    char *r = http_get(port, path);
    int code = -1;
    if (r != NULL && strncmp(r, "HTTP/1.1 ", 9) == 0)
        code = atoi(r + 9);
    free(r);
    return code;
}

/* Polls GET /ready until it answers want; true when it did in time. */
static bool ready_becomes(int port, int want)
{
    int64_t end = it_now_ms() + READY_WITHIN_MS;
    int got = -1;
    while (it_now_ms() < end) {
        if ((got = http_status(port, "/ready")) == want)
            return true;
        it_sleep_ms(200);
    }
    it_note("/ready still %d, expected %d", got, want);
    return false;
}

/* Checks every line of a Prometheus text page: a comment (# HELP / # TYPE)
 * or `name{labels} value` / `name value`, with a metric name of
 * [a-zA-Z_:][a-zA-Z0-9_:]*, labels name="value" and a number. Returns the
 * number of sample lines, or -1 (the bad line printed). */
static int check_prometheus(const char *body)
{
    int samples = 0;
    const char *line = body;
    while (*line != '\0') {
        const char *eol = strchr(line, '\n');
        if (eol == NULL) {
            it_note("last line without a newline: %s", line);
            return -1;
        }
        int len = (int)(eol - line);
        if (line[0] == '#') {
            if (strncmp(line, "# HELP ", 7) != 0 && strncmp(line, "# TYPE ", 7) != 0) {
                it_note("bad comment: %.*s", len, line);
                return -1;
            }
        } else {
            const char *p = line;
            if (!(*p == '_' || *p == ':' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                goto bad;
            while (p < eol && (*p == '_' || *p == ':' || (*p >= 'a' && *p <= 'z') ||
                               (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
                p++;
            if (*p == '{') {
                p++;
                while (*p != '}') {
                    while (p < eol && *p != '=' && *p != '}')
                        p++;
                    if (*p != '=' || p[1] != '"')
                        goto bad;
                    p += 2;
                    while (p < eol && *p != '"')
                        p += *p == '\\' ? 2 : 1;
                    if (*p != '"')
                        goto bad;
                    p++;
                    if (*p == ',')
                        p++;
                    else if (*p != '}')
                        goto bad;
                }
                p++;
            }
            if (*p != ' ')
                goto bad;
            char *end;
            p++;
            if (strncmp(p, "+Inf", 4) != 0) {
                (void)strtod(p, &end);
                if (end == p || end != eol)
                    goto bad;
            }
            samples++;
        }
        line = eol + 1;
        continue;
    bad:
        it_note("not a Prometheus sample line: %.*s", len, line);
        return -1;
    }
    return samples;
}

/* The value of the sample line that starts with `series ` (name and
 * labels exactly), 0 when absent (a counter not yet seen), -1 on no page. */
static long long sample(int port, const char *series)
{
    char *r = http_get(port, "/metrics");
    if (r == NULL)
        return -1;
    long long v = 0;
    size_t n = strlen(series);
    for (const char *l = r; l != NULL && *l != '\0';) {
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            v = atoll(l + n + 1);
        l = strchr(l, '\n');
        if (l != NULL)
            l++;
    }
    free(r);
    return v;
}

static int server_info(it_conn *c)
{
    unsigned char req[32];
    uint32_t id = ++g_msgid;
    size_t n = it_server_info_bytes(id, req);
    it_msg m;
    if (it_call(c, req, n, id, IT_REPLY_TIMEOUT_MS, &m) != IT_RECV_MSG)
        return -1;
    int rc = m.is_error ? -1 : 0;
    it_msg_free(&m);
    return rc;
}

static int live_ready_and_metrics_answer_and_probes_stay_out_of_the_info_log(void)
{
    it_server *s = start_with_health();
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECKF(port > 0, "no event=health_listening port= in the log");
    IT_CHECK(http_status(port, "/live") == 200);
    IT_CHECK(ready_becomes(port, 200));
    IT_CHECK(http_status(port, "/nowhere") == 404);
    IT_CHECK(http_status(port, "/live?x=1") == 200);

    char *page = http_get(port, "/metrics");
    IT_CHECK(page != NULL);
    IT_CHECKF(strncmp(page, "HTTP/1.1 200", 12) == 0, "%.80s", page);
    IT_CHECK(strstr(page, "Content-Type: text/plain; version=0.0.4") != NULL);
    char *body = strstr(page, "\r\n\r\n");
    IT_CHECK(body != NULL);
    int samples = check_prometheus(body + 4);
    it_note("/metrics: %d samples", samples);
    IT_CHECK(samples > 10);
    static const char *const families[] = {
        "baobao_requests_total", "baobao_request_duration_seconds_bucket",
        "baobao_pool_connections", "baobao_pool_queue_depth", "baobao_pool_in_flight",
        "baobao_group_commit_batch_size_bucket", "baobao_client_connections",
        "baobao_input_budget_bytes", "# TYPE baobao_export_runs_total counter",
        "# TYPE baobao_delivery_attempts_total counter"};
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        IT_CHECKF(strstr(body, families[i]) != NULL, "no %s in /metrics", families[i]);
    free(page);

    /* HEAD answers the headers only. */
    bool reset;
    static const char head[] = "HEAD /live HTTP/1.1\r\nHost: probe\r\n\r\n";
    char *h = http_exchange(port, head, sizeof head - 1, &reset);
    IT_CHECK(h != NULL && strncmp(h, "HTTP/1.1 200", 12) == 0);
    IT_CHECK(strstr(h, "live\n") == NULL);
    free(h);

    IT_CHECK(!it_server_log_has(s, "event=health_probe"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int request_counter_moves_with_requests(void)
{
    it_server *s = start_with_health();
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECK(port > 0);
    const char *ok = "baobao_requests_total{method=\"server.info\",outcome=\"ok\"}";
    const char *unauth = "baobao_requests_total{method=\"enterprise.get\",outcome=\"unauthenticated\"}";
    const char *conns = "baobao_client_connections";
    long long ok0 = sample(port, ok), un0 = sample(port, unauth), c0 = sample(port, conns);
    IT_CHECK(ok0 >= 0 && un0 == 0);

    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    for (int i = 0; i < 3; i++)
        IT_CHECK(server_info(c) == 0);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.get", 1);
    it_kv_int(&b, "id", 1);
    IT_CHECK(it_buf_err(c, &b, id, "unauthenticated", "") == 0);
    it_buf_free(&b);

    long long ok1 = sample(port, ok), un1 = sample(port, unauth), c1 = sample(port, conns);
    it_note("server.info ok %lld -> %lld; enterprise.get unauthenticated %lld -> %lld;"
            " connections %lld -> %lld", ok0, ok1, un0, un1, c0, c1);
    IT_CHECK(ok1 == ok0 + 3);
    IT_CHECK(un1 == 1);
    IT_CHECK(c1 == c0 + 1);
    char series[200];
    snprintf(series, sizeof series,
             "baobao_request_duration_seconds_count{method=\"server.info\"}");
    IT_CHECK(sample(port, series) == ok1);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int malformed_request_gets_400_and_oversized_is_closed(void)
{
    it_server *s = start_with_health();
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECK(port > 0);
    bool reset;
    static const char bad[] = "GET /live HTTP/1.1\r\nHost probe no colon\r\n\r\n";
    char *r = http_exchange(port, bad, sizeof bad - 1, &reset);
    IT_CHECK(r != NULL);
    IT_CHECKF(strncmp(r, "HTTP/1.1 400", 12) == 0, "answer: %.80s", r);
    free(r);
    static const char junk[] = "\x01\x02 not http at all\r\n\r\n";
    r = http_exchange(port, junk, sizeof junk - 1, &reset);
    IT_CHECK(r != NULL);
    IT_CHECKF(strncmp(r, "HTTP/1.1 400", 12) == 0, "answer: %.80s", r);
    free(r);
    /* another HTTP version than 1.x (http-parser reads it cleanly) */
    static const char v2[] = "GET /live HTTP/2.0\r\nHost: p\r\n\r\n";
    r = http_exchange(port, v2, sizeof v2 - 1, &reset);
    IT_CHECK(r != NULL);
    IT_CHECKF(strncmp(r, "HTTP/1.1 400", 12) == 0, "answer: %.80s", r);
    free(r);
    static const char post[] = "POST /live HTTP/1.1\r\nHost: p\r\nContent-Length: 0\r\n\r\n";
    r = http_exchange(port, post, sizeof post - 1, &reset);
    IT_CHECK(r != NULL && strncmp(r, "HTTP/1.1 405", 12) == 0);
    free(r);

    /* A whole, well-formed request larger than HEALTH_REQUEST_MAX (but
     * under http-parser's own limit of 80 KiB): closed without an answer
     * (nothing read, or a reset), where a smaller one would get 200. */
    char *big = malloc(OVERSIZED_BYTES);
    IT_CHECK(big != NULL);
    int n = snprintf(big, OVERSIZED_BYTES, "GET /live HTTP/1.1\r\nX-Filler: ");
    memset(big + n, 'a', OVERSIZED_BYTES - (size_t)n);
    memcpy(big + OVERSIZED_BYTES - 4, "\r\n\r\n", 4);
    r = http_exchange(port, big, OVERSIZED_BYTES, &reset);
    free(big);
    IT_CHECK(r != NULL);
    IT_CHECKF(r[0] == '\0', "oversized request answered: %.80s", r);
    it_note("oversized request: closed (%s)", reset ? "reset" : "eof");
    free(r);
    /* The listener is still fine. */
    IT_CHECK(http_status(port, "/live") == 200);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int ready_is_503_while_postgresql_is_stopped_and_200_again_after(void)
{
    IT_CHECKF(it_pg_can_restart(), "BAOBAO_PG_LOCAL and BAOBAO_PG_DIR must be set");
    it_server *s = start_with_health();
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECK(port > 0);
    IT_CHECK(ready_becomes(port, 200));
    IT_CHECK(it_pg_stop() == 0);
    IT_CHECK(ready_becomes(port, 503));
    IT_CHECK(http_status(port, "/live") == 200); /* the loop still runs */
    IT_CHECK(sample(port, "baobao_ready") == 0);
    IT_CHECK(it_pg_start() == 0);
    IT_CHECK(ready_becomes(port, 200));
    IT_CHECK(sample(port, "baobao_ready") == 1);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int bad_health_listen_exits_2(void)
{
    static const char *const bad[] = {"health_listen=nonsense", "health_listen=127.0.0.1:",
                                      "health_listen=[::1]8080", "health_listen=127.0.0.1:7420"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {getenv("BAOBAOD"), "--port", "7420", "--set", bad[i], NULL};
        it_cli r;
        IT_CHECK(it_run(&r, argv, 30000) == 0);
        IT_CHECKF(r.status == 2 && strstr(r.err, "health_listen") != NULL, "%s: exit %d: %s",
                  bad[i], r.status, r.err);
        it_cli_free(&r);
    }
    return 0;
}

/* An export run that ends is counted by outcome (the export module's call
 * of metrics_count): the reply to export.run with wait comes after it. */
static int export_run_is_counted_by_outcome(void)
{
    char dir[128], set[160];
    snprintf(dir, sizeof dir, "/tmp/bbtest-health-%ld", (long)getpid());
    snprintf(set, sizeof set, "export_dir=%s", dir);
    const char *sets[] = {"health_listen=127.0.0.1:0", set, "export_time=", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECK(port > 0);
    const char *series = "baobao_export_runs_total{outcome=\"ok\"}";
    IT_CHECK(sample(port, series) == 0);
    it_conn *c = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "export.run", 1);
    it_kv_bool(&b, "wait", true);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, id, 120000, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    char d[600];
    IT_CHECKF(!m.is_error && it_get_str_eq(m.result, "status", "ok"), "export.run: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    long long runs = sample(port, series);
    it_note("export runs ok: %lld", runs);
    IT_CHECK(runs == 1);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    const char *rm[] = {"rm", "-rf", dir, NULL};
    it_cli r;
    if (it_run(&r, rm, 30000) == 0)
        it_cli_free(&r);
    return 0;
}

/* Submits pipelined in one write are stored by group commit: the batch
 * histogram counts every submit once (its sum) in fewer statements than
 * submits (its count). */
#define SUBMITS 20
static int group_commit_batches_are_counted(void)
{
    static const char *const sets[] = {"health_listen=127.0.0.1:0",
                                       "status_batches_in_flight=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    int port = health_port(s);
    IT_CHECK(port > 0);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(4711, cc);
    int64_t eid = it_create_enterprise(c, "量度科技", cc, "赤壁镇");
    IT_CHECK(eid > 0);
    it_buf b;
    it_buf_init(&b);
    for (unsigned k = 0; k < SUBMITS; k++) {
        char note[32];
        snprintf(note, sizeof note, "批-%u", k);
        it_req(&b, 5000 + k, "status.submit", 6);
        it_kv_int(&b, "enterprise_id", eid);
        it_kv_str(&b, "report_date", "2024-05-01");
        it_kv_str(&b, "reporter", "王五");
        it_kv_str(&b, "production_status", "正常");
        it_kv_str(&b, "note", note);
        it_kv_bool(&b, "allow_duplicate", true);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    for (unsigned k = 0; k < SUBMITS; k++) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS * 2, &m) == IT_RECV_MSG);
        char d[600];
        IT_CHECKF(!m.is_error, "submit: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    long long sum = sample(port, "baobao_group_commit_batch_size_sum");
    long long count = sample(port, "baobao_group_commit_batch_size_count");
    long long inf = sample(port, "baobao_group_commit_batch_size_bucket{le=\"+Inf\"}");
    long long ok = sample(port, "baobao_requests_total{method=\"status.submit\",outcome=\"ok\"}");
    it_note("batches: %lld statements carried %lld submits", count, sum);
    IT_CHECK(sum == SUBMITS && inf == count && count >= 1 && count < SUBMITS);
    IT_CHECK(ok == SUBMITS);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static const it_test tests[] = {
    {"group_commit_batches_are_counted", group_commit_batches_are_counted},
    {"export_run_is_counted_by_outcome", export_run_is_counted_by_outcome},
    {"bad_health_listen_exits_2", bad_health_listen_exits_2},
    {"live_ready_and_metrics_answer_and_probes_stay_out_of_the_info_log",
     live_ready_and_metrics_answer_and_probes_stay_out_of_the_info_log},
    {"request_counter_moves_with_requests", request_counter_moves_with_requests},
    {"malformed_request_gets_400_and_oversized_is_closed",
     malformed_request_gets_400_and_oversized_is_closed},
    {"ready_is_503_while_postgresql_is_stopped_and_200_again_after",
     ready_is_503_while_postgresql_is_stopped_and_200_again_after},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "health", tests, sizeof tests / sizeof tests[0], NULL);
}
