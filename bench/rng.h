/*
 * rng.h: the benchmark programs' random numbers (baobao-bench, baobao-floor).
 *
 * xorshift64*: cheap, good enough to pick ids and keys; not for anything
 * that must be unpredictable. *state must not be 0.
 */
#ifndef BENCH_RNG_H
#define BENCH_RNG_H

#include <stdint.h>

static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

#endif
