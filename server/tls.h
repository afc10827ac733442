/*
 * tls.h: TLS 1.2/1.3 for client connections (OpenSSL over memory BIOs, so
 * the libuv stream, framing, backpressure and linger in client.c stay as
 * they are).
 *
 * placeholder: being written (TLS helper). The two functions below are the
 * agreed start-up contract used by main.c.
 */
#ifndef BB_TLS_H
#define BB_TLS_H

#include <stddef.h>
#include "server.h"

/* Before the loop runs: with tls_cert/tls_key set, loads them and sets
 * s->tls; without, leaves s->tls NULL and refuses (returns -1 with a
 * message in err) a listen address that is not loopback unless
 * allow_plaintext is 1. Returns 0 or -1. */
__attribute__((warn_unused_result))
int tls_server_init(server *s, char *err, size_t errlen);
/* After the loop has closed. */
void tls_server_free(server *s);

#endif
