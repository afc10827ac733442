/*
 * enterprise.c: the enterprise.* methods (proto/PROTOCOL.md section 6):
 * create, get, update, list.
 *
 * For: checking every argument at the edge (params.h, the credit code via
 * proto/bb_creditcode.h, the known townships, clusters and statuses) before
 * any query, then exactly one pool_query per request, and packing its rows.
 * The writes are stored functions (sql/006_scope_audit.sql) so each is one
 * atomic statement with its idempotency record and its audit row; the
 * database checks again (a second wall) and its BBxxx errors are mapped in
 * pool.c.
 *
 * Scope (PROTOCOL.md, "Accounts, roles and scope"): the dispatcher's gate
 * has checked the role; which townships is decided in SQL. Writes pass the
 * caller (session_actor, the peer address for the audit trail) to the
 * stored functions, which refuse records outside the caller's townships;
 * reads pass the read scope (session_read_scope: the user id of township
 * staff, NULL for the roles that read everything) to their statement,
 * which leaves out what lies outside it. An enterprise outside scope is
 * answered exactly like one that does not exist.
 * Not for: status reports (status.c) or SQL beyond the text next to each
 * method here.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_creditcode.h"
#include "bb_limits.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

/* Longest text accepted for the credit code before its own check says
 * what is wrong with it (its length rule is 18). */
#define ENT_CREDIT_CODE_MAX_CHARS 64u
#define ENT_ID_TEXT 24

