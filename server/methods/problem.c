/*
 * problem.c: the problem.* methods (诉求: create, get, list, advance,
 * reopen, assign) and the trouble.* methods (the 困难企业 file: set, get,
 * list) of proto/PROTOCOL.md section 6.
 *
 * For: checking every argument at the edge (params.h; the known categories
 * and states; the decimal areas of a troubled-enterprise file, which are
 * text with at most two decimals and never pass through floating point)
 * before any query, then exactly one pool_query per request, and packing
 * its rows. The writes are stored functions (sql/010_problem_fns.sql):
 * each one statement with its idempotency record, its problem_event and
 * its audit row; the workflow (受理 → 交办 → 办理 → 反馈 → 确认, one step
 * forward, reopening 确认 → 办理), deadlines and references are decided
 * there, and its BBxxx errors are mapped in pool.c.
 *
 * Scope (PROTOCOL.md section 3): a problem and a troubled-enterprise file
 * belong to the township of their enterprise. Writes pass the caller
 * (session_actor) and the peer address to the stored functions, which
 * answer a record outside the caller's townships exactly like a missing
 * one; reads pass the read scope (session_read_scope) to their statement,
 * which leaves such records out.
 *
 * "Today" (the default deadline, "a deadline not before today") is the
 * server's clock (clock.h: the configured time_zone, fake_now in tests),
 * passed to SQL as a date parameter.
 * Not for: overdue and due-soon queries (overdue.c), units and officials
 * (official.c), SQL beyond the text next to each method here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "bb_rpc.h"
#include "clock.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

/* Limits of the texts (also CHECKs in sql/007_projects.sql). */
#define PROB_DESCRIPTION_MAX_CHARS 2000u
#define PROB_NOTE_MAX_CHARS 2000u
#define PROB_REASON_MAX_CHARS 500u
#define TROUBLE_REASON_MAX_CHARS 500u
#define TROUBLE_TEXT_MAX_CHARS 2000u
/* Integer digits of the areas: numeric(12, 2) and numeric(14, 2). */
#define TROUBLE_LAND_INT_DIGITS 10u
#define TROUBLE_FLOOR_INT_DIGITS 12u
/* Longest decimal text looked at: the digits, a point, two decimals. */
#define TROUBLE_DECIMAL_MAX_CHARS 16u
/* An int64 in decimal, with sign and NUL. */
#define PROB_NUM_TEXT 24

