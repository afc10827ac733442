/*
 * proxy.c: proxy_trusted and the PROXY protocol header (see proxy.h).
 *
 * Strict where the spec says "must": one space between v1 fields, no
 * leading zeros, CRLF and nothing else to end the line, v2 version 2 and
 * commands LOCAL/PROXY only, known families and transports only. Anything
 * else is PROXY_BAD, and the connection is closed: the spec's rule is to
 * abort on any sequence that does not match exactly. Addresses are turned
 * into binary and back, so what reaches logs and the audit trail is always
 * a canonical address, whatever bytes the sender used.
 *
 * Not for: sockets, deadlines or logging (client.c).
 */
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof v1_sig - 1)

/* v2 byte 13 (version and command) and 14 (family and transport). */
#define V2_VERSION 0x2u
#define V2_CMD_LOCAL 0x0u
#define V2_CMD_PROXY 0x1u
#define V2_FAM_UNSPEC 0x0u
#define V2_FAM_INET 0x1u
#define V2_FAM_INET6 0x2u
#define V2_FAM_UNIX 0x3u
#define V2_TRANS_UNSPEC 0x0u
#define V2_TRANS_STREAM 0x1u
#define V2_TRANS_DGRAM 0x2u
/* Address block sizes: two addresses and, for IP, two ports. */
#define V2_INET_LEN 12u
#define V2_INET6_LEN 36u
#define V2_UNIX_LEN 216u
/* Fields of a v1 line: PROXY, protocol, two addresses, two ports. */
#define V1_FIELDS 6

/* ---- proxy_trusted ------------------------------------------------------ */

static bool host_bits_clear(const uint8_t *a, unsigned bits, unsigned total)
{
    for (unsigned b = bits; b < total; b++)
        if (a[b / 8] & (0x80u >> (b % 8)))
            return false;
    return true;
}

