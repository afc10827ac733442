/*
 * listen.c: the process's one LISTEN connection (see listen.h for why it is
 * a connection of its own).
 *
 * For: connecting without blocking the loop (PQconnectStartParams +
 * PQconnectPoll on a uv_poll, as pgconn.c does), one LISTEN per channel,
 * reading notifications (PQconsumeInput + PQnotifies) and handing each to
 * the modules that asked for its channel, and reconnecting with backoff
 * when the connection fails or the server ends it. Not for: queries (the
 * pool runs them; a module's callback sends its own through the pool).
 *
 * Lifecycle (one transition function, set_state, refuses other moves):
 *
 *   IDLE -> CONNECTING -> SUBSCRIBING -> UP
 *              |              |          |
 *              +--------------+----------+--> BACKOFF -> CONNECTING ...
 *   any state but CLOSED -> CLOSING -> CLOSED
 *
 * SUBSCRIBING: the LISTEN commands are sent, their results not all seen.
 * Only after they are (UP) does each module's on_ready run: a notification
 * committed from then on reaches us, so a module that catches up from the
 * database in on_ready misses nothing.
 *
 * Ownership: one static object L (the loop thread's). It owns its PGconn,
 * its timer and its current uv_poll (heap-allocated: while connecting,
 * libpq may replace the socket, and the old poll must finish closing while
 * a new one watches the new socket). The channel table holds borrowed
 * callbacks and args, the modules'.
 */
#include "listen.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "log.h"
#include "pool.h"
#include "server.h"

/* libpq does not time out a non-blocking connect by itself. */
#define LISTEN_CONNECT_TIMEOUT_MS 10000u
/* Names this connection in pg_stat_activity (operators, and the tests that
 * end it with pg_terminate_backend). Set after the operator's conninfo so
 * it always holds: the pool's connections are "baobaod". */
#define LISTEN_APP_NAME "baobaod-listen"
/* Doubling stops here; reconnect_max_ms caps the delay anyway. */
#define LISTEN_MAX_BACKOFF_SHIFT 20u
/* TCP keepalives (libpq keywords, text): a dead peer is noticed after
 * idle + interval * count seconds, 60 s here (ignored on Unix sockets,
 * where the kernel tells at once). */
#define LISTEN_KEEPALIVE_IDLE_S "30"
#define LISTEN_KEEPALIVE_INTERVAL_S "10"
#define LISTEN_KEEPALIVE_COUNT "3"
/* PostgreSQL's NAMEDATALEN - 1. */
#define LISTEN_CHANNEL_MAX 63u

typedef enum listen_state {
    LS_IDLE = 0,
    LS_CONNECTING,
    LS_SUBSCRIBING,
    LS_UP,
    LS_BACKOFF,
    LS_CLOSING,
    LS_CLOSED,
    LS__COUNT
} listen_state;

static const char *const state_names[LS__COUNT] = {
    "idle", "connecting", "subscribing", "up", "backoff", "closing", "closed",
};

#define BIT(s) (1u << (s))
static const unsigned allowed[LS__COUNT] = {
    [LS_IDLE] = BIT(LS_CONNECTING) | BIT(LS_CLOSING) | BIT(LS_CLOSED),
    [LS_CONNECTING] = BIT(LS_SUBSCRIBING) | BIT(LS_BACKOFF) | BIT(LS_CLOSING),
    [LS_SUBSCRIBING] = BIT(LS_UP) | BIT(LS_BACKOFF) | BIT(LS_CLOSING),
    [LS_UP] = BIT(LS_BACKOFF) | BIT(LS_CLOSING),
    [LS_BACKOFF] = BIT(LS_CONNECTING) | BIT(LS_CLOSING),
    [LS_CLOSING] = BIT(LS_CLOSED),
    [LS_CLOSED] = 0,
};

typedef struct channel {
    char name[LISTEN_CHANNEL_MAX + 1];
    listen_notify_cb on_notify;
    listen_ready_cb on_ready;
    void *arg;
} channel;

