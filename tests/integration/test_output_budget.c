/*
 * test_output_budget.c: the server-wide output memory budget
 * (output_budget_bytes, PROTOCOL.md section 2). Hundreds of clients that
 * log in, pipeline list requests and never read cannot make the server
 * hold more unsent answers than the budget (plus the answer that crossed
 * it): past it they are paused, and the ones holding the most are closed
 * (logged output_budget_exceeded, counted in /metrics); a client that
 * reads its answers is served throughout, never paused nor closed; and
 * once the non-readers are gone the server gives the memory back to the
 * system (malloc_trim), so its RSS falls back near where it started.
 * A client that reads answers larger than write_low_water, pipelining more
 * than write_high_water of them, is served throughout too (paused at most
 * while its answers are written, never for good, never closed), and the
 * connections paused for the budget read again.
 *
 * Not for: one connection's write_high_water (test_protocol_edge.c), or
 * input memory (test_memory.c).
 */
#include "harness.h"
#include "harness_replica.h" /* /metrics over HTTP */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define KIB 1024L
#define BUDGET (4L * 1024 * KIB)
#define NONREADERS 300
/* Pipelined per non-reader: below max_in_flight (128), so none is
 * refused for too_many_in_flight; each answer is a page of units. */
#define PIPELINED 100
/* A non-reader's socket buffers little: its answers stay on our side. */
#define NONREADER_RCVBUF 4096
/* After the non-readers are gone, RSS must come back to within this much
 * of where it was before them (the peak is more than twice as high). */
#define RSS_MARGIN_KB (6 * 1024)
/* Under AddressSanitizer memory is ASan's allocator's, which keeps its
 * own pools whatever glibc's malloc_trim does: the return of memory is
 * then only noted, and checked in a build without sanitizers. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_CHECKED false
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_CHECKED false
#endif
#endif
#ifndef RSS_CHECKED
#define RSS_CHECKED true
#endif
/* The server trims CLIENT_TRIM_DELAY_MS (0.5 s) after the output fell;
 * the closes themselves take a moment under ASan. */
#define RSS_WAIT_MS 8000
/* Connections opened at the peak and kept until the end: what they
 * allocate then sits above the spike's memory in the heap, so glibc
 * cannot give the spike back by shrinking the heap's top by itself, as a
 * long-running server's later allocations would. */
#define LATE_CONNS 20

static const char *const budget_sets[] = {
    "output_budget_bytes=4194304", "write_high_water=262144", "write_low_water=65536",
    "health_listen=127.0.0.1:0", NULL};

/* ---- /metrics ---- */

