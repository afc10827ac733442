/*
 * test_sessions_multi.c: sessions that every baobaod process judges alike
 * (issue 14, item 1; sql/027_session_epoch.sql, server/engine/nodes.c).
 * Two baobaod processes on one database: a change made through A
 * (password, disable, role, scope) ends the user's sessions on B at their
 * very next request, reads and writes alike (A answers only once B has
 * applied it: no sleep in between); sessions end after session_idle_s
 * without a request and session_max_s after their password login; a
 * process whose LISTEN connection is cut refuses sessions, then re-checks
 * them against the database; and a process killed with -9 does not hold
 * up the writes of the others for longer than its beat takes to go stale.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static uint32_t g_msgid = 1;

/* Until a process can hear account changes (nodes.h), its sessions are
 * refused `unavailable`: a test waits for event=node_hearing (logged at
 * the first echo of its beat) before it uses one. */
static int wait_hearing(it_server *s)
{
    int64_t until = it_now_ms() + 15000;
    while (!it_server_log_has(s, "event=node_hearing") && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECKF(it_server_log_has(s, "event=node_hearing"), "port %d never heard its beat",
              s->port);
    return 0;
}

/* A test stops the servers it started (SIGTERM: they leave the registry,
 * nodes_stop); the harness would kill them with -9, and the next test's
 * barriers would wait SESSION_BARRIER_MAX_MS for the dead ones. */

/* How many times needle is in s's log. */
static int log_count(const it_server *s, const char *needle)
{
    char *log = it_server_log(s);
    int n = 0;
    for (const char *p = log; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(log);
    return n;
}

/* A user made directly in the database, with IT_PASSWORD (it_super's
 * hash), the role given and, for township staff, the townships (text[]). */
static int make_user(const char *login, const char *role, const char *townships)
{
    const char *p[3] = {login, role, townships};
    return it_pg_exec("WITH u AS (INSERT INTO app_user (login, display_name, role,"
                      " password_hash) SELECT $1, '多进程会话', $2, password_hash"
                      " FROM app_user WHERE login = 'it_super' RETURNING id)"
                      " INSERT INTO app_user_township (user_id, township_id)"
                      " SELECT u.id, t.id FROM u JOIN township t ON t.name = ANY ($3::text[])",
                      3, p);
}

static int setup(void)
{
    IT_CHECK(make_user("ms_pw", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_dis", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_demote", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_scope", "township_staff", "{赤壁镇}") == 0);
    IT_CHECK(make_user("ms_self", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_idle", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_max", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_token", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_cut", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_cut2", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_dead", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_cut3", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_held", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_stop", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_deaf", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_shut", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_many", "township_staff", "{赤壁镇}") == 0);
    IT_CHECK(make_user("ms_watch", "supervisor", "{}") == 0);
    IT_CHECK(make_user("ms_inflight", "supervisor", "{}") == 0);
    return 0;
}

static int call(it_conn *c, it_buf *b, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

static int expect_ok(it_conn *c, it_buf *b)
{
    it_msg m;
    char d[800];
    IT_CHECK(call(c, b, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "expected a result, got %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

static int expect_err(it_conn *c, it_buf *b, const char *code, const char *field)
{
    it_msg m;
    char d[800];
    IT_CHECK(call(c, b, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, code) == 0 &&
                  (field == NULL || strcmp(m.field, field) == 0),
              "expected %s %s, got %s", code, field ? field : "", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return 0;
}

/* A read every logged-in role may make: the first page of enterprises. */
static int read_page(it_conn *c, it_buf *b, const char *want_code)
{
    it_req(b, ++g_msgid, "enterprise.list", 1);
    it_kv_int(b, "limit", 1);
    return want_code == NULL ? expect_ok(c, b) : expect_err(c, b, want_code, NULL);
}

/* A write a supervisor may make anywhere: a new enterprise (code n). */
static int write_one(it_conn *c, it_buf *b, unsigned long n, const char *want_code)
{
    char code[19];
    it_credit_code(n, code);
    it_req(b, ++g_msgid, "enterprise.create", 3);
    it_kv_str(b, "name", "多进程会话写入");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    return want_code == NULL ? expect_ok(c, b) : expect_err(c, b, want_code, NULL);
}

static int64_t version_of(const char *login)
{
    const char *p[1] = {login};
    return it_pg_int("SELECT version FROM app_user WHERE login = $1", 1, p);
}

/* user.update through conn (an admin) of login: one more key (townships as
 * one township, role, or disabled). */
static int update_user(it_conn *adm, it_buf *b, const char *login, const char *key,
                       const char *val)
{
    it_req(b, ++g_msgid, "user.update", strcmp(key, "role") == 0 ? 4 : 3);
    it_kv_int(b, "id", it_user_id(login));
    it_kv_int(b, "version", version_of(login));
    if (strcmp(key, "disabled") == 0) {
        msgpack_pack_str_with_body(&b->pk, "disabled", 8);
        if (strcmp(val, "true") == 0)
            msgpack_pack_true(&b->pk);
        else
            msgpack_pack_false(&b->pk);
    } else if (strcmp(key, "role") == 0) {
        const char *towns[] = {"赤壁镇"};
        it_kv_str(b, "role", val);
        it_kv_strs(b, "townships", towns, 1);
    } else {
        const char *towns[] = {val};
        it_kv_strs(b, "townships", towns, 1);
    }
    return expect_ok(adm, b);
}

/* Two servers on the test database (A: the shared one; B: the test's
 * own, killed after it). */
static int two_servers(it_server **a, it_server **b)
{
    *a = it_shared_server();
    IT_CHECK(*a != NULL);
    *b = it_server_start(NULL);
    IT_CHECK(*b != NULL);
    IT_CHECK(wait_hearing(*a) == 0 && wait_hearing(*b) == 0);
    return 0;
}

/* Sends what b holds without waiting for the answer. */
static int send_only(it_conn *c, it_buf *b)
{
    int r = it_send(c, b->sb.data, b->sb.size);
    it_buf_reset(b);
    return r;
}

/* user.update disabled=true of login through adm, sent only. */
static int send_disable(it_conn *adm, it_buf *b, const char *login)
{
    it_req(b, ++g_msgid, "user.update", 3);
    it_kv_int(b, "id", it_user_id(login));
    it_kv_int(b, "version", version_of(login));
    msgpack_pack_str_with_body(&b->pk, "disabled", 8);
    msgpack_pack_true(&b->pk);
    return send_only(adm, b);
}

/* The PostgreSQL backend of the newest LISTEN connection on the test
 * database: the one of the server a test has just started (the others
 * came up before it). 0 when none. */
static pid_t newest_listen_backend(void)
{
    const char *db[] = {it_db_name()};
    long long pid = it_pg_int("SELECT coalesce(max(pid) FILTER (WHERE backend_start ="
                              " (SELECT max(backend_start) FROM pg_stat_activity"
                              "   WHERE application_name = 'baobaod-listen' AND datname = $1)),"
                              " 0) FROM pg_stat_activity"
                              " WHERE application_name = 'baobaod-listen' AND datname = $1",
                              1, db);
    return pid > 0 ? (pid_t)pid : 0;
}

/* A change straight in the database that nobody is told of (the
 * notifying trigger off for it): only a re-check can find it. */
static int change_untold(const char *sql_set, const char *login)
{
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE app_user SET %s WHERE login = $1", sql_set);
    const char *who[] = {login};
    IT_CHECK(it_pg_exec("ALTER TABLE app_user DISABLE TRIGGER app_user_epoch_notify", 0,
                        NULL) == 0);
    int r = it_pg_exec(sql, 1, who);
    IT_CHECK(it_pg_exec("ALTER TABLE app_user ENABLE TRIGGER app_user_epoch_notify", 0,
                        NULL) == 0);
    return r;
}

/* A password set through A: the user's sessions on B can neither read
 * nor write at their next request, and the new password logs in on B. */
static int password_set_on_a_ends_sessions_on_b(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *r = it_connect_as(b->port, "ms_pw", IT_PASSWORD);
    it_conn *w = it_connect_as(b->port, "ms_pw", IT_PASSWORD);
    IT_CHECK(r != NULL && w != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(r, &buf, NULL) == 0);
    IT_CHECK(write_one(w, &buf, 88001, NULL) == 0);

    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    it_req(&buf, ++g_msgid, "user.set_password", 2);
    it_kv_int(&buf, "id", it_user_id("ms_pw"));
    it_kv_str(&buf, "password", "新的密码-多进程-1");
    IT_CHECK(expect_ok(adm, &buf) == 0);

    IT_CHECK(read_page(r, &buf, "unauthenticated") == 0);
    IT_CHECK(write_one(w, &buf, 88002, "unauthenticated") == 0);
    IT_CHECK(it_server_log_has(b, "why=user_changed"));
    it_conn *again = it_connect_as(b->port, "ms_pw", "新的密码-多进程-1");
    IT_CHECK(again != NULL);
    IT_CHECK(read_page(again, &buf, NULL) == 0);
    /* The admin's own session on A goes on. */
    IT_CHECK(read_page(adm, &buf, NULL) == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* A disable through A: B refuses the session's next request; an enable
 * does not bring the old session back (it raised the epoch too). */
static int disable_on_a_ends_sessions_on_b(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *u = it_connect_as(b->port, "ms_dis", IT_PASSWORD);
    it_conn *u2 = it_connect_as(b->port, "ms_dis", IT_PASSWORD);
    IT_CHECK(u != NULL && u2 != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    IT_CHECK(update_user(adm, &buf, "ms_dis", "disabled", "true") == 0);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    IT_CHECK(update_user(adm, &buf, "ms_dis", "disabled", "false") == 0);
    /* u2 made no request while the user was disabled: still ended. */
    IT_CHECK(read_page(u2, &buf, "unauthenticated") == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* A supervisor demoted to township staff through A: on B the next write
 * anywhere is refused, and a new login on B has the new role. */
static int demotion_on_a_takes_effect_on_b(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *u = it_connect_as(b->port, "ms_demote", IT_PASSWORD);
    IT_CHECK(u != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(write_one(u, &buf, 88011, NULL) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    IT_CHECK(update_user(adm, &buf, "ms_demote", "role", "township_staff") == 0);
    IT_CHECK(write_one(u, &buf, 88012, "unauthenticated") == 0);
    it_msg m;
    IT_CHECK(it_login(u, "ms_demote", IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    IT_CHECK(it_get_str_eq(m.result, "role", "township_staff"));
    it_msg_free(&m);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* Township staff moved to another township through A: the session on B
 * ends at once; logged in again, the old township's enterprise is hidden. */
static int scope_change_on_a_takes_effect_on_b(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *sup = it_connect(a->port);
    IT_CHECK(sup != NULL);
    char code[19];
    it_credit_code(88021, code);
    int64_t eid = it_create_enterprise(sup, "多进程调岗企业", code, "赤壁镇");
    IT_CHECK(eid > 0);
    it_conn *u = it_connect_as(b->port, "ms_scope", IT_PASSWORD);
    IT_CHECK(u != NULL);
    it_buf buf;
    it_buf_init(&buf);
    it_req(&buf, ++g_msgid, "enterprise.get", 1);
    it_kv_int(&buf, "id", eid);
    IT_CHECK(expect_ok(u, &buf) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    IT_CHECK(update_user(adm, &buf, "ms_scope", "townships", "车埠镇") == 0);
    it_req(&buf, ++g_msgid, "enterprise.get", 1);
    it_kv_int(&buf, "id", eid);
    IT_CHECK(expect_err(u, &buf, "unauthenticated", NULL) == 0);
    it_msg m;
    IT_CHECK(it_login(u, "ms_scope", IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    it_req(&buf, ++g_msgid, "enterprise.get", 1);
    it_kv_int(&buf, "id", eid);
    IT_CHECK(expect_err(u, &buf, "not_found", "id") == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* session.change_password raises the epoch too: the connection that made
 * the change keeps its session, the user's other sessions (on B) end. */
static int own_password_change_keeps_this_session_only(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *here = it_connect_as(a->port, "ms_self", IT_PASSWORD);
    it_conn *there = it_connect_as(b->port, "ms_self", IT_PASSWORD);
    IT_CHECK(here != NULL && there != NULL);
    it_buf buf;
    it_buf_init(&buf);
    it_req(&buf, ++g_msgid, "session.change_password", 2);
    it_kv_str(&buf, "old_password", IT_PASSWORD);
    it_kv_str(&buf, "new_password", "自己改的密码-多进程-2");
    IT_CHECK(expect_ok(here, &buf) == 0);
    IT_CHECK(read_page(here, &buf, NULL) == 0);
    IT_CHECK(read_page(there, &buf, "unauthenticated") == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* session_idle_s: a session that made no request for longer has ended. */
static int idle_session_ends(void)
{
    static const char *const sets[] = {"session_idle_s=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL && wait_hearing(s) == 0);
    it_conn *u = it_connect_as(s->port, "ms_idle", IT_PASSWORD);
    IT_CHECK(u != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    it_sleep_ms(2200);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    IT_CHECK(it_server_log_has(s, "why=idle"));
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(s, 10000) == 0);
    return 0;
}

/* session_max_s: a session has ended this long after its login, however
 * busy it was (idle off). */
static int session_ends_at_its_max_lifetime(void)
{
    static const char *const sets[] = {"session_idle_s=0", "session_max_s=2", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL && wait_hearing(s) == 0);
    it_conn *u = it_connect_as(s->port, "ms_max", IT_PASSWORD);
    IT_CHECK(u != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    it_sleep_ms(1100);
    it_sleep_ms(1400);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    IT_CHECK(it_server_log_has(s, "why=max_lifetime"));
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(s, 10000) == 0);
    return 0;
}

/* A kept session's token, resumed on another process: the resumed
 * session starts its idle time now (the token is older than
 * session_idle_s), and counts session_max_s from the login the token came
 * from, so a resume after it is refused. */
static int resumed_session_counts_from_its_login(void)
{
    static const char *const sets[] = {"session_idle_s=1", "session_max_s=3", NULL};
    it_server *a = it_server_start(sets);
    it_server *b = it_server_start(sets);
    IT_CHECK(a != NULL && b != NULL && wait_hearing(a) == 0 && wait_hearing(b) == 0);
    it_conn *c = it_connect_anon(a->port);
    IT_CHECK(c != NULL);
    it_buf buf;
    it_buf_init(&buf);
    it_msg m;
    it_req(&buf, ++g_msgid, "session.login", 3);
    it_kv_str(&buf, "login", "ms_token");
    it_kv_str(&buf, "password", IT_PASSWORD);
    it_str(&buf, "keep");
    msgpack_pack_true(&buf.pk);
    IT_CHECK(call(c, &buf, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    char token[256];
    IT_CHECK(it_get_str(m.result, "token", token, sizeof token));
    it_msg_free(&m);
    it_close(c);
    it_sleep_ms(1500); /* longer than session_idle_s */
    it_conn *r = it_connect_anon(b->port);
    IT_CHECK(r != NULL);
    it_req(&buf, ++g_msgid, "session.resume", 1);
    it_kv_str(&buf, "token", token);
    IT_CHECK(expect_ok(r, &buf) == 0);
    IT_CHECK(read_page(r, &buf, NULL) == 0);
    it_sleep_ms(1800); /* past session_max_s since the login on A */
    it_conn *r2 = it_connect_anon(b->port);
    IT_CHECK(r2 != NULL);
    it_req(&buf, ++g_msgid, "session.resume", 1);
    it_kv_str(&buf, "token", token);
    IT_CHECK(expect_err(r2, &buf, "unauthenticated", NULL) == 0);
    /* Refused as expired: the token is gone, the attempt is no "ok". */
    const char *who[] = {"ms_token"};
    IT_CHECK(it_pg_int("SELECT count(*) FROM session_token t JOIN app_user u"
                       " ON u.id = t.user_id WHERE u.login = $1", 1, who) == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM login_event WHERE login = $1 AND via = 'token'"
                       " AND outcome = 'ok'", 1, who) == 1);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(a, 10000) == 0);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* The LISTEN connections cut (pg_terminate_backend; the shared server's
 * goes too): B refuses its sessions `unavailable` while it cannot hear
 * (after waiting SESSION_HEAR_WAIT_MS for it). Changes nobody was told of
 * (made with the notifying trigger off, so that it does not matter when
 * LISTEN comes back) are found by B's re-check once LISTEN is back: a
 * disabled user's sessions end; of a changed user's, only the session
 * made before the change ends, the one logged in since is good; another
 * user's session is served again. */
static int listen_cut_refuses_then_rechecks(void)
{
    /* A slow reconnect (at least 2.25 s with its jitter): longer than a
     * request waits to hear (SESSION_HEAR_WAIT_MS, 1 s). */
    static const char *const sets[] = {"reconnect_min_ms=3000", "reconnect_max_ms=4000", NULL};
    it_server *b = it_server_start(sets);
    IT_CHECK(b != NULL && wait_hearing(b) == 0);
    it_conn *u = it_connect_as(b->port, "ms_cut", IT_PASSWORD);
    it_conn *v = it_connect_as(b->port, "ms_cut2", IT_PASSWORD);
    it_conn *old3 = it_connect_as(b->port, "ms_cut3", IT_PASSWORD);
    IT_CHECK(u != NULL && v != NULL && old3 != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    IT_CHECK(read_page(v, &buf, NULL) == 0);
    IT_CHECK(read_page(old3, &buf, NULL) == 0);
    IT_CHECK(change_untold("disabled = true", "ms_cut") == 0);
    IT_CHECK(change_untold("epoch = epoch + 1", "ms_cut3") == 0);
    it_conn *new3 = it_connect_as(b->port, "ms_cut3", IT_PASSWORD);
    IT_CHECK(new3 != NULL);
    int ups = log_count(b, "event=listen_up");
    const char *db[] = {it_db_name()};
    long long n = it_pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = 'baobaod-listen' AND datname = $1",
                            1, db);
    IT_CHECKF(n >= 1, "terminated %lld listen connections", n);
    int64_t until = it_now_ms() + 5000;
    while (!it_server_log_has(b, "event=listen_lost") && it_now_ms() < until)
        it_sleep_ms(10);
    IT_CHECK(it_server_log_has(b, "event=listen_lost"));
    IT_CHECK(read_page(v, &buf, "unavailable") == 0);
    until = it_now_ms() + 15000;
    while (log_count(b, "event=session_recheck ended") < 2 && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(log_count(b, "event=listen_up") > ups);
    IT_CHECK(log_count(b, "event=session_recheck ended") >= 2);
    IT_CHECK(it_server_log_has(b, "why=disabled"));
    /* Served again once its beat's echo came back. */
    until = it_now_ms() + 5000;
    while (log_count(b, "event=node_hearing") < 2 && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(read_page(v, &buf, NULL) == 0);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    IT_CHECK(read_page(old3, &buf, "unauthenticated") == 0);
    IT_CHECK(read_page(new3, &buf, NULL) == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* A process killed with -9 leaves its registry row behind: a change
 * through A waits for it at most SESSION_BARRIER_MAX_MS (logged
 * session_barrier_timeout; the dead one serves no one), and once its beat
 * is NODE_STALE_MS old A no longer waits at all. Its last beat is set in
 * the registry by hand (just now, then 4 s ago), so neither part depends
 * on how soon after the kill the change comes. */
static int barrier_does_not_wait_for_a_dead_process(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    it_buf buf;
    it_buf_init(&buf);
    /* Alive: the barrier is met, nothing times out. */
    int timeouts = log_count(a, "event=session_barrier_timeout");
    int waiting1 = log_count(a, "waiting=1 ");
    IT_CHECK(update_user(adm, &buf, "ms_dead", "disabled", "true") == 0);
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts);

    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)b->pid);
    const char *p[] = {pid};
    it_server_signal(b, SIGKILL);
    IT_CHECK(it_server_wait(b, 5000) != -1);
    /* Died right after a beat: A waits for it, then gives up, says so. */
    IT_CHECK(it_pg_exec("UPDATE bb_node SET beat_at = now() WHERE pid = $1::integer", 1, p) ==
             0);
    IT_CHECK(update_user(adm, &buf, "ms_dead", "disabled", "false") == 0);
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts + 1);
    IT_CHECK(log_count(a, "waiting=1 ") == waiting1 + 1);
    /* Its beat NODE_STALE_MS (3 s) old: not waited for at all. */
    IT_CHECK(it_pg_exec("UPDATE bb_node SET beat_at = now() - interval '4 s'"
                        " WHERE pid = $1::integer", 1, p) == 0);
    IT_CHECK(update_user(adm, &buf, "ms_dead", "disabled", "true") == 0);
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts + 1);
    IT_CHECK(it_pg_exec("DELETE FROM bb_node WHERE pid = $1::integer", 1, p) == 0);
    it_buf_free(&buf);
    return 0;
}

/* The barrier is what holds the answer: while B is stopped (SIGSTOP, for
 * less than NODE_STALE_MS / 2, so its beat stays fresh) a disable through
 * A is not answered; once B runs again it applies the change, A answers,
 * and the session on B is refused. */
static int barrier_waits_for_a_stopped_process(void)
{
    it_server *a, *b;
    IT_CHECK(two_servers(&a, &b) == 0);
    it_conn *u = it_connect_as(b->port, "ms_stop", IT_PASSWORD);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(u != NULL && adm != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    it_server_signal(b, SIGSTOP);
    IT_CHECK(send_disable(adm, &buf, "ms_stop") == 0);
    it_msg m;
    int r = it_recv(adm, 200, &m);
    if (r == IT_RECV_MSG)
        it_msg_free(&m);
    it_server_signal(b, SIGCONT);
    IT_CHECKF(r == IT_RECV_TIMEOUT, "answered (%d) while B, not yet told, was stopped", r);
    IT_CHECK(it_recv(adm, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* A server stopped (SIGTERM) while a barrier waits for a stopped B: the
 * barrier gives up at once (logged why=shutdown), the answer goes, and
 * the server exits cleanly (it used to ask the closed pool). */
static int shutdown_while_a_barrier_waits(void)
{
    static const char *const sets[] = {"shutdown_deadline_ms=100", NULL};
    it_server *a = it_server_start(sets);
    it_server *b = it_server_start(NULL);
    IT_CHECK(a != NULL && b != NULL && wait_hearing(a) == 0 && wait_hearing(b) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    it_buf buf;
    it_buf_init(&buf);
    it_server_signal(b, SIGSTOP);
    IT_CHECK(send_disable(adm, &buf, "ms_shut") == 0);
    it_msg m;
    int r = it_recv(adm, 100, &m); /* the change is in, the barrier waits */
    if (r == IT_RECV_MSG)
        it_msg_free(&m);
    int st = it_server_stop(a, 10000);
    it_server_signal(b, SIGCONT);
    IT_CHECKF(st == 0, "the server stopped with status %d", st);
    IT_CHECK(it_server_log_has(a, "event=session_barrier_skipped"));
    IT_CHECK(it_server_log_has(a, "why=shutdown"));
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* The LISTEN backend of B stopped (SIGSTOP; its socket stays up): B's
 * beats go out but their echoes do not come back, so B says
 * event=node_not_hearing and refuses its sessions `unavailable`. While it
 * cannot hear, the requests that wait are bounded by input_budget_bytes
 * (a request whose copy does not fit is refused at once, logged
 * hear_wait_full), and a waiting request whose connection is gone (reset)
 * does not run when hearing comes back. */
static int deaf_process_refuses_and_bounds_its_waiting(void)
{
    static const char *const sets[] = {"input_budget_bytes=20000", NULL};
    it_server *b = it_server_start(sets);
    IT_CHECK(b != NULL && wait_hearing(b) == 0);
    pid_t backend = newest_listen_backend();
    IT_CHECK(backend > 0);
    it_conn *u = it_connect_as(b->port, "ms_deaf", IT_PASSWORD);
    it_conn *gone = it_connect_as(b->port, "ms_deaf", IT_PASSWORD);
    IT_CHECK(u != NULL && gone != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    IT_CHECKF(kill(backend, SIGSTOP) == 0, "cannot stop backend %d", (int)backend);
    int64_t until = it_now_ms() + 10000;
    while (!it_server_log_has(b, "event=node_not_hearing") && it_now_ms() < until)
        it_sleep_ms(20);
    bool deaf = it_server_log_has(b, "event=node_not_hearing");
    int rc = 0;
    if (deaf) {
        /* Three requests of 8 KB of arguments, sent together: two wait,
         * the third does not fit in the budget (an unknown argument: when
         * the two run, they are refused too, so every answer is an
         * error). */
        static char big[8001];
        memset(big, 'x', sizeof big - 1);
        for (int i = 0; i < 3; i++) {
            it_req(&buf, ++g_msgid, "enterprise.list", 2);
            it_kv_int(&buf, "limit", 1);
            it_kv_str(&buf, "padding", big);
            if (send_only(u, &buf) != 0)
                rc = -1;
        }
        /* A write that waits, then its connection reset. */
        char code[19];
        it_credit_code(88031, code);
        it_req(&buf, ++g_msgid, "enterprise.create", 3);
        it_kv_str(&buf, "name", "聋进程不写");
        it_kv_str(&buf, "credit_code", code);
        it_kv_str(&buf, "township", "赤壁镇");
        if (send_only(gone, &buf) != 0)
            rc = -1;
        it_sleep_ms(100); /* lets B read it (no answer can tell) */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(gone->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        it_close(gone);
        until = it_now_ms() + 5000;
        while (!it_server_log_has(b, "event=read_failed") && it_now_ms() < until)
            it_sleep_ms(10);
    }
    (void)kill(backend, SIGCONT);
    IT_CHECK(deaf);
    IT_CHECK(rc == 0);
    IT_CHECK(it_server_log_has(b, "event=read_failed"));
    IT_CHECK(it_server_log_has(b, "event=hear_wait_full"));
    for (int i = 0; i < 3; i++) {
        it_msg m;
        char d[800];
        IT_CHECK(it_recv(u, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
        IT_CHECKF(m.is_error, "expected an error, got %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    until = it_now_ms() + 5000;
    while (log_count(b, "event=node_hearing") < 2 && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    it_buf_free(&buf);
    /* Once B has stopped, nothing it was running can still commit. */
    IT_CHECK(it_server_stop(b, 10000) == 0);
    char code[19];
    it_credit_code(88031, code);
    const char *cp[] = {code};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, cp) == 0);
    return 0;
}

/* session.change_password while an admin demotes the same user: the
 * demotion commits while the password's statement waits for the row
 * (held by the test's transaction), so its notification comes while the
 * change is held. The session must not go on as a supervisor: it is
 * logged out (it used to keep its session under the new epoch). */
static int demotion_during_own_password_change_ends_the_session(void)
{
    it_server *a = it_shared_server();
    IT_CHECK(a != NULL && wait_hearing(a) == 0);
    it_conn *c = it_connect_as(a->port, "ms_held", IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf buf;
    it_buf_init(&buf);
    PGconn *tx = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(tx) == CONNECTION_OK);
    PGresult *r = PQexec(tx, "BEGIN");
    PQclear(r);
    r = PQexec(tx, "UPDATE app_user SET role = 'township_staff' WHERE login = 'ms_held'");
    bool updated = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    r = PQexec(tx, "INSERT INTO app_user_township (user_id, township_id)"
                   " SELECT u.id, t.id FROM app_user u, township t"
                   " WHERE u.login = 'ms_held' AND t.name = '赤壁镇'");
    updated = updated && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    it_req(&buf, ++g_msgid, "session.change_password", 2);
    it_kv_str(&buf, "old_password", IT_PASSWORD);
    it_kv_str(&buf, "new_password", "降级时改的密码-多进程-4");
    int sent = send_only(c, &buf);
    /* Until the password's statement waits for the row lock. */
    const char *db[] = {it_db_name()};
    int64_t until = it_now_ms() + 15000;
    long long waiting = 0;
    while ((waiting = it_pg_int("SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                                " AND wait_event_type = 'Lock'"
                                " AND query LIKE '%bb_session_change_password%'",
                                1, db)) < 1 &&
           it_now_ms() < until)
        it_sleep_ms(10);
    r = PQexec(tx, "COMMIT");
    PQclear(r);
    PQfinish(tx);
    IT_CHECK(updated && sent == 0);
    IT_CHECKF(waiting == 1, "the password change never waited for the row");
    it_msg m;
    IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_msg_free(&m);
    IT_CHECK(write_one(c, &buf, 88041, "unauthenticated") == 0);
    it_buf_free(&buf);
    return 0;
}

/* A change of several townships is one raise of the epoch and one
 * notification; a user made with townships in one transaction raised
 * nothing. */
static int township_change_notifies_once(void)
{
    it_server *a = it_shared_server();
    IT_CHECK(a != NULL && wait_hearing(a) == 0);
    const char *who[] = {"ms_many"};
    IT_CHECK(it_pg_int("SELECT epoch FROM app_user WHERE login = $1", 1, who) == 1);
    IT_CHECK(it_pg_int("SELECT session_seq FROM app_user WHERE login = $1", 1, who) == 0);
    it_conn *adm = it_connect_as(a->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    long long seq0 = it_pg_int("SELECT last_value FROM bb_session_seq", 0, NULL);
    it_buf buf;
    it_buf_init(&buf);
    const char *towns[] = {"车埠镇", "新店镇", "赵李桥镇"};
    it_req(&buf, ++g_msgid, "user.update", 3);
    it_kv_int(&buf, "id", it_user_id("ms_many"));
    it_kv_int(&buf, "version", version_of("ms_many"));
    it_kv_strs(&buf, "townships", towns, 3);
    IT_CHECK(expect_ok(adm, &buf) == 0);
    IT_CHECK(it_pg_int("SELECT epoch FROM app_user WHERE login = $1", 1, who) == 2);
    IT_CHECK(it_pg_int("SELECT last_value FROM bb_session_seq", 0, NULL) == seq0 + 1);
    it_buf_free(&buf);
    return 0;
}

/* A connection that only receives pushes (watch.subscribe, then
 * nothing): its session ends after session_idle_s all the same, without
 * a request of its own (logged why=idle). */
static int push_subscriber_session_expires(void)
{
    static const char *const sets[] = {"session_idle_s=1", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL && wait_hearing(s) == 0);
    it_conn *u = it_connect_as(s->port, "ms_watch", IT_PASSWORD);
    IT_CHECK(u != NULL);
    it_buf buf;
    it_buf_init(&buf);
    it_req(&buf, ++g_msgid, "watch.subscribe", 0);
    IT_CHECK(expect_ok(u, &buf) == 0);
    IT_CHECK(!it_server_log_has(s, "why=idle"));
    int64_t until = it_now_ms() + 5000;
    while (!it_server_log_has(s, "why=idle") && it_now_ms() < until)
        it_sleep_ms(50);
    IT_CHECK(it_server_log_has(s, "event=session_expired"));
    IT_CHECK(it_server_log_has(s, "why=idle"));
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(s, 10000) == 0);
    return 0;
}

/* A login in flight while LISTEN comes back up (its user's row held by
 * the test's transaction, so it cannot finish before B's re-check has
 * been sent): it may have read its user before a change B never heard,
 * and the re-check did not know its session, so B re-checks every
 * session once more when the login has set it (it used to serve it
 * unchecked). */
static int login_in_flight_across_a_reconnect_is_rechecked(void)
{
    it_server *b = it_server_start(NULL);
    IT_CHECK(b != NULL && wait_hearing(b) == 0);
    pid_t backend = newest_listen_backend();
    IT_CHECK(backend > 0);
    PGconn *tx = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(tx) == CONNECTION_OK);
    PGresult *r = PQexec(tx, "BEGIN");
    PQclear(r);
    r = PQexec(tx, "SELECT 1 FROM app_user WHERE login = 'ms_inflight' FOR UPDATE");
    bool locked = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    PQclear(r);
    it_conn *c = it_connect_anon(b->port);
    it_buf buf;
    it_buf_init(&buf);
    it_req(&buf, ++g_msgid, "session.login", 2);
    it_kv_str(&buf, "login", "ms_inflight");
    it_kv_str(&buf, "password", IT_PASSWORD);
    int sent = c != NULL ? send_only(c, &buf) : -1;
    const char *db[] = {it_db_name()};
    int64_t until = it_now_ms() + 15000;
    long long waiting = 0;
    while ((waiting = it_pg_int("SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                                " AND wait_event_type = 'Lock'", 1, db)) < 1 &&
           it_now_ms() < until)
        it_sleep_ms(10);
    int rechecks = log_count(b, "event=session_recheck ended");
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)backend);
    const char *p[] = {pid};
    long long cut = it_pg_int("SELECT count(pg_terminate_backend($1::integer))", 1, p);
    until = it_now_ms() + 15000;
    while (log_count(b, "event=session_recheck ended") <= rechecks && it_now_ms() < until)
        it_sleep_ms(20);
    int rechecked = log_count(b, "event=session_recheck ended");
    r = PQexec(tx, "COMMIT");
    PQclear(r);
    PQfinish(tx);
    IT_CHECK(locked && sent == 0 && cut == 1);
    IT_CHECKF(waiting >= 1, "the login never waited for the row");
    IT_CHECK(rechecked > rechecks);
    it_msg m;
    char d[800];
    IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "expected a session, got %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(it_server_log_has(b, "event=session_recheck_again"));
    until = it_now_ms() + 5000;
    while (log_count(b, "event=session_recheck ended") <= rechecked && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(log_count(b, "event=session_recheck ended") > rechecked);
    IT_CHECK(read_page(c, &buf, NULL) == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

static const it_test tests[] = {
    {"resumed_session_counts_from_its_login", resumed_session_counts_from_its_login},
    {"password_set_on_a_ends_sessions_on_b", password_set_on_a_ends_sessions_on_b},
    {"disable_on_a_ends_sessions_on_b", disable_on_a_ends_sessions_on_b},
    {"demotion_on_a_takes_effect_on_b", demotion_on_a_takes_effect_on_b},
    {"scope_change_on_a_takes_effect_on_b", scope_change_on_a_takes_effect_on_b},
    {"own_password_change_keeps_this_session_only",
     own_password_change_keeps_this_session_only},
    {"idle_session_ends", idle_session_ends},
    {"session_ends_at_its_max_lifetime", session_ends_at_its_max_lifetime},
    {"barrier_does_not_wait_for_a_dead_process", barrier_does_not_wait_for_a_dead_process},
    {"listen_cut_refuses_then_rechecks", listen_cut_refuses_then_rechecks},
    {"barrier_waits_for_a_stopped_process", barrier_waits_for_a_stopped_process},
    {"shutdown_while_a_barrier_waits", shutdown_while_a_barrier_waits},
    {"deaf_process_refuses_and_bounds_its_waiting", deaf_process_refuses_and_bounds_its_waiting},
    {"demotion_during_own_password_change_ends_the_session",
     demotion_during_own_password_change_ends_the_session},
    {"township_change_notifies_once", township_change_notifies_once},
    {"push_subscriber_session_expires", push_subscriber_session_expires},
    {"login_in_flight_across_a_reconnect_is_rechecked",
     login_in_flight_across_a_reconnect_is_rechecked},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "sessions_multi", tests, sizeof tests / sizeof tests[0], setup);
}
