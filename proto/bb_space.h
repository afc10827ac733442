/*
 * bb_space.h: the spaces at the ends of a text a person typed, and which
 * texts are blank, for client and server alike (one definition, so the
 * client's forgiving input and the server's check agree).
 *
 * People paste names with a trailing space, and a Chinese input method
 * types the ideographic space U+3000; neither is part of what they mean.
 * A space here is U+0020 and every Unicode space separator (U+00A0,
 * U+1680, U+2000..U+200A, U+202F, U+205F, U+3000), plus the invisible
 * U+200B (zero width space) and U+FEFF (a byte order mark pasted from a
 * file). Tabs and line breaks are not spaces: in a one-line text they are
 * control characters (refused, never quietly dropped), in a long text its
 * writer's layout. A blank is a space, a line break or a tab (\t \n \v \f
 * \r, U+0085, U+2028, U+2029): a text of blanks only says nothing.
 *
 * Not for: spaces inside a text (kept as typed), full-width forms
 * (client/input.h folds those in machine forms), control characters
 * (bb_utf8_has_control).
 */
#ifndef BB_SPACE_H
#define BB_SPACE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether code point c is a space (above). */
bool bb_is_space(unsigned c);
/* Whether c is a space, a line break or a tab. */
bool bb_is_blank(unsigned c);

/* The part of valid UTF-8 s[0..len) without the spaces at both ends:
 * returns its length and sets *start to its first byte. */
size_t bb_trim(const char *s, size_t len, size_t *start);
/* Whether valid UTF-8 s[0..len) is empty or only blanks. */
bool bb_blank(const char *s, size_t len);

#endif
