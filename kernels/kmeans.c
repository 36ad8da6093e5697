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
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
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

/* The constant inputs of one assignment pass. */
typedef struct {
  const double *X, *c2, *cn;
  int64_t n;
  int d, k, counts, sums, incremental;
} km_ctx;

/* One thread's scratch: the block's scores and labels, the block's
 * coordinates in fixed point, and int64 sums (a block of 256 points with
 * |q| < 2^51 cannot overflow; the caller flushes them after each block). */
typedef struct {
  double best[KM_BLOCK], sc[KM_BLOCK];
  int64_t arg[KM_BLOCK];
  int64_t q[KM_MAX_D][KM_BLOCK];
  int64_t *cnt, *sum, *sum2; /* k, k*d, k*d */
} km_scratch;

/* Score of centroid c for the nb points at i0 into out: ||c||^2 - (2c).x
 * with the dot product added in coordinate order (as km_nearest). */
#define KM_SCORES(ctx, i0, nb, c, out)                                                                                 \
  do {                                                                                                                 \
    const double *cc_ = (ctx)->c2 + (size_t)(c) * (ctx)->d, q_ = (ctx)->cn[c];                                         \
    const double *x0_ = (ctx)->X + (i0);                                                                               \
    if ((ctx)->d == 3) {                                                                                               \
      const double *x1_ = x0_ + (ctx)->n, *x2_ = x1_ + (ctx)->n;                                                       \
      const double a_ = cc_[0], b_ = cc_[1], e_ = cc_[2];                                                              \
      for (int t_ = 0; t_ < (nb); t_++)                                                                                \
        (out)[t_] = q_ - ((x0_[t_] * a_ + x1_[t_] * b_) + x2_[t_] * e_);                                               \
    } else {                                                                                                           \
      for (int t_ = 0; t_ < (nb); t_++)                                                                                \
        (out)[t_] = x0_[t_] * cc_[0];                                                                                  \
      for (int j_ = 1; j_ < (ctx)->d; j_++) {                                                                          \
        const double *xj_ = x0_ + (size_t)j_ * (ctx)->n, a_ = cc_[j_];                                                 \
        for (int t_ = 0; t_ < (nb); t_++)                                                                              \
          (out)[t_] += xj_[t_] * a_;                                                                                   \
      }                                                                                                                \
      for (int t_ = 0; t_ < (nb); t_++)                                                                                \
        (out)[t_] = q_ - (out)[t_];                                                                                    \
    }                                                                                                                  \
  } while (0)

/* The block's coordinates in 2^-32 units (fx_q), for the sums. */
#define KM_FIXED(ctx, i0, nb, w)                                                                                       \
  do {                                                                                                                 \
    for (int j_ = 0; j_ < (ctx)->d; j_++) {                                                                            \
      const double *xj_ = (ctx)->X + (size_t)j_ * (ctx)->n + (i0);                                                     \
      for (int t_ = 0; t_ < (nb); t_++)                                                                                \
        (w)->q[j_][t_] = fx_q(xj_[t_]);                                                                                \
    }                                                                                                                  \
  } while (0)

/* Counts and sums by scatter: two interleaved sets (even and odd points)
 * so that consecutive points of one cluster do not wait on each other. */
static void km_scatter(const km_ctx *x, int nb, km_scratch *w) {
  const int d = x->d;
  if (x->counts)
    for (int t = 0; t < nb; t++)
      w->cnt[w->arg[t]]++;
  if (!x->sums)
    return;
  for (int j = 0; j < d; j++) {
    const int64_t *q = w->q[j];
    int t = 0;
    for (; t + 2 <= nb; t += 2) {
      w->sum[w->arg[t] * d + j] += q[t];
      w->sum2[w->arg[t + 1] * d + j] += q[t + 1];
    }
    if (t < nb)
      w->sum[w->arg[t] * d + j] += q[t];
  }
}

/* Stores the block's labels; returns how many changed. */
static int64_t km_labels(const int64_t *arg, int nb, int32_t *labels) {
  int64_t changed = 0;
  for (int t = 0; t < nb; t++) {
    changed += labels[t] != arg[t];
    labels[t] = (int32_t)arg[t];
  }
  return changed;
}

/* Incremental counts and sums: point t moves from labels[t] (-1: none
 * yet) to arg[t]; only points that move touch the sums. Exact integers
 * make this equal to adding every point again. Stores the labels and
 * returns how many changed. */
