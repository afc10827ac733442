/*
 * status.c: the status.* methods (proto/PROTOCOL.md section 6): submit a
 * status report (走访 / 调度记录), list an enterprise's reports, read one,
 * correct one and withdraw one.
 *
 * The arguments are declared in proto/spec/status.c and checked by the
 * dispatcher; this file has the rules the spec cannot say (from not after
 * to; the list cursor), the group commit
 * of status.submit and the list's page with its cursor. Whether a
 * production status is a known one is the database's to say (reference
 * data); so is "not after today", in the server's time_zone (passed to
 * SQL), in the same transaction as the insert.
 * Scope (PROTOCOL.md, "Accounts, roles and scope"): a submit carries its
 * caller (session_actor, copied when the submit is queued: the session may
 * change before the batch goes out) and the peer address into SQL, which
 * checks the actor, refuses an enterprise outside the actor's townships as
 * if it did not exist and writes the audit row with the report; status.list
 * passes the read scope (:_scope) to bb_status_list, which answers an
 * enterprise outside it as not_found.
 * Corrections and withdrawals (status.correct, status.withdraw) are
 * decided in the database (sql/020_corrections.sql: who may, until when,
 * the duplicate rule); the server passes the window (the setting
 * status_correct_days), its today and time_zone. A second report of the
 * same enterprise, date and reporter is refused there too, in the single
 * submit and per row of a batch, unless allow_duplicate.
 * Not for: enterprises (enterprise.c), the bulk import (import.c).
 *
 * Group commit of status.submit. Township staff submit all day; each
 * submit alone would cost one commit (one WAL flush). So checked submits
 * wait in a FIFO while status_batches_in_flight submit statements are in
 * the database, and the next statement carries up to status_batch_max of
 * them: bb_status_submit_batch (sql/031_status_batch_set.sql, set-based:
 * one statement decides and writes every row; its contract is in
 * sql/003_group_commit.sql), one statement, one transaction, one row
 * back per submit, in order. Under no load a submit goes out at once and
 * alone (bb_status_submit), so nobody waits for company. Guarantees:
 *   - nobody is acknowledged before the commit that holds their row (the
 *     pool hands a result on only after its transaction committed);
 *   - a row the database refuses in a foreseen way (report_date after
 *     today, unknown or out-of-scope enterprise, idempotency key reused, a
 *     user disabled since login) comes back as that row's error and does
 *     not affect its neighbours; a batch mixes users, so every row carries
 *     its own actor and address;
 *   - if the batch statement fails anyway (something unforeseen: nothing
 *     was stored), each of its submits is sent again alone and gets its own
 *     answer;
 *   - if the connection is lost with the batch in flight, every submit of
 *     it gets `unavailable` (it may or may not have committed, as for a
 *     single submit): a retry with the same idempotency key stores once;
 *   - duplicate idempotency keys within a batch behave as if the submits
 *     had come one after another (the batch function decides rows in
 *     order, with the same request hash as bb_status_submit; the actor is
 *     part of it, so only the same user gets a replay).
 *
 * The status.list cursor is "<report_date>.<id>" of the last row of the
 * previous page, e.g. "2026-11-20.123"; clients treat it as opaque, the
 * server parses it strictly (a real date, then a positive id in canonical
 * decimal) and refuses anything else with invalid_argument (field after).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

/* The batch limits are settings (config.h): status_batch_max, the most
 * submits one batch statement carries (its arrays grow with it: at most
 * ~10 KiB of text per submit), and status_batches_in_flight, the submit
 * statements (batches or singles) in the database at once. While that many
 * are out, new submits gather for the next batch; more would only mean
 * smaller batches and more commits. */

/* The StatusReport as the wire shows it: the columns of status_report_wire. */
#define SR_COLS                                                                         \
    {"id", RP_INT}, {"enterprise_id", RP_INT}, {"report_date", RP_TEXT},                \
    {"reporter", RP_TEXT}, {"production_status", RP_TEXT}, {"output_value", RP_INT},    \
    {"employees", RP_INT}, {"labour_shortage", RP_INT}, {"note", RP_TEXT},              \
    {"created_at", RP_TEXT}, {"version", RP_INT}, {"created_by", RP_INT},               \
    {"withdrawn_at", RP_TEXT}, {"withdrawn_by", RP_INT}, {"reason", RP_TEXT}
