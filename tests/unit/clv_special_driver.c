/* clv_special_driver.c: the lifetime-value special functions on the
 * command line, for tests/ref/clv_special_ref.py to compare with mpmath.
 *
 * Reads lines from stdin and prints one value per line (%.17g):
 *   psi X                      ψ(X)
 *   psi1 X                     ψ'(X)
 *   hyp A B C Z                2F1(A, B; C; Z) (series)
 *   bgE R ALPHA A B X T H      BG/NBD expected purchases in H units of a
 *                              customer alive with x = X, T = T units
 */
#include <stdio.h>
#include <string.h>
#include <math.h>

#include "clv.h"

int main(void) {
  char line[512];
  clv_bg_tables t;
  if (clv_bg_tables_init(&t, 0, 0, 1)) return 2;
  while (fgets(line, sizeof line, stdin)) {
    char fn[16];
    double v[7];
    int n = sscanf(line, "%15s %lf %lf %lf %lf %lf %lf %lf", fn, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
    double out = NAN;
    if (n == 2 && !strcmp(fn, "psi")) out = clv_digamma(v[0]);
    else if (n == 2 && !strcmp(fn, "psi1")) out = clv_trigamma(v[0]);
    else if (n == 5 && !strcmp(fn, "hyp")) out = clv_hyp2f1(v[0], v[1], v[2], v[3]);
    else if (n == 8 && !strcmp(fn, "bgE")) {
      double th[4] = {log(v[0]), log(v[1]), log(v[2]), log(v[3])};
      clv_bg_tables_fill(&t, th);
      out = clv_bg_expected((int32_t)v[4], v[5], v[6], &t);
    } else {
      fprintf(stderr, "clv_special_driver: cannot read '%s'\n", line);
      return 2;
    }
    printf("%.17g\n", out);
  }
  clv_bg_tables_free(&t);
  return 0;
}
