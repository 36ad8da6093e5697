/* search.h: binary search over sorted int64 arrays (header-only kernel).
 *
 * One lower bound serves every sorted-array lookup of the program
 * (customers' lines, delivery arrivals, DC regions, top-k cut-offs). */
#ifndef SEGCAST_SEARCH_H
#define SEGCAST_SEARCH_H

#include <stdint.h>

/// First index i in [0, n] with a[i] >= key in the ascending array a.
static inline int64_t lower_bound_i64(const int64_t *a, int64_t n, int64_t key) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

#endif
