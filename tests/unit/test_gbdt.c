/* test_gbdt.c: unit tests of the forecasting kernels and the demand table
 * builder, each against a plain independent computation in this file:
 *   quantile   distinct sets, union, radix sort, cut rules (x < cut[b] is
 *              exactly bin <= b), heavy values getting bins of their own;
 *   gbdt       histograms (1 and 2 threads, many nodes) against a naive
 *              sum; split finding against brute-force enumeration of every
 *              cut and missing direction; one-pass partition; the float
 *              predictor against the bin-code walk; the blocked forest
 *              predictor against row-by-row sums;
 *   demand     calendar (ISO weeks at year ends) and a whole demand table
 *              of random lines, inventory and deliveries against a
 *              brute-force evaluation of DATA.md 6-7, date by date;
 *   forecast   the normal quantile of the reorder-point rule.
 * No MPI: cunit_main.c runs these in one process. */
#include <CUnit/CUnit.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demand.h"
#include "forecast_out.h"
#include "gbdt.h"
#include "quantile.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}
static double urand(void) { return (double)(rnd() >> 11) * 0x1.0p-53; }

/* ---- quantile ----------------------------------------------------------- */

static void test_quantile_distinct_union(void) {
  double x[] = {3.0, NAN, -0.0, 0.0, 3.0, 1.5, 1.5000000001, NAN, -2.0};
  float out[16];
  int k = quantile_distinct(x, NULL, 9, 16, out);
  /* 1.5000000001 rounds to the float 1.5; -0 is 0 */
  CU_ASSERT_EQUAL(k, 4);
  CU_ASSERT_EQUAL(out[0], -2.0f);
  CU_ASSERT_EQUAL(out[1], 0.0f);
  CU_ASSERT_EQUAL(out[2], 1.5f);
  CU_ASSERT_EQUAL(out[3], 3.0f);
  CU_ASSERT_EQUAL(quantile_distinct(x, NULL, 9, 3, out), -1);
  int32_t rows[] = {0, 4, 8};
  CU_ASSERT_EQUAL(quantile_distinct(x, rows, 3, 16, out), 2);
  float a[] = {1, 3, 5}, b[] = {2, 3, 6, 7}, u[16];
  CU_ASSERT_EQUAL(quantile_union(a, 3, b, 4, 16, u), 6);
  CU_ASSERT_EQUAL(u[0], 1.0f);
  CU_ASSERT_EQUAL(u[5], 7.0f);
  CU_ASSERT_EQUAL(quantile_union(a, 3, b, 4, 5, u), -1);
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static void test_quantile_sort(void) {
  enum { N = 5000 };
  float *v = malloc(N * sizeof *v), *w = malloc(N * sizeof *w), *tmp = malloc(N * sizeof *tmp);
  for (int i = 0; i < N; i++) v[i] = w[i] = (float)((urand() - 0.5) * pow(10.0, (double)(rnd() % 12) - 6));
  v[7] = w[7] = -0.0f;
  quantile_sort(v, N, tmp);
  qsort(w, N, sizeof *w, cmp_float);
  int same = 1;
  for (int i = 0; i < N; i++) same &= v[i] == w[i];
  CU_ASSERT(same);
  free(v);
  free(w);
  free(tmp);
}

static void test_quantile_bins(void) {
  float d[] = {-1.0f, 0.0f, 2.5f, 7.0f};
  float cuts[8];
  int k = quantile_cuts_distinct(d, 4, cuts);
  CU_ASSERT_EQUAL(k, 4);
  CU_ASSERT(cuts[3] > 7.0f);
  for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(quantile_bin(cuts, k, d[j]), j); /* one bin per value */
  CU_ASSERT_EQUAL(quantile_bin(cuts, k, 1e30f), k - 1);                      /* clamped */
  CU_ASSERT_EQUAL(quantile_bin(cuts, k, -1e30f), 0);
  /* the routing rule: bin <= b  <=>  x < cuts[b] */
  int ok = 1;
  for (int i = 0; i < 2000; i++) {
    float x = (float)(urand() * 10 - 2);
    int bin = quantile_bin(cuts, k, x);
    for (int b = 0; b < k - 1; b++) ok &= (bin <= b) == (x < cuts[b]);
  }
  CU_ASSERT(ok);
  /* the batched search equals one at a time, NaN to the missing code */
  enum { NX = 1000 };
  double xs[NX];
  uint8_t o8[NX];
  uint16_t o16[NX];
  for (int i = 0; i < NX; i++) xs[i] = i % 17 == 0 ? NAN : urand() * 12 - 3;
  quantile_bins(cuts, k, xs, NX, k, o8, NULL);
  quantile_bins(cuts, k, xs, NX, k, NULL, o16);
  int same = 1;
  for (int i = 0; i < NX; i++) {
    int want = xs[i] != xs[i] ? k : quantile_bin(cuts, k, (float)xs[i]);
    same &= o8[i] == want && o16[i] == want;
  }
  CU_ASSERT(same);
  CU_ASSERT_EQUAL(quantile_cuts_distinct(d, 0, cuts), 1);
}

static void test_quantile_sample_heavy(void) {
  /* half zeros, a fifth ones, then a long tail: zero and one get bins of
   * their own and the tail still gets most of the cuts */
  enum { M = 20000, NB = 32 };
  float *s = malloc(M * sizeof *s), *tmp = malloc(M * sizeof *tmp), cuts[NB + 1];
  int64_t *t64 = malloc((2 * M + 2) * sizeof *t64);
  for (int i = 0; i < M; i++) s[i] = i < M / 2 ? 0.0f : i < M / 2 + M / 5 ? 1.0f : (float)(2 + (int)(urand() * 500));
  quantile_sort(s, M, tmp);
  int k = quantile_cuts_sample(s, M, NB, 0.0f, 501.0f, cuts, t64);
  CU_ASSERT(k <= NB);
  CU_ASSERT(k >= NB - 4);
  CU_ASSERT_EQUAL(cuts[0], 1.0f); /* zero alone in bin 0 */
  CU_ASSERT_EQUAL(cuts[1], 2.0f); /* one alone in bin 1 */
  int inc = 1;
  for (int j = 1; j < k; j++) inc &= cuts[j] > cuts[j - 1];
  CU_ASSERT(inc);
  CU_ASSERT(cuts[k - 1] > 501.0f);
  /* bins of the tail hold about equal numbers of rows */
  int64_t cnt[NB] = {0}, mx = 0;
  for (int i = 0; i < M; i++) cnt[quantile_bin(cuts, k, s[i])]++;
  for (int j = 2; j < k; j++) mx = cnt[j] > mx ? cnt[j] : mx;
  CU_ASSERT(mx < 3 * (M * 3 / 10) / (k - 2));
  /* few distinct values: one bin each */
  for (int i = 0; i < M; i++) s[i] = (float)(i % 5);
  quantile_sort(s, M, tmp);
  CU_ASSERT_EQUAL(quantile_cuts_sample(s, M, NB, 0.0f, 4.0f, cuts, t64), 5);
  free(s);
  free(tmp);
  free(t64);
}

/* ---- gbdt kernels ------------------------------------------------------- */

enum { NF = 5 };
static const int32_t nbins_t[NF] = {7, 3, 200, 12, 1};

typedef struct {
  int64_t n;
  uint8_t *codes, *cols;
  int32_t hoff[NF + 1];
  gbdt_matrix m;
} matrix_fixture;

static void matrix_make(matrix_fixture *x, int64_t n) {
  x->n = n;
  x->codes = malloc((size_t)n * NF);
  x->cols = malloc((size_t)n * NF);
  x->hoff[0] = 0;
  for (int f = 0; f < NF; f++) x->hoff[f + 1] = x->hoff[f] + nbins_t[f] + 1; /* every feature has a missing code */
  for (int64_t r = 0; r < n; r++)
    for (int f = 0; f < NF; f++) {
      int c = (int)(rnd() % (uint64_t)(nbins_t[f] + 1));
      x->codes[r * NF + f] = (uint8_t)c;
      x->cols[(size_t)f * (size_t)n + (size_t)r] = (uint8_t)c;
    }
  x->m = (gbdt_matrix){n, NF, x->codes, NULL, x->cols, NULL, nbins_t, x->hoff};
}

static void matrix_free(matrix_fixture *x) {
  free(x->codes);
  free(x->cols);
}

/* The fused last level: each row's gradient moves by its side's value,
 * and delta plus each sibling's value times its parent's slot counts is
 * the change of the root histogram's gradient sums (every row's new leaf
 * value in each of its slots), at 1 and 2 threads, with and without the
 * column copy. */
static void test_last_level(void) {
  matrix_fixture x;
  matrix_make(&x, 90000);
  const int64_t n = x.n, S = x.hoff[NF];
  int32_t *pos = malloc((size_t)n * sizeof *pos);
  int64_t *gq0 = malloc((size_t)n * sizeof *gq0), *gq = malloc((size_t)n * sizeof *gq);
  int64_t *want = calloc((size_t)S, sizeof *want), *got = malloc((size_t)S * sizeof *got);
  int64_t *delta = malloc((size_t)S * sizeof *delta), *cnt = malloc((size_t)S * 2 * sizeof *cnt);
  int64_t *scratch = malloc(gbdt_hist_scratch_size(&x.m) * sizeof *scratch);
  /* three nodes over a scattered subset (two of every three rows), the middle one a single row */
  int64_t m = 0;
  for (int64_t r = 0; r < n; r++)
    if (r % 3) pos[m++] = (int32_t)r;
  int64_t begin[3] = {0, 25000, 25001}, end[3] = {25000, 25001, m};
  int32_t feat[3] = {2, 1, 3}, bin[3] = {120, 0, 4};
  uint8_t dl[3] = {0, 1, 1}, sright[3] = {1, 0, 0};
  int64_t vql[3] = {-12345, 77, 3}, vqr[3] = {9876, -5, -40000};
  for (int64_t r = 0; r < n; r++) gq0[r] = (int64_t)(rnd() % 2000001) - 1000000;
  for (int k = 0; k < 3; k++)
    for (int64_t i = begin[k]; i < end[k]; i++) {
      int32_t r = pos[i];
      int c = x.codes[(size_t)r * NF + (size_t)feat[k]];
      int left = c == nbins_t[feat[k]] ? dl[k] : c <= bin[k];
      for (int f = 0; f < NF; f++) want[x.hoff[f] + x.codes[(size_t)r * NF + (size_t)f]] += left ? vql[k] : vqr[k];
    }
  const int32_t hconst = 1 << 20;
  for (int threads = 1; threads <= 2; threads++)
    for (int use_cols = 0; use_cols < 2; use_cols++) {
      omp_set_num_threads(threads);
      x.m.cols8 = use_cols ? x.cols : NULL;
      memcpy(gq, gq0, (size_t)n * sizeof *gq);
      gbdt_last_level(&x.m, pos, begin, end, feat, bin, dl, vql, vqr, sright, 3, gq, delta, scratch);
      int bad = 0;
      for (int k = 0; k < 3; k++)
        for (int64_t i = begin[k]; i < end[k]; i++) {
          int32_t r = pos[i];
          int c = x.codes[(size_t)r * NF + (size_t)feat[k]];
          int left = c == nbins_t[feat[k]] ? dl[k] : c <= bin[k];
          bad += gq[r] != gq0[r] + (left ? vql[k] : vqr[k]);
        }
      for (int64_t r = 0; r < n; r += 3) bad += gq[r] != gq0[r]; /* rows outside the nodes stay */
      CU_ASSERT_EQUAL(bad, 0);
      /* delta + sum_k sibling value x parent's slot counts (as hessian sums) */
      memcpy(got, delta, (size_t)S * sizeof *got);
      for (int k = 0; k < 3; k++) {
        memset(cnt, 0, (size_t)S * 2 * sizeof *cnt);
        for (int64_t i = begin[k]; i < end[k]; i++)
          for (int f = 0; f < NF; f++) cnt[2 * (x.hoff[f] + x.codes[(size_t)pos[i] * NF + (size_t)f]) + 1] += hconst;
        gbdt_hist_leaf_delta(cnt, S, sright[k] ? vql[k] : vqr[k], hconst, got);
      }
      CU_ASSERT_EQUAL(memcmp(got, want, (size_t)S * sizeof *got), 0);
    }
  x.m.cols8 = x.cols;
  omp_set_num_threads(2);
  free(pos);
  free(gq0);
  free(gq);
  free(want);
  free(got);
  free(delta);
  free(cnt);
  free(scratch);
  matrix_free(&x);
}

static void test_hist_build(void) {
  matrix_fixture x;
  matrix_make(&x, 60000);
  int32_t *pos = malloc((size_t)x.n * sizeof *pos), *hq = malloc((size_t)x.n * sizeof *hq);
  int64_t *gq = malloc((size_t)x.n * sizeof *gq);
  int64_t m = 0;
  for (int64_t r = 0; r < x.n; r++) {
    if (rnd() % 3) pos[m++] = (int32_t)r; /* a sorted subset with gaps */
    gq[r] = (int64_t)(rnd() % 2000001) - 1000000;
    hq[r] = (int32_t)(rnd() % 1000);
  }
  /* five nodes of very different sizes (one empty), as a level has */
  int64_t begin[5] = {0, 10, 10, 30000, 30100}, end[5] = {10, 10, 30000, 30100, m};
  const size_t width = 2 * (size_t)x.hoff[NF];
  int64_t *want = calloc(5 * width, sizeof *want), *got = malloc(5 * width * sizeof *got);
  int64_t *scratch = malloc(gbdt_hist_scratch_size(&x.m) * 2 * sizeof *scratch);
  for (int k = 0; k < 5; k++)
    for (int64_t i = begin[k]; i < end[k]; i++)
      for (int f = 0; f < NF; f++) {
        int slot = x.hoff[f] + x.codes[(size_t)pos[i] * NF + (size_t)f];
        want[k * width + 2 * (size_t)slot] += gq[pos[i]];
        want[k * width + 2 * (size_t)slot + 1] += hq[pos[i]];
      }
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    memset(got, 0x55, 5 * width * sizeof *got);
    gbdt_hist_build(&x.m, pos, begin, end, 5, gq, hq, 0, got, scratch, NULL);
    CU_ASSERT_EQUAL(memcmp(got, want, 5 * width * sizeof *got), 0);
  }
  /* constant hessian */
  gbdt_hist_build(&x.m, pos, begin + 2, end + 2, 1, gq, NULL, 7, got, scratch, NULL);
  int64_t hsum = 0;
  for (int b = 0; b <= nbins_t[0]; b++) hsum += got[2 * b + 1];
  CU_ASSERT_EQUAL(hsum, 7 * (end[2] - begin[2]));
  /* gradients made while building equal gradients made first */
  float *mg = malloc((size_t)x.n * sizeof *mg), *lb = malloc((size_t)x.n * sizeof *lb);
  int64_t *gq2 = malloc((size_t)x.n * sizeof *gq2);
  for (int64_t r = 0; r < x.n; r++) {
    mg[r] = (float)(urand() * 20 - 10);
    lb[r] = (float)(rnd() % 50);
  }
  gbdt_grad_quantize(GBDT_SQUARED, pos, m, mg, lb, 65536.0, 1.0, gq, NULL);
  gbdt_hist_build(&x.m, pos, begin + 2, end + 2, 1, gq, NULL, 7, want, scratch, NULL);
  gbdt_grad_src src = {mg, lb, 65536.0};
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    memset(gq2, 0, (size_t)x.n * sizeof *gq2);
    gbdt_hist_build(&x.m, pos, begin + 2, end + 2, 1, gq2, NULL, 7, got, scratch, &src);
    CU_ASSERT_EQUAL(memcmp(got, want, width * sizeof *got), 0);
    int same = 1;
    for (int64_t i = begin[2]; i < end[2]; i++) same &= gq2[pos[i]] == gq[pos[i]];
    CU_ASSERT(same);
  }
  free(mg);
  free(lb);
  free(gq2);
  omp_set_num_threads(2);
  free(pos);
  free(gq);
  free(hq);
  free(want);
  free(got);
  free(scratch);
  matrix_free(&x);
}

