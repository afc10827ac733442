/*
 * method.h: how a method of the spec (proto/bb_spec.h) is run: its checked
 * arguments (margs), its implementation row (method_impl), and the
 * statements it runs by parameter name (mstmt).
 *
 * A method is declared once, in proto/spec/<area>.c. Its implementation
 * row in server/methods/<area>.c says what runs when the dispatcher has
 * passed the gate (roles) and the argument checks (args.c) of the spec:
 *   - a statement and a reply kind (MR_ROW, MR_PAGE): the engine binds
 *     the statement's :name parameters from the checked arguments, runs it
 *     and answers from its rows; no C code for the method at all;
 *   - or a handler fn that receives the checked arguments and answers
 *     (usually through mstmt_query, whose callback sees only good rows).
 *
 * Statements name their parameters: `:name` is the argument of that name
 * (NULL when absent or nil), `:name_set` is true when the argument was
 * given (also as nil: "absent = unchanged, nil = clear"), and the context
 * values are `:_actor` (the caller's user id, bigint), `:_addr` (the peer
 * address, text), `:_scope` (the read scope: the user id of township
 * staff, else NULL) and `:_today` (today in time_zone). `:_x` names listed
 * in `extras` are values the handler passes. Casts are written in the
 * text (`:version::int`); quoted literals and `::` are left alone.
 *
 * Ownership: margs is the dispatcher's, valid until the handler returns
 * (strings borrow the request's msgpack zone); mstmt objects are static,
 * registered once before the pool starts, and compiled in place.
 */
#ifndef BB_METHOD_H
#define BB_METHOD_H

#include <libpq-fe.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "bb_spec.h"
#include "pool.h"
#include "request.h"
#include "rowpack.h"

/* ---- checked arguments ---- */

typedef enum bb_vstate { BB_V_ABSENT = 0, BB_V_NIL, BB_V_SET } bb_vstate;

typedef struct bb_val {
    bb_vstate state;
    int64_t i;                   /* INT; BOOL as 0 / 1 */
    const char *s;               /* STR, TEXT: borrowed bytes; DATE: text;
                                    STRS: a PostgreSQL array literal */
    uint32_t len;                /* bytes of s */
    const msgpack_object *obj;   /* the value as sent (ANY, STRS) */
    char text[24];               /* INT, BOOL, DATE as SQL text */
} bb_val;

typedef struct margs {
    const bb_method_spec *spec;
    unsigned n;
    const bb_arg *arg[BB_SPEC_MAX_ARGS];
    bb_val v[BB_SPEC_MAX_ARGS];
    char *owned[BB_SPEC_MAX_ARGS]; /* STRS literals; freed by margs_free */
} margs;

/* Checks the argument map against spec (section 6 of PROTOCOL.md: unknown
 * keys, then each argument in declared order) and fills a, with defaults
 * applied (after 0, limit page_limit_default, BB_A_TODAY dates today).
 * On failure answers req (the request has ended) and returns -1. */
__attribute__((warn_unused_result))
int margs_check(request *req, const bb_method_spec *spec, const msgpack_object *map, margs *a);

/* The same checks, the first error written to err instead of answered:
 * for maps that are not a request's own arguments (the rows of an
 * import, checked as the method of one row would check them). cfg may be
 * NULL (then limit's bounds are the protocol's). Returns 0 or -1. */
typedef struct margs_error {
    bb_err code;
    bool has_field;              /* false: the error names no argument */
    char field[128];
    char message[768];
} margs_error;
struct config;
__attribute__((warn_unused_result))
int margs_check_into(const bb_method_spec *spec, const msgpack_object *map,
                     const struct config *cfg, margs *a, margs_error *err);
void margs_free(margs *a);
/* A copy of a that outlives the request (for work that continues after
 * the handler returned, such as hashing a password first): strings are
 * copied (into the same allocation), secret arguments left out (absent).
 * NULL when out of memory. Free with margs_free, then free(). */
margs *margs_dup(const margs *a);

/* The value of the argument named name; a programming error (aborts) when
 * the spec has no such argument. */
const bb_val *margs_get(const margs *a, const char *name);
static inline bool margs_set(const margs *a, const char *name)
{
    return margs_get(a, name)->state == BB_V_SET;
}
/* INT / BOOL value, or dflt when not set. */
int64_t margs_int(const margs *a, const char *name, int64_t dflt);

/* ---- statements by parameter name ---- */

