/*
 * test_import.c: bulk import (issue 6): enterprise.import and
 * `baobao import enterprises FILE.csv`.
 *
 * Pins down: a dry run answers every row as a commit would and stores
 * nothing (no enterprise, no audit, no key); a commit creates, updates
 * (version + 1, one audit row with method enterprise.import) and leaves
 * equal rows unchanged (no write, no audit); a refused row never stops
 * the others, whether the server refused it at the edge or the database
 * did; each refused row gets the code, field (and, for the edge checks,
 * message) that enterprise.create gives the same map; the call's own
 * arguments are refused whole; roles and township scope as for
 * enterprise.create/update; a retried call with the same key returns the
 * same items and stores nothing twice. The CLI: rejected rows reported by
 * the CSV line where they start (after multi-line quoted cells too, and in
 * later calls of a big file), a summary, exit 1 on a rejection; a BOM,
 * CRLF, quotes, commas, newlines and formula-defused cells; a re-run of
 * the same file stores nothing twice; a file in the exact enterprises.csv
 * format of an export (hand-written here, from the database) imports back
 * with every row unchanged; and, through export.run, the true round trip.
 *
 * Users (harness.h): it_staff works for 赵李桥镇 and 高新技术产业园区,
 * it_staff2 for 新店镇.
 * Not for: CSV syntax in depth (tests/unit/test_csv.c), the export itself
 * (test_export.c).
 */
#include "harness.h"

#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CLI_MS 60000
/* A value meaning "pack nil" in row specs (NULL means absent). */
#define NIL_V "\x01nil"

static uint32_t g_msgid = 100;
static char g_server[64];
static char g_dir[64];   /* scratch folder for CSV files */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* The scratch folder goes when the binary ends (files, exports and all). */
static void remove_dir(void)
{
    if (g_dir[0] != '\0')
        nftw(g_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_dir, sizeof g_dir, "/tmp/bbimport-XXXXXX");
    IT_CHECK(mkdtemp(g_dir) != NULL);
    atexit(remove_dir);
    return 0;
}

static const char *server_addr(void)
{
    it_server *s = it_shared_server();
    if (s != NULL)
        snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return g_server;
}

/* ---- building calls ---- */

/* One row; NULL = key absent, NIL_V = nil. nlabels < 0: labels absent. */
typedef struct row {
    const char *name, *code, *township, *cluster, *status;
    int nlabels;
    const char *labels[4];
} row;

static void pack_opt(it_buf *b, const char *key, const char *v)
{
    if (v == NULL)
        return;
    if (strcmp(v, NIL_V) == 0)
        it_kv_nil(b, key);
    else
        it_kv_str(b, key, v);
}

static void pack_row(it_buf *b, const row *r)
{
    uint32_t n = (r->name != NULL) + (r->code != NULL) + (r->township != NULL) +
                 (r->cluster != NULL) + (r->status != NULL) + (r->nlabels >= 0);
    msgpack_pack_map(&b->pk, n);
    pack_opt(b, "name", r->name);
    pack_opt(b, "credit_code", r->code);
    pack_opt(b, "township", r->township);
    pack_opt(b, "cluster", r->cluster);
    pack_opt(b, "status", r->status);
    if (r->nlabels >= 0)
        it_kv_strs(b, "labels", r->labels, (size_t)r->nlabels);
}

/* enterprise.import of rows; key NULL = none. The reply is left in out. */
static int import_call(it_conn *c, const row *rows, size_t n, bool commit, const char *key,
                       it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.import", key != NULL ? 3 : 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        pack_row(&b, &rows[i]);
    it_str(&b, "commit");
    if (commit)
        msgpack_pack_true(&b.pk);
    else
        msgpack_pack_false(&b.pk);
    if (key != NULL)
        it_kv_str(&b, "idempotency_key", key);
    int r = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    IT_CHECK(r == IT_RECV_MSG);
    return 0;
}

/* The same, expecting success with one item per row. */
static int import_ok(it_conn *c, const row *rows, size_t n, bool commit, const char *key,
                     it_msg *out)
{
    IT_CHECK(import_call(c, rows, n, commit, key, out) == 0);
    char d[800];
    if (out->is_error) {
        it_fail(__FILE__, __LINE__, "enterprise.import: %s", it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    const msgpack_object *items = it_map_get(out->result, "items");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || items->via.array.size != n ||
        out->result->via.map.size != 1) {
        it_fail(__FILE__, __LINE__, "result is not {items} with %zu items: %s", n,
                it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

static const msgpack_object *item(const it_msg *m, size_t i)
{
    return &it_map_get(m->result, "items")->via.array.ptr[i];
}

/* Checks item i: row i, outcome, and for rejected the code and field (NULL
 * = nil field). */
static int check_item(const it_msg *m, size_t i, const char *outcome, const char *code,
                      const char *field)
{
    const msgpack_object *it = item(m, i);
    int64_t rowno = -1;
    IT_CHECK(it->type == MSGPACK_OBJECT_MAP && it->via.map.size == 6);
    IT_CHECKF(it_get_int(it, "row", &rowno) && rowno == (int64_t)i, "item %zu has row %lld", i,
              (long long)rowno);
    char got[64] = "", msg[512] = "", f[128] = "", c[64] = "";
    it_get_str(it, "outcome", got, sizeof got);
    it_get_str(it, "message", msg, sizeof msg);
    it_get_str(it, "field", f, sizeof f);
    it_get_str(it, "code", c, sizeof c);
    IT_CHECKF(strcmp(got, outcome) == 0, "row %zu: outcome %s (%s %s %s), expected %s", i, got,
              c, f, msg, outcome);
    if (code != NULL) {
        IT_CHECKF(strcmp(c, code) == 0, "row %zu: code %s (%s), expected %s", i, c, msg, code);
        const msgpack_object *fo = it_map_get(it, "field");
        if (field == NULL)
            IT_CHECKF(fo != NULL && fo->type == MSGPACK_OBJECT_NIL, "row %zu: field %s, not nil",
                      i, f);
        else
            IT_CHECKF(strcmp(f, field) == 0, "row %zu: field %s, expected %s", i, f, field);
        IT_CHECK(msg[0] != '\0');
        IT_CHECK(it_map_get(it, "id")->type == MSGPACK_OBJECT_NIL);
    } else {
        IT_CHECK(it_map_get(it, "code")->type == MSGPACK_OBJECT_NIL);
        IT_CHECK(it_map_get(it, "field")->type == MSGPACK_OBJECT_NIL);
        IT_CHECK(it_map_get(it, "message")->type == MSGPACK_OBJECT_NIL);
    }
    return 0;
}

static int64_t item_id(const it_msg *m, size_t i)
{
    int64_t id = -1;
    if (!it_get_int(item(m, i), "id", &id))
        return -1;
    return id;
}

static long long count_code(const char *code)
{
    const char *p[1] = {code};
    return it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p);
}

static long long audits_of(const char *code)
{
    const char *p[1] = {code};
    return it_pg_int("SELECT count(*) FROM audit_log a JOIN enterprise e ON e.id = a.entity_id"
                     " WHERE a.entity = 'enterprise' AND e.credit_code = $1",
                     1, p);
}

static long long import_audits(void)
{
    return it_pg_int("SELECT count(*) FROM audit_log WHERE method = 'enterprise.import'", 0,
                     NULL);
}

/* ---- the method ---- */

static int dry_run_answers_every_row_and_stores_nothing(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char a[19], b[19];
    it_credit_code(61001, a);
    it_credit_code(61002, b);
    long long audits = import_audits();
    long long keys = it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'enterprise.import'",
                               0, NULL);
    row rows[] = {
        {.name = "青砖茶一厂", .code = a, .township = "赤壁镇", .cluster = "青砖茶",
         .nlabels = 2, .labels = {"规上", "隐形冠军"}},
        {.name = "坏乡镇", .code = b, .township = "火星镇", .nlabels = -1},
        /* the same code again: within one call, an update of the row above */
        {.name = "青砖茶一厂（改名）", .code = a, .township = "赤壁镇", .nlabels = -1},
    };
    it_msg m;
    IT_CHECK(import_ok(c, rows, 3, false, "dry-run-key-is-ignored", &m) == 0);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "rejected", "invalid_argument", "township") == 0);
    IT_CHECK(check_item(&m, 2, "updated", NULL, NULL) == 0);
    /* ids only of enterprises that exist after the call: none here */
    IT_CHECK(it_map_get(item(&m, 0), "id")->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_map_get(item(&m, 2), "id")->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    IT_CHECK(count_code(a) == 0 && count_code(b) == 0);
    IT_CHECK(import_audits() == audits);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'enterprise.import'", 0,
                       NULL) == keys);
    /* commit left out = dry run */
    it_buf bb;
    it_buf_init(&bb);
    uint32_t id = ++g_msgid;
    it_req(&bb, id, "enterprise.import", 1);
    it_str(&bb, "rows");
    msgpack_pack_array(&bb.pk, 1);
    pack_row(&bb, &rows[0]);
    IT_CHECK(it_call(c, bb.sb.data, bb.sb.size, id, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&bb);
    IT_CHECK(!m.is_error);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    it_msg_free(&m);
    IT_CHECK(count_code(a) == 0);
    it_close(c);
    return 0;
}