/* Brute force: every cut of every feature, both missing directions. */
static double brute_best(const matrix_fixture *x, const int64_t *h, int64_t G, int64_t H, const gbdt_param *p,
                         int *feat, int *bin, int *dl) {
  double best = 0.0;
  *feat = -1;
  double root = gbdt_gain((double)G / p->gscale, (double)H / p->hscale, p);
  for (int f = 0; f < NF; f++) {
    const int64_t *s = h + 2 * x->hoff[f];
    int nb = nbins_t[f];
    for (int b = 0; b < nb - 1; b++)
      for (int d = 0; d < 2; d++) {
        int64_t gl = 0, hl = 0;
        for (int j = 0; j <= b; j++) {
          gl += s[2 * j];
          hl += s[2 * j + 1];
        }
        if (d) {
          gl += s[2 * nb];
          hl += s[2 * nb + 1];
        }
        if (d && s[2 * nb + 1] == 0 && s[2 * nb] == 0) continue; /* no missing values: one direction */
        double HL = (double)hl / p->hscale, HR = (double)(H - hl) / p->hscale;
        if (HL < p->min_child_weight || HR < p->min_child_weight) continue;
        double loss = gbdt_gain((double)gl / p->gscale, HL, p) + gbdt_gain((double)(G - gl) / p->gscale, HR, p) - root;
        if (loss > best + 1e-9 * fabs(best)) {
          best = loss;
          *feat = f;
          *bin = b;
          *dl = d;
        }
      }
  }
  return best;
}

