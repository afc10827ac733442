/*
 * report_html.c: the reports as one self-contained HTML page: the same
 * figures as the workbook, in tables, plus SVG bar charts (inline CSS, no
 * scripts, no network, no URL at all). A sink (report_sink.h): a section
 * per report; a long list shows its first REPORT_HTML_LIST_ROWS_MAX rows
 * and says how many more the workbook has.
 *
 * Not for: what the reports contain (report.c), the workbook
 * (report_xlsx.c), nor the file's fsync, hash and rename (export_files.c).
 */
#include "report_sink.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows of one list on the HTML page (the workbook has them all). */
#define REPORT_HTML_LIST_ROWS_MAX 200

typedef struct html_sink {
    sink k;
    FILE *f;
    const rcol *cols;
    int ncols;
    bool list;
    bool counted;
    int64_t shown;      /* rows of the current table written */
    int64_t hidden;     /* rows of the current list left to the workbook */
} html_sink;

static void h_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\n': fputs("<br>", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A number with thousands separators and the given decimals. */
static const char *fmt_num(double v, int decimals, char *out, size_t outlen)
{
    char raw[64];
    snprintf(raw, sizeof raw, "%.*f", decimals, v);
    const char *digits = raw[0] == '-' ? raw + 1 : raw;
    const char *dot = strchr(digits, '.');
    size_t ilen = dot ? (size_t)(dot - digits) : strlen(digits);
    size_t o = 0;
    if (raw[0] == '-' && o + 1 < outlen)
        out[o++] = '-';
    for (size_t i = 0; i < ilen && o + 2 < outlen; i++) {
        if (i > 0 && (ilen - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    if (dot)
        for (const char *d = dot; *d && o + 1 < outlen; d++)
            out[o++] = *d;
    out[o] = '\0';
    return out;
}

static int h_section(sink *k, const char *name, const char *heading, const char *note)
{
    html_sink *h = (html_sink *)k;
    fputs("<section id=\"", h->f);
    h_text(h->f, name);
    fputs("\">\n<h2>", h->f);
    h_text(h->f, heading);
    fputs("</h2>\n", h->f);
    if (note) {
        fputs("<p class=\"note\">", h->f);
        h_text(h->f, note);
        fputs("</p>\n", h->f);
    }
    return 0;
}

/* A horizontal stacked bar chart in inline SVG: a row per bar, its label
 * on the left, the total after the bar, a legend when stacked. */
static int h_chart(sink *k, const chart *c)
{
    enum { W = 760, LABEL_W = 150, VALUE_W = 110, ROW_H = 22, TOP = 30, LEGEND_H = 22 };
    html_sink *h = (html_sink *)k;
    FILE *f = h->f;
    double max = 0;
    for (int b = 0; b < c->nbars; b++) {
        double t = 0;
        for (int s = 0; s < c->nseries; s++)
            t += c->values[b * c->nseries + s];
        if (t > max)
            max = t;
    }
    int legend = c->nseries > 1 ? LEGEND_H : 0;
    int height = TOP + legend + (c->nbars > 0 ? c->nbars : 1) * ROW_H + 8;
    double bar_w = W - LABEL_W - VALUE_W;
    fprintf(f, "<figure class=\"chart\"><svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "role=\"img\" aria-label=\"", W, height, W, height);
    h_text(f, c->title);
    fputs("\"><title>", f);
    h_text(f, c->title);
    fputs("</title>\n", f);
    fprintf(f, "<text x=\"0\" y=\"18\" class=\"ct\">");
    h_text(f, c->title);
    fprintf(f, "（%s）</text>\n", c->unit);
    if (legend) {
        int lx = 0;
        for (int s = 0; s < c->nseries; s++) {
            fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                       "<text x=\"%d\" y=\"%d\" class=\"cl\">", lx, TOP, c->colours[s], lx + 16,
                    TOP + 11);
            h_text(f, c->series_names[s]);
            fputs("</text>\n", f);
            lx += 16 + 14 * 6 + 10;
        }
    }
    if (c->nbars == 0)
        fprintf(f, "<text x=\"0\" y=\"%d\" class=\"cl\">无数据</text>\n", TOP + legend + 15);
    for (int b = 0; b < c->nbars; b++) {
        int y = TOP + legend + b * ROW_H;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"cl\">", LABEL_W - 6,
                y + 15);
        h_text(f, c->labels[b]);
        fputs("</text>", f);
        double x = LABEL_W, total = 0;
        for (int s = 0; s < c->nseries; s++) {
            double v = c->values[b * c->nseries + s];
            total += v;
            double w = max > 0 ? v / max * bar_w : 0;
            if (w > 0) {
                fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                           "<title>", x, y + 3, w, ROW_H - 6, c->colours[s]);
                h_text(f, c->series_names[s]);
                char nb[REPORT_NUM_TEXT];
                fprintf(f, " %s</title></rect>", fmt_num(v, c->decimals, nb, sizeof nb));
            }
            x += w;
        }
        char nb[REPORT_NUM_TEXT];
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"cv\">%s</text>\n", x + 4, y + 15,
                fmt_num(total, c->decimals, nb, sizeof nb));
    }
    fputs("</svg></figure>\n", f);
    return 0;
}

