/* search.h: binary search over sorted int64 arrays (header-only kernel).
 *
 * One lower bound serves every sorted-array lookup of the program
 * (customers' lines, delivery arrivals, DC regions, top-k cut-offs); the
 * galloping variant serves keys that arrive nearly in order (the join's
 * order ids), at O(log distance) from the previous answer. */
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

/// lower_bound_i64 searched from a hint (any index in [0, n]): doubling
/// steps from the hint towards the key, then a binary search inside the
/// last step. Keys in ascending order cost O(1) each when they are close.
static inline int64_t gallop_lower_bound_i64(const int64_t *a, int64_t n, int64_t key, int64_t hint) {
  if (hint > n) hint = n;
  if (hint < n && a[hint] < key) { /* forward: the answer is in (hint, n] */
    int64_t lo = hint + 1, step = 1;
    for (;;) {
      int64_t probe = hint + step;
      if (probe >= n) return lo + lower_bound_i64(a + lo, n - lo, key);
      if (a[probe] >= key) return lo + lower_bound_i64(a + lo, probe - lo, key);
      lo = probe + 1;
      step *= 2;
    }
  }
  /* backward: the answer is in [0, hint] */
  int64_t hi = hint, step = 1;
  for (;;) {
    int64_t probe = hint - step;
    if (probe < 0) return lower_bound_i64(a, hi, key);
    if (a[probe] < key) return probe + 1 + lower_bound_i64(a + probe + 1, hi - probe - 1, key);
    hi = probe;
    step *= 2;
  }
}

#endif
