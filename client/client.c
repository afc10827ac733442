/*
 * client.c: one connection to baobaod: connect, send requests, read and
 * frame replies, match them to their msgid.
 *
 * For: the raw-call layer of baobao.h (bb_connect, bb_send, bb_wait,
 * bb_call, bb_send_bytes, replies). Plain sockets and poll(2) with
 * deadlines; no threads, no event loop. The socket is non-blocking only so
 * that every wait has a deadline; each call blocks its caller.
 * Not for: knowing any method's arguments or results (enterprise.c,
 * status.c, server_info.c).
 *
 * Reading: bytes are appended to one buffer and framed with proto's
 * bb_frame_scan before msgpack_unpack sees them, so a peer that declares
 * a huge array in a few bytes makes the client fail, not allocate. Each
 * framed message is copied into its own bb_reply (msgpack-c's str objects
 * point into the bytes, so the reply owns them).
 *
 * TLS (bb_connect_with, tls.c): the same code, with SSL_read / SSL_write
 * (bbi_tls_read / bbi_tls_write) in place of recv / send. Before polling
 * for input it takes plaintext OpenSSL already decrypted (bbi_tls_pending);
 * a write that wants to read (or a read that wants to write) polls for that
 * instead. A TLS write cut short by a timeout breaks the connection even
 * before its first byte counted, since part of a record may have left.
 *
 * Matching: the client keeps one slot per msgid in flight (sent and not yet
 * taken by bb_wait). A reply for a slot is kept in it until its bb_wait;
 * a reply for a msgid not in flight is dropped, so what is kept is bounded
 * by what this client asked for.
 */
#include "client_int.h"

#include "bb_frame.h"
#include "bb_utf8.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536u          /* bytes asked of recv() at a time */
#define MAX_HOST_LEN 255u          /* a DNS name, or an address */
#define SHRINK_ABOVE (1024u * 1024u) /* read buffer freed when idle and larger */
/* Reads bb_wait still makes once its deadline has passed (of bytes that
 * had arrived by then, e.g. with timeout 0), so a peer that never stops
 * sending cannot keep it waiting. Also drain_readable's bound. */
#define WAIT_LATE_READS 16u

/* The connection's lifecycle. Once BROKEN it stays so: replies already
 * received can still be taken, everything else fails with c->broken. */
typedef enum bb_conn_state {
    BB_CONN_OPEN,
    BB_CONN_BROKEN,
} bb_conn_state;

/* A msgid in flight and, once it arrived, its reply (owned). */
typedef struct bb_slot {
    uint32_t msgid;
    bb_reply *reply;
} bb_slot;

struct bb_client {
    int fd;                   /* -1 once broken */
    int timeout_ms;
    uint32_t next_msgid;
    bb_conn_state state;
    bb_error broken;          /* why, when state is BROKEN */
    uint8_t *rbuf;            /* owned: bytes received, not yet framed whole */
    size_t rlen, rcap;
    bb_frame frame;           /* scanner state of the message at rbuf[0] */
    bb_slot *slots;           /* owned: msgids in flight */
    size_t nslots, capslots;
    bbi_tls *tls;             /* owned; NULL when plaintext or once broken */
    bool tls_read_wants_write; /* the last SSL_read asked for POLLOUT */
    /* Pushed notifications not yet taken (bb_next_notification), oldest
     * first; owned. nmissed: some were dropped over the bound. */
    bb_reply *nhead, *ntail;
    size_t nqueued;
    bool nmissed;
};

/* ---- time ---- */

int64_t bbi_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline from a timeout; a negative timeout waits for ever (-1). */
static int64_t deadline_in(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : bbi_now_ms() + timeout_ms;
}

/* Milliseconds left for poll(): -1 for ever, 0 when passed. */
int bbi_time_left(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = deadline - bbi_now_ms();
    if (left <= 0)
        return 0;
    return left > 1000000000 ? 1000000000 : (int)left;
}

/* True once a deadline (not "for ever") is reached. */
static bool deadline_passed(int64_t deadline)
{
    return deadline >= 0 && bbi_time_left(deadline) == 0;
}

/* ---- state ---- */