static int h_table(sink *k, const rcol *cols, int ncols, bool list, bool counted)
{
    html_sink *h = (html_sink *)k;
    h->cols = cols;
    h->ncols = ncols;
    h->list = list;
    h->counted = counted;
    h->shown = 0;
    h->hidden = 0;
    fputs("<div class=\"scroll\"><table>\n<thead><tr>", h->f);
    for (int i = 0; i < ncols; i++) {
        fputs(cols[i].kind == COL_TEXT || cols[i].kind == COL_LIGHT ? "<th>" : "<th class=\"n\">",
              h->f);
        h_text(h->f, cols[i].title);
        fputs("</th>", h->f);
    }
    fputs("</tr></thead>\n<tbody>\n", h->f);
    return 0;
}

static int h_row(sink *k, const rcell *cells, row_style st)
{
    html_sink *h = (html_sink *)k;
    if (h->list && h->shown >= REPORT_HTML_LIST_ROWS_MAX) {
        h->hidden++;
        return 0;
    }
    FILE *f = h->f;
    fputs(st == ROW_TOTAL ? "<tr class=\"total\">" : st == ROW_SUBTOTAL ? "<tr class=\"sub\">"
                                                                        : "<tr>", f);
    for (int i = 0; i < h->ncols; i++) {
        char nb[REPORT_NUM_TEXT];
        switch (h->cols[i].kind) {
        case COL_TEXT:
            fputs("<td>", f);
            h_text(f, cells[i].text);
            break;
        case COL_INT:
            fprintf(f, "<td class=\"n\">%s", fmt_num(cells[i].num, 0, nb, sizeof nb));
            break;
        case COL_WAN:
            fprintf(f, "<td class=\"n\">%s", fmt_num(cells[i].num, 2, nb, sizeof nb));
            break;
        case COL_YI:
            fprintf(f, "<td class=\"n\">%s", fmt_num(cells[i].num, 4, nb, sizeof nb));
            break;
        case COL_LIGHT: {
            static const char *const cls[] = {"", "green", "yellow", "red"};
            static const char *const word[] = {"", "绿", "黄", "红"};
            fprintf(f, "<td class=\"light %s\">%s", cls[cells[i].lt], word[cells[i].lt]);
            break;
        }
        }
        fputs("</td>", f);
    }
    fputs("</tr>\n", f);
    h->shown++;
    if (h->counted)
        k->rows++;
    return 0;
}