static int64_t km_delta(const km_ctx *x, int64_t i0, int t0, int nb, const int64_t *arg, int32_t *labels,
                        km_scratch *w) {
  int64_t changed = 0;
  for (int t = t0; t < nb; t++) {
    int32_t o = labels[i0 + t];
    int64_t c = arg[t];
    if (o == c)
      continue;
    changed++;
    labels[i0 + t] = (int32_t)c;
    if (x->counts) {
      w->cnt[c]++;
      if (o >= 0)
        w->cnt[o]--;
    }
    if (x->sums)
      for (int j = 0; j < x->d; j++) {
        int64_t q = fx_q(x->X[(size_t)j * x->n + i0 + t]);
        w->sum[c * x->d + j] += q;
        if (o >= 0)
          w->sum[o * x->d + j] -= q;
      }
  }
  return changed;
}

/* Baseline instruction set (SSE2 on x86-64). Returns the labels changed. */
static int64_t km_block_base(const km_ctx *x, int64_t i0, int nb, km_scratch *w, int32_t *labels) {
  for (int c = 0; c < x->k; c++) {
    if (c == 0) {
      KM_SCORES(x, i0, nb, 0, w->best);
      for (int t = 0; t < nb; t++)
        w->arg[t] = 0;
    } else {
      KM_SCORES(x, i0, nb, c, w->sc);
      km_select(w->sc, nb, c, w->best, w->arg);
    }
  }
  if (x->incremental)
    return km_delta(x, i0, 0, nb, w->arg, labels, w);
  if (x->sums)
    KM_FIXED(x, i0, nb, w);
  if (x->counts || x->sums)
    km_scatter(x, nb, w);
  return labels ? km_labels(w->arg, nb, labels + i0) : 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define KM_HAVE_AVX2_PATH 1
/* The same block with AVX2 (4 doubles a vector), chosen at run time. The
 * select and, for k <= 8, the counts and sums (masked integer adds, no
 * scatter) use AVX2 intrinsics; the scores are plain loops the compiler
 * vectorises. Every lane does the baseline's operations (no FMA: "avx2"
 * alone does not enable it, and ISO C mode keeps contraction off), so the
 * labels and the integer sums are the same bits as on the baseline path. */
__attribute__((target("avx2"))) static int64_t km_block_avx2(const km_ctx *x, int64_t i0, int nb, km_scratch *w,
                                                             int32_t *labels) {
  double *best = w->best, *sc = w->sc;
  int64_t *arg = w->arg, changed = 0;
  const int n4 = nb & ~3;
  if (x->d == 3 && x->k <= 64) {
    /* fused: scores, select and fixed point in one pass over the block */
    const double *x0p = x->X + i0, *x1p = x0p + x->n, *x2p = x1p + x->n, *c2 = x->c2, *cn = x->cn;
    const __m256d sc32 = _mm256_set1_pd(0x1p32), mg = _mm256_set1_pd(0x1.8p52);
    const __m256i mgi = _mm256_set1_epi64x(0x4338000000000000LL);
    for (int t = 0; t < n4; t += 4) {
      __m256d x0 = _mm256_loadu_pd(x0p + t), x1 = _mm256_loadu_pd(x1p + t), x2 = _mm256_loadu_pd(x2p + t);
      __m256d b =
          _mm256_sub_pd(_mm256_set1_pd(cn[0]), _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(x0, _mm256_set1_pd(c2[0])),
                                                                           _mm256_mul_pd(x1, _mm256_set1_pd(c2[1]))),
                                                             _mm256_mul_pd(x2, _mm256_set1_pd(c2[2]))));
      __m256d ar = _mm256_setzero_pd();
      for (int c = 1; c < x->k; c++) {
        const double *cc = c2 + 3 * c;
        __m256d sv =
            _mm256_sub_pd(_mm256_set1_pd(cn[c]), _mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(x0, _mm256_set1_pd(cc[0])),
                                                                             _mm256_mul_pd(x1, _mm256_set1_pd(cc[1]))),
                                                               _mm256_mul_pd(x2, _mm256_set1_pd(cc[2]))));
        __m256d m = _mm256_cmp_pd(sv, b, _CMP_LT_OQ);
        b = _mm256_min_pd(sv, b);
        ar = _mm256_blendv_pd(ar, _mm256_castsi256_pd(_mm256_set1_epi64x(c)), m);
      }
      _mm256_storeu_pd(best + t, b);
      _mm256_storeu_pd((double *)(arg + t), ar);
      if (x->sums && !x->incremental) {
        _mm256_storeu_si256((__m256i *)(w->q[0] + t),
                            _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(_mm256_mul_pd(x0, sc32), mg)), mgi));
        _mm256_storeu_si256((__m256i *)(w->q[1] + t),
                            _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(_mm256_mul_pd(x1, sc32), mg)), mgi));
        _mm256_storeu_si256((__m256i *)(w->q[2] + t),
                            _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(_mm256_mul_pd(x2, sc32), mg)), mgi));
      }
    }
    for (int t = n4; t < nb; t++) { /* the tail, with the same operations */
      for (int c = 0; c < x->k; c++) {
        const double *cc = c2 + 3 * c;
        double sv = cn[c] - ((x0p[t] * cc[0] + x1p[t] * cc[1]) + x2p[t] * cc[2]);
        if (c == 0 || sv < best[t]) {
          best[t] = sv;
          arg[t] = c;
        }
      }
      if (x->sums && !x->incremental) {
        w->q[0][t] = fx_q(x0p[t]);
        w->q[1][t] = fx_q(x1p[t]);
        w->q[2][t] = fx_q(x2p[t]);
      }
    }
  } else {
    for (int c = 0; c < x->k; c++) {
      if (c == 0) {
        KM_SCORES(x, i0, nb, 0, best);
        for (int t = 0; t < nb; t++)
          arg[t] = 0;
        continue;
      }
      KM_SCORES(x, i0, nb, c, sc);
      const __m256d cv = _mm256_castsi256_pd(_mm256_set1_epi64x(c));
      for (int t = 0; t < n4; t += 4) {
        __m256d sv = _mm256_loadu_pd(sc + t), bv = _mm256_loadu_pd(best + t);
        __m256d m = _mm256_cmp_pd(sv, bv, _CMP_LT_OQ), av = _mm256_loadu_pd((const double *)(arg + t));
        _mm256_storeu_pd(best + t, _mm256_min_pd(sv, bv));
        _mm256_storeu_pd((double *)(arg + t), _mm256_blendv_pd(av, cv, m));
      }
      for (int t = n4; t < nb; t++)
        if (sc[t] < best[t]) {
          best[t] = sc[t];
          arg[t] = c;
        }
    }
    if (x->sums && !x->incremental)
      KM_FIXED(x, i0, nb, w);
  }
  if (x->incremental) {
    /* compare four labels at a time; only groups with a change go on */
    const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    const int32_t *lab = labels + i0;
    for (int t = 0; t < n4; t += 4) {
      __m128i nl =
          _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)(arg + t)), lo));
      __m128i ol = _mm_loadu_si128((const __m128i *)(lab + t));
      if (_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(nl, ol))) != 0xF)
        changed += km_delta(x, i0, t, t + 4, arg, labels, w);
    }
    return changed + km_delta(x, i0, n4, nb, arg, labels, w);
  }
  if (labels) {
    /* the low halves of four int64 labels, compared and stored as int32 */
    const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
    int32_t *lab = labels + i0;
    for (int t = 0; t < n4; t += 4) {
      __m128i nl =
          _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)(arg + t)), lo));
      __m128i ol = _mm_loadu_si128((const __m128i *)(lab + t));
      changed += 4 - __builtin_popcount((unsigned)_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(nl, ol))));
      _mm_storeu_si128((__m128i *)(lab + t), nl);
    }
    changed += km_labels(arg + n4, nb - n4, lab + n4);
  }
  if (!x->counts && !x->sums)
    return changed;
  if (x->k > 8) {
    km_scatter(x, nb, w);
    return changed;
  }
  /* clusters 1..k-1 by masked adds; cluster 0 gets the block's total
   * minus theirs (exact integers), one masked pass fewer */
  const int d = x->d;
  int64_t lanes[4];
  if (x->sums)
    for (int j = 0; j < d; j++) {
      __m256i tot = _mm256_setzero_si256();
      for (int t = 0; t < n4; t += 4)
        tot = _mm256_add_epi64(tot, _mm256_loadu_si256((const __m256i *)(w->q[j] + t)));
      _mm256_storeu_si256((__m256i *)lanes, tot);
      int64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
      for (int t = n4; t < nb; t++)
        total += w->q[j][t];
      w->sum[j] += total;
    }
  if (x->counts)
    w->cnt[0] += nb;
  for (int c = 1; c < x->k; c++) {
    const __m256i cv = _mm256_set1_epi64x(c);
    __m256i cnt = _mm256_setzero_si256(), acc[KM_MAX_D];
    for (int j = 0; j < d; j++)
      acc[j] = _mm256_setzero_si256();
    for (int t = 0; t < n4; t += 4) {
      __m256i m = _mm256_cmpeq_epi64(_mm256_loadu_si256((const __m256i *)(arg + t)), cv);
      cnt = _mm256_sub_epi64(cnt, m);
      if (x->sums)
        for (int j = 0; j < d; j++)
          acc[j] = _mm256_add_epi64(acc[j], _mm256_and_si256(m, _mm256_loadu_si256((const __m256i *)(w->q[j] + t))));
    }
    if (x->counts) {
      _mm256_storeu_si256((__m256i *)lanes, cnt);
      int64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
      for (int t = n4; t < nb; t++)
        total += arg[t] == c;
      w->cnt[c] += total;
      w->cnt[0] -= total;
    }
    if (x->sums)
      for (int j = 0; j < d; j++) {
        _mm256_storeu_si256((__m256i *)lanes, acc[j]);
        int64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
        for (int t = n4; t < nb; t++)
          total += arg[t] == c ? w->q[j][t] : 0;
        w->sum[c * d + j] += total;
        w->sum[j] -= total;
      }
  }
  return changed;
}
#endif

