/*
 * params.c: the argument getters of params.h. Strict on purpose: a value
 * of the wrong msgpack type is refused, never converted, and every error
 * names its argument (`field`), for array elements as `labels[2]`.
 *
 * Not for: domain rules (townships, credit codes, date ranges): those
 * belong to the method files, which call these first.
 */
#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_rpc.h"
#include "bb_utf8.h"

/* Keys are echoed back as `field`; a longer key is cut (at a character
 * boundary) so the error stays small. */
#define PARAMS_FIELD_MAX 128
/* params_check_known tracks seen keys in a 64-bit mask. */
#define PARAMS_MAX_KNOWN 64

/* Copies a (valid UTF-8) key into buf as a NUL-terminated field name. */
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

int params_check_known(request *req, const msgpack_object *args, const char *const *known)
{
    if (args == NULL || args->type != MSGPACK_OBJECT_MAP) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, NULL, "arguments must be a map");
        return -1;
    }
    size_t nknown = 0;
    while (known[nknown] != NULL)
        nknown++;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < args->via.map.size; i++) {
        const msgpack_object *k = &args->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, NULL, "argument names must be strings");
            return -1;
        }
        const char *ks = k->via.str.ptr;
        uint32_t kl = k->via.str.size;
        if (!bb_utf8_valid(ks, kl)) {
            /* The key itself cannot be echoed: it is not valid UTF-8. */
            req_reply_error(req, BB_E_INVALID_UTF8, NULL,
                            "argument %u: name is not valid UTF-8", i + 1);
            return -1;
        }
        size_t j = 0;
        while (j < nknown && !(strlen(known[j]) == kl && memcmp(known[j], ks, kl) == 0))
            j++;
        char fb[PARAMS_FIELD_MAX];
        if (j == nknown) {
            const char *f = field_name(fb, sizeof fb, ks, kl);
            if (bb_utf8_has_control(ks, kl, false))
                req_reply_error(req, BB_E_INVALID_ARGUMENT, f, "unknown argument");
            else
                req_reply_error(req, BB_E_INVALID_ARGUMENT, f, "%s: unknown argument", f);
            return -1;
        }
        if (j < PARAMS_MAX_KNOWN) {
            if (seen & (UINT64_C(1) << j)) {
                req_reply_error(req, BB_E_INVALID_ARGUMENT, known[j], "%s: given twice",
                                known[j]);
                return -1;
            }
            seen |= UINT64_C(1) << j;
        }
    }
    return 0;
}

/* Checks one str value (not nil) against the rules of params_str; on
 * failure answers with `field` and returns -1. */
static int check_str(request *req, const msgpack_object *v, const char *field,
                     uint32_t max_chars, bool allow_newline)
{
    if (v->type != MSGPACK_OBJECT_STR) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, field, "%s: must be a string", field);
        return -1;
    }
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len)) {
        req_reply_error(req, BB_E_INVALID_UTF8, field, "%s: not valid UTF-8", field);
        return -1;
    }
    size_t chars = bb_utf8_chars(s, len);
    if (chars == 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, field, "%s: must not be empty", field);
        return -1;
    }
    if (chars > max_chars) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, field,
                        "%s: at most %u characters (got %zu)", field, max_chars, chars);
        return -1;
    }
    if (bb_utf8_has_control(s, len, allow_newline)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, field,
                        "%s: must not contain control characters", field);
        return -1;
    }
    return 0;
}

static void set_state(pstate *state, pstate v)
{
    if (state != NULL)
        *state = v;
}

/* Looks key up; handles absent and nil. Returns 1 when a value is there to
 * check, 0 when done (absent or nil, allowed), -1 when answered. */
static int lookup(request *req, const msgpack_object *args, const char *key, bool required,
                  const msgpack_object **out, pstate *state)
{
    const msgpack_object *v = bb_map_get(args, key);
    *out = v;
    if (v == NULL) {
        set_state(state, P_ABSENT);
        if (required) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: required", key);
            return -1;
        }
        return 0;
    }
    if (v->type == MSGPACK_OBJECT_NIL) {
        set_state(state, P_NIL);
        if (required) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: required (nil given)", key);
            return -1;
        }
        return 0;
    }
    return 1;
}

