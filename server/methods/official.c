/*
 * official.c: the directory of units and officials and the 包保
 * assignments (proto/PROTOCOL.md section 6): unit.create / get / list /
 * portfolio, official.create / get / update / list / portfolio,
 * assignment.create / get / end / list, and coverage.gaps.
 *
 * The arguments are declared in proto/spec/official.c and checked by the
 * dispatcher; this file has the statements (called by parameter name),
 * the rules the spec cannot say (a phone's pattern; the cross rules of an
 * assignment: exactly one holder, exactly one target, 责任单位 held by a
 * unit and the other roles by officials, the end not before the start),
 * and the replies that are not a plain record or page (portfolios, the
 * coverage.gaps cursor). Writes are stored functions (sql/009_assignment_fns.sql), each
 * one atomic statement with its idempotency record and audit row, taking
 * the caller (session_actor) and the peer (req_peer); the database checks
 * the role again. Reads pass the read scope (session_read_scope): units
 * and officials are a directory everyone reads whole, while assignments,
 * projects and problems outside a township staff user's townships are left
 * out, and an assignment outside them is answered like a missing one.
 * "Today" (the default of `on`) is clock_today(), passed to SQL as a date.
 *
 * Not for: projects (project.c), problems (problem.c), overdue lists
 * (overdue.c), or SQL beyond the text next to each method here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "rowpack.h"

/* A phone number: a digit, then digits, spaces, '+' or '-'; 3-32 bytes
 * (the CHECK of official.phone; the spec has the upper bound). */
#define OFF_PHONE_MIN_BYTES 3u
#define OFF_PHONE_MAX_BYTES 32u
#define OFF_NUM_TEXT 24

/* ---- wire shapes (the columns of the *_wire views of 009) ---- */

static const rp_col unit_cols[] = {
    {"id", RP_INT}, {"name", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT}, {"updated_at", RP_TEXT},
};
#define UNIT_NCOLS ((int)(sizeof unit_cols / sizeof unit_cols[0]))

