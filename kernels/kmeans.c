/* kmeans.c: assignment, seeding helpers and quality scores (kmeans.h).
 *
 * km_assign works on blocks of KM_BLOCK points: for each centroid it
 * streams the block's coordinates and keeps the best score per point in a
 * small array, a loop the compiler vectorises; then a second loop over the
 * block adds each point to its cluster's fixed-point sums. The score is
 * ||c||^2 - (2c).x with the dot product added in coordinate order, the
 * same sequence of operations in every path (km_nearest included), so a
 * point's label depends on its coordinates and the centroids only.
 *
 * Threads keep private sums and merge them under a critical section:
 * integer addition makes the merge order irrelevant.
 */
#if defined(__GNUC__) && !defined(__clang__)
/* sqrt never sees a negative here; without errno handling it vectorises. */
#pragma GCC optimize("no-math-errno")
#endif

#include "kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif


/* 2c and ||c||^2 for every centroid, computed the same way everywhere. */
static void km_prepare(const double *C, int k, int d, double *c2, double *cn) {
  for (int c = 0; c < k; c++) {
    double s = 0;
    for (int j = 0; j < d; j++) {
      s += C[c * d + j] * C[c * d + j];
      c2[c * d + j] = 2.0 * C[c * d + j];
    }
    cn[c] = s;
  }
}

/* best[t], arg[t] = (s[t], c) where s[t] < best[t] (strictly: the lowest
 * index wins ties). SSE2 where available: minpd is exactly s < b ? s : b
 * and the label moves under the same compare mask, so both paths give the
 * same bits; GCC does not if-convert the two selects by itself. */
static void km_select(const double *s, int nb, int64_t c, double *best, int64_t *arg) {
  int t = 0;
#ifdef __SSE2__
  const __m128i cv = _mm_set1_epi64x(c);
  for (; t + 2 <= nb; t += 2) {
    __m128d sv = _mm_loadu_pd(s + t), bv = _mm_loadu_pd(best + t);
    __m128i m = _mm_castpd_si128(_mm_cmplt_pd(sv, bv)), av = _mm_loadu_si128((const __m128i *)(arg + t));
    _mm_storeu_pd(best + t, _mm_min_pd(sv, bv));
    _mm_storeu_si128((__m128i *)(arg + t), _mm_or_si128(_mm_and_si128(m, cv), _mm_andnot_si128(m, av)));
  }
#endif
  for (; t < nb; t++) {
    if (s[t] < best[t]) {
      best[t] = s[t];
      arg[t] = c;
    }
  }
}

/* Nearest centroid of the nb points starting at i0: the score of centroid
 * c is ||c||^2 - (2c).x with the dot product added in coordinate order. */
static void km_block_nearest(const double *X, int64_t n, int d, int64_t i0, int nb, const double *c2,
                             const double *cn, int k, double *best, int64_t *arg) {
  double sc[KM_BLOCK];
  for (int c = 0; c < k; c++) {
    const double *cc = c2 + (size_t)c * d, q = cn[c];
    double *out = c == 0 ? best : sc;
    if (d == 3) {
      const double *x0 = X + i0, *x1 = X + n + i0, *x2 = X + 2 * n + i0;
      const double a = cc[0], b = cc[1], e = cc[2];
      for (int t = 0; t < nb; t++) out[t] = q - ((x0[t] * a + x1[t] * b) + x2[t] * e);
    } else {
      const double *x0 = X + i0, a0 = cc[0];
      for (int t = 0; t < nb; t++) out[t] = x0[t] * a0;
      for (int j = 1; j < d; j++) {
        const double *xj = X + (size_t)j * n + i0, a = cc[j];
        for (int t = 0; t < nb; t++) out[t] += xj[t] * a;
      }
      for (int t = 0; t < nb; t++) out[t] = q - out[t];
    }
    if (c == 0) {
      for (int t = 0; t < nb; t++) arg[t] = 0;
    } else {
      km_select(sc, nb, c, best, arg);
    }
  }
}

int km_nearest(const double *x, int d, const double *C, int k) {
  int arg = 0;
  double best = 0;
  for (int c = 0; c < k; c++) {
    double q = 0, dot = 0;
    for (int j = 0; j < d; j++) q += C[c * d + j] * C[c * d + j];
    for (int j = 0; j < d; j++) {
      double a = 2.0 * C[c * d + j];
      dot = j == 0 ? x[0] * a : dot + x[j] * a;
    }
    double s = q - dot;
    if (c == 0 || s < best) {
      best = s;
      arg = c;
    }
  }
  return arg;
}

