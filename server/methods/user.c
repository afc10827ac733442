/*
 * user.c: the user.* methods (admins manage users: create, get, list,
 * update, set_password), hashing passwords on libuv's thread pool, and the
 * bootstrap of the first admin (`baobaod --create-admin`); see user.h.
 *
 * For: checking every argument at the edge (params.h) before anything
 * else, hashing a new password off the loop thread (a password job, bounded
 * with the logins' jobs: user.h), then exactly one pool_query per request.
 * The writes are stored functions (sql/005_users.sql) that check the
 * caller again (bb_user_admin: a second wall behind the dispatcher's gate),
 * claim the idempotency key (the actor is part of the request hash) and
 * write the audit row in the same transaction.
 * Not for: logins and the caller's own password (session.c), the gate
 * (dispatch.c).
 */
#include "user.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include "bb_limits.h"
#include "bb_utf8.h"
#include "client.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "server.h"
#include "session.h"

/* Longest display name and unit, in characters (CHECKs in 004). */
#define USER_TEXT_MAX_CHARS 50u
/* A user has at most this many townships: there are 17. */
#define USER_MAX_TOWNSHIPS 32u
#define USER_NUM_TEXT 24
/* Most parameters of one user statement. */
#define USER_MAX_PARAMS 12

const rp_col user_wire_cols[USER_WIRE_NCOLS] = {
    {"id", RP_INT},         {"login", RP_TEXT},      {"display_name", RP_TEXT},
    {"role", RP_TEXT},      {"unit", RP_TEXT},       {"townships", RP_LINES},
    {"disabled", RP_BOOL},  {"version", RP_INT},     {"created_at", RP_TEXT},
    {"updated_at", RP_TEXT},
};

static const pool_stmt st_get = {
    "user_get", "SELECT * FROM app_user_wire WHERE id = $1::bigint", 1};

static const pool_stmt st_create = {
    "user_create",
    "SELECT * FROM bb_user_create($1::bigint, $2::text, $3::text, $4::text, $5::text,"
    " $6::text, $7::text, $8::text[], $9::text)",
    9};

static const pool_stmt st_update = {
    "user_update",
    "SELECT * FROM bb_user_update($1::bigint, $2::text, $3::text, $4::bigint, $5::int,"
    " $6::text, $7::text, $8::boolean, $9::text, $10::text[], $11::boolean)",
    11};

static const pool_stmt st_set_password = {
    "user_set_password",
    "SELECT bb_user_set_password($1::bigint, $2::text, $3::bigint, $4::text), $3::bigint", 4};

/* Keyset page by id; an unknown township name matches nothing. The caller
 * asks one more row than the page to learn whether there is a next. */
static const pool_stmt st_list = {
    "user_list",
    "SELECT w.* FROM app_user_wire w"
    " WHERE ($1::text IS NULL OR w.role = $1)"
    "   AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM app_user_township ut"
    "        JOIN township t ON t.id = ut.township_id WHERE ut.user_id = w.id AND t.name = $2))"
    "   AND w.id > $3::bigint"
    " ORDER BY w.id LIMIT $4::int",
    4};

static int user_register_statements(void)
{
    if (pool_register(&st_get) != 0 || pool_register(&st_create) != 0 ||
        pool_register(&st_update) != 0 || pool_register(&st_set_password) != 0 ||
        pool_register(&st_list) != 0)
        return -1;
    return 0;
}

/* ---- hashing on the thread pool ---- */

typedef struct hash_op {
    uv_work_t work;
    char *password;                      /* owned; wiped after the work */
    size_t len;
    unsigned long long opslimit;
    size_t memlimit;
    char hash[crypto_pwhash_STRBYTES];
    bool ok;
    user_hash_cb cb;
    void *arg;
} hash_op;

static void hash_work(uv_work_t *w)
{
    hash_op *op = w->data;
    op->ok = crypto_pwhash_str(op->hash, op->password, op->len, op->opslimit, op->memlimit) == 0;
}

