/*
 * mstmt.c: statements called by parameter name (method.h, mstmt): the
 * `:name` text compiled once to `$n` and registered with the pool, values
 * bound from a request's checked arguments and context, and the replies
 * the engine gives for a method with no handler of its own (MR_ROW,
 * MR_PAGE).
 *
 * Which pool a statement goes to: the primary's, or the read replica's
 * for a method declared BB_M_REPLICA when replica.h's rule allows.
 *
 * Not for: sending or pipelining (pool.c), or packing cells (rowpack.c).
 */
#include "method.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "replica.h"
#include "server.h"
#include "session.h"

enum { MP_ARG = 1, MP_SET, MP_CTX_ACTOR, MP_CTX_ADDR, MP_CTX_SCOPE, MP_CTX_TODAY, MP_EXTRA };

static bool ident_start(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }
static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

/* The parameter number of name (adding it when new), or -1. */
static int param_of(mstmt *st, const char *name, size_t len)
{
    char nm[sizeof st->params[0].name];
    if (len >= sizeof nm) {
        log_event(LOG_ERROR, "statement_invalid", "stmt=%s why=long_name", st->name);
        return -1;
    }
    memcpy(nm, name, len);
    nm[len] = '\0';
    uint8_t kind = MP_ARG, extra = 0;
    if (strcmp(nm, "_actor") == 0)
        kind = MP_CTX_ACTOR;
    else if (strcmp(nm, "_addr") == 0)
        kind = MP_CTX_ADDR;
    else if (strcmp(nm, "_scope") == 0)
        kind = MP_CTX_SCOPE;
    else if (strcmp(nm, "_today") == 0)
        kind = MP_CTX_TODAY;
    else if (nm[0] == '_') {
        kind = MP_EXTRA;
        size_t i = 0;
        while (st->extras != NULL && st->extras[i] != NULL && strcmp(st->extras[i], nm) != 0)
            i++;
        if (st->extras == NULL || st->extras[i] == NULL) {
            log_event(LOG_ERROR, "statement_invalid", "stmt=%s why=unknown_extra name=%s",
                      st->name, nm);
            return -1;
        }
        extra = (uint8_t)i;
    } else if (len > 4 && strcmp(nm + len - 4, "_set") == 0) {
        kind = MP_SET;
        nm[len - 4] = '\0';
    }
    for (uint8_t i = 0; i < st->nparams; i++)
        if (st->params[i].kind == kind && st->params[i].extra == extra &&
            strcmp(st->params[i].name, nm) == 0)
            return i;
    if (st->nparams >= MSTMT_MAX_PARAMS) {
        log_event(LOG_ERROR, "statement_invalid", "stmt=%s why=too_many_params", st->name);
        return -1;
    }
    struct mstmt_param *p = &st->params[st->nparams];
    p->kind = kind;
    p->extra = extra;
    snprintf(p->name, sizeof p->name, "%s", nm);
    return st->nparams++;
}

int mstmt_register(mstmt *st)
{
    const char *s = st->sql;
    size_t n = strlen(s);
    /* "$40" is never longer than the shortest ":x" it replaces plus two. */
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return -1;
    size_t o = 0;
    st->nparams = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '\'' || c == '"') { /* a quoted literal or name: copied as it is */
            size_t j = i + 1;
            while (j < n && s[j] != c)
                j++;
            j = j < n ? j + 1 : n;
            memcpy(out + o, s + i, j - i);
            o += j - i;
            i = j;
        } else if (c == ':' && i + 1 < n && s[i + 1] == ':') { /* a cast */
            out[o++] = ':';
            out[o++] = ':';
            i += 2;
        } else if (c == ':' && i + 1 < n && ident_start(s[i + 1])) {
            size_t j = i + 1;
            while (j < n && ident_char(s[j]))
                j++;
            int p = param_of(st, s + i + 1, j - i - 1);
            if (p < 0) {
                free(out);
                return -1;
            }
            o += (size_t)sprintf(out + o, "$%d", p + 1);
            i = j;
        } else {
            out[o++] = c;
            i++;
        }
    }
    out[o] = '\0';
    st->text = out;
    st->ps.name = st->name;
    st->ps.sql = out;
    st->ps.nparams = st->nparams;
    return st->heavy ? pool_register_heavy(&st->ps) : pool_register(&st->ps);
}

/* ---- running ---- */

