/*
 * money.c: formatting and reading whole-yuan amounts. See money.h.
 * Integer arithmetic only: money is never a float here.
 */
#include "money.h"

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
    bool neg = false;
    size_t i = 0;
    if (s[i] == '-') {
        neg = true;
        i++;
    }
    uint64_t whole = 0;
    size_t ndigits = 0;
    for (; s[i] != '\0'; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                return -1;
            whole = whole * 10 + (uint64_t)(s[i] - '0');
            ndigits++;
        } else if ((s[i] == ',' || s[i] == '_') && ndigits > 0 && s[i + 1] >= '0' &&
                   s[i + 1] <= '9') {
            continue;
        } else {
            break;
        }
    }
    if (ndigits == 0)
        return -1;
    /* Decimal part: kept as digits and scaled once the unit is known. */
    uint64_t frac = 0;
    unsigned nfrac = 0;
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (nfrac >= 8)
                return -1;          /* finer than a yuan even in 亿 */
            frac = frac * 10 + (uint64_t)(s[i] - '0');
            nfrac++;
            i++;
        }
        if (nfrac == 0)
            return -1;
    }
    const char *unit = s + i;
    unsigned scale_exp;   /* yuan per unit = 10^scale_exp */
    if (strcmp(unit, "") == 0 || strcmp(unit, "元") == 0)
        scale_exp = 0;
    else if (strcmp(unit, "万") == 0 || strcmp(unit, "万元") == 0)
        scale_exp = 4;
    else if (strcmp(unit, "亿") == 0 || strcmp(unit, "亿元") == 0)
        scale_exp = 8;
    else
        return -1;
    if (nfrac > scale_exp) {
        /* Only zeros may stand past the yuan. */
        for (unsigned k = scale_exp; k < nfrac; k++) {
            if (frac % 10 != 0)
                return -1;
            frac /= 10;
        }
        nfrac = scale_exp;
    }
    uint64_t scale = 1;
    for (unsigned k = 0; k < scale_exp; k++)
        scale *= 10;
    uint64_t fscale = 1;
    for (unsigned k = nfrac; k < scale_exp; k++)
        fscale *= 10;
    if (whole > UINT64_MAX / scale)
        return -1;
    uint64_t v = whole * scale;
    uint64_t f = frac * fscale;
    if (v > UINT64_MAX - f)
        return -1;
    v += f;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}
