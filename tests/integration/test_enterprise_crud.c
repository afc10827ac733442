/*
 * test_enterprise_crud.c: enterprise.create / get / update / list through
 * libbaobao against a real server: Chinese names and labels, versions and
 * version_conflict (nothing changed), each list filter compared with what a
 * full listing says, keyset pagination over ~120 rows with rows added and
 * changed while paging, already_exists, not_found, page limits.
 *
 * Not for: raw-protocol edge cases (test_protocol_edge.c) or text encoding
 * details (test_utf8_text.c).
 */
#include "harness.h"
#include "baobao.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bb_client *g_c;
static char g_server[64];

static int setup(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    return 0;
}

/* Logs the connection in as the harness's default user (a raw
 * session.login through bb_call, so this file needs nothing of the
 * library's account helpers). 0 or -1 (noted). */
static int login_default(bb_client *c)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "login", 5);
    msgpack_pack_str_with_body(&pk, IT_USER_SUPER, strlen(IT_USER_SUPER));
    msgpack_pack_str_with_body(&pk, "password", 8);
    msgpack_pack_str_with_body(&pk, IT_PASSWORD, strlen(IT_PASSWORD));
    bb_reply *r = NULL;
    bb_error err;
    int rc = bb_call(c, "session.login", sb.data, sb.size, &r, &err);
    msgpack_sbuffer_destroy(&sb);
    if (rc != 0) {
        it_note("session.login: %s %s", err.code, err.message);
        return -1;
    }
    bb_reply_free(r);
    return 0;
}

/* A connected client (reconnected per test: a test may break it). */
static bb_client *client(void)
{
    if (g_c != NULL)
        bb_close(g_c);
    g_c = NULL;
    it_server *s = it_shared_server();
    if (s == NULL)
        return NULL;
    snprintf(g_server, sizeof g_server, "127.0.0.1:%d", s->port);
    bb_error err;
    g_c = bb_connect(g_server, 10000, &err);
    if (g_c == NULL)
        it_note("bb_connect %s: %s %s", g_server, err.code, err.message);
    else
        bb_set_timeout(g_c, IT_REPLY_TIMEOUT_MS);
    if (g_c != NULL && login_default(g_c) != 0) {
        bb_close(g_c);
        g_c = NULL;
    }
    return g_c;
}

/* RFC 3339 UTC with microseconds: 2026-11-26T02:03:04.123456Z */
static bool is_timestamp(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    if (s == NULL || strlen(s) != sizeof pat - 1)
        return false;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i])
            return false;
    return true;
}

static int expect_server_error(int rc, const bb_error *err, const char *code, const char *field)
{
    IT_CHECKF(rc == BB_C_ESERVER && strcmp(err->code, code) == 0 &&
                  (field == NULL || strcmp(err->field, field) == 0),
              "expected server error %s field %s, got rc %d code=%s field=%s message=%s", code,
              field ? field : "(any)", rc, err->code, err->field, err->message);
    return 0;
}

static const char *const LABELS2[] = {"规上", "专精特新\"小巨人\""};

