/*
 * test_proxy.c: server/engine/proxy.c on its own: the PROXY protocol
 * header parser (v1 text, v2 binary) and the proxy_trusted list.
 *
 * Pins down: v1 TCP4/TCP6/UNKNOWN lines, the client's bytes after the
 * header left alone (len), every cut of a valid header is NEED_MORE and
 * never DONE early; malformed lines (double space, leading zeros, a lone
 * CR or LF, wrong family, bad ports, no CRLF in 107 bytes); v2 PROXY over
 * IPv4 and IPv6, LOCAL (real peer), UNSPEC and UNIX (real peer), TLVs
 * skipped, bad version/command/family/transport, an address block shorter
 * than its family, a length beyond 536 bytes refused as soon as the 16
 * fixed bytes are in; proxy_trusted entries, prefixes, host bits, limits,
 * and matching (IPv4-mapped IPv6 peers included). Not for: what a
 * connection does with it (tests/integration/test_proxy.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static proxy_status parse_str(const char *s, proxy_header *h, const char **why)
{
    return proxy_parse((const uint8_t *)s, strlen(s), h, why);
}

/* Every proper prefix of a valid header is NEED_MORE (never DONE, never BAD). */
static void assert_cuts_need_more(const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        proxy_header h;
        const char *why;
        assert_int_equal(proxy_parse(b, i, &h, &why), PROXY_NEED_MORE);
    }
}

static void test_v1_tcp4(void **state)
{
    (void)state;
    const char *s = "PROXY TCP4 203.0.113.7 192.0.2.1 51234 7420\r\n\x92\x00";
    proxy_header h;
    const char *why;
    assert_int_equal(parse_str(s, &h, &why), PROXY_DONE);
    assert_int_equal(h.version, 1);
    assert_true(h.has_addr);
    assert_int_equal(h.family, AF_INET);
    assert_string_equal(h.addr, "203.0.113.7");
    assert_int_equal(h.port, 51234);
    /* the client's bytes after the CRLF are not the header's */
    assert_int_equal(h.len, strlen("PROXY TCP4 203.0.113.7 192.0.2.1 51234 7420\r\n"));
    assert_cuts_need_more((const uint8_t *)s, h.len);
}

