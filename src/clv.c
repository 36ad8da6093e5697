/* clv.c: the clv stage: customer lifetime value and churn (DATA.md 8).
 *
 * Data flow (every step collective; every result the same bits at any rank
 * or thread count):
 *   1. summaries: each rank reads its users' lines (ingest partitions them
 *      by user) and makes one row per customer with a valid line on or
 *      before cal_end: x, t_x and T in days, the repeat transactions'
 *      value in millionths, holdout transactions (kernels/clv.c); plus the
 *      days of first and repeat transactions for the tracking chart;
 *   2. range partition by user id (segment_select.h), so outputs stream in
 *      user-id order;
 *   3. BG/NBD: customers grouped by (x, t_x, T); Newton on (ln r, ln α,
 *      ln a, ln b) (kernels/newton.c), every evaluation the groups'
 *      fixed-point sums of log-likelihood, gradient and Hessian combined
 *      with ONE Allreduce. Gamma-Gamma the same on (ln p, ln q, ln γ) over
 *      the customers with x > 0. The fits save a checkpoint after accepted
 *      steps (4 below), so a stopped job resumes where it was;
 *   4. predictions: P(alive), churned, expected purchases over the holdout
 *      (or clv.horizon_days), expected transaction value, CLV;
 *   5. aggregates: holdout totals, the calibration chart by x, the P(alive)
 *      histogram, the Lorenz curve of CLV, cumulative repeat transactions
 *      per period against the model, per-segment CLV (the segmentation's
 *      labels are read back from results.h5);
 *   6. outputs (clv_out.c).
 * docs/clv.md states every rule.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "clv_internal.h"
#include "comm.h"
#include "custfeat.h"
#include "insights_core.h"
#include "radix.h"
#include "segment_kmeans.h"
#include "segment_select.h"
#include "stages.h"

/* ---- sums over ranks ------------------------------------------------------ */

void clv_allreduce(fx_acc *v, int n, int64_t *extra, int ne) {
  int64_t buf[FX_LIMBS * 64 + 64];
  for (int i = 0; i < n; i++) fx_split(v[i], buf + FX_LIMBS * i);
  for (int i = 0; i < ne; i++) buf[FX_LIMBS * n + i] = extra[i];
  comm_sum_i64(buf, (size_t)(FX_LIMBS * n + ne));
  for (int i = 0; i < n; i++) v[i] = fx_join(buf + FX_LIMBS * i);
  for (int i = 0; i < ne; i++) extra[i] = buf[FX_LIMBS * n + i];
}


/* ---- 1. summaries ------------------------------------------------------------ */

static sc_status clv_configure(const sc_run *run, const sc_dataset *ds, clv_ctx *cx) {
  const sc_config *c = &run->cfg;
  cx->as_of = ds->as_of_day;
  cx->holdout_days = c->clv_holdout_days;
  cx->cal_end = (int32_t)(cx->as_of - 1 - c->clv_holdout_days);
  cx->data_first = ds->first_day;
  cx->unit = (double)c->clv_unit_days;
  cx->h_units = (double)(c->clv_holdout_days > 0 ? c->clv_holdout_days : c->clv_horizon_days) / cx->unit;
  cx->threshold = c->clv_churn_threshold;
  cx->discount = c->clv_discount_rate;
  if (cx->cal_end < ds->first_day) {
    char a[16], b[16];
    ins_iso_day(ds->first_day, a);
    ins_iso_day(cx->as_of - 1, b);
    return sc_fail(SC_EUSAGE,
                   "clv: clv.holdout_days = %lld leaves no calibration period: the valid lines before as_of run "
                   "from %s to %s (%d days); set clv.holdout_days below %d",
                   (long long)c->clv_holdout_days, a, b, cx->as_of - ds->first_day, cx->as_of - ds->first_day);
  }
  /* the tracking chart's days: from the first valid line to as_of - 1 */
  cx->day0 = ds->first_day;
  cx->ndays = cx->as_of - cx->day0;
  return SC_OK;
}