#define MSTMT_MAX_PARAMS 40

typedef struct mstmt {
    const char *name;            /* prepared statement name, unique */
    const char *sql;             /* text with :name parameters */
    const rp_col *cols;          /* the columns the rows must have (NULL:
                                    not checked) */
    int ncols;
    const char *const *extras;   /* names of :_x values the handler passes,
                                    NULL-ended; NULL: none */
    bool heavy;                  /* pool_register_heavy */
    /* Filled by mstmt_register: */
    pool_stmt ps;
    char *text;                  /* owned: the text with $n */
    uint8_t nparams;
    struct mstmt_param {
        uint8_t kind;            /* MP_ARG, MP_SET, MP_CTX_*, MP_EXTRA */
        uint8_t extra;           /* MP_EXTRA: index into extras */
        char name[48];           /* the argument's name (MP_ARG, MP_SET) */
    } params[MSTMT_MAX_PARAMS];
} mstmt;

/* Compiles and registers st with the pool (before pool_start). 0 or -1
 * (logged: an unknown :name, too many parameters, out of memory, or the
 * pool's table full). */
__attribute__((warn_unused_result))
int mstmt_register(mstmt *st);

/* The arguments every write function of sql/ takes first, by the same
 * names: the caller, their address (for the audit trail) and the optional
 * idempotency_key BB_M_WRITE adds. Written once so no write can forget one. */
#define WRITE_PREFIX "p_actor => :_actor, p_addr => :_addr, p_key => :idempotency_key"

/* Called with the rows of a successful query that passed the statement's
 * column check; errors were answered by the engine already. ctx is the
 * handler's; the callback answers req exactly once. */
typedef void (*mstmt_cb)(request *req, const PGresult *res, void *ctx);

/* Runs st with values bound from a (may be NULL when st names no
 * argument), the request's context and extra (the handler's values for
 * st->extras, in order; NULL text = SQL NULL). Errors of the pool and of
 * the result are answered for the caller, ctx passed to done_err (may be
 * NULL) so it can free it. */
void mstmt_query(request *req, mstmt *st, const margs *a, const char *const *extra, mstmt_cb cb,
                 void *ctx, void (*done_err)(void *ctx));

/* The same binding, with the pool's raw callback: for handlers that must
 * do their own work on an error before answering (a login ends its
 * password job first). Returns pool_query's result: 0 (cb runs once) or a
 * negative bb_err (cb will not run; -BB_E_INTERNAL when today could not
 * be had). */
__attribute__((warn_unused_result))
int mstmt_send(request *req, mstmt *st, const margs *a, const char *const *extra, pool_cb cb,
               void *arg);

/* The read scope as a filter on a township id column, for statements
 * that read rows a township staff user may not see: everyone's rows when
 * :_scope is NULL, else only those of the user's townships. Written out,
 * not the SQL function bb_scope_has: a function with a subquery is never
 * inlined, and a call per row cost enterprise.get and .list a third of
 * their rate in ./scripts/bench (2026-12-07). */
#define SCOPE_HAS(col)                                                                  \
    "(:_scope::bigint IS NULL OR " col " IN (SELECT ut.township_id"                      \
    " FROM app_user_township ut WHERE ut.user_id = :_scope::bigint))"

/* ---- implementation rows ---- */

typedef enum method_reply {
    MR_CUSTOM = 0,   /* fn answers */
    MR_ROW,          /* one row: the record; none: not_found (field id,
                        "<what> <id> does not exist") */
    MR_PAGE,         /* {items, next}: the statement asks limit + 1 rows in
                        its cursor's order: by default its first column,
                        an int id, in whichever direction the statement's
                        own `after` condition pages */
} method_reply;

/* How rows become records when the statement's columns are not the
 * whole story (MR_ROW, MR_PAGE, mreply_rows). All fields optional. */
typedef struct mshape {
    int nwire;                   /* pack only the first nwire columns (the
                                    rest serve the cursor); 0: all */
    /* A record of its own shape (a nested array, a decoded JSON cell);
     * returns -1 for a row it cannot pack (answered `internal`). */
    int (*pack)(msgpack_packer *pk, const PGresult *res, int row);
    /* MR_PAGE: packs the `next` cursor of the last row shown; NULL: that
     * row's first column, an int. */
    void (*next)(msgpack_packer *pk, const PGresult *res, int row);
} mshape;

