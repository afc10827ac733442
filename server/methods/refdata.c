/*
 * refdata.c: reference data (proto/PROTOCOL.md, "Reference data"): ref.list
 * for every user, ref.add / ref.rename / ref.retire for admins.
 *
 * The arguments are declared in proto/spec/refdata.c and checked by the
 * dispatcher; this file has only the statements. The writes are stored
 * functions (sql/015_reference_data.sql), each one atomic statement with
 * its idempotency record and audit row, that check the admin again, the
 * kind's own rules (a township needs its kind, a label at most 32
 * characters, enterprise statuses are never renamed or retired) and rewrite
 * the records that carry a renamed value.
 *
 * No list is kept here or anywhere in the server: whether a value is a
 * current member of its kind is decided by the database's triggers on every
 * write that sets it, against the rows as they are now. So there is no
 * per-process cache to refresh: any number of baobaod processes share the
 * lists (stateless across processes), and a change applies to the very
 * next write.
 *
 * Not for: the checks themselves (sql/015), or the county's lists
 * (data/reference/).
 */
#include "methods.h"
#include "rowpack.h"

/* A RefValue (the view ref_wire of sql/015). */
static const rp_col ref_cols[] = {
    {"id", RP_INT},          {"kind", RP_TEXT},       {"value", RP_TEXT},
    {"sort_order", RP_INT},  {"retired", RP_BOOL},    {"township_kind", RP_TEXT},
    {"version", RP_INT},     {"created_at", RP_TEXT}, {"updated_at", RP_TEXT},
};
#define REF_NCOLS ((int)(sizeof ref_cols / sizeof ref_cols[0]))

#define REF(st_name, text) {.name = st_name, .sql = text, .cols = ref_cols, .ncols = REF_NCOLS}

/* Every value, retired ones too (flagged), in the order clients offer them. */
static mstmt st_list = REF("ref_list",
    "SELECT w.* FROM ref_wire w"
    " WHERE :kind::text IS NULL OR w.kind = :kind::text"
    " ORDER BY w.kind, w.sort_order, w.value");

static mstmt st_add = REF("ref_add",
    "SELECT * FROM bb_ref_add(" WRITE_PREFIX ", p_kind => :kind, p_value => :value,"
    " p_sort_order => :sort_order::int, p_township_kind => :township_kind)");

static mstmt st_rename = REF("ref_rename",
    "SELECT * FROM bb_ref_rename(" WRITE_PREFIX ", p_kind => :kind, p_value => :value,"
    " p_new_value => :new_value)");

/* retired absent = true (the function's coalesce). */
static mstmt st_retire = REF("ref_retire",
    "SELECT * FROM bb_ref_retire(" WRITE_PREFIX ", p_kind => :kind, p_value => :value,"
    " p_retired => :retired::boolean)");

/* The lists are short (tens of values): one answer in the shape of a page
 * whose next is always nil, so clients read it as any other list. */
static void list_done(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    mreply_page(req, res, ref_cols, REF_NCOLS, INT64_MAX);
}

static void ref_list(request *req, const margs *a)
{
    mstmt_query(req, &st_list, a, NULL, list_done, NULL, NULL);
}

static const method_impl refdata_methods[] = {
    {"ref.list", .fn = ref_list},
    {"ref.add", .stmt = &st_add, .reply = MR_ROW},
    {"ref.rename", .stmt = &st_rename, .reply = MR_ROW},
    {"ref.retire", .stmt = &st_retire, .reply = MR_ROW},
    {NULL},
};

/* The statement of the handler (those of .stmt rows register themselves). */
static mstmt *const refdata_stmts[] = {&st_list, NULL};

const method_module refdata_module = {
    .name = "refdata",
    .methods = refdata_methods,
    .stmts = refdata_stmts,
};
