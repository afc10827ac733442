/*
 * bench.c: baobao-bench, the load generator of issue 3: N connections to
 * baobaod, M requests in flight on each, T seconds after a warm-up, and the
 * throughput and latency percentiles (p50, p99, p99.9) of what came back.
 *
 *   baobao-bench -w submit|get|list|mixed|overdue|idle [-s HOST:PORT] [-c N] [-m M]
 *                [-T SECONDS] [-W SECONDS] [-e ENTERPRISES] [-p SERVER_PID]
 *                [-U LOGIN]      (password from $BAOBAO_PASSWORD)
 *
 * Every load connection logs in (session.login, issue 4) before the
 * warm-up starts, as -U (default $BAOBAO_USER) with $BAOBAO_PASSWORD; the
 * logins are not measured. The idle test does not log in: server.info
 * works before login.
 *
 * For: measuring a running baobaod (scripts/bench starts everything and
 * compares with pgbench; docs/benchmarks.md explains the figures). Not for:
 * testing correctness (tests/) beyond what a run checks on the way: every
 * reply is matched to its request by msgid, one reply in VERIFY_EVERY is
 * decoded whole and checked against its request, and any error reply,
 * unanswered request or lost connection makes the run invalid (exit 1).
 *
 * One thread, one epoll loop over all sockets, requests packed straight
 * into each connection's buffer (msgpack-c) and replies framed with proto's
 * bb_frame; most replies are only peeked at (msgid, error nil?), so the
 * benchmark costs far less CPU than the server it drives (it reports its
 * own CPU use so that can be checked).
 *
 * Latency is from the moment a request is packed (it is written in the same
 * loop turn) to the loop turn its reply is read in.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "idle.h"
#include "stats.h"
#include "workload.h"

#define DEFAULT_SERVER "127.0.0.1:7420"
#define DEFAULT_CONNS 16
#define DEFAULT_DEPTH 1
#define DEFAULT_SECONDS 10.0
#define DEFAULT_WARMUP 2.0
#define DEFAULT_ENTERPRISES 5000
#define DEFAULT_IDLE_CONNS 10000
#define MAX_CONNS 100000
#define MAX_DEPTH 128             /* the server's default max_in_flight */
#define VERIFY_EVERY 64           /* one reply in this many is checked whole */
#define DRAIN_TIMEOUT_MS 10000    /* after T: wait this long for replies */
#define EPOLL_BATCH 256
#define LOOP_TICK_MS 50           /* longest epoll_wait, to notice phase ends */
#define ERRORS_SHOWN 5
#define LOGIN_MSGID UINT32_MAX    /* answered before any load msgid is sent */
/* Logins in flight at once: every load connection logs in as the same
 * user, and the server lets only as many checks of one account run at once
 * as failed logins are left before its lock (login_max_failures, default
 * 5); more would be answered `unavailable`. */
#define LOGIN_BATCH 4
#define LOGIN_TIMEOUT_MS 60000    /* argon2id on the server's thread pool, under load */

typedef enum phase { PH_WARMUP, PH_MEASURE, PH_DRAIN } phase;

typedef struct slot {
    uint32_t msgid;
    bool busy;
    req_info info;
    uint64_t t_send;
} slot;

typedef struct cstate {
    slot *slots;
    uint64_t seq;              /* requests issued on this connection */
    unsigned in_flight;
} cstate;

typedef struct run {
    workload wl;
    wl_config cfg;
    unsigned depth;
    int nconns;
    bconn *conns;
    cstate *cs;
    int ep;
    uint64_t rng;
    phase ph;
    uint64_t now;
    uint64_t total_in_flight;
    uint64_t replies;           /* every reply, for sampling */
    /* in the measurement window */
    uint64_t done[OP_KINDS];
    lat_samples lat[OP_KINDS];
    lat_samples lat_all;
    /* over the whole run, warm-up and drain included */
    uint64_t sent[OP_KINDS], ok[OP_KINDS];
    uint64_t errors;
    uint64_t broken_conns;
    const char *login;          /* borrowed from argv or the environment */
    const char *password;       /* borrowed from the environment */
} run;

