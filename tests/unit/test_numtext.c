/* test_numtext.c: unit tests of kernels/numtext.c against snprintf.
 *
 * Every function must give snprintf's bytes for every double, so each is
 * compared with snprintf on the same value and format:
 *   - the formats the outputs use (%.9g, %.8E, %.4f, %.6f, %.2f, %.10g)
 *     and others around the fast path's limits (%.0f, %.17f, %.0e, %.14E,
 *     %.16e, %.1g, %.15g, %.17g);
 *   - values: random bit patterns (every exponent: subnormals, NaN,
 *     infinities), random floats widened to double (gbdt_model.json's
 *     values), log-uniform magnitudes 1e-25 .. 1e25, integers and exact
 *     halves n/2^j scaled by powers of ten (the ties of every rounding
 *     position), powers of ten and their neighbours one ulp away, values
 *     one ulp around the roundings up to the next power of ten
 *     (9.9999999995 and its kind), and 0, -0, NaN, infinities, DBL_MIN,
 *     the smallest subnormal and DBL_MAX;
 *   - integers: random, 10^k - 1 .. 10^k, INT64_MIN / INT64_MAX, UINT64_MAX.
 * NUMTEXT_TEST_N sets the number of random values (default 30,000 per
 * kind, each in every format; e.g. NUMTEXT_TEST_N=20000000 for a long run).
 */
#include <CUnit/CUnit.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"
#include "test_rng.h"

typedef struct {
  char kind; /* 'f', 'e', 'E', 'g' */
  int prec;
} fmt_case;

static const fmt_case cases[] = {{'g', 9},  {'E', 8},  {'f', 4},  {'f', 6},  {'f', 2},  {'g', 10}, {'f', 0},
                                 {'f', 17}, {'e', 0},  {'E', 14}, {'e', 16}, {'g', 1},  {'g', 15}, {'g', 17},
                                 {'g', 0},  {'e', 8},  {'f', 9},  {'g', 6}};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static long checked, mismatched;

static void check(double v, const fmt_case *c) {
  char want[512], got[NUMTEXT_MAX + 16];
  char *end;
  switch (c->kind) {
    case 'f':
      snprintf(want, sizeof want, "%.*f", c->prec, v);
      end = numtext_f(got, v, c->prec);
      break;
    case 'e':
      snprintf(want, sizeof want, "%.*e", c->prec, v);
      end = numtext_e(got, v, c->prec, 0);
      break;
    case 'E':
      snprintf(want, sizeof want, "%.*E", c->prec, v);
      end = numtext_e(got, v, c->prec, 1);
      break;
    default:
      snprintf(want, sizeof want, "%.*g", c->prec, v);
      end = numtext_g(got, v, c->prec);
      break;
  }
  *end = 0;
  checked++;
  if (strcmp(want, got)) {
    if (mismatched++ < 10) printf("\n%%.%d%c of %a (%.17g): numtext \"%s\", snprintf \"%s\"", c->prec, c->kind, v, v, got, want);
  }
}

static void check_all(double v) {
  for (int i = 0; i < NCASES; i++) check(v, &cases[i]);
}

static long test_n(void) {
  const char *e = getenv("NUMTEXT_TEST_N");
  long n = e ? atol(e) : 0;
  return n > 0 ? n : 30000;
}

static double from_bits(uint64_t b) {
  double v;
  memcpy(&v, &b, sizeof v);
  return v;
}

