/*
 * client.c: one client connection (see client.h for the lifecycle and who
 * owns what).
 *
 * Bytes are read into a per-connection buffer that grows only as needed
 * and never past max_message_bytes + one read chunk: the scanner
 * (bb_frame) refuses a message before it gets bigger than the limit, so the
 * unfinished message kept between reads is at most max_message_bytes, and
 * each read adds at most one chunk. The scanner is resumable: its state is
 * kept across reads and each byte is walked once. Every complete message is
 * decoded (msgpack_unpack, which is safe now that its sizes were checked),
 * its envelope parsed, and the request dispatched; several messages in one
 * read are all handled, unless backpressure pauses us in between.
 *
 * Input memory server-wide (input_budget_bytes): every connection may hold
 * an input buffer of CLIENT_IN_BASE without asking (so idle and ordinary
 * connections cost what they did); capacity beyond that is reserved from
 * server.input_reserved before the buffer grows, and given back when the
 * buffer shrinks (after the big message is handled) or is freed (drain,
 * close). A connection whose growth the budget cannot cover, once its
 * buffer is full, is told `connection.closing` (unavailable) and drains
 * like any other limit fault: requests already in flight are answered.
 * Refusing rather than pausing: paused connections that each hold part of
 * a message could wait on each other forever.
 *
 * TLS (when the server has a certificate, tls.h): the same buffers and
 * states, one layer lower. Ciphertext read from the socket goes into the
 * connection's SSL (tls_conn_feed); tls_pump takes plaintext out into the
 * same input buffer, under the same limits, and frames it as above; it
 * stops while backpressure pauses the connection (the ciphertext already
 * read waits in the SSL's memory BIO, at most one read chunk). Answers are
 * appended as plaintext to the same output buffer and encrypted when it is
 * flushed (flush_tls), so coalescing and backpressure are unchanged. The
 * first byte tells a plaintext client (anything but a TLS handshake
 * record): it is told so in plaintext (connection.closing) and the
 * connection drains as for any malformed stream. An orderly end sends
 * close_notify before the FIN. bytes_in/bytes_out count plaintext.
 *
 * TLS endings: the peer's close_notify is its EOF, and, as a TCP EOF that
 * waits unread in the kernel while backpressure pauses the connection, it
 * takes effect only once the requests received before it are handled.
 * After a TLS error nothing can be answered any more: the output is
 * dropped and the connection ends once the alert is written, without
 * waiting for requests in flight (they finish into nothing). Until the
 * handshake is done, the connection's timer enforces
 * tls_handshake_timeout_ms. Output is encrypted in slices (tls_flush_slice)
 * as the socket takes it, so a huge reply is never held as plaintext and
 * ciphertext at once, nor encrypted in one go on the loop thread.
 *
 * Not for: what a method does (dispatch.c and the method files), the TLS
 * library calls (tls.c), or accepting and refusing connections
 * (listener.c).
 */
#include "client.h"

#include <arpa/inet.h>
#include <assert.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include "bb_errors.h"
#include "bb_frame.h"
#include "bb_rpc.h"
#include "bb_utf8.h"
#include "proxy.h"
#include "dispatch.h"
#include "log.h"
#include "outbuf.h"
#include "tls.h"

/* Bytes offered to each read. Also the slack above max_message_bytes that
 * the input buffer may reach. */
#define CLIENT_READ_CHUNK (64u * 1024u)
/* Input buffer capacity every connection may hold without reserving it
 * from input_budget_bytes: the first buffer, one read chunk. */
#define CLIENT_IN_BASE CLIENT_READ_CHUNK
/* Input buffers of exactly CLIENT_IN_BASE kept for the next read instead
 * of freed: a connection gives its buffer back once everything read is
 * handled (an idle connection holds none), and without the cache every
 * request would malloc and free 64 KiB (and glibc consolidate its heap
 * on each such free). A read loop turn rarely needs more than a few at
 * once; at most CLIENT_IN_CACHE x 64 KiB (512 KiB) are kept. Under
 * AddressSanitizer a cached buffer is poisoned (BB_CACHE_POISON, outbuf.h):
 * a use after it was given back is reported, not silently allowed. */
#define CLIENT_IN_CACHE 8u
/* The input_budget_exhausted warning is logged at most once per this long
 * (a flood of big messages must not flood the log); the others go to
 * debug and are counted in the next warning's suppressed=. */
#define CLIENT_BUDGET_LOG_MS 1000u
/* Output memory server-wide (output_budget_bytes): past the budget,
 * connections paused for it read again once the total is below
 * CLIENT_BUDGET_RESUME_NUM / CLIENT_BUDGET_RESUME_DEN of it (3/4: room for
 * the answers still in flight before anyone is paused again), or once
 * their own output is below write_low_water and the total within the
 * budget; at most CLIENT_BUDGET_RESUME_PER_TURN per loop turn, oldest
 * pause first, so that their pipelined requests do not all land at once
 * and push the total past the budget again. */
#define CLIENT_BUDGET_RESUME_NUM 3u
#define CLIENT_BUDGET_RESUME_DEN 4u
#define CLIENT_BUDGET_RESUME_PER_TURN 8u
/* A connection whose peer has taken no bytes for this long is
 * taken for one whose peer does not read: past the budget those are
 * closed first, and one whose peer reads only when closing all of them
 * is not enough. */
#define CLIENT_BUDGET_STALL_MS 500u
/* Memory back to the system after an output spike (glibc keeps freed heap
 * resident): once the total has been above half the budget and is back
 * below 1/CLIENT_TRIM_BELOW_DIV of it, malloc_trim runs on the thread pool
 * CLIENT_TRIM_DELAY_MS later (the connections that went all at once have
 * freed their buffers by then), and at most once per CLIENT_TRIM_INTERVAL_MS.
 * Off the loop thread, but not free for it: malloc_trim holds the main
 * arena's lock while it walks the free bins and calls madvise, and the
 * loop thread allocates from that arena, so the loop may wait on it for
 * that long (tens of ms after a spike of hundreds of MB); it also holds
 * one of libuv's pool threads meanwhile. Rare by the above, and only
 * after a spike. */
#define CLIENT_TRIM_BELOW_DIV 16u
#define CLIENT_TRIM_DELAY_MS 500u
#define CLIENT_TRIM_INTERVAL_MS 10000u
/* How long a connection we close first keeps reading (and discarding)
 * after sending FIN, see LINGERING, and how often it checks whether the
 * peer has everything (then it closes at once). */
#define CLIENT_LINGER_MS 2000u
#define CLIENT_LINGER_POLL_MS 20u
/* TLS: plaintext encrypted per flush is write_high_water, but at least
 * one full record's worth and at most CLIENT_TLS_SLICE_MAX. */
#define CLIENT_TLS_SLICE_MIN (16u * 1024u)
#define CLIENT_TLS_SLICE_MAX (256u * 1024u)
/* TLS: the last close_notify (after the peer's EOF, right before the
 * socket closes) is sent only when the kernel surely takes it whole: its
 * send queue is empty, or twice its bytes (skb overhead) plus this much
 * leave room in SO_SNDBUF. */
#define CLIENT_GOODBYE_SLACK 4096

typedef enum client_state {
    CLIENT_OPEN = 0,
    CLIENT_DRAINING,
    CLIENT_LINGERING,
    CLIENT_CLOSING,
    CLIENT_CLOSED,
} client_state;

static const char *const state_names[] = {"open", "draining", "lingering", "closing",
                                          "closed"};

struct client {
    server *srv;
    uint64_t id;
    client_state state;
    unsigned writes_pending;      /* uv_write requests not yet called back
                                     (here, not with the output below: it
                                     fills the hole after state) */
    const char *reason;           /* why DRAINING/CLOSING (static string) */
    unsigned refs;                /* 1 for the handles + 1 per request */
    unsigned handles_open;        /* close callbacks still to come */
    uv_tcp_t tcp;
    uv_timer_t idle;              /* idle timeout, then the linger limit */
    uv_shutdown_t shut;           /* LINGERING: FIN after the last byte */
    client *next, *prev;          /* server.clients, until CLOSED */
    client *flush_next;           /* server.flush_head (on_flush_list below) */

    /* input: in[in_start, in_len) is unprocessed; the message being
     * scanned starts at in_start */
    uint8_t *in;
    size_t in_cap, in_len, in_start;
    size_t in_reserved;           /* in_cap beyond CLIENT_IN_BASE, counted
                                     in server.input_reserved */
    bb_frame frame;
    bool reading;                 /* uv_read_start in force */
    bool paused;                  /* backpressure: neither read nor dispatch */
    bool budget_paused;           /* the same, for output_budget_bytes (see
                                     budget_resume); then in the server's
                                     budget_paused FIFO through bp_next/prev */
    bool in_over_budget;          /* on_alloc: no room, the budget said no */
    bool on_flush_list;           /* on server.flush_head through flush_next */
    bool tls_seen_first;          /* TLS: the first byte was checked (0x16) */
    bool tls_pumping;             /* TLS: inside tls_pump (no re-entry) */
    client *bp_next, *bp_prev;
    bool processing;              /* inside handle_buffered (no re-entry) */
    bool got_eof;                 /* the peer will send nothing more */
    bool seen_first;              /* the first bytes were checked for an
                                     untrusted PROXY header (see proxy_in) */
    /* (the flags sit in the holes between wider fields: sizeof is 1,704,
     * glibc's 1,712-byte chunk as before issue 15, which the memory test
     * of scripts/bench measures; 8 bytes more and it is the next chunk) */

    unsigned in_flight;
    uint64_t last_active_ms;      /* uv_now of the last bytes received or
                                     request answered */
    uint64_t linger_until_ms;     /* LINGERING: close at this uv_now at the latest */

    /* output not yet handed to uv_write; TLS: out[0, out_sent) is already
     * encrypted and written (the rest goes slice by slice) */
    char *out;
    size_t out_len, out_cap, out_sent;
    size_t out_counted;           /* pending_bytes() as last counted in
                                     server.output_pending */
    uint64_t out_progress_ms;     /* uv_now when the peer last took bytes
                                     (a write completed or took some, or the
                                     count went down) or output began anew */

    uint64_t bytes_in, bytes_out, requests;
    char peer[64];                /* "ip:port" (log lines, audit) */
    char peer_ip[48];             /* the address alone (login throttling) */
    /* PROXY protocol (proxy.h): a peer in proxy_trusted must begin with a
     * header; until it is whole its bytes go to proxy_in (owned, freed
     * once the header is parsed) and nothing else is read. Then peer and
     * peer_ip are the client's as the header says, via the balancer's. */
    uint8_t *proxy_in;            /* PROXY_HEADER_MAX bytes; NULL = no header awaited */
    size_t proxy_len;
    char via[64];                 /* the balancer "ip:port"; "" = direct */
    session sess;                 /* who is logged in (session.h) */

