/*
 * csv.h: a streaming reader of RFC 4180 CSV, one record at a time.
 *
 * For: `baobao import` (cli_import.c): files of any length read through a
 * fixed buffer, never loaded whole. Fields separated by commas; a field
 * may be quoted with " and then hold commas, line breaks and doubled
 * quotes ("" = one "); records end with CRLF, LF or a lone CR (all three
 * are accepted, whatever RFC 4180 says, because editors differ); a UTF-8
 * byte-order mark at the very start is skipped (csv_had_bom); a last
 * record without a line end is a record.
 * A byte-order mark (U+FEFF, EF BB BF) at the start of any later field is
 * stripped too, before or just inside its opening quote: files joined
 * with `cat` carry one at the start of a later record, and kept it would
 * be stored invisibly in a name (U+FEFF is never wanted at the start of a
 * value). One is stripped per field; a U+FEFF elsewhere in a field is
 * data and kept. Line breaks inside a quoted field are kept as
 * they are in the file (CRLF stays CRLF).
 * Strict where being lenient would guess: a quote inside an unquoted
 * field, anything but a comma or a line end after a closing quote, and a
 * quoted field still open at the end of the file are errors naming the
 * line. Every record is bounded (CSV_MAX_RECORD_BYTES, CSV_MAX_FIELDS), so
 * a broken file (a quote never closed) cannot make the reader grow
 * without end.
 * Not for: knowing what the columns mean, or checking text (UTF-8 and the
 * rest are the caller's).
 *
 * Ownership: the reader borrows the FILE (the caller opens and closes it);
 * a record's fields point into the reader and stay valid until the next
 * csv_next or csv_close.
 */
#ifndef BB_CSV_H
#define BB_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Most bytes one record may hold (all its fields together), and most
 * fields: far above any enterprise row, low enough to stop a runaway. */
#define CSV_MAX_RECORD_BYTES (1024u * 1024u)
#define CSV_MAX_FIELDS 1024u
/* Bytes read from the file at a time. */
#define CSV_READ_CHUNK (64u * 1024u)

typedef struct csv_reader csv_reader;

/* One field: bytes [s, s + len), NUL-terminated too (a field may hold a
 * NUL byte from the file: use len). quoted: it was written in quotes. */
typedef struct csv_field {
    const char *s;
    size_t len;
    bool quoted;
} csv_field;

typedef struct csv_record {
    const csv_field *fields;   /* borrowed from the reader */
    size_t nfields;            /* >= 1: an empty line is one empty field */
    uint64_t line;             /* the line (1-based) where the record starts */
} csv_record;

/* Results of csv_next. */
enum {
    CSV_RECORD = 1,
    CSV_EOF = 0,
    CSV_ERR_SYNTAX = -1,   /* see csv_error */
    CSV_ERR_LIMIT = -2,    /* a record over CSV_MAX_RECORD_BYTES / CSV_MAX_FIELDS */
    CSV_ERR_IO = -3,       /* reading the file failed (errno kept in the message) */
    CSV_ERR_NOMEM = -4,
};

/* A reader of f (borrowed, read from its current position). NULL when out
 * of memory. */
csv_reader *csv_open(FILE *f);
void csv_close(csv_reader *r);   /* NULL allowed; does not close the FILE */

/* Reads the next record into *rec. Returns CSV_RECORD, CSV_EOF, or a
 * CSV_ERR_* (then csv_error says what and on which line; the reader is
 * finished: later calls return the same error). */
__attribute__((warn_unused_result)) int csv_next(csv_reader *r, csv_record *rec);

/* The last error, e.g. "line 7: quoted field not closed at the end of the
 * file"; "" when none. Owned by the reader. */
const char *csv_error(const csv_reader *r);
/* Bytes of the file consumed so far (for a progress bar). */
uint64_t csv_bytes_read(const csv_reader *r);
/* True when the file started with a UTF-8 byte-order mark. */
bool csv_had_bom(const csv_reader *r);

#endif
