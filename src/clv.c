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
#include "segment_select.h"
#include "stages.h"

/* Optimiser settings: the gradient tolerance is per customer (sums grow
 * with them); a step changes no parameter by more than a factor e
 * (CLV_MAX_STEP in log-parameters: on CDNOW a first full Newton step
 * from the start lands on the flat ridge of large a and b, where the
 * Hessian is indefinite, and 57 gradient steps follow; capped, Newton takes
 * 7 steps); log-parameters stay within ±CLV_BOUND, and a maximum found
 * beyond ±CLV_FINITE in a log-parameter (a parameter above 6.6e7 or below
 * 1.5e-8) is taken for one at 0 or infinity: the data do not identify the
 * model there. */
#define CLV_TOL_PER_CUSTOMER 1e-10
#define CLV_BOUND 25.0
#define CLV_FINITE 18.0
#define CLV_MAX_STEP 1.0
#define CLV_MAX_EVALS 300

/* ---- sums over ranks ------------------------------------------------------ */

/* Adds fixed-point accumulators v[0..n) and integers extra[0..ne) over
 * ranks in one Allreduce. */
static void clv_allreduce(fx_acc *v, int n, int64_t *extra, int ne) {
  int64_t buf[FX_LIMBS * 64 + 64];
  for (int i = 0; i < n; i++) fx_split(v[i], buf + FX_LIMBS * i);
  for (int i = 0; i < ne; i++) buf[FX_LIMBS * n + i] = extra[i];
  comm_sum_i64(buf, (size_t)(FX_LIMBS * n + ne));
  for (int i = 0; i < n; i++) v[i] = fx_join(buf + FX_LIMBS * i);
  for (int i = 0; i < ne; i++) extra[i] = buf[FX_LIMBS * n + i];
}

/* Adds a larger array of accumulators (aggregates) over ranks. */
static sc_status clv_allreduce_many(fx_acc *v, size_t n) {
  int64_t *l = NULL;
  SC_TRY(comm_agree(sc_alloc(&l, sizeof(int64_t) * FX_LIMBS * (n ? n : 1))));
  for (size_t i = 0; i < n; i++) fx_split(v[i], l + FX_LIMBS * i);
  comm_sum_i64(l, FX_LIMBS * n);
  for (size_t i = 0; i < n; i++) v[i] = fx_join(l + FX_LIMBS * i);
  free(l);
  return SC_OK;
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
  int64_t n = 0;
  int64_t *uid = table_i64(&t, "user_id");
  for (int64_t g = 0; !s && g < G; g++) {
    if (o.x[g] < 0) continue;
    uid[n] = in.user_id[starts[g]];
    o.x[n] = o.x[g];
    o.tx_days[n] = o.tx_days[g];
    o.T_days[n] = o.T_days[g];
    o.first_day[n] = o.first_day[g];
    o.repeat_micro[n] = o.repeat_micro[g];
    o.holdout[n] = o.holdout[g];
    n++;
  }
  free(starts);
  if (!s) t.n = n;
  if (!s) cx->cust = t;
  else table_free(&t);
  return s;
}

/* ---- 3. fits ------------------------------------------------------------------- */

/// What the fits' callbacks need.
typedef struct {
  sc_run *run;
  clv_ctx *cx;
  /* BG/NBD */
  clv_groups g;
  int32_t *gx, *gtx, *gT;
  int64_t *gcount;
  int64_t *grp;          ///< group of each local customer
  clv_bg_tables tab;
  /* Gamma-Gamma */
  clv_gg_data gd;
  int32_t *ggx;
  double *ggm;
  int64_t *nx;           ///< global histogram of x (1..xmax) of its customers
  int ggxmax;
  double gg_consts[2];
  /* checkpoint */
  checkpoint_state st;
  int64_t test_step;
  int test_rank;
  int phase;             ///< 0: BG/NBD, 1: Gamma-Gamma
} clv_fitctx;

