/*
 * status.c: the status.* methods (proto/PROTOCOL.md section 5): submit a
 * status report (走访 / 调度记录) and list an enterprise's reports.
 *
 * For: checking every argument at the edge (params.h, production status,
 * the 2000-01-01 floor, from <= to, the list cursor) before any query, then
 * one pool_query. "Not after today" is checked by bb_status_submit in the
 * database, in the server's time_zone (passed as a parameter), in the same
 * transaction as the insert. Not for: enterprises (enterprise.c).
 *
 * The status.list cursor is "<report_date>.<id>" of the last row of the
 * previous page, e.g. "2026-11-20.123"; clients treat it as opaque, the
 * server parses it strictly (a real date, then a positive id in canonical
 * decimal) and refuses anything else with invalid_argument (field after).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"

#define STATUS_MIN_DATE "2000-01-01"
#define STATUS_MAX_OUTPUT_VALUE INT64_C(1000000000000000) /* 10^15 yuan */
#define STATUS_MAX_PEOPLE INT64_C(1000000)
/* "YYYY-MM-DD." + up to 19 digits. */
#define STATUS_CURSOR_MAX 30u
#define STATUS_NUM_TEXT 24

/* The StatusReport as the wire shows it: the columns of status_report_wire. */
static const rp_col sr_cols[] = {
    {"id", RP_INT},
    {"enterprise_id", RP_INT},
    {"report_date", RP_TEXT},
    {"reporter", RP_TEXT},
    {"production_status", RP_TEXT},
    {"output_value", RP_INT},
    {"employees", RP_INT},
    {"labour_shortage", RP_INT},
    {"note", RP_TEXT},
    {"created_at", RP_TEXT},
};
#define SR_NCOLS ((int)(sizeof sr_cols / sizeof sr_cols[0]))

static const pool_stmt st_submit = {
    "st_submit",
    "SELECT * FROM bb_status_submit($1::text, $2::bigint, $3::date, $4::text, $5::text,"
    " $6::bigint, $7::int, $8::int, $9::text, $10::text)",
    10};

/* bb_status_list raises BB404 for an unknown enterprise; asks limit+1 rows. */
static const pool_stmt st_list = {
    "st_list",
    "SELECT * FROM bb_status_list($1::bigint, $2::date, $3::date, $4::date, $5::bigint, $6::int)",
    6};

int status_register_statements(void)
{
    if (pool_register(&st_submit) != 0 || pool_register(&st_list) != 0)
        return -1;
    return 0;
}

static const char *const production_statuses[] = {"正常", "半停产", "停产", "在建", NULL};

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

/* An optional argument that is not nil-able: refuses nil. */
static int refuse_nil(request *req, const char *key, pstate st)
{
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* A nil-able int: writes its text into buf, or sets *out NULL for nil/absent. */
static int opt_int_text(request *req, const msgpack_object *args, const char *key, int64_t max,
                        char *buf, size_t cap, const char **out)
{
    int64_t v;
    pstate st;
    *out = NULL;
    if (params_int(req, args, key, false, 0, max, &v, &st) != 0)
        return -1;
    if (st == P_SET) {
        snprintf(buf, cap, "%" PRId64, v);
        *out = buf;
    }
    return 0;
}

static void submit_cb(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_submit.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, sr_cols, SR_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_submit.name, why);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, st_submit.name, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, sr_cols, SR_NCOLS);
    req_result_end(req);
}

static void status_submit(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "report_date", "reporter",
                                        "production_status", "output_value", "employees",
                                        "labour_shortage", "note", "idempotency_key", NULL};
    int64_t eid;
    char date[11];
    pstr reporter, pstatus, note, key;
    pstate st;
    char ov[STATUS_NUM_TEXT], em[STATUS_NUM_TEXT], ls[STATUS_NUM_TEXT];
    const char *ovp, *emp, *lsp;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        params_date(req, args, "report_date", true, date, &st) != 0)
        return;
    if (strcmp(date, STATUS_MIN_DATE) < 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "report_date",
                        "report_date: %s is before " STATUS_MIN_DATE, date);
        return;
    }
    if (params_str(req, args, "reporter", true, BB_MAX_REPORTER_CHARS, false, &reporter, &st) != 0 ||
        params_str(req, args, "production_status", true, BB_MAX_SHORT_TEXT_CHARS, false,
                   &pstatus, &st) != 0)
        return;
    if (!one_of(&pstatus, production_statuses)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "production_status",
                        "production_status: must be one of 正常, 半停产, 停产, 在建");
        return;
    }
    if (opt_int_text(req, args, "output_value", STATUS_MAX_OUTPUT_VALUE, ov, sizeof ov, &ovp) != 0 ||
        opt_int_text(req, args, "employees", STATUS_MAX_PEOPLE, em, sizeof em, &emp) != 0 ||
        opt_int_text(req, args, "labour_shortage", STATUS_MAX_PEOPLE, ls, sizeof ls, &lsp) != 0 ||
        params_str(req, args, "note", false, BB_MAX_NOTE_CHARS, true, &note, &st) != 0 ||
        params_str(req, args, "idempotency_key", false, BB_MAX_IDEMPOTENCY_KEY_BYTES, false,
                   &key, &st) != 0 ||
        refuse_nil(req, "idempotency_key", st) != 0)
        return;
    if (key.s != NULL && key.len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return;
    }
    char eidt[STATUS_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    const char *tz = req_server(req)->cfg.time_zone;
    const char *vals[10] = {key.s, eidt, date, reporter.s, pstatus.s, ovp, emp, lsp, note.s, tz};
    const int lens[10] = {(int)key.len, -1, -1, (int)reporter.len, (int)pstatus.len,
                          -1, -1, -1, (int)note.len, -1};
    int rc = pool_query(req_server(req)->pool, &st_submit, vals, lens, submit_cb, req);
    if (rc < 0)
        rowpack_reply_query_rc(req, st_submit.name, rc);
}

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* True when s[0..10) is a real calendar date YYYY-MM-DD. */
static bool valid_date(const char *s)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return false;
        } else if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y == 0 || m < 1 || m > 12)
        return false;
    unsigned dim = mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u);
    return d >= 1 && d <= dim;
}

