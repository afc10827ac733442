/*
 * obj.c: reading result maps into owned C values, strictly, and packing
 * argument maps.
 *
 * For: the getters every decoder uses (a missing key or a value of the wrong
 * type is BB_C_EPROTO naming the object and key, never a crash), and the
 * argument buffer (bbi_args) the one packer (args.c) writes into.
 * Not for: knowing which keys a method has (enterprise.c, status.c,
 * server_info.c) or doing I/O (client.c).
 */
#include "client_int.h"

#include "bb_utf8.h"

#include <stdlib.h>
#include <string.h>

int bbi_want_map(const msgpack_object *obj, const char *what, bb_error *err)
{
    if (obj == NULL || obj->type != MSGPACK_OBJECT_MAP)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s is not a map", what);
    return BB_C_OK;
}

static int missing(const char *what, const char *key, bb_error *err)
{
    return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s has no \"%s\"", what, key);
}

static int wrong_type(const char *what, const char *key, const char *want, bb_error *err)
{
    return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s.%s is not %s", what, key, want);
}

int bbi_obj_str(const msgpack_object *o, const char *what, char **out, bb_error *err)
{
    *out = NULL;
    if (o->type != MSGPACK_OBJECT_STR)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s is not a str", what);
    if (!bb_utf8_valid(o->via.str.ptr, o->via.str.size))
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s is not valid UTF-8", what);
    char *s = malloc((size_t)o->via.str.size + 1);
    if (s == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    memcpy(s, o->via.str.ptr, o->via.str.size);
    s[o->via.str.size] = '\0';
    *out = s;
    return BB_C_OK;
}

int bbi_get_str(const msgpack_object *map, const char *what, const char *key, char **out,
                bb_error *err)
{
    *out = NULL;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (v->type != MSGPACK_OBJECT_STR)
        return wrong_type(what, key, "a str", err);
    return bbi_obj_str(v, key, out, err);
}

int bbi_get_nstr(const msgpack_object *map, const char *what, const char *key, char **out,
                 bb_error *err)
{
    *out = NULL;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (v->type == MSGPACK_OBJECT_NIL)
        return BB_C_OK;
    if (v->type != MSGPACK_OBJECT_STR)
        return wrong_type(what, key, "a str or nil", err);
    return bbi_obj_str(v, key, out, err);
}

/* An int object's value when it fits int64. */
static bool obj_int(const msgpack_object *v, int64_t *out)
{
    if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (v->via.u64 > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v->via.u64;
        return true;
    }
    if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = v->via.i64;
        return true;
    }
    return false;
}

int bbi_get_int(const msgpack_object *map, const char *what, const char *key, int64_t *out,
                bb_error *err)
{
    *out = 0;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (!obj_int(v, out))
        return wrong_type(what, key, "an int", err);
    return BB_C_OK;
}

int bbi_get_nint(const msgpack_object *map, const char *what, const char *key, bool *has,
                 int64_t *out, bb_error *err)
{
    *has = false;
    *out = 0;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (v->type == MSGPACK_OBJECT_NIL)
        return BB_C_OK;
    if (!obj_int(v, out))
        return wrong_type(what, key, "an int or nil", err);
    *has = true;
    return BB_C_OK;
}

int bbi_get_bool(const msgpack_object *map, const char *what, const char *key, bool *out,
                 bb_error *err)
{
    *out = false;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (v->type != MSGPACK_OBJECT_BOOLEAN)
        return wrong_type(what, key, "a bool", err);
    *out = v->via.boolean;
    return BB_C_OK;
}

int bbi_get_array(const msgpack_object *map, const char *what, const char *key,
                  const msgpack_object_array **out, bb_error *err)
{
    *out = NULL;
    const msgpack_object *v = bb_map_get(map, key);
    if (v == NULL)
        return missing(what, key, err);
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return wrong_type(what, key, "an array", err);
    *out = &v->via.array;
    return BB_C_OK;
}