static const rp_col sr_cols[] = {SR_COLS};
#define SR_NCOLS ((int)(sizeof sr_cols / sizeof sr_cols[0]))
/* A batch's rows: a StatusReport, then the row's error (all NULL on
 * success). Only the first SR_NCOLS are packed. */
static const rp_col batch_cols[] = {
    SR_COLS, {"error_code", RP_TEXT}, {"error_field", RP_TEXT}, {"error_message", RP_TEXT},
};
#define BATCH_NCOLS ((int)(sizeof batch_cols / sizeof batch_cols[0]))
#define BATCH_COL_CODE SR_NCOLS

/* ---- statements ----
 * A queued submit outlives its request: its arguments are copied
 * (margs_dup), and so are its caller and peer, at queue time (the session
 * may change before the statement goes out); both statements take those
 * two and the time zone as extras. The batch passes each argument as an
 * array, one element per submit, as the extra named after it ("_note" for
 * note): the list below is the batch's columns, in order. */
enum { SX_ACTOR, SX_PEER, SX_ARGS, SX_TZ = SX_ARGS + 10, SX__COUNT };
static const char *const submit_extras[] = {
    "_actor_id", "_peer", "_idempotency_key", "_enterprise_id", "_report_date", "_reporter",
    "_production_status", "_output_value", "_employees", "_labour_shortage", "_note",
    "_allow_duplicate", "_tz", NULL,
};

static mstmt st_submit = {
    .name = "st_submit", .sql =
    "SELECT * FROM bb_status_submit(p_actor => :_actor_id::bigint, p_addr => :_peer,"
    " p_key => :idempotency_key, p_enterprise_id => :enterprise_id::bigint,"
    " p_report_date => :report_date::date, p_reporter => :reporter,"
    " p_production_status => :production_status, p_output_value => :output_value::bigint,"
    " p_employees => :employees::int, p_labour_shortage => :labour_shortage::int,"
    " p_note => :note, p_allow_duplicate => :allow_duplicate::boolean, p_tz => :_tz)",
    .cols = sr_cols, .ncols = SR_NCOLS, .extras = submit_extras};

/* Sent with mstmt_send (batch_cb must see the error to decide what the
 * batch's submits hear). A batch holds its connection for many rows and a
 * WAL flush: heavy, so reads and other batches go to other connections
 * (pool.h). */
static mstmt st_submit_batch = {
    .name = "st_submit_batch", .sql =
    "SELECT * FROM bb_status_submit_batch(p_actors => :_actor_id::bigint[],"
    " p_addrs => :_peer::text[], p_keys => :_idempotency_key::text[],"
    " p_enterprise_ids => :_enterprise_id::bigint[], p_report_dates => :_report_date::date[],"
    " p_reporters => :_reporter::text[], p_production_statuses => :_production_status::text[],"
    " p_output_values => :_output_value::bigint[], p_employees => :_employees::int[],"
    " p_labour_shortages => :_labour_shortage::int[], p_notes => :_note::text[],"
    " p_allow_duplicates => :_allow_duplicate::boolean[], p_tz => :_tz)",
    .cols = batch_cols, .ncols = BATCH_NCOLS, .extras = submit_extras, .heavy = true};

/* bb_status_list raises BB404 for an unknown enterprise, and for one
 * outside the read scope; the cursor comes parsed (status_list). */
static const char *const list_extras[] = {"_after_date", "_after_id", NULL};
static mstmt st_list = {
    .name = "st_list", .sql =
    "SELECT * FROM bb_status_list(p_scope => :_scope::bigint,"
    " p_enterprise_id => :enterprise_id::bigint, p_from => :from::date, p_to => :to::date,"
    " p_after_date => :_after_date::date, p_after_id => :_after_id::bigint,"
    " p_limit => :limit::int + 1)",
    .cols = sr_cols, .ncols = SR_NCOLS, .extras = list_extras};

