/*
 * problem.c: the problem.* methods (诉求: create, get, list, advance,
 * reopen, assign, correct) and the trouble.* methods (the 困难企业 file: set, get,
 * list) of proto/PROTOCOL.md section 6.
 *
 * The arguments are declared in proto/spec/problem.c and checked by the
 * dispatcher; categories are reference data the database checks. This
 * file has the statements (called by parameter name), the rules the spec
 * cannot say (the decimal form of a file's areas, which are text with at
 * most two decimals and never pass through floating point; a new file
 * needs its idle reason), and the two replies that are not a plain record
 * or page (a problem with its events; a missing file, answered on
 * enterprise_id).
 * The writes are stored functions (sql/010_problem_fns.sql; problem.correct
 * sql/020_corrections.sql): each one
 * statement with its idempotency record, its problem_event and its audit
 * row; the workflow (受理 → 交办 → 办理 → 反馈 → 确认, one step forward,
 * reopening 确认 → 办理), deadlines and references are decided there, and
 * its BBxxx errors are mapped in pool.c. "Today" (the default deadline, "a
 * deadline not before today") is the engine's :_today.
 *
 * Scope (PROTOCOL.md section 3): a problem and a troubled-enterprise file
 * belong to the township of their enterprise. Writes pass the caller
 * (:_actor) to the stored functions, which answer a record outside the
 * caller's townships exactly like a missing one; reads pass the read
 * scope (:_scope), which leaves such records out.
 * Not for: overdue and due-soon queries (overdue.c), units and officials
 * (official.c), SQL beyond the text next to each method here.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "methods.h"
#include "rowpack.h"

/* Integer digits of the areas: numeric(12, 2) and numeric(14, 2). */
#define TROUBLE_LAND_INT_DIGITS 10u
#define TROUBLE_FLOOR_INT_DIGITS 12u

/* The Problem as the wire shows it: the columns of view problem_wire;
 * problem.get adds the columns of one event per row (all NULL for a
 * problem without events, which cannot happen through the protocol:
 * create writes the first). */
#define PROB_COLS                                                                       \
    {"id", RP_INT}, {"enterprise_id", RP_INT}, {"enterprise_name", RP_TEXT},            \
    {"township", RP_TEXT}, {"status_report_id", RP_INT}, {"category", RP_TEXT},         \
    {"description", RP_TEXT}, {"assignee_unit_id", RP_INT}, {"assignee_unit", RP_TEXT}, \
    {"assignee_official_id", RP_INT}, {"assignee_official", RP_TEXT},                   \
    {"deadline", RP_TEXT}, {"state", RP_TEXT}, {"closed_at", RP_TEXT},                  \
    {"version", RP_INT}, {"created_at", RP_TEXT}, {"updated_at", RP_TEXT}
static const rp_col prob_cols[] = {PROB_COLS};
#define PROB_NCOLS ((int)(sizeof prob_cols / sizeof prob_cols[0]))
static const rp_col prob_get_cols[] = {
    PROB_COLS,
    {"event_id", RP_INT},          {"event_at", RP_TEXT},       {"event_user", RP_TEXT},
    {"event_user_id", RP_INT},     {"event_from_state", RP_TEXT},
    {"event_to_state", RP_TEXT},   {"event_note", RP_TEXT},
};
#define PROB_GET_NCOLS ((int)(sizeof prob_get_cols / sizeof prob_get_cols[0]))

/* A ProblemEvent as the wire shows it (packed from the event_* columns). */
static const rp_col event_cols[] = {
    {"id", RP_INT},         {"at", RP_TEXT},       {"user", RP_TEXT},
    {"user_id", RP_INT},    {"from_state", RP_TEXT}, {"to_state", RP_TEXT},
    {"note", RP_TEXT},
};
#define EVENT_NCOLS ((int)(sizeof event_cols / sizeof event_cols[0]))
_Static_assert(PROB_GET_NCOLS == PROB_NCOLS + EVENT_NCOLS,
               "problem.get: the Problem's columns, then the event's");

