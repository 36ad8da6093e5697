/* test_groupby.c: kernels/groupby.c's gb_sort against a comparison sort.
 *
 * For 1 to 4 key columns, keys over small ranges (packed into one word),
 * over the whole int64 range with INT64_MIN and INT64_MAX (sorted column by
 * column), with many ties and none, in order already, as fields of an
 * array of structs (stride), at 0, 1 and 200,000 rows (the threaded
 * loops), on 1 and 2 threads: the order must be the stable lexicographic
 * order qsort gives (keys, then the row) and the group starts exactly
 * where the keys change. Random keys come from a fixed seed.
 */
#include <CUnit/CUnit.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "groupby.h"
#include "test_rng.h"

typedef struct {
  int64_t k[4];
  int64_t row;
} row_key;

static int nk_cmp;
static int cmp_row(const void *a, const void *b) {
  const row_key *x = a, *y = b;
  for (int j = 0; j < nk_cmp; j++)
    if (x->k[j] != y->k[j]) return x->k[j] < y->k[j] ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* key shapes: 0 small ranges, 1 full int64 with extremes, 2 all equal,
 * 3 ascending already, 4 negative small */
static int64_t key_of(rng *r, int shape, int j, int64_t i, int64_t n) {
  switch (shape) {
  case 0: return (int64_t)rng_below(r, j == 0 ? 366u : 50u) + 1000 * j;
  case 1: {
    uint64_t u = rng_next(r);
    if (u % 17 == 0) return INT64_MIN;
    if (u % 19 == 0) return INT64_MAX;
    return u % 3 == 0 ? (int64_t)(u % 5) : (int64_t)u;
  }
  case 2: return 42;
  case 3: return j == 0 ? i * 3 : (j == 1 ? (i * 7) % (n + 1) : 0);
  default: return -(int64_t)rng_below(r, 1000u) - 5;
  }
}

static void check(int64_t n, int nk, int shape, int aos) {
  rng r = {(uint64_t)(n * 131 + nk * 7 + shape + 1000 * aos)};
  row_key *ref = malloc(sizeof *ref * (size_t)(n + 1));
  int64_t *plain = malloc(sizeof(int64_t) * (size_t)(4 * n + 1)), *aosk = malloc(sizeof(int64_t) * (size_t)(7 * n + 1));
  int64_t *order = malloc(sizeof(int64_t) * (size_t)(n + 1)), *start = malloc(sizeof(int64_t) * (size_t)(n + 2));
  CU_ASSERT_FATAL(ref && plain && aosk && order && start);
  for (int64_t i = 0; i < n; i++) {
    ref[i].row = i;
    for (int j = 0; j < nk; j++) {
      int64_t v = key_of(&r, shape, j, i, n);
      ref[i].k[j] = v;
      plain[(size_t)j * (size_t)n + (size_t)i] = v;
      aosk[(size_t)i * 7 + (size_t)j + 2] = v;
    }
  }
  const int64_t *cols[4];
  for (int j = 0; j < nk; j++) cols[j] = aos ? aosk + 2 + j : plain + (size_t)j * (size_t)n;
  int64_t g = gb_sort(cols, nk, aos ? 7 : 1, n, order, start);
  nk_cmp = nk;
  if (n > 1) qsort(ref, (size_t)n, sizeof *ref, cmp_row);
  int64_t want_g = 0, bad_order = 0, bad_start = 0;
  for (int64_t p = 0; p < n; p++) {
    if (order[p] != ref[p].row) bad_order++;
    int change = p == 0;
    for (int j = 0; j < nk && !change; j++) change = ref[p].k[j] != ref[p - 1].k[j];
    if (change) {
      if (want_g > g || start[want_g] != p) bad_start++;
      want_g++;
    }
  }
  CU_ASSERT_EQUAL(g, want_g);
  CU_ASSERT_EQUAL(bad_order, 0);
  CU_ASSERT_EQUAL(bad_start, 0);
  if (g >= 0) CU_ASSERT_EQUAL(start[g], n);
  free(ref);
  free(plain);
  free(aosk);
  free(order);
  free(start);
}

static void test_against_qsort(void) {
  const int64_t sizes[] = {0, 1, 2, 17, 5000, 200000};
  for (int t = 1; t <= 2; t++) {
    omp_set_num_threads(t);
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
      for (int nk = 1; nk <= 4; nk++)
        for (int shape = 0; shape < 5; shape++)
          for (int aos = 0; aos < 2; aos++) check(sizes[s], nk, shape, aos);
  }
}

static void test_bad_arguments(void) {
  int64_t k = 1, order[1], start[2];
  const int64_t *cols[5] = {&k, &k, &k, &k, &k};
  CU_ASSERT_EQUAL(gb_sort(cols, 0, 1, 1, order, start), -1);
  CU_ASSERT_EQUAL(gb_sort(cols, 5, 1, 1, order, start), -1);
  CU_ASSERT_EQUAL(gb_sort(cols, 1, 1, 1, order, start), 1);
  CU_ASSERT_EQUAL(order[0], 0);
  CU_ASSERT_EQUAL(start[0], 0);
  CU_ASSERT_EQUAL(start[1], 1);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("groupby", NULL, NULL);
  CU_add_test(s, "order and groups equal a stable comparison sort's", test_against_qsort);
  CU_add_test(s, "one row; column counts outside 1..4 refused", test_bad_arguments);
}