/* status.get: one report, also a withdrawn one (it says so), within the
 * read scope. */
static mstmt st_get = {
    .name = "st_get", .sql =
    "SELECT w.* FROM status_report_wire w JOIN enterprise e ON e.id = w.enterprise_id"
    " WHERE w.id = :id::bigint AND " SCOPE_HAS("e.township_id"),
    .cols = sr_cols, .ncols = SR_NCOLS};

/* The changes take the window of township staff (status_correct_days),
 * the server's today (:_today) and its time_zone. Absent = unchanged; a
 * nil-able field changes when given (:x_set), nil clearing it. */
static const char *const change_extras[] = {"_days", "_tz", NULL};
static mstmt st_correct = {
    .name = "st_correct", .sql =
    "SELECT * FROM bb_status_correct(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_reason => :reason, p_report_date => :report_date::date,"
    " p_reporter => :reporter, p_production_status => :production_status,"
    " p_set_output => :output_value_set, p_output_value => :output_value::bigint,"
    " p_set_employees => :employees_set, p_employees => :employees::int,"
    " p_set_shortage => :labour_shortage_set, p_labour_shortage => :labour_shortage::int,"
    " p_set_note => :note_set, p_note => :note, p_days => :_days::int,"
    " p_today => :_today::date, p_tz => :_tz)",
    .cols = sr_cols, .ncols = SR_NCOLS, .extras = change_extras};
static mstmt st_withdraw = {
    .name = "st_withdraw", .sql =
    "SELECT * FROM bb_status_withdraw(" WRITE_PREFIX ", p_id => :id::bigint,"
    " p_version => :version::int, p_reason => :reason, p_days => :_days::int,"
    " p_today => :_today::date, p_tz => :_tz)",
    .cols = sr_cols, .ncols = SR_NCOLS, .extras = change_extras};

/* ---- group commit ---- */

/* One checked submit waiting for (or riding in) a statement. Owns copies of
 * its arguments and context; req is answered exactly once, then the item
 * is freed. */
typedef struct sitem {
    struct sitem *next;
    request *req;
    struct server *srv;
    bool counted;               /* sent as one of the group's statements */
    margs *a;                   /* margs_dup of the submit's arguments */
    const char *x[SX__COUNT];   /* the extras: caller and peer (in text),
                                   time zone; NULL = SQL NULL */
    char text[];
} sitem;

/* The FIFO of submits waiting for a statement, and the statements out.
 * Loop thread only. */
static struct {
    sitem *head, *tail;
    unsigned waiting;
    unsigned in_flight;
    unsigned rows_in_flight;      /* submits carried by the statements out */
} gc;

/* One batch statement's submits, in row order. */
typedef struct sbatch {
    struct server *srv;
    unsigned n;
    sitem *items[];
} sbatch;

/* The gate let only a logged-in caller through, so actor is set; a NULL
 * would still be refused by the database (bb_actor). */
static sitem *sitem_make(request *req, const margs *a)
{
    const char *actor = session_actor(req_session(req)), *peer = req_peer(req);
    size_t na = actor != NULL ? strlen(actor) + 1 : 0, np = peer != NULL ? strlen(peer) + 1 : 0;
    sitem *it = calloc(1, sizeof *it + na + np);
    margs *copy = it != NULL ? margs_dup(a) : NULL;
    if (copy == NULL) {
        free(it);
        return NULL;
    }
    it->req = req;
    it->srv = req_server(req);
    it->a = copy;
    it->x[SX_ACTOR] = actor != NULL ? memcpy(it->text, actor, na) : NULL;
    it->x[SX_PEER] = peer != NULL ? memcpy(it->text + na, peer, np) : NULL;
    it->x[SX_TZ] = it->srv->cfg.time_zone;
    return it;
}

static void sitem_free(sitem *it)
{
    margs_free(it->a);
    free(it->a);
    free(it);
}

static void gc_pump(struct server *srv);

/* A submit sent alone is over (answered): free it, and when it was one of
 * the group's statements, let the next ones go. */
