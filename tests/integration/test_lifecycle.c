/*
 * test_lifecycle.c: start-up and SIGTERM/SIGINT. A request that arrives the
 * moment baobaod listens is served (not refused while the pool connects).
 * An idle server exits 0 at once on a signal; with
 * requests in flight every request gets its result or shutting_down /
 * unavailable before the connection closes (none silently dropped), and the
 * server exits 0; requests stuck in the database are cut off at
 * shutdown_deadline_ms, not waited for forever.
 *
 * Not for: the shutting_down row of the error table (test_error_codes.c).
 * The database lock that keeps requests in flight is taken in this test's
 * own database, so it runs in parallel with the others.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define N_INFLIGHT 100

static bool exited_0(int st) { return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0; }

static int idle_server_exits_0_on_sigterm_and_sigint(void)
{
    static const int sigs[] = {SIGTERM, SIGINT};
    for (int i = 0; i < 2; i++) {
        it_server *s = it_server_start(NULL);
        IT_CHECK(s != NULL);
        it_conn *c = it_connect(s->port);
        IT_CHECK(c != NULL);
        IT_CHECK(it_expect_alive(c) == 0);
        int64_t t0 = it_now_ms();
        it_server_signal(s, sigs[i]);
        int st = it_server_wait(s, 10000);
        IT_CHECKF(exited_0(st), "signal %d: wait status %d", sigs[i], st);
        it_note("signal %d: exited in %lld ms", sigs[i], (long long)(it_now_ms() - t0));
        IT_CHECKF(it_wait_eof(c, 2000), "the idle connection was not closed");
    }
    return 0;
}

static int sigterm_with_requests_in_flight_answers_each_then_exits_0(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(1200, cc);
    int64_t eid = it_create_enterprise(c, "华润蒲圻电厂", cc, "蒲圻街道");
    IT_CHECK(eid > 0);
    /* Hold the database so the requests are surely in flight at SIGTERM. */
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    for (uint32_t i = 1; i <= N_INFLIGHT; i++) {
        if (i % 4 == 0) {
            it_req(&b, i, "server.info", IT_NO_ARGS);
        } else {
            it_req(&b, i, "enterprise.get", 1);
            it_kv_int(&b, "id", eid);
        }
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_sleep_ms(500);
    int64_t t0 = it_now_ms();
    it_server_signal(s, SIGTERM);
    it_sleep_ms(300);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);

    bool answered[N_INFLIGHT + 1] = {false};
    int results = 0, refused = 0, other = 0;
    for (;;) {
        it_msg m;
        char d[800];
        int r = it_recv(c, 15000, &m);
        if (r == IT_RECV_EOF)
            break;
        IT_CHECKF(r == IT_RECV_MSG, "no EOF after SIGTERM (recv %d)", r);
        if (m.kind == 2) {
            it_note("notification: %s", it_describe(&m, d, sizeof d));
            it_msg_free(&m);
            continue;
        }
        IT_CHECKF(m.kind == 1 && m.msgid >= 1 && m.msgid <= N_INFLIGHT && !answered[m.msgid],
                  "unexpected %s", it_describe(&m, d, sizeof d));
        answered[m.msgid] = true;
        if (!m.is_error)
            results++;
        else if (strcmp(m.code, "shutting_down") == 0 || strcmp(m.code, "unavailable") == 0)
            refused++;
        else {
            other++;
            it_note("msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
        }
        it_msg_free(&m);
    }
    int missing = 0;
    char list[1024] = "";
    for (uint32_t i = 1; i <= N_INFLIGHT; i++)
        if (!answered[i]) {
            missing++;
            size_t l = strlen(list);
            if (l < sizeof list - 16)
                snprintf(list + l, sizeof list - l, " %u", i);
        }
    it_note("%d results, %d shutting_down/unavailable, %d other errors, %d unanswered before "
            "EOF:%s", results, refused, other, missing, list);
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    it_note("exited %lld ms after SIGTERM", (long long)(it_now_ms() - t0));
    IT_CHECKF(exited_0(st), "baobaod wait status %d", st);
    IT_CHECKF(other == 0, "%d requests got an error other than shutting_down/unavailable",
              other);
    IT_CHECKF(missing == 0, "%d requests read by the server were never answered:%s", missing,
              list);
    return 0;
}

