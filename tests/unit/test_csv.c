/*
 * test_csv.c: the streaming CSV reader of `baobao import` (client/csv.c).
 *
 * Pins down RFC 4180 as csv.h states it: commas, quoted fields holding
 * commas, doubled quotes and line breaks (kept byte for byte), CRLF, LF and
 * lone CR line ends, the UTF-8 byte-order mark skipped at the start and at
 * the start of any field (one per field, csv.h),
 * empty fields and empty lines, a last record without a line end, the line
 * each record starts on (also after multi-line fields), the three syntax
 * errors with their line, the record limits, and that records crossing the
 * read buffer's boundary come out whole (a file many times the buffer,
 * read with bounded memory). Not for: what the columns mean (the
 * integration test test_import.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* Reads every record of text[0..len) and renders them as
 * "LINE:[f1][f2]\n" ("LINE:q[f]" for a quoted field) into out; returns
 * the last csv_next result (CSV_EOF when all went well). */
static int render(const char *text, size_t len, char *out, size_t outlen, char *err,
                  size_t errlen)
{
    FILE *f = fmemopen((void *)(uintptr_t)text, len, "r");
    assert_non_null(f);
    csv_reader *r = csv_open(f);
    assert_non_null(r);
    size_t o = 0;
    out[0] = '\0';
    csv_record rec;
    int rc;
    while ((rc = csv_next(r, &rec)) == CSV_RECORD) {
        o += (size_t)snprintf(out + o, outlen - o, "%llu:", (unsigned long long)rec.line);
        for (size_t i = 0; i < rec.nfields; i++)
            o += (size_t)snprintf(out + o, outlen - o, "%s[%.*s]",
                                  rec.fields[i].quoted ? "q" : "", (int)rec.fields[i].len,
                                  rec.fields[i].s);
        o += (size_t)snprintf(out + o, outlen - o, "\n");
        assert_true(o < outlen);
    }
    if (err != NULL)
        snprintf(err, errlen, "%s", csv_error(r));
    csv_close(r);
    fclose(f);
    return rc;
}

static void expect(const char *text, const char *want)
{
    char out[4096];
    assert_int_equal(render(text, strlen(text), out, sizeof out, NULL, 0), CSV_EOF);
    assert_string_equal(out, want);
}

static void expect_error(const char *text, int code, const char *want_err)
{
    char out[4096], err[256];
    assert_int_equal(render(text, strlen(text), out, sizeof out, err, sizeof err), code);
    assert_string_equal(err, want_err);
}

static void test_plain_records_lf_crlf_cr(void **state)
{
    (void)state;
    expect("a,b,c\n1,2,3\n", "1:[a][b][c]\n2:[1][2][3]\n");
    expect("a,b\r\n1,2\r\n", "1:[a][b]\n2:[1][2]\n");
    expect("a,b\r1,2\r", "1:[a][b]\n2:[1][2]\n");
    expect("a,b\r\n1,2\n3,4\r5,6", "1:[a][b]\n2:[1][2]\n3:[3][4]\n4:[5][6]\n");
}

static void test_last_record_without_line_end(void **state)
{
    (void)state;
    expect("a,b\n1,2", "1:[a][b]\n2:[1][2]\n");
    expect("", "");
    expect("\n", "1:[]\n");
}

static void test_empty_fields_and_lines(void **state)
{
    (void)state;
    expect(",,\n", "1:[][][]\n");
    expect("a,\n\nb\n", "1:[a][]\n2:[]\n3:[b]\n");
    expect("\"\",x\n", "1:q[][x]\n");
}

static void test_bom_skipped_at_file_start(void **state)
{
    (void)state;
    expect("\xEF\xBB\xBF" "企业名称,乡镇园区\n", "1:[企业名称][乡镇园区]\n");
    expect("\xEF\xBB\xBF", "");
    FILE *f = fmemopen((void *)(uintptr_t)"\xEF\xBB\xBFx\n", 5, "r");
    csv_reader *r = csv_open(f);
    csv_record rec;
    assert_int_equal(csv_next(r, &rec), CSV_RECORD);
    assert_true(csv_had_bom(r));
    assert_int_equal(csv_bytes_read(r), 5);
    csv_close(r);
    fclose(f);
}

