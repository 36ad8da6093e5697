/* bench_kmeans.c: the k-means kernels against the memory bound.
 *
 *   bench_kmeans [POINTS=16000000] [K=4] [D=3]
 *
 * The default matrix (16M points, 384 MB) is larger than the last-level
 * cache of the machines used here (260 MB), so "stream" is a memory bound;
 * at 1M points (24 MB) the same run measures cache bandwidth instead.
 *
 * Prints, side by side in one run and with the same threads:
 *   stream   the time to read the column-major feature matrix once
 *            (four independent sums per column: bandwidth-bound), the
 *            lower bound of any pass over the points;
 *   lloyd    Lloyd iterations as segcast runs them (km_assign: nearest
 *            centroid, labels, and the fixed-point counts and sums updated
 *            by the points that move when fewer than 1/16 moved in the
 *            previous iteration, else recounted; then the centroids), from given
 *            starting centroids until no label changes: the median time of
 *            the iterations after the first (the first moves every point),
 *            on the AVX2 path where the processor has it; for reference
 *            also an iteration that recounts every point, on both paths;
 *   final    the last pass (labels and inertia);
 *   d2       one k-means|| cost update against 2k candidates;
 *   silhouette  exact silhouette of a 10,000-point sample.
 * Each figure is the best of several repetitions; the ratio lloyd/stream
 * is the claim "one Lloyd iteration within 2x of streaming the matrix".
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmeans.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) * 0x1.0p-53;
}
static double nrand(void) { return sqrt(-2 * log(urand() + 1e-300)) * cos(6.283185307179586 * urand()); }

/* The bound: read every coordinate once. */
static double stream_sum(const double *X, int64_t n, int d) {
  double total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int64_t b = 0; b < (n + 4095) / 4096; b++) {
    int64_t i0 = b * 4096, i1 = i0 + 4096 < n ? i0 + 4096 : n;
    for (int j = 0; j < d; j++) {
      const double *x = X + (size_t)j * n;
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t i = i0;
      for (; i + 4 <= i1; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
      }
      for (; i < i1; i++) s0 += x[i];
      total += (s0 + s1) + (s2 + s3);
    }
  }
  return total;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 16000000; /* 384 MB: more than the caches */
  int k = argc > 2 ? atoi(argv[2]) : 4, d = argc > 3 ? atoi(argv[3]) : 3;
  double *X = malloc(sizeof(double) * (size_t)n * d), *C = malloc(sizeof(double) * (size_t)k * d);
  int32_t *labels = malloc(sizeof(int32_t) * (size_t)n);
  int64_t *counts = malloc(sizeof(int64_t) * (size_t)k);
  fx_acc *sums = malloc(sizeof(fx_acc) * (size_t)k * d);
  double *d2 = malloc(sizeof(double) * (size_t)n), *cand = malloc(sizeof(double) * 2 * (size_t)k * d);
  if (!X || !C || !labels || !counts || !sums || !d2 || !cand) return 1;
  /* standardized-like data: 4 blobs plus noise */
  for (int64_t i = 0; i < n; i++) {
    int g = (int)(urand() * 4);
    for (int j = 0; j < d; j++) X[(size_t)j * n + i] = nrand() + (double)((g >> (j % 2)) & 1) * 2.5 - 1;
  }
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++) C[c * d + j] = X[(size_t)j * n + (int64_t)(urand() * (double)n)];
  for (int c = 0; c < 2 * k * d; c++) cand[c] = nrand();
  for (int64_t i = 0; i < n; i++) labels[i] = -1;
  const int reps = 7;
  double t_stream = 1e30, t_lloyd = 1e30, t_base = 1e30, t_final = 1e30, t_d2 = 1e30, t_sil = 1e30, sink = 0;
  for (int r = 0; r < reps; r++) {
    double t = now();
    sink += stream_sum(X, n, d);
    t_stream = fmin(t_stream, now() - t);
    km_pass p = {0};
    p.labels = labels;
    p.counts = counts;
    p.sums = sums;
    t = now();
    km_assign(X, n, d, C, k, &p);
    t_lloyd = fmin(t_lloyd, now() - t);
    p.baseline = 1;
    t = now();
    km_assign(X, n, d, C, k, &p);
    t_base = fmin(t_base, now() - t);
    km_pass q = {0};
    q.labels = labels;
    q.want_inertia = 1;
    t = now();
    km_assign(X, n, d, C, k, &q);
    t_final = fmin(t_final, now() - t);
    sink += fx_value_d2(q.inertia);
    fx_acc tot = 0;
    t = now();
    km_d2_update(X, n, d, cand, 2 * k, d2, 1, &tot);
    t_d2 = fmin(t_d2, now() - t);
  }
  /* a real Lloyd run as segcast does it: incremental sums, centroids from
   * the fixed-point sums; iteration times after the first */
  double t_first = 0, t_rest[32], t_full = 1e30;
  int iters = 0, rest = 0;
  {
    double *Cl = malloc(sizeof(double) * (size_t)k * d);
    int64_t *lc = calloc((size_t)k, sizeof(int64_t));
    fx_acc *ls = calloc((size_t)k * d, sizeof(fx_acc));
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++) Cl[c * d + j] = X[(size_t)j * n + (int64_t)c * 7919];
    for (int64_t i = 0; i < n; i++) labels[i] = -1;
    int64_t prev = n;
    for (iters = 0; iters < 30; iters++) {
      km_pass p = {0};
      p.labels = labels;
      p.counts = lc;
      p.sums = ls;
      p.incremental = iters > 0 && prev * 16 < n; /* segcast's rule */
      double t = now();
      km_assign(X, n, d, Cl, k, &p);
      for (int c = 0; c < k; c++)
        for (int j = 0; j < d; j++)
          if (lc[c]) Cl[c * d + j] = fx_value(ls[c * d + j]) / (double)lc[c];
      t = now() - t;
      if (iters == 0) t_first = t;
      else t_rest[rest++] = t;
      prev = p.changed;
      if (p.changed == 0) break;
    }
    /* the same iteration recounting every point (no increments) */
    for (int r = 0; r < reps; r++) {
      km_pass p = {0};
      p.labels = labels;
      p.counts = counts;
      p.sums = sums;
      double t = now();
      km_assign(X, n, d, Cl, k, &p);
      t_full = fmin(t_full, now() - t);
    }
    free(Cl);
    free(lc);
    free(ls);
  }
  /* silhouette of a 10,000 sample sorted by label */
  int64_t m = n < 10000 ? n : 10000;
  double *S = malloc(sizeof(double) * (size_t)m * d);
  int64_t *start = calloc((size_t)k + 1, sizeof(int64_t)), *fill = calloc((size_t)k + 1, sizeof(int64_t));
  for (int64_t i = 0; i < m; i++) start[labels[i] + 1]++;
  for (int c = 0; c < k; c++) start[c + 1] += start[c];
  memcpy(fill, start, sizeof(int64_t) * (size_t)k);
  for (int64_t i = 0; i < m; i++) {
    int64_t o = fill[labels[i]]++;
    for (int j = 0; j < d; j++) S[(size_t)j * m + o] = X[(size_t)j * n + i];
  }
  for (int r = 0; r < 3; r++) {
    fx_acc sum = 0;
    double t = now();
    km_silhouette_rows(S, m, d, start, k, 0, m, &sum);
    t_sil = fmin(t_sil, now() - t);
    sink += fx_value(sum);
  }
  double mb = (double)n * d * 8 / 1e6;
  printf("bench_kmeans: %lld points, d = %d, k = %d, %d thread(s); best of %d\n", (long long)n, d, k,
         omp_get_max_threads(), reps);
  printf("  %-34s %9.3f ms  (%.0f MB, %.1f GB/s)\n", "stream the matrix (bound)", t_stream * 1e3, mb,
         mb / 1e3 / t_stream);
  /* the median iteration: robust to a busy machine's spikes */
  for (int a = 1; a < rest; a++)
    for (int b = a; b > 0 && t_rest[b] < t_rest[b - 1]; b--) {
      double t = t_rest[b];
      t_rest[b] = t_rest[b - 1];
      t_rest[b - 1] = t;
    }
  double med = rest ? (t_rest[(rest - 1) / 2] + t_rest[rest / 2]) / 2 : 0;
  printf("  %-34s %9.3f ms  = %.2f x stream  (median of %d iterations after the first; %s path)\n",
         "Lloyd iteration (segcast)", med * 1e3, med / t_stream, rest,
         __builtin_cpu_supports("avx2") ? "AVX2" : "baseline");
  printf("  %-34s %9.3f ms  = %.2f x stream  (every label new)\n", "  its first iteration", t_first * 1e3,
         t_first / t_stream);
  printf("  %-34s %9.3f ms  = %.2f x stream\n", "  recounting every point", t_full * 1e3, t_full / t_stream);
  printf("  %-34s %9.3f ms  = %.2f x stream\n", "  recounting, first labels", t_lloyd * 1e3, t_lloyd / t_stream);
  printf("  %-34s %9.3f ms  = %.2f x stream\n", "  recounting, baseline SSE2 path", t_base * 1e3, t_base / t_stream);
  printf("  %-34s %9.3f ms  = %.2f x stream\n", "final pass (labels + inertia)", t_final * 1e3, t_final / t_stream);
  printf("  %-34s %9.3f ms  = %.2f x stream\n", "k-means|| cost update (2k cands)", t_d2 * 1e3, t_d2 / t_stream);
  printf("  %-34s %9.3f ms  (%lld x %lld pairs, %.2f ns/pair)\n", "silhouette, exact", t_sil * 1e3, (long long)m,
         (long long)m, t_sil * 1e9 / ((double)m * (double)m));
  printf("  (checksum %.6g)\n", sink);
  return 0;
}
