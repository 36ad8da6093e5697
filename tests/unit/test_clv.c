/* test_clv.c: unit tests of the lifetime-value kernels (kernels/clv.c) and
 * the Newton maximiser (kernels/newton.c).
 *
 * Expected values come from elsewhere than the code under test:
 *   - ψ and ψ' at points where they are known in closed form, and their
 *     recurrences;
 *   - the BG/NBD log-likelihood against FHL 2005 eq. 6 written out with
 *     lgamma and pow in long double; P(alive) against its formula; the
 *     conditional expectation against eq. 10 summed directly (clv_hyp2f1
 *     on the untransformed parameters) where that series is well behaved
 *     (tests/ref/clv_special_ref.py checks large x against mpmath);
 *   - every gradient and Hessian term against central differences of the
 *     log-likelihood and of the gradient;
 *   - grouped, shuffled and multi-threaded sums: the same bits as one
 *     customer at a time;
 *   - Gamma-Gamma's terms from global sums against the per-customer
 *     formula summed directly, and finite differences;
 *   - customer summaries of hand-built lines;
 *   - Newton: a concave quadratic in one step, a start with negative
 *     curvature (gradient steps), a supremum at infinity (stops at the
 *     bound), and a fit stopped by its hook resumes along the same path.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv.h"
#include "fmt.h"
#include "newton.h"

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double ur(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (double)(rs >> 11) * 0x1.0p-53;
}

static int close_rel(double a, double b, double rel, double abs_tol) {
  return fabs(a - b) <= rel * fabs(b) + abs_tol;
}

static void test_polygamma(void) {
  const double euler = 0.57721566490153286061, pi = 3.14159265358979323846;
  CU_ASSERT(close_rel(clv_digamma(1), -euler, 1e-14, 0));
  CU_ASSERT(close_rel(clv_digamma(0.5), -euler - 2 * log(2.0), 1e-14, 0));
  CU_ASSERT(close_rel(clv_digamma(0.25), -euler - pi / 2 - 3 * log(2.0), 1e-14, 0));
  CU_ASSERT(close_rel(clv_trigamma(1), pi * pi / 6, 1e-14, 0));
  CU_ASSERT(close_rel(clv_trigamma(0.5), pi * pi / 2, 1e-14, 0));
  CU_ASSERT(close_rel(clv_trigamma(0.25), pi * pi + 8 * 0.91596559417721901505, 1e-14, 0)); /* Catalan */
  int bad = 0;
  for (int i = 0; i < 2000; i++) {
    double x = exp(-8 + 20 * ur());
    /* ψ(x+1) = ψ(x) + 1/x and ψ'(x+1) = ψ'(x) - 1/x² */
    /* (for small x the right sides cancel: the tolerance follows ψ(x)) */
    bad += !close_rel(clv_digamma(x + 1), clv_digamma(x) + 1 / x, 1e-13, 1e-15 * fabs(clv_digamma(x)));
    bad += !close_rel(clv_trigamma(x + 1), clv_trigamma(x) - 1 / (x * x), 1e-13, 1e-15 * clv_trigamma(x));
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(close_rel(clv_digamma(1e8) - log(1e8), -0.5e-8, 1e-6, 0));
  CU_ASSERT(close_rel(clv_trigamma(1e8), 1e-8 + 0.5e-16, 1e-12, 0));
}

static void test_hyp2f1(void) {
  /* closed forms: 2F1(1,1;2;z) = -ln(1-z)/z; 2F1(a,b;b;z) = (1-z)^-a;
     2F1(1/2,1;3/2;z²) = atanh(z)/z */
  for (double z = 0.01; z < 0.999; z += 0.07) {
    CU_ASSERT(close_rel(clv_hyp2f1(1, 1, 2, z), -log1p(-z) / z, 1e-13, 0));
    CU_ASSERT(close_rel(clv_hyp2f1(2.5, 3.25, 3.25, z), pow(1 - z, -2.5), 1e-13, 0));
    CU_ASSERT(close_rel(clv_hyp2f1(0.5, 1, 1.5, z * z), atanh(z) / z, 1e-13, 0));
  }
  CU_ASSERT_EQUAL(clv_hyp2f1(3, 4, 5, 0), 1.0);
}