/* csv.h: a U+FEFF at the start of any field is stripped (one per field),
 * before or just inside its quote; elsewhere in a field it is data. */
static void test_bom_stripped_at_start_of_any_field(void **state)
{
    (void)state;
#define BOM "\xEF\xBB\xBF"
    /* a later record (files joined with cat), a later field, quoted */
    expect("a\n" BOM "b\n", "1:[a]\n2:[b]\n");
    expect(BOM "h1,h2\n" BOM "h1,h2\n1," BOM "名称\n",
           "1:[h1][h2]\n2:[h1][h2]\n3:[1][名称]\n");
    expect("x," BOM "\"q, \"\"r\"\"\"\n", "1:[x]q[q, \"r\"]\n");
    expect("x,\"" BOM "名称\"\n", "1:[x]q[名称]\n");
    /* one per field; in the middle of a field it is kept */
    expect("a," BOM BOM "b\n", "1:[a][" BOM "b]\n");
    expect("a" BOM "b,c\n", "1:[a" BOM "b][c]\n");
    /* a lone BOM is an empty field; a line of it an empty record */
    expect("a," BOM "\n" BOM "\n", "1:[a][]\n2:[]\n");
    expect("a\n" BOM, "1:[a]\n2:[]\n");
    /* two bytes of a BOM are not one: kept */
    expect("a,\xEF\xBB" "x\n", "1:[a][\xEF\xBB" "x]\n");
    expect("a,\xEF\xBB", "1:[a][\xEF\xBB]\n");
    /* the line of the next record still counts */
    expect("\"" BOM "a\nb\"\n" BOM "c\n", "1:q[a\nb]\n3:[c]\n");
#undef BOM
}

static void test_quoted_commas_quotes_newlines(void **state)
{
    (void)state;
    expect("\"赤壁, 青砖茶\",\"他说\"\"好\"\"\",\"规上\n高新技术企业\"\n",
           "1:q[赤壁, 青砖茶]q[他说\"好\"]q[规上\n高新技术企业]\n");
    /* A CRLF inside quotes stays CRLF; the next record's line counts it. */
    expect("\"a\r\nb\",c\r\nd\r\n", "1:q[a\r\nb][c]\n3:[d]\n");
    /* Lines after a multi-line field are numbered as an editor shows them. */
    expect("h\n\"1\n2\n3\"\nx\n", "1:[h]\n2:q[1\n2\n3]\n5:[x]\n");
    expect("\"\"\"\"\n", "1:q[\"]\n");
}

static void test_unclosed_quote_names_its_line(void **state)
{
    (void)state;
    expect_error("a\nb\n\"open\nmore\n", CSV_ERR_SYNTAX,
                 "line 3: quoted field not closed at the end of the file");
}

static void test_quote_inside_unquoted_field(void **state)
{
    (void)state;
    expect_error("a\nab\"c\n", CSV_ERR_SYNTAX,
                 "line 2: a quote inside an unquoted field (quote the whole field and write "
                 "the quote as \"\")");
}

static void test_text_after_closing_quote(void **state)
{
    (void)state;
    expect_error("x\n\"ab\"c,d\n", CSV_ERR_SYNTAX,
                 "line 2: text after the closing quote of a field (a quote inside a quoted "
                 "field is written \"\")");
}

static void test_errors_are_sticky(void **state)
{
    (void)state;
    const char *t = "a\"b\nc\n";
    FILE *f = fmemopen((void *)(uintptr_t)t, strlen(t), "r");
    csv_reader *r = csv_open(f);
    csv_record rec;
    assert_int_equal(csv_next(r, &rec), CSV_ERR_SYNTAX);
    assert_int_equal(csv_next(r, &rec), CSV_ERR_SYNTAX);
    csv_close(r);
    fclose(f);
}

