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

struct pool;
struct client;

typedef struct server {
    uv_loop_t *loop;
    config cfg;
    struct pool *pool;
    uv_tcp_t listener;
    bool shutting_down;
    uint64_t next_conn_id;
    unsigned nclients;
    struct client *clients;       /* intrusive list of open connections */
    uint64_t started_at_ms;       /* uv_now at start */
} server;

#endif