static int commit_creates_then_unchanged_then_updated_with_audit(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char a[19], b[19];
    it_credit_code(61101, a);
    it_credit_code(61102, b);
    row rows[] = {
        {.name = "高正新材料", .code = a, .township = "新店镇", .cluster = "新材料",
         .status = "筹建", .nlabels = 1, .labels = {"高新技术企业"}},
        {.name = "龙兴非织造", .code = b, .township = "神山镇", .nlabels = -1},
    };
    it_msg m;
    IT_CHECK(import_ok(c, rows, 2, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "created", NULL, NULL) == 0);
    int64_t ida = item_id(&m, 0), idb = item_id(&m, 1);
    IT_CHECK(ida > 0 && idb > 0 && ida != idb);
    it_msg_free(&m);
    const char *pa[1] = {a};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '高正新材料' AND township = '新店镇' AND cluster = '新材料'"
                       " AND status = '筹建' AND labels = '高新技术企业' AND version = 1",
                       1, pa) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND status = '在营' AND labels = '' AND cluster IS NULL",
                       1, (const char *[]){b}) == 1);
    IT_CHECK(audits_of(a) == 1 && audits_of(b) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log a JOIN enterprise e ON e.id = a.entity_id"
                       " WHERE e.credit_code = $1 AND a.entity = 'enterprise'"
                       "   AND a.method = 'enterprise.import' AND a.before IS NULL"
                       "   AND a.after->>'credit_code' = $1 AND a.after->'labels' = '[\"高新技术企业\"]'",
                       1, pa) == 1);

    /* The same rows again: unchanged, nothing written. */
    IT_CHECK(import_ok(c, rows, 2, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "unchanged", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "unchanged", NULL, NULL) == 0);
    IT_CHECK(item_id(&m, 0) == ida && item_id(&m, 1) == idb);
    it_msg_free(&m);
    IT_CHECK(audits_of(a) == 1 && audits_of(b) == 1);
    IT_CHECK(it_pg_int("SELECT version FROM enterprise WHERE credit_code = $1", 1, pa) == 1);

    /* Absent cluster/labels/status keep theirs; a changed name updates. */
    row upd[] = {
        {.name = "高正新材料（二期）", .code = a, .township = "新店镇", .nlabels = -1},
        /* nil cluster on one without a cluster, [] labels on one without: unchanged */
        {.name = "龙兴非织造", .code = b, .township = "神山镇", .cluster = NIL_V, .nlabels = 0},
    };
    IT_CHECK(import_ok(c, upd, 2, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "updated", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "unchanged", NULL, NULL) == 0);
    IT_CHECK(item_id(&m, 0) == ida);
    it_msg_free(&m);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '高正新材料（二期）' AND cluster = '新材料' AND status = '筹建'"
                       " AND labels = '高新技术企业' AND version = 2",
                       1, pa) == 1);
    IT_CHECK(audits_of(a) == 2 && audits_of(b) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log a JOIN enterprise e ON e.id = a.entity_id"
                       " WHERE e.credit_code = $1 AND a.entity = 'enterprise'"
                       "   AND a.method = 'enterprise.import' AND a.before->>'version' = '1'"
                       "   AND a.after->>'version' = '2' AND a.changed @> '{name,version}'"
                       "   AND NOT a.changed && '{cluster,labels,status,township}'",
                       1, pa) == 1);
    /* nil cluster clears, [] labels clears, a status replaces */
    row clr[] = {{.name = "高正新材料（二期）", .code = a, .township = "新店镇",
                  .cluster = NIL_V, .status = "在营", .nlabels = 0}};
    IT_CHECK(import_ok(c, clr, 1, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "updated", NULL, NULL) == 0);
    it_msg_free(&m);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND cluster IS NULL AND labels = '' AND status = '在营' AND version = 3",
                       1, pa) == 1);
    it_close(c);
    return 0;
}

/* Row maps that the edge refuses: each is also sent to enterprise.create,
 * whose code, field and message the row must get. */
typedef void (*pack_fn)(it_buf *b, const char *code);

static void bad_name_empty(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_name_long(it_buf *b, const char *code)
{
    char name[400] = "";
    for (int i = 0; i < 101; i++)
        strcat(name, "茶");
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", name);
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_name_control(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "茶\x07厂");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_name_missing(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 2);
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_name_utf8(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 3);
    it_kv_strn(b, "name", "\xE8\x8C", 2);
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_code_check(it_buf *b, const char *code)
{
    char bad[19];
    memcpy(bad, code, 19);
    bad[17] = bad[17] == '0' ? '1' : '0';
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "校验位错");
    it_kv_str(b, "credit_code", bad);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_code_idcard(it_buf *b, const char *code)
{
    (void)code;
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "身份证号");
    it_kv_str(b, "credit_code", "42128119800101001X");
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_code_type(it_buf *b, const char *code)
{
    (void)code;
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "类型错");
    it_kv_int(b, "credit_code", 914403001);
    it_kv_str(b, "township", "赤壁镇");
}
static void bad_status_nil(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "状态空");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_nil(b, "status");
}
static void bad_labels_dup(it_buf *b, const char *code)
{
    const char *l[] = {"规上", "隐形冠军", "规上"};
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "标签重复");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_strs(b, "labels", l, 3);
}
static void bad_labels_many(it_buf *b, const char *code)
{
    const char *l[17];
    char t[17][8];
    for (int i = 0; i < 17; i++) {
        snprintf(t[i], sizeof t[i], "L%d", i);
        l[i] = t[i];
    }
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "标签太多");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_strs(b, "labels", l, 17);
}
static void bad_labels_nil(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "标签空");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_nil(b, "labels");
}
static void bad_unknown_key(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "多余键");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_str(b, "legal_person", "张三");
}
static void bad_key_twice(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "重复键");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_str(b, "name", "重复键2");
}
/* Refused by the database's lists, not the edge: code and field as create. */
static void bad_township(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 3);
    it_kv_str(b, "name", "未知乡镇");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "火星镇");
}
static void bad_cluster(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "未知集群");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_str(b, "cluster", "咖啡");
}
static void bad_status(it_buf *b, const char *code)
{
    msgpack_pack_map(&b->pk, 4);
    it_kv_str(b, "name", "未知状态");
    it_kv_str(b, "credit_code", code);
    it_kv_str(b, "township", "赤壁镇");
    it_kv_str(b, "status", "破产");
}

static int rejected_rows_answer_as_enterprise_create_would(void)
{
    static const struct {
        const char *what;
        pack_fn fn;
        bool same_message;
    } cases[] = {
        {"empty name", bad_name_empty, true},
        {"name over 100 characters", bad_name_long, true},
        {"control character in name", bad_name_control, true},
        {"name missing", bad_name_missing, true},
        {"name not UTF-8", bad_name_utf8, true},
        {"wrong check character", bad_code_check, true},
        {"an ID-card number", bad_code_idcard, true},
        {"credit_code not a str", bad_code_type, true},
        {"nil status", bad_status_nil, true},
        {"duplicate label", bad_labels_dup, true},
        {"17 labels", bad_labels_many, true},
        {"nil labels", bad_labels_nil, true},
        {"unknown key", bad_unknown_key, true},
        {"key given twice", bad_key_twice, true},
        {"unknown township", bad_township, false},
        {"unknown cluster", bad_cluster, false},
        {"unknown status", bad_status, false},
    };
    enum { NCASES = sizeof cases / sizeof cases[0] };
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char good[19];
    it_credit_code(61201, good);
    /* One call: a good row first, every bad row, a good row last (with a
     * code used nowhere else). */
    char good2[19];
    it_credit_code(61202, good2);
    row first = {.name = "好行一", .code = good, .township = "赤壁镇", .nlabels = -1};
    row last = {.name = "好行二", .code = good2, .township = "赤壁镇", .nlabels = -1};
    char codes[NCASES][19];
    for (size_t i = 0; i < NCASES; i++)
        it_credit_code(61210 + i, codes[i]);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, NCASES + 2);
    pack_row(&b, &first);
    for (size_t i = 0; i < NCASES; i++)
        cases[i].fn(&b, codes[i]);
    pack_row(&b, &last);
    it_str(&b, "commit");
    msgpack_pack_true(&b.pk);
    it_msg m;
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
    it_buf_free(&b);
    char d[800];
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, NCASES + 1, "created", NULL, NULL) == 0);
    IT_CHECK(count_code(good) == 1 && count_code(good2) == 1);

    int failures = 0;
    for (size_t i = 0; i < NCASES; i++) {
        /* enterprise.create with the same map */
        it_buf cb;
        it_buf_init(&cb);
        uint32_t cid = ++g_msgid;
        msgpack_pack_array(&cb.pk, 4);
        msgpack_pack_uint8(&cb.pk, 0);
        msgpack_pack_uint32(&cb.pk, cid);
        it_str(&cb, "enterprise.create");
        msgpack_pack_array(&cb.pk, 1);
        cases[i].fn(&cb, codes[i]);
        it_msg cm;
        IT_CHECK(it_call(c, cb.sb.data, cb.sb.size, cid, IT_REPLY_TIMEOUT_MS, &cm) ==
                 IT_RECV_MSG);
        it_buf_free(&cb);
        IT_CHECKF(cm.is_error, "%s: enterprise.create accepted it", cases[i].what);
        const msgpack_object *it = item(&m, i + 1);
        char outcome[32] = "", code[64] = "", field[128] = "", msg[512] = "";
        it_get_str(it, "outcome", outcome, sizeof outcome);
        it_get_str(it, "code", code, sizeof code);
        it_get_str(it, "field", field, sizeof field);
        it_get_str(it, "message", msg, sizeof msg);
        bool ok = strcmp(outcome, "rejected") == 0 && strcmp(code, cm.code) == 0 &&
                  strcmp(field, cm.field) == 0 &&
                  (!cases[i].same_message || strcmp(msg, cm.message) == 0);
        if (!ok) {
            it_note("%s: import row says %s %s [%s] \"%s\"; create says %s [%s] \"%s\"",
                    cases[i].what, outcome, code, field, msg, cm.code, cm.field, cm.message);
            failures++;
        }
        it_msg_free(&cm);
        IT_CHECK(count_code(codes[i]) == 0);
    }
    it_msg_free(&m);
    it_close(c);
    IT_CHECKF(failures == 0, "%d rows answered unlike enterprise.create", failures);
    return 0;
}