static sc_status clv_summaries(const sc_dataset *ds, clv_ctx *cx) {
  const sc_table *L = &ds->lines;
  clv_lines in = {L->n, table_i64(L, "user_id"), table_i32(L, "day"), table_f64(L, "amount"), table_u8(L, "flags")};
  if (!in.user_id || !in.day || !in.amount || !in.flags) return SC_EINTERNAL;
  int64_t *starts = NULL;
  SC_TRY(sc_alloc(&starts, sizeof(int64_t) * (size_t)(in.n + 1)));
  int64_t G = feat_groups(in.user_id, in.n, starts);
  sc_table t;
  sc_status s = table_init(&t, "clv", CLV_CUST_SPEC);
  if (!s) s = table_resize(&t, G);
  if (!s) s = sc_calloc(&cx->repeat_days, (size_t)cx->ndays + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&cx->first_days, (size_t)cx->ndays + 1, sizeof(int64_t));
  if (s) {
    free(starts);
    table_free(&t);
    return s;
  }
  clv_summary o = {table_i32(&t, "x"),         table_i32(&t, "tx_days"),      table_i32(&t, "T_days"),
                   table_i32(&t, "first_day"), table_i64(&t, "repeat_micro"), table_i32(&t, "holdout")};
  if (clv_summarize(&in, starts, G, cx->cal_end, cx->as_of, &o, cx->day0, cx->ndays, cx->repeat_days, cx->first_days))
    s = sc_fail(SC_ENOMEM, "clv: out of memory summarising customers");
  /* keep the customers: a transaction on or before cal_end */
  int64_t n = 0, *keep = NULL;
  int64_t *uid = table_i64(&t, "user_id");
  if (!s) s = sc_alloc(&keep, sizeof(int64_t) * (size_t)(G + 1));
  for (int64_t g = 0; !s && g < G; g++) {
    uid[g] = in.user_id[starts[g]];
    if (o.x[g] >= 0) keep[n++] = g;
  }
  if (!s) s = table_permute(&t, keep, n);
  free(keep);
  free(starts);
  if (!s) cx->cust = t;
  else table_free(&t);
  return s;
}

/* ---- 4. predictions --------------------------------------------------------------- */

/* Discounted expected purchases of an alive customer over h units: each
 * unit (k-1, k] (the last one ends at h) is discounted to its end at the
 * annual rate d (docs/clv.md). */
static double discounted(int32_t x, double T_units, double h, double unit_days, double d, const clv_bg_tables *t) {
  double prev = 0, sum = 0;
  for (int k = 1; k - 1 < h; k++) {
    double tk = k < h ? k : h, e = clv_bg_expected(x, T_units, tk, t);
    sum += (e - prev) * pow(1 + d, -tk * unit_days / 365.0);
    prev = e;
  }
  return sum;
}

static sc_status clv_predict(clv_ctx *cx, clv_fitctx *f) {
  int64_t n = cx->cust.n, ng = f->g.n;
  const int32_t *x = table_i32(&cx->cust, "x");
  const int64_t *rep = table_i64(&cx->cust, "repeat_micro");
  double *pa = table_f64(&cx->cust, "p_alive"), *ep = table_f64(&cx->cust, "expected_purchases"),
         *ev = table_f64(&cx->cust, "expected_value"), *clv = table_f64(&cx->cust, "clv");
  int32_t *ch = table_i32(&cx->cust, "churned");
  double *gpa = NULL, *ge = NULL, *gd = NULL;
  sc_status s = sc_alloc(&gpa, sizeof(double) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(&ge, sizeof(double) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(&gd, sizeof(double) * (size_t)(ng + 1));
  SC_TRY(comm_agree(s));
  int64_t nan_series = 0;
  if (cx->bg.fitted) {
    clv_bg_tables_fill(&f->tab, cx->bg.st.th);
    const clv_bg_tables *t = &f->tab;
    double h = cx->h_units;
    /* one 2F1 per run of groups sharing (x, T) */
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : nan_series)
    for (int64_t g = 0; g < ng; g++) {
      gpa[g] = clv_bg_p_alive(f->gx[g], f->gtx[g], f->gT[g], t);
      if (g > 0 && f->gx[g] == f->gx[g - 1] && f->gT[g] == f->gT[g - 1]) continue;
      double Tu = f->gT[g] / cx->unit;
      ge[g] = clv_bg_expected(f->gx[g], Tu, h, t);
      gd[g] = cx->discount > 0 ? discounted(f->gx[g], Tu, h, cx->unit, cx->discount, t) : ge[g];
      nan_series += isnan(ge[g]) || isnan(gd[g]);
    }
    for (int64_t g = 1; g < ng; g++)
      if (f->gx[g] == f->gx[g - 1] && f->gT[g] == f->gT[g - 1]) {
        ge[g] = ge[g - 1];
        gd[g] = gd[g - 1];
      }
  }
  double p = exp(cx->gg.st.th[0]), q = exp(cx->gg.st.th[1]), gam = exp(cx->gg.st.th[2]);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    int64_t g = f->grp[i];
    if (cx->bg.fitted) {
      pa[i] = gpa[g];
      ch[i] = pa[i] < cx->threshold;
      ep[i] = gpa[g] * ge[g];
    } else {
      /* without parameters P(alive) is known only for x = 0: 1 */
      pa[i] = x[i] == 0 ? 1 : NAN;
      ch[i] = x[i] == 0 ? 1 < cx->threshold : -1;
      ep[i] = NAN;
    }
    double m = x[i] > 0 ? (double)rep[i] / 1e6 / x[i] : 0;
    ev[i] = cx->gg.fitted ? clv_gg_expected_value(x[i] > 0 && rep[i] > 0 ? x[i] : 0, m, p, q, gam) : NAN;
    clv[i] = cx->bg.fitted ? gpa[g] * gd[g] * ev[i] : NAN;
  }
  free(gpa);
  free(ge);
  free(gd);
  cx->nan_series = comm_sum1_i64(nan_series);
  if (cx->nan_series)
    sc_say("clv: warning: the 2F1 series did not converge for %lld (x, T) pairs; their expected purchases are empty",
           (long long)cx->nan_series);
  return SC_OK;
}