static void hash_done(uv_work_t *w, int status)
{
    hash_op *op = w->data;
    sodium_memzero(op->password, op->len);
    free(op->password);
    op->cb(op->arg, status == 0 && op->ok ? op->hash : NULL);
    sodium_memzero(op->hash, sizeof op->hash);
    free(op);
}

int user_hash_password(server *s, const char *password, size_t len, user_hash_cb cb, void *arg)
{
    hash_op *op = calloc(1, sizeof *op);
    char *pw = malloc(len + 1);
    if (op == NULL || pw == NULL) {
        free(op);
        free(pw);
        return -1;
    }
    memcpy(pw, password, len);
    pw[len] = '\0';
    op->password = pw;
    op->len = len;
    op->opslimit = s->cfg.password_opslimit;
    op->memlimit = (size_t)s->cfg.password_memlimit_kib * 1024u;
    op->cb = cb;
    op->arg = arg;
    op->work.data = op;
    if (uv_queue_work(s->loop, &op->work, hash_work, hash_done) != 0) {
        sodium_memzero(pw, len);
        free(pw);
        free(op);
        return -1;
    }
    return 0;
}

/* ---- password jobs (user.h) ---- */

/* Jobs running, server-wide (only the loop thread touches it). */
static unsigned g_pw_jobs;

int user_pw_job_begin(request *req, const char **why)
{
    session *ss = req_session_mut(req);
    if (ss->login_pending) {
        *why = "connection_busy";
        return -1;
    }
    if (g_pw_jobs >= req_server(req)->cfg.login_max_pending) {
        *why = "server_busy";
        return -1;
    }
    g_pw_jobs++;
    ss->login_pending = true;
    return 0;
}

void user_pw_job_refuse(request *req, const char *why)
{
    if (strcmp(why, "connection_busy") == 0)
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "a password is already being checked or hashed for this connection "
                        "(session.login, session.change_password, user.create or "
                        "user.set_password): wait for its answer");
    else
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "too many logins and password changes in progress; retry");
}

void user_pw_job_end(request *req)
{
    g_pw_jobs--;
    req_session_mut(req)->login_pending = false;
}

/* ---- revocations (user.h) ---- */

/* The last revocations, by sequence number (only the loop thread). */
#define USER_REVOKE_RING 64u
static uint64_t g_revoke_seq;
static int64_t g_revoked[USER_REVOKE_RING]; /* user ids, slot = seq % ring */

unsigned user_revoke_sessions(server *s, int64_t user_id, const session *keep, const char *why)
{
    g_revoke_seq++;
    g_revoked[g_revoke_seq % USER_REVOKE_RING] = user_id;
    return client_revoke_sessions(s, user_id, keep, why);
}

uint64_t user_revocation_mark(void)
{
    return g_revoke_seq;
}

bool user_revoked_since(int64_t user_id, uint64_t mark)
{
    if (g_revoke_seq - mark >= USER_REVOKE_RING)
        return true;
    for (uint64_t q = mark + 1; q <= g_revoke_seq; q++)
        if (g_revoked[q % USER_REVOKE_RING] == user_id)
            return true;
    return false;
}

/* ---- answering a failed query of a logged-in caller ---- */

/* BB401: the database says the session's user is gone or disabled. The
 * connection stops acting as them, unless it is someone else by now. */
static void clear_if_actor(request *req, int64_t actor)
{
    session *ss = req_session_mut(req);
    if (actor == 0 || ss->user_id != actor)
        return;
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "session_revoked",
            "user_id=%" PRId64 " why=unauthenticated", actor);
    session_clear(ss);
}

void user_reply_pool_error(request *req, const char *stmt, const pool_error *e, int64_t actor)
{
    if (e->err == BB_E_UNAUTHENTICATED)
        clear_if_actor(req, actor);
    rowpack_reply_pool_error(req, stmt, e);
}

