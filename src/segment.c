/* segment.c: the segment stage: customer features, RFM scores, k-means
 * model selection, profiles and names, and the segmentation outputs.
 *
 * Data flow (every step collective, every result the same bits at any
 * rank or thread count):
 *   1. features: each rank computes the customers of the users it holds
 *      (ingest partitions lines, users and clicks by user hash), OpenMP
 *      over customers (kernels/custfeat.c);
 *   2. range partition: customers move to ranks by user-id range (the
 *      splitters are distributed order statistics), so rank r holds the
 *      r-th block of the user-id order; outputs then stream in order;
 *   3. RFM: quintile boundaries are found by distributed selection over
 *      (value, user id), so no rank ever holds all customers;
 *   4. clustering: log1p + standardize with fixed-point means and
 *      variances, the sweep over k (segment_kmeans.c), checkpointed after
 *      every seeding so a stopped job resumes (checkpoint.h, 4b below),
 *      the choice of k;
 *   5. profiles: per-cluster means from exact integer sums (every
 *      feature is an integer or a value in millionths), medians by
 *      distributed selection; names and actions by a documented rule;
 *   6. outputs (segment_out.c).
 * docs/segmentation.md states every rule.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "comm.h"
#include "custfeat.h"
#include "radix.h"
#include "segment_internal.h"
#include "segment_select.h"
#include "stages.h"

const char *const seg_rfm_names[SEG_NRFM] = {"Champions",       "Loyal Customers", "Potential Loyalists",
                                             "New Customers",   "Promising",       "Need Attention",
                                             "About to Sleep",  "Can't Lose Them", "At Risk",
                                             "Hibernating"};

int seg_rfm_segment(int r, int f) {
  if (r == 5 && f >= 4) return 0;
  if (r >= 3 && r <= 4 && f >= 4) return 1;
  if (r >= 4 && f >= 2 && f <= 3) return 2;
  if (r == 5 && f == 1) return 3;
  if (r == 4 && f == 1) return 4;
  if (r == 3 && f == 3) return 5;
  if (r == 3 && f <= 2) return 6;
  if (r <= 2 && f == 5) return 7;
  if (r <= 2 && f >= 3) return 8;
  return 9;
}

/* ---- configuration ---------------------------------------------------- */

static sc_status seg_configure(const sc_run *run, const sc_dataset *ds, seg_ctx *cx) {
  const char *lay = ds->layout;
  int market = !strcmp(lay, "marketplace");
  for (int f = 0; f < SEG_NFEAT; f++) cx->present[f] = 1;
  cx->present[SEG_DISCOUNT] = market;
  cx->present[SEG_CLICKS] = market && ds->has_clicks;
  cx->present[SEG_DIVERSITY] = ds->has_sku;
  cx->as_of = ds->as_of_day;
  /* segment.features: a comma-separated list of present features */
  char buf[sizeof run->cfg.features];
  snprintf(buf, sizeof buf, "%s", run->cfg.features);
  cx->d = 0;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    while (*t == ' ') t++;
    char *e = t + strlen(t);
    while (e > t && e[-1] == ' ') *--e = 0;
    int f = seg_feature_find(t);
    if (f < 0)
      return sc_fail(SC_EUSAGE, "segment.features names '%s', which is not a customer feature (choose from "
                                "recency_days, frequency, monetary, product_diversity, avg_order_value, "
                                "purchase_span_days, tenure_days, avg_discount_rate, clicks_90d, return_lines)",
                     t);
    if (!cx->present[f])
      return sc_fail(SC_EUSAGE, "segment.features names '%s', which the %s layout%s does not have: remove it", t, lay,
                     f == SEG_CLICKS && market ? " without clicks.csv" : "");
    for (int j = 0; j < cx->d; j++)
      if (cx->feat[j] == f) return sc_fail(SC_EUSAGE, "segment.features names '%s' twice", t);
    if (cx->d == KM_MAX_D) return sc_fail(SC_EUSAGE, "segment.features names more than %d features", KM_MAX_D);
    cx->feat[cx->d++] = f;
  }
  if (cx->d == 0) return sc_fail(SC_EUSAGE, "segment.features is empty: name at least one customer feature");
  cx->k_fixed = strcmp(run->cfg.k, "auto") ? atoi(run->cfg.k) : 0;
  return SC_OK;
}

/* ---- 1. features ------------------------------------------------------- */