/* The Problem as the wire shows it: the columns of view problem_wire. */
static const rp_col prob_cols[] = {
    {"id", RP_INT},
    {"enterprise_id", RP_INT},
    {"enterprise_name", RP_TEXT},
    {"township", RP_TEXT},
    {"status_report_id", RP_INT},
    {"category", RP_TEXT},
    {"description", RP_TEXT},
    {"assignee_unit_id", RP_INT},
    {"assignee_unit", RP_TEXT},
    {"assignee_official_id", RP_INT},
    {"assignee_official", RP_TEXT},
    {"deadline", RP_TEXT},
    {"state", RP_TEXT},
    {"closed_at", RP_TEXT},
    {"version", RP_INT},
    {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define PROB_NCOLS ((int)(sizeof prob_cols / sizeof prob_cols[0]))

/* problem.get's result columns: the Problem's, then one event per row
 * (all NULL for a problem without events, which cannot happen through
 * the protocol: create writes the first). */
static const rp_col prob_get_cols[] = {
    {"id", RP_INT},
    {"enterprise_id", RP_INT},
    {"enterprise_name", RP_TEXT},
    {"township", RP_TEXT},
    {"status_report_id", RP_INT},
    {"category", RP_TEXT},
    {"description", RP_TEXT},
    {"assignee_unit_id", RP_INT},
    {"assignee_unit", RP_TEXT},
    {"assignee_official_id", RP_INT},
    {"assignee_official", RP_TEXT},
    {"deadline", RP_TEXT},
    {"state", RP_TEXT},
    {"closed_at", RP_TEXT},
    {"version", RP_INT},
    {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
    {"event_id", RP_INT},
    {"event_at", RP_TEXT},
    {"event_user", RP_TEXT},
    {"event_user_id", RP_INT},
    {"event_from_state", RP_TEXT},
    {"event_to_state", RP_TEXT},
    {"event_note", RP_TEXT},
};
#define PROB_GET_NCOLS ((int)(sizeof prob_get_cols / sizeof prob_get_cols[0]))
_Static_assert(sizeof prob_get_cols / sizeof prob_get_cols[0] ==
                   sizeof prob_cols / sizeof prob_cols[0] + 7,
               "problem.get: the Problem's columns, then the event's");

/* A ProblemEvent as the wire shows it (packed from the event_* columns). */
static const rp_col event_cols[] = {
    {"id", RP_INT},         {"at", RP_TEXT},       {"user", RP_TEXT},
    {"user_id", RP_INT},    {"from_state", RP_TEXT}, {"to_state", RP_TEXT},
    {"note", RP_TEXT},
};
#define EVENT_NCOLS ((int)(sizeof event_cols / sizeof event_cols[0]))

/* The EnterpriseTrouble as the wire shows it: view enterprise_trouble_wire. */
static const rp_col trouble_cols[] = {
    {"enterprise_id", RP_INT},
    {"enterprise_name", RP_TEXT},
    {"township", RP_TEXT},
    {"idle_reason", RP_TEXT},
    {"idle_land_mu", RP_TEXT},
    {"idle_floor_m2", RP_TEXT},
    {"strengths", RP_TEXT},
    {"revival_plan", RP_TEXT},
    {"revival_progress", RP_TEXT},
    {"version", RP_INT},
    {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define TROUBLE_NCOLS ((int)(sizeof trouble_cols / sizeof trouble_cols[0]))

/* Writes: $1 actor (the session's user id), $2 the peer's address for the
 * audit trail, $3 the idempotency key; then the method's arguments. */
static const pool_stmt st_create = {
    "prob_create",
    "SELECT * FROM bb_problem_create($1::bigint, $2::text, $3::text, $4::bigint, $5::bigint,"
    " $6::text, $7::text, $8::bigint, $9::bigint, $10::date, $11::date)",
    11};

static const pool_stmt st_advance = {
    "prob_advance",
    "SELECT * FROM bb_problem_advance($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::text)",
    7};

static const pool_stmt st_reopen = {
    "prob_reopen",
    "SELECT * FROM bb_problem_reopen($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text)",
    6};

static const pool_stmt st_assign = {
    "prob_assign",
    "SELECT * FROM bb_problem_assign($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::boolean, $7::bigint, $8::boolean, $9::bigint, $10::date, $11::date)",
    11};

static const pool_stmt st_trouble_set = {
    "trouble_set",
    "SELECT * FROM bb_trouble_set($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::boolean, $8::text, $9::boolean, $10::text, $11::boolean, $12::text,"
    " $13::boolean, $14::text, $15::boolean, $16::text)",
    16};

/* The read scope as a condition on an enterprise's township_id column
 * (the text of the statements below repeats it): $N NULL reads
 * everything, a user id only that user's townships. */

/* One problem and its events, oldest first. $2 is the read scope. */
static const pool_stmt st_get = {
    "prob_get",
    "SELECT w.*, ev.id AS event_id, bb_ts(ev.at) AS event_at, au.login AS event_user,"
    "       ev.user_id AS event_user_id, ev.from_state AS event_from_state,"
    "       ev.to_state AS event_to_state, ev.note AS event_note"
    "  FROM problem_wire w"
    "  LEFT JOIN problem_event ev ON ev.problem_id = w.id"
    "  LEFT JOIN app_user au ON au.id = ev.user_id"
    " WHERE w.id = $1::bigint"
    "   AND ($2::bigint IS NULL OR EXISTS ("
    "        SELECT 1 FROM problem p JOIN enterprise e ON e.id = p.enterprise_id"
    "          JOIN app_user_township ut"
    "            ON ut.township_id = e.township_id AND ut.user_id = $2::bigint"
    "         WHERE p.id = w.id))"
    " ORDER BY ev.id",
    2};

/* Keyset page of problems by ascending id: ids after $7, $8 rows (the
 * caller asks one more than the page to learn whether another follows).
 * An unknown township name matches nothing. $9 is the read scope: rows
 * outside it are never looked at, so no filter, page or boundary reveals
 * them. */
static const pool_stmt st_list = {
    "prob_list",
    "SELECT w.* FROM ("
    "  SELECT p.id FROM problem p JOIN enterprise e ON e.id = p.enterprise_id"
    "   WHERE ($1::bigint IS NULL OR p.enterprise_id = $1::bigint)"
    "     AND ($2::text IS NULL OR e.township_id = (SELECT t.id FROM township t WHERE t.name = $2))"
    "     AND ($3::text IS NULL OR p.state = $3)"
    "     AND ($4::bigint IS NULL OR p.assignee_unit_id = $4::bigint)"
    "     AND ($5::bigint IS NULL OR p.assignee_official_id = $5::bigint)"
    "     AND (NOT $6::boolean OR p.state <> '确认')"
    "     AND p.id > $7::bigint"
    "     AND ($9::bigint IS NULL OR e.township_id IN ("
    "          SELECT ut.township_id FROM app_user_township ut WHERE ut.user_id = $9::bigint))"
    "   ORDER BY p.id LIMIT $8::int) k"
    " JOIN problem_wire w ON w.id = k.id"
    " ORDER BY w.id",
    9};

static const pool_stmt st_trouble_get = {
    "trouble_get",
    "SELECT w.* FROM enterprise_trouble_wire w"
    " WHERE w.enterprise_id = $1::bigint"
    "   AND ($2::bigint IS NULL OR EXISTS ("
    "        SELECT 1 FROM enterprise e JOIN app_user_township ut"
    "            ON ut.township_id = e.township_id AND ut.user_id = $2::bigint"
    "         WHERE e.id = w.enterprise_id))",
    2};

/* Keyset page of files by ascending enterprise id, as st_list. */
static const pool_stmt st_trouble_list = {
    "trouble_list",
    "SELECT w.* FROM ("
    "  SELECT tr.enterprise_id FROM enterprise_trouble tr"
    "    JOIN enterprise e ON e.id = tr.enterprise_id"
    "   WHERE ($1::text IS NULL OR e.township_id = (SELECT t.id FROM township t WHERE t.name = $1))"
    "     AND tr.enterprise_id > $2::bigint"
    "     AND ($4::bigint IS NULL OR e.township_id IN ("
    "          SELECT ut.township_id FROM app_user_township ut WHERE ut.user_id = $4::bigint))"
    "   ORDER BY tr.enterprise_id LIMIT $3::int) k"
    " JOIN enterprise_trouble_wire w ON w.enterprise_id = k.enterprise_id"
    " ORDER BY w.enterprise_id",
    4};

static int problem_register_statements(void)
{
    const pool_stmt *all[] = {&st_create, &st_advance, &st_reopen, &st_assign,
                              &st_trouble_set, &st_get, &st_list, &st_trouble_get,
                              &st_trouble_list};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (pool_register(all[i]) != 0)
            return -1;
    return 0;
}

/* Known values (PROTOCOL.md "Problem"); the database has the same lists
 * as CHECKs. */
static const char *const categories[] = {"用地", "用工", "融资", "用电", "审批",
                                         "物流", "市场", "其他", NULL};
static const char *const states[] = {"受理", "交办", "办理", "反馈", "确认", NULL};

/* ---- argument helpers ---- */

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

static int check_known_value(request *req, const char *key, const pstr *v,
                             const char *const *list, const char *what)
{
    if (v->s != NULL && !one_of(v, list)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: not a known %s", key, what);
        return -1;
    }
    return 0;
}

static int refuse_nil(request *req, const char *key, pstate st)
{
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* An optional str that is not nil-able. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   bool allow_newline, pstr *out, pstate *st)
{
    if (params_str(req, args, key, false, max_chars, allow_newline, out, st) != 0)
        return -1;
    return refuse_nil(req, key, *st);
}

/* An optional id, not nil-able: text in buf (or *out NULL when absent). */
static int opt_id(request *req, const msgpack_object *args, const char *key, bool nil_ok,
                  char buf[PROB_NUM_TEXT], const char **out, pstate *st)
{
    int64_t v;
    *out = NULL;
    if (params_int(req, args, key, false, 1, INT64_MAX, &v, st) != 0)
        return -1;
    if (!nil_ok && refuse_nil(req, key, *st) != 0)
        return -1;
    if (*st == P_SET) {
        snprintf(buf, PROB_NUM_TEXT, "%" PRId64, v);
        *out = buf;
    }
    return 0;
}

/* An optional bool, not nil-able (absent = false). */
static int opt_bool(request *req, const msgpack_object *args, const char *key, bool *out)
{
    *out = false;
    const msgpack_object *v = bb_map_get(args, key);
    if (v == NULL)
        return 0;
    if (v->type != MSGPACK_OBJECT_BOOLEAN) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        v->type == MSGPACK_OBJECT_NIL ? "%s: must not be nil (leave it out instead)"
                                                      : "%s: must be true or false",
                        key);
        return -1;
    }
    *out = v->via.boolean;
    return 0;
}

static int idem_key(request *req, const msgpack_object *args, pstr *key)
{
    pstate st;
    if (opt_str(req, args, "idempotency_key", BB_MAX_IDEMPOTENCY_KEY_BYTES, false, key, &st) != 0)
        return -1;
    if (key->s != NULL && key->len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return -1;
    }
    return 0;
}

/* A page's `after` (0 – 2^63−1, default 0) and `limit`, neither nil-able.
 * Writes after and limit + 1 as text. */
static int page_args(request *req, const msgpack_object *args, char aftert[PROB_NUM_TEXT],
                     char limitt[PROB_NUM_TEXT], int64_t *limit)
{
    const config *cfg = &req_server(req)->cfg;
    int64_t after = 0;
    pstate st, limit_st;
    if (params_int(req, args, "after", false, 0, INT64_MAX, &after, &st) != 0 ||
        refuse_nil(req, "after", st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, limit, &limit_st) != 0 ||
        refuse_nil(req, "limit", limit_st) != 0)
        return -1;
    if (limit_st != P_SET)
        *limit = cfg->page_limit_default;
    snprintf(aftert, PROB_NUM_TEXT, "%" PRId64, after);
    snprintf(limitt, PROB_NUM_TEXT, "%" PRId64, *limit + 1);
    return 0;
}

/* A nil-able area: a str holding a non-negative decimal with at most
 * int_digits digits before the point (no leading zero but "0") and at most
 * two after it, e.g. "12.50", "3", "0.5". Never a float: an int or float is
 * refused, so no value is ever rounded on the way. */
static int opt_decimal(request *req, const msgpack_object *args, const char *key,
                       unsigned int_digits, pstr *out, pstate *st)
{
    if (params_str(req, args, key, false, TROUBLE_DECIMAL_MAX_CHARS, false, out, st) != 0)
        return -1;
    if (*st != P_SET)
        return 0;
    const char *s = out->s;
    uint32_t n = out->len, i = 0, ints = 0, decs = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        ints++;
    }
    bool ok = ints >= 1 && ints <= int_digits && !(ints > 1 && s[0] == '0');
    if (ok && i < n) {
        ok = s[i] == '.';
        i++;
        while (ok && i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            decs++;
        }
        ok = ok && decs >= 1 && decs <= 2;
    }
    if (!ok || i != n) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: a decimal number as a string, at most %u digits before the point "
                        "and 2 after it, e.g. \"12.50\"",
                        key, int_digits);
        return -1;
    }
    return 0;
}