/* The Enterprise as the wire shows it: the columns of view enterprise_wire. */
static const rp_col ent_cols[] = {
    {"id", RP_INT},          {"name", RP_TEXT},    {"credit_code", RP_TEXT},
    {"township", RP_TEXT},   {"cluster", RP_TEXT}, {"labels", RP_LINES},
    {"status", RP_TEXT},     {"version", RP_INT},  {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define ENT_NCOLS ((int)(sizeof ent_cols / sizeof ent_cols[0]))

/* $2 is the read scope: NULL reads everything; a user id reads the
 * enterprises of that user's townships only (app_user_township). */
static const pool_stmt st_get = {
    "ent_get",
    "SELECT w.* FROM enterprise_wire w"
    " WHERE w.id = $1::bigint"
    "   AND ($2::bigint IS NULL OR EXISTS ("
    "        SELECT 1 FROM enterprise e JOIN app_user_township ut"
    "            ON ut.township_id = e.township_id AND ut.user_id = $2::bigint"
    "         WHERE e.id = w.id))",
    2};

/* $1 actor (the session's user id), $2 the peer's address for the audit
 * trail; then the method's arguments. */
static const pool_stmt st_create = {
    "ent_create",
    "SELECT * FROM bb_enterprise_create($1::bigint, $2::text, $3::text, $4::text, $5::text,"
    " $6::text, $7::text, $8::text[], $9::text)",
    9};

static const pool_stmt st_update = {
    "ent_update",
    "SELECT * FROM bb_enterprise_update($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::text, $8::text, $9::text, $10::boolean, $11::text, $12::boolean,"
    " $13::text[])",
    13};

/* Keyset page: ids after $6, ascending, limit $7 (the caller asks one more
 * than the page to learn whether there is a next page). An unknown
 * township name gives NULL and so matches nothing, as the protocol says.
 * name_contains uses strpos: plain text, no LIKE wildcards to escape. $8
 * is the read scope (as in st_get): rows outside it are never looked at,
 * so no filter, count or page boundary can reveal them. */
static const pool_stmt st_list = {
    "ent_list",
    "SELECT w.* FROM ("
    "  SELECT e.id FROM enterprise e"
    "   WHERE ($1::text IS NULL OR e.township_id = (SELECT t.id FROM township t WHERE t.name = $1))"
    "     AND ($2::text IS NULL OR e.cluster = $2)"
    "     AND ($3::text IS NULL OR e.status = $3)"
    "     AND ($4::text IS NULL OR e.labels @> ARRAY[$4::text])"
    "     AND ($5::text IS NULL OR strpos(e.name, $5) > 0)"
    "     AND e.id > $6::bigint"
    "     AND ($8::bigint IS NULL OR e.township_id IN ("
    "          SELECT ut.township_id FROM app_user_township ut WHERE ut.user_id = $8::bigint))"
    "   ORDER BY e.id LIMIT $7::int) k"
    " JOIN enterprise_wire w ON w.id = k.id"
    " ORDER BY w.id",
    8};

static int enterprise_register_statements(void)
{
    if (pool_register(&st_get) != 0 || pool_register(&st_create) != 0 ||
        pool_register(&st_update) != 0 || pool_register(&st_list) != 0)
        return -1;
    return 0;
}

/* Known values (PROTOCOL.md "Enterprise", "Townships"); the database has
 * the same lists as tables and CHECKs. */
static const char *const townships[] = {
    "蒲圻街道", "陆水湖街道", "赤马港街道", "赤壁镇", "新店镇", "赵李桥镇",
    "茶庵岭镇", "车埠镇", "中伙铺镇", "官塘驿镇", "神山镇", "柳山湖镇",
    "黄盖湖镇", "余家桥乡", "高新技术产业园区", "新材料产业园", "美丽健康产业园", NULL,
};
static const char *const clusters[] = {
    "青砖茶", "电子信息", "纺织服装", "电力能源", "安全应急", "大健康", "新材料", "节能环保", NULL,
};
static const char *const statuses[] = {"在营", "半停产", "停产", "筹建", "注销", NULL};

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

/* An optional str that is not nil-able: absent is fine, nil is refused. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   pstr *out, pstate *st)
{
    if (params_str(req, args, key, false, max_chars, false, out, st) != 0)
        return -1;
    if (*st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

static int check_known_value(request *req, const char *key, const pstr *v,
                             const char *const *list, const char *what)
{
    if (v->s != NULL && !one_of(v, list)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: not a known %s", key, what);
        return -1;
    }
    return 0;
}

static int check_credit_code(request *req, const pstr *v)
{
    if (v->s == NULL)
        return 0;
    bb_cc_result r = bb_creditcode_check(v->s, v->len);
    if (r != BB_CC_OK) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "credit_code", "credit_code: %s",
                        bb_creditcode_reason(r));
        return -1;
    }
    return 0;
}

static int idem_key(request *req, const msgpack_object *args, pstr *key, pstate *st)
{
    if (opt_str(req, args, "idempotency_key", BB_MAX_IDEMPOTENCY_KEY_BYTES, key, st) != 0)
        return -1;
    if (key->s != NULL && key->len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return -1;
    }
    return 0;
}

/* Sends stmt for req; on a synchronous failure answers req. */
static void send_query(request *req, const pool_stmt *stmt, const char *const *vals,
                       const int *lens, pool_cb cb, void *arg)
{
    int rc = pool_query(req_server(req)->pool, stmt, vals, lens, cb, arg);
    if (rc < 0)
        rowpack_reply_query_rc(req, stmt->name, rc);
}

/* Callback shared by create/get/update: one row = the Enterprise. arg is
 * the request. A get of a missing id returns no row. */
static void one_enterprise_cb(void *arg, const PGresult *res, const pool_error *e, const char *stmt)
{
    request *req = arg;
    if (e != NULL) {
        rowpack_reply_pool_error(req, stmt, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, ent_cols, ENT_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, stmt, why);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, stmt, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, ent_cols, ENT_NCOLS);
    req_result_end(req);
}

static void create_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_enterprise_cb(arg, res, e, st_create.name);
}

static void update_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_enterprise_cb(arg, res, e, st_update.name);
}

