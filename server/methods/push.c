/*
 * push.c: notices and light changes pushed to subscribed clients
 * (PROTOCOL.md section 1, "Push (notifications from the server)") and the
 * watch.* methods that subscribe.
 *
 * How a push travels: the sweep (bb_supervise, sql/023) commits notices or
 * light changes and, in its own transaction after the rows, sends
 * 'notice:<first>-<last>' or 'light:<first>-<last>' on the channel bb_push.
 * Every baobaod on the database hears it on its LISTEN connection
 * (engine/listen.c), so a subscriber on any process gets what a sweep on
 * any other issued. Here statements through the pool read the records of
 * the range (as notice.get and light.history answer them) with the ids of
 * the users each concerns (bb_notice_audience, bb_light_audience in
 * sql/024): per stream one at a time, in the order announced, at most
 * PUSH_CHUNK_IDS ids each (below, "the reads of a stream"). Each record
 * is packed once and handed to the engine
 * (client_push), which queues it to the subscribed connections of those
 * users and to `all` subscribers, bounded by write_high_water.
 *
 * Lost pushes are said, never silent: when the range cannot be read (the
 * pool is down) or the LISTEN connection was down (its on_ready after a
 * reconnect), every subscriber gets watch.missed with the last ids it was
 * pushed, and catches up with notice.list / light.changes `after`.
 *
 * Not for: making notices (the sweep), their delivery beyond the clients
 * (delivery.c), the connections and their bounds (engine/client.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_rpc.h"
#include "client.h"
#include "light.h"
#include "listen.h"
#include "log.h"
#include "methods.h"
#include "notice.h"
#include "pool.h"
#include "server.h"

#define PUSH_CHANNEL "bb_push"
/* The streams of session_watch.last (the engine only counts them). */
enum { PUSH_NOTICE = 0, PUSH_LIGHT = 1 };
/* Ids in one notification at most: a sweep issues at most one notice per
 * item and level, so a range wider than this is not one of ours. It
 * bounds the statement, not the records (those are rows of one range). */
#define PUSH_MAX_RANGE 1000000LL
/* Ids read by one statement at most: the first sweep of a big database
 * announces all its rows as one range ('notice:1-181127'), which read at
 * once was one result of 55 MB. */
#define PUSH_CHUNK_IDS 500
/* Announced ranges that wait per stream while one is read; past this a
 * range is merged into the newest waiting one (a sweep announces one
 * range per stream, so only a burst of sweeps from many servers waits). */
#define PUSH_WAIT_MAX 64
/* notice_cols plus the audience column (notice_ncols is not a constant
 * expression; the record is well below this). */
#define PUSH_MAX_COLS 64

static const char *const range_extras[] = {"_first", "_last", NULL};

/* The notices of a range, in id order, each with the users it concerns
 * (ids joined by ','; '' when none). NOTICE_SELECT's columns first. */
static mstmt st_notices = {
    .name = "push_notices", .extras = range_extras, .sql =
    "WITH a AS (SELECT notice_id, string_agg(user_id::text, ',' ORDER BY user_id) AS users"
    "             FROM bb_notice_audience(p_first => :_first::bigint, p_last => :_last::bigint)"
    "            GROUP BY notice_id)"
    " SELECT " NOTICE_SELECT ", coalesce(a.users, '') AS audience"
    "   FROM notice_wire w LEFT JOIN a ON a.notice_id = w.id"
    "  WHERE w.id BETWEEN :_first::bigint AND :_last::bigint"
    "  ORDER BY w.id"};

/* A light change as light.history and light.changes answer it (the
 * columns of light_change_wire, sql/023), then its audience. */
static const rp_col light_cols[] = {LIGHT_COLS, {"audience", RP_TEXT}};
#define LIGHT_NCOLS ((int)(sizeof light_cols / sizeof light_cols[0]))
#define LIGHT_NWIRE (LIGHT_NCOLS - 1)

static mstmt st_lights = {
    .name = "push_lights", .extras = range_extras, .sql =
    "WITH a AS (SELECT change_id, string_agg(user_id::text, ',' ORDER BY user_id) AS users"
    "             FROM bb_light_audience(p_first => :_first::bigint, p_last => :_last::bigint)"
    "            GROUP BY change_id)"
    " SELECT " LIGHT_SELECT ", coalesce(a.users, '') AS audience"
    "   FROM light_change_wire w LEFT JOIN a ON a.change_id = w.id"
    "  WHERE w.id BETWEEN :_first::bigint AND :_last::bigint"
    "  ORDER BY w.id"};

/* What a new subscriber catches up after: the newest ids now. */
static const rp_col last_cols[] = {{"notice_last", RP_INT}, {"light_last", RP_INT}};
static mstmt st_last = {
    .name = "push_last", .cols = last_cols, .ncols = 2, .sql =
    "SELECT (SELECT coalesce(max(id), 0) FROM notice) AS notice_last,"
    "       (SELECT coalesce(max(id), 0) FROM light_change) AS light_last"};