/* Counts one error (n more with add_more) and shows the first few. */
__attribute__((format(printf, 4, 5)))
static void run_error(run *r, int conn, uint64_t add_more, const char *fmt, ...)
{
    if (r->errors < ERRORS_SHOWN) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "bench: connection %d: ", conn);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    r->errors += 1 + add_more;
}

/* Packs a new request into slot si of connection ci. */
static void issue(run *r, int ci, unsigned si)
{
    bconn *c = &r->conns[ci];
    cstate *st = &r->cs[ci];
    slot *s = &st->slots[si];
    op_kind op = wl_pick(r->wl, &r->rng);
    s->msgid += r->depth;       /* msgid % depth == si, so a reply finds its slot */
    wl_pack(&c->pk, &r->cfg, &r->rng, op, s->msgid, ci, st->seq++, &s->info);
    s->busy = true;
    s->t_send = r->now;
    st->in_flight++;
    r->total_in_flight++;
    r->sent[op]++;
}

static void on_reply(bconn *c, const uint8_t *msg, size_t len, void *ctx)
{
    run *r = ctx;
    cstate *st = &r->cs[c->index];
    char why[512];
    uint32_t msgid = 0;
    reply_kind k = reply_peek(msg, len, &msgid);
    if (k == REPLY_OTHER) {
        req_info none = {OP_INFO, 0};
        if (reply_check(msg, len, &none, why, sizeof why) == 0)
            snprintf(why, sizeof why, "not a response");
        run_error(r, c->index, 0, "%s", why);
        c->broken = true;        /* a notification means the server closes */
        return;
    }
    slot *s = &st->slots[msgid % r->depth];
    if (!s->busy || s->msgid != msgid) {
        run_error(r, c->index, 0, "reply to msgid %" PRIu32 ", which is not in flight", msgid);
        c->broken = true;
        return;
    }
    s->busy = false;
    st->in_flight--;
    r->total_in_flight--;
    op_kind op = s->info.op;
    r->replies++;
    if (k == REPLY_ERROR || r->replies % VERIFY_EVERY == 0) {
        if (reply_check(msg, len, &s->info, why, sizeof why) != 0) {
            run_error(r, c->index, 0, "%s", why);
            k = REPLY_ERROR;
        }
    }
    if (k == REPLY_OK) {
        r->ok[op]++;
        if (r->ph == PH_MEASURE) {
            uint64_t ns = r->now - s->t_send;
            r->done[op]++;
            if (lat_add(&r->lat[op], ns) != 0 || lat_add(&r->lat_all, ns) != 0) {
                fprintf(stderr, "bench: out of memory\n");
                exit(2);
            }
        }
    }
    if (r->ph != PH_DRAIN && !c->broken)
        issue(r, c->index, (unsigned)(msgid % r->depth));
}

static void set_write_interest(run *r, bconn *c, bool want)
{
    if (c->want_write == want)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.u32 = (uint32_t)c->index};
    if (epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_write = want;
}

static void conn_lost(run *r, bconn *c)
{
    cstate *st = &r->cs[c->index];
    if (c->fd < 0)
        return;
    if (st->in_flight > 0)
        run_error(r, c->index, st->in_flight - 1u, "connection lost with %u requests in flight",
                  st->in_flight);
    r->total_in_flight -= st->in_flight;
    st->in_flight = 0;
    epoll_ctl(r->ep, EPOLL_CTL_DEL, c->fd, NULL);
    conn_close(c);
    r->broken_conns++;
}

static void flush_conn(run *r, bconn *c)
{
    int f = conn_flush(c);
    if (f < 0)
        conn_lost(r, c);
    else
        set_write_interest(r, c, f == 0);
}

static void print_row(const char *name, uint64_t n, double secs, const lat_samples *l)
{
    printf("  %-7s %10" PRIu64 " %11.0f %9.3f %9.3f %9.3f %9.3f\n", name, n,
           secs > 0 ? (double)n / secs : 0.0, lat_quantile_us(l, 0.50) / 1000.0,
           lat_quantile_us(l, 0.99) / 1000.0, lat_quantile_us(l, 0.999) / 1000.0,
           lat_quantile_us(l, 1.0) / 1000.0);
}

