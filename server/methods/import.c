/*
 * import.c: enterprise.import and status.import (proto/PROTOCOL.md section
 * 6): the bulk upsert of enterprises by credit code, and the bulk import
 * of status reports: up to BB_MAX_IMPORT_ROWS rows per call, each answered
 * on its own (created, updated, unchanged, rejected).
 *
 * For: the edge checks of the call (rows, commit, idempotency_key: a bad
 * call is refused whole, like any method) and of each row, which are
 * enterprise.create's own checks (same rules, same codes, fields and
 * messages as params.c and enterprise.c answer them) but reported for the
 * row instead of ending the request: a bad row never stops the others.
 * The rows that pass are handed to ONE statement, bb_enterprise_import
 * (sql/013_import.sql), which decides the rest with the database's rules
 * (known township and cluster, scope, status, uniqueness), writes, audits,
 * and keeps the idempotency record of the whole call; the rows refused
 * here travel with it so that record holds the whole answer.
 * Known townships, clusters and statuses are not checked here: the
 * database has them as tables and CHECKs, and one list is enough.
 * status.import is built the same way: status.submit's edge checks (the
 * same words as params.c and status.c), each row naming its enterprise by
 * enterprise_id or credit_code, then ONE statement, bb_status_import
 * (sql/014_status_import.sql), which decides "not after today", scope,
 * created / unchanged / already_exists, audits and keeps the idempotency
 * record.
 * Not for: reading CSV (the client does: client/csv.c), or the single
 * methods (enterprise.c, status.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_creditcode.h"
#include "bb_limits.h"
#include "bb_rpc.h"
#include "bb_utf8.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

/* As enterprise.c: the credit code is first a str of at most this many
 * characters, then its own rules say what is wrong with it. */
#define IMP_CREDIT_CODE_MAX_CHARS 64u
/* A row's error message (the longest is a key echoed back, cut). */
#define IMP_MSG_MAX 256
#define IMP_FIELD_MAX 96

/* One item of the answer, as the wire shows it. */
static const rp_col item_cols[] = {
    {"row", RP_INT},    {"outcome", RP_TEXT}, {"id", RP_INT},
    {"code", RP_TEXT},  {"field", RP_TEXT},   {"message", RP_TEXT},
};
#define ITEM_NCOLS ((int)(sizeof item_cols / sizeof item_cols[0]))

/* $1 actor, $2 peer address, $3 key, $4 commit; then the rows that passed
 * (parallel arrays) and the rows refused here (see sql/013_import.sql). */
static const pool_stmt st_import = {
    "ent_import",
    "SELECT i.row_no AS \"row\", i.outcome, i.id, i.code, i.field, i.message"
    "  FROM bb_enterprise_import($1::bigint, $2::text, $3::text, $4::boolean,"
    "       $5::int[], $6::text[], $7::text[], $8::text[], $9::boolean[], $10::text[],"
    "       $11::text[], $12::text[], $13::int[], $14::text[], $15::text[], $16::text[]) i",
    16};

/* $1 actor, $2 peer address, $3 key, $4 commit, $5 time zone; then the
 * rows that passed (parallel arrays) and the rows refused here (see
 * sql/014_status_import.sql). */
static const pool_stmt st_status_import = {
    "status_import",
    "SELECT i.row_no AS \"row\", i.outcome, i.id, i.code, i.field, i.message"
    "  FROM bb_status_import($1::bigint, $2::text, $3::text, $4::boolean, $5::text,"
    "       $6::int[], $7::bigint[], $8::text[], $9::date[], $10::text[], $11::text[],"
    "       $12::bigint[], $13::int[], $14::int[], $15::text[],"
    "       $16::int[], $17::text[], $18::text[], $19::text[]) i",
    19};

static int import_register_statements(void)
{
    /* Heavy: up to 500 rows, each with a savepoint, in one transaction. */
    if (pool_register_heavy(&st_import) != 0 || pool_register_heavy(&st_status_import) != 0)
        return -1;
    return 0;
}

/* ---- a growing text buffer for PostgreSQL array literals ---- */

typedef struct tbuf {
    char *s;
    size_t len, cap;
    bool oom;
} tbuf;

