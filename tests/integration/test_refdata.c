/*
 * test_refdata.c: reference data against a real server and database
 * (sql/015_reference_data.sql, server/methods/refdata.c): an admin adds an
 * industry cluster and an enterprise is created with it; retired, it is
 * refused on a new enterprise (invalid_argument, field cluster) while the
 * enterprise that has it still reads and updates its other fields; renamed,
 * the enterprise shows the new name; every change leaves its audit row.
 * Also: ref.list for every role, only admins write (forbidden otherwise),
 * the errors of ref.* with their fields, a township added and retired, a
 * retired label refused as labels[i], and an idempotent retry.
 *
 * Not for: the lists of 赤壁市 themselves (every test sees them, loaded by
 * the harness from data/reference/chibi.sql), or the checks of each
 * business method (their own tests).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t g_msgid = 100;

/* ---- helpers ---- */

static void req(it_buf *b, const char *method, size_t nargs)
{
    it_req(b, ++g_msgid, method, nargs);
}

static void kv_bool(it_buf *b, const char *key, bool v)
{
    it_str(b, key);
    if (v)
        msgpack_pack_true(&b->pk);
    else
        msgpack_pack_false(&b->pk);
}

/* One request of this file (msgid g_msgid) and its response: harness.h. */
#define call(c, b, m) it_buf_call((c), (b), g_msgid, (m))
#define ok(c, b, m) it_buf_ok((c), (b), g_msgid, (m))
#define err(c, b, code, field) it_buf_err((c), (b), g_msgid, (code), (field))

/* ref.add of kind/value (township_kind for a township, else NULL). */
static void ref_add(it_buf *b, const char *kind, const char *value, const char *township_kind,
                    const char *key)
{
    req(b, "ref.add", 2 + (township_kind ? 1 : 0) + (key ? 1 : 0));
    it_kv_str(b, "kind", kind);
    it_kv_str(b, "value", value);
    if (township_kind)
        it_kv_str(b, "township_kind", township_kind);
    if (key)
        it_kv_str(b, "idempotency_key", key);
}

static void ref_retire(it_buf *b, const char *kind, const char *value)
{
    req(b, "ref.retire", 2);
    it_kv_str(b, "kind", kind);
    it_kv_str(b, "value", value);
}

static void ref_rename(it_buf *b, const char *kind, const char *value, const char *new_value)
{
    req(b, "ref.rename", 3);
    it_kv_str(b, "kind", kind);
    it_kv_str(b, "value", value);
    it_kv_str(b, "new_value", new_value);
}

/* enterprise.create with the code_n-th credit code; cluster and label may
 * be NULL. */
static void ent_create(it_buf *b, unsigned long code_n, const char *name, const char *township,
                       const char *cluster, const char *const *labels, size_t nlabels)
{
    char code[19];
    it_credit_code(code_n, code);
    req(b, "enterprise.create", 3 + (cluster ? 1 : 0) + (labels ? 1 : 0));
    it_kv_str(b, "name", name);
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", township);
    if (cluster)
        it_kv_str(b, "cluster", cluster);
    if (labels)
        it_kv_strs(b, "labels", labels, nlabels);
}

/* The RefValue of kind/value in ref.list's answer: its retired flag in
 * *retired; -1 when it is not listed. */
static int listed(it_conn *c, const char *kind, const char *value, bool *retired)
{
    it_buf b;
    it_buf_init(&b);
    req(&b, "ref.list", 1);
    it_kv_str(&b, "kind", kind);
    it_msg m;
    int rc = ok(c, &b, &m);
    it_buf_free(&b);
    IT_CHECK(rc == 0);
    const msgpack_object *items = it_map_get(m.result, "items");
    int found = -1;
    if (items != NULL && items->type == MSGPACK_OBJECT_ARRAY) {
        for (uint32_t i = 0; i < items->via.array.size; i++) {
            const msgpack_object *it = &items->via.array.ptr[i];
            if (!it_get_str_eq(it, "kind", kind)) {
                found = -2; /* the filter let another kind through */
                break;
            }
            if (it_get_str_eq(it, "value", value)) {
                const msgpack_object *r = it_map_get(it, "retired");
                if (r != NULL && r->type == MSGPACK_OBJECT_BOOLEAN) {
                    *retired = r->via.boolean;
                    found = 0;
                }
            }
        }
    }
    it_msg_free(&m);
    IT_CHECKF(found != -2, "ref.list kind=%s listed another kind", kind);
    return found;
}

