/*
 * test_audit.c: the audit trail (PROTOCOL.md, "Audit"). Every successful
 * write leaves exactly one audit row, written in its own transaction: who
 * (login and user id), from where, the method, the entity and id, the
 * record before and after and the fields that changed; a refused write
 * (version_conflict, not_found, forbidden, already_exists) and a replayed
 * one leave none; every status report, submitted alone or batched, has
 * exactly one. audit.list filters by record, user, kind and time range and
 * pages newest first without skips or repeats; audit.as_of answers a record
 * as it was on an earlier date or at an instant. Audit rows' times are
 * pinned by rewriting audit_log.at in the test database. Supervisors and
 * admins read the trail; township staff are forbidden. audit.get answers
 * one record as audit.list does; audit.logins pages the login log newest
 * first, filtered by login, outcome and time, for admins only.
 *
 * Not for: the role matrix of the other methods (test_permissions.c) or
 * the audit rows of user changes (test_accounts.c).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define MSGID_BASE 1000u
#define BATCH_N 30

static uint32_t g_msgid = 10;

static int setup(void) { return 0; }

static int call(it_conn *c, it_buf *b, uint32_t id, it_msg *out)
{
    int r = it_call(c, b->sb.data, b->sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_reset(b);
    return r;
}

static int expect_err(it_conn *c, it_buf *b, uint32_t id, const char *code, const char *field)
{
    it_msg m;
    IT_CHECK(call(c, b, id, &m) == IT_RECV_MSG);
    char d[800];
    bool ok = m.is_error && strcmp(m.code, code) == 0 &&
              strcmp(m.field, field != NULL ? field : "") == 0;
    if (!ok)
        it_fail(__FILE__, __LINE__, "expected %s (field %s), got %s", code,
                field != NULL ? field : "-", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    return ok ? 0 : -1;
}

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

static long long audit_rows(void)
{
    return it_pg_int("SELECT count(*) FROM audit_log", 0, NULL);
}

static long long audit_rows_of(const char *entity, int64_t id)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)id);
    const char *p[] = {entity, t};
    return it_pg_int("SELECT count(*) FROM audit_log WHERE entity = $1 AND entity_id = $2::bigint",
                     2, p);
}

/* Creates an enterprise; returns its id or -1. */
static int64_t create(it_conn *c, unsigned long code_n, const char *name, const char *township,
                      const char *key)
{
    char cc[19];
    it_credit_code(code_n, cc);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.create", key != NULL ? 5 : 4);
    it_kv_str(&b, "name", name);
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", township);
    static const char *const labels[] = {"规上", "高新技术企业"};
    it_kv_strs(&b, "labels", labels, 2);
    if (key != NULL)
        it_kv_str(&b, "idempotency_key", key);
    it_msg m;
    int64_t eid = -1;
    if (expect_ok(c, &b, id, &m) == 0) {
        if (!it_get_int(m.result, "id", &eid))
            eid = -1;
        it_msg_free(&m);
    }
    it_buf_free(&b);
    return eid;
}

/* Renames enterprise eid at version v; 0 or -1. */
static int rename_to(it_conn *c, int64_t eid, int64_t v, const char *name)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.update", 3);
    it_kv_int(&b, "id", eid);
    it_kv_int(&b, "version", v);
    it_kv_str(&b, "name", name);
    it_msg m;
    int r = expect_ok(c, &b, id, &m);
    if (r == 0)
        it_msg_free(&m);
    it_buf_free(&b);
    return r;
}

/* audit.list with up to 4 str filters (NULL-terminated key/value pairs) and
 * an entity_id (0: none), after (0: none), limit (0: none). The reply stays
 * in out. */
static int audit_list(it_conn *c, const char *const *kv, int64_t entity_id, int64_t after,
                      int64_t limit, it_msg *out)
{
    size_t n = 0;
    while (kv != NULL && kv[2 * n] != NULL)
        n++;
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.list", n + (entity_id > 0) + (after > 0) + (limit > 0));
    for (size_t i = 0; i < n; i++)
        it_kv_str(&b, kv[2 * i], kv[2 * i + 1]);
    if (entity_id > 0)
        it_kv_int(&b, "entity_id", entity_id);
    if (after > 0)
        it_kv_int(&b, "after", after);
    if (limit > 0)
        it_kv_int(&b, "limit", limit);
    int r = expect_ok(c, &b, id, out);
    it_buf_free(&b);
    return r;
}

static const msgpack_object *items_of(const it_msg *m)
{
    const msgpack_object *items = it_map_get(m->result, "items");
    return items != NULL && items->type == MSGPACK_OBJECT_ARRAY ? items : NULL;
}

/* True when the str array obj equals want[0..n). */
static bool strs_eq(const msgpack_object *obj, const char *const *want, size_t n)
{
    if (obj == NULL || obj->type != MSGPACK_OBJECT_ARRAY || obj->via.array.size != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char s[64];
        if (!it_obj_str(&obj->via.array.ptr[i], s, sizeof s) || strcmp(s, want[i]) != 0)
            return false;
    }
    return true;
}