static void result_line(const char *wl, const char *op, uint64_t n, double secs,
                        const lat_samples *l)
{
    printf("RESULT_OP workload=%s op=%s ops=%" PRIu64 " rate=%.0f p50_ms=%.3f p99_ms=%.3f "
           "p999_ms=%.3f max_ms=%.3f\n",
           wl, op, n, secs > 0 ? (double)n / secs : 0.0, lat_quantile_us(l, 0.50) / 1000.0,
           lat_quantile_us(l, 0.99) / 1000.0, lat_quantile_us(l, 0.999) / 1000.0,
           lat_quantile_us(l, 1.0) / 1000.0);
}

/* Frees what run_load set up, whatever point it reached. */
static void run_free(run *r)
{
    for (int i = 0; r->conns != NULL && i < r->nconns; i++)
        if (r->conns[i].in != NULL || r->conns[i].fd > 0)
            conn_close(&r->conns[i]);
    for (int i = 0; r->cs != NULL && i < r->nconns; i++)
        free(r->cs[i].slots);
    for (int op = 0; op < OP_KINDS; op++)
        lat_free(&r->lat[op]);
    lat_free(&r->lat_all);
    free(r->conns);
    free(r->cs);
    if (r->ep >= 0)
        close(r->ep);
}

typedef struct login_wait {
    int done;                   /* replies taken */
    int failed;
} login_wait;

static void on_login_reply(bconn *c, const uint8_t *msg, size_t len, void *ctx)
{
    login_wait *lw = ctx;
    uint32_t msgid = 0;
    reply_kind k = reply_peek(msg, len, &msgid);
    lw->done++;
    if (k == REPLY_OK && msgid == LOGIN_MSGID)
        return;
    char why[512] = "not the reply to session.login";
    req_info none = {OP_INFO, 0};
    if (k == REPLY_ERROR && reply_check(msg, len, &none, why, sizeof why) == 0)
        snprintf(why, sizeof why, "unexpected reply");
    if (lw->failed++ < ERRORS_SHOWN)
        fprintf(stderr, "bench: connection %d: session.login: %s\n", c->index, why);
    c->broken = true;
}

