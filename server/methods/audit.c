/*
 * audit.c: the audit.* methods (proto/PROTOCOL.md section 6, "Audit"):
 * audit.list, the trail of changes newest first, audit.get, one record of
 * it, and audit.as_of, a record as it was at a date or an instant
 * (supervisors and admins); audit.logins, the login log (login_event)
 * newest first, for admins only (the spec's roles, proto/spec/audit.c).
 *
 * The arguments are declared in proto/spec/audit.c and checked by the
 * dispatcher. Here: the rules the spec cannot say (the form of a bound;
 * entity_id needs entity), one statement per request (by parameter name),
 * and packing audit rows. before/after are stored as jsonb (the record as
 * the wire shows it); they come as JSON text and are converted here to
 * msgpack maps, so a client sees maps, never JSON strings.
 * Not for: writing audit rows: every write function in sql/ writes its own,
 * in the transaction of the change (sql/004_accounts.sql bb_audit,
 * sql/006_scope_audit.sql).
 *
 * Bounds (`from`, `to`, `at`) are a date "YYYY-MM-DD", meaning that whole
 * day in the server's time_zone, or an RFC 3339 timestamp with a zone
 * ("Z" or "+08:00"), meaning that instant; the database turns them into
 * instants (bb_audit_from / bb_audit_until). The list is ordered by (at,
 * id) descending, newest first; its cursor is the id of the last item of
 * the previous page, whose `at` the database looks up (an id that names no
 * audit row is invalid_argument, field after).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "log.h"
#include "methods.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

/* Longest bound accepted: "YYYY-MM-DDTHH:MM:SS.ffffff+hh:mm" is 32. */
#define AUDIT_BOUND_MAX 32u
/* Deepest JSON nesting converted (records are a map of scalars and arrays
 * of str: depth 2). */
#define AUDIT_JSON_DEPTH_MAX 16

/* The Audit object: columns in wire order; the last three are JSON text
 * converted to msgpack (changed an array, before/after nil-able maps). */
static const rp_col audit_cols[] = {
    {"id", RP_INT},       {"at", RP_TEXT},     {"user", RP_TEXT},      {"user_id", RP_INT},
    {"addr", RP_TEXT},    {"method", RP_TEXT}, {"entity", RP_TEXT},    {"entity_id", RP_INT},
    {"changed", RP_TEXT}, {"before", RP_TEXT}, {"after", RP_TEXT},
};
#define AUDIT_NCOLS ((int)(sizeof audit_cols / sizeof audit_cols[0]))
#define AUDIT_FIRST_JSON 8

/* :_tz: the server's time_zone, which turns a date bound into instants. */
static const char *const tz_extras[] = {"_tz", NULL};

/* One page (sql/006_scope_audit.sql bb_audit_list: the filters, the
 * cursor, and why it is PL/pgSQL with custom plans), one row more than
 * the page. */
static mstmt st_list = {
    .name = "audit_list", .sql =
    "SELECT * FROM bb_audit_list(p_entity => :entity::text, p_entity_id => :entity_id::bigint,"
    " p_user => :user::text, p_from => :from::text, p_to => :to::text,"
    " p_after => :after::bigint, p_limit => :limit::int + 1, p_tz => :_tz::text)",
    .cols = audit_cols, .ncols = AUDIT_NCOLS, .extras = tz_extras};

/* audit.get: one record, the columns of bb_audit_list. */
static mstmt st_get = {
    .name = "audit_get", .sql =
    "SELECT a.id, bb_ts(a.at) AS at, a.login AS \"user\", a.user_id, a.addr, a.method,"
    " a.entity, a.entity_id, to_jsonb(a.changed)::text AS changed, a.before::text AS before,"
    " a.after::text AS after FROM audit_log a WHERE a.id = :id::bigint",
    .cols = audit_cols, .ncols = AUDIT_NCOLS};

/* A LoginEvent (sql/018_audit_reads.sql bb_login_events). */
static const rp_col login_cols[] = {
    {"id", RP_INT},   {"at", RP_TEXT},      {"login", RP_TEXT},
    {"user_id", RP_INT}, {"addr", RP_TEXT}, {"outcome", RP_TEXT},
    {"via", RP_TEXT},
};

/* audit.logins: one page newest first, one row more than the page. */
static mstmt st_logins = {
    .name = "audit_logins", .sql =
    "SELECT * FROM bb_login_events(p_login => :login::text, p_outcome => :outcome::text,"
    " p_from => :from::text, p_to => :to::text, p_after => :after::bigint,"
    " p_limit => :limit::int + 1, p_tz => :_tz::text)",
    .cols = login_cols, .ncols = (int)(sizeof login_cols / sizeof login_cols[0]),
    .extras = tz_extras};