/* Today in the server's time_zone, or answers internal. */
static int today(request *req, char out[11])
{
    if (clock_today(out) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        log_event(LOG_ERROR, "clock_failed", "conn=%" PRIu64 " req=%" PRIu32 " what=today",
                  req_conn_id(req), req_msgid(req));
        return -1;
    }
    return 0;
}

/* ---- queries and their answers ---- */

/* What a callback needs besides the result. */
typedef struct qctx {
    request *req;
    const pool_stmt *stmt;
    const rp_col *cols;       /* the record's columns */
    int ncols;
    int64_t n;                /* get: the id (for not_found); list: the page size */
} qctx;

static void send_query(request *req, const pool_stmt *stmt, const char *const *vals,
                       const int *lens, pool_cb cb, const rp_col *cols, int ncols, int64_t n)
{
    qctx *q = malloc(sizeof *q);
    if (q == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    *q = (qctx){req, stmt, cols, ncols, n};
    int rc = pool_query(req_server(req)->pool, stmt, vals, lens, cb, q);
    if (rc < 0) {
        free(q);
        rowpack_reply_query_rc(req, stmt->name, rc);
    }
}

/* Takes the context out of a callback argument; NULL when the query
 * failed or its result has the wrong shape (then req is answered). */
static request *take(void *arg, const PGresult *res, const pool_error *e, const rp_col *cols,
                     int ncols, qctx *out)
{
    *out = *(qctx *)arg;
    free(arg);
    if (e != NULL) {
        rowpack_reply_pool_error(out->req, out->stmt->name, e);
        return NULL;
    }
    const char *why = NULL;
    if (rowpack_check(res, cols, ncols, &why) != 0) {
        rowpack_reply_bad_result(out->req, out->stmt->name, why);
        return NULL;
    }
    return out->req;
}

/* Writes: one row, the record. */
static void one_row_cb(void *arg, const PGresult *res, const pool_error *e)
{
    qctx q;
    const qctx *a = arg;
    request *req = take(arg, res, e, a->cols, a->ncols, &q);
    if (req == NULL)
        return;
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, q.stmt->name, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, q.cols, q.ncols);
    req_result_end(req);
}

