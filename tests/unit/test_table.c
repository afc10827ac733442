/*
 * test_table.c: the CLI's text helpers (client/table.c, json.c, money.c).
 *
 * Pins down: display width (ASCII 1, Chinese 2, fullwidth forms 2,
 * combining marks 0, invalid bytes 1), that a table with Chinese cells
 * lines up (every column starts at the same display column on every line,
 * no trailing spaces), that cells cannot carry control characters to the
 * terminal, field blocks, JSON escaping (quotes, backslashes, control
 * characters, UTF-8 passed through, invalid bytes replaced), and money
 * formatting and parsing. Not for: anything that needs a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "money.h"
#include "table.h"

/* ---- display width ---- */

static void test_width_ascii(void **state)
{
    (void)state;
    assert_int_equal(text_widthz(""), 0);
    assert_int_equal(text_widthz("abc"), 3);
    assert_int_equal(text_widthz("914403001922038216"), 18);
    assert_int_equal(text_cp_width('A'), 1);
}

static void test_width_chinese(void **state)
{
    (void)state;
    assert_int_equal(text_widthz("赤壁镇"), 6);
    assert_int_equal(text_widthz("高新技术产业园区"), 16);
    assert_int_equal(text_cp_width(0x4E00), 2);     /* 一, CJK Unified Ideographs */
    assert_int_equal(text_cp_width(0x9FFF), 2);
    assert_int_equal(text_cp_width(0x3400), 2);     /* Extension A */
    assert_int_equal(text_cp_width(0x20000), 2);    /* Extension B */
    assert_int_equal(text_cp_width(0x3001), 2);     /* 、 CJK punctuation */
    assert_int_equal(text_cp_width(0x3002), 2);     /* 。 */
    assert_int_equal(text_cp_width(0x3042), 2);     /* あ Hiragana */
    assert_int_equal(text_cp_width(0x30A2), 2);     /* ア Katakana */
    assert_int_equal(text_cp_width(0xAC00), 2);     /* 가 Hangul */
    assert_int_equal(text_cp_width(0x1100), 2);     /* Hangul Jamo lead */
}

static void test_width_mixed(void **state)
{
    (void)state;
    assert_int_equal(text_widthz("住方科技 Ltd"), 12);
    assert_int_equal(text_widthz("专精特新\"小巨人\""), 16);
    assert_int_equal(text_widthz("A1栋3楼"), 7);
}

static void test_width_fullwidth_forms(void **state)
{
    (void)state;
    assert_int_equal(text_widthz("ＡＢＣ"), 6);       /* U+FF21.. */
    assert_int_equal(text_widthz("，！"), 4);         /* U+FF0C, U+FF01 */
    assert_int_equal(text_cp_width(0xFF01), 2);
    assert_int_equal(text_cp_width(0xFF60), 2);
    assert_int_equal(text_cp_width(0xFF61), 1);     /* halfwidth ｡ */
    assert_int_equal(text_cp_width(0xFF9E), 1);     /* halfwidth katakana mark */
    assert_int_equal(text_cp_width(0xFFE0), 2);     /* ￠ */
    assert_int_equal(text_cp_width(0xFFE6), 2);     /* ￦ */
    assert_int_equal(text_cp_width(0xFFE8), 1);     /* halfwidth form */
}

static void test_width_combining_marks(void **state)
{
    (void)state;
    assert_int_equal(text_widthz("e\xCC\x81"), 1);          /* e + U+0301 */
    assert_int_equal(text_widthz("a\xCC\x80\xCC\x81"), 1);  /* two marks */
    assert_int_equal(text_cp_width(0x0301), 0);
    assert_int_equal(text_cp_width(0x200B), 0);     /* zero width space */
    assert_int_equal(text_cp_width(0xFE0F), 0);     /* variation selector */
    assert_int_equal(text_cp_width(0x3099), 0);     /* combining kana voiced mark */
    assert_int_equal(text_widthz("\xE3\x81\x8B\xE3\x82\x99"), 2);  /* か + U+3099 */
}

static void test_width_invalid_and_control(void **state)
{
    (void)state;
    assert_int_equal(text_widthz("a\xFF" "b"), 3);           /* invalid byte: 1 */
    assert_int_equal(text_widthz("\xE8\xB5"), 2);            /* cut sequence: 1 per byte */
    assert_int_equal(text_cp_width('\n'), 0);
    assert_int_equal(text_cp_width(0x85), 0);                /* C1 */
}

/* ---- cells ---- */

static void test_cell_removes_controls(void **state)
{
    (void)state;
    char *c = text_cell("第一行\n第二行\tx\x1b[31m", 0);
    assert_non_null(c);
    assert_string_equal(c, "第一行 第二行 x [31m");
    free(c);
    c = text_cell("a\xFF", 0);
    assert_string_equal(c, "a\xEF\xBF\xBD");
    free(c);
}

static void test_cell_cuts_by_width(void **state)
{
    (void)state;
    char *c = text_cell("赤壁市高新技术产业园区", 9);
    assert_non_null(c);
    assert_true(text_widthz(c) <= 9);
    assert_string_equal(c, "赤壁市高\xE2\x80\xA6");   /* 8 columns + "…" */
    free(c);
    c = text_cell("short", 9);
    assert_string_equal(c, "short");
    free(c);
}

