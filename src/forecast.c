/* forecast.c: the forecast stage: demand table -> boosted trees -> outputs.
 *
 *   1. demand table (demand.c), written to the store (/demand) and to
 *      results.h5 (/forecast/demand, with each row's set and prediction);
 *   2. time split: the last forecast.test_days days are the test window,
 *      the forecast.valid_days before them the validation window (early
 *      stopping, error spread), everything earlier trains;
 *   3. distributed training (forecast_gbdt.c);
 *   4. predictions of the validation and test rows through the float32
 *      predictor (the one gbdt_model.json reproduces in XGBoost);
 *   5. R², RMSE, WAPE on the test window for the model and the
 *      seasonal-naive baseline (units 7 days earlier), from exact sums;
 *   6. reorder points per series (docs/forecast.md has the rule);
 *   7. outputs (forecast_out.c).
 * Every number here is the same at any rank and thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "demand.h"
#include "forecast_gbdt.h"
#include "forecast_out.h"
#include "stages.h"
#include "store.h"

/* Row key of (sku, region, date): the same at any rank count. */
static uint64_t row_key(int64_t sku, int32_t region, int32_t date) {
  return sc_mix64(sc_mix64((uint64_t)sku) ^ sc_mix64(((uint64_t)(uint32_t)region << 32) | (uint32_t)date));
}

/* Inverse of the standard normal CDF (Acklam's rational approximation,
 * refined by one Halley step with erfc; about 1e-15 relative error). */
