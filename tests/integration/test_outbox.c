/*
 * test_outbox.c: working offline (issue 12): the `baobao` CLI keeps a
 * write it cannot deliver in its outbox (a private SQLite file) and sends
 * it later, once.
 *
 * Real servers stopped and started again on the same port, real CLI
 * processes, a CLI killed for real (SIGKILL, at the points
 * $BAOBAO_TEST_OUTBOX_KILL names: right after an entry is committed, after
 * it is claimed, after the server stored it), two `baobao sync` at once,
 * entries made older than the windows by changing their queued time in
 * the file, a replay the server refuses because the user's townships
 * changed meanwhile, and the file refused when others may read it. What
 * was stored is checked in the database (rows and idempotency records),
 * what the outbox holds in its file.
 *
 * Not for: the retry of a write on a live connection (test_cli.c), the
 * idempotency rules themselves (test_idempotency.c).
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CLI_MS 60000

static char g_dir[64];
static unsigned g_code = 7100;   /* credit codes of this binary's enterprises */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_test_dir(void)
{
    if (g_dir[0] != '\0')
        nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh folder for one test's outbox ($XDG_STATE_HOME and $HOME). */
static int new_state(char out[256])
{
    static unsigned n;
    if (g_dir[0] == '\0') {
        snprintf(g_dir, sizeof g_dir, "/tmp/itest-outbox-XXXXXX");
        if (mkdtemp(g_dir) == NULL)
            return -1;
        atexit(remove_test_dir);
    }
    snprintf(out, 256, "%s/s%u", g_dir, ++n);
    return mkdir(out, 0700);
}

static void show(const it_cli *r, const char *what)
{
    it_note("%s: exit %d\n--- stdout\n%s--- stderr\n%s", what, r->status, r->out, r->err);
}

/*
 * Runs the CLI against 127.0.0.1:port as login, its outbox in state,
 * English, with extra environment (NULL-ended, may be NULL).
 */
static int cli(it_cli *r, int port, const char *state, const char *login,
               const char *const *args, const char *const *extra)
{
    char server[64], xdg[300], home[300], user[96], pw[128];
    snprintf(server, sizeof server, "127.0.0.1:%d", port);
    snprintf(xdg, sizeof xdg, "XDG_STATE_HOME=%s", state);
    snprintf(home, sizeof home, "HOME=%s", state);
    snprintf(user, sizeof user, "BAOBAO_USER=%s", login);
    snprintf(pw, sizeof pw, "BAOBAO_PASSWORD=%s", IT_PASSWORD);
    const char *env[16] = {xdg, home, user, pw, "BAOBAO_LANG=en", "BAOBAO_OUTBOX_MAX_DAYS"};
    size_t n = 6;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    return it_cli_run_env(r, server, CLI_MS, args, env);
}

/* `baobao status submit` of enterprise id (date NULL: none given) with
 * idempotency key key. */
static int submit(it_cli *r, int port, const char *state, const char *login, int64_t id,
                  const char *date, const char *reporter, const char *key,
                  const char *const *extra)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *args[16] = {"status", "submit", "--enterprise", ids, "--reporter", reporter,
                            "--production-status", "正常", "--output-value", "1000",
                            "--idempotency-key", key};
    size_t n = 12;
    if (date != NULL) {
        args[n++] = "--date";
        args[n++] = date;
    }
    args[n] = NULL;
    return cli(r, port, state, login, args, extra);
}

/* A submit that cannot reach the server and is kept: exit 5, said. */
static int submit_kept(int port, const char *state, const char *login, int64_t id,
                       const char *date, const char *reporter, const char *key)
{
    it_cli r;
    IT_CHECK(submit(&r, port, state, login, id, date, reporter, key, NULL) == 0);
    if (r.status != 5 || strstr(r.err, "kept in the outbox as entry") == NULL)
        show(&r, "status submit (server stopped)");
    IT_CHECK(r.status == 5);
    IT_CHECK(strstr(r.err, "baobao: queued: the server cannot be reached") != NULL);
    it_cli_free(&r);
    return 0;
}

/* A new enterprise in township, made over a raw connection as the
 * supervisor. Returns its id or -1. */
static int64_t enterprise(int port, const char *name, const char *township)
{
    it_conn *c = it_connect(port);
    if (c == NULL)
        return -1;
    char cc[19];
    it_credit_code(g_code++, cc);
    int64_t id = it_create_enterprise(c, name, cc, township);
    it_close(c);
    return id;
}

static long long reports_of(int64_t id)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[1] = {ids};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint", 1, p);
}

static long long keys_stored(const char *key)
{
    const char *p[1] = {key};
    return it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'status.submit'"
                     " AND key = $1", 1, p);
}

/* ---- the outbox file, read (and aged) directly ---- */

static int journal_open(const char *state, sqlite3 **db, int flags)
{
    char path[300];
    snprintf(path, sizeof path, "%s/baobao/outbox.db", state);
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        it_note("cannot open %s: %s", path, *db != NULL ? sqlite3_errmsg(*db) : "?");
        sqlite3_close(*db);
        return -1;
    }
    sqlite3_busy_timeout(*db, 10000);
    return 0;
}

/* One integer the query (with ?1 = text, when not NULL) returns; -1 on error. */
static long long journal_int(const char *state, const char *sql, const char *text)
{
    sqlite3 *db = NULL;
    if (journal_open(state, &db, SQLITE_OPEN_READONLY) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (text == NULL || sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT) == SQLITE_OK) &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        it_note("journal query failed: %s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* The state and attempts of the entry with idempotency key key. */
static int entry_is(const char *state, const char *key, const char *want, long long attempts)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM entry WHERE idempotency_key = ?1"
                              " AND state = '%s' AND attempts = %lld", want, attempts);
    long long n = journal_int(state, sql, key);
    IT_CHECKF(n == 1, "entry %s is not %s after %lld attempt(s)", key, want, attempts);
    return 0;
}

