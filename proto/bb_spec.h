/*
 * bb_spec.h: every method of the protocol, declared once, as data.
 *
 * A method is its name, the roles that may call it, flags (a write takes
 * an idempotency key; a paged read takes after/limit), its arguments
 * (type, required or not, nil-able or not, limits, allowed values, the
 * reference-data kind a value must belong to) and the name of its result's
 * shape (an object of PROTOCOL.md section 6). From this one declaration:
 *   - the server's dispatcher checks arguments before any handler runs and
 *     hands the handler checked values (server/engine/args.c);
 *   - `baobaod --api-info` and the method `server.api` serve it, and
 *     tests/doc/check_protocol.py checks PROTOCOL.md's argument tables and
 *     role matrix against it;
 *   - libbaobao packs arguments from it (bb_call_args), and the CLI takes
 *     the options and help of its mechanical commands from it.
 *
 * The tables live in proto/spec/<area>.c, one per area, and are listed in
 * bb_spec_tables (proto/spec/spec.c). Everything here is static data:
 * nothing to free.
 *
 * Not for: how a method runs (server/methods/), or what it means (the
 * prose of PROTOCOL.md).
 */
#ifndef BB_SPEC_H
#define BB_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Roles are bits so a method can list the roles allowed to call it.
 * BB_ROLES_ANON lets a connection that has not logged in call it. */
typedef enum bb_role {
    BB_ROLE_NONE = 0,
    BB_ROLE_STAFF = 1u << 0,       /* "township_staff" */
    BB_ROLE_SUPERVISOR = 1u << 1,  /* "supervisor" */
    BB_ROLE_ADMIN = 1u << 2,       /* "admin" */
} bb_role;
#define BB_ROLES_ANON (1u << 3)
#define BB_ROLES_USERS (BB_ROLE_STAFF | BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN)
#define BB_ROLES_ALL (BB_ROLES_USERS | BB_ROLES_ANON)
#define BB_ROLES_BUSINESS_WRITE (BB_ROLE_STAFF | BB_ROLE_SUPERVISOR)
#define BB_ROLES_DIRECTORY_WRITE (BB_ROLE_SUPERVISOR | BB_ROLE_ADMIN)

/* The wire name of a role ("township_staff", ...; "none"); static. */
const char *bb_role_name(bb_role r);
/* The role of a wire name s[0..len); BB_ROLE_NONE when unknown. */
bb_role bb_role_from_name(const char *s, size_t len);

/* Argument types. Every check is strict: a value of another msgpack type
 * is refused, never converted. */
typedef enum bb_type {
    BB_T_INT = 1,  /* an integer in [min, max] */
    BB_T_STR,      /* UTF-8, min..max characters (bytes with BB_A_BYTES),
                      no control characters */
    BB_T_TEXT,     /* as BB_T_STR, and \n \r \t allowed */
    BB_T_DATE,     /* "YYYY-MM-DD", a calendar date */
    BB_T_BOOL,     /* true or false */
    BB_T_STRS,     /* an array of at most max BB_T_STR, each 1..item_max
                      characters, no duplicates; never nil */
    BB_T_ANY,      /* handed over unchecked: a shape the handler checks
                      itself (the rows of an import); doc says which */
} bb_type;

/* Argument flags. */
#define BB_A_REQ     (1u << 0)  /* required: absent or nil refused */
#define BB_A_NIL     (1u << 1)  /* nil accepted (absent = unchanged, nil =
                                   clear, on updates); otherwise refused */
#define BB_A_BYTES   (1u << 2)  /* STR limits count bytes, not characters */
#define BB_A_SECRET  (1u << 3)  /* a password: never logged, wiped */
#define BB_A_TODAY   (1u << 4)  /* DATE: absent = today in time_zone */
#define BB_A_NILABSENT (1u << 5) /* nil accepted and taken as absent */

