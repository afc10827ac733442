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
#include <uv.h>

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
 * has epoch INT64_MAX: it counts against any login. User 0: the LISTEN
 * connection came (back) up (session_relistened_since). */
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

void session_note_relisten(void) { rv_note(0, INT64_MAX); }

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

bool session_relistened_since(uint64_t mark)
{
    if (rv_seq - mark >= SESSION_REVOKE_RING)
        return true;
    for (uint64_t q = mark + 1; q <= rv_seq; q++)
        if (rv[q % SESSION_REVOKE_RING].user == 0)
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
    /* Kept only when nothing but its own change raised the epoch: the
     * result is exactly one above the epoch the session had, and no
     * notification told of a later one. Any other raise (a demotion, a
     * disable, a scope change committed around it) ends the session. A
     * failed change (epoch 0) raised nothing of its own. */
    bool keep = epoch == 0 ? s->held_max <= s->epoch
                           : epoch == s->epoch + 1 && s->held_max <= epoch;
    if (!keep) {
        log_conn(LOG_INFO, s->conn_id, "session_revoked", "user_id=%lld why=user_changed",
                 (long long)user_id);
        session_clear(s);
        return false;
    }
    if (epoch > s->epoch)
        s->epoch = epoch;
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
    /* The waiting requests run (none: nothing to do), but only if this
     * process hears now: after a stall, the echoes of old beats come
     * first, each with an until already past, and the gate would refuse
     * every waiting request at the first of them. */
    if (until_ms != 0 && on_hearing != NULL && session_hearing(0))
        on_hearing();
}

bool session_hearing(uint64_t now_ms)
{
    /* uv_now is cached once per loop pass and may lag the real time by a
     * long pass; the margin of nodes.h counts real time, so the later of
     * the two is taken (uv_hrtime has the same base as uv_now on the
     * platforms baobaod runs on: the monotonic clock). */
    uint64_t real = uv_hrtime() / 1000000u;
    if (real > now_ms)
        now_ms = real;
    return listen_is_up() && now_ms <= hear_until_ms;
}

/* Why s has ended by a lifetime at now_ms; NULL: it has not. */
static const char *expired_why(const session *s, uint64_t now_ms, unsigned idle_s)
{
    if (s->max_at_ms != 0 && now_ms >= s->max_at_ms)
        return "max_lifetime";
    if (idle_s > 0 && now_ms - s->last_ms >= (uint64_t)idle_s * 1000u)
        return "idle";
    return NULL;
}

unsigned session_sweep(uint64_t now_ms, unsigned idle_s)
{
    unsigned n = 0;
    session *next;
    for (session *s = registry; s != NULL; s = next) {
        next = s->reg_next;
        const char *why = expired_why(s, now_ms, idle_s);
        if (why == NULL)
            continue;
        log_conn(LOG_INFO, s->conn_id, "session_expired", "user_id=%lld why=%s",
                 (long long)s->user_id, why);
        session_clear(s);
        n++;
    }
    return n;
}

int session_gate(session *s, uint64_t now_ms, unsigned idle_s)
{
    /* Two loads and compares on the hot path: the cost of being told
     * rather than asking (sql/027, nodes.c). */
    if (!session_hearing(now_ms))
        return BB_E_UNAVAILABLE;
    /* A change of its own user through this session is in flight and a
     * newer one was told meanwhile (session_hold): it may have been a
     * demotion, so nothing is served until session_release judges it. */
    if (s->held && s->held_max > s->epoch)
        return BB_E_UNAVAILABLE;
    const char *why = expired_why(s, now_ms, idle_s);
    if (why != NULL) {
        log_conn(LOG_INFO, s->conn_id, "session_expired", "user_id=%lld why=%s",
                 (long long)s->user_id, why);
        session_clear(s);
        return BB_E_UNAUTHENTICATED;
    }
    s->last_ms = now_ms;
    return 0;
}
