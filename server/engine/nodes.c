/*
 * nodes.c: this process in the registry of baobaod processes, the
 * 'bb_session' channel, and the barrier of the writes that end sessions
 * (nodes.h says why; sql/027_session_epoch.sql has the other half).
 *
 * For: on LISTEN up, re-checking every session held against the database
 * (one statement: user ids and the epochs their logins saw), then
 * registering; a beat every NODE_BEAT_MS through the pool whose echo comes
 * back through LISTEN and keeps session_hear_until moving; logging out the
 * sessions a notification names and acknowledging at once (a beat with
 * the new applied seq); polling the registry for a barrier.
 * Not for: the gate itself (session_gate), LISTEN's connection (listen.c).
 *
 * Lifecycle of the hearing state (N below):
 *   LISTEN up -> on_ready: not hearing, gen++, re-check sent
 *   re-check answered (same gen) -> rechecked; registered (once) -> beat
 *   echo of a beat sent after rechecked -> hearing until sent + STALE/2
 *   LISTEN down: listen_is_up() is false, the gate refuses at once.
 */
#include "nodes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "listen.h"
#include "log.h"
#include "pool.h"
#include "replica.h"
#include "server.h"
#include "session.h"

#define NODES_CHANNEL "bb_session"
/* Beats whose send time is remembered until their echo (echoes come in
 * order; one older than this many beats is no longer useful). */
#define NODE_BEAT_RING 16u
/* The echoes of this process's beats come on a channel of its own,
 * "bb_node_" and random letters (listen.h takes [a-z_] only): no other
 * process hears them. */
#define NODES_ECHO_PREFIX "bb_node_"
#define NODES_ECHO_LETTERS 16u

static const pool_stmt st_recheck = {
    .name = "nodes_recheck",
    .sql = "SELECT o_user, o_why, o_seq, o_epoch FROM bb_session_recheck("
           "p_users => $1::bigint[], p_epochs => $2::bigint[])",
    .nparams = 2};
static const pool_stmt st_register = {
    .name = "nodes_register",
    .sql = "SELECT bb_node_register(p_host => $1::text, p_pid => $2::integer,"
           " p_applied => $3::bigint, p_forget_s => $4::integer)",
    .nparams = 4};
static const pool_stmt st_beat = {
    .name = "nodes_beat",
    .sql = "SELECT bb_node_beat(p_id => $1::bigint, p_applied => $2::bigint, p_n => $3::bigint,"
           " p_channel => $4::text)",
    .nparams = 4};
static const pool_stmt st_leave = {
    .name = "nodes_leave", .sql = "SELECT bb_node_leave(p_id => $1::bigint)", .nparams = 1};
static const pool_stmt st_barrier = {
    .name = "nodes_barrier",
    .sql = "SELECT o_waiting, o_seq FROM bb_node_barrier(p_user => $1::bigint,"
           " p_stale_ms => $2::integer)",
    .nparams = 2};

static struct {
    server *s;
    uv_timer_t beat;
    bool started;
    bool stopping;
    int64_t id;                 /* the registry row; 0: not registered */
    bool registering;
    int64_t applied;            /* every change up to this seq is applied */
    uint64_t gen;               /* LISTEN ups so far: a late re-check of an
                                   earlier one is dropped */
    bool rechecked;             /* for the current gen */
    bool recheck_pending;
    bool beat_pending, beat_again;
    uint64_t beat_n;            /* beats sent */
    uint64_t sent_ms[NODE_BEAT_RING]; /* by beat number % ring */
    uint64_t sent_gen[NODE_BEAT_RING];
    uint64_t heard_ms;          /* send time of the last beat echoed */
    bool lagging;               /* not hearing: logged node_not_hearing (or
                                   starting); the next echo logs
                                   node_hearing */
    char echo_channel[sizeof NODES_ECHO_PREFIX + NODES_ECHO_LETTERS];
} N;

