/*
 * harness.c: the integration-test harness (see harness.h): database per
 * binary, baobaod processes, raw msgpack connections, the CLI, and
 * PostgreSQL stop/start. Not for: checking behaviour (the test files do
 * that); this file only reports what happened.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IT_MAX_SERVERS 32
#define IT_MAX_CONNS 512
#define IT_LOG_TAIL_LINES 80
#define IT_PG_CTL_TIMEOUT_MS 120000
#define IT_READ_CHUNK 65536
/* How long a test's server gets to leave after SIGTERM at the end of a test
 * before it is killed. */
#define IT_SERVER_TERM_WAIT_MS 2000

static char g_suite[64];
static char g_dbname[128];
static char g_conninfo[256];
static PGconn *g_pg;
static bool g_pg_stopped;
static int g_test_serial;          /* which test runs now (1-based) */
static int g_current_failed;

typedef struct server_slot {
    it_server s;
    bool in_use;
    int started_in;                 /* test serial that started it */
    int last_used;                  /* test serial that last touched it */
} server_slot;

static server_slot g_servers[IT_MAX_SERVERS];
static unsigned g_server_counter;
static it_server *g_shared;
static it_conn g_conns[IT_MAX_CONNS];

/* ---- time and notes ---- */

int64_t it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void it_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    g_current_failed = 1;
    fprintf(stdout, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void it_note(const char *fmt, ...)
{
    va_list ap;
    fputs("  note: ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- child processes ---- */

/* Waits for pid up to timeout_ms; wait status, or -1 when still running. */
static int wait_pid(pid_t pid, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            return -1;
        if (it_now_ms() >= deadline)
            return -1;
        it_sleep_ms(10);
    }
}

/* Runs argv (absolute program path) and waits; exit code or -1. */
static int run_cmd(char *const *argv, int timeout_ms)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = wait_pid(pid, timeout_ms);
    if (st == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- the database ---- */

const char *it_db_name(void) { return g_dbname; }
const char *it_db_conninfo(void) { return g_conninfo; }

PGconn *it_pg(void)
{
    if (g_pg != NULL && PQstatus(g_pg) == CONNECTION_OK)
        return g_pg;
    if (g_pg != NULL)
        PQfinish(g_pg);
    g_pg = PQconnectdb(g_conninfo);
    if (PQstatus(g_pg) != CONNECTION_OK) {
        it_note("cannot connect to %s: %s", g_dbname, PQerrorMessage(g_pg));
        PQfinish(g_pg);
        g_pg = NULL;
    }
    return g_pg;
}

int it_pg_exec(const char *sql, int nparams, const char *const *params)
{
    PGconn *pg = it_pg();
    if (pg == NULL)
        return -1;
    PGresult *r = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
    if (rc != 0)
        it_note("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

long long it_pg_int(const char *sql, int nparams, const char *const *params)
{
    PGconn *pg = it_pg();
    if (pg == NULL)
        return -1;
    PGresult *r = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = atoll(PQgetvalue(r, 0, 0));
    else
        it_note("SQL failed: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

bool it_pg_can_restart(void)
{
    const char *a = getenv("BAOBAO_PG_LOCAL"), *b = getenv("BAOBAO_PG_DIR");
    return a != NULL && a[0] != '\0' && b != NULL && b[0] != '\0';
}

static int pg_local(const char *verb)
{
    if (!it_pg_can_restart()) {
        it_note("BAOBAO_PG_LOCAL / BAOBAO_PG_DIR not set: cannot %s PostgreSQL", verb);
        return -1;
    }
    char *argv[5];
    argv[0] = getenv("BAOBAO_PG_LOCAL");
    argv[1] = (char *)(uintptr_t)verb;
    argv[2] = getenv("BAOBAO_PG_DIR");
    argv[3] = strcmp(verb, "stop") == 0 ? (char *)(uintptr_t)"immediate" : NULL;
    argv[4] = NULL;
    int rc = run_cmd(argv, IT_PG_CTL_TIMEOUT_MS);
    if (rc != 0)
        it_note("%s %s %s failed (exit %d)", argv[0], verb, argv[2], rc);
    return rc == 0 ? 0 : -1;
}

int it_pg_stop(void)
{
    if (g_pg != NULL) {
        PQfinish(g_pg);
        g_pg = NULL;
    }
    g_pg_stopped = true;   /* even when it failed half-way: cleanup starts it */
    return pg_local("stop");
}

int it_pg_start(void)
{
    if (pg_local("start") != 0)
        return -1;
    g_pg_stopped = false;
    return 0;
}

/* ---- baobaod ---- */

static const char *log_dir(void)
{
    const char *d = getenv("IT_LOG_DIR");
    return d != NULL && d[0] != '\0' ? d : ".";
}

static char *read_file_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        if (r == 0)
            break;
        n += r;
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

static void print_log_tail(const it_server *s)
{
    size_t len;
    char *buf = read_file_all(s->log_path, &len);
    printf("  ---- last lines of %s ----\n", s->log_path);
    if (buf == NULL) {
        printf("  (cannot read)\n");
        return;
    }
    size_t start = len, lines = 0;
    while (start > 0 && lines <= IT_LOG_TAIL_LINES) {
        start--;
        if (buf[start] == '\n')
            lines++;
    }
    if (start > 0)
        start++;
    fwrite(buf + start, 1, len - start, stdout);
    printf("  ---- end of log ----\n");
    free(buf);
}

char *it_server_log(const it_server *s) { return read_file_all(s->log_path, NULL); }

/* baobaod writes its log from a writer thread (server/log.c), so a line
 * logged just before a reply may reach the file just after it: while the
 * server runs, a missing line is looked for again for a short while. Once
 * it has exited, the log is complete (it drains at exit). */
#define IT_LOG_GRACE_MS 1000

static bool log_has_now(const it_server *s, const char *needle)
{
    char *buf = read_file_all(s->log_path, NULL);
    bool found = buf != NULL && strstr(buf, needle) != NULL;
    free(buf);
    return found;
}

bool it_server_log_has(const it_server *s, const char *needle)
{
    int64_t deadline = it_now_ms() + IT_LOG_GRACE_MS;
    for (;;) {
        if (log_has_now(s, needle))
            return true;
        if (s->pid <= 0 || s->reaped || kill(s->pid, 0) != 0 || it_now_ms() >= deadline)
            return log_has_now(s, needle);
        it_sleep_ms(20);
    }
}

static server_slot *slot_of(const it_server *s)
{
    return (server_slot *)(uintptr_t)((const char *)s - offsetof(server_slot, s));
}

/* The port of the `event=listening ... port=N` line, 0 when not there yet. */
static int listening_port(const char *log)
{
    const char *p = log;
    while ((p = strstr(p, "event=listening")) != NULL) {
        const char *eol = strchr(p, '\n');
        const char *q = strstr(p, " port=");
        if (q != NULL && (eol == NULL || q < eol))
            return atoi(q + 6);
        p += 15;
    }
    return 0;
}

static it_server *start_server(const char *const *sets, const char *const *env);

it_server *it_server_start_nowait(const char *const *sets) { return start_server(sets, NULL); }

static it_server *start_server(const char *const *sets, const char *const *env)
{
    const char *bin = getenv("BAOBAOD");
    if (bin == NULL || bin[0] == '\0') {
        it_note("BAOBAOD is not set");
        return NULL;
    }
    server_slot *slot = NULL;
    for (size_t i = 0; i < IT_MAX_SERVERS; i++)
        if (!g_servers[i].in_use) {
            slot = &g_servers[i];
            break;
        }
    if (slot == NULL) {
        it_note("too many servers");
        return NULL;
    }
    memset(slot, 0, sizeof *slot);
    it_server *s = &slot->s;
    snprintf(s->log_path, sizeof s->log_path, "%s/itest-%s-%d-%u.log", log_dir(), g_suite,
             (int)getpid(), ++g_server_counter);

    char *argv[64];
    size_t n = 0;
    argv[n++] = (char *)(uintptr_t)bin;
    argv[n++] = (char *)(uintptr_t)"--listen";
    argv[n++] = (char *)(uintptr_t)"127.0.0.1";
    argv[n++] = (char *)(uintptr_t)"--port";
    argv[n++] = (char *)(uintptr_t)"0";
    argv[n++] = (char *)(uintptr_t)"--db";
    argv[n++] = g_conninfo;
    for (size_t i = 0; sets != NULL && sets[i] != NULL && n + 3 < 64; i++) {
        argv[n++] = (char *)(uintptr_t)"--set";
        argv[n++] = (char *)(uintptr_t)sets[i];
    }
    argv[n] = NULL;

    int logfd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        it_note("cannot create %s: %s", s->log_path, strerror(errno));
        return NULL;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        return NULL;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++)
            putenv((char *)(uintptr_t)env[i]);
        execv(bin, argv);
        dprintf(2, "itest: cannot exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    slot->in_use = true;
    slot->started_in = g_test_serial;
    slot->last_used = g_test_serial;
    s->pid = pid;

    int64_t deadline = it_now_ms() + IT_START_TIMEOUT_MS;
    while (it_now_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->reaped = true;
            s->status = st;
            s->pid = 0;
            it_note("baobaod exited during start-up (status %d)", st);
            print_log_tail(s);
            slot->in_use = false;
            return NULL;
        }
        char *log = read_file_all(s->log_path, NULL);
        int port = log != NULL ? listening_port(log) : 0;
        free(log);
        if (port > 0) {
            s->port = port;
            return s;
        }
        it_sleep_ms(2);   /* short: a test races the first request against start-up */
    }
    it_note("baobaod did not log event=listening within %d ms", IT_START_TIMEOUT_MS);
    print_log_tail(s);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    slot->in_use = false;
    return NULL;
}

/* Polls server.info until database_available is true. */
static bool wait_database_available(it_server *s, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    it_conn *c = it_connect_anon(s->port);
    if (c == NULL)
        return false;
    bool ok = false;
    for (uint32_t id = 1; !ok && it_now_ms() < deadline; id++) {
        unsigned char req[32];
        size_t n = it_server_info_bytes(id, req);
        it_msg m;
        if (it_call(c, req, n, id, IT_REPLY_TIMEOUT_MS, &m) != IT_RECV_MSG)
            break;
        const msgpack_object *o = it_map_get(m.result, "database_available");
        ok = o != NULL && o->type == MSGPACK_OBJECT_BOOLEAN && o->via.boolean;
        it_msg_free(&m);
        if (!ok)
            it_sleep_ms(20);
    }
    it_close(c);
    return ok;
}

it_server *it_server_start(const char *const *sets) { return it_server_start_env(sets, NULL); }

it_server *it_server_start_env(const char *const *sets, const char *const *env)
{
    it_server *s = start_server(sets, env);
    if (s == NULL)
        return NULL;
    if (!wait_database_available(s, IT_START_TIMEOUT_MS)) {
        it_note("baobaod on port %d: server.info never reported database_available", s->port);
        print_log_tail(s);
    }
    return s;
}

bool it_server_alive(it_server *s)
{
    if (s->pid == 0)
        return false;
    int st;
    if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
        s->reaped = true;
        s->status = st;
        s->pid = 0;
        return false;
    }
    return true;
}

it_server *it_shared_server(void)
{
    if (g_shared != NULL) {
        if (it_server_alive(g_shared)) {
            slot_of(g_shared)->last_used = g_test_serial;
            return g_shared;
        }
        it_fail(__FILE__, __LINE__, "the shared baobaod died (wait status %d)",
                g_shared->status);
        print_log_tail(g_shared);
        slot_of(g_shared)->in_use = false;
        g_shared = NULL;
    }
    g_shared = it_server_start(NULL);
    if (g_shared != NULL)
        g_shared->shared = true;
    return g_shared;
}

void it_server_signal(it_server *s, int sig)
{
    if (s->pid != 0)
        kill(s->pid, sig);
}

int it_server_wait(it_server *s, int timeout_ms)
{
    if (s->pid == 0)
        return s->reaped ? s->status : -1;
    int st = wait_pid(s->pid, timeout_ms);
    if (st == -1)
        return -1;
    s->reaped = true;
    s->status = st;
    s->pid = 0;
    return st;
}

int it_server_stop(it_server *s, int timeout_ms)
{
    if (s->pid == 0)
        return s->reaped ? s->status : -1;
    kill(s->pid, SIGTERM);
    int st = it_server_wait(s, timeout_ms);
    if (st == -1) {
        it_note("baobaod pid %d still running %d ms after SIGTERM: killing it", (int)s->pid,
                timeout_ms);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    return st;
}

long it_server_rss_kb(const it_server *s)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
            break;
        }
    fclose(f);
    return kb;
}

/* ---- raw connections ---- */

static it_conn *connect_raw(int port, int rcvbuf);

it_conn *it_connect(int port) { return it_connect_rcvbuf(port, 0); }

it_conn *it_connect_anon(int port) { return connect_raw(port, 0); }

int it_login(it_conn *c, const char *login, const char *password, int timeout_ms, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, IT_LOGIN_MSGID, "session.login", 2);
    it_kv_str(&b, "login", login);
    it_kv_str(&b, "password", password);
    int r = it_call(c, b.sb.data, b.sb.size, IT_LOGIN_MSGID, timeout_ms, out);
    it_buf_free(&b);
    return r;
}

/* Logs c in; on failure notes why, closes c and returns NULL. A login
 * answered `unavailable` is retried for a while: right after PostgreSQL
 * comes back (a test that stopped it) the pool is still reconnecting. */
static it_conn *login_or_close(it_conn *c, const char *login, const char *password)
{
    if (c == NULL)
        return NULL;
    it_msg m;
    int64_t deadline = it_now_ms() + IT_REPLY_TIMEOUT_MS;
    int r;
    for (;;) {
        r = it_login(c, login, password, IT_REPLY_TIMEOUT_MS, &m);
        if (r != IT_RECV_MSG || !m.is_error || strcmp(m.code, "unavailable") != 0 ||
            it_now_ms() >= deadline)
            break;
        it_msg_free(&m);
        it_sleep_ms(50);
    }
    if (r != IT_RECV_MSG) {
        it_note("session.login as %s: no answer (%d)", login, r);
        it_close(c);
        return NULL;
    }
    bool ok = !m.is_error;
    if (!ok)
        it_note("session.login as %s: %s %s", login, m.code, m.message);
    it_msg_free(&m);
    if (!ok) {
        it_close(c);
        return NULL;
    }
    return c;
}

it_conn *it_connect_as(int port, const char *login, const char *password)
{
    return login_or_close(connect_raw(port, 0), login, password);
}

it_conn *it_connect_rcvbuf(int port, int rcvbuf)
{
    return login_or_close(connect_raw(port, rcvbuf), IT_USER_SUPER, IT_PASSWORD);
}

int64_t it_user_id(const char *login)
{
    const char *p[1] = {login};
    return it_pg_int("SELECT id FROM app_user WHERE login = $1", 1, p);
}

static it_conn *connect_raw(int port, int rcvbuf)
{
    it_conn *c = NULL;
    for (size_t i = 0; i < IT_MAX_CONNS; i++)
        if (!g_conns[i].in_use) {
            c = &g_conns[i];
            break;
        }
    if (c == NULL) {
        it_note("too many connections");
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        it_note("connect to port %d: %s", port, strerror(errno));
        close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->in_use = true;
    if (!msgpack_unpacker_init(&c->up, IT_READ_CHUNK)) {
        close(fd);
        c->in_use = false;
        return NULL;
    }
    return c;
}

void it_close(it_conn *c)
{
    if (c == NULL || !c->in_use)
        return;
    close(c->fd);
    msgpack_unpacker_destroy(&c->up);
    c->in_use = false;
}

ssize_t it_send_some(it_conn *c, const void *bytes, size_t len, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(c->fd, (const char *)bytes + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t left = deadline - it_now_ms();
            if (left <= 0)
                break;
            struct pollfd p = {c->fd, POLLOUT, 0};
            poll(&p, 1, (int)left);
            continue;
        }
        return off > 0 ? (ssize_t)off : -1;
    }
    return (ssize_t)off;
}

int it_send(it_conn *c, const void *bytes, size_t len)
{
    ssize_t n = it_send_some(c, bytes, len, IT_REPLY_TIMEOUT_MS * 2);
    return n >= 0 && (size_t)n == len ? 0 : -1;
}

static void decode_msg(it_msg *m)
{
    const msgpack_object *o = &m->u.data;
    m->root = o;
    m->kind = -1;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1)
        return;
    const msgpack_object *a = o->via.array.ptr;
    int64_t k;
    if (!it_obj_int(&a[0], &k))
        return;
    if (k == 1 && o->via.array.size == 4) {
        int64_t id;
        if (!it_obj_int(&a[1], &id))
            return;
        m->kind = 1;
        m->msgid = (uint32_t)id;
        if (a[2].type == MSGPACK_OBJECT_MAP) {
            m->is_error = true;
            it_get_str(&a[2], "code", m->code, sizeof m->code);
            it_get_str(&a[2], "field", m->field, sizeof m->field);
            it_get_str(&a[2], "message", m->message, sizeof m->message);
        } else {
            m->result = &a[3];
        }
    } else if (k == 2 && o->via.array.size == 3) {
        m->kind = 2;
        it_obj_str(&a[1], m->method, sizeof m->method);
        if (a[2].type == MSGPACK_OBJECT_ARRAY && a[2].via.array.size >= 1) {
            it_get_str(&a[2].via.array.ptr[0], "code", m->code, sizeof m->code);
            it_get_str(&a[2].via.array.ptr[0], "message", m->message, sizeof m->message);
        }
    }
}

int it_recv(it_conn *c, int timeout_ms, it_msg *out)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    memset(out, 0, sizeof *out);
    msgpack_unpacked_init(&out->u);
    for (;;) {
        msgpack_unpack_return r = msgpack_unpacker_next(&c->up, &out->u);
        if (r == MSGPACK_UNPACK_SUCCESS) {
            decode_msg(out);
            return IT_RECV_MSG;
        }
        if (r != MSGPACK_UNPACK_CONTINUE) {
            it_note("the server sent bytes that are not msgpack");
            msgpack_unpacked_destroy(&out->u);
            return IT_RECV_ERROR;
        }
        if (c->eof) {
            msgpack_unpacked_destroy(&out->u);
            return IT_RECV_EOF;
        }
        int64_t left = deadline - it_now_ms();
        if (left <= 0) {
            msgpack_unpacked_destroy(&out->u);
            return IT_RECV_TIMEOUT;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)left);
        if (pr == 0)
            continue;
        if (!msgpack_unpacker_reserve_buffer(&c->up, IT_READ_CHUNK)) {
            msgpack_unpacked_destroy(&out->u);
            return IT_RECV_ERROR;
        }
        ssize_t n = recv(c->fd, msgpack_unpacker_buffer(&c->up),
                         msgpack_unpacker_buffer_capacity(&c->up), 0);
        if (n > 0)
            msgpack_unpacker_buffer_consumed(&c->up, (size_t)n);
        else if (n == 0)
            c->eof = true;
        else if (errno == ECONNRESET)
            c->eof = c->reset = true;
        else if (errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) {
            msgpack_unpacked_destroy(&out->u);
            return IT_RECV_ERROR;
        }
    }
}