typedef struct lpoll {
    uv_poll_t h;
} lpoll;

static struct {
    server *s;
    listen_state state;
    channel ch[LISTEN_MAX_CHANNELS];
    unsigned nch;
    PGconn *pg;            /* owned; NULL when not connected */
    lpoll *poll;           /* owned; NULL when not watching */
    int poll_events;
    uv_timer_t timer;      /* connect timeout / backoff */
    bool timer_init;
    unsigned handles;      /* libuv handles not yet closed */
    unsigned failures;     /* consecutive, for backoff; 0 once UP */
    unsigned results;      /* LISTEN results still awaited (SUBSCRIBING) */
    bool listen_failed;
    char listen_err[256];
    char last_notice[256]; /* the server's last message (notice processor):
                              its FATAL before it ends the session */
} L;

static void timer_cb(uv_timer_t *t);
static void poll_cb(uv_poll_t *h, int status, int events);

static bool set_state(listen_state to)
{
    listen_state from = L.state;
    if ((allowed[from] & BIT(to)) == 0) {
        log_event(LOG_ERROR, "listen_bad_transition", "from=%s to=%s", state_names[from],
                  state_names[to]);
        return false;
    }
    L.state = to;
    log_event(LOG_DEBUG, "listen_state", "from=%s to=%s", state_names[from], state_names[to]);
    return true;
}

static bool is_identifier(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > LISTEN_CHANNEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
            return false;
    return true;
}

int listen_on(const char *channel_name, listen_notify_cb on_notify, listen_ready_cb on_ready,
              void *arg)
{
    if (channel_name == NULL || !is_identifier(channel_name) || on_notify == NULL) {
        log_event(LOG_ERROR, "listen_bad_channel", "channel=%s", log_q(channel_name));
        return -1;
    }
    if (L.nch >= LISTEN_MAX_CHANNELS) {
        log_event(LOG_ERROR, "listen_too_many_channels", "channel=%s max=%u", channel_name,
                  (unsigned)LISTEN_MAX_CHANNELS);
        return -1;
    }
    channel *c = &L.ch[L.nch++];
    snprintf(c->name, sizeof c->name, "%s", channel_name);
    c->on_notify = on_notify;
    c->on_ready = on_ready;
    c->arg = arg;
    return 0;
}

static void handle_closed(void)
{
    if (--L.handles == 0 && L.state == LS_CLOSING)
        set_state(LS_CLOSED);
}

static void poll_close_cb(uv_handle_t *h)
{
    free(h->data);
    handle_closed();
}

static void timer_close_cb(uv_handle_t *h)
{
    (void)h;
    handle_closed();
}

static void poll_drop(void)
{
    if (L.poll == NULL)
        return;
    uv_close((uv_handle_t *)&L.poll->h, poll_close_cb);
    L.poll = NULL;
    L.poll_events = 0;
}

/* Watches PQsocket for events; renew starts a fresh uv_poll even for the
 * same fd number (libpq may have closed the socket and opened another that
 * got the number: an old epoll registration would miss it). 0 or -1. */
static int poll_watch(int events, bool renew)
{
    int fd = PQsocket(L.pg);
    if (fd < 0)
        return -1;
    if (L.poll != NULL && renew)
        poll_drop();
    if (L.poll == NULL) {
        lpoll *p = calloc(1, sizeof *p);
        if (p == NULL)
            return -1;
        if (uv_poll_init(L.s->loop, &p->h, fd) != 0) {
            free(p);
            return -1;
        }
        p->h.data = p;
        L.handles++;
        L.poll = p;
        L.poll_events = 0;
    }
    if (events != L.poll_events) {
        if (uv_poll_start(&L.poll->h, events, poll_cb) != 0)
            return -1;
        L.poll_events = events;
    }
    return 0;
}

