/*
 * test_utf8_text.c: text through baobaod and PostgreSQL and back: Chinese
 * names, labels and notes (with 4-byte characters like 𠀀 and newlines)
 * come back byte for byte; lengths count characters, not bytes; invalid
 * UTF-8 is refused with invalid_utf8 and the field at fault, control
 * characters with invalid_argument.
 *
 * Not for: display width (the CLI test). Raw requests, so the client
 * library's own checks cannot hide the server's.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t g_eid;
static uint32_t g_msgid = 10;
static unsigned long g_code_n = 700;

static int setup(void)
{
    g_eid = it_shared_enterprise(g_code_n++, "华润蒲圻电厂", "蒲圻街道");
    IT_CHECK(g_eid > 0);
    return 0;
}

/* True when o is a str with exactly these bytes. */
static bool str_is(const msgpack_object *o, const char *want, size_t n)
{
    return o != NULL && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, want, n) == 0;
}

static const char NAME[] = "住方科技𠀀（赤壁）有限公司·测试";
static const char *const LABELS[] = {"规上", "专精特新\"小巨人\"", "𠀀𪚥标签", "高新技术企业"};
static const char NOTE[] = "第一行：设备检修。\n第二行\t缺工 12 人；\r\n第三行 𠀀𪚥 \"引号\" \\ 反斜杠\n";

static int chinese_enterprise_round_trips_byte_exact(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char cc[19];
    it_credit_code(g_code_n++, cc);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "enterprise.create", 5);
    it_kv_str(&b, "name", NAME);
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "高新技术产业园区");
    it_kv_str(&b, "cluster", "电子信息");
    it_kv_strs(&b, "labels", LABELS, 4);
    it_msg m;
    char d[800];
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    int64_t id = 0;
    IT_CHECK(it_get_int(m.result, "id", &id));
    it_msg_free(&m);
    /* Read back with get (a fresh read from the database). */
    it_buf_reset(&b);
    it_req(&b, ++g_msgid, "enterprise.get", 1);
    it_kv_int(&b, "id", id);
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    IT_CHECKF(str_is(it_map_get(m.result, "name"), NAME, strlen(NAME)), "name differs");
    IT_CHECK(it_get_str_eq(m.result, "township", "高新技术产业园区"));
    IT_CHECK(it_get_str_eq(m.result, "cluster", "电子信息"));
    IT_CHECK(it_get_str_eq(m.result, "status", "在营"));
    const msgpack_object *l = it_map_get(m.result, "labels");
    IT_CHECK(l != NULL && l->type == MSGPACK_OBJECT_ARRAY && l->via.array.size == 4);
    for (uint32_t i = 0; i < 4; i++)
        IT_CHECKF(str_is(&l->via.array.ptr[i], LABELS[i], strlen(LABELS[i])),
                  "labels[%u] differs (order must be kept)", i);
    it_msg_free(&m);
    /* And in the database itself, as text. */
    char ids[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[] = {ids, NAME};
    IT_CHECK(it_pg_int("SELECT count(*) FROM enterprise WHERE id = $1 AND name = $2", 2, p) ==
             1);
    it_buf_free(&b);
    return 0;
}

static int chinese_note_with_newlines_round_trips_byte_exact(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "status.submit", 5);
    it_kv_int(&b, "enterprise_id", g_eid);
    it_kv_str(&b, "report_date", "2024-05-06");
    it_kv_str(&b, "reporter", "王𠀀明");
    it_kv_str(&b, "production_status", "半停产");
    it_kv_str(&b, "note", NOTE);
    it_msg m;
    char d[800];
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    IT_CHECKF(str_is(it_map_get(m.result, "note"), NOTE, strlen(NOTE)),
              "note differs in the submit result");
    it_msg_free(&m);
    it_buf_reset(&b);
    it_req(&b, ++g_msgid, "status.list", 3);
    it_kv_int(&b, "enterprise_id", g_eid);
    it_kv_str(&b, "from", "2024-05-06");
    it_kv_str(&b, "to", "2024-05-06");
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "%s", it_describe(&m, d, sizeof d));
    const msgpack_object *items = it_map_get(m.result, "items");
    IT_CHECK(items != NULL && items->type == MSGPACK_OBJECT_ARRAY &&
             items->via.array.size == 1);
    const msgpack_object *r = &items->via.array.ptr[0];
    IT_CHECKF(str_is(it_map_get(r, "note"), NOTE, strlen(NOTE)), "note differs in the list");
    IT_CHECK(it_get_str_eq(r, "reporter", "王𠀀明"));
    IT_CHECK(it_get_str_eq(r, "production_status", "半停产"));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

