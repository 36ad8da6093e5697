/* test_kmeans.c: unit tests of the segmentation kernels and rules.
 *
 * Every expected value is computed independently in the test (brute force
 * loops, hand-worked examples, the DATA.md tables written out again), not
 * by calling the code under test a second way:
 *   - radix sort against qsort; the double-to-key order;
 *   - fixed-point limbs: split, sum limb-wise, join = the exact sum;
 *   - customer features of hand-built lines (counts, distinct ids, sums,
 *     the as_of cut, returns) and the joins with users and clicks;
 *   - km_assign: labels against a brute-force nearest centroid, sums and
 *     counts against exact recomputation, and the same bits after
 *     shuffling the points or changing the thread count, incrementally
 *     updated or recounted, on the AVX2 or the baseline path;
 *   - km_nearest equals km_assign's labels; km_farthest's order;
 *   - the silhouette kernel against a naive O(m^2) computation;
 *   - km_pp_weighted: same key same centres, every centre a candidate;
 *   - the RFM segment map against DATA.md 4, the choice of k, the names.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "custfeat.h"
#include "kmeans.h"
#include "radix.h"
#include "segment_internal.h"

static uint64_t rs = 0x243F6A8885A308D3ull;
static double ur(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) * 0x1.0p-53;
}

typedef struct {
  int64_t k, v;
} kv;
static int kv_cmp(const void *a, const void *b) {
  const kv *x = a, *y = b;
  if (x->k != y->k) return x->k < y->k ? -1 : 1;
  return x->v < y->v ? -1 : x->v > y->v;
}

static void test_radix(void) {
  enum { N = 5000 };
  int64_t key[N], val[N];
  kv ref[N];
  for (int i = 0; i < N; i++) {
    int64_t k = (int64_t)(ur() * 2e6) - 1000000;
    if (i % 7 == 0) k = INT64_MIN + (int64_t)(ur() * 10);
    if (i % 11 == 0) k = INT64_MAX - (int64_t)(ur() * 10);
    if (i % 5 == 0) k = 42; /* ties keep input order (stability) */
    key[i] = k;
    val[i] = i;
    ref[i].k = k;
    ref[i].v = i;
  }
  qsort(ref, N, sizeof *ref, kv_cmp); /* (key, original index) = stable order */
  CU_ASSERT_EQUAL(radix_sort_i64(key, val, N), 0);
  int same = 1;
  for (int i = 0; i < N; i++) same &= key[i] == ref[i].k && val[i] == ref[i].v;
  CU_ASSERT(same);
  double vals[] = {-INFINITY, -1e300, -2.5, -1e-300, -0.0, 0.0, 1e-300, 1.0, 2.5, 1e300, INFINITY};
  int n = (int)(sizeof vals / sizeof *vals);
  for (int i = 0; i + 1 < n; i++) {
    CU_ASSERT(radix_double_key(vals[i]) <= radix_double_key(vals[i + 1]));
    CU_ASSERT_EQUAL(radix_key_double(radix_double_key(vals[i])), vals[i] == 0 ? 0.0 : vals[i]);
  }
  CU_ASSERT_EQUAL(radix_double_key(-0.0), radix_double_key(0.0));
  /* keys already in order (1 run), in 2..16 ascending runs (merged) and in
   * 17 or 40 runs (radix): the same stable order as the reference, ties
   * across runs included (the earlier run first) */
  static const int run_counts[] = {1, 2, 3, 5, 16, 17, 40};
  for (size_t c = 0; c < sizeof run_counts / sizeof *run_counts; c++) {
    int runs = run_counts[c];
    for (int i = 0; i < N; i++) {
      int run = i * runs / N, first = run * N / runs + (run * N % runs != 0);
      int64_t k = (int64_t)(i - first) / 3 * 7 - 500; /* ascending in its run, with ties */
      if (run == runs - 1 && i == N - 1) k = INT64_MAX;
      key[i] = k;
      val[i] = i;
      ref[i].k = k;
      ref[i].v = i;
    }
    qsort(ref, N, sizeof *ref, kv_cmp);
    CU_ASSERT_EQUAL(radix_sort_i64(key, val, N), 0);
    same = 1;
    for (int i = 0; i < N; i++) same &= key[i] == ref[i].k && val[i] == ref[i].v;
    CU_ASSERT(same);
  }
  /* keys within 2^32 of each other in many runs (the argsort's one-word
   * path, then the payloads gathered): negative keys, ties, a range of
   * exactly 2^32 - 1 and payloads that are not the indices */
  for (int c = 0; c < 2; c++) {
    for (int i = 0; i < N; i++) {
      int64_t k = c == 0 ? (int64_t)(ur() * 2e6) - 1000000 : 5000000000LL + (int64_t)(ur() * 4e9);
      if (i % 5 == 0) k = c == 0 ? -42 : 5000000000LL + 7;
      if (c == 1 && i == 10) k = 5000000000LL;
      if (c == 1 && i == 20) k = 5000000000LL + (int64_t)UINT32_MAX;
      key[i] = k;
      val[i] = 3 * i + 1;
      ref[i].k = k;
      ref[i].v = 3 * i + 1;
    }
    qsort(ref, N, sizeof *ref, kv_cmp);
    CU_ASSERT_EQUAL(radix_sort_i64(key, val, N), 0);
    same = 1;
    for (int i = 0; i < N; i++) same &= key[i] == ref[i].k && val[i] == ref[i].v;
    CU_ASSERT(same);
  }
}

