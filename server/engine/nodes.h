/*
 * nodes.h: this process among the baobaod processes of one database, for
 * sessions that every process judges alike (sql/027_session_epoch.sql,
 * PROTOCOL.md "Sessions across processes").
 *
 * A change that ends a user's sessions (password, role, scope, disabled)
 * raises the user's epoch; at its commit every process hears
 * 'bb_session' on its LISTEN connection (listen.h), logs that user's older
 * sessions out and says so in the registry (bb_node.applied_seq). The
 * process that made the change waits, before it answers, until every live
 * process has (nodes_barrier). Nothing is asked on the hot path: a request
 * only checks, in memory, that this process can hear now (session_gate).
 *
 * "Can hear" (session_hear_until): LISTEN is up, the sessions held were
 * re-checked against the database after LISTEN last came up, and this
 * process heard the echo of one of its own beats (sent through the pool,
 * delivered through LISTEN on a channel of its own) within
 * NODE_STALE_MS / 2. Another process
 * stops waiting for this one when its beat is NODE_STALE_MS old: by then
 * this one has refused sessions for NODE_STALE_MS / 2 already. Why this is
 * strict is written out in PROTOCOL.md.
 *
 * Ownership: module state of the loop thread; the registry row is this
 * process's, removed at a clean stop (nodes_stop) or, if it died, by the
 * next process that registers once it is NODE_FORGET_S old.
 * Not for: the sessions themselves (session.h), the LISTEN connection
 * (listen.h).
 */
#ifndef BB_NODES_H
#define BB_NODES_H

#include <stdbool.h>
#include <stdint.h>

struct server;

/* Beats: how often this process says it is alive (and hears its echo). */
#define NODE_BEAT_MS 500u
/* A process whose last beat is older is not waited for by a barrier; this
 * process refuses sessions when its last heard echo was sent more than
 * half of it ago. */
#define NODE_STALE_MS 3000u
/* Rows of processes gone for this long are removed (bb_node_register). */
#define NODE_FORGET_S 86400u
/* A barrier asks the registry this often... */
#define SESSION_BARRIER_POLL_MS 5u
/* ... and gives up after this long (logged): a process that still has not
 * applied the change by then has not heard an echo since before the
 * change for NODE_STALE_MS / 2, so it refuses sessions (nodes.h above). */
#define SESSION_BARRIER_MAX_MS (NODE_STALE_MS / 2u + 500u)

/* Registers the statements with the pool; before pool_start. 0 or -1
 * (logged). */
__attribute__((warn_unused_result))
int nodes_register(void);
/* Asks for the 'bb_session' channel and this process's echo channel
 * ("bb_node_" and random letters), and starts the beat timer; after the
 * pool exists, before listen_start. 0 or a negative uv error. */
__attribute__((warn_unused_result))
int nodes_start(struct server *s);
/* Leaves the registry (best effort, through the pool) and stops the
 * timer; at shutdown, before the pool closes. */
void nodes_stop(struct server *s);

/* A session was set by a login (or resume) that began before LISTEN last
 * came up (session_relistened_since): every session is checked against
 * the database again before any is served (rare: a login across a
 * reconnect or the start). Logged session_recheck_again. */
void nodes_recheck(void);

/* applied: every live process applied the change (false: gave up after
 * SESSION_BARRIER_MAX_MS, logged; see above why the answer may still go). */
typedef void (*nodes_barrier_cb)(void *arg, bool applied);
/* After a change to user_id committed: calls cb once every live process
 * has applied the last change to that user (at once when there is none).
 * Returns 0 (cb runs later, exactly once) or -1 (out of memory: cb never
 * runs; the caller answers at once). */
__attribute__((warn_unused_result))
int nodes_barrier(struct server *s, int64_t user_id, nodes_barrier_cb cb, void *arg);

#endif
