/*
 * outbuf.c: the reply buffer cache (see outbuf.h). A stack, last given
 * first taken, so the buffer reused is the one most likely still in the
 * CPU's cache.
 */
#include "outbuf.h"

#include <assert.h>
#include <stdlib.h>

static struct {
    char *buf[OUTBUF_CACHE_MAX];
    size_t cap[OUTBUF_CACHE_MAX];
    unsigned n;
    size_t bytes;
} C;

char *outbuf_take(size_t *cap)
{
    if (C.n > 0) {
        C.n--;
        *cap = C.cap[C.n];
        C.bytes -= C.cap[C.n];
        BB_CACHE_UNPOISON(C.buf[C.n], C.cap[C.n]);
        return C.buf[C.n];
    }
    char *p = malloc(OUTBUF_SIZE_MIN);
    *cap = p != NULL ? OUTBUF_SIZE_MIN : 0;
    return p;
}

void outbuf_give(char *p, size_t cap)
{
    if (p == NULL)
        return;
#ifndef NDEBUG
    for (unsigned i = 0; i < C.n; i++)
        assert(C.buf[i] != p); /* given back twice */
#endif
    if (cap < OUTBUF_SIZE_MIN || cap > OUTBUF_KEEP_MAX ||
        C.n == OUTBUF_CACHE_MAX) {
        free(p);
        return;
    }
    BB_CACHE_POISON(p, cap);
    C.buf[C.n] = p;
    C.cap[C.n] = cap;
    C.n++;
    C.bytes += cap;
}

void outbuf_release_all(void)
{
    while (C.n > 0) {
        C.n--;
        BB_CACHE_UNPOISON(C.buf[C.n], C.cap[C.n]);
        free(C.buf[C.n]);
    }
    C.bytes = 0;
}

size_t outbuf_cached_bytes(void) { return C.bytes; }