static void test_split_find(void) {
  matrix_fixture x;
  matrix_make(&x, 1);
  const int S = x.hoff[NF];
  int64_t *h = malloc(2 * (size_t)S * sizeof *h);
  int agree = 0, trials = 200;
  for (int t = 0; t < trials; t++) {
    /* a node's histogram: the same rows seen by every feature */
    int n = 20 + (int)(rnd() % 300);
    memset(h, 0, 2 * (size_t)S * sizeof *h);
    int64_t G = 0, H = 0;
    for (int i = 0; i < n; i++) {
      int64_t g = (int64_t)(rnd() % 2001) - 1000 + (t % 3 ? 0 : 300), hh = 1 + (int64_t)(rnd() % 5);
      G += g;
      H += hh;
      for (int f = 0; f < NF; f++) {
        int c = (int)(rnd() % (uint64_t)(nbins_t[f] + (t % 2 ? 1 : 0))); /* odd trials: missing values */
        h[2 * (x.hoff[f] + c)] += g;
        h[2 * (x.hoff[f] + c) + 1] += hh;
      }
    }
    gbdt_param p = {1.0, 0.0, (double)(t % 4), 1.0, 1.0};
    gbdt_split sp;
    gbdt_split_find(&x.m, h, G, H, NULL, &p, &sp);
    int bf = -1, bb = -1, bd = -1;
    double best = brute_best(&x, h, G, H, &p, &bf, &bb, &bd);
    if (best <= 1e-6) {
      agree += sp.feat < 0;
      continue;
    }
    /* the same best gain (ties between equivalent cuts may pick either),
     * and the split found really has that gain and those left sums */
    int64_t gl = 0, hl = 0;
    const int64_t *sf = h + 2 * x.hoff[sp.feat >= 0 ? sp.feat : 0];
    for (int j = 0; sp.feat >= 0 && j <= sp.bin; j++) {
      gl += sf[2 * j];
      hl += sf[2 * j + 1];
    }
    if (sp.feat >= 0 && sp.default_left) {
      gl += sf[2 * nbins_t[sp.feat]];
      hl += sf[2 * nbins_t[sp.feat] + 1];
    }
    double root = gbdt_gain((double)G, (double)H, &p);
    double loss = gbdt_gain((double)gl, (double)hl, &p) + gbdt_gain((double)(G - gl), (double)(H - hl), &p) - root;
    agree += sp.feat >= 0 && fabs(sp.loss_chg - best) <= 1e-9 * best && fabs(loss - best) <= 1e-9 * best &&
             sp.gl == gl && sp.hl == hl;
  }
  CU_ASSERT_EQUAL(agree, trials);
  /* gamma above the best gain leaves the node a leaf */
  gbdt_param p = {1.0, 1e30, 1.0, 1.0, 1.0};
  gbdt_split sp;
  gbdt_split_find(&x.m, h, 0, 1000, NULL, &p, &sp);
  CU_ASSERT_EQUAL(sp.feat, -1);
  free(h);
  matrix_free(&x);
}