static void single_end(void *ctx)
{
    sitem *it = ctx;
    struct server *srv = it->srv;
    bool counted = it->counted;
    sitem_free(it);
    if (counted) {
        gc.in_flight--;
        gc.rows_in_flight--;
        gc_pump(srv);
    }
}

static void single_done(request *req, const PGresult *res, void *ctx)
{
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, st_submit.name, "expected one row");
    } else {
        msgpack_packer *pk = req_result_begin(req);
        rowpack_row(pk, res, 0, sr_cols, SR_NCOLS);
        req_result_end(req);
    }
    single_end(ctx);
}

/* Sends it alone; as one of the group's statements when counted (a retry
 * after a failed batch is not). Errors are answered by mstmt_query. */
static void send_single(sitem *it, bool counted)
{
    it->counted = counted;
    if (counted) {
        gc.in_flight++;
        gc.rows_in_flight++;
    }
    mstmt_query(it->req, &st_submit, it->a, it->x, single_done, it, single_end);
}

static void batch_free(sbatch *b, bool items_too)
{
    if (items_too)
        for (unsigned i = 0; i < b->n; i++)
            sitem_free(b->items[i]);
    free(b);
}

/* Answers each submit of a committed batch from its row. */
static void batch_reply_rows(sbatch *b, const PGresult *res)
{
    const char *why = NULL;
    if (rowpack_check(res, batch_cols, BATCH_NCOLS, &why) != 0 ||
        (PQntuples(res) != (int)b->n && (why = "one row per submit expected") != NULL)) {
        /* A bug, and the rows are committed: sending them again could
         * store them twice, so everyone hears `internal`. */
        for (unsigned i = 0; i < b->n; i++)
            rowpack_reply_bad_result(b->items[i]->req, st_submit_batch.name, why);
        return;
    }
    for (unsigned i = 0; i < b->n; i++) {
        request *req = b->items[i]->req;
        int row = (int)i;
        if (PQgetisnull(res, row, BATCH_COL_CODE)) {
            msgpack_packer *pk = req_result_begin(req);
            rowpack_row(pk, res, row, batch_cols, SR_NCOLS);
            req_result_end(req);
            continue;
        }
        const char *code = PQgetvalue(res, row, BATCH_COL_CODE);
        const char *field = PQgetisnull(res, row, BATCH_COL_CODE + 1)
                                ? NULL
                                : PQgetvalue(res, row, BATCH_COL_CODE + 1);
        pool_error e = {.err = pool_map_sqlstate(code), .sqlstate = code,
                        .message = PQgetvalue(res, row, BATCH_COL_CODE + 2), .field = field};
        rowpack_reply_pool_error(req, st_submit_batch.name, &e);
    }
}

/* True when the batch's outcome is unknown or it was refused as a whole:
 * the connection went (no SQLSTATE, 08xxx, 57P0x: it may have committed),
 * or the server is shutting down. Any other failure rolled it back. */
static bool batch_lost(const pool_error *e)
{
    if (e->err == BB_E_SHUTTING_DOWN)
        return true;
    return e->err == BB_E_UNAVAILABLE &&
           (e->sqlstate == NULL || strncmp(e->sqlstate, "08", 2) == 0 ||
            strncmp(e->sqlstate, "57P", 3) == 0);
}

static void batch_cb(void *arg, const PGresult *res, const pool_error *e)
{
    sbatch *b = arg;
    struct server *srv = b->srv;
    gc.rows_in_flight -= b->n;
    if (e == NULL) {
        batch_reply_rows(b, res);
        batch_free(b, true);
    } else if (batch_lost(e)) {
        /* Lost with its connection, or refused as a whole: the same answer
         * a single submit gets (it may have committed: a retry with the
         * same idempotency key is safe). */
        for (unsigned i = 0; i < b->n; i++)
            rowpack_reply_pool_error(b->items[i]->req, st_submit_batch.name, e);
        batch_free(b, true);
    } else {
        /* The statement failed (something unforeseen, or a deadlock or
         * the 40001 of a key recorded concurrently), so nothing of it was
         * stored: each submit goes again alone and gets its own answer. */
        log_event(LOG_WARN, "submit_batch_failed", "rows=%u sqlstate=%s msg=%s resending=alone",
                  b->n, e->sqlstate != NULL ? e->sqlstate : "-",
                  log_q(e->message != NULL ? e->message : ""));
        for (unsigned i = 0; i < b->n; i++)
            send_single(b->items[i], false);
        batch_free(b, false);
    }
    gc.in_flight--;
    gc_pump(srv);
}