static int call_arguments_are_refused_whole(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char a[19];
    it_credit_code(61301, a);
    row r = {.name = "整体检查", .code = a, .township = "赤壁镇", .nlabels = -1};
    it_buf b;
    it_buf_init(&b);
    uint32_t id;
    /* rows missing */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 1);
    it_str(&b, "commit");
    msgpack_pack_true(&b.pk);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "rows", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    /* rows empty */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 1);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 0);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "rows", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    /* rows not an array */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 1);
    it_kv_str(&b, "rows", "x");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "rows", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    /* 501 rows: over BB_MAX_IMPORT_ROWS; and 500 is fine */
    for (int n = 501; n >= 500; n--) {
        id = ++g_msgid;
        it_req(&b, id, "enterprise.import", 1);
        it_str(&b, "rows");
        msgpack_pack_array(&b.pk, (uint32_t)n);
        for (int i = 0; i < n; i++)
            pack_row(&b, &r);
        IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
        if (n == 501) {
            IT_CHECK(it_expect_error(c, id, "invalid_argument", "rows", IT_REPLY_TIMEOUT_MS) == 0);
        } else {
            it_msg m;
            IT_CHECK(it_recv(c, IT_REPLY_TIMEOUT_MS, &m) == IT_RECV_MSG);
            IT_CHECK(!m.is_error && m.msgid == id);
            IT_CHECK(it_map_get(m.result, "items")->via.array.size == 500);
            IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
            /* dry run: the rows after the first meet it, equal */
            IT_CHECK(check_item(&m, 499, "unchanged", NULL, NULL) == 0);
            it_msg_free(&m);
        }
        it_buf_reset(&b);
    }
    /* commit nil, commit not a bool */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 1);
    pack_row(&b, &r);
    it_kv_nil(&b, "commit");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "commit", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 1);
    pack_row(&b, &r);
    it_kv_str(&b, "commit", "true");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "commit", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    /* unknown argument, nil key */
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 1);
    pack_row(&b, &r);
    it_kv_str(&b, "upsert", "yes");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "upsert", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_reset(&b);
    id = ++g_msgid;
    it_req(&b, id, "enterprise.import", 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 1);
    pack_row(&b, &r);
    it_kv_nil(&b, "idempotency_key");
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c, id, "invalid_argument", "idempotency_key", IT_REPLY_TIMEOUT_MS) ==
             0);
    it_buf_free(&b);
    IT_CHECK(count_code(a) == 0);
    it_close(c);
    return 0;
}

static int roles_and_scope_follow_create_and_update(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char own[19], other[19], newc[19], outside[19];
    it_credit_code(61401, own);
    it_credit_code(61402, other);
    it_credit_code(61403, newc);
    it_credit_code(61404, outside);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(sup != NULL);
    IT_CHECK(it_create_enterprise(sup, "本镇企业", own, "赵李桥镇") > 0);
    IT_CHECK(it_create_enterprise(sup, "外镇企业", other, "新店镇") > 0);
    it_close(sup);

    /* admin: forbidden before any argument is looked at */
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    row r0 = {.name = "管理员", .code = newc, .township = "赤壁镇", .nlabels = -1};
    it_msg m;
    IT_CHECK(import_call(adm, &r0, 1, true, NULL, &m) == 0);
    IT_CHECKF(m.is_error && strcmp(m.code, "forbidden") == 0 && m.field[0] == '\0', "admin: %s",
              m.code);
    it_msg_free(&m);
    it_close(adm);

    it_conn *st = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(st != NULL);
    row rows[] = {
        /* own township, new: created */
        {.name = "园区新企业", .code = newc, .township = "高新技术产业园区", .nlabels = -1},
        /* new, in a township outside: forbidden township (as create) */
        {.name = "越界新企业", .code = outside, .township = "新店镇", .nlabels = -1},
        /* an existing enterprise outside the scope, named by its code: not
         * seen, so a create, whose insert meets the code (as create) */
        {.name = "外镇企业", .code = other, .township = "赵李桥镇", .nlabels = -1},
        /* the same, placed outside: forbidden township (as create) */
        {.name = "外镇企业", .code = other, .township = "新店镇", .nlabels = -1},
        /* own enterprise moved outside: forbidden township (as update) */
        {.name = "本镇企业", .code = own, .township = "新店镇", .nlabels = -1},
        /* own enterprise changed in scope: updated */
        {.name = "本镇企业（新名）", .code = own, .township = "高新技术产业园区", .nlabels = -1},
    };
    enum { N = sizeof rows / sizeof rows[0] };
    for (int commit = 0; commit <= 1; commit++) {
        IT_CHECK(import_ok(st, rows, N, commit == 1, NULL, &m) == 0);
        IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
        IT_CHECK(check_item(&m, 1, "rejected", "forbidden", "township") == 0);
        IT_CHECK(check_item(&m, 2, "rejected", "already_exists", "credit_code") == 0);
        IT_CHECK(check_item(&m, 3, "rejected", "forbidden", "township") == 0);
        IT_CHECK(check_item(&m, 4, "rejected", "forbidden", "township") == 0);
        IT_CHECK(check_item(&m, 5, "updated", NULL, NULL) == 0);
        it_msg_free(&m);
    }
    /* what enterprise.create says to the same user for row 2 */
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "enterprise.create", 3);
    it_kv_str(&b, "name", "外镇企业");
    it_kv_str(&b, "credit_code", other);
    it_kv_str(&b, "township", "赵李桥镇");
    IT_CHECK(it_send(st, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(st, id, "already_exists", "credit_code", IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    it_close(st);
    IT_CHECK(count_code(newc) == 1 && count_code(outside) == 0);
    const char *po[1] = {other};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '外镇企业' AND township = '新店镇' AND version = 1",
                       1, po) == 1);
    const char *pw[1] = {own};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '本镇企业（新名）' AND township = '高新技术产业园区'",
                       1, pw) == 1);
    return 0;
}

static int retry_with_the_same_key_returns_the_same_items(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char a[19], b2[19];
    it_credit_code(61501, a);
    it_credit_code(61502, b2);
    row rows[] = {
        {.name = "幂等一", .code = a, .township = "车埠镇", .nlabels = -1},
        {.name = "幂等二", .code = b2, .township = "火星镇", .nlabels = -1},
        {.name = "", .code = b2, .township = "车埠镇", .nlabels = -1},
    };
    it_msg m1, m2;
    IT_CHECK(import_ok(c, rows, 3, true, "imp-key-1", &m1) == 0);
    IT_CHECK(check_item(&m1, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m1, 1, "rejected", "invalid_argument", "township") == 0);
    IT_CHECK(check_item(&m1, 2, "rejected", "invalid_argument", "name") == 0);
    long long audits = import_audits();
    /* a second connection, the same key and rows: the first items again */
    it_conn *c2 = it_connect(s->port);
    IT_CHECK(c2 != NULL);
    IT_CHECK(import_ok(c2, rows, 3, true, "imp-key-1", &m2) == 0);
    const msgpack_object *i1 = it_map_get(m1.result, "items"), *i2 = it_map_get(m2.result, "items");
    IT_CHECK(i1->via.array.size == i2->via.array.size);
    for (uint32_t i = 0; i < i1->via.array.size; i++) {
        const msgpack_object *x = &i1->via.array.ptr[i], *y = &i2->via.array.ptr[i];
        const char *keys[] = {"outcome", "code", "field", "message"};
        for (int k = 0; k < 4; k++) {
            char u[512] = "", v[512] = "";
            it_get_str(x, keys[k], u, sizeof u);
            it_get_str(y, keys[k], v, sizeof v);
            IT_CHECKF(strcmp(u, v) == 0, "item %u %s: %s then %s", i, keys[k], u, v);
        }
        int64_t ia = -1, ib = -1;
        it_get_int(x, "id", &ia);
        it_get_int(y, "id", &ib);
        IT_CHECK(ia == ib);
    }
    it_msg_free(&m2);
    it_msg_free(&m1);
    IT_CHECK(import_audits() == audits);
    IT_CHECK(count_code(a) == 1);
    /* the same key with other rows: refused whole */
    rows[0].name = "幂等一（改）";
    IT_CHECK(import_call(c2, rows, 3, true, "imp-key-1", &m1) == 0);
    IT_CHECK(m1.is_error && strcmp(m1.code, "idempotency_key_reused") == 0 &&
             strcmp(m1.field, "idempotency_key") == 0);
    it_msg_free(&m1);
    rows[0].name = "幂等一";
    /* the same key and rows by another user: refused whole */
    it_conn *st = it_connect_as(s->port, IT_USER_STAFF2, IT_PASSWORD);
    IT_CHECK(st != NULL);
    IT_CHECK(import_call(st, rows, 3, true, "imp-key-1", &m1) == 0);
    IT_CHECK(m1.is_error && strcmp(m1.code, "idempotency_key_reused") == 0);
    it_msg_free(&m1);
    it_close(st);
    it_close(c2);
    it_close(c);
    return 0;
}

/* ---- the CLI ---- */

static int write_file(const char *name, const char *text, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    IT_CHECK(fwrite(text, 1, strlen(text), f) == strlen(text));
    IT_CHECK(fclose(f) == 0);
    return 0;
}

static void show(const it_cli *r)
{
    printf("  ---- exit %d\n  stdout:\n%s\n  stderr:\n%s\n  ----\n", r->status, r->out, r->err);
}

static int run_cli(it_cli *r, const char *const *args, const char *const *env, int want)
{
    IT_CHECK(it_cli_run_env(r, server_addr(), CLI_MS, args, env) == 0);
    if (r->status != want) {
        show(r);
        IT_CHECKF(r->status == want, "exit %d, expected %d", r->status, want);
    }
    return 0;
}

#define HDR "\xEF\xBB\xBF编号,企业名称,统一社会信用代码,乡镇园区,产业集群,标签,经营状态,版本,创建时间,更新时间\r\n"