static const rp_col as_of_cols[] = {{"after", RP_TEXT}};

/* The latest change at or before the bound: its `after` (NULL after a
 * delete); no row = the record did not exist yet. */
static mstmt st_as_of = {
    .name = "audit_as_of", .sql =
    "SELECT a.after::text AS after FROM audit_log a"
    " WHERE a.entity = :entity::text AND a.entity_id = :id::bigint"
    "   AND a.at < bb_audit_until(p_bound => :at::text, p_tz => :_tz::text)"
    " ORDER BY a.at DESC, a.id DESC LIMIT 1",
    .cols = as_of_cols, .ncols = 1, .extras = tz_extras};

/* ---- JSON text (PostgreSQL's jsonb output) -> msgpack ---- */

typedef struct jreader {
    const char *p, *end;
} jreader;

static void j_ws(jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Decodes the JSON string at r->p (just after its opening quote) into out
 * (NULL: only measure). Returns the decoded byte count, or -1; on success
 * r->p is after the closing quote. */
static long j_string(jreader *r, char *out)
{
    long n = 0;
    const char *p = r->p;
    while (p < r->end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            if (out != NULL)
                out[n] = (char)c;
            n++;
            p++;
            continue;
        }
        if (p + 1 >= r->end)
            return -1;
        char e = p[1];
        p += 2;
        char simple = e == '"' ? '"' : e == '\\' ? '\\' : e == '/' ? '/' : e == 'b' ? '\b'
                    : e == 'f' ? '\f' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : 0;
        if (simple != 0) {
            if (out != NULL)
                out[n] = simple;
            n++;
            continue;
        }
        unsigned cp;
        if (e != 'u' || r->end - p < 4 || hex4(p, &cp) != 0)
            return -1;
        p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (r->end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) != 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
            return -1;
        }
        unsigned char b[4];
        int k;
        if (cp < 0x80) {
            b[0] = (unsigned char)cp;
            k = 1;
        } else if (cp < 0x800) {
            b[0] = (unsigned char)(0xC0 | (cp >> 6));
            b[1] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 2;
        } else if (cp < 0x10000) {
            b[0] = (unsigned char)(0xE0 | (cp >> 12));
            b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            b[2] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 3;
        } else {
            b[0] = (unsigned char)(0xF0 | (cp >> 18));
            b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            b[3] = (unsigned char)(0x80 | (cp & 0x3F));
            k = 4;
        }
        if (out != NULL)
            memcpy(out + n, b, (size_t)k);
        n += k;
    }
    if (p >= r->end)
        return -1;
    r->p = p + 1;
    return n;
}

static int j_value(jreader *r, msgpack_packer *pk, int depth);

/* Counts the elements of the array or object at r->p (just after its
 * opening bracket) without packing; r is not moved. -1 when malformed. */
static long j_count(const jreader *r, char close, int depth)
{
    jreader t = *r;
    long n = 0;
    j_ws(&t);
    if (t.p < t.end && *t.p == close)
        return 0;
    for (;;) {
        if (close == '}') {
            j_ws(&t);
            if (t.p >= t.end || *t.p != '"')
                return -1;
            t.p++;
            if (j_string(&t, NULL) < 0)
                return -1;
            j_ws(&t);
            if (t.p >= t.end || *t.p != ':')
                return -1;
            t.p++;
        }
        if (j_value(&t, NULL, depth + 1) != 0)
            return -1;
        n++;
        j_ws(&t);
        if (t.p < t.end && *t.p == ',') {
            t.p++;
            continue;
        }
        if (t.p < t.end && *t.p == close)
            return n;
        return -1;
    }
}

/* Packs (pk NULL: skips) one string whose opening quote is at r->p. */
static int j_pack_string(jreader *r, msgpack_packer *pk)
{
    r->p++;
    jreader t = *r;
    long len = j_string(&t, NULL);
    if (len < 0)
        return -1;
    if (pk == NULL) {
        *r = t;
        return 0;
    }
    char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf == NULL)
        return -1;
    (void)j_string(r, buf);
    msgpack_pack_str(pk, (size_t)len);
    msgpack_pack_str_body(pk, buf, (size_t)len);
    free(buf);
    return 0;
}

