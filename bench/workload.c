/*
 * workload.c: requests and replies of the benchmark (see workload.h).
 *
 * For: the arguments each workload sends and the checks on what comes back.
 * Not for: sockets (conn.c) or the loop (bench.c).
 */
#include "workload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bb_rpc.h"

/* Report dates are drawn from 2020-01-01 + [0, WL_DATE_SPAN): in the past
 * whatever "today" is, and after the protocol's 2000-01-01 floor. */
#define WL_DATE_SPAN 1800
#define WL_DATE_LEN 11          /* "YYYY-MM-DD" + NUL */
#define WL_EPOCH_DAY_2020 18262 /* days from 1970-01-01 to 2020-01-01 */
#define WL_KEY_MAX 96u

static const char *const townships[] = {
    "蒲圻街道", "陆水湖街道", "赤马港街道", "赤壁镇", "新店镇", "赵李桥镇",
    "茶庵岭镇", "车埠镇", "中伙铺镇", "官塘驿镇", "神山镇", "柳山湖镇",
    "黄盖湖镇", "余家桥乡", "高新技术产业园区", "新材料产业园", "美丽健康产业园",
};
#define N_TOWNSHIPS (sizeof townships / sizeof townships[0])

static const char *const reporters[] = {"赵敏", "李强", "王芳", "张伟", "刘洋", "陈静"};
#define N_REPORTERS (sizeof reporters / sizeof reporters[0])
static const char *const prod_statuses[] = {"正常", "正常", "正常", "半停产", "停产", "在建"};
#define N_PROD (sizeof prod_statuses / sizeof prod_statuses[0])

static char dates[WL_DATE_SPAN][WL_DATE_LEN];
static bool dates_ready;

static void dates_init(void)
{
    for (int i = 0; i < WL_DATE_SPAN; i++) {
        time_t t = (time_t)(WL_EPOCH_DAY_2020 + i) * 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(dates[i], WL_DATE_LEN, "%Y-%m-%d", &tm);
    }
    dates_ready = true;
}

const char *op_name(op_kind op)
{
    switch (op) {
    case OP_GET: return "get";
    case OP_LIST: return "list";
    case OP_SUBMIT: return "submit";
    case OP_INFO: return "info";
    case OP_OVERDUE: return "overdue";
    case OP_KINDS: break;
    }
    return "?";
}

static const char *const wl_names[] = {"submit", "get", "list", "mixed", "idle", "overdue", "info"};