void user_reply_unauthenticated(request *req, int64_t actor)
{
    clear_if_actor(req, actor);
    req_reply_error(req, BB_E_UNAUTHENTICATED, NULL,
                    "the session's user no longer exists or is disabled: log in again");
}

/* ---- one write waiting for its hash, then its query ---- */

/* The parameters of a statement, copied out of the argument map (which is
 * freed when the handler returns); the slot hash_at is filled with the
 * password hash when it is ready. The query's callback gets the user_call
 * (call_free frees it) and so the caller's user id. */
typedef struct user_call {
    request *req;
    int64_t actor;                       /* the session's user when the request came */
    const pool_stmt *stmt;
    pool_cb cb;
    int n;
    int hash_at;                         /* -1: no password */
    bool job;                            /* a password job is running (user.h) */
    char *vals[USER_MAX_PARAMS];         /* owned; NULL = SQL NULL */
} user_call;

/* Frees uc; its request may be answered already (uc->job is false then:
 * a job ends before the answer). */
static void call_free(user_call *uc)
{
    if (uc->job)
        user_pw_job_end(uc->req);
    for (int i = 0; i < uc->n; i++) {
        if (i == uc->hash_at && uc->vals[i] != NULL)
            sodium_memzero(uc->vals[i], strlen(uc->vals[i]));
        free(uc->vals[i]);
    }
    free(uc);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Sets parameter i to a copy of s[0..n) (NULL s = SQL NULL). -1 when out
 * of memory. */
static int call_set(user_call *uc, int i, const char *s, size_t n)
{
    if (s == NULL)
        return 0;
    uc->vals[i] = dup_n(s, n);
    return uc->vals[i] == NULL ? -1 : 0;
}

static int call_set_str(user_call *uc, int i, const char *s)
{
    return s == NULL ? 0 : call_set(uc, i, s, strlen(s));
}

/* Sends the query; its callback gets uc and frees it (call_free). */
static void call_send(user_call *uc)
{
    request *req = uc->req;
    server *srv = req_server(req);
    if (srv->pool == NULL) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        call_free(uc);
        return;
    }
    int rc = pool_query(srv->pool, uc->stmt, (const char *const *)uc->vals, NULL, uc->cb, uc);
    if (rc < 0) {
        rowpack_reply_query_rc(req, uc->stmt->name, rc);
        call_free(uc);
    }
}

static void on_hashed(void *arg, const char *hash)
{
    user_call *uc = arg;
    /* The expensive part is over: the next password job may start. */
    user_pw_job_end(uc->req);
    uc->job = false;
    if (hash == NULL || call_set_str(uc, uc->hash_at, hash) != 0) {
        req_reply_error(uc->req, BB_E_INTERNAL, NULL, "cannot hash the password");
        call_free(uc);
        return;
    }
    call_send(uc);
}

/* Hashes password (a password job), then sends; or sends at once when
 * there is none. */
static void call_start(user_call *uc, const pstr *password)
{
    if (password == NULL) {
        call_send(uc);
        return;
    }
    const char *busy = NULL;
    if (user_pw_job_begin(uc->req, &busy) != 0) {
        log_req(LOG_WARN, req_conn_id(uc->req), req_msgid(uc->req), "password_job_refused",
                "method=%s why=%s", uc->stmt->name, busy);
        user_pw_job_refuse(uc->req, busy);
        call_free(uc);
        return;
    }
    uc->job = true;
    if (user_hash_password(req_server(uc->req), password->s, password->len, on_hashed, uc) != 0) {
        user_pw_job_end(uc->req);
        uc->job = false;
        req_reply_error(uc->req, BB_E_INTERNAL, NULL, "out of memory");
        call_free(uc);
    }
}

static user_call *call_new(request *req, const pool_stmt *stmt, pool_cb cb)
{
    user_call *uc = calloc(1, sizeof *uc);
    if (uc == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return NULL;
    }
    uc->req = req;
    uc->actor = req_session(req)->user_id;
    uc->stmt = stmt;
    uc->cb = cb;
    uc->n = stmt->nparams;
    uc->hash_at = -1;
    return uc;
}