static uint64_t now_ms(void) { return uv_now(N.s->loop); }

int nodes_register(void)
{
    const pool_stmt *all[] = {&st_recheck, &st_register, &st_beat, &st_leave, &st_barrier};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (pool_register(all[i]) != 0) {
            log_event(LOG_ERROR, "startup_failed", "what=nodes why=\"statement registry full\"");
            return -1;
        }
    return 0;
}

/* ---- beats ---- */

static void send_beat(void);

static void on_beat(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    N.beat_pending = false;
    if (e != NULL) {
        /* The echo will not come: after NODE_STALE_MS / 2 the gate refuses
         * (the next tick tries again). */
        log_event(LOG_DEBUG, "node_beat_failed", "id=%" PRId64 " msg=%s", N.id,
                  log_q(e->message));
    } else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "f") == 0) {
        log_event(LOG_WARN, "node_forgotten", "id=%" PRId64, N.id);
        N.id = 0; /* registers again at the next tick */
    }
    if (N.beat_again && !N.stopping) {
        N.beat_again = false;
        send_beat();
    }
}

static void send_beat(void)
{
    if (N.id == 0 || !N.rechecked || N.stopping || N.s->pool == NULL)
        return;
    if (N.beat_pending) {
        N.beat_again = true; /* an ack that must not wait for the tick */
        return;
    }
    uint64_t n = ++N.beat_n;
    N.sent_ms[n % NODE_BEAT_RING] = now_ms();
    N.sent_gen[n % NODE_BEAT_RING] = N.gen;
    char id[24], applied[24], num[24];
    snprintf(id, sizeof id, "%" PRId64, N.id);
    snprintf(applied, sizeof applied, "%" PRId64, N.applied);
    snprintf(num, sizeof num, "%" PRIu64, n);
    const char *v[] = {id, applied, num, N.echo_channel};
    if (pool_query(N.s->pool, &st_beat, v, NULL, on_beat, NULL) == 0)
        N.beat_pending = true;
}

/* Our own beat came back through LISTEN: hearing until it is
 * NODE_STALE_MS / 2 old. */
static void on_echo(uint64_t n)
{
    if (n == 0 || n > N.beat_n || N.beat_n - n >= NODE_BEAT_RING)
        return;
    if (!N.rechecked || N.sent_gen[n % NODE_BEAT_RING] != N.gen)
        return; /* sent before the re-check of this LISTEN connection */
    if (N.lagging) {
        log_event(LOG_INFO, "node_hearing", "id=%" PRId64, N.id);
        N.lagging = false;
    }
    N.heard_ms = N.sent_ms[n % NODE_BEAT_RING];
    session_hear_until(N.heard_ms + NODE_STALE_MS / 2u);
}

/* ---- registering ---- */

static void on_registered(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    N.registering = false;
    if (e != NULL || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        log_event(LOG_WARN, "node_register_failed", "msg=%s",
                  log_q(e != NULL ? e->message : "bad result"));
        return; /* the next tick tries again */
    }
    N.id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    log_event(LOG_INFO, "node_registered", "id=%" PRId64 " applied_seq=%" PRId64, N.id,
              N.applied);
    send_beat();
}

static void send_register(void)
{
    if (N.registering || N.id != 0 || !N.rechecked || N.stopping || N.s->pool == NULL)
        return;
    char host[256], pid[16], applied[24], forget[16];
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    snprintf(applied, sizeof applied, "%" PRId64, N.applied);
    snprintf(forget, sizeof forget, "%u", NODE_FORGET_S);
    const char *v[] = {host, pid, applied, forget};
    if (pool_query(N.s->pool, &st_register, v, NULL, on_registered, NULL) == 0)
        N.registering = true;
}

/* ---- the re-check after LISTEN came up ---- */

typedef struct arrays {
    char *users, *epochs;
    size_t ulen, elen, cap;
    unsigned n;
    bool failed;
} arrays;

