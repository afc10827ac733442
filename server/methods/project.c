/*
 * project.c: the project.* methods (proto/PROTOCOL.md section 6,
 * "Projects"): create, get, update, list, move_stage, set_milestone,
 * history: investment projects (招商项目 / 重点项目), their lifecycle
 * stage and their milestone plan.
 *
 * For: checking every argument at the edge (params.h; the known
 * townships, clusters, priorities, stages and milestone nodes; money
 * ranges; dates) before any query, then exactly one pool_query per
 * request, and packing its rows: a Project is the project's columns plus
 * `milestones`, an array of five {node, planned_date, actual_date} maps
 * packed here from ten columns of the view project_wire.
 * The writes are stored functions (sql/008_project_fns.sql) that hold the
 * lifecycle rules, write the history (stage and plan events), the audit
 * row and the idempotency record in one statement; "today" for the
 * actual-date rule is computed here (clock.h, the configured time_zone,
 * pinned by fake_now in tests) and passed as a date parameter.
 *
 * Roles: every role reads; only supervisors write (the dispatcher's gate,
 * and bb_project_actor in SQL as a second wall). Township staff read the
 * projects of their own townships only (session_read_scope): a project
 * outside them is answered exactly like a missing one, and lists leave it
 * out.
 * Not for: the units a project names as lead unit (official.c), the
 * overdue milestones (overdue.c), the tables (sql/007_projects.sql).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "clock.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

#define PRJ_NUM_TEXT 24
/* A project's name, characters (also a CHECK in sql/007_projects.sql). */
#define PRJ_NAME_MAX_CHARS 100u
/* A reason (stage move, replanning), characters (CHECK on stage_reason). */
#define PRJ_REASON_MAX_CHARS 500u
/* Planned investment, whole yuan: 0 - 10^15 (CHECK in 007). */
#define PRJ_MONEY_MAX INT64_C(1000000000000000)
#define PRJ_NODES 5

/* The Project as view project_wire gives it: the wire keys in order, then
 * the planned and actual date of each node (packed as `milestones`). */
static const rp_col prj_cols[] = {
    {"id", RP_INT},           {"name", RP_TEXT},         {"enterprise_id", RP_INT},
    {"cluster", RP_TEXT},     {"planned_investment", RP_INT}, {"priority", RP_TEXT},
    {"lead_unit_id", RP_INT}, {"township", RP_TEXT},     {"stage", RP_TEXT},
    {"stage_reason", RP_TEXT}, {"paused_from", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT},  {"updated_at", RP_TEXT},
    {"planned_1", RP_TEXT},   {"actual_1", RP_TEXT},     {"planned_2", RP_TEXT},
    {"actual_2", RP_TEXT},    {"planned_3", RP_TEXT},    {"actual_3", RP_TEXT},
    {"planned_4", RP_TEXT},   {"actual_4", RP_TEXT},     {"planned_5", RP_TEXT},
    {"actual_5", RP_TEXT},
};
#define PRJ_NCOLS ((int)(sizeof prj_cols / sizeof prj_cols[0]))
/* The columns before the milestone dates: the Project's own keys. */
#define PRJ_NKEYS 14

/* One history event (bb_project_history). skipped: stages joined by '\n'. */
static const rp_col hist_cols[] = {
    {"kind", RP_TEXT},       {"at", RP_TEXT},          {"user_id", RP_INT},
    {"user", RP_TEXT},       {"from_stage", RP_TEXT},  {"to_stage", RP_TEXT},
    {"skipped", RP_LINES},   {"node", RP_TEXT},        {"old_planned", RP_TEXT},
    {"new_planned", RP_TEXT}, {"reason", RP_TEXT},
};
#define HIST_NCOLS ((int)(sizeof hist_cols / sizeof hist_cols[0]))

/* $2 is the read scope: NULL reads everything; a user id reads the
 * projects of that user's townships only. */
static const pool_stmt st_get = {
    "prj_get",
    "SELECT w.* FROM project_wire w"
    " WHERE w.id = $1::bigint"
    "   AND ($2::bigint IS NULL OR EXISTS ("
    "        SELECT 1 FROM project p JOIN app_user_township ut"
    "            ON ut.township_id = p.township_id AND ut.user_id = $2::bigint"
    "         WHERE p.id = w.id))",
    2};