/* ---- answers ---- */

static void one_user_cb(request *req, int64_t actor, const PGresult *res, const pool_error *e,
                        const char *stmt)
{
    if (e != NULL) {
        user_reply_pool_error(req, stmt, e, actor);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, user_wire_cols, USER_WIRE_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, stmt, why);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, stmt, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, user_wire_cols, USER_WIRE_NCOLS);
    req_result_end(req);
}

static void create_cb(void *arg, const PGresult *res, const pool_error *e)
{
    user_call *uc = arg;
    one_user_cb(uc->req, uc->actor, res, e, st_create.name);
    call_free(uc);
}

/* After a user's role, townships, state or password changed, the
 * sessions that user already has (on this server) were granted under the
 * old ones: they are logged out, the caller's own excepted (the caller's
 * connection only while it is still the admin who asked). */
static void revoke_after_change(const user_call *uc, const PGresult *res, int id_col,
                                const char *why)
{
    if (res == NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, id_col))
        return;
    int64_t id = strtoll(PQgetvalue(res, 0, id_col), NULL, 10);
    const session *own = req_session(uc->req);
    if (id > 0)
        (void)user_revoke_sessions(req_server(uc->req), id,
                                   own->user_id == uc->actor ? own : NULL, why);
}

static void update_cb(void *arg, const PGresult *res, const pool_error *e)
{
    user_call *uc = arg;
    if (e == NULL)
        revoke_after_change(uc, res, 0, "user_updated");
    one_user_cb(uc->req, uc->actor, res, e, st_update.name);
    call_free(uc);
}

static void set_password_cb(void *arg, const PGresult *res, const pool_error *e)
{
    user_call *uc = arg;
    request *req = uc->req;
    if (e != NULL) {
        user_reply_pool_error(req, st_set_password.name, e, uc->actor);
        call_free(uc);
        return;
    }
    revoke_after_change(uc, res, 1, "password_set");
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_true(pk);
    req_result_end(req);
    call_free(uc);
}

/* ---- argument checks ---- */

/* An optional str that is not nil-able: absent is fine, nil is refused. */
static int opt_str(request *req, const msgpack_object *args, const char *key, uint32_t max_chars,
                   pstr *out)
{
    pstate st;
    if (params_str(req, args, key, false, max_chars, false, out, &st) != 0)
        return -1;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* A login: 1-64 bytes, no spaces (besides params_str's rules). */
static int login_arg(request *req, const msgpack_object *args, pstr *out)
{
    pstate st;
    if (params_str(req, args, "login", true, SESSION_LOGIN_MAX, false, out, &st) != 0)
        return -1;
    if (out->len > SESSION_LOGIN_MAX) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "login", "login: at most %u bytes",
                        SESSION_LOGIN_MAX);
        return -1;
    }
    if (memchr(out->s, ' ', out->len) != NULL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "login", "login: must not contain spaces");
        return -1;
    }
    return 0;
}

static int password_arg(request *req, const msgpack_object *args, const char *key, pstr *out)
{
    pstate st;
    if (params_str(req, args, key, true, USER_PASSWORD_MAX_BYTES, false, out, &st) != 0)
        return -1;
    if (out->len < USER_PASSWORD_MIN_BYTES || out->len > USER_PASSWORD_MAX_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: %u to %u bytes", key,
                        USER_PASSWORD_MIN_BYTES, USER_PASSWORD_MAX_BYTES);
        return -1;
    }
    return 0;
}

/* role: one of the three names; *role gets it. */
static int role_arg(request *req, const msgpack_object *args, bool required, pstr *out,
                    bb_role *role)
{
    pstate st;
    *role = BB_ROLE_NONE;
    if (params_str(req, args, "role", required, BB_MAX_SHORT_TEXT_CHARS, false, out, &st) != 0)
        return -1;
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: must not be nil (leave it out instead)");
        return -1;
    }
    if (out->s == NULL)
        return 0;
    *role = session_role_from_name(out->s, out->len);
    if (*role == BB_ROLE_NONE) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: must be township_staff, supervisor or admin");
        return -1;
    }
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

