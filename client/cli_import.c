/*
 * cli_import.c: `baobao import enterprises FILE.csv [--commit] [--json]`
 * and `baobao import status FILE.csv [--commit] [--json]`.
 *
 * For: reading a CSV file as a stream (csv.h: one record at a time, never
 * the whole file), mapping its header to the keys of enterprise.import
 * (the Chinese names of enterprises.csv as baobao exports it, or the
 * English keys), sending the rows in calls of at most BB_MAX_IMPORT_ROWS
 * (and CLI_IMPORT_MAX_CALL_BYTES), and reporting every rejected row by
 * the CSV line where its record starts, then a summary. Rows refused
 * here (a wrong number of fields; a row too large for any call, named by
 * its longest cell) are reported with their call's answer, merged by
 * line, so the report is in line order.
 *
 * Safe to run again: each committing call carries an idempotency key
 * derived from the login, the content of the file up to the end of that
 * call's rows, and the call's number, so a retried call (cli_call retries
 * once) or a re-run of the same file stores nothing twice: the server
 * answers it with the first outcome. A dry run (the default) sends no key:
 * it stores nothing anyway.
 * Cells: each between the spaces at its ends (U+3000 too; each label of
 * a 标签 cell too), as the server stores texts; a formula-defused cell
 * of an export ('=..., '+..., '-..., '@...;
 * generally any cell matching ^'+[=+-@]) loses exactly one apostrophe; an
 * empty 产业集群 cell is "no cluster", an empty 标签 cell is "no labels"
 * (labels one per line in the cell), an empty 经营状态 cell leaves the
 * status out (在营 for a new enterprise, unchanged for an existing one). Columns the import does not
 * know (编号, 版本, 创建时间, 更新时间, ...) are ignored, so an exported
 * file imports back as it is.
 * `import status` is the same machinery with status.import and the
 * columns of status_reports.csv (import_kind): the enterprise named by
 * 企业编号 (enterprise_id) or 统一社会信用代码 (credit_code), whichever cell
 * is filled; empty 产值(元) / 从业人数 / 缺工人数 / 备注 cells are left out
 * (nil); 产值(元) read as the CLI's money (money.h: 1234567, 1,234,567,
 * 123.45万, 3亿), refused here when it is not an amount of whole yuan; a
 * number cell that is not a whole number is sent as it is, so the server
 * says why (as status.submit would). 编号, 企业名称, 创建时间 are ignored.
 * Text output is in the user's language (i18n.h): a rejected row's reason
 * as the sentence cli_error_text makes of its code and field; --json keeps
 * the server's code, field and message.
 * Not for: the rules of an enterprise (the server checks every row and
 * says why it refused it), CSV syntax (csv.c).
 */
#include "cli.h"
#include "csv.h"
#include "i18n.h"
#include "json.h"
#include "money.h"
#include "suggest.h"

#include "bb_limits.h"
#include "bb_space.h"
#include "bb_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes of packed rows per call at most (the server's max_message_bytes
 * is 1 MiB by default; this leaves room for the envelope and more). A
 * row is packed on its own first: the call is sent before a row that
 * would take it past this, and a row larger than this alone is rejected
 * here (a CSV record may hold CSV_MAX_RECORD_BYTES), so no call is ever
 * refused whole for its size. */
#define CLI_IMPORT_MAX_CALL_BYTES (512u * 1024u)
/* Rows rejected here, waiting to be reported with their call's answer
 * (so the report stays in line order) at most; more send the call. */
#define CLI_IMPORT_MAX_PENDING BB_MAX_IMPORT_ROWS
/* Bytes of the reason of a row rejected here. */
#define CLI_IMPORT_MSG_MAX 160
/* Width of the progress bar, in cells. */
#define CLI_IMPORT_BAR_WIDTH 30
/* Hex digits of the content hash in an idempotency key. */
#define CLI_IMPORT_KEY_HEX 40
/* Bytes of a help text with its options. */
#define CLI_IMPORT_HELP_BYTES 4096

static const char import_help[] = N_(
    "Usage: baobao import enterprises FILE.csv [--commit] [--json]\n"
    "       baobao import status FILE.csv [--commit] [--json]\n"
    "\n"
    "Imports enterprises or status reports from a CSV file (RFC 4180, UTF-8, with\n"
    "or without a byte-order mark; FILE - reads standard input). Every row is\n"
    "checked by the server as enterprise.create / enterprise.update (enterprises,\n"
    "matched on the credit code: a new code creates, a known one updates) or\n"
    "status.submit (status reports) would check it.\n"
    "Run 'baobao import enterprises --help' or 'baobao import status --help'.\n");

/* The options and the retry rule, the same for every kind of file: written
 * once, printed after each kind's help, so that the two cannot come to
 * disagree. */
static const char import_options_help[] = N_(
    "\n"
    "  --commit   store the rows (default: a dry run; nothing is stored)\n"
    "  --json     print {\"commit\", \"items\": [{line, outcome, id, code, field,\n"
    "             message}...], \"summary\"} instead of text\n"
    "\n"
    "Re-running the same file (or a retry after a lost connection) stores nothing\n"
    "twice: each call carries an idempotency key derived from the file's content.\n");

