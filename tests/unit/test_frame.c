/*
 * test_frame.c: the message scanner (proto/bb_frame.c).
 *
 * Pins down: every msgpack format is framed at its exact length; a message
 * split anywhere frames the same; limits (size, declared lengths and counts,
 * depth) are refused at once; 0xc1 is not msgpack; the envelope's type and
 * msgid are noted on the way. Buffers handed to the scanner are heap copies
 * of exactly the bytes "received", so AddressSanitizer catches any read
 * past them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <msgpack.h>

#include "bb_frame.h"
#include "bb_limits.h"
#include "bb_rpc.h"
#include "packed.h"

#define MAX_BYTES BB_DEFAULT_MAX_MESSAGE_BYTES
#define MAX_DEPTH BB_DEFAULT_MAX_NESTING_DEPTH

/* ---- helpers ---- */

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        unsigned v;
        assert_int_equal(sscanf(hex, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* Scans exactly buf[0..len) from a heap copy of that size. */
static bb_frame_status scan_exact(bb_frame *f, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    bb_frame_status st = bb_frame_scan(f, copy, len);
    free(copy);
    return st;
}

/* Scans a whole buffer with fresh state and the given limits. */
static bb_frame_status scan_once(const uint8_t *buf, size_t len, size_t max_bytes,
                                 unsigned max_depth, bb_frame *f)
{
    bb_frame_init(f, max_bytes, max_depth);
    return scan_exact(f, buf, len);
}


static const uint8_t *packed_bytes(const packed *p)
{
    return (const uint8_t *)p->sb.data;
}

/*
 * Feeds msg[0..len) one byte more per call, as if every byte arrived alone:
 * NEED_MORE until the last byte, COMPLETE then, exactly once.
 */
static void assert_frames_byte_by_byte(const uint8_t *msg, size_t len, size_t max_bytes)
{
    bb_frame f;
    bb_frame_init(&f, max_bytes, MAX_DEPTH);
    int completes = 0;
    for (size_t k = 0; k <= len; k++) {
        bb_frame_status st = bb_frame_scan(&f, msg, k);
        if (st == BB_FRAME_COMPLETE) {
            completes++;
            assert_int_equal(k, len);
            assert_int_equal(f.message_len, len);
        } else {
            if (st != BB_FRAME_NEED_MORE)
                fail_msg("status %d after %zu of %zu bytes", st, k, len);
        }
    }
    assert_int_equal(completes, 1);
}

/* Packs a request [0, msgid, "enterprise.create", [{...every type...}]]. */
static void pack_kitchen_sink(packed *p, uint32_t msgid)
{
    static const char long_text[] =
        "赤壁市高新技术产业园区住方科技有限公司赤壁市高新技术产业园区住方科技有限公司"
        "赤壁市高新技术产业园区住方科技有限公司赤壁市高新技术产业园区住方科技有限公司";
    packed_init(p);
    bb_rpc_pack_request_begin(&p->pk, msgid, "enterprise.create", true);
    msgpack_pack_map(&p->pk, 11);
    bb_pack_cstr(&p->pk, "name");
    bb_pack_cstr(&p->pk, "住方科技");
    bb_pack_cstr(&p->pk, "credit_code");
    bb_pack_cstr(&p->pk, "914403001922038216");
    bb_pack_cstr(&p->pk, "labels");
    msgpack_pack_array(&p->pk, 2);
    bb_pack_cstr(&p->pk, "规上");
    bb_pack_cstr(&p->pk, "高新技术企业");
    bb_pack_cstr(&p->pk, "cluster");
    msgpack_pack_nil(&p->pk);
    bb_pack_cstr(&p->pk, "t");
    msgpack_pack_true(&p->pk);
    bb_pack_cstr(&p->pk, "f");
    msgpack_pack_double(&p->pk, 1.5);
    bb_pack_cstr(&p->pk, "neg");
    msgpack_pack_int64(&p->pk, -70000);
    bb_pack_cstr(&p->pk, "big");
    msgpack_pack_uint64(&p->pk, UINT64_MAX);
    bb_pack_cstr(&p->pk, "bin");
    msgpack_pack_bin_with_body(&p->pk, "\x00\x01\x02", 3);
    bb_pack_cstr(&p->pk, "ext");
    msgpack_pack_ext_with_body(&p->pk, "abcde", 5, 7);
    bb_pack_cstr(&p->pk, "long");
    bb_pack_cstr(&p->pk, long_text);        /* > 255 bytes: str16 */
}

/* ---- round trips ---- */

static void request_envelope_frames_and_parses(void **state)
{
    (void)state;
    packed p;
    pack_kitchen_sink(&p, 77);
    bb_frame f;
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, p.sb.size);
    assert_int_equal(f.envelope_type, 0);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 77);

    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&up, p.sb.data, f.message_len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    bb_rpc_msg m;
    bool known;
    const char *why;
    assert_int_equal(bb_rpc_parse(&up.data, &m, &known, &why), 0);
    assert_int_equal(m.msgid, 77);
    assert_non_null(bb_map_get(m.params, "long"));
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&p.sb);
}

