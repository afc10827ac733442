/*
 * project.c: the project.* methods (proto/PROTOCOL.md section 6,
 * "Projects"): create, get, update, list, move_stage, set_milestone,
 * history: investment projects (招商项目 / 重点项目), their lifecycle
 * stage and their milestone plan.
 *
 * The arguments are declared in proto/spec/project.c and checked by the
 * dispatcher; townships and clusters are reference data the database
 * checks. This file has the statements (called by parameter name), the
 * two rules across arguments (set_milestone needs a date; a list's
 * investment_min not above its max) and the packing of a Project, which
 * rowpack cannot do alone: the project's columns plus `milestones`, an
 * array of five {node, planned_date, actual_date} maps made from ten
 * columns of the view project_wire.
 * The writes are stored functions (sql/008_project_fns.sql) that hold the
 * lifecycle rules, write the history (stage and plan events), the audit
 * row and the idempotency record in one statement; "today" for the
 * actual-date rule is the engine's :_today (clock.h, the configured
 * time_zone, pinned by fake_now in tests).
 *
 * Roles: every role reads; only supervisors write (the spec, and
 * bb_project_actor in SQL as a second wall). Township staff read the
 * projects of their own townships only (the read scope :_scope): a
 * project outside them is answered exactly like a missing one, and lists
 * leave it out; an investor registered outside them is not shown
 * (enterprise_id nil).
 * Not for: the units a project names as lead unit (official.c), the
 * overdue milestones (overdue.c), the tables (sql/007_projects.sql).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "methods.h"
#include "rowpack.h"
#include "spec/spec.h"

/* The Project as view project_wire gives it: the wire keys in order, then
 * the planned and actual date of each node (packed as `milestones`). */
static const rp_col prj_cols[] = {
    {"id", RP_INT},           {"name", RP_TEXT},         {"enterprise_id", RP_INT},
    {"cluster", RP_TEXT},     {"planned_investment", RP_INT}, {"priority", RP_TEXT},
    {"lead_unit_id", RP_INT}, {"township", RP_TEXT},     {"stage", RP_TEXT},
    {"stage_reason", RP_TEXT}, {"paused_from", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT},  {"updated_at", RP_TEXT},
    {"planned_1", RP_TEXT},   {"actual_1", RP_TEXT},     {"planned_2", RP_TEXT},
    {"actual_2", RP_TEXT},    {"planned_3", RP_TEXT},    {"actual_3", RP_TEXT},
    {"planned_4", RP_TEXT},   {"actual_4", RP_TEXT},     {"planned_5", RP_TEXT},
    {"actual_5", RP_TEXT},
};
#define PRJ_NCOLS ((int)(sizeof prj_cols / sizeof prj_cols[0]))
#define PRJ_NODES 5
/* The columns before the milestone dates: the Project's own keys. */
#define PRJ_NKEYS (PRJ_NCOLS - 2 * PRJ_NODES)

/* One history event (bb_project_history). skipped: stages joined by '\n'. */
static const rp_col hist_cols[] = {
    {"kind", RP_TEXT},       {"at", RP_TEXT},          {"user_id", RP_INT},
    {"user", RP_TEXT},       {"from_stage", RP_TEXT},  {"to_stage", RP_TEXT},
    {"skipped", RP_LINES},   {"node", RP_TEXT},        {"old_planned", RP_TEXT},
    {"new_planned", RP_TEXT}, {"reason", RP_TEXT},
};
#define HIST_NCOLS ((int)(sizeof hist_cols / sizeof hist_cols[0]))

/* ---- statements ----
 * Writes pass the caller (:_actor), the peer (:_addr) and the key; reads
 * take the read scope (:_scope: NULL for everything, else the user id of
 * township staff). absent = unchanged, nil = clear: p_set_x says whether
 * x was given. */

#define PRJ(st_name, text) \
    {.name = st_name, .sql = text, .cols = prj_cols, .ncols = PRJ_NCOLS}

