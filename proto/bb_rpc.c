/*
 * bb_rpc.c: the msgpack-RPC envelope (see bb_rpc.h and proto/PROTOCOL.md
 * section 1).
 *
 * For: checking an unpacked message is a well-formed request, response or
 * notification, and packing the envelopes both sides send.
 * Not for: method arguments (server/engine/args.c checks those) or framing and
 * limits (bb_frame.c, which runs before anything is unpacked).
 */
#include "bb_rpc.h"

#include <string.h>

#define CLOSING_METHOD "connection.closing"

static bool is_uint32(const msgpack_object *o)
{
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= UINT32_MAX;
}

/* params must be [] or [map with str keys]; sets *params (NULL for []). */
static int parse_params(const msgpack_object *o, const msgpack_object **params,
                        const char **why)
{
    if (o->type != MSGPACK_OBJECT_ARRAY) {
        *why = "params must be an array";
        return -1;
    }
    if (o->via.array.size == 0) {
        *params = NULL;
        return 0;
    }
    if (o->via.array.size != 1) {
        *why = "params must be [] or an array of one map";
        return -1;
    }
    const msgpack_object *m = &o->via.array.ptr[0];
    if (m->type != MSGPACK_OBJECT_MAP) {
        *why = "params must be [] or an array of one map";
        return -1;
    }
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        if (m->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR) {
            *why = "argument names must be str";
            return -1;
        }
    }
    *params = m;
    return 0;
}

static int parse_method(const msgpack_object *o, bb_rpc_msg *out, const char **why)
{
    if (o->type != MSGPACK_OBJECT_STR) {
        *why = "method must be a str";
        return -1;
    }
    out->method = o->via.str.ptr;
    out->method_len = o->via.str.size;
    return 0;
}

int bb_rpc_parse(const msgpack_object *obj, bb_rpc_msg *out, bool *msgid_known,
                 const char **why)
{
    const char *why_unused;
    if (why == NULL)
        why = &why_unused;
    memset(out, 0, sizeof *out);
    out->type = -1;
    *msgid_known = false;
    *why = NULL;

    if (obj->type != MSGPACK_OBJECT_ARRAY) {
        *why = "message must be an array";
        return -1;
    }
    const msgpack_object *e = obj->via.array.ptr;
    uint32_t n = obj->via.array.size;
    if (n == 0) {
        *why = "message must not be an empty array";
        return -1;
    }
    if (e[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || e[0].via.u64 > BB_RPC_NOTIFICATION) {
        *why = "message type must be 0, 1 or 2";
        return -1;
    }
    out->type = (int)e[0].via.u64;

    if (out->type == BB_RPC_NOTIFICATION) {
        if (n != 3) {
            *why = "a notification must have 3 elements";
            return -1;
        }
        if (parse_method(&e[1], out, why) != 0)
            return -1;
        return parse_params(&e[2], &out->params, why);
    }

    /* Request or response: the msgid first, so that a message wrong in any
     * other way can still be answered by it. */
    if (n < 2 || !is_uint32(&e[1])) {
        *why = "msgid must be an unsigned int of at most 32 bits";
        return -1;
    }
    out->msgid = (uint32_t)e[1].via.u64;
    *msgid_known = true;
    if (n != 4) {
        *why = out->type == BB_RPC_REQUEST ? "a request must have 4 elements"
                                           : "a response must have 4 elements";
        return -1;
    }
    if (out->type == BB_RPC_REQUEST) {
        if (parse_method(&e[2], out, why) != 0)
            return -1;
        return parse_params(&e[3], &out->params, why);
    }
    if (e[2].type == MSGPACK_OBJECT_NIL) {
        out->error = NULL;
    } else if (e[2].type == MSGPACK_OBJECT_MAP) {
        out->error = &e[2];
    } else {
        *why = "error must be nil or a map";
        return -1;
    }
    out->result = &e[3];
    return 0;
}

void bb_pack_strn(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

void bb_pack_cstr(msgpack_packer *pk, const char *s)
{
    if (s == NULL) {
        msgpack_pack_nil(pk);
        return;
    }
    bb_pack_strn(pk, s, strlen(s));
}

void bb_rpc_pack_request_begin(msgpack_packer *pk, uint32_t msgid, const char *method,
                               bool has_args)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, BB_RPC_REQUEST);
    msgpack_pack_uint32(pk, msgid);
    bb_pack_cstr(pk, method);
    msgpack_pack_array(pk, has_args ? 1 : 0);
}

void bb_rpc_pack_request_end(msgpack_packer *pk)
{
    /* Nothing to close: msgpack declares every length up front. */
    (void)pk;
}

void bb_rpc_pack_result_begin(msgpack_packer *pk, uint32_t msgid)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, BB_RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_nil(pk);
}

/* {code, message[, field]} */
static void pack_error_map(msgpack_packer *pk, bb_err code, const char *message,
                           const char *field)
{
    msgpack_pack_map(pk, field != NULL ? 3 : 2);
    bb_pack_cstr(pk, "code");
    bb_pack_cstr(pk, bb_err_code(code));
    bb_pack_cstr(pk, "message");
    bb_pack_cstr(pk, message != NULL ? message : bb_err_code(code));
    if (field != NULL) {
        bb_pack_cstr(pk, "field");
        bb_pack_cstr(pk, field);
    }
}

void bb_rpc_pack_error(msgpack_packer *pk, uint32_t msgid, bb_err code,
                       const char *message, const char *field)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, BB_RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    pack_error_map(pk, code, message, field);
    msgpack_pack_nil(pk);
}

void bb_rpc_pack_closing(msgpack_packer *pk, bb_err code, const char *message)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint8(pk, BB_RPC_NOTIFICATION);
    bb_pack_cstr(pk, CLOSING_METHOD);
    msgpack_pack_array(pk, 1);
    pack_error_map(pk, code, message, NULL);
}

const msgpack_object *bb_map_get(const msgpack_object *map, const char *key)
{
    if (map == NULL || key == NULL || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
            (klen == 0 || memcmp(kv->key.via.str.ptr, key, klen) == 0))
            return &kv->val;
    }
    return NULL;
}