int km_assign(const double *X, int64_t n, int d, const double *C, int k, km_pass *p) {
  double *c2 = malloc(sizeof(double) * (size_t)k * (size_t)d), *cn = malloc(sizeof(double) * (size_t)k);
  if (!c2 || !cn) {
    free(c2);
    free(cn);
    return -1;
  }
  km_prepare(C, k, d, c2, cn);
  if (p->counts) memset(p->counts, 0, sizeof(int64_t) * (size_t)k);
  if (p->sums) memset(p->sums, 0, sizeof(fx_acc) * (size_t)k * (size_t)d);
  p->inertia = 0;
  p->changed = 0;
  int64_t nblocks = (n + KM_BLOCK - 1) / KM_BLOCK, changed = 0;
  int failed = 0;
#pragma omp parallel reduction(+ : changed) reduction(| : failed)
  {
    int64_t *cnt = p->counts ? calloc((size_t)k, sizeof *cnt) : NULL;
    fx_acc *sum = p->sums ? calloc((size_t)k * (size_t)d, sizeof *sum) : NULL;
    /* per-block int64 sums, two interleaved sets (even and odd points) so
     * that consecutive points of one cluster do not wait on each other */
    int64_t *blk2 = p->sums ? calloc(2 * (size_t)k * (size_t)d, sizeof *blk2) : NULL;
    fx_acc inert = 0;
    double best[KM_BLOCK];
    int64_t arg[KM_BLOCK];
    if ((p->counts && !cnt) || (p->sums && (!sum || !blk2))) failed = 1;
    int32_t *labels = p->labels;
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < nblocks; blk++) {
      if (failed) continue;
      int64_t i0 = blk * KM_BLOCK;
      int nb = (int)(n - i0 < KM_BLOCK ? n - i0 : KM_BLOCK);
      km_block_nearest(X, n, d, i0, nb, c2, cn, k, best, arg);
      if (labels) {
        for (int t = 0; t < nb; t++) {
          changed += labels[i0 + t] != arg[t];
          labels[i0 + t] = (int32_t)arg[t];
        }
      }
      if (cnt)
        for (int t = 0; t < nb; t++) cnt[arg[t]]++;
      if (sum) {
        /* |x| < 2^20 gives |q| < 2^52: a block of 256 cannot overflow */
        int64_t *e = blk2, *o = blk2 + (size_t)k * d;
        for (int j = 0; j < d; j++) {
          const double *xj = X + (size_t)j * n + i0;
          int t = 0;
          for (; t + 2 <= nb; t += 2) {
            e[arg[t] * d + j] += fx_q(xj[t]);
            o[arg[t + 1] * d + j] += fx_q(xj[t + 1]);
          }
          if (t < nb) e[arg[t] * d + j] += fx_q(xj[t]);
        }
        for (int c = 0; c < k * d; c++) {
          sum[c] += (fx_acc)e[c] + (fx_acc)o[c];
          e[c] = o[c] = 0;
        }
      }
      if (p->want_inertia) {
        for (int t = 0; t < nb; t++) {
          const double *c = C + (size_t)arg[t] * d;
          double dd = 0;
          for (int j = 0; j < d; j++) {
            double diff = X[(size_t)j * n + i0 + t] - c[j];
            dd += diff * diff;
          }
          inert += fx_q_d2(dd);
        }
      }
    }
#pragma omp critical(km_assign_merge)
    {
      if (cnt)
        for (int c = 0; c < k; c++) p->counts[c] += cnt[c];
      if (sum)
        for (int c = 0; c < k * d; c++) p->sums[c] += sum[c];
      p->inertia += inert;
    }
    free(cnt);
    free(sum);
    free(blk2);
  }
  p->changed = changed;
  free(c2);
  free(cn);
  return failed ? -1 : 0;
}