int km_nearest(const double *x, int d, const double *C, int k) {
  int arg = 0;
  double best = 0;
  for (int c = 0; c < k; c++) {
    double q = 0, dot = 0;
    for (int j = 0; j < d; j++)
      q += C[c * d + j] * C[c * d + j];
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
  km_ctx ctx = {X, c2, cn, n, d, k, p->counts != NULL, p->sums != NULL, p->incremental && p->labels};
  int64_t (*block)(const km_ctx *, int64_t, int, km_scratch *, int32_t *) = km_block_base;
#ifdef KM_HAVE_AVX2_PATH
  if (!p->baseline && __builtin_cpu_supports("avx2"))
    block = km_block_avx2;
#endif
  if (p->counts && !ctx.incremental)
    memset(p->counts, 0, sizeof(int64_t) * (size_t)k);
  if (p->sums && !ctx.incremental)
    memset(p->sums, 0, sizeof(fx_acc) * (size_t)k * (size_t)d);
  p->inertia = 0;
  p->changed = 0;
  int64_t nblocks = (n + KM_BLOCK - 1) / KM_BLOCK, changed = 0;
  int failed = 0;
#pragma omp parallel reduction(+ : changed) reduction(| : failed)
  {
    km_scratch *w = malloc(sizeof *w);
    int64_t *ints = calloc((size_t)k * (1 + 2 * (size_t)d), sizeof *ints);
    fx_acc *sum = p->sums ? calloc((size_t)k * (size_t)d, sizeof *sum) : NULL;
    fx_acc inert = 0;
    if (!w || !ints || (p->sums && !sum))
      failed = 1;
    else {
      w->cnt = ints;
      w->sum = ints + k;
      w->sum2 = ints + k + (size_t)k * d;
    }
    int32_t *labels = p->labels;
#pragma omp for schedule(static)
    for (int64_t blk = 0; blk < nblocks; blk++) {
      if (failed)
        continue;
      int64_t i0 = blk * KM_BLOCK;
      int nb = (int)(n - i0 < KM_BLOCK ? n - i0 : KM_BLOCK);
      changed += block(&ctx, i0, nb, w, labels);
      if (sum) {
        for (int c = 0; c < k * d; c++) {
          sum[c] += (fx_acc)w->sum[c] + (fx_acc)w->sum2[c];
          w->sum[c] = w->sum2[c] = 0;
        }
      }
      if (p->want_inertia) {
        for (int t = 0; t < nb; t++) {
          const double *c = C + (size_t)w->arg[t] * d;
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
      if (p->counts && ints)
        for (int c = 0; c < k; c++)
          p->counts[c] += ints[c];
      if (sum)
        for (int c = 0; c < k * d; c++)
          p->sums[c] += sum[c];
      p->inertia += inert;
    }
    free(w);
    free(ints);
    free(sum);
  }
  p->changed = changed;
  free(c2);
  free(cn);
  return failed ? -1 : 0;
}

void km_d2_update(const double *X, int64_t n, int d, const double *C, int64_t m, double *d2, int reset, fx_acc *total) {
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
        for (int t = 0; t < nb; t++)
          out[t] = INFINITY;
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
        for (int t = 0; t < nb; t++)
          out[t] = dd[t] < out[t] ? dd[t] : out[t];
      }
      for (int t = 0; t < nb; t++)
        local += fx_q_d2(out[t]);
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

int km_farthest(const double *X, int64_t n, int d, const double *C, const int32_t *labels, const int64_t *uid, int m,
                int64_t *idx, double *dist) {
  int have = 0;
  if (m <= 0)
    return 0;
  for (int64_t i = 0; i < n; i++) {
    const double *c = C + (size_t)labels[i] * d;
    double dd = 0;
    for (int j = 0; j < d; j++) {
      double diff = X[(size_t)j * n + i] - c[j];
      dd += diff * diff;
    }
    if (have == m && !far_before(dd, uid[i], dist[m - 1], uid[idx[m - 1]]))
      continue;
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
    if (acc > r)
      return i;
  }
  for (int64_t i = m - 1; i > 0; i--)
    if (mass[i] > 0)
      return i;
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
  for (int64_t i = 0; i < m; i++)
    wsum += w[i];
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
  for (int64_t i = 0; i < m; i++)
    lab[i] = -1;
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
    if (!moved)
      break;
    memset(acc, 0, sizeof(double) * ((size_t)k * (size_t)d + (size_t)k));
    double *wc = acc + (size_t)k * d;
    for (int64_t i = 0; i < m; i++) {
      for (int j = 0; j < d; j++)
        acc[lab[i] * d + j] += w[i] * P[i * d + j];
      wc[lab[i]] += w[i];
    }
    for (int c = 0; c < k; c++)
      if (wc[c] > 0)
        for (int j = 0; j < d; j++)
          C[c * d + j] = acc[c * d + j] / wc[c];
  }
  free(closest);
  free(mass);
  free(trial);
  free(bestd);
  free(lab);
  free(acc);
  return 0;
}

int km_cluster_spread(const double *X, int64_t n, int d, const int32_t *labels, const double *M, int k, fx_acc *within,
                      fx_acc *dist) {
  fx_acc w = 0;
  int failed = 0;
#pragma omp parallel reduction(| : failed)
  {
    fx_acc lw = 0;
    fx_acc *ld = calloc((size_t)k, sizeof *ld);
    if (!ld)
      failed = 1;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (!ld)
        continue;
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
        for (int c = 0; c < k; c++)
          dist[c] += ld[c];
    }
    free(ld);
  }
  *within += w;
  return failed ? -1 : 0;
}

/* The silhouette's distance sums for d = 3 (the segment features) in eight
 * lanes: element j0 + 8q + r goes to lane r, the tail too, and the lanes
 * add up as ((0+1)+(2+3))+((4+5)+(6+7)). Every path below does the same
 * IEEE operations per element ((a*a + b*b) + c*c, a correctly rounded
 * sqrt, no FMA) in the same lane, so AVX2, SSE2 and plain C give the same
 * bits; AVX2's two 4-wide accumulators halve the time of SSE2's one
 * 2-wide chain (bench_kmeans "silhouette"). */
static double km_lanes8(const double *l) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

static void km_dist3_tail(const double *const s[3], const double *x, int64_t j, int64_t j1, double *l) {
  for (int r = 0; j < j1; j++, r++) {
    double a = s[0][j] - x[0], b = s[1][j] - x[1], c = s[2][j] - x[2];
    l[r] += sqrt((a * a + b * b) + c * c);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static double km_dist3_avx2(const double *const s[3], const double *x, int64_t j0,
                                                            int64_t j1) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  __m256d x0 = _mm256_set1_pd(x[0]), x1 = _mm256_set1_pd(x[1]), x2 = _mm256_set1_pd(x[2]);
  int64_t j = j0;
  for (; j + 8 <= j1; j += 8) {
    __m256d a = _mm256_sub_pd(_mm256_loadu_pd(s[0] + j), x0), b = _mm256_sub_pd(_mm256_loadu_pd(s[1] + j), x1),
            c = _mm256_sub_pd(_mm256_loadu_pd(s[2] + j), x2);
    lo = _mm256_add_pd(lo, _mm256_sqrt_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)),
                                                        _mm256_mul_pd(c, c))));
    a = _mm256_sub_pd(_mm256_loadu_pd(s[0] + j + 4), x0);
    b = _mm256_sub_pd(_mm256_loadu_pd(s[1] + j + 4), x1);
    c = _mm256_sub_pd(_mm256_loadu_pd(s[2] + j + 4), x2);
    hi = _mm256_add_pd(hi, _mm256_sqrt_pd(_mm256_add_pd(_mm256_add_pd(_mm256_mul_pd(a, a), _mm256_mul_pd(b, b)),
                                                        _mm256_mul_pd(c, c))));
  }
  double l[8];
  _mm256_storeu_pd(l, lo);
  _mm256_storeu_pd(l + 4, hi);
  km_dist3_tail(s, x, j, j1, l);
  return km_lanes8(l);
}
#endif