static const char enterprises_help[] = N_(
    "Usage: baobao import enterprises FILE.csv [--commit] [--json]\n"
    "\n"
    "Checks (dry run, the default) or stores (--commit) the enterprises of FILE.csv,\n"
    "upserting on the credit code, and prints every rejected row as\n"
    "\"line N: field: reason\" (N: the line of the file where the row starts), then\n"
    "a summary. Exit status 1 when any row was rejected, 0 otherwise.\n"
    "\n"
    "The header row names the columns, as in an export's enterprises.csv:\n"
    "  企业名称 (name), 统一社会信用代码 (credit_code), 乡镇园区 (township): required\n"
    "  产业集群 (cluster): empty = none\n"
    "  标签 (labels): one label per line inside the cell; empty = none\n"
    "  经营状态 (status): empty = 在营 for a new enterprise, unchanged otherwise\n"
    "Other columns (编号, 版本, 创建时间, 更新时间, ...) are ignored, so an exported\n"
    "file imports back unchanged. A cell the export protected against formulas\n"
    "('=..., '+..., '-..., '@...; any cell matching ^'+[=+-@]) loses one apostrophe.\n");

static const char status_help[] = N_(
    "Usage: baobao import status FILE.csv [--commit] [--json]\n"
    "\n"
    "Checks (dry run, the default) or stores (--commit) the status reports of\n"
    "FILE.csv and prints every rejected row as \"line N: field: reason\" (N: the\n"
    "line of the file where the row starts), then a summary. Exit status 1 when\n"
    "any row was rejected, 0 otherwise.\n"
    "\n"
    "The header row names the columns, as in an export's status_reports.csv:\n"
    "  企业编号 (enterprise_id) or 统一社会信用代码 (credit_code): the enterprise;\n"
    "      at least one of the two columns, exactly one cell filled per row\n"
    "  报告日期 (report_date, YYYY-MM-DD), 报告人 (reporter),\n"
    "  生产状态 (production_status: 正常 半停产 停产 在建): required\n"
    "  产值(元) (output_value): whole yuan (1234567, 1,234,567, 123.45万, 3亿)\n"
    "  从业人数 (employees), 缺工人数 (labour_shortage), 备注 (note)\n"
    "  empty cells of these four: none\n"
    "Other columns (编号, 企业名称, 创建时间, ...) are ignored, so an exported file\n"
    "imports back: a row equal to a stored report of the same enterprise, date\n"
    "and reporter is \"unchanged\" (nothing stored), and one with other values is\n"
    "rejected (duplicate_report; `baobao status correct` changes one). A cell the\n"
    "export protected against formulas ('=..., '+..., '-..., '@...; any cell\n"
    "matching ^'+[=+-@]) loses one apostrophe.\n");

/* Whether the header must have a column: no, yes, or one of the columns
 * marked NEED_ONE_OF (the enterprise of a status report: id or code). */
typedef enum col_need { NEED_NO = 0, NEED_YES, NEED_ONE_OF } col_need;

typedef struct col_def {
    const char *key, *zh;   /* the row's key, the export's header name */
    col_need need;
} col_def;

/* Most columns of any kind. */
#define CLI_IMPORT_MAX_COLS 12

/* The columns of enterprises, in the order of enterprise.import's row. */
enum { COL_NAME, COL_CODE, COL_TOWNSHIP, COL_CLUSTER, COL_LABELS, COL_STATUS, NCOLS };
static const col_def ent_columns[NCOLS] = {
    {"name", "企业名称", NEED_YES},          {"credit_code", "统一社会信用代码", NEED_YES},
    {"township", "乡镇园区", NEED_YES},      {"cluster", "产业集群", NEED_NO},
    {"labels", "标签", NEED_NO},             {"status", "经营状态", NEED_NO},
};
/* Columns of an export that the import leaves alone, without a note. */
static const char *const ent_ignored[] = {"编号", "版本", "创建时间", "更新时间", "id",
                                          "version", "created_at", "updated_at", NULL};

/* The columns of status reports, in the order of status.import's row. */
enum { SC_EID, SC_CODE, SC_DATE, SC_REPORTER, SC_PSTATUS, SC_OUTPUT, SC_EMPLOYEES, SC_SHORTAGE,
       SC_NOTE, SC_NCOLS };
static const col_def st_columns[SC_NCOLS] = {
    {"enterprise_id", "企业编号", NEED_ONE_OF},
    {"credit_code", "统一社会信用代码", NEED_ONE_OF},
    {"report_date", "报告日期", NEED_YES},
    {"reporter", "报告人", NEED_YES},
    {"production_status", "生产状态", NEED_YES},
    {"output_value", "产值(元)", NEED_NO},
    {"employees", "从业人数", NEED_NO},
    {"labour_shortage", "缺工人数", NEED_NO},
    {"note", "备注", NEED_NO},
};
static const char *const st_ignored[] = {"编号", "企业名称", "创建时间", "id", "enterprise_name",
                                         "created_at", NULL};
_Static_assert(NCOLS <= CLI_IMPORT_MAX_COLS && SC_NCOLS <= CLI_IMPORT_MAX_COLS,
               "CLI_IMPORT_MAX_COLS");

typedef struct importer importer;

/* What is imported: the method, its columns, and how a record becomes a
 * row (pack: into im->one; returns 0, or -1 with the column index and a
 * reason when the row is refused here). */