int params_str(request *req, const msgpack_object *args, const char *key, bool required,
               uint32_t max_chars, bool allow_newline, pstr *out, pstate *state)
{
    const msgpack_object *v;
    out->s = NULL;
    out->len = 0;
    int r = lookup(req, args, key, required, &v, state);
    if (r <= 0)
        return r;
    if (check_str(req, v, key, max_chars, allow_newline) != 0)
        return -1;
    out->s = v->via.str.ptr;
    out->len = v->via.str.size;
    set_state(state, P_SET);
    return 0;
}

int params_int(request *req, const msgpack_object *args, const char *key, bool required,
               int64_t min, int64_t max, int64_t *out, pstate *state)
{
    const msgpack_object *v;
    int r = lookup(req, args, key, required, &v, state);
    if (r <= 0)
        return r;
    int64_t x;
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 > (uint64_t)INT64_MAX) {
            req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                            "%s: out of range %lld..%lld", key, (long long)min, (long long)max);
            return -1;
        }
        x = (int64_t)v->via.u64;
    } else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        x = v->via.i64;
    } else {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be an integer", key);
        return -1;
    }
    if (x < min || x > max) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: out of range %lld..%lld", key,
                        (long long)min, (long long)max);
        return -1;
    }
    *out = x;
    set_state(state, P_SET);
    return 0;
}

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int params_date(request *req, const msgpack_object *args, const char *key, bool required,
                char out[11], pstate *state)
{
    const msgpack_object *v;
    out[0] = '\0';
    int r = lookup(req, args, key, required, &v, state);
    if (r <= 0)
        return r;
    if (v->type != MSGPACK_OBJECT_STR) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be a date string YYYY-MM-DD",
                        key);
        return -1;
    }
    const char *s = v->via.str.ptr;
    uint32_t len = v->via.str.size;
    if (!bb_utf8_valid(s, len)) {
        req_reply_error(req, BB_E_INVALID_UTF8, key, "%s: not valid UTF-8", key);
        return -1;
    }
    bool shape = len == 10 && s[4] == '-' && s[7] == '-';
    for (uint32_t i = 0; shape && i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            shape = false;
    if (!shape) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be a date YYYY-MM-DD", key);
        return -1;
    }
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                            (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned dim = m >= 1 && m <= 12 ? mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u) : 0u;
    if (y == 0 || m < 1 || m > 12 || d < 1 || d > dim) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: %.10s is not a calendar date",
                        key, s);
        return -1;
    }
    memcpy(out, s, 10);
    out[10] = '\0';
    set_state(state, P_SET);
    return 0;
}

int params_str_array(request *req, const msgpack_object *args, const char *key,
                     uint32_t max_items, uint32_t max_chars, char **out_literal,
                     pstate *state)
{
    *out_literal = NULL;
    const msgpack_object *v = bb_map_get(args, key);
    if (v == NULL) {
        set_state(state, P_ABSENT);
        return 0;
    }
    /* An array argument is never nil-able: absent or an array. */
    if (v->type != MSGPACK_OBJECT_ARRAY) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: must be an array of strings",
                        key);
        return -1;
    }
    uint32_t n = v->via.array.size;
    if (n > max_items) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key, "%s: at most %u items (got %u)", key,
                        max_items, n);
        return -1;
    }
    char field[PARAMS_FIELD_MAX + 16];
    size_t need = 3; /* { } NUL */
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *e = &v->via.array.ptr[i];
        snprintf(field, sizeof field, "%s[%u]", key, i);
        if (check_str(req, e, field, max_chars, false) != 0)
            return -1;
        for (uint32_t j = 0; j < i; j++) {
            const msgpack_object *p = &v->via.array.ptr[j];
            if (p->via.str.size == e->via.str.size &&
                memcmp(p->via.str.ptr, e->via.str.ptr, e->via.str.size) == 0) {
                req_reply_error(req, BB_E_INVALID_ARGUMENT, field,
                                "%s: duplicate of %s[%u]", field, key, j);
                return -1;
            }
        }
        need += 2 * (size_t)e->via.str.size + 3; /* quotes, escapes, comma */
    }
    char *lit = malloc(need);
    if (lit == NULL) {
        req_reply_error(req, BB_E_INTERNAL, key, "out of memory");
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
    *out_literal = lit;
    set_state(state, P_SET);
    return 0;
}