static int cli_dry_run_reports_each_rejected_line(void)
{
    char c1[19], c2[19], c3[19], c4[19], bad[19];
    it_credit_code(62001, c1);
    it_credit_code(62002, c2);
    it_credit_code(62003, c3);
    it_credit_code(62004, c4);
    it_credit_code(62005, bad);
    bad[17] = bad[17] == '0' ? '1' : '0';
    char text[4096];
    /* line 2: ok, labels on two lines (record spans lines 2-3)
     * line 4: bad credit code; line 5: unknown township; line 6: ok with a
     * comma and quotes in the name; line 7-8: ok, multi-line labels; line 9:
     * too few fields; line 10: unknown cluster */
    snprintf(text, sizeof text,
             HDR
             "1,住方科技,%s,赤壁镇,电子信息,\"规上\r\n高新技术企业\",在营,3,2025-01-01T00:00:00.000000Z,x\r\n"
             "2,校验位错误,%s,赤壁镇,,,在营,1,,\r\n"
             "3,乡镇不对,%s,火星镇,,,,1,,\r\n"
             "4,\"凯利隆, \"\"纺织\"\"\",%s,神山镇,纺织服装,,停产,1,,\r\n"
             "5,'=SUM(A1),%s,新店镇,,\"隐形冠军\n专精特新\"\"小巨人\"\"\",,1,,\r\n"
             "6,少字段,%s\r\n"
             "7,集群不对,%s,赤壁镇,咖啡,,,1,,\r\n",
             c1, bad, c2, c3, c4, c4, c4);
    char path[256];
    IT_CHECK(write_file("dry.csv", text, path, sizeof path) == 0);
    const char *args[] = {"import", "enterprises", path, NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    const char *want[] = {
        "line 4: credit_code: ",
        "line 5: township: ",
        "line 9: the row has 3 fields, the header 10",
        "line 10: cluster: ",
        "dry run: 7 rows: 3 created, 0 updated, 0 unchanged, 4 rejected (nothing stored",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        IT_CHECKF(strstr(r.out, want[i]) != NULL, "no \"%s\" in:\n%s", want[i], r.out);
    IT_CHECKF(strstr(r.out, "line 2") == NULL && strstr(r.out, "line 6") == NULL &&
                  strstr(r.out, "line 7") == NULL,
              "a good row reported:\n%s", r.out);
    it_cli_free(&r);
    IT_CHECK(count_code(c1) == 0 && count_code(c3) == 0 && count_code(c4) == 0);

    /* --json: one item per row with its line */
    const char *jargs[] = {"--json", "import", "enterprises", path, NULL};
    IT_CHECK(run_cli(&r, jargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.out, "\"line\": 4, \"outcome\": \"rejected\"") != NULL &&
                  strstr(r.out, "\"line\": 7, \"outcome\": \"created\"") != NULL &&
                  strstr(r.out, "\"rejected\": 4") != NULL && strstr(r.out, "\"commit\": false"),
              "json:\n%s", r.out);
    it_cli_free(&r);
    /* JSON that a JSON parser accepts */
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "BAOBAO_SERVER='%s' BAOBAO_USER='%s' BAOBAO_PASSWORD='%s' "
             "'%s' --json import enterprises '%s' | /usr/bin/python3 -c 'import json,sys; "
             "d=json.load(sys.stdin); assert len(d[\"items\"])==7, d; "
             "assert d[\"summary\"][\"rejected\"]==4; print(\"ok\")'",
             server_addr(), IT_USER_SUPER, IT_PASSWORD, getenv("BAOBAO_CLI"), path);
    const char *sh[] = {"sh", "-c", cmd, NULL};
    IT_CHECK(it_run(&r, sh, CLI_MS) == 0);
    IT_CHECKF(r.status == 0 && strstr(r.out, "ok") != NULL, "python: %s %s", r.out, r.err);
    it_cli_free(&r);
    return 0;
}

static int cli_commit_stores_and_rerun_stores_nothing_twice(void)
{
    char c1[19], c2[19];
    it_credit_code(62101, c1);
    it_credit_code(62102, c2);
    char text[2048];
    snprintf(text, sizeof text,
             "name,credit_code,township,cluster,labels,status\n"
             "\"'=HYPERLINK(\"\"x\"\")\",%s,赤壁镇,,\"规上\n高新技术企业\",筹建\n"
             "\"''@两个撇号\",%s,陆水湖街道,大健康,,\n",
             c1, c2);
    char path[256];
    IT_CHECK(write_file("commit.csv", text, path, sizeof path) == 0);
    const char *args[] = {"import", "enterprises", path, "--commit", NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 0) == 0);
    IT_CHECKF(strstr(r.out, "committed: 2 rows: 2 created, 0 updated, 0 unchanged, 0 rejected"),
              "%s", r.out);
    it_cli_free(&r);
    const char *p1[1] = {c1}, *p2[1] = {c2};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '=HYPERLINK(\"x\")' AND cluster IS NULL AND status = '筹建'"
                       " AND labels = E'规上\\n高新技术企业'",
                       1, p1) == 1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '''@两个撇号' AND status = '在营' AND cluster = '大健康'",
                       1, p2) == 1);
    long long audits = import_audits();
    /* Run again: the same keys, so the first answers and nothing stored. */
    IT_CHECK(run_cli(&r, args, NULL, 0) == 0);
    IT_CHECKF(strstr(r.out, "committed: 2 rows: 2 created"), "%s", r.out);
    it_cli_free(&r);
    IT_CHECK(import_audits() == audits);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'enterprise.import'"
                       " AND key LIKE 'import-enterprises-%'",
                       0, NULL) >= 1);
    /* A dry run sends no key: it sees the stored rows as unchanged. */
    const char *dargs[] = {"import", "enterprises", path, NULL};
    IT_CHECK(run_cli(&r, dargs, NULL, 0) == 0);
    IT_CHECKF(strstr(r.out, "dry run: 2 rows: 0 created, 0 updated, 2 unchanged, 0 rejected"),
              "%s", r.out);
    it_cli_free(&r);
    /* Once the server no longer keeps the keys (its window passed: the
     * housekeeping pass deleted them), a re-run executes again and
     * answers unchanged, still storing nothing (docs/operations.md). */
    IT_CHECK(it_pg_exec("DELETE FROM idempotency WHERE method = 'enterprise.import'"
                        " AND key LIKE 'import-enterprises-%'",
                        0, NULL) == 0);
    IT_CHECK(run_cli(&r, args, NULL, 0) == 0);
    IT_CHECKF(strstr(r.out, "committed: 2 rows: 0 created, 0 updated, 2 unchanged, 0 rejected"),
              "%s", r.out);
    it_cli_free(&r);
    IT_CHECK(import_audits() == audits);
    /* Another user importing the same file gets keys of their own. */
    char c3[19];
    it_credit_code(62103, c3);
    snprintf(text, sizeof text, "name,credit_code,township\n新店一,%s,新店镇\n", c3);
    IT_CHECK(write_file("staff2.csv", text, path, sizeof path) == 0);
    const char *sargs[] = {"import", "enterprises", path, "--commit", NULL};
    IT_CHECK(run_cli(&r, sargs, NULL, 0) == 0);
    it_cli_free(&r);
    char c4[19];
    it_credit_code(62104, c4);
    const char *env2[] = {"BAOBAO_USER=" IT_USER_STAFF2, NULL};
    IT_CHECK(run_cli(&r, sargs, env2, 0) == 0);
    IT_CHECKF(strstr(r.out, "1 unchanged"), "%s", r.out);
    it_cli_free(&r);
    /* township staff: a row outside their townships is reported, exit 1 */
    snprintf(text, sizeof text, "name,credit_code,township\n越界,%s,赤壁镇\n", c4);
    IT_CHECK(write_file("staff2b.csv", text, path, sizeof path) == 0);
    IT_CHECK(run_cli(&r, sargs, env2, 1) == 0);
    IT_CHECKF(strstr(r.out, "line 2: township: "), "%s", r.out);
    it_cli_free(&r);
    IT_CHECK(count_code(c4) == 0);
    /* Cells with spaces at their ends (a hand-edited file; U+3000 typed
     * with a Chinese input method), which the server refuses: the
     * command trims every cell, and every label of a cell, before it
     * sends, so the row is stored trimmed. */
    char c5[19];
    it_credit_code(62105, c5);
    snprintf(text, sizeof text,
             "name,credit_code,township,cluster,labels,status\n"
             " 留白企业\xe3\x80\x80, %s ,赤壁镇 ,\xe3\x80\x80大健康,"
             "\" 规上\n高新技术企业 \", 筹建\n",
             c5);
    IT_CHECK(write_file("padded.csv", text, path, sizeof path) == 0);
    const char *pargs[] = {"import", "enterprises", path, "--commit", NULL};
    IT_CHECK(run_cli(&r, pargs, NULL, 0) == 0);
    IT_CHECKF(strstr(r.out, "1 created") != NULL && strstr(r.out, "0 rejected") != NULL, "%s",
              r.out);
    it_cli_free(&r);
    const char *p5[1] = {c5};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1"
                       " AND name = '留白企业' AND township = '赤壁镇' AND cluster = '大健康'"
                       " AND status = '筹建' AND labels = E'规上\\n高新技术企业'",
                       1, p5) == 1);
    return 0;
}

/* A CSV cell as the export writes it: quoted when needed, formula-defused
 * (^'*[=+-@] gets one more apostrophe). */
static void csv_cell(FILE *f, const char *v, bool defuse)
{
    size_t q = 0;
    while (v[q] == '\'')
        q++;
    bool formula = defuse && v[q] != '\0' && strchr("=+-@", v[q]) != NULL;
    bool quote = strpbrk(v, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    if (quote)
        fputc('"', f);
}

static int cli_handwritten_export_imports_back_unchanged(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    /* Enterprises with the awkward texts an export must carry. */
    static const struct {
        const char *name, *township, *cluster, *status;
        int nlabels;
        const char *labels[3];
    } ents[] = {
        {"诚森桦泰智能电子数码, 有限公司", "高新技术产业园区", "电子信息", "在营", 2,
         {"专精特新\"小巨人\"", "规上"}},
        {"=cmd|' /C calc'!A0", "赤壁镇", NULL, "停产", 0, {NULL}},
        {"+86 荟海药业", "美丽健康产业园", "大健康", "半停产", 1, {"-负面标签"}},
        {"@思贝林药业 \"引号\"", "黄盖湖镇", NULL, "注销", 1, {"'@撇号标签"}},
        {"'-已有撇号", "余家桥乡", "青砖茶", "筹建", 3, {"小微入规培育库", "高新技术企业", "隐形冠军"}},
    };
    enum { N = sizeof ents / sizeof ents[0] };
    row rows[N];
    char codes[N][19];
    for (int i = 0; i < N; i++) {
        it_credit_code(62201 + (unsigned long)i, codes[i]);
        rows[i] = (row){.name = ents[i].name, .code = codes[i], .township = ents[i].township,
                        .cluster = ents[i].cluster ? ents[i].cluster : NIL_V,
                        .status = ents[i].status, .nlabels = ents[i].nlabels};
        for (int k = 0; k < ents[i].nlabels; k++)
            rows[i].labels[k] = ents[i].labels[k];
    }
    it_msg m;
    IT_CHECK(import_ok(c, rows, N, true, NULL, &m) == 0);
    for (int i = 0; i < N; i++)
        IT_CHECK(check_item(&m, (size_t)i, "created", NULL, NULL) == 0);
    it_msg_free(&m);
    it_close(c);

    /* The file, exactly as enterprises.csv: BOM, the header, CRLF, one row
     * per enterprise read back from the database. */
    char path[256];
    snprintf(path, sizeof path, "%s/enterprises.csv", g_dir);
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs(HDR, f);
    for (int i = 0; i < N; i++) {
        PGresult *res = PQexecParams(it_pg(),
                                     "SELECT id, name, credit_code, township, coalesce(cluster, ''),"
                                     " labels, status, version, created_at, updated_at"
                                     " FROM enterprise_wire WHERE credit_code = $1",
                                     1, NULL, (const char *[]){codes[i]}, NULL, NULL, 0);
        IT_CHECK(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
        for (int k = 0; k < 10; k++) {
            if (k > 0)
                fputc(',', f);
            csv_cell(f, PQgetvalue(res, 0, k), k == 1 || k == 5);
        }
        fputs("\r\n", f);
        PQclear(res);
    }
    IT_CHECK(fclose(f) == 0);
    const char *args[] = {"--json", "import", "enterprises", path, NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 0) == 0);
    char want[64];
    snprintf(want, sizeof want, "\"unchanged\": %d", N);
    IT_CHECKF(strstr(r.out, want) != NULL && strstr(r.out, "\"created\": 0") &&
                  strstr(r.out, "\"updated\": 0"),
              "not all unchanged:\n%s", r.out);
    it_cli_free(&r);
    return 0;
}

static int cli_many_calls_keep_line_numbers(void)
{
    /* 1203 rows: calls of 500, 500 and 203; bad rows in the last
     * call are reported by their own line. A quoted two-line cell early
     * on shifts every later line by one. */
    enum { NROWS = 1203 };
    char path[256];
    snprintf(path, sizeof path, "%s/many.csv", g_dir);
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs("企业名称,统一社会信用代码,乡镇园区,标签\n", f);
    int line = 2;
    int bad_lines[2] = {0, 0};
    for (int i = 0; i < NROWS; i++) {
        char code[19];
        it_credit_code(63000 + (unsigned long)i, code);
        if (i == 1150 || i == 1202) {
            bad_lines[i == 1150 ? 0 : 1] = line;
            fprintf(f, "批量%d,%s,不存在镇,\n", i, code);
            line++;
        } else if (i == 3) {
            fprintf(f, "批量%d,%s,柳山湖镇,\"规上\n隐形冠军\"\n", i, code);
            line += 2;
        } else {
            fprintf(f, "批量%d,%s,柳山湖镇,\n", i, code);
            line++;
        }
    }
    IT_CHECK(fclose(f) == 0);
    const char *args[] = {"import", "enterprises", path, "--commit", NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    char want[64];
    for (int k = 0; k < 2; k++) {
        snprintf(want, sizeof want, "line %d: township: ", bad_lines[k]);
        IT_CHECKF(strstr(r.out, want) != NULL, "no \"%s\" in:\n%s", want, r.out);
    }
    IT_CHECKF(strstr(r.out, "committed: 1203 rows: 1201 created, 0 updated, 0 unchanged, 2 "
                            "rejected"),
              "%s", r.out);
    IT_CHECKF(strstr(r.err, "importing") == NULL, "a progress bar without a terminal:\n%s",
              r.err);
    it_cli_free(&r);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE name LIKE '批量%'", 0, NULL) ==
             1201);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'enterprise.import'"
                       " AND key LIKE 'import-enterprises-%-3'",
                       0, NULL) >= 1);
    return 0;
}

static int cli_shows_a_progress_bar_on_a_terminal(void)
{
    /* 1200 rows (three calls), run with stderr (and stdout) on a pty. */
    char path[256];
    snprintf(path, sizeof path, "%s/progress.csv", g_dir);
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs("企业名称,统一社会信用代码,乡镇园区\n", f);
    for (int i = 0; i < 1200; i++) {
        char code[19];
        it_credit_code(70000 + (unsigned long)i, code);
        fprintf(f, "进度%d,%s,中伙铺镇\n", i, code);
    }
    IT_CHECK(fclose(f) == 0);
    const char *cli_bin = getenv("BAOBAO_CLI");
    IT_CHECK(cli_bin != NULL);
    const char *srv = server_addr();
    fflush(stdout);
    int master;
    pid_t pid = forkpty(&master, NULL, NULL, NULL);
    IT_CHECK(pid >= 0);
    if (pid == 0) {
        setenv("BAOBAO_SERVER", srv, 1);
        setenv("BAOBAO_USER", IT_USER_SUPER, 1);
        setenv("BAOBAO_PASSWORD", IT_PASSWORD, 1);
        execl(cli_bin, cli_bin, "import", "enterprises", path, (char *)NULL);
        _exit(127);
    }
    static char out[65536];
    size_t len = 0;
    int64_t deadline = it_now_ms() + CLI_MS;
    for (;;) {
        int64_t left = deadline - it_now_ms();
        if (left <= 0)
            break;
        struct pollfd p = {master, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t k = read(master, out + len, sizeof out - 1 - len);
        if (k <= 0)
            break;   /* EIO: the child closed the terminal */
        len += (size_t)k;
    }
    out[len] = '\0';
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    close(master);
    IT_CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit %d:\n%s", st, out);
    IT_CHECKF(strstr(out, "\rimporting [") != NULL && strstr(out, "] 100%") != NULL &&
                  strstr(out, "\r\033[K") != NULL,
              "no progress bar:\n%s", out);
    IT_CHECKF(strstr(out, "dry run: 1200 rows: 1200 created") != NULL, "%s", out);
    return 0;
}

static int cli_refuses_a_broken_file_and_a_missing_column(void)
{
    char c1[19];
    it_credit_code(62301, c1);
    char text[512], path[256];
    snprintf(text, sizeof text, "企业名称,乡镇园区\n甲,赤壁镇\n");
    IT_CHECK(write_file("nocode.csv", text, path, sizeof path) == 0);
    const char *args[] = {"import", "enterprises", path, NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    IT_CHECKF(strstr(r.err, "统一社会信用代码") != NULL, "%s", r.err);
    it_cli_free(&r);
    snprintf(text, sizeof text, "企业名称,统一社会信用代码,乡镇园区\n甲,%s,赤壁镇\n\"乙,%s,赤壁镇\n",
             c1, c1);
    IT_CHECK(write_file("broken.csv", text, path, sizeof path) == 0);
    const char *cargs[] = {"import", "enterprises", path, "--commit", NULL};
    IT_CHECK(run_cli(&r, cargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.err, "line 3: quoted field not closed") != NULL, "%s", r.err);
    it_cli_free(&r);
    IT_CHECK(count_code(c1) == 0);   /* the rows before the broken record were not sent */
    const char *nargs[] = {"import", "enterprises", "/nonexistent/x.csv", NULL};
    IT_CHECK(run_cli(&r, nargs, NULL, 2) == 0);
    it_cli_free(&r);
    return 0;
}

/* A row too large for any call is rejected by the CLI with its line and
 * the column at fault; the rows around it are stored; a call is sent
 * before a row that would take it past its byte budget, so no call is
 * refused whole (max_message_bytes, 1 MiB); and the report is in line
 * order although some rows were rejected by the CLI, others by the server. */
static int cli_rejects_a_row_too_large_for_a_call(void)
{
    enum { NBEFORE = 400, NEAR = 480000, BIG = 700000, HALF = 300000 };
    char path[256];
    snprintf(path, sizeof path, "%s/big.csv", g_dir);
    FILE *f = fopen(path, "wb");
    IT_CHECK(f != NULL);
    fputs("企业名称,统一社会信用代码,乡镇园区\n", f);
    char code[19];
    /* line 2: refused by the server; line 3: by the CLI (field count) */
    it_credit_code(66000, code);
    fprintf(f, "大行0,%s,不存在镇\n", code);
    fputs("大行缺字段\n", f);
    for (int i = 1; i < NBEFORE; i++) {
        it_credit_code(66000 + (unsigned long)i, code);
        fprintf(f, "大行%d,%s,柳山湖镇\n", i, code);
    }
    int line = NBEFORE + 3;   /* lines 4..402 hold rows 1..399 */
    /* a 480 KB row (refused by the server for its name) fills the call
     * nearly to its budget: with the 700 KB row added after it, the call
     * would pass 1 MiB and be refused whole */
    int near_line = line++;
    it_credit_code(66404, code);
    for (int k = 0; k < NEAR; k++)
        fputc('z', f);
    fprintf(f, ",%s,柳山湖镇\n", code);
    int big_line = line++;
    it_credit_code(66400, code);
    fputc('"', f);
    for (int k = 0; k < BIG; k++)
        fputc(k % 1000 == 999 ? '\n' : 'x', f);   /* a multi-line cell */
    fprintf(f, "\",%s,柳山湖镇\n", code);
    line += BIG / 1000;
    /* two rows of 300 KB each: together past the call's budget, alone not:
     * sent in calls of their own, refused by the server for the name */
    int half_lines[2];
    for (int h = 0; h < 2; h++) {
        half_lines[h] = line++;
        it_credit_code(66401 + (unsigned long)h, code);
        for (int k = 0; k < HALF; k++)
            fputc('y', f);
        fprintf(f, ",%s,柳山湖镇\n", code);
    }
    it_credit_code(66403, code);
    fprintf(f, "大行之后,%s,柳山湖镇\n", code);
    IT_CHECK(fclose(f) == 0);

    const char *args[] = {"import", "enterprises", path, "--commit", NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    char want[6][96];
    snprintf(want[0], sizeof want[0], "line 2: township: ");
    snprintf(want[1], sizeof want[1], "line 3: the row has 1 fields, the header 3");
    snprintf(want[2], sizeof want[2], "line %d: name: at most", near_line);
    snprintf(want[3], sizeof want[3], "line %d: name: too long (%d bytes", big_line,
             BIG);
    snprintf(want[4], sizeof want[4], "line %d: name: at most", half_lines[0]);
    snprintf(want[5], sizeof want[5], "line %d: name: at most", half_lines[1]);
    const char *at = r.out;
    for (int k = 0; k < 6; k++) {
        const char *p = strstr(at, want[k]);
        if (p == NULL) {
            show(&r);
            IT_CHECKF(false, "no \"%s\" after the previous report line", want[k]);
        }
        at = p + 1;
    }
    IT_CHECKF(strstr(r.out, "committed: 406 rows: 400 created, 0 updated, 0 unchanged, 6 "
                            "rejected"),
              "%s", r.out);
    IT_CHECKF(strstr(r.err, "max_message_bytes") == NULL && strstr(r.err, "too_large") == NULL,
              "%s", r.err);
    it_cli_free(&r);
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE name LIKE '大行%'", 0, NULL) ==
             400);
    const char *pa[1] = {code};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise_wire WHERE credit_code = $1", 1, pa) ==
             1);
    return 0;
}

/* ---- the true round trip, through export.run ---- */

/* Finds enterprises.csv of the newest run folder under dir. */
static int find_export(const char *dir, char *out, size_t outlen)
{
    DIR *d = opendir(dir);
    IT_CHECK(d != NULL);
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char man[600];
        snprintf(man, sizeof man, "%s/%s/manifest.json", dir, e->d_name);
        if (access(man, R_OK) == 0 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    IT_CHECK(best[0] != '\0');
    snprintf(out, outlen, "%s/%s/enterprises.csv", dir, best);
    return 0;
}

static int export_then_import_dry_run_is_all_unchanged(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/exports", g_dir);
    IT_CHECK(mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0);
    char set_dir[200];
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    const char *sets[] = {set_dir, "export_time=", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    /* awkward texts, so the round trip means something */
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(62401, code);
    row r0 = {.name = "=往返, \"测试\"", .code = code, .township = "官塘驿镇",
              .cluster = "节能环保", .nlabels = 2, .labels = {"-标签一", "标签,二"}};
    it_msg m;
    IT_CHECK(import_ok(c, &r0, 1, true, NULL, &m) == 0);
    it_msg_free(&m);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    int rr = it_call(c, b.sb.data, b.sb.size, id, 120000, &m);
    it_buf_free(&b);
    IT_CHECK(rr == IT_RECV_MSG);
    char d[800];
    if (m.is_error && strcmp(m.code, "unknown_method") == 0) {
        it_note("export.run is not there yet: round trip through the export skipped");
        it_msg_free(&m);
        it_close(c);
        return 0;
    }
    IT_CHECKF(!m.is_error, "export.run: %s", it_describe(&m, d, sizeof d));
    char status[32] = "";
    it_get_str(m.result, "status", status, sizeof status);
    IT_CHECKF(strcmp(status, "ok") == 0, "export.run: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_close(c);
    char path[512];
    IT_CHECK(find_export(dir, path, sizeof path) == 0);
    long long n = it_pg_int("SELECT count(*) FROM enterprise", 0, NULL);
    IT_CHECK(n > 0);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    const char *args[] = {"--json", "import", "enterprises", path, NULL};
    it_cli r;
    IT_CHECK(it_cli_run(&r, g_server, CLI_MS, args) == 0);
    char want[200];
    snprintf(want, sizeof want, "\"summary\": {\"rows\": %lld, \"created\": 0, \"updated\": 0, "
             "\"unchanged\": %lld, \"rejected\": 0}", n, n);
    if (r.status != 0 || strstr(r.out, want) == NULL) {
        show(&r);
        IT_CHECKF(false, "expected %s", want);
    }
    it_cli_free(&r);
    return 0;
}

/* ---- status.import ---- */

/* One status row; NULL = key absent, NIL_V = nil. Numbers as text: packed
 * as ints; a leading "s:" packs the rest as a str (a wrong type). */
typedef struct srow {
    const char *eid, *code, *date, *reporter, *pstatus, *ov, *em, *ls, *note;
} srow;

static void pack_num(it_buf *b, const char *key, const char *v)
{
    if (v == NULL)
        return;
    if (strcmp(v, NIL_V) == 0)
        it_kv_nil(b, key);
    else if (strncmp(v, "s:", 2) == 0)
        it_kv_str(b, key, v + 2);
    else
        it_kv_int(b, key, strtoll(v, NULL, 10));
}

static void pack_srow(it_buf *b, const srow *r)
{
    const char *v[9] = {r->eid, r->code, r->date, r->reporter, r->pstatus,
                        r->ov,  r->em,   r->ls,   r->note};
    uint32_t n = 0;
    for (int i = 0; i < 9; i++)
        n += v[i] != NULL;
    msgpack_pack_map(&b->pk, n);
    pack_num(b, "enterprise_id", r->eid);
    pack_opt(b, "credit_code", r->code);
    pack_opt(b, "report_date", r->date);
    pack_opt(b, "reporter", r->reporter);
    pack_opt(b, "production_status", r->pstatus);
    pack_num(b, "output_value", r->ov);
    pack_num(b, "employees", r->em);
    pack_num(b, "labour_shortage", r->ls);
    pack_opt(b, "note", r->note);
}

/* status.import of rows, expecting {items} with one item per row. */
static int simport_ok(it_conn *c, const srow *rows, size_t n, bool commit, const char *key,
                      it_msg *out)
{
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "status.import", key != NULL ? 3 : 2);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        pack_srow(&b, &rows[i]);
    it_str(&b, "commit");
    if (commit)
        msgpack_pack_true(&b.pk);
    else
        msgpack_pack_false(&b.pk);
    if (key != NULL)
        it_kv_str(&b, "idempotency_key", key);
    int r = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    IT_CHECK(r == IT_RECV_MSG);
    char d[800];
    if (out->is_error) {
        it_fail(__FILE__, __LINE__, "status.import: %s", it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    const msgpack_object *items = it_map_get(out->result, "items");
    if (items == NULL || items->type != MSGPACK_OBJECT_ARRAY || items->via.array.size != n) {
        it_fail(__FILE__, __LINE__, "result is not {items} with %zu items: %s", n,
                it_describe(out, d, sizeof d));
        it_msg_free(out);
        return -1;
    }
    return 0;
}

static long long reports_of(int64_t eid)
{
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)eid);
    const char *p[1] = {t};
    return it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1", 1, p);
}

static long long status_import_audits(void)
{
    return it_pg_int("SELECT count(*) FROM audit_log WHERE method = 'status.import'", 0, NULL);
}

static int status_import_created_unchanged_rejected(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19], unknown[19], badcc[19];
    it_credit_code(68001, code);
    it_credit_code(68002, unknown);
    it_credit_code(68003, badcc);
    badcc[17] = badcc[17] == '0' ? '1' : '0';
    int64_t eid = it_create_enterprise(c, "状态导入企业", code, "赤壁镇");
    IT_CHECK(eid > 0);
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)eid);
    srow rows[] = {
        /* 0 */ {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常",
                 .ov = "1000", .em = "10"},
        /* 1 */ {.code = code, .date = "2025-03-02", .reporter = "=李四", .pstatus = "停产",
                 .note = "停电,\n\"检修\"", .ls = "3", .ov = NIL_V},
        /* 2 */ {.eid = e, .date = "2999-01-01", .reporter = "张三", .pstatus = "正常"},
        /* 3 */ {.eid = "999999999", .date = "2025-03-01", .reporter = "张三", .pstatus = "正常"},
        /* 4 */ {.eid = e, .code = code, .date = "2025-03-01", .reporter = "张三",
                 .pstatus = "正常"},
        /* 5 */ {.date = "2025-03-01", .reporter = "张三", .pstatus = "正常"},
        /* 6 */ {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "好"},
        /* 7 */ {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常",
                 .em = "-1"},
        /* 8 */ {.eid = e, .date = "1999-12-31", .reporter = "张三", .pstatus = "正常"},
        /* 9 */ {.code = unknown, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常"},
        /* 10 */ {.code = badcc, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常"},
        /* 11 */ {.eid = e, .date = "2025-02-30", .reporter = "张三", .pstatus = "正常"},
        /* 12 */ {.eid = e, .date = "2025-03-01", .reporter = "", .pstatus = "正常"},
        /* 13 */ {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常",
                  .ov = "s:1000"},
        /* 14: row 0 again in the same call: unchanged */
        {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常", .ov = "1000",
         .em = "10"},
        /* 15: row 0's enterprise, date, reporter with another value */
        {.eid = e, .date = "2025-03-01", .reporter = "张三", .pstatus = "正常", .ov = "2000",
         .em = "10"},
        /* 16: row 1 with another note only */
        {.code = code, .date = "2025-03-02", .reporter = "=李四", .pstatus = "停产",
         .note = "停电", .ls = "3", .ov = NIL_V},
        /* 17: row 1 with no note */
        {.code = code, .date = "2025-03-02", .reporter = "=李四", .pstatus = "停产", .ls = "3"},
        /* 18: row 1 again, by id, output_value absent (= nil): unchanged */
        {.eid = e, .date = "2025-03-02", .reporter = "=李四", .pstatus = "停产",
         .note = "停电,\n\"检修\"", .ls = "3"},
    };
    enum { N = sizeof rows / sizeof rows[0] };
    long long audits = status_import_audits();
    it_msg m;
    IT_CHECK(simport_ok(c, rows, N, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 2, "rejected", "invalid_argument", "report_date") == 0);
    IT_CHECK(check_item(&m, 3, "rejected", "not_found", "enterprise_id") == 0);
    IT_CHECK(check_item(&m, 4, "rejected", "invalid_argument", "credit_code") == 0);
    IT_CHECK(check_item(&m, 5, "rejected", "invalid_argument", "enterprise_id") == 0);
    IT_CHECK(check_item(&m, 6, "rejected", "invalid_argument", "production_status") == 0);
    IT_CHECK(check_item(&m, 7, "rejected", "invalid_argument", "employees") == 0);
    IT_CHECK(check_item(&m, 8, "rejected", "invalid_argument", "report_date") == 0);
    IT_CHECK(check_item(&m, 9, "rejected", "not_found", "credit_code") == 0);
    IT_CHECK(check_item(&m, 10, "rejected", "invalid_argument", "credit_code") == 0);
    IT_CHECK(check_item(&m, 11, "rejected", "invalid_argument", "report_date") == 0);
    IT_CHECK(check_item(&m, 12, "rejected", "invalid_argument", "reporter") == 0);
    IT_CHECK(check_item(&m, 13, "rejected", "invalid_argument", "output_value") == 0);
    IT_CHECK(check_item(&m, 14, "unchanged", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 15, "rejected", "duplicate_report", "report_date") == 0);
    IT_CHECK(check_item(&m, 16, "rejected", "duplicate_report", "report_date") == 0);
    IT_CHECK(check_item(&m, 17, "rejected", "duplicate_report", "report_date") == 0);
    IT_CHECK(check_item(&m, 18, "unchanged", NULL, NULL) == 0);
    IT_CHECK(item_id(&m, 18) == item_id(&m, 1));
    int64_t id0 = item_id(&m, 0), id1 = item_id(&m, 1);
    IT_CHECK(id0 > 0 && id1 > 0 && id0 != id1 && item_id(&m, 14) == id0);
    /* the messages status.submit gives */
    char msg[512] = "";
    it_get_str(item(&m, 7), "message", msg, sizeof msg);
    IT_CHECKF(strcmp(msg, "employees: out of range 0..1000000") == 0, "%s", msg);
    it_get_str(item(&m, 6), "message", msg, sizeof msg);
    IT_CHECKF(strcmp(msg, "production_status: must be one of 正常, 半停产, 停产, 在建") == 0, "%s",
              msg);
    it_get_str(item(&m, 3), "message", msg, sizeof msg);
    IT_CHECKF(strcmp(msg, "enterprise 999999999 does not exist") == 0, "%s", msg);
    it_get_str(item(&m, 15), "message", msg, sizeof msg);
    IT_CHECKF(strstr(msg, "exists with other values") != NULL, "%s", msg);
    it_msg_free(&m);
    IT_CHECK(reports_of(eid) == 2);
    IT_CHECK(status_import_audits() == audits + 2);
    char t0[24];
    snprintf(t0, sizeof t0, "%lld", (long long)id0);
    /* the audit row status.submit writes, with method status.import */
    IT_CHECK(it_pg_int("SELECT count(*) FROM audit_log WHERE entity = 'status_report'"
                       " AND entity_id = $1 AND method = 'status.import' AND before IS NULL"
                       " AND after->>'output_value' = '1000' AND after->>'reporter' = '张三'"
                       " AND changed @> '{id,enterprise_id,report_date,output_value}'",
                       1, (const char *[]){t0}) == 1);
    char t1[24];
    snprintf(t1, sizeof t1, "%lld", (long long)id1);
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE id = $1 AND reporter = '=李四'"
                       " AND note = E'停电,\\n\"检修\"' AND output_value IS NULL"
                       " AND employees IS NULL AND labour_shortage = 3",
                       1, (const char *[]){t1}) == 1);

    /* Again, in a new call: unchanged (the same ids), or duplicate_report. */
    srow again[] = {rows[0], rows[1], rows[15]};
    IT_CHECK(simport_ok(c, again, 3, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "unchanged", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "unchanged", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 2, "rejected", "duplicate_report", "report_date") == 0);
    IT_CHECK(item_id(&m, 0) == id0 && item_id(&m, 1) == id1);
    it_msg_free(&m);
    IT_CHECK(reports_of(eid) == 2);
    IT_CHECK(status_import_audits() == audits + 2);

    /* The unchanged probe is an index scan (status_report_enterprise_idx). */
    PGresult *res = PQexec(it_pg(),
                           "BEGIN; SET LOCAL enable_seqscan = off;"
                           " EXPLAIN SELECT s.id FROM status_report s WHERE s.enterprise_id = 1"
                           " AND s.report_date = DATE '2025-03-01' AND s.reporter = 'x'"
                           " ORDER BY s.report_date DESC, s.id DESC LIMIT 1");
    IT_CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
    bool idx = false;
    for (int i = 0; i < PQntuples(res); i++)
        idx = idx || strstr(PQgetvalue(res, i, 0), "status_report_enterprise_idx") != NULL;
    PQclear(res);
    PQclear(PQexec(it_pg(), "ROLLBACK"));
    IT_CHECK(idx);
    IT_CHECK(it_pg_int("SELECT count(*) FROM pg_proc WHERE proname = 'bb_status_import'"
                       " AND 'enable_seqscan=off' = ANY (proconfig)",
                       0, NULL) == 1);
    it_close(c);
    return 0;
}

static int status_import_dry_run_stores_nothing(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(68101, code);
    int64_t eid = it_create_enterprise(c, "试导入企业", code, "新店镇");
    IT_CHECK(eid > 0);
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)eid);
    srow rows[] = {
        {.eid = e, .date = "2025-04-01", .reporter = "王五", .pstatus = "半停产"},
        {.code = code, .date = "2025-04-01", .reporter = "王五", .pstatus = "半停产"},
        {.eid = e, .date = "2025-04-01", .reporter = "王五", .pstatus = "在建"},
    };
    long long audits = status_import_audits();
    long long keys = it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'status.import'",
                               0, NULL);
    it_msg m;
    IT_CHECK(simport_ok(c, rows, 3, false, "dry-key-ignored", &m) == 0);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "unchanged", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 2, "rejected", "duplicate_report", "report_date") == 0);
    /* ids only of reports that exist after the call: none */
    IT_CHECK(it_map_get(item(&m, 0), "id")->type == MSGPACK_OBJECT_NIL);
    IT_CHECK(it_map_get(item(&m, 1), "id")->type == MSGPACK_OBJECT_NIL);
    it_msg_free(&m);
    IT_CHECK(reports_of(eid) == 0);
    IT_CHECK(status_import_audits() == audits);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'status.import'", 0,
                       NULL) == keys);
    it_close(c);
    return 0;
}

static int status_import_roles_and_scope(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    char own[19], other[19];
    it_credit_code(68201, own);
    it_credit_code(68202, other);
    it_conn *sup = it_connect(s->port);
    IT_CHECK(sup != NULL);
    int64_t eo = it_create_enterprise(sup, "本镇报告企业", own, "赵李桥镇");
    int64_t ex = it_create_enterprise(sup, "外镇报告企业", other, "新店镇");
    IT_CHECK(eo > 0 && ex > 0);
    it_close(sup);
    char so[24], sx[24];
    snprintf(so, sizeof so, "%lld", (long long)eo);
    snprintf(sx, sizeof sx, "%lld", (long long)ex);
    srow r0 = {.eid = so, .date = "2025-05-01", .reporter = "赵六", .pstatus = "正常"};
    it_conn *adm = it_connect_as(s->port, IT_USER_ADMIN, IT_PASSWORD);
    IT_CHECK(adm != NULL);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "status.import", 1);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 1);
    pack_srow(&b, &r0);
    IT_CHECK(it_send(adm, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(adm, id, "forbidden", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    it_close(adm);

    it_conn *st = it_connect_as(s->port, IT_USER_STAFF, IT_PASSWORD);
    IT_CHECK(st != NULL);
    srow rows[] = {
        r0,
        {.eid = sx, .date = "2025-05-01", .reporter = "赵六", .pstatus = "正常"},
        {.code = other, .date = "2025-05-01", .reporter = "赵六", .pstatus = "正常"},
        /* a missing one: the same answer as the one outside */
        {.eid = "999999998", .date = "2025-05-01", .reporter = "赵六", .pstatus = "正常"},
    };
    it_msg m;
    IT_CHECK(simport_ok(st, rows, 4, true, NULL, &m) == 0);
    IT_CHECK(check_item(&m, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m, 1, "rejected", "not_found", "enterprise_id") == 0);
    IT_CHECK(check_item(&m, 2, "rejected", "not_found", "credit_code") == 0);
    IT_CHECK(check_item(&m, 3, "rejected", "not_found", "enterprise_id") == 0);
    char m1[256] = "", m3[256] = "", want[256];
    it_get_str(item(&m, 1), "message", m1, sizeof m1);
    it_get_str(item(&m, 3), "message", m3, sizeof m3);
    snprintf(want, sizeof want, "enterprise %s does not exist", sx);
    IT_CHECKF(strcmp(m1, want) == 0 && strcmp(m3, "enterprise 999999998 does not exist") == 0,
              "%s / %s", m1, m3);
    it_msg_free(&m);
    it_close(st);
    IT_CHECK(reports_of(eo) == 1 && reports_of(ex) == 0);
    return 0;
}

static int status_import_retry_with_the_same_key(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(68301, code);
    int64_t eid = it_create_enterprise(c, "幂等报告企业", code, "车埠镇");
    IT_CHECK(eid > 0);
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)eid);
    srow rows[] = {
        {.eid = e, .date = "2025-06-01", .reporter = "钱七", .pstatus = "正常", .ov = "5"},
        {.eid = e, .date = "2999-06-01", .reporter = "钱七", .pstatus = "正常"},
    };
    it_msg m1, m2;
    IT_CHECK(simport_ok(c, rows, 2, true, "st-imp-key-1", &m1) == 0);
    IT_CHECK(check_item(&m1, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m1, 1, "rejected", "invalid_argument", "report_date") == 0);
    long long audits = status_import_audits();
    it_conn *c2 = it_connect(s->port);
    IT_CHECK(c2 != NULL);
    IT_CHECK(simport_ok(c2, rows, 2, true, "st-imp-key-1", &m2) == 0);
    /* the first answer again: created (not unchanged), the same id */
    IT_CHECK(check_item(&m2, 0, "created", NULL, NULL) == 0);
    IT_CHECK(check_item(&m2, 1, "rejected", "invalid_argument", "report_date") == 0);
    IT_CHECK(item_id(&m1, 0) == item_id(&m2, 0) && item_id(&m1, 0) > 0);
    it_msg_free(&m1);
    it_msg_free(&m2);
    IT_CHECK(status_import_audits() == audits);
    IT_CHECK(reports_of(eid) == 1);
    /* the same key with other rows: refused whole */
    rows[0].ov = "6";
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "status.import", 3);
    it_str(&b, "rows");
    msgpack_pack_array(&b.pk, 2);
    pack_srow(&b, &rows[0]);
    pack_srow(&b, &rows[1]);
    it_str(&b, "commit");
    msgpack_pack_true(&b.pk);
    it_kv_str(&b, "idempotency_key", "st-imp-key-1");
    IT_CHECK(it_send(c2, b.sb.data, b.sb.size) == 0);
    IT_CHECK(it_expect_error(c2, id, "idempotency_key_reused", "idempotency_key",
                             IT_REPLY_TIMEOUT_MS) == 0);
    it_buf_free(&b);
    IT_CHECK(reports_of(eid) == 1);
    it_close(c2);
    it_close(c);
    return 0;
}

#define SHDR "\xEF\xBB\xBF编号,企业编号,企业名称,报告日期,报告人,生产状态,产值(元),从业人数,缺工人数,备注,创建时间\r\n"

static int cli_import_status_file(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(68401, code);
    int64_t eid = it_create_enterprise(c, "文件报告企业", code, "神山镇");
    IT_CHECK(eid > 0);
    it_close(c);
    char text[4096];
    /* line 2: ok, defused reporter; lines 3-4: ok, a note on two lines and
     * money in 万; line 5: bad money; line 6: unknown enterprise; line 7:
     * after today; line 8: too few fields; line 9: by credit code (an
     * English-keyed column would do too: see below) */
    snprintf(text, sizeof text,
             SHDR
             "1,%lld,文件报告企业,2025-07-01,'=孙八,正常,1234567,20,2,,2025-07-01T00:00:00Z\r\n"
             "2,%lld,\"文件,报告\",2025-07-02,孙八,半停产,123.45万,,,\"停产检修\n, \"\"两周\"\"\",x\r\n"
             "3,%lld,x,2025-07-03,孙八,正常,一百,,,,\r\n"
             "4,999999997,x,2025-07-03,孙八,正常,,,,,\r\n"
             "5,%lld,x,2999-07-03,孙八,正常,,,,,\r\n"
             "6,%lld\r\n"
             "7,%lld,x,2025-07-04,孙八,在建,3亿,5,0,'-备注,\r\n",
             (long long)eid, (long long)eid, (long long)eid, (long long)eid, (long long)eid,
             (long long)eid);
    char path[256];
    IT_CHECK(write_file("status.csv", text, path, sizeof path) == 0);
    const char *args[] = {"import", "status", path, NULL};
    it_cli r;
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    const char *want[] = {
        "line 5: output_value: \"一百\" is not an amount of whole yuan",
        "line 6: enterprise_id: enterprise 999999997 does not exist",
        "line 7: report_date: ",
        "line 8: the row has 2 fields, the header 11",
        "dry run: 7 rows: 3 created, 0 unchanged, 4 rejected (nothing stored",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        IT_CHECKF(strstr(r.out, want[i]) != NULL, "no \"%s\" in:\n%s", want[i], r.out);
    it_cli_free(&r);
    IT_CHECK(reports_of(eid) == 0);
    const char *cargs[] = {"import", "status", path, "--commit", NULL};
    IT_CHECK(run_cli(&r, cargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.out, "committed: 7 rows: 3 created, 0 unchanged, 4 rejected"), "%s",
              r.out);
    it_cli_free(&r);
    char te[24];
    snprintf(te, sizeof te, "%lld", (long long)eid);
    const char *pe[1] = {te};
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report WHERE enterprise_id = $1"
                       " AND ((report_date = '2025-07-01' AND reporter = '=孙八'"
                       "       AND output_value = 1234567 AND employees = 20"
                       "       AND labour_shortage = 2 AND note IS NULL)"
                       "  OR (report_date = '2025-07-02' AND output_value = 1234500"
                       "       AND employees IS NULL AND note = E'停产检修\\n, \"两周\"')"
                       "  OR (report_date = '2025-07-04' AND output_value = 300000000"
                       "       AND note = '-备注'))",
                       1, pe) == 3);
    long long audits = status_import_audits();
    /* Run again: the same keys, the first answers, nothing stored. */
    IT_CHECK(run_cli(&r, cargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.out, "committed: 7 rows: 3 created"), "%s", r.out);
    it_cli_free(&r);
    IT_CHECK(status_import_audits() == audits && reports_of(eid) == 3);
    IT_CHECK(it_pg_int("SELECT count(*) FROM idempotency WHERE method = 'status.import'"
                       " AND key LIKE 'import-status-%'",
                       0, NULL) >= 1);
    /* A dry run sends no key: the stored rows are unchanged. */
    IT_CHECK(run_cli(&r, args, NULL, 1) == 0);
    IT_CHECKF(strstr(r.out, "dry run: 7 rows: 0 created, 3 unchanged, 4 rejected"), "%s",
              r.out);
    it_cli_free(&r);
    /* English keys, the enterprise by credit code; --json */
    snprintf(text, sizeof text,
             "credit_code,report_date,reporter,production_status,output_value\n"
             "%s,2025-07-01,'=孙八,正常,1234567\n"
             "%s,2025-07-01,'=孙八,正常,1234568\n",
             code, code);
    IT_CHECK(write_file("status-en.csv", text, path, sizeof path) == 0);
    const char *jargs[] = {"--json", "import", "status", path, NULL};
    IT_CHECK(run_cli(&r, jargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.out, "\"line\": 3, \"outcome\": \"rejected\"") &&
                  strstr(r.out, "\"code\": \"duplicate_report\", \"field\": \"report_date\"") &&
                  strstr(r.out, "\"summary\": {\"rows\": 2, \"created\": 0, \"unchanged\": 0, "
                                "\"rejected\": 2}") != NULL,
              "json:\n%s", r.out);
    it_cli_free(&r);
    /* (line 2 differs from the stored report too: no employees, no shortage) */
    /* a header without an enterprise column is refused whole */
    IT_CHECK(write_file("status-noent.csv", "报告日期,报告人,生产状态\n2025-07-01,a,正常\n", path,
                        sizeof path) == 0);
    const char *nargs[] = {"import", "status", path, NULL};
    IT_CHECK(run_cli(&r, nargs, NULL, 1) == 0);
    IT_CHECKF(strstr(r.err, "企业编号 (enterprise_id) or 统一社会信用代码 (credit_code)"), "%s",
              r.err);
    it_cli_free(&r);
    return 0;
}

/* Finds `name` of the newest run folder under dir. */
static int find_export_file(const char *dir, const char *name, char *out, size_t outlen)
{
    IT_CHECK(find_export(dir, out, outlen) == 0);
    char *slash = strrchr(out, '/');
    IT_CHECK(slash != NULL);
    snprintf(slash + 1, outlen - (size_t)(slash + 1 - out), "%s", name);
    return 0;
}

static int export_then_import_status_is_all_unchanged(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/exports-status", g_dir);
    IT_CHECK(mkdir(dir, 0700) == 0 || access(dir, W_OK) == 0);
    char set_dir[200];
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    const char *sets[] = {set_dir, "export_time=", NULL};
    it_server *s = it_server_start(sets);
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char code[19];
    it_credit_code(68501, code);
    int64_t eid = it_create_enterprise(c, "=往返报告, \"企业\"", code, "官塘驿镇");
    IT_CHECK(eid > 0);
    char e[24];
    snprintf(e, sizeof e, "%lld", (long long)eid);
    srow rows[] = {
        {.eid = e, .date = "2025-08-01", .reporter = "-周九", .pstatus = "正常", .ov = "0",
         .em = "0", .ls = "0", .note = "'@备注,\r\n\"引号\"\t制表"},
        {.eid = e, .date = "2025-08-01", .reporter = "@吴十", .pstatus = "停产"},
        {.eid = e, .date = "2025-08-02", .reporter = "郑十一", .pstatus = "在建",
         .ov = "1000000000000000", .em = "1000000", .ls = "1000000", .note = "+1"},
    };
    it_msg m;
    IT_CHECK(simport_ok(c, rows, 3, true, NULL, &m) == 0);
    for (size_t i = 0; i < 3; i++)
        IT_CHECK(check_item(&m, i, "created", NULL, NULL) == 0);
    it_msg_free(&m);
    it_buf b;
    it_buf_init(&b);
    uint32_t id = ++g_msgid;
    it_req(&b, id, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    int rr = it_call(c, b.sb.data, b.sb.size, id, 120000, &m);
    it_buf_free(&b);
    IT_CHECK(rr == IT_RECV_MSG);
    char d[800];
    IT_CHECKF(!m.is_error, "export.run: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_close(c);
    char path[512];
    IT_CHECK(find_export_file(dir, "status_reports.csv", path, sizeof path) == 0);
    long long n = it_pg_int("SELECT count(*) FROM status_report", 0, NULL);
    IT_CHECK(n >= 3);
    long long audits = status_import_audits();
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    for (int commit = 0; commit <= 1; commit++) {
        const char *args[] = {"--json", "import", "status", path, commit ? "--commit" : NULL,
                              NULL};
        it_cli r;
        IT_CHECK(it_cli_run(&r, g_server, CLI_MS, args) == 0);
        char want[200];
        snprintf(want, sizeof want, "\"summary\": {\"rows\": %lld, \"created\": 0, "
                 "\"unchanged\": %lld, \"rejected\": 0}", n, n);
        if (r.status != 0 || strstr(r.out, want) == NULL) {
            show(&r);
            IT_CHECKF(false, "expected %s", want);
        }
        it_cli_free(&r);
    }
    IT_CHECK(it_pg_int("SELECT count(*) FROM status_report", 0, NULL) == n);
    IT_CHECK(status_import_audits() == audits);
    return 0;
}

int main(int argc, char **argv)
{
    static const it_test tests[] = {
        {"dry_run_answers_every_row_and_stores_nothing",
         dry_run_answers_every_row_and_stores_nothing},
        {"commit_creates_then_unchanged_then_updated_with_audit",
         commit_creates_then_unchanged_then_updated_with_audit},
        {"rejected_rows_answer_as_enterprise_create_would",
         rejected_rows_answer_as_enterprise_create_would},
        {"call_arguments_are_refused_whole", call_arguments_are_refused_whole},
        {"roles_and_scope_follow_create_and_update", roles_and_scope_follow_create_and_update},
        {"retry_with_the_same_key_returns_the_same_items",
         retry_with_the_same_key_returns_the_same_items},
        {"cli_dry_run_reports_each_rejected_line", cli_dry_run_reports_each_rejected_line},
        {"cli_commit_stores_and_rerun_stores_nothing_twice",
         cli_commit_stores_and_rerun_stores_nothing_twice},
        {"cli_handwritten_export_imports_back_unchanged",
         cli_handwritten_export_imports_back_unchanged},
        {"cli_many_calls_keep_line_numbers", cli_many_calls_keep_line_numbers},
        {"cli_shows_a_progress_bar_on_a_terminal", cli_shows_a_progress_bar_on_a_terminal},
        {"cli_refuses_a_broken_file_and_a_missing_column",
         cli_refuses_a_broken_file_and_a_missing_column},
        {"cli_rejects_a_row_too_large_for_a_call", cli_rejects_a_row_too_large_for_a_call},
        {"export_then_import_dry_run_is_all_unchanged",
         export_then_import_dry_run_is_all_unchanged},
        {"status_import_created_unchanged_rejected", status_import_created_unchanged_rejected},
        {"status_import_dry_run_stores_nothing", status_import_dry_run_stores_nothing},
        {"status_import_roles_and_scope", status_import_roles_and_scope},
        {"status_import_retry_with_the_same_key", status_import_retry_with_the_same_key},
        {"cli_import_status_file", cli_import_status_file},
        {"export_then_import_status_is_all_unchanged",
         export_then_import_status_is_all_unchanged},
    };
    return it_main(argc, argv, "import", tests, sizeof tests / sizeof tests[0], setup);
}
