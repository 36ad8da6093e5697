/* segment_kmeans.c: distributed k-means, its scores and the choice of k.
 *
 * Seeding is k-means|| (Bahmani et al. 2012, as Spark MLlib does it): a
 * first centre drawn uniformly (the point with the smallest hash of the
 * seeding's key and its user id), then KM_ROUNDS rounds that each keep
 * point x with probability l * d2(x) / phi (l = 2k, phi = the total
 * cost), the candidates weighted by the points closest to them, and a
 * weighted greedy k-means++ plus a local Lloyd on the candidates
 * (kernels/kmeans.c). Spark keys its random streams by partition, so its
 * seeds change with the partitioning; here every draw is keyed by the
 * user id, so they do not.
 *
 * Lloyd follows scikit-learn 1.2's _kmeans_single_lloyd: assign and
 * accumulate, relocate empty clusters to the points farthest from their
 * centre, stop when no label changed (strict convergence) or when the
 * squared centre shift falls to tol * mean feature variance, then one
 * last assignment with the final centres. Per-cluster sums are fixed
 * point (kernels/fxsum.h), combined with one int64 Allreduce per
 * iteration.
 */
#include "segment_kmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "kmeans.h"
#include "radix.h"
#include "segment_select.h"

#define KM_ROUNDS 2

enum { TAG_FIRST = 1, TAG_ROUND = 2, TAG_PP = 3, TAG_SAMPLE = 4, TAG_KMSAMPLE = 5 };

static uint64_t seg_key(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b) {
  return sc_mix64(sc_mix64(sc_mix64(sc_mix64(seed) ^ tag) ^ a) ^ b);
}

/* Sums fixed-point accumulators over ranks (two int64 limbs each). */
sc_status seg_allreduce_fx(fx_acc *v, size_t n) {
  int64_t *l = NULL;
  SC_TRY(comm_agree(sc_alloc(&l, sizeof(int64_t) * FX_LIMBS * (n ? n : 1))));
  for (size_t i = 0; i < n; i++) fx_split(v[i], l + FX_LIMBS * i);
  comm_sum_i64(l, FX_LIMBS * n);
  for (size_t i = 0; i < n; i++) v[i] = fx_join(l + FX_LIMBS * i);
  free(l);
  return SC_OK;
}

/* A point's record when candidates or far points travel between ranks. */
typedef struct {
  double dist;
  int64_t uid;
  int64_t label;
} km_rec;

static size_t rec_size(int d) { return sizeof(km_rec) + sizeof(double) * (size_t)d; }

static int rec_cmp_uid(const void *x, const void *y) {
  const km_rec *a = x, *b = y;
  return (a->uid > b->uid) - (a->uid < b->uid);
}

static int rec_cmp_far(const void *x, const void *y) {
  const km_rec *a = x, *b = y;
  if (a->dist != b->dist) return a->dist > b->dist ? -1 : 1;
  return (a->uid > b->uid) - (a->uid < b->uid);
}

/* Gathers every rank's records (rank order) into *all, *nall. */
static sc_status gather_recs(const char *mine, int64_t nmine, int d, char **all, int64_t *nall) {
  size_t bytes = 0;
  SC_TRY(comm_agree(comm_allgatherv(mine, (size_t)nmine * rec_size(d), (void **)all, &bytes, NULL)));
  *nall = (int64_t)(bytes / rec_size(d));
  return SC_OK;
}

/* Sorts records (header plus d coordinates each). */
static void sort_recs(char *r, int64_t n, int d, int (*cmp)(const void *, const void *)) {
  if (n > 1) qsort(r, (size_t)n, rec_size(d), cmp);
}