double km_dist3_sum(const double *S, int64_t m, const double *x, int64_t j0, int64_t j1, int baseline) {
  const double *const s[3] = {S, S + m, S + 2 * m};
#if defined(__x86_64__) && defined(__GNUC__)
  if (!baseline && __builtin_cpu_supports("avx2")) return km_dist3_avx2(s, x, j0, j1);
#endif
  double l[8] = {0};
  int64_t j = j0;
#ifdef __SSE2__
  __m128d acc[4] = {_mm_setzero_pd(), _mm_setzero_pd(), _mm_setzero_pd(), _mm_setzero_pd()};
  __m128d x0 = _mm_set1_pd(x[0]), x1 = _mm_set1_pd(x[1]), x2 = _mm_set1_pd(x[2]);
  for (; j + 8 <= j1; j += 8)
    for (int r = 0; r < 4; r++) {
      __m128d a = _mm_sub_pd(_mm_loadu_pd(s[0] + j + 2 * r), x0), b = _mm_sub_pd(_mm_loadu_pd(s[1] + j + 2 * r), x1),
              c = _mm_sub_pd(_mm_loadu_pd(s[2] + j + 2 * r), x2);
      acc[r] = _mm_add_pd(acc[r], _mm_sqrt_pd(_mm_add_pd(_mm_add_pd(_mm_mul_pd(a, a), _mm_mul_pd(b, b)), _mm_mul_pd(c, c))));
    }
  for (int r = 0; r < 4; r++) _mm_storeu_pd(l + 2 * r, acc[r]);
#else
  for (; j + 8 <= j1; j += 8)
    for (int r = 0; r < 8; r++) {
      double a = s[0][j + r] - x[0], b = s[1][j + r] - x[1], c = s[2][j + r] - x[2];
      l[r] += sqrt((a * a + b * b) + c * c);
    }
#endif
  km_dist3_tail(s, x, j, j1, l);
  return km_lanes8(l);
}

