/*
 * session.c: the session of a connection (session.h): role names, setting
 * and clearing it, and the SQL parameters derived from it; and the
 * session.* methods: login (password check on the thread pool, throttling,
 * login records), logout, whoami, change_password.
 *
 * Not for: the gate (dispatch.c), the scope rules (sql/), or managing
 * other users (user.c).
 */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    bb_role role;
    const char *name;
} role_names[] = {
    {BB_ROLE_STAFF, "township_staff"},
    {BB_ROLE_SUPERVISOR, "supervisor"},
    {BB_ROLE_ADMIN, "admin"},
};

const char *session_role_name(bb_role r)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == r)
            return role_names[i].name;
    return "none";
}

bb_role session_role_from_name(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strlen(role_names[i].name) == len && memcmp(role_names[i].name, s, len) == 0)
            return role_names[i].role;
    return BB_ROLE_NONE;
}

const char *session_actor(const session *s)
{
    return session_logged_in(s) ? s->actor : NULL;
}

const char *session_read_scope(const session *s)
{
    return session_logged_in(s) && s->role == BB_ROLE_STAFF ? s->actor : NULL;
}

void session_set(session *s, int64_t user_id, bb_role role, const char *login)
{
    bool pending = s->login_pending;
    memset(s, 0, sizeof *s);
    s->login_pending = pending;
    s->user_id = user_id;
    s->role = role;
    snprintf(s->login, sizeof s->login, "%s", login);
    snprintf(s->actor, sizeof s->actor, "%" PRId64, user_id);
}

void session_clear(session *s)
{
    bool pending = s->login_pending;
    memset(s, 0, sizeof *s);
    s->login_pending = pending;
}

/* ---- session.* methods ----------------------------------------------
 *
 * session.login checks a password in four steps, each on the loop thread
 * except the third:
 *   1. LOOKUP  one query: the user (id, role, hash, disabled) and the
 *              seconds left on the account's or the address's lock
 *              (bb_login_lookup, sql/005_users.sql);
 *   2. (locked: straight to RECORD, then `locked`)
 *   3. VERIFY  crypto_pwhash_str_verify on libuv's thread pool (argon2id
 *              is slow on purpose: never on the loop). An unknown login is
 *              verified against a dummy hash of the configured cost, so
 *              the time taken does not tell which logins exist;
 *   4. RECORD  one query: login_event row, throttle rows, the account's
 *              failures in a row, and the User on success
 *              (bb_login_record);
 *   5. DELAY   a failure is answered after login_delay_ms x failures
 *              (a uv_timer; nothing sleeps).
 * Ownership: the login_op owns copies of the login, the password (wiped
 * with sodium_memzero and freed as soon as the verify is done), and the
 * stored hash; it is freed by whoever answers (after its timer's close
 * callback when it has one). The request may outlive its connection:
 * answering is still required and just drops the bytes.
 */

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <sodium.h>
#include <uv.h>

#include "client.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "user.h"

/* Longest delay before a failed login is answered, whatever
 * login_delay_ms x failures says: a reply must come before any client
 * gives up, and a shutdown waits for it. */
#define LOGIN_DELAY_MAX_MS 30000u
/* The address lock counts this many times login_max_failures (an office
 * behind one NAT address shares it; sql/005_users.sql bb_login_record). */
#define SESSION_NUM_TEXT 24
/* login_failed: one message whatever went wrong, so logins cannot be
 * probed (unknown login, wrong password, disabled account). */
#define LOGIN_FAILED_MESSAGE "login failed: wrong login or password, or the account is disabled"

/* Logins between their first query and their answer, server-wide (the
 * loop thread is the only one that touches it). */
static unsigned g_login_pending;

/* The dummy hash for unknown logins, made on the thread pool the first
 * time one is needed, with the configured cost. */
static pthread_mutex_t g_dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_dummy_hash[crypto_pwhash_STRBYTES];
static bool g_dummy_ready;

static const pool_stmt st_login_lookup = {
    "session_login_lookup",
    "SELECT user_id, role, password_hash, disabled, lock_secs FROM bb_login_lookup($1, $2)", 2};

