/*
 * overdue.c: supervision of what is late (overdue.milestones,
 * overdue.problems) and what falls due soon (due.milestones, due.problems),
 * proto/PROTOCOL.md section 6.
 *
 * The four methods are one path driven by a table (variants): what they
 * list (milestones or problems: the statement, the fields of a row, where
 * the cursor's date is) and which dates they want (overdue: a level, due:
 * a window). The arguments are declared in proto/spec/overdue.c and
 * checked by the dispatcher; what is left here is reading the cursor,
 * turning the level or window into a range of dates, and packing each row
 * with its traffic light and the people responsible (nested maps, which
 * rowpack does not do).
 *
 * Speed (docs/benchmarks.md, workload overdue): the rows come in the order
 * of the partial indexes project_milestone_open_idx (planned_date,
 * project_id, node_rank: the node's place in the lifecycle, 签约 ... 竣工,
 * sql/022_milestone_order.sql) and problem_open_idx (deadline, id) of
 * sql/007_projects.sql, so PostgreSQL walks the index and stops after one
 * page instead of sorting every open row: most overdue first is simply the
 * earliest date first. Nothing computed stands in WHERE or ORDER BY: the
 * level and the due window become bounds on the indexed date, passed to
 * the stored function as today plus a number of days (a cursor is checked
 * here too, so a bad one never reaches the database), and the keyset
 * cursor is a row comparison on the index's own columns.
 *
 * Levels, with R = overdue_red_after_days and D = today - planned date:
 * red when D > R, yellow when 1 <= D <= R, green when D <= 0 (not late;
 * every row of due.* is green). So red is date < today - R, yellow is
 * today - R <= date < today, and due within N days is today <= date <=
 * today + N.
 *
 * Scope: township staff see rows of their townships only, decided in the
 * stored function with the read scope (:_scope), before LIMIT, so no page
 * boundary or cursor reveals a hidden row.
 * Not for: changing milestones or problems (project.c, problem.c); the
 * queries themselves and the lists of people are stored functions
 * (sql/011_overdue.sql), so that their plans can be pinned to the index
 * walk and pgbench can run exactly what baobaod runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "overdue_rows.h"
#include "rowpack.h"
#include "server.h"
#include "spec/spec.h"

#define OD_NUM_TEXT 24
#define OD_DATE_TEXT 11
/* A cursor is "YYYY-MM-DD.ID" (problems) or "YYYY-MM-DD.ID.N" (milestones,
 * N the node's number 1-5, bb_milestone_nodes order: the lifecycle, which
 * is also the order of a project's milestones on one date). */
#define OD_CURSOR_MAX_CHARS 40u

/* ---- statements ----
 * [p_lo, p_hi) is the range of dates wanted, given as today plus days
 * (:_lo NULL: no lower bound); p_after_* the cursor ('-infinity', 0, ''
 * for the first page); p_limit one row more than the page, to learn
 * whether a next page exists. */

static const char *const od_extras[] = {"_lo", "_hi", "_after_date", "_after_id", "_after_node",
                                        NULL};
#define OD_BOUNDS                                                                          \
    "p_today => :_today::date,"                                                            \
    " p_lo => coalesce(:_today::date + :_lo::int, '-infinity'::date),"                     \
    " p_hi => :_today::date + :_hi::int,"                                                  \
    " p_after_date => :_after_date::date, p_after_id => :_after_id::bigint"
#define OD_FILTERS                                                                         \
    " p_township => :township, p_cluster => :cluster, p_official => :official_id::bigint," \
    " p_unit => :unit_id::bigint, p_scope => :_scope::bigint, p_limit => :limit::int + 1"

static const rp_col ms_cols[] = {
    {"project_id", RP_INT},    {"node", RP_TEXT},          {"name", RP_TEXT},
    {"township", RP_TEXT},     {"enterprise_id", RP_INT},  {"enterprise_name", RP_TEXT},
    {"planned_date", RP_TEXT}, {"days_overdue", RP_INT},   {"stage", RP_TEXT},
    {"officials", RP_TEXT},    {"units", RP_TEXT},
};
static const rp_col pr_cols[] = {
    {"problem_id", RP_INT},    {"description", RP_TEXT},   {"township", RP_TEXT},
    {"enterprise_id", RP_INT}, {"enterprise_name", RP_TEXT}, {"deadline", RP_TEXT},
    {"days_overdue", RP_INT},  {"state", RP_TEXT},         {"officials", RP_TEXT},
    {"units", RP_TEXT},
};

static mstmt st_milestones = {
    .name = "od_milestones",
    .sql = "SELECT * FROM bb_overdue_milestones(" OD_BOUNDS ", p_after_node => :_after_node,"
           " p_stage => :stage," OD_FILTERS ")",
    .cols = ms_cols, .ncols = (int)(sizeof ms_cols / sizeof ms_cols[0]), .extras = od_extras};
static mstmt st_problems = {
    .name = "od_problems",
    .sql = "SELECT * FROM bb_overdue_problems(" OD_BOUNDS ", p_state => :state," OD_FILTERS ")",
    .cols = pr_cols, .ncols = (int)(sizeof pr_cols / sizeof pr_cols[0]), .extras = od_extras};

/* ---- the cursor ---- */

/* A decimal id 1..2^63-1 without sign or leading zeros. */
static bool valid_id(const char *s, size_t len)
{
    if (len == 0 || len > 19 || s[0] == '0')
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    return v <= (uint64_t)INT64_MAX;
}

/* A position in the order of the rows, as SQL text. */
typedef struct od_pos {
    char date[OD_DATE_TEXT];
    char id[OD_NUM_TEXT];
    const char *node;  /* milestones: the node's name */
} od_pos;

/* Reads a cursor exactly as next_ms / next_pr write it; false for anything
 * else. */