static int j_number(jreader *r, msgpack_packer *pk)
{
    const char *s = r->p;
    bool integral = true;
    while (r->p < r->end && *r->p != '\0' && strchr("0123456789+-.eE", *r->p) != NULL) {
        if (*r->p == '.' || *r->p == 'e' || *r->p == 'E')
            integral = false;
        r->p++;
    }
    size_t len = (size_t)(r->p - s);
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end = NULL;
    if (integral) {
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno == 0 && end != NULL && *end == '\0') {
            if (pk != NULL)
                msgpack_pack_int64(pk, (int64_t)v);
            return 0;
        }
    }
    double d = strtod(buf, &end);
    if (end == NULL || *end != '\0' || !isfinite(d))
        return -1;
    if (pk != NULL)
        msgpack_pack_double(pk, d);
    return 0;
}

static int j_literal(jreader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return -1;
    r->p += n;
    return 0;
}

/* Packs (pk NULL: skips) the JSON value at r->p. 0 or -1. */
static int j_value(jreader *r, msgpack_packer *pk, int depth)
{
    if (depth > AUDIT_JSON_DEPTH_MAX)
        return -1;
    j_ws(r);
    if (r->p >= r->end)
        return -1;
    char c = *r->p;
    if (c == '"')
        return j_pack_string(r, pk);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        r->p++;
        long n = j_count(r, close, depth);
        if (n < 0)
            return -1;
        if (pk != NULL) {
            if (c == '{')
                msgpack_pack_map(pk, (size_t)n);
            else
                msgpack_pack_array(pk, (size_t)n);
        }
        for (long i = 0; i < n; i++) {
            j_ws(r);
            if (c == '{') {
                if (j_pack_string(r, pk) != 0)
                    return -1;
                j_ws(r);
                r->p++; /* ':' (checked by j_count) */
            }
            if (j_value(r, pk, depth + 1) != 0)
                return -1;
            j_ws(r);
            if (i + 1 < n)
                r->p++; /* ',' */
        }
        j_ws(r);
        r->p++; /* close */
        return 0;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        /* true, false, null: the word must follow in full. */
        if (j_literal(r, c == 't' ? "true" : c == 'f' ? "false" : "null") != 0)
            return -1;
        if (pk == NULL)
            return 0;
        if (c == 'n')
            msgpack_pack_nil(pk);
        else if (c == 't')
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        return 0;
    }
    return j_number(r, pk);
}

/* Packs the JSON text s[0..len) as one msgpack value. 0, or -1 when it is
 * not one well-formed JSON value (something may have been packed). */
static int json_pack(msgpack_packer *pk, const char *s, size_t len)
{
    jreader r = {s, s + len};
    if (j_value(&r, pk, 0) != 0)
        return -1;
    j_ws(&r);
    return r.p == r.end ? 0 : -1;
}

/* ---- packing rows ---- */

/* Packs column col of row as its type (SQL NULL = nil); JSON columns
 * through json_pack. -1 when a JSON cell does not convert. */
static int pack_cell(msgpack_packer *pk, const PGresult *res, int row, int col, bool json)
{
    if (PQgetisnull(res, row, col)) {
        msgpack_pack_nil(pk);
        return 0;
    }
    const char *v = PQgetvalue(res, row, col);
    size_t len = (size_t)PQgetlength(res, row, col);
    if (json)
        return json_pack(pk, v, len);
    if (audit_cols[col].type == RP_INT) {
        msgpack_pack_int64(pk, (int64_t)strtoll(v, NULL, 10)); /* rowpack_check parsed it */
        return 0;
    }
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, v, len);
    return 0;
}

static int pack_audit_row(msgpack_packer *pk, const PGresult *res, int row)
{
    msgpack_pack_map(pk, AUDIT_NCOLS);
    for (int i = 0; i < AUDIT_NCOLS; i++) {
        rowpack_str(pk, audit_cols[i].key);
        if (pack_cell(pk, res, row, i, i >= AUDIT_FIRST_JSON) != 0)
            return -1;
    }
    return 0;
}

/* ---- arguments ---- */

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static unsigned num(const char *s, size_t n)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    return v;
}

/* True when s[0..10) is a calendar date YYYY-MM-DD, years 0001-9999. */
static bool is_date(const char *s)
{
    if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2))
        return false;
    unsigned y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y == 0 || m < 1 || m > 12)
        return false;
    return d >= 1 && d <= mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u);
}

/* A bound: a date, or an RFC 3339 timestamp
 * YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+hh:mm|-hh:mm). */
