/*
 * test_replica.c: reads from a streaming replica (read_db, export_db;
 * server/engine/replica.c) against a real one: pg_basebackup -R -X stream
 * of the test cluster, a second postmaster on its own socket folder and
 * port (harness_replica.c), made once in setup and stopped at exit.
 *
 * Which server answered is proven by what it can see: the replica's replay
 * is paused (pg_wal_replay_pause) and a row is inserted on the primary
 * directly; a read that misses it came from the replica, one that sees it
 * from the primary. /metrics counts where reads went.
 *
 * The cases: a read method is answered by the replica while a user's own
 * write is read back from the primary; a replica further behind than
 * read_max_lag_ms is not used; the replica methods write nothing; an
 * export with export_db reads the replica; a read the replica drops is
 * answered by the primary; a shutdown with a read held on the replica
 * ends at the deadline; `db` pointed at the standby: writes (a login)
 * `unavailable`, /ready 503; the replica stopped: reads are still
 * answered (by the primary), none fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "harness_replica.h"

/* A state the server reaches by itself (a lag measured every second, a
 * read pool reconnecting): the longest the test waits for it. */
#define STATE_WITHIN_MS 30000

static itr_replica g_rep;
static uint32_t g_msgid = 100;
static unsigned long g_code = 7100;

static void unlock_enterprise(void);
/* The export test's export_dir ("" none): removed at exit too. */
static char g_export_dir[128];

static void remove_export_dir(void)
{
    if (g_export_dir[0] == '\0')
        return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", g_export_dir);
    if (system(cmd) != 0)
        it_note("could not remove %s", g_export_dir);
    g_export_dir[0] = '\0';
}

static void stop_replica(void)
{
    unlock_enterprise();
    remove_export_dir();
    itr_stop(&g_rep);
}

static void on_term(int sig)
{
    (void)sig;
    stop_replica();
    _exit(1);
}

static int setup(void)
{
    if (itr_start(&g_rep) != 0)
        return -1;
    atexit(stop_replica);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    return 0;
}

/* A server reading from the replica, with health_listen for /metrics. */
static it_server *start_reading(const char *max_lag_ms, int *health)
{
    char read_db[600], lag[64];
    snprintf(read_db, sizeof read_db, "read_db=%s", g_rep.conninfo);
    snprintf(lag, sizeof lag, "read_max_lag_ms=%s", max_lag_ms);
    const char *sets[] = {read_db, lag, "health_listen=127.0.0.1:0", NULL};
    it_server *s = it_server_start(sets);
    *health = s != NULL ? itr_health_port(s) : 0;
    return s;
}

static long long reads_to(int health, const char *to)
{
    char name[96];
    snprintf(name, sizeof name, "baobao_replica_reads_total{to=\"%s\"}", to);
    return itr_metric(health, name);
}

/* An enterprise inserted on the primary directly (not through baobaod). */
static int64_t insert_on_primary(const char *name)
{
    char cc[19];
    it_credit_code(++g_code, cc);
    const char *p[] = {name, cc};
    return it_pg_int("INSERT INTO enterprise (name, credit_code, township_id)"
                     " VALUES ($1, $2, 4) RETURNING id",
                     2, p);
}

/* enterprise.list with name_contains: 1 when the enterprise id is on the
 * page, 0 when not, -1 on error (printed). */
static int lists(it_conn *c, const char *name_contains, int64_t id)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "enterprise.list", 2);
    it_kv_str(&b, "name_contains", name_contains);
    it_kv_int(&b, "limit", 100);
    it_msg m;
    int rc = it_buf_ok(c, &b, msgid, &m);
    it_buf_free(&b);
    if (rc != 0)
        return -1;
    const msgpack_object *items = it_map_get(m.result, "items");
    int found = 0;
    for (uint32_t i = 0; items != NULL && i < items->via.array.size; i++) {
        int64_t v;
        if (it_get_int(&items->via.array.ptr[i], "id", &v) && v == id)
            found = 1;
    }
    it_msg_free(&m);
    return found;
}