/* A bool argument (absent allowed, nil refused). */
static int bool_arg(request *req, const msgpack_object *args, const char *key, bool *out,
                    pstate *st)
{
    *st = P_ABSENT;
    for (uint32_t i = 0; i < args->via.map.size; i++) {
        const msgpack_object *k = &args->via.map.ptr[i].key;
        if (k->via.str.size != strlen(key) || memcmp(k->via.str.ptr, key, k->via.str.size) != 0)
            continue;
        const msgpack_object *v = &args->via.map.ptr[i].val;
        if (v->type != MSGPACK_OBJECT_BOOLEAN) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be true or false", key);
            return -1;
        }
        *out = v->via.boolean;
        *st = P_SET;
    }
    return 0;
}

static char *id_text(char buf[USER_NUM_TEXT], int64_t v)
{
    snprintf(buf, USER_NUM_TEXT, "%" PRId64, v);
    return buf;
}

/* ---- methods ---- */

static void user_create(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"login", "display_name", "role", "unit", "townships",
                                        "password", "idempotency_key", NULL};
    pstr login, name, role_s, unit, password, key;
    pstate st, tw_st;
    bb_role role;
    char *townships = NULL;
    if (params_check_known(req, args, known) != 0 || login_arg(req, args, &login) != 0 ||
        params_str(req, args, "display_name", true, USER_TEXT_MAX_CHARS, false, &name, &st) != 0 ||
        role_arg(req, args, true, &role_s, &role) != 0 ||
        params_str(req, args, "unit", false, USER_TEXT_MAX_CHARS, false, &unit, &st) != 0 ||
        params_str_array(req, args, "townships", USER_MAX_TOWNSHIPS, BB_MAX_SHORT_TEXT_CHARS,
                         &townships, &tw_st) != 0)
        return;
    bool has_townships = tw_st == P_SET && strcmp(townships, "{}") != 0;
    if (role == BB_ROLE_STAFF && !has_townships) {
        free(townships);
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "townships",
                        "townships: township staff need at least one township");
        return;
    }
    if (role != BB_ROLE_STAFF && has_townships) {
        free(townships);
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "townships",
                        "townships: only township staff have townships");
        return;
    }
    if (password_arg(req, args, "password", &password) != 0 || idem_key(req, args, &key) != 0) {
        free(townships);
        return;
    }
    user_call *uc = call_new(req, &st_create, create_cb);
    if (uc == NULL) {
        free(townships);
        return;
    }
    uc->hash_at = 8;
    int bad = call_set_str(uc, 0, session_actor(req_session(req))) |
              call_set_str(uc, 1, req_peer(req)) | call_set(uc, 2, key.s, key.len) |
              call_set(uc, 3, login.s, login.len) | call_set(uc, 4, name.s, name.len) |
              call_set(uc, 5, role_s.s, role_s.len) | call_set(uc, 6, unit.s, unit.len) |
              call_set_str(uc, 7, townships);
    free(townships);
    if (bad != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        call_free(uc);
        return;
    }
    call_start(uc, &password);
}

typedef struct get_ctx {
    request *req;
    int64_t n;                           /* get: the id; list: the page size */
} get_ctx;

static void get_cb(void *arg, const PGresult *res, const pool_error *e)
{
    get_ctx *g = arg;
    request *req = g->req;
    int64_t id = g->n;
    free(g);
    if (e == NULL && PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "user %" PRId64 " does not exist", id);
        return;
    }
    one_user_cb(req, 0, res, e, st_get.name);
}

