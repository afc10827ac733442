/*
 * idle.c: the idle-connections memory test (see idle.h).
 *
 * Connections are opened in batches (IDLE_BATCH at a time, each batch
 * answered before the next) so the server's listen backlog never
 * overflows and a refused connection shows up at once.
 */
#include "idle.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "stats.h"
#include "workload.h"

#define IDLE_BATCH 250
#define IDLE_FD_SPARE 64          /* descriptors beside the connections */
#define IDLE_REPLY_TIMEOUT_MS 10000
#define IDLE_SETTLE_MS 1000       /* let the server finish its bookkeeping */

static int raise_nofile(int conns)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rlim_t want = (rlim_t)conns + IDLE_FD_SPARE;
    if (rl.rlim_cur >= want)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        fprintf(stderr, "bench: idle: %d connections need %lu descriptors, the hard limit is %lu\n",
                conns, (unsigned long)want, (unsigned long)rl.rlim_max);
        return -1;
    }
    rl.rlim_cur = want;
    return setrlimit(RLIMIT_NOFILE, &rl);
}

typedef struct idle_ctx {
    int answered;
    int failed;
} idle_ctx;

static void on_info_reply(bconn *c, const uint8_t *msg, size_t len, void *ctx)
{
    idle_ctx *ic = ctx;
    req_info info = {OP_INFO, 0};
    char why[512];
    if (reply_check(msg, len, &info, why, sizeof why) != 0) {
        if (ic->failed < 5)
            fprintf(stderr, "bench: idle: connection %d: %s\n", c->index, why);
        ic->failed++;
        c->broken = true;
        return;
    }
    ic->answered++;
}