static int create_with_chinese_fields_then_get_returns_them(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(2001, cc);
    bb_enterprise_fields f = {0};
    f.name = "住方科技（赤壁）有限公司";
    f.credit_code = cc;
    f.township = "赤马港街道";
    f.cluster = "电子信息";
    f.labels = LABELS2;
    f.nlabels = 2;
    f.status = "筹建";
    bb_enterprise e, g;
    bb_error err;
    int rc = bb_enterprise_create(c, &f, NULL, &e, &err);
    IT_CHECKF(rc == 0, "create: %d %s %s %s", rc, err.code, err.field, err.message);
    IT_CHECK(e.id > 0);
    IT_CHECK(e.version == 1);
    IT_CHECK_STR(e.name, f.name);
    IT_CHECK_STR(e.credit_code, cc);
    IT_CHECK_STR(e.township, "赤马港街道");
    IT_CHECK_STR(e.cluster, "电子信息");
    IT_CHECK_STR(e.status, "筹建");
    IT_CHECK(e.nlabels == 2);
    IT_CHECK_STR(e.labels[0], "规上");
    IT_CHECK_STR(e.labels[1], "专精特新\"小巨人\"");
    IT_CHECKF(is_timestamp(e.created_at), "created_at %s", e.created_at);
    IT_CHECKF(is_timestamp(e.updated_at), "updated_at %s", e.updated_at);

    rc = bb_enterprise_get(c, e.id, &g, &err);
    IT_CHECKF(rc == 0, "get: %d %s %s", rc, err.code, err.message);
    IT_CHECK(g.id == e.id && g.version == 1);
    IT_CHECK_STR(g.name, e.name);
    IT_CHECK_STR(g.credit_code, e.credit_code);
    IT_CHECK_STR(g.township, e.township);
    IT_CHECK_STR(g.cluster, e.cluster);
    IT_CHECK_STR(g.status, e.status);
    IT_CHECK(g.nlabels == 2);
    IT_CHECK_STR(g.labels[0], e.labels[0]);
    IT_CHECK_STR(g.labels[1], e.labels[1]);
    IT_CHECK_STR(g.created_at, e.created_at);
    IT_CHECK_STR(g.updated_at, e.updated_at);
    bb_enterprise_free(&e);
    bb_enterprise_free(&g);
    return 0;
}

static int create_defaults_status_and_empty_labels(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(2002, cc);
    bb_enterprise_fields f = {0};
    f.name = "高正新材料";
    f.credit_code = cc;
    f.township = "新材料产业园";
    bb_enterprise e;
    bb_error err;
    int rc = bb_enterprise_create(c, &f, NULL, &e, &err);
    IT_CHECKF(rc == 0, "create: %s %s", err.code, err.message);
    IT_CHECK_STR(e.status, "在营");
    IT_CHECK(e.cluster == NULL);
    IT_CHECK(e.nlabels == 0);
    bb_enterprise_free(&e);
    return 0;
}

static int update_with_right_version_changes_and_increments(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19], cc2[19];
    it_credit_code(2003, cc);
    it_credit_code(2004, cc2);
    bb_enterprise_fields f = {0};
    f.name = "龙兴无纺布";
    f.credit_code = cc;
    f.township = "赵李桥镇";
    f.cluster = "纺织服装";
    f.labels = LABELS2;
    f.nlabels = 2;
    bb_enterprise e, u, g;
    bb_error err;
    IT_CHECK(bb_enterprise_create(c, &f, NULL, &e, &err) == 0);
    it_sleep_ms(5);
    bb_enterprise_fields up = {0};
    up.name = "龙兴非织造";
    up.credit_code = cc2;
    up.clear_cluster = true;
    up.set_labels = true;     /* replace with none */
    up.status = "半停产";
    int rc = bb_enterprise_update(c, e.id, 1, &up, NULL, &u, &err);
    IT_CHECKF(rc == 0, "update: %d %s %s %s", rc, err.code, err.field, err.message);
    IT_CHECK(u.version == 2);
    IT_CHECK_STR(u.name, "龙兴非织造");
    IT_CHECK_STR(u.credit_code, cc2);
    IT_CHECK_STR(u.township, "赵李桥镇");   /* absent = unchanged */
    IT_CHECK(u.cluster == NULL);
    IT_CHECK(u.nlabels == 0);
    IT_CHECK_STR(u.status, "半停产");
    IT_CHECK_STR(u.created_at, e.created_at);
    IT_CHECKF(strcmp(u.updated_at, e.updated_at) > 0, "updated_at %s not after %s",
              u.updated_at, e.updated_at);
    IT_CHECK(bb_enterprise_get(c, e.id, &g, &err) == 0);
    IT_CHECK(g.version == 2 && g.cluster == NULL && g.nlabels == 0);
    IT_CHECK_STR(g.name, "龙兴非织造");
    bb_enterprise_free(&g);
    /* Labels given replace; cluster absent stays. */
    bb_enterprise_fields up2 = {0};
    static const char *const one[] = {"隐形冠军"};
    up2.labels = one;
    up2.nlabels = 1;
    up2.set_labels = true;
    bb_enterprise u2;
    rc = bb_enterprise_update(c, e.id, 2, &up2, NULL, &u2, &err);
    IT_CHECKF(rc == 0, "update 2: %s %s", err.code, err.message);
    IT_CHECK(u2.version == 3 && u2.nlabels == 1 && u2.cluster == NULL);
    IT_CHECK_STR(u2.labels[0], "隐形冠军");
    IT_CHECK_STR(u2.name, "龙兴非织造");
    bb_enterprise_free(&u2);
    bb_enterprise_free(&e);
    bb_enterprise_free(&u);
    return 0;
}

