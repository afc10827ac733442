/*
 * bb_frame.c: the msgpack message scanner (see bb_frame.h).
 *
 * For: finding where one message ends in a byte stream and refusing it for a
 * limit (size, depth) or for bytes that are not msgpack, before anything is
 * allocated, and noting the envelope's type and msgid on the way.
 * Not for: decoding values; msgpack_unpack does that once a message is framed.
 *
 * The walk keeps, per open container, how many items it still owes. Each item
 * is taken whole (header, and for str/bin/ext the payload) or not at all: when
 * its bytes are incomplete the scanner stops with NEED_MORE and starts at that
 * same item next time. Payloads are skipped, never read, so a message costs
 * O(its bytes) however it is split.
 */
#include "bb_frame.h"

#include <stdint.h>
#include <string.h>

enum item_kind { ITEM_SCALAR, ITEM_ARRAY, ITEM_MAP };

void bb_frame_init(bb_frame *f, size_t max_bytes, unsigned max_depth)
{
    memset(f, 0, sizeof *f);
    /* pos and the owed items never exceed max_bytes, so their sums in
     * bb_frame_scan stay below 2^63 and cannot wrap. */
    f->max_bytes = max_bytes > BB_FRAME_MAX_BYTES_HARD ? BB_FRAME_MAX_BYTES_HARD : max_bytes;
    f->max_depth = max_depth > BB_FRAME_MAX_DEPTH_HARD ? BB_FRAME_MAX_DEPTH_HARD : max_depth;
    bb_frame_reset(f);
}

void bb_frame_reset(bb_frame *f)
{
    f->pos = 0;
    f->depth = 0;
    f->pending = 0;
    f->top_is_array = false;
    f->msgid_known = false;
    f->msgid = 0;
    f->envelope_type = -1;
    f->top_index = 0;
    f->message_len = 0;
}

static uint64_t read_be(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/*
 * The value of a non-negative integer item whose header (the whole item) is
 * at p, or false when the item is not an integer or is negative.
 */
static bool read_nonneg_int(const uint8_t *p, uint64_t *out)
{
    uint8_t b = p[0];
    if (b <= 0x7f) {
        *out = b;
        return true;
    }
    switch (b) {
    case 0xcc: *out = p[1]; return true;
    case 0xcd: *out = read_be(p + 1, 2); return true;
    case 0xce: *out = read_be(p + 1, 4); return true;
    case 0xcf: *out = read_be(p + 1, 8); return true;
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        unsigned n = 1u << (b - 0xd0);
        if (p[1] & 0x80)
            return false;   /* negative */
        *out = read_be(p + 1, n);
        return true;
    }
    default:
        return false;
    }
}

/* Notes the envelope's type (element 0) and msgid (element 1). */
static void sniff_envelope(bb_frame *f, const uint8_t *item)
{
    uint64_t v;
    if (f->top_index == 0) {
        if (read_nonneg_int(item, &v) && v <= (uint64_t)INT64_MAX)
            f->envelope_type = (int64_t)v;
    } else if (f->top_index == 1) {
        if ((f->envelope_type == 0 || f->envelope_type == 1) &&
            read_nonneg_int(item, &v) && v <= UINT32_MAX) {
            f->msgid = (uint32_t)v;
            f->msgid_known = true;
        }
    }
    f->top_index++;
}

