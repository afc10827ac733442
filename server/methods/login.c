/*
 * login.c: the session.* methods: login (password check on the thread
 * pool, throttling, login records, and a kept session's token on
 * request), resume (a kept session on a new connection), logout, whoami,
 * change_password. Their arguments are declared in proto/spec/session.c
 * and checked by the dispatcher; the passwords and tokens (BB_A_SECRET)
 * are copied once, and the copies wiped as soon as they are used.
 *
 * Not for: the session object itself (engine/session.c), the gate
 * (engine/dispatch.c), the scope rules (sql/), or managing other users
 * (user.c).
 */
#include "session.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- session.* methods ----------------------------------------------
 *
 * session.login checks a password in these steps, each on the loop thread
 * except VERIFY:
 *   1. BEGIN   one query (bb_login_begin, sql/005_users.sql): claims the
 *              attempt against the throttle rows of the account and the
 *              address (locked there, so concurrent logins are counted one
 *              after the other): refused at once when either is locked or
 *              its failures reached its limit (`locked`, recorded there),
 *              or when failures + checks still running (pending) reached
 *              it (busy: `unavailable`, nothing counted, a 'refused' row);
 *              else the check is counted as pending, and the user (id,
 *              role, hash, disabled) comes back;
 *   2. VERIFY  crypto_pwhash_str_verify on libuv's thread pool (argon2id
 *              is slow on purpose: never on the loop). An unknown login is
 *              verified against a dummy hash of the configured cost, so
 *              the time taken does not tell which logins exist;
 *   3. FINISH  one query (bb_login_finish_keep: bb_login_finish, then,
 *              with keep, the kept session's token in the same
 *              transaction): login_event row; the pending
 *              claim is given back; a success resets the account, but
 *              only if the user, read
 *              again and locked, is still enabled and still has the hash
 *              that was checked; the session is made of that row; a
 *              failure is counted and locks a subject whose failures
 *              reached its limit;
 *   4. DELAY   a failure is answered after login_delay_ms x failures
 *              (a uv_timer; nothing sleeps).
 * Every path logs one event=login line (outcome= ok, unknown_user,
 * bad_password, disabled, locked, refused, unavailable; why= for the last
 * two and when the outcome could not be recorded).
 * Ownership: the login_op owns copies of the login, the password (wiped
 * with sodium_memzero and freed as soon as the verify is done), and the
 * stored hash (wiped when the op is freed); it is freed by whoever answers
 * (after its timer's close callback when it has one). The request may
 * outlive its connection: answering is still required and just drops the
 * bytes. A login is a password job (user.h) from BEGIN to its answer.
 */

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sodium.h>
#include <uv.h>

#include "client.h"
#include "log.h"
#include "methods.h"
#include "nodes.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "user.h"

/* Longest delay before a failed login (or a wrong old_password) is
 * answered, whatever login_delay_ms x failures says: a reply must come
 * before any client gives up, and a shutdown waits for it. */
#define LOGIN_DELAY_MAX_MS 30000u
#define SESSION_NUM_TEXT 24
/* An address as text ("ip" of req_peer_ip) and its throttle key. */
#define SESSION_ADDR_TEXT 64
/* login_failed: one message whatever went wrong, so logins cannot be
 * probed (unknown login, wrong password, disabled account). */
#define LOGIN_FAILED_MESSAGE "login failed: wrong login or password, or the account is disabled"

/* ---- session tokens (session.login keep, session.resume) ----
 * A token is SESSION_TOKEN_PREFIX and the base64url (no padding) of
 * SESSION_TOKEN_BYTES bytes from libsodium's generator: 256 bits, so no
 * guessing is any use. The prefix lets a person (or a secret scanner)
 * tell what the string is. The database stores only its SHA-256
 * (sql/016_session_token.sql), sent as a bytea literal; the token itself
 * is never logged, stored or sent to the database. */
#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_PREFIX "bbt1_"
#define SESSION_TOKEN_PREFIX_LEN (sizeof SESSION_TOKEN_PREFIX - 1)
#define SESSION_TOKEN_TEXT                                                             \
    (SESSION_TOKEN_PREFIX_LEN +                                                        \
     sodium_base64_ENCODED_LEN(SESSION_TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING))
/* "\x" and the hash in hex, NUL-terminated. */
#define SESSION_TOKEN_HASH_TEXT (2 + 2 * crypto_hash_sha256_BYTES + 1)
/* Tokens one user holds at once: a person with a few computers. One more
 * ends their oldest (sql/016: the table cannot grow without bound). */
#define SESSION_TOKENS_PER_USER 20
/* unauthenticated for a token that is unknown, expired or ended: one
 * message for all, like login_failed. */
#define RESUME_FAILED_MESSAGE \
    "the session token is unknown, expired or ended: log in with the password again"

/* The dummy hash for unknown logins, made on the thread pool the first
 * time one is needed, with the configured cost. */
static pthread_mutex_t g_dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_dummy_hash[crypto_pwhash_STRBYTES];
static bool g_dummy_ready;

/* The lockout policy (login_max_failures, login_lock_ms): every statement
 * that counts a failure or reads a lock is told the same configured limits,
 * so they are written once. */
#define LOCKOUT_ARGS "p_max_failures => :_max_failures::int, p_lock_ms => :_lock_ms::bigint"

/* The steps of a login and of a password change run after the handler
 * has returned (its checked arguments are gone), so every value they send
 * is an extra (`:_x`) the op holds. */
static const char *const begin_extras[] = {"_login", "_ip", "_key", "_max_failures", "_lock_ms",
                                           NULL};
static mstmt st_login_begin = {
    .name = "session_login_begin", .sql =
    "SELECT o_user_id, o_role, o_hash, o_disabled, o_lock_secs, o_failures"
    "  FROM bb_login_begin(p_login => :_login::text, p_ip => :_ip::text,"
    "                      p_addr_key => :_key::text, " LOCKOUT_ARGS ")",
    .extras = begin_extras};

/* The User columns (NULL unless the outcome is ok), failures, outcome,
 * the kept session's expiry (NULL unless keep and ok). */
static const rp_col login_cols[] = {
    USER_WIRE_COLS, {"failures", RP_INT}, {"outcome", RP_TEXT}, {"token_expires_at", RP_TEXT},
    {"epoch", RP_INT},
};
#define LOGIN_NCOLS ((int)(sizeof login_cols / sizeof login_cols[0]))
/* _token_hash NULL: no token (keep not asked). */
static const char *const finish_extras[] = {"_login", "_user_id", "_ip", "_key", "_outcome",
                                            "_hash", "_max_failures", "_lock_ms",
                                            "_token_hash", "_ttl_s", "_max_tokens", NULL};
static mstmt st_login_finish = {
    .name = "session_login_finish", .sql =
    "SELECT (r.o_user).*, r.o_failures AS failures, r.o_outcome AS outcome,"
    "       r.o_token_expires_at AS token_expires_at,"
    /* The epoch of the row the login locked (sql/027; bb_user_epoch reads
     * it after the function, in the same transaction): a notification of
     * a higher one ends this session. */
    "       bb_user_epoch((r.o_user).id) AS epoch"
    "  FROM bb_login_finish_keep(p_login => :_login::text, p_user_id => :_user_id::bigint,"
    "                       p_ip => :_ip::text, p_addr_key => :_key::text,"
    "                       p_outcome => :_outcome::text, p_hash => :_hash::text,"
    "                       " LOCKOUT_ARGS ", p_token_hash => :_token_hash::bytea,"
    "                       p_ttl_s => :_ttl_s::bigint, p_max_tokens => :_max_tokens::int) AS r",
    .extras = finish_extras};

/* session.resume: one statement (sql/016 bb_session_resume). The User
 * columns (NULL unless ok), then what the server needs to answer. */
static const rp_col resume_cols[] = {
    USER_WIRE_COLS,        {"outcome", RP_TEXT},  {"lock_secs", RP_INT},
    {"failures", RP_INT},  {"token_id", RP_INT},  {"epoch", RP_INT},
    {"login_age_ms", RP_INT},
};
#define RESUME_NCOLS ((int)(sizeof resume_cols / sizeof resume_cols[0]))
static const char *const resume_extras[] = {"_token_hash", "_ip", "_key", "_ttl_s",
                                            "_max_failures", "_lock_ms", NULL};
static mstmt st_resume = {
    .name = "session_resume", .sql =
    "SELECT (r.o_user).*, r.o_outcome AS outcome, r.o_lock_secs AS lock_secs,"
    "       r.o_failures AS failures, r.o_token_id AS token_id,"
    /* The epoch (as for a login), and how long ago the password login
     * the token came from was: session_max_s counts from it. */
    "       bb_user_epoch((r.o_user).id) AS epoch,"
    "       (SELECT (extract(epoch FROM now() - t.created_at) * 1000)::bigint"
    "          FROM session_token t WHERE t.id = r.o_token_id) AS login_age_ms"
    "  FROM bb_session_resume(p_token_hash => :_token_hash::bytea, p_ip => :_ip::text,"
    "                         p_addr_key => :_key::text, p_ttl_s => :_ttl_s::bigint,"
    "                         " LOCKOUT_ARGS ") AS r",
    .cols = resume_cols, .ncols = RESUME_NCOLS, .extras = resume_extras};

/* session.logout {token}: ends it when it is a token of the caller. */
static const char *const token_end_extras[] = {"_token_hash", NULL};
static mstmt st_token_end = {
    .name = "session_token_end", .sql =
    "SELECT bb_session_token_end(p_actor => :_actor::bigint,"
    "                            p_token_hash => :_token_hash::bytea) AS ended",
    .extras = token_end_extras};

/* session.whoami: the session's user as the database has it now. When
 * that user is gone or disabled since the login, bb_actor raises BB401
 * (`unauthenticated`), and the method's row logs the connection out if it
 * is still that user. */
static mstmt st_whoami = {
    .name = "session_whoami", .sql =
    "SELECT w.* FROM bb_actor(p_actor => :_actor::bigint) u"
    " JOIN app_user_wire w ON w.id = u.id",
    .cols = user_wire_cols, .ncols = USER_WIRE_NCOLS};

static const char *const pw_extras[] = {"_user", "_max_failures", "_lock_ms", NULL};
static mstmt st_pw_begin = {
    .name = "session_pw_begin", .sql =
    "SELECT o_hash, o_lock_secs, o_failures"
    "  FROM bb_password_change_begin(p_actor => :_user::bigint, " LOCKOUT_ARGS ")",
    .extras = pw_extras};

static mstmt st_pw_failed = {
    .name = "session_pw_failed", .sql =
    "SELECT bb_password_change_failed(p_actor => :_user::bigint, " LOCKOUT_ARGS ")",
    .extras = pw_extras};

static const char *const store_extras[] = {"_user", "_peer", "_old_hash", "_hash", NULL};
static mstmt st_pw_store = {
    .name = "session_pw_store", .sql =
    /* The user's new epoch (sql/027) comes back: this connection keeps
     * its session under it (on_pw_stored). */
    "SELECT bb_user_epoch(:_user::bigint) AS epoch FROM (SELECT"
    " bb_session_change_password(p_actor => :_user::bigint, p_addr => :_peer::text,"
    " p_old_hash => :_old_hash::text, p_hash => :_hash::text) OFFSET 0) AS x",
    .extras = store_extras};


/* The throttle settings as the statements take them, and the kept
 * sessions' (session_token_ttl_s, SESSION_TOKENS_PER_USER). */
typedef struct throttle {
    char max_failures[SESSION_NUM_TEXT];
    char lock_ms[SESSION_NUM_TEXT];
    char ttl_s[SESSION_NUM_TEXT];
    char max_tokens[SESSION_NUM_TEXT];
} throttle;

static throttle throttle_of(const server *srv)
{
    throttle t;
    snprintf(t.max_failures, sizeof t.max_failures, "%u", srv->cfg.login_max_failures);
    snprintf(t.lock_ms, sizeof t.lock_ms, "%u", srv->cfg.login_lock_ms);
    snprintf(t.ttl_s, sizeof t.ttl_s, "%u", srv->cfg.session_token_ttl_s);
    snprintf(t.max_tokens, sizeof t.max_tokens, "%d", SESSION_TOKENS_PER_USER);
    return t;
}

/* The hash of token[0..len) as the statements take it: a bytea literal. */
static void token_hash_text(const char *token, size_t len, char out[SESSION_TOKEN_HASH_TEXT])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)token, len);
    out[0] = '\\';
    out[1] = 'x';
    sodium_bin2hex(out + 2, SESSION_TOKEN_HASH_TEXT - 2, h, sizeof h);
    sodium_memzero(h, sizeof h);
}

