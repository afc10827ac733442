/*
 * clock.h: what time it is for the business rules: "today" is the calendar
 * date in the configured time_zone (main.c sets TZ to it before the loop),
 * also when the machine runs in UTC (at 07:30 in Beijing it is still the
 * previous day in UTC).
 *
 * The setting fake_now (an RFC 3339 instant, "" by default) pins the clock
 * for tests of overdue rules; it is logged at start (event=clock_pinned,
 * a warning) and server.info's `today` follows it. Checks made inside
 * PostgreSQL with its own clock (status.submit's report_date) do not.
 *
 * Not for: timestamps of records (PostgreSQL's now() in each transaction),
 * timeouts (uv_now).
 */
#ifndef BB_CLOCK_H
#define BB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Parses fake_now ("" = the real clock) once, before the loop. Returns 0,
 * or -1 with a message in err. */
__attribute__((warn_unused_result))
int clock_init(const char *fake_now, char *err, size_t errlen);
/* True when fake_now pinned the clock. */
int clock_is_fake(void);
/* Seconds since the epoch: the real time, or fake_now. */
int64_t clock_now_s(void);
/* Today in the configured zone as "YYYY-MM-DD" (out: at least 11 bytes).
 * Returns 0, or -1 when the date cannot be computed. */
__attribute__((warn_unused_result))
int clock_today(char out[11]);

#endif
