/*
 * bb_utf8.h: UTF-8 checks for text crossing the edge.
 *
 * Strict RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
 * above U+10FFFF. Used by the server on every incoming string and by the
 * client before it sends. Display width is the client's business
 * (client/table.c), not this file's.
 */
#ifndef BB_UTF8_H
#define BB_UTF8_H

#include <stddef.h>
#include <stdbool.h>

/* True when s[0..len) is valid UTF-8. Embedded NUL bytes are refused too:
 * PostgreSQL text cannot hold them. */
bool bb_utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8 s[0..len) (bytes that are not
 * continuation bytes, so it is defined, if meaningless, for any bytes). */
size_t bb_utf8_chars(const char *s, size_t len);
/* True when s has a control character: C0 (U+0000..U+001F), DEL (U+007F) or
 * C1 (U+0080..U+009F). When allow_newline is set, '\n', '\r' and '\t' are
 * allowed. s must be valid. */
bool bb_utf8_has_control(const char *s, size_t len, bool allow_newline);
/* Decodes the code point at s[*i], advancing *i; s must be valid UTF-8.
 * At an invalid byte it steps one byte and returns U+FFFD; at *i >= len it
 * returns 0 and does not advance. */
unsigned bb_utf8_next(const char *s, size_t len, size_t *i);

#endif