/* Moves the queued time of the entry of key back by seconds. */
static int age_entry(const char *state, const char *key, long long seconds)
{
    sqlite3 *db = NULL;
    IT_CHECK(journal_open(state, &db, SQLITE_OPEN_READWRITE) == 0);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, "UPDATE entry SET queued_at = queued_at - ?2"
                                     " WHERE idempotency_key = ?1", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_bind_int64(st, 2, seconds) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE &&
              sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    IT_CHECKF(ok, "could not age the entry %s", key);
    return 0;
}

/* Sets the time the entry of key may first have reached the server to
 * seconds ago (as if a try then had gone unanswered). */
static int tried_ago(const char *state, const char *key, long long seconds)
{
    sqlite3 *db = NULL;
    IT_CHECK(journal_open(state, &db, SQLITE_OPEN_READWRITE) == 0);
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db, "UPDATE entry SET maybe_sent_at = ?2"
                                     " WHERE idempotency_key = ?1", -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
              sqlite3_bind_int64(st, 2, (long long)time(NULL) - seconds) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_DONE &&
              sqlite3_changes(db) == 1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    IT_CHECKF(ok, "could not set when the entry %s was tried", key);
    return 0;
}

/* Runs sql (no rows, no parameters) on the outbox file. */
static int journal_exec(const char *state, const char *sql)
{
    sqlite3 *db = NULL;
    IT_CHECK(journal_open(state, &db, SQLITE_OPEN_READWRITE) == 0);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        it_note("%s: %s", sql, msg != NULL ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    IT_CHECK(rc == SQLITE_OK);
    return 0;
}

static it_server *restart(int port, const char *const *more)
{
    char p[32];
    snprintf(p, sizeof p, "port=%d", port);
    const char *sets[8] = {p};
    size_t n = 1;
    for (size_t i = 0; more != NULL && more[i] != NULL && n < 7; i++)
        sets[n++] = more[i];
    sets[n] = NULL;
    return it_server_start(sets);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- the tests ---- */

/* The heart of it: three writes while the server is stopped (the last
 * CLI killed right after it kept its write), the server back, `sync`
 * stores each exactly once, a second sync sends nothing. */
static int writes_kept_offline_are_stored_once_by_sync(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e1 = enterprise(port, "离线一厂", "赵李桥镇");
    int64_t e2 = enterprise(port, "离线二厂", "赵李桥镇");
    int64_t e3 = enterprise(port, "离线三厂", "高新技术产业园区");
    IT_CHECK(e1 > 0 && e2 > 0 && e3 > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, "2025-06-01", "离线甲", "ob-1-a") == 0);
    it_cli r;
    IT_CHECK(submit(&r, port, st, IT_USER_STAFF, e2, "2025-06-02", "离线乙", "ob-1-b", NULL) ==
             0);
    IT_CHECK(r.status == 5 && strstr(r.err, "as entry 2 ") != NULL);
    it_cli_free(&r);
    /* The third without a date (the server would fill in today), killed
     * right after the entry is committed: nothing of it may be lost. */
    const char *kill_queued[] = {"BAOBAO_TEST_OUTBOX_KILL=queued", NULL};
    IT_CHECK(submit(&r, port, st, IT_USER_STAFF, e3, NULL, "离线丙", "ob-1-c", kill_queued) ==
             0);
    IT_CHECKF(r.status == -1, "the CLI was not killed: exit %d", r.status);
    it_cli_free(&r);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE state = 'waiting'", NULL) == 3);
    /* The file is private: 0600 in a 0700 folder. */
    char path[300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/baobao/outbox.db", st);
    IT_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    snprintf(path, sizeof path, "%s/baobao", st);
    IT_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0700);
    /* `outbox` lists the three, waiting, the third with the date it got. */
    const char *outbox[] = {"outbox", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    if (r.status != 0 || count_of(r.out, "waiting") != 3)
        show(&r, "outbox");
    IT_CHECK(r.status == 0 && count_of(r.out, "waiting") == 3);
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    IT_CHECK(localtime_r(&now, &tm) != NULL && strftime(today, sizeof today, "%Y-%m-%d", &tm));
    char dated[40];
    snprintf(dated, sizeof dated, "report_date=%s", today);
    IT_CHECKF(strstr(r.out, dated) != NULL, "no %s in:\n%s", dated, r.out);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 0 && reports_of(e2) == 0 && reports_of(e3) == 0);

    s = restart(port, NULL);
    IT_CHECK(s != NULL);
    const char *sync[] = {"sync", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    if (r.status != 0 || strstr(r.out, "Sent 3, refused 0, too old 0, still waiting 0.") == NULL)
        show(&r, "sync");
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, "Sent 3, refused 0, too old 0, still waiting 0.") != NULL);
    IT_CHECK(count_of(r.out, "sent and stored (id ") == 3);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 1 && reports_of(e2) == 1 && reports_of(e3) == 1);
    IT_CHECK(keys_stored("ob-1-a") == 1 && keys_stored("ob-1-b") == 1 &&
             keys_stored("ob-1-c") == 1);
    const char *p3[2] = {NULL, today};
    char e3s[24];
    snprintf(e3s, sizeof e3s, "%lld", (long long)e3);
    p3[0] = e3s;
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND report_date = $2::date AND reporter = '离线丙'", 2, p3) == 1);
    IT_CHECK(entry_is(st, "ob-1-a", "sent", 1) == 0 && entry_is(st, "ob-1-b", "sent", 1) == 0 &&
             entry_is(st, "ob-1-c", "sent", 1) == 0);

    /* A second sync sends nothing. */
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "Nothing waits in the outbox.") != NULL,
              "second sync: exit %d, %s%s", r.status, r.out, r.err);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 1 && reports_of(e2) == 1 && reports_of(e3) == 1);

    /* Offline again: now the outbox knows the server's zone, and a date
     * left out is today where the server is, the day it was queued, even
     * when it is sent on another day (the server's business clock pinned
     * in 2030 here, which would date it 2030-01-01). The next command that
     * reaches the server, a read, sends it first. */
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, NULL, "离线丁", "ob-1-d") == 0);
    const char *later[] = {"fake_now=2030-01-01T10:00:00+08:00", NULL};
    s = restart(port, later);
    IT_CHECK(s != NULL);
    const char *list[] = {"enterprise", "list", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, list, NULL) == 0);
    if (r.status != 0 || strstr(r.err, "sent and stored") == NULL)
        show(&r, "enterprise list");
    IT_CHECK(r.status == 0 && strstr(r.err, "outbox entry 4 ") != NULL &&
             strstr(r.err, "sent and stored") != NULL && strstr(r.out, "离线一厂") != NULL);
    it_cli_free(&r);
    snprintf(e3s, sizeof e3s, "%lld", (long long)e1);
    const char *p1[1] = {e3s};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND reporter = '离线丁'"
                       " AND report_date = (now() AT TIME ZONE 'Asia/Shanghai')::date", 1, p1) == 1);
    return 0;
}

