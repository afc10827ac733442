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
    IT_CHECK(it_server_log_has(b, "max_lifetime"));
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(a, 10000) == 0);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* The LISTEN connections cut (pg_terminate_backend; the shared server's
 * goes too): B refuses its sessions `unavailable` while it cannot hear
 * (after waiting SESSION_HEAR_WAIT_MS for it); a
 * user disabled meanwhile (no process heard it) is found by B's re-check
 * once LISTEN is back, and another user's session is served again. */
static int listen_cut_refuses_then_rechecks(void)
{
    /* A slow reconnect (at least 2.25 s with its jitter): longer than a
     * request waits to hear (SESSION_HEAR_WAIT_MS, 1 s), and the disable
     * below lands while B is deaf. */
    static const char *const sets[] = {"reconnect_min_ms=3000", "reconnect_max_ms=4000", NULL};
    it_server *b = it_server_start(sets);
    IT_CHECK(b != NULL && wait_hearing(b) == 0);
    it_conn *u = it_connect_as(b->port, "ms_cut", IT_PASSWORD);
    it_conn *v = it_connect_as(b->port, "ms_cut2", IT_PASSWORD);
    IT_CHECK(u != NULL && v != NULL);
    it_buf buf;
    it_buf_init(&buf);
    IT_CHECK(read_page(u, &buf, NULL) == 0);
    IT_CHECK(read_page(v, &buf, NULL) == 0);
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
    /* Straight in the database: the notification reaches no one. */
    const char *who[] = {"ms_cut"};
    IT_CHECK(it_pg_exec("UPDATE app_user SET disabled = true WHERE login = $1", 1, who) == 0);
    until = it_now_ms() + 15000;
    while (log_count(b, "event=session_recheck") < 2 && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(log_count(b, "event=listen_up") > ups);
    IT_CHECK(log_count(b, "event=session_recheck") >= 2);
    IT_CHECK(it_server_log_has(b, "why=disabled"));
    /* Served again once its beat's echo came back. */
    until = it_now_ms() + 5000;
    while (log_count(b, "event=node_hearing") < 2 && it_now_ms() < until)
        it_sleep_ms(20);
    IT_CHECK(read_page(v, &buf, NULL) == 0);
    IT_CHECK(read_page(u, &buf, "unauthenticated") == 0);
    it_buf_free(&buf);
    IT_CHECK(it_server_stop(b, 10000) == 0);
    return 0;
}

/* A process killed with -9 leaves its registry row behind: a change
 * through A waits for it at most SESSION_BARRIER_MAX_MS (logged
 * session_barrier_timeout; the dead one serves no one), and once its beat
 * is NODE_STALE_MS old A no longer waits at all. */
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
    it_req(&buf, ++g_msgid, "user.set_password", 2);
    it_kv_int(&buf, "id", it_user_id("ms_dead"));
    it_kv_str(&buf, "password", "死进程之前-1");
    IT_CHECK(expect_ok(adm, &buf) == 0);
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts);

    it_server_signal(b, SIGKILL);
    IT_CHECK(it_server_wait(b, 5000) != -1);
    int64_t t0 = it_now_ms();
    it_req(&buf, ++g_msgid, "user.set_password", 2);
    it_kv_int(&buf, "id", it_user_id("ms_dead"));
    it_kv_str(&buf, "password", "死进程之后-2");
    IT_CHECK(expect_ok(adm, &buf) == 0);
    it_note("first change after kill -9 answered in %lld ms", (long long)(it_now_ms() - t0));
    /* B's row is dead but its beat was fresh: A gave up on it, said so. */
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts + 1);
    IT_CHECK(it_server_log_has(a, "waiting=1"));
    /* NODE_STALE_MS (3 s) after B's last beat: not waited for at all. */
    it_sleep_ms(3200);
    t0 = it_now_ms();
    it_req(&buf, ++g_msgid, "user.set_password", 2);
    it_kv_int(&buf, "id", it_user_id("ms_dead"));
    it_kv_str(&buf, "password", "死进程之后-3");
    IT_CHECK(expect_ok(adm, &buf) == 0);
    it_note("change after the dead process went stale answered in %lld ms",
            (long long)(it_now_ms() - t0));
    IT_CHECK(log_count(a, "event=session_barrier_timeout") == timeouts + 1);
    it_buf_free(&buf);
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
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "sessions_multi", tests, sizeof tests / sizeof tests[0], setup);
}
