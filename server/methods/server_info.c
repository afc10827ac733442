/*
 * server_info.c: the methods that describe the server itself
 * (proto/PROTOCOL.md section 6): `server.info` (who we are, whether the
 * database is reachable, the time zone and today's date in it, the limits
 * in force, how long idempotency records are kept) and `server.api` (the method spec, proto/bb_spec.h, as
 * msgpack: the same content `baobaod --api-info` prints as JSON, from
 * bb_spec_write_json, whose fields pack_arg and pack_method mirror). Both
 * need no database, so they answer also while it is down: clients use
 * server.info as a health check.
 *
 * Not for: anything that queries PostgreSQL, or the spec's tables
 * (proto/spec/).
 */
#include <time.h>

#include "bb_rpc.h"
#include "clock.h"
#include "methods.h"
#include "pool.h"
#include "server.h"
#include "session.h"

static void pack_kv_uint(msgpack_packer *pk, const char *key, uint64_t v)
{
    bb_pack_cstr(pk, key);
    msgpack_pack_uint64(pk, v);
}

static void pack_kv_bool(msgpack_packer *pk, const char *key, bool v)
{
    bb_pack_cstr(pk, key);
    if (v)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void server_info(request *req, const margs *a)
{
    (void)a;
    const server *s = req_server(req);

    /* "today" in the configured zone (clock.h; pinned by fake_now). */
    char today[16] = "";
    if (clock_today(today) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "cannot compute today's date");
        return;
    }

    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 8);
    bb_pack_cstr(pk, "name");
    bb_pack_cstr(pk, "baobaod");
    bb_pack_cstr(pk, "version");
    bb_pack_cstr(pk, BAOBAOD_VERSION);
    pack_kv_uint(pk, "protocol", 1);
    /* Also false while this process cannot hear account changes: its
     * sessions are refused `unavailable` then (session.h, nodes.h). */
    pack_kv_bool(pk, "database_available", s->pool != NULL && pool_available(s->pool) &&
                                               session_hearing(uv_now(s->loop)));
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
    /* Section 4: a client that keeps writes offline sends them within it. */
    pack_kv_uint(pk, "idempotency_keep_days", s->cfg.idempotency_keep_days);
    req_result_end(req);
}

/* ---- server.api: the keys and their order are those of the JSON ---- */

static void pack_range(msgpack_packer *pk, int64_t lo, int64_t hi)
{
    msgpack_pack_array(pk, 2);
    msgpack_pack_int64(pk, lo);
    msgpack_pack_int64(pk, hi);
}

static void pack_arg(msgpack_packer *pk, const bb_arg *a)
{
    bool is_int = a->type == BB_T_INT, is_str = a->type == BB_T_STR || a->type == BB_T_TEXT;
    bool is_strs = a->type == BB_T_STRS;
    uint32_t n = 4 + (is_int ? 2 : 0) + (is_str ? 1 : 0) + (is_strs ? 2 : 0) +
                 ((a->flags & BB_A_TODAY) ? 1 : 0) + ((a->flags & BB_A_SECRET) ? 1 : 0) +
                 (a->values != NULL ? 1 : 0) + (a->ref != NULL ? 1 : 0) +
                 (a->doc != NULL ? 1 : 0);
    msgpack_pack_map(pk, n);
    bb_pack_cstr(pk, "name");
    bb_pack_cstr(pk, a->name);
    bb_pack_cstr(pk, "type");
    bb_pack_cstr(pk, bb_type_name(a->type));
    pack_kv_bool(pk, "required", (a->flags & BB_A_REQ) != 0);
    pack_kv_bool(pk, "nil", (a->flags & (BB_A_NIL | BB_A_NILABSENT)) != 0);
    if (is_int) {
        bb_pack_cstr(pk, "min");
        msgpack_pack_int64(pk, a->min);
        bb_pack_cstr(pk, "max");
        msgpack_pack_int64(pk, a->max);
    }
    if (is_str) {
        /* min = max = 0: the default length, as args.c applies it. */
        bb_pack_cstr(pk, (a->flags & BB_A_BYTES) ? "bytes" : "chars");
        pack_range(pk, a->max == 0 ? 1 : a->min, a->max == 0 ? BB_SPEC_DEFAULT_CHARS : a->max);
    }
    if (is_strs) {
        bb_pack_cstr(pk, "max_items");
        msgpack_pack_int64(pk, a->max);
        pack_kv_uint(pk, "item_chars", a->item_max);
    }
    if (a->flags & BB_A_TODAY) {
        bb_pack_cstr(pk, "default");
        bb_pack_cstr(pk, "today");
    }
    if (a->flags & BB_A_SECRET)
        pack_kv_bool(pk, "secret", true);
    if (a->values != NULL) {
        uint32_t nv = 0;
        while (a->values[nv] != NULL)
            nv++;
        bb_pack_cstr(pk, "values");
        msgpack_pack_array(pk, nv);
        for (uint32_t i = 0; i < nv; i++)
            bb_pack_cstr(pk, a->values[i]);
    }
    if (a->ref != NULL) {
        bb_pack_cstr(pk, "ref");
        bb_pack_cstr(pk, a->ref);
    }
    if (a->doc != NULL) {
        bb_pack_cstr(pk, "doc");
        bb_pack_cstr(pk, a->doc);
    }
}

