/*
 * test_utf8.c: strict UTF-8 validation, character counting and control
 * character checks (proto/bb_utf8.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "bb_utf8.h"

static bool valid(const char *s, size_t len)
{
    return bb_utf8_valid(s, len);
}

#define VALID_LIT(lit) valid((lit), sizeof(lit) - 1)

static void chinese_text_is_valid(void **state)
{
    (void)state;
    assert_true(VALID_LIT("住方科技"));
    assert_true(VALID_LIT("赤壁镇高新技术产业园区"));
    assert_true(VALID_LIT("专精特新\"小巨人\""));
    assert_true(VALID_LIT("plain ascii"));
    assert_true(valid("", 0));
}

static void boundary_code_points_are_valid(void **state)
{
    (void)state;
    assert_true(VALID_LIT("\xc2\x80"));             /* U+0080 */
    assert_true(VALID_LIT("\xdf\xbf"));             /* U+07FF */
    assert_true(VALID_LIT("\xe0\xa0\x80"));         /* U+0800 */
    assert_true(VALID_LIT("\xed\x9f\xbf"));         /* U+D7FF */
    assert_true(VALID_LIT("\xee\x80\x80"));         /* U+E000 */
    assert_true(VALID_LIT("\xef\xbf\xbf"));         /* U+FFFF */
    assert_true(VALID_LIT("\xf0\x90\x80\x80"));     /* U+10000 */
    assert_true(VALID_LIT("\xf4\x8f\xbf\xbf"));     /* U+10FFFF */
    assert_true(VALID_LIT("\xf0\x9f\x98\x80"));     /* an emoji */
}

static void overlong_forms_are_refused(void **state)
{
    (void)state;
    assert_false(VALID_LIT("\xc0\x80"));
    assert_false(VALID_LIT("\xc1\xbf"));
    assert_false(VALID_LIT("\xe0\x80\x80"));
    assert_false(VALID_LIT("\xe0\x9f\xbf"));
    assert_false(VALID_LIT("\xf0\x80\x80\x80"));
    assert_false(VALID_LIT("\xf0\x8f\xbf\xbf"));
}

static void surrogates_are_refused(void **state)
{
    (void)state;
    assert_false(VALID_LIT("\xed\xa0\x80"));        /* U+D800 */
    assert_false(VALID_LIT("\xed\xbf\xbf"));        /* U+DFFF */
    assert_false(VALID_LIT("\xed\xa0\xbd\xed\xb8\x80")); /* CESU-8 pair */
}

static void above_10ffff_is_refused(void **state)
{
    (void)state;
    assert_false(VALID_LIT("\xf4\x90\x80\x80"));
    assert_false(VALID_LIT("\xf5\x80\x80\x80"));
    assert_false(VALID_LIT("\xff"));
    assert_false(VALID_LIT("\xfe"));
}

static void truncated_sequences_are_refused(void **state)
{
    (void)state;
    const char *s = "住方";                         /* 6 bytes */
    for (size_t cut = 1; cut < 6; cut++) {
        if (cut == 3)
            continue;                                /* a whole character */
        assert_false(valid(s, cut));
    }
    assert_true(valid(s, 3));
    assert_false(VALID_LIT("a\xe4\xbd"));
    assert_false(VALID_LIT("\xf0\x9f\x98"));
    /* A lone continuation byte, and a lead byte followed by ASCII. */
    assert_false(VALID_LIT("\x80"));
    assert_false(VALID_LIT("\xe4" "a" "\x8f"));
}

static void nul_byte_is_refused(void **state)
{
    (void)state;
    assert_false(valid("a\0b", 3));
    assert_false(valid("\0", 1));
    assert_true(valid("a\0b", 1));                  /* len stops before it */
}

static void char_count_counts_code_points(void **state)
{
    (void)state;
    const char *s = "住方科技";
    assert_int_equal(strlen(s), 12);
    assert_int_equal(bb_utf8_chars(s, strlen(s)), 4);
    assert_int_equal(bb_utf8_chars("abc", 3), 3);
    assert_int_equal(bb_utf8_chars("a住\xf0\x9f\x98\x80", 8), 3);
    assert_int_equal(bb_utf8_chars("", 0), 0);
}

static void next_decodes_code_points(void **state)
{
    (void)state;
    const char *s = "a住\xf0\x9f\x98\x80\xc2\x85";
    size_t len = strlen(s), i = 0;
    assert_int_equal(bb_utf8_next(s, len, &i), 'a');
    assert_int_equal(i, 1);
    assert_int_equal(bb_utf8_next(s, len, &i), 0x4f4f);   /* 住 */
    assert_int_equal(i, 4);
    assert_int_equal(bb_utf8_next(s, len, &i), 0x1f600);
    assert_int_equal(i, 8);
    assert_int_equal(bb_utf8_next(s, len, &i), 0x85);
    assert_int_equal(i, len);
    assert_int_equal(bb_utf8_next(s, len, &i), 0);
    assert_int_equal(i, len);
}

#define HAS_CONTROL(lit, nl) bb_utf8_has_control((lit), sizeof(lit) - 1, (nl))

static void c0_and_del_are_control(void **state)
{
    (void)state;
    assert_true(HAS_CONTROL("a\x01", false));
    assert_true(HAS_CONTROL("\x1f", false));
    assert_true(HAS_CONTROL("x\x7fy", false));
    assert_true(HAS_CONTROL("\x1b[31m", true));     /* ESC even where newlines are allowed */
    assert_true(HAS_CONTROL("\x7f", true));
    assert_true(bb_utf8_has_control("a\0", 2, true));
}

static void c1_is_control(void **state)
{
    (void)state;
    assert_true(HAS_CONTROL("\xc2\x80", false));    /* U+0080 */
    assert_true(HAS_CONTROL("a\xc2\x85" "b", true)); /* U+0085 NEL */
    assert_true(HAS_CONTROL("\xc2\x9f", false));    /* U+009F */
    assert_false(HAS_CONTROL("\xc2\xa0", false));   /* U+00A0 no-break space */
}

static void newline_tab_allowed_only_when_asked(void **state)
{
    (void)state;
    assert_true(HAS_CONTROL("line1\nline2", false));
    assert_true(HAS_CONTROL("a\rb", false));
    assert_true(HAS_CONTROL("a\tb", false));
    assert_false(HAS_CONTROL("line1\nline2\r\n\tx", true));
}

static void plain_text_has_no_control(void **state)
{
    (void)state;
    assert_false(HAS_CONTROL("住方科技 Ltd. ~", false));
    assert_false(HAS_CONTROL("", false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chinese_text_is_valid),
        cmocka_unit_test(boundary_code_points_are_valid),
        cmocka_unit_test(overlong_forms_are_refused),
        cmocka_unit_test(surrogates_are_refused),
        cmocka_unit_test(above_10ffff_is_refused),
        cmocka_unit_test(truncated_sequences_are_refused),
        cmocka_unit_test(nul_byte_is_refused),
        cmocka_unit_test(char_count_counts_code_points),
        cmocka_unit_test(next_decodes_code_points),
        cmocka_unit_test(c0_and_del_are_control),
        cmocka_unit_test(c1_is_control),
        cmocka_unit_test(newline_tab_allowed_only_when_asked),
        cmocka_unit_test(plain_text_has_no_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
