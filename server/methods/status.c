/*
 * status.c: the status.* methods (proto/PROTOCOL.md section 5): submit a
 * status report (走访 / 调度记录) and list an enterprise's reports.
 *
 * For: checking every argument at the edge (params.h, production status,
 * the 2000-01-01 floor, from <= to, the list cursor) before any query, then
 * the query. "Not after today" is checked in the database, in the server's
 * time_zone (passed as a parameter), in the same transaction as the insert.
 * Scope (PROTOCOL.md, "Accounts, roles and scope"): a submit carries its
 * caller (session_actor, copied when the submit is queued: the session may
 * change before the batch goes out) and the peer address into SQL, which
 * checks the actor, refuses an enterprise outside the actor's townships as
 * if it did not exist and writes the audit row with the report; status.list
 * passes the read scope (session_read_scope) to bb_status_list, which
 * answers an enterprise outside it as not_found.
 * Not for: enterprises (enterprise.c).
 *
 * Group commit of status.submit. Township staff submit all day; each
 * submit alone would cost one commit (one WAL flush). So checked submits
 * wait in a FIFO while status_batches_in_flight submit statements are in
 * the database, and the next statement carries up to status_batch_max of
 * them: bb_status_submit_batch (sql/006_scope_audit.sql; its contract is
 * in sql/003_group_commit.sql), one statement, one transaction, one row
 * back per submit, in order. Under no load a
 * submit goes out at once and alone (bb_status_submit), so nobody waits
 * for company. Guarantees:
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

#include "bb_limits.h"
#include "log.h"
#include "methods.h"
#include "params.h"
#include "pool.h"
#include "rowpack.h"
#include "server.h"
#include "session.h"

#define STATUS_MIN_DATE "2000-01-01"
#define STATUS_MAX_OUTPUT_VALUE INT64_C(1000000000000000) /* 10^15 yuan */
#define STATUS_MAX_PEOPLE INT64_C(1000000)
/* "YYYY-MM-DD." + up to 19 digits. */
#define STATUS_CURSOR_MAX 30u
#define STATUS_NUM_TEXT 24
/* The batch limits are settings (config.h): status_batch_max, the most
 * submits one batch statement carries (its arrays grow with it: at most
 * ~10 KiB of text per submit), and status_batches_in_flight, the submit
 * statements (batches or singles) in the database at once. While that many
 * are out, new submits gather for the next batch; more would only mean
 * smaller batches and more commits. */
/* Parameters of bb_status_submit / bb_status_submit_batch. */
#define SUBMIT_NPARAMS 12
/* The stored argument values of one submit, in parameter order (the time
 * zone, the 12th, is the server's): the caller (actor, peer address), then
 * the method's arguments. */
enum { SV_ACTOR, SV_ADDR, SV_KEY, SV_EID, SV_DATE, SV_REPORTER, SV_PSTATUS, SV_OUTPUT,
       SV_EMPLOYEES, SV_SHORTAGE, SV_NOTE, SV__COUNT };
_Static_assert(SV__COUNT + 1 == SUBMIT_NPARAMS, "a submit's values and the time zone");

/* The StatusReport as the wire shows it: the columns of status_report_wire. */
static const rp_col sr_cols[] = {
    {"id", RP_INT},
    {"enterprise_id", RP_INT},
    {"report_date", RP_TEXT},
    {"reporter", RP_TEXT},
    {"production_status", RP_TEXT},
    {"output_value", RP_INT},
    {"employees", RP_INT},
    {"labour_shortage", RP_INT},
    {"note", RP_TEXT},
    {"created_at", RP_TEXT},
};
#define SR_NCOLS ((int)(sizeof sr_cols / sizeof sr_cols[0]))

static const pool_stmt st_submit = {
    "st_submit",
    "SELECT * FROM bb_status_submit($1::bigint, $2::text, $3::text, $4::bigint, $5::date,"
    " $6::text, $7::text, $8::bigint, $9::int, $10::int, $11::text, $12::text)",
    SUBMIT_NPARAMS};

/* The same arguments as arrays, one element per submit (actors and
 * addresses too: a batch mixes users). */
static const pool_stmt st_submit_batch = {
    "st_submit_batch",
    "SELECT * FROM bb_status_submit_batch($1::bigint[], $2::text[], $3::text[], $4::bigint[],"
    " $5::date[], $6::text[], $7::text[], $8::bigint[], $9::int[], $10::int[], $11::text[],"
    " $12::text)",
    SUBMIT_NPARAMS};

