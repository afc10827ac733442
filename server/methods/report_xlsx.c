/*
 * report_xlsx.c: the reports as one XLSX workbook, a sheet per report
 * (libxlsxwriter in constant-memory mode: each sheet's rows go to a
 * temporary file as they are written, so memory does not grow with rows).
 * A sink (report_sink.h): sections become sheets, tables their header and
 * rows, with number formats for counts and money and coloured traffic
 * lights; charts are the page's alone.
 *
 * Not for: what the reports contain (report.c), the page
 * (report_html.c), nor the file's fsync, hash and rename (export_files.c).
 */
#include "report_sink.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xlsxwriter.h>

/* Rows of one sheet below its header: Excel's limit (1,048,576 rows)
 * less the header and the row that says the list was cut. */
#define REPORT_XLSX_ROWS_MAX (LXW_ROW_MAX - 2)

typedef struct xlsx_sink {
    sink k;
    lxw_workbook *wb;
    lxw_worksheet *ws;
    lxw_row_t row;
    const rcol *cols;
    int ncols;
    bool counted;
    int64_t cut;        /* rows past REPORT_XLSX_ROWS_MAX, not written */
    lxw_format *f_head, *f_text, *f_int, *f_wan, *f_yi;
    lxw_format *f_light[4];
    /* bold versions for subtotal and total rows: [style][kind] */
    lxw_format *f_sub[5], *f_tot[5];
} xlsx_sink;

static int xl_check(xlsx_sink *x, lxw_error e, const char *what)
{
    if (e == LXW_NO_ERROR)
        return 0;
    sink_err(&x->k, "workbook %s: %s", what, lxw_strerror(e));
    return -1;
}

static int xl_section(sink *k, const char *name, const char *heading, const char *note)
{
    (void)heading;
    (void)note;
    xlsx_sink *x = (xlsx_sink *)k;
    x->ws = workbook_add_worksheet(x->wb, name);
    if (x->ws == NULL) {
        sink_err(k, "workbook: cannot add sheet %s", name);
        return -1;
    }
    x->row = 0;
    return 0;
}

static int xl_chart(sink *k, const chart *c)
{
    (void)k;
    (void)c;
    return 0;   /* the page draws the charts; the sheets hold the figures */
}

static int xl_table(sink *k, const rcol *cols, int ncols, bool list, bool counted)
{
    (void)list;
    xlsx_sink *x = (xlsx_sink *)k;
    x->cols = cols;
    x->ncols = ncols;
    x->counted = counted;
    for (int i = 0; i < ncols; i++) {
        if (xl_check(x, worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, cols[i].width,
                                             NULL), "column") != 0 ||
            xl_check(x, worksheet_write_string(x->ws, x->row, (lxw_col_t)i, cols[i].title,
                                               x->f_head), "header") != 0)
            return -1;
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    x->row++;
    return 0;
}

static int xl_row(sink *k, const rcell *cells, row_style st)
{
    xlsx_sink *x = (xlsx_sink *)k;
    if (x->row > REPORT_XLSX_ROWS_MAX) {
        x->cut++;
        return 0;
    }
    for (int i = 0; i < x->ncols; i++) {
        col_kind kind = x->cols[i].kind;
        lxw_format *f = st == ROW_TOTAL      ? x->f_tot[kind]
                        : st == ROW_SUBTOTAL ? x->f_sub[kind]
                        : kind == COL_TEXT   ? x->f_text
                        : kind == COL_INT    ? x->f_int
                        : kind == COL_WAN    ? x->f_wan
                        : kind == COL_YI     ? x->f_yi
                                             : x->f_light[cells[i].lt];
        lxw_error e;
        if (kind == COL_LIGHT) {
            static const char *const word[] = {"", "绿", "黄", "红"};
            e = worksheet_write_string(x->ws, x->row, (lxw_col_t)i, word[cells[i].lt],
                                       x->f_light[cells[i].lt]);
        } else if (kind == COL_TEXT) {
            e = cells[i].text ? worksheet_write_string(x->ws, x->row, (lxw_col_t)i,
                                                       cells[i].text, f)
                              : worksheet_write_blank(x->ws, x->row, (lxw_col_t)i, f);
        } else {
            e = worksheet_write_number(x->ws, x->row, (lxw_col_t)i, cells[i].num, f);
        }
        if (xl_check(x, e, "cell") != 0)
            return -1;
    }
    x->row++;
    if (x->counted)
        k->rows++;
    return 0;
}

static int xl_table_end(sink *k, int64_t total)
{
    (void)total;
    xlsx_sink *x = (xlsx_sink *)k;
    if (x->cut == 0)
        return 0;
    char msg[160];
    snprintf(msg, sizeof msg, "（另有 %" PRId64 " 行超出 Excel 的行数上限，未列出）", x->cut);
    x->cut = 0;
    return xl_check(x, worksheet_write_string(x->ws, x->row, 0, msg, x->f_text), "cut note");
}

