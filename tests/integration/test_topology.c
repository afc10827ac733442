/*
 * test_topology.c: issue 14's deployment on loopback, started by
 * scripts/topology (a primary and a synchronous streaming replica,
 * pgbouncer in transaction mode, two baobaod, HAProxy sending PROXY v2
 * and checking /ready), driven as clients and an operator would:
 *
 * - HAProxy spreads connections over both processes, each sees the real
 *   client address (peer=, via= the balancer), both /ready answer 200;
 * - failed logins lock out the client that made them, not the balancer's
 *   address: another client behind the same HAProxy logs in, through
 *   either process;
 * - both processes catch up the same night at start, the second while the
 *   first exports; the exporter killed mid-run: the other fails the dead
 *   run and makes the night; the killed one started again: one ok run,
 *   one folder;
 * - a password change, a disable and a demotion made through process A end
 *   or change the user's session on process B at its next request;
 * - reads of a session that did not write come from the replica (a row
 *   written while the replica's replay is paused is not seen there, the
 *   writer sees it), a baobaod whose db is the standby refuses the login
 *   (`unavailable`) and is not ready;
 * - a failover (primary stopped, replica promoted, pgbouncer pointed at it
 *   as a failover tool would): service comes back by itself through
 *   HAProxy, and every acknowledged write is on the new primary.
 *
 * The harness's database is created on the topology's primary (PGHOST and
 * PGPORT name both nodes with target_session_attrs=read-write, so the
 * test's own connection follows the failover). Every process is stopped
 * at the end, also when a test fails or the binary is killed by meson's
 * timeout (SIGTERM). Not for: each feature's corner cases (test_proxy,
 * test_export_multi, test_sessions_multi, test_replica, test_pooler).
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The topology's start under ASan on 2 shared cores: initdb, a base
 * backup, two baobaod, HAProxy's first checks. */
#define TOPO_START_TIMEOUT_MS 180000
#define TOPO_STOP_TIMEOUT_MS 120000
/* How long the service may take to come back after the failover (a bound
 * for the test, not a speed check). */
#define FAILOVER_BACK_MS 90000
#define EXPORT_WAIT_MS 120000
#define REPLAY_WAIT_MS 20000
/* Room for one /metrics answer (a few KiB today). */
#define METRICS_MAX_BYTES 65536
#define FAILOVER_WRITES 16
#define HTTP_TIMEOUT_MS 5000
#define TOPO_MAX_ARGS 40   /* arguments of one scripts/topology call */

/* Clients of their own behind the balancer: loopback addresses. */
#define CLIENT_LOOKER "127.0.0.5"
#define CLIENT_GUESSER "127.0.0.3"
#define CLIENT_HONEST "127.0.0.4"
#define CLIENT_WRITER "127.0.0.6"

static char g_dir[256];
static char g_script[512];
static bool g_started;
static uint32_t g_msgid = 1;
static PGconn *g_hold;   /* holds tonight's export mid-run (setup) */

#define HOLD_KEY "74311"

/* ---- the script ---- */

/* Runs scripts/topology with args; its variables (lines `export
 * NAME=VALUE`, VALUE quoted by printf %q) are put into this process's
 * environment. Its stderr goes to ours. Exit status, or -1. */
static int topo_run(const char *const *args, int timeout_ms)
{
    char out[300];
    snprintf(out, sizeof out, "%s.out", g_dir);
    const char *argv[TOPO_MAX_ARGS + 2];
    size_t n = 0;
    argv[n++] = g_script;
    for (size_t i = 0; args[i] != NULL && n <= TOPO_MAX_ARGS; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0)
            _exit(127);
        dup2(nul, 0);
        dup2(1, 2);     /* the script's messages: into the test's output */
        dup2(fd, 1);    /* its variables: into the file read below */
        execv(g_script, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    int64_t deadline = it_now_ms() + timeout_ms;
    int st = -1;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (it_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            it_note("scripts/topology %s did not finish in %d ms", args[0], timeout_ms);
            return -1;
        }
        it_sleep_ms(50);
    }
    FILE *f = fopen(out, "r");
    char line[2048];
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "export ", 7) != 0) {
            fputs(line, stdout);
            continue;
        }
        char *name = line + 7, *eq = strchr(name, '=');
        if (eq == NULL)
            continue;
        *eq = '\0';
        char val[2048];
        size_t k = 0;
        for (const char *p = eq + 1; *p != '\0' && *p != '\n' && k + 1 < sizeof val; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            val[k++] = *p;
        }
        val[k] = '\0';
        setenv(name, val, 1);
    }
    if (f != NULL)
        fclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int topo_port(const char *name)
{
    const char *v = getenv(name);
    return v != NULL ? atoi(v) : 0;
}

static void topo_stop(void)
{
    if (!g_started)
        return;
    g_started = false;
    const char *args[] = {"stop", g_dir, NULL};
    if (topo_run(args, TOPO_STOP_TIMEOUT_MS) != 0)
        printf("scripts/topology stop %s failed\n", g_dir);
}

/* meson's timeout sends SIGTERM: stop the topology (fork and exec only),
 * then go. */
static void on_term(int sig)
{
    (void)sig;
    if (g_started) {
        pid_t pid = fork();
        if (pid == 0) {
            execl(g_script, g_script, "stop", g_dir, (char *)NULL);
            _exit(127);
        }
        if (pid > 0)
            waitpid(pid, NULL, 0);
    }
    _exit(1);
}

