/*
 * conn.h: one benchmark client connection to baobaod: a non-blocking TCP
 * socket, an output buffer that requests are packed into, and an input
 * buffer whose replies are framed with proto's bb_frame scanner.
 *
 * For: bench.c's event loop and idle.c. The caller owns the loop (epoll)
 * and decides when to flush and read. Not for: what the requests say or
 * what replies mean (workload.h).
 *
 * Ownership: a bconn owns its socket and both buffers; conn_close frees
 * them. Borrowed pointers handed to the reply callback are valid only
 * during the call.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bb_frame.h"

/* Largest reply accepted (a list page of 20 enterprises is ~6 KB). */
#define CONN_MAX_REPLY_BYTES (16u * 1024u * 1024u)
#define CONN_MAX_REPLY_DEPTH 32u

typedef struct bconn {
    int fd;
    int index;                 /* position in the caller's array */
    uint8_t *in;               /* in[0..in_len): received, not yet consumed */
    size_t in_len, in_cap;
    bb_frame frame;            /* scanner state of the message at in[0] */
    uint8_t *out;              /* out[out_off..out_len): packed, not yet written */
    size_t out_len, out_off, out_cap;
    bool want_write;           /* EPOLLOUT is armed */
    bool broken;               /* closed by the peer or a socket error */
    msgpack_packer pk;         /* packs into out */
    void *user;                /* the caller's per-connection state */
} bconn;

/* Resolves "HOST:PORT" (numeric IPv4/IPv6 or a name) once, into *addr.
 * Returns 0, or -1 with a message on stderr. */
struct sockaddr_storage;
__attribute__((warn_unused_result))
int conn_resolve(const char *hostport, struct sockaddr_storage *addr, unsigned *addrlen);

/* Connects (blocking connect, then non-blocking socket with TCP_NODELAY)
 * and sets up the buffers. Returns 0, or -1 with errno set. */
__attribute__((warn_unused_result))
int conn_open(bconn *c, const struct sockaddr_storage *addr, unsigned addrlen, int index);
void conn_close(bconn *c);

/* Writes what the output buffer holds, as far as the socket takes it.
 * Returns 1 when everything was written, 0 when bytes remain (arm
 * EPOLLOUT), -1 on a socket error (c->broken is set). */
__attribute__((warn_unused_result))
int conn_flush(bconn *c);

/* Called once per reply message: msg[0..len) is one whole msgpack object. */
typedef void (*conn_reply_cb)(bconn *c, const uint8_t *msg, size_t len, void *ctx);

/* Reads what the socket has (until EAGAIN) and calls cb for each complete
 * message. Returns the number of messages, or -1 when the connection broke
 * or sent something that is not msgpack or exceeds the limits (c->broken is
 * set and a reason is on stderr). */
__attribute__((warn_unused_result))
int conn_read(bconn *c, conn_reply_cb cb, void *ctx);

#endif