static void tb_put(tbuf *b, const char *p, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void tb_ch(tbuf *b, char c) { tb_put(b, &c, 1); }

/* Starts an array literal or adds the separator before the next element. */
static void tb_next(tbuf *b)
{
    if (b->len == 0)
        tb_ch(b, '{');
    else
        tb_ch(b, ',');
}

/* One element: NULL for s == NULL, else "s" with " and \ escaped. */
static void tb_elem(tbuf *b, const char *s, size_t n)
{
    tb_next(b);
    if (s == NULL) {
        tb_put(b, "NULL", 4);
        return;
    }
    tb_ch(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            tb_ch(b, '\\');
        tb_ch(b, s[i]);
    }
    tb_ch(b, '"');
}

static void tb_elem_cstr(tbuf *b, const char *s) { tb_elem(b, s, s ? strlen(s) : 0); }

static void tb_int(tbuf *b, uint32_t v)
{
    char t[16];
    int n = snprintf(t, sizeof t, "%" PRIu32, v);
    tb_next(b);
    tb_put(b, t, (size_t)n);
}

/* Closes the literal ("{}" when empty); NULL when out of memory. */
static const char *tb_finish(tbuf *b)
{
    if (b->len == 0)
        tb_ch(b, '{');
    tb_ch(b, '}');
    return b->oom ? NULL : b->s;
}

/* ---- one row ---- */

/* Why a row was refused here. */
typedef struct row_err {
    bb_err code;
    char field[IMP_FIELD_MAX];   /* "" = none */
    char message[IMP_MSG_MAX];
} row_err;

__attribute__((format(printf, 4, 5))) static int reject(row_err *e, bb_err code,
                                                        const char *field, const char *fmt, ...)
{
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* A row that passed: borrowed strings (into the request's msgpack zone). */
typedef struct row_in {
    pstr name, code, township, cluster, status;
    bool cluster_set;      /* cluster given (nil or a str) */
    const msgpack_object *labels;  /* NULL = absent */
} row_in;

/* params.c's check of one str value, the same words, into e. */
static int check_str(const msgpack_object *v, const char *field, uint32_t max_chars,
                     bool allow_newline, row_err *e)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return reject(e, BB_E_INVALID_ARGUMENT, field, "%s: must be a string", field);
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len))
        return reject(e, BB_E_INVALID_UTF8, field, "%s: not valid UTF-8", field);
    size_t chars = bb_utf8_chars(s, len);
    if (chars == 0)
        return reject(e, BB_E_INVALID_ARGUMENT, field, "%s: must not be empty", field);
    if (chars > max_chars)
        return reject(e, BB_E_INVALID_ARGUMENT, field, "%s: at most %u characters (got %zu)",
                      field, max_chars, chars);
    if (bb_utf8_has_control(s, len, allow_newline))
        return reject(e, BB_E_INVALID_ARGUMENT, field,
                      "%s: must not contain control characters", field);
    return 0;
}

/* A str of the row: required (absent or nil refused) or optional. *state
 * says which it was; out is set when given. */
static int row_str(const msgpack_object *row, const char *key, bool required,
                   uint32_t max_chars, pstr *out, pstate *state, row_err *e)
{
    out->s = NULL;
    out->len = 0;
    const msgpack_object *v = bb_map_get(row, key);
    if (v == NULL) {
        *state = P_ABSENT;
        return required ? reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required", key) : 0;
    }
    if (v->type == MSGPACK_OBJECT_NIL) {
        *state = P_NIL;
        return required ? reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required (nil given)", key)
                        : 0;
    }
    if (check_str(v, key, max_chars, false, e) != 0)
        return -1;
    out->s = v->via.str.ptr;
    out->len = v->via.str.size;
    *state = P_SET;
    return 0;
}

/* The keys of a row: str, UTF-8, one of known[0..nknown) (at most 32),
 * each once (params_check_known's rules and words). */
