/*
 * dispatch.c: a parsed request -> its method handler, and the request
 * object (request.h) through which the handler answers exactly once.
 *
 * A request owns the msgpack_sbuffer its response is packed into and holds
 * one reference on its connection (client_request_begin/_end), so it may
 * outlive the connection; answering hands the bytes to the connection
 * (dropped there when it is gone) and frees the request.
 *
 * Nothing is allocated per request on the usual path: request objects are
 * kept for reuse (at most DISPATCH_REQUEST_CACHE of them; poisoned while
 * kept under AddressSanitizer, see BB_CACHE_POISON in outbuf.h), and the answer is
 * packed into a buffer of the server's reply cache (outbuf.h), which the
 * connection takes over as its output when it has none. That buffer is
 * taken only when the answer is packed (req_result_begin,
 * req_reply_error): a request waiting for the pool or to hear account
 * changes holds nothing but itself.
 *
 * Not for: reading or framing bytes, limits (client.c), or checking
 * arguments (args.c).
 */
#include "dispatch.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb_utf8.h"
#include "client.h"
#include "log.h"
#include "metrics.h"
#include "outbuf.h"
#include "replica.h"
#include "request.h"
#include "session.h"

/* Longest error message text; longer ones are cut at a character
 * boundary. */
#define DISPATCH_MESSAGE_MAX 1024
/* Ended request objects kept for the next requests instead of freed:
 * enough for the requests one loop turn usually ends; beyond that they
 * are freed, so a burst leaves at most this many behind. Under
 * AddressSanitizer a kept request is poisoned (BB_CACHE_POISON): a use
 * after req_end is reported; ending one twice trips req_free's assert. */
#define DISPATCH_REQUEST_CACHE 64u

struct request {
    server *srv;                  /* borrowed */
    client *conn;                 /* referenced until the request ends */
    uint64_t conn_id;
    uint32_t msgid;
    const char *method;           /* the table's name (static) */
    const method_impl *impl;      /* NULL for an unknown method */
    const bb_method_spec *spec;   /* NULL for an unknown method */
    /* replica.h: the user of a request of a method that writes
     * (BB_M_WRITES_ANY), told to replica_write_end when it ends; 0: none */
    int64_t writer;
    uint8_t route;                /* mstmt.c: REQ_ROUTE_*, once decided */
    uint64_t started_ms;
    msgpack_sbuffer sb;           /* the response being packed; owned */
    msgpack_packer pk;
};

/* The registered methods: spec and implementation side by side. */
typedef struct entry {
    const bb_method_spec *spec;
    const method_impl *impl;
} entry;
static entry registry[DISPATCH_MAX_METHODS];
static size_t nregistry;

void method_run_generic(request *req, const method_impl *impl, const margs *a); /* mstmt.c */

/* Ended requests kept for reuse (see DISPATCH_REQUEST_CACHE). */
static struct {
    request *req[DISPATCH_REQUEST_CACHE];
    unsigned n;
} RC;

/* A zeroed request, from the cache or calloc; NULL when out of memory. */
static request *req_new(void)
{
    if (RC.n == 0)
        return calloc(1, sizeof(request));
    request *req = RC.req[--RC.n];
    BB_CACHE_UNPOISON(req, sizeof *req);
    memset(req, 0, sizeof *req);
    return req;
}

/* The sbuffer's block goes back to the reply cache, the object to ours. */
static void req_free(request *req)
{
    outbuf_give(req->sb.data, req->sb.alloc);
#ifndef NDEBUG
    for (unsigned i = 0; i < RC.n; i++)
        assert(RC.req[i] != req); /* ended twice */
#endif
    if (RC.n < DISPATCH_REQUEST_CACHE) {
        BB_CACHE_POISON(req, sizeof *req);
        RC.req[RC.n++] = req;
    } else {
        free(req);
    }
}

static const entry *find_method(const char *name, uint32_t len)
{
    for (size_t i = 0; i < nregistry; i++)
        if (strlen(registry[i].impl->name) == len && memcmp(registry[i].impl->name, name, len) == 0)
            return &registry[i];
    return NULL;
}