typedef struct import_kind {
    const char *what;            /* "enterprises", "status" */
    const char *method;
    const char *help;
    const col_def *cols;
    int ncols;
    const char *const *ignored;
    int (*pack)(importer *im, const csv_record *r, int *col, char *msg, size_t cap);
    bool upserts;                /* answers "updated" too */
} import_kind;

/* A row rejected here, before its call's answer came. */
typedef struct local_reject {
    uint64_t line;
    const char *field;                 /* a column key (static), or NULL */
    char message[CLI_IMPORT_MSG_MAX];
} local_reject;

struct importer {
    cli_ctx *ctx;
    const import_kind *kind;
    const char *path;
    bool commit, progress;
    FILE *f;
    csv_reader *csv;
    uint64_t size;                 /* 0: unknown (a pipe) */
    int col[CLI_IMPORT_MAX_COLS];  /* field index of each column, -1 when absent */
    size_t nheader;                /* fields in the header */
    /* the call being filled */
    msgpack_sbuffer rows;
    msgpack_sbuffer one;           /* the row being read, packed alone */
    msgpack_packer opk;
    uint32_t nrows;
    uint64_t lines[BB_MAX_IMPORT_ROWS];
    int32_t item_of[BB_MAX_IMPORT_ROWS];   /* answer item of each row, -1: none yet */
    local_reject pending[CLI_IMPORT_MAX_PENDING];   /* by line, all in this call */
    uint32_t npending, pending_next;   /* pending_next: the first not yet reported */
    unsigned calls;
    EVP_MD_CTX *sha;               /* login + every record so far */
    /* totals */
    uint64_t total, created, updated, unchanged, rejected;
    bool json_first;               /* no JSON item printed yet */
};

/* ---- output ---- */

static void progress(importer *im, bool done)
{
    if (!im->progress)
        return;
    if (done) {
        fputs("\r\033[K", stderr);
        return;
    }
    uint64_t at = csv_bytes_read(im->csv);
    if (im->size > 0) {
        int pct = (int)(at >= im->size ? 100 : at * 100 / im->size);
        int fill = pct * CLI_IMPORT_BAR_WIDTH / 100;
        fputc('\r', stderr);
        fprintf(stderr, _("importing [%.*s%*s] %3d%%  %" PRIu64 " rows"), fill,
                "##############################", CLI_IMPORT_BAR_WIDTH - fill, "", pct,
                im->total);
    } else {
        fputc('\r', stderr);
        fprintf(stderr, _("importing  %" PRIu64 " rows"), im->total);
    }
    fflush(stderr);
}

/* One item of the answer, or a row refused before sending. Counts it; in
 * text mode prints it when rejected, with --json always. */
static void print_item(importer *im, uint64_t line, const char *outcome, bool has_id, int64_t id,
                       const char *code, const char *field, const char *message)
{
    if (strcmp(outcome, "created") == 0)
        im->created++;
    else if (strcmp(outcome, "updated") == 0)
        im->updated++;
    else if (strcmp(outcome, "unchanged") == 0)
        im->unchanged++;
    else
        im->rejected++;
    if (im->ctx->json) {
        json_out j;
        json_out_init(&j);
        char num[64];
        int n = snprintf(num, sizeof num, "%s\n    {\"line\": %" PRIu64 ", \"outcome\": ",
                         im->json_first ? "" : ",", line);
        json_raw(&j, num, (size_t)n);
        json_string(&j, outcome, strlen(outcome));
        n = has_id ? snprintf(num, sizeof num, ", \"id\": %" PRId64, id)
                   : snprintf(num, sizeof num, ", \"id\": null");
        json_raw(&j, num, (size_t)n);
        const char *keys[3] = {"code", "field", "message"};
        const char *vals[3] = {code, field, message};
        for (int i = 0; i < 3; i++) {
            json_raw(&j, ", \"", 3);
            json_raw(&j, keys[i], strlen(keys[i]));
            json_raw(&j, "\": ", 3);
            if (vals[i] == NULL)
                json_raw(&j, "null", 4);
            else
                json_string(&j, vals[i], strlen(vals[i]));
        }
        json_raw(&j, "}", 1);
        if (!j.failed)
            fwrite(j.data, 1, j.len, stdout);
        json_out_free(&j);
        im->json_first = false;
        return;
    }
    if (strcmp(outcome, "rejected") != 0)
        return;
    if (im->progress)
        fputs("\r\033[K", stderr);
    if (cli_lang_zh()) {
        /* The reason as a sentence naming the field (cli_error_text); a
         * row refused here without a field has its reason in Chinese
         * already. */
        bb_error e = {.rc = BB_C_ESERVER};
        snprintf(e.code, sizeof e.code, "%s", code != NULL ? code : "invalid_argument");
        snprintf(e.field, sizeof e.field, "%s", field != NULL ? field : "");
        snprintf(e.message, sizeof e.message, "%s", message != NULL ? message : "");
        char text[sizeof e.message + 1024];
        if (e.field[0] != '\0')
            cli_error_text(text, sizeof text, im->kind->method, &e);
        else
            snprintf(text, sizeof text, "%s", message != NULL ? message : e.code);
        printf(_("line %" PRIu64 ": %s\n"), line, text);
        return;
    }
    /* The server's messages mostly start with their field already. */
    size_t fl = field != NULL ? strlen(field) : 0;
    bool prefixed = field != NULL && message != NULL && strncmp(message, field, fl) == 0 &&
                    message[fl] == ':';
    if (field != NULL && !prefixed)
        printf("line %" PRIu64 ": %s: %s\n", line, field, message != NULL ? message : code);
    else
        printf("line %" PRIu64 ": %s\n", line, message != NULL ? message : code);
}