static void send_ctx(request *req, const pool_stmt *stmt, const char *const *vals,
                     const int *lengths, pool_cb cb, int64_t n)
{
    get_ctx *g = malloc(sizeof *g);
    if (g == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    g->req = req;
    g->n = n;
    int rc = pool_query(req_server(req)->pool, stmt, vals, lengths, cb, g);
    if (rc < 0) {
        free(g);
        rowpack_reply_query_rc(req, stmt->name, rc);
    }
}

static void user_get(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", NULL};
    int64_t id;
    pstate st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0)
        return;
    char idt[USER_NUM_TEXT];
    const char *vals[1] = {id_text(idt, id)};
    send_ctx(req, &st_get, vals, NULL, get_cb, id);
}

static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    get_ctx *g = arg;
    request *req = g->req;
    int64_t limit = g->n;
    free(g);
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_list.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, user_wire_cols, USER_WIRE_NCOLS, &why) != 0) {
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
        rowpack_row(pk, res, i, user_wire_cols, USER_WIRE_NCOLS);
    rowpack_str(pk, "next");
    if (more && n > 0)
        msgpack_pack_int64(pk, strtoll(PQgetvalue(res, n - 1, 0), NULL, 10));
    else
        msgpack_pack_nil(pk);
    req_result_end(req);
}

static void user_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"role", "township", "after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    pstr role_s, township;
    bb_role role;
    pstate after_st, limit_st;
    int64_t after = 0, limit = 0;
    if (params_check_known(req, args, known) != 0 ||
        role_arg(req, args, false, &role_s, &role) != 0 ||
        opt_str(req, args, "township", BB_MAX_SHORT_TEXT_CHARS, &township) != 0 ||
        params_int(req, args, "after", false, 0, INT64_MAX, &after, &after_st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, &limit, &limit_st) != 0)
        return;
    if (after_st == P_NIL || limit_st == P_NIL) {
        const char *k = after_st == P_NIL ? "after" : "limit";
        req_reply_error(req, BB_E_INVALID_ARGUMENT, k, "%s: must not be nil", k);
        return;
    }
    if (limit_st != P_SET)
        limit = cfg->page_limit_default;
    /* The strs go with their lengths (the pool copies them): no copy of
     * ours that could cut a UTF-8 character. */
    char aftert[USER_NUM_TEXT], limitt[USER_NUM_TEXT];
    const char *vals[4] = {role_s.s, township.s, id_text(aftert, after),
                           id_text(limitt, limit + 1)};
    const int lengths[4] = {(int)role_s.len, (int)township.len, -1, -1};
    send_ctx(req, &st_list, vals, lengths, list_cb, limit);
}

static void user_update(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "version", "display_name", "role", "unit",
                                        "townships", "disabled", "idempotency_key", NULL};
    int64_t id, version;
    pstr name, role_s, unit, key;
    pstate st, unit_st, tw_st, dis_st;
    bb_role role;
    bool disabled = false;
    char *townships = NULL;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        params_int(req, args, "version", true, 1, INT32_MAX, &version, &st) != 0 ||
        opt_str(req, args, "display_name", USER_TEXT_MAX_CHARS, &name) != 0 ||
        role_arg(req, args, false, &role_s, &role) != 0 ||
        params_str(req, args, "unit", false, USER_TEXT_MAX_CHARS, false, &unit, &unit_st) != 0 ||
        params_str_array(req, args, "townships", USER_MAX_TOWNSHIPS, BB_MAX_SHORT_TEXT_CHARS,
                         &townships, &tw_st) != 0)
        return;
    if (bool_arg(req, args, "disabled", &disabled, &dis_st) != 0 ||
        idem_key(req, args, &key) != 0) {
        free(townships);
        return;
    }
    /* The first wall of "an admin cannot lock themselves out" (the
     * stored function is the second). */
    const session *ss = req_session(req);
    if (id == ss->user_id && dis_st == P_SET && disabled) {
        free(townships);
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "disabled",
                        "disabled: an admin cannot disable themselves");
        return;
    }
    if (id == ss->user_id && role != BB_ROLE_NONE && role != BB_ROLE_ADMIN) {
        free(townships);
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: an admin cannot drop their own admin role");
        return;
    }
    user_call *uc = call_new(req, &st_update, update_cb);
    if (uc == NULL) {
        free(townships);
        return;
    }
    char idt[USER_NUM_TEXT], vt[USER_NUM_TEXT];
    int bad = call_set_str(uc, 0, session_actor(ss)) | call_set_str(uc, 1, req_peer(req)) |
              call_set(uc, 2, key.s, key.len) | call_set_str(uc, 3, id_text(idt, id)) |
              call_set_str(uc, 4, id_text(vt, version)) | call_set(uc, 5, name.s, name.len) |
              call_set(uc, 6, role_s.s, role_s.len) |
              call_set_str(uc, 7, unit_st != P_ABSENT ? "true" : "false") |
              call_set(uc, 8, unit.s, unit.len) |
              call_set_str(uc, 9, tw_st == P_SET ? townships : NULL) |
              call_set_str(uc, 10, dis_st == P_SET ? (disabled ? "true" : "false") : NULL);
    free(townships);
    if (bad != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        call_free(uc);
        return;
    }
    call_start(uc, NULL);
}

