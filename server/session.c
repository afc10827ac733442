/*
 * session.c: the session of a connection (session.h): role names, setting
 * and clearing it, and the SQL parameters derived from it.
 *
 * Not for: the gate (dispatch.c) or the scope rules (sql/).
 */
#include "session.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    bb_role role;
    const char *name;
} role_names[] = {
    {BB_ROLE_STAFF, "township_staff"},
    {BB_ROLE_SUPERVISOR, "supervisor"},
    {BB_ROLE_ADMIN, "admin"},
};

const char *session_role_name(bb_role r)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (role_names[i].role == r)
            return role_names[i].name;
    return "none";
}

bb_role session_role_from_name(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (strlen(role_names[i].name) == len && memcmp(role_names[i].name, s, len) == 0)
            return role_names[i].role;
    return BB_ROLE_NONE;
}

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

/* placeholder: being written (accounts helper): session.login and friends. */
#include "methods.h"
const method_def session_methods[] = {
    {NULL, NULL, 0},
};
int session_register_statements(void) { return 0; }
