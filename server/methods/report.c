/*
 * report.c: the reports leaders read (issue 6), written by the export run:
 * their queries and what each one shows, handed to a sink (report_sink.h):
 * the workbook (report_xlsx.c) and the page (report_html.c) render the
 * same calls, so the two cannot drift apart.
 *
 * For: the aggregate SELECTs of the reports (parameterized, text next to
 * the code that runs them; coverage gaps come from the stored function
 * bb_coverage_gaps and the overdue lists follow the rules of
 * sql/011_overdue.sql, set based, so the export agrees with coverage.gaps
 * and overdue.*), and the sections, charts, tables and rows they make.
 * The lists on the page: the statements take a row limit (the sink's), and
 * the page learns each list's total from a count the reports have anyway.
 *
 * Memory: the long lists (enterprises not visited this month, overdue
 * items, coverage gaps) are read in libpq's single-row mode and handed on
 * row by row. Only results bounded by directories (townships, stages x
 * clusters, officials and units) are read whole.
 *
 * Not for: rendering (report_xlsx.c, report_html.c), the transaction
 * (export_worker.c opens REPEATABLE READ READ ONLY and calls both writers
 * on its own thread and connection: these are blocking), file names,
 * fsync, hashing and renaming (export_files.c), nor the CSV files.
 *
 * Sheets (and page sections), in order: 说明 (the date and every
 * definition used), 乡镇汇总, 本月未走访, 走访完成情况 (report_visits.c:
 * the reporting cycle's), 项目阶段, 超期督办, 超期明细, 督办单 and
 * 未答复督办单 (the notices of sql/023 and sql/024), 缺口汇总, 包保缺口.
 * Money: yuan in the database, shown as 万元 (two decimals) and 亿元 (four
 * decimals), numbers in cells, never text.
 */
#include "report_sink.h"
#include "report_visits.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label columns in 乡镇汇总: the most frequent labels of enterprises that
 * are not deregistered (labels are free text; a sheet cannot grow a column
 * per label). */
#define REPORT_LABEL_COLUMNS_MAX 12
/* Bars of the "overdue by unit" chart (the units with most overdue items). */
#define REPORT_CHART_UNITS_MAX 15
/* p_limit of the stored list functions: every row. */
#define REPORT_ALL_ROWS "2147483647"
#define REPORT_YUAN_PER_WAN 10000.0
#define REPORT_YUAN_PER_YI 100000000.0
#define REPORT_PEOPLE_TEXT 1024

/* What every report needs: the connection (borrowed, inside the caller's
 * transaction), the parameters, and the sink. */
typedef struct rctx {
    PGconn *conn;
    const report_params *p;
    sink *k;
    char red_after[REPORT_NUM_TEXT];
    char list_limit[REPORT_NUM_TEXT];   /* k->list_limit as a parameter; "" = all */
    int64_t missing_total;              /* from 乡镇汇总, for 本月未走访 */
    int64_t gaps_total;                 /* from 缺口汇总, for 包保缺口 */
    int64_t notices_open;               /* from 督办单, for 未答复督办单 */
} rctx;

void sink_err(sink *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->err, k->errlen, fmt, ap);
    va_end(ap);
    /* libpq's messages end in a newline: one line in the run's error. */
    size_t n = strlen(k->err);
    while (n > 0 && (k->err[n - 1] == '\n' || k->err[n - 1] == ' '))
        k->err[--n] = '\0';
}

/* ---- the database ---- */

/* A statement whose result is small (bounded by a directory): the whole
 * result, or NULL with the message in err. The caller PQclears it. */
static bool stop_asked(rctx *c, const char *what)
{
    if (c->p->cancelled == NULL || !c->p->cancelled())
        return false;
    sink_err(c->k, "report %s: the server is shutting down", what);
    return true;
}

static PGresult *query_all(rctx *c, const char *what, const char *sql, int n,
                           const char *const *params)
{
    if (stop_asked(c, what))
        return NULL;
    PGresult *r = PQexecParams(c->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        sink_err(c->k, "report %s: %s", what,
                r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
        PQclear(r);
        return NULL;
    }
    return r;
}

typedef int (*row_fn)(rctx *c, const PGresult *r, void *ud);

/* A statement whose rows grow with the data: read one row at a time
 * (single-row mode), fn called per row. On any failure the rest of the
 * result is drained so the connection stays usable for the caller's
 * rollback. 0 or -1 (err set). */
static int query_each(rctx *c, const char *what, const char *sql, int n,
                      const char *const *params, row_fn fn, void *ud)
{
    if (stop_asked(c, what))
        return -1;
    if (!PQsendQueryParams(c->conn, sql, n, NULL, params, NULL, NULL, 0)) {
        sink_err(c->k, "report %s: %s", what, PQerrorMessage(c->conn));
        return -1;
    }
    int rc = 0;
    if (!PQsetSingleRowMode(c->conn)) {
        sink_err(c->k, "report %s: single-row mode refused", what);
        rc = -1;
    }
    PGresult *r;
    while ((r = PQgetResult(c->conn)) != NULL) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_SINGLE_TUPLE) {
            if (rc == 0 && stop_asked(c, what)) {
                /* Shutdown: the server stops sending, the drain is short. */
                PGcancel *cc = PQgetCancel(c->conn);
                if (cc != NULL) {
                    char eb[256];
                    (void)PQcancel(cc, eb, sizeof eb);
                    PQfreeCancel(cc);
                }
                rc = -1;
            } else if (rc == 0 && fn(c, r, ud) != 0) {
                rc = -1;
            }
        } else if (st != PGRES_TUPLES_OK && rc == 0) {
            sink_err(c->k, "report %s: %s", what, PQresultErrorMessage(r));
            rc = -1;
        }
        PQclear(r);
    }
    return rc;
}

