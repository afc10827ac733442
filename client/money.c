/*
 * money.c: formatting and reading whole-yuan amounts. See money.h.
 * Integer arithmetic only: money is never a float here.
 */
#include "money.h"

#include "input.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* |v| as unsigned, safe for INT64_MIN. */
static uint64_t magnitude(int64_t v)
{
    return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

void money_yuan(int64_t yuan, char *out, size_t cap)
{
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, magnitude(yuan));
    size_t nd = strlen(digits);   /* at most 20 */
    char buf[MONEY_BUF];          /* sign + 20 digits + 6 commas fit */
    size_t k = 0;
    if (yuan < 0)
        buf[k++] = '-';
    for (size_t i = 0; i < nd && k + 2 < sizeof buf; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = digits[i];
    }
    buf[k] = '\0';
    snprintf(out, cap, "%s", buf);
}

void money_wan(int64_t yuan, char *out, size_t cap)
{
    uint64_t m = magnitude(yuan);
    uint64_t whole = m / 10000, frac = m % 10000;
    char fbuf[8] = "";
    if (frac != 0) {
        /* frac is 1..9999: ".0001" .. ".9999", trailing zeros dropped */
        unsigned digits = 4;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        snprintf(fbuf, sizeof fbuf, ".%0*" PRIu64, (int)digits, frac);
    }
    snprintf(out, cap, "%s%" PRIu64 "%s", yuan < 0 ? "-" : "", whole, fbuf);
}

int money_parse(const char *s, int64_t *out)
{
    /* The packer's reader (input.h): one reading of an amount for the
     * options, the packer and the import's cells. */
    return bbi_input_int(s, out, NULL, 0) == BBI_IN_OK ? 0 : -1;
}