/* Killed after claiming an entry (before sending), then after the server
 * stored one (before the outbox recorded it): the next sync takes the
 * claim of the dead process over and sends again with the same key; the
 * server answers from its idempotency record and stores nothing twice. */
static int a_cli_killed_while_sending_never_stores_twice(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e1 = enterprise(port, "中断一厂", "赵李桥镇");
    int64_t e2 = enterprise(port, "中断二厂", "赵李桥镇");
    IT_CHECK(e1 > 0 && e2 > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, "2025-07-01", "中断甲", "ob-2-a") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e2, "2025-07-02", "中断乙", "ob-2-b") == 0);
    s = restart(port, NULL);
    IT_CHECK(s != NULL);

    const char *sync[] = {"sync", NULL};
    const char *at_claim[] = {"BAOBAO_TEST_OUTBOX_KILL=claimed", NULL};
    it_cli r;
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, at_claim) == 0);
    IT_CHECKF(r.status == -1, "not killed at the claim: exit %d", r.status);
    it_cli_free(&r);
    IT_CHECK(entry_is(st, "ob-2-a", "sending", 1) == 0 && entry_is(st, "ob-2-b", "waiting", 0) == 0);
    IT_CHECK(reports_of(e1) == 0);

    const char *at_sent[] = {"BAOBAO_TEST_OUTBOX_KILL=sent", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, at_sent) == 0);
    IT_CHECKF(r.status == -1, "not killed after the send: exit %d", r.status);
    it_cli_free(&r);
    /* Stored, but the outbox does not know it. */
    IT_CHECK(reports_of(e1) == 1 && entry_is(st, "ob-2-a", "sending", 2) == 0);

    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    if (r.status != 0)
        show(&r, "sync after the kills");
    IT_CHECK(r.status == 0 && strstr(r.out, "Sent 2, refused 0") != NULL);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 1 && reports_of(e2) == 1);
    IT_CHECK(keys_stored("ob-2-a") == 1 && keys_stored("ob-2-b") == 1);
    IT_CHECK(entry_is(st, "ob-2-a", "sent", 3) == 0 && entry_is(st, "ob-2-b", "sent", 1) == 0);
    return 0;
}

/* Two `baobao sync` started at once, each pausing after every claim so
 * that they overlap for sure: every entry is sent by one of them, once
 * (each claimed once: attempts 1), and stored once. */
#define RACE_ENTRIES 6
static int two_syncs_at_once_send_each_entry_once(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t ids[RACE_ENTRIES];
    for (int i = 0; i < RACE_ENTRIES; i++) {
        char name[32];
        snprintf(name, sizeof name, "并发%d厂", i);
        ids[i] = enterprise(port, name, "赵李桥镇");
        IT_CHECK(ids[i] > 0);
    }
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    for (int i = 0; i < RACE_ENTRIES; i++) {
        char key[32], who[32];
        snprintf(key, sizeof key, "ob-3-%d", i);
        snprintf(who, sizeof who, "并发%d", i);
        IT_CHECK(submit_kept(port, st, IT_USER_STAFF, ids[i], "2025-08-01", who, key) == 0);
    }
    s = restart(port, NULL);
    IT_CHECK(s != NULL);

    /* Each sync in a child of its own; what it printed comes back in a
     * file. */
    pid_t kids[2];
    char outs[2][300];
    for (int k = 0; k < 2; k++) {
        snprintf(outs[k], sizeof outs[k], "%s/sync%d.out", st, k);
        fflush(stdout);
        kids[k] = fork();
        IT_CHECK(kids[k] >= 0);
        if (kids[k] == 0) {
            it_cli r;
            const char *sync[] = {"sync", NULL};
            const char *slow[] = {"BAOBAO_TEST_OUTBOX_PAUSE_MS=300", NULL};
            int rc = cli(&r, port, st, IT_USER_STAFF, sync, slow);
            FILE *f = fopen(outs[k], "w");
            if (f != NULL) {
                fprintf(f, "%s%s", r.out, r.err);
                fclose(f);
            }
            _exit(rc == 0 ? r.status : 99);
        }
    }
    int status[2];
    for (int k = 0; k < 2; k++) {
        IT_CHECK(waitpid(kids[k], &status[k], 0) == kids[k]);
        IT_CHECKF(WIFEXITED(status[k]) && WEXITSTATUS(status[k]) == 0, "sync %d: status %d", k,
                  status[k]);
    }
    size_t sent = 0;
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(outs[k], "r");
        IT_CHECK(f != NULL);
        char buf[16384];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        it_note("sync %d said:\n%s", k, buf);
        sent += count_of(buf, "sent and stored (id ");
    }
    IT_CHECKF(sent == RACE_ENTRIES, "%zu sends said, expected %d", sent, RACE_ENTRIES);
    for (int i = 0; i < RACE_ENTRIES; i++) {
        char key[32];
        snprintf(key, sizeof key, "ob-3-%d", i);
        IT_CHECK(reports_of(ids[i]) == 1 && keys_stored(key) == 1);
        IT_CHECK(entry_is(st, key, "sent", 1) == 0);
    }
    return 0;
}

