/*
 * args.c: a request's argument map checked against its method's spec
 * (method.h, margs). Strict on purpose: a value of the wrong msgpack type
 * is refused, never converted, and every error names its argument
 * (`field`), for array elements as `labels[2]`. A str is taken only in
 * its one checked form: not blank, and without spaces at its ends
 * (bb_space.h: U+0020, U+3000 and the other Unicode spaces), which nobody
 * means and a client trims before it sends (PROTOCOL.md section 1,
 * "Spaces at the ends"); refused, never trimmed here, as every other
 * value.
 *
 * The map is walked once: each key is matched to the spec's argument of
 * that name (unknown and repeated keys refused), then every argument is
 * checked in declared order, so the first argument at fault is the one
 * reported.
 *
 * Not for: rules across arguments or against the database (the method's
 * handler, and the stored functions in sql/).
 */
#include "method.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_limits.h"
#include "bb_space.h"
#include "bb_utf8.h"
#include "clock.h"
#include "server.h"

/* Keys are echoed back as `field`; a longer key is cut (at a character
 * boundary) so the error stays small. */
#define ARGS_FIELD_MAX 128

static const char *field_name(char *buf, size_t cap, const char *s, size_t len)
{
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* What the checks run with: the settings (NULL: the protocol's defaults)
 * and where the first error goes. */
typedef struct checker {
    const config *cfg;
    margs_error *err;
} checker;

/* Records the error (code, field, message); returns -1. */
__attribute__((format(printf, 4, 5)))
static int report(checker *req, bb_err code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(req->err->message, sizeof req->err->message, fmt, ap);
    va_end(ap);
    req->err->code = code;
    req->err->has_field = field != NULL;
    snprintf(req->err->field, sizeof req->err->field, "%s", field != NULL ? field : "");
    return -1;
}

#define fail(req, field, ...) report((req), BB_E_INVALID_ARGUMENT, (field), __VA_ARGS__)

/* Matches every key of map to an argument of a; refuses unknown and
 * repeated keys. */
static int match_keys(checker *req, const msgpack_object *map, margs *a)
{
    if (map == NULL || map->type != MSGPACK_OBJECT_MAP) {
        report(req, BB_E_INVALID_ARGUMENT, NULL, "arguments must be a map");
        return -1;
    }
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR) {
            report(req, BB_E_INVALID_ARGUMENT, NULL, "argument names must be strings");
            return -1;
        }
        const char *ks = k->via.str.ptr;
        uint32_t kl = k->via.str.size;
        if (!bb_utf8_valid(ks, kl)) {
            /* The key itself cannot be echoed: it is not valid UTF-8. */
            report(req, BB_E_INVALID_UTF8, NULL, "argument %u: name is not valid UTF-8",
                            i + 1);
            return -1;
        }
        unsigned j = 0;
        /* The first byte rules out most arguments before any strlen. */
        while (j < a->n && !(kl > 0 && a->arg[j]->name[0] == ks[0] &&
                             strlen(a->arg[j]->name) == kl &&
                             memcmp(a->arg[j]->name, ks, kl) == 0))
            j++;
        if (j == a->n) {
            char fb[ARGS_FIELD_MAX];
            const char *f = field_name(fb, sizeof fb, ks, kl);
            if (bb_utf8_has_control(ks, kl, false))
                report(req, BB_E_INVALID_ARGUMENT, f, "unknown argument");
            else
                report(req, BB_E_INVALID_ARGUMENT, f, "%s: unknown argument", f);
            return -1;
        }
        if (a->v[j].obj != NULL)
            return fail(req, a->arg[j]->name, "%s: given twice", a->arg[j]->name);
        a->v[j].obj = &map->via.map.ptr[i].val;
    }
    return 0;
}

/* Whether valid UTF-8 s[0..len) begins or ends with a space (bb_space.h):
 * what bb_trim would cut, found from the two end characters alone (the
 * last one starts at the last byte that is not a continuation byte)
 * rather than by decoding the whole text. */
static bool space_at_ends(const char *s, size_t len)
{
    if (len == 0)
        return false;
    size_t i = 0;
    if (bb_is_space(bb_utf8_next(s, len, &i)))
        return true;
    size_t last = len - 1;
    while (last > 0 && ((unsigned char)s[last] & 0xC0) == 0x80)
        last--;
    return bb_is_space(bb_utf8_next(s, len, &last));
}

/* The field an error names: the argument, or its element idx ("labels[2]")
 * when idx >= 0. Formatted only when there is an error to report. */
static const char *field_of(char *buf, size_t cap, const char *name, long idx)
{
    if (idx < 0)
        return name;
    snprintf(buf, cap, "%s[%ld]", name, idx);
    return buf;
}

