/*
 * user.c: the typed helpers for `session.login`, `.logout`, `.whoami`,
 * `.change_password` and `user.create`, `.get`, `.update`, `.list`,
 * `.set_password` (issue 4).
 *
 * For: packing their arguments with the key names of PROTOCOL.md,
 * checking locally what needs no server (text is UTF-8, required inputs are
 * there, the byte bounds of logins and passwords, update carries neither a
 * login nor a password), decoding User maps strictly into bb_user, and
 * zeroing every argument buffer that carried a password.
 * Not for: rules only the server knows (known roles and townships, which
 * roles need townships, lengths of names): those come back as the server's
 * invalid_argument. Not for keeping credentials either: logging in again on
 * a new connection is the caller's business (the CLI's cli_call.c).
 */
#include "user_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for one key, its header and a value's header in a packed map. */
#define ARGS_PER_KEY_BYTES 48u

void bb_user_free(bb_user *u)
{
    if (u == NULL)
        return;
    free(u->login);
    free(u->display_name);
    free(u->role);
    free(u->unit);
    for (size_t i = 0; i < u->ntownships; i++)
        free(u->townships[i]);
    free(u->townships);
    free(u->created_at);
    free(u->updated_at);
    memset(u, 0, sizeof *u);
}

void bb_user_page_free(bb_user_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        bb_user_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof *p);
}

/* ---- argument buffers that carry passwords ---- */

/* Zeroing that the compiler may not drop as a dead store. */
static void wipe(void *p, size_t n)
{
    if (p == NULL || n == 0)
        return;
    volatile unsigned char *v = p;
    while (n-- > 0)
        *v++ = 0;
}

void bbi_args_wipe(bbi_args *a)
{
    wipe(a->sb.data, a->sb.alloc);
    bbi_args_free(a);
}

/* Gives a's buffer room for bytes before anything is packed, so packing a
 * password never reallocates (which would leave a copy behind in freed
 * memory that bbi_args_wipe cannot reach). */