static sc_status seg_compute_features(const sc_dataset *ds, seg_ctx *cx) {
  const sc_table *L = &ds->lines;
  feat_lines in = {0};
  in.n = L->n;
  in.user_id = table_i64(L, "user_id");
  in.order_id = table_i64(L, "order_id");
  in.sku = ds->has_sku ? table_i64(L, "sku") : NULL;
  in.day = table_i32(L, "day");
  in.amount = table_f64(L, "amount");
  in.orig_amount = table_f64(L, "orig_amount");
  in.flags = table_u8(L, "flags");
  if (!in.user_id || !in.order_id || (ds->has_sku && !in.sku) || !in.day || !in.amount || !in.orig_amount || !in.flags)
    return SC_EINTERNAL;
  int64_t *starts = NULL;
  SC_TRY(sc_alloc(&starts, sizeof(int64_t) * (size_t)(in.n + 1)));
  int64_t G = feat_groups(in.user_id, in.n, starts);
  feat_out o;
  void *mem = NULL;
  size_t per = 6 * sizeof(int64_t) + 2 * sizeof(int32_t) + 3 * sizeof(double);
  sc_status s = sc_alloc(&mem, per * (size_t)(G + 1));
  if (s) {
    free(starts);
    return s;
  }
  char *p = mem;
  size_t g1 = (size_t)(G + 1);
  o.user_id = (int64_t *)p, p += 8 * g1;
  o.valid_lines = (int64_t *)p, p += 8 * g1;
  o.frequency = (int64_t *)p, p += 8 * g1;
  o.diversity = (int64_t *)p, p += 8 * g1;
  o.return_lines = (int64_t *)p, p += 8 * g1;
  int64_t *clicks = (int64_t *)p;
  p += 8 * g1;
  o.monetary = (double *)p, p += 8 * g1;
  o.final_sum = (double *)p, p += 8 * g1;
  o.orig_sum = (double *)p, p += 8 * g1;
  o.first_day = (int32_t *)p, p += 4 * g1;
  o.last_day = (int32_t *)p;
  if (feat_compute(&in, starts, G, cx->as_of, &o)) s = sc_fail(SC_ENOMEM, "segment: out of memory computing features");
  free(starts);
  /* keep the customers (users with a valid line before as_of) */
  int64_t n = 0;
  for (int64_t g = 0; !s && g < G; g++) {
    if (!o.valid_lines[g]) continue;
    o.user_id[n] = o.user_id[g];
    o.frequency[n] = o.frequency[g];
    o.diversity[n] = o.diversity[g];
    o.return_lines[n] = o.return_lines[g];
    o.monetary[n] = o.monetary[g];
    o.final_sum[n] = o.final_sum[g];
    o.orig_sum[n] = o.orig_sum[g];
    o.first_day[n] = o.first_day[g];
    o.last_day[n] = o.last_day[g];
    n++;
  }
  if (!s) s = table_init(&cx->cust, "customers", SEG_CUST_SPEC);
  if (!s) s = table_resize(&cx->cust, n);
  if (!s) {
    int32_t *created = NULL;
    if (ds->has_users && ds->users.n > 0) {
      s = sc_alloc(&created, sizeof(int32_t) * (size_t)(n + 1));
      if (!s) {
        const int64_t *uu = table_i64(&ds->users, "user_id");
        const int32_t *cd = table_i32(&ds->users, "created_day");
        if (!uu || !cd) s = SC_EINTERNAL;
        else feat_lookup_i32(o.user_id, n, uu, cd, ds->users.n, SC_NO_DAY, created);
      }
    }
    if (!s && cx->present[SEG_CLICKS]) {
      const int64_t *cu = table_i64(&ds->clicks, "user_id");
      const int32_t *cdy = table_i32(&ds->clicks, "day");
      if (!cu || !cdy) s = SC_EINTERNAL;
      else feat_count_window(o.user_id, n, cu, cdy, ds->clicks.n, cx->as_of - 90, cx->as_of, clicks);
    }
    if (!s) {
      int64_t *uid = table_i64(&cx->cust, "user_id");
      int64_t *F[SEG_NFEAT];
      double *D[SEG_NFEAT];
      for (int f = 0; f < SEG_NFEAT; f++) {
        F[f] = seg_feature_is_int(f) ? table_i64(&cx->cust, seg_feature_name[f]) : NULL;
        D[f] = seg_feature_is_int(f) ? NULL : table_f64(&cx->cust, seg_feature_name[f]);
      }
      for (int64_t i = 0; i < n; i++) {
        uid[i] = o.user_id[i];
        F[SEG_RECENCY][i] = cx->as_of - o.last_day[i];
        F[SEG_FREQUENCY][i] = o.frequency[i];
        D[SEG_MONETARY][i] = feat_round6(o.monetary[i]);
        F[SEG_DIVERSITY][i] = cx->present[SEG_DIVERSITY] ? o.diversity[i] : 0;
        D[SEG_AOV][i] = feat_round6(o.monetary[i] / (double)o.frequency[i]);
        F[SEG_SPAN][i] = o.last_day[i] - o.first_day[i];
        int32_t since = created && created[i] != SC_NO_DAY ? created[i] : o.first_day[i];
        F[SEG_TENURE][i] = cx->as_of - since;
        D[SEG_DISCOUNT][i] =
            cx->present[SEG_DISCOUNT] && o.orig_sum[i] > 0 ? feat_round6(1.0 - o.final_sum[i] / o.orig_sum[i]) : 0;
        F[SEG_CLICKS][i] = cx->present[SEG_CLICKS] ? clicks[i] : 0;
        F[SEG_RETURNS][i] = o.return_lines[i];
      }
    }
    free(created);
  }
  free(mem);
  return s;
}

/* ---- 2. range partition by user id ------------------------------------ */

static sc_status seg_range_partition(seg_ctx *cx) {
  return seg_partition_by_range(&cx->cust, "user_id", &cx->n_total, NULL);
}

/* ---- 3. RFM ------------------------------------------------------------ */

/* Quintile score g = 0..4 of every customer for one key (value, uid). */
static sc_status seg_quintiles(const int64_t *value, const int64_t *uid, int64_t n, int64_t N, int32_t *g) {
  int64_t *a = NULL, *ix = NULL, *b = NULL;
  sc_status s = sc_alloc(&a, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&ix, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&b, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) {
    for (int64_t i = 0; i < n; i++) {
      a[i] = value[i];
      ix[i] = i;
    }
    if (radix_sort_i64(a, ix, n)) s = sc_fail(SC_ENOMEM, "segment: out of memory ranking customers");
  }
  s = comm_agree(s);
  int64_t pos[4], ka[4], kb[4];
  int nq = 0;
  /* b_q = ceil(q N / 5): the first rank position with score >= q */
  for (int q = 1; q <= 4; q++) {
    int64_t p = sc_muldiv_ceil(q, N, 5);
    if (p < N) pos[nq++] = p;
  }
  if (!s) {
    for (int64_t i = 0; i < n; i++) b[i] = uid[ix[i]];
    s = seg_select(a, b, n, pos, nq, ka, kb);
  }
  for (int64_t i = 0; !s && i < n; i++) {
    int sc = 0;
    for (int q = 0; q < nq; q++) sc += value[i] > ka[q] || (value[i] == ka[q] && uid[i] >= kb[q]);
    g[i] = sc;
  }
  free(a);
  free(ix);
  free(b);
  return s;
}