    tls_conn *tls;                /* owned; NULL on a plaintext connection */
    uint64_t opened_ms;           /* uv_now at accept (handshake deadline) */
};

typedef struct write_req {
    uv_write_t wr;
    char *data;                   /* owned; freed (or given back) in on_write */
    size_t cap;                   /* a reply cache block of this capacity
                                     (outbuf_give); 0: TLS output, freed */
} write_req;

static void set_state(client *c, client_state to, const char *reason);
static void on_idle_timer(uv_timer_t *t);
static void handle_buffered(client *c, bool refuse);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void tls_pump(client *c);
static void push_maybe_missed(client *c);

/* client_push_set_missed: the message after dropped pushes (push.c's). */
static client_push_missed push_missed_pack;

/* ---- references and freeing ---------------------------------------- */

/* See CLIENT_IN_CACHE. Loop thread only. */
static struct {
    uint8_t *block[CLIENT_IN_CACHE];
    unsigned n;
} in_cache;

/* An input buffer goes: kept when it is a base block and there is room. */
static void in_block_free(uint8_t *p, size_t cap)
{
    if (p != NULL && cap == CLIENT_IN_BASE && in_cache.n < CLIENT_IN_CACHE) {
#ifndef NDEBUG
        for (unsigned i = 0; i < in_cache.n; i++)
            assert(in_cache.block[i] != p); /* given back twice */
#endif
        BB_CACHE_POISON(p, cap);
        in_cache.block[in_cache.n++] = p;
    } else {
        free(p);
    }
}

/* Empties the cache (before memory goes back to the system). */
static void in_cache_release(void)
{
    while (in_cache.n > 0) {
        uint8_t *p = in_cache.block[--in_cache.n];
        BB_CACHE_UNPOISON(p, CLIENT_IN_BASE);
        free(p);
    }
}

static void client_free(client *c)
{
    session_forget(&c->sess);
    tls_conn_free(c->tls);
    free(c->proxy_in);
    in_block_free(c->in, c->in_cap);
    outbuf_give(c->out, c->out_cap);
    free(c);
}

static void client_unref(client *c)
{
    if (--c->refs == 0)
        client_free(c);
}

uint64_t client_id(const client *c) { return c->id; }

/* ---- output --------------------------------------------------------- */

static size_t pending_bytes(const client *c)
{
    size_t q = c->state < CLIENT_CLOSING
                   ? uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp)
                   : 0;
    return q + (c->out_len - c->out_sent) +
           (c->tls != NULL ? tls_conn_pending_out(c->tls) : 0);
}

/* TLS failed: nothing more can be sent but the alert already produced. */
static bool tls_broken(const client *c)
{
    return c->tls != NULL && tls_conn_failed(c->tls);
}

/* TLS and the handshake not finished yet (tls_handshake_timeout_ms runs). */
static bool tls_handshaking(const client *c)
{
    return c->tls != NULL && c->state == CLIENT_OPEN && !tls_conn_ready(c->tls) &&
           !tls_conn_failed(c->tls);
}

/* The output buffer goes back to the reply cache (an idle connection
 * holds none). */
static void out_reset(client *c)
{
    outbuf_give(c->out, c->out_cap);
    c->out = NULL;
    c->out_len = c->out_cap = c->out_sent = 0;
}

static void on_flush_idle(uv_idle_t *h)
{
    (void)h; /* on_flush_check does the work and stops this handle */
}

static void queue_flush(client *c)
{
    if (c->on_flush_list)
        return;
    c->on_flush_list = true;
    c->flush_next = c->srv->flush_head;
    c->srv->flush_head = c;
    /* An active idle handle makes the poll phase return at once, so the
     * flush_check runs in this iteration even when no I/O is pending. */
    (void)uv_idle_start(&c->srv->flush_idle, on_flush_idle);
}

/* Appends bytes to the output buffer. Returns 0, or -1 when out of memory
 * (the connection is then closed: a response cannot be lost silently). */
static int out_append(client *c, const char *data, size_t len)
{
    if (c->state >= CLIENT_CLOSING || tls_broken(c))
        return 0; /* gone, or cannot be sent: dropped, as client.h says */
    if (c->out == NULL)
        c->out = outbuf_take(&c->out_cap); /* NULL: realloc below tries */
    if (c->out_cap - c->out_len < len) {
        size_t cap = c->out_cap ? c->out_cap : OUTBUF_SIZE_MIN;
        while (cap - c->out_len < len)
            cap *= 2;
        char *n = realloc(c->out, cap);
        if (n == NULL) {
            log_conn(LOG_ERROR, c->id, "out_of_memory", "bytes=%zu", cap);
            set_state(c, CLIENT_CLOSING, "out_of_memory");
            return -1;
        }
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    queue_flush(c);
    return 0;
}

/* msgpack_packer write callback: packs straight into the output buffer. */
static int out_write_cb(void *data, const char *buf, size_t len)
{
    return out_append(data, buf, len) == 0 ? 0 : -1;
}

/* Not reading nor dispatching for now: backpressure of its own, or of
 * output_budget_bytes. */
static bool held(const client *c) { return c->paused || c->budget_paused; }

static void read_update(client *c)
{
    bool want = (c->state == CLIENT_OPEN && !held(c)) || c->state == CLIENT_LINGERING;
    if (want == c->reading)
        return;
    c->reading = want;
    if (!want) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        return;
    }
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        c->reading = false;
        log_conn(LOG_WARN, c->id, "read_start_failed", "err=%s", uv_err_name(r));
        set_state(c, CLIENT_CLOSING, "read_error");
    }
}

/* Reads and dispatches again after a pause, unless still held. */
static void resume_reading(client *c)
{
    if (!held(c) && !c->processing)
        handle_buffered(c, false);
    /* TLS: plaintext still inside the SSL (its ciphertext was read
     * before the pause) comes next */
    if (!held(c) && !c->processing)
        tls_pump(c);
    read_update(c);
}

/* ---- output memory server-wide (output_budget_bytes) ------------------
 *
 * server.output_pending is the sum of every connection's pending_bytes(),
 * kept by out_account each time a connection's output may have changed
 * (an answer or push appended, a write done, the connection closing).
 * libuv writes part of a queued buffer without telling us, so between two
 * of those moments the sum may be a little high, never low. It counts
 * unsent bytes, not the memory that holds them (a buffer may have twice
 * the capacity it uses, and a cached reply block is bigger than a short
 * error), so the memory held can be up to about twice the budget.
 *
 * The budget is looked at once per loop turn, at the end of on_flush_check,
 * after every connection's output of the turn was offered to the kernel:
 * an answer the peer takes at once never counts against it. Past the
 * budget (budget_enforce), with every share counted afresh: each OPEN
 * connection holding more than write_low_water stops reading
 * (budget_paused); then connections are closed until the total is within
 * the budget: first those whose peer has taken no bytes for
 * CLIENT_BUDGET_STALL_MS (peers that do not read), the most unsent output
 * first, and only if that is not enough the others, again the most first.
 * So the budget is a hard cap (up to one turn's answers), and a client
 * that reads is closed only when readers alone hold more than the budget.
 * Not everything waits for the turn's end: when a connection's output
 * grows past the budget (budget_grew), connections whose peers have taken
 * nothing for CLIENT_BUDGET_STALL_MS (it or others, in the order above)
 * are closed at once, and one dispatching from its input buffer
 * (processing) is paused at once, as own backpressure does, so that one
 * read cannot answer more past the budget. Walking every connection
 * happens only while past the budget: at most once per turn for those
 * growths (the sorted walk is kept until the turn's end, s->budget_cand)
 * and once at the turn's end.
 *
 * Paused connections are resumed by budget_resume (see
 * CLIENT_BUDGET_RESUME_*), also at the end of on_flush_check, when
 * out_account has seen the total fall below 3/4 of the budget or a paused
 * connection's output fall below write_low_water. */

static void trim_schedule(server *s);

/* Brings c's share of server.output_pending up to date (none once it is
 * CLOSING: its output is dropped). */
static void out_account(client *c)
{
    server *s = c->srv;
    size_t now = c->state < CLIENT_CLOSING ? pending_bytes(c) : 0;
    if (now < c->out_counted || (c->out_counted == 0 && now > 0))
        c->out_progress_ms = uv_now(s->loop); /* taken, or output anew */
    s->output_pending = s->output_pending - c->out_counted + now;
    c->out_counted = now;
    size_t budget = s->cfg.output_budget_bytes;
    if (s->output_pending > budget / 2)
        s->output_spiked = true;
    else if (s->output_spiked && s->output_pending < budget / CLIENT_TRIM_BELOW_DIV)
        trim_schedule(s);
    if (s->budget_paused_head != NULL && !s->budget_resume_due &&
        ((c->budget_paused && now < s->cfg.write_low_water) ||
         s->output_pending < budget / CLIENT_BUDGET_RESUME_DEN * CLIENT_BUDGET_RESUME_NUM)) {
        s->budget_resume_due = true;
        (void)uv_idle_start(&s->flush_idle, on_flush_idle); /* this turn's check runs it */
    }
}

/* Stops reading c for the budget; it joins the FIFO of paused ones. */
static void budget_pause(client *c)
{
    server *s = c->srv;
    c->budget_paused = true;
    c->bp_next = NULL;
    c->bp_prev = s->budget_paused_tail;
    if (s->budget_paused_tail != NULL)
        s->budget_paused_tail->bp_next = c;
    else
        s->budget_paused_head = c;
    s->budget_paused_tail = c;
    s->output_budget_paused++;
    log_conn(LOG_DEBUG, c->id, "output_budget_pause", "pending=%zu total=%zu", c->out_counted,
             s->output_pending);
    read_update(c);
}

/* Not paused for the budget any more (resumed, or leaving OPEN); the
 * caller resumes reading if it should. */
static void budget_unpause(client *c)
{
    server *s = c->srv;
    if (!c->budget_paused)
        return;
    c->budget_paused = false;
    if (c->bp_prev != NULL)
        c->bp_prev->bp_next = c->bp_next;
    else
        s->budget_paused_head = c->bp_next;
    if (c->bp_next != NULL)
        c->bp_next->bp_prev = c->bp_prev;
    else
        s->budget_paused_tail = c->bp_prev;
    c->bp_next = c->bp_prev = NULL;
    s->output_budget_paused--;
}

