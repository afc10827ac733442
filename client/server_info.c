/*
 * server_info.c: the typed helper for `server.info`.
 *
 * For: decoding the result (PROTOCOL.md section 6) into bb_server_info.
 * Not for: connection handling (client.c).
 */
#include "client_int.h"

#include <string.h>

/* The result's fields, in the order they are checked, and those of its
 * "limits" map. */
static const bbi_field reply_fields[] = {
    BBI_FIELD_STR(bb_server_info, name),
    BBI_FIELD_STR(bb_server_info, version),
    BBI_FIELD_INT(bb_server_info, protocol),
    BBI_FIELD_BOOL(bb_server_info, database_available),
    BBI_FIELD_STR(bb_server_info, time_zone),
    BBI_FIELD_STR(bb_server_info, today),
};
static const bbi_field limit_fields[] = {
    BBI_FIELD_INT(bb_server_info, max_message_bytes),
    BBI_FIELD_INT(bb_server_info, max_nesting_depth),
    BBI_FIELD_INT(bb_server_info, max_in_flight),
    BBI_FIELD_INT(bb_server_info, page_limit_default),
    BBI_FIELD_INT(bb_server_info, page_limit_max),
};

void bb_server_info_free(bb_server_info *i)
{
    if (i == NULL)
        return;
    bbi_free_fields(reply_fields, BBI_NFIELDS(reply_fields), i);
    memset(i, 0, sizeof *i);
}

static int decode_server_info(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_server_info *out = vout;
    memset(out, 0, sizeof *out);
    int rc = bbi_get_fields(o, "server.info", reply_fields, BBI_NFIELDS(reply_fields), out, err);
    /* A missing "limits" is NULL here, which bbi_get_fields refuses as not
     * a map. */
    if (rc == BB_C_OK)
        rc = bbi_get_fields(bb_map_get(o, "limits"), "server.info.limits", limit_fields,
                            BBI_NFIELDS(limit_fields), out, err);
    if (rc != BB_C_OK)
        bb_server_info_free(out);
    return rc;
}

int bb_server_info_get(bb_client *c, bb_server_info *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    return bbi_call_decode(c, "server.info", NULL, decode_server_info, out, err);
}