/* ---- 5. aggregates ------------------------------------------------------------------ */

static sc_status clv_aggregates(clv_ctx *cx, clv_fitctx *f) {
  int64_t n = cx->cust.n;
  const int32_t *x = table_i32(&cx->cust, "x"), *hold = table_i32(&cx->cust, "holdout"), *ch = table_i32(&cx->cust, "churned");
  const double *pa = table_f64(&cx->cust, "p_alive"), *ep = table_f64(&cx->cust, "expected_purchases"),
               *clv = table_f64(&cx->cust, "clv");
  /* layout: [pred, clv, p_sum, xb_pred(8)] fixed point; counts apart */
  enum { NF = 3 + CLV_XBUCKETS, NI = 5 + 2 * CLV_XBUCKETS + CLV_PBINS };
  fx_acc fa[NF] = {0};
  int64_t ia[NI] = {0};
  for (int64_t i = 0; i < n; i++) {
    int b = x[i] < CLV_XBUCKETS - 1 ? x[i] : CLV_XBUCKETS - 1;
    ia[5 + b]++;
    ia[5 + CLV_XBUCKETS + b] += hold[i];
    if (isfinite(ep[i])) {
      fa[0] += fx_q63(ep[i]);
      fa[3 + b] += fx_q63(ep[i]);
      ia[0] += hold[i];
      ia[1]++;
    }
    if (isfinite(clv[i])) {
      fa[1] += fx_q63(clv[i]);
      ia[2]++;
    }
    if (isfinite(pa[i])) {
      fa[2] += fx_q63(pa[i]);
      ia[3]++;
      int pb = (int)(pa[i] * CLV_PBINS);
      ia[5 + 2 * CLV_XBUCKETS + (pb < CLV_PBINS ? pb : CLV_PBINS - 1)]++;
    }
    ia[4] += ch[i] == 1;
  }
  SC_TRY(seg_allreduce_fx(fa, NF));
  comm_sum_i64(ia, NI);
  cx->pred_total = fx_value63(fa[0]);
  cx->pred_clv_total = fx_value63(fa[1]);
  cx->p_alive_sum = fx_value63(fa[2]);
  cx->actual_total = ia[0];
  cx->with_pred = ia[1];
  cx->with_clv = ia[2];
  cx->with_p = ia[3];
  cx->churned = ia[4];
  for (int b = 0; b < CLV_XBUCKETS; b++) {
    cx->xb_n[b] = ia[5 + b];
    cx->xb_actual[b] = ia[5 + CLV_XBUCKETS + b];
    cx->xb_pred[b] = fx_value63(fa[3 + b]);
  }
  for (int b = 0; b < CLV_PBINS; b++) cx->pbins[b] = ia[5 + 2 * CLV_XBUCKETS + b];

  /* Lorenz curve of CLV: exact sums of the top customers in millionths
     (insights_core.h), when the total fits */
  cx->has_lorenz = cx->with_clv == cx->n_total && cx->n_total > 0 && fabs(cx->pred_clv_total) < 4e12;
  if (cx->has_lorenz) {
    int64_t *v = NULL, ks[101], sums[101];
    SC_TRY(comm_agree(sc_alloc(&v, sizeof(int64_t) * (size_t)(n + 1))));
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += v[i] = (int64_t)llrint(clv[i] * 1e6);
    total = comm_sum1_i64(total);
    int64_t *ix = NULL;
    sc_status s = comm_agree(sc_alloc(&ix, sizeof(int64_t) * (size_t)(n + 1)));
    if (!s) {
      for (int64_t i = 0; i < n; i++) ix[i] = i;
      s = comm_agree(radix_sort_i64(v, ix, n) ? sc_fail(SC_ENOMEM, "clv: out of memory sorting CLV") : SC_OK);
    }
    for (int i = 0; i <= 100; i++) {
      cx->lorenz_k[i] = sc_muldiv(i, cx->n_total, 100);
      ks[i] = cx->n_total - cx->lorenz_k[i];
    }
    if (!s) s = ins_topk_sums_all(v, n, ks, 101, sums);
    for (int i = 0; !s && i <= 100; i++) cx->lorenz_share[i] = total > 0 ? (double)(total - sums[i]) / (double)total : 0;
    free(v);
    free(ix);
    SC_TRY(s);
  }

  /* tracking: cumulative repeat transactions per period, actual against
     Σ over first days f of (customers first buying on f) x E[X(t)] */
  comm_sum_i64(cx->repeat_days, (size_t)cx->ndays);
  comm_sum_i64(cx->first_days, (size_t)cx->ndays);
  cx->nperiods = 0;
  if (cx->bg.fitted && cx->holdout_days > 0) {
    int64_t np = (int64_t)ceil(cx->ndays / cx->unit);
    double *e0 = NULL;
    sc_status s = sc_alloc(&e0, sizeof(double) * (size_t)(cx->ndays + 2));
    if (!s) s = sc_alloc(&cx->period_end, sizeof(int32_t) * (size_t)(np + 1));
    if (!s) s = sc_alloc(&cx->period_actual, sizeof(int64_t) * (size_t)(np + 1));
    if (!s) s = sc_alloc(&cx->period_pred, sizeof(double) * (size_t)(np + 1));
    SC_TRY(comm_agree(s));
    clv_bg_tables_fill(&f->tab, cx->bg.st.th);
#pragma omp parallel for schedule(dynamic, 8)
    for (int32_t d = 0; d <= cx->ndays; d++) e0[d] = clv_bg_expected(0, 0, d / cx->unit, &f->tab);
    int64_t cum = 0;
    int32_t d = 0;
    for (int64_t w = 0; w < np; w++) {
      int32_t end = (int32_t)SC_MIN((int64_t)ceil((double)(w + 1) * cx->unit) - 1, (int64_t)cx->ndays - 1);
      for (; d <= end; d++) cum += cx->repeat_days[d];
      double pred = 0;
      for (int32_t fday = 0; fday <= end; fday++)
        if (cx->first_days[fday] && cx->day0 + fday <= cx->cal_end) pred += (double)cx->first_days[fday] * e0[end + 1 - fday];
      cx->period_end[w] = cx->day0 + end;
      cx->period_actual[w] = cum;
      cx->period_pred[w] = pred;
    }
    cx->nperiods = np;
    free(e0);
  }
  return SC_OK;
}

