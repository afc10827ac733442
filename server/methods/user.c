/*
 * user.c: the user.* methods (admins manage users: create, get, list,
 * update, set_password), hashing passwords on libuv's thread pool, and the
 * bootstrap of the first admin (`baobaod --create-admin`); see user.h.
 *
 * The arguments are declared in proto/spec/user.c and checked by the
 * dispatcher. Here: the rules the spec cannot say (a login has no spaces;
 * townships go with the role township_staff and no other; an admin does
 * not lock themselves out), hashing a new password off the loop thread (a
 * password job, bounded with the logins' jobs: user.h) before its one
 * statement, and logging a changed user out everywhere. The writes are
 * stored functions (sql/005_users.sql), called by parameter name, that
 * check the caller again (bb_user_admin: a second wall behind the
 * dispatcher's gate), claim the idempotency key (the actor is part of the
 * request hash), refuse unknown townships and write the audit row in the
 * same transaction.
 * Not for: logins and the caller's own password (login.c), the gate
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

#include "bb_utf8.h"
#include "client.h"
#include "log.h"
#include "methods.h"
#include "nodes.h"
#include "pool.h"
#include "server.h"
#include "session.h"

/* Longest display name, in characters (CHECKs in 004): --create-admin's
 * check (the methods' limits are in the spec). */
#define USER_TEXT_MAX_CHARS 50u

const rp_col user_wire_cols[USER_WIRE_NCOLS] = {USER_WIRE_COLS};

/* ---- statements ----
 * Writes pass the caller (:_actor), the peer (:_addr) and the key. */

static mstmt st_get = {
    .name = "user_get", .sql = "SELECT * FROM app_user_wire WHERE id = :id::bigint",
    .cols = user_wire_cols, .ncols = USER_WIRE_NCOLS};

/* Keyset page by id; an unknown township name matches nothing;
 * name_contains is plain text (strpos) in the login or the display name. */
static mstmt st_list = {
    .name = "user_list", .sql =
    "SELECT w.* FROM app_user_wire w"
    " WHERE (:role::text IS NULL OR w.role = :role::text)"
    "   AND (:name_contains::text IS NULL OR strpos(w.login, :name_contains) > 0"
    "        OR strpos(w.display_name, :name_contains) > 0)"
    "   AND (:township::text IS NULL OR EXISTS (SELECT 1 FROM app_user_township ut"
    "        JOIN township t ON t.id = ut.township_id"
    "        WHERE ut.user_id = w.id AND t.name = :township::text))"
    "   AND w.id > :after::bigint"
    " ORDER BY w.id LIMIT :limit::int + 1",
    .cols = user_wire_cols, .ncols = USER_WIRE_NCOLS};

/* :_hash: the new password's hash (the password itself is never sent);
 * :_by and :_peer (ASKED_BY, in place of WRITE_PREFIX's :_actor and
 * :_addr): the caller and their address as they were when the
 * request came, since the statement goes out only once the hash is ready
 * (a logout or revocation meanwhile must not change who asked). */
static const char *const hash_extras[] = {"_hash", "_by", "_peer", NULL};
#define ASKED_BY "p_actor => :_by::bigint, p_addr => :_peer"

static mstmt st_create = {
    .name = "user_create", .sql =
    "SELECT * FROM bb_user_create(" ASKED_BY ", p_key => :idempotency_key,"
    " p_login => :login, p_display_name => :display_name,"
    " p_role => :role, p_unit => :unit, p_townships => :townships::text[], p_hash => :_hash)",
    .cols = user_wire_cols, .ncols = USER_WIRE_NCOLS, .extras = hash_extras};

/* absent = unchanged; unit: nil = clear (p_set_unit says it was given). */
static mstmt st_update = {
    .name = "user_update", .sql =
    "SELECT * FROM bb_user_update(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_display_name => :display_name, p_role => :role,"
    " p_set_unit => :unit_set, p_unit => :unit, p_townships => :townships::text[],"
    " p_disabled => :disabled::boolean)",
    .cols = user_wire_cols, .ncols = USER_WIRE_NCOLS};

static mstmt st_set_password = {
    .name = "user_set_password", .sql =
    /* The user's new epoch (sql/027) comes back: an admin who set their
     * own password keeps this connection's session (set_password_done
     * says when not). */
    "SELECT bb_user_epoch(:id::bigint) AS epoch FROM (SELECT bb_user_set_password("
    ASKED_BY ", p_id => :id::bigint, p_hash => :_hash) OFFSET 0) AS x",
    .extras = hash_extras};

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
                        "a password is already being checked or hashed, or a session "
                        "resumed, for this connection (session.login, session.resume, "
                        "session.change_password, user.create or user.set_password): wait for "
                        "its answer");
    else
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "too many logins and password changes in progress; retry");
}

void user_pw_job_end(request *req)
{
    g_pw_jobs--;
    req_session_mut(req)->login_pending = false;
}

typedef struct after_change {
    void (*then)(void *arg);
    void *arg;
} after_change;