/* Parses a cursor "YYYY-MM-DD.ID" into date (11 bytes) and id text (24
 * bytes). Returns 0 or -1. */
static int parse_cursor(const pstr *c, char date[11], char id[STATUS_NUM_TEXT])
{
    if (c->len < 12 || c->len > STATUS_CURSOR_MAX || c->s[10] != '.' || !valid_date(c->s))
        return -1;
    const char *digits = c->s + 11;
    size_t nd = c->len - 11;
    if (nd > 19 || digits[0] == '0')
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(digits[i] - '0');
    }
    if (v == 0 || v > (uint64_t)INT64_MAX)
        return -1;
    memcpy(date, c->s, 10);
    date[10] = '\0';
    memcpy(id, digits, nd);
    id[nd] = '\0';
    return 0;
}

typedef struct slist_ctx {
    request *req;
    int limit;
} slist_ctx;

static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    slist_ctx *l = arg;
    request *req = l->req;
    int limit = l->limit;
    free(l);
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_list.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, sr_cols, SR_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_list.name, why);
        return;
    }
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, sr_cols, SR_NCOLS);
    rowpack_str(pk, "next");
    if (more && n > 0) {
        char cur[STATUS_CURSOR_MAX + 8];
        snprintf(cur, sizeof cur, "%s.%s", PQgetvalue(res, n - 1, 2), PQgetvalue(res, n - 1, 0));
        rowpack_str(pk, cur);
    } else {
        msgpack_pack_nil(pk);
    }
    req_result_end(req);
}

static void status_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "from", "to", "after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    int64_t eid, limit = 0;
    char from[11], to[11], adate[11], aid[STATUS_NUM_TEXT];
    pstr after;
    pstate st, from_st, to_st, limit_st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        params_date(req, args, "from", false, from, &from_st) != 0 ||
        refuse_nil(req, "from", from_st) != 0 ||
        params_date(req, args, "to", false, to, &to_st) != 0 ||
        refuse_nil(req, "to", to_st) != 0 ||
        params_str(req, args, "after", false, STATUS_CURSOR_MAX, false, &after, &st) != 0 ||
        refuse_nil(req, "after", st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, &limit, &limit_st) != 0 ||
        refuse_nil(req, "limit", limit_st) != 0)
        return;
    if (from_st == P_SET && to_st == P_SET && strcmp(from, to) > 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "from", "from: %s is after to (%s)", from, to);
        return;
    }
    if (after.s != NULL && parse_cursor(&after, adate, aid) != 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this server returned as next");
        return;
    }
    if (limit_st != P_SET)
        limit = cfg->page_limit_default;
    slist_ctx *l = malloc(sizeof *l);
    if (l == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    l->req = req;
    l->limit = (int)limit;
    char eidt[STATUS_NUM_TEXT], limitt[STATUS_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    snprintf(limitt, sizeof limitt, "%" PRId64, limit + 1);
    const char *vals[6] = {eidt, from_st == P_SET ? from : NULL, to_st == P_SET ? to : NULL,
                           after.s != NULL ? adate : NULL, after.s != NULL ? aid : NULL, limitt};
    int rc = pool_query(req_server(req)->pool, &st_list, vals, NULL, list_cb, l);
    if (rc < 0) {
        free(l);
        rowpack_reply_query_rc(req, st_list.name, rc);
    }
}

const method_def status_methods[] = {
    {"status.submit", status_submit},
    {"status.list", status_list},
    {NULL, NULL},
};
