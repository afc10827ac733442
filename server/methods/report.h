/*
 * report.h: the reports leaders read (issue 6): one XLSX workbook whose
 * sheets are the reports, and one HTML page with the same figures and SVG
 * charts (no scripts, no network), written by the export run.
 *
 * Contract with export_worker.c: these run on the export's own thread
 * with the export's own connection, inside its REPEATABLE READ transaction,
 * so the reports agree with the CSV files of the same run. They are
 * blocking (libpq and file I/O): never call them on the loop thread. They
 * write exactly the path they are given (a temporary name, which
 * export_files.c then fsyncs, hashes and renames), and return how many data
 * rows they wrote in all (for the manifest).
 *
 * Inside: report.c (the reports' queries, written once against a sink,
 * report_sink.h), report_xlsx.c and report_html.c (the two sinks).
 *
 * Reports: by township (enterprises by status and label, output value this
 * month and year to date, employees and labour shortage, reports missing
 * this month); projects by stage and cluster with investment totals (万元,
 * 亿元); overdue milestones and problems by responsible official and unit
 * with traffic lights; 督办 notices by recipient unit and the unanswered
 * ones; 包保 coverage gaps. The workbook is set up for printing (A4
 * landscape, one page wide) and carries the page's charts as native ones.
 */
#ifndef BB_REPORT_H
#define BB_REPORT_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

typedef struct report_params {
    const char *today;            /* "YYYY-MM-DD" in the configured zone */
    unsigned red_after_days;      /* overdue_red_after_days */
    unsigned visit_cycle_months;  /* visit_cycle_months (走访完成情况); 0 reads as 1 */
    const char *generated_at;     /* human text for the page header */
    /* NULL, or nonzero when the run must stop (shutdown): checked before
     * each query and each row read, so a report stops within a row. */
    int (*cancelled)(void);
} report_params;

/* The workbook (libxlsxwriter, constant-memory mode). 0, or -1 with a
 * message in err (the file may be left half-written: the caller removes
 * it). *rows: data rows written over all sheets. */
__attribute__((warn_unused_result))
int report_write_xlsx(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen);
/* The HTML page, UTF-8, self-contained. Same return convention. */
__attribute__((warn_unused_result))
int report_write_html(PGconn *conn, const report_params *p, const char *path, int64_t *rows,
                      char *err, size_t errlen);

#endif