/* Packs the key/value pairs of cols[0..n), found at result columns from,
 * from+1, ... (rowpack_row packs a whole map from column 0 only). The
 * result passed rowpack_check. */
static void pack_fields(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols,
                        int n, int from)
{
    for (int i = 0; i < n; i++) {
        rowpack_str(pk, cols[i].key);
        int c = from + i;
        if (PQgetisnull(res, row, c)) {
            msgpack_pack_nil(pk);
        } else if (cols[i].type == RP_INT) {
            msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, c), NULL, 10));
        } else {
            size_t len = (size_t)PQgetlength(res, row, c);
            msgpack_pack_str(pk, len);
            msgpack_pack_str_body(pk, PQgetvalue(res, row, c), len);
        }
    }
}

static void get_cb(void *arg, const PGresult *res, const pool_error *e)
{
    qctx q;
    request *req = take(arg, res, e, prob_get_cols, PROB_GET_NCOLS, &q);
    if (req == NULL)
        return;
    int rows = PQntuples(res);
    if (rows == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "problem %" PRId64 " does not exist", q.n);
        return;
    }
    int nev = 0;
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, PROB_NCOLS))
            nev++;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, (uint32_t)PROB_NCOLS + 1);
    pack_fields(pk, res, 0, prob_cols, PROB_NCOLS, 0);
    rowpack_str(pk, "events");
    msgpack_pack_array(pk, (uint32_t)nev);
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, PROB_NCOLS)) {
            msgpack_pack_map(pk, (uint32_t)EVENT_NCOLS);
            pack_fields(pk, res, r, event_cols, EVENT_NCOLS, PROB_NCOLS);
        }
    req_result_end(req);
}