/* The test's own connection holding an ACCESS EXCLUSIVE lock on
 * enterprise (replayed on the standby too): reads of it wait there. NULL
 * when none. A failed check returns early, so every test lets go first. */
static PGconn *g_locker;

static void unlock_enterprise(void)
{
    if (g_locker == NULL)
        return;
    PQclear(PQexec(g_locker, "ROLLBACK"));
    PQfinish(g_locker);
    g_locker = NULL;
}

/* Takes the lock and waits until the replica has replayed it. 0 or -1. */
static int lock_enterprise(void)
{
    unlock_enterprise();
    g_locker = PQconnectdb(it_db_conninfo());
    if (PQstatus(g_locker) != CONNECTION_OK)
        return -1;
    PGresult *r = PQexec(g_locker, "BEGIN; LOCK TABLE enterprise IN ACCESS EXCLUSIVE MODE;"
                                   " SELECT txid_current()");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (ok && itr_int(&g_rep, "SELECT count(*) FROM pg_locks"
                                 " WHERE relation = 'enterprise'::regclass"
                                 " AND mode = 'AccessExclusiveLock'") < 1) {
        if (it_now_ms() > end)
            return -1;
        it_sleep_ms(50);
    }
    return ok ? 0 : -1;
}

/* Waits until a read of the read pool waits for the lock on the replica;
 * with end_it, ends its backend. The backends that did (or waited). */
static long long held_on_replica(bool end_it)
{
    const char *sql = end_it ? "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                               " WHERE application_name = 'baobaod' AND wait_event_type = 'Lock'"
                             : "SELECT count(*) FROM pg_stat_activity"
                               " WHERE application_name = 'baobaod' AND wait_event_type = 'Lock'";
    long long n = 0;
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (n < 1 && it_now_ms() < end) {
        it_sleep_ms(50);
        n = itr_int(&g_rep, sql);
    }
    return n;
}

/* Lists until a read of c went to the replica (its counter moved), so c's
 * login (a method that may write) is behind the replica's horizon. */
static bool reads_reach_replica(it_conn *c, int health)
{
    unlock_enterprise(); /* a test that failed holding it */
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (it_now_ms() < end) {
        long long before = reads_to(health, "replica");
        if (lists(c, "no such name", 0) < 0)
            return false;
        if (reads_to(health, "replica") > before)
            return true;
        it_sleep_ms(200);
    }
    return false;
}

/* A commit on the primary that the replica has replayed: the replica's
 * last replayed commit is then later than everything before this call. */
