/*
 * suggest.h: "did you mean": the words closest to one that was mistyped.
 *
 * For: an unknown command, subcommand or option of `baobao` (`status
 * sumbit` -> `status submit`, `--enterprse` -> `--enterprise`): the
 * candidates within a small edit distance (insertions, deletions,
 * substitutions, and two neighbours swapped, each costing 1), and the
 * candidates the typed word is a beginning of. Pure functions over bytes
 * (commands and options are ASCII), no allocation.
 * Not for: names of records (resolve.c asks the server), or wording the
 * suggestion (the callers, in the user's language).
 */
#ifndef BB_CLI_SUGGEST_H
#define BB_CLI_SUGGEST_H

#include <stddef.h>

/* Words longer than this are never close to anything (their distance is
 * not computed: SUGGEST_FAR). */
#define SUGGEST_MAX_WORD 64
/* The distance of words too long to compare. */
#define SUGGEST_FAR ((size_t)-1)
/* Suggestions given at most (the callers' buffers). */
#define SUGGEST_MAX 3

/* The optimal string alignment distance of a and b: the fewest
 * insertions, deletions, substitutions and swaps of two neighbouring
 * bytes that turn a into b. SUGGEST_FAR when either is longer than
 * SUGGEST_MAX_WORD bytes. */
size_t suggest_distance(const char *a, const char *b);

/* The largest distance that still counts as a typo of a word of len
 * bytes: 1 up to 4 bytes, 2 up to 8, else 3 (a short word with two
 * changes is another word). */
size_t suggest_limit(size_t len);

/*
 * Writes to out (at most max, at most SUGGEST_MAX) the candidates that
 * word is a likely typo of, best first: those within suggest_limit of it
 * (ties in the order of cands), then, when none is, those word is the
 * beginning of (at least 2 bytes typed). A candidate equal to word is not
 * suggested. NULL entries of cands are skipped. Returns the number
 * written. out[i] point into cands (borrowed).
 */
size_t suggest(const char *word, const char *const *cands, size_t ncands, const char **out,
               size_t max);

/* The suggestions of word (suggest, at most SUGGEST_MAX) joined with ", "
 * into out[0..cap) ("" when none): what a message puts after "did you
 * mean". */
void suggest_list(char *out, size_t cap, const char *word, const char *const *cands,
                  size_t ncands);

#endif