/* A str value (not nil) against the rules of a STR/TEXT argument; the
 * error names the argument `name`, or its element idx when idx >= 0
 * ("labels[2]"). With ends (all but passwords, which are their owner's to
 * the last space), a value of blanks only (spaces, tabs, line breaks: one
 * U+3000, say) is refused as empty, and one with a space at either end is
 * refused. */
static int check_str(checker *req, const msgpack_object *v, const char *name, long idx, bool text,
                     bool bytes, int64_t min, int64_t max, bool ends)
{
    char fb[ARGS_FIELD_MAX + 16];
    if (v->type != MSGPACK_OBJECT_STR) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: must be a string", field);
    }
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len)) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        report(req, BB_E_INVALID_UTF8, field, "%s: not valid UTF-8", field);
        return -1;
    }
    size_t n = bytes ? len : bb_utf8_chars(s, len);
    if (n == 0 && min > 0) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: must not be empty", field);
    }
    if (ends && min > 0 && bb_blank(s, len)) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: must not be blank (spaces only)", field);
    }
    if ((int64_t)n > max && min <= 1) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: at most %lld %s (got %zu)", field, (long long)max,
                    bytes ? "bytes" : "characters", n);
    }
    if ((int64_t)n < min || (int64_t)n > max) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: %lld to %lld %s (got %zu)", field, (long long)min,
                    (long long)max, bytes ? "bytes" : "characters", n);
    }
    if (bb_utf8_has_control(s, len, text)) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: must not contain control characters", field);
    }
    if (ends && space_at_ends(s, len)) {
        const char *field = field_of(fb, sizeof fb, name, idx);
        return fail(req, field, "%s: must not begin or end with a space", field);
    }
    return 0;
}

/* v as decimal text into out (at least 21 bytes); returns its length.
 * On every request with an integer argument, so not snprintf. */
static uint32_t int_text(char *out, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t o = 0;
    if (v < 0)
        out[o++] = '-';
    while (n > 0)
        out[o++] = tmp[--n];
    out[o] = '\0';
    return (uint32_t)o;
}

/* "YYYY-MM-DD", a real calendar date, not before the argument's min. */
static int check_date(checker *req, const msgpack_object *v, const bb_arg *arg, bb_val *out)
{
    const char *key = arg->name;
    if (v->type != MSGPACK_OBJECT_STR)
        return fail(req, key, "%s: must be a date string YYYY-MM-DD", key);
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len))
        return report(req, BB_E_INVALID_UTF8, key, "%s: not valid UTF-8", key);
    bb_date_form form = bb_date_check(s, len);
    if (form == BB_DATE_SHAPE)
        return fail(req, key, "%s: must be a date YYYY-MM-DD", key);
    if (form == BB_DATE_CALENDAR)
        return fail(req, key, "%s: %.10s is not a calendar date", key, s);
    memcpy(out->text, s, 10);
    out->text[10] = '\0';
    if (arg->min != 0) {
        /* The date as the number YYYYMMDD the spec's min is written in
         * (bb_date_check has seen ten digits and dashes). */
        int64_t ymd = 0;
        for (int k = 0; k < 10; k++)
            if (k != 4 && k != 7)
                ymd = ymd * 10 + (s[k] - '0');
        if (ymd < arg->min) {
            char min[16];
            snprintf(min, sizeof min, "%04d-%02d-%02d", (int)(arg->min / 10000),
                     (int)(arg->min / 100 % 100), (int)(arg->min % 100));
            return fail(req, key, "%s: %s is before %s", key, out->text, min);
        }
    }
    return 0;
}

static int check_int(checker *req, const msgpack_object *v, const char *key, int64_t min,
                     int64_t max, int64_t *out)
{
    if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER && v->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return fail(req, key, "%s: must be an integer", key);
    bool beyond = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 > (uint64_t)INT64_MAX;
    int64_t x = beyond ? 0 : v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)v->via.u64
                                                                         : v->via.i64;
    if (beyond || x < min || x > max)
        return fail(req, key, "%s: out of range %lld..%lld", key, (long long)min, (long long)max);
    *out = x;
    return 0;
}

/* One of the allowed values; the message lists them. */
static int check_values(checker *req, const bb_arg *arg, const bb_val *v)
{
    if (arg->values == NULL)
        return 0;
    char list[512];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; arg->values[i] != NULL; i++) {
        if (strlen(arg->values[i]) == v->len && memcmp(arg->values[i], v->s, v->len) == 0)
            return 0;
        int w = snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", arg->values[i]);
        if (w > 0 && (size_t)w < sizeof list - o)
            o += (size_t)w;
    }
    return fail(req, arg->name, "%s: must be one of: %s", arg->name, list);
}

