/* Unit tests of the generator's model (src/generate_model.c).
 *
 * - The hand-written formatters against the C library: dates against
 *   gmtime_r, timestamps against strftime, integers and cents against
 *   snprintf, over boundaries and many pseudo-random values.
 * - Model invariants on a small model: tables are pure functions (two
 *   builds are identical), cumulative weights never decrease, a sku that
 *   is out of stock at every DC of a region has weight 0 there, discounts
 *   and prices stay in range, and a user's rows do not depend on scratch
 *   state or on which users came before.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "generate_model.h"

static void test_format_date(void) {
  char got[11] = {0}, want[16];
  for (int32_t day = -25000; day <= 80000; day += 7) {
    time_t t = (time_t)day * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(want, sizeof want, "%Y-%m-%d", &tm);
    gen_format_date(day, got);
    if (strcmp(got, want)) CU_FAIL_FATAL("date differs from gmtime");
  }
  gen_format_date(GEN_DAY0, got);
  CU_ASSERT_STRING_EQUAL(got, "2023-01-01");
  gen_format_date(GEN_DAY0 + GEN_DAYS - 1, got);
  CU_ASSERT_STRING_EQUAL(got, "2023-12-31");
}

static void test_format_ts(void) {
  char got[20] = {0}, want[32];
  for (int32_t t = 0; t < GEN_DAYS * 86400; t += 4999) {
    time_t e = (time_t)GEN_DAY0 * 86400 + t;
    struct tm tm;
    gmtime_r(&e, &tm);
    strftime(want, sizeof want, "%Y-%m-%d %H:%M:%S", &tm);
    gen_format_ts(t, got);
    if (strcmp(got, want)) CU_FAIL_FATAL("timestamp differs from strftime");
  }
  gen_format_ts(GEN_DAYS * 86400 - 1, got);
  CU_ASSERT_STRING_EQUAL(got, "2023-12-31 23:59:59");
}

static void test_format_numbers(void) {
  char got[32], want[32];
  int64_t fixed[] = {0, 1, 9, 10, 99, 100, 999, 1000, 99999, 100000, 9999999999LL, 10000000000LL,
                     -1, -10, -123456789, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    int n = gen_format_i64(fixed[i], got);
    got[n] = 0;
    snprintf(want, sizeof want, "%lld", (long long)fixed[i]);
    CU_ASSERT_STRING_EQUAL(got, want);
  }
  uint64_t x = 12345;
  for (int i = 0; i < 200000; i++) {
    x = sc_mix64(x);
    int64_t v = (int64_t)(x >> (x % 64));  /* all magnitudes */
    if (i % 2) v = -v;
    int n = gen_format_i64(v, got);
    got[n] = 0;
    snprintf(want, sizeof want, "%lld", (long long)v);
    if (strcmp(got, want)) CU_FAIL_FATAL("integer differs from snprintf");
    int64_t cents = (int64_t)(x % 100000000);
    n = gen_format_cents(cents, got);
    got[n] = 0;
    snprintf(want, sizeof want, "%lld.%02lld", (long long)(cents / 100), (long long)(cents % 100));
    if (strcmp(got, want)) CU_FAIL_FATAL("cents differ from snprintf");
  }
  int n = gen_format_cents(5, got);
  got[n] = 0;
  CU_ASSERT_STRING_EQUAL(got, "0.05");
}

static void test_sku_count(void) {
  CU_ASSERT_EQUAL(gen_sku_count(1000000), 1000);
  CU_ASSERT_EQUAL(gen_sku_count(20000), 100);
  CU_ASSERT_EQUAL(gen_sku_count(1), 100);
  CU_ASSERT_EQUAL(gen_sku_count(1000000000000LL), 20000);
}

