/*
 * user.h: what session.c and main.c share with user.c: the columns of a
 * User on the wire (view app_user_wire, sql/005_users.sql), hashing a
 * password on libuv's thread pool, and the bootstrap of the first admin.
 *
 * Not for: the user.* methods themselves (user.c's table in methods.h) or
 * checking a password at login (session.c).
 */
#ifndef BB_USER_H
#define BB_USER_H

#include <stddef.h>
#include <sodium.h>

#include "rowpack.h"

struct server;

/* The User as the wire shows it: the columns of view app_user_wire, in
 * order (id, login, display_name, role, unit, townships, disabled, version,
 * created_at, updated_at). */
#define USER_WIRE_NCOLS 10
extern const rp_col user_wire_cols[USER_WIRE_NCOLS];

/* Passwords set by user.create, user.set_password, change_password and
 * --create-admin: 8-1024 bytes. A login password may be 1-1024 bytes (old
 * accounts, imported hashes). */
#define USER_PASSWORD_MIN_BYTES 8u
#define USER_PASSWORD_MAX_BYTES 1024u

/*
 * Called on the loop thread when a hash is ready. hash is the
 * crypto_pwhash_str text (borrowed, valid during the call), or NULL when
 * hashing failed (out of memory). arg is the caller's.
 */
typedef void (*user_hash_cb)(void *arg, const char *hash);

/*
 * Hashes password[0..len) with argon2id at the configured cost
 * (password_opslimit, password_memlimit_kib) on libuv's thread pool,
 * never on the loop thread. The password is copied (and the copy wiped)
 * here: the caller may free its own at once. Returns 0 (cb runs exactly
 * once, later) or -1 (out of memory; cb will not run).
 */
__attribute__((warn_unused_result))
int user_hash_password(struct server *s, const char *password, size_t len, user_hash_cb cb,
                       void *arg);

/*
 * `baobaod --create-admin LOGIN [--display-name TEXT]`: runs after the
 * migrations, before any loop (blocking libpq is fine). The password comes
 * from $BAOBAO_ADMIN_PASSWORD, else from /dev/tty without echo, asked
 * twice. Returns the exit status: 0 created, 1 failed (the login exists,
 * the database refused, no password), with a message on stderr.
 */
int user_create_admin(const struct server *s, const char *login, const char *display_name);

#endif