/* One partition case: nodes [begin[k], end[k]) over the positions orig. */
static void partition_case(matrix_fixture *x, const int32_t *orig, const int64_t *begin, const int64_t *end) {
  int64_t n = end[2];
  int32_t *pos = malloc((size_t)n * sizeof *pos), *ref = malloc((size_t)n * sizeof *ref),
          *dst = malloc((size_t)n * sizeof *dst);
  int64_t nleft[3];
  int32_t feat[3] = {2, 0, 3}, bin[3] = {90, 3, 5};
  uint8_t dl[3] = {1, 0, 0};
  /* expected: each node's lefts in order, then its rights in reverse order */
  int64_t want_left[3];
  for (int k = 0; k < 3; k++) {
    int64_t o = begin[k], o2 = end[k] - 1;
    want_left[k] = 0;
    for (int64_t i = begin[k]; i < end[k]; i++) {
      int c = x->codes[(size_t)orig[i] * NF + (size_t)feat[k]];
      int left = c == nbins_t[feat[k]] ? dl[k] : c <= bin[k];
      want_left[k] += left;
      if (left) ref[o++] = orig[i];
      else ref[o2--] = orig[i];
    }
  }
  const uint8_t *cols = x->m.cols8;
  for (int threads = 1; threads <= 2; threads++)
    for (int use_cols = 0; use_cols < 2; use_cols++) {
      /* the column copy or row-major codes only: the same */
      x->m.cols8 = use_cols ? cols : NULL;
      omp_set_num_threads(threads);
      memset(dst, 0xff, (size_t)n * sizeof *dst);
      memcpy(pos, orig, (size_t)n * sizeof *pos);
      gbdt_partition(&x->m, pos, dst, begin, end, feat, bin, dl, 3, nleft);
      CU_ASSERT_EQUAL(memcmp(dst, ref, (size_t)n * sizeof *dst), 0);
      for (int k = 0; k < 3; k++) CU_ASSERT_EQUAL(nleft[k], want_left[k]);
    }
  x->m.cols8 = cols;
  free(pos);
  free(ref);
  free(dst);
}

static void test_partition(void) {
  matrix_fixture x;
  matrix_make(&x, 100000);
  int64_t n = x.n;
  int32_t *orig = malloc((size_t)n * sizeof *orig);
  /* every row, descending (blocks of several nodes over threads) */
  for (int64_t i = 0; i < n; i++) orig[i] = (int32_t)(n - 1 - i);
  int64_t begin[3] = {0, 50000, 50001}, end[3] = {50000, 50001, n};
  partition_case(&x, orig, begin, end);
  /* a scattered subset (every 11th row: the prefetching loop), ascending */
  int64_t m = 0;
  for (int64_t r = 0; r < n; r += 11) orig[m++] = (int32_t)r;
  int64_t begin2[3] = {0, 3000, 3001}, end2[3] = {3000, 3001, m};
  partition_case(&x, orig, begin2, end2);
  omp_set_num_threads(2);
  free(orig);
  matrix_free(&x);
}