static int update_without_changes_still_increments_version(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(2005, cc);
    bb_enterprise_fields f = {0};
    f.name = "凯利隆";
    f.credit_code = cc;
    f.township = "神山镇";
    bb_enterprise e, u;
    bb_error err;
    IT_CHECK(bb_enterprise_create(c, &f, NULL, &e, &err) == 0);
    bb_enterprise_fields none = {0};
    int rc = bb_enterprise_update(c, e.id, 1, &none, NULL, &u, &err);
    IT_CHECKF(rc == 0, "update: %s %s", err.code, err.message);
    IT_CHECK(u.version == 2);
    IT_CHECK_STR(u.name, "凯利隆");
    bb_enterprise_free(&e);
    bb_enterprise_free(&u);
    return 0;
}

static int stale_version_refused_with_version_conflict_nothing_changed(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(2006, cc);
    bb_enterprise_fields f = {0};
    f.name = "泽翰实业";
    f.credit_code = cc;
    f.township = "车埠镇";
    f.cluster = "新材料";
    bb_enterprise e, u, g;
    bb_error err;
    IT_CHECK(bb_enterprise_create(c, &f, NULL, &e, &err) == 0);
    bb_enterprise_fields a = {0};
    a.name = "泽翰实业（甲改）";
    IT_CHECK(bb_enterprise_update(c, e.id, 1, &a, NULL, &u, &err) == 0);
    IT_CHECK(u.version == 2);
    /* A second editor still holding version 1. */
    bb_enterprise_fields b = {0};
    b.name = "泽翰实业（乙改）";
    b.status = "停产";
    bb_enterprise x;
    int rc = bb_enterprise_update(c, e.id, 1, &b, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "version_conflict", "version") == 0);
    IT_CHECKF(strstr(err.message, "2") != NULL,
              "the message should name the current version 2: %s", err.message);
    IT_CHECK(bb_enterprise_get(c, e.id, &g, &err) == 0);
    IT_CHECK(g.version == 2);
    IT_CHECK_STR(g.name, "泽翰实业（甲改）");
    IT_CHECK_STR(g.status, "在营");
    IT_CHECK_STR(g.updated_at, u.updated_at);
    /* A version from the future is a conflict too. */
    rc = bb_enterprise_update(c, e.id, 7, &b, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "version_conflict", "version") == 0);
    bb_enterprise_free(&e);
    bb_enterprise_free(&u);
    bb_enterprise_free(&g);
    return 0;
}

