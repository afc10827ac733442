/*
 * import.c: enterprise.import and status.import (proto/PROTOCOL.md section
 * 6): the bulk upsert of enterprises by credit code, and the bulk import
 * of status reports: up to BB_MAX_IMPORT_ROWS rows per call, each answered
 * on its own (created, updated, unchanged, rejected).
 *
 * The call's arguments (rows, commit, idempotency_key) are declared in
 * proto/spec/import.c and checked by the dispatcher: a bad call is refused
 * whole. Each row is checked here by the dispatcher's own checks
 * (margs_check_into) against the arguments of the single method it stands
 * for (enterprise.create's without the idempotency key; the row of
 * status.import, proto/spec/status.c), then against what that method
 * checks beyond its spec (the credit code's rules, the earliest
 * report_date), so a row is refused with exactly the code, field and
 * message the single method would answer, but in its item: a bad row never
 * stops the others. The rows that pass are handed to ONE statement,
 * bb_enterprise_import (sql/013_import.sql) or bb_status_import
 * (sql/014_status_import.sql), which decides the rest with the database's
 * rules (known township, cluster and statuses, scope, uniqueness, "not
 * after today"), with a savepoint per row, writes, audits, rolls a dry run
 * back, and keeps the idempotency record of the whole call; the rows
 * refused here travel with it so that record holds the whole answer.
 * Not for: reading CSV (the client does: client/csv.c), or the single
 * methods (enterprise.c, status.c).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_creditcode.h"
#include "log.h"
#include "methods.h"
#include "rowpack.h"
#include "server.h"
#include "spec/spec.h"

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
    WRITE_PREFIX ", p_commit => coalesce(:commit::boolean, false)"
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
    ITEM_SELECT " FROM bb_status_import(" CALL_PREFIX ","
    " p_allow_duplicates => coalesce(:allow_duplicates::boolean, false), p_tz => :_tz,"
    " p_ord => :_ord::int[],"
    " p_eids => :_eids::bigint[], p_codes => :_codes::text[], p_dates => :_dates::date[],"
    " p_reporters => :_reporters::text[], p_statuses => :_statuses::text[],"
    " p_outputs => :_outputs::bigint[], p_employees => :_employees::int[],"
    " p_shortages => :_shortages::int[], p_notes => :_notes::text[], " REJ_ARGS ") i",
    .cols = item_cols, .ncols = ITEM_NCOLS, .extras = st_extras, .heavy = true};

/* ---- what a row is checked against, and its columns ---- */

/* A column of the statement, from a row's argument: its value (NULL when
 * absent or nil; an array of str as one text, its elements joined by a
 * line feed, labels holding no control character), or whether it was
 * given at all (nil too: "nil = clear"). */
typedef struct icol {
    const char *arg;
    enum { C_VAL, C_LINES, C_GIVEN } kind;
} icol;

typedef struct import_kind {
    const bb_method_spec *row;   /* the arguments a row has */
    mstmt *st;
    const icol *cols;            /* in extras order after _ord */
    unsigned ncols;
    bool either;                 /* enterprise_id or credit_code, exactly one */
} import_kind;

/* enterprise.create without its idempotency key (the call has one), made
 * by import_start: the spec's tables keep their argument arrays private. */
static bb_method_spec ent_row;

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
#define MAX_COLS NCOLS(st_cols)

static const import_kind ent_kind = {&ent_row, &st_ent_import, ent_cols, NCOLS(ent_cols), false};
static const import_kind st_kind = {&bb_spec_status_import_row, &st_status_import, st_cols,
                                    NCOLS(st_cols), true};

/* ---- checking one row ---- */

