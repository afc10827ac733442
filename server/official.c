/*
 * official.c: the directory of units and officials and the 包保
 * assignments (proto/PROTOCOL.md section 6): unit.create / get / list /
 * portfolio, official.create / get / update / list / portfolio,
 * assignment.create / get / end / list, and coverage.gaps.
 *
 * For: checking every argument at the edge (params.h) and the cross rules
 * of an assignment (exactly one holder, exactly one target, 责任单位 held by
 * a unit and the other roles by officials, the end not before the start)
 * before any query; then exactly one pool_query per request and packing
 * its rows. Writes are stored functions (sql/009_assignment_fns.sql), each
 * one atomic statement with its idempotency record and audit row, taking
 * the caller (session_actor) and the peer (req_peer); the database checks
 * the role again. Reads pass the read scope (session_read_scope): units
 * and officials are a directory everyone reads whole, while assignments,
 * projects and problems outside a township staff user's townships are left
 * out, and an assignment outside them is answered like a missing one.
 * "Today" (the default of `on`) is clock_today(), passed to SQL as a date.
 *
 * Not for: projects (project.c), problems (problem.c), overdue lists
 * (overdue.c), or SQL beyond the text next to each method here.
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

/* Names and titles of units and officials (also CHECKs in 007_projects.sql). */
#define OFF_NAME_MAX_CHARS 50u
/* A phone number: a digit, then digits, spaces, '+' or '-'; 3-32 bytes
 * (the CHECK of official.phone). */
#define OFF_PHONE_MIN_BYTES 3u
#define OFF_PHONE_MAX_BYTES 32u
/* The coverage.gaps cursor "K.ID.R" (kind rank, target id, role rank). */
#define GAPS_CURSOR_MAX_CHARS 30u
#define OFF_NUM_TEXT 24

/* ---- wire shapes (the columns of the *_wire views of 009) ---- */

static const rp_col unit_cols[] = {
    {"id", RP_INT}, {"name", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT}, {"updated_at", RP_TEXT},
};
#define UNIT_NCOLS ((int)(sizeof unit_cols / sizeof unit_cols[0]))