static const rp_col off_cols[] = {
    {"id", RP_INT},        {"name", RP_TEXT},       {"title", RP_TEXT},
    {"unit_id", RP_INT},   {"unit_name", RP_TEXT},  {"phone", RP_TEXT},
    {"user_id", RP_INT},   {"version", RP_INT},     {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define OFF_NCOLS ((int)(sizeof off_cols / sizeof off_cols[0]))

#define ASG_COLS(p)                                                                     \
    {p "id", RP_INT}, {p "role", RP_TEXT}, {p "official_id", RP_INT},                   \
    {p "official_name", RP_TEXT}, {p "unit_id", RP_INT}, {p "unit_name", RP_TEXT},      \
    {p "enterprise_id", RP_INT}, {p "project_id", RP_INT}, {p "target_name", RP_TEXT},  \
    {p "township", RP_TEXT}, {p "period_start", RP_TEXT}, {p "period_end", RP_TEXT},    \
    {p "version", RP_INT}, {p "created_at", RP_TEXT}, {p "updated_at", RP_TEXT}
static const rp_col asg_cols[] = {ASG_COLS("")};
#define ASG_NCOLS ((int)(sizeof asg_cols / sizeof asg_cols[0]))

/* Portfolio items (bb_portfolio_items): a section letter, then an
 * Assignment, a ProjectRef and a ProblemRef side by side (NULL outside
 * their section). */
#define PRJ_REF_COLS(p)                                                                 \
    {p "id", RP_INT}, {p "name", RP_TEXT}, {p "township", RP_TEXT},                     \
    {p "stage", RP_TEXT}, {p "priority", RP_TEXT}
#define PRB_REF_COLS(p)                                                                 \
    {p "id", RP_INT}, {p "enterprise_id", RP_INT}, {p "enterprise_name", RP_TEXT},      \
    {p "township", RP_TEXT}, {p "category", RP_TEXT}, {p "state", RP_TEXT},             \
    {p "deadline", RP_TEXT}
static const rp_col prj_ref_cols[] = {PRJ_REF_COLS("")};
static const rp_col prb_ref_cols[] = {PRB_REF_COLS("")};
#define PRJ_REF_NCOLS ((int)(sizeof prj_ref_cols / sizeof prj_ref_cols[0]))
#define PRB_REF_NCOLS ((int)(sizeof prb_ref_cols / sizeof prb_ref_cols[0]))
#define ITEM_COLS {"section", RP_TEXT}, ASG_COLS("a_"), PRJ_REF_COLS("p_"), PRB_REF_COLS("q_")

static const rp_col off_portfolio_cols[] = {
    {"id", RP_INT},        {"name", RP_TEXT},       {"title", RP_TEXT},
    {"unit_id", RP_INT},   {"unit_name", RP_TEXT},  {"phone", RP_TEXT},
    {"user_id", RP_INT},   {"version", RP_INT},     {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT}, ITEM_COLS,
};
static const rp_col unit_portfolio_cols[] = {
    {"id", RP_INT}, {"name", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT}, {"updated_at", RP_TEXT}, ITEM_COLS,
};
#define OFF_PF_NCOLS ((int)(sizeof off_portfolio_cols / sizeof off_portfolio_cols[0]))
#define UNIT_PF_NCOLS ((int)(sizeof unit_portfolio_cols / sizeof unit_portfolio_cols[0]))

/* A coverage gap; the last two columns (kind_rank, role_rank) make the
 * cursor and are not packed. */
static const rp_col gap_cols[] = {
    {"kind", RP_TEXT},     {"id", RP_INT},         {"name", RP_TEXT},
    {"township", RP_TEXT}, {"role", RP_TEXT},      {"priority", RP_TEXT},
    {"stage", RP_TEXT},    {"kind_rank", RP_INT},  {"role_rank", RP_INT},
};
#define GAP_NCOLS ((int)(sizeof gap_cols / sizeof gap_cols[0]))
#define GAP_WIRE_NCOLS 7

/* ---- statements ----
 * Writes pass the caller (:_actor), the peer (:_addr) and the key; reads of
 * records that lie in a township take the read scope (:_scope: NULL for
 * everything, else the user id of township staff). */

static mstmt st_unit_create = {
    .name = "unit_create", .sql =
    "SELECT * FROM bb_unit_create(" WRITE_PREFIX ", p_name => :name)",
    .cols = unit_cols, .ncols = UNIT_NCOLS};

static mstmt st_unit_get = {
    .name = "unit_get", .sql = "SELECT * FROM unit_wire WHERE id = :id::bigint",
    .cols = unit_cols, .ncols = UNIT_NCOLS};

/* Keyset page by id; name_contains is plain text (strpos). */
static mstmt st_unit_list = {
    .name = "unit_list", .sql =
    "SELECT w.* FROM unit_wire w"
    " WHERE (:name_contains::text IS NULL OR strpos(w.name, :name_contains) > 0)"
    "   AND w.id > :after::bigint"
    " ORDER BY w.id LIMIT :limit::int + 1",
    .cols = unit_cols, .ncols = UNIT_NCOLS};

static mstmt st_off_create = {
    .name = "official_create", .sql =
    "SELECT * FROM bb_official_create(" WRITE_PREFIX ", p_name => :name, p_title => :title,"
    " p_unit_id => :unit_id::bigint, p_phone => :phone, p_user_id => :user_id::bigint)",
    .cols = off_cols, .ncols = OFF_NCOLS};

static mstmt st_off_get = {
    .name = "official_get", .sql = "SELECT * FROM official_wire WHERE id = :id::bigint",
    .cols = off_cols, .ncols = OFF_NCOLS};

/* absent = unchanged, nil = clear: p_set_x says whether x was given. */
static mstmt st_off_update = {
    .name = "official_update", .sql =
    "SELECT * FROM bb_official_update(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_name => :name,"
    " p_set_title => :title_set, p_title => :title,"
    " p_set_unit => :unit_id_set, p_unit_id => :unit_id::bigint,"
    " p_set_phone => :phone_set, p_phone => :phone,"
    " p_set_user => :user_id_set, p_user_id => :user_id::bigint)",
    .cols = off_cols, .ncols = OFF_NCOLS};

static mstmt st_off_list = {
    .name = "official_list", .sql =
    "SELECT w.* FROM ("
    "  SELECT o.id FROM official o"
    "   WHERE (:unit_id::bigint IS NULL OR o.unit_id = :unit_id::bigint)"
    "     AND (:name_contains::text IS NULL OR strpos(o.name, :name_contains) > 0)"
    "     AND o.id > :after::bigint"
    "   ORDER BY o.id LIMIT :limit::int + 1) k"
    " JOIN official_wire w ON w.id = k.id ORDER BY w.id",
    .cols = off_cols, .ncols = OFF_NCOLS};

static mstmt st_asg_create = {
    .name = "assignment_create", .sql =
    "SELECT * FROM bb_assignment_create(" WRITE_PREFIX ", p_official_id => :official_id::bigint,"
    " p_unit_id => :unit_id::bigint, p_enterprise_id => :enterprise_id::bigint,"
    " p_project_id => :project_id::bigint, p_role => :role,"
    " p_start => :period_start::date, p_end => :period_end::date)",
    .cols = asg_cols, .ncols = ASG_NCOLS};

static mstmt st_asg_end = {
    .name = "assignment_end", .sql =
    "SELECT * FROM bb_assignment_end(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_end => :period_end::date)",
    .cols = asg_cols, .ncols = ASG_NCOLS};

/* An assignment lies in its enterprise's or project's township. */
static mstmt st_asg_get = {
    .name = "assignment_get", .sql =
    "SELECT w.* FROM assignment_wire w"
    " WHERE w.id = :id::bigint"
    "   AND (:_scope::bigint IS NULL OR w.township IN ("
    "        SELECT t.name FROM app_user_township ut JOIN township t ON t.id = ut.township_id"
    "         WHERE ut.user_id = :_scope::bigint))",
    .cols = asg_cols, .ncols = ASG_NCOLS};

/* Rows outside the scope are never looked at, so no filter or page
 * boundary reveals them. */
static mstmt st_asg_list = {
    .name = "assignment_list", .sql =
    "SELECT w.* FROM ("
    "  SELECT a.id FROM assignment a"
    "    LEFT JOIN enterprise e ON e.id = a.enterprise_id"
    "    LEFT JOIN project p ON p.id = a.project_id"
    "   WHERE (:enterprise_id::bigint IS NULL OR a.enterprise_id = :enterprise_id::bigint)"
    "     AND (:project_id::bigint IS NULL OR a.project_id = :project_id::bigint)"
    "     AND (:official_id::bigint IS NULL OR a.official_id = :official_id::bigint)"
    "     AND (:unit_id::bigint IS NULL OR a.unit_id = :unit_id::bigint)"
    "     AND (:role::text IS NULL OR a.role = :role::text)"
    "     AND (:active_on::date IS NULL OR (a.period_start <= :active_on::date"
    "          AND (a.period_end IS NULL OR :active_on::date <= a.period_end)))"
    "     AND a.id > :after::bigint"
    "     AND " SCOPE_HAS("coalesce(e.township_id, p.township_id)")
    "   ORDER BY a.id LIMIT :limit::int + 1) k"
    " JOIN assignment_wire w ON w.id = k.id ORDER BY w.id",
    .cols = asg_cols, .ncols = ASG_NCOLS};

/* One row per item (or one row with section NULL when there is none);
 * none when the official / unit does not exist. */
static mstmt st_off_portfolio = {
    .name = "official_portfolio", .sql =
    "SELECT w.*, i.* FROM official_wire w"
    " LEFT JOIN LATERAL bb_portfolio_items(:_scope::bigint, w.id, NULL, :on::date) i ON true"
    " WHERE w.id = :id::bigint"
    " ORDER BY i.section, i.a_id, i.p_id, i.q_deadline, i.q_id",
    .cols = off_portfolio_cols, .ncols = OFF_PF_NCOLS};

static mstmt st_unit_portfolio = {
    .name = "unit_portfolio", .sql =
    "SELECT w.*, i.* FROM unit_wire w"
    " LEFT JOIN LATERAL bb_portfolio_items(:_scope::bigint, NULL, w.id, :on::date) i ON true"
    " WHERE w.id = :id::bigint"
    " ORDER BY i.section, i.a_id, i.p_id, i.q_deadline, i.q_id",
    .cols = unit_portfolio_cols, .ncols = UNIT_PF_NCOLS};

/* The cursor comes parsed (coverage_gaps): kind rank, target id, role rank. */
static const char *const gaps_extras[] = {"_after_kind", "_after_id", "_after_role", NULL};
static mstmt st_gaps = {
    .name = "coverage_gaps", .sql =
    "SELECT * FROM bb_coverage_gaps(:_scope::bigint, :kind::text, :role::text, :township::text,"
    " :on::date, :_after_kind::int, :_after_id::bigint, :_after_role::int, :limit::int + 1)",
    .cols = gap_cols, .ncols = GAP_NCOLS, .extras = gaps_extras};

/* ---- rules the spec cannot say ---- */

#define ROLE_UNIT "责任单位"

/* phone: a digit, then digits, spaces, '+' or '-', 3-32 bytes in all. */
static int check_phone(request *req, const margs *a)
{
    const bb_val *v = margs_get(a, "phone");
    if (v->state != BB_V_SET)
        return 0;
    bool ok = v->len >= OFF_PHONE_MIN_BYTES && v->len <= OFF_PHONE_MAX_BYTES &&
              v->s[0] >= '0' && v->s[0] <= '9';
    for (uint32_t i = 1; ok && i < v->len; i++) {
        char c = v->s[i];
        ok = (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-';
    }
    if (!ok) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "phone",
                        "phone: %u-%u characters: a digit first, then digits, spaces, + or -",
                        OFF_PHONE_MIN_BYTES, OFF_PHONE_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* The cross rules of assignment.create, in the order the protocol lists
 * them. */
static int check_assignment(request *req, const margs *a)
{
    bool off = margs_set(a, "official_id"), unit = margs_set(a, "unit_id");
    bool ent = margs_set(a, "enterprise_id"), prj = margs_set(a, "project_id");
    const bb_val *role = margs_get(a, "role");
    const bb_val *start = margs_get(a, "period_start"), *end = margs_get(a, "period_end");
    if (!off && !unit) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "official_id",
                        "official_id: give official_id or unit_id (who holds the assignment)");
        return -1;
    }
    if (off && unit) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "unit_id",
                        "unit_id: give official_id or unit_id, not both");
        return -1;
    }
    if (!ent && !prj) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "enterprise_id",
                        "enterprise_id: give enterprise_id or project_id (what it concerns)");
        return -1;
    }
    if (ent && prj) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "project_id",
                        "project_id: give enterprise_id or project_id, not both");
        return -1;
    }
    bool unit_role = role->len == strlen(ROLE_UNIT) && memcmp(role->s, ROLE_UNIT, role->len) == 0;
    if (unit_role && !unit) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: 责任单位 is held by a unit (unit_id)");
        return -1;
    }
    if (!unit_role && unit) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: %.*s is held by an official (official_id)", (int)role->len, role->s);
        return -1;
    }
    if (end->state == BB_V_SET && strcmp(end->s, start->s) < 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "period_end",
                        "period_end: %s is before period_start (%s)", end->s, start->s);
        return -1;
    }
    return 0;
}