static void print_summary(importer *im, const bb_error *fatal)
{
    progress(im, true);
    if (im->ctx->json) {
        printf("\n  ],\n  \"summary\": {\"rows\": %" PRIu64 ", \"created\": %" PRIu64,
               im->total, im->created);
        if (im->kind->upserts)
            printf(", \"updated\": %" PRIu64, im->updated);
        printf(", \"unchanged\": %" PRIu64 ", \"rejected\": %" PRIu64 "}", im->unchanged,
               im->rejected);
        if (fatal != NULL) {
            json_out j;
            json_out_init(&j);
            json_raw(&j, ",\n  \"error\": {\"code\": ", 21);
            json_string(&j, fatal->code, strlen(fatal->code));
            json_raw(&j, ", \"field\": ", 11);
            if (fatal->field[0] != '\0')
                json_string(&j, fatal->field, strlen(fatal->field));
            else
                json_raw(&j, "null", 4);
            json_raw(&j, ", \"message\": ", 13);
            json_string(&j, fatal->message, strlen(fatal->message));
            json_raw(&j, "}", 1);
            if (!j.failed)
                fwrite(j.data, 1, j.len, stdout);
            json_out_free(&j);
        }
        printf("\n}\n");
        return;
    }
    const char *what = im->commit ? _("committed") : _("dry run");
    if (im->kind->upserts)
        printf(_("%s: %" PRIu64 " rows: %" PRIu64 " created, %" PRIu64 " updated, %" PRIu64
                 " unchanged, %" PRIu64 " rejected"),
               what, im->total, im->created, im->updated, im->unchanged, im->rejected);
    else
        printf(_("%s: %" PRIu64 " rows: %" PRIu64 " created, %" PRIu64 " unchanged, %" PRIu64
                 " rejected"),
               what, im->total, im->created, im->unchanged, im->rejected);
    fputs(im->commit ? "\n" : _(" (nothing stored; add --commit to store)\n"), stdout);
}

/* ---- the header ---- */

