/* test_gbdt_mpi.c: the distributed trainer on a synthetic data set, for
 * the rank- and thread-count tests (tests/e2e/test_forecast_ranks.sh).
 *
 *   test_gbdt_mpi PREFIX
 *
 * Every rank makes the same global data set (rows keyed by their id) and
 * keeps the rows whose hash falls to it, so each rank count partitions
 * the rows differently. Trains three models (squared error with row and
 * column sampling and early stopping; Poisson; squared error on every
 * row, whose root histograms are updated from the leaves instead of
 * rebuilt) and writes, from rank 0, PREFIX_sq.json, PREFIX_po.json,
 * PREFIX_in.json (XGBoost JSON) and PREFIX_pred.csv (row id, features, the
 * predictions for the held-out rows, sorted by id).
 * The script compares these files across rank and thread counts and has
 * XGBoost predict from the JSON files. Exits non-zero on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "forecast_gbdt.h"
#include "xgbjson.h"

enum { N = 40000, F = 6 };
static const char *const names[F] = {"a", "b", "c", "d", "e", "f"};

/* Feature f of global row i (NaN for some) and its label. */
static double feature(int64_t i, int f) {
  uint64_t h = sc_mix64((uint64_t)i * 16 + (uint64_t)f);
  double u = sc_unit(h);
  switch (f) {
    case 0: return (double)(i % 7);                    /* a weekday */
    case 1: return u < 0.05 ? NAN : floor(u * 40);     /* a lag with missing values */
    case 2: return u * 10;                             /* continuous */
    case 3: return u < 0.5 ? 0.0 : floor(-log(u) * 8); /* heavy zeros, long tail */
    case 4: return u < 0.3 ? NAN : u;                  /* mostly noise */
    default: return (double)((i / 100) % 3);           /* few values */
  }
}

static double label(int64_t i) {
  double a = feature(i, 0), b = feature(i, 1), c = feature(i, 2), d = feature(i, 3);
  double mu = 1.0 + 0.5 * (a >= 5) + (b == b ? 0.1 * b : 2.0) + 0.3 * c + 0.05 * d * d;
  double u = sc_unit(sc_mix64((uint64_t)i ^ 0xABCDEF));
  return floor(mu * (0.5 + u)); /* counts */
}

typedef struct {
  int64_t id;
  float x[F];
  float sq, po, in;
} pred_row;

static int pred_cmp(const void *a, const void *b) {
  int64_t x = ((const pred_row *)a)->id, y = ((const pred_row *)b)->id;
  return (x > y) - (x < y);
}

static int fail(const char *what) {
  if (comm_rank() == 0) fprintf(stderr, "test_gbdt_mpi: %s: %s\n", what, sc_message());
  comm_finalize();
  return 1;
}

int main(int argc, char **argv) {
  if (comm_init(&argc, &argv)) return 1;
  if (argc < 2) return fail("usage: test_gbdt_mpi PREFIX");
  int rank = comm_rank(), size = comm_size();
  /* this rank's rows */
  int64_t n = 0, *id = malloc(N * sizeof *id);
  double *cols[F], *y = malloc(N * sizeof *y);
  uint64_t *key = malloc(N * sizeof *key);
  uint8_t *set = malloc(N);
  for (int f = 0; f < F; f++) cols[f] = malloc(N * sizeof *cols[f]);
  for (int64_t i = 0; i < N; i++) {
    uint64_t k = sc_mix64((uint64_t)i + 77);
    if ((int)(k % (uint64_t)size) != rank) continue;
    id[n] = i;
    key[n] = k;
    for (int f = 0; f < F; f++) cols[f][n] = feature(i, f);
    y[n] = label(i);
    double u = sc_unit(k ^ 0x5E7);
    set[n] = u < 0.8 ? FC_TRAIN : u < 0.9 ? FC_VALID : FC_TEST;
    n++;
  }
  fc_data d = {n, F, (const double *const *)cols, y, key, set};
  fc_params sq = {40, 5, 64, GBDT_SQUARED, 5, 0.3, 1.0, 0.0, 1.0, 0.8, 0.7, 42};
  fc_params po = {25, 4, 32, GBDT_POISSON, 0, 0.2, 1.0, 0.1, 2.0, 1.0, 1.0, 7};
  fc_params in = {30, 6, 128, GBDT_SQUARED, 0, 0.3, 1.0, 0.0, 1.0, 1.0, 1.0, 3};
  fc_booster bs, bp, bi;
  if (fc_train(&d, &sq, &bs)) return fail("training (squared error)");
  if (fc_train(&d, &po, &bp)) return fail("training (Poisson)");
  if (fc_train(&d, &in, &bi)) return fail("training (squared error, every row)");
  /* predictions of the held-out rows, gathered and sorted by id */
  int64_t m = 0;
  pred_row *mine = malloc((size_t)(n + 1) * sizeof *mine);
  for (int64_t r = 0; r < n; r++) {
    if (set[r] == FC_TRAIN) continue;
    pred_row *p = &mine[m++];
    p->id = id[r];
    for (int f = 0; f < F; f++) p->x[f] = (float)cols[f][r];
    p->sq = fc_predict(&bs, p->x);
    p->po = fc_predict(&bp, p->x);
    p->in = fc_predict(&bi, p->x);
  }
  void *all = NULL;
  size_t bytes = 0;
  if (comm_agree(comm_allgatherv(mine, (size_t)m * sizeof *mine, &all, &bytes, NULL))) return fail("gather");
  int64_t na = (int64_t)(bytes / sizeof(pred_row));
  pred_row *rows = all;
  qsort(rows, (size_t)na, sizeof *rows, pred_cmp);
  sc_status s = SC_OK;
  if (rank == 0) {
    char path[4096];
    const fc_booster *bb[3] = {&bs, &bp, &bi};
    const char *suf[3] = {"sq", "po", "in"};
    for (int k = 0; k < 3 && !s; k++) {
      snprintf(path, sizeof path, "%s_%s.json", argv[1], suf[k]);
      FILE *f = fopen(path, "w");
      if (!f) s = sc_fail(SC_EIO, "cannot write %s", path);
      else {
        s = xgbjson_write(f, bb[k], names);
        fclose(f);
      }
    }
    snprintf(path, sizeof path, "%s_pred.csv", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f) s = sc_fail(SC_EIO, "cannot write %s", path);
    else {
      fputs("id,a,b,c,d,e,f,sq,po,in\n", f);
      for (int64_t i = 0; i < na; i++) {
        fprintf(f, "%lld", (long long)rows[i].id);
        for (int j = 0; j < F; j++) fprintf(f, ",%.9g", (double)rows[i].x[j]);
        fprintf(f, ",%.9g,%.9g,%.9g\n", (double)rows[i].sq, (double)rows[i].po, (double)rows[i].in);
      }
      fclose(f);
    }
    printf("squared error: %d trees of %d rounds (best %d, validation RMSE %.4f); Poisson: %d trees\n", bs.ntrees,
           bs.rounds_done, bs.best_round, bs.best_score, bp.ntrees);
  }
  s = comm_agree(s);
  fc_booster_free(&bs);
  fc_booster_free(&bp);
  fc_booster_free(&bi);
  free(all);
  free(mine);
  free(id);
  free(y);
  free(key);
  free(set);
  for (int f = 0; f < F; f++) free(cols[f]);
  if (s) return fail("writing");
  comm_finalize();
  return 0;
}
