/*
 * spec.h: the spec's tables of methods, one per area (proto/spec/<area>.c).
 * Each ends with an entry whose name is NULL.
 */
#ifndef BB_SPEC_TABLES_H
#define BB_SPEC_TABLES_H

#include "bb_spec.h"

extern const bb_method_spec bb_spec_official[];  /* unit.*, official.*, assignment.*, coverage.* */

#endif
