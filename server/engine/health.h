/*
 * health.h: the plain HTTP/1.1 listener on health_listen for probes and
 * scrapes: GET /live (200 while the loop runs), GET /ready (200 while the
 * pool has a connection up and the database takes writes, else 503),
 * GET /metrics (Prometheus text format 0.0.4: metrics.h and the gauges
 * read at scrape time). One request per connection (Connection: close).
 *
 * Not for: the protocol (listener.c, client.c); it shares no port with
 * it and knows no method.
 */
#ifndef BB_HEALTH_H
#define BB_HEALTH_H

#include "server.h"

/* The most HTTP connections open at once; one more is closed at accept. */
#define HEALTH_MAX_CONNECTIONS 16
/* The most bytes of one request (request line and headers; a body is not
 * expected): a larger one is closed. */
#define HEALTH_REQUEST_MAX 8192
/* A connection that has not sent a whole request, or not taken its answer,
 * within this long is closed. */
#define HEALTH_TIMEOUT_MS 5000
/* How often /ready's view of the database is refreshed: a query
 * `SELECT pg_is_in_recovery()` through the pool. */
#define HEALTH_READY_CHECK_MS 1000
/* /ready is 503 when no check has been answered for this long: a
 * database that hangs without closing its connections is not ready. */
#define HEALTH_READY_STALE_MS 5000
/* The largest /metrics page (a bound, far above what the fixed tables
 * can produce). */
#define HEALTH_METRICS_MAX (4u << 20)

/* Checks health_listen's form ("host:port", "[v6]:port", port 0 – 65535)
 * and that it is not the protocol's port (same port number, not 0).
 * Returns 0, or -1 with a reason in err (baobaod exits 2, as for any bad
 * setting). Before anything is started. */
__attribute__((warn_unused_result)) int health_check_setting(const config *c, char *err,
                                                             size_t errlen);
/* Registers the readiness statement with the pool; before pool_create,
 * whether or not health_listen is set. Returns 0 or -1 (logged). */
__attribute__((warn_unused_result)) int health_register(void);
/* Binds s->cfg.health_listen (nothing when empty) and starts the
 * readiness timer; before the loop runs (the name is resolved blocking).
 * Returns 0, or a negative uv error (logged). */
__attribute__((warn_unused_result)) int health_start(server *s);
/* Closes the listener, the timer and every open HTTP connection. Safe to
 * call twice and when never started. */
void health_stop(server *s);

#endif