static int duplicate_credit_code_refused_with_already_exists(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19], cc2[19];
    it_credit_code(2007, cc);
    it_credit_code(2008, cc2);
    bb_enterprise_fields f = {0};
    f.name = "荟海药业";
    f.credit_code = cc;
    f.township = "美丽健康产业园";
    bb_enterprise e, e2, x;
    bb_error err;
    IT_CHECK(bb_enterprise_create(c, &f, NULL, &e, &err) == 0);
    f.name = "荟海药业二号";
    int rc = bb_enterprise_create(c, &f, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "already_exists", "credit_code") == 0);
    const char *p[] = {cc};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 1);
    /* Updating another one to the taken code is refused the same way. */
    f.credit_code = cc2;
    IT_CHECK(bb_enterprise_create(c, &f, NULL, &e2, &err) == 0);
    bb_enterprise_fields up = {0};
    up.credit_code = cc;
    rc = bb_enterprise_update(c, e2.id, 1, &up, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "already_exists", "credit_code") == 0);
    bb_enterprise g;
    IT_CHECK(bb_enterprise_get(c, e2.id, &g, &err) == 0);
    IT_CHECK(g.version == 1);
    IT_CHECK_STR(g.credit_code, cc2);
    bb_enterprise_free(&g);
    bb_enterprise_free(&e);
    bb_enterprise_free(&e2);
    return 0;
}

static int get_and_update_of_missing_enterprise_not_found(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_enterprise x;
    bb_error err;
    int rc = bb_enterprise_get(c, 987654321, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "not_found", "id") == 0);
    bb_enterprise_fields up = {0};
    up.name = "不存在";
    rc = bb_enterprise_update(c, 987654321, 1, &up, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "not_found", "id") == 0);
    return 0;
}

static int unknown_township_cluster_status_refused(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(2009, cc);
    bb_enterprise_fields f = {0};
    f.name = "未知字段";
    f.credit_code = cc;
    f.township = "北京市";
    bb_enterprise x;
    bb_error err;
    int rc = bb_enterprise_create(c, &f, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "invalid_argument", "township") == 0);
    f.township = "赤壁镇";
    f.cluster = "钢铁";
    rc = bb_enterprise_create(c, &f, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "invalid_argument", "cluster") == 0);
    f.cluster = NULL;
    f.status = "倒闭";
    rc = bb_enterprise_create(c, &f, NULL, &x, &err);
    IT_CHECK(expect_server_error(rc, &err, "invalid_argument", "status") == 0);
    static const char *const dup[] = {"规上", "隐形冠军", "规上"};
    f.status = NULL;
    f.labels = dup;
    f.nlabels = 3;
    rc = bb_enterprise_create(c, &f, NULL, &x, &err);
    IT_CHECKF(rc != 0 && strcmp(err.code, "invalid_argument") == 0 &&
                  strncmp(err.field, "labels", 6) == 0,
              "duplicate labels: rc %d %s %s", rc, err.code, err.field);
    const char *p[] = {cc};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE credit_code = $1", 1, p) == 0);
    return 0;
}

/* ---- listing ---- */

typedef struct idset {
    int64_t *ids;
    size_t n, cap;
} idset;

static void idset_add(idset *s, int64_t id)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
    }
    s->ids[s->n++] = id;
}

/* Lists every page of a filter; ids in order into out. Checks ascending
 * ids, no repeats, page sizes and the last page's next. */
static int list_all(bb_client *c, bb_enterprise_filter f, idset *out, bb_enterprise **all,
                    size_t *nall)
{
    int pages = 0;
    for (;;) {
        bb_enterprise_page p;
        bb_error err;
        int rc = bb_enterprise_list(c, &f, &p, &err);
        IT_CHECKF(rc == 0, "list: %d %s %s %s", rc, err.code, err.field, err.message);
        unsigned lim = f.limit ? f.limit : 50;
        IT_CHECKF(p.n <= lim, "page of %zu rows with limit %u", p.n, lim);
        for (size_t i = 0; i < p.n; i++) {
            int64_t id = p.items[i].id;
            IT_CHECKF(out->n == 0 || id > out->ids[out->n - 1],
                      "id %lld after %lld: not ascending (repeat or order)", (long long)id,
                      (long long)(out->n ? out->ids[out->n - 1] : 0));
            idset_add(out, id);
            if (all != NULL) {
                *all = realloc(*all, (*nall + 1) * sizeof **all);
                (*all)[(*nall)++] = p.items[i];
                memset(&p.items[i], 0, sizeof p.items[i]);
            }
        }
        int64_t next = p.next;
        size_t n = p.n;
        bb_enterprise_page_free(&p);
        pages++;
        IT_CHECKF(pages < 1000, "more than 1000 pages");
        if (next == 0)
            break;
        IT_CHECKF(n > 0, "an empty page with a next cursor");
        f.after = next;
    }
    return 0;
}

