/*
 * test_session_token.c: kept sessions (issue 11): session.login with
 * keep, session.resume, session.logout with a token, through raw calls
 * and through the `baobao` command (login keeps the session in a private
 * file, later commands need no password, logout ends it).
 *
 * The token's whole life: issued (random, stored only as its SHA-256),
 * resumed as the user is now, expired (a short session_token_ttl_s, also
 * for a token issued under a longer one), ended by logout, by a password
 * change on another connection, by an admin's set_password, by a
 * disable, by a role change and by a change of townships (not by a
 * display name change), bounded per user; a forged token refused and
 * counted against the address like a failed login, answered after the
 * login delay, and a locked address refused without the token being
 * looked up. The CLI: login on a real pseudo-terminal, the file's
 * modes, a second command with no password anywhere, a file others could
 * read (or another user's, or a symbolic link) refused, the fallback to
 * the password when the server ended the session, logout, passwd keeping
 * the session, expiry, and a new password asked with nothing before it
 * (user create, and `baobao call` of a method with a password).
 *
 * Not for: password logins and their throttle (test_accounts.c) or the
 * rest of the CLI (test_cli.c).
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 30000
/* SESSION_TOKENS_PER_USER (server/methods/login.c). */
#define TOKENS_PER_USER 20
/* A token as the server makes them: "bbt1_" and 43 base64url characters. */
#define TOKEN_LEN 48

static uint32_t g_msgid = 1000;
static char g_server[64];

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return 0;
}

/* A failed resume counts against 127.0.0.1: tests start from zero. */
static int forget_failures(void)
{
    IT_CHECK(it_pg_exec("DELETE FROM login_throttle", 0, NULL) == 0);
    return 0;
}

/* A user of role with IT_PASSWORD (the hash of the harness's users),
 * made in the database, with township when it is not NULL. Returns the
 * id or -1. */
static int64_t make_user(const char *login, const char *role, const char *township)
{
    const char *p[4] = {login, role, township};
    if (it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role, password_hash)"
                   " SELECT $1, '令牌测试', $2, password_hash FROM app_user"
                   "  WHERE login = 'it_staff' RETURNING id)"
                   " INSERT INTO app_user_township (user_id, township_id)"
                   " SELECT u.id, t.id FROM u JOIN township t ON t.name = $3",
                   3, p) != 0)
        return -1;
    return it_user_id(login);
}

static long long count_tokens(const char *login)
{
    const char *p[1] = {login};
    return it_pg_int("SELECT count(*) FROM session_token t JOIN app_user u ON u.id = t.user_id"
                     " WHERE u.login = $1", 1, p);
}

/* ---- raw calls ---- */

/* session.login of login with keep; the token (TOKEN_LEN characters) to
 * token. Returns the connection, logged in, or NULL. */
static it_conn *login_keep(int port, const char *login, const char *password,
                           char token[TOKEN_LEN + 8])
{
    it_conn *c = it_connect_anon(port);
    if (c == NULL)
        return NULL;
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.login", 3);
    it_kv_str(&b, "login", login);
    it_kv_str(&b, "password", password);
    it_str(&b, "keep");
    msgpack_pack_true(&b.pk);
    it_msg m;
    int rc = it_buf_ok(c, &b, g_msgid, &m);
    it_buf_free(&b);
    if (rc != 0)
        return NULL;
    bool ok = it_get_str(m.result, "token", token, TOKEN_LEN + 8) &&
              it_get_str_eq(m.result, "login", login) &&
              it_map_get(m.result, "token_expires_at") != NULL;
    if (!ok)
        it_note("session.login with keep: no token, expiry or login in the result");
    it_msg_free(&m);
    return ok ? c : NULL;
}

/* A kept session of login: its token to token (the connection that
 * logged in closed). 0 or -1. */
static int keep_token(int port, const char *login, const char *password,
                      char token[TOKEN_LEN + 8])
{
    it_conn *c = login_keep(port, login, password, token);
    IT_CHECK(c != NULL);
    it_close(c);
    return 0;
}

/* A new user (make_user) with a kept session on the shared server: its
 * token to token. Returns the user id or -1. */
static int64_t user_with_token(const char *login, const char *role, const char *township,
                               char token[TOKEN_LEN + 8])
{
    it_server *s = it_shared_server();
    int64_t id = s != NULL ? make_user(login, role, township) : -1;
    if (id <= 0 || keep_token(s->port, login, IT_PASSWORD, token) != 0)
        return -1;
    return id;
}

/* Sends session.resume with token on a new connection; the reply to m
 * (freed by the caller). Returns the connection or NULL. */
static it_conn *resume(int port, const char *token, it_msg *m)
{
    it_conn *c = it_connect_anon(port);
    if (c == NULL)
        return NULL;
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.resume", 1);
    it_kv_str(&b, "token", token);
    int rc = it_buf_call(c, &b, g_msgid, m);
    it_buf_free(&b);
    return rc == 0 ? c : NULL;
}

/* session.whoami on c answers the User login, or (login NULL) is
 * unauthenticated. */
static int expect_whoami(it_conn *c, const char *login)
{
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.whoami", IT_NO_ARGS);
    if (login == NULL) {
        IT_CHECK(it_buf_err(c, &b, g_msgid, "unauthenticated", "") == 0);
    } else {
        it_msg m;
        IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
        bool same = it_get_str_eq(m.result, "login", login);
        it_msg_free(&m);
        IT_CHECKF(same, "whoami is not %s", login);
    }
    it_buf_free(&b);
    return 0;
}

/* A resume with token logs in as login (and the connection is that user). */
static int expect_resumed(int port, const char *token, const char *login)
{
    it_msg m;
    it_conn *c = resume(port, token, &m);
    IT_CHECK(c != NULL);
    char d[800];
    IT_CHECKF(!m.is_error && it_get_str_eq(m.result, "login", login), "resume: %s",
              it_describe(&m, d, sizeof d));
    IT_CHECKF(it_map_get(m.result, "token") == NULL, "a resume hands out no token");
    it_msg_free(&m);
    IT_CHECK(expect_whoami(c, login) == 0);
    it_close(c);
    return 0;
}

/* A resume with token is unauthenticated, and leaves the connection
 * without a session. */
static int expect_refused(int port, const char *token)
{
    it_msg m;
    it_conn *c = resume(port, token, &m);
    IT_CHECK(c != NULL);
    char d[800];
    IT_CHECKF(m.is_error && strcmp(m.code, "unauthenticated") == 0, "resume: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(expect_whoami(c, NULL) == 0);
    it_close(c);
    return 0;
}

/* An admin's user.update of user id, in two halves: begin packs id and
 * the version read from the database (the caller packs nextra more
 * entries), send calls it on a new admin connection and expects a
 * result. */
static int admin_update_begin(it_buf *b, int64_t id, size_t nextra)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[1] = {ids};
    long long version = it_pg_int("SELECT version FROM app_user WHERE id = $1::bigint", 1, p);
    IT_CHECK(version > 0);
    it_req(b, ++g_msgid, "user.update", 2 + nextra);
    it_kv_int(b, "id", id);
    it_kv_int(b, "version", version);
    return 0;
}

