/*
 * import.c: enterprise.import (proto/PROTOCOL.md section 6), the bulk
 * upsert of enterprises by credit code: up to BB_MAX_IMPORT_ROWS rows per
 * call, each answered on its own (created, updated, unchanged, rejected).
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
 * Not for: reading CSV (the client does: client/csv.c), or the single
 * enterprise methods (enterprise.c).
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

int import_register_statements(void)
{
    /* Heavy: up to 500 rows, each with a savepoint, in one transaction. */
    return pool_register_heavy(&st_import);
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
                     row_err *e)
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
    if (bb_utf8_has_control(s, len, false))
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
    if (check_str(v, key, max_chars, e) != 0)
        return -1;
    out->s = v->via.str.ptr;
    out->len = v->via.str.size;
    *state = P_SET;
    return 0;
}

/* The keys of a row: str, UTF-8, known, each once (params_check_known). */
static int row_keys(const msgpack_object *row, uint32_t idx, row_err *e)
{
    static const char *const known[] = {"name", "credit_code", "township", "cluster",
                                        "labels", "status"};
    enum { NKNOWN = sizeof known / sizeof known[0] };
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
        while (j < NKNOWN && !(strlen(known[j]) == kl && memcmp(known[j], ks, kl) == 0))
            j++;
        if (j == NKNOWN) {
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
        if (check_str(el, field, BB_MAX_LABEL_CHARS, e) != 0)
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
    if (row_keys(row, idx, e) != 0 ||
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

static void import_cb(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_import.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, item_cols, ITEM_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_import.name, why);
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

static void enterprise_import(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"rows", "commit", "idempotency_key", NULL};
    if (params_check_known(req, args, known) != 0)
        return;
    const msgpack_object *rows = bb_map_get(args, "rows");
    if (rows == NULL || rows->type == MSGPACK_OBJECT_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: required");
        return;
    }
    if (rows->type != MSGPACK_OBJECT_ARRAY) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: must be an array of maps");
        return;
    }
    uint32_t n = rows->via.array.size;
    if (n < 1 || n > BB_MAX_IMPORT_ROWS) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: 1 to %u rows (got %" PRIu32 ")",
                        BB_MAX_IMPORT_ROWS, n);
        return;
    }
    bool commit = false;
    const msgpack_object *c = bb_map_get(args, "commit");
    if (c != NULL) {
        if (c->type != MSGPACK_OBJECT_BOOLEAN) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, "commit",
                            c->type == MSGPACK_OBJECT_NIL
                                ? "commit: must not be nil (leave it out for a dry run)"
                                : "commit: must be a boolean");
            return;
        }
        commit = c->via.boolean;
    }
    pstr key;
    pstate st;
    if (params_str(req, args, "idempotency_key", false, BB_MAX_IDEMPOTENCY_KEY_BYTES, false, &key,
                   &st) != 0)
        return;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: must not be nil (leave it out instead)");
        return;
    }
    if (key.s != NULL && key.len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return;
    }

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

const method_def import_methods[] = {
    {"enterprise.import", enterprise_import, BB_ROLES_BUSINESS_WRITE},
    {NULL, NULL, 0},
};
