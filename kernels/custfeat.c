/* custfeat.c: customer features from sorted order lines (see custfeat.h).
 *
 * Each user's lines are a contiguous run, so one thread handles one user
 * from start to end: counts are exact, and the two money sums use
 * Neumaier's compensated summation in file order, which makes them the
 * correctly rounded sum in all but pathological cases (an independent
 * pandas sum, itself compensated, then rounds to the same 6 decimals).
 * Distinct order ids and skus are counted by sorting a per-thread copy of
 * the user's ids; a run that is already ascending (the usual case, lines
 * of an order are adjacent) skips the sort.
 */
#include "custfeat.h"
#include "search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t feat_groups(const int64_t *user_id, int64_t n, int64_t *starts) {
  int64_t g = 0, i = 0;
  while (i < n && user_id[i] == 0) i++;
  while (i < n) {
    starts[g++] = i;
    int64_t u = user_id[i];
    while (i < n && user_id[i] == u) i++;
  }
  starts[g] = i;
  return g;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Number of distinct values in v[0..m), reordering v. */
static int64_t count_distinct(int64_t *v, int64_t m) {
  if (m == 0) return 0;
  int sorted = 1;
  for (int64_t i = 1; i < m && sorted; i++) sorted = v[i - 1] <= v[i];
  if (!sorted) {
    if (m <= 16) {
      for (int64_t i = 1; i < m; i++) {
        int64_t x = v[i], j = i;
        while (j > 0 && v[j - 1] > x) {
          v[j] = v[j - 1];
          j--;
        }
        v[j] = x;
      }
    } else {
      if (m > 1) qsort(v, (size_t)m, sizeof *v, cmp_i64);
    }
  }
  int64_t d = 1;
  for (int64_t i = 1; i < m; i++) d += v[i] != v[i - 1];
  return d;
}

/* Neumaier's compensated sum: s + c is the running total. */
static inline void neumaier_add(double *s, double *c, double x) {
  double t = *s + x;
  if (fabs(*s) >= fabs(x)) *c += (*s - t) + x;
  else *c += (x - t) + *s;
  *s = t;
}

int feat_compute(const feat_lines *in, const int64_t *starts, int64_t ngroups, int32_t as_of, feat_out *out) {
  int64_t longest = 0;
  for (int64_t g = 0; g < ngroups; g++) longest = starts[g + 1] - starts[g] > longest ? starts[g + 1] - starts[g] : longest;
  int failed = 0;
#pragma omp parallel reduction(| : failed)
  {
    int64_t *ids = malloc((size_t)(longest + 1) * sizeof *ids);
    if (!ids) failed = 1;
#pragma omp for schedule(dynamic, 256)
    for (int64_t g = 0; g < ngroups; g++) {
      if (!ids) continue;
      int64_t b = starts[g], e = starts[g + 1], valid = 0, returns = 0;
      int32_t first = INT32_MAX, last = INT32_MIN;
      double ms = 0, mc = 0, os = 0, oc = 0;
      for (int64_t i = b; i < e; i++) {
        if (in->day[i] >= as_of) continue;
        uint8_t f = in->flags[i];
        if (f & FEAT_LINE_RETURN) returns++;
        if (!(f & FEAT_LINE_VALID)) continue;
        ids[valid++] = in->order_id[i];
        first = in->day[i] < first ? in->day[i] : first;
        last = in->day[i] > last ? in->day[i] : last;
        neumaier_add(&ms, &mc, in->amount[i]);
        neumaier_add(&os, &oc, in->orig_amount[i]);
      }
      out->user_id[g] = in->user_id[b];
      out->valid_lines[g] = valid;
      out->return_lines[g] = returns;
      out->first_day[g] = valid ? first : 0;
      out->last_day[g] = valid ? last : 0;
      out->monetary[g] = ms + mc;
      out->final_sum[g] = ms + mc;
      out->orig_sum[g] = os + oc;
      out->frequency[g] = count_distinct(ids, valid);
      out->diversity[g] = 0;
      if (in->sku && valid) {
        int64_t m = 0;
        for (int64_t i = b; i < e; i++)
          if (in->day[i] < as_of && (in->flags[i] & FEAT_LINE_VALID)) ids[m++] = in->sku[i];
        out->diversity[g] = count_distinct(ids, m);
      }
    }
    free(ids);
  }
  return failed ? -1 : 0;
}


void feat_count_window(const int64_t *cust_uid, int64_t nc, const int64_t *row_uid, const int32_t *row_day,
                       int64_t nrows, int32_t lo, int32_t hi, int64_t *out) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nc; c++) {
    int64_t cnt = 0;
    for (int64_t i = lower_bound_i64(row_uid, nrows, cust_uid[c]); i < nrows && row_uid[i] == cust_uid[c]; i++)
      cnt += row_day[i] >= lo && row_day[i] < hi;
    out[c] = cnt;
  }
}

void feat_lookup_i32(const int64_t *cust_uid, int64_t nc, const int64_t *row_uid, const int32_t *val, int64_t nrows,
                     int32_t missing, int32_t *out) {
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nc; c++) {
    int64_t i = lower_bound_i64(row_uid, nrows, cust_uid[c]);
    out[c] = i < nrows && row_uid[i] == cust_uid[c] ? val[i] : missing;
  }
}

double feat_round6(double v) {
  double r = rint(v * 1e6) / 1e6;
  return r == 0 ? 0.0 : r;
}

int64_t feat_micro(double v) { return (int64_t)rint(v * 1e6); }
