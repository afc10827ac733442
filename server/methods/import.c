/*
 * import.c: enterprise.import and status.import (proto/PROTOCOL.md section
 * 6): the bulk upsert of enterprises by credit code, and the bulk import
 * of status reports: up to BB_MAX_IMPORT_ROWS rows per call, each answered
 * on its own (created, updated, unchanged, rejected).
 *
 * The call's arguments (rows, commit, idempotency_key) are declared in
 * proto/spec/import.c and checked by the dispatcher: a bad call is refused
 * whole. Each row is checked here against the arguments of the single
 * method, taken from the spec (enterprise.create's; status.submit's with
 * the enterprise named by enterprise_id or credit_code), with the same
 * codes, fields and messages as the dispatcher (server/engine/args.c) and
 * that method's own rules give, but reported for the row instead of
 * ending the request: a bad row never stops the others. The rows that pass
 * are handed to ONE statement, bb_enterprise_import (sql/013_import.sql)
 * or bb_status_import (sql/014_status_import.sql), which decides the rest
 * with the database's rules (known township, cluster and statuses, scope,
 * uniqueness, "not after today"), writes, audits, and keeps the
 * idempotency record of the whole call; the rows refused here travel with
 * it so that record holds the whole answer.
 * Not for: reading CSV (the client does: client/csv.c), or the single
 * methods (enterprise.c, status.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_creditcode.h"
#include "bb_utf8.h"
#include "log.h"
#include "methods.h"
#include "rowpack.h"
#include "server.h"

/* The earliest report_date (status.c's rule). */
#define IMP_STATUS_MIN_DATE "2000-01-01"
/* A row's error: field and message (the longest is a key echoed back,
 * cut at a character boundary as the dispatcher does). */
#define IMP_FIELD_MAX 128
#define IMP_MSG_MAX 512
/* Keys of a row, at most. */
#define ROW_MAX_KEYS 12

/* One item of the answer, as the wire shows it. */
static const rp_col item_cols[] = {
    {"row", RP_INT},    {"outcome", RP_TEXT}, {"id", RP_INT},
    {"code", RP_TEXT},  {"field", RP_TEXT},   {"message", RP_TEXT},
};
#define ITEM_NCOLS ((int)(sizeof item_cols / sizeof item_cols[0]))

/* ---- statements ----
 * The rows that passed come as parallel arrays (one per column, _ord their
 * row numbers), the rows refused here as _rej_*; the handler passes them
 * as extras in this order, then (status.import) the time zone. Heavy: up to
 * 500 rows, each with a savepoint, in one transaction. */
#define ITEM_SELECT "SELECT i.row_no AS \"row\", i.outcome, i.id, i.code, i.field, i.message"
#define CALL_PREFIX \
    "p_actor => :_actor, p_addr => :_addr, p_key => :idempotency_key," \
    " p_commit => coalesce(:commit::boolean, false)"
#define REJ_ARGS \
    "p_rej_ord => :_rej_ord::int[], p_rej_code => :_rej_code::text[]," \
    " p_rej_field => :_rej_field::text[], p_rej_msg => :_rej_msg::text[]"
#define REJ_EXTRAS "_rej_ord", "_rej_code", "_rej_field", "_rej_msg"

static const char *const ent_extras[] = {
    "_ord", "_names", "_codes", "_townships", "_cluster_set", "_clusters", "_labels",
    "_statuses", REJ_EXTRAS, NULL,
};
static mstmt st_ent_import = {
    .name = "ent_import", .sql =
    ITEM_SELECT " FROM bb_enterprise_import(" CALL_PREFIX ", p_ord => :_ord::int[],"
    " p_names => :_names::text[], p_codes => :_codes::text[],"
    " p_townships => :_townships::text[], p_cluster_set => :_cluster_set::boolean[],"
    " p_clusters => :_clusters::text[], p_labels => :_labels::text[],"
    " p_statuses => :_statuses::text[], " REJ_ARGS ") i",
    .cols = item_cols, .ncols = ITEM_NCOLS, .extras = ent_extras, .heavy = true};