/* $1 actor, $2 peer address, $3 idempotency key, then the arguments. */
static const pool_stmt st_create = {
    "prj_create",
    "SELECT * FROM bb_project_create($1::bigint, $2::text, $3::text, $4::text, $5::bigint,"
    " $6::text, $7::bigint, $8::text, $9::bigint, $10::text, $11::text)",
    11};

static const pool_stmt st_update = {
    "prj_update",
    "SELECT * FROM bb_project_update($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::boolean, $8::bigint, $9::boolean, $10::text, $11::bigint, $12::text,"
    " $13::boolean, $14::bigint, $15::text)",
    15};

static const pool_stmt st_move = {
    "prj_move_stage",
    "SELECT * FROM bb_project_move_stage($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::text)",
    7};

static const pool_stmt st_set_milestone = {
    "prj_set_milestone",
    "SELECT * FROM bb_project_set_milestone($1::bigint, $2::text, $3::text, $4::bigint,"
    " $5::text, $6::boolean, $7::date, $8::boolean, $9::date, $10::text, $11::date)",
    11};

/* Keyset page: ids after $9, ascending, $10 rows (one more than the page,
 * to learn whether a next page exists). An unknown township name gives
 * NULL and matches nothing. name_contains is plain text (strpos). $11 is
 * the read scope: rows outside it are never looked at. */
static const pool_stmt st_list = {
    "prj_list",
    "SELECT w.* FROM ("
    "  SELECT p.id FROM project p"
    "   WHERE ($1::text IS NULL OR p.township_id = (SELECT t.id FROM township t WHERE t.name = $1))"
    "     AND ($2::text IS NULL OR p.cluster = $2)"
    "     AND ($3::text IS NULL OR p.stage = $3)"
    "     AND ($4::text IS NULL OR p.priority = $4)"
    "     AND ($5::bigint IS NULL OR p.lead_unit_id = $5::bigint)"
    "     AND ($6::bigint IS NULL OR p.planned_investment >= $6::bigint)"
    "     AND ($7::bigint IS NULL OR p.planned_investment <= $7::bigint)"
    "     AND ($8::text IS NULL OR strpos(p.name, $8) > 0)"
    "     AND p.id > $9::bigint"
    "     AND ($11::bigint IS NULL OR p.township_id IN ("
    "          SELECT ut.township_id FROM app_user_township ut WHERE ut.user_id = $11::bigint))"
    "   ORDER BY p.id LIMIT $10::int) k"
    " JOIN project_wire w ON w.id = k.id"
    " ORDER BY w.id",
    11};

/* $1 read scope, $2 id. */
static const pool_stmt st_history = {
    "prj_history",
    "SELECT * FROM bb_project_history($1::bigint, $2::bigint)",
    2};

static int project_register_statements(void)
{
    if (pool_register(&st_get) != 0 || pool_register(&st_create) != 0 ||
        pool_register(&st_update) != 0 || pool_register(&st_move) != 0 ||
        pool_register(&st_set_milestone) != 0 || pool_register(&st_list) != 0 ||
        pool_register(&st_history) != 0)
        return -1;
    return 0;
}

/* Known values (PROTOCOL.md "Townships", "Enterprise", "Project"); the
 * database has the same lists as tables and CHECKs. */
static const char *const townships[] = {
    "蒲圻街道", "陆水湖街道", "赤马港街道", "赤壁镇", "新店镇", "赵李桥镇",
    "茶庵岭镇", "车埠镇", "中伙铺镇", "官塘驿镇", "神山镇", "柳山湖镇",
    "黄盖湖镇", "余家桥乡", "高新技术产业园区", "新材料产业园", "美丽健康产业园", NULL,
};
static const char *const clusters[] = {
    "青砖茶", "电子信息", "纺织服装", "电力能源", "安全应急", "大健康", "新材料", "节能环保", NULL,
};
static const char *const priorities[] = {"省级重点", "市级重点", "一般", NULL};
/* The lifecycle in order, then the two stages off the line. */
static const char *const stages[] = {"信息收集", "研判", "洽谈", "签约", "注册", "开工",
                                     "投产", "竣工", "终止", "暂停", NULL};
static const char *const ranked_stages[] = {"信息收集", "研判", "洽谈", "签约",
                                            "注册", "开工", "投产", "竣工", NULL};
