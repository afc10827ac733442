/*
 * rowpack.h: one PGresult row -> one msgpack map, from a static description
 * of the columns.
 *
 * The SQL names its columns after the wire keys (see the *_wire views in
 * sql/002_functions.sql); rowpack_check verifies that, and that every cell
 * parses as its type, before anything is packed, so a mismatch becomes an
 * `internal` error instead of half a response. SQL NULL is packed as nil.
 * Also the two ways a method answers a failed query (rowpack_reply_*), so
 * enterprise.c and status.c word database errors the same way.
 * Not for: deciding which columns a method returns (the method's file
 * holds its column list next to its SQL).
 */
#ifndef BB_ROWPACK_H
#define BB_ROWPACK_H

#include <libpq-fe.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "pool.h"
#include "request.h"

typedef enum rp_type {
    RP_TEXT,    /* str */
    RP_INT,     /* int (text form of a PostgreSQL integer, int64 range) */
    RP_BOOL,    /* bool ('t' / 'f') */
    RP_LINES,   /* array of str: the text is the elements joined with '\n'
                   ('' = []); used for text[] whose elements cannot hold a
                   newline (labels: control characters are refused at the
                   edge and by a CHECK), e.g. array_to_string(labels, E'\n') */
} rp_type;

typedef struct rp_col {
    const char *key;   /* wire key = result column name */
    rp_type type;
} rp_col;

/* Returns 0 when res has exactly ncols columns named cols[i].key in order
 * and every cell parses; else -1 with *why set to a static reason. */
__attribute__((warn_unused_result))
int rowpack_check(const PGresult *res, const rp_col *cols, int ncols, const char **why);

/* Packs row `row` as a map of ncols entries (the first ncols columns
 * of cols). res must have passed rowpack_check. */
void rowpack_row(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols, int ncols);

/* Packs rows first .. first + n - 1, each as rowpack_row would, one map
 * after the other: the keys measured once and the bytes handed to the
 * packer in few large writes (a page of a list). */
void rowpack_rows(msgpack_packer *pk, const PGresult *res, int first, int n, const rp_col *cols,
                  int ncols);

/* The text of an integer cell -> *out, as rowpack_check parses it
 * (base 10, optional sign, int64 range, nothing after). False when it
 * does not parse. For packers of their own shape and cursors. */
__attribute__((warn_unused_result))
bool rowpack_parse_int(const char *s, int64_t *out);

/* Packs a str from a NUL-terminated C string. */
void rowpack_str(msgpack_packer *pk, const char *s);

/* Answers req for a query whose callback got error e: the mapped code,
 * field and message for the BBxxx/23505 cases; a fixed message for
 * unavailable; `internal` is logged (conn, msgid, stmt, sqlstate,
 * PostgreSQL's message) and answered without PostgreSQL's text. */
void rowpack_reply_pool_error(request *req, const char *stmt, const pool_error *e);

/* Answers req for a pool_query that failed synchronously with rc < 0. */
void rowpack_reply_query_rc(request *req, const char *stmt, int rc);

/* Answers req with `internal` for a result rowpack_check refused (logged). */
void rowpack_reply_bad_result(request *req, const char *stmt, const char *why);

#endif