/* The two windows: the outbox's own (3 days by default) and the server's
 * idempotency_keep_days less a day. An entry older than either is not
 * sent: it is kept as too old and the user told; a younger one is sent. */
static int an_entry_older_than_the_window_is_kept_not_sent(void)
{
    /* Housekeeping runs once per database per period (sql/026's claim):
     * an earlier server of this binary may have had this hour's pass. */
    IT_CHECK(it_pg_exec("UPDATE housekeeping_claim SET last_at = '-infinity'", 0, NULL) == 0);
    const char *keep2[] = {"idempotency_keep_days=2", NULL};
    it_server *s = it_server_start(keep2);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e1 = enterprise(port, "过期一厂", "赵李桥镇");
    int64_t e2 = enterprise(port, "过期二厂", "赵李桥镇");
    int64_t e3 = enterprise(port, "过期三厂", "赵李桥镇");
    IT_CHECK(e1 > 0 && e2 > 0 && e3 > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, "2025-09-01", "过期甲", "ob-4-a") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e2, "2025-09-02", "过期乙", "ob-4-b") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e3, "2025-09-03", "过期丙", "ob-4-c") == 0);
    /* The windows count from the try that may have reached the server
     * (these never left: the try is set in the file; the next test makes
     * one for real). 4 days: past the outbox's 3. 36 hours: within the
     * outbox's window, past the server's (2 days) less a day. 12 hours:
     * within both, though queued 10 days ago. */
    IT_CHECK(age_entry(st, "ob-4-a", 4 * 86400) == 0 && tried_ago(st, "ob-4-a", 4 * 86400) == 0);
    IT_CHECK(age_entry(st, "ob-4-b", 36 * 3600) == 0 && tried_ago(st, "ob-4-b", 36 * 3600) == 0);
    IT_CHECK(age_entry(st, "ob-4-c", 10 * 86400) == 0 &&
             tried_ago(st, "ob-4-c", 12 * 3600) == 0);
    s = restart(port, keep2);
    IT_CHECK(s != NULL);

    /* A window that is not a number is refused before anything is sent. */
    it_cli r;
    const char *sync[] = {"sync", NULL};
    const char *bad[] = {"BAOBAO_OUTBOX_MAX_DAYS=abc", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, bad) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "BAOBAO_OUTBOX_MAX_DAYS") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(reports_of(e3) == 0);

    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    if (r.status != 1)
        show(&r, "sync with old entries");
    IT_CHECK(r.status == 1);
    IT_CHECK(strstr(r.out, "2 write(s) in the outbox are too old to send safely") != NULL);
    IT_CHECK(strstr(r.out, "keeps idempotency records 2 days") != NULL);
    IT_CHECK(strstr(r.out, "Sent 1, refused 0, too old 2, still waiting 0.") != NULL);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 0 && reports_of(e2) == 0 && reports_of(e3) == 1);
    IT_CHECK(entry_is(st, "ob-4-a", "expired", 0) == 0 && entry_is(st, "ob-4-b", "expired", 0) == 0 &&
             entry_is(st, "ob-4-c", "sent", 1) == 0);

    /* Kept, and shown with what to do. */
    const char *outbox[] = {"outbox", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    IT_CHECK(r.status == 0 && count_of(r.out, "too old") >= 2 &&
             strstr(r.out, "could be stored twice") != NULL);
    it_cli_free(&r);
    /* A later sync leaves them as they are. */
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 0 && reports_of(e2) == 0);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE state = 'expired'", NULL) == 2);
    return 0;
}

/* A write that certainly never left this computer (the connect failed)
 * cannot be stored twice: it waits past both windows (a long weekend
 * offline does not make the user type it again). One that may have reached
 * the server (claimed by a sync killed right after: it may have sent it)
 * expires, counted from that try, not from when it was queued. */
