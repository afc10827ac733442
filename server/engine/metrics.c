/*
 * metrics.c: the counters behind /metrics, in static tables (metrics.h).
 * A row is found by comparing names (a method table has a few hundred
 * rows and one request touches one: cheaper than the request itself),
 * created on first use, and never freed. Rendering writes the Prometheus
 * text format 0.0.4: histograms as cumulative `_bucket{le=...}` lines plus
 * `_sum` and `_count`, latency in seconds as the format's conventions ask.
 *
 * Not for: serving the page (health.c) or reading other modules' state.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned latency_le_ms[METRICS_LATENCY_BUCKETS] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
static const unsigned batch_le[METRICS_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
static const char *const family_names[METRICS_NFAMILIES] = {"baobao_export_runs_total",
                                                            "baobao_delivery_attempts_total"};
static const char *const family_help[METRICS_NFAMILIES] = {
    "Export runs ended in this process, by outcome.",
    "Runs of delivery_command in this process, by outcome."};

typedef struct method_row {
    const char *name;
    uint64_t by_outcome[METRICS_MAX_OUTCOMES];
    uint64_t le[METRICS_LATENCY_BUCKETS + 1]; /* last: +Inf */
    uint64_t count, sum_ms;
} method_row;

static struct {
    method_row methods[METRICS_MAX_METHODS];
    size_t nmethods;
    const char *outcomes[METRICS_MAX_OUTCOMES];
    size_t noutcomes;
    unsigned in_flight;
    uint64_t batch_le[METRICS_BATCH_BUCKETS + 1];
    uint64_t batch_count, batch_sum;
    const char *fam_outcome[METRICS_NFAMILIES][METRICS_FAMILY_OUTCOMES];
    uint64_t fam_count[METRICS_NFAMILIES][METRICS_FAMILY_OUTCOMES];
} M;

/* The row of name in a table of n names (strings compared), added when
 * there is room; else the last slot, kept for "other". */
static size_t intern(const char **names, size_t *n, size_t max, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (names[i] == name || strcmp(names[i], name) == 0)
            return i;
    if (*n + 1 < max) {
        names[*n] = name;
        return (*n)++;
    }
    names[max - 1] = "other";
    if (*n < max)
        *n = max;
    return max - 1;
}

static method_row *method_find(const char *name)
{
    for (size_t i = 0; i < M.nmethods; i++)
        if (M.methods[i].name == name || strcmp(M.methods[i].name, name) == 0)
            return &M.methods[i];
    if (M.nmethods + 1 < METRICS_MAX_METHODS) {
        M.methods[M.nmethods].name = name;
        return &M.methods[M.nmethods++];
    }
    method_row *other = &M.methods[METRICS_MAX_METHODS - 1];
    other->name = "other";
    M.nmethods = METRICS_MAX_METHODS;
    return other;
}

void metrics_request_begin(void) { M.in_flight++; }

unsigned metrics_requests_in_flight(void) { return M.in_flight; }

void metrics_request_end(const char *method, const char *outcome, uint64_t ms)
{
    if (M.in_flight > 0)
        M.in_flight--;
    if (method == NULL) /* answered before its method was known */
        method = "-";
    method_row *r = method_find(method);
    size_t o = intern(M.outcomes, &M.noutcomes, METRICS_MAX_OUTCOMES, outcome);
    r->by_outcome[o]++;
    size_t b = 0;
    while (b < METRICS_LATENCY_BUCKETS && ms > latency_le_ms[b])
        b++;
    r->le[b]++;
    r->count++;
    r->sum_ms += ms;
}

void metrics_batch_size(unsigned n)
{
    size_t b = 0;
    while (b < METRICS_BATCH_BUCKETS && n > batch_le[b])
        b++;
    M.batch_le[b]++;
    M.batch_count++;
    M.batch_sum += n;
}

void metrics_count(metrics_family f, const char *outcome)
{
    if ((unsigned)f >= METRICS_NFAMILIES)
        return;
    size_t n = 0;
    while (n < METRICS_FAMILY_OUTCOMES && M.fam_outcome[f][n] != NULL)
        n++;
    size_t o = intern(M.fam_outcome[f], &n, METRICS_FAMILY_OUTCOMES, outcome);
    M.fam_count[f][o]++;
}