static void test_tree_walks(void) {
  /* root: feature 0 (cut 0.5, missing left); left leaf 1.0; right: feature 1 (cut 2.0, missing right) */
  gbdt_tree t = {0, 0, NULL};
  gbdt_node nd[5] = {
      {1, 2, -1, 0, 0, 1, 0.5f, 1.0f, 10.0f, 0.0f},
      {-1, -1, 0, 0, 0, 0, 1.0f, 0.0f, 4.0f, 1.0f},
      {3, 4, 0, 1, 1, 0, 2.0f, 1.0f, 6.0f, 0.0f},
      {-1, -1, 2, 0, 0, 0, -2.0f, 0.0f, 3.0f, -2.0f},
      {-1, -1, 2, 0, 0, 0, 5.0f, 0.0f, 3.0f, 5.0f},
  };
  for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(gbdt_tree_push(&t, &nd[i]), i);
  /* bins: feature 0 cuts {0.5, 9}; feature 1 cuts {1, 2, 9}: codes <= bin go left */
  const float c0[2] = {0.5f, 9.0f}, c1[3] = {1.0f, 2.0f, 9.0f};
  const int32_t nb[2] = {2, 3}, hoff[3] = {0, 3, 7};
  float xs[6][2] = {{0.2f, 5.0f}, {0.7f, 1.5f}, {0.7f, 2.0f}, {NAN, 3.0f}, {0.9f, NAN}, {0.5f, 0.0f}};
  uint8_t codes[12];
  int32_t rows[6];
  float margin[6] = {0}, want[6];
  for (int r = 0; r < 6; r++) {
    codes[2 * r] = (uint8_t)(xs[r][0] != xs[r][0] ? 2 : quantile_bin(c0, 2, xs[r][0]));
    codes[2 * r + 1] = (uint8_t)(xs[r][1] != xs[r][1] ? 3 : quantile_bin(c1, 3, xs[r][1]));
    rows[r] = r;
    want[r] = gbdt_tree_leaf_float(&t, xs[r]);
  }
  gbdt_matrix m = {6, 2, codes, NULL, NULL, NULL, nb, hoff};
  gbdt_tree_add_codes(&t, &m, rows, 6, margin);
  CU_ASSERT_EQUAL(memcmp(margin, want, sizeof want), 0);
  CU_ASSERT_EQUAL(want[0], 1.0f);  /* 0.2 < 0.5 */
  CU_ASSERT_EQUAL(want[1], -2.0f); /* 0.7, 1.5 < 2 */
  CU_ASSERT_EQUAL(want[2], 5.0f);  /* 2.0 is not < 2.0 */
  CU_ASSERT_EQUAL(want[3], 1.0f);  /* missing goes left at the root */
  CU_ASSERT_EQUAL(want[4], 5.0f);  /* missing goes right below */
  CU_ASSERT_EQUAL(want[5], -2.0f); /* 0.5 is not < 0.5: right, then 0 < 2 */
  gbdt_tree_free(&t);
}

/* A random tree on nf features: every node splits with probability 0.8 down
 * to depth max_depth (at least the root splits); conditions from a small
 * grid so rows sit on them, random missing directions. */
static void random_tree(gbdt_tree *t, int nf, int max_depth) {
  memset(t, 0, sizeof *t);
  gbdt_node root = {-1, -1, -1, 0, 0, 0, 0.0f, 0.0f, 1.0f, 0.0f};
  gbdt_tree_push(t, &root);
  int32_t depth_of[1024] = {0};
  for (int32_t k = 0; k < t->n && t->n + 2 < 1024; k++) {
    if (depth_of[k] == max_depth || (k > 0 && urand() < 0.2)) {
      t->nodes[k].cond = (float)(urand() * 2 - 1);
      continue;
    }
    gbdt_node ch = {-1, -1, k, 0, 0, 0, 0.0f, 0.0f, 1.0f, 0.0f};
    int32_t l = gbdt_tree_push(t, &ch), r = gbdt_tree_push(t, &ch);
    depth_of[l] = depth_of[r] = depth_of[k] + 1;
    gbdt_node *nd = &t->nodes[k];
    nd->left = l;
    nd->right = r;
    nd->feat = (int32_t)(rnd() % (uint64_t)nf);
    nd->default_left = (uint8_t)(rnd() & 1);
    nd->cond = (float)((int)(rnd() % 9) - 4) * 0.25f;
  }
  for (int32_t k = 0; k < t->n; k++)
    if (t->nodes[k].left < 0) t->nodes[k].cond = (float)(urand() * 2 - 1);
}

static void test_forest_predict(void) {
  /* the blocked predictor against a row-by-row float32 sum in tree order,
   * bit for bit, at 1 and 2 threads, with missing values and rows on the cuts */
  enum { NF = 5, NT = 37, N = 1000 };
  gbdt_tree trees[NT];
  for (int t = 0; t < NT; t++) random_tree(&trees[t], NF, 1 + t % 9);
  double *cols[NF];
  for (int f = 0; f < NF; f++) {
    cols[f] = malloc(N * sizeof *cols[f]);
    for (int i = 0; i < N; i++) {
      uint64_t u = rnd() % 10;
      cols[f][i] = u == 0 ? NAN : u < 4 ? (double)((int)(rnd() % 9) - 4) * 0.25 : urand() * 3 - 1.5;
    }
  }
  int64_t rows[N];
  int64_t nr = 0;
  for (int i = N - 1; i >= 0; i -= 1 + (int)(rnd() % 2)) rows[nr++] = i; /* scattered, descending */
  float want[N], got[N];
  const float base = 0.375f;
  for (int64_t j = 0; j < nr; j++) {
    float xf[NF];
    for (int f = 0; f < NF; f++) xf[f] = (float)cols[f][rows[j]];
    float m = base;
    for (int t = 0; t < NT; t++) m += gbdt_tree_leaf_float(&trees[t], xf);
    want[j] = m;
  }
  gbdt_forest fo;
  CU_ASSERT_EQUAL_FATAL(gbdt_forest_build(trees, NT, &fo), 0);
  CU_ASSERT_EQUAL(fo.ntrees, NT);
  CU_ASSERT_EQUAL(fo.depth[0], 1);
  CU_ASSERT_EQUAL(fo.depth[8], 9);
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    memset(got, 0, sizeof got);
    gbdt_forest_predict(&fo, (const double *const *)cols, NF, rows, nr, base, got);
    CU_ASSERT_EQUAL(memcmp(got, want, (size_t)nr * sizeof *got), 0);
  }
  /* a split on a feature the block cannot hold is refused */
  trees[0].nodes[0].feat = GBDT_FOREST_MAXFEAT;
  gbdt_forest bad;
  CU_ASSERT_EQUAL(gbdt_forest_build(trees, NT, &bad), -1);
  gbdt_forest_free(&fo);
  for (int t = 0; t < NT; t++) gbdt_tree_free(&trees[t]);
  for (int f = 0; f < NF; f++) free(cols[f]);
}

