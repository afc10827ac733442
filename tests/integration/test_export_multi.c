/*
 * test_export_multi.c: one exporter per database (issue 14, sql/026):
 * two real baobaod processes on one database and one export_dir.
 *
 * - both scheduled the same night: one run, one folder (the second finds
 *   the date claimed and logs event=export_skipped);
 * - a process started while the other exports leaves that run alone (no
 *   'failed', its folder kept, the run ends ok with its manifest), and
 *   export.run on it joins that run rather than start a second;
 * - a process killed (SIGKILL) mid-export: the other, once it has the
 *   export lock, fails its run, removes its folder, and a later run
 *   succeeds;
 * - a process killed (SIGKILL) during the nightly run of both: the other,
 *   waiting for the lock, fails the dead run and makes the night's run
 *   itself (no catch-up, no export.run, no restart);
 * - housekeeping runs once per database per period: the second process's
 *   pass finds it claimed.
 *
 * An export is held mid-run without timing: a trigger of this test's
 * database makes the UPDATE that names a run's folder wait for an
 * advisory lock the test holds, so the run stays 'running' with its
 * folder made (and its owner's heartbeat going on) until the test lets
 * go. A table lock would not do: a server starting meanwhile prepares its
 * statements, which would wait for it too.
 *
 * Not for: one process's exports (test_export.c), the files' content.
 */
#include "harness.h"

#include <dirent.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 120000
/* Generous: the survivor looks again EXPORT_OWNER_STALE_MS (30 s) after
 * its start-up found the lock busy, under ASan. */
#define STALE_WAIT_MS 150000

static char g_top[256];
static unsigned g_dirs;

#define HOLD_KEY "74310"

static int setup(void)
{
    snprintf(g_top, sizeof g_top, "/tmp/it-export-multi-%d", (int)getpid());
    if (mkdir(g_top, 0755) != 0)
        return -1;
    if (it_pg_exec("CREATE FUNCTION it_hold_folder() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$BEGIN PERFORM pg_advisory_xact_lock(" HOLD_KEY "); RETURN NEW; END$$",
                   0, NULL) != 0)
        return -1;
    return it_pg_exec("CREATE TRIGGER it_hold BEFORE UPDATE ON export_run FOR EACH ROW"
                      " WHEN (OLD.folder IS NULL AND NEW.folder IS NOT NULL)"
                      " EXECUTE FUNCTION it_hold_folder()", 0, NULL);
}

static void new_dir(char *path, size_t len, char *set, size_t setlen)
{
    snprintf(path, len, "%s/d%u", g_top, ++g_dirs);
    snprintf(set, setlen, "export_dir=%s", path);
}

static bool path_exists(const char *dir, const char *name)
{
    char p[768];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

/* Entries of dir other than dot files. */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static bool wait_count(const char *sql, int n, const char *const *p, long long want, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (it_pg_int(sql, n, p) == want)
            return true;
        it_sleep_ms(200);
    }
    return false;
}

static bool wait_log(it_server *s, const char *needle, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (it_server_log_has(s, needle))
            return true;
        it_sleep_ms(200);
    }
    return false;
}

static int call_run(it_conn *c, uint32_t msgid, bool wait, it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, msgid, "export.run", 1);
    it_kv_bool(&b, "wait", wait);
    int rc = it_call(c, b.sb.data, b.sb.size, msgid, wait ? RUN_TIMEOUT_MS : IT_REPLY_TIMEOUT_MS,
                     m);
    it_buf_free(&b);
    return rc;
}

static it_server *start_in(const char *set_dir)
{
    const char *sets[] = {set_dir, "export_time=", NULL};
    return it_server_start(sets);
}

/* The test's own connection holding HOLD_KEY: a run stops when it names
 * its folder, until hold_end. */
