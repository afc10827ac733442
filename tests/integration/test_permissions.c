/*
 * test_permissions.c: who may call what (PROTOCOL.md, "Accounts, roles and
 * scope"). Every method of the dispatch tables × {not logged in, township
 * staff, supervisor, admin} answers unauthenticated / forbidden / runs as
 * the role matrix says; and township staff see and change only their own
 * townships: a record outside them is answered exactly like a missing one
 * (same code, message and field) by get, update, status.submit and
 * status.list; enterprise.list never shows one, whatever the filters;
 * placing a record in another township is forbidden (field township); a
 * group-commit batch mixing users and scopes answers each submit as if it
 * were alone; a user disabled while logged in can no longer write; and a
 * stored idempotency result is never replayed to another user.
 *
 * Users (harness.h): it_staff works for 赵李桥镇 and 高新技术产业园区,
 * it_staff2 for 新店镇.
 * Not for: the login itself, users and throttling (test_accounts.c), the
 * audit trail (test_audit.c).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define MSGID_BASE 1000u
#define MIX_N 24            /* submits per user in the mixed batch */

static uint32_t g_msgid = 10;
static int64_t g_in;        /* 赵李桥镇: in it_staff's scope */
static int64_t g_in2;       /* 高新技术产业园区: in it_staff's scope */
static int64_t g_out;       /* 新店镇: it_staff2's, outside it_staff's */
static int64_t g_out_named; /* 新店镇, a name only it has */

#define OUT_ONLY_NAME "域外独有名称实业"

static int setup(void)
{
    g_in = it_shared_enterprise(800, "赵李桥青砖茶厂", "赵李桥镇");
    g_in2 = it_shared_enterprise(801, "高新区电子信息", "高新技术产业园区");
    g_out = it_shared_enterprise(802, "新店纺织服装", "新店镇");
    g_out_named = it_shared_enterprise(803, OUT_ONLY_NAME, "新店镇");
    IT_CHECK(g_in > 0 && g_in2 > 0 && g_out > 0 && g_out_named > 0);
    return 0;
}

