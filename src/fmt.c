/* fmt.c: number cells of the big CSV outputs (fmt.h).
 *
 * Both are kernels/numtext.c's conversions: printf's bytes exactly (the
 * scaled-and-rounded digits there are exact, ties included), at 20-30 ns
 * a number against 200 ns for snprintf's %.10g. An empty cell stands for a
 * value that is not finite.
 */
#include "fmt.h"

#include <math.h>

#include "numtext.h"

char *fmt_i64(char *p, int64_t v) { return numtext_i64(p, v); }

char *fmt_g10(char *p, double v) {
  if (!isfinite(v)) return p;
  return numtext_g(p, v == 0 ? 0.0 : v, 10);
}
