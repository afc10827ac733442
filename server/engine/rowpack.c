/*
 * rowpack.c: PGresult rows -> msgpack maps (see rowpack.h).
 *
 * For: the text-format results of the pool's prepared statements. Integers
 * are parsed from text here (never through floating point); labels come as
 * one text with '\n' between elements, which is exact because no label may
 * hold a control character (sql/001_schema.sql bb_labels_valid). Not for:
 * binary-format results or anything needing the column types from the
 * catalog.
 *
 * Cost (docs/benchmarks.md, "Profile for issue 15"): a list page is 20
 * rows of 10 cells, so what runs per cell is what counts. Each cell is
 * read with as few libpq calls as its type allows (an empty value is the
 * only one that can be NULL, so PQgetisnull runs only for those), integers
 * go through a decimal parser of our own instead of strtoll, and the bytes
 * are packed by hand into a staging buffer on the stack that reaches the
 * packer in one write per ROWPACK_STAGE bytes, instead of two packer
 * callbacks per key and per value. The bytes are exactly those of
 * msgpack-c's msgpack_pack_* (tests/unit/test_rowpack.c compares them).
 */
#include "rowpack.h"

#include "log.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ---- integers ---- */

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* The text of a PostgreSQL integer (what strtoll takes in base 10:
 * optional leading white space and sign, then digits, nothing after) ->
 * *out. False for anything else, "" and values beyond int64. */
static bool parse_int(const char *s, int64_t *out)
{
    while (is_space(*s))
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    /* Accumulated as the magnitude: INT64_MIN's is one more than INT64_MAX.
     * Eighteen digits cannot overflow; only longer texts are checked digit
     * by digit. */
    uint64_t v = 0;
    int k = 0;
    for (; k < 18 && s[k] >= '0' && s[k] <= '9'; k++)
        v = v * 10 + (uint64_t)(s[k] - '0');
    s += k;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (*s != '\0')
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

bool rowpack_parse_int(const char *s, int64_t *out) { return parse_int(s, out); }

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
    /* Only integers and booleans can fail to parse: text and lines are
     * never read here. A NULL cell reads as "" (libpq), and "" is neither
     * an integer nor a boolean, so PQgetisnull runs only for those. */
    int rows = PQntuples(res);
    for (int i = 0; i < ncols; i++) {
        if (cols[i].type != RP_INT && cols[i].type != RP_BOOL)
            continue;
        for (int r = 0; r < rows; r++) {
            const char *v = PQgetvalue(res, r, i);
            if (v[0] == '\0' && PQgetisnull(res, r, i))
                continue;
            int64_t n;
            if (cols[i].type == RP_INT && !parse_int(v, &n)) {
                *why = "integer column does not parse";
                return -1;
            }
            if (cols[i].type == RP_BOOL && !((v[0] == 't' || v[0] == 'f') && v[1] == '\0')) {
                *why = "boolean column does not parse";
                return -1;
            }
        }
    }
    return 0;
}

/* ---- packing by hand ---- */

/* Bytes packed on the stack before they go to the packer in one write:
 * a whole list page (20 rows of about 250 bytes) fits, and a value longer
 * than half of it goes to the packer directly rather than being copied. */
#define ROWPACK_STAGE 8192

typedef struct stage {
    msgpack_packer *pk;
    size_t n;
    unsigned char b[ROWPACK_STAGE];
} stage;

static void stage_flush(stage *s)
{
    if (s->n > 0)
        (void)s->pk->callback(s->pk->data, (const char *)s->b, s->n);
    s->n = 0;
}

/* Room for a header (at most 9 bytes). */
static unsigned char *stage_room(stage *s, size_t need)
{
    if (ROWPACK_STAGE - s->n < need)
        stage_flush(s);
    return s->b + s->n;
}

static void stage_bytes(stage *s, const void *p, size_t len)
{
    if (len > ROWPACK_STAGE - s->n) {
        stage_flush(s);
        if (len > ROWPACK_STAGE / 2) {
            (void)s->pk->callback(s->pk->data, p, len);
            return;
        }
    }
    memcpy(s->b + s->n, p, len);
    s->n += len;
}