/* Sends the first n waiting submits as one batch statement. Returns 0, or
 * -1 when it could not (everyone of them answered). */
static int send_batch(struct server *srv, unsigned n)
{
    sbatch *b = malloc(sizeof *b + n * sizeof b->items[0]);
    mlit arr[SX_TZ];
    memset(arr, 0, sizeof arr);
    for (unsigned i = 0; i < n; i++) {
        sitem *it = gc.head;
        gc.head = it->next;
        it->next = NULL;
        gc.waiting--;
        if (b == NULL) {
            req_reply_error(it->req, BB_E_INTERNAL, NULL, "out of memory");
            sitem_free(it);
            continue;
        }
        b->items[i] = it;
        for (int k = 0; k < SX_TZ; k++) {
            const bb_val *v = k < SX_ARGS ? NULL : margs_get(it->a, submit_extras[k] + 1);
            if (v == NULL)
                mlit_elem(&arr[k], it->x[k], it->x[k] != NULL ? strlen(it->x[k]) : 0);
            else
                mlit_elem(&arr[k], v->state == BB_V_SET ? v->s : NULL, v->len);
        }
    }
    if (gc.head == NULL)
        gc.tail = NULL;
    if (b == NULL)
        return -1;
    b->srv = srv;
    b->n = n;
    const char *vals[SX__COUNT];
    int rc = 0;
    for (int k = 0; k < SX_TZ; k++)
        if ((vals[k] = mlit_end(&arr[k])) == NULL)
            rc = -BB_E_INTERNAL;
    vals[SX_TZ] = srv->cfg.time_zone;
    if (rc == 0) {
        rc = mstmt_send(b->items[0]->req, &st_submit_batch, NULL, vals, batch_cb, b);
        log_event(LOG_DEBUG, "submit_batch", "rows=%u in_flight=%u waiting=%u", n, gc.in_flight,
                  gc.waiting);
    }
    for (int k = 0; k < SX_TZ; k++)
        free(arr[k].s);
    if (rc < 0) {
        for (unsigned i = 0; i < n; i++)
            rowpack_reply_query_rc(b->items[i]->req, st_submit_batch.name, rc);
        batch_free(b, true);
    }
    return rc < 0 ? -1 : 0;
}

/* Sends what waits while fewer than status_batches_in_flight statements
 * are out: one submit alone, several as a batch.
 *
 * While statements are out, a new one waits for company until it would
 * carry as many submits as they carry on average. Without that, the first
 * client to resubmit after a batch's commit went out alone and held a slot
 * for a whole commit while its peers queued behind it, so batches shrank
 * to 1, 7, 1, 7 ... (seen in the profile of the 16 x 1 run). Nobody waits
 * longer than before: a statement finishing pumps again, and with nothing
 * out everything waiting goes at once. */
static void gc_pump(struct server *srv)
{
    const unsigned max_rows = srv->cfg.status_batch_max;
    while (gc.waiting > 0 && gc.in_flight < srv->cfg.status_batches_in_flight) {
        unsigned n = gc.waiting < max_rows ? gc.waiting : max_rows;
        if (gc.in_flight > 0 && n < max_rows && n * gc.in_flight < gc.rows_in_flight)
            return;
        if (n == 1) {
            sitem *it = gc.head;
            gc.head = gc.tail = NULL;
            gc.waiting = 0;
            metrics_batch_size(1);
            send_single(it, true);
        } else if (send_batch(srv, n) == 0) {
            metrics_batch_size(n);
            gc.in_flight++;
            gc.rows_in_flight += n;
        }
    }
}