/* ---- portfolios ---- */

/* Packs columns off .. off+ncols-1 of row as a map keyed by cols[i].key
 * (the result has passed rowpack_check with the full column list). */
static void pack_cols(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols,
                      int ncols, int off)
{
    msgpack_pack_map(pk, (uint32_t)ncols);
    for (int i = 0; i < ncols; i++) {
        rowpack_str(pk, cols[i].key);
        int col = off + i;
        if (PQgetisnull(res, row, col)) {
            msgpack_pack_nil(pk);
            continue;
        }
        const char *v = PQgetvalue(res, row, col);
        if (cols[i].type == RP_INT) {
            msgpack_pack_int64(pk, strtoll(v, NULL, 10));
        } else {
            size_t len = (size_t)PQgetlength(res, row, col);
            msgpack_pack_str(pk, len);
            msgpack_pack_str_body(pk, v, len);
        }
    }
}

/* Packs the rows of one portfolio section as an array. */
static void pack_section(msgpack_packer *pk, const PGresult *res, int sec_col, char section,
                         const rp_col *cols, int ncols, int off)
{
    int rows = PQntuples(res);
    uint32_t n = 0;
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, sec_col) && PQgetvalue(res, r, sec_col)[0] == section)
            n++;
    msgpack_pack_array(pk, n);
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, sec_col) && PQgetvalue(res, r, sec_col)[0] == section)
            pack_cols(pk, res, r, cols, ncols, off);
}