/* k-means|| seeding of seeding number `init` for k clusters into C. */
static sc_status seg_seed(const seg_km_data *D, int k, int init, double *C, double *d2, uint8_t *mark) {
  const int d = D->d;
  const int64_t n = D->n;
  uint64_t key = seg_key(D->seed, TAG_FIRST, (uint64_t)k, (uint64_t)init);
  /* the first centre: smallest (hash, uid) over all ranks */
  int64_t bh = INT64_MAX, bu = INT64_MAX, bi = -1;
  for (int64_t i = 0; i < n; i++) {
    int64_t h = (int64_t)(sc_mix64(key ^ sc_mix64((uint64_t)D->uid[i])) >> 1);
    if (h < bh || (h == bh && D->uid[i] < bu)) {
      bh = h;
      bu = D->uid[i];
      bi = i;
    }
  }
  int64_t gh = comm_min1_i64(bh), gu = comm_min1_i64(bh == gh ? bu : INT64_MAX);
  size_t rs = rec_size(d);
  char *cand = NULL;
  int64_t m = 1, cap = 64;
  SC_TRY(comm_agree(sc_calloc(&cand, (size_t)cap, sizeof(double) * (size_t)d)));
  double *cc = (double *)cand;
  if (bi >= 0 && bh == gh && bu == gu)
    for (int j = 0; j < d; j++) cc[j] = D->X[(size_t)j * n + bi];
  comm_sum_double(cc, (size_t)d);
  fx_acc phi = 0;
  km_d2_update(D->X, n, d, cc, 1, d2, 1, &phi);
  sc_status s = seg_allreduce_fx(&phi, 1);
  char *mine = NULL, *all = NULL;
  for (int r = 0; !s && r < KM_ROUNDS; r++) {
    uint64_t rkey = seg_key(D->seed, TAG_ROUND, (uint64_t)k * 1000003u + (uint64_t)init, (uint64_t)r);
    int64_t nm = km_oversample(d2, D->uid, n, 2.0 * k, fx_value_d2(phi), rkey, mark);
    s = comm_agree(sc_alloc(&mine, rs * (size_t)(nm + 1)));
    if (s) break;
    int64_t o = 0;
    for (int64_t i = 0; i < n; i++) {
      if (!mark[i]) continue;
      km_rec *rec = (km_rec *)(mine + rs * (size_t)o++);
      rec->dist = 0;
      rec->uid = D->uid[i];
      rec->label = 0;
      double *x = (double *)(rec + 1);
      for (int j = 0; j < d; j++) x[j] = D->X[(size_t)j * n + i];
    }
    int64_t nall = 0;
    s = gather_recs(mine, nm, d, &all, &nall);
    free(mine);
    mine = NULL;
    if (s) break;
    sort_recs(all, nall, d, rec_cmp_uid);
    if (m + nall > cap) {
      while (m + nall > cap) cap *= 2;
      s = comm_agree(sc_realloc(&cand, sizeof(double) * (size_t)d * (size_t)cap));
      if (s) break;
      cc = (double *)cand;
    }
    for (int64_t t = 0; t < nall; t++) {
      const double *x = (const double *)((km_rec *)(all + rs * (size_t)t) + 1);
      memcpy(cc + (size_t)(m + t) * d, x, sizeof(double) * (size_t)d);
    }
    free(all);
    all = NULL;
    if (nall > 0) {
      km_d2_update(D->X, n, d, cc + (size_t)m * d, nall, d2, 0, &phi);
      s = seg_allreduce_fx(&phi, 1);
    }
    m += nall;
  }
  /* weights: points closest to each candidate */
  int64_t *w = NULL;
  double *wd = NULL;
  if (!s) s = sc_calloc(&w, (size_t)m, sizeof *w);
  if (!s) s = sc_alloc(&wd, sizeof(double) * (size_t)m);
  if (!s) {
    km_pass p = {0};
    p.counts = w;
    if (km_assign(D->X, n, d, cc, (int)m, &p)) s = sc_fail(SC_ENOMEM, "k-means: out of memory weighting candidates");
  }
  s = comm_agree(s);
  if (!s) {
    comm_sum_i64(w, (size_t)m);
    for (int64_t i = 0; i < m; i++) wd[i] = (double)w[i];
    uint64_t pkey = seg_key(D->seed, TAG_PP, (uint64_t)k, (uint64_t)init);
    if (km_pp_weighted(cc, wd, m, d, k, pkey, C)) s = sc_fail(SC_ENOMEM, "k-means: out of memory in k-means++");
    s = comm_agree(s);
  }
  free(w);
  free(wd);
  free(mine);
  free(all);
  free(cand);
  return s;
}

/* Moves the points farthest from their centre into the empty clusters
 * (scikit-learn's _relocate_empty_clusters): adjusts sums and counts. */