static sc_status seg_rfm(seg_ctx *cx) {
  int64_t n = cx->cust.n;
  const int64_t *uid = table_i64(&cx->cust, "user_id");
  int32_t *r = table_i32(&cx->cust, "r_score"), *f = table_i32(&cx->cust, "f_score"),
          *m = table_i32(&cx->cust, "m_score"), *seg = table_i32(&cx->cust, "rfm_segment");
  int64_t *micro = NULL;
  sc_status s = comm_agree(sc_alloc(&micro, sizeof(int64_t) * (size_t)(n + 1)));
  if (s) return s;
  const double *mon = table_f64(&cx->cust, "monetary");
  for (int64_t i = 0; i < n; i++) micro[i] = feat_micro(mon[i]);
  s = seg_quintiles(table_i64(&cx->cust, "recency_days"), uid, n, cx->n_total, r);
  if (!s) s = seg_quintiles(table_i64(&cx->cust, "frequency"), uid, n, cx->n_total, f);
  if (!s) s = seg_quintiles(micro, uid, n, cx->n_total, m);
  for (int64_t i = 0; !s && i < n; i++) {
    r[i] = 5 - r[i];
    f[i] += 1;
    m[i] += 1;
    seg[i] = seg_rfm_segment(r[i], f[i]);
  }
  free(micro);
  return s;
}

/* ---- 4. standardize and fit -------------------------------------------- */

double seg_value(const seg_ctx *cx, int f, int64_t i) {
  return seg_feature_is_int(f) ? (double)cx->fi[f][i] : cx->fd[f][i];
}

/* log1p mean and population std of every present feature (fixed point). */
static sc_status seg_log_stats(seg_ctx *cx) {
  int64_t n = cx->cust.n;
  fx_acc acc[SEG_NFEAT];
  for (int f = 0; f < SEG_NFEAT; f++) {
    cx->fi[f] = seg_feature_is_int(f) ? table_i64(&cx->cust, seg_feature_name[f]) : NULL;
    cx->fd[f] = seg_feature_is_int(f) ? NULL : table_f64(&cx->cust, seg_feature_name[f]);
  }
  /* the features that need log1p statistics: the clustering features and
   * recency, frequency, monetary (the names) */
  int used[SEG_NFEAT] = {0};
  used[SEG_RECENCY] = used[SEG_FREQUENCY] = used[SEG_MONETARY] = 1;
  for (int j = 0; j < cx->d; j++) used[cx->feat[j]] = 1;
  /* a clustering feature with a value <= -1 has no log1p: say which customer */
  int bad_f = -1;
  int64_t bad_u = 0;
  const int64_t *uid = table_i64(&cx->cust, "user_id");
  for (int j = 0; j < cx->d && bad_f < 0; j++) {
    int f = cx->feat[j];
    for (int64_t i = 0; i < n; i++)
      if (!(seg_value(cx, f, i) > -1)) {
        bad_f = f;
        bad_u = uid[i];
        break;
      }
  }
  sc_status s = bad_f >= 0 ? sc_fail(SC_EINPUT,
                                     "segment: customer %lld has %s <= -1, which log1p cannot transform: remove %s "
                                     "from segment.features",
                                     (long long)bad_u, seg_feature_name[bad_f], seg_feature_name[bad_f])
                           : SC_OK;
  SC_TRY(comm_agree(s));
  for (int pass = 0; pass < 2; pass++) {
    for (int f = 0; f < SEG_NFEAT; f++) {
      fx_acc a = 0;
      if (used[f]) {
        double mu = cx->lmean[f];
#pragma omp parallel for reduction(+ : a) schedule(static)
        for (int64_t i = 0; i < n; i++) {
          double x = seg_value(cx, f, i), v = x > -1 ? log1p(x) : 0;
          a += pass == 0 ? fx_q63(v) : fx_q63((v - mu) * (v - mu));
        }
      }
      acc[f] = a;
    }
    SC_TRY(seg_allreduce_fx(acc, SEG_NFEAT));
    for (int f = 0; f < SEG_NFEAT; f++) {
      double v = fx_value63(acc[f]) / (double)cx->n_total;
      if (pass == 0) cx->lmean[f] = v;
      else cx->lstd[f] = sqrt(v);
    }
  }
  return SC_OK;
}

/* the standardized clustering matrix, column-major */
static sc_status seg_standardize(seg_ctx *cx) {
  int64_t n = cx->cust.n;
  SC_TRY(comm_agree(sc_alloc(&cx->X, sizeof(double) * (size_t)(n * cx->d + 1))));
  cx->mean_var = 0;
  for (int j = 0; j < cx->d; j++) {
    int f = cx->feat[j];
    cx->mean[j] = cx->lmean[f];
    /* scikit-learn's StandardScaler keeps a zero variance feature unscaled */
    cx->std[j] = cx->lstd[f] < 10 * 2.220446049250313e-16 ? 1.0 : cx->lstd[f];
    cx->mean_var += cx->lstd[f] < 10 * 2.220446049250313e-16 ? 0 : 1;
    double *x = cx->X + (size_t)j * n;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) x[i] = seg_transform(seg_value(cx, f, i), cx->mean[j], cx->std[j]);
  }
  cx->mean_var /= cx->d;
  return SC_OK;
}

static void model_copy(seg_km_model *dst, const seg_km_model *src) {
  *dst = *src;
  dst->C = NULL;
}