/* Past the budget, c holds more than write_low_water: it stops reading. */
static bool budget_should_pause(const client *c)
{
    const server *s = c->srv;
    return c->state == CLIENT_OPEN && !c->budget_paused &&
           s->output_pending > s->cfg.output_budget_bytes &&
           c->out_counted > s->cfg.write_low_water;
}

/* Closes c for the budget: logged (a warning at most once per
 * CLIENT_BUDGET_LOG_MS, like input_budget_exhausted: clients that
 * reconnect again and again must not flood the log), counted, its output
 * dropped. */
static void budget_close(client *c)
{
    static uint64_t last_warn_ms;
    static unsigned suppressed;
    server *s = c->srv;
    uint64_t now = uv_now(s->loop);
    if (last_warn_ms == 0 || now - last_warn_ms >= CLIENT_BUDGET_LOG_MS) {
        log_conn(LOG_WARN, c->id, "output_budget_exceeded",
                 "peer=%s pending=%zu total=%zu budget=%zu suppressed=%u", c->peer,
                 c->out_counted, s->output_pending, s->cfg.output_budget_bytes, suppressed);
        last_warn_ms = now != 0 ? now : 1;
        suppressed = 0;
    } else {
        suppressed++;
        log_conn(LOG_DEBUG, c->id, "output_budget_exceeded",
                 "peer=%s pending=%zu total=%zu budget=%zu", c->peer, c->out_counted,
                 s->output_pending, s->cfg.output_budget_bytes);
    }
    s->output_budget_closes++;
    set_state(c, CLIENT_CLOSING, "output_budget_exceeded");
}

/* A candidate of the walk: stalled ones (see CLIENT_BUDGET_STALL_MS)
 * sort first, then the most unsent output. */
typedef struct budget_cand {
    client *c;
    size_t pending;
    bool stalled;
} budget_cand;

static int by_stalled_then_pending(const void *a, const void *b)
{
    const budget_cand *x = a, *y = b;
    if (x->stalled != y->stalled)
        return x->stalled ? -1 : 1;
    return x->pending < y->pending ? 1 : x->pending > y->pending ? -1 : 0;
}

static bool budget_stalled(const client *c, uint64_t now)
{
    return now - c->out_progress_ms >= CLIENT_BUDGET_STALL_MS;
}

/* Counts every share afresh (libuv may have written part of a queued
 * write) and sorts the connections holding output into s->budget_cand, in
 * the order they are closed; NULL when out of memory (or none). */
static void budget_walk(server *s, uint64_t now)
{
    free(s->budget_cand);
    s->budget_cand = NULL;
    s->budget_ncand = s->budget_icand = 0;
    s->budget_walked = true;
    size_t n = 0;
    for (client *c = s->clients; c != NULL; c = c->next) {
        if (c->state >= CLIENT_CLOSING)
            continue;
        out_account(c);
        if (c->out_counted > 0)
            n++;
    }
    budget_cand *v = n > 0 ? malloc(n * sizeof *v) : NULL;
    if (v == NULL)
        return;
    size_t k = 0;
    for (client *c = s->clients; c != NULL && k < n; c = c->next)
        if (c->state < CLIENT_CLOSING && c->out_counted > 0)
            v[k++] = (budget_cand){c, c->out_counted, budget_stalled(c, now)};
    qsort(v, k, sizeof *v, by_stalled_then_pending);
    s->budget_cand = v;
    s->budget_ncand = k;
}

/* Closes connections in the walk's order while past the budget; with
 * stalled_only, only those whose peer takes nothing. Out of memory for
 * the walk: the first in that order, found one at a time. */
static void budget_close_next(server *s, uint64_t now, bool stalled_only)
{
    size_t budget = s->cfg.output_budget_bytes;
    if (s->budget_cand == NULL) {
        while (s->output_pending > budget) {
            client *big = NULL;
            budget_cand y = {0};
            for (client *c = s->clients; c != NULL; c = c->next) {
                if (c->state >= CLIENT_CLOSING || c->out_counted == 0)
                    continue;
                budget_cand x = {c, c->out_counted, budget_stalled(c, now)};
                if (big == NULL || by_stalled_then_pending(&x, &y) < 0) {
                    big = c;
                    y = x;
                }
            }
            if (big == NULL || (stalled_only && !y.stalled))
                return;
            budget_close(big);
        }
        return;
    }
    while (s->output_pending > budget && s->budget_icand < s->budget_ncand) {
        const budget_cand *x = &s->budget_cand[s->budget_icand];
        if (stalled_only && !x->stalled)
            return;
        s->budget_icand++;
        if (x->c->state < CLIENT_CLOSING)
            budget_close(x->c);
    }
}

/* Past the budget at the end of a turn (see the section's comment):
 * every share counted afresh, the heavy paused, then the closes. */
static void budget_enforce(server *s)
{
    uint64_t now = uv_now(s->loop);
    budget_walk(s, now);
    if (s->output_pending <= s->cfg.output_budget_bytes)
        return;
    for (client *c = s->clients; c != NULL; c = c->next)
        if (budget_should_pause(c))
            budget_pause(c);
    budget_close_next(s, now, false);
}

/* The turn is over: its walk goes (connections may be freed from now). */
static void budget_turn_end(server *s)
{
    free(s->budget_cand);
    s->budget_cand = NULL;
    s->budget_ncand = s->budget_icand = 0;
    s->budget_walked = false;
}

/* c's output just grew (see the section's comment): past the budget, a
 * connection whose peer has taken nothing for CLIENT_BUDGET_STALL_MS is
 * closed at once (answers to its requests in flight keep landing, and it
 * would be among the first closed at the turn's end anyway), c itself or
 * others; one still dispatching from its buffer is paused at once; the
 * rest waits for the turn's end, when the kernel has been offered what it
 * may take. */
static void budget_grew(client *c)
{
    server *s = c->srv;
    if (s->output_pending <= s->cfg.output_budget_bytes || c->state >= CLIENT_CLOSING ||
        c->out_counted <= s->cfg.write_low_water)
        return;
    uint64_t now = uv_now(s->loop);
    if (budget_stalled(c, now)) {
        budget_close(c);
        return;
    }
    if (c->processing && budget_should_pause(c))
        budget_pause(c);
    /* and the connections whose peers take nothing, in the walk's order
     * (one walk per turn, reused by the next growth this turn) */
    if (!s->budget_walked)
        budget_walk(s, now);
    budget_close_next(s, now, true);
}

/* Connections paused for the budget that may read again do, oldest pause
 * first, at most CLIENT_BUDGET_RESUME_PER_TURN (the rest next turn): when
 * the total is below 3/4 of the budget, or their own output is below
 * write_low_water and the total within the budget. The resumed are taken
 * off the FIFO before any of them reads, so what their requests do cannot
 * disturb the walk. */
static void budget_resume(server *s)
{
    s->budget_resume_due = false;
    size_t budget = s->cfg.output_budget_bytes;
    size_t below = budget / CLIENT_BUDGET_RESUME_DEN * CLIENT_BUDGET_RESUME_NUM;
    if (s->output_pending > budget)
        return; /* budget_enforce ran and could not close enough */
    client *go[CLIENT_BUDGET_RESUME_PER_TURN];
    unsigned k = 0;
    for (client *c = s->budget_paused_head, *next; c != NULL; c = next) {
        next = c->bp_next;
        if (s->output_pending >= below && c->out_counted >= s->cfg.write_low_water)
            continue;
        if (k == CLIENT_BUDGET_RESUME_PER_TURN) {
            s->budget_resume_due = true; /* more next turn */
            (void)uv_idle_start(&s->flush_idle, on_flush_idle);
            break;
        }
        budget_unpause(c);
        go[k++] = c;
    }
    for (unsigned i = 0; i < k; i++) {
        log_conn(LOG_DEBUG, go[i]->id, "output_budget_resume", "pending=%zu total=%zu",
                 go[i]->out_counted, s->output_pending);
        resume_reading(go[i]);
    }
}

#ifdef __GLIBC__
/* Thread pool: glibc gives free heap pages back to the system (holding
 * the main arena's lock meanwhile, see CLIENT_TRIM_DELAY_MS). */
static void trim_work(uv_work_t *w)
{
    (void)w;
    (void)malloc_trim(0);
}

static void trim_done(uv_work_t *w, int status)
{
    server *s = w->data;
    s->trim_busy = false;
    log_event(LOG_DEBUG, "output_trim_done", "status=%d total=%zu", status, s->output_pending);
}
#endif

static void on_trim_timer(uv_timer_t *t)
{
    server *s = t->data;
    if (!s->output_spiked || s->trim_busy ||
        s->output_pending >= s->cfg.output_budget_bytes / CLIENT_TRIM_BELOW_DIV)
        return; /* up again: waits for the next fall */
    s->output_spiked = false;
    s->trim_last_ms = uv_now(s->loop);
    outbuf_release_all();
    in_cache_release();
#ifdef __GLIBC__
    s->trim_work.data = s;
    int r = uv_queue_work(s->loop, &s->trim_work, trim_work, trim_done);
    if (r < 0) {
        log_event(LOG_WARN, "output_trim_failed", "err=%s", uv_err_name(r));
        return;
    }
    s->trim_busy = true;
    log_event(LOG_DEBUG, "output_trim", "total=%zu", s->output_pending);
#endif
}

/* The total fell back after a spike: trim soon (see CLIENT_TRIM_DELAY_MS). */
static void trim_schedule(server *s)
{
    if (s->trim_busy || !s->trim_timer_init || uv_is_active((uv_handle_t *)&s->trim_timer))
        return;
    uint64_t now = uv_now(s->loop), at = now + CLIENT_TRIM_DELAY_MS;
    if (s->trim_last_ms != 0 && s->trim_last_ms + CLIENT_TRIM_INTERVAL_MS > at)
        at = s->trim_last_ms + CLIENT_TRIM_INTERVAL_MS;
    (void)uv_timer_start(&s->trim_timer, on_trim_timer, at - now, 0);
}

/* Stops or resumes reading (and dispatching) by the bytes waiting to be
 * written: above write_high_water stop, below write_low_water resume; and
 * counts them against output_budget_bytes. Call whenever the connection's
 * output may have grown or shrunk. */
static void check_backpressure(client *c)
{
    size_t before = c->out_counted;
    out_account(c);
    if (c->out_counted > before)
        budget_grew(c);
    if (c->state != CLIENT_OPEN)
        return;
    size_t p = c->out_counted;
    if (!c->paused && p > c->srv->cfg.write_high_water) {
        c->paused = true;
        log_conn(LOG_DEBUG, c->id, "backpressure_on", "pending=%zu", p);
        read_update(c);
    } else if (c->paused && p < c->srv->cfg.write_low_water) {
        c->paused = false;
        log_conn(LOG_DEBUG, c->id, "backpressure_off", "pending=%zu", p);
        resume_reading(c);
    }
}