static int args_reserve(bbi_args *a, size_t bytes, bb_error *err)
{
    if (a->sb.alloc >= bytes)
        return BB_C_OK;
    char *p = malloc(bytes);
    if (p == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    if (a->sb.size > 0)
        memcpy(p, a->sb.data, a->sb.size);
    wipe(a->sb.data, a->sb.alloc);
    free(a->sb.data);
    a->sb.data = p;
    a->sb.alloc = bytes;
    return BB_C_OK;
}

/* ---- local checks ---- */

static int required(const char *key, const char *v, bb_error *err)
{
    if (v == NULL)
        return bbi_err(err, BB_C_EARG, "invalid_argument", key, "%s: required", key);
    return BB_C_OK;
}

/* v is UTF-8 of min..max bytes (NULL passes: use required() first). */
static int check_bytes(const char *key, const char *v, size_t min, size_t max, bb_error *err)
{
    if (v == NULL)
        return BB_C_OK;
    size_t n = strlen(v);
    if (n < min || n > max)
        return bbi_err(err, BB_C_EARG, "invalid_argument", key, "%s: must be %zu to %zu bytes",
                       key, min, max);
    return bbi_check_text(key, v, err);
}

static int check_login(const char *login, bb_error *err)
{
    int rc = required("login", login, err);
    if (rc == BB_C_OK)
        rc = check_bytes("login", login, 1, BB_LOGIN_MAX_BYTES, err);
    return rc;
}

static int check_new_password(const char *key, const char *pw, bb_error *err)
{
    int rc = required(key, pw, err);
    if (rc == BB_C_OK)
        rc = check_bytes(key, pw, BB_NEW_PASSWORD_MIN_BYTES, BB_PASSWORD_MAX_BYTES, err);
    return rc;
}

/* Text fields of f other than login and password, the townships and the
 * key: UTF-8, no NULL township. */
static int check_fields(const bb_user_fields *f, const char *key, bb_error *err)
{
    int rc = bbi_check_text("display_name", f->display_name, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("role", f->role, err);
    if (rc == BB_C_OK && !f->clear_unit)
        rc = bbi_check_text("unit", f->unit, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("idempotency_key", key, err);
    for (size_t i = 0; rc == BB_C_OK && i < f->ntownships; i++) {
        char field[32];
        snprintf(field, sizeof field, "townships[%zu]", i);
        if (f->townships[i] == NULL)
            rc = bbi_err(err, BB_C_EARG, "invalid_argument", field, "%s: NULL township", field);
        else
            rc = bbi_check_text(field, f->townships[i], err);
    }
    return rc;
}

/* ---- packing ---- */

int bbi_pack_login(bbi_args *a, const char *login, const char *password, bb_error *err)
{
    int rc = check_login(login, err);
    if (rc == BB_C_OK)
        rc = required("password", password, err);
    if (rc == BB_C_OK)
        rc = check_bytes("password", password, 1, BB_PASSWORD_MAX_BYTES, err);
    if (rc == BB_C_OK)
        rc = args_reserve(a, strlen(login) + strlen(password) + 3 * ARGS_PER_KEY_BYTES, err);
    if (rc != BB_C_OK)
        return rc;
    msgpack_pack_map(&a->pk, 2);
    bbi_pack_kv_str(&a->pk, "login", login);
    bbi_pack_kv_str(&a->pk, "password", password);
    return BB_C_OK;
}

int bbi_pack_change_password(bbi_args *a, const char *old_password, const char *new_password,
                             bb_error *err)
{
    int rc = required("old_password", old_password, err);
    if (rc == BB_C_OK)
        rc = check_bytes("old_password", old_password, 1, BB_PASSWORD_MAX_BYTES, err);
    if (rc == BB_C_OK)
        rc = check_new_password("new_password", new_password, err);
    if (rc == BB_C_OK)
        rc = args_reserve(a, strlen(old_password) + strlen(new_password) +
                                 3 * ARGS_PER_KEY_BYTES, err);
    if (rc != BB_C_OK)
        return rc;
    msgpack_pack_map(&a->pk, 2);
    bbi_pack_kv_str(&a->pk, "old_password", old_password);
    bbi_pack_kv_str(&a->pk, "new_password", new_password);
    return BB_C_OK;
}

/* The optional fields shared by create and update. */
static size_t count_optional(const bb_user_fields *f, bool townships)
{
    size_t n = 0;
    n += f->display_name != NULL;
    n += f->role != NULL;
    n += f->clear_unit || f->unit != NULL;
    n += townships;
    n += f->set_disabled;
    return n;
}

static void pack_optional(msgpack_packer *pk, const bb_user_fields *f, bool townships)
{
    if (f->display_name != NULL)
        bbi_pack_kv_str(pk, "display_name", f->display_name);
    if (f->role != NULL)
        bbi_pack_kv_str(pk, "role", f->role);
    if (f->clear_unit)
        bbi_pack_kv_nil(pk, "unit");
    else if (f->unit != NULL)
        bbi_pack_kv_str(pk, "unit", f->unit);
    if (townships)
        bbi_pack_kv_strs(pk, "townships", f->townships, f->ntownships);
    if (f->set_disabled) {
        msgpack_pack_str(pk, 8);
        msgpack_pack_str_body(pk, "disabled", 8);
        if (f->disabled)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
    }
}

/* Bytes the packed fields take at most (for args_reserve). */
static size_t fields_bytes(const bb_user_fields *f, const char *key)
{
    size_t n = 12 * ARGS_PER_KEY_BYTES;
    const char *s[] = { f->login, f->display_name, f->role, f->unit, f->password, key };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        n += s[i] != NULL ? strlen(s[i]) : 0;
    for (size_t i = 0; i < f->ntownships; i++)
        n += strlen(f->townships[i]) + 8;
    return n;
}

int bbi_pack_user_create(bbi_args *a, const bb_user_fields *f, const char *idempotency_key,
                         bb_error *err)
{
    int rc = check_login(f->login, err);
    if (rc == BB_C_OK)
        rc = required("display_name", f->display_name, err);
    if (rc == BB_C_OK)
        rc = required("role", f->role, err);
    if (rc == BB_C_OK && f->set_disabled)
        rc = bbi_err(err, BB_C_EARG, "invalid_argument", "disabled",
                     "disabled: not an argument of user.create");
    if (rc == BB_C_OK)
        rc = check_fields(f, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = check_new_password("password", f->password, err);
    if (rc == BB_C_OK)
        rc = args_reserve(a, fields_bytes(f, idempotency_key), err);
    if (rc != BB_C_OK)
        return rc;
    bool townships = f->ntownships > 0 || f->set_townships;
    size_t n = 2 + count_optional(f, townships) + (idempotency_key != NULL);
    msgpack_pack_map(&a->pk, n);
    bbi_pack_kv_str(&a->pk, "login", f->login);
    pack_optional(&a->pk, f, townships);
    bbi_pack_kv_str(&a->pk, "password", f->password);
    if (idempotency_key != NULL)
        bbi_pack_kv_str(&a->pk, "idempotency_key", idempotency_key);
    return BB_C_OK;
}

int bbi_pack_user_get(bbi_args *a, int64_t id, bb_error *err)
{
    (void)err;
    msgpack_pack_map(&a->pk, 1);
    bbi_pack_kv_int(&a->pk, "id", id);
    return BB_C_OK;
}

int bbi_pack_user_update(bbi_args *a, int64_t id, int64_t version, const bb_user_fields *f,
                         const char *idempotency_key, bb_error *err)
{
    if (f->login != NULL)
        return bbi_err(err, BB_C_EARG, "invalid_argument", "login",
                       "login: cannot be changed by user.update");
    if (f->password != NULL)
        return bbi_err(err, BB_C_EARG, "invalid_argument", "password",
                       "password: set it with user.set_password, not user.update");
    int rc = check_fields(f, idempotency_key, err);
    if (rc != BB_C_OK)
        return rc;
    bool townships = f->set_townships;
    size_t n = 2 + count_optional(f, townships) + (idempotency_key != NULL);
    msgpack_pack_map(&a->pk, n);
    bbi_pack_kv_int(&a->pk, "id", id);
    bbi_pack_kv_int(&a->pk, "version", version);
    pack_optional(&a->pk, f, townships);
    if (idempotency_key != NULL)
        bbi_pack_kv_str(&a->pk, "idempotency_key", idempotency_key);
    return BB_C_OK;
}

int bbi_pack_user_set_password(bbi_args *a, int64_t id, const char *password, bb_error *err)
{
    int rc = check_new_password("password", password, err);
    if (rc == BB_C_OK)
        rc = args_reserve(a, strlen(password) + 3 * ARGS_PER_KEY_BYTES, err);
    if (rc != BB_C_OK)
        return rc;
    msgpack_pack_map(&a->pk, 2);
    bbi_pack_kv_int(&a->pk, "id", id);
    bbi_pack_kv_str(&a->pk, "password", password);
    return BB_C_OK;
}

int bbi_pack_user_list(bbi_args *a, const bb_user_filter *f, bb_error *err)
{
    int rc = bbi_check_text("role", f->role, err);
    if (rc == BB_C_OK)
        rc = bbi_check_text("township", f->township, err);
    if (rc != BB_C_OK)
        return rc;
    size_t n = (f->role != NULL) + (f->township != NULL) + (f->after != 0) + (f->limit != 0);
    msgpack_pack_map(&a->pk, n);
    if (f->role != NULL)
        bbi_pack_kv_str(&a->pk, "role", f->role);
    if (f->township != NULL)
        bbi_pack_kv_str(&a->pk, "township", f->township);
    if (f->after != 0)
        bbi_pack_kv_int(&a->pk, "after", f->after);
    if (f->limit != 0)
        bbi_pack_kv_int(&a->pk, "limit", (int64_t)f->limit);
    return BB_C_OK;
}

/* ---- decoding ---- */

int bbi_decode_user(const msgpack_object *o, bb_user *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "user";
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "id", &out->id, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "login", &out->login, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "display_name", &out->display_name, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "role", &out->role, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nstr(o, w, "unit", &out->unit, err);
    if (rc == BB_C_OK)
        rc = bbi_get_strs(o, w, "townships", &out->townships, &out->ntownships, err);
    if (rc == BB_C_OK)
        rc = bbi_get_bool(o, w, "disabled", &out->disabled, err);
    if (rc == BB_C_OK)
        rc = bbi_get_int(o, w, "version", &out->version, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "created_at", &out->created_at, err);
    if (rc == BB_C_OK)
        rc = bbi_get_str(o, w, "updated_at", &out->updated_at, err);
    /* A User never carries a password hash: a reply that does is not one
     * this library will pass on. */
    if (rc == BB_C_OK && (bbi_map_get(o, "password") != NULL ||
                          bbi_map_get(o, "password_hash") != NULL))
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: user carries a password field");
    if (rc != BB_C_OK)
        bb_user_free(out);
    return rc;
}

int bbi_decode_user_page(const msgpack_object *o, bb_user_page *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *w = "user.list result";
    const msgpack_object_array *items;
    bool has_next;
    int64_t next;
    int rc = bbi_want_map(o, w, err);
    if (rc == BB_C_OK)
        rc = bbi_get_array(o, w, "items", &items, err);
    if (rc == BB_C_OK)
        rc = bbi_get_nint(o, w, "next", &has_next, &next, err);
    if (rc == BB_C_OK && has_next && next <= 0)
        rc = bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s.next is not a positive id", w);
    if (rc != BB_C_OK)
        return rc;
    out->items = calloc((size_t)items->size + 1, sizeof *out->items);
    if (out->items == NULL)
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    for (uint32_t i = 0; i < items->size; i++) {
        rc = bbi_decode_user(&items->ptr[i], &out->items[i], err);
        if (rc != BB_C_OK) {
            bb_user_page_free(out);
            return rc;
        }
        out->n = i + 1;
    }
    out->next = has_next ? next : 0;
    return BB_C_OK;
}

int bbi_decode_true(const msgpack_object *o, const char *method, bb_error *err)
{
    if (o == NULL || o->type != MSGPACK_OBJECT_BOOLEAN || !o->via.boolean)
        return bbi_err(err, BB_C_EPROTO, NULL, NULL, "reply: %s result is not true", method);
    return BB_C_OK;
}

/* ---- the helpers ---- */

static int decode_one(const msgpack_object *o, void *out, bb_error *err)
{
    if (out == NULL) {   /* bb_login without out: still check the shape */
        bb_user u;
        int rc = bbi_decode_user(o, &u, err);
        bb_user_free(&u);
        return rc;
    }
    return bbi_decode_user(o, out, err);
}

static int decode_page(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_user_page(o, out, err);
}

/* The `out` of these is the method name, for the message (writable arrays
 * because bbi_decode_fn's out is not const). */
static char m_logout[] = "session.logout";
static char m_change_password[] = "session.change_password";
static char m_set_password[] = "user.set_password";

static int decode_true(const msgpack_object *o, void *out, bb_error *err)
{
    return bbi_decode_true(o, out, err);
}

static void zero_user(bb_user *out)
{
    if (out != NULL)
        memset(out, 0, sizeof *out);
}

int bb_login(bb_client *c, const char *login, const char *password, bb_user *out,
             bb_error *err)
{
    zero_user(out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_login(&a, login, password, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "session.login", &a, decode_one, out, err);
    bbi_args_wipe(&a);
    return rc;
}

int bb_logout(bb_client *c, bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    msgpack_pack_map(&a.pk, 0);
    int rc = bbi_call_decode(c, "session.logout", &a, decode_true, m_logout,
                             err);
    bbi_args_free(&a);
    return rc;
}

int bb_whoami(bb_client *c, bb_user *out, bb_error *err)
{
    zero_user(out);
    bbi_args a;
    bbi_args_init(&a);
    msgpack_pack_map(&a.pk, 0);
    int rc = bbi_call_decode(c, "session.whoami", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_change_password(bb_client *c, const char *old_password, const char *new_password,
                       bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_change_password(&a, old_password, new_password, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "session.change_password", &a, decode_true,
                             m_change_password, err);
    bbi_args_wipe(&a);
    return rc;
}

int bb_user_create(bb_client *c, const bb_user_fields *f, const char *idempotency_key,
                   bb_user *out, bb_error *err)
{
    zero_user(out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_create(&a, f, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "user.create", &a, decode_one, out, err);
    bbi_args_wipe(&a);
    return rc;
}

int bb_user_get(bb_client *c, int64_t id, bb_user *out, bb_error *err)
{
    zero_user(out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_get(&a, id, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "user.get", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_user_update(bb_client *c, int64_t id, int64_t version, const bb_user_fields *f,
                   const char *idempotency_key, bb_user *out, bb_error *err)
{
    zero_user(out);
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_update(&a, id, version, f, idempotency_key, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "user.update", &a, decode_one, out, err);
    bbi_args_free(&a);
    return rc;
}

int bb_user_set_password(bb_client *c, int64_t id, const char *password, bb_error *err)
{
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_set_password(&a, id, password, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "user.set_password", &a, decode_true,
                             m_set_password, err);
    bbi_args_wipe(&a);
    return rc;
}

int bb_user_list(bb_client *c, const bb_user_filter *f, bb_user_page *out, bb_error *err)
{
    memset(out, 0, sizeof *out);
    static const bb_user_filter none;
    bbi_args a;
    bbi_args_init(&a);
    int rc = bbi_pack_user_list(&a, f != NULL ? f : &none, err);
    if (rc == BB_C_OK)
        rc = bbi_call_decode(c, "user.list", &a, decode_page, out, err);
    bbi_args_free(&a);
    return rc;
}
