/* clv_fit.c: the clv stage's two maximum-likelihood fits (DATA.md 8).
 *
 * Each model is maximised by Newton's method on its log-parameters
 * (kernels/newton.c); an evaluation sums the log-likelihood, gradient and
 * Hessian over the rank's customers in fixed point (kernels/clv.c) and
 * combines the ranks' sums with ONE Allreduce, so the path, the parameters
 * and every later number are the same bits at any rank or thread count.
 *
 * Warm start: above CLV_WARM_MIN customers, each model is first fitted on
 * a sample of one customer in 16 (chosen by a hash of the user id, so the
 * same customers at any rank count) to a looser tolerance; the fit on every
 * customer then starts there and needs 2-4 evaluations instead of 8-9 (on
 * the 1M-user data the two fits took 0.18 s from the fixed starts). Below
 * it, or when the sample fit does not converge, the full fit starts from
 * the fixed points of clv_fits. The result is the full data's maximum
 * either way; only the path (and so the last bits) depends on the start.
 *
 * The sub-fits run in order: BG/NBD on the sample, on everyone, then
 * Gamma-Gamma the same. After BG/NBD, a search that ran towards a = 0 is
 * replaced by BG/NBD's limit there, the NBD, when that is its supremum.
 *
 * Checkpoint: after every accepted step the fits ask checkpoint_due; when
 * due they save, replicated on every rank:
 *   phase      [the sub-fit in progress, 0..3; 4: all done]
 *   fit<k>     [status, evals, steps, newton steps, gradient steps]
 *   fit<k>.th  its accepted log-parameters
 * A resumed sub-fit restarts from its saved point with its counters; the
 * evaluation there is made again (the same bits) and not counted, so the
 * path, the counters and the results are those of an uninterrupted fit.
 * The step of SEGCAST_TEST_SIGNAL_AT=clv:<step> counts the accepted steps
 * of all sub-fits. The key is the configuration key mixed with a data key
 * of every customer's (user id, x, t_x, T, repeat value).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clv_internal.h"
#include "comm.h"
#include "radix.h"

/* Optimiser settings: the gradient tolerance is per customer (sums grow
 * with them); a step changes no parameter by more than a factor e
 * (CLV_MAX_STEP in log-parameters: on CDNOW a first full Newton step from
 * the start lands on the flat ridge of large a and b, where the Hessian is
 * indefinite, and 57 gradient steps follow; capped, Newton takes 7 steps);
 * log-parameters stay within ±CLV_BOUND, and a maximum found beyond
 * ±CLV_FINITE in a log-parameter (a parameter above 6.6e7 or below 1.5e-8)
 * is taken for one at 0 or infinity: the data do not identify the model
 * there. */
#define CLV_TOL_PER_CUSTOMER 1e-10
#define CLV_WARM_TOL_PER_CUSTOMER 1e-6
#define CLV_BOUND 25.0
#define CLV_FINITE 18.0
#define CLV_MAX_STEP 1.0
#define CLV_MAX_EVALS 300
#define CLV_WARM_MIN 50000
#define CLV_WARM_SALT 0x5A17C1F7D00DULL

static int in_sample(int64_t uid) { return (sc_mix64((uint64_t)uid ^ CLV_WARM_SALT) & 15) == 0; }

/* ---- evaluations ------------------------------------------------------------ */

static int bg_eval(void *vc, const double *th, nt_eval *e) {
  clv_fitctx *f = vc;
  clv_bg_tables_fill(&f->tab, th);
  fx_acc acc[CLV_BG_TERMS] = {0};
  int64_t bad = 0;
  clv_bg_accumulate(f->sample ? &f->gs : &f->g, &f->tab, 1, acc, &bad);
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
  const clv_gg_data *d = f->sample ? &f->gds : &f->gd;
  fx_acc acc[CLV_GG_SUMS] = {0};
  int64_t bad = 0;
  clv_gg_accumulate(d, exp(th[2]), acc, &bad);
  clv_allreduce(acc, CLV_GG_SUMS, &bad, 1);
  double sums[CLV_GG_SUMS], o[CLV_GG_TERMS];
  for (int k = 0; k < CLV_GG_SUMS; k++) sums[k] = fx_value63(acc[k]);
  clv_gg_terms(th, f->sample ? f->nxs : f->nx, f->ggxmax, sums, f->sample ? f->consts_s : f->consts, o);
  e->f = o[0];
  for (int i = 0; i < 3; i++) e->g[i] = o[1 + i];
  for (int i = 0; i < 6; i++) e->h[i] = o[4 + i];
  e->ok = bad == 0;
  return 0;
}

