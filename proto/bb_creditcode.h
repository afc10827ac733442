/*
 * bb_creditcode.h: the unified social credit code (统一社会信用代码,
 * GB 32100-2015), checked as ../shared/DOMAIN.md describes.
 *
 * 18 characters from 0-9 and A-Z without I, O, S, V, Z; the 18th is the
 * check character: 31 - (sum of value*weight over positions 1..17 mod 31),
 * where 31 maps to 0. An 18-digit ID-card number fails: it either has a
 * wrong check character, or its 3rd-4th digits (a prefecture within the
 * province) are not a province code where the credit code's region code
 * starts. Shared by server (the edge check) and
 * client (early feedback).
 */
#ifndef BB_CREDITCODE_H
#define BB_CREDITCODE_H

#include <stddef.h>

typedef enum bb_cc_result {
    BB_CC_OK = 0,
    BB_CC_BAD_LENGTH,       /* not exactly 18 characters */
    BB_CC_BAD_CHARACTER,    /* a character outside the code's alphabet */
    BB_CC_BAD_AUTHORITY,    /* 1st not a registering authority (1-9, A, N, Y) or
                               2nd not a kind digit 1-9 */
    BB_CC_BAD_REGION,       /* 3rd-8th not six digits starting with a province
                               code (10 central, 11-15, 21-23, 31-37, 41-46,
                               50-54, 61-65, 71, 81, 82) */
    BB_CC_BAD_CHECK,        /* check character does not match */
} bb_cc_result;

/* Checks s[0..len) (not NUL-terminated). The checks run in the order of the
 * enum (length, characters, authority, region, check character) and the
 * first that fails is returned. Length counts characters (code points), so
 * 18 Chinese characters are BAD_CHARACTER, not BAD_LENGTH. Lower case is
 * BAD_CHARACTER. */
__attribute__((warn_unused_result))
bb_cc_result bb_creditcode_check(const char *s, size_t len);
/* A short English reason for a result, for error messages, e.g. "must be 18
 * characters", "check character does not match" (static storage; the
 * server prefixes "credit_code: "). */
const char *bb_creditcode_reason(bb_cc_result r);

#endif
