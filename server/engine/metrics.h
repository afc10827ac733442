/*
 * metrics.h: the process's counters for /metrics (health.c), as plain data
 * in fixed tables: requests by method and outcome, request latency per
 * method, group-commit batch sizes, and counters by outcome that modules
 * keep (export runs, delivery attempts). Everything runs on the loop
 * thread: no locks, nothing blocks, nothing allocates after the first
 * use of a row (the tables are static).
 *
 * Process-local on purpose: each baobaod is scraped on its own and
 * Prometheus adds them up; nothing here is shared through the database.
 *
 * Not for: the HTTP side (health.c), or gauges read at scrape time (pool,
 * connections, input budget: health.c asks their owners then).
 */
#ifndef BB_METRICS_H
#define BB_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The most distinct method names and outcomes the request tables hold;
 * a method or outcome beyond them is counted under "other" (never lost,
 * never an allocation). DISPATCH_MAX_METHODS (256) methods fit. */
#define METRICS_MAX_METHODS 260
#define METRICS_MAX_OUTCOMES 32
/* Fixed latency buckets, upper bounds in milliseconds (+Inf implied). */
#define METRICS_LATENCY_BUCKETS 13
/* Fixed batch-size buckets, upper bounds in submits (+Inf implied). */
#define METRICS_BATCH_BUCKETS 10

/* What a module counts by outcome. */
typedef enum metrics_family {
    METRICS_EXPORT_RUNS = 0,    /* export runs by outcome (done, failed, ...) */
    METRICS_DELIVERY_ATTEMPTS,  /* delivery_command runs by outcome (sent, failed, timeout) */
    METRICS_NFAMILIES
} metrics_family;
/* Outcomes per family (a ninth and later distinct one counts as "other"). */
#define METRICS_FAMILY_OUTCOMES 8

/* A request was dispatched (for the in-flight gauge). */
void metrics_request_begin(void);
/* A request was answered. method and outcome must be static strings
 * (the method table's name, bb_err_code() or "ok"): they are kept as
 * pointers. ms is the time from dispatch to answer. */
void metrics_request_end(const char *method, const char *outcome, uint64_t ms);
/* One group-commit statement carried n submits. */
void metrics_batch_size(unsigned n);
/* One event of a family with this outcome (a static string). */
void metrics_count(metrics_family f, const char *outcome);

/* Requests dispatched and not yet answered. */
unsigned metrics_requests_in_flight(void);

/* A growable text buffer the Prometheus page is written into; free with
 * metrics_text_free. Writing stops (and `failed` is set) past `cap`. */
typedef struct metrics_text {
    char *data;
    size_t len, alloc, cap;
    int failed;
} metrics_text;
void metrics_text_init(metrics_text *t, size_t cap);
void metrics_text_free(metrics_text *t);
void metrics_textf(metrics_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends the families above in the Prometheus text format 0.0.4 (# HELP,
 * # TYPE, then `name{labels} value` lines). */
void metrics_render(metrics_text *t);

#endif