static sc_status relocate_empty(const seg_km_data *D, int k, const double *C, const int32_t *labels, int64_t *counts,
                                fx_acc *sums) {
  const int d = D->d;
  int ne = 0;
  for (int c = 0; c < k; c++) ne += counts[c] == 0;
  size_t rs = rec_size(d);
  int64_t *idx = NULL;
  double *dist = NULL;
  char *mine = NULL, *all = NULL;
  sc_status s = sc_alloc(&idx, sizeof(int64_t) * (size_t)ne);
  if (!s) s = sc_alloc(&dist, sizeof(double) * (size_t)ne);
  if (!s) s = sc_alloc(&mine, rs * (size_t)ne);
  s = comm_agree(s);
  int64_t nall = 0;
  if (!s) {
    int got = km_farthest(D->X, D->n, d, C, labels, D->uid, ne, idx, dist);
    for (int t = 0; t < got; t++) {
      km_rec *r = (km_rec *)(mine + rs * (size_t)t);
      r->dist = dist[t];
      r->uid = D->uid[idx[t]];
      r->label = labels[idx[t]];
      double *x = (double *)(r + 1);
      for (int j = 0; j < d; j++) x[j] = D->X[(size_t)j * D->n + idx[t]];
    }
    s = gather_recs(mine, got, d, &all, &nall);
  }
  if (!s) {
    sort_recs(all, nall, d, rec_cmp_far);
    int e = 0;
    for (int c = 0; c < k && e < nall; c++) {
      if (counts[c] != 0) continue;
      const km_rec *r = (const km_rec *)(all + rs * (size_t)e++);
      const double *x = (const double *)(r + 1);
      for (int j = 0; j < d; j++) {
        int64_t q = fx_q(x[j]);
        sums[r->label * d + j] -= q;
        sums[c * d + j] = q;
      }
      counts[r->label]--;
      counts[c] = 1;
    }
  }
  free(idx);
  free(dist);
  free(mine);
  free(all);
  return s;
}

/* Lloyd from the centres in C (updated in place); labels get the final
 * assignment, *inertia its cost. */
static sc_status seg_lloyd(const seg_km_data *D, int k, double *C, int32_t *labels, double *inertia, int *iters) {
  const int d = D->d;
  const int64_t n = D->n;
  double tol = D->tol * D->mean_var;
  int64_t *red = NULL, *lcnt = NULL;
  fx_acc *sums = NULL, *lsum = NULL;
  double *newc = NULL;
  /* one Allreduce per iteration: [changed, failed, counts, sum limbs] */
  size_t nred = 2 + (size_t)k + FX_LIMBS * (size_t)k * d;
  sc_status s = sc_alloc(&red, sizeof(int64_t) * nred);
  if (!s) s = sc_alloc(&sums, sizeof(fx_acc) * (size_t)k * d);
  if (!s) s = sc_alloc(&newc, sizeof(double) * (size_t)k * d);
  /* this rank's counts and sums by label, updated incrementally */
  if (!s) s = sc_calloc(&lcnt, (size_t)k, sizeof *lcnt);
  if (!s) s = sc_calloc(&lsum, (size_t)k * d, sizeof *lsum);
  s = comm_agree(s);
  for (int64_t i = 0; !s && i < n; i++) labels[i] = -1;
  int it = 0;
  int64_t prev_changed = D->n_total;
  for (; !s && it < D->max_iter; it++) {
    km_pass p = {0};
    p.labels = labels;
    p.counts = lcnt;
    p.sums = lsum;
    /* when few labels moved last time, update the sums by the movers only;
     * otherwise recount (both give the same bits; the global count decides,
     * so every rank chooses alike) */
    p.incremental = it > 0 && prev_changed * 16 < D->n_total;
    if (km_assign(D->X, n, d, C, k, &p)) s = sc_fail(SC_ENOMEM, "k-means: out of memory in an assignment pass");
    red[0] = p.changed;
    red[1] = s != SC_OK;
    memcpy(red + 2, lcnt, sizeof(int64_t) * (size_t)k);
    int64_t *limbs = red + 2 + k;
    for (int c = 0; c < k * d; c++) fx_split(lsum[c], limbs + FX_LIMBS * c);
    comm_sum_i64(red, nred);
    if (red[1]) {
      s = comm_agree(s); /* every rank sees the failure: agree on its message */
      break;
    }
    for (int c = 0; c < k * d; c++) sums[c] = fx_join(limbs + FX_LIMBS * c);
    prev_changed = red[0];
    int64_t *counts = red + 2;
    int empty = 0;
    for (int c = 0; c < k; c++) empty |= counts[c] == 0;
    if (empty) s = relocate_empty(D, k, C, labels, counts, sums);
    if (s) break;
    double shift = 0;
    for (int c = 0; c < k; c++) {
      for (int j = 0; j < d; j++) {
        double v = counts[c] > 0 ? fx_value(sums[c * d + j]) / (double)counts[c] : C[c * d + j];
        double diff = v - C[c * d + j];
        shift += diff * diff;
        newc[c * d + j] = v;
      }
    }
    memcpy(C, newc, sizeof(double) * (size_t)k * d);
    if (red[0] == 0) {
      it++;
      break; /* strict convergence: labels unchanged */
    }
    if (shift <= tol) {
      it++;
      break;
    }
  }
  if (!s) {
    km_pass p = {0};
    p.labels = labels;
    p.want_inertia = 1;
    if (km_assign(D->X, n, d, C, k, &p)) s = sc_fail(SC_ENOMEM, "k-means: out of memory in an assignment pass");
    s = comm_agree(s);
    if (!s) s = seg_allreduce_fx(&p.inertia, 1);
    if (!s) *inertia = fx_value_d2(p.inertia);
  }
  *iters = it;
  free(red);
  free(sums);
  free(newc);
  free(lcnt);
  free(lsum);
  return s;
}