static mstmt st_create = PRJ("prj_create",
    "SELECT * FROM bb_project_create(" WRITE_PREFIX ", p_name => :name,"
    " p_enterprise_id => :enterprise_id::bigint, p_cluster => :cluster,"
    " p_planned_investment => :planned_investment::bigint, p_priority => :priority,"
    " p_lead_unit_id => :lead_unit_id::bigint, p_township => :township, p_stage => :stage)");

static mstmt st_update = PRJ("prj_update",
    "SELECT * FROM bb_project_update(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_name => :name,"
    " p_set_enterprise => :enterprise_id_set, p_enterprise_id => :enterprise_id::bigint,"
    " p_set_cluster => :cluster_set, p_cluster => :cluster,"
    " p_planned_investment => :planned_investment::bigint, p_priority => :priority,"
    " p_set_lead_unit => :lead_unit_id_set, p_lead_unit_id => :lead_unit_id::bigint,"
    " p_township => :township)");

static mstmt st_move = PRJ("prj_move_stage",
    "SELECT * FROM bb_project_move_stage(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_stage => :stage, p_reason => :reason)");

static mstmt st_set_milestone = PRJ("prj_set_milestone",
    "SELECT * FROM bb_project_set_milestone(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_node => :node, p_set_planned => :planned_date_set, p_planned => :planned_date::date,"
    " p_set_actual => :actual_date_set, p_actual => :actual_date::date, p_reason => :reason,"
    " p_today => :_today::date)");

/* The Project as a reader sees it: the columns of project_wire, but
 * enterprise_id only when the investor lies in the read scope too. A
 * project in a township of a staff user's may have its investor registered
 * in another township, which enterprise.get answers not_found for them:
 * its id is nil here (as overdue.milestones leaves out the investor).
 * Needs the investor joined as ie (PRJ_READ_INVESTOR). */
#define PRJ_READ_COLS                                                                       \
    "w.id, w.name,"                                                                         \
    " CASE WHEN " SCOPE_HAS("ie.township_id") " THEN w.enterprise_id END AS enterprise_id," \
    " w.cluster, w.planned_investment, w.priority, w.lead_unit_id, w.township, w.stage,"    \
    " w.stage_reason, w.paused_from, w.version, w.created_at, w.updated_at,"                \
    " w.planned_1, w.actual_1, w.planned_2, w.actual_2, w.planned_3, w.actual_3,"           \
    " w.planned_4, w.actual_4, w.planned_5, w.actual_5"
#define PRJ_READ_INVESTOR " LEFT JOIN enterprise ie ON ie.id = w.enterprise_id"

static mstmt st_get = PRJ("prj_get",
    "SELECT " PRJ_READ_COLS " FROM project_wire w JOIN project p ON p.id = w.id"
    PRJ_READ_INVESTOR
    " WHERE w.id = :id::bigint AND " SCOPE_HAS("p.township_id"));

/* Keyset page by id. An unknown township name gives NULL and matches
 * nothing; name_contains is plain text (strpos). Rows outside the scope
 * are never looked at, so no filter or page boundary reveals them. */
static mstmt st_list = PRJ("prj_list",
    "SELECT " PRJ_READ_COLS " FROM ("
    "  SELECT p.id FROM project p"
    "   WHERE (:township::text IS NULL"
    "          OR p.township_id = (SELECT t.id FROM township t WHERE t.name = :township))"
    "     AND (:cluster::text IS NULL OR p.cluster = :cluster)"
    "     AND (:stage::text IS NULL OR p.stage = :stage)"
    "     AND (:priority::text IS NULL OR p.priority = :priority)"
    "     AND (:lead_unit_id::bigint IS NULL OR p.lead_unit_id = :lead_unit_id::bigint)"
    "     AND (:investment_min::bigint IS NULL OR p.planned_investment >= :investment_min::bigint)"
    "     AND (:investment_max::bigint IS NULL OR p.planned_investment <= :investment_max::bigint)"
    "     AND (:name_contains::text IS NULL OR strpos(p.name, :name_contains) > 0)"
    "     AND p.id > :after::bigint"
    "     AND " SCOPE_HAS("p.township_id")
    "   ORDER BY p.id LIMIT :limit::int + 1) k"
    " JOIN project_wire w ON w.id = k.id" PRJ_READ_INVESTOR
    " ORDER BY w.id");