/* radix_argsort_i64 against qsort of (key, index): narrow keys (one word a
 * key, negative ones and ties included), keys spanning more than 2^32 (the
 * pairs path), keys in order already (returns 1, the identity) */
static void test_radix_argsort(void) {
  enum { N = 5000 };
  static int64_t key[N], ord[N], sorted[N];
  static kv ref[N];
  for (int shape = 0; shape < 3; shape++) {
    for (int i = 0; i < N; i++) {
      int64_t k = shape == 0   ? (int64_t)(ur() * 3000) - 2000000000 /* narrow, negative, ties */
                  : shape == 1 ? (i % 3 == 0 ? INT64_MIN + i : i % 3 == 1 ? INT64_MAX - i : (int64_t)(ur() * 9) - 4)
                               : (int64_t)i / 3 - 7; /* in order */
      key[i] = k;
      ref[i].k = k;
      ref[i].v = i;
    }
    qsort(ref, N, sizeof *ref, kv_cmp);
    CU_ASSERT_EQUAL(radix_argsort_i64(key, N, ord, sorted), shape == 2 ? 1 : 0);
    int same = 1;
    for (int i = 0; i < N; i++) same &= ord[i] == ref[i].v && sorted[i] == ref[i].k && key[ord[i]] == ref[i].k;
    CU_ASSERT(same);
    CU_ASSERT_EQUAL(radix_argsort_i64(key, N, ord, NULL), shape == 2 ? 1 : 0); /* no keys wanted */
    same = 1;
    for (int i = 0; i < N; i++) same &= ord[i] == ref[i].v;
    CU_ASSERT(same);
  }
}

/* radix_argsort_i64 on enough keys for several threads (slices of at least
 * 64 Ki keys): the same stable order at 1, 2 and 3 threads as qsort's */
static void test_radix_argsort_threads(void) {
  enum { N = 300000 };
  int64_t *key = malloc(sizeof *key * N), *ord = malloc(sizeof *ord * N), *sorted = malloc(sizeof *sorted * N);
  kv *ref = malloc(sizeof *ref * N);
  CU_ASSERT_FATAL(key && ord && sorted && ref);
  for (int i = 0; i < N; i++) {
    key[i] = (int64_t)(ur() * 5e5) - 7; /* 19 bits, many ties */
    ref[i].k = key[i];
    ref[i].v = i;
  }
  qsort(ref, N, sizeof *ref, kv_cmp);
  const int threads_before = omp_get_max_threads();
  for (int threads = 1; threads <= 3; threads++) {
    omp_set_num_threads(threads);
    CU_ASSERT_EQUAL(radix_argsort_i64(key, N, ord, sorted), 0);
    int same = 1;
    for (int i = 0; i < N; i++) same &= ord[i] == ref[i].v && sorted[i] == ref[i].k;
    CU_ASSERT(same);
  }
  omp_set_num_threads(threads_before);
  free(key);
  free(ord);
  free(sorted);
  free(ref);
}

