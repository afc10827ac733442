/*
 * rowpack.c: PGresult rows -> msgpack maps (see rowpack.h).
 *
 * For: the text-format results of the pool's prepared statements. Integers
 * are parsed from text here (never through floating point); labels come as
 * one text with '\n' between elements, which is exact because no label may
 * hold a control character (sql/001_schema.sql bb_labels_valid). Not for:
 * binary-format results or anything needing the column types from the
 * catalog.
 */
#include "rowpack.h"

#include "log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool parse_int(const char *s, int64_t *out)
{
    if (s[0] == '\0')
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

int rowpack_check(const PGresult *res, const rp_col *cols, int ncols, const char **why)
{
    if (PQnfields(res) != ncols) {
        *why = "column count differs from the description";
        return -1;
    }
    for (int i = 0; i < ncols; i++) {
        const char *name = PQfname(res, i);
        if (name == NULL || strcmp(name, cols[i].key) != 0) {
            *why = "column name differs from the description";
            return -1;
        }
        if (PQfformat(res, i) != 0) {
            *why = "binary column";
            return -1;
        }
    }
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        for (int i = 0; i < ncols; i++) {
            if (PQgetisnull(res, r, i))
                continue;
            const char *v = PQgetvalue(res, r, i);
            int64_t n;
            if (cols[i].type == RP_INT && !parse_int(v, &n)) {
                *why = "integer column does not parse";
                return -1;
            }
            if (cols[i].type == RP_BOOL && strcmp(v, "t") != 0 && strcmp(v, "f") != 0) {
                *why = "boolean column does not parse";
                return -1;
            }
        }
    }
    return 0;
}

void rowpack_str(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void pack_lines(msgpack_packer *pk, const char *s, size_t len)
{
    if (len == 0) {
        msgpack_pack_array(pk, 0);
        return;
    }
    uint32_t n = 1;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\n')
            n++;
    msgpack_pack_array(pk, n);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '\n') {
            msgpack_pack_str(pk, i - start);
            msgpack_pack_str_body(pk, s + start, i - start);
            start = i + 1;
        }
    }
}

void rowpack_row(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols, int ncols)
{
    msgpack_pack_map(pk, (uint32_t)ncols);
    for (int i = 0; i < ncols; i++) {
        rowpack_str(pk, cols[i].key);
        if (PQgetisnull(res, row, i)) {
            msgpack_pack_nil(pk);
            continue;
        }
        const char *v = PQgetvalue(res, row, i);
        size_t len = (size_t)PQgetlength(res, row, i);
        int64_t n = 0;
        switch (cols[i].type) {
        case RP_INT:
            (void)parse_int(v, &n); /* checked by rowpack_check */
            msgpack_pack_int64(pk, n);
            break;
        case RP_BOOL:
            if (v[0] == 't')
                msgpack_pack_true(pk);
            else
                msgpack_pack_false(pk);
            break;
        case RP_LINES:
            pack_lines(pk, v, len);
            break;
        case RP_TEXT:
        default:
            msgpack_pack_str(pk, len);
            msgpack_pack_str_body(pk, v, len);
            break;
        }
    }
}

void rowpack_reply_pool_error(request *req, const char *stmt, const pool_error *e)
{
    switch (e->err) {
    case BB_E_UNAVAILABLE:
        /* The dispatcher logs every failed request; add what only we know
         * when PostgreSQL itself said why (e.g. 57014 statement_timeout). */
        if (e->sqlstate != NULL)
            log_req(LOG_WARN, req_conn_id(req), req_msgid(req), "query_unavailable",
                    "stmt=%s sqlstate=%s msg=%s", stmt, e->sqlstate, log_q(e->message));
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "the database is unavailable just now; retry (with the same "
                        "idempotency_key for a write)");
        return;
    case BB_E_SHUTTING_DOWN:
        req_reply_error(req, BB_E_SHUTTING_DOWN, NULL, "the server is shutting down");
        return;
    case BB_E_INVALID_ARGUMENT:
    case BB_E_NOT_FOUND:
    case BB_E_VERSION_CONFLICT:
    case BB_E_ALREADY_EXISTS:
    case BB_E_IDEMPOTENCY_KEY_REUSED:
    case BB_E_UNAUTHENTICATED:
    case BB_E_FORBIDDEN:
    case BB_E_DUPLICATE_REPORT:
        req_reply_error(req, e->err, e->field, "%s", e->message != NULL ? e->message : "");
        return;
    default:
        log_req(LOG_ERROR, req_conn_id(req), req_msgid(req), "query_failed",
                "stmt=%s sqlstate=%s msg=%s", stmt, e->sqlstate != NULL ? e->sqlstate : "-",
                log_q(e->message));
        req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        return;
    }
}

void rowpack_reply_query_rc(request *req, const char *stmt, int rc)
{
    pool_error e = {.err = (bb_err)-rc, .message = "query not sent"};
    if (e.err != BB_E_UNAVAILABLE && e.err != BB_E_SHUTTING_DOWN)
        e.err = BB_E_INTERNAL;
    rowpack_reply_pool_error(req, stmt, &e);
}

void rowpack_reply_bad_result(request *req, const char *stmt, const char *why)
{
    log_req(LOG_ERROR, req_conn_id(req), req_msgid(req), "bad_result", "stmt=%s why=%s", stmt,
            log_q(why));
    req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
}