/* Sends b (one request with msgid id) and reads its reply into out. */
static int call(it_conn *c, it_buf *b, uint32_t id, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

/* Sends b and checks the reply is error code/field; copies its message. */
static int expect_err(it_conn *c, it_buf *b, uint32_t id, const char *code, const char *field,
                      char *msg, size_t msglen)
{
    it_msg m;
    IT_CHECK(call(c, b, id, &m) == IT_RECV_MSG);
    char d[800];
    bool ok = m.is_error && strcmp(m.code, code) == 0 &&
              strcmp(m.field, field != NULL ? field : "") == 0;
    if (ok && msg != NULL)
        snprintf(msg, msglen, "%s", m.message);
    if (!ok)
        it_fail(__FILE__, __LINE__, "expected %s (field %s), got %s", code,
                field != NULL ? field : "-", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return ok ? 0 : -1;
}

/* Sends b and checks it succeeded; the result stays in out (free it). */
static int expect_ok(it_conn *c, it_buf *b, uint32_t id, it_msg *out)
{
    IT_CHECK(call(c, b, id, out) == IT_RECV_MSG);
    char d[800];
    if (out->is_error) {
        it_fail(__FILE__, __LINE__, "expected success, got %s", it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

/* "enterprise 123 does not exist" with the id replaced by X, to compare the
 * message of an out-of-scope id with that of a missing id. */
static void generic_message(const char *msg, int64_t id, char *out, size_t outlen)
{
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p = strstr(msg, ids);
    if (p == NULL) {
        snprintf(out, outlen, "%s", msg);
        return;
    }
    snprintf(out, outlen, "%.*sX%s", (int)(p - msg), msg, p + strlen(ids));
}

/* ---- the role matrix ---- */

enum { ANON, STAFF, SUPER, ADMIN, NROLES };
static const char *const role_names[NROLES] = {"not logged in", "township_staff", "supervisor",
                                               "admin"};
#define R_ANON (1u << ANON)
#define R_STAFF (1u << STAFF)
#define R_SUPER (1u << SUPER)
#define R_ADMIN (1u << ADMIN)
#define R_USERS (R_STAFF | R_SUPER | R_ADMIN)

static const struct {
    const char *method;
    unsigned allowed;
} matrix[] = {
    {"server.info", R_ANON | R_USERS},
    {"session.login", R_ANON | R_USERS},
    {"session.whoami", R_USERS},
    {"session.change_password", R_USERS},
    {"enterprise.get", R_USERS},
    {"enterprise.list", R_USERS},
    {"status.list", R_USERS},
    {"enterprise.create", R_STAFF | R_SUPER},
    {"enterprise.update", R_STAFF | R_SUPER},
    {"status.submit", R_STAFF | R_SUPER},
    {"user.create", R_ADMIN},
    {"user.get", R_ADMIN},
    {"user.list", R_ADMIN},
    {"user.update", R_ADMIN},
    {"user.set_password", R_ADMIN},
    {"audit.list", R_SUPER | R_ADMIN},
    {"audit.as_of", R_SUPER | R_ADMIN},
    /* issue 5: reads for everyone (scoped for township staff); projects and
     * assignments written by supervisors; the directory of units and
     * officials by supervisors and admins; problems and troubled-enterprise
     * files by the roles that write business data. */
    {"project.get", R_USERS},
    {"project.list", R_USERS},
    {"project.history", R_USERS},
    {"project.create", R_SUPER},
    {"project.update", R_SUPER},
    {"project.move_stage", R_SUPER},
    {"project.set_milestone", R_SUPER},
    {"unit.get", R_USERS},
    {"unit.list", R_USERS},
    {"unit.portfolio", R_USERS},
    {"unit.create", R_SUPER | R_ADMIN},
    {"official.get", R_USERS},
    {"official.list", R_USERS},
    {"official.portfolio", R_USERS},
    {"official.create", R_SUPER | R_ADMIN},
    {"official.update", R_SUPER | R_ADMIN},
    {"assignment.get", R_USERS},
    {"assignment.list", R_USERS},
    {"assignment.create", R_SUPER},
    {"assignment.end", R_SUPER},
    {"coverage.gaps", R_USERS},
    {"problem.get", R_USERS},
    {"problem.list", R_USERS},
    {"problem.create", R_STAFF | R_SUPER},
    {"problem.advance", R_STAFF | R_SUPER},
    {"problem.reopen", R_STAFF | R_SUPER},
    {"problem.assign", R_STAFF | R_SUPER},
    {"trouble.get", R_USERS},
    {"trouble.list", R_USERS},
    {"trouble.set", R_STAFF | R_SUPER},
    {"overdue.milestones", R_USERS},
    {"overdue.problems", R_USERS},
    {"due.milestones", R_USERS},
    {"due.problems", R_USERS},
    /* issue 11: what is waiting for me (admins have nothing of their own) */
    {"todo.mine", R_STAFF | R_SUPER},
    /* issue 12: reporting-cycle completeness, a read (staff: their townships) */
    {"coverage.visits", R_USERS},
    /* issue 12: one status report read; corrections and withdrawals by the
     * roles that write reports (staff: their own, for a while) */
    {"status.get", R_USERS},
    {"status.correct", R_STAFF | R_SUPER},
    {"status.withdraw", R_STAFF | R_SUPER},
    {"problem.correct", R_STAFF | R_SUPER},
    /* issue 6: exports are city-wide (supervisors, admins); the import
     * writes enterprises as enterprise.create/update would. export.run is
     * not here: with no arguments it is complete and would start a run
     * (test_export.c checks its roles). */
    {"export.list", R_SUPER | R_ADMIN},
    /* issue 11: exports downloaded over the protocol, the audit record and
     * the login log from the client */
    {"export.read", R_SUPER | R_ADMIN},
    {"audit.get", R_SUPER | R_ADMIN},
    {"audit.logins", R_ADMIN},
    {"enterprise.import", R_STAFF | R_SUPER},
    {"status.import", R_STAFF | R_SUPER},
    {"session.logout", R_USERS},   /* last: it ends the session */
};

static it_conn *connect_role(int port, int role)
{
    switch (role) {
    case ANON:
        return it_connect_anon(port);
    case STAFF:
        return it_connect_as(port, IT_USER_STAFF, IT_PASSWORD);
    case SUPER:
        return it_connect_as(port, IT_USER_SUPER, IT_PASSWORD);
    default:
        return it_connect_as(port, IT_USER_ADMIN, IT_PASSWORD);
    }
}

/* Every method with an empty argument map: the gate answers before any
 * argument is looked at, so a method the role may call gets its own
 * answer (a result, or invalid_argument for a missing argument: never
 * unauthenticated or forbidden), and one it may not call gets the gate's.
 * Arguments that would change something are never complete, except
 * session.logout, which runs last. */
static int every_method_by_every_role_follows_the_matrix(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    int failures = 0;
    for (int role = 0; role < NROLES; role++) {
        it_conn *c = connect_role(s->port, role);
        IT_CHECK(c != NULL);
        for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
            it_buf b;
            it_buf_init(&b);
            uint32_t id = ++g_msgid;
            it_req(&b, id, matrix[i].method, 0);
            it_msg m;
            int r = call(c, &b, id, &m);
            it_buf_free(&b);
            IT_CHECKF(r == IT_RECV_MSG, "%s as %s: no reply", matrix[i].method, role_names[role]);
            bool allowed = (matrix[i].allowed & (1u << role)) != 0;
            const char *want = allowed ? NULL : role == ANON ? "unauthenticated" : "forbidden";
            bool ok;
            if (allowed)
                ok = !m.is_error || (strcmp(m.code, "unauthenticated") != 0 &&
                                     strcmp(m.code, "forbidden") != 0);
            else
                ok = m.is_error && strcmp(m.code, want) == 0 && m.field[0] == '\0';
            if (!ok) {
                char d[800];
                it_fail(__FILE__, __LINE__, "%s as %s: expected %s, got %s", matrix[i].method,
                        role_names[role], allowed ? "to run" : want,
                        it_describe(&m, d, sizeof d));
                failures++;
            }
            it_msg_free(&m);
        }
        it_close(c);
    }
    IT_CHECKF(failures == 0, "%d cells of the role matrix differ", failures);
    return 0;
}

/* After session.logout the connection is back to "not logged in". */
static int after_logout_methods_need_a_login_again(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    it_req(&b, id, "session.logout", 0);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.get", 1);
    it_kv_int(&b, "id", g_in);
    IT_CHECK(expect_err(c, &b, id, "unauthenticated", NULL, NULL, 0) == 0);
    it_buf_free(&b);
    return 0;
}

/* ---- scope of township staff ---- */

static void pack_get(it_buf *b, uint32_t id, int64_t eid)
{
    it_req(b, id, "enterprise.get", 1);
    it_kv_int(b, "id", eid);
}

static int staff_get_outside_scope_is_not_found_like_a_missing_id(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    pack_get(&b, id, g_in);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "township", "赵李桥镇"));
    it_msg_free(&m);
    id = ++g_msgid;
    pack_get(&b, id, g_in2);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    char missing[512], out[512], gm[512], go[512];
    const int64_t nonexistent = 987654321;
    id = ++g_msgid;
    pack_get(&b, id, nonexistent);
    IT_CHECK(expect_err(c, &b, id, "not_found", "id", missing, sizeof missing) == 0);
    id = ++g_msgid;
    pack_get(&b, id, g_out);
    IT_CHECK(expect_err(c, &b, id, "not_found", "id", out, sizeof out) == 0);
    generic_message(missing, nonexistent, gm, sizeof gm);
    generic_message(out, g_out, go, sizeof go);
    IT_CHECK_STR(go, gm);
    /* The supervisor and the other staff see it. */
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c2 != NULL);
    id = ++g_msgid;
    pack_get(&b, id, g_out);
    IT_CHECK(expect_ok(c2, &b, id, &m) == 0);
    it_msg_free(&m);
    it_conn *c3 = it_connect(s->port);
    IT_CHECK(c3 != NULL);
    id = ++g_msgid;
    pack_get(&b, id, g_out);
    IT_CHECK(expect_ok(c3, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

static void pack_update_name(it_buf *b, uint32_t id, int64_t eid, int64_t version,
                             const char *name, const char *township)
{
    it_req(b, id, "enterprise.update", township != NULL ? 4 : 3);
    it_kv_int(b, "id", eid);
    it_kv_int(b, "version", version);
    it_kv_str(b, "name", name);
    if (township != NULL)
        it_kv_str(b, "township", township);
}

static long long version_of(int64_t eid)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)eid);
    const char *p[] = {t};
    return it_pg_int("SELECT version FROM enterprise WHERE id = $1", 1, p);
}

static int staff_update_outside_scope_is_not_found_like_a_missing_id(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    long long v = version_of(g_out);
    char missing[512], out[512], out2[512], gm[512], go[512];
    const int64_t nonexistent = 987654322;
    uint32_t id = ++g_msgid;
    pack_update_name(&b, id, nonexistent, 1, "改名", NULL);
    IT_CHECK(expect_err(c, &b, id, "not_found", "id", missing, sizeof missing) == 0);
    id = ++g_msgid;
    pack_update_name(&b, id, g_out, v, "改名", NULL);
    IT_CHECK(expect_err(c, &b, id, "not_found", "id", out, sizeof out) == 0);
    /* A wrong version does not reveal it either (no version_conflict). */
    id = ++g_msgid;
    pack_update_name(&b, id, g_out, v + 5, "改名", NULL);
    IT_CHECK(expect_err(c, &b, id, "not_found", "id", out2, sizeof out2) == 0);
    generic_message(missing, nonexistent, gm, sizeof gm);
    generic_message(out, g_out, go, sizeof go);
    IT_CHECK_STR(go, gm);
    IT_CHECK_STR(out2, out);
    IT_CHECK(version_of(g_out) == v);
    it_buf_free(&b);
    return 0;
}

static int staff_create_in_other_township_forbidden_in_own_allowed(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    char cc[19];
    it_credit_code(810, cc);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "越界新建企业");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "新店镇");
    IT_CHECK(expect_err(c, &b, id, "forbidden", "township", NULL, 0) == 0);
    const char *p[] = {cc};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 0);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "本镇新建企业");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "高新技术产业园区");
    it_msg m;
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "township", "高新技术产业园区"));
    it_msg_free(&m);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 1);
    it_buf_free(&b);
    return 0;
}