/* ---- 4b. checkpoint and restart of the sweep ---------------------------
 *
 * A step is one (k, seeding) pair in sweep order: step s means s seedings
 * done, n_init per k. After every seeding (seg_kmeans_fit's hook) the sweep
 * asks checkpoint_due; when due it saves, replicated on every rank:
 *   sweep            [n_init, d, k's to fit...]  (checked on resume)
 *   done.k, done.n_iter, done.best_init, done.nonempty, done.inits (i64)
 *   done.scores      nk x 4: inertia, silhouette, CH, DB
 *   done.centroids   (sum of the done k's) x d, the models in order
 *   current          [k, seedings done, n_iter, best seeding] of the k in
 *                    progress (empty when none)
 *   current.inertia, current.centroids: its best model so far
 * The labels are not saved: the fit ends with an assignment to the final
 * centroids, and the chosen model's labels are recomputed the same way.
 * The key is the configuration key mixed with a data key of (user id,
 * standardized features) of every customer, so a changed data set with the
 * same customers is not resumed either. */

/// The sweep's checkpoint: the state and what the hook needs.
typedef struct {
  sc_run *run;
  seg_ctx *cx;
  const int *ks;            ///< k's to fit, in sweep order
  int nk;
  int n_init;
  checkpoint_state st;
  int64_t test_step;        ///< SEGCAST_TEST_SIGNAL_AT: step to raise SIGUSR1 at (-1: none, -2: at the end)
  int test_rank;
} seg_ck;

/* SEGCAST_TEST_SIGNAL_AT=segment:<step>[:<rank>] or segment:done[:<rank>]
 * (test-only): rank <rank> (default 0) raises SIGUSR1 just before the
 * checkpoint_due of that step (or of checkpoint_done), which makes a stop
 * at an exact step reproducible in tests. Other stages' values are left to
 * them. */
static sc_status seg_ck_test_signal(seg_ck *ck) {
  return checkpoint_test_signal("segment", "step", &ck->test_step, &ck->test_rank);
}

static void seg_ck_maybe_raise(const seg_ck *ck, int64_t step) {
  if (ck->test_step == step && comm_rank() == ck->test_rank) checkpoint_test_raise();
}

/* Refills the state: the models done and the k in progress (cur, or none). */
static sc_status seg_ck_fill(seg_ck *ck, const seg_km_model *cur) {
  const seg_sweep *sw = &ck->cx->sweep;
  const int d = ck->cx->d, nk = sw->nk;
  checkpoint_state *st = &ck->st;
  int64_t *iv = NULL, rows = 0;
  double *fv = NULL;
  for (int i = 0; i < nk; i++) rows += sw->models[i].k;
  size_t nf = (size_t)rows * d > (size_t)nk * 4 ? (size_t)rows * d : (size_t)nk * 4;
  sc_status s = sc_alloc(&iv, sizeof(int64_t) * (size_t)(2 + ck->nk)); /* nk <= ck->nk */
  if (!s) s = sc_alloc(&fv, sizeof(double) * (nf + 1));
  if (!s) {
    iv[0] = ck->n_init;
    iv[1] = d;
    for (int i = 0; i < ck->nk; i++) iv[2 + i] = ck->ks[i];
    s = checkpoint_put_i64(st, "sweep", iv, 2 + ck->nk);
  }
  static const char *const iname[] = {"done.k", "done.n_iter", "done.best_init", "done.nonempty", "done.inits"};
  for (int f = 0; !s && f < 5; f++) {
    for (int i = 0; i < nk; i++) {
      const seg_km_model *m = &sw->models[i];
      iv[i] = f == 0 ? m->k : f == 1 ? m->n_iter : f == 2 ? m->best_init : f == 3 ? m->nonempty : m->inits_done;
    }
    s = checkpoint_put_i64(st, iname[f], iv, nk);
  }
  if (!s) {
    for (int i = 0; i < nk; i++) {
      const seg_km_model *m = &sw->models[i];
      fv[4 * i] = m->inertia;
      fv[4 * i + 1] = m->silhouette;
      fv[4 * i + 2] = m->calinski_harabasz;
      fv[4 * i + 3] = m->davies_bouldin;
    }
    s = checkpoint_put_f64(st, "done.scores", fv, nk, 4);
  }
  if (!s) {
    int64_t r = 0;
    for (int i = 0; i < nk; i++) {
      memcpy(fv + (size_t)r * d, sw->models[i].C, sizeof(double) * (size_t)sw->models[i].k * d);
      r += sw->models[i].k;
    }
    s = checkpoint_put_f64(st, "done.centroids", fv, rows, d);
  }
  if (!s) {
    int64_t c[4] = {cur ? cur->k : 0, cur ? cur->inits_done : 0, cur ? cur->n_iter : 0, cur ? cur->best_init : 0};
    double inertia = cur ? cur->inertia : 0;
    s = checkpoint_put_i64(st, "current", c, cur ? 4 : 0);
    if (!s) s = checkpoint_put_f64(st, "current.inertia", &inertia, cur ? 1 : 0, 1);
    if (!s) s = checkpoint_put_f64(st, "current.centroids", cur ? cur->C : NULL, cur ? cur->k : 0, d);
  }
  free(iv);
  free(fv);
  return comm_agree(s);
}