static unsigned next_backoff_ms(void)
{
    unsigned lo = L.s->cfg.reconnect_min_ms > 0 ? L.s->cfg.reconnect_min_ms : 1;
    unsigned shift = L.failures < LISTEN_MAX_BACKOFF_SHIFT ? L.failures : LISTEN_MAX_BACKOFF_SHIFT;
    uint64_t d = (uint64_t)lo << shift;
    /* Capped like the pool's probe (pool.h, POOL_PROBE_MAX_MS): pushes and
     * what depends on hearing the database are back within about that long
     * of PostgreSQL accepting connections; one connection per process
     * knocks that often during an outage. */
    uint64_t cap = L.s->cfg.reconnect_max_ms < POOL_PROBE_MAX_MS ? L.s->cfg.reconnect_max_ms
                                                                  : POOL_PROBE_MAX_MS;
    if (cap < lo)
        cap = lo;
    if (d > cap)
        d = cap;
    L.failures++;
    /* Jitter in [3/4 d, d]: several baobaod do not knock at one instant
     * (rand() is seeded once, in main.c). */
    uint64_t quarter = d / 4;
    return (unsigned)(d - quarter + (quarter > 0 ? (uint64_t)rand() % (quarter + 1) : 0));
}

/* libpq's messages from the server (without it libpq prints them to
 * stderr): logged, and the last one kept, since when the server ends the
 * session (pg_terminate_backend, shutdown) its FATAL comes this way and
 * PQerrorMessage then only says the connection was closed. */
static void notice_cb(void *arg, const char *message)
{
    (void)arg;
    log_event(LOG_INFO, "listen_notice", "msg=%s", log_q(message));
    /* Only an error can be the reason of a later end; an old harmless
     * NOTICE must not be logged as one. */
    if (strncmp(message, "FATAL", 5) == 0 || strncmp(message, "ERROR", 5) == 0)
        snprintf(L.last_notice, sizeof L.last_notice, "%s", message);
}

/* libpq's words for an end it was not told the reason of. */
static bool says_nothing(const char *why)
{
    return why == NULL || why[0] == '\0' ||
           strstr(why, "server closed the connection unexpectedly") != NULL ||
           strstr(why, "no connection to the server") != NULL ||
           strstr(why, "connection not open") != NULL;
}

/* Any failure: drop the PGconn, log why, BACKOFF. */
static void do_break(const char *why)
{
    char reason[512];
    if (says_nothing(why) && L.last_notice[0] != '\0')
        why = L.last_notice;
    snprintf(reason, sizeof reason, "%s", why != NULL && why[0] != '\0' ? why : "unknown");
    L.last_notice[0] = '\0';
    size_t n = strlen(reason);
    while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == ' '))
        reason[--n] = '\0';
    listen_state from = L.state;
    poll_drop();
    uv_timer_stop(&L.timer);
    if (L.pg != NULL) {
        PQfinish(L.pg);
        L.pg = NULL;
    }
    if (!set_state(LS_BACKOFF))
        return;
    unsigned delay = next_backoff_ms();
    /* Lost after it was up: a warning (pushes stop until it is back);
     * a failed attempt while down is logged too, the backoff bounds how
     * often. */
    log_event(LOG_WARN, from == LS_UP ? "listen_lost" : "listen_connect_failed",
              "was=%s retry_ms=%u reason=%s", state_names[from], delay, log_q(reason));
    uv_timer_start(&L.timer, timer_cb, delay, 0);
}