/* An array of strings as a PostgreSQL array literal, every element
 * double-quoted with " and \ escaped. */
static int check_strs(checker *req, const bb_arg *arg, bb_val *out, char **owned)
{
    const msgpack_object *v = out->obj;
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return fail(req, arg->name, "%s: must be an array of strings", arg->name);
    uint32_t n = v->via.array.size;
    if ((int64_t)n > arg->max) {
        report(req, BB_E_INVALID_ARGUMENT, arg->name, "%s: at most %lld items (got %u)",
                        arg->name, (long long)arg->max, n);
        return -1;
    }
    char field[ARGS_FIELD_MAX + 16];
    size_t need = 3; /* { } NUL */
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *e = &v->via.array.ptr[i];
        if (check_str(req, e, arg->name, (long)i, false, false, 1, arg->item_max, true) != 0)
            return -1;
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *p = &v->via.array.ptr[j];
            if (p->via.str.size == e->via.str.size &&
                memcmp(p->via.str.ptr, e->via.str.ptr, e->via.str.size) == 0) {
                field_of(field, sizeof field, arg->name, (long)i);
                report(req, BB_E_INVALID_ARGUMENT, field, "%s: duplicate of %s[%u]",
                                field, arg->name, j);
                return -1;
            }
        }
        need += 2 * (size_t)e->via.str.size + 3; /* quotes, escapes, comma */
    }
    char *lit = malloc(need);
    if (lit == NULL) {
        report(req, BB_E_INTERNAL, arg->name, "out of memory");
        return -1;
    }
    size_t o = 0;
    lit[o++] = '{';
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *e = &v->via.array.ptr[i];
        if (i > 0)
            lit[o++] = ',';
        lit[o++] = '"';
        for (uint32_t k = 0; k < e->via.str.size; k++) {
            char ch = e->via.str.ptr[k];
            if (ch == '"' || ch == '\\')
                lit[o++] = '\\';
            lit[o++] = ch;
        }
        lit[o++] = '"';
    }
    lit[o++] = '}';
    lit[o] = '\0';
    *owned = lit;
    out->s = lit;
    out->len = (uint32_t)o;
    return 0;
}

/* Checks one argument whose value is present and not nil. */
static int check_one(checker *req, const bb_arg *arg, bb_val *v, char **owned)
{
    const config *cfg = req->cfg;
    const msgpack_object *o = v->obj;
    switch (arg->type) {
    case BB_T_INT: {
        int64_t max = arg == &bb_arg_limit && cfg != NULL ? (int64_t)cfg->page_limit_max : arg->max;
        if (check_int(req, o, arg->name, arg->min, max, &v->i) != 0)
            return -1;
        v->len = int_text(v->text, v->i);
        v->s = v->text;
        return 0;
    }
    case BB_T_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return fail(req, arg->name, "%s: must be true or false", arg->name);
        v->i = o->via.boolean ? 1 : 0;
        v->len = v->i ? 4 : 5;
        memcpy(v->text, v->i ? "true" : "false", v->len + 1);
        v->s = v->text;
        return 0;
    case BB_T_STR:
    case BB_T_TEXT: {
        int64_t min = arg->max == 0 ? 1 : arg->min;
        int64_t max = arg->max == 0 ? BB_SPEC_DEFAULT_CHARS : arg->max;
        /* A password is taken exactly as sent: its spaces are its owner's. */
        bool ends = (arg->flags & BB_A_SECRET) == 0;
        if (check_str(req, o, arg->name, -1, arg->type == BB_T_TEXT,
                      (arg->flags & BB_A_BYTES) != 0, min, max, ends) != 0)
            return -1;
        v->s = o->via.str.ptr;
        v->len = o->via.str.size;
        return check_values(req, arg, v);
    }
    case BB_T_DATE:
        if (check_date(req, o, arg, v) != 0)
            return -1;
        v->s = v->text;
        v->len = 10;
        return 0;
    case BB_T_STRS:
        return check_strs(req, arg, v, owned);
    case BB_T_ANY:
        return 0;
    }
    return fail(req, arg->name, "%s: cannot be checked", arg->name);
}

/* Fills in the default of an argument left out (or nil where nil means
 * absent): after 0, limit page_limit_default, today. */
