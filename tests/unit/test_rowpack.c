/*
 * test_rowpack.c: PGresult rows -> msgpack (server/engine/rowpack.c) on
 * fabricated results (libpq's PQmakeEmptyPGresult / PQsetvalue: no server).
 *
 * Pins down: the bytes are exactly those msgpack-c's own msgpack_pack_*
 * give (every integer size boundary, every str header size, NULL of each
 * type, labels), rowpack_rows packs what rowpack_row does row after row,
 * rowpack_check refuses what does not parse (and accepts what strtoll
 * did), and a page reaches the packer in a few large writes instead of
 * several per cell (issue 15's profile: the per-cell writes were a sixth
 * of a list request). Not for: the replies (integration tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libpq-fe.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rowpack.h"
#include "packed.h"

/* ---- what rowpack.c's replies call: not exercised here ---- */

uint32_t req_msgid(const request *req)
{
    (void)req;
    return 0;
}
uint64_t req_conn_id(const request *req)
{
    (void)req;
    return 0;
}
void req_reply_error(request *req, bb_err code, const char *field, const char *fmt, ...)
{
    (void)req, (void)code, (void)field, (void)fmt;
}
void log_req(log_level lvl, uint64_t conn, uint32_t msgid, const char *event, const char *fields,
             ...)
{
    (void)lvl, (void)conn, (void)msgid, (void)event, (void)fields;
}
const char *log_q(const char *s) { return s; }

/* ---- fabricated results ---- */

static const rp_col cols[] = {
    {"id", RP_INT}, {"name", RP_TEXT}, {"labels", RP_LINES}, {"active", RP_BOOL},
};
#define NCOLS 4

static PGresult *result_of(int nrows, const char *const (*cells)[NCOLS])
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(res);
    PGresAttDesc att[NCOLS];
    memset(att, 0, sizeof att);
    for (int i = 0; i < NCOLS; i++) {
        att[i].name = (char *)(uintptr_t)cols[i].key;
        att[i].typlen = -1;
    }
    assert_int_equal(PQsetResultAttrs(res, NCOLS, att), 1);
    for (int r = 0; r < nrows; r++)
        for (int i = 0; i < NCOLS; i++) {
            const char *v = cells[r][i];
            assert_int_equal(PQsetvalue(res, r, i, (char *)(uintptr_t)v,
                                        v == NULL ? -1 : (int)strlen(v)),
                             1);
        }
    return res;
}

/* The packing as msgpack-c does it, cell by cell (the reference). */
static void reference_row(msgpack_packer *pk, const PGresult *res, int row)
{
    msgpack_pack_map(pk, NCOLS);
    for (int i = 0; i < NCOLS; i++) {
        msgpack_pack_str_with_body(pk, cols[i].key, strlen(cols[i].key));
        if (PQgetisnull(res, row, i)) {
            msgpack_pack_nil(pk);
            continue;
        }
        const char *v = PQgetvalue(res, row, i);
        size_t len = (size_t)PQgetlength(res, row, i);
        if (cols[i].type == RP_INT) {
            msgpack_pack_int64(pk, strtoll(v, NULL, 10));
        } else if (cols[i].type == RP_BOOL) {
            if (v[0] == 't')
                msgpack_pack_true(pk);
            else
                msgpack_pack_false(pk);
        } else if (cols[i].type == RP_LINES) {
            uint32_t n = len == 0 ? 0 : 1;
            for (size_t k = 0; k < len; k++)
                n += v[k] == '\n';
            msgpack_pack_array(pk, n);
            size_t start = 0;
            for (size_t k = 0; len > 0 && k <= len; k++)
                if (k == len || v[k] == '\n') {
                    msgpack_pack_str_with_body(pk, v + start, k - start);
                    start = k + 1;
                }
        } else {
            msgpack_pack_str_with_body(pk, v, len);
        }
    }
}

static void assert_same(const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
    assert_int_equal(a->size, b->size);
    assert_memory_equal(a->data, b->data, a->size);
}