static void test_record_limits(void **state)
{
    (void)state;
    /* One quote never closed in a huge file: stops at the limit. */
    size_t n = CSV_MAX_RECORD_BYTES + 100;
    char *big = malloc(n + 1);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'x', n - 1);
    big[n] = '\0';
    char err[256];
    char *out = malloc(4096);
    assert_int_equal(render(big, n, out, 4096, err, sizeof err), CSV_ERR_LIMIT);
    assert_non_null(strstr(err, "line 1: record longer than"));
    /* Too many fields. */
    size_t nf = CSV_MAX_FIELDS + 1;
    memset(big, ',', nf);
    big[nf] = '\n';
    assert_int_equal(render(big, nf + 1, out, 4096, err, sizeof err), CSV_ERR_LIMIT);
    assert_non_null(strstr(err, "more than"));
    /* Exactly CSV_MAX_FIELDS fields is fine. */
    memset(big, ',', CSV_MAX_FIELDS - 1);
    big[CSV_MAX_FIELDS - 1] = '\n';
    FILE *f = fmemopen(big, CSV_MAX_FIELDS, "r");
    csv_reader *r = csv_open(f);
    csv_record rec;
    assert_int_equal(csv_next(r, &rec), CSV_RECORD);
    assert_int_equal(rec.nfields, CSV_MAX_FIELDS);
    csv_close(r);
    fclose(f);
    free(out);
    free(big);
}

/* A file several read buffers long, with multi-line quoted fields and CRLF
 * ends falling on every offset of the buffer boundary: every record comes
 * back whole, with its line. */
static void test_records_across_buffer_boundaries(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    const unsigned nrec = 40000;
    for (unsigned i = 0; i < nrec; i++)
        fprintf(f, "%u,\"名称,%u\r\n第二行 \"\"引号\"\"\",%.*s\r\n", i, i, (int)(i % 7), "abcdefg");
    rewind(f);
    csv_reader *r = csv_open(f);
    csv_record rec;
    char want[128];
    for (unsigned i = 0; i < nrec; i++) {
        assert_int_equal(csv_next(r, &rec), CSV_RECORD);
        assert_int_equal(rec.nfields, 3);
        assert_int_equal(rec.line, 2ull * i + 1);
        snprintf(want, sizeof want, "%u", i);
        assert_string_equal(rec.fields[0].s, want);
        snprintf(want, sizeof want, "名称,%u\r\n第二行 \"引号\"", i);
        assert_int_equal(rec.fields[1].len, strlen(want));
        assert_memory_equal(rec.fields[1].s, want, strlen(want));
        assert_int_equal(rec.fields[2].len, i % 7);
    }
    assert_int_equal(csv_next(r, &rec), CSV_EOF);
    long size = ftell(f);
    assert_int_equal(csv_bytes_read(r), (uint64_t)size);
    csv_close(r);
    fclose(f);
}

static void test_nul_byte_kept_with_its_length(void **state)
{
    (void)state;
    const char t[] = "a\0b,c\n";
    FILE *f = fmemopen((void *)(uintptr_t)t, sizeof t - 1, "r");
    csv_reader *r = csv_open(f);
    csv_record rec;
    assert_int_equal(csv_next(r, &rec), CSV_RECORD);
    assert_int_equal(rec.fields[0].len, 3);
    assert_memory_equal(rec.fields[0].s, "a\0b", 3);
    csv_close(r);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_records_lf_crlf_cr),
        cmocka_unit_test(test_last_record_without_line_end),
        cmocka_unit_test(test_empty_fields_and_lines),
        cmocka_unit_test(test_bom_skipped_at_file_start),
        cmocka_unit_test(test_bom_stripped_at_start_of_any_field),
        cmocka_unit_test(test_quoted_commas_quotes_newlines),
        cmocka_unit_test(test_unclosed_quote_names_its_line),
        cmocka_unit_test(test_quote_inside_unquoted_field),
        cmocka_unit_test(test_text_after_closing_quote),
        cmocka_unit_test(test_errors_are_sticky),
        cmocka_unit_test(test_record_limits),
        cmocka_unit_test(test_records_across_buffer_boundaries),
        cmocka_unit_test(test_nul_byte_kept_with_its_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