static const char *const nodes[PRJ_NODES + 1] = {"签约", "注册", "开工", "投产", "竣工", NULL};

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

static int check_known(request *req, const char *key, const pstr *v, const char *const *list,
                       const char *what)
{
    if (v->s != NULL && !one_of(v, list)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: not a known %s", key, what);
        return -1;
    }
    return 0;
}

/* nil for an argument that is not nil-able. */
static int refuse_nil(request *req, const char *key, pstate st)
{
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* An optional str that is not nil-able. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   pstr *out)
{
    pstate st;
    if (params_str(req, args, key, false, max_chars, false, out, &st) != 0)
        return -1;
    return refuse_nil(req, key, st);
}

/* An optional int that is not nil-able; *set tells whether it was given. */
static int opt_int(request *req, const msgpack_object *args, const char *key, int64_t min,
                   int64_t max, int64_t *out, bool *set)
{
    pstate st;
    if (params_int(req, args, key, false, min, max, out, &st) != 0 || refuse_nil(req, key, st) != 0)
        return -1;
    *set = st == P_SET;
    return 0;
}

static int idem_key(request *req, const msgpack_object *args, pstr *key)
{
    if (opt_str(req, args, "idempotency_key", BB_MAX_IDEMPOTENCY_KEY_BYTES, key) != 0)
        return -1;
    if (key->s != NULL && key->len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return -1;
    }
    return 0;
}

/* ---- packing ---- */

static void pack_cell(msgpack_packer *pk, const PGresult *res, int row, int col, rp_type t)
{
    if (PQgetisnull(res, row, col)) {
        msgpack_pack_nil(pk);
        return;
    }
    const char *v = PQgetvalue(res, row, col);
    if (t == RP_INT) {
        msgpack_pack_int64(pk, strtoll(v, NULL, 10)); /* checked by rowpack_check */
        return;
    }
    size_t len = (size_t)PQgetlength(res, row, col);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, v, len);
}

/* One Project: its keys, then `milestones` in node order. */
static void pack_project(msgpack_packer *pk, const PGresult *res, int row)
{
    msgpack_pack_map(pk, PRJ_NKEYS + 1);
    for (int i = 0; i < PRJ_NKEYS; i++) {
        rowpack_str(pk, prj_cols[i].key);
        pack_cell(pk, res, row, i, prj_cols[i].type);
    }
    rowpack_str(pk, "milestones");
    msgpack_pack_array(pk, PRJ_NODES);
    for (int n = 0; n < PRJ_NODES; n++) {
        msgpack_pack_map(pk, 3);
        rowpack_str(pk, "node");
        rowpack_str(pk, nodes[n]);
        rowpack_str(pk, "planned_date");
        pack_cell(pk, res, row, PRJ_NKEYS + 2 * n, RP_TEXT);
        rowpack_str(pk, "actual_date");
        pack_cell(pk, res, row, PRJ_NKEYS + 2 * n + 1, RP_TEXT);
    }
}

/* Sends stmt with req as the callback argument; on a synchronous failure
 * answers req. */
static void send_query(request *req, const pool_stmt *stmt, const char *const *vals,
                       const int *lens, pool_cb cb)
{
    int rc = pool_query(req_server(req)->pool, stmt, vals, lens, cb, req);
    if (rc < 0)
        rowpack_reply_query_rc(req, stmt->name, rc);
}

/* A request and the one number its callback needs (get: the id for its
 * not_found message; list: the page size). */
typedef struct req_num {
    request *req;
    int64_t n;
} req_num;

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

static request *take_req_num(void *arg, int64_t *n)
{
    req_num *rn = arg;
    request *req = rn->req;
    *n = rn->n;
    free(rn);
    return req;
}

/* The answer of every call that returns one Project. */
static void one_project(request *req, const PGresult *res, const pool_error *e, const char *stmt)
{
    if (e != NULL) {
        rowpack_reply_pool_error(req, stmt, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, prj_cols, PRJ_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, stmt, why);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, stmt, "expected one row");
        return;
    }
    pack_project(req_result_begin(req), res, 0);
    req_result_end(req);
}

static void create_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_project(arg, res, e, st_create.name);
}
static void update_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_project(arg, res, e, st_update.name);
}
static void move_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_project(arg, res, e, st_move.name);
}
static void set_milestone_cb(void *arg, const PGresult *res, const pool_error *e)
{
    one_project(arg, res, e, st_set_milestone.name);
}