static void test_fixed_point(void) {
  /* limb-wise sums of split values join back to the exact total */
  fx_acc parts[4] = {(fx_acc)-123456789012345LL * 1000, (fx_acc)987654321098765LL * 77 * ((fx_acc)1 << 60), -1,
                     (fx_acc)1 << 40};
  int64_t limbs[FX_LIMBS] = {0, 0, 0}, l[FX_LIMBS];
  fx_acc total = 0;
  for (int i = 0; i < 4; i++) {
    fx_split(parts[i], l);
    CU_ASSERT(l[1] >= 0 && l[1] < ((int64_t)1 << 42) && l[2] >= 0 && l[2] < ((int64_t)1 << 42));
    for (int t = 0; t < FX_LIMBS; t++) limbs[t] += l[t];
    total += parts[i];
  }
  CU_ASSERT(fx_join(limbs) == total);
  CU_ASSERT_EQUAL(fx_q(1.5), (int64_t)3 << 31);
  CU_ASSERT_EQUAL(fx_q(-1.5), -((int64_t)3 << 31));
  CU_ASSERT_EQUAL(fx_q(3 * 0x1p-34), 1); /* 0.75 unit rounds to 1 */
  CU_ASSERT_EQUAL(fx_q(-3 * 0x1p-34), -1);
  CU_ASSERT_EQUAL(fx_q(0x1p-34), 0);
  /* 2^-63 units: exact for ordinary values, negative ones included */
  CU_ASSERT(fx_q63(1.25) == ((fx_acc)5 << 61));
  CU_ASSERT(fx_q63(-2.75) == -((fx_acc)11 << 61));
  CU_ASSERT_EQUAL(fx_value63(fx_q63(0.1) * 3), 0.30000000000000004); /* 3 x the double 0.1, correctly rounded */
  CU_ASSERT_DOUBLE_EQUAL(fx_value((fx_acc)fx_q(2.25) * 3), 6.75, 1e-15);
  CU_ASSERT_EQUAL(feat_micro(0.1 + 0.2), 300000);
  CU_ASSERT_EQUAL(feat_round6(-1e-9), 0.0);
  CU_ASSERT(!signbit(feat_round6(-1e-9)));
  CU_ASSERT_EQUAL(feat_round6(2.0000004), 2.0);
  CU_ASSERT_EQUAL(feat_round6(1234.5678915), 1234.567892);
}