static int create_simple(bb_client *c, unsigned long n, const char *name, const char *township,
                         const char *cluster, const char *const *labels, size_t nl,
                         const char *status, int64_t *id)
{
    char cc[19];
    it_credit_code(n, cc);
    bb_enterprise_fields f = {0};
    f.name = name;
    f.credit_code = cc;
    f.township = township;
    f.cluster = cluster;
    f.labels = labels;
    f.nlabels = nl;
    f.status = status;
    bb_enterprise e;
    bb_error err;
    int rc = bb_enterprise_create(c, &f, NULL, &e, &err);
    IT_CHECKF(rc == 0, "create %s: %s %s %s", name, err.code, err.field, err.message);
    if (id)
        *id = e.id;
    bb_enterprise_free(&e);
    return 0;
}

static bool has_label(const bb_enterprise *e, const char *l)
{
    for (size_t i = 0; i < e->nlabels; i++)
        if (strcmp(e->labels[i], l) == 0)
            return true;
    return false;
}

static int same_ids(const idset *a, const idset *b, const char *what)
{
    bool same = a->n == b->n;
    for (size_t i = 0; same && i < a->n; i++)
        same = a->ids[i] == b->ids[i];
    IT_CHECKF(same, "filter %s: %zu rows listed, %zu expected from the full listing", what,
              a->n, b->n);
    return 0;
}

static int list_each_filter_matches_full_listing(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    static const char *const l1[] = {"规上", "高新技术企业"};
    static const char *const l2[] = {"小巨人", "规上"};
    static const char *const l3[] = {"隐形冠军"};
    IT_CHECK(create_simple(c, 3001, "筛选甲电子", "茶庵岭镇", "电子信息", l1, 2, NULL, NULL) == 0);
    IT_CHECK(create_simple(c, 3002, "筛选乙电子", "茶庵岭镇", "电子信息", l2, 2, "停产", NULL) ==
             0);
    IT_CHECK(create_simple(c, 3003, "筛选丙茶业", "柳山湖镇", "青砖茶", l3, 1, "半停产", NULL) ==
             0);
    IT_CHECK(create_simple(c, 3004, "筛选丁", "柳山湖镇", NULL, NULL, 0, "停产", NULL) == 0);
    IT_CHECK(create_simple(c, 3005, "百分之百%达标_公司", "黄盖湖镇", "大健康", NULL, 0, NULL,
                           NULL) == 0);
    IT_CHECK(create_simple(c, 3006, "百分之百X达标Y公司", "黄盖湖镇", "大健康", NULL, 0, NULL,
                           NULL) == 0);

    bb_enterprise_filter none = {0};
    none.limit = 500;
    idset all_ids = {0};
    bb_enterprise *all = NULL;
    size_t nall = 0;
    IT_CHECK(list_all(c, none, &all_ids, &all, &nall) == 0);

    struct {
        const char *what;
        bb_enterprise_filter f;
    } cases[10];
    memset(cases, 0, sizeof cases);
    size_t nc = 0;
    cases[nc].what = "township 茶庵岭镇";
    cases[nc++].f.township = "茶庵岭镇";
    cases[nc].what = "cluster 电子信息";
    cases[nc++].f.cluster = "电子信息";
    cases[nc].what = "status 停产";
    cases[nc++].f.status = "停产";
    cases[nc].what = "label 规上";
    cases[nc++].f.label = "规上";
    cases[nc].what = "name_contains 筛选";
    cases[nc++].f.name_contains = "筛选";
    cases[nc].what = "name_contains %达标_ (literal)";
    cases[nc++].f.name_contains = "%达标_";
    cases[nc].what = "township 柳山湖镇 + status 停产";
    cases[nc].f.township = "柳山湖镇";
    cases[nc++].f.status = "停产";
    cases[nc].what = "unknown township";
    cases[nc++].f.township = "火星镇";
    cases[nc].what = "unknown cluster";
    cases[nc++].f.cluster = "钢铁";
    cases[nc].what = "label 电子 (not a substring match)";
    cases[nc++].f.label = "电子";

    for (size_t k = 0; k < nc; k++) {
        const bb_enterprise_filter *f = &cases[k].f;
        idset want = {0}, got = {0};
        for (size_t i = 0; i < nall; i++) {
            const bb_enterprise *e = &all[i];
            if (f->township && strcmp(e->township, f->township) != 0)
                continue;
            if (f->cluster && (e->cluster == NULL || strcmp(e->cluster, f->cluster) != 0))
                continue;
            if (f->status && strcmp(e->status, f->status) != 0)
                continue;
            if (f->label && !has_label(e, f->label))
                continue;
            if (f->name_contains && strstr(e->name, f->name_contains) == NULL)
                continue;
            idset_add(&want, e->id);
        }
        bb_enterprise_filter lf = *f;
        lf.limit = 2;   /* page through filtered results too */
        IT_CHECK(list_all(c, lf, &got, NULL, NULL) == 0);
        IT_CHECK(same_ids(&got, &want, cases[k].what) == 0);
        it_note("%-36s %zu rows", cases[k].what, got.n);
        free(want.ids);
        free(got.ids);
    }
    for (size_t i = 0; i < nall; i++)
        bb_enterprise_free(&all[i]);
    free(all);
    free(all_ids.ids);
    return 0;
}

