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
