/*
 * test_housekeeping.c: maintenance runs on its own timer, not as a side
 * effect of exports: with exports switched off (export_time empty, no
 * export.run) and the clock pinned (fake_now), a server deletes the
 * idempotency records older than 7 days, the login_throttle rows with
 * nothing left to say and the expired session tokens, keeps the others,
 * and no export run happens.
 *
 * The rows are put in place before the server starts and nothing but the
 * housekeeping pass at start deletes them, so without its timer started
 * the test fails (the old rows stay).
 *
 * Not for: export runs (test_export.c), the login throttle's rules
 * (test_accounts.c), idempotent replays (test_idempotency.c).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a pass at start may take to show (the pool's first connection,
 * under the sanitizers). */
#define SWEEP_TIMEOUT_MS 30000

static char g_dir[256];

static int setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/it-housekeeping-%d", (int)getpid());
    return mkdir(g_dir, 0755);
}

/* Polls until SQL's count is want. */
static bool wait_count(const char *sql, long long want, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (it_pg_int(sql, 0, NULL) == want)
            return true;
        it_sleep_ms(200);
    }
    return false;
}

/* Housekeeping runs once per database per period (sql/026's claim): a
 * new server of this test would find the last test's pass and skip its
 * own. Each test is a new period. */
static void new_period(void)
{
    if (it_pg_exec("UPDATE housekeeping_claim SET last_at = '-infinity'", 0, NULL) != 0)
        it_note("housekeeping_claim could not be reset");
}

static it_server *start_without_exports(void)
{
    new_period();
    char set[300];
    snprintf(set, sizeof set, "export_dir=%s", g_dir);
    const char *sets[] = {set, "export_time=", "fake_now=2030-06-10T10:00:00+08:00", NULL};
    return it_server_start(sets);
}

static int old_idempotency_records_are_deleted_with_exports_off(void)
{
    IT_CHECK(it_pg_exec("INSERT INTO idempotency (method, key, request_hash, created_at) VALUES"
                        " ('it.housekeeping', 'old', 'h', now() - interval '8 days'),"
                        " ('it.housekeeping', 'recent', 'h', now() - interval '6 days')",
                        0, NULL) == 0);
    it_server *s = start_without_exports();
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM idempotency WHERE method = 'it.housekeeping'"
                        " AND key = 'old'",
                        0, SWEEP_TIMEOUT_MS));
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.housekeeping'"
                       " AND key = 'recent'", 0, NULL) == 1);
    IT_CHECK(it_server_log_has(s, "event=housekeeping "));
    /* Nothing of an export happened: the pruning is not its side effect. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run", 0, NULL) == 0);
    IT_CHECK(!it_server_log_has(s, "event=export_started"));
    return 0;
}

/* Starts a server without exports whose clock is pinned at fake_now, and
 * waits for its housekeeping pass at start. */
static it_server *start_pinned_and_sweep(const char *fake_now)
{
    char set[300], fn[80];
    snprintf(set, sizeof set, "export_dir=%s", g_dir);
    snprintf(fn, sizeof fn, "fake_now=%s", fake_now);
    const char *sets[] = {set, "export_time=", fn, NULL};
    new_period();
    it_server *s = it_server_start(sets);
    if (s == NULL)
        return NULL;
    for (int64_t end = it_now_ms() + SWEEP_TIMEOUT_MS; it_now_ms() < end;) {
        if (it_server_log_has(s, "event=housekeeping "))
            return s;
        it_sleep_ms(200);
    }
    it_note("no housekeeping pass within %d ms", SWEEP_TIMEOUT_MS);
    return NULL;
}

/* The age of an idempotency record is reckoned by the database's clock
 * (created_at against PostgreSQL's now()), never by fake_now (PROTOCOL.md
 * sections 2 and 4): pinned years in the past, a record 400 days old still
 * goes (it would be "in the future" by the pinned clock); pinned years
 * ahead, a record made just now still stays. 400 days: older than any
 * window a server keeps records for. */