static int an_entry_that_never_left_waits_past_the_window(void)
{
    /* Housekeeping runs once per database per period (sql/026's claim):
     * an earlier server of this binary may have had this hour's pass. */
    IT_CHECK(it_pg_exec("UPDATE housekeeping_claim SET last_at = '-infinity'", 0, NULL) == 0);
    const char *keep2[] = {"idempotency_keep_days=2", NULL};
    it_server *s = it_server_start(keep2);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e1 = enterprise(port, "周末一厂", "赵李桥镇");
    int64_t e2 = enterprise(port, "周末二厂", "赵李桥镇");
    int64_t e3 = enterprise(port, "周末三厂", "赵李桥镇");
    IT_CHECK(e1 > 0 && e2 > 0 && e3 > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, "2025-12-05", "周末甲", "ob-8-a") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e2, "2025-12-05", "周末乙", "ob-8-b") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e3, NULL, "周末丙", "ob-8-c") == 0);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE maybe_sent_at IS NULL", NULL) ==
             3);
    it_cli r;
    const char *json[] = {"outbox", "--json", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, json, NULL) == 0);
    IT_CHECKF(r.status == 0 && count_of(r.out, "\"maybe_sent_at\": null") == 3, "outbox:\n%s",
              r.out);
    it_cli_free(&r);
    const char *outbox[] = {"outbox", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    IT_CHECKF(r.status == 0 && count_of(r.out, "not sent yet") == 3, "outbox:\n%s", r.out);
    it_cli_free(&r);

    /* A sync killed right after it claimed the first: that one may have
     * been sent; the others still never left. */
    s = restart(port, keep2);
    IT_CHECK(s != NULL);
    const char *sync[] = {"sync", NULL};
    const char *at_claim[] = {"BAOBAO_TEST_OUTBOX_KILL=claimed", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, at_claim) == 0);
    IT_CHECKF(r.status == -1, "not killed at the claim: exit %d", r.status);
    it_cli_free(&r);
    IT_CHECK(entry_is(st, "ob-8-a", "sending", 1) == 0);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE maybe_sent_at IS NOT NULL"
                             " AND idempotency_key = ?1", "ob-8-a") == 1);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE maybe_sent_at IS NULL", NULL) ==
             2);

    /* Ten days later (past the outbox's 3 days and the server's 2 less
     * one), the claimed one tried 36 hours ago. */
    IT_CHECK(age_entry(st, "ob-8-a", 10 * 86400) == 0 && tried_ago(st, "ob-8-a", 36 * 3600) == 0);
    IT_CHECK(age_entry(st, "ob-8-b", 10 * 86400) == 0);
    IT_CHECK(age_entry(st, "ob-8-c", 10 * 86400) == 0);
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    if (r.status != 1 || strstr(r.out, "Sent 2, refused 0, too old 1, still waiting 0.") == NULL)
        show(&r, "sync ten days later");
    IT_CHECK(r.status == 1);
    IT_CHECK(strstr(r.out, "1 write(s) in the outbox are too old to send safely") != NULL);
    IT_CHECK(strstr(r.out, "Sent 2, refused 0, too old 1, still waiting 0.") != NULL);
    it_cli_free(&r);
    IT_CHECK(reports_of(e1) == 0 && reports_of(e2) == 1 && reports_of(e3) == 1);
    IT_CHECK(keys_stored("ob-8-a") == 0 && keys_stored("ob-8-b") == 1 &&
             keys_stored("ob-8-c") == 1);
    IT_CHECK(entry_is(st, "ob-8-a", "expired", 1) == 0 && entry_is(st, "ob-8-b", "sent", 1) == 0 &&
             entry_is(st, "ob-8-c", "sent", 1) == 0);
    /* The one without --date keeps the day it was queued (today here). */
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    IT_CHECK(localtime_r(&now, &tm) != NULL && strftime(today, sizeof today, "%Y-%m-%d", &tm));
    char e3s[24];
    snprintf(e3s, sizeof e3s, "%lld", (long long)e3);
    const char *p3[2] = {e3s, today};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND report_date = $2::date", 2, p3) == 1);
    return 0;
}

/* An outbox file of schema 1 (made by this release before it recorded
 * whether an entry may have reached the server) is brought up to date
 * when opened: its entries count as sent when they were queued, so they
 * expire as they did before (safe: nothing tells they never left). */
static int an_outbox_of_schema_1_is_brought_up_to_date(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e1 = enterprise(port, "旧版一厂", "赵李桥镇");
    int64_t e2 = enterprise(port, "旧版二厂", "赵李桥镇");
    IT_CHECK(e1 > 0 && e2 > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e1, "2025-12-06", "旧版甲", "ob-9-a") == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, e2, "2025-12-06", "旧版乙", "ob-9-b") == 0);
    /* The file as schema 1 had it: the entry table without maybe_sent_at. */
    IT_CHECK(journal_exec(st,
        "BEGIN;"
        "CREATE TABLE entry1 ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " server TEXT NOT NULL,"
        " login TEXT NOT NULL,"
        " method TEXT NOT NULL,"
        " idempotency_key TEXT NOT NULL,"
        " args BLOB NOT NULL,"
        " queued_at INTEGER NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'refused',"
        "  'expired')),"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " claimed_pid INTEGER,"
        " claimed_at INTEGER,"
        " done_at INTEGER,"
        " code TEXT, field TEXT, message TEXT,"
        " result_id INTEGER);"
        "INSERT INTO entry1 SELECT id, server, login, method, idempotency_key, args, queued_at,"
        " state, attempts, claimed_pid, claimed_at, done_at, code, field, message, result_id"
        " FROM entry;"
        "DROP TABLE entry;"
        "ALTER TABLE entry1 RENAME TO entry;"
        "CREATE INDEX entry_queue ON entry (server, login, id);"
        "PRAGMA user_version = 1;"
        "COMMIT;") == 0);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM pragma_table_info('entry')"
                             " WHERE name = 'maybe_sent_at'", NULL) == 0);
    IT_CHECK(age_entry(st, "ob-9-a", 4 * 86400) == 0);
    s = restart(port, NULL);
    IT_CHECK(s != NULL);
    it_cli r;
    const char *sync[] = {"sync", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    if (r.status != 1)
        show(&r, "sync of a schema 1 outbox");
    IT_CHECK(r.status == 1 && strstr(r.out, "Sent 1, refused 0, too old 1, still waiting 0.") !=
                                  NULL);
    it_cli_free(&r);
    IT_CHECK(journal_int(st, "PRAGMA user_version", NULL) == 2);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE maybe_sent_at = queued_at"
                             " AND idempotency_key = ?1", "ob-9-a") == 1);
    IT_CHECK(entry_is(st, "ob-9-a", "expired", 0) == 0 && entry_is(st, "ob-9-b", "sent", 1) == 0);
    IT_CHECK(reports_of(e1) == 0 && reports_of(e2) == 1);
    return 0;
}

/* A township staff user of their own, with IT_PASSWORD and one township. */
static int64_t make_staff(const char *login, const char *township)
{
    const char *p[2] = {login, township};
    if (it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, password_hash)"
                   " SELECT $1, '离线测试', 'township_staff', password_hash FROM app_user"
                   "  WHERE login = 'it_staff' RETURNING id)"
                   " INSERT INTO app_user_township (user_id, township_id)"
                   " SELECT u.id, t.id FROM u JOIN township t ON t.name = $2",
                   2, p) != 0)
        return -1;
    return it_user_id(login);
}

