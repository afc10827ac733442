/*
 * test_delivery.c: 督办 notices delivered beyond the clients (issue 13,
 * PROTOCOL.md section 6 "Delivery of notices"): a real baobaod drains the
 * outbox notice_delivery with a real command, a shell script the test
 * writes (or the shipped example scripts/notice-to-file), never a mock.
 *
 * Each test puts a notice and its delivery in the database directly (the
 * rows the sweep would write: sql/023), so the outbox is tested on its
 * own, then starts a server with delivery_command and watches the rows
 * (notice_delivery, notice_delivery_attempt), the command's files and the
 * processes. Deliveries left pending by an earlier test are given up
 * first, so each server sees only its own.
 *
 * Not for: the sweep that queues deliveries (test_supervise.c), notices
 * as people read them (test_notices.c), pushes to clients (test_push.c).
 */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a delivery may take to show (server start and the pool's first
 * connection under the sanitizers, then a claim). */
#define WAIT_MS 30000

static char g_dir[256];
static int64_t g_enterprise;
static int g_n;   /* notices made, for their seq and titles */

static int setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/it-delivery-%d", (int)getpid());
    if (mkdir(g_dir, 0755) != 0)
        return -1;
    g_enterprise = it_shared_enterprise(8801, "宝宝送达测试有限公司", "赵李桥镇");
    return g_enterprise > 0 ? 0 : -1;
}

/* ---- the database ---- */

/* The first cell of one statement's first row, copied into out ("" for
 * NULL). false on error or no row (printed). */
static bool pg_text(const char *sql, int n, const char *const *params, char *out, size_t len)
{
    PGconn *c = it_pg();
    if (c == NULL)
        return false;
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) >= 1;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)   /* no row yet: not worth a note */
        it_note("pg_text: %s: %s", sql, PQresultErrorMessage(r));
    else
        snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return ok;
}

/* Gives up what earlier tests left pending. */
static int clear_outbox(void)
{
    return it_pg_exec("UPDATE notice_delivery SET state = 'expired', finished_at = now(),"
                      " claimed_by = NULL, claim_until = NULL WHERE state = 'pending'",
                      0, NULL);
}

/*
 * A red notice on a new problem of the test's enterprise, addressed to an
 * official with a phone number (承办人) and to a unit (承办单位), and its
 * delivery: the rows the sweep writes. Returns the delivery's id, -1 on
 * failure. The problem's deadline is far away: a sweep leaves it alone.
 */
static long long make_delivery(void)
{
    g_n++;
    char n[16], ent[24];
    snprintf(n, sizeof n, "%d", g_n);
    snprintf(ent, sizeof ent, "%lld", (long long)g_enterprise);
    const char *p[] = {n, ent};
    return it_pg_int(
        "WITH u AS (INSERT INTO unit (name) VALUES ('送达测试局' || $1) RETURNING id),"
        " o AS (INSERT INTO official (name, title, unit_id, phone)"
        "       SELECT '李送达' || $1, '副局长', u.id, '1380000000' || $1 FROM u RETURNING id),"
        " pr AS (INSERT INTO problem (enterprise_id, category, description, deadline,"
        "                             assignee_unit_id, assignee_official_id)"
        "        SELECT $2::bigint, '用地', '送达测试问题' || $1, DATE '2099-01-01', u.id, o.id"
        "          FROM u, o RETURNING id),"
        " nt AS (INSERT INTO notice (year, seq, problem_id, level, township_id, title,"
        "                            due_date, days_overdue, issued_on)"
        "        SELECT 2026, 9000 + $1::int, pr.id, 'red', e.township_id,"
        "               '送达测试问题' || $1, DATE '2026-12-01', 6, DATE '2026-12-07'"
        "          FROM pr, enterprise e WHERE e.id = $2::bigint RETURNING id),"
        " r1 AS (INSERT INTO notice_recipient (notice_id, official_id, role)"
        "        SELECT nt.id, o.id, '承办人' FROM nt, o),"
        " r2 AS (INSERT INTO notice_recipient (notice_id, unit_id, role)"
        "        SELECT nt.id, u.id, '承办单位' FROM nt, u)"
        " INSERT INTO notice_delivery (notice_id) SELECT id FROM nt RETURNING id",
        2, p);
}

/* Polls until the statement (with the delivery id as $1) says want. */
static bool wait_text(const char *sql, long long id, const char *want, int ms)
{
    char ids[24], got[256] = "";
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (pg_text(sql, 1, p, got, sizeof got) && strcmp(got, want) == 0)
            return true;
        it_sleep_ms(100);
    }
    it_note("waited for %s = \"%s\", last \"%s\"", sql, want, got);
    return false;
}