static int idempotency_expiry_follows_the_database_clock_not_fake_now(void)
{
    IT_CHECK(it_pg_exec("INSERT INTO idempotency (method, key, request_hash, created_at) VALUES"
                        " ('it.clock', 'old', 'h', now() - interval '400 days'),"
                        " ('it.clock', 'fresh', 'h', now())",
                        0, NULL) == 0);
    it_server *s = start_pinned_and_sweep("2020-01-01T10:00:00+08:00");
    IT_CHECK(s != NULL);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.clock'"
                       " AND key = 'old'", 0, NULL) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.clock'"
                       " AND key = 'fresh'", 0, NULL) == 1);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    s = start_pinned_and_sweep("2099-01-01T10:00:00+08:00");
    IT_CHECK(s != NULL);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'it.clock'"
                       " AND key = 'fresh'", 0, NULL) == 1);
    return 0;
}

/* login_throttle rows with nothing left to say (no lock in force, no
 * check running, last failure over a day old) go; the others stay. */
static int stale_login_throttle_rows_are_deleted_with_exports_off(void)
{
    IT_CHECK(it_pg_exec("INSERT INTO login_throttle (subject, failures, last_failure_at,"
                        " locked_until, claims) VALUES"
                        " ('user:it-stale', 2, now() - interval '2 days', NULL,"
                        "  ARRAY[now() - interval '1 hour']),"
                        " ('user:it-recent', 2, now() - interval '1 hour', NULL, '{}'),"
                        " ('user:it-locked', 5, now() - interval '2 days',"
                        "  now() + interval '1 hour', '{}')",
                        0, NULL) == 0);
    it_server *s = start_without_exports();
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM login_throttle WHERE subject = 'user:it-stale'", 0,
                        SWEEP_TIMEOUT_MS));
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_throttle"
                       " WHERE subject IN ('user:it-recent', 'user:it-locked')", 0, NULL) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM export_run", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle WHERE subject LIKE 'user:it-%'", 0, NULL) ==
             0);
    return 0;
}

/* Expired session tokens (issue 11) go; a live one stays. */
static int expired_session_tokens_are_deleted(void)
{
    const char *params[] = {IT_USER_STAFF};
    IT_CHECK(it_pg_exec("INSERT INTO session_token (token_hash, user_id, expires_at, addr)"
                        " SELECT sha256(convert_to(v.t, 'UTF8')), u.id, v.e, '127.0.0.1'"
                        "   FROM app_user u,"
                        "        (VALUES ('it-expired', now() - interval '1 second'),"
                        "                ('it-live', now() + interval '1 day')) AS v(t, e)"
                        "  WHERE u.login = $1",
                        1, params) == 0);
    it_server *s = start_without_exports();
    IT_CHECK(s != NULL);
    IT_CHECK(wait_count("SELECT count(*) FROM session_token"
                        " WHERE token_hash = sha256(convert_to('it-expired', 'UTF8'))",
                        0, SWEEP_TIMEOUT_MS));
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token"
                       " WHERE token_hash = sha256(convert_to('it-live', 'UTF8'))", 0, NULL) == 1);
    IT_CHECK(it_server_log_has(s, "tokens_deleted="));
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"old_idempotency_records_are_deleted_with_exports_off",
         old_idempotency_records_are_deleted_with_exports_off},
        {"stale_login_throttle_rows_are_deleted_with_exports_off",
         stale_login_throttle_rows_are_deleted_with_exports_off},
        {"expired_session_tokens_are_deleted", expired_session_tokens_are_deleted},
        {"idempotency_expiry_follows_the_database_clock_not_fake_now",
         idempotency_expiry_follows_the_database_clock_not_fake_now},
    };
    int rc = it_main(argc, argv, "housekeeping", tests, sizeof tests / sizeof tests[0], setup);
    if (g_dir[0] != '\0') {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0 && rc == 0)
            rc = 1;
    }
    return rc;
}
