/* quantile.c: distinct-value sets, float radix sort and cut points (see
 * quantile.h for the bin rule and why the cuts do not depend on ranks).
 *
 * quantile_distinct keeps a small open-addressing hash set of float bits
 * and gives up as soon as a feature has more values than it may have bins,
 * so continuous features cost a few hundred rows, not a pass.
 */
#include "quantile.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* Orders float bit patterns like the floats: flip all bits of negatives,
 * the sign bit of positives. */
static inline uint32_t float_key(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static int float_cmp(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

int quantile_distinct(const double *x, const int32_t *rows, int64_t n, int limit, float *out) {
  enum { CAP = 8192 }; /* power of two, > 2 * 4096 */
  uint32_t table[CAP];
  uint8_t used[CAP];
  memset(used, 0, sizeof used);
  int count = 0;
  for (int64_t i = 0; i < n; i++) {
    double v = rows ? x[rows[i]] : x[i];
    if (v != v) continue;
    float f = (float)v + 0.0f; /* -0 -> +0 */
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t h = (u * 0x9E3779B1u) >> 19; /* 13 bits */
    while (used[h] && table[h] != u) h = (h + 1) & (CAP - 1);
    if (used[h]) continue;
    if (count == limit) return -1;
    used[h] = 1;
    table[h] = u;
    memcpy(&out[count++], &u, 4);
  }
  if (count > 1) qsort(out, (size_t)count, sizeof *out, float_cmp);
  return count;
}

int quantile_union(const float *a, int na, const float *b, int nb, int limit, float *out) {
  int i = 0, j = 0, k = 0;
  while (i < na || j < nb) {
    float v;
    if (j >= nb || (i < na && a[i] < b[j])) v = a[i++];
    else if (i >= na || b[j] < a[i]) v = b[j++];
    else {
      v = a[i++];
      j++;
    }
    if (k == limit) return -1;
    out[k++] = v;
  }
  return k;
}

void quantile_sort(float *v, int64_t n, float *tmp) {
  if (n < 64) {
    if (n > 1) qsort(v, (size_t)n, sizeof *v, float_cmp);
    return;
  }
  /* LSD radix sort, 4 passes of 8 bits over the order-preserving keys. */
  float *src = v, *dst = tmp;
  for (int pass = 0; pass < 4; pass++) {
    int64_t cnt[256] = {0};
    int shift = pass * 8;
    for (int64_t i = 0; i < n; i++) cnt[(float_key(src[i]) >> shift) & 255]++;
    int64_t off = 0;
    for (int b = 0; b < 256; b++) {
      int64_t c = cnt[b];
      cnt[b] = off;
      off += c;
    }
    for (int64_t i = 0; i < n; i++) dst[cnt[(float_key(src[i]) >> shift) & 255]++] = src[i];
    float *t = src;
    src = dst;
    dst = t;
  }
  /* four passes: the result is back in v */
}

int quantile_cuts_distinct(const float *d, int k, float *cuts) {
  if (k <= 0) {
    cuts[0] = FLT_MAX;
    return 1;
  }
  for (int j = 1; j < k; j++) cuts[j - 1] = d[j];
  cuts[k - 1] = quantile_last_cut(d[k - 1]);
  return k;
}

int quantile_cuts_sample(const float *s, int64_t m, int nbins, float vmin, float vmax, float *cuts, int64_t *tmp) {
  /* distinct values of the sample and their counts, in place: s is sorted */
  float *v = (float *)tmp;
  int64_t *w = tmp + m / 2 + 1, k = 0;
  for (int64_t i = 0; i < m; i++) {
    if (k > 0 && s[i] == v[k - 1]) w[k - 1]++;
    else {
      v[k] = s[i];
      w[k++] = 1;
    }
  }
  int nc = 0;
  if (k > 0 && k <= nbins) {
    for (int64_t i = 1; i < k; i++) cuts[nc++] = v[i];
  } else if (k > 0) {
    /* Greedy equal-frequency bins in which a heavy value (at least a
     * bin's share of the rows) gets a bin of its own, and the bins left
     * share the remaining rows evenly (LightGBM's GreedyFindBin). */
    double mean = (double)m / nbins;
    int64_t nbig = 0, rest_rows = m;
    for (int64_t i = 0; i < k; i++)
      if (w[i] >= mean) {
        nbig++;
        rest_rows -= w[i];
      }
    int64_t rest_bins = nbins - nbig;
    mean = rest_bins > 0 ? (double)rest_rows / (double)rest_bins : (double)m;
    double in_bin = 0.0;
    for (int64_t i = 0; i + 1 < k; i++) {
      int big = (double)w[i] >= (double)m / nbins, next_big = (double)w[i + 1] >= (double)m / nbins;
      if (!big) rest_rows -= w[i];
      in_bin += (double)w[i];
      if (big || in_bin >= mean || (next_big && in_bin >= fmax(1.0, 0.5 * mean))) {
        cuts[nc++] = v[i + 1];
        if (nc >= nbins - 1) break;
        in_bin = 0.0;
        if (!big && --rest_bins > 0) mean = (double)rest_rows / (double)rest_bins;
      }
    }
  }
  /* cuts above the sample's minimum, below the true maximum's last cut */
  float last = quantile_last_cut(vmax);
  int j = 0;
  for (int i = 0; i < nc; i++)
    if (cuts[i] > vmin && cuts[i] < last && (j == 0 || cuts[i] > cuts[j - 1])) cuts[j++] = cuts[i];
  cuts[j++] = last;
  return j;
}

void quantile_bins(const float *cuts, int ncuts, const double *x, int64_t n, int missing_code, uint8_t *out8,
                   uint16_t *out16) {
  enum { L = 32 };
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    float v[L];
    int pos[L];
    for (int j = 0; j < L; j++) {
      v[j] = (float)x[i + j];
      pos[j] = 0;
    }
    int len = ncuts;
    while (len > 1) {
      int half = len >> 1;
      for (int j = 0; j < L; j++) pos[j] += (cuts[pos[j] + half - 1] <= v[j]) * half;
      len -= half;
    }
    for (int j = 0; j < L; j++) {
      int k = pos[j] + (cuts[pos[j]] <= v[j]);
      k = k < ncuts ? k : ncuts - 1;
      if (x[i + j] != x[i + j]) k = missing_code;
      if (out8) out8[i + j] = (uint8_t)k;
      else out16[i + j] = (uint16_t)k;
    }
  }
  for (; i < n; i++) {
    int k = x[i] != x[i] ? missing_code : quantile_bin(cuts, ncuts, (float)x[i]);
    if (out8) out8[i] = (uint8_t)k;
    else out16[i] = (uint16_t)k;
  }
}
