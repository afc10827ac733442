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
 * write (a login included) is read back from the primary, and methods that
 * write nothing (server.info, ...) do not count as writes; a replica
 * further behind than read_max_lag_ms is not used (measured every quarter
 * of it); every replica method writes nothing (run on the standby); an
 * export with export_db waits for the replica to replay what the primary
 * had, fails when it does not, and reads the replica; an export cancelled
 * by a recovery conflict says what to set; a township taken from a user is
 * not read from a replica that lags; after the LISTEN connection came
 * back no read goes to a replica that has not replayed past that; a read
 * the replica drops is answered by the primary (its retry logged with the
 * request); a shutdown with a read held on the replica ends at the
 * deadline; `db` pointed at the standby: writes (a login) `unavailable`,
 * /ready 503; the replica stopped: reads are still answered (by the
 * primary), none fails; the replica promoted: not used, while read_db
 * naming the primary itself is.
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

/* Async-signal-safe: stops the replica and removes the export folder
 * through fork/execve (itr_kill); the lock's connection ends with us. */
static void on_term(int sig)
{
    (void)sig;
    itr_kill(&g_rep, g_export_dir);
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
    /* Methods that write nothing are not the caller's writes: the CLI's
     * server.info before a list leaves the list on the replica. */
    static const char *const no_writes[] = {"server.info", "server.api", "session.whoami",
                                            "export.list"};
    for (size_t i = 0; i < sizeof no_writes / sizeof no_writes[0]; i++) {
        it_buf b;
        it_buf_init(&b);
        uint32_t msgid = ++g_msgid;
        it_req(&b, msgid, no_writes[i], 0);
        it_msg m;
        int rc = it_buf_ok(reader, &b, msgid, &m);
        it_buf_free(&b);
        IT_CHECKF(rc == 0, "%s", no_writes[i]);
        it_msg_free(&m);
        IT_CHECKF(lists(reader, "副本测试甲", x) == 0, "a read after %s saw x", no_writes[i]);
    }
    /* A login is its user's write (its login_event row): that user's
     * reads then go to the primary, which has x. */
    it_conn *fresh = it_connect_as(s->port, IT_USER_SUPER, IT_PASSWORD);
    IT_CHECK(fresh != NULL);
    IT_CHECKF(lists(fresh, "副本测试甲", x) == 1, "a read after a login went to the replica");
    it_close(fresh);

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
    /* A quarter of read_max_lag_ms: a caught-up replica does not flap. */
    IT_CHECK(it_server_log_has(s, "measured_every_ms=375"));
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

/* Every method declared BB_M_REPLICA runs on the standby (those with
 * required arguments on fixture rows): none writes (a write there is
 * refused with 25006, which is not retried on the primary). */
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
    /* The ones with required arguments, on fixture rows (id 1 when the
     * table is empty: not_found, after the statement ran there all the
     * same). */
    static const struct {
        const char *method, *arg, *table;
    } by_id[] = {
        {"unit.get", "id", "unit"},
        {"unit.portfolio", "id", "unit"},
        {"official.get", "id", "official"},
        {"official.portfolio", "id", "official"},
        {"assignment.get", "id", "assignment"},
        {"enterprise.get", "id", "enterprise"},
        {"status.list", "enterprise_id", "enterprise"},
        {"status.get", "id", "status_report"},
        {"user.get", "id", "app_user"},
        {"audit.get", "id", "audit_log"},
        {"audit.as_of", "id", "enterprise"},
        {"project.get", "id", "project"},
        {"project.history", "id", "project"},
        {"problem.get", "id", "problem"},
        {"light.history", "problem_id", "problem"},
        {"trouble.get", "enterprise_id", "enterprise_trouble"},
        {"notice.get", "id", "notice"},
    };
    char at[64] = "";
    {
        PGresult *r = PQexec(it_pg(), "SELECT to_json(now()) #>> '{}'");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            snprintf(at, sizeof at, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    IT_CHECK(at[0] != '\0');
    for (size_t i = 0; i < sizeof by_id / sizeof by_id[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT coalesce(min(%s), 1) FROM %s",
                 strcmp(by_id[i].table, "enterprise_trouble") == 0 ? "enterprise_id" : "id",
                 by_id[i].table);
        long long id = it_pg_int(sql, 0, NULL);
        IT_CHECKF(id > 0, "%s", sql);
        bool audit_as_of = strcmp(by_id[i].method, "audit.as_of") == 0;
        it_conn *c = strcmp(by_id[i].method, "user.get") == 0 ? adm : sup;
        it_buf b;
        it_buf_init(&b);
        uint32_t msgid = ++g_msgid;
        it_req(&b, msgid, by_id[i].method, audit_as_of ? 3 : 1);
        it_kv_int(&b, by_id[i].arg, id);
        if (audit_as_of) {
            it_kv_str(&b, "entity", "enterprise");
            it_kv_str(&b, "at", at);
        }
        it_msg m;
        int rc = it_call(c, b.sb.data, b.sb.size, msgid, IT_REPLY_TIMEOUT_MS, &m);
        it_buf_free(&b);
        IT_CHECK(rc == IT_RECV_MSG);
        bool fine = !m.is_error || strcmp(m.code, "not_found") == 0;
        IT_CHECKF(fine, "%s(%s=%lld) on the replica: %s %s", by_id[i].method, by_id[i].arg, id,
                  m.code, m.message);
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

/* Scans of enterprise on the replica (its own statistics): moved by a
 * read the replica answered. -1 on error. */
static long long replica_enterprise_scans(void)
{
    return itr_int(&g_rep, "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0)"
                           " FROM pg_stat_user_tables WHERE relname = 'enterprise'");
}

/* export.run wait=true on c; the run's status and error copied out. */
static int export_run_wait(it_conn *c, char *status, size_t slen, char *error, size_t elen,
                           char *folder, size_t flen)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "export.run", 1);
    it_kv_bool(&b, "wait", true);
    it_msg m;
    int rc = it_call(c, b.sb.data, b.sb.size, msgid, 180000, &m);
    it_buf_free(&b);
    if (rc != IT_RECV_MSG)
        return -1;
    if (m.is_error) {
        it_note("export.run: %s %s", m.code, m.message);
        it_msg_free(&m);
        return -1;
    }
    status[0] = error[0] = folder[0] = '\0';
    (void)it_get_str(m.result, "status", status, slen);
    (void)it_get_str(m.result, "error", error, elen);
    (void)it_get_str(m.result, "folder", folder, flen);
    it_msg_free(&m);
    return 0;
}

/* An export with export_db waits until the replica has replayed what the
 * primary had when the run was claimed: with replay paused it fails after
 * EXPORT_REPLICA_WAIT_MS (60 s) saying why, rather than give old data a
 * fresh date; replaying, it reads the replica (its statistics move) and
 * has every row committed before the run. */
static int an_export_with_export_db_reads_the_replica_once_it_caught_up(void)
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
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);
    int64_t w = insert_on_primary("副本导出丁企业");
    IT_CHECK(w > 0);
    char status[32], error[512], folder[64];
    int rc = export_run_wait(c, status, sizeof status, error, sizeof error, folder,
                             sizeof folder);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    IT_CHECK(rc == 0);
    IT_CHECKF(strcmp(status, "failed") == 0 && strstr(error, "has not replayed") != NULL,
              "an export on a paused replica: %s %s", status, error);

    long long scans = replica_enterprise_scans();
    IT_CHECK(scans >= 0);
    IT_CHECK(export_run_wait(c, status, sizeof status, error, sizeof error, folder,
                             sizeof folder) == 0);
    IT_CHECKF(strcmp(status, "ok") == 0, "export.run: %s %s", status, error);
    char csv[512];
    snprintf(csv, sizeof csv, "%s/%s/enterprises.csv", dir, folder);
    IT_CHECKF(file_has(csv, "统一社会信用代码"), "no %s", csv);
    IT_CHECKF(file_has(csv, "副本导出丁企业"), "the export missed a row committed before it");
    /* The replica's statistics are flushed when the export's connection
     * ends: they show it read there. */
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (replica_enterprise_scans() <= scans && it_now_ms() < end)
        it_sleep_ms(200);
    IT_CHECKF(replica_enterprise_scans() > scans, "the export did not read the replica");
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    remove_export_dir();
    return 0;
}

