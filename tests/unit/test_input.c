/*
 * test_input.c: forgiving input (client/input.h, proto/bb_space.h) and
 * the packer that applies it by an argument's type (client/args.c): every
 * form a person may type for a number, a date, yes/no and a text, what is
 * refused and why, and what the packer sends.
 *
 * Not for: what the server does with the values (tests/integration/
 * test_cli_input.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bb_space.h"
#include "client_int.h"
#include "input.h"

#include <string.h>

#define WHY 200

/* ---- spaces ---- */

static void trims_ascii_and_unicode_spaces(void **state)
{
    (void)state;
    char out[64];
    /* U+3000 ideographic, U+00A0 no-break, U+2003 em, U+FEFF BOM */
    const char *s = "\xe3\x80\x80 \xc2\xa0赵李桥\xe2\x80\x83\xef\xbb\xbf ";
    bbi_input_clean(s, strlen(s), false, out);
    assert_string_equal(out, "赵李桥");
    /* Tabs and line breaks are not spaces: a one-line value that has them
     * is refused by the server as it stands, never quietly cut. */
    s = "\t 王五\r\n";
    bbi_input_clean(s, strlen(s), false, out);
    assert_string_equal(out, "\t 王五\r\n");
    /* Inside spaces stay. */
    s = "  张 三 ";
    bbi_input_clean(s, strlen(s), false, out);
    assert_string_equal(out, "张 三");
}

static void long_text_keeps_its_line_breaks_at_the_ends(void **state)
{
    (void)state;
    char out[64];
    const char *s = "\xe3\x80\x80 第一行\n第二行\n ";
    bbi_input_clean(s, strlen(s), false, out);
    assert_string_equal(out, "第一行\n第二行\n");
}

static void blank_and_trim_of_nothing(void **state)
{
    (void)state;
    size_t start;
    assert_int_equal(bb_trim("\xe3\x80\x80", 3, &start), 0);
    assert_int_equal(bb_trim("", 0, &start), 0);
    /* only the spaces go: a tab or a line break stays for the checks */
    assert_int_equal(bb_trim(" \tx\n\xe3\x80\x80", 7, &start), 3);   /* "\tx\n" */
    assert_int_equal(start, 1);
    assert_true(bb_blank("\xe3\x80\x80 \t\n", 6));
    assert_true(bb_blank("", 0));
    assert_false(bb_blank(" x ", 3));
    assert_true(bb_is_space(0x3000));
    assert_true(bb_is_space(0x00a0));
    assert_false(bb_is_space('\n'));
    assert_true(bb_is_blank('\n'));
    assert_false(bb_is_blank(0x4e00));
}

static void machine_forms_fold_full_width(void **state)
{
    (void)state;
    char out[64];
    /* ８５６ 万 with U+3000 inside; ＡＢ１２; the full-width comma */
    const char *s = "\xef\xbc\x98\xef\xbc\x95\xef\xbc\x96\xe3\x80\x80万";
    bbi_input_clean(s, strlen(s), true, out);
    assert_string_equal(out, "856 万");
    s = "ＡＢ１２，ｘｙ";
    bbi_input_clean(s, strlen(s), true, out);
    assert_string_equal(out, "AB12,xy");
    /* Free text keeps its full-width punctuation and letters. */
    s = "赤壁（中国）ＡＢ有限公司";
    bbi_input_clean(s, strlen(s), false, out);
    assert_string_equal(out, s);
}

/* ---- integers ---- */

static int64_t int_ok(const char *text)
{
    int64_t v = -7;
    char why[WHY] = "";
    int rc = bbi_input_int(text, &v, why, sizeof why);
    if (rc != BBI_IN_OK)
        fail_msg("\"%s\" refused: %s", text, why);
    return v;
}