typedef struct pf_ctx {
    bool is_unit;
    int64_t id;
    char on[11];
} pf_ctx;

/* official.portfolio / unit.portfolio: the header (Official or Unit) is
 * repeated on every row; no row = not_found. */
static void portfolio_done(request *req, const PGresult *res, void *arg)
{
    pf_ctx c = *(pf_ctx *)arg;
    free(arg);
    const rp_col *head = c.is_unit ? unit_cols : off_cols;
    int nhead = c.is_unit ? UNIT_NCOLS : OFF_NCOLS;
    if (PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "%s %" PRId64 " does not exist",
                        c.is_unit ? "unit" : "official", c.id);
        return;
    }
    int sec = nhead;
    int asg_off = sec + 1, prj_off = asg_off + ASG_NCOLS, prb_off = prj_off + PRJ_REF_NCOLS;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, c.is_unit ? 5 : 4);
    rowpack_str(pk, c.is_unit ? "unit" : "official");
    pack_cols(pk, res, 0, head, nhead, 0);
    rowpack_str(pk, "on");
    rowpack_str(pk, c.on);
    rowpack_str(pk, "assignments");
    pack_section(pk, res, sec, 'a', asg_cols, ASG_NCOLS, asg_off);
    if (c.is_unit) {
        rowpack_str(pk, "projects");
        pack_section(pk, res, sec, 'p', prj_ref_cols, PRJ_REF_NCOLS, prj_off);
    }
    rowpack_str(pk, "problems");
    pack_section(pk, res, sec, 'q', prb_ref_cols, PRB_REF_NCOLS, prb_off);
    req_result_end(req);
}