/* Restores the models done and the k in progress from a resumed state. */
static sc_status seg_ck_restore(seg_ck *ck) {
  seg_sweep *sw = &ck->cx->sweep;
  const checkpoint_state *st = &ck->st;
  const int d = ck->cx->d;
  const int64_t *sweep, *k, *iters, *best, *nonempty, *inits, *cur;
  const double *scores, *C, *cinertia, *cC;
  int64_t ns, nk, n, rows, cols, ncur;
  SC_TRY(comm_agree(checkpoint_get_i64(st, "sweep", &sweep, &ns)));
  int same = ns == 2 + ck->nk && sweep[0] == ck->n_init && sweep[1] == d;
  for (int i = 0; same && i < ck->nk; i++) same = sweep[2 + i] == ck->ks[i];
  if (!same)
    return comm_agree(sc_fail(SC_ESTORE,
                              "checkpoint %s: its segment sweep (k's, n_init, features) is not this run's although "
                              "the keys match; delete the file to start over",
                              ck->run->checkpoint_path));
  sc_status s = checkpoint_get_i64(st, "done.k", &k, &nk);
  if (!s) s = checkpoint_get_i64(st, "done.n_iter", &iters, &n);
  if (!s) s = checkpoint_get_i64(st, "done.best_init", &best, &n);
  if (!s) s = checkpoint_get_i64(st, "done.nonempty", &nonempty, &n);
  if (!s) s = checkpoint_get_i64(st, "done.inits", &inits, &n);
  if (!s) s = checkpoint_get_f64(st, "done.scores", &scores, &n, &cols);
  if (!s) s = checkpoint_get_f64(st, "done.centroids", &C, &rows, &cols);
  if (!s) s = checkpoint_get_i64(st, "current", &cur, &ncur);
  if (!s) s = checkpoint_get_f64(st, "current.inertia", &cinertia, &n, &cols);
  if (!s) s = checkpoint_get_f64(st, "current.centroids", &cC, &n, &cols);
  SC_TRY(comm_agree(s));
  int64_t want = 0;
  for (int64_t i = 0; i < nk && i < ck->nk; i++) want += k[i];
  if (nk > ck->nk || rows != want || (ncur && (ncur != 4 || nk >= ck->nk || cur[0] != ck->ks[nk] || cur[1] < 1 ||
                                               cur[1] > ck->n_init)))
    return comm_agree(sc_fail(SC_ESTORE,
                              "checkpoint %s: the segment state is inconsistent; delete the file to start over",
                              ck->run->checkpoint_path));
  int64_t r = 0;
  for (int i = 0; !s && i < nk; i++) {
    seg_km_model *m = &sw->models[i];
    memset(m, 0, sizeof *m);
    m->k = (int)k[i];
    m->n_iter = (int)iters[i];
    m->best_init = (int)best[i];
    m->nonempty = nonempty[i];
    m->inits_done = (int)inits[i];
    m->inertia = scores[4 * i];
    m->silhouette = scores[4 * i + 1];
    m->calinski_harabasz = scores[4 * i + 2];
    m->davies_bouldin = scores[4 * i + 3];
    s = sc_alloc(&m->C, sizeof(double) * (size_t)m->k * d);
    if (!s) memcpy(m->C, C + (size_t)r * d, sizeof(double) * (size_t)m->k * d);
    r += m->k;
  }
  if (!s && ncur) {
    seg_km_model *m = &sw->models[nk];
    memset(m, 0, sizeof *m);
    m->k = (int)cur[0];
    m->inits_done = (int)cur[1];
    m->n_iter = (int)cur[2];
    m->best_init = (int)cur[3];
    m->inertia = cinertia[0];
    s = sc_alloc(&m->C, sizeof(double) * (size_t)m->k * d);
    if (!s) memcpy(m->C, cC, sizeof(double) * (size_t)m->k * d);
  }
  SC_TRY(comm_agree(s));
  sw->nk = (int)nk;
  if (nk) sw->next = (int)k[nk - 1] + 1;
  return SC_OK;
}

/* seg_kmeans_fit's hook after every seeding (collective). */
static sc_status seg_ck_after_seeding(void *ctx, const seg_km_model *so_far) {
  seg_ck *ck = ctx;
  int64_t step = (int64_t)ck->cx->sweep.nk * ck->n_init + so_far->inits_done;
  seg_ck_maybe_raise(ck, step);
  if (!checkpoint_due(ck->run)) return SC_OK;
  SC_TRY(seg_ck_fill(ck, so_far));
  ck->st.step = step;
  return checkpoint_save(ck->run, &ck->st);
}

/* The checkpoint key: configuration x (user id, features) of every customer
 * (collective). */
static sc_status seg_ck_key(const sc_run *run, const seg_ctx *cx, uint64_t *key) {
  int64_t n = cx->cust.n;
  const int64_t *uid = table_i64(&cx->cust, "user_id");
  int64_t *h = NULL;
  SC_TRY(comm_agree(sc_alloc(&h, sizeof(int64_t) * (size_t)(n + 1))));
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = sc_mix64((uint64_t)uid[i]);
    for (int j = 0; j < cx->d; j++) {
      uint64_t bits;
      memcpy(&bits, &cx->X[(size_t)j * n + i], sizeof bits);
      v = sc_mix64(v ^ bits);
    }
    h[i] = (int64_t)v;
  }
  uint64_t data = checkpoint_data_key(h, n);
  free(h);
  *key = checkpoint_key_mix(checkpoint_config_key(run), data);
  return SC_OK;
}

/* The sweep over ks[0..nk) (every k <= the customers), resumed from the
 * checkpoint when it holds this run's state. Collective. */
static sc_status seg_sweep_run(sc_run *run, seg_ctx *cx, seg_km_data *D, const int *ks, int nk) {
  seg_ck ck = {.run = run, .cx = cx, .ks = ks, .nk = nk, .n_init = D->n_init};
  uint64_t key = 0;
  sc_status s = comm_agree(seg_ck_test_signal(&ck));
  if (!s) s = seg_ck_key(run, cx, &key);
  if (s) return s;
  int found = 0;
  s = checkpoint_resume(run, "segment", key, &ck.st, &found);
  if (!s && found) s = seg_ck_restore(&ck);
  for (int i = 0; !s && i < cx->sweep.nk; i++) {
    const seg_km_model *m = &cx->sweep.models[i];
    sc_say("  k = %2d: inertia %.6g, silhouette %.4f, CH %.6g, DB %.4f (%d iterations, from the checkpoint)", m->k,
           m->inertia, m->silhouette, m->calinski_harabasz, m->davies_bouldin, m->n_iter);
  }
  D->after_seeding = seg_ck_after_seeding;
  D->hook_ctx = &ck;
  for (int i = cx->sweep.nk; !s && i < nk; i++) {
    int k = ks[i];
    double t = sc_now();
    seg_km_model *m = &cx->sweep.models[i];
    s = seg_kmeans_fit(D, k, m, cx->labels);
    if (!s) {
      cx->sweep.nk++;
      cx->sweep.next = k + 1;
      s = seg_silhouette(&cx->sample, cx->labels, k, &m->silhouette);
    }
    if (!s)
      sc_say("  k = %2d: inertia %.6g, silhouette %.4f, CH %.6g, DB %.4f (%d iterations, %.2f s)", k, m->inertia,
             m->silhouette, m->calinski_harabasz, m->davies_bouldin, m->n_iter, sc_now() - t);
  }
  D->after_seeding = NULL;
  D->hook_ctx = NULL;
  if (!s) {
    /* the finished sweep is kept for later saves (a stop during forecast
     * must not redo it); a signal that came after the last seeding saves
     * it now and stops */
    s = seg_ck_fill(&ck, NULL);
    ck.st.step = (int64_t)cx->sweep.nk * ck.n_init;
    seg_ck_maybe_raise(&ck, -2);
    if (!s) s = checkpoint_done(run, &ck.st);
  }
  checkpoint_state_free(&ck.st);
  return s;
}