static void pack_method(msgpack_packer *pk, const bb_method_spec *m)
{
    msgpack_pack_map(pk, 9);
    bb_pack_cstr(pk, "name");
    bb_pack_cstr(pk, m->name);
    /* "anonymous" first, then the user roles in their bit order. */
    uint32_t nr = (m->roles & BB_ROLES_ANON) ? 1 : 0;
    for (unsigned b = BB_ROLE_STAFF; b <= BB_ROLE_ADMIN; b <<= 1)
        nr += (m->roles & b) ? 1 : 0;
    bb_pack_cstr(pk, "roles");
    msgpack_pack_array(pk, nr);
    if (m->roles & BB_ROLES_ANON)
        bb_pack_cstr(pk, "anonymous");
    for (unsigned b = BB_ROLE_STAFF; b <= BB_ROLE_ADMIN; b <<= 1)
        if (m->roles & b)
            bb_pack_cstr(pk, bb_role_name((bb_role)b));
    pack_kv_bool(pk, "write", (m->flags & BB_M_WRITE) != 0);
    pack_kv_bool(pk, "paged", (m->flags & BB_M_PAGED) != 0);
    pack_kv_bool(pk, "scoped", (m->flags & BB_M_SCOPED) != 0);
    pack_kv_bool(pk, "replica", (m->flags & BB_M_REPLICA) != 0);
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(m, all);
    bb_pack_cstr(pk, "args");
    msgpack_pack_array(pk, n);
    for (unsigned i = 0; i < n; i++)
        pack_arg(pk, all[i]);
    bb_pack_cstr(pk, "result");
    bb_pack_cstr(pk, m->result != NULL ? m->result : "");
    bb_pack_cstr(pk, "summary");
    bb_pack_cstr(pk, m->summary != NULL ? m->summary : "");
}

/* {version: 1, methods: [...]}, in the order of the spec's tables. */
static void server_api(request *req, const margs *a)
{
    (void)a;
    uint32_t n = 0;
    for (size_t t = 0; bb_spec_tables[t] != NULL; t++)
        for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++)
            n++;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    pack_kv_uint(pk, "version", 1);
    bb_pack_cstr(pk, "methods");
    msgpack_pack_array(pk, n);
    for (size_t t = 0; bb_spec_tables[t] != NULL; t++)
        for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++)
            pack_method(pk, m);
    req_result_end(req);
}

static const method_impl server_info_methods[] = {
    {"server.info", .fn = server_info},
    {"server.api", .fn = server_api},
    {NULL},
};

const method_module server_info_module = {
    .name = "server_info",
    .methods = server_info_methods,
};
