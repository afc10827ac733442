/*
 * test_push.c: pushes through LISTEN/NOTIFY (PROTOCOL.md section 1, "Push
 * (notifications from the server)") against real baobaod processes on one
 * real database: a subscriber on one server gets the notice and the light
 * change a write through another server caused, and only the users they
 * concern get them; `all` is for supervisors and admins; the LISTEN
 * connection, ended by PostgreSQL (pg_terminate_backend), comes back by
 * itself, subscribers are told watch.missed, and pushes flow again; a
 * subscriber that does not read is cut off at write_high_water (the server
 * does not buffer for it) and is told watch.missed once it has drained;
 * watch.missed waits for watch.subscribe's answer and names its ids;
 * pushes come in the order announced, a wide range read in chunks;
 * libbaobao, its queue full, drops until its watch.missed is taken;
 * `baobao watch`, run as a child process, prints a pushed notice.
 *
 * Notices come from the sweep (supervise.run, sql/023's bb_supervise), the
 * clock is pinned (fake_now) on every server so all sweeps agree on today.
 * Not for: the rules of lights and notices (test_supervise.c, test_notices.c).
 */
#include "harness.h"

#include <baobao.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Tuesday 10 March 2026, 09:00 in Beijing. A problem due tomorrow is green
 * and falls in the due rule (notice_due_days, default 3): the sweep issues
 * a 提醒 notice and the problem's first light change. */
#define FAKE_NOW "fake_now=2026-03-10T09:00:00+08:00"
#define TOMORROW "2026-03-11"
#define PUSH_WAIT_MS 20000

static uint32_t g_msgid = 100;
static unsigned long g_code = 9300;

/* ---- helpers ---- */

static void req(it_buf *b, const char *method, size_t nargs)
{
    it_req(b, ++g_msgid, method, nargs);
}

/* watch.subscribe ({all}); *notice_last the answer's notice_last. */
static int subscribe(it_conn *c, bool all, int64_t *notice_last)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "watch.subscribe", all ? 1 : 0);
    if (all)
        it_kv_bool(&b, "all", true);
    it_msg m;
    int rc = it_buf_ok(c, &b, g_msgid, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    int64_t nl = -1, ll = -1;
    IT_CHECK(it_get_int(m.result, "notice_last", &nl) && nl >= 0);
    IT_CHECK(it_get_int(m.result, "light_last", &ll) && ll >= 0);
    if (notice_last != NULL)
        *notice_last = nl;
    it_msg_free(&m);
    return 0;
}

/* An enterprise of township through c, and a problem of it due `deadline`;
 * *pid its id. */
static int make_problem(it_conn *c, const char *name, const char *township, const char *deadline,
                        int64_t *pid)
{
    char code[19];
    it_credit_code(g_code++, code);
    int64_t eid = it_create_enterprise(c, name, code, township);
    IT_CHECK(eid > 0);
    it_buf b;
    it_buf_init(&b);
    req(&b, "problem.create", 4);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "category", "用工");
    it_kv_str(&b, "description", "缺少熟练挡车工");
    it_kv_str(&b, "deadline", deadline);
    it_msg m;
    int rc = it_buf_ok(c, &b, g_msgid, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    IT_CHECK(it_get_int(m.result, "id", pid));
    it_msg_free(&m);
    return 0;
}

/* supervise.run through c (a supervisor). */
static int sweep(it_conn *c)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "supervise.run", 0);
    it_msg m;
    int rc = it_buf_ok(c, &b, g_msgid, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    it_msg_free(&m);
    return 0;
}

/* The record of a push ([2, method, [record]]); NULL when not one. */
static const msgpack_object *push_record(const it_msg *m)
{
    if (m->kind != 2 || m->root->via.array.size != 3)
        return NULL;
    const msgpack_object *p = &m->root->via.array.ptr[2];
    if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 1)
        return NULL;
    return &p->via.array.ptr[0];
}

/* Reads until the push `method` whose record has problem_id pid comes
 * (other messages are skipped); *rec_id its id (may be NULL), *level its
 * level when a notice (may be NULL). 0 or -1. */
static int wait_push(it_conn *c, const char *method, int64_t pid, int64_t *rec_id, char *level,
                     size_t levelcap)
{
    int64_t until = it_now_ms() + PUSH_WAIT_MS;
    while (it_now_ms() < until) {
        it_msg m;
        int r = it_recv(c, (int)(until - it_now_ms()), &m);
        IT_CHECKF(r == IT_RECV_MSG, "no %s for problem %lld (recv %d)", method, (long long)pid,
                  r);
        const msgpack_object *rec = push_record(&m);
        int64_t p = 0;
        if (rec != NULL && strcmp(m.method, method) == 0 && it_get_int(rec, "problem_id", &p) &&
            p == pid) {
            if (rec_id != NULL)
                IT_CHECK(it_get_int(rec, "id", rec_id));
            if (level != NULL)
                IT_CHECK(it_get_str(rec, "level", level, levelcap));
            it_msg_free(&m);
            return 0;
        }
        it_msg_free(&m);
    }
    it_fail(__FILE__, __LINE__, "no %s for problem %lld in %d ms", method, (long long)pid,
            PUSH_WAIT_MS);
    return -1;
}

/* Reads until both the notice and the light change of problem pid came,
 * in whichever order (the sweep announces its light changes first, but
 * each announcement is read from the database on its own). 0 or -1. */