static int row_keys(const msgpack_object *row, uint32_t idx, const char *const *known,
                    size_t nknown, row_err *e)
{
    if (row->type != MSGPACK_OBJECT_MAP)
        return reject(e, BB_E_INVALID_ARGUMENT, NULL, "rows[%" PRIu32 "]: must be a map", idx);
    unsigned seen = 0;
    for (uint32_t i = 0; i < row->via.map.size; i++) {
        const msgpack_object *k = &row->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return reject(e, BB_E_INVALID_ARGUMENT, NULL, "argument names must be strings");
        const char *ks = k->via.str.ptr;
        uint32_t kl = k->via.str.size;
        if (!bb_utf8_valid(ks, kl))
            return reject(e, BB_E_INVALID_UTF8, NULL, "argument %" PRIu32
                          ": name is not valid UTF-8", i + 1);
        size_t j = 0;
        while (j < nknown && !(strlen(known[j]) == kl && memcmp(known[j], ks, kl) == 0))
            j++;
        if (j == nknown) {
            /* Echo the key (cut at a character boundary) as params.c does. */
            char f[IMP_FIELD_MAX];
            size_t n = kl < sizeof f - 1 ? kl : sizeof f - 1;
            while (n > 0 && n < kl && ((unsigned char)ks[n] & 0xC0) == 0x80)
                n--;
            memcpy(f, ks, n);
            f[n] = '\0';
            if (bb_utf8_has_control(ks, kl, false))
                return reject(e, BB_E_INVALID_ARGUMENT, f, "unknown argument");
            return reject(e, BB_E_INVALID_ARGUMENT, f, "%s: unknown argument", f);
        }
        if (seen & (1u << j))
            return reject(e, BB_E_INVALID_ARGUMENT, known[j], "%s: given twice", known[j]);
        seen |= 1u << j;
    }
    return 0;
}

/* labels: absent, or an array of at most BB_MAX_LABELS distinct strs
 * (params_str_array's rules and words). */
static int row_labels(const msgpack_object *row, const msgpack_object **out, row_err *e)
{
    *out = NULL;
    const msgpack_object *v = bb_map_get(row, "labels");
    if (v == NULL)
        return 0;
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return reject(e, BB_E_INVALID_ARGUMENT, "labels", "labels: must be an array of strings");
    uint32_t n = v->via.array.size;
    if (n > BB_MAX_LABELS)
        return reject(e, BB_E_INVALID_ARGUMENT, "labels", "labels: at most %u items (got %" PRIu32
                      ")", BB_MAX_LABELS, n);
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *el = &v->via.array.ptr[i];
        char field[32];
        snprintf(field, sizeof field, "labels[%" PRIu32 "]", i);
        if (check_str(el, field, BB_MAX_LABEL_CHARS, false, e) != 0)
            return -1;
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *p = &v->via.array.ptr[j];
            if (p->via.str.size == el->via.str.size &&
                memcmp(p->via.str.ptr, el->via.str.ptr, el->via.str.size) == 0)
                return reject(e, BB_E_INVALID_ARGUMENT, field, "%s: duplicate of labels[%" PRIu32
                              "]", field, j);
        }
    }
    *out = v;
    return 0;
}

/* enterprise.create's checks, in its order: name, credit_code (then its
 * rules), township, cluster, status (nil refused), labels. */
static int check_row(const msgpack_object *row, uint32_t idx, row_in *in, row_err *e)
{
    pstate st;
    memset(in, 0, sizeof *in);
    static const char *const known[] = {"name", "credit_code", "township", "cluster",
                                        "labels", "status"};
    if (row_keys(row, idx, known, sizeof known / sizeof known[0], e) != 0 ||
        row_str(row, "name", true, BB_MAX_NAME_CHARS, &in->name, &st, e) != 0 ||
        row_str(row, "credit_code", true, IMP_CREDIT_CODE_MAX_CHARS, &in->code, &st, e) != 0)
        return -1;
    bb_cc_result r = bb_creditcode_check(in->code.s, in->code.len);
    if (r != BB_CC_OK)
        return reject(e, BB_E_INVALID_ARGUMENT, "credit_code", "credit_code: %s",
                      bb_creditcode_reason(r));
    if (row_str(row, "township", true, BB_MAX_SHORT_TEXT_CHARS, &in->township, &st, e) != 0 ||
        row_str(row, "cluster", false, BB_MAX_SHORT_TEXT_CHARS, &in->cluster, &st, e) != 0)
        return -1;
    in->cluster_set = st != P_ABSENT;
    if (row_str(row, "status", false, BB_MAX_SHORT_TEXT_CHARS, &in->status, &st, e) != 0)
        return -1;
    if (st == P_NIL)
        return reject(e, BB_E_INVALID_ARGUMENT, "status",
                      "status: must not be nil (leave it out instead)");
    return row_labels(row, &in->labels, e);
}