/* True when the kernel takes len more bytes on the socket whole, as far
 * as can be told: nothing queued, or room to spare in the send buffer.
 * False where this cannot be asked. */
static bool socket_takes_whole(const client *c, size_t len)
{
#if defined(__linux__) && defined(SIOCOUTQ)
    uv_os_fd_t fd;
    int queued = 0, sndbuf = 0;
    socklen_t sl = sizeof sndbuf;
    if (uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) != 0 ||
        uv_fileno((const uv_handle_t *)&c->tcp, &fd) != 0 ||
        ioctl(fd, SIOCOUTQ, &queued) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) != 0)
        return false;
    return queued == 0 ||
           2u * (size_t)queued + len + CLIENT_GOODBYE_SLACK <= (size_t)sndbuf;
#else
    (void)c;
    (void)len;
    return false;
#endif
}

/* Best effort at the very end, when the socket closes right after the
 * last answer (the peer sent EOF): close_notify if the kernel takes it
 * whole at once. A part of it would be a truncated record, worse than
 * none, so it is skipped when that cannot be sure. The peer has every
 * answer either way: msgpack framing, not the TLS close, tells it where
 * they end. */
static void tls_goodbye_now(client *c)
{
    if (c->tls == NULL || !tls_conn_ready(c->tls))
        return;
    tls_conn_close_notify(c->tls);
    tls_buf b = {0};
    if (tls_conn_drain(c->tls, &b) == TLS_OK && b.len > 0) {
        if (socket_takes_whole(c, b.len)) {
            uv_buf_t ub = uv_buf_init(b.data, (unsigned)b.len);
            int r = uv_try_write((uv_stream_t *)&c->tcp, &ub, 1);
            if (r >= 0 && (size_t)r < b.len)
                log_conn(LOG_WARN, c->id, "tls_close_notify_cut", "sent=%d of=%zu", r, b.len);
        } else {
            log_conn(LOG_DEBUG, c->id, "tls_close_notify_skipped", "why=socket_full");
        }
    }
    free(b.data);
}

/* Ends DRAINING once nothing is in flight or unwritten: closes at once
 * when the peer has sent EOF, else lingers (see set_state). After a TLS
 * error nothing more can be answered: once the alert is written it ends
 * without waiting for the requests in flight (their answers are dropped
 * when they finish). */
static void maybe_finish_drain(client *c)
{
    if (c->state != CLIENT_DRAINING || c->out_len != 0 || c->writes_pending != 0 ||
        (c->tls != NULL && tls_conn_pending_out(c->tls) != 0))
        return;
    if (c->in_flight > 0 && !tls_broken(c))
        return;
    if (c->got_eof)
        tls_goodbye_now(c);
    set_state(c, c->got_eof ? CLIENT_CLOSING : CLIENT_LINGERING, c->reason);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    client *c = req->data;
    if (status < 0 && status != UV_ECANCELED && c->state == CLIENT_LINGERING)
        set_state(c, CLIENT_CLOSING, c->reason);
}

static void on_write(uv_write_t *wr, int status)
{
    write_req *w = (write_req *)wr;
    client *c = wr->handle->data;
    if (w->cap != 0)
        outbuf_give(w->data, w->cap);
    else
        free(w->data);
    free(w);
    c->writes_pending--;
    if (status >= 0)
        c->out_progress_ms = uv_now(c->srv->loop); /* its peer takes bytes */
    if (status < 0) {
        if (status != UV_ECANCELED && c->state < CLIENT_CLOSING) {
            log_conn(LOG_INFO, c->id, "write_failed", "err=%s", uv_err_name(status));
            set_state(c, CLIENT_CLOSING, "write_error");
        }
        return;
    }
    check_backpressure(c);
    push_maybe_missed(c);
    /* TLS: the next slice of a large output (see flush_tls) */
    if (c->tls != NULL && c->out_len > c->out_sent && c->state < CLIENT_CLOSING)
        queue_flush(c);
    maybe_finish_drain(c);
}

/* Gives back a block write_owned was handed. */
static void data_free(char *data, size_t cap)
{
    if (cap != 0)
        outbuf_give(data, cap);
    else
        free(data);
}

/* Hands data[from, from + len) to one uv_write; data (a malloc'd block,
 * owned from now on) is freed when it is done: given back to the reply
 * cache when cap (its capacity) is not 0, else freed (TLS output). plain
 * is what it carries in plaintext bytes. */
static void write_owned(client *c, char *data, size_t cap, size_t from, size_t len,
                        size_t plain)
{
    write_req *w = malloc(sizeof *w);
    if (w == NULL) {
        data_free(data, cap);
        log_conn(LOG_ERROR, c->id, "out_of_memory", "what=write_req");
        set_state(c, CLIENT_CLOSING, "out_of_memory");
        return;
    }
    w->data = data;
    w->cap = cap;
    uv_buf_t b = uv_buf_init(w->data + from, (unsigned)len);
    int r = uv_write(&w->wr, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) {
        data_free(w->data, w->cap);
        free(w);
        log_conn(LOG_INFO, c->id, "write_failed", "err=%s", uv_err_name(r));
        set_state(c, CLIENT_CLOSING, "write_error");
        return;
    }
    c->writes_pending++;
    c->bytes_out += plain;
    check_backpressure(c);
}

/* TLS: plaintext encrypted per flush (see CLIENT_TLS_SLICE_MIN). */
static size_t tls_flush_slice(const client *c)
{
    size_t n = c->srv->cfg.write_high_water;
    if (n < CLIENT_TLS_SLICE_MIN)
        n = CLIENT_TLS_SLICE_MIN;
    if (n > CLIENT_TLS_SLICE_MAX)
        n = CLIENT_TLS_SLICE_MAX;
    return n;
}

/* TLS: encrypts the next slice of the output buffer (in records) and
 * writes the ciphertext together with whatever the SSL produced by itself
 * (handshake, alerts, close_notify). A slice more is encrypted only while
 * the socket keeps up (its write queue holds less than a slice); else the
 * next one follows when this write is done (on_write), so a huge reply is
 * not held as plaintext and ciphertext at once, nor encrypted in one long
 * stretch on the loop thread. After a fatal TLS error answers cannot be
 * sent any more: they are dropped, only the alert goes out, and the
 * connection ends (maybe_finish_drain). */
static void flush_tls(client *c)
{
    tls_buf cb = {0};
    size_t plain = 0;
    size_t slice = tls_flush_slice(c);
    if (tls_conn_failed(c->tls)) {
        out_reset(c);
    } else if (c->out_len > c->out_sent && tls_conn_ready(c->tls) &&
               uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp) < slice) {
        size_t n = c->out_len - c->out_sent;
        if (n > slice)
            n = slice;
        if (tls_conn_encrypt(c->tls, c->out + c->out_sent, n, &cb) != TLS_OK) {
            free(cb.data);
            log_conn(LOG_WARN, c->id, "tls_error", "what=encrypt why=%s",
                     log_q(tls_conn_error(c->tls)));
            set_state(c, CLIENT_CLOSING, "tls_error");
            return;
        }
        plain = n;
        c->out_sent += n;
        if (c->out_sent == c->out_len)
            out_reset(c);
    }
    /* else: the handshake is not finished and nothing could have been
     * asked yet (whatever waits goes out after it), or the socket is
     * behind (on_write asks for the next slice) */
    if (tls_conn_drain(c->tls, &cb) != TLS_OK) {
        free(cb.data);
        log_conn(LOG_ERROR, c->id, "out_of_memory", "what=tls_output");
        set_state(c, CLIENT_CLOSING, "out_of_memory");
        return;
    }
    if (cb.len == 0) {
        free(cb.data);
    } else {
        write_owned(c, cb.data, 0, 0, cb.len, plain);
        tls_conn_trim(c->tls);
    }
    /* after a TLS error with nothing left to write, this is what ends the
     * connection (no write completes to do it) */
    maybe_finish_drain(c);
}

/* Writes the output buffer: straight to the socket when the kernel takes
 * it (uv_try_write: no write request, no callback, no wait for the socket
 * to be writable, and the buffer goes back to the reply cache at once);
 * what the kernel did not take goes to one uv_write, which then owns the
 * buffer. */
static void flush(client *c)
{
    if (c->state >= CLIENT_CLOSING) {
        out_reset(c);
        return;
    }
    if (c->tls != NULL) {
        flush_tls(c);
        out_account(c);
        return;
    }
    if (c->out_len == 0)
        return;
    char *data = c->out;
    size_t len = c->out_len, cap = c->out_cap, sent = 0;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    /* UV_EAGAIN also when earlier writes are still queued: after them */
    int r = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (r >= 0) {
        sent = (size_t)r;
        if (sent > 0) /* its peer takes bytes: not stalled, whatever piles up */
            c->out_progress_ms = uv_now(c->srv->loop);
    } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
        log_conn(LOG_INFO, c->id, "write_failed", "err=%s", uv_err_name(r));
        set_state(c, CLIENT_CLOSING, "write_error");
        return;
    }
    if (sent == len) {
        out_reset(c);
        c->bytes_out += len;
        /* what on_write does once a queued write is done */
        check_backpressure(c);
        push_maybe_missed(c);
        maybe_finish_drain(c);
        return;
    }
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    c->bytes_out += sent;
    write_owned(c, data, cap, sent, len - sent, len - sent);
}

static void on_flush_check(uv_check_t *h)
{
    server *s = h->data;
    uv_idle_stop(&s->flush_idle);
    while (s->flush_head != NULL) {
        client *c = s->flush_head;
        s->flush_head = c->flush_next;
        c->on_flush_list = false;
        c->flush_next = NULL;
        flush(c);
    }
    /* output_budget_bytes, once per turn and after the turn's output was
     * offered to the kernel (see the section on it) */
    if (s->output_pending > s->cfg.output_budget_bytes)
        budget_enforce(s);
    if (s->budget_resume_due)
        budget_resume(s);
    budget_turn_end(s); /* last: what the resumed did may have walked too */
}

static void send_error(client *c, uint32_t msgid, bb_err code, const char *msg)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, c, out_write_cb);
    bb_rpc_pack_error(&pk, msgid, code, msg, NULL);
    check_backpressure(c);
}

static void send_closing(client *c, bb_err code, const char *msg)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, c, out_write_cb);
    bb_rpc_pack_closing(&pk, code, msg);
    check_backpressure(c);
}