static void print_tail(const char *path, int lines)
{
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL)
        return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    size_t i = n;
    int seen = 0;
    while (i > 0 && seen <= lines)
        if (buf[--i] == '\n')
            seen++;
    printf("---- last lines of %s\n%s\n", path, buf + i);
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    if (f == NULL)
        return false;
    static char buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

/* ---- small helpers ---- */

/* The status of GET path on 127.0.0.1:port (an HTTP/1.1 answer), -1 when
 * none came. */
static int http_status(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char req[256], ans[512];
    int status = -1;
    int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: topo\r\n\r\n", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        send(fd, req, (size_t)len, MSG_NOSIGNAL) == len) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, HTTP_TIMEOUT_MS) == 1) {
            ssize_t r = recv(fd, ans, sizeof ans - 1, 0);
            if (r > 12) {
                ans[r] = '\0';
                if (sscanf(ans, "HTTP/1.%*d %d", &status) != 1)
                    status = -1;
            }
        }
    }
    close(fd);
    return status;
}

/* The value of one line of a baobaod's /metrics ("name{labels} value", name
 * and labels given whole), or -1 when it cannot be had. */
static long long metric_value(int port, const char *series)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    static char ans[METRICS_MAX_BYTES];
    size_t got = 0;
    const char req[] = "GET /metrics HTTP/1.1\r\nHost: topo\r\nConnection: close\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        send(fd, req, sizeof req - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof req - 1)) {
        struct pollfd p = {fd, POLLIN, 0};
        while (got < sizeof ans - 1 && poll(&p, 1, HTTP_TIMEOUT_MS) == 1) {
            ssize_t r = recv(fd, ans + got, sizeof ans - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    close(fd);
    ans[got] = '\0';
    size_t n = strlen(series);
    for (char *l = ans; l != NULL && *l != '\0';) {
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            return atoll(l + n + 1);
        l = strchr(l, '\n');
        if (l != NULL)
            l++;
    }
    return -1;
}

static int call(it_conn *c, it_buf *b, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

static int expect_ok(it_conn *c, it_buf *b)
{
    it_msg m;
    char d[800];
    IT_CHECK(call(c, b, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "expected a result, got %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

static int expect_err(it_conn *c, it_buf *b, const char *code)
{
    it_msg m;
    char d[800];
    IT_CHECK(call(c, b, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, code) == 0, "expected %s, got %s", code,
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

static int login_expect(it_conn *c, const char *login, const char *password, const char *code)
{
    it_msg m;
    char d[800];
    IT_CHECK(c != NULL);
    IT_CHECK(it_login(c, login, password, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    if (code == NULL)
        IT_CHECKF(!m.is_error, "login %s: %s", login, it_describe(&m, d, sizeof d));
    else
        IT_CHECKF(m.is_error && strcmp(m.code, code) == 0, "login %s: expected %s, got %s",
                  login, code, it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

/* A connection through HAProxy from addr, logged in as login (NULL when
 * the login failed: noted). */
static it_conn *via_balancer(const char *addr, const char *login)
{
    it_conn *c = it_connect_anon_from(addr, topo_port("TOPO_HAPROXY_PORT"));
    if (c == NULL || login == NULL)
        return c;
    it_msg m;
    if (it_login(c, login, IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) != IT_RECV_MSG) {
        it_close(c);
        return NULL;
    }
    bool ok = !m.is_error;
    if (!ok)
        it_note("login %s through the balancer: %s %s", login, m.code, m.message);
    it_msg_free(&m);
    if (!ok) {
        it_close(c);
        return NULL;
    }
    return c;
}

/* A user made directly in the database, with IT_PASSWORD (it_super's
 * hash) and the role given. */
static int make_user(const char *login, const char *role)
{
    const char *p[2] = {login, role};
    return it_pg_exec("INSERT INTO app_user (login, display_name, role, password_hash)"
                      " SELECT $1, '拓扑测试', $2, password_hash FROM app_user"
                      " WHERE login = 'it_super'",
                      2, p);
}

static int64_t version_of(const char *login)
{
    const char *p[1] = {login};
    return it_pg_int("SELECT version FROM app_user WHERE login = $1", 1, p);
}

/* A read every logged-in role may make. */
static int read_page(it_conn *c, it_buf *b, const char *want_code)
{
    it_req(b, ++g_msgid, "enterprise.list", 1);
    it_kv_int(b, "limit", 1);
    return want_code == NULL ? expect_ok(c, b) : expect_err(c, b, want_code);
}

/* A write a supervisor may make: a new enterprise with code n. */
static int write_one(it_conn *c, it_buf *b, unsigned long n, const char *want_code)
{
    char code[19];
    it_credit_code(n, code);
    it_req(b, ++g_msgid, "enterprise.create", 3);
    it_kv_str(b, "name", "拓扑测试写入");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赵李桥镇");
    return want_code == NULL ? expect_ok(c, b) : expect_err(c, b, want_code);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static long long wait_int(const char *sql, const char *const *params, int nparams,
                          long long want, int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    long long v;
    while ((v = it_pg_int(sql, nparams, params)) != want && it_now_ms() < deadline)
        it_sleep_ms(200);
    return v;
}

/* ---- setup: the users, an old export, then the two processes ---- */

/* The night the processes catch up: export_time is set to
 * EXPORT_HOURS_AGO before the start (in Asia/Shanghai, baobaod's default
 * time_zone), so the last nightly time passed hours ago and the next one
 * is hours away, whenever the test runs: a fixed 00:00 would give two
 * nights to a run across midnight in Shanghai (16:00 UTC). g_night is
 * that night's date, computed once. */
#define EXPORT_HOURS_AGO "3"
static char g_export_time[8];   /* HH:MM */
static char g_night[16];        /* YYYY-MM-DD */

/* The night as the one parameter of a query ($1::date). */
static const char *const g_night_param[] = {g_night};

static int setup(void)
{
    IT_CHECK(make_user("topo_pw", "supervisor") == 0);
    IT_CHECK(make_user("topo_dis", "supervisor") == 0);
    IT_CHECK(make_user("topo_demote", "supervisor") == 0);
    /* A night exported long ago: both processes find the last night's
     * export missed and catch it up at start, at once. */
    IT_CHECK(it_pg_exec("INSERT INTO export_run (kind, export_date, finished_at, status)"
                        " VALUES ('scheduled', '2000-01-01', now(), 'ok')",
                        0, NULL) == 0);
    /* That run is held mid-way, without timing, as in test_export_multi.c:
     * the UPDATE that names its folder waits for an advisory lock this
     * test holds, so the second process starts during it and the test can
     * kill its runner with the run 'running'. */
    IT_CHECK(it_pg_exec("CREATE FUNCTION it_hold_folder() RETURNS trigger LANGUAGE plpgsql AS"
                        " $$BEGIN PERFORM pg_advisory_xact_lock(" HOLD_KEY "); RETURN NEW; END$$",
                        0, NULL) == 0);
    IT_CHECK(it_pg_exec("CREATE TRIGGER it_hold BEFORE UPDATE ON export_run FOR EACH ROW"
                        " WHEN (OLD.folder IS NULL AND NEW.folder IS NOT NULL)"
                        " EXECUTE FUNCTION it_hold_folder()",
                        0, NULL) == 0);
    g_hold = PQconnectdb(it_db_conninfo());
    PGresult *r = PQexec(g_hold, "SELECT pg_advisory_lock(" HOLD_KEY ")");
    bool held = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    IT_CHECKF(held, "hold: %s", PQerrorMessage(g_hold));
    r = PQexec(g_hold, "SELECT to_char(t, 'HH24:MI'), to_char(t, 'YYYY-MM-DD') FROM"
                       " (SELECT now() AT TIME ZONE 'Asia/Shanghai' - interval '"
                       EXPORT_HOURS_AGO " hours' AS t) x");
    bool got = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (got) {
        snprintf(g_export_time, sizeof g_export_time, "%s", PQgetvalue(r, 0, 0));
        snprintf(g_night, sizeof g_night, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    IT_CHECKF(got, "the night: %s", PQerrorMessage(g_hold));
    static char export_time_set[32];
    snprintf(export_time_set, sizeof export_time_set, "export_time=%s", g_export_time);
    it_note("export_time=%s, the night caught up: %s", g_export_time, g_night);
    const char *args[TOPO_MAX_ARGS + 1];
    size_t n = 0;
    args[n++] = "start-app";
    args[n++] = g_dir;
    args[n++] = "--db";
    args[n++] = it_db_name();
    if (getenv("IT_TOPOLOGY_NO_POOLER") != NULL)
        args[n++] = "--no-pooler";
    const char *const sets[] = {
        export_time_set,
        /* lockout: 4 x 2 failures lock an address */
        "login_max_failures=2", "login_lock_ms=60000", "login_delay_ms=1",
        /* replay paused for a whole test still counts as in time */
        "read_max_lag_ms=600000",
        "reconnect_min_ms=50", "reconnect_max_ms=500",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        args[n++] = "--set";
        args[n++] = sets[i];
    }
    args[n] = NULL;
    IT_CHECK(topo_run(args, TOPO_START_TIMEOUT_MS) == 0);
    IT_CHECK(topo_port("TOPO_A_PORT") > 0 && topo_port("TOPO_HAPROXY_PORT") > 0);
    return 0;
}

/* ---- the cases ---- */

static int balancer_spreads_clients_and_passes_their_address(void)
{
    IT_CHECK(http_status(topo_port("TOPO_A_HEALTH"), "/ready") == 200);
    IT_CHECK(http_status(topo_port("TOPO_B_HEALTH"), "/ready") == 200);
    /* round robin: two connections, one to each process */
    it_conn *c1 = via_balancer(CLIENT_LOOKER, IT_USER_SUPER);
    it_conn *c2 = via_balancer(CLIENT_LOOKER, IT_USER_SUPER);
    IT_CHECK(c1 != NULL && c2 != NULL);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(read_page(c1, &b, NULL) == 0);
    IT_CHECK(read_page(c2, &b, NULL) == 0);
    it_buf_free(&b);
    const char *peer = "peer=" CLIENT_LOOKER ":";
    IT_CHECK(file_has(getenv("TOPO_A_LOG"), peer));
    IT_CHECK(file_has(getenv("TOPO_B_LOG"), peer));
    IT_CHECK(file_has(getenv("TOPO_A_LOG"), "via=127.0.0.2:"));
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE addr LIKE '127.0.0.2%'", 0,
                       NULL) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE addr LIKE '" CLIENT_LOOKER "%'",
                       0, NULL) == 2);
    return 0;
}

/* scripts/topology run with args: its exit status and whether its stderr
 * has want. */
static int topo_refused(const char *const *args, const char *want)
{
    const char *argv[8] = {g_script};
    for (size_t i = 0; args[i] != NULL && i + 2 < sizeof argv / sizeof argv[0]; i++)
        argv[i + 1] = args[i];
    it_cli r;
    IT_CHECK(it_run(&r, argv, TOPO_START_TIMEOUT_MS) == 0);
    bool said = r.err != NULL && strstr(r.err, want) != NULL;
    int st = r.status;
    if (st == 0 || !said)
        it_note("scripts/topology %s: exit %d, stderr: %s", args[0], st, r.err);
    it_cli_free(&r);
    IT_CHECK(st != 0 && said);
    return 0;
}

/* A second start on the folder of a running topology is refused, and the
 * running one goes on (its failure must not stop what an earlier start
 * started). */
static int a_second_start_leaves_the_running_topology_alone(void)
{
    const char *start[] = {"start", g_dir, NULL};
    IT_CHECK(topo_refused(start, "already holds a topology") == 0);
    const char *start_db[] = {"start-db", g_dir, NULL};
    IT_CHECK(topo_refused(start_db, "already holds a topology") == 0);
    const char *start_app[] = {"start-app", g_dir, "--db", it_db_name(), NULL};
    IT_CHECK(topo_refused(start_app, "run already") == 0);
    IT_CHECK(http_status(topo_port("TOPO_A_HEALTH"), "/ready") == 200);
    IT_CHECK(http_status(topo_port("TOPO_B_HEALTH"), "/ready") == 200);
    it_conn *c = via_balancer(CLIENT_LOOKER, IT_USER_SUPER);
    IT_CHECK(c != NULL);
    it_close(c);
    return 0;
}

/* `stop` signals a pid from its files only when that pid is the program
 * it should be: a stale file may name anybody's process by now. */
static int stop_leaves_a_pid_that_is_not_ours_alone(void)
{
    char dir[] = "/tmp/it-topology-stale-XXXXXX";
    IT_CHECK(mkdtemp(dir) != NULL);
    pid_t other = fork();
    IT_CHECK(other >= 0);
    if (other == 0) {
        for (;;)
            pause();
    }
    char env[300];
    snprintf(env, sizeof env, "%s/env", dir);
    FILE *f = fopen(env, "w");
    if (f != NULL) {
        fprintf(f, "TOPO_DIR=%s\nTOPO_A_PID=%d\nTOPO_B_PID=%d\n", dir, (int)other, (int)other);
        fclose(f);
    }
    const char *argv[] = {g_script, "stop", dir, NULL};
    it_cli r;
    int ran = it_run(&r, argv, TOPO_STOP_TIMEOUT_MS);
    int st = ran == 0 ? r.status : -1;
    if (ran == 0)
        it_cli_free(&r);
    int wst;
    bool alive = waitpid(other, &wst, WNOHANG) == 0;
    kill(other, SIGKILL);
    waitpid(other, &wst, 0);
    unlink(env);
    rmdir(dir);
    IT_CHECK(f != NULL && st == 0);
    IT_CHECKF(alive, "scripts/topology stop killed pid %d, which is not a baobaod", (int)other);
    return 0;
}

/* As root, PostgreSQL runs as postgres: a folder it cannot reach is
 * refused at once, saying so (not by initdb's own puzzling message). */
static int a_folder_postgres_cannot_enter_is_refused(void)
{
    if (geteuid() != 0) {
        it_note("not root: PostgreSQL runs as this user, nothing to refuse");
        return 0;
    }
    char parent[] = "/tmp/it-topology-closed-XXXXXX";   /* mkdtemp: mode 0700, root's */
    IT_CHECK(mkdtemp(parent) != NULL);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/topo", parent);
    const char *args[] = {"start-db", dir, NULL};
    int rc = topo_refused(args, "cannot enter");
    const char *rm[] = {"/bin/rm", "-rf", parent, NULL};
    it_cli r;
    if (it_run(&r, rm, 60000) == 0)
        it_cli_free(&r);
    IT_CHECK(rc == 0);
    return 0;
}

static int lockout_is_per_real_client_through_the_balancer(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    /* 8 failures (4 x login_max_failures), each for another login so no
     * account locks, each on a new connection: both processes count them */
    for (int i = 0; i < 8; i++) {
        char login[32];
        snprintf(login, sizeof login, "topo_guess_%d", i);
        it_conn *c = via_balancer(CLIENT_GUESSER, NULL);
        IT_CHECK(login_expect(c, login, "wrong", "login_failed") == 0);
        it_close(c);
    }
    for (int i = 0; i < 2; i++) {   /* locked on both processes */
        it_conn *c = via_balancer(CLIENT_GUESSER, NULL);
        IT_CHECK(login_expect(c, IT_USER_SUPER, IT_PASSWORD, "locked") == 0);
        it_close(c);
    }
    for (int i = 0; i < 2; i++) {   /* another client logs in on both */
        it_conn *c = via_balancer(CLIENT_HONEST, NULL);
        IT_CHECK(login_expect(c, IT_USER_SUPER, IT_PASSWORD, NULL) == 0);
        it_close(c);
    }
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_throttle WHERE subject = 'addr:" CLIENT_GUESSER
                       "' AND locked_until > now()",
                       0, NULL) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_throttle WHERE subject LIKE 'addr:127.0.0.2%'",
                       0, NULL) == 0);
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* The night's run (held since setup, so the second process started
 * during it): its runner killed mid-run, the other process fails the dead
 * run, removes its folder and makes the night itself; the killed one
 * started again adds nothing. One ok run, one folder. */
static int one_export_per_night_whatever_the_processes_do(void)
{
    char exports[300];
    snprintf(exports, sizeof exports, "%s/exports", g_dir);
    long long rid = -1;
    for (int64_t end = it_now_ms() + EXPORT_WAIT_MS; rid <= 0 && it_now_ms() < end;) {
        rid = it_pg_int("SELECT coalesce(max(id), 0) FROM export_run WHERE status = 'running'"
                        " AND export_date = $1::date AND folder IS NULL",
                        1, g_night_param);
        if (rid <= 0)
            it_sleep_ms(100);
    }
    IT_CHECK(rid > 0);
    char id[24];
    snprintf(id, sizeof id, "%lld", rid);
    const char *p[] = {id};
    long long pid = it_pg_int("SELECT split_part(owner, ':', 2)::bigint FROM export_run"
                              " WHERE id = $1::bigint",
                              1, p);
    const char *runner = pid == topo_port("TOPO_A_PID")   ? "a"
                         : pid == topo_port("TOPO_B_PID") ? "b"
                                                          : NULL;
    IT_CHECKF(runner != NULL, "run %s owned by pid %lld, neither a nor b", id, pid);
    /* the other started during the run and left it alone */
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE export_date = $1::date", 1,
                       g_night_param) == 1);
    IT_CHECK(kill((pid_t)pid, SIGKILL) == 0);
    /* the killed process's backend ends once its UPDATE may go on */
    PQfinish(g_hold);
    g_hold = NULL;
    int64_t t0 = it_now_ms();
    IT_CHECK(wait_int("SELECT count(*) FROM export_run WHERE export_date = $1::date"
                      " AND status = 'ok'",
                      g_night_param, 1, 1, EXPORT_WAIT_MS) == 1);
    it_note("the other process made the night %lld ms after the kill",
            (long long)(it_now_ms() - t0));
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE id = $1::bigint"
                       " AND status = 'failed'",
                       1, p) == 1);
    IT_CHECK(count_entries(exports) == 1);

    const char *args[] = {"restart", g_dir, runner, NULL};
    IT_CHECK(topo_run(args, TOPO_START_TIMEOUT_MS) == 0);
    it_conn *c = it_connect(topo_port(strcmp(runner, "a") == 0 ? "TOPO_A_PORT" : "TOPO_B_PORT"));
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(read_page(c, &b, NULL) == 0);
    it_buf_free(&b);
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE export_date = $1::date"
                       " AND status <> 'failed'",
                       1, g_night_param) == 1);
    IT_CHECK(count_entries(exports) == 1);
    return 0;
}

/* user.update of login through adm: disabled, or role (with a township
 * for township staff). */
static int update_user(it_conn *adm, it_buf *b, const char *login, const char *key,
                       const char *val)
{
    it_req(b, ++g_msgid, "user.update", strcmp(key, "role") == 0 ? 4 : 3);
    it_kv_int(b, "id", it_user_id(login));
    it_kv_int(b, "version", version_of(login));
    if (strcmp(key, "disabled") == 0) {
        it_kv_bool(b, "disabled", strcmp(val, "true") == 0);
    } else {
        const char *towns[] = {"赵李桥镇"};
        it_kv_str(b, "role", val);
        it_kv_strs(b, "townships", towns, 1);
    }
    return expect_ok(adm, b);
}

static int password_change_through_a_ends_the_session_on_b(void)
{
    it_conn *u = it_connect_as(topo_port("TOPO_B_PORT"), "topo_pw", IT_PASSWORD);
    it_conn *adm = it_connect_as(topo_port("TOPO_A_PORT"), IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(u != NULL && adm != NULL);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(read_page(u, &b, NULL) == 0);
    it_req(&b, ++g_msgid, "user.set_password", 2);
    it_kv_int(&b, "id", it_user_id("topo_pw"));
    it_kv_str(&b, "password", "拓扑-新密码-1");
    IT_CHECK(expect_ok(adm, &b) == 0);
    IT_CHECK(read_page(u, &b, "unauthenticated") == 0);
    it_buf_free(&b);
    return 0;
}

static int disable_through_a_ends_the_session_on_b(void)
{
    it_conn *u = it_connect_as(topo_port("TOPO_B_PORT"), "topo_dis", IT_PASSWORD);
    it_conn *adm = it_connect_as(topo_port("TOPO_A_PORT"), IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(u != NULL && adm != NULL);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(read_page(u, &b, NULL) == 0);
    IT_CHECK(update_user(adm, &b, "topo_dis", "disabled", "true") == 0);
    IT_CHECK(read_page(u, &b, "unauthenticated") == 0);
    it_buf_free(&b);
    return 0;
}

static int demotion_through_a_takes_effect_on_b(void)
{
    it_conn *u = it_connect_as(topo_port("TOPO_B_PORT"), "topo_demote", IT_PASSWORD);
    it_conn *adm = it_connect_as(topo_port("TOPO_A_PORT"), IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(u != NULL && adm != NULL);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(write_one(u, &b, 96001, NULL) == 0);
    IT_CHECK(update_user(adm, &b, "topo_demote", "role", "township_staff") == 0);
    /* the supervisor's session ends; a new login has the new role */
    IT_CHECK(write_one(u, &b, 96002, "unauthenticated") == 0);
    it_msg m;
    IT_CHECK(it_login(u, "topo_demote", IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    IT_CHECK(it_get_str_eq(m.result, "role", "township_staff"));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* A libpq connection to the replica (TOPO_READ_DB). */
static PGconn *replica(void)
{
    PGconn *pg = PQconnectdb(getenv("TOPO_READ_DB"));   /* target_session_attrs=any */
    if (PQstatus(pg) != CONNECTION_OK) {
        it_note("replica: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

static long long pg_int_on(PGconn *pg, const char *sql, const char *arg)
{
    const char *p[1] = {arg};
    PGresult *r = PQexecParams(pg, sql, arg != NULL ? 1 : 0, NULL, p, NULL, NULL, 0);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = atoll(PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        it_note("replica: %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

/* enterprise.get of id through c: 1 found, 0 not_found, -1 else. */
static int found(it_conn *c, int64_t id)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "enterprise.get", 1);
    it_kv_int(&b, "id", id);
    it_msg m;
    int r = call(c, &b, &m);
    it_buf_free(&b);
    if (r != IT_RECV_MSG)
        return -1;
    int v = !m.is_error ? 1 : strcmp(m.code, "not_found") == 0 ? 0 : -1;
    if (v < 0) {
        char d[800];
        it_note("enterprise.get %lld: %s", (long long)id, it_describe(&m, d, sizeof d));
    }
    it_msg_free(&m);
    return v;
}

static int replica_answers_reads_of_sessions_that_did_not_write(void)
{
    PGconn *rep = replica();
    IT_CHECK(rep != NULL);
    it_conn *writer = it_connect(topo_port("TOPO_A_PORT"));
    it_conn *reader = it_connect_as(topo_port("TOPO_B_PORT"), IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(writer != NULL && reader != NULL);
    char code[19], ids[24];
    it_credit_code(96101, code);
    int64_t e1 = it_create_enterprise(writer, "拓扑副本一", code, "赵李桥镇");
    IT_CHECK(e1 > 0);
    snprintf(ids, sizeof ids, "%lld", (long long)e1);
    int64_t deadline = it_now_ms() + REPLAY_WAIT_MS;
    while (pg_int_on(rep, "SELECT count(*) FROM enterprise WHERE id = $1::bigint", ids) != 1 &&
           it_now_ms() < deadline)
        it_sleep_ms(50);
    IT_CHECK(pg_int_on(rep, "SELECT count(*) FROM enterprise WHERE id = $1::bigint", ids) == 1);
    /* The reader's login is a write of its own (PROTOCOL.md, "Read replicas"): its reads
     * go to the primary until B has measured the replica past it. Wait until one of them
     * is sent to the replica (B's counter moves) before pausing replay. */
    int b_health = topo_port("TOPO_B_HEALTH");
    const char *to_replica = "baobao_replica_reads_total{to=\"replica\"}";
    long long before = metric_value(b_health, to_replica);
    IT_CHECK(before >= 0);
    while (found(reader, e1) == 1 && metric_value(b_health, to_replica) == before &&
           it_now_ms() < deadline)
        it_sleep_ms(100);
    IT_CHECKF(metric_value(b_health, to_replica) > before,
              "no read of the reader went to the replica");
    IT_CHECK(pg_int_on(rep, "SELECT count(*) FROM (SELECT pg_wal_replay_pause()) p", NULL) == 1);

    it_credit_code(96102, code);
    int64_t e2 = it_create_enterprise(writer, "拓扑副本二", code, "赵李桥镇");
    int seen_by_reader = e2 > 0 ? found(reader, e2) : -1;
    int seen_by_writer = e2 > 0 ? found(writer, e2) : -1;
    int old_by_reader = found(reader, e1);
    (void)pg_int_on(rep, "SELECT count(*) FROM (SELECT pg_wal_replay_resume()) p", NULL);
    IT_CHECK(e2 > 0);
    IT_CHECKF(seen_by_reader == 0, "a row the replica has not replayed was read: %d",
              seen_by_reader);
    IT_CHECK(old_by_reader == 1);
    IT_CHECK(seen_by_writer == 1);   /* one's own write, from the primary */
    deadline = it_now_ms() + REPLAY_WAIT_MS;
    while (found(reader, e2) != 1 && it_now_ms() < deadline)
        it_sleep_ms(100);
    IT_CHECK(found(reader, e2) == 1);
    PQfinish(rep);
    return 0;
}

static int health_port_of(const it_server *s)
{
    char *log = it_server_log(s);
    const char *p = log != NULL ? strstr(log, "event=health_listening") : NULL;
    const char *q = p != NULL ? strstr(p, "port=") : NULL;
    int port = q != NULL ? atoi(q + 5) : 0;
    free(log);
    return port;
}

static int a_standby_as_db_refuses_writes_and_is_not_ready(void)
{
    char db[600], sdb[700];
    snprintf(db, sizeof db, "db=%s", getenv("TOPO_READ_DB"));
    snprintf(sdb, sizeof sdb, "session_db=%s", getenv("TOPO_SESSION_DB"));
    const char *sets[] = {db, sdb, "health_listen=127.0.0.1:0", "export_time=", NULL};
    /* not it_server_start: whether the pool counts a standby's
     * connections as up is not this test's business */
    it_server *s = it_server_start_nowait(sets);
    IT_CHECK(s != NULL);
    int hp = 0;
    for (int64_t until = it_now_ms() + IT_START_TIMEOUT_MS; hp == 0 && it_now_ms() < until;) {
        hp = health_port_of(s);
        if (hp == 0)
            it_sleep_ms(50);
    }
    IT_CHECK(hp > 0);
    /* the readiness check runs every second */
    int64_t deadline = it_now_ms() + 10000;
    int st;
    while ((st = http_status(hp, "/ready")) != 503 && it_now_ms() < deadline)
        it_sleep_ms(100);
    IT_CHECK(st == 503);
    /* a login writes (its event, the session): refused as unavailable,
     * never `internal` */
    it_conn *c = it_connect_anon(s->port);
    int refused = login_expect(c, IT_USER_SUPER, IT_PASSWORD, "unavailable");
    it_close(c);
    IT_CHECK(refused == 0);
    return 0;
}

/* One write through the balancer, retried with the same idempotency key
 * through new connections until acknowledged or the deadline: its id, or
 * -1. */
static int64_t write_until_acknowledged(it_conn **c, unsigned long n, int64_t deadline)
{
    char code[19], key[40], last[800] = "no answer";
    it_credit_code(n, code);
    snprintf(key, sizeof key, "topo-failover-%lu", n);
    while (it_now_ms() < deadline) {
        if (*c == NULL) {
            *c = via_balancer(CLIENT_WRITER, IT_USER_SUPER);
            if (*c == NULL) {
                it_sleep_ms(200);
                continue;
            }
        }
        it_buf b;
        it_buf_init(&b);
        it_req(&b, ++g_msgid, "enterprise.create", 4);
        it_kv_str(&b, "name", "拓扑切换写入");
        it_kv_str(&b, "credit_code", code);
        it_kv_str(&b, "township", "赵李桥镇");
        it_kv_str(&b, "idempotency_key", key);
        it_msg m;
        int r = call(*c, &b, &m);
        it_buf_free(&b);
        if (r != IT_RECV_MSG) {
            it_close(*c);
            *c = NULL;
            continue;
        }
        int64_t id = -1;
        bool ok = !m.is_error && it_get_int(m.result, "id", &id);
        if (!ok)
            it_describe(&m, last, sizeof last);
        it_msg_free(&m);
        if (ok)
            return id;
        it_close(*c);   /* a new connection: maybe the other process */
        *c = NULL;
        it_sleep_ms(100);
    }
    it_note("write %lu: last answer: %s", n, last);
    return -1;
}

static int failover_loses_no_acknowledged_write(void)
{
    int64_t ids[FAILOVER_WRITES];
    it_conn *c = NULL;
    int64_t t_failover = 0, t_back = 0;
    for (int i = 0; i < FAILOVER_WRITES; i++) {
        if (i == FAILOVER_WRITES / 2) {
            const char *args[] = {"failover", g_dir, NULL};
            IT_CHECK(topo_run(args, TOPO_START_TIMEOUT_MS) == 0);
            t_failover = it_now_ms();
        }
        ids[i] = write_until_acknowledged(&c, 97001 + (unsigned long)i,
                                          it_now_ms() + FAILOVER_BACK_MS);
        IT_CHECKF(ids[i] > 0, "write %d not acknowledged within %d ms", i, FAILOVER_BACK_MS);
        if (i == FAILOVER_WRITES / 2)
            t_back = it_now_ms();
    }
    it_note("first acknowledged write %lld ms after the failover command returned",
            (long long)(t_back - t_failover));
    /* the test's own connection follows to the new primary (its first
     * query finds the old connection broken, the next reconnects) */
    int64_t until = it_now_ms() + FAILOVER_BACK_MS;
    while (it_pg_int("SELECT 1", 0, NULL) != 1 && it_now_ms() < until)
        it_sleep_ms(100);
    IT_CHECK(it_pg_int("SELECT pg_is_in_recovery()::int", 0, NULL) == 0);
    IT_CHECK(it_pg_int("SELECT current_setting('port')::int", 0, NULL) ==
             topo_port("TOPO_PG_PORT_2"));
    for (int i = 0; i < FAILOVER_WRITES; i++) {
        char idt[24];
        snprintf(idt, sizeof idt, "%lld", (long long)ids[i]);
        const char *p[1] = {idt};
        IT_CHECKF(it_pg_int("SELECT count(*) FROM enterprise WHERE id = $1::bigint", 1, p) == 1,
                  "acknowledged write %d (id %s) is not on the new primary", i, idt);
    }
    /* both processes serve again (HAProxy checks /ready) */
    int64_t deadline = it_now_ms() + FAILOVER_BACK_MS;
    while ((http_status(topo_port("TOPO_A_HEALTH"), "/ready") != 200 ||
            http_status(topo_port("TOPO_B_HEALTH"), "/ready") != 200) &&
           it_now_ms() < deadline)
        it_sleep_ms(200);
    IT_CHECK(http_status(topo_port("TOPO_A_HEALTH"), "/ready") == 200);
    IT_CHECK(http_status(topo_port("TOPO_B_HEALTH"), "/ready") == 200);
    return 0;
}

static const it_test tests[] = {
    {"balancer_spreads_clients_and_passes_their_address",
     balancer_spreads_clients_and_passes_their_address},
    {"a_second_start_leaves_the_running_topology_alone",
     a_second_start_leaves_the_running_topology_alone},
    {"stop_leaves_a_pid_that_is_not_ours_alone", stop_leaves_a_pid_that_is_not_ours_alone},
    {"a_folder_postgres_cannot_enter_is_refused", a_folder_postgres_cannot_enter_is_refused},
    {"lockout_is_per_real_client_through_the_balancer",
     lockout_is_per_real_client_through_the_balancer},
    {"one_export_per_night_whatever_the_processes_do",
     one_export_per_night_whatever_the_processes_do},
    {"password_change_through_a_ends_the_session_on_b",
     password_change_through_a_ends_the_session_on_b},
    {"disable_through_a_ends_the_session_on_b", disable_through_a_ends_the_session_on_b},
    {"demotion_through_a_takes_effect_on_b", demotion_through_a_takes_effect_on_b},
    {"replica_answers_reads_of_sessions_that_did_not_write",
     replica_answers_reads_of_sessions_that_did_not_write},
    {"a_standby_as_db_refuses_writes_and_is_not_ready",
     a_standby_as_db_refuses_writes_and_is_not_ready},
    /* last: it moves the primary */
    {"failover_loses_no_acknowledged_write", failover_loses_no_acknowledged_write},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *pghost = getenv("PGHOST"), *script = getenv("IT_TOPOLOGY");
    if (pghost == NULL || pghost[0] == '\0') {
        printf("SKIP: PGHOST is not set (run through ./scripts/test)\n");
        return IT_SKIP;
    }
    if (script == NULL || access("/usr/sbin/haproxy", X_OK) != 0 ||
        access("/usr/sbin/pgbouncer", X_OK) != 0) {
        printf("SKIP: IT_TOPOLOGY, haproxy or pgbouncer missing (scripts/test installs them)\n");
        return IT_SKIP;
    }
    snprintf(g_script, sizeof g_script, "%s", script);
    /* A folder of its own: one left by an earlier run (kept on failure)
     * may have had this pid. */
    snprintf(g_dir, sizeof g_dir, "/tmp/it-topology-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
        printf("mkdtemp %s: %s\n", g_dir, strerror(errno));
        return 1;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    g_started = true;   /* a half-started topology is stopped too */
    atexit(topo_stop);
    /* pgbouncer's first port is one taken here, so its retry on "Address
     * already in use" runs for real; and umask 077, so every file a
     * program running as postgres (when root) reads again later, such as
     * pgbouncer's users.txt on the failover's reload, is made readable by
     * the script, not by the caller's umask. */
    int taken_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t salen = sizeof sa;
    if (taken_fd < 0 || bind(taken_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        listen(taken_fd, 1) != 0 || getsockname(taken_fd, (struct sockaddr *)&sa, &salen) != 0) {
        printf("a taken port: %s\n", strerror(errno));
        return 1;
    }
    int taken = ntohs(sa.sin_port);
    char taken_s[16];
    snprintf(taken_s, sizeof taken_s, "%d", taken);
    setenv("TOPO_PGBOUNCER_PORT_FIRST", taken_s, 1);
    mode_t old_umask = umask(077);
    const char *args[] = {"start-db", g_dir, NULL};
    int started = topo_run(args, TOPO_START_TIMEOUT_MS);
    umask(old_umask);
    unsetenv("TOPO_PGBOUNCER_PORT_FIRST");
    close(taken_fd);
    if (started != 0) {
        printf("scripts/topology start-db %s failed\n", g_dir);
        return 1;
    }
    char pgb_log[300];
    snprintf(pgb_log, sizeof pgb_log, "%s/pgbouncer/pgbouncer.log", g_dir);
    if (topo_port("TOPO_PGBOUNCER_PORT") == taken || !file_has(pgb_log, "Address already in use")) {
        printf("pgbouncer on port %d (the taken one: %d), no retry in %s\n",
               topo_port("TOPO_PGBOUNCER_PORT"), taken, pgb_log);
        return 1;
    }
    /* The harness's database lives on the topology's primary, whichever
     * node that is. */
    char hosts[64], ports[64];
    snprintf(ports, sizeof ports, "%d,%d", topo_port("TOPO_PG_PORT_1"),
             topo_port("TOPO_PG_PORT_2"));
    snprintf(hosts, sizeof hosts, "127.0.0.1,127.0.0.1");
    setenv("PGHOST", hosts, 1);
    setenv("PGPORT", ports, 1);
    setenv("PGUSER", "baobao", 1);
    setenv("PGDATABASE", "postgres", 1);
    setenv("PGTARGETSESSIONATTRS", "read-write", 1);
    unsetenv("PGHOSTADDR");
    unsetenv("PGSERVICE");
    /* The cluster of scripts/test is not this one: no test here stops it. */
    unsetenv("BAOBAO_PG_LOCAL");
    unsetenv("BAOBAO_PG_DIR");
    int rc = it_main(argc, argv, "topology", tests, sizeof tests / sizeof tests[0], setup);
    PQfinish(g_hold);   /* when the export case did not run */
    if (rc != 0) {
        print_tail(getenv("TOPO_A_LOG"), 40);
        print_tail(getenv("TOPO_B_LOG"), 40);
        char p[300];
        snprintf(p, sizeof p, "%s/pgbouncer/pgbouncer.log", g_dir);
        print_tail(p, 15);
    }
    topo_stop();
    /* Every baobaod of the topology ended by SIGTERM: under ASan a leak or
     * an error at exit is in its log. */
    DIR *d = opendir(g_dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char p[600];
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        if (strncmp(e->d_name, "baobaod-", 8) == 0 && file_has(p, "Sanitizer")) {
            printf("FAILED: %s reports a sanitizer error\n", p);
            print_tail(p, 60);
            rc = 1;
        }
    }
    if (d != NULL)
        closedir(d);
    char out[300];
    snprintf(out, sizeof out, "%s.out", g_dir);
    unlink(out);
    if (rc == 0 && getenv("IT_KEEP_DB") == NULL) {
        const char *rm[] = {"/bin/rm", "-rf", g_dir, NULL};
        it_cli r;
        if (it_run(&r, rm, 60000) == 0)
            it_cli_free(&r);
    } else {
        printf("topology folder kept: %s\n", g_dir);
    }
    return rc;
}