int dispatch_register(const method_impl *impls)
{
    for (const method_impl *m = impls; m->name != NULL; m++) {
        const bb_method_spec *spec = bb_spec_find(m->name, strlen(m->name));
        const char *why = spec == NULL ? "not_in_spec"
                          : find_method(m->name, (uint32_t)strlen(m->name)) != NULL ? "twice"
                          : (m->fn == NULL) == (m->stmt == NULL) ? "fn_xor_stmt"
                          : m->fn == NULL && m->reply == MR_CUSTOM ? "no_reply"
                          : nregistry == DISPATCH_MAX_METHODS ? "table_full"
                          : NULL;
        if (why != NULL) {
            log_event(LOG_ERROR, "method_invalid", "method=%s why=%s", m->name, why);
            return -1;
        }
        registry[nregistry++] = (entry){spec, m};
    }
    return 0;
}

/* Registers st unless it was already (a statement may serve two methods). */
static int register_stmt(const method_module *mod, mstmt *st)
{
    if (st->text != NULL)
        return 0;
    if (mstmt_register(st) != 0) {
        log_event(LOG_ERROR, "startup_failed", "module=%s stmt=%s why=register", mod->name,
                  st->name);
        return -1;
    }
    return 0;
}

int method_module_register(const method_module *mod)
{
    for (size_t i = 0; mod->stmts != NULL && mod->stmts[i] != NULL; i++)
        if (register_stmt(mod, mod->stmts[i]) != 0)
            return -1;
    for (const method_impl *m = mod->methods; m != NULL && m->name != NULL; m++)
        if (m->stmt != NULL && register_stmt(mod, m->stmt) != 0)
            return -1;
    for (size_t i = 0; mod->constraints != NULL && mod->constraints[i].name != NULL; i++)
        if (pool_name_constraint(&mod->constraints[i]) != 0) {
            log_event(LOG_ERROR, "startup_failed", "module=%s why=\"constraint table full\"",
                      mod->name);
            return -1;
        }
    return mod->methods != NULL ? dispatch_register(mod->methods) : 0;
}

int dispatch_check_complete(void)
{
    int rc = 0;
    for (size_t t = 0; bb_spec_tables[t] != NULL; t++)
        for (const bb_method_spec *m = bb_spec_tables[t]; m->name != NULL; m++)
            if (find_method(m->name, (uint32_t)strlen(m->name)) == NULL) {
                log_event(LOG_ERROR, "method_invalid", "method=%s why=not_implemented", m->name);
                rc = -1;
            }
    return rc;
}

uint32_t req_msgid(const request *req) { return req->msgid; }
/* The request holds a reference on its connection, so the session and
 * the peer text stay readable until the request ends. */
const session *req_session(const request *req) { return client_session(req->conn); }
session *req_session_mut(request *req) { return client_session(req->conn); }
const char *req_peer(const request *req) { return client_peer(req->conn); }
const char *req_peer_ip(const request *req) { return client_peer_ip(req->conn); }
uint64_t req_conn_id(const request *req) { return req->conn_id; }
const method_impl *req_impl(const request *req) { return req->impl; }
const bb_method_spec *req_spec(const request *req) { return req->spec; }
uint8_t req_route(const request *req) { return req->route; }
void req_set_route(request *req, uint8_t route) { req->route = route; }
struct server *req_server(const request *req) { return req->srv; }

/* The answer is about to be packed: the sbuffer gets a block of the reply
 * cache if it has none yet (msgpack_sbuffer_write reallocs a block that
 * is too small, so any malloc'd block will do; when none could be had it
 * starts empty and allocates on the first write, as usual), or is
 * emptied (a handler that began a result and then failed starts over). */
static void req_sb_ready(request *req)
{
    if (req->sb.data == NULL)
        req->sb.data = outbuf_take(&req->sb.alloc);
    msgpack_sbuffer_clear(&req->sb);
}