static void user_set_password(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"id", "password", NULL};
    int64_t id;
    pstate st;
    pstr password;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "id", true, 1, INT64_MAX, &id, &st) != 0 ||
        password_arg(req, args, "password", &password) != 0)
        return;
    user_call *uc = call_new(req, &st_set_password, set_password_cb);
    if (uc == NULL)
        return;
    uc->hash_at = 3;
    char idt[USER_NUM_TEXT];
    int bad = call_set_str(uc, 0, session_actor(req_session(req))) |
              call_set_str(uc, 1, req_peer(req)) | call_set_str(uc, 2, id_text(idt, id));
    if (bad != 0) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        call_free(uc);
        return;
    }
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "password_set", "user_id=%" PRId64 " by=%s",
            id, session_actor(req_session(req)));
    call_start(uc, &password);
}

const method_impl user_methods[] = {
    {"user.create", .raw = user_create, .raw_roles = BB_ROLE_ADMIN},
    {"user.get", .raw = user_get, .raw_roles = BB_ROLE_ADMIN},
    {"user.list", .raw = user_list, .raw_roles = BB_ROLE_ADMIN},
    {"user.update", .raw = user_update, .raw_roles = BB_ROLE_ADMIN},
    {"user.set_password", .raw = user_set_password, .raw_roles = BB_ROLE_ADMIN},
    {NULL},
};

/* ---- bootstrap: baobaod --create-admin ---- */

/* Reads one line from the terminal without echo. 0, or -1. */
static int read_tty_password(int fd, const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    if (tcgetattr(fd, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
        return -1;
    size_t n = 0;
    int rc = 0;
    bool too_long = false;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            /* End of input: what came is the line, unless nothing came. */
            if (n == 0)
                rc = -1;
            break;
        }
        if (ch == '\n' || ch == '\r')
            break;
        if (n + 1 >= cap) {
            too_long = true;
            continue; /* read the rest of the line, then refuse */
        }
        buf[n++] = ch;
    }
    /* A line too long is refused however it ended (newline or EOF). */
    if (too_long)
        rc = -1;
    buf[n] = '\0';
    (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0)
        rc = -1;
    return rc;
}

/* The password of the new admin: $BAOBAO_ADMIN_PASSWORD, else asked twice
 * on /dev/tty. 0, or -1 with a message printed. */