#define PAGING_ROWS 120

static int keyset_pagination_neither_skips_nor_repeats(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    idset created = {0};
    for (int i = 0; i < PAGING_ROWS; i++) {
        char name[64];
        snprintf(name, sizeof name, "分页企业%03d", i);
        int64_t id;
        IT_CHECK(create_simple(c, 4000 + (unsigned long)i, name, "余家桥乡", NULL, NULL, 0,
                               NULL, &id) == 0);
        idset_add(&created, id);
    }
    bb_enterprise_filter f = {0};
    f.township = "余家桥乡";
    f.limit = 50;
    idset seen = {0};
    int page = 0;
    for (;;) {
        bb_enterprise_page p;
        bb_error err;
        int rc = bb_enterprise_list(c, &f, &p, &err);
        IT_CHECKF(rc == 0, "page %d: %s %s", page, err.code, err.message);
        for (size_t i = 0; i < p.n; i++) {
            IT_CHECKF(seen.n == 0 || p.items[i].id > seen.ids[seen.n - 1],
                      "page %d: id %lld repeats or goes back", page,
                      (long long)p.items[i].id);
            idset_add(&seen, p.items[i].id);
        }
        it_note("page %d: %zu rows, next %lld", page, p.n, (long long)p.next);
        if (page == 0) {
            IT_CHECK(p.n == 50 && p.next != 0);
            /* While paging: rows change and new rows come. */
            bb_enterprise u;
            bb_enterprise_fields up = {0};
            up.name = "分页企业000（改）";
            IT_CHECK(bb_enterprise_update(c, created.ids[0], 1, &up, NULL, &u, &err) == 0);
            bb_enterprise_free(&u);
            up.name = "分页企业100（改）";
            IT_CHECK(bb_enterprise_update(c, created.ids[100], 1, &up, NULL, &u, &err) == 0);
            bb_enterprise_free(&u);
            for (int k = 0; k < 3; k++) {
                char name[64];
                snprintf(name, sizeof name, "分页新增%d", k);
                IT_CHECK(create_simple(c, 4500 + (unsigned long)k, name, "余家桥乡", NULL, NULL,
                                       0, NULL, NULL) == 0);
            }
        }
        int64_t next = p.next;
        bb_enterprise_page_free(&p);
        page++;
        if (next == 0)
            break;
        IT_CHECK(page < 10);
        f.after = next;
    }
    /* Every row that existed before is there exactly once (ascending ids
     * make a repeat impossible to miss above). */
    for (size_t i = 0; i < created.n; i++) {
        bool found = false;
        for (size_t k = 0; k < seen.n && !found; k++)
            found = seen.ids[k] == created.ids[i];
        IT_CHECKF(found, "row %lld (created before paging) was skipped",
                  (long long)created.ids[i]);
    }
    IT_CHECKF(seen.n == PAGING_ROWS + 3, "%zu rows seen, expected %d + 3 added meanwhile",
              seen.n, PAGING_ROWS);
    IT_CHECK(page == 3);
    free(created.ids);
    free(seen.ids);
    return 0;
}