static int staff_update_moving_out_of_scope_forbidden(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    long long v = version_of(g_in);
    uint32_t id = ++g_msgid;
    pack_update_name(&b, id, g_in, v, "搬走的企业", "新店镇");
    IT_CHECK(expect_err(c, &b, id, "forbidden", "township", NULL, 0) == 0);
    IT_CHECK(version_of(g_in) == v);
    /* Moving between its own townships is fine, and back. */
    id = ++g_msgid;
    it_msg m;
    pack_update_name(&b, id, g_in, v, "赵李桥青砖茶厂", "高新技术产业园区");
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    id = ++g_msgid;
    pack_update_name(&b, id, g_in, v + 1, "赵李桥青砖茶厂", "赵李桥镇");
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* The reports repeat one enterprise, date and reporter on purpose (they
 * differ by note): allow_duplicate (the rule is test_duplicates.c's). */
static void pack_submit(it_buf *b, uint32_t id, int64_t eid, const char *note, const char *key)
{
    it_req(b, id, "status.submit", key != NULL ? 7 : 6);
    it_kv_int(b, "enterprise_id", eid);
    it_kv_str(b, "report_date", "2024-06-01");
    it_kv_str(b, "reporter", "包保干部");
    it_kv_str(b, "production_status", "正常");
    it_kv_str(b, "note", note);
    it_str(b, "allow_duplicate");
    msgpack_pack_true(&b->pk);
    if (key != NULL)
        it_kv_str(b, "idempotency_key", key);
}

static long long count_note(const char *note)
{
    const char *p[] = {note};
    return it_pg_int("SELECT count(*) FROM status_report WHERE note = $1", 1, p);
}

static int staff_submit_and_list_outside_scope_are_not_found_like_a_missing_id(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    const int64_t nonexistent = 987654323;
    char missing[512], out[512], gm[512], go[512];
    uint32_t id = ++g_msgid;
    pack_submit(&b, id, g_in, "域内走访", NULL);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    id = ++g_msgid;
    pack_submit(&b, id, nonexistent, "无此企业", NULL);
    IT_CHECK(expect_err(c, &b, id, "not_found", "enterprise_id", missing, sizeof missing) == 0);
    id = ++g_msgid;
    pack_submit(&b, id, g_out, "域外走访", NULL);
    IT_CHECK(expect_err(c, &b, id, "not_found", "enterprise_id", out, sizeof out) == 0);
    generic_message(missing, nonexistent, gm, sizeof gm);
    generic_message(out, g_out, go, sizeof go);
    IT_CHECK_STR(go, gm);
    IT_CHECK(count_note("域外走访") == 0);
    /* status.list: the same for reading. */
    id = ++g_msgid;
    it_req(&b, id, "status.list", 1);
    it_kv_int(&b, "enterprise_id", g_in);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && items->via.array.size >= 1);
    it_msg_free(&m);
    id = ++g_msgid;
    it_req(&b, id, "status.list", 1);
    it_kv_int(&b, "enterprise_id", nonexistent);
    IT_CHECK(expect_err(c, &b, id, "not_found", "enterprise_id", missing, sizeof missing) == 0);
    id = ++g_msgid;
    it_req(&b, id, "status.list", 1);
    it_kv_int(&b, "enterprise_id", g_out);
    IT_CHECK(expect_err(c, &b, id, "not_found", "enterprise_id", out, sizeof out) == 0);
    generic_message(missing, nonexistent, gm, sizeof gm);
    generic_message(out, g_out, go, sizeof go);
    IT_CHECK_STR(go, gm);
    it_buf_free(&b);
    return 0;
}

/* Pages through enterprise.list with the given filter (NULL key: none) and
 * counts the items; fails on any item outside the allowed townships
 * (NULL: any township allowed). *saw_out is set when g_out appears. */
static int list_all(it_conn *c, const char *fkey, const char *fval,
                    const char *const *allowed, int *count, bool *saw_in, bool *saw_out)
{
    int64_t after = 0;
    *count = 0;
    *saw_in = *saw_out = false;
    for (int page = 0; page < 100; page++) {
        it_buf b;
        it_buf_init(&b);
        uint32_t id = ++g_msgid;
        it_req(&b, id, "enterprise.list", (fkey != NULL ? 1 : 0) + 2);
        if (fkey != NULL)
            it_kv_str(&b, fkey, fval);
        it_kv_int(&b, "after", after);
        it_kv_int(&b, "limit", 3);
        it_msg m;
        int r = expect_ok(c, &b, id, &m);
        it_buf_free(&b);
        IT_CHECK(r == 0);
        const msgpack_object *items = it_map_get(m.result, "items");
        const msgpack_object *next = it_map_get(m.result, "next");
        IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY && next != NULL);
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            char tw[64];
            int64_t eid = 0;
            IT_CHECK(it_get_str(it, "township", tw, sizeof tw) && it_get_int(it, "id", &eid));
            if (allowed != NULL) {
                bool ok = false;
                for (size_t k = 0; allowed[k] != NULL; k++)
                    ok = ok || strcmp(tw, allowed[k]) == 0;
                IT_CHECKF(ok, "enterprise %lld of %s listed outside the scope", (long long)eid,
                          tw);
            }
            *saw_in = *saw_in || eid == g_in;
            *saw_out = *saw_out || eid == g_out || eid == g_out_named;
            (*count)++;
        }
        bool last = next->type == MSGPACK_OBJECT_NIL;
        if (!last)
            IT_CHECK(it_obj_int(next, &after));
        it_msg_free(&m);
        if (last)
            return 0;
    }
    IT_CHECKF(false, "more than 100 pages");
    return -1;
}

