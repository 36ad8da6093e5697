/* segment_select.c: distributed selection by bisection (segment_select.h).
 *
 * Stage 1 finds, per query, the smallest A with count(a <= A) > pos;
 * stage 2 the smallest B with count((a, b) <= (A, B)) > pos. Each stage
 * bisects the global [min, max] range of its key: at most 64 rounds, each
 * one Allreduce of nq counts. lo/hi are replicated, so every rank runs the
 * same number of rounds.
 */
#include "segment_select.h"

#include <stdlib.h>
#include <string.h>

#include "comm.h"

int64_t seg_count_le(const int64_t *a, const int64_t *b, int64_t n, int64_t x, int64_t y) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < x || (a[mid] == x && b[mid] <= y)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/* Midpoint without overflow for any int64 lo <= hi. */
static int64_t mid_of(int64_t lo, int64_t hi) { return (int64_t)((uint64_t)lo + (((uint64_t)hi - (uint64_t)lo) >> 1)); }

/* Bisects each query's [lo, hi] until lo == hi, where the predicate
 * base[q] + count_le(fixed[q] or mid, ...) > pos[q] decides the side. */
static void bisect(const int64_t *a, const int64_t *b, int64_t n, const int64_t *pos, int nq, int stage_b,
                   const int64_t *fixed_a, const int64_t *base, int64_t *lo, int64_t *hi, int64_t *cnt) {
  for (;;) {
    int open = 0;
    for (int q = 0; q < nq; q++) open |= lo[q] < hi[q];
    if (!open) break;
    for (int q = 0; q < nq; q++) {
      int64_t mid = mid_of(lo[q], hi[q]);
      if (stage_b) cnt[q] = seg_count_le(a, b, n, fixed_a[q], mid) - base[q];
      else cnt[q] = seg_count_le(a, b, n, mid, INT64_MAX);
    }
    comm_sum_i64(cnt, (size_t)nq);
    for (int q = 0; q < nq; q++) {
      if (lo[q] >= hi[q]) continue;
      int64_t mid = mid_of(lo[q], hi[q]);
      int64_t below = stage_b ? cnt[q] + base[nq + q] : cnt[q];
      if (below > pos[q]) hi[q] = mid;
      else lo[q] = mid + 1;
    }
  }
}

sc_status seg_select(const int64_t *a, const int64_t *b, int64_t n, const int64_t *pos, int nq, int64_t *out_a,
                     int64_t *out_b) {
  if (nq <= 0) return SC_OK;
  int64_t *buf = NULL;
  sc_status s = sc_alloc(&buf, sizeof(int64_t) * (size_t)(5 * nq + 4));
  s = comm_agree(s);
  if (s) return s;
  int64_t *lo = buf, *hi = buf + nq, *cnt = buf + 2 * nq, *base = buf + 3 * nq, *mm = buf + 5 * nq;
  /* global ranges of a and b (min as ~max(~x), one Allreduce) */
  int64_t amin = INT64_MAX, amax = INT64_MIN, bmin = INT64_MAX, bmax = INT64_MIN;
  for (int64_t i = 0; i < n; i++) {
    amin = a[i] < amin ? a[i] : amin;
    amax = a[i] > amax ? a[i] : amax;
    bmin = b[i] < bmin ? b[i] : bmin;
    bmax = b[i] > bmax ? b[i] : bmax;
  }
  mm[0] = ~amin;
  mm[1] = amax;
  mm[2] = ~bmin;
  mm[3] = bmax;
  comm_max_i64(mm, 4);
  amin = ~mm[0];
  amax = mm[1];
  bmin = ~mm[2];
  bmax = mm[3];
  for (int q = 0; q < nq; q++) {
    lo[q] = amin;
    hi[q] = amax;
  }
  bisect(a, b, n, pos, nq, 0, NULL, NULL, lo, hi, cnt);
  for (int q = 0; q < nq; q++) out_a[q] = lo[q];
  /* base[q]: local count of a < A (subtracted from local counts);
   * base[nq + q]: the global count, added back by the stage-2 predicate */
  for (int q = 0; q < nq; q++) {
    base[q] = out_a[q] == INT64_MIN ? 0 : seg_count_le(a, b, n, out_a[q] - 1, INT64_MAX);
    base[nq + q] = base[q];
    lo[q] = bmin;
    hi[q] = bmax;
  }
  comm_sum_i64(base + nq, (size_t)nq);
  bisect(a, b, n, pos, nq, 1, out_a, base, lo, hi, cnt);
  for (int q = 0; q < nq; q++) out_b[q] = lo[q];
  free(buf);
  return SC_OK;
}

int32_t seg_range_rank(const int64_t *splitters, int size, int64_t key) {
  int32_t lo = 0, hi = size - 1;
  while (lo < hi) {
    int32_t mid = lo + (hi - lo) / 2;
    if (splitters[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

sc_status seg_partition_by_range(sc_table *t, const char *key, int64_t *n_total, int64_t *splitters) {
  int size = comm_size();
  int64_t n = t->n;
  *n_total = comm_sum1_i64(n);
  if (*n_total == 0) {
    if (splitters) memset(splitters, 0, sizeof(int64_t) * (size_t)(size - 1));
    return SC_OK;
  }
  int64_t *zero = NULL, *pos = NULL, *sa = NULL, *sb = NULL;
  int32_t *dest = NULL;
  sc_status s = sc_calloc(&zero, (size_t)(n + 1), sizeof *zero);
  if (!s) s = sc_alloc(&pos, sizeof(int64_t) * (size_t)size);
  if (!s) s = sc_alloc(&sa, sizeof(int64_t) * (size_t)size);
  if (!s) s = sc_alloc(&sb, sizeof(int64_t) * (size_t)size);
  if (!s) s = sc_alloc(&dest, sizeof(int32_t) * (size_t)(n + 1));
  s = comm_agree(s);
  if (!s) {
    const int64_t *k = table_i64(t, key);
    for (int r = 1; r < size; r++) pos[r - 1] = sc_muldiv(*n_total, r, size);
    s = seg_select(k, zero, n, pos, size - 1, sa, sb);
    /* destination: the number of splitters at or below the key */
    for (int64_t i = 0; !s && i < n; i++) dest[i] = seg_range_rank(sa, size, k[i]);
    if (!s && splitters) memcpy(splitters, sa, sizeof(int64_t) * (size_t)(size - 1));
  }
  if (!s) s = table_exchange(t, dest);
  if (!s) s = comm_agree(table_sort(t, key, NULL, NULL));
  free(zero);
  free(pos);
  free(sa);
  free(sb);
  free(dest);
  return s;
}