static const rp_col off_cols[] = {
    {"id", RP_INT},        {"name", RP_TEXT},       {"title", RP_TEXT},
    {"unit_id", RP_INT},   {"unit_name", RP_TEXT},  {"phone", RP_TEXT},
    {"user_id", RP_INT},   {"version", RP_INT},     {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};
#define OFF_NCOLS ((int)(sizeof off_cols / sizeof off_cols[0]))

#define ASG_COLS(p)                                                                     \
    {p "id", RP_INT}, {p "role", RP_TEXT}, {p "official_id", RP_INT},                   \
    {p "official_name", RP_TEXT}, {p "unit_id", RP_INT}, {p "unit_name", RP_TEXT},      \
    {p "enterprise_id", RP_INT}, {p "project_id", RP_INT}, {p "target_name", RP_TEXT},  \
    {p "township", RP_TEXT}, {p "period_start", RP_TEXT}, {p "period_end", RP_TEXT},    \
    {p "version", RP_INT}, {p "created_at", RP_TEXT}, {p "updated_at", RP_TEXT}
static const rp_col asg_cols[] = {ASG_COLS("")};
#define ASG_NCOLS ((int)(sizeof asg_cols / sizeof asg_cols[0]))

/* Portfolio items (bb_portfolio_items): a section letter, then an
 * Assignment, a ProjectRef and a ProblemRef side by side (NULL outside
 * their section). */
#define PRJ_REF_COLS(p)                                                                 \
    {p "id", RP_INT}, {p "name", RP_TEXT}, {p "township", RP_TEXT},                     \
    {p "stage", RP_TEXT}, {p "priority", RP_TEXT}
#define PRB_REF_COLS(p)                                                                 \
    {p "id", RP_INT}, {p "enterprise_id", RP_INT}, {p "enterprise_name", RP_TEXT},      \
    {p "township", RP_TEXT}, {p "category", RP_TEXT}, {p "state", RP_TEXT},             \
    {p "deadline", RP_TEXT}
static const rp_col prj_ref_cols[] = {PRJ_REF_COLS("")};
static const rp_col prb_ref_cols[] = {PRB_REF_COLS("")};
#define PRJ_REF_NCOLS ((int)(sizeof prj_ref_cols / sizeof prj_ref_cols[0]))
#define PRB_REF_NCOLS ((int)(sizeof prb_ref_cols / sizeof prb_ref_cols[0]))
#define ITEM_COLS {"section", RP_TEXT}, ASG_COLS("a_"), PRJ_REF_COLS("p_"), PRB_REF_COLS("q_")

static const rp_col off_portfolio_cols[] = {
    {"id", RP_INT},        {"name", RP_TEXT},       {"title", RP_TEXT},
    {"unit_id", RP_INT},   {"unit_name", RP_TEXT},  {"phone", RP_TEXT},
    {"user_id", RP_INT},   {"version", RP_INT},     {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT}, ITEM_COLS,
};
static const rp_col unit_portfolio_cols[] = {
    {"id", RP_INT}, {"name", RP_TEXT}, {"version", RP_INT},
    {"created_at", RP_TEXT}, {"updated_at", RP_TEXT}, ITEM_COLS,
};
#define OFF_PF_NCOLS ((int)(sizeof off_portfolio_cols / sizeof off_portfolio_cols[0]))
#define UNIT_PF_NCOLS ((int)(sizeof unit_portfolio_cols / sizeof unit_portfolio_cols[0]))

/* A coverage gap; the last two columns (kind_rank, role_rank) make the
 * cursor and are not packed. */
static const rp_col gap_cols[] = {
    {"kind", RP_TEXT},     {"id", RP_INT},         {"name", RP_TEXT},
    {"township", RP_TEXT}, {"role", RP_TEXT},      {"priority", RP_TEXT},
    {"stage", RP_TEXT},    {"kind_rank", RP_INT},  {"role_rank", RP_INT},
};
#define GAP_NCOLS ((int)(sizeof gap_cols / sizeof gap_cols[0]))
#define GAP_WIRE_NCOLS 7

/* ---- statements ----
 * Writes: $1 actor, $2 peer address, $3 idempotency key, then the
 * arguments. Reads of records that lie in a township take the read scope
 * (NULL: everything; else the user id of township staff). */

static const pool_stmt st_unit_create = {
    "unit_create", "SELECT * FROM bb_unit_create($1::bigint, $2::text, $3::text, $4::text)", 4};

static const pool_stmt st_unit_get = {
    "unit_get", "SELECT * FROM unit_wire WHERE id = $1::bigint", 1};

/* Keyset page by id; $1 name_contains (strpos: plain text), $2 after, $3 limit. */
static const pool_stmt st_unit_list = {
    "unit_list",
    "SELECT w.* FROM unit_wire w"
    " WHERE ($1::text IS NULL OR strpos(w.name, $1) > 0) AND w.id > $2::bigint"
    " ORDER BY w.id LIMIT $3::int",
    3};

static const pool_stmt st_off_create = {
    "official_create",
    "SELECT * FROM bb_official_create($1::bigint, $2::text, $3::text, $4::text, $5::text,"
    " $6::bigint, $7::text, $8::bigint)",
    8};

static const pool_stmt st_off_get = {
    "official_get", "SELECT * FROM official_wire WHERE id = $1::bigint", 1};

static const pool_stmt st_off_update = {
    "official_update",
    "SELECT * FROM bb_official_update($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::boolean, $8::text, $9::boolean, $10::bigint, $11::boolean, $12::text,"
    " $13::boolean, $14::bigint)",
    14};

/* $1 unit_id, $2 name_contains, $3 after, $4 limit. */
static const pool_stmt st_off_list = {
    "official_list",
    "SELECT w.* FROM ("
    "  SELECT o.id FROM official o"
    "   WHERE ($1::bigint IS NULL OR o.unit_id = $1::bigint)"
    "     AND ($2::text IS NULL OR strpos(o.name, $2) > 0)"
    "     AND o.id > $3::bigint"
    "   ORDER BY o.id LIMIT $4::int) k"
    " JOIN official_wire w ON w.id = k.id ORDER BY w.id",
    4};

static const pool_stmt st_asg_create = {
    "assignment_create",
    "SELECT * FROM bb_assignment_create($1::bigint, $2::text, $3::text, $4::bigint, $5::bigint,"
    " $6::bigint, $7::bigint, $8::text, $9::date, $10::date)",
    10};

static const pool_stmt st_asg_end = {
    "assignment_end",
    "SELECT * FROM bb_assignment_end($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::date)",
    6};

/* $2 read scope: an assignment lies in its enterprise's or project's township. */
static const pool_stmt st_asg_get = {
    "assignment_get",
    "SELECT w.* FROM assignment_wire w"
    " WHERE w.id = $1::bigint"
    "   AND ($2::bigint IS NULL OR w.township IN ("
    "        SELECT t.name FROM app_user_township ut JOIN township t ON t.id = ut.township_id"
    "         WHERE ut.user_id = $2::bigint))",
    2};

/* $1 enterprise_id, $2 project_id, $3 official_id, $4 unit_id, $5 role,
 * $6 active_on, $7 after, $8 limit, $9 read scope. Rows outside the scope
 * are never looked at, so no filter or page boundary reveals them. */
static const pool_stmt st_asg_list = {
    "assignment_list",
    "SELECT w.* FROM ("
    "  SELECT a.id FROM assignment a"
    "    LEFT JOIN enterprise e ON e.id = a.enterprise_id"
    "    LEFT JOIN project p ON p.id = a.project_id"
    "   WHERE ($1::bigint IS NULL OR a.enterprise_id = $1::bigint)"
    "     AND ($2::bigint IS NULL OR a.project_id = $2::bigint)"
    "     AND ($3::bigint IS NULL OR a.official_id = $3::bigint)"
    "     AND ($4::bigint IS NULL OR a.unit_id = $4::bigint)"
    "     AND ($5::text IS NULL OR a.role = $5::text)"
    "     AND ($6::date IS NULL OR (a.period_start <= $6::date"
    "          AND (a.period_end IS NULL OR $6::date <= a.period_end)))"
    "     AND a.id > $7::bigint"
    "     AND bb_scope_has($9::bigint, coalesce(e.township_id, p.township_id))"
    "   ORDER BY a.id LIMIT $8::int) k"
    " JOIN assignment_wire w ON w.id = k.id ORDER BY w.id",
    9};

/* One row per item (or one row with section NULL when there is none);
 * none when the official / unit does not exist. $1 id, $2 scope, $3 on. */
static const pool_stmt st_off_portfolio = {
    "official_portfolio",
    "SELECT w.*, i.* FROM official_wire w"
    " LEFT JOIN LATERAL bb_portfolio_items($2::bigint, w.id, NULL, $3::date) i ON true"
    " WHERE w.id = $1::bigint"
    " ORDER BY i.section, i.a_id, i.p_id, i.q_deadline, i.q_id",
    3};

static const pool_stmt st_unit_portfolio = {
    "unit_portfolio",
    "SELECT w.*, i.* FROM unit_wire w"
    " LEFT JOIN LATERAL bb_portfolio_items($2::bigint, NULL, w.id, $3::date) i ON true"
    " WHERE w.id = $1::bigint"
    " ORDER BY i.section, i.a_id, i.p_id, i.q_deadline, i.q_id",
    3};

/* $1 scope, $2 kind, $3 role, $4 township, $5 on, $6..$8 cursor, $9 limit. */
static const pool_stmt st_gaps = {
    "coverage_gaps",
    "SELECT * FROM bb_coverage_gaps($1::bigint, $2::text, $3::text, $4::text, $5::date,"
    " $6::int, $7::bigint, $8::int, $9::int)",
    9};

int official_register_statements(void)
{
    const pool_stmt *all[] = {&st_unit_create, &st_unit_get,   &st_unit_list,  &st_off_create,
                              &st_off_get,     &st_off_update, &st_off_list,   &st_asg_create,
                              &st_asg_end,     &st_asg_get,    &st_asg_list,   &st_off_portfolio,
                              &st_unit_portfolio, &st_gaps};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (pool_register(all[i]) != 0)
            return -1;
    return 0;
}

/* ---- argument helpers ---- */

static const char *const roles[] = {"包保市领导", "责任单位", "联络员", NULL};
static const char *const kinds[] = {"enterprise", "project", NULL};
#define ROLE_UNIT "责任单位"

static bool pstr_is(const pstr *v, const char *s)
{
    return v->s != NULL && strlen(s) == v->len && memcmp(s, v->s, v->len) == 0;
}

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (pstr_is(v, list[i]))
            return true;
    return false;
}

