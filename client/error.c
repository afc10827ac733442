/*
 * error.c: filling bb_error, the one error record of libbaobao.
 *
 * For: client-side codes (timeout, connection_lost, ...), copying a server
 * error map into a bb_error. Not for: deciding what an error means to a
 * user (the CLI's exit codes are in cli_call.c).
 */
#include "client_int.h"

#include "bb_utf8.h"

#include <stdio.h>
#include <string.h>

const char *bbi_rc_code(int rc)
{
    switch (rc) {
    case BB_C_OK: return "";
    case BB_C_ETIMEOUT: return "timeout";
    case BB_C_EIO: return "connection_lost";
    case BB_C_EPROTO: return "protocol_error";
    case BB_C_EARG: return "invalid_argument";
    case BB_C_ENOMEM: return "out_of_memory";
    case BB_C_ESERVER: return "internal";
    default: return "internal";
    }
}

void bbi_err_clear(bb_error *err)
{
    if (err == NULL)
        return;
    err->rc = BB_C_OK;
    err->code[0] = '\0';
    err->field[0] = '\0';
    err->message[0] = '\0';
}

int bbi_err(bb_error *err, int rc, const char *code, const char *field, const char *fmt, ...)
{
    if (err == NULL)
        return rc;
    err->rc = rc;
    snprintf(err->code, sizeof err->code, "%s",
             code != NULL && code[0] != '\0' ? code : bbi_rc_code(rc));
    snprintf(err->field, sizeof err->field, "%s", field != NULL ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return rc;
}

/* Copies a str object into a fixed buffer, cutting at a character boundary
 * so a long Chinese message is not left with half a character. */
static void copy_str(char *dst, size_t cap, const msgpack_object *o)
{
    size_t n = o->via.str.size;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)o->via.str.ptr[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, o->via.str.ptr, n);
    dst[n] = '\0';
}

/* A str object holding valid UTF-8 without NUL (bb_utf8_valid). */
static bool str_ok(const msgpack_object *o)
{
    return bb_utf8_valid(o->via.str.ptr, o->via.str.size);
}

int bbi_err_from_server(bb_error *err, const msgpack_object *map)
{
    if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server error is not a map");
    const msgpack_object *code = bb_map_get(map, "code");
    const msgpack_object *message = bb_map_get(map, "message");
    const msgpack_object *field = bb_map_get(map, "field");
    if (code == NULL || code->type != MSGPACK_OBJECT_STR || code->via.str.size == 0)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server error without a code");
    if (message != NULL && message->type != MSGPACK_OBJECT_STR)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server error message is not a str");
    if (field != NULL && field->type != MSGPACK_OBJECT_STR && field->type != MSGPACK_OBJECT_NIL)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server error field is not a str");
    /* The same strictness as for results: text that is not UTF-8 (or holds
     * a NUL, which would silently cut it) never reaches the caller. */
    if (!str_ok(code) || (message != NULL && !str_ok(message)) ||
        (field != NULL && field->type == MSGPACK_OBJECT_STR && !str_ok(field)))
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "server error text is not valid UTF-8");
    if (err == NULL)
        return BB_C_ESERVER;
    bbi_err_clear(err);
    err->rc = BB_C_ESERVER;
    copy_str(err->code, sizeof err->code, code);
    if (message != NULL)
        copy_str(err->message, sizeof err->message, message);
    if (field != NULL && field->type == MSGPACK_OBJECT_STR)
        copy_str(err->field, sizeof err->field, field);
    return BB_C_ESERVER;
}