static void get_cb(void *arg, const PGresult *res, const pool_error *e)
{
    int64_t id;
    request *req = take_req_num(arg, &id);
    if (e == NULL && PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "project %" PRId64 " does not exist", id);
        return;
    }
    one_project(req, res, e, st_get.name);
}

/* ---- methods ---- */

static void project_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"name", "enterprise_id", "cluster", "planned_investment",
                                        "priority", "lead_unit_id", "township", "stage",
                                        "idempotency_key", NULL};
    pstr name, cluster, priority, township, stage, key;
    pstate st;
    int64_t ent = 0, money = 0, unit = 0;
    pstate ent_st, unit_st;
    if (params_check_known(req, args, known) != 0 ||
        params_str(req, args, "name", true, PRJ_NAME_MAX_CHARS, false, &name, &st) != 0 ||
        params_int(req, args, "enterprise_id", false, 1, INT64_MAX, &ent, &ent_st) != 0 ||
        params_str(req, args, "cluster", false, BB_MAX_SHORT_TEXT_CHARS, false, &cluster, &st) != 0 ||
        check_known(req, "cluster", &cluster, clusters, "industry cluster") != 0 ||
        params_int(req, args, "planned_investment", true, 0, PRJ_MONEY_MAX, &money, &st) != 0 ||
        params_str(req, args, "priority", true, BB_MAX_SHORT_TEXT_CHARS, false, &priority, &st) != 0 ||
        check_known(req, "priority", &priority, priorities, "priority") != 0 ||
        params_int(req, args, "lead_unit_id", false, 1, INT64_MAX, &unit, &unit_st) != 0 ||
        params_str(req, args, "township", true, BB_MAX_SHORT_TEXT_CHARS, false, &township, &st) != 0 ||
        check_known(req, "township", &township, townships, "township") != 0 ||
        opt_str(req, args, "stage", BB_MAX_SHORT_TEXT_CHARS, &stage) != 0 ||
        check_known(req, "stage", &stage, ranked_stages,
                    "starting stage (终止 and 暂停 need project.move_stage)") != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char entt[PRJ_NUM_TEXT], moneyt[PRJ_NUM_TEXT], unitt[PRJ_NUM_TEXT];
    snprintf(entt, sizeof entt, "%" PRId64, ent);
    snprintf(moneyt, sizeof moneyt, "%" PRId64, money);
    snprintf(unitt, sizeof unitt, "%" PRId64, unit);
    const char *vals[11] = {session_actor(req_session(req)), req_peer(req), key.s, name.s,
                            ent_st == P_SET ? entt : NULL, cluster.s, moneyt, priority.s,
                            unit_st == P_SET ? unitt : NULL, township.s, stage.s};
    const int lens[11] = {-1, -1, (int)key.len, (int)name.len, -1, (int)cluster.len, -1,
                          (int)priority.len, -1, (int)township.len, (int)stage.len};
    send_query(req, &st_create, vals, lens, create_cb);
}

static void project_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[PRJ_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *vals[2] = {idt, session_read_scope(req_session(req))};
    send_query_num(req, &st_get, vals, NULL, get_cb, id);
}

