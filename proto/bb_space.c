/*
 * bb_space.c: spaces at the ends of typed text (bb_space.h).
 */
#include "bb_space.h"

#include "bb_utf8.h"

bool bb_is_space(unsigned c)
{
    return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) ||
           c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

bool bb_is_blank(unsigned c)
{
    return bb_is_space(c) || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0x2028 ||
           c == 0x2029;
}

size_t bb_trim(const char *s, size_t len, size_t *start)
{
    /* One pass forward: UTF-8 cannot be walked backwards without
     * re-deciding where characters start. */
    size_t i = 0, first = len, end = 0;
    while (i < len) {
        size_t at = i;
        unsigned c = bb_utf8_next(s, len, &i);
        if (bb_is_space(c))
            continue;
        if (first == len)
            first = at;
        end = i;
    }
    *start = first == len ? len : first;
    return first == len ? 0 : end - first;
}

bool bb_blank(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len)
        if (!bb_is_blank(bb_utf8_next(s, len, &i)))
            return false;
    return true;
}
