/*
 * csv.c: the streaming RFC 4180 reader of csv.h.
 *
 * For: turning a byte stream into records through one read buffer
 * (CSV_READ_CHUNK) and one record buffer (at most CSV_MAX_RECORD_BYTES),
 * so memory depends on the longest record, not on the file.
 * Not for: column meaning or text checks (cli_import.c).
 */
#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CSV_MSG_MAX 200

struct csv_reader {
    FILE *f;                 /* borrowed */
    unsigned char *buf;      /* CSV_READ_CHUNK bytes */
    size_t blen, bpos;
    bool file_eof;
    bool started;            /* the byte-order mark has been looked for */
    bool bom;
    uint64_t consumed;       /* bytes taken from buf so far */
    uint64_t line;           /* line of the next byte, 1-based */
    char *rec;               /* the record: fields, each followed by a NUL */
    size_t rlen, rcap;
    size_t *starts;          /* offset of each field in rec */
    csv_field *fields;       /* rebuilt for each record */
    size_t nf, fcap;
    int err;                 /* 0, or the sticky CSV_ERR_* */
    char msg[CSV_MSG_MAX];
};

csv_reader *csv_open(FILE *f)
{
    csv_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->buf = malloc(CSV_READ_CHUNK);
    if (r->buf == NULL) {
        free(r);
        return NULL;
    }
    r->f = f;
    r->line = 1;
    return r;
}

void csv_close(csv_reader *r)
{
    if (r == NULL)
        return;
    free(r->buf);
    free(r->rec);
    free(r->starts);
    free(r->fields);
    free(r);
}

const char *csv_error(const csv_reader *r) { return r->msg; }
uint64_t csv_bytes_read(const csv_reader *r) { return r->consumed; }
bool csv_had_bom(const csv_reader *r) { return r->bom; }

__attribute__((format(printf, 3, 4))) static int fail(csv_reader *r, int code,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, sizeof r->msg, fmt, ap);
    va_end(ap);
    r->err = code;
    return code;
}

/* Makes at least `want` unread bytes available when the file has them
 * (fewer at its end). Returns the number available, or -1 on a read error
 * (r->err set). */
static long fill(csv_reader *r, size_t want)
{
    if (r->blen - r->bpos >= want || r->file_eof)
        return (long)(r->blen - r->bpos);
    memmove(r->buf, r->buf + r->bpos, r->blen - r->bpos);
    r->blen -= r->bpos;
    r->bpos = 0;
    while (r->blen < want && !r->file_eof) {
        size_t got = fread(r->buf + r->blen, 1, CSV_READ_CHUNK - r->blen, r->f);
        r->blen += got;
        if (got == 0) {
            if (ferror(r->f)) {
                fail(r, CSV_ERR_IO, "line %llu: read error: %s", (unsigned long long)r->line,
                     strerror(errno));
                return -1;
            }
            r->file_eof = true;
        }
    }
    return (long)(r->blen - r->bpos);
}

/* The next byte (0..255), EOF at the end, -2 on a read error. */
static int getb(csv_reader *r)
{
    long n = fill(r, 1);
    if (n < 0)
        return -2;
    if (n == 0)
        return EOF;
    r->consumed++;
    return r->buf[r->bpos++];
}

/* The next byte without taking it (EOF at the end, -2 on error). */
static int peekb(csv_reader *r)
{
    long n = fill(r, 1);
    if (n < 0)
        return -2;
    return n == 0 ? EOF : r->buf[r->bpos];
}

static int add(csv_reader *r, char c)
{
    if (r->rlen + 1 > CSV_MAX_RECORD_BYTES)
        return fail(r, CSV_ERR_LIMIT, "line %llu: record longer than %u bytes",
                    (unsigned long long)r->line, CSV_MAX_RECORD_BYTES);
    if (r->rlen + 1 > r->rcap) {
        size_t cap = r->rcap ? r->rcap * 2 : 1024;
        char *p = realloc(r->rec, cap);
        if (p == NULL)
            return fail(r, CSV_ERR_NOMEM, "out of memory");
        r->rec = p;
        r->rcap = cap;
    }
    r->rec[r->rlen++] = c;
    return 0;
}

static int field_begin(csv_reader *r)
{
    if (r->nf >= CSV_MAX_FIELDS)
        return fail(r, CSV_ERR_LIMIT, "line %llu: more than %u fields in one record",
                    (unsigned long long)r->line, CSV_MAX_FIELDS);
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? r->fcap * 2 : 16;
        size_t *s = realloc(r->starts, cap * sizeof *s);
        if (s == NULL)
            return fail(r, CSV_ERR_NOMEM, "out of memory");
        r->starts = s;
        csv_field *f = realloc(r->fields, cap * sizeof *f);
        if (f == NULL)
            return fail(r, CSV_ERR_NOMEM, "out of memory");
        r->fields = f;
        r->fcap = cap;
    }
    r->starts[r->nf] = r->rlen;
    r->fields[r->nf].quoted = false;
    r->nf++;
    return 0;
}