/* Its rows: a StatusReport's columns, then the row's error (all NULL on
 * success). Only the first SR_NCOLS are packed. */
static const rp_col batch_cols[] = {
    {"id", RP_INT},
    {"enterprise_id", RP_INT},
    {"report_date", RP_TEXT},
    {"reporter", RP_TEXT},
    {"production_status", RP_TEXT},
    {"output_value", RP_INT},
    {"employees", RP_INT},
    {"labour_shortage", RP_INT},
    {"note", RP_TEXT},
    {"created_at", RP_TEXT},
    {"error_code", RP_TEXT},
    {"error_field", RP_TEXT},
    {"error_message", RP_TEXT},
};
#define BATCH_NCOLS ((int)(sizeof batch_cols / sizeof batch_cols[0]))
#define BATCH_COL_CODE 10
_Static_assert(BATCH_NCOLS == SR_NCOLS + 3, "batch rows are a StatusReport and an error");

/* bb_status_list raises BB404 for an unknown enterprise, and for one
 * outside the read scope $1 (NULL: everything; else a township staff's user
 * id); asks limit+1 rows. */
static const pool_stmt st_list = {
    "st_list",
    "SELECT * FROM bb_status_list($1::bigint, $2::bigint, $3::date, $4::date, $5::date,"
    " $6::bigint, $7::int)",
    7};

static int status_register_statements(void)
{
    /* A batch holds its connection for many rows and a WAL flush: heavy,
     * so reads and other batches go to other connections (pool.h). */
    if (pool_register(&st_submit) != 0 || pool_register_heavy(&st_submit_batch) != 0 ||
        pool_register(&st_list) != 0)
        return -1;
    return 0;
}

static const char *const production_statuses[] = {"正常", "半停产", "停产", "在建", NULL};

static bool one_of(const pstr *v, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strlen(list[i]) == v->len && memcmp(list[i], v->s, v->len) == 0)
            return true;
    return false;
}

/* An optional argument that is not nil-able: refuses nil. */
static int refuse_nil(request *req, const char *key, pstate st)
{
    if (st == P_NIL) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, key,
                        "%s: must not be nil (leave it out instead)", key);
        return -1;
    }
    return 0;
}

/* A nil-able int: writes its text into buf, or sets *out NULL for nil/absent. */
static int opt_int_text(request *req, const msgpack_object *args, const char *key, int64_t max,
                        char *buf, size_t cap, const char **out)
{
    int64_t v;
    pstate st;
    *out = NULL;
    if (params_int(req, args, key, false, 0, max, &v, &st) != 0)
        return -1;
    if (st == P_SET) {
        snprintf(buf, cap, "%" PRId64, v);
        *out = buf;
    }
    return 0;
}

/* ---- group commit ---- */

/* One checked submit waiting for (or riding in) a statement. Owns copies of
 * its argument values (the request's own buffers die when the handler
 * returns); req is answered exactly once, then the item is freed. */
typedef struct sitem {
    struct sitem *next;
    request *req;
    const char *v[SV__COUNT];   /* into text; NULL = SQL NULL */
    int len[SV__COUNT];
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

static sitem *sitem_make(request *req, const char *const *vals, const int *lens)
{
    size_t bytes = sizeof(sitem);
    for (int i = 0; i < SV__COUNT; i++)
        if (vals[i] != NULL)
            bytes += (size_t)lens[i] + 1;
    sitem *it = malloc(bytes);
    if (it == NULL)
        return NULL;
    it->next = NULL;
    it->req = req;
    char *t = it->text;
    for (int i = 0; i < SV__COUNT; i++) {
        if (vals[i] == NULL) {
            it->v[i] = NULL;
            it->len[i] = 0;
            continue;
        }
        memcpy(t, vals[i], (size_t)lens[i]);
        t[lens[i]] = '\0';
        it->v[i] = t;
        it->len[i] = lens[i];
        t += lens[i] + 1;
    }
    return it;
}

/* Answers a single-statement submit from its result. */
static void reply_submit(request *req, const PGresult *res, const pool_error *e)
{
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_submit.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, sr_cols, SR_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_submit.name, why);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, st_submit.name, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    rowpack_row(pk, res, 0, sr_cols, SR_NCOLS);
    req_result_end(req);
}

static void gc_pump(struct server *srv);

/* A submit that went alone as one of the group's statements. */
static void single_cb(void *arg, const PGresult *res, const pool_error *e)
{
    sitem *it = arg;
    struct server *srv = req_server(it->req);
    reply_submit(it->req, res, e);
    free(it);
    gc.in_flight--;
    gc.rows_in_flight--;
    gc_pump(srv);
}