static int admin_update_send(it_buf *b)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(admin != NULL);
    it_msg m;
    IT_CHECK(it_buf_ok(admin, b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_close(admin);
    return 0;
}

static int keep_returns_a_token_stored_only_as_its_hash(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(make_user("tok_hash", "supervisor", NULL) > 0);
    char token[TOKEN_LEN + 8];
    it_conn *c = login_keep(s->port, "tok_hash", IT_PASSWORD, token);
    IT_CHECK(c != NULL);
    IT_CHECKF(strlen(token) == TOKEN_LEN && strncmp(token, "bbt1_", 5) == 0 &&
                  strspn(token + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "0123456789-_") == TOKEN_LEN - 5,
              "token %s", token);
    /* The database has its SHA-256 and nothing else of it. */
    const char *p[1] = {token};
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token WHERE token_hash = sha256($1::bytea)",
                       1, p) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token t"
                       " WHERE position($1 IN t::text) > 0", 1, p) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token t JOIN app_user u ON u.id = t.user_id"
                       " WHERE u.login = 'tok_hash' AND t.addr = '127.0.0.1'"
                       " AND t.expires_at BETWEEN now() + interval '7 days' - interval '1 hour'"
                       "                       AND now() + interval '7 days' + interval '1 hour'",
                       0, NULL) == 1);
    /* The connection that logged in is logged in, as a login's is. */
    IT_CHECK(expect_whoami(c, "tok_hash") == 0);
    it_close(c);
    /* Two logins, two different tokens. */
    char token2[TOKEN_LEN + 8];
    c = login_keep(s->port, "tok_hash", IT_PASSWORD, token2);
    IT_CHECK(c != NULL);
    IT_CHECK(strcmp(token, token2) != 0);
    it_close(c);
    /* Never in the server's log. */
    IT_CHECK(!it_server_log_has(s, token) && !it_server_log_has(s, token2));
    IT_CHECK(it_server_log_has(s, "event=session_kept"));
    return 0;
}

static int login_without_keep_gives_no_token(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(make_user("tok_nokeep", "supervisor", NULL) > 0);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.login", 3);
    it_kv_str(&b, "login", "tok_nokeep");
    it_kv_str(&b, "password", IT_PASSWORD);
    it_str(&b, "keep");
    msgpack_pack_false(&b.pk);
    it_msg m;
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    IT_CHECK(it_map_get(m.result, "token") == NULL);
    IT_CHECK(it_map_get(m.result, "token_expires_at") == NULL);
    it_msg_free(&m);
    IT_CHECK(count_tokens("tok_nokeep") == 0);
    /* A failed login with keep issues nothing either. */
    it_req(&b, ++g_msgid, "session.login", 3);
    it_kv_str(&b, "login", "tok_nokeep");
    it_kv_str(&b, "password", "not-the-password");
    it_str(&b, "keep");
    msgpack_pack_true(&b.pk);
    IT_CHECK(it_buf_err(c, &b, g_msgid, "login_failed", "") == 0);
    it_buf_free(&b);
    IT_CHECK(count_tokens("tok_nokeep") == 0);
    return forget_failures();
}

static int resume_logs_in_as_the_user_is_now(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    IT_CHECK(user_with_token("tok_resume", "township_staff", "赵李桥镇", token) > 0);
    it_msg m;
    it_conn *c = resume(s->port, token, &m);
    IT_CHECK(c != NULL && !m.is_error);
    IT_CHECK(it_get_str_eq(m.result, "role", "township_staff"));
    IT_CHECK(it_get_str_eq(m.result, "display_name", "令牌测试"));
    it_msg_free(&m);
    /* The session is a township staff user's: a supervisor's method is
     * forbidden, their own ones work. */
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "audit.list", IT_NO_ARGS);
    IT_CHECK(it_buf_err(c, &b, g_msgid, "forbidden", "") == 0);
    it_req(&b, ++g_msgid, "enterprise.list", IT_NO_ARGS);
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    /* The token is good again and again, and each use is recorded. */
    IT_CHECK(expect_resumed(s->port, token, "tok_resume") == 0);
    const char *p[1] = {token};
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_resume'"
                       " AND via = 'token' AND outcome = 'ok'", 0, NULL) == 2);
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token WHERE token_hash = sha256($1::bytea)"
                       " AND last_used_at IS NOT NULL AND last_addr = '127.0.0.1'", 1, p) == 1);
    IT_CHECK(it_server_log_has(s, "event=resume"));
    return 0;
}