/* While its LISTEN connection was lost a process may have missed changes
 * of rights: once hearing is back, no read goes to the replica until it
 * has replayed past that moment (replica_all_changed). A user with no
 * write of their own then reads a row the paused replica lacks. */
static int reads_after_hearing_is_back_wait_for_the_replica(void)
{
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);
    int64_t x = insert_on_primary("副本重听辛企业");
    IT_CHECK(x > 0);
    IT_CHECKF(lists(reader, "副本重听辛", x) == 0, "the read did not go to the replica");
    IT_CHECK(it_pg_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = 'baobaod-listen'"
                        " AND datname = current_database()",
                        0, NULL) == 0);
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (!it_server_log_has(s, "event=listen_lost") && it_now_ms() < end)
        it_sleep_ms(50);
    IT_CHECK(it_server_log_has(s, "event=listen_lost"));
    /* Refused while not hearing; then answered. */
    int seen = -1;
    while (seen < 0 && it_now_ms() < end) {
        seen = lists(reader, "副本重听辛", x);
        if (seen < 0)
            it_sleep_ms(100);
    }
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    IT_CHECKF(seen == 1, "after hearing came back a read went to the paused replica (%d)", seen);
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
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
    /* The retry's log line names the request it was for. */
    char *log = it_server_log(s);
    const char *line = log != NULL ? strstr(log, "event=replica_read_retried") : NULL;
    const char *eol = line != NULL ? strchr(line, '\n') : NULL;
    char want[32];
    snprintf(want, sizeof want, " req=%u", msgid);
    const char *at = line != NULL ? strstr(line, want) : NULL;
    bool named = at != NULL && (eol == NULL || at < eol);
    free(log);
    IT_CHECKF(named, "the replica_read_retried line does not name req=%u", msgid);
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