/* ---- pushes (client.h) ---------------------------------------------- */

void client_push_set_missed(client_push_missed pack) { push_missed_pack = pack; }

/* Drained after dropped pushes: the one "missed" message, then pushes
 * resume. Runs when a write completes (output can only drain then). */
static void push_maybe_missed(client *c)
{
    session_watch *w = &c->sess.watch;
    /* While pending, last[] holds no ids yet: the message waits for the
     * subscription's answer, whose write brings us here again. */
    if (!w->missed || (w->on && w->pending) || c->state != CLIENT_OPEN || tls_broken(c) ||
        pending_bytes(c) >= c->srv->cfg.write_low_water)
        return;
    w->missed = false;
    if (!w->on || push_missed_pack == NULL)
        return;
    log_conn(LOG_DEBUG, c->id, "push_resumed", "user_id=%lld", (long long)c->sess.user_id);
    msgpack_packer pk;
    msgpack_packer_init(&pk, c, out_write_cb);
    push_missed_pack(&pk, &c->sess);
    check_backpressure(c);
}

void client_push_missed_all(server *s)
{
    for (client *c = s->clients; c != NULL; c = c->next) {
        if (c->state != CLIENT_OPEN || !session_logged_in(&c->sess) || !c->sess.watch.on)
            continue;
        c->sess.watch.missed = true;
        push_maybe_missed(c);
    }
}

unsigned client_push(server *s, const char *msg, size_t len, unsigned stream, int64_t id,
                     client_push_want want, void *arg)
{
    unsigned n = 0;
    for (client *c = s->clients; c != NULL; c = c->next) {
        session_watch *w = &c->sess.watch;
        if (c->state != CLIENT_OPEN || !session_logged_in(&c->sess) || !w->on || w->missed ||
            tls_broken(c) || tls_handshaking(c))
            continue;
        if (want != NULL && !want(arg, &c->sess))
            continue;
        size_t p = pending_bytes(c);
        /* With nothing pending a message always goes (one bigger than the
         * high water mark would otherwise never go); else the bound. */
        if (p > 0 && p + len > s->cfg.write_high_water) {
            w->missed = true;
            log_conn(LOG_INFO, c->id, "push_missed", "user_id=%lld pending=%zu",
                     (long long)c->sess.user_id, p);
            continue;
        }
        if (out_append(c, msg, len) < 0)
            continue;
        if (stream < SESSION_WATCH_STREAMS && id > w->last[stream])
            w->last[stream] = id;
        check_backpressure(c);
        n++;
    }
    return n;
}

/* ---- requests (dispatch.c) ----------------------------------------- */

void client_request_begin(client *c)
{
    c->in_flight++;
    c->refs++;
    c->requests++;
}

void client_request_end(client *c, msgpack_sbuffer *sb)
{
    /* after a TLS error the answer cannot be sent: dropped */
    if (c->state < CLIENT_CLOSING && sb->size > 0 && !tls_broken(c)) {
        if (c->out_len == 0) {
            /* take the block rather than copy it; ours (if any) goes back
             * to the reply cache */
            outbuf_give(c->out, c->out_cap);
            c->out_cap = sb->alloc;
            c->out_len = sb->size;
            c->out = msgpack_sbuffer_release(sb);
            queue_flush(c);
        } else {
            (void)out_append(c, sb->data, sb->size);
        }
    }
    c->in_flight--;
    /* the idle time counts from the last answer too: a connection is not
     * idle the moment its long request ends */
    c->last_active_ms = uv_now(c->srv->loop);
    if (c->state < CLIENT_CLOSING) {
        check_backpressure(c);
        maybe_finish_drain(c);
    }
    client_unref(c);
}

/* ---- state ---------------------------------------------------------- */

/* Gives this connection's share of input_budget_bytes back (the buffer
 * is gone or back at the base). */
static void in_release(client *c, size_t keep)
{
    c->srv->input_reserved -= c->in_reserved - keep;
    c->in_reserved = keep;
}

static void drop_input(client *c)
{
    in_block_free(c->in, c->in_cap);
    c->in = NULL;
    c->in_cap = c->in_len = c->in_start = 0;
    in_release(c, 0);
}

static void on_handle_closed(uv_handle_t *h)
{
    client *c = h->data;
    if (--c->handles_open > 0)
        return;
    server *s = c->srv;
    set_state(c, CLIENT_CLOSED, c->reason);
    /* the turn's sorted walk (budget_cand) may name c: dropped before c
     * can be freed, so no later walk reads it */
    if (s->budget_cand != NULL)
        budget_turn_end(s);
    /* every path ends here: the input and its budget share go now (the
     * object may live on while requests reference it) */
    drop_input(c);
    if (c->on_flush_list) {
        /* normally flushed (a no-op once CLOSING) before close callbacks
         * run; unlinked here so the list never holds a freed client */
        for (client **pp = &s->flush_head; *pp != NULL; pp = &(*pp)->flush_next)
            if (*pp == c) {
                *pp = c->flush_next;
                break;
            }
        c->on_flush_list = false;
    }
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
    s->nclients--;
    client_unref(c); /* the handles' reference */
    if (s->shutting_down && s->nclients == 0 && s->clients_gone != NULL)
        s->clients_gone(s);
}

/* The one place the state changes. Allowed: OPEN -> DRAINING,
 * DRAINING -> LINGERING, OPEN|DRAINING|LINGERING -> CLOSING,
 * CLOSING -> CLOSED. */
static void set_state(client *c, client_state to, const char *reason)
{
    client_state from = c->state;
    bool ok = (from == CLIENT_OPEN && to == CLIENT_DRAINING) ||
              (from == CLIENT_DRAINING && to == CLIENT_LINGERING) ||
              (from < CLIENT_CLOSING && to == CLIENT_CLOSING) ||
              (from == CLIENT_CLOSING && to == CLIENT_CLOSED);
    if (!ok) {
        if (from != to)
            log_conn(LOG_ERROR, c->id, "bad_state_change", "from=%s to=%s reason=%s",
                     state_names[from], state_names[to], reason);
        return;
    }
    c->state = to;
    if (to != CLIENT_CLOSED)
        c->reason = reason;
    budget_unpause(c);
    switch (to) {
    case CLIENT_DRAINING:
        log_conn(LOG_DEBUG, c->id, "conn_draining", "reason=%s in_flight=%u", reason,
                 c->in_flight);
        read_update(c);
        /* What was received and not dispatched is not answered any more
         * (shutdown answers it first, see client_shutdown_all). Message
         * strings may still point into the buffer while a message is
         * handled, so handle_buffered drops it once it is done. */
        if (!c->processing)
            drop_input(c);
        maybe_finish_drain(c);
        break;
    case CLIENT_LINGERING: {
        /* Everything is written. Closing a socket with unread input makes
         * the kernel send RST, and an RST can destroy the answers still on
         * their way to the peer (the error that explains the close). So:
         * FIN after the last byte, read and discard until the peer closes
         * too, at most CLIENT_LINGER_MS. */
        log_conn(LOG_DEBUG, c->id, "conn_lingering", "reason=%s", reason);
        if (c->tls != NULL && tls_conn_ready(c->tls)) {
            /* TLS: close_notify goes out before the FIN (uv_shutdown
             * waits for the writes queued before it) */
            tls_buf b = {0};
            tls_conn_close_notify(c->tls);
            if (tls_conn_drain(c->tls, &b) == TLS_OK && b.len > 0)
                write_owned(c, b.data, 0, 0, b.len, 0);
            else
                free(b.data);
            if (c->state != CLIENT_LINGERING)
                break; /* the write failed: closing */
        }
        c->shut.data = c;
        int r = uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown);
        if (r < 0) {
            set_state(c, CLIENT_CLOSING, reason);
            break;
        }
        c->linger_until_ms = uv_now(c->srv->loop) + CLIENT_LINGER_MS;
        (void)uv_timer_start(&c->idle, on_idle_timer, 0, 0);
        read_update(c);
        break;
    }
    case CLIENT_CLOSING:
        log_conn(LOG_INFO, c->id, "conn_close",
                 "reason=%s in_flight=%u requests=%llu bytes_in=%llu bytes_out=%llu peer=%s "
                 "via=%s", reason, c->in_flight, (unsigned long long)c->requests,
                 (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out, c->peer,
                 c->via[0] != '\0' ? c->via : "-");
        c->reading = false;
        out_reset(c);
        out_account(c); /* its output is dropped: not counted any more */
        /* bytes handed in now are dropped: the budget comes back now,
         * not when the last request referencing c ends (a message being
         * handled may still point into the buffer: then at CLOSED) */
        if (!c->processing)
            drop_input(c);
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        uv_close((uv_handle_t *)&c->idle, on_handle_closed);
        break;
    case CLIENT_CLOSED:
    case CLIENT_OPEN:
        break;
    }
}

/* ---- input ---------------------------------------------------------- */

/* Bytes read only to be thrown away (LINGERING), or ciphertext handed to
 * the SSL before on_read returns: one buffer serves everyone (the loop
 * thread is the only reader, and nothing is kept in it across calls). */
static char read_scratch[CLIENT_READ_CHUNK];

typedef enum in_room {
    IN_ROOM = 0,                  /* the buffer has room for a read */
    IN_NO_MEMORY,                 /* realloc failed */
    IN_OVER_BUDGET,               /* full, and input_budget_bytes cannot
                                     cover growing it */
} in_room;

/* Capacity beyond what every connection may hold without asking. */
static size_t in_extra(size_t cap)
{
    return cap > CLIENT_IN_BASE ? cap - CLIENT_IN_BASE : 0;
}

/* Makes room for one more read chunk in the input buffer, never past
 * max_message_bytes + one chunk, and never past what input_budget_bytes
 * leaves: growth beyond CLIENT_IN_BASE is reserved from the server's
 * budget first (doubling when that fits, else just one more chunk). While
 * the buffer still has some room, that room is used: only a full buffer
 * that may not grow is IN_OVER_BUDGET. */
