/*
 * visits.c (spec): coverage.visits, reporting-cycle completeness (PROTOCOL.md
 * section 6, "coverage.visits"): per township, how many enterprises were
 * visited (have a status report) in the current reporting cycle, and which
 * were not.
 *
 * Every user may call it: township staff see their own townships, and
 * supervisors and admins every township, as they read the workbook's
 * 走访完成情况 sheet of the same figures (export.read). The township filter
 * takes any name: an unknown one, or one outside the caller's townships,
 * matches nothing (no error, nothing revealed).
 * Not for: how it runs (server/methods/visits.c, sql/021_visits.sql), the
 * cycle's length (the server's setting visit_cycle_months).
 */
#include "spec.h"

#include "bb_limits.h"

static const bb_arg coverage_visits[] = {
    {"township", BB_T_STR, 0, 1, BB_MAX_SHORT_TEXT_CHARS, 0, NULL, NULL, "只列此乡镇的"},
    {"on", BB_T_DATE, BB_A_TODAY, 0, 0, 0, NULL, NULL, "统计到哪一天（看这一天所在的走访周期）"},
    {NULL},
};

const bb_method_spec bb_spec_visits[] = {
    /* BB_M_LIMIT: `limit` cuts each township's list of enterprises not
     * visited (no cursor: the counts say how many there are, a visit
     * logged removes one). */
    {"coverage.visits", BB_ROLES_USERS, BB_M_LIMIT | BB_M_SCOPED | BB_M_REPLICA, coverage_visits,
     "VisitCoverage", "走访完成情况：本走访周期各乡镇已走访、未走访的企业"},
    {NULL},
};
