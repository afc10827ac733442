/*
 * money.h: whole yuan (元) shown and read the way people here write it.
 *
 * For: "1,234,567" (thousands separators), "123.4567" in 万元 (exact, no
 * floating point), and reading "1234567", "1,234,567", "123.45万",
 * "3亿元" into whole yuan. Not for: fractions of a yuan (the protocol's
 * money is whole yuan).
 */
#ifndef BB_MONEY_H
#define BB_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_BUF 40   /* enough for any int64 in either format */

/* "-1,234,567" into out (cap >= MONEY_BUF). */
void money_yuan(int64_t yuan, char *out, size_t cap);
/* The amount in 万元, exact, trailing zeros dropped: 1234567 -> "123.4567",
 * 50000 -> "5", 1 -> "0.0001". */
void money_wan(int64_t yuan, char *out, size_t cap);
/* Reads an amount as the packer reads an int (input.h: digits with
 * optional "," or "_" between groups, an optional decimal part, an
 * optional unit 元, 万, 万元, 亿 or 亿元, spaces at the ends and full-width
 * forms forgiven). Returns 0 and *out, or -1 when s is not an amount of
 * whole yuan in int64 range. */
__attribute__((warn_unused_result))
int money_parse(const char *s, int64_t *out);

#endif
