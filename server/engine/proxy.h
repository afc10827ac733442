/*
 * proxy.h: the PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and
 * 2) as baobaod reads it from a balancer: which peers may send a header
 * (proxy_trusted, parsed once at start), and the parser of one header.
 *
 * Pure functions on bytes and addresses: no loop, no socket, no log, so
 * tests/unit/test_proxy.c drives them directly. What a connection does
 * with the result (waiting for the header, the deadline, closing, logging)
 * is client.c's.
 *
 * Not for: sending PROXY headers, or TLVs (they are skipped, never read).
 */
#ifndef BB_PROXY_H
#define BB_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The longest header read: the spec's "smallest TCP segment any host must
 * take" (576 - 40). A v1 line is at most 107 bytes with its CRLF; a v2
 * header is 16 + its length field, refused when that is more. */
#define PROXY_HEADER_MAX 536u
#define PROXY_V1_MAX 107u
#define PROXY_V2_FIXED 16u
/* Entries of proxy_trusted: the setting holds at most 1023 bytes, so this
 * is about what fits; more is an error at start. */
#define PROXY_TRUSTED_MAX 64u
/* The text of an address ("ffff:...:ffff", or dotted IPv4) with its NUL. */
#define PROXY_ADDR_TEXT 46u

/* One address or CIDR block of proxy_trusted. */
typedef struct proxy_cidr {
    int family;           /* AF_INET or AF_INET6 */
    uint8_t addr[16];     /* network order; IPv4 in the first 4 bytes */
    unsigned bits;        /* prefix length */
} proxy_cidr;

/* The parsed proxy_trusted list. Plain data; n = 0: nobody is trusted. */
typedef struct proxy_acl {
    unsigned n;
    proxy_cidr e[PROXY_TRUSTED_MAX];
} proxy_acl;

/* Parses "10.0.0.5,192.168.1.0/24,::1" (spaces around entries allowed;
 * "" = nobody). Refuses an entry that is not an IPv4/IPv6 literal, a
 * prefix beyond the family's bits, host bits set beyond the prefix (a
 * typo such as /2 for /24 must not trust a quarter of the Internet), an
 * empty entry, or more than PROXY_TRUSTED_MAX entries. Returns 0, or -1
 * with a message naming the entry in err. */
__attribute__((warn_unused_result))
int proxy_acl_parse(proxy_acl *acl, const char *text, char *err, size_t errlen);

/* True when sa (AF_INET or AF_INET6; an IPv4-mapped IPv6 address counts as
 * its IPv4 address) is in the list. */
bool proxy_acl_match(const proxy_acl *acl, const struct sockaddr *sa);

typedef enum proxy_status {
    PROXY_NEED_MORE = 0,  /* a valid beginning: read more */
    PROXY_DONE,           /* a whole valid header: see proxy_header */
    PROXY_BAD,            /* not a header, malformed, or too long: close */
} proxy_status;

typedef struct proxy_header {
    unsigned version;           /* 1 or 2 */
    size_t len;                 /* bytes of the header (the rest is the client's) */
    /* false: use the real peer (v2 LOCAL, v1 UNKNOWN, v2 UNSPEC or UNIX
     * addresses); true: addr/port are the client's */
    bool has_addr;
    int family;                 /* AF_INET or AF_INET6 when has_addr */
    char addr[PROXY_ADDR_TEXT]; /* canonical text (inet_ntop), never the
                                   sender's own spelling */
    unsigned port;
} proxy_header;

/* Parses the header at the start of buf[0, len) (what has arrived so far).
 * PROXY_NEED_MORE while the bytes are a valid beginning of a header shorter
 * than PROXY_HEADER_MAX; PROXY_DONE with *out filled; PROXY_BAD with *why
 * (a static string) set. Never reads past len. */
proxy_status proxy_parse(const uint8_t *buf, size_t len, proxy_header *out, const char **why);

/* True when buf[0, len) (len >= 1) begins like a PROXY header (v1 "PROXY "
 * or the v2 signature, as far as the bytes go): how an untrusted peer
 * sending one is told from an ordinary client, whose first byte is a
 * msgpack array or a TLS record. */
bool proxy_looks_like_header(const uint8_t *buf, size_t len);

#endif
