/*
 * report_visits.c: the report 走访完成情况 of an export run (report_visits.h):
 * for the reporting cycle that holds the report date, a row per township
 * with its enterprises (not 注销), how many were visited, how many not,
 * and the first REPORT_VISITS_NAMES_MAX of those not visited by name, one
 * per line of the cell (never visited first, then the longest unvisited),
 * then the total.
 *
 * The figures are coverage.visits' for a caller who sees every township:
 * the one statement below calls bb_visits (sql/021_visits.sql), whose rule
 * todo.mine shares, so the sheet, the page, the method and the to-do list
 * agree whatever the cycle (visit_cycle_months). Its result is bounded by
 * the townships (REPORT_VISITS_NAMES_MAX names each), so it is read whole.
 *
 * Not for: the calendar month's own sheets 乡镇汇总 and 本月未走访
 * (report.c), rendering (the sinks), the rule of a visit (sql/021).
 */
#include "report_visits.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One line of the 未走访企业 cell: a name (at most 100 characters, 4 bytes
 * each) and its last visit, with room to spare. */
#define REPORT_VISITS_LINE_BYTES 512
#define REPORT_VISITS_CELL_BYTES (REPORT_VISITS_NAMES_MAX * REPORT_VISITS_LINE_BYTES + 128)

/* $1 the report date, $2 the cycle's months, $3 names per township: every
 * township (no scope, no filter), 't' rows then 'u' rows, both in township
 * id order (sql/021 says which row fills which column). */
static const char sql_visits[] =
    "SELECT sec, c_start, c_end, t_id, t_name, t_enterprises, t_visited, u_name, u_last_visit"
    "  FROM bb_visits(p_scope => NULL, p_township => NULL, p_on => $1::date,"
    "                 p_months => $2::int, p_limit => $3::int)";

enum { V_SEC, V_START, V_END, V_TID, V_TNAME, V_N, V_VISITED, V_UNAME, V_ULAST, V_NCOLS };

static int64_t int_at(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static rcell text_cell(const char *text)
{
    rcell x = {text, 0.0, LIGHT_NONE};
    return x;
}

static rcell num_cell(int64_t v)
{
    rcell x = {NULL, (double)v, LIGHT_NONE};
    return x;
}

/* The cell of the 'u' rows [first, end): a line per enterprise, and one
 * that says how many more there are when not_visited exceeds them. */
static const char *names_text(const PGresult *r, int first, int end, int64_t not_visited,
                              char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int u = first; u < end; u++) {
        const char *last = PQgetisnull(r, u, V_ULAST) ? NULL : PQgetvalue(r, u, V_ULAST);
        int w = last ? snprintf(out + used, cap - used, "%s%s（最近走访 %s）", used ? "\n" : "",
                                PQgetvalue(r, u, V_UNAME), last)
                     : snprintf(out + used, cap - used, "%s%s（从未走访）", used ? "\n" : "",
                                PQgetvalue(r, u, V_UNAME));
        if (w < 0 || (size_t)w >= cap - used) {
            out[used] = '\0';   /* cut at a whole line, never mid-character */
            break;
        }
        used += (size_t)w;
    }
    if (not_visited > end - first && used < cap)
        snprintf(out + used, cap - used, "%s……另有 %" PRId64 " 家", used ? "\n" : "",
                 not_visited - (end - first));
    return out[0] ? out : NULL;
}

int report_visits_write(PGconn *conn, const report_params *p, sink *k)
{
    static const rcol cols[] = {
        {"乡镇园区", COL_TEXT, 18}, {"走访周期", COL_TEXT, 26}, {"企业数", COL_INT, 8},
        {"已走访", COL_INT, 8},     {"未走访", COL_INT, 8},     {"未走访企业", COL_TEXT, 50},
    };
    if (p->cancelled != NULL && p->cancelled()) {
        sink_err(k, "report visits: the server is shutting down");
        return -1;
    }
    char months[REPORT_NUM_TEXT], names_max[REPORT_NUM_TEXT];
    snprintf(months, sizeof months, "%u", p->visit_cycle_months ? p->visit_cycle_months : 1u);
    snprintf(names_max, sizeof names_max, "%d", REPORT_VISITS_NAMES_MAX);
    const char *params[3] = {p->today, months, names_max};
    PGresult *r = PQexecParams(conn, sql_visits, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQnfields(r) != V_NCOLS || PQntuples(r) < 1 ||
        PQgetvalue(r, 0, V_SEC)[0] != 'c') {
        sink_err(k, "report visits: %s",
                 PQresultStatus(r) != PGRES_TUPLES_OK
                     ? (r ? PQresultErrorMessage(r) : PQerrorMessage(conn))
                     : "unexpected result");
        PQclear(r);
        return -1;
    }
    int rc = -1;
    char *cell = malloc(REPORT_VISITS_CELL_BYTES);
    if (cell == NULL) {
        sink_err(k, "report visits: out of memory");
        goto done;
    }
    char cycle[96], note[768];
    snprintf(cycle, sizeof cycle, "%s 至 %s", PQgetvalue(r, 0, V_START), PQgetvalue(r, 0, V_END));
    snprintf(note, sizeof note,
             "走访周期 %s（visit_cycle_months = %s 个月一期，从 1 月 1 日起算），统计到 %s。"
             "未注销的企业中，本周期内（至报告日期）有走访记录的为已走访，不含已撤回的记录。"
             "未走访企业每个乡镇至多列出 %d 家：从未走访的在前，其次是最久未走访的。",
             cycle, months, p->today, REPORT_VISITS_NAMES_MAX);
    if (k->section(k, "走访完成情况", "走访完成情况：本走访周期各乡镇已走访、未走访的企业",
                   note) != 0 ||
        k->table(k, cols, 6, false, true) != 0)
        goto done;
    int rows = PQntuples(r);
    int u = 1;   /* the next 'u' row: past every 't' row */
    while (u < rows && PQgetvalue(r, u, V_SEC)[0] == 't')
        u++;
    int64_t all_n = 0, all_visited = 0;
    for (int t = 1; t < rows && PQgetvalue(r, t, V_SEC)[0] == 't'; t++) {
        int64_t tid = int_at(r, t, V_TID), n = int_at(r, t, V_N), v = int_at(r, t, V_VISITED);
        while (u < rows && int_at(r, u, V_TID) < tid)
            u++;
        int first = u;
        while (u < rows && int_at(r, u, V_TID) == tid)
            u++;
        rcell cells[6] = {
            text_cell(PQgetvalue(r, t, V_TNAME)), text_cell(cycle), num_cell(n), num_cell(v),
            num_cell(n - v), text_cell(names_text(r, first, u, n - v, cell,
                                                  REPORT_VISITS_CELL_BYTES)),
        };
        if (k->row(k, cells, ROW_PLAIN) != 0)
            goto done;
        all_n += n;
        all_visited += v;
    }
    rcell total[6] = {
        text_cell("合计"), text_cell(cycle), num_cell(all_n), num_cell(all_visited),
        num_cell(all_n - all_visited), text_cell(NULL),
    };
    if (k->row(k, total, ROW_TOTAL) != 0)
        goto done;
    rc = k->table_end(k, -1);
done:
    free(cell);
    PQclear(r);
    return rc;
}
