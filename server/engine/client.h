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
 * once per loop iteration (server.flush_check): first straight to the
 * socket (uv_try_write), and only what the kernel did not take goes to a
 * uv_write, which owns that buffer and gives it back in its callback.
 * Buffers come from the server's reply cache (outbuf.h) and go back to it
 * once written, so an idle connection holds none; an answer packed by
 * dispatch.c becomes the connection's buffer without a copy when the
 * connection has nothing else waiting.
 *
 * Output memory server-wide (output_budget_bytes): server.output_pending
 * is every connection's unsent output summed (buffer, libuv write queue,
 * TLS), answers and pushes alike; it counts unsent bytes, not the memory
 * holding them (buffer capacity, cached blocks), which can be up to about
 * twice as much. It is looked at once per loop turn, after the turn's
 * output was offered to the kernel, so an answer the peer takes at once
 * never counts. Past the budget, each connection holding more than
 * write_low_water stops being read (like backpressure; a connection
 * dispatching from its buffer at once), and connections are closed until
 * the total is within the budget: first those whose output has not gone
 * down for a while (peers that do not read), the most unsent output
 * first, then, only if that is not enough, the others (logged
 * output_budget_exceeded, at most one warning a second; counted for
 * /metrics); their output is dropped. The budget is thus a hard cap, up to
 * one turn's answers. A paused connection reads again, a few per turn,
 * oldest first, once the total is below 3/4 of the budget or its own
 * output is below write_low_water with the total within the budget; so a
 * client that reads its answers, even ones larger than write_low_water,
 * is at most paused until they are written, and closed only if clients
 * that read hold more than the budget by themselves. After a spike (above
 * half the budget, then back near zero) glibc's malloc_trim runs on the
 * thread pool, so the memory goes back to the system (it holds the main
 * arena's lock meanwhile, which the loop thread may wait on).
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
/* ---- pushes: notifications the server sends on its own ----
 *
 * A module (server/methods/push.c) packs a whole message once, for
 * example [2, "notice.issued", [record]], and hands it here; every OPEN
 * connection whose session is logged in and subscribed (session.watch.on)
 * and that want() accepts gets a copy in its output buffer. The engine
 * knows nothing of what is pushed: want() decides who is concerned.
 *
 * Bounded: a connection with output pending whose pending bytes plus the
 * message would exceed write_high_water gets nothing (the message is
 * dropped for it) and is marked missed; it gets nothing more until its
 * output has drained below write_low_water, then the one message packed
 * by the missed callback (watch.missed; held back while the subscription
 * is pending, session_watch.pending, until its answer is written), and
 * pushes resume. So a
 * subscriber that does not read costs at most write_high_water plus one
 * message, whatever is pushed. */

/* Says whether the connection of session s (logged in, subscribed) is
 * concerned by the message; arg is client_push's. */
typedef bool (*client_push_want)(void *arg, const session *s);
/* Packs the message a connection gets after it missed pushes (s->watch
 * .last holds the last ids it was pushed). Set once, at a module's start. */
typedef void (*client_push_missed)(msgpack_packer *pk, const session *s);
void client_push_set_missed(client_push_missed pack);

/* Queues msg[0..len) (borrowed: copied) to every subscribed connection
 * want() accepts, and records id as the last pushed of stream (<
 * SESSION_WATCH_STREAMS) on those that got it. Returns how many got it. */
unsigned client_push(server *s, const char *msg, size_t len, unsigned stream, int64_t id,
                     client_push_want want, void *arg);

/* Pushes were lost for everyone (a notification could not be read, or
 * the LISTEN connection was down): every subscribed connection is marked
 * missed and gets the missed message as soon as its output has drained
 * (at once when it has). */
void client_push_missed_all(server *s);

/* The connection id used in log lines (conn=). */
uint64_t client_id(const client *c);
/* The connection's session (session.h; empty until session.login). */
session *client_session(client *c);
/* True once the connection is closing or closed: nothing it asked for
 * need run any more (dispatch.c's requests waiting to hear). */
bool client_closing(const client *c);
/* The peer as "ip:port" and as the address alone ("?" when unknown). */
const char *client_peer(const client *c);
const char *client_peer_ip(const client *c);

#endif
