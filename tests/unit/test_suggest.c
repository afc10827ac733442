/*
 * test_suggest.c: "did you mean" of `baobao` (client/suggest.c).
 *
 * Pins down the distance (insert, delete, substitute and a swap of two
 * neighbours each cost 1), the limit that grows with the word, the order
 * of the suggestions (closest first, ties in the order given), the
 * fallback to words the typed one begins, the list a message shows, and
 * the typos the CLI's tests
 * use: `sumbit` for submit, `--enterprse` for --enterprise.
 * Not for: how the CLI words a suggestion (tests/integration/test_cli.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "suggest.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_distance_counts_each_slip_once(void **state)
{
    (void)state;
    assert_int_equal(suggest_distance("submit", "submit"), 0);
    assert_int_equal(suggest_distance("sumbit", "submit"), 1);    /* swap */
    assert_int_equal(suggest_distance("enterprse", "enterprise"), 1);   /* missing */
    assert_int_equal(suggest_distance("enterprisee", "enterprise"), 1);  /* extra */
    assert_int_equal(suggest_distance("stotus", "status"), 1);   /* wrong */
    assert_int_equal(suggest_distance("", "abc"), 3);
    assert_int_equal(suggest_distance("abc", ""), 3);
    assert_int_equal(suggest_distance("kitten", "sitting"), 3);
    /* A swap is one slip, two swaps two. */
    assert_int_equal(suggest_distance("ab", "ba"), 1);
    assert_int_equal(suggest_distance("abcd", "badc"), 2);
    /* Symmetric. */
    assert_int_equal(suggest_distance("list", "lsit"), suggest_distance("lsit", "list"));
}

static void test_words_too_long_are_far(void **state)
{
    (void)state;
    char longw[SUGGEST_MAX_WORD + 2];
    memset(longw, 'a', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    assert_int_equal(suggest_distance(longw, "a"), SUGGEST_FAR);
    assert_int_equal(suggest_distance("a", longw), SUGGEST_FAR);
    const char *cands[] = {"aaaa"};
    const char *out[SUGGEST_MAX];
    assert_int_equal(suggest(longw, cands, N(cands), out, SUGGEST_MAX), 0);
    /* The longest compared word still works. */
    longw[SUGGEST_MAX_WORD] = '\0';
    assert_int_equal(suggest_distance(longw, longw), 0);
}

static void test_limit_grows_with_the_word(void **state)
{
    (void)state;
    assert_int_equal(suggest_limit(3), 1);
    assert_int_equal(suggest_limit(4), 1);
    assert_int_equal(suggest_limit(5), 2);
    assert_int_equal(suggest_limit(8), 2);
    assert_int_equal(suggest_limit(9), 3);
}

static void test_subcommand_typo_finds_submit(void **state)
{
    (void)state;
    const char *subs[] = {"submit", "list"};
    const char *out[SUGGEST_MAX];
    assert_int_equal(suggest("sumbit", subs, N(subs), out, SUGGEST_MAX), 1);
    assert_string_equal(out[0], "submit");
}

static void test_option_typo_finds_enterprise(void **state)
{
    (void)state;
    const char *opts[] = {"--enterprise", "--date", "--reporter", "--production-status",
                          "--output-value", "--employees", "--shortage", "--note"};
    const char *out[SUGGEST_MAX];
    assert_int_equal(suggest("--enterprse", opts, N(opts), out, SUGGEST_MAX), 1);
    assert_string_equal(out[0], "--enterprise");
}

static void test_closest_first_ties_in_given_order(void **state)
{
    (void)state;
    const char *cands[] = {"statue", "status", "stat", "state"};
    const char *out[SUGGEST_MAX];
    /* "stats": status and state are one away (in that order of cands),
     * stat one away too; statue two. */
    size_t n = suggest("stats", cands, N(cands), out, SUGGEST_MAX);
    assert_int_equal(n, 3);
    assert_string_equal(out[0], "status");
    assert_string_equal(out[1], "stat");
    assert_string_equal(out[2], "state");
    /* max bounds the count. */
    assert_int_equal(suggest("stats", cands, N(cands), out, 1), 1);
    assert_string_equal(out[0], "status");
}

static void test_far_words_are_not_suggested(void **state)
{
    (void)state;
    const char *cmds[] = {"server", "login", "enterprise", "status", "user", "project"};
    const char *out[SUGGEST_MAX];
    assert_int_equal(suggest("frobnicate", cmds, N(cmds), out, SUGGEST_MAX), 0);
    /* A short word allows one slip only: "usr" is user, "uxx" nothing. */
    assert_int_equal(suggest("usr", cmds, N(cmds), out, SUGGEST_MAX), 1);
    assert_string_equal(out[0], "user");
    assert_int_equal(suggest("uxx", cmds, N(cmds), out, SUGGEST_MAX), 0);
}

static void test_beginning_of_a_word_when_nothing_is_close(void **state)
{
    (void)state;
    const char *cmds[] = {"enterprise", "export", "status", NULL};
    const char *out[SUGGEST_MAX];
    /* NULL entries are skipped; "ent" is 7 slips from enterprise. */
    size_t n = suggest("ent", cmds, N(cmds), out, SUGGEST_MAX);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "enterprise");
    /* One letter is no beginning worth suggesting. */
    assert_int_equal(suggest("q", cmds, N(cmds), out, SUGGEST_MAX), 0);
}

static void test_exact_word_is_not_a_suggestion(void **state)
{
    (void)state;
    const char *cands[] = {"list", "lists"};
    const char *out[SUGGEST_MAX];
    size_t n = suggest("list", cands, N(cands), out, SUGGEST_MAX);
    assert_int_equal(n, 1);
    assert_string_equal(out[0], "lists");
}

static void test_list_joins_the_suggestions(void **state)
{
    (void)state;
    const char *cands[] = {"status", "stat", "state", "statue"};
    char out[64];
    suggest_list(out, sizeof out, "stats", cands, N(cands));
    assert_string_equal(out, "status, stat, state");
    suggest_list(out, sizeof out, "zzzzzz", cands, N(cands));
    assert_string_equal(out, "");
    /* Cut to the room given, still a string. */
    suggest_list(out, 8, "stats", cands, N(cands));
    assert_int_equal(strlen(out), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance_counts_each_slip_once),
        cmocka_unit_test(test_words_too_long_are_far),
        cmocka_unit_test(test_limit_grows_with_the_word),
        cmocka_unit_test(test_subcommand_typo_finds_submit),
        cmocka_unit_test(test_option_typo_finds_enterprise),
        cmocka_unit_test(test_closest_first_ties_in_given_order),
        cmocka_unit_test(test_far_words_are_not_suggested),
        cmocka_unit_test(test_beginning_of_a_word_when_nothing_is_close),
        cmocka_unit_test(test_exact_word_is_not_a_suggestion),
        cmocka_unit_test(test_list_joins_the_suggestions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