__attribute__((format(printf, 3, 4)))
static int reject(margs_error *e, const char *field, const char *fmt, ...)
{
    e->code = BB_E_INVALID_ARGUMENT;
    e->has_field = true;
    snprintf(e->field, sizeof e->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

/* True when margs_check_into got past the row's keys (every key matched an
 * argument, none twice): it fills a's values as it matches keys, before
 * checking any value, and leaves them on failure. */
static bool keys_matched(const margs *a, const msgpack_object *row)
{
    uint32_t n = 0;
    for (unsigned i = 0; i < a->n; i++)
        n += a->v[i].obj != NULL;
    return row->type == MSGPACK_OBJECT_MAP && n == row->via.map.size;
}

/* A row as its single method checks it: the keys, (status rows) which
 * enterprise, each argument in declared order (margs_check_into), then the
 * method's own rules: the credit code's, the earliest report_date. Fills a
 * (margs_free it either way) or e. */
static int check_row(const import_kind *k, const msgpack_object *row, const config *cfg,
                     margs *a, margs_error *e)
{
    int rc = margs_check_into(k->row, row, cfg, a, e);
    if (k->either && keys_matched(a, row)) {
        const msgpack_object *id = margs_get(a, "enterprise_id")->obj;
        const msgpack_object *cc = margs_get(a, "credit_code")->obj;
        bool has_id = id != NULL && id->type != MSGPACK_OBJECT_NIL;
        bool has_cc = cc != NULL && cc->type != MSGPACK_OBJECT_NIL;
        if (has_id && has_cc)
            return reject(e, "credit_code", "credit_code: give enterprise_id or credit_code, "
                                            "not both");
        if (!has_id && !has_cc)
            return reject(e, "enterprise_id", "enterprise_id: required (or credit_code)");
    }
    if (rc != 0)
        return -1;
    const bb_val *code = margs_get(a, "credit_code");
    bb_cc_result r = code->state == BB_V_SET ? bb_creditcode_check(code->s, code->len) : BB_CC_OK;
    if (r != BB_CC_OK)
        return reject(e, "credit_code", "credit_code: %s", bb_creditcode_reason(r));
    return 0;
}

/* One column's element for a row that passed. */
static void col_elem(mlit *l, const icol *c, const margs *a)
{
    const bb_val *v = margs_get(a, c->arg);
    if (c->kind == C_GIVEN) {
        mlit_elem(l, v->state != BB_V_ABSENT ? "t" : "f", 1);
    } else if (v->state != BB_V_SET) {
        mlit_elem(l, NULL, 0);
    } else if (c->kind == C_VAL) {
        mlit_elem(l, v->s, v->len);
    } else {
        mlit_next(l);
        mlit_put(l, "\"", 1, false);
        for (uint32_t i = 0; i < v->obj->via.array.size; i++) {
            const msgpack_object *s = &v->obj->via.array.ptr[i];
            mlit_put(l, "\n", i > 0 ? 1 : 0, false);
            mlit_put(l, s->via.str.ptr, s->via.str.size, true);
        }
        mlit_put(l, "\"", 1, false);
    }
}

/* ---- the call ---- */

static void reply_items(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    mreply_items(req, res, item_cols, ITEM_NCOLS);
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
    /* _ord, the columns, then the four refusal arrays: the extras' order. */
    mlit arr[1 + MAX_COLS + 4];
    memset(arr, 0, sizeof arr);
    mlit *ord = &arr[0], *cols = &arr[1], *rej = &arr[1 + k->ncols];
    unsigned narr = 1 + k->ncols + 4;
    const config *cfg = &req_server(req)->cfg;
    margs ra;
    margs_error err;
    char num[16];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(num, sizeof num, "%" PRIu32, i);
        if (check_row(k, &rows->via.array.ptr[i], cfg, &ra, &err) != 0) {
            mlit_elem(&rej[0], num, strlen(num));
            mlit_elem(&rej[1], bb_err_code(err.code), strlen(bb_err_code(err.code)));
            mlit_elem(&rej[2], err.has_field ? err.field : NULL, strlen(err.field));
            mlit_elem(&rej[3], err.message, strlen(err.message));
        } else {
            mlit_elem(ord, num, strlen(num));
            for (unsigned c = 0; c < k->ncols; c++)
                col_elem(&cols[c], &k->cols[c], &ra);
        }
        margs_free(&ra);
    }
    const char *extra[1 + MAX_COLS + 4 + 1];
    bool oom = false;
    for (unsigned i = 0; i < narr; i++) {
        extra[i] = mlit_end(&arr[i]);
        oom = oom || extra[i] == NULL;
    }
    extra[narr] = cfg->time_zone; /* status.import's _tz */
    if (oom)
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
    else
        mstmt_query(req, k->st, a, extra, reply_items, NULL, NULL);
    for (unsigned i = 0; i < narr; i++)
        free(arr[i].s);
}

static void enterprise_import(request *req, const margs *a) { run_import(req, a, &ent_kind); }
static void status_import(request *req, const margs *a) { run_import(req, a, &st_kind); }

/* ---- the module ---- */

/* The enterprise row; and every column names an argument of its row (a
 * typo would abort in margs_get at the first import). */
static int import_start(struct server *s)
{
    (void)s;
    const bb_method_spec *create = bb_spec_find("enterprise.create", 17);
    int rc = create != NULL ? 0 : -1;
    if (create != NULL) {
        ent_row = *create;
        ent_row.flags &= ~(unsigned)BB_M_WRITE;
    }
    const import_kind *kinds[] = {&ent_kind, &st_kind};
    for (unsigned i = 0; rc == 0 && i < 2; i++)
        for (unsigned c = 0; c < kinds[i]->ncols; c++)
            if (bb_spec_arg(kinds[i]->row, kinds[i]->cols[c].arg,
                            strlen(kinds[i]->cols[c].arg)) == NULL)
                rc = -1;
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