static void on_barrier(void *arg, bool applied)
{
    (void)applied; /* nodes.c logged a give-up; the answer goes anyway */
    after_change ac = *(after_change *)arg;
    free(arg);
    ac.then(ac.arg);
}

void user_after_change(request *req, int64_t user_id, void (*then)(void *arg), void *arg)
{
    after_change *ac = malloc(sizeof *ac);
    if (ac != NULL) {
        ac->then = then;
        ac->arg = arg;
        if (nodes_barrier(req_server(req), user_id, on_barrier, ac) == 0)
            return;
        free(ac);
    }
    log_req(LOG_WARN, req_conn_id(req), req_msgid(req), "session_barrier_skipped",
            "user_id=%" PRId64 " why=\"out of memory\"", user_id);
    then(arg);
}

/* ---- answering a failed query of a logged-in caller ---- */

/* BB401: the database says the session's user is gone or disabled. The
 * connection stops acting as them, unless it is someone else by now (the
 * engine does the same for the methods whose row says
 * logout_on_unauthenticated; this is for the raw callbacks of login.c). */
void user_reply_pool_error(request *req, const char *stmt, const pool_error *e, int64_t actor)
{
    session *ss = req_session_mut(req);
    if (e->err == BB_E_UNAUTHENTICATED && actor != 0 && ss->user_id == actor) {
        log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "session_revoked",
                "user_id=%" PRId64 " why=unauthenticated", actor);
        session_clear(ss);
    }
    rowpack_reply_pool_error(req, stmt, e);
}

/* ---- one write waiting for its hash, then its statement ---- */

/* A write that hashes a password first (user.create, user.set_password):
 * the kept arguments, the statement and what answers its rows. */
typedef struct user_call {
    request *req;
    int64_t actor;                       /* the session's user when the request came */
    char by[24];                         /* the same as SQL text (:_by) */
    char peer[64];                       /* the peer then (:_peer) */
    margs *args;                         /* owned (margs_dup) */
    mstmt *st;
    mstmt_cb done;
} user_call;

static void call_free(void *arg)
{
    user_call *uc = arg;
    if (uc->args != NULL) {
        margs_free(uc->args);
        free(uc->args);
    }
    free(uc);
}

static void on_hashed(void *arg, const char *hash)
{
    user_call *uc = arg;
    request *req = uc->req;
    /* The expensive part is over: the next password job may start. */
    user_pw_job_end(req);
    if (hash == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "cannot hash the password");
        call_free(uc);
        return;
    }
    if (req_server(req)->pool == NULL) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        call_free(uc);
        return;
    }
    const char *extra[] = {hash, uc->by, uc->peer};
    mstmt_query(req, uc->st, uc->args, extra, uc->done, uc, call_free);
}

/* Hashes the argument `password` (a password job), then runs st with the
 * other arguments and the hash; done answers (and frees the call). */
static void hash_then_run(request *req, const margs *a, mstmt *st, mstmt_cb done)
{
    const char *busy = NULL;
    if (user_pw_job_begin(req, &busy) != 0) {
        log_req(LOG_WARN, req_conn_id(req), req_msgid(req), "password_job_refused",
                "method=%s why=%s", st->name, busy);
        user_pw_job_refuse(req, busy);
        return;
    }
    user_call *uc = calloc(1, sizeof *uc);
    if (uc == NULL || (uc->args = margs_dup(a)) == NULL) {
        free(uc);
        user_pw_job_end(req);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    uc->req = req;
    uc->actor = req_session(req)->user_id;
    const char *by = session_actor(req_session(req)); /* the gate let a user in */
    snprintf(uc->by, sizeof uc->by, "%s", by != NULL ? by : "0");
    snprintf(uc->peer, sizeof uc->peer, "%s", req_peer(req));
    uc->st = st;
    uc->done = done;
    const bb_val *pw = margs_get(a, "password");
    if (user_hash_password(req_server(req), pw->s, pw->len, on_hashed, uc) != 0) {
        user_pw_job_end(req);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        call_free(uc);
    }
}

/* After a user's role, townships, state or password changed, the sessions
 * that user already has (on this server) were granted under the old ones:
 * they are logged out, the caller's own excepted (the caller's connection
 * only while it is still the admin who asked, actor). */
static void revoke_after_change(request *req, int64_t actor, int64_t id, const char *why)
{
    const session *own = req_session(req);
    if (id > 0)
        (void)session_revoke_user(id, own->user_id == actor ? own : NULL, why);
}

static void reply_user(request *req, const PGresult *res, const char *stmt)
{
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, stmt, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, user_wire_cols, USER_WIRE_NCOLS);
    req_result_end(req);
}

/* ---- methods ---- */

static void create_done(request *req, const PGresult *res, void *arg)
{
    call_free(arg);
    reply_user(req, res, st_create.name);
}