/* trouble.get: the file, or not_found (field enterprise_id). */
static void trouble_get_cb(void *arg, const PGresult *res, const pool_error *e)
{
    qctx q;
    request *req = take(arg, res, e, trouble_cols, TROUBLE_NCOLS, &q);
    if (req == NULL)
        return;
    if (PQntuples(res) != 1) {
        req_reply_error(req, BB_E_NOT_FOUND, "enterprise_id",
                        "enterprise %" PRId64 " has no troubled-enterprise file", q.n);
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, trouble_cols, TROUBLE_NCOLS);
    req_result_end(req);
}

/* Lists: {items, next}; next is the first column (the key) of the last
 * item when the query found one row more than the page. */
static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    qctx q;
    const qctx *a = arg;
    request *req = take(arg, res, e, a->cols, a->ncols, &q);
    if (req == NULL)
        return;
    int rows = PQntuples(res);
    bool more = rows > q.n;
    int n = more ? (int)q.n : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, q.cols, q.ncols);
    rowpack_str(pk, "next");
    if (more && n > 0)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, 0), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

/* ---- problem.* ---- */

static void problem_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "status_report_id", "category",
                                        "description", "assignee_unit_id",
                                        "assignee_official_id", "deadline", "idempotency_key",
                                        NULL};
    int64_t eid;
    pstr category, description, key;
    pstate st;
    char eidt[PROB_NUM_TEXT], srt[PROB_NUM_TEXT], unitt[PROB_NUM_TEXT], offt[PROB_NUM_TEXT];
    const char *sr, *unit, *off;
    char deadline[11], todayt[11];
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        opt_id(req, args, "status_report_id", true, srt, &sr, &st) != 0 ||
        params_str(req, args, "category", true, BB_MAX_SHORT_TEXT_CHARS, false, &category,
                   &st) != 0 ||
        check_known_value(req, "category", &category, categories, "problem category") != 0 ||
        params_str(req, args, "description", true, PROB_DESCRIPTION_MAX_CHARS, true,
                   &description, &st) != 0 ||
        opt_id(req, args, "assignee_unit_id", true, unitt, &unit, &st) != 0 ||
        opt_id(req, args, "assignee_official_id", true, offt, &off, &st) != 0 ||
        params_date(req, args, "deadline", false, deadline, &st) != 0 ||
        refuse_nil(req, "deadline", st) != 0 || idem_key(req, args, &key) != 0 ||
        today(req, todayt) != 0)
        return;
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    const char *vals[11] = {session_actor(req_session(req)), req_peer(req), key.s, eidt, sr,
                            category.s, description.s, unit, off,
                            deadline[0] != '\0' ? deadline : NULL, todayt};
    const int lens[11] = {-1, -1, (int)key.len, -1, -1, (int)category.len,
                          (int)description.len, -1, -1, -1, -1};
    send_query(req, &st_create, vals, lens, one_row_cb, prob_cols, PROB_NCOLS, 0);
}