static void put_be16(unsigned char *o, uint16_t v)
{
    o[0] = (unsigned char)(v >> 8);
    o[1] = (unsigned char)v;
}

static void put_be32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24);
    o[1] = (unsigned char)(v >> 16);
    o[2] = (unsigned char)(v >> 8);
    o[3] = (unsigned char)v;
}

static void put_be64(unsigned char *o, uint64_t v)
{
    put_be32(o, (uint32_t)(v >> 32));
    put_be32(o + 4, (uint32_t)v);
}

static void put_byte(stage *s, unsigned char c) { *stage_room(s, 1) = c, s->n++; }

/* A header of the family fix (fixmap 0x80, fixarray 0x90, fixstr 0xa0;
 * fixlim elements), then 16 and 32 bits (str also 8 bits: str8 0xd9). */
static void put_head(stage *s, uint32_t n, unsigned char fix, uint32_t fixlim, unsigned char b8,
                     unsigned char b16, unsigned char b32)
{
    unsigned char *o = stage_room(s, 5);
    if (n < fixlim) {
        o[0] = (unsigned char)(fix | n);
        s->n += 1;
    } else if (b8 != 0 && n < 256) {
        o[0] = b8;
        o[1] = (unsigned char)n;
        s->n += 2;
    } else if (n < 65536) {
        o[0] = b16;
        put_be16(o + 1, (uint16_t)n);
        s->n += 3;
    } else {
        o[0] = b32;
        put_be32(o + 1, n);
        s->n += 5;
    }
}

static void put_map(stage *s, uint32_t n) { put_head(s, n, 0x80, 16, 0, 0xde, 0xdf); }
static void put_array(stage *s, uint32_t n) { put_head(s, n, 0x90, 16, 0, 0xdc, 0xdd); }

static void put_str(stage *s, const char *p, size_t len)
{
    if (len < 32 && ROWPACK_STAGE - s->n > 32) { /* most cells: a fixstr, room checked once */
        unsigned char *o = s->b + s->n;
        o[0] = (unsigned char)(0xa0 | len);
        memcpy(o + 1, p, len);
        s->n += 1 + len;
        return;
    }
    put_head(s, (uint32_t)len, 0xa0, 32, 0xd9, 0xda, 0xdb);
    stage_bytes(s, p, len);
}

/* The smallest form, as msgpack_pack_int64 chooses it. */
static void put_int(stage *s, int64_t d)
{
    unsigned char *o = stage_room(s, 9);
    if (d < -(1LL << 5)) {
        if (d < -(1LL << 15)) {
            if (d < -(1LL << 31)) {
                o[0] = 0xd3;
                put_be64(o + 1, (uint64_t)d);
                s->n += 9;
            } else {
                o[0] = 0xd2;
                put_be32(o + 1, (uint32_t)d);
                s->n += 5;
            }
        } else if (d < -(1 << 7)) {
            o[0] = 0xd1;
            put_be16(o + 1, (uint16_t)d);
            s->n += 3;
        } else {
            o[0] = 0xd0;
            o[1] = (unsigned char)d;
            s->n += 2;
        }
    } else if (d < (1 << 7)) {
        o[0] = (unsigned char)d;
        s->n += 1;
    } else if (d < (1LL << 16)) {
        if (d < (1 << 8)) {
            o[0] = 0xcc;
            o[1] = (unsigned char)d;
            s->n += 2;
        } else {
            o[0] = 0xcd;
            put_be16(o + 1, (uint16_t)d);
            s->n += 3;
        }
    } else if (d < (1LL << 32)) {
        o[0] = 0xce;
        put_be32(o + 1, (uint32_t)d);
        s->n += 5;
    } else {
        o[0] = 0xcf;
        put_be64(o + 1, (uint64_t)d);
        s->n += 9;
    }
}