static const char *const st_extras[] = {
    "_ord", "_eids", "_codes", "_dates", "_reporters", "_statuses", "_outputs", "_employees",
    "_shortages", "_notes", REJ_EXTRAS, "_tz", NULL,
};
static mstmt st_status_import = {
    .name = "status_import", .sql =
    ITEM_SELECT " FROM bb_status_import(" CALL_PREFIX ", p_tz => :_tz, p_ord => :_ord::int[],"
    " p_eids => :_eids::bigint[], p_codes => :_codes::text[], p_dates => :_dates::date[],"
    " p_reporters => :_reporters::text[], p_statuses => :_statuses::text[],"
    " p_outputs => :_outputs::bigint[], p_employees => :_employees::int[],"
    " p_shortages => :_shortages::int[], p_notes => :_notes::text[], " REJ_ARGS ") i",
    .cols = item_cols, .ncols = ITEM_NCOLS, .extras = st_extras, .heavy = true};

/* ---- what a row is checked against ---- */

/* A column of the statement, from a row's argument: its value (NULL when
 * absent or nil), whether it was given at all (nil too: "nil = clear"),
 * or an array of str joined by a line feed (labels hold no control
 * character; "" for [], NULL when absent). */
enum { C_VAL, C_GIVEN, C_LINES };
typedef struct icol {
    const char *arg;
    int kind;
} icol;

typedef struct import_kind {
    const char *method;          /* the single method whose arguments rows have */
    mstmt *st;
    const icol *cols;            /* in extras order after _ord */
    unsigned ncols;
    bool either;                 /* arg[0] or arg[1], exactly one (nil = absent) */
    const bb_arg *arg[ROW_MAX_KEYS];  /* filled by import_start */
    unsigned nargs;
} import_kind;

static const icol ent_cols[] = {
    {"name", C_VAL}, {"credit_code", C_VAL}, {"township", C_VAL}, {"cluster", C_GIVEN},
    {"cluster", C_VAL}, {"labels", C_LINES}, {"status", C_VAL},
};
static const icol st_cols[] = {
    {"enterprise_id", C_VAL}, {"credit_code", C_VAL}, {"report_date", C_VAL},
    {"reporter", C_VAL}, {"production_status", C_VAL}, {"output_value", C_VAL},
    {"employees", C_VAL}, {"labour_shortage", C_VAL}, {"note", C_VAL},
};
#define NCOLS(c) ((unsigned)(sizeof c / sizeof c[0]))

static import_kind ent_kind = {.method = "enterprise.create", .st = &st_ent_import,
                               .cols = ent_cols, .ncols = NCOLS(ent_cols)};
static import_kind st_kind = {.method = "status.submit", .st = &st_status_import,
                              .cols = st_cols, .ncols = NCOLS(st_cols), .either = true};
/* status rows: the enterprise by id or by credit code, nil counting as
 * absent (copies of the spec's arguments, with those flags). */
static bb_arg st_eid, st_code;

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

/* One element: NULL for s == NULL, else "s" with " and \ escaped (the
 * literal's opening brace comes with the first element). */