void km_d2_update(const double *X, int64_t n, int d, const double *C, int64_t m, double *d2, int reset,
                  fx_acc *total) {
  fx_acc tot = 0;
  int64_t nblocks = (n + KM_BLOCK - 1) / KM_BLOCK;
#pragma omp parallel
  {
    fx_acc local = 0;
    double dd[KM_BLOCK];
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < nblocks; blk++) {
      int64_t i0 = blk * KM_BLOCK;
      int nb = (int)(n - i0 < KM_BLOCK ? n - i0 : KM_BLOCK);
      double *out = d2 + i0;
      if (reset)
        for (int t = 0; t < nb; t++) out[t] = INFINITY;
      for (int64_t c = 0; c < m; c++) {
        const double *cc = C + c * d;
        for (int t = 0; t < nb; t++) {
          double diff = X[i0 + t] - cc[0];
          dd[t] = diff * diff;
        }
        for (int j = 1; j < d; j++) {
          const double *xj = X + (size_t)j * n + i0, a = cc[j];
          for (int t = 0; t < nb; t++) {
            double diff = xj[t] - a;
            dd[t] += diff * diff;
          }
        }
        for (int t = 0; t < nb; t++) out[t] = dd[t] < out[t] ? dd[t] : out[t];
      }
      for (int t = 0; t < nb; t++) local += fx_q_d2(out[t]);
    }
#pragma omp critical(km_d2_merge)
    tot += local;
  }
  *total = tot;
}

int64_t km_oversample(const double *d2, const int64_t *uid, int64_t n, double l, double phi, uint64_t key,
                      uint8_t *mark) {
  int64_t marked = 0;
#pragma omp parallel for schedule(static) reduction(+ : marked)
  for (int64_t i = 0; i < n; i++) {
    uint64_t h = key ^ (uint64_t)uid[i] * 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 29;
    double u = (double)(h >> 11) * 0x1.0p-53;
    mark[i] = phi > 0 && u * phi < l * d2[i];
    marked += mark[i];
  }
  return marked;
}

/* Is (da, ua) farther than (db, ub) in the order distance desc, uid asc? */
static int far_before(double da, int64_t ua, double db, int64_t ub) { return da > db || (da == db && ua < ub); }

int km_farthest(const double *X, int64_t n, int d, const double *C, const int32_t *labels, const int64_t *uid,
                int m, int64_t *idx, double *dist) {
  int have = 0;
  if (m <= 0) return 0;
  for (int64_t i = 0; i < n; i++) {
    const double *c = C + (size_t)labels[i] * d;
    double dd = 0;
    for (int j = 0; j < d; j++) {
      double diff = X[(size_t)j * n + i] - c[j];
      dd += diff * diff;
    }
    if (have == m && !far_before(dd, uid[i], dist[m - 1], uid[idx[m - 1]])) continue;
    int pos = have < m ? have++ : m - 1;
    while (pos > 0 && far_before(dd, uid[i], dist[pos - 1], uid[idx[pos - 1]])) {
      dist[pos] = dist[pos - 1];
      idx[pos] = idx[pos - 1];
      pos--;
    }
    dist[pos] = dd;
    idx[pos] = i;
  }
  return have;
}

/* Counter-based uniform numbers in [0, 1) keyed by (key, counter). */
static double km_uniform(uint64_t key, uint64_t counter) {
  uint64_t x = key ^ (counter + 1) * 0xD1B54A32D192ED03ULL;
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return (double)(x >> 11) * 0x1.0p-53;
}

static double km_dist2(const double *a, const double *b, int d) {
  double dd = 0;
  for (int j = 0; j < d; j++) {
    double diff = a[j] - b[j];
    dd += diff * diff;
  }
  return dd;
}

/* First index whose cumulative weight exceeds r (the last one if none). */
static int64_t km_pick(const double *mass, int64_t m, double r) {
  double acc = 0;
  for (int64_t i = 0; i < m; i++) {
    acc += mass[i];
    if (acc > r) return i;
  }
  for (int64_t i = m - 1; i > 0; i--)
    if (mass[i] > 0) return i;
  return m - 1;
}