static void free_reply(bb_reply *r)
{
    if (r == NULL)
        return;
    msgpack_unpacked_destroy(&r->up);
    free(r->bytes);
    free(r->method);
    free(r);
}

/* The only way into BROKEN: records the first reason and closes the socket.
 * Later reasons are consequences of the first and are not kept. */
static void conn_break(bb_client *c, const bb_error *why)
{
    if (c->state == BB_CONN_BROKEN)
        return;
    c->state = BB_CONN_BROKEN;
    c->broken = *why;
    bbi_tls_free(c->tls); /* no close_notify: the stream is not trusted */
    c->tls = NULL;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* Breaks the connection with a client-side reason and copies it to err. */
static int fail_conn(bb_client *c, bb_error *err, int rc, const char *code, const char *msg)
{
    bb_error why;
    bbi_err(&why, rc, code, NULL, "%s", msg);
    conn_break(c, &why);
    if (err != NULL)
        *err = c->broken;
    return c->broken.rc;
}

static int broken_error(const bb_client *c, bb_error *err)
{
    if (err != NULL)
        *err = c->broken;
    return c->broken.rc;
}

static bb_slot *find_slot(bb_client *c, uint32_t msgid)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].msgid == msgid)
            return &c->slots[i];
    return NULL;
}

static int add_slot(bb_client *c, uint32_t msgid, bb_error *err)
{
    if (c->nslots == c->capslots) {
        size_t cap = c->capslots ? c->capslots * 2 : 16;
        bb_slot *s = realloc(c->slots, cap * sizeof *s);
        if (s == NULL)
            return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        c->slots = s;
        c->capslots = cap;
    }
    c->slots[c->nslots].msgid = msgid;
    c->slots[c->nslots].reply = NULL;
    c->nslots++;
    return BB_C_OK;
}

/* Removes a slot (its reply, if any, must have been taken or freed). */
static void remove_slot(bb_client *c, bb_slot *s)
{
    *s = c->slots[--c->nslots];
}

/* ---- reading ---- */

static bool obj_u32(const msgpack_object *o, uint32_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > UINT32_MAX)
        return false;
    *out = (uint32_t)o->via.u64;
    return true;
}

