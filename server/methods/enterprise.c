/*
 * enterprise.c: the enterprise.* methods (proto/PROTOCOL.md section 6):
 * create, get, update, list.
 *
 * The arguments are declared in proto/spec/enterprise.c and checked by
 * the dispatcher; this file has the statements (called by parameter name)
 * and the one rule the spec cannot say: the credit code's own rules
 * (proto/bb_creditcode.h). Whether a township, cluster or status is a
 * known one is the database's to say (reference data). The writes are
 * stored functions (sql/006_scope_audit.sql), each one atomic statement
 * with its idempotency record and audit row; the database checks again.
 *
 * Scope (PROTOCOL.md, "Accounts, roles and scope"): the dispatcher's gate
 * has checked the role; which townships is decided in SQL. Writes pass the
 * caller (:_actor, :_addr) to the stored functions, which refuse records
 * outside the caller's townships; reads pass the read scope (:_scope: the
 * user id of township staff, NULL for the roles that read everything),
 * and leave out what lies outside it. An enterprise outside scope is
 * answered exactly like one that does not exist.
 * Not for: status reports (status.c), the bulk upsert (import.c).
 */
#include "bb_creditcode.h"
#include "methods.h"
#include "rowpack.h"

/* The Enterprise as the wire shows it: the columns of view enterprise_wire. */
static const rp_col ent_cols[] = {
    {"id", RP_INT},          {"name", RP_TEXT},    {"credit_code", RP_TEXT},
    {"township", RP_TEXT},   {"cluster", RP_TEXT}, {"labels", RP_LINES},
    {"status", RP_TEXT},     {"version", RP_INT},  {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define ENT_NCOLS ((int)(sizeof ent_cols / sizeof ent_cols[0]))

static mstmt st_create = {
    .name = "ent_create", .sql =
    "SELECT * FROM bb_enterprise_create(" WRITE_PREFIX ", p_name => :name,"
    " p_code => :credit_code, p_township => :township, p_cluster => :cluster,"
    " p_labels => :labels::text[], p_status => :status)",
    .cols = ent_cols, .ncols = ENT_NCOLS};

static mstmt st_get = {
    .name = "ent_get", .sql =
    "SELECT w.* FROM enterprise_wire w JOIN enterprise e ON e.id = w.id"
    " WHERE w.id = :id::bigint AND " SCOPE_HAS("e.township_id"),
    .cols = ent_cols, .ncols = ENT_NCOLS};

/* absent = unchanged; cluster: nil = clear, so p_set_cluster says whether
 * it was given; labels are never nil, given = replace. */
static mstmt st_update = {
    .name = "ent_update", .sql =
    "SELECT * FROM bb_enterprise_update(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_name => :name, p_code => :credit_code,"
    " p_township => :township, p_status => :status,"
    " p_set_cluster => :cluster_set, p_cluster => :cluster,"
    " p_set_labels => :labels_set, p_labels => :labels::text[])",
    .cols = ent_cols, .ncols = ENT_NCOLS};

/* Keyset page by id. An unknown township or cluster name matches
 * nothing, as the protocol says, while an unknown status is refused:
 * bb_ref_check names no column, so it is a one-time filter, run before any
 * row is read (void is never NULL). name_contains is plain text (strpos);
 * credit_code is the whole code (its unique index finds it).
 * Rows outside the read scope are never looked at, so no filter or page
 * boundary reveals them. */
static mstmt st_list = {
    .name = "ent_list", .sql =
    "SELECT w.* FROM ("
    "  SELECT e.id FROM enterprise e"
    "   WHERE bb_ref_check('enterprise_status', :status::text, 'status') IS NOT NULL"
    "     AND (:township::text IS NULL"
    "          OR e.township_id = (SELECT t.id FROM township t WHERE t.name = :township))"
    "     AND (:cluster::text IS NULL OR e.cluster = :cluster)"
    "     AND (:status::text IS NULL OR e.status = :status)"
    "     AND (:label::text IS NULL OR e.labels @> ARRAY[:label::text])"
    "     AND (:name_contains::text IS NULL OR strpos(e.name, :name_contains) > 0)"
    "     AND (:credit_code::text IS NULL OR e.credit_code = :credit_code)"
    "     AND e.id > :after::bigint"
    "     AND " SCOPE_HAS("e.township_id")
    "   ORDER BY e.id LIMIT :limit::int + 1) k"
    " JOIN enterprise_wire w ON w.id = k.id ORDER BY w.id",
    .cols = ent_cols, .ncols = ENT_NCOLS};

/* credit_code, when given: its own rules (check character, length, ...). */
static int check_credit_code(request *req, const margs *a)
{
    const bb_val *v = margs_get(a, "credit_code");
    if (v->state != BB_V_SET)
        return 0;
    bb_cc_result r = bb_creditcode_check(v->s, v->len);
    if (r != BB_CC_OK) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "credit_code", "credit_code: %s",
                        bb_creditcode_reason(r));
        return -1;
    }
    return 0;
}

static const method_impl enterprise_methods[] = {
    {"enterprise.create", .stmt = &st_create, .reply = MR_ROW, .check = check_credit_code},
    {"enterprise.get", .stmt = &st_get, .reply = MR_ROW, .what = "enterprise"},
    {"enterprise.update", .stmt = &st_update, .reply = MR_ROW, .check = check_credit_code},
    {"enterprise.list", .stmt = &st_list, .reply = MR_PAGE},
    {NULL},
};

static mstmt *const enterprise_stmts[] = {&st_create, &st_get, &st_update, &st_list, NULL};

/* The credit code is unique: a second enterprise with it (create, update,
 * import) is already_exists. */
static const pool_constraint enterprise_constraints[] = {
    {"enterprise_credit_code_key", "credit_code", "another enterprise has this credit code"},
    {NULL},
};

const method_module enterprise_module = {
    .name = "enterprise",
    .methods = enterprise_methods,
    .stmts = enterprise_stmts,
    .constraints = enterprise_constraints,
};