static bool wait_state(long long id, const char *want, int ms)
{
    return wait_text("SELECT state FROM notice_delivery WHERE id = $1::bigint", id, want, ms);
}

/* Attempts of a delivery as "n:outcome:exit_code" joined by spaces. */
static bool attempts_are(long long id, const char *want)
{
    char ids[24], got[512] = "";
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    if (!pg_text("SELECT coalesce(string_agg(attempt || ':' || coalesce(outcome, '-') || ':'"
                 "       || coalesce(exit_code::text, '-'), ' ' ORDER BY attempt), '')"
                 " FROM notice_delivery_attempt WHERE delivery_id = $1::bigint",
                 1, p, got, sizeof got))
        return false;
    if (strcmp(got, want) != 0) {
        it_note("attempts of delivery %lld: \"%s\", expected \"%s\"", id, got, want);
        return false;
    }
    return true;
}

/* ---- files and processes ---- */

static int write_script(const char *name, const char *body, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "#!/bin/sh\n%s", body);
    if (fclose(f) != 0)
        return -1;
    return chmod(path, 0755);
}

/* The file's contents (malloc'd, "" when absent). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return strdup("");
    char *buf = malloc(1 << 20);
    if (buf == NULL) {
        fclose(f);
        return NULL;
    }
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_lines(const char *path)
{
    char *s = slurp(path);
    int n = 0;
    for (char *p = s; p != NULL && *p; p++)
        n += *p == '\n';
    free(s);
    return n;
}

static bool wait_lines(const char *path, int want, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (count_lines(path) >= want)
            return true;
        it_sleep_ms(50);
    }
    return false;
}

/* The pid written in the file, or -1. */
static long read_pid(const char *path)
{
    char *s = slurp(path);
    long pid = s != NULL && *s ? strtol(s, NULL, 10) : -1;
    free(s);
    return pid;
}

/* True when the process no longer runs (gone, or a zombie nobody reaped
 * yet). */
static bool process_gone(long pid)
{
    if (kill((pid_t)pid, 0) != 0)
        return errno == ESRCH;
    char path[64], stat[256] = "";
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return true;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *rp = strrchr(stat, ')');
    return rp != NULL && rp[1] == ' ' && rp[2] == 'Z';
}

/* Polls the server's log for needle (the log is written asynchronously). */
static bool wait_log(const it_server *s, const char *needle, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (it_server_log_has(s, needle))
            return true;
        it_sleep_ms(50);
    }
    it_note("no \"%s\" in the log", needle);
    return false;
}

static bool wait_gone(long pid, int ms)
{
    int64_t end = it_now_ms() + ms;
    while (it_now_ms() < end) {
        if (process_gone(pid))
            return true;
        it_sleep_ms(50);
    }
    return false;
}

/* "delivery_command=<cmd>" */
static const char *command_set(char *buf, size_t len, const char *cmd)
{
    snprintf(buf, len, "delivery_command=%s", cmd);
    return buf;
}

/* ---- the tests ---- */

/* The shipped example command gets the notice as JSON (the fields of
 * notice_wire, recipients with their phone numbers) and appends one line;
 * the delivery is sent after one attempt, recorded with this process. */
