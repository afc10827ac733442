/*
 * test_pooler.c: baobaod behind PgBouncer (1.18, Debian's), for real, and
 * the ways the pool reaches PostgreSQL (PROTOCOL.md section 2, "Poolers").
 *
 * PgBouncer runs with docs/examples/pgbouncer.ini, only the lines after a
 * ";; test:" comment rewritten (ports, paths, trust, pool mode, and in
 * transaction mode a server pool of 2 so that every transaction may meet a
 * server connection another client used before). It runs as the
 * PostgreSQL user when the test runs as root (PgBouncer refuses root) and
 * is stopped by the test that started it, or at exit.
 *
 * Pins down: transaction mode serves reads, writes and group-commit batches
 * with every pool connection up and none broken (unnamed statements:
 * nothing prepared outlives a transaction), and is refused at start without
 * session_db; session mode serves; a slow
 * statement is cancelled by statement_timeout_ms in each of none / session
 * / transaction; four `--migrate-only` at once through PgBouncer in
 * transaction mode apply each migration once; a multi-host conninfo whose
 * first hosts are down connects the pool and the LISTEN connection; one
 * with target_session_attrs=read-write whose first host answers read-only
 * (PgBouncer logging in as a read-only role) puts every pool connection on
 * the second (the primary); a connection that meets a read-only server (25006, what a standby answers)
 * answers `unavailable` and is retired and connected again, and retired
 * connections' backoffs are not cut short by the others getting through;
 * baobaod started again against a session-mode PgBouncer gets every pool
 * connection ready on server connections its last run used; a first host
 * that drops packets silently is given up by the migrations, the pool and
 * the LISTEN connection; in transaction mode a group with one failing
 * query answers every other query, and replayed queries keep their
 * statement_timeout; a group too big for one write is split
 * (PGCONN_GROUP_MAX_BYTES).
 *
 * Not for: failover with a real streaming replica (test_topology.c), reads
 * from a replica (test_replica.c).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* PgBouncer up and serving after it was started. */
#define PGB_START_WITHIN_MS 15000
/* The statement_timeout_ms of the timeout test: short, so a statement held
 * on a lock is cancelled long before the reply wait below. */
#define SLOW_TIMEOUT_MS "300"
/* How long a reply may take when the statement is held on a lock: far more
 * than SLOW_TIMEOUT_MS; without a timeout the statement would wait here
 * until the lock is released after it. */
#define SLOW_REPLY_WAIT_MS 15000
/* baobaod --migrate-only started at once on one new database. */
#define MIGRATORS 4
/* The PostgreSQL user a root test runs PgBouncer as (scripts/lib.sh). */
#define PG_OS_USER "postgres"

static uint32_t g_msgid = 100;

/* ---- PgBouncer ---- */

static pid_t g_pgb_pid;
static int g_pgb_port;
static char g_pgb_dir[128];
/* A [databases] line of the test's own, written first in that section
 * (before the example's "*"); "" for none. */
static char g_pgb_db_line[512];

/* A TCP port on 127.0.0.1 nobody listens on now (bound, read, closed). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void pgb_stop(void)
{
    if (g_pgb_pid > 0) {
        /* PgBouncer itself first (SIGTERM: immediate shutdown): runuser,
         * asked to forward it, would wait 2 s before it returns. */
        char path[192];
        snprintf(path, sizeof path, "%s/pgbouncer.pid", g_pgb_dir);
        FILE *f = fopen(path, "r");
        long pid = 0;
        if (f != NULL) {
            if (fscanf(f, "%ld", &pid) != 1)
                pid = 0;
            fclose(f);
        }
        kill(pid > 0 ? (pid_t)pid : g_pgb_pid, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(g_pgb_pid, &st, WNOHANG) == 0; i++)
            it_sleep_ms(50);
        if (waitpid(g_pgb_pid, &st, WNOHANG) == 0) {
            kill(g_pgb_pid, SIGKILL);
            waitpid(g_pgb_pid, &st, 0);
        }
        g_pgb_pid = 0;
    }
    if (g_pgb_dir[0] != '\0') {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", g_pgb_dir);
        if (system(cmd) != 0)
            it_note("could not remove %s", g_pgb_dir);
        g_pgb_dir[0] = '\0';
    }
}

/* The value the example's line for key gets in the test, or NULL to keep
 * it. */
static const char *rewrite(const char *key, const char *mode, char *buf, size_t buflen)
{
    if (strcmp(key, "*") == 0) {
        snprintf(buf, buflen, "host=%s port=%s", getenv("PGHOST"),
                 getenv("PGPORT") != NULL ? getenv("PGPORT") : "5432");
    } else if (strcmp(key, "listen_port") == 0) {
        snprintf(buf, buflen, "%d", g_pgb_port);
    } else if (strcmp(key, "unix_socket_dir") == 0) {
        snprintf(buf, buflen, "%s", "");
    } else if (strcmp(key, "auth_type") == 0) {
        snprintf(buf, buflen, "%s", "trust");
    } else if (strcmp(key, "auth_file") == 0) {
        snprintf(buf, buflen, "%s/users.txt", g_pgb_dir);
    } else if (strcmp(key, "logfile") == 0) {
        snprintf(buf, buflen, "%s/pgbouncer.log", g_pgb_dir);
    } else if (strcmp(key, "pidfile") == 0) {
        snprintf(buf, buflen, "%s/pgbouncer.pid", g_pgb_dir);
    } else if (strcmp(key, "pool_mode") == 0) {
        snprintf(buf, buflen, "%s", mode);
    } else if (strcmp(key, "default_pool_size") == 0) {
        /* Transaction mode: fewer server connections than the pool's, so
         * they are shared. Session mode holds one per client (the pool's
         * and the LISTEN connection): enough for all. */
        snprintf(buf, buflen, "%s", strcmp(mode, "transaction") == 0 ? "2" : "8");
    } else {
        return NULL;
    }
    return buf;
}