static bool obj_is_str(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

/* A `connection.closing` notification: the server says why it closes. */
static int handle_closing(bb_client *c, const msgpack_object *params)
{
    bb_error why;
    const msgpack_object *map = NULL;
    if (params->type == MSGPACK_OBJECT_ARRAY && params->via.array.size == 1)
        map = &params->via.array.ptr[0];
    if (bbi_err_from_server(&why, map) != BB_C_ESERVER)
        bbi_err(&why, BB_C_EPROTO, NULL, NULL, "connection.closing without a code");
    conn_break(c, &why);
    return BB_C_OK;
}

/* Keeps notification r (taken) in the queue; over the bound it is
 * dropped, and so is every later one until the queue has been emptied
 * and the library's watch.missed handed out: a newer id queued after a
 * dropped one would come before that watch.missed, and a caller catching
 * up from the last id it saw would skip the dropped ones. */
static int queue_notification(bb_client *c, bb_reply *r, const msgpack_object *method,
                              const msgpack_object *params)
{
    if (c->nmissed || c->nqueued >= BB_CLIENT_MAX_NOTIFICATIONS) {
        c->nmissed = true;
        free_reply(r);
        return BB_C_OK;
    }
    r->method = malloc(method->via.str.size + 1);
    if (r->method == NULL) {
        c->nmissed = true;
        free_reply(r);
        return BB_C_OK;
    }
    memcpy(r->method, method->via.str.ptr, method->via.str.size);
    r->method[method->via.str.size] = '\0';
    /* The params of every notification of the protocol are one record. */
    r->result = params->type == MSGPACK_OBJECT_ARRAY && params->via.array.size == 1
                    ? &params->via.array.ptr[0] : params;
    r->next = NULL;
    if (c->ntail != NULL)
        c->ntail->next = r;
    else
        c->nhead = r;
    c->ntail = r;
    c->nqueued++;
    return BB_C_OK;
}

/* One framed message: a response is kept in its slot (or dropped when its
 * msgid is not in flight), a notification acted on. Returns BB_C_OK or
 * breaks the connection with protocol_error. */
static int handle_message(bb_client *c, const uint8_t *bytes, size_t len)
{
    bb_reply *r = calloc(1, sizeof *r);
    if (r == NULL)
        return fail_conn(c, NULL, BB_C_ENOMEM, NULL, "out of memory reading a reply");
    msgpack_unpacked_init(&r->up);
    r->bytes = malloc(len);
    if (r->bytes == NULL) {
        free_reply(r);
        return fail_conn(c, NULL, BB_C_ENOMEM, NULL, "out of memory reading a reply");
    }
    memcpy(r->bytes, bytes, len);
    r->len = len;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack_next(&r->up, r->bytes, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        free_reply(r);
        return fail_conn(c, NULL, BB_C_EPROTO, NULL, "the server sent a message msgpack cannot decode");
    }
    const msgpack_object *root = &r->up.data;
    const char *bad = NULL;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size < 1) {
        bad = "the server sent a message that is not an envelope";
    } else {
        const msgpack_object *el = root->via.array.ptr;
        uint32_t n = root->via.array.size;
        if (el[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && el[0].via.u64 == 1 && n == 4) {
            if (!obj_u32(&el[1], &r->msgid))
                bad = "response msgid is not a 32-bit unsigned int";
            else if (el[2].type != MSGPACK_OBJECT_NIL && el[2].type != MSGPACK_OBJECT_MAP)
                bad = "response error is neither nil nor a map";
            else {
                r->error = el[2].type == MSGPACK_OBJECT_NIL ? NULL : &el[2];
                r->result = &el[3];
                bb_slot *s = find_slot(c, r->msgid);
                if (s != NULL && s->reply == NULL) {
                    s->reply = r;
                    return BB_C_OK;
                }
                /* Not asked for (or a duplicate): dropped, see the file comment. */
                free_reply(r);
                return BB_C_OK;
            }
        } else if (el[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER && el[0].via.u64 == 2 &&
                   n == 3) {
            if (el[1].type != MSGPACK_OBJECT_STR)
                bad = "notification method is not a str";
            else {
                if (obj_is_str(&el[1], "connection.closing")) {
                    int rc = handle_closing(c, &el[2]);
                    free_reply(r);
                    return rc;
                }
                /* Any other (pushes after watch.subscribe): kept for
                 * bb_next_notification, bounded. */
                return queue_notification(c, r, &el[1], &el[2]);
            }
        } else {
            bad = "the server sent a message that is not a response or notification";
        }
    }
    free_reply(r);
    return fail_conn(c, NULL, BB_C_EPROTO, NULL, bad);
}

/* Frames and handles every whole message in rbuf; keeps the partial rest. */
static int process_input(bb_client *c)
{
    size_t off = 0;
    int rc = BB_C_OK;
    while (rc == BB_C_OK) {
        bb_frame_status st = bb_frame_scan(&c->frame, c->rbuf + off, c->rlen - off);
        if (st == BB_FRAME_NEED_MORE)
            break;
        if (st != BB_FRAME_COMPLETE) {
            const char *why = st == BB_FRAME_TOO_LARGE ? "a reply is larger than the client's limit"
                              : st == BB_FRAME_TOO_DEEP ? "a reply nests deeper than the client's limit"
                                                        : "the server sent bytes that are not msgpack";
            rc = fail_conn(c, NULL, BB_C_EPROTO, NULL, why);
            c->rlen = 0;
            bb_frame_reset(&c->frame);
            return rc;
        }
        size_t n = c->frame.message_len;
        rc = handle_message(c, c->rbuf + off, n);
        bb_frame_reset(&c->frame);
        off += n;
    }
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    if (c->rlen == 0 && c->rcap > SHRINK_ABOVE) {
        /* One large reply should not pin its buffer for the client's life. */
        free(c->rbuf);
        c->rbuf = NULL;
        c->rcap = 0;
    }
    return rc;
}

/* read_available under TLS: plaintext of the records that arrived (OpenSSL
 * reads the socket), then the same framing. Replies that came before an
 * end or an error are kept first. */
static int read_available_tls(bb_client *c)
{
    char why[256] = "";
    ssize_t n = 0;
    bool got = false;
    c->tls_read_wants_write = false;
    while (c->rcap > c->rlen) {
        n = bbi_tls_read(c->tls, c->rbuf + c->rlen, c->rcap - c->rlen, why, sizeof why);
        if (n <= 0)
            break;
        c->rlen += (size_t)n;
        got = true;
        if (bbi_tls_pending(c->tls) == 0)
            break;
    }
    int rc = got ? process_input(c) : BB_C_OK;
    if (n > 0 || n == BBI_TLS_WANT_READ)
        return rc;
    if (n == BBI_TLS_WANT_WRITE) {
        c->tls_read_wants_write = true;
        return rc;
    }
    if (n == BBI_TLS_EOF)
        return fail_conn(c, NULL, BB_C_EIO, "connection_lost",
                         "the server closed the connection");
    char msg[300];
    snprintf(msg, sizeof msg, "reading from the server: %s", why);
    return fail_conn(c, NULL, BB_C_EIO, n == BBI_TLS_ERROR ? "tls_failed" : "connection_lost",
                     msg);
}

/* Reads what the socket has (after poll said it is readable) and handles
 * whole messages. Returns BB_C_OK (possibly having read nothing) or the
 * error that broke the connection. */
static int read_available(bb_client *c)
{
    if (c->state == BB_CONN_BROKEN)
        return c->broken.rc;
    if (c->rcap - c->rlen < READ_CHUNK) {
        size_t cap = c->rcap ? c->rcap : READ_CHUNK * 2;
        while (cap - c->rlen < READ_CHUNK)
            cap *= 2;
        uint8_t *b = realloc(c->rbuf, cap);
        if (b == NULL)
            return fail_conn(c, NULL, BB_C_ENOMEM, NULL, "out of memory reading a reply");
        c->rbuf = b;
        c->rcap = cap;
    }
    if (c->tls != NULL)
        return read_available_tls(c);
    ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return BB_C_OK;
        char msg[256];
        snprintf(msg, sizeof msg, "reading from the server: %s", strerror(errno));
        return fail_conn(c, NULL, BB_C_EIO, "connection_lost", msg);
    }
    if (n == 0)
        return fail_conn(c, NULL, BB_C_EIO, "connection_lost",
                         "the server closed the connection");
    c->rlen += (size_t)n;
    return process_input(c);
}

/* Waits up to the deadline for the socket to become readable, then reads.
 * Returns BB_C_OK, BB_C_ETIMEOUT when nothing came, or the broken error. */
static int read_until(bb_client *c, int64_t deadline)
{
    if (c->state == BB_CONN_BROKEN)
        return c->broken.rc;
    if (c->tls != NULL && bbi_tls_pending(c->tls) > 0)
        return read_available(c); /* decrypted already: no poll */
    for (;;) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        if (c->tls_read_wants_write)
            p.events |= POLLOUT;
        int pr = poll(&p, 1, bbi_time_left(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "poll: %s", strerror(errno));
            return fail_conn(c, NULL, BB_C_EIO, "connection_lost", msg);
        }
        if (pr == 0)
            return BB_C_ETIMEOUT;
        return read_available(c);
    }
}