static void response_and_notification_envelopes_frame(void **state)
{
    (void)state;
    packed p;
    bb_frame f;

    packed_init(&p);
    bb_rpc_pack_error(&p.pk, 4000000000u, BB_E_NOT_FOUND, "enterprise 7 does not exist", "id");
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, p.sb.size);
    assert_int_equal(f.envelope_type, 1);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 4000000000u);
    msgpack_sbuffer_destroy(&p.sb);

    packed_init(&p);
    bb_rpc_pack_closing(&p.pk, BB_E_UNAVAILABLE, "too many connections");
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, p.sb.size);
    assert_int_equal(f.envelope_type, 2);
    assert_false(f.msgid_known);     /* a notification has no msgid */
    msgpack_sbuffer_destroy(&p.sb);
}

static void protocol_example_frames(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = from_hex("94 00 01 ab 73 65 72 76 65 72 2e 69 6e 66 6f 90", buf, sizeof buf);
    bb_frame f;
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, 16);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 1);
}

/* ---- splitting ---- */

static void split_at_every_position_completes_once(void **state)
{
    (void)state;
    packed p;
    pack_kitchen_sink(&p, 12345);
    const uint8_t *msg = packed_bytes(&p);
    size_t n = p.sb.size;
    for (size_t k = 0; k < n; k++) {
        bb_frame f;
        bb_frame_init(&f, MAX_BYTES, MAX_DEPTH);
        assert_int_equal(scan_exact(&f, msg, k), BB_FRAME_NEED_MORE);
        assert_int_equal(scan_exact(&f, msg, n), BB_FRAME_COMPLETE);
        assert_int_equal(f.message_len, n);
        assert_true(f.msgid_known);
        assert_int_equal(f.msgid, 12345);
    }
    msgpack_sbuffer_destroy(&p.sb);
}

static void split_in_three_at_every_pair_completes_once(void **state)
{
    (void)state;
    packed p;
    pack_kitchen_sink(&p, 9);
    const uint8_t *msg = packed_bytes(&p);
    size_t n = p.sb.size;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i; j < n; j++) {
            bb_frame f;
            bb_frame_init(&f, MAX_BYTES, MAX_DEPTH);
            assert_int_equal(bb_frame_scan(&f, msg, i), BB_FRAME_NEED_MORE);
            assert_int_equal(bb_frame_scan(&f, msg, j), BB_FRAME_NEED_MORE);
            assert_int_equal(bb_frame_scan(&f, msg, n), BB_FRAME_COMPLETE);
            assert_int_equal(f.message_len, n);
        }
    }
    msgpack_sbuffer_destroy(&p.sb);
}

static void one_byte_at_a_time_completes_once(void **state)
{
    (void)state;
    packed p;
    pack_kitchen_sink(&p, 1);
    assert_frames_byte_by_byte(packed_bytes(&p), p.sb.size, MAX_BYTES);
    msgpack_sbuffer_destroy(&p.sb);
}