/* Newest first; not_found (field id) is raised there, also outside the
 * scope. */
static mstmt st_history = {
    .name = "prj_history",
    .sql = "SELECT * FROM bb_project_history(p_scope => :_scope::bigint, p_id => :id::bigint)",
    .cols = hist_cols, .ncols = HIST_NCOLS};

/* ---- the Project, and the rules across arguments ---- */

static void pack_cell(msgpack_packer *pk, const PGresult *res, int row, int col, rp_type t)
{
    if (PQgetisnull(res, row, col)) {
        msgpack_pack_nil(pk);
        return;
    }
    const char *v = PQgetvalue(res, row, col);
    if (t == RP_INT) {
        msgpack_pack_int64(pk, strtoll(v, NULL, 10)); /* checked by rowpack_check */
        return;
    }
    msgpack_pack_str_with_body(pk, v, (size_t)PQgetlength(res, row, col));
}

/* One Project: its keys, then `milestones` in node order. */
static int pack_project(msgpack_packer *pk, const PGresult *res, int row)
{
    msgpack_pack_map(pk, PRJ_NKEYS + 1);
    for (int i = 0; i < PRJ_NKEYS; i++) {
        rowpack_str(pk, prj_cols[i].key);
        pack_cell(pk, res, row, i, prj_cols[i].type);
    }
    rowpack_str(pk, "milestones");
    msgpack_pack_array(pk, PRJ_NODES);
    for (int n = 0; n < PRJ_NODES; n++) {
        msgpack_pack_map(pk, 3);
        rowpack_str(pk, "node");
        rowpack_str(pk, bb_milestone_nodes[n]);
        rowpack_str(pk, "planned_date");
        pack_cell(pk, res, row, PRJ_NKEYS + 2 * n, RP_TEXT);
        rowpack_str(pk, "actual_date");
        pack_cell(pk, res, row, PRJ_NKEYS + 2 * n + 1, RP_TEXT);
    }
    return 0;
}

static const mshape prj_shape = {.pack = pack_project};

static int check_set_milestone(request *req, const margs *a)
{
    if (margs_get(a, "planned_date")->state == BB_V_ABSENT &&
        margs_get(a, "actual_date")->state == BB_V_ABSENT) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "planned_date",
                        "planned_date: give planned_date, actual_date or both");
        return -1;
    }
    return 0;
}

static int check_list(request *req, const margs *a)
{
    if (margs_set(a, "investment_min") && margs_set(a, "investment_max") &&
        margs_int(a, "investment_min", 0) > margs_int(a, "investment_max", 0)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "investment_min",
                        "investment_min: %" PRId64 " is above investment_max (%" PRId64 ")",
                        margs_int(a, "investment_min", 0), margs_int(a, "investment_max", 0));
        return -1;
    }
    return 0;
}

/* project.history: {items}, the whole history, not paged. */
static void history_done(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    mreply_items(req, res, hist_cols, HIST_NCOLS);
}

static void project_history(request *req, const margs *a)
{
    mstmt_query(req, &st_history, a, NULL, history_done, NULL, NULL);
}

/* ---- the module ---- */

#define PRJ_ROW .reply = MR_ROW, .shape = &prj_shape
static const method_impl project_methods[] = {
    {"project.create", .stmt = &st_create, PRJ_ROW},
    {"project.get", .stmt = &st_get, PRJ_ROW, .what = "project"},
    {"project.update", .stmt = &st_update, PRJ_ROW},
    {"project.list", .stmt = &st_list, .reply = MR_PAGE, .shape = &prj_shape,
     .check = check_list},
    {"project.move_stage", .stmt = &st_move, PRJ_ROW},
    {"project.set_milestone", .stmt = &st_set_milestone, PRJ_ROW, .check = check_set_milestone},
    {"project.history", .fn = project_history},
    {NULL},
};

/* The statement of the handler (those of .stmt rows register themselves). */
static mstmt *const project_stmts[] = {&st_history, NULL};

const method_module project_module = {
    .name = "project",
    .methods = project_methods,
    .stmts = project_stmts,
};