/* ---- writing ---- */

/* Reads whatever is already readable, without waiting, until the socket
 * would block or the connection breaks. */
static void drain_readable(bb_client *c)
{
    /* Bounded: a peer that keeps sending must not keep us here. */
    for (unsigned i = 0; i < WAIT_LATE_READS && c->state == BB_CONN_OPEN; i++) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        if ((c->tls == NULL || bbi_tls_pending(c->tls) == 0) && poll(&p, 1, 0) <= 0)
            return;
        if (read_available(c) != BB_C_OK)
            return;
    }
}

/* Writes all of buf before the deadline. While the socket is full it also
 * reads, so a server that stops reading until we take its replies (its
 * write_high_water) never deadlocks with us. A write cut short leaves the
 * stream with half a message, so the connection is broken then. */
static int write_all(bb_client *c, const void *buf, size_t len, int64_t deadline, bb_error *err)
{
    const uint8_t *p = buf;
    size_t done = 0;
    bool record_started = false; /* TLS: a record may be partly out */
    while (done < len) {
        if (c->state == BB_CONN_BROKEN)
            return broken_error(c, err);
        short wait_events = POLLIN | POLLOUT;
        if (c->tls != NULL) {
            char why[256] = "";
            ssize_t n = bbi_tls_write(c->tls, p + done, len - done, why, sizeof why);
            if (n > 0) {
                done += (size_t)n;
                continue;
            }
            if (n == BBI_TLS_WANT_READ) {
                wait_events = POLLIN; /* the SSL must read first */
            } else if (n == BBI_TLS_WANT_WRITE) {
                record_started = true;
            } else {
                char msg[300];
                snprintf(msg, sizeof msg, "writing to the server: %s", why);
                drain_readable(c);
                return fail_conn(c, err, BB_C_EIO,
                                 n == BBI_TLS_ERROR ? "tls_failed" : "connection_lost", msg);
            }
            goto wait;
        }
        ssize_t n = send(c->fd, p + done, len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            char msg[256];
            snprintf(msg, sizeof msg, "writing to the server: %s", strerror(errno));
            /* The server may have said why it closed (connection.closing)
             * before it did: read that first, it is the better reason. */
            drain_readable(c);
            return fail_conn(c, err, BB_C_EIO, "connection_lost", msg);
        }
        /* The socket is full. Past the deadline give up even when there is
         * something to read: a server that keeps sending (replies, or
         * garbage) while it reads nothing must not hold us here. */
    wait:;
        struct pollfd pfd = { .fd = c->fd, .events = wait_events };
        int pr = deadline_passed(deadline) ? 0 : poll(&pfd, 1, bbi_time_left(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            bbi_err(err, BB_C_ETIMEOUT, NULL, NULL,
                    "could not send the request within the timeout");
            if (done > 0 || record_started) {
                bb_error why;
                bbi_err(&why, BB_C_EIO, "connection_lost", NULL,
                        "connection closed after a write timed out half way");
                conn_break(c, &why);
            }
            return BB_C_ETIMEOUT;
        }
        if (pr < 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "poll: %s", strerror(errno));
            return fail_conn(c, err, BB_C_EIO, "connection_lost", msg);
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            int rc = read_available(c);
            if (rc != BB_C_OK)
                return broken_error(c, err);
        }
    }
    return BB_C_OK;
}

