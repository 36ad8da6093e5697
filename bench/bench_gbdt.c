/* bench_gbdt.c: the boosting kernels and the whole training, on the real
 * demand rows of a segcast output folder.
 *
 *   bench_gbdt OUT_DIR [ROUNDS=20] [DEPTH=8] [BINS=256]
 *   bench_gbdt demand STORE.h5 [REPS=3]
 *
 * The second form times the demand table alone (demand_build from the
 * loaded lines, the best of REPS) on the store of `segcast ingest`.
 *
 * OUT_DIR is the output folder of a `segcast forecast` run (its
 * results.h5 holds /forecast/demand and, row by row, /forecast/rows/set).
 * Prints, side by side in one run with the same threads (kernel times are
 * process CPU seconds, which a busy shared machine disturbs less):
 *   stream      reading the n x 14 code matrix once (the bound of any pass);
 *   hist root   one root histogram of every training row (gbdt_hist_build);
 *   partition   one partition of every training row (gbdt_partition);
 *   last level  the fused last split level over every training row (gbdt_last_level);
 *   train       fc_train for ROUNDS rounds (per tree), as the stage runs it;
 *   predict     the validation and test rows through those trees, row by
 *               row (fc_predict) and in blocks (fc_predict_rows);
 *   demand      demand_from_lines is timed by bench/forecast_vs_xgboost.py
 *               through the stage itself.
 * Run it single-rank (it calls MPI only through segcast's core).
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "comm.h"
#include "stages.h"
#include "demand.h"
#include "forecast_gbdt.h"
#include "gbdt.h"
#include "h5.h"

static int die(const char *what) {
  fprintf(stderr, "bench_gbdt: %s: %s\n", what, sc_message());
  comm_finalize();
  return 1;
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_demand(const char *store, int reps) {
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.store, sizeof cfg.store, "%s", store);
  snprintf(cfg.out, sizeof cfg.out, "/tmp");
  sc_run run;
  sc_dataset ds;
  memset(&ds, 0, sizeof ds);
  if (run_init(&run, &cfg) || store_load(&run, &ds)) return die("loading the store");
  double best = 1e30, best_cpu = 1e30;
  int64_t rows = 0;
  for (int r = 0; r < reps; r++) {
    sc_table D;
    double t = sc_now(), c = cpu_now();
    if (demand_build(&ds, &D)) return die("demand table");
    best = fmin(best, sc_now() - t);
    best_cpu = fmin(best_cpu, cpu_now() - c);
    rows = D.n;
    table_free(&D);
  }
  printf("segcast demand table: %lld rows from %lld lines in %.3f s, %.3f s of CPU (best of %d, %d threads)\n",
         (long long)rows, (long long)ds.lines.n, best, best_cpu, reps, omp_get_max_threads());
  dataset_free(&ds);
  run_free(&run);
  comm_finalize();
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "demand")) {
    if (comm_init(&argc, &argv)) return 1;
    return bench_demand(argv[2], argc > 3 ? atoi(argv[3]) : 3);
  }
  if (argc < 2) {
    fprintf(stderr, "usage: bench_gbdt OUT_DIR [ROUNDS] [DEPTH] [BINS]\n");
    return 2;
  }
  if (comm_init(&argc, &argv)) return 1;
  int rounds = argc > 2 ? atoi(argv[2]) : 20, depth = argc > 3 ? atoi(argv[3]) : 8, bins = argc > 4 ? atoi(argv[4]) : 256;
  char path[4096];
  snprintf(path, sizeof path, "%s/results.h5", argv[1]);
  sc_h5 f;
  sc_table D, E;
  if (h5_open(&f, path, 0) || h5_read_table(&f, "/forecast/demand", &D, NULL) ||
      h5_read_table(&f, "/forecast/rows", &E, NULL) || h5_close(&f))
    return die("reading results.h5");
  const int64_t n = D.n;
  const double *x[DEMAND_NFEAT];
  for (int j = 0; j < DEMAND_NFEAT; j++) x[j] = table_f64(&D, demand_features[j]);
  double *y = malloc((size_t)n * sizeof *y);
  uint64_t *key = malloc((size_t)n * sizeof *key);
  const int64_t *units = table_i64(&D, "units");
  const uint8_t *set = table_u8(&E, "set");
  int64_t ntrain = 0;
  for (int64_t i = 0; i < n; i++) {
    y[i] = (double)units[i];
    key[i] = sc_mix64((uint64_t)i);
    ntrain += set[i] == FC_TRAIN;
  }
  printf("rows %lld (training %lld), threads %d, depth %d, bins %d\n", (long long)n, (long long)ntrain,
         omp_get_max_threads(), depth, bins);

  fc_params p = {rounds, depth, bins, GBDT_SQUARED, 0, 0.1, 1.0, 0.0, 1.0, 1.0, 1.0, 42};
  fc_data d = {n, DEMAND_NFEAT, x, y, key, set};

  /* kernels on a code matrix built from the training rows with one round of cuts */
  fc_booster b;
  p.rounds = 1;
  if (fc_train(&d, &p, &b)) return die("training");
  int32_t *hoff = malloc((DEMAND_NFEAT + 1) * sizeof *hoff);
  hoff[0] = 0;
  for (int j = 0; j < DEMAND_NFEAT; j++) hoff[j + 1] = hoff[j] + b.nbins[j] + b.has_missing[j];
  uint8_t *codes = malloc((size_t)ntrain * DEMAND_NFEAT);
  int32_t *pos = malloc((size_t)ntrain * sizeof *pos), *tmp = malloc((size_t)ntrain * sizeof *tmp);
  int64_t *gq = malloc((size_t)ntrain * sizeof *gq);
  int64_t j = 0;
  for (int64_t i = 0; i < n; i++) {
    if (set[i] != FC_TRAIN) continue;
    for (int k = 0; k < DEMAND_NFEAT; k++) {
      double v = x[k][i];
      int c = b.nbins[k];
      if (v == v) {
        const float *cu = b.cuts + b.cut_off[k];
        c = 0;
        while (c < b.nbins[k] - 1 && cu[c] <= (float)v) c++;
      }
      codes[j * DEMAND_NFEAT + k] = (uint8_t)c;
    }
    gq[j] = (int64_t)(sc_mix64((uint64_t)j) >> 44) - (1 << 19);
    pos[j] = (int32_t)j;
    j++;
  }
  uint8_t *cols = malloc((size_t)ntrain * DEMAND_NFEAT);
  for (int64_t i = 0; i < ntrain; i++)
    for (int k = 0; k < DEMAND_NFEAT; k++) cols[(size_t)k * (size_t)ntrain + (size_t)i] = codes[i * DEMAND_NFEAT + k];
  gbdt_matrix m = {ntrain, DEMAND_NFEAT, codes, NULL, cols, NULL, b.nbins, hoff};
  int64_t *hist = malloc((size_t)hoff[DEMAND_NFEAT] * 2 * sizeof *hist);
  int64_t *scratch = malloc(gbdt_hist_scratch_size(&m) * sizeof *scratch);
  double best_stream = 1e30, best_hist = 1e30, best_part = 1e30, best_last = 1e30;
  for (int rep = 0; rep < 5; rep++) {
    double t = cpu_now();
    uint64_t acc = 0;
#pragma omp parallel for reduction(+ : acc) schedule(static)
    for (int64_t i = 0; i < ntrain * DEMAND_NFEAT / 8; i++) {
      uint64_t w;
      memcpy(&w, codes + i * 8, 8);
      acc += w;
    }
    best_stream = fmin(best_stream, cpu_now() - t);
    if (acc == 42) printf(" ");
    int64_t b0 = 0, e0 = ntrain;
    t = cpu_now();
    gbdt_hist_build(&m, pos, &b0, &e0, 1, gq, NULL, 1, hist, scratch, NULL);
    best_hist = fmin(best_hist, cpu_now() - t);
    int32_t f8 = 8, bin = 0;
    uint8_t dl = 0;
    int64_t nl;
    t = cpu_now();
    gbdt_partition(&m, pos, tmp, &b0, &e0, &f8, &bin, &dl, 1, &nl);
    best_part = fmin(best_part, cpu_now() - t);
    int64_t vl = 5, vr = -7, *delta = malloc((size_t)hoff[DEMAND_NFEAT] * sizeof *delta);
    uint8_t sr = nl > ntrain - nl;
    t = cpu_now();
    gbdt_last_level(&m, tmp, &b0, &e0, &f8, &bin, &dl, &vl, &vr, &sr, 1, gq, delta, scratch);
    best_last = fmin(best_last, cpu_now() - t);
    free(delta);
    for (int64_t i = 0; i < ntrain; i++) pos[i] = (int32_t)i;
  }
  printf("stream     %8.2f ms  (the code matrix, %.0f MB)\n", 1e3 * best_stream, ntrain * DEMAND_NFEAT / 1e6);
  printf("hist root  %8.2f ms  (%.2f ns per row x feature)\n", 1e3 * best_hist, 1e9 * best_hist / ntrain / DEMAND_NFEAT);
  printf("partition  %8.2f ms  (%.2f ns per row)\n", 1e3 * best_part, 1e9 * best_part / ntrain);
  printf("last level %8.2f ms  (%.2f ns per row: gradients moved, smaller side's slot counts)\n", 1e3 * best_last,
         1e9 * best_last / ntrain);
  fc_booster_free(&b);

  p.rounds = rounds;
  double t = sc_now();
  if (fc_train(&d, &p, &b)) return die("training");
  double el = sc_now() - t;
  printf("train      %8.2f s   (%d trees, %.1f ms per tree; %.2f rows histogrammed per training row and tree)\n", el,
         b.ntrees, 1e3 * el / b.ntrees, (double)b.hist_rows / (double)ntrain / b.ntrees);
  for (int ph = 0; ph < FC_PHASES; ph++) printf("  %-14s %8.3f s\n", fc_phase_names[ph], b.phase[ph]);
  /* prediction of the held-out rows: row by row (fc_predict) and blocked (fc_predict_rows) */
  int64_t nh = 0;
  int64_t *hrows = malloc((size_t)(n + 1) * sizeof *hrows);
  float *p1 = malloc((size_t)(n + 1) * sizeof *p1), *p2 = malloc((size_t)(n + 1) * sizeof *p2);
  for (int64_t i = 0; i < n; i++)
    if (set[i] != FC_TRAIN) hrows[nh++] = i;
  t = cpu_now();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < nh; i++) {
    float xf[DEMAND_NFEAT];
    for (int k = 0; k < DEMAND_NFEAT; k++) xf[k] = (float)x[k][hrows[i]];
    p1[i] = fc_predict(&b, xf);
  }
  double t_row = cpu_now() - t;
  t = cpu_now();
  if (fc_predict_rows(&b, x, hrows, nh, p2)) return die("predicting");
  double t_blk = cpu_now() - t;
  printf("predict    %8.2f ms  row by row, %.2f ms blocked (%lld rows x %d trees, %s)\n", 1e3 * t_row, 1e3 * t_blk,
         (long long)nh, b.ntrees, memcmp(p1, p2, (size_t)nh * sizeof *p1) ? "DIFFERENT" : "same bits");
  free(hrows);
  free(p1);
  free(p2);
  fc_booster_free(&b);
  free(hist);
  free(codes);
  free(cols);
  free(pos);
  free(tmp);
  free(gq);
  free(scratch);
  free(hoff);
  free(y);
  free(key);
  table_free(&D);
  table_free(&E);
  comm_finalize();
  return 0;
}