static void test_features(void) {
  /* user 0 (no user): ignored; user 5: two orders, a return, a zero-price
   * line, a line after as_of; user 9: only a return (not a customer) */
  int64_t user[] = {0, 5, 5, 5, 5, 5, 5, 9};
  int64_t order[] = {1, 10, 10, 11, 12, 13, 10, 20};
  int64_t sku[] = {1, 100, 101, 100, 102, 103, 104, 100};
  int32_t day[] = {50, 100, 100, 120, 130, 300, 101, 100};
  double amount[] = {9, 10.25, 5.5, 2.125, 0, 7, -3, -4};
  double orig[] = {9, 12.5, 5.5, 2.5, 0, 7, -3, -4};
  uint8_t flags[] = {1, 1, 1, 1, 0, 1, 2, 2};
  feat_lines in = {8, user, order, sku, day, amount, orig, flags};
  int64_t starts[9];
  int64_t g = feat_groups(user, 8, starts);
  CU_ASSERT_EQUAL(g, 2);
  CU_ASSERT_EQUAL(starts[0], 1);
  CU_ASSERT_EQUAL(starts[1], 7);
  CU_ASSERT_EQUAL(starts[2], 8);
  int64_t uid[2], valid[2], freq[2], div[2], ret[2];
  int32_t first[2], last[2];
  double mon[2], fin[2], ori[2];
  feat_out o = {uid, valid, first, last, freq, div, ret, mon, fin, ori};
  CU_ASSERT_EQUAL(feat_compute(&in, starts, g, 200, &o), 0);
  CU_ASSERT_EQUAL(uid[0], 5);
  CU_ASSERT_EQUAL(valid[0], 3); /* the day-300 line is after as_of, the 0-price line is no sale */
  CU_ASSERT_EQUAL(freq[0], 2);  /* orders 10 and 11 */
  CU_ASSERT_EQUAL(div[0], 2);   /* skus 100, 101 */
  CU_ASSERT_EQUAL(ret[0], 1);
  CU_ASSERT_EQUAL(first[0], 100);
  CU_ASSERT_EQUAL(last[0], 120);
  CU_ASSERT_DOUBLE_EQUAL(mon[0], 17.875, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(ori[0], 20.5, 1e-12);
  CU_ASSERT_EQUAL(valid[1], 0);
  CU_ASSERT_EQUAL(ret[1], 1);
  /* compensated sums: many small amounts after a large one */
  enum { M = 10001 };
  static int64_t u2[M], o2[M], s2[M];
  static int32_t d2[M];
  static double a2[M];
  static uint8_t f2[M];
  for (int i = 0; i < M; i++) {
    u2[i] = 1;
    o2[i] = M - i; /* descending: the distinct count must sort */
    s2[i] = i % 3;
    d2[i] = 10;
    a2[i] = i == 0 ? 1e8 : 0.01;
    f2[i] = 1;
  }
  feat_lines in2 = {M, u2, o2, s2, d2, a2, a2, f2};
  int64_t st2[2];
  CU_ASSERT_EQUAL(feat_groups(u2, M, st2), 1);
  CU_ASSERT_EQUAL(feat_compute(&in2, st2, 1, 11, &o), 0);
  CU_ASSERT_EQUAL(freq[0], M);
  CU_ASSERT_EQUAL(div[0], 3);
  CU_ASSERT_EQUAL(feat_micro(mon[0]), 100000100000000LL); /* 1e8 + 100.00 exactly at 6 decimals */
  /* joins */
  int64_t cust[] = {3, 5, 8}, rows[] = {3, 3, 5, 5, 5, 9};
  int32_t rday[] = {10, 95, 99, 100, 5, 1}, outd[3];
  int64_t cnt[3];
  feat_count_window(cust, 3, rows, rday, 6, 10, 100, cnt);
  CU_ASSERT_EQUAL(cnt[0], 2);
  CU_ASSERT_EQUAL(cnt[1], 1); /* day 100 is not before the end */
  CU_ASSERT_EQUAL(cnt[2], 0);
  int64_t urow[] = {3, 8};
  int32_t created[] = {7, 70};
  feat_lookup_i32(cust, 3, urow, created, 2, -1, outd);
  CU_ASSERT_EQUAL(outd[0], 7);
  CU_ASSERT_EQUAL(outd[1], -1);
  CU_ASSERT_EQUAL(outd[2], 70);
}

/* random column-major points in a few blobs */
static void blobs(double *X, int64_t n, int d, int64_t *uid) {
  for (int64_t i = 0; i < n; i++) {
    int g = (int)(ur() * 5);
    for (int j = 0; j < d; j++) X[(size_t)j * n + i] = (g * 1.7 * ((j + g) % 3 == 0)) + (ur() - 0.5) * 2;
    if (uid) uid[i] = 1000 + i * 3;
  }
}

static void test_assign(void) {
  enum { N = 3001, D = 3, K = 5 };
  static double X[N * D], Y[N * D], C[K * D];
  static int32_t lab[N], lab2[N];
  static int64_t perm[N];
  blobs(X, N, D, NULL);
  for (int c = 0; c < K; c++)
    for (int j = 0; j < D; j++) C[c * D + j] = X[(size_t)j * N + c * 97];
  for (int i = 0; i < N; i++) lab[i] = -1;
  int64_t counts[K];
  fx_acc sums[K * D];
  km_pass p = {0};
  p.labels = lab;
  p.counts = counts;
  p.sums = sums;
  p.want_inertia = 1;
  CU_ASSERT_EQUAL(km_assign(X, N, D, C, K, &p), 0);
  CU_ASSERT_EQUAL(p.changed, N);
  /* brute force: nearest by true distance; allow disagreement only on
   * near-ties (the kernel scores by ||c||^2 - 2 x.c) */
  int64_t cnt_ref[K] = {0};
  fx_acc sum_ref[K * D];
  memset(sum_ref, 0, sizeof sum_ref);
  fx_acc inert_ref = 0;
  int agree = 1;
  for (int i = 0; i < N; i++) {
    double best = INFINITY, second = INFINITY;
    int arg = 0;
    for (int c = 0; c < K; c++) {
      double dd = 0;
      for (int j = 0; j < D; j++) dd += (X[(size_t)j * N + i] - C[c * D + j]) * (X[(size_t)j * N + i] - C[c * D + j]);
      if (dd < best) {
        second = best;
        best = dd;
        arg = c;
      } else if (dd < second) {
        second = dd;
      }
    }
    if (lab[i] != arg && second - best > 1e-9) agree = 0;
    int c = lab[i];
    cnt_ref[c]++;
    double dd = 0;
    for (int j = 0; j < D; j++) {
      sum_ref[c * D + j] += fx_q(X[(size_t)j * N + i]);
      dd += (X[(size_t)j * N + i] - C[c * D + j]) * (X[(size_t)j * N + i] - C[c * D + j]);
    }
    inert_ref += fx_q_d2(dd);
    double x[D] = {X[i], X[N + i], X[2 * N + i]};
    CU_ASSERT_EQUAL(km_nearest(x, D, C, K), lab[i]);
  }
  CU_ASSERT(agree);
  CU_ASSERT(memcmp(cnt_ref, counts, sizeof counts) == 0);
  CU_ASSERT(memcmp(sum_ref, sums, sizeof sums) == 0);
  CU_ASSERT(inert_ref == p.inertia);
  /* second pass: nothing changes */
  CU_ASSERT_EQUAL(km_assign(X, N, D, C, K, &p), 0);
  CU_ASSERT_EQUAL(p.changed, 0);
  /* shuffled points and 1 vs 2 threads: the same bits */
  for (int i = 0; i < N; i++) perm[i] = i;
  for (int i = N - 1; i > 0; i--) {
    int j = (int)(ur() * (i + 1));
    int64_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++) Y[(size_t)j * N + i] = X[(size_t)j * N + perm[i]];
  for (int threads = 1; threads <= 2; threads++) {
    omp_set_num_threads(threads);
    int64_t c2[K];
    fx_acc s2[K * D];
    km_pass q = {0};
    for (int i = 0; i < N; i++) lab2[i] = -1;
    q.labels = lab2;
    q.counts = c2;
    q.sums = s2;
    q.want_inertia = 1;
    CU_ASSERT_EQUAL(km_assign(Y, N, D, C, K, &q), 0);
    CU_ASSERT(memcmp(c2, counts, sizeof c2) == 0);
    CU_ASSERT(memcmp(s2, sums, sizeof s2) == 0);
    CU_ASSERT(q.inertia == p.inertia);
    int same = 1;
    for (int i = 0; i < N; i++) same &= lab2[i] == lab[perm[i]];
    CU_ASSERT(same);
  }
  /* incremental counts and sums after the centroids move: the same bits
   * as a full recount; the baseline (SSE2) and AVX2 paths agree too */
  for (int c = 0; c < K * D; c++) C[c] += 0.3 * (ur() - 0.5);
  for (int base = 0; base < 2; base++) {
    int64_t ci[K], cf[K];
    fx_acc si[K * D], sf[K * D];
    memcpy(ci, counts, sizeof ci);
    memcpy(si, sums, sizeof si);
    static int32_t li[N], lf[N];
    memcpy(li, lab, sizeof li);
    for (int i = 0; i < N; i++) lf[i] = -1;
    km_pass inc = {0}, full = {0};
    inc.labels = li;
    inc.counts = ci;
    inc.sums = si;
    inc.incremental = 1;
    inc.baseline = base;
    full.labels = lf;
    full.counts = cf;
    full.sums = sf;
    full.baseline = !base;
    CU_ASSERT_EQUAL(km_assign(X, N, D, C, K, &inc), 0);
    CU_ASSERT_EQUAL(km_assign(X, N, D, C, K, &full), 0);
    CU_ASSERT(inc.changed > 0 && inc.changed < N / 2);
    CU_ASSERT(memcmp(li, lf, sizeof li) == 0);
    CU_ASSERT(memcmp(ci, cf, sizeof ci) == 0);
    CU_ASSERT(memcmp(si, sf, sizeof si) == 0);
  }
  /* k above the masked-sum limit (scatter path) and odd block tails */
  {
    enum { K2 = 11, N2 = 1003 };
    double C2b[K2 * D];
    for (int c = 0; c < K2 * D; c++) C2b[c] = X[(size_t)(c % D) * N + c * 13];
    int64_t ca[K2], cb[K2];
    fx_acc sa[K2 * D], sb[K2 * D];
    static int32_t la[N2], lb[N2];
    km_pass a = {0}, b = {0};
    a.labels = la;
    a.counts = ca;
    a.sums = sa;
    b.labels = lb;
    b.counts = cb;
    b.sums = sb;
    b.baseline = 1;
    for (int i = 0; i < N2; i++) la[i] = lb[i] = -1;
    /* the first N2 points of X as their own column-major matrix */
    static double Xs[N2 * D];
    for (int j = 0; j < D; j++) memcpy(Xs + (size_t)j * N2, X + (size_t)j * N, sizeof(double) * N2);
    CU_ASSERT_EQUAL(km_assign(Xs, N2, D, C2b, K2, &a), 0);
    CU_ASSERT_EQUAL(km_assign(Xs, N2, D, C2b, K2, &b), 0);
    CU_ASSERT(memcmp(la, lb, sizeof la) == 0);
    CU_ASSERT(memcmp(ca, cb, sizeof ca) == 0);
    CU_ASSERT(memcmp(sa, sb, sizeof sa) == 0);
  }
  /* a generic dimension (d = 2) against brute force too */
  static double X2[N * 2];
  for (int i = 0; i < N * 2; i++) X2[i] = ur() * 10;
  double C2[3 * 2] = {1, 1, 5, 5, 9, 1};
  km_pass r = {0};
  r.labels = lab2;
  CU_ASSERT_EQUAL(km_assign(X2, N, 2, C2, 3, &r), 0);
  int ok = 1;
  for (int i = 0; i < N; i++) {
    double x[2] = {X2[i], X2[N + i]};
    ok &= km_nearest(x, 2, C2, 3) == lab2[i];
  }
  CU_ASSERT(ok);
}

static void test_d2_and_farthest(void) {
  enum { N = 600, D = 3 };
  static double X[N * D], d2[N];
  static int64_t uid[N];
  static int32_t lab[N];
  blobs(X, N, D, uid);
  double C[2 * D] = {0, 0, 0, 1, 1, 1};
  fx_acc tot = 0, ref = 0;
  km_d2_update(X, N, D, C, 1, d2, 1, &tot);
  km_d2_update(X, N, D, C + D, 1, d2, 0, &tot);
  int ok = 1;
  for (int i = 0; i < N; i++) {
    double a = 0, b = 0;
    for (int j = 0; j < D; j++) {
      a += (X[(size_t)j * N + i] - C[j]) * (X[(size_t)j * N + i] - C[j]);
      b += (X[(size_t)j * N + i] - C[D + j]) * (X[(size_t)j * N + i] - C[D + j]);
    }
    ok &= d2[i] == (a < b ? a : b);
    ref += fx_q_d2(d2[i]);
    lab[i] = a < b ? 0 : 1;
  }
  CU_ASSERT(ok);
  CU_ASSERT(tot == ref);
  int64_t idx[4];
  double dist[4];
  CU_ASSERT_EQUAL(km_farthest(X, N, D, C, lab, uid, 4, idx, dist), 4);
  /* nothing outside the four is farther; the four are in order */
  for (int t = 0; t + 1 < 4; t++) CU_ASSERT(dist[t] >= dist[t + 1]);
  int outside_closer = 1;
  for (int i = 0; i < N; i++) {
    if (i == idx[0] || i == idx[1] || i == idx[2] || i == idx[3]) continue;
    outside_closer &= d2[i] <= dist[3];
  }
  CU_ASSERT(outside_closer);
  /* k-means|| marks: probability l*d2/phi, keyed by uid only */
  static uint8_t m1[N], m2[N];
  double phi = fx_value_d2(tot);
  int64_t a = km_oversample(d2, uid, N, 8, phi, 77, m1), b = km_oversample(d2, uid, N, 8, phi, 77, m2);
  CU_ASSERT_EQUAL(a, b);
  CU_ASSERT(memcmp(m1, m2, N) == 0);
  CU_ASSERT(a > 0 && a < 40);
}

static void test_silhouette(void) {
  enum { M = 300, D = 3, K = 3 };
  static double S[M * D];
  int64_t start[K + 1] = {0, 100, 170, 300};
  for (int i = 0; i < M; i++) {
    int c = i < 100 ? 0 : i < 170 ? 1 : 2;
    for (int j = 0; j < D; j++) S[(size_t)j * M + i] = c * 2.0 * (j == c) + ur();
  }
  fx_acc sum = 0;
  CU_ASSERT_EQUAL(km_silhouette_rows(S, M, D, start, K, 0, M, &sum), 0);
  /* naive reference */
  double ref = 0;
  for (int i = 0; i < M; i++) {
    double cs[K] = {0};
    int own = i < 100 ? 0 : i < 170 ? 1 : 2;
    for (int j = 0; j < M; j++) {
      int cj = j < 100 ? 0 : j < 170 ? 1 : 2;
      double dd = 0;
      for (int t = 0; t < D; t++) dd += (S[(size_t)t * M + i] - S[(size_t)t * M + j]) * (S[(size_t)t * M + i] - S[(size_t)t * M + j]);
      cs[cj] += sqrt(dd);
    }
    double a = cs[own] / (double)(start[own + 1] - start[own] - 1), b = INFINITY;
    for (int c = 0; c < K; c++)
      if (c != own) b = fmin(b, cs[c] / (double)(start[c + 1] - start[c]));
    ref += (b - a) / fmax(a, b);
  }
  CU_ASSERT_DOUBLE_EQUAL(fx_value(sum) / M, ref / M, 1e-9);
  /* rows split in two parts add up to the whole, exactly */
  fx_acc p1 = 0, p2 = 0;
  km_silhouette_rows(S, M, D, start, K, 0, 123, &p1);
  km_silhouette_rows(S, M, D, start, K, 123, M, &p2);
  CU_ASSERT(p1 + p2 == sum);
  /* the distance sums: AVX2 and the portable lanes give the same bits, at
   * every start and length (tails of 0..7), and agree with a plain sum */
  int same = 1, close = 1;
  for (int64_t j0 = 0; j0 < 9; j0++)
    for (int64_t j1 = j0; j1 < M; j1 += 1 + (j1 > 40) * 13) {
      double x[3] = {S[j0 + 5], S[M + j0 + 5], S[2 * M + j0 + 5]};
      double fast = km_dist3_sum(S, M, x, j0, j1, 0), base = km_dist3_sum(S, M, x, j0, j1, 1), plain = 0;
      for (int64_t j = j0; j < j1; j++) {
        double a = S[j] - x[0], b = S[M + j] - x[1], c = S[2 * M + j] - x[2];
        plain += sqrt(a * a + b * b + c * c);
      }
      same &= !memcmp(&fast, &base, sizeof fast);
      close &= fabs(fast - plain) <= 1e-12 * (1 + plain);
    }
  CU_ASSERT(same);
  CU_ASSERT(close);
  /* a point alone in its cluster scores 0 (scikit-learn) */
  int64_t st2[3] = {0, 1, M};
  fx_acc one = 0;
  km_silhouette_rows(S, M, D, st2, 2, 0, 1, &one);
  CU_ASSERT(one == 0);
}

static void test_pp(void) {
  enum { M = 40, D = 3, K = 4 };
  double P[M * D], w[M], C1[K * D], C2[K * D], C3[K * D];
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < D; j++) P[i * D + j] = (i % 4) * 3.0 * (j == (i % 4) % 3) + ur() * 0.1;
    w[i] = 1 + (i % 5);
  }
  CU_ASSERT_EQUAL(km_pp_weighted(P, w, M, D, K, 12345, C1), 0);
  CU_ASSERT_EQUAL(km_pp_weighted(P, w, M, D, K, 12345, C2), 0);
  CU_ASSERT(memcmp(C1, C2, sizeof C1) == 0);
  CU_ASSERT_EQUAL(km_pp_weighted(P, w, M, D, K, 999, C3), 0);
  /* four well separated groups: every centre lands in a different group */
  int seen[4] = {0};
  for (int c = 0; c < K; c++) {
    int g = -1;
    for (int i = 0; i < M; i++) {
      double dd = 0;
      for (int j = 0; j < D; j++) dd += (P[i * D + j] - C1[c * D + j]) * (P[i * D + j] - C1[c * D + j]);
      if (dd < 0.25) g = i % 4;
    }
    if (g >= 0) seen[g] = 1;
  }
  CU_ASSERT(seen[0] && seen[1] && seen[2] && seen[3]);
}