static void scanning_again_after_complete_stays_complete(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t n = from_hex("92 01 02", buf, sizeof buf);
    bb_frame f;
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(bb_frame_scan(&f, buf, n), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, 3);
}

static void two_messages_back_to_back(void **state)
{
    (void)state;
    packed a, b;
    pack_kitchen_sink(&a, 1);
    packed_init(&b);
    bb_rpc_pack_request_begin(&b.pk, 2, "server.info", false);
    size_t total = a.sb.size + b.sb.size;
    uint8_t *both = malloc(total);
    assert_non_null(both);
    memcpy(both, a.sb.data, a.sb.size);
    memcpy(both + a.sb.size, b.sb.data, b.sb.size);

    bb_frame f;
    bb_frame_init(&f, MAX_BYTES, MAX_DEPTH);
    assert_int_equal(bb_frame_scan(&f, both, total), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, a.sb.size);
    assert_int_equal(f.msgid, 1);
    size_t first = f.message_len;
    bb_frame_reset(&f);
    assert_false(f.msgid_known);
    assert_int_equal(bb_frame_scan(&f, both + first, total - first), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, b.sb.size);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 2);

    free(both);
    msgpack_sbuffer_destroy(&a.sb);
    msgpack_sbuffer_destroy(&b.sb);
}

static void bytes_after_the_message_are_not_looked_at(void **state)
{
    (void)state;
    uint8_t buf[16];
    /* [0, 1, "m", []] followed by 0xc1 and a huge array32 header */
    size_t n = from_hex("94 00 01 a1 6d 90 c1 dd ff ff ff ff", buf, sizeof buf);
    bb_frame f;
    assert_int_equal(scan_once(buf, n, 6, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, 6);
}

/* ---- size limits ---- */

/* A request whose total packed size is exactly `size` bytes (size >= 64). */
static void pack_request_of_size(packed *p, size_t size)
{
    /* [0, 1, "m", [{"s": str}]] is 9 bytes of envelope plus the str item. */
    size_t envelope = 9;
    size_t payload = size - envelope;
    size_t hdr = payload - 1 < 32 ? 1 : payload - 2 < 256 ? 2 : payload - 3 < 65536 ? 3 : 5;
    packed_init(p);
    bb_rpc_pack_request_begin(&p->pk, 1, "m", true);
    msgpack_pack_map(&p->pk, 1);
    bb_pack_cstr(&p->pk, "s");
    size_t len = payload - hdr;
    char *s = malloc(len);
    assert_non_null(s);
    memset(s, 'x', len);
    bb_pack_strn(&p->pk, s, len);
    free(s);
    assert_int_equal(p->sb.size, size);
}

static void exactly_max_bytes_is_accepted(void **state)
{
    (void)state;
    packed p;
    pack_request_of_size(&p, MAX_BYTES);
    bb_frame f;
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, MAX_BYTES);
    msgpack_sbuffer_destroy(&p.sb);
}

static void max_bytes_plus_one_is_refused(void **state)
{
    (void)state;
    packed p;
    pack_request_of_size(&p, MAX_BYTES + 1);
    bb_frame f;
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_TOO_LARGE);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 1);
    /* Refused on the str header: its bytes need not arrive. */
    assert_int_equal(scan_once(packed_bytes(&p), 16, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_TOO_LARGE);
    msgpack_sbuffer_destroy(&p.sb);
}