static int staff_list_never_shows_other_townships(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(c != NULL && sup != NULL);
    static const char *const own[] = {"赵李桥镇", "高新技术产业园区", NULL};
    int n = 0, n_sup = 0;
    bool in, out;
    IT_CHECK(list_all(c, NULL, NULL, own, &n, &in, &out) == 0);
    IT_CHECK(in && !out && n >= 2);
    IT_CHECK(list_all(sup, NULL, NULL, NULL, &n_sup, &in, &out) == 0);
    IT_CHECKF(in && out && n_sup > n, "supervisor saw %d, staff %d", n_sup, n);
    /* A township filter outside the scope: an empty page, no error. */
    IT_CHECK(list_all(c, "township", "新店镇", own, &n, &in, &out) == 0);
    IT_CHECK(n == 0);
    IT_CHECK(list_all(sup, "township", "新店镇", NULL, &n, &in, &out) == 0);
    IT_CHECK(n >= 2 && out);
    /* A name only an enterprise outside the scope has. */
    IT_CHECK(list_all(c, "name_contains", OUT_ONLY_NAME, own, &n, &in, &out) == 0);
    IT_CHECK(n == 0);
    IT_CHECK(list_all(sup, "name_contains", OUT_ONLY_NAME, NULL, &n, &in, &out) == 0);
    IT_CHECK(n == 1);
    /* Other filters stay inside the scope too. */
    IT_CHECK(list_all(c, "status", "在营", own, &n, &in, &out) == 0);
    IT_CHECK(n >= 2 && in && !out);
    /* it_staff2 sees only 新店镇. */
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c2 != NULL);
    static const char *const own2[] = {"新店镇", NULL};
    IT_CHECK(list_all(c2, NULL, NULL, own2, &n, &in, &out) == 0);
    IT_CHECK(n >= 2 && out && !in);
    return 0;
}