static bool field_is(const csv_field *f, const char *name)
{
    /* Spaces around a header name are not part of it. */
    const char *s = f->s;
    size_t n = f->len;
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

static int read_header(importer *im, const csv_record *h)
{
    const import_kind *k = im->kind;
    for (int c = 0; c < CLI_IMPORT_MAX_COLS; c++)
        im->col[c] = -1;
    im->nheader = h->nfields;
    for (size_t i = 0; i < h->nfields; i++) {
        const csv_field *f = &h->fields[i];
        if (!bb_utf8_valid(f->s, f->len)) {
            fprintf(stderr,
                    _("baobao: %s: the header is not UTF-8 text; save the file as UTF-8 (Excel: "
                      "\"CSV UTF-8\") and try again\n"),
                    im->path);
            return CLI_EXIT_REFUSED;
        }
        int which = -1;
        for (int c = 0; c < k->ncols; c++)
            if (field_is(f, k->cols[c].key) || field_is(f, k->cols[c].zh))
                which = c;
        if (which < 0) {
            bool quiet = false;
            for (size_t q = 0; k->ignored[q] != NULL; q++)
                quiet = quiet || field_is(f, k->ignored[q]);
            if (!quiet)
                fprintf(stderr, _("baobao: note: column \"%.*s\" is not imported\n"),
                        (int)f->len, f->s);
            continue;
        }
        if (im->col[which] >= 0) {
            fprintf(stderr, _("baobao: %s: line %" PRIu64 ": two columns for %s (%s)\n"),
                    im->path, h->line, k->cols[which].zh, k->cols[which].key);
            return CLI_EXIT_REFUSED;
        }
        im->col[which] = (int)i;
    }
    bool one_of_needed = false, one_of_found = false;
    for (int c = 0; c < k->ncols; c++) {
        if (k->cols[c].need == NEED_YES && im->col[c] < 0) {
            fprintf(stderr, _("baobao: %s: the header has no column %s (%s)\n"), im->path,
                    k->cols[c].zh, k->cols[c].key);
            return CLI_EXIT_REFUSED;
        }
        if (k->cols[c].need == NEED_ONE_OF) {
            one_of_needed = true;
            one_of_found = one_of_found || im->col[c] >= 0;
        }
    }
    if (one_of_needed && !one_of_found) {
        fprintf(stderr, _("baobao: %s: the header has none of the columns"), im->path);
        for (int c = 0, n = 0; c < k->ncols; c++)
            if (k->cols[c].need == NEED_ONE_OF)
                fprintf(stderr, "%s %s (%s)", n++ > 0 ? _(" or") : "", k->cols[c].zh,
                        k->cols[c].key);
        fputc('\n', stderr);
        return CLI_EXIT_REFUSED;
    }
    return CLI_EXIT_OK;
}

/* ---- rows ---- */

/* The part of s[0..*n) between the spaces at its ends (the packer's
 * trim, bb_space.h: U+3000 too): the server stores texts trimmed and
 * refuses one that is not. A cell that is not UTF-8 is left whole, for
 * the server to say so. */
static void trim_cell(const char **s, size_t *n)
{
    size_t start;
    if (!bb_utf8_valid(*s, *n))
        return;
    *n = bb_trim(*s, *n, &start);
    *s += start;
}

/* A cell between its end spaces, without the apostrophe an export put
 * before it: the export adds one to every text cell matching ^'*[=+-@]
 * (server/export.c), so one is removed from every cell matching
 * ^'+[=+-@] and the round trip is exact, also for a value that itself
 * starts with apostrophes. */
static void cell(const csv_field *f, const char **s, size_t *n)
{
    *s = f->s;
    *n = f->len;
    trim_cell(s, n);
    size_t q = 0;
    while (q < *n && (*s)[q] == '\'')
        q++;
    if (q >= 1 && q < *n && (*s)[q] != '\0' && strchr("=+-@", (*s)[q]) != NULL) {
        (*s)++;
        (*n)--;
    }
}

static void pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* labels: one per line in the cell (a CR before a line feed is dropped),
 * each between its end spaces. */
static void pack_labels(msgpack_packer *pk, const char *s, size_t n)
{
    uint32_t count = 0;
    if (n > 0) {
        count = 1;
        for (size_t i = 0; i < n; i++)
            count += s[i] == '\n';
    }
    msgpack_pack_array(pk, count);
    size_t start = 0;
    for (size_t i = 0; count > 0 && i <= n; i++) {
        if (i == n || s[i] == '\n') {
            size_t end = i;
            if (end > start && s[end - 1] == '\r')
                end--;
            const char *label = s + start;
            size_t len = end - start;
            trim_cell(&label, &len);
            pack_str(pk, label, len);
            start = i + 1;
        }
    }
}

static void hash_record(importer *im, const csv_record *r)
{
    for (size_t i = 0; i < r->nfields; i++) {
        uint64_t len = r->fields[i].len;
        unsigned char lb[8];
        for (int k = 0; k < 8; k++)
            lb[k] = (unsigned char)(len >> (8 * k));
        EVP_DigestUpdate(im->sha, lb, sizeof lb);
        EVP_DigestUpdate(im->sha, r->fields[i].s, r->fields[i].len);
    }
    EVP_DigestUpdate(im->sha, "\n", 1);
}

/* Packs one enterprise record alone, into im->one (emptied first). */
static int pack_enterprise(importer *im, const csv_record *r, int *col, char *msg, size_t cap)
{
    (void)col;
    (void)msg;
    (void)cap;
    msgpack_sbuffer_clear(&im->one);
    msgpack_packer *pk = &im->opk;
    uint32_t nkeys = 0;
    for (int c = 0; c < NCOLS; c++) {
        const char *s;
        size_t n = 0;
        if (im->col[c] >= 0)
            cell(&r->fields[im->col[c]], &s, &n);
        if (im->col[c] >= 0 && !(c == COL_STATUS && n == 0))
            nkeys++;
    }
    msgpack_pack_map(pk, nkeys);
    for (int c = 0; c < NCOLS; c++) {
        if (im->col[c] < 0)
            continue;
        const char *s;
        size_t n;
        cell(&r->fields[im->col[c]], &s, &n);
        if (c == COL_STATUS && n == 0)
            continue;
        pack_str(pk, ent_columns[c].key, strlen(ent_columns[c].key));
        if (c == COL_CLUSTER && n == 0)
            msgpack_pack_nil(pk);
        else if (c == COL_LABELS)
            pack_labels(pk, s, n);
        else
            pack_str(pk, s, n);
    }
    return 0;
}

/* A whole number in decimal (an optional -, digits, nothing else) within
 * int64: *out. */
static bool whole_number(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = n > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == n)
        return false;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > ((uint64_t)INT64_MAX + 1 - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return false;
    *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return true;
}

/* Packs one status report record alone, into im->one (emptied first).
 * Empty cells of the enterprise columns and of the optional ones are left
 * out; numbers are packed as ints when they are whole numbers, else as
 * they are (the server then says "must be an integer"); 产值(元) is read as
 * money (money.h) and refused here when it is not an amount of whole yuan. */
static int pack_status(importer *im, const csv_record *r, int *col, char *msg, size_t cap)
{
    msgpack_sbuffer_clear(&im->one);
    msgpack_packer *pk = &im->opk;
    const char *cs[SC_NCOLS];
    size_t cn[SC_NCOLS];
    int64_t num[SC_NCOLS];
    bool is_num[SC_NCOLS];
    uint32_t nkeys = 0;
    for (int c = 0; c < SC_NCOLS; c++) {
        cs[c] = NULL;
        cn[c] = 0;
        num[c] = 0;
        is_num[c] = false;
        if (im->col[c] < 0)
            continue;
        cell(&r->fields[im->col[c]], &cs[c], &cn[c]);
        bool required = st_columns[c].need == NEED_YES;
        if (cn[c] == 0 && !required) {
            cs[c] = NULL;   /* left out */
            continue;
        }
        if (c == SC_OUTPUT) {
            /* money_parse reads a C string: the trimmed cell, copied (a
             * NUL inside is not money). */
            char *amount = memchr(cs[c], '\0', cn[c]) == NULL ? strndup(cs[c], cn[c]) : NULL;
            bool money = amount != NULL && money_parse(amount, &num[c]) == 0;
            free(amount);
            if (!money) {
                *col = c;
                /* JSON keeps English, as the server's messages. */
                snprintf(msg, cap,
                         im->ctx->json ? "output_value: \"%.*s\" is not an amount of whole "
                                         "yuan (e.g. 1234567, 1,234,567, 123.45万, 3亿)"
                                       : _("output_value: \"%.*s\" is not an amount of whole "
                                           "yuan (e.g. 1234567, 1,234,567, 123.45万, 3亿)"),
                         cn[c] > 40 ? 40 : (int)cn[c], cs[c]);
                return -1;
            }
            is_num[c] = true;
        } else if (c == SC_EID || c == SC_EMPLOYEES || c == SC_SHORTAGE) {
            is_num[c] = whole_number(cs[c], cn[c], &num[c]);
        }
        nkeys++;
    }
    msgpack_pack_map(pk, nkeys);
    for (int c = 0; c < SC_NCOLS; c++) {
        if (cs[c] == NULL)
            continue;
        pack_str(pk, st_columns[c].key, strlen(st_columns[c].key));
        if (is_num[c])
            msgpack_pack_int64(pk, num[c]);
        else
            pack_str(pk, cs[c], cn[c]);
    }
    return 0;
}

static const import_kind kind_enterprises = {
    "enterprises", "enterprise.import", enterprises_help, ent_columns, NCOLS, ent_ignored,
    pack_enterprise, true,
};
static const import_kind kind_status = {
    "status", "status.import", status_help, st_columns, SC_NCOLS, st_ignored, pack_status, false,
};

/* Appends the packed row (im->one) to the call being filled. */
static void append_row(importer *im, uint64_t line)
{
    msgpack_sbuffer_write(&im->rows, im->one.data, im->one.size);
    im->lines[im->nrows++] = line;
}

/* Notes a row rejected here; reported in line order when its call is
 * answered (flush). */
__attribute__((format(printf, 4, 5))) static void reject_local(importer *im, uint64_t line,
                                                               const char *field,
                                                               const char *fmt, ...)
{
    local_reject *l = &im->pending[im->npending++];
    l->line = line;
    l->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->message, sizeof l->message, fmt, ap);
    va_end(ap);
}