/* The user's townships change while the write waits: the server refuses
 * it when it is sent (out of scope is not_found). It is kept, shown with
 * the reason, never dropped silently; `outbox drop` removes it. */
static int a_replay_the_server_refuses_is_kept_and_shown(void)
{
    it_server *s = it_server_start(NULL);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t uid = make_staff("outbox_staff", "赵李桥镇");
    int64_t e = enterprise(port, "被拒一厂", "赵李桥镇");
    IT_CHECK(uid > 0 && e > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, "outbox_staff", e, "2025-10-01", "被拒甲", "ob-5-a") == 0);
    char uids[24];
    snprintf(uids, sizeof uids, "%lld", (long long)uid);
    const char *p[1] = {uids};
    IT_CHECK(it_pg_exec("UPDATE app_user_township SET township_id ="
                        " (SELECT id FROM township WHERE name = '新店镇')"
                        " WHERE user_id = $1::bigint", 1, p) == 0);
    s = restart(port, NULL);
    IT_CHECK(s != NULL);

    it_cli r;
    const char *sync[] = {"sync", NULL};
    IT_CHECK(cli(&r, port, st, "outbox_staff", sync, NULL) == 0);
    if (r.status != 1)
        show(&r, "sync refused");
    IT_CHECK(r.status == 1 && strstr(r.out, "was refused: not_found") != NULL &&
             strstr(r.out, "it stays in the outbox") != NULL &&
             strstr(r.out, "Sent 0, refused 1") != NULL);
    it_cli_free(&r);
    IT_CHECK(reports_of(e) == 0 && keys_stored("ob-5-a") == 0);
    IT_CHECK(entry_is(st, "ob-5-a", "refused", 1) == 0);
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE code = 'not_found'"
                             " AND field = 'enterprise_id'", NULL) == 1);

    const char *outbox[] = {"outbox", NULL};
    IT_CHECK(cli(&r, port, st, "outbox_staff", outbox, NULL) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "refused") != NULL &&
                  strstr(r.out, "not_found") != NULL,
              "outbox:\n%s", r.out);
    it_cli_free(&r);
    const char *json[] = {"outbox", "--json", NULL};
    IT_CHECK(cli(&r, port, st, "outbox_staff", json, NULL) == 0);
    IT_CHECK(r.status == 0 && strstr(r.out, "\"state\": \"refused\"") != NULL &&
             strstr(r.out, "\"idempotency_key\": \"ob-5-a\"") != NULL);
    it_cli_free(&r);
    /* In Chinese the reason is a sentence, with the code for support. */
    const char *zh[] = {"BAOBAO_LANG=zh", NULL};
    IT_CHECK(cli(&r, port, st, "outbox_staff", outbox, zh) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "[not_found enterprise_id]") != NULL, "outbox:\n%s",
              r.out);
    it_cli_free(&r);

    /* Later commands do not send it again. */
    IT_CHECK(cli(&r, port, st, "outbox_staff", sync, NULL) == 0);
    IT_CHECK(r.status == 0 && strstr(r.out, "Nothing waits in the outbox.") != NULL);
    it_cli_free(&r);
    IT_CHECK(entry_is(st, "ob-5-a", "refused", 1) == 0);
    /* Dropped on purpose. */
    const char *drop[] = {"outbox", "drop", "1", NULL};
    IT_CHECK(cli(&r, port, st, "outbox_staff", drop, NULL) == 0);
    IT_CHECK(r.status == 0 && strstr(r.out, "Entry 1 removed") != NULL);
    it_cli_free(&r);
    IT_CHECK(cli(&r, port, st, "outbox_staff", drop, NULL) == 0);
    IT_CHECK(r.status == 1 && strstr(r.err, "no entry 1") != NULL);
    it_cli_free(&r);
    IT_CHECK(cli(&r, port, st, "outbox_staff", outbox, NULL) == 0);
    IT_CHECK(r.status == 0 && strstr(r.out, "Nothing waits in the outbox.") != NULL);
    it_cli_free(&r);
    return 0;
}

/* A port nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

/* The file is refused when others may read it: not listed, nothing kept
 * in it (the write fails as before, exit 3), nothing sent from it. */
static int an_outbox_others_may_read_is_refused(void)
{
    int port = closed_port();
    IT_CHECK(port > 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    IT_CHECK(submit_kept(port, st, IT_USER_STAFF, 1, "2025-11-01", "私密甲", "ob-6-a") == 0);
    char path[300];
    snprintf(path, sizeof path, "%s/baobao/outbox.db", st);
    IT_CHECK(chmod(path, 0640) == 0);
    it_cli r;
    const char *outbox[] = {"outbox", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "refusing to use the outbox") != NULL &&
                  strstr(r.err, "0640") != NULL && strstr(r.err, "chmod 600") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(submit(&r, port, st, IT_USER_STAFF, 1, "2025-11-02", "私密乙", "ob-6-b", NULL) == 0);
    IT_CHECKF(r.status == 3 && strstr(r.err, "could not be kept in the outbox") != NULL &&
                  strstr(r.err, "connect_failed") != NULL,
              "exit %d, stderr: %s", r.status, r.err);
    it_cli_free(&r);
    const char *sync[] = {"sync", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, sync, NULL) == 0);
    IT_CHECK(r.status == 2 && strstr(r.err, "refusing to use the outbox") != NULL);
    it_cli_free(&r);
    /* Private again: the one entry, and not the refused second. */
    IT_CHECK(chmod(path, 0600) == 0);
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    IT_CHECK(r.status == 0 && count_of(r.out, "waiting") == 1);
    it_cli_free(&r);
    /* A folder others may write to is refused too. */
    snprintf(path, sizeof path, "%s/baobao", st);
    IT_CHECK(chmod(path, 0777) == 0);
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, outbox, NULL) == 0);
    IT_CHECK(r.status == 2 && strstr(r.err, "chmod 700") != NULL);
    it_cli_free(&r);
    IT_CHECK(chmod(path, 0700) == 0);
    return 0;
}