/* Repeats a UTF-8 character n times into a malloc'd string. */
static char *repeat(const char *ch, size_t n)
{
    size_t l = strlen(ch);
    char *s = malloc(l * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * l, ch, l);
    s[l * n] = '\0';
    return s;
}

/* enterprise.create with a given name and labels; reply in out. */
static int create(it_conn *c, const char *name, const char *const *labels, size_t nl,
                  it_msg *out)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "enterprise.create", labels ? 4 : 3);
    it_kv_str(&b, "name", name);
    it_kv_str(&b, "credit_code", cc);
    it_kv_str(&b, "township", "陆水湖街道");
    if (labels)
        it_kv_strs(&b, "labels", labels, nl);
    int r = it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, out);
    it_buf_free(&b);
    return r;
}

static int lengths_count_characters_not_bytes(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    char d[800];
    char *n100 = repeat("𠀀", 100), *n101 = repeat("企", 101);
    IT_CHECK(create(c, n100, NULL, 0, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "a 100-character (400-byte) name: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(create(c, n101, NULL, 0, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "name") == 0,
              "a 101-character name: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    char *l32 = repeat("𪚥", 32), *l33 = repeat("标", 33);
    const char *ok[] = {"规上", l32};
    const char *bad[] = {"规上", "隐形冠军", l33};
    IT_CHECK(create(c, "标签长度", ok, 2, &m) == IT_RECV_MSG);
    IT_CHECKF(!m.is_error, "a 32-character label: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(create(c, "标签长度", bad, 3, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "labels[2]") == 0,
              "a 33-character label as labels[2]: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    free(n100);
    free(n101);
    free(l32);
    free(l33);
    return 0;
}

typedef struct bad_text {
    const char *what;
    const char *bytes;
    size_t len;
} bad_text;

static const bad_text bad_texts[] = {
    {"0xff", "\xff", 1},
    {"a lone continuation byte", "ab\x80", 3},
    {"a cut 3-byte sequence", "\xe4\xbd", 2},
    {"an overlong '/'", "\xc0\xaf", 2},
    {"an overlong 3-byte NUL", "\xe0\x80\x80", 3},
    {"a surrogate U+D800", "\xed\xa0\x80", 3},
    {"above U+10FFFF", "\xf4\x90\x80\x80", 4},
    {"U+0000 inside", "a\0b", 3},
    {"valid then 0xfe", "住方\xfe", 7},
};

/* Sends create / status.submit with one str argument replaced by bad bytes
 * and expects invalid_utf8 for that field. */
static int invalid_utf8_refused_with_its_field(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    int bad = 0;
    for (size_t i = 0; i < sizeof bad_texts / sizeof bad_texts[0]; i++) {
        const bad_text *t = &bad_texts[i];
        static const char *const fields[] = {"name", "township", "labels[1]", "note",
                                             "reporter", "name_contains"};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
            char cc[19];
            it_credit_code(g_code_n++, cc);
            it_buf b;
            it_buf_init(&b);
            uint32_t id = ++g_msgid;
            const char *fld = fields[f];
            if (strcmp(fld, "note") == 0 || strcmp(fld, "reporter") == 0) {
                it_req(&b, id, "status.submit", 5);
                it_kv_int(&b, "enterprise_id", g_eid);
                it_kv_str(&b, "report_date", "2024-01-02");
                it_kv_str(&b, "production_status", "正常");
                if (strcmp(fld, "note") == 0) {
                    it_kv_str(&b, "reporter", "张三");
                    it_kv_strn(&b, "note", t->bytes, t->len);
                } else {
                    it_kv_str(&b, "note", "好");
                    it_kv_strn(&b, "reporter", t->bytes, t->len);
                }
            } else if (strcmp(fld, "name_contains") == 0) {
                it_req(&b, id, "enterprise.list", 1);
                it_kv_strn(&b, "name_contains", t->bytes, t->len);
            } else {
                it_req(&b, id, "enterprise.create", 4);
                if (strcmp(fld, "name") == 0)
                    it_kv_strn(&b, "name", t->bytes, t->len);
                else
                    it_kv_str(&b, "name", "正常名称");
                it_kv_str(&b, "credit_code", cc);
                if (strcmp(fld, "township") == 0)
                    it_kv_strn(&b, "township", t->bytes, t->len);
                else
                    it_kv_str(&b, "township", "赤壁镇");
                it_str(&b, "labels");
                msgpack_pack_array(&b.pk, 2);
                it_str(&b, "规上");
                if (strcmp(fld, "labels[1]") == 0)
                    it_strn(&b, t->bytes, t->len);
                else
                    it_str(&b, "隐形冠军");
            }
            it_msg m;
            char d[800];
            int r = it_call(c, b.sb.data, b.sb.size, id, IT_REPLY_TIMEOUT_MS, &m);
            it_buf_free(&b);
            IT_CHECKF(r == IT_RECV_MSG, "%s in %s: no reply (recv %d)", t->what, fld, r);
            if (!(m.is_error && strcmp(m.code, "invalid_utf8") == 0 &&
                  strcmp(m.field, fld) == 0)) {
                it_note("%s in %s: expected invalid_utf8 field %s, got %s", t->what, fld, fld,
                        it_describe(&m, d, sizeof d));
                bad++;
            }
            it_msg_free(&m);
        }
    }
    IT_CHECKF(bad == 0, "%d case(s) wrong (see notes)", bad);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

static int invalid_utf8_map_key_refused(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 3, "enterprise.get", 2);
    it_kv_int(&b, "id", g_eid);
    it_strn(&b, "\xff\xfe", 2);
    msgpack_pack_int(&b.pk, 1);
    IT_CHECK(it_send(c, b.sb.data, b.sb.size) == 0);
    it_buf_free(&b);
    IT_CHECK(it_expect_error(c, 3, "invalid_utf8", NULL, IT_REPLY_TIMEOUT_MS) == 0);
    IT_CHECK(it_expect_alive(c) == 0);
    return 0;
}

static int control_characters_refused_except_newlines_in_note(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_msg m;
    char d[800];
    IT_CHECK(create(c, "换行\n名称", NULL, 0, &m) == IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "name") == 0,
              "newline in a name: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    IT_CHECK(create(c, "C1\xc2\x85控制", NULL, 0, &m) == IT_RECV_MSG);   /* U+0085 */
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "name") == 0,
              "U+0085 in a name: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, ++g_msgid, "status.submit", 5);
    it_kv_int(&b, "enterprise_id", g_eid);
    it_kv_str(&b, "report_date", "2024-01-03");
    it_kv_str(&b, "reporter", "张三");
    it_kv_str(&b, "production_status", "正常");
    it_kv_str(&b, "note", "响铃\a字符");
    IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
             IT_RECV_MSG);
    IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                  strcmp(m.field, "note") == 0,
              "BEL in a note: %s", it_describe(&m, d, sizeof d));
    it_msg_free(&m);
    it_buf_free(&b);
    return 0;
}