static const char *val(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* A numeric column (counts, yuan sums as numeric text) as a double: the
 * reports only show it. NULL reads as 0. */
static double num(const PGresult *r, int row, int col)
{
    const char *v = val(r, row, col);
    return v ? strtod(v, NULL) : 0.0;
}

static rcell tcell(const char *text)
{
    rcell x = {text, 0.0, LIGHT_NONE};
    return x;
}

static rcell ncell(double v)
{
    rcell x = {NULL, v, LIGHT_NONE};
    return x;
}

static rcell lcell(light lt)
{
    rcell x = {NULL, 0.0, lt};
    return x;
}

static light light_of(long long days_overdue, unsigned red_after)
{
    if (days_overdue > (long long)red_after)
        return LIGHT_RED;
    if (days_overdue >= 1)
        return LIGHT_YELLOW;
    return LIGHT_GREEN;
}

/* The people lists of bb_overdue_* ("id<TAB>role<TAB>name" lines) as
 * "name（role）、name（role）". */
static const char *people_text(const char *lines, char *out, size_t outlen)
{
    out[0] = '\0';
    if (lines == NULL)
        return out;
    size_t used = 0;
    const char *p = lines;
    while (*p != '\0' && used + 1 < outlen) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *t1 = memchr(p, '\t', len);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
        if (t1 != NULL && t2 != NULL) {
            int w = snprintf(out + used, outlen - used, "%s%.*s（%.*s）", used ? "、" : "",
                             (int)(len - (size_t)(t2 + 1 - p)), t2 + 1,
                             (int)(t2 - t1 - 1), t1 + 1);
            if (w < 0 || (size_t)w >= outlen - used) {
                out[used] = '\0';   /* cut at a whole entry, never mid-character */
                break;
            }
            used += (size_t)w;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return out;
}

/* ---- the reports ---- */

static int rep_about(rctx *c)
{
    static const rcol cols[] = {{"项目", COL_TEXT, 16}, {"说明", COL_TEXT, 100}};
    char lights[256];
    snprintf(lights, sizeof lights,
             "超期天数 = 报告日期 − 计划日期（期限）。超期 1–%u 天黄灯，超过 %u 天红灯"
             "（overdue_red_after_days = %u），未超期绿灯。",
             c->p->red_after_days, c->p->red_after_days, c->p->red_after_days);
    const char *const rows[][2] = {
        {"报告日期", c->p->today},
        {"生成时间", c->p->generated_at ? c->p->generated_at : ""},
        {"数据快照", "本工作簿、同文件夹的网页报告和 CSV 文件取自同一个数据库快照"
                     "（一个 REPEATABLE READ 事务），数字彼此一致。"},
        {"金额单位", "数据库以元为单位；报告中产值、投资以万元（两位小数）和亿元（四位小数）显示。"},
        {"本月、本年", "本月为报告日期所在月的 1 日至报告日期；本年为 1 月 1 日至报告日期。"},
        {"产值口径", "每家企业每月取该月最后一次填有产值的走访记录；本年累计为本年各月之和"
                     "（含后来注销的企业）。"},
        {"从业、缺工", "每家未注销企业最近一次走访记录（报告日期及以前）的从业人数、缺工人数。"},
        {"本月未走访", "未注销、且本月没有任何走访记录的企业。"},
        {"走访完成情况", "走访周期为 visit_cycle_months 个自然月（默认 1 即每月，3 即每季度），"
                         "从 1 月 1 日起算；未注销的企业在报告日期所在周期内（至报告日期）"
                         "有未撤回的走访记录即为已走访。"},
        {"更正与撤回", "走访记录按更正后的内容计算；已撤回的走访记录不计入任何数字，"
                       "也不算走访。"},
        {"标签列", "未注销企业中出现最多的标签（至多 12 个），按企业数从多到少排列。"},
        {"超期", "项目节点：计划日期已过且无实际日期（不含终止、竣工的项目）；"
                 "问题：期限已过且未经企业确认办结。"},
        {"红黄绿灯", lights},
        {"责任人、责任单位", "报告日期当天有效的包保关系：包保市领导、联络员、承办人（干部）；"
                             "责任单位、牵头单位、承办单位（单位）。一项工作计入其每一位责任人和每一个责任单位。"},
        {"督办单", "系统每天按红黄绿灯规则向责任干部和责任单位下发督办单（提醒、黄牌、红牌，红灯持续后升级到包保市领导）。"
                   "督办单表按收件单位统计截至报告日期下发的督办单；未答复督办单表列出尚未答复的全部督办单。"},
        {"时间", "本工作簿和同文件夹的 CSV 文件中的时间均为本地时间（time_zone 设置的时区），格式 YYYY-MM-DD HH:MM:SS。"},
        {"包保缺口", "重点企业（有一个标签在基础数据中标为重点，未注销）和重点项目（省级、市级重点，"
                     "未终止、未竣工）在报告日期缺少的包保角色（包保市领导、责任单位、联络员）。"},
    };
    sink *k = c->k;
    if (k->section(k, "说明", "说明", NULL) != 0 || k->table(k, cols, 2, false, false) != 0)
        return -1;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rcell cells[2] = {tcell(rows[i][0]), tcell(rows[i][1])};
        if (k->row(k, cells, ROW_PLAIN) != 0)
            return -1;
    }
    return k->table_end(k, -1);
}

/* 乡镇汇总. $1 today. One row per township (all of them, in id order),
 * then the total (GROUPING SETS). Per enterprise, two walks of
 * status_report_enterprise_idx (enterprise_id, report_date DESC, id DESC),
 * so the cost follows the enterprises and this year's reports, never a
 * sort of every report: output value = per month the last report of that
 * month with a value, summed this month and this year; the last report up
 * to today gives employees and shortage, and tells whether the enterprise
 * was visited this month (its date is in this month). Withdrawn reports
 * (sql/020_corrections.sql) count nowhere, here and in 本月未走访. */
static const char sql_township[] =
    "SELECT t.id, t.name, t.kind, count(e.id),"
    "       count(e.id) FILTER (WHERE e.status = '在营'),"
    "       count(e.id) FILTER (WHERE e.status = '半停产'),"
    "       count(e.id) FILTER (WHERE e.status = '停产'),"
    "       count(e.id) FILTER (WHERE e.status = '筹建'),"
    "       count(e.id) FILTER (WHERE e.status = '注销'),"
    "       coalesce(sum(o.m), 0), coalesce(sum(o.y), 0),"
    "       coalesce(sum(l.employees) FILTER (WHERE e.status <> '注销'), 0),"
    "       coalesce(sum(l.labour_shortage) FILTER (WHERE e.status <> '注销'), 0),"
    "       count(e.id) FILTER (WHERE e.status <> '注销' AND l.visited),"
    "       count(e.id) FILTER (WHERE e.status <> '注销' AND l.visited IS NOT TRUE),"
    "       grouping(t.id)"
    "  FROM township t"
    "  LEFT JOIN enterprise e ON e.township_id = t.id"
    "  LEFT JOIN LATERAL ("
    "       SELECT sum(x.output_value)"
    "                  FILTER (WHERE x.report_date >= date_trunc('month', $1::date)) AS m,"
    "              sum(x.output_value) AS y"
    "         FROM (SELECT DISTINCT ON (date_trunc('month', s.report_date))"
    "                      s.report_date, s.output_value"
    "                 FROM status_report s"
    "                WHERE s.enterprise_id = e.id AND s.output_value IS NOT NULL"
    "                  AND s.withdrawn_at IS NULL"
    "                  AND s.report_date >= date_trunc('year', $1::date)::date"
    "                  AND s.report_date <= $1::date"
    "                ORDER BY date_trunc('month', s.report_date), s.report_date DESC, s.id DESC) x"
    "       ) o ON true"
    "  LEFT JOIN LATERAL ("
    "       SELECT s.employees, s.labour_shortage,"
    "              s.report_date >= date_trunc('month', $1::date)::date AS visited"
    "         FROM status_report s"
    "        WHERE s.enterprise_id = e.id AND s.report_date <= $1::date"
    "          AND s.withdrawn_at IS NULL"
    "        ORDER BY s.report_date DESC, s.id DESC LIMIT 1"
    "       ) l ON true"
    " GROUP BY GROUPING SETS ((t.id, t.name, t.kind), ())"
    " ORDER BY grouping(t.id), t.id";

/* The most frequent labels ($1 at most; rank 1 = most enterprises, ties by
 * name) and their count per township (NULL township = all). */
static const char sql_labels[] =
    "WITH top AS ("
    "  SELECT l.v, row_number() OVER (ORDER BY count(*) DESC, l.v) AS r"
    "    FROM enterprise e CROSS JOIN LATERAL unnest(e.labels) AS l(v)"
    "   WHERE e.status <> '注销'"
    "   GROUP BY l.v ORDER BY count(*) DESC, l.v LIMIT $1::int)"
    " SELECT top.r, top.v, e.township_id, count(*)"
    "   FROM enterprise e CROSS JOIN LATERAL unnest(e.labels) AS l(v)"
    "   JOIN top ON top.v = l.v"
    "  WHERE e.status <> '注销'"
    "  GROUP BY GROUPING SETS ((top.r, top.v, e.township_id), (top.r, top.v))"
    "  ORDER BY top.r, e.township_id NULLS LAST";

enum {
    TS_ID, TS_NAME, TS_KIND, TS_TOTAL, TS_S1, TS_S2, TS_S3, TS_S4, TS_S5, TS_OUT_M, TS_OUT_Y,
    TS_EMP, TS_SHORT, TS_VISITED, TS_MISSING, TS_GROUPING, TS_NCOLS
};

static int rep_township(rctx *c)
{
    static const rcol head[] = {
        {"乡镇园区", COL_TEXT, 18}, {"类型", COL_TEXT, 6}, {"企业数", COL_INT, 8},
        {"在营", COL_INT, 7}, {"半停产", COL_INT, 7}, {"停产", COL_INT, 7},
        {"筹建", COL_INT, 7}, {"注销", COL_INT, 7},
    };
    static const rcol tail[] = {
        {"本月产值(万元)", COL_WAN, 14}, {"本年累计产值(万元)", COL_WAN, 16},
        {"从业人数", COL_INT, 10}, {"缺工人数", COL_INT, 10},
        {"本月已走访企业", COL_INT, 12}, {"本月未走访企业", COL_INT, 12},
    };
    enum { NHEAD = sizeof head / sizeof head[0], NTAIL = sizeof tail / sizeof tail[0] };
    _Static_assert(NHEAD + NTAIL + REPORT_LABEL_COLUMNS_MAX <= REPORT_COLUMNS_MAX,
                   "乡镇汇总 has more columns than a table may");
    sink *k = c->k;
    int rc = -1;
    char limit[REPORT_NUM_TEXT];
    snprintf(limit, sizeof limit, "%d", REPORT_LABEL_COLUMNS_MAX);
    const char *lp[1] = {limit};
    const char *tp[1] = {c->p->today};
    PGresult *lr = query_all(c, "labels", sql_labels, 1, lp);
    PGresult *tr = lr ? query_all(c, "townships", sql_township, 1, tp) : NULL;
    double *lab = NULL, *bars = NULL;
    const char **names = NULL;
    if (tr == NULL || PQnfields(tr) != TS_NCOLS)
        goto done;

    /* The label columns: one per rank, the all-townships row gives its
     * name; counts[row of tr][rank-1]. */
    int nlab = 0;
    rcol cols[REPORT_COLUMNS_MAX];
    const char *lab_names[REPORT_LABEL_COLUMNS_MAX];
    for (int i = 0; i < PQntuples(lr); i++) {
        long r = strtol(PQgetvalue(lr, i, 0), NULL, 10);
        if (PQgetisnull(lr, i, 2) && r >= 1 && r <= REPORT_LABEL_COLUMNS_MAX && r > nlab) {
            lab_names[r - 1] = PQgetvalue(lr, i, 1);
            nlab = (int)r;
        }
    }
    int nt = PQntuples(tr);
    lab = calloc((size_t)nt * REPORT_LABEL_COLUMNS_MAX + 1, sizeof *lab);
    bars = calloc((size_t)nt * 4 + 1, sizeof *bars);
    names = calloc((size_t)nt + 1, sizeof *names);
    if (lab == NULL || bars == NULL || names == NULL) {
        sink_err(k, "report townships: out of memory");
        goto done;
    }
    for (int i = 0; i < PQntuples(lr); i++) {
        long r = strtol(PQgetvalue(lr, i, 0), NULL, 10);
        if (r < 1 || r > nlab)
            continue;
        for (int t = 0; t < nt; t++) {
            bool total_row = PQgetvalue(tr, t, TS_GROUPING)[0] == '1';
            bool match = PQgetisnull(lr, i, 2)
                             ? total_row
                             : !total_row && strcmp(PQgetvalue(tr, t, TS_ID),
                                                    PQgetvalue(lr, i, 2)) == 0;
            if (match)
                lab[(size_t)t * REPORT_LABEL_COLUMNS_MAX + (size_t)(r - 1)] = num(lr, i, 3);
        }
    }

    /* Chart: enterprises by township, stacked by status (注销 left out). */
    int nbars = 0;
    for (int t = 0; t < nt; t++) {
        if (PQgetvalue(tr, t, TS_GROUPING)[0] == '1')
            continue;
        names[nbars] = PQgetvalue(tr, t, TS_NAME);
        for (int s = 0; s < 4; s++)
            bars[(size_t)nbars * 4 + (size_t)s] = num(tr, t, TS_S1 + s);
        nbars++;
    }
    static const char *const st_names[] = {"在营", "半停产", "停产", "筹建"};
    static const char *const st_colours[] = {"#2e7d32", "#f9a825", "#c62828", "#1565c0"};
    chart ch1 = {"各乡镇园区企业数（按经营状态，不含注销）", "家", 0, nbars, names,
                 4, st_names, st_colours, bars};
    static const char *const out_names[] = {"本月产值"};
    static const char *const out_colours[] = {"#1565c0"};

    char note[256];
    snprintf(note, sizeof note, "截至 %s。金额单位：万元。标签列为未注销企业中最常见的 %d 个标签。",
             c->p->today, REPORT_LABEL_COLUMNS_MAX);
    if (k->section(k, "乡镇汇总", "乡镇汇总：企业、产值、用工与走访", note) != 0 ||
        k->chart(k, &ch1) != 0)
        goto done;
    /* Second chart: output value this month by township (万元); bars is
     * reused, ch1 has been drawn. */
    for (int t = 0, b = 0; t < nt; t++) {
        if (PQgetvalue(tr, t, TS_GROUPING)[0] == '1')
            continue;
        bars[b++] = num(tr, t, TS_OUT_M) / REPORT_YUAN_PER_WAN;
    }
    chart ch2 = {"各乡镇园区本月产值", "万元", 2, nbars, names, 1, out_names, out_colours, bars};
    if (k->chart(k, &ch2) != 0)
        goto done;

    int ncols = 0;
    for (int i = 0; i < NHEAD; i++)
        cols[ncols++] = head[i];
    for (int i = 0; i < nlab; i++) {
        rcol lc = {lab_names[i], COL_INT, 10};
        cols[ncols++] = lc;
    }
    for (int i = 0; i < NTAIL; i++)
        cols[ncols++] = tail[i];
    if (k->table(k, cols, ncols, false, true) != 0)
        goto done;
    for (int t = 0; t < nt; t++) {
        bool total_row = PQgetvalue(tr, t, TS_GROUPING)[0] == '1';
        rcell cells[REPORT_COLUMNS_MAX];
        int n = 0;
        cells[n++] = tcell(total_row ? "合计" : PQgetvalue(tr, t, TS_NAME));
        cells[n++] = tcell(total_row ? NULL : PQgetvalue(tr, t, TS_KIND));
        for (int col = TS_TOTAL; col <= TS_S5; col++)
            cells[n++] = ncell(num(tr, t, col));
        for (int i = 0; i < nlab; i++)
            cells[n++] = ncell(lab[(size_t)t * REPORT_LABEL_COLUMNS_MAX + (size_t)i]);
        cells[n++] = ncell(num(tr, t, TS_OUT_M) / REPORT_YUAN_PER_WAN);
        cells[n++] = ncell(num(tr, t, TS_OUT_Y) / REPORT_YUAN_PER_WAN);
        for (int col = TS_EMP; col <= TS_MISSING; col++)
            cells[n++] = ncell(num(tr, t, col));
        if (k->row(k, cells, total_row ? ROW_TOTAL : ROW_PLAIN) != 0)
            goto done;
        if (total_row)
            c->missing_total = (int64_t)num(tr, t, TS_MISSING);
    }
    rc = k->table_end(k, -1);
done:
    free(lab);
    free(bars);
    free(names);
    PQclear(tr);
    PQclear(lr);
    return rc;
}

/* 本月未走访: $1 today. Enterprises not deregistered without a report this
 * month, by township and id, with their last report before. */
static const char sql_missing[] =
    "SELECT t.name, e.id, e.name, e.credit_code, e.cluster, e.status,"
    "       (SELECT to_char(s.report_date, 'YYYY-MM-DD') FROM status_report s"
    "         WHERE s.enterprise_id = e.id AND s.report_date <= $1::date"
    "           AND s.withdrawn_at IS NULL"
    "         ORDER BY s.report_date DESC, s.id DESC LIMIT 1)"
    "  FROM enterprise e JOIN township t ON t.id = e.township_id"
    " WHERE e.status <> '注销'"
    "   AND NOT EXISTS (SELECT 1 FROM status_report s"
    "                    WHERE s.enterprise_id = e.id AND s.withdrawn_at IS NULL"
    "                      AND s.report_date >= date_trunc('month', $1::date)::date"
    "                      AND s.report_date <= $1::date)"
    " ORDER BY t.id, e.id"
    " LIMIT $2::bigint";   /* NULL: all */

static int missing_row(rctx *c, const PGresult *r, void *ud)
{
    (void)ud;
    const char *last = val(r, 0, 6);
    rcell cells[7] = {
        tcell(val(r, 0, 0)), ncell(num(r, 0, 1)), tcell(val(r, 0, 2)), tcell(val(r, 0, 3)),
        tcell(val(r, 0, 4)), tcell(val(r, 0, 5)), tcell(last ? last : "无记录"),
    };
    return c->k->row(c->k, cells, ROW_PLAIN);
}

static int rep_missing(rctx *c)
{
    static const rcol cols[] = {
        {"乡镇园区", COL_TEXT, 18}, {"企业编号", COL_INT, 9}, {"企业名称", COL_TEXT, 30},
        {"统一社会信用代码", COL_TEXT, 22}, {"产业集群", COL_TEXT, 10},
        {"经营状态", COL_TEXT, 9}, {"最近走访日期", COL_TEXT, 13},
    };
    sink *k = c->k;
    char note[160];
    snprintf(note, sizeof note, "未注销、且 %.7s 月内（至 %s）没有走访记录的企业。",
             c->p->today, c->p->today);
    const char *params[2] = {c->p->today, c->list_limit[0] ? c->list_limit : NULL};
    if (k->section(k, "本月未走访", "本月未走访企业", note) != 0 ||
        k->table(k, cols, 7, true, true) != 0 ||
        query_each(c, "not visited", sql_missing, 2, params, missing_row, NULL) != 0)
        return -1;
    return k->table_end(k, c->missing_total);
}

/* 项目阶段: every (stage, cluster) with projects, a subtotal per stage and
 * the total, stages in lifecycle order (暂停, 终止 last). */
static const char sql_projects[] =
    "SELECT p.stage, p.cluster, count(*), sum(p.planned_investment),"
    "       grouping(p.stage), grouping(p.cluster)"
    "  FROM project p"
    " GROUP BY GROUPING SETS ((p.stage, p.cluster), (p.stage), ())"
    " ORDER BY grouping(p.stage),"
    "          coalesce(bb_stage_rank(p.stage), CASE p.stage WHEN '暂停' THEN 9 ELSE 10 END),"
    "          grouping(p.cluster), p.cluster NULLS LAST";

static const char *const stage_names[] = {"信息收集", "研判", "洽谈", "签约", "注册",
                                          "开工", "投产", "竣工", "暂停", "终止"};
#define REPORT_NSTAGES ((int)(sizeof stage_names / sizeof stage_names[0]))

static int rep_projects(rctx *c)
{
    static const rcol cols[] = {
        {"阶段", COL_TEXT, 10}, {"产业集群", COL_TEXT, 12}, {"项目数", COL_INT, 8},
        {"计划投资(万元)", COL_WAN, 16}, {"计划投资(亿元)", COL_YI, 16},
    };
    static const char *const ser[] = {"计划投资"};
    static const char *const col_inv[] = {"#6a1b9a"};
    sink *k = c->k;
    PGresult *r = query_all(c, "projects", sql_projects, 0, NULL);
    if (r == NULL)
        return -1;
    int rc = -1;
    double inv[REPORT_NSTAGES] = {0};
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 4), "0") != 0 || strcmp(PQgetvalue(r, i, 5), "1") != 0)
            continue;
        for (int s = 0; s < REPORT_NSTAGES; s++)
            if (strcmp(PQgetvalue(r, i, 0), stage_names[s]) == 0)
                inv[s] = num(r, i, 3) / REPORT_YUAN_PER_YI;
    }
    chart ch = {"各阶段计划投资", "亿元", 2, REPORT_NSTAGES, stage_names, 1, ser, col_inv, inv};
    if (k->section(k, "项目阶段", "项目：按阶段和产业集群",
                   "计划投资以万元、亿元计。每个阶段先列各产业集群，再列小计；最后一行为全部项目合计。") != 0 ||
        k->chart(k, &ch) != 0 || k->table(k, cols, 5, false, true) != 0)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        bool all = strcmp(PQgetvalue(r, i, 4), "1") == 0;
        bool sub = !all && strcmp(PQgetvalue(r, i, 5), "1") == 0;
        const char *cluster = val(r, i, 1);
        double yuan = num(r, i, 3);
        rcell cells[5] = {
            tcell(all ? "合计" : PQgetvalue(r, i, 0)),
            tcell(all ? NULL : sub ? "小计" : cluster ? cluster : "未分类"),
            ncell(num(r, i, 2)), ncell(yuan / REPORT_YUAN_PER_WAN), ncell(yuan / REPORT_YUAN_PER_YI),
        };
        if (k->row(k, cells, all ? ROW_TOTAL : sub ? ROW_SUBTOTAL : ROW_PLAIN) != 0)
            goto done;
    }
    rc = k->table_end(k, -1);
