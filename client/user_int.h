/*
 * user_int.h: the private per-method pack/decode functions of session.*
 * and user.* (user.c), for the library's typed helpers and for the CLI,
 * which prints a result both as JSON (raw) and as text (decoded) from one
 * call, and which re-sends the same packed bytes when it retries a write.
 *
 * Not for: library users (not installed; the symbols are local in
 * libbaobao.so, see libbaobao.map). It sits beside client_int.h rather than
 * in it only because that header has another owner in issue 4.
 *
 * Password buffers: a bbi_args that carried a password must be freed with
 * bbi_args_wipe, which zeroes the packed bytes first.
 */
#ifndef BB_USER_INT_H
#define BB_USER_INT_H

#include "client_int.h"

/* Bounds of PROTOCOL.md (issue 4), checked before sending. */
#define BB_LOGIN_MAX_BYTES 64u
#define BB_PASSWORD_MAX_BYTES 1024u
#define BB_NEW_PASSWORD_MIN_BYTES 8u

/* Zeroes the packed bytes, then frees them (bbi_args_free). */
void bbi_args_wipe(bbi_args *a);

BBI_WUR int bbi_pack_login(bbi_args *a, const char *login, const char *password,
                           bb_error *err);
BBI_WUR int bbi_pack_change_password(bbi_args *a, const char *old_password,
                                     const char *new_password, bb_error *err);
BBI_WUR int bbi_pack_user_create(bbi_args *a, const bb_user_fields *f,
                                 const char *idempotency_key, bb_error *err);
BBI_WUR int bbi_pack_user_get(bbi_args *a, int64_t id, bb_error *err);
BBI_WUR int bbi_pack_user_update(bbi_args *a, int64_t id, int64_t version,
                                 const bb_user_fields *f, const char *idempotency_key,
                                 bb_error *err);
BBI_WUR int bbi_pack_user_set_password(bbi_args *a, int64_t id, const char *password,
                                       bb_error *err);
BBI_WUR int bbi_pack_user_list(bbi_args *a, const bb_user_filter *f, bb_error *err);

BBI_WUR int bbi_decode_user(const msgpack_object *o, bb_user *out, bb_error *err);
BBI_WUR int bbi_decode_user_page(const msgpack_object *o, bb_user_page *out, bb_error *err);
/* The result `true` of logout, change_password and set_password. */
BBI_WUR int bbi_decode_true(const msgpack_object *o, const char *method, bb_error *err);

#endif