/* A submit sent again alone after its batch failed: not counted in flight. */
static void retry_cb(void *arg, const PGresult *res, const pool_error *e)
{
    sitem *it = arg;
    reply_submit(it->req, res, e);
    free(it);
}

/* Sends it alone with cb; on a synchronous failure answers and frees it and
 * returns -1 (cb will not run). */
static int send_single(struct server *srv, sitem *it, pool_cb cb)
{
    const char *vals[SUBMIT_NPARAMS];
    int lens[SUBMIT_NPARAMS];
    for (int i = 0; i < SV__COUNT; i++) {
        vals[i] = it->v[i];
        lens[i] = it->len[i];
    }
    vals[SV__COUNT] = srv->cfg.time_zone;
    lens[SV__COUNT] = -1;
    int rc = pool_query(srv->pool, &st_submit, vals, lens, cb, it);
    if (rc < 0) {
        rowpack_reply_query_rc(it->req, st_submit.name, rc);
        free(it);
        return -1;
    }
    return 0;
}

/* A growing text buffer for the array literals. */
typedef struct lit {
    char *s;
    size_t len, cap;
    bool failed;
} lit;

static void lit_grow(lit *l, size_t more)
{
    if (l->failed || l->len + more + 1 <= l->cap)
        return;
    size_t cap = l->cap > 0 ? l->cap : 256;
    while (cap < l->len + more + 1)
        cap *= 2;
    char *s = realloc(l->s, cap);
    if (s == NULL) {
        l->failed = true;
        return;
    }
    l->s = s;
    l->cap = cap;
}

static void lit_put(lit *l, const char *s, size_t n)
{
    lit_grow(l, n);
    if (l->failed)
        return;
    memcpy(l->s + l->len, s, n);
    l->len += n;
    l->s[l->len] = '\0';
}

/* One array element: NULL, or the value double-quoted with " and \
 * escaped (PostgreSQL's array input syntax; quoting every element also
 * keeps "NULL", spaces and braces in text literal). */
static void lit_elem(lit *l, const char *v, int len)
{
    if (l->len > 1)
        lit_put(l, ",", 1);
    if (v == NULL) {
        lit_put(l, "NULL", 4);
        return;
    }
    lit_grow(l, 2 * (size_t)len + 2);
    if (l->failed)
        return;
    char *o = l->s + l->len;
    *o++ = '"';
    for (int i = 0; i < len; i++) {
        if (v[i] == '"' || v[i] == '\\')
            *o++ = '\\';
        *o++ = v[i];
    }
    *o++ = '"';
    *o = '\0';
    l->len = (size_t)(o - l->s);
}

static void batch_free(sbatch *b, bool items_too)
{
    if (items_too)
        for (unsigned i = 0; i < b->n; i++)
            free(b->items[i]);
    free(b);
}

static bb_err batch_code(const char *sqlstate)
{
    if (strcmp(sqlstate, "BB400") == 0)
        return BB_E_INVALID_ARGUMENT;
    if (strcmp(sqlstate, "BB404") == 0)
        return BB_E_NOT_FOUND;
    if (strcmp(sqlstate, "BB422") == 0)
        return BB_E_IDEMPOTENCY_KEY_REUSED;
    if (strcmp(sqlstate, "BB401") == 0)
        return BB_E_UNAUTHENTICATED;
    if (strcmp(sqlstate, "BB403") == 0)
        return BB_E_FORBIDDEN;
    return BB_E_INTERNAL;
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
        pool_error e = {.err = batch_code(code), .sqlstate = code,
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
            (void)send_single(srv, b->items[i], retry_cb);
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
    lit arr[SV__COUNT];
    memset(arr, 0, sizeof arr);
    bool failed = b == NULL;
    for (int k = 0; k < SV__COUNT; k++)
        lit_put(&arr[k], "{", 1);
    for (unsigned i = 0; i < n; i++) {
        sitem *it = gc.head;
        gc.head = it->next;
        it->next = NULL;
        gc.waiting--;
        if (b != NULL)
            b->items[i] = it;
        for (int k = 0; k < SV__COUNT; k++)
            lit_elem(&arr[k], it->v[k], it->len[k]);
        if (b == NULL) {
            req_reply_error(it->req, BB_E_INTERNAL, NULL, "out of memory");
            free(it);
        }
    }
    if (gc.head == NULL)
        gc.tail = NULL;
    const char *vals[SUBMIT_NPARAMS];
    for (int k = 0; k < SV__COUNT; k++) {
        lit_put(&arr[k], "}", 1);
        failed = failed || arr[k].failed;
        vals[k] = arr[k].s;
    }
    vals[SV__COUNT] = srv->cfg.time_zone;
    int rc = -BB_E_INTERNAL;
    if (!failed) {
        b->srv = srv;
        b->n = n;
        rc = pool_query(srv->pool, &st_submit_batch, vals, NULL, batch_cb, b);
        log_event(LOG_DEBUG, "submit_batch", "rows=%u in_flight=%u waiting=%u", n, gc.in_flight,
                  gc.waiting);
    }
    for (int k = 0; k < SV__COUNT; k++)
        free(arr[k].s);
    if (rc < 0 && b != NULL) {
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
            if (send_single(srv, it, single_cb) == 0) {
                gc.in_flight++;
                gc.rows_in_flight++;
            }
        } else if (send_batch(srv, n) == 0) {
            gc.in_flight++;
            gc.rows_in_flight += n;
        }
    }
}