/* ---- a reply lost on its way back ---- */

/* Forwards a and b both ways until either closes; once the client's bytes
 * (a's) have carried mark, the server's (b's) are read and dropped: the
 * request reached the server, its answer never comes back. */
static void relay_muted(int a, int b, const char *mark)
{
    char buf[65536];
    size_t mlen = strlen(mark);
    char tail[64] = "";   /* the client's last bytes: a mark cut by a read */
    size_t ntail = 0;
    bool muted = false;
    for (;;) {
        struct pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
        if (poll(p, 2, CLI_MS) <= 0)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t k = read(p[i].fd, buf, sizeof buf);
            if (k <= 0)
                return;
            if (i == 0 && !muted) {
                char look[sizeof tail + sizeof buf];
                memcpy(look, tail, ntail);
                memcpy(look + ntail, buf, (size_t)k);
                size_t nlook = ntail + (size_t)k;
                for (size_t o = 0; !muted && o + mlen <= nlook; o++)
                    muted = memcmp(look + o, mark, mlen) == 0;
                ntail = nlook < mlen ? nlook : mlen - 1;
                memmove(tail, look + nlook - ntail, ntail);
            } else if (i == 1 && muted) {
                continue;   /* the answer, lost */
            }
            for (ssize_t off = 0; off < k;) {
                ssize_t w = write(i == 0 ? b : a, buf + off, (size_t)(k - off));
                if (w <= 0)
                    return;
                off += w;
            }
        }
    }
}

/* A TCP proxy in a child process on a port of its own, for one
 * connection to server_port (relay_muted with mark); the listening socket
 * goes as soon as that connection is accepted, so a second connect is
 * refused. The child's pid (0 on failure); *port its port. */
static pid_t muted_proxy(int server_port, const char *mark, int *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 4) != 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) != 0) {
        if (l >= 0)
            close(l);
        return 0;
    }
    *port = ntohs(sa.sin_port);
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0) {
        close(l);
        return pid < 0 ? 0 : pid;
    }
    alarm(CLI_MS / 1000);
    int c = accept(l, NULL, NULL);
    close(l);
    if (c < 0)
        _exit(1);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) != 0)
        _exit(1);
    relay_muted(c, s, mark);
    close(c);
    close(s);
    _exit(0);
}

static void reap(pid_t pid)
{
    int st;
    if (pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
}

/* The day days before today in Shanghai (the server's zone) as
 * "YYYY-MM-DD", and a fake_now setting at 10:00 that day. Past days: the
 * database refuses a report dated after its own today. */
static void day_before(int days, char date[16], char fake[64])
{
    time_t t = time(NULL) + 8 * 3600 - (time_t)days * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, 16, "%Y-%m-%d", &tm);
    snprintf(fake, 64, "fake_now=%sT10:00:00+08:00", date);
}

/* The review of issue 12: a submit without --date reaches the server and
 * is stored, but its answer is lost (the proxy drops it), the retry cannot
 * connect, and the write is kept (it may have been sent: its bytes as they
 * were). The server comes back two days later (fake_now two days on): the
 * replay is the same request, so the server answers from its idempotency
 * record: the first day's report, nothing stored twice. Before the CLI
 * filled in the server's today itself (4c2efb3), the kept bytes had no
 * report_date, the server dated the replay its new today, the hash
 * differed and the replay was refused as idempotency_key_reused. */
static int a_submit_whose_answer_was_lost_is_not_redated_on_a_later_day(void)
{
    char date1[16], fake1[64], date3[16], fake3[64];
    day_before(3, date1, fake1);
    day_before(1, date3, fake3);
    const char *day1[] = {fake1, NULL};
    it_server *s = it_server_start(day1);
    IT_CHECK(s != NULL);
    int port = s->port;
    int64_t e = enterprise(port, "失联一厂", "赵李桥镇");
    IT_CHECK(e > 0);
    int pport = 0;
    pid_t proxy = muted_proxy(port, "status.submit", &pport);
    IT_CHECK(proxy > 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)e);
    const char *args[] = {"--timeout", "3000", "status", "submit", "--enterprise", ids,
                          "--reporter", "失联甲", "--production-status", "正常",
                          "--output-value", "1000", "--idempotency-key", "ob-7-a", NULL};
    it_cli r;
    int ran = cli(&r, pport, st, IT_USER_STAFF, args, NULL);
    reap(proxy);
    IT_CHECK(ran == 0);
    if (r.status != 5)
        show(&r, "status submit (answer lost)");
    IT_CHECK(r.status == 5);
    IT_CHECKF(strstr(r.err, "timeout") != NULL &&
                  strstr(r.err, "retrying once with the same idempotency key") != NULL &&
                  strstr(r.err, "kept in the outbox as entry 1") != NULL,
              "stderr: %s", r.err);
    it_cli_free(&r);
    /* The first attempt was stored, dated the server's first day. */
    const char *pe[2] = {ids, date1};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND report_date = $2::date", 2, pe) == 1);
    long long first = it_pg_int("SELECT id FROM status_report WHERE enterprise_id = $1::bigint",
                                1, pe);
    IT_CHECK(first > 0 && keys_stored("ob-7-a") == 1);
    IT_CHECK(entry_is(st, "ob-7-a", "waiting", 0) == 0);
    /* Kept as one that may have reached the server (it did). */
    IT_CHECK(journal_int(st, "SELECT count(*) FROM entry WHERE maybe_sent_at IS NOT NULL"
                             " AND idempotency_key = ?1", "ob-7-a") == 1);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);

    /* Back two days later, at the address the CLI used (the proxy's port,
     * free again: the queue is of the server as the CLI named it). */
    const char *day3[] = {fake3, NULL};
    s = restart(pport, day3);
    IT_CHECK(s != NULL);
    const char *sync[] = {"sync", NULL};
    IT_CHECK(cli(&r, pport, st, IT_USER_STAFF, sync, NULL) == 0);
    char stored[64];
    snprintf(stored, sizeof stored, "sent and stored (id %lld)", first);
    if (r.status != 0 || strstr(r.out, stored) == NULL)
        show(&r, "sync on a later day");
    IT_CHECK(r.status == 0);
    IT_CHECK(strstr(r.out, stored) != NULL &&
             strstr(r.out, "Sent 1, refused 0, too old 0, still waiting 0.") != NULL);
    it_cli_free(&r);
    IT_CHECK(reports_of(e) == 1 && keys_stored("ob-7-a") == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                       " AND report_date = $2::date", 2, pe) == 1);
    IT_CHECK(entry_is(st, "ob-7-a", "sent", 1) == 0);
    return 0;
}