static int h_table_end(sink *k, int64_t total)
{
    html_sink *h = (html_sink *)k;
    if (total > h->shown + h->hidden)
        h->hidden = total - h->shown;
    if (h->shown == 0)
        fprintf(h->f, "<tr><td colspan=\"%d\" class=\"empty\">无</td></tr>\n", h->ncols);
    fputs("</tbody></table></div>\n", h->f);
    if (h->hidden > 0)
        fprintf(h->f, "<p class=\"more\">共 %" PRId64 " 行，此处列出前 %d 行；"
                      "完整清单见同一文件夹中的工作簿（.xlsx）。</p>\n",
                h->shown + h->hidden, REPORT_HTML_LIST_ROWS_MAX);
    else if (h->list)
        fprintf(h->f, "<p class=\"more\">共 %" PRId64 " 行。</p>\n", h->shown);
    fputs("</section>\n", h->f);
    if (ferror(h->f)) {
        sink_err(k, "page: write failed");
        return -1;
    }
    return 0;
}

static const char page_css[] =
    "body{font-family:\"Microsoft YaHei\",\"PingFang SC\",\"Noto Sans CJK SC\",sans-serif;"
    "margin:24px;color:#222;background:#fff}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 6px;"
    "border-bottom:2px solid #1565c0;padding-bottom:4px}"
    ".meta,.note,.more{color:#555;font-size:13px;margin:4px 0}"
    "nav a{margin-right:14px;font-size:14px;color:#1565c0}"
    ".scroll{overflow-x:auto}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px;white-space:nowrap;vertical-align:top}"
    "th{background:#d9e1f2}td.n,th.n{text-align:right}"
    "tr.sub td{background:#f2f2f2;font-weight:bold}"
    "tr.total td{background:#e2efda;font-weight:bold;border-top:2px solid #888}"
    "td.light{text-align:center;font-weight:bold}"
    "td.red{background:#ff0000;color:#fff}td.yellow{background:#ffff00}"
    "td.green{background:#00b050;color:#fff}td.empty{color:#888}"
    "figure.chart{margin:12px 0}"
    "svg .ct{font-size:15px;font-weight:bold;fill:#222}"
    "svg .cl,svg .cv{font-size:12px;fill:#333}"
    /* Printing: A4 landscape like the workbook, wide tables not cut by
     * their scroll box, charts and rows not split across pages. */
    "@page{size:A4 landscape;margin:12mm}"
    "@media print{nav{display:none}body{margin:0}.scroll{overflow:visible}"
    "figure.chart,tr{break-inside:avoid}h2{break-after:avoid}}";

int report_write_html(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen)
{
    *rows = 0;
    html_sink h = {0};
    h.k = (sink){h_section, h_chart, h_table, h_row, h_table_end, REPORT_HTML_LIST_ROWS_MAX, 0,
                 err, errlen};
    h.f = fopen(path, "w");
    if (h.f == NULL) {
        snprintf(err, errlen, "page %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = h.f;
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
          "包保工作报告 ", f);
    h_text(f, p->today);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>包保工作报告</h1>\n"
               "<p class=\"meta\">报告日期：", page_css);
    h_text(f, p->today);
    fputs("　生成时间：", f);
    h_text(f, p->generated_at ? p->generated_at : "");
    fputs("</p>\n<nav><a href=\"#说明\">说明</a>"
          "<a href=\"#乡镇汇总\">乡镇汇总</a><a href=\"#本月未走访\">本月未走访</a>"
          "<a href=\"#走访完成情况\">走访完成情况</a>"
          "<a href=\"#项目阶段\">项目阶段</a><a href=\"#超期督办\">超期督办</a>"
          "<a href=\"#超期明细\">超期明细</a><a href=\"#督办单\">督办单</a>"
          "<a href=\"#未答复督办单\">未答复督办单</a><a href=\"#缺口汇总\">缺口汇总</a>"
          "<a href=\"#包保缺口\">包保缺口</a></nav>\n", f);
    int rc = report_write_all(conn, p, &h.k);
    fputs("</body>\n</html>\n", f);
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "page %s: write failed", path);
        rc = -1;
    }
    if (fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "page %s: close failed", path);
        rc = -1;
    }
    if (rc == 0)
        *rows = h.k.rows;
    return rc;
}
