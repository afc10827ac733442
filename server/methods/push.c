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
 * any other issued. Here one statement through the pool reads the records
 * of the range (as notice.get and light.history answer them) with the ids
 * of the users each concerns (bb_notice_audience, bb_light_audience in
 * sql/024), and each record is packed once and handed to the engine
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

/* ---- a range read: pack each record once, push it ---- */

typedef struct range_read {
    int kind;                /* PUSH_NOTICE, PUSH_LIGHT */
    char first[24], last[24];
} range_read;

static void range_done(void *arg, const PGresult *res, const pool_error *e)
{
    range_read *rr = arg;
    int kind = rr->kind;
    const char *what = kind == PUSH_NOTICE ? "notice" : "light";
    if (P.stopped) {
        free(rr);
        return;
    }
    if (e != NULL) {
        log_event(LOG_WARN, "push_failed", "what=%s first=%s last=%s why=%s", what, rr->first,
                  rr->last, log_q(e->message));
        free(rr);
        client_push_missed_all(P.s);
        return;
    }
    const rp_col *cols = kind == PUSH_NOTICE ? P.notice_cols : light_cols;
    int ncols = kind == PUSH_NOTICE ? P.notice_ncols : LIGHT_NCOLS;
    const char *why = NULL;
    if (rowpack_check(res, cols, ncols, &why) != 0) {
        log_event(LOG_ERROR, "push_failed", "what=%s first=%s last=%s why=%s", what, rr->first,
                  rr->last, why);
        free(rr);
        client_push_missed_all(P.s);
        return;
    }
    free(rr);
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
    log_event(LOG_DEBUG, "push", "what=%s records=%u deliveries=%u", what, records, sent);
}

/* Parses "<kind>:<first>-<last>" (decimal ids, first <= last). */
static bool parse_range(const char *payload, range_read *rr)
{
    const char *p;
    if (strncmp(payload, "notice:", 7) == 0) {
        rr->kind = PUSH_NOTICE;
        p = payload + 7;
    } else if (strncmp(payload, "light:", 6) == 0) {
        rr->kind = PUSH_LIGHT;
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
    snprintf(rr->first, sizeof rr->first, "%lld", a);
    snprintf(rr->last, sizeof rr->last, "%lld", b);
    return true;
}

static void on_push(void *arg, const char *payload)
{
    (void)arg;
    if (P.stopped)
        return;
    range_read *rr = calloc(1, sizeof *rr);
    if (rr == NULL) {
        log_event(LOG_ERROR, "out_of_memory", "what=push");
        client_push_missed_all(P.s);
        return;
    }
    if (!parse_range(payload, rr)) {
        log_event(LOG_WARN, "push_bad_payload", "payload=%s", log_q(payload));
        free(rr);
        return;
    }
    const char *vals[] = {rr->first, rr->last};
    mstmt *st = rr->kind == PUSH_NOTICE ? &st_notices : &st_lights;
    if (pool_query(P.s->pool, &st->ps, vals, NULL, range_done, rr) < 0) {
        log_event(LOG_WARN, "push_failed", "what=%s first=%s last=%s why=pool_unavailable",
                  rr->kind == PUSH_NOTICE ? "notice" : "light", rr->first, rr->last);
        free(rr);
        client_push_missed_all(P.s);
    }
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

static void subscribed(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    int64_t nl = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    int64_t ll = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    session *ss = req_session_mut(req);
    /* Subscribed before the query ran (watch_subscribe), so a record newer
     * than these ids is pushed; an older one may come twice, never not. */
    if (ss->watch.on) {
        if (nl > ss->watch.last[PUSH_NOTICE])
            ss->watch.last[PUSH_NOTICE] = nl;
        if (ll > ss->watch.last[PUSH_LIGHT])
            ss->watch.last[PUSH_LIGHT] = ll;
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
        memset(&ss->watch, 0, sizeof ss->watch);
        ss->watch.on = true;
    }
    ss->watch.all = all;
    log_conn(LOG_INFO, req_conn_id(req), "watch", "user_id=%lld all=%d",
             (long long)ss->user_id, all ? 1 : 0);
    mstmt_query(req, &st_last, NULL, NULL, subscribed, NULL, NULL);
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