static void status_submit(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "report_date", "reporter",
                                        "production_status", "output_value", "employees",
                                        "labour_shortage", "note", "idempotency_key", NULL};
    int64_t eid;
    char date[11];
    pstr reporter, pstatus, note, key;
    pstate st;
    char ov[STATUS_NUM_TEXT], em[STATUS_NUM_TEXT], ls[STATUS_NUM_TEXT];
    const char *ovp, *emp, *lsp;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        params_date(req, args, "report_date", true, date, &st) != 0)
        return;
    if (strcmp(date, STATUS_MIN_DATE) < 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "report_date",
                        "report_date: %s is before " STATUS_MIN_DATE, date);
        return;
    }
    if (params_str(req, args, "reporter", true, BB_MAX_REPORTER_CHARS, false, &reporter, &st) != 0 ||
        params_str(req, args, "production_status", true, BB_MAX_SHORT_TEXT_CHARS, false,
                   &pstatus, &st) != 0)
        return;
    if (!one_of(&pstatus, production_statuses)) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "production_status",
                        "production_status: must be one of 正常, 半停产, 停产, 在建");
        return;
    }
    if (opt_int_text(req, args, "output_value", STATUS_MAX_OUTPUT_VALUE, ov, sizeof ov, &ovp) != 0 ||
        opt_int_text(req, args, "employees", STATUS_MAX_PEOPLE, em, sizeof em, &emp) != 0 ||
        opt_int_text(req, args, "labour_shortage", STATUS_MAX_PEOPLE, ls, sizeof ls, &lsp) != 0 ||
        params_str(req, args, "note", false, BB_MAX_NOTE_CHARS, true, &note, &st) != 0 ||
        params_str(req, args, "idempotency_key", false, BB_MAX_IDEMPOTENCY_KEY_BYTES, false,
                   &key, &st) != 0 ||
        refuse_nil(req, "idempotency_key", st) != 0)
        return;
    if (key.s != NULL && key.len > BB_MAX_IDEMPOTENCY_KEY_BYTES) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "idempotency_key",
                        "idempotency_key: at most %u bytes", BB_MAX_IDEMPOTENCY_KEY_BYTES);
        return;
    }
    char eidt[STATUS_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    /* The gate let only a logged-in caller through, so actor is set; a
     * NULL would still be refused by the database (bb_actor). */
    const char *actor = session_actor(req_session(req));
    const char *addr = req_peer(req);
    const char *vals[SV__COUNT] = {actor, addr, key.s, eidt, date, reporter.s, pstatus.s,
                                   ovp, emp, lsp, note.s};
    /* The pstr values are not NUL-terminated; the others are ours. */
    const int lens[SV__COUNT] = {actor != NULL ? (int)strlen(actor) : 0, (int)strlen(addr),
                                 (int)key.len, (int)strlen(eidt), (int)strlen(date),
                                 (int)reporter.len, (int)pstatus.len,
                                 ovp != NULL ? (int)strlen(ovp) : 0,
                                 emp != NULL ? (int)strlen(emp) : 0,
                                 lsp != NULL ? (int)strlen(lsp) : 0, (int)note.len};
    sitem *it = sitem_make(req, vals, lens);
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

static bool is_leap(unsigned y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* True when s[0..10) is a real calendar date YYYY-MM-DD. */
static bool valid_date(const char *s)
{
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return false;
        } else if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y == 0 || m < 1 || m > 12)
        return false;
    unsigned dim = mdays[m - 1] + (m == 2 && is_leap(y) ? 1u : 0u);
    return d >= 1 && d <= dim;
}