static void test_edges(void) {
  mismatched = 0;
  const double fixed[] = {0.0,         -0.0,     NAN,      -NAN,    INFINITY, -INFINITY, DBL_MIN, -DBL_MIN,
                          DBL_TRUE_MIN, DBL_MAX, -DBL_MAX, 1,       -1,       0.5,       1.5,     2.5,
                          0.125,       0.05,     0.15,     0.25,    0.35,     1e-4,      1e-5,    9.9999999995,
                          99999.99995, 1e15,     1e16,     1e17,    0x1p52,   0x1p53,    0x1p63,  0x1p64,
                          1e22,        1e23,     1e-14,    1e-15,   1e-22,    1e-23,     123456789.5,
                          9999999999.6, 4.35,    2.675,    1.005,   0.1 + 0.2, 1e300,    1e-300};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    check_all(fixed[i]);
    check_all(-fixed[i]);
  }
  /* powers of ten and one ulp either side */
  for (int k = -320; k <= 308; k++) {
    double p = pow(10, k);
    check_all(p);
    check_all(nextafter(p, 0));
    check_all(nextafter(p, INFINITY));
  }
  /* where rounding to d digits carries into the next power of ten:
     (10^d - 1/2) * 10^(k-d), and one ulp either side */
  for (int d = 1; d <= 17; d++)
    for (int k = -16; k <= 20; k++) {
      double v = (pow(10, d) - 0.5) * pow(10, k - d);
      check_all(v);
      check_all(nextafter(v, 0));
      check_all(nextafter(v, INFINITY));
    }
  CU_ASSERT_EQUAL(mismatched, 0);
}

static void test_ties(void) {
  mismatched = 0;
  rng r = {11};
  long n = test_n();
  for (long i = 0; i < n; i++) {
    /* an exact binary fraction n / 2^j (ties at every decimal position
       they reach), times a power of ten that keeps it exact or nearly */
    uint64_t m = rng_next(&r) >> (11 + rng_below(&r, 50));
    int j = (int)rng_below(&r, 12);
    double v = ldexp((double)m, -j);
    if (rng_below(&r, 3) == 0) v *= pow(10, (int)rng_below(&r, 12));
    if (rng_below(&r, 2)) v = -v;
    check_all(v);
    check_all(nextafter(v, 0));
    check_all(nextafter(v, INFINITY));
  }
  CU_ASSERT_EQUAL(mismatched, 0);
}

static void test_random(void) {
  mismatched = 0;
  rng r = {7};
  long n = test_n();
  for (long i = 0; i < n; i++) {
    check_all(from_bits(rng_next(&r))); /* any double */
    uint32_t fb = (uint32_t)rng_next(&r);
    float f;
    memcpy(&f, &fb, sizeof f);
    check_all((double)f); /* a float, as gbdt_model.json writes them */
    double u = (double)(rng_next(&r) >> 11) * 0x1p-53;
    check_all((rng_below(&r, 2) ? -1 : 1) * (1 + u) * pow(10, (int)rng_below(&r, 51) - 25));
  }
  printf(" (%ld conversions)", checked);
  CU_ASSERT_EQUAL(mismatched, 0);
}

static void test_integers(void) {
  char want[32], got[32];
  int bad = 0;
  rng r = {3};
  int64_t fixed[] = {0, 1, -1, 9, 10, 99, 100, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
  for (int i = 0; i < 200000 + 11; i++) {
    int64_t v = i < 11 ? fixed[i] : (int64_t)(rng_next(&r) >> rng_below(&r, 64));
    if (i >= 11 && i % 2) v = -v;
    snprintf(want, sizeof want, "%lld", (long long)v);
    *numtext_i64(got, v) = 0;
    bad += strcmp(want, got) != 0;
  }
  for (int k = 0; k < 20; k++) {
    uint64_t p = 1;
    for (int j = 0; j < k; j++) p *= 10;
    for (uint64_t v = p - 1; v <= p + 1; v++) {
      snprintf(want, sizeof want, "%llu", (unsigned long long)v);
      *numtext_u64(got, v) = 0;
      bad += strcmp(want, got) != 0;
    }
  }
  snprintf(want, sizeof want, "%llu", (unsigned long long)UINT64_MAX);
  *numtext_u64(got, UINT64_MAX) = 0;
  bad += strcmp(want, got) != 0;
  CU_ASSERT_EQUAL(bad, 0);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("numtext against snprintf", NULL, NULL);
  CU_add_test(s, "integers", test_integers);
  CU_add_test(s, "edges: 0, NaN, infinities, powers of ten, carries", test_edges);
  CU_add_test(s, "exact halves: ties at every position", test_ties);
  CU_add_test(s, "random doubles, floats, magnitudes", test_random);
}
