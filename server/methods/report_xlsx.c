/*
 * report_xlsx.c: the reports as one XLSX workbook, a sheet per report
 * (libxlsxwriter in constant-memory mode: each sheet's rows go to a
 * temporary file as they are written, so memory does not grow with rows).
 * A sink (report_sink.h): sections become sheets, tables their header and
 * rows, with number formats for counts and money and coloured traffic
 * lights; charts become native bar charts under the table.
 *
 * Printing (issue 13: leaders print the workbook): every sheet is A4
 * landscape, fitted to one page wide (as many pages down as it needs),
 * its header row repeated on every page, a header with the report's
 * heading and a footer with the report date and "第 n 页，共 m 页".
 * Column widths follow what the column holds, a Chinese character
 * counting two width units (REPORT_XLSX_CJK_UNITS); a text column is at
 * most its rcol width, longer text wraps and the row grows (no row has a
 * fixed height, so Excel and LibreOffice size it to its lines).
 *
 * Charts: Excel charts draw cells, so their figures are written to one
 * hidden sheet, 图表数据 (REPORT_XLSX_CHART_SHEET), added last so the
 * report sheets keep their places; the figures are buffered (they are
 * bounded by directories: townships, stages, REPORT_CHART_UNITS_MAX
 * units) and written when the workbook closes. A chart with no bar is
 * left out (the page says 无数据).
 *
 * Not for: what the reports contain (report.c), the page
 * (report_html.c), nor the file's fsync, hash and rename (export_files.c).
 */
#include "report_sink.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

/* Rows of one sheet below its header: Excel's limit (1,048,576 rows)
 * less the header and the row that says the list was cut. */
#define REPORT_XLSX_ROWS_MAX (LXW_ROW_MAX - 2)
/* The hidden sheet holding the charts' figures. */
#define REPORT_XLSX_CHART_SHEET "图表数据"
/* Width units of a Chinese (or full-width) character and of a Latin
 * capital (wider than a digit: credit codes are 18 of them and digits);
 * others take one. */
#define REPORT_XLSX_CJK_UNITS 2
#define REPORT_XLSX_CAPS_UNITS 1.25
/* Room added to a column's widest content (Excel pads cells). */
#define REPORT_XLSX_PAD 2
/* Lines a header may wrap into before its column widens. */
#define REPORT_XLSX_HEAD_LINES 2
/* A header this wide (four Chinese characters) or less stays on one line;
 * a number column's header wider than REPORT_XLSX_HEAD_TWO_LINES takes
 * up to REPORT_XLSX_HEAD_LINES_MAX lines, so the figures stay narrow. */
#define REPORT_XLSX_HEAD_ONE_LINE 8
#define REPORT_XLSX_HEAD_TWO_LINES 12
#define REPORT_XLSX_HEAD_LINES_MAX 3
/* Height of a row per line of text, in points (11-point 等线 takes 14.25;
 * a little more so CJK fallback fonts fit too). Rows are given their
 * height: LibreOffice does not grow a row for wrapped text on import. */
#define REPORT_XLSX_LINE_PT 15.0
/* Paper: A4 (Excel's paper code 9); margins in inches. */
#define REPORT_XLSX_PAPER_A4 9
#define REPORT_XLSX_MARGIN_SIDE 0.4
#define REPORT_XLSX_MARGIN_TOP 0.6
/* Charts, in pixels: the narrowest and widest, the height of a bar and of
 * the title, axis and legend around them. */
#define REPORT_XLSX_CHART_W_MIN 480
#define REPORT_XLSX_CHART_W_MAX 720
#define REPORT_XLSX_CHART_BAR_H 16
#define REPORT_XLSX_CHART_FRAME_H 80
#define REPORT_XLSX_CHART_H_MIN 220
#define REPORT_XLSX_CHART_GAP 10
/* The printable area of an A4 landscape page with the margins above: the
 * width in pixels at 100 % (10.9 inches) and the height in points (7.07
 * inches less room for the header and footer). */
