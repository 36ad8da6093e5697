/* test_rng.h: the unit tests' fixed-seed random numbers, so a failure
 * reproduces: splitmix64 over a counter (sc_mix64, the program's own mixer
 * of ids). */
#ifndef SEGCAST_TEST_RNG_H
#define SEGCAST_TEST_RNG_H

#include <stdint.h>

#include "segcast.h"

typedef struct {
  uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r) {
  uint64_t x = r->s;
  r->s += 0x9E3779B97F4A7C15ull;
  return sc_mix64(x);
}

static inline unsigned rng_below(rng *r, unsigned n) { return (unsigned)(rng_next(r) % n); }

#endif