/* What is never kept: reads, and writes with a password (user create: a
 * password never goes to disk). They fail as before, exit 3, and no
 * outbox is made. */
static int reads_and_passwords_are_never_kept(void)
{
    int port = closed_port();
    IT_CHECK(port > 0);
    char st[256];
    IT_CHECK(new_state(st) == 0);
    it_cli r;
    const char *list[] = {"enterprise", "list", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, list, NULL) == 0);
    IT_CHECK(r.status == 3 && strstr(r.err, "connect_failed") != NULL);
    it_cli_free(&r);
    const char *create[] = {"user", "create", "--login", "never_kept", "--display-name", "不存",
                            "--role", "supervisor", NULL};
    const char *newpw[] = {"BAOBAO_NEW_PASSWORD=never-kept-pw-1", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_ADMIN, create, newpw) == 0);
    IT_CHECKF(r.status == 3 && strstr(r.err, "queued") == NULL, "exit %d, stderr: %s", r.status,
              r.err);
    it_cli_free(&r);
    char path[300];
    struct stat sb;
    snprintf(path, sizeof path, "%s/baobao/outbox.db", st);
    IT_CHECKF(stat(path, &sb) != 0 && errno == ENOENT, "an outbox was made");
    /* And the help tells exit 5. */
    const char *help[] = {"--help", NULL};
    IT_CHECK(cli(&r, port, st, IT_USER_STAFF, help, NULL) == 0);
    IT_CHECK(r.status == 0 && strstr(r.out, "  5  the server could not be reached") != NULL &&
             strstr(r.out, "outbox") != NULL);
    it_cli_free(&r);
    return 0;
}

/* idempotency_keep_days: served by server.info, and what housekeeping
 * keeps (a record 3 days old goes, one of a day stays, with 2). */
static int the_servers_window_is_a_setting_it_serves(void)
{
    IT_CHECK(it_pg_exec("INSERT INTO idempotency (method, key, request_hash, created_at) VALUES"
                        " ('it.outbox', 'three_days', 'h', now() - interval '3 days'),"
                        " ('it.outbox', 'one_day', 'h', now() - interval '1 day')",
                        0, NULL) == 0);
    /* Housekeeping runs once per database per period (sql/026's claim):
     * an earlier server of this binary may have had this hour's pass. */
    IT_CHECK(it_pg_exec("UPDATE housekeeping_claim SET last_at = '-infinity'", 0, NULL) == 0);
    const char *keep2[] = {"idempotency_keep_days=2", NULL};
    it_server *s = it_server_start(keep2);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    unsigned char b[32];
    size_t n = it_server_info_bytes(1, b);
    it_msg m;
    IT_CHECK(it_call(c, b, n, 1, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    int64_t days = 0;
    bool ok = !m.is_error && it_get_int(m.result, "idempotency_keep_days", &days) && days == 2;
    it_msg_free(&m);
    it_close(c);
    IT_CHECKF(ok, "server.info: idempotency_keep_days %lld, expected 2", (long long)days);
    int64_t deadline = it_now_ms() + 30000;
    long long left = -1;
    while (it_now_ms() < deadline) {
        left = it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.outbox'", 0, NULL);
        if (left == 1)
            break;
        it_sleep_ms(100);
    }
    IT_CHECK(left == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.outbox'"
                       " AND key = 'one_day'", 0, NULL) == 1);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"writes_kept_offline_are_stored_once_by_sync",
         writes_kept_offline_are_stored_once_by_sync},
        {"a_cli_killed_while_sending_never_stores_twice",
         a_cli_killed_while_sending_never_stores_twice},
        {"two_syncs_at_once_send_each_entry_once", two_syncs_at_once_send_each_entry_once},
        {"an_entry_older_than_the_window_is_kept_not_sent",
         an_entry_older_than_the_window_is_kept_not_sent},
        {"an_entry_that_never_left_waits_past_the_window",
         an_entry_that_never_left_waits_past_the_window},
        {"an_outbox_of_schema_1_is_brought_up_to_date",
         an_outbox_of_schema_1_is_brought_up_to_date},
        {"a_replay_the_server_refuses_is_kept_and_shown",
         a_replay_the_server_refuses_is_kept_and_shown},
        {"an_outbox_others_may_read_is_refused", an_outbox_others_may_read_is_refused},
        {"a_submit_whose_answer_was_lost_is_not_redated_on_a_later_day",
         a_submit_whose_answer_was_lost_is_not_redated_on_a_later_day},
        {"reads_and_passwords_are_never_kept", reads_and_passwords_are_never_kept},
        {"the_servers_window_is_a_setting_it_serves", the_servers_window_is_a_setting_it_serves},
    };
    return it_main(argc, argv, "outbox", tests, sizeof tests / sizeof tests[0], NULL);
}
