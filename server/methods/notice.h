/*
 * notice.h: the Notice record (PROTOCOL.md section 6, "Notices") as
 * notice.get answers it, for the modules that send notices elsewhere too
 * (push.c's notice.issued), so every path packs the same record.
 *
 * A statement that reads notices selects NOTICE_SELECT from the view
 * notice_wire (sql/024_notices.sql) or from a function returning its row
 * type, aliased `w`; its columns are then notice_cols, and notice_pack
 * packs one row (the recipients column, lines "official|unit<TAB>id<TAB>
 * role<TAB>name", becomes the array of {official_id|unit_id, name, role}
 * maps of the view's jsonb).
 * Not for: the methods themselves (notice.c), the SQL (sql/024).
 */
#ifndef BB_NOTICE_H
#define BB_NOTICE_H

#include <libpq-fe.h>
#include <msgpack.h>

#include "rowpack.h"

#define NOTICE_SELECT                                                                     \
    "w.id, w.number, w.level, w.state, w.kind, w.project_id, w.node, w.problem_id,"       \
    " w.township_id, w.township, w.title, w.due_date, w.days_overdue, w.issued_on,"       \
    " w.issued_at, w.escalated_from, w.read_at, w.read_by, w.read_by_name,"               \
    " w.answered_at, w.answered_by, w.answered_by_name, w.answer, w.closed_on,"           \
    " w.close_reason, w.version, bb_notice_recipient_lines(w.recipients) AS recipients"

/* The columns of NOTICE_SELECT, in order (static). */
extern const rp_col notice_cols[];
extern const int notice_ncols;

/* Packs row `row` of res (columns notice_cols, checked with rowpack_check)
 * as one Notice map. -1 when the recipients column is malformed (nothing
 * sensible was packed: answer `internal`). */
__attribute__((warn_unused_result))
int notice_pack(msgpack_packer *pk, const PGresult *res, int row);

#endif
