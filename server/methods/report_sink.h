/*
 * report_sink.h: what a report writes, and where (internal to the report
 * files). The reports (report.c) run their queries once and describe what
 * they found as sections, charts, tables and rows handed to a sink; the
 * workbook (report_xlsx.c) and the page (report_html.c) are two sinks, so
 * the workbook and the page cannot drift apart.
 *
 * Not for: export.c or anything outside the report files (report.h is the
 * reports' public face), nor what the reports contain (report.c).
 */
#ifndef BB_REPORT_SINK_H
#define BB_REPORT_SINK_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* Text of a number passed as a query parameter or shown in a cell. */
#define REPORT_NUM_TEXT 32
/* Columns of one table (the widest is 乡镇汇总: 14 + the label columns). */
#define REPORT_COLUMNS_MAX 32

/* ---- what a report writes ---- */

typedef enum col_kind {
    COL_TEXT,   /* text (a NULL cell stays empty) */
    COL_INT,    /* an integer count or number of days */
    COL_WAN,    /* money in 万元, two decimals */
    COL_YI,     /* money in 亿元, four decimals */
    COL_LIGHT,  /* a traffic light: the cell is coloured */
} col_kind;

typedef struct rcol {
    const char *title;
    col_kind kind;
    /* Text columns: the widest the workbook makes the column (Excel width
     * units; a Chinese character is two), longer text wraps. Other kinds
     * take the width of their header and figures. */
    double width;
} rcol;

typedef enum light {
    LIGHT_NONE,
    LIGHT_GREEN,
    LIGHT_YELLOW,
    LIGHT_RED,
} light;

typedef struct rcell {
    const char *text;   /* COL_TEXT; NULL = empty */
    double num;         /* COL_INT, COL_WAN, COL_YI */
    light lt;           /* COL_LIGHT */
} rcell;

typedef enum row_style {
    ROW_PLAIN,
    ROW_SUBTOTAL,
    ROW_TOTAL,
} row_style;

/* A horizontal bar chart (an SVG on the page, a native bar chart in the
 * workbook, on the same figures): nbars bars of nseries stacked parts;
 * values[bar * nseries + series]. */
typedef struct chart {
    const char *title;
    const char *unit;       /* shown after each total: "家", "亿元" */
    int decimals;
    int nbars;
    const char *const *labels;
    int nseries;
    const char *const *series_names;
    const char *const *colours;
    const double *values;
} chart;

/* Where a report goes: a sheet of the workbook or a section of the page.
 * Calls come in the order section, chart*, table, row*, table_end. Each
 * returns 0 or -1 with a message in err. */
typedef struct sink sink;
struct sink {
    int (*section)(sink *k, const char *name, const char *heading, const char *note);
    int (*chart)(sink *k, const chart *c);
    /* list: a long list (the page shows its first rows only); counted:
     * its rows are data rows of the report (the 说明 rows are not). */
    int (*table)(sink *k, const rcol *cols, int ncols, bool list, bool counted);
    int (*row)(sink *k, const rcell *cells, row_style st);
    /* total: the rows the list has in all (the page may show fewer), or
     * -1 when the rows written are all of them. */
    int (*table_end)(sink *k, int64_t total);
    /* Rows a list needs from the database: 0 = all (the workbook); the
     * page asks for its first rows only, and learns the total from a
     * count the reports have anyway. */
    int64_t list_limit;
    int64_t rows;           /* data rows written */
    char *err;
    size_t errlen;
};

/* Writes every report, in order, to k (inside the caller's transaction on
 * conn). 0, or -1 with the message in k->err. */
int report_write_all(PGconn *conn, const report_params *p, sink *k);

/* Sets k->err from fmt, on one line (libpq's trailing newline dropped). */
void sink_err(sink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
