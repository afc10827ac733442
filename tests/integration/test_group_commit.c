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
 * failing query does not sink the other queries of its sync group. The
 * batch function itself (sql/031, called on the test's own session): one
 * batch mixing every outcome answers each row as single submits would, and
 * stores the reports, audit records and keys they would; a key recorded by
 * another transaction while the batch runs fails it with 40001.
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
#include <string.h>

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

/* One row of the batch answered in mix_answers, as text (for messages). */
static const char *mix_row(int ord, char *buf, size_t len)
{
    char o[12];
    snprintf(o, sizeof o, "%d", ord);
    const char *p[] = {o};
    PGresult *res = PQexecParams(it_pg(), "SELECT m::text FROM mix_answers m WHERE m.ord = $1::int",
                                 1, NULL, p, NULL, NULL, 0);
    snprintf(buf, len, "%s",
             PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0)
                                                                          : "(no row)");
    PQclear(res);
    return buf;
}

/* Row ord of mix_answers has error code (NULL: none) and, with no error,
 * the id that the SQL expression want_id gives (NULL: not checked). */
static int mix_check(int line, int ord, const char *code, const char *want_id)
{
    char o[12], q[400], d[600];
    snprintf(o, sizeof o, "%d", ord);
    snprintf(q, sizeof q,
             "SELECT count(*) FROM mix_answers m WHERE m.ord = $1::int"
             " AND m.error_code IS NOT DISTINCT FROM %s%s%s AND (m.error_code IS NOT NULL"
             " OR (m.id IS NOT NULL AND m.id = coalesce(%s, m.id)))",
             code != NULL ? "'" : "", code != NULL ? code : "NULL", code != NULL ? "'" : "",
             want_id != NULL ? want_id : "NULL");
    const char *p[] = {o};
    if (it_pg_int(q, 1, p) != 1) {
        it_fail(__FILE__, line, "row %d: want %s, got %s", ord, code != NULL ? code : "stored",
                mix_row(ord, d, sizeof d));
        return -1;
    }
    return 0;
}

/* The set-based batch (sql/031) decides every row as bb_status_submit would
 * decide them one after another, in one batch that mixes every outcome: a
 * replay of a key recorded before, that key reused for another request, a
 * key repeated in the batch (same request: the first row's answer; another
 * request: reused), an unknown enterprise, a duplicate of an earlier row of
 * the batch (refused, and allowed when it says so), a duplicate of a report
 * stored before, a key whose first row failed (new again for a later row),
 * and plain good rows. Then: ids drawn in row order, one audit record per
 * report stored whose `after` is the report's wire row, the keys recorded
 * with the hash bb_status_submit computes (a retry alone replays). */
