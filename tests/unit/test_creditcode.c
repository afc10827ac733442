/*
 * test_creditcode.c: the unified social credit code check (proto/bb_creditcode.c)
 * against PROTOCOL.md's "Credit code" rules.
 *
 * Real codes pass; each rule, broken alone, fails with its own result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bb_creditcode.h"

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static bb_cc_result check(const char *s)
{
    return bb_creditcode_check(s, strlen(s));
}

/* The code with its 18th character replaced by c. */
static void with_last(char out[19], const char *code, char c)
{
    memcpy(out, code, 18);
    out[17] = c;
    out[18] = '\0';
}

/* The check character of s17[0..17), computed here without bb_creditcode.c. */
static char expected_check(const char *s17)
{
    static const unsigned w[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10,
                                   30, 28};
    unsigned sum = 0;
    for (int i = 0; i < 17; i++) {
        const char *p = strchr(alphabet, s17[i]);
        assert_non_null(p);
        sum += (unsigned)(p - alphabet) * w[i];
    }
    return alphabet[(31 - sum % 31) % 31];
}

/* Every alphabet character other than the right one as the check fails. */
static void assert_only_check_char_passes(const char *code)
{
    char buf[19];
    int passes = 0;
    for (const char *a = alphabet; *a; a++) {
        with_last(buf, code, *a);
        bb_cc_result r = check(buf);
        if (*a == code[17]) {
            assert_int_equal(r, BB_CC_OK);
            passes++;
        } else {
            assert_int_equal(r, BB_CC_BAD_CHECK);
        }
    }
    assert_int_equal(passes, 1);
}

static void real_codes_pass(void **state)
{
    (void)state;
    assert_int_equal(check("914403001922038216"), BB_CC_OK);
    assert_int_equal(check("9144030071526726XG"), BB_CC_OK);
    assert_int_equal(check("91330100716105852F"), BB_CC_OK);
}

static void wrong_check_character_fails_bad_check(void **state)
{
    (void)state;
    assert_only_check_char_passes("914403001922038216");
    assert_only_check_char_passes("9144030071526726XG");
    assert_only_check_char_passes("91330100716105852F");
    /* The example of PROTOCOL.md section 7. */
    assert_int_equal(check("914403001922038217"), BB_CC_BAD_CHECK);
}

static void letters_outside_alphabet_fail_bad_character(void **state)
{
    (void)state;
    const char *bad = "IOSVZ";
    char buf[19];
    for (const char *c = bad; *c; c++) {
        /* In the organisation part, where letters are allowed. */
        memcpy(buf, "9144030071526726XG", 19);
        buf[10] = *c;
        assert_int_equal(check(buf), BB_CC_BAD_CHARACTER);
        /* As the check character. */
        with_last(buf, "914403001922038216", *c);
        assert_int_equal(check(buf), BB_CC_BAD_CHARACTER);
    }
}

static void lower_case_fails_bad_character(void **state)
{
    (void)state;
    assert_int_equal(check("9144030071526726xg"), BB_CC_BAD_CHARACTER);
    assert_int_equal(check("91330100716105852f"), BB_CC_BAD_CHARACTER);
}

static void other_bytes_fail_bad_character(void **state)
{
    (void)state;
    assert_int_equal(check("91440300192203821-"), BB_CC_BAD_CHARACTER);
    assert_int_equal(check("9144030019220382 6"), BB_CC_BAD_CHARACTER);
    /* 17 ASCII characters and one Chinese one: 18 characters, 20 bytes. */
    assert_int_equal(check("91440300192203821赤"), BB_CC_BAD_CHARACTER);
    /* A valid code and a stray continuation byte: 18 "characters", 19 bytes. */
    assert_int_equal(check("914403001922038216\x80"), BB_CC_BAD_CHARACTER);
}

static void wrong_length_fails_bad_length(void **state)
{
    (void)state;
    assert_int_equal(check("91440300192203821"), BB_CC_BAD_LENGTH);
    assert_int_equal(check("9144030019220382160"), BB_CC_BAD_LENGTH);
    assert_int_equal(check(""), BB_CC_BAD_LENGTH);
    assert_int_equal(bb_creditcode_check(NULL, 0), BB_CC_BAD_LENGTH);
    /* Length is checked before characters. */
    assert_int_equal(check("i1440300192203821"), BB_CC_BAD_LENGTH);
}

