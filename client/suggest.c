/*
 * suggest.c: the closest words to a mistyped one (suggest.h).
 *
 * The distance is the optimal string alignment distance (Levenshtein with
 * a swap of two neighbours costing 1, as in "sumbit"): the commonest
 * typing slips each cost one. Computed over bytes with three rows on the
 * stack; words are short (commands and options), longer ones are never
 * compared.
 */
#include "suggest.h"

#include <stdio.h>
#include <string.h>

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > SUGGEST_MAX_WORD || lb > SUGGEST_MAX_WORD)
        return SUGGEST_FAR;
    /* prev2, prev, cur: rows i-2, i-1, i of the table over b's prefixes. */
    size_t rows[3][SUGGEST_MAX_WORD + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

size_t suggest_limit(size_t len)
{
    return len <= 4 ? 1 : len <= 8 ? 2 : 3;
}

size_t suggest(const char *word, const char *const *cands, size_t ncands, const char **out,
               size_t max)
{
    if (max > SUGGEST_MAX)
        max = SUGGEST_MAX;
    size_t n = 0, wlen = strlen(word);
    size_t limit = suggest_limit(wlen);
    /* Closest first: every distance from 1 up to the limit in turn, so
     * that ties keep the order of cands. */
    for (size_t d = 1; d <= limit && n < max; d++)
        for (size_t i = 0; i < ncands && n < max; i++)
            if (cands[i] != NULL && suggest_distance(word, cands[i]) == d)
                out[n++] = cands[i];
    if (n > 0 || wlen < 2)
        return n;
    /* Nothing close: maybe the beginning of a word ("enter" for
     * enterprise). */
    for (size_t i = 0; i < ncands && n < max; i++)
        if (cands[i] != NULL && strlen(cands[i]) > wlen && strncmp(cands[i], word, wlen) == 0)
            out[n++] = cands[i];
    return n;
}

void suggest_list(char *out, size_t cap, const char *word, const char *const *cands,
                  size_t ncands)
{
    const char *best[SUGGEST_MAX];
    size_t n = suggest(word, cands, ncands, best, SUGGEST_MAX);
    size_t used = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i > 0 ? ", " : "", best[i]);
        used += w > 0 ? (size_t)w : 0;
    }
}