done:
    PQclear(r);
    return rc;
}

/* 超期督办: $1 today, $2 overdue_red_after_days. One row per official
 * (k = 1) or unit (k = 2) responsible for at least one open item: an open
 * milestone of a project still supervised, or a problem not closed. The
 * people of an item are those of 011_overdue.sql (active assignments, lead
 * unit, assignee); UNION counts an item once per person even when two of
 * their roles reach it. Days overdue d = today - date: red d > R, yellow
 * 1..R, not overdue d <= 0. */
static const char sql_overdue_people[] =
    "WITH act AS ("
    "  SELECT a.official_id, a.unit_id, a.enterprise_id, a.project_id FROM assignment a"
    "   WHERE a.period_start <= $1::date AND (a.period_end IS NULL OR $1::date <= a.period_end)),"
    " om AS ("
    "  SELECT m.project_id AS pid, m.node, p.lead_unit_id, $1::date - m.planned_date AS d"
    "    FROM project_milestone m JOIN project p ON p.id = m.project_id"
    "   WHERE m.actual_date IS NULL AND m.planned_date IS NOT NULL"
    "     AND p.stage NOT IN ('终止', '竣工')),"
    " op AS ("
    "  SELECT q.id, q.enterprise_id, q.assignee_official_id, q.assignee_unit_id,"
    "         $1::date - q.deadline AS d"
    "    FROM problem q WHERE q.state <> '确认'),"
    " resp AS ("
    "  SELECT 1 AS k, a.official_id AS who, 'm' AS ik, om.pid AS item, om.node, om.d"
    "    FROM om JOIN act a ON a.project_id = om.pid AND a.official_id IS NOT NULL"
    "  UNION SELECT 2, a.unit_id, 'm', om.pid, om.node, om.d"
    "    FROM om JOIN act a ON a.project_id = om.pid AND a.unit_id IS NOT NULL"
    "  UNION SELECT 2, om.lead_unit_id, 'm', om.pid, om.node, om.d"
    "    FROM om WHERE om.lead_unit_id IS NOT NULL"
    "  UNION SELECT 1, a.official_id, 'p', op.id, '', op.d"
    "    FROM op JOIN act a ON a.enterprise_id = op.enterprise_id AND a.official_id IS NOT NULL"
    "  UNION SELECT 1, op.assignee_official_id, 'p', op.id, '', op.d"
    "    FROM op WHERE op.assignee_official_id IS NOT NULL"
    "  UNION SELECT 2, a.unit_id, 'p', op.id, '', op.d"
    "    FROM op JOIN act a ON a.enterprise_id = op.enterprise_id AND a.unit_id IS NOT NULL"
    "  UNION SELECT 2, op.assignee_unit_id, 'p', op.id, '', op.d"
    "    FROM op WHERE op.assignee_unit_id IS NOT NULL),"
    " agg AS ("
    "  SELECT k, who,"
    "         count(*) FILTER (WHERE ik = 'm' AND d >= 1) AS om_n,"
    "         count(*) FILTER (WHERE ik = 'p' AND d >= 1) AS op_n,"
    "         count(*) FILTER (WHERE d > $2::int) AS red,"
    "         count(*) FILTER (WHERE d BETWEEN 1 AND $2::int) AS yellow,"
    "         coalesce(max(d) FILTER (WHERE d >= 1), 0) AS maxd,"
    "         count(*) FILTER (WHERE d <= 0) AS ok_n"
    "    FROM resp GROUP BY k, who)"
    " SELECT g.k, g.who, coalesce(o.name, u.name), ou.name,"
    "        g.om_n, g.op_n, g.red, g.yellow, g.maxd, g.ok_n"
    "   FROM agg g"
    "   LEFT JOIN official o ON g.k = 1 AND o.id = g.who"
    "   LEFT JOIN unit ou ON ou.id = o.unit_id"
    "   LEFT JOIN unit u ON g.k = 2 AND u.id = g.who"
    "  ORDER BY CASE WHEN g.red > 0 THEN 0 WHEN g.yellow > 0 THEN 1 ELSE 2 END,"
    "           g.red DESC, g.yellow DESC, g.maxd DESC, g.k, g.who";