static int page_limit_default_and_max(void)
{
    bb_client *c = client();
    IT_CHECK(c != NULL);
    bb_enterprise_filter f = {0};
    bb_enterprise_page p;
    bb_error err;
    f.limit = 500;
    int rc = bb_enterprise_list(c, &f, &p, &err);
    IT_CHECKF(rc == 0, "%s %s", err.code, err.message);
    size_t total = p.n;
    bb_enterprise_page_free(&p);
    /* Enough rows for a full default page (the paging test made 123). */
    for (unsigned long i = 0; total + i < 51; i++)
        IT_CHECK(create_simple(c, 4600 + i, "默认页", "赤壁镇", NULL, NULL, 0, NULL, NULL) == 0);
    f.limit = 0;
    rc = bb_enterprise_list(c, &f, &p, &err);
    IT_CHECKF(rc == 0, "%s %s", err.code, err.message);
    IT_CHECKF(p.n == 50 && p.next != 0, "default page: %zu rows, next %lld (default 50)", p.n,
              (long long)p.next);
    bb_enterprise_page_free(&p);
    f.limit = 501;
    rc = bb_enterprise_list(c, &f, &p, &err);
    IT_CHECKF(rc != 0 && strcmp(err.code, "invalid_argument") == 0 &&
                  strcmp(err.field, "limit") == 0,
              "limit 501: rc %d code %s field %s", rc, err.code, err.field);
    if (rc == 0)
        bb_enterprise_page_free(&p);
    return 0;
}

static const it_test tests[] = {
    {"create_with_chinese_fields_then_get_returns_them",
     create_with_chinese_fields_then_get_returns_them},
    {"create_defaults_status_and_empty_labels", create_defaults_status_and_empty_labels},
    {"update_with_right_version_changes_and_increments",
     update_with_right_version_changes_and_increments},
    {"update_without_changes_still_increments_version",
     update_without_changes_still_increments_version},
    {"stale_version_refused_with_version_conflict_nothing_changed",
     stale_version_refused_with_version_conflict_nothing_changed},
    {"duplicate_credit_code_refused_with_already_exists",
     duplicate_credit_code_refused_with_already_exists},
    {"get_and_update_of_missing_enterprise_not_found",
     get_and_update_of_missing_enterprise_not_found},
    {"unknown_township_cluster_status_refused", unknown_township_cluster_status_refused},
    {"list_each_filter_matches_full_listing", list_each_filter_matches_full_listing},
    {"keyset_pagination_neither_skips_nor_repeats", keyset_pagination_neither_skips_nor_repeats},
    {"page_limit_default_and_max", page_limit_default_and_max},
};

int main(int argc, char **argv)
{
    int rc = it_main(argc, argv, "crud", tests, sizeof tests / sizeof tests[0], setup);
    bb_close(g_c);
    return rc;
}