static void id_card_numbers_fail(void **state)
{
    (void)state;
    /* Their 3rd-4th digits are a prefecture ("01"), not a province. */
    assert_int_equal(check("11010519491231002X"), BB_CC_BAD_REGION);
    assert_int_equal(check("420102199003071234"), BB_CC_BAD_REGION);
}

static void bad_authority_fails(void **state)
{
    (void)state;
    /* 1st '0' or a letter other than A, N, Y; 2nd not 1-9. */
    assert_int_equal(check("014403001922038216"), BB_CC_BAD_AUTHORITY);
    assert_int_equal(check("B14403001922038216"), BB_CC_BAD_AUTHORITY);
    assert_int_equal(check("904403001922038216"), BB_CC_BAD_AUTHORITY);
    assert_int_equal(check("9A4403001922038216"), BB_CC_BAD_AUTHORITY);
}

static void every_registering_authority_passes(void **state)
{
    (void)state;
    const char *authorities = "123456789ANY";
    for (const char *a = authorities; *a; a++) {
        char code[19];
        memcpy(code, "X9421281MA4FE1KM2", 17);
        code[0] = *a;
        code[17] = expected_check(code);
        code[18] = '\0';
        if (check(code) != BB_CC_OK)
            fail_msg("authority %c refused: %s", *a, code);
    }
}

static void bad_region_fails(void **state)
{
    (void)state;
    assert_int_equal(check("91A403001922038216"), BB_CC_BAD_REGION);  /* not digits */
    assert_int_equal(check("914403A01922038216"), BB_CC_BAD_REGION);
    assert_int_equal(check("911603001922038216"), BB_CC_BAD_REGION);  /* 16 no province */
    assert_int_equal(check("919903001922038216"), BB_CC_BAD_REGION);
}

/* The first 17 characters of "91421281000000000" with the last one chosen so
 * that the check value is 0. */
static void make_zero_check_code(char out[19])
{
    for (const char *a = alphabet; *a; a++) {
        memcpy(out, "914212810000000000", 19);
        out[16] = *a;
        out[17] = '0';
        if (check(out) == BB_CC_OK)
            return;
    }
    fail_msg("no last organisation character gives check value 0");
}

static void check_value_zero_is_character_0(void **state)
{
    (void)state;
    char code[19];
    make_zero_check_code(code);
    assert_int_equal(check(code), BB_CC_OK);
    assert_int_equal(code[17], '0');
    assert_only_check_char_passes(code);
}

static void chibi_code_passes(void **state)
{
    (void)state;
    /* Region 421281 (赤壁市). Values 9,1,4,2,1,2,8,1,M=21,A=10,4,F=15,E=14,
     * 1,K=19,M=21,2 weighted: sum 2335, 2335 mod 31 = 10, 31 - 10 = 21 = 'M'.
     * The loop recomputes it without bb_creditcode.c. */
    const char *code = "91421281MA4FE1KM2M";
    assert_int_equal(expected_check(code), code[17]);
    assert_int_equal(check(code), BB_CC_OK);
    assert_only_check_char_passes(code);
    assert_int_equal(check("91421281MA4U9AL7LX"), BB_CC_OK);
}

static void reasons_are_short_english(void **state)
{
    (void)state;
    assert_string_equal(bb_creditcode_reason(BB_CC_BAD_LENGTH), "must be 18 characters");
    assert_string_equal(bb_creditcode_reason(BB_CC_BAD_CHECK), "check character does not match");
    assert_non_null(strstr(bb_creditcode_reason(BB_CC_BAD_CHARACTER), "I, O, S, V, Z"));
    assert_non_null(bb_creditcode_reason(BB_CC_BAD_AUTHORITY));
    assert_non_null(bb_creditcode_reason(BB_CC_BAD_REGION));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_codes_pass),
        cmocka_unit_test(wrong_check_character_fails_bad_check),
        cmocka_unit_test(letters_outside_alphabet_fail_bad_character),
        cmocka_unit_test(lower_case_fails_bad_character),
        cmocka_unit_test(other_bytes_fail_bad_character),
        cmocka_unit_test(wrong_length_fails_bad_length),
        cmocka_unit_test(id_card_numbers_fail),
        cmocka_unit_test(bad_authority_fails),
        cmocka_unit_test(every_registering_authority_passes),
        cmocka_unit_test(bad_region_fails),
        cmocka_unit_test(check_value_zero_is_character_0),
        cmocka_unit_test(chibi_code_passes),
        cmocka_unit_test(reasons_are_short_english),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