static void enterprise_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"name", "credit_code", "township", "cluster",
                                        "labels", "status", "idempotency_key", NULL};
    pstr name, code, township, cluster, status, key;
    pstate st;
    char *labels = NULL;
    if (params_check_known(req, args, known) != 0 ||
        params_str(req, args, "name", true, BB_MAX_NAME_CHARS, false, &name, &st) != 0 ||
        params_str(req, args, "credit_code", true, ENT_CREDIT_CODE_MAX_CHARS, false, &code, &st) != 0 ||
        check_credit_code(req, &code) != 0 ||
        params_str(req, args, "township", true, BB_MAX_SHORT_TEXT_CHARS, false, &township, &st) != 0 ||
        check_known_value(req, "township", &township, townships, "township") != 0 ||
        params_str(req, args, "cluster", false, BB_MAX_SHORT_TEXT_CHARS, false, &cluster, &st) != 0 ||
        check_known_value(req, "cluster", &cluster, clusters, "industry cluster") != 0 ||
        opt_str(req, args, "status", BB_MAX_SHORT_TEXT_CHARS, &status, &st) != 0 ||
        check_known_value(req, "status", &status, statuses, "status") != 0 ||
        idem_key(req, args, &key, &st) != 0 ||
        params_str_array(req, args, "labels", BB_MAX_LABELS, BB_MAX_LABEL_CHARS, &labels, &st) != 0)
        return;
    const char *vals[9] = {session_actor(req_session(req)), req_peer(req), key.s, name.s, code.s,
                           township.s, cluster.s, labels, status.s};
    const int lens[9] = {-1, -1, (int)key.len, (int)name.len, (int)code.len, (int)township.len,
                         (int)cluster.len, -1, (int)status.len};
    send_query(req, &st_create, vals, lens, create_cb, req);
    free(labels);
}

/* A request and the one number its callback needs besides the result
 * (get: the id, for its not_found message; list: the page size). */
typedef struct req_num {
    request *req;
    int64_t n;
} req_num;

/* Sends stmt with a req_num for cb; on a failure before the query is out
 * answers req itself (cb will not run). */
static void send_query_num(request *req, const pool_stmt *stmt, const char *const *vals,
                           const int *lens, pool_cb cb, int64_t n)
{
    req_num *rn = malloc(sizeof *rn);
    if (rn == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    rn->req = req;
    rn->n = n;
    int rc = pool_query(req_server(req)->pool, stmt, vals, lens, cb, rn);
    if (rc < 0) {
        free(rn);
        rowpack_reply_query_rc(req, stmt->name, rc);
    }
}

/* Takes the request and number out of a req_num callback argument. */
static request *take_req_num(void *arg, int64_t *n)
{
    req_num *rn = arg;
    request *req = rn->req;
    *n = rn->n;
    free(rn);
    return req;
}

static void get_cb(void *arg, const PGresult *res, const pool_error *e)
{
    int64_t id;
    request *req = take_req_num(arg, &id);
    if (e == NULL && PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "enterprise %" PRId64 " does not exist", id);
        return;
    }
    one_enterprise_cb(req, res, e, st_get.name);
}

static void enterprise_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[ENT_ID_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *vals[2] = {idt, session_read_scope(req_session(req))};
    send_query_num(req, &st_get, vals, NULL, get_cb, id);
}