static void start_connect(void)
{
    if (!set_state(LS_CONNECTING))
        return;
    /* Keepalives and tcp_user_timeout first (the operator's conninfo may
     * say otherwise): this connection only ever reads, so a peer that
     * vanished without a FIN (a network cut) is noticed only by TCP
     * keepalives; libpq's default is the system's two hours. A silent
     * host's connect fails after POOL_TCP_USER_TIMEOUT_MS. Then the
     * operator's conninfo (expanded from dbname): session_db, else db
     * (LISTEN needs a session of its own, which a pooler in transaction
     * mode does not give), then our name after it so it always holds. */
    const char *keys[] = {"keepalives",       "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname",
                          "application_name", NULL};
    const char *vals[] = {"1", LISTEN_KEEPALIVE_IDLE_S, LISTEN_KEEPALIVE_INTERVAL_S,
                          LISTEN_KEEPALIVE_COUNT, POOL_TCP_USER_TIMEOUT_MS,
                          config_session_db(&L.s->cfg),
                          LISTEN_APP_NAME, NULL};
    L.pg = PQconnectStartParams(keys, vals, 1);
    if (L.pg == NULL) {
        do_break("out of memory");
        return;
    }
    PQsetNoticeProcessor(L.pg, notice_cb, NULL);
    if (PQstatus(L.pg) == CONNECTION_BAD) {
        do_break(PQerrorMessage(L.pg));
        return;
    }
    uv_timer_start(&L.timer, timer_cb, LISTEN_CONNECT_TIMEOUT_MS, 0);
    /* As if PQconnectPoll had said PGRES_POLLING_WRITING (libpq's docs). */
    if (poll_watch(UV_WRITABLE, true) < 0)
        do_break("cannot watch the socket");
}

/* Connected: one LISTEN per channel in one simple-query message. The names
 * are identifiers checked by listen_on (constants of the modules), so
 * pasting them is safe; quoted anyway. */
static void begin_listen(void)
{
    if (!set_state(LS_SUBSCRIBING))
        return;
    if (PQsetnonblocking(L.pg, 1) != 0) {
        do_break(PQerrorMessage(L.pg));
        return;
    }
    char sql[LISTEN_MAX_CHANNELS * (LISTEN_CHANNEL_MAX + 12) + 1];
    size_t off = 0;
    for (unsigned i = 0; i < L.nch; i++) {
        bool dup = false;
        for (unsigned j = 0; j < i; j++)
            dup = dup || strcmp(L.ch[i].name, L.ch[j].name) == 0;
        if (!dup)
            off += (size_t)snprintf(sql + off, sizeof sql - off, "LISTEN \"%s\";", L.ch[i].name);
    }
    L.listen_failed = false;
    if (PQsendQuery(L.pg, sql) != 1) {
        do_break(PQerrorMessage(L.pg));
        return;
    }
    int r = PQflush(L.pg);
    if (r < 0 || poll_watch(UV_READABLE | (r == 1 ? UV_WRITABLE : 0), true) < 0)
        do_break(PQerrorMessage(L.pg));
}

static void connect_step(void)
{
    switch (PQconnectPoll(L.pg)) {
    case PGRES_POLLING_FAILED:
        do_break(PQerrorMessage(L.pg));
        return;
    case PGRES_POLLING_OK:
        begin_listen();
        return;
    case PGRES_POLLING_READING:
        if (poll_watch(UV_READABLE, true) < 0)
            do_break("cannot watch the socket");
        return;
    case PGRES_POLLING_WRITING:
    default:
        if (poll_watch(UV_WRITABLE, true) < 0)
            do_break("cannot watch the socket");
        return;
    }
}

/* SUBSCRIBING: reads the LISTEN results; at their end, UP and every
 * on_ready. Returns false when it broke the connection. */
static bool subscribe_results(void)
{
    while (!PQisBusy(L.pg)) {
        PGresult *r = PQgetResult(L.pg);
        if (r == NULL) {
            if (L.listen_failed) {
                char why[sizeof L.listen_err + 16];
                snprintf(why, sizeof why, "LISTEN: %s", L.listen_err);
                do_break(why);
                return false;
            }
            uv_timer_stop(&L.timer);
            L.failures = 0;
            if (!set_state(LS_UP))
                return false;
            log_event(LOG_INFO, "listen_up", "channels=%u", L.nch);
            for (unsigned i = 0; i < L.nch && L.state == LS_UP; i++)
                if (L.ch[i].on_ready != NULL)
                    L.ch[i].on_ready(L.ch[i].arg);
            return L.state == LS_UP;
        }
        if (PQresultStatus(r) != PGRES_COMMAND_OK && !L.listen_failed) {
            L.listen_failed = true;
            snprintf(L.listen_err, sizeof L.listen_err, "%s", PQresultErrorMessage(r));
        }
        PQclear(r);
    }
    return true;
}

