/* bench_radix.c: the stable radix sort of (key, payload) pairs beside qsort.
 *
 * Times, best of three on one thread, kernels/radix.c's radix_sort_i64 and
 * radix_argsort_i64 (the order of the keys: what table_sort and the
 * delivery join use) and glibc's qsort (a comparison sort of the (key,
 * index) pairs, stable too) on 4 Mi keys shaped like the ingest's sorts: user ids
 * over 20 bits (the lines' sort by user), order ids over 30 bits (the
 * delivery join), full 64-bit keys, and two ascending runs (rows received
 * from two ranks, merged instead of sorted). Prints ns per key, the
 * ratios, and whether all gave the same order (they must).
 *
 * Usage: bench_radix [pairs]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "radix.h"

typedef struct {
  int64_t k, v;
} pair;

static int cmp_pair(const void *a, const void *b) {
  const pair *x = a, *y = b;
  if (x->k != y->k) return x->k < y->k ? -1 : 1;
  return x->v < y->v ? -1 : x->v > y->v;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atoll(argv[1]) : (size_t)1 << 22;
  const char *names[] = {"user ids, 20 bits", "order ids, 30 bits", "any int64", "two ascending runs"};
  int64_t *key = malloc(n * sizeof *key), *val = malloc(n * sizeof *val), *k0 = malloc(n * sizeof *k0);
  int64_t *ord = malloc(n * sizeof *ord), *sk = malloc(n * sizeof *sk);
  pair *pr = malloc(n * sizeof *pr);
  if (!key || !val || !k0 || !pr || !ord || !sk) return 1;
  printf("%-22s %10s %12s %7s %14s %7s  %s\n", "4 Mi keys, ns a key", "qsort", "radix pairs", "ratio", "radix argsort",
         "ratio", "same order");
  uint64_t seed = 7;
  for (int shape = 0; shape < 4; shape++) {
    for (size_t i = 0; i < n; i++) {
      uint64_t r = rng_next(&seed);
      k0[i] = shape == 0   ? (int64_t)(r & ((1u << 20) - 1))
              : shape == 1 ? (int64_t)(r & ((1u << 30) - 1)) + 1000
              : shape == 2 ? (int64_t)r
                           : (int64_t)(i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1);
    }
    double tq = 1e30, tr = 1e30, ta = 1e30;
    for (int rep = 0; rep < 3; rep++) {
      for (size_t i = 0; i < n; i++) pr[i] = (pair){k0[i], (int64_t)i};
      double t = now_s();
      qsort(pr, n, sizeof *pr, cmp_pair);
      t = now_s() - t;
      tq = t < tq ? t : tq;
      memcpy(key, k0, n * sizeof *key);
      for (size_t i = 0; i < n; i++) val[i] = (int64_t)i;
      t = now_s();
      if (radix_sort_i64(key, val, (int64_t)n)) return 1;
      t = now_s() - t;
      tr = t < tr ? t : tr;
      t = now_s();
      if (radix_argsort_i64(k0, (int64_t)n, ord, sk) < 0) return 1;
      t = now_s() - t;
      ta = t < ta ? t : ta;
    }
    int same = 1;
    for (size_t i = 0; i < n; i++) same &= key[i] == pr[i].k && val[i] == pr[i].v && ord[i] == pr[i].v && sk[i] == pr[i].k;
    printf("%-22s %10.2f %12.2f %6.1fx %14.2f %6.1fx  %s\n", names[shape], 1e9 * tq / (double)n, 1e9 * tr / (double)n,
           tq / tr, 1e9 * ta / (double)n, tq / ta, same ? "yes" : "NO");
    if (!same) return 1;
  }
  free(key);
  free(val);
  free(k0);
  free(pr);
  free(ord);
  free(sk);
  return 0;
}