static sc_status seg_fit(sc_run *run, seg_ctx *cx) {
  const sc_config *cfg = &run->cfg;
  seg_km_data D = {0};
  D.X = cx->X;
  D.uid = table_i64(&cx->cust, "user_id");
  D.n = cx->cust.n;
  D.n_total = cx->n_total;
  D.d = cx->d;
  D.seed = (uint64_t)cfg->seed;
  D.n_init = (int)cfg->n_init;
  D.max_iter = (int)cfg->max_iter;
  D.tol = cfg->tol;
  D.mean_var = cx->mean_var;
  /* above SEG_KM_SAMPLE customers, seedings run on a uniform sample */
  if (cx->n_total > SEG_KM_SAMPLE) {
    SC_TRY(seg_km_subsample(&D, SEG_KM_SAMPLE, &cx->kms));
    cx->has_kms = 1;
    D.sample = &cx->kms;
    D.sample_size = cx->kms.n_total;
  }
  /* the k's to try: k_min..k_max, plus a fixed k outside that range */
  int kmin = (int)cfg->k_min, kmax = (int)cfg->k_max;
  int ks[1024], nk = 0;
  for (int k = kmin; k <= kmax && nk < 1000; k++) ks[nk++] = k;
  if (cx->k_fixed && (cx->k_fixed < kmin || cx->k_fixed > kmax)) {
    int at = 0;
    while (at < nk && ks[at] < cx->k_fixed) at++;
    memmove(ks + at + 1, ks + at, sizeof(int) * (size_t)(nk - at));
    ks[at] = cx->k_fixed;
    nk++;
  }
  int usable = 0;
  for (int i = 0; i < nk; i++) usable += ks[i] <= cx->n_total;
  if (cx->k_fixed > cx->n_total || usable == 0)
    return comm_agree(sc_fail(SC_EINPUT,
                              "segment: only %lld customers, fewer than segment.k%s = %d clusters: lower segment.k "
                              "or segment.k_min",
                              (long long)cx->n_total, cx->k_fixed ? "" : "_min", cx->k_fixed ? cx->k_fixed : kmin));
  SC_TRY(comm_agree(sc_alloc(&cx->labels, sizeof(int32_t) * (size_t)(cx->cust.n + 1))));
  double t0 = sc_now();
  SC_TRY(seg_sample_draw(&D, cfg->silhouette_sample, &cx->sample));
  cx->sweep.k_min = kmin;
  cx->sweep.k_max = kmax;
  SC_TRY(comm_agree(sc_calloc(&cx->sweep.models, (size_t)nk, sizeof(seg_km_model))));
  cx->sweep.cap = nk;
  sc_say("segment: fitting k = %d..%d on %lld customers (%d features, n_init %d%s, silhouette on %lld)", ks[0],
         ks[nk - 1], (long long)cx->n_total, cx->d, D.n_init, cx->has_kms ? " seeded on a sample of 65536" : "",
         (long long)cx->sample.m);
  /* the k's that can be fitted (at most one cluster per customer) */
  int nfit = 0;
  for (int i = 0; i < nk; i++)
    if (ks[i] <= cx->n_total) ks[nfit++] = ks[i];
  SC_TRY(seg_sweep_run(run, cx, &D, ks, nfit));
  cx->t_sweep = sc_now() - t0;
  /* the chosen model */
  int pick = -1;
  if (cx->k_fixed) {
    for (int i = 0; i < cx->sweep.nk; i++)
      if (cx->sweep.models[i].k == cx->k_fixed) pick = i;
  } else {
    pick = seg_choose_k(cx->sweep.models, cx->sweep.nk);
  }
  if (pick < 0) return comm_agree(sc_fail(SC_EINTERNAL, "segment: no model fitted"));
  cx->chosen = pick;
  model_copy(&cx->model, &cx->sweep.models[pick]);
  cx->k = cx->model.k;
  SC_TRY(comm_agree(sc_alloc(&cx->model.C, sizeof(double) * (size_t)cx->k * cx->d)));
  memcpy(cx->model.C, cx->sweep.models[pick].C, sizeof(double) * (size_t)cx->k * cx->d);
  /* final labels: one assignment with the chosen centroids */
  return seg_kmeans_scores(&D, &cx->model, cx->labels);
}

/* ---- 5. profiles, order and names --------------------------------------- */

/* Per cluster: customers, revenue (millionths) and exact feature sums, and
 * the mean z of log1p recency/frequency/monetary for naming. */
