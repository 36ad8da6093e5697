/* bench_groupby.c: kernels/groupby.c's sort-based group-by beside qsort.
 *
 * Times, best of three on one thread, gb_sort (the order and the group
 * starts) and glibc's qsort of (keys, row) records (what the insights
 * stage's compaction did before issue 15) on 4 Mi rows shaped like the
 * insights group-bys: (day, product, region) of order lines (3 keys that
 * pack into 24 bits), order ids in two ascending runs (one key, records
 * received from two ranks), and three full-range int64 keys (sorted column
 * by column). Prints ns per row, the ratio, the groups, and whether both
 * gave the same order (they must).
 *
 * Usage: bench_groupby [rows]
 */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "groupby.h"

typedef struct {
  int64_t k[3], row;
} rec;

static int nk;
static int cmp_rec(const void *a, const void *b) {
  const rec *x = a, *y = b;
  for (int j = 0; j < nk; j++)
    if (x->k[j] != y->k[j]) return x->k[j] < y->k[j] ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : (int64_t)1 << 22;
  omp_set_num_threads(1);
  const char *names[] = {"(day, sku, region)", "order ids, 2 runs", "3 x any int64"};
  const int keys[] = {3, 1, 3};
  int64_t *col = malloc(sizeof(int64_t) * (size_t)(3 * n)), *order = malloc(sizeof(int64_t) * (size_t)n);
  int64_t *start = malloc(sizeof(int64_t) * (size_t)(n + 1));
  rec *r = malloc(sizeof(rec) * (size_t)n);
  if (!col || !order || !start || !r) return 1;
  printf("%-20s %10s %12s %7s %10s  %s\n", "4 Mi rows, ns a row", "qsort", "gb_sort", "ratio", "groups", "same order");
  uint64_t seed = 11;
  for (int shape = 0; shape < 3; shape++) {
    nk = keys[shape];
    for (int64_t i = 0; i < n; i++) {
      uint64_t u = rng_next(&seed);
      if (shape == 0) {
        col[i] = 19358 + (int64_t)(u % 365);
        col[n + i] = (int64_t)((u >> 12) % 5000);
        col[2 * n + i] = (int64_t)((u >> 30) % 50);
      } else if (shape == 1) {
        col[i] = i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1;
      } else {
        for (int j = 0; j < 3; j++) col[j * n + i] = (int64_t)rng_next(&seed);
      }
    }
    const int64_t *cols[3] = {col, col + n, col + 2 * n};
    double tq = 1e30, tg = 1e30;
    int64_t g = 0;
    for (int rep = 0; rep < 3; rep++) {
      for (int64_t i = 0; i < n; i++) {
        for (int j = 0; j < nk; j++) r[i].k[j] = cols[j][i];
        r[i].row = i;
      }
      double t = now_s();
      qsort(r, (size_t)n, sizeof *r, cmp_rec);
      t = now_s() - t;
      tq = t < tq ? t : tq;
      t = now_s();
      g = gb_sort(cols, nk, 1, n, order, start);
      t = now_s() - t;
      if (g < 0) return 1;
      tg = t < tg ? t : tg;
    }
    int same = 1;
    for (int64_t i = 0; i < n; i++) same &= order[i] == r[i].row;
    printf("%-20s %10.2f %12.2f %6.1fx %10lld  %s\n", names[shape], 1e9 * tq / (double)n, 1e9 * tg / (double)n, tq / tg,
           (long long)g, same ? "yes" : "NO");
    if (!same) return 1;
  }
  free(col);
  free(order);
  free(start);
  free(r);
  return 0;
}
