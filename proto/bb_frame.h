/*
 * bb_frame.h: finds where one msgpack message ends in a byte stream, and
 * checks it against the limits, before anything is allocated for it.
 *
 * msgpack-c's unpacker allocates from the array and map sizes a message
 * declares; a 5-byte message may declare four billion elements. So every
 * message is first walked by this scanner, which allocates nothing, checks
 * each declared count and length against the bytes that can still belong
 * to the message (each element takes at least one byte) and against the
 * limits, and only a message that passed whole is given to msgpack_unpack.
 *
 * The scanner is resumable: feed it the buffer again after more bytes
 * arrived and it continues where it stopped (O(total bytes), however the
 * message is split). It never reads past `len` and never looks at bytes
 * behind the message it is scanning.
 *
 * While scanning a request or response envelope it also notes the msgid,
 * so a message refused for a limit can still be answered by msgid.
 * Not for: decoding values (use msgpack_unpack on the framed bytes).
 */
#ifndef BB_FRAME_H
#define BB_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum bb_frame_status {
    BB_FRAME_NEED_MORE = 0,   /* message not complete yet; feed more bytes */
    BB_FRAME_COMPLETE,        /* one whole message of `message_len` bytes */
    BB_FRAME_TOO_LARGE,       /* would exceed max_message_bytes */
    BB_FRAME_TOO_DEEP,        /* nesting exceeds max_nesting_depth */
    BB_FRAME_INVALID,         /* not msgpack (e.g. byte 0xc1) */
} bb_frame_status;

#define BB_FRAME_MAX_DEPTH_HARD 64u  /* the scanner's own stack size */
/* max_bytes is clamped to this, so the scanner's sums cannot overflow. */
#define BB_FRAME_MAX_BYTES_HARD ((size_t)(SIZE_MAX >> 2))

typedef struct bb_frame {
    /* limits, set by bb_frame_init */
    size_t max_bytes;
    unsigned max_depth;          /* <= BB_FRAME_MAX_DEPTH_HARD */
    /* progress (private) */
    size_t pos;                  /* bytes of the current message consumed */
    unsigned depth;              /* open containers */
    uint64_t remaining[BB_FRAME_MAX_DEPTH_HARD]; /* items left per level */
    uint64_t pending;            /* sum of remaining[]: items still owed, each
                                    at least one byte, so a declared count is
                                    checked against what all open containers
                                    still need, not only its own */
    bool top_is_array;           /* the message is an array: sniff envelope */
    /* envelope sniffing (public, read-only): valid once the scanner passed
     * the first two elements of a top-level array */
    bool msgid_known;
    uint32_t msgid;
    int64_t envelope_type;       /* first element of the top array, or -1 */
    size_t top_index;            /* elements of the top array begun */
    /* set when status is BB_FRAME_COMPLETE (a message is never 0 bytes, so
     * non-zero means complete; scanning again returns COMPLETE until reset) */
    size_t message_len;
} bb_frame;

/* Sets limits and resets. max_depth is clamped to BB_FRAME_MAX_DEPTH_HARD,
 * max_bytes to BB_FRAME_MAX_BYTES_HARD. */
void bb_frame_init(bb_frame *f, size_t max_bytes, unsigned max_depth);
/* Resets for the next message (keeps the limits). */
void bb_frame_reset(bb_frame *f);
/*
 * Scans buf[0..len), which starts at the first byte of the current message
 * and holds every byte received for it so far (the same prefix as the last
 * call, plus any new bytes). Returns the status; on BB_FRAME_COMPLETE,
 * f->message_len bytes form the message and the caller calls
 * bb_frame_reset before scanning the next one (which starts at
 * buf + message_len). The error statuses are final for the stream.
 *
 * Limits: the whole message must fit in max_bytes. A declared str/bin/ext
 * length or array/map count that cannot fit in what is left of max_bytes
 * (after the items the open containers still owe, one byte each at least)
 * gives BB_FRAME_TOO_LARGE at once, before its bytes arrive. A container
 * (empty or not) at a nesting level above max_depth gives BB_FRAME_TOO_DEEP;
 * the top-level object is level 1. Byte 0xc1 gives BB_FRAME_INVALID.
 * A top-level object that is not an array is framed like any other: the
 * envelope is checked later, by bb_rpc_parse.
 */
__attribute__((warn_unused_result))
bb_frame_status bb_frame_scan(bb_frame *f, const uint8_t *buf, size_t len);

#endif