/* Ends the current field: its NUL. */
static int field_end(csv_reader *r) { return add(r, '\0'); }

/* Takes the line end whose first byte c was just read (CR, LF or CRLF). */
static int line_end(csv_reader *r, int c)
{
    if (c == '\r') {
        int n = peekb(r);
        if (n == -2)
            return r->err;
        if (n == '\n')
            (void)getb(r);
    }
    r->line++;
    return 0;
}

/* A byte-order mark (U+FEFF, EF BB BF) at the start of a field, whose
 * first byte *c was just read: skipped, and *c becomes the byte after it.
 * Files joined with `cat` or saved by an editor part-way carry one at the
 * start of a later record; kept, it would be stored invisibly in a name.
 * Returns 0, or the CSV_ERR_* of a read error. */
static int skip_bom(csv_reader *r, int *c)
{
    if (*c != 0xEF)
        return 0;
    long n = fill(r, 2);
    if (n < 0)
        return r->err;
    if (n >= 2 && r->buf[r->bpos] == 0xBB && r->buf[r->bpos + 1] == 0xBF) {
        r->bpos += 2;
        r->consumed += 2;
        *c = getb(r);
        if (*c == -2)
            return r->err;
    }
    return 0;
}

/* A quoted field, after its opening quote. Returns the byte after the
 * closing quote (or EOF), or a CSV_ERR_* (< -1 ... as negative below EOF). */
static int quoted(csv_reader *r, uint64_t start_line, int *after)
{
    r->fields[r->nf - 1].quoted = true;
    bool first = true;
    for (;;) {
        int c = getb(r);
        if (c == -2)
            return r->err;
        if (first) {
            first = false;
            if (skip_bom(r, &c) != 0)
                return r->err;
        }
        if (c == EOF)
            return fail(r, CSV_ERR_SYNTAX,
                        "line %llu: quoted field not closed at the end of the file",
                        (unsigned long long)start_line);
        if (c == '"') {
            int n = peekb(r);
            if (n == -2)
                return r->err;
            if (n != '"')
                break;
            (void)getb(r);
        } else if (c == '\n') {
            r->line++;
        } else if (c == '\r') {
            int n = peekb(r);
            if (n == -2)
                return r->err;
            if (n != '\n')
                r->line++;
        }
        if (add(r, (char)c) != 0)
            return r->err;
    }
    int c = getb(r);
    if (c == -2)
        return r->err;
    if (c != ',' && c != '\r' && c != '\n' && c != EOF)
        return fail(r, CSV_ERR_SYNTAX,
                    "line %llu: text after the closing quote of a field (a quote inside a "
                    "quoted field is written \"\")",
                    (unsigned long long)r->line);
    *after = c;
    return 0;
}

int csv_next(csv_reader *r, csv_record *rec)
{
    if (r->err != 0)
        return r->err;
    if (!r->started) {
        r->started = true;
        long n = fill(r, 3);
        if (n < 0)
            return r->err;
        if (n >= 3 && memcmp(r->buf + r->bpos, "\xEF\xBB\xBF", 3) == 0) {
            r->bpos += 3;
            r->consumed += 3;
            r->bom = true;
        }
    }
    int c = getb(r);
    if (c == -2)
        return r->err;
    if (c == EOF)
        return CSV_EOF;
    uint64_t start = r->line;
    r->rlen = 0;
    r->nf = 0;
    for (;;) {
        if (field_begin(r) != 0 || skip_bom(r, &c) != 0)
            return r->err;
        if (c == '"') {
            if (quoted(r, r->line, &c) != 0)
                return r->err;
        } else {
            while (c != ',' && c != '\r' && c != '\n' && c != EOF) {
                if (c == '"')
                    return fail(r, CSV_ERR_SYNTAX,
                                "line %llu: a quote inside an unquoted field (quote the whole "
                                "field and write the quote as \"\")",
                                (unsigned long long)r->line);
                if (add(r, (char)c) != 0)
                    return r->err;
                c = getb(r);
                if (c == -2)
                    return r->err;
            }
        }
        if (field_end(r) != 0)
            return r->err;
        if (c != ',')
            break;
        c = getb(r);
        if (c == -2)
            return r->err;
    }
    if (c != EOF && line_end(r, c) != 0)
        return r->err;
    for (size_t i = 0; i < r->nf; i++) {
        r->fields[i].s = r->rec + r->starts[i];
        size_t end = i + 1 < r->nf ? r->starts[i + 1] : r->rlen;
        r->fields[i].len = end - r->starts[i] - 1;   /* without its NUL */
    }
    rec->fields = r->fields;
    rec->nfields = r->nf;
    rec->line = start;
    return CSV_RECORD;
}