static void small_limits_at_the_edge(void **state)
{
    (void)state;
    uint8_t buf[64];
    bb_frame f;
    size_t n = from_hex("94 00 01 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, 6, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(scan_once(buf, n, 5, MAX_DEPTH, &f), BB_FRAME_TOO_LARGE);
    /* Four elements promised in 3 bytes of room: refused on the header. */
    assert_int_equal(scan_once(buf, 1, 3, MAX_DEPTH, &f), BB_FRAME_TOO_LARGE);
    n = from_hex("c0", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, 1, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(scan_once(buf, n, 0, MAX_DEPTH, &f), BB_FRAME_TOO_LARGE);
}

/* Asserts a (short) hex message is refused as TOO_LARGE from its own bytes
 * alone, with the msgid known (and equal) or not. */
static void assert_too_large_at_once(const char *hex, bool msgid_known, uint32_t msgid)
{
    uint8_t buf[64];
    size_t n = from_hex(hex, buf, sizeof buf);
    bb_frame f;
    bb_frame_status st = scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f);
    if (st != BB_FRAME_TOO_LARGE)
        fail_msg("status %d for %s", st, hex);
    assert_int_equal(f.msgid_known, msgid_known);
    if (msgid_known)
        assert_int_equal(f.msgid, msgid);
}

static void array32_of_four_billion_is_too_large_at_once(void **state)
{
    (void)state;
    /* Like the example in PROTOCOL.md section 7 (which uses msgid 6):
     * [0, 5, "x", array32(0xffffffff)] */
    assert_too_large_at_once("94 00 05 a1 78 dd ff ff ff ff", true, 5);
    assert_too_large_at_once("dd ff ff ff ff", false, 0);
}

static void map32_of_four_billion_is_too_large_at_once(void **state)
{
    (void)state;
    assert_too_large_at_once("94 00 05 a1 78 df ff ff ff ff", true, 5);
    assert_too_large_at_once("df ff ff ff ff", false, 0);
    /* 2^31 pairs is 2^32 items: the doubling must not wrap. */
    assert_too_large_at_once("94 00 05 a1 78 df 80 00 00 00", true, 5);
}

static void str_bin_ext32_of_4gib_are_too_large_at_once(void **state)
{
    (void)state;
    assert_too_large_at_once("94 00 05 a1 78 db ff ff ff ff", true, 5);     /* str32 */
    assert_too_large_at_once("94 00 05 a1 78 c6 ff ff ff ff", true, 5);     /* bin32 */
    assert_too_large_at_once("94 00 05 a1 78 c9 ff ff ff ff 01", true, 5);  /* ext32 */
    assert_too_large_at_once("94 00 05 db ff ff ff ff", true, 5);           /* as method */
    assert_too_large_at_once("94 01 06 c0 c6 ff ff ff ff", true, 6);        /* response */
}

static void huge_max_bytes_does_not_wrap(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    size_t n = from_hex("94 00 05 a1 78 dd ff ff ff ff", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, SIZE_MAX, MAX_DEPTH, &f), BB_FRAME_NEED_MORE);
    assert_int_equal(f.max_bytes, BB_FRAME_MAX_BYTES_HARD);
    n = from_hex("94 00 05 a1 78 c0", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, SIZE_MAX, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
}

static void element_counts_are_checked_against_what_is_owed(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    /* An array of 60 whose first element is an array of 60: 120 items
     * cannot fit in 100 bytes, though each count alone could. */
    size_t n = from_hex("dc 00 3c dc 00 3c", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, 100, MAX_DEPTH, &f), BB_FRAME_TOO_LARGE);
    assert_int_equal(scan_once(buf, n, 200, MAX_DEPTH, &f), BB_FRAME_NEED_MORE);
}

static void declared_length_that_fits_waits_for_bytes(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    size_t n = from_hex("94 00 05 a1 78 dc 03 e8", buf, sizeof buf);   /* array16 of 1000 */
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_NEED_MORE);
    assert_true(f.msgid_known);
    n = from_hex("94 00 05 a1 78 da 03 e8", buf, sizeof buf);           /* str16 of 1000 */
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_NEED_MORE);
}

/* ---- depth ---- */

/* `levels` nested one-element arrays around an empty one: [[...[]...]]. */
static size_t nested_arrays(uint8_t *buf, unsigned levels)
{
    for (unsigned i = 0; i + 1 < levels; i++)
        buf[i] = 0x91;
    buf[levels - 1] = 0x90;
    return levels;
}

static void max_depth_is_accepted(void **state)
{
    (void)state;
    uint8_t buf[BB_FRAME_MAX_DEPTH_HARD + 1];
    bb_frame f;
    size_t n = nested_arrays(buf, MAX_DEPTH);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, n);
    n = nested_arrays(buf, BB_FRAME_MAX_DEPTH_HARD);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, BB_FRAME_MAX_DEPTH_HARD, &f),
                     BB_FRAME_COMPLETE);
}

