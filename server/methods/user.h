/*
 * user.h: what login.c and main.c share with user.c: the columns of a
 * User on the wire (view app_user_wire, sql/005_users.sql), hashing a
 * password on libuv's thread pool, the bound on password jobs, answering a
 * failed query of a logged-in caller, and the bootstrap of the first admin.
 *
 * Not for: the user.* methods themselves (user.c's module in methods.h) or
 * checking a password at login (login.c).
 */
#ifndef BB_USER_H
#define BB_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "pool.h"
#include "request.h"
#include "rowpack.h"
#include "session.h"

struct server;

/* The User as the wire shows it: the columns of view app_user_wire, in
 * order (id, login, display_name, role, unit, townships, disabled, version,
 * created_at, updated_at); USER_WIRE_COLS for tables that extend it. */
#define USER_WIRE_COLS                                                                 \
    {"id", RP_INT}, {"login", RP_TEXT}, {"display_name", RP_TEXT}, {"role", RP_TEXT},   \
    {"unit", RP_TEXT}, {"townships", RP_LINES}, {"disabled", RP_BOOL},                  \
    {"version", RP_INT}, {"created_at", RP_TEXT}, {"updated_at", RP_TEXT}
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
 * Password jobs: every request that makes argon2id work (session.login,
 * session.change_password, user.create, user.set_password) is one job from
 * its start until it no longer needs the thread pool (logins and password
 * changes: until answered, their delay included). At most
 * login_max_pending jobs run at once, server-wide (the name is older than
 * the rule: it bounds all password hashing), and a connection has at most
 * one at a time (the session's login_pending flag, session.h). So no
 * client can fill the thread pool (4 threads, each hash 64 MiB) and starve
 * logins.
 * user_pw_job_begin returns 0 (the job counts; end it exactly once with
 * user_pw_job_end on the same request, before answering it), or -1 with
 * *why set to a static word for the log ("connection_busy",
 * "server_busy"): nothing answered yet; log, then answer with
 * user_pw_job_refuse (`unavailable` with a message saying which).
 */
__attribute__((warn_unused_result))
int user_pw_job_begin(request *req, const char **why);
void user_pw_job_refuse(request *req, const char *why);
void user_pw_job_end(request *req);

/*
 * After a write that may end user_id's sessions committed and this
 * process logged them out: waits until every other baobaod on the
 * database has too (nodes_barrier), then calls then(arg). The change then
 * takes effect at the user's next request wherever it comes (PROTOCOL.md
 * "Sessions across processes"). then runs exactly once, maybe at once.
 */
void user_after_change(request *req, int64_t user_id, void (*then)(void *arg), void *arg);

/*
 * Answers req with the error of a failed query made for the session's user
 * actor (its user id when the request started). When the database said
 * `unauthenticated` (BB401: the user is gone or disabled), the connection's
 * session is cleared too (logged event=session_revoked), if it still
 * belongs to actor: its next request must come from a new login.
 */
void user_reply_pool_error(request *req, const char *stmt, const pool_error *e, int64_t actor);

/*
 * `baobaod --create-admin LOGIN [--display-name TEXT]`: runs after the
 * migrations, before any loop (blocking libpq is fine). The password comes
 * from $BAOBAO_ADMIN_PASSWORD, else from /dev/tty without echo, asked
 * twice. Returns the exit status: 0 created, 1 failed (the login exists,
 * the database refused, no password), with a message on stderr.
 */
int user_create_admin(const struct server *s, const char *login, const char *display_name);

#endif