/* Sends what was packed, and frees the request. */
static void req_end(request *req, const char *outcome)
{
    uint64_t ms = uv_now(req->srv->loop) - req->started_ms;
    if (req->writer != 0) {
        replica_write_end(req->writer, uv_now(req->srv->loop));
    } else if (req->spec != NULL && (req->spec->flags & BB_M_WRITES_ANY) != 0) {
        /* A login's user is known only now: what it wrote is theirs too. */
        const session *ss = client_session(req->conn);
        if (ss != NULL && session_logged_in(ss))
            replica_user_changed(ss->user_id, uv_now(req->srv->loop));
    }
    log_req(LOG_DEBUG, req->conn_id, req->msgid, "request_done", "method=%s result=%s ms=%llu",
            req->method, outcome, (unsigned long long)ms);
    metrics_request_end(req->method, outcome, ms);
    client_request_end(req->conn, &req->sb); /* may free the connection */
    req_free(req);
}

/* Cuts s (NUL-terminated, n bytes) so it does not end inside a UTF-8
 * sequence: snprintf truncation must not put invalid UTF-8 on the wire. */
static void cut_to_char(char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (n - (i - 1) < need)
        s[i - 1] = '\0';
}

void req_reply_error(request *req, bb_err code, const char *field, const char *fmt, ...)
{
    char msg[DISPATCH_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) {
        msg[0] = '\0';
    } else if ((size_t)n >= sizeof msg) {
        cut_to_char(msg, sizeof msg - 1);
    }
    if (!bb_utf8_valid(msg, strlen(msg)))
        snprintf(msg, sizeof msg, "%s", bb_err_code(code));
    /* A handler that began a result and then failed starts over. */
    req_sb_ready(req);
    bb_rpc_pack_error(&req->pk, req->msgid, code, msg, field);
    if (code == BB_E_INTERNAL)
        log_req(LOG_ERROR, req->conn_id, req->msgid, "request_failed",
                "method=%s code=%s field=%s msg=%s", req->method, bb_err_code(code),
                field != NULL ? field : "-", log_q(msg));
    else if (code == BB_E_UNAVAILABLE)
        log_req(LOG_WARN, req->conn_id, req->msgid, "request_failed",
                "method=%s code=%s msg=%s", req->method, bb_err_code(code), log_q(msg));
    req_end(req, bb_err_code(code));
}

msgpack_packer *req_result_begin(request *req)
{
    req_sb_ready(req);
    bb_rpc_pack_result_begin(&req->pk, req->msgid);
    return &req->pk;
}

void req_result_end(request *req) { req_end(req, "ok"); }

/* The argument map a handler sees when the client sent params []. */
static const msgpack_object empty_map = {
    .type = MSGPACK_OBJECT_MAP,
    .via.map = {.size = 0, .ptr = NULL},
};

/* The gate every method goes through (session.h), then the arguments and
 * the handler. */
static void run_gated(request *req, const entry *e, const msgpack_object *params)
{
    server *s = req->srv;
    const method_impl *m = e->impl;
    unsigned roles = e->spec->roles;
    session *ss = client_session(req->conn);
    /* A logged-in session is served only while this process hears the
     * changes that end sessions (the caller waited for that), and within
     * its lifetimes (session.h); the methods anyone may call
     * (server.info, session.login) need neither. */
    if (session_logged_in(ss) && (roles & BB_ROLES_ANON) == 0) {
        int g = session_gate(ss, uv_now(s->loop), s->cfg.session_idle_s);
        if (g == BB_E_UNAVAILABLE) {
            req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                            ss->held ? "this account is being changed; retry"
                                     : "this server cannot hear account changes right now; "
                                       "retry");
            return;
        }
        if (g == BB_E_UNAUTHENTICATED) {
            req_reply_error(req, BB_E_UNAUTHENTICATED, NULL,
                            "the session has expired: log in again");
            return;
        }
    }
    if (!session_logged_in(ss)) {
        if ((roles & BB_ROLES_ANON) == 0) {
            req_reply_error(req, BB_E_UNAUTHENTICATED, NULL,
                            "%s needs a logged-in session: call session.login first", m->name);
            return;
        }
    } else if ((roles & (unsigned)ss->role) == 0) {
        log_req(LOG_INFO, req->conn_id, req->msgid, "forbidden", "method=%s user=%s role=%s",
                m->name, log_q(ss->login), session_role_name(ss->role));
        req_reply_error(req, BB_E_FORBIDDEN, NULL, "the role %s may not call %s",
                        session_role_name(ss->role), m->name);
        return;
    }
    /* A user's own writes are read back from the primary (replica.h). */
    if ((e->spec->flags & BB_M_WRITES_ANY) != 0 && ss->user_id != 0) {
        req->writer = ss->user_id;
        replica_write_begin(req->writer);
    }
    margs a;
    if (margs_check(req, e->spec, params, &a) != 0) {
        margs_free(&a);
        return;
    }
    if (m->fn != NULL)
        m->fn(req, &a);
    else if (m->check == NULL || m->check(req, &a) == 0)
        method_run_generic(req, m, &a);
    margs_free(&a);
}