/* Reports the rows rejected here whose line is before `before`; all of
 * them (UINT64_MAX) forgets them. */
static void report_local(importer *im, uint64_t before)
{
    for (; im->pending_next < im->npending && im->pending[im->pending_next].line < before;
         im->pending_next++) {
        const local_reject *l = &im->pending[im->pending_next];
        print_item(im, l->line, "rejected", false, 0, "invalid_argument", l->field,
                   l->message);
    }
    if (before == UINT64_MAX)
        im->npending = im->pending_next = 0;
}

/* The column whose cell is the longest: the one that made a row too large. */
static int longest_column(const importer *im, const csv_record *r)
{
    int best = -1;
    for (int c = 0; c < im->kind->ncols; c++)
        if (im->col[c] >= 0 &&
            (best < 0 || r->fields[im->col[c]].len > r->fields[im->col[best]].len))
            best = c;
    return best;
}

/* The idempotency key of the call being sent: the hash of the login and
 * every record so far, and the call's number. */
static void call_key(importer *im, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    if (copy != NULL && EVP_MD_CTX_copy_ex(copy, im->sha) == 1)
        EVP_DigestFinal_ex(copy, md, &mdlen);
    EVP_MD_CTX_free(copy);
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[2 * mdlen] = '\0';
    snprintf(out, outlen, "import-%s-%.*s-%u", im->kind->what, CLI_IMPORT_KEY_HEX, hex,
             im->calls);
}

/* Sends the rows gathered so far and prints what came back. Returns
 * BB_C_OK or the error of the call (err filled). */
