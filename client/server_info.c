/*
 * server_info.c: the typed helper for `server.info`.
 *
 * For: decoding the result (PROTOCOL.md section 6) into bb_server_info.
 * Not for: connection handling (client.c).
 */
#include "client_int.h"

#include <stdlib.h>
#include <string.h>

void bb_server_info_free(bb_server_info *i)
{
    if (i == NULL)
        return;
    free(i->name);
    free(i->version);
    free(i->time_zone);
    free(i->today);
    memset(i, 0, sizeof *i);
}

static int decode_server_info(const msgpack_object *o, void *vout, bb_error *err)
{
    bb_server_info *out = vout;
    memset(out, 0, sizeof *out);
    const char *w = "server.info";
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "name", &out->name, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "version", &out->version, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "protocol", &out->protocol, err);
    if (rc == BB_C_OK)
        rc = bbi_get_bool(o, w, "database_available", &out->database_available, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "time_zone", &out->time_zone, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "today", &out->today, err);
    const msgpack_object *lim = bb_map_get(o, "limits");
    if (rc == BB_C_OK)
        rc = bbi_want_map(lim, "server.info.limits", err);
    const char *lw = "server.info.limits";
    if (rc == BB_C_OK)
        rc = bbi_get_int(lim, lw, "max_message_bytes", &out->max_message_bytes, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(lim, lw, "max_nesting_depth", &out->max_nesting_depth, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(lim, lw, "max_in_flight", &out->max_in_flight, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(lim, lw, "page_limit_default", &out->page_limit_default, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(lim, lw, "page_limit_max", &out->page_limit_max, err);
    if (rc != BB_C_OK)
        bb_server_info_free(out);
    return rc;
}

int bb_server_info_get(bb_client *c, bb_server_info *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    return bbi_call_decode(c, "server.info", NULL, decode_server_info, out, err);
}
