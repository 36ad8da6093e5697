/* radix.c: stable LSD radix sort of (int64 key, int64 payload) pairs.
 *
 * Keys already in order cost one read; keys in at most 16 ascending runs
 * are merged instead (see merge_runs).
 *
 * radix_argsort_i64 sorts indices by key; keys within 2^32 of each other
 * travel as one word with their index (half the bytes a pass), and
 * radix_sort_i64 sorts such keys through it (then gathers the payloads).
 *
 * Keys are biased to unsigned (flip the sign bit) so unsigned digit order
 * is signed key order. Six passes of 11 bits cover 64 bits; all six
 * histograms come from one read of the keys, and a pass whose histogram
 * has a single full bucket is skipped.
 */
#include "radix.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

/* Keys that are already a few ascending runs (data read in order, then
 * exchanged: one run per sending rank) are merged, a pass per halving of
 * the runs, instead of radix-sorted; ties take the earlier run (stable). */
#define MAX_RUNS 16

/* Keys per thread below which radix_argsort_i64 runs on one thread. */
#define ARGSORT_PAR_MIN ((int64_t)1 << 16)

/* Turns the counts c[0..nb) into their exclusive prefix sums: each
 * bucket's first place. */
static void to_offsets(int64_t *c, size_t nb) {
  int64_t sum = 0;
  for (size_t d = 0; d < nb; d++) {
    int64_t t = c[d];
    c[d] = sum;
    sum += t;
  }
}

static int merge_runs(int64_t *key, int64_t *val, int64_t n, const int64_t *start, int runs) {
  int64_t *k2 = malloc(sizeof(int64_t) * (size_t)n), *v2 = malloc(sizeof(int64_t) * (size_t)n);
  int64_t bound[MAX_RUNS + 1];
  if (!k2 || !v2) {
    free(k2);
    free(v2);
    return -1;
  }
  for (int r = 0; r < runs; r++) bound[r] = start[r];
  bound[runs] = n;
  int64_t *ks = key, *vs = val, *kd = k2, *vd = v2;
  while (runs > 1) {
    int out = 0;
    for (int r = 0; r < runs; r += 2) {
      /* run r is [bound[r], bound[r+1]), run r+1 (when there is one) ends at bound[r+2] */
      int64_t a = bound[r], am = bound[r + 1], b = am, bm = r + 1 < runs ? bound[r + 2] : am, o = a;
      while (a < am && b < bm) {
        int take_b = ks[b] < ks[a];
        kd[o] = take_b ? ks[b] : ks[a];
        vd[o++] = take_b ? vs[b++] : vs[a++];
      }
      for (; a < am; a++, o++) kd[o] = ks[a], vd[o] = vs[a];
      for (; b < bm; b++, o++) kd[o] = ks[b], vd[o] = vs[b];
      bound[out++] = bound[r];
    }
    bound[out] = n;
    runs = out;
    int64_t *t = ks;
    ks = kd;
    kd = t;
    t = vs;
    vs = vd;
    vd = t;
  }
  if (ks != key) {
    memcpy(key, ks, sizeof(int64_t) * (size_t)n);
    memcpy(val, vs, sizeof(int64_t) * (size_t)n);
  }
  free(k2);
  free(v2);
  return 0;
}