static in_room in_reserve(client *c)
{
    server *s = c->srv;
    size_t limit = s->cfg.max_message_bytes + CLIENT_READ_CHUNK;
    size_t want = c->in_len + CLIENT_READ_CHUNK;
    bool over_budget = false;
    if (want > limit)
        want = limit;
    if (c->in_cap < want) {
        size_t cap = c->in_cap * 2;
        if (cap < want)
            cap = want;
        if (cap > limit)
            cap = limit;
        /* what this connection may hold beyond the base, all told
         * (input_reserved never exceeds the budget and includes ours) */
        size_t may = s->cfg.input_budget_bytes - s->input_reserved + c->in_reserved;
        if (in_extra(cap) > may)
            cap = want;
        if (in_extra(cap) > may) {
            over_budget = true;
        } else if (c->in == NULL && cap == CLIENT_IN_BASE && in_cache.n > 0) {
            c->in = in_cache.block[--in_cache.n]; /* within the base: nothing reserved */
            BB_CACHE_UNPOISON(c->in, CLIENT_IN_BASE);
            c->in_cap = cap;
        } else {
            uint8_t *n = realloc(c->in, cap);
            if (n != NULL) {
                c->in = n;
                c->in_cap = cap;
                s->input_reserved += in_extra(cap) - c->in_reserved;
                c->in_reserved = in_extra(cap);
            }
        }
    }
    if (c->in != NULL && c->in_cap > c->in_len)
        return IN_ROOM;
    return over_budget ? IN_OVER_BUDGET : IN_NO_MEMORY;
}

/* A message whose growth input_budget_bytes cannot cover: as a limit
 * fault that cannot be recovered (PROTOCOL.md section 2), the client is
 * told connection.closing with `unavailable`, and the connection drains
 * (the unfinished message is dropped with the input, giving its share of
 * the budget back; requests in flight are still answered). */
static void refuse_over_budget(client *c)
{
    static uint64_t last_warn_ms;
    static unsigned suppressed;
    uint64_t now = uv_now(c->srv->loop);
    if (last_warn_ms == 0 || now - last_warn_ms >= CLIENT_BUDGET_LOG_MS) {
        log_conn(LOG_WARN, c->id, "input_budget_exhausted",
                 "peer=%s buffered=%zu reserved=%zu budget=%zu suppressed=%u", c->peer,
                 c->in_len, c->srv->input_reserved, c->srv->cfg.input_budget_bytes,
                 suppressed);
        last_warn_ms = now != 0 ? now : 1;
        suppressed = 0;
    } else {
        suppressed++;
        log_conn(LOG_DEBUG, c->id, "input_budget_exhausted", "peer=%s buffered=%zu",
                 c->peer, c->in_len);
    }
    send_closing(c, BB_E_UNAVAILABLE,
                 "the server's input memory budget is exhausted: send smaller messages or "
                 "retry later");
    if (c->state == CLIENT_OPEN)
        set_state(c, CLIENT_DRAINING, "input_budget");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client *c = h->data;
    if (c->proxy_in != NULL && c->state == CLIENT_OPEN) {
        /* never more than the header can hold: what follows it is read
         * only once it is known where it goes (TLS or the input buffer) */
        *buf = uv_buf_init((char *)c->proxy_in + c->proxy_len,
                           (unsigned)(PROXY_HEADER_MAX - c->proxy_len));
        return;
    }
    if (c->state == CLIENT_LINGERING || c->tls != NULL) {
        *buf = uv_buf_init(read_scratch, sizeof read_scratch);
        return;
    }
    in_room r = in_reserve(c);
    if (r != IN_ROOM) {
        /* read_cb gets UV_ENOBUFS and acts on why */
        c->in_over_budget = r == IN_OVER_BUDGET;
        *buf = uv_buf_init(NULL, 0);
        return;
    }
    *buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* A PROXY header from a peer not in proxy_trusted: anyone could claim any
 * address with one, so the connection is refused, told in plaintext (a
 * balancer's operator sees why in its own logs or a capture), and drains
 * as for any malformed stream. */
static void refuse_untrusted_proxy(client *c)
{
    log_conn(LOG_WARN, c->id, "proxy_header_untrusted",
             "peer=%s why=\"a PROXY header from an address not in proxy_trusted\"", c->peer);
    tls_conn_free(c->tls);
    c->tls = NULL;
    send_closing(c, BB_E_MALFORMED_MESSAGE,
                 "PROXY protocol header from an address not in proxy_trusted");
    /* the answer may have closed it already (output_budget_bytes) */
    if (c->state == CLIENT_OPEN)
        set_state(c, CLIENT_DRAINING, "proxy_untrusted");
}

/* A plaintext client on a TLS port (its first byte is not a TLS handshake
 * record): it cannot read TLS, so it is told in plaintext msgpack, and the
 * connection drains and closes as for any malformed stream. */
static void refuse_not_tls(client *c, unsigned char first)
{
    log_conn(LOG_WARN, c->id, "not_tls",
             "peer=%s first_byte=0x%02x why=\"plaintext client on a TLS port\"", c->peer,
             first);
    tls_conn_free(c->tls);
    c->tls = NULL; /* from here on a plaintext connection that drains */
    send_closing(c, BB_E_MALFORMED_MESSAGE, "this port speaks TLS: connect with TLS");
    if (c->state == CLIENT_OPEN) /* see refuse_untrusted_proxy */
        set_state(c, CLIENT_DRAINING, "not_tls");
}

/* TLS: takes plaintext out of the SSL into the input buffer and handles it,
 * until the SSL needs more ciphertext, backpressure pauses the connection,
 * or it stops being OPEN. Then queues what the SSL wants sent (handshake,
 * alerts). */
static void tls_pump(client *c)
{
    /* not inside handle_buffered (processing): it must not nest */
    if (c->tls == NULL || c->tls_pumping || c->processing)
        return;
    c->tls_pumping = true;
    bool was_ready = tls_conn_ready(c->tls);
    if (!was_ready && c->state == CLIENT_OPEN) {
        /* the handshake first, so no input buffer is held for it */
        tls_status hs = tls_conn_handshake(c->tls);
        if (hs == TLS_ERROR) {
            log_conn(LOG_WARN, c->id, "tls_handshake_failed", "peer=%s why=%s", c->peer,
                     log_q(tls_conn_error(c->tls)));
            set_state(c, CLIENT_DRAINING, "tls_error");
        } else if (hs == TLS_OK) {
            /* done now: an error in the records that came with the
             * client's Finished is a tls_error, not a failed handshake */
            was_ready = true;
            log_conn(LOG_DEBUG, c->id, "tls_handshake_done", "version=%s cipher=%s",
                     tls_conn_version(c->tls), tls_conn_cipher(c->tls));
        }
    }
    while (c->state == CLIENT_OPEN && !held(c) && tls_conn_ready(c->tls)) {
        in_room room = in_reserve(c);
        if (room == IN_OVER_BUDGET) {
            refuse_over_budget(c);
            break;
        }
        if (room != IN_ROOM) {
            log_conn(LOG_ERROR, c->id, "out_of_memory", "what=read_buffer");
            set_state(c, CLIENT_CLOSING, "out_of_memory");
            break;
        }
        /* Fill the free space (records of up to 16 KiB each), then frame
         * it all at once. */
        tls_status st = TLS_OK;
        bool got = false;
        while (c->in_cap > c->in_len) {
            size_t n = 0;
            st = tls_conn_read(c->tls, c->in + c->in_len, c->in_cap - c->in_len, &n);
            if (st != TLS_OK)
                break;
            c->in_len += n;
            c->bytes_in += n;
            got = true;
        }
        if (got)
            handle_buffered(c, false);
        if (st == TLS_OK)
            continue; /* the buffer was full: more may wait in the SSL */
        if (st == TLS_WANT_MORE)
            break;
        if (st == TLS_CLOSED) {
            /* close_notify: the peer sent all it will, as a TCP EOF. But
             * OpenSSL took it off the wire together with the requests
             * before it, which backpressure may have left unhandled in
             * c->in: on plaintext the EOF would wait unread in the kernel
             * until those are handled, so here too. While paused, stop
             * without a state change: OpenSSL answers ZERO_RETURN again
             * on every read, so the pump after the pause (check_backpressure
             * -> handle_buffered -> tls_pump) comes back here. Not paused,
             * what is left in c->in is an unfinished message, dropped as
             * after an EOF. */
            if (!c->got_eof)
                log_conn(LOG_DEBUG, c->id, "peer_eof", "tls=close_notify in_flight=%u",
                         c->in_flight);
            c->got_eof = true;
            if (held(c))
                break;
            if (c->state == CLIENT_OPEN)
                set_state(c, CLIENT_DRAINING, "peer_closed");
            break;
        }
        log_conn(LOG_WARN, c->id, was_ready ? "tls_error" : "tls_handshake_failed",
                 "peer=%s why=%s", c->peer, log_q(tls_conn_error(c->tls)));
        if (c->state == CLIENT_OPEN)
            set_state(c, CLIENT_DRAINING, "tls_error");
        break;
    }
    c->tls_pumping = false;
    if (c->state < CLIENT_CLOSING) {
        if (c->in_start == c->in_len && c->in != NULL && !c->processing)
            drop_input(c); /* nothing kept: no buffer while idle */
        if (c->tls != NULL && (tls_conn_pending_out(c->tls) > 0 || c->out_len > c->out_sent ||
                               tls_conn_failed(c->tls)))
            queue_flush(c);
        if (c->tls != NULL)
            tls_conn_trim(c->tls);
        maybe_finish_drain(c);
    }
}

/* TLS: ciphertext read from the socket (or left after a PROXY header). */
static void tls_take(client *c, const uint8_t *bytes, size_t n)
{
    if (c->state != CLIENT_OPEN)
        return;
    if (!c->tls_seen_first) {
        c->tls_seen_first = true;
        if (!c->seen_first && proxy_looks_like_header(bytes, n)) {
            c->seen_first = true;
            refuse_untrusted_proxy(c);
            return;
        }
        if (bytes[0] != TLS_RECORD_HANDSHAKE) {
            refuse_not_tls(c, bytes[0]);
            return;
        }
    }
    c->seen_first = true;
    if (tls_conn_feed(c->tls, (const char *)bytes, n) != TLS_OK) {
        log_conn(LOG_ERROR, c->id, "out_of_memory", "what=tls_input");
        set_state(c, CLIENT_CLOSING, "out_of_memory");
        return;
    }
    tls_pump(c);
}

/* A trusted peer's bytes while its PROXY header is awaited (n more in
 * proxy_in). A whole header makes its address the connection's peer (v2
 * LOCAL, v1 UNKNOWN: the real one stays) and hands what followed it to
 * TLS or the input buffer; a bad one closes the connection at once, as
 * the spec asks, with nothing to say (on a TLS port nothing could be). */
static void proxy_take(client *c, size_t n)
{
    c->proxy_len += n;
    proxy_header h;
    const char *why = NULL;
    proxy_status st = proxy_parse(c->proxy_in, c->proxy_len, &h, &why);
    if (st == PROXY_NEED_MORE)
        return; /* proxy_parse says BAD before the buffer can fill */
    if (st == PROXY_BAD) {
        log_conn(LOG_WARN, c->id, "proxy_header_bad", "peer=%s got=%zu why=%s", c->peer,
                 c->proxy_len, log_q(why));
        set_state(c, CLIENT_CLOSING, "proxy_header_bad");
        return;
    }
    if (h.has_addr) {
        snprintf(c->via, sizeof c->via, "%s", c->peer);
        snprintf(c->peer, sizeof c->peer, h.family == AF_INET6 ? "[%s]:%u" : "%s:%u", h.addr,
                 h.port);
        snprintf(c->peer_ip, sizeof c->peer_ip, "%s", h.addr);
        log_conn(LOG_INFO, c->id, "proxy_header", "peer=%s via=%s version=%u", c->peer, c->via,
                 h.version);
    } else {
        log_conn(LOG_INFO, c->id, "proxy_header", "peer=%s via=- version=%u local=1", c->peer,
                 h.version);
    }
    /* what came after the header in the same read: at most
     * PROXY_HEADER_MAX bytes, moved off the header's buffer */
    uint8_t rest[PROXY_HEADER_MAX];
    size_t nrest = c->proxy_len - h.len;
    memcpy(rest, c->proxy_in + h.len, nrest);
    free(c->proxy_in);
    c->proxy_in = NULL;
    c->proxy_len = 0;
    c->seen_first = true; /* a second header is only bad msgpack (or TLS) */
    if (nrest == 0)
        return;
    if (c->tls != NULL) {
        tls_take(c, rest, nrest);
        return;
    }
    in_room r = in_reserve(c); /* an empty buffer: one chunk, above nrest */
    if (r != IN_ROOM || c->in_cap - c->in_len < nrest) {
        log_conn(LOG_ERROR, c->id, "out_of_memory", "what=read_buffer");
        set_state(c, CLIENT_CLOSING, "out_of_memory");
        return;
    }
    memcpy(c->in + c->in_len, rest, nrest);
    c->in_len += nrest;
    c->bytes_in += nrest;
    handle_buffered(c, false);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    client *c = st->data;
    if (nread == 0)
        return;
    if (c->state == CLIENT_LINGERING) {
        if (nread < 0)
            set_state(c, CLIENT_CLOSING, c->reason);
        return;
    }
    if (nread < 0 && c->proxy_in != NULL && c->state == CLIENT_OPEN)
        log_conn(LOG_INFO, c->id, "proxy_header_missing", "peer=%s got=%zu why=%s", c->peer,
                 c->proxy_len, nread == UV_EOF ? "eof" : uv_err_name((int)nread));
    if (nread < 0) {
        if (nread == UV_EOF) {
            /* The peer sent all it will; it may still read answers. */
            log_conn(LOG_DEBUG, c->id, "peer_eof", "in_flight=%u", c->in_flight);
            c->got_eof = true;
            if (c->state == CLIENT_OPEN)
                set_state(c, CLIENT_DRAINING, "peer_closed");
        } else if (nread == UV_ENOBUFS && c->in_over_budget) {
            c->in_over_budget = false;
            if (c->state == CLIENT_OPEN)
                refuse_over_budget(c);
        } else if (nread == UV_ENOBUFS) {
            log_conn(LOG_ERROR, c->id, "out_of_memory", "what=read_buffer");
            set_state(c, CLIENT_CLOSING, "out_of_memory");
        } else {
            log_conn(LOG_INFO, c->id, "read_failed", "err=%s", uv_err_name((int)nread));
            set_state(c, CLIENT_CLOSING, "read_error");
        }
        return;
    }
    c->last_active_ms = uv_now(c->srv->loop);
    if (c->proxy_in != NULL) {
        if (c->state == CLIENT_OPEN)
            proxy_take(c, (size_t)nread);
        return;
    }
    if (c->tls != NULL) {
        tls_take(c, (const uint8_t *)buf->base, (size_t)nread);
        return;
    }
    if (!c->seen_first) {
        c->seen_first = true;
        if (proxy_looks_like_header(c->in + c->in_len, (size_t)nread)) {
            refuse_untrusted_proxy(c);
            return;
        }
    }
    c->in_len += (size_t)nread;
    c->bytes_in += (uint64_t)nread;
    handle_buffered(c, false);
}

static bb_err fault_code(bb_frame_status st)
{
    switch (st) {
    case BB_FRAME_TOO_LARGE: return BB_E_MESSAGE_TOO_LARGE;
    case BB_FRAME_TOO_DEEP: return BB_E_NESTING_TOO_DEEP;
    default: return BB_E_MALFORMED_MESSAGE;
    }
}

static const char *fault_text(bb_frame_status st)
{
    switch (st) {
    case BB_FRAME_TOO_LARGE: return "message exceeds max_message_bytes";
    case BB_FRAME_TOO_DEEP: return "message nests deeper than max_nesting_depth";
    default: return "bytes are not msgpack";
    }
}

/* A limit fault or non-msgpack bytes: the stream cannot be trusted any
 * more. Answer by msgid when the envelope of a request got that far, else
 * with connection.closing; then drain and close. */
static void on_frame_fault(client *c, bb_frame_status st)
{
    bb_err code = fault_code(st);
    bool by_msgid = c->frame.msgid_known && c->frame.envelope_type == BB_RPC_REQUEST;
    if (by_msgid) {
        log_req(LOG_WARN, c->id, c->frame.msgid, "message_refused", "code=%s offset=%zu",
                bb_err_code(code), c->bytes_in - (c->in_len - c->in_start));
        send_error(c, c->frame.msgid, code, fault_text(st));
    } else {
        log_conn(LOG_WARN, c->id, "message_refused", "code=%s offset=%zu", bb_err_code(code),
                 c->bytes_in - (c->in_len - c->in_start));
        send_closing(c, code, fault_text(st));
    }
    if (c->state == CLIENT_OPEN) /* the answer may have closed it (output budget) */
        set_state(c, CLIENT_DRAINING, bb_err_code(code));
}

/* A well-framed message that is not a valid envelope. With a readable
 * msgid it is answered and the connection stays open (the stream is still
 * in step). Without one nothing can be answered, so the client is told
 * `connection.closing` and, as that name promises, the connection drains
 * and closes: a client that sends what it cannot match is confused. */
static void on_malformed(client *c, bool msgid_known, uint32_t msgid, const char *why)
{
    if (msgid_known) {
        log_req(LOG_WARN, c->id, msgid, "malformed_message", "why=%s", log_q(why));
        send_error(c, msgid, BB_E_MALFORMED_MESSAGE, why);
    } else {
        log_conn(LOG_WARN, c->id, "malformed_message", "why=%s", log_q(why));
        send_closing(c, BB_E_MALFORMED_MESSAGE, why);
        if (c->state == CLIENT_OPEN)
            set_state(c, CLIENT_DRAINING, "malformed_message");
    }
}

/* Decodes and handles one complete message in[0, len). With `refuse`
 * (shutdown), requests are answered `shutting_down` instead of being
 * dispatched. */
static void handle_message(client *c, const uint8_t *data, size_t len, bool refuse)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&u, (const char *)data, len, &off);
    bool frame_msgid = c->frame.msgid_known && c->frame.envelope_type == BB_RPC_REQUEST;
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        on_malformed(c, frame_msgid, c->frame.msgid, "message could not be decoded");
        msgpack_unpacked_destroy(&u);
        return;
    }
    bb_rpc_msg msg;
    memset(&msg, 0, sizeof msg);
    bool msgid_known = false;
    const char *why = NULL;
    if (bb_rpc_parse(&u.data, &msg, &msgid_known, &why) != 0) {
        on_malformed(c, msgid_known, msg.msgid, why != NULL ? why : "not a valid envelope");
    } else if (msg.type == BB_RPC_REQUEST) {
        if (refuse) {
            log_req(LOG_DEBUG, c->id, msg.msgid, "request_refused", "code=shutting_down");
            send_error(c, msg.msgid, BB_E_SHUTTING_DOWN, "the server is shutting down");
        } else if (c->in_flight >= c->srv->cfg.max_in_flight) {
            log_req(LOG_WARN, c->id, msg.msgid, "request_refused",
                    "code=too_many_in_flight in_flight=%u", c->in_flight);
            send_error(c, msg.msgid, BB_E_TOO_MANY_IN_FLIGHT,
                       "more than max_in_flight requests unanswered");
            /* The requests already in flight are still answered, then the
             * connection closes (DRAINING). */
            set_state(c, CLIENT_DRAINING, "too_many_in_flight");
        } else {
            dispatch_request(c->srv, c, &msg);
        }
    } else if (msg.type == BB_RPC_NOTIFICATION) {
        char name[64] = "-";
        if (msg.method_len < sizeof name && bb_utf8_valid(msg.method, msg.method_len)) {
            memcpy(name, msg.method, msg.method_len);
            name[msg.method_len] = '\0';
        }
        log_conn(LOG_DEBUG, c->id, "notification_ignored", "method=%s", log_q(name));
    } else {
        /* PROTOCOL.md section 5: a client sends requests (type 0) and
         * notifications (ignored); anything else is malformed. */
        on_malformed(c, msgid_known, msg.msgid, "a client may send only requests (type 0)");
    }
    msgpack_unpacked_destroy(&u);
}