static void user_create(request *req, const margs *a)
{
    const bb_val *login = margs_get(a, "login"), *role = margs_get(a, "role");
    const bb_val *tw = margs_get(a, "townships");
    if (memchr(login->s, ' ', login->len) != NULL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "login", "login: must not contain spaces");
        return;
    }
    bool staff = session_role_from_name(role->s, role->len) == BB_ROLE_STAFF;
    bool has_townships = tw->state == BB_V_SET && tw->obj->via.array.size > 0;
    if (staff && !has_townships) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "townships",
                        "townships: township staff need at least one township");
        return;
    }
    if (!staff && has_townships) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "townships",
                        "townships: only township staff have townships");
        return;
    }
    hash_then_run(req, a, &st_create, create_done);
}

static void answer_true(void *arg)
{
    msgpack_packer *pk = req_result_begin(arg);
    msgpack_pack_true(pk);
    req_result_end(arg);
}

static void set_password_done(request *req, const PGresult *res, void *arg)
{
    user_call *uc = arg;
    int64_t id = margs_int(uc->args, "id", 0);
    revoke_after_change(req, uc->actor, id, "password_set");
    /* An admin who set their own password keeps this connection's session
     * under the new epoch (sql/027), so the notification of it ends only
     * the older sessions. Not held as session.change_password is
     * (session_hold): this request cannot release a hold on its error
     * path, which answers before it hears. So when the notification comes
     * before this result, it ends this session too: the admin logs in
     * again with the new password (rare: user.set_password of oneself). */
    session *own = req_session_mut(req);
    if (own->user_id == uc->actor && id == uc->actor) {
        int64_t epoch = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                            ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
        /* Kept only when this change was the only raise since the login
         * (session_release's rule): a demotion or a disable committed
         * around it must not be carried over into the new epoch. */
        if (epoch == own->epoch + 1) {
            own->epoch = epoch;
        } else {
            log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "session_revoked",
                    "user_id=%" PRId64 " why=user_changed", id);
            session_clear(own);
        }
    }
    call_free(uc);
    user_after_change(req, id, answer_true, req);
}

static void user_set_password(request *req, const margs *a)
{
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "password_set",
            "user_id=%" PRId64 " by=%s", margs_int(a, "id", 0), session_actor(req_session(req)));
    hash_then_run(req, a, &st_set_password, set_password_done);
}

/* user.update's answer, kept while the other processes apply the change. */
typedef struct update_answer {
    request *req;
    PGresult *res;               /* owned (a copy: the pool's is borrowed) */
} update_answer;

static void answer_update(void *arg)
{
    update_answer *ua = arg;
    reply_user(ua->req, ua->res, st_update.name);
    PQclear(ua->res);
    free(ua);
}

/* ctx: the caller's user id when the request came (unused since the
 * notification, not this process, logs the user out). */
static void update_done(request *req, const PGresult *res, void *ctx)
{
    free(ctx);
    int64_t id = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                     ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    /* No local revocation: only a change of role, townships or disabled
     * ends sessions, and it raises the epoch, whose notification logs the
     * user out in every process, this one included, before the barrier
     * lets the answer go (sql/027). A display name or unit ends none. */
    update_answer *ua = id > 0 ? malloc(sizeof *ua) : NULL;
    if (ua != NULL) {
        ua->req = req;
        ua->res = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
        if (ua->res != NULL) {
            user_after_change(req, id, answer_update, ua);
            return;
        }
        free(ua);
    }
    if (id > 0)
        log_req(LOG_WARN, req_conn_id(req), req_msgid(req), "session_barrier_skipped",
                "user_id=%" PRId64 " why=\"out of memory\"", id);
    reply_user(req, res, st_update.name);
}

static void user_update(request *req, const margs *a)
{
    /* The first wall of "an admin cannot lock themselves out" (the stored
     * function is the second). */
    const session *ss = req_session(req);
    const bb_val *role = margs_get(a, "role");
    bool self = margs_int(a, "id", 0) == ss->user_id;
    if (self && margs_int(a, "disabled", 0) != 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "disabled",
                        "disabled: an admin cannot disable themselves");
        return;
    }
    if (self && role->state == BB_V_SET &&
        session_role_from_name(role->s, role->len) != BB_ROLE_ADMIN) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "role",
                        "role: an admin cannot drop their own admin role");
        return;
    }
    int64_t *actor = req_alloc(req, sizeof *actor);
    if (actor == NULL)
        return;
    *actor = ss->user_id;
    mstmt_query(req, &st_update, a, NULL, update_done, actor, free);
}

static const method_impl user_methods[] = {
    {"user.create", .fn = user_create, .logout_on_unauthenticated = true},
    {"user.get", .stmt = &st_get, .reply = MR_ROW, .what = "user",
     .logout_on_unauthenticated = true},
    {"user.list", .stmt = &st_list, .reply = MR_PAGE, .logout_on_unauthenticated = true},
    {"user.update", .fn = user_update, .logout_on_unauthenticated = true},
    {"user.set_password", .fn = user_set_password, .logout_on_unauthenticated = true},
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

static mstmt *const user_stmts[] = {
    &st_get, &st_list, &st_create, &st_update, &st_set_password, NULL,
};

const method_module user_module = {
    .name = "user",
    .methods = user_methods,
    .stmts = user_stmts,
};