static void test_add_leaves(void) {
  /* leaves of very different sizes (one empty) over a shuffled position array */
  enum { N = 200000 };
  int32_t *pos = malloc(N * sizeof *pos);
  float *m = calloc(N, sizeof *m), *want = calloc(N, sizeof *want);
  int64_t *gq = calloc(N, sizeof *gq), *gwant = calloc(N, sizeof *gwant);
  for (int i = 0; i < N; i++) pos[i] = (int32_t)((int64_t)i * 7919 % N);
  int64_t begin[4] = {0, 5, 5, 120000}, end[4] = {5, 5, 120000, N - 3}, vq[4] = {3, -9, 40, -2};
  float v[4] = {0.5f, -1.0f, 2.25f, -0.125f};
  for (int k = 0; k < 4; k++)
    for (int64_t i = begin[k]; i < end[k]; i++) {
      want[pos[i]] += v[k];
      gwant[pos[i]] += vq[k];
    }
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    memset(m, 0, N * sizeof *m);
    memset(gq, 0, N * sizeof *gq);
    gbdt_add_leaves(pos, begin, end, v, vq, 4, m, gq);
    CU_ASSERT_EQUAL(memcmp(m, want, N * sizeof *m), 0);
    CU_ASSERT_EQUAL(memcmp(gq, gwant, N * sizeof *gq), 0);
  }
  gbdt_add_leaves(pos, begin, end, v, vq, 4, m, NULL); /* margins only */
  CU_ASSERT_EQUAL(m[pos[0]], 1.0f);
  CU_ASSERT_EQUAL(gq[pos[0]], 3);
  gbdt_add_leaves(pos, begin, end, v, vq, 4, NULL, gq); /* fixed-point gradients only */
  CU_ASSERT_EQUAL(m[pos[0]], 1.0f);
  CU_ASSERT_EQUAL(gq[pos[0]], 6);
  CU_ASSERT_EQUAL(gq[pos[N - 4]], 2 * gwant[pos[N - 4]]);
  CU_ASSERT_EQUAL(gq[pos[N - 1]], 0); /* past every leaf */
  /* a leaf's share of the next root: value x rows per slot */
  int64_t hist[6] = {11, 2 * 8, -4, 0, 5, 3 * 8}, dg[3] = {1, 1, 1};
  gbdt_hist_leaf_delta(hist, 3, -7, 8, dg);
  CU_ASSERT(dg[0] == 1 - 14 && dg[1] == 1 && dg[2] == 1 - 21);
  CU_ASSERT_EQUAL(gbdt_quantize_one(-2.5), -3);
  CU_ASSERT_EQUAL(gbdt_quantize_one(2.5), 3);
  omp_set_num_threads(2);
  free(pos);
  free(m);
  free(want);
  free(gq);
  free(gwant);
}