static PGconn *hold_begin(void)
{
    PGconn *c = PQconnectdb(it_db_conninfo());
    if (PQstatus(c) != CONNECTION_OK) {
        it_note("hold: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PGresult *r = PQexec(c, "SELECT pg_advisory_lock(" HOLD_KEY ")");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (!ok) {
        it_note("hold: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

static void hold_end(PGconn *c)
{
    PQfinish(c);
}

/* The one folder in dir (a fresh export_dir), "" while there is none. */
static void only_entry(const char *dir, char *out, size_t len)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            snprintf(out, len, "%s", e->d_name);
    if (d != NULL)
        closedir(d);
}

/* export.run on s while held: the run's id (text) and the path of its
 * folder, once it is made. The reply (the run's row, even without wait)
 * comes only when the row names the folder, so it is not read: the id is
 * the newest running row of this test's database. */
static int start_held_run(it_server *s, const char *dir, char *id, size_t idlen, char *path,
                          size_t pathlen)
{
    long long before = it_pg_int("SELECT coalesce(max(id), 0) FROM export_run", 0, NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL && before >= 0);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 10, "export.run", 1);
    it_kv_bool(&b, "wait", false);
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    IT_CHECK(sent == 0);
    char f[256] = "";
    for (int64_t end = it_now_ms() + IT_REPLY_TIMEOUT_MS; f[0] == '\0' && it_now_ms() < end;) {
        only_entry(dir, f, sizeof f);
        if (f[0] == '\0')
            it_sleep_ms(100);
    }
    IT_CHECK(f[0] != '\0');
    char bt[24];
    snprintf(bt, sizeof bt, "%lld", before);
    const char *p[] = {bt};
    long long rid = it_pg_int("SELECT max(id) FROM export_run WHERE status = 'running'"
                              " AND id > $1::bigint", 1, p);
    IT_CHECK(rid > before);
    snprintf(id, idlen, "%lld", rid);
    snprintf(path, pathlen, "%s/%s", dir, f);
    return 0;
}

static int both_scheduled_the_same_night_make_one_run_and_one_folder(void)
{
    char dir[512], set[600];
    new_dir(dir, sizeof dir, set, sizeof set);
    /* Both processes' schedules fire a few seconds after their start. */
    const char *sets[] = {set, "export_time=02:00", "fake_now=2031-01-10T01:59:56+08:00", NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    it_server *b = it_server_start(sets);
    IT_CHECK(b != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE export_date = '2031-01-10'"
                        " AND status = 'ok'", 0, NULL, 1, RUN_TIMEOUT_MS));
    /* The other one came too, and found the date claimed. */
    int64_t end = it_now_ms() + RUN_TIMEOUT_MS;
    while (!it_server_log_has(a, "event=export_skipped") &&
           !it_server_log_has(b, "event=export_skipped") && it_now_ms() < end)
        it_sleep_ms(200);
    IT_CHECK(it_server_log_has(a, "event=export_skipped") ||
             it_server_log_has(b, "event=export_skipped"));
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE export_date = '2031-01-10'", 0,
                       NULL) == 1);
    IT_CHECK(path_exists(dir, "2031-01-10/manifest.json"));
    IT_CHECK(!path_exists(dir, "2031-01-10-2"));
    IT_CHECK(entries(dir) == 1);
    return 0;
}