/* After a big message was handled, a buffer much larger than what it
 * still holds (one chunk of room included) goes back to that size, and
 * its share of input_budget_bytes with it. */
static void in_shrink(client *c)
{
    size_t target = c->in_len + CLIENT_READ_CHUNK;
    if (target < CLIENT_IN_BASE)
        target = CLIENT_IN_BASE;
    if (c->in_reserved == 0 || c->in_cap / 2 < target)
        return;
    uint8_t *n = realloc(c->in, target);
    if (n == NULL)
        return; /* kept as it was: still counted */
    c->in = n;
    c->in_cap = target;
    in_release(c, in_extra(target));
}

/* Frames and handles what is buffered, until it runs out, a fault, or
 * backpressure. Then keeps only the unfinished message. With `refuse`
 * (shutdown, see client_shutdown_all) every complete request is answered
 * `shutting_down` instead, backpressure or not. */
static void handle_buffered(client *c, bool refuse)
{
    c->processing = true;
    while (c->state == CLIENT_OPEN && (refuse || !held(c)) && c->in_start < c->in_len) {
        const uint8_t *p = c->in + c->in_start;
        bb_frame_status st = bb_frame_scan(&c->frame, p, c->in_len - c->in_start);
        if (st == BB_FRAME_NEED_MORE)
            break;
        if (st != BB_FRAME_COMPLETE) {
            on_frame_fault(c, st);
            break;
        }
        size_t n = c->frame.message_len;
        handle_message(c, p, n, refuse);
        c->in_start += n;
        bb_frame_reset(&c->frame);
    }
    c->processing = false;
    if (c->state != CLIENT_OPEN || c->in_start == c->in_len) {
        /* not reading any more, or nothing kept: give the memory back
         * between messages */
        drop_input(c);
    } else if (c->in_start > 0) {
        memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
        c->in_len -= c->in_start;
        c->in_start = 0;
        in_shrink(c);
    }
}

