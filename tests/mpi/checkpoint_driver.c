/* checkpoint_driver.c: a small two-stage distributed training loop that
 * uses the checkpoint module exactly as segment and forecast are meant to,
 * for the checkpoint tests under mpirun and under Slurm.
 *
 * usage: checkpoint_driver OUT STEPS [--sleep MS] [--every S] [--param P] [--skew 1]
 *
 * The data: 6,000 points x_i = unit(seed, i) with global ids i, split in
 * blocks over the ranks (so each rank count partitions them differently).
 * Stage "fit": STEPS Lloyd iterations of 1-D k-means with 3 centroids; each
 * step sums fixed-point coordinates and counts with an int64 Allreduce, so
 * the centroids are the same bits at any rank count. Stage "boost": STEPS
 * rounds that each add a keyed, data-dependent term to a replicated vector.
 * Each step sleeps MS ms (default 20) so a test can signal it mid-way; each
 * rank writes its pid to OUT/pid.<rank> and rank 0 prints "<stage> step N".
 * At the end rank 0 writes OUT/result.txt (every value as %a) and prints
 * how many steps of each stage this process computed, so a test can tell a
 * resumed run from a recomputed one. --skew 1 saves a per-rank value (the
 * bug checkpoint_save must catch). Exit status: the run's sc_status (75
 * after a checkpoint on a signal).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "comm.h"

#define NPOINTS 6000
#define K 3
#define SCALE 1e12 /* fixed point: x in [0,1) times 1e12 fits int64 sums of 6,000 */

