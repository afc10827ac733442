/*
 * tls.h: TLS 1.2/1.3 for client connections (OpenSSL over memory BIOs, so
 * the libuv stream, framing, backpressure and linger in client.c stay as
 * they are).
 *
 * Start-up (main.c, before the loop): tls_server_init reads tls_cert and
 * tls_key (blocking reads are fine there), checks that the key matches the
 * certificate, and builds the one SSL_CTX (TLS 1.2 minimum, renegotiation
 * off, no session cache or tickets, SSL_MODE_RELEASE_BUFFERS). Without TLS
 * it refuses a listen address that is not loopback unless allow_plaintext.
 *
 * Per connection (client.c, on the loop thread): a tls_conn holds one SSL
 * between two memory BIOs. client.c writes the ciphertext it reads from the
 * socket into it (tls_conn_feed), takes plaintext out (tls_conn_read), and
 * gives it plaintext to send (tls_conn_encrypt), which comes back as
 * ciphertext appended to a tls_buf that client.c hands to uv_write. The
 * handshake happens inside tls_conn_read (the server answers the client's
 * hello from there); its output is whatever tls_conn_drain yields next.
 * Nothing here blocks, reads a socket or knows about libuv.
 *
 * Ownership: the server owns the tls_server (s->tls); each client owns its
 * tls_conn. Not for: framing, limits, states (client.c).
 */
#ifndef BB_TLS_H
#define BB_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "server.h"

/* Before the loop runs: with tls_cert/tls_key set, loads them and sets
 * s->tls; without, leaves s->tls NULL and refuses (returns -1 with a
 * message in err) a listen address that is not loopback unless
 * allow_plaintext is 1. Returns 0 or -1. */
__attribute__((warn_unused_result))
int tls_server_init(server *s, char *err, size_t errlen);
/* After the loop has closed. */
void tls_server_free(server *s);

/* The first byte of every TLS connection: a handshake record. */
#define TLS_RECORD_HANDSHAKE 0x16

typedef struct tls_conn tls_conn;

/* Ciphertext waiting to be handed to uv_write (malloc'd; the caller takes
 * data and resets the struct). */
typedef struct tls_buf {
    char *data;
    size_t len, cap;
} tls_buf;

typedef enum tls_status {
    TLS_OK = 0,       /* data (tls_conn_read: *n > 0) or done */
    TLS_WANT_MORE,    /* needs more ciphertext from the peer */
    TLS_CLOSED,       /* the peer sent close_notify */
    TLS_ERROR,        /* a fatal error (tls_conn_error says which) */
} tls_status;

/* A new server-side connection. NULL when out of memory. (Log lines are
 * client.c's: it names the connection; tls_conn_error says why.) */
__attribute__((warn_unused_result))
tls_conn *tls_conn_new(struct tls_server *ts);
void tls_conn_free(tls_conn *t);

/* Hands ciphertext read from the socket to OpenSSL. TLS_OK or TLS_ERROR
 * (out of memory). */
__attribute__((warn_unused_result))
tls_status tls_conn_feed(tls_conn *t, const void *data, size_t len);
/* Advances the handshake with the ciphertext fed so far: TLS_OK once it
 * is done (at once when it already was), TLS_WANT_MORE, or TLS_ERROR.
 * Lets client.c hold no input buffer until there can be plaintext. */
__attribute__((warn_unused_result))
tls_status tls_conn_handshake(tls_conn *t);
/* Plaintext into buf (up to cap bytes): TLS_OK with *n > 0, TLS_WANT_MORE,
 * TLS_CLOSED or TLS_ERROR. Drives the handshake; call tls_conn_drain after
 * it to collect what it wants sent. */
__attribute__((warn_unused_result))
tls_status tls_conn_read(tls_conn *t, void *buf, size_t cap, size_t *n);
/* Encrypts len bytes of plaintext, appending the records to out. Only
 * after the handshake (tls_conn_ready). TLS_OK or TLS_ERROR. */
__attribute__((warn_unused_result))
tls_status tls_conn_encrypt(tls_conn *t, const void *data, size_t len, tls_buf *out);
/* Appends the ciphertext OpenSSL produced (handshake, alerts, close_notify)
 * to out. TLS_OK or TLS_ERROR (out of memory). */
__attribute__((warn_unused_result))
tls_status tls_conn_drain(tls_conn *t, tls_buf *out);
/* Ciphertext produced and not yet drained, in bytes. */
size_t tls_conn_pending_out(const tls_conn *t);
/* True once the handshake is done and no fatal error happened. */
bool tls_conn_ready(const tls_conn *t);
/* True once a fatal error happened (nothing more can be sent but the
 * alert already produced). */
bool tls_conn_failed(const tls_conn *t);
/* Queues close_notify (best effort; only on a healthy, finished
 * handshake, once). Collect it with tls_conn_drain. */
void tls_conn_close_notify(tls_conn *t);
/* After a pump: gives back the memory BIOs' buffers when they are empty
 * and grew, so an idle connection keeps only the SSL object. */
void tls_conn_trim(tls_conn *t);
/* Why the last TLS_ERROR happened (OpenSSL's reason), for log lines. */
const char *tls_conn_error(const tls_conn *t);
/* The protocol version and cipher after the handshake ("TLSv1.3",
 * "TLS_AES_128_GCM_SHA256"). */
const char *tls_conn_version(const tls_conn *t);
const char *tls_conn_cipher(const tls_conn *t);

#endif