static const char *const AUDIT_KEYS[] = {"id",     "at",     "user",      "user_id",
                                         "addr",   "method", "entity",    "entity_id",
                                         "changed", "before", "after"};

static int create_and_update_record_who_where_what_before_and_after(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t eid = create(c, 900, "审计企业甲", "赤壁镇", NULL);
    IT_CHECK(eid > 0);
    IT_CHECK(audit_rows_of("enterprise", eid) == 1);
    IT_CHECK(rename_to(c, eid, 1, "审计企业甲改") == 0);
    IT_CHECK(audit_rows_of("enterprise", eid) == 2);
    const char *kv[] = {"entity", "enterprise", NULL};
    it_msg m;
    IT_CHECK(audit_list(c, kv, eid, 0, 0, &m) == 0);
    const msgpack_object *items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 2);
    const msgpack_object *upd = &items->via.array.ptr[0], *cre = &items->via.array.ptr[1];
    /* Keys in the documented order. */
    IT_CHECK(upd->type == MSGPACK_OBJECT_MAP && upd->via.map.size == 11);
    for (size_t i = 0; i < 11; i++) {
        const msgpack_object *k = &upd->via.map.ptr[i].key;
        IT_CHECK(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(AUDIT_KEYS[i]) &&
                 memcmp(k->via.str.ptr, AUDIT_KEYS[i], k->via.str.size) == 0);
    }
    int64_t uid = it_user_id(IT_USER_SUPER), got_uid = 0, got_eid = 0, id_upd = 0, id_cre = 0;
    char addr[64], at[40];
    IT_CHECK(it_get_int(upd, "id", &id_upd) && it_get_int(cre, "id", &id_cre) && id_upd > id_cre);
    IT_CHECK(it_get_str_eq(upd, "user", IT_USER_SUPER));
    IT_CHECK(it_get_int(upd, "user_id", &got_uid) && got_uid == uid);
    IT_CHECK(it_get_str(upd, "addr", addr, sizeof addr) && strncmp(addr, "127.0.0.1:", 10) == 0);
    IT_CHECK(it_get_str(upd, "at", at, sizeof at) && strlen(at) == 27 && at[26] == 'Z');
    IT_CHECK(it_get_str_eq(upd, "method", "enterprise.update"));
    IT_CHECK(it_get_str_eq(upd, "entity", "enterprise"));
    IT_CHECK(it_get_int(upd, "entity_id", &got_eid) && got_eid == eid);
    static const char *const changed_upd[] = {"name", "updated_at", "version"};
    IT_CHECK(strs_eq(it_map_get(upd, "changed"), changed_upd, 3));
    const msgpack_object *before = it_map_get(upd, "before"), *after = it_map_get(upd, "after");
    IT_CHECK(before != NULL && before->type == MSGPACK_OBJECT_MAP);
    IT_CHECK(after != NULL && after->type == MSGPACK_OBJECT_MAP);
    IT_CHECK(it_get_str_eq(before, "name", "审计企业甲"));
    IT_CHECK(it_get_str_eq(after, "name", "审计企业甲改"));
    int64_t v = 0;
    IT_CHECK(it_get_int(before, "version", &v) && v == 1);
    IT_CHECK(it_get_int(after, "version", &v) && v == 2);
    static const char *const labels[] = {"规上", "高新技术企业"};
    IT_CHECK(strs_eq(it_map_get(after, "labels"), labels, 2));
    IT_CHECK(it_get_str_eq(after, "township", "赤壁镇"));
    /* The create: nothing before, every field changed. */
    IT_CHECK(it_get_str_eq(cre, "method", "enterprise.create"));
    const msgpack_object *cb = it_map_get(cre, "before");
    IT_CHECK(cb != NULL && cb->type == MSGPACK_OBJECT_NIL);
    static const char *const changed_cre[] = {"cluster", "created_at", "credit_code", "id",
                                              "labels",  "name",       "status",      "township",
                                              "updated_at", "version"};
    IT_CHECK(strs_eq(it_map_get(cre, "changed"), changed_cre, 10));
    IT_CHECK(it_get_str_eq(it_map_get(cre, "after"), "name", "审计企业甲"));
    const msgpack_object *next = it_map_get(m.result, "next");
    IT_CHECK(next != NULL && next->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    return 0;
}

