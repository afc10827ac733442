/*
 * harness_replica.c: a streaming replica of the test cluster, and HTTP GET
 * for health_listen (harness_replica.h).
 *
 * The replica is made by a short bash script run with scripts/lib.sh's
 * helpers (bb_pg_bindir, bb_as_pg), so it runs as the same user as the
 * cluster's postmaster, as scripts/pg-local does: pg_basebackup -R -X
 * stream writes standby.signal and primary_conninfo (the primary's socket
 * folder); the copy's socket folder and port are given on pg_ctl's command
 * line, so the primary's postgresql.conf, copied along, does not matter.
 */
#include "harness_replica.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* bash, by its path: execve (async-signal-safe) does not search PATH. */
#define ITR_BASH "/bin/bash"

/* Made, started (-w waits until it accepts connections), and checked. */
/* Starts the postmaster of $dir/data on port $port (-w waits until it
 * accepts connections). */
#define ITR_PG_START                                                                            \
    "bb_as_pg \"$bin/pg_ctl\" -D \"$dir/data\" -l \"$dir/log\" -w -t 120"                      \
    " -o \"-c port=$port -c unix_socket_directories=$dir -c listen_addresses=''"                \
    " -c hot_standby=on -c hot_standby_feedback=on\" start </dev/null >/dev/null ||"            \
    " { tail -n 30 \"$dir/log\" >&2; exit 1; }\n"
static const char make_script[] =
    "set -euo pipefail\n"
    ". \"$(dirname \"$BAOBAO_PG_LOCAL\")/lib.sh\"\n"
    "dir=$1 port=$2\n"
    "bin=$(bb_pg_bindir)\n"
    "chmod 700 \"$dir\"\n"
    "if bb_is_root; then chown \"$BB_PG_OS_USER:\" \"$dir\"; fi\n"
    "bb_as_pg \"$bin/pg_basebackup\" -h \"$PGHOST\" -p \"${PGPORT:-5432}\" -U \"${PGUSER:-baobao}\""
    " -D \"$dir/data\" -R -X stream -c fast >\"$dir/basebackup.log\" 2>&1 ||"
    " { cat \"$dir/basebackup.log\" >&2; exit 1; }\n" ITR_PG_START;
static const char restart_script[] =
    "set -euo pipefail\n"
    ". \"$(dirname \"$BAOBAO_PG_LOCAL\")/lib.sh\"\n"
    "dir=$1 port=$2\n"
    "bin=$(bb_pg_bindir)\n" ITR_PG_START;

static const char ctl_script[] =
    "set -uo pipefail\n"
    ". \"$(dirname \"$BAOBAO_PG_LOCAL\")/lib.sh\"\n"
    "dir=$1 what=$2 also=${3:-}\n"
    "bin=$(bb_pg_bindir)\n"
    "if [ -f \"$dir/data/PG_VERSION\" ]; then\n"
    "  bb_as_pg \"$bin/pg_ctl\" -D \"$dir/data\" -m immediate -w stop >/dev/null 2>&1 || true\n"
    "fi\n"
    "if [ \"$what\" = remove ]; then rm -rf -- \"$dir\"; fi\n"
    "if [ -n \"$also\" ]; then rm -rf -- \"$also\"; fi\n";

extern char **environ;

#define UNCONST(p) ((char *)(uintptr_t)(p))

/* Runs bash -c script with the arguments; the exit status, or -1. Only
 * async-signal-safe calls (fork, execve, waitpid, _exit): itr_kill runs
 * it from a signal handler. */