static bool parse_cursor(const bb_val *c, bool node, od_pos *p)
{
    const char *s = c->s;
    size_t len = c->len;
    if (len < 12 || s[10] != '.' || bb_date_check(s, 10) != BB_DATE_OK)
        return false;
    memcpy(p->date, s, 10);
    p->date[10] = '\0';
    const char *id = s + 11;
    size_t idlen = len - 11;
    if (node) {
        if (idlen < 3 || id[idlen - 2] != '.' || id[idlen - 1] < '1' || id[idlen - 1] > '5')
            return false;
        p->node = bb_milestone_nodes[id[idlen - 1] - '1'];
        idlen -= 2;
    }
    if (!valid_id(id, idlen))
        return false;
    memcpy(p->id, id, idlen);
    p->id[idlen] = '\0';
    return true;
}

/* The number (1-5) of a node, 0 when unknown. */
static unsigned node_number(const char *node)
{
    for (unsigned i = 0; bb_milestone_nodes[i] != NULL; i++)
        if (strcmp(bb_milestone_nodes[i], node) == 0)
            return i + 1;
    return 0;
}

/* ---- packing (overdue_rows.c) ---- */

/* overdue_red_after_days, read at start (the configuration does not
 * change while the server runs): a shape's packer sees only the row. */
static int64_t g_red_after;

/* A milestone; refused when its node has no number for the cursor. */
static int pack_ms(msgpack_packer *pk, const PGresult *res, int r)
{
    if (node_number(PQgetvalue(res, r, 1)) == 0)
        return -1;
    odrow_pack_milestone(pk, res, r, 0, g_red_after);
    return 0;
}

static int pack_pr(msgpack_packer *pk, const PGresult *res, int r)
{
    odrow_pack_problem(pk, res, r, 0, g_red_after);
    return 0;
}

/* The cursors parse_cursor reads: planned date, project id, node number;
 * deadline, problem id. */
static void next_ms(msgpack_packer *pk, const PGresult *res, int r)
{
    char next[OD_CURSOR_MAX_CHARS + 8];
    snprintf(next, sizeof next, "%s.%s.%u", PQgetvalue(res, r, 6), PQgetvalue(res, r, 0),
             node_number(PQgetvalue(res, r, 1)));
    rowpack_str(pk, next);
}

static void next_pr(msgpack_packer *pk, const PGresult *res, int r)
{
    char next[OD_CURSOR_MAX_CHARS + 8];
    snprintf(next, sizeof next, "%s.%s", PQgetvalue(res, r, 5), PQgetvalue(res, r, 0));
    rowpack_str(pk, next);
}

/* What is listed: milestones or problems. */
typedef struct od_kind {
    mstmt *st;
    mshape shape;
    bool node;         /* the cursor ends with the node's number */
} od_kind;

static const od_kind od_ms = {&st_milestones, {.pack = pack_ms, .next = next_ms}, true};
static const od_kind od_pr = {&st_problems, {.pack = pack_pr, .next = next_pr}, false};

/* The four methods. */
static const struct od_variant {
    const char *method;
    const od_kind *kind;
    bool due;          /* a window from today (within_days), else late rows (level) */
} variants[] = {
    {"overdue.milestones", &od_ms, false},
    {"overdue.problems", &od_pr, false},
    {"due.milestones", &od_ms, true},
    {"due.problems", &od_pr, true},
};

/* The handler of all four: the variant is the method's row of variants. */
static void od_run(request *req, const margs *a)
{
    /* Registered for the names of variants only, so one matches. */
    const struct od_variant *v = variants;
    while (v + 1 < variants + sizeof variants / sizeof variants[0] &&
           strcmp(v->method, a->spec->name) != 0)
        v++;
    const od_kind *k = v->kind;
    const bb_val *after = margs_get(a, "after");
    od_pos pos = {"-infinity", "0", ""};
    if (after->state == BB_V_SET && !parse_cursor(after, k->node, &pos)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this method gave (pass back its `next`)");
        return;
    }
    /* The range of dates as days from today: [lo, hi), lo NULL = none. */
    const config *cfg = &req_server(req)->cfg;
    int64_t red = cfg->overdue_red_after_days, lo = 0, hi = 0;
    bool has_lo = false;
    if (v->due) {
        lo = 0;
        hi = margs_int(a, "within_days", cfg->due_soon_days) + 1;
        has_lo = true;
    } else {
        const bb_val *level = margs_get(a, "level");
        bool red_only = level->state == BB_V_SET && level->len == 3 &&
                        memcmp(level->s, "red", 3) == 0;
        if (red_only) {
            hi = -red;
        } else if (level->state == BB_V_SET) {
            lo = -red;
            has_lo = true;
        }
    }
    char lot[OD_NUM_TEXT], hit[OD_NUM_TEXT];
    snprintf(lot, sizeof lot, "%" PRId64, lo);
    snprintf(hit, sizeof hit, "%" PRId64, hi);
    const char *extra[5] = {has_lo ? lot : NULL, hit, pos.date, pos.id, pos.node};

    mstmt_query_page(req, k->st, a, extra, &k->shape);
}

static const method_impl overdue_methods[] = {
    {"overdue.milestones", .fn = od_run},
    {"overdue.problems", .fn = od_run},
    {"due.milestones", .fn = od_run},
    {"due.problems", .fn = od_run},
    {NULL},
};

static mstmt *const overdue_stmts[] = {&st_milestones, &st_problems, NULL};

static int od_start(struct server *s)
{
    g_red_after = s->cfg.overdue_red_after_days;
    return 0;
}

const method_module overdue_module = {
    .name = "overdue",
    .methods = overdue_methods,
    .stmts = overdue_stmts,
    .start = od_start,
};