int workload_parse(const char *name)
{
    for (size_t i = 0; i < sizeof wl_names / sizeof wl_names[0]; i++)
        if (strcmp(name, wl_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *workload_name(workload w)
{
    return wl_names[w];
}

op_kind wl_pick(workload w, uint64_t *rng)
{
    switch (w) {
    case WL_SUBMIT: return OP_SUBMIT;
    case WL_GET: return OP_GET;
    case WL_LIST: return OP_LIST;
    case WL_MIXED: {
        unsigned r = (unsigned)(rng_next(rng) % 100u);
        if (r < WL_MIXED_GET_PCT)
            return OP_GET;
        if (r < WL_MIXED_GET_PCT + WL_MIXED_LIST_PCT)
            return OP_LIST;
        return OP_SUBMIT;
    }
    case WL_IDLE:
    case WL_INFO: return OP_INFO;
    case WL_OVERDUE: return OP_OVERDUE;
    }
    return OP_INFO;
}

static void pack_key(msgpack_packer *pk, const char *k)
{
    bb_pack_cstr(pk, k);
}

void wl_pack(msgpack_packer *pk, const wl_config *cfg, uint64_t *rng, op_kind op,
             uint32_t msgid, int conn, uint64_t seq, req_info *info)
{
    info->op = op;
    info->arg = 0;
    switch (op) {
    case OP_GET:
        info->arg = 1 + (int64_t)(rng_next(rng) % (uint64_t)cfg->n_enterprises);
        bb_rpc_pack_request_begin(pk, msgid, "enterprise.get", true);
        msgpack_pack_map(pk, 1);
        pack_key(pk, "id");
        msgpack_pack_int64(pk, info->arg);
        break;
    case OP_LIST:
        info->arg = (int64_t)(rng_next(rng) % N_TOWNSHIPS);
        bb_rpc_pack_request_begin(pk, msgid, "enterprise.list", true);
        msgpack_pack_map(pk, 2);
        pack_key(pk, "township");
        bb_pack_cstr(pk, townships[info->arg]);
        pack_key(pk, "limit");
        msgpack_pack_unsigned_int(pk, WL_LIST_LIMIT);
        break;
    case OP_SUBMIT: {
        if (!dates_ready)
            dates_init();
        uint64_t r = rng_next(rng);
        info->arg = 1 + (int64_t)(r % (uint64_t)cfg->n_enterprises);
        uint64_t r2 = rng_next(rng);
        char key[WL_KEY_MAX];
        snprintf(key, sizeof key, "%s-%d-%" PRIu64, cfg->run_id, conn, seq);
        bb_rpc_pack_request_begin(pk, msgid, "status.submit", true);
        msgpack_pack_map(pk, 9);
        pack_key(pk, "enterprise_id");
        msgpack_pack_int64(pk, info->arg);
        pack_key(pk, "report_date");
        bb_pack_cstr(pk, dates[r2 % WL_DATE_SPAN]);
        /* A reporter of its own for every submit (a name, then the key):
         * the same enterprise, date and reporter twice is refused as a
         * duplicate report (issue 12), and this workload measures storing
         * reports, each still checked against the stored ones. */
        char who[16 + WL_KEY_MAX];
        snprintf(who, sizeof who, "%s %s", reporters[(r2 >> 16) % N_REPORTERS], key);
        pack_key(pk, "reporter");
        bb_pack_cstr(pk, who);
        pack_key(pk, "production_status");
        bb_pack_cstr(pk, prod_statuses[(r2 >> 24) % N_PROD]);
        pack_key(pk, "output_value");
        msgpack_pack_int64(pk, (int64_t)((r2 >> 32) % 100000u) * 1000);
        pack_key(pk, "employees");
        msgpack_pack_int64(pk, (int64_t)((r2 >> 8) % 2000u));
        pack_key(pk, "labour_shortage");
        msgpack_pack_int64(pk, (int64_t)((r2 >> 40) % 50u));
        pack_key(pk, "note");
        bb_pack_cstr(pk, "生产正常，订单饱满。");
        pack_key(pk, "idempotency_key");
        bb_pack_cstr(pk, key);
        break;
    }
    case OP_OVERDUE:
        /* scripts/bench compares this with pgbench running the statement
         * baobaod runs (bench/pgbench/overdue.sql). */
        info->arg = (int64_t)(rng_next(rng) % N_TOWNSHIPS);
        bb_rpc_pack_request_begin(pk, msgid, "overdue.milestones", true);
        msgpack_pack_map(pk, 2);
        pack_key(pk, "township");
        bb_pack_cstr(pk, townships[info->arg]);
        pack_key(pk, "limit");
        msgpack_pack_unsigned_int(pk, WL_OVERDUE_LIMIT);
        break;
    case OP_INFO:
    case OP_KINDS:
        info->op = OP_INFO;
        bb_rpc_pack_request_begin(pk, msgid, "server.info", false);
        break;
    }
    bb_rpc_pack_request_end(pk);
}

void wl_pack_login(msgpack_packer *pk, uint32_t msgid, const char *login, const char *password)
{
    bb_rpc_pack_request_begin(pk, msgid, "session.login", true);
    msgpack_pack_map(pk, 2);
    pack_key(pk, "login");
    bb_pack_cstr(pk, login);
    pack_key(pk, "password");
    bb_pack_cstr(pk, password);
    bb_rpc_pack_request_end(pk);
}

reply_kind reply_peek(const uint8_t *m, size_t len, uint32_t *msgid)
{
    if (len < 5 || m[0] != 0x94 || m[1] != 0x01)
        return REPLY_OTHER;
    size_t i = 2;
    uint64_t id;
    uint8_t b = m[i];
    if (b < 0x80) {
        id = b;
        i += 1;
    } else if (b == 0xcc && len > i + 2) {
        id = m[i + 1];
        i += 2;
    } else if (b == 0xcd && len > i + 3) {
        id = (uint64_t)m[i + 1] << 8 | m[i + 2];
        i += 3;
    } else if (b == 0xce && len > i + 5) {
        id = (uint64_t)m[i + 1] << 24 | (uint64_t)m[i + 2] << 16 | (uint64_t)m[i + 3] << 8 |
             m[i + 4];
        i += 5;
    } else {
        return REPLY_OTHER;
    }
    *msgid = (uint32_t)id;
    return m[i] == 0xc0 ? REPLY_OK : REPLY_ERROR;
}

static bool str_is(const msgpack_object *o, const char *s)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static bool int_is(const msgpack_object *o, int64_t v)
{
    return o != NULL && o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v >= 0 &&
           o->via.u64 == (uint64_t)v;
}

static void copy_str(char *dst, size_t cap, const msgpack_object *o)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_STR) {
        snprintf(dst, cap, "?");
        return;
    }
    snprintf(dst, cap, "%.*s", (int)o->via.str.size, o->via.str.ptr);
}

static int check_result(const bb_rpc_msg *rm, const req_info *info, char *why, size_t whylen)
{
    const msgpack_object *r = rm->result;
    switch (info->op) {
    case OP_GET:
        if (!int_is(bb_map_get(r, "id"), info->arg)) {
            snprintf(why, whylen, "enterprise.get %" PRId64 ": result has another id", info->arg);
            return -1;
        }
        return 0;
    case OP_LIST: {
        const msgpack_object *items = bb_map_get(r, "items");
        if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
            items->via.array.size > WL_LIST_LIMIT) {
            snprintf(why, whylen, "enterprise.list: no items array of at most %u", WL_LIST_LIMIT);
            return -1;
        }
        uint64_t prev = 0;
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            const msgpack_object *id = bb_map_get(it, "id");
            if (!str_is(bb_map_get(it, "township"), townships[info->arg]) || id == NULL ||
                id->type != MSGPACK_OBJECT_POSITIVE_INTEGER || id->via.u64 <= prev) {
                snprintf(why, whylen, "enterprise.list %s: item %u of another township or out of order",
                         townships[info->arg], i);
                return -1;
            }
            prev = id->via.u64;
        }
        return 0;
    }
    case OP_SUBMIT: {
        const msgpack_object *id = bb_map_get(r, "id");
        if (!int_is(bb_map_get(r, "enterprise_id"), info->arg) || id == NULL ||
            id->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
            snprintf(why, whylen, "status.submit: result is not the report of enterprise %" PRId64,
                     info->arg);
            return -1;
        }
        return 0;
    }
    case OP_OVERDUE: {
        const msgpack_object *items = bb_map_get(r, "items");
        if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY ||
            items->via.array.size > WL_OVERDUE_LIMIT) {
            snprintf(why, whylen, "overdue.milestones: no items array of at most %u",
                     WL_OVERDUE_LIMIT);
            return -1;
        }
        char prev[16] = "";
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            const msgpack_object *d = bb_map_get(it, "planned_date");
            char date[16];
            copy_str(date, sizeof date, d);
            if (!str_is(bb_map_get(it, "township"), townships[info->arg]) ||
                d == NULL || d->type != MSGPACK_OBJECT_STR || strcmp(date, prev) < 0 ||
                !(str_is(bb_map_get(it, "level"), "red") ||
                  str_is(bb_map_get(it, "level"), "yellow"))) {
                snprintf(why, whylen,
                         "overdue.milestones %s: item %u of another township, out of order "
                         "or not late", townships[info->arg], i);
                return -1;
            }
            memcpy(prev, date, sizeof prev);
        }
        return 0;
    }
    case OP_INFO:
    case OP_KINDS:
        if (!str_is(bb_map_get(r, "name"), "baobaod")) {
            snprintf(why, whylen, "server.info: name is not baobaod");
            return -1;
        }
        return 0;
    }
    return 0;
}

