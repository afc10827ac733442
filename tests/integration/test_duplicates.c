/*
 * test_duplicates.c: the duplicate rule of issue 12 against a real server.
 * A second status report of the same enterprise, report_date and reporter
 * that is not withdrawn is refused (duplicate_report, field report_date)
 * unless the request says allow_duplicate: for a single submit, for the
 * rows of one group-commit batch (against stored reports and against the
 * batch's earlier rows, each refused row answered alone), for many clients
 * at once, and for the rows of status.import (allow_duplicates). A
 * withdrawn report does not count; the idempotent replay of the same
 * request is never a duplicate, alone or in a batch (a key recorded
 * before, or the same new key twice in one batch). And `baobao status
 * submit`: without a terminal it fails (exit 1) and says how to force it;
 * on a terminal it asks, and stores it only on a yes.
 *
 * Not for: corrections and withdrawals themselves (test_corrections.c),
 * the other rules of the group commit (test_group_commit.c).
 */
#include "harness.h"

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSGID_BASE 1000u
#define CLIENTS 16          /* connections submitting at once */
#define CLI_MS 30000
#define TERM_COLS 200

static uint32_t g_msgid = 100;
static int64_t g_eid;       /* 赵李桥镇 */
static unsigned g_day;      /* report dates handed out */
static char g_server[64];
static char g_dir[64];

static const char *const debug_env[] = {"BAOBAO_LOG=debug", NULL};

static void remove_test_dir(void)
{
    if (g_dir[0] != '\0') {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", g_dir);
        (void)!system(cmd);
    }
}

static int setup(void)
{
    g_eid = it_shared_enterprise(12101, "重复报送测试陶瓷", "赵李桥镇");
    IT_CHECK(g_eid > 0);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", it_shared_server()->port);
    snprintf(g_dir, sizeof g_dir, "/tmp/itest-dup-XXXXXX");
    IT_CHECK(mkdtemp(g_dir) != NULL);
    atexit(remove_test_dir);
    return 0;
}

/* ---- helpers ---- */

#define call(c, b, m) it_buf_call((c), (b), g_msgid, (m))
#define ok(c, b, m) it_buf_ok((c), (b), g_msgid, (m))
#define err(c, b, code, field) it_buf_err((c), (b), g_msgid, (code), (field))

/* A report date of its own (2023-01-01 + n days), so each test's triples
 * are its own. */
static void next_date(char out[11])
{
    unsigned n = g_day++, m = 1, d = 1 + n;
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (d > days[m - 1]) {
        d -= days[m - 1];
        m++;
    }
    snprintf(out, 11, "2023-%02u-%02u", m, d);
}

/* One status.submit into b with msgid; allow: -1 absent, else the bool;
 * key NULL: none. */
static void pack_submit(it_buf *b, uint32_t msgid, int64_t eid, const char *date,
                        const char *reporter, const char *note, int allow, const char *key)
{
    it_req(b, msgid, "status.submit", 5 + (allow >= 0) + (key != NULL));
    it_kv_int(b, "enterprise_id", eid);
    it_kv_str(b, "report_date", date);
    it_kv_str(b, "reporter", reporter);
    it_kv_str(b, "production_status", "正常");
    it_kv_str(b, "note", note);
    if (allow >= 0) {
        it_str(b, "allow_duplicate");
        if (allow)
            msgpack_pack_true(&b->pk);
        else
            msgpack_pack_false(&b->pk);
    }
    if (key != NULL)
        it_kv_str(b, "idempotency_key", key);
}

/* The reports stored of (g_eid, date, reporter) that are not withdrawn. */
static long long stored(const char *date, const char *reporter)
{
    char eid[24];
    snprintf(eid, sizeof eid, "%lld", (long long)g_eid);
    const char *p[] = {eid, date, reporter};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1::bigint"
                     " AND report_date = $2::date AND reporter = $3 AND withdrawn_at IS NULL",
                     3, p);
}

/* The id of a result, or -1. */
static int64_t id_of(const it_msg *m)
{
    int64_t id = -1;
    return !m->is_error && it_get_int(m->result, "id", &id) ? id : -1;
}