/* ---- idle timeout and linger ------------------------------------------ */

/* True when closing now cannot cost the peer any byte: every byte we sent
 * was acknowledged (SIOCOUTQ) and nothing unread waits on our side
 * (FIONREAD), so close(2) sends no RST. Where this cannot be asked, false:
 * the connection then lingers the whole CLIENT_LINGER_MS. */
static bool peer_has_everything(const client *c)
{
#if defined(__linux__) && defined(SIOCOUTQ)
    uv_os_fd_t fd;
    int unsent = 0, unread = 0;
    if (uv_fileno((const uv_handle_t *)&c->tcp, &fd) != 0)
        return false;
    return ioctl(fd, SIOCOUTQ, &unsent) == 0 && unsent == 0 &&
           ioctl(fd, FIONREAD, &unread) == 0 && unread == 0;
#else
    (void)c;
    return false;
#endif
}

/* The first run of the connection's timer: the idle timeout, or the
 * handshake deadline on a TLS connection when that comes first. */
static void start_conn_timer(client *c)
{
    unsigned first = c->srv->cfg.idle_timeout_ms;
    unsigned hs = c->srv->cfg.tls_handshake_timeout_ms;
    if ((c->tls != NULL || c->proxy_in != NULL) && (first == 0 || hs < first))
        first = hs;
    if (first > 0)
        (void)uv_timer_start(&c->idle, on_idle_timer, first, 0);
}

static void on_idle_timer(uv_timer_t *t)
{
    client *c = t->data;
    unsigned timeout = c->srv->cfg.idle_timeout_ms;
    if (c->state >= CLIENT_CLOSING)
        return;
    if (c->state == CLIENT_LINGERING) {
        if (peer_has_everything(c) || uv_now(c->srv->loop) >= c->linger_until_ms)
            set_state(c, CLIENT_CLOSING, c->reason);
        else
            (void)uv_timer_start(&c->idle, on_idle_timer, CLIENT_LINGER_POLL_MS, 0);
        return;
    }
    uint64_t now = uv_now(c->srv->loop);
    /* TLS handshake deadline: a peer that starts a handshake (or sends
     * nothing) and stalls holds a max_connections slot; closed at once,
     * nothing to say to it (no TLS yet) */
    uint64_t hs_left = 0;
    /* The PROXY header has the same deadline, from accept, and shares it
     * with the TLS handshake that follows it: both are what a connection
     * must get through before it is a client at all. */
    if (c->proxy_in != NULL && c->state == CLIENT_OPEN) {
        uint64_t age = now - c->opened_ms;
        unsigned hs = c->srv->cfg.tls_handshake_timeout_ms;
        if (age >= hs) {
            log_conn(LOG_INFO, c->id, "proxy_header_timeout", "peer=%s waited_ms=%llu got=%zu",
                     c->peer, (unsigned long long)age, c->proxy_len);
            set_state(c, CLIENT_CLOSING, "proxy_header_timeout");
            return;
        }
        hs_left = hs - age;
    } else if (tls_handshaking(c)) {
        uint64_t age = now - c->opened_ms;
        unsigned hs = c->srv->cfg.tls_handshake_timeout_ms;
        if (age >= hs) {
            log_conn(LOG_INFO, c->id, "tls_handshake_timeout", "peer=%s waited_ms=%llu",
                     c->peer, (unsigned long long)age);
            set_state(c, CLIENT_CLOSING, "tls_handshake_timeout");
            return;
        }
        hs_left = hs - age;
    }
    if (timeout == 0) {
        if (hs_left > 0)
            (void)uv_timer_start(&c->idle, on_idle_timer, hs_left, 0);
        return;
    }
    uint64_t quiet = now - c->last_active_ms;
    if (c->in_flight == 0 && quiet >= timeout) {
        log_conn(LOG_INFO, c->id, "idle_timeout", "quiet_ms=%llu state=%s",
                 (unsigned long long)quiet, state_names[c->state]);
        /* OPEN: write what is queued, FIN, then close (DRAINING);
         * DRAINING for a whole idle period (a peer that does not read
         * what is queued): close now. */
        if (c->state == CLIENT_OPEN) {
            set_state(c, CLIENT_DRAINING, "idle_timeout");
            if (c->state == CLIENT_DRAINING)
                (void)uv_timer_start(&c->idle, on_idle_timer, timeout, 0);
        } else {
            set_state(c, CLIENT_CLOSING, "idle_timeout");
        }
        return;
    }
    uint64_t next = c->in_flight > 0 || quiet >= timeout ? timeout : timeout - quiet;
    if (hs_left > 0 && hs_left < next)
        next = hs_left;
    (void)uv_timer_start(&c->idle, on_idle_timer, next, 0);
}

/* ---- module --------------------------------------------------------- */

int client_module_init(server *s)
{
    s->flush_head = NULL;
    int r = uv_check_init(s->loop, &s->flush_check);
    if (r < 0)
        return r;
    s->flush_check.data = s;
    r = uv_check_start(&s->flush_check, on_flush_check);
    if (r < 0)
        return r;
    uv_unref((uv_handle_t *)&s->flush_check);
    r = uv_idle_init(s->loop, &s->flush_idle);
    if (r < 0)
        return r;
    s->flush_idle.data = s;
    r = uv_timer_init(s->loop, &s->trim_timer);
    if (r < 0)
        return r;
    s->trim_timer.data = s;
    uv_unref((uv_handle_t *)&s->trim_timer);
    s->trim_timer_init = true;
    return 0;
}

void client_module_close(server *s)
{
    if (!uv_is_closing((uv_handle_t *)&s->flush_check))
        uv_close((uv_handle_t *)&s->flush_check, NULL);
    if (!uv_is_closing((uv_handle_t *)&s->flush_idle))
        uv_close((uv_handle_t *)&s->flush_idle, NULL);
    if (s->trim_timer_init && !uv_is_closing((uv_handle_t *)&s->trim_timer))
        uv_close((uv_handle_t *)&s->trim_timer, NULL);
    budget_turn_end(s);
}

static void on_accept_failed_closed(uv_handle_t *h) { free(h->data); }

/* Fills peer and peer_ip from the socket. Returns true when the peer is in
 * proxy_trusted (it must send a PROXY header). */
static bool describe_peer(client *c)
{
    /* Zeroed: when getpeername fails (the peer already reset) the family
     * below must not be read from uninitialised memory. */
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int len = (int)sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
            uv_ip4_name(a, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    snprintf(c->peer, sizeof c->peer, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
    snprintf(c->peer_ip, sizeof c->peer_ip, "%s", host);
    return c->srv->proxy_trusted != NULL && c->srv->proxy_trusted->n > 0 &&
           proxy_acl_match(c->srv->proxy_trusted, (const struct sockaddr *)&ss);
}

session *client_session(client *c) { return &c->sess; }
bool client_closing(const client *c) { return c->state >= CLIENT_CLOSING; }

const char *client_peer(const client *c) { return c->peer; }
const char *client_peer_ip(const client *c) { return c->peer_ip; }

int client_accept(server *s, uv_stream_t *listener)
{
    client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return UV_ENOMEM;
    c->srv = s;
    c->id = ++s->next_conn_id;
    session_init(&c->sess, c->id);
    int r = uv_tcp_init(s->loop, &c->tcp);
    if (r < 0) {
        free(c);
        return r;
    }
    c->tcp.data = c;
    r = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (r < 0) {
        c->tcp.data = c;
        uv_close((uv_handle_t *)&c->tcp, on_accept_failed_closed);
        return r;
    }
    if (s->tls != NULL) {
        c->tls = tls_conn_new(s->tls);
        if (c->tls == NULL) {
            log_conn(LOG_ERROR, c->id, "out_of_memory", "what=tls_conn");
            uv_close((uv_handle_t *)&c->tcp, on_accept_failed_closed);
            return UV_ENOMEM;
        }
    }
    (void)uv_timer_init(s->loop, &c->idle); /* cannot fail on Unix */
    c->idle.data = c;
    c->handles_open = 2;
    c->refs = 1;
    c->state = CLIENT_OPEN;
    c->reason = "-";
    bb_frame_init(&c->frame, s->cfg.max_message_bytes, s->cfg.max_nesting_depth);
    c->last_active_ms = c->opened_ms = c->out_progress_ms = uv_now(s->loop);
    c->next = s->clients;
    if (s->clients != NULL)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    if (describe_peer(c)) {
        c->proxy_in = malloc(PROXY_HEADER_MAX);
        if (c->proxy_in == NULL) {
            log_conn(LOG_ERROR, c->id, "out_of_memory", "what=proxy_header peer=%s", c->peer);
            c->reason = "out_of_memory";
            /* OPEN -> CLOSING: both handles are closed, the list unlinked */
            set_state(c, CLIENT_CLOSING, "out_of_memory");
            return 0;
        }
    }
    /* Responses are small and latency matters more than packet count. */
    r = uv_tcp_nodelay(&c->tcp, 1);
    if (r < 0)
        log_conn(LOG_DEBUG, c->id, "nodelay_failed", "err=%s", uv_err_name(r));
    log_conn(LOG_INFO, c->id, "conn_open", "peer=%s clients=%u tls=%d proxy=%d", c->peer,
             s->nclients, c->tls != NULL, c->proxy_in != NULL);
    start_conn_timer(c);
    read_update(c);
    return 0;
}

/* ---- shutdown ------------------------------------------------------- */

void client_shutdown_all(server *s)
{
    for (client *c = s->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state != CLIENT_OPEN)
            continue;
        c->paused = true;
        read_update(c);
        /* What is buffered and complete is answered shutting_down; an
         * unfinished message is dropped with the input (DRAINING). */
        handle_buffered(c, true);
        c->paused = false;
        if (c->state == CLIENT_OPEN) /* answering may have closed it (output budget) */
            set_state(c, CLIENT_DRAINING, "shutdown");
    }
}

void client_close_all(server *s, const char *reason)
{
    for (client *c = s->clients, *next; c != NULL; c = next) {
        next = c->next;
        if (c->state < CLIENT_CLOSING)
            set_state(c, CLIENT_CLOSING, reason);
    }
}
