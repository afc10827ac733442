/*
 * session.c: the session of a connection (session.h): role names, setting
 * and clearing it, and the SQL parameters derived from it.
 *
 * Not for: the session.* methods (methods/login.c), the gate (dispatch.c),
 * the scope rules (sql/), or managing other users (methods/user.c).
 */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *session_actor(const session *s)
{
    return session_logged_in(s) ? s->actor : NULL;
}

const char *session_read_scope(const session *s)
{
    return session_logged_in(s) && s->role == BB_ROLE_STAFF ? s->actor : NULL;
}

void session_set(session *s, int64_t user_id, bb_role role, const char *login)
{
    bool pending = s->login_pending;
    memset(s, 0, sizeof *s);
    s->login_pending = pending;
    s->user_id = user_id;
    s->role = role;
    snprintf(s->login, sizeof s->login, "%s", login);
    snprintf(s->actor, sizeof s->actor, "%" PRId64, user_id);
}

void session_clear(session *s)
{
    bool pending = s->login_pending;
    memset(s, 0, sizeof *s);
    s->login_pending = pending;
}