static lxw_format *xl_format(lxw_workbook *wb, const char *numfmt, bool bold, bool top_border)
{
    lxw_format *f = workbook_add_format(wb);
    if (f == NULL)
        return NULL;
    if (numfmt)
        format_set_num_format(f, numfmt);
    if (bold)
        format_set_bold(f);
    if (top_border)
        format_set_top(f, LXW_BORDER_THIN);
    format_set_font_name(f, "等线");
    format_set_font_size(f, 11);
    format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
    return f;
}

int report_write_xlsx(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen)
{
    *rows = 0;
    /* Constant memory: each sheet's rows go to a temporary file as they are
     * written. Those files live in the folder of path (the export's own
     * disk, not a possibly small /tmp); libxlsxwriter unlinks them at once,
     * so nothing is left there whatever happens. */
    char tmpdir[PATH_MAX];
    snprintf(tmpdir, sizeof tmpdir, "%s", path);
    char *slash = strrchr(tmpdir, '/');
    if (slash == NULL)
        snprintf(tmpdir, sizeof tmpdir, ".");
    else if (slash == tmpdir)
        slash[1] = '\0';
    else
        *slash = '\0';
    lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = tmpdir,
                                .use_zip64 = LXW_FALSE};
    xlsx_sink x = {0};
    x.k = (sink){xl_section, xl_chart, xl_table, xl_row, xl_table_end, 0, 0, err, errlen};
    x.wb = workbook_new_opt(path, &opt);
    if (x.wb == NULL) {
        snprintf(err, errlen, "workbook %s: cannot create", path);
        return -1;
    }
    static const char *const numfmt[5] = {NULL, "#,##0", "#,##0.00", "#,##0.0000", NULL};
    bool ok = true;
    x.f_head = xl_format(x.wb, NULL, true, false);
    x.f_text = xl_format(x.wb, NULL, false, false);
    x.f_int = xl_format(x.wb, numfmt[COL_INT], false, false);
    x.f_wan = xl_format(x.wb, numfmt[COL_WAN], false, false);
    x.f_yi = xl_format(x.wb, numfmt[COL_YI], false, false);
    ok = x.f_head && x.f_text && x.f_int && x.f_wan && x.f_yi;
    if (ok) {
        format_set_bg_color(x.f_head, 0xD9E1F2);
        format_set_pattern(x.f_head, LXW_PATTERN_SOLID);
        format_set_border(x.f_head, LXW_BORDER_THIN);
        format_set_text_wrap(x.f_head);
        format_set_text_wrap(x.f_text);
    }
    /* Traffic lights: solid fills (white text on red and green). */
    static const lxw_color_t fill[4] = {0, 0x00B050, 0xFFFF00, 0xFF0000};
    for (int i = 0; i < 4 && ok; i++) {
        x.f_light[i] = xl_format(x.wb, NULL, i != 0, false);
        ok = x.f_light[i] != NULL;
        if (ok && i != 0) {
            format_set_bg_color(x.f_light[i], fill[i]);
            format_set_pattern(x.f_light[i], LXW_PATTERN_SOLID);
            format_set_align(x.f_light[i], LXW_ALIGN_CENTER);
            if (i != LIGHT_YELLOW)
                format_set_font_color(x.f_light[i], LXW_COLOR_WHITE);
        }
    }
    for (int kind = 0; kind < 5 && ok; kind++) {
        x.f_sub[kind] = xl_format(x.wb, numfmt[kind], true, false);
        x.f_tot[kind] = xl_format(x.wb, numfmt[kind], true, true);
        ok = x.f_sub[kind] && x.f_tot[kind];
        if (ok) {
            format_set_bg_color(x.f_sub[kind], 0xF2F2F2);
            format_set_pattern(x.f_sub[kind], LXW_PATTERN_SOLID);
            format_set_bg_color(x.f_tot[kind], 0xE2EFDA);
            format_set_pattern(x.f_tot[kind], LXW_PATTERN_SOLID);
        }
    }
    if (!ok)
        snprintf(err, errlen, "workbook: out of memory for formats");
    /* libxlsxwriter takes char * and copies it. */
    char title[] = "包保工作报告", author[] = "baobao", subject[REPORT_NUM_TEXT];
    snprintf(subject, sizeof subject, "%s", p->today);
    lxw_doc_properties props = {.title = title, .subject = subject, .author = author};
    int rc = ok ? 0 : -1;
    if (rc == 0 && xl_check(&x, workbook_set_properties(x.wb, &props), "properties") != 0)
        rc = -1;
    if (rc == 0)
        rc = report_write_all(conn, p, &x.k);
    /* workbook_close frees the workbook whatever happens; its error only
     * counts when the rows were written. */
    lxw_error ce = workbook_close(x.wb);
    if (rc == 0 && ce != LXW_NO_ERROR) {
        snprintf(err, errlen, "workbook %s: %s", path, lxw_strerror(ce));
        rc = -1;
    }
    if (rc == 0)
        *rows = x.k.rows;
    return rc;
}