int bbi_get_strs(const msgpack_object *map, const char *what, const char *key, char ***out,
                 size_t *n, bb_error *err)
{
    *out = NULL;
    *n = 0;
    const msgpack_object_array *a;
    int rc = bbi_get_array(map, what, key, &a, err);
    if (rc != BB_C_OK)
        return rc;
    /* calloc(0) may return NULL: always ask for one slot. */
    char **v = calloc((size_t)a->size + 1, sizeof *v);
    if (v == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    for (uint32_t i = 0; i < a->size; i++) {
        rc = bbi_obj_str(&a->ptr[i], key, &v[i], err);
        if (rc != BB_C_OK) {
            for (uint32_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return rc;
        }
    }
    *out = v;
    *n = a->size;
    return BB_C_OK;
}

int bbi_get_items(const msgpack_object *o, const char *what, bbi_decode_fn one, size_t size,
                  void **out, size_t *n, bb_error *err)
{
    *out = NULL;
    *n = 0;
    const msgpack_object_array *items;
    int rc = bbi_want_map(o, what, err);
    if (rc == BB_C_OK)
        rc = bbi_get_array(o, what, "items", &items, err);
    if (rc != BB_C_OK)
        return rc;
    char *v = calloc((size_t)items->size + 1, size);
    if (v == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    *out = v;
    for (uint32_t i = 0; rc == BB_C_OK && i < items->size; i++)
        if ((rc = one(&items->ptr[i], v + i * size, err)) == BB_C_OK)
            *n = i + 1;
    return rc;
}

int bbi_get_fields(const msgpack_object *map, const char *what, const bbi_field *fields,
                   size_t n, void *rec, bb_error *err)
{
    char *base = rec;
    int rc = bbi_want_map(map, what, err);
    for (size_t i = 0; rc == BB_C_OK && i < n; i++) {
        const bbi_field *f = &fields[i];
        void *at = base + f->at;
        switch (f->type) {
        case BBI_F_INT:
            rc = bbi_get_int(map, what, f->key, at, err);
            break;
        case BBI_F_NINT:
            rc = bbi_get_nint(map, what, f->key, (void *)(base + f->at2), at, err);
            break;
        case BBI_F_BOOL:
            rc = bbi_get_bool(map, what, f->key, at, err);
            break;
        case BBI_F_STR:
            rc = bbi_get_str(map, what, f->key, at, err);
            break;
        case BBI_F_NSTR:
            rc = bbi_get_nstr(map, what, f->key, at, err);
            break;
        case BBI_F_STRS:
            rc = bbi_get_strs(map, what, f->key, at, (void *)(base + f->at2), err);
            break;
        }
    }
    return rc;
}

void bbi_free_fields(const bbi_field *fields, size_t n, void *rec)
{
    char *base = rec;
    for (size_t i = 0; i < n; i++) {
        const bbi_field *f = &fields[i];
        if (f->type == BBI_F_STR || f->type == BBI_F_NSTR) {
            char **s = (char **)(void *)(base + f->at);
            free(*s);
            *s = NULL;
        } else if (f->type == BBI_F_STRS) {
            char ***v = (char ***)(void *)(base + f->at);
            size_t *count = (size_t *)(void *)(base + f->at2);
            for (size_t j = 0; j < *count; j++)
                free((*v)[j]);
            free(*v);
            *v = NULL;
            *count = 0;
        }
    }
}

void bbi_args_init(bbi_args *a)
{
    msgpack_sbuffer_init(&a->sb);
    msgpack_packer_init(&a->pk, &a->sb, msgpack_sbuffer_write);
}

void bbi_args_free(bbi_args *a)
{
    msgpack_sbuffer_destroy(&a->sb);
}

int bbi_check_text(const char *key, const char *s, bb_error *err)
{
    if (s == NULL)
        return BB_C_OK;
    if (!bb_utf8_valid(s, strlen(s)))
        return bbi_err(err, BB_C_EARG, "invalid_utf8", key, "%s: not valid UTF-8", key);
    return BB_C_OK;
}

/* Zeroing that the compiler may not drop as a dead store. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (v != NULL && n-- > 0)
        *v++ = 0;
}

void bbi_args_wipe(bbi_args *a)
{
    wipe(a->sb.data, a->sb.alloc);
    bbi_args_free(a);
}

int bbi_args_reserve(bbi_args *a, size_t bytes, bb_error *err)
{
    if (a->sb.alloc - a->sb.size >= bytes)
        return BB_C_OK;
    size_t cap = a->sb.size + bytes;
    char *p = malloc(cap);
    if (p == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (a->sb.size > 0)
        memcpy(p, a->sb.data, a->sb.size);
    wipe(a->sb.data, a->sb.alloc);
    free(a->sb.data);
    a->sb.data = p;
    a->sb.alloc = cap;
    return BB_C_OK;
}

int bbi_call_decode(bb_client *c, const char *method, const bbi_kvs *k, bbi_decode_fn fn,
                    void *out, bb_error *err)
{
    bb_reply *r = NULL;
    int rc = k != NULL ? bbi_call_kvs(c, method, k, &r, err)
                       : bb_call(c, method, NULL, 0, &r, err);
    if (rc != BB_C_OK)
        return rc;
    rc = fn(bb_reply_result(r), out, err);
    bb_reply_free(r);
    return rc;
}