/* A session on the primary holding table in ACCESS EXCLUSIVE mode, once
 * the replica has replayed the lock; NULL on failure. */
static PGconn *lock_replayed(const char *table)
{
    PGconn *c = PQconnectdb(it_db_conninfo());
    char sql[160];
    snprintf(sql, sizeof sql, "BEGIN; LOCK TABLE %s IN ACCESS EXCLUSIVE MODE; SELECT txid_current()",
             table);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_locks WHERE relation = '%s'::regclass"
                              " AND mode = 'AccessExclusiveLock'", table);
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (ok && itr_int(&g_rep, sql) < 1 && it_now_ms() < end)
        it_sleep_ms(50);
    if (!ok || itr_int(&g_rep, sql) < 1) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

/* With the stock settings (no hot_standby_feedback; here a
 * max_standby_streaming_delay of 0 to make it immediate) the standby
 * cancels an export's snapshot that holds what replay needs (SQLSTATE
 * 40001): the run fails saying what to set. The export is held in its
 * snapshot by a lock on audit_log (read last), then replay needs
 * status_report (read first). */
static int an_export_cancelled_by_a_recovery_conflict_says_why(void)
{
    IT_CHECK(itr_exec(&g_rep, "ALTER SYSTEM SET hot_standby_feedback = off") == 0);
    IT_CHECK(itr_exec(&g_rep, "ALTER SYSTEM SET max_standby_streaming_delay = 0") == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_reload_conf()") == 0);
    char set_dir[160], export_db[600];
    const char *dir = g_export_dir;
    snprintf(g_export_dir, sizeof g_export_dir, "/tmp/it-replica-export-%d", (int)getpid());
    IT_CHECK(mkdir(dir, 0755) == 0);
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    snprintf(export_db, sizeof export_db, "export_db=%s", g_rep.conninfo);
    const char *sets[] = {set_dir, export_db, "export_time=", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    PGconn *hold = lock_replayed("audit_log");
    IT_CHECK(hold != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "export.run", 1);
    it_kv_bool(&b, "wait", true);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    long long waiting = 0;
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (waiting < 1 && it_now_ms() < end) {
        it_sleep_ms(50);
        waiting = itr_int(&g_rep, "SELECT count(*) FROM pg_stat_activity WHERE application_name"
                                  " = 'baobaod-export' AND wait_event_type = 'Lock'");
    }
    PGconn *conflict = waiting == 1 ? lock_replayed("status_report") : NULL;
    it_msg m;
    int rc = waiting == 1 ? it_recv(c, 120000, &m) : -1;
    PQclear(PQexec(hold, "ROLLBACK"));
    PQfinish(hold);
    if (conflict != NULL) {
        PQclear(PQexec(conflict, "ROLLBACK"));
        PQfinish(conflict);
    }
    IT_CHECK(itr_exec(&g_rep, "ALTER SYSTEM RESET hot_standby_feedback") == 0);
    IT_CHECK(itr_exec(&g_rep, "ALTER SYSTEM RESET max_standby_streaming_delay") == 0);
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_reload_conf()") == 0);
    IT_CHECKF(waiting == 1, "the export did not wait in its snapshot");
    IT_CHECK(conflict != NULL);
    IT_CHECK(rc == IT_RECV_MSG);
    char status[32] = "", error[512] = "";
    bool got = !m.is_error && it_get_str(m.result, "status", status, sizeof status) &&
               it_get_str(m.result, "error", error, sizeof error);
    it_msg_free(&m);
    IT_CHECKF(got && strcmp(status, "failed") == 0 &&
                  strstr(error, "conflict with recovery") != NULL &&
                  strstr(error, "hot_standby_feedback") != NULL,
              "the export: %s %s", status, error);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    remove_export_dir();
    return 0;
}

/* it_staff's townships set by the admin (user.update, at its current
 * version). 0 or -1. */
static int set_staff_townships(it_conn *adm, const char *const *names, size_t n)
{
    const char *p[] = {IT_USER_STAFF};
    long long version = it_pg_int("SELECT version FROM app_user WHERE login = $1", 1, p);
    if (version < 1)
        return -1;
    it_buf b;
    it_buf_init(&b);
    uint32_t msgid = ++g_msgid;
    it_req(&b, msgid, "user.update", 3);
    it_kv_int(&b, "id", it_user_id(IT_USER_STAFF));
    it_kv_int(&b, "version", version);
    it_kv_strs(&b, "townships", names, n);
    it_msg m;
    int rc = it_buf_ok(adm, &b, msgid, &m);
    it_buf_free(&b);
    if (rc == 0)
        it_msg_free(&m);
    return rc;
}

/* A township taken from a staff user stops their reads of it at once,
 * though the replica (where their scope is read, in SQL) has not replayed
 * the change: their reads go to the primary until it has. */
static int a_township_taken_from_a_user_is_not_read_from_a_lagging_replica(void)
{
    static const char *const both[] = {"赵李桥镇", "高新技术产业园区"};
    static const char *const one[] = {"高新技术产业园区"};
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(adm != NULL && staff != NULL);
    char cc[19];
    it_credit_code(++g_code, cc);
    const char *p[] = {"副本乡镇己企业", cc, "赵李桥镇"};
    int64_t x = it_pg_int("INSERT INTO enterprise (name, credit_code, township_id)"
                          " SELECT $1, $2, id FROM township WHERE name = $3 RETURNING id",
                          3, p);
    IT_CHECK(x > 0);
    IT_CHECK(commit_and_catch_up() == 0);
    IT_CHECKF(reads_reach_replica(staff, health), "no read went to the replica");
    IT_CHECKF(lists(staff, "副本乡镇己", x) == 1, "the staff user does not see x");
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);

    int rc = set_staff_townships(adm, one, 1);
    it_close(staff);
    staff = rc == 0 ? it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD) : NULL;
    int seen = staff != NULL ? lists(staff, "副本乡镇己", x) : -1;
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_resume()") == 0);
    IT_CHECK(rc == 0 && staff != NULL);
    IT_CHECKF(seen == 0, "a township taken away was still read (%d)", seen);

    IT_CHECK(set_staff_townships(adm, both, 2) == 0);
    it_close(staff);
    it_close(adm);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Second last: stops the replica. */
static int a_stopped_replica_leaves_every_read_answered(void)
{
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    /* v is never on the replica: every read that sees it came from the
     * primary. */
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_wal_replay_pause()") == 0);
    int64_t v = insert_on_primary("副本停止戊企业");
    IT_CHECK(v > 0);
    long long away = reads_to(health, "primary") + reads_to(health, "fallback");
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
    IT_CHECK(reads_to(health, "primary") + reads_to(health, "fallback") >= away + 21);
    it_note("reads: replica %lld, primary %lld, fallback %lld", reads_to(health, "replica"),
            reads_to(health, "primary"), reads_to(health, "fallback"));
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Last, after the stop: the replica started again and promoted. Out of
 * recovery, a read_db that is not the server db reaches is not used (it
 * would count as caught up forever while the primary moves on); read_db
 * naming the primary itself is. */
static int a_promoted_replica_is_not_used_the_primary_as_read_db_is(void)
{
    IT_CHECK(itr_restart(&g_rep) == 0);
    IT_CHECK(itr_catch_up(&g_rep, STATE_WITHIN_MS) == 0);
    int health;
    it_server *s = start_reading("600000", &health);
    IT_CHECK(s != NULL && health > 0);
    it_conn *reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL);
    IT_CHECKF(reads_reach_replica(reader, health), "no read went to the replica");
    IT_CHECK(itr_exec(&g_rep, "SELECT pg_promote()") == 0);
    int64_t v = insert_on_primary("副本提升庚企业");
    IT_CHECK(v > 0);
    int64_t end = it_now_ms() + STATE_WITHIN_MS;
    while (!it_server_log_has(s, "is not the server db reaches") && it_now_ms() < end)
        it_sleep_ms(200);
    IT_CHECKF(it_server_log_has(s, "is not the server db reaches"), "no replica_not_used line");
    IT_CHECK(itr_metric(health, "baobao_replica_in_use") == 0);
    IT_CHECKF(lists(reader, "副本提升庚", v) == 1, "a read went to the promoted replica");
    it_close(reader);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    /* read_db = the primary: out of recovery, but the same server. */
    char read_db[600];
    snprintf(read_db, sizeof read_db, "read_db=%s", it_db_conninfo());
    const char *sets[] = {read_db, "read_max_lag_ms=600000", "health_listen=127.0.0.1:0", NULL};
    s = it_server_start(sets);
    IT_CHECK(s != NULL);
    health = itr_health_port(s);
    reader = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(reader != NULL && health > 0);
    IT_CHECKF(reads_reach_replica(reader, health), "the primary as read_db was not used");
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
    {"an_export_with_export_db_reads_the_replica_once_it_caught_up",
     an_export_with_export_db_reads_the_replica_once_it_caught_up},
    {"an_export_cancelled_by_a_recovery_conflict_says_why",
     an_export_cancelled_by_a_recovery_conflict_says_why},
    {"a_township_taken_from_a_user_is_not_read_from_a_lagging_replica",
     a_township_taken_from_a_user_is_not_read_from_a_lagging_replica},
    {"reads_after_hearing_is_back_wait_for_the_replica",
     reads_after_hearing_is_back_wait_for_the_replica},
    {"a_read_the_replica_drops_is_answered_by_the_primary",
     a_read_the_replica_drops_is_answered_by_the_primary},
    {"shutdown_with_a_read_held_on_the_replica_exits_0",
     shutdown_with_a_read_held_on_the_replica_exits_0},
    {"db_on_the_standby_refuses_writes_and_is_not_ready",
     db_on_the_standby_refuses_writes_and_is_not_ready},
    {"a_stopped_replica_leaves_every_read_answered", a_stopped_replica_leaves_every_read_answered},
    {"a_promoted_replica_is_not_used_the_primary_as_read_db_is",
     a_promoted_replica_is_not_used_the_primary_as_read_db_is},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "replica", tests, sizeof tests / sizeof tests[0], setup);
}