/* Audit rows of method by the admin on the row of value (a township's
 * when entity is "township", else a ref_value's). */
static long long audit_rows(const char *method, const char *entity, const char *value)
{
    const char *p[4] = {method, entity, IT_USER_ADMIN, value};
    return it_pg_int("SELECT count(*) FROM audit_log a"
                     " WHERE a.method = $1 AND a.entity = $2 AND a.login = $3"
                     "   AND a.entity_id = (SELECT w.id FROM ref_wire w WHERE w.value = $4"
                     "                         AND (w.kind = 'township') = ($2 = 'township'))",
                     4, p);
}

/* ---- tests ---- */

/* The whole life of a cluster, seen by the records that use it. */
static int cluster_add_retire_rename(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(admin != NULL && sup != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;

    /* add: a RefValue, current, at the end of its kind */
    ref_add(&b, "cluster", "光电子", NULL, NULL);
    IT_CHECK(ok(admin, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "kind", "cluster"));
    IT_CHECK(it_get_str_eq(m.result, "value", "光电子"));
    const msgpack_object *r = it_map_get(m.result, "retired");
    IT_CHECK(r != NULL && r->type == MSGPACK_OBJECT_BOOLEAN && !r->via.boolean);
    IT_CHECK(it_map_get(m.result, "township_kind") != NULL &&
             it_map_get(m.result, "township_kind")->type == MSGPACK_OBJECT_NIL);
    int64_t ver = 0;
    IT_CHECK(it_get_int(m.result, "version", &ver) && ver == 1);
    it_msg_free(&m);
    bool retired = true;
    IT_CHECK(listed(sup, "cluster", "光电子", &retired) == 0 && !retired);
    IT_CHECK(listed(sup, "cluster", "青砖茶", &retired) == 0 && !retired);

    /* an enterprise with it */
    ent_create(&b, 9101, "光电子一厂", "赵李桥镇", "光电子", NULL, 0);
    IT_CHECK(ok(sup, &b, &m) == 0);
    int64_t eid = 0, ev = 0;
    IT_CHECK(it_get_int(m.result, "id", &eid) && it_get_int(m.result, "version", &ev));
    IT_CHECK(it_get_str_eq(m.result, "cluster", "光电子"));
    it_msg_free(&m);

    /* retired: refused on a new enterprise, field cluster */
    ref_retire(&b, "cluster", "光电子");
    IT_CHECK(ok(admin, &b, &m) == 0);
    r = it_map_get(m.result, "retired");
    IT_CHECK(r != NULL && r->type == MSGPACK_OBJECT_BOOLEAN && r->via.boolean);
    it_msg_free(&m);
    IT_CHECK(listed(sup, "cluster", "光电子", &retired) == 0 && retired);
    ent_create(&b, 9102, "光电子二厂", "赵李桥镇", "光电子", NULL, 0);
    IT_CHECK(err(sup, &b, "invalid_argument", "cluster") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE name = '光电子二厂'", 0, NULL) == 0);

    /* ... while the enterprise that has it reads and updates other fields */
    req(&b, "enterprise.get", 1);
    it_kv_int(&b, "id", eid);
    IT_CHECK(ok(sup, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "cluster", "光电子"));
    it_msg_free(&m);
    req(&b, "enterprise.update", 3);
    it_kv_int(&b, "id", eid);
    it_kv_int(&b, "version", ev);
    it_kv_str(&b, "name", "光电子一厂（改名）");
    IT_CHECK(ok(sup, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "name", "光电子一厂（改名）"));
    IT_CHECK(it_get_str_eq(m.result, "cluster", "光电子"));
    IT_CHECK(it_get_int(m.result, "version", &ev) && ev == 2);
    it_msg_free(&m);

    /* renamed: the record shows the new name, the old one is gone */
    ref_rename(&b, "cluster", "光电子", "光电信息");
    IT_CHECK(ok(admin, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "value", "光电信息"));
    r = it_map_get(m.result, "retired");
    IT_CHECK(r != NULL && r->type == MSGPACK_OBJECT_BOOLEAN && r->via.boolean);
    it_msg_free(&m);
    req(&b, "enterprise.get", 1);
    it_kv_int(&b, "id", eid);
    IT_CHECK(ok(sup, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "cluster", "光电信息"));
    it_msg_free(&m);
    IT_CHECK(listed(sup, "cluster", "光电子", &retired) == -1);
    IT_CHECK(listed(sup, "cluster", "光电信息", &retired) == 0 && retired);

    /* brought back: a new enterprise may have it again */
    req(&b, "ref.retire", 3);
    it_kv_str(&b, "kind", "cluster");
    it_kv_str(&b, "value", "光电信息");
    kv_bool(&b, "retired", false);
    IT_CHECK(ok(admin, &b, &m) == 0);
    it_msg_free(&m);
    ent_create(&b, 9103, "光电信息三厂", "赵李桥镇", "光电信息", NULL, 0);
    IT_CHECK(ok(sup, &b, &m) == 0);
    it_msg_free(&m);

    /* one audit row per change, by the admin, on the value's row */
    IT_CHECK(audit_rows("ref.add", "ref_value", "光电信息") == 1);
    IT_CHECK(audit_rows("ref.retire", "ref_value", "光电信息") == 2);
    IT_CHECK(audit_rows("ref.rename", "ref_value", "光电信息") == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log a JOIN ref_value v ON v.id = a.entity_id"
                       " WHERE a.method = 'ref.rename' AND a.entity = 'ref_value'"
                       "   AND v.value = '光电信息' AND a.before ->> 'value' = '光电子'"
                       "   AND a.after ->> 'value' = '光电信息' AND 'value' = ANY (a.changed)",
                       0, NULL) == 1);
    it_buf_free(&b);
    return 0;
}

/* ref.list for every role; ref.add / rename / retire for admins only. */
static int only_admins_write(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *staff = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(staff != NULL && sup != NULL);
    bool retired = true;
    IT_CHECK(listed(staff, "township", "赵李桥镇", &retired) == 0 && !retired);
    IT_CHECK(listed(staff, "problem_category", "用地", &retired) == 0 && !retired);
    it_buf b;
    it_buf_init(&b);
    ref_add(&b, "cluster", "员工集群", NULL, NULL);
    IT_CHECK(err(staff, &b, "forbidden", "") == 0);
    ref_add(&b, "cluster", "督办集群", NULL, NULL);
    IT_CHECK(err(sup, &b, "forbidden", "") == 0);
    ref_retire(&b, "cluster", "青砖茶");
    IT_CHECK(err(staff, &b, "forbidden", "") == 0);
    ref_rename(&b, "cluster", "青砖茶", "红茶");
    IT_CHECK(err(sup, &b, "forbidden", "") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM ref_value WHERE value IN ('员工集群', '督办集群',"
                       " '红茶')",
                       0, NULL) == 0);
    it_conn *anon = it_connect_anon(s->port);
    IT_CHECK(anon != NULL);
    req(&b, "ref.list", 0);
    IT_CHECK(err(anon, &b, "unauthenticated", "") == 0);
    it_buf_free(&b);
    return 0;
}

/* The refusals of ref.* and their fields. */
static int ref_errors(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(admin != NULL);
    it_buf b;
    it_buf_init(&b);
    ref_add(&b, "planet", "火星", NULL, NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "kind") == 0);
    ref_add(&b, "cluster", "青砖茶", NULL, NULL);
    IT_CHECK(err(admin, &b, "already_exists", "value") == 0);
    ref_add(&b, "township", "无类乡", NULL, NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "township_kind") == 0);
    ref_add(&b, "township", "怪类乡", "村", NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "township_kind") == 0);
    ref_add(&b, "cluster", "带类集群", "镇", NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "township_kind") == 0);
    ref_add(&b, "label", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", NULL,
            NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "value") == 0);
    ref_rename(&b, "cluster", "没有这个", "有了");
    IT_CHECK(err(admin, &b, "not_found", "value") == 0);
    ref_rename(&b, "cluster", "青砖茶", "电子信息");
    IT_CHECK(err(admin, &b, "already_exists", "new_value") == 0);
    ref_rename(&b, "enterprise_status", "在营", "营业");
    IT_CHECK(err(admin, &b, "invalid_argument", "kind") == 0);
    ref_retire(&b, "enterprise_status", "注销");
    IT_CHECK(err(admin, &b, "invalid_argument", "kind") == 0);
    /* A new status would count in no column of the report workbook. */
    ref_add(&b, "enterprise_status", "歇业", NULL, NULL);
    IT_CHECK(err(admin, &b, "invalid_argument", "kind") == 0);
    ref_retire(&b, "cluster", "没有这个");
    IT_CHECK(err(admin, &b, "not_found", "value") == 0);
    it_buf_free(&b);
    return 0;
}