/* ---- connecting ---- */

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port (copied). */
static int parse_server(const char *server, char *host, size_t hostcap, char *port,
                        size_t portcap, bb_error *err)
{
    const char *hs, *he, *ps;
    if (server[0] == '[') {
        hs = server + 1;
        he = strchr(hs, ']');
        if (he == NULL || he[1] != ':')
            return bbi_err(err, BB_C_EARG, "invalid_argument", "server",
                           "server \"%s\": expected [IPV6]:PORT", server);
        ps = he + 2;
    } else {
        hs = server;
        he = strrchr(server, ':');
        if (he == NULL)
            return bbi_err(err, BB_C_EARG, "invalid_argument", "server",
                           "server \"%s\": expected HOST:PORT", server);
        if (memchr(hs, ':', (size_t)(he - hs)) != NULL)
            return bbi_err(err, BB_C_EARG, "invalid_argument", "server",
                           "server \"%s\": write an IPv6 address as [ADDRESS]:PORT", server);
        ps = he + 1;
    }
    size_t hlen = (size_t)(he - hs);
    if (hlen == 0 || hlen >= hostcap || hlen > MAX_HOST_LEN)
        return bbi_err(err, BB_C_EARG, "invalid_argument", "server",
                       "server \"%s\": bad host", server);
    size_t plen = strlen(ps);
    unsigned long pv = 0;
    for (size_t i = 0; i < plen; i++) {
        if (ps[i] < '0' || ps[i] > '9' || pv > 65535) {
            pv = 0;
            break;
        }
        pv = pv * 10 + (unsigned long)(ps[i] - '0');
    }
    if (plen == 0 || plen >= portcap || pv == 0 || pv > 65535)
        return bbi_err(err, BB_C_EARG, "invalid_argument", "server",
                       "server \"%s\": port must be 1-65535", server);
    memcpy(host, hs, hlen);
    host[hlen] = '\0';
    memcpy(port, ps, plen + 1);
    return BB_C_OK;
}

