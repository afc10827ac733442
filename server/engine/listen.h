/*
 * listen.h: PostgreSQL LISTEN/NOTIFY for the whole process: one connection
 * of its own, outside the request pool, that LISTENs on the channels the
 * modules asked for and hands each notification to its module on the loop
 * thread. It reconnects by itself (reconnect_min_ms doubling to
 * reconnect_max_ms); notifications sent while it was down are lost, so each
 * module's on_ready runs after every (re)connect, once LISTEN is active, to
 * catch up from the database (which holds the truth: the channels only say
 * "look now").
 *
 * Why a connection of its own: a pooled connection runs other requests'
 * statements in pipeline mode and may be replaced at any time; LISTEN
 * belongs to a session, and a notification must reach every baobaod on
 * the database whatever its pool is doing (PROTOCOL.md, "Push").
 *
 * Ownership: the engine owns the connection and the channel table; the
 * callbacks and their arg are the module's, called on the loop thread.
 * Not for: sending notifications (pg_notify in SQL, inside the writing
 * transaction, so a notification exists only if its rows committed).
 */
#ifndef BB_LISTEN_H
#define BB_LISTEN_H

#include <stdbool.h>

struct server;

/* Channels at most (a few per module). */
#define LISTEN_MAX_CHANNELS 8

/* A notification on the channel: payload is NUL-terminated, borrowed for
 * the call. */
typedef void (*listen_notify_cb)(void *arg, const char *payload);
/* LISTEN is active (after the first connect and after every reconnect). */
typedef void (*listen_ready_cb)(void *arg);

/* Asks for channel (a plain identifier, [a-z_]+, at most 63 bytes) before
 * listen_start: from a module's .start. on_ready may be NULL. Returns 0, or
 * -1 (logged) when the table is full or the name is not an identifier. */
__attribute__((warn_unused_result))
int listen_on(const char *channel, listen_notify_cb on_notify, listen_ready_cb on_ready,
              void *arg);
/* Connects and LISTENs (main.c, after every module started). Returns 0 or
 * a negative uv error. With no channel asked for it does nothing. */
__attribute__((warn_unused_result))
int listen_start(struct server *s);
/* Closes the connection (shutdown). */
void listen_stop(struct server *s);
/* True while LISTEN is active. */
bool listen_is_up(void);

#endif