/* Logs connections [from, to) in, all in flight at once; 0 or -1. */
static int login_batch(run *r, int from, int to)
{
    for (int i = from; i < to; i++) {
        bconn *c = &r->conns[i];
        wl_pack_login(&c->pk, LOGIN_MSGID, r->login, r->password);
        struct pollfd p = {c->fd, POLLOUT, 0};
        int f;
        while ((f = conn_flush(c)) == 0)
            poll(&p, 1, LOGIN_TIMEOUT_MS);
        /* The password stays in no buffer longer than needed. */
        memset(c->out, 0, c->out_cap);
        if (f < 0) {
            fprintf(stderr, "bench: connection %d: sending session.login failed\n", i);
            return -1;
        }
    }
    login_wait lw = {0, 0};
    int n = to - from;
    struct pollfd *pfd = calloc((size_t)n, sizeof *pfd);
    if (pfd == NULL)
        return -1;
    uint64_t deadline = mono_ns() + (uint64_t)LOGIN_TIMEOUT_MS * 1000000u;
    while (lw.done < n && lw.failed == 0) {
        for (int i = 0; i < n; i++) {
            pfd[i].fd = r->conns[from + i].broken ? -1 : r->conns[from + i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        uint64_t now = mono_ns();
        if (now >= deadline) {
            fprintf(stderr, "bench: %d logins unanswered after %d ms\n", n - lw.done,
                    LOGIN_TIMEOUT_MS);
            lw.failed++;
            break;
        }
        if (poll(pfd, (nfds_t)n, (int)((deadline - now) / 1000000u) + 1) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++)
            if (pfd[i].revents != 0 && conn_read(&r->conns[from + i], on_login_reply, &lw) < 0) {
                lw.failed++;
                break;
            }
    }
    free(pfd);
    return lw.done == n && lw.failed == 0 ? 0 : -1;
}

static int login_all(run *r)
{
    for (int i = 0; i < r->nconns; i += LOGIN_BATCH) {
        int to = i + LOGIN_BATCH < r->nconns ? i + LOGIN_BATCH : r->nconns;
        if (login_batch(r, i, to) != 0)
            return -1;
    }
    return 0;
}

static int run_load(run *r, const struct sockaddr_storage *addr, unsigned addrlen,
                    double secs, double warmup, int server_pid)
{
    r->conns = calloc((size_t)r->nconns, sizeof *r->conns);
    r->cs = calloc((size_t)r->nconns, sizeof *r->cs);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->conns == NULL || r->cs == NULL || r->ep < 0) {
        fprintf(stderr, "bench: setup failed: %s\n", strerror(errno));
        return 2;
    }
    for (int i = 0; i < r->nconns; i++) {
        r->cs[i].slots = calloc(r->depth, sizeof(slot));
        if (r->cs[i].slots == NULL)
            return 2;
        for (unsigned s = 0; s < r->depth; s++)
            r->cs[i].slots[s].msgid = s;  /* the first issue adds depth */
        if (conn_open(&r->conns[i], addr, addrlen, i) != 0) {
            fprintf(stderr, "bench: connection %d: connect: %s\n", i, strerror(errno));
            return 2;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->conns[i].fd, &ev) != 0) {
            fprintf(stderr, "bench: epoll_ctl: %s\n", strerror(errno));
            return 2;
        }
    }
    if (login_all(r) != 0) {
        fprintf(stderr, "bench: logging in as '%s' failed (-U LOGIN, $BAOBAO_PASSWORD)\n",
                r->login);
        return 2;
    }

    uint64_t t0 = mono_ns();
    uint64_t t_measure = t0 + (uint64_t)(warmup * 1e9);
    uint64_t t_end = t_measure + (uint64_t)(secs * 1e9);
    uint64_t t_m0 = 0, t_m1 = 0, t_drain_deadline = 0;
    cpu_snap c0 = {0}, c1 = {0};
    r->now = t0;
    r->ph = PH_WARMUP;
    if (warmup <= 0) {
        r->ph = PH_MEASURE;
        t_m0 = t0;
        cpu_take(&c0, server_pid);
    }
    for (int i = 0; i < r->nconns; i++) {
        for (unsigned s = 0; s < r->depth; s++)
            issue(r, i, s);
        flush_conn(r, &r->conns[i]);
    }

    struct epoll_event evs[EPOLL_BATCH];
    for (;;) {
        r->now = mono_ns();
        if (r->ph == PH_WARMUP && r->now >= t_measure) {
            r->ph = PH_MEASURE;
            t_m0 = r->now;
            cpu_take(&c0, server_pid);
        }
        if (r->ph == PH_MEASURE && r->now >= t_end) {
            r->ph = PH_DRAIN;
            t_m1 = r->now;
            cpu_take(&c1, server_pid);
            t_drain_deadline = r->now + (uint64_t)DRAIN_TIMEOUT_MS * 1000000u;
        }
        if (r->ph == PH_DRAIN && r->total_in_flight == 0)
            break;
        if (r->ph == PH_DRAIN && r->now >= t_drain_deadline) {
            run_error(r, -1, r->total_in_flight - 1u,
                      "%" PRIu64 " requests still unanswered %d ms after the end",
                      r->total_in_flight, DRAIN_TIMEOUT_MS);
            break;
        }
        if (r->broken_conns == (uint64_t)r->nconns) {
            fprintf(stderr, "bench: every connection was lost\n");
            if (r->ph != PH_DRAIN) {
                t_m1 = mono_ns();
                cpu_take(&c1, server_pid);
            }
            break;
        }
        int n = epoll_wait(r->ep, evs, EPOLL_BATCH, LOOP_TICK_MS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "bench: epoll_wait: %s\n", strerror(errno));
            return 2;
        }
        r->now = mono_ns();
        for (int i = 0; i < n; i++) {
            bconn *c = &r->conns[evs[i].data.u32];
            if (c->fd < 0)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                if (conn_read(c, on_reply, r) < 0 || c->broken) {
                    conn_lost(r, c);
                    continue;
                }
            }
            flush_conn(r, c);
        }
    }

    double m_secs = (double)(t_m1 - t_m0) / 1e9;
    const char *wname = workload_name(r->wl);
    printf("workload %s: %d connections x %u in flight, %.2f s measured after %.1f s warm-up\n",
           wname, r->nconns, r->depth, m_secs, warmup);
    printf("  %-7s %10s %11s %9s %9s %9s %9s\n", "op", "requests", "per second", "p50 ms",
           "p99 ms", "p99.9 ms", "max ms");
    uint64_t total = 0;
    int kinds = 0;
    for (int op = 0; op < OP_KINDS; op++) {
        if (r->sent[op] == 0)
            continue;
        kinds++;
        lat_sort(&r->lat[op]);
        print_row(op_name((op_kind)op), r->done[op], m_secs, &r->lat[op]);
        total += r->done[op];
    }
    lat_sort(&r->lat_all);
    if (kinds > 1)
        print_row("all", total, m_secs, &r->lat_all);
    double self_pct = m_secs > 0 ? 100.0 * (c1.self_s - c0.self_s) / m_secs : 0.0;
    double srv_pct = (server_pid > 0 && m_secs > 0 && c0.proc_s >= 0 && c1.proc_s >= 0)
                         ? 100.0 * (c1.proc_s - c0.proc_s) / m_secs : -1.0;
    double all_s = c1.machine_all_s - c0.machine_all_s;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double mach_pct = all_s > 0 ? 100.0 * (double)ncpu * (c1.machine_busy_s - c0.machine_busy_s) / all_s : 0.0;
    printf("  cpu (%% of one core): bench %.0f%%", self_pct);
    if (srv_pct >= 0)
        printf(", baobaod %.0f%%", srv_pct);
    printf(", whole machine %.0f%% of %ld00%%", mach_pct, ncpu);
    if (srv_pct >= 0)
        printf(" (PostgreSQL and the rest: ~%.0f%%)", mach_pct - self_pct - srv_pct);
    printf("\n");
    printf("  acknowledged submits (whole run, warm-up and drain included): %" PRIu64 "\n",
           r->ok[OP_SUBMIT]);
    printf("  errors: %" PRIu64 ", connections lost: %" PRIu64 "%s\n", r->errors,
           r->broken_conns, r->errors || r->broken_conns ? "  => RUN INVALID" : "");
    bool valid = r->errors == 0 && r->broken_conns == 0;
    printf("RESULT workload=%s conns=%d depth=%u secs=%.3f ops=%" PRIu64 " rate=%.0f "
           "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f errors=%" PRIu64
           " acked_submits=%" PRIu64 " bench_cpu=%.0f server_cpu=%.0f machine_cpu=%.0f valid=%d\n",
           wname, r->nconns, r->depth, m_secs, total, m_secs > 0 ? (double)total / m_secs : 0.0,
           lat_quantile_us(&r->lat_all, 0.50) / 1000.0, lat_quantile_us(&r->lat_all, 0.99) / 1000.0,
           lat_quantile_us(&r->lat_all, 0.999) / 1000.0, lat_quantile_us(&r->lat_all, 1.0) / 1000.0,
           r->errors + r->broken_conns, r->ok[OP_SUBMIT], self_pct, srv_pct, mach_pct, valid);
    for (int op = 0; op < OP_KINDS; op++)
        if (r->sent[op] > 0)
            result_line(wname, op_name((op_kind)op), r->done[op], m_secs, &r->lat[op]);
    return valid ? 0 : 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: baobao-bench -w WORKLOAD [options]\n"
            "\n"
            "  -w, --workload W      submit | get | list | mixed | overdue | info | idle\n"
            "  -s, --server H:P      baobaod's address (default " DEFAULT_SERVER ")\n"
            "  -c, --connections N   client connections (default %d; idle: %d)\n"
            "  -m, --depth M         requests in flight per connection (default %d, max %d)\n"
            "  -T, --time S          seconds measured (default %.0f)\n"
            "  -W, --warmup S        seconds of warm-up before (default %.0f)\n"
            "  -e, --enterprises N   enterprise ids 1..N exist (default %d)\n"
            "  -p, --server-pid PID  baobaod's pid: its CPU (load) or memory (idle) is reported\n"
            "      --hold S          idle: keep the connections open S more seconds\n"
            "  -U, --user LOGIN      log every load connection in as LOGIN (default\n"
            "                        $BAOBAO_USER); the password is $BAOBAO_PASSWORD.\n"
            "                        idle does not log in (server.info needs no login)\n"
            "  -h, --help\n"
            "\n"
            "Prints a table, then machine-readable RESULT / RESULT_OP lines.\n"
            "Exit status: 0 a valid run, 1 errors happened (the run is invalid), 2 setup failed.\n",
            DEFAULT_CONNS, DEFAULT_IDLE_CONNS, DEFAULT_DEPTH, MAX_DEPTH, DEFAULT_SECONDS,
            DEFAULT_WARMUP, DEFAULT_ENTERPRISES);
}

