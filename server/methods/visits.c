/*
 * visits.c: coverage.visits, reporting-cycle completeness (proto/PROTOCOL.md
 * section 6, "coverage.visits"): per township of the caller's scope, how
 * many enterprises were visited in the reporting cycle, how many were not,
 * and the first `limit` of those not visited.
 *
 * One statement, the stored function bb_visits of sql/021_visits.sql,
 * decides everything that needs the database (the cycle's first and last
 * days, the townships in scope, the rule of a visit: bb_visit_state, which
 * todo.mine and the workbook's 走访完成情况 sheet share). What is left here
 * is the server's setting visit_cycle_months and packing the rows: the
 * cycle, then a map per township with its list of not visited.
 *
 * The day counted up to is `on`, today (the server's: :_today, the
 * configured time_zone, fake_now in tests) when absent, so the cycle
 * follows the server's clock.
 * Not for: the rule itself (sql/021), the workbook's sheet
 * (report_visits.c), the CLI's view (client/cli_visits.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "methods.h"
#include "rowpack.h"
#include "server.h"

/* The columns of bb_visits (sql/021_visits.sql says which row fills
 * which). */
enum {
    C_SEC, C_START, C_END, C_TID, C_TNAME, C_ENTERPRISES, C_VISITED, C_UID, C_UNAME, C_ULAST,
    C_NCOLS
};

static const rp_col visits_cols[C_NCOLS] = {
    {"sec", RP_TEXT},      {"c_start", RP_TEXT},       {"c_end", RP_TEXT},
    {"t_id", RP_INT},      {"t_name", RP_TEXT},        {"t_enterprises", RP_INT},
    {"t_visited", RP_INT}, {"u_id", RP_INT},           {"u_name", RP_TEXT},
    {"u_last_visit", RP_TEXT},
};

static const char *const visits_extras[] = {"_months", NULL};

/* `limit` rows per township at most: the township's counts say whether
 * there are more, so nothing more is asked. */
static mstmt st_visits = {
    .name = "coverage_visits",
    .sql = "SELECT * FROM bb_visits(p_scope => :_scope::bigint, p_township => :township::text,"
           " p_on => :on::date, p_months => :_months::int, p_limit => :limit::int)",
    .cols = visits_cols, .ncols = C_NCOLS, .extras = visits_extras};

typedef struct visits_ctx {
    int64_t months;
    char on[11];   /* "YYYY-MM-DD": the argument, copied (margs ends with the handler) */
} visits_ctx;

static void pack_cell(msgpack_packer *pk, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        msgpack_pack_nil(pk);
    else
        msgpack_pack_str_with_body(pk, PQgetvalue(res, row, col),
                                   (size_t)PQgetlength(res, row, col));
}

static int64_t int_cell(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static char sec_of(const PGresult *res, int row)
{
    return PQgetvalue(res, row, C_SEC)[0];
}

/* One township: its 't' row t and its 'u' rows, which start at *u (both
 * sections are in township id order, so one pass over the 'u' rows serves
 * every township; *u ends past this township's). */
static void pack_township(msgpack_packer *pk, const PGresult *res, int t, int *u)
{
    int rows = PQntuples(res);
    int64_t tid = int_cell(res, t, C_TID);
    while (*u < rows && int_cell(res, *u, C_TID) < tid)
        ++*u;
    int first = *u;
    while (*u < rows && int_cell(res, *u, C_TID) == tid)
        ++*u;
    int64_t n = int_cell(res, t, C_ENTERPRISES), v = int_cell(res, t, C_VISITED);
    int shown = *u - first;
    msgpack_pack_map(pk, 6);
    rowpack_str(pk, "township");
    pack_cell(pk, res, t, C_TNAME);
    rowpack_str(pk, "enterprises");
    msgpack_pack_int64(pk, n);
    rowpack_str(pk, "visited");
    msgpack_pack_int64(pk, v);
    rowpack_str(pk, "not_visited");
    msgpack_pack_int64(pk, n - v);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)shown);
    for (int r = first; r < *u; r++) {
        msgpack_pack_map(pk, 3);
        rowpack_str(pk, "id");
        msgpack_pack_int64(pk, int_cell(res, r, C_UID));
        rowpack_str(pk, "name");
        pack_cell(pk, res, r, C_UNAME);
        rowpack_str(pk, "last_visit");
        pack_cell(pk, res, r, C_ULAST);
    }
    rowpack_str(pk, "more");
    if (n - v > shown)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void visits_done(request *req, const PGresult *res, void *arg)
{
    visits_ctx c = *(visits_ctx *)arg;
    free(arg);
    int rows = PQntuples(res);
    if (rows < 1 || sec_of(res, 0) != 'c') {
        rowpack_reply_bad_result(req, st_visits.name, "no cycle row");
        return;
    }
    uint32_t nt = 0;
    int u = rows;   /* the first 'u' row */
    for (int r = 1; r < rows; r++) {
        if (sec_of(res, r) == 't')
            nt++;
        else if (u == rows)
            u = r;
    }
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 5);
    rowpack_str(pk, "on");
    rowpack_str(pk, c.on);
    rowpack_str(pk, "cycle_months");
    msgpack_pack_int64(pk, c.months);
    rowpack_str(pk, "cycle_start");
    pack_cell(pk, res, 0, C_START);
    rowpack_str(pk, "cycle_end");
    pack_cell(pk, res, 0, C_END);
    rowpack_str(pk, "townships");
    msgpack_pack_array(pk, nt);
    for (int r = 1; r < rows; r++)
        if (sec_of(res, r) == 't')
            pack_township(pk, res, r, &u);
    req_result_end(req);
}

static void coverage_visits(request *req, const margs *a)
{
    const config *cfg = &req_server(req)->cfg;
    visits_ctx *c = req_alloc(req, sizeof *c);
    if (c == NULL)
        return;
    c->months = cfg->visit_cycle_months;
    const bb_val *on = margs_get(a, "on");   /* BB_A_TODAY: set, today when absent */
    snprintf(c->on, sizeof c->on, "%.*s", (int)on->len, on->s ? on->s : "");
    char months[24];
    snprintf(months, sizeof months, "%" PRId64, c->months);
    const char *extra[] = {months};
    mstmt_query(req, &st_visits, a, extra, visits_done, c, free);
}

static const method_impl visits_methods[] = {
    {"coverage.visits", .fn = coverage_visits},
    {NULL},
};

static mstmt *const visits_stmts[] = {&st_visits, NULL};

const method_module visits_module = {
    .name = "visits",
    .methods = visits_methods,
    .stmts = visits_stmts,
};