static void reads_every_integer_form(void **state)
{
    (void)state;
    assert_int_equal(int_ok("856"), 856);
    assert_int_equal(int_ok("-3"), -3);
    assert_int_equal(int_ok("856万"), 8560000);
    assert_int_equal(int_ok("856 万元"), 8560000);
    assert_int_equal(int_ok("856　万元"), 8560000);          /* U+3000 */
    assert_int_equal(int_ok("1.2亿"), 120000000);
    assert_int_equal(int_ok("1.2亿元"), 120000000);
    assert_int_equal(int_ok("1,234,567"), 1234567);
    assert_int_equal(int_ok("1,234,567元"), 1234567);
    assert_int_equal(int_ok("８５６万"), 8560000);
    assert_int_equal(int_ok("１，２３４"), 1234);
    assert_int_equal(int_ok("12.5万"), 125000);
    assert_int_equal(int_ok("１２．５万"), 125000);
    assert_int_equal(int_ok("12.3456万"), 123456);
    assert_int_equal(int_ok(" 42 "), 42);
    assert_int_equal(int_ok("\xe3\x80\x80" "42\xe3\x80\x80"), 42);
    assert_int_equal(int_ok("1.00"), 1);                     /* zeros past the units */
    assert_int_equal(int_ok("0"), 0);
    assert_int_equal(int_ok("9223372036854775807"), INT64_MAX);
    assert_int_equal(int_ok("-9223372036854775808"), INT64_MIN);
    assert_int_equal(int_ok("922亿"), INT64_C(92200000000));
}

static void refuses_fractions_with_a_reason(void **state)
{
    (void)state;
    int64_t v;
    char why[WHY];
    assert_int_equal(bbi_input_int("12.5", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "not a whole number"));
    assert_int_equal(bbi_input_int("1.00001万", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "not a whole number"));
    assert_non_null(strstr(why, "4 decimal places"));
    assert_int_equal(bbi_input_int("1.000000001亿", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "8 decimal places"));
}

static void refuses_what_is_no_number(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "   ", "很多", "12abc", "1,", ",1", "1..2", "1.", ".5", "1.2.3", "万", "-", "--5",
        "+5", "5万万", "5 万 元", "一万", "0x10", "1e3",
    };
    int64_t v;
    char why[WHY];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (bbi_input_int(bad[i], &v, why, sizeof why) != BBI_IN_BAD)
            fail_msg("\"%s\" read as %lld", bad[i], (long long)v);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(bbi_input_int("很多", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "not a number"));
    assert_non_null(strstr(why, "856万"));   /* the forms it takes */
}

/* A group separator stands only between groups of three digits: a comma
 * typed for a decimal point (1,5 or 1，5万 from a Chinese keyboard) is
 * refused with the reason, never read as 15 or 150000. */
static void group_separators_only_between_groups_of_three(void **state)
{
    (void)state;
    assert_int_equal(int_ok("1,234"), 1234);
    assert_int_equal(int_ok("12,345,678"), 12345678);
    assert_int_equal(int_ok("123,456"), 123456);
    assert_int_equal(int_ok("1_234_567"), 1234567);
    assert_int_equal(int_ok("-1,234"), -1234);
    assert_int_equal(int_ok("1,500万"), 15000000);
    assert_int_equal(int_ok("1,234.5万"), 12345000);
    assert_int_equal(int_ok("１，５００万"), 15000000);
    static const char *const bad[] = {
        "1,5", "1，5万", "1,5万", "12,34", "1,2345", "1234,567", "1,234,56", "1,23,456",
        "1,234_567", "1_234,567", "1.2,345万", "1,234.5,6",
    };
    int64_t v;
    char why[WHY];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (bbi_input_int(bad[i], &v, why, sizeof why) != BBI_IN_BAD)
            fail_msg("\"%s\" read as %lld", bad[i], (long long)v);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(bbi_input_int("1，5万", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "\"1,5万\" is not a number"));
    assert_non_null(strstr(why, "groups of three digits"));
}

static void refuses_what_int64_cannot_hold(void **state)
{
    (void)state;
    int64_t v;
    char why[WHY];
    assert_int_equal(bbi_input_int("9223372036854775808", &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "too large"));
    assert_int_equal(bbi_input_int("99999999999999999999", &v, why, sizeof why), BBI_IN_BAD);
    assert_int_equal(bbi_input_int("1000000000000亿", &v, why, sizeof why), BBI_IN_BAD);
    assert_int_equal(bbi_input_int("-9223372036854775809", &v, why, sizeof why), BBI_IN_BAD);
    /* A text longer than any number or date (input.c's FORM_MAX) is none,
     * even when it would fold to one. */
    char longer[300];
    memset(longer, '0', sizeof longer - 2);
    longer[sizeof longer - 2] = '1';
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(bbi_input_int(longer, &v, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "not a number"));
    char out[BBI_DATE_BUF];
    assert_int_equal(bbi_input_date(longer, NULL, out, why, sizeof why), BBI_IN_BAD);
}

