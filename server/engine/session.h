/*
 * session.h: who is on a connection. Every connection has one session,
 * empty until `session.login` succeeds; the dispatcher's gate (dispatch.c)
 * reads it before any handler runs, and handlers read it to pass the
 * caller to SQL (the actor of a write, the scope of a read).
 *
 * Roles (proto/PROTOCOL.md, "Accounts, roles and scope"):
 *   township_staff  reads and writes enterprises, status reports (and later
 *                   problems) of its own townships only (app_user_township)
 *   supervisor      reads everything; writes enterprises and status reports
 *                   anywhere (projects, assignments, problems later)
 *   admin           users and audit; reads business data, writes none
 *
 * Ownership: the session lives inside its client (client.c) and is
 * borrowed through client_session / req_session. A request that needs the
 * caller after its handler returns copies what it needs (the actor text)
 * into its query parameters: a logout or a second login may change the
 * session while an earlier request is still in the database.
 *
 * Not for: checking passwords or throttling logins (session.c), users
 * (user.c), the scope rules themselves (the stored functions in sql/ and
 * the read statements next to each method).
 */
#ifndef BB_SESSION_H
#define BB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bb_spec.h"
#include "request.h"

/* Roles and the role sets of methods are the spec's (bb_spec.h). */
/* Longest login name in bytes (also a CHECK in sql/004_accounts.sql). */
#define SESSION_LOGIN_MAX 64

/* Streams of pushed records a subscriber can catch up on (watch.missed
 * names the last id pushed of each); the module that pushes says which
 * stream is which (the engine does not know what a notice is). */
#define SESSION_WATCH_STREAMS 2

/* A connection's subscription to pushes (client_push in client.h): plain
 * data, set by the watch.* methods, cleared with the rest of the session
 * on logout, on another login and when the connection goes. */
typedef struct session_watch {
    bool on;                         /* subscribed */
    bool all;                        /* everything, not only what concerns
                                        the user (supervisors, admins) */
    bool missed;                     /* a push was dropped (output over
                                        write_high_water): nothing more
                                        until drained, then one "missed" */
    bool pending;                    /* subscribed, last[] not yet filled
                                        (watch.subscribe not answered):
                                        "missed" waits for it */
    uint32_t asking;                 /* watch.subscribe queries in flight:
                                        a failed one ends a subscription
                                        only when it was the last one and
                                        none answered (pending still) */
    int64_t last[SESSION_WATCH_STREAMS]; /* the last id pushed per stream */
} session_watch;

typedef struct session {
    int64_t user_id;                 /* 0: not logged in */
    bb_role role;                    /* BB_ROLE_NONE when not logged in */
    char login[SESSION_LOGIN_MAX + 1];
    char actor[24];                  /* user_id in decimal: SQL's p_actor */
    session_watch watch;             /* pushes (empty: not subscribed) */
    /* What the login saw (sql/027_session_epoch.sql): the user's epoch
     * then (a notification of a higher one ends the session), and by this
     * process's loop clock (uv_now, ms) when the session ends by its
     * absolute lifetime (0: never; a resume counts from the password
     * login its token came from) and its last request (idle lifetime). */
    int64_t epoch;
    uint64_t max_at_ms;
    uint64_t last_ms;
    /* A change of this session's own user made through it is in flight
     * (session_hold): its notification may come before its result, so a
     * notified epoch is kept here instead of ending the session, and
     * judged against the epoch the result gives (session_release). */
    bool held;
    int64_t held_max;
    unsigned hear_waiting;           /* this connection's requests waiting to
                                        hear (dispatch.c); kept across
                                        session_clear */
    bool login_pending;              /* a password job (a login's check, a
                                        change_password, user.create or
                                        set_password hashing) is running for
                                        this connection: one at a time */
    /* The registry of logged-in sessions (session_revoke_user); kept by
     * session_set / session_clear / session_forget, never by hand. */
    uint64_t conn_id;                /* the connection's id, for log lines */
    struct session *reg_next, *reg_prev;
    bool registered;
} session;

static inline bool session_logged_in(const session *s) { return s->user_id != 0; }

/* The wire name of a role ("township_staff", "supervisor", "admin"; "none"
 * for BB_ROLE_NONE). Static storage. */
static inline const char *session_role_name(bb_role r) { return bb_role_name(r); }
/* The role of a wire name s[0..len); BB_ROLE_NONE when unknown. */
static inline bb_role session_role_from_name(const char *s, size_t len)
{
    return bb_role_from_name(s, len);
}

/* SQL parameters (NUL-terminated text, or NULL for SQL NULL):
 * the actor of a write, the user id of the session (NULL when not logged
 * in); the scope of a read, the user id for township staff, whose
 * townships the statement looks up in app_user_township, and NULL for the
 * roles that read everything. */
const char *session_actor(const session *s);
const char *session_read_scope(const session *s);

/* Sets and clears a session (login.c after a login check, logout). A set
 * session is in the registry of logged-in sessions until it is cleared or
 * forgotten. */