static void test_tables(void) {
  gen_model a, b;
  CU_ASSERT_EQUAL_FATAL(gen_model_build(&a, 1000, 3), SC_OK);
  CU_ASSERT_EQUAL_FATAL(gen_model_build(&b, 1000, 3), SC_OK);
  int S = a.n_sku;
  size_t cells = (size_t)GEN_DAYS * GEN_DCS * S;
  CU_ASSERT(memcmp(a.cum, b.cum, cells * sizeof(float)) == 0);
  CU_ASSERT(memcmp(a.stock, b.stock, cells) == 0);
  CU_ASSERT(memcmp(a.promo_pct, b.promo_pct, (size_t)GEN_DAYS * GEN_REGIONS * S) == 0);
  CU_ASSERT(memcmp(a.list_cents, b.list_cents, (size_t)GEN_DAYS * S * sizeof(int32_t)) == 0);

  size_t outs = 0, promos = 0, bad_cum = 0, bad_zero = 0, bad_price = 0;
  for (int d = 0; d < GEN_DAYS; d++) {
    for (int c = 0; c < GEN_DCS; c++) {
      const float *cum = a.cum + ((size_t)d * GEN_DCS + c) * S;
      const uint8_t *st = a.stock + ((size_t)d * GEN_DCS + c) * S;
      for (int s = 0; s < S; s++) {
        float prev = s ? cum[s - 1] : 0.0f;
        bad_cum += cum[s] < prev;
        outs += !st[s];
      }
      CU_ASSERT(cum[S - 1] > 0);
    }
    for (int s = 0; s < S; s++) {
      int32_t p = a.list_cents[(size_t)d * S + s];
      bad_price += p <= 0 || p % 10 != 9;
      for (int g = 0; g < GEN_REGIONS; g++) {
        int pct = a.promo_pct[((size_t)d * GEN_REGIONS + g) * S + s];
        promos += pct > 0;
        bad_price += pct > 60 || (pct > 0 && pct < 10);
      }
    }
  }
  CU_ASSERT_EQUAL(bad_cum, 0);
  CU_ASSERT_EQUAL(bad_price, 0);
  double out_share = (double)outs / (double)cells, promo_share = (double)promos / ((double)GEN_DAYS * GEN_REGIONS * S);
  CU_ASSERT(out_share > 0.01 && out_share < 0.1);
  CU_ASSERT(promo_share > 0.02 && promo_share < 0.2);
  /* Regions 9-12 have one DC (index 20 + g - 8): out there means weight 0. */
  for (int d = 0; d < GEN_DAYS; d++)
    for (int c = 20; c < GEN_DCS; c++) {
      const float *cum = a.cum + ((size_t)d * GEN_DCS + c) * S;
      const uint8_t *st = a.stock + ((size_t)d * GEN_DCS + c) * S;
      for (int s = 0; s < S; s++)
        if (!st[s]) bad_zero += cum[s] != (s ? cum[s - 1] : 0.0f);
    }
  CU_ASSERT_EQUAL(bad_zero, 0);
  gen_model_free(&b);

  /* Another seed: other tables. */
  CU_ASSERT_EQUAL_FATAL(gen_model_build(&b, 1000, 4), SC_OK);
  CU_ASSERT(memcmp(a.cum, b.cum, cells * sizeof(float)) != 0);
  gen_model_free(&b);
  gen_model_free(&a);
}

static void test_user_is_pure(void) {
  gen_model m;
  CU_ASSERT_EQUAL_FATAL(gen_model_build(&m, 2000, 11), SC_OK);
  gen_scratch *s1 = gen_scratch_new(), *s2 = gen_scratch_new();
  CU_ASSERT_FATAL(s1 && s2);
  gen_buf a[5] = {{0}}, b[5] = {{0}};
  /* user 777 alone, and after 50 others in another scratch */
  CU_ASSERT_EQUAL(gen_user(&m, s1, 777, &a[0], &a[1], &a[2], &a[3], &a[4]), 0);
  for (int64_t u = 1; u <= 50; u++) CU_ASSERT_EQUAL(gen_user(&m, s2, u, &b[0], &b[1], &b[2], &b[3], &b[4]), 0);
  size_t off[5];
  for (int f = 0; f < 5; f++) off[f] = b[f].n;
  CU_ASSERT_EQUAL(gen_user(&m, s2, 777, &b[0], &b[1], &b[2], &b[3], &b[4]), 0);
  for (int f = 0; f < 5; f++) {
    CU_ASSERT_EQUAL(b[f].n - off[f], a[f].n);
    CU_ASSERT(memcmp(b[f].p + off[f], a[f].p, a[f].n) == 0);
  }
  CU_ASSERT(a[0].n > 0 && !strncmp(a[0].p, "777,", 4));
  CU_ASSERT(a[4].n > 0 && !strncmp(a[4].p, "777,", 4) && a[4].p[a[4].n - 1] == '\n');
  for (int f = 0; f < 5; f++) {
    gen_buf_free(&a[f]);
    gen_buf_free(&b[f]);
  }
  gen_scratch_free(s1);
  gen_scratch_free(s2);
  gen_model_free(&m);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("generate", NULL, NULL);
  CU_add_test(s, "dates against gmtime", test_format_date);
  CU_add_test(s, "timestamps against strftime", test_format_ts);
  CU_add_test(s, "integers and cents against snprintf", test_format_numbers);
  CU_add_test(s, "sku count scales with users", test_sku_count);
  CU_add_test(s, "tables are pure and consistent", test_tables);
  CU_add_test(s, "a user's rows depend on nothing else", test_user_is_pure);
}
