/*
 * bb_errors.h: the one table of error codes a client can see.
 *
 * Codes are stable strings on the wire (the `code` of an error map); this
 * enum is their C spelling. Adding a code means adding it to BB_ERRORS
 * below (the enum and the strings follow), a row to the table in
 * proto/PROTOCOL.md (the protocol_contract test fails without it), and a
 * test that makes a real request produce it. Client-side codes (no server involved) are in
 * client/baobao.h.
 */
#ifndef BB_ERRORS_H
#define BB_ERRORS_H

#include <stddef.h>

/* Every error a client can see, once: the enum member, its wire code.
 * The enum, bb_err_code's strings and `baobaod --api-info`'s list (which
 * tests/doc/check_protocol.py holds PROTOCOL.md's error table to) all
 * come from this list. Append only: the numbers are not on the wire, but
 * keep the order stable for logs and tests. */
#define BB_ERRORS(X)                                                                    \
    X(MALFORMED_MESSAGE, "malformed_message")                                           \
    X(MESSAGE_TOO_LARGE, "message_too_large")                                           \
    X(NESTING_TOO_DEEP, "nesting_too_deep")                                             \
    X(TOO_MANY_IN_FLIGHT, "too_many_in_flight")                                         \
    X(UNKNOWN_METHOD, "unknown_method")                                                 \
    X(INVALID_ARGUMENT, "invalid_argument")                                             \
    X(INVALID_UTF8, "invalid_utf8")                                                     \
    X(NOT_FOUND, "not_found")                                                           \
    X(VERSION_CONFLICT, "version_conflict")                                             \
    X(ALREADY_EXISTS, "already_exists")                                                 \
    X(IDEMPOTENCY_KEY_REUSED, "idempotency_key_reused")                                 \
    X(UNAVAILABLE, "unavailable")                                                       \
    X(SHUTTING_DOWN, "shutting_down")                                                   \
    X(INTERNAL, "internal")                                                             \
    X(UNAUTHENTICATED, "unauthenticated")   /* not logged in */                         \
    X(FORBIDDEN, "forbidden")               /* role or scope does not allow it */       \
    X(LOGIN_FAILED, "login_failed")         /* unknown user or wrong password */        \
    X(LOCKED, "locked")                     /* too many failed logins, wait */          \
    X(DUPLICATE_REPORT, "duplicate_report") /* same enterprise, date, reporter */

#define BB_ERR_ENUM(name, code) BB_E_##name,
typedef enum bb_err {
    BB_OK = 0,
    BB_ERRORS(BB_ERR_ENUM)
    BB_E__COUNT
} bb_err;
#undef BB_ERR_ENUM

/* Returns the wire string of a code ("internal" for out-of-range values;
 * "ok" for BB_OK, which is never sent). Static storage. */
const char *bb_err_code(bb_err e);
/* Returns the code for a wire string s[0..len) (not NUL-terminated), or
 * BB_E__COUNT when unknown ("ok" is unknown: it is not a wire code). */
bb_err bb_err_from_code(const char *s, size_t len);

#endif