typedef struct method_impl {
    const char *name;            /* the spec's method name; NULL ends */
    void (*fn)(request *req, const margs *a);  /* MR_CUSTOM */
    mstmt *stmt;                 /* MR_ROW, MR_PAGE */
    method_reply reply;
    const char *what;            /* MR_ROW: "official" in not_found */
    const char *not_found_key;   /* MR_ROW: the argument not_found names
                                    (field and id in the message); NULL:
                                    "id" */
    const mshape *shape;         /* MR_ROW, MR_PAGE: NULL: the columns */
    /* MR_ROW, MR_PAGE: rules across arguments, or beyond what the spec
     * can say, checked before the statement runs; answers and returns -1
     * when one is broken. NULL: none. */
    int (*check)(request *req, const margs *a);
    /* The database answered `unauthenticated` (the caller was disabled or
     * deleted since the login): log this connection out too, unless it is
     * someone else by now (session.*, user.*: PROTOCOL.md section 3). */
    bool logout_on_unauthenticated;
} method_impl;

/* An area of methods (server/methods/<area>.c): its implementation rows,
 * its statements, and what it does at start and stop. main.c registers
 * every module listed in methods/modules.c before the pool starts. */
struct server;
typedef struct method_module {
    const char *name;
    const method_impl *methods;           /* NULL-name-ended; NULL: none */
    mstmt *const *stmts;                  /* the statements handlers run,
                                             NULL-ended (those of .stmt rows
                                             are registered anyway) */
    const pool_constraint *constraints;   /* unique keys clients may hit,
                                             NULL-name-ended; NULL: none */
    int (*start)(struct server *s);       /* after the pool exists; NULL */
    void (*stop)(struct server *s);       /* at shutdown, once; NULL */
} method_module;

/* Registers a module's statements and methods. 0 or -1 (logged). */
__attribute__((warn_unused_result)) int method_module_register(const method_module *mod);

/* The implementation row of the request's method (static). */
const method_impl *req_impl(const request *req);
/* The spec of the request's method (static; NULL for an unknown method). */
const bb_method_spec *req_spec(const request *req);
/* Where the request's statements go (mstmt.c), decided at its first one
 * so that all of them read the same server. */
enum { REQ_ROUTE_UNSET = 0, REQ_ROUTE_PRIMARY, REQ_ROUTE_REPLICA };
uint8_t req_route(const request *req);
void req_set_route(request *req, uint8_t route);

/* Packs the rows of a page ({items, next}) for a statement that asked
 * limit + 1 rows: next is the first column of the last row shown. */
void mreply_page(request *req, const PGresult *res, const rp_col *cols, int ncols, int64_t limit);
/* The same, with a shape (may be NULL); stmt names the statement in the
 * log when a row cannot be packed. */
void mreply_rows(request *req, const char *stmt, const PGresult *res, const rp_col *cols,
                 int ncols, const mshape *shape, int64_t limit);
/* Runs st (which asks `LIMIT :limit::int + 1`) and answers its rows as a
 * page of the `limit` argument ({items, next}, mreply_rows; shape may be
 * NULL): an MR_PAGE row, for a handler that must check something or
 * compute extras first (a parsed cursor). */
void mstmt_query_page(request *req, mstmt *st, const margs *a, const char *const *extra,
                      const mshape *shape);

/* Packs every row as {items} (no `next`): a whole list that is never
 * paged (a history, an import's answer). */
void mreply_items(request *req, const PGresult *res, const rp_col *cols, int ncols);

/* A PostgreSQL array literal built element by element (the array values
 * of a group-commit batch or an import): an element is NULL or
 * double-quoted with " and \ escaped, so "NULL", commas, braces and spaces
 * stay text. Start zeroed; free(l.s) when done. */
typedef struct mlit {
    char *s;
    size_t len, cap;
    bool oom;                    /* an allocation failed: mlit_end says NULL */
} mlit;
void mlit_put(mlit *l, const char *p, size_t n, bool esc);  /* raw (esc: escaped) */
void mlit_next(mlit *l);                                    /* "{" or "," */
void mlit_elem(mlit *l, const char *v, size_t n);           /* v NULL: NULL */
/* Closes the literal ("{}" when empty); NULL when out of memory. */
const char *mlit_end(mlit *l);

/* calloc for a handler: on failure answers req `internal` and returns
 * NULL (the request has ended). */
void *req_alloc(request *req, size_t size);

#endif