/* ---- the call ---- */

/* The literals of the statement's array parameters. */
enum { A_ORD, A_NAME, A_CODE, A_TOWN, A_CSET, A_CLUSTER, A_LABELS, A_STATUS,
       A_RORD, A_RCODE, A_RFIELD, A_RMSG, A_COUNT };

/* Answers an import call with its items (either method's). */
static void reply_items(request *req, const char *stmt, const PGresult *res,
                        const pool_error *e)
{
    if (e != NULL) {
        rowpack_reply_pool_error(req, stmt, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, item_cols, ITEM_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, stmt, why);
        return;
    }
    int n = PQntuples(res);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 1);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, item_cols, ITEM_NCOLS);
    req_result_end(req);
}

static void import_cb(void *arg, const PGresult *res, const pool_error *e)
{
    reply_items(arg, st_import.name, res, e);
}

/* The literal of one row's labels: joined by a line feed (labels hold no
 * control character), "" for [], NULL when absent. */
static void labels_elem(tbuf *b, const msgpack_object *labels, tbuf *tmp)
{
    if (labels == NULL) {
        tb_elem(b, NULL, 0);
        return;
    }
    tmp->len = 0;
    tb_put(tmp, "", 0);
    for (uint32_t i = 0; i < labels->via.array.size; i++) {
        if (i > 0)
            tb_ch(tmp, '\n');
        tb_put(tmp, labels->via.array.ptr[i].via.str.ptr, labels->via.array.ptr[i].via.str.size);
    }
    tb_elem(b, tmp->oom ? NULL : tmp->s, tmp->len);
    if (tmp->oom)
        b->oom = true;
}

/* The arguments of an import call (rows, commit, idempotency_key): a
 * problem with them refuses the whole call. Returns 0 with *rows, *commit
 * and *key set, or -1 when answered. */
static int call_args(request *req, const msgpack_object *args, const msgpack_object **rows_out,
                     bool *commit_out, pstr *key)
{
    static const char *const known[] = {"rows", "commit", "idempotency_key", NULL};
    if (params_check_known(req, args, known) != 0)
        return -1;
    const msgpack_object *rows = bb_map_get(args, "rows");
    if (rows == NULL || rows->type == MSGPACK_OBJECT_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: required");
        return -1;
    }
    if (rows->type != MSGPACK_OBJECT_ARRAY) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: must be an array of maps");
        return -1;
    }
    uint32_t n = rows->via.array.size;
    if (n < 1 || n > BB_MAX_IMPORT_ROWS) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: 1 to %u rows (got %" PRIu32 ")",
                        BB_MAX_IMPORT_ROWS, n);
        return -1;
    }
    bool commit = false;
    const msgpack_object *c = bb_map_get(args, "commit");
    if (c != NULL) {
        if (c->type != MSGPACK_OBJECT_BOOLEAN) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, "commit",
                            c->type == MSGPACK_OBJECT_NIL
                                ? "commit: must not be nil (leave it out for a dry run)"
                                : "commit: must be a boolean");
            return -1;
        }
        commit = c->via.boolean;
    }
    pstate st;
    if (params_str(req, args, "idempotency_key", false, BB_MAX_IDEMPOTENCY_KEY_BYTES, false, key,
                   &st) != 0)
        return -1;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: must not be nil (leave it out instead)");
        return -1;
    }
    if (key->s != NULL && key->len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return -1;
    }
    *rows_out = rows;
    *commit_out = commit;
    return 0;
}