/* The User columns (NULL unless the outcome is ok) and the failures. */
static const pool_stmt st_login_record = {
    "session_login_record",
    "SELECT w.*, r.failures"
    "  FROM bb_login_record($1::text, $2::bigint, $3::text, $4::text, $5::int, $6::bigint)"
    "       AS r(failures)"
    "  LEFT JOIN app_user_wire w ON $4::text = 'ok' AND w.id = $2::bigint",
    6};

static const pool_stmt st_whoami = {
    "session_whoami",
    "SELECT w.* FROM app_user_wire w WHERE w.id = $1::bigint AND NOT w.disabled", 1};

static const pool_stmt st_pw_hash = {
    "session_pw_hash",
    "SELECT password_hash FROM app_user WHERE id = $1::bigint AND NOT disabled", 1};

static const pool_stmt st_pw_store = {
    "session_pw_store",
    "SELECT bb_session_change_password($1::bigint, $2::text, $3::text)", 3};

int session_register_statements(void)
{
    if (pool_register(&st_login_lookup) != 0 || pool_register(&st_login_record) != 0 ||
        pool_register(&st_whoami) != 0 || pool_register(&st_pw_hash) != 0 ||
        pool_register(&st_pw_store) != 0)
        return -1;
    return 0;
}

/* The record statement's columns: the User, then failures. */
static rp_col login_cols[USER_WIRE_NCOLS + 1];

static void init_login_cols(void)
{
    for (int i = 0; i < USER_WIRE_NCOLS; i++)
        login_cols[i] = user_wire_cols[i];
    login_cols[USER_WIRE_NCOLS] = (rp_col){"failures", RP_INT};
}

typedef enum login_outcome {
    LO_NONE = 0,
    LO_OK,
    LO_UNKNOWN_USER,
    LO_BAD_PASSWORD,
    LO_DISABLED,
    LO_LOCKED,
} login_outcome;

/* The login_event.outcome of each (sql/004_accounts.sql CHECK). */
static const char *outcome_name(login_outcome o)
{
    switch (o) {
    case LO_OK: return "ok";
    case LO_UNKNOWN_USER: return "unknown_user";
    case LO_BAD_PASSWORD: return "bad_password";
    case LO_DISABLED: return "disabled";
    case LO_LOCKED: return "locked";
    case LO_NONE:
    default: return "none";
    }
}

typedef struct login_op {
    request *req;                         /* answered exactly once */
    server *srv;                          /* borrowed */
    char login[SESSION_LOGIN_MAX + 1];
    char ip[64];
    char *password;                       /* owned; wiped and freed after the verify */
    size_t pwlen;
    char hash[crypto_pwhash_STRBYTES];    /* the stored hash ("" for an unknown login) */
    unsigned long long opslimit;          /* the dummy hash's cost */
    size_t memlimit;
    int64_t user_id;                      /* 0 when unknown */
    bb_role role;
    bool disabled;
    bool verified;                        /* set on the thread pool */
    int64_t lock_secs;
    login_outcome outcome;
    uv_work_t work;
    uv_timer_t timer;
    bool timer_started;                   /* timer needs uv_close before free */
} login_op;

static void login_wipe(login_op *op)
{
    if (op->password != NULL) {
        sodium_memzero(op->password, op->pwlen);
        free(op->password);
        op->password = NULL;
    }
    sodium_memzero(op->hash, sizeof op->hash);
}

static void login_free_cb(uv_handle_t *h)
{
    login_op *op = h->data;
    free(op);
}

/* The login is no longer pending: call right before answering. */
static void login_end(login_op *op)
{
    g_login_pending--;
    req_session_mut(op->req)->login_pending = false;
}

/* Frees op after its answer (op->req is gone by then). */
static void login_release(login_op *op)
{
    login_wipe(op);
    if (op->timer_started)
        uv_close((uv_handle_t *)&op->timer, login_free_cb);
    else
        free(op);
}

static void login_reply_pool_error(login_op *op, const char *stmt, const pool_error *e)
{
    login_end(op);
    rowpack_reply_pool_error(op->req, stmt, e);
    login_release(op);
}

static void login_reply_rc(login_op *op, const char *stmt, int rc)
{
    login_end(op);
    rowpack_reply_query_rc(op->req, stmt, rc);
    login_release(op);
}

static void login_reply_internal(login_op *op, const char *stmt, const char *why)
{
    login_end(op);
    rowpack_reply_bad_result(op->req, stmt, why);
    login_release(op);
}