static void tb_elem(tbuf *b, const char *s, size_t n)
{
    tb_ch(b, b->len == 0 ? '{' : ',');
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

static void tb_cstr(tbuf *b, const char *s) { tb_elem(b, s, s ? strlen(s) : 0); }

/* Closes the literal ("{}" when empty); NULL when out of memory. */
static const char *tb_finish(tbuf *b)
{
    if (b->len == 0)
        tb_ch(b, '{');
    tb_ch(b, '}');
    return b->oom ? NULL : b->s;
}

/* ---- checking one row ----
 * The dispatcher's rules and words (args.c), reported into row_err. */

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
#define BAD(e, field, ...) reject(e, BB_E_INVALID_ARGUMENT, field, __VA_ARGS__)

/* A row's value of one argument: obj as sent (NULL: absent); set when it
 * passed and is not nil, then s[0..len) its text. */
typedef struct rval {
    const msgpack_object *obj;
    bool set;
    const char *s;
    uint32_t len;
    char text[24];
} rval;

static int ck_str(const msgpack_object *v, const char *field, bool text, bool bytes, int64_t min,
                  int64_t max, row_err *e)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return BAD(e, field, "%s: must be a string", field);
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len))
        return reject(e, BB_E_INVALID_UTF8, field, "%s: not valid UTF-8", field);
    size_t n = bytes ? len : bb_utf8_chars(s, len);
    if (n == 0 && min > 0)
        return BAD(e, field, "%s: must not be empty", field);
    if ((int64_t)n < min || (int64_t)n > max)
        return BAD(e, field, "%s: %lld to %lld %s (got %zu)", field, (long long)min,
                   (long long)max, bytes ? "bytes" : "characters", n);
    if (bb_utf8_has_control(s, len, text))
        return BAD(e, field, "%s: must not contain control characters", field);
    return 0;
}

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int ck_date(const msgpack_object *v, const char *key, rval *out, row_err *e)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return BAD(e, key, "%s: must be a date string YYYY-MM-DD", key);
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len))
        return reject(e, BB_E_INVALID_UTF8, key, "%s: not valid UTF-8", key);
    bool shape = len == 10 && s[4] == '-' && s[7] == '-';
    for (uint32_t i = 0; shape && i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            shape = false;
    if (!shape)
        return BAD(e, key, "%s: must be a date YYYY-MM-DD", key);
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                            (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned dim = m >= 1 && m <= 12 ? mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u) : 0u;
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > dim)
        return BAD(e, key, "%s: %.10s is not a calendar date", key, s);
    memcpy(out->text, s, 10);
    out->text[10] = '\0';
    out->s = out->text;
    out->len = 10;
    return 0;
}

/* One value, present and not nil, against its argument. */
static int ck_value(const bb_arg *arg, rval *v, row_err *e)
{
    const msgpack_object *o = v->obj;
    const char *key = arg->name;
    switch (arg->type) {
    case BB_T_INT: {
        if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
            o->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            return BAD(e, key, "%s: must be an integer", key);
        bool beyond = o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      o->via.u64 > (uint64_t)INT64_MAX;
        int64_t x = beyond ? 0 : o->type == MSGPACK_OBJECT_POSITIVE_INTEGER
                                     ? (int64_t)o->via.u64 : o->via.i64;
        if (beyond || x < arg->min || x > arg->max)
            return BAD(e, key, "%s: out of range %lld..%lld", key, (long long)arg->min,
                       (long long)arg->max);
        snprintf(v->text, sizeof v->text, "%" PRId64, x);
        v->s = v->text;
        v->len = (uint32_t)strlen(v->text);
        return 0;
    }
    case BB_T_STR:
    case BB_T_TEXT:
        if (ck_str(o, key, arg->type == BB_T_TEXT, (arg->flags & BB_A_BYTES) != 0,
                   arg->max == 0 ? 1 : arg->min,
                   arg->max == 0 ? BB_SPEC_DEFAULT_CHARS : arg->max, e) != 0)
            return -1;
        v->s = o->via.str.ptr;
        v->len = o->via.str.size;
        return 0;
    case BB_T_DATE:
        return ck_date(o, key, v, e);
    case BB_T_STRS: {
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return BAD(e, key, "%s: must be an array of strings", key);
        uint32_t n = o->via.array.size;
        if ((int64_t)n > arg->max)
            return BAD(e, key, "%s: at most %lld items (got %" PRIu32 ")", key,
                       (long long)arg->max, n);
        char field[IMP_FIELD_MAX];
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object *el = &o->via.array.ptr[i];
            snprintf(field, sizeof field, "%s[%" PRIu32 "]", key, i);
            if (ck_str(el, field, false, false, 1, arg->item_max, e) != 0)
                return -1;
            for (uint32_t j = 0; j < i; j++) {
                const msgpack_object *p = &o->via.array.ptr[j];
                if (p->via.str.size == el->via.str.size &&
                    memcmp(p->via.str.ptr, el->via.str.ptr, el->via.str.size) == 0)
                    return BAD(e, field, "%s: duplicate of %s[%" PRIu32 "]", field, key, j);
            }
        }
        return 0;
    }
    default:
        return reject(e, BB_E_INTERNAL, key, "%s: cannot be checked", key);
    }
}