static sc_status seg_cluster_sums(seg_ctx *cx, const int32_t *lab, int k, fx_acc *sums) {
  /* layout per cluster: [count, feature sums (SEG_NFEAT, integers or
   * millionths), zR, zF, zM (2^-32 units)] */
  const int W = 1 + SEG_NFEAT + 3;
  memset(sums, 0, sizeof(fx_acc) * (size_t)k * W);
  int64_t n = cx->cust.n;
  const int zf[3] = {SEG_RECENCY, SEG_FREQUENCY, SEG_MONETARY};
  for (int64_t i = 0; i < n; i++) {
    fx_acc *o = sums + (size_t)lab[i] * W;
    o[0] += 1;
    for (int f = 0; f < SEG_NFEAT; f++)
      o[1 + f] += seg_feature_is_int(f) ? (fx_acc)cx->fi[f][i] : (fx_acc)feat_micro(cx->fd[f][i]);
    for (int t = 0; t < 3; t++) {
      int f = zf[t];
      double sd = cx->lstd[f] > 0 ? cx->lstd[f] : 1;
      o[1 + SEG_NFEAT + t] += fx_q(seg_transform(seg_value(cx, f, i), cx->lmean[f], sd));
    }
  }
  return seg_allreduce_fx(sums, (size_t)k * W);
}

/* The naming rule (docs/segmentation.md): each cluster has a recency
 * score r (minus its mean recency z: recent is positive) and a value score
 * v (the mean of its frequency and monetary z). Every name is an archetype
 * at a point (r, v); clusters take names by greedy matching, the closest
 * (cluster, archetype) pair first, each name once per round; when there
 * are more clusters than names, a second round hands out "NAME 2" etc. */
static const struct {
  const char *name;
  double r, v;
  const char *action;
} seg_archetypes[SEG_NARCH] = {
    {"Champions", 1.5, 1.5, "Reward them: VIP perks, early access to new products, ask for reviews and referrals."},
    {"Loyal", 0.5, 0.8, "Upsell and cross-sell: recommend higher-value products and enrol them in the loyalty programme."},
    {"Potential Loyalists", 1.5, 0.3, "Build the habit: membership offers and recommendations based on their last orders."},
    {"New Customers", 1.5, -0.7, "Onboard them: a welcome series and a second-purchase incentive within 30 days."},
    {"Dormant High-Value", -1.0, 1.0, "Win them back now: personal outreach with an offer on what they used to buy."},
    {"At Risk", -0.5, 0.2, "Re-engage before they lapse: reminders with a time-limited incentive."},
    {"Occasional", 0.0, -0.5, "Stay in touch cheaply: seasonal campaigns and product recommendations."},
    {"Hibernating", -1.0, -0.8, "Reactivate at low cost: one win-back campaign, then leave them out of paid channels."},
};

const char *seg_archetype_name(int a) { return seg_archetypes[a].name; }

void seg_name_clusters(const double *r, const double *v, int k, int *arch, int *nth) {
  for (int c = 0; c < k; c++) arch[c] = -1;
  int left = k;
  for (int round = 1; left > 0; round++) {
    int used[SEG_NARCH] = {0};
    for (int step = 0; step < SEG_NARCH && left > 0; step++) {
      int bc = -1, ba = -1;
      double bd = INFINITY;
      for (int c = 0; c < k; c++) {
        if (arch[c] >= 0) continue;
        for (int a = 0; a < SEG_NARCH; a++) {
          if (used[a]) continue;
          double dr = r[c] - seg_archetypes[a].r, dv = v[c] - seg_archetypes[a].v, dd = dr * dr + dv * dv;
          if (dd < bd) {
            bd = dd;
            bc = c;
            ba = a;
          }
        }
      }
      arch[bc] = ba;
      nth[bc] = round;
      used[ba] = 1;
      left--;
    }
  }
}

static sc_status seg_profile(seg_ctx *cx) {
  int k = cx->k;
  const int W = 1 + SEG_NFEAT + 3;
  fx_acc *sums = NULL;
  int32_t *relabel = NULL;
  SC_TRY(comm_agree(sc_calloc(&sums, (size_t)k * W, sizeof *sums)));
  sc_status s = seg_cluster_sums(cx, cx->labels, k, sums);
  /* order: revenue descending, then the fitted index */
  int order[1024];
  for (int c = 0; c < k; c++) order[c] = c;
  for (int a = 1; a < k; a++) {
    int x = order[a], b = a;
    while (b > 0) {
      fx_acc ra = sums[(size_t)x * W + 1 + SEG_MONETARY], rb = sums[(size_t)order[b - 1] * W + 1 + SEG_MONETARY];
      int64_t na = (int64_t)sums[(size_t)x * W], nb = (int64_t)sums[(size_t)order[b - 1] * W];
      /* compare mean revenue ra/na > rb/nb exactly: ra*nb > rb*na */
      fx_acc lhs = ra * (nb ? nb : 1), rhs = rb * (na ? na : 1);
      if (na == 0 || !(lhs > rhs || (lhs == rhs && x < order[b - 1]))) break;
      order[b] = order[b - 1];
      b--;
    }
    order[b] = x;
  }
  if (!s) s = comm_agree(sc_alloc(&relabel, sizeof(int32_t) * (size_t)k));
  if (!s) {
    for (int c = 0; c < k; c++) relabel[order[c]] = c;
    for (int64_t i = 0; i < cx->cust.n; i++) cx->labels[i] = relabel[cx->labels[i]];
    double *C = cx->model.C, tmp[1024 * KM_MAX_D];
    memcpy(tmp, C, sizeof(double) * (size_t)k * cx->d);
    for (int c = 0; c < k; c++) memcpy(C + (size_t)c * cx->d, tmp + (size_t)order[c] * cx->d, sizeof(double) * cx->d);
    s = comm_agree(sc_calloc(&cx->prof, (size_t)k, sizeof *cx->prof));
  }
  int64_t total_rev_micro = 0;
  for (int c = 0; !s && c < k; c++) total_rev_micro += (int64_t)sums[(size_t)c * W + 1 + SEG_MONETARY];
  for (int c = 0; !s && c < k; c++) {
    const fx_acc *o = sums + (size_t)order[c] * W;
    seg_profile_row *p = &cx->prof[c];
    p->customers = (int64_t)o[0];
    double nn = p->customers ? (double)p->customers : 1;
    p->customer_share = (double)p->customers / (double)cx->n_total;
    p->revenue_share = total_rev_micro ? (double)o[1 + SEG_MONETARY] / (double)total_rev_micro : 0;
    for (int f = 0; f < SEG_NFEAT; f++)
      p->mean[f] = seg_feature_is_int(f) ? (double)o[1 + f] / nn : (double)o[1 + f] / 1e6 / nn;
    double zr = -fx_value(o[1 + SEG_NFEAT]) / nn, zf = fx_value(o[1 + SEG_NFEAT + 1]) / nn,
           zm = fx_value(o[1 + SEG_NFEAT + 2]) / nn;
    p->score_r = zr;
    p->score_v = (zf + zm) / 2;
  }
  if (!s) {
    double r[1024], v[1024];
    int arch[1024], nth[1024];
    for (int c = 0; c < k; c++) {
      r[c] = cx->prof[c].score_r;
      v[c] = cx->prof[c].score_v;
    }
    seg_name_clusters(r, v, k, arch, nth);
    for (int c = 0; c < k; c++) {
      seg_profile_row *p = &cx->prof[c];
      if (nth[c] > 1) snprintf(p->name, sizeof p->name, "%s %d", seg_archetypes[arch[c]].name, nth[c]);
      else snprintf(p->name, sizeof p->name, "%s", seg_archetypes[arch[c]].name);
      snprintf(p->action, sizeof p->action, "%s", seg_archetypes[arch[c]].action);
    }
  }
  free(sums);
  free(relabel);
  if (!s) s = seg_medians(cx);
  return s;
}