/* The full data's inertia for centroids C (one assignment pass). */
static sc_status full_inertia(const seg_km_data *D, const double *C, int k, int32_t *labels, double *out) {
  km_pass p = {0};
  p.labels = labels;
  p.want_inertia = 1;
  sc_status s = km_assign(D->X, D->n, D->d, C, k, &p) ? sc_fail(SC_ENOMEM, "k-means: out of memory") : SC_OK;
  s = comm_agree(s);
  if (!s) s = seg_allreduce_fx(&p.inertia, 1);
  if (!s) *out = fx_value_d2(p.inertia);
  return s;
}

sc_status seg_kmeans_fit(const seg_km_data *D, int k, seg_km_model *out, int32_t *labels) {
  sc_status s = SC_OK;
  if (!(out->C && out->k == k && out->inits_done > 0)) {
    /* a fresh fit; otherwise resume after out->inits_done seedings */
    free(out->C);
    memset(out, 0, sizeof *out);
    out->k = k;
    out->inertia = INFINITY;
    s = sc_alloc(&out->C, sizeof(double) * (size_t)k * D->d);
  }
  /* with a sample, seedings run on it and compete on the full data */
  const seg_km_data *S = D->sample && D->sample->n_total >= k ? D->sample : D;
  double *C = NULL, *d2 = NULL;
  uint8_t *mark = NULL;
  int32_t *slab = NULL;
  if (!s) s = sc_alloc(&C, sizeof(double) * (size_t)k * D->d);
  if (!s) s = sc_alloc(&d2, sizeof(double) * (size_t)(S->n + 1));
  if (!s) s = sc_alloc(&mark, (size_t)(S->n + 1));
  if (!s) s = sc_alloc(&slab, sizeof(int32_t) * (size_t)(S->n + 1));
  s = comm_agree(s);
  for (int init = out->inits_done; !s && init < D->n_init; init++) {
    double inertia = 0;
    int iters = 0;
    s = seg_seed(S, k, init, C, d2, mark);
    if (!s) s = seg_lloyd(S, k, C, S == D ? labels : slab, &inertia, &iters);
    if (!s && S != D) s = full_inertia(D, C, k, labels, &inertia);
    if (!s && inertia < out->inertia) {
      out->inertia = inertia;
      out->n_iter = iters;
      out->best_init = init;
      memcpy(out->C, C, sizeof(double) * (size_t)k * D->d);
    }
    out->inits_done = init + 1;
    /* the state between seedings is *out: a checkpoint can save it here */
    if (!s && D->after_seeding) s = D->after_seeding(D->hook_ctx, out);
  }
  if (!s && S != D) {
    /* Lloyd on the full data from the best seeding's sample optimum */
    double inertia = 0;
    int iters = 0;
    s = seg_lloyd(D, k, out->C, labels, &inertia, &iters);
    out->inertia = inertia;
    out->n_iter = iters;
  }
  free(C);
  free(d2);
  free(mark);
  free(slab);
  if (!s) s = seg_kmeans_scores(D, out, labels);
  return s;
}