bb_frame_status bb_frame_scan(bb_frame *f, const uint8_t *buf, size_t len)
{
    if (f->message_len != 0)
        return BB_FRAME_COMPLETE;

    /* Work on locals; write them back at every exit (save_and_return). */
    size_t pos = f->pos;
    unsigned depth = f->depth;
    uint64_t pending = f->pending;
    const uint64_t max = f->max_bytes;
    bb_frame_status st;

    for (;;) {
        if (pos >= len) {
            st = BB_FRAME_NEED_MORE;
            goto save_and_return;
        }
        const uint8_t b = buf[pos];
        unsigned hdr = 1;         /* bytes before the payload */
        unsigned lenw = 0;        /* width of the length/count field after b */
        uint64_t n = 0;           /* payload bytes, or elements of a container */
        enum item_kind kind = ITEM_SCALAR;

        if (b <= 0x7f || b >= 0xe0) {
            /* positive / negative fixint: hdr 1 */
        } else if (b <= 0x8f) {
            kind = ITEM_MAP;
            n = b & 0x0fu;
        } else if (b <= 0x9f) {
            kind = ITEM_ARRAY;
            n = b & 0x0fu;
        } else if (b <= 0xbf) {
            n = b & 0x1fu;        /* fixstr */
        } else {
            switch (b) {
            case 0xc0: case 0xc2: case 0xc3: break;             /* nil, false, true */
            case 0xc1: st = BB_FRAME_INVALID; goto save_and_return;
            case 0xc4: lenw = 1; break;                          /* bin8/16/32 */
            case 0xc5: lenw = 2; break;
            case 0xc6: lenw = 4; break;
            case 0xc7: lenw = 1; hdr = 2; break;                 /* ext8/16/32: length, */
            case 0xc8: lenw = 2; hdr = 2; break;                 /* then a type byte */
            case 0xc9: lenw = 4; hdr = 2; break;
            case 0xca: hdr = 5; break;                           /* float32 */
            case 0xcb: hdr = 9; break;                           /* float64 */
            case 0xcc: case 0xd0: hdr = 2; break;                /* (u)int8 */
            case 0xcd: case 0xd1: hdr = 3; break;                /* (u)int16 */
            case 0xce: case 0xd2: hdr = 5; break;                /* (u)int32 */
            case 0xcf: case 0xd3: hdr = 9; break;                /* (u)int64 */
            case 0xd4: hdr = 2; n = 1; break;                    /* fixext1..16: type + data */
            case 0xd5: hdr = 2; n = 2; break;
            case 0xd6: hdr = 2; n = 4; break;
            case 0xd7: hdr = 2; n = 8; break;
            case 0xd8: hdr = 2; n = 16; break;
            case 0xd9: lenw = 1; break;                          /* str8/16/32 */
            case 0xda: lenw = 2; break;
            case 0xdb: lenw = 4; break;
            case 0xdc: lenw = 2; kind = ITEM_ARRAY; break;
            case 0xdd: lenw = 4; kind = ITEM_ARRAY; break;
            case 0xde: lenw = 2; kind = ITEM_MAP; break;
            case 0xdf: lenw = 4; kind = ITEM_MAP; break;
            default: break;  /* unreachable: 0xc0..0xdf are all listed */
            }
            hdr += lenw;     /* the type byte (and ext's type), then the length */
        }

        /* Items the open containers owe after this one: one byte each at least. */
        const uint64_t owed = pending - (depth > 0 ? 1 : 0);
        if ((uint64_t)pos + hdr + owed > max) {
            st = BB_FRAME_TOO_LARGE;
            goto save_and_return;
        }
        if (len - pos < hdr) {
            st = BB_FRAME_NEED_MORE;
            goto save_and_return;
        }
        if (lenw != 0)
            n = read_be(buf + pos + 1, lenw);
        if (kind == ITEM_MAP)
            n *= 2;              /* keys and values; at most 2^33, no overflow */
        /* n counts payload bytes (scalar) or elements (container), each of
         * which takes at least one byte of the message. */
        if (n > max - ((uint64_t)pos + hdr + owed)) {
            st = BB_FRAME_TOO_LARGE;
            goto save_and_return;
        }
        if (kind != ITEM_SCALAR) {
            if (depth + 1 > f->max_depth) {
                st = BB_FRAME_TOO_DEEP;
                goto save_and_return;
            }
        } else if ((uint64_t)(len - pos - hdr) < n) {
            st = BB_FRAME_NEED_MORE;
            goto save_and_return;
        }

        /* The item is taken: from here on nothing returns NEED_MORE for it. */
        if (depth == 1 && f->top_is_array)
            sniff_envelope(f, buf + pos);
        if (depth == 0 && kind == ITEM_ARRAY)
            f->top_is_array = true;
        if (depth > 0) {
            f->remaining[depth - 1]--;
            pending--;
        }
        if (kind == ITEM_SCALAR) {
            pos += hdr + (size_t)n;
        } else {
            pos += hdr;
            if (n > 0) {
                f->remaining[depth++] = n;
                pending += n;
                continue;
            }
        }
        /* A whole item ended: close every container it completed. */
        while (depth > 0 && f->remaining[depth - 1] == 0)
            depth--;
        if (depth == 0) {
            f->message_len = pos;
            st = BB_FRAME_COMPLETE;
            goto save_and_return;
        }
    }

save_and_return:
    f->pos = pos;
    f->depth = depth;
    f->pending = pending;
    return st;
}
