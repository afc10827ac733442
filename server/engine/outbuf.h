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

/* Under AddressSanitizer (gcc defines __SANITIZE_ADDRESS__, clang answers
 * __has_feature(address_sanitizer)) the caches of freed blocks kept for
 * reuse (this one, dispatch.c's request objects, client.c's input
 * buffers) keep nothing: a block used after it was given back, or given
 * back twice, would otherwise be handed out again silently, and ASan could
 * not report the use-after-free or double free it is there to catch. */
#if defined(__SANITIZE_ADDRESS__)
#define BB_CACHES_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BB_CACHES_OFF 1
#endif
#endif
#ifndef BB_CACHES_OFF
#define BB_CACHES_OFF 0
#endif

/* Buffers kept for reuse (none when BB_CACHES_OFF), and the largest kept
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
 * already, ASan builds report the double free (BB_CACHES_OFF). */
void outbuf_give(char *p, size_t cap);
/* Frees every cached buffer (before memory is handed back to the system,
 * see client.c's malloc_trim). */
void outbuf_release_all(void);
/* Bytes held by the cache now (for tests and logs). */
size_t outbuf_cached_bytes(void);

#endif