static int refuse_nil(request *req, const char *key, pstate st)
{
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* Optional, not nil-able. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   pstr *out, pstate *st)
{
    if (params_str(req, args, key, false, max_chars, false, out, st) != 0)
        return -1;
    return refuse_nil(req, key, *st);
}

static int opt_int(request *req, const msgpack_object *args, const char *key, int64_t min,
                   int64_t max, int64_t *out, pstate *st)
{
    if (params_int(req, args, key, false, min, max, out, st) != 0)
        return -1;
    return refuse_nil(req, key, *st);
}

static int opt_date(request *req, const msgpack_object *args, const char *key, char out[11],
                    pstate *st)
{
    if (params_date(req, args, key, false, out, st) != 0)
        return -1;
    return refuse_nil(req, key, *st);
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

static int idem_key(request *req, const msgpack_object *args, pstr *key)
{
    pstate st;
    if (opt_str(req, args, "idempotency_key", BB_MAX_IDEMPOTENCY_KEY_BYTES, key, &st) != 0)
        return -1;
    if (key->s != NULL && key->len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return -1;
    }
    return 0;
}

/* phone: a digit, then digits, spaces, '+' or '-', 3-32 bytes in all. */
static int check_phone(request *req, const pstr *v)
{
    if (v->s == NULL)
        return 0;
    bool ok = v->len >= OFF_PHONE_MIN_BYTES && v->len <= OFF_PHONE_MAX_BYTES &&
              v->s[0] >= '0' && v->s[0] <= '9';
    for (uint32_t i = 1; ok && i < v->len; i++) {
        char c = v->s[i];
        ok = (c >= '0' && c <= '9') || c == ' ' || c == '+' || c == '-';
    }
    if (!ok) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "phone",
                        "phone: %u-%u characters: a digit first, then digits, spaces, + or -",
                        OFF_PHONE_MIN_BYTES, OFF_PHONE_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* The page size: limit when given, else page_limit_default. */
static int page_limit(request *req, const msgpack_object *args, int64_t *limit)
{
    const config *cfg = &req_server(req)->cfg;
    pstate st;
    if (opt_int(req, args, "limit", 1, cfg->page_limit_max, limit, &st) != 0)
        return -1;
    if (st != P_SET)
        *limit = cfg->page_limit_default;
    return 0;
}

/* `on`: the date given, else today in the server's time zone. */
static int on_date(request *req, const msgpack_object *args, char out[11])
{
    pstate st;
    if (opt_date(req, args, "on", out, &st) != 0)
        return -1;
    if (st != P_SET && clock_today(out) != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        return -1;
    }
    return 0;
}

static const char *num_text(char buf[OFF_NUM_TEXT], int64_t v, pstate st)
{
    if (st != P_SET)
        return NULL;
    snprintf(buf, OFF_NUM_TEXT, "%" PRId64, v);
    return buf;
}

static const char *bool_text(bool b) { return b ? "true" : "false"; }

/* ---- sending and answering ---- */

/* What a callback needs besides the result: the request, a number (the
 * id of a get, for its not_found message; the page size of a list), and
 * how to answer. */
typedef struct call {
    request *req;
    int64_t n;
    const char *what;          /* "unit", "official", "assignment" (not_found) */
    char on_buf[11];           /* portfolios: the date `on` */
} call;

static void send_call(request *req, const pool_stmt *stmt, const char *const *vals,
                      const int *lens, pool_cb cb, int64_t n, const char *what,
                      const char *on)
{
    call *c = calloc(1, sizeof *c);
    if (c == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    c->req = req;
    c->n = n;
    c->what = what;
    if (on != NULL)
        snprintf(c->on_buf, sizeof c->on_buf, "%s", on);
    int rc = pool_query(req_server(req)->pool, stmt, vals, lens, cb, c);
    if (rc < 0) {
        free(c);
        rowpack_reply_query_rc(req, stmt->name, rc);
    }
}

/* Checks res against cols; answers req and returns -1 on an error. */
static int check_result(request *req, const char *stmt, const PGresult *res,
                        const pool_error *e, const rp_col *cols, int ncols)
{
    if (e != NULL) {
        rowpack_reply_pool_error(req, stmt, e);
        return -1;
    }
    const char *why = NULL;
    if (rowpack_check(res, cols, ncols, &why) != 0) {
        rowpack_reply_bad_result(req, stmt, why);
        return -1;
    }
    return 0;
}

/* One record (a write's result or a get): no row = not_found (field id). */
static void one_row(void *arg, const PGresult *res, const pool_error *e, const char *stmt,
                    const rp_col *cols, int ncols)
{
    call *c = arg;
    request *req = c->req;
    int64_t id = c->n;
    const char *what = c->what;
    free(c);
    if (check_result(req, stmt, res, e, cols, ncols) != 0)
        return;
    if (PQntuples(res) == 0 && what != NULL) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "%s %" PRId64 " does not exist", what, id);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, stmt, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, cols, ncols);
    req_result_end(req);
}

/* A keyset page by id: {items, next}; the query asked limit + 1 rows. */
static void id_page(void *arg, const PGresult *res, const pool_error *e, const char *stmt,
                    const rp_col *cols, int ncols)
{
    call *c = arg;
    request *req = c->req;
    int64_t limit = c->n;
    free(c);
    if (check_result(req, stmt, res, e, cols, ncols) != 0)
        return;
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? (int)limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, cols, ncols);
    rowpack_str(pk, "next");
    if (more && n > 0)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, 0), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

