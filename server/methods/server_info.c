/*
 * server_info.c: the `server.info` method (proto/PROTOCOL.md section 6):
 * who we are, whether the database is reachable, the time zone and today's
 * date in it, and the limits in force. Needs no database, so it answers
 * also while the database is down: clients use it as a health check.
 *
 * Not for: anything that queries PostgreSQL.
 */
#include <time.h>

#include "bb_rpc.h"
#include "clock.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "server.h"
#include "session.h"

static void pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t v)
{
    bb_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, v);
}

static void server_info(request *req, const msgpack_object *args)
{
    static const char *const known[] = {NULL};
    if (params_check_known(req, args, known) != 0)
        return;
    const server *s = req_server(req);

    /* "today" in the configured zone (clock.h; pinned by fake_now). */
    char today[16] = "";
    if (clock_today(today) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "cannot compute today's date");
        return;
    }

    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 7);
    bb_pack_cstr(pk, "name");
    bb_pack_cstr(pk, "baobaod");
    bb_pack_cstr(pk, "version");
    bb_pack_cstr(pk, BAOBAOD_VERSION);
    pack_kv_uint(pk, "protocol", 1);
    bb_pack_cstr(pk, "database_available");
    if (s->pool != NULL && pool_available(s->pool))
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
    bb_pack_cstr(pk, "time_zone");
    bb_pack_cstr(pk, s->cfg.time_zone);
    bb_pack_cstr(pk, "today");
    bb_pack_cstr(pk, today);
    bb_pack_cstr(pk, "limits");
    msgpack_pack_map(pk, 5);
    pack_kv_uint(pk, "max_message_bytes", s->cfg.max_message_bytes);
    pack_kv_uint(pk, "max_nesting_depth", s->cfg.max_nesting_depth);
    pack_kv_uint(pk, "max_in_flight", s->cfg.max_in_flight);
    pack_kv_uint(pk, "page_limit_default", s->cfg.page_limit_default);
    pack_kv_uint(pk, "page_limit_max", s->cfg.page_limit_max);
    req_result_end(req);
}

const method_impl server_info_methods[] = {
    {"server.info", .raw = server_info, .raw_roles = BB_ROLES_ALL},
    {NULL},
};

const method_module server_info_module = {
    .name = "server_info",
    .methods = server_info_methods,
    .register_statements = NULL,
};