static void enterprise_update(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "name", "credit_code", "township",
                                        "status", "cluster", "labels", "idempotency_key", NULL};
    int64_t id, version;
    pstr name, code, township, cluster, status, key;
    pstate st, cluster_st, labels_st;
    char *labels = NULL;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        opt_str(req, args, "name", BB_MAX_NAME_CHARS, &name, &st) != 0 ||
        opt_str(req, args, "credit_code", ENT_CREDIT_CODE_MAX_CHARS, &code, &st) != 0 ||
        check_credit_code(req, &code) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township, &st) != 0 ||
        check_known_value(req, "township", &township, townships, "township") != 0 ||
        opt_str(req, args, "status", BB_MAX_SHORT_TEXT_CHARS, &status, &st) != 0 ||
        check_known_value(req, "status", &status, statuses, "status") != 0 ||
        params_str(req, args, "cluster", false, BB_MAX_SHORT_TEXT_CHARS, false, &cluster,
                   &cluster_st) != 0 ||
        check_known_value(req, "cluster", &cluster, clusters, "industry cluster") != 0 ||
        idem_key(req, args, &key, &st) != 0 ||
        params_str_array(req, args, "labels", BB_MAX_LABELS, BB_MAX_LABEL_CHARS, &labels,
                         &labels_st) != 0)
        return;
    char idt[ENT_ID_TEXT], vt[ENT_ID_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    snprintf(vt, sizeof vt, "%" PRId64, version);
    const char *set_cluster = cluster_st != P_ABSENT ? "true" : "false";
    const char *set_labels = labels_st == P_SET ? "true" : "false";
    const char *vals[13] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt,
                            name.s, code.s, township.s, status.s, set_cluster, cluster.s,
                            set_labels, labels};
    const int lens[13] = {-1, -1, (int)key.len, -1, -1, (int)name.len, (int)code.len,
                          (int)township.len, (int)status.len, -1, (int)cluster.len, -1, -1};
    send_query(req, &st_update, vals, lens, update_cb, req);
    free(labels);
}

static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    int64_t limit;
    request *req = take_req_num(arg, &limit);
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_list.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, ent_cols, ENT_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_list.name, why);
        return;
    }
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? (int)limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, ent_cols, ENT_NCOLS);
    rowpack_str(pk, "next");
    if (more && n > 0)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, 0), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

static void enterprise_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"township", "cluster", "status", "label",
                                        "name_contains", "after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    pstr township, cluster, status, label, name;
    pstate st, limit_st;
    int64_t after = 0, limit = 0;
    if (params_check_known(req, args, known) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township, &st) != 0 ||
        opt_str(req, args, "cluster", BB_MAX_SHORT_TEXT_CHARS, &cluster, &st) != 0 ||
        opt_str(req, args, "status", BB_MAX_SHORT_TEXT_CHARS, &status, &st) != 0 ||
        check_known_value(req, "status", &status, statuses, "status") != 0 ||
        opt_str(req, args, "label", BB_MAX_LABEL_CHARS, &label, &st) != 0 ||
        opt_str(req, args, "name_contains", BB_MAX_NAME_CHARS, &name, &st) != 0 ||
        params_int(req, args, "after", false, 0, INT64_MAX, &after, &st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, &limit, &limit_st) != 0)
        return;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after", "after: must not be nil");
        return;
    }
    if (limit_st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "limit", "limit: must not be nil");
        return;
    }
    if (limit_st != P_SET)
        limit = cfg->page_limit_default;
    char aftert[ENT_ID_TEXT], limitt[ENT_ID_TEXT];
    snprintf(aftert, sizeof aftert, "%" PRId64, after);
    snprintf(limitt, sizeof limitt, "%" PRId64, limit + 1);
    const char *vals[8] = {township.s, cluster.s, status.s, label.s, name.s, aftert, limitt,
                           session_read_scope(req_session(req))};
    const int lens[8] = {(int)township.len, (int)cluster.len, (int)status.len, (int)label.len,
                         (int)name.len, -1, -1, -1};
    send_query_num(req, &st_list, vals, lens, list_cb, limit);
}

const method_impl enterprise_methods[] = {
    {"enterprise.create", .raw = enterprise_create, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"enterprise.get", .raw = enterprise_get, .raw_roles = BB_ROLES_USERS},
    {"enterprise.update", .raw = enterprise_update, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"enterprise.list", .raw = enterprise_list, .raw_roles = BB_ROLES_USERS},
    {NULL},
};

const method_module enterprise_module = {
    .name = "enterprise",
    .methods = enterprise_methods,
    .register_statements = enterprise_register_statements,
};
