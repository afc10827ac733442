/*
 * replica.h: reads from a streaming replica (setting read_db): the read
 * pool, how far behind the replica is, and which pool the statements of
 * a request go to (mstmt.c asks replica_wants at a request's first one).
 *
 * The staleness rule (PROTOCOL.md, "Read replicas"). A request's
 * statements go to the read pool only when all of these hold, else to the
 * primary (s->pool):
 *   - its method is declared BB_M_REPLICA in the spec (proto/bb_spec.h);
 *   - read_db is set and a read pool connection is up;
 *   - the replica's horizon is known and at most read_max_lag_ms old. The
 *     horizon is an instant (this process's clock) before which every
 *     commit of the primary is known to be replayed on the replica,
 *     measured every REPLICA_LAG_EVERY_MS (replica.c says how); between
 *     two measurements it does not move, so the lag it implies (now -
 *     horizon) only grows, and reads leave the replica by themselves when
 *     measuring stops working;
 *   - the calling user has not finished a request of a method that may
 *     write (every method not declared BB_M_REPLICA) at or after the
 *     horizon, and has none in flight: a user's own write is read back
 *     from the primary until the replica has replayed it.
 * A read sent to the replica that finds its connection lost is sent again
 * to the primary (same values, same callback), so a replica that stops
 * costs no failed request.
 *
 * The last rule is per process: behind a balancer, a user's write through
 * one process and a read through another are only covered by the lag
 * bound (documented; a balancer with client affinity covers them).
 *
 * Not for: the connections themselves (pool.c), the export's reading
 * connection (export_db, export_worker.c), or health's /ready (health.c
 * asks the primary only).
 */
#ifndef BB_REPLICA_H
#define BB_REPLICA_H

#include <stdbool.h>
#include <stdint.h>

#include "bb_spec.h"
#include "metrics.h"
#include "pool.h"

struct server;
struct request;

/* The horizon is measured this often. */
#define REPLICA_LAG_EVERY_MS 1000u
/* Users whose recent writes are remembered, as a table of this many slots
 * indexed by a hash of the user id. Two users sharing a slot only send
 * each other's reads to the primary more often: never a stale read. */
#define REPLICA_WRITE_SLOTS 4096u

/* Creates the read pool (read_pool_size connections to read_db) and starts
 * measuring the lag; nothing when read_db is "". After the primary pool,
 * with every statement registered. Returns 0 or a negative error (logged). */
__attribute__((warn_unused_result))
int replica_start(struct server *s);
/* Shutdown: stops measuring and closes the read pool (in-flight reads
 * finish; later reads go to the primary). */
void replica_stop(struct server *s);
/* The shutdown deadline: closes the read pool's connections at once. */
void replica_abort(void);

/* Registers the lag measurement's statements (before the pools start).
 * 0 or -1 (logged). */
__attribute__((warn_unused_result))
int replica_register(void);

/* True when a request of method m by user (0: no session) goes to the
 * replica now (the rule above; mstmt.c asks once per request). Counts the
 * choice for /metrics. */
bool replica_wants(struct server *s, const bb_method_spec *m, int64_t user);
/* pool_query on the read pool, with the same contract; when the replica
 * answers `unavailable` for a reason other than a refused write (its
 * connection lost, a query cancelled by a recovery conflict, the read pool
 * down), the statement is sent again to the primary with the same values
 * and cb sees the primary's answer. */
__attribute__((warn_unused_result))
int replica_query(struct server *s, const pool_stmt *stmt, const char *const *values,
                  const int *lengths, pool_cb cb, void *arg);

/* A request of a method that may write (not BB_M_REPLICA) by user began /
 * ended (whatever its outcome; now_ms: uv_now). Called by the dispatcher. */
void replica_write_begin(int64_t user);
void replica_write_end(int64_t user, uint64_t now_ms);

/* Appends the replica's lines to the /metrics page (health.c). */
void replica_metrics(struct server *s, metrics_text *t);

#endif