static void enterprise_import(request *req, const msgpack_object *args)
{
    const msgpack_object *rows;
    bool commit;
    pstr key;
    if (call_args(req, args, &rows, &commit, &key) != 0)
        return;
    uint32_t n = rows->via.array.size;

    tbuf a[A_COUNT], tmp;
    memset(a, 0, sizeof a);
    memset(&tmp, 0, sizeof tmp);
    row_err *err = malloc(sizeof *err);   /* one at a time: a row's answer is copied out */
    bool oom = err == NULL;
    for (uint32_t i = 0; i < n && !oom; i++) {
        row_in in;
        if (check_row(&rows->via.array.ptr[i], i, &in, err) != 0) {
            tb_int(&a[A_RORD], i);
            tb_elem_cstr(&a[A_RCODE], bb_err_code(err->code));
            tb_elem_cstr(&a[A_RFIELD], err->field[0] != '\0' ? err->field : NULL);
            tb_elem_cstr(&a[A_RMSG], err->message);
            continue;
        }
        tb_int(&a[A_ORD], i);
        tb_elem(&a[A_NAME], in.name.s, in.name.len);
        tb_elem(&a[A_CODE], in.code.s, in.code.len);
        tb_elem(&a[A_TOWN], in.township.s, in.township.len);
        tb_next(&a[A_CSET]);
        tb_put(&a[A_CSET], in.cluster_set ? "t" : "f", 1);
        tb_elem(&a[A_CLUSTER], in.cluster.s, in.cluster.len);
        labels_elem(&a[A_LABELS], in.labels, &tmp);
        tb_elem(&a[A_STATUS], in.status.s, in.status.len);
    }
    const char *vals[16] = {session_actor(req_session(req)), req_peer(req), key.s,
                            commit ? "true" : "false"};
    int lens[16] = {-1, -1, (int)key.len, -1};
    for (int i = 0; i < A_COUNT; i++) {
        vals[4 + i] = tb_finish(&a[i]);
        lens[4 + i] = -1;
        oom = oom || vals[4 + i] == NULL;
    }
    if (oom) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
    } else {
        int rc = pool_query(req_server(req)->pool, &st_import, vals, lens, import_cb, req);
        if (rc < 0)
            rowpack_reply_query_rc(req, st_import.name, rc);
    }
    for (int i = 0; i < A_COUNT; i++)
        free(a[i].s);
    free(tmp.s);
    free(err);
}

/* ---- status.import ---- */

/* status.submit's limits (server/status.c), the same numbers. */
#define IMP_STATUS_MIN_DATE "2000-01-01"
#define IMP_STATUS_MAX_OUTPUT_VALUE INT64_C(1000000000000000) /* 10^15 yuan */
#define IMP_STATUS_MAX_PEOPLE INT64_C(1000000)
#define IMP_NUM_TEXT 24


/* A status row that passed: borrowed strings; numbers as text ("" = nil). */
typedef struct srow_in {
    pstr code, reporter, pstatus, note;   /* code.s NULL: named by id */
    char eid[IMP_NUM_TEXT];               /* "" when named by credit code */
    char date[11];
    char ov[IMP_NUM_TEXT], em[IMP_NUM_TEXT], ls[IMP_NUM_TEXT];
} srow_in;

/* params_int's rules and words for one key of the row. *state says what
 * was there; buf gets the number's text when given. */
static int row_int(const msgpack_object *row, const char *key, bool required, int64_t min,
                   int64_t max, char *buf, size_t cap, pstate *state, row_err *e)
{
    buf[0] = '\0';
    const msgpack_object *v = bb_map_get(row, key);
    if (v == NULL) {
        *state = P_ABSENT;
        return required ? reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required", key) : 0;
    }
    if (v->type == MSGPACK_OBJECT_NIL) {
        *state = P_NIL;
        return required ? reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required (nil given)", key)
                        : 0;
    }
    int64_t x;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 > (uint64_t)INT64_MAX)
            return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: out of range %lld..%lld", key,
                          (long long)min, (long long)max);
        x = (int64_t)v->via.u64;
    } else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        x = v->via.i64;
    } else {
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: must be an integer", key);
    }
    if (x < min || x > max)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: out of range %lld..%lld", key,
                      (long long)min, (long long)max);
    snprintf(buf, cap, "%" PRId64, x);
    *state = P_SET;
    return 0;
}