#define REPORT_XLSX_PAGE_W_PX 1045.0
#define REPORT_XLSX_PAGE_H_PT 480.0
/* A short report (not a long list) up to this many pages tall at its
 * fit-to-width scale is shrunk onto one page rather than split. */
#define REPORT_XLSX_SQUEEZE 1.4
/* libxlsxwriter's chart size at scale 1. */
#define REPORT_XLSX_CHART_W_DEFAULT 480.0
#define REPORT_XLSX_CHART_H_DEFAULT 288.0
/* Charts one sheet may hold (乡镇汇总 has two). */
#define REPORT_XLSX_CHARTS_PER_SHEET 4
/* Header and footer text (Excel caps them at 255 characters). */
#define REPORT_XLSX_HF_BYTES 768

/* One chart's figures, owned copies, waiting to be written to the data
 * sheet at close; row is its first row there (the names), the bars
 * follow. */
typedef struct chart_block {
    lxw_row_t row;
    int nbars, nseries;
    char **labels;          /* nbars */
    char **series_names;    /* nseries */
    double *values;         /* nbars * nseries */
    char *title;            /* "title（unit）", kept until close */
} chart_block;

/* A chart of the current sheet, inserted under its table at table_end. */
typedef struct pending_chart {
    lxw_chart *chart;
    int width, height;      /* pixels */
} pending_chart;

typedef struct xlsx_sink {
    sink k;
    lxw_workbook *wb;
    lxw_worksheet *ws;
    const char *today;
    lxw_row_t row;
    const rcol *cols;
    int ncols;
    bool counted;
    bool list;
    double rows_pt;     /* height of the table so far, in points */
    int64_t cut;        /* rows past REPORT_XLSX_ROWS_MAX, not written */
    /* Column widths of the current table: the header's least width, the
     * widest content seen, and the most a text column may take. */
    double w_head[REPORT_COLUMNS_MAX], w_content[REPORT_COLUMNS_MAX];
    pending_chart pending[REPORT_XLSX_CHARTS_PER_SHEET];
    int npending;
    chart_block *blocks;
    int nblocks, cap_blocks;
    lxw_row_t data_rows;    /* rows of the data sheet taken so far */
    lxw_format *f_head, *f_text, *f_int, *f_wan, *f_yi;
    lxw_format *f_light[4];
    /* bold versions for subtotal and total rows: [style][kind] */
    lxw_format *f_sub[5], *f_tot[5];
} xlsx_sink;

/* The width of one line of text in column units, from *p to the next
 * line feed or the end (*p is left past it): a CJK or full-width
 * character REPORT_XLSX_CJK_UNITS, a capital REPORT_XLSX_CAPS_UNITS, any
 * other one. */
static double line_width(const char **sp)
{
    double w = 0;
    const unsigned char *p = (const unsigned char *)*sp;
    while (*p && *p != '\n') {
        unsigned cp;
        int len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1Fu;
            len = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0Fu;
            len = 3;
        } else {
            cp = *p & 0x07u;
            len = 4;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) {   /* not UTF-8 (never from PostgreSQL): count a byte */
                len = 1;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        p += len;
        bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000;
        w += wide ? REPORT_XLSX_CJK_UNITS : (cp >= 'A' && cp <= 'Z') ? REPORT_XLSX_CAPS_UNITS : 1;
    }
    *sp = (const char *)(*p ? p + 1 : p);
    return w;
}

/* The width of text: its widest line. */
static double text_width(const char *s)
{
    double best = 0;
    while (s && *s) {
        double w = line_width(&s);
        if (w > best)
            best = w;
    }
    return best;
}

/* The lines text takes in a column where usable units fit on a line: each
 * of its lines, wrapped. */
static int text_lines(const char *s, double usable)
{
    int n = 0;
    while (s && *s) {
        double w = line_width(&s);
        int k = 1;
        while (w > usable * k)
            k++;
        n += k;
    }
    return n > 0 ? n : 1;
}