void it_msg_free(it_msg *m)
{
    msgpack_unpacked_destroy(&m->u);
    m->root = NULL;
    m->result = NULL;
}

bool it_wait_eof(it_conn *c, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        it_msg m;
        int64_t left = deadline - it_now_ms();
        int r = it_recv(c, left > 0 ? (int)left : 0, &m);
        if (r == IT_RECV_EOF)
            return true;
        if (r != IT_RECV_MSG)
            return false;
        it_msg_free(&m);
    }
}

int it_call(it_conn *c, const void *bytes, size_t len, uint32_t msgid, int timeout_ms,
            it_msg *out)
{
    if (it_send(c, bytes, len) != 0)
        it_note("send failed (peer closed?)");
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        int r = it_recv(c, left > 0 ? (int)left : 0, out);
        if (r != IT_RECV_MSG)
            return r;
        if (out->kind == 1 && out->msgid == msgid)
            return r;
        it_note("discarding a message while waiting for msgid %u (kind %d msgid %u code %s)",
                msgid, out->kind, out->msgid, out->code);
        it_msg_free(out);
    }
}

const char *it_describe(const it_msg *m, char *buf, size_t buflen)
{
    if (m->kind == 1 && m->is_error)
        snprintf(buf, buflen, "response msgid %u error code=%s field=%s message=\"%s\"",
                 m->msgid, m->code, m->field, m->message);
    else if (m->kind == 1)
        snprintf(buf, buflen, "response msgid %u with a result", m->msgid);
    else if (m->kind == 2)
        snprintf(buf, buflen, "notification %s code=%s message=\"%s\"", m->method, m->code,
                 m->message);
    else
        snprintf(buf, buflen, "a message that is not an envelope");
    return buf;
}