static int parse_num(const char *s, double lo, double hi, double *out, const char *what)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "bench: %s must be a number in [%g, %g], not '%s'\n", what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"workload", required_argument, NULL, 'w'},
        {"server", required_argument, NULL, 's'},
        {"connections", required_argument, NULL, 'c'},
        {"depth", required_argument, NULL, 'm'},
        {"time", required_argument, NULL, 'T'},
        {"warmup", required_argument, NULL, 'W'},
        {"enterprises", required_argument, NULL, 'e'},
        {"server-pid", required_argument, NULL, 'p'},
        {"hold", required_argument, NULL, 'H'},
        {"user", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = DEFAULT_SERVER;
    const char *login = getenv("BAOBAO_USER");
    int wl = -1;
    double conns = -1, depth = DEFAULT_DEPTH, secs = DEFAULT_SECONDS, warmup = DEFAULT_WARMUP;
    double ents = DEFAULT_ENTERPRISES, pid = 0, hold = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "w:s:c:m:T:W:e:p:U:h", longopts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'w':
            wl = workload_parse(optarg);
            if (wl < 0) {
                fprintf(stderr, "bench: unknown workload '%s'\n", optarg);
                bad = 1;
            }
            break;
        case 's': server = optarg; break;
        case 'U': login = optarg; break;
        case 'c': bad = parse_num(optarg, 1, MAX_CONNS, &conns, "--connections"); break;
        case 'm': bad = parse_num(optarg, 1, MAX_DEPTH, &depth, "--depth"); break;
        case 'T': bad = parse_num(optarg, 0.1, 86400, &secs, "--time"); break;
        case 'W': bad = parse_num(optarg, 0, 3600, &warmup, "--warmup"); break;
        case 'e': bad = parse_num(optarg, 1, 1e12, &ents, "--enterprises"); break;
        case 'p': bad = parse_num(optarg, 1, 1e9, &pid, "--server-pid"); break;
        case 'H': bad = parse_num(optarg, 0, 86400, &hold, "--hold"); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (bad)
            return 2;
    }
    if (wl < 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    struct sockaddr_storage addr;
    unsigned addrlen = 0;
    if (conn_resolve(server, &addr, &addrlen) != 0)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (wl == WL_IDLE)
        return idle_run(&addr, addrlen, conns > 0 ? (int)conns : DEFAULT_IDLE_CONNS, (int)pid,
                        hold);

    const char *password = getenv("BAOBAO_PASSWORD");
    if (login == NULL || login[0] == '\0' || password == NULL || password[0] == '\0') {
        fprintf(stderr, "bench: the load logs in: give -U LOGIN (or $BAOBAO_USER) and "
                        "$BAOBAO_PASSWORD\n");
        return 2;
    }
    run r;
    memset(&r, 0, sizeof r);
    r.login = login;
    r.password = password;
    r.wl = (workload)wl;
    r.depth = (unsigned)depth;
    r.nconns = conns > 0 ? (int)conns : DEFAULT_CONNS;
    r.cfg.n_enterprises = (int64_t)ents;
    /* Unique per run, so keys of an earlier run are never replayed. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(r.cfg.run_id, sizeof r.cfg.run_id, "bench-%lx.%lx.%x", (unsigned long)ts.tv_sec,
             (unsigned long)ts.tv_nsec, (unsigned)getpid());
    r.rng = (uint64_t)ts.tv_nsec * UINT64_C(0x9E3779B97F4A7C15) | 1u;
    r.ep = -1;
    int rc = run_load(&r, &addr, addrlen, secs, warmup, (int)pid);
    run_free(&r);
    return rc;
}
