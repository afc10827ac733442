/*
 * floor.c: baobao-floor, the least a get can cost any server that stands
 * where baobaod stands (docs/benchmarks.md, "The floor under a get").
 *
 * It is the skeleton of baobaod's get and nothing else: one process with
 * one epoll loop (no libuv), clients on TCP loopback sending 4-byte ids, a
 * few libpq connections in pipeline mode running pgbench's get statement
 * (bench/pgbench/get.sql: `SELECT * FROM enterprise_wire WHERE id = $1`,
 * prepared; baobaod's own adds the caller's scope), the queries of
 * one loop turn on one connection sent with one sync and one flush (as
 * baobaod's pool does), and each row's fields copied into a reply written
 * with one write(). No protocol, no parsing, no checks, no sessions, no
 * allocation per request but libpq's own. The load runs in a second process
 * (16 connections, one request in flight each, like baobao-bench -c 16 -m 1)
 * and the proxy's CPU time over the requests it answered is printed: what
 * the kernel (a read and a write on a client socket, libpq's sends and
 * receives, epoll) and libpq cost a request before any of baobaod's own work.
 *
 *   baobao-floor --db CONNINFO [-c CONNS] [-T SECONDS] [-W SECONDS]
 *                [-e ENTERPRISES] [--pool N]
 *
 * Prints one line: RESULT floor=get conns=… rate=… server_cpu=… us_per_req=…
 * and the proxy's batching per request (epoll waits, syncs, libpq input
 * reads, voluntary context switches), to compare with baobaod's at like
 * batching: a faster proxy gathers fewer requests per loop turn.
 * Not for: tests, or anything but this measurement (no error is survived:
 * the first one ends the run with status 1).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"
#include "stats.h"

#define FLOOR_MAX_CONNS 256   /* client connections */
#define FLOOR_MAX_POOL 64     /* libpq connections */
#define FLOOR_EVENTS 64       /* epoll events per wait (baobaod: libuv's 1024) */
#define FLOOR_REPLY_MAX 4096  /* a get's row is about 300 bytes */
#define FLOOR_GET_SQL "SELECT * FROM enterprise_wire WHERE id = $1"