/* Matches the keys of row to k's arguments (unknown and repeated keys
 * refused, as the dispatcher words it). */
static int row_keys(const import_kind *k, const msgpack_object *row, uint32_t idx, rval *v,
                    row_err *e)
{
    if (row->type != MSGPACK_OBJECT_MAP)
        return BAD(e, NULL, "rows[%" PRIu32 "]: must be a map", idx);
    for (uint32_t i = 0; i < row->via.map.size; i++) {
        const msgpack_object *key = &row->via.map.ptr[i].key;
        if (key->type != MSGPACK_OBJECT_STR)
            return BAD(e, NULL, "argument names must be strings");
        const char *ks = key->via.str.ptr;
        uint32_t kl = key->via.str.size;
        if (!bb_utf8_valid(ks, kl))
            return reject(e, BB_E_INVALID_UTF8, NULL, "argument %" PRIu32
                          ": name is not valid UTF-8", i + 1);
        unsigned j = 0;
        while (j < k->nargs &&
               !(strlen(k->arg[j]->name) == kl && memcmp(k->arg[j]->name, ks, kl) == 0))
            j++;
        if (j == k->nargs) {
            char f[IMP_FIELD_MAX];
            size_t n = kl < sizeof f - 1 ? kl : sizeof f - 1;
            while (n > 0 && n < kl && ((unsigned char)ks[n] & 0xC0) == 0x80)
                n--;
            memcpy(f, ks, n);
            f[n] = '\0';
            if (bb_utf8_has_control(ks, kl, false))
                return BAD(e, f, "unknown argument");
            return BAD(e, f, "%s: unknown argument", f);
        }
        if (v[j].obj != NULL)
            return BAD(e, k->arg[j]->name, "%s: given twice", k->arg[j]->name);
        v[j].obj = &row->via.map.ptr[i].val;
    }
    return 0;
}

static bool given(const rval *v) { return v->obj != NULL && v->obj->type != MSGPACK_OBJECT_NIL; }

/* The index of k's argument named name, or -1. */
static int arg_index(const import_kind *k, const char *name)
{
    for (unsigned j = 0; j < k->nargs; j++)
        if (strcmp(k->arg[j]->name, name) == 0)
            return (int)j;
    return -1;
}

/* The value of the argument named name, or NULL when rows have no such
 * key (import_start checked that every column's argument exists). */
static const rval *rv(const import_kind *k, const rval *v, const char *name)
{
    int j = arg_index(k, name);
    return j >= 0 ? &v[j] : NULL;
}

/* A row as its single method checks its arguments: keys, each argument in
 * declared order, then the method's own rules (the credit code's rules,
 * the earliest report_date). */