static void test_rfm_map(void) {
  /* DATA.md 4, written out cell by cell: rows R = 5..1, columns F = 1..5 */
  const char *grid[5][5] = {
      {"New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"},
      {"Promising", "Potential Loyalists", "Potential Loyalists", "Loyal Customers", "Loyal Customers"},
      {"About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"},
      {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
      {"Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"},
  };
  for (int r = 5; r >= 1; r--)
    for (int f = 1; f <= 5; f++) CU_ASSERT_STRING_EQUAL(seg_rfm_names[seg_rfm_segment(r, f)], grid[5 - r][f - 1]);
}

static void test_choose_k(void) {
  seg_km_model m[9];
  memset(m, 0, sizeof m);
  /* a sharp elbow at k = 4 with a good silhouette there */
  double in[9] = {1000, 600, 200, 180, 165, 150, 140, 130, 120};
  double si[9] = {0.40, 0.42, 0.55, 0.50, 0.45, 0.40, 0.38, 0.36, 0.35};
  for (int i = 0; i < 9; i++) {
    m[i].k = i + 2;
    m[i].inertia = in[i];
    m[i].silhouette = si[i];
  }
  CU_ASSERT_EQUAL(m[seg_choose_k(m, 9)].k, 4);
  /* the knee's silhouette far below the best: its best neighbour wins */
  m[2].silhouette = 0.20;
  m[1].silhouette = 0.30;
  m[3].silhouette = 0.31;
  m[0].silhouette = 0.60;
  CU_ASSERT_EQUAL(m[seg_choose_k(m, 9)].k, 5);
  /* two k's only: the better silhouette */
  CU_ASSERT_EQUAL(m[seg_choose_k(m, 2)].k, 2);
}

static void test_names(void) {
  double r[5] = {2.06, 0.32, 2.16, -0.39, -0.59}, v[5] = {2.26, 0.94, 0.72, -0.12, -0.85};
  int arch[5], nth[5];
  seg_name_clusters(r, v, 5, arch, nth);
  const char *want[5] = {"Champions", "Loyal", "Potential Loyalists", "At Risk", "Hibernating"};
  for (int c = 0; c < 5; c++) {
    CU_ASSERT_STRING_EQUAL(seg_archetype_name(arch[c]), want[c]);
    CU_ASSERT_EQUAL(nth[c], 1);
  }
  /* ten clusters: eight names, then a second round */
  double r10[10], v10[10];
  int a10[10], n10[10], rounds2 = 0;
  for (int c = 0; c < 10; c++) {
    r10[c] = c * 0.3 - 1.5;
    v10[c] = 1.0 - c * 0.2;
  }
  seg_name_clusters(r10, v10, 10, a10, n10);
  for (int c = 0; c < 10; c++) {
    rounds2 += n10[c] == 2;
    for (int e = 0; e < c; e++) CU_ASSERT(!(a10[c] == a10[e] && n10[c] == n10[e]));
  }
  CU_ASSERT_EQUAL(rounds2, 2);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("segment kernels", NULL, NULL);
  CU_add_test(s, "radix sort and double keys", test_radix);
  CU_add_test(s, "radix argsort", test_radix_argsort);
  CU_add_test(s, "radix argsort on threads", test_radix_argsort_threads);
  CU_add_test(s, "fixed-point sums and 6-decimal rounding", test_fixed_point);
  CU_add_test(s, "customer features of hand-built lines", test_features);
  CU_add_test(s, "assignment: brute force, exact sums, order and thread independence", test_assign);
  CU_add_test(s, "k-means|| cost, oversampling and farthest points", test_d2_and_farthest);
  CU_add_test(s, "silhouette against a naive computation", test_silhouette);
  CU_add_test(s, "weighted k-means++", test_pp);
  CU_add_test(s, "RFM segment map (DATA.md 4)", test_rfm_map);
  CU_add_test(s, "choice of k", test_choose_k);
  CU_add_test(s, "cluster names", test_names);
}