/* Segment labels: /segment/customers of results.h5 (when the segmentation
 * ran), moved to the ranks of the range partition and joined by user id. */
static sc_status clv_segments(clv_ctx *cx, sc_h5 *results) {
  int64_t n = cx->cust.n;
  int32_t *cl = table_i32(&cx->cust, "cluster"), *rs = table_i32(&cx->cust, "rfm_segment");
  for (int64_t i = 0; i < n; i++) cl[i] = rs[i] = -1;
  if (!results || !h5_exists(results, "/segment/customers")) return SC_OK;
  sc_table lab;
  SC_TRY(h5_read_columns(results, "/segment/customers", "user_id,rfm_segment,cluster", &lab, NULL));
  const int64_t *lu = table_i64(&lab, "user_id");
  int32_t *dest = NULL;
  sc_status s = sc_alloc(&dest, sizeof(int32_t) * (size_t)(lab.n + 1));
  s = comm_agree(s);
  for (int64_t i = 0; !s && i < lab.n; i++) dest[i] = seg_range_rank(cx->splitters, comm_size(), lu[i]);
  if (!s) s = table_exchange(&lab, dest);
  if (!s) s = comm_agree(table_sort(&lab, "user_id", NULL, NULL));
  free(dest);
  int64_t kmax = -1;
  if (!s) {
    lu = table_i64(&lab, "user_id");
    const int32_t *lc = table_i32(&lab, "cluster"), *lr = table_i32(&lab, "rfm_segment");
    const int64_t *uid = table_i64(&cx->cust, "user_id");
    int64_t j = 0;
    for (int64_t i = 0; i < n; i++) {
      while (j < lab.n && lu[j] < uid[i]) j++;
      if (j < lab.n && lu[j] == uid[i]) {
        cl[i] = lc[j];
        rs[i] = lr[j];
      }
    }
    for (int64_t j2 = 0; j2 < lab.n; j2++) kmax = lc[j2] > kmax ? lc[j2] : kmax;
  }
  table_free(&lab);
  SC_TRY(s);
  cx->nclusters = (int)comm_max1_i64(kmax) + 1;
  cx->has_segments = cx->nclusters > 0;
  if (!cx->has_segments) return SC_OK;
  int ns = cx->nclusters + 10;
  SC_TRY(comm_agree(sc_calloc(&cx->clusters, (size_t)cx->nclusters, sizeof *cx->clusters)));
  fx_acc *acc = NULL;
  SC_TRY(comm_agree(sc_calloc(&acc, (size_t)ns * 6, sizeof *acc)));
  const double *pa = table_f64(&cx->cust, "p_alive"), *clv = table_f64(&cx->cust, "clv");
  const int32_t *ch = table_i32(&cx->cust, "churned");
  for (int64_t i = 0; i < n; i++)
    for (int which = 0; which < 2; which++) {
      int32_t k = which ? rs[i] : cl[i];
      if (k < 0 || (which && k >= 10) || (!which && k >= cx->nclusters)) continue;
      fx_acc *a = acc + 6 * (size_t)(which ? cx->nclusters + k : k);
      a[0] += 1;
      if (isfinite(pa[i])) a[1] += 1, a[2] += fx_q63(pa[i]);
      a[3] += ch[i] == 1;
      if (isfinite(clv[i])) a[4] += 1, a[5] += fx_q63(clv[i]);
    }
  s = seg_allreduce_fx(acc, (size_t)ns * 6);
  for (int k = 0; !s && k < ns; k++) {
    const fx_acc *a = acc + 6 * (size_t)k;
    clv_seg_row *r = k < cx->nclusters ? &cx->clusters[k] : &cx->rfm[k - cx->nclusters];
    r->customers = (int64_t)a[0];
    r->with_p = (int64_t)a[1];
    r->p_alive_sum = fx_value63(a[2]);
    r->churned = (int64_t)a[3];
    r->with_clv = (int64_t)a[4];
    r->clv_sum = fx_value63(a[5]);
  }
  free(acc);
  return s;
}

