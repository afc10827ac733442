/*
 * bb_errors.h: the one table of error codes a client can see.
 *
 * Codes are stable strings on the wire (the `code` of an error map); this
 * enum is their C spelling. Adding a code means adding it here, in
 * bb_errors.c, and to the table in proto/PROTOCOL.md, and a test that makes
 * a real request produce it. Client-side codes (no server involved) are in
 * client/baobao.h.
 */
#ifndef BB_ERRORS_H
#define BB_ERRORS_H

#include <stddef.h>

typedef enum bb_err {
    BB_OK = 0,
    BB_E_MALFORMED_MESSAGE,   /* "malformed_message" */
    BB_E_MESSAGE_TOO_LARGE,   /* "message_too_large" */
    BB_E_NESTING_TOO_DEEP,    /* "nesting_too_deep" */
    BB_E_TOO_MANY_IN_FLIGHT,  /* "too_many_in_flight" */
    BB_E_UNKNOWN_METHOD,      /* "unknown_method" */
    BB_E_INVALID_ARGUMENT,    /* "invalid_argument" */
    BB_E_INVALID_UTF8,        /* "invalid_utf8" */
    BB_E_NOT_FOUND,           /* "not_found" */
    BB_E_VERSION_CONFLICT,    /* "version_conflict" */
    BB_E_ALREADY_EXISTS,      /* "already_exists" */
    BB_E_IDEMPOTENCY_KEY_REUSED, /* "idempotency_key_reused" */
    BB_E_UNAVAILABLE,         /* "unavailable" */
    BB_E_SHUTTING_DOWN,       /* "shutting_down" */
    BB_E_INTERNAL,            /* "internal" */
    BB_E_UNAUTHENTICATED,     /* "unauthenticated": not logged in */
    BB_E_FORBIDDEN,           /* "forbidden": role or scope does not allow it */
    BB_E_LOGIN_FAILED,        /* "login_failed": unknown user or wrong password */
    BB_E_LOCKED,              /* "locked": too many failed logins, wait */
    BB_E__COUNT
} bb_err;

/* Returns the wire string of a code ("internal" for out-of-range values;
 * "ok" for BB_OK, which is never sent). Static storage. */
const char *bb_err_code(bb_err e);
/* Returns the code for a wire string s[0..len) (not NUL-terminated), or
 * BB_E__COUNT when unknown ("ok" is unknown: it is not a wire code). */
bb_err bb_err_from_code(const char *s, size_t len);

#endif
