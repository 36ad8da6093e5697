/* numtext.c: printf-exact number text without printf (see numtext.h).
 *
 * A conversion needs one integer: the exact value a * 10^k rounded to
 * nearest, ties to even (a > 0, k chosen so that the integer has the
 * digits printed). For 0 <= k <= 22, 10^k is a double, so the product is
 * p + err exactly (err from one fma); rounding p gives the answer except
 * when p sits exactly on a half, where err's sign decides (and err = 0 is a
 * true tie). For k < 0 and a < 2^63 the integer part of a is divided by
 * 10^-k in uint64 arithmetic, the fraction of a breaking an exact half.
 * The decimal exponent is first guessed from the binary one and then
 * corrected from the rounded integer itself (9.9999999996 with 9 digits
 * rounds to 1.00000000e+01), which is how printf defines it. Digits go out
 * two at a time from a table. Anything else goes to snprintf.
 */
#include "numtext.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                               "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                               "8081828384858687888990919293949596979899";

static const double p10d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t p10u[20] = {1ull,
                                  10ull,
                                  100ull,
                                  1000ull,
                                  10000ull,
                                  100000ull,
                                  1000000ull,
                                  10000000ull,
                                  100000000ull,
                                  1000000000ull,
                                  10000000000ull,
                                  100000000000ull,
                                  1000000000000ull,
                                  10000000000000ull,
                                  100000000000000ull,
                                  1000000000000000ull,
                                  10000000000000000ull,
                                  100000000000000000ull,
                                  1000000000000000000ull,
                                  10000000000000000000ull};

/* Exactly nd digits of v (v < 10^nd, leading zeros kept) at p. */
static inline void put_digits(char *p, uint64_t v, int nd) {
  int i = nd;
  while (i >= 2) {
    uint64_t q = v / 100;
    i -= 2;
    memcpy(p + i, pairs + 2 * (v - 100 * q), 2);
    v = q;
  }
  if (i) p[0] = (char)('0' + v);
}

/* Decimal digits of v: from its bit length (1233 / 4096 ~ log10 2), then
 * one comparison. */
static inline int ndigits(uint64_t v) {
  int bits = 64 - __builtin_clzll(v | 1);
  int n = ((bits * 1233) >> 12) + 1; /* digits of 2^(bits-1), or one short */
  return n - (n > 1 && v < p10u[n - 1]) + (n < 20 && v >= p10u[n]);
}

char *numtext_u64(char *p, uint64_t v) {
  int n = ndigits(v);
  put_digits(p, v, n);
  return p + n;
}

char *numtext_i64(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return numtext_u64(p, (uint64_t)0 - (uint64_t)v);
  }
  return numtext_u64(p, (uint64_t)v);
}

/* The nearest integer to a * 10^k (a > 0 finite), ties to even, into *m;
 * 0 when that cannot be done exactly here (the result must stay below
 * 2^52 for k >= 0; k >= -19 and a < 2^63 for k < 0). */
static int round_scaled(double a, int k, uint64_t *m) {
  if (k >= 0) {
    if (k > 22) return 0;
    double P = p10d[k], p = a * P;
    if (!(p < 0x1p52)) return 0;
    double err = fma(a, P, -p); /* a * P = p + err exactly */
    double r = nearbyint(p), d = p - r; /* exact: |d| <= 1/2, a multiple of p's ulp */
    uint64_t q = (uint64_t)r;
    /* |d| < 1/2 means |d| <= 1/2 - ulp(p) and |err| <= ulp(p) / 2: r stands */
    if (d == 0.5 && err > 0) q++;
    else if (d == -0.5 && err < 0) q--;
    *m = q;
    return 1;
  }
  if (k < -19 || !(a < 0x1p63)) return 0;
  uint64_t ip = (uint64_t)a, D = p10u[-k];
  double frac = a - (double)ip; /* exact */
  uint64_t q = ip / D, rem = ip - q * D, half = D / 2;
  if (rem > half || (rem == half && (frac > 0 || (q & 1)))) q++;
  *m = q;
  return 1;
}

/* nd significant digits of a > 0 (1 <= nd <= 15): *m in [10^(nd-1), 10^nd)
 * with a = m * 10^(e - nd + 1) rounded as printf's %e rounds; 0 when the
 * fast path cannot do it. */