static int bg_eval(void *vc, const double *th, nt_eval *e) {
  clv_fitctx *f = vc;
  clv_bg_tables_fill(&f->tab, th);
  fx_acc acc[CLV_BG_TERMS] = {0};
  int64_t bad = 0;
  clv_bg_accumulate(&f->g, &f->tab, 1, acc, &bad);
  clv_allreduce(acc, CLV_BG_TERMS, &bad, 1); /* the one Allreduce of an evaluation */
  e->f = fx_value63(acc[0]);
  for (int i = 0; i < 4; i++) e->g[i] = fx_value63(acc[1 + i]);
  for (int i = 0; i < 10; i++) e->h[i] = fx_value63(acc[5 + i]);
  e->ok = bad == 0;
  return 0;
}

/* BG/NBD at a = 0 (b drops out of the likelihood there): the NBD in
 * (ln r, ln α), through the same sums (kernels/clv.c's terms are exact
 * there: the dropout terms vanish). */
static int nbd_eval(void *vc, const double *th, nt_eval *e) {
  double th4[4] = {th[0], th[1], -INFINITY, 0};
  nt_eval full;
  int rc = bg_eval(vc, th4, &full);
  e->f = full.f;
  e->g[0] = full.g[0];
  e->g[1] = full.g[1];
  e->h[0] = full.h[0];
  e->h[1] = full.h[1];
  e->h[2] = full.h[4];
  e->ok = full.ok;
  return rc;
}

static int gg_eval(void *vc, const double *th, nt_eval *e) {
  clv_fitctx *f = vc;
  fx_acc acc[CLV_GG_SUMS] = {0};
  int64_t bad = 0;
  clv_gg_accumulate(&f->gd, exp(th[2]), acc, &bad);
  clv_allreduce(acc, CLV_GG_SUMS, &bad, 1);
  double sums[CLV_GG_SUMS], o[CLV_GG_TERMS];
  for (int k = 0; k < CLV_GG_SUMS; k++) sums[k] = fx_value63(acc[k]);
  clv_gg_terms(th, f->nx, f->ggxmax, sums, f->gg_consts, o);
  e->f = o[0];
  for (int i = 0; i < 3; i++) e->g[i] = o[1 + i];
  for (int i = 0; i < 6; i++) e->h[i] = o[4 + i];
  e->ok = bad == 0;
  return 0;
}

/* ---- checkpoint of the fits -------------------------------------------------------
 *
 * After every accepted step the fits ask checkpoint_due; when due they
 * save, replicated on every rank, for each model ("bg", "gg"):
 *   <m>     [started, done, status, evals, steps, newton steps, gradient steps]
 *   <m>.th  the accepted log-parameters
 * A resumed fit restarts from the saved point with its counters; the
 * evaluation there is made again (the same bits) and not counted, so the
 * path, the counters and the results are those of an uninterrupted fit.
 * The step of SEGCAST_TEST_SIGNAL_AT=clv:<step> counts the accepted steps
 * of both fits. The key is the configuration key mixed with a data key of
 * every customer's (user id, x, t_x, T, repeat value). */

static sc_status fill_model(checkpoint_state *st, const char *name, const clv_fit *m, int dim, int started, int done) {
  int64_t v[7] = {started, done, m->st.status, m->st.evals, m->st.steps, m->st.newton_steps, m->st.gradient_steps};
  char nm[16];
  SC_TRY(checkpoint_put_i64(st, name, v, 7));
  snprintf(nm, sizeof nm, "%s.th", name);
  return checkpoint_put_f64(st, nm, m->st.th, dim, 1);
}

static sc_status ck_fill(clv_fitctx *f) {
  clv_ctx *cx = f->cx;
  SC_TRY(fill_model(&f->st, "bg", &cx->bg, 4, 1, f->phase > 0));
  return fill_model(&f->st, "gg", &cx->gg, 3, f->phase > 0, f->phase > 1);
}

static sc_status restore_model(const checkpoint_state *st, const char *name, clv_fit *m, int dim, int *started,
                               int *done) {
  const int64_t *v;
  const double *th;
  int64_t n, rows, cols;
  char nm[16];
  snprintf(nm, sizeof nm, "%s.th", name);
  SC_TRY(checkpoint_get_i64(st, name, &v, &n));
  SC_TRY(checkpoint_get_f64(st, nm, &th, &rows, &cols));
  if (n != 7 || rows != dim || cols != 1) return sc_fail(SC_ESTORE, "checkpoint: the clv state is inconsistent; delete it");
  *started = (int)v[0];
  *done = (int)v[1];
  nt_start(&m->st, dim, th);
  m->st.status = (int)v[2];
  m->st.evals = v[3];
  m->st.steps = v[4];
  m->st.newton_steps = v[5];
  m->st.gradient_steps = v[6];
  return SC_OK;
}