static void die(const char *what)
{
    fprintf(stderr, "baobao-floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void die_pg(PGconn *pg, const char *what)
{
    fprintf(stderr, "baobao-floor: %s: %s", what, PQerrorMessage(pg));
    exit(1);
}

static double now_s(void)
{
    return (double)mono_ns() / 1e9;
}

/* One libpq connection: the clients whose queries are in flight on it, in
 * order (a pipeline answers in order), and whether a sync is owed. */
typedef struct pgc {
    PGconn *pg;
    int fd;
    int fifo[FLOOR_MAX_CONNS];
    unsigned head, count;   /* ring of client fds */
    unsigned unsynced;      /* queries sent this loop turn */
    unsigned syncs;         /* syncs whose PGRES_PIPELINE_SYNC is still due */
} pgc;

/* Tags in epoll's data: client fds as they are, libpq connections offset. */
#define FLOOR_PG_TAG 1000000

/* The proxy's counters, in memory shared with the load process (mmap
 * before fork), read at the start and the end of the measured window. */
typedef struct floor_counts {
    volatile uint64_t waits;     /* epoll_wait calls */
    volatile uint64_t syncs;     /* PQpipelineSync calls: one send each */
    volatile uint64_t consumes;  /* PQconsumeInput calls: one recv each */
} floor_counts;
static floor_counts *counts;

static void pg_drain(pgc *c)
{
    counts->consumes++;
    if (PQconsumeInput(c->pg) != 1)
        die_pg(c->pg, "PQconsumeInput");
    unsigned nulls = 0;
    while ((c->count > 0 || c->syncs > 0) && !PQisBusy(c->pg)) {
        PGresult *r = PQgetResult(c->pg);
        if (r == NULL) {
            /* the end of one query's results: the next follows; two in a
             * row would mean libpq has nothing more for us (as pgconn.c) */
            if (++nulls > 1)
                break;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            c->syncs--;
        } else if (st == PGRES_TUPLES_OK) {
            if (c->count == 0) {
                fprintf(stderr, "baobao-floor: a result with no query waiting for it\n");
                exit(1);
            }
            int client = c->fifo[c->head];
            c->head = (c->head + 1) % FLOOR_MAX_CONNS;
            c->count--;
            /* The row's fields, tab-separated (the first is the id the
             * client checks), ending in a newline; an empty row: "\n". */
            char reply[FLOOR_REPLY_MAX];
            size_t n = 0;
            if (PQntuples(r) > 0)
                for (int f = 0; f < PQnfields(r); f++) {
                    size_t len = (size_t)PQgetlength(r, 0, f);
                    if (n + len + 2 > sizeof reply)
                        break;
                    memcpy(reply + n, PQgetvalue(r, 0, f), len);
                    n += len;
                    reply[n++] = '\t';
                }
            reply[n++] = '\n';
            if (write(client, reply, n) != (ssize_t)n)
                die("write to a client");
        } else {
            fprintf(stderr, "baobao-floor: query: %s", PQresultErrorMessage(r));
            exit(1);
        }
        PQclear(r);
    }
}

/* Writes what libpq holds for c; watches for the socket to take more when
 * it cannot (a full socket: not at this load, but not spun on either). */
static void pg_flush(pgc *c, int ep, int index)
{
    int r = PQflush(c->pg);
    if (r < 0)
        die_pg(c->pg, "PQflush");
    struct epoll_event ev = {.events = EPOLLIN | (r == 1 ? EPOLLOUT : 0),
                             .data.u32 = (uint32_t)(FLOOR_PG_TAG + index)};
    if (r == 1 && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl pg");
    if (r == 1)
        pg_drain(c);   /* a send that would block reads what came in meanwhile */
}

/* The proxy: never returns; killed by the load process when it is done.
 * Writes one byte to `ready` once it serves. */
static void proxy(int ls, int nconns, const char *conninfo, int npool, int ready)
{
    pgc *pool = calloc((size_t)npool, sizeof *pool);
    if (pool == NULL)
        die("calloc");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < npool; i++) {
        pgc *c = &pool[i];
        c->pg = PQconnectdb(conninfo);
        if (PQstatus(c->pg) != CONNECTION_OK)
            die_pg(c->pg, "connect");
        PGresult *r = PQprepare(c->pg, "g", FLOOR_GET_SQL, 1, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die_pg(c->pg, "prepare");
        PQclear(r);
        if (PQenterPipelineMode(c->pg) != 1 || PQsetnonblocking(c->pg, 1) != 0)
            die_pg(c->pg, "pipeline mode");
        c->fd = PQsocket(c->pg);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(FLOOR_PG_TAG + i)};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
            die("epoll_ctl pg");
    }
    for (int i = 0; i < nconns; i++) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            die("accept");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
            die("epoll_ctl client");
    }
    if (write(ready, "r", 1) != 1)
        die("write the ready byte");
    close(ready);
    struct epoll_event evs[FLOOR_EVENTS];
    for (;;) {
        counts->waits++;
        int n = epoll_wait(ep, evs, FLOOR_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            uint32_t tag = evs[i].data.u32;
            if (tag >= FLOOR_PG_TAG) {
                pgc *c = &pool[tag - FLOOR_PG_TAG];
                if (evs[i].events & EPOLLOUT) {
                    int r = PQflush(c->pg);
                    if (r < 0)
                        die_pg(c->pg, "PQflush");
                    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
                    if (r == 0 && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
                        die("epoll_ctl pg");
                }
                pg_drain(c);
                continue;
            }
            int fd = (int)tag;
            uint32_t id;
            ssize_t r = read(fd, &id, sizeof id);
            if (r == 0)
                _exit(0);
            if (r != (ssize_t)sizeof id)
                die("read from a client");
            pgc *best = &pool[0];   /* fewest in flight, as baobaod's pick */
            for (int k = 1; k < npool; k++)
                if (pool[k].count < best->count)
                    best = &pool[k];
            if (best->count == FLOOR_MAX_CONNS) {   /* one in flight per client: cannot */
                fprintf(stderr, "baobao-floor: more requests than clients\n");
                exit(1);
            }
            char idtext[16];
            snprintf(idtext, sizeof idtext, "%" PRIu32, id);
            const char *vals[1] = {idtext};
            if (PQsendQueryPrepared(best->pg, "g", 1, vals, NULL, NULL, 0) != 1)
                die_pg(best->pg, "PQsendQueryPrepared");
            best->fifo[(best->head + best->count) % FLOOR_MAX_CONNS] = fd;
            best->count++;
            best->unsynced++;
        }
        /* One sync and one flush per connection per loop turn. */
        for (int k = 0; k < npool; k++) {
            pgc *c = &pool[k];
            if (c->unsynced == 0)
                continue;
            c->unsynced = 0;
            if (PQpipelineSync(c->pg) != 1)
                die_pg(c->pg, "PQpipelineSync");
            c->syncs++;
            counts->syncs++;
            pg_flush(c, ep, k);
        }
    }
}

/* A process's voluntary context switches (its threads': the proxy has one). */
static uint64_t proc_vcsw(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("open /proc/PID/status");
    uint64_t v = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
            v = strtoull(line + 24, NULL, 10);
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    const char *conninfo = NULL;
    int nconns = 16, npool = 4;
    double secs = 10, warm = 2;
    uint64_t nent = 5000;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'}, {"pool", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "c:T:W:e:", opts, NULL)) != -1) {
        switch (o) {
        case 'd': conninfo = optarg; break;
        case 'p': npool = atoi(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 'T': secs = atof(optarg); break;
        case 'W': warm = atof(optarg); break;
        case 'e': nent = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: baobao-floor --db CONNINFO [-c CONNS] [-T S] [-W S] "
                            "[-e ENTERPRISES] [--pool N]\n");
            return 2;
        }
    }
    if (conninfo == NULL || nconns < 1 || nconns > FLOOR_MAX_CONNS || npool < 1 ||
        npool > FLOOR_MAX_POOL || secs <= 0 || nent < 1) {
        fprintf(stderr, "baobao-floor: --db is required; 1 <= -c <= %d, 1 <= --pool <= %d\n",
                FLOOR_MAX_CONNS, FLOOR_MAX_POOL);
        return 2;
    }
    counts = mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (counts == MAP_FAILED)
        die("mmap");
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        die("socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof addr;
    if (bind(ls, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(ls, FLOOR_MAX_CONNS) != 0 ||
        getsockname(ls, (struct sockaddr *)&addr, &alen) != 0)
        die("listen");
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) != 0)
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(ready[0]);
        proxy(ls, nconns, conninfo, npool, ready[1]);
    }
    close(ls);
    close(ready[1]);

    /* Per client: the id asked and the reply read so far (a reply may
     * come in pieces; it ends with a newline and starts with the id). */
    static struct {
        int fd;
        uint32_t id;
        size_t got;
        char in[FLOOR_REPLY_MAX];
    } cl[FLOOR_MAX_CONNS];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < nconns; i++) {
        cl[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cl[i].fd < 0 || connect(cl[i].fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            die("connect to the proxy");
        int one = 1;
        setsockopt(cl[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, cl[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    char byte;
    if (read(ready[0], &byte, 1) != 1) {   /* connected and prepared, or dead */
        fprintf(stderr, "baobao-floor: the proxy did not start\n");
        return 1;
    }
    close(ready[0]);
    uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);
    for (int i = 0; i < nconns; i++) {
        cl[i].id = (uint32_t)(1 + rng_next(&rng) % nent);
        if (write(cl[i].fd, &cl[i].id, sizeof cl[i].id) != (ssize_t)sizeof cl[i].id)
            die("write to the proxy");
    }
    double start = now_s(), t_measure = start + warm, t_end = t_measure + secs;
    double cpu0 = 0;
    uint64_t answered = 0, vcsw0 = 0;
    floor_counts c0 = {0};
    bool measuring = false;
    struct epoll_event evs[FLOOR_EVENTS];
    for (;;) {
        double t = now_s();
        if (!measuring && t >= t_measure) {
            measuring = true;
            answered = 0;
            cpu0 = proc_cpu_s(pid);
            vcsw0 = proc_vcsw(pid);
            c0.waits = counts->waits;
            c0.syncs = counts->syncs;
            c0.consumes = counts->consumes;
            t_measure = t;
        }
        if (t >= t_end)
            break;
        int n = epoll_wait(ep, evs, FLOOR_EVENTS, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int k = (int)evs[i].data.u32;
            ssize_t r = read(cl[k].fd, cl[k].in + cl[k].got, sizeof cl[k].in - cl[k].got);
            if (r <= 0) {
                fprintf(stderr, "baobao-floor: the proxy closed a connection\n");
                return 1;
            }
            cl[k].got += (size_t)r;
            if (cl[k].in[cl[k].got - 1] != '\n') {
                if (cl[k].got == sizeof cl[k].in) {
                    fprintf(stderr, "baobao-floor: a reply longer than %d bytes\n",
                            FLOOR_REPLY_MAX);
                    return 1;
                }
                continue;   /* the rest of the reply follows */
            }
            char want[16];
            int wl = snprintf(want, sizeof want, "%" PRIu32 "\t", cl[k].id);
            if (cl[k].got < (size_t)wl || memcmp(cl[k].in, want, (size_t)wl) != 0) {
                fprintf(stderr, "baobao-floor: the reply to id %" PRIu32 " is not its row\n",
                        cl[k].id);
                return 1;
            }
            cl[k].got = 0;
            answered++;
            cl[k].id = (uint32_t)(1 + rng_next(&rng) % nent);
            if (write(cl[k].fd, &cl[k].id, sizeof cl[k].id) != (ssize_t)sizeof cl[k].id)
                die("write to the proxy");
        }
    }
    double elapsed = now_s() - t_measure;
    double cpu = proc_cpu_s(pid) - cpu0;
    if (cpu0 < 0 || cpu < 0) {
        fprintf(stderr, "baobao-floor: cannot read the proxy's CPU time (/proc)\n");
        return 1;
    }
    double q = (double)answered;
    uint64_t vcsw = proc_vcsw(pid) - vcsw0;
    floor_counts c1 = {counts->waits - c0.waits, counts->syncs - c0.syncs,
                       counts->consumes - c0.consumes};
    if (waitpid(pid, NULL, WNOHANG) != 0) {
        fprintf(stderr, "baobao-floor: the proxy died during the run\n");
        return 1;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (answered == 0) {
        fprintf(stderr, "baobao-floor: no request was answered\n");
        return 1;
    }
    printf("RESULT floor=get conns=%d pool=%d secs=%.3f ops=%" PRIu64 " rate=%.0f server_cpu=%.0f "
           "us_per_req=%.2f waits_per_req=%.3f syncs_per_req=%.3f recvs_per_req=%.3f "
           "vcsw_per_req=%.3f\n",
           nconns, npool, elapsed, answered, q / elapsed, 100.0 * cpu / elapsed, 1e6 * cpu / q,
           (double)c1.waits / q, (double)c1.syncs / q, (double)c1.consumes / q, (double)vcsw / q);
    return 0;
}