/* Writes the test's pgbouncer.ini from the example: every line after a
 * ";; test:" comment must be one rewrite() knows, so the example and this
 * test cannot drift apart silently. 0 or -1. */
static int write_ini(const char *mode, const char *path)
{
    const char *example = getenv("IT_PGBOUNCER_INI");
    IT_CHECKF(example != NULL, "IT_PGBOUNCER_INI is not set (tests/integration/meson.build)");
    FILE *in = fopen(example, "r");
    IT_CHECKF(in != NULL, "%s: %s", example, strerror(errno));
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fclose(in);
        IT_CHECKF(false, "%s: %s", path, strerror(errno));
    }
    char line[1024];
    bool marked = false;
    unsigned rewritten = 0;
    int rc = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        if (strncmp(line, ";; test:", 8) == 0 || (marked && strncmp(line, ";;", 2) == 0)) {
            marked = true; /* the marker's comment may go on over lines */
            fputs(line, out);
            continue;
        }
        if (strncmp(line, "[databases]", 11) == 0 && g_pgb_db_line[0] != '\0') {
            fputs(line, out);
            fprintf(out, "%s\n", g_pgb_db_line);
            continue;
        }
        if (marked) {
            marked = false;
            char key[64];
            size_t k = strcspn(line, " =");
            snprintf(key, sizeof key, "%.*s", (int)(k < sizeof key ? k : sizeof key - 1), line);
            char val[512];
            const char *v = rewrite(key, mode, val, sizeof val);
            if (v == NULL) {
                it_note("%s: a \";; test:\" line this test does not rewrite: %s", example, line);
                rc = -1;
            } else {
                fprintf(out, "%s = %s\n", key, v);
                rewritten++;
                continue;
            }
        }
        fputs(line, out);
    }
    fclose(in);
    if (fclose(out) != 0)
        rc = -1;
    IT_CHECKF(rc == 0, "writing %s", path);
    IT_CHECKF(rewritten >= 9, "only %u lines of %s rewritten", rewritten, example);
    return 0;
}

/* Starts PgBouncer in pool mode `mode` on a free port; waits until a query
 * goes through it. 0 or -1 (then nothing is left running). */
static int pgb_start(const char *mode)
{
    pgb_stop();
    snprintf(g_pgb_dir, sizeof g_pgb_dir, "/tmp/bbpgb.XXXXXX");
    IT_CHECKF(mkdtemp(g_pgb_dir) != NULL, "mkdtemp: %s", strerror(errno));
    g_pgb_port = free_port();
    IT_CHECK(g_pgb_port > 0);
    char ini[256], users[256], out[256];
    snprintf(ini, sizeof ini, "%s/pgbouncer.ini", g_pgb_dir);
    snprintf(users, sizeof users, "%s/users.txt", g_pgb_dir);
    snprintf(out, sizeof out, "%s/stderr", g_pgb_dir);
    if (write_ini(mode, ini) != 0) {
        pgb_stop();
        return -1;
    }
    FILE *u = fopen(users, "w");
    IT_CHECK(u != NULL);
    fprintf(u, "\"%s\" \"\"\n", getenv("PGUSER") != NULL ? getenv("PGUSER") : "baobao");
    IT_CHECK(fclose(u) == 0);
    bool root = geteuid() == 0;
    if (root) {
        const struct passwd *pw = getpwnam(PG_OS_USER);
        IT_CHECKF(pw != NULL, "no user %s to run PgBouncer as", PG_OS_USER);
        IT_CHECK(chown(g_pgb_dir, pw->pw_uid, pw->pw_gid) == 0);
        IT_CHECK(chown(ini, pw->pw_uid, pw->pw_gid) == 0);
        IT_CHECK(chown(users, pw->pw_uid, pw->pw_gid) == 0);
    }
    fflush(stdout);
    pid_t pid = fork();
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (chdir("/") != 0)
            _exit(127);
        /* Gone with this test even when it is killed (a meson timeout):
         * runuser forwards the signal to PgBouncer (PgBouncer's own -u
         * would clear the parent-death signal when it changes user). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (root)
            execlp("runuser", "runuser", "-u", PG_OS_USER, "--", "pgbouncer", ini, (char *)NULL);
        else
            execlp("pgbouncer", "pgbouncer", ini, (char *)NULL);
        _exit(127);
    }
    g_pgb_pid = pid;
    char ci[256];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d dbname=%s connect_timeout=2", g_pgb_port,
             it_db_name());
    int64_t deadline = it_now_ms() + PGB_START_WITHIN_MS;
    while (it_now_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            g_pgb_pid = 0;
            it_note("pgbouncer exited (status %d); see %s", st, out);
            pgb_stop();
            return -1;
        }
        PGconn *pg = PQconnectdb(ci);
        bool ok = false;
        if (PQstatus(pg) == CONNECTION_OK) {
            PGresult *r = PQexec(pg, "SELECT 1");
            ok = PQresultStatus(r) == PGRES_TUPLES_OK;
            PQclear(r);
        }
        PQfinish(pg);
        if (ok) {
            it_note("pgbouncer (%s mode) on port %d", mode, g_pgb_port);
            return 0;
        }
        it_sleep_ms(100);
    }
    pgb_stop();
    IT_CHECKF(false, "pgbouncer did not serve within %d ms", PGB_START_WITHIN_MS);
    return -1;
}

/* "db=..." through PgBouncer to the test database. */
static void pgb_db_set(char *buf, size_t buflen, const char *dbname)
{
    snprintf(buf, buflen, "db=host=127.0.0.1 port=%d dbname=%s", g_pgb_port, dbname);
}

/* ---- requests ---- */

/* Waits until c's logged-in requests are served (a process refuses them,
 * `unavailable`, until it hears account changes: PROTOCOL.md section 2,
 * "Sessions across processes"), asking session.whoami. 0 or -1. */
static int wait_serving(it_conn *c)
{
    int64_t deadline = it_now_ms() + IT_REPLY_TIMEOUT_MS;
    for (;;) {
        it_buf b;
        it_buf_init(&b);
        uint32_t m = ++g_msgid;
        it_req(&b, m, "session.whoami", IT_NO_ARGS);
        it_msg r;
        int rc = it_buf_call(c, &b, m, &r);
        it_buf_free(&b);
        IT_CHECK(rc == 0);
        bool ok = !r.is_error;
        bool wait = r.is_error && strcmp(r.code, "unavailable") == 0;
        it_msg_free(&r);
        if (ok)
            return 0;
        IT_CHECKF(wait && it_now_ms() < deadline, "session.whoami is not served");
        it_sleep_ms(50);
    }
}

static int get_ok(it_conn *c, int64_t id)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t m = ++g_msgid;
    it_req(&b, m, "enterprise.get", 1);
    it_kv_int(&b, "id", id);
    it_msg r;
    int rc = it_buf_ok(c, &b, m, &r);
    it_buf_free(&b);
    if (rc == 0)
        it_msg_free(&r);
    return rc;
}