/* The value of the sample line starting with `name ` in body; -1 if none. */
static long long metric(const char *body, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = body; p != NULL && *p != '\0';) {
        if (strncmp(p, name, n) == 0 && p[n] == ' ')
            return atoll(p + n + 1);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

#define M_USED "baobao_output_budget_bytes{state=\"used\"}"
#define M_LIMIT "baobao_output_budget_bytes{state=\"limit\"}"
#define M_CLOSES "baobao_output_budget_closes_total"

typedef struct sample {
    long long used_max, limit, closes;
    int n;
} sample;

/* One scrape: records the largest `used` seen. 0 or -1. */
static int sample_metrics(int port, sample *sm)
{
    char *body = itr_http_get(port, "/metrics");
    if (body == NULL)
        return -1;
    long long used = metric(body, M_USED);
    sm->limit = metric(body, M_LIMIT);
    sm->closes = metric(body, M_CLOSES);
    free(body);
    if (used < 0 || sm->limit < 0 || sm->closes < 0)
        return -1;
    if (used > sm->used_max)
        sm->used_max = used;
    sm->n++;
    return 0;
}

/* ---- requests ---- */

/* Enterprises made for enterprise.list to page through. */
#define ENTERPRISES 100

/* Big answers of both kinds: even msgids ask server.api (the method spec,
 * tens of KiB, answered at once), odd ones a page of ENTERPRISES
 * enterprises (answered by the database later: answers in flight keep
 * landing after a connection is paused). */
static void pack_list(it_buf *b, uint32_t msgid)
{
    if (msgid % 2 == 0) {
        it_req(b, msgid, "server.api", IT_NO_ARGS);
    } else {
        it_req(b, msgid, "enterprise.list", 1);
        it_kv_int(b, "limit", ENTERPRISES);
    }
}

/* The well-behaved client: one request, its answer read at once; returns
 * the answer's size in bytes, -1 when it was not a result. */
static long good_call(it_conn *c, uint32_t msgid)
{
    it_buf b;
    it_buf_init(&b);
    pack_list(&b, msgid);
    it_msg m;
    int r = it_buf_ok(c, &b, msgid, &m);
    it_buf_free(&b);
    if (r != 0)
        return -1;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *m.root);
    long size = (long)sb.size;
    msgpack_sbuffer_destroy(&sb);
    it_msg_free(&m);
    return size;
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* RSS after the non-readers left: polls until it is back within the
 * margin or the wait is over; returns the last value. */
static long rss_after(const it_server *s, long rss0)
{
    int64_t end = it_now_ms() + (RSS_CHECKED ? RSS_WAIT_MS : 1000);
    long rss;
    do {
        it_sleep_ms(250);
        rss = it_server_rss_kb(s);
    } while (rss - rss0 > RSS_MARGIN_KB && it_now_ms() < end);
    return rss;
}

static int nonreaders_are_bounded_paused_closed_and_memory_comes_back(void)
{
    raise_nofile();
    /* ASan's quarantine keeps every freed block: without it RSS measures
     * what is held, not what was churned through. */
    static char asan[1024];
    const char *cur = getenv("ASAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%squarantine_size_mb=0:thread_local_quarantine_size_kb=0",
             cur != NULL ? cur : "", cur != NULL && cur[0] != '\0' ? ":" : "");
    const char *const env[] = {asan, NULL};
    it_server *s = it_server_start_env(budget_sets, env);
    IT_CHECK(s != NULL);
    int hport = itr_health_port(s);
    IT_CHECK(hport > 0);

    it_conn *good = it_connect(s->port);
    IT_CHECK(good != NULL);
    for (unsigned long i = 0; i < ENTERPRISES; i++) {
        char code[19], name[128];
        it_credit_code(700000 + i, code);
        snprintf(name, sizeof name, "输出预算测试企业（不读回答的客户端）第%lu号", i);
        IT_CHECK(it_create_enterprise(good, name, code, "赤壁镇") > 0);
    }
    uint32_t gid = 1;
    long reply_max = 0;
    for (int i = 0; i < 6; i++) {
        long n = good_call(good, gid++);
        IT_CHECK(n > 0);
        if (n > reply_max)
            reply_max = n;
    }
    it_note("one answer is %ld bytes", reply_max);
    /* PIPELINED answers per non-reader must be far more than its share
     * of the budget, or nothing is tested */
    IT_CHECK(reply_max * PIPELINED * NONREADERS > 4 * BUDGET);
    sample sm = {0};
    IT_CHECK(sample_metrics(hport, &sm) == 0);
    IT_CHECKF(sm.limit == BUDGET, "limit %lld", sm.limit);
    long rss0 = it_server_rss_kb(s);
    IT_CHECK(rss0 > 0);

    it_buf req;
    it_buf_init(&req);
    for (uint32_t k = 0; k < PIPELINED; k++)
        pack_list(&req, 1000 + k);
    it_conn *bad[NONREADERS];
    int nbad = 0;
    long rss_peak = rss0;
    for (int i = 0; i < NONREADERS; i++) {
        bad[i] = it_connect_rcvbuf(s->port, NONREADER_RCVBUF);
        IT_CHECKF(bad[i] != NULL, "non-reader %d could not log in", i);
        nbad++;
        /* what the server takes; it stops reading when paused */
        (void)it_send_some(bad[i], req.sb.data, req.sb.size, 200);
        if (i % 10 == 9) {
            long n = good_call(good, gid++);
            IT_CHECKF(n > 0, "the reading client was not answered (after %d non-readers)", i + 1);
            IT_CHECK(sample_metrics(hport, &sm) == 0);
            long rss = it_server_rss_kb(s);
            if (rss > rss_peak)
                rss_peak = rss;
        }
    }
    /* answers still landing: keep being served and keep sampling */
    for (int i = 0; i < 20; i++) {
        IT_CHECKF(good_call(good, gid++) > 0, "the reading client was not answered");
        IT_CHECK(sample_metrics(hport, &sm) == 0);
        it_sleep_ms(50);
    }
    it_conn *late[LATE_CONNS];
    for (int i = 0; i < LATE_CONNS; i++) {
        late[i] = it_connect(s->port);
        IT_CHECK(late[i] != NULL);
        IT_CHECK(good_call(late[i], 1) > 0);
    }
    long rss = it_server_rss_kb(s);
    if (rss > rss_peak)
        rss_peak = rss;
    it_note("samples %d: used at most %lld of %lld; closes %lld; RSS %ld -> peak %ld kB",
            sm.n, sm.used_max, sm.limit, sm.closes, rss0, rss_peak);
    /* The budget is enforced once per loop turn (and at once for stalled
     * connections); /metrics is answered in the middle of a turn, so a
     * sample may see what the turn's new answers added before the turn
     * ends. A quarter of the budget covers that on a loaded 2-core machine
     * with ASan; without the budget this run reached about 37 times it. */
    IT_CHECKF(sm.used_max <= BUDGET + BUDGET / 4 + reply_max,
              "used %lld > budget %ld + a quarter + one answer %ld", sm.used_max, BUDGET,
              reply_max);
    IT_CHECKF(sm.closes > 0, "no connection was closed for the budget");
    IT_CHECK(it_server_log_has(s, "event=output_budget_exceeded"));
    IT_CHECK(it_server_log_has(s, " budget=4194304"));
    /* the reading client was neither closed nor paused */
    IT_CHECK(it_expect_alive(good) == 0);

    for (int i = 0; i < nbad; i++)
        it_close(bad[i]);
    it_buf_free(&req);
    /* the server notices (resets) and frees; the output falls to nothing */
    long rss1 = rss_after(s, rss0);
    IT_CHECK(sample_metrics(hport, &sm) == 0);
    it_note("after the non-readers: RSS %ld kB (before %ld, peak %ld)%s", rss1, rss0, rss_peak,
            RSS_CHECKED ? "" : "; not checked under ASan");
    if (RSS_CHECKED) {
        IT_CHECKF(rss_peak - rss0 > 2 * RSS_MARGIN_KB,
                  "the non-readers did not raise RSS enough (%ld kB) for the check to mean "
                  "anything",
                  rss_peak - rss0);
        IT_CHECKF(rss1 - rss0 <= RSS_MARGIN_KB, "RSS stayed %ld kB above where it started",
                  rss1 - rss0);
    }
    IT_CHECKF(good_call(good, gid++) > 0, "the reading client was not answered at the end");
    it_close(good);
    for (int i = 0; i < LATE_CONNS; i++)
        it_close(late[i]);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* ---- a reader of big answers ---- */

/* Budget, marks and sizes for the reader test: server.api answers (tens
 * of KiB) are larger than write_low_water, and READER_BATCH of them more
 * than write_high_water, so the reader is over write_low_water whenever
 * its answers are counted; BIG_NONREADERS hold many times the budget. */
#define BIG_BUDGET (1024L * KIB)
#define BIG_NONREADERS 40
#define READER_BATCH 8
#define READER_ROUNDS 3
/* How long the reader waits for one answer: paused for good fails here. */
#define READER_WAIT_MS 10000

static const char *const reader_sets[] = {
    "output_budget_bytes=1048576", "write_high_water=131072", "write_low_water=16384",
    "health_listen=127.0.0.1:0", NULL};

/* The conn= of the newest conn_open line in the log; 0 if none. */
static unsigned long newest_conn_id(const it_server *s)
{
    char *log = it_server_log(s);
    unsigned long id = 0;
    for (const char *p = log; p != NULL && (p = strstr(p, "event=conn_open conn=")) != NULL;
         p++)
        id = strtoul(p + strlen("event=conn_open conn="), NULL, 10);
    free(log);
    return id;
}

/* Lines of the log with both needles (the first followed by the second
 * on the same line). */
static int log_count(const it_server *s, const char *event, const char *conn)
{
    char *log = it_server_log(s);
    int n = 0;
    for (const char *p = log; p != NULL && (p = strstr(p, event)) != NULL; p++) {
        const char *eol = strchr(p, '\n');
        const char *q = strstr(p, conn);
        if (q != NULL && (eol == NULL || q < eol))
            n++;
    }
    free(log);
    return n;
}

/* The reader pipelines READER_BATCH server.api requests and reads every
 * answer; returns how many were results. */
static int reader_round(it_conn *c, uint32_t *msgid)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t first = *msgid;
    for (int i = 0; i < READER_BATCH; i++)
        it_req(&b, (*msgid)++, "server.api", IT_NO_ARGS);
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    if (sent != 0)
        return 0;
    int ok = 0;
    for (int i = 0; i < READER_BATCH; i++) {
        it_msg m;
        int r = it_recv(c, READER_WAIT_MS, &m);
        if (r != IT_RECV_MSG) {
            it_note("reader: answer %d of %d: %s", i + 1, READER_BATCH,
                    r == IT_RECV_TIMEOUT ? "timed out (paused for good?)"
                    : r == IT_RECV_EOF   ? "connection closed"
                                         : "read error");
            return ok;
        }
        if (m.kind == 1 && !m.is_error && m.msgid == first + (uint32_t)i)
            ok++;
        else
            it_note("reader: answer %d is not the result of msgid %u", i + 1,
                    first + (uint32_t)i);
        it_msg_free(&m);
    }
    return ok;
}

static int reader_of_big_answers_is_served_and_paused_ones_resume(void)
{
    raise_nofile();
    static const char *const env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *s = it_server_start_env(reader_sets, env);
    IT_CHECK(s != NULL);
    int hport = itr_health_port(s);
    IT_CHECK(hport > 0);
    it_conn *reader = it_connect(s->port);
    IT_CHECK(reader != NULL);
    unsigned long rid = newest_conn_id(s);
    IT_CHECK(rid > 0);
    uint32_t msgid = 1;
    IT_CHECK(reader_round(reader, &msgid) == READER_BATCH);

    it_buf req;
    it_buf_init(&req);
    for (uint32_t k = 0; k < PIPELINED; k++)
        it_req(&req, 1000 + k, "server.api", IT_NO_ARGS);
    it_conn *bad[BIG_NONREADERS];
    sample sm = {0};
    for (int i = 0; i < BIG_NONREADERS; i++) {
        bad[i] = it_connect_rcvbuf(s->port, NONREADER_RCVBUF);
        IT_CHECKF(bad[i] != NULL, "non-reader %d could not log in", i);
        (void)it_send_some(bad[i], req.sb.data, req.sb.size, 200);
        if (i % 4 == 3) {
            for (int r = 0; r < READER_ROUNDS; r++)
                IT_CHECKF(reader_round(reader, &msgid) == READER_BATCH,
                          "the reader was not served (after %d non-readers)", i + 1);
            IT_CHECK(sample_metrics(hport, &sm) == 0);
        }
    }
    it_buf_free(&req);
    /* the resume is logged right after the answer that allowed it went
     * out: give the log that moment */
    it_sleep_ms(200);
    char conn[32];
    snprintf(conn, sizeof conn, " conn=%lu ", rid);
    int paused = log_count(s, "event=output_budget_pause", conn);
    int resumed = log_count(s, "event=output_budget_resume", conn);
    it_note("closes %lld, used at most %lld of %lld; the reader (conn %lu) paused %d, "
            "resumed %d times",
            sm.closes, sm.used_max, sm.limit, rid, paused, resumed);
    IT_CHECKF(sm.closes > 0, "no connection was closed for the budget");
    IT_CHECK(it_server_log_has(s, "event=output_budget_pause"));
    /* paused connections read again (the non-readers too, once the
     * total falls), and the reader was never left paused */
    IT_CHECK(it_server_log_has(s, "event=output_budget_resume"));
    IT_CHECKF(paused == resumed, "the reader was paused %d times, resumed %d", paused, resumed);
    IT_CHECKF(log_count(s, "event=output_budget_exceeded", conn) == 0,
              "the reader was closed for the budget");
    IT_CHECK(it_expect_alive(reader) == 0);
    for (int i = 0; i < BIG_NONREADERS; i++)
        it_close(bad[i]);
    IT_CHECK(reader_round(reader, &msgid) == READER_BATCH);
    it_close(reader);
    int st = it_server_stop(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "baobaod exit status %d", st);
    return 0;
}

/* A budget smaller than one connection's write_high_water is refused at
 * start, with a message that says why. */
static int budget_below_high_water_is_refused(void)
{
    const char *baobaod = getenv("BAOBAOD");
    IT_CHECK(baobaod != NULL);
    it_cli r;
    const char *const argv[] = {baobaod, "--set", "output_budget_bytes=131072", "--set",
                                "write_high_water=262144", "--set", "write_low_water=1024",
                                NULL};
    IT_CHECK(it_run(&r, argv, 10000) == 0);
    int st = r.status;
    bool said = strstr(r.err, "output_budget_bytes (131072) must be at least write_high_water") !=
                NULL;
    it_note("stderr: %s", r.err);
    it_cli_free(&r);
    IT_CHECKF(st == 2, "baobaod exited %d", st);
    IT_CHECK(said);
    /* and below the smallest budget (64 KiB) */
    const char *const argv2[] = {baobaod, "--set", "output_budget_bytes=1024", NULL};
    IT_CHECK(it_run(&r, argv2, 10000) == 0);
    st = r.status;
    said = strstr(r.err, "output_budget_bytes") != NULL;
    it_note("stderr: %s", r.err);
    it_cli_free(&r);
    IT_CHECKF(st == 2, "baobaod exited %d", st);
    IT_CHECK(said);
    return 0;
}

static const it_test tests[] = {
    {"nonreaders_are_bounded_paused_closed_and_memory_comes_back",
     nonreaders_are_bounded_paused_closed_and_memory_comes_back},
    {"reader_of_big_answers_is_served_and_paused_ones_resume",
     reader_of_big_answers_is_served_and_paused_ones_resume},
    {"budget_below_high_water_is_refused", budget_below_high_water_is_refused},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "output_budget", tests, sizeof tests / sizeof tests[0], NULL);
}