static int fit_hook(void *vc, const nt_state *s) {
  clv_fitctx *f = vc;
  int64_t step = s->steps + (f->phase > 0 ? f->cx->bg.st.steps : 0);
  if (f->test_step == step && comm_rank() == f->test_rank) raise(SIGUSR1);
  if (!checkpoint_due(f->run)) return 0;
  /* s is the model's own state (bg.st or gg.st), which ck_fill reads */
  sc_status st = comm_agree(ck_fill(f));
  f->st.step = step;
  if (!st) st = checkpoint_save(f->run, &f->st);
  return (int)st;
}

static sc_status ck_key(const sc_run *run, const clv_ctx *cx, uint64_t *key) {
  int64_t n = cx->cust.n, *h = NULL;
  SC_TRY(comm_agree(sc_alloc(&h, sizeof(int64_t) * (size_t)(n + 1))));
  const int64_t *uid = table_i64(&cx->cust, "user_id"), *rep = table_i64(&cx->cust, "repeat_micro");
  const int32_t *x = table_i32(&cx->cust, "x"), *tx = table_i32(&cx->cust, "tx_days"), *T = table_i32(&cx->cust, "T_days");
  for (int64_t i = 0; i < n; i++) {
    uint64_t v = sc_mix64((uint64_t)uid[i]);
    v = sc_mix64(v ^ ((uint64_t)(uint32_t)x[i] << 40 ^ (uint64_t)(uint32_t)tx[i] << 20 ^ (uint64_t)(uint32_t)T[i]));
    h[i] = (int64_t)sc_mix64(v ^ (uint64_t)rep[i]);
  }
  uint64_t data = checkpoint_data_key(h, n);
  free(h);
  *key = checkpoint_key_mix(checkpoint_config_key(run), data);
  return SC_OK;
}

/* ---- grouping ------------------------------------------------------------------- */

/* Groups the local customers by (x, T, t_x): the groups in key order and
 * every customer's group. */