/* Sum over j in [j0, j1) of ||S_j - x||: d = 3 in km_dist3_sum's eight
 * lanes; other d in two lanes (even and odd offsets from j0, an odd last
 * element into the even lane), added at the end: a fixed order. */
static double km_dist_sum(const double *S, int64_t m, int d, const double *x, int64_t j0, int64_t j1) {
  if (d == 3) return km_dist3_sum(S, m, x, j0, j1, 0);
  double l0 = 0, l1 = 0;
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
    if (t < nb)
      l0 += sqrt(dd[t]);
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
    if (!csum)
      failed = 1;
#pragma omp for schedule(dynamic, 16)
    for (int64_t i = lo; i < hi; i++) {
      if (!csum)
        continue;
      int own = 0;
      while (own < k - 1 && start[own + 1] <= i)
        own++;
      double x[KM_MAX_D];
      for (int j = 0; j < d; j++)
        x[j] = S[(size_t)j * m + i];
      for (int c = 0; c < k; c++)
        csum[c] = km_dist_sum(S, m, d, x, start[c], start[c + 1]);
      int64_t own_n = start[own + 1] - start[own];
      double s = 0;
      if (own_n > 1) {
        double a = csum[own] / (double)(own_n - 1), b = INFINITY;
        for (int c = 0; c < k; c++) {
          int64_t nc = start[c + 1] - start[c];
          if (c != own && nc > 0 && csum[c] / (double)nc < b)
            b = csum[c] / (double)nc;
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