static const char *recv_name(int r)
{
    switch (r) {
    case IT_RECV_EOF: return "EOF (connection closed)";
    case IT_RECV_TIMEOUT: return "nothing (timeout)";
    case IT_RECV_ERROR: return "a read error or non-msgpack bytes";
    default: return "a message";
    }
}

int it_expect_error(it_conn *c, uint32_t msgid, const char *code, const char *field,
                    int timeout_ms)
{
    it_msg m;
    char d[800];
    int r = it_recv(c, timeout_ms, &m);
    if (r != IT_RECV_MSG) {
        it_note("expected error %s for msgid %u, got %s", code, msgid, recv_name(r));
        return -1;
    }
    int rc = 0;
    if (m.kind != 1 || m.msgid != msgid || !m.is_error || strcmp(m.code, code) != 0 ||
        (field != NULL && strcmp(m.field, field) != 0)) {
        it_note("expected msgid %u error code=%s field=%s, got %s", msgid, code,
                field ? field : "(any)", it_describe(&m, d, sizeof d));
        rc = -1;
    }
    it_msg_free(&m);
    return rc;
}

int it_expect_closing(it_conn *c, const char *code, int timeout_ms)
{
    it_msg m;
    char d[800];
    int r = it_recv(c, timeout_ms, &m);
    if (r != IT_RECV_MSG) {
        it_note("expected connection.closing %s, got %s", code, recv_name(r));
        return -1;
    }
    int rc = 0;
    if (m.kind != 2 || strcmp(m.method, "connection.closing") != 0 ||
        strcmp(m.code, code) != 0) {
        it_note("expected notification connection.closing code=%s, got %s", code,
                it_describe(&m, d, sizeof d));
        rc = -1;
    }
    it_msg_free(&m);
    return rc;
}