int km_pp_weighted(const double *P, const double *w, int64_t m, int d, int k, uint64_t key, double *C) {
  double *closest = malloc(sizeof(double) * (size_t)m), *mass = malloc(sizeof(double) * (size_t)m);
  double *trial = malloc(sizeof(double) * (size_t)m), *bestd = malloc(sizeof(double) * (size_t)m);
  int32_t *lab = malloc(sizeof(int32_t) * (size_t)m);
  double *acc = malloc(sizeof(double) * ((size_t)k * (size_t)d + (size_t)k));
  if (!closest || !mass || !trial || !bestd || !lab || !acc || m <= 0) {
    free(closest);
    free(mass);
    free(trial);
    free(bestd);
    free(lab);
    free(acc);
    return -1;
  }
  uint64_t ctr = 0;
  int trials = 2 + (int)log((double)k);
  double wsum = 0;
  for (int64_t i = 0; i < m; i++) wsum += w[i];
  int64_t first = km_pick(w, m, km_uniform(key, ctr++) * wsum);
  memcpy(C, P + first * d, sizeof(double) * (size_t)d);
  double pot = 0;
  for (int64_t i = 0; i < m; i++) {
    closest[i] = km_dist2(P + i * d, C, d);
    mass[i] = w[i] * closest[i];
    pot += mass[i];
  }
  for (int c = 1; c < k; c++) {
    double best_pot = INFINITY;
    int64_t best_i = 0;
    for (int t = 0; t < trials; t++) {
      int64_t cand = km_pick(mass, m, km_uniform(key, ctr++) * pot);
      double np = 0;
      for (int64_t i = 0; i < m; i++) {
        double dd = km_dist2(P + i * d, P + cand * d, d);
        trial[i] = dd < closest[i] ? dd : closest[i];
        np += w[i] * trial[i];
      }
      if (np < best_pot) {
        best_pot = np;
        best_i = cand;
        memcpy(bestd, trial, sizeof(double) * (size_t)m);
      }
    }
    memcpy(C + (size_t)c * d, P + best_i * d, sizeof(double) * (size_t)d);
    memcpy(closest, bestd, sizeof(double) * (size_t)m);
    pot = 0;
    for (int64_t i = 0; i < m; i++) {
      mass[i] = w[i] * closest[i];
      pot += mass[i];
    }
  }
  /* Weighted Lloyd on the candidates (Spark's LocalKMeans: 30 at most). */
  for (int64_t i = 0; i < m; i++) lab[i] = -1;
  for (int it = 0; it < 30; it++) {
    int moved = 0;
    for (int64_t i = 0; i < m; i++) {
      int bc = 0;
      double bd = INFINITY;
      for (int c = 0; c < k; c++) {
        double dd = km_dist2(P + i * d, C + (size_t)c * d, d);
        if (dd < bd) {
          bd = dd;
          bc = c;
        }
      }
      moved |= lab[i] != bc;
      lab[i] = bc;
    }
    if (!moved) break;
    memset(acc, 0, sizeof(double) * ((size_t)k * (size_t)d + (size_t)k));
    double *wc = acc + (size_t)k * d;
    for (int64_t i = 0; i < m; i++) {
      for (int j = 0; j < d; j++) acc[lab[i] * d + j] += w[i] * P[i * d + j];
      wc[lab[i]] += w[i];
    }
    for (int c = 0; c < k; c++)
      if (wc[c] > 0)
        for (int j = 0; j < d; j++) C[c * d + j] = acc[c * d + j] / wc[c];
  }
  free(closest);
  free(mass);
  free(trial);
  free(bestd);
  free(lab);
  free(acc);
  return 0;
}

int km_cluster_spread(const double *X, int64_t n, int d, const int32_t *labels, const double *M, int k,
                      fx_acc *within, fx_acc *dist) {
  fx_acc w = 0;
  int failed = 0;
#pragma omp parallel reduction(| : failed)
  {
    fx_acc lw = 0;
    fx_acc *ld = calloc((size_t)k, sizeof *ld);
    if (!ld) failed = 1;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (!ld) continue;
      const double *c = M + (size_t)labels[i] * d;
      double dd = 0;
      for (int j = 0; j < d; j++) {
        double diff = X[(size_t)j * n + i] - c[j];
        dd += diff * diff;
      }
      lw += fx_q_d2(dd);
      ld[labels[i]] += fx_q(sqrt(dd));
    }
#pragma omp critical(km_spread_merge)
    {
      w += lw;
      if (ld)
        for (int c = 0; c < k; c++) dist[c] += ld[c];
    }
    free(ld);
  }
  *within += w;
  return failed ? -1 : 0;
}

/* Sum over j in [j0, j1) of ||S_j - x||, in two lanes (even and odd
 * offsets from j0, an odd last element into the even lane), added at the
 * end: a fixed order, whatever the path. */
