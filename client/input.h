/*
 * input.h: text as people type it, turned into the one form the protocol
 * stores ("forgiving input, strict storage"). The packer (args.c) applies
 * these by an argument's declared type; the CLI's money (money.h) and
 * number options read through them too, so there is one reader of each
 * form.
 *
 * What is forgiven:
 *   - spaces at the ends of every text (bb_space.h: also U+3000 and the
 *     other Unicode spaces);
 *   - in machine forms (numbers, dates, yes/no, codes, names from a fixed
 *     list), the full-width forms a Chinese input method types: U+FF01..
 *     U+FF5E fold to ASCII U+0021..U+007E (８５６ -> 856, ＡＢ -> AB,
 *     ， -> ,) and U+3000 to a space;
 *   - int: 856万, 856 万元, 1.2亿, 1,234,567, 12.5万, 3元 -> exact integers
 *     (integer arithmetic only; a value that is not a whole number of
 *     units, such as 1.5 or 1.00001万, is refused, never rounded; a group
 *     separator, , or _, stands only between groups of three digits: 1,5
 *     is refused, not read as 15);
 *   - date: 2026-12-05, 2026/12/5, 2026.12.5, 20261205, 2026年12月5日 (日 or
 *     号, or neither), 12月5日 (this year's, or last year's when this
 *     year's is more than about six months ahead), 今天/今日, 昨天/昨日,
 *     前天, today, yesterday -> YYYY-MM-DD;
 *   - bool: true/false, yes/no, 1/0, 是/否 (any case).
 *
 * "Today" is the server's (its time_zone, server.info's today), never
 * this machine's: the forms that need it get it from a provider set once
 * per process (bbi_input_set_today); without one they are refused.
 *
 * Pure functions, except the provider. Not for: the rules the server
 * checks (ranges, lengths, allowed values), which record a name means
 * (the CLI's resolve.c), or free text (names and notes keep what was
 * typed between the ends).
 */
#ifndef BB_CLIENT_INPUT_H
#define BB_CLIENT_INPUT_H

#include "client_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for a reason (why a text was refused); longer ones are cut. */
#define BBI_INPUT_WHY 200
/* "YYYY-MM-DD" and its NUL. */
#define BBI_DATE_BUF 11

/* Results of the readers below. */
enum {
    BBI_IN_OK = 0,
    BBI_IN_BAD = -1,         /* not of the form: why says what is wrong */
    BBI_IN_NEED_TODAY = -2,  /* a date relative to today, and today was not given */
};

/*
 * Copies the part of s[0..len) between its end spaces (bb_trim: tabs and
 * line breaks are not spaces) into out, with, when machine, the
 * full-width forms folded to ASCII; out must hold len + 1 bytes (the
 * result is never longer) and is NUL-terminated. s must be valid UTF-8.
 * Returns the length written.
 */
size_t bbi_input_clean(const char *s, size_t len, bool machine, char *out);

/* An integer as above. BBI_IN_OK and *out, or BBI_IN_BAD and why. */
__attribute__((warn_unused_result))
int bbi_input_int(const char *text, int64_t *out, char *why, size_t whylen);

/* A date as above into out ("YYYY-MM-DD"). today: the server's today as
 * "YYYY-MM-DD", or NULL when not known (then the relative forms and
 * "12月5日" answer BBI_IN_NEED_TODAY). */
__attribute__((warn_unused_result))
int bbi_input_date(const char *text, const char *today, char out[BBI_DATE_BUF], char *why,
                   size_t whylen);

/* Yes or no as above. BBI_IN_OK and *out, or BBI_IN_BAD. */
__attribute__((warn_unused_result))
int bbi_input_bool(const char *text, bool *out);

/* ---- where today comes from ----
 *
 * A provider writes the server's today ("YYYY-MM-DD") into out and
 * returns BB_C_OK, or fills err. The CLI sets one that asks server.info
 * on its connection (client/resolve.c); bb_call_args asks the connection
 * it was given, whatever is set here. The setting is process-wide and
 * not thread-safe: set it before calls start. fn NULL removes it. */
typedef int (*bbi_today_fn)(void *ud, char out[BBI_DATE_BUF], bb_error *err);
void bbi_input_set_today(bbi_today_fn fn, void *ud);
/* Calls the provider; BB_C_EARG "invalid_argument" (field: name) when
 * there is none. */
BBI_WUR int bbi_input_today(const char *name, char out[BBI_DATE_BUF], bb_error *err);

#endif