static int run_bash(const char *script, const char *a1, const char *a2, const char *a3)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* execve's argv is char *const[] but never written. */
        char *const argv[] = {UNCONST("bash"), UNCONST("-c"), UNCONST(script), UNCONST("itr"),
                              UNCONST(a1),     UNCONST(a2),   UNCONST(a3),     NULL};
        execve(ITR_BASH, argv, environ);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A port number nobody listens on now, to name the socket (no TCP). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int itr_start(itr_replica *r)
{
    memset(r, 0, sizeof *r);
    if (getenv("BAOBAO_PG_LOCAL") == NULL) {
        it_note("no $BAOBAO_PG_LOCAL: cannot make a replica");
        return -1;
    }
    /* In the test cluster's folder when known: scripts/test removes it at
     * the end even after a crash, and a postmaster whose data folder is
     * gone stops by itself (PostgreSQL checks its lock file every minute). */
    const char *top = getenv("BAOBAO_PG_DIR");
    snprintf(r->dir, sizeof r->dir, "%s/bbrep.XXXXXX",
             top != NULL && top[0] != '\0' && strlen(top) < 64 ? top : "/tmp");
    if (mkdtemp(r->dir) == NULL) {
        it_note("mkdtemp: %s", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    r->port = free_port();
    char port[16];
    snprintf(port, sizeof port, "%d", r->port);
    snprintf(r->conninfo, sizeof r->conninfo, "host=%s port=%d dbname=%s user=%s", r->dir,
             r->port, it_db_name(), getenv("PGUSER") != NULL ? getenv("PGUSER") : "baobao");
    int64_t t0 = it_now_ms();
    if (run_bash(make_script, r->dir, port, NULL) != 0) {
        it_note("the replica could not be made or started (folder %s)", r->dir);
        itr_stop(r);
        return -1;
    }
    r->running = true;
    if (itr_catch_up(r, ITR_START_MS) != 0) {
        itr_stop(r);
        return -1;
    }
    it_note("replica up in %lld ms: %s", (long long)(it_now_ms() - t0), r->conninfo);
    return 0;
}

int itr_halt(itr_replica *r)
{
    if (r->dir[0] == '\0')
        return -1;
    r->running = false;
    return run_bash(ctl_script, r->dir, "stop", NULL) == 0 ? 0 : -1;
}

int itr_restart(itr_replica *r)
{
    if (r->dir[0] == '\0')
        return -1;
    char port[16];
    snprintf(port, sizeof port, "%d", r->port);
    if (run_bash(restart_script, r->dir, port, NULL) != 0) {
        it_note("the replica did not start again (folder %s)", r->dir);
        return -1;
    }
    r->running = true;
    return 0;
}

void itr_kill(const itr_replica *r, const char *also)
{
    if (r->dir[0] != '\0')
        (void)run_bash(ctl_script, r->dir, "remove", also != NULL && also[0] != '\0' ? also : NULL);
}

void itr_stop(itr_replica *r)
{
    if (r->dir[0] == '\0')
        return;
    (void)run_bash(ctl_script, r->dir, "remove", NULL);
    r->dir[0] = '\0';
    r->running = false;
}

PGconn *itr_connect(const itr_replica *r)
{
    PGconn *c = PQconnectdb(r->conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        it_note("replica: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int itr_exec(const itr_replica *r, const char *sql)
{
    PGconn *c = itr_connect(r);
    if (c == NULL)
        return -1;
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0)
        it_note("replica: %s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return rc;
}

long long itr_int(const itr_replica *r, const char *sql)
{
    PGconn *c = itr_connect(r);
    if (c == NULL)
        return -1;
    PGresult *res = PQexec(c, sql);
    long long v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    else
        it_note("replica: %s: %s", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    return v;
}

int itr_catch_up(const itr_replica *r, int timeout_ms)
{
    PGresult *res = PQexec(it_pg(), "SELECT pg_current_wal_lsn()::text");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        it_note("primary: %s", PQerrorMessage(it_pg()));
        PQclear(res);
        return -1;
    }
    char lsn[64];
    snprintf(lsn, sizeof lsn, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    int64_t until = it_now_ms() + timeout_ms;
    while (it_now_ms() < until) {
        PGconn *c = PQconnectdb(r->conninfo);
        if (PQstatus(c) == CONNECTION_OK) {
            const char *v[1] = {lsn};
            PGresult *q = PQexecParams(
                c, "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", 1, NULL, v,
                NULL, NULL, 0);
            bool done = PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) == 1 &&
                        strcmp(PQgetvalue(q, 0, 0), "t") == 0;
            PQclear(q);
            PQfinish(c);
            if (done)
                return 0;
        } else {
            PQfinish(c);
        }
        it_sleep_ms(50);
    }
    it_note("the replica did not replay %s within %d ms", lsn, timeout_ms);
    return -1;
}

/* ---- HTTP ---- */

int itr_health_port(const it_server *s)
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

char *itr_http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return NULL;
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: probe\r\n\r\n", path);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return NULL;
    }
    size_t cap = 1 << 16, got = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (buf == NULL)
            break;
        if (got == cap) {
            cap *= 2;
            char *more = realloc(buf, cap + 1);
            if (more == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
        }
        ssize_t k = recv(fd, buf + got, cap - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    if (buf != NULL)
        buf[got] = '\0';
    return buf;
}

int itr_http_status(int port, const char *path)
{
    char *r = itr_http_get(port, path);
    int code = -1;
    if (r != NULL && strncmp(r, "HTTP/1.1 ", 9) == 0)
        code = atoi(r + 9);
    free(r);
    return code;
}

long long itr_metric(int port, const char *name)
{
    char *page = itr_http_get(port, "/metrics");
    long long v = -2;
    size_t n = strlen(name);
    for (const char *l = page; l != NULL && *l != '\0';) {
        if (strncmp(l, name, n) == 0 && l[n] == ' ') {
            v = strtoll(l + n + 1, NULL, 10);
            break;
        }
        l = strchr(l, '\n');
        l = l != NULL ? l + 1 : NULL;
    }
    free(page);
    return v;
}