/* A new token and its hash. */
static void token_new(char token[SESSION_TOKEN_TEXT], char hash[SESSION_TOKEN_HASH_TEXT])
{
    unsigned char raw[SESSION_TOKEN_BYTES];
    randombytes_buf(raw, sizeof raw);
    memcpy(token, SESSION_TOKEN_PREFIX, SESSION_TOKEN_PREFIX_LEN);
    sodium_bin2base64(token + SESSION_TOKEN_PREFIX_LEN,
                      SESSION_TOKEN_TEXT - SESSION_TOKEN_PREFIX_LEN, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    token_hash_text(token, strlen(token), hash);
}

/*
 * The throttle key of an address: an IPv4 address as it is; an IPv6
 * address by its /64, the first four hextets ("2001:db8:1:2::/64"): one
 * host usually owns a whole /64 and could otherwise take a fresh address
 * for every guess; an IPv4-mapped IPv6 address as its IPv4. Anything that
 * does not parse is used as it is.
 */
static void addr_key(const char *ip, char *out, size_t cap)
{
    char tmp[SESSION_ADDR_TEXT];
    snprintf(tmp, sizeof tmp, "%s", ip);
    char *zone = strchr(tmp, '%');
    if (zone != NULL)
        *zone = '\0';
    struct in6_addr a6;
    if (strchr(tmp, ':') == NULL || inet_pton(AF_INET6, tmp, &a6) != 1) {
        snprintf(out, cap, "%s", ip);
        return;
    }
    const unsigned char *b = a6.s6_addr;
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, v4mapped, sizeof v4mapped) == 0) {
        snprintf(out, cap, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return;
    }
    snprintf(out, cap, "%x:%x:%x:%x::/64", (unsigned)(b[0] << 8 | b[1]),
             (unsigned)(b[2] << 8 | b[3]), (unsigned)(b[4] << 8 | b[5]),
             (unsigned)(b[6] << 8 | b[7]));
}