/* got and want hold the same bytes; frees both. */
static void assert_same_free(packed *got, packed *want)
{
    assert_same(&got->sb, &want->sb);
    msgpack_sbuffer_destroy(&got->sb);
    msgpack_sbuffer_destroy(&want->sb);
}

static const char *const int_texts[] = {
    "0", "1", "127", "128", "255", "256", "65535", "65536", "4294967295", "4294967296",
    "9223372036854775807", "-1", "-32", "-33", "-128", "-129", "-32768", "-32769",
    "-2147483648", "-2147483649", "-9223372036854775808", "+7", " 42", "007",
};
#define N_INTS (sizeof int_texts / sizeof int_texts[0])

static void test_integers_pack_as_msgpack_c_packs_them(void **state)
{
    (void)state;
    const char *(*cells)[NCOLS] = calloc(N_INTS, sizeof *cells);
    for (size_t r = 0; r < N_INTS; r++) {
        cells[r][0] = int_texts[r];
        cells[r][1] = "x";
        cells[r][2] = "";
        cells[r][3] = r % 2 ? "t" : "f";
    }
    PGresult *res = result_of((int)N_INTS, (const char *const(*)[NCOLS])cells);
    const char *why = NULL;
    assert_int_equal(rowpack_check(res, cols, NCOLS, &why), 0);
    for (int r = 0; r < (int)N_INTS; r++) {
        packed got, want;
        packed_init(&got);
        packed_init(&want);
        rowpack_row(&got.pk, res, r, cols, NCOLS);
        reference_row(&want.pk, res, r);
        assert_same_free(&got, &want);
    }
    PQclear(res);
    free(cells);
}