/* What a page needs once the arguments are gone. */
typedef struct paged {
    const mstmt *st;
    const mshape *shape;
    int64_t limit;
} paged;

/* What an MR_ROW reply needs once the arguments are gone. */
typedef struct generic {
    const method_impl *impl;
    int64_t id;                  /* for not_found */
} generic;

typedef struct mcall {
    request *req;
    int64_t actor;               /* the session's user when it was sent */
    mstmt *st;
    mstmt_cb cb;
    void *ctx;
    void (*done_err)(void *ctx);
    /* The context of the engine's own replies (MR_PAGE, MR_ROW), carried
     * in the call rather than in an allocation of its own (one malloc and
     * free less per get and list); ctx is then NULL and the callback gets
     * a pointer to this. */
    bool own_ctx;
    union {
        paged p;
        generic g;
    } own;
} mcall;

static void on_result(void *arg, const PGresult *res, const pool_error *e)
{
    mcall c = *(mcall *)arg;
    free(arg);
    if (c.own_ctx)
        c.ctx = &c.own;
    if (e != NULL) {
        session *ss = req_session_mut(c.req);
        if (e->err == BB_E_UNAUTHENTICATED && req_impl(c.req)->logout_on_unauthenticated &&
            c.actor != 0 && ss->user_id == c.actor) {
            log_req(LOG_INFO, req_conn_id(c.req), req_msgid(c.req), "session_revoked",
                    "user_id=%" PRId64 " why=unauthenticated", c.actor);
            session_clear(ss);
        }
        rowpack_reply_pool_error(c.req, c.st->name, e);
    } else {
        const char *why = NULL;
        if (c.st->cols != NULL && rowpack_check(res, c.st->cols, c.st->ncols, &why) != 0) {
            rowpack_reply_bad_result(c.req, c.st->name, why);
        } else {
            c.cb(c.req, res, c.ctx);
            return;
        }
    }
    if (c.done_err != NULL)
        c.done_err(c.ctx);
}

/* Fills vals/lens for st from a, the request's context and extra. 0, or -1
 * when today cannot be had (answered nothing: the caller decides). */
static int bind_values(request *req, const mstmt *st, const margs *a, const char *const *extra,
                const char **vals, int *lens, char today[11])
{
    const session *ss = req_session(req);
    for (uint8_t i = 0; i < st->nparams; i++) {
        const struct mstmt_param *p = &st->params[i];
        lens[i] = -1;
        vals[i] = NULL;
        switch (p->kind) {
        case MP_ARG: {
            const bb_val *v = margs_get(a, p->name);
            if (v->state == BB_V_SET) {
                vals[i] = v->s;
                lens[i] = (int)v->len;
            }
            break;
        }
        case MP_SET:
            vals[i] = margs_get(a, p->name)->state != BB_V_ABSENT ? "true" : "false";
            break;
        case MP_CTX_ACTOR:
            vals[i] = session_actor(ss);
            break;
        case MP_CTX_ADDR:
            vals[i] = req_peer(req);
            break;
        case MP_CTX_SCOPE:
            vals[i] = session_read_scope(ss);
            break;
        case MP_CTX_TODAY:
            if (clock_today(today) != 0)
                return -1;
            vals[i] = today;
            break;
        case MP_EXTRA:
            vals[i] = extra != NULL ? extra[p->extra] : NULL;
            break;
        }
    }
    return 0;
}

int mstmt_send(request *req, mstmt *st, const margs *a, const char *const *extra, pool_cb cb,
               void *arg)
{
    const char *vals[MSTMT_MAX_PARAMS];
    int lens[MSTMT_MAX_PARAMS];
    char today[11];
    if (bind_values(req, st, a, extra, vals, lens, today) != 0)
        return -BB_E_INTERNAL;
    /* Reads declared BB_M_REPLICA go to the replica when the staleness
     * rule allows (replica.h); everything else to the primary. Decided
     * once per request: a method that runs several statements reads one
     * server. */
    server *s = req_server(req);
    if (req_route(req) == REQ_ROUTE_UNSET)
        req_set_route(req, replica_wants(s, req_spec(req), req_session(req)->user_id)
                               ? REQ_ROUTE_REPLICA
                               : REQ_ROUTE_PRIMARY);
    if (req_route(req) == REQ_ROUTE_REPLICA)
        return replica_query(s, req, &st->ps, vals, lens, cb, arg);
    return pool_query(s->pool, &st->ps, vals, lens, cb, arg);
}