static struct {
    server *s;
    bool stopped;
    rp_col notice_cols[PUSH_MAX_COLS];   /* notice_cols + audience */
    int notice_ncols;
} P;

/* ---- who gets a record ---- */

typedef struct audience {
    const char *users;     /* "3,17,42" (ascending), borrowed from the result */
} audience;

static bool wants(void *arg, const session *s)
{
    if (s->watch.all)
        return true;
    const char *p = ((const audience *)arg)->users;
    while (*p != '\0') {
        char *end;
        long long id = strtoll(p, &end, 10);
        if (end == p)
            return false;
        if (id == s->user_id)
            return true;
        if (id > s->user_id)
            return false; /* ascending */
        p = *end == ',' ? end + 1 : end;
    }
    return false;
}

static void pack_missed(msgpack_packer *pk, const session *s)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint8(pk, BB_RPC_NOTIFICATION);
    bb_pack_cstr(pk, "watch.missed");
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, 2);
    bb_pack_cstr(pk, "notice_after");
    msgpack_pack_int64(pk, s->watch.last[PUSH_NOTICE]);
    bb_pack_cstr(pk, "light_after");
    msgpack_pack_int64(pk, s->watch.last[PUSH_LIGHT]);
}

/* ---- the reads of a stream, one at a time ----
 *
 * Each stream (notices, light changes) reads one chunk at a time, the
 * announced ranges in the order they came. Why not one query per
 * announcement: the pool spreads queries over its connections, so a later
 * range could be pushed before an earlier one, and watch.missed names the
 * highest id pushed, so a lower id dropped afterwards (a slow reader, a
 * failed read) would be hidden from a client catching up after it. Read
 * in order, the ids pushed to a connection only grow (the sweep commits
 * under one advisory lock, so commit order is id order). */

typedef struct id_range {
    int64_t first, last;
} id_range;

typedef struct push_stream {
    int kind;                       /* PUSH_NOTICE, PUSH_LIGHT */
    bool busy;                      /* a chunk is being read */
    id_range cur;                   /* being read: cur.first is the next
                                       chunk's first id; done when past last */
    int64_t chunk_last;             /* the last id of the chunk being read */
    id_range wait[PUSH_WAIT_MAX];   /* announced, not yet read: a ring,
                                       oldest at head */
    unsigned head, nwait;
} push_stream;

static push_stream streams[2] = {{.kind = PUSH_NOTICE, .cur = {1, 0}},
                                 {.kind = PUSH_LIGHT, .cur = {1, 0}}};

static const char *stream_name(const push_stream *ps)
{
    return ps->kind == PUSH_NOTICE ? "notice" : "light";
}

/* Pushes every record of res (one chunk, in id order), each packed once. */
static void push_rows(const push_stream *ps, const PGresult *res)
{
    int kind = ps->kind;
    int ncols = kind == PUSH_NOTICE ? P.notice_ncols : LIGHT_NCOLS;
    const char *method = kind == PUSH_NOTICE ? "notice.issued" : "light.changed";
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    unsigned records = 0, sent = 0;
    for (int row = 0; row < PQntuples(res); row++) {
        sb.size = 0;
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint8(&pk, BB_RPC_NOTIFICATION);
        bb_pack_cstr(&pk, method);
        msgpack_pack_array(&pk, 1);
        if (kind == PUSH_NOTICE) {
            if (notice_pack(&pk, res, row) != 0) {
                log_event(LOG_ERROR, "push_failed", "what=notice id=%s why=bad_recipients",
                          PQgetvalue(res, row, 0));
                continue;
            }
        } else {
            rowpack_row(&pk, res, row, light_cols, LIGHT_NWIRE);
        }
        audience au = {PQgetvalue(res, row, ncols - 1)};
        int64_t id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
        sent += client_push(P.s, sb.data, sb.size, (unsigned)kind, id, wants, &au);
        records++;
    }
    msgpack_sbuffer_destroy(&sb);
    log_event(LOG_DEBUG, "push", "what=%s first=%lld last=%lld records=%u deliveries=%u",
              stream_name(ps), (long long)ps->cur.first, (long long)ps->chunk_last, records,
              sent);
}

static void chunk_done(void *arg, const PGresult *res, const pool_error *e);

/* Starts the next chunk of ps (of cur, else of the oldest waiting range);
 * idle when nothing waits. */