/* ---- tables ---- */

/* Splits s into lines (s is modified); returns the count. */
static size_t split_lines(char *s, char **lines, size_t max)
{
    size_t n = 0;
    char *p = s;
    while (*p != '\0' && n < max) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);           /* every line ends in "\n" */
        *nl = '\0';
        lines[n++] = p;
        p = nl + 1;
    }
    return n;
}

/* The display column where `cell` starts in `line`, searching from byte
 * *from; advances *from past it. */
static size_t col_of(const char *line, const char *cell, size_t *from)
{
    const char *at = strstr(line + *from, cell);
    assert_non_null(at);
    *from = (size_t)(at - line) + strlen(cell);
    return text_width(line, (size_t)(at - line));
}

static void test_table_chinese_lines_up(void **state)
{
    (void)state;
    table *t = table_new(4);
    assert_non_null(t);
    table_set_align(t, 0, TABLE_RIGHT);
    const char *rows[][4] = {
        { "ID", "NAME", "TOWNSHIP", "STATUS" },
        { "7", "住方科技", "赤壁镇", "在营" },
        { "42", "Acme Ltd", "高新技术产业园区", "半停产" },
        { "1234", "龙兴无纺布（龙兴非织造）", "蒲圻街道", "筹建" },
        { "5", "ＦＵＬＬ", "x", "注销" },
    };
    size_t nrows = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < nrows; i++)
        assert_int_equal(table_add_row(t, rows[i]), 0);
    size_t len;
    char *out = table_render(t, &len);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    char *lines[8];
    assert_int_equal(split_lines(out, lines, 8), nrows);
    /* Every column starts at the same display column on every line. */
    size_t start[4] = { 0 };
    for (size_t r = 0; r < nrows; r++) {
        size_t from = 0;
        for (size_t c = 1; c < 4; c++) {
            size_t col = col_of(lines[r], rows[r][c], &from);
            if (r == 0)
                start[c] = col;
            else
                assert_int_equal(col, start[c]);
        }
        /* The right-aligned first column ends at the same column. */
        const char *id = strstr(lines[r], rows[r][0]);
        assert_non_null(id);
        assert_int_equal(text_width(lines[r], (size_t)(id - lines[r])) +
                             text_widthz(rows[r][0]),
                         4);
        /* No trailing spaces. */
        size_t ll = strlen(lines[r]);
        assert_true(ll > 0 && lines[r][ll - 1] != ' ');
    }
    /* The widest name is 24 columns: the township column starts 2 after. */
    assert_int_equal(start[2], start[1] + 24 + 2);
    free(out);
    table_free(t);
}

static void test_table_cells_without_controls(void **state)
{
    (void)state;
    table *t = table_new(2);
    const char *h[] = { "A", "B" };
    const char *r[] = { "x\ny", NULL };
    assert_int_equal(table_add_row(t, h), 0);
    assert_int_equal(table_add_row(t, r), 0);
    char *out = table_render(t, NULL);
    assert_string_equal(out, "A    B\nx y\n");
    free(out);
    table_free(t);
}

static void test_fields_align_values(void **state)
{
    (void)state;
    const char *names[] = { "id", "credit_code", "备注" };
    const char *values[] = { "42", "914403001922038216", "第一行\n第二行" };
    char *out = fields_render(names, values, 3);
    assert_non_null(out);
    assert_string_equal(out,
                        "id:          42\n"
                        "credit_code: 914403001922038216\n"
                        "备注:        第一行\n"
                        "             第二行\n");
    free(out);
}

/* ---- JSON ---- */

static char *json_of_str(const char *s, size_t len)
{
    json_out j;
    json_out_init(&j);
    json_string(&j, s, len);
    assert_false(j.failed);
    return j.data;
}

static void test_json_escapes_quotes_and_backslash(void **state)
{
    (void)state;
    char *s = json_of_str("专精特新\"小巨人\" a\\b", strlen("专精特新\"小巨人\" a\\b"));
    assert_string_equal(s, "\"专精特新\\\"小巨人\\\" a\\\\b\"");
    free(s);
}

static void test_json_escapes_control_characters(void **state)
{
    (void)state;
    const char in[] = "a\nb\rc\td\be\ff\x01g\x1fh\x7f";
    char *s = json_of_str(in, sizeof in - 1);
    assert_string_equal(s, "\"a\\nb\\rc\\td\\be\\ff\\u0001g\\u001fh\\u007f\"");
    free(s);
    const char nul[] = { 'x', '\0', 'y' };
    s = json_of_str(nul, 3);
    assert_string_equal(s, "\"x\\u0000y\"");
    free(s);
    s = json_of_str("\xC2\x85|\xE2\x80\xA8", 6);   /* U+0085, U+2028 */
    assert_string_equal(s, "\"\\u0085|\\u2028\"");
    free(s);
}