/* mstmt_query, with the context either the caller's (ctx, done_err) or,
 * when own is not NULL, a copy of *own carried in the call (a paged or a
 * generic; the callback must not free it). */
static void query(request *req, mstmt *st, const margs *a, const char *const *extra, mstmt_cb cb,
                  void *ctx, void (*done_err)(void *ctx), const mcall *own)
{
    mcall *c = malloc(sizeof *c);
    if (c == NULL) {
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
        if (done_err != NULL)
            done_err(ctx);
        return;
    }
    *c = (mcall){req, req_session(req)->user_id, st, cb, ctx, done_err, .own_ctx = own != NULL};
    if (own != NULL)
        c->own = own->own;
    int rc = mstmt_send(req, st, a, extra, on_result, c);
    if (rc < 0) {
        free(c);
        if (rc == -BB_E_INTERNAL)
            req_reply_error(req, BB_E_INTERNAL, NULL, "internal error (logged by the server)");
        else
            rowpack_reply_query_rc(req, st->name, rc);
        if (done_err != NULL)
            done_err(ctx);
    }
}

void mstmt_query(request *req, mstmt *st, const margs *a, const char *const *extra, mstmt_cb cb,
                 void *ctx, void (*done_err)(void *ctx))
{
    query(req, st, a, extra, cb, ctx, done_err, NULL);
}

/* ---- the replies of methods without a handler ---- */

/* Packs row of res as the shape says (its packer, or the statement's first
 * nwire columns). -1 when the packer refused the row. */
static int pack_one(msgpack_packer *pk, const PGresult *res, int row, const rp_col *cols,
                    int ncols, const mshape *shape)
{
    if (shape != NULL && shape->pack != NULL)
        return shape->pack(pk, res, row);
    rowpack_row(pk, res, row, cols, shape != NULL && shape->nwire > 0 ? shape->nwire : ncols);
    return 0;
}

void mreply_rows(request *req, const char *stmt, const PGresult *res, const rp_col *cols,
                 int ncols, const mshape *shape, int64_t limit)
{
    int rows = PQntuples(res);
    bool more = rows > limit;
    int n = more ? (int)limit : rows;
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 2);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    if (shape == NULL || shape->pack == NULL) {
        rowpack_rows(pk, res, 0, n, cols, shape != NULL && shape->nwire > 0 ? shape->nwire : ncols);
    } else {
        for (int i = 0; i < n; i++)
            if (shape->pack(pk, res, i) != 0) {
                rowpack_reply_bad_result(req, stmt, "a row its packer refused");
                return;
            }
    }
    rowpack_str(pk, "next");
    if (more && n > 0 && shape != NULL && shape->next != NULL) {
        shape->next(pk, res, n - 1);
    } else if (more && n > 0) {
        /* The default cursor is the last row's first column, which must be
         * an integer (an id); a statement whose first column is anything
         * else needs a shape with its own `next`. A cursor that does not
         * parse is an internal error, not a silent 0 (the first page). */
        int64_t next;
        if (!rowpack_parse_int(PQgetvalue(res, n - 1, 0), &next)) {
            rowpack_reply_bad_result(req, stmt, "the first column is not an integer cursor");
            return;
        }
        msgpack_pack_int64(pk, next);
    } else {
        msgpack_pack_nil(pk);
    }
    req_result_end(req);
}

void mreply_page(request *req, const PGresult *res, const rp_col *cols, int ncols, int64_t limit)
{
    mreply_rows(req, "-", res, cols, ncols, NULL, limit);
}

void mreply_items(request *req, const PGresult *res, const rp_col *cols, int ncols)
{
    int n = PQntuples(res);
    msgpack_packer *pk = req_result_begin(req);
    msgpack_pack_map(pk, 1);
    rowpack_str(pk, "items");
    msgpack_pack_array(pk, (uint32_t)n);
    rowpack_rows(pk, res, 0, n, cols, ncols);
    req_result_end(req);
}

void *req_alloc(request *req, size_t size)
{
    void *p = calloc(1, size);
    if (p == NULL)
        req_reply_error(req, BB_E_INTERNAL, NULL, "out of memory");
    return p;
}