#define ROW_CB(fn, stmt, cols, ncols)                                           \
    static void fn(void *arg, const PGresult *res, const pool_error *e)        \
    {                                                                           \
        one_row(arg, res, e, (stmt).name, cols, ncols);                         \
    }
#define PAGE_CB(fn, stmt, cols, ncols)                                          \
    static void fn(void *arg, const PGresult *res, const pool_error *e)        \
    {                                                                           \
        id_page(arg, res, e, (stmt).name, cols, ncols);                         \
    }

ROW_CB(unit_create_cb, st_unit_create, unit_cols, UNIT_NCOLS)
ROW_CB(unit_get_cb, st_unit_get, unit_cols, UNIT_NCOLS)
PAGE_CB(unit_list_cb, st_unit_list, unit_cols, UNIT_NCOLS)
ROW_CB(off_create_cb, st_off_create, off_cols, OFF_NCOLS)
ROW_CB(off_get_cb, st_off_get, off_cols, OFF_NCOLS)
ROW_CB(off_update_cb, st_off_update, off_cols, OFF_NCOLS)
PAGE_CB(off_list_cb, st_off_list, off_cols, OFF_NCOLS)
ROW_CB(asg_create_cb, st_asg_create, asg_cols, ASG_NCOLS)
ROW_CB(asg_end_cb, st_asg_end, asg_cols, ASG_NCOLS)
ROW_CB(asg_get_cb, st_asg_get, asg_cols, ASG_NCOLS)
PAGE_CB(asg_list_cb, st_asg_list, asg_cols, ASG_NCOLS)

/* ---- unit.* ---- */

static void unit_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"name", "idempotency_key", NULL};
    pstr name, key;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_str(req, args, "name", true, OFF_NAME_MAX_CHARS, false, &name, &st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    const char *vals[4] = {session_actor(req_session(req)), req_peer(req), key.s, name.s};
    const int lens[4] = {-1, -1, (int)key.len, (int)name.len};
    send_call(req, &st_unit_create, vals, lens, unit_create_cb, 0, NULL, NULL);
}

static void unit_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[OFF_NUM_TEXT];
    const char *vals[1] = {num_text(idt, id, P_SET)};
    send_call(req, &st_unit_get, vals, NULL, unit_get_cb, id, "unit", NULL);
}

