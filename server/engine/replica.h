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
 *     measured every replica_every_ms (replica.c says how); between
 *     two measurements it does not move, so the lag it implies (now -
 *     horizon) only grows, and reads leave the replica by themselves when
 *     measuring stops working;
 *   - the calling user has not finished a request of a method that
 *     writes (declared BB_M_WRITE or BB_M_WRITES; a login counts for the
 *     user it logged in) at or after the horizon, and has none in flight:
 *     a user's own write is read back from the primary until the replica
 *     has replayed it. A change to the user's rights (replica_user_changed)
 *     counts the same way: their scope is read in SQL on the replica;
 *   - the horizon is past the instant hearing of such changes was last
 *     restored (replica_all_changed), if it ever was lost;
 *   - read_db is in recovery, or is the very server db reaches (same
 *     system identifier and postmaster start): a promoted or split-off
 *     read_db is not used (logged).
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

/* SQL: which server answers, as text: its system identifier (shared by a
 * primary and its standbys, and by a standby once promoted) and the start
 * of its postmaster (not shared by two servers). A read_db or export_db
 * out of recovery is used only when this equals db's. */
#define REPLICA_SERVER_ID                                                                    \
    "(SELECT system_identifier::text FROM pg_control_system()) || ':'"                      \
    " || extract(epoch FROM pg_postmaster_start_time())::text"
/* Room for REPLICA_SERVER_ID's text (20 digits, ':', an epoch with
 * microseconds). */
#define REPLICA_SERVER_ID_MAX 64

/* The horizon is measured every read_max_lag_ms / REPLICA_LAG_EVERY_PARTS,
 * within REPLICA_LAG_EVERY_MIN_MS .. REPLICA_LAG_EVERY_MS (and every
 * REPLICA_LAG_EVERY_MS for read_max_lag_ms 0). A caught-up replica's lag
 * stays below a measurement interval and its round trip, so well below
 * read_max_lag_ms: a small read_max_lag_ms does not make the replica flap
 * in and out of use (and log it) between two measurements. */
#define REPLICA_LAG_EVERY_MS 1000u
#define REPLICA_LAG_EVERY_MIN_MS 100u
#define REPLICA_LAG_EVERY_PARTS 4u
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
/* pool_query on the read pool for req (alive until cb ran), with the same
 * contract; when the replica answers `unavailable` for a reason other than
 * a refused write (its connection lost, a query cancelled by a recovery
 * conflict, the read pool down), the statement is sent again to the
 * primary with the same values, cb sees the primary's answer, the retry
 * is logged with req's connection and msgid, and req's later statements go
 * to the primary too (req_set_route). */
__attribute__((warn_unused_result))
int replica_query(struct server *s, struct request *req, const pool_stmt *stmt,
                  const char *const *values, const int *lengths, pool_cb cb, void *arg);

/* How often the horizon is measured for a read_max_lag_ms (above). */
uint64_t replica_every_ms(uint32_t max_lag_ms);

/* A request of a method that writes (BB_M_WRITES_ANY) by user began /
 * ended (whatever its outcome; now_ms: uv_now). Called by the dispatcher. */
void replica_write_begin(int64_t user);
void replica_write_end(int64_t user, uint64_t now_ms);

/* User user_id's rights changed (role, townships, disabled, password: the
 * session epoch moved) at now_ms (uv_now): that user's reads go to the
 * primary until the replica's horizon passes now_ms, since their scope is
 * resolved in SQL from tables the replica may not have replayed yet.
 * Called by nodes.c before the change is acknowledged. */
void replica_user_changed(int64_t user_id, uint64_t now_ms);
/* Any user's rights may have changed unheard (the LISTEN connection was
 * lost and is back, at now_ms): no read goes to the replica until its
 * horizon passes now_ms. Called by nodes.c when hearing is restored. */
void replica_all_changed(uint64_t now_ms);

/* Appends the replica's lines to the /metrics page (health.c). */
void replica_metrics(struct server *s, metrics_text *t);

#endif