static void max_depth_plus_one_is_refused(void **state)
{
    (void)state;
    uint8_t buf[BB_FRAME_MAX_DEPTH_HARD + 1];
    bb_frame f;
    size_t n = nested_arrays(buf, MAX_DEPTH + 1);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_TOO_DEEP);
    /* Refused before the rest arrives. */
    assert_int_equal(scan_once(buf, MAX_DEPTH + 1, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_TOO_DEEP);
    /* A limit above the scanner's own stack is clamped to it. */
    n = nested_arrays(buf, BB_FRAME_MAX_DEPTH_HARD + 1);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, 1000, &f), BB_FRAME_TOO_DEEP);
}

static void maps_count_for_depth_too(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    /* [0, 1, "m", [{"a": {}}]]: depth 4 */
    size_t n = from_hex("94 00 01 a1 6d 91 81 a1 61 80", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, 4, &f), BB_FRAME_COMPLETE);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, 3, &f), BB_FRAME_TOO_DEEP);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, 1);
    /* As a map value's value, past the closed siblings. */
    n = from_hex("94 00 01 a1 6d 91 82 a1 61 01 a1 62 91 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, 5, &f), BB_FRAME_COMPLETE);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, 4, &f), BB_FRAME_TOO_DEEP);
}

/* ---- not msgpack ---- */

static void byte_c1_is_invalid(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    size_t n = from_hex("c1", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_INVALID);
    n = from_hex("94 00 01 c1", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_INVALID);
    assert_true(f.msgid_known);
    /* Inside a str payload it is only data. */
    n = from_hex("a1 c1", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
}

/* ---- envelope sniffing ---- */

static void top_level_non_array_is_framed(void **state)
{
    (void)state;
    uint8_t buf[16];
    bb_frame f;
    size_t n = from_hex("82 00 01 a1 6d 90", buf, sizeof buf);     /* {0: 1, "m": []} */
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, n);
    assert_false(f.msgid_known);
    assert_int_equal(f.envelope_type, -1);
    n = from_hex("07", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, 1);
    assert_int_equal(f.envelope_type, -1);
}