/* Small helpers instead of libm (baobaod does not link it). */
static double dmax(double a, double b) { return a > b ? a : b; }
static double dmin(double a, double b) { return a < b ? a : b; }
static double dceil(double v)
{
    double t = (double)(long long)v;
    return t < v ? t + 1 : t;
}

/* The width of a number as its format shows it: digits, separators,
 * sign and decimals. */
static double number_width(double v, int decimals)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, v < 0 ? -v : v);
    size_t ilen = strcspn(raw, ".");
    return (double)strlen(raw) + (double)((ilen - 1) / 3) + (v < 0 ? 1 : 0);
}

/* Excel's pixels for a column width (the default font's 7-pixel digit). */
static int width_px(double w)
{
    return w < 1 ? (int)(w * 12 + 0.5) : (int)(w * 7 + 5 + 0.5);
}

static int xl_check(xlsx_sink *x, lxw_error e, const char *what)
{
    if (e == LXW_NO_ERROR)
        return 0;
    sink_err(&x->k, "workbook %s: %s", what, lxw_strerror(e));
    return -1;
}

/* Header and footer text: "&&" for every "&" of s (Excel's escape). */
static void hf_escape(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; s && *s && o + 2 < cap; s++) {
        if (*s == '&')
            out[o++] = '&';
        out[o++] = *s;
    }
    out[o] = '\0';
}

static int xl_section(sink *k, const char *name, const char *heading, const char *note)
{
    (void)note;
    xlsx_sink *x = (xlsx_sink *)k;
    x->ws = workbook_add_worksheet(x->wb, name);
    if (x->ws == NULL) {
        sink_err(k, "workbook: cannot add sheet %s", name);
        return -1;
    }
    x->row = 0;
    x->npending = 0;
    /* Printing: A4 landscape, one page wide, the heading on top and the
     * report date and page numbers at the foot of every page. */
    worksheet_set_landscape(x->ws);
    worksheet_set_paper(x->ws, REPORT_XLSX_PAPER_A4);
    worksheet_set_margins(x->ws, REPORT_XLSX_MARGIN_SIDE, REPORT_XLSX_MARGIN_SIDE,
                          REPORT_XLSX_MARGIN_TOP, REPORT_XLSX_MARGIN_TOP);
    worksheet_fit_to_pages(x->ws, 1, 0);
    worksheet_center_horizontally(x->ws);
    char esc[REPORT_XLSX_HF_BYTES / 2], hf[REPORT_XLSX_HF_BYTES];
    hf_escape(heading, esc, sizeof esc);
    snprintf(hf, sizeof hf, "&C&\"-,Bold\"%s", esc);
    if (xl_check(x, worksheet_set_header(x->ws, hf), "header") != 0)
        return -1;
    hf_escape(x->today, esc, sizeof esc);
    snprintf(hf, sizeof hf, "&L包保工作报告　报告日期 %s&C第 &P 页，共 &N 页&R&A", esc);
    return xl_check(x, worksheet_set_footer(x->ws, hf), "footer");
}