static int forged_token_is_refused_like_a_failed_login(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(forget_failures() == 0);
    long long before = it_pg_int("SELECT count(*) FROM login_event WHERE via = 'token'"
                                 " AND outcome = 'bad_token'", 0, NULL);
    /* A well-formed token nobody was given, a garbled one, a short one. */
    IT_CHECK(expect_refused(s->port, "bbt1_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == 0);
    IT_CHECK(expect_refused(s->port, "x") == 0);
    IT_CHECK(expect_refused(s->port, "bbt1_не-токен 令牌") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE via = 'token'"
                       " AND outcome = 'bad_token' AND user_id IS NULL", 0, NULL) == before + 3);
    IT_CHECK(it_pg_int("SELECT failures FROM login_throttle WHERE subject = 'addr:127.0.0.1'",
                       0, NULL) == 3);
    /* Too long or empty: invalid_argument, before anything is looked up. */
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    char big[200];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.resume", 1);
    it_kv_str(&b, "token", big);
    IT_CHECK(it_buf_err(c, &b, g_msgid, "invalid_argument", "token") == 0);
    it_req(&b, ++g_msgid, "session.resume", 1);
    it_kv_str(&b, "token", "");
    IT_CHECK(it_buf_err(c, &b, g_msgid, "invalid_argument", "token") == 0);
    it_buf_free(&b);
    return forget_failures();
}

/* A server whose failures lock the address at once (4 x 1) and wait
 * delay_ms per failure. */
static int refused_resumes_are_delayed_and_lock_the_address(void)
{
    static const char *const sets[] = {"login_max_failures=1", "login_delay_ms=400",
                                       "login_lock_ms=600000", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(forget_failures() == 0);
    char token[TOKEN_LEN + 8];
    IT_CHECK(make_user("tok_lock", "supervisor", NULL) > 0);
    IT_CHECK(keep_token(s->port, "tok_lock", IT_PASSWORD, token) == 0);
    /* The n-th refusal comes after n x 400 ms (the address's failures). */
    for (int n = 1; n <= 4; n++) {
        int64_t t0 = it_now_ms();
        IT_CHECK(expect_refused(s->port, "bbt1_forged-forged-forged-forged-forged-forge") == 0);
        int64_t took = it_now_ms() - t0;
        IT_CHECKF(took >= 400 * n - 50, "refusal %d answered after %lld ms", n, (long long)took);
    }
    /* 4 x login_max_failures: the address is locked, for resumes and
     * logins alike, and a good token is not even looked up. */
    it_msg m;
    it_conn *c = resume(s->port, token, &m);
    IT_CHECK(c != NULL);
    char d[800];
    IT_CHECKF(m.is_error && strcmp(m.code, "locked") == 0, "resume: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(expect_whoami(c, NULL) == 0);
    it_close(c);
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token t JOIN app_user u ON u.id = t.user_id"
                       " WHERE u.login = 'tok_lock' AND t.last_used_at IS NULL", 0, NULL) == 1);
    c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    IT_CHECK(it_login(c, "tok_lock", IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "locked") == 0, "login: %s",
              it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_close(c);
    IT_CHECK(forget_failures() == 0);
    /* The lock gone, the token is as good as before. */
    IT_CHECK(expect_resumed(s->port, token, "tok_lock") == 0);
    return 0;
}

/* A resume is a password job (review of issue 11): two sent together on
 * one connection, the second is answered `unavailable` at once while the
 * first is still in its failure delay, and only the first is recorded. */
static int resumes_are_password_jobs(void)
{
    static const char *const sets[] = {"login_delay_ms=400", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    IT_CHECK(forget_failures() == 0);
    long long before = it_pg_int("SELECT count(*) FROM login_event WHERE via = 'token'", 0, NULL);
    it_conn *c = it_connect_anon(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t first = ++g_msgid, second = ++g_msgid;
    it_req(&b, first, "session.resume", 1);
    it_kv_str(&b, "token", "bbt1_forged-forged-forged-forged-forged-forge");
    it_req(&b, second, "session.resume", 1);
    it_kv_str(&b, "token", "bbt1_forged-forged-forged-forged-forged-forge");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);   /* one write: read together */
    it_buf_free(&b);
    bool got_first = false, got_second = false;
    char d[800];
    for (int i = 0; i < 2; i++) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        if (m.msgid == second) {
            IT_CHECKF(!got_first && m.is_error && strcmp(m.code, "unavailable") == 0,
                      "second resume: %s", it_describe(&m, d, sizeof d));
            got_second = true;
        } else {
            IT_CHECKF(m.msgid == first && m.is_error && strcmp(m.code, "unauthenticated") == 0,
                      "first resume: %s", it_describe(&m, d, sizeof d));
            got_first = true;
        }
        it_msg_free(&m);
    }
    IT_CHECK(got_first && got_second);
    it_close(c);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE via = 'token'", 0, NULL) ==
             before + 1);
    return forget_failures();
}

static int token_expires(void)
{
    static const char *const sets[] = {"session_token_ttl_s=2", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    IT_CHECK(make_user("tok_exp", "supervisor", NULL) > 0);
    IT_CHECK(keep_token(s->port, "tok_exp", IT_PASSWORD, token) == 0);
    IT_CHECK(expect_resumed(s->port, token, "tok_exp") == 0);
    it_sleep_ms(2500);
    IT_CHECK(expect_refused(s->port, token) == 0);
    /* Found but expired: removed, and recorded against its user. */
    IT_CHECK(count_tokens("tok_exp") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_exp'"
                       " AND via = 'token' AND outcome = 'bad_token'", 0, NULL) == 1);
    return forget_failures();
}

/* A token issued under the default 7 days, presented to a server whose
 * lifetime is 1 s: the lifetime in force counts. */
static int a_shorter_lifetime_ends_tokens_already_out(void)
{
    it_server *shared = it_shared_server();
    IT_CHECK(shared != NULL);
    IT_CHECK(make_user("tok_short", "supervisor", NULL) > 0);
    char token[TOKEN_LEN + 8];
    IT_CHECK(keep_token(shared->port, "tok_short", IT_PASSWORD, token) == 0);
    static const char *const sets[] = {"session_token_ttl_s=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_sleep_ms(1500);
    IT_CHECK(expect_refused(s->port, token) == 0);
    IT_CHECK(expect_refused(shared->port, token) == 0);
    return forget_failures();
}

static int logout_with_the_token_ends_it(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(make_user("tok_out", "supervisor", NULL) > 0);
    IT_CHECK(make_user("tok_other", "supervisor", NULL) > 0);
    char mine[TOKEN_LEN + 8], other[TOKEN_LEN + 8];
    it_conn *c = login_keep(s->port, "tok_out", IT_PASSWORD, mine);
    IT_CHECK(c != NULL);
    it_conn *o = login_keep(s->port, "tok_other", IT_PASSWORD, other);
    IT_CHECK(o != NULL);
    it_close(o);
    /* A logout naming another user's token ends nothing, and says so in
     * no way: true, as for one's own. */
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, ++g_msgid, "session.logout", 1);
    it_kv_str(&b, "token", other);
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    IT_CHECK(m.result->type == MSGPACK_OBJECT_BOOLEAN && m.result->via.boolean);
    it_msg_free(&m);
    IT_CHECK(expect_whoami(c, NULL) == 0);
    it_close(c);
    IT_CHECK(expect_resumed(s->port, other, "tok_other") == 0);
    /* A connection resumed with the token ends it with logout. */
    IT_CHECK(expect_resumed(s->port, mine, "tok_out") == 0);
    c = resume(s->port, mine, &m);
    IT_CHECK(c != NULL && !m.is_error);
    it_msg_free(&m);
    it_req(&b, ++g_msgid, "session.logout", 1);
    it_kv_str(&b, "token", mine);
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(expect_whoami(c, NULL) == 0);
    /* Not logged in any more: a second logout is unauthenticated. */
    it_req(&b, ++g_msgid, "session.logout", 1);
    it_kv_str(&b, "token", mine);
    IT_CHECK(it_buf_err(c, &b, g_msgid, "unauthenticated", "") == 0);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(expect_refused(s->port, mine) == 0);
    IT_CHECK(count_tokens("tok_out") == 0);
    IT_CHECK(it_server_log_has(s, "token=ended"));
    return forget_failures();
}

static int password_change_on_another_connection_ends_the_token(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    IT_CHECK(user_with_token("tok_pw", "supervisor", NULL, token) > 0);
    it_conn *other = it_connect_as(s->port, "tok_pw", IT_PASSWORD);
    IT_CHECK(other != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, ++g_msgid, "session.change_password", 2);
    it_kv_str(&b, "old_password", IT_PASSWORD);
    it_kv_str(&b, "new_password", "tok-新密码-12345");
    IT_CHECK(it_buf_ok(other, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    IT_CHECK(expect_refused(s->port, token) == 0);
    /* The connection that changed it stays logged in; a token issued now
     * (with the new password) is good. */
    IT_CHECK(expect_whoami(other, "tok_pw") == 0);
    it_close(other);
    IT_CHECK(keep_token(s->port, "tok_pw", "tok-新密码-12345", token) == 0);
    IT_CHECK(expect_resumed(s->port, token, "tok_pw") == 0);
    return forget_failures();
}

static int admin_set_password_ends_the_token(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    int64_t id = user_with_token("tok_setpw", "supervisor", NULL, token);
    IT_CHECK(id > 0);
    it_conn *a = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(a != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, ++g_msgid, "user.set_password", 2);
    it_kv_int(&b, "id", id);
    it_kv_str(&b, "password", "tok-admin-set-1");
    IT_CHECK(it_buf_ok(a, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(a);
    IT_CHECK(expect_refused(s->port, token) == 0);
    return forget_failures();
}

static int disable_ends_the_token(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    int64_t id = user_with_token("tok_dis", "supervisor", NULL, token);
    IT_CHECK(id > 0);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_str(&b, "disabled");
    msgpack_pack_true(&b.pk);
    IT_CHECK(admin_update_send(&b) == 0);
    IT_CHECK(expect_refused(s->port, token) == 0);
    /* Enabled again: the token stays ended. */
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_str(&b, "disabled");
    msgpack_pack_false(&b.pk);
    IT_CHECK(admin_update_send(&b) == 0);
    it_buf_free(&b);
    IT_CHECK(expect_refused(s->port, token) == 0);
    return forget_failures();
}

static int role_change_ends_the_token(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    int64_t id = user_with_token("tok_role", "supervisor", NULL, token);
    IT_CHECK(id > 0);
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_kv_str(&b, "role", "admin");
    IT_CHECK(admin_update_send(&b) == 0);
    it_buf_free(&b);
    IT_CHECK(expect_refused(s->port, token) == 0);
    /* Also when the change comes from outside any server (the database
     * is where the rule lives). */
    IT_CHECK(keep_token(s->port, "tok_role", IT_PASSWORD, token) == 0);
    IT_CHECK(it_pg_exec("UPDATE app_user SET role = 'supervisor' WHERE login = 'tok_role'", 0,
                        NULL) == 0);
    IT_CHECK(expect_refused(s->port, token) == 0);
    return forget_failures();
}

static int township_change_ends_the_token_a_name_change_does_not(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char token[TOKEN_LEN + 8];
    int64_t id = user_with_token("tok_tw", "township_staff", "新店镇", token);
    IT_CHECK(id > 0);
    /* A display name: the same rights, the token stays. */
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_kv_str(&b, "display_name", "改了名字");
    IT_CHECK(admin_update_send(&b) == 0);
    IT_CHECK(expect_resumed(s->port, token, "tok_tw") == 0);
    /* The same townships given again: nothing changes, the token stays. */
    static const char *const same[] = {"新店镇"};
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_kv_strs(&b, "townships", same, 1);
    IT_CHECK(admin_update_send(&b) == 0);
    IT_CHECK(expect_resumed(s->port, token, "tok_tw") == 0);
    /* Another township: ended. */
    static const char *const more[] = {"新店镇", "赵李桥镇"};
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_kv_strs(&b, "townships", more, 2);
    IT_CHECK(admin_update_send(&b) == 0);
    it_buf_free(&b);
    IT_CHECK(expect_refused(s->port, token) == 0);
    return forget_failures();
}

static int tokens_per_user_are_bounded(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(make_user("tok_many", "supervisor", NULL) > 0);
    char first[TOKEN_LEN + 8], token[TOKEN_LEN + 8], second[TOKEN_LEN + 8];
    for (int i = 0; i <= TOKENS_PER_USER; i++) {
        IT_CHECK(keep_token(s->port, "tok_many", IT_PASSWORD, token) == 0);
        if (i == 0)
            memcpy(first, token, sizeof first);
        if (i == 1)
            memcpy(second, token, sizeof second);
    }
    IT_CHECK(count_tokens("tok_many") == TOKENS_PER_USER);
    IT_CHECK(expect_refused(s->port, first) == 0);
    IT_CHECK(expect_resumed(s->port, second, "tok_many") == 0);
    IT_CHECK(expect_resumed(s->port, token, "tok_many") == 0);
    return forget_failures();
}

/* ---- the CLI ---- */

/* A private HOME for one test's CLI runs (the state folder under it). */
static char g_home[64];

static void remove_home(void)
{
    if (g_home[0] == '\0')
        return;
    static const char *const parts[] = {"/.local/state/baobao/session", "/.local/state/baobao",
                                        "/.local/state", "/.local", ""};
    char path[160];
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        snprintf(path, sizeof path, "%s%s", g_home, parts[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
    g_home[0] = '\0';
}

static const char *new_home(void)
{
    remove_home();
    snprintf(g_home, sizeof g_home, "/tmp/itest-token-XXXXXX");
    if (mkdtemp(g_home) == NULL) {
        g_home[0] = '\0';
        return NULL;
    }
    return g_home;
}

static void session_path(char *out, size_t cap)
{
    snprintf(out, cap, "%s/.local/state/baobao/session", g_home);
}

/* The token saved for login in the session file, or "" when none. */
static void saved_token(const char *login, char *out, size_t cap)
{
    out[0] = '\0';
    char path[160];
    session_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        char server[128], l[128], exp[64], tok[128];
        if (line[0] == '#' ||
            sscanf(line, "%127[^\t]\t%127[^\t]\t%63[^\t]\t%127[^\n]", server, l, exp, tok) != 4)
            continue;
        if (strcmp(l, login) == 0 && strcmp(server, g_server) == 0)
            snprintf(out, cap, "%s", tok);
    }
    fclose(f);
}

/* The environment every CLI run of these tests gets: the private HOME,
 * the shared server (server NULL) or another, the user, no password
 * anywhere, English, nothing of the developer's own set-up. */
static int cli_env(const char *server, const char *user, const char **env, size_t cap)
{
    static char home[96], state[96], srv[96], usr[96];
    snprintf(home, sizeof home, "HOME=%s", g_home);
    snprintf(state, sizeof state, "XDG_STATE_HOME");
    snprintf(srv, sizeof srv, "BAOBAO_SERVER=%s", server != NULL ? server : g_server);
    snprintf(usr, sizeof usr, "BAOBAO_USER=%s", user);
    const char *e[] = {home, state, srv, usr, "BAOBAO_PASSWORD", "BAOBAO_CONFIG",
                       "BAOBAO_TLS", "BAOBAO_CA", "BAOBAO_SERVER_NAME", "BAOBAO_LANG",
                       "LANGUAGE", "LANG=C", "LC_ALL=C",
                       "XDG_CONFIG_HOME=/nonexistent/baobao-itest-config", NULL};
    size_t n = 0;
    for (; e[n] != NULL && n + 1 < cap; n++)
        env[n] = e[n];
    env[n] = NULL;
    return (int)n;
}

/* Runs the CLI without a terminal (setsid: no controlling terminal, so
 * nothing can be asked), with cli_env and extra ("NAME=value"). */
static int cli_run(it_cli *r, const char *server, const char *user, const char *const *args,
                   const char *const *extra)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    const char *env[32];
    int ne = cli_env(server, user, env, 32);
    const char *argv[80];
    size_t n = 0;
    argv[n++] = "setsid";
    argv[n++] = "-w";
    argv[n++] = "env";
    /* env takes its -u NAME options before the NAME=value assignments. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < ne; i++)
            if ((strchr(env[i], '=') == NULL) == (pass == 0)) {
                if (pass == 0)
                    argv[n++] = "-u";
                argv[n++] = env[i];
            }
        for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 60; i++)
            if ((strchr(extra[i], '=') == NULL) == (pass == 0)) {
                if (pass == 0)
                    argv[n++] = "-u";
                argv[n++] = extra[i];
            }
    }
    argv[n++] = cli_bin;
    for (size_t i = 0; args[i] != NULL && n < 78; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    IT_CHECK(it_run(r, argv, CLI_MS) == 0);
    return 0;
}

static void show(const it_cli *r, const char *what)
{
    printf("  ---- %s: exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", what, r->status, r->out,
           r->err);
}

/* One prompt the CLI shows on the terminal and what is typed at it. */
typedef struct pty_step {
    const char *prompt;
    const char *answer;
} pty_step;

/* Runs the CLI on a new pseudo-terminal (its controlling terminal), with
 * cli_env and extra, typing each answer once its prompt has appeared.
 * r->out is all the terminal showed; r->status the exit code (-1 when it
 * did not exit in time). Returns 0, or -1 when a prompt never came. */
static int pty_run(it_cli *r, const char *server, const char *user, const char *const *args,
                   const char *const *extra, const pty_step *steps, size_t nsteps)
{
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    memset(r, 0, sizeof *r);
    const char *env[32];
    cli_env(server, user, env, 32);
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        for (size_t pass = 0; pass < 2; pass++) {
            const char *const *list = pass == 0 ? env : extra;
            for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
                const char *eq = strchr(list[i], '=');
                if (eq == NULL) {
                    unsetenv(list[i]);
                    continue;
                }
                char name[128];
                snprintf(name, sizeof name, "%.*s", (int)(eq - list[i]), list[i]);
                setenv(name, eq + 1, 1);
            }
        }
        char *argv[32];
        size_t n = 0;
        argv[n++] = (char *)(uintptr_t)cli_bin;
        for (size_t i = 0; args[i] != NULL && n < 31; i++)
            argv[n++] = (char *)(uintptr_t)args[i];
        argv[n] = NULL;
        execv(cli_bin, argv);
        _exit(127);
    }
    size_t cap = 65536, len = 0, step = 0, seen = 0;
    r->out = malloc(cap);
    IT_CHECK(r->out != NULL);
    r->out[0] = '\0';
    int64_t deadline = it_now_ms() + CLI_MS;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(master, r->out + len, cap - 1 - len);
        if (k <= 0)
            break;   /* EIO: the child closed the terminal */
        len += (size_t)k;
        r->out[len] = '\0';
        if (step < nsteps && strstr(r->out + seen, steps[step].prompt) != NULL) {
            seen = len;
            /* Let the prompt's tcsetattr finish before typing. */
            it_sleep_ms(200);
            char line[1024];
            int ln = snprintf(line, sizeof line, "%s\n", steps[step].answer);
            IT_CHECK(write(master, line, (size_t)ln) == ln);
            step++;
        }
    }
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        it_sleep_ms(500);
        if (waitpid(pid, &st, WNOHANG) == 0) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }
    close(master);
    r->outlen = len;
    r->err = strdup("");
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    IT_CHECKF(step == nsteps, "the prompt \"%s\" never came; the terminal showed:\n%s",
              steps[step].prompt, r->out);
    return 0;
}

/* `baobao login` as user on a terminal, the password typed. */
static int cli_login(const char *server, const char *user, const char *password)
{
    char prompt[128];
    snprintf(prompt, sizeof prompt, "Password for %s: ", user);
    pty_step steps[] = {{prompt, password}};
    const char *args[] = {"login", NULL};
    it_cli r;
    IT_CHECK(pty_run(&r, server, user, args, NULL, steps, 1) == 0);
    if (r.status != 0)
        printf("  ---- login on a terminal:\n%s\n  ----\n", r.out);
    IT_CHECKF(r.status == 0, "login: exit %d", r.status);
    IT_CHECKF(strstr(r.out, password) == NULL, "the password was echoed: %s", r.out);
    IT_CHECKF(strstr(r.out, "bbt1_") == NULL, "the token was printed: %s", r.out);
    IT_CHECKF(strstr(r.out, "stays logged in") != NULL, "no word of the kept session: %s",
              r.out);
    it_cli_free(&r);
    return 0;
}

static int cli_login_keeps_the_session_and_commands_need_no_password(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_cli", "supervisor", NULL) > 0);
    /* Nothing kept yet: with no password and no terminal, a usage error. */
    const char *who[] = {"whoami", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_cli", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "no_credentials") != NULL, "exit %d: %s",
              r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(cli_login(NULL, "tok_cli", IT_PASSWORD) == 0);
    /* The file: 0600 in a 0700 folder, one line with the token. */
    char path[160];
    session_path(path, sizeof path);
    struct stat st;
    IT_CHECK(stat(path, &st) == 0);
    IT_CHECKF((st.st_mode & 07777) == 0600, "mode %04o", (unsigned)(st.st_mode & 07777));
    char dir[160];
    snprintf(dir, sizeof dir, "%s/.local/state/baobao", g_home);
    IT_CHECK(stat(dir, &st) == 0);
    IT_CHECKF((st.st_mode & 07777) == 0700, "folder mode %04o", (unsigned)(st.st_mode & 07777));
    char token[128];
    saved_token("tok_cli", token, sizeof token);
    IT_CHECKF(strlen(token) == TOKEN_LEN, "saved token \"%s\"", token);
    /* A later command: no password anywhere, no terminal, and it works. */
    long long before = it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_cli'"
                                 " AND via = 'token' AND outcome = 'ok'", 0, NULL);
    IT_CHECK(cli_run(&r, NULL, "tok_cli", who, NULL) == 0);
    if (r.status != 0)
        show(&r, "whoami with the kept session");
    IT_CHECK(r.status == 0 && strstr(r.out, "tok_cli") != NULL);
    it_cli_free(&r);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_cli'"
                       " AND via = 'token' AND outcome = 'ok'", 0, NULL) == before + 1);
    /* No user named: the session kept last for the server. */
    const char *as_nobody[] = {"BAOBAO_USER", NULL};
    IT_CHECK(cli_run(&r, NULL, "tok_cli", who, as_nobody) == 0);
    if (r.status != 0)
        show(&r, "whoami without a user");
    IT_CHECK(r.status == 0 && strstr(r.out, "tok_cli") != NULL);
    it_cli_free(&r);
    /* Another user named: not theirs to use. */
    IT_CHECK(cli_run(&r, NULL, IT_USER_STAFF, who, NULL) == 0);
    IT_CHECKF(r.status == 2, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    /* A password in the environment wins (scripts): used as before, and
     * a wrong one fails although a session is kept. */
    const char *wrong[] = {"BAOBAO_PASSWORD=not-the-password", NULL};
    IT_CHECK(cli_run(&r, NULL, "tok_cli", who, wrong) == 0);
    IT_CHECKF(r.status == 1 && strstr(r.err, "login_failed") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    remove_home();
    return forget_failures();
}

static int cli_refuses_a_session_file_others_can_read(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_mode", "supervisor", NULL) > 0);
    IT_CHECK(cli_login(NULL, "tok_mode", IT_PASSWORD) == 0);
    char path[160];
    session_path(path, sizeof path);
    const char *who[] = {"whoami", NULL};
    it_cli r;
    long long ok_before = it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_mode'"
                                    " AND via = 'token'", 0, NULL);
    IT_CHECK(chmod(path, 0640) == 0);
    IT_CHECK(cli_run(&r, NULL, "tok_mode", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "refusing to use the saved sessions file") != NULL &&
                  strstr(r.err, "chmod 600") != NULL,
              "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(chmod(path, 0604) == 0);
    IT_CHECK(cli_run(&r, NULL, "tok_mode", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "refusing") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    /* The token was never sent. */
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE login = 'tok_mode'"
                       " AND via = 'token'", 0, NULL) == ok_before);
    /* Private again: used again. */
    IT_CHECK(chmod(path, 0600) == 0);
    IT_CHECK(cli_run(&r, NULL, "tok_mode", who, NULL) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    /* Another user's file (a stolen copy): refused by its owner. */
    if (geteuid() == 0) {
        IT_CHECK(chown(path, 65534, 65534) == 0);
        IT_CHECK(cli_run(&r, NULL, "tok_mode", who, NULL) == 0);
        IT_CHECKF(r.status == 2 && strstr(r.err, "owned by uid 65534") != NULL, "exit %d: %s",
                  r.status, r.err);
        it_cli_free(&r);
        IT_CHECK(chown(path, 0, 0) == 0);
    } else {
        it_note("not root: the file of another user is not tried");
    }
    /* A symbolic link in its place: refused too. */
    char moved[176];
    snprintf(moved, sizeof moved, "%s.real", path);
    IT_CHECK(rename(path, moved) == 0);
    IT_CHECK(symlink(moved, path) == 0);
    IT_CHECK(cli_run(&r, NULL, "tok_mode", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "symbolic link") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    IT_CHECK(unlink(path) == 0 && rename(moved, path) == 0);
    /* And login refuses to write into a file it would not read, before
     * any password is asked (no terminal here: it would fail asking). */
    IT_CHECK(chmod(path, 0644) == 0);
    const char *login[] = {"login", NULL};
    IT_CHECK(cli_run(&r, NULL, "tok_mode", login, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "refusing") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    remove_home();
    return 0;
}

/* In Chinese the client's own errors say what happened: a refused saved
 * sessions file has its own code (session_file_error, exit 2) and its
 * message is the sentence, not "the config file cannot be used"; the two
 * new passwords typed differently is said as such, not as "no user name
 * or password" (no_credentials). English keeps "CODE: MESSAGE". */
static int cli_own_errors_say_what_happened(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_zh", "supervisor", NULL) > 0);
    IT_CHECK(cli_login(NULL, "tok_zh", IT_PASSWORD) == 0);
    char path[160];
    session_path(path, sizeof path);
    IT_CHECK(chmod(path, 0640) == 0);
    /* login refuses the file it would write to (a later command only
     * warns, and asks for the password). */
    const char *login[] = {"login", NULL};
    const char *zh[] = {"BAOBAO_LANG=zh", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_zh", login, zh) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "baobao: 不使用保存登录的文件") != NULL &&
                  strstr(r.err, "chmod 600") != NULL &&
                  strstr(r.err, "[session_file_error]") != NULL &&
                  strstr(r.err, "配置文件") == NULL,
              "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(cli_run(&r, NULL, "tok_zh", login, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "baobao: session_file_error: refusing") != NULL,
              "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    IT_CHECK(chmod(path, 0600) == 0);
    /* The new password typed differently the second time. */
    pty_step steps[] = {{"tok_zh 的新密码：", "tok-zh-first-1"},
                        {"再输一遍", "tok-zh-second-2"}};
    const char *args[] = {"passwd", NULL};
    const char *env[] = {"BAOBAO_LANG=zh", "BAOBAO_PASSWORD=" IT_PASSWORD, NULL};
    IT_CHECK(pty_run(&r, NULL, "tok_zh", args, env, steps, 2) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.out, "两次输入的新密码不一样") != NULL &&
                  strstr(r.out, "[no_credentials]") != NULL &&
                  strstr(r.out, "没有用户名或密码") == NULL,
              "exit %d: %s", r.status, r.out);
    it_cli_free(&r);
    remove_home();
    return forget_failures();
}

static int cli_falls_back_to_the_password_when_the_session_ended(void)
{
    IT_CHECK(new_home() != NULL);
    int64_t id = make_user("tok_fall", "supervisor", NULL);
    IT_CHECK(id > 0);
    IT_CHECK(cli_login(NULL, "tok_fall", IT_PASSWORD) == 0);
    /* An admin makes them an admin: the kept session ends. */
    it_buf b;
    it_buf_init(&b);
    IT_CHECK(admin_update_begin(&b, id, 1) == 0);
    it_kv_str(&b, "role", "admin");
    IT_CHECK(admin_update_send(&b) == 0);
    it_buf_free(&b);
    /* On a terminal: said, forgotten, and the password asked. */
    pty_step steps[] = {{"Password for tok_fall: ", IT_PASSWORD}};
    const char *who[] = {"whoami", NULL};
    it_cli r;
    IT_CHECK(pty_run(&r, NULL, "tok_fall", who, NULL, steps, 1) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "has ended") != NULL &&
                  strstr(r.out, "admin") != NULL,
              "exit %d: %s", r.status, r.out);
    it_cli_free(&r);
    char token[128];
    saved_token("tok_fall", token, sizeof token);
    IT_CHECKF(token[0] == '\0', "the ended session is still in the file: %s", token);
    remove_home();
    return forget_failures();
}

static int cli_logout_ends_the_session(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_clo", "supervisor", NULL) > 0);
    IT_CHECK(cli_login(NULL, "tok_clo", IT_PASSWORD) == 0);
    char token[128];
    saved_token("tok_clo", token, sizeof token);
    IT_CHECK(token[0] != '\0');
    const char *out[] = {"logout", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_clo", out, NULL) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.err, "logged out") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    char after[128];
    saved_token("tok_clo", after, sizeof after);
    IT_CHECK(after[0] == '\0');
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(expect_refused(s->port, token) == 0);
    IT_CHECK(count_tokens("tok_clo") == 0);
    /* Nothing kept any more: nothing to end, and no error. */
    IT_CHECK(cli_run(&r, NULL, "tok_clo", out, NULL) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.err, "nothing to end") != NULL, "exit %d: %s",
              r.status, r.err);
    it_cli_free(&r);
    /* Logged in again, and the server ends the session first (a password
     * change on another connection): logout still forgets it, exit 0. */
    IT_CHECK(cli_login(NULL, "tok_clo", IT_PASSWORD) == 0);
    it_conn *c = it_connect_as(s->port, "tok_clo", IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    it_req(&b, ++g_msgid, "session.change_password", 2);
    it_kv_str(&b, "old_password", IT_PASSWORD);
    it_kv_str(&b, "new_password", "tok-clo-new-1");
    IT_CHECK(it_buf_ok(c, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    it_close(c);
    IT_CHECK(cli_run(&r, NULL, "tok_clo", out, NULL) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.err, "had ended already") != NULL, "exit %d: %s",
              r.status, r.err);
    it_cli_free(&r);
    saved_token("tok_clo", after, sizeof after);
    IT_CHECK(after[0] == '\0');
    remove_home();
    return forget_failures();
}

static int cli_passwd_keeps_the_session_with_the_new_password(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_passwd", "supervisor", NULL) > 0);
    IT_CHECK(cli_login(NULL, "tok_passwd", IT_PASSWORD) == 0);
    char before[128];
    saved_token("tok_passwd", before, sizeof before);
    IT_CHECK(before[0] != '\0');
    /* Logged in with the kept session: the current password is asked. */
    pty_step steps[] = {{"Current password for tok_passwd: ", IT_PASSWORD}};
    const char *args[] = {"passwd", NULL};
    const char *env[] = {"BAOBAO_NEW_PASSWORD=tok-passwd-new-1", NULL};
    it_cli r;
    IT_CHECK(pty_run(&r, NULL, "tok_passwd", args, env, steps, 1) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "stays logged in") != NULL, "exit %d: %s",
              r.status, r.out);
    it_cli_free(&r);
    char after[128];
    saved_token("tok_passwd", after, sizeof after);
    IT_CHECKF(after[0] != '\0' && strcmp(after, before) != 0, "token before %s, after %s", before,
              after);
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(expect_refused(s->port, before) == 0);
    /* The next command needs no password, and the new one is in force. */
    const char *who[] = {"whoami", NULL};
    IT_CHECK(cli_run(&r, NULL, "tok_passwd", who, NULL) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    it_conn *c = it_connect_as(s->port, "tok_passwd", "tok-passwd-new-1");
    IT_CHECK(c != NULL);
    it_close(c);
    remove_home();
    return forget_failures();
}

static int cli_session_expires(void)
{
    static const char *const sets[] = {"session_token_ttl_s=3", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    char server[64];
    snprintf(server, sizeof server, "127.0.0.1:%d", s->port);
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_cexp", "supervisor", NULL) > 0);
    IT_CHECK(cli_login(server, "tok_cexp", IT_PASSWORD) == 0);
    const char *who[] = {"whoami", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, server, "tok_cexp", who, NULL) == 0);
    IT_CHECKF(r.status == 0, "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    it_sleep_ms(3500);
    IT_CHECK(cli_run(&r, server, "tok_cexp", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "no_credentials") != NULL, "exit %d: %s",
              r.status, r.err);
    it_cli_free(&r);
    remove_home();
    return forget_failures();
}

/* CLI_SAVED_MAX_ENTRIES (client/cli_session.c). */
#define SAVED_MAX_ENTRIES 64
/* CLI_SAVED_MAX_BYTES (client/cli_session.c). */
#define SAVED_MAX_BYTES (64 * 1024)

/* Writes the session file (mode 0600, its folder 0700) with n sessions
 * of other servers, each padded to pad bytes of token. 0 or -1. */
static int write_sessions(int n, size_t pad)
{
    char path[160], dir[160];
    snprintf(dir, sizeof dir, "%s/.local", g_home);
    (void)mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/.local/state", g_home);
    (void)mkdir(dir, 0700);
    snprintf(dir, sizeof dir, "%s/.local/state/baobao", g_home);
    (void)mkdir(dir, 0700);
    session_path(path, sizeof path);
    FILE *f = fopen(path, "w");
    IT_CHECK(f != NULL);
    for (int i = 0; i < n; i++) {
        fprintf(f, "10.9.%d.%d:7420\tsomeone\t2099-01-01T00:00:00.000000Z\tbbt1_", i / 250,
                i % 250);
        for (size_t k = 0; k < pad; k++)
            fputc('A', f);
        fputc('\n', f);
    }
    IT_CHECK(fclose(f) == 0 && chmod(path, 0600) == 0);
    return 0;
}

/* The lines of the session file that are sessions (not comments). */
static int count_sessions(void)
{
    char path[160];
    session_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0;
    char line[2048];
    while (fgets(line, sizeof line, f) != NULL)
        if (line[0] != '#' && line[0] != '\n')
            n++;
    fclose(f);
    return n;
}

/* The file holds at most SAVED_MAX_ENTRIES sessions (one more drops the
 * oldest) and at most SAVED_MAX_BYTES (a larger one is refused). */
static int cli_session_file_limits(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_full", "supervisor", NULL) > 0);
    IT_CHECK(write_sessions(SAVED_MAX_ENTRIES, 43) == 0);
    IT_CHECK(count_sessions() == SAVED_MAX_ENTRIES);
    IT_CHECK(cli_login(NULL, "tok_full", IT_PASSWORD) == 0);
    IT_CHECK(count_sessions() == SAVED_MAX_ENTRIES);
    char token[128];
    saved_token("tok_full", token, sizeof token);
    IT_CHECK(token[0] != '\0');
    char path[160];
    session_path(path, sizeof path);
    FILE *f = fopen(path, "r");
    IT_CHECK(f != NULL);
    char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    IT_CHECKF(strstr(text, "10.9.0.0:7420") == NULL && strstr(text, "10.9.0.1:7420") != NULL,
              "the oldest session was not the one dropped");
    /* Too large: refused, not read. */
    IT_CHECK(write_sessions(SAVED_MAX_BYTES / 1000 + 1, 1000) == 0);
    const char *who[] = {"whoami", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_full", who, NULL) == 0);
    IT_CHECKF(r.status == 2 && strstr(r.err, "is larger than 65536 bytes") != NULL,
              "exit %d: %s", r.status, r.err);
    it_cli_free(&r);
    remove_home();
    return 0;
}

/* CLI_LOGIN_MAX_BYTES (client/cli_auth.c): a typed login, with the
 * spaces around it. */
#define LOGIN_TYPED_MAX 256

/* No login named anywhere: login asks for it on the terminal, spaces
 * around it (also the full-width U+3000 of a Chinese input method)
 * trimmed; a line longer than the limit is refused. */
static int cli_login_asks_the_login_when_none_is_named(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_ask", "supervisor", NULL) > 0);
    pty_step steps[] = {{"Login: ", "\xe3\x80\x80 tok_ask \xe3\x80\x80"},
                        {"Password for tok_ask: ", IT_PASSWORD}};
    const char *args[] = {"login", NULL};
    const char *no_user[] = {"BAOBAO_USER", NULL};
    it_cli r;
    IT_CHECK(pty_run(&r, NULL, "tok_ask", args, no_user, steps, 2) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "stays logged in") != NULL, "exit %d: %s",
              r.status, r.out);
    it_cli_free(&r);
    char token[128];
    saved_token("tok_ask", token, sizeof token);
    IT_CHECK(token[0] != '\0');
    /* And the next command, naming nobody, is that user. */
    const char *who[] = {"whoami", NULL};
    IT_CHECK(cli_run(&r, NULL, "tok_ask", who, no_user) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "tok_ask") != NULL, "exit %d: %s", r.status,
              r.err);
    it_cli_free(&r);
    char longer[LOGIN_TYPED_MAX + 2];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    pty_step too_long[] = {{"Login: ", longer}};
    IT_CHECK(pty_run(&r, NULL, "tok_ask", args, no_user, too_long, 1) == 0);
    IT_CHECKF(r.status != 0 && strstr(r.out, "longer than 256 bytes") != NULL, "exit %d: %s",
              r.status, r.out);
    it_cli_free(&r);
    remove_home();
    return 0;
}

/* A command that asks for a new password (user create) with a kept
 * session asks nothing else first: no password of the admin's own. */
static int cli_kept_session_asks_only_the_new_password(void)
{
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_admin", "admin", NULL) > 0);
    IT_CHECK(cli_login(NULL, "tok_admin", IT_PASSWORD) == 0);
    const char *args[] = {"user", "create", "--login", "tok_made", "--name", "令牌新建",
                          "--role", "supervisor", NULL};
    const char *env[] = {"BAOBAO_NEW_PASSWORD=tok-made-pass-1", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_admin", args, env) == 0);
    if (r.status != 0)
        show(&r, "user create with a kept session");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    IT_CHECK(it_user_id("tok_made") > 0);
    remove_home();
    return 0;
}

/* `baobao call` of a method with a new password (user.set_password) with
 * a kept session: logged in with the session first, so no password of
 * the admin's own is needed (no terminal, none in the environment), and
 * the new one is set. */
static int cli_call_with_a_secret_uses_the_kept_session(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    IT_CHECK(new_home() != NULL);
    IT_CHECK(make_user("tok_calladm", "admin", NULL) > 0);
    int64_t target = make_user("tok_calltgt", "supervisor", NULL);
    IT_CHECK(target > 0);
    IT_CHECK(cli_login(NULL, "tok_calladm", IT_PASSWORD) == 0);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)target);
    const char *args[] = {"call", "user.set_password", "--id", id, NULL};
    const char *env[] = {"BAOBAO_NEW_PASSWORD=tok-call-pass-1", NULL};
    it_cli r;
    IT_CHECK(cli_run(&r, NULL, "tok_calladm", args, env) == 0);
    if (r.status != 0)
        show(&r, "call user.set_password with a kept session");
    IT_CHECK(r.status == 0);
    it_cli_free(&r);
    it_conn *c = it_connect_as(s->port, "tok_calltgt", "tok-call-pass-1");
    IT_CHECKF(c != NULL, "the new password was not set");
    it_close(c);
    remove_home();
    return forget_failures();
}

static const it_test tests[] = {
    {"keep_returns_a_token_stored_only_as_its_hash", keep_returns_a_token_stored_only_as_its_hash},
    {"login_without_keep_gives_no_token", login_without_keep_gives_no_token},
    {"resume_logs_in_as_the_user_is_now", resume_logs_in_as_the_user_is_now},
    {"forged_token_is_refused_like_a_failed_login", forged_token_is_refused_like_a_failed_login},
    {"refused_resumes_are_delayed_and_lock_the_address",
     refused_resumes_are_delayed_and_lock_the_address},
    {"resumes_are_password_jobs", resumes_are_password_jobs},
    {"token_expires", token_expires},
    {"a_shorter_lifetime_ends_tokens_already_out", a_shorter_lifetime_ends_tokens_already_out},
    {"logout_with_the_token_ends_it", logout_with_the_token_ends_it},
    {"password_change_on_another_connection_ends_the_token",
     password_change_on_another_connection_ends_the_token},
    {"admin_set_password_ends_the_token", admin_set_password_ends_the_token},
    {"disable_ends_the_token", disable_ends_the_token},
    {"role_change_ends_the_token", role_change_ends_the_token},
    {"township_change_ends_the_token_a_name_change_does_not",
     township_change_ends_the_token_a_name_change_does_not},
    {"tokens_per_user_are_bounded", tokens_per_user_are_bounded},
    {"cli_login_keeps_the_session_and_commands_need_no_password",
     cli_login_keeps_the_session_and_commands_need_no_password},
    {"cli_refuses_a_session_file_others_can_read", cli_refuses_a_session_file_others_can_read},
    {"cli_own_errors_say_what_happened", cli_own_errors_say_what_happened},
    {"cli_falls_back_to_the_password_when_the_session_ended",
     cli_falls_back_to_the_password_when_the_session_ended},
    {"cli_logout_ends_the_session", cli_logout_ends_the_session},
    {"cli_passwd_keeps_the_session_with_the_new_password",
     cli_passwd_keeps_the_session_with_the_new_password},
    {"cli_session_expires", cli_session_expires},
    {"cli_session_file_limits", cli_session_file_limits},
    {"cli_login_asks_the_login_when_none_is_named", cli_login_asks_the_login_when_none_is_named},
    {"cli_kept_session_asks_only_the_new_password", cli_kept_session_asks_only_the_new_password},
    {"cli_call_with_a_secret_uses_the_kept_session",
     cli_call_with_a_secret_uses_the_kept_session},
};

int main(int argc, char **argv)
{
    atexit(remove_home);
    return it_main(argc, argv, "session_token", tests, sizeof tests / sizeof tests[0], setup);
}