static void append(char **buf, size_t *len, size_t cap, int64_t v, bool first)
{
    *len += (size_t)snprintf(*buf + *len, cap - *len, "%s%" PRId64, first ? "" : ",", v);
}

static void count_one(void *arg, const session *s)
{
    (void)s;
    ((arrays *)arg)->n++;
}

static void add_one(void *arg, const session *s)
{
    arrays *a = arg;
    append(&a->users, &a->ulen, a->cap, s->user_id, a->ulen == 1);
    append(&a->epochs, &a->elen, a->cap, s->epoch, a->elen == 1);
}

static void on_rechecked(void *arg, const PGresult *res, const pool_error *e)
{
    uint64_t gen = (uint64_t)(uintptr_t)arg;
    if (gen != N.gen)
        return; /* LISTEN went down and came up again meanwhile */
    N.recheck_pending = false;
    if (e != NULL) {
        log_event(LOG_WARN, "session_recheck_failed", "msg=%s", log_q(e->message));
        return; /* the next tick tries again; sessions refused meanwhile */
    }
    unsigned ended = 0;
    uint64_t now = now_ms();
    for (int r = 0; r < PQntuples(res); r++) {
        if (PQgetisnull(res, r, 0)) {
            int64_t seq = strtoll(PQgetvalue(res, r, 2), NULL, 10);
            if (seq > N.applied)
                N.applied = seq;
            continue;
        }
        int64_t user = strtoll(PQgetvalue(res, r, 0), NULL, 10);
        const char *why = PQgetvalue(res, r, 1);
        /* Reads of that user go to the primary until the replica has
         * the change (replica.h), then its sessions end: of a changed
         * user only those made under an older epoch than the user's now
         * (a login after the change saw it), of a disabled or gone user
         * all. */
        replica_user_changed(user, now);
        if (PQgetisnull(res, r, 3))
            ended += session_revoke_user(user, NULL, why);
        else
            ended += session_revoke_older(user, strtoll(PQgetvalue(res, r, 3), NULL, 10), why);
    }
    N.rechecked = true;
    /* Changes committed while LISTEN was down were not heard one by one:
     * no read goes to the replica until it has replayed past now. */
    replica_all_changed(now);
    log_event(LOG_INFO, "session_recheck", "ended=%u applied_seq=%" PRId64, ended, N.applied);
    if (N.id == 0)
        send_register();
    else
        send_beat();
}

static void send_recheck(void)
{
    if (N.recheck_pending || N.rechecked || N.stopping || N.s->pool == NULL || !listen_is_up())
        return;
    arrays a = {0};
    session_each(count_one, &a);
    /* Each id at most 20 digits and a comma; braces and the NUL. */
    a.cap = (size_t)a.n * 21u + 3u;
    a.users = malloc(a.cap);
    a.epochs = malloc(a.cap);
    if (a.users == NULL || a.epochs == NULL) {
        free(a.users);
        free(a.epochs);
        log_event(LOG_WARN, "session_recheck_failed", "msg=\"out of memory\"");
        return;
    }
    a.users[0] = a.epochs[0] = '{';
    a.ulen = a.elen = 1;
    a.n = 0;
    session_each(add_one, &a);
    snprintf(a.users + a.ulen, a.cap - a.ulen, "}");
    snprintf(a.epochs + a.elen, a.cap - a.elen, "}");
    const char *v[] = {a.users, a.epochs};
    if (pool_query(N.s->pool, &st_recheck, v, NULL, on_rechecked, (void *)(uintptr_t)N.gen) == 0)
        N.recheck_pending = true;
    free(a.users);
    free(a.epochs);
}

/* ---- the channel ---- */

/* Nothing is served until the sessions held are checked against the
 * database (again); a re-check in flight, which may miss a session, is
 * dropped (gen), and so are the echoes of beats sent before. */