static int refused_and_replayed_writes_leave_no_audit_row(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL && staff != NULL);
    int64_t eid = create(c, 901, "审计企业乙", "新店镇", "audit-key-1");
    IT_CHECK(eid > 0);
    long long n0 = audit_rows();
    it_buf b;
    it_buf_init(&b);
    /* version_conflict */
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.update", 3);
    it_kv_int(&b, "id", eid);
    it_kv_int(&b, "version", 7);
    it_kv_str(&b, "name", "冲突");
    IT_CHECK(expect_err(c, &b, id, "version_conflict", "version") == 0);
    /* not_found */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.update", 3);
    it_kv_int(&b, "id", 987654321);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "name", "不存在");
    IT_CHECK(expect_err(c, &b, id, "not_found", "id") == 0);
    /* not_found: outside the staff's scope */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.update", 3);
    it_kv_int(&b, "id", eid);
    it_kv_int(&b, "version", 1);
    it_kv_str(&b, "name", "域外");
    IT_CHECK(expect_err(staff, &b, id, "not_found", "id") == 0);
    /* forbidden: a township outside the staff's scope */
    char cc[19];
    it_credit_code(902, cc);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "越界");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "新店镇");
    IT_CHECK(expect_err(staff, &b, id, "forbidden", "township") == 0);
    /* already_exists */
    it_credit_code(901, cc);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "重复");
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "新店镇");
    IT_CHECK(expect_err(c, &b, id, "already_exists", "credit_code") == 0);
    /* status.submit: not_found and a date after today */
    id = ++g_msgid;
    it_req(&b, id, "status.submit", 4);
    it_kv_int(&b, "enterprise_id", 987654321);
    it_kv_str(&b, "report_date", "2024-01-01");
    it_kv_str(&b, "reporter", "甲");
    it_kv_str(&b, "production_status", "正常");
    IT_CHECK(expect_err(c, &b, id, "not_found", "enterprise_id") == 0);
    id = ++g_msgid;
    it_req(&b, id, "status.submit", 4);
    it_kv_int(&b, "enterprise_id", eid);
    it_kv_str(&b, "report_date", "2999-01-01");
    it_kv_str(&b, "reporter", "甲");
    it_kv_str(&b, "production_status", "正常");
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "report_date") == 0);
    it_buf_free(&b);
    /* A replay of the create. */
    IT_CHECK(create(c, 901, "审计企业乙", "新店镇", "audit-key-1") == eid);
    IT_CHECKF(audit_rows() == n0, "refused or replayed writes wrote %lld audit rows",
              audit_rows() - n0);
    /* And a success writes exactly one. */
    IT_CHECK(rename_to(c, eid, 1, "审计企业乙改") == 0);
    IT_CHECK(audit_rows() == n0 + 1);
    IT_CHECK(audit_rows_of("enterprise", eid) == 2);
    return 0;
}

/* The reports repeat one enterprise, date and reporter on purpose (they
 * differ by note): allow_duplicate (the rule is test_duplicates.c's). */
static void pack_submit(it_buf *b, uint32_t id, int64_t eid, const char *note)
{
    it_req(b, id, "status.submit", 6);
    it_kv_int(b, "enterprise_id", eid);
    it_kv_str(b, "report_date", "2024-06-01");
    it_kv_str(b, "reporter", "包保干部");
    it_kv_str(b, "production_status", "正常");
    it_kv_str(b, "note", note);
    it_str(b, "allow_duplicate");
    msgpack_pack_true(&b->pk);
}

