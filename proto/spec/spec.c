/*
 * spec.c: the list of the spec's tables (bb_spec.h), one per area.
 * A new area adds its table here and in spec.h.
 */
#include "spec.h"

const bb_method_spec *const bb_spec_tables[] = {
    bb_spec_official,
    NULL,
};
