/*
 * session.c: the session of a connection (session.h): role names, setting
 * and clearing it, and the SQL parameters derived from it.
 *
 * Also the registry of logged-in sessions of this process, so that a
 * change to a user logs their other sessions out without walking the
 * connections (session_revoke_user). The registry is module state of the
 * loop thread: only the loop thread sets, clears or walks sessions.
 *
 * Not for: the session.* methods (methods/login.c), the gate (dispatch.c),
 * the scope rules (sql/), or managing other users (methods/user.c).
 */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

/* The logged-in sessions (intrusive list through reg_next / reg_prev). */
static session *registry;

const char *session_actor(const session *s)
{
    return session_logged_in(s) ? s->actor : NULL;
}

const char *session_read_scope(const session *s)
{
    return session_logged_in(s) && s->role == BB_ROLE_STAFF ? s->actor : NULL;
}

static void reg_link(session *s)
{
    if (s->registered)
        return;
    s->reg_prev = NULL;
    s->reg_next = registry;
    if (registry != NULL)
        registry->reg_prev = s;
    registry = s;
    s->registered = true;
}

static void reg_unlink(session *s)
{
    if (!s->registered)
        return;
    if (s->reg_prev != NULL)
        s->reg_prev->reg_next = s->reg_next;
    else
        registry = s->reg_next;
    if (s->reg_next != NULL)
        s->reg_next->reg_prev = s->reg_prev;
    s->reg_next = s->reg_prev = NULL;
    s->registered = false;
}

/* Empties s but for what outlives a login: the pending flag, the
 * connection id and the registry links. */
static void reset(session *s)
{
    session keep = *s;
    memset(s, 0, sizeof *s);
    s->login_pending = keep.login_pending;
    s->conn_id = keep.conn_id;
    s->reg_next = keep.reg_next;
    s->reg_prev = keep.reg_prev;
    s->registered = keep.registered;
}

void session_init(session *s, uint64_t conn_id)
{
    memset(s, 0, sizeof *s);
    s->conn_id = conn_id;
}

void session_forget(session *s)
{
    reg_unlink(s);
    memset(s, 0, sizeof *s);
}

void session_set(session *s, int64_t user_id, bb_role role, const char *login)
{
    reset(s);
    s->user_id = user_id;
    s->role = role;
    snprintf(s->login, sizeof s->login, "%s", login);
    snprintf(s->actor, sizeof s->actor, "%" PRId64, user_id);
    reg_link(s);
}

void session_clear(session *s)
{
    reg_unlink(s);
    reset(s);
}

unsigned session_revoke_user(int64_t user_id, const session *keep, const char *why)
{
    unsigned n = 0;
    session *next;
    for (session *s = registry; s != NULL; s = next) {
        next = s->reg_next;
        if (s->user_id != user_id || s == keep)
            continue;
        session_clear(s);
        n++;
        log_conn(LOG_INFO, s->conn_id, "session_revoked", "user_id=%lld why=%s",
                 (long long)user_id, why);
    }
    return n;
}