static int one_batch_mixing_every_outcome_answers_each_row_in_order(void)
{
    char eid[24], actor[24];
    snprintf(eid, sizeof eid, "%lld", (long long)g_eid);
    snprintf(actor, sizeof actor, "%lld", (long long)it_user_id(IT_USER_SUPER));
    const char *p[] = {eid, actor};
    IT_CHECK(it_pg_exec("SELECT * FROM bb_status_submit($2::bigint, 'mix', 'mix-pre', $1::bigint,"
                        " '2024-06-01', '甲', '正常', NULL, NULL, NULL, '混合-前', 'Asia/Shanghai')",
                        2, p) == 0);
    /* Rows: 1 stored (key mix-1); 2 replay of mix-pre; 3 mix-pre reused; 4
     * repeat of row 1; 5 mix-1 reused; 6 unknown enterprise; 7 duplicate of
     * row 1 (same enterprise, date, reporter); 8 the same, allowed; 9
     * duplicate of the report stored before; 10 key mix-10, unknown
     * enterprise; 11 mix-10 again, stored; 12 stored, no key. */
    IT_CHECK(it_pg_exec(
        "CREATE TEMP TABLE mix_answers AS SELECT o.* FROM bb_status_submit_batch("
        " array_fill($2::bigint, ARRAY[12]), array_fill('mix'::text, ARRAY[12]),"
        " ARRAY['mix-1', 'mix-pre', 'mix-pre', 'mix-1', 'mix-1', NULL, NULL, NULL, NULL,"
        "       'mix-10', 'mix-10', NULL],"
        " ARRAY[$1, $1, $1, $1, $1, 987654321, $1, $1, $1, 987654321, $1, $1]::bigint[],"
        " ARRAY['2024-06-02', '2024-06-01', '2024-06-01', '2024-06-02', '2024-06-02',"
        "       '2024-06-02', '2024-06-02', '2024-06-02', '2024-06-01', '2024-06-03',"
        "       '2024-06-03', '2024-06-04']::date[],"
        " ARRAY['乙', '甲', '甲', '乙', '乙', '乙', '乙', '乙', '甲', '丙', '丙', '丁'],"
        " array_fill('正常'::text, ARRAY[12]), array_fill(NULL::bigint, ARRAY[12]),"
        " array_fill(NULL::int, ARRAY[12]), array_fill(NULL::int, ARRAY[12]),"
        " ARRAY['混合-1', '混合-前', '混合-另', '混合-1', '混合-1另', '混合-6', '混合-7',"
        "       '混合-8', '混合-9', '混合-10', '混合-10', '混合-12'],"
        " 'Asia/Shanghai',"
        " ARRAY[false, false, false, false, false, false, false, true, false, false, false,"
        "       false]) WITH ORDINALITY AS o(id, enterprise_id, report_date, reporter,"
        " production_status, output_value, employees, labour_shortage, note, created_at,"
        " version, created_by, withdrawn_at, withdrawn_by, reason, error_code, error_field,"
        " error_message, ord)",
        2, p) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM mix_answers", 0, NULL) == 12);
    const char *pre_id = "(SELECT id FROM status_report WHERE note = '混合-前')";
    int rc = 0;
    rc |= mix_check(__LINE__, 1, NULL, NULL);
    rc |= mix_check(__LINE__, 2, NULL, pre_id);
    rc |= mix_check(__LINE__, 3, "BB422", NULL);
    rc |= mix_check(__LINE__, 4, NULL, "(SELECT id FROM mix_answers WHERE ord = 1)");
    rc |= mix_check(__LINE__, 5, "BB422", NULL);
    rc |= mix_check(__LINE__, 6, "BB404", NULL);
    rc |= mix_check(__LINE__, 7, "BB411", NULL);
    rc |= mix_check(__LINE__, 8, NULL, NULL);
    rc |= mix_check(__LINE__, 9, "BB411", NULL);
    rc |= mix_check(__LINE__, 10, "BB404", NULL);
    rc |= mix_check(__LINE__, 11, NULL, NULL);
    rc |= mix_check(__LINE__, 12, NULL, NULL);
    IT_CHECK(rc == 0);
    /* The texts of bb_status_submit. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM mix_answers WHERE ord IN (3, 5)"
                       " AND error_field = 'idempotency_key' AND error_message ="
                       " 'idempotency_key was already used for a different status.submit request'",
                       0, NULL) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM mix_answers m WHERE m.ord = 7"
                       " AND m.error_message = bb_status_duplicate_text($1::bigint,"
                       " '2024-06-02', '乙')",
                       1, p) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM mix_answers m WHERE m.ord = 9"
                       " AND m.error_message = bb_status_duplicate_text($1::bigint,"
                       " '2024-06-01', '甲')",
                       1, p) == 1);
    /* Stored: rows 1, 8, 11, 12, with ids in row order; nothing else. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE note LIKE '混合-%'", 0, NULL) ==
             5);
    IT_CHECK(it_pg_int("SELECT count(*) FROM (SELECT array_agg(m.id ORDER BY m.ord) AS a"
                       " FROM mix_answers m WHERE m.ord IN (1, 8, 11, 12)) x"
                       " WHERE x.a = ARRAY(SELECT s.id FROM status_report s"
                       "  WHERE s.note IN ('混合-1', '混合-8', '混合-10', '混合-12')"
                       "  ORDER BY s.id)",
                       0, NULL) == 1);
    /* Each answer of a stored row is the report as it reads now. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM mix_answers m JOIN status_report_wire w"
                       " ON w.id = m.id WHERE m.error_code IS NULL"
                       " AND (w.id, w.enterprise_id, w.report_date, w.reporter,"
                       " w.production_status, w.output_value, w.employees, w.labour_shortage,"
                       " w.note, w.created_at, w.version, w.created_by, w.withdrawn_at,"
                       " w.withdrawn_by, w.reason) IS NOT DISTINCT FROM (m.id, m.enterprise_id,"
                       " m.report_date, m.reporter, m.production_status, m.output_value,"
                       " m.employees, m.labour_shortage, m.note, m.created_at, m.version,"
                       " m.created_by, m.withdrawn_at, m.withdrawn_by, m.reason)",
                       0, NULL) == 6);
    /* One audit record per report stored, as bb_status_submit writes it. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log a JOIN status_report_wire w"
                       " ON w.id = a.entity_id WHERE a.entity = 'status_report'"
                       " AND w.note IN ('混合-1', '混合-8', '混合-10', '混合-12')",
                       0, NULL) == 4);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log a JOIN status_report_wire w"
                       " ON w.id = a.entity_id WHERE a.entity = 'status_report'"
                       " AND w.note IN ('混合-1', '混合-8', '混合-10', '混合-12')"
                       " AND a.method = 'status.submit' AND a.user_id = $1::bigint"
                       " AND a.login = 'it_super' AND a.addr = 'mix' AND a.before IS NULL"
                       " AND a.after = to_jsonb(w) AND a.changed = bb_status_report_fields()"
                       " AND a.at = w.created_at::timestamptz",
                       1, p + 1) == 4);
    /* The keys: recorded once, with the first result; the same hash as a
     * single submit, which therefore replays them. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency i JOIN mix_answers m"
                       " ON (m.ord = 1 AND i.key = 'mix-1') OR (m.ord = 11 AND i.key = 'mix-10')"
                       " WHERE i.method = 'status.submit' AND (i.result ->> 'id')::bigint = m.id",
                       0, NULL) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM bb_status_submit($2::bigint, 'mix', 'mix-1',"
                       " $1::bigint, '2024-06-02', '乙', '正常', NULL, NULL, NULL, '混合-1',"
                       " 'Asia/Shanghai') s JOIN mix_answers m ON m.ord = 1 AND m.id = s.id",
                       2, p) == 1);
    IT_CHECK(it_pg_exec("DROP TABLE mix_answers", 0, NULL) == 0);
    return 0;
}

/* A key another transaction records while the batch runs (a retry racing
 * its original on another connection): the batch's INSERT of its keys
 * waits for that transaction and, when it commits, must not count: the
 * batch fails with 40001, having stored nothing, and the server then sends
 * each row alone, where the key decides (sql/031). */
static int key_recorded_concurrently_fails_the_batch_with_40001(void)
{
    char eid[24], actor[24];
    snprintf(eid, sizeof eid, "%lld", (long long)g_eid);
    snprintf(actor, sizeof actor, "%lld", (long long)it_user_id(IT_USER_SUPER));
    /* Every setup failure ends the shared session's transaction and the
     * other connection before returning, so later tests start clean. */
    PGconn *other = PQconnectdb(it_db_conninfo());
    bool began = false;
    bool ok = PQstatus(other) == CONNECTION_OK && (began = it_pg_exec("BEGIN", 0, NULL) == 0) &&
              it_pg_exec("INSERT INTO idempotency (method, key, request_hash, result)"
                         " VALUES ('status.submit', 'race-1', 'x', '{\"id\": 1}')",
                         0, NULL) == 0;
    const char *p[] = {eid, actor};
    ok = ok && PQsendQueryParams(other,
                               "SELECT count(*) FROM bb_status_submit_batch("
                               " ARRAY[$2, $2]::bigint[], ARRAY['race', 'race'],"
                               " ARRAY['race-1', 'race-2'], ARRAY[$1, $1]::bigint[],"
                               " ARRAY['2024-07-01', '2024-07-02']::date[], ARRAY['竞', '竞'],"
                               " ARRAY['正常', '正常'], ARRAY[NULL, NULL]::bigint[],"
                               " ARRAY[NULL, NULL]::int[], ARRAY[NULL, NULL]::int[],"
                               " ARRAY['竞态', '竞态'], 'Asia/Shanghai')",
                               2, NULL, p, NULL, NULL, 0) == 1;
    if (!ok) {
        if (began && it_pg_exec("ROLLBACK", 0, NULL) != 0)
            it_note("ROLLBACK failed");
        PQfinish(other);
        IT_CHECKF(false, "setting up the race failed");
    }
    /* Until the batch waits on the uncommitted key. */
    long long waiting = 0;
    for (int i = 0; i < 100 && waiting != 1; i++) {
        it_sleep_ms(50);
        waiting = it_pg_int("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            " AND query LIKE '%bb_status_submit_batch%'",
                            0, NULL);
    }
    int rc = it_pg_exec("COMMIT", 0, NULL);
    PGresult *res = PQgetResult(other);
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    char got[16];
    snprintf(got, sizeof got, "%s", state != NULL ? state : "none");
    PQclear(res);
    while ((res = PQgetResult(other)) != NULL)
        PQclear(res);
    PQfinish(other);
    IT_CHECK(rc == 0);
    IT_CHECKF(waiting == 1, "the batch never waited for the other transaction's key");
    IT_CHECKF(strcmp(got, "40001") == 0, "batch: SQLSTATE %s, want 40001", got);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE note = '竞态'", 0, NULL) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE key = 'race-2'", 0, NULL) == 0);
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
    {"one_batch_mixing_every_outcome_answers_each_row_in_order",
     one_batch_mixing_every_outcome_answers_each_row_in_order},
    {"key_recorded_concurrently_fails_the_batch_with_40001",
     key_recorded_concurrently_fails_the_batch_with_40001},
    {"connection_lost_mid_batch_then_retries_store_each_once",
     connection_lost_mid_batch_then_retries_store_each_once},
    {"failing_query_does_not_sink_the_others_of_its_sync_group",
     failing_query_does_not_sink_the_others_of_its_sync_group},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "groupcommit", tests, sizeof tests / sizeof tests[0], setup);
}