typedef struct bb_arg {
    const char *name;            /* NULL ends a table */
    bb_type type;
    unsigned flags;              /* BB_A_* */
    int64_t min, max;            /* INT: range; STR/TEXT: length (0,0 =
                                    1..BB_SPEC_DEFAULT_CHARS); STRS: max
                                    items; DATE: min is the earliest
                                    date as YYYYMMDD (0: none) */
    uint32_t item_max;           /* STRS: characters of each element */
    const char *const *values;   /* STR: the values allowed (NULL-ended);
                                    NULL: any */
    const char *ref;             /* STR/STRS: the reference-data kind the
                                    value must be a current member of,
                                    checked by the database; NULL: none */
    const char *doc;             /* one line: docs and CLI help */
} bb_arg;

/* Method flags. */
#define BB_M_WRITE   (1u << 0)  /* takes idempotency_key (optional str, at
                                   most BB_MAX_IDEMPOTENCY_KEY_BYTES bytes):
                                   retried safely, audited */
#define BB_M_PAGED   (1u << 1)  /* takes after (int >= 0, default 0) and
                                   limit (1..page_limit_max, default
                                   page_limit_default); result {items, next} */
#define BB_M_LIMIT   (1u << 2)  /* takes limit only (its own cursor) */
#define BB_M_SCOPED  (1u << 3)  /* township staff see and touch only what
                                   lies in their townships */
#define BB_M_REPLICA (1u << 4)  /* a read that may be answered from the read
                                   replica (read_db): it writes nothing and
                                   its answer may be as old as the
                                   staleness rule allows (PROTOCOL.md,
                                   "Read replicas") */
#define BB_M_WRITES  (1u << 5)  /* writes to the database without taking
                                   idempotency_key (session.login, ...):
                                   with BB_M_WRITE, what makes the caller's
                                   next reads go to the primary until the
                                   replica has replayed it (replica.h) */
/* The methods whose requests count as the caller's own writes. */
#define BB_M_WRITES_ANY (BB_M_WRITE | BB_M_WRITES)

typedef struct bb_method_spec {
    const char *name;            /* "official.update"; NULL ends a table */
    unsigned roles;              /* BB_ROLE_* bits, BB_ROLES_ANON */
    unsigned flags;              /* BB_M_* */
    const bb_arg *args;          /* NULL-name-ended; the implied
                                    idempotency_key / after / limit are
                                    not listed */
    const char *result;          /* the result's shape: "Official",
                                    "page of Official", ... */
    const char *summary;         /* one line, in Chinese: help texts */
} bb_method_spec;

/* Characters of a string argument declared with min = max = 0. */
#define BB_SPEC_DEFAULT_CHARS 100
/* Most arguments one method may declare (implied ones included). */
#define BB_SPEC_MAX_ARGS 32

/* The implied arguments, as arg entries (limits of `limit` come from the
 * server's settings; max here is the protocol's ceiling). */
extern const bb_arg bb_arg_idempotency_key;
extern const bb_arg bb_arg_after;
extern const bb_arg bb_arg_limit;

/* All tables, NULL-ended (proto/spec/spec.c). */
extern const bb_method_spec *const bb_spec_tables[];

/* The method named name[0..len), or NULL. */
const bb_method_spec *bb_spec_find(const char *name, size_t len);
/* The arguments of m in the order they are checked, implied ones
 * included (idempotency_key after the declared ones, then after, limit).
 * Writes at most BB_SPEC_MAX_ARGS pointers; returns the count. */
unsigned bb_spec_args(const bb_method_spec *m, const bb_arg **out);
/* The argument of m named name, or NULL (implied ones included). */
const bb_arg *bb_spec_arg(const bb_method_spec *m, const char *name, size_t len);
/* "int", "str", "date", "bool", "array of str", "any". */
const char *bb_type_name(bb_type t);

/* A date argument's text: "YYYY-MM-DD" of a real calendar date. */
typedef enum bb_date_form { BB_DATE_OK = 0, BB_DATE_SHAPE, BB_DATE_CALENDAR } bb_date_form;
bb_date_form bb_date_check(const char *s, size_t len);

/* Writes the whole spec as JSON (baobaod --api-info). Returns 0 or -1. */
int bb_spec_write_json(FILE *f);

#endif