/* ---- the stage ------------------------------------------------------------------------ */

sc_status stage_clv(sc_run *run, const sc_dataset *ds, sc_h5 *results) {
  clv_ctx cx;
  clv_fitctx f;
  memset(&cx, 0, sizeof cx);
  memset(&f, 0, sizeof f);
  f.run = run;
  f.cx = &cx;
  double t0 = sc_now(), t;
  sc_status s = comm_agree(clv_configure(run, ds, &cx));
  if (!s) s = comm_agree(clv_summaries(ds, &cx));
  cx.t_summarize = sc_now() - t0;
  t = sc_now();
  if (!s) s = comm_agree(sc_alloc(&cx.splitters, sizeof(int64_t) * (size_t)comm_size()));
  if (!s) s = seg_partition_by_range(&cx.cust, "user_id", &cx.n_total, cx.splitters);
  cx.t_partition = sc_now() - t;
  if (!s && cx.n_total == 0)
    s = comm_agree(sc_fail(SC_EINPUT, "clv: no customer has a valid line on or before the calibration end: check "
                                      "input.path, run.as_of and clv.holdout_days"));
  if (!s) {
    char d[16];
    ins_iso_day(cx.cal_end, d);
    sc_say("clv: %lld customers, calibration to %s, %s %.4g units of %g days", (long long)cx.n_total, d,
           cx.holdout_days > 0 ? "holdout" : "horizon", cx.h_units, cx.unit);
  }
  if (!s) s = clv_fits(run, &cx, &f);
  t = sc_now();
  if (!s) s = clv_predict(&cx, &f);
  if (!s) s = clv_aggregates(&cx, &f);
  if (!s) s = clv_segments(&cx, results);
  cx.t_predict = sc_now() - t;
  t = sc_now();
  if (!s) s = clv_write_outputs(run, &cx, results);
  cx.t_outputs = sc_now() - t;
  if (!s) clv_summary_json(run, &cx);
  clv_fitctx_free(&f);
  table_free(&cx.cust);
  free(cx.splitters);
  free(cx.repeat_days);
  free(cx.first_days);
  free(cx.period_end);
  free(cx.period_actual);
  free(cx.period_pred);
  free(cx.clusters);
  return s;
}