sc_status seg_kmeans_scores(const seg_km_data *D, seg_km_model *m, int32_t *labels) {
  const int d = D->d, k = m->k;
  int64_t *counts = NULL;
  fx_acc *acc = NULL;
  double *M = NULL;
  /* acc: k*d sums, inertia, within, k distance sums */
  size_t nacc = (size_t)k * d + 2 + (size_t)k;
  sc_status s = sc_calloc(&counts, (size_t)k, sizeof *counts);
  if (!s) s = sc_calloc(&acc, nacc, sizeof *acc);
  if (!s) s = sc_calloc(&M, (size_t)k * d, sizeof *M);
  s = comm_agree(s);
  if (!s) {
    km_pass p = {0};
    p.labels = labels;
    p.counts = counts;
    p.sums = acc;
    p.want_inertia = 1;
    if (km_assign(D->X, D->n, d, m->C, k, &p)) s = sc_fail(SC_ENOMEM, "k-means: out of memory scoring a model");
    acc[(size_t)k * d] = p.inertia;
    s = comm_agree(s);
  }
  if (!s) {
    comm_sum_i64(counts, (size_t)k);
    s = seg_allreduce_fx(acc, (size_t)k * d + 1);
  }
  if (!s) {
    for (int c = 0; c < k; c++)
      for (int j = 0; j < d; j++) M[c * d + j] = counts[c] ? fx_value(acc[c * d + j]) / (double)counts[c] : 0;
    fx_acc *within = acc + (size_t)k * d + 1, *dist = within + 1;
    if (km_cluster_spread(D->X, D->n, d, labels, M, k, within, dist))
      s = sc_fail(SC_ENOMEM, "k-means: out of memory scoring a model");
    s = comm_agree(s);
    if (!s) s = seg_allreduce_fx(within, 1 + (size_t)k);
  }
  if (!s) {
    m->inertia = fx_value_d2(acc[(size_t)k * d]);
    double W = fx_value_d2(acc[(size_t)k * d + 1]);
    const fx_acc *dist = acc + (size_t)k * d + 2;
    /* global mean: sum of the cluster sums */
    double mu[KM_MAX_D];
    int64_t ntot = 0, ne = 0;
    for (int c = 0; c < k; c++) ntot += counts[c], ne += counts[c] > 0;
    for (int j = 0; j < d; j++) {
      fx_acc t = 0;
      for (int c = 0; c < k; c++) t += acc[c * d + j];
      mu[j] = ntot ? fx_value(t) / (double)ntot : 0;
    }
    m->nonempty = ne;
    double B = 0;
    for (int c = 0; c < k; c++) {
      if (!counts[c]) continue;
      double e = 0;
      for (int j = 0; j < d; j++) e += (M[c * d + j] - mu[j]) * (M[c * d + j] - mu[j]);
      B += (double)counts[c] * e;
    }
    if (ne < 2 || ntot <= ne) m->calinski_harabasz = NAN;
    else m->calinski_harabasz = W == 0 ? 1.0 : B * (double)(ntot - ne) / (W * (double)(ne - 1));
    /* Davies-Bouldin over the non-empty clusters */
    double sum = 0, maxs = 0, maxc = 0;
    for (int c = 0; c < k; c++) {
      if (!counts[c]) continue;
      double sc = fx_value(dist[c]) / (double)counts[c];
      maxs = sc > maxs ? sc : maxs;
      for (int c2 = 0; c2 < k; c2++) {
        if (!counts[c2] || c2 == c) continue;
        double e = 0;
        for (int j = 0; j < d; j++) e += (M[c * d + j] - M[c2 * d + j]) * (M[c * d + j] - M[c2 * d + j]);
        maxc = sqrt(e) > maxc ? sqrt(e) : maxc;
      }
    }
    if (ne < 2) m->davies_bouldin = NAN;
    else if (maxs <= 1e-8 || maxc <= 1e-8) m->davies_bouldin = 0; /* scikit-learn's allclose(0) cases */
    else {
      for (int c = 0; c < k; c++) {
        if (!counts[c]) continue;
        double sc = fx_value(dist[c]) / (double)counts[c], worst = 0;
        for (int c2 = 0; c2 < k; c2++) {
          if (!counts[c2] || c2 == c) continue;
          double e = 0;
          for (int j = 0; j < d; j++) e += (M[c * d + j] - M[c2 * d + j]) * (M[c * d + j] - M[c2 * d + j]);
          double r = e > 0 ? (sc + fx_value(dist[c2]) / (double)counts[c2]) / sqrt(e) : 0;
          worst = r > worst ? r : worst;
        }
        sum += worst;
      }
      m->davies_bouldin = sum / (double)ne;
    }
  }
  free(counts);
  free(acc);
  free(M);
  return s;
}