/* Reads n replies with msgids base..base+n-1 in any order into out[]. */
static int recv_all(it_conn *c, uint32_t base, unsigned n, it_msg *out)
{
    bool *seen = calloc(n, sizeof *seen);
    IT_CHECK(seen != NULL);
    for (unsigned i = 0; i < n; i++) {
        it_msg m;
        int r = it_recv(c, IT_REPLY_TIMEOUT_MS * 2, &m);
        if (r != IT_RECV_MSG) {
            free(seen);
            IT_CHECKF(false, "reply %u of %u: recv %d", i, n, r);
        }
        unsigned k = m.msgid - base;
        if (m.kind != 1 || k >= n || seen[k]) {
            char d[800];
            it_fail(__FILE__, __LINE__, "unexpected message %s", it_describe(&m, d, sizeof d));
            it_msg_free(&m);
            free(seen);
            return -1;
        }
        seen[k] = true;
        out[k] = m;
    }
    free(seen);
    return 0;
}

/* Holds status_report locked, sends two submits on c (they go out alone,
 * filling status_batches_in_flight, and wait for the lock) so that what
 * the caller sends next gathers in the server's queue; the caller then
 * sends, and calls release_gate. The two use msgids extra, extra + 1. */
static int hold_gate(it_conn *c, uint32_t extra, int64_t eid)
{
    IT_CHECK(it_pg_exec("BEGIN", 0, NULL) == 0);
    IT_CHECK(it_pg_exec("LOCK TABLE status_report IN ACCESS EXCLUSIVE MODE", 0, NULL) == 0);
    it_buf b;
    it_buf_init(&b);
    pack_submit(&b, extra, eid, "闸前-1", NULL);
    pack_submit(&b, extra + 1, eid, "闸前-2", NULL);
    int r = it_send(c, b.sb.data, b.sb.size);
    it_buf_free(&b);
    IT_CHECK(r == 0);
    it_sleep_ms(300);
    return 0;
}