/* FHL 2005 eq. 6, ln of the likelihood, in long double. */
static long double bg_ll_direct(double r, double al, double a, double b, int x, double tx, double T) {
  long double lr = r, la = al, lA = a, lB = b;
  long double v = lgammal(lr + x) - lgammal(lr) + lr * logl(la) + lgammal(lA + lB) + lgammal(lB + x) - lgammal(lB) -
                  lgammal(lA + lB + x);
  long double e = powl(la + T, -(lr + x));
  if (x > 0) e += lA / (lB + x - 1) * powl(la + tx, -(lr + x));
  return v + logl(e);
}

typedef struct {
  int x, txd, Td;
} cust;

static void test_bg_terms(void) {
  const double unit = 7;
  clv_bg_tables t;
  CU_ASSERT_EQUAL_FATAL(clv_bg_tables_init(&t, 400, 600, unit), 0);
  int bad_ll = 0, bad_g = 0, bad_h = 0, bad_p = 0;
  for (int trial = 0; trial < 60; trial++) {
    double th[4] = {log(0.05 + 3 * ur()), log(0.3 + 20 * ur()), log(0.2 + 3 * ur()), log(0.3 + 8 * ur())};
    cust cs[6] = {{0, 0, 1 + (int)(ur() * 500)}, {1, 3, 300}, {2, 10, 11}, {5, 90, 400}, {40, 200, 210},
                  {(int)(ur() * 350) + 1, 0, 0}};
    cs[5].Td = 400 + (int)(ur() * 200);
    cs[5].txd = (int)(ur() * cs[5].Td);
    for (int c = 0; c < 6; c++) {
      const cust *k = &cs[c];
      double o[CLV_BG_TERMS], op[CLV_BG_TERMS], om[CLV_BG_TERMS];
      clv_bg_tables_fill(&t, th);
      clv_bg_terms(k->x, k->txd, k->Td, &t, o);
      long double want = bg_ll_direct(t.r, t.alpha, t.a, t.b, k->x, k->txd / unit, k->Td / unit);
      if (!close_rel(o[0], (double)want, 1e-11, 1e-11)) {
        bad_ll++;
        printf("\nll x=%d: %.17g want %.17Lg\n", k->x, o[0], want);
      }
      double pa = k->x ? 1 / (1 + t.a / (t.b + k->x - 1) * pow((t.alpha + k->Td / unit) / (t.alpha + k->txd / unit),
                                                                t.r + k->x))
                       : 1;
      bad_p += !close_rel(clv_bg_p_alive(k->x, k->txd, k->Td, &t), pa, 1e-12, 1e-300);
      /* gradient: central differences of ℓ; Hessian: of the gradient */
      int ix = 5;
      for (int i = 0; i < 4; i++) {
        double h = 1e-5, tp[4], tm[4];
        memcpy(tp, th, sizeof tp);
        memcpy(tm, th, sizeof tm);
        tp[i] += h;
        tm[i] -= h;
        clv_bg_tables_fill(&t, tp);
        clv_bg_terms(k->x, k->txd, k->Td, &t, op);
        clv_bg_tables_fill(&t, tm);
        clv_bg_terms(k->x, k->txd, k->Td, &t, om);
        double fd = (op[0] - om[0]) / (2 * h);
        if (!close_rel(o[1 + i], fd, 1e-6, 1e-6 * (1 + fabs(o[0])))) {
          bad_g++;
          printf("\ng%d x=%d: %.12g fd %.12g\n", i, k->x, o[1 + i], fd);
        }
        for (int j = i; j < 4; j++) {
          double fdh = (op[1 + j] - om[1 + j]) / (2 * h);
          if (!close_rel(o[ix], fdh, 1e-5, 1e-6 * (1 + fabs(o[1 + j])))) {
            bad_h++;
            printf("\nH%d%d x=%d: %.12g fd %.12g\n", i, j, k->x, o[ix], fdh);
          }
          ix++;
        }
      }
    }
  }
  CU_ASSERT_EQUAL(bad_ll, 0);
  CU_ASSERT_EQUAL(bad_p, 0);
  CU_ASSERT_EQUAL(bad_g, 0);
  CU_ASSERT_EQUAL(bad_h, 0);
  clv_bg_tables_free(&t);
}