static char *dup_text(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

static lxw_color_t colour_of(const char *hex)
{
    return hex && hex[0] == '#' ? (lxw_color_t)strtoul(hex + 1, NULL, 16) : 0x1565C0;
}

/* A native bar chart (stacked when it has several series) on the figures
 * the page draws: they go to the data sheet (at close), the chart reads
 * them there and waits to be placed under the table. */
static int xl_chart(sink *k, const chart *c)
{
    xlsx_sink *x = (xlsx_sink *)k;
    if (c->nbars <= 0)
        return 0;
    if (x->npending >= REPORT_XLSX_CHARTS_PER_SHEET) {
        sink_err(k, "workbook: more than %d charts on one sheet", REPORT_XLSX_CHARTS_PER_SHEET);
        return -1;
    }
    if (x->nblocks == x->cap_blocks) {
        int cap = x->cap_blocks ? x->cap_blocks * 2 : 8;
        chart_block *nb = realloc(x->blocks, (size_t)cap * sizeof *nb);
        if (nb == NULL)
            goto oom;
        x->blocks = nb;
        x->cap_blocks = cap;
    }
    chart_block *b = &x->blocks[x->nblocks];
    *b = (chart_block){.row = x->data_rows, .nbars = c->nbars, .nseries = c->nseries};
    x->nblocks++;   /* counted now: freed at close whatever happens */
    b->labels = calloc((size_t)c->nbars, sizeof *b->labels);
    b->series_names = calloc((size_t)c->nseries, sizeof *b->series_names);
    b->values = calloc((size_t)c->nbars * (size_t)c->nseries, sizeof *b->values);
    size_t tlen = strlen(c->title) + strlen(c->unit) + 16;
    b->title = malloc(tlen);
    if (b->labels == NULL || b->series_names == NULL || b->values == NULL || b->title == NULL)
        goto oom;
    snprintf(b->title, tlen, "%s（%s）", c->title, c->unit);
    for (int i = 0; i < c->nbars; i++)
        if ((b->labels[i] = dup_text(c->labels[i])) == NULL)
            goto oom;
    for (int s = 0; s < c->nseries; s++)
        if ((b->series_names[s] = dup_text(c->series_names[s])) == NULL)
            goto oom;
    memcpy(b->values, c->values, (size_t)c->nbars * (size_t)c->nseries * sizeof *b->values);
    /* The block: a row of names, then a row per bar, then a blank row. */
    x->data_rows += (lxw_row_t)c->nbars + 2;

    lxw_chart *ch = workbook_add_chart(x->wb, c->nseries > 1 ? LXW_CHART_BAR_STACKED
                                                             : LXW_CHART_BAR);
    if (ch == NULL)
        goto oom;
    lxw_row_t first = b->row + 1, last = b->row + (lxw_row_t)c->nbars;
    for (int s = 0; s < c->nseries; s++) {
        lxw_chart_series *se = chart_add_series(ch, NULL, NULL);
        if (se == NULL)
            goto oom;
        chart_series_set_categories(se, REPORT_XLSX_CHART_SHEET, first, 0, last, 0);
        chart_series_set_values(se, REPORT_XLSX_CHART_SHEET, first, (lxw_col_t)(1 + s), last,
                                (lxw_col_t)(1 + s));
        chart_series_set_name_range(se, REPORT_XLSX_CHART_SHEET, b->row, (lxw_col_t)(1 + s));
        lxw_chart_fill fill = {.color = colour_of(c->colours[s])};
        chart_series_set_fill(se, &fill);
        if (c->nseries == 1) {
            chart_series_set_labels(se);
            chart_series_set_labels_num_format(se, c->decimals > 0 ? "#,##0.00" : "#,##0");
        }
    }
    chart_title_set_name(ch, b->title);
    lxw_chart_font tf = {.size = 12, .bold = LXW_TRUE};
    chart_title_set_name_font(ch, &tf);
    chart_legend_set_position(ch, c->nseries > 1 ? LXW_CHART_LEGEND_TOP : LXW_CHART_LEGEND_NONE);
    if (c->nseries > 1)
        chart_set_series_overlap(ch, 100);
    chart_set_series_gap(ch, 60);
    /* Bar charts: the category axis is the vertical one (Y); reversed so
     * the first bar is on top, as on the page. */
    chart_axis_set_reverse(ch->y_axis);
    chart_axis_set_interval_unit(ch->y_axis, 1);   /* every bar named, as on the page */
    chart_axis_set_num_format(ch->x_axis, c->decimals > 0 ? "#,##0.00" : "#,##0");
    int h = REPORT_XLSX_CHART_FRAME_H + c->nbars * REPORT_XLSX_CHART_BAR_H +
            (c->nseries > 1 ? 20 : 0);
    x->pending[x->npending++] = (pending_chart){
        ch, REPORT_XLSX_CHART_W_MIN, h < REPORT_XLSX_CHART_H_MIN ? REPORT_XLSX_CHART_H_MIN : h};
    return 0;
oom:
    sink_err(k, "workbook: out of memory for a chart");
    return -1;
}

static int xl_table(sink *k, const rcol *cols, int ncols, bool list, bool counted)
{
    xlsx_sink *x = (xlsx_sink *)k;
    if (ncols > REPORT_COLUMNS_MAX) {
        sink_err(k, "workbook: a table of %d columns (at most %d)", ncols, REPORT_COLUMNS_MAX);
        return -1;
    }
    x->cols = cols;
    x->ncols = ncols;
    x->counted = counted;
    x->list = list;
    int head_lines = 1;
    for (int i = 0; i < ncols; i++) {
        /* A long header wraps into REPORT_XLSX_HEAD_LINES lines. */
        double tw = text_width(cols[i].title);
        if (cols[i].kind != COL_TEXT && tw > REPORT_XLSX_HEAD_TWO_LINES) {
            /* A figure's column (乡镇汇总's labels): narrow, a tall header. */
            x->w_head[i] = dceil(tw / REPORT_XLSX_HEAD_LINES_MAX) + 2;
            head_lines = REPORT_XLSX_HEAD_LINES_MAX;
        } else if (tw > REPORT_XLSX_HEAD_ONE_LINE) {
            x->w_head[i] = dceil(tw / REPORT_XLSX_HEAD_LINES) + 2;   /* + 2: where it breaks */
            if (head_lines < REPORT_XLSX_HEAD_LINES)
                head_lines = REPORT_XLSX_HEAD_LINES;
        } else {
            x->w_head[i] = tw;
        }
        x->w_content[i] = 0;
    }
    if (head_lines > 1 &&
        xl_check(x, worksheet_set_row(x->ws, x->row, head_lines * REPORT_XLSX_LINE_PT, NULL),
                 "header height") != 0)
        return -1;
    x->rows_pt = head_lines * REPORT_XLSX_LINE_PT;
    for (int i = 0; i < ncols; i++) {
        if (xl_check(x, worksheet_write_string(x->ws, x->row, (lxw_col_t)i, cols[i].title,
                                               x->f_head), "header") != 0)
            return -1;
    }
    /* The first column names the row (township, light, stage): kept in
     * view with the header on wide tables. */
    worksheet_freeze_panes(x->ws, x->row + 1, ncols > 12 ? 1 : 0);
    if (xl_check(x, worksheet_repeat_rows(x->ws, x->row, x->row), "print titles") != 0)
        return -1;
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
    static const int decimals[5] = {0, 0, 2, 4, 0};
    /* The row's height, before its cells (constant memory: a row is
     * written out when the next begins). A text cell wider than its
     * column's most wraps at that width, which is then the column's. */
    int lines = 1;
    for (int i = 0; i < x->ncols; i++) {
        if (x->cols[i].kind != COL_TEXT || cells[i].text == NULL)
            continue;
        double usable = dmax(x->cols[i].width, x->w_head[i] + REPORT_XLSX_PAD) - 1;
        int n = text_lines(cells[i].text, usable);
        if (n > lines)
            lines = n;
    }
    if (lines > 1 &&
        xl_check(x, worksheet_set_row(x->ws, x->row, lines * REPORT_XLSX_LINE_PT, NULL),
                 "row height") != 0)
        return -1;
    x->rows_pt += lines * REPORT_XLSX_LINE_PT;
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
        double w;
        if (kind == COL_LIGHT) {
            static const char *const word[] = {"", "绿", "黄", "红"};
            e = worksheet_write_string(x->ws, x->row, (lxw_col_t)i, word[cells[i].lt],
                                       x->f_light[cells[i].lt]);
            w = REPORT_XLSX_CJK_UNITS;
        } else if (kind == COL_TEXT) {
            e = cells[i].text ? worksheet_write_string(x->ws, x->row, (lxw_col_t)i,
                                                       cells[i].text, f)
                              : worksheet_write_blank(x->ws, x->row, (lxw_col_t)i, f);
            w = text_width(cells[i].text);
        } else {
            e = worksheet_write_number(x->ws, x->row, (lxw_col_t)i, cells[i].num, f);
            w = number_width(cells[i].num, decimals[kind]);
        }
        if (xl_check(x, e, "cell") != 0)
            return -1;
        if (w > x->w_content[i])
            x->w_content[i] = w;
    }
    x->row++;
    if (x->counted)
        k->rows++;
    return 0;
}

