/* test_segment_select.c: distributed selection and the collective k-means
 * pieces at any rank count, against brute force on the gathered data.
 *
 *   mpirun -np N test_segment_select
 *
 * Each rank draws its own pairs (many duplicates, negative values, empty
 * ranks when N is large); the test gathers everything (fine for a test),
 * sorts it with qsort and checks that seg_select finds the pair at every
 * queried position. Then it fits k-means twice on the same points, once
 * all on rank 0 (the other ranks empty) and once spread in blocks over
 * every rank, and checks that centroids, inertia, scores, iterations and
 * the silhouette are the same bits; the same with seedings on a k-means
 * sample, which must reach the optimum of the unsampled fit. A fit
 * stopped between seedings and resumed from its saved state ends with the
 * same bits as one that was not stopped.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "radix.h"
#include "segment_kmeans.h"
#include "segment_select.h"

static int failures;
#define CHECK(cond, ...)                                      \
  do {                                                        \
    if (!(cond)) {                                            \
      failures++;                                             \
      fprintf(stderr, "rank %d: FAIL %s: ", comm_rank(), #cond); \
      fprintf(stderr, __VA_ARGS__);                           \
      fputc('\n', stderr);                                    \
    }                                                         \
  } while (0)

typedef struct {
  int64_t a, b;
} pair;
static int pair_cmp(const void *x, const void *y) {
  const pair *p = x, *q = y;
  if (p->a != q->a) return p->a < q->a ? -1 : 1;
  return p->b < q->b ? -1 : p->b > q->b;
}

static void test_select(void) {
  int rank = comm_rank(), size = comm_size();
  int64_t n = rank == size - 1 && size > 2 ? 0 : 500 + 37 * rank; /* one empty rank */
  pair *mine = malloc(sizeof(pair) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) {
    uint64_t h = sc_mix64((uint64_t)(rank * 100000 + i));
    mine[i].a = (int64_t)(h % 50) - 25; /* many ties on a */
    mine[i].b = (int64_t)(sc_mix64(h) >> 3) * (h & 1 ? -1 : 1);
  }
  if (rank == 0 && n > 2) {
    mine[0].a = INT64_MIN; /* extremes */
    mine[1].a = INT64_MAX;
  }
  qsort(mine, (size_t)n, sizeof *mine, pair_cmp);
  int64_t *a = malloc(sizeof(int64_t) * (size_t)(n + 1)), *b = malloc(sizeof(int64_t) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) {
    a[i] = mine[i].a;
    b[i] = mine[i].b;
  }
  pair *all = NULL;
  size_t bytes = 0;
  comm_allgatherv(mine, sizeof(pair) * (size_t)n, (void **)&all, &bytes, NULL);
  int64_t total = (int64_t)(bytes / sizeof(pair));
  qsort(all, (size_t)total, sizeof *all, pair_cmp);
  int64_t pos[7] = {0, 1, total / 5, total / 2, total - 2, total - 1, (total * 4 + 4) / 5};
  int64_t oa[7], ob[7];
  CHECK(seg_select(a, b, n, pos, 7, oa, ob) == SC_OK, "seg_select failed");
  for (int q = 0; q < 7; q++)
    CHECK(oa[q] == all[pos[q]].a && ob[q] == all[pos[q]].b, "position %lld: got (%lld, %lld) want (%lld, %lld)",
          (long long)pos[q], (long long)oa[q], (long long)ob[q], (long long)all[pos[q]].a, (long long)all[pos[q]].b);
  free(mine);
  free(a);
  free(b);
  free(all);
}

/* A checkpoint stand-in: keeps the model after two seedings and stops. */
static sc_status stop_after_two(void *ctx, const seg_km_model *so_far) {
  if (so_far->inits_done < 2) return SC_OK;
  seg_km_model *keep = ctx;
  *keep = *so_far;
  keep->C = malloc(sizeof(double) * 9);
  memcpy(keep->C, so_far->C, sizeof(double) * 9);
  return sc_fail(SC_CHECKPOINTED, "stopped after %d seedings", so_far->inits_done);
}

/* Fits k = 3 on the same 2000 points spread two ways; results must match.
 * With `sampled`, seedings run on a 600-point k-means sample. */