static int rep_overdue_people(rctx *c)
{
    static const rcol cols[] = {
        {"灯", COL_LIGHT, 5}, {"类别", COL_TEXT, 6}, {"责任人/责任单位", COL_TEXT, 20},
        {"所在单位", COL_TEXT, 16}, {"超期项目节点", COL_INT, 12}, {"超期问题", COL_INT, 9},
        {"红灯", COL_INT, 7}, {"黄灯", COL_INT, 7}, {"最长超期(天)", COL_INT, 12},
        {"在办未超期", COL_INT, 10},
    };
    static const char *const ser[] = {"红灯", "黄灯"};
    static const char *const colours[] = {"#d32f2f", "#fbc02d"};
    sink *k = c->k;
    const char *params[2] = {c->p->today, c->red_after};
    PGresult *r = query_all(c, "overdue by person", sql_overdue_people, 2, params);
    if (r == NULL)
        return -1;
    int rc = -1;

    /* Chart: the units with most overdue items (red + yellow), kept in a
     * small sorted array while reading the rows. */
    const char *unames[REPORT_CHART_UNITS_MAX];
    double uvals[REPORT_CHART_UNITS_MAX * 2];
    int nu = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        double red = num(r, i, 6), yellow = num(r, i, 7);
        if (strcmp(PQgetvalue(r, i, 0), "2") != 0 || red + yellow <= 0)
            continue;
        int pos = nu;
        while (pos > 0 && uvals[(pos - 1) * 2] + uvals[(pos - 1) * 2 + 1] < red + yellow)
            pos--;
        if (pos >= REPORT_CHART_UNITS_MAX)
            continue;
        int last = nu < REPORT_CHART_UNITS_MAX ? nu : REPORT_CHART_UNITS_MAX - 1;
        for (int j = last; j > pos; j--) {
            unames[j] = unames[j - 1];
            uvals[j * 2] = uvals[(j - 1) * 2];
            uvals[j * 2 + 1] = uvals[(j - 1) * 2 + 1];
        }
        unames[pos] = val(r, i, 2) ? val(r, i, 2) : "";
        uvals[pos * 2] = red;
        uvals[pos * 2 + 1] = yellow;
        if (nu < REPORT_CHART_UNITS_MAX)
            nu++;
    }
    char title[96];
    snprintf(title, sizeof title, "超期事项最多的 %d 个责任单位", REPORT_CHART_UNITS_MAX);
    chart ch = {title, "项", 0, nu, unames, 2, ser, colours, uvals};
    char note[320];
    snprintf(note, sizeof note,
             "截至 %s。一行一位责任人或一个责任单位（至少有一项在办工作）。"
             "红灯：有超期超过 %u 天的事项；黄灯：有超期 1–%u 天的事项；绿灯：在办事项均未超期。",
             c->p->today, c->p->red_after_days, c->p->red_after_days);
    if (k->section(k, "超期督办", "超期督办：按责任人和责任单位", note) != 0 ||
        k->chart(k, &ch) != 0 || k->table(k, cols, 10, true, true) != 0)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        double red = num(r, i, 6), yellow = num(r, i, 7);
        bool official = strcmp(PQgetvalue(r, i, 0), "1") == 0;
        rcell cells[10] = {
            lcell(red > 0 ? LIGHT_RED : yellow > 0 ? LIGHT_YELLOW : LIGHT_GREEN),
            tcell(official ? "干部" : "单位"), tcell(val(r, i, 2)), tcell(val(r, i, 3)),
            ncell(num(r, i, 4)), ncell(num(r, i, 5)), ncell(red), ncell(yellow),
            ncell(num(r, i, 8)), ncell(num(r, i, 9)),
        };
        if (k->row(k, cells, ROW_PLAIN) != 0)
            goto done;
    }
    rc = k->table_end(k, -1);