static void test_json_passes_utf8_through(void **state)
{
    (void)state;
    const char *in = "赤壁镇 青砖茶 😀 ＡＢＣ é";
    char *s = json_of_str(in, strlen(in));
    char want[128];
    snprintf(want, sizeof want, "\"%s\"", in);
    assert_string_equal(s, want);
    free(s);
}

static void test_json_replaces_invalid_utf8(void **state)
{
    (void)state;
    char *s = json_of_str("a\xFF" "b\xED\xA0\x80", 6);   /* 0xFF, a surrogate */
    assert_string_equal(s, "\"a\\ufffdb\\ufffd\\ufffd\\ufffd\"");
    free(s);
}

static void test_json_value_of_a_reply(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    msgpack_pack_str_with_body(&pk, "id", 2);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "neg", 3);
    msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_str_with_body(&pk, "cluster", 7);
    msgpack_pack_nil(&pk);
    msgpack_pack_str_with_body(&pk, "ok", 2);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "labels", 6);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_str_with_body(&pk, "规上", strlen("规上"));
    msgpack_pack_str_with_body(&pk, "a\"b", 3);
    msgpack_pack_int(&pk, 7);   /* a key that is not a str */
    msgpack_pack_array(&pk, 0);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, sb.data, sb.size, &off), MSGPACK_UNPACK_SUCCESS);
    json_out j;
    json_out_init(&j);
    json_value(&j, &up.data, -1);
    assert_false(j.failed);
    assert_string_equal(j.data,
                        "{\"id\":18446744073709551615,\"neg\":-9223372036854775808,"
                        "\"cluster\":null,\"ok\":true,\"labels\":[\"规上\",\"a\\\"b\"],"
                        "\"7\":[]}");
    json_out_free(&j);
    json_out_init(&j);
    json_value(&j, &up.data.via.map.ptr[4].val, 2);
    assert_string_equal(j.data, "[\n  \"规上\",\n  \"a\\\"b\"\n]");
    json_out_free(&j);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- money ---- */

static void test_money_format(void **state)
{
    (void)state;
    char b[MONEY_BUF];
    money_yuan(0, b, sizeof b);
    assert_string_equal(b, "0");
    money_yuan(999, b, sizeof b);
    assert_string_equal(b, "999");
    money_yuan(1000, b, sizeof b);
    assert_string_equal(b, "1,000");
    money_yuan(1234567, b, sizeof b);
    assert_string_equal(b, "1,234,567");
    money_yuan(-1234567, b, sizeof b);
    assert_string_equal(b, "-1,234,567");
    money_yuan(INT64_MIN, b, sizeof b);
    assert_string_equal(b, "-9,223,372,036,854,775,808");
    money_wan(1234567, b, sizeof b);
    assert_string_equal(b, "123.4567");
    money_wan(50000, b, sizeof b);
    assert_string_equal(b, "5");
    money_wan(1, b, sizeof b);
    assert_string_equal(b, "0.0001");
    money_wan(3000000000, b, sizeof b);   /* 30亿元 */
    assert_string_equal(b, "300000");
}

static void test_money_parse(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(money_parse("1234567", &v), 0);
    assert_int_equal(v, 1234567);
    assert_int_equal(money_parse("1,234,567元", &v), 0);
    assert_int_equal(v, 1234567);
    assert_int_equal(money_parse("123.45万", &v), 0);
    assert_int_equal(v, 1234500);
    assert_int_equal(money_parse("5.2亿元", &v), 0);
    assert_int_equal(v, 520000000);
    assert_int_equal(money_parse("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(money_parse("1.00", &v), 0);   /* only zeros past the yuan */
    assert_int_equal(v, 1);
    assert_int_equal(money_parse("1.50", &v), -1);
    assert_int_equal(money_parse("1.5", &v), -1);    /* half a yuan */
    assert_int_equal(money_parse("1.00001万", &v), -1);
    assert_int_equal(money_parse("", &v), -1);
    assert_int_equal(money_parse("12abc", &v), -1);
    assert_int_equal(money_parse("1,", &v), -1);
    assert_int_equal(money_parse("99999999999999999999", &v), -1);
    assert_int_equal(money_parse("1000000000000亿", &v), -1);   /* past int64 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_width_ascii),
        cmocka_unit_test(test_width_chinese),
        cmocka_unit_test(test_width_mixed),
        cmocka_unit_test(test_width_fullwidth_forms),
        cmocka_unit_test(test_width_combining_marks),
        cmocka_unit_test(test_width_invalid_and_control),
        cmocka_unit_test(test_cell_removes_controls),
        cmocka_unit_test(test_cell_cuts_by_width),
        cmocka_unit_test(test_table_chinese_lines_up),
        cmocka_unit_test(test_table_cells_without_controls),
        cmocka_unit_test(test_fields_align_values),
        cmocka_unit_test(test_json_escapes_quotes_and_backslash),
        cmocka_unit_test(test_json_escapes_control_characters),
        cmocka_unit_test(test_json_passes_utf8_through),
        cmocka_unit_test(test_json_replaces_invalid_utf8),
        cmocka_unit_test(test_json_value_of_a_reply),
        cmocka_unit_test(test_money_format),
        cmocka_unit_test(test_money_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
