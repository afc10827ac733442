/*
 * json.h: a msgpack_object written as JSON, for `baobao --json`.
 *
 * For: any object a reply holds: maps, arrays, str (UTF-8 passed through,
 * quotes, backslashes and control characters escaped, invalid bytes as
 * \ufffd), ints (full 64-bit range), floats, bool, nil. bin is written as
 * a string of its bytes (escaped like str), ext as null: the protocol
 * sends neither. A map key that is not a str is written as the JSON text
 * of the key, in a string.
 * Not for: parsing JSON, or streaming output larger than memory.
 */
#ifndef BB_JSON_H
#define BB_JSON_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

/* Output being built; data is NUL-terminated, owned, freed by json_out_free. */
typedef struct json_out {
    char *data;
    size_t len, cap;
    bool failed;    /* an allocation failed: data is incomplete */
} json_out;

void json_out_init(json_out *j);
void json_out_free(json_out *j);
/* Appends s[0..len) as a JSON string, quotes included. */
void json_string(json_out *j, const char *s, size_t len);
/* Appends o. indent < 0: on one line, no spaces; indent >= 0: pretty, with
 * that many spaces per level. */
void json_value(json_out *j, const msgpack_object *o, int indent);
/* Appends raw text. */
void json_raw(json_out *j, const char *s, size_t len);

#endif