/* The table's column widths (now that its rows are known: libxlsxwriter
 * writes the columns when the sheet closes), then its charts under it,
 * side by side while they fit the table's width. */
static int xl_table_end(sink *k, int64_t total)
{
    (void)total;
    xlsx_sink *x = (xlsx_sink *)k;
    int table_px = 0;
    for (int i = 0; i < x->ncols; i++) {
        double w = dmax(x->w_head[i], x->w_content[i]) + REPORT_XLSX_PAD;
        if (x->cols[i].kind == COL_TEXT)
            w = dmin(w, dmax(x->cols[i].width, x->w_head[i] + REPORT_XLSX_PAD));
        table_px += width_px(w);
        if (xl_check(x, worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, w, NULL),
                     "column") != 0)
            return -1;
    }
    if (x->cut != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "（另有 %" PRId64 " 行超出 Excel 的行数上限，未列出）", x->cut);
        x->cut = 0;
        if (xl_check(x, worksheet_write_string(x->ws, x->row, 0, msg, x->f_text),
                     "cut note") != 0)
            return -1;
        x->row++;
    }
    /* As many charts side by side as fit the table's width (one at
     * least), each as wide as its share, within the chart limits. */
    int room = table_px > REPORT_XLSX_CHART_W_MIN ? table_px : REPORT_XLSX_CHART_W_MIN;
    int per_line = (room + REPORT_XLSX_CHART_GAP) / (REPORT_XLSX_CHART_W_MIN + REPORT_XLSX_CHART_GAP);
    if (per_line > x->npending)
        per_line = x->npending;
    if (per_line < 1)
        per_line = 1;
    int w = (room - REPORT_XLSX_CHART_GAP * (per_line - 1)) / per_line;
    if (w > REPORT_XLSX_CHART_W_MAX)
        w = REPORT_XLSX_CHART_W_MAX;
    int cx = 0, cy = 0, line_h = 0;
    for (int i = 0; i < x->npending; i++) {
        pending_chart *pc = &x->pending[i];
        if (i > 0 && i % per_line == 0) {
            cx = 0;
            cy += line_h + REPORT_XLSX_CHART_GAP;
            line_h = 0;
        }
        lxw_chart_options o = {.x_offset = cx, .y_offset = cy,
                               .x_scale = w / REPORT_XLSX_CHART_W_DEFAULT,
                               .y_scale = pc->height / REPORT_XLSX_CHART_H_DEFAULT,
                               .object_position = LXW_OBJECT_DONT_MOVE_DONT_SIZE};
        if (xl_check(x, worksheet_insert_chart_opt(x->ws, x->row + 1, 0, pc->chart, &o),
                     "chart") != 0)
            return -1;
        cx += w + REPORT_XLSX_CHART_GAP;
        if (pc->height > line_h)
            line_h = pc->height;
    }
    /* Pages: at the scale that fits the width, a short report that would
     * spill a little onto a second page is shrunk onto one; otherwise the
     * charts start a page of their own rather than being cut in two.
     * LibreOffice honours that break on a sheet fitted to one page wide;
     * Excel ignores manual breaks on a fitted sheet. A fixed print scale
     * instead would make Excel honour it, but the scale would come from
     * this file's width estimate, which LibreOffice does not follow where
     * the default font Calibri is replaced (by DejaVu Sans: a sheet of
     * 1548 estimated pixels printed two pages wide at 65 %, one at 50 %).
     * One page wide wins. */
    double wide = table_px > w ? table_px : w;
    double scale = wide > REPORT_XLSX_PAGE_W_PX ? REPORT_XLSX_PAGE_W_PX / wide : 1.0;
    double charts_pt = x->npending > 0 ? (cy + line_h) * 0.75 + REPORT_XLSX_LINE_PT : 0;
    double page_pt = REPORT_XLSX_PAGE_H_PT / scale;
    if (!x->list && x->rows_pt + charts_pt <= page_pt * REPORT_XLSX_SQUEEZE) {
        worksheet_fit_to_pages(x->ws, 1, 1);
    } else if (x->npending > 0 && x->rows_pt + charts_pt > page_pt) {
        lxw_row_t breaks[2] = {x->row + 1, 0};
        if (xl_check(x, worksheet_set_h_pagebreaks(x->ws, breaks), "page break") != 0)
            return -1;
    }
    x->npending = 0;
    return 0;
}