static void login_log(const login_op *op, int64_t failures)
{
    char uid[SESSION_NUM_TEXT] = "-";
    if (op->user_id != 0)
        snprintf(uid, sizeof uid, "%" PRId64, op->user_id);
    log_req(op->outcome == LO_OK ? LOG_INFO : LOG_WARN, req_conn_id(op->req),
            req_msgid(op->req), "login", "login=%s user_id=%s addr=%s outcome=%s failures=%" PRId64,
            log_q(op->login), uid, log_q(op->ip), outcome_name(op->outcome), failures);
}

static void on_delay_done(uv_timer_t *t)
{
    login_op *op = t->data;
    login_end(op);
    req_reply_error(op->req, BB_E_LOGIN_FAILED, NULL, "%s", LOGIN_FAILED_MESSAGE);
    login_release(op);
}

static void on_login_recorded(void *arg, const PGresult *res, const pool_error *e)
{
    login_op *op = arg;
    if (e != NULL) {
        login_reply_pool_error(op, st_login_record.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, login_cols, USER_WIRE_NCOLS + 1, &why) != 0) {
        login_reply_internal(op, st_login_record.name, why);
        return;
    }
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, USER_WIRE_NCOLS)) {
        login_reply_internal(op, st_login_record.name, "expected one row with failures");
        return;
    }
    int64_t failures = strtoll(PQgetvalue(res, 0, USER_WIRE_NCOLS), NULL, 10);
    login_log(op, failures);
    if (op->outcome == LO_OK) {
        if (PQgetisnull(res, 0, 0)) {
            /* Deleted between the two statements: as if unknown. */
            login_end(op);
            req_reply_error(op->req, BB_E_LOGIN_FAILED, NULL, "%s", LOGIN_FAILED_MESSAGE);
            login_release(op);
            return;
        }
        /* A second login on a logged-in connection replaces the session. */
        login_end(op);
        session_set(req_session_mut(op->req), op->user_id, op->role, op->login);
        msgpack_packer *pk = req_result_begin(op->req);
        rowpack_row(pk, res, 0, login_cols, USER_WIRE_NCOLS);
        req_result_end(op->req);
        login_release(op);
        return;
    }
    if (op->outcome == LO_LOCKED) {
        login_end(op);
        req_reply_error(op->req, BB_E_LOCKED, NULL,
                        "too many failed logins for this account or from this address: "
                        "try again in %" PRId64 " s",
                        op->lock_secs);
        login_release(op);
        return;
    }
    /* A failure: answered later, the later the more failures in a row. */
    uint64_t delay = (uint64_t)op->srv->cfg.login_delay_ms * (uint64_t)(failures > 0 ? failures : 1);
    if (delay > LOGIN_DELAY_MAX_MS)
        delay = LOGIN_DELAY_MAX_MS;
    if (op->srv->shutting_down)
        delay = 0;
    int r = uv_timer_init(op->srv->loop, &op->timer);
    if (r == 0) {
        op->timer_started = true;
        op->timer.data = op;
        r = uv_timer_start(&op->timer, on_delay_done, delay, 0);
    }
    if (r != 0) {
        login_end(op);
        req_reply_error(op->req, BB_E_LOGIN_FAILED, NULL, "%s", LOGIN_FAILED_MESSAGE);
        login_release(op);
    }
}