static void recheck_all(void)
{
    session_hear_until(0);
    N.gen++;
    N.rechecked = false;
    N.recheck_pending = false;
    send_recheck();
}

void nodes_recheck(void)
{
    if (!N.started || N.stopping)
        return;
    log_event(LOG_INFO, "session_recheck_again", "why=login_across_listen_up");
    recheck_all();
}

static void on_ready(void *arg)
{
    (void)arg;
    /* Changes committed while LISTEN was down were not heard. A login in
     * flight now is told to ask for another re-check once its session is
     * set (session_note_relisten, login.c). */
    session_note_relisten();
    recheck_all();
}

/* The echo channel: 'b:<id>:<n>'. */
static void on_echo_notify(void *arg, const char *payload)
{
    (void)arg;
    long long id = 0;
    unsigned long long n = 0;
    if (payload[0] == 'b' && payload[1] == ':' &&
        sscanf(payload + 2, "%lld:%llu", &id, &n) == 2 && id == N.id && id != 0)
        on_echo((uint64_t)n);
}

static void on_notify(void *arg, const char *payload)
{
    (void)arg;
    long long user = 0, epoch = 0, seq = 0;
    if (sscanf(payload, "%lld:%lld:%lld", &user, &epoch, &seq) != 3) {
        log_event(LOG_WARN, "session_notify_bad", "payload=%s", log_q(payload));
        return;
    }
    /* Before the acknowledgement: once the writer answers, reads of that
     * user must not come from a replica that has not replayed the change
     * (replica.h). */
    replica_user_changed(user, now_ms());
    (void)session_revoke_older(user, epoch, "user_changed");
    if (seq > N.applied) {
        N.applied = seq;
        send_beat(); /* the acknowledgement a barrier waits for */
    }
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    /* Lifetimes of the sessions that send nothing (push subscribers): the
     * gate sees only the ones that make requests. */
    (void)session_sweep(now_ms(), N.s->cfg.session_idle_s);
    if (!listen_is_up())
        return; /* not beating: after NODE_STALE_MS barriers stop waiting */
    if (!N.rechecked) {
        send_recheck();
        return;
    }
    if (N.id == 0) {
        send_register();
        return;
    }
    if (!N.lagging && now_ms() > N.heard_ms + NODE_STALE_MS / 2u) {
        /* Beats go out but none comes back: LISTEN may be dead without
         * the socket knowing (keepalives will tell); sessions refused. */
        N.lagging = true;
        log_event(LOG_WARN, "node_not_hearing", "id=%" PRId64, N.id);
    }
    send_beat();
}

int nodes_start(server *s)
{
    N.s = s;
    N.lagging = true; /* the first echo logs event=node_hearing */
    unsigned char rnd[NODES_ECHO_LETTERS];
    int r = uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL);
    if (r < 0)
        return r;
    size_t plen = strlen(NODES_ECHO_PREFIX);
    memcpy(N.echo_channel, NODES_ECHO_PREFIX, plen);
    for (size_t i = 0; i < NODES_ECHO_LETTERS; i++)
        N.echo_channel[plen + i] = (char)('a' + rnd[i] % 26u);
    N.echo_channel[plen + NODES_ECHO_LETTERS] = '\0';
    if (listen_on(NODES_CHANNEL, on_notify, on_ready, NULL) != 0 ||
        listen_on(N.echo_channel, on_echo_notify, NULL, NULL) != 0)
        return UV_EINVAL; /* logged */
    r = uv_timer_init(s->loop, &N.beat);
    if (r < 0)
        return r;
    N.started = true;
    return uv_timer_start(&N.beat, on_tick, NODE_BEAT_MS, NODE_BEAT_MS);
}

static void on_left(void *arg, const PGresult *res, const pool_error *e)
{
    (void)arg;
    (void)res;
    log_event(e != NULL ? LOG_WARN : LOG_INFO, "node_left", "id=%" PRId64 " msg=%s", N.id,
              log_q(e != NULL ? e->message : NULL));
}