static void stream_next(push_stream *ps)
{
    ps->busy = false;
    if (P.stopped)
        return;
    if (ps->cur.first > ps->cur.last) {
        if (ps->nwait == 0)
            return;
        ps->cur = ps->wait[ps->head];
        ps->head = (ps->head + 1) % PUSH_WAIT_MAX;
        ps->nwait--;
    }
    int64_t last = ps->cur.last - ps->cur.first >= PUSH_CHUNK_IDS
                       ? ps->cur.first + PUSH_CHUNK_IDS - 1 : ps->cur.last;
    char a[24], b[24];
    snprintf(a, sizeof a, "%lld", (long long)ps->cur.first);
    snprintf(b, sizeof b, "%lld", (long long)last);
    const char *vals[] = {a, b};
    mstmt *st = ps->kind == PUSH_NOTICE ? &st_notices : &st_lights;
    ps->chunk_last = last;
    ps->busy = true;
    if (pool_query(P.s->pool, &st->ps, vals, NULL, chunk_done, ps) < 0) {
        /* The pool refused (no connection up): whatever waits would be
         * refused alike; one watch.missed covers it all. */
        log_event(LOG_WARN, "push_failed", "what=%s first=%s last=%lld why=pool_unavailable",
                  stream_name(ps), a, (long long)ps->cur.last);
        ps->busy = false;
        ps->cur = (id_range){1, 0};
        ps->nwait = 0;
        client_push_missed_all(P.s);
    }
}

static void chunk_done(void *arg, const PGresult *res, const pool_error *e)
{
    push_stream *ps = arg;
    if (P.stopped) {
        ps->busy = false;
        return;
    }
    const char *why = e != NULL ? e->message : NULL;
    if (e == NULL) {
        const rp_col *cols = ps->kind == PUSH_NOTICE ? P.notice_cols : light_cols;
        int ncols = ps->kind == PUSH_NOTICE ? P.notice_ncols : LIGHT_NCOLS;
        if (rowpack_check(res, cols, ncols, &why) == 0)
            why = NULL;
        else if (why == NULL)
            why = "bad_result";
    }
    if (why != NULL) {
        /* The rest of this range is not read: the subscribers catch up
         * from the last ids they were pushed, which covers it. */
        log_event(e != NULL ? LOG_WARN : LOG_ERROR, "push_failed",
                  "what=%s first=%lld last=%lld why=%s", stream_name(ps),
                  (long long)ps->cur.first, (long long)ps->cur.last, log_q(why));
        ps->cur = (id_range){1, 0};
        client_push_missed_all(P.s);
    } else {
        push_rows(ps, res);
        ps->cur.first = ps->chunk_last + 1;
    }
    stream_next(ps);
}

/* Queues range r of ps behind what waits; when the queue is full, r is
 * merged into the newest waiting range (read as one span: ids between
 * may come twice, none is lost). */
static void stream_add(push_stream *ps, id_range r)
{
    if (ps->nwait == PUSH_WAIT_MAX) {
        id_range *t = &ps->wait[(ps->head + ps->nwait - 1) % PUSH_WAIT_MAX];
        if (r.first < t->first)
            t->first = r.first;
        if (r.last > t->last)
            t->last = r.last;
        log_event(LOG_DEBUG, "push_merged", "what=%s first=%lld last=%lld", stream_name(ps),
                  (long long)t->first, (long long)t->last);
    } else {
        ps->wait[(ps->head + ps->nwait) % PUSH_WAIT_MAX] = r;
        ps->nwait++;
    }
    if (!ps->busy)
        stream_next(ps);
}

/* Parses "<kind>:<first>-<last>" (decimal ids, first <= last). */
static bool parse_range(const char *payload, int *kind, id_range *r)
{
    const char *p;
    if (strncmp(payload, "notice:", 7) == 0) {
        *kind = PUSH_NOTICE;
        p = payload + 7;
    } else if (strncmp(payload, "light:", 6) == 0) {
        *kind = PUSH_LIGHT;
        p = payload + 6;
    } else {
        return false;
    }
    char *end;
    if (*p < '0' || *p > '9')
        return false;
    long long a = strtoll(p, &end, 10);
    if (*end != '-' || end[1] < '0' || end[1] > '9')
        return false;
    long long b = strtoll(end + 1, &end, 10);
    if (*end != '\0' || a < 1 || b < a || b - a >= PUSH_MAX_RANGE)
        return false;
    r->first = a;
    r->last = b;
    return true;
}

static void on_push(void *arg, const char *payload)
{
    (void)arg;
    if (P.stopped)
        return;
    int kind;
    id_range r;
    if (!parse_range(payload, &kind, &r)) {
        log_event(LOG_WARN, "push_bad_payload", "payload=%s", log_q(payload));
        return;
    }
    stream_add(&streams[kind], r);
}

/* LISTEN is (again) active: whatever was sent while it was down is lost
 * to us, so subscribers catch up. At start there are none. */
static void on_ready(void *arg)
{
    (void)arg;
    if (!P.stopped)
        client_push_missed_all(P.s);
}