done:
    PQclear(r);
    return rc;
}

/* 超期明细: every overdue milestone, then every overdue problem, most
 * overdue first, with the people of each. The rows and the people follow
 * the rules of sql/011_overdue.sql exactly (bb_overdue_milestones and
 * bb_overdue_problems over all dates before today, no filter, no scope;
 * the people of bb_project_officials, bb_project_units,
 * bb_enterprise_officials and bb_enterprise_units, as the same
 * "id<TAB>role<TAB>name" lines in bb_overdue_role_rank order), but set
 * based: those functions look the people up row by row, which is right for
 * a page of overdue.* and measured 4x slower for a whole list (80,000
 * overdue milestones: 0.6 s here against 2.4 s). $1 today, $2 the rows
 * wanted (NULL: all). */
static const char sql_overdue_milestones[] =
    "WITH act AS ("
    "  SELECT a.project_id, a.official_id, a.unit_id, a.role FROM assignment a"
    "   WHERE a.project_id IS NOT NULL AND a.period_start <= $1::date"
    "     AND (a.period_end IS NULL OR $1::date <= a.period_end)),"
    " om AS ("
    "  SELECT m.project_id, m.node, m.planned_date, p.name, p.township_id, p.enterprise_id,"
    "         p.stage, p.lead_unit_id"
    "    FROM project_milestone m JOIN project p ON p.id = m.project_id"
    "   WHERE m.actual_date IS NULL AND m.planned_date < $1::date"
    "     AND p.stage NOT IN ('终止', '竣工')),"
    " offs AS ("
    "  SELECT a.project_id, string_agg(o.id || E'\\t' || a.role || E'\\t' || o.name, E'\\n'"
    "                                  ORDER BY bb_overdue_role_rank(a.role), o.id) AS s"
    "    FROM act a JOIN official o ON o.id = a.official_id"
    "   WHERE a.project_id IN (SELECT om.project_id FROM om)"
    "   GROUP BY a.project_id),"
    " uns AS ("
    "  SELECT x.project_id, string_agg(x.id || E'\\t' || x.role || E'\\t' || x.name, E'\\n'"
    "                                  ORDER BY bb_overdue_role_rank(x.role), x.id) AS s"
    "    FROM (SELECT a.project_id, u.id, a.role, u.name FROM act a JOIN unit u ON u.id = a.unit_id"
    "          UNION ALL"
    "          SELECT p.id, u.id, '牵头单位', u.name FROM project p JOIN unit u ON u.id = p.lead_unit_id"
    "         ) x"
    "   WHERE x.project_id IN (SELECT om.project_id FROM om)"
    "   GROUP BY x.project_id)"
    " SELECT om.project_id, om.node, om.name, t.name, e.name,"
    "        to_char(om.planned_date, 'YYYY-MM-DD'), $1::date - om.planned_date, om.stage,"
    "        offs.s, uns.s"
    "   FROM om JOIN township t ON t.id = om.township_id"
    "   LEFT JOIN enterprise e ON e.id = om.enterprise_id"
    "   LEFT JOIN offs ON offs.project_id = om.project_id"
    "   LEFT JOIN uns ON uns.project_id = om.project_id"
    "  ORDER BY om.planned_date, om.project_id, bb_stage_rank(om.node)"   /* lifecycle order (sql/022) */
    "  LIMIT $2::bigint";