/* A township added with its kind, then retired: new records may not name
 * it (field township), old ones keep it. */
static int township_add_retire(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(admin != NULL && sup != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    ref_add(&b, "township", "临江新区", "园区", NULL);
    IT_CHECK(ok(admin, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "township_kind", "园区"));
    int64_t tid = 0, order = 0;
    IT_CHECK(it_get_int(m.result, "id", &tid) && it_get_int(m.result, "sort_order", &order));
    IT_CHECK(tid == order && tid > 17);
    it_msg_free(&m);
    ent_create(&b, 9201, "临江一厂", "临江新区", NULL, NULL, 0);
    IT_CHECK(ok(sup, &b, &m) == 0);
    IT_CHECK(it_get_str_eq(m.result, "township", "临江新区"));
    it_msg_free(&m);
    ref_retire(&b, "township", "临江新区");
    IT_CHECK(ok(admin, &b, &m) == 0);
    it_msg_free(&m);
    ent_create(&b, 9202, "临江二厂", "临江新区", NULL, NULL, 0);
    IT_CHECK(err(sup, &b, "invalid_argument", "township") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise e JOIN township t ON t.id = e.township_id"
                       " WHERE t.name = '临江新区'",
                       0, NULL) == 1);
    IT_CHECK(audit_rows("ref.add", "township", "临江新区") == 1);
    IT_CHECK(audit_rows("ref.retire", "township", "临江新区") == 1);
    it_buf_free(&b);
    return 0;
}