static int wait_both(it_conn *c, int64_t pid)
{
    bool notice = false, light = false;
    int64_t until = it_now_ms() + PUSH_WAIT_MS;
    while (!(notice && light) && it_now_ms() < until) {
        it_msg m;
        int r = it_recv(c, (int)(until - it_now_ms()), &m);
        IT_CHECKF(r == IT_RECV_MSG, "problem %lld: notice %d light %d (recv %d)",
                  (long long)pid, notice, light, r);
        const msgpack_object *rec = push_record(&m);
        int64_t p = 0;
        if (rec != NULL && it_get_int(rec, "problem_id", &p) && p == pid) {
            notice = notice || strcmp(m.method, "notice.issued") == 0;
            light = light || strcmp(m.method, "light.changed") == 0;
        }
        it_msg_free(&m);
    }
    IT_CHECKF(notice && light, "problem %lld: notice %d light %d", (long long)pid, notice,
              light);
    return 0;
}

/* Nothing about problem pid arrives on c within ms. 0 or -1. */
static int no_push_for(it_conn *c, int64_t pid, int ms)
{
    int64_t until = it_now_ms() + ms;
    while (it_now_ms() < until) {
        it_msg m;
        int r = it_recv(c, (int)(until - it_now_ms()), &m);
        if (r == IT_RECV_TIMEOUT)
            return 0;
        IT_CHECK(r == IT_RECV_MSG);
        const msgpack_object *rec = push_record(&m);
        int64_t p = 0;
        bool about = rec != NULL && it_get_int(rec, "problem_id", &p) && p == pid;
        char d[600];
        if (about)
            it_fail(__FILE__, __LINE__, "unexpected push: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
        IT_CHECK(!about);
    }
    return 0;
}

static int count_in(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- tests ---- */

static int a_subscriber_on_one_server_gets_what_a_write_through_another_caused(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    it_server *a = it_server_start(sets);
    it_server *b = it_server_start(sets);
    IT_CHECK(a != NULL && b != NULL);
    it_conn *staff = it_connect_as(a->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *staff2 = it_connect_as(a->port, IT_USER_STAFF2, IT_PASSWORD);
    it_conn *super = it_connect(a->port);
    it_conn *writer = it_connect(b->port);
    IT_CHECK(staff != NULL && staff2 != NULL && super != NULL && writer != NULL);
    int64_t before = -1;
    IT_CHECK(subscribe(staff, false, &before) == 0);
    IT_CHECK(subscribe(staff2, false, NULL) == 0);
    IT_CHECK(subscribe(super, true, NULL) == 0);

    /* The write and the sweep through B; A only listens. */
    int64_t pid = 0;
    IT_CHECK(make_problem(writer, "汉江纺织", "赵李桥镇", TOMORROW, &pid) == 0);
    IT_CHECK(sweep(writer) == 0);

    int64_t nid = 0;
    char level[32] = "";
    IT_CHECK(wait_push(staff, "notice.issued", pid, &nid, level, sizeof level) == 0);
    IT_CHECK(nid > before);
    IT_CHECK_STR(level, "due");
    /* The notice record as notice.get answers it. */
    it_buf bb;
    it_buf_init(&bb);
    req(&bb, "notice.get", 1);
    it_kv_int(&bb, "id", nid);
    it_msg m;
    IT_CHECK(it_buf_ok(staff, &bb, g_msgid, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "level", "due"));
    it_msg_free(&m);
    it_buf_free(&bb);
    /* The supervisor watching everything gets the notice and the light
     * change (the problem's first light). */
    IT_CHECK(wait_both(super, pid) == 0);
    /* 新店镇's staff are not concerned: nothing about it. */
    IT_CHECK(no_push_for(staff2, pid, 1500) == 0);
    IT_CHECK(it_server_log_has(a, "event=listen_up"));
    /* Subscribers and the LISTEN connection leave nothing behind (ASan's
     * leak check makes a leak a non-zero exit). */
    int st = it_server_stop(a, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "server A exited with wait status %d", st);
    return 0;
}

static int all_is_for_supervisors_and_admins_and_a_logout_ends_it(void)
{
    /* Not the shared server: every server of this file pins the same day,
     * or their sweeps would disagree on the lights. */
    const char *sets[] = {FAKE_NOW, NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(staff != NULL && admin != NULL);
    it_buf b;
    it_buf_init(&b);
    req(&b, "watch.subscribe", 1);
    it_kv_bool(&b, "all", true);
    IT_CHECK(it_buf_err(staff, &b, g_msgid, "forbidden", "all") == 0);
    it_buf_free(&b);
    IT_CHECK(subscribe(staff, false, NULL) == 0);
    IT_CHECK(subscribe(admin, true, NULL) == 0);
    /* Unsubscribing answers {}. */
    it_buf_init(&b);
    req(&b, "watch.unsubscribe", 0);
    it_msg m;
    IT_CHECK(it_buf_ok(admin, &b, g_msgid, &m) == 0);
    IT_CHECK(m.result->type == MSGPACK_OBJECT_MAP && m.result->via.map.size == 0);
    it_msg_free(&m);
    it_buf_free(&b);

    /* A logout ends the subscription, and a new login on the same
     * connection starts without one: the staff user (concerned by a
     * notice of 赵李桥镇) gets nothing of it. */
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "session.logout", IT_NO_ARGS);
    IT_CHECK(it_buf_ok(staff, &b, g_msgid, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    IT_CHECK(it_login(staff, IT_USER_STAFF, IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    it_conn *super = it_connect(s->port);
    /* The writes through a connection of their own: a push that comes
     * before a reply would be skipped while waiting for the reply (the
     * sweep bb_dirty starts may issue the notice before supervise.run). */
    it_conn *writer = it_connect(s->port);
    IT_CHECK(super != NULL && writer != NULL);
    IT_CHECK(subscribe(super, true, NULL) == 0);
    int64_t pid = 0;
    IT_CHECK(make_problem(writer, "羊楼洞砖茶", "赵李桥镇", TOMORROW, &pid) == 0);
    IT_CHECK(sweep(writer) == 0);
    IT_CHECK(wait_both(super, pid) == 0);
    IT_CHECK(no_push_for(staff, pid, 1000) == 0);
    return 0;
}

static int the_listen_connection_comes_back_after_postgresql_ends_it(void)
{
    const char *sets[] = {FAKE_NOW, "reconnect_min_ms=100", "reconnect_max_ms=1000", NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    it_conn *super = it_connect(a->port);
    IT_CHECK(super != NULL);
    /* LISTEN is up once the first sweep's pushes can arrive. */
    int64_t until = it_now_ms() + 15000;
    while (!it_server_log_has(a, "event=listen_up") && it_now_ms() < until)
        it_sleep_ms(50);
    IT_CHECK(it_server_log_has(a, "event=listen_up"));
    IT_CHECK(subscribe(super, true, NULL) == 0);

    const char *db[] = {it_db_name()};
    long long n = it_pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = 'baobaod-listen' AND datname = $1",
                            1, db);
    IT_CHECKF(n == 1, "terminated %lld listen connections", n);
    /* Lost, logged with the reason, and back. */
    until = it_now_ms() + 15000;
    char *log = NULL;
    for (;;) {
        free(log);
        log = it_server_log(a);
        if ((log != NULL && count_in(log, "event=listen_up") >= 2) || it_now_ms() > until)
            break;
        it_sleep_ms(50);
    }
    const char *lost_line = log != NULL ? strstr(log, "event=listen_lost") : NULL;
    bool lost = lost_line != NULL;
    /* The reason is PostgreSQL's (through the notice processor), not
     * libpq's "server closed the connection unexpectedly", and libpq
     * printed nothing raw (a "FATAL:" line of its own). */
    const char *eol = lost_line != NULL ? strchr(lost_line, '\n') : NULL;
    const char *why = lost_line != NULL ? strstr(lost_line, "terminating connection") : NULL;
    bool told = why != NULL && (eol == NULL || why < eol);
    bool raw = log != NULL && (strncmp(log, "FATAL:", 6) == 0 || strstr(log, "\nFATAL:") != NULL);
    bool noticed = log != NULL && strstr(log, "event=listen_notice") != NULL;
    int ups = log != NULL ? count_in(log, "event=listen_up") : 0;
    if (lost && (!told || raw || !noticed))
        it_note("server log:\n%s", log);
    free(log);
    IT_CHECK(lost);
    IT_CHECK(told && noticed && !raw);
    IT_CHECKF(ups >= 2, "listen_up %d times", ups);
    /* Notifications sent while it was down are lost to it: the subscriber
     * is told to catch up. */
    it_msg m;
    until = it_now_ms() + 10000;
    bool missed = false;
    while (!missed && it_now_ms() < until) {
        int r = it_recv(super, (int)(until - it_now_ms()), &m);
        IT_CHECK(r == IT_RECV_MSG);
        missed = m.kind == 2 && strcmp(m.method, "watch.missed") == 0;
        if (missed) {
            const msgpack_object *rec = push_record(&m);
            int64_t x;
            IT_CHECK(rec != NULL && it_get_int(rec, "notice_after", &x) &&
                     it_get_int(rec, "light_after", &x));
        }
        it_msg_free(&m);
    }
    IT_CHECK(missed);
    /* And a new notice still arrives (written through another connection,
     * so no push is skipped while a reply is awaited). */
    it_conn *writer = it_connect(a->port);
    IT_CHECK(writer != NULL);
    int64_t pid = 0;
    IT_CHECK(make_problem(writer, "蒲圻纸业", "新店镇", TOMORROW, &pid) == 0);
    IT_CHECK(sweep(writer) == 0);
    IT_CHECK(wait_push(super, "notice.issued", pid, NULL, NULL, 0) == 0);
    int st = it_server_stop(a, IT_STOP_TIMEOUT_MS);
    IT_CHECKF(st == 0, "exited with wait status %d", st);
    return 0;
}

static int a_subscriber_that_does_not_read_is_cut_off_not_buffered(void)
{
    const char *sets[] = {FAKE_NOW, "write_high_water=16384", "write_low_water=4096", NULL};
    /* ASan's quarantine keeps every freed block for a while: without it,
     * RSS measures what is held, not what was churned through. */
    const char *env[] = {"ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:"
                         "quarantine_size_mb=0:thread_local_quarantine_size_kb=0",
                         NULL};
    it_server *a = it_server_start_env(sets, env);
    IT_CHECK(a != NULL);
    it_conn *w = it_connect(a->port);
    IT_CHECK(w != NULL);
    /* A few notices whose range the test then announces again and again. */
    int64_t pid = 0;
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "赤壁青砖茶%d厂", i);
        IT_CHECK(make_problem(w, name, "赵李桥镇", TOMORROW, &pid) == 0);
    }
    IT_CHECK(sweep(w) == 0);
    long long last = it_pg_int("SELECT max(id) FROM notice", 0, NULL);
    IT_CHECK(last >= 4);

    it_conn *slow = it_connect_rcvbuf(a->port, 4096);
    IT_CHECK(slow != NULL);
    IT_CHECK(subscribe(slow, true, NULL) == 0);
    it_sleep_ms(300);
    long rss0 = it_server_rss_kb(a);
    IT_CHECK(rss0 > 0);
    /* Distinct payloads (identical ones are folded per transaction), each
     * the same notices: 80 transactions of 100 notifications, every one a
     * read of all notices pushed to the subscriber. */
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_notify('bb_push', 'notice:1-' || (%lld + g)))"
             " FROM generate_series(0, 99) g",
             last);
    int pushes = 0;
    for (int t = 0; t < 80; t++) {
        IT_CHECK(it_pg_int(sql, 0, NULL) == 100);
        pushes += 100;
        it_sleep_ms(25);
    }
    /* Time for the server to read and push them all (about a second
     * under ASan on two cores). */
    it_sleep_ms(4000);
    long rss1 = it_server_rss_kb(a);
    it_note("rss before %ld KiB, after %ld KiB; %d notifications of %lld notices", rss0, rss1,
            pushes, last);
    /* Pushed in full, that is pushes * last records of ~0.5 KiB: 16 MB and
     * more, a few of which the kernel's buffers take (a server without the
     * bound grew by 7 MB with half as many). Kept below the high water
     * mark, the server grows by little (about 1 MB measured). */
    IT_CHECKF(rss1 - rss0 < 6 * 1024, "server grew by %ld KiB", rss1 - rss0);
    IT_CHECK(it_server_log_has(a, "event=push_missed"));
    int64_t until;

    /* Now read: some notices, then one watch.missed naming the last
     * notice it got, then nothing more of the flood. */
    long got = 0;
    bool missed = false;
    int64_t after = -1;
    until = it_now_ms() + 30000;
    while (!missed && it_now_ms() < until) {
        it_msg m;
        int r = it_recv(slow, 5000, &m);
        IT_CHECKF(r == IT_RECV_MSG, "recv %d after %ld notices", r, got);
        if (m.kind == 2 && strcmp(m.method, "notice.issued") == 0)
            got++;
        else if (m.kind == 2 && strcmp(m.method, "watch.missed") == 0) {
            missed = true;
            const msgpack_object *rec = push_record(&m);
            IT_CHECK(rec != NULL && it_get_int(rec, "notice_after", &after));
        }
        it_msg_free(&m);
    }
    IT_CHECK(missed);
    it_note("received %ld notices before watch.missed (of %lld pushed)", got,
            (long long)pushes * last);
    IT_CHECK(got > 0 && got < (long)pushes * last / 4);
    IT_CHECK(after >= 1 && after <= last);
    /* Pushes resume after the missed message. */
    IT_CHECK(it_pg_int("SELECT count(pg_notify('bb_push', 'notice:1-1'))", 0, NULL) == 1);
    bool again = false;
    until = it_now_ms() + 10000;
    while (!again && it_now_ms() < until) {
        it_msg m;
        int r = it_recv(slow, 5000, &m);
        IT_CHECK(r == IT_RECV_MSG);
        int64_t id = 0;
        const msgpack_object *rec = push_record(&m);
        again = m.kind == 2 && strcmp(m.method, "notice.issued") == 0 && rec != NULL &&
                it_get_int(rec, "id", &id) && id == 1;
        it_msg_free(&m);
    }
    IT_CHECK(again);
    return 0;
}

static int make_notices(it_conn *c, const char *stem, int n);

static int watch_missed_waits_for_the_subscribe_answer_and_names_its_ids(void)
{
    const char *sets[] = {FAKE_NOW, "reconnect_min_ms=100", "reconnect_max_ms=1000", NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    it_conn *super = it_connect(a->port);
    IT_CHECK(super != NULL);
    int64_t until = it_now_ms() + 15000;
    while (!it_server_log_has(a, "event=listen_up") && it_now_ms() < until)
        it_sleep_ms(50);
    IT_CHECK(it_server_log_has(a, "event=listen_up"));
    it_conn *w = it_connect(a->port);
    IT_CHECK(w != NULL);
    IT_CHECK(make_notices(w, "官塘驿茶", 1) == 0); /* ids to name, not 0 */
    it_sleep_ms(500); /* the sweeps are done with light_change */
    /* The subscribe's query waits for a lock the test holds; meanwhile
     * the LISTEN connection is ended and comes back, which tells every
     * subscriber watch.missed. */
    PGconn *locker = PQconnectdb(it_db_conninfo());
    IT_CHECK(PQstatus(locker) == CONNECTION_OK);
    PGresult *lr = PQexec(locker, "BEGIN; LOCK TABLE light_change IN ACCESS EXCLUSIVE MODE");
    bool locked = PQresultStatus(lr) == PGRES_COMMAND_OK;
    PQclear(lr);
    if (!locked)
        PQfinish(locker);
    IT_CHECK(locked);
    it_buf b;
    it_buf_init(&b);
    req(&b, "watch.subscribe", 1);
    it_kv_bool(&b, "all", true);
    uint32_t sub_id = g_msgid;
    int sent = it_send(super, b.sb.data, b.sb.size);
    it_buf_free(&b);
    it_sleep_ms(300);
    const char *db[] = {it_db_name()};
    long long n = it_pg_int("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                            " WHERE application_name = 'baobaod-listen' AND datname = $1",
                            1, db);
    until = it_now_ms() + 15000;
    for (;;) {
        char *log = it_server_log(a);
        int ups = log != NULL ? count_in(log, "event=listen_up") : 0;
        free(log);
        if (ups >= 2 || it_now_ms() > until)
            break;
        it_sleep_ms(50);
    }
    it_sleep_ms(200);
    lr = PQexec(locker, "COMMIT");
    PQclear(lr);
    PQfinish(locker);
    IT_CHECK(sent == 0 && n == 1);
    /* The answer first, then watch.missed with its ids (not 0: "nothing
     * pushed yet" would make a client catch up from the beginning). */
    int64_t nl = -1, ll = -1, na = -1, la = -1;
    bool answered = false, missed = false, missed_first = false;
    until = it_now_ms() + 10000;
    while (!(answered && missed) && it_now_ms() < until) {
        it_msg m;
        int r = it_recv(super, (int)(until - it_now_ms()), &m);
        IT_CHECK(r == IT_RECV_MSG);
        if (m.kind == 1 && m.msgid == sub_id && m.result != NULL) {
            answered = it_get_int(m.result, "notice_last", &nl) &&
                       it_get_int(m.result, "light_last", &ll);
        } else if (m.kind == 2 && strcmp(m.method, "watch.missed") == 0) {
            const msgpack_object *rec = push_record(&m);
            missed = rec != NULL && it_get_int(rec, "notice_after", &na) &&
                     it_get_int(rec, "light_after", &la);
            missed_first = !answered;
        }
        it_msg_free(&m);
    }
    IT_CHECK(answered && missed);
    IT_CHECKF(!missed_first && na == nl && la == ll,
              "watch.missed %s the answer: after %lld/%lld, last %lld/%lld",
              missed_first ? "before" : "after", (long long)na, (long long)la, (long long)nl,
              (long long)ll);
    IT_CHECK(nl > 0 && ll > 0);
    return 0;
}

/* Makes n problems of 新店镇 due tomorrow through c and sweeps: n notices
 * (and light changes) more. */
static int make_notices(it_conn *c, const char *stem, int n)
{
    int64_t pid = 0;
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%d厂", stem, i);
        IT_CHECK(make_problem(c, name, "新店镇", TOMORROW, &pid) == 0);
    }
    IT_CHECK(sweep(c) == 0);
    return 0;
}

static int pushes_come_in_the_order_announced_and_wide_ranges_in_chunks(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    const char *env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *a = it_server_start_env(sets, env);
    IT_CHECK(a != NULL);
    it_conn *w = it_connect(a->port);
    IT_CHECK(w != NULL);
    IT_CHECK(make_notices(w, "蒲纺棉织", 6) == 0);
    long long last = it_pg_int("SELECT max(id) FROM notice", 0, NULL);
    long long n = it_pg_int("SELECT count(*) FROM notice", 0, NULL);
    IT_CHECK(last >= 6 && n >= 6 && n <= 100000);
    it_sleep_ms(500); /* the sweep's own pushes have gone */
    it_conn *s = it_connect(a->port);
    IT_CHECK(s != NULL);
    IT_CHECK(subscribe(s, true, NULL) == 0);
    /* In one transaction: a wide range (every notice, and 1000 ids past
     * the last, read in chunks of 500), then each of the six newest
     * notices alone, newest first. The small reads are quick and the wide
     * one is not: read side by side, they would overtake it. */
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(pg_notify('bb_push', r)) FROM ("
             "  SELECT 0 AS o, 'notice:1-' || (%lld + 1000) AS r"
             "  UNION ALL"
             "  SELECT row_number() OVER (ORDER BY id DESC), 'notice:' || id || '-' || id"
             "    FROM (SELECT id FROM notice ORDER BY id DESC LIMIT 6) t"
             "  ORDER BY o) x",
             last);
    IT_CHECK(it_pg_int(sql, 0, NULL) == 7);
    long total = (long)n + 6, got = 0;
    int64_t *ids = calloc((size_t)total, sizeof *ids);
    IT_CHECK(ids != NULL);
    int64_t until = it_now_ms() + PUSH_WAIT_MS;
    while (got < total && it_now_ms() < until) {
        it_msg m;
        if (it_recv(s, (int)(until - it_now_ms()), &m) != IT_RECV_MSG)
            break;
        const msgpack_object *rec = push_record(&m);
        int64_t id = 0;
        if (rec != NULL && strcmp(m.method, "notice.issued") == 0 && it_get_int(rec, "id", &id))
            ids[got++] = id;
        it_msg_free(&m);
    }
    /* Every notice once in id order, then the six, newest first. */
    bool ordered = got == total && ids[n - 1] == last && ids[n] == last;
    for (long i = 1; ordered && i < total; i++)
        if (i != n)
            ordered = i < n ? ids[i] > ids[i - 1] : ids[i] < ids[i - 1];
    if (!ordered) {
        char seq[2048] = "";
        size_t o = 0;
        for (long i = 0; i < got && o + 24 < sizeof seq; i++)
            o += (size_t)snprintf(seq + o, sizeof seq - o, " %lld", (long long)ids[i]);
        it_note("%ld of %ld pushes (%lld notices, the last %lld):%s", got, total, n, last, seq);
    }
    free(ids);
    IT_CHECK(ordered);
    /* The wide range was read 500 ids at a time. */
    IT_CHECK(it_server_log_has(a, "event=push what=notice first=501 last=1000 "));
    return 0;
}

static int the_library_drops_after_its_queue_was_full_until_it_says_missed(void)
{
    /* The server keeps whatever the client does not read yet (no bound
     * of its own in the way): the library's bound is what is tested. */
    const char *sets[] = {FAKE_NOW, "write_high_water=268435456", "write_low_water=1048576",
                          NULL};
    const char *env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *a = it_server_start_env(sets, env);
    IT_CHECK(a != NULL);
    it_conn *w = it_connect(a->port);
    IT_CHECK(w != NULL);
    IT_CHECK(make_notices(w, "赤马港纱厂", 8) == 0);
    long long last = it_pg_int("SELECT max(id) FROM notice", 0, NULL);
    long long n = it_pg_int("SELECT count(*) FROM notice", 0, NULL);
    long long first = it_pg_int("SELECT min(id) FROM notice", 0, NULL);
    IT_CHECK(n >= 8 && first >= 1);
    it_sleep_ms(500);

    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", a->port);
    bb_error err;
    bb_client *c = bb_connect(addr, 60000, &err);
    IT_CHECKF(c != NULL, "bb_connect: %s", err.message);
    bb_arg_text login[] = {{"login", IT_USER_SUPER}, {"password", IT_PASSWORD}};
    bb_reply *r = NULL;
    IT_CHECKF(bb_call_args(c, "session.login", login, 2, &r, &err) == BB_C_OK, "login: %s",
              err.message);
    bb_reply_free(r);
    bb_arg_text all[] = {{"all", "true"}};
    IT_CHECKF(bb_call_args(c, "watch.subscribe", all, 1, &r, &err) == BB_C_OK, "subscribe: %s",
              err.message);
    bb_reply_free(r);

    /* More than the library keeps (4096, baobao.h) pushed: k ranges of
     * every notice, announced a batch at a time (the server merges
     * ranges that wait beyond PUSH_WAIT_MAX, 64), the client calling
     * server.info meanwhile so the server's output does not pile up. */
    long long k = 5000 / n + 1;
    char *log0 = it_server_log(a);
    int base = log0 != NULL ? count_in(log0, "event=push what=notice") : 0;
    free(log0);
    int reads = 0;
    for (long long done = 0; done < k;) {
        long long batch = k - done < 50 ? k - done : 50;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT count(pg_notify('bb_push', 'notice:1-' || (%lld + g)))"
                 " FROM generate_series(%lld, %lld) g",
                 last, done, done + batch - 1);
        IT_CHECK(it_pg_int(sql, 0, NULL) == batch);
        done += batch;
        int64_t until = it_now_ms() + 30000;
        for (;;) {
            IT_CHECK(bb_call(c, "server.info", NULL, 0, &r, &err) == BB_C_OK);
            bb_reply_free(r);
            char *log = it_server_log(a);
            reads = log != NULL ? count_in(log, "event=push what=notice") : 0;
            free(log);
            if (reads - base >= done || it_now_ms() > until)
                break;
            it_sleep_ms(100);
        }
        IT_CHECKF(reads - base >= done, "%d of %lld ranges pushed", reads - base, done);
    }
    char sql[256];
    /* A call reads past them all to its reply: 4096 kept, the rest
     * dropped. One is taken, which frees a place in the queue. */
    IT_CHECK(bb_call(c, "server.info", NULL, 0, &r, &err) == BB_C_OK);
    bb_reply_free(r);
    IT_CHECK(bb_next_notification(c, 0, &r, &err) == BB_C_OK);
    IT_CHECK_STR(bb_reply_method(r), "notice.issued");
    bb_reply_free(r);
    /* A newer push arrives while a call reads: it must not be kept ahead
     * of the watch.missed of those dropped before it. */
    snprintf(sql, sizeof sql, "SELECT count(pg_notify('bb_push', 'notice:%lld-%lld'))", first,
             first);
    IT_CHECK(it_pg_int(sql, 0, NULL) == 1);
    int64_t until = it_now_ms() + 20000;
    for (;;) {
        char *log = it_server_log(a);
        int now = log != NULL ? count_in(log, "event=push what=notice") : 0;
        free(log);
        if (now > reads || it_now_ms() > until)
            break;
        it_sleep_ms(100);
    }
    it_sleep_ms(300);
    IT_CHECK(bb_call(c, "server.info", NULL, 0, &r, &err) == BB_C_OK);
    bb_reply_free(r);
    long before = 0;
    bool missed = false;
    while (!missed && bb_next_notification(c, 0, &r, &err) == BB_C_OK) {
        missed = strcmp(bb_reply_method(r), "watch.missed") == 0;
        before += missed ? 0 : 1;
        bb_reply_free(r);
    }
    it_note("%ld kept after the first (of %lld pushed), then watch.missed %d", before,
            k * n + 1, (int)missed);
    bb_close(c);
    IT_CHECK(missed);
    /* The 4095 kept behind the one taken, nothing after the drop. */
    IT_CHECKF(before == 4095, "%ld notifications before watch.missed", before);
    return 0;
}

static int baobao_watch_prints_a_pushed_notice(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", a->port);
    /* A child makes the notice once `baobao watch` is running. */
    pid_t child = fork();
    IT_CHECK(child >= 0);
    if (child == 0) {
        /* Its own credit codes: the parent's counter does not see ours. */
        g_code += 50000;
        sleep(4);
        it_conn *c = it_connect(a->port);
        int64_t pid = 0;
        int rc = c != NULL && make_problem(c, "陆水湖茶业", "赵李桥镇", TOMORROW, &pid) == 0 &&
                         sweep(c) == 0
                     ? 0 : 1;
        _exit(rc);
    }
    it_cli r;
    /* --all: the notice of a problem with no assignee concerns the
     * township's staff, not this supervisor. */
    const char *args[] = {"watch", "--all", NULL};
    int rc = it_cli_run(&r, addr, 12000, args);
    int st = 0;
    (void)waitpid(child, &st, 0);
    IT_CHECK(rc == 0);
    IT_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the writer failed");
    /* The words around them are the language's; the title and the number
     * are the server's. */
    bool seen = strstr(r.out, "陆水湖茶业") != NULL && strstr(r.out, "督〔2026〕") != NULL;
    if (!seen)
        it_note("stdout:\n%s\nstderr:\n%s", r.out, r.err);
    it_cli_free(&r);
    IT_CHECK(seen);
    return 0;
}

/* Starts `baobao watch` as user (with --all when all) against port with
 * stdout and stderr to files (out, err); returns its pid or -1. */
static pid_t spawn_watch(int port, const char *out, const char *err, const char *user, bool all)
{
    const char *bin = getenv("BAOBAO_CLI");
    if (bin == NULL)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int nul = open("/dev/null", O_RDONLY);
    if (fo < 0 || fe < 0 || nul < 0)
        _exit(127);
    dup2(nul, 0);
    dup2(fo, 1);
    dup2(fe, 2);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    setenv("BAOBAO_SERVER", addr, 1);
    setenv("BAOBAO_USER", user, 1);
    setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
    unsetenv("BAOBAO_CONFIG");
    setenv("XDG_CONFIG_HOME", "/nonexistent/baobao-itest-config", 1);
    if (all)
        execl(bin, bin, "watch", "--all", (char *)NULL);
    else
        execl(bin, bin, "watch", (char *)NULL);
    _exit(127);
}

/* The file's text (malloc'd; "" when unreadable). */
static char *slurp(const char *path)
{
    char *buf = calloc(1, 1 << 20);
    if (buf == NULL)
        abort();
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, (1 << 20) - 1, f);
        buf[n] = '\0';
    }
    if (f != NULL)
        fclose(f);
    return buf;
}

