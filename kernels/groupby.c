/* groupby.c: sort-based group-by on int64 key columns (groupby.h).
 *
 * Packed path: each column's range [lo, hi] takes bits(hi - lo) bits; when
 * they add up to 64 or fewer, row i's word is the concatenation of
 * (col_j - lo_j) with column 0 in the high bits, whose unsigned order is
 * the columns' lexicographic order. The word, biased to signed, goes to
 * radix_argsort_i64, whose sorted output marks the groups (a change of
 * word). Wide path: radix_argsort_i64 on the last column, then on each
 * earlier column gathered in the order so far (stable, so ties keep the
 * later columns' order); groups where any column changes.
 */
#include "groupby.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "radix.h"

/* Rows below which the loops here stay on one thread. */
#define GB_PAR_MIN ((int64_t)1 << 16)

static int bits_of(uint64_t range) { return range ? 64 - __builtin_clzll(range) : 0; }

/* Group starts where the sorted words change. */
static int64_t starts_of_words(const int64_t *sorted, int64_t n, int64_t *start) {
  int64_t g = 0;
  for (int64_t p = 0; p < n; p++)
    if (p == 0 || sorted[p] != sorted[p - 1]) start[g++] = p;
  start[g] = n;
  return g;
}

static int64_t gb_packed(const int64_t *const *cols, int nk, size_t stride, int64_t n, const int64_t *lo,
                         const int *shift, int64_t *order, int64_t *start) {
  int64_t *key = malloc(sizeof(int64_t) * (size_t)n), *sorted = malloc(sizeof(int64_t) * (size_t)n);
  int64_t g = -1;
  if (key && sorted) {
    int par = !omp_in_parallel() && n >= GB_PAR_MIN;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) {
      uint64_t w = 0;
      for (int j = 0; j < nk; j++) w |= ((uint64_t)cols[j][(size_t)i * stride] - (uint64_t)lo[j]) << shift[j];
      key[i] = (int64_t)(w ^ 0x8000000000000000ull);
    }
    if (radix_argsort_i64(key, n, order, sorted) >= 0) g = starts_of_words(sorted, n, start);
  }
  free(key);
  free(sorted);
  return g;
}

static int64_t gb_wide(const int64_t *const *cols, int nk, size_t stride, int64_t n, int64_t *order,
                       int64_t *start) {
  int64_t *k = malloc(sizeof(int64_t) * (size_t)n), *o2 = malloc(sizeof(int64_t) * (size_t)n);
  int64_t g = -1;
  if (!k || !o2) goto done;
  for (int64_t i = 0; i < n; i++) order[i] = i;
  for (int j = nk - 1; j >= 0; j--) {
    for (int64_t p = 0; p < n; p++) k[p] = cols[j][(size_t)order[p] * stride];
    int e = radix_argsort_i64(k, n, o2, NULL);
    if (e < 0) goto done;
    if (e == 1) continue; /* in order already */
    for (int64_t p = 0; p < n; p++) k[p] = order[o2[p]];
    memcpy(order, k, sizeof(int64_t) * (size_t)n);
  }
  g = 0;
  for (int64_t p = 0; p < n; p++) {
    int diff = p == 0;
    for (int j = 0; j < nk && !diff; j++)
      diff = cols[j][(size_t)order[p] * stride] != cols[j][(size_t)order[p - 1] * stride];
    if (diff) start[g++] = p;
  }
  start[g] = n;
done:
  free(k);
  free(o2);
  return g;
}

int64_t gb_sort(const int64_t *const *cols, int nk, size_t stride, int64_t n, int64_t *order, int64_t *start) {
  if (nk < 1 || nk > GB_MAX_KEYS || n < 0) return -1;
  if (n == 0) {
    start[0] = 0;
    return 0;
  }
  int64_t lo[GB_MAX_KEYS], hi[GB_MAX_KEYS];
  int shift[GB_MAX_KEYS], total = 0;
  for (int j = 0; j < nk; j++) {
    int64_t l = cols[j][0], h = l;
    const int64_t *c = cols[j];
    for (int64_t i = 1; i < n; i++) {
      int64_t v = c[(size_t)i * stride];
      l = v < l ? v : l;
      h = v > h ? v : h;
    }
    lo[j] = l;
    hi[j] = h;
  }
  /* column nk-1 in the low bits */
  for (int j = nk - 1; j >= 0; j--) {
    shift[j] = total;
    total += bits_of((uint64_t)hi[j] - (uint64_t)lo[j]);
  }
  if (total <= 64) {
    /* a shift of 64 only happens for a column of zero bits above 64 used bits: none */
    for (int j = 0; j < nk; j++)
      if (shift[j] >= 64) shift[j] = 0;
    return gb_packed(cols, nk, stride, n, lo, shift, order, start);
  }
  return gb_wide(cols, nk, stride, n, order, start);
}
