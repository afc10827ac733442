/*
 * args.c: the one packer of libbaobao. Every request's argument map is
 * built here, from the method spec (proto/bb_spec.h): the typed helpers
 * (enterprise.c, status.c) and the CLI's login hand it typed values, the
 * CLI and bb_call_args hand it text as a user typed it.
 *
 * For: refusing an argument name the method does not have (with the list
 * of those it has), converting text by the argument's declared type,
 * checking text is UTF-8, and packing the map. The rules the server
 * checks (ranges, lengths, allowed values, reference data, required
 * arguments) are left to the server: one place says them. A method the
 * spec does not know is refused (unknown_method).
 * Not for: sending (client.c; bbi_call_kvs only chains the two) or
 * reading results (obj.c).
 *
 * Text conventions (also in client/README.md):
 *   int   decimal, optional '-'; bool  true|false (also yes|no, 1|0);
 *   date and str  as typed; array of str  split on commas ("" is []);
 *   text NULL = nil, and "" = nil for an argument that takes nil (a str
 *   argument that takes no nil gets "" as it is, for the server to judge).
 */
#include "client_int.h"

#include "bb_spec.h"
#include "bb_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bbi_kvs_free(bbi_kvs *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].owned);
        k->v[i].owned = NULL;
    }
    k->n = 0;
}

static bbi_kv *slot(bbi_kvs *k, const char *name, bbi_kind kind)
{
    /* Past the capacity the packer refuses (overflow), so nothing is
     * silently dropped. */
    if (k->n >= BBI_KVS_MAX) {
        k->overflow = true;
        return NULL;
    }
    bbi_kv *v = &k->v[k->n++];
    *v = (bbi_kv){.name = name, .kind = kind};
    return v;
}

void bbi_kv_str(bbi_kvs *k, const char *name, const char *s)
{
    bbi_kv *v = s != NULL ? slot(k, name, BBI_STR) : NULL;
    if (v != NULL)
        v->s = s;
}

void bbi_kv_int(bbi_kvs *k, const char *name, int64_t i)
{
    bbi_kv *v = slot(k, name, BBI_INT);
    if (v != NULL)
        v->i = i;
}

void bbi_kv_bool(bbi_kvs *k, const char *name, bool b)
{
    bbi_kv *v = slot(k, name, BBI_BOOL);
    if (v != NULL)
        v->i = b;
}

void bbi_kv_nil(bbi_kvs *k, const char *name)
{
    slot(k, name, BBI_NIL);
}

void bbi_kv_strs(bbi_kvs *k, const char *name, const char *const *strs, size_t n)
{
    bbi_kv *v = slot(k, name, BBI_STRS);
    if (v != NULL) {
        v->strs = strs;
        v->nstrs = n;
    }
}

/* "unknown argument X of M (valid: a, b, c)". */
static int unknown_arg(const bb_method_spec *m, const char *name, bb_error *err)
{
    char list[400];
    size_t used = 0;
    const bb_arg *all[BB_SPEC_MAX_ARGS];
    unsigned n = bb_spec_args(m, all);
    list[0] = '\0';
    for (unsigned i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", all[i]->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return bbi_err(err, BB_C_EARG, "invalid_argument", name,
                   "%s has no argument \"%s\" (valid: %s)", m->name, name,
                   n > 0 ? list : "none");
}

static bool takes_nil(const bb_arg *a)
{
    return (a->flags & (BB_A_NIL | BB_A_NILABSENT)) != 0;
}

int bbi_kv_text(bbi_kvs *k, const char *method, const char *name, const char *text,
                bb_error *err)
{
    const bb_method_spec *m = bb_spec_find(method, strlen(method));
    if (m == NULL)
        return bbi_err(err, BB_C_EARG, "unknown_method", "method",
                       "%s: not a method of this client's protocol spec", method);
    const bb_arg *a = bb_spec_arg(m, name, strlen(name));
    if (a == NULL)
        return unknown_arg(m, name, err);
    if (text == NULL || (text[0] == '\0' && takes_nil(a) && a->type != BB_T_STRS)) {
        if (!takes_nil(a))
            return bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                           "%s: cannot be cleared (nil)", a->name);
        bbi_kv_nil(k, a->name);
        return BB_C_OK;
    }
    switch (a->type) {
    case BB_T_INT: {
        char *end;
        errno = 0;
        /* Only "-" or a digit first: strtoimax itself would skip leading
         * blanks, tabs and newlines, and take a "+". */
        bool starts = text[0] == '-' || (text[0] >= '0' && text[0] <= '9');
        intmax_t v = starts ? strtoimax(text, &end, 10) : 0;
        if (!starts || *end != '\0' || errno != 0)
            return bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                           "%s: \"%s\" is not an integer", a->name, text);
        bbi_kv_int(k, a->name, (int64_t)v);
        return BB_C_OK;
    }
    case BB_T_BOOL: {
        static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(text, yes[i]) == 0 || strcmp(text, no[i]) == 0) {
                bbi_kv_bool(k, a->name, strcmp(text, yes[i]) == 0);
                return BB_C_OK;
            }
        }
        return bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                       "%s: \"%s\" is not true or false", a->name, text);
    }
    case BB_T_STRS: {
        /* One copy of the text holds every element, cut at the commas. */
        size_t len = strlen(text), n = len > 0;
        for (size_t i = 0; i < len; i++)
            n += text[i] == ',';
        char *copy = malloc(len + 1 + (n + 1) * sizeof(char *));
        if (copy == NULL)
            return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        const char **items = (const char **)(void *)copy;
        char *buf = copy + (n + 1) * sizeof(char *);
        memcpy(buf, text, len + 1);
        size_t j = 0;
        for (char *p = buf; len > 0 && p != NULL; j++) {
            items[j] = p;
            p = strchr(p, ',');
            if (p != NULL)
                *p++ = '\0';
        }
        size_t before = k->n;
        bbi_kv_strs(k, a->name, items, j);
        if (k->n == before) {
            free(copy);
            return BB_C_OK;   /* overflow: bbi_pack refuses */
        }
        k->v[k->n - 1].owned = copy;
        return BB_C_OK;
    }
    case BB_T_ANY:
        return bbi_err(err, BB_C_EARG, "invalid_argument", a->name,
                       "%s: a structured value; it cannot be given as text", a->name);
    default:   /* STR, TEXT, DATE: the server checks length, form, values */
        bbi_kv_str(k, a->name, text);
        return BB_C_OK;
    }
}