static void page_done(request *req, const PGresult *res, void *arg)
{
    const paged *p = arg; /* the call's own context: not freed here */
    mreply_rows(req, p->st->name, res, p->st->cols, p->st->ncols, p->shape, p->limit);
}

void mstmt_query_page(request *req, mstmt *st, const margs *a, const char *const *extra,
                      const mshape *shape)
{
    mcall own = {.own.p = {st, shape, margs_int(a, "limit", 0)}};
    query(req, st, a, extra, page_done, NULL, NULL, &own);
}

static void generic_done(request *req, const PGresult *res, void *arg)
{
    generic g = *(generic *)arg; /* the call's own context: not freed here */
    const mstmt *st = g.impl->stmt;
    if (PQntuples(res) == 0 && g.impl->what != NULL) {
        const char *key = g.impl->not_found_key != NULL ? g.impl->not_found_key : "id";
        req_reply_error(req, BB_E_NOT_FOUND, key, "%s %" PRId64 " does not exist", g.impl->what,
                        g.id);
        return;
    }
    if (PQntuples(res) != 1) {
        rowpack_reply_bad_result(req, st->name, "expected one row");
        return;
    }
    msgpack_packer *pk = req_result_begin(req);
    if (pack_one(pk, res, 0, st->cols, st->ncols, g.impl->shape) != 0) {
        rowpack_reply_bad_result(req, st->name, "a row its packer refused");
        return;
    }
    req_result_end(req);
}

void method_run_generic(request *req, const method_impl *impl, const margs *a);
void method_run_generic(request *req, const method_impl *impl, const margs *a)
{
    if (impl->reply == MR_PAGE) {
        mstmt_query_page(req, impl->stmt, a, NULL, impl->shape);
        return;
    }
    mcall own = {.own.g.impl = impl};
    const char *key = impl->not_found_key != NULL ? impl->not_found_key : "id";
    own.own.g.id = bb_spec_arg(a->spec, key, strlen(key)) != NULL ? margs_int(a, key, 0) : 0;
    query(req, impl->stmt, a, NULL, generic_done, NULL, NULL, &own);
}

/* ---- array literals ---- */

/* Room for n more bytes and the closing "} and NUL; false (l->oom set)
 * when it cannot be had. */
static bool mlit_room(mlit *l, size_t n)
{
    size_t need = l->len + n + 4;
    if (l->oom)
        return false;
    if (need <= l->cap)
        return true;
    size_t cap = l->cap ? l->cap : 256;
    while (cap < need)
        cap *= 2;
    char *s = realloc(l->s, cap);
    if (s == NULL) {
        l->oom = true;
        return false;
    }
    l->s = s;
    l->cap = cap;
    return true;
}

/* Appends p[0..n) with " and \ escaped (room for 2n checked by the
 * caller). Runs without either are copied whole: most text has neither. */
static void mlit_escaped(mlit *l, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '"' && *q != '\\')
            q++;
        memcpy(l->s + l->len, p, (size_t)(q - p));
        l->len += (size_t)(q - p);
        if (q < end) {
            l->s[l->len++] = '\\';
            l->s[l->len++] = *q++;
        }
        p = q;
    }
}

void mlit_put(mlit *l, const char *p, size_t n, bool esc)
{
    if (!mlit_room(l, esc ? 2 * n : n))
        return;
    if (esc) {
        mlit_escaped(l, p, n);
    } else {
        memcpy(l->s + l->len, p, n);
        l->len += n;
    }
}

void mlit_next(mlit *l) { mlit_put(l, l->len == 0 ? "{" : ",", 1, false); }

void mlit_elem(mlit *l, const char *v, size_t n)
{
    /* One room check for the separator, the quotes and the value. */
    if (!mlit_room(l, 3 + (v == NULL ? 4 : 2 * n)))
        return;
    l->s[l->len] = l->len == 0 ? '{' : ',';
    l->len++;
    if (v == NULL) {
        memcpy(l->s + l->len, "NULL", 4);
        l->len += 4;
        return;
    }
    l->s[l->len++] = '"';
    mlit_escaped(l, v, n);
    l->s[l->len++] = '"';
}

const char *mlit_end(mlit *l)
{
    if (l->len == 0)
        mlit_put(l, "{", 1, false);
    mlit_put(l, "}", 1, false);
    if (l->oom)
        return NULL;
    l->s[l->len] = '\0';
    return l->s;
}