/* ---- checkpoint ---------------------------------------------------------------- */

static nt_state *sub_state(clv_ctx *cx, int k) {
  return k == 0 ? &cx->bg.warm : k == 1 ? &cx->bg.st : k == 2 ? &cx->gg.warm : &cx->gg.st;
}
static int sub_dim(int k) { return k < 2 ? 4 : 3; }

static sc_status ck_fill(clv_fitctx *f) {
  int64_t ph = f->phase;
  SC_TRY(checkpoint_put_i64(&f->st, "phase", &ph, 1));
  for (int k = 0; k < 4; k++) {
    const nt_state *s = sub_state(f->cx, k);
    int64_t v[5] = {s->status, s->evals, s->steps, s->newton_steps, s->gradient_steps};
    char nm[16];
    snprintf(nm, sizeof nm, "fit%d", k);
    SC_TRY(checkpoint_put_i64(&f->st, nm, v, 5));
    snprintf(nm, sizeof nm, "fit%d.th", k);
    SC_TRY(checkpoint_put_f64(&f->st, nm, s->th, sub_dim(k), 1));
  }
  return SC_OK;
}

static sc_status ck_restore(clv_fitctx *f, int *phase) {
  const int64_t *ph;
  int64_t n;
  SC_TRY(checkpoint_get_i64(&f->st, "phase", &ph, &n));
  *phase = (int)ph[0];
  for (int k = 0; k < 4; k++) {
    const int64_t *v;
    const double *th;
    int64_t rows, cols;
    char nm[16];
    snprintf(nm, sizeof nm, "fit%d", k);
    SC_TRY(checkpoint_get_i64(&f->st, nm, &v, &n));
    snprintf(nm, sizeof nm, "fit%d.th", k);
    SC_TRY(checkpoint_get_f64(&f->st, nm, &th, &rows, &cols));
    if (n != 5 || rows != sub_dim(k) || cols != 1 || *phase < 0 || *phase > 4)
      return sc_fail(SC_ESTORE, "checkpoint: the clv state is inconsistent; delete the file to start over");
    nt_state *s = sub_state(f->cx, k);
    nt_start(s, sub_dim(k), th);
    s->status = (int)v[0];
    s->evals = v[1];
    s->steps = v[2];
    s->newton_steps = v[3];
    s->gradient_steps = v[4];
  }
  return SC_OK;
}

/* accepted steps of the sub-fits before k */
static int64_t steps_before(clv_ctx *cx, int k) {
  int64_t n = 0;
  for (int j = 0; j < k; j++) n += sub_state(cx, j)->steps;
  return n;
}