/* An upper bound of the bytes v packs to (msgpack headers are at most 5
 * bytes, an int at most 9). */
static size_t packed_bytes(const bbi_kv *v)
{
    size_t n = strlen(v->name) + 5 + 9;
    if (v->kind == BBI_STR)
        n += strlen(v->s) + 5;
    for (size_t j = 0; v->kind == BBI_STRS && j < v->nstrs; j++)
        n += strlen(v->strs[j]) + 5;
    return n;
}

int bbi_pack(bbi_args *a, const char *method, const bbi_kvs *k, bb_error *err)
{
    if (k->overflow)
        return bbi_err(err, BB_C_EARG, "invalid_argument", NULL,
                       "%s: more than %d arguments", method, BBI_KVS_MAX);
    const bb_method_spec *m = bb_spec_find(method, strlen(method));
    if (m == NULL)
        return bbi_err(err, BB_C_EARG, "unknown_method", "method",
                       "%s: not a method of this client's protocol spec", method);
    size_t bytes = 5;
    for (size_t i = 0; i < k->n; i++) {
        const bbi_kv *v = &k->v[i];
        if (bb_spec_arg(m, v->name, strlen(v->name)) == NULL)
            return unknown_arg(m, v->name, err);
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->v[j].name, v->name) == 0)
                return bbi_err(err, BB_C_EARG, "invalid_argument", v->name,
                               "%s: given twice", v->name);
        if (v->kind == BBI_STR && bbi_check_text(v->name, v->s, err) != BB_C_OK)
            return BB_C_EARG;
        for (size_t j = 0; v->kind == BBI_STRS && j < v->nstrs; j++) {
            if (v->strs[j] == NULL || !bb_utf8_valid(v->strs[j], strlen(v->strs[j]))) {
                char field[64];
                snprintf(field, sizeof field, "%s[%zu]", v->name, j);
                return bbi_err(err, BB_C_EARG, v->strs[j] == NULL ? "invalid_argument"
                                                                   : "invalid_utf8",
                               field, "%s: not valid UTF-8", field);
            }
        }
        bytes += packed_bytes(v);
    }
    /* Room for the whole map first: a buffer that grew while packing
     * would leave a copy of a password behind in freed memory, out of
     * bbi_args_wipe's reach. */
    if (bbi_args_reserve(a, bytes, err) != BB_C_OK)
        return BB_C_ENOMEM;
    msgpack_pack_map(&a->pk, (uint32_t)k->n);
    for (size_t i = 0; i < k->n; i++) {
        const bbi_kv *v = &k->v[i];
        bb_pack_cstr(&a->pk, v->name);
        switch (v->kind) {
        case BBI_STR:
            bb_pack_cstr(&a->pk, v->s);
            break;
        case BBI_INT:
            msgpack_pack_int64(&a->pk, v->i);
            break;
        case BBI_BOOL:
            if (v->i)
                msgpack_pack_true(&a->pk);
            else
                msgpack_pack_false(&a->pk);
            break;
        case BBI_NIL:
            msgpack_pack_nil(&a->pk);
            break;
        case BBI_STRS:
            msgpack_pack_array(&a->pk, v->nstrs);
            for (size_t j = 0; j < v->nstrs; j++)
                bb_pack_cstr(&a->pk, v->strs[j]);
            break;
        }
    }
    return BB_C_OK;
}

int bbi_call_kvs(bb_client *c, const char *method, const bbi_kvs *k, bb_reply **out,
                 bb_error *err)
{
    *out = NULL;
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack(&a, method, k, err);
    if (rc == BB_C_OK)
        rc = bb_call(c, method, a.sb.data, a.sb.size, out, err);
    bbi_args_wipe(&a);
    return rc;
}

int bb_call_args(bb_client *c, const char *method, const bb_arg_text *args, size_t n,
                 bb_reply **out, bb_error *err)
{
    *out = NULL;
    bbi_kvs k = {.n = 0};
    int rc = BB_C_OK;
    for (size_t i = 0; rc == BB_C_OK && i < n; i++)
        rc = bbi_kv_text(&k, method, args[i].name, args[i].text, err);
    if (rc == BB_C_OK)
        rc = bbi_call_kvs(c, method, &k, out, err);
    bbi_kvs_free(&k);
    return rc;
}
