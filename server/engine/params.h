/*
 * params.h: reading and checking a method's named arguments.
 *
 * Every getter looks a key up in the argument map, checks its type and
 * limits (and UTF-8 for strings), and on failure answers the request with
 * the right error code and field and returns -1: the handler then just
 * returns. Strings are returned borrowed (pointer + length into the
 * msgpack zone, valid until the handler returns), not NUL-terminated.
 * Unknown keys are refused (invalid_argument naming the key), so a client's
 * typo is not silently ignored: call params_check_known first.
 */
#ifndef BB_PARAMS_H
#define BB_PARAMS_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include "request.h"

typedef struct pstr {
    const char *s;       /* borrowed, not NUL-terminated; NULL when absent/nil */
    uint32_t len;
} pstr;

/* Presence of an optional argument: absent, given as nil, or given. */
typedef enum pstate { P_ABSENT = 0, P_NIL, P_SET } pstate;

/* Refuses any key not in the NULL-terminated list. */
__attribute__((warn_unused_result))
int params_check_known(request *req, const msgpack_object *args, const char *const *known);

/* String argument: required (absent or nil refused) or optional. Checks
 * UTF-8 (invalid_utf8), 1..max_chars characters, and no control characters
 * unless allow_newline (then \n \r \t allowed). */
__attribute__((warn_unused_result))
int params_str(request *req, const msgpack_object *args, const char *key, bool required,
               uint32_t max_chars, bool allow_newline, pstr *out, pstate *state);
/* Integer argument in [min, max]. */
__attribute__((warn_unused_result))
int params_int(request *req, const msgpack_object *args, const char *key, bool required,
               int64_t min, int64_t max, int64_t *out, pstate *state);
/* Date "YYYY-MM-DD" (a real calendar date). Written into out[11]. */
__attribute__((warn_unused_result))
int params_date(request *req, const msgpack_object *args, const char *key, bool required,
                char out[11], pstate *state);
/* Array of strings, each checked as params_str; at most max_items. The
 * result is a PostgreSQL array literal in text form ({"a","b"}) written to
 * a malloc'd string in *out_literal (caller frees). Every element is
 * double-quoted with " and \ escaped. Duplicates are refused; element
 * errors name the element ("labels[2]"). Absent: *out_literal = NULL and
 * state P_ABSENT. nil is refused (an array argument is never nil-able). */
__attribute__((warn_unused_result))
int params_str_array(request *req, const msgpack_object *args, const char *key,
                     uint32_t max_items, uint32_t max_chars, char **out_literal,
                     pstate *state);

#endif
