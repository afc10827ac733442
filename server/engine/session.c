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

#include "bb_errors.h"
#include "listen.h"
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
    s->hear_waiting = keep.hear_waiting;
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

void session_stamp(session *s, int64_t epoch, uint64_t login_age_ms, uint64_t now_ms,
                   unsigned max_s)
{
    s->epoch = epoch;
    s->last_ms = now_ms;
    s->max_at_ms = 0;
    if (max_s > 0) {
        uint64_t max_ms = (uint64_t)max_s * 1000u;
        /* A token older than the limit: ends at its first request. */
        s->max_at_ms = login_age_ms < max_ms ? now_ms + (max_ms - login_age_ms) : 1;
    }
}

void session_clear(session *s)
{
    reg_unlink(s);
    reset(s);
}

/* The last revocations, by number (only the loop thread); a local one
 * has epoch INT64_MAX: it counts against any login. */
static uint64_t rv_seq;
static struct {
    int64_t user, epoch;
} rv[SESSION_REVOKE_RING];

static void rv_note(int64_t user_id, int64_t epoch)
{
    rv_seq++;
    rv[rv_seq % SESSION_REVOKE_RING].user = user_id;
    rv[rv_seq % SESSION_REVOKE_RING].epoch = epoch;
}

uint64_t session_revocation_mark(void) { return rv_seq; }

bool session_revoked_since(int64_t user_id, int64_t epoch, uint64_t mark)
{
    if (rv_seq - mark >= SESSION_REVOKE_RING)
        return true;
    for (uint64_t q = mark + 1; q <= rv_seq; q++)
        if (rv[q % SESSION_REVOKE_RING].user == user_id &&
            rv[q % SESSION_REVOKE_RING].epoch > epoch)
            return true;
    return false;
}

unsigned session_revoke_user(int64_t user_id, const session *keep, const char *why)
{
    rv_note(user_id, INT64_MAX);
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

unsigned session_revoke_older(int64_t user_id, int64_t epoch, const char *why)
{
    rv_note(user_id, epoch);
    unsigned n = 0;
    session *next;
    for (session *s = registry; s != NULL; s = next) {
        next = s->reg_next;
        if (s->user_id != user_id || s->epoch >= epoch)
            continue;
        if (s->held) {
            if (epoch > s->held_max)
                s->held_max = epoch;
            continue;
        }
        session_clear(s);
        n++;
        log_conn(LOG_INFO, s->conn_id, "session_revoked", "user_id=%lld why=%s",
                 (long long)user_id, why);
    }
    return n;
}

void session_hold(session *s)
{
    s->held = true;
    s->held_max = 0;
}

bool session_release(session *s, int64_t user_id, int64_t epoch)
{
    if (!s->held || s->user_id != user_id)
        return session_logged_in(s); /* another session by now */
    s->held = false;
    if (epoch > s->epoch)
        s->epoch = epoch;
    if (s->held_max > s->epoch) {
        log_conn(LOG_INFO, s->conn_id, "session_revoked", "user_id=%lld why=user_changed",
                 (long long)user_id);
        session_clear(s);
        return false;
    }
    return true;
}

void session_each(void (*fn)(void *arg, const session *s), void *arg)
{
    for (const session *s = registry; s != NULL; s = s->reg_next)
        fn(arg, s);
}

/* ---- the gate's part about time and hearing ---- */

/* Until when (uv_now) this process can hear changes (nodes.c). */
static uint64_t hear_until_ms;

static void (*on_hearing)(void);

void session_on_hearing(void (*fn)(void)) { on_hearing = fn; }

void session_hear_until(uint64_t until_ms)
{
    hear_until_ms = until_ms;
    if (until_ms != 0 && on_hearing != NULL)
        on_hearing(); /* the waiting requests run (none: nothing to do) */
}

bool session_hearing(uint64_t now_ms) { return listen_is_up() && now_ms <= hear_until_ms; }

int session_gate(session *s, uint64_t now_ms, unsigned idle_s)
{
    /* Two loads and compares on the hot path: the cost of being told
     * rather than asking (sql/027, nodes.c). */
    if (!session_hearing(now_ms))
        return BB_E_UNAVAILABLE;
    const char *why = NULL;
    if (s->max_at_ms != 0 && now_ms >= s->max_at_ms)
        why = "max_lifetime";
    else if (idle_s > 0 && now_ms - s->last_ms >= (uint64_t)idle_s * 1000u)
        why = "idle";
    if (why != NULL) {
        log_conn(LOG_INFO, s->conn_id, "session_expired", "user_id=%lld why=%s",
                 (long long)s->user_id, why);
        session_clear(s);
        return BB_E_UNAUTHENTICATED;
    }
    s->last_ms = now_ms;
    return 0;
}
