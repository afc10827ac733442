/*
 * outbuf.h: a small cache of reply buffers shared by the whole server, so
 * that answering a request allocates nothing on the usual path.
 *
 * A request packs its answer into a buffer taken from here (dispatch.c);
 * the connection takes that buffer over as its output (client.c) and gives
 * it back once the kernel has every byte. Buffers are plain malloc'd
 * blocks, so msgpack_sbuffer may realloc one that is too small; a block
 * that grew past OUTBUF_KEEP_MAX is freed instead of kept, and at most
 * OUTBUF_CACHE_MAX blocks are kept, so the cache holds at most
 * OUTBUF_CACHE_MAX x OUTBUF_KEEP_MAX bytes (2 MiB) whatever the load.
 * Loop thread only (no locks).
 *
 * Not for: input buffers (client.c keeps its own), or counting output
 * against output_budget_bytes (client.c counts what connections hold;
 * what is cached here is bounded above instead).
 */
#ifndef BB_OUTBUF_H
#define BB_OUTBUF_H

#include <stddef.h>

/* The caches of blocks kept for reuse (this one, dispatch.c's request
 * objects, client.c's input buffers) under AddressSanitizer (gcc defines
 * __SANITIZE_ADDRESS__, clang answers __has_feature(address_sanitizer)):
 * a block is poisoned while it sits in a cache (BB_CACHE_POISON) and
 * unpoisoned when it is handed out again, so a use of a block after it
 * was given back is reported as ASan reports a use after free, and the
 * cache paths themselves run in the tests (CI builds with ASan). A block
 * given back twice is caught by the asserts of the give functions (ASan
 * builds keep asserts). */
#if defined(__SANITIZE_ADDRESS__)
#define BB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BB_ASAN 1
#endif
#endif
#ifdef BB_ASAN
#include <sanitizer/asan_interface.h>
#define BB_CACHE_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define BB_CACHE_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define BB_CACHE_POISON(p, n) ((void)(p), (void)(n))
#define BB_CACHE_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Buffers kept for reuse, and the largest kept
 * (bytes of capacity). */
#define OUTBUF_CACHE_MAX 32u
#define OUTBUF_KEEP_MAX (64u * 1024u)
/* Capacity of a new buffer: most answers (a get, an error) fit. */
#define OUTBUF_SIZE_MIN (4u * 1024u)

/* A buffer of at least OUTBUF_SIZE_MIN bytes, returned owned (give it
 * back with outbuf_give, or free it); *cap receives its capacity. NULL
 * when out of memory. */
char *outbuf_take(size_t *cap);
/* Takes p (cap bytes of capacity; NULL is fine): kept for reuse when it
 * is small enough and the cache has room, freed otherwise. Giving back a
 * block twice is a bug: builds without NDEBUG assert it is not cached
 * already (ASan builds keep asserts). */
void outbuf_give(char *p, size_t cap);
/* Frees every cached buffer (before memory is handed back to the system,
 * see client.c's malloc_trim). */
void outbuf_release_all(void);
/* Bytes held by the cache now (for tests and logs). */
size_t outbuf_cached_bytes(void);

#endif