size_t it_server_info_bytes(uint32_t msgid, unsigned char out[32])
{
    size_t n = 0;
    out[n++] = 0x94;
    out[n++] = 0x00;
    out[n++] = 0xce;
    out[n++] = (unsigned char)(msgid >> 24);
    out[n++] = (unsigned char)(msgid >> 16);
    out[n++] = (unsigned char)(msgid >> 8);
    out[n++] = (unsigned char)msgid;
    out[n++] = 0xab;
    memcpy(out + n, "server.info", 11);
    n += 11;
    out[n++] = 0x90;
    return n;
}

int it_expect_alive(it_conn *c)
{
    unsigned char req[32];
    uint32_t id = 4000000000u;
    size_t n = it_server_info_bytes(id, req);
    it_msg m;
    char d[800];
    int r = it_call(c, req, n, id, IT_REPLY_TIMEOUT_MS, &m);
    if (r != IT_RECV_MSG) {
        it_note("server.info on this connection got %s", recv_name(r));
        return -1;
    }
    int rc = 0;
    if (m.is_error || !it_get_str_eq(m.result, "name", "baobaod")) {
        it_note("server.info answered with %s", it_describe(&m, d, sizeof d));
        rc = -1;
    }
    it_msg_free(&m);
    return rc;
}

const msgpack_object *it_map_get(const msgpack_object *obj, const char *key)
{
    if (obj == NULL || obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &obj->via.map.ptr[i].val;
    }
    return NULL;
}