/* The data sheet: every chart's block (names, then a row per bar), hidden;
 * written last, after the report sheets. */
static int xl_chart_data(xlsx_sink *x)
{
    if (x->nblocks == 0)
        return 0;
    lxw_worksheet *ws = workbook_add_worksheet(x->wb, REPORT_XLSX_CHART_SHEET);
    if (ws == NULL) {
        sink_err(&x->k, "workbook: cannot add sheet %s", REPORT_XLSX_CHART_SHEET);
        return -1;
    }
    for (int i = 0; i < x->nblocks; i++) {
        const chart_block *b = &x->blocks[i];
        if (xl_check(x, worksheet_write_string(ws, b->row, 0, b->title, x->f_head), "chart data")
            != 0)
            return -1;
        for (int s = 0; s < b->nseries; s++)
            if (xl_check(x, worksheet_write_string(ws, b->row, (lxw_col_t)(1 + s),
                                                   b->series_names[s], x->f_head),
                         "chart data") != 0)
                return -1;
        for (int r = 0; r < b->nbars; r++) {
            lxw_row_t row = b->row + 1 + (lxw_row_t)r;
            if (xl_check(x, worksheet_write_string(ws, row, 0, b->labels[r], x->f_text),
                         "chart data") != 0)
                return -1;
            for (int s = 0; s < b->nseries; s++)
                if (xl_check(x, worksheet_write_number(ws, row, (lxw_col_t)(1 + s),
                                                       b->values[r * b->nseries + s], NULL),
                             "chart data") != 0)
                    return -1;
        }
    }
    worksheet_set_column(ws, 0, 0, 40, NULL);
    worksheet_hide(ws);
    return 0;
}

static void free_blocks(xlsx_sink *x)
{
    for (int i = 0; i < x->nblocks; i++) {
        chart_block *b = &x->blocks[i];
        for (int j = 0; b->labels && j < b->nbars; j++)
            free(b->labels[j]);
        for (int j = 0; b->series_names && j < b->nseries; j++)
            free(b->series_names[j]);
        free(b->labels);
        free(b->series_names);
        free(b->values);
        free(b->title);
    }
    free(x->blocks);
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
    x.today = p->today;
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
    if (rc == 0)
        rc = xl_chart_data(&x);
    /* workbook_close frees the workbook whatever happens; its error only
     * counts when the rows were written. */
    lxw_error ce = workbook_close(x.wb);
    if (rc == 0 && ce != LXW_NO_ERROR) {
        snprintf(err, errlen, "workbook %s: %s", path, lxw_strerror(ce));
        rc = -1;
    }
    free_blocks(&x);    /* after the close: the charts read their titles there */
    if (rc == 0)
        *rows = x.k.rows;
    return rc;
}