void nodes_stop(server *s)
{
    (void)s;
    if (!N.started || N.stopping)
        return;
    N.stopping = true;
    uv_timer_stop(&N.beat);
    uv_close((uv_handle_t *)&N.beat, NULL);
    if (N.id != 0) {
        char id[24];
        snprintf(id, sizeof id, "%" PRId64, N.id);
        const char *v[] = {id};
        /* Best effort: a row left behind is stale after NODE_STALE_MS. */
        if (pool_query(N.s->pool, &st_leave, v, NULL, on_left, NULL) != 0)
            log_event(LOG_INFO, "node_left", "id=%" PRId64 " msg=\"not sent\"", N.id);
    }
}

/* ---- barriers ---- */

typedef struct barrier {
    uv_timer_t timer;
    server *s;
    int64_t user;
    uint64_t started_ms;
    nodes_barrier_cb cb;
    void *arg;
    unsigned polls;
} barrier;

static void barrier_closed(uv_handle_t *h) { free(h->data); }

static void barrier_done(barrier *b, bool applied)
{
    b->cb(b->arg, applied);
    uv_close((uv_handle_t *)&b->timer, barrier_closed);
}

static void barrier_poll(uv_timer_t *t);

static void on_barrier(void *arg, const PGresult *res, const pool_error *e)
{
    barrier *b = arg;
    uint64_t waited = uv_now(b->s->loop) - b->started_ms;
    long long waiting = -1, seq = 0;
    if (e == NULL && PQntuples(res) == 1) {
        waiting = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    } else if (e == NULL) {
        waiting = 0; /* no such user (deleted meanwhile): nothing to wait for */
    }
    if (waiting == 0) {
        log_event(LOG_DEBUG, "session_barrier", "user_id=%" PRId64 " seq=%lld waited_ms=%" PRIu64
                  " polls=%u", b->user, seq, waited, b->polls);
        barrier_done(b, true);
        return;
    }
    if (waited >= SESSION_BARRIER_MAX_MS) {
        log_event(LOG_WARN, "session_barrier_timeout",
                  "user_id=%" PRId64 " seq=%lld waiting=%lld waited_ms=%" PRIu64 " msg=%s",
                  b->user, seq, waiting, waited, log_q(e != NULL ? e->message : NULL));
        barrier_done(b, false);
        return;
    }
    uv_timer_start(&b->timer, barrier_poll, SESSION_BARRIER_POLL_MS, 0);
}

static void barrier_poll(uv_timer_t *t)
{
    barrier *b = t->data;
    if (b->s->pool == NULL || b->s->shutting_down) {
        /* The pool closes (and frees itself) at shutdown: nothing more is
         * asked of it; the answer goes without the barrier. */
        log_event(LOG_WARN, "session_barrier_skipped", "user_id=%" PRId64 " why=shutdown",
                  b->user);
        barrier_done(b, false);
        return;
    }
    char user[24], stale[16];
    snprintf(user, sizeof user, "%" PRId64, b->user);
    snprintf(stale, sizeof stale, "%u", NODE_STALE_MS);
    const char *v[] = {user, stale};
    b->polls++;
    if (pool_query(b->s->pool, &st_barrier, v, NULL, on_barrier, b) != 0) {
        pool_error pe = {.err = BB_E_UNAVAILABLE, .message = "the query could not be sent"};
        on_barrier(b, NULL, &pe);
    }
}

int nodes_barrier(server *s, int64_t user_id, nodes_barrier_cb cb, void *arg)
{
    barrier *b = calloc(1, sizeof *b);
    if (b == NULL)
        return -1;
    b->s = s;
    b->user = user_id;
    b->started_ms = uv_now(s->loop);
    b->cb = cb;
    b->arg = arg;
    uv_timer_init(s->loop, &b->timer); /* cannot fail */
    b->timer.data = b;
    barrier_poll(&b->timer);
    return 0;
}