static void unit_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"name_contains", "after", "limit", NULL};
    pstr name;
    pstate st;
    int64_t after = 0, limit;
    if (params_check_known(req, args, known) != 0 ||
        opt_str(req, args, "name_contains", OFF_NAME_MAX_CHARS, &name, &st) != 0 ||
        opt_int(req, args, "after", 0, INT64_MAX, &after, &st) != 0 ||
        page_limit(req, args, &limit) != 0)
        return;
    char at[OFF_NUM_TEXT], lt[OFF_NUM_TEXT];
    const char *vals[3] = {name.s, num_text(at, after, P_SET), num_text(lt, limit + 1, P_SET)};
    const int lens[3] = {(int)name.len, -1, -1};
    send_call(req, &st_unit_list, vals, lens, unit_list_cb, limit, NULL, NULL);
}

/* ---- official.* ---- */

static void official_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"name", "title", "unit_id", "phone", "user_id",
                                        "idempotency_key", NULL};
    pstr name, title, phone, key;
    pstate st, unit_st, user_st;
    int64_t unit_id = 0, user_id = 0;
    if (params_check_known(req, args, known) != 0 ||
        params_str(req, args, "name", true, OFF_NAME_MAX_CHARS, false, &name, &st) != 0 ||
        params_str(req, args, "title", false, OFF_NAME_MAX_CHARS, false, &title, &st) != 0 ||
        params_int(req, args, "unit_id", false, 1, INT64_MAX, &unit_id, &unit_st) != 0 ||
        params_str(req, args, "phone", false, OFF_PHONE_MAX_BYTES, false, &phone, &st) != 0 ||
        check_phone(req, &phone) != 0 ||
        params_int(req, args, "user_id", false, 1, INT64_MAX, &user_id, &user_st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char ut[OFF_NUM_TEXT], ust[OFF_NUM_TEXT];
    const char *vals[8] = {session_actor(req_session(req)), req_peer(req), key.s, name.s,
                           title.s, num_text(ut, unit_id, unit_st), phone.s,
                           num_text(ust, user_id, user_st)};
    const int lens[8] = {-1, -1, (int)key.len, (int)name.len, (int)title.len, -1,
                         (int)phone.len, -1};
    send_call(req, &st_off_create, vals, lens, off_create_cb, 0, NULL, NULL);
}

static void official_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[OFF_NUM_TEXT];
    const char *vals[1] = {num_text(idt, id, P_SET)};
    send_call(req, &st_off_get, vals, NULL, off_get_cb, id, "official", NULL);
}

static void official_update(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "name", "title", "unit_id", "phone",
                                        "user_id", "idempotency_key", NULL};
    int64_t id, version, unit_id = 0, user_id = 0;
    pstr name, title, phone, key;
    pstate st, title_st, unit_st, phone_st, user_st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        opt_str(req, args, "name", OFF_NAME_MAX_CHARS, &name, &st) != 0 ||
        params_str(req, args, "title", false, OFF_NAME_MAX_CHARS, false, &title, &title_st) != 0 ||
        params_int(req, args, "unit_id", false, 1, INT64_MAX, &unit_id, &unit_st) != 0 ||
        params_str(req, args, "phone", false, OFF_PHONE_MAX_BYTES, false, &phone, &phone_st) != 0 ||
        check_phone(req, &phone) != 0 ||
        params_int(req, args, "user_id", false, 1, INT64_MAX, &user_id, &user_st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char idt[OFF_NUM_TEXT], vt[OFF_NUM_TEXT], ut[OFF_NUM_TEXT], ust[OFF_NUM_TEXT];
    const char *vals[14] = {session_actor(req_session(req)), req_peer(req), key.s,
                            num_text(idt, id, P_SET), num_text(vt, version, P_SET), name.s,
                            bool_text(title_st != P_ABSENT), title.s,
                            bool_text(unit_st != P_ABSENT), num_text(ut, unit_id, unit_st),
                            bool_text(phone_st != P_ABSENT), phone.s,
                            bool_text(user_st != P_ABSENT), num_text(ust, user_id, user_st)};
    const int lens[14] = {-1, -1, (int)key.len, -1, -1, (int)name.len, -1, (int)title.len,
                          -1, -1, -1, (int)phone.len, -1, -1};
    send_call(req, &st_off_update, vals, lens, off_update_cb, 0, NULL, NULL);
}

static void official_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"unit_id", "name_contains", "after", "limit", NULL};
    pstr name;
    pstate st, unit_st;
    int64_t unit_id = 0, after = 0, limit;
    if (params_check_known(req, args, known) != 0 ||
        opt_int(req, args, "unit_id", 1, INT64_MAX, &unit_id, &unit_st) != 0 ||
        opt_str(req, args, "name_contains", OFF_NAME_MAX_CHARS, &name, &st) != 0 ||
        opt_int(req, args, "after", 0, INT64_MAX, &after, &st) != 0 ||
        page_limit(req, args, &limit) != 0)
        return;
    char ut[OFF_NUM_TEXT], at[OFF_NUM_TEXT], lt[OFF_NUM_TEXT];
    const char *vals[4] = {num_text(ut, unit_id, unit_st), name.s, num_text(at, after, P_SET),
                           num_text(lt, limit + 1, P_SET)};
    const int lens[4] = {-1, (int)name.len, -1, -1};
    send_call(req, &st_off_list, vals, lens, off_list_cb, limit, NULL, NULL);
}

/* ---- portfolios ---- */