static int release_gate(void)
{
    it_sleep_ms(300);
    IT_CHECK(it_pg_exec("COMMIT", 0, NULL) == 0);
    return 0;
}

/* Two users' submits gathered into one group-commit batch (held back
 * behind a lock so they gather): each answered as if alone. */
static int mixed_batch_of_two_users_answers_each_by_its_own_scope(void)
{
    static const char *const debug_env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c1 = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c1 != NULL && c2 != NULL);
    it_buf b1, b2;
    it_buf_init(&b1);
    it_buf_init(&b2);
    for (unsigned k = 0; k < MIX_N; k++) {
        char note[64], key[64];
        /* even: own township; odd: the other user's. */
        snprintf(note, sizeof note, "混批-甲-%u", k);
        snprintf(key, sizeof key, "mix-a-%u", k);
        pack_submit(&b1, MSGID_BASE + k, k % 2 == 0 ? g_in : g_out, note,
                    k % 4 < 2 ? key : NULL);
        snprintf(note, sizeof note, "混批-乙-%u", k);
        snprintf(key, sizeof key, "mix-b-%u", k);
        pack_submit(&b2, MSGID_BASE + k, k % 2 == 0 ? g_out : g_in, note,
                    k % 4 < 2 ? key : NULL);
    }
    IT_CHECK(hold_gate(c1, MSGID_BASE + MIX_N, g_in) == 0);
    int s1 = it_send(c1, b1.sb.data, b1.sb.size);
    int s2 = it_send(c2, b2.sb.data, b2.sb.size);
    IT_CHECK(release_gate() == 0);
    it_buf_free(&b1);
    it_buf_free(&b2);
    IT_CHECK(s1 == 0 && s2 == 0);
    it_msg m1[MIX_N + 2], m2[MIX_N];
    IT_CHECK(recv_all(c1, MSGID_BASE, MIX_N + 2, m1) == 0);
    IT_CHECK(recv_all(c2, MSGID_BASE, MIX_N, m2) == 0);
    int bad = 0;
    for (unsigned k = MIX_N; k < MIX_N + 2; k++) {
        if (m1[k].is_error)
            bad++;
        it_msg_free(&m1[k]);
    }
    for (unsigned k = 0; k < MIX_N; k++) {
        char d[800];
        for (int u = 0; u < 2; u++) {
            it_msg *m = u == 0 ? &m1[k] : &m2[k];
            bool want_ok = k % 2 == 0;
            bool ok = want_ok ? !m->is_error
                              : m->is_error && strcmp(m->code, "not_found") == 0 &&
                                    strcmp(m->field, "enterprise_id") == 0;
            if (!ok) {
                it_fail(__FILE__, __LINE__, "user %d submit %u: %s", u + 1, k,
                        it_describe(m, d, sizeof d));
                bad++;
            }
            it_msg_free(m);
        }
    }
    IT_CHECK(bad == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE starts_with(note, '混批-')", 0,
                       NULL) == MIX_N);
    /* Both users' reports were stored by one transaction (one `at`). */
    IT_CHECKF(it_pg_int("SELECT count(*) FROM (SELECT at FROM audit_log"
                        " WHERE entity = 'status_report' AND starts_with(after->>'note', '混批-')"
                        " GROUP BY at HAVING count(DISTINCT user_id) = 2) x",
                        0, NULL) >= 1,
              "no batch held submits of both users");
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* A stored result is replayed only to the user who stored it. */
static int idempotency_key_of_another_user_is_reused_not_replayed(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(c != NULL && sup != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    pack_submit(&b, id, g_in, "他人键", "perm-key-1");
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    id = ++g_msgid;
    pack_submit(&b, id, g_in, "他人键", "perm-key-1");
    IT_CHECK(expect_err(sup, &b, id, "idempotency_key_reused", "idempotency_key", NULL, 0) == 0);
    id = ++g_msgid;
    pack_submit(&b, id, g_in, "他人键", "perm-key-1");
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(count_note("他人键") == 1);
    it_buf_free(&b);
    return 0;
}


/* A change to a user made behind every baobaod's back: its notification
 * (sql/027_session_epoch.sql) is held back, so the session lives on in
 * the server's memory and what answers is the database's own check (the
 * second wall), as for a change that commits while a request is already
 * past the gate. */
static int exec_untold(const char *sql, int nparams, const char *const *params)
{
    if (it_pg_exec("ALTER TABLE app_user DISABLE TRIGGER app_user_epoch_notify", 0, NULL) != 0)
        return -1;
    int rc = it_pg_exec(sql, nparams, params);
    if (it_pg_exec("ALTER TABLE app_user ENABLE TRIGGER app_user_epoch_notify", 0, NULL) != 0)
        return -1;
    return rc;
}

static int set_disabled(const char *login, bool disabled)
{
    const char *p[] = {login, disabled ? "true" : "false"};
    return exec_untold("UPDATE app_user SET disabled = $2::boolean WHERE login = $1", 2, p);
}

static int user_disabled_while_logged_in_can_no_longer_write(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c != NULL);
    IT_CHECK(set_disabled(IT_USER_STAFF2, true) == 0);
    it_buf b;
    it_buf_init(&b);
    int rc = 0;
    uint32_t id = ++g_msgid;
    pack_submit(&b, id, g_out, "停用后提交", NULL);
    rc |= expect_err(c, &b, id, "unauthenticated", NULL, NULL, 0);
    id = ++g_msgid;
    pack_update_name(&b, id, g_out, version_of(g_out), "停用后改名", NULL);
    rc |= expect_err(c, &b, id, "unauthenticated", NULL, NULL, 0);
    char cc[19];
    it_credit_code(811, cc);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "停用后新建");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "新店镇");
    rc |= expect_err(c, &b, id, "unauthenticated", NULL, NULL, 0);
    IT_CHECK(set_disabled(IT_USER_STAFF2, false) == 0);
    IT_CHECK(rc == 0);
    IT_CHECK(count_note("停用后提交") == 0);
    /* Enabled again: the same session writes again. */
    id = ++g_msgid;
    it_msg m;
    pack_submit(&b, id, g_out, "启用后提交", NULL);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* A disabled user's submit inside a batch fails alone. */