static void msgid_not_known_when_it_cannot_be(void **state)
{
    (void)state;
    uint8_t buf[32];
    bb_frame f;
    /* msgid 2^32 */
    size_t n = from_hex("94 00 cf 00 00 00 01 00 00 00 00 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    assert_int_equal(f.envelope_type, 0);
    /* msgid -1 */
    n = from_hex("94 00 ff a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    /* msgid -1 as int8, and as int32 */
    n = from_hex("94 00 d0 ff a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    n = from_hex("94 00 d2 ff ff ff ff a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    /* type -1 as int8 */
    n = from_hex("94 d0 ff 05 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.envelope_type, -1);
    assert_false(f.msgid_known);
    /* type 2^63 does not fit envelope_type */
    n = from_hex("94 cf 80 00 00 00 00 00 00 00 05 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_int_equal(f.envelope_type, -1);
    /* type not 0 or 1 */
    n = from_hex("94 03 05 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    assert_int_equal(f.envelope_type, 3);
    /* type a str */
    n = from_hex("94 a1 30 05 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
    assert_int_equal(f.envelope_type, -1);
    /* an array nested at element 1 is not a msgid, nor is its content */
    n = from_hex("94 00 91 05 a1 6d 90", buf, sizeof buf);
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_false(f.msgid_known);
}

static void msgid_in_any_int_format_is_known(void **state)
{
    (void)state;
    static const char *const hex[] = {
        "94 00 d0 05 a1 6d 90",                        /* int8 5 */
        "94 00 cd 00 05 a1 6d 90",                     /* uint16 5 */
        "94 00 d3 00 00 00 00 00 00 00 05 a1 6d 90",   /* int64 5 */
        "94 d0 00 05 a1 6d 90",                        /* type as int8 0 */
    };
    for (size_t i = 0; i < sizeof hex / sizeof hex[0]; i++) {
        uint8_t buf[32];
        size_t n = from_hex(hex[i], buf, sizeof buf);
        bb_frame f;
        assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
        assert_true(f.msgid_known);
        assert_int_equal(f.msgid, 5);
    }
    uint8_t buf[32];
    size_t n = from_hex("94 00 ce ff ff ff ff a1 6d 90", buf, sizeof buf);
    bb_frame f;
    assert_int_equal(scan_once(buf, n, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_COMPLETE);
    assert_true(f.msgid_known);
    assert_int_equal(f.msgid, UINT32_MAX);
}

/* ---- every format ---- */

typedef void (*pack_fn)(msgpack_packer *pk);

static char big_blob[70000];

static void p_nil(msgpack_packer *pk) { msgpack_pack_nil(pk); }
static void p_true(msgpack_packer *pk) { msgpack_pack_true(pk); }
static void p_false(msgpack_packer *pk) { msgpack_pack_false(pk); }
static void p_pfixint(msgpack_packer *pk) { msgpack_pack_uint8(pk, 127); }
static void p_nfixint(msgpack_packer *pk) { msgpack_pack_int8(pk, -32); }
static void p_uint8(msgpack_packer *pk) { msgpack_pack_uint64(pk, 200); }
static void p_uint16(msgpack_packer *pk) { msgpack_pack_uint64(pk, 300); }
static void p_uint32(msgpack_packer *pk) { msgpack_pack_uint64(pk, 70000); }
static void p_uint64(msgpack_packer *pk) { msgpack_pack_uint64(pk, 5000000000u); }
static void p_int8(msgpack_packer *pk) { msgpack_pack_int64(pk, -100); }
static void p_int16(msgpack_packer *pk) { msgpack_pack_int64(pk, -300); }
static void p_int32(msgpack_packer *pk) { msgpack_pack_int64(pk, -70000); }
static void p_int64(msgpack_packer *pk) { msgpack_pack_int64(pk, -5000000000); }
static void p_float32(msgpack_packer *pk) { msgpack_pack_float(pk, 1.5f); }
static void p_float64(msgpack_packer *pk) { msgpack_pack_double(pk, 1.5); }
static void p_fixstr(msgpack_packer *pk) { bb_pack_strn(pk, big_blob, 31); }
static void p_str8(msgpack_packer *pk) { bb_pack_strn(pk, big_blob, 200); }
static void p_str16(msgpack_packer *pk) { bb_pack_strn(pk, big_blob, 300); }
static void p_str32(msgpack_packer *pk) { bb_pack_strn(pk, big_blob, 70000); }
static void p_bin8(msgpack_packer *pk) { msgpack_pack_bin_with_body(pk, big_blob, 0); }
static void p_bin16(msgpack_packer *pk) { msgpack_pack_bin_with_body(pk, big_blob, 300); }
static void p_bin32(msgpack_packer *pk) { msgpack_pack_bin_with_body(pk, big_blob, 70000); }
static void p_fixext1(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 1, 1); }
static void p_fixext2(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 2, 1); }
static void p_fixext4(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 4, -1); }
static void p_fixext8(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 8, 1); }
static void p_fixext16(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 16, 1); }
static void p_ext8(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 3, 1); }
static void p_ext16(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 300, 1); }
static void p_ext32(msgpack_packer *pk) { msgpack_pack_ext_with_body(pk, big_blob, 70000, 1); }
static void p_fixarray(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 15);
    for (int i = 0; i < 15; i++)
        msgpack_pack_int(pk, i - 7);
}
static void p_array16(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 16);
    for (int i = 0; i < 16; i++)
        msgpack_pack_nil(pk);
}
static void p_array32(msgpack_packer *pk)
{
    msgpack_pack_array(pk, 70000);
    for (int i = 0; i < 70000; i++)
        msgpack_pack_uint64(pk, (uint64_t)i * 1000u);
}
static void p_fixmap(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    bb_pack_cstr(pk, "a");
    msgpack_pack_array(pk, 0);
    bb_pack_cstr(pk, "b");
    msgpack_pack_map(pk, 0);
}
static void p_map16(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 300);
    for (int i = 0; i < 300; i++) {
        msgpack_pack_int(pk, i);
        bb_pack_strn(pk, big_blob, (size_t)i % 40);
    }
}
static void p_map32(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 70000);
    for (int i = 0; i < 70000; i++) {
        msgpack_pack_int(pk, i);
        msgpack_pack_true(pk);
    }
}