/* Hands every notification read so far to the channels that asked for it. */
static void deliver(void)
{
    PGnotify *n;
    while (L.state == LS_UP && (n = PQnotifies(L.pg)) != NULL) {
        const char *payload = n->extra != NULL ? n->extra : "";
        log_event(LOG_DEBUG, "listen_notify", "channel=%s payload=%s", n->relname,
                  log_q(payload));
        for (unsigned i = 0; i < L.nch; i++)
            if (strcmp(L.ch[i].name, n->relname) == 0)
                L.ch[i].on_notify(L.ch[i].arg, payload);
        PQfreemem(n);
    }
}

static void io_step(void)
{
    if (PQconsumeInput(L.pg) != 1) {
        do_break(PQerrorMessage(L.pg));
        return;
    }
    if (L.state == LS_SUBSCRIBING && !subscribe_results())
        return;
    if (L.state == LS_UP) {
        /* Nothing is asked in UP, so no result is expected; any is read
         * and dropped so libpq stays ready. (The server's FATAL before it
         * ends the session comes through notice_cb, not as a result.) */
        PGresult *r;
        while (!PQisBusy(L.pg) && (r = PQgetResult(L.pg)) != NULL)
            PQclear(r);
        deliver();
    }
    if (L.state != LS_SUBSCRIBING && L.state != LS_UP)
        return;
    if (PQstatus(L.pg) == CONNECTION_BAD) {
        do_break(PQerrorMessage(L.pg));
        return;
    }
    int f = PQflush(L.pg);
    if (f < 0 || poll_watch(UV_READABLE | (f == 1 ? UV_WRITABLE : 0), false) < 0)
        do_break(PQerrorMessage(L.pg));
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (L.poll == NULL || h != &L.poll->h)
        return; /* a poll being dropped */
    if (L.state == LS_CONNECTING)
        connect_step(); /* even on an error: see pgconn.c's poll_cb */
    else if (status < 0)
        do_break(uv_strerror(status));
    else if (L.state == LS_SUBSCRIBING || L.state == LS_UP)
        io_step();
}

static void timer_cb(uv_timer_t *t)
{
    (void)t;
    switch (L.state) {
    case LS_CONNECTING:
    case LS_SUBSCRIBING:
        do_break("connection attempt timed out");
        break;
    case LS_BACKOFF:
        start_connect();
        break;
    default:
        break;
    }
}

int listen_start(server *s)
{
    if (L.nch == 0 || L.state != LS_IDLE)
        return 0;
    L.s = s;
    int r = uv_timer_init(s->loop, &L.timer);
    if (r < 0)
        return r;
    L.timer_init = true;
    L.handles = 1;
    /* A failed first attempt is retried by itself: the pool does the same,
     * and baobaod serves (without pushes) while PostgreSQL is away. */
    start_connect();
    return 0;
}

void listen_stop(server *s)
{
    (void)s;
    if (!L.timer_init) {
        if (L.state == LS_IDLE)
            L.state = LS_CLOSED;
        return;
    }
    if (L.state == LS_CLOSING || L.state == LS_CLOSED)
        return;
    if (!set_state(LS_CLOSING))
        return;
    poll_drop();
    uv_timer_stop(&L.timer);
    if (L.pg != NULL) {
        PQfinish(L.pg);
        L.pg = NULL;
    }
    uv_close((uv_handle_t *)&L.timer, timer_close_cb);
    log_event(LOG_DEBUG, "listen_stopped", NULL);
}

bool listen_is_up(void) { return L.state == LS_UP; }