static void portfolio(request *req, const margs *a, bool is_unit)
{
    pf_ctx *c = req_alloc(req, sizeof *c);
    if (c == NULL)
        return;
    c->is_unit = is_unit;
    c->id = margs_int(a, "id", 0);
    snprintf(c->on, sizeof c->on, "%s", margs_get(a, "on")->s);
    mstmt_query(req, is_unit ? &st_unit_portfolio : &st_off_portfolio, a, NULL, portfolio_done, c,
                free);
}

static void official_portfolio(request *req, const margs *a) { portfolio(req, a, false); }
static void unit_portfolio(request *req, const margs *a) { portfolio(req, a, true); }

/* ---- coverage.gaps ---- */

/* Parses a decimal in [min, max] from s[0..len) without a sign or leading
 * zeros (so every cursor has exactly one spelling). */
static bool parse_dec(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The cursor "K.ID.R": K the kind rank (1 enterprise, 2 project), ID the
 * target's id, R the role rank (1 包保市领导, 2 责任单位, 3 联络员). */
static bool parse_gap_cursor(const bb_val *c, int64_t *kind, int64_t *id, int64_t *role)
{
    const char *s = c->s, *end = c->s + c->len;
    const char *d1 = memchr(s, '.', c->len);
    if (d1 == NULL)
        return false;
    const char *d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1));
    if (d2 == NULL)
        return false;
    return parse_dec(s, (size_t)(d1 - s), 1, 2, kind) &&
           parse_dec(d1 + 1, (size_t)(d2 - d1 - 1), 1, INT64_MAX, id) &&
           parse_dec(d2 + 1, (size_t)(end - d2 - 1), 1, 3, role);
}