static int admin_password(char *buf, size_t cap)
{
    const char *env = getenv("BAOBAO_ADMIN_PASSWORD");
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= cap) {
            fprintf(stderr, "baobaod: BAOBAO_ADMIN_PASSWORD is too long\n");
            return -1;
        }
        snprintf(buf, cap, "%s", env);
        return 0;
    }
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "baobaod: no terminal to ask for the password: set "
                        "BAOBAO_ADMIN_PASSWORD\n");
        return -1;
    }
    char again[USER_PASSWORD_MAX_BYTES + 2];
    int rc = -1;
    if (read_tty_password(fd, "Password for the new admin: ", buf, cap) != 0 ||
        read_tty_password(fd, "The same password again: ", again, sizeof again) != 0)
        fprintf(stderr, "baobaod: could not read the password\n");
    else if (strcmp(buf, again) != 0)
        fprintf(stderr, "baobaod: the two passwords differ\n");
    else
        rc = 0;
    sodium_memzero(again, sizeof again);
    close(fd);
    return rc;
}

int user_create_admin(const server *s, const char *login, const char *display_name)
{
    size_t llen = strlen(login);
    if (llen == 0 || llen > SESSION_LOGIN_MAX || !bb_utf8_valid(login, llen) ||
        bb_utf8_has_control(login, llen, false) || strchr(login, ' ') != NULL) {
        fprintf(stderr, "baobaod: --create-admin: a login is 1-%u bytes of UTF-8 without "
                        "spaces or control characters\n", SESSION_LOGIN_MAX);
        return 1;
    }
    const char *name = display_name != NULL && display_name[0] != '\0' ? display_name : login;
    size_t nlen = strlen(name);
    if (!bb_utf8_valid(name, nlen) || bb_utf8_chars(name, nlen) > USER_TEXT_MAX_CHARS ||
        bb_utf8_has_control(name, nlen, false)) {
        fprintf(stderr, "baobaod: --display-name: 1-%u characters of UTF-8 without control "
                        "characters\n", USER_TEXT_MAX_CHARS);
        return 1;
    }
    char pw[USER_PASSWORD_MAX_BYTES + 2];
    if (admin_password(pw, sizeof pw) != 0)
        return 1;
    size_t plen = strlen(pw);
    if (plen < USER_PASSWORD_MIN_BYTES || plen > USER_PASSWORD_MAX_BYTES ||
        !bb_utf8_valid(pw, plen) || bb_utf8_has_control(pw, plen, false)) {
        sodium_memzero(pw, sizeof pw);
        fprintf(stderr, "baobaod: the password must be %u-%u bytes of UTF-8 without control "
                        "characters\n", USER_PASSWORD_MIN_BYTES, USER_PASSWORD_MAX_BYTES);
        return 1;
    }
    char hash[crypto_pwhash_STRBYTES];
    int hr = crypto_pwhash_str(hash, pw, plen, s->cfg.password_opslimit,
                               (size_t)s->cfg.password_memlimit_kib * 1024u);
    sodium_memzero(pw, sizeof pw);
    if (hr != 0) {
        fprintf(stderr, "baobaod: cannot hash the password (out of memory?)\n");
        return 1;
    }
    /* Before the loop exists: blocking libpq is fine here. */
    PGconn *pg = PQconnectdb(s->cfg.conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "baobaod: cannot connect to the database: %s", PQerrorMessage(pg));
        PQfinish(pg);
        return 1;
    }
    const char *vals[3] = {login, name, hash};
    PGresult *r = PQexecParams(pg, "SELECT id FROM bb_user_create_admin($1, $2, $3)", 3, NULL,
                               vals, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        fprintf(stderr, "baobaod: created admin %s (user id %s)\n", login, PQgetvalue(r, 0, 0));
        log_event(LOG_INFO, "admin_created", "login=%s user_id=%s", log_q(login),
                  PQgetvalue(r, 0, 0));
    } else {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (state != NULL && strcmp(state, "BB410") == 0)
            fprintf(stderr, "baobaod: a user with login \"%s\" already exists; nothing "
                            "changed (use `baobao user set-password` to reset a password)\n",
                    login);
        else
            fprintf(stderr, "baobaod: cannot create the admin: %s",
                    PQresultErrorMessage(r));
        rc = 1;
    }
    PQclear(r);
    PQfinish(pg);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

const method_module user_module = {
    .name = "user",
    .methods = user_methods,
    .register_statements = user_register_statements,
};