static void project_update(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "name", "enterprise_id", "cluster",
                                        "planned_investment", "priority", "lead_unit_id",
                                        "township", "idempotency_key", NULL};
    int64_t id, version, ent = 0, money = 0, unit = 0;
    bool money_set;
    pstr name, cluster, priority, township, key;
    pstate st, ent_st, cluster_st, unit_st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        opt_str(req, args, "name", PRJ_NAME_MAX_CHARS, &name) != 0 ||
        params_int(req, args, "enterprise_id", false, 1, INT64_MAX, &ent, &ent_st) != 0 ||
        params_str(req, args, "cluster", false, BB_MAX_SHORT_TEXT_CHARS, false, &cluster,
                   &cluster_st) != 0 ||
        check_known(req, "cluster", &cluster, clusters, "industry cluster") != 0 ||
        opt_int(req, args, "planned_investment", 0, PRJ_MONEY_MAX, &money, &money_set) != 0 ||
        opt_str(req, args, "priority", BB_MAX_SHORT_TEXT_CHARS, &priority) != 0 ||
        check_known(req, "priority", &priority, priorities, "priority") != 0 ||
        params_int(req, args, "lead_unit_id", false, 1, INT64_MAX, &unit, &unit_st) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township) != 0 ||
        check_known(req, "township", &township, townships, "township") != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char idt[PRJ_NUM_TEXT], vt[PRJ_NUM_TEXT], entt[PRJ_NUM_TEXT], moneyt[PRJ_NUM_TEXT],
        unitt[PRJ_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    snprintf(vt, sizeof vt, "%" PRId64, version);
    snprintf(entt, sizeof entt, "%" PRId64, ent);
    snprintf(moneyt, sizeof moneyt, "%" PRId64, money);
    snprintf(unitt, sizeof unitt, "%" PRId64, unit);
    const char *vals[15] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt,
                            name.s,
                            ent_st != P_ABSENT ? "true" : "false",
                            ent_st == P_SET ? entt : NULL,
                            cluster_st != P_ABSENT ? "true" : "false", cluster.s,
                            money_set ? moneyt : NULL, priority.s,
                            unit_st != P_ABSENT ? "true" : "false",
                            unit_st == P_SET ? unitt : NULL, township.s};
    const int lens[15] = {-1, -1, (int)key.len, -1, -1, (int)name.len, -1, -1, -1,
                          (int)cluster.len, -1, (int)priority.len, -1, -1, (int)township.len};
    send_query(req, &st_update, vals, lens, update_cb);
}

static void project_move_stage(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "stage", "reason", "idempotency_key",
                                        NULL};
    int64_t id, version;
    pstr stage, reason, key;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        params_str(req, args, "stage", true, BB_MAX_SHORT_TEXT_CHARS, false, &stage, &st) != 0 ||
        check_known(req, "stage", &stage, stages, "stage") != 0 ||
        opt_str(req, args, "reason", PRJ_REASON_MAX_CHARS, &reason) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char idt[PRJ_NUM_TEXT], vt[PRJ_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    snprintf(vt, sizeof vt, "%" PRId64, version);
    const char *vals[7] = {session_actor(req_session(req)), req_peer(req), key.s, idt, vt,
                           stage.s, reason.s};
    const int lens[7] = {-1, -1, (int)key.len, -1, -1, (int)stage.len, (int)reason.len};
    send_query(req, &st_move, vals, lens, move_cb);
}

