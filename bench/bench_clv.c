/* bench_clv.c: the lifetime-value kernels on one thread.
 *
 * Times, best of five on synthetic customers shaped like the 1M-user
 * generated set (x mostly 0-10 with a long tail, T and t_x up to a year of
 * days), per customer or group:
 *   - clv_bg_accumulate: BG/NBD log-likelihood, gradient and Hessian, 15
 *     fixed-point terms (an evaluation of the fit), and the log-likelihood
 *     alone;
 *   - clv_bg_tables_fill: the per-evaluation tables (per call);
 *   - clv_gg_accumulate: Gamma-Gamma's 6 per-customer sums;
 *   - clv_bg_expected: the conditional expectation (one 2F1 series);
 *   - fmt_g10 against snprintf("%.10g"), the clv.csv number formatter.
 *
 * Usage: bench_clv [customers]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "clv.h"
#include "fmt.h"

#define BEST(var, reps, body)                 \
  do {                                        \
    var = 1e30;                               \
    for (int rep_ = 0; rep_ < (reps); rep_++) { \
      double t_ = now_s();                    \
      body;                                   \
      t_ = now_s() - t_;                      \
      var = t_ < var ? t_ : var;              \
    }                                         \
  } while (0)

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 500000;
  int32_t *x = malloc(sizeof *x * (size_t)n), *tx = malloc(sizeof *tx * (size_t)n), *T = malloc(sizeof *T * (size_t)n);
  int64_t *cnt = malloc(sizeof *cnt * (size_t)n);
  double *m = malloc(sizeof *m * (size_t)n);
  char *buf = malloc(32 * (size_t)n);
  if (!x || !tx || !T || !cnt || !m || !buf) return 1;
  uint64_t s = 16;
  int xmax = 0;
  for (int64_t i = 0; i < n; i++) {
    double u = (double)(rng_next(&s) >> 11) * 0x1p-53;
    x[i] = u < 0.5 ? 0 : (int)(-4 * log(1 - u) * 2);
    if (x[i] > 300) x[i] = 300;
    xmax = x[i] > xmax ? x[i] : xmax;
    T[i] = 1 + (int32_t)(rng_next(&s) % 365);
    tx[i] = x[i] ? (int32_t)(rng_next(&s) % (uint64_t)T[i]) : 0;
    cnt[i] = 1;
    m[i] = 5 + (double)(rng_next(&s) % 20000) / 100;
  }
  clv_bg_tables t;
  if (clv_bg_tables_init(&t, xmax, 365, 7)) return 1;
  double th[4] = {log(0.3), log(1.4), log(0.7), log(3.3)};
  clv_groups g = {n, x, tx, T, cnt};
  double tf, ta, tl, tg, te, tfmt, tsn;
  BEST(tf, 5, clv_bg_tables_fill(&t, th));
  fx_acc acc[CLV_BG_TERMS];
  int64_t bad = 0;
  BEST(ta, 5, clv_bg_accumulate(&g, &t, 1, acc, &bad));
  BEST(tl, 5, clv_bg_accumulate(&g, &t, 0, acc, &bad));
  clv_gg_data gd = {n, x, m};
  fx_acc gacc[CLV_GG_SUMS];
  BEST(tg, 5, clv_gg_accumulate(&gd, 3500, gacc, &bad));
  int64_t ne = n / 20;
  volatile double sink = 0;
  BEST(te, 3, for (int64_t i = 0; i < ne; i++) sink += clv_bg_expected(x[i], T[i] / 7.0, 365 / 7.0, &t));
  BEST(tfmt, 5, {
    char *p = buf;
    for (int64_t i = 0; i < n; i++) p = fmt_g10(p, m[i] * 1.2345678);
  });
  BEST(tsn, 3, {
    char *p = buf;
    for (int64_t i = 0; i < n; i++) p += snprintf(p, 32, "%.10g", m[i] * 1.2345678);
  });
  printf("%lld customers (x up to %d), one thread, best of 5\n", (long long)n, xmax);
  printf("  tables for one evaluation           %8.1f us a call\n", 1e6 * tf);
  printf("  BG/NBD terms + fixed-point sums      %8.1f ns a customer (15 terms)\n", 1e9 * ta / (double)n);
  printf("  BG/NBD log-likelihood alone          %8.1f ns a customer\n", 1e9 * tl / (double)n);
  printf("  Gamma-Gamma sums                     %8.1f ns a customer (6 terms)\n", 1e9 * tg / (double)n);
  printf("  conditional expectation (2F1)        %8.1f ns a call\n", 1e9 * te / (double)ne);
  printf("  fmt_g10                              %8.1f ns a number (snprintf %%.10g: %.1f ns)\n", 1e9 * tfmt / (double)n,
         1e9 * tsn / (double)n);
  return sink == 12345 ? 2 : 0;
}