/* ---- dates ---- */

static const char *date_ok(const char *text, const char *today)
{
    static char out[BBI_DATE_BUF];
    char why[WHY] = "";
    memset(out, 0, sizeof out);
    if (bbi_input_date(text, today, out, why, sizeof why) != BBI_IN_OK)
        fail_msg("\"%s\" refused: %s", text, why);
    return out;
}

static void reads_every_date_form(void **state)
{
    (void)state;
    const char *t = "2026-12-07";
    assert_string_equal(date_ok("2026-12-05", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026/12/5", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026.12.5", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026-1-5", NULL), "2026-01-05");
    assert_string_equal(date_ok("20261205", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026年12月5日", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026年12月5号", NULL), "2026-12-05");
    assert_string_equal(date_ok("2026年12月5", NULL), "2026-12-05");
    assert_string_equal(date_ok("２０２６年１２月５日", NULL), "2026-12-05");
    assert_string_equal(date_ok("２０２６－１２－０５", NULL), "2026-12-05");
    assert_string_equal(date_ok("\xe3\x80\x80" "2026-12-05 ", NULL), "2026-12-05");
    assert_string_equal(date_ok("12月5日", t), "2026-12-05");
    assert_string_equal(date_ok("1月31日", t), "2026-01-31");
    assert_string_equal(date_ok("今天", t), "2026-12-07");
    assert_string_equal(date_ok("今日", t), "2026-12-07");
    assert_string_equal(date_ok("today", t), "2026-12-07");
    assert_string_equal(date_ok("Today", t), "2026-12-07");
    assert_string_equal(date_ok("昨天", t), "2026-12-06");
    assert_string_equal(date_ok("yesterday", t), "2026-12-06");
    assert_string_equal(date_ok("前天", t), "2026-12-05");
}

static void relative_dates_cross_months_years_and_leap_days(void **state)
{
    (void)state;
    assert_string_equal(date_ok("昨天", "2026-01-01"), "2025-12-31");
    assert_string_equal(date_ok("前天", "2024-03-01"), "2024-02-28");
    assert_string_equal(date_ok("昨天", "2024-03-01"), "2024-02-29");
    assert_string_equal(date_ok("昨天", "2023-03-01"), "2023-02-28");
    assert_string_equal(date_ok("前天", "2000-03-01"), "2000-02-28");
    assert_string_equal(date_ok("2月29日", "2024-05-01"), "2024-02-29");
}

/* 12月30日 without a year: this year's, unless that is more than about
 * six months ahead of today: then last year's (typed on January 5th, the
 * December just gone). Never next year's. */
static void month_and_day_is_this_year_or_the_last(void **state)
{
    (void)state;
    assert_string_equal(date_ok("12月30日", "2027-01-05"), "2026-12-30");
    assert_string_equal(date_ok("12月31日", "2027-01-01"), "2026-12-31");
    assert_string_equal(date_ok("8月1日", "2027-01-05"), "2026-08-01");
    assert_string_equal(date_ok("3月1日", "2027-01-05"), "2027-03-01");    /* soon: this year */
    assert_string_equal(date_ok("1月5日", "2027-01-05"), "2027-01-05");
    assert_string_equal(date_ok("1月31日", "2026-12-07"), "2026-01-31");   /* past: this year */
    assert_string_equal(date_ok("12月30日", "2026-12-07"), "2026-12-30");
    assert_string_equal(date_ok("7月4日", "2027-01-05"), "2027-07-04");    /* 180 days ahead */
    assert_string_equal(date_ok("7月10日", "2027-01-05"), "2026-07-10");   /* 186 days ahead */
}

static void relative_dates_need_today(void **state)
{
    (void)state;
    char out[BBI_DATE_BUF], why[WHY];
    assert_int_equal(bbi_input_date("今天", NULL, out, why, sizeof why), BBI_IN_NEED_TODAY);
    assert_int_equal(bbi_input_date("yesterday", NULL, out, why, sizeof why), BBI_IN_NEED_TODAY);
    assert_int_equal(bbi_input_date("12月5日", NULL, out, why, sizeof why), BBI_IN_NEED_TODAY);
}

static void refuses_what_is_no_date(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "2026-13-01", "2026-02-30", "2026/12-05", "26-12-05", "2026-12", "12/5",
        "2026年13月1日", "2月30日", "明年", "2026-12-05x", "2026--12-05", "202612055",
        "2026-123-01", "2023年2月29日",
    };
    char out[BBI_DATE_BUF], why[WHY];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (bbi_input_date(bad[i], "2026-12-07", out, why, sizeof why) != BBI_IN_BAD)
            fail_msg("\"%s\" read as %s", bad[i], out);
        assert_true(why[0] != '\0');
    }
    assert_int_equal(bbi_input_date("2026-02-30", NULL, out, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "2026-02-30 is not a calendar date"));
    assert_int_equal(bbi_input_date("下周", NULL, out, why, sizeof why), BBI_IN_BAD);
    assert_non_null(strstr(why, "2026年12月5日"));   /* the forms it takes */
}