typedef struct format_case {
    const char *name;
    pack_fn pack;
    uint8_t first_byte;     /* the format's type byte */
    uint8_t mask;           /* bits of first_byte that identify it */
} format_case;

static const format_case formats[] = {
    {"nil", p_nil, 0xc0, 0xff},
    {"true", p_true, 0xc3, 0xff},
    {"false", p_false, 0xc2, 0xff},
    {"positive fixint", p_pfixint, 0x00, 0x80},
    {"negative fixint", p_nfixint, 0xe0, 0xe0},
    {"uint8", p_uint8, 0xcc, 0xff},
    {"uint16", p_uint16, 0xcd, 0xff},
    {"uint32", p_uint32, 0xce, 0xff},
    {"uint64", p_uint64, 0xcf, 0xff},
    {"int8", p_int8, 0xd0, 0xff},
    {"int16", p_int16, 0xd1, 0xff},
    {"int32", p_int32, 0xd2, 0xff},
    {"int64", p_int64, 0xd3, 0xff},
    {"float32", p_float32, 0xca, 0xff},
    {"float64", p_float64, 0xcb, 0xff},
    {"fixstr", p_fixstr, 0xa0, 0xe0},
    {"str8", p_str8, 0xd9, 0xff},
    {"str16", p_str16, 0xda, 0xff},
    {"str32", p_str32, 0xdb, 0xff},
    {"bin8", p_bin8, 0xc4, 0xff},
    {"bin16", p_bin16, 0xc5, 0xff},
    {"bin32", p_bin32, 0xc6, 0xff},
    {"fixext1", p_fixext1, 0xd4, 0xff},
    {"fixext2", p_fixext2, 0xd5, 0xff},
    {"fixext4", p_fixext4, 0xd6, 0xff},
    {"fixext8", p_fixext8, 0xd7, 0xff},
    {"fixext16", p_fixext16, 0xd8, 0xff},
    {"ext8", p_ext8, 0xc7, 0xff},
    {"ext16", p_ext16, 0xc8, 0xff},
    {"ext32", p_ext32, 0xc9, 0xff},
    {"fixarray", p_fixarray, 0x90, 0xf0},
    {"array16", p_array16, 0xdc, 0xff},
    {"array32", p_array32, 0xdd, 0xff},
    {"fixmap", p_fixmap, 0x80, 0xf0},
    {"map16", p_map16, 0xde, 0xff},
    {"map32", p_map32, 0xdf, 0xff},
};

/* The item alone, as the top-level object. */
static void assert_format_framed_alone(const format_case *fc)
{
    packed p;
    packed_init(&p);
    fc->pack(&p.pk);
    const uint8_t *b = packed_bytes(&p);
    if ((b[0] & fc->mask) != fc->first_byte)
        fail_msg("%s: msgpack-c packed type byte 0x%02x", fc->name, b[0]);
    bb_frame f;
    bb_frame_status st = scan_once(b, p.sb.size, MAX_BYTES, MAX_DEPTH, &f);
    if (st != BB_FRAME_COMPLETE || f.message_len != p.sb.size)
        fail_msg("%s: status %d, length %zu of %zu", fc->name, st, f.message_len, p.sb.size);
    /* One byte short never completes. */
    assert_int_equal(scan_once(b, p.sb.size - 1, MAX_BYTES, MAX_DEPTH, &f), BB_FRAME_NEED_MORE);
    /* With a byte of the next message behind it, the length is the same. */
    msgpack_pack_nil(&p.pk);
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, p.sb.size - 1);
    msgpack_sbuffer_destroy(&p.sb);
}