static int a_process_started_during_an_export_leaves_it_alone(void)
{
    char dir[512], set[600], id[24], folder[700];
    new_dir(dir, sizeof dir, set, sizeof set);
    it_server *a = start_in(set);
    IT_CHECK(a != NULL);
    PGconn *hold = hold_begin();
    IT_CHECK(hold != NULL);
    int rc = start_held_run(a, dir, id, sizeof id, folder, sizeof folder);
    it_server *b = rc == 0 ? start_in(set) : NULL;
    /* b's start-up recovery has looked and left the run alone. */
    bool left = b != NULL && wait_log(b, "event=export_left_alone", IT_START_TIMEOUT_MS);
    const char *p[] = {id};
    long long running =
        it_pg_int("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'running'",
                  1, p);
    bool kept = path_exists(folder, "");
    /* export.run on b meanwhile gets a's run, as a second request on one
     * process would: no second run. */
    int64_t joined = 0;
    it_conn *cb = b != NULL ? it_connect(b->port) : NULL;
    it_msg m;
    bool answered = cb != NULL && call_run(cb, 30, false, &m) == IT_RECV_MSG;
    if (answered) {
        if (m.is_error || !it_get_int(m.result, "id", &joined))
            joined = -1;
        it_msg_free(&m);
    }
    hold_end(hold);
    IT_CHECK(rc == 0 && b != NULL);
    IT_CHECK(left);
    IT_CHECK(running == 1);
    IT_CHECKF(kept, "the running export's folder %s was removed", folder);
    IT_CHECK(answered);
    IT_CHECKF(joined == strtoll(id, NULL, 10), "b answered run %" PRId64 ", a runs %s", joined, id);
    /* ... and the run ends well, in its own folder. */
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'ok'",
                        1, p, 1, RUN_TIMEOUT_MS));
    IT_CHECK(path_exists(folder, "manifest.json"));
    IT_CHECK(!it_server_log_has(a, "rename:"));
    IT_CHECK(wait_log(b, "event=export_joined", RUN_TIMEOUT_MS));
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE id > $1::bigint", 1, p) == 0);
    return 0;
}

static int a_killed_exporter_is_failed_by_the_next_lock_holder_and_a_later_run_succeeds(void)
{
    char dir[512], set[600], id[24], folder[700];
    new_dir(dir, sizeof dir, set, sizeof set);
    it_server *a = start_in(set);
    IT_CHECK(a != NULL);
    PGconn *hold = hold_begin();
    IT_CHECK(hold != NULL);
    int rc = start_held_run(a, dir, id, sizeof id, folder, sizeof folder);
    it_server *b = rc == 0 ? start_in(set) : NULL;
    bool left = b != NULL && wait_log(b, "event=export_left_alone", IT_START_TIMEOUT_MS);
    if (rc == 0) {
        it_server_signal(a, SIGKILL);
        (void)it_server_wait(a, IT_STOP_TIMEOUT_MS);
    }
    /* The killed process's backend ends once its UPDATE can go on. */
    hold_end(hold);
    IT_CHECK(rc == 0 && b != NULL && left);
    const char *p[] = {id};
    /* Failed by b once it has the lock, its folder removed. */
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'failed'"
                        " AND error LIKE 'its server stopped%'",
                        1, p, 1, STALE_WAIT_MS));
    int64_t end = it_now_ms() + IT_REPLY_TIMEOUT_MS;
    while (path_exists(folder, "") && it_now_ms() < end)
        it_sleep_ms(100);
    IT_CHECKF(!path_exists(folder, ""), "the dead run's folder %s is still there", folder);
    /* A later run on b succeeds. */
    it_conn *c = it_connect(b->port);
    IT_CHECK(c != NULL);
    it_msg m;
    IT_CHECK(call_run(c, 20, true, &m) == IT_RECV_MSG);
    char f[64] = "";
    IT_CHECK(!m.is_error && it_get_str_eq(m.result, "status", "ok") &&
             it_get_str(m.result, "folder", f, sizeof f));
    it_msg_free(&m);
    IT_CHECK(path_exists(dir, f) && strlen(f) > 0);
    char mf[128];
    snprintf(mf, sizeof mf, "%s/manifest.json", f);
    IT_CHECK(path_exists(dir, mf));
    return 0;
}