bool it_obj_str(const msgpack_object *o, char *out, size_t outlen)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_STR || outlen == 0)
        return false;
    size_t n = o->via.str.size < outlen - 1 ? o->via.str.size : outlen - 1;
    memcpy(out, o->via.str.ptr, n);
    out[n] = '\0';
    return true;
}

bool it_obj_int(const msgpack_object *o, int64_t *out)
{
    if (o == NULL)
        return false;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return true;
    }
    return false;
}

bool it_get_str(const msgpack_object *map, const char *key, char *out, size_t outlen)
{
    return it_obj_str(it_map_get(map, key), out, outlen);
}

bool it_get_int(const msgpack_object *map, const char *key, int64_t *out)
{
    return it_obj_int(it_map_get(map, key), out);
}

bool it_get_str_eq(const msgpack_object *map, const char *key, const char *want)
{
    const msgpack_object *o = it_map_get(map, key);
    size_t n = strlen(want);
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, want, n) == 0;
}

/* ---- building requests ---- */

void it_buf_init(it_buf *b)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

void it_buf_free(it_buf *b) { msgpack_sbuffer_destroy(&b->sb); }
void it_buf_reset(it_buf *b) { msgpack_sbuffer_clear(&b->sb); }

void it_req(it_buf *b, uint32_t msgid, const char *method, size_t nargs)
{
    msgpack_pack_array(&b->pk, 4);
    msgpack_pack_uint8(&b->pk, 0);
    msgpack_pack_uint32(&b->pk, msgid);
    it_str(b, method);
    if (nargs == IT_NO_ARGS) {
        msgpack_pack_array(&b->pk, 0);
    } else {
        msgpack_pack_array(&b->pk, 1);
        msgpack_pack_map(&b->pk, nargs);
    }
}

void it_strn(it_buf *b, const char *s, size_t n)
{
    msgpack_pack_str(&b->pk, n);
    msgpack_pack_str_body(&b->pk, s, n);
}

void it_str(it_buf *b, const char *s) { it_strn(b, s, strlen(s)); }

void it_kv_str(it_buf *b, const char *key, const char *val)
{
    it_str(b, key);
    it_str(b, val);
}

void it_kv_strn(it_buf *b, const char *key, const char *val, size_t n)
{
    it_str(b, key);
    it_strn(b, val, n);
}

void it_kv_int(it_buf *b, const char *key, int64_t val)
{
    it_str(b, key);
    msgpack_pack_int64(&b->pk, val);
}

void it_kv_bool(it_buf *b, const char *key, bool val)
{
    it_str(b, key);
    if (val)
        msgpack_pack_true(&b->pk);
    else
        msgpack_pack_false(&b->pk);
}

void it_kv_nil(it_buf *b, const char *key)
{
    it_str(b, key);
    msgpack_pack_nil(&b->pk);
}

void it_kv_strs(it_buf *b, const char *key, const char *const *vals, size_t n)
{
    it_str(b, key);
    msgpack_pack_array(&b->pk, n);
    for (size_t i = 0; i < n; i++)
        it_str(b, vals[i]);
}

static const char CC_ALPHABET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int CC_WEIGHTS[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

char it_credit_check(const char *code17)
{
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        const char *p = strchr(CC_ALPHABET, code17[i]);
        int v = p != NULL && code17[i] != '\0' ? (int)(p - CC_ALPHABET) : 0;
        sum += v * CC_WEIGHTS[i];
    }
    int c = 31 - sum % 31;
    if (c == 31)
        c = 0;
    return CC_ALPHABET[c];
}

void it_credit_code(unsigned long n, char out[19])
{
    snprintf(out, 19, "91421281%09lu", n % 1000000000ul);
    out[17] = it_credit_check(out);
    out[18] = '\0';
}

int64_t it_create_enterprise(it_conn *c, const char *name, const char *credit_code,
                             const char *township)
{
    static uint32_t msgid = 900000;
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++msgid, "enterprise.create", 3);
    it_kv_str(&b, "name", name);
    it_kv_str(&b, "credit_code", credit_code);
    it_kv_str(&b, "township", township);
    it_msg m;
    int r = it_call(c, b.sb.data, b.sb.size, msgid, IT_REPLY_TIMEOUT_MS, &m);
    it_buf_free(&b);
    if (r != IT_RECV_MSG) {
        it_note("enterprise.create %s: no reply (%d)", credit_code, r);
        return -1;
    }
    int64_t id = -1;
    if (m.is_error)
        it_note("enterprise.create %s: %s %s %s", credit_code, m.code, m.field, m.message);
    else if (!it_get_int(m.result, "id", &id))
        it_note("enterprise.create %s: result without id", credit_code);
    it_msg_free(&m);
    return id;
}