static int flush(importer *im, bb_error *err)
{
    if (im->nrows == 0) {
        report_local(im, UINT64_MAX);
        return BB_C_OK;
    }
    im->calls++;
    char key[BB_MAX_IDEMPOTENCY_KEY_BYTES + 1];
    call_key(im, key, sizeof key);
    bbi_args a;
    bbi_args_init(&a);
    msgpack_pack_map(&a.pk, im->commit ? 3 : 2);
    pack_str(&a.pk, "rows", 4);
    msgpack_pack_array(&a.pk, im->nrows);
    msgpack_sbuffer_write(&a.sb, im->rows.data, im->rows.size);
    pack_str(&a.pk, "commit", 6);
    if (im->commit) {
        msgpack_pack_true(&a.pk);
        pack_str(&a.pk, "idempotency_key", 15);
        pack_str(&a.pk, key, strlen(key));
    } else {
        msgpack_pack_false(&a.pk);
    }
    bb_reply *r = NULL;
    int rc = cli_call(im->ctx, im->kind->method, &a, true, &r, err);
    bbi_args_free(&a);
    if (rc != BB_C_OK)
        return rc;
    const msgpack_object_array *items;
    rc = bbi_get_array(bb_reply_result(r), "result", "items", &items, err);
    if (rc == BB_C_OK && items->size != im->nrows)
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %u items for %u rows", items->size,
                     im->nrows);
    /* Items are taken in row order, whatever order they came in, so the
     * report is in line order with the rows rejected here. */
    for (uint32_t row = 0; row < im->nrows; row++)
        im->item_of[row] = -1;
    for (uint32_t i = 0; rc == BB_C_OK && i < items->size; i++) {
        int64_t row = 0;
        rc = bbi_get_int(&items->ptr[i], "item", "row", &row, err);
        if (rc == BB_C_OK && (row < 0 || row >= (int64_t)im->nrows))
            rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: item row %" PRId64
                         " out of range", row);
        else if (rc == BB_C_OK && im->item_of[row] >= 0)
            rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: two items for row %" PRId64,
                         row);
        if (rc == BB_C_OK)
            im->item_of[row] = (int32_t)i;
    }
    for (uint32_t row = 0; rc == BB_C_OK && row < im->nrows; row++) {
        const msgpack_object *it = &items->ptr[im->item_of[row]];
        int64_t id = 0;
        bool has_id = false;
        char *outcome = NULL, *code = NULL, *field = NULL, *message = NULL;
        report_local(im, im->lines[row]);
        rc = bbi_get_str(it, "item", "outcome", &outcome, err);
        if (rc == BB_C_OK)
            rc = bbi_get_nint(it, "item", "id", &has_id, &id, err);
        if (rc == BB_C_OK)
            rc = bbi_get_nstr(it, "item", "code", &code, err);
        if (rc == BB_C_OK)
            rc = bbi_get_nstr(it, "item", "field", &field, err);
        if (rc == BB_C_OK)
            rc = bbi_get_nstr(it, "item", "message", &message, err);
        if (rc == BB_C_OK)
            print_item(im, im->lines[row], outcome, has_id, id, code, field, message);
        free(outcome);
        free(code);
        free(field);
        free(message);
    }
    bb_reply_free(r);
    if (rc == BB_C_OK)
        report_local(im, UINT64_MAX);   /* else run reports the rest */
    msgpack_sbuffer_clear(&im->rows);
    im->nrows = 0;
    progress(im, false);
    return rc;
}

static bool blank(const csv_record *r) { return r->nfields == 1 && r->fields[0].len == 0; }

/* Reads the whole file through. Returns the exit status. */
static int run(importer *im)
{
    bb_error err;
    memset(&err, 0, sizeof err);
    csv_record rec;
    int rc;
    while ((rc = csv_next(im->csv, &rec)) == CSV_RECORD && blank(&rec)) {
    }
    if (rc != CSV_RECORD) {
        if (rc == CSV_EOF)
            fprintf(stderr, _("baobao: %s: the file is empty (no header row)\n"), im->path);
        else
            fprintf(stderr, "baobao: %s: %s\n", im->path, csv_error(im->csv));
        return CLI_EXIT_REFUSED;
    }
    int hr = read_header(im, &rec);
    if (hr != CLI_EXIT_OK)
        return hr;
    if (im->ctx->json)
        printf("{\n  \"commit\": %s,\n  \"items\": [", im->commit ? "true" : "false");
    int status = CLI_EXIT_OK;
    const bb_error *fatal = NULL;
    int bad_col = 0;
    char bad_msg[CLI_IMPORT_MSG_MAX];
    while ((rc = csv_next(im->csv, &rec)) == CSV_RECORD) {
        if (blank(&rec))
            continue;
        im->total++;
        bool send = false;   /* the call is full: send it */
        if (rec.nfields != im->nheader) {
            hash_record(im, &rec);
            reject_local(im, rec.line, NULL,
                         im->ctx->json ? "the row has %zu fields, the header %zu"
                                       : _("the row has %zu fields, the header %zu"),
                         rec.nfields, im->nheader);
            send = im->npending == CLI_IMPORT_MAX_PENDING;
        } else if (im->kind->pack(im, &rec, &bad_col, bad_msg, sizeof bad_msg) != 0) {
            /* A cell this side can already tell is wrong (money). */
            hash_record(im, &rec);
            reject_local(im, rec.line, im->kind->cols[bad_col].key, "%s", bad_msg);
            send = im->npending == CLI_IMPORT_MAX_PENDING;
        } else {
            if (im->one.size > CLI_IMPORT_MAX_CALL_BYTES) {
                /* Alone over what a call may carry: the server could not
                 * even be asked. Named by its longest cell, the culprit. */
                hash_record(im, &rec);
                int c = longest_column(im, &rec);
                reject_local(im, rec.line, im->kind->cols[c].key,
                             im->ctx->json ? "%s: too long (%zu bytes; a row may hold at most "
                                             "%u bytes in all)"
                                           : _("%s: too long (%zu bytes; a row may hold at most "
                                               "%u bytes in all)"),
                             im->kind->cols[c].key, rec.fields[im->col[c]].len,
                             CLI_IMPORT_MAX_CALL_BYTES);
                send = im->npending == CLI_IMPORT_MAX_PENDING;
            } else {
                /* Send first when this row would take the call past its
                 * bytes: the key hashes exactly the records up to the
                 * call's end, this one not yet. */
                if (im->nrows > 0 && im->rows.size + im->one.size > CLI_IMPORT_MAX_CALL_BYTES &&
                    flush(im, &err) != BB_C_OK) {
                    fatal = &err;
                    break;
                }
                hash_record(im, &rec);
                append_row(im, rec.line);
                send = im->nrows == BB_MAX_IMPORT_ROWS;
            }
        }
        if (send) {
            if (flush(im, &err) != BB_C_OK) {
                fatal = &err;
                break;
            }
        } else if (im->total % 100 == 0) {
            progress(im, false);
        }
    }
    if (fatal == NULL && rc != CSV_EOF) {
        /* The rows before a broken record are not sent: fix the file, run
         * again. The rows rejected here are still reported. */
        bbi_err(&err, BB_C_EARG, "invalid_csv", NULL, "%s: %s", im->path, csv_error(im->csv));
        fatal = &err;
        im->nrows = 0;
    }
    if (fatal == NULL && flush(im, &err) != BB_C_OK)
        fatal = &err;
    if (fatal != NULL)
        /* The call failed: its answer never came; what was found here stands. */
        report_local(im, UINT64_MAX);
    print_summary(im, fatal);
    if (fatal != NULL) {
        status = cli_fail_in(im->ctx, im->kind->method, fatal);
        if (im->commit && im->calls > 1)
            fputs(_("baobao: the rows before the failed call are stored; running the same "
                    "import again is safe (nothing is stored twice)\n"),
                  stderr);
        return status == CLI_EXIT_OK ? CLI_EXIT_REFUSED : status;
    }
    return im->rejected > 0 ? CLI_EXIT_REFUSED : CLI_EXIT_OK;
}