static int each_status_report_alone_or_batched_has_one_audit_row(void)
{
    static const char *const debug_env[] = {"BAOBAO_LOG=debug", NULL};
    it_server *s = it_server_start_env(NULL, debug_env);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(c != NULL && sup != NULL);
    int64_t eid = create(sup, 903, "审计走访企业", "赵李桥镇", NULL);
    IT_CHECK(eid > 0);
    it_buf b;
    it_buf_init(&b);
    for (unsigned k = 0; k < BATCH_N; k++) {
        char note[64];
        snprintf(note, sizeof note, "审计走访-%u", k);
        pack_submit(&b, MSGID_BASE + k, eid, note);
    }
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    int64_t uid = it_user_id(IT_USER_STAFF);
    int bad = 0;
    for (unsigned i = 0; i < BATCH_N; i++) {
        it_msg m;
        IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS * 2, &m) == IT_RECV_MSG);
        int64_t rid = 0;
        char note[64], d[800];
        if (m.is_error || !it_get_int(m.result, "id", &rid) ||
            !it_get_str(m.result, "note", note, sizeof note)) {
            it_fail(__FILE__, __LINE__, "submit: %s", it_describe(&m, d, sizeof d));
            bad++;
        } else {
            char t[24], u[24];
            snprintf(t, sizeof t, "%lld", (long long)rid);
            snprintf(u, sizeof u, "%lld", (long long)uid);
            const char *p[] = {t, u, note};
            long long n = it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'status_report'"
                                    " AND entity_id = $1::bigint AND user_id = $2::bigint"
                                    " AND method = 'status.submit' AND before IS NULL"
                                    " AND after->>'note' = $3 AND (after->>'id')::bigint = $1::bigint"
                                    " AND login = 'it_staff' AND addr LIKE '127.0.0.1:%'",
                                    3, p);
            if (n != 1 || audit_rows_of("status_report", rid) != 1) {
                it_fail(__FILE__, __LINE__, "report %lld has %lld matching audit rows",
                        (long long)rid, n);
                bad++;
            }
        }
        it_msg_free(&m);
    }
    IT_CHECK(bad == 0);
    IT_CHECK(it_server_log_has(s, "event=submit_batch rows="));
    /* And audit.list shows them as StatusReports. */
    const char *kv[] = {"entity", "status_report", "user", IT_USER_STAFF, NULL};
    it_msg m;
    IT_CHECK(audit_list(sup, kv, 0, 0, 0, &m) == 0);
    const msgpack_object *items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size >= BATCH_N);
    const msgpack_object *after = it_map_get(&items->via.array.ptr[0], "after");
    IT_CHECK(after != NULL && after->type == MSGPACK_OBJECT_MAP);
    IT_CHECK(it_get_str_eq(after, "report_date", "2024-06-01"));
    IT_CHECK(it_get_str_eq(after, "production_status", "正常"));
    const msgpack_object *ov = it_map_get(after, "output_value");
    IT_CHECK(ov != NULL && ov->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

static int audit_list_filters_by_user_and_entity(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(staff != NULL && admin != NULL);
    int64_t eid = create(staff, 904, "审计按人查询", "新店镇", NULL);
    IT_CHECK(eid > 0);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    uint32_t id = ++g_msgid;
    pack_submit(&b, id, eid, "按人查询走访");
    IT_CHECK(expect_ok(staff, &b, id, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    const char *by_user[] = {"user", IT_USER_STAFF2, NULL};
    IT_CHECK(audit_list(admin, by_user, 0, 0, 0, &m) == 0);
    const msgpack_object *items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 2);
    for (uint32_t i = 0; i < items->via.array.size; i++)
        IT_CHECK(it_get_str_eq(&items->via.array.ptr[i], "user", IT_USER_STAFF2));
    IT_CHECK(it_get_str_eq(&items->via.array.ptr[0], "entity", "status_report"));
    IT_CHECK(it_get_str_eq(&items->via.array.ptr[1], "entity", "enterprise"));
    it_msg_free(&m);
    const char *by_both[] = {"user", IT_USER_STAFF2, "entity", "enterprise", NULL};
    IT_CHECK(audit_list(admin, by_both, 0, 0, 0, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 1);
    it_msg_free(&m);
    const char *nobody[] = {"user", "no_such_login", NULL};
    IT_CHECK(audit_list(admin, nobody, 0, 0, 0, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 0);
    it_msg_free(&m);
    /* Every item of a kind is of that kind. */
    const char *kind[] = {"entity", "status_report", NULL};
    IT_CHECK(audit_list(admin, kind, 0, 0, 500, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size >= 1);
    for (uint32_t i = 0; i < items->via.array.size; i++)
        IT_CHECK(it_get_str_eq(&items->via.array.ptr[i], "entity", "status_report"));
    it_msg_free(&m);
    return 0;
}

static int audit_list_pages_newest_first_without_skips_or_repeats(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t eid = create(c, 905, "审计翻页", "神山镇", NULL);
    IT_CHECK(eid > 0);
    enum { UPDATES = 20, LIMIT = 6 };
    for (int i = 0; i < UPDATES; i++) {
        char name[64];
        snprintf(name, sizeof name, "审计翻页-%d", i);
        IT_CHECK(rename_to(c, eid, i + 1, name) == 0);
    }
    /* One record's history, and the whole trail. */
    for (int whole = 0; whole < 2; whole++) {
        const char *kv[] = {"entity", "enterprise", NULL};
        long long want = whole ? audit_rows() : UPDATES + 1;
        int64_t after = 0, prev = INT64_MAX;
        char prev_at[40] = "9999";
        long long seen = 0;
        for (int page = 0; page < 1000; page++) {
            it_msg m;
            IT_CHECK(audit_list(c, whole ? NULL : kv, whole ? 0 : eid, after, LIMIT, &m) == 0);
            const msgpack_object *items = items_of(&m);
            const msgpack_object *next = it_map_get(m.result, "next");
            IT_CHECK(items != NULL && next != NULL && items->via.array.size <= LIMIT);
            for (uint32_t i = 0; i < items->via.array.size; i++) {
                int64_t aid = 0;
                char at[40];
                IT_CHECK(it_get_int(&items->via.array.ptr[i], "id", &aid) &&
                         it_get_str(&items->via.array.ptr[i], "at", at, sizeof at));
                /* Newest first: (at, id) falls. (Ids alone need not:
                 * `at` is when a transaction began, and two transactions
                 * may write their rows in the other order.) */
                int cmp = strcmp(at, prev_at);
                IT_CHECKF(cmp < 0 || (cmp == 0 && aid < prev), "(%s, %lld) after (%s, %lld)",
                          at, (long long)aid, prev_at, (long long)prev);
                prev = aid;
                snprintf(prev_at, sizeof prev_at, "%s", at);
                seen++;
            }
            bool last = next->type == MSGPACK_OBJECT_NIL;
            if (!last)
                IT_CHECK(it_obj_int(next, &after) && after == prev);
            it_msg_free(&m);
            if (last)
                break;
        }
        IT_CHECKF(seen == want, "paged %lld rows, expected %lld", seen, want);
    }
    return 0;
}

/* Sets the time of the audit rows of one record, oldest first, to the
 * given instants (PostgreSQL timestamptz literals). */
static int pin_times(const char *entity, int64_t eid, const char *const *ats, size_t n)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)eid);
    for (size_t i = 0; i < n; i++) {
        char ord[8];
        snprintf(ord, sizeof ord, "%zu", i + 1);
        const char *p[] = {entity, t, ord, ats[i]};
        IT_CHECK(it_pg_exec("UPDATE audit_log SET at = $4::timestamptz WHERE id = ("
                            " SELECT id FROM audit_log WHERE entity = $1 AND entity_id = $2::bigint"
                            " ORDER BY id OFFSET $3::int - 1 LIMIT 1)",
                            4, p) == 0);
    }
    return 0;
}

static int audit_list_by_time_range_dates_in_time_zone_and_timestamps(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t eid = create(c, 906, "审计按时查询", "车埠镇", NULL);
    IT_CHECK(eid > 0);
    IT_CHECK(rename_to(c, eid, 1, "审计按时查询二") == 0);
    IT_CHECK(rename_to(c, eid, 2, "审计按时查询三") == 0);
    /* The third at 07:30 in Shanghai on March 1st, which is still Feb 28 in UTC. */
    static const char *const ats[] = {"2021-01-10 12:00:00+08", "2021-02-10 12:00:00+08",
                                      "2021-03-01 07:30:00+08"};
    IT_CHECK(pin_times("enterprise", eid, ats, 3) == 0);
    static const struct {
        const char *from, *to;
        int want;          /* bits: 1 create, 2 first update, 4 second */
    } cases[] = {
        {"2021-01-10", "2021-01-10", 1},
        {"2021-01-11", "2021-02-28", 2},
        {"2021-03-01", NULL, 4},
        {NULL, "2021-02-28", 3},
        {"2021-02-10T04:00:00Z", NULL, 6},           /* 12:00+08 exactly: inclusive */
        {"2021-02-10T04:00:00.000001Z", NULL, 4},
        {NULL, "2021-02-10T04:00:00Z", 3},           /* inclusive */
        {NULL, "2021-02-10T11:59:59+08:00", 1},
        {"2021-02-28T23:00:00Z", "2021-02-28T23:59:59.999999Z", 4},
        {"2022-01-01", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *kv[8] = {"entity", "enterprise"};
        size_t k = 2;
        if (cases[i].from != NULL) {
            kv[k++] = "from";
            kv[k++] = cases[i].from;
        }
        if (cases[i].to != NULL) {
            kv[k++] = "to";
            kv[k++] = cases[i].to;
        }
        kv[k] = NULL;
        it_msg m;
        IT_CHECK(audit_list(c, kv, eid, 0, 0, &m) == 0);
        const msgpack_object *items = items_of(&m);
        IT_CHECK(items != NULL);
        int got = 0;
        for (uint32_t j = 0; j < items->via.array.size; j++) {
            const msgpack_object *after = it_map_get(&items->via.array.ptr[j], "after");
            got |= it_get_str_eq(after, "name", "审计按时查询") ? 1
                 : it_get_str_eq(after, "name", "审计按时查询二") ? 2
                 : it_get_str_eq(after, "name", "审计按时查询三") ? 4 : 64;
        }
        it_msg_free(&m);
        IT_CHECKF(got == cases[i].want, "from %s to %s: got %d, expected %d",
                  cases[i].from != NULL ? cases[i].from : "-",
                  cases[i].to != NULL ? cases[i].to : "-", got, cases[i].want);
    }
    return 0;
}

/* audit.as_of; *name gets the name of the answer ("" for nil), or the
 * error code is checked when want_code is not NULL. */
static int as_of(it_conn *c, const char *entity, int64_t eid, const char *at,
                 const char *want_code, char *name, size_t namelen)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.as_of", 3);
    it_kv_str(&b, "entity", entity);
    it_kv_int(&b, "id", eid);
    it_kv_str(&b, "at", at);
    int r;
    if (want_code != NULL) {
        r = expect_err(c, &b, id, want_code, "id");
    } else {
        it_msg m;
        r = expect_ok(c, &b, id, &m);
        if (r == 0) {
            name[0] = '\0';
            if (m.result->type == MSGPACK_OBJECT_MAP &&
                !it_get_str(m.result, "name", name, namelen) &&
                !it_get_str(m.result, "note", name, namelen))
                snprintf(name, namelen, "(a map without name)");
            it_msg_free(&m);
        }
    }
    it_buf_free(&b);
    return r;
}

static int as_of_answers_the_record_as_it_was_then(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int64_t eid = create(c, 907, "历史一", "官塘驿镇", NULL);
    IT_CHECK(eid > 0);
    IT_CHECK(rename_to(c, eid, 1, "历史二") == 0);
    IT_CHECK(rename_to(c, eid, 2, "历史三") == 0);
    static const char *const ats[] = {"2022-01-10 12:00:00+08", "2022-02-10 12:00:00+08",
                                      "2022-03-10 12:00:00+08"};
    IT_CHECK(pin_times("enterprise", eid, ats, 3) == 0);
    char name[128];
    IT_CHECK(as_of(c, "enterprise", eid, "2022-01-09", "not_found", NULL, 0) == 0);
    IT_CHECK(as_of(c, "enterprise", eid, "2022-01-10T03:59:59Z", "not_found", NULL, 0) == 0);
    IT_CHECK(as_of(c, "enterprise", eid, "2022-01-10", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史一");
    IT_CHECK(as_of(c, "enterprise", eid, "2022-02-09", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史一");
    IT_CHECK(as_of(c, "enterprise", eid, "2022-02-10T03:59:59.999999Z", NULL, name,
                   sizeof name) == 0);
    IT_CHECK_STR(name, "历史一");
    IT_CHECK(as_of(c, "enterprise", eid, "2022-02-10T04:00:00Z", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史二");
    IT_CHECK(as_of(c, "enterprise", eid, "2022-02-10", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史二");
    IT_CHECK(as_of(c, "enterprise", eid, "2099-12-31", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史三");
    IT_CHECK(as_of(c, "enterprise", 987654321, "2099-12-31", "not_found", NULL, 0) == 0);
    /* The whole record as the wire shows an Enterprise. */
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.as_of", 3);
    it_kv_str(&b, "entity", "enterprise");
    it_kv_int(&b, "id", eid);
    it_kv_str(&b, "at", "2022-02-10");
    it_msg m;
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    it_buf_free(&b);
    int64_t v = 0, rid = 0;
    static const char *const labels[] = {"规上", "高新技术企业"};
    IT_CHECK(it_get_int(m.result, "version", &v) && v == 2);
    IT_CHECK(it_get_int(m.result, "id", &rid) && rid == eid);
    IT_CHECK(it_get_str_eq(m.result, "township", "官塘驿镇"));
    IT_CHECK(strs_eq(it_map_get(m.result, "labels"), labels, 2));
    const msgpack_object *cl = it_map_get(m.result, "cluster");
    IT_CHECK(cl != NULL && cl->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    /* A status report too. */
    it_buf_init(&b);
    id = ++g_msgid;
    pack_submit(&b, id, eid, "历史走访");
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    IT_CHECK(it_get_int(m.result, "id", &rid));
    it_msg_free(&m);
    it_buf_free(&b);
    IT_CHECK(as_of(c, "status_report", rid, "2099-01-01", NULL, name, sizeof name) == 0);
    IT_CHECK_STR(name, "历史走访");
    IT_CHECK(as_of(c, "status_report", rid, "2000-01-01", "not_found", NULL, 0) == 0);
    return 0;
}

static int staff_may_not_read_the_audit_trail(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(staff != NULL && admin != NULL && sup != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.list", 0);
    IT_CHECK(expect_err(staff, &b, id, "forbidden", NULL) == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.as_of", 3);
    it_kv_str(&b, "entity", "enterprise");
    it_kv_int(&b, "id", 1);
    it_kv_str(&b, "at", "2024-01-01");
    IT_CHECK(expect_err(staff, &b, id, "forbidden", NULL) == 0);
    it_buf_free(&b);
    it_msg m;
    IT_CHECK(audit_list(admin, NULL, 0, 0, 1, &m) == 0);
    it_msg_free(&m);
    IT_CHECK(audit_list(sup, NULL, 0, 0, 1, &m) == 0);
    it_msg_free(&m);
    return 0;
}

static int audit_arguments_are_checked(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    static const struct {
        const char *key, *val, *field;
    } bad[] = {
        {"entity", "company", "entity"},
        {"from", "2021-02-30", "from"},
        {"from", "yesterday", "from"},
        {"to", "2021-02-10T25:00:00Z", "to"},
        {"to", "2021-02-10T12:00:00", "to"},        /* no zone */
        {"to", "2021-02-10 12:00:00Z", "to"},
        {"from", "2021-02-10T12:00:00.1234567Z", "from"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t id = ++g_msgid;
        it_req(&b, id, "audit.list", 1);
        it_kv_str(&b, bad[i].key, bad[i].val);
        IT_CHECKF(expect_err(c, &b, id, "invalid_argument", bad[i].field) == 0, "%s = %s",
                  bad[i].key, bad[i].val);
    }
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.list", 1);
    it_kv_int(&b, "entity_id", 5);
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "entity_id") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.list", 1);
    it_kv_nil(&b, "user");
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "user") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.list", 1);
    it_kv_int(&b, "after", INT64_C(9000000000000000000));
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "after") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.as_of", 2);
    it_kv_str(&b, "entity", "enterprise");
    it_kv_int(&b, "id", 1);
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "at") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.as_of", 3);
    it_kv_str(&b, "entity", "enterprise");
    it_kv_int(&b, "id", 0);
    it_kv_str(&b, "at", "2024-01-01");
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "id") == 0);
    it_buf_free(&b);
    return 0;
}

/* audit.get of the update of an enterprise: the same record audit.list
 * answers, before and after as maps; an id that names no record is
 * not_found; township staff are forbidden. */
static int audit_get_answers_one_record_with_before_and_after(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(c != NULL && staff != NULL);
    int64_t eid = create(c, 960, "审计企业单条", "赤壁镇", NULL);
    IT_CHECK(eid > 0);
    IT_CHECK(rename_to(c, eid, 1, "审计企业单条改") == 0);
    const char *kv[] = {"entity", "enterprise", NULL};
    it_msg m;
    IT_CHECK(audit_list(c, kv, eid, 0, 1, &m) == 0);
    const msgpack_object *items = items_of(&m);
    int64_t aid = 0;
    IT_CHECK(items != NULL && items->via.array.size == 1 &&
             it_get_int(&items->via.array.ptr[0], "id", &aid) && aid > 0);
    char listed_at[40];
    IT_CHECK(it_get_str(&items->via.array.ptr[0], "at", listed_at, sizeof listed_at));
    it_msg_free(&m);

    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.get", 1);
    it_kv_int(&b, "id", aid);
    IT_CHECK(expect_ok(c, &b, id, &m) == 0);
    const msgpack_object *r = m.result;
    IT_CHECK(r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 11);
    for (size_t i = 0; i < 11; i++) {
        const msgpack_object *k = &r->via.map.ptr[i].key;
        IT_CHECK(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(AUDIT_KEYS[i]) &&
                 memcmp(k->via.str.ptr, AUDIT_KEYS[i], k->via.str.size) == 0);
    }
    int64_t got = 0;
    IT_CHECK(it_get_int(r, "id", &got) && got == aid);
    IT_CHECK(it_get_str_eq(r, "at", listed_at));
    IT_CHECK(it_get_str_eq(r, "method", "enterprise.update"));
    IT_CHECK(it_get_int(r, "entity_id", &got) && got == eid);
    static const char *const changed[] = {"name", "updated_at", "version"};
    IT_CHECK(strs_eq(it_map_get(r, "changed"), changed, 3));
    IT_CHECK(it_get_str_eq(it_map_get(r, "before"), "name", "审计企业单条"));
    IT_CHECK(it_get_str_eq(it_map_get(r, "after"), "name", "审计企业单条改"));
    it_msg_free(&m);

    id = ++g_msgid;
    it_req(&b, id, "audit.get", 1);
    it_kv_int(&b, "id", INT64_C(9000000000000000000));
    IT_CHECK(expect_err(c, &b, id, "not_found", "id") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.get", 0);
    IT_CHECK(expect_err(c, &b, id, "invalid_argument", "id") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.get", 1);
    it_kv_int(&b, "id", aid);
    IT_CHECK(expect_err(staff, &b, id, "forbidden", NULL) == 0);
    it_buf_free(&b);
    return 0;
}

/* audit.logins with the filters given (NULL: not sent); limit, after 0:
 * not sent. The reply stays in out. */
static int logins(it_conn *c, const char *login, const char *outcome, const char *from,
                  int64_t after, int64_t limit, it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.logins",
           (login != NULL) + (outcome != NULL) + (from != NULL) + (after > 0) + (limit > 0));
    if (login != NULL)
        it_kv_str(&b, "login", login);
    if (outcome != NULL)
        it_kv_str(&b, "outcome", outcome);
    if (from != NULL)
        it_kv_str(&b, "from", from);
    if (after > 0)
        it_kv_int(&b, "after", after);
    if (limit > 0)
        it_kv_int(&b, "limit", limit);
    int r = expect_ok(c, &b, id, out);
    it_buf_free(&b);
    return r;
}

/* An unknown login, a wrong password and a good one for one user are in
 * the login log, newest first, with their outcomes; the filters and the
 * cursor work; only admins may read it. */
static int login_log_pages_newest_first_for_admins_only(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_msg m;
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    IT_CHECK(it_login(anon, IT_USER_STAFF2, "not-the-password", IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECK(m.is_error && strcmp(m.code, "login_failed") == 0);
    it_msg_free(&m);
    IT_CHECK(it_login(anon, IT_USER_STAFF2, IT_PASSWORD, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECK(!m.is_error);
    it_msg_free(&m);
    it_conn *nobody = it_connect_anon(s->port);
    IT_CHECK(nobody != NULL);
    IT_CHECK(it_login(nobody, "nobody_by_that_login", "x", IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECK(m.is_error);
    it_msg_free(&m);

    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(admin != NULL);
    IT_CHECK(logins(admin, IT_USER_STAFF2, NULL, NULL, 0, 0, &m) == 0);
    const msgpack_object *items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size >= 2);
    const msgpack_object *ok = &items->via.array.ptr[0], *bad = &items->via.array.ptr[1];
    static const char *const keys[] = {"id", "at", "login", "user_id", "addr", "outcome", "via"};
    IT_CHECK(ok->type == MSGPACK_OBJECT_MAP && ok->via.map.size == 7);
    for (size_t i = 0; i < 7; i++) {
        const msgpack_object *k = &ok->via.map.ptr[i].key;
        IT_CHECK(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(keys[i]) &&
                 memcmp(k->via.str.ptr, keys[i], k->via.str.size) == 0);
    }
    int64_t id_ok = 0, id_bad = 0, uid = 0;
    IT_CHECK(it_get_int(ok, "id", &id_ok) && it_get_int(bad, "id", &id_bad) && id_ok > id_bad);
    IT_CHECK(it_get_str_eq(ok, "outcome", "ok") && it_get_str_eq(bad, "outcome", "bad_password"));
    IT_CHECK(it_get_str_eq(ok, "login", IT_USER_STAFF2));
    IT_CHECK(it_get_str_eq(ok, "via", "password") && it_get_str_eq(bad, "via", "password"));
    IT_CHECK(it_get_int(ok, "user_id", &uid) && uid == it_user_id(IT_USER_STAFF2));
    char at[40], addr[64];
    IT_CHECK(it_get_str(ok, "at", at, sizeof at) && strlen(at) == 27 && at[26] == 'Z');
    IT_CHECK(it_get_str(ok, "addr", addr, sizeof addr) && strncmp(addr, "127.0.0.1", 9) == 0);
    it_msg_free(&m);

    /* An unknown login: its attempt, without a user. */
    IT_CHECK(logins(admin, "nobody_by_that_login", NULL, NULL, 0, 0, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 1);
    IT_CHECK(it_get_str_eq(&items->via.array.ptr[0], "outcome", "unknown_user"));
    const msgpack_object *nouid = it_map_get(&items->via.array.ptr[0], "user_id");
    IT_CHECK(nouid != NULL && nouid->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);

    /* Filters: outcome; a time range before any of them. */
    IT_CHECK(logins(admin, IT_USER_STAFF2, "bad_password", NULL, 0, 0, &m) == 0);
    items = items_of(&m);
    int64_t first = 0;
    IT_CHECK(items != NULL && items->via.array.size >= 1 &&
             it_get_int(&items->via.array.ptr[0], "id", &first) && first == id_bad);
    it_msg_free(&m);
    IT_CHECK(logins(admin, IT_USER_STAFF2, NULL, "2999-01-01", 0, 0, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 0);
    it_msg_free(&m);

    /* Pages of one: the cursor goes on to the next older attempt. */
    IT_CHECK(logins(admin, IT_USER_STAFF2, NULL, NULL, 0, 1, &m) == 0);
    items = items_of(&m);
    int64_t next = 0;
    IT_CHECK(items != NULL && items->via.array.size == 1 &&
             it_get_int(&items->via.array.ptr[0], "id", &first) && first == id_ok);
    IT_CHECK(it_get_int(m.result, "next", &next) && next == id_ok);
    it_msg_free(&m);
    IT_CHECK(logins(admin, IT_USER_STAFF2, NULL, NULL, next, 1, &m) == 0);
    items = items_of(&m);
    IT_CHECK(items != NULL && items->via.array.size == 1 &&
             it_get_int(&items->via.array.ptr[0], "id", &first) && first == id_bad);
    it_msg_free(&m);

    /* Arguments; and supervisors and staff may not read it. */
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "audit.logins", 1);
    it_kv_str(&b, "outcome", "success");
    IT_CHECK(expect_err(admin, &b, id, "invalid_argument", "outcome") == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.logins", 1);
    it_kv_str(&b, "to", "yesterday");
    IT_CHECK(expect_err(admin, &b, id, "invalid_argument", "to") == 0);
    it_conn *sup = it_connect(s->port);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(sup != NULL && staff != NULL);
    id = ++g_msgid;
    it_req(&b, id, "audit.logins", 0);
    IT_CHECK(expect_err(sup, &b, id, "forbidden", NULL) == 0);
    id = ++g_msgid;
    it_req(&b, id, "audit.logins", 0);
    IT_CHECK(expect_err(staff, &b, id, "forbidden", NULL) == 0);
    it_buf_free(&b);
    return 0;
}

static const it_test tests[] = {
    {"create_and_update_record_who_where_what_before_and_after",
     create_and_update_record_who_where_what_before_and_after},
    {"refused_and_replayed_writes_leave_no_audit_row",
     refused_and_replayed_writes_leave_no_audit_row},
    {"each_status_report_alone_or_batched_has_one_audit_row",
     each_status_report_alone_or_batched_has_one_audit_row},
    {"audit_list_filters_by_user_and_entity", audit_list_filters_by_user_and_entity},
    {"audit_list_pages_newest_first_without_skips_or_repeats",
     audit_list_pages_newest_first_without_skips_or_repeats},
    {"audit_list_by_time_range_dates_in_time_zone_and_timestamps",
     audit_list_by_time_range_dates_in_time_zone_and_timestamps},
    {"as_of_answers_the_record_as_it_was_then", as_of_answers_the_record_as_it_was_then},
    {"staff_may_not_read_the_audit_trail", staff_may_not_read_the_audit_trail},
    {"audit_arguments_are_checked", audit_arguments_are_checked},
    {"audit_get_answers_one_record_with_before_and_after",
     audit_get_answers_one_record_with_before_and_after},
    {"login_log_pages_newest_first_for_admins_only",
     login_log_pages_newest_first_for_admins_only},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "audit", tests, sizeof tests / sizeof tests[0], setup);
}
