/* quantile.h: bin edges ("cuts") of one feature for histogram trees.
 *
 * A feature's cuts are float32 values c[0] < c[1] < ... < c[k-1]; bin j
 * holds the values x with c[j-1] <= x < c[j] (bin 0 starts at -inf), so
 * "bin <= b" is exactly "x < c[b]" and a tree that splits at bin b stores
 * c[b] as its split condition (XGBoost's rule, FIELD-NOTES.md). The last
 * cut lies strictly above the feature's maximum, as in XGBoost.
 *
 * Two ways to the cuts, both independent of how rows are spread over
 * ranks: a feature with at most max_bin distinct values gets one bin per
 * value (quantile_cuts_distinct, from the exact union of every rank's
 * distinct values); any other feature gets equal-frequency cuts from a
 * sorted sample (quantile_cuts_sample) whose membership is decided by a
 * hash of each row's key, so the sample is the same set at any rank count.
 *
 * Pure functions over plain arrays: no MPI, no files, no globals.
 */
#ifndef SEGCAST_QUANTILE_H
#define SEGCAST_QUANTILE_H

#include <math.h>
#include <stdint.h>

/// Collects the distinct non-NaN float32 values of x[rows[i]], i < n
/// (doubles rounded to float32; -0 counts as 0; rows NULL: x[0..n)) into
/// out, ascending. Returns their count, or -1 as soon as there are more
/// than `limit` (out needs `limit` entries; limit <= 4096).
int quantile_distinct(const double *x, const int32_t *rows, int64_t n, int limit, float *out);

/// Merges sorted distinct lists a[0..na) and b[0..nb) into out (sorted,
/// distinct); returns the count, or -1 when it exceeds `limit`.
int quantile_union(const float *a, int na, const float *b, int nb, int limit, float *out);

/// Sorts v[0..n) ascending (NaN-free) by a radix sort of the float bits;
/// tmp needs n entries.
void quantile_sort(float *v, int64_t n, float *tmp);

/// The cut above a feature's maximum: vmax + (|vmax| + 1e-5), XGBoost's
/// choice, so every seen value lies below the last cut.
static inline float quantile_last_cut(float vmax) { return vmax + (fabsf(vmax) + 1e-5f); }

/// Cuts for a feature whose sorted distinct values are d[0..k): one bin per
/// value (cuts d[1], ..., d[k-1], last cut). Returns the number of cuts
/// (k; 1 when k = 0, with a single cut at FLT_MAX).
int quantile_cuts_distinct(const float *d, int k, float *cuts);

/// Cuts from a sorted sample s[0..m) of a feature whose true minimum and
/// maximum are vmin, vmax: at most nbins bins. A sample with at most nbins
/// distinct values gets one bin per value; otherwise bins hold about
/// equal numbers of sample rows, except that a value holding at least a
/// bin's share gets a bin of its own (LightGBM's greedy binning; plain
/// quantiles would spend most cuts on a few repeated values, such as the
/// zeros of a lag). Cuts are sample values, strictly increasing, the last
/// one quantile_last_cut(vmax). tmp holds 2m + 2 int64. Returns the number
/// of cuts (>= 1).
int quantile_cuts_sample(const float *s, int64_t m, int nbins, float vmin, float vmax, float *cuts, int64_t *tmp);

/// Bin of a non-NaN value: the number of cuts <= x, at most ncuts - 1.
/// Branch-free binary search.
static inline int quantile_bin(const float *cuts, int ncuts, float x) {
  const float *base = cuts;
  int len = ncuts;
  while (len > 1) {
    int half = len >> 1;
    base += (base[half - 1] <= x) * half; /* arithmetic, not a branch: unpredictable data */
    len -= half;
  }
  int k = (int)(base - cuts) + (base[0] <= x);
  return k < ncuts ? k : ncuts - 1;
}

/// Bins of x[0..n) (NaN: missing_code) into out8 (or out16 when out8 is
/// NULL): quantile_bin on 32 values at a time, whose searches run in
/// lockstep so their load chains overlap (3x faster than one at a time).
void quantile_bins(const float *cuts, int ncuts, const double *x, int64_t n, int missing_code, uint8_t *out8,
                   uint16_t *out16);

#endif
