/*
 * server.h: the one object that ties baobaod together: the loop, the
 * settings, the pool, the listener, the set of client connections, and the
 * shutdown state. Created in main.c; borrowed by everything else.
 */
#ifndef BB_SERVER_H
#define BB_SERVER_H

#include <uv.h>
#include <stdbool.h>
#include <stdint.h>
#include "config.h"

/* The version baobaod reports (--version, server.info). The build may
 * define it from meson's project version. */
#ifndef BAOBAOD_VERSION
#define BAOBAOD_VERSION "0.1.0"
#endif

struct pool;
struct client;
struct tls_server;
struct proxy_acl;

typedef struct server {
    uv_loop_t *loop;
    config cfg;
    struct pool *pool;
    struct tls_server *tls;       /* tls.c: NULL when serving plaintext */
    /* proxy.h: peers that must send a PROXY header (proxy_trusted, parsed
     * at start; borrowed, lives as long as the server); NULL = none */
    const struct proxy_acl *proxy_trusted;
    uv_tcp_t listener;
    bool shutting_down;
    uint64_t next_conn_id;
    unsigned nclients;
    struct client *clients;       /* intrusive list of open connections */
    /* client.c: input buffer bytes beyond each connection's free base,
     * summed over connections; at most cfg.input_budget_bytes */
    size_t input_reserved;
    /* client.c, output_budget_bytes: unsent output (buffer, libuv write
     * queue, TLS) summed over connections, in bytes of payload, not of
     * memory held; the connections paused for the budget, oldest pause
     * first (a FIFO, linked through the clients; borrowed: a connection
     * leaves it when it resumes or leaves OPEN); how many; set when one of
     * them may read again (on_flush_check then looks); the connections
     * closed for it (/metrics) */
    size_t output_pending;
    struct client *budget_paused_head, *budget_paused_tail;
    unsigned output_budget_paused;
    bool budget_resume_due;
    /* client.c: this turn's walk over the connections, sorted in the order
     * they are closed for the budget (owned, freed at the turn's end, in
     * on_flush_check: no connection is freed before that); the next one to
     * close; whether this turn walked already */
    struct budget_cand *budget_cand;
    size_t budget_ncand, budget_icand;
    bool budget_walked;
    uint64_t output_budget_closes;
    /* client.c: memory back to the system after an output spike
     * (malloc_trim on the thread pool; see CLIENT_TRIM_*) */
    bool output_spiked;           /* above half the budget since the last trim */
    bool trim_busy;               /* trim_work queued, not done */
    bool trim_timer_init;
    uint64_t trim_last_ms;        /* uv_now of the last trim; 0 = none */
    uv_timer_t trim_timer;
    uv_work_t trim_work;
    uint64_t started_at_ms;       /* uv_now at start */

    /* Response coalescing (client.c): responses produced during one loop
     * iteration are appended to their connection's output buffer and
     * written once, in flush_check (after the poll phase). flush_idle runs
     * only while something waits, so the poll phase does not block while
     * a response produced by a timer callback is still unwritten. */
    uv_check_t flush_check;
    uv_idle_t flush_idle;
    struct client *flush_head;    /* connections with output waiting */
    bool listener_open;           /* listener.c: `listener` needs closing */
    /* Set by main.c: called once shutting_down is set and the last client
     * connection's handles have closed (nclients reached 0). */
    void (*clients_gone)(struct server *s);
} server;

#endif