/* ---- yes and no ---- */

static void reads_yes_and_no(void **state)
{
    (void)state;
    static const char *const yes[] = {"true", "TRUE", "yes", "1", "是", " 是 ", "ｔｒｕｅ"};
    static const char *const no[] = {"false", "No", "0", "否", "\xe3\x80\x80否"};
    bool b;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        b = false;
        assert_int_equal(bbi_input_bool(yes[i], &b), BBI_IN_OK);
        assert_true(b);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        b = true;
        assert_int_equal(bbi_input_bool(no[i], &b), BBI_IN_OK);
        assert_false(b);
    }
    assert_int_equal(bbi_input_bool("maybe", &b), BBI_IN_BAD);
    assert_int_equal(bbi_input_bool("", &b), BBI_IN_BAD);
    assert_int_equal(bbi_input_bool("是的", &b), BBI_IN_BAD);
}

/* ---- the packer ---- */

/* The value the packer made for name (after bbi_kv_text). */
static const bbi_kv *kv_of(const bbi_kvs *k, const char *name)
{
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].name, name) == 0)
            return &k->v[i];
    return NULL;
}

static int fixed_today(void *ud, char out[BBI_DATE_BUF], bb_error *err)
{
    (void)err;
    int *calls = ud;
    (*calls)++;
    memcpy(out, "2025-12-20", BBI_DATE_BUF);
    return BB_C_OK;
}

static void packer_converts_by_declared_type(void **state)
{
    (void)state;
    bbi_kvs k = {.n = 0};
    bb_error err;
    const char *m = "status.submit";
    assert_int_equal(bbi_kv_text(&k, m, "enterprise_id", "１２", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "output_value", "８５６万", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "report_date", "2025年12月5日", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "reporter", "\xe3\x80\x80王五 ", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "production_status", "正常\xe3\x80\x80", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "note", " 第一行：（全角）\n ", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, m, "employees", "\xe3\x80\x80", &err), BB_C_OK);
    assert_int_equal(kv_of(&k, "enterprise_id")->kind, BBI_INT);
    assert_int_equal(kv_of(&k, "enterprise_id")->i, 12);
    assert_int_equal(kv_of(&k, "output_value")->i, 8560000);
    assert_string_equal(kv_of(&k, "report_date")->s, "2025-12-05");
    assert_string_equal(kv_of(&k, "reporter")->s, "王五");
    assert_string_equal(kv_of(&k, "production_status")->s, "正常");
    assert_string_equal(kv_of(&k, "note")->s, "第一行：（全角）\n");
    assert_int_equal(kv_of(&k, "employees")->kind, BBI_NIL);   /* blank = nil: it takes nil */
    bbi_kvs_free(&k);
}

static void packer_refusals_name_the_argument(void **state)
{
    (void)state;
    bbi_kvs k = {.n = 0};
    bb_error err;
    assert_int_equal(bbi_kv_text(&k, "status.submit", "output_value", "12.5", &err), BB_C_EARG);
    assert_string_equal(err.code, "invalid_argument");
    assert_string_equal(err.field, "output_value");
    assert_non_null(strstr(err.message, "not a whole number"));
    assert_int_equal(bbi_kv_text(&k, "status.submit", "report_date", "2026-02-30", &err),
                     BB_C_EARG);
    assert_string_equal(err.field, "report_date");
    assert_int_equal(bbi_kv_text(&k, "user.update", "disabled", "maybe", &err), BB_C_EARG);
    assert_string_equal(err.field, "disabled");
    bbi_kvs_free(&k);
}