/* Step 4: records the outcome (op->outcome set). */
static void login_record(login_op *op)
{
    if (op->srv->pool == NULL) {
        login_end(op);
        req_reply_error(op->req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        login_release(op);
        return;
    }
    char uid[SESSION_NUM_TEXT], maxf[SESSION_NUM_TEXT], lockms[SESSION_NUM_TEXT];
    snprintf(uid, sizeof uid, "%" PRId64, op->user_id);
    snprintf(maxf, sizeof maxf, "%u", op->srv->cfg.login_max_failures);
    snprintf(lockms, sizeof lockms, "%u", op->srv->cfg.login_lock_ms);
    const char *vals[6] = {op->login, op->user_id != 0 ? uid : NULL, op->ip,
                           outcome_name(op->outcome), maxf, lockms};
    int rc = pool_query(op->srv->pool, &st_login_record, vals, NULL, on_login_recorded, op);
    if (rc < 0)
        login_reply_rc(op, st_login_record.name, rc);
}

/* Thread pool: the only code here that runs off the loop thread. Touches
 * nothing but op and the dummy hash (under its lock); does not log. */
static void login_verify_work(uv_work_t *w)
{
    login_op *op = w->data;
    if (op->user_id != 0) {
        op->verified = crypto_pwhash_str_verify(op->hash, op->password, op->pwlen) == 0;
        return;
    }
    char dummy[crypto_pwhash_STRBYTES];
    bool have = false;
    pthread_mutex_lock(&g_dummy_lock);
    if (!g_dummy_ready) {
        unsigned char pw[32];
        randombytes_buf(pw, sizeof pw);
        g_dummy_ready = crypto_pwhash_str(g_dummy_hash, (const char *)pw, sizeof pw,
                                          op->opslimit, op->memlimit) == 0;
    }
    if (g_dummy_ready) {
        memcpy(dummy, g_dummy_hash, sizeof dummy);
        have = true;
    }
    pthread_mutex_unlock(&g_dummy_lock);
    if (have) {
        /* Only the time it takes matters: the answer is "no" anyway. */
        int same = crypto_pwhash_str_verify(dummy, op->password, op->pwlen);
        (void)same;
    }
    op->verified = false;
}

static void login_verify_done(uv_work_t *w, int status)
{
    login_op *op = w->data;
    login_wipe(op);
    if (status != 0) {
        login_end(op);
        req_reply_error(op->req, BB_E_UNAVAILABLE, NULL, "the password check was cancelled");
        login_release(op);
        return;
    }
    if (op->user_id == 0)
        op->outcome = LO_UNKNOWN_USER;
    else if (!op->verified)
        op->outcome = LO_BAD_PASSWORD;
    else if (op->disabled)
        op->outcome = LO_DISABLED;
    else
        op->outcome = LO_OK;
    login_record(op);
}

static void on_login_lookup(void *arg, const PGresult *res, const pool_error *e)
{
    login_op *op = arg;
    if (e != NULL) {
        login_reply_pool_error(op, st_login_lookup.name, e);
        return;
    }
    if (PQnfields(res) != 5 || PQntuples(res) != 1 || PQgetisnull(res, 0, 4)) {
        login_reply_internal(op, st_login_lookup.name, "expected one row of 5 columns");
        return;
    }
    op->lock_secs = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    if (!PQgetisnull(res, 0, 0)) {
        op->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        const char *role = PQgetvalue(res, 0, 1);
        op->role = session_role_from_name(role, strlen(role));
        op->disabled = PQgetvalue(res, 0, 3)[0] == 't';
        int hlen = PQgetlength(res, 0, 2);
        if (op->user_id <= 0 || op->role == BB_ROLE_NONE || hlen <= 0 ||
            (size_t)hlen >= sizeof op->hash) {
            login_reply_internal(op, st_login_lookup.name, "user row does not parse");
            return;
        }
        memcpy(op->hash, PQgetvalue(res, 0, 2), (size_t)hlen);
        op->hash[hlen] = '\0';
    }
    if (op->lock_secs > 0) {
        /* Refused without checking the password: a locked account must
         * not be a free oracle for guesses. */
        login_wipe(op);
        op->outcome = LO_LOCKED;
        login_record(op);
        return;
    }
    op->work.data = op;
    int r = uv_queue_work(op->srv->loop, &op->work, login_verify_work, login_verify_done);
    if (r != 0) {
        login_end(op);
        req_reply_error(op->req, BB_E_INTERNAL, NULL, "cannot queue the password check");
        login_release(op);
    }
}

/* A str argument of min..max bytes (besides params_str's rules). */
static int str_bytes(request *req, const msgpack_object *args, const char *key, uint32_t min,
                     uint32_t max, pstr *out)
{
    pstate st;
    if (params_str(req, args, key, true, max, false, out, &st) != 0)
        return -1;
    if (out->len < min || out->len > max) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: %u to %u bytes (got %u)", key,
                        min, max, out->len);
        return -1;
    }
    return 0;
}