static int check_row(const import_kind *k, const msgpack_object *row, uint32_t idx, rval *v,
                     row_err *e)
{
    memset(v, 0, sizeof(rval) * k->nargs);
    if (row_keys(k, row, idx, v, e) != 0)
        return -1;
    if (k->either) {
        const char *a0 = k->arg[0]->name, *a1 = k->arg[1]->name;
        if (given(&v[0]) && given(&v[1]))
            return BAD(e, a1, "%s: give %s or %s, not both", a1, a0, a1);
        if (!given(&v[0]) && !given(&v[1]))
            return BAD(e, a0, "%s: required (or %s)", a0, a1);
    }
    for (unsigned j = 0; j < k->nargs; j++) {
        const bb_arg *arg = k->arg[j];
        if (v[j].obj == NULL) {
            if (arg->flags & BB_A_REQ)
                return BAD(e, arg->name, "%s: required", arg->name);
        } else if (v[j].obj->type == MSGPACK_OBJECT_NIL) {
            if (arg->flags & BB_A_REQ)
                return BAD(e, arg->name, "%s: required (nil given)", arg->name);
            if ((arg->flags & (BB_A_NIL | BB_A_NILABSENT)) == 0)
                return BAD(e, arg->name, "%s: must not be nil (leave it out instead)",
                           arg->name);
        } else {
            if (ck_value(arg, &v[j], e) != 0)
                return -1;
            v[j].set = true;
        }
    }
    const rval *code = rv(k, v, "credit_code"), *date = rv(k, v, "report_date");
    if (code != NULL && code->set) {
        bb_cc_result r = bb_creditcode_check(code->s, code->len);
        if (r != BB_CC_OK)
            return BAD(e, "credit_code", "credit_code: %s", bb_creditcode_reason(r));
    }
    if (date != NULL && date->set && strcmp(date->s, IMP_STATUS_MIN_DATE) < 0)
        return BAD(e, "report_date", "report_date: %s is before " IMP_STATUS_MIN_DATE, date->s);
    return 0;
}

/* ---- the call ---- */

static void reply_items(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    int n = PQntuples(res);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 1);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, item_cols, ITEM_NCOLS);
    req_result_end(req);
}

/* One column's element for a row that passed. */
static void col_elem(tbuf *b, const icol *c, const rval *v, tbuf *tmp)
{
    if (c->kind == C_GIVEN) {
        tb_cstr(b, v->obj != NULL ? "t" : "f");
    } else if (c->kind == C_VAL || !v->set) {
        tb_elem(b, v->set ? v->s : NULL, v->len);
    } else {
        tmp->len = 0;
        tb_put(tmp, "", 0);
        for (uint32_t i = 0; i < v->obj->via.array.size; i++) {
            if (i > 0)
                tb_ch(tmp, '\n');
            tb_put(tmp, v->obj->via.array.ptr[i].via.str.ptr, v->obj->via.array.ptr[i].via.str.size);
        }
        tb_elem(b, tmp->oom ? NULL : tmp->s, tmp->len);
        b->oom = b->oom || tmp->oom;
    }
}

/* Both imports: every row checked, the ones that pass as columns, the
 * others as refusals, then the one statement. */
static void run_import(request *req, const margs *a, const import_kind *k)
{
    const bb_arg *rows_arg = bb_spec_arg(a->spec, "rows", 4);
    const msgpack_object *rows = margs_get(a, "rows")->obj;
    if (rows->type != MSGPACK_OBJECT_ARRAY) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: must be an array of maps");
        return;
    }
    uint32_t n = rows->via.array.size;
    if (n < rows_arg->min || n > rows_arg->max) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "rows", "rows: %lld to %lld rows (got %" PRIu32
                        ")", (long long)rows_arg->min, (long long)rows_arg->max, n);
        return;
    }
    /* _ord, the columns, then the four refusal arrays. */
    enum { MAX_ARRAYS = 1 + ROW_MAX_KEYS + 4 };
    tbuf arr[MAX_ARRAYS], tmp;
    memset(arr, 0, sizeof arr);
    memset(&tmp, 0, sizeof tmp);
    tbuf *ord = &arr[0], *cols = &arr[1], *rej = &arr[1 + k->ncols];
    unsigned narr = 1 + k->ncols + 4;
    row_err *err = malloc(sizeof *err);   /* one at a time: a row's answer is copied out */
    bool oom = err == NULL;
    rval v[ROW_MAX_KEYS];
    char num[16];
    for (uint32_t i = 0; i < n && !oom; i++) {
        snprintf(num, sizeof num, "%" PRIu32, i);
        if (check_row(k, &rows->via.array.ptr[i], i, v, err) != 0) {
            tb_cstr(&rej[0], num);
            tb_cstr(&rej[1], bb_err_code(err->code));
            tb_cstr(&rej[2], err->field[0] != '\0' ? err->field : NULL);
            tb_cstr(&rej[3], err->message);
            continue;
        }
        tb_cstr(ord, num);
        for (unsigned c = 0; c < k->ncols; c++)
            col_elem(&cols[c], &k->cols[c], rv(k, v, k->cols[c].arg), &tmp);
    }
    const char *extra[MAX_ARRAYS + 1];
    for (unsigned i = 0; i < narr; i++) {
        extra[i] = tb_finish(&arr[i]);
        oom = oom || extra[i] == NULL;
    }
    extra[narr] = req_server(req)->cfg.time_zone; /* status.import's _tz */
    if (oom)
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
    else
        mstmt_query(req, k->st, a, extra, reply_items, NULL, NULL);
    for (unsigned i = 0; i < narr; i++)
        free(arr[i].s);
    free(tmp.s);
    free(err);
}

