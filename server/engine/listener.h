/*
 * listener.h: the listening socket: bind host:port (IPv4 or IPv6), accept,
 * and refuse connections beyond max_connections with a
 * `connection.closing` notification (code `unavailable`).
 *
 * Not for: anything about an accepted connection (client.c).
 */
#ifndef BB_LISTENER_H
#define BB_LISTENER_H

#include "server.h"

/* Binds s->cfg.listen_host:s->cfg.port and listens on s->listener. Logs
 * `event=listening host=H port=N` with the real port (also for port 0).
 * Returns 0, or a negative uv error (logged). */
__attribute__((warn_unused_result))
int listener_start(server *s);
/* Stops accepting: closes the listening socket. Safe to call twice. */
void listener_stop(server *s);

#endif
