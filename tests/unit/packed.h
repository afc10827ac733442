/*
 * packed.h: a msgpack packing target for the unit tests that compare packed
 * bytes (test_frame, test_rpc, test_rowpack): an sbuffer and the packer
 * writing into it. The packer points into the struct: never copy one.
 */
#ifndef BB_TEST_PACKED_H
#define BB_TEST_PACKED_H

#include <msgpack.h>

typedef struct packed {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} packed;

static inline void packed_init(packed *p)
{
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

#endif
