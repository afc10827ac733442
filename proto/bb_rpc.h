/*
 * bb_rpc.h: the msgpack-RPC envelope shared by server and client.
 *
 *   request      [0, msgid, method, params]   params = [ {name: value, ...} ] or []
 *   response     [1, msgid, error, result]    error = nil | {code, message, field?}
 *   notification [2, method, params]
 *
 * Packing helpers write into a caller's msgpack_packer; parsing helpers
 * read a msgpack_object that msgpack_unpack produced from a message that
 * bb_frame_scan accepted. Nothing here does I/O or owns memory: returned
 * pointers borrow from the msgpack_object (and so from its zone).
 */
#ifndef BB_RPC_H
#define BB_RPC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include "bb_errors.h"

enum { BB_RPC_REQUEST = 0, BB_RPC_RESPONSE = 1, BB_RPC_NOTIFICATION = 2 };

typedef struct bb_rpc_msg {
    int type;                      /* BB_RPC_* */
    uint32_t msgid;                /* request, response */
    const char *method;            /* request, notification: not NUL-terminated */
    uint32_t method_len;
    const msgpack_object *params;  /* request, notification: the argument map,
                                      or NULL when params was [] */
    const msgpack_object *error;   /* response: NULL when nil */
    const msgpack_object *result;  /* response */
} bb_rpc_msg;

/*
 * Parses an envelope of any of the three kinds (PROTOCOL.md section 1):
 * an array; element 0 an unsigned int 0, 1 or 2; a request or response has
 * 4 elements and a msgid that is an unsigned int <= UINT32_MAX; a request's
 * or notification's method is a str (a bin is refused) and its params are
 * [] (out->params = NULL) or [map] whose keys are all str; a response's
 * error is nil (out->error = NULL) or a map. The server itself refuses a
 * well-formed envelope whose type is not 0.
 *
 * Returns 0, or -1 with *why set to a static English reason (why may be
 * NULL). *msgid_known tells whether out->msgid was readable even so: it is
 * set for a request or response whose element 1 is a valid msgid, whatever
 * else is wrong (so a malformed request can still be answered by msgid).
 * Keys are not checked for UTF-8 or duplicates here.
 */
__attribute__((warn_unused_result))
int bb_rpc_parse(const msgpack_object *obj, bb_rpc_msg *out, bool *msgid_known,
                 const char **why);

/* Packs a request header [0, msgid, method, [ and the caller then packs
 * exactly one map when has_args (nothing otherwise, giving []) and may call
 * bb_rpc_pack_request_end, which packs nothing (msgpack declares lengths up
 * front) and is there so the calls read as a pair. */
void bb_rpc_pack_request_begin(msgpack_packer *pk, uint32_t msgid, const char *method,
                               bool has_args);
void bb_rpc_pack_request_end(msgpack_packer *pk);
/* Packs the response prefix [1, msgid, nil, ; the caller packs the result. */
void bb_rpc_pack_result_begin(msgpack_packer *pk, uint32_t msgid);
/* Packs a whole error response [1, msgid, {code, message, field?}, nil].
 * field may be NULL (then the map has no "field" key); message NULL packs
 * the code's wire string as the message. */
void bb_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, bb_err code,
                       const char *message, const char *field);
/* Packs [2, method, [{code, message}]]: sent before the server closes a
 * connection it cannot answer by msgid (method "connection.closing"). */
void bb_rpc_pack_closing(msgpack_packer *pk, bb_err code, const char *message);

/* Small packing helpers for str keys and values. bb_pack_cstr packs nil for
 * NULL. */
void bb_pack_cstr(msgpack_packer *pk, const char *s);
void bb_pack_strn(msgpack_packer *pk, const char *s, size_t len);

/* Map lookup by key (str keys only, compared byte for byte). Returns the
 * value of the first matching key (borrowed from map), or NULL when absent
 * or map is not a map. */
const msgpack_object *bb_map_get(const msgpack_object *map, const char *key);

#endif
