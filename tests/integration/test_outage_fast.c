/*
 * test_outage_fast.c: after an outage long enough for the reconnect backoff
 * to reach reconnect_max_ms, service comes back soon after PostgreSQL
 * accepts connections again, by the mechanism PROTOCOL.md section 2 states
 * ("reconnect_min_ms / reconnect_max_ms"): the pool's first connection (the
 * probe) and the LISTEN connection retry at most POOL_PROBE_MAX_MS apart
 * however long the outage, and once one connection gets through the others
 * are woken from their backoff at once. The first acknowledged write needs
 * no manual step.
 *
 * No timing is asserted (the machine may be slow): the test checks the
 * delays baobaod logged (retry_ms of every failed attempt of the probe and
 * of the LISTEN connection), that the others were woken, and that a write
 * succeeds; it prints the time from "PostgreSQL accepts" to the first
 * acknowledged write for the reader.
 *
 * Not for: what requests get during the outage (test_pg_outage.c). Stops
 * the shared cluster, so meson runs it alone (is_parallel false).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* pool.h's POOL_PROBE_MAX_MS: the longest delay the probe and the LISTEN
 * connection may log between attempts. */
#define PROBE_MAX_MS 500
/* Long enough for the others' backoff (100 ms doubling) to reach the
 * default reconnect_max_ms of 5000 ms. */
#define OUTAGE_MS 8000
#define BACK_WITHIN_MS 30000
/* How often the test asks whether PostgreSQL accepts connections again. */
#define ACCEPT_POLL_MS 5

static uint32_t g_msgid = 10;

/* Every `retry_ms=N` on lines holding all of `a` and `b` (b may be NULL):
 * the largest N, or -1 when there is none. */
static long max_retry(const char *log, const char *a, const char *b, unsigned *lines)
{
    long max = -1;
    *lines = 0;
    for (const char *p = log; p != NULL && *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        if (strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL)) {
            const char *r = strstr(line, "retry_ms=");
            if (r != NULL) {
                long v = strtol(r + 9, NULL, 10);
                (*lines)++;
                if (v > max)
                    max = v;
            }
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return max;
}

static int submit(it_conn *c, int64_t eid, const char *note, it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "status.submit", 5);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "report_date", "2024-06-02");
    it_kv_str(&b, "reporter", "李四");
    it_kv_str(&b, "production_status", "正常");
    it_kv_str(&b, "note", note);
    int rc = it_buf_call(c, &b, id, m);
    it_buf_free(&b);
    return rc;
}

static int service_back_soon_after_postgres_accepts_again(void)
{
    IT_CHECKF(it_pg_can_restart(), "BAOBAO_PG_LOCAL and BAOBAO_PG_DIR must be set");
    it_server *s = it_server_start((const char *const[]){"pool_size=4", NULL});
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(950, cc);
    int64_t eid = -1;
    /* A process may refuse logged-in requests for a moment after start
     * (until it hears account changes). */
    for (int i = 0; i < 100 && eid <= 0; i++) {
        eid = it_create_enterprise(c, "快恢复企业", cc, "赤壁镇");
        if (eid <= 0)
            it_sleep_ms(100);
    }
    IT_CHECK(eid > 0);

    IT_CHECK(it_pg_stop() == 0);
    /* Requests keep coming during the outage (answered unavailable). */
    int64_t t_stop = it_now_ms();
    while (it_now_ms() - t_stop < OUTAGE_MS) {
        it_msg m;
        IT_CHECK(submit(c, eid, "停机期间", &m) == 0);
        IT_CHECK(m.is_error);
        it_msg_free(&m);
        it_sleep_ms(500);
    }
    /* Started from a child, so that this process can see the moment
     * PostgreSQL accepts connections (PQping every few ms) rather than
     * when pg_ctl -w noticed it. */
    fflush(stdout);
    pid_t starter = fork();
    IT_CHECK(starter >= 0);
    if (starter == 0)
        _exit(it_pg_start() == 0 ? 0 : 1);
    int64_t t_accept = -1;
    while (t_accept < 0 && it_now_ms() - t_stop < OUTAGE_MS + BACK_WITHIN_MS) {
        if (PQping(it_db_conninfo()) == PQPING_OK)
            t_accept = it_now_ms();
        else
            it_sleep_ms(ACCEPT_POLL_MS);
    }
    int st = -1;
    waitpid(starter, &st, 0);
    IT_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "starting PostgreSQL failed");
    IT_CHECK(t_accept > 0);
    bool back = false;
    char d[800];
    while (!back && it_now_ms() - t_accept < BACK_WITHIN_MS) {
        it_msg m;
        IT_CHECK(submit(c, eid, "恢复之后", &m) == 0);
        back = !m.is_error;
        IT_CHECKF(back || strcmp(m.code, "unavailable") == 0, "during recovery: %s",
                  it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        if (!back)
            it_sleep_ms(20);
    }
    int64_t t_ok = it_now_ms();
    IT_CHECKF(back, "no write succeeded %d ms after PostgreSQL accepted connections",
              BACK_WITHIN_MS);
    it_note("first acknowledged write %lld ms after PostgreSQL accepted connections "
            "(outage %d ms, reconnect_max_ms default)",
            (long long)(t_ok - t_accept), OUTAGE_MS);
    const char *p[] = {"恢复之后"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE note = $1", 1, p) == 1);

    char *log = it_server_log(s);
    IT_CHECK(log != NULL);
    unsigned n_probe = 0, n_listen = 0, n_other = 0;
    long probe = max_retry(log, "event=db_conn_broken", "pg=1 ", &n_probe);
    long listen = max_retry(log, "event=listen_connect_failed", NULL, &n_listen);
    long other = max_retry(log, "event=db_conn_broken", "pg=2 ", &n_other);
    bool kicked = strstr(log, "event=db_conn_kicked") != NULL;
    free(log);
    it_note("probe: %u failed attempts, longest delay %ld ms; LISTEN: %u, %ld ms; "
            "pg=2: %u, %ld ms",
            n_probe, probe, n_listen, listen, n_other, other);
    IT_CHECKF(n_probe > 3, "the probe tried only %u times during the outage", n_probe);
    IT_CHECKF(probe <= PROBE_MAX_MS, "the probe waited %ld ms between attempts", probe);
    IT_CHECKF(n_listen == 0 || listen <= PROBE_MAX_MS,
              "the LISTEN connection waited %ld ms between attempts", listen);
    /* The others did back off further (no storm), and were woken. */
    IT_CHECKF(other > PROBE_MAX_MS, "pg=2 never backed off beyond the probe's delay");
    IT_CHECKF(kicked, "no connection was woken from its backoff (event=db_conn_kicked)");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static const it_test tests[] = {
    {"service_back_soon_after_postgres_accepts_again",
     service_back_soon_after_postgres_accepts_again},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "outage_fast", tests, sizeof tests / sizeof tests[0], NULL);
}