/* This rank's members (local indices, ascending) of the `want` points
 * with the smallest (hash of (key, uid), uid) over all ranks. */
static sc_status subset_draw(const seg_km_data *D, int64_t want, uint64_t key, int64_t *local, int64_t *n_local) {
  const int64_t n = D->n;
  int64_t *h = NULL, *ix = NULL, *b = NULL;
  sc_status s = sc_alloc(&h, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&ix, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&b, sizeof(int64_t) * (size_t)(n + 1));
  s = comm_agree(s);
  int64_t th = INT64_MAX, tu = INT64_MAX;
  if (!s && want < D->n_total) {
    for (int64_t i = 0; i < n; i++) {
      h[i] = (int64_t)(sc_mix64(key ^ sc_mix64((uint64_t)D->uid[i])) >> 1);
      ix[i] = i;
    }
    /* select the pair at position want - 1 of the global order */
    s = comm_agree(radix_sort_i64(h, ix, n) ? sc_fail(SC_ENOMEM, "segment: out of memory drawing a sample") : SC_OK);
    if (!s) {
      for (int64_t i = 0; i < n; i++) b[i] = D->uid[ix[i]];
      int64_t pos = want - 1;
      s = seg_select(h, b, n, &pos, 1, &th, &tu);
    }
  }
  *n_local = 0;
  for (int64_t i = 0; !s && i < n; i++) {
    int64_t hv = (int64_t)(sc_mix64(key ^ sc_mix64((uint64_t)D->uid[i])) >> 1);
    if (hv < th || (hv == th && D->uid[i] <= tu)) local[(*n_local)++] = i;
  }
  free(h);
  free(ix);
  free(b);
  return s;
}

sc_status seg_sample_draw(const seg_km_data *D, int64_t want, seg_sample *sm) {
  memset(sm, 0, sizeof *sm);
  sm->d = D->d;
  const int64_t n = D->n;
  sc_status s = comm_agree(sc_alloc(&sm->local, sizeof(int64_t) * (size_t)(n + 1)));
  if (!s) s = subset_draw(D, want, seg_key(D->seed, TAG_SAMPLE, 0, 0), sm->local, &sm->n_local);
  double *mine = NULL;
  if (!s) s = comm_agree(sc_alloc(&mine, sizeof(double) * (size_t)(sm->n_local * D->d + 1)));
  if (s) return s;
  for (int64_t t = 0; t < sm->n_local; t++)
    for (int j = 0; j < D->d; j++) mine[t * D->d + j] = D->X[(size_t)j * n + sm->local[t]];
  size_t bytes = 0;
  s = comm_agree(comm_allgatherv(mine, sizeof(double) * (size_t)(sm->n_local * D->d), (void **)&sm->P, &bytes, NULL));
  free(mine);
  if (!s) sm->m = (int64_t)(bytes / (sizeof(double) * (size_t)D->d));
  return s;
}

sc_status seg_km_subsample(const seg_km_data *D, int64_t want, seg_km_data *S) {
  *S = *D;
  S->sample = NULL;
  S->sample_size = 0;
  int64_t *idx = NULL, m = 0;
  double *X = NULL;
  int64_t *uid = NULL;
  sc_status s = comm_agree(sc_alloc(&idx, sizeof(int64_t) * (size_t)(D->n + 1)));
  if (!s) s = subset_draw(D, want, seg_key(D->seed, TAG_KMSAMPLE, 0, 0), idx, &m);
  if (!s) s = sc_alloc(&X, sizeof(double) * (size_t)(m * D->d + 1));
  if (!s) s = sc_alloc(&uid, sizeof(int64_t) * (size_t)(m + 1));
  s = comm_agree(s);
  if (!s) {
    for (int64_t t = 0; t < m; t++) {
      uid[t] = D->uid[idx[t]];
      for (int j = 0; j < D->d; j++) X[(size_t)j * m + t] = D->X[(size_t)j * D->n + idx[t]];
    }
    S->X = X;
    S->uid = uid;
    S->n = m;
    S->n_total = comm_sum1_i64(m);
  } else {
    free(X);
    free(uid);
  }
  free(idx);
  return s;
}