/* The cursor of a gap row: "kind_rank.id.role_rank". */
static void gap_next(msgpack_packer *pk, const PGresult *res, int row)
{
    char cur[80];
    snprintf(cur, sizeof cur, "%s.%s.%s", PQgetvalue(res, row, 7), PQgetvalue(res, row, 1),
             PQgetvalue(res, row, 8));
    rowpack_str(pk, cur);
}

static const mshape gap_shape = {.nwire = GAP_WIRE_NCOLS, .next = gap_next};

static void coverage_gaps(request *req, const margs *a)
{
    const bb_val *after = margs_get(a, "after");
    int64_t ak = 0, aid = 0, ar = 0;
    if (after->state == BB_V_SET && !parse_gap_cursor(after, &ak, &aid, &ar)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this server returned as next");
        return;
    }
    char kt[OFF_NUM_TEXT], it[OFF_NUM_TEXT], rt[OFF_NUM_TEXT];
    snprintf(kt, sizeof kt, "%" PRId64, ak);
    snprintf(it, sizeof it, "%" PRId64, aid);
    snprintf(rt, sizeof rt, "%" PRId64, ar);
    bool cur = after->state == BB_V_SET;
    const char *extra[3] = {cur ? kt : NULL, cur ? it : NULL, cur ? rt : NULL};
    mstmt_query_page(req, &st_gaps, a, extra, &gap_shape);
}

/* ---- the module ---- */

static const method_impl official_methods[] = {
    {"unit.create", .stmt = &st_unit_create, .reply = MR_ROW},
    {"unit.get", .stmt = &st_unit_get, .reply = MR_ROW, .what = "unit"},
    {"unit.list", .stmt = &st_unit_list, .reply = MR_PAGE},
    {"unit.portfolio", .fn = unit_portfolio},
    {"official.create", .stmt = &st_off_create, .reply = MR_ROW, .check = check_phone},
    {"official.get", .stmt = &st_off_get, .reply = MR_ROW, .what = "official"},
    {"official.update", .stmt = &st_off_update, .reply = MR_ROW, .check = check_phone},
    {"official.list", .stmt = &st_off_list, .reply = MR_PAGE},
    {"official.portfolio", .fn = official_portfolio},
    {"assignment.create", .stmt = &st_asg_create, .reply = MR_ROW, .check = check_assignment},
    {"assignment.get", .stmt = &st_asg_get, .reply = MR_ROW, .what = "assignment"},
    {"assignment.end", .stmt = &st_asg_end, .reply = MR_ROW},
    {"assignment.list", .stmt = &st_asg_list, .reply = MR_PAGE},
    {"coverage.gaps", .fn = coverage_gaps},
    {NULL},
};

/* The statements of the handlers (those of .stmt rows register themselves). */
static mstmt *const official_stmts[] = {&st_off_portfolio, &st_unit_portfolio, &st_gaps, NULL};

const method_module official_module = {
    .name = "official",
    .methods = official_methods,
    .stmts = official_stmts,
};