static void session_login(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"login", "password", NULL};
    pstr login, password;
    if (params_check_known(req, args, known) != 0 ||
        str_bytes(req, args, "login", 1, SESSION_LOGIN_MAX, &login) != 0 ||
        str_bytes(req, args, "password", 1, USER_PASSWORD_MAX_BYTES, &password) != 0)
        return;
    server *srv = req_server(req);
    session *ss = req_session_mut(req);
    if (ss->login_pending) {
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "a login is already being checked on this connection");
        return;
    }
    if (g_login_pending >= srv->cfg.login_max_pending) {
        req_reply_error(req, BB_E_UNAVAILABLE, NULL, "too many logins in progress; retry");
        return;
    }
    if (srv->pool == NULL) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    login_op *op = calloc(1, sizeof *op);
    char *pw = malloc((size_t)password.len + 1);
    if (op == NULL || pw == NULL) {
        free(op);
        free(pw);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    op->req = req;
    op->srv = srv;
    memcpy(op->login, login.s, login.len);
    op->login[login.len] = '\0';
    snprintf(op->ip, sizeof op->ip, "%s", req_peer_ip(req));
    memcpy(pw, password.s, password.len);
    pw[password.len] = '\0';
    op->password = pw;
    op->pwlen = password.len;
    op->opslimit = srv->cfg.password_opslimit;
    op->memlimit = (size_t)srv->cfg.password_memlimit_kib * 1024u;
    if (login_cols[0].key == NULL)
        init_login_cols();
    g_login_pending++;
    ss->login_pending = true;
    const char *vals[2] = {op->login, op->ip};
    int rc = pool_query(srv->pool, &st_login_lookup, vals, NULL, on_login_lookup, op);
    if (rc < 0)
        login_reply_rc(op, st_login_lookup.name, rc);
}

static void session_logout(request *req, const msgpack_object *args)
{
    static const char *const known[] = {NULL};
    if (params_check_known(req, args, known) != 0)
        return;
    session *ss = req_session_mut(req);
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "logout", "login=%s user_id=%s addr=%s",
            log_q(ss->login), ss->actor, log_q(req_peer_ip(req)));
    session_clear(ss);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_true(pk);
    req_result_end(req);
}

static void on_whoami(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_whoami.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, user_wire_cols, USER_WIRE_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_whoami.name, why);
        return;
    }
    if (PQntuples(res) != 1) {
        req_reply_error(req, BB_E_UNAUTHENTICATED, NULL,
                        "the session's user no longer exists or is disabled: log in again");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, user_wire_cols, USER_WIRE_NCOLS);
    req_result_end(req);
}

static void session_whoami(request *req, const msgpack_object *args)
{
    static const char *const known[] = {NULL};
    if (params_check_known(req, args, known) != 0)
        return;
    const char *vals[1] = {session_actor(req_session(req))};
    int rc = pool_query(req_server(req)->pool, &st_whoami, vals, NULL, on_whoami, req);
    if (rc < 0)
        rowpack_reply_query_rc(req, st_whoami.name, rc);
}

/* ---- session.change_password: fetch the hash, verify the old password
 * and hash the new one (one trip to the thread pool), store. ---- */

typedef struct pw_op {
    request *req;
    server *srv;
    char actor[SESSION_NUM_TEXT];         /* copied: the session may change meanwhile */
    char addr[80];
    char *old_pw, *new_pw;                /* owned; wiped after the work */
    size_t old_len, new_len;
    char hash[crypto_pwhash_STRBYTES];    /* stored, then the new one */
    unsigned long long opslimit;
    size_t memlimit;
    bool verified, hashed;
    uv_work_t work;
} pw_op;

static void pw_free(pw_op *op)
{
    if (op->old_pw != NULL) {
        sodium_memzero(op->old_pw, op->old_len);
        free(op->old_pw);
    }
    if (op->new_pw != NULL) {
        sodium_memzero(op->new_pw, op->new_len);
        free(op->new_pw);
    }
    op->old_pw = op->new_pw = NULL;
    sodium_memzero(op->hash, sizeof op->hash);
}

static void pw_work(uv_work_t *w)
{
    pw_op *op = w->data;
    op->verified = crypto_pwhash_str_verify(op->hash, op->old_pw, op->old_len) == 0;
    if (op->verified)
        op->hashed = crypto_pwhash_str(op->hash, op->new_pw, op->new_len, op->opslimit,
                                       op->memlimit) == 0;
}