static void enterprise_import(request *req, const margs *a) { run_import(req, a, &ent_kind); }
static void status_import(request *req, const margs *a) { run_import(req, a, &st_kind); }

/* ---- the module ---- */

static int add_arg(import_kind *k, const bb_arg *arg)
{
    if (k->nargs == ROW_MAX_KEYS || arg->values != NULL || arg->type == BB_T_BOOL ||
        arg->type == BB_T_ANY)
        return -1;   /* more keys, allowed-value lists or types than rows are checked for */
    k->arg[k->nargs++] = arg;
    return 0;
}

/* The rows' arguments, from the spec of their single methods. */
static int import_start(struct server *s)
{
    (void)s;
    const bb_method_spec *create = bb_spec_find(ent_kind.method, strlen(ent_kind.method));
    const bb_method_spec *submit = bb_spec_find(st_kind.method, strlen(st_kind.method));
    const bb_arg *code = create != NULL ? bb_spec_arg(create, "credit_code", 11) : NULL;
    const bb_arg *eid = submit != NULL ? bb_spec_arg(submit, "enterprise_id", 13) : NULL;
    int rc = code != NULL && eid != NULL ? 0 : -1;
    ent_kind.nargs = st_kind.nargs = 0;
    for (const bb_arg *x = rc == 0 ? create->args : NULL; x != NULL && x->name != NULL; x++)
        rc |= add_arg(&ent_kind, x);
    if (rc == 0) {
        st_eid = *eid;
        st_code = *code;
        st_eid.flags = st_code.flags = BB_A_NILABSENT;
        rc |= add_arg(&st_kind, &st_eid) | add_arg(&st_kind, &st_code);
    }
    for (const bb_arg *x = rc == 0 ? submit->args : NULL; x != NULL && x->name != NULL; x++)
        if (x != eid)
            rc |= add_arg(&st_kind, x);
    for (unsigned i = 0; rc == 0 && i < ent_kind.ncols; i++)
        rc |= arg_index(&ent_kind, ent_kind.cols[i].arg) < 0 ? -1 : 0;
    for (unsigned i = 0; rc == 0 && i < st_kind.ncols; i++)
        rc |= arg_index(&st_kind, st_kind.cols[i].arg) < 0 ? -1 : 0;
    if (rc != 0)
        log_event(LOG_ERROR, "module_invalid", "module=import why=row_arguments");
    return rc;
}

static const method_impl import_methods[] = {
    {"enterprise.import", .fn = enterprise_import},
    {"status.import", .fn = status_import},
    {NULL},
};

static mstmt *const import_stmts[] = {&st_ent_import, &st_status_import, NULL};

const method_module import_module = {
    .name = "import",
    .methods = import_methods,
    .stmts = import_stmts,
    .start = import_start,
};