/* The EnterpriseTrouble as the wire shows it: view enterprise_trouble_wire. */
static const rp_col trouble_cols[] = {
    {"enterprise_id", RP_INT},  {"enterprise_name", RP_TEXT}, {"township", RP_TEXT},
    {"idle_reason", RP_TEXT},   {"idle_land_mu", RP_TEXT},    {"idle_floor_m2", RP_TEXT},
    {"strengths", RP_TEXT},     {"revival_plan", RP_TEXT},    {"revival_progress", RP_TEXT},
    {"version", RP_INT},        {"created_at", RP_TEXT},      {"updated_at", RP_TEXT},
};
#define TROUBLE_NCOLS ((int)(sizeof trouble_cols / sizeof trouble_cols[0]))

/* ---- statements ----
 * Writes pass the caller (:_actor), the peer (:_addr) and the key; absent
 * = unchanged, nil = clear: p_set_x says whether x was given. Reads take
 * the read scope (:_scope: NULL for everything, else the user id of
 * township staff) on the enterprise's township. */

#define PROB(st_name, text) \
    {.name = st_name, .sql = text, .cols = prob_cols, .ncols = PROB_NCOLS}
#define TROUBLE(st_name, text) \
    {.name = st_name, .sql = text, .cols = trouble_cols, .ncols = TROUBLE_NCOLS}

static mstmt st_create = PROB("prob_create",
    "SELECT * FROM bb_problem_create(" WRITE_PREFIX ", p_enterprise_id => :enterprise_id::bigint,"
    " p_status_report_id => :status_report_id::bigint, p_category => :category,"
    " p_description => :description, p_unit => :assignee_unit_id::bigint,"
    " p_official => :assignee_official_id::bigint, p_deadline => :deadline::date,"
    " p_today => :_today::date)");

static mstmt st_advance = PROB("prob_advance",
    "SELECT * FROM bb_problem_advance(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_to_state => :to_state, p_note => :note)");

static mstmt st_reopen = PROB("prob_reopen",
    "SELECT * FROM bb_problem_reopen(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_reason => :reason)");

/* The reason goes to the audit record only (sql/020_corrections.sql). */
static mstmt st_correct = PROB("prob_correct",
    "SELECT * FROM bb_problem_correct(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_description => :description, p_reason => :reason)");

static mstmt st_assign = PROB("prob_assign",
    "SELECT * FROM bb_problem_assign(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int,"
    " p_set_unit => :assignee_unit_id_set, p_unit => :assignee_unit_id::bigint,"
    " p_set_official => :assignee_official_id_set, p_official => :assignee_official_id::bigint,"
    " p_deadline => :deadline::date, p_today => :_today::date)");

/* Without version: create the file; with it: change it. */
static mstmt st_trouble_set = TROUBLE("trouble_set",
    "SELECT * FROM bb_trouble_set(" WRITE_PREFIX ", p_enterprise_id => :enterprise_id::bigint,"
    " p_version => :version::int, p_idle_reason => :idle_reason,"
    " p_set_land => :idle_land_mu_set, p_land => :idle_land_mu,"
    " p_set_floor => :idle_floor_m2_set, p_floor => :idle_floor_m2,"
    " p_set_strengths => :strengths_set, p_strengths => :strengths,"
    " p_set_plan => :revival_plan_set, p_plan => :revival_plan,"
    " p_set_progress => :revival_progress_set, p_progress => :revival_progress)");

/* One problem and its events, oldest first. */
static mstmt st_get = {
    .name = "prob_get", .sql =
    "SELECT w.*, ev.id AS event_id, bb_ts(ev.at) AS event_at, au.login AS event_user,"
    "       ev.user_id AS event_user_id, ev.from_state AS event_from_state,"
    "       ev.to_state AS event_to_state, ev.note AS event_note"
    "  FROM problem_wire w"
    "  JOIN problem p ON p.id = w.id JOIN enterprise e ON e.id = p.enterprise_id"
    "  LEFT JOIN problem_event ev ON ev.problem_id = w.id"
    "  LEFT JOIN app_user au ON au.id = ev.user_id"
    " WHERE w.id = :id::bigint AND " SCOPE_HAS("e.township_id")
    " ORDER BY ev.id",
    .cols = prob_get_cols, .ncols = PROB_GET_NCOLS};