/* ---- watch.subscribe, watch.unsubscribe ---- */

/* The answer of st_last: the subscription's last ids are filled, then it
 * is ready, so a watch.missed from now on names ids a client can catch
 * up after (never 0 for "nothing pushed yet"). The pool's callback
 * (mstmt_send): a failed subscribe ends the subscription it began. */
static void subscribed(void *arg, const PGresult *res, const pool_error *e)
{
    request *req = arg;
    session *ss = req_session_mut(req);
    const char *why = NULL;
    if (ss->watch.asking > 0)
        ss->watch.asking--;
    if (e != NULL || rowpack_check(res, last_cols, 2, &why) != 0) {
        if (ss->watch.pending && ss->watch.asking == 0)
            memset(&ss->watch, 0, sizeof ss->watch);
        if (e != NULL)
            rowpack_reply_pool_error(req, st_last.name, e);
        else
            rowpack_reply_bad_result(req, st_last.name, why);
        return;
    }
    int64_t nl = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    int64_t ll = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    /* Subscribed before the query ran (watch_subscribe), so a record newer
     * than these ids is pushed; an older one may come twice, never not. */
    if (ss->watch.on) {
        if (nl > ss->watch.last[PUSH_NOTICE])
            ss->watch.last[PUSH_NOTICE] = nl;
        if (ll > ss->watch.last[PUSH_LIGHT])
            ss->watch.last[PUSH_LIGHT] = ll;
        /* A watch.missed held back meanwhile goes once this answer is
         * written (the engine sends it when output drains). */
        ss->watch.pending = false;
    }
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    bb_pack_cstr(pk, "notice_last");
    msgpack_pack_int64(pk, nl);
    bb_pack_cstr(pk, "light_last");
    msgpack_pack_int64(pk, ll);
    req_result_end(req);
}

static void watch_subscribe(request *req, const margs *a)
{
    bool all = margs_int(a, "all", 0) != 0;
    session *ss = req_session_mut(req);
    if (all && ss->role != BB_ROLE_SUPERVISOR && ss->role != BB_ROLE_ADMIN) {
        req_reply_error(req, BB_E_FORBIDDEN, "all",
                        "only supervisors and admins may watch everything");
        return;
    }
    if (!ss->watch.on) {
        /* On before the query, so nothing committed after its snapshot
         * is lost; pending until its answer fills the last ids. */
        memset(&ss->watch, 0, sizeof ss->watch);
        ss->watch.on = true;
        ss->watch.pending = true;
    }
    ss->watch.all = all;
    log_conn(LOG_INFO, req_conn_id(req), "watch", "user_id=%lld all=%d",
             (long long)ss->user_id, all ? 1 : 0);
    /* At most max_in_flight; counted so that a failed one does not end
     * the subscription another one in flight will answer as made. */
    ss->watch.asking++;
    int rc = mstmt_send(req, &st_last, NULL, NULL, subscribed, req);
    if (rc < 0) {
        if (ss->watch.asking > 0)
            ss->watch.asking--;
        if (ss->watch.pending && ss->watch.asking == 0)
            memset(&ss->watch, 0, sizeof ss->watch);
        rowpack_reply_query_rc(req, st_last.name, rc);
    }
}

static void watch_unsubscribe(request *req, const margs *a)
{
    (void)a;
    session *ss = req_session_mut(req);
    memset(&ss->watch, 0, sizeof ss->watch);
    msgpack_pack_map(req_result_begin(req), 0);
    req_result_end(req);
}

/* ---- module ---- */

static int push_start(server *s)
{
    P.s = s;
    P.stopped = false;
    if (notice_ncols + 1 > PUSH_MAX_COLS)
        return UV_EINVAL;
    memcpy(P.notice_cols, notice_cols, (size_t)notice_ncols * sizeof notice_cols[0]);
    P.notice_cols[notice_ncols] = (rp_col){"audience", RP_TEXT};
    P.notice_ncols = notice_ncols + 1;
    for (int k = 0; k < 2; k++)
        streams[k] = (push_stream){.kind = k, .cur = {1, 0}};
    client_push_set_missed(pack_missed);
    if (listen_on(PUSH_CHANNEL, on_push, on_ready, NULL) != 0)
        return UV_EINVAL;
    return 0;
}

static void push_stop(server *s)
{
    (void)s;
    P.stopped = true;
}

static const method_impl push_methods[] = {
    {"watch.subscribe", .fn = watch_subscribe},
    {"watch.unsubscribe", .fn = watch_unsubscribe},
    {NULL},
};

static mstmt *const push_stmts[] = {&st_notices, &st_lights, &st_last, NULL};

const method_module push_module = {
    .name = "push",
    .methods = push_methods,
    .stmts = push_stmts,
    .start = push_start,
    .stop = push_stop,
};