/* Packs columns off .. off+ncols-1 of row as a map keyed by cols[i].key
 * (the result has passed rowpack_check with the full column list). */
static void pack_cols(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols,
                      int ncols, int off)
{
    msgpack_pack_map(pk, (uint32_t)ncols);
    for (int i = 0; i < ncols; i++) {
        rowpack_str(pk, cols[i].key);
        int col = off + i;
        if (PQgetisnull(res, row, col)) {
            msgpack_pack_nil(pk);
            continue;
        }
        const char *v = PQgetvalue(res, row, col);
        if (cols[i].type == RP_INT) {
            msgpack_pack_int64(pk, strtoll(v, NULL, 10));
        } else {
            size_t len = (size_t)PQgetlength(res, row, col);
            msgpack_pack_str(pk, len);
            msgpack_pack_str_body(pk, v, len);
        }
    }
}

/* Packs the rows of one portfolio section as an array. */
static void pack_section(msgpack_packer *pk, const PGresult *res, int sec_col, char section,
                         const rp_col *cols, int ncols, int off)
{
    int rows = PQntuples(res);
    uint32_t n = 0;
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, sec_col) && PQgetvalue(res, r, sec_col)[0] == section)
            n++;
    msgpack_pack_array(pk, n);
    for (int r = 0; r < rows; r++)
        if (!PQgetisnull(res, r, sec_col) && PQgetvalue(res, r, sec_col)[0] == section)
            pack_cols(pk, res, r, cols, ncols, off);
}

/* official.portfolio / unit.portfolio: the header (Official or Unit) is
 * repeated on every row; no row = not_found. */
static void portfolio_cb(void *arg, const PGresult *res, const pool_error *e, bool is_unit)
{
    call *c = arg;
    request *req = c->req;
    int64_t id = c->n;
    char on[11];
    snprintf(on, sizeof on, "%s", c->on_buf);
    free(c);
    const pool_stmt *stmt = is_unit ? &st_unit_portfolio : &st_off_portfolio;
    const rp_col *all = is_unit ? unit_portfolio_cols : off_portfolio_cols;
    int nall = is_unit ? UNIT_PF_NCOLS : OFF_PF_NCOLS;
    const rp_col *head = is_unit ? unit_cols : off_cols;
    int nhead = is_unit ? UNIT_NCOLS : OFF_NCOLS;
    if (check_result(req, stmt->name, res, e, all, nall) != 0)
        return;
    if (PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "%s %" PRId64 " does not exist",
                        is_unit ? "unit" : "official", id);
        return;
    }
    int sec = nhead;
    int asg_off = sec + 1, prj_off = asg_off + ASG_NCOLS, prb_off = prj_off + PRJ_REF_NCOLS;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, is_unit ? 5 : 4);
    rowpack_str(pk, is_unit ? "unit" : "official");
    pack_cols(pk, res, 0, head, nhead, 0);
    rowpack_str(pk, "on");
    rowpack_str(pk, on);
    rowpack_str(pk, "assignments");
    pack_section(pk, res, sec, 'a', asg_cols, ASG_NCOLS, asg_off);
    if (is_unit) {
        rowpack_str(pk, "projects");
        pack_section(pk, res, sec, 'p', prj_ref_cols, PRJ_REF_NCOLS, prj_off);
    }
    rowpack_str(pk, "problems");
    pack_section(pk, res, sec, 'q', prb_ref_cols, PRB_REF_NCOLS, prb_off);
    req_result_end(req);
}

static void off_portfolio_cb(void *arg, const PGresult *res, const pool_error *e)
{
    portfolio_cb(arg, res, e, false);
}

static void unit_portfolio_cb(void *arg, const PGresult *res, const pool_error *e)
{
    portfolio_cb(arg, res, e, true);
}

static void portfolio(request *req, const msgpack_object *args, bool is_unit)
{
    static const char *const known[] = {"id", "on", NULL};
    int64_t id;
    pstate st;
    char on[11];
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        on_date(req, args, on) != 0)
        return;
    char idt[OFF_NUM_TEXT];
    const char *vals[3] = {num_text(idt, id, P_SET), session_read_scope(req_session(req)), on};
    send_call(req, is_unit ? &st_unit_portfolio : &st_off_portfolio, vals, NULL,
              is_unit ? unit_portfolio_cb : off_portfolio_cb, id, NULL, on);
}

static void official_portfolio(request *req, const msgpack_object *args)
{
    portfolio(req, args, false);
}

static void unit_portfolio(request *req, const msgpack_object *args)
{
    portfolio(req, args, true);
}

/* ---- assignment.* ---- */

