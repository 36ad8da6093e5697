/* bench_numtext.c: single-thread cost per number of kernels/numtext.c,
 * beside snprintf with the same format (what the outputs used before).
 *
 * Values like those of the outputs: forecast.csv's predicted demand
 * (%.9g, log-uniform 1e-3 .. 1e4), gbdt_model.json's floats (%.8E, split
 * conditions, gains and hessians, 1e-6 .. 1e7, either sign), reorder
 * points (%.4f, 0 .. 1e4), clv.csv's %.10g and the integers (%lld).
 * ns per number of the thread's CPU time, best of three; both sides sum
 * the bytes written, printed, so a mismatch in length shows.
 *
 * Usage: bench_numtext [millions of numbers, default 2]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "numtext.h"

enum { G9, E8, F4, G10, I64 };
static const char *const names[] = {"%.9g  (forecast.csv)", "%.8E  (gbdt_model.json)", "%.4f  (forecast.csv)",
                                    "%.10g (clv.csv)", "%lld  (ids, counts)"};

static double value(uint64_t *s, int kind) {
  double u = (double)(rng_next(s) >> 11) * 0x1p-53;
  switch (kind) {
    case G9: return pow(10, -3 + 7 * u);
    case E8: return (double)(float)((rng_next(s) & 1 ? -1 : 1) * pow(10, -6 + 13 * u));
    case F4: return 1e4 * u;
    case G10: return pow(10, -4 + 10 * u);
    default: return (double)(rng_next(s) >> (rng_next(s) % 50));
  }
}

int main(int argc, char **argv) {
  long n = (long)((argc > 1 ? atof(argv[1]) : 2) * 1e6);
  double *v = malloc((size_t)n * sizeof *v);
  char *out = malloc(NUMTEXT_MAX + 64);
  if (!v || !out) return 1;
  printf("%-26s %10s %10s %8s\n", "format", "numtext ns", "snprintf ns", "speedup");
  for (int k = G9; k <= I64; k++) {
    uint64_t s = 42 + (uint64_t)k;
    for (long i = 0; i < n; i++) v[i] = value(&s, k);
    double best[2] = {1e30, 1e30};
    size_t bytes[2] = {0, 0};
    for (int rep = 0; rep < 3; rep++) {
      for (int side = 0; side < 2; side++) {
        size_t b = 0;
        double t = now_s();
        for (long i = 0; i < n; i++) {
          if (side == 0) {
            char *e = k == G9    ? numtext_g(out, v[i], 9)
                      : k == E8  ? numtext_e(out, v[i], 8, 1)
                      : k == F4  ? numtext_f(out, v[i], 4)
                      : k == G10 ? numtext_g(out, v[i], 10)
                                 : numtext_i64(out, (int64_t)v[i]);
            b += (size_t)(e - out);
          } else {
            b += (size_t)(k == G9    ? snprintf(out, 64, "%.9g", v[i])
                          : k == E8  ? snprintf(out, 64, "%.8E", v[i])
                          : k == F4  ? snprintf(out, 64, "%.4f", v[i])
                          : k == G10 ? snprintf(out, 64, "%.10g", v[i])
                                     : snprintf(out, 64, "%lld", (long long)(int64_t)v[i]));
          }
        }
        t = now_s() - t;
        if (t < best[side]) best[side] = t;
        bytes[side] = b;
      }
    }
    printf("%-26s %10.1f %10.1f %7.1fx%s\n", names[k], 1e9 * best[0] / (double)n, 1e9 * best[1] / (double)n,
           best[1] / best[0], bytes[0] == bytes[1] ? "" : "  (lengths differ!)");
  }
  free(v);
  free(out);
  return 0;
}