static void test_gradients_scale(void) {
  CU_ASSERT_EQUAL(gbdt_scale_for(0.0), 1.0);
  double s = gbdt_scale_for(3.0); /* 3 < 2^2: 2^28 */
  CU_ASSERT_EQUAL(s, ldexp(1.0, 28));
  CU_ASSERT(3.0 * s <= ldexp(1.0, 30));
  float margin[3] = {1.0f, 2.0f, 0.0f}, label[3] = {3.0f, 1.0f, 0.0f};
  int32_t rows[3] = {0, 1, 2}, hq[3];
  int64_t q[3];
  double gm, hm;
  gbdt_grad_max(GBDT_SQUARED, rows, 3, margin, label, &gm, &hm);
  CU_ASSERT_EQUAL(gm, 2.0);
  CU_ASSERT_EQUAL(hm, 1.0);
  gbdt_grad_quantize(GBDT_SQUARED, rows, 3, margin, label, 4.0, 1.0, q, NULL);
  CU_ASSERT_EQUAL(q[0], -8);
  CU_ASSERT_EQUAL(q[1], 4);
  CU_ASSERT_EQUAL(q[2], 0);
  gbdt_grad_max(GBDT_POISSON, rows, 3, margin, label, &gm, &hm);
  CU_ASSERT_DOUBLE_EQUAL(gm, exp(2.0) - 1.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(hm, exp(2.7), 1e-12);
  gbdt_grad_quantize(GBDT_POISSON, rows, 3, margin, label, 1024.0, 1024.0, q, hq);
  CU_ASSERT_EQUAL(q[1], llround((exp(2.0) - 1.0) * 1024));
  CU_ASSERT_EQUAL(q[0], -llround((3.0 - exp(1.0)) * 1024));
  CU_ASSERT_EQUAL(hq[2], (int32_t)llround(exp(0.7) * 1024));
}

/* ---- demand table ------------------------------------------------------- */

static int32_t ymd(int y, int m, int d) {
  /* days since 1970-01-01, independent of demand.c: count days */
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int32_t n = 0;
  for (int yy = 1970; yy < y; yy++) n += 365 + ((yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0);
  for (int mm = 1; mm < m; mm++) n += mdays[mm - 1] + (mm == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
  return n + d - 1;
}

static void test_calendar(void) {
  int dow, dom, month, week;
  demand_calendar(ymd(2023, 1, 1), &dow, &dom, &month, &week); /* a Sunday, ISO week 52 of 2022 */
  CU_ASSERT(dow == 6 && dom == 1 && month == 1 && week == 52);
  demand_calendar(ymd(2024, 12, 30), &dow, &dom, &month, &week); /* Monday of ISO week 1 of 2025 */
  CU_ASSERT(dow == 0 && dom == 30 && month == 12 && week == 1);
  demand_calendar(ymd(2021, 1, 3), &dow, &dom, &month, &week); /* ISO week 53 of 2020 */
  CU_ASSERT(dow == 6 && week == 53);
  demand_calendar(ymd(2011, 12, 9), &dow, &dom, &month, &week); /* Friday, week 49 */
  CU_ASSERT(dow == 4 && dom == 9 && month == 12 && week == 49);
  demand_calendar(ymd(2024, 2, 29), &dow, &dom, &month, &week);
  CU_ASSERT(dow == 3 && dom == 29 && month == 2 && week == 9);
  char buf[16];
  demand_date_text(ymd(2024, 2, 29), buf);
  CU_ASSERT_STRING_EQUAL(buf, "2024-02-29");
}

/* The lines of the fixture, kept as plain arrays for the brute force. */
enum { NL = 3000, NSKU = 4, NREG = 3, DAYS = 80 };
typedef struct {
  int64_t sku;
  int32_t region, day, sec, qty;
  double amount, orig;
  int64_t arr;
} fline;

static int near(double a, double b) {
  if (a != a || b != b) return (a != a) && (b != b);
  return fabs(a - b) <= 1e-9 * fmax(1.0, fabs(b));
}

/* DATA.md 6-7 evaluated date by date, scanning every line each time. */
static void brute_row(const fline *L, int nl, int64_t sku, int32_t reg, int32_t day, int32_t first, int has_inv,
                      int has_del, int avail, int ndc, double *f, int64_t *units) {
  int64_t u = 0;
  double lts = 0;
  int64_t ltc = 0;
  int32_t last_sale = -1;
  for (int i = 0; i < nl; i++) {
    if (L[i].sku != sku || L[i].region != reg) continue;
    if (L[i].day == day) u += L[i].qty;
    if (L[i].day <= day && L[i].day > last_sale) last_sale = L[i].day;
    int64_t order_ts = (int64_t)L[i].day * 86400 + L[i].sec;
    if (has_del && L[i].arr != SC_NO_TS && L[i].day >= day - 28 && L[i].day <= day - 1 &&
        L[i].arr < (int64_t)day * 86400) {
      lts += (double)(L[i].arr - order_ts) / 3600.0;
      ltc++;
    }
  }
  *units = u;
  double price = NAN, disc = NAN;
  if (last_sale >= 0) {
    double a = 0, o = 0;
    int64_t q = 0;
    for (int i = 0; i < nl; i++)
      if (L[i].sku == sku && L[i].region == reg && L[i].day == last_sale) {
        a += L[i].amount;
        o += L[i].orig;
        q += L[i].qty;
      }
    price = a / (double)q;
    disc = o > 0 ? 1.0 - a / o : NAN;
  }
  f[0] = price;
  f[1] = disc;
  f[2] = has_inv ? (double)avail / ndc : NAN;
  f[3] = has_del && ltc > 0 ? lts / (double)ltc : NAN;
  int dow, dom, month, week;
  demand_calendar(day, &dow, &dom, &month, &week);
  f[4] = dow;
  f[5] = dom;
  f[6] = month;
  f[7] = week;
  const int lags[4] = {1, 7, 14, 28};
  for (int j = 0; j < 4; j++) {
    if (day - lags[j] < first) {
      f[8 + j] = NAN;
      continue;
    }
    int64_t s = 0;
    for (int i = 0; i < nl; i++)
      if (L[i].sku == sku && L[i].region == reg && L[i].day == day - lags[j]) s += L[i].qty;
    f[8 + j] = (double)s;
  }
  const int win[2] = {7, 28};
  for (int j = 0; j < 2; j++) {
    if (day - win[j] < first) {
      f[12 + j] = NAN;
      continue;
    }
    int64_t s = 0;
    for (int i = 0; i < nl; i++)
      if (L[i].sku == sku && L[i].region == reg && L[i].day >= day - win[j] && L[i].day < day) s += L[i].qty;
    f[12 + j] = (double)s / win[j];
  }
}

static void check_demand(int has_inv, int has_del) {
  const int32_t first = ymd(2023, 3, 1), last = first + DAYS - 1;
  static fline L[NL];
  sc_table lines, inv, out;
  CU_ASSERT_EQUAL_FATAL(table_init(&lines, "l", DEMAND_LINES_SPEC), SC_OK);
  CU_ASSERT_EQUAL_FATAL(table_resize(&lines, NL), SC_OK);
  int64_t *sku = table_i64(&lines, "sku"), *arr = table_i64(&lines, "arr_ts");
  int32_t *reg = table_i32(&lines, "region"), *day = table_i32(&lines, "day"), *sec = table_i32(&lines, "sec"),
          *qty = table_i32(&lines, "quantity");
  double *am = table_f64(&lines, "amount"), *og = table_f64(&lines, "orig_amount");
  for (int i = 0; i < NL; i++) {
    fline *l = &L[i];
    l->sku = 100 + (int64_t)(rnd() % NSKU);
    l->region = (int32_t)(rnd() % NREG) + 1;
    /* sku 103 starts late in region 3: rows from its first sale */
    l->day = first + (int32_t)(rnd() % DAYS);
    if (l->sku == 103 && l->region == 3 && l->day < first + 40) l->day += 40;
    l->sec = (int32_t)(rnd() % 86400);
    l->qty = 1 + (int32_t)(rnd() % 4);
    double price = (double)(100 + rnd() % 5000) / 100.0, orig = price * (1.0 + (double)(rnd() % 3) / 10.0);
    orig = round(orig * 100) / 100;
    l->amount = l->qty * price;
    l->orig = l->qty * orig;
    int64_t ots = (int64_t)l->day * 86400 + l->sec;
    l->arr = rnd() % 4 == 0 ? SC_NO_TS : ots + 3600 + (int64_t)(rnd() % (6 * 86400));
    sku[i] = l->sku;
    reg[i] = l->region;
    day[i] = l->day;
    sec[i] = l->sec;
    qty[i] = l->qty;
    am[i] = l->amount;
    og[i] = l->orig;
    arr[i] = l->arr;
  }
  /* inventory: sku 104 is never sold but available in region 2 on some days */
  static int avail[NSKU + 1][NREG + 1][DAYS];
  memset(avail, 0, sizeof avail);
  CU_ASSERT_EQUAL_FATAL(table_init(&inv, "i", SC_INVENTORY_SPEC), SC_OK);
  int64_t ni = 0;
  for (int s = 0; s <= NSKU; s++)
    for (int g = 1; g <= NREG; g++)
      for (int d = 0; d < DAYS; d++) {
        if (rnd() % 3 == 0 || (s == NSKU && g != 2)) continue;
        int a = (int)(rnd() % (uint64_t)(g + 1)); /* region g has g DCs; 0 keeps a snapshot row */
        CU_ASSERT_EQUAL_FATAL(table_resize(&inv, ni + 1), SC_OK);
        table_i64(&inv, "sku")[ni] = 100 + s;
        table_i32(&inv, "region")[ni] = g;
        table_i32(&inv, "day")[ni] = first + d;
        table_i32(&inv, "available_dcs")[ni] = a;
        avail[s][g][d] = a;
        ni++;
      }
  int64_t dc_region[NREG] = {1, 2, 3};
  int32_t dc_count[NREG] = {1, 2, 3};
  demand_opts o = {first, last, has_inv, has_del, dc_region, dc_count, NREG};
  CU_ASSERT_EQUAL_FATAL(demand_from_lines(&o, &lines, has_inv ? &inv : NULL, &out), SC_OK);
  /* expected rows, in (sku, region, date) order */
  int64_t r = 0, bad = 0;
  const int64_t *osku = table_i64(&out, "sku_id"), *ounits = table_i64(&out, "units");
  const int32_t *oreg = table_i32(&out, "region_id"), *odate = table_i32(&out, "date");
  const double *of[DEMAND_NFEAT];
  for (int j = 0; j < DEMAND_NFEAT; j++) of[j] = table_f64(&out, demand_features[j]);
  for (int s = 0; s <= NSKU; s++)
    for (int g = 1; g <= NREG; g++) {
      int32_t first_sale = INT32_MAX;
      for (int i = 0; i < NL; i++)
        if (L[i].sku == 100 + s && L[i].region == g && L[i].day < first_sale) first_sale = L[i].day;
      for (int32_t d = first; d <= last; d++) {
        int sold = 0;
        for (int i = 0; i < NL && !sold; i++) sold = L[i].sku == 100 + s && L[i].region == g && L[i].day == d;
        int on = has_inv ? (avail[s][g][d - first] > 0 || sold) : d >= first_sale;
        if (!on) continue;
        double f[DEMAND_NFEAT];
        int64_t u;
        brute_row(L, NL, 100 + s, g, d, first, has_inv, has_del, avail[s][g][d - first], g, f, &u);
        if (r >= out.n || osku[r] != 100 + s || oreg[r] != g || odate[r] != d || ounits[r] != u) {
          bad++;
          r++;
          continue;
        }
        for (int j = 0; j < DEMAND_NFEAT; j++)
          if (!near(of[j][r], f[j])) {
            if (bad < 5)
              printf("\n  sku %d region %d day %d: %s segcast %.17g brute force %.17g", 100 + s, g, d - first,
                     demand_features[j], of[j][r], f[j]);
            bad++;
          }
        r++;
      }
    }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT_EQUAL(r, out.n);
  table_free(&lines);
  table_free(&inv);
  table_free(&out);
}

static void test_demand_no_inventory(void) { check_demand(0, 0); }
static void test_demand_marketplace(void) { check_demand(1, 1); }

static void test_demand_bad_range(void) {
  sc_table lines, out;
  table_init(&lines, "l", DEMAND_LINES_SPEC);
  table_resize(&lines, 1);
  table_i64(&lines, "sku")[0] = 1;
  table_i32(&lines, "region")[0] = 1;
  table_i32(&lines, "day")[0] = 500;
  table_i32(&lines, "quantity")[0] = 1;
  demand_opts o = {100, 200, 0, 0, NULL, NULL, 0};
  CU_ASSERT_NOT_EQUAL(demand_from_lines(&o, &lines, NULL, &out), SC_OK);
  sc_clear();
  demand_opts o2 = {300, 200, 0, 0, NULL, NULL, 0};
  CU_ASSERT_EQUAL(demand_from_lines(&o2, &lines, NULL, &out), SC_EINPUT);
  CU_ASSERT(strstr(sc_message(), "date range") != NULL);
  sc_clear();
  table_free(&lines);
  table_free(&out);
}

static void test_normal_quantile(void) {
  CU_ASSERT_DOUBLE_EQUAL(fc_normal_quantile(0.5), 0.0, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(fc_normal_quantile(0.95), 1.6448536269514722, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(fc_normal_quantile(0.975), 1.959963984540054, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(fc_normal_quantile(0.01), -2.3263478740408408, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(fc_normal_quantile(0.9999), 3.719016485455709, 1e-8);
}

void register_tests(void) {
  CU_pSuite q = CU_add_suite("quantile", NULL, NULL);
  CU_add_test(q, "distinct values and union", test_quantile_distinct_union);
  CU_add_test(q, "radix sort equals qsort", test_quantile_sort);
  CU_add_test(q, "bin k <= b exactly when x < cut b", test_quantile_bins);
  CU_add_test(q, "heavy values get bins of their own", test_quantile_sample_heavy);
  CU_pSuite g = CU_add_suite("gbdt", NULL, NULL);
  CU_add_test(g, "histograms equal a naive sum at 1 and 2 threads", test_hist_build);
  CU_add_test(g, "best split equals brute force", test_split_find);
  CU_add_test(g, "one-pass partition", test_partition);
  CU_add_test(g, "fused last level: gradients and root change", test_last_level);
  CU_add_test(g, "float predictor equals the bin-code walk", test_tree_walks);
  CU_add_test(g, "blocked forest predictor equals the row-by-row sum", test_forest_predict);
  CU_add_test(g, "gradients and fixed-point scale", test_gradients_scale);
  CU_add_test(g, "leaves of a level, fixed-point gradients and root update", test_add_leaves);
  CU_pSuite d = CU_add_suite("demand", NULL, NULL);
  CU_add_test(d, "calendar and ISO weeks", test_calendar);
  CU_add_test(d, "demand rows from first sale (no inventory)", test_demand_no_inventory);
  CU_add_test(d, "demand rows with inventory and deliveries", test_demand_marketplace);
  CU_add_test(d, "bad date range is one clear error", test_demand_bad_range);
  CU_pSuite f = CU_add_suite("forecast", NULL, NULL);
  CU_add_test(f, "normal quantile", test_normal_quantile);
}
