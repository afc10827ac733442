/*
 * conn.c: a benchmark client connection (see conn.h).
 *
 * For: bytes in and out of one socket, and cutting the input into messages.
 * Not for: the event loop (bench.c) or the protocol's meaning (workload.c).
 */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_IN_INITIAL (64u * 1024u)
#define CONN_OUT_INITIAL (16u * 1024u)
#define CONN_READ_CHUNK (64u * 1024u)
#define CONN_HOST_MAX 256u

int conn_resolve(const char *hostport, struct sockaddr_storage *addr, unsigned *addrlen)
{
    char host[CONN_HOST_MAX];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || colon == hostport || colon[1] == '\0' ||
        (size_t)(colon - hostport) >= sizeof host) {
        fprintf(stderr, "bench: server must be HOST:PORT, not '%s'\n", hostport);
        return -1;
    }
    const char *h = hostport;
    size_t hlen = (size_t)(colon - hostport);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {  /* [::1]:7420 */
        h++;
        hlen -= 2;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL) {
        fprintf(stderr, "bench: cannot resolve '%s': %s\n", hostport, gai_strerror(rc));
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *addrlen = (unsigned)res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* msgpack-c's write callback: appends to the output buffer. On
 * out-of-memory the process ends (the run could not be trusted anyway). */
static int packer_write(void *data, const char *buf, size_t len)
{
    bconn *c = data;
    if (c->out_off > 0 && c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    if (c->out_len + len > c->out_cap) {
        if (c->out_off > 0) {
            memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
            c->out_len -= c->out_off;
            c->out_off = 0;
        }
        size_t cap = c->out_cap;
        while (c->out_len + len > cap)
            cap *= 2;
        if (cap != c->out_cap) {
            uint8_t *p = realloc(c->out, cap);
            if (p == NULL) {
                fprintf(stderr, "bench: out of memory\n");
                exit(2);
            }
            c->out = p;
            c->out_cap = cap;
        }
    }
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return 0;
}

int conn_open(bconn *c, const struct sockaddr_storage *addr, unsigned addrlen, int index)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->index = index;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)addr, addrlen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    c->in = malloc(CONN_IN_INITIAL);
    c->out = malloc(CONN_OUT_INITIAL);
    if (c->in == NULL || c->out == NULL) {
        free(c->in);
        free(c->out);
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    c->in_cap = CONN_IN_INITIAL;
    c->out_cap = CONN_OUT_INITIAL;
    c->fd = fd;
    bb_frame_init(&c->frame, CONN_MAX_REPLY_BYTES, CONN_MAX_REPLY_DEPTH);
    msgpack_packer_init(&c->pk, c, packer_write);
    return 0;
}

void conn_close(bconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->in);
    free(c->out);
    c->fd = -1;
    c->in = c->out = NULL;
}

int conn_flush(bconn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        c->broken = true;
        return -1;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

/* Frames and hands out every complete message at the start of c->in, then
 * moves what is left (a partial message) to the front. */
static int deliver(bconn *c, conn_reply_cb cb, void *ctx)
{
    size_t off = 0;
    int count = 0;
    while (off < c->in_len) {
        bb_frame_status st = bb_frame_scan(&c->frame, c->in + off, c->in_len - off);
        if (st == BB_FRAME_NEED_MORE)
            break;
        if (st != BB_FRAME_COMPLETE) {
            fprintf(stderr, "bench: connection %d: reply refused by the framer (status %d)\n",
                    c->index, (int)st);
            c->broken = true;
            return -1;
        }
        size_t len = c->frame.message_len;
        bb_frame_reset(&c->frame);
        cb(c, c->in + off, len, ctx);
        off += len;
        count++;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return count;
}

int conn_read(bconn *c, conn_reply_cb cb, void *ctx)
{
    int total = 0;
    for (;;) {
        if (c->in_cap - c->in_len < CONN_READ_CHUNK / 4) {
            size_t cap = c->in_cap * 2;
            uint8_t *p = realloc(c->in, cap);
            if (p == NULL) {
                fprintf(stderr, "bench: out of memory\n");
                exit(2);
            }
            c->in = p;
            c->in_cap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n > 0) {
            c->in_len += (size_t)n;
            int k = deliver(c, cb, ctx);
            if (k < 0)
                return -1;
            total += k;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return total;
        if (n == 0)
            fprintf(stderr, "bench: connection %d closed by the server\n", c->index);
        else
            fprintf(stderr, "bench: connection %d: read: %s\n", c->index, strerror(errno));
        c->broken = true;
        return -1;
    }
}