static void status_submit(request *req, const margs *a)
{
    sitem *it = sitem_make(req, a);
    if (it == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    if (gc.tail != NULL)
        gc.tail->next = it;
    else
        gc.head = it;
    gc.tail = it;
    gc.waiting++;
    gc_pump(req_server(req));
}

/* ---- status.list ---- */

/* Parses a cursor "YYYY-MM-DD.ID" (at most 30 characters: the spec) into
 * date (11 bytes) and id text (20 bytes). Returns 0 or -1. */
static int parse_cursor(const bb_val *c, char date[11], char id[20])
{
    if (c->len < 12 || c->s[10] != '.' || bb_date_check(c->s, 10) != BB_DATE_OK)
        return -1;
    const char *digits = c->s + 11;
    size_t nd = c->len - 11;
    if (nd > 19 || digits[0] == '0')
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < nd; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(digits[i] - '0');
    }
    if (v == 0 || v > (uint64_t)INT64_MAX)
        return -1;
    memcpy(date, c->s, 10);
    date[10] = '\0';
    memcpy(id, digits, nd);
    id[nd] = '\0';
    return 0;
}

/* The page is newest first, so its cursor is not an id but
 * "<report_date>.<id>" of the last row shown. */
static void list_next(msgpack_packer *pk, const PGresult *res, int row)
{
    char cur[64];
    snprintf(cur, sizeof cur, "%s.%s", PQgetvalue(res, row, 2), PQgetvalue(res, row, 0));
    rowpack_str(pk, cur);
}

static const mshape list_shape = {.next = list_next};

static void status_list(request *req, const margs *a)
{
    const bb_val *from = margs_get(a, "from"), *to = margs_get(a, "to");
    const bb_val *after = margs_get(a, "after");
    if (from->state == BB_V_SET && to->state == BB_V_SET && strcmp(from->s, to->s) > 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "from", "from: %s is after to (%s)", from->s,
                        to->s);
        return;
    }
    char adate[11], aid[20];
    bool cur = after->state == BB_V_SET;
    if (cur && parse_cursor(after, adate, aid) != 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this server returned as next");
        return;
    }
    const char *extra[2] = {cur ? adate : NULL, cur ? aid : NULL};
    mstmt_query_page(req, &st_list, a, extra, &list_shape);
}

/* ---- status.correct, status.withdraw ---- */

/* The arguments a correction may change: at least one must be given. */
static const char *const correctable[] = {"report_date", "production_status", "output_value",
                                          "employees", "labour_shortage", "note", "reporter"};

static void change_done(request *req, const PGresult *res, void *ctx)
{
    (void)ctx;
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, "status_change", "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, sr_cols, SR_NCOLS);
    req_result_end(req);
}

/* Runs a change with the window, today and time zone of this server. */
static void run_change(request *req, const margs *a, mstmt *st)
{
    const struct server *srv = req_server(req);
    char days[16];
    snprintf(days, sizeof days, "%u", srv->cfg.status_correct_days);
    const char *extra[2] = {days, srv->cfg.time_zone};
    mstmt_query(req, st, a, extra, change_done, NULL, NULL);
}

static void status_correct(request *req, const margs *a)
{
    bool any = false;
    for (size_t i = 0; i < sizeof correctable / sizeof correctable[0]; i++)
        any = any || margs_get(a, correctable[i])->state != BB_V_ABSENT;
    if (!any) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, NULL,
                        "nothing to correct: give at least one of report_date, "
                        "production_status, output_value, employees, labour_shortage, note, "
                        "reporter");
        return;
    }
    run_change(req, a, &st_correct);
}

static void status_withdraw(request *req, const margs *a)
{
    run_change(req, a, &st_withdraw);
}

/* ---- the module ---- */

static const method_impl status_methods[] = {
    {"status.submit", .fn = status_submit},
    {"status.list", .fn = status_list},
    {"status.get", .stmt = &st_get, .reply = MR_ROW, .what = "status report"},
    {"status.correct", .fn = status_correct},
    {"status.withdraw", .fn = status_withdraw},
    {NULL},
};

static mstmt *const status_stmts[] = {&st_submit, &st_submit_batch, &st_list, &st_correct,
                                      &st_withdraw, NULL};

const method_module status_module = {
    .name = "status",
    .methods = status_methods,
    .stmts = status_stmts,
};