/* Non-blocking connect to one address, waiting up to the deadline.
 * Returns the socket, or -1 with errno set (ETIMEDOUT when out of time). */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        for (;;) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int pr = poll(&p, 1, bbi_time_left(deadline));
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr <= 0) {
                int e = pr == 0 ? ETIMEDOUT : errno;
                close(fd);
                errno = e;
                return -1;
            }
            break;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            close(fd);
            errno = soerr != 0 ? soerr : errno;
            return -1;
        }
    }
    int one = 1;
    /* Requests are small and answered one by one: do not let Nagle hold them. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Resolves server (NULL or "": $BAOBAO_SERVER, then the default) and
 * connects before deadline. Returns the socket, or -1 with err filled; host
 * receives the HOST part (for TLS's name check). */
static int open_socket(const char *server, int64_t deadline, char host[MAX_HOST_LEN + 1],
                       bb_error *err)
{
    if (server == NULL || server[0] == '\0') {
        server = getenv("BAOBAO_SERVER");
        if (server == NULL || server[0] == '\0')
            server = BB_CLIENT_DEFAULT_SERVER;
    }
    char port[8];
    if (parse_server(server, host, MAX_HOST_LEN + 1, port, sizeof port, err) != BB_C_OK)
        return -1;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int gr = getaddrinfo(host, port, &hints, &res);
    if (gr != 0) {
        bbi_err(err, BB_C_EIO, "connect_failed", NULL, "cannot resolve %s: %s", host,
                gai_strerror(gr));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (const struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = connect_one(ai, deadline);
        if (fd < 0)
            last_errno = errno;
        if (fd < 0 && deadline >= 0 && bbi_time_left(deadline) == 0)
            break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        /* Also a timeout is connect_failed: nothing was sent, so unlike a
         * request's timeout there is nothing that might have been done. */
        bbi_err(err, BB_C_EIO, "connect_failed", NULL, "cannot connect to %s: %s", server,
                last_errno == ETIMEDOUT ? "timed out" : strerror(last_errno));
        return -1;
    }
    return fd;
}

/* The client object around a connected socket (and its TLS, both owned
 * from now on). NULL when out of memory (both closed then). */
static bb_client *new_client(int fd, bbi_tls *tls, bb_error *err)
{
    bb_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        bbi_tls_free(tls);
        close(fd);
        bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
        return NULL;
    }
    c->fd = fd;
    c->tls = tls;
    c->timeout_ms = BB_CLIENT_DEFAULT_TIMEOUT_MS;
    c->next_msgid = 1;
    c->state = BB_CONN_OPEN;
    bb_frame_init(&c->frame, BB_CLIENT_MAX_REPLY_BYTES, BB_CLIENT_MAX_REPLY_DEPTH);
    return c;
}

bb_client *bb_connect(const char *server, int timeout_ms, bb_error *err)
{
    bbi_err_clear(err);
    char host[MAX_HOST_LEN + 1];
    int fd = open_socket(server, deadline_in(timeout_ms), host, err);
    if (fd < 0)
        return NULL;
    return new_client(fd, NULL, err);
}

bb_client *bb_connect_with(const char *server, const bb_connect_opts *opts, bb_error *err)
{
    bbi_err_clear(err);
    /* 0 (a zeroed opts struct) means the default, not "no time at all" */
    int timeout_ms = opts == NULL || opts->timeout_ms == 0 ? BB_CLIENT_DEFAULT_TIMEOUT_MS
                                                           : opts->timeout_ms;
    int64_t deadline = deadline_in(timeout_ms);
    char host[MAX_HOST_LEN + 1];
    int fd = open_socket(server, deadline, host, err);
    if (fd < 0)
        return NULL;
    bbi_tls *tls = NULL;
    if (opts != NULL && opts->tls) {
        /* One deadline for the TCP connect and the handshake together. */
        if (bbi_tls_connect(fd, host, opts, deadline, &tls, err) != BB_C_OK) {
            close(fd);
            return NULL;
        }
    }
    return new_client(fd, tls, err);
}