/* Creates, reads, lists and submits over three client connections with
 * requests pipelined, so the pool's connections send sync groups of
 * several queries at once. Every answer must be a success. */
static int serve_a_mix(int port, unsigned long code_base)
{
    it_conn *c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = it_connect(port);
        IT_CHECK(c[i] != NULL);
    }
    IT_CHECK(wait_serving(c[0]) == 0);
    int64_t ids[12];
    for (int i = 0; i < 12; i++) {
        char cc[19], name[64];
        it_credit_code(code_base + (unsigned long)i, cc);
        snprintf(name, sizeof name, "池化测试企业%d", i);
        ids[i] = it_create_enterprise(c[i % 3], name, cc, "赵李桥镇");
        IT_CHECKF(ids[i] > 0, "create %d", i);
    }
    /* Pipelined: 12 gets and 12 submits sent before any answer is read. */
    uint32_t first = g_msgid + 1;
    for (int i = 0; i < 12; i++) {
        it_buf b;
        it_buf_init(&b);
        it_req(&b, ++g_msgid, "enterprise.get", 1);
        it_kv_int(&b, "id", ids[i]);
        IT_CHECK(it_send(c[i % 3], b.sb.data, b.sb.size) == 0);
        it_buf_reset(&b);
        it_req(&b, ++g_msgid, "status.submit", 4);
        it_kv_int(&b, "enterprise_id", ids[i]);
        it_kv_str(&b, "report_date", "2024-06-03");
        it_kv_str(&b, "reporter", "王五");
        it_kv_str(&b, "production_status", "正常");
        IT_CHECK(it_send(c[i % 3], b.sb.data, b.sb.size) == 0);
        it_buf_free(&b);
    }
    unsigned got = 0;
    char d[800];
    for (int i = 0; i < 3; i++) {
        for (int k = 0; k < 8; k++) {
            it_msg m;
            IT_CHECK(it_recv(c[i], IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
            IT_CHECKF(!m.is_error, "msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
            IT_CHECK(m.msgid >= first && m.msgid <= g_msgid);
            got++;
            it_msg_free(&m);
        }
    }
    IT_CHECK(got == 24);
    it_buf b;
    it_buf_init(&b);
    uint32_t m = ++g_msgid;
    it_req(&b, m, "enterprise.list", IT_NO_ARGS);
    it_msg r;
    IT_CHECK(it_buf_ok(c[0], &b, m, &r) == 0);
    it_msg_free(&r);
    it_buf_free(&b);
    for (int i = 0; i < 3; i++)
        it_close(c[i]);
    return 0;
}

/* ---- tests ---- */

static int transaction_mode_serves_with_unnamed_statements(void)
{
    IT_CHECK(pgb_start("transaction") == 0);
    char db[512], sdb[600];
    pgb_db_set(db, sizeof db, it_db_name());
    snprintf(sdb, sizeof sdb, "session_db=%s", it_db_conninfo());
    const char *sets[] = {db, "db_pooler=transaction", sdb, "pool_size=4", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(it_server_log_has(s, "pooler=transaction"));
    int rc = serve_a_mix(s->port, 7100);
    /* Nothing was prepared by name on any server connection: they are
     * shared, and a name prepared on one would be missing on another. */
    char *log = it_server_log(s);
    IT_CHECK(log != NULL);
    bool failed = strstr(log, "db_query_failed") != NULL;
    /* Named statements would also show as connections failing to prepare
     * ("already exists" on a server connection another one prepared). */
    bool broken = strstr(log, "event=db_conn_broken") != NULL;
    bool all_ready = strstr(log, "event=db_conn_ready pg=4 ") != NULL;
    free(log);
    IT_CHECK(rc == 0);
    IT_CHECKF(!failed, "a query failed through pgbouncer (db_query_failed in the log)");
    IT_CHECKF(!broken, "a pool connection broke through pgbouncer (db_conn_broken in the log)");
    IT_CHECKF(all_ready, "not every pool connection got ready through pgbouncer");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    pgb_stop();
    return 0;
}

static int transaction_mode_without_session_db_refused_at_start(void)
{
    const char *argv[] = {getenv("BAOBAOD"), "--port", "0", "--db", it_db_conninfo(),
                          "--set", "db_pooler=transaction", NULL};
    it_cli r;
    IT_CHECK(it_run(&r, argv, IT_REPLY_TIMEOUT_MS) == 0);
    int st = r.status;
    bool says = r.err != NULL && strstr(r.err, "session_db") != NULL;
    it_cli_free(&r);
    IT_CHECKF(st == 2, "baobaod with db_pooler=transaction and no session_db: exit %d", st);
    IT_CHECK(says);
    return 0;
}

static int session_mode_serves(void)
{
    IT_CHECK(pgb_start("session") == 0);
    char db[512];
    pgb_db_set(db, sizeof db, it_db_name());
    const char *sets[] = {db, "db_pooler=session", "pool_size=2", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(it_server_log_has(s, "pooler=session"));
    IT_CHECK(serve_a_mix(s->port, 7200) == 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    pgb_stop();
    return 0;
}

/* One mode: a read held on a table lock is cancelled by statement_timeout
 * (57014, answered `unavailable`), not left waiting for the lock. */
static int slow_statement_cancelled(const char *mode, unsigned long code)
{
    char db[512], sdb[600], pooler[64];
    snprintf(pooler, sizeof pooler, "db_pooler=%s", mode);
    snprintf(sdb, sizeof sdb, "session_db=%s", it_db_conninfo());
    if (strcmp(mode, "none") == 0) {
        snprintf(db, sizeof db, "db=%s", it_db_conninfo());
    } else {
        IT_CHECK(pgb_start(mode) == 0);
        pgb_db_set(db, sizeof db, it_db_name());
    }
    const char *sets[] = {db, pooler, sdb, "statement_timeout_ms=" SLOW_TIMEOUT_MS, NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_serving(c) == 0);
    char cc[19];
    it_credit_code(code, cc);
    int64_t eid = it_create_enterprise(c, "超时测试企业", cc, "新店镇");
    IT_CHECK(eid > 0);

    PGconn *locker = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(locker) == CONNECTION_OK);
    PGresult *r = PQexec(locker, "BEGIN; LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE");
    bool locked = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!locked) {
        PQfinish(locker);
        IT_CHECKF(false, "could not lock enterprise");
    }
    it_buf b;
    it_buf_init(&b);
    uint32_t m = ++g_msgid;
    it_req(&b, m, "enterprise.get", 1);
    it_kv_int(&b, "id", eid);
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    int64_t t0 = it_now_ms();
    int got = sent == 0 ? it_expect_error(c, m, "unavailable", NULL, SLOW_REPLY_WAIT_MS) : -1;
    int64_t ms = it_now_ms() - t0;
    PQfinish(locker); /* ends the lock whatever happened */
    IT_CHECKF(got == 0, "%s: the read held on a lock was not answered unavailable", mode);
    it_note("%s: cancelled after %lld ms (statement_timeout_ms=%s)", mode, (long long)ms,
            SLOW_TIMEOUT_MS);
    IT_CHECKF(it_server_log_has(s, "sqlstate=57014"),
              "%s: no statement cancelled by statement_timeout (57014) in the log", mode);
    /* And the connection serves again once the lock is gone. */
    IT_CHECK(get_ok(c, eid) == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    pgb_stop();
    return 0;
}

static int statement_timeout_holds_in_every_mode(void)
{
    IT_CHECK(slow_statement_cancelled("none", 7301) == 0);
    IT_CHECK(slow_statement_cancelled("session", 7302) == 0);
    IT_CHECK(slow_statement_cancelled("transaction", 7303) == 0);
    return 0;
}

/* Runs `baobaod --migrate-only --db conninfo` in the background. */
static pid_t migrate_async(const char *conninfo, const char *log_path)
{
    const char *bin = getenv("BAOBAOD");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "--db", conninfo, "--migrate-only", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int migrations_at_once_through_transaction_pooling_apply_each_once(void)
{
    IT_CHECK(pgb_start("transaction") == 0);
    char dbname[96], sql[256];
    snprintf(dbname, sizeof dbname, "%s_mig", it_db_name());
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", dbname);
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    char ci[256], logs[MIGRATORS][512];
    snprintf(ci, sizeof ci, "host=127.0.0.1 port=%d dbname=%s", g_pgb_port, dbname);
    const char *dir = getenv("IT_LOG_DIR") != NULL ? getenv("IT_LOG_DIR") : ".";
    pid_t pids[MIGRATORS];
    int st[MIGRATORS];
    for (int i = 0; i < MIGRATORS; i++) {
        snprintf(logs[i], sizeof logs[i], "%s/itest-pooler-%d-mig%d.log", dir, (int)getpid(), i);
        pids[i] = migrate_async(ci, logs[i]);
    }
    for (int i = 0; i < MIGRATORS; i++) {
        st[i] = -1;
        if (pids[i] > 0)
            waitpid(pids[i], &st[i], 0);
    }
    /* Count on a connection of its own to the new database. */
    char direct[256];
    snprintf(direct, sizeof direct, "dbname=%s", dbname);
    PGconn *pg = PQconnectdb(direct);
    long long rows = -1, versions = -1;
    if (PQstatus(pg) == CONNECTION_OK) {
        PGresult *r = PQexec(pg, "SELECT count(*), count(DISTINCT version) FROM schema_migrations");
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            rows = atoll(PQgetvalue(r, 0, 0));
            versions = atoll(PQgetvalue(r, 0, 1));
        }
        PQclear(r);
    }
    PQfinish(pg);
    pgb_stop(); /* its server connections to the database go with it */
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", dbname);
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    for (int i = 0; i < MIGRATORS; i++)
        IT_CHECKF(WIFEXITED(st[i]) && WEXITSTATUS(st[i]) == 0,
                  "--migrate-only %d of %d: status %d (%s)", i + 1, MIGRATORS, st[i], logs[i]);
    long long want = it_pg_int("SELECT count(*) FROM schema_migrations", 0, NULL);
    IT_CHECKF(rows == want && versions == want,
              "schema_migrations: %lld rows, %lld versions; the test database has %lld", rows,
              versions, want);
    return 0;
}

/* A TCP port on 127.0.0.1 that refuses connections: bound, not listening,
 * kept bound (so nobody else takes it) until fd is closed. */
static int refusing_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(*fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    return ntohs(a.sin_port);
}

static int multi_host_conninfo_with_first_hosts_down_connects(void)
{
    /* Hosts 1 and 2 refuse; host 3 is the test cluster. libpq moves from
     * one to the next inside PQconnectPoll, closing a socket and opening
     * another (often with the same number) each time: the pool and the
     * LISTEN connection must watch the socket libpq has now. */
    int fd1 = -1, fd2 = -1;
    int p1 = refusing_port(&fd1), p2 = refusing_port(&fd2);
    if (p1 < 0 || p2 < 0) {
        close(fd1);
        close(fd2);
        IT_CHECKF(false, "no refusing ports");
    }
    char db[700];
    snprintf(db, sizeof db,
             "db=host=127.0.0.1,127.0.0.1,%s port=%d,%d,%s dbname=%s "
             "target_session_attrs=read-write",
             getenv("PGHOST"), p1, p2, getenv("PGPORT") != NULL ? getenv("PGPORT") : "5432",
             it_db_name());
    const char *sets[] = {db, NULL};
    it_server *s = it_server_start(sets);
    int rc = 0;
    if (s == NULL) {
        rc = -1;
    } else {
        /* The LISTEN connection (session_db = db) got through too. */
        int64_t deadline = it_now_ms() + 10000;
        while (!it_server_log_has(s, "event=listen_up") && it_now_ms() < deadline)
            it_sleep_ms(100);
        if (!it_server_log_has(s, "event=listen_up")) {
            it_note("the LISTEN connection did not come up");
            rc = -1;
        }
        it_conn *c = it_connect(s->port);
        if (c != NULL && wait_serving(c) != 0)
            rc = -1;
        char cc[19];
        it_credit_code(7400, cc);
        int64_t eid = c != NULL ? it_create_enterprise(c, "多主机企业", cc, "赤壁镇") : -1;
        if (eid <= 0 || get_ok(c, eid) != 0)
            rc = -1;
        if (c != NULL)
            it_close(c);
        if (it_server_stop(s, IT_STOP_TIMEOUT_MS) != 0)
            rc = -1;
    }
    close(fd1);
    close(fd2);
    IT_CHECK(rc == 0);
    return 0;
}

static int multi_host_read_write_skips_a_read_only_first_host(void)
{
    /* Host 1 answers, but read-only: PgBouncer (session mode) logs in to
     * the test database as a role whose sessions are read-only, as a
     * standby's are. With target_session_attrs=read-write libpq connects
     * there, asks, hangs up and goes on to host 2 (the primary, directly):
     * a new socket after a complete connection. */
    char role[64], sql[256];
    snprintf(role, sizeof role, "bb_ro_%d", (int)getpid());
    snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN", role);
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    snprintf(sql, sizeof sql, "ALTER ROLE %s SET default_transaction_read_only = on", role);
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    snprintf(g_pgb_db_line, sizeof g_pgb_db_line, "%s = host=%s port=%s user=%s", it_db_name(),
             getenv("PGHOST"), getenv("PGPORT") != NULL ? getenv("PGPORT") : "5432", role);
    int started = pgb_start("session");
    g_pgb_db_line[0] = '\0';
    int rc = started;
    it_server *s = NULL;
    if (started == 0) {
        char db[700];
        snprintf(db, sizeof db,
                 "db=host=127.0.0.1,%s port=%d,%s dbname=%s target_session_attrs=read-write",
                 getenv("PGHOST"), g_pgb_port,
                 getenv("PGPORT") != NULL ? getenv("PGPORT") : "5432", it_db_name());
        /* session: no `options` start-up parameter, which PgBouncer
         * refuses before libpq could ask whether it may write. */
        const char *sets[] = {db, "db_pooler=session", NULL};
        s = it_server_start(sets);
        if (s == NULL)
            rc = -1;
    }
    if (s != NULL) {
        it_conn *c = it_connect(s->port);
        if (c == NULL || wait_serving(c) != 0)
            rc = -1;
        char cc[19];
        it_credit_code(7600, cc);
        if (rc == 0 && it_create_enterprise(c, "读写主机企业", cc, "赤壁镇") <= 0)
            rc = -1;
        if (c != NULL)
            it_close(c);
        /* Every pool connection is on the primary, as the test's user. */
        const char *p[] = {role};
        long long ro = it_pg_int("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE application_name = 'baobaod' AND usename = $1",
                                 1, p);
        if (ro != 0) {
            it_note("%lld pool connections are on the read-only host", ro);
            rc = -1;
        }
        if (it_server_stop(s, IT_STOP_TIMEOUT_MS) != 0)
            rc = -1;
    }
    pgb_stop();
    snprintf(sql, sizeof sql, "DROP ROLE %s", role);
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    IT_CHECK(rc == 0);
    return 0;
}

/* The pool's connections' backends (not the LISTEN one): their sessions
 * end and the pool connects again. */
static long long terminate_pool_backends(void)
{
    return it_pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND application_name = 'baobaod'",
                     0, NULL);
}

/* True once the log has `event` after the n-th occurrence of `after`
 * (n counted from 1), polling up to timeout_ms. */
static bool log_has_after(const it_server *s, const char *after, unsigned n, const char *event,
                          int timeout_ms)
{
    int64_t deadline = it_now_ms() + timeout_ms;
    for (;;) {
        char *log = it_server_log(s);
        const char *p = log;
        for (unsigned k = 0; p != NULL && k < n; k++) {
            p = strstr(p, after);
            if (p != NULL)
                p += strlen(after);
        }
        bool found = p != NULL && strstr(p, event) != NULL;
        free(log);
        if (found || it_now_ms() >= deadline)
            return found;
        it_sleep_ms(50);
    }
}

/* Sets the test database's default_transaction_read_only for new sessions
 * (on: as a standby's; off: RESET). 0 or -1. */
static int db_read_only(bool on)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             on ? "ALTER DATABASE %s SET default_transaction_read_only = on"
                : "ALTER DATABASE %s RESET default_transaction_read_only",
             it_db_name());
    return it_pg_exec(sql, 0, NULL);
}

static int read_only_server_write_unavailable_and_connection_retired(void)
{
    it_server *s = it_server_start((const char *const[]){"pool_size=1", NULL});
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_serving(c) == 0);
    /* From now on new sessions of the database are read-only: a write
     * there fails with 25006, as on a standby. The pool's session is ended
     * so that it connects again into one. Reset before any check below
     * can return. */
    IT_CHECK(db_read_only(true) == 0);
    bool terminated = terminate_pool_backends() == 1;
    bool reconnected = terminated && log_has_after(s, "event=db_conn_broken", 1,
                                                   "event=db_conn_ready", 10000);

    it_buf b;
    it_buf_init(&b);
    char cc[19], d[800];
    it_credit_code(7500, cc);
    it_msg m;
    int got = -1;
    /* The first tries may meet the connection still coming back. The
     * create's own statement must meet 25006: the nodes' beat is a write
     * too and may retire the connection first. */
    for (int i = 0; i < 50 && reconnected; i++) {
        uint32_t id = ++g_msgid;
        it_buf_reset(&b);
        it_req(&b, id, "enterprise.create", 3);
        it_kv_str(&b, "name", "只读测试企业");
        it_kv_str(&b, "credit_code", cc);
        it_kv_str(&b, "township", "赤壁镇");
        got = it_buf_call(c, &b, id, &m);
        if (got == 0 && it_server_log_has(s, "stmt=ent_create sqlstate=25006"))
            break;
        if (got == 0)
            it_msg_free(&m);
        got = -1;
        it_sleep_ms(100);
    }
    it_buf_free(&b);
    bool retired = it_server_log_has(s, "stmt=ent_create sqlstate=25006") &&
                   it_server_log_has(s, "event=db_conn_retiring");
    IT_CHECK(db_read_only(false) == 0);
    IT_CHECKF(terminated, "the pool's backend was not terminated");
    IT_CHECKF(reconnected, "the pool did not connect again after its backend was terminated");
    IT_CHECKF(got == 0, "no write reached the read-only session");
    IT_CHECKF(m.is_error && strcmp(m.code, "unavailable") == 0,
              "a write on a read-only server: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECKF(retired, "the connection that met 25006 was not retired");
    /* Retired: it connects again (into a writable session now). */
    IT_CHECK(log_has_after(s, "event=db_conn_retiring", 1, "event=db_conn_ready", 10000));
    int64_t eid = -1;
    it_credit_code(7501, cc);
    for (int i = 0; i < 50 && eid <= 0; i++) {
        eid = it_create_enterprise(c, "只读测试企业", cc, "赤壁镇");
        if (eid <= 0)
            it_sleep_ms(100);
    }
    IT_CHECK(eid > 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* ---- sessions a pooler passes on, silent hosts, failing groups, kicks ---- */

/* Session mode hands a server connection to the next client when one
 * leaves; baobaod started again against the same PgBouncer must find every
 * pool connection ready, whatever the last client left on them (its
 * prepared statements: 42P05 "already exists" when preparing again). */
static int session_mode_restart_reuses_server_connections(void)
{
    IT_CHECK(pgb_start("session") == 0);
    char db[512];
    pgb_db_set(db, sizeof db, it_db_name());
    /* The second run without a timeout of its own: RESET, not SET. */
    const char *sets[] = {db, "db_pooler=session", "pool_size=4", NULL, NULL};
    int rc = 0;
    for (int run = 1; run <= 2 && rc == 0; run++) {
        sets[3] = run == 2 ? "statement_timeout_ms=0" : NULL;
        it_server *s = it_server_start(sets);
        if (s == NULL) {
            rc = -1;
            break;
        }
        it_conn *c = it_connect(s->port);
        if (c == NULL || wait_serving(c) != 0)
            rc = -1;
        if (c != NULL)
            it_close(c);
        bool all_ready = log_has_after(s, "event=starting", 1, "event=db_conn_ready pg=4 ",
                                       IT_REPLY_TIMEOUT_MS);
        bool broken = it_server_log_has(s, "event=db_conn_broken");
        if (!all_ready || broken) {
            it_note("run %d: every pool connection ready: %s; one broke: %s", run,
                    all_ready ? "yes" : "no", broken ? "yes" : "no");
            rc = -1;
        }
        if (it_server_stop(s, IT_STOP_TIMEOUT_MS) != 0)
            rc = -1;
    }
    pgb_stop();
    IT_CHECK(rc == 0);
    return 0;
}

/* Connections that fill the accept queue of a silent port. */
#define SILENT_FILL 3
/* How long a connect to the silent port must stay unanswered for the test
 * to count it silent (a precondition, not a measurement of baobaod). */
#define SILENT_CHECK_MS 300

/* A TCP port on 127.0.0.1 that drops SYNs, as a host that drops packets
 * does (no RST): listening with a backlog of 0, its accept queue filled by
 * connections never accepted (Linux drops a SYN to a full queue). fds[0]
 * is the listener, the rest the fillers; all closed by silent_close. */
static int silent_port(int fds[SILENT_FILL + 1])
{
    for (int i = 0; i <= SILENT_FILL; i++)
        fds[i] = -1;
    fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[0] < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(fds[0], (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fds[0], (struct sockaddr *)&a, &len) != 0 || listen(fds[0], 0) != 0)
        return -1;
    for (int i = 1; i <= SILENT_FILL; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fds[i] < 0)
            return -1;
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
            return -1;
        it_sleep_ms(50); /* the handshake completes into the queue */
    }
    /* Silent now: a probe gets no answer at all. */
    int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0)
        return -1;
    bool answered = connect(probe, (struct sockaddr *)&a, sizeof a) == 0 || errno != EINPROGRESS;
    if (!answered) {
        struct pollfd pf = {.fd = probe, .events = POLLOUT};
        answered = poll(&pf, 1, SILENT_CHECK_MS) != 0;
    }
    close(probe);
    return answered ? -1 : ntohs(a.sin_port);
}

static void silent_close(int fds[SILENT_FILL + 1])
{
    for (int i = 0; i <= SILENT_FILL; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int multi_host_conninfo_with_a_silent_first_host_connects(void)
{
    /* Host 1 drops every packet; host 2 is the test cluster. The
     * migrations (blocking), the pool and the LISTEN connection must each
     * give host 1 up and go on to host 2: by the kernel's SYN retries that
     * would take about two minutes, past the pool's connect timeout, which
     * starts again at host 1. */
    int fds[SILENT_FILL + 1];
    int p1 = silent_port(fds);
    if (p1 < 0) {
        silent_close(fds);
        IT_CHECKF(false, "no silent port (a SYN to a full accept queue was answered)");
    }
    char db[700];
    snprintf(db, sizeof db,
             "db=host=127.0.0.1,%s port=%d,%s dbname=%s target_session_attrs=read-write",
             getenv("PGHOST"), p1, getenv("PGPORT") != NULL ? getenv("PGPORT") : "5432",
             it_db_name());
    const char *sets[] = {db, "pool_size=2", NULL};
    it_server *s = it_server_start(sets);
    int rc = 0;
    if (s == NULL) {
        rc = -1;
    } else {
        if (!log_has_after(s, "event=starting", 1, "event=listen_up", IT_REPLY_TIMEOUT_MS)) {
            it_note("the LISTEN connection did not come up");
            rc = -1;
        }
        if (!log_has_after(s, "event=starting", 1, "event=db_conn_ready pg=2 ",
                           IT_REPLY_TIMEOUT_MS)) {
            it_note("not every pool connection came up");
            rc = -1;
        }
        it_conn *c = it_connect(s->port);
        if (c == NULL || wait_serving(c) != 0)
            rc = -1;
        if (c != NULL)
            it_close(c);
        if (it_server_stop(s, IT_STOP_TIMEOUT_MS) != 0)
            rc = -1;
    }
    silent_close(fds);
    IT_CHECK(rc == 0);
    return 0;
}

/* Appends one enterprise.get of id to b; returns its msgid. */
static uint32_t add_get(it_buf *b, int64_t id)
{
    uint32_t m = ++g_msgid;
    it_req(b, m, "enterprise.get", 1);
    it_kv_int(b, "id", id);
    return m;
}

/* Through PgBouncer in transaction mode, one pool connection: requests
 * sent in one write make one sync group. One of them fails (a duplicate
 * credit code): the group is replayed query by query, each with its own
 * statement_timeout guard, and every other request succeeds. Then, with
 * the table locked, every query of a group is cancelled by
 * statement_timeout, replayed ones included (their guard is fresh: the
 * pooler's server connection has no timeout of its own). */
static int transaction_mode_group_with_a_failing_query(void)
{
    IT_CHECK(pgb_start("transaction") == 0);
    char db[512], sdb[600];
    pgb_db_set(db, sizeof db, it_db_name());
    snprintf(sdb, sizeof sdb, "session_db=%s", it_db_conninfo());
    const char *sets[] = {db,
                          "db_pooler=transaction",
                          sdb,
                          "pool_size=1",
                          "statement_timeout_ms=" SLOW_TIMEOUT_MS,
                          NULL};
    setenv("BAOBAO_LOG", "debug", 1); /* event=db_group_replayed */
    it_server *s = it_server_start(sets);
    unsetenv("BAOBAO_LOG");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_serving(c) == 0);
    char cc[19], d[800];
    it_credit_code(7700, cc);
    int64_t eid = it_create_enterprise(c, "组内失败企业", cc, "赤壁镇");
    IT_CHECK(eid > 0);

    /* Gets, a create that fails, submits, gets: one write. */
    it_buf b;
    it_buf_init(&b);
    uint32_t first = g_msgid + 1;
    add_get(&b, eid);
    add_get(&b, eid);
    uint32_t dup = ++g_msgid;
    it_req(&b, dup, "enterprise.create", 3);
    it_kv_str(&b, "name", "组内失败企业二");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "赤壁镇");
    for (int i = 0; i < 2; i++) {
        it_req(&b, ++g_msgid, "status.submit", 4);
        it_kv_int(&b, "enterprise_id", eid);
        it_kv_str(&b, "report_date", i == 0 ? "2024-06-04" : "2024-06-05");
        it_kv_str(&b, "reporter", "王五");
        it_kv_str(&b, "production_status", "正常");
    }
    add_get(&b, eid);
    uint32_t last = g_msgid;
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    for (uint32_t k = first; k <= last; k++) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        bool want_error = m.msgid == dup;
        bool ok = want_error ? m.is_error && strcmp(m.code, "already_exists") == 0 : !m.is_error;
        IT_CHECKF(ok, "msgid %u: %s", m.msgid, it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    IT_CHECKF(it_server_log_has(s, "event=db_group_replayed"),
              "the failing create did not share a sync group (nothing replayed)");
    IT_CHECK(!it_server_log_has(s, "event=db_conn_broken"));

    /* The table locked: three gets in one group, each cancelled. */
    PGconn *locker = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(locker) == CONNECTION_OK);
    PGresult *r = PQexec(locker, "BEGIN; LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE");
    bool locked = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!locked) {
        PQfinish(locker);
        IT_CHECKF(false, "could not lock enterprise");
    }
    it_buf_init(&b);
    uint32_t g[3];
    for (int i = 0; i < 3; i++)
        g[i] = add_get(&b, eid);
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    int got = 0;
    for (int i = 0; i < 3 && sent == 0 && got == 0; i++)
        got = it_expect_error(c, g[i], "unavailable", NULL, SLOW_REPLY_WAIT_MS);
    PQfinish(locker); /* ends the lock whatever happened */
    IT_CHECKF(sent == 0 && got == 0, "a get held on the lock was not cancelled");
    IT_CHECK(get_ok(c, eid) == 0);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    pgb_stop();
    return 0;
}