static double km_dist_sum(const double *S, int64_t m, int d, const double *x, int64_t j0, int64_t j1) {
  double l0 = 0, l1 = 0;
  int64_t j = j0;
  if (d == 3) {
    const double *s0 = S, *s1 = S + m, *s2 = S + 2 * m;
#ifdef __SSE2__
    __m128d acc = _mm_setzero_pd(), x0 = _mm_set1_pd(x[0]), x1 = _mm_set1_pd(x[1]), x2 = _mm_set1_pd(x[2]);
    for (; j + 2 <= j1; j += 2) {
      __m128d a = _mm_sub_pd(_mm_loadu_pd(s0 + j), x0), b = _mm_sub_pd(_mm_loadu_pd(s1 + j), x1),
              c = _mm_sub_pd(_mm_loadu_pd(s2 + j), x2);
      __m128d dd = _mm_add_pd(_mm_add_pd(_mm_mul_pd(a, a), _mm_mul_pd(b, b)), _mm_mul_pd(c, c));
      acc = _mm_add_pd(acc, _mm_sqrt_pd(dd));
    }
    double lanes[2];
    _mm_storeu_pd(lanes, acc);
    l0 = lanes[0];
    l1 = lanes[1];
#else
    for (; j + 2 <= j1; j += 2) {
      double a = s0[j] - x[0], b = s1[j] - x[1], c = s2[j] - x[2];
      double e = s0[j + 1] - x[0], f = s1[j + 1] - x[1], g = s2[j + 1] - x[2];
      l0 += sqrt((a * a + b * b) + c * c);
      l1 += sqrt((e * e + f * f) + g * g);
    }
#endif
    if (j < j1) {
      double a = s0[j] - x[0], b = s1[j] - x[1], c = s2[j] - x[2];
      l0 += sqrt((a * a + b * b) + c * c);
    }
    return l0 + l1;
  }
  double dd[KM_BLOCK];
  for (int64_t b0 = j0; b0 < j1; b0 += KM_BLOCK) {
    int nb = (int)(j1 - b0 < KM_BLOCK ? j1 - b0 : KM_BLOCK);
    for (int t = 0; t < nb; t++) {
      double diff = S[b0 + t] - x[0];
      dd[t] = diff * diff;
    }
    for (int c = 1; c < d; c++) {
      const double *sc = S + (size_t)c * m + b0, xc = x[c];
      for (int t = 0; t < nb; t++) {
        double diff = sc[t] - xc;
        dd[t] += diff * diff;
      }
    }
    /* blocks hold an even count except the last, so lanes stay aligned */
    int t = 0;
    for (; t + 2 <= nb; t += 2) {
      l0 += sqrt(dd[t]);
      l1 += sqrt(dd[t + 1]);
    }
    if (t < nb) l0 += sqrt(dd[t]);
  }
  return l0 + l1;
}

int km_silhouette_rows(const double *S, int64_t m, int d, const int64_t *start, int k, int64_t lo, int64_t hi,
                       fx_acc *sum) {
  fx_acc total = 0;
  int failed = 0;
#pragma omp parallel reduction(| : failed)
  {
    double *csum = malloc(sizeof(double) * (size_t)k);
    fx_acc local = 0;
    if (!csum) failed = 1;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = lo; i < hi; i++) {
      if (!csum) continue;
      int own = 0;
      while (own < k - 1 && start[own + 1] <= i) own++;
      double x[KM_MAX_D];
      for (int j = 0; j < d; j++) x[j] = S[(size_t)j * m + i];
      for (int c = 0; c < k; c++) csum[c] = km_dist_sum(S, m, d, x, start[c], start[c + 1]);
      int64_t own_n = start[own + 1] - start[own];
      double s = 0;
      if (own_n > 1) {
        double a = csum[own] / (double)(own_n - 1), b = INFINITY;
        for (int c = 0; c < k; c++) {
          int64_t nc = start[c + 1] - start[c];
          if (c != own && nc > 0 && csum[c] / (double)nc < b) b = csum[c] / (double)nc;
        }
        double mx = a > b ? a : b;
        s = isfinite(b) && mx > 0 ? (b - a) / mx : 0;
      }
      local += fx_q(s);
    }
#pragma omp critical(km_sil_merge)
    total += local;
    free(csum);
  }
  *sum += total;
  return failed ? -1 : 0;
}
