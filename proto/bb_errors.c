/*
 * bb_errors.c: the wire spelling of every error code (see bb_errors.h and
 * the table in proto/PROTOCOL.md section 5).
 *
 * For: mapping bb_err to and from the stable `code` strings.
 * Not for: messages (each caller writes its own English text).
 */
#include "bb_errors.h"

#include <string.h>

#define BB_ERR_CODE(name, code) [BB_E_##name] = code,
static const char *const err_codes[BB_E__COUNT] = {
    [BB_OK] = "ok",
    BB_ERRORS(BB_ERR_CODE)
};
#undef BB_ERR_CODE

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