static void fit(int spread, int sampled, seg_km_model *m, double *sil) {
  int rank = comm_rank(), size = comm_size();
  enum { N = 2000, D = 3 };
  /* global point g has uid 10 + 3g; spread 0: all on rank 0; 1: blocks */
  int64_t lo = spread ? (int64_t)N * rank / size : (rank == 0 ? 0 : N);
  int64_t hi = spread ? (int64_t)N * (rank + 1) / size : N;
  if (!spread && rank != 0) lo = hi = 0;
  int64_t n = hi - lo;
  double *X = malloc(sizeof(double) * (size_t)(n * D + 1));
  int64_t *uid = malloc(sizeof(int64_t) * (size_t)(n + 1));
  int32_t *lab = malloc(sizeof(int32_t) * (size_t)(n + 1));
  for (int64_t i = 0; i < n; i++) {
    int64_t g = lo + i;
    uid[i] = 10 + 3 * g;
    int grp = (int)(sc_mix64((uint64_t)g) % 3);
    for (int j = 0; j < D; j++) X[(size_t)j * n + i] = grp * 2.0 * (j == grp) + sc_unit((uint64_t)(g * 8 + j)) - 0.5;
  }
  seg_km_data data = {.X = X, .uid = uid, .n = n, .n_total = N, .d = D, .seed = 42, .n_init = 4, .max_iter = 300,
                      .tol = 1e-4, .mean_var = 1.0},
              S;
  if (sampled) {
    CHECK(seg_km_subsample(&data, 600, &S) == SC_OK, "k-means sample failed");
    CHECK(S.n_total == 600, "k-means sample of %lld", (long long)S.n_total);
    data.sample = &S;
  }
  memset(m, 0, sizeof *m);
  CHECK(seg_kmeans_fit(&data, 3, m, lab) == SC_OK, "fit failed");
  /* stopped after two seedings (as a checkpoint would), then resumed:
   * the same bits as the uninterrupted fit */
  seg_km_model saved, resumed;
  memset(&saved, 0, sizeof saved);
  data.after_seeding = stop_after_two;
  data.hook_ctx = &saved;
  memset(&resumed, 0, sizeof resumed);
  CHECK(seg_kmeans_fit(&data, 3, &resumed, lab) == SC_CHECKPOINTED, "the hook did not stop the fit");
  sc_clear();
  free(resumed.C);
  CHECK(saved.inits_done == 2, "saved after %d seedings", saved.inits_done);
  data.after_seeding = NULL;
  CHECK(seg_kmeans_fit(&data, 3, &saved, lab) == SC_OK, "resumed fit failed");
  CHECK(memcmp(saved.C, m->C, sizeof(double) * 9) == 0 && saved.inertia == m->inertia &&
            saved.best_init == m->best_init && saved.inits_done == 4,
        "resumed fit differs (sampled %d)", sampled);
  free(saved.C);
  if (sampled) seg_km_subsample_free(&S);
  seg_sample s;
  CHECK(seg_sample_draw(&data, 500, &s) == SC_OK, "sample failed");
  CHECK(s.m == 500, "sample of %lld", (long long)s.m);
  CHECK(seg_silhouette(&s, lab, 3, sil) == SC_OK, "silhouette failed");
  seg_sample_free(&s);
  free(X);
  free(uid);
  free(lab);
}

static void test_kmeans_spread(void) {
  double full_inertia = 0;
  for (int sampled = 0; sampled < 2; sampled++) {
    seg_km_model one, many;
    double s1, s2;
    fit(0, sampled, &one, &s1);
    fit(1, sampled, &many, &s2);
    CHECK(memcmp(one.C, many.C, sizeof(double) * 9) == 0, "centroids differ (sampled %d)", sampled);
    CHECK(one.inertia == many.inertia, "inertia %.17g vs %.17g", one.inertia, many.inertia);
    CHECK(one.calinski_harabasz == many.calinski_harabasz, "CH differs");
    CHECK(one.davies_bouldin == many.davies_bouldin, "DB differs");
    CHECK(s1 == s2, "silhouette %.17g vs %.17g", s1, s2);
    CHECK(one.n_iter == many.n_iter && one.best_init == many.best_init, "iterations or best seeding differ");
    /* three separated groups of about 667: inertia near 3 * 2000 * (1/12) */
    CHECK(fabs(one.inertia - 500) < 60, "inertia %.3f far from the groups' spread", one.inertia);
    CHECK(s1 > 0.5, "silhouette %.3f too low for separated groups", s1);
    /* seeding on a sample finds the same optimum as seeding on all points */
    if (!sampled) full_inertia = one.inertia;
    else CHECK(fabs(one.inertia - full_inertia) <= 1e-6 * full_inertia, "sampled %.9g vs full %.9g", one.inertia, full_inertia);
    free(one.C);
    free(many.C);
  }
}

int main(int argc, char **argv) {
  if (comm_init(&argc, &argv)) return 2;
  test_select();
  test_kmeans_spread();
  int64_t bad = comm_sum1_i64(failures);
  if (comm_rank() == 0) printf("test_segment_select at %d rank(s): %s\n", comm_size(), bad ? "FAILED" : "ok");
  comm_finalize();
  return bad ? 1 : 0;
}
