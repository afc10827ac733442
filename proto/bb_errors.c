/*
 * bb_errors.c: the wire spelling of every error code (see bb_errors.h and
 * the table in proto/PROTOCOL.md section 5).
 *
 * For: mapping bb_err to and from the stable `code` strings.
 * Not for: messages (each caller writes its own English text).
 */
#include "bb_errors.h"

#include <string.h>

static const char *const err_codes[BB_E__COUNT] = {
    [BB_OK] = "ok",
    [BB_E_MALFORMED_MESSAGE] = "malformed_message",
    [BB_E_MESSAGE_TOO_LARGE] = "message_too_large",
    [BB_E_NESTING_TOO_DEEP] = "nesting_too_deep",
    [BB_E_TOO_MANY_IN_FLIGHT] = "too_many_in_flight",
    [BB_E_UNKNOWN_METHOD] = "unknown_method",
    [BB_E_INVALID_ARGUMENT] = "invalid_argument",
    [BB_E_INVALID_UTF8] = "invalid_utf8",
    [BB_E_NOT_FOUND] = "not_found",
    [BB_E_VERSION_CONFLICT] = "version_conflict",
    [BB_E_ALREADY_EXISTS] = "already_exists",
    [BB_E_IDEMPOTENCY_KEY_REUSED] = "idempotency_key_reused",
    [BB_E_UNAVAILABLE] = "unavailable",
    [BB_E_SHUTTING_DOWN] = "shutting_down",
    [BB_E_INTERNAL] = "internal",
    [BB_E_UNAUTHENTICATED] = "unauthenticated",
    [BB_E_FORBIDDEN] = "forbidden",
    [BB_E_LOGIN_FAILED] = "login_failed",
    [BB_E_LOCKED] = "locked",
};

const char *bb_err_code(bb_err e)
{
    /* BB_OK is never sent as a code; it has a name only for logs. */
    if ((unsigned)e >= BB_E__COUNT)
        return "internal";
    return err_codes[e];
}

bb_err bb_err_from_code(const char *s, size_t len)
{
    if (s == NULL)
        return BB_E__COUNT;
    /* Start at 1: "ok" is not a wire code. */
    for (unsigned i = 1; i < BB_E__COUNT; i++) {
        const char *c = err_codes[i];
        if (strlen(c) == len && memcmp(c, s, len) == 0)
            return (bb_err)i;
    }
    return BB_E__COUNT;
}