static void assignment_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"official_id", "unit_id", "enterprise_id", "project_id",
                                        "role", "period_start", "period_end",
                                        "idempotency_key", NULL};
    int64_t off_id = 0, unit_id = 0, ent_id = 0, prj_id = 0;
    pstate off_st, unit_st, ent_st, prj_st, st, end_st;
    pstr role, key;
    char start[11], end[11];
    if (params_check_known(req, args, known) != 0 ||
        opt_int(req, args, "official_id", 1, INT64_MAX, &off_id, &off_st) != 0 ||
        opt_int(req, args, "unit_id", 1, INT64_MAX, &unit_id, &unit_st) != 0 ||
        opt_int(req, args, "enterprise_id", 1, INT64_MAX, &ent_id, &ent_st) != 0 ||
        opt_int(req, args, "project_id", 1, INT64_MAX, &prj_id, &prj_st) != 0 ||
        params_str(req, args, "role", true, BB_MAX_SHORT_TEXT_CHARS, false, &role, &st) != 0 ||
        check_known_value(req, "role", &role, roles, "assignment role") != 0 ||
        params_date(req, args, "period_start", true, start, &st) != 0 ||
        opt_date(req, args, "period_end", end, &end_st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    /* The cross rules, in the order the protocol lists them. */
    if (off_st != P_SET && unit_st != P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "official_id",
                        "official_id: give official_id or unit_id (who holds the assignment)");
        return;
    }
    if (off_st == P_SET && unit_st == P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "unit_id",
                        "unit_id: give official_id or unit_id, not both");
        return;
    }
    if (ent_st != P_SET && prj_st != P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "enterprise_id",
                        "enterprise_id: give enterprise_id or project_id (what it concerns)");
        return;
    }
    if (ent_st == P_SET && prj_st == P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "project_id",
                        "project_id: give enterprise_id or project_id, not both");
        return;
    }
    bool unit_role = pstr_is(&role, ROLE_UNIT);
    if (unit_role && unit_st != P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: 责任单位 is held by a unit (unit_id)");
        return;
    }
    if (!unit_role && unit_st == P_SET) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: %.*s is held by an official (official_id)", (int)role.len, role.s);
        return;
    }
    if (end_st == P_SET && strcmp(end, start) < 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "period_end",
                        "period_end: %s is before period_start (%s)", end, start);
        return;
    }
    char ot[OFF_NUM_TEXT], ut[OFF_NUM_TEXT], et[OFF_NUM_TEXT], pt[OFF_NUM_TEXT];
    const char *vals[10] = {session_actor(req_session(req)), req_peer(req), key.s,
                            num_text(ot, off_id, off_st), num_text(ut, unit_id, unit_st),
                            num_text(et, ent_id, ent_st), num_text(pt, prj_id, prj_st),
                            role.s, start, end_st == P_SET ? end : NULL};
    const int lens[10] = {-1, -1, (int)key.len, -1, -1, -1, -1, (int)role.len, -1, -1};
    send_call(req, &st_asg_create, vals, lens, asg_create_cb, 0, NULL, NULL);
}

static void assignment_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[OFF_NUM_TEXT];
    const char *vals[2] = {num_text(idt, id, P_SET), session_read_scope(req_session(req))};
    send_call(req, &st_asg_get, vals, NULL, asg_get_cb, id, "assignment", NULL);
}

static void assignment_end(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "period_end", "idempotency_key", NULL};
    int64_t id, version;
    pstate st;
    pstr key;
    char end[11];
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        params_date(req, args, "period_end", true, end, &st) != 0 ||
        idem_key(req, args, &key) != 0)
        return;
    char idt[OFF_NUM_TEXT], vt[OFF_NUM_TEXT];
    const char *vals[6] = {session_actor(req_session(req)), req_peer(req), key.s,
                           num_text(idt, id, P_SET), num_text(vt, version, P_SET), end};
    const int lens[6] = {-1, -1, (int)key.len, -1, -1, -1};
    send_call(req, &st_asg_end, vals, lens, asg_end_cb, 0, NULL, NULL);
}

static void assignment_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "project_id", "official_id", "unit_id",
                                        "role", "active_on", "after", "limit", NULL};
    int64_t ent_id = 0, prj_id = 0, off_id = 0, unit_id = 0, after = 0, limit;
    pstate ent_st, prj_st, off_st, unit_st, st, on_st;
    pstr role;
    char on[11];
    if (params_check_known(req, args, known) != 0 ||
        opt_int(req, args, "enterprise_id", 1, INT64_MAX, &ent_id, &ent_st) != 0 ||
        opt_int(req, args, "project_id", 1, INT64_MAX, &prj_id, &prj_st) != 0 ||
        opt_int(req, args, "official_id", 1, INT64_MAX, &off_id, &off_st) != 0 ||
        opt_int(req, args, "unit_id", 1, INT64_MAX, &unit_id, &unit_st) != 0 ||
        opt_str(req, args, "role", BB_MAX_SHORT_TEXT_CHARS, &role, &st) != 0 ||
        check_known_value(req, "role", &role, roles, "assignment role") != 0 ||
        opt_date(req, args, "active_on", on, &on_st) != 0 ||
        opt_int(req, args, "after", 0, INT64_MAX, &after, &st) != 0 ||
        page_limit(req, args, &limit) != 0)
        return;
    char et[OFF_NUM_TEXT], pt[OFF_NUM_TEXT], ot[OFF_NUM_TEXT], ut[OFF_NUM_TEXT];
    char at[OFF_NUM_TEXT], lt[OFF_NUM_TEXT];
    const char *vals[9] = {num_text(et, ent_id, ent_st), num_text(pt, prj_id, prj_st),
                           num_text(ot, off_id, off_st), num_text(ut, unit_id, unit_st),
                           role.s, on_st == P_SET ? on : NULL, num_text(at, after, P_SET),
                           num_text(lt, limit + 1, P_SET), session_read_scope(req_session(req))};
    const int lens[9] = {-1, -1, -1, -1, (int)role.len, -1, -1, -1, -1};
    send_call(req, &st_asg_list, vals, lens, asg_list_cb, limit, NULL, NULL);
}