/* The delay of a failed attempt: login_delay_ms x failures (at least 1),
 * at most LOGIN_DELAY_MAX_MS, none once the server is shutting down. */
static uint64_t failure_delay_ms(const server *srv, int64_t failures)
{
    uint64_t delay = (uint64_t)srv->cfg.login_delay_ms * (uint64_t)(failures > 0 ? failures : 1);
    if (delay > LOGIN_DELAY_MAX_MS)
        delay = LOGIN_DELAY_MAX_MS;
    return srv->shutting_down ? 0 : delay;
}

/* Arms timer to answer a failed login or password change after its delay
 * (failure_delay_ms), with op as the timer's data. *started tells the
 * op's close that the timer exists. 0, or a uv error: nothing will fire,
 * the caller answers at once. */
static int start_failure_delay(server *srv, uv_timer_t *timer, bool *started, void *op,
                               uv_timer_cb cb, int64_t failures)
{
    int r = uv_timer_init(srv->loop, timer);
    if (r != 0)
        return r;
    *started = true;
    timer->data = op;
    return uv_timer_start(timer, cb, failure_delay_ms(srv, failures), 0);
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

static login_outcome outcome_from_name(const char *s)
{
    static const login_outcome all[] = {LO_OK, LO_UNKNOWN_USER, LO_BAD_PASSWORD, LO_DISABLED,
                                        LO_LOCKED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, outcome_name(all[i])) == 0)
            return all[i];
    return LO_NONE;
}

typedef struct login_op {
    request *req;                         /* answered exactly once */
    server *srv;                          /* borrowed */
    char login[SESSION_LOGIN_MAX + 1];
    char ip[SESSION_ADDR_TEXT];
    char key[SESSION_ADDR_TEXT];          /* the address's throttle key */
    char *password;                       /* owned; wiped and freed after the verify */
    size_t pwlen;
    char hash[crypto_pwhash_STRBYTES];    /* the stored hash ("" for an unknown login) */
    unsigned long long opslimit;          /* the dummy hash's cost */
    size_t memlimit;
    int64_t user_id;                      /* 0 when unknown */
    bool disabled;
    bool verified;                        /* set on the thread pool */
    int64_t lock_secs;
    uint64_t revoke_mark;                 /* session_revocation_mark() at the start */
    login_outcome outcome;
    bool keep;                            /* keep = true: token and token_hash set */
    char token[SESSION_TOKEN_TEXT];       /* wiped when the op is freed */
    char token_hash[SESSION_TOKEN_HASH_TEXT];
    uv_work_t work;
    uv_timer_t timer;
    bool timer_started;                   /* timer needs uv_close before free */
} login_op;

static void login_wipe_password(login_op *op)
{
    if (op->password != NULL) {
        sodium_memzero(op->password, op->pwlen);
        free(op->password);
        op->password = NULL;
    }
}

static void login_free_cb(uv_handle_t *h)
{
    login_op *op = h->data;
    free(op);
}

/* Frees op after its answer (op->req is gone by then). */
static void login_release(login_op *op)
{
    login_wipe_password(op);
    sodium_memzero(op->hash, sizeof op->hash);
    sodium_memzero(op->token, sizeof op->token);
    if (op->timer_started)
        uv_close((uv_handle_t *)&op->timer, login_free_cb);
    else
        free(op);
}

/* The event=login line. outcome: a login_event outcome, "refused" or
 * "unavailable"; failures < 0: not known; why: NULL or a static word. */
static void login_log_line(request *req, const char *login, int64_t user_id, const char *ip,
                           const char *outcome, int64_t failures, const char *why)
{
    char uid[SESSION_NUM_TEXT] = "-", nf[SESSION_NUM_TEXT] = "-";
    if (user_id != 0)
        snprintf(uid, sizeof uid, "%" PRId64, user_id);
    if (failures >= 0)
        snprintf(nf, sizeof nf, "%" PRId64, failures);
    log_req(strcmp(outcome, "ok") == 0 ? LOG_INFO : LOG_WARN, req_conn_id(req), req_msgid(req),
            "login", "login=%s user_id=%s addr=%s outcome=%s failures=%s why=%s", log_q(login),
            uid, log_q(ip), outcome, nf, why != NULL ? why : "-");
}

static void login_log(const login_op *op, const char *outcome, int64_t failures, const char *why)
{
    login_log_line(op->req, op->login, op->user_id, op->ip, outcome, failures, why);
}

/* Ends the password job and answers with an error; frees op. */
static void login_fail_with(login_op *op, bb_err code, const char *message)
{
    user_pw_job_end(op->req);
    req_reply_error(op->req, code, NULL, "%s", message);
    login_release(op);
}

/* A query failed: logged (outcome what, why=database), then answered. */
static void login_reply_pool_error(login_op *op, const char *stmt, const pool_error *e,
                                   const char *what)
{
    login_log(op, what, -1, e->err == BB_E_SHUTTING_DOWN ? "shutting_down" : "database");
    user_pw_job_end(op->req);
    rowpack_reply_pool_error(op->req, stmt, e);
    login_release(op);
}

static void login_reply_rc(login_op *op, const char *stmt, int rc, const char *what)
{
    login_log(op, what, -1, rc == -BB_E_SHUTTING_DOWN ? "shutting_down" : "database");
    user_pw_job_end(op->req);
    rowpack_reply_query_rc(op->req, stmt, rc);
    login_release(op);
}

static void login_reply_internal(login_op *op, const char *stmt, const char *why,
                                 const char *what)
{
    login_log(op, what, -1, "bad_result");
    user_pw_job_end(op->req);
    rowpack_reply_bad_result(op->req, stmt, why);
    login_release(op);
}

static void on_delay_done(uv_timer_t *t)
{
    login_op *op = t->data;
    login_fail_with(op, BB_E_LOGIN_FAILED, LOGIN_FAILED_MESSAGE);
}

/* A failure (recorded): answered later, the later the more failures. */
static void login_fail_later(login_op *op, int64_t failures)
{
    if (start_failure_delay(op->srv, &op->timer, &op->timer_started, op, on_delay_done,
                            failures) != 0)
        login_fail_with(op, BB_E_LOGIN_FAILED, LOGIN_FAILED_MESSAGE);
}

