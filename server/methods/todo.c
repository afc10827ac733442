/*
 * todo.c: todo.mine, what is waiting for the caller (proto/PROTOCOL.md
 * section 6, "todo.mine").
 *
 * One statement, the stored function bb_todo of sql/017_todo.sql, decides
 * everything that needs the database: who the caller is (role, the
 * official and unit they map to, their townships), which enterprises of
 * their townships were not visited this month, which problems and
 * milestones are theirs. It answers one header row, a row per township of
 * township staff, then the rows of each list, each list cut at limit + 1
 * rows. What is left here is the server's settings (the default problem
 * window due_soon_days, the red threshold overdue_red_after_days) and
 * packing: the lists that apply to the caller's role as {items, more},
 * the others nil.
 *
 * Today is the server's (:_today: the configured time_zone, fake_now in
 * tests), so the reporting month and the days overdue follow it.
 * Not for: the queries (sql/017, which reuses 011's), packing one overdue
 * row (overdue_rows.c), the CLI's view (client/cli_todo.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "overdue_rows.h"
#include "rowpack.h"
#include "server.h"

/* The columns of bb_todo, by section (sql/017_todo.sql says which row
 * fills which). */
enum {
    C_SEC = 0,
    C_H = 1,                       /* header: role, official id, name, unit id, name,
                                      a township ('t' rows), today */
    C_U = C_H + 7,                 /* unvisited: id, name, township, last_visit */
    C_M = C_U + 4,                 /* a milestone: bb_overdue_milestones' columns */
    C_P = C_M + ODROW_MS_NCOLS,    /* a problem: bb_overdue_problems' columns */
    C_NCOLS = C_P + ODROW_PR_NCOLS,
};

static const rp_col todo_cols[C_NCOLS] = {
    {"sec", RP_TEXT},
    {"h_role", RP_TEXT},          {"h_official_id", RP_INT},  {"h_official_name", RP_TEXT},
    {"h_unit_id", RP_INT},        {"h_unit_name", RP_TEXT},   {"h_township", RP_TEXT},
    {"h_today", RP_TEXT},
    {"u_id", RP_INT},             {"u_name", RP_TEXT},        {"u_township", RP_TEXT},
    {"u_last_visit", RP_TEXT},
    {"m_project_id", RP_INT},     {"m_node", RP_TEXT},        {"m_name", RP_TEXT},
    {"m_township", RP_TEXT},      {"m_enterprise_id", RP_INT}, {"m_enterprise_name", RP_TEXT},
    {"m_planned_date", RP_TEXT},  {"m_days_overdue", RP_INT}, {"m_stage", RP_TEXT},
    {"m_officials", RP_TEXT},     {"m_units", RP_TEXT},
    {"q_problem_id", RP_INT},     {"q_description", RP_TEXT}, {"q_township", RP_TEXT},
    {"q_enterprise_id", RP_INT},  {"q_enterprise_name", RP_TEXT}, {"q_deadline", RP_TEXT},
    {"q_days_overdue", RP_INT},   {"q_state", RP_TEXT},       {"q_officials", RP_TEXT},
    {"q_units", RP_TEXT},
};

static const char *const todo_extras[] = {"_within", NULL};

/* limit + 1 rows per list: one more than shown says whether it was cut. */
static mstmt st_todo = {
    .name = "todo_mine",
    .sql = "SELECT * FROM bb_todo(p_actor => :_actor::bigint, p_today => :_today::date,"
           " p_within => :_within::int, p_limit => :limit::int + 1)",
    .cols = todo_cols, .ncols = C_NCOLS, .extras = todo_extras};

typedef struct todo_ctx {
    int64_t limit;
    int64_t within;
    int64_t red_after;
} todo_ctx;

/* ---- packing ---- */

static void pack_text(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    msgpack_pack_str_with_body(pk, PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

static void pack_text_or_nil(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        msgpack_pack_nil(pk);
    else
        pack_text(pk, res, row, col);
}

/* {id, name} of the header's columns col (id) and col + 1, or nil. */
static void pack_ref(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "id");
    msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, col), NULL, 10));
    rowpack_str(pk, "name");
    pack_text(pk, res, row, col + 1);
}

/* The caller's townships: the 't' rows, in their order. */
static void pack_townships(msgpack_packer *pk, const PGresult *res)
{
    uint32_t n = 0;
    for (int r = 0; r < PQntuples(res); r++)
        n += PQgetvalue(res, r, C_SEC)[0] == 't';
    msgpack_pack_array(pk, n);
    for (int r = 0; r < PQntuples(res); r++)
        if (PQgetvalue(res, r, C_SEC)[0] == 't')
            pack_text(pk, res, r, C_H + 5);
}