static bool is_bound(const char *s, size_t len)
{
    if (len < 10 || !is_date(s))
        return false;
    if (len == 10)
        return true;
    if (len < 20 || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' || !digits(s + 14, 2) ||
        s[16] != ':' || !digits(s + 17, 2) || num(s + 11, 2) > 23 || num(s + 14, 2) > 59 ||
        num(s + 17, 2) > 59)
        return false;
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = 0;
        i++;
        while (i < len && s[i] >= '0' && s[i] <= '9' && f < 7) {
            i++;
            f++;
        }
        if (f < 1 || f > 6)
            return false;
    }
    if (i < len && s[i] == 'Z')
        return i + 1 == len;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        return len - i == 6 && digits(s + i + 1, 2) && s[i + 3] == ':' &&
               digits(s + i + 4, 2) && num(s + i + 1, 2) <= 23 && num(s + i + 4, 2) <= 59;
    return false;
}

/* The bound argument name, when given, is a date or a timestamp. 0, or
 * -1 answered. */
static int check_bound(request *req, const margs *a, const char *name)
{
    const bb_val *v = margs_get(a, name);
    if (v->state != BB_V_SET || is_bound(v->s, v->len))
        return 0;
    req_reply_error(req, BB_E_INVALID_ARGUMENT, name,
                    "%s: must be a date YYYY-MM-DD or an RFC 3339 timestamp "
                    "(e.g. 2026-11-26T02:03:04Z)",
                    name);
    return -1;
}

/* ---- audit.list ---- */

static const mshape audit_shape = {.pack = pack_audit_row};

static void audit_list(request *req, const margs *a)
{
    if (margs_set(a, "entity_id") && !margs_set(a, "entity")) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "entity_id",
                        "entity_id: needs entity (ids are per kind of record)");
        return;
    }
    if (check_bound(req, a, "from") != 0 || check_bound(req, a, "to") != 0)
        return;
    const char *extra[] = {req_server(req)->cfg.time_zone};
    mstmt_query_page(req, &st_list, a, extra, &audit_shape);
}

/* ---- audit.as_of ---- */

/* What the not_found message names, once the arguments are gone. */
typedef struct asof_ctx {
    int64_t id;
    char entity[AUDIT_BOUND_MAX + 1];
    char at[AUDIT_BOUND_MAX + 1];
} asof_ctx;

static void as_of_done(request *req, const PGresult *res, void *ctx)
{
    asof_ctx *c = ctx;
    if (PQntuples(res) == 0) {
        req_reply_error(req, BB_E_NOT_FOUND, "id", "%s %" PRId64 " did not exist at %s",
                        c->entity, c->id, c->at);
        free(c);
        return;
    }
    free(c);
    msgpack_packer *pk = req_result_begin(req);
    if (PQgetisnull(res, 0, 0)) {
        msgpack_pack_nil(pk); /* deleted by then */
    } else if (json_pack(pk, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) != 0) {
        rowpack_reply_bad_result(req, st_as_of.name, "after is not JSON");
        return;
    }
    req_result_end(req);
}

static void audit_as_of(request *req, const margs *a)
{
    if (check_bound(req, a, "at") != 0)
        return;
    asof_ctx *c = req_alloc(req, sizeof *c);
    if (c == NULL)
        return;
    const bb_val *entity = margs_get(a, "entity"), *at = margs_get(a, "at");
    c->id = margs_int(a, "id", 0);
    snprintf(c->entity, sizeof c->entity, "%.*s", (int)entity->len, entity->s);
    snprintf(c->at, sizeof c->at, "%.*s", (int)at->len, at->s);
    const char *extra[] = {req_server(req)->cfg.time_zone};
    mstmt_query(req, &st_as_of, a, extra, as_of_done, c, free);
}

/* ---- audit.logins ---- */

static void audit_logins(request *req, const margs *a)
{
    if (check_bound(req, a, "from") != 0 || check_bound(req, a, "to") != 0)
        return;
    const char *extra[] = {req_server(req)->cfg.time_zone};
    mstmt_query_page(req, &st_logins, a, extra, NULL);
}

static const method_impl audit_methods[] = {
    {"audit.list", .fn = audit_list},
    {"audit.as_of", .fn = audit_as_of},
    /* before/after as maps, as in audit.list. */
    {"audit.get", .stmt = &st_get, .reply = MR_ROW, .what = "audit record",
     .shape = &audit_shape},
    {"audit.logins", .fn = audit_logins},
    {NULL},
};

static mstmt *const audit_stmts[] = {&st_list, &st_as_of, &st_logins, NULL};

const method_module audit_module = {
    .name = "audit",
    .methods = audit_methods,
    .stmts = audit_stmts,
};