/* Reads n responses with msgids MSGID_BASE.. in any order into out[]. */
static int recv_all(it_conn *c, unsigned n, it_msg *out)
{
    for (unsigned i = 0; i < n; i++)
        out[i].msgid = 0;
    for (unsigned i = 0; i < n; i++) {
        it_msg m;
        int r = it_recv(c, IT_REPLY_TIMEOUT_MS * 2, &m);
        IT_CHECKF(r == IT_RECV_MSG, "reply %u of %u: recv %d", i, n, r);
        unsigned k = m.msgid - MSGID_BASE;
        if (m.kind != 1 || k >= n || out[k].msgid != 0) {
            char d[800];
            it_fail(__FILE__, __LINE__, "unexpected %s", it_describe(&m, d, sizeof d));
            it_msg_free(&m);
            return -1;
        }
        out[k] = m;
    }
    return 0;
}

static bool is_dup(const it_msg *m)
{
    return m->is_error && strcmp(m->code, "duplicate_report") == 0 &&
           strcmp(m->field, "report_date") == 0;
}

/* The batches of more than one row the server logged, as their sizes
 * "3,2" (at most cap bytes). */
static void batches(const it_server *s, char *out, size_t cap)
{
    char *log = it_server_log(s);
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = log; p != NULL && (p = strstr(p, "event=submit_batch rows=")) != NULL;) {
        p += strlen("event=submit_batch rows=");
        if (atoi(p) > 1 && len + 16 < cap)
            len += (size_t)snprintf(out + len, cap - len, "%s%d", len ? "," : "", atoi(p));
    }
    free(log);
}

/* ---- single submits ---- */

/* The second report of the same enterprise, date and reporter is refused
 * (whatever its other values), stores nothing; allow_duplicate true stores
 * it; another date or reporter is no duplicate. */