static const char sql_overdue_problems[] =
    "WITH act AS ("
    "  SELECT a.enterprise_id, a.official_id, a.unit_id, a.role FROM assignment a"
    "   WHERE a.enterprise_id IS NOT NULL AND a.period_start <= $1::date"
    "     AND (a.period_end IS NULL OR $1::date <= a.period_end)),"
    " op AS ("
    "  SELECT q.id, q.description, q.enterprise_id, q.deadline, q.state,"
    "         q.assignee_official_id, q.assignee_unit_id"
    "    FROM problem q WHERE q.state <> '确认' AND q.deadline < $1::date),"
    " offs AS ("
    "  SELECT x.pid, string_agg(x.id || E'\\t' || x.role || E'\\t' || x.name, E'\\n'"
    "                           ORDER BY bb_overdue_role_rank(x.role), x.id) AS s"
    "    FROM (SELECT op.id AS pid, o.id, a.role, o.name"
    "            FROM op JOIN act a ON a.enterprise_id = op.enterprise_id"
    "            JOIN official o ON o.id = a.official_id"
    "          UNION ALL"
    "          SELECT op.id, o.id, '承办人', o.name"
    "            FROM op JOIN official o ON o.id = op.assignee_official_id) x"
    "   GROUP BY x.pid),"
    " uns AS ("
    "  SELECT x.pid, string_agg(x.id || E'\\t' || x.role || E'\\t' || x.name, E'\\n'"
    "                           ORDER BY bb_overdue_role_rank(x.role), x.id) AS s"
    "    FROM (SELECT op.id AS pid, u.id, a.role, u.name"
    "            FROM op JOIN act a ON a.enterprise_id = op.enterprise_id"
    "            JOIN unit u ON u.id = a.unit_id"
    "          UNION ALL"
    "          SELECT op.id, u.id, '承办单位', u.name"
    "            FROM op JOIN unit u ON u.id = op.assignee_unit_id) x"
    "   GROUP BY x.pid)"
    " SELECT op.id, op.description, t.name, e.name, to_char(op.deadline, 'YYYY-MM-DD'),"
    "        $1::date - op.deadline, op.state, offs.s, uns.s"
    "   FROM op JOIN enterprise e ON e.id = op.enterprise_id"
    "   JOIN township t ON t.id = e.township_id"
    "   LEFT JOIN offs ON offs.pid = op.id"
    "   LEFT JOIN uns ON uns.pid = op.id"
    "  ORDER BY op.deadline, op.id"
    "  LIMIT $2::bigint";
/* How many rows the two lists have (for the page, which shows the first
 * ones): the same conditions as the stored functions with no filter. */
static const char sql_overdue_counts[] =
    "SELECT (SELECT count(*) FROM project_milestone m JOIN project p ON p.id = m.project_id"
    "         WHERE m.actual_date IS NULL AND m.planned_date < $1::date"
    "           AND p.stage NOT IN ('终止', '竣工'))"
    "     + (SELECT count(*) FROM problem q WHERE q.state <> '确认' AND q.deadline < $1::date)";

static int overdue_milestone_row(rctx *c, const PGresult *r, void *ud)
{
    ++*(int64_t *)ud;
    char what[512], off[REPORT_PEOPLE_TEXT], units[REPORT_PEOPLE_TEXT];
    snprintf(what, sizeof what, "%s · %s", PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 1));
    long long days = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
    rcell cells[11] = {
        lcell(light_of(days, c->p->red_after_days)), tcell("项目节点"), ncell(num(r, 0, 0)),
        tcell(what), tcell(val(r, 0, 3)), tcell(val(r, 0, 4)), tcell(val(r, 0, 5)),
        ncell((double)days), tcell(val(r, 0, 7)), tcell(people_text(val(r, 0, 8), off, sizeof off)),
        tcell(people_text(val(r, 0, 9), units, sizeof units)),
    };
    return c->k->row(c->k, cells, ROW_PLAIN);
}

static int overdue_problem_row(rctx *c, const PGresult *r, void *ud)
{
    ++*(int64_t *)ud;
    char off[REPORT_PEOPLE_TEXT], units[REPORT_PEOPLE_TEXT];
    long long days = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
    rcell cells[11] = {
        lcell(light_of(days, c->p->red_after_days)), tcell("问题"), ncell(num(r, 0, 0)),
        tcell(val(r, 0, 1)), tcell(val(r, 0, 2)), tcell(val(r, 0, 3)), tcell(val(r, 0, 4)),
        ncell((double)days), tcell(val(r, 0, 6)), tcell(people_text(val(r, 0, 7), off, sizeof off)),
        tcell(people_text(val(r, 0, 8), units, sizeof units)),
    };
    return c->k->row(c->k, cells, ROW_PLAIN);
}