static int a_nightly_run_whose_process_is_killed_is_made_by_the_other(void)
{
    char dir[512], set[600];
    new_dir(dir, sizeof dir, set, sizeof set);
    /* The night before is done: no catch-up at start runs instead. */
    IT_CHECK(it_pg_exec("INSERT INTO export_run (kind, export_date, finished_at, status)"
                        " VALUES ('scheduled', '2031-01-11', now(), 'ok')", 0, NULL) == 0);
    PGconn *hold = hold_begin();
    IT_CHECK(hold != NULL);
    /* Both due a few seconds after their start: one runs the night (held
     * when it names its folder), the other waits for the export lock. */
    const char *sets[] = {set, "export_time=02:00", "fake_now=2031-01-12T01:59:56+08:00", NULL};
    it_server *a = it_server_start(sets);
    it_server *b = a != NULL ? it_server_start(sets) : NULL;
    long long rid = -1;
    for (int64_t end = it_now_ms() + RUN_TIMEOUT_MS; rid <= 0 && it_now_ms() < end;) {
        rid = it_pg_int("SELECT coalesce(max(id), 0) FROM export_run WHERE status = 'running'"
                        " AND export_date = '2031-01-12' AND folder IS NULL", 0, NULL);
        if (rid <= 0)
            it_sleep_ms(100);
    }
    char id[24], owner_pid[24];
    snprintf(id, sizeof id, "%lld", rid);
    const char *p[] = {id};
    /* The runner is the process whose pid ends the row's owner. */
    long long pid = rid > 0 ? it_pg_int("SELECT split_part(owner, ':', 2)::bigint FROM export_run"
                                        " WHERE id = $1::bigint", 1, p)
                            : -1;
    it_server *runner = a != NULL && pid == a->pid ? a : b != NULL && pid == b->pid ? b : NULL;
    it_server *other = runner == a ? b : a;
    snprintf(owner_pid, sizeof owner_pid, "%lld", pid);
    if (runner != NULL) {
        it_server_signal(runner, SIGKILL);
        (void)it_server_wait(runner, IT_STOP_TIMEOUT_MS);
    }
    /* The killed process's backend ends once its UPDATE can go on; the
     * lock is the survivor's then. */
    hold_end(hold);
    IT_CHECK(a != NULL && b != NULL);
    IT_CHECKF(runner != NULL, "run %s owned by pid %s, neither a nor b", id, owner_pid);
    IT_CHECK(wait_count("SELECT count(*) FROM export_run WHERE export_date = '2031-01-12'"
                        " AND kind = 'scheduled' AND status = 'ok'",
                        0, NULL, 1, STALE_WAIT_MS));
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE id = $1::bigint AND status = 'failed'"
                       " AND claim_date IS NULL", 1, p) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run WHERE export_date = '2031-01-12'"
                       " AND kind = 'catch_up'", 0, NULL) == 0);
    IT_CHECK(path_exists(dir, "2031-01-12/manifest.json") ||
             path_exists(dir, "2031-01-12-2/manifest.json"));
    IT_CHECK(!it_server_log_has(other, "event=export_skipped"));
    return 0;
}

static int housekeeping_runs_once_per_database(void)
{
    char dir[512], set[600];
    new_dir(dir, sizeof dir, set, sizeof set);
    IT_CHECK(it_pg_exec("UPDATE housekeeping_claim SET last_at = '-infinity'", 0, NULL) == 0);
    it_server *a = start_in(set);
    IT_CHECK(a != NULL);
    IT_CHECK(wait_log(a, "event=housekeeping ", IT_START_TIMEOUT_MS));
    it_server *b = start_in(set);
    IT_CHECK(b != NULL);
    IT_CHECK(wait_log(b, "event=housekeeping_skipped", IT_START_TIMEOUT_MS));
    IT_CHECK(!it_server_log_has(b, "event=housekeeping "));
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        /* first: the database has no run yet, so no catch-up interferes */
        {"both_scheduled_the_same_night_make_one_run_and_one_folder",
         both_scheduled_the_same_night_make_one_run_and_one_folder},
        {"a_process_started_during_an_export_leaves_it_alone",
         a_process_started_during_an_export_leaves_it_alone},
        {"a_killed_exporter_is_failed_by_the_next_lock_holder_and_a_later_run_succeeds",
         a_killed_exporter_is_failed_by_the_next_lock_holder_and_a_later_run_succeeds},
        {"a_nightly_run_whose_process_is_killed_is_made_by_the_other",
         a_nightly_run_whose_process_is_killed_is_made_by_the_other},
        {"housekeeping_runs_once_per_database", housekeeping_runs_once_per_database},
    };
    return it_main(argc, argv, "export_multi", tests, sizeof tests / sizeof tests[0], setup);
}