/* ---- requests waiting until this process can hear account changes ----
 *
 * Right after start-up, and while LISTEN reconnects, a logged-in session's
 * request waits (at most SESSION_HEAR_WAIT_MS) rather than being refused
 * at once: the database is there, only the re-check and a beat's echo are
 * missing (nodes.h). One FIFO for every connection, so a connection's
 * requests still start in the order they came (a request behind a
 * waiting one of its connection waits too, whatever its method). The
 * arguments outlive the message as bytes, packed when it came; the
 * connection's input buffer went back to input_budget_bytes by then, so
 * the copies are counted against that budget (server.input_reserved)
 * until they go: a request whose copy does not fit is answered
 * `unavailable` at once (logged hear_wait_full). A request whose
 * connection closed while it waited is ended without running. */
typedef struct hear_wait {
    struct hear_wait *next;
    request *req;                /* holds its connection, so its session */
    const entry *e;
    msgpack_sbuffer args;        /* the params, packed; owned */
    size_t reserved;             /* bytes counted in input_reserved */
    uint64_t deadline_ms;        /* uv_now */
} hear_wait;

static struct {
    hear_wait *head, *tail;
    uv_timer_t timer;
    bool timer_init;
} HW;

static hear_wait *hw_pop(void)
{
    hear_wait *w = HW.head;
    HW.head = w->next;
    if (HW.head == NULL)
        HW.tail = NULL;
    client_session(w->req->conn)->hear_waiting--;
    return w;
}

static void hw_free(server *s, hear_wait *w)
{
    s->input_reserved -= w->reserved;
    msgpack_sbuffer_destroy(&w->args);
    free(w);
}

static void hw_arm(void);

/* Hearing again (session.h): every waiting request runs, in order. */
static void on_hearing(void)
{
    while (HW.head != NULL) {
        hear_wait *w = hw_pop();
        server *s = w->req->srv;
        if (client_closing(w->req->conn)) {
            /* Nobody is there to read the answer any more. */
            req_end(w->req, "connection_closed");
            hw_free(s, w);
            continue;
        }
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        if (msgpack_unpack_next(&u, w->args.data, w->args.size, &off) == MSGPACK_UNPACK_SUCCESS)
            run_gated(w->req, w->e, &u.data);
        else
            req_reply_error(w->req, BB_E_INTERNAL, NULL, "arguments lost while waiting");
        msgpack_unpacked_destroy(&u);
        hw_free(s, w);
    }
    if (HW.timer_init)
        uv_timer_stop(&HW.timer);
}

static void on_hear_timeout(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    while (HW.head != NULL && HW.head->deadline_ms <= now) {
        hear_wait *w = hw_pop();
        server *s = w->req->srv;
        if (client_closing(w->req->conn))
            req_end(w->req, "connection_closed");
        else
            req_reply_error(w->req, BB_E_UNAVAILABLE, NULL,
                            "this server cannot hear account changes right now; retry");
        hw_free(s, w);
    }
    hw_arm();
}

static void hw_arm(void)
{
    if (HW.head == NULL)
        return;
    uv_loop_t *loop = HW.head->req->srv->loop;
    if (!HW.timer_init) {
        uv_timer_init(loop, &HW.timer); /* cannot fail */
        uv_unref((uv_handle_t *)&HW.timer);
        HW.timer_init = true;
    }
    uint64_t now = uv_now(loop);
    uv_timer_start(&HW.timer, on_hear_timeout,
                   HW.head->deadline_ms > now ? HW.head->deadline_ms - now : 0, 0);
}

/* Queues req until this process hears (or SESSION_HEAR_WAIT_MS passed).
 * Answers req itself when it cannot. */