/* The item as a request argument value, split byte by byte. */
static void assert_format_framed_in_envelope(const format_case *fc)
{
    packed p;
    packed_init(&p);
    bb_rpc_pack_request_begin(&p.pk, 99, "m", true);
    msgpack_pack_map(&p.pk, 2);
    bb_pack_cstr(&p.pk, "v");
    fc->pack(&p.pk);
    bb_pack_cstr(&p.pk, "after");
    msgpack_pack_int(&p.pk, 1);
    bb_frame f;
    assert_int_equal(scan_once(packed_bytes(&p), p.sb.size, MAX_BYTES, MAX_DEPTH, &f),
                     BB_FRAME_COMPLETE);
    assert_int_equal(f.message_len, p.sb.size);
    assert_int_equal(f.msgid, 99);
    if (p.sb.size < 4096)
        assert_frames_byte_by_byte(packed_bytes(&p), p.sb.size, MAX_BYTES);
    msgpack_sbuffer_destroy(&p.sb);
}

static void every_format_is_framed_alone(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        assert_format_framed_alone(&formats[i]);
}

static void every_format_is_framed_inside_an_envelope(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        assert_format_framed_in_envelope(&formats[i]);
}

static void large_message_fed_in_small_chunks(void **state)
{
    (void)state;
    /* array32 of 70000 uint64s (~630 KB), arriving 1000 bytes at a time. */
    packed p;
    packed_init(&p);
    p_array32(&p.pk);
    bb_frame f;
    bb_frame_init(&f, MAX_BYTES, MAX_DEPTH);
    size_t k = 0;
    bb_frame_status st = BB_FRAME_NEED_MORE;
    int completes = 0;
    while (k < p.sb.size) {
        k = k + 1000 < p.sb.size ? k + 1000 : p.sb.size;
        st = bb_frame_scan(&f, packed_bytes(&p), k);
        if (st == BB_FRAME_COMPLETE)
            completes++;
        else
            assert_int_equal(st, BB_FRAME_NEED_MORE);
    }
    assert_int_equal(completes, 1);
    assert_int_equal(f.message_len, p.sb.size);
    msgpack_sbuffer_destroy(&p.sb);
}

int main(void)
{
    memset(big_blob, 'b', sizeof big_blob);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_envelope_frames_and_parses),
        cmocka_unit_test(response_and_notification_envelopes_frame),
        cmocka_unit_test(protocol_example_frames),
        cmocka_unit_test(split_at_every_position_completes_once),
        cmocka_unit_test(split_in_three_at_every_pair_completes_once),
        cmocka_unit_test(one_byte_at_a_time_completes_once),
        cmocka_unit_test(scanning_again_after_complete_stays_complete),
        cmocka_unit_test(two_messages_back_to_back),
        cmocka_unit_test(bytes_after_the_message_are_not_looked_at),
        cmocka_unit_test(exactly_max_bytes_is_accepted),
        cmocka_unit_test(max_bytes_plus_one_is_refused),
        cmocka_unit_test(small_limits_at_the_edge),
        cmocka_unit_test(array32_of_four_billion_is_too_large_at_once),
        cmocka_unit_test(map32_of_four_billion_is_too_large_at_once),
        cmocka_unit_test(str_bin_ext32_of_4gib_are_too_large_at_once),
        cmocka_unit_test(huge_max_bytes_does_not_wrap),
        cmocka_unit_test(element_counts_are_checked_against_what_is_owed),
        cmocka_unit_test(declared_length_that_fits_waits_for_bytes),
        cmocka_unit_test(max_depth_is_accepted),
        cmocka_unit_test(max_depth_plus_one_is_refused),
        cmocka_unit_test(maps_count_for_depth_too),
        cmocka_unit_test(byte_c1_is_invalid),
        cmocka_unit_test(top_level_non_array_is_framed),
        cmocka_unit_test(msgid_not_known_when_it_cannot_be),
        cmocka_unit_test(msgid_in_any_int_format_is_known),
        cmocka_unit_test(every_format_is_framed_alone),
        cmocka_unit_test(every_format_is_framed_inside_an_envelope),
        cmocka_unit_test(large_message_fed_in_small_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
