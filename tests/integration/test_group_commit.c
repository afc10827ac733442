/*
 * test_group_commit.c: status.submit's group commit (server/status.c,
 * sql/003_group_commit.sql) and the pool's sync groups (server/pgconn.c)
 * keep every promise a lone submit keeps. Many concurrent submits over
 * several connections are each stored exactly once; a row that fails in
 * the database in an unforeseen way (a CHECK this test adds) gets its error
 * while every neighbour of its batch is stored; foreseen per-row errors
 * (unknown enterprise, date after today) stay with their row; duplicate
 * idempotency keys inside one batch behave as if sent one after another;
 * when the database connections die with a batch in flight everyone gets
 * `unavailable` and retries with the same keys store each row once; a
 * failing query does not sink the other queries of its sync group.
 *
 * Submits are pipelined in one write so they reach the server together:
 * the first ones go out alone while the rest gather into a batch. The
 * server runs with BAOBAO_LOG=debug so the tests can check from its log
 * that batches (event=submit_batch) and replays (event=db_group_replayed)
 * really happened, rather than passing because nothing was batched.
 *
 * Not for: the argument checks of status.submit (test_status_reports.c) or
 * idempotency of single writes (test_idempotency.c). Stops PostgreSQL's
 * backends, so meson runs it alone (is_parallel false).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define CONNS 8
#define PER_CONN 40
#define BATCH_N 40          /* submits pipelined in one write */
#define MSGID_BASE 1000u

static int64_t g_eid;

static const char *const debug_env[] = {"BAOBAO_LOG=debug", NULL};

static int setup(void)
{
    g_eid = it_shared_enterprise(700, "赤壁青砖茶业", "赵李桥镇");
    IT_CHECK(g_eid > 0);
    return 0;
}

/* One status.submit; key and date may be NULL (no key; 2024-05-01). The
 * reports of this file repeat one enterprise, date and reporter on purpose
 * (they differ by note), so each says allow_duplicate: the duplicate rule
 * is test_duplicates.c's. */
static void pack_submit(it_buf *b, uint32_t msgid, int64_t eid, const char *date,
                        const char *note, const char *key)
{
    it_req(b, msgid, "status.submit", key != NULL ? 7 : 6);
    it_kv_int(b, "enterprise_id", eid);
    it_kv_str(b, "report_date", date != NULL ? date : "2024-05-01");
    it_kv_str(b, "reporter", "王五");
    it_kv_str(b, "production_status", "正常");
    it_kv_str(b, "note", note);
    it_str(b, "allow_duplicate");
    msgpack_pack_true(&b->pk);
    if (key != NULL)
        it_kv_str(b, "idempotency_key", key);
}

/* Reads n responses with msgids MSGID_BASE..+n-1 in any order into out[]
 * (indexed by msgid - MSGID_BASE). */
static int recv_all(it_conn *c, unsigned n, it_msg *out)
{
    bool *seen = calloc(n, sizeof *seen);
    IT_CHECK(seen != NULL);
    for (unsigned i = 0; i < n; i++) {
        it_msg m;
        int r = it_recv(c, IT_REPLY_TIMEOUT_MS * 2, &m);
        if (r != IT_RECV_MSG) {
            free(seen);
            IT_CHECKF(false, "reply %u of %u: recv %d", i, n, r);
        }
        unsigned k = m.msgid - MSGID_BASE;
        if (m.kind != 1 || k >= n || seen[k]) {
            char d[800];
            it_fail(__FILE__, __LINE__, "unexpected message %s", it_describe(&m, d, sizeof d));
            it_msg_free(&m);
            free(seen);
            return -1;
        }
        seen[k] = true;
        out[k] = m;
    }
    free(seen);
    return 0;
}

static void free_all(it_msg *m, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        it_msg_free(&m[i]);
}

static long long count_note(const char *note)
{
    const char *p[] = {note};
    return it_pg_int("SELECT count(*) FROM status_report WHERE note = $1", 1, p);
}

static long long count_note_prefix(const char *prefix)
{
    const char *p[] = {prefix};
    return it_pg_int("SELECT count(*) FROM status_report WHERE starts_with(note, $1)", 1, p);
}