/* Parses a cursor "YYYY-MM-DD.ID" into date (11 bytes) and id text (24
 * bytes). Returns 0 or -1. */
static int parse_cursor(const pstr *c, char date[11], char id[STATUS_NUM_TEXT])
{
    if (c->len < 12 || c->len > STATUS_CURSOR_MAX || c->s[10] != '.' || !valid_date(c->s))
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

typedef struct slist_ctx {
    request *req;
    int limit;
} slist_ctx;

static void list_cb(void *arg, const PGresult *res, const pool_error *e)
{
    slist_ctx *l = arg;
    request *req = l->req;
    int limit = l->limit;
    free(l);
    if (e != NULL) {
        rowpack_reply_pool_error(req, st_list.name, e);
        return;
    }
    const char *why = NULL;
    if (rowpack_check(res, sr_cols, SR_NCOLS, &why) != 0) {
        rowpack_reply_bad_result(req, st_list.name, why);
        return;
    }
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    for (int i = 0; i < n; i++)
        rowpack_row(pk, res, i, sr_cols, SR_NCOLS);
    rowpack_str(pk, "next");
    if (more && n > 0) {
        char cur[STATUS_CURSOR_MAX + 8];
        snprintf(cur, sizeof cur, "%s.%s", PQgetvalue(res, n - 1, 2), PQgetvalue(res, n - 1, 0));
        rowpack_str(pk, cur);
    } else {
        msgpack_pack_nil(pk);
    }
    req_result_end(req);
}

static void status_list(request *req, const msgpack_object *args)
{
    static const char *const known[] = {"enterprise_id", "from", "to", "after", "limit", NULL};
    const config *cfg = &req_server(req)->cfg;
    int64_t eid, limit = 0;
    char from[11], to[11], adate[11], aid[STATUS_NUM_TEXT];
    pstr after;
    pstate st, from_st, to_st, limit_st;
    if (params_check_known(req, args, known) != 0 ||
        params_int(req, args, "enterprise_id", true, 1, INT64_MAX, &eid, &st) != 0 ||
        params_date(req, args, "from", false, from, &from_st) != 0 ||
        refuse_nil(req, "from", from_st) != 0 ||
        params_date(req, args, "to", false, to, &to_st) != 0 ||
        refuse_nil(req, "to", to_st) != 0 ||
        params_str(req, args, "after", false, STATUS_CURSOR_MAX, false, &after, &st) != 0 ||
        refuse_nil(req, "after", st) != 0 ||
        params_int(req, args, "limit", false, 1, cfg->page_limit_max, &limit, &limit_st) != 0 ||
        refuse_nil(req, "limit", limit_st) != 0)
        return;
    if (from_st == P_SET && to_st == P_SET && strcmp(from, to) > 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "from", "from: %s is after to (%s)", from, to);
        return;
    }
    if (after.s != NULL && parse_cursor(&after, adate, aid) != 0) {
        req_reply_error(req, BB_E_INVALID_ARGUMENT, "after",
                        "after: not a cursor this server returned as next");
        return;
    }
    if (limit_st != P_SET)
        limit = cfg->page_limit_default;
    slist_ctx *l = malloc(sizeof *l);
    if (l == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        return;
    }
    l->req = req;
    l->limit = (int)limit;
    char eidt[STATUS_NUM_TEXT], limitt[STATUS_NUM_TEXT];
    snprintf(eidt, sizeof eidt, "%" PRId64, eid);
    snprintf(limitt, sizeof limitt, "%" PRId64, limit + 1);
    const char *vals[7] = {session_read_scope(req_session(req)), eidt,
                           from_st == P_SET ? from : NULL, to_st == P_SET ? to : NULL,
                           after.s != NULL ? adate : NULL, after.s != NULL ? aid : NULL, limitt};
    int rc = pool_query(req_server(req)->pool, &st_list, vals, NULL, list_cb, l);
    if (rc < 0) {
        free(l);
        rowpack_reply_query_rc(req, st_list.name, rc);
    }
}

const method_impl status_methods[] = {
    {"status.submit", .raw = status_submit, .raw_roles = BB_ROLES_BUSINESS_WRITE},
    {"status.list", .raw = status_list, .raw_roles = BB_ROLES_USERS},
    {NULL},
};

const method_module status_module = {
    .name = "status",
    .methods = status_methods,
    .register_statements = status_register_statements,
};