void metrics_text_init(metrics_text *t, size_t cap)
{
    memset(t, 0, sizeof *t);
    t->cap = cap;
}

void metrics_text_free(metrics_text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

void metrics_textf(metrics_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->alloc - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->data != NULL ? t->data + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t want = t->alloc == 0 ? 16384 : t->alloc * 2;
        while (want < t->len + (size_t)n + 1)
            want *= 2;
        if (want > t->cap) {
            t->failed = 1;
            return;
        }
        char *d = realloc(t->data, want);
        if (d == NULL) {
            t->failed = 1;
            return;
        }
        t->data = d;
        t->alloc = want;
    }
}

void metrics_render(metrics_text *t)
{
    metrics_textf(t, "# HELP baobao_requests_total Requests answered, by method and outcome"
                     " (ok, or the error code).\n# TYPE baobao_requests_total counter\n");
    for (size_t i = 0; i < M.nmethods; i++)
        for (size_t o = 0; o < M.noutcomes; o++)
            if (M.methods[i].by_outcome[o] > 0)
                metrics_textf(t, "baobao_requests_total{method=\"%s\",outcome=\"%s\"} %llu\n",
                              M.methods[i].name, M.outcomes[o],
                              (unsigned long long)M.methods[i].by_outcome[o]);
    metrics_textf(t, "# HELP baobao_request_duration_seconds Time from dispatch to answer, by"
                     " method.\n# TYPE baobao_request_duration_seconds histogram\n");
    for (size_t i = 0; i < M.nmethods; i++) {
        const method_row *r = &M.methods[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < METRICS_LATENCY_BUCKETS; b++) {
            cum += r->le[b];
            metrics_textf(t,
                          "baobao_request_duration_seconds_bucket{method=\"%s\",le=\"%u.%03u\"}"
                          " %llu\n",
                          r->name, latency_le_ms[b] / 1000, latency_le_ms[b] % 1000,
                          (unsigned long long)cum);
        }
        cum += r->le[METRICS_LATENCY_BUCKETS];
        metrics_textf(t,
                      "baobao_request_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n"
                      "baobao_request_duration_seconds_sum{method=\"%s\"} %llu.%03u\n"
                      "baobao_request_duration_seconds_count{method=\"%s\"} %llu\n",
                      r->name, (unsigned long long)cum, r->name,
                      (unsigned long long)(r->sum_ms / 1000), (unsigned)(r->sum_ms % 1000),
                      r->name, (unsigned long long)r->count);
    }
    metrics_textf(t, "# HELP baobao_requests_in_flight Requests dispatched and not yet"
                     " answered.\n# TYPE baobao_requests_in_flight gauge\n"
                     "baobao_requests_in_flight %u\n",
                  M.in_flight);
    metrics_textf(t, "# HELP baobao_group_commit_batch_size Submits carried by one group-commit"
                     " statement.\n# TYPE baobao_group_commit_batch_size histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b < METRICS_BATCH_BUCKETS; b++) {
        cum += M.batch_le[b];
        metrics_textf(t, "baobao_group_commit_batch_size_bucket{le=\"%u\"} %llu\n", batch_le[b],
                      (unsigned long long)cum);
    }
    cum += M.batch_le[METRICS_BATCH_BUCKETS];
    metrics_textf(t,
                  "baobao_group_commit_batch_size_bucket{le=\"+Inf\"} %llu\n"
                  "baobao_group_commit_batch_size_sum %llu\n"
                  "baobao_group_commit_batch_size_count %llu\n",
                  (unsigned long long)cum, (unsigned long long)M.batch_sum,
                  (unsigned long long)M.batch_count);
    for (size_t f = 0; f < METRICS_NFAMILIES; f++) {
        metrics_textf(t, "# HELP %s %s\n# TYPE %s counter\n", family_names[f], family_help[f],
                      family_names[f]);
        for (size_t o = 0; o < METRICS_FAMILY_OUTCOMES && M.fam_outcome[f][o] != NULL; o++)
            metrics_textf(t, "%s{outcome=\"%s\"} %llu\n", family_names[f], M.fam_outcome[f][o],
                          (unsigned long long)M.fam_count[f][o]);
    }
}