/* params_date's rules and words; out[11]. */
static int row_date(const msgpack_object *row, const char *key, char out[11], row_err *e)
{
    out[0] = '\0';
    const msgpack_object *v = bb_map_get(row, key);
    if (v == NULL)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required", key);
    if (v->type == MSGPACK_OBJECT_NIL)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: required (nil given)", key);
    if (v->type != MSGPACK_OBJECT_STR)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: must be a date string YYYY-MM-DD",
                      key);
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len))
        return reject(e, BB_E_INVALID_UTF8, key, "%s: not valid UTF-8", key);
    bool shape = len == 10 && s[4] == '-' && s[7] == '-';
    for (uint32_t i = 0; shape && i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            shape = false;
    if (!shape)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: must be a date YYYY-MM-DD", key);
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                            (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    unsigned dim = m >= 1 && m <= 12 ? mdays[m - 1] + (m == 2 && leap ? 1u : 0u) : 0u;
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > dim)
        return reject(e, BB_E_INVALID_ARGUMENT, key, "%s: %.10s is not a calendar date", key, s);
    memcpy(out, s, 10);
    out[10] = '\0';
    return 0;
}

static bool is_production_status(const pstr *v)
{
    static const char *const list[] = {"正常", "半停产", "停产", "在建", NULL};
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

/* status.submit's checks, in its order (enterprise_id, report_date,
 * reporter, production_status, output_value, employees, labour_shortage,
 * note), the enterprise named by enterprise_id or by credit_code (exactly
 * one; the credit code then its own rules). */
static int check_status_row(const msgpack_object *row, uint32_t idx, srow_in *in, row_err *e)
{
    static const char *const known[] = {"enterprise_id", "credit_code", "report_date",
                                        "reporter", "production_status", "output_value",
                                        "employees", "labour_shortage", "note"};
    pstate st;
    memset(in, 0, sizeof *in);
    if (row_keys(row, idx, known, sizeof known / sizeof known[0], e) != 0)
        return -1;
    const msgpack_object *ev = bb_map_get(row, "enterprise_id");
    const msgpack_object *cv = bb_map_get(row, "credit_code");
    bool by_id = ev != NULL && ev->type != MSGPACK_OBJECT_NIL;
    bool by_code = cv != NULL && cv->type != MSGPACK_OBJECT_NIL;
    if (by_id && by_code)
        return reject(e, BB_E_INVALID_ARGUMENT, "credit_code",
                      "credit_code: give enterprise_id or credit_code, not both");
    if (!by_id && !by_code)
        return reject(e, BB_E_INVALID_ARGUMENT, "enterprise_id",
                      "enterprise_id: required (or credit_code)");
    if (by_id) {
        if (row_int(row, "enterprise_id", true, 1, INT64_MAX, in->eid, sizeof in->eid, &st, e) !=
            0)
            return -1;
    } else {
        if (row_str(row, "credit_code", true, IMP_CREDIT_CODE_MAX_CHARS, &in->code, &st, e) != 0)
            return -1;
        bb_cc_result r = bb_creditcode_check(in->code.s, in->code.len);
        if (r != BB_CC_OK)
            return reject(e, BB_E_INVALID_ARGUMENT, "credit_code", "credit_code: %s",
                          bb_creditcode_reason(r));
    }
    if (row_date(row, "report_date", in->date, e) != 0)
        return -1;
    if (strcmp(in->date, IMP_STATUS_MIN_DATE) < 0)
        return reject(e, BB_E_INVALID_ARGUMENT, "report_date",
                      "report_date: %s is before " IMP_STATUS_MIN_DATE, in->date);
    if (row_str(row, "reporter", true, BB_MAX_REPORTER_CHARS, &in->reporter, &st, e) != 0 ||
        row_str(row, "production_status", true, BB_MAX_SHORT_TEXT_CHARS, &in->pstatus, &st, e) !=
            0)
        return -1;
    if (!is_production_status(&in->pstatus))
        return reject(e, BB_E_INVALID_ARGUMENT, "production_status",
                      "production_status: must be one of 正常, 半停产, 停产, 在建");
    if (row_int(row, "output_value", false, 0, IMP_STATUS_MAX_OUTPUT_VALUE, in->ov,
                sizeof in->ov, &st, e) != 0 ||
        row_int(row, "employees", false, 0, IMP_STATUS_MAX_PEOPLE, in->em, sizeof in->em, &st,
                e) != 0 ||
        row_int(row, "labour_shortage", false, 0, IMP_STATUS_MAX_PEOPLE, in->ls, sizeof in->ls,
                &st, e) != 0)
        return -1;
    /* note: nil-able, 1..BB_MAX_NOTE_CHARS, line breaks and tabs allowed */
    const msgpack_object *nv = bb_map_get(row, "note");
    if (nv != NULL && nv->type != MSGPACK_OBJECT_NIL) {
        if (check_str(nv, "note", BB_MAX_NOTE_CHARS, true, e) != 0)
            return -1;
        in->note.s = nv->via.str.ptr;
        in->note.len = nv->via.str.size;
    }
    return 0;
}

enum { S_ORD, S_EID, S_CODE, S_DATE, S_REPORTER, S_PSTATUS, S_OV, S_EM, S_LS, S_NOTE,
       S_RORD, S_RCODE, S_RFIELD, S_RMSG, S_COUNT };
#define S_FIRST_ARRAY 5   /* parameters before the arrays */
_Static_assert(S_FIRST_ARRAY + S_COUNT == 19, "bb_status_import's parameters");

static void status_import_cb(void *arg, const PGresult *res, const pool_error *e)
{
    reply_items(arg, st_status_import.name, res, e);
}

/* A number's text as an array element: NULL when "" (nil / absent). */
static void tb_num(tbuf *b, const char *t) { tb_elem_cstr(b, t[0] != '\0' ? t : NULL); }

static void status_import(request *req, const msgpack_object *args)
{
    const msgpack_object *rows;
    bool commit;
    pstr key;
    if (call_args(req, args, &rows, &commit, &key) != 0)
        return;
    uint32_t n = rows->via.array.size;
    tbuf a[S_COUNT];
    memset(a, 0, sizeof a);
    row_err *err = malloc(sizeof *err);
    srow_in *in = malloc(sizeof *in);
    bool oom = err == NULL || in == NULL;
    for (uint32_t i = 0; i < n && !oom; i++) {
        if (check_status_row(&rows->via.array.ptr[i], i, in, err) != 0) {
            tb_int(&a[S_RORD], i);
            tb_elem_cstr(&a[S_RCODE], bb_err_code(err->code));
            tb_elem_cstr(&a[S_RFIELD], err->field[0] != '\0' ? err->field : NULL);
            tb_elem_cstr(&a[S_RMSG], err->message);
            continue;
        }
        tb_int(&a[S_ORD], i);
        tb_num(&a[S_EID], in->eid);
        tb_elem(&a[S_CODE], in->code.s, in->code.len);
        tb_elem_cstr(&a[S_DATE], in->date);
        tb_elem(&a[S_REPORTER], in->reporter.s, in->reporter.len);
        tb_elem(&a[S_PSTATUS], in->pstatus.s, in->pstatus.len);
        tb_num(&a[S_OV], in->ov);
        tb_num(&a[S_EM], in->em);
        tb_num(&a[S_LS], in->ls);
        tb_elem(&a[S_NOTE], in->note.s, in->note.len);
    }
    const char *vals[S_FIRST_ARRAY + S_COUNT] = {session_actor(req_session(req)), req_peer(req),
                                                 key.s, commit ? "true" : "false",
                                                 req_server(req)->cfg.time_zone};
    int lens[S_FIRST_ARRAY + S_COUNT] = {-1, -1, (int)key.len, -1, -1};
    for (int i = 0; i < S_COUNT; i++) {
        vals[S_FIRST_ARRAY + i] = tb_finish(&a[i]);
        lens[S_FIRST_ARRAY + i] = -1;
        oom = oom || vals[S_FIRST_ARRAY + i] == NULL;
    }
    if (oom) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
    } else {
        int rc = pool_query(req_server(req)->pool, &st_status_import, vals, lens,
                            status_import_cb, req);
        if (rc < 0)
            rowpack_reply_query_rc(req, st_status_import.name, rc);
    }
    for (int i = 0; i < S_COUNT; i++)
        free(a[i].s);
    free(in);
    free(err);
}

const method_impl import_methods[] = {
    {"enterprise.import", .raw = enterprise_import, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"status.import", .raw = status_import, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {NULL},
};

const method_module import_module = {
    .name = "import",
    .methods = import_methods,
    .register_statements = import_register_statements,
};