void bb_close(bb_client *c)
{
    if (c == NULL)
        return;
    bbi_tls_close(c->tls, c->fd >= 0); /* close_notify when still open */
    if (c->fd >= 0)
        close(c->fd);
    for (size_t i = 0; i < c->nslots; i++)
        free_reply(c->slots[i].reply);
    while (c->nhead != NULL) {
        bb_reply *r = c->nhead;
        c->nhead = r->next;
        free_reply(r);
    }
    free(c->slots);
    free(c->rbuf);
    free(c);
}

void bb_set_timeout(bb_client *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

/* ---- raw calls ---- */

const msgpack_object *bb_reply_result(const bb_reply *r)
{
    return r->result;
}

void bb_reply_free(bb_reply *r)
{
    free_reply(r);
}

/* A msgid not in flight; 0 is skipped so that it can mean "none". */
static uint32_t pick_msgid(bb_client *c)
{
    for (;;) {
        uint32_t id = c->next_msgid++;
        if (id != 0 && find_slot(c, id) == NULL)
            return id;
    }
}

int bb_send(bb_client *c, const char *method, const void *args_map, size_t args_len,
            uint32_t *msgid, bb_error *err)
{
    bbi_err_clear(err);
    if (c->state == BB_CONN_BROKEN)
        return broken_error(c, err);
    if (method == NULL || !bb_utf8_valid(method, strlen(method)))
        return bbi_err(err, BB_C_EARG, "invalid_argument", "method", "bad method name");
    uint32_t id = pick_msgid(c);
    size_t mlen = strlen(method);
    bool has_args = args_map != NULL && args_len > 0;
    /* The frame copies the argument map, passwords included: the buffer
     * is sized for all of it up front (never reallocated, which would
     * leave a copy behind in freed memory) and zeroed before it is freed
     * (bbi_args_wipe). Headers: array 1 + type 1 + msgid 5 + str 5 +
     * array 1. */
    bbi_args f;
    bbi_args_init(&f);
    if (bbi_args_reserve(&f, 13 + mlen + (has_args ? args_len : 0), err) != BB_C_OK)
        return BB_C_ENOMEM;
    msgpack_pack_array(&f.pk, 4);
    msgpack_pack_uint8(&f.pk, 0);
    msgpack_pack_uint32(&f.pk, id);
    msgpack_pack_str(&f.pk, mlen);
    msgpack_pack_str_body(&f.pk, method, mlen);
    msgpack_pack_array(&f.pk, has_args ? 1 : 0);
    if (has_args && msgpack_sbuffer_write(&f.sb, args_map, args_len) != 0) {
        bbi_args_wipe(&f);
        return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
    }
    /* The slot exists before the first byte leaves, so a reply that arrives
     * while we are still writing is kept. */
    int rc = add_slot(c, id, err);
    if (rc == BB_C_OK)
        rc = write_all(c, f.sb.data, f.sb.size, deadline_in(c->timeout_ms), err);
    bbi_args_wipe(&f);
    if (rc != BB_C_OK) {
        bb_slot *s = find_slot(c, id);
        if (s != NULL) {
            free_reply(s->reply);
            remove_slot(c, s);
        }
        return rc;
    }
    if (msgid != NULL)
        *msgid = id;
    return BB_C_OK;
}

int bb_send_bytes(bb_client *c, const void *bytes, size_t len, bb_error *err)
{
    bbi_err_clear(err);
    if (c->state == BB_CONN_BROKEN)
        return broken_error(c, err);
    return write_all(c, bytes, len, deadline_in(c->timeout_ms), err);
}

int bb_wait(bb_client *c, uint32_t msgid, int timeout_ms, bb_reply **out, bb_error *err)
{
    bbi_err_clear(err);
    *out = NULL;
    /* A msgid sent with bb_send_bytes is not in flight yet: from now on it is,
     * so its reply is kept when it arrives. */
    if (find_slot(c, msgid) == NULL) {
        int rc = add_slot(c, msgid, err);
        if (rc != BB_C_OK)
            return rc;
    }
    int64_t deadline = deadline_in(timeout_ms);
    unsigned late_reads = 0;
    for (;;) {
        bb_slot *s = find_slot(c, msgid);
        if (s == NULL)   /* cannot happen: only bb_wait removes slots */
            return bbi_err(err, BB_C_EPROTO, NULL, NULL, "lost track of msgid %u", msgid);
        if (s->reply != NULL) {
            bb_reply *r = s->reply;
            remove_slot(c, s);
            if (r->error != NULL) {
                int rc = bbi_err_from_server(err, r->error);
                free_reply(r);
                return rc;
            }
            *out = r;
            return BB_C_OK;
        }
        if (c->state == BB_CONN_BROKEN) {
            remove_slot(c, s);
            return broken_error(c, err);
        }
        /* Past the deadline only what already arrived is taken, and at
         * most WAIT_LATE_READS reads of it: read_until keeps finding bytes
         * while a server keeps sending (other replies, notifications), and
         * that must not make this wait endless. */
        int rc = deadline_passed(deadline) && late_reads++ >= WAIT_LATE_READS
                     ? BB_C_ETIMEOUT
                     : read_until(c, deadline);
        if (rc == BB_C_ETIMEOUT) {
            /* The slot stays: the reply may still come for a later bb_wait. */
            return bbi_err(err, BB_C_ETIMEOUT, NULL, NULL,
                           "no reply from the server within %d ms", timeout_ms);
        }
    }
}

/* The library's own watch.missed, when it dropped notifications over its
 * bound: [2, "watch.missed", [{}]] (no ids: the caller catches up from
 * the last ids it saw). */
static bb_reply *missed_reply(void)
{
    static const unsigned char msg[] = {0x93, 0x02, 0xac, 'w', 'a', 't', 'c', 'h', '.',
                                        'm', 'i', 's', 's', 'e', 'd', 0x91, 0x80};
    bb_reply *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    msgpack_unpacked_init(&r->up);
    r->bytes = malloc(sizeof msg);
    r->method = strdup("watch.missed");
    size_t off = 0;
    if (r->bytes == NULL || r->method == NULL) {
        free_reply(r);
        return NULL;
    }
    memcpy(r->bytes, msg, sizeof msg);
    r->len = sizeof msg;
    if (msgpack_unpack_next(&r->up, r->bytes, r->len, &off) != MSGPACK_UNPACK_SUCCESS) {
        free_reply(r);
        return NULL;
    }
    r->result = &r->up.data.via.array.ptr[2].via.array.ptr[0];
    return r;
}

int bb_next_notification(bb_client *c, int timeout_ms, bb_reply **out, bb_error *err)
{
    bbi_err_clear(err);
    *out = NULL;
    int64_t deadline = deadline_in(timeout_ms);
    unsigned late_reads = 0;
    for (;;) {
        if (c->nhead != NULL) {
            bb_reply *r = c->nhead;
            c->nhead = r->next;
            if (c->nhead == NULL)
                c->ntail = NULL;
            c->nqueued--;
            r->next = NULL;
            *out = r;
            return BB_C_OK;
        }
        if (c->nmissed) {
            bb_reply *r = missed_reply();
            if (r == NULL)
                return bbi_err(err, BB_C_ENOMEM, NULL, NULL, "out of memory");
            c->nmissed = false;
            *out = r;
            return BB_C_OK;
        }
        if (c->state == BB_CONN_BROKEN)
            return broken_error(c, err);
        int rc = deadline_passed(deadline) && late_reads++ >= WAIT_LATE_READS
                     ? BB_C_ETIMEOUT
                     : read_until(c, deadline);
        if (rc == BB_C_ETIMEOUT)
            return bbi_err(err, BB_C_ETIMEOUT, NULL, NULL,
                           "no notification within %d ms", timeout_ms);
    }
}

const char *bb_reply_method(const bb_reply *r) { return r != NULL ? r->method : NULL; }

int bb_call(bb_client *c, const char *method, const void *args_map, size_t args_len,
            bb_reply **out, bb_error *err)
{
    *out = NULL;
    uint32_t id;
    int rc = bb_send(c, method, args_map, args_len, &id, err);
    if (rc != BB_C_OK)
        return rc;
    rc = bb_wait(c, id, c->timeout_ms, out, err);
    if (rc == BB_C_ETIMEOUT) {
        /* Our caller cannot wait for this msgid again (it never saw it):
         * forget it, so a late reply is dropped rather than kept. */
        bb_slot *s = find_slot(c, id);
        if (s != NULL) {
            free_reply(s->reply);
            remove_slot(c, s);
        }
    }
    return rc;
}