static void problem_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[PROB_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *vals[2] = {idt, session_read_scope(req_session(req))};
    send_query(req, &st_get, vals, NULL, get_cb, prob_get_cols, PROB_GET_NCOLS, id);
}

static void problem_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "township", "state",
                                        "assignee_unit_id", "assignee_official_id",
                                        "open_only", "after", "limit", NULL};
    pstr township, state;
    pstate st;
    char eidt[PROB_NUM_TEXT], unitt[PROB_NUM_TEXT], offt[PROB_NUM_TEXT];
    char aftert[PROB_NUM_TEXT], limitt[PROB_NUM_TEXT];
    const char *eid, *unit, *off;
    bool open_only;
    int64_t limit;
    if (params_check_known(req, args, known) != 0 ||
        opt_id(req, args, "enterprise_id", false, eidt, &eid, &st) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, false, &township, &st) != 0 ||
        opt_str(req, args, "state", BB_MAX_SHORT_TEXT_CHARS, false, &state, &st) != 0 ||
        check_known_value(req, "state", &state, states, "problem state") != 0 ||
        opt_id(req, args, "assignee_unit_id", false, unitt, &unit, &st) != 0 ||
        opt_id(req, args, "assignee_official_id", false, offt, &off, &st) != 0 ||
        opt_bool(req, args, "open_only", &open_only) != 0 ||
        page_args(req, args, aftert, limitt, &limit) != 0)
        return;
    const char *vals[9] = {eid, township.s, state.s, unit, off, open_only ? "true" : "false",
                           aftert, limitt, session_read_scope(req_session(req))};
    const int lens[9] = {-1, (int)township.len, (int)state.len, -1, -1, -1, -1, -1, -1};
    send_query(req, &st_list, vals, lens, list_cb, prob_cols, PROB_NCOLS, limit);
}