static int note_of_2000_characters_accepted_2001_refused(void)
{
    it_server *s = it_shared_server();
    IT_CHECK(s != NULL);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    char *ok = repeat("𠀀", 2000), *over = repeat("字", 2001);
    const char *notes[] = {ok, over};
    for (int i = 0; i < 2; i++) {
        it_buf b;
        it_buf_init(&b);
        it_req(&b, ++g_msgid, "status.submit", 5);
        it_kv_int(&b, "enterprise_id", g_eid);
        it_kv_str(&b, "report_date", "2024-01-04");
        it_kv_str(&b, "reporter", "张三");
        it_kv_str(&b, "production_status", "正常");
        it_kv_str(&b, "note", notes[i]);
        it_msg m;
        char d[800];
        IT_CHECK(it_call(c, b.sb.data, b.sb.size, g_msgid, IT_REPLY_TIMEOUT_MS, &m) ==
                 IT_RECV_MSG);
        it_buf_free(&b);
        if (i == 0)
            IT_CHECKF(!m.is_error && str_is(it_map_get(m.result, "note"), ok, strlen(ok)),
                      "2000 characters (8000 bytes): %s", it_describe(&m, d, sizeof d));
        else
            IT_CHECKF(m.is_error && strcmp(m.code, "invalid_argument") == 0 &&
                          strcmp(m.field, "note") == 0,
                      "2001 characters: %s", it_describe(&m, d, sizeof d));
        it_msg_free(&m);
    }
    free(ok);
    free(over);
    return 0;
}

static const it_test tests[] = {
    {"chinese_enterprise_round_trips_byte_exact", chinese_enterprise_round_trips_byte_exact},
    {"chinese_note_with_newlines_round_trips_byte_exact",
     chinese_note_with_newlines_round_trips_byte_exact},
    {"lengths_count_characters_not_bytes", lengths_count_characters_not_bytes},
    {"invalid_utf8_refused_with_its_field", invalid_utf8_refused_with_its_field},
    {"invalid_utf8_map_key_refused", invalid_utf8_map_key_refused},
    {"control_characters_refused_except_newlines_in_note",
     control_characters_refused_except_newlines_in_note},
    {"note_of_2000_characters_accepted_2001_refused",
     note_of_2000_characters_accepted_2001_refused},
};

int main(int argc, char **argv)
{
    return it_main(argc, argv, "utf8", tests, sizeof tests / sizeof tests[0], setup);
}