/* Labels are open: an unlisted one is accepted, a retired one refused
 * where it is new (labels[i]), kept where it was. */
static int retired_label(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(admin != NULL && sup != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    ref_add(&b, "label", "老字号", NULL, NULL);
    IT_CHECK(ok(admin, &b, &m) == 0);
    it_msg_free(&m);
    static const char *const with_old[] = {"规上", "老字号"};
    ent_create(&b, 9301, "老字号茶庄", "赵李桥镇", NULL, with_old, 2);
    IT_CHECK(ok(sup, &b, &m) == 0);
    int64_t eid = 0, ev = 0;
    IT_CHECK(it_get_int(m.result, "id", &eid) && it_get_int(m.result, "version", &ev));
    it_msg_free(&m);
    ref_retire(&b, "label", "老字号");
    IT_CHECK(ok(admin, &b, &m) == 0);
    it_msg_free(&m);
    static const char *const unlisted[] = {"规上", "自编标签", "老字号"};
    ent_create(&b, 9302, "新茶庄", "赵李桥镇", NULL, unlisted, 3);
    IT_CHECK(err(sup, &b, "invalid_argument", "labels[2]") == 0);
    ent_create(&b, 9303, "新茶庄", "赵李桥镇", NULL, unlisted, 2);
    IT_CHECK(ok(sup, &b, &m) == 0);
    it_msg_free(&m);
    /* the old enterprise keeps it while its labels change around it */
    static const char *const kept[] = {"老字号", "隐形冠军"};
    req(&b, "enterprise.update", 3);
    it_kv_int(&b, "id", eid);
    it_kv_int(&b, "version", ev);
    it_kv_strs(&b, "labels", kept, 2);
    IT_CHECK(ok(sup, &b, &m) == 0);
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* A retried ref.add with its key answers the first result: one row, one
 * audit row. */
static int idempotent_add(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *admin = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(admin != NULL);
    it_buf b;
    it_buf_init(&b);
    it_msg m;
    int64_t id1 = 0, id2 = 0;
    ref_add(&b, "problem_category", "环保", NULL, "ref-key-1");
    IT_CHECK(ok(admin, &b, &m) == 0);
    IT_CHECK(it_get_int(m.result, "id", &id1));
    it_msg_free(&m);
    ref_add(&b, "problem_category", "环保", NULL, "ref-key-1");
    IT_CHECK(ok(admin, &b, &m) == 0);
    IT_CHECK(it_get_int(m.result, "id", &id2) && id1 == id2);
    it_msg_free(&m);
    ref_add(&b, "problem_category", "安全", NULL, "ref-key-1");
    IT_CHECK(err(admin, &b, "idempotency_key_reused", "idempotency_key") == 0);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE method = 'ref.add'"
                       " AND after ->> 'value' = '环保'",
                       0, NULL) == 1);
    it_buf_free(&b);
    return 0;
}

static const it_test tests[] = {
    {"cluster_add_retire_rename", cluster_add_retire_rename},
    {"only_admins_write", only_admins_write},
    {"ref_errors", ref_errors},
    {"township_add_retire", township_add_retire},
    {"retired_label", retired_label},
    {"idempotent_add", idempotent_add},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "refdata", tests, sizeof tests / sizeof tests[0], NULL);
}