double fc_normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  double x;
  if (p < 0.02425) {
    double q = sqrt(-2 * log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - 0.02425) {
    double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    double q = sqrt(-2 * log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  double e = 0.5 * erfc(-x / sqrt(2.0)) - p, u = e * sqrt(2 * M_PI) * exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

/* Accuracy of predictions pr against y over n local rows (collective, exact sums). */
static void metrics(const double *y, const double *pr, int64_t n, fc_metrics *m) {
  double *v = malloc((size_t)(n + 1) * sizeof *v);
  int64_t ng = comm_sum1_i64(n);
  if (!v) {
    /* keep the collective sequence; report no metrics */
    for (int k = 0; k < 5; k++) fc_sum_exact(NULL, 0);
    m->r2 = m->rmse = m->wape = NAN;
    return;
  }
  double sy = fc_sum_exact(y, n), mean = ng ? sy / (double)ng : 0.0;
  for (int64_t i = 0; i < n; i++) v[i] = (y[i] - mean) * (y[i] - mean);
  double sst = fc_sum_exact(v, n);
  for (int64_t i = 0; i < n; i++) v[i] = (y[i] - pr[i]) * (y[i] - pr[i]);
  double sse = fc_sum_exact(v, n);
  for (int64_t i = 0; i < n; i++) v[i] = fabs(y[i] - pr[i]);
  double sae = fc_sum_exact(v, n);
  for (int64_t i = 0; i < n; i++) v[i] = fabs(y[i]);
  double say = fc_sum_exact(v, n);
  free(v);
  m->r2 = sst > 0 ? 1.0 - sse / sst : NAN;
  m->rmse = ng ? sqrt(sse / (double)ng) : NAN;
  m->wape = say > 0 ? sae / say : NAN;
}

/* Reorder points of the local series (rows of a series are contiguous):
 * L x mean test forecast + z x sigma x sqrt(L), sigma from the series'
 * error-window residuals, or pooled over all series when it has fewer
 * than FC_MIN_ERR_ROWS of them. */
#define FC_MIN_ERR_ROWS 7
static void reorder_points(const sc_run *run, const sc_table *D, const uint8_t *set, const uint8_t *errwin,
                           const double *pred, double *rop, double *pooled_sigma) {
  const int64_t *sku = table_i64(D, "sku_id"), *units = table_i64(D, "units");
  const int32_t *reg = table_i32(D, "region_id");
  int64_t n = D->n, nerr = 0;
  double *e2 = malloc((size_t)(n + 1) * sizeof *e2);
  for (int64_t i = 0; e2 && i < n; i++)
    if (errwin[i]) {
      double e = (double)units[i] - pred[i];
      e2[nerr++] = e * e;
    }
  double sse = fc_sum_exact(e2, e2 ? nerr : 0);
  int64_t ng = comm_sum1_i64(e2 ? nerr : 0);
  free(e2);
  double pooled = ng ? sqrt(sse / (double)ng) : 0.0;
  *pooled_sigma = pooled;
  const double L = run->cfg.lead_time_days, z = fc_normal_quantile(run->cfg.service_level);
  int64_t a = 0;
  while (a < n) {
    int64_t b = a;
    while (b < n && sku[b] == sku[a] && reg[b] == reg[a]) b++;
    double ss = 0.0, st = 0.0;
    int64_t ne = 0, nt = 0;
    for (int64_t i = a; i < b; i++) {
      if (errwin[i]) {
        double e = (double)units[i] - pred[i];
        ss += e * e;
        ne++;
      }
      if (set[i] == FC_TEST) {
        st += pred[i] > 0 ? pred[i] : 0.0;
        nt++;
      }
    }
    double sigma = ne >= FC_MIN_ERR_ROWS ? sqrt(ss / (double)ne) : pooled;
    double mu = nt ? st / (double)nt : 0.0;
    double r = L * mu + z * sigma * sqrt(L);
    if (r < 0) r = 0;
    for (int64_t i = a; i < b; i++) rop[i] = set[i] == FC_TEST ? r : NAN;
    a = b;
  }
}

static sc_status forecast_params(const sc_config *c, fc_params *p) {
  memset(p, 0, sizeof *p);
  p->rounds = (int)c->rounds;
  p->max_depth = (int)c->max_depth;
  p->max_bin = (int)c->max_bin;
  p->objective = !strcmp(c->objective, "poisson") ? GBDT_POISSON : GBDT_SQUARED;
  p->early_stopping_rounds = (int)c->early_stopping_rounds;
  p->eta = c->eta;
  p->lambda = c->lambda;
  p->gamma = c->gamma;
  p->min_child_weight = c->min_child_weight;
  p->subsample = c->subsample;
  p->colsample = c->colsample;
  p->seed = (uint64_t)c->seed;
  return SC_OK;
}

sc_status stage_forecast(sc_run *run, const sc_dataset *ds, sc_h5 *results) {
  json_t *js = json_object();
  json_object_set_new(run->summary, "forecast", js);
  if (!ds->has_sku) {
    sc_say("forecast: the input has no sku column: no demand table, no forecast");
    json_object_set_new(js, "skipped", json_string("no sku column in the input"));
    return SC_OK;
  }
  double t0 = sc_now();
  sc_table D;
  memset(&D, 0, sizeof D);
  sc_status s = demand_build(ds, &D);
  int64_t rows = comm_sum1_i64(s ? 0 : D.n);
  double t_demand = sc_now() - t0;
  if (!s) sc_say("forecast: demand table: %lld rows (sku x region x day) in %.2f s", (long long)rows, t_demand);
  /* the store keeps the pure §6 table */
  if (!s) {
    sc_h5 st;
    s = store_open_update(run, &st);
    if (!s) {
      s = h5_write_table(&st, "/demand", &D);
      sc_status c = h5_close(&st);
      if (!s) s = c;
    }
  }
  /* time split */
  const int32_t test_start = ds->last_day - (int32_t)run->cfg.test_days + 1;
  const int32_t valid_start = test_start - (int32_t)run->cfg.valid_days;
  const int32_t err_start = run->cfg.valid_days > 0 ? valid_start : test_start - 28;
  uint8_t *set = NULL, *errwin = NULL;
  uint64_t *key = NULL;
  double *y = NULL, *pred = NULL, *rop = NULL;
  int64_t n = D.n;
  /* results.h5 gets, row by row beside the demand table, each row's set, prediction and reorder point */
  sc_table E;
  memset(&E, 0, sizeof E);
  if (!s) s = table_init(&E, "rows", "set:u8,predicted:f64,reorder_point:f64");
  if (!s) s = table_resize(&E, n);
  if (!s) {
    set = table_u8(&E, "set");
    pred = table_f64(&E, "predicted");
    rop = table_f64(&E, "reorder_point");
    s = sc_alloc(&key, (size_t)(n + 1) * sizeof *key);
  }
  if (!s) s = sc_alloc(&y, (size_t)(n + 1) * sizeof *y);
  if (!s) s = sc_alloc(&errwin, (size_t)(n + 1));
  s = comm_agree(s);
  const int64_t *sku = s ? NULL : table_i64(&D, "sku_id"), *units = s ? NULL : table_i64(&D, "units");
  const int32_t *reg = s ? NULL : table_i32(&D, "region_id"), *date = s ? NULL : table_i32(&D, "date");
  const double *x[DEMAND_NFEAT];
  for (int f = 0; !s && f < DEMAND_NFEAT; f++) x[f] = table_f64(&D, demand_features[f]);
  int64_t counts[3] = {0, 0, 0};
  if (!s) {
    for (int64_t i = 0; i < n; i++) {
      set[i] = date[i] >= test_start ? FC_TEST : date[i] >= valid_start ? FC_VALID : FC_TRAIN;
      errwin[i] = date[i] >= err_start && date[i] < test_start;
      key[i] = row_key(sku[i], reg[i], date[i]);
      y[i] = (double)units[i];
      pred[i] = NAN;
      counts[set[i]]++;
    }
    comm_sum_i64(counts, 3);
    sc_say("forecast: %lld training, %lld validation, %lld test rows", (long long)counts[0], (long long)counts[1],
           (long long)counts[2]);
  }
  /* training */
  fc_params p;
  fc_booster b;
  memset(&b, 0, sizeof b);
  forecast_params(&run->cfg, &p);
  double t1 = sc_now();
  if (!s) {
    fc_data d = {n, DEMAND_NFEAT, x, y, key, set};
    s = fc_train_checkpointed(run, &d, &p, &b);
  }
  double t_train = sc_now() - t1;
  if (!s)
    sc_say("forecast: %d trees (%d rounds) in %.2f s", b.ntrees, b.rounds_done, t_train);
  /* predictions of every row outside training and of the error window */
  if (!s) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      if (set[i] == FC_TRAIN && !errwin[i]) continue;
      float xf[DEMAND_NFEAT];
      for (int f = 0; f < DEMAND_NFEAT; f++) xf[f] = (float)x[f][i];
      pred[i] = fc_predict(&b, xf);
    }
  }
  /* accuracy on the test window, model and seasonal-naive baseline */
  fc_metrics mm = {NAN, NAN, NAN}, mb = {NAN, NAN, NAN}, mv = {NAN, NAN, NAN};
  double pooled = 0.0;
  if (!s) {
    int64_t nt = 0;
    double *ty = NULL, *tp = NULL, *tb = NULL;
    s = sc_alloc(&ty, (size_t)(n + 1) * sizeof *ty);
    if (!s) s = sc_alloc(&tp, (size_t)(n + 1) * sizeof *tp);
    if (!s) s = sc_alloc(&tb, (size_t)(n + 1) * sizeof *tb);
    s = comm_agree(s);
    if (!s) {
      for (int64_t i = 0; i < n; i++) {
        if (set[i] != FC_TEST) continue;
        ty[nt] = y[i];
        tp[nt] = pred[i];
        tb[nt++] = x[9][i] == x[9][i] ? x[9][i] : 0.0; /* lag_7; before the range: 0 */
      }
      metrics(ty, tp, nt, &mm);
      metrics(ty, tb, nt, &mb);
      /* the validation window, when there is one (early stopping, error spread) */
      int64_t nv = 0;
      for (int64_t i = 0; i < n; i++) {
        if (set[i] != FC_VALID) continue;
        ty[nv] = y[i];
        tp[nv++] = pred[i];
      }
      if (comm_sum1_i64(nv) > 0) metrics(ty, tp, nv, &mv);
      reorder_points(run, &D, set, errwin, pred, rop, &pooled);
    }
    free(ty);
    free(tp);
    free(tb);
  }
  if (!s) {
    sc_say("forecast: test R2 %.4f, RMSE %.4f, WAPE %.4f (seasonal-naive: R2 %.4f, RMSE %.4f, WAPE %.4f)", mm.r2,
           mm.rmse, mm.wape, mb.r2, mb.rmse, mb.wape);
    fc_outputs o = {&D, &E, &b, test_start, valid_start, mm, mb, pooled};
    s = forecast_write_outputs(run, ds, results, &o);
  }
  if (!s) {
    json_object_set_new(js, "rows", json_integer(rows));
    json_object_set_new(js, "train_rows", json_integer(counts[0]));
    json_object_set_new(js, "valid_rows", json_integer(counts[1]));
    json_object_set_new(js, "test_rows", json_integer(counts[2]));
    json_object_set_new(js, "r2", fc_json_number(mm.r2));
    json_object_set_new(js, "rmse", fc_json_number(mm.rmse));
    json_object_set_new(js, "wape", fc_json_number(mm.wape));
    json_t *bj = json_object();
    json_object_set_new(bj, "r2", fc_json_number(mb.r2));
    json_object_set_new(bj, "rmse", fc_json_number(mb.rmse));
    json_object_set_new(bj, "wape", fc_json_number(mb.wape));
    json_object_set_new(js, "baseline", bj);
    json_object_set_new(js, "trees", json_integer(b.ntrees));
    json_object_set_new(js, "rounds", json_integer(b.rounds_done));
    json_object_set_new(js, "best_round", b.best_round >= 0 ? json_integer(b.best_round) : json_null());
    json_t *vj = json_object();
    json_object_set_new(vj, "rows", json_integer(counts[1]));
    json_object_set_new(vj, "r2", fc_json_number(mv.r2));
    json_object_set_new(vj, "rmse", fc_json_number(mv.rmse));
    json_object_set_new(vj, "wape", fc_json_number(mv.wape));
    json_object_set_new(js, "validation", vj);
    json_object_set_new(js, "objective", json_string(run->cfg.objective));
    json_object_set_new(js, "base_score", json_real(b.base_score));
    char day[16];
    demand_date_text(test_start, day);
    json_object_set_new(js, "test_start", json_string(day));
    json_object_set_new(js, "error_sigma_pooled", fc_json_number(pooled));
    json_object_set_new(js, "seconds_demand_table", json_real(t_demand));
    json_object_set_new(js, "seconds_training", json_real(t_train));
    json_t *ph = json_object();
    for (int k = 0; k < FC_PHASES; k++) json_object_set_new(ph, fc_phase_names[k], json_real(b.phase[k]));
    json_object_set_new(js, "seconds_training_phases", ph);
  }
  fc_booster_free(&b);
  free(key);
  free(y);
  free(errwin);
  table_free(&D);
  table_free(&E);
  return comm_agree(s);
}