static int sig_digits(double a, int nd, uint64_t *m, int *e) {
  if (!(a >= 1e-300)) return 0; /* subnormals and tiny: snprintf */
  int b;
  frexp(a, &b);                  /* a in [2^(b-1), 2^b) */
  int x = ((b - 1) * 1233) >> 12; /* about floor(log10 a); corrected below */
  uint64_t q;
  for (int tries = 0; tries < 4; tries++) {
    if (!round_scaled(a, nd - 1 - x, &q)) return 0;
    if (q >= p10u[nd]) x++;
    else if (q < p10u[nd - 1]) x--;
    else {
      *m = q;
      *e = x;
      return 1;
    }
  }
  return 0;
}

static char *fallback(char *p, const char *fmt, int prec, double v) {
  char tmp[NUMTEXT_MAX + 8];
  int n = snprintf(tmp, sizeof tmp, fmt, prec, v);
  if (n < 0) n = 0;
  if (n > NUMTEXT_MAX) n = NUMTEXT_MAX;
  memcpy(p, tmp, (size_t)n);
  return p + n;
}

char *numtext_f(char *p, double v, int prec) {
  if (!isfinite(v) || prec < 0 || prec > 17) return fallback(p, "%.*f", prec, v);
  double a = fabs(v);
  uint64_t q = 0;
  if (a != 0 && !round_scaled(a, prec, &q)) return fallback(p, "%.*f", prec, v);
  if (signbit(v)) *p++ = '-'; /* printf keeps the sign of -0 and of what rounds to 0 */
  uint64_t ip = q / p10u[prec], fp = q - ip * p10u[prec];
  p = numtext_u64(p, ip);
  if (prec > 0) {
    *p++ = '.';
    put_digits(p, fp, prec);
    p += prec;
  }
  return p;
}

static char *put_exp(char *p, int x, int upper) {
  *p++ = upper ? 'E' : 'e';
  *p++ = x < 0 ? '-' : '+';
  int ax = x < 0 ? -x : x;
  if (ax >= 100) {
    *p++ = (char)('0' + ax / 100);
    ax %= 100;
  }
  memcpy(p, pairs + 2 * ax, 2);
  return p + 2;
}

char *numtext_e(char *p, double v, int prec, int upper) {
  const char *fmt = upper ? "%.*E" : "%.*e";
  if (!isfinite(v) || prec < 0 || prec > 14) return fallback(p, fmt, prec, v);
  double a = fabs(v);
  uint64_t m = 0;
  int x = 0;
  if (a != 0 && !sig_digits(a, prec + 1, &m, &x)) return fallback(p, fmt, prec, v);
  if (signbit(v)) *p++ = '-';
  char d[16];
  put_digits(d, m, prec + 1); /* m = 0 for zero: all '0' */
  *p++ = d[0];
  if (prec > 0) {
    *p++ = '.';
    memcpy(p, d + 1, (size_t)prec);
    p += prec;
  }
  return put_exp(p, x, upper);
}

char *numtext_g(char *p, double v, int prec) {
  if (prec == 0) prec = 1;
  if (!isfinite(v) || prec < 1 || prec > 15) return fallback(p, "%.*g", prec, v);
  double a = fabs(v);
  if (a == 0) {
    if (signbit(v)) *p++ = '-';
    *p++ = '0';
    return p;
  }
  uint64_t m;
  int x;
  if (!sig_digits(a, prec, &m, &x)) return fallback(p, "%.*g", prec, v);
  if (v < 0) *p++ = '-';
  char d[16];
  put_digits(d, m, prec);
  int nd = prec; /* trailing zeros go (no '#' flag) */
  while (nd > 1 && d[nd - 1] == '0') nd--;
  if (x < -4 || x >= prec) {
    *p++ = d[0];
    if (nd > 1) {
      *p++ = '.';
      memcpy(p, d + 1, (size_t)nd - 1);
      p += nd - 1;
    }
    return put_exp(p, x, 0);
  }
  if (x >= 0) { /* x + 1 integer digits, all among the prec digits */
    memcpy(p, d, (size_t)x + 1);
    p += x + 1;
    if (nd > x + 1) {
      *p++ = '.';
      memcpy(p, d + x + 1, (size_t)(nd - x - 1));
      p += nd - x - 1;
    }
    return p;
  }
  *p++ = '0';
  *p++ = '.';
  for (int i = 0; i < -x - 1; i++) *p++ = '0';
  memcpy(p, d, (size_t)nd);
  return p + nd;
}