static int user_disabled_in_a_batch_fails_alone(void)
{
    static const char *const debug_env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c1 = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *c2 = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(c1 != NULL && c2 != NULL);
    IT_CHECK(set_disabled(IT_USER_STAFF2, true) == 0);
    enum { N = 8 };
    it_buf b1, b2;
    it_buf_init(&b1);
    it_buf_init(&b2);
    for (unsigned k = 0; k < N; k++) {
        char note[64];
        snprintf(note, sizeof note, "停用混批-甲-%u", k);
        pack_submit(&b1, MSGID_BASE + k, g_in, note, NULL);
        snprintf(note, sizeof note, "停用混批-乙-%u", k);
        pack_submit(&b2, MSGID_BASE + k, g_out, note, NULL);
    }
    int r = hold_gate(c1, MSGID_BASE + N, g_in);
    r |= it_send(c1, b1.sb.data, b1.sb.size);
    r |= it_send(c2, b2.sb.data, b2.sb.size);
    r |= release_gate();
    it_buf_free(&b1);
    it_buf_free(&b2);
    it_msg m1[N + 2], m2[N];
    int r1 = recv_all(c1, MSGID_BASE, N + 2, m1);
    int r2 = recv_all(c2, MSGID_BASE, N, m2);
    IT_CHECK(set_disabled(IT_USER_STAFF2, false) == 0);
    IT_CHECK(r == 0 && r1 == 0 && r2 == 0);
    int bad = 0;
    for (unsigned k = N; k < N + 2; k++) {
        if (m1[k].is_error)
            bad++;
        it_msg_free(&m1[k]);
    }
    for (unsigned k = 0; k < N; k++) {
        char d[800];
        if (m1[k].is_error) {
            it_fail(__FILE__, __LINE__, "staff submit %u: %s", k, it_describe(&m1[k], d, 800));
            bad++;
        }
        if (!m2[k].is_error || strcmp(m2[k].code, "unauthenticated") != 0) {
            it_fail(__FILE__, __LINE__, "disabled submit %u: %s", k,
                    it_describe(&m2[k], d, 800));
            bad++;
        }
        it_msg_free(&m1[k]);
        it_msg_free(&m2[k]);
    }
    IT_CHECK(bad == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE starts_with(note, '停用混批-甲-')",
                       0, NULL) == N);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE starts_with(note, '停用混批-乙-')",
                       0, NULL) == 0);
    char want[64];
    snprintf(want, sizeof want, "event=submit_batch rows=%d ", 2 * N);
    IT_CHECKF(it_server_log_has(s, want), "the %d submits were not one batch", 2 * N);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The database checks the role as it is now: a user made admin while
 * logged in (the session still says township_staff) writes nothing. */