static void on_pw_stored(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    (void)res;
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_pw_store.name, e);
        return;
    }
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "password_changed", "by=self");
    /* Whoever else is logged in as this user (another device, or someone
     * who learnt the old password) must log in with the new one. */
    const session *own = req_session(req);
    if (session_logged_in(own))
        (void)client_revoke_sessions(req_server(req), own->user_id, own, "password_changed");
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_true(pk);
    req_result_end(req);
}

static void pw_work_done(uv_work_t *w, int status)
{
    pw_op *op = w->data;
    request *req = op->req;
    if (status != 0 || !op->verified || !op->hashed || op->srv->pool == NULL) {
        pw_free(op);
        if (status == 0 && !op->verified)
            req_reply_error(req, BB_E_INVALID_ARGUMENT, "old_password",
                            "old_password: not the current password");
        else if (op->srv->pool == NULL)
            req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        else
            req_reply_error(req, BB_E_INTERNAL, NULL, "cannot hash the new password");
        free(op);
        return;
    }
    const char *vals[3] = {op->actor, op->addr, op->hash};
    int rc = pool_query(op->srv->pool, &st_pw_store, vals, NULL, on_pw_stored, req);
    pw_free(op);
    free(op);
    if (rc < 0)
        rowpack_reply_query_rc(req, st_pw_store.name, rc);
}

static void on_pw_hash(void *arg, const PGresult *res, const pool_error *e)
{
    pw_op *op = arg;
    request *req = op->req;
    int hlen = e == NULL && PQntuples(res) == 1 ? PQgetlength(res, 0, 0) : 0;
    if (e != NULL || PQntuples(res) != 1 || hlen <= 0 || (size_t)hlen >= sizeof op->hash) {
        pw_free(op);
        free(op);
        if (e != NULL)
            rowpack_reply_pool_error(req, st_pw_hash.name, e);
        else
            req_reply_error(req, BB_E_UNAUTHENTICATED, NULL,
                            "the session's user no longer exists or is disabled: log in again");
        return;
    }
    memcpy(op->hash, PQgetvalue(res, 0, 0), (size_t)hlen);
    op->hash[hlen] = '\0';
    op->work.data = op;
    if (uv_queue_work(op->srv->loop, &op->work, pw_work, pw_work_done) != 0) {
        pw_free(op);
        free(op);
        req_reply_error(req, BB_E_INTERNAL, NULL, "cannot queue the password check");
    }
}

static void session_change_password(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"old_password", "new_password", NULL};
    pstr oldp, newp;
    if (params_check_known(req, args, known) != 0 ||
        str_bytes(req, args, "old_password", 1, USER_PASSWORD_MAX_BYTES, &oldp) != 0 ||
        str_bytes(req, args, "new_password", USER_PASSWORD_MIN_BYTES, USER_PASSWORD_MAX_BYTES,
                  &newp) != 0)
        return;
    server *srv = req_server(req);
    pw_op *op = calloc(1, sizeof *op);
    char *o = malloc((size_t)oldp.len + 1), *n = malloc((size_t)newp.len + 1);
    if (op == NULL || o == NULL || n == NULL) {
        free(op);
        free(o);
        free(n);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    op->req = req;
    op->srv = srv;
    snprintf(op->actor, sizeof op->actor, "%s", session_actor(req_session(req)));
    snprintf(op->addr, sizeof op->addr, "%s", req_peer(req));
    memcpy(o, oldp.s, oldp.len);
    o[oldp.len] = '\0';
    memcpy(n, newp.s, newp.len);
    n[newp.len] = '\0';
    op->old_pw = o;
    op->old_len = oldp.len;
    op->new_pw = n;
    op->new_len = newp.len;
    op->opslimit = srv->cfg.password_opslimit;
    op->memlimit = (size_t)srv->cfg.password_memlimit_kib * 1024u;
    const char *vals[1] = {op->actor};
    int rc = pool_query(srv->pool, &st_pw_hash, vals, NULL, on_pw_hash, op);
    if (rc < 0) {
        pw_free(op);
        free(op);
        rowpack_reply_query_rc(req, st_pw_hash.name, rc);
    }
}

const method_def session_methods[] = {
    {"session.login", session_login, BB_ROLES_ALL},
    {"session.logout", session_logout, BB_ROLES_USERS},
    {"session.whoami", session_whoami, BB_ROLES_USERS},
    {"session.change_password", session_change_password, BB_ROLES_USERS},
    {NULL, NULL, 0},
};