static void project_set_milestone(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "node", "planned_date", "actual_date", "reason",
                                        "idempotency_key", NULL};
    int64_t id;
    pstr node, reason, key;
    pstate st, planned_st, actual_st;
    char planned[11], actual[11];
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_str(req, args, "node", true, BB_MAX_SHORT_TEXT_CHARS, false, &node, &st) != 0 ||
        check_known(req, "node", &node, nodes, "milestone node (签约 注册 开工 投产 竣工)") != 0 ||
        params_date(req, args, "planned_date", false, planned, &planned_st) != 0 ||
        params_date(req, args, "actual_date", false, actual, &actual_st) != 0 ||
        opt_str(req, args, "reason", PRJ_REASON_MAX_CHARS, &reason) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    if (planned_st == P_ABSENT && actual_st == P_ABSENT) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "planned_date",
                        "planned_date: give planned_date, actual_date or both");
        return;
    }
    char today[16];
    if (clock_today(today) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "cannot compute today's date");
        return;
    }
    char idt[PRJ_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *vals[11] = {session_actor(req_session(req)), req_peer(req), key.s, idt, node.s,
                            planned_st != P_ABSENT ? "true" : "false",
                            planned_st == P_SET ? planned : NULL,
                            actual_st != P_ABSENT ? "true" : "false",
                            actual_st == P_SET ? actual : NULL, reason.s, today};
    const int lens[11] = {-1, -1, (int)key.len, -1, (int)node.len, -1, -1, -1, -1,
                          (int)reason.len, -1};
    send_query(req, &st_set_milestone, vals, lens, set_milestone_cb);
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
    if (rowpack_check(res, prj_cols, PRJ_NCOLS, &why) != 0) {
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
        pack_project(pk, res, i);
    rowpack_str(pk, "next");
    if (more && n > 0)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, 0), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

static void project_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"township", "cluster", "stage", "priority",
                                        "lead_unit_id", "investment_min", "investment_max",
                                        "name_contains", "after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    pstr township, cluster, stage, priority, name;
    int64_t unit = 0, lo = 0, hi = 0, after = 0, limit = 0;
    bool unit_set, lo_set, hi_set, after_set, limit_set;
    if (params_check_known(req, args, known) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township) != 0 ||
        opt_str(req, args, "cluster", BB_MAX_SHORT_TEXT_CHARS, &cluster) != 0 ||
        opt_str(req, args, "stage", BB_MAX_SHORT_TEXT_CHARS, &stage) != 0 ||
        check_known(req, "stage", &stage, stages, "stage") != 0 ||
        opt_str(req, args, "priority", BB_MAX_SHORT_TEXT_CHARS, &priority) != 0 ||
        check_known(req, "priority", &priority, priorities, "priority") != 0 ||
        opt_int(req, args, "lead_unit_id", 1, INT64_MAX, &unit, &unit_set) != 0 ||
        opt_int(req, args, "investment_min", 0, PRJ_MONEY_MAX, &lo, &lo_set) != 0 ||
        opt_int(req, args, "investment_max", 0, PRJ_MONEY_MAX, &hi, &hi_set) != 0 ||
        opt_str(req, args, "name_contains", PRJ_NAME_MAX_CHARS, &name) != 0 ||
        opt_int(req, args, "after", 0, INT64_MAX, &after, &after_set) != 0 ||
        opt_int(req, args, "limit", 1, cfg->page_limit_max, &limit, &limit_set) != 0)
        return;
    if (lo_set && hi_set && lo > hi) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "investment_min",
                        "investment_min: %" PRId64 " is above investment_max (%" PRId64 ")", lo,
                        hi);
        return;
    }
    if (!limit_set)
        limit = cfg->page_limit_default;
    char unitt[PRJ_NUM_TEXT], lot[PRJ_NUM_TEXT], hit[PRJ_NUM_TEXT], aftert[PRJ_NUM_TEXT],
        limitt[PRJ_NUM_TEXT];
    snprintf(unitt, sizeof unitt, "%" PRId64, unit);
    snprintf(lot, sizeof lot, "%" PRId64, lo);
    snprintf(hit, sizeof hit, "%" PRId64, hi);
    snprintf(aftert, sizeof aftert, "%" PRId64, after);
    snprintf(limitt, sizeof limitt, "%" PRId64, limit + 1);
    const char *vals[11] = {township.s, cluster.s, stage.s, priority.s,
                            unit_set ? unitt : NULL, lo_set ? lot : NULL, hi_set ? hit : NULL,
                            name.s, aftert, limitt, session_read_scope(req_session(req))};
    const int lens[11] = {(int)township.len, (int)cluster.len, (int)stage.len,
                          (int)priority.len, -1, -1, -1, (int)name.len, -1, -1, -1};
    send_query_num(req, &st_list, vals, lens, list_cb, limit);
}

static void history_cb(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_history.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, hist_cols, HIST_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_history.name, why);
        return;
    }
    int rows = PQntuples(res);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 1);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)rows);
    for (int i = 0; i < rows; i++)
        rowpack_row(pk, res, i, hist_cols, HIST_NCOLS);
    req_result_end(req);
}

static void project_history(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[PRJ_NUM_TEXT];
    snprintf(idt, sizeof idt, "%" PRId64, id);
    const char *vals[2] = {session_read_scope(req_session(req)), idt};
    send_query(req, &st_history, vals, NULL, history_cb);
}

const method_impl project_methods[] = {
    {"project.create", .raw = project_create, .raw_roles = BB_ROLE_SUPERVISOR},
    {"project.get", .raw = project_get, .raw_roles = BB_ROLES_USERS},
    {"project.update", .raw = project_update, .raw_roles = BB_ROLE_SUPERVISOR},
    {"project.list", .raw = project_list, .raw_roles = BB_ROLES_USERS},
    {"project.move_stage", .raw = project_move_stage, .raw_roles = BB_ROLE_SUPERVISOR},
    {"project.set_milestone", .raw = project_set_milestone, .raw_roles = BB_ROLE_SUPERVISOR},
    {"project.history", .raw = project_history, .raw_roles = BB_ROLES_USERS},
    {NULL},
};

const method_module project_module = {
    .name = "project",
    .methods = project_methods,
    .register_statements = project_register_statements,
};