/*
 * Answers a login with keep: the User of row 0 (its USER_WIRE_NCOLS
 * columns), then `token` and `token_expires_at`. The User is packed by
 * rowpack into a scratch buffer and copied pair by pair into a map two
 * entries longer: rowpack packs whole rows only.
 */
static void reply_user_with_token(request *req, const PGresult *res, const char *token,
                                  const char *expires)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer tmp;
    msgpack_packer_init(&tmp, &sb, msgpack_sbuffer_write);
    rowpack_row(&tmp, res, 0, login_cols, USER_WIRE_NCOLS);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, sb.data, sb.size, NULL) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP) {
        msgpack_unpacked_destroy(&u);
        msgpack_sbuffer_destroy(&sb);
        rowpack_reply_bad_result(req, st_login_finish.name, "the User does not repack");
        return;
    }
    const msgpack_object_map *m = &u.data.via.map;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, m->size + 2);
    for (uint32_t i = 0; i < m->size; i++) {
        msgpack_pack_object(pk, m->ptr[i].key);
        msgpack_pack_object(pk, m->ptr[i].val);
    }
    rowpack_str(pk, "token");
    rowpack_str(pk, token);
    rowpack_str(pk, "token_expires_at");
    rowpack_str(pk, expires);
    req_result_end(req);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void on_login_finished(void *arg, const PGresult *res, const pool_error *e)
{
    login_op *op = arg;
    const char *what = outcome_name(op->outcome);
    if (e != NULL) {
        /* Not recorded: the failure counted by BEGIN stays counted. */
        login_reply_pool_error(op, st_login_finish.name, e,
                               op->outcome == LO_OK ? "unavailable" : what);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, login_cols, LOGIN_NCOLS, &why) != 0) {
        login_reply_internal(op, st_login_finish.name, why, what);
        return;
    }
    if (PQntuples(res) != 1 || PQgetisnull(res, 0, USER_WIRE_NCOLS) ||
        PQgetisnull(res, 0, USER_WIRE_NCOLS + 1)) {
        login_reply_internal(op, st_login_finish.name, "expected one row with an outcome", what);
        return;
    }
    int64_t failures = strtoll(PQgetvalue(res, 0, USER_WIRE_NCOLS), NULL, 10);
    /* The outcome recorded: an ok may have become a failure (the user was
     * disabled, or their password reset, while it was checked). */
    login_outcome recorded = outcome_from_name(PQgetvalue(res, 0, USER_WIRE_NCOLS + 1));
    op->outcome = recorded;
    if (recorded != LO_OK) {
        login_log(op, outcome_name(recorded), failures, NULL);
        login_fail_later(op, failures);
        return;
    }
    /* The session is made of the row the database just locked and read. */
    const char *role_s = PQgetisnull(res, 0, 3) ? "" : PQgetvalue(res, 0, 3);
    bb_role role = session_role_from_name(role_s, strlen(role_s));
    if (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) || role == BB_ROLE_NONE) {
        login_reply_internal(op, st_login_finish.name, "the User of an ok login is missing",
                             "unavailable");
        return;
    }
    int64_t uid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    int64_t epoch = PQgetisnull(res, 0, LOGIN_NCOLS - 1)
                        ? 0 : strtoll(PQgetvalue(res, 0, LOGIN_NCOLS - 1), NULL, 10);
    if (session_revoked_since(uid, epoch, op->revoke_mark)) {
        /* The user was changed (and their sessions revoked) while this was
         * checked, and that answer came back first: no session from
         * before it. Rare; logging in again works (if still allowed). */
        login_log(op, "refused", 0, "user_changed");
        login_fail_with(op, BB_E_LOGIN_FAILED, LOGIN_FAILED_MESSAGE);
        return;
    }
    const char *expires = PQgetisnull(res, 0, USER_WIRE_NCOLS + 2)
                              ? NULL : PQgetvalue(res, 0, USER_WIRE_NCOLS + 2);
    if (op->keep && expires == NULL) {
        login_reply_internal(op, st_login_finish.name, "no expiry for the kept session",
                             "unavailable");
        return;
    }
    login_log(op, "ok", failures, NULL);
    if (op->keep)
        log_req(LOG_INFO, req_conn_id(op->req), req_msgid(op->req), "session_kept",
                "user_id=%" PRId64 " addr=%s expires=%s", uid, log_q(op->ip), expires);
    /* A second login on a logged-in connection replaces the session. */
    user_pw_job_end(op->req);
    session_set(req_session_mut(op->req), uid, role, PQgetvalue(res, 0, 1));
    session_stamp(req_session_mut(op->req), epoch, 0, uv_now(op->srv->loop),
                  op->srv->cfg.session_max_s);
    /* Read before LISTEN (last) came up: checked again with the rest. */
    if (session_relistened_since(op->revoke_mark))
        nodes_recheck();
    if (op->keep)
        reply_user_with_token(op->req, res, op->token, expires);
    else {
        msgpack_packer *pk = req_result_begin(op->req);
        rowpack_row(pk, res, 0, login_cols, USER_WIRE_NCOLS);
        req_result_end(op->req);
    }
    login_release(op);
}