/* Waits until the file holds needle; true when it came within ms. */
static bool file_gets(const char *path, const char *needle, int ms)
{
    int64_t until = it_now_ms() + ms;
    for (;;) {
        char *t = slurp(path);
        bool has = strstr(t, needle) != NULL;
        free(t);
        if (has || it_now_ms() > until)
            return has;
        it_sleep_ms(100);
    }
}

static int baobao_watch_reconnects_and_catches_up(void)
{
    const char *sets[] = {FAKE_NOW, NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    char out[600], err[600];
    snprintf(out, sizeof out, "%s.watch-out", a->log_path);
    snprintf(err, sizeof err, "%s.watch-err", a->log_path);
    pid_t w = spawn_watch(a->port, out, err, IT_USER_SUPER, true);
    IT_CHECK(w > 0);
    int rc = -1;
    it_server *b = NULL, *c = NULL;
    it_conn *k = NULL;
    int64_t pid = 0;
    do {
        /* Live: the first notice. */
        if (!file_gets(err, "Ctrl-C", 15000)) {
            it_note("watch did not start");
            break;
        }
        k = it_connect(a->port);
        if (k == NULL || make_problem(k, "温泉第一茶厂", "赵李桥镇", TOMORROW, &pid) != 0 ||
            sweep(k) != 0 || !file_gets(out, "温泉第一茶厂", PUSH_WAIT_MS)) {
            it_note("the first notice was not printed");
            break;
        }
        it_close(k);
        k = NULL;
        /* The server goes away; a notice is issued (through another
         * server) while watch cannot reach its own. */
        int port = a->port;
        if (it_server_stop(a, IT_STOP_TIMEOUT_MS) != 0)
            break;
        c = it_server_start(sets);
        k = c != NULL ? it_connect(c->port) : NULL;
        if (k == NULL || make_problem(k, "温泉第二茶厂", "新店镇", TOMORROW, &pid) != 0 ||
            sweep(k) != 0)
            break;
        it_close(k);
        k = NULL;
        (void)it_server_stop(c, IT_STOP_TIMEOUT_MS);
        /* Back on the same address: watch catches up, then gets pushes. */
        char setport[32];
        snprintf(setport, sizeof setport, "port=%d", port);
        const char *sets2[] = {FAKE_NOW, setport, NULL};
        b = it_server_start(sets2);
        if (b == NULL || b->port != port) {
            it_note("cannot restart on port %d", port);
            break;
        }
        if (!file_gets(out, "温泉第二茶厂", 40000)) {
            it_note("the notice issued meanwhile was not caught up");
            break;
        }
        k = it_connect(b->port);
        if (k == NULL || make_problem(k, "温泉第三茶厂", "赵李桥镇", TOMORROW, &pid) != 0 ||
            sweep(k) != 0 || !file_gets(out, "温泉第三茶厂", PUSH_WAIT_MS)) {
            it_note("no push after the reconnect");
            break;
        }
        rc = 0;
        /* The factory's name comes first on its light line: the notice
         * line may still be on its way. Wait for it (or a fourth). */
        for (int ms = 0; ms < PUSH_WAIT_MS; ms += 50) {
            char *so = slurp(out);
            int n = count_in(so, "督办单") + count_in(so, "notice 督");
            free(so);
            if (n >= 3)
                break;
            it_sleep_ms(50);
        }
    } while (0);
    kill(w, SIGKILL);
    (void)waitpid(w, NULL, 0);
    char *o = slurp(out), *e = slurp(err);
    if (rc != 0)
        it_note("watch stdout:\n%s\nwatch stderr:\n%s", o, e);
    /* Each notice once (a push and the catch-up may both bring one). */
    bool once = count_in(o, "督办单") + count_in(o, "notice 督") == 3;
    if (rc == 0 && !once)
        it_note("watch stdout:\n%s", o);
    free(o);
    free(e);
    IT_CHECK(rc == 0);
    IT_CHECK(once);
    return 0;
}

/* Without --all, what concerns the user is caught up after a reconnect:
 * the notice (notice.list mine) and the light change (light.changes
 * mine) of a problem of their township, in pages of the server's size. */
static int baobao_watch_catches_up_the_light_changes_that_concern_the_user(void)
{
    /* Small pages: watch asks for the server's default page, so a low
     * page_limit_max does not refuse its catch-up. */
    const char *sets[] = {FAKE_NOW, "page_limit_default=2", "page_limit_max=3", NULL};
    it_server *a = it_server_start(sets);
    IT_CHECK(a != NULL);
    char out[600], err[600];
    snprintf(out, sizeof out, "%s.watch-out", a->log_path);
    snprintf(err, sizeof err, "%s.watch-err", a->log_path);
    pid_t w = spawn_watch(a->port, out, err, IT_USER_STAFF, false);
    IT_CHECK(w > 0);
    int rc = -1;
    it_server *b = NULL, *c = NULL;
    it_conn *k = NULL;
    int64_t pid = 0;
    do {
        if (!file_gets(err, "Ctrl-C", 15000)) {
            it_note("watch did not start");
            break;
        }
        int port = a->port;
        if (it_server_stop(a, IT_STOP_TIMEOUT_MS) != 0)
            break;
        c = it_server_start(sets);
        k = c != NULL ? it_connect(c->port) : NULL;
        if (k == NULL || make_problem(k, "柳山湖茶厂", "赵李桥镇", TOMORROW, &pid) != 0 ||
            sweep(k) != 0)
            break;
        it_close(k);
        k = NULL;
        (void)it_server_stop(c, IT_STOP_TIMEOUT_MS);
        char setport[32];
        snprintf(setport, sizeof setport, "port=%d", port);
        const char *sets2[] = {FAKE_NOW, "page_limit_default=2", "page_limit_max=3", setport,
                               NULL};
        b = it_server_start(sets2);
        if (b == NULL || b->port != port) {
            it_note("cannot restart on port %d", port);
            break;
        }
        /* The notice's line and the light change's line both name it. */
        int64_t until = it_now_ms() + 40000;
        for (;;) {
            char *o = slurp(out);
            int seen = count_in(o, "柳山湖茶厂");
            free(o);
            if (seen >= 2) {
                rc = 0;
                break;
            }
            if (it_now_ms() > until) {
                it_note("the notice and the light change were not both caught up");
                break;
            }
            it_sleep_ms(100);
        }
    } while (0);
    kill(w, SIGKILL);
    (void)waitpid(w, NULL, 0);
    char *o = slurp(out), *e = slurp(err);
    if (rc != 0)
        it_note("watch stdout:\n%s\nwatch stderr:\n%s", o, e);
    free(o);
    free(e);
    IT_CHECK(rc == 0);
    return 0;
}

static const it_test tests[] = {
    {"a_subscriber_on_one_server_gets_what_a_write_through_another_caused",
     a_subscriber_on_one_server_gets_what_a_write_through_another_caused},
    {"all_is_for_supervisors_and_admins_and_a_logout_ends_it",
     all_is_for_supervisors_and_admins_and_a_logout_ends_it},
    {"the_listen_connection_comes_back_after_postgresql_ends_it",
     the_listen_connection_comes_back_after_postgresql_ends_it},
    {"a_subscriber_that_does_not_read_is_cut_off_not_buffered",
     a_subscriber_that_does_not_read_is_cut_off_not_buffered},
    {"watch_missed_waits_for_the_subscribe_answer_and_names_its_ids",
     watch_missed_waits_for_the_subscribe_answer_and_names_its_ids},
    {"pushes_come_in_the_order_announced_and_wide_ranges_in_chunks",
     pushes_come_in_the_order_announced_and_wide_ranges_in_chunks},
    {"the_library_drops_after_its_queue_was_full_until_it_says_missed",
     the_library_drops_after_its_queue_was_full_until_it_says_missed},
    {"baobao_watch_prints_a_pushed_notice", baobao_watch_prints_a_pushed_notice},
    {"baobao_watch_reconnects_and_catches_up", baobao_watch_reconnects_and_catches_up},
    {"baobao_watch_catches_up_the_light_changes_that_concern_the_user",
     baobao_watch_catches_up_the_light_changes_that_concern_the_user},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "push", tests, sizeof tests / sizeof tests[0], NULL);
}
