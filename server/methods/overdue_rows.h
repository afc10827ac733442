/*
 * overdue_rows.h: a row of sql/011_overdue.sql's queries
 * (bb_overdue_milestones, bb_overdue_problems) packed as the wire's
 * OverdueMilestone or OverdueProblem (PROTOCOL.md section 6, "Objects"):
 * the investor as {id, name} or nil, the traffic light from the days
 * overdue, the people responsible as [{id, name, role}].
 *
 * For: every method that answers such rows, wherever they stand in its
 * result: todo.mine (todo.c) has them at a column offset of a wider row;
 * overdue.* and due.* (overdue.c) at offset 0.
 * Not for: the queries (sql/011_overdue.sql), cursors and pages
 * (overdue.c).
 */
#ifndef BB_OVERDUE_ROWS_H
#define BB_OVERDUE_ROWS_H

#include <libpq-fe.h>
#include <msgpack.h>
#include <stdint.h>

/* The columns of bb_overdue_milestones: project_id, node, name, township,
 * enterprise_id, enterprise_name, planned_date, days_overdue, stage,
 * officials, units. */
#define ODROW_MS_NCOLS 11
/* The columns of bb_overdue_problems: problem_id, description, township,
 * enterprise_id, enterprise_name, deadline, days_overdue, state,
 * officials, units. */
#define ODROW_PR_NCOLS 10

/* The light of a row days_overdue late, with red_after =
 * overdue_red_after_days: "red" when later than that, "yellow" when 1 day
 * late or more, else "green" (due today or later). Static. */
const char *odrow_level(int64_t days_overdue, int64_t red_after);

/* Packs row `row` of res, whose columns col0 .. col0 + ODROW_MS_NCOLS - 1
 * (ODROW_PR_NCOLS) are those above, as one map. res must have passed
 * rowpack_check (the ints parse). */
void odrow_pack_milestone(msgpack_packer *pk, const PGresult *res, int row, int col0,
                          int64_t red_after);
void odrow_pack_problem(msgpack_packer *pk, const PGresult *res, int row, int col0,
                        int64_t red_after);

#endif