int64_t it_shared_enterprise(unsigned long code_n, const char *name, const char *township)
{
    it_server *s = it_shared_server();
    if (s == NULL)
        return -1;
    it_conn *c = it_connect(s->port);
    if (c == NULL)
        return -1;
    char cc[19];
    it_credit_code(code_n, cc);
    int64_t id = it_create_enterprise(c, name, cc, township);
    it_close(c);
    return id;
}

/* ---- the CLI ---- */

static int append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap == 0 ? 4096 : *cap);
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (nb == NULL)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Runs argv (execvp when use_path) capturing stdout and stderr; sets or
 * unsets BAOBAO_SERVER when set_server. */
static int run_capture(it_cli *r, char *const *argv, bool use_path, bool set_server,
                       const char *server, int timeout_ms, bool cli_login,
                       const char *const *env)
{
    memset(r, 0, sizeof *r);
    r->status = -1;
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (set_server && server != NULL)
            setenv("BAOBAO_SERVER", server, 1);
        else if (set_server)
            unsetenv("BAOBAO_SERVER");
        if (cli_login) {
            /* The default user, unless the test's own environment names one. */
            setenv("BAOBAO_USER", IT_USER_SUPER, 0);
            setenv("BAOBAO_PASSWORD", IT_PASSWORD, 0);
            /* Nothing of the developer's own CLI set-up (a config file in
             * ~/.config/baobao, TLS variables) may change what a test runs;
             * tests that want them pass them in env below. */
            unsetenv("BAOBAO_CONFIG");
            unsetenv("BAOBAO_TLS");
            unsetenv("BAOBAO_CA");
            unsetenv("BAOBAO_SERVER_NAME");
            setenv("XDG_CONFIG_HOME", "/nonexistent/baobao-itest-config", 1);
        }
        for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
            const char *eq = strchr(env[i], '=');
            if (eq == NULL) {
                unsetenv(env[i]);
                continue;
            }
            char name[256];
            size_t nl = (size_t)(eq - env[i]);
            if (nl == 0 || nl >= sizeof name)
                continue;
            memcpy(name, env[i], nl);
            name[nl] = '\0';
            setenv(name, eq + 1, 1);
        }
        if (use_path)
            execvp(argv[0], argv);
        else
            execv(argv[0], argv);
        dprintf(2, "itest: cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t ocap = 0, ecap = 0;
    append(&r->out, &r->outlen, &ocap, "", 0);
    append(&r->err, &r->errlen, &ecap, "", 0);
    int64_t deadline = it_now_ms() + timeout_ms;
    bool oopen = true, eopen = true, killed = false;
    while (oopen || eopen) {
        struct pollfd p[2] = {{oopen ? po[0] : -1, POLLIN, 0}, {eopen ? pe[0] : -1, POLLIN, 0}};
        int64_t left = deadline - it_now_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        if (poll(p, 2, (int)left) <= 0)
            continue;
        char buf[8192];
        if (oopen && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t k = read(po[0], buf, sizeof buf);
            if (k > 0)
                append(&r->out, &r->outlen, &ocap, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                oopen = false;
        }
        if (eopen && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t k = read(pe[0], buf, sizeof buf);
            if (k > 0)
                append(&r->err, &r->errlen, &ecap, buf, (size_t)k);
            else if (k == 0 || errno != EINTR)
                eopen = false;
        }
    }
    close(po[0]);
    close(pe[0]);
    int st = killed ? -1 : wait_pid(pid, 5000);
    if (st == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        it_note("%s did not finish within %d ms", argv[0], timeout_ms);
        r->status = -1;
    } else {
        r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return 0;
}

int it_cli_run(it_cli *r, const char *server, int timeout_ms, const char *const *args)
{
    return it_cli_run_env(r, server, timeout_ms, args, NULL);
}

int it_cli_run_env(it_cli *r, const char *server, int timeout_ms, const char *const *args,
                   const char *const *env)
{
    const char *bin = getenv("BAOBAO_CLI");
    if (bin == NULL || bin[0] == '\0') {
        memset(r, 0, sizeof *r);
        r->status = -1;
        it_note("BAOBAO_CLI is not set");
        return -1;
    }
    char *argv[64];
    size_t n = 0;
    argv[n++] = (char *)(uintptr_t)bin;
    for (size_t i = 0; args[i] != NULL && n < 63; i++)
        argv[n++] = (char *)(uintptr_t)args[i];
    argv[n] = NULL;
    return run_capture(r, argv, false, true, server, timeout_ms, true, env);
}

int it_run(it_cli *r, const char *const *argv, int timeout_ms)
{
    char *v[64];
    size_t n = 0;
    for (; argv[n] != NULL && n < 63; n++)
        v[n] = (char *)(uintptr_t)argv[n];
    v[n] = NULL;
    return run_capture(r, v, true, false, NULL, timeout_ms, false, NULL);
}

void it_cli_free(it_cli *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

/* ---- the runner ---- */

/* Drops libpq's NOTICE lines ("does not exist, skipping"): noise in logs. */
static void quiet_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Drops and creates the test database through the maintenance database
 * (PGDATABASE). The name is built from the suite name (letters, digits and
 * '_' only, checked) and the pid: DDL cannot take a parameter for it. */
static int create_database(void)
{
    for (const char *p = g_suite; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
            printf("bad suite name %s\n", g_suite);
            return -1;
        }
    snprintf(g_dbname, sizeof g_dbname, "bbtest_%s_%d", g_suite, (int)getpid());
    snprintf(g_conninfo, sizeof g_conninfo, "dbname=%s", g_dbname);
    PGconn *pg = PQconnectdb("");
    if (PQstatus(pg) != CONNECTION_OK) {
        printf("cannot connect to PostgreSQL (PGHOST=%s): %s\n", getenv("PGHOST"),
               PQerrorMessage(pg));
        PQfinish(pg);
        return -1;
    }
    PQsetNoticeProcessor(pg, quiet_notices, NULL);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_dbname);
    PQclear(PQexec(pg, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", g_dbname);
    PGresult *r = PQexec(pg, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc != 0)
        printf("%s: %s\n", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(pg);
    return rc;
}

/* Applies the server's migrations to the test database
 * (`baobaod --migrate-only`), its output in IT_LOG_DIR. */
static int migrate_database(void)
{
    const char *bin = getenv("BAOBAOD");
    char log_path[512];
    snprintf(log_path, sizeof log_path, "%s/itest-%s-%d-migrate.log", log_dir(), g_suite,
             (int)getpid());
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        printf("cannot create %s: %s\n", log_path, strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        return -1;
    }
    if (pid == 0) {
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execl(bin, bin, "--db", g_conninfo, "--migrate-only", (char *)NULL);
        dprintf(2, "itest: cannot exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    int st = wait_pid(pid, IT_START_TIMEOUT_MS);
    if (st == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        printf("%s --migrate-only did not finish\n", bin);
        return -1;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("%s --migrate-only failed (status %d); its log:\n", bin, st);
        char *log = read_file_all(log_path, NULL);
        if (log != NULL)
            fputs(log, stdout);
        free(log);
        return -1;
    }
    return 0;
}

/* Loads the reference data every test expects (赤壁市's townships, clusters,
 * statuses, ...: data/reference/chibi.sql, named by IT_REFERENCE_SQL) into
 * the migrated test database: the migrations carry no such list. The file
 * is plain SQL, sent as one simple query (its own BEGIN / COMMIT). */
static int load_reference_data(void)
{
    const char *path = getenv("IT_REFERENCE_SQL");
    if (path == NULL || path[0] == '\0') {
        printf("IT_REFERENCE_SQL is not set: run through meson test\n");
        return -1;
    }
    char *sql = read_file_all(path, NULL);
    if (sql == NULL) {
        printf("cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    PGconn *pg = it_pg();
    int rc = -1;
    if (pg != NULL) {
        PGresult *r = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(r);
        rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : -1;
        if (rc != 0)
            printf("loading %s: %s\n", path, PQresultErrorMessage(r));
        PQclear(r);
    }
    free(sql);
    return rc;
}

/* The users of harness.h, with a hash of IT_PASSWORD at the cheapest
 * argon2id cost (the server verifies any cost the same way). */
static int create_users(void)
{
    if (sodium_init() < 0) {
        printf("sodium_init failed\n");
        return -1;
    }
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, IT_PASSWORD, strlen(IT_PASSWORD), crypto_pwhash_OPSLIMIT_MIN,
                          crypto_pwhash_MEMLIMIT_MIN) != 0) {
        printf("crypto_pwhash_str failed\n");
        return -1;
    }
    static const struct {
        const char *login, *display_name, *role, *unit, *townships;
    } users[] = {
        {IT_USER_ADMIN, "测试管理员", "admin", NULL, "{}"},
        {IT_USER_SUPER, "测试督办", "supervisor", "科信局", "{}"},
        {IT_USER_STAFF, "测试乡镇一", "township_staff", NULL, "{赵李桥镇,高新技术产业园区}"},
        {IT_USER_STAFF2, "测试乡镇二", "township_staff", NULL, "{新店镇}"},
    };
    for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
        const char *p[6] = {users[i].login, users[i].display_name, users[i].role,
                            users[i].unit,  hash,                  users[i].townships};
        if (it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, unit,"
                       " password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id)"
                       " INSERT INTO app_user_township (user_id, township_id)"
                       " SELECT u.id, t.id FROM u JOIN township t ON t.name = ANY ($6::text[])",
                       6, p) != 0)
            return -1;
    }
    return 0;
}

static void drop_database(void)
{
    if (g_pg != NULL) {
        PQfinish(g_pg);
        g_pg = NULL;
    }
    if (getenv("IT_KEEP_DB") != NULL)
        return;
    PGconn *pg = PQconnectdb("");
    if (PQstatus(pg) == CONNECTION_OK) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", g_dbname);
        PGresult *r = PQexec(pg, sql);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            printf("%s: %s\n", sql, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(pg);
}

/* After each test: print the logs of the servers it used when it failed,
 * close its connections, kill the servers it started, start PostgreSQL
 * again if it left it stopped. */
static void cleanup_after_test(bool failed)
{
    for (size_t i = 0; i < IT_MAX_SERVERS; i++) {
        server_slot *sl = &g_servers[i];
        if (!sl->in_use || sl->last_used != g_test_serial)
            continue;
        if (failed)
            print_log_tail(&sl->s);
    }
    for (size_t i = 0; i < IT_MAX_CONNS; i++)
        it_close(&g_conns[i]);
    /* A test that failed while holding a lock must not block the next. */
    if (g_pg != NULL && PQtransactionStatus(g_pg) != PQTRANS_IDLE)
        PQclear(PQexec(g_pg, "ROLLBACK"));
    for (size_t i = 0; i < IT_MAX_SERVERS; i++) {
        server_slot *sl = &g_servers[i];
        if (!sl->in_use || sl->s.shared)
            continue;
        if (sl->s.pid != 0) {
            /* SIGTERM first: a server that leaves cleanly takes its row out
             * of the process registry (sql/027 bb_node), so the next test's
             * session-ending write does not wait out the barrier for a
             * process that is gone. SIGKILL when it does not exit soon. */
            kill(sl->s.pid, SIGTERM);
            if (wait_pid(sl->s.pid, IT_SERVER_TERM_WAIT_MS) == -1) {
                kill(sl->s.pid, SIGKILL);
                waitpid(sl->s.pid, NULL, 0);
            }
            sl->s.pid = 0;
        }
        sl->in_use = false;
    }
    if (g_pg_stopped) {
        printf("  (starting PostgreSQL again after the test)\n");
        if (it_pg_start() != 0)
            printf("  could not start PostgreSQL again\n");
    }
}

int it_main(int argc, char **argv, const char *suite, const it_test *tests, size_t ntests,
            int (*setup)(void))
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    snprintf(g_suite, sizeof g_suite, "%s", suite);
    const char *pghost = getenv("PGHOST");
    if (pghost == NULL || pghost[0] == '\0') {
        printf("SKIP: PGHOST is not set (run through ./scripts/test)\n");
        return IT_SKIP;
    }
    if (getenv("BAOBAOD") == NULL) {
        printf("BAOBAOD is not set: run through meson test\n");
        return 1;
    }
    if (create_database() != 0)
        return 1;
    printf("database %s\n", g_dbname);
    if (migrate_database() != 0 || load_reference_data() != 0 || create_users() != 0) {
        drop_database();
        return 1;
    }

    int passed = 0, failed = 0;
    bool setup_ok = true;
    if (setup != NULL) {
        g_test_serial = 0;
        g_current_failed = 0;
        printf("--- setup\n");
        if (setup() != 0 || g_current_failed) {
            setup_ok = false;
            printf("  setup FAILED\n");
            if (g_shared != NULL)
                print_log_tail(g_shared);
        }
    }
    for (size_t i = 0; i < ntests; i++) {
        bool wanted = argc <= 1;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], tests[i].name) == 0)
                wanted = true;
        if (!wanted)
            continue;
        g_test_serial = (int)i + 1;
        g_current_failed = 0;
        printf("--- %s\n", tests[i].name);
        int64_t t0 = it_now_ms();
        int rc = setup_ok ? tests[i].fn() : -1;
        bool bad = rc != 0 || g_current_failed;
        cleanup_after_test(bad);
        printf("%s %s (%lld ms)\n", bad ? "FAILED" : "ok", tests[i].name,
               (long long)(it_now_ms() - t0));
        if (bad)
            failed++;
        else
            passed++;
    }
    if (g_shared != NULL) {
        /* The shared server must shut down cleanly too: exit 0 (under ASan
         * that also means no leak report). */
        g_test_serial = (int)ntests + 1;
        slot_of(g_shared)->last_used = g_test_serial;
        printf("--- shared_server_exits_0_on_sigterm\n");
        int st = it_server_stop(g_shared, IT_STOP_TIMEOUT_MS);
        bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!ok) {
            printf("  FAIL: shared baobaod wait status %d (exit %d, signal %d)\n", st,
                   st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                   st != -1 && WIFSIGNALED(st) ? WTERMSIG(st) : 0);
            print_log_tail(g_shared);
        }
        printf("%s shared_server_exits_0_on_sigterm\n", ok ? "ok" : "FAILED");
        if (ok)
            passed++;
        else
            failed++;
        slot_of(g_shared)->in_use = false;
        g_shared = NULL;
    }
    drop_database();
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* ---- one request packed in an it_buf, and its response (harness.h) ---- */

int it_buf_call(it_conn *c, it_buf *b, uint32_t msgid, it_msg *m)
{
    int r = it_call(c, b->sb.data, b->sb.size, msgid, IT_REPLY_TIMEOUT_MS, m);
    it_buf_reset(b);
    if (r != IT_RECV_MSG) {
        it_note("no reply to msgid %u (%d)", msgid, r);
        return -1;
    }
    return 0;
}

int it_buf_ok(it_conn *c, it_buf *b, uint32_t msgid, it_msg *m)
{
    IT_CHECK(it_buf_call(c, b, msgid, m) == 0);
    char d[1200];
    if (m->is_error) {
        it_fail(__FILE__, __LINE__, "expected a result, got %s", it_describe(m, d, sizeof d));
        it_msg_free(m);
        return -1;
    }
    return 0;
}

int it_buf_err(it_conn *c, it_buf *b, uint32_t msgid, const char *code, const char *field)
{
    it_msg m;
    IT_CHECK(it_buf_call(c, b, msgid, &m) == 0);
    char d[1200];
    bool good = m.is_error && strcmp(m.code, code) == 0 && strcmp(m.field, field) == 0;
    if (!good)
        it_fail(__FILE__, __LINE__, "expected %s (field \"%s\"), got %s", code, field,
                it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return good ? 0 : -1;
}

/* ---- a connection from a chosen loopback address (test_topology) ---- */

it_conn *it_connect_anon_from(const char *src_addr, int port)
{
    it_conn *c = NULL;
    for (size_t i = 0; i < IT_MAX_CONNS; i++)
        if (!g_conns[i].in_use) {
            c = &g_conns[i];
            break;
        }
    if (c == NULL) {
        it_note("too many connections");
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return NULL;
    struct sockaddr_in src;
    memset(&src, 0, sizeof src);
    src.sin_family = AF_INET;
    struct sockaddr_in sa = src;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (inet_pton(AF_INET, src_addr, &src.sin_addr) != 1 ||
        bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        it_note("connect from %s to port %d: %s", src_addr, port, strerror(errno));
        close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->in_use = true;
    if (!msgpack_unpacker_init(&c->up, IT_READ_CHUNK)) {
        close(fd);
        c->in_use = false;
        return NULL;
    }
    return c;
}
