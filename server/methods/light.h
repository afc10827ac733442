/*
 * light.h: the LightChange record (PROTOCOL.md section 6, "Supervision:
 * lights and notices") as light.history and light.changes answer it, for
 * the modules that send light changes elsewhere too (push.c's
 * light.changed), so every path reads the same columns.
 *
 * A statement that reads light changes selects LIGHT_SELECT from the view
 * light_change_wire (sql/023_supervision.sql), aliased `w`; its first
 * columns are then LIGHT_COLS, packed as they are (wire keys).
 * Not for: the methods themselves (supervise.c), the SQL (sql/023).
 */
#ifndef BB_LIGHT_H
#define BB_LIGHT_H

#include "rowpack.h"

/* The initializers of an rp_col array, so a statement may add columns of
 * its own after them (push.c's audience). */
#define LIGHT_COLS                                                                        \
    {"id", RP_INT}, {"kind", RP_TEXT}, {"project_id", RP_INT}, {"node", RP_TEXT},         \
        {"problem_id", RP_INT}, {"township_id", RP_INT}, {"title", RP_TEXT},              \
        {"from_light", RP_TEXT}, {"to_light", RP_TEXT}, {"on_date", RP_TEXT},             \
        {"days_overdue", RP_INT}, {"due_date", RP_TEXT}, {"at", RP_TEXT}

#define LIGHT_SELECT                                                                      \
    "w.id, w.kind, w.project_id, w.node, w.problem_id, w.township_id, w.title,"          \
    " w.from_light, w.to_light, w.on_date, w.days_overdue, w.due_date, w.at"

#endif
