/*
 * client.h: one client connection: reading, framing, handing requests to
 * the dispatcher, writing responses, backpressure, idle timeout, and the
 * connection's share of a graceful shutdown.
 *
 * Lifecycle (one transition function in client.c refuses other moves):
 *
 *   OPEN      reading (unless paused by backpressure) and dispatching
 *   DRAINING  no longer reading or dispatching (after a limit fault, a
 *             malformed stream, too_many_in_flight, the peer's EOF, or
 *             shutdown); requests in flight are still answered and every
 *             queued byte is written; then LINGERING (or CLOSING at once
 *             when the peer already sent EOF)
 *   LINGERING everything written: FIN sent (uv_shutdown), input read and
 *             discarded until the peer closes or has acknowledged every byte
 *             (with nothing unread on our side), at most 2 s, so that
 *             closing with unread input (which makes the kernel send RST)
 *             cannot destroy the last answers on their way; then CLOSING
 *   CLOSING   uv_close called on the socket and the idle timer; bytes
 *             handed in now are dropped
 *   CLOSED    both close callbacks ran; the object lives on only while a
 *             request still references it
 *
 * Ownership: the server's list (server.clients) holds connections from
 * accept until CLOSED. The object is freed when it is CLOSED and its
 * reference count is zero; each request holds one reference (taken by
 * client_request_begin, released by client_request_end), so a request may
 * outlive its connection and answering it then drops the bytes silently.
 * Output: responses are appended to a per-connection buffer and written
 * once per loop iteration (server.flush_check); each uv_write owns its
 * buffer and frees it in its callback.
 *
 * Not for: the envelope -> method step (dispatch.c), listening and
 * max_connections (listener.c).
 */
#ifndef BB_CLIENT_H
#define BB_CLIENT_H

#include <msgpack.h>
#include <stdint.h>
#include "server.h"
#include "session.h"

typedef struct client client;

/* Sets up the coalescing handles in s (flush_check, flush_idle). Call once
 * before the listener starts. Returns 0 or a negative uv error. */
__attribute__((warn_unused_result))
int client_module_init(server *s);
/* Closes those handles (shutdown, after the last connection). */
void client_module_close(server *s);

/* Accepts one pending connection from the listening stream and starts
 * reading it. Returns 0, or a negative uv error (logged; nothing leaks). */
__attribute__((warn_unused_result))
int client_accept(server *s, uv_stream_t *listener);

/* Graceful shutdown: every connection stops reading; complete requests
 * already received but not dispatched are answered `shutting_down`; the
 * connection closes once its in-flight requests are answered and flushed. */
void client_shutdown_all(server *s);
/* The shutdown deadline: closes every connection now. */
void client_close_all(server *s, const char *reason);

/* For dispatch.c. A request starts: one more in flight, one reference. */
void client_request_begin(client *c);
/* A request ends: takes the packed response from sb (sb is left empty and
 * may be destroyed), queues it (or drops it when the connection is
 * closing or gone), one less in flight, releases the reference (which may
 * free c: do not use c afterwards). */
void client_request_end(client *c, msgpack_sbuffer *sb);
/* The connection id used in log lines (conn=). */
uint64_t client_id(const client *c);
/* The connection's session (session.h; empty until session.login). */
session *client_session(client *c);
/* The peer as "ip:port" and as the address alone ("?" when unknown). */
const char *client_peer(const client *c);
const char *client_peer_ip(const client *c);

#endif