int radix_sort_i64(int64_t *key, int64_t *val, int64_t n) {
  if (n < 2) return 0;
  int64_t start[MAX_RUNS];
  int runs = 1;
  start[0] = 0;
  for (int64_t i = 1; i < n && runs <= MAX_RUNS; i++)
    if (key[i] < key[i - 1]) {
      if (runs < MAX_RUNS) start[runs] = i;
      runs++;
    }
  if (runs == 1) return 0;
  if (runs <= MAX_RUNS) return merge_runs(key, val, n, start, runs);
  {
    /* keys within 2^32 of each other (order ids, days, user ids): the
     * argsort's one word a key, on the threads, then the payloads
     * gathered; 2-3 passes of 8 bytes instead of the pairs' 16 (issue 15:
     * delivery rows in ship-time order, 1.9 million a rank) */
    int64_t lo = key[0], hi = key[0];
    for (int64_t i = 1; i < n; i++) {
      lo = key[i] < lo ? key[i] : lo;
      hi = key[i] > hi ? key[i] : hi;
    }
    if ((uint64_t)n <= UINT32_MAX && (uint64_t)hi - (uint64_t)lo <= UINT32_MAX) {
      int64_t *ord = malloc(sizeof(int64_t) * (size_t)n), *sk = malloc(sizeof(int64_t) * (size_t)n);
      int e = ord && sk ? radix_argsort_i64(key, n, ord, sk) : -1;
      if (e >= 0) {
        int64_t *v2 = sk; /* the keys go back first: their buffer then takes the payloads */
        memcpy(key, sk, sizeof(int64_t) * (size_t)n);
        for (int64_t i = 0; i < n; i++) v2[i] = val[ord[i]];
        memcpy(val, v2, sizeof(int64_t) * (size_t)n);
      }
      free(ord);
      free(sk);
      return e < 0 ? -1 : 0;
    }
  }
  enum { PASSES = (64 + RADIX_BITS - 1) / RADIX_BITS };
  uint64_t *k0 = malloc(sizeof(uint64_t) * (size_t)n), *k1 = malloc(sizeof(uint64_t) * (size_t)n);
  int64_t *v1 = malloc(sizeof(int64_t) * (size_t)n), *cnt = calloc((size_t)PASSES * RADIX_SIZE, sizeof(int64_t));
  if (!k0 || !k1 || !v1 || !cnt) {
    free(k0);
    free(k1);
    free(v1);
    free(cnt);
    return -1;
  }
  /* every pass's histogram in one read of the keys */
  for (int64_t i = 0; i < n; i++) {
    uint64_t u = (uint64_t)key[i] ^ 0x8000000000000000ull;
    k0[i] = u;
    for (int p = 0; p < PASSES; p++) cnt[p * RADIX_SIZE + ((u >> (p * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
  }
  uint64_t *ks = k0, *kd = k1;
  int64_t *vs = val, *vd = v1;
  for (int p = 0; p < PASSES; p++) {
    int64_t *c = cnt + p * RADIX_SIZE;
    const int shift = p * RADIX_BITS;
    if (c[(ks[0] >> shift) & (RADIX_SIZE - 1)] == n) continue; /* every key has this digit */
    to_offsets(c, RADIX_SIZE);
    for (int64_t i = 0; i < n; i++) {
      int64_t o = c[(ks[i] >> shift) & (RADIX_SIZE - 1)]++;
      kd[o] = ks[i];
      vd[o] = vs[i];
    }
    uint64_t *kt = ks;
    ks = kd;
    kd = kt;
    int64_t *vt = vs;
    vs = vd;
    vd = vt;
  }
  for (int64_t i = 0; i < n; i++) key[i] = (int64_t)(ks[i] ^ 0x8000000000000000ull);
  if (vs != val) memcpy(val, vs, sizeof(int64_t) * (size_t)n);
  free(k0);
  free(k1);
  free(v1);
  free(cnt);
  return 0;
}

int radix_argsort_i64(const int64_t *key, int64_t n, int64_t *order, int64_t *sorted) {
  int64_t lo = n ? key[0] : 0, hi = lo, falls = 0;
  for (int64_t i = 1; i < n; i++) {
    lo = key[i] < lo ? key[i] : lo;
    hi = key[i] > hi ? key[i] : hi;
    falls += key[i] < key[i - 1];
  }
  if (falls == 0) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    if (sorted) memcpy(sorted, key, sizeof(int64_t) * (size_t)n);
    return 1;
  }
  const uint64_t range = (uint64_t)hi - (uint64_t)lo;
  if ((uint64_t)n > UINT32_MAX || range > UINT32_MAX) {
    /* wide keys: (key, index) pairs */
    int64_t *k = sorted ? sorted : malloc(sizeof(int64_t) * (size_t)n);
    if (!k) return -1;
    memcpy(k, key, sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) order[i] = i;
    int e = radix_sort_i64(k, order, n);
    if (!sorted) free(k);
    return e;
  }
  /* one word a key: the offset from the least key above the index, so a
   * pass moves 8 bytes, not 16, and equal keys stay in index order; only
   * the offset's bits are sorted, in digits of at most RADIX_BITS */
  const int bits = 64 - __builtin_clzll(range); /* range > 0: there is a fall */
  const int passes = (bits + RADIX_BITS - 1) / RADIX_BITS, w = (bits + passes - 1) / passes;
  const uint64_t mask = ((uint64_t)1 << w) - 1;
  /* threads: each pass counts the digits of each thread's slice, and a
   * thread's slice goes to the places after those of the lower threads'
   * slices for the same digit (stable); cnt holds a histogram per thread.
   * One thread: a histogram per pass, all counted in the one read that
   * builds the words. */
  int T = omp_in_parallel() ? 1 : omp_get_max_threads();
  if ((int64_t)T > n / ARGSORT_PAR_MIN) T = (int)(n / ARGSORT_PAR_MIN);
  if (T < 1) T = 1;
  uint64_t *a = malloc(sizeof(uint64_t) * (size_t)n), *b = malloc(sizeof(uint64_t) * (size_t)n);
  int64_t *cnt = calloc((size_t)(T > 1 ? T : passes) << w, sizeof(int64_t));
  if (!a || !b || !cnt) {
    free(a);
    free(b);
    free(cnt);
    return -1;
  }
  if (T > 1) {
#pragma omp parallel for schedule(static) num_threads(T)
    for (int64_t i = 0; i < n; i++) a[i] = ((uint64_t)key[i] - (uint64_t)lo) << 32 | (uint64_t)i;
  } else {
    for (int64_t i = 0; i < n; i++) {
      uint64_t off = (uint64_t)key[i] - (uint64_t)lo;
      a[i] = off << 32 | (uint64_t)i;
      for (int p = 0; p < passes; p++) cnt[((size_t)p << w) + (off >> (p * w) & mask)]++;
    }
  }
  for (int p = 0; p < passes; p++) {
    const int shift = 32 + p * w;
    if (T > 1) {
#pragma omp parallel num_threads(T)
      {
        const int t = omp_get_thread_num();
        const int64_t i0 = n * t / T, i1 = n * (t + 1) / T;
        int64_t *h = cnt + ((size_t)t << w);
        memset(h, 0, sizeof(int64_t) << w);
        for (int64_t i = i0; i < i1; i++) h[a[i] >> shift & mask]++;
#pragma omp barrier
#pragma omp single
        {
          int64_t sum = 0;
          for (uint64_t d = 0; d <= mask; d++)
            for (int u = 0; u < T; u++) {
              int64_t x = cnt[((size_t)u << w) + d];
              cnt[((size_t)u << w) + d] = sum;
              sum += x;
            }
        }
        for (int64_t i = i0; i < i1; i++) b[h[a[i] >> shift & mask]++] = a[i];
      }
    } else {
      int64_t *c = cnt + ((size_t)p << w);
      to_offsets(c, (size_t)mask + 1);
      for (int64_t i = 0; i < n; i++) b[c[a[i] >> shift & mask]++] = a[i];
    }
    uint64_t *t = a;
    a = b;
    b = t;
  }
#pragma omp parallel for schedule(static) num_threads(T) if (T > 1)
  for (int64_t i = 0; i < n; i++) {
    order[i] = (int64_t)(a[i] & UINT32_MAX);
    if (sorted) sorted[i] = (int64_t)((a[i] >> 32) + (uint64_t)lo);
  }
  free(a);
  free(b);
  free(cnt);
  return 0;
}

int64_t radix_double_key(double v) {
  if (v == 0) v = 0.0; /* -0 sorts as +0 */
  int64_t b;
  memcpy(&b, &v, sizeof b);
  return b < 0 ? b ^ INT64_MAX : b;
}

double radix_key_double(int64_t k) {
  int64_t b = k < 0 ? k ^ INT64_MAX : k;
  double v;
  memcpy(&v, &b, sizeof v);
  return v;
}