static char *text_of(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Every str header size (fixstr, str8, str16, str32: the last longer than
 * the staging buffer), NULL of each type, empty text, labels. */
static void test_texts_nulls_and_labels_pack_as_msgpack_c_packs_them(void **state)
{
    (void)state;
    size_t lens[] = {0, 1, 31, 32, 255, 256, 4000, 65535, 65536, 100000};
    enum { NL = sizeof lens / sizeof lens[0] };
    char *texts[NL];
    for (size_t k = 0; k < NL; k++)
        texts[k] = text_of(lens[k], 'a' + (char)k);
    const char *rows[NL + 6][NCOLS];
    for (size_t k = 0; k < NL; k++) {
        rows[k][0] = "1";
        rows[k][1] = texts[k];
        rows[k][2] = texts[k];
        rows[k][3] = "t";
    }
    const char *extra[6][NCOLS] = {
        {NULL, NULL, NULL, NULL},
        {"2", "", "", "f"},
        {"3", "中文名称", "a\nb", "t"},
        {"4", "x", "\n", "f"},
        {"5", "x", "a\n\nb\n", NULL},
        {"6", "\"quoted\"\\", "专精特新\n小巨人", "t"},
    };
    memcpy(rows[NL], extra, sizeof extra);
    PGresult *res = result_of(NL + 6, (const char *const(*)[NCOLS])rows);
    const char *why = NULL;
    assert_int_equal(rowpack_check(res, cols, NCOLS, &why), 0);
    packed got, want, one;
    packed_init(&got);
    packed_init(&want);
    packed_init(&one);
    rowpack_rows(&got.pk, res, 0, NL + 6, cols, NCOLS);
    for (int r = 0; r < NL + 6; r++) {
        reference_row(&want.pk, res, r);
        rowpack_row(&one.pk, res, r, cols, NCOLS);
    }
    assert_same(&one.sb, &want.sb);
    msgpack_sbuffer_destroy(&one.sb);
    assert_same_free(&got, &want);
    PQclear(res);
    for (size_t k = 0; k < NL; k++)
        free(texts[k]);
}

/* A packer writing somewhere else than an sbuffer: counts its writes. */
typedef struct counting {
    msgpack_sbuffer sb;
    unsigned writes;
} counting;

static int counting_write(void *data, const char *buf, size_t len)
{
    counting *c = data;
    c->writes++;
    return msgpack_sbuffer_write(&c->sb, buf, len);
}

/* A list page (20 rows of 4 cells) reaches the packer in one write, not
 * four or more per cell; the bytes are the same. */
static void test_a_page_is_one_write_to_the_packer(void **state)
{
    (void)state;
    const char *rows[20][NCOLS];
    for (int r = 0; r < 20; r++) {
        rows[r][0] = int_texts[r];
        rows[r][1] = "湖北省赤壁市某某科技有限公司";
        rows[r][2] = "专精特新\n规上";
        rows[r][3] = "t";
    }
    PGresult *res = result_of(20, (const char *const(*)[NCOLS])rows);
    counting c = {0};
    msgpack_sbuffer_init(&c.sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &c, counting_write);
    rowpack_rows(&pk, res, 0, 20, cols, NCOLS);
    assert_int_equal(c.writes, 1);
    packed want;
    packed_init(&want);
    for (int r = 0; r < 20; r++)
        reference_row(&want.pk, res, r);
    assert_same(&c.sb, &want.sb);
    msgpack_sbuffer_destroy(&c.sb);
    msgpack_sbuffer_destroy(&want.sb);
    PQclear(res);
}

static int check_one_int(const char *text)
{
    const char *row[1][NCOLS] = {{text, "x", "", "t"}};
    PGresult *res = result_of(1, (const char *const(*)[NCOLS])row);
    const char *why = NULL;
    int rc = rowpack_check(res, cols, NCOLS, &why);
    PQclear(res);
    return rc;
}

static int check_one_bool(const char *text)
{
    const char *row[1][NCOLS] = {{"1", "x", "", text}};
    PGresult *res = result_of(1, (const char *const(*)[NCOLS])row);
    const char *why = NULL;
    int rc = rowpack_check(res, cols, NCOLS, &why);
    PQclear(res);
    return rc;
}

static void test_check_refuses_what_does_not_parse(void **state)
{
    (void)state;
    assert_int_equal(check_one_int("12a"), -1);
    assert_int_equal(check_one_int(""), -1);   /* empty, not NULL */
    assert_int_equal(check_one_int(" "), -1);
    assert_int_equal(check_one_int("-"), -1);
    assert_int_equal(check_one_int("1.5"), -1);
    assert_int_equal(check_one_int("42 "), -1);
    assert_int_equal(check_one_int("9223372036854775808"), -1);
    assert_int_equal(check_one_int("-9223372036854775809"), -1);
    assert_int_equal(check_one_int("99999999999999999999"), -1);
    assert_int_equal(check_one_int("9223372036854775807"), 0);
    assert_int_equal(check_one_int("-9223372036854775808"), 0);
    assert_int_equal(check_one_int(NULL), 0);
    assert_int_equal(check_one_bool("true"), -1);
    assert_int_equal(check_one_bool("tt"), -1);
    assert_int_equal(check_one_bool(""), -1);
    assert_int_equal(check_one_bool("f"), 0);
    assert_int_equal(check_one_bool(NULL), 0);
    int64_t v = 0;
    assert_true(rowpack_parse_int("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_false(rowpack_parse_int("x", &v));
}

static void test_check_refuses_other_columns(void **state)
{
    (void)state;
    const char *row[1][NCOLS] = {{"1", "x", "", "t"}};
    PGresult *res = result_of(1, (const char *const(*)[NCOLS])row);
    const char *why = NULL;
    assert_int_equal(rowpack_check(res, cols, NCOLS - 1, &why), -1);
    const rp_col other[] = {{"id", RP_INT}, {"title", RP_TEXT}, {"labels", RP_LINES},
                            {"active", RP_BOOL}};
    assert_int_equal(rowpack_check(res, other, NCOLS, &why), -1);
    assert_string_equal(why, "column name differs from the description");
    PQclear(res);
}

/* A key longer than a fixstr (32 bytes and more) packs as msgpack-c packs it. */
static void test_long_keys_pack_as_msgpack_c_packs_them(void **state)
{
    (void)state;
    static const char long_key[] = "a_column_name_longer_than_thirty_one_bytes";
    const rp_col lc[] = {{"id", RP_INT}, {long_key, RP_TEXT}};
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    PGresAttDesc att[2];
    memset(att, 0, sizeof att);
    att[0].name = (char *)"id";
    att[1].name = (char *)(uintptr_t)long_key;
    assert_int_equal(PQsetResultAttrs(res, 2, att), 1);
    assert_int_equal(PQsetvalue(res, 0, 0, (char *)"12", 2), 1);
    assert_int_equal(PQsetvalue(res, 0, 1, (char *)"v", 1), 1);
    packed got, want;
    packed_init(&got);
    packed_init(&want);
    rowpack_row(&got.pk, res, 0, lc, 2);
    msgpack_pack_map(&want.pk, 2);
    msgpack_pack_str_with_body(&want.pk, "id", 2);
    msgpack_pack_int64(&want.pk, 12);
    msgpack_pack_str_with_body(&want.pk, long_key, strlen(long_key));
    msgpack_pack_str_with_body(&want.pk, "v", 1);
    assert_same_free(&got, &want);
    PQclear(res);
}

/* Several rows through rowpack_rows, whose packed-keys cache (used for
 * more than one row, for up to a fixed number of columns) must give what
 * msgpack-c gives: keys of 31 and 32 bytes (the fixstr edge), and more
 * columns than the cache holds (70), where it packs keys one by one. */
static void test_many_rows_many_columns_pack_as_msgpack_c_packs_them(void **state)
{
    (void)state;
    enum { NC = 70, NR = 3 };
    static char keys[NC][40];
    rp_col wide[NC];
    PGresAttDesc att[NC];
    memset(att, 0, sizeof att);
    for (int i = 0; i < NC; i++) {
        /* 31 and 32 bytes for the first two, short ones after */
        size_t len = i == 0 ? 31 : i == 1 ? 32 : (size_t)(3 + i % 7);
        memset(keys[i], 'k', len);
        keys[i][len] = '\0';
        keys[i][0] = (char)('a' + i % 26);
        keys[i][1] = (char)('a' + i / 26);
        wide[i].key = keys[i];
        wide[i].type = i % 3 == 0 ? RP_INT : RP_TEXT;
        att[i].name = keys[i];
    }
    for (int ncol = 2; ncol <= NC; ncol += NC - 2) {
        PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
        assert_int_equal(PQsetResultAttrs(res, ncol, att), 1);
        for (int r = 0; r < NR; r++)
            for (int i = 0; i < ncol; i++) {
                char v[32];
                int n = snprintf(v, sizeof v, "%d", (r + 1) * 1000 + i);
                assert_int_equal(PQsetvalue(res, r, i, v, n), 1);
            }
        const char *why = NULL;
        assert_int_equal(rowpack_check(res, wide, ncol, &why), 0);
        packed got, want;
        packed_init(&got);
        packed_init(&want);
        rowpack_rows(&got.pk, res, 0, NR, wide, ncol);
        for (int r = 0; r < NR; r++) {
            msgpack_pack_map(&want.pk, (uint32_t)ncol);
            for (int i = 0; i < ncol; i++) {
                msgpack_pack_str_with_body(&want.pk, keys[i], strlen(keys[i]));
                int64_t n = (r + 1) * 1000 + i;
                if (wide[i].type == RP_INT) {
                    msgpack_pack_int64(&want.pk, n);
                } else {
                    char v[32];
                    int len = snprintf(v, sizeof v, "%d", (int)n);
                    msgpack_pack_str_with_body(&want.pk, v, (size_t)len);
                }
            }
        }
        assert_same_free(&got, &want);
        PQclear(res);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_pack_as_msgpack_c_packs_them),
        cmocka_unit_test(test_texts_nulls_and_labels_pack_as_msgpack_c_packs_them),
        cmocka_unit_test(test_a_page_is_one_write_to_the_packer),
        cmocka_unit_test(test_check_refuses_what_does_not_parse),
        cmocka_unit_test(test_check_refuses_other_columns),
        cmocka_unit_test(test_long_keys_pack_as_msgpack_c_packs_them),
        cmocka_unit_test(test_many_rows_many_columns_pack_as_msgpack_c_packs_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