/* Waits until every connection of cs[0..n) answered its server.info. */
static int await_batch(bconn *cs, int n, idle_ctx *ic)
{
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    if (pfd == NULL)
        return -1;
    int want = ic->answered + n;
    uint64_t deadline = mono_ns() + (uint64_t)IDLE_REPLY_TIMEOUT_MS * 1000000u;
    int rc = 0;
    while (ic->answered < want && ic->failed == 0) {
        for (int i = 0; i < n; i++) {
            pfd[i].fd = cs[i].broken ? -1 : cs[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        uint64_t now = mono_ns();
        if (now >= deadline) {
            fprintf(stderr, "bench: idle: %d connections did not answer server.info in %d ms\n",
                    want - ic->answered, IDLE_REPLY_TIMEOUT_MS);
            rc = -1;
            break;
        }
        int k = poll(pfd, (nfds_t)n, (int)((deadline - now) / 1000000u) + 1);
        if (k < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        for (int i = 0; i < n && k > 0; i++) {
            if (pfd[i].revents == 0)
                continue;
            if (conn_read(&cs[i], on_info_reply, ic) < 0 && cs[i].broken)
                ic->failed++;
        }
    }
    free(pfd);
    return ic->failed ? -1 : rc;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int idle_run(const struct sockaddr_storage *addr, unsigned addrlen, int conns, int server_pid,
             double hold_s)
{
    if (server_pid <= 0) {
        fprintf(stderr, "bench: idle needs --server-pid (baobaod's pid, to read /proc)\n");
        return 2;
    }
    if (raise_nofile(conns) != 0) {
        fprintf(stderr, "bench: idle: cannot raise RLIMIT_NOFILE to %d: %s\n",
                conns + IDLE_FD_SPARE, strerror(errno));
        return 2;
    }
    /* VmHWM is the peak of the process's whole life; reset it (Linux >= 4.0)
     * so that it is the peak of this test, not of an earlier load run. */
    bool hwm_reset = proc_reset_hwm(server_pid) == 0;
    long rss0, hwm0, rss1, hwm1, rss2 = 0, hwm2 = 0;
    if (proc_mem_kib(server_pid, &rss0, &hwm0) != 0) {
        fprintf(stderr, "bench: idle: cannot read /proc/%d/status\n", server_pid);
        return 2;
    }
    bconn *cs = calloc((size_t)conns, sizeof *cs);
    if (cs == NULL)
        return 2;
    wl_config cfg = {.n_enterprises = 1, .run_id = "idle"};
    uint64_t rng = 1;
    idle_ctx ic = {0, 0};
    int opened = 0, rc = 0;
    uint64_t t0 = mono_ns();
    while (opened < conns) {
        int n = conns - opened < IDLE_BATCH ? conns - opened : IDLE_BATCH;
        for (int i = 0; i < n; i++) {
            bconn *c = &cs[opened + i];
            if (conn_open(c, addr, addrlen, opened + i) != 0) {
                fprintf(stderr, "bench: idle: connection %d: connect: %s\n", opened + i,
                        strerror(errno));
                opened += i;
                rc = 1;
                goto measure;
            }
            req_info info;
            wl_pack(&c->pk, &cfg, &rng, OP_INFO, 1, opened + i, 0, &info);
            if (conn_flush(c) != 1) {
                fprintf(stderr, "bench: idle: connection %d: write failed\n", opened + i);
                opened += i + 1;
                rc = 1;
                goto measure;
            }
        }
        int first = opened;
        opened += n;
        if (await_batch(&cs[first], n, &ic) != 0) {
            rc = 1;
            goto measure;
        }
        /* The buffers a busy connection needs are not what an idle one
         * costs the server; here they only cost this process. */
        for (int i = first; i < opened; i++) {
            bconn *c = &cs[i];
            free(c->in);
            free(c->out);
            c->in = c->out = NULL;
        }
    }
measure:;
    double open_s = (double)(mono_ns() - t0) / 1e9;
    sleep_ms(IDLE_SETTLE_MS);
    if (proc_mem_kib(server_pid, &rss1, &hwm1) != 0) {
        fprintf(stderr, "bench: idle: cannot read /proc/%d/status\n", server_pid);
        rc = 2;
        rss1 = hwm1 = 0;
    }
    if (hold_s > 0)
        sleep_ms((unsigned)(hold_s * 1000.0));
    for (int i = 0; i < opened; i++)
        conn_close(&cs[i]);
    free(cs);
    sleep_ms(IDLE_SETTLE_MS);
    if (proc_mem_kib(server_pid, &rss2, &hwm2) != 0)
        rss2 = hwm2 = 0;

    double per_conn = ic.answered > 0 ? (double)(rss1 - rss0) * 1024.0 / ic.answered : 0.0;
    printf("idle connections: %d opened, %d answered server.info (%.1f s)\n", opened,
           ic.answered, open_s);
    printf("  baobaod before:        VmRSS %8.1f MiB  VmHWM %8.1f MiB\n", rss0 / 1024.0,
           hwm0 / 1024.0);
    printf("  with %5d idle:       VmRSS %8.1f MiB  VmHWM %8.1f MiB\n", ic.answered,
           rss1 / 1024.0, hwm1 / 1024.0);
    printf("  after closing them:    VmRSS %8.1f MiB  VmHWM %8.1f MiB\n", rss2 / 1024.0,
           hwm2 / 1024.0);
    if (!hwm_reset)
        printf("  (VmHWM could not be reset: it includes peaks before this test)\n");
    printf("  per connection:        %.0f bytes (VmRSS growth / connections)\n", per_conn);
    printf("RESULT workload=idle conns=%d answered=%d rss_before_kib=%ld hwm_before_kib=%ld "
           "rss_kib=%ld hwm_kib=%ld rss_after_close_kib=%ld per_conn_bytes=%.0f hwm_reset=%d "
           "valid=%d\n",
           opened, ic.answered, rss0, hwm0, rss1, hwm1, rss2, per_conn, hwm_reset,
           rc == 0 && ic.answered == conns);
    return rc == 0 && ic.answered == conns ? 0 : (rc ? rc : 1);
}