/* Keyset pages by ascending id. An unknown township name matches nothing.
 * Rows outside the scope are never looked at, so no filter, page or
 * boundary reveals them. */
static mstmt st_list = PROB("prob_list",
    "SELECT w.* FROM ("
    "  SELECT p.id FROM problem p JOIN enterprise e ON e.id = p.enterprise_id"
    "   WHERE (:enterprise_id::bigint IS NULL OR p.enterprise_id = :enterprise_id::bigint)"
    "     AND (:township::text IS NULL"
    "          OR e.township_id = (SELECT t.id FROM township t WHERE t.name = :township))"
    "     AND (:state::text IS NULL OR p.state = :state)"
    "     AND (:assignee_unit_id::bigint IS NULL"
    "          OR p.assignee_unit_id = :assignee_unit_id::bigint)"
    "     AND (:assignee_official_id::bigint IS NULL"
    "          OR p.assignee_official_id = :assignee_official_id::bigint)"
    "     AND (NOT coalesce(:open_only::boolean, false) OR p.state <> '确认')"
    "     AND p.id > :after::bigint"
    "     AND " SCOPE_HAS("e.township_id")
    "   ORDER BY p.id LIMIT :limit::int + 1) k"
    " JOIN problem_wire w ON w.id = k.id"
    " ORDER BY w.id");

static mstmt st_trouble_get = TROUBLE("trouble_get",
    "SELECT w.* FROM enterprise_trouble_wire w JOIN enterprise e ON e.id = w.enterprise_id"
    " WHERE w.enterprise_id = :enterprise_id::bigint"
    "   AND " SCOPE_HAS("e.township_id"));

static mstmt st_trouble_list = TROUBLE("trouble_list",
    "SELECT w.* FROM ("
    "  SELECT tr.enterprise_id FROM enterprise_trouble tr"
    "    JOIN enterprise e ON e.id = tr.enterprise_id"
    "   WHERE (:township::text IS NULL"
    "          OR e.township_id = (SELECT t.id FROM township t WHERE t.name = :township))"
    "     AND tr.enterprise_id > :after::bigint"
    "     AND " SCOPE_HAS("e.township_id")
    "   ORDER BY tr.enterprise_id LIMIT :limit::int + 1) k"
    " JOIN enterprise_trouble_wire w ON w.enterprise_id = k.enterprise_id"
    " ORDER BY w.enterprise_id");

/* ---- trouble.set: rules the spec cannot say ---- */

/* An area, when given: a non-negative decimal with at most int_digits
 * digits before the point (no leading zero but "0") and at most two after
 * it, e.g. "12.50", "3", "0.5". Never a float (the spec takes a str), so
 * no value is ever rounded on the way. */
static int check_decimal(request *req, const margs *a, const char *key, unsigned int_digits)
{
    const bb_val *v = margs_get(a, key);
    if (v->state != BB_V_SET)
        return 0;
    const char *s = v->s;
    uint32_t n = v->len, i = 0, ints = 0, decs = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        ints++;
    }
    bool ok = ints >= 1 && ints <= int_digits && !(ints > 1 && s[0] == '0');
    if (ok && i < n) {
        ok = s[i++] == '.';
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

static int check_trouble(request *req, const margs *a)
{
    if (check_decimal(req, a, "idle_land_mu", TROUBLE_LAND_INT_DIGITS) != 0 ||
        check_decimal(req, a, "idle_floor_m2", TROUBLE_FLOOR_INT_DIGITS) != 0)
        return -1;
    if (!margs_set(a, "version") && !margs_set(a, "idle_reason")) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idle_reason",
                        "idle_reason: required when creating a file (without version)");
        return -1;
    }
    return 0;
}