void session_set(session *s, int64_t user_id, bb_role role, const char *login);
/* After session_set: the user's epoch the login saw, how long ago (ms)
 * the password login was (0 for a login; a resume's token is older), the
 * loop's now (uv_now) and session_max_s (0: no absolute lifetime). */
void session_stamp(session *s, int64_t epoch, uint64_t login_age_ms, uint64_t now_ms,
                   unsigned max_s);
void session_clear(session *s);
/* Starts a connection's session (empty) and ends it for good when the
 * connection's memory goes (client.c). */
void session_init(session *s, uint64_t conn_id);
void session_forget(session *s);
/* Logs user_id out of every session in this process but keep (may be
 * NULL): a password, role or scope change, or a disable. Returns how many
 * were cleared; each is logged with why. */
unsigned session_revoke_user(int64_t user_id, const session *keep, const char *why);
/* The same for a change told by another process (nodes.c): only the
 * sessions made under an epoch older than epoch end (a login after the
 * change saw it already). */
unsigned session_revoke_older(int64_t user_id, int64_t epoch, const char *why);
/* Around a change to s's own user through s (session.change_password;
 * user.set_password of oneself does not hold, user.c says why): hold
 * before sending it; release with
 * the user's epoch the change's result gave (0: it failed or gave none).
 * Returns true when s is still logged in: s is kept only when its own
 * change was the only raise (the result is s's epoch + 1 and nothing
 * newer was told); any other change of the user around it ends s. While
 * held and told of a newer epoch, session_gate refuses s's requests. */
void session_hold(session *s);
bool session_release(session *s, int64_t user_id, int64_t epoch);
/* Revocations remembered (the last SESSION_REVOKE_RING). A login whose
 * check overlapped a change of its user must not get a session made before
 * it: its database read is locked against the change (sql/005_users.sql
 * bb_login_finish), but the two answers may come back in either order. So
 * a login that started at mark (session_revocation_mark) and saw the user at epoch
 * asks at its end whether its user was revoked since, by this process
 * (always counts) or by a change told with a newer epoch (nodes.c); true
 * also when too many came since to tell. */
#define SESSION_REVOKE_RING 256u
uint64_t session_revocation_mark(void);
/* LISTEN came (back) up (nodes.c): a login in flight may have read its
 * user before a change this process was never told of, and the re-check
 * then sent does not know its session. session_relistened_since(mark) is
 * true for such a login (also when too many revocations came since to
 * tell): it sets its session, then asks for another re-check
 * (nodes_recheck). */
void session_note_relisten(void);
bool session_relistened_since(uint64_t mark);
bool session_revoked_since(int64_t user_id, int64_t epoch, uint64_t mark);
/* Calls fn for every logged-in session of this process (the re-check
 * after LISTEN came back, nodes.c); fn must not clear sessions. */
void session_each(void (*fn)(void *arg, const session *s), void *arg);

/* ---- the gate's part about time and hearing (dispatch.c) ----
 *
 * A logged-in session is served only while this process can hear the
 * changes that end sessions (nodes.h): nodes.c says until when (loop
 * clock) with session_hear_until; 0: not now. And only within its
 * lifetimes: session_idle_s since its last request, session_max_s since
 * its password login. */
void session_hear_until(uint64_t until_ms);
/* A logged-in session's request that comes while this process cannot
 * hear waits this long for it (dispatch.c; start-up, a LISTEN reconnect)
 * before it is answered `unavailable`: enough for a re-check and one
 * beat's round trip after a quick reconnect, short enough that a client
 * of a process that stays deaf learns it soon and can go elsewhere. */
#define SESSION_HEAR_WAIT_MS 1000u
/* Called when this process starts hearing again (dispatch.c runs the
 * waiting requests). One callback. */
void session_on_hearing(void (*fn)(void));
/* True when this process can hear account changes at now_ms (uv_now):
 * server.info's database_available and /ready say false otherwise. */
bool session_hearing(uint64_t now_ms);
/* For a request of logged-in s at now_ms (uv_now): 0, and the request
 * counts as s's last; BB_E_UNAVAILABLE when this process cannot hear
 * changes now, or s is held and was told of a newer epoch (s stays);
 * BB_E_UNAUTHENTICATED when s ended by a lifetime (s is cleared and logged event=session_expired why=idle|max_lifetime).
 * idle_s 0: no idle limit. */
int session_gate(session *s, uint64_t now_ms, unsigned idle_s);
/* Ends (as session_gate would) every session past a lifetime at now_ms,
 * whether or not it sends requests: a connection that only receives
 * pushes (watch.*) stops receiving them. nodes.c calls it every
 * NODE_BEAT_MS. Returns how many ended. */
unsigned session_sweep(uint64_t now_ms, unsigned idle_s);

/* The caller of a request (borrowed from its connection; never NULL) and
 * the peer's address as text: "127.0.0.1:50432" (audit records) and the
 * address alone (login throttling). req_session_mut is for session.c. */
const session *req_session(const request *req);
session *req_session_mut(request *req);
const char *req_peer(const request *req);
const char *req_peer_ip(const request *req);

#endif