static int fit_hook(void *vc, const nt_state *s) {
  clv_fitctx *f = vc;
  int64_t step = steps_before(f->cx, f->phase) + s->steps;
  if (f->test_step == step && comm_rank() == f->test_rank) checkpoint_test_raise();
  if (!checkpoint_due(f->run)) return 0;
  /* s is the sub-fit's own state in cx, which ck_fill reads */
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

/* ---- data ------------------------------------------------------------------------ */

/* Groups the local customers i with take[i] (all when take is NULL) by
 * (x, T, t_x): the groups in key order, and every taken customer's group
 * in grp (when not NULL). */
static sc_status make_groups(const int32_t *x, const int32_t *tx, const int32_t *T, const uint8_t *take, int64_t n,
                             clv_groups *out, int32_t **ox, int32_t **otx, int32_t **oT, int64_t **ocount, int64_t *grp) {
  int64_t *key = NULL, *ix = NULL, m = 0;
  sc_status s = sc_alloc(&key, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = sc_alloc(&ix, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) {
    /* x, T and t_x are below 2^21 (days and transaction days of one customer) */
    for (int64_t i = 0; i < n; i++) {
      if (take && !take[i]) continue;
      key[m] = (int64_t)x[i] << 42 | (int64_t)T[i] << 21 | tx[i];
      ix[m++] = i;
    }
    if (radix_sort_i64(key, ix, m)) s = sc_fail(SC_ENOMEM, "clv: out of memory grouping customers");
  }
  int64_t ng = 0;
  for (int64_t i = 0; !s && i < m; i++) ng += i == 0 || key[i] != key[i - 1];
  if (!s) s = sc_alloc(ox, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(otx, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(oT, sizeof(int32_t) * (size_t)(ng + 1));
  if (!s) s = sc_alloc(ocount, sizeof(int64_t) * (size_t)(ng + 1));
  if (!s) {
    int64_t g = -1;
    for (int64_t i = 0; i < m; i++) {
      if (i == 0 || key[i] != key[i - 1]) {
        g++;
        (*ox)[g] = x[ix[i]];
        (*oT)[g] = T[ix[i]];
        (*otx)[g] = tx[ix[i]];
        (*ocount)[g] = 0;
      }
      (*ocount)[g]++;
      if (grp) grp[ix[i]] = g;
    }
    *out = (clv_groups){ng, *ox, *otx, *oT, *ocount};
  }
  free(key);
  free(ix);
  return s;
}

/* Gamma-Gamma's customers (x > 0, value > 0), the sample's after them in
 * the same arrays; their global histograms of x and constant sums. */
static sc_status gg_data(clv_ctx *cx, clv_fitctx *f, const uint8_t *take, int xmax) {
  int64_t n = cx->cust.n, k = 0, ks = 0;
  const int32_t *x = table_i32(&cx->cust, "x");
  const int64_t *rep = table_i64(&cx->cust, "repeat_micro");
  sc_status s = sc_alloc(&f->ggx, sizeof(int32_t) * (size_t)(2 * n + 1));
  if (!s) s = sc_alloc(&f->ggm, sizeof(double) * (size_t)(2 * n + 1));
  if (!s) s = sc_calloc(&f->nx, 2 * ((size_t)xmax + 2), sizeof(int64_t));
  SC_TRY(comm_agree(s));
  f->nxs = f->nx + xmax + 2;
  for (int64_t i = 0; i < n; i++)
    if (x[i] > 0 && rep[i] > 0) {
      f->ggx[k] = x[i];
      f->ggm[k] = (double)rep[i] / 1e6 / x[i];
      f->nx[x[i]]++;
      k++;
    }
  for (int64_t i = 0; take && i < n; i++)
    if (take[i] && x[i] > 0 && rep[i] > 0) {
      f->ggx[k + ks] = x[i];
      f->ggm[k + ks] = (double)rep[i] / 1e6 / x[i];
      f->nxs[x[i]]++;
      ks++;
    }
  f->gd = (clv_gg_data){k, f->ggx, f->ggm};
  f->gds = (clv_gg_data){ks, f->ggx + k, f->ggm + k};
  f->ggxmax = xmax;
  comm_sum_i64(f->nx, 2 * ((size_t)xmax + 2));
  fx_acc c[4];
  clv_gg_constants(&f->gd, c);
  clv_gg_constants(&f->gds, c + 2);
  clv_allreduce(c, 4, NULL, 0);
  for (int i = 0; i < 2; i++) {
    f->consts[i] = fx_value63(c[i]);
    f->consts_s[i] = fx_value63(c[2 + i]);
  }
  return SC_OK;
}

/* ---- the fits ---------------------------------------------------------------------- */

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

/* A sample fit that converged at finite parameters: the full fit's start. */
static int warm_ok(const nt_state *s) {
  if (s->status != NT_CONVERGED) return 0;
  for (int i = 0; i < s->dim; i++)
    if (fabs(s->th[i]) > CLV_FINITE) return 0;
  return 1;
}

/* Runs sub-fit k from its state: fresh (start), resumed (in progress), or
 * done before a stop (only its last evaluation is made again, for the
 * report, when `reevaluate`). */
static sc_status run_sub(clv_fitctx *f, int k, int resume_phase, const double *start, nt_eval_fn eval, double tol,
                         int reevaluate) {
  nt_state *s = sub_state(f->cx, k);
  if (k < resume_phase) {
    if (!reevaluate) return SC_OK;
    int rc = eval(f, s->th, &s->at);
    s->have_at = 1;
    return (sc_status)rc;
  }
  if (k > resume_phase) nt_start(s, sub_dim(k), start);
  f->phase = k;
  nt_problem p = {sub_dim(k), tol, CLV_BOUND, CLV_MAX_STEP, CLV_MAX_EVALS, eval, fit_hook, f};
  return (sc_status)nt_maximize(&p, s);
}

/* After BG/NBD: a search that ran towards a boundary is replaced by the
 * model's limit at a = 0 (no dropout), the NBD, when that is its supremum
 * (the NBD's maximum is at least the search's best point). */
static sc_status bg_boundary(clv_fitctx *f, const double *start, double tol) {
  clv_fit *m = &f->cx->bg;
  nt_problem p = {2, tol, CLV_BOUND, CLV_MAX_STEP, CLV_MAX_EVALS, nbd_eval, NULL, f};
  nt_state nb;
  nt_start(&nb, 2, start);
  SC_TRY((sc_status)nt_maximize(&p, &nb));
  int finite = fabs(nb.th[0]) <= CLV_FINITE && fabs(nb.th[1]) <= CLV_FINITE;
  if (!(nb.status == NT_CONVERGED && finite && nb.at.f >= m->st.at.f - 1e-9 * fabs(m->st.at.f))) return SC_OK;
  double th4[4] = {nb.th[0], nb.th[1], -INFINITY, 0};
  long evals = m->st.evals + nb.evals;
  nt_start(&m->st, 4, th4);
  SC_TRY((sc_status)bg_eval(f, th4, &m->st.at));
  m->st.have_at = 1;
  m->st.status = NT_CONVERGED;
  m->st.evals = evals;
  m->st.steps = nb.steps;
  m->st.newton_steps = nb.newton_steps;
  m->st.gradient_steps = nb.gradient_steps;
  m->fitted = m->boundary = 1;
  snprintf(m->reason, sizeof m->reason,
           "the maximum is at a = 0, BG/NBD's limit without dropout (the NBD): no customer's silence is long enough "
           "to say they left, so P(alive) = 1 and b is not identified");
  return SC_OK;
}

/* A model's sample fit (sub-fit k, when the model uses one) and its fit
 * on every customer (k + 1), started from the sample's answer when that
 * converged, then judged. */
static sc_status fit_model(clv_fitctx *f, clv_fit *m, int k, int phase, const double *start, nt_eval_fn eval, double tol,
                           const char *const *names) {
  double t0 = sc_now();
  sc_status s = SC_OK;
  m->attempted = 1;
  if (m->warm_used) {
    f->sample = 1;
    s = run_sub(f, k, phase, start, eval, CLV_WARM_TOL_PER_CUSTOMER * (double)m->warm_customers, 0);
    f->sample = 0;
  }
  if (!s) s = run_sub(f, k + 1, phase, m->warm_used && warm_ok(&m->warm) ? m->warm.th : start, eval, tol, 1);
  if (!s) judge_fit(m, names, sub_dim(k), tol);
  m->seconds = sc_now() - t0;
  return s;
}

/* One line on a model's fit (rank 0). */
static void say_fit(const char *model, const clv_fit *m, const char *const *names) {
  if (!m->fitted) {
    sc_say("clv: %s not fitted: %s", model, m->reason);
    return;
  }
  int dim = m->st.dim;
  char par[256] = "";
  for (int i = 0; i < dim; i++) {
    size_t l = strlen(par);
    if (m->boundary && i == 3) snprintf(par + l, sizeof par - l, ", %s not identified", names[i]);
    else snprintf(par + l, sizeof par - l, "%s%s = %.6g", i ? ", " : "", names[i], exp(m->st.th[i]));
  }
  sc_say("clv: %s %s%s, log-likelihood %.10g, gradient norm %.3g (%ld steps, %ld evaluations%s, %.2f s)", model, par,
         m->boundary ? " (at the a = 0 boundary: the NBD)" : "", m->st.at.f, nt_gnorm(&m->st.at, dim), m->st.steps,
         m->st.evals, m->warm_used ? ", after a start on a sample" : "", m->seconds);
}

sc_status clv_fits(sc_run *run, clv_ctx *cx, clv_fitctx *f) {
  int64_t n = cx->cust.n;
  const int64_t *uid = table_i64(&cx->cust, "user_id"), *rep = table_i64(&cx->cust, "repeat_micro");
  const int32_t *x = table_i32(&cx->cust, "x"), *tx = table_i32(&cx->cust, "tx_days"), *T = table_i32(&cx->cust, "T_days");
  uint8_t *take = NULL;
  SC_TRY(comm_agree(sc_alloc(&take, (size_t)n + 1)));
  /* global sizes and sums, the starting points' ingredients */
  int64_t mx[2] = {0, 0}, cnt[3] = {0, 0, 0};
  fx_acc sums[3] = {0};
  for (int64_t i = 0; i < n; i++) {
    take[i] = (uint8_t)in_sample(uid[i]);
    mx[0] = x[i] > mx[0] ? x[i] : mx[0];
    mx[1] = T[i] > mx[1] ? T[i] : mx[1];
    sums[0] += x[i];
    sums[1] += T[i];
    cnt[1] += take[i];
    if (x[i] > 0 && rep[i] > 0) {
      cnt[0]++;
      cnt[2] += take[i];
      sums[2] += fx_q63((double)rep[i] / 1e6 / x[i]);
    }
  }
  comm_max_i64(mx, 2);
  clv_allreduce(sums, 3, cnt, 3);
  if (mx[1] >= (1 << 21)) {
    free(take);
    return comm_agree(sc_fail(SC_EUSAGE, "clv: a customer's calibration spans %lld days, more than the 2,097,151 the "
                                         "models handle: check run.as_of",
                              (long long)mx[1]));
  }
  double sum_x = (double)sums[0], sum_T = (double)sums[1] / cx->unit;
  int64_t n_gg = cnt[0];
  double mean_m = n_gg ? fx_value63(sums[2]) / (double)n_gg : 0;
  cx->bg.customers = cx->n_total;
  cx->gg.customers = n_gg;
  cx->bg.warm_customers = cnt[1];
  cx->gg.warm_customers = cnt[2];
  cx->bg.warm_used = cx->n_total >= CLV_WARM_MIN && sum_x > 0;
  cx->gg.warm_used = n_gg >= CLV_WARM_MIN;

  sc_status s = sc_alloc(&f->grp, sizeof(int64_t) * (size_t)(n + 1));
  if (!s) s = make_groups(x, tx, T, NULL, n, &f->g, &f->gx, &f->gtx, &f->gT, &f->gcount, f->grp);
  if (!s && cx->bg.warm_used) s = make_groups(x, tx, T, take, n, &f->gs, &f->sx, &f->stx, &f->sT, &f->scount, NULL);
  if (!s && clv_bg_tables_init(&f->tab, (int)mx[0], (int)mx[1], cx->unit))
    s = sc_fail(SC_ENOMEM, "clv: out of memory for the BG/NBD tables");
  s = comm_agree(s);
  if (!s) s = gg_data(cx, f, cx->gg.warm_used ? take : NULL, (int)mx[0]);
  free(take);
  SC_TRY(s);

  /* the checkpoint */
  uint64_t key = 0;
  SC_TRY(comm_agree(checkpoint_test_signal("clv", "step", &f->test_step, &f->test_rank)));
  SC_TRY(ck_key(run, cx, &key));
  int found = 0, phase = -1;
  SC_TRY(checkpoint_resume(run, "clv", key, &f->st, &found));
  for (int k = 0; k < 4; k++) nt_start(sub_state(cx, k), sub_dim(k), (double[4]){0, 0, 0, 0});
  if (found) SC_TRY(comm_agree(ck_restore(f, &phase)));

  static const char *const bg_names[4] = {"r", "alpha", "a", "b"}, *const gg_names[3] = {"p", "q", "gamma"};
  double th_bg[4] = {0, log(sum_x > 0 ? sum_T / sum_x : 1), 0, 0};
  double th_gg[3] = {log(2.0), log(3.0), log(mean_m > 0 ? mean_m : 1)};
  double tol_bg = CLV_TOL_PER_CUSTOMER * (double)(cx->n_total > 1 ? cx->n_total : 1);
  double tol_gg = CLV_TOL_PER_CUSTOMER * (double)(n_gg > 1 ? n_gg : 1);

  /* BG/NBD, then Gamma-Gamma */
  if (sum_x == 0)
    snprintf(cx->bg.reason, sizeof cx->bg.reason,
             "no customer made a repeat transaction in the calibration period: the likelihood's maximum is at r = 0 "
             "(no repeat purchases), and a, b are not identified");
  else s = fit_model(f, &cx->bg, 0, phase, th_bg, bg_eval, tol_bg, bg_names);
  if (!s && cx->bg.attempted && !cx->bg.fitted) {
    double t0 = sc_now();
    s = bg_boundary(f, th_bg, tol_bg);
    cx->bg.seconds += sc_now() - t0;
  }
  SC_TRY(s);
  say_fit("BG/NBD", &cx->bg, bg_names);
  if (n_gg == 0)
    snprintf(cx->gg.reason, sizeof cx->gg.reason,
             "no customer made a repeat transaction in the calibration period: Gamma-Gamma needs customers with x > 0");
  else s = fit_model(f, &cx->gg, 2, phase, th_gg, gg_eval, tol_gg, gg_names);
  SC_TRY(s);
  say_fit("Gamma-Gamma", &cx->gg, gg_names);

  /* the fits are done: a signal from here on saves them and stops */
  f->phase = 4;
  s = comm_agree(ck_fill(f));
  f->st.step = steps_before(cx, 4);
  if (f->test_step == -2 && comm_rank() == f->test_rank) checkpoint_test_raise();
  if (!s) s = checkpoint_done(run, &f->st);
  return s;
}

void clv_fitctx_free(clv_fitctx *f) {
  checkpoint_state_free(&f->st);
  clv_bg_tables_free(&f->tab);
  void *p[] = {f->gx, f->gtx, f->gT, f->gcount, f->sx, f->stx, f->sT, f->scount, f->grp, f->ggx, f->ggm, f->nx};
  for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
  memset(f, 0, sizeof *f);
}