static void nap(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* One Lloyd step: assign, then exact global sums of coordinates and counts. */
static void lloyd_step(const double *x, int64_t n, double *c, int64_t *inertia_fx) {
  int64_t acc[2 * K + 1];
  memset(acc, 0, sizeof acc);
  for (int64_t i = 0; i < n; i++) {
    int best = 0;
    for (int j = 1; j < K; j++)
      if ((x[i] - c[j]) * (x[i] - c[j]) < (x[i] - c[best]) * (x[i] - c[best])) best = j;
    acc[best] += (int64_t)(x[i] * SCALE);
    acc[K + best] += 1;
    acc[2 * K] += (int64_t)((x[i] - c[best]) * (x[i] - c[best]) * SCALE);
  }
  comm_sum_i64(acc, 2 * K + 1);
  for (int j = 0; j < K; j++)
    if (acc[K + j]) c[j] = (double)acc[j] / SCALE / (double)acc[K + j];
  *inertia_fx = acc[2 * K];
}

static sc_status run_stages(sc_run *run, int steps, int sleep_ms, uint64_t param, int skew, int64_t done[2]) {
  int rank = comm_rank(), size = comm_size();
  int64_t lo = (int64_t)NPOINTS * rank / size, hi = (int64_t)NPOINTS * (rank + 1) / size, n = hi - lo;
  double *x = malloc((size_t)(n ? n : 1) * sizeof *x);
  int64_t *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
  for (int64_t i = 0; i < n; i++) {
    ids[i] = lo + i;
    x[i] = sc_unit(param * 1000003ULL + (uint64_t)(lo + i));
  }
  uint64_t key = checkpoint_key_mix(checkpoint_key_mix(checkpoint_config_key(run), checkpoint_data_key(ids, n)), param);

  /* stage 1: fit */
  double c[K] = {0.1, 0.5, 0.9};
  int64_t *hist = calloc((size_t)steps + 1, sizeof *hist);
  checkpoint_state st;
  int found = 0;
  sc_status s = checkpoint_resume(run, "fit", key, &st, &found);
  int64_t step = 0;
  if (!s && found) {
    const double *cv;
    const int64_t *hv;
    int64_t r, cc, nh;
    s = checkpoint_get_f64(&st, "centroids", &cv, &r, &cc);
    if (!s) s = checkpoint_get_i64(&st, "inertia", &hv, &nh);
    if (!s && (r != K || cc != 1 || nh != st.step)) s = sc_fail(SC_ESTORE, "checkpoint: fit state has a bad shape");
    if (!s) {
      memcpy(c, cv, sizeof c);
      memcpy(hist, hv, (size_t)nh * sizeof *hist);
      step = st.step;
    }
  }
  s = comm_agree(s);
  for (; !s && step < steps; step++) {
    lloyd_step(x, n, c, &hist[step]);
    done[0]++;
    if (rank == 0) printf("fit step %lld\n", (long long)step + 1), fflush(stdout);
    nap(sleep_ms);
    if (checkpoint_due(run)) {
      st.step = step + 1;
      s = checkpoint_put_f64(&st, "centroids", c, K, 1);
      if (!s) s = checkpoint_put_i64(&st, "inertia", hist, step + 1);
      int64_t me = rank; /* --skew: a bug, a state that is not replicated */
      if (!s && skew) s = checkpoint_put_i64(&st, "rank", &me, 1);
      s = comm_agree(s);
      if (!s) s = checkpoint_save(run, &st);
    }
  }
  if (!s) {
    st.step = steps;
    s = comm_agree(checkpoint_put_f64(&st, "centroids", c, K, 1));
    if (!s) s = comm_agree(checkpoint_put_i64(&st, "inertia", hist, steps));
    if (!s) s = checkpoint_done(run, &st);
  }
  checkpoint_state_free(&st);

  /* stage 2: boost (depends on stage 1's result) */
  double v[4] = {0, 0, 0, 0};
  if (!s) s = checkpoint_resume(run, "boost", key, &st, &found);
  step = 0;
  if (!s && found) {
    const double *vv;
    int64_t r, cc;
    s = checkpoint_get_f64(&st, "v", &vv, &r, &cc);
    if (!s) {
      memcpy(v, vv, sizeof v);
      step = st.step;
    }
    s = comm_agree(s);
  }
  for (; !s && step < steps; step++) {
    int64_t acc[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
      double u = sc_unit(param ^ ((uint64_t)step << 32) ^ (uint64_t)ids[i]);
      int j = (int)(u * 4);
      acc[j] += (int64_t)((x[i] - c[j % K]) * SCALE * 0.5);
    }
    comm_sum_i64(acc, 4);
    for (int j = 0; j < 4; j++) v[j] = 0.9 * v[j] + (double)acc[j] / SCALE;
    done[1]++;
    if (rank == 0) printf("boost step %lld\n", (long long)step + 1), fflush(stdout);
    nap(sleep_ms);
    if (checkpoint_due(run)) {
      st.step = step + 1;
      s = comm_agree(checkpoint_put_f64(&st, "v", v, 4, 1));
      if (!s) s = checkpoint_save(run, &st);
    }
  }
  if (!s) {
    st.step = steps;
    s = comm_agree(checkpoint_put_f64(&st, "v", v, 4, 1));
    if (!s) s = checkpoint_done(run, &st);
  }
  checkpoint_state_free(&st);

  if (!s && rank == 0) {
    FILE *f = NULL;
    s = out_open(run, "result.txt", &f);
    if (!s) {
      for (int j = 0; j < K; j++) fprintf(f, "centroid %d %a\n", j, c[j]);
      for (int i = 0; i < steps; i++) fprintf(f, "inertia %d %lld\n", i, (long long)hist[i]);
      for (int j = 0; j < 4; j++) fprintf(f, "v %d %a\n", j, v[j]);
      s = out_commit(run, "result.txt", f);
    }
  }
  s = comm_agree(s);
  free(hist);
  free(x);
  free(ids);
  return s;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: checkpoint_driver OUT STEPS [--sleep MS] [--every S] [--param P]\n");
    return 2;
  }
  if (comm_init(&argc, &argv)) return 7;
  checkpoint_install();
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.out, sizeof cfg.out, "%s", argv[1]);
  int steps = atoi(argv[2]), sleep_ms = 20;
  uint64_t param = 1;
  int skew = 0;
  cfg.checkpoint_seconds = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--sleep")) sleep_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--every")) cfg.checkpoint_seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--param")) param = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--skew")) skew = atoi(argv[i + 1]);
  }
  sc_run run;
  run_init(&run, &cfg);
  sc_status s = out_begin(&run, 1);
  char p[SC_PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/pid.%d", cfg.out, comm_rank());
  FILE *pf = fopen(p, "w");
  if (pf) {
    fprintf(pf, "%d\n", (int)getpid());
    fclose(pf);
  }
  comm_barrier();
  int64_t done[2] = {0, 0};
  if (!s) s = run_stages(&run, steps, sleep_ms, param, skew, done);
  if (!s) s = comm_agree(run_write_summary(&run));
  if (!s) s = out_publish(&run); /* result.txt, as segcast publishes its outputs */
  if (!s) s = checkpoint_finish(&run);
  if (s) out_cleanup();
  if (comm_rank() == 0) {
    printf("computed fit %lld boost %lld\n", (long long)done[0], (long long)done[1]);
    if (s) fprintf(stderr, "checkpoint_driver: %s\n", sc_message());
  }
  run_free(&run);
  comm_finalize();
  return s;
}