void rowpack_str(msgpack_packer *pk, const char *s)
{
    size_t len = strlen(s);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void put_lines(stage *s, const char *p, size_t len)
{
    if (len == 0) {
        put_array(s, 0);
        return;
    }
    uint32_t n = 1;
    for (const char *q = p; (q = memchr(q, '\n', len - (size_t)(q - p))) != NULL; q++)
        n++;
    put_array(s, n);
    const char *end = p + len;
    while (n-- > 0) {
        const char *nl = n > 0 ? memchr(p, '\n', (size_t)(end - p)) : end;
        put_str(s, p, (size_t)(nl - p));
        p = nl + 1;
    }
}

/* The keys of a call, packed once: each slot holds a key's fixstr
 * (header and bytes, at most ROWPACK_KEY_SLOT) and is copied whole, a
 * copy of constant size the compiler does inline; len says how much of it
 * counts (0: the key is too long for a slot, packed as any str). */
#define ROWPACK_KEY_SLOT 32
#define ROWPACK_KEYS 64

typedef struct keys {
    unsigned char slot[ROWPACK_KEYS][ROWPACK_KEY_SLOT];
    uint8_t len[ROWPACK_KEYS];
} keys;

static void keys_pack(keys *k, const rp_col *cols, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        size_t n = strlen(cols[i].key);
        k->len[i] = 0;
        if (n + 1 > ROWPACK_KEY_SLOT)
            continue;
        memset(k->slot[i], 0, ROWPACK_KEY_SLOT);
        k->slot[i][0] = (unsigned char)(0xa0 | n);
        memcpy(k->slot[i] + 1, cols[i].key, n);
        k->len[i] = (uint8_t)(n + 1);
    }
}

/* Packs one row; k holds the keys packed (NULL: packed one by one). */
static void put_row(stage *s, const PGresult *res, int row, const rp_col *cols, int ncols,
                    const keys *k)
{
    put_map(s, (uint32_t)ncols);
    for (int i = 0; i < ncols; i++) {
        if (k != NULL && k->len[i] != 0 && ROWPACK_STAGE - s->n >= ROWPACK_KEY_SLOT) {
            memcpy(s->b + s->n, k->slot[i], ROWPACK_KEY_SLOT);
            s->n += k->len[i];
        } else {
            put_str(s, cols[i].key, strlen(cols[i].key));
        }
        const char *v;
        size_t len;
        switch (cols[i].type) {
        case RP_INT: {
            v = PQgetvalue(res, row, i);
            int64_t n = 0;
            if (v[0] == '\0' && PQgetisnull(res, row, i)) {
                put_byte(s, 0xc0);
                break;
            }
            (void)parse_int(v, &n); /* checked by rowpack_check */
            put_int(s, n);
            break;
        }
        case RP_BOOL:
            v = PQgetvalue(res, row, i);
            if (v[0] == '\0' && PQgetisnull(res, row, i))
                put_byte(s, 0xc0);
            else
                put_byte(s, v[0] == 't' ? 0xc3 : 0xc2);
            break;
        case RP_LINES:
        case RP_TEXT:
        default:
            len = (size_t)PQgetlength(res, row, i);
            if (len == 0 && PQgetisnull(res, row, i)) {
                put_byte(s, 0xc0);
                break;
            }
            v = PQgetvalue(res, row, i);
            if (cols[i].type == RP_LINES)
                put_lines(s, v, len);
            else
                put_str(s, v, len);
            break;
        }
    }
}

void rowpack_rows(msgpack_packer *pk, const PGresult *res, int first, int n, const rp_col *cols,
                  int ncols)
{
    /* Packing the keys first pays from the second row on (a get has one). */
    keys k;
    const keys *kp = NULL;
    if (n > 1 && ncols <= ROWPACK_KEYS) {
        keys_pack(&k, cols, ncols);
        kp = &k;
    }
    stage s;
    s.pk = pk;
    s.n = 0;
    for (int r = first; r < first + n; r++)
        put_row(&s, res, r, cols, ncols, kp);
    stage_flush(&s);
}

void rowpack_row(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols, int ncols)
{
    rowpack_rows(pk, res, row, 1, cols, ncols);
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