/* Gets sent in one write by the big-group test: with SQL text, values and
 * per-message overhead, well past PGCONN_GROUP_MAX_BYTES (48 KiB) in one
 * loop turn on one pool connection. */
#define BIG_GROUP_GETS 600

/* Through PgBouncer in transaction mode, one pool connection that may
 * send them all at once: the loop turn's group is closed early (logged
 * event=db_group_split) before libpq would write part of it by itself, and
 * every get is answered, no connection broken. */
static int transaction_mode_big_group_split(void)
{
    IT_CHECK(pgb_start("transaction") == 0);
    char db[512], sdb[600];
    pgb_db_set(db, sizeof db, it_db_name());
    snprintf(sdb, sizeof sdb, "session_db=%s", it_db_conninfo());
    const char *sets[] = {db,          "db_pooler=transaction", sdb, "pool_size=1",
                          "pool_pipeline_depth=1000", "max_in_flight=1000", NULL};
    setenv("BAOBAO_LOG", "debug", 1); /* event=db_group_split */
    it_server *s = it_server_start(sets);
    unsetenv("BAOBAO_LOG");
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_serving(c) == 0);
    char cc[19], d[800];
    it_credit_code(7900, cc);
    int64_t eid = it_create_enterprise(c, "大组测试企业", cc, "赤壁镇");
    IT_CHECK(eid > 0);
    it_buf b;
    it_buf_init(&b);
    for (int i = 0; i < BIG_GROUP_GETS; i++)
        add_get(&b, eid);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    for (int i = 0; i < BIG_GROUP_GETS; i++) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        IT_CHECKF(!m.is_error, "get %d: %s", i, it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    it_close(c);
    IT_CHECK(it_server_log_has(s, "event=db_group_split"));
    IT_CHECK(!it_server_log_has(s, "event=db_conn_broken"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    pgb_stop();
    return 0;
}

/* Retirements the kick test waits for: enough for a retired connection to
 * come back (read-only again) while others wait in their backoff. */
#define KICK_TEST_RETIRES 8
/* The most that wait may take (every 500 ms the nodes' beat is a write). */
#define KICK_TEST_WAIT_MS 30000

/* Connections retired from a read-only server (a standby) keep their own
 * backoff: another one getting through does not cut it short, or every
 * write (here the nodes' beat, every 500 ms) would cause a reconnect. */
static int retired_connections_are_not_kicked(void)
{
    it_server *s =
        it_server_start((const char *const[]){"pool_size=3", "reconnect_min_ms=400", NULL});
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(wait_serving(c) == 0);
    it_close(c);
    int rc = db_read_only(true);
    long long terminated = rc == 0 ? terminate_pool_backends() : -1;
    /* Connections retire, come back (read-only again) and retire again. */
    unsigned retires = 0;
    int64_t deadline = it_now_ms() + KICK_TEST_WAIT_MS;
    while (terminated == 3 && retires < KICK_TEST_RETIRES && it_now_ms() < deadline) {
        it_sleep_ms(100);
        char *log = it_server_log(s);
        retires = 0;
        for (const char *p = log; p != NULL && (p = strstr(p, "event=db_conn_retiring")) != NULL;
             p++)
            retires++;
        free(log);
    }
    bool kicked = log_has_after(s, "event=db_conn_retiring", 1, "event=db_conn_kicked", 0);
    if (db_read_only(false) != 0)
        rc = -1;
    if (it_server_stop(s, IT_STOP_TIMEOUT_MS) != 0)
        rc = -1;
    IT_CHECK(rc == 0);
    IT_CHECKF(terminated == 3, "terminated %lld of the pool's 3 backends", terminated);
    IT_CHECKF(retires >= KICK_TEST_RETIRES, "only %u retirements", retires);
    IT_CHECKF(!kicked, "a retired connection's backoff was cut short (event=db_conn_kicked)");
    return 0;
}

static const it_test tests[] = {
    {"transaction_mode_serves_with_unnamed_statements",
     transaction_mode_serves_with_unnamed_statements},
    {"transaction_mode_without_session_db_refused_at_start",
     transaction_mode_without_session_db_refused_at_start},
    {"session_mode_serves", session_mode_serves},
    {"statement_timeout_holds_in_every_mode", statement_timeout_holds_in_every_mode},
    {"migrations_at_once_through_transaction_pooling_apply_each_once",
     migrations_at_once_through_transaction_pooling_apply_each_once},
    {"multi_host_conninfo_with_first_hosts_down_connects",
     multi_host_conninfo_with_first_hosts_down_connects},
    {"multi_host_read_write_skips_a_read_only_first_host",
     multi_host_read_write_skips_a_read_only_first_host},
    {"read_only_server_write_unavailable_and_connection_retired",
     read_only_server_write_unavailable_and_connection_retired},
    {"session_mode_restart_reuses_server_connections",
     session_mode_restart_reuses_server_connections},
    {"multi_host_conninfo_with_a_silent_first_host_connects",
     multi_host_conninfo_with_a_silent_first_host_connects},
    {"transaction_mode_group_with_a_failing_query", transaction_mode_group_with_a_failing_query},
    {"retired_connections_are_not_kicked", retired_connections_are_not_kicked},
    {"transaction_mode_big_group_split", transaction_mode_big_group_split},
};

int main(int argc, char **argv)
{
    atexit(pgb_stop);
    return it_main(argc, argv, "pooler", tests, sizeof tests / sizeof tests[0], NULL);
}