static int role_changed_while_logged_in_is_checked_by_the_database(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL);
    const char *p[] = {IT_USER_STAFF};
    IT_CHECK(exec_untold("UPDATE app_user SET role = 'admin' WHERE login = $1", 1, p) == 0);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    pack_submit(&b, id, g_in, "改角色后提交", NULL);
    int r = expect_err(c, &b, id, "forbidden", NULL, NULL, 0);
    IT_CHECK(exec_untold("UPDATE app_user SET role = 'township_staff' WHERE login = $1", 1, p) ==
             0);
    it_buf_free(&b);
    IT_CHECK(r == 0);
    IT_CHECK(count_note("改角色后提交") == 0);
    return 0;
}

/* Admins read business data but do not write it. */
static int admin_reads_business_data_but_writes_none(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    pack_get(&b, id, g_out);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_msg_free(&m);
    id = ++g_msgid;
    pack_submit(&b, id, g_out, "管理员提交", NULL);
    IT_CHECK(expect_err(c, &b, id, "forbidden", NULL, NULL, 0) == 0);
    IT_CHECK(count_note("管理员提交") == 0);
    it_buf_free(&b);
    return 0;
}

static const it_test tests[] = {
    {"every_method_by_every_role_follows_the_matrix",
     every_method_by_every_role_follows_the_matrix},
    {"after_logout_methods_need_a_login_again", after_logout_methods_need_a_login_again},
    {"staff_get_outside_scope_is_not_found_like_a_missing_id",
     staff_get_outside_scope_is_not_found_like_a_missing_id},
    {"staff_update_outside_scope_is_not_found_like_a_missing_id",
     staff_update_outside_scope_is_not_found_like_a_missing_id},
    {"staff_create_in_other_township_forbidden_in_own_allowed",
     staff_create_in_other_township_forbidden_in_own_allowed},
    {"staff_update_moving_out_of_scope_forbidden", staff_update_moving_out_of_scope_forbidden},
    {"staff_submit_and_list_outside_scope_are_not_found_like_a_missing_id",
     staff_submit_and_list_outside_scope_are_not_found_like_a_missing_id},
    {"staff_list_never_shows_other_townships", staff_list_never_shows_other_townships},
    {"mixed_batch_of_two_users_answers_each_by_its_own_scope",
     mixed_batch_of_two_users_answers_each_by_its_own_scope},
    {"idempotency_key_of_another_user_is_reused_not_replayed",
     idempotency_key_of_another_user_is_reused_not_replayed},
    {"user_disabled_while_logged_in_can_no_longer_write",
     user_disabled_while_logged_in_can_no_longer_write},
    {"user_disabled_in_a_batch_fails_alone", user_disabled_in_a_batch_fails_alone},
    {"role_changed_while_logged_in_is_checked_by_the_database",
     role_changed_while_logged_in_is_checked_by_the_database},
    {"admin_reads_business_data_but_writes_none", admin_reads_business_data_but_writes_none},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "permissions", tests, sizeof tests / sizeof tests[0], setup);
}