static int rep_overdue_items(rctx *c)
{
    static const rcol cols[] = {
        {"灯", COL_LIGHT, 5}, {"类型", COL_TEXT, 9}, {"编号", COL_INT, 8},
        {"事项", COL_TEXT, 36}, {"乡镇园区", COL_TEXT, 16}, {"企业", COL_TEXT, 24},
        {"计划日期/期限", COL_TEXT, 13}, {"超期天数", COL_INT, 9}, {"阶段/状态", COL_TEXT, 9},
        {"责任人", COL_TEXT, 36}, {"责任单位", COL_TEXT, 36},
    };
    sink *k = c->k;
    int64_t total = -1, got = 0;
    char limit[REPORT_NUM_TEXT] = "";
    const char *params[2] = {c->p->today, NULL};
    if (k->list_limit > 0) {
        params[1] = limit;
        PGresult *r = query_all(c, "overdue counts", sql_overdue_counts, 1, params);
        if (r == NULL)
            return -1;
        total = (int64_t)num(r, 0, 0);
        PQclear(r);
        snprintf(limit, sizeof limit, "%" PRId64, k->list_limit);
    }
    if (k->section(k, "超期明细", "超期明细：项目节点和问题",
                   "先列超期的项目节点，再列超期的问题，各自按超期天数从多到少。") != 0 ||
        k->table(k, cols, 11, true, true) != 0 ||
        query_each(c, "overdue milestones", sql_overdue_milestones, 2, params,
                   overdue_milestone_row, &got) != 0)
        return -1;
    /* The page's limit counts both lists together. */
    if (k->list_limit > 0)
        snprintf(limit, sizeof limit, "%" PRId64,
                 got < k->list_limit ? k->list_limit - got : 0);
    if (query_each(c, "overdue problems", sql_overdue_problems, 2, params,
                   overdue_problem_row, &got) != 0)
        return -1;
    return k->table_end(k, total);
}

/* 督办单: $1 today. The notices issued up to today counted by recipient
 * unit (bb_notice_stats of sql/024_notices.sql, city-wide: a notice
 * counts once for each unit it is addressed to), then one row of the
 * same counts over the notices themselves (each once), for 合计. */
static const char sql_notice_stats[] =
    "SELECT 1, s.n, s.name, s.issued, s.read, s.answered, s.unanswered, s.closed, s.red,"
    "       s.escalated"
    "  FROM bb_notice_stats(p_by => 'unit', p_scope => NULL, p_from => NULL, p_to => $1::date)"
    "       WITH ORDINALITY AS s(key_id, name, issued, read, answered, unanswered, closed, red,"
    "                            escalated, n)"
    " UNION ALL"
    " SELECT 2, 0, NULL, count(*), count(*) FILTER (WHERE x.read_at IS NOT NULL),"
    "        count(*) FILTER (WHERE x.answered_at IS NOT NULL),"
    "        count(*) FILTER (WHERE x.state IN ('issued', 'read')),"
    "        count(*) FILTER (WHERE x.state = 'closed'),"
    "        count(*) FILTER (WHERE x.level = 'red'),"
    "        count(*) FILTER (WHERE x.level = 'escalated')"
    "   FROM notice x WHERE x.issued_on <= $1::date"
    " ORDER BY 1, 2";

/* 未答复督办单: $1 today, $2 the rows wanted (NULL: all). The notices
 * waiting for an answer (issued or read), oldest first, with their
 * recipients ("name（role）" joined by "、", bb_notice_recipients'
 * order). Levels and states in Chinese, as the CLI shows them. */
static const char sql_notices_open[] =
    "SELECT '督〔' || n.year || '〕' || n.seq || '号',"
    "       CASE n.level WHEN 'due' THEN '提醒' WHEN 'yellow' THEN '黄牌'"
    "                    WHEN 'red' THEN '红牌' ELSE '升级' END,"
    "       CASE n.state WHEN 'issued' THEN '已下发' ELSE '已读' END,"
    "       n.title, t.name, to_char(n.due_date, 'YYYY-MM-DD'),"
    "       greatest($1::date - n.due_date, 0),"
    "       (SELECT string_agg((r.v ->> 'name') || '（' || (r.v ->> 'role') || '）', '、'"
    "                          ORDER BY r.i)"
    "          FROM jsonb_array_elements(bb_notice_recipients(n.id)) WITH ORDINALITY AS r(v, i)),"
    "       to_char(n.issued_on, 'YYYY-MM-DD'), $1::date - n.issued_on"
    "  FROM notice n JOIN township t ON t.id = n.township_id"
    " WHERE n.state IN ('issued', 'read') AND n.issued_on <= $1::date"
    " ORDER BY n.issued_on, n.id"
    " LIMIT $2::bigint";

static int rep_notice_stats(rctx *c)
{
    static const rcol cols[] = {
        {"责任单位", COL_TEXT, 24}, {"下发", COL_INT, 6}, {"已读", COL_INT, 6},
        {"已答复", COL_INT, 6}, {"未答复", COL_INT, 6}, {"已办结", COL_INT, 6},
        {"其中红牌", COL_INT, 6}, {"其中升级", COL_INT, 6},
    };
    static const char *const ser[] = {"未答复", "已答复"};
    static const char *const colours[] = {"#c62828", "#2e7d32"};
    sink *k = c->k;
    const char *params[1] = {c->p->today};
    PGresult *r = query_all(c, "notices by unit", sql_notice_stats, 1, params);
    if (r == NULL)
        return -1;
    int rc = -1;
    /* Chart: the units with most notices unanswered (the function's order:
     * most unanswered first, then most issued). */
    const char *unames[REPORT_CHART_UNITS_MAX];
    double uvals[REPORT_CHART_UNITS_MAX * 2];
    int nu = 0;
    for (int i = 0; i < PQntuples(r) && nu < REPORT_CHART_UNITS_MAX; i++) {
        if (strcmp(PQgetvalue(r, i, 0), "1") != 0)
            continue;
        unames[nu] = val(r, i, 2) ? val(r, i, 2) : "";
        uvals[nu * 2] = num(r, i, 6);
        uvals[nu * 2 + 1] = num(r, i, 5);
        nu++;
    }
    char title[96], note[512];
    snprintf(title, sizeof title, "未答复督办单最多的 %d 个责任单位", REPORT_CHART_UNITS_MAX);
    chart ch = {title, "份", 0, nu, unames, 2, ser, colours, uvals};
    snprintf(note, sizeof note,
             "截至 %s 下发的督办单，按收件的责任单位统计：一份督办单发给几个单位，就在每个单位各计一次；"
             "只发给干部的督办单（如升级到包保市领导的）不计入单位行。合计行每份督办单只计一次。"
             "已读、已答复：曾经读过、答复过（含此后办结的）；未答复：现在已下发（未读）或已读、尚未答复；"
             "已办结：事项办结或不再督办，督办单随之关闭。",
             c->p->today);
    if (k->section(k, "督办单", "督办单：按责任单位统计", note) != 0 || k->chart(k, &ch) != 0 ||
        k->table(k, cols, 8, false, true) != 0)
        goto done;
    for (int i = 0; i < PQntuples(r); i++) {
        bool all = strcmp(PQgetvalue(r, i, 0), "2") == 0;
        rcell cells[8] = {tcell(all ? "合计（每份计一次）" : val(r, i, 2))};
        for (int col = 1; col <= 7; col++)
            cells[col] = ncell(num(r, i, col + 2));
        if (k->row(k, cells, all ? ROW_TOTAL : ROW_PLAIN) != 0)
            goto done;
        if (all)
            c->notices_open = (int64_t)num(r, i, 6);
    }
    rc = k->table_end(k, -1);
done:
    PQclear(r);
    return rc;
}

static int notice_open_row(rctx *c, const PGresult *r, void *ud)
{
    (void)ud;
    rcell cells[10] = {
        tcell(val(r, 0, 0)), tcell(val(r, 0, 1)), tcell(val(r, 0, 2)), tcell(val(r, 0, 3)),
        tcell(val(r, 0, 4)), tcell(val(r, 0, 5)), ncell(num(r, 0, 6)), tcell(val(r, 0, 7)),
        tcell(val(r, 0, 8)), ncell(num(r, 0, 9)),
    };
    return c->k->row(c->k, cells, ROW_PLAIN);
}