static sc_status bg_groups(clv_ctx *cx, clv_fitctx *f) {
  int64_t n = cx->cust.n;
  const int32_t *x = table_i32(&cx->cust, "x"), *tx = table_i32(&cx->cust, "tx_days"), *T = table_i32(&cx->cust, "T_days");
  int64_t *key = NULL, *ix = NULL;
  sc_status s = sc_alloc(&key, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&ix, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&f->grp, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) {
    /* x, T and t_x are below 2^21 (days and transaction days of one customer) */
    for (int64_t i = 0; i < n; i++) {
      key[i] = (int64_t)x[i] << 42 | (int64_t)T[i] << 21 | tx[i];
      ix[i] = i;
    }
    if (radix_sort_i64(key, ix, n)) s = sc_fail(SC_ENOMEM, "clv: out of memory grouping customers");
  }
  int64_t ng = 0;
  for (int64_t i = 0; !s && i < n; i++) ng += i == 0 || key[i] != key[i - 1];
  if (!s) s = sc_alloc(&f->gx, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(&f->gtx, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(&f->gT, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(&f->gcount, sizeof(int64_t) * (size_t)(ng + 1));
  if (!s) {
    int64_t g = -1;
    for (int64_t i = 0; i < n; i++) {
      if (i == 0 || key[i] != key[i - 1]) {
        g++;
        f->gx[g] = x[ix[i]];
        f->gT[g] = T[ix[i]];
        f->gtx[g] = tx[ix[i]];
        f->gcount[g] = 0;
      }
      f->gcount[g]++;
      f->grp[ix[i]] = g;
    }
    f->g = (clv_groups){ng, f->gx, f->gtx, f->gT, f->gcount};
  }
  free(key);
  free(ix);
  return s;
}

/* Why a converged (or stopped) fit is not a finite maximum, or "". */
static void judge_fit(clv_fit *m, const char *const *names, int dim, double tol) {
  m->fitted = 0;
  double gn = nt_gnorm(&m->st.at, dim);
  for (int i = 0; i < dim; i++)
    if (fabs(m->st.th[i]) > CLV_FINITE) {
      snprintf(m->reason, sizeof m->reason,
               "the likelihood has no maximum at finite parameters: %s runs to %s (%.3g after %ld steps); the data "
               "do not identify the model",
               names[i], m->st.th[i] > 0 ? "infinity" : "0", exp(m->st.th[i]), m->st.steps);
      return;
    }
  if (m->st.status == NT_CONVERGED || (m->st.status == NT_STALLED && gn <= 1e3 * tol)) {
    m->fitted = 1;
    m->reason[0] = 0;
    return;
  }
  snprintf(m->reason, sizeof m->reason, "the fit %s after %ld evaluations with gradient norm %.3g (tolerance %.3g)",
           m->st.status == NT_MAX_EVALS ? "reached its evaluation limit" : "stalled", m->st.evals, gn, tol);
}

static sc_status run_fit(clv_fitctx *f, clv_fit *m, int dim, nt_eval_fn eval, double tol, int resume_done) {
  double t0 = sc_now();
  nt_problem p = {dim, tol, CLV_BOUND, CLV_MAX_STEP, CLV_MAX_EVALS, eval, fit_hook, f};
  int rc;
  if (resume_done) {
    /* finished before the stop: only its final evaluation is made again */
    rc = eval(f, m->st.th, &m->st.at);
    m->st.have_at = 1;
  } else {
    rc = nt_maximize(&p, &m->st);
  }
  m->seconds = sc_now() - t0;
  return (sc_status)rc;
}

/* Starting points: BG/NBD with r = 1 and α making r/α the mean repeat rate
 * (Σx / ΣT), a = b = 1; Gamma-Gamma with p = 2, q = 3 and γ making the
 * population mean γp/(q-1) the mean transaction value. */
static sc_status clv_fits(sc_run *run, clv_ctx *cx, clv_fitctx *f) {
  int64_t n = cx->cust.n;
  const int32_t *x = table_i32(&cx->cust, "x"), *T = table_i32(&cx->cust, "T_days");
  const int64_t *rep = table_i64(&cx->cust, "repeat_micro");
  /* global sizes and sums (one Allreduce each) */
  int64_t mx[2] = {0, 0};
  fx_acc sums[3] = {0};
  int64_t cnt[2] = {0, 0};
  for (int64_t i = 0; i < n; i++) {
    mx[0] = x[i] > mx[0] ? x[i] : mx[0];
    mx[1] = T[i] > mx[1] ? T[i] : mx[1];
    sums[0] += x[i];
    sums[1] += T[i];
    if (x[i] > 0 && rep[i] > 0) {
      cnt[0]++;
      sums[2] += fx_q63((double)rep[i] / 1e6 / x[i]);
    }
  }
  comm_max_i64(mx, 2);
  clv_allreduce(sums, 3, cnt, 1);
  double sum_x = (double)sums[0], sum_T = (double)sums[1] / cx->unit;
  int64_t n_gg = cnt[0];
  double mean_m = n_gg ? fx_value63(sums[2]) / (double)n_gg : 0;

  SC_TRY(comm_agree(bg_groups(cx, f)));
  SC_TRY(comm_agree(clv_bg_tables_init(&f->tab, (int)mx[0], (int)mx[1], cx->unit)
                        ? sc_fail(SC_ENOMEM, "clv: out of memory for the BG/NBD tables")
                        : SC_OK));
  /* Gamma-Gamma's customers and histogram of x */
  int64_t k = 0;
  sc_status s = sc_alloc(&f->ggx, sizeof(int32_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&f->ggm, sizeof(double) * (size_t)(n + 1));
  if (!s) s = sc_calloc(&f->nx, (size_t)mx[0] + 2, sizeof(int64_t));
  SC_TRY(comm_agree(s));
  for (int64_t i = 0; i < n; i++)
    if (x[i] > 0 && rep[i] > 0) {
      f->ggx[k] = x[i];
      f->ggm[k] = (double)rep[i] / 1e6 / x[i];
      f->nx[x[i]]++;
      k++;
    }
  f->gd = (clv_gg_data){k, f->ggx, f->ggm};
  f->ggxmax = (int)mx[0];
  comm_sum_i64(f->nx, (size_t)mx[0] + 1);
  fx_acc c2[2];
  clv_gg_constants(&f->gd, c2);
  clv_allreduce(c2, 2, NULL, 0);
  f->gg_consts[0] = fx_value63(c2[0]);
  f->gg_consts[1] = fx_value63(c2[1]);
  cx->bg.customers = cx->n_total;
  cx->gg.customers = n_gg;

  /* the checkpoint, and where to start */
  uint64_t key = 0;
  SC_TRY(comm_agree(checkpoint_test_signal("clv", "step", &f->test_step, &f->test_rank)));
  SC_TRY(ck_key(run, cx, &key));
  int found = 0, bg_started = 0, bg_done = 0, gg_started = 0, gg_done = 0;
  SC_TRY(checkpoint_resume(run, "clv", key, &f->st, &found));
  double th_bg[4] = {0, log(sum_x > 0 ? sum_T / sum_x : 1), 0, 0};
  double th_gg[3] = {log(2.0), log(3.0), log(mean_m > 0 ? mean_m : 1)};
  nt_start(&cx->bg.st, 4, th_bg);
  nt_start(&cx->gg.st, 3, th_gg);
  if (found) {
    s = restore_model(&f->st, "bg", &cx->bg, 4, &bg_started, &bg_done);
    if (!s) s = restore_model(&f->st, "gg", &cx->gg, 3, &gg_started, &gg_done);
    SC_TRY(comm_agree(s));
    if (!gg_started) nt_start(&cx->gg.st, 3, th_gg);
  }
  static const char *const bg_names[4] = {"r", "alpha", "a", "b"}, *const gg_names[3] = {"p", "q", "gamma"};
  double tol_bg = CLV_TOL_PER_CUSTOMER * (double)(cx->n_total > 1 ? cx->n_total : 1);
  double tol_gg = CLV_TOL_PER_CUSTOMER * (double)(n_gg > 1 ? n_gg : 1);

  f->phase = 0;
  s = SC_OK;
  if (sum_x == 0) {
    snprintf(cx->bg.reason, sizeof cx->bg.reason,
             "no customer made a repeat transaction in the calibration period: the likelihood's maximum is at r = 0 "
             "(no repeat purchases), and a, b are not identified");
  } else {
    cx->bg.attempted = 1;
    s = run_fit(f, &cx->bg, 4, bg_eval, tol_bg, bg_done);
    if (!s) judge_fit(&cx->bg, bg_names, 4, tol_bg);
  }
  if (s) return s;
  if (cx->bg.attempted && !cx->bg.fitted) {
    /* the search ran towards a boundary: when it is a -> 0 (no dropout),
       the supremum is the NBD's maximum, the model's limit there */
    double t1 = sc_now();
    nt_problem p = {2, tol_bg, CLV_BOUND, CLV_MAX_STEP, CLV_MAX_EVALS, nbd_eval, NULL, f};
    nt_state nb;
    nt_start(&nb, 2, th_bg);
    s = (sc_status)nt_maximize(&p, &nb);
    if (s) return s;
    int finite = fabs(nb.th[0]) <= CLV_FINITE && fabs(nb.th[1]) <= CLV_FINITE;
    if (nb.status == NT_CONVERGED && finite && nb.at.f >= cx->bg.st.at.f - 1e-9 * fabs(cx->bg.st.at.f)) {
      clv_fit *m = &cx->bg;
      double th4[4] = {nb.th[0], nb.th[1], -INFINITY, 0};
      long evals = m->st.evals + nb.evals;
      nt_start(&m->st, 4, th4);
      s = (sc_status)bg_eval(f, th4, &m->st.at);
      if (s) return s;
      m->st.have_at = 1;
      m->st.status = NT_CONVERGED;
      m->st.evals = evals;
      m->st.steps = nb.steps;
      m->st.newton_steps = nb.newton_steps;
      m->st.gradient_steps = nb.gradient_steps;
      m->fitted = m->boundary = 1;
      snprintf(m->reason, sizeof m->reason,
               "the maximum is at a = 0, BG/NBD's limit without dropout (the NBD): no customer's silence is long "
               "enough to say they left, so P(alive) = 1 and b is not identified");
    }
    cx->bg.seconds += sc_now() - t1;
  }
  if (cx->bg.fitted)
    sc_say("clv: BG/NBD r = %.6g, alpha = %.6g, a = %.6g, b = %.6g%s, log-likelihood %.10g, gradient norm %.3g "
           "(%ld steps, %ld evaluations, %.2f s)",
           exp(cx->bg.st.th[0]), exp(cx->bg.st.th[1]), exp(cx->bg.st.th[2]), cx->bg.boundary ? NAN : exp(cx->bg.st.th[3]),
           cx->bg.boundary ? " (at the a = 0 boundary: the NBD)" : "", cx->bg.st.at.f, nt_gnorm(&cx->bg.st.at, 4),
           cx->bg.st.steps, cx->bg.st.evals, cx->bg.seconds);
  else sc_say("clv: BG/NBD not fitted: %s", cx->bg.reason);

  f->phase = 1;
  if (n_gg == 0) {
    snprintf(cx->gg.reason, sizeof cx->gg.reason,
             "no customer made a repeat transaction in the calibration period: Gamma-Gamma needs customers with x > 0");
  } else {
    cx->gg.attempted = 1;
    s = run_fit(f, &cx->gg, 3, gg_eval, tol_gg, gg_done);
    if (!s) judge_fit(&cx->gg, gg_names, 3, tol_gg);
  }
  if (s) return s;
  if (cx->gg.fitted)
    sc_say("clv: Gamma-Gamma p = %.6g, q = %.6g, gamma = %.6g, log-likelihood %.10g, gradient norm %.3g (%ld steps, "
           "%ld evaluations, %.2f s)",
           exp(cx->gg.st.th[0]), exp(cx->gg.st.th[1]), exp(cx->gg.st.th[2]), cx->gg.st.at.f,
           nt_gnorm(&cx->gg.st.at, 3), cx->gg.st.steps, cx->gg.st.evals, cx->gg.seconds);
  else sc_say("clv: Gamma-Gamma not fitted: %s", cx->gg.reason);

  /* the fits are done: a signal from here on saves them and stops */
  f->phase = 2;
  s = comm_agree(ck_fill(f));
  f->st.step = cx->bg.st.steps + cx->gg.st.steps;
  if (f->test_step == -2 && comm_rank() == f->test_rank) raise(SIGUSR1);
  if (!s) s = checkpoint_done(run, &f->st);
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
  SC_TRY(clv_allreduce_many(fa, NF));
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
      cx->lorenz_k[i] = (int64_t)((__int128)i * cx->n_total / 100);
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
  SC_TRY(h5_read_table(results, "/segment/customers", &lab, NULL));
  const int64_t *lu = table_i64(&lab, "user_id");
  const int32_t *lc = table_i32(&lab, "cluster"), *lr = table_i32(&lab, "rfm_segment");
  int32_t *dest = NULL;
  sc_status s = lu && lc && lr ? SC_OK : sc_fail(SC_ESTORE, "clv: results.h5 /segment/customers lacks user_id, cluster or rfm_segment");
  if (!s) s = sc_alloc(&dest, sizeof(int32_t) * (size_t)(lab.n + 1));
  s = comm_agree(s);
  for (int64_t i = 0; !s && i < lab.n; i++) dest[i] = seg_range_rank(cx->splitters, comm_size(), lu[i]);
  if (!s) s = table_exchange(&lab, dest);
  if (!s) s = comm_agree(table_sort(&lab, "user_id", NULL, NULL));
  free(dest);
  int64_t kmax = -1;
  if (!s) {
    lu = table_i64(&lab, "user_id");
    lc = table_i32(&lab, "cluster");
    lr = table_i32(&lab, "rfm_segment");
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
  s = clv_allreduce_many(acc, (size_t)ns * 6);
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
  checkpoint_state_free(&f.st);
  clv_bg_tables_free(&f.tab);
  free(f.gx);
  free(f.gtx);
  free(f.gT);
  free(f.gcount);
  free(f.grp);
  free(f.ggx);
  free(f.ggm);
  free(f.nx);
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