static int shutdown_deadline_cuts_off_requests_stuck_in_the_database(void)
{
    static const char *const sets[] = {"shutdown_deadline_ms=1000", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(1201, cc);
    int64_t eid = it_create_enterprise(c, "思贝林药业", cc, "美丽健康产业园");
    IT_CHECK(eid > 0);
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    for (uint32_t i = 1; i <= 5; i++) {
        it_req(&b, i, "enterprise.get", 1);
        it_kv_int(&b, "id", eid);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_sleep_ms(300);
    int64_t t0 = it_now_ms();
    it_server_signal(s, SIGTERM);
    /* The lock stays: the requests cannot finish. */
    int st = it_server_wait(s, 15000);
    int64_t dt = it_now_ms() - t0;
    int answers = 0;
    for (;;) {
        it_msg m;
        char d[800];
        int r = it_recv(c, 2000, &m);
        if (r != IT_RECV_MSG)
            break;
        it_note("before close: %s", it_describe(&m, d, sizeof d));
        answers++;
        it_msg_free(&m);
    }
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECKF(st != -1, "baobaod still running 15 s after SIGTERM with shutdown_deadline_ms=1000");
    it_note("exited %lld ms after SIGTERM; %d answers before the close", (long long)dt,
            answers);
    IT_CHECKF(dt >= 800, "exited after %lld ms, before the 1000 ms deadline", (long long)dt);
    IT_CHECKF(exited_0(st), "wait status %d", st);
    return 0;
}

/* The first request, sent as soon as the listening line appears, is a
 * database read: the pool's connections may still be connecting. The
 * database is reachable (the migrations just ran), so "unavailable" would
 * be wrong; the request should wait in the pool's queue. */
static int first_request_right_after_listening_is_served(void)
{
    for (int round = 0; round < 5; round++) {
        it_server *s = it_server_start_nowait(NULL);
        IT_CHECK(s != NULL);
        it_conn *c = it_connect(s->port);
        IT_CHECK(c != NULL);
        it_buf b;
        it_buf_init(&b);
        it_req(&b, 1, "enterprise.list", IT_NO_ARGS);
        it_msg m;
        char d[800];
        IT_CHECK(it_call(c, b.sb.data, b.sb.size, 1, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        it_buf_free(&b);
        IT_CHECKF(!m.is_error, "round %d: the first request after start-up got %s", round,
                  it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    }
    return 0;
}

/*
 * A client floods server.info without reading (so the server pauses it
 * under backpressure with responses queued), then SIGTERM, then the client
 * reads everything. Every request the server dispatched must reach the
 * client as a result before the connection ends: "nothing is lost; the
 * client just waits" (PROTOCOL.md section 2) and in-flight requests finish
 * before the close (section 4, shutting_down). How many it dispatched is
 * read from its conn_close log line (requests=N): the protocol alone cannot
 * tell read-but-lost from never-read.
 */
static int sigterm_while_client_floods_loses_no_dispatched_answer(void)
{
    static const char *const sets[] = {"write_high_water=4096", "write_low_water=1024", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    /* A small receive buffer keeps most queued responses on the server's
     * side of the connection, where a careless close would drop them. */
    it_conn *c = it_connect_rcvbuf(s->port, 16384);
    IT_CHECK(c != NULL);
    enum { N = 100000 };
    unsigned char *flood = malloc((size_t)N * 32);
    IT_CHECK(flood != NULL);
    size_t len = 0;
    for (uint32_t i = 0; i < N; i++)
        len += it_server_info_bytes(i + 1, flood + len);
    ssize_t sent = it_send_some(c, flood, len, 3000);
    free(flood);
    it_sleep_ms(300);
    it_server_signal(s, SIGTERM);
    it_sleep_ms(200);
    long results = 0, refused = 0;
    int r;
    for (;;) {
        it_msg m;
        r = it_recv(c, IT_REPLY_TIMEOUT_MS, &m);
        if (r != IT_RECV_MSG)
            break;
        if (m.kind == 1 && !m.is_error)
            results++;
        else if (m.kind == 1 && strcmp(m.code, "shutting_down") == 0)
            refused++;
        it_msg_free(&m);
    }
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(exited_0(st), "wait status %d", st);
    char *log = it_server_log(s);
    IT_CHECK(log != NULL);
    long dispatched = -1;
    const char *p = strstr(log, "reason=shutdown ");
    const char *q = p != NULL ? strstr(p, "requests=") : NULL;
    if (q != NULL)
        dispatched = atol(q + 9);
    free(log);
    /* The first request of the connection was the harness's session.login,
     * answered (and read) before the flood. */
    if (dispatched > 0)
        dispatched--;
    it_note("sent %zd bytes (%zd requests); read %ld results and %ld shutting_down, then %s; "
            "the server dispatched %ld", sent, sent / 20, results, refused,
            r != IT_RECV_EOF ? "no EOF" : c->reset ? "a reset (ECONNRESET)" : "EOF",
            dispatched);
    IT_CHECK(r == IT_RECV_EOF);
    IT_CHECKF(dispatched >= 0, "no conn_close reason=shutdown ... requests=N line in the log");
    IT_CHECKF(results == dispatched,
              "%ld dispatched requests were answered by the server but never reached the "
              "client (closed with responses still queued in the kernel?)",
              dispatched - results);
    return 0;
}

/* A time_zone PostgreSQL could not use for "today" is refused at start
 * (exit 2), before anything is served, rather than accepted as UTC here
 * and an error there. */
static int unknown_time_zone_refused_at_start(void)
{
    const char *baobaod = getenv("BAOBAOD");
    IT_CHECK(baobaod != NULL);
    static const char *const bad[] = {"time_zone=Foo", "time_zone=Mars/Olympus",
                                      "time_zone=../../etc/passwd", "time_zone=CST-8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {baobaod, "--port", "0", "--set", bad[i], NULL};
        it_cli r;
        IT_CHECK(it_run(&r, argv, 10000) == 0);
        int st = r.status;
        bool said = r.err != NULL && strstr(r.err, "time_zone") != NULL;
        it_cli_free(&r);
        IT_CHECKF(st == 2, "%s: exit %d, expected 2", bad[i], st);
        IT_CHECKF(said, "%s: stderr does not name time_zone", bad[i]);
    }
    return 0;
}

static const it_test tests[] = {
    {"unknown_time_zone_refused_at_start", unknown_time_zone_refused_at_start},
    {"first_request_right_after_listening_is_served",
     first_request_right_after_listening_is_served},
    {"idle_server_exits_0_on_sigterm_and_sigint", idle_server_exits_0_on_sigterm_and_sigint},
    {"sigterm_with_requests_in_flight_answers_each_then_exits_0",
     sigterm_with_requests_in_flight_answers_each_then_exits_0},
    {"sigterm_while_client_floods_loses_no_dispatched_answer",
     sigterm_while_client_floods_loses_no_dispatched_answer},
    {"shutdown_deadline_cuts_off_requests_stuck_in_the_database",
     shutdown_deadline_cuts_off_requests_stuck_in_the_database},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "lifecycle", tests, sizeof tests / sizeof tests[0], NULL);
}