static int import_file(cli_ctx *ctx, const import_kind *kind, int argc, char **argv)
{
    cli_opt o[] = {
        {.name = "--commit"},
    };
    size_t no = sizeof o / sizeof o[0], npos;
    const char *pos[1];
    char cmd[32], help[CLI_IMPORT_HELP_BYTES];
    snprintf(cmd, sizeof cmd, "import %s", kind->what);
    snprintf(help, sizeof help, "%s%s", _(kind->help), _(import_options_help));
    int rc = cli_parse(ctx, argc, argv, o, no, pos, 1, &npos, cmd, help);
    if (rc == 0 && npos != 1)
        rc = cli_usage_error(cmd, _("expected one FILE.csv (- for standard input)"));
    if (rc != 0) {
        cli_opts_free(o, no);
        return rc;
    }
    importer *im = calloc(1, sizeof *im);
    if (im == NULL) {
        cli_opts_free(o, no);
        return cli_oom();
    }
    im->ctx = ctx;
    im->kind = kind;
    im->path = pos[0];
    im->commit = cli_get(o, no, "--commit")->count > 0;
    im->json_first = true;
    cli_opts_free(o, no);
    bool is_stdin = strcmp(im->path, "-") == 0;
    im->f = is_stdin ? stdin : fopen(im->path, "rb");
    if (im->f == NULL) {
        fprintf(stderr, "baobao: %s: %s\n", im->path, strerror(errno));
        free(im);
        return CLI_EXIT_USAGE;
    }
    struct stat sb;
    if (fstat(fileno(im->f), &sb) == 0 && S_ISREG(sb.st_mode))
        im->size = (uint64_t)sb.st_size;
    im->progress = isatty(STDERR_FILENO) == 1;
    im->csv = csv_open(im->f);
    im->sha = EVP_MD_CTX_new();
    msgpack_sbuffer_init(&im->rows);
    msgpack_sbuffer_init(&im->one);
    msgpack_packer_init(&im->opk, &im->one, msgpack_sbuffer_write);
    bb_error err;
    if (im->csv == NULL || im->sha == NULL ||
        EVP_DigestInit_ex(im->sha, EVP_sha256(), NULL) != 1) {
        rc = cli_oom();
    } else if (cli_connect(ctx, &err) != BB_C_OK) {
        /* Log in before reading: the key is bound to the login. */
        rc = cli_fail_in(ctx, kind->method, &err);
    } else {
        char seed[64];
        int sl = snprintf(seed, sizeof seed, "baobao import %s 1\n", kind->what);
        EVP_DigestUpdate(im->sha, seed, (size_t)sl);
        EVP_DigestUpdate(im->sha, ctx->login != NULL ? ctx->login : "",
                         ctx->login != NULL ? strlen(ctx->login) : 0);
        EVP_DigestUpdate(im->sha, "\n", 1);
        rc = run(im);
    }
    msgpack_sbuffer_destroy(&im->rows);
    msgpack_sbuffer_destroy(&im->one);
    EVP_MD_CTX_free(im->sha);
    csv_close(im->csv);
    if (!is_stdin)
        fclose(im->f);
    free(im);
    return rc;
}

int cli_import(cli_ctx *ctx, int argc, char **argv)
{
    int first;
    int rc = cli_parse_word(ctx, argc, argv, "import", import_help,
                            N_("missing what to import (enterprises, status)"), &first);
    if (rc != 0)
        return rc;
    const char *what = argv[first];
    if (strcmp(what, "enterprises") == 0)
        return import_file(ctx, &kind_enterprises, argc - first - 1, argv + first + 1);
    if (strcmp(what, "status") == 0)
        return import_file(ctx, &kind_status, argc - first - 1, argv + first + 1);
    static const char *const whats[] = {"enterprises", "status"};
    char near[64];
    suggest_list(near, sizeof near, what, whats, 2);
    if (near[0] != '\0')
        return cli_usage_error("import", _("cannot import \"%s\" (did you mean %s? only: "
                                           "enterprises, status)"),
                               what, near);
    return cli_usage_error("import", _("cannot import \"%s\" (only: enterprises, status)"),
                           what);
}