static void test_bg_expected(void) {
  const double unit = 7;
  clv_bg_tables t;
  CU_ASSERT_EQUAL_FATAL(clv_bg_tables_init(&t, 60, 400, unit), 0);
  int bad = 0;
  for (int trial = 0; trial < 300; trial++) {
    double th[4] = {log(0.1 + 2 * ur()), log(0.5 + 10 * ur()), log(0.3 + 3 * ur()), log(0.5 + 6 * ur())};
    if (trial == 0) th[2] = 0; /* a = 1 exactly */
    clv_bg_tables_fill(&t, th);
    int x = (int)(ur() * 8);
    double T = 1 + ur() * 50, h = ur() * 30;
    /* eq. 10 without P(alive), the series on its own parameters */
    double z = h / (t.alpha + T + h);
    double f = clv_hyp2f1(t.r + x, t.b + x, t.a + t.b + x - 1, z);
    double want = (t.a + t.b + x - 1) / (t.a - 1) * (1 - pow((t.alpha + T) / (t.alpha + T + h), t.r + x) * f);
    double got = clv_bg_expected(x, T, h, &t);
    if (trial == 0) {
      /* a = 1: the limit; compare with a = 1 ± 1e-6 */
      double thp[4] = {th[0], th[1], log(1 + 1e-6), th[3]}, thm[4] = {th[0], th[1], log(1 - 1e-6), th[3]};
      clv_bg_tables_fill(&t, thp);
      double ep = clv_bg_expected(x, T, h, &t);
      clv_bg_tables_fill(&t, thm);
      double em = clv_bg_expected(x, T, h, &t);
      CU_ASSERT(close_rel(got, 0.5 * (ep + em), 1e-6, 1e-12));
      continue;
    }
    if (!close_rel(got, want, 1e-9, 1e-12)) {
      bad++;
      printf("\nE x=%d T=%g h=%g: %.15g want %.15g\n", x, T, h, got, want);
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  /* a = 0 (no dropout: the NBD): P(alive) = 1 and E = (r+x) h / (α+T) */
  double th0[4] = {log(0.7), log(9.0), -INFINITY, 0}; /* b = 1: no 2F1 could take a + b + x - 1 = 0 */
  clv_bg_tables_fill(&t, th0);
  for (int x = 0; x < 40; x += 3) {
    CU_ASSERT_EQUAL(clv_bg_p_alive(x, 7 * x, 300, &t), 1.0);
    CU_ASSERT(close_rel(clv_bg_expected(x, 300 / 7.0, 52, &t), (0.7 + x) * 52 / (9 + 300 / 7.0), 1e-12, 0));
    double o[CLV_BG_TERMS];
    clv_bg_terms(x, 7 * x, 300, &t, o);
    long double want = lgammal(0.7L + x) - lgammal(0.7L) + 0.7L * logl(9.0L) - (0.7L + x) * logl(9.0L + 300 / 7.0L);
    CU_ASSERT(close_rel(o[0], (double)want, 1e-12, 1e-12));
    CU_ASSERT(o[3] == 0 && o[4] == 0 && o[12] == 0 && o[13] == 0 && o[14] == 0);
  }
  double th1[4] = {log(0.5), log(3.0), log(0.8), log(2.0)};
  clv_bg_tables_fill(&t, th1);
  /* no time, no purchases; more time, more purchases */
  CU_ASSERT_EQUAL(clv_bg_expected(3, 10, 0, &t), 0.0);
  CU_ASSERT(clv_bg_expected(3, 10, 20, &t) > clv_bg_expected(3, 10, 10, &t));
  clv_bg_tables_free(&t);
}

static void test_bg_accumulate(void) {
  enum { N = 4000 };
  const double unit = 7;
  clv_bg_tables t;
  CU_ASSERT_EQUAL_FATAL(clv_bg_tables_init(&t, 50, 300, unit), 0);
  double th[4] = {log(0.4), log(6.0), log(0.8), log(2.5)};
  clv_bg_tables_fill(&t, th);
  static int32_t x[N], txd[N], Td[N];
  static int64_t one[N], cnt[N];
  for (int i = 0; i < N; i++) {
    x[i] = ur() < 0.5 ? 0 : (int)(ur() * 6);
    Td[i] = 1 + (int)(ur() * 40);
    txd[i] = x[i] ? (int)(ur() * Td[i]) : 0;
    one[i] = 1;
  }
  /* one customer at a time, in long double, each term in 2^-63 units */
  fx_acc ref[CLV_BG_TERMS] = {0};
  for (int i = 0; i < N; i++) {
    double o[CLV_BG_TERMS];
    clv_bg_terms(x[i], txd[i], Td[i], &t, o);
    for (int k = 0; k < CLV_BG_TERMS; k++) ref[k] += fx_q63(o[k]);
  }
  int nt0 = omp_get_max_threads();
  for (int threads = 1; threads <= 3; threads++) {
    omp_set_num_threads(threads);
    fx_acc acc[CLV_BG_TERMS] = {0};
    int64_t bad = 0;
    clv_groups g = {N, x, txd, Td, one};
    clv_bg_accumulate(&g, &t, 1, acc, &bad);
    CU_ASSERT_EQUAL(bad, 0);
    for (int k = 0; k < CLV_BG_TERMS; k++) CU_ASSERT(acc[k] == ref[k]);
  }
  omp_set_num_threads(nt0);
  /* grouped by (x, t_x, T) with counts, and in another order: the same bits */
  static int32_t gx[N], gt[N], gT[N];
  int64_t ng = 0;
  for (int i = 0; i < N; i++) {
    int64_t j = 0;
    while (j < ng && !(gx[j] == x[i] && gt[j] == txd[i] && gT[j] == Td[i])) j++;
    if (j == ng) {
      gx[ng] = x[i];
      gt[ng] = txd[i];
      gT[ng] = Td[i];
      cnt[ng++] = 0;
    }
    cnt[j]++;
  }
  for (int64_t i = ng - 1; i > 0; i--) { /* shuffle the groups */
    int64_t j = (int64_t)(ur() * (double)(i + 1));
    int32_t a = gx[i]; gx[i] = gx[j]; gx[j] = a;
    a = gt[i]; gt[i] = gt[j]; gt[j] = a;
    a = gT[i]; gT[i] = gT[j]; gT[j] = a;
    int64_t c = cnt[i]; cnt[i] = cnt[j]; cnt[j] = c;
  }
  CU_ASSERT(ng < N / 2);
  fx_acc acc[CLV_BG_TERMS] = {0};
  int64_t bad = 0;
  clv_groups g = {ng, gx, gt, gT, cnt};
  clv_bg_accumulate(&g, &t, 1, acc, &bad);
  for (int k = 0; k < CLV_BG_TERMS; k++) CU_ASSERT(acc[k] == ref[k]);
  /* only the log-likelihood */
  fx_acc ll[CLV_BG_TERMS] = {0};
  clv_bg_accumulate(&g, &t, 0, ll, &bad);
  CU_ASSERT(ll[0] == ref[0] && ll[1] == 0);
  /* an overflowing point is reported, not summed silently */
  double th_bad[4] = {log(1e30), log(1e-30), 0, 0};
  clv_bg_tables_fill(&t, th_bad);
  fx_acc junk[CLV_BG_TERMS] = {0};
  bad = 0;
  clv_bg_accumulate(&g, &t, 1, junk, &bad);
  CU_ASSERT(bad > 0);
  clv_bg_tables_free(&t);
}

/* Gamma-Gamma ℓ of one customer, as DATA.md 8 writes it. */
static double gg_ll_direct(double p, double q, double g, int x, double m) {
  return lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * log(g) + (p * x - 1) * log(m) + p * x * log((double)x) -
         (p * x + q) * log(g + m * x);
}

static void gg_eval(const double th[3], const clv_gg_data *d, const int64_t *nx, int xmax, double out[CLV_GG_TERMS]) {
  fx_acc s[CLV_GG_SUMS] = {0}, c[2];
  int64_t bad = 0;
  clv_gg_accumulate(d, exp(th[2]), s, &bad);
  clv_gg_constants(d, c);
  double sums[CLV_GG_SUMS], consts[2];
  for (int k = 0; k < CLV_GG_SUMS; k++) sums[k] = fx_value63(s[k]);
  for (int k = 0; k < 2; k++) consts[k] = fx_value63(c[k]);
  clv_gg_terms(th, nx, xmax, sums, consts, out);
}

static void test_gg_terms(void) {
  enum { N = 500 };
  static int32_t x[N];
  static double m[N];
  int64_t nx[31] = {0};
  for (int i = 0; i < N; i++) {
    x[i] = 1 + (int)(ur() * 30);
    m[i] = 5 + 60 * ur() * ur();
    nx[x[i]]++;
  }
  clv_gg_data d = {N, x, m};
  int bad = 0;
  for (int trial = 0; trial < 20; trial++) {
    double th[3] = {log(0.5 + 8 * ur()), log(1.2 + 6 * ur()), log(2 + 30 * ur())};
    double o[CLV_GG_TERMS];
    gg_eval(th, &d, nx, 30, o);
    double want = 0;
    for (int i = 0; i < N; i++) want += gg_ll_direct(exp(th[0]), exp(th[1]), exp(th[2]), x[i], m[i]);
    bad += !close_rel(o[0], want, 1e-11, 0);
    int ix = 4;
    for (int i = 0; i < 3; i++) {
      double h = 1e-5, tp[3], tm[3], op[CLV_GG_TERMS], om[CLV_GG_TERMS];
      memcpy(tp, th, sizeof tp);
      memcpy(tm, th, sizeof tm);
      tp[i] += h;
      tm[i] -= h;
      gg_eval(tp, &d, nx, 30, op);
      gg_eval(tm, &d, nx, 30, om);
      bad += !close_rel(o[1 + i], (op[0] - om[0]) / (2 * h), 1e-6, 1e-5);
      for (int j = i; j < 3; j++) {
        double fd = (op[1 + j] - om[1 + j]) / (2 * h);
        if (!close_rel(o[ix], fd, 1e-5, 1e-4)) {
          bad++;
          printf("\nGG H%d%d %.12g fd %.12g\n", i, j, o[ix], fd);
        }
        ix++;
      }
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  /* expected value: a weighted mean of the population mean and m */
  double p = 6.25, q = 3.74, g = 15.44, pop = g * p / (q - 1);
  CU_ASSERT(close_rel(clv_gg_expected_value(0, 0, p, q, g), pop, 1e-15, 0));
  double w = p * 3 / (p * 3 + q - 1);
  CU_ASSERT(close_rel(clv_gg_expected_value(3, 50, p, q, g), (1 - w) * pop + w * 50, 1e-14, 0));
  CU_ASSERT(isnan(clv_gg_expected_value(3, 50, p, 0.9, g)));
}

static void test_summarize(void) {
  /* user 7: days 10 (2 lines), 12, 12, 30 (holdout), 31 (holdout), 40 (after
     as_of), an invalid line on 11; user 8: only after cal_end; user 9:
     one day */
  const int64_t uid[] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 9};
  const int32_t day[] = {12, 10, 30, 11, 10, 12, 31, 40, 31, 25, 5};
  const double amt[] = {1.5, 2, 9, 100, 3, 0.25, 4, 50, 1, 7, 2.125};
  const uint8_t fl[] = {1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1};
  const int64_t starts[] = {0, 9, 10, 11};
  clv_lines in = {11, uid, day, amt, fl};
  int32_t x[3], tx[3], T[3], f[3], h[3];
  int64_t rep[3], rd[40] = {0}, fd[40] = {0};
  clv_summary o = {x, tx, T, f, rep, h};
  CU_ASSERT_EQUAL(clv_summarize(&in, starts, 3, 20, 35, &o, 0, 40, rd, fd), 0);
  CU_ASSERT_EQUAL(x[0], 1);
  CU_ASSERT_EQUAL(tx[0], 2);
  CU_ASSERT_EQUAL(T[0], 11);
  CU_ASSERT_EQUAL(f[0], 10);
  CU_ASSERT_EQUAL(rep[0], 1750000);
  CU_ASSERT_EQUAL(h[0], 2);
  CU_ASSERT_EQUAL(x[1], -1);
  CU_ASSERT_EQUAL(x[2], 0);
  CU_ASSERT_EQUAL(T[2], 16);
  CU_ASSERT_EQUAL(h[2], 0);
  CU_ASSERT(rd[12] == 1 && rd[30] == 1 && rd[31] == 1 && rd[10] == 0 && rd[5] == 0);
  CU_ASSERT(fd[10] == 1 && fd[5] == 1 && fd[25] == 0);
}

/* ---- Newton ---------------------------------------------------------------- */

typedef struct {
  int kind;
  long calls;
  long stop_at;
} nt_ctx;

static int f_eval(void *vc, const double *th, nt_eval *e) {
  nt_ctx *c = vc;
  c->calls++;
  memset(e, 0, sizeof *e);
  e->ok = 1;
  double x = th[0], y = th[1];
  if (c->kind == 0) { /* concave quadratic, maximum at (1, -2) */
    e->f = -(x - 1) * (x - 1) - 3 * (y + 2) * (y + 2) - (x - 1) * (y + 2);
    e->g[0] = -2 * (x - 1) - (y + 2);
    e->g[1] = -6 * (y + 2) - (x - 1);
    e->h[0] = -2, e->h[1] = -1, e->h[2] = -6;
  } else if (c->kind == 1) { /* f = -(x²-1)² - y²: a saddle at the origin, maxima at x = ±1 */
    e->f = -(x * x - 1) * (x * x - 1) - y * y;
    e->g[0] = -4 * x * (x * x - 1);
    e->g[1] = -2 * y;
    e->h[0] = -12 * x * x + 4, e->h[1] = 0, e->h[2] = -2;
  } else if (c->kind == 3) {
    /* a flat maximum at (1, 0) whose value carries rounding noise of 1e-9
       near it, far above the last steps' gains: only the gradient can tell */
    double noise = fabs(x - 1) < 1e-6 ? 1e-9 : 0;
    e->f = 1e6 - 1e-3 * (x - 1) * (x - 1) - y * y - noise;
    e->g[0] = -2e-3 * (x - 1);
    e->g[1] = -2 * y;
    e->h[0] = -2e-3, e->h[1] = 0, e->h[2] = -2;
  } else { /* f = -exp(-x) - y²: the supremum is at x = +inf */
    e->f = -exp(-x) - y * y;
    e->g[0] = exp(-x);
    e->g[1] = -2 * y;
    e->h[0] = -exp(-x), e->h[1] = 0, e->h[2] = -2;
  }
  return 0;
}

static int f_hook(void *vc, const nt_state *st) {
  nt_ctx *c = vc;
  return st->steps == c->stop_at ? 99 : 0;
}

static void test_newton(void) {
  nt_ctx c = {0, 0, -1};
  nt_problem p = {2, 1e-12, 30, 5, 200, f_eval, f_hook, &c};
  nt_state st;
  double th0[2] = {4, 3};
  nt_start(&st, 2, th0);
  CU_ASSERT_EQUAL(nt_maximize(&p, &st), 0);
  CU_ASSERT_EQUAL(st.status, NT_CONVERGED);
  CU_ASSERT(fabs(st.th[0] - 1) < 1e-12 && fabs(st.th[1] + 2) < 1e-12);
  CU_ASSERT_EQUAL(st.steps, 1);
  CU_ASSERT_EQUAL(st.newton_steps, 1);
  CU_ASSERT_EQUAL(st.evals, 2);
  CU_ASSERT_EQUAL(c.calls, 2);

  /* from x = 0.1 the Hessian is not negative definite: gradient steps first */
  c.kind = 1;
  double th1[2] = {0.1, 0.5};
  nt_start(&st, 2, th1);
  CU_ASSERT_EQUAL(nt_maximize(&p, &st), 0);
  CU_ASSERT_EQUAL(st.status, NT_CONVERGED);
  CU_ASSERT(fabs(st.th[0] - 1) < 1e-9 && fabs(st.th[1]) < 1e-9);
  CU_ASSERT(st.gradient_steps >= 1 && st.newton_steps >= 1);
  nt_state full = st;

  /* stopped by the hook after step 2, resumed from that state: same path */
  c.stop_at = 2;
  nt_start(&st, 2, th1);
  CU_ASSERT_EQUAL(nt_maximize(&p, &st), 99);
  CU_ASSERT_EQUAL(st.steps, 2);
  nt_state saved;
  nt_start(&saved, 2, st.th);
  saved.evals = st.evals;
  saved.steps = st.steps;
  saved.newton_steps = st.newton_steps;
  saved.gradient_steps = st.gradient_steps;
  c.stop_at = -1;
  CU_ASSERT_EQUAL(nt_maximize(&p, &saved), 0);
  CU_ASSERT(memcmp(saved.th, full.th, sizeof full.th) == 0);
  CU_ASSERT(saved.evals == full.evals && saved.steps == full.steps && saved.newton_steps == full.newton_steps);
  CU_ASSERT(saved.at.f == full.at.f);

  /* a noisy flat maximum: the step to it is taken though f does not rise */
  c.kind = 3;
  double th3[2] = {1 + 3e-4, 0};
  nt_start(&st, 2, th3);
  CU_ASSERT_EQUAL(nt_maximize(&p, &st), 0);
  CU_ASSERT_EQUAL(st.status, NT_CONVERGED);
  CU_ASSERT(fabs(st.th[0] - 1) < 1e-9);

  /* no finite maximum: the fit stops at the bound (the gradient there,
     e^-30, is still above this tolerance) */
  c.kind = 2;
  p.tol = 1e-15;
  double th2[2] = {0, 1};
  nt_start(&st, 2, th2);
  CU_ASSERT_EQUAL(nt_maximize(&p, &st), 0);
  CU_ASSERT_EQUAL(st.status, NT_AT_BOUND);
  CU_ASSERT_EQUAL(st.th[0], 30.0);

  /* Cholesky: a matrix that is not negative definite is refused */
  double h_bad[3] = {-1, 2, -1}, g[2] = {1, 1}, d[2];
  CU_ASSERT_EQUAL(nt_newton_dir(h_bad, g, 2, d), -1);
  double h_ok[3] = {-2, 0.5, -1};
  CU_ASSERT_EQUAL(nt_newton_dir(h_ok, g, 2, d), 0);
  CU_ASSERT(fabs(2 * d[0] - 0.5 * d[1] - 1) < 1e-15 && fabs(-0.5 * d[0] + d[1] - 1) < 1e-15);
}

/* fmt_g10 against printf's %.10g: the same text (-0 as 0), ties and the
 * values one ulp off a decimal half included (the exact rounding is
 * kernels/numtext.c's, tested at length in unit_numtext). Before it, a
 * scaling in double arithmetic wrote 217.9589062 for m_x = 13949.37 / 64,
 * printf 217.9589063 (the double is just above the half). */
static void test_fmt(void) {
  int differ = 0;
  char a[64], b[64];
  static const double fixed[] = {0, 1, -1, 0.5, 1e-4, 9.99999999999e-5, 1e10, 9999999999.6, 123456789.0, 0.1, 1.5e-7,
                                 -2.25e15, 38.14285714285714, 1e-30, 3e30, 7.0 / 3, 100, 1234567890123.0,
                                 13949.37 / 64, 0.3125e-3, 1e-320, -0.0};
  for (int i = 0; i < 200000; i++) {
    double v = i < (int)(sizeof fixed / sizeof fixed[0]) ? fixed[i] : (ur() - 0.3) * pow(10, (int)(ur() * 44) - 22);
    if (i % 5 == 0) v = rint(v); /* integers and round numbers */
    if (i % 7 == 0) v = (double)(int64_t)(ur() * 1e12) / 1e6 / (1 + (int)(ur() * 100)); /* m_x's quotients */
    *fmt_g10(a, v) = 0;
    snprintf(b, sizeof b, "%.10g", v == 0 ? 0.0 : v); /* -0 is written 0 */
    if (strcmp(a, b) && differ++ < 5) printf("\nfmt_g10(%.17g) = %s, printf %s\n", v, a, b);
  }
  CU_ASSERT_EQUAL(differ, 0);
  *fmt_g10(a, NAN) = 0;
  CU_ASSERT_STRING_EQUAL(a, "");
  *fmt_g10(a, INFINITY) = 0;
  CU_ASSERT_STRING_EQUAL(a, "");
  *fmt_i64(a, INT64_MIN) = 0;
  CU_ASSERT_STRING_EQUAL(a, "-9223372036854775808");
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("clv kernels", NULL, NULL);
  CU_add_test(s, "digamma and trigamma", test_polygamma);
  CU_add_test(s, "2F1 against closed forms", test_hyp2f1);
  CU_add_test(s, "BG/NBD log-likelihood, P(alive), gradient and Hessian", test_bg_terms);
  CU_add_test(s, "BG/NBD conditional expectation against eq. 10", test_bg_expected);
  CU_add_test(s, "BG/NBD sums: grouped, shuffled, threads", test_bg_accumulate);
  CU_add_test(s, "Gamma-Gamma terms", test_gg_terms);
  CU_add_test(s, "customer summaries", test_summarize);
  CU_add_test(s, "Newton with line search", test_newton);
  CU_add_test(s, "fmt_g10 against printf", test_fmt);
}