static void hear_wait_add(request *req, const entry *e, const msgpack_object *params)
{
    static bool hooked;
    if (!hooked) {
        session_on_hearing(on_hearing);
        hooked = true;
    }
    hear_wait *w = calloc(1, sizeof *w);
    if (w == NULL) {
        req_reply_error(req, BB_E_UNAVAILABLE, NULL, "out of memory; retry");
        return;
    }
    msgpack_sbuffer_init(&w->args);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &w->args, msgpack_sbuffer_write);
    server *s = req->srv;
    if (msgpack_pack_object(&pk, *params) != 0) {
        hw_free(s, w);
        req_reply_error(req, BB_E_UNAVAILABLE, NULL, "out of memory; retry");
        return;
    }
    /* The copy plus what the request itself holds. */
    size_t cost = w->args.size + sizeof *w + sizeof(request);
    if (s->cfg.input_budget_bytes < s->input_reserved ||
        cost > s->cfg.input_budget_bytes - s->input_reserved) {
        log_req(LOG_WARN, req->conn_id, req->msgid, "hear_wait_full",
                "method=%s bytes=%zu reserved=%zu budget=%zu", e->impl->name, cost,
                s->input_reserved, s->cfg.input_budget_bytes);
        hw_free(s, w);
        req_reply_error(req, BB_E_UNAVAILABLE, NULL,
                        "this server cannot hear account changes right now; retry");
        return;
    }
    w->reserved = cost;
    s->input_reserved += cost;
    w->req = req;
    w->e = e;
    w->deadline_ms = uv_now(req->srv->loop) + SESSION_HEAR_WAIT_MS;
    client_session(req->conn)->hear_waiting++;
    bool first = HW.head == NULL;
    if (HW.tail != NULL)
        HW.tail->next = w;
    else
        HW.head = w;
    HW.tail = w;
    if (first)
        hw_arm();
}

void dispatch_request(server *s, client *c, const bb_rpc_msg *msg)
{
    request *req = req_new();
    if (req == NULL) {
        /* Cannot even build an answer; the connection must not wait
         * forever for one, so it is the connection that fails. */
        log_req(LOG_ERROR, client_id(c), msg->msgid, "out_of_memory", "what=request");
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        bb_rpc_pack_error(&pk, msg->msgid, BB_E_INTERNAL, "out of memory", NULL);
        client_request_begin(c);
        client_request_end(c, &sb);
        msgpack_sbuffer_destroy(&sb);
        return;
    }
    req->srv = s;
    req->conn = c;
    req->conn_id = client_id(c);
    req->msgid = msg->msgid;
    req->started_ms = uv_now(s->loop);
    /* empty until the answer is packed (req_sb_ready) */
    msgpack_sbuffer_init(&req->sb);
    msgpack_packer_init(&req->pk, &req->sb, msgpack_sbuffer_write);
    client_request_begin(c);
    metrics_request_begin();

    const entry *e = find_method(msg->method, msg->method_len);
    if (e == NULL) {
        req->method = "-";
        if (msg->method_len <= 100 && bb_utf8_valid(msg->method, msg->method_len) &&
            !bb_utf8_has_control(msg->method, msg->method_len, false))
            req_reply_error(req, BB_E_UNKNOWN_METHOD, NULL, "no method named \"%.*s\"",
                            (int)msg->method_len, msg->method);
        else
            req_reply_error(req, BB_E_UNKNOWN_METHOD, NULL, "no such method");
        return;
    }
    const method_impl *m = e->impl;
    req->impl = m;
    req->spec = e->spec;
    unsigned roles = e->spec->roles;
    req->method = m->name;
    log_req(LOG_DEBUG, req->conn_id, req->msgid, "request", "method=%s", m->name);

    /* Then the gate (run_gated): nothing but the anonymous methods before
     * login, and only the roles a method lists; a logged-in session first
     * waits, if need be, until this process can hear account changes. */
    const msgpack_object *params = msg->params != NULL ? msg->params : &empty_map;
    session *ss = client_session(c);
    if (ss->hear_waiting > 0 ||
        (session_logged_in(ss) && (roles & BB_ROLES_ANON) == 0 &&
         !session_hearing(uv_now(s->loop))))
        hear_wait_add(req, e, params);
    else
        run_gated(req, e, params);
}