int reply_check(const uint8_t *msg, size_t len, const req_info *info, char *why, size_t whylen)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = -1;
    if (msgpack_unpack_next(&up, (const char *)msg, len, &off) != MSGPACK_UNPACK_SUCCESS) {
        snprintf(why, whylen, "reply does not decode");
        goto out;
    }
    bb_rpc_msg rm;
    bool known = false;
    const char *bad = NULL;
    if (bb_rpc_parse(&up.data, &rm, &known, &bad) != 0) {
        snprintf(why, whylen, "bad envelope: %s", bad ? bad : "?");
        goto out;
    }
    if (rm.type == BB_RPC_NOTIFICATION) {
        char code[64] = "?", text[256] = "";
        if (rm.params != NULL) {
            copy_str(code, sizeof code, bb_map_get(rm.params, "code"));
            copy_str(text, sizeof text, bb_map_get(rm.params, "message"));
        }
        snprintf(why, whylen, "notification %.*s: %s: %s", (int)rm.method_len, rm.method, code,
                 text);
        goto out;
    }
    if (rm.type != BB_RPC_RESPONSE) {
        snprintf(why, whylen, "not a response");
        goto out;
    }
    if (rm.error != NULL) {
        char code[64], text[256];
        copy_str(code, sizeof code, bb_map_get(rm.error, "code"));
        copy_str(text, sizeof text, bb_map_get(rm.error, "message"));
        snprintf(why, whylen, "%s: %s: %s", op_name(info->op), code, text);
        goto out;
    }
    rc = check_result(&rm, info, why, whylen);
out:
    msgpack_unpacked_destroy(&up);
    return rc;
}
