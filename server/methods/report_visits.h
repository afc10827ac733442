/*
 * report_visits.h: the report 走访完成情况 (reporting-cycle completeness,
 * issue 12) of an export run: per township, the enterprises visited and
 * not visited in the reporting cycle, and the first of those not visited
 * by name, as coverage.visits gives them (the same stored function,
 * bb_visits of sql/021_visits.sql, so the workbook, the page, the method
 * and todo.mine cannot disagree).
 *
 * Internal to the report files: report.c calls it between its own
 * reports, with the run's connection and sink (the workbook and the page
 * render the same calls). Blocking, like every report: the export's own
 * thread only.
 * Not for: the rule of a visit (sql/021), the other sheets (report.c).
 */
#ifndef BB_REPORT_VISITS_H
#define BB_REPORT_VISITS_H

#include <libpq-fe.h>

#include "report_sink.h"

/* Names in one township's 未走访企业 cell at most: a cell is read, not
 * scrolled; the cell says how many more there are. */
#define REPORT_VISITS_NAMES_MAX 30

/* Writes 走访完成情况 to k as one section with one table: a row per
 * township (coverage.visits' townships for a caller who sees all), then
 * the total, for the cycle of p->visit_cycle_months months (0 reads as 1)
 * that holds p->today. conn is borrowed, inside the caller's transaction.
 * 0, or -1 with the message in k->err. */
__attribute__((warn_unused_result))
int report_visits_write(PGconn *conn, const report_params *p, sink *k);

#endif