static void packer_folds_machine_forms_only(void **state)
{
    (void)state;
    bbi_kvs k = {.n = 0};
    bb_error err;
    /* credit code: folded and in capitals; name: as typed between its ends */
    assert_int_equal(bbi_kv_text(&k, "enterprise.create", "credit_code",
                                 " ９１４２１２８１ａｂｃ ", &err), BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, "enterprise.create", "name", " ＡＢ（赤壁）公司 ", &err),
                     BB_C_OK);
    assert_int_equal(bbi_kv_text(&k, "enterprise.create", "township", "赵李桥镇　", &err),
                     BB_C_OK);
    assert_string_equal(kv_of(&k, "credit_code")->s, "91421281ABC");
    assert_string_equal(kv_of(&k, "name")->s, "ＡＢ（赤壁）公司");
    assert_string_equal(kv_of(&k, "township")->s, "赵李桥镇");
    bbi_kvs_free(&k);
    /* a list: cut at commas (full-width ones too in a machine form), each trimmed */
    k = (bbi_kvs){.n = 0};
    assert_int_equal(bbi_kv_text(&k, "user.create", "townships", " 赵李桥镇，新店镇 , 赤壁镇", &err),
                     BB_C_OK);
    const bbi_kv *t = kv_of(&k, "townships");
    assert_int_equal(t->nstrs, 3);
    assert_string_equal(t->strs[0], "赵李桥镇");
    assert_string_equal(t->strs[1], "新店镇");
    assert_string_equal(t->strs[2], "赤壁镇");
    bbi_kvs_free(&k);
    /* a password is sent exactly as typed */
    k = (bbi_kvs){.n = 0};
    assert_int_equal(bbi_kv_text(&k, "session.login", "password", " pass word　", &err), BB_C_OK);
    assert_string_equal(kv_of(&k, "password")->s, " pass word　");
    bbi_kvs_free(&k);
}

static void packer_asks_the_provider_for_today_only_when_needed(void **state)
{
    (void)state;
    bbi_kvs k = {.n = 0};
    bb_error err;
    /* no provider: a relative date is refused, naming the argument */
    bbi_input_set_today(NULL, NULL);
    assert_int_equal(bbi_kv_text(&k, "status.submit", "report_date", "今天", &err), BB_C_EARG);
    assert_string_equal(err.field, "report_date");
    int calls = 0;
    bbi_input_set_today(fixed_today, &calls);
    assert_int_equal(bbi_kv_text(&k, "status.submit", "report_date", "2025-12-01", &err),
                     BB_C_OK);
    assert_int_equal(calls, 0);
    bbi_kvs_free(&k);
    k = (bbi_kvs){.n = 0};
    assert_int_equal(bbi_kv_text(&k, "status.submit", "report_date", "前天", &err), BB_C_OK);
    assert_int_equal(calls, 1);
    assert_string_equal(kv_of(&k, "report_date")->s, "2025-12-18");
    bbi_kvs_free(&k);
    k = (bbi_kvs){.n = 0};
    assert_int_equal(bbi_kv_text(&k, "status.submit", "report_date", "12月5日", &err), BB_C_OK);
    assert_string_equal(kv_of(&k, "report_date")->s, "2025-12-05");
    bbi_kvs_free(&k);
    bbi_input_set_today(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trims_ascii_and_unicode_spaces),
        cmocka_unit_test(long_text_keeps_its_line_breaks_at_the_ends),
        cmocka_unit_test(blank_and_trim_of_nothing),
        cmocka_unit_test(machine_forms_fold_full_width),
        cmocka_unit_test(reads_every_integer_form),
        cmocka_unit_test(refuses_fractions_with_a_reason),
        cmocka_unit_test(refuses_what_is_no_number),
        cmocka_unit_test(group_separators_only_between_groups_of_three),
        cmocka_unit_test(refuses_what_int64_cannot_hold),
        cmocka_unit_test(reads_every_date_form),
        cmocka_unit_test(relative_dates_cross_months_years_and_leap_days),
        cmocka_unit_test(month_and_day_is_this_year_or_the_last),
        cmocka_unit_test(relative_dates_need_today),
        cmocka_unit_test(refuses_what_is_no_date),
        cmocka_unit_test(reads_yes_and_no),
        cmocka_unit_test(packer_converts_by_declared_type),
        cmocka_unit_test(packer_refusals_name_the_argument),
        cmocka_unit_test(packer_folds_machine_forms_only),
        cmocka_unit_test(packer_asks_the_provider_for_today_only_when_needed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
