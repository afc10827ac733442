/*
 * obj.c: reading result maps into owned C values, strictly, and packing
 * argument maps.
 *
 * For: the getters every decoder uses (a missing key or a value of the wrong
 * type is BB_C_EPROTO naming the object and key, never a crash), and the
 * packers every method uses (text is checked as UTF-8 before it is sent).
 * Not for: knowing which keys a method has (enterprise.c, status.c,
 * server_info.c) or doing I/O (client.c).
 */
#include "client_int.h"

#include "bb_utf8.h"

#include <stdlib.h>
#include <string.h>

const msgpack_object *bbi_map_get(const msgpack_object *map, const char *key)
{
    if (map == NULL || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == klen &&
            memcmp(kv->key.via.str.ptr, key, klen) == 0)
            return &kv->val;
    }
    return NULL;
}

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
    const msgpack_object *v = bbi_map_get(map, key);
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
    const msgpack_object *v = bbi_map_get(map, key);
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
    const msgpack_object *v = bbi_map_get(map, key);
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
    const msgpack_object *v = bbi_map_get(map, key);
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
    const msgpack_object *v = bbi_map_get(map, key);
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
    const msgpack_object *v = bbi_map_get(map, key);
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

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void bbi_pack_kv_str(msgpack_packer *pk, const char *key, const char *val)
{
    pack_cstr(pk, key);
    pack_cstr(pk, val);
}

void bbi_pack_kv_int(msgpack_packer *pk, const char *key, int64_t val)
{
    pack_cstr(pk, key);
    msgpack_pack_int64(pk, val);
}

void bbi_pack_kv_nil(msgpack_packer *pk, const char *key)
{
    pack_cstr(pk, key);
    msgpack_pack_nil(pk);
}

void bbi_pack_kv_strs(msgpack_packer *pk, const char *key, const char *const *vals, size_t n)
{
    pack_cstr(pk, key);
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++)
        pack_cstr(pk, vals[i]);
}

int bbi_call_decode(bb_client *c, const char *method, const bbi_args *args, bbi_decode_fn fn,
                    void *out, bb_error *err)
{
    bb_reply *r = NULL;
    int rc = bb_call(c, method, args != NULL ? args->sb.data : NULL,
                     args != NULL ? args->sb.size : 0, &r, err);
    if (rc != BB_C_OK)
        return rc;
    rc = fn(bb_reply_result(r), out, err);
    bb_reply_free(r);
    return rc;
}