void seg_km_subsample_free(seg_km_data *S) {
  free((void *)S->X);
  free((void *)S->uid);
  S->X = NULL;
  S->uid = NULL;
}

void seg_sample_free(seg_sample *s) {
  free(s->P);
  free(s->local);
  memset(s, 0, sizeof *s);
}

sc_status seg_silhouette(const seg_sample *sm, const int32_t *labels, int k, double *out) {
  const int64_t m = sm->m;
  const int d = sm->d;
  int32_t *mine = NULL, *lab = NULL;
  int64_t *start = NULL, *fill = NULL;
  double *S = NULL;
  *out = NAN;
  sc_status s = sc_alloc(&mine, sizeof(int32_t) * (size_t)(sm->n_local + 1));
  if (!s) s = sc_calloc(&start, (size_t)k + 1, sizeof *start);
  if (!s) s = sc_calloc(&fill, (size_t)k + 1, sizeof *fill);
  if (!s) s = sc_alloc(&S, sizeof(double) * (size_t)(m * d + 1));
  s = comm_agree(s);
  size_t bytes = 0;
  if (!s) {
    for (int64_t t = 0; t < sm->n_local; t++) mine[t] = labels[sm->local[t]];
    s = comm_agree(comm_allgatherv(mine, sizeof(int32_t) * (size_t)sm->n_local, (void **)&lab, &bytes, NULL));
  }
  if (!s) {
    /* counting sort by label, stable in user-id order */
    for (int64_t i = 0; i < m; i++) start[lab[i] + 1]++;
    int ne = 0;
    for (int c = 0; c < k; c++) ne += start[c + 1] > 0;
    for (int c = 0; c < k; c++) start[c + 1] += start[c];
    memcpy(fill, start, sizeof(int64_t) * (size_t)k);
    for (int64_t i = 0; i < m; i++) {
      int64_t o = fill[lab[i]]++;
      for (int j = 0; j < d; j++) S[(size_t)j * m + o] = sm->P[i * d + j];
    }
    if (ne >= 2 && ne < m) {
      int r = comm_rank(), size = comm_size();
      int64_t lo = m * r / size, hi = m * (r + 1) / size;
      fx_acc sum = 0;
      if (km_silhouette_rows(S, m, d, start, k, lo, hi, &sum))
        s = sc_fail(SC_ENOMEM, "out of memory computing the silhouette");
      s = comm_agree(s);
      if (!s) s = seg_allreduce_fx(&sum, 1);
      if (!s) *out = fx_value(sum) / (double)m;
    }
  }
  free(mine);
  free(lab);
  free(start);
  free(fill);
  free(S);
  return s;
}

void seg_sweep_free(seg_sweep *s) {
  for (int i = 0; i < s->cap; i++) free(s->models[i].C);
  free(s->models);
  memset(s, 0, sizeof *s);
}

int seg_choose_k(const seg_km_model *mo, int nk) {
  if (nk <= 0) return -1;
  if (nk <= 2) {
    int best = 0;
    for (int i = 1; i < nk; i++)
      if (mo[i].silhouette > mo[best].silhouette) best = i;
    return best;
  }
  /* knee: the largest gap below the chord from the first to the last point */
  double k0 = mo[0].k, k1 = mo[nk - 1].k, i0 = mo[0].inertia, i1 = mo[nk - 1].inertia;
  int knee = 0;
  double gap = -INFINITY;
  for (int i = 0; i < nk; i++) {
    double x = (mo[i].k - k0) / (k1 - k0);
    double y = i0 != i1 ? (mo[i].inertia - i1) / (i0 - i1) : 0;
    double g = (1 - x) - y;
    if (g > gap) {
      gap = g;
      knee = i;
    }
  }
  double best_sil = -INFINITY;
  for (int i = 0; i < nk; i++)
    if (mo[i].silhouette > best_sil) best_sil = mo[i].silhouette;
  if (!isfinite(best_sil) || !(mo[knee].silhouette < best_sil - 0.1 * fabs(best_sil))) return knee;
  int pick = knee;
  for (int i = knee - 1; i <= knee + 1; i++) {
    if (i < 0 || i >= nk) continue;
    if (mo[i].silhouette > mo[pick].silhouette || (mo[i].silhouette == mo[pick].silhouette && i < pick)) pick = i;
  }
  return pick;
}