/* Step 3: records the outcome (op->outcome set). */
static void login_finish(login_op *op)
{
    const char *what = outcome_name(op->outcome);
    if (op->srv->pool == NULL) {
        login_log(op, op->outcome == LO_OK ? "unavailable" : what, -1, "shutting_down");
        login_fail_with(op, BB_E_SHUTTING_DOWN, "the server is shutting down");
        return;
    }
    char uid[SESSION_NUM_TEXT];
    snprintf(uid, sizeof uid, "%" PRId64, op->user_id);
    throttle t = throttle_of(op->srv);
    const char *extra[] = {op->login, op->user_id != 0 ? uid : NULL, op->ip, op->key, what,
                           op->outcome == LO_OK ? op->hash : NULL, t.max_failures, t.lock_ms,
                           op->keep ? op->token_hash : NULL, t.ttl_s, t.max_tokens};
    int rc = mstmt_send(op->req, &st_login_finish, NULL, extra, on_login_finished, op);
    if (rc < 0)
        login_reply_rc(op, st_login_finish.name, rc, op->outcome == LO_OK ? "unavailable" : what);
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
    login_wipe_password(op);
    if (status != 0) {
        /* The counted failure stays (nothing says the password was right). */
        login_log(op, "unavailable", -1, "check_cancelled");
        login_fail_with(op, BB_E_UNAVAILABLE, "the password check was cancelled");
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
    login_finish(op);
}

static void on_login_begun(void *arg, const PGresult *res, const pool_error *e)
{
    login_op *op = arg;
    if (e != NULL) {
        login_reply_pool_error(op, st_login_begin.name, e, "unavailable");
        return;
    }
    if (PQnfields(res) != 6 || PQntuples(res) != 1 || PQgetisnull(res, 0, 4) ||
        PQgetisnull(res, 0, 5)) {
        login_reply_internal(op, st_login_begin.name, "expected one row of 6 columns",
                             "unavailable");
        return;
    }
    op->lock_secs = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    if (!PQgetisnull(res, 0, 0)) {
        op->user_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        const char *role = PQgetvalue(res, 0, 1);
        op->disabled = PQgetvalue(res, 0, 3)[0] == 't';
        if (op->user_id <= 0 || session_role_from_name(role, strlen(role)) == BB_ROLE_NONE) {
            login_reply_internal(op, st_login_begin.name, "user row does not parse",
                                 "unavailable");
            return;
        }
    }
    if (op->lock_secs < 0) {
        /* Busy: as many checks of this account (or address) are running
         * as failures are left before its lock, so one more could outrun
         * the count. Not a failure and not a lock: retry in a moment. */
        op->outcome = LO_NONE;
        login_log(op, "refused", -1, "busy");
        user_pw_job_end(op->req);
        req_reply_error(op->req, BB_E_UNAVAILABLE, NULL,
                        "too many logins for this account or from this address are being "
                        "checked at once: retry in a moment");
        login_release(op);
        return;
    }
    if (op->lock_secs > 0) {
        /* Refused without checking the password (recorded by BEGIN): a
         * locked account must not be a free oracle for guesses. */
        op->outcome = LO_LOCKED;
        login_log(op, "locked", -1, NULL);
        user_pw_job_end(op->req);
        req_reply_error(op->req, BB_E_LOCKED, NULL,
                        "too many failed logins for this account or from this address: "
                        "try again in %" PRId64 " s",
                        op->lock_secs);
        login_release(op);
        return;
    }
    if (op->user_id != 0) {
        int hlen = PQgetisnull(res, 0, 2) ? 0 : PQgetlength(res, 0, 2);
        if (hlen <= 0 || (size_t)hlen >= sizeof op->hash) {
            login_reply_internal(op, st_login_begin.name, "password hash does not parse",
                                 "unavailable");
            return;
        }
        memcpy(op->hash, PQgetvalue(res, 0, 2), (size_t)hlen);
        op->hash[hlen] = '\0';
    }
    op->work.data = op;
    int r = uv_queue_work(op->srv->loop, &op->work, login_verify_work, login_verify_done);
    if (r != 0) {
        login_log(op, "unavailable", -1, "queue_failed");
        login_fail_with(op, BB_E_INTERNAL, "cannot queue the password check");
    }
}

static void session_login(request *req, const margs *a)
{
    const bb_val *login = margs_get(a, "login"), *password = margs_get(a, "password");
    server *srv = req_server(req);
    char login_z[SESSION_LOGIN_MAX + 1];
    memcpy(login_z, login->s, login->len);
    login_z[login->len] = '\0';
    if (srv->pool == NULL) {
        login_log_line(req, login_z, 0, req_peer_ip(req), "refused", -1, "shutting_down");
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    const char *busy = NULL;
    if (user_pw_job_begin(req, &busy) != 0) {
        login_log_line(req, login_z, 0, req_peer_ip(req), "refused", -1, busy);
        user_pw_job_refuse(req, busy);
        return;
    }
    login_op *op = calloc(1, sizeof *op);
    char *pw = malloc((size_t)password->len + 1);
    if (op == NULL || pw == NULL) {
        free(op);
        free(pw);
        login_log_line(req, login_z, 0, req_peer_ip(req), "unavailable", -1, "out_of_memory");
        user_pw_job_end(req);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    op->req = req;
    op->srv = srv;
    memcpy(op->login, login_z, sizeof op->login);
    snprintf(op->ip, sizeof op->ip, "%s", req_peer_ip(req));
    addr_key(op->ip, op->key, sizeof op->key);
    memcpy(pw, password->s, password->len);
    pw[password->len] = '\0';
    op->password = pw;
    op->pwlen = password->len;
    op->opslimit = srv->cfg.password_opslimit;
    op->memlimit = (size_t)srv->cfg.password_memlimit_kib * 1024u;
    op->revoke_mark = session_revocation_mark();
    op->keep = margs_int(a, "keep", 0) != 0;
    if (op->keep)
        token_new(op->token, op->token_hash);
    throttle t = throttle_of(srv);
    const char *extra[] = {op->login, op->ip, op->key, t.max_failures, t.lock_ms};
    int rc = mstmt_send(op->req, &st_login_begin, NULL, extra, on_login_begun, op);
    if (rc < 0)
        login_reply_rc(op, st_login_begin.name, rc, "unavailable");
}

/* ---- session.resume --------------------------------------------------
 *
 * One statement (bb_session_resume, sql/016): the address's throttle row
 * is claimed as for a login (a locked address: `locked` at once, whatever
 * the token), the token looked up by its hash, the attempt recorded
 * (login_event, via 'token'). A good token makes the session of its user
 * as the database has them now (role, login), as a login does; anything
 * else counts one failure on the address and is answered `unauthenticated`
 * after login_delay_ms x the address's failures: guessing tokens is no
 * faster than guessing passwords from one address, and the address is
 * locked after 4 x login_max_failures of either. Nothing is hashed, but a
 * resume holds a password-job slot (user_pw_job_begin) from its start to
 * its answer, delay included, like a login: one at a time per connection
 * and login_max_pending server-wide, so a client pipelining resumes cannot
 * fill the pool's queue or write login_event rows faster than logins
 * (review of issue 11). Every resume logs one event=resume line (outcome=
 * ok, bad_token, locked, refused, unavailable).
 * Ownership: the resume_op holds the token's hash (never the token) and
 * is freed by whoever answers (after its timer's close when it has one).
 */

typedef struct resume_op {
    request *req;
    server *srv;
    char ip[SESSION_ADDR_TEXT];
    char key[SESSION_ADDR_TEXT];
    char hash[SESSION_TOKEN_HASH_TEXT];
    uint64_t revoke_mark;                 /* session_revocation_mark() at the start */
    uv_timer_t timer;
    bool timer_started;
    bool job;                             /* holds a password-job slot */
} resume_op;

/* Gives the slot back; before any answer (the request goes with it). */
static void resume_job_end(resume_op *op)
{
    if (op->job) {
        op->job = false;
        user_pw_job_end(op->req);
    }
}

static void resume_free_cb(uv_handle_t *h)
{
    free(h->data);
}

static void resume_release(resume_op *op)
{
    if (op->timer_started)
        uv_close((uv_handle_t *)&op->timer, resume_free_cb);
    else
        free(op);
}

/* The event=resume line: outcome ok, bad_token, locked, refused or
 * unavailable; user_id 0 and failures < 0 when not known; why NULL or a
 * static word. */
static void resume_log(const resume_op *op, int64_t user_id, int64_t token_id,
                       const char *outcome, int64_t failures, const char *why)
{
    char uid[SESSION_NUM_TEXT] = "-", tid[SESSION_NUM_TEXT] = "-", nf[SESSION_NUM_TEXT] = "-";
    if (user_id != 0)
        snprintf(uid, sizeof uid, "%" PRId64, user_id);
    if (token_id != 0)
        snprintf(tid, sizeof tid, "%" PRId64, token_id);
    if (failures >= 0)
        snprintf(nf, sizeof nf, "%" PRId64, failures);
    log_req(strcmp(outcome, "ok") == 0 ? LOG_INFO : LOG_WARN, req_conn_id(op->req),
            req_msgid(op->req), "resume",
            "user_id=%s token_id=%s addr=%s outcome=%s failures=%s why=%s", uid, tid,
            log_q(op->ip), outcome, nf, why != NULL ? why : "-");
}

static void resume_fail_with(resume_op *op, bb_err code, const char *message)
{
    resume_job_end(op);
    req_reply_error(op->req, code, NULL, "%s", message);
    resume_release(op);
}

static void on_resume_delay_done(uv_timer_t *t)
{
    resume_fail_with(t->data, BB_E_UNAUTHENTICATED, RESUME_FAILED_MESSAGE);
}

static int64_t cell_int(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? 0 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static void on_resumed(request *req, const PGresult *res, void *arg)
{
    resume_op *op = arg;
    (void)req;
    const char *why = NULL;
    if (rowpack_check(res, resume_cols, RESUME_NCOLS, &why) != 0 || PQntuples(res) != 1 ||
        PQgetisnull(res, 0, USER_WIRE_NCOLS)) {
        resume_log(op, 0, 0, "unavailable", -1, "bad_result");
        resume_job_end(op);
        rowpack_reply_bad_result(op->req, st_resume.name,
                                 why != NULL ? why : "expected one row with an outcome");
        resume_release(op);
        return;
    }
    const char *outcome = PQgetvalue(res, 0, USER_WIRE_NCOLS);
    int64_t lock_secs = cell_int(res, USER_WIRE_NCOLS + 1);
    int64_t failures = cell_int(res, USER_WIRE_NCOLS + 2);
    int64_t token_id = cell_int(res, USER_WIRE_NCOLS + 3);
    if (strcmp(outcome, "locked") == 0) {
        resume_log(op, 0, 0, "locked", -1, NULL);
        resume_job_end(op);
        req_reply_error(op->req, BB_E_LOCKED, NULL,
                        "too many failed logins from this address: try again in %" PRId64 " s",
                        lock_secs);
        resume_release(op);
        return;
    }
    if (strcmp(outcome, "ok") != 0) {
        resume_log(op, cell_int(res, 0), 0, "bad_token", failures, NULL);
        if (start_failure_delay(op->srv, &op->timer, &op->timer_started, op,
                                on_resume_delay_done, failures) != 0)
            resume_fail_with(op, BB_E_UNAUTHENTICATED, RESUME_FAILED_MESSAGE);
        return;
    }
    const char *role_s = PQgetisnull(res, 0, 3) ? "" : PQgetvalue(res, 0, 3);
    bb_role role = session_role_from_name(role_s, strlen(role_s));
    int64_t uid = cell_int(res, 0);
    if (uid <= 0 || PQgetisnull(res, 0, 1) || role == BB_ROLE_NONE) {
        resume_log(op, 0, token_id, "unavailable", -1, "bad_result");
        resume_job_end(op);
        rowpack_reply_bad_result(op->req, st_resume.name, "the User of an ok resume is missing");
        resume_release(op);
        return;
    }
    int64_t epoch = cell_int(res, RESUME_NCOLS - 2);
    int64_t age_ms = cell_int(res, RESUME_NCOLS - 1);
    unsigned max_s = op->srv->cfg.session_max_s;
    if (max_s > 0 && age_ms >= (int64_t)max_s * 1000) {
        /* The password login the token came from is older than
         * session_max_s: the session it would give has ended already.
         * (The database refuses such a token already, session_resume
         * above; this holds between its check and now.) */
        resume_log(op, uid, token_id, "refused", -1, "max_lifetime");
        resume_fail_with(op, BB_E_UNAUTHENTICATED, RESUME_FAILED_MESSAGE);
        return;
    }
    if (session_revoked_since(uid, epoch, op->revoke_mark)) {
        /* As for a login: the user was changed (and their sessions logged
         * out) while this ran, and that came back first. */
        resume_log(op, uid, token_id, "refused", -1, "user_changed");
        resume_fail_with(op, BB_E_UNAUTHENTICATED,
                         "the user was changed while the session was resumed: resume or log "
                         "in again");
        return;
    }
    resume_log(op, uid, token_id, "ok", -1, NULL);
    resume_job_end(op);
    /* A resume on a logged-in connection replaces its session. */
    session_set(req_session_mut(op->req), uid, role, PQgetvalue(res, 0, 1));
    session_stamp(req_session_mut(op->req), epoch, age_ms > 0 ? (uint64_t)age_ms : 0,
                  uv_now(op->srv->loop), max_s);
    if (session_relistened_since(op->revoke_mark))
        nodes_recheck(); /* as for a login */
    msgpack_packer *pk = req_result_begin(op->req);
    rowpack_row(pk, res, 0, resume_cols, USER_WIRE_NCOLS);
    req_result_end(op->req);
    resume_release(op);
}

/* The pool's callback (mstmt_send: the slot must be given back before
 * the error is answered). */
static void on_resume_result(void *arg, const PGresult *res, const pool_error *e)
{
    resume_op *op = arg;
    if (e == NULL) {
        on_resumed(op->req, res, op);
        return;
    }
    resume_log(op, 0, 0, "unavailable", -1,
               e->err == BB_E_SHUTTING_DOWN ? "shutting_down" : "database");
    resume_job_end(op);
    rowpack_reply_pool_error(op->req, st_resume.name, e);
    resume_release(op);
}

static void session_resume(request *req, const margs *a)
{
    const bb_val *token = margs_get(a, "token");
    server *srv = req_server(req);
    resume_op *op = req_alloc(req, sizeof *op);
    if (op == NULL)
        return;
    op->req = req;
    op->srv = srv;
    snprintf(op->ip, sizeof op->ip, "%s", req_peer_ip(req));
    addr_key(op->ip, op->key, sizeof op->key);
    token_hash_text(token->s, token->len, op->hash);
    op->revoke_mark = session_revocation_mark();
    if (srv->pool == NULL) {
        resume_log(op, 0, 0, "refused", -1, "shutting_down");
        resume_fail_with(op, BB_E_SHUTTING_DOWN, "the server is shutting down");
        return;
    }
    const char *busy = NULL;
    if (user_pw_job_begin(req, &busy) != 0) {
        resume_log(op, 0, 0, "refused", -1, busy);
        user_pw_job_refuse(req, busy);
        free(op);
        return;
    }
    op->job = true;
    throttle t = throttle_of(srv);
    /* A token whose password login is older than session_max_s gives a
     * session that has ended already: the database treats it as expired
     * (deleted, recorded bad_token) rather than resuming it. */
    unsigned max_s = srv->cfg.session_max_s;
    if (max_s > 0 && max_s < srv->cfg.session_token_ttl_s)
        snprintf(t.ttl_s, sizeof t.ttl_s, "%u", max_s);
    const char *extra[] = {op->hash, op->ip, op->key, t.ttl_s, t.max_failures, t.lock_ms};
    int rc = mstmt_send(req, &st_resume, NULL, extra, on_resume_result, op);
    if (rc < 0) {
        resume_log(op, 0, 0, "unavailable", -1,
                   rc == -BB_E_SHUTTING_DOWN ? "shutting_down" : "database");
        resume_job_end(op);
        rowpack_reply_query_rc(req, st_resume.name, rc);
        resume_release(op);
    }
}

/* ---- session.logout ----------------------------------------------------
 * Without `token`: the session ends at once (nothing in the database).
 * With it: the token is ended first (bb_session_token_end: only a token
 * of the caller; any other value ends nothing and is not told apart),
 * then the session; if the database cannot be reached the answer is its
 * error and the session stays, so the client can try again. */

static void logout_now(request *req, const char *token_state)
{
    session *ss = req_session_mut(req);
    log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "logout",
            "login=%s user_id=%s addr=%s token=%s", log_q(ss->login), ss->actor,
            log_q(req_peer_ip(req)), token_state);
    session_clear(ss);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_true(pk);
    req_result_end(req);
}

/* ctx: the caller's user id when the request came. */
static void on_token_ended(request *req, const PGresult *res, void *ctx)
{
    int64_t actor = *(int64_t *)ctx;
    free(ctx);
    bool ended = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 0)[0] == 't';
    /* Pipelined after another login: only the session that asked ends. */
    if (req_session(req)->user_id != actor) {
        log_req(LOG_INFO, req_conn_id(req), req_msgid(req), "logout",
                "user_id=%" PRId64 " token=%s session=changed_meanwhile", actor,
                ended ? "ended" : "not_found");
        msgpack_packer *pk = req_result_begin(req);
        msgpack_pack_true(pk);
        req_result_end(req);
        return;
    }
    logout_now(req, ended ? "ended" : "not_found");
}

static void session_logout(request *req, const margs *a)
{
    const bb_val *token = margs_get(a, "token");
    if (token->state != BB_V_SET) {
        logout_now(req, "none");
        return;
    }
    int64_t *actor = req_alloc(req, sizeof *actor);
    if (actor == NULL)
        return;
    *actor = req_session(req)->user_id;
    char hash[SESSION_TOKEN_HASH_TEXT];
    token_hash_text(token->s, token->len, hash);
    const char *extra[] = {hash};
    mstmt_query(req, &st_token_end, NULL, extra, on_token_ended, actor, free);
}

/* ---- session.change_password ----------------------------------------
 *
 * Like a login, in steps: BEGIN (bb_password_change_begin: the caller,
 * their hash, and the claim of the attempt on the account's throttle row;
 * a locked account is answered `locked` without any check), VERIFY the
 * old password and HASH the new one (one trip to the thread pool), then
 * either STORE (over the hash that was checked, else version_conflict) or,
 * for a wrong old password, FAILED (the failure stays counted and may lock
 * the account) and the answer after login_delay_ms x failures.
 * Ownership: the pw_op owns the two passwords (wiped and freed after the
 * thread pool) and both hashes; it is freed by whoever answers. It holds
 * the requester's user id: the connection's session may change (logout,
 * another login) before the answer, and the revocation after the change is
 * about the user who asked, not whoever the connection is by then. A
 * password change is a password job (user.h) from BEGIN to its answer.
 */

typedef struct pw_op {
    request *req;
    server *srv;
    int64_t user_id;                       /* the requester */
    char actor[SESSION_NUM_TEXT];          /* user_id as text */
    char addr[80];
    char *old_pw, *new_pw;                 /* owned; wiped after the work */
    size_t old_len, new_len;
    char old_hash[crypto_pwhash_STRBYTES]; /* stored: what old_pw is checked against */
    char new_hash[crypto_pwhash_STRBYTES];
    unsigned long long opslimit;
    size_t memlimit;
    bool verified, hashed;                 /* set on the thread pool */
    uv_work_t work;
    uv_timer_t timer;
    bool timer_started;
} pw_op;

static void pw_wipe_passwords(pw_op *op)
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
}

static void pw_free_cb(uv_handle_t *h)
{
    free(h->data);
}

/* Frees op after its answer (op->req is gone by then: pw_end came first). */
static void pw_release(pw_op *op)
{
    pw_wipe_passwords(op);
    sodium_memzero(op->old_hash, sizeof op->old_hash);
    sodium_memzero(op->new_hash, sizeof op->new_hash);
    if (op->timer_started)
        uv_close((uv_handle_t *)&op->timer, pw_free_cb);
    else
        free(op);
}

static void pw_log(const pw_op *op, const char *outcome, int64_t failures)
{
    log_req(strcmp(outcome, "ok") == 0 ? LOG_INFO : LOG_WARN, req_conn_id(op->req),
            req_msgid(op->req), "password_change",
            "user_id=%s addr=%s outcome=%s failures=%" PRId64, op->actor, log_q(op->addr), outcome,
            failures);
}

/* The password job ends: call right before answering. */
static void pw_end(pw_op *op)
{
    user_pw_job_end(op->req);
}

/* Answers an error and frees op. */
static void pw_reply_error(pw_op *op, bb_err code, const char *field, const char *message)
{
    pw_end(op);
    req_reply_error(op->req, code, field, "%s", message);
    pw_release(op);
}

static void pw_reply_pool_error(pw_op *op, const char *stmt, const pool_error *e)
{
    pw_end(op);
    user_reply_pool_error(op->req, stmt, e, op->user_id);
    pw_release(op);
}

static void pw_reply_rc(pw_op *op, const char *stmt, int rc)
{
    pw_end(op);
    rowpack_reply_query_rc(op->req, stmt, rc);
    pw_release(op);
}

static void pw_reply_bad_result(pw_op *op, const char *stmt, const char *why)
{
    pw_end(op);
    rowpack_reply_bad_result(op->req, stmt, why);
    pw_release(op);
}

static void pw_reply_wrong_old(pw_op *op)
{
    pw_reply_error(op, BB_E_INVALID_ARGUMENT, "old_password",
                   "old_password: not the current password");
}

static void on_pw_delay_done(uv_timer_t *t)
{
    pw_reply_wrong_old(t->data);
}

static void on_pw_failed(void *arg, const PGresult *res, const pool_error *e)
{
    pw_op *op = arg;
    if (e != NULL) {
        pw_reply_pool_error(op, st_pw_failed.name, e);
        return;
    }
    int64_t failures = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                           ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
                           : 1;
    pw_log(op, "bad_password", failures);
    if (start_failure_delay(op->srv, &op->timer, &op->timer_started, op, on_pw_delay_done,
                            failures) != 0)
        pw_reply_wrong_old(op);
}

/* The answer of a stored change, once every process applied it. */
static void pw_answer(void *arg)
{
    pw_op *op = arg;
    msgpack_packer *pk = req_result_begin(op->req);
    msgpack_pack_true(pk);
    req_result_end(op->req);
    pw_release(op);
}

static void on_pw_stored(void *arg, const PGresult *res, const pool_error *e)
{
    pw_op *op = arg;
    if (e != NULL) {
        (void)session_release(req_session_mut(op->req), op->user_id, 0);
        if (e->err == BB_E_VERSION_CONFLICT)
            pw_log(op, "changed_meanwhile", 0);
        pw_reply_pool_error(op, st_pw_store.name, e);
        return;
    }
    pw_log(op, "ok", 0);
    /* Whoever else is logged in as this user (another device, or someone
     * who learnt the old password) must log in with the new one. This
     * connection keeps its session only if it is still the user who asked
     * (a logout or another login may have come in meanwhile). */
    const session *own = req_session(op->req);
    (void)session_revoke_user(op->user_id, own->user_id == op->user_id ? own : NULL,
                              "password_changed");
    (void)session_release(req_session_mut(op->req), op->user_id,
                          PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                              ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0);
    pw_end(op);
    /* Answered once every other process logged the user out too. */
    user_after_change(op->req, op->user_id, pw_answer, op);
}

/* Thread pool: touches nothing but op. */
static void pw_work(uv_work_t *w)
{
    pw_op *op = w->data;
    op->verified = crypto_pwhash_str_verify(op->old_hash, op->old_pw, op->old_len) == 0;
    if (op->verified)
        op->hashed = crypto_pwhash_str(op->new_hash, op->new_pw, op->new_len, op->opslimit,
                                       op->memlimit) == 0;
}

static void pw_work_done(uv_work_t *w, int status)
{
    pw_op *op = w->data;
    pw_wipe_passwords(op);
    if (op->srv->pool == NULL) {
        pw_reply_error(op, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    if (status != 0 || (op->verified && !op->hashed)) {
        pw_reply_error(op, BB_E_INTERNAL, NULL,
                       status != 0 ? "the password check was cancelled"
                                   : "cannot hash the new password");
        return;
    }
    int rc;
    const char *name;
    if (!op->verified) {
        throttle t = throttle_of(op->srv);
        const char *extra[] = {op->actor, t.max_failures, t.lock_ms};
        name = st_pw_failed.name;
        rc = mstmt_send(op->req, &st_pw_failed, NULL, extra, on_pw_failed, op);
    } else {
        const char *extra[] = {op->actor, op->addr, op->old_hash, op->new_hash};
        name = st_pw_store.name;
        /* Its notification may come before its result (session.h). */
        session *own = req_session_mut(op->req);
        if (own->user_id == op->user_id)
            session_hold(own);
        rc = mstmt_send(op->req, &st_pw_store, NULL, extra, on_pw_stored, op);
        if (rc < 0)
            (void)session_release(own, op->user_id, 0);
    }
    if (rc < 0)
        pw_reply_rc(op, name, rc);
}

static void on_pw_begun(void *arg, const PGresult *res, const pool_error *e)
{
    pw_op *op = arg;
    if (e != NULL) {
        pw_reply_pool_error(op, st_pw_begin.name, e);
        return;
    }
    if (PQnfields(res) != 3 || PQntuples(res) != 1 || PQgetisnull(res, 0, 1)) {
        pw_reply_bad_result(op, st_pw_begin.name, "expected one row of 3 columns");
        return;
    }
    int64_t lock_secs = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    if (lock_secs < 0) {
        pw_log(op, "refused", 0);
        pw_end(op);
        req_reply_error(op->req, BB_E_UNAVAILABLE, NULL,
                        "other password checks of this account are running: retry in a moment");
        pw_release(op);
        return;
    }
    if (lock_secs > 0) {
        pw_log(op, "locked", 0);
        pw_end(op);
        req_reply_error(op->req, BB_E_LOCKED, NULL,
                        "too many failed logins or password checks for this account: "
                        "try again in %" PRId64 " s",
                        lock_secs);
        pw_release(op);
        return;
    }
    int hlen = PQgetisnull(res, 0, 0) ? 0 : PQgetlength(res, 0, 0);
    if (hlen <= 0 || (size_t)hlen >= sizeof op->old_hash) {
        pw_reply_bad_result(op, st_pw_begin.name, "password hash does not parse");
        return;
    }
    memcpy(op->old_hash, PQgetvalue(res, 0, 0), (size_t)hlen);
    op->old_hash[hlen] = '\0';
    op->work.data = op;
    if (uv_queue_work(op->srv->loop, &op->work, pw_work, pw_work_done) != 0)
        pw_reply_error(op, BB_E_INTERNAL, NULL, "cannot queue the password check");
}

static void session_change_password(request *req, const margs *a)
{
    const bb_val *oldp = margs_get(a, "old_password"), *newp = margs_get(a, "new_password");
    server *srv = req_server(req);
    if (srv->pool == NULL) {
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    }
    const char *busy = NULL;
    if (user_pw_job_begin(req, &busy) != 0) {
        log_req(LOG_WARN, req_conn_id(req), req_msgid(req), "password_change",
                "user_id=%s addr=%s outcome=refused why=%s", req_session(req)->actor,
                log_q(req_peer(req)), busy);
        user_pw_job_refuse(req, busy);
        return;
    }
    pw_op *op = calloc(1, sizeof *op);
    char *o = malloc((size_t)oldp->len + 1), *n = malloc((size_t)newp->len + 1);
    if (op == NULL || o == NULL || n == NULL) {
        free(op);
        free(o);
        free(n);
        user_pw_job_end(req);
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    op->req = req;
    op->srv = srv;
    op->user_id = req_session(req)->user_id;
    snprintf(op->actor, sizeof op->actor, "%" PRId64, op->user_id);
    snprintf(op->addr, sizeof op->addr, "%s", req_peer(req));
    memcpy(o, oldp->s, oldp->len);
    o[oldp->len] = '\0';
    memcpy(n, newp->s, newp->len);
    n[newp->len] = '\0';
    op->old_pw = o;
    op->old_len = oldp->len;
    op->new_pw = n;
    op->new_len = newp->len;
    op->opslimit = srv->cfg.password_opslimit;
    op->memlimit = (size_t)srv->cfg.password_memlimit_kib * 1024u;
    throttle t = throttle_of(srv);
    const char *extra[] = {op->actor, t.max_failures, t.lock_ms};
    int rc = mstmt_send(op->req, &st_pw_begin, NULL, extra, on_pw_begun, op);
    if (rc < 0)
        pw_reply_rc(op, st_pw_begin.name, rc);
}

static const method_impl session_methods[] = {
    {"session.login", .fn = session_login},
    {"session.resume", .fn = session_resume},
    {"session.logout", .fn = session_logout},
    {"session.whoami", .stmt = &st_whoami, .reply = MR_ROW, .logout_on_unauthenticated = true},
    {"session.change_password", .fn = session_change_password, .logout_on_unauthenticated = true},
    {NULL},
};

static mstmt *const session_stmts[] = {
    &st_login_begin, &st_login_finish, &st_pw_begin, &st_pw_failed, &st_pw_store,
    &st_resume,      &st_token_end,    NULL,
};

const method_module session_module = {
    .name = "session",
    .methods = session_methods,
    .stmts = session_stmts,
};