static int apply_default(checker *req, const bb_arg *arg, bb_val *v)
{
    const config *cfg = req->cfg;
    long long d;
    if (arg == &bb_arg_after)
        d = 0;
    else if (arg == &bb_arg_limit)
        d = cfg != NULL ? cfg->page_limit_default : BB_DEFAULT_PAGE_LIMIT;
    else if (arg->type == BB_T_DATE && (arg->flags & BB_A_TODAY)) {
        if (clock_today(v->text) != 0) {
            report(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
            return -1;
        }
        v->state = BB_V_SET;
        v->s = v->text;
        v->len = 10;
        return 0;
    } else
        return 0;
    v->state = BB_V_SET;
    v->i = d;
    v->len = int_text(v->text, d);
    v->s = v->text;
    return 0;
}

static int check_all(checker *req, const bb_method_spec *spec, const msgpack_object *map, margs *a)
{
    memset(a, 0, sizeof *a);
    a->spec = spec;
    a->n = bb_spec_args(spec, a->arg);
    if (match_keys(req, map, a) != 0)
        return -1;
    for (unsigned i = 0; i < a->n; i++) {
        const bb_arg *arg = a->arg[i];
        bb_val *v = &a->v[i];
        if (v->obj == NULL) {
            if (arg->flags & BB_A_REQ)
                return fail(req, arg->name, "%s: required", arg->name);
            if (apply_default(req, arg, v) != 0)
                return -1;
            continue;
        }
        if (v->obj->type == MSGPACK_OBJECT_NIL) {
            if (arg->flags & BB_A_REQ)
                return fail(req, arg->name, "%s: required (nil given)", arg->name);
            if (arg->flags & BB_A_NILABSENT) {
                if (apply_default(req, arg, v) != 0)
                    return -1;
                continue;
            }
            if ((arg->flags & BB_A_NIL) == 0)
                return fail(req, arg->name, "%s: must not be nil (leave it out instead)",
                            arg->name);
            v->state = BB_V_NIL;
            continue;
        }
        if (check_one(req, arg, v, &a->owned[i]) != 0)
            return -1;
        v->state = BB_V_SET;
    }
    return 0;
}

int margs_check_into(const bb_method_spec *spec, const msgpack_object *map, const config *cfg,
                     margs *a, margs_error *err)
{
    checker ck = {cfg, err};
    memset(err, 0, sizeof *err);
    return check_all(&ck, spec, map, a);
}

int margs_check(request *req, const bb_method_spec *spec, const msgpack_object *map, margs *a)
{
    margs_error err;
    if (margs_check_into(spec, map, &req_server(req)->cfg, a, &err) == 0)
        return 0;
    req_reply_error(req, err.code, err.has_field ? err.field : NULL, "%s", err.message);
    return -1;
}

void margs_free(margs *a)
{
    for (unsigned i = 0; i < a->n; i++) {
        free(a->owned[i]);
        a->owned[i] = NULL;
    }
}

const bb_val *margs_get(const margs *a, const char *name)
{
    /* The first byte rules out most names before a strcmp (a batch of
     * submits looks up ten values of each). */
    for (unsigned i = 0; i < a->n; i++)
        if (a->arg[i]->name[0] == name[0] && strcmp(a->arg[i]->name, name) == 0)
            return &a->v[i];
    fprintf(stderr, "baobaod: method %s has no argument %s\n", a->spec->name, name);
    abort();
}

int64_t margs_int(const margs *a, const char *name, int64_t dflt)
{
    const bb_val *v = margs_get(a, name);
    return v->state == BB_V_SET ? v->i : dflt;
}

margs *margs_dup(const margs *a)
{
    /* One allocation for the copy and its strings (a submit waiting for
     * its batch has five): free(k) releases it all, owned[] stays empty. */
    size_t bytes = sizeof(margs);
    for (unsigned i = 0; i < a->n; i++) {
        const bb_val *v = &a->v[i];
        if ((a->arg[i]->flags & BB_A_SECRET) == 0 && v->state == BB_V_SET && v->s != NULL &&
            v->s != v->text)
            bytes += (size_t)v->len + 1;
    }
    margs *k = malloc(bytes);
    if (k == NULL)
        return NULL;
    *k = *a;
    char *o = (char *)(k + 1);
    for (unsigned i = 0; i < k->n; i++) {
        k->owned[i] = NULL;
        bb_val *v = &k->v[i];
        v->obj = NULL;
        if (k->arg[i]->flags & BB_A_SECRET) {
            *v = (bb_val){.state = BB_V_ABSENT};
            continue;
        }
        if (v->state != BB_V_SET || v->s == NULL) /* BB_T_ANY: its object dies with the request */
            continue;
        if (a->v[i].s == a->v[i].text) {
            v->s = v->text;
            continue;
        }
        memcpy(o, v->s, v->len);
        o[v->len] = '\0';
        v->s = o;
        o += v->len + 1;
    }
    return k;
}
