/* bench_util.h: what the kernel benchmarks share: the calling thread's CPU
 * time (steady on a shared machine; on an idle one it is the wall time) and
 * fixed-seed random numbers (splitmix64), so two runs time the same data. */
#ifndef SEGCAST_BENCH_UTIL_H
#define SEGCAST_BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

static inline double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

#endif