static int rep_notices_open(rctx *c)
{
    static const rcol cols[] = {
        {"编号", COL_TEXT, 16}, {"级别", COL_TEXT, 6}, {"状态", COL_TEXT, 6},
        {"事项", COL_TEXT, 32}, {"乡镇园区", COL_TEXT, 16}, {"到期日期", COL_TEXT, 12},
        {"逾期天数", COL_INT, 8}, {"责任人/单位", COL_TEXT, 32},
        {"下发日期", COL_TEXT, 12}, {"已等待(天)", COL_INT, 8},
    };
    sink *k = c->k;
    const char *params[2] = {c->p->today, c->list_limit[0] ? c->list_limit : NULL};
    char note[256];
    snprintf(note, sizeof note,
             "截至 %s 尚未答复（已下发未读，或已读）的督办单，先下发的在前。逾期天数、已等待天数算到报告日期。",
             c->p->today);
    if (k->section(k, "未答复督办单", "未答复的督办单", note) != 0 ||
        k->table(k, cols, 10, true, true) != 0 ||
        query_each(c, "unanswered notices", sql_notices_open, 2, params, notice_open_row,
                   NULL) != 0)
        return -1;
    return k->table_end(k, c->notices_open);
}

/* 缺口汇总: $1 today. Coverage gaps (bb_coverage_gaps, every kind, role
 * and township) counted per township, then the total. */
static const char sql_gap_summary[] =
    "SELECT t.name,"
    "       count(g.id) FILTER (WHERE g.kind = 'enterprise'),"
    "       count(g.id) FILTER (WHERE g.kind = 'project'),"
    "       count(g.id) FILTER (WHERE g.role = '包保市领导'),"
    "       count(g.id) FILTER (WHERE g.role = '责任单位'),"
    "       count(g.id) FILTER (WHERE g.role = '联络员'),"
    "       count(g.id), grouping(t.id)"
    "  FROM township t"
    "  LEFT JOIN bb_coverage_gaps(NULL, NULL, NULL, NULL, $1::date, NULL, NULL, NULL, "
    REPORT_ALL_ROWS ") g ON g.township = t.name"
    " GROUP BY GROUPING SETS ((t.id, t.name), ())"
    " ORDER BY grouping(t.id), t.id";
static const char sql_gaps[] =
    "SELECT kind, id, name, township, role, priority, stage"
    "  FROM bb_coverage_gaps(NULL, NULL, NULL, NULL, $1::date, NULL, NULL, NULL, $2::int)";

static int rep_gap_summary(rctx *c)
{
    static const rcol cols[] = {
        {"乡镇园区", COL_TEXT, 18}, {"重点企业缺口", COL_INT, 12}, {"重点项目缺口", COL_INT, 12},
        {"缺包保市领导", COL_INT, 12}, {"缺责任单位", COL_INT, 11}, {"缺联络员", COL_INT, 10},
        {"缺口合计", COL_INT, 10},
    };
    static const char *const ser[] = {"缺包保市领导", "缺责任单位", "缺联络员"};
    static const char *const colours[] = {"#c62828", "#ef6c00", "#6d4c41"};
    sink *k = c->k;
    const char *params[1] = {c->p->today};
    PGresult *r = query_all(c, "coverage summary", sql_gap_summary, 1, params);
    if (r == NULL)
        return -1;
    int rc = -1;
    int nt = PQntuples(r);
    const char **names = calloc((size_t)nt + 1, sizeof *names);
    double *vals = calloc((size_t)nt * 3 + 1, sizeof *vals);
    if (names == NULL || vals == NULL) {
        sink_err(k, "report coverage summary: out of memory");
        goto done;
    }
    int nb = 0;
    for (int i = 0; i < nt; i++) {
        if (strcmp(PQgetvalue(r, i, 7), "1") == 0)
            continue;
        names[nb] = PQgetvalue(r, i, 0);
        for (int s = 0; s < 3; s++)
            vals[(size_t)nb * 3 + (size_t)s] = num(r, i, 3 + s);
        nb++;
    }
    chart ch = {"各乡镇园区包保缺口（按缺少的角色）", "个", 0, nb, names, 3, ser, colours, vals};
    if (k->section(k, "缺口汇总", "包保缺口汇总",
                   "一个缺口 = 一个重点企业或重点项目缺少的一个包保角色。") != 0 ||
        k->chart(k, &ch) != 0 || k->table(k, cols, 7, false, true) != 0)
        goto done;
    for (int i = 0; i < nt; i++) {
        bool all = strcmp(PQgetvalue(r, i, 7), "1") == 0;
        rcell cells[7] = {tcell(all ? "合计" : PQgetvalue(r, i, 0))};
        for (int col = 1; col <= 6; col++)
            cells[col] = ncell(num(r, i, col));
        if (k->row(k, cells, all ? ROW_TOTAL : ROW_PLAIN) != 0)
            goto done;
        if (all)
            c->gaps_total = (int64_t)num(r, i, 6);
    }
    rc = k->table_end(k, -1);
done:
    free(names);
    free(vals);
    PQclear(r);
    return rc;
}

static int gap_row(rctx *c, const PGresult *r, void *ud)
{
    (void)ud;
    bool ent = strcmp(PQgetvalue(r, 0, 0), "enterprise") == 0;
    rcell cells[7] = {
        tcell(ent ? "重点企业" : "重点项目"), ncell(num(r, 0, 1)), tcell(val(r, 0, 2)),
        tcell(val(r, 0, 3)), tcell(val(r, 0, 4)), tcell(val(r, 0, 5)), tcell(val(r, 0, 6)),
    };
    return c->k->row(c->k, cells, ROW_PLAIN);
}

static int rep_gaps(rctx *c)
{
    static const rcol cols[] = {
        {"类型", COL_TEXT, 9}, {"编号", COL_INT, 8}, {"名称", COL_TEXT, 30},
        {"乡镇园区", COL_TEXT, 18}, {"缺少的包保角色", COL_TEXT, 14}, {"优先级", COL_TEXT, 10},
        {"阶段", COL_TEXT, 9},
    };
    sink *k = c->k;
    const char *params[2] = {c->p->today, c->list_limit[0] ? c->list_limit : REPORT_ALL_ROWS};
    if (k->section(k, "包保缺口", "包保缺口明细",
                   "先列重点企业，再列重点项目，各按编号；每个缺少的角色一行。") != 0 ||
        k->table(k, cols, 7, true, true) != 0 ||
        query_each(c, "coverage gaps", sql_gaps, 2, params, gap_row, NULL) != 0)
        return -1;
    return k->table_end(k, c->gaps_total);
}

int report_write_all(PGconn *conn, const report_params *p, sink *k)
{
    rctx c = {conn, p, k, "", "", 0, 0, 0};
    snprintf(c.red_after, sizeof c.red_after, "%u", p->red_after_days);
    if (k->list_limit > 0)
        snprintf(c.list_limit, sizeof c.list_limit, "%" PRId64, k->list_limit);
    if (rep_about(&c) != 0 || rep_township(&c) != 0 || rep_missing(&c) != 0 ||
        report_visits_write(conn, p, k) != 0 ||   /* 走访完成情况: report_visits.c */
        rep_projects(&c) != 0 || rep_overdue_people(&c) != 0 || rep_overdue_items(&c) != 0 ||
        rep_notice_stats(&c) != 0 || rep_notices_open(&c) != 0 ||
        rep_gap_summary(&c) != 0 || rep_gaps(&c) != 0)
        return -1;
    return 0;
}