/* id and version, the first two arguments of every change of a problem. */
static int id_version(request *req, const msgpack_object *args, char idt[PROB_NUM_TEXT],
                      char vt[PROB_NUM_TEXT])
{
    int64_t id, version;
    pstate st;
    if (params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0)
        return -1;
    snprintf(idt, PROB_NUM_TEXT, "%" PRId64, id);
    snprintf(vt, PROB_NUM_TEXT, "%" PRId64, version);
    return 0;
}

static void problem_advance(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "to_state", "note", "idempotency_key",
                                        NULL};
    char idt[PROB_NUM_TEXT], vt[PROB_NUM_TEXT];
    pstr to, note, key;
    pstate st;
    if (params_check_known(req, args, known) != 0 || id_version(req, args, idt, vt) != 0 ||
        params_str(req, args, "to_state", true, BB_MAX_SHORT_TEXT_CHARS, false, &to, &st) != 0 ||
        check_known_value(req, "to_state", &to, states, "problem state") != 0 ||
        params_str(req, args, "note", false, PROB_NOTE_MAX_CHARS, true, &note, &st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    const char *vals[7] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt, to.s,
                           note.s};
    const int lens[7] = {-1, -1, (int)key.len, -1, -1, (int)to.len, (int)note.len};
    send_query(req, &st_advance, vals, lens, one_row_cb, prob_cols, PROB_NCOLS, 0);
}

static void problem_reopen(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "reason", "idempotency_key", NULL};
    char idt[PROB_NUM_TEXT], vt[PROB_NUM_TEXT];
    pstr reason, key;
    pstate st;
    if (params_check_known(req, args, known) != 0 || id_version(req, args, idt, vt) != 0 ||
        params_str(req, args, "reason", true, PROB_REASON_MAX_CHARS, false, &reason, &st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    const char *vals[6] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt,
                           reason.s};
    const int lens[6] = {-1, -1, (int)key.len, -1, -1, (int)reason.len};
    send_query(req, &st_reopen, vals, lens, one_row_cb, prob_cols, PROB_NCOLS, 0);
}

static void problem_assign(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "assignee_unit_id",
                                        "assignee_official_id", "deadline", "idempotency_key",
                                        NULL};
    char idt[PROB_NUM_TEXT], vt[PROB_NUM_TEXT], unitt[PROB_NUM_TEXT], offt[PROB_NUM_TEXT];
    const char *unit, *off;
    pstate unit_st, off_st, st;
    char deadline[11], todayt[11];
    pstr key;
    if (params_check_known(req, args, known) != 0 || id_version(req, args, idt, vt) != 0 ||
        opt_id(req, args, "assignee_unit_id", true, unitt, &unit, &unit_st) != 0 ||
        opt_id(req, args, "assignee_official_id", true, offt, &off, &off_st) != 0 ||
        params_date(req, args, "deadline", false, deadline, &st) != 0 ||
        refuse_nil(req, "deadline", st) != 0 || idem_key(req, args, &key) != 0 ||
        today(req, todayt) != 0)
        return;
    const char *vals[11] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt,
                            unit_st != P_ABSENT ? "true" : "false", unit,
                            off_st != P_ABSENT ? "true" : "false", off,
                            deadline[0] != '\0' ? deadline : NULL, todayt};
    const int lens[11] = {-1, -1, (int)key.len, -1, -1, -1, -1, -1, -1, -1, -1};
    send_query(req, &st_assign, vals, lens, one_row_cb, prob_cols, PROB_NCOLS, 0);
}

/* ---- trouble.* ---- */

