/*
 * bb_utf8.c: strict UTF-8 validation and the small decoders the edge checks
 * need (see bb_utf8.h).
 *
 * For: deciding whether a str from the wire may go further (valid, no NUL,
 * no control characters) and counting its characters for length limits.
 * Not for: display width or normalisation.
 */
#include "bb_utf8.h"

#include <stdint.h>

/*
 * Length of the valid sequence at s[i], or 0 when it is invalid (overlong,
 * surrogate, above U+10FFFF, truncated, bad continuation, or a NUL byte).
 * Ranges follow RFC 3629 section 4 (the second byte's range depends on the
 * first byte).
 */
static size_t seq_len(const unsigned char *s, size_t len, size_t i)
{
    unsigned char b = s[i];
    size_t left = len - i;
    if (b < 0x80)
        return b == 0 ? 0 : 1;
    if (b < 0xc2)
        return 0;                               /* continuation, or overlong C0/C1 */
    /* The sequence's length from its first byte, and the range of its
     * second byte; every later byte is a plain continuation 80..BF. */
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (b < 0xe0) {
        n = 2;
    } else if (b < 0xf0) {
        n = 3;
        if (b == 0xe0)
            lo = 0xa0;                          /* overlong */
        else if (b == 0xed)
            hi = 0x9f;                          /* surrogates */
    } else if (b < 0xf5) {
        n = 4;
        if (b == 0xf0)
            lo = 0x90;                          /* overlong */
        else if (b == 0xf4)
            hi = 0x8f;                          /* above U+10FFFF */
    } else {
        return 0;                               /* F5..FF never occur */
    }
    if (left < n || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
    return n;
}

bool bb_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs are the common case in keys and codes. */
        if (u[i] >= 0x01 && u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = seq_len(u, len, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t bb_utf8_chars(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (u[i] & 0xc0) != 0x80;
    return n;
}

unsigned bb_utf8_next(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    if (*i >= len)
        return 0;
    size_t n = seq_len(u, len, *i);
    unsigned c = u[*i];
    if (n == 0) {
        /* Not valid here (the caller broke the contract, or a NUL byte):
         * step one byte and report U+FFFD, or U+0000 for a NUL. */
        (*i)++;
        return c == 0 ? 0 : 0xfffdu;
    }
    switch (n) {
    case 1: break;
    case 2: c = ((c & 0x1fu) << 6) | (u[*i + 1] & 0x3fu); break;
    case 3: c = ((c & 0x0fu) << 12) | ((u[*i + 1] & 0x3fu) << 6) | (u[*i + 2] & 0x3fu); break;
    default:
        c = ((c & 0x07u) << 18) | ((u[*i + 1] & 0x3fu) << 12) | ((u[*i + 2] & 0x3fu) << 6) |
            (u[*i + 3] & 0x3fu);
        break;
    }
    *i += n;
    return c;
}

bool bb_utf8_has_control(const char *s, size_t len, bool allow_newline)
{
    /* Byte by byte, without decoding (every str argument of every request
     * runs this): C0 controls and DEL are single bytes, and a C1 control
     * (U+0080..U+009F) is always the pair C2 80..C2 9F, since C2 is never
     * a continuation byte, so the answer is the same as decoding, for
     * valid and invalid input alike. */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = u[i];
        if (b < 0x20) {
            if (allow_newline && (b == '\n' || b == '\r' || b == '\t'))
                continue;
            return true;
        }
        if (b == 0x7f || (b == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f))
            return true;                        /* DEL and C1 */
    }
    return false;
}