static int second_report_is_refused_unless_allowed(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    char date[11], other[11];
    next_date(date);
    next_date(other);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, date, "王重复", "第一次", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, date, "王重复", "又录了一次，内容不同", -1, NULL);
    IT_CHECK(call(c, &b, &m) == 0);
    char d[900];
    IT_CHECKF(is_dup(&m), "%s", it_describe(&m, d, sizeof d));
    IT_CHECK(strstr(m.message, date) != NULL && strstr(m.message, "王重复") != NULL);
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, date, "王重复", "明确不重复", 0, NULL);
    IT_CHECK(err(c, &b, "duplicate_report", "report_date") == 0);
    IT_CHECK(stored(date, "王重复") == 1);
    pack_submit(&b, ++g_msgid, g_eid, date, "王重复", "确实是第二次走访", 1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(stored(date, "王重复") == 2);
    pack_submit(&b, ++g_msgid, g_eid, date, "李不同", "另一人", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, other, "王重复", "另一天", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* The same request with the same key is the first one's replay: the same
 * report, never duplicate_report; allow_duplicate true is part of the
 * request (a retry without it is another request). */
static int replay_of_the_same_request_is_never_a_duplicate(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    char date[11];
    next_date(date);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, date, "赵重试", "带键", -1, "dup-replay-1");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t first = id_of(&m);
    it_msg_free(&m);
    for (int i = 0; i < 2; i++) {
        pack_submit(&b, ++g_msgid, g_eid, date, "赵重试", "带键", i == 0 ? -1 : 0,
                    "dup-replay-1");   /* absent and false are the same */
        IT_CHECK(ok(c, &b, &m) == 0);
        IT_CHECK(id_of(&m) == first);
        it_msg_free(&m);
    }
    pack_submit(&b, ++g_msgid, g_eid, date, "赵重试", "带键", 1, "dup-replay-2");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t second = id_of(&m);
    it_msg_free(&m);
    IT_CHECK(second > first);
    pack_submit(&b, ++g_msgid, g_eid, date, "赵重试", "带键", 1, "dup-replay-2");
    IT_CHECK(ok(c, &b, &m) == 0);
    IT_CHECK(id_of(&m) == second);
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, date, "赵重试", "带键", -1, "dup-replay-2");
    IT_CHECK(err(c, &b, "idempotency_key_reused", "idempotency_key") == 0);
    IT_CHECK(stored(date, "赵重试") == 2);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* A withdrawn report does not count: the same report may be submitted
 * again. */
static int withdrawn_report_does_not_count(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    char date[11];
    next_date(date);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, date, "钱撤回", "录错了", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t id = id_of(&m);
    it_msg_free(&m);
    it_req(&b, ++g_msgid, "status.withdraw", 3);
    it_kv_int(&b, "id", id);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "reason", "录错了，重新填");
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    pack_submit(&b, ++g_msgid, g_eid, date, "钱撤回", "重新填的", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(stored(date, "钱撤回") == 1);
    it_buf_free(&b);
    it_close(c);
    return 0;
}

/* ---- the group commit ---- */

/* Holds every submit at its table lock: a transaction of the harness's
 * own connection locks status_report until release_reports(). */
static int hold_reports(void)
{
    PGresult *r = PQexec(it_pg(), "BEGIN; LOCK TABLE status_report IN EXCLUSIVE MODE");
    bool good = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    IT_CHECK(good);
    return 0;
}

/* Lets the held submits go, after the ones sent on c (b) had time to
 * reach the server: the first waits for the lock, the others queue. */
static int release_reports(it_conn *c, it_buf *b)
{
    IT_CHECK(it_send(c, b->sb.data, b->sb.size) == 0);
    it_buf_reset(b);
    it_sleep_ms(300);
    PGresult *r = PQexec(it_pg(), "COMMIT");
    bool good = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    IT_CHECK(good);
    return 0;
}

/* With one statement in the database at a time, the first submit is held
 * by a table lock while the others gather into one batch. In the batch:
 * the first row of a triple is stored and the later ones are refused
 * (against the batch's earlier row), a row allowed to be a duplicate is
 * stored, a triple already stored is refused (against the table), and
 * each refused row is answered alone while its neighbours are stored. */
static int batch_refuses_duplicates_row_by_row(void)
{
    const char *sets[] = {"status_batches_in_flight=1", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char held[11], t[11], t2[11], old[11];
    next_date(held);
    next_date(t);
    next_date(t2);
    next_date(old);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, old, "孙批量", "早已存在", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);

    /* rows: 0 held alone; 1..6 the batch. */
    static const struct {
        int which;     /* 0 held, 1 t, 2 t2, 3 old */
        int allow;
        bool want_ok;
    } rows[] = {
        {0, -1, true},  {1, -1, true},  {1, -1, false}, {2, -1, true},
        {1, 1, true},   {3, -1, false}, {1, 0, false},
    };
    const unsigned n = sizeof rows / sizeof rows[0];
    const char *dates[] = {held, t, t2, old};
    IT_CHECK(hold_reports() == 0);
    for (unsigned i = 0; i < n; i++) {
        char note[32];
        snprintf(note, sizeof note, "批量第%u行", i);
        pack_submit(&b, MSGID_BASE + i, g_eid, dates[rows[i].which], "孙批量", note,
                    rows[i].allow, NULL);
    }
    IT_CHECK(release_reports(c, &b) == 0);
    it_msg out[8];
    IT_CHECK(recv_all(c, n, out) == 0);
    int bad = 0;
    for (unsigned i = 0; i < n; i++) {
        bool good = rows[i].want_ok ? !out[i].is_error : is_dup(&out[i]);
        if (!good) {
            char d[900];
            it_note("row %u: %s", i, it_describe(&out[i], d, sizeof d));
            bad++;
        }
        it_msg_free(&out[i]);
    }
    IT_CHECK(bad == 0);
    IT_CHECK(stored(t, "孙批量") == 2 && stored(t2, "孙批量") == 1 && stored(old, "孙批量") == 1);
    char sizes[128];
    batches(s, sizes, sizeof sizes);
    IT_CHECKF(strstr(sizes, "6") != NULL, "batches of %s rows, expected one of 6", sizes);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Two rows of one batch with the same key, the first refused as a
 * duplicate: the batch cannot answer the second by copying the first, so
 * each goes alone, and both hear duplicate_report (nothing is stored,
 * the key is not recorded). */
static int repeated_key_of_a_refused_row_goes_alone(void)
{
    const char *sets[] = {"status_batches_in_flight=1", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char held[11], t[11];
    next_date(held);
    next_date(t);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, t, "周重键", "已有", -1, NULL);
    IT_CHECK(ok(c, &b, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(hold_reports() == 0);
    pack_submit(&b, MSGID_BASE, g_eid, held, "周重键", "先走", -1, NULL);
    pack_submit(&b, MSGID_BASE + 1, g_eid, t, "周重键", "重复", -1, "dup-same-key");
    pack_submit(&b, MSGID_BASE + 2, g_eid, t, "周重键", "重复", -1, "dup-same-key");
    IT_CHECK(release_reports(c, &b) == 0);
    it_msg out[3];
    IT_CHECK(recv_all(c, 3, out) == 0);
    bool good = !out[0].is_error && is_dup(&out[1]) && is_dup(&out[2]);
    char d1[900], d2[900];
    IT_CHECKF(good, "%s / %s", it_describe(&out[1], d1, sizeof d1),
              it_describe(&out[2], d2, sizeof d2));
    for (int i = 0; i < 3; i++)
        it_msg_free(&out[i]);
    IT_CHECK(stored(t, "周重键") == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE key = 'dup-same-key'", 0, NULL) ==
             0);
    IT_CHECK(it_server_log_has(s, "event=submit_batch_failed"));
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The created_at of an answer into out ("" when it has none). */
static void created_of(const it_msg *m, char out[40])
{
    out[0] = '\0';
    if (!m->is_error)
        (void)it_get_str(m->result, "created_at", out, 40);
}

/* The replays of a batch, with no allow_duplicate anywhere: a row whose
 * key was recorded before (its report stored) is answered with that
 * report, never duplicate_report, even twice in one batch; the same new
 * key twice in one batch stores one report and answers both rows with it.
 * The rule still holds next to them: a new key for a stored report, and a
 * row without a key for the batch's new report, are refused. */
static int batch_replays_are_never_duplicates(void)
{
    const char *sets[] = {"status_batches_in_flight=1", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char held[11], old[11], fresh[11];
    next_date(held);
    next_date(old);
    next_date(fresh);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    pack_submit(&b, ++g_msgid, g_eid, old, "林重放", "先存的", -1, "dup-batch-old");
    IT_CHECK(ok(c, &b, &m) == 0);
    int64_t old_id = id_of(&m);
    char old_at[40];
    created_of(&m, old_at);
    it_msg_free(&m);
    IT_CHECK(old_id > 0 && old_at[0] != '\0');

    /* rows: 0 held alone; 1..6 the batch. want: 'h' stored (the held
     * one), 'o' the stored report old_id, 'n' the batch's new report, 'd'
     * duplicate_report. */
    static const struct {
        int which;          /* 0 held, 1 old, 2 fresh */
        const char *note;
        const char *key;
        char want;
    } rows[] = {
        {0, "先走", NULL, 'h'},
        {1, "先存的", "dup-batch-old", 'o'},          /* a replay of the stored one */
        {2, "新的", "dup-batch-new", 'n'},            /* stored by this batch */
        {2, "新的", "dup-batch-new", 'n'},            /* the same request again */
        {1, "先存的", "dup-batch-old", 'o'},          /* the replay again */
        {1, "换了键", "dup-batch-other", 'd'},        /* a new key: a second report */
        {2, "没有键", NULL, 'd'},                     /* the batch's new report again */
    };
    const unsigned n = sizeof rows / sizeof rows[0];
    const char *dates[] = {held, old, fresh};
    IT_CHECK(hold_reports() == 0);
    for (unsigned i = 0; i < n; i++)
        pack_submit(&b, MSGID_BASE + i, g_eid, dates[rows[i].which], "林重放", rows[i].note, -1,
                    rows[i].key);
    IT_CHECK(release_reports(c, &b) == 0);
    it_msg out[8];
    IT_CHECK(recv_all(c, n, out) == 0);
    int64_t new_id = id_of(&out[2]);
    char new_at[40];
    created_of(&out[2], new_at);
    int bad = 0;
    for (unsigned i = 0; i < n; i++) {
        char at[40];
        created_of(&out[i], at);
        bool good;
        switch (rows[i].want) {
        case 'h':
            good = !out[i].is_error;
            break;
        case 'o':
            good = id_of(&out[i]) == old_id && strcmp(at, old_at) == 0 &&
                   it_get_str_eq(out[i].result, "note", "先存的");
            break;
        case 'n':
            good = new_id > old_id && id_of(&out[i]) == new_id && strcmp(at, new_at) == 0 &&
                   it_get_str_eq(out[i].result, "note", "新的");
            break;
        default:
            good = is_dup(&out[i]);
        }
        if (!good) {
            char d[900];
            it_note("row %u (want %c): %s", i, rows[i].want, it_describe(&out[i], d, sizeof d));
            bad++;
        }
        it_msg_free(&out[i]);
    }
    IT_CHECK(bad == 0);
    /* One report each, one record of each stored key, none of the refused. */
    IT_CHECK(stored(old, "林重放") == 1 && stored(fresh, "林重放") == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'status.submit'"
                       " AND key IN ('dup-batch-old', 'dup-batch-new')", 0, NULL) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE key = 'dup-batch-other'", 0,
                       NULL) == 0);
    /* The rows went as one statement, not each alone after it failed (a
     * failure is logged before its rows are sent again and answered). */
    char sizes[128];
    batches(s, sizes, sizeof sizes);
    IT_CHECKF(strstr(sizes, "6") != NULL, "batches of %s rows, expected one of 6", sizes);
    char *log = it_server_log(s);
    bool failed = log == NULL || strstr(log, "event=submit_batch_failed") != NULL;
    free(log);
    IT_CHECK(!failed);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Many clients at once submit the same report: exactly one is stored,
 * every other one hears duplicate_report, with one statement in the
 * database at a time (the rule takes no lock: two statements at the same
 * instant could both store it; PROTOCOL.md says so). */
static int many_clients_at_once_store_one(void)
{
    const char *sets[] = {"status_batches_in_flight=1", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *cs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cs[i] = it_connect(s->port);
        IT_CHECK(cs[i] != NULL);
    }
    char date[11];
    next_date(date);
    it_buf b;
    it_buf_init(&b);
    for (int i = 0; i < CLIENTS; i++) {
        char note[32];
        snprintf(note, sizeof note, "客户端%d", i);
        pack_submit(&b, MSGID_BASE, g_eid, date, "吴并发", note, -1, NULL);
        IT_CHECK(it_send(cs[i], b.sb.data, b.sb.size) == 0);
        it_buf_reset(&b);
    }
    int stored_ok = 0, dups = 0;
    for (int i = 0; i < CLIENTS; i++) {
        it_msg m;
        IT_CHECK(it_recv(cs[i], IT_REPLY_TIMEOUT_MS * 2, &m) == IT_RECV_MSG);
        stored_ok += !m.is_error;
        dups += is_dup(&m);
        it_msg_free(&m);
        it_close(cs[i]);
    }
    IT_CHECKF(stored_ok == 1 && dups == CLIENTS - 1, "%d stored, %d duplicates", stored_ok,
              dups);
    IT_CHECK(stored(date, "吴并发") == 1);
    it_buf_free(&b);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* ---- status.import ---- */

/* One status.import commit of rows (date, reporter, note) for g_eid;
 * allow: -1 absent. The items into *m. */
static int import_rows(it_conn *c, const char *const (*rows)[3], unsigned n, int allow,
                       it_msg *m)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "status.import", 2 + (allow >= 0));
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, n);
    for (unsigned i = 0; i < n; i++) {
        msgpack_pack_map(&b.pk, 5);
        it_kv_int(&b, "enterprise_id", g_eid);
        it_kv_str(&b, "report_date", rows[i][0]);
        it_kv_str(&b, "reporter", rows[i][1]);
        it_kv_str(&b, "production_status", "正常");
        it_kv_str(&b, "note", rows[i][2]);
    }
    it_str(&b, "commit");
    msgpack_pack_true(&b.pk);
    if (allow >= 0) {
        it_str(&b, "allow_duplicates");
        if (allow)
            msgpack_pack_true(&b.pk);
        else
            msgpack_pack_false(&b.pk);
    }
    int rc = ok(c, &b, m);
    it_buf_free(&b);
    return rc;
}

/* Item i of an import's answer has outcome and code ("" = none). */
static bool item_is(const it_msg *m, unsigned i, const char *outcome, const char *code)
{
    const msgpack_object *items = it_map_get(m->result, "items");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || i >= items->via.array.size)
        return false;
    const msgpack_object *it = &items->via.array.ptr[i];
    char got[32] = "", c[48] = "";
    (void)it_get_str(it, "code", c, sizeof c);
    bool good = it_get_str(it, "outcome", got, sizeof got) && strcmp(got, outcome) == 0 &&
                strcmp(c, code) == 0;
    if (!good)
        it_note("item %u: outcome %s code %s, expected %s %s", i, got, c, outcome, code);
    return good;
}

/* An import row equal to a stored report is unchanged; one with other
 * values is rejected duplicate_report (field report_date), also against
 * an earlier row of the same call; allow_duplicates stores it; a
 * withdrawn report matches nothing. */
static int import_rows_follow_the_same_rule(void)
{
    it_conn *c = it_connect(it_shared_server()->port);
    IT_CHECK(c != NULL);
    char d1[11], d2[11];
    next_date(d1);
    next_date(d2);
    const char *const first[][3] = {{d1, "郑导入", "原样"}, {d2, "郑导入", "会撤回"}};
    it_msg m;
    IT_CHECK(import_rows(c, first, 2, -1, &m) == 0);
    IT_CHECK(item_is(&m, 0, "created", "") && item_is(&m, 1, "created", ""));
    it_msg_free(&m);
    IT_CHECK(it_pg_exec("UPDATE status_report SET withdrawn_at = now(), withdrawn_by = created_by,"
                        " reason = '测试撤回', version = version + 1"
                        " WHERE reporter = '郑导入' AND note = '会撤回'", 0, NULL) == 0);
    const char *const again[][3] = {
        {d1, "郑导入", "原样"},         /* unchanged */
        {d1, "郑导入", "内容不同"},     /* duplicate */
        {d2, "郑导入", "会撤回"},       /* the stored one is withdrawn: created */
        {d2, "郑导入", "同一次导入里第二条"}, /* duplicate of the row before */
    };
    IT_CHECK(import_rows(c, again, 4, 0, &m) == 0);
    bool good = item_is(&m, 0, "unchanged", "") && item_is(&m, 1, "rejected", "duplicate_report") &&
                item_is(&m, 2, "created", "") && item_is(&m, 3, "rejected", "duplicate_report");
    it_msg_free(&m);
    IT_CHECK(good);
    const char *const allowed[][3] = {{d1, "郑导入", "原样"}, {d1, "郑导入", "确实第二次"}};
    IT_CHECK(import_rows(c, allowed, 2, 1, &m) == 0);
    IT_CHECK(item_is(&m, 0, "unchanged", "") && item_is(&m, 1, "created", ""));
    it_msg_free(&m);
    IT_CHECK(stored(d1, "郑导入") == 2 && stored(d2, "郑导入") == 1);
    it_close(c);
    return 0;
}

/* ---- the CLI ---- */

/* Without a terminal: exit 1, the code, and how to force it; with
 * --allow-duplicate: stored. */
static int cli_without_a_terminal_says_how_to_force(void)
{
    char date[11];
    next_date(date);
    const char *args[] = {"status", "submit", "--enterprise", "重复报送测试陶瓷", "--date", date,
                          "--reporter", "冯命令", "--production-status", "正常", NULL};
    const char *env[] = {"BAOBAO_LANG=en", NULL};
    it_cli r;
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, args, env) == 0);
    IT_CHECKF(r.status == 0, "first: exit %d %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, args, env) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "duplicate_report") != NULL &&
                  strstr(r.err, "--allow-duplicate") != NULL,
              "second: exit %d %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(stored(date, "冯命令") == 1);
    const char *forced[] = {"status", "submit", "--enterprise", "重复报送测试陶瓷", "--date", date,
                            "--reporter", "冯命令", "--production-status", "正常",
                            "--allow-duplicate", NULL};
    IT_CHECK(it_cli_run_env(&r, g_server, CLI_MS, forced, env) == 0);
    IT_CHECKF(r.status == 0, "forced: exit %d %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(stored(date, "冯命令") == 2);
    return 0;
}

/* Runs `baobao ARGS` on a pseudo-terminal (Chinese), waits for expect,
 * types send, then waits for the end. The exit code, -1 when it did not
 * end; the screen into screen. */
static int on_terminal(const char *const *args, const char *expect, const char *send,
                       char *screen, size_t cap)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    if (cli_bin == NULL)
        return -1;
    fflush(stdout);
    int master;
    struct winsize ws = {.ws_row = 50, .ws_col = TERM_COLS};
    pid_t pid = forkpty(&master, NULL, NULL, &ws);
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setenv("BAOBAO_SERVER", g_server, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
        setenv("BAOBAO_LANG", "zh_CN", 1);
        setenv("HOME", g_dir, 1);
        setenv("XDG_STATE_HOME", g_dir, 1);
        setenv("TERM", "dumb", 1);
        setenv("LANG", "C.UTF-8", 1);
        unsetenv("LC_ALL");
        unsetenv("BAOBAO_CONFIG");
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("BAOBAO_NO_PROMPT");
        const char *argv[24] = {cli_bin};
        size_t n = 1;
        for (size_t i = 0; args[i] != NULL && n < 23; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(cli_bin, (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    size_t len = 0;
    screen[0] = '\0';
    bool sent = false, open = true;
    int64_t deadline = it_now_ms() + CLI_MS;
    int st = 0;
    pid_t w = 0;
    while (it_now_ms() < deadline) {
        struct pollfd p = {master, POLLIN, 0};
        if (open && poll(&p, 1, 100) > 0) {
            ssize_t k = read(master, screen + len, cap - 1 - len);
            if (k <= 0)
                open = false;
            else
                len += (size_t)k;
            screen[len] = '\0';
        }
        if (!sent && strstr(screen, expect) != NULL) {
            it_sleep_ms(100);
            (void)!write(master, send, strlen(send));
            sent = true;
        }
        if ((w = waitpid(pid, &st, WNOHANG)) != 0)
            break;
    }
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(master);
    return sent && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The question (its Chinese words come with po/zh_CN.po; the choice is
 * the same in every language). */
#define ZH_QUESTION "[y/N]"

/* On a terminal the CLI asks; "n" stores nothing (exit 1), "y" sends it
 * again with allow_duplicate and stores it. */
static int cli_on_a_terminal_asks(void)
{
    char date[11];
    next_date(date);
    const char *args[] = {"status", "submit", "--enterprise", "重复报送测试陶瓷", "--date", date,
                          "--reporter", "陈终端", "--production-status", "正常",
                          "--note", "终端", NULL};
    it_cli r;
    IT_CHECK(it_cli_run(&r, g_server, CLI_MS, args) == 0);
    IT_CHECKF(r.status == 0, "first: exit %d %s", r.status, r.err);
    it_cli_free(&r);
    static char screen[65536];
    int rc = on_terminal(args, ZH_QUESTION, "n\r", screen, sizeof screen);
    IT_CHECKF(rc == 1, "no: exit %d; the terminal showed:\n%s", rc, screen);
    IT_CHECK(stored(date, "陈终端") == 1);
    rc = on_terminal(args, ZH_QUESTION, "y\r", screen, sizeof screen);
    IT_CHECKF(rc == 0, "yes: exit %d; the terminal showed:\n%s", rc, screen);
    IT_CHECK(stored(date, "陈终端") == 2);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"second_report_is_refused_unless_allowed", second_report_is_refused_unless_allowed},
        {"replay_of_the_same_request_is_never_a_duplicate",
         replay_of_the_same_request_is_never_a_duplicate},
        {"withdrawn_report_does_not_count", withdrawn_report_does_not_count},
        {"batch_refuses_duplicates_row_by_row", batch_refuses_duplicates_row_by_row},
        {"repeated_key_of_a_refused_row_goes_alone", repeated_key_of_a_refused_row_goes_alone},
        {"batch_replays_are_never_duplicates", batch_replays_are_never_duplicates},
        {"many_clients_at_once_store_one", many_clients_at_once_store_one},
        {"import_rows_follow_the_same_rule", import_rows_follow_the_same_rule},
        {"cli_without_a_terminal_says_how_to_force", cli_without_a_terminal_says_how_to_force},
        {"cli_on_a_terminal_asks", cli_on_a_terminal_asks},
    };
    return it_main(argc, argv, "duplicates", tests, sizeof tests / sizeof tests[0], setup);
}