/* ---- coverage.gaps ---- */

/* Parses a decimal in [min, max] from s[0..len) without a sign or leading
 * zeros (so every cursor has exactly one spelling). */
static bool parse_dec(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    if (len == 0 || len > 19 || (len > 1 && s[0] == '0'))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* The cursor "K.ID.R": K the kind rank (1 enterprise, 2 project), ID the
 * target's id, R the role rank (1 包保市领导, 2 责任单位, 3 联络员). */
static bool parse_gap_cursor(const pstr *c, int64_t *kind, int64_t *id, int64_t *role)
{
    const char *s = c->s, *end = c->s + c->len;
    const char *d1 = memchr(s, '.', c->len);
    if (d1 == NULL)
        return false;
    const char *d2 = memchr(d1 + 1, '.', (size_t)(end - d1 - 1));
    if (d2 == NULL)
        return false;
    return parse_dec(s, (size_t)(d1 - s), 1, 2, kind) &&
           parse_dec(d1 + 1, (size_t)(d2 - d1 - 1), 1, INT64_MAX, id) &&
           parse_dec(d2 + 1, (size_t)(end - d2 - 1), 1, 3, role);
}

static void gaps_cb(void *arg, const PGresult *res, const pool_error *e)
{
    call *c = arg;
    request *req = c->req;
    int64_t limit = c->n;
    free(c);
    if (check_result(req, st_gaps.name, res, e, gap_cols, GAP_NCOLS) != 0)
        return;
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? (int)limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, gap_cols, GAP_WIRE_NCOLS);
    rowpack_str(pk, "next");
    if (more && n > 0) {
        char cur[80];
        snprintf(cur, sizeof cur, "%s.%s.%s", PQgetvalue(res, n - 1, 7),
                 PQgetvalue(res, n - 1, 1), PQgetvalue(res, n - 1, 8));
        rowpack_str(pk, cur);
    } else {
        msgpack_pack_nil(pk);
    }
    req_result_end(req);
}

static void coverage_gaps(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"kind", "role", "township", "on", "after", "limit",
                                        NULL};
    pstr kind, role, township, after;
    pstate st;
    char on[11];
    int64_t limit, ak = 0, aid = 0, ar = 0;
    if (params_check_known(req, args, known) != 0 ||
        opt_str(req, args, "kind", BB_MAX_SHORT_TEXT_CHARS, &kind, &st) != 0 ||
        check_known_value(req, "kind", &kind, kinds, "kind (enterprise or project)") != 0 ||
        opt_str(req, args, "role", BB_MAX_SHORT_TEXT_CHARS, &role, &st) != 0 ||
        check_known_value(req, "role", &role, roles, "assignment role") != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township, &st) != 0 ||
        on_date(req, args, on) != 0 ||
        opt_str(req, args, "after", GAPS_CURSOR_MAX_CHARS, &after, &st) != 0 ||
        page_limit(req, args, &limit) != 0)
        return;
    if (after.s != NULL && !parse_gap_cursor(&after, &ak, &aid, &ar)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this server returned as next");
        return;
    }
    pstate cur_st = after.s != NULL ? P_SET : P_ABSENT;
    char kt[OFF_NUM_TEXT], it[OFF_NUM_TEXT], rt[OFF_NUM_TEXT], lt[OFF_NUM_TEXT];
    const char *vals[9] = {session_read_scope(req_session(req)), kind.s, role.s, township.s, on,
                           num_text(kt, ak, cur_st), num_text(it, aid, cur_st),
                           num_text(rt, ar, cur_st), num_text(lt, limit + 1, P_SET)};
    const int lens[9] = {-1, (int)kind.len, (int)role.len, (int)township.len, -1, -1, -1, -1, -1};
    send_call(req, &st_gaps, vals, lens, gaps_cb, limit, NULL, NULL);
}

#define DIRECTORY_WRITE (BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN)

const method_def official_methods[] = {
    {"unit.create", unit_create, DIRECTORY_WRITE},
    {"unit.get", unit_get, BB_ROLES_USERS},
    {"unit.list", unit_list, BB_ROLES_USERS},
    {"unit.portfolio", unit_portfolio, BB_ROLES_USERS},
    {"official.create", official_create, DIRECTORY_WRITE},
    {"official.get", official_get, BB_ROLES_USERS},
    {"official.update", official_update, DIRECTORY_WRITE},
    {"official.list", official_list, BB_ROLES_USERS},
    {"official.portfolio", official_portfolio, BB_ROLES_USERS},
    {"assignment.create", assignment_create, BB_ROLE_SUPERVISOR},
    {"assignment.get", assignment_get, BB_ROLES_USERS},
    {"assignment.end", assignment_end, BB_ROLE_SUPERVISOR},
    {"assignment.list", assignment_list, BB_ROLES_USERS},
    {"coverage.gaps", coverage_gaps, BB_ROLES_USERS},
    {NULL, NULL, 0},
};