static int example_command_receives_the_notice_as_json(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    const char *script = getenv("IT_NOTICE_TO_FILE");
    IT_CHECK(script != NULL);
    char file[400], cmd[1000], set[1100];
    snprintf(file, sizeof file, "%s/example.jsonl", g_dir);
    snprintf(cmd, sizeof cmd, "%s %s", script, file);
    const char *sets[] = {command_set(set, sizeof set, cmd), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_state(id, "sent", WAIT_MS));
    IT_CHECK(attempts_are(id, "1:sent:0"));
    IT_CHECK(count_lines(file) == 1);

    /* The line is the JSON of PROTOCOL.md: read it back with PostgreSQL. */
    char *line = slurp(file);
    IT_CHECK(line != NULL);
    char ids[24], got[512];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {line, ids};
    IT_CHECK(pg_text("SELECT (j->>'delivery_id')::bigint = $2::bigint AND (j->>'attempt') = '1'"
                     "   AND j->'notice'->>'number' = '督〔2026〕' || n.seq || '号'"
                     "   AND j->'notice'->>'level' = 'red'"
                     "   AND j->'notice'->>'township' = '赵李桥镇'"
                     "   AND j->'notice'->>'title' = n.title"
                     "   AND j->'notice'->>'due_date' = '2026-12-01'"
                     "   AND (j->'notice'->>'id')::bigint = n.id"
                     " FROM (SELECT $1::jsonb AS j) x, notice_delivery d JOIN notice n"
                     "   ON n.id = d.notice_id WHERE d.id = $2::bigint",
                     2, p, got, sizeof got));
    IT_CHECK_STR(got, "t");
    IT_CHECK(pg_text("SELECT (j->'notice'->'recipients')::text FROM (SELECT $1::jsonb AS j) x",
                     1, p, got, sizeof got));
    it_note("recipients: %s", got);
    char want[64];
    snprintf(want, sizeof want, "\"phone\": \"1380000000%d\"", g_n);
    IT_CHECKF(strstr(got, want) != NULL, "no %s in %s", want, got);
    IT_CHECK(strstr(got, "\"role\": \"承办人\"") != NULL);
    IT_CHECK(strstr(got, "\"title\": \"副局长\"") != NULL);
    IT_CHECK(strstr(got, "\"role\": \"承办单位\"") != NULL);
    free(line);

    /* Recorded with this process (host:pid), the lease given back. */
    char pidpat[32];
    snprintf(pidpat, sizeof pidpat, "%%:%d", (int)s->pid);
    const char *p2[] = {ids, pidpat};
    IT_CHECK(pg_text("SELECT (a.process LIKE $2 AND d.claimed_by IS NULL"
                     "        AND d.finished_at IS NOT NULL AND a.ended_at IS NOT NULL)"
                     " FROM notice_delivery d JOIN notice_delivery_attempt a"
                     "   ON a.delivery_id = d.id WHERE d.id = $1::bigint",
                     2, p2, got, sizeof got));
    IT_CHECK_STR(got, "t");
    IT_CHECK(it_server_log_has(s, "event=delivery_sent"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A delivery queued while the server runs is sent at once on the
 * bb_delivery notification (the sweep's), not at the next poll. */
static int notification_drains_at_once(void)
{
    IT_CHECK(clear_outbox() == 0);
    const char *script = getenv("IT_NOTICE_TO_FILE");
    IT_CHECK(script != NULL);
    char file[400], cmd[1000], set[1100];
    snprintf(file, sizeof file, "%s/notify.jsonl", g_dir);
    snprintf(cmd, sizeof cmd, "%s %s", script, file);
    const char *sets[] = {command_set(set, sizeof set, cmd), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(1000);   /* the drain at start has found nothing */
    long long id = make_delivery();
    IT_CHECK(id > 0);
    IT_CHECK(it_pg_exec("SELECT pg_notify('bb_delivery', '')", 0, NULL) == 0);
    int64_t t0 = it_now_ms();
    IT_CHECK(wait_state(id, "sent", 10000));
    it_note("sent %lld ms after the notification", (long long)(it_now_ms() - t0));
    IT_CHECK(count_lines(file) == 1);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A command that fails is tried again after delivery_retry_min_ms,
 * doubling up to delivery_retry_max_ms; every attempt is a row with its
 * exit code and the command's last words on stderr. */
static int failing_command_is_retried_with_backoff(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    char script[400], body[4000], set[600];
    /* Fails 4 times, then sends. */
    snprintf(body, sizeof body,
             "cat >/dev/null\n"
             "n=$(cat %s/fail.count 2>/dev/null || echo 0)\n"
             "n=$((n + 1))\n"
             "echo $n >%s/fail.count\n"
             "echo \"网关拒绝 gateway refused, try $n\" >&2\n"
             "[ $n -ge 5 ] && exit 0\n"
             "exit 3\n",
             g_dir, g_dir);
    IT_CHECK(write_script("fail.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "delivery_retry_min_ms=400",
                          "delivery_retry_max_ms=800", "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_state(id, "sent", WAIT_MS));
    IT_CHECK(attempts_are(id, "1:failed:3 2:failed:3 3:failed:3 4:failed:3 5:sent:0"));

    char ids[24], got[512];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    IT_CHECK(pg_text("SELECT detail FROM notice_delivery_attempt"
                     " WHERE delivery_id = $1::bigint AND attempt = 2", 1, p, got, sizeof got));
    IT_CHECK_STR(got, "网关拒绝 gateway refused, try 2\n");
    /* The waits: from the end of attempt n to the start of n + 1, in ms. */
    IT_CHECK(pg_text("SELECT string_agg(round(extract(epoch FROM b.started_at - a.ended_at)"
                     "                        * 1000)::text, ' ' ORDER BY a.attempt)"
                     " FROM notice_delivery_attempt a JOIN notice_delivery_attempt b"
                     "   ON b.delivery_id = a.delivery_id AND b.attempt = a.attempt + 1"
                     " WHERE a.delivery_id = $1::bigint", 1, p, got, sizeof got));
    it_note("waits between attempts (ms): %s", got);
    long w[4];
    IT_CHECK(sscanf(got, "%ld %ld %ld %ld", &w[0], &w[1], &w[2], &w[3]) == 4);
    IT_CHECKF(w[0] >= 400 && w[1] >= 800 && w[2] >= 800 && w[3] >= 800, "waits %s", got);
    /* Capped: without delivery_retry_max_ms the 4th wait would be 3200. */
    IT_CHECKF(w[3] < 2400, "the 4th wait %ld ms is not capped at 800", w[3]);
    IT_CHECK(it_server_log_has(s, "event=delivery_failed"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A command that hangs is killed with its process group at
 * delivery_timeout_ms: outcome timeout, its children gone too, the
 * delivery waiting for its retry. */
static int hanging_command_is_killed_at_the_timeout(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    char script[400], body[4000], set[600], shpid[400], sleeppid[400];
    snprintf(shpid, sizeof shpid, "%s/hang.sh.pid", g_dir);
    snprintf(sleeppid, sizeof sleeppid, "%s/hang.sleep.pid", g_dir);
    snprintf(body, sizeof body,
             "echo $$ >%s\n"
             "cat >/dev/null\n"
             "echo 'sending...' >&2\n"
             "sleep 120 &\n"
             "echo $! >%s\n"
             "wait\n",
             shpid, sleeppid);
    IT_CHECK(write_script("hang.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "delivery_timeout_ms=1500",
                          "delivery_retry_min_ms=600000", "delivery_retry_max_ms=600000",
                          "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_text("SELECT coalesce(outcome, '-') FROM notice_delivery_attempt"
                       " WHERE delivery_id = $1::bigint AND attempt = 1",
                       id, "timeout", WAIT_MS));
    long sh = read_pid(shpid), sl = read_pid(sleeppid);
    IT_CHECK(sh > 0 && sl > 0);
    IT_CHECKF(wait_gone(sh, 5000), "the command (pid %ld) still runs", sh);
    IT_CHECKF(wait_gone(sl, 5000), "the command's child (pid %ld) still runs", sl);
    IT_CHECK(attempts_are(id, "1:timeout:-"));

    char ids[24], got[256];
    snprintf(ids, sizeof ids, "%lld", id);
    const char *p[] = {ids};
    /* Killed after 1.5 s, not long after; retried ten minutes on. */
    IT_CHECK(pg_text("SELECT extract(epoch FROM a.ended_at - a.started_at) >= 1.5"
                     "   AND extract(epoch FROM a.ended_at - a.started_at) < 10"
                     "   AND d.state = 'pending' AND d.claimed_by IS NULL"
                     "   AND d.next_at > now() + interval '5 minutes'"
                     "   AND a.detail = E'sending...\\n'"
                     " FROM notice_delivery d JOIN notice_delivery_attempt a"
                     "   ON a.delivery_id = d.id WHERE d.id = $1::bigint",
                     1, p, got, sizeof got));
    IT_CHECK_STR(got, "t");
    IT_CHECK(it_server_log_has(s, "event=delivery_timeout"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* baobaod killed (-9) while the command runs: the attempt stays open;
 * the next server records it 'lost' once its lease has ended and sends
 * again. Sent at least once (the file has the delivery), recorded once
 * (one 'sent' attempt). */
static int killed_server_mid_delivery_sends_again(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    const char *example = getenv("IT_NOTICE_TO_FILE");
    IT_CHECK(example != NULL);
    char script[400], body[4000], set[600], file[400], hold[400];
    snprintf(file, sizeof file, "%s/killed.jsonl", g_dir);
    snprintf(hold, sizeof hold, "%s/killed.hold", g_dir);
    /* Sends (appends the line), then hangs while the hold file exists
     * (at most 20 s): baobaod dies before it knows. */
    snprintf(body, sizeof body,
             "%s %s || exit 1\n"
             "i=0\n"
             "while [ -e %s ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done\n"
             "exit 0\n",
             example, file, hold);
    IT_CHECK(write_script("killed.sh", body, script, sizeof script) == 0);
    FILE *h = fopen(hold, "w");
    IT_CHECK(h != NULL);
    fclose(h);

    const char *sets[] = {command_set(set, sizeof set, script), "delivery_timeout_ms=2000",
                          "notice_due_days=0", NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    IT_CHECK(wait_lines(file, 1, WAIT_MS));
    int pid_a = (int)a->pid;   /* 0 once reaped */
    it_server_signal(a, SIGKILL);
    IT_CHECK(it_server_wait(a, 10000) != -1);
    IT_CHECK(unlink(hold) == 0);   /* the orphaned command ends by itself */
    IT_CHECK(attempts_are(id, "1:-:-"));

    it_server *b = it_server_start(sets);
    IT_CHECK(b != NULL);
    /* The lease: 2 s + the grace; then claimed again. */
    IT_CHECK(wait_state(id, "sent", WAIT_MS));
    IT_CHECK(attempts_are(id, "1:lost:- 2:sent:0"));
    char ids[24], got[256], pa[32], pb[32];
    snprintf(ids, sizeof ids, "%lld", id);
    snprintf(pa, sizeof pa, "%%:%d", pid_a);
    snprintf(pb, sizeof pb, "%%:%d", (int)b->pid);
    const char *p[] = {ids, pa, pb};
    IT_CHECK(pg_text("SELECT bool_and(CASE attempt WHEN 1 THEN process LIKE $2"
                     "                             ELSE process LIKE $3 END)"
                     " FROM notice_delivery_attempt WHERE delivery_id = $1::bigint",
                     3, p, got, sizeof got));
    IT_CHECK_STR(got, "t");
    /* At least once: both attempts wrote their line, each with its number. */
    IT_CHECK(count_lines(file) == 2);
    char *lines = slurp(file);
    IT_CHECK(lines != NULL);
    char want1[80], want2[80];
    snprintf(want1, sizeof want1, "\"attempt\": 1, \"delivery_id\": %lld", id);
    snprintf(want2, sizeof want2, "\"attempt\": 2, \"delivery_id\": %lld", id);
    bool has = strstr(lines, want1) != NULL && strstr(lines, want2) != NULL;
    if (!has)
        it_note("file: %s", lines);
    free(lines);
    IT_CHECK(has);
    IT_CHECK(it_server_stop(b, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A delivery older than delivery_max_age_hours is given up, never sent:
 * at the claim (no attempt), and after a failed attempt. */
static int old_delivery_expires(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long old = make_delivery(), late = make_delivery();
    IT_CHECK(old > 0 && late > 0);
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", old);
    const char *p[] = {ids};
    IT_CHECK(it_pg_exec("UPDATE notice_delivery SET created_at = now() - interval '73 hours'"
                        " WHERE id = $1::bigint", 1, p) == 0);

    /* The command waits for the test's go, and fails. */
    char script[400], body[4000], set[600], go[400], ran[400];
    snprintf(go, sizeof go, "%s/expire.go", g_dir);
    snprintf(ran, sizeof ran, "%s/expire.ran", g_dir);
    snprintf(body, sizeof body,
             "cat >>%s\n"
             "echo >>%s\n"
             "i=0\n"
             "while [ ! -e %s ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done\n"
             "echo 'no route' >&2\n"
             "exit 1\n",
             ran, ran, go);
    IT_CHECK(write_script("expire.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "delivery_timeout_ms=60000",
                          "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_state(old, "expired", WAIT_MS));
    IT_CHECK(attempts_are(old, ""));
    /* Given up at the claim: the warning names it. */
    char want[96];
    snprintf(want, sizeof want, "event=delivery_expired delivery_id=%lld attempts=0", old);
    IT_CHECK(wait_log(s, want, 5000));
    /* The other one is running; it grows old meanwhile, then fails. */
    IT_CHECK(wait_text("SELECT attempts::text FROM notice_delivery WHERE id = $1::bigint",
                       late, "1", WAIT_MS));
    snprintf(ids, sizeof ids, "%lld", late);
    IT_CHECK(it_pg_exec("UPDATE notice_delivery SET created_at = now() - interval '73 hours'"
                        " WHERE id = $1::bigint", 1, p) == 0);
    FILE *f = fopen(go, "w");
    IT_CHECK(f != NULL);
    fclose(f);
    IT_CHECK(wait_state(late, "expired", WAIT_MS));
    IT_CHECK(attempts_are(late, "1:failed:1"));
    /* The command ran once, for the second one only. */
    IT_CHECK(count_lines(ran) == 1);
    /* Given up after its failed attempt: the warning names it too. */
    snprintf(want, sizeof want, "event=delivery_expired delivery_id=%lld attempts=1", late);
    IT_CHECK(wait_log(s, want, 5000));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A delivery whose notice cannot be read (no notice_wire row) is given up
 * at the claim with a failed attempt and an error in the log, not claimed
 * again at every lease; the command never runs for it. */
static int delivery_without_payload_is_given_up(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    /* The notice disappears under its delivery (foreign keys off for this
     * transaction only: a broken database, which is what is tested). */
    PGconn *c = it_pg();
    IT_CHECK(c != NULL);
    char sql[600];
    snprintf(sql, sizeof sql,
             "BEGIN; SET LOCAL session_replication_role = replica;"
             " DELETE FROM notice_recipient WHERE notice_id ="
             "   (SELECT notice_id FROM notice_delivery WHERE id = %lld);"
             " DELETE FROM notice WHERE id ="
             "   (SELECT notice_id FROM notice_delivery WHERE id = %lld); COMMIT",
             id, id);
    PGresult *r = PQexec(c, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        it_note("%s", PQresultErrorMessage(r));
    PQclear(r);
    IT_CHECK(ok);

    char script[400], body[1000], set[600], ran[400];
    snprintf(ran, sizeof ran, "%s/nopayload.ran", g_dir);
    snprintf(body, sizeof body, "cat >>%s\necho >>%s\n", ran, ran);
    IT_CHECK(write_script("nopayload.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_state(id, "expired", WAIT_MS));
    IT_CHECK(attempts_are(id, "1:failed:-"));
    char want[96];
    snprintf(want, sizeof want, "event=delivery_no_payload delivery_id=%lld attempt=1", id);
    IT_CHECK(wait_log(s, want, 5000));
    IT_CHECK(count_lines(ran) == 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A command that exits 0 and leaves a child running in its group: the
 * delivery is sent and the child gets SIGTERM, it does not outlive the
 * attempt. */
static int command_leftovers_are_killed(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    char script[400], body[4000], set[600], pidf[400];
    snprintf(pidf, sizeof pidf, "%s/leftover.pid", g_dir);
    snprintf(body, sizeof body,
             "cat >/dev/null\nsleep 120 >/dev/null 2>&1 &\necho $! >%s\nexit 0\n", pidf);
    IT_CHECK(write_script("leftover.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_state(id, "sent", WAIT_MS));
    IT_CHECK(attempts_are(id, "1:sent:0"));
    long pid = read_pid(pidf);
    IT_CHECK(pid > 0);
    bool gone = wait_gone(pid, 5000);
    if (!gone)
        (void)kill((pid_t)pid, SIGKILL);   /* leave nothing behind either way */
    IT_CHECKF(gone, "the command's child (pid %ld) outlived its attempt", pid);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The lease runs from the moment of the claim, not from the start of the
 * claim's transaction: the command's timer starts only after the commit,
 * so a lease counted from earlier could end before the command's timeout
 * (another process would run it a second time). bb_delivery_claim is
 * called directly, in a transaction that began half a second earlier,
 * and rolled back. */
static int lease_counts_from_the_claim(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    PGconn *c = it_pg();
    IT_CHECK(c != NULL);
    char check[200];
    snprintf(check, sizeof check,
             "SELECT (extract(epoch FROM claim_until - clock_timestamp()) * 1000)::int"
             " FROM notice_delivery WHERE id = %lld", id);
    const char *steps[] = {
        "BEGIN", "SELECT pg_sleep(0.5)",
        "SELECT * FROM bb_delivery_claim(p_process => 'test:1', p_limit => 1,"
        " p_lease_ms => 10000, p_max_age_hours => 72)",
        check,
    };
    int left = -1;
    bool ok = true;
    for (size_t i = 0; ok && i < sizeof steps / sizeof steps[0]; i++) {
        PGresult *r = PQexec(c, steps[i]);
        ExecStatusType st = PQresultStatus(r);
        ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
        if (!ok)
            it_note("%s: %s", steps[i], PQresultErrorMessage(r));
        else if (i == 2)
            ok = PQntuples(r) == 1;
        else if (i == 3 && PQntuples(r) == 1)
            left = atoi(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    PQclear(PQexec(c, "ROLLBACK"));
    IT_CHECK(ok);
    IT_CHECKF(left > 9800 && left <= 10000, "lease left right after the claim: %d ms of 10000",
              left);
    return 0;
}

/* With nothing pending the server waits for bb_delivery: it does not
 * poll the outbox (bb_delivery_next_ms says NULL, not 0). The claims are
 * counted by PostgreSQL (track_functions, on for this test's sessions);
 * the server's sessions report their counts when they end. */
static int empty_outbox_is_not_polled(void)
{
    IT_CHECK(clear_outbox() == 0);
    char sql[300];
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" SET track_functions = 'pl'",
             it_db_name());
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    const char *count = "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions"
                        " WHERE funcname = 'bb_delivery_claim'";
    long long before = it_pg_int(count, 0, NULL);
    char script[400], set[600];
    IT_CHECK(write_script("idle.sh", "cat >/dev/null\n", script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(2000);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    snprintf(sql, sizeof sql, "ALTER DATABASE \"%s\" RESET track_functions", it_db_name());
    IT_CHECK(it_pg_exec(sql, 0, NULL) == 0);
    long long claims = -1;
    for (int i = 0; i < 20 && claims <= 0; i++) {   /* the sessions' last report */
        it_sleep_ms(100);
        claims = it_pg_int(count, 0, NULL) - before;
    }
    IT_CHECKF(claims >= 1 && claims <= 4, "%lld claims in 2 s with nothing pending", claims);
    return 0;
}

/* SIGTERM while a command runs: baobaod kills it (its group) and exits
 * cleanly (no leak); the attempt stays open for the next claim. */
static int shutdown_kills_the_running_command(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    char script[400], body[4000], set[600], pidf[400];
    snprintf(pidf, sizeof pidf, "%s/shutdown.pid", g_dir);
    snprintf(body, sizeof body, "cat >/dev/null\nsleep 120 &\necho $! >%s\nwait\n", pidf);
    IT_CHECK(write_script("shutdown.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_lines(pidf, 1, WAIT_MS));
    long pid = read_pid(pidf);
    IT_CHECK(pid > 0);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    IT_CHECKF(wait_gone(pid, 5000), "the command's child (pid %ld) outlived baobaod", pid);
    IT_CHECK(attempts_are(id, "1:-:-"));
    return 0;
}

/* With no delivery_command nothing is claimed: the outbox waits. */
static int no_command_leaves_the_outbox_alone(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    const char *sets[] = {"notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(1500);
    IT_CHECK(wait_state(id, "pending", 100));
    IT_CHECK(attempts_are(id, ""));
    IT_CHECK(!it_server_log_has(s, "event=delivery_ready"));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The whole way, as the demo goes: a problem past its deadline; the sweep
 * at start issues its red notice and queues the delivery; the example
 * command's file receives that notice. */
static int swept_notice_reaches_the_file(void)
{
    IT_CHECK(clear_outbox() == 0);
    char ent[24];
    snprintf(ent, sizeof ent, "%lld", (long long)g_enterprise);
    const char *pe[] = {ent};
    long long pid = it_pg_int(
        "WITH u AS (INSERT INTO unit (name) VALUES ('送达督办局') RETURNING id)"
        " INSERT INTO problem (enterprise_id, category, description, deadline, assignee_unit_id)"
        " SELECT $1::bigint, '用电', '送达测试：变压器增容未批', DATE '2026-11-01', u.id FROM u"
        " RETURNING id", 1, pe);
    IT_CHECK(pid > 0);
    const char *script = getenv("IT_NOTICE_TO_FILE");
    IT_CHECK(script != NULL);
    char file[400], cmd[1000], set[1100];
    snprintf(file, sizeof file, "%s/swept.jsonl", g_dir);
    snprintf(cmd, sizeof cmd, "%s %s", script, file);
    /* The real clock, as every other server of this file: a pinned day
     * before the real one would be refused as a clock going back (the
     * sweep's supervise_day). Late since 2026-11-01, the problem is red on
     * any day from 2026-12-07 on. */
    const char *sets[] = {command_set(set, sizeof set, cmd), "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    char pids[24], got[64];
    snprintf(pids, sizeof pids, "%lld", pid);
    IT_CHECK(wait_text("SELECT count(*) FILTER (WHERE d.state = 'sent') || '/' || count(*)"
                       " FROM notice n JOIN notice_delivery d ON d.notice_id = n.id"
                       " WHERE n.problem_id = $1::bigint AND n.level = 'red'",
                       pid, "1/1", WAIT_MS));
    const char *pp[] = {pids};
    IT_CHECK(pg_text("SELECT count(*) FROM notice WHERE problem_id = $1::bigint", 1, pp, got,
                     sizeof got));
    int notices = atoi(got);
    IT_CHECK(wait_lines(file, notices, WAIT_MS));
    char *lines = slurp(file);
    IT_CHECK(lines != NULL);
    const char *p2[] = {lines, pids};
    /* One line per notice of the problem, the red one among them. */
    bool ok = pg_text("SELECT count(*) FILTER (WHERE (j->'notice'->>'problem_id')::bigint"
                      "                              = $2::bigint"
                      "                          AND j->'notice'->>'level' = 'red')"
                      " FROM regexp_split_to_table(rtrim($1, E'\\n'), E'\\n') AS l,"
                      "      LATERAL (SELECT l::jsonb AS j) x", 2, p2, got, sizeof got);
    if (!ok || strcmp(got, "1") != 0)
        it_note("file: %s", lines);
    free(lines);
    IT_CHECK(ok);
    IT_CHECK_STR(got, "1");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* At most delivery_parallel commands run at once (and that many do). */
static int at_most_delivery_parallel_commands_at_once(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long ids[5];
    for (int i = 0; i < 5; i++) {
        ids[i] = make_delivery();
        IT_CHECK(ids[i] > 0);
    }
    char run[400], seen[400], script[400], body[4000], set[600];
    snprintf(run, sizeof run, "%s/parallel.running", g_dir);
    snprintf(seen, sizeof seen, "%s/parallel.seen", g_dir);
    IT_CHECK(mkdir(run, 0755) == 0);
    /* Each records how many run beside it, at its start and its end. */
    snprintf(body, sizeof body,
             "cat >/dev/null\n"
             "touch %s/$$\n"
             "ls %s | wc -l >>%s\n"
             "sleep 0.6\n"
             "ls %s | wc -l >>%s\n"
             "rm -f %s/$$\n",
             run, run, seen, run, seen, run);
    IT_CHECK(write_script("parallel.sh", body, script, sizeof script) == 0);
    const char *sets[] = {command_set(set, sizeof set, script), "delivery_parallel=2",
                          "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    for (int i = 0; i < 5; i++)
        IT_CHECK(wait_state(ids[i], "sent", WAIT_MS));
    char *counts = slurp(seen);
    IT_CHECK(counts != NULL);
    int max = 0, n = 0;
    for (char *p = counts; *p;) {
        long v = strtol(p, &p, 10);
        max = v > max ? (int)v : max;
        n++;
        while (*p == '\n' || *p == ' ')
            p++;
    }
    it_note("commands seen at once: %d (in %d samples)", max, n);
    free(counts);
    IT_CHECK(n == 10);
    IT_CHECKF(max == 2, "%d commands ran at once, delivery_parallel is 2", max);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A command that cannot be started fails like one that exits non-zero,
 * and says why. */
static int command_that_cannot_start_fails_the_attempt(void)
{
    IT_CHECK(clear_outbox() == 0);
    long long id = make_delivery();
    IT_CHECK(id > 0);
    char cmd[400], set[600];
    snprintf(cmd, sizeof cmd, "%s/no-such-gateway --to sms", g_dir);
    const char *sets[] = {command_set(set, sizeof set, cmd), "delivery_retry_min_ms=600000",
                          "delivery_retry_max_ms=600000", "notice_due_days=0", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(wait_text("SELECT coalesce(outcome, '-') FROM notice_delivery_attempt"
                       " WHERE delivery_id = $1::bigint AND attempt = 1", id, "failed",
                       WAIT_MS));
    IT_CHECK(attempts_are(id, "1:failed:-"));
    IT_CHECK(wait_text("SELECT (detail LIKE 'spawn %no-such-gateway: no such file%')::int::text"
                       " FROM notice_delivery_attempt WHERE delivery_id = $1::bigint",
                       id, "1", 1000));
    IT_CHECK(wait_state(id, "pending", 100));
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"example_command_receives_the_notice_as_json",
         example_command_receives_the_notice_as_json},
        {"notification_drains_at_once", notification_drains_at_once},
        {"failing_command_is_retried_with_backoff", failing_command_is_retried_with_backoff},
        {"hanging_command_is_killed_at_the_timeout", hanging_command_is_killed_at_the_timeout},
        {"killed_server_mid_delivery_sends_again", killed_server_mid_delivery_sends_again},
        {"old_delivery_expires", old_delivery_expires},
        {"delivery_without_payload_is_given_up", delivery_without_payload_is_given_up},
        {"command_leftovers_are_killed", command_leftovers_are_killed},
        {"lease_counts_from_the_claim", lease_counts_from_the_claim},
        {"empty_outbox_is_not_polled", empty_outbox_is_not_polled},
        {"shutdown_kills_the_running_command", shutdown_kills_the_running_command},
        {"no_command_leaves_the_outbox_alone", no_command_leaves_the_outbox_alone},
        {"swept_notice_reaches_the_file", swept_notice_reaches_the_file},
        {"at_most_delivery_parallel_commands_at_once",
         at_most_delivery_parallel_commands_at_once},
        {"command_that_cannot_start_fails_the_attempt",
         command_that_cannot_start_fails_the_attempt},
    };
    return it_main(argc, argv, "delivery", tests, sizeof tests / sizeof tests[0], setup);
}