/* ---- replies that are not a plain record ---- */

/* Packs the key/value pairs of cols[0..n), found at result columns from,
 * from+1, ... (rowpack_row packs a whole map from column 0 only). */
static void pack_fields(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols,
                        int n, int from)
{
    for (int i = 0; i < n; i++) {
        rowpack_str(pk, cols[i].key);
        int c = from + i;
        if (PQgetisnull(res, row, c))
            msgpack_pack_nil(pk);
        else if (cols[i].type == RP_INT)
            msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, c), NULL, 10));
        else
            msgpack_pack_str_with_body(pk, PQgetvalue(res, row, c),
                                       (size_t)PQgetlength(res, row, c));
    }
}

/* problem.get: the Problem, then `events`; no row is not_found. */
static void get_done(request *req, const PGresult *res, void *arg)
{
    int64_t id = *(int64_t *)arg;
    free(arg);
    int rows = PQntuples(res);
    if (rows == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "problem %" PRId64 " does not exist", id);
        return;
    }
    uint32_t nev = 0;
    for (int r = 0; r < rows; r++)
        nev += !PQgetisnull(res, r, PROB_NCOLS);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, (uint32_t)PROB_NCOLS + 1);
    pack_fields(pk, res, 0, prob_cols, PROB_NCOLS, 0);
    rowpack_str(pk, "events");
    msgpack_pack_array(pk, nev);
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, PROB_NCOLS)) {
            msgpack_pack_map(pk, (uint32_t)EVENT_NCOLS);
            pack_fields(pk, res, r, event_cols, EVENT_NCOLS, PROB_NCOLS);
        }
    req_result_end(req);
}

/* trouble.get: the file, or not_found on enterprise_id (one message for a
 * missing enterprise, one outside the scope and one without a file). */
static void trouble_get_done(request *req, const PGresult *res, void *arg)
{
    int64_t eid = *(int64_t *)arg;
    free(arg);
    if (PQntuples(res) != 1) {
        req_reply_error(req, BB_E_NOT_FOUND, "enterprise_id",
                        "enterprise %" PRId64 " has no troubled-enterprise file", eid);
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, trouble_cols, TROUBLE_NCOLS);
    req_result_end(req);
}

/* Runs st with the id argument key kept for the callback. */
static void run_with_id(request *req, const margs *a, mstmt *st, const char *key, mstmt_cb cb)
{
    int64_t *id = req_alloc(req, sizeof *id);
    if (id == NULL)
        return;
    *id = margs_int(a, key, 0);
    mstmt_query(req, st, a, NULL, cb, id, free);
}

static void problem_get(request *req, const margs *a)
{
    run_with_id(req, a, &st_get, "id", get_done);
}

static void trouble_get(request *req, const margs *a)
{
    run_with_id(req, a, &st_trouble_get, "enterprise_id", trouble_get_done);
}

/* ---- the module ---- */

static const method_impl problem_methods[] = {
    {"problem.create", .stmt = &st_create, .reply = MR_ROW},
    {"problem.get", .fn = problem_get},
    {"problem.list", .stmt = &st_list, .reply = MR_PAGE},
    {"problem.advance", .stmt = &st_advance, .reply = MR_ROW},
    {"problem.reopen", .stmt = &st_reopen, .reply = MR_ROW},
    {"problem.assign", .stmt = &st_assign, .reply = MR_ROW},
    {"problem.correct", .stmt = &st_correct, .reply = MR_ROW},
    {"trouble.set", .stmt = &st_trouble_set, .reply = MR_ROW, .check = check_trouble},
    {"trouble.get", .fn = trouble_get},
    {"trouble.list", .stmt = &st_trouble_list, .reply = MR_PAGE},
    {NULL},
};

/* The statements of the handlers (those of .stmt rows register themselves). */
static mstmt *const problem_stmts[] = {&st_get, &st_trouble_get, NULL};

const method_module problem_module = {
    .name = "problem",
    .methods = problem_methods,
    .stmts = problem_stmts,
};