static int parse_entry(proxy_cidr *e, const char *s, char *err, size_t errlen)
{
    char addr[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof addr) {
        snprintf(err, errlen, "\"%s\" is not an address or CIDR block", s);
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(e, 0, sizeof *e);
    if (inet_pton(AF_INET, addr, e->addr) == 1) {
        e->family = AF_INET;
        e->bits = 32;
    } else if (inet_pton(AF_INET6, addr, e->addr) == 1) {
        e->family = AF_INET6;
        e->bits = 128;
    } else {
        snprintf(err, errlen, "\"%s\" is not an IPv4 or IPv6 address", addr);
        return -1;
    }
    unsigned total = e->bits;
    if (slash != NULL) {
        const char *p = slash + 1;
        unsigned v = 0;
        size_t nd = 0;
        for (; *p >= '0' && *p <= '9' && nd < 4; p++, nd++)
            v = v * 10 + (unsigned)(*p - '0');
        if (nd == 0 || *p != '\0' || v > total || (nd > 1 && slash[1] == '0')) {
            snprintf(err, errlen, "\"%s\": the prefix length must be 0-%u", s, total);
            return -1;
        }
        e->bits = v;
    }
    if (!host_bits_clear(e->addr, e->bits, total)) {
        snprintf(err, errlen, "\"%s\" has bits set beyond its /%u prefix (a typo?)", s,
                 e->bits);
        return -1;
    }
    /* An IPv4-mapped block (::ffff:a.b.c.d/96+) is the IPv4 block it maps:
     * proxy_acl_match compares a mapped peer as IPv4, so kept as IPv6 it
     * would never match. */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (e->family == AF_INET6 && e->bits >= 96 && memcmp(e->addr, mapped, 12) == 0) {
        memmove(e->addr, e->addr + 12, 4);
        memset(e->addr + 4, 0, sizeof e->addr - 4);
        e->family = AF_INET;
        e->bits -= 96;
    }
    return 0;
}

int proxy_acl_parse(proxy_acl *acl, const char *text, char *err, size_t errlen)
{
    memset(acl, 0, sizeof *acl);
    const char *p = text;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[128];
        while (n > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= sizeof item) {
            snprintf(err, errlen, n == 0 ? "an empty entry (two commas, or one at an end)"
                                         : "an entry longer than %zu bytes", sizeof item - 1);
            return -1;
        }
        if (acl->n >= PROXY_TRUSTED_MAX) {
            snprintf(err, errlen, "more than %u entries", PROXY_TRUSTED_MAX);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (parse_entry(&acl->e[acl->n], item, err, errlen) != 0)
            return -1;
        acl->n++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFFu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool proxy_acl_match(const proxy_acl *acl, const struct sockaddr *sa)
{
    uint8_t a[16];
    int family;
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (sa->sa_family == AF_INET) {
        memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        family = AF_INET6;
        /* a dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d */
        if (memcmp(a, v4mapped, sizeof v4mapped) == 0) {
            memmove(a, a + 12, 4);
            family = AF_INET;
        }
    } else {
        return false;
    }
    for (unsigned i = 0; i < acl->n; i++)
        if (acl->e[i].family == family && prefix_equal(acl->e[i].addr, a, acl->e[i].bits))
            return true;
    return false;
}

/* ---- the header ----------------------------------------------------------- */

bool proxy_looks_like_header(const uint8_t *buf, size_t len)
{
    size_t n1 = len < V1_SIG_LEN ? len : V1_SIG_LEN;
    size_t n2 = len < sizeof v2_sig ? len : sizeof v2_sig;
    return (len > 0 && memcmp(buf, v1_sig, n1) == 0) || (len > 0 && memcmp(buf, v2_sig, n2) == 0);
}

/* A decimal port: 0-65535, no leading zero. */
static bool v1_port(const char *s, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *out = v;
    return true;
}

/* An address of the family in its canonical v1 spelling: IPv4 as four
 * decimal numbers without leading zeros, IPv6 as inet_pton reads it. */
static bool v1_addr(int family, const char *s, uint8_t *bin)
{
    if (family == AF_INET) {
        /* inet_pton alone would do on glibc; the leading-zero rule is the
         * spec's, so it is checked here whatever the C library says */
        for (const char *p = s; *p != '\0'; p++) {
            if (*p == '.')
                continue;
            if (*p < '0' || *p > '9')
                return false;
            if (*p == '0' && (p == s || p[-1] == '.') && p[1] >= '0' && p[1] <= '9')
                return false;
        }
    }
    return inet_pton(family, s, bin) == 1;
}

static proxy_status parse_v1(const uint8_t *buf, size_t len, proxy_header *out,
                             const char **why)
{
    size_t scan = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
    size_t end = 0;
    bool found = false;
    for (size_t i = 0; i < scan; i++) {
        if (buf[i] == '\r') {
            if (i + 1 == len)
                return PROXY_NEED_MORE;
            if (i + 1 >= PROXY_V1_MAX || buf[i + 1] != '\n') {
                *why = "v1: a CR not followed by LF";
                return PROXY_BAD;
            }
            end = i;
            found = true;
            break;
        }
        if (buf[i] < 0x20 || buf[i] > 0x7e) {
            *why = "v1: a byte that is not printable US-ASCII before the CRLF";
            return PROXY_BAD;
        }
    }
    if (!found) {
        if (len >= PROXY_V1_MAX) {
            *why = "v1: no CRLF in the first 107 bytes";
            return PROXY_BAD;
        }
        return PROXY_NEED_MORE;
    }
    char line[PROXY_V1_MAX + 1];
    memcpy(line, buf, end);
    line[end] = '\0';
    /* exactly one space between fields: an empty field is malformed */
    char *f[V1_FIELDS + 1];
    int nf = 0;
    char *p = line;
    for (;;) {
        if (nf == V1_FIELDS + 1)
            break;
        f[nf++] = p;
        char *sp = strchr(p, ' ');
        if (sp == NULL)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    memset(out, 0, sizeof *out);
    out->version = 1;
    out->len = end + 2;
    if (nf >= 2 && strcmp(f[1], "UNKNOWN") == 0)
        return PROXY_DONE; /* the rest of the line is ignored (spec 2.1) */
    for (int i = 0; i < nf; i++)
        if (f[i][0] == '\0') {
            *why = "v1: fields must be separated by exactly one space";
            return PROXY_BAD;
        }
    if (nf != V1_FIELDS) {
        *why = "v1: expected PROXY TCP4|TCP6 SRC DST SRCPORT DSTPORT";
        return PROXY_BAD;
    }
    int family;
    if (strcmp(f[1], "TCP4") == 0)
        family = AF_INET;
    else if (strcmp(f[1], "TCP6") == 0)
        family = AF_INET6;
    else {
        *why = "v1: the protocol is not TCP4, TCP6 or UNKNOWN";
        return PROXY_BAD;
    }
    uint8_t src[16], dst[16];
    unsigned sport, dport;
    if (!v1_addr(family, f[2], src) || !v1_addr(family, f[3], dst)) {
        *why = "v1: an address that is not of the family named";
        return PROXY_BAD;
    }
    if (!v1_port(f[4], &sport) || !v1_port(f[5], &dport)) {
        *why = "v1: a port that is not 0-65535 without leading zeros";
        return PROXY_BAD;
    }
    out->has_addr = true;
    out->family = family;
    out->port = sport;
    (void)inet_ntop(family, src, out->addr, sizeof out->addr);
    return PROXY_DONE;
}

static proxy_status parse_v2(const uint8_t *buf, size_t len, proxy_header *out,
                             const char **why)
{
    if (len < PROXY_V2_FIXED)
        return PROXY_NEED_MORE;
    unsigned version = buf[12] >> 4, cmd = buf[12] & 0x0Fu;
    unsigned fam = buf[13] >> 4, trans = buf[13] & 0x0Fu;
    size_t alen = (size_t)buf[14] << 8 | buf[15];
    if (version != V2_VERSION) {
        *why = "v2: the version is not 2";
        return PROXY_BAD;
    }
    if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY) {
        *why = "v2: the command is neither LOCAL nor PROXY";
        return PROXY_BAD;
    }
    if (fam > V2_FAM_UNIX || trans > V2_TRANS_DGRAM) {
        *why = "v2: an unknown address family or transport";
        return PROXY_BAD;
    }
    if (PROXY_V2_FIXED + alen > PROXY_HEADER_MAX) {
        *why = "v2: the header is longer than 536 bytes";
        return PROXY_BAD;
    }
    if (len < PROXY_V2_FIXED + alen)
        return PROXY_NEED_MORE;
    memset(out, 0, sizeof *out);
    out->version = 2;
    out->len = PROXY_V2_FIXED + alen;
    /* LOCAL: the balancer's own connection (a health check): the real
     * peer, whatever follows */
    if (cmd == V2_CMD_LOCAL)
        return PROXY_DONE;
    size_t need = fam == V2_FAM_INET ? V2_INET_LEN
                : fam == V2_FAM_INET6 ? V2_INET6_LEN
                : fam == V2_FAM_UNIX ? V2_UNIX_LEN : 0;
    if (alen < need) {
        *why = "v2: the address block is shorter than its family needs";
        return PROXY_BAD;
    }
    if (trans == V2_TRANS_DGRAM) {
        *why = "v2: a datagram connection announced on a stream";
        return PROXY_BAD;
    }
    /* UNSPEC family or transport, or a UNIX socket: nothing usable as an
     * address; the spec lets a receiver accept it with the real peer */
    if ((fam != V2_FAM_INET && fam != V2_FAM_INET6) || trans != V2_TRANS_STREAM)
        return PROXY_DONE;
    const uint8_t *a = buf + PROXY_V2_FIXED;
    out->has_addr = true;
    if (fam == V2_FAM_INET) {
        out->family = AF_INET;
        out->port = (unsigned)a[8] << 8 | a[9];
    } else {
        out->family = AF_INET6;
        out->port = (unsigned)a[32] << 8 | a[33];
    }
    (void)inet_ntop(out->family, a, out->addr, sizeof out->addr);
    return PROXY_DONE;
}

proxy_status proxy_parse(const uint8_t *buf, size_t len, proxy_header *out, const char **why)
{
    *why = NULL;
    if (len == 0)
        return PROXY_NEED_MORE;
    if (buf[0] == v2_sig[0]) {
        size_t n = len < sizeof v2_sig ? len : sizeof v2_sig;
        if (memcmp(buf, v2_sig, n) != 0) {
            *why = "not a PROXY protocol header";
            return PROXY_BAD;
        }
        return n < sizeof v2_sig ? PROXY_NEED_MORE : parse_v2(buf, len, out, why);
    }
    size_t n = len < V1_SIG_LEN ? len : V1_SIG_LEN;
    if (memcmp(buf, v1_sig, n) != 0) {
        *why = "not a PROXY protocol header";
        return PROXY_BAD;
    }
    return n < V1_SIG_LEN ? PROXY_NEED_MORE : parse_v1(buf, len, out, why);
}
