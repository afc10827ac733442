/*
 * bb_creditcode.c: the unified social credit code check (GB 32100-2015), as
 * proto/PROTOCOL.md ("Credit code") states it.
 *
 * For: refusing a code that cannot be real, with a reason a person can act
 * on. Not for: telling whether a code was ever issued (only the registry
 * knows), nor for upper-casing what a user typed (the client may do that
 * before calling; lower case is refused here, as on the wire).
 */
#include "bb_creditcode.h"

#include <stdbool.h>
#include <stdint.h>

#define CC_LEN 18u
#define CC_MOD 31

/* Positions 1..17. */
static const uint8_t cc_weights[CC_LEN - 1] = {
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
};

/* Value 0..30 of an alphabet character ("0123456789ABCDEFGHJKLMNPQRTUWXY"),
 * or -1. */
static int cc_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    switch (c) {
    case 'A': return 10; case 'B': return 11; case 'C': return 12;
    case 'D': return 13; case 'E': return 14; case 'F': return 15;
    case 'G': return 16; case 'H': return 17; case 'J': return 18;
    case 'K': return 19; case 'L': return 20; case 'M': return 21;
    case 'N': return 22; case 'P': return 23; case 'Q': return 24;
    case 'R': return 25; case 'T': return 26; case 'U': return 27;
    case 'W': return 28; case 'X': return 29; case 'Y': return 30;
    default: return -1;
    }
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_province(int p)
{
    return p == 10 || (p >= 11 && p <= 15) || (p >= 21 && p <= 23) ||
           (p >= 31 && p <= 37) || (p >= 41 && p <= 46) || (p >= 50 && p <= 54) ||
           (p >= 61 && p <= 65) || p == 71 || p == 81 || p == 82;
}

bb_cc_result bb_creditcode_check(const char *s, size_t len)
{
    if (s == NULL)
        return BB_CC_BAD_LENGTH;
    const unsigned char *u = (const unsigned char *)s;

    /* Length in characters, so "must be 18 characters" is true of text with
     * multi-byte characters too (those then fail the alphabet check). */
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += (u[i] & 0xc0) != 0x80;
    if (chars != CC_LEN)
        return BB_CC_BAD_LENGTH;
    if (len != CC_LEN)
        return BB_CC_BAD_CHARACTER;
    for (size_t i = 0; i < CC_LEN; i++)
        if (cc_value(u[i]) < 0)
            return BB_CC_BAD_CHARACTER;

    if (!((u[0] >= '1' && u[0] <= '9') || u[0] == 'A' || u[0] == 'N' || u[0] == 'Y'))
        return BB_CC_BAD_AUTHORITY;
    if (!(u[1] >= '1' && u[1] <= '9'))
        return BB_CC_BAD_AUTHORITY;

    for (size_t i = 2; i < 8; i++)
        if (!is_digit(u[i]))
            return BB_CC_BAD_REGION;
    if (!is_province((u[2] - '0') * 10 + (u[3] - '0')))
        return BB_CC_BAD_REGION;

    unsigned sum = 0;
    for (size_t i = 0; i < CC_LEN - 1; i++)
        sum += (unsigned)cc_value(u[i]) * cc_weights[i];
    int check = CC_MOD - (int)(sum % CC_MOD);
    if (check == CC_MOD)
        check = 0;
    if (cc_value(u[CC_LEN - 1]) != check)
        return BB_CC_BAD_CHECK;
    return BB_CC_OK;
}

const char *bb_creditcode_reason(bb_cc_result r)
{
    switch (r) {
    case BB_CC_OK: return "valid";
    case BB_CC_BAD_LENGTH: return "must be 18 characters";
    case BB_CC_BAD_CHARACTER:
        return "only 0-9 and upper-case A-Z without I, O, S, V, Z are allowed";
    case BB_CC_BAD_AUTHORITY:
        return "1st character must be 1-9, A, N or Y and 2nd a digit 1-9";
    case BB_CC_BAD_REGION:
        return "characters 3-8 must be a region code starting with a province code";
    case BB_CC_BAD_CHECK: return "check character does not match";
    }
    return "invalid";
}