/* True when the server logged a batch of more than one row. */
static bool log_has_batch(const it_server *s)
{
    char *log = it_server_log(s);
    bool found = false;
    for (const char *p = log; p != NULL && (p = strstr(p, "event=submit_batch rows=")) != NULL;) {
        p += strlen("event=submit_batch rows=");
        if (atoi(p) > 1)
            found = true;
    }
    free(log);
    return found;
}

/* The largest batch the server logged (0 when none). */
static int max_batch_rows(const it_server *s)
{
    char *log = it_server_log(s);
    int most = 0;
    for (const char *p = log; p != NULL && (p = strstr(p, "event=submit_batch rows=")) != NULL;) {
        p += strlen("event=submit_batch rows=");
        if (atoi(p) > most)
            most = atoi(p);
    }
    free(log);
    return most;
}

/* status_batch_max bounds the rows of one batch statement; everything is
 * still stored, in more batches. */
static int status_batch_max_setting_bounds_each_batch(void)
{
    const char *sets[] = {"status_batch_max=3", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    for (unsigned k = 0; k < PER_CONN; k++) {
        char note[64];
        snprintf(note, sizeof note, "小批量-%u", k);
        pack_submit(&b, MSGID_BASE + k, g_eid, NULL, note, NULL);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_msg m[PER_CONN];
    IT_CHECK(recv_all(c, PER_CONN, m) == 0);
    int errors = 0;
    for (unsigned k = 0; k < PER_CONN; k++)
        errors += m[k].is_error ? 1 : 0;
    free_all(m, PER_CONN);
    IT_CHECKF(errors == 0, "%d submits failed", errors);
    IT_CHECK(count_note_prefix("小批量-") == PER_CONN);
    int most = max_batch_rows(s);
    IT_CHECKF(most >= 2 && most <= 3, "largest batch had %d rows, expected 2..3", most);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Rows of idempotency read by sequential scans so far (own statistics
 * flushed first), or -1. */
static long long idem_seq_rows_read(void)
{
    if (it_pg_exec("SELECT pg_stat_force_next_flush()", 0, NULL) != 0)
        return -1;
    return it_pg_int("SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'idempotency'",
                     0, NULL);
}

/* One keyed batch of two rows and one keyed single submit, through the
 * stored functions on the test's own database session. */
static int submit_probe(const char *tag, int i)
{
    char k1[48], k2[48], k3[48], eid[24];
    snprintf(k1, sizeof k1, "%s-%d-a", tag, i);
    snprintf(k2, sizeof k2, "%s-%d-b", tag, i);
    snprintf(k3, sizeof k3, "%s-%d-c", tag, i);
    snprintf(eid, sizeof eid, "%lld", (long long)g_eid);
    char actor[24];
    snprintf(actor, sizeof actor, "%lld", (long long)it_user_id(IT_USER_SUPER));
    const char *p[] = {k1, k2, eid, actor};
    if (it_pg_exec("SELECT count(*) FROM bb_status_submit_batch("
                   "ARRAY[$4, $4]::bigint[], ARRAY['probe', 'probe'], "
                   "ARRAY[$1, $2], ARRAY[$3, $3]::bigint[], "
                   "ARRAY['2024-05-01', '2024-05-01']::date[], ARRAY['王五', '王五'], "
                   "ARRAY['正常', '正常'], ARRAY[NULL, NULL]::bigint[], "
                   "ARRAY[NULL, NULL]::int[], ARRAY[NULL, NULL]::int[], "
                   "ARRAY['探针', '探针'], 'Asia/Shanghai', ARRAY[true, true])",
                   4, p) != 0)
        return -1;
    const char *q[] = {k3, eid, actor};
    return it_pg_exec("SELECT count(*) FROM bb_status_submit($3::bigint, 'probe', $1, "
                      "$2::bigint, '2024-05-01', '王五', '正常', NULL, NULL, NULL, '探针', "
                      "'Asia/Shanghai', true)",
                      3, q);
}

/* PL/pgSQL caches the plans of a long-lived connection. Planned while the
 * idempotency table was nearly empty (a fresh start), a key lookup became a
 * sequential scan, and stayed one as the table grew: every submit then read
 * the whole table (sql/003, end). Once it holds 20,000 records, ten more probes
 * on the same session must not scan it. */
static int key_lookups_stay_index_probes_as_the_table_grows(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM idempotency", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("ANALYZE idempotency", 0, NULL) == 0);
    for (int i = 0; i < 8; i++) /* past the 5 custom plans: generic from here */
        IT_CHECK(submit_probe("early", i) == 0);
    IT_CHECK(it_pg_exec("INSERT INTO idempotency (method, key, request_hash, result) "
                        "SELECT 'status.submit', 'bulk-' || g, 'x', '{}'::jsonb "
                        "FROM generate_series(1, 20000) g",
                        0, NULL) == 0);
    long long before = idem_seq_rows_read();
    for (int i = 0; i < 10; i++)
        IT_CHECK(submit_probe("late", i) == 0);
    long long after = idem_seq_rows_read();
    IT_CHECK(before >= 0 && after >= 0);
    IT_CHECKF(after - before < 1000,
              "10 probes read %lld rows of idempotency by sequential scan (table of 20,000)",
              after - before);
    return 0;
}

static int concurrent_submits_over_many_connections_are_stored_once_each(void)
{
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *cs[CONNS];
    it_buf bufs[CONNS];
    for (int i = 0; i < CONNS; i++) {
        cs[i] = it_connect(s->port);
        IT_CHECK(cs[i] != NULL);
        it_buf_init(&bufs[i]);
        for (unsigned k = 0; k < PER_CONN; k++) {
            char note[64], key[64];
            snprintf(note, sizeof note, "并发提交-%d-%u", i, k);
            snprintf(key, sizeof key, "gc-many-%d-%u", i, k);
            /* Every other one with a key: both kinds share batches. */
            pack_submit(&bufs[i], MSGID_BASE + k, g_eid, NULL, note, k % 2 == 0 ? key : NULL);
        }
    }
    for (int i = 0; i < CONNS; i++)
        IT_CHECK(it_send(cs[i], bufs[i].sb.data, bufs[i].sb.size) == 0);
    int64_t *ids = calloc(CONNS * PER_CONN, sizeof *ids);
    IT_CHECK(ids != NULL);
    int rc = 0;
    for (int i = 0; i < CONNS && rc == 0; i++) {
        it_msg m[PER_CONN];
        if (recv_all(cs[i], PER_CONN, m) != 0) {
            rc = -1;
            break;
        }
        for (unsigned k = 0; k < PER_CONN && rc == 0; k++) {
            char d[800], note[64];
            snprintf(note, sizeof note, "并发提交-%d-%u", i, k);
            if (m[k].is_error || !it_get_int(m[k].result, "id", &ids[i * PER_CONN + k]) ||
                !it_get_str_eq(m[k].result, "note", note)) {
                it_fail(__FILE__, __LINE__, "connection %d submit %u: %s", i, k,
                        it_describe(&m[k], d, sizeof d));
                rc = -1;
            }
        }
        free_all(m, PER_CONN);
    }
    for (int a = 0; a < CONNS * PER_CONN && rc == 0; a++)
        for (int b = a + 1; b < CONNS * PER_CONN; b++)
            if (ids[a] == ids[b]) {
                it_fail(__FILE__, __LINE__, "submits %d and %d got the same id %lld", a, b,
                        (long long)ids[a]);
                rc = -1;
                break;
            }
    free(ids);
    for (int i = 0; i < CONNS; i++)
        it_buf_free(&bufs[i]);
    IT_CHECK(rc == 0);
    IT_CHECK(count_note_prefix("并发提交-") == CONNS * PER_CONN);
    IT_CHECK(it_pg_int("SELECT count(*) FROM (SELECT note FROM status_report WHERE "
                       "starts_with(note, '并发提交-') GROUP BY note HAVING count(*) > 1) d",
                       0, NULL) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE starts_with(key, 'gc-many-')", 0,
                       NULL) == CONNS * PER_CONN / 2);
    IT_CHECKF(log_has_batch(s), "no batch of more than one submit was logged");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int bad_rows_fail_alone_and_their_neighbours_are_stored(void)
{
    /* Unforeseen by the server: only this test's CHECK refuses the row. */
    IT_CHECK(it_pg_exec("ALTER TABLE status_report ADD CONSTRAINT itest_no_bad_row "
                        "CHECK (note IS DISTINCT FROM '坏行') NOT VALID", 0, NULL) == 0);
    it_server *s = it_server_start_env(NULL, debug_env);
    int rc = -1;
    it_conn *c = s != NULL ? it_connect(s->port) : NULL;
    if (c != NULL) {
        it_buf b;
        it_buf_init(&b);
        for (unsigned k = 0; k < BATCH_N; k++) {
            char note[64];
            snprintf(note, sizeof note, "邻行-%u", k);
            if (k == 20)
                pack_submit(&b, MSGID_BASE + k, g_eid, NULL, "坏行", NULL);
            else if (k == 10)      /* foreseen: no such enterprise */
                pack_submit(&b, MSGID_BASE + k, 987654321, NULL, note, NULL);
            else if (k == 30)      /* foreseen: after today */
                pack_submit(&b, MSGID_BASE + k, g_eid, "2999-01-01", note, NULL);
            else
                pack_submit(&b, MSGID_BASE + k, g_eid, NULL, note, k % 3 == 0 ? note : NULL);
        }
        it_msg m[BATCH_N];
        if (it_send(c, b.sb.data, b.sb.size) == 0 && recv_all(c, BATCH_N, m) == 0) {
            rc = 0;
            for (unsigned k = 0; k < BATCH_N; k++) {
                char d[800];
                const char *want = k == 20 ? "internal" : k == 10 ? "not_found"
                                 : k == 30 ? "invalid_argument" : NULL;
                const char *field = k == 10 ? "enterprise_id" : k == 30 ? "report_date" : "";
                bool ok = want == NULL ? !m[k].is_error
                                       : m[k].is_error && strcmp(m[k].code, want) == 0 &&
                                             strcmp(m[k].field, field) == 0;
                if (!ok) {
                    it_fail(__FILE__, __LINE__, "submit %u: expected %s, got %s", k,
                            want != NULL ? want : "success", it_describe(&m[k], d, sizeof d));
                    rc = -1;
                }
            }
            free_all(m, BATCH_N);
        }
        it_buf_free(&b);
    }
    if (it_pg_exec("ALTER TABLE status_report DROP CONSTRAINT itest_no_bad_row", 0, NULL) != 0)
        it_note("could not drop the constraint");
    IT_CHECK(s != NULL && c != NULL);
    IT_CHECK(rc == 0);
    IT_CHECK(count_note("坏行") == 0);
    IT_CHECK(count_note_prefix("邻行-") == BATCH_N - 3);
    IT_CHECKF(it_server_log_has(s, "event=submit_batch_failed"),
              "the bad row never failed a batch: nothing was batched with it");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int duplicate_keys_in_one_batch_behave_as_if_sent_one_after_another(void)
{
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    /* Fillers first: they go out alone, and the rest gather behind them. */
    unsigned n = 0;
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-填充-1", NULL);
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-填充-2", NULL);
    unsigned a1 = n, a2, other, fail1, fresh, again;
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-A", "gc-dup-a");
    a2 = n;
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-A", "gc-dup-a");
    other = n;     /* same key, other arguments */
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-B", "gc-dup-a");
    fail1 = n;     /* fails, so stores no key ... */
    pack_submit(&b, MSGID_BASE + n++, 987654321, NULL, "同键-C", "gc-dup-c");
    fresh = n;     /* ... and the key is new again for other arguments */
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-C2", "gc-dup-c");
    again = n;
    pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, "同键-C2", "gc-dup-c");
    for (unsigned k = n; k < 16; k++) {
        char note[64];
        snprintf(note, sizeof note, "同键-其他-%u", k);
        pack_submit(&b, MSGID_BASE + n++, g_eid, NULL, note, note);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_msg m[16];
    IT_CHECK(recv_all(c, n, m) == 0);
    char d[800];
    int64_t id1 = 0, id2 = 0, id3 = 0, id4 = 0;
    char t1[64] = "", t2[64] = "";
    int rc = 0;
    if (m[a1].is_error || m[a2].is_error || !it_get_int(m[a1].result, "id", &id1) ||
        !it_get_int(m[a2].result, "id", &id2) || id1 != id2 ||
        !it_get_str(m[a1].result, "created_at", t1, sizeof t1) ||
        !it_get_str(m[a2].result, "created_at", t2, sizeof t2) || strcmp(t1, t2) != 0) {
        it_fail(__FILE__, __LINE__, "same key, same args: %s / %s",
                it_describe(&m[a1], d, sizeof d), it_describe(&m[a2], d + 400, 400));
        rc = -1;
    }
    if (!m[other].is_error || strcmp(m[other].code, "idempotency_key_reused") != 0 ||
        strcmp(m[other].field, "idempotency_key") != 0) {
        it_fail(__FILE__, __LINE__, "same key, other args: %s", it_describe(&m[other], d, 800));
        rc = -1;
    }
    if (!m[fail1].is_error || strcmp(m[fail1].code, "not_found") != 0) {
        it_fail(__FILE__, __LINE__, "unknown enterprise: %s", it_describe(&m[fail1], d, 800));
        rc = -1;
    }
    if (m[fresh].is_error || m[again].is_error || !it_get_int(m[fresh].result, "id", &id3) ||
        !it_get_int(m[again].result, "id", &id4) || id3 != id4) {
        it_fail(__FILE__, __LINE__, "key after a failed write: %s / %s",
                it_describe(&m[fresh], d, 400), it_describe(&m[again], d + 400, 400));
        rc = -1;
    }
    for (unsigned k = 0; k < n; k++)
        if (k != other && k != fail1 && m[k].is_error) {
            it_fail(__FILE__, __LINE__, "submit %u: %s", k, it_describe(&m[k], d, 800));
            rc = -1;
        }
    free_all(m, n);
    IT_CHECK(rc == 0);
    IT_CHECK(count_note("同键-A") == 1);
    IT_CHECK(count_note("同键-B") == 0);
    IT_CHECK(count_note("同键-C") == 0);
    IT_CHECK(count_note("同键-C2") == 1);
    const char *ka[] = {"gc-dup-a"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE key = $1", 1, ka) == 1);
    /* A retry after the batch, alone, still gets the first result. */
    it_buf_init(&b);
    pack_submit(&b, 77, g_eid, NULL, "同键-A", "gc-dup-a");
    it_msg r;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, 77, IT_REPLY_TIMEOUT_MS, &r) == IT_RECV_MSG);
    it_buf_free(&b);
    int64_t id5 = 0;
    IT_CHECKF(!r.is_error && it_get_int(r.result, "id", &id5) && id5 == id1, "retry: %s",
              it_describe(&r, d, sizeof d));
    it_msg_free(&r);
    IT_CHECK(count_note("同键-A") == 1);
    IT_CHECKF(log_has_batch(s), "no batch of more than one submit was logged");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* Sends BATCH_N keyed submits in one write; fills out[]. */
static int submit_keyed(it_conn *c, const char *tag, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    for (unsigned k = 0; k < BATCH_N; k++) {
        char note[64];
        snprintf(note, sizeof note, "%s-%u", tag, k);
        pack_submit(&b, MSGID_BASE + k, g_eid, NULL, note, note);
    }
    int r = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    IT_CHECK(r == 0);
    return recv_all(c, BATCH_N, out);
}

static int connection_lost_mid_batch_then_retries_store_each_once(void)
{
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* The submits wait on this lock inside the database; then their
     * backends are killed under them. */
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE status_report IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    for (unsigned k = 0; k < BATCH_N; k++) {
        char note[64];
        snprintf(note, sizeof note, "断线-%u", k);
        pack_submit(&b, MSGID_BASE + k, g_eid, NULL, note, note);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    it_sleep_ms(700);
    long long killed = it_pg_int(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'", 0, NULL);
    it_msg m[BATCH_N];
    int r = recv_all(c, BATCH_N, m);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    IT_CHECK(killed > 0);
    IT_CHECK(r == 0);
    int rc = 0;
    for (unsigned k = 0; k < BATCH_N; k++) {
        char d[800];
        if (!m[k].is_error || strcmp(m[k].code, "unavailable") != 0) {
            it_fail(__FILE__, __LINE__, "submit %u: %s", k, it_describe(&m[k], d, sizeof d));
            rc = -1;
        }
    }
    free_all(m, BATCH_N);
    IT_CHECK(rc == 0);
    IT_CHECKF(log_has_batch(s), "the lost submits were never batched");
    IT_CHECK(count_note_prefix("断线-") == 0);
    /* Retry everything with the same keys until the pool is back. */
    int64_t deadline = it_now_ms() + 30000;
    bool done = false;
    while (!done && it_now_ms() < deadline) {
        IT_CHECK(submit_keyed(c, "断线", m) == 0);
        done = true;
        for (unsigned k = 0; k < BATCH_N; k++) {
            char d[800];
            if (m[k].is_error) {
                IT_CHECKF(strcmp(m[k].code, "unavailable") == 0, "retry %u: %s", k,
                          it_describe(&m[k], d, sizeof d));
                done = false;
            }
        }
        free_all(m, BATCH_N);
        if (!done)
            it_sleep_ms(200);
    }
    IT_CHECKF(done, "submits still fail 30 s after the backends were killed");
    IT_CHECK(count_note_prefix("断线-") == BATCH_N);
    /* Once more: every retry returns its first result, nothing new. */
    IT_CHECK(submit_keyed(c, "断线", m) == 0);
    for (unsigned k = 0; k < BATCH_N; k++)
        IT_CHECK(!m[k].is_error);
    free_all(m, BATCH_N);
    IT_CHECK(count_note_prefix("断线-") == BATCH_N);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int failing_query_does_not_sink_the_others_of_its_sync_group(void)
{
    /* One database connection, so requests read together share a group. */
    const char *sets[] = {"pool_size=1", NULL};
    it_server *s = it_server_start_env(sets, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_pg_exec("CREATE OR REPLACE FUNCTION itest_gc_boom() RETURNS trigger "
                        "LANGUAGE plpgsql AS $$ BEGIN "
                        "IF NEW.name = '触发组内错误' THEN RAISE EXCEPTION 'itest boom'; END IF; "
                        "RETURN NEW; END $$", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("CREATE TRIGGER itest_gc_boom BEFORE INSERT ON enterprise "
                        "FOR EACH ROW EXECUTE FUNCTION itest_gc_boom()", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    enum { N = 12, BOOM = 5, CREATE_OK = 8 };
    char cc[19], cc2[19];
    it_credit_code(701, cc);
    it_credit_code(702, cc2);
    for (unsigned k = 0; k < N; k++) {
        if (k == BOOM || k == CREATE_OK) {
            it_req(&b, MSGID_BASE + k, "enterprise.create", 3);
            it_kv_str(&b, "name", k == BOOM ? "触发组内错误" : "组内正常企业");
            it_kv_str(&b, "credit_code", k == BOOM ? cc : cc2);
            it_kv_str(&b, "township", "神山镇");
        } else {
            it_req(&b, MSGID_BASE + k, "enterprise.get", 1);
            it_kv_int(&b, "id", g_eid);
        }
    }
    int sent = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    it_msg m[N];
    int r = sent == 0 ? recv_all(c, N, m) : -1;
    if (it_pg_exec("DROP TRIGGER itest_gc_boom ON enterprise", 0, NULL) != 0)
        it_note("could not drop the trigger");
    IT_CHECK(r == 0);
    int rc = 0;
    for (unsigned k = 0; k < N; k++) {
        char d[800];
        bool ok = k == BOOM ? m[k].is_error && strcmp(m[k].code, "internal") == 0
                            : !m[k].is_error;
        if (!ok) {
            it_fail(__FILE__, __LINE__, "request %u: %s", k, it_describe(&m[k], d, sizeof d));
            rc = -1;
        }
    }
    free_all(m, N);
    IT_CHECK(rc == 0);
    const char *p[] = {cc2};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 1);
    IT_CHECKF(it_server_log_has(s, "event=db_group_replayed"),
              "the failing query never shared a sync group");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static const it_test tests[] = {
    {"key_lookups_stay_index_probes_as_the_table_grows",
     key_lookups_stay_index_probes_as_the_table_grows},
    {"status_batch_max_setting_bounds_each_batch", status_batch_max_setting_bounds_each_batch},
    {"concurrent_submits_over_many_connections_are_stored_once_each",
     concurrent_submits_over_many_connections_are_stored_once_each},
    {"bad_rows_fail_alone_and_their_neighbours_are_stored",
     bad_rows_fail_alone_and_their_neighbours_are_stored},
    {"duplicate_keys_in_one_batch_behave_as_if_sent_one_after_another",
     duplicate_keys_in_one_batch_behave_as_if_sent_one_after_another},
    {"connection_lost_mid_batch_then_retries_store_each_once",
     connection_lost_mid_batch_then_retries_store_each_once},
    {"failing_query_does_not_sink_the_others_of_its_sync_group",
     failing_query_does_not_sink_the_others_of_its_sync_group},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "groupcommit", tests, sizeof tests / sizeof tests[0], setup);
}