static void test_v1_tcp6_canonical(void **state)
{
    (void)state;
    proxy_header h;
    const char *why;
    assert_int_equal(parse_str("PROXY TCP6 2001:DB8:0:0::1 ::1 65535 0\r\n", &h, &why),
                     PROXY_DONE);
    assert_int_equal(h.family, AF_INET6);
    /* re-spelt canonically: the sender's spelling never reaches logs */
    assert_string_equal(h.addr, "2001:db8::1");
    assert_int_equal(h.port, 65535);
    /* the longest v1 line (107 bytes with CRLF) is accepted */
    const char *longest = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    assert_int_equal(strlen(longest), 107);
    assert_int_equal(parse_str(longest, &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
}

static void test_v1_unknown_uses_real_peer(void **state)
{
    (void)state;
    proxy_header h;
    const char *why;
    assert_int_equal(parse_str("PROXY UNKNOWN\r\n", &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
    assert_int_equal(h.len, 15);
    /* the rest of an UNKNOWN line is ignored, whatever it holds */
    assert_int_equal(parse_str("PROXY UNKNOWN what  ever\r\n", &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
}

static void test_v1_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "PROXY TCP4 203.0.113.7  192.0.2.1 1 2\r\n",   /* two spaces */
        "PROXY TCP4 203.0.113.07 192.0.2.1 1 2\r\n",   /* leading zero */
        "PROXY TCP4 203.0.113.7 192.0.2.1 01 2\r\n",   /* port with a leading zero */
        "PROXY TCP4 203.0.113.7 192.0.2.1 65536 2\r\n",/* port too big */
        "PROXY TCP4 203.0.113.7 192.0.2.1 -1 2\r\n",
        "PROXY TCP4 ::1 ::1 1 2\r\n",                  /* family mismatch */
        "PROXY TCP6 203.0.113.7 192.0.2.1 1 2\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 1\r\n",      /* a field missing */
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2 3\r\n",  /* one too many */
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2 \r\n",   /* trailing space */
        "PROXY UDP4 203.0.113.7 192.0.2.1 1 2\r\n",
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\rX",     /* lone CR */
        "PROXY TCP4 203.0.113.7 192.0.2.1 1 2\n",      /* lone LF */
        "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
        "PROXX TCP4",                                  /* not the signature */
        "proxy TCP4",
        "GET / HTTP/1.1\r\n",
        "\x92\x00\xa0",                                /* an ordinary client */
        "\x16\x03\x01",                                /* a TLS ClientHello */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proxy_header h;
        const char *why = NULL;
        proxy_status st = parse_str(bad[i], &h, &why);
        if (st != PROXY_BAD)
            fail_msg("not refused: %s", bad[i]);
        assert_non_null(why);
    }
}

static void test_v1_without_crlf_in_107_bytes(void **state)
{
    (void)state;
    char line[200];
    memset(line, 'f', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    proxy_header h;
    const char *why;
    /* 106 bytes without CRLF: could still end at 107 */
    assert_int_equal(proxy_parse((const uint8_t *)line, 106, &h, &why), PROXY_NEED_MORE);
    assert_int_equal(proxy_parse((const uint8_t *)line, 107, &h, &why), PROXY_BAD);
    /* the CRLF one byte too late */
    line[106] = '\r';
    line[107] = '\n';
    assert_int_equal(proxy_parse((const uint8_t *)line, 108, &h, &why), PROXY_BAD);
}

/* A v2 header: 16 fixed bytes, then the address block and TLVs. */
static size_t v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const uint8_t *body, size_t blen)
{
    memcpy(out, sig, 12);
    out[12] = ver_cmd;
    out[13] = fam;
    out[14] = (uint8_t)(blen >> 8);
    out[15] = (uint8_t)blen;
    if (blen > 0)
        memcpy(out + 16, body, blen);
    return 16 + blen;
}

static void test_v2_inet(void **state)
{
    (void)state;
    uint8_t body[12 + 7] = {198, 51, 100, 9, 192, 0, 2, 1, 0xC8, 0x01, 0x1C, 0xFC,
                            /* a TLV (NOOP, 4 bytes): skipped */
                            0x04, 0x00, 0x04, 1, 2, 3, 4};
    uint8_t b[64];
    size_t n = v2(b, 0x21, 0x11, body, sizeof body);
    b[n] = 0x92; /* the client's first byte */
    proxy_header h;
    const char *why;
    assert_int_equal(proxy_parse(b, n + 1, &h, &why), PROXY_DONE);
    assert_int_equal(h.version, 2);
    assert_true(h.has_addr);
    assert_string_equal(h.addr, "198.51.100.9");
    assert_int_equal(h.port, 0xC801);
    assert_int_equal(h.len, n);
    assert_cuts_need_more(b, n);
}

static void test_v2_inet6(void **state)
{
    (void)state;
    uint8_t body[36] = {0};
    body[0] = 0x20;
    body[1] = 0x01;
    body[2] = 0x0d;
    body[3] = 0xb8;
    body[15] = 0x42;
    body[32] = 0x01;
    body[33] = 0xBB;
    uint8_t b[64];
    size_t n = v2(b, 0x21, 0x21, body, sizeof body);
    proxy_header h;
    const char *why;
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_DONE);
    assert_int_equal(h.family, AF_INET6);
    assert_string_equal(h.addr, "2001:db8::42");
    assert_int_equal(h.port, 443);
}

static void test_v2_local_and_unspec_use_real_peer(void **state)
{
    (void)state;
    uint8_t b[300];
    proxy_header h;
    const char *why;
    /* LOCAL with no address */
    size_t n = v2(b, 0x20, 0x00, NULL, 0);
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
    assert_int_equal(h.len, 16);
    /* LOCAL with an address block: still the real peer, block skipped */
    uint8_t body[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2};
    n = v2(b, 0x20, 0x11, body, sizeof body);
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
    assert_int_equal(h.len, 28);
    /* PROXY with UNSPEC: the real peer */
    n = v2(b, 0x21, 0x00, NULL, 0);
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
    /* PROXY over a UNIX socket: no IP to use, the real peer */
    uint8_t unixb[216] = {0};
    n = v2(b, 0x21, 0x31, unixb, sizeof unixb);
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_DONE);
    assert_false(h.has_addr);
}

static void test_v2_malformed(void **state)
{
    (void)state;
    uint8_t body[12] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2};
    struct {
        uint8_t ver_cmd, fam;
        size_t blen;
    } bad[] = {
        {0x11, 0x11, 12}, /* version 1 in a v2 header */
        {0x31, 0x11, 12}, /* version 3 */
        {0x22, 0x11, 12}, /* command 2 */
        {0x2F, 0x11, 12},
        {0x21, 0x41, 12}, /* family 4 */
        {0x21, 0x13, 12}, /* transport 3 */
        {0x21, 0x12, 12}, /* UDP on a stream */
        {0x21, 0x11, 11}, /* IPv4 block too short */
        {0x21, 0x21, 12}, /* IPv6 block too short */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[64];
        size_t n = v2(b, bad[i].ver_cmd, bad[i].fam, body, bad[i].blen);
        proxy_header h;
        const char *why = NULL;
        if (proxy_parse(b, n, &h, &why) != PROXY_BAD)
            fail_msg("v2 case %zu not refused", i);
        assert_non_null(why);
    }
    /* the signature broken at its 5th byte (the NUL) */
    uint8_t b[32];
    size_t n = v2(b, 0x21, 0x11, body, sizeof body);
    b[4] = 'x';
    proxy_header h;
    const char *why;
    assert_int_equal(proxy_parse(b, n, &h, &why), PROXY_BAD);
}

static void test_v2_oversized_refused_from_its_fixed_part(void **state)
{
    (void)state;
    uint8_t b[16];
    memcpy(b, sig, 12);
    b[12] = 0x21;
    b[13] = 0x11;
    /* 16 + 521 = 537 > 536: refused before any of the 521 bytes came */
    b[14] = 521 >> 8;
    b[15] = 521 & 0xFF;
    proxy_header h;
    const char *why;
    assert_int_equal(proxy_parse(b, 16, &h, &why), PROXY_BAD);
    /* 16 + 520 = 536 exactly: waited for, then accepted */
    b[15] = 520 & 0xFF;
    assert_int_equal(proxy_parse(b, 16, &h, &why), PROXY_NEED_MORE);
    uint8_t big[PROXY_HEADER_MAX];
    memset(big, 0, sizeof big);
    memcpy(big, b, 16);
    big[16] = 10;
    big[19] = 1;
    assert_int_equal(proxy_parse(big, sizeof big, &h, &why), PROXY_DONE);
    assert_int_equal(h.len, PROXY_HEADER_MAX);
    assert_string_equal(h.addr, "10.0.0.1");
    /* 65535 declared */
    b[14] = b[15] = 0xFF;
    assert_int_equal(proxy_parse(b, 16, &h, &why), PROXY_BAD);
}

static void test_looks_like_header(void **state)
{
    (void)state;
    assert_true(proxy_looks_like_header((const uint8_t *)"P", 1));
    assert_true(proxy_looks_like_header((const uint8_t *)"PROXY TCP4 1.2.3.4", 18));
    assert_true(proxy_looks_like_header(sig, 1));
    assert_true(proxy_looks_like_header(sig, 12));
    assert_false(proxy_looks_like_header((const uint8_t *)"\x92\x00", 2));
    assert_false(proxy_looks_like_header((const uint8_t *)"\x16\x03", 2));
    assert_false(proxy_looks_like_header((const uint8_t *)"PRIZE", 5));
}

static struct sockaddr_storage sa_of(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(ip, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    }
    return ss;
}

static bool match(const proxy_acl *acl, const char *ip)
{
    struct sockaddr_storage ss = sa_of(ip);
    return proxy_acl_match(acl, (const struct sockaddr *)&ss);
}

static void test_acl_parse_and_match(void **state)
{
    (void)state;
    proxy_acl acl;
    char err[256];
    assert_int_equal(proxy_acl_parse(&acl, "10.0.0.5, 192.168.1.0/24,::1 ,fd00::/8", err,
                                     sizeof err), 0);
    assert_int_equal(acl.n, 4);
    assert_true(match(&acl, "10.0.0.5"));
    assert_false(match(&acl, "10.0.0.6"));
    assert_true(match(&acl, "192.168.1.200"));
    assert_false(match(&acl, "192.168.2.1"));
    assert_true(match(&acl, "::1"));
    assert_true(match(&acl, "fd12:3456::9"));
    assert_false(match(&acl, "fe80::1"));
    /* a dual-stack listener sees an IPv4 balancer as ::ffff:a.b.c.d */
    assert_true(match(&acl, "::ffff:192.168.1.7"));
    assert_false(match(&acl, "::ffff:192.168.3.7"));
    /* /0 trusts everyone of its family, only of its family */
    assert_int_equal(proxy_acl_parse(&acl, "0.0.0.0/0", err, sizeof err), 0);
    assert_true(match(&acl, "203.0.113.1"));
    assert_false(match(&acl, "2001:db8::1"));
    /* empty: nobody */
    assert_int_equal(proxy_acl_parse(&acl, "", err, sizeof err), 0);
    assert_int_equal(acl.n, 0);
    assert_false(match(&acl, "127.0.0.1"));
    assert_int_equal(proxy_acl_parse(&acl, "127.0.0.1/32", err, sizeof err), 0);
    assert_true(match(&acl, "127.0.0.1"));
    /* an IPv4-mapped entry is the IPv4 block it maps, for both spellings
     * of a peer */
    assert_int_equal(proxy_acl_parse(&acl, "::ffff:10.0.0.0/104", err, sizeof err), 0);
    assert_true(match(&acl, "10.1.2.3"));
    assert_true(match(&acl, "::ffff:10.1.2.3"));
    assert_false(match(&acl, "11.0.0.1"));
    assert_int_equal(proxy_acl_parse(&acl, "::ffff:192.0.2.7", err, sizeof err), 0);
    assert_true(match(&acl, "192.0.2.7"));
    assert_false(match(&acl, "192.0.2.8"));
}

static void test_acl_refuses_bad_entries(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "10.0.0.256", "10.0.0", "localhost", "10.0.0.0/33", "::/129", "10.0.0.0/",
        "10.0.0.0/-1", "10.0.0.0/08", "192.168.1.5/24", "10.0.0.1,,10.0.0.2", "10.0.0.1,",
        ",10.0.0.1", "[::1]", "10.0.0.0/2x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        proxy_acl acl;
        char err[256] = "";
        if (proxy_acl_parse(&acl, bad[i], err, sizeof err) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_true(err[0] != '\0');
    }
    /* more than PROXY_TRUSTED_MAX entries */
    char many[2048] = "";
    for (unsigned i = 0; i <= PROXY_TRUSTED_MAX; i++) {
        char one[24];
        snprintf(one, sizeof one, "%s10.0.%u.%u", i ? "," : "", i / 256, i % 256);
        strcat(many, one);
    }
    proxy_acl acl;
    char err[256];
    assert_int_equal(proxy_acl_parse(&acl, many, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_tcp4),
        cmocka_unit_test(test_v1_tcp6_canonical),
        cmocka_unit_test(test_v1_unknown_uses_real_peer),
        cmocka_unit_test(test_v1_malformed),
        cmocka_unit_test(test_v1_without_crlf_in_107_bytes),
        cmocka_unit_test(test_v2_inet),
        cmocka_unit_test(test_v2_inet6),
        cmocka_unit_test(test_v2_local_and_unspec_use_real_peer),
        cmocka_unit_test(test_v2_malformed),
        cmocka_unit_test(test_v2_oversized_refused_from_its_fixed_part),
        cmocka_unit_test(test_looks_like_header),
        cmocka_unit_test(test_acl_parse_and_match),
        cmocka_unit_test(test_acl_refuses_bad_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