static int commit_and_catch_up(void)
{
    /* A test that failed while replay was paused left it so. */
    if (itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") != 0)
        return -1;
    if (it_pg_exec("SELECT txid_current()", 0, NULL) != 0)
        return -1;
    return itr_catch_up(&g_rep, STATE_WITHIN_MS);
}

static int a_read_is_answered_by_the_replica_and_a_users_own_write_by_the_primary(void)
{
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *writer = it_connect(s->port);
    IT_CHECK(reader != NULL && writer != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);

    int64_t x = insert_on_primary("副本测试甲企业");
    IT_CHECK(x > 0);
    long long on_replica = reads_to(health, "replica");
    /* The replica has not replayed x: a read from it misses x. Several
     * reads, as a lag measurement runs meanwhile. */
    for (int i = 0; i < 5; i++) {
        IT_CHECKF(lists(reader, "副本测试甲", x) == 0, "read %d saw a row the replica lacks", i);
        it_sleep_ms(300);
    }
    IT_CHECK(reads_to(health, "replica") >= on_replica + 5);

    /* The writer's own write is read back, from the primary (which has x
     * too); the reader still reads the replica. */
    char cc[19];
    it_credit_code(++g_code, cc);
    int64_t y = it_create_enterprise(writer, "副本测试乙企业", cc, "赵李桥镇");
    IT_CHECK(y > 0);
    IT_CHECKF(lists(writer, "副本测试乙", y) == 1, "the writer did not read its own write");
    IT_CHECKF(lists(writer, "副本测试甲", x) == 1, "the writer's read did not go to the primary");
    IT_CHECKF(lists(reader, "副本测试乙", y) == 0, "the reader saw y on a paused replica");

    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    int seen = 0;
    while (seen != 1 && it_now_ms() < end) {
        seen = lists(reader, "副本测试甲", x);
        if (seen != 1)
            it_sleep_ms(100);
    }
    IT_CHECKF(seen == 1, "x not seen after the replica resumed");
    it_close(reader);
    it_close(writer);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int a_replica_further_behind_than_read_max_lag_ms_is_not_used(void)
{
    int health;
    it_server *s = start_reading("1500", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);
    int64_t z = insert_on_primary("副本测试丙企业");
    IT_CHECK(z > 0);
    /* The lag grows while replay is paused; once over 1.5 s the server
     * says so and reads go to the primary, which has z. */
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (itr_metric(health, "baobao_replica_in_use") != 0 && it_now_ms() < end)
        it_sleep_ms(200);
    IT_CHECKF(itr_metric(health, "baobao_replica_in_use") == 0, "replica still in use");
    IT_CHECK(itr_metric(health, "baobao_replica_lag_ms") > 1500);
    long long on_primary = reads_to(health, "primary");
    IT_CHECKF(lists(reader, "副本测试丙", z) == 1, "a read went to the lagging replica");
    IT_CHECK(reads_to(health, "primary") == on_primary + 1);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    /* Caught up again: back on the replica. */
    IT_CHECKF(reads_reach_replica(reader, health), "reads did not come back to the replica");
    IT_CHECK(it_server_log_has(s, "event=replica_not_used"));
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Every method declared BB_M_REPLICA that takes no required argument runs
 * on the standby: none writes (a write there is refused with 25006). */
static int the_replica_methods_write_nothing(void)
{
    static const char *const methods[] = {
        "enterprise.list", "notice.list", "notice.stats", "unit.list", "official.list",
        "assignment.list", "coverage.gaps", "overdue.milestones", "overdue.problems",
        "due.milestones", "due.problems", "problem.list", "trouble.list", "project.list",
        "ref.list", "light.changes", "todo.mine", "coverage.visits",
        "user.list", "audit.list", "audit.logins",
    };
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *sup = it_connect(s->port);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(sup != NULL && adm != NULL);
    IT_CHECK(reads_reach_replica(sup, health) && reads_reach_replica(adm, health));
    long long before = reads_to(health, "replica");
    int n = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        /* audit.logins is the admins'; the rest the supervisor's */
        it_conn *c = strcmp(methods[i], "audit.logins") == 0 || strcmp(methods[i], "user.list") == 0
                         ? adm
                         : sup;
        it_buf b;
        it_buf_init(&b);
        uint32_t msgid = ++g_msgid;
        it_req(&b, msgid, methods[i], 0);
        it_msg m;
        int rc = it_buf_ok(c, &b, msgid, &m);
        it_buf_free(&b);
        IT_CHECKF(rc == 0, "%s on the replica", methods[i]);
        it_msg_free(&m);
        n++;
    }
    IT_CHECKF(reads_to(health, "replica") >= before + n, "%lld of %d reads on the replica",
              reads_to(health, "replica") - before, n);
    IT_CHECK(reads_to(health, "fallback") == 0);
    it_close(sup);
    it_close(adm);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static int an_export_with_export_db_reads_the_replica(void)
{
    char set_dir[160], export_db[600];
    const char *dir = g_export_dir;
    snprintf(g_export_dir, sizeof g_export_dir, "/tmp/it-replica-export-%d", (int)getpid());
    IT_CHECK(mkdir(dir, 0755) == 0);
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    snprintf(export_db, sizeof export_db, "export_db=%s", g_rep.conninfo);
    const char *sets[] = {set_dir, export_db, "export_time=", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);
    int64_t w = insert_on_primary("副本导出丁企业");
    IT_CHECK(w > 0);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "export.run", 1);
    it_kv_bool(&b, "wait", true);
    it_msg m;
    int rc = it_call(c, b.sb.data, b.sb.size, msgid, 120000, &m);
    it_buf_free(&b);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    IT_CHECK(rc == IT_RECV_MSG);
    char folder[64] = "";
    IT_CHECKF(!m.is_error && it_get_str_eq(m.result, "status", "ok") &&
                  it_get_str(m.result, "folder", folder, sizeof folder),
              "export.run: %s %s", m.code, m.message);
    it_msg_free(&m);
    char csv[512];
    snprintf(csv, sizeof csv, "%s/%s/enterprises.csv", dir, folder);
    IT_CHECKF(file_has(csv, "统一社会信用代码"), "no %s", csv);
    /* Read from the paused replica: the row inserted after the pause is
     * not in the file; the run's row is on the primary. */
    IT_CHECKF(!file_has(csv, "副本导出丁企业"), "the export read the primary");
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE status = 'ok'", 0, NULL) >= 1);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    remove_export_dir();
    return 0;
}

/* A read the replica drops mid-query (its backend terminated: SQLSTATE
 * 57P01) is sent again to the primary and answered; the client never sees
 * the replica's failure. The read is held on the replica by a lock taken
 * on the primary (an ACCESS EXCLUSIVE lock is replayed on the standby),
 * which holds it on the primary too until the test lets go. */
static int a_read_the_replica_drops_is_answered_by_the_primary(void)
{
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(lock_enterprise() == 0);
    long long fallbacks = reads_to(health, "fallback");
    long long on_replica = reads_to(health, "replica");
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "enterprise.list", 0);
    IT_CHECK(it_send(reader, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    /* Its backend on the replica waits for the lock: ended there. */
    long long ended = held_on_replica(true);
    IT_CHECK(reads_to(health, "replica") == on_replica + 1);
    IT_CHECKF(ended == 1, "no read waiting on the replica");
    /* Sent again to the primary, where it waits for the same lock. */
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (reads_to(health, "fallback") < fallbacks + 1 && it_now_ms() < end)
        it_sleep_ms(50);
    IT_CHECK(reads_to(health, "fallback") == fallbacks + 1);
    unlock_enterprise();
    it_msg m;
    IT_CHECK(it_recv(reader, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(m.msgid == msgid && !m.is_error, "the read: %s %s", m.code, m.message);
    it_msg_free(&m);
    IT_CHECK(it_server_log_has(s, "event=replica_read_retried"));
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Shutdown with a read held on the replica: at shutdown_deadline_ms the
 * read pool is closed too (replica_abort) and baobaod exits 0 (no leak
 * under ASan, no handle left open). */
static int shutdown_with_a_read_held_on_the_replica_exits_0(void)
{
    char read_db[600];
    snprintf(read_db, sizeof read_db, "read_db=%s", g_rep.conninfo);
    /* No statement timeout: only the deadline can end the held read. */
    const char *sets[] = {read_db, "read_max_lag_ms=600000", "health_listen=127.0.0.1:0",
                          "shutdown_deadline_ms=1000", "statement_timeout_ms=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    int health = itr_health_port(s);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL && health > 0);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(lock_enterprise() == 0);
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "enterprise.list", 0);
    IT_CHECK(it_send(reader, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    long long waiting = held_on_replica(false);
    IT_CHECKF(waiting == 1, "no read waiting on the replica");
    it_server_signal(s, SIGTERM);
    /* At the deadline the connection is closed (PROTOCOL.md, "Shutdown"):
     * the held read ends with the connection, not with an answer. */
    IT_CHECK(it_wait_eof(reader, IT_REPLY_TIMEOUT_MS));
    int st = it_server_wait(s, IT_STOP_TIMEOUT_MS);
    unlock_enterprise();
    IT_CHECKF(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "wait status %d", st);
    it_close(reader);
    return 0;
}

static int db_on_the_standby_refuses_writes_and_is_not_ready(void)
{
    /* Migrations and the exporter's lock on the primary (session_db), the
     * pool on the standby by mistake. */
    char db[600], session_db[600];
    snprintf(db, sizeof db, "db=%s", g_rep.conninfo);
    snprintf(session_db, sizeof session_db, "session_db=%s", it_db_conninfo());
    const char *sets[] = {db, session_db, "health_listen=127.0.0.1:0", "export_time=", NULL};
    /* Not it_server_start: it waits for a database that takes writes. */
    it_server *s = it_server_start_nowait(sets);
    IT_CHECK(s != NULL);
    int health = 0;
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while ((health = itr_health_port(s)) == 0 && it_now_ms() < end)
        it_sleep_ms(50);
    IT_CHECK(health > 0);
    /* The pool reaches the standby, whose refusals of writes say so. */
    while (!it_server_log_has(s, "sqlstate=25006") && it_now_ms() < end)
        it_sleep_ms(100);
    IT_CHECK(it_server_log_has(s, "sqlstate=25006"));
    IT_CHECK(itr_http_status(health, "/ready") == 503);
    /* A login is a write (its login_event row): refused as unavailable,
     * and nothing of it reaches the primary. */
    long long events = it_pg_int("SELECT count(*) FROM login_event", 0, NULL);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(it_login(c, IT_USER_SUPER, IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "unavailable") == 0, "login on a standby: %s %s",
              m.code, m.message);
    it_msg_free(&m);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event", 0, NULL) == events);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Last: stops the replica. */
static int a_stopped_replica_leaves_every_read_answered(void)
{
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    int64_t v = insert_on_primary("副本停止戊企业");
    IT_CHECK(v > 0);
    IT_CHECK(itr_halt(&g_rep) == 0);
    /* Straight after the stop the read pool still thinks it is up: those
     * reads fail on the replica and are sent again to the primary. */
    for (int i = 0; i < 20; i++) {
        IT_CHECKF(lists(reader, "副本停止戊", v) == 1, "read %d after the replica stopped", i);
        it_sleep_ms(50);
    }
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (itr_metric(health, "baobao_replica_in_use") != 0 && it_now_ms() < end)
        it_sleep_ms(200);
    IT_CHECK(itr_metric(health, "baobao_replica_in_use") == 0);
    IT_CHECK(lists(reader, "副本停止戊", v) == 1);
    it_note("reads: replica %lld, primary %lld, fallback %lld", reads_to(health, "replica"),
            reads_to(health, "primary"), reads_to(health, "fallback"));
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static const it_test tests[] = {
    {"a_read_is_answered_by_the_replica_and_a_users_own_write_by_the_primary",
     a_read_is_answered_by_the_replica_and_a_users_own_write_by_the_primary},
    {"a_replica_further_behind_than_read_max_lag_ms_is_not_used",
     a_replica_further_behind_than_read_max_lag_ms_is_not_used},
    {"the_replica_methods_write_nothing", the_replica_methods_write_nothing},
    {"an_export_with_export_db_reads_the_replica", an_export_with_export_db_reads_the_replica},
    {"a_read_the_replica_drops_is_answered_by_the_primary",
     a_read_the_replica_drops_is_answered_by_the_primary},
    {"shutdown_with_a_read_held_on_the_replica_exits_0",
     shutdown_with_a_read_held_on_the_replica_exits_0},
    {"db_on_the_standby_refuses_writes_and_is_not_ready",
     db_on_the_standby_refuses_writes_and_is_not_ready},
    {"a_stopped_replica_leaves_every_read_answered", a_stopped_replica_leaves_every_read_answered},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "replica", tests, sizeof tests / sizeof tests[0], setup);
}