static void trouble_set(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "version", "idle_reason",
                                        "idle_land_mu", "idle_floor_m2", "strengths",
                                        "revival_plan", "revival_progress", "idempotency_key",
                                        NULL};
    int64_t eid, version = 0;
    pstate st, version_st, land_st, floor_st, str_st, plan_st, prog_st;
    pstr reason, land, floor, strengths, plan, progress, key;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        params_int(req, args, "version", false, 1, INT32_MAX, &version, &version_st) != 0 ||
        refuse_nil(req, "version", version_st) != 0 ||
        opt_str(req, args, "idle_reason", TROUBLE_REASON_MAX_CHARS, false, &reason, &st) != 0 ||
        opt_decimal(req, args, "idle_land_mu", TROUBLE_LAND_INT_DIGITS, &land, &land_st) != 0 ||
        opt_decimal(req, args, "idle_floor_m2", TROUBLE_FLOOR_INT_DIGITS, &floor, &floor_st) != 0 ||
        params_str(req, args, "strengths", false, TROUBLE_TEXT_MAX_CHARS, true, &strengths,
                   &str_st) != 0 ||
        params_str(req, args, "revival_plan", false, TROUBLE_TEXT_MAX_CHARS, true, &plan,
                   &plan_st) != 0 ||
        params_str(req, args, "revival_progress", false, TROUBLE_TEXT_MAX_CHARS, true, &progress,
                   &prog_st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    /* Cross rule: a new file (no version) needs its idle reason. */
    if (version_st != P_SET && reason.s == NULL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idle_reason",
                        "idle_reason: required when creating a file (without version)");
        return;
    }
    char eidt[PROB_NUM_TEXT], vt[PROB_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    snprintf(vt, sizeof vt, "%" PRId64, version);
#define SETF(s) ((s) != P_ABSENT ? "true" : "false")
    const char *vals[16] = {session_actor(req_session(req)), req_peer(req), key.s, eidt,
                            version_st == P_SET ? vt : NULL, reason.s,
                            SETF(land_st), land.s, SETF(floor_st), floor.s,
                            SETF(str_st), strengths.s, SETF(plan_st), plan.s,
                            SETF(prog_st), progress.s};
#undef SETF
    const int lens[16] = {-1, -1, (int)key.len, -1, -1, (int)reason.len, -1, (int)land.len,
                          -1, (int)floor.len, -1, (int)strengths.len, -1, (int)plan.len,
                          -1, (int)progress.len};
    send_query(req, &st_trouble_set, vals, lens, one_row_cb, trouble_cols, TROUBLE_NCOLS, 0);
}

static void trouble_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", NULL};
    int64_t eid;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0)
        return;
    char eidt[PROB_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    const char *vals[2] = {eidt, session_read_scope(req_session(req))};
    send_query(req, &st_trouble_get, vals, NULL, trouble_get_cb, trouble_cols, TROUBLE_NCOLS,
               eid);
}

static void trouble_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"township", "after", "limit", NULL};
    pstr township;
    pstate st;
    char aftert[PROB_NUM_TEXT], limitt[PROB_NUM_TEXT];
    int64_t limit;
    if (params_check_known(req, args, known) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, false, &township, &st) != 0 ||
        page_args(req, args, aftert, limitt, &limit) != 0)
        return;
    const char *vals[4] = {township.s, aftert, limitt, session_read_scope(req_session(req))};
    const int lens[4] = {(int)township.len, -1, -1, -1};
    send_query(req, &st_trouble_list, vals, lens, list_cb, trouble_cols, TROUBLE_NCOLS, limit);
}

const method_impl problem_methods[] = {
    {"problem.create", .raw = problem_create, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"problem.get", .raw = problem_get, .raw_roles = BB_ROLES_USERS},
    {"problem.list", .raw = problem_list, .raw_roles = BB_ROLES_USERS},
    {"problem.advance", .raw = problem_advance, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"problem.reopen", .raw = problem_reopen, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"problem.assign", .raw = problem_assign, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"trouble.set", .raw = trouble_set, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"trouble.get", .raw = trouble_get, .raw_roles = BB_ROLES_USERS},
    {"trouble.list", .raw = trouble_list, .raw_roles = BB_ROLES_USERS},
    {NULL},
};

const method_module problem_module = {
    .name = "problem",
    .methods = problem_methods,
    .register_statements = problem_register_statements,
};