static void pack_unvisited(msgpack_packer *pk, const PGresult *res, int row, int64_t red_after)
{
    (void)red_after;
    msgpack_pack_map(pk, 4);
    rowpack_str(pk, "id");
    msgpack_pack_int64(pk, strtoll(PQgetvalue(res, row, C_U), NULL, 10));
    rowpack_str(pk, "name");
    pack_text(pk, res, row, C_U + 1);
    rowpack_str(pk, "township");
    pack_text(pk, res, row, C_U + 2);
    rowpack_str(pk, "last_visit");
    pack_text_or_nil(pk, res, row, C_U + 3);
}

static void pack_milestone(msgpack_packer *pk, const PGresult *res, int row, int64_t red_after)
{
    odrow_pack_milestone(pk, res, row, C_M, red_after);
}

static void pack_problem(msgpack_packer *pk, const PGresult *res, int row, int64_t red_after)
{
    odrow_pack_problem(pk, res, row, C_P, red_after);
}

/* One list: {items: the first `limit` rows of section sec, more: whether
 * the database had more}. */
static void pack_list(msgpack_packer *pk, const PGresult *res, char sec, const todo_ctx *c,
                      void (*pack)(msgpack_packer *, const PGresult *, int, int64_t))
{
    int rows = PQntuples(res);
    int64_t n = 0;
    for (int r = 0; r < rows; r++)
        n += PQgetvalue(res, r, C_SEC)[0] == sec;
    int64_t shown = n > c->limit ? c->limit : n;
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)shown);
    int64_t k = 0;
    for (int r = 0; r < rows && k < shown; r++) {
        if (PQgetvalue(res, r, C_SEC)[0] != sec)
            continue;
        pack(pk, res, r, c->red_after);
        k++;
    }
    rowpack_str(pk, "more");
    if (n > shown)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void todo_done(request *req, const PGresult *res, void *arg)
{
    todo_ctx c = *(todo_ctx *)arg;
    free(arg);
    int h = -1;
    for (int r = 0; r < PQntuples(res) && h < 0; r++)
        if (strcmp(PQgetvalue(res, r, C_SEC), "h") == 0)
            h = r;
    if (h < 0 || PQgetlength(res, h, C_H + 6) != 10) {
        rowpack_reply_bad_result(req, st_todo.name, "no header row");
        return;
    }
    bool staff = strcmp(PQgetvalue(res, h, C_H), "township_staff") == 0;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 10);
    rowpack_str(pk, "role");
    pack_text(pk, res, h, C_H);
    rowpack_str(pk, "today");
    pack_text(pk, res, h, C_H + 6);
    rowpack_str(pk, "month");
    msgpack_pack_str_with_body(pk, PQgetvalue(res, h, C_H + 6), 7);   /* "YYYY-MM" */
    rowpack_str(pk, "within_days");
    if (staff)
        msgpack_pack_int64(pk, c.within);
    else
        msgpack_pack_nil(pk);
    rowpack_str(pk, "townships");
    pack_townships(pk, res);
    rowpack_str(pk, "official");
    pack_ref(pk, res, h, C_H + 1);
    rowpack_str(pk, "unit");
    pack_ref(pk, res, h, C_H + 3);
    rowpack_str(pk, "unvisited");
    if (staff)
        pack_list(pk, res, 'u', &c, pack_unvisited);
    else
        msgpack_pack_nil(pk);
    rowpack_str(pk, "problems");
    pack_list(pk, res, 'p', &c, pack_problem);
    rowpack_str(pk, "milestones");
    if (staff)
        msgpack_pack_nil(pk);
    else
        pack_list(pk, res, 'm', &c, pack_milestone);
    req_result_end(req);
}

static void todo_mine(request *req, const margs *a)
{
    const config *cfg = &req_server(req)->cfg;
    todo_ctx *c = req_alloc(req, sizeof *c);
    if (c == NULL)
        return;
    c->limit = margs_int(a, "limit", cfg->page_limit_default);
    c->within = margs_int(a, "within_days", cfg->due_soon_days);
    c->red_after = cfg->overdue_red_after_days;
    char within[24];
    snprintf(within, sizeof within, "%" PRId64, c->within);
    const char *extra[] = {within};
    mstmt_query(req, &st_todo, a, extra, todo_done, c, free);
}

static const method_impl todo_methods[] = {
    {"todo.mine", .fn = todo_mine},
    {NULL},
};

static mstmt *const todo_stmts[] = {&st_todo, NULL};

const method_module todo_module = {
    .name = "todo",
    .methods = todo_methods,
    .stmts = todo_stmts,
};