/* Medians per cluster of every present feature, by selection over
 * (cluster, value). */
sc_status seg_medians(seg_ctx *cx) {
  int k = cx->k;
  int64_t n = cx->cust.n;
  int64_t *a = NULL, *b = NULL, *pos = NULL, *oa = NULL, *ob = NULL, *off = NULL;
  sc_status s = sc_alloc(&a, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&b, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&pos, sizeof(int64_t) * 2 * (size_t)k);
  if (!s) s = sc_alloc(&oa, sizeof(int64_t) * 2 * (size_t)k);
  if (!s) s = sc_alloc(&ob, sizeof(int64_t) * 2 * (size_t)k);
  if (!s) s = sc_calloc(&off, (size_t)k + 1, sizeof *off);
  s = comm_agree(s);
  if (!s) {
    for (int c = 0; c < k; c++) off[c + 1] = off[c] + cx->prof[c].customers;
    int nq = 0;
    for (int c = 0; c < k; c++) {
      if (!cx->prof[c].customers) continue;
      pos[nq++] = off[c] + (cx->prof[c].customers - 1) / 2;
      pos[nq++] = off[c] + cx->prof[c].customers / 2;
    }
    for (int f = 0; !s && f < SEG_NFEAT; f++) {
      if (!cx->present[f]) continue;
      /* value order, then cluster order (stable): (cluster, value) */
      for (int64_t i = 0; i < n; i++) {
        a[i] = radix_double_key(seg_value(cx, f, i));
        b[i] = cx->labels[i];
      }
      int bad = radix_sort_i64(a, b, n) || radix_sort_i64(b, a, n);
      s = comm_agree(bad ? sc_fail(SC_ENOMEM, "segment: out of memory computing medians") : SC_OK);
      if (!s) s = seg_select(b, a, n, pos, nq, oa, ob);
      int q = 0;
      for (int c = 0; !s && c < k; c++) {
        if (!cx->prof[c].customers) continue;
        double lo = radix_key_double(ob[q]), hi = radix_key_double(ob[q + 1]);
        cx->prof[c].median[f] = (lo + hi) / 2;
        q += 2;
      }
    }
  }
  free(a);
  free(b);
  free(pos);
  free(oa);
  free(ob);
  free(off);
  return s;
}

/* ---- the stage ----------------------------------------------------------- */

static void seg_ctx_free(seg_ctx *cx) {
  table_free(&cx->cust);
  free(cx->X);
  free(cx->labels);
  free(cx->model.C);
  free(cx->prof);
  seg_sample_free(&cx->sample);
  seg_sweep_free(&cx->sweep);
  if (cx->has_kms) seg_km_subsample_free(&cx->kms);
}

sc_status stage_segment(sc_run *run, const sc_dataset *ds, sc_h5 *results) {
  seg_ctx cx;
  memset(&cx, 0, sizeof cx);
  double t0 = sc_now(), t;
  sc_status s = comm_agree(seg_configure(run, ds, &cx));
  if (!s) s = comm_agree(seg_compute_features(ds, &cx));
  if (!s) s = seg_range_partition(&cx);
  if (!s && cx.n_total == 0)
    s = comm_agree(sc_fail(SC_EINPUT, "segment: no customer has a valid order line dated before as_of: check "
                                      "input.path and run.as_of"));
  cx.t_features = sc_now() - t0;
  t = sc_now();
  if (!s) s = seg_rfm(&cx);
  cx.t_rfm = sc_now() - t;
  t = sc_now();
  if (!s) s = seg_log_stats(&cx);
  if (!s) s = seg_standardize(&cx);
  cx.t_standardize = sc_now() - t;
  if (!s) s = seg_fit(run, &cx);
  t = sc_now();
  if (!s) s = seg_profile(&cx);
  cx.t_profiles = sc_now() - t;
  t = sc_now();
  if (!s) s = seg_write_outputs(run, ds, &cx, results);
  cx.t_outputs = sc_now() - t;
  if (!s) seg_summary(run, &cx);
  seg_ctx_free(&cx);
  return s;
}
