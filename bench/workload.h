/*
 * workload.h: what the benchmark asks baobaod, and how it reads the answers.
 *
 * Workloads (see docs/benchmarks.md):
 *   submit  status.submit: a random enterprise, valid data, a unique
 *           idempotency key each
 *   get     enterprise.get of a random existing id (1..n_enterprises)
 *   list    enterprise.list filtered by a random township, limit 20
 *   mixed   60% get, 20% list, 20% submit
 *   overdue overdue.milestones filtered by a random township, limit 20
 *           (issue 5: the supervisors' query on 100,000 projects)
 *   idle    (idle.c) one server.info per connection, then nothing
 *   info    server.info, logged in: a request that never reaches the
 *           database, so its CPU per request is baobaod's edge alone (read,
 *           parse, dispatch, pack, write): the floor under every other
 *           workload's figure (docs/benchmarks.md)
 *
 * For: packing requests (msgpack-c, straight into a connection's buffer)
 * and reading replies: a fast path that only reads the envelope's msgid and
 * whether error is nil, and a full decode (msgpack_unpack) for errors and
 * for the sampled replies whose content is checked. Not for: sockets
 * (conn.h) or timing (bench.c).
 */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rng.h"

typedef enum op_kind { OP_GET = 0, OP_LIST, OP_SUBMIT, OP_INFO, OP_OVERDUE, OP_KINDS } op_kind;
typedef enum workload {
    WL_SUBMIT = 0, WL_GET, WL_LIST, WL_MIXED, WL_IDLE, WL_OVERDUE, WL_INFO
} workload;

/* Rows per enterprise.list page (the "limit 20"). */
#define WL_LIST_LIMIT 20u
/* Rows per overdue.milestones page. */
#define WL_OVERDUE_LIMIT 20u
/* Percentages of the mixed workload. */
#define WL_MIXED_GET_PCT 60u
#define WL_MIXED_LIST_PCT 20u   /* the remaining 20% are submits */

const char *op_name(op_kind op);
/* Parses a workload name; returns -1 when unknown. */
int workload_parse(const char *name);
const char *workload_name(workload w);


typedef struct wl_config {
    int64_t n_enterprises;     /* ids 1..n exist */
    char run_id[48];           /* prefix of idempotency keys: unique per run */
} wl_config;

/* What one request was about, for checking its reply. */
typedef struct req_info {
    op_kind op;
    int64_t arg;      /* get: the id; list, overdue: the township index; submit: the
                         enterprise id */
} req_info;

/* The operation the next request of workload w does. */
op_kind wl_pick(workload w, uint64_t *rng);

/* Packs request msgid of kind op with random arguments into pk; fills *info.
 * seq makes the submit idempotency key unique (with conn and the run id). */
void wl_pack(msgpack_packer *pk, const wl_config *cfg, uint64_t *rng, op_kind op,
             uint32_t msgid, int conn, uint64_t seq, req_info *info);

/* Packs session.login (issue 4: a load connection logs in before its
 * first request; server.info alone, the idle test's, needs no login). */
void wl_pack_login(msgpack_packer *pk, uint32_t msgid, const char *login, const char *password);

typedef enum reply_kind {
    REPLY_OK = 0,      /* [1, msgid, nil, result] */
    REPLY_ERROR,       /* [1, msgid, {error}, nil] */
    REPLY_OTHER,       /* a notification, or not a response envelope */
} reply_kind;

/* Reads only the envelope's head: kind and msgid (for REPLY_OK/ERROR). */
reply_kind reply_peek(const uint8_t *msg, size_t len, uint32_t *msgid);

/* Decodes the whole reply. For an error or notification writes
 * "code: message" into why and returns -1. For a success checks the result
 * against the request (get: the same id; list: at most WL_LIST_LIMIT items,
 * all of the township, ascending ids; submit: the same enterprise, an id;
 * info: name "baobaod"; overdue: at most WL_OVERDUE_LIMIT items, all of the
 * township, planned dates in order, each red or yellow) and returns 0, or -1 with why set. */
__attribute__((warn_unused_result))
int reply_check(const uint8_t *msg, size_t len, const req_info *info, char *why, size_t whylen);

#endif
