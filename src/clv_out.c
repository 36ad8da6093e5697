/* clv_out.c: the clv stage's outputs (OUTPUTS.md, docs/clv.md).
 *
 *   clv.csv               one row per customer, sorted by user_id: every
 *                         rank formats its block of the user-id order and
 *                         writes it after the lower ranks' (MPI-IO,
 *                         comm_write_ordered), so formatting runs on all
 *                         ranks at once; numbers with 10 significant digits
 *                         (fmt.h), an empty cell where a model could not be
 *                         fitted;
 *   clv_p_alive.csv       customers per P(alive) bin of width 0.05;
 *   clv_lorenz.csv        share of expected CLV held by the bottom x % of
 *                         customers (101 points, exact sums);
 *   clv_calibration.csv   with a holdout: mean actual and predicted
 *                         holdout transactions by calibration x (0..6, 7+);
 *   clv_tracking.csv      with a holdout: cumulative repeat transactions
 *                         per period (clv.unit_days), actual and predicted;
 *   results.h5 /clv/...   the same tables and the parameters;
 *   segment_profiles.csv and rfm_segments.csv, when present: their CLV
 *                         columns (p_alive_mean, churned_share, clv_total)
 *                         replaced or added.
 * Small tables are replicated and written by rank 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clv_internal.h"
#include "comm.h"
#include "fmt.h"
#include "insights_core.h"
#include "report_csv.h"
#include "segment_internal.h"

/* ---- clv.csv ------------------------------------------------------------------ */

typedef struct {
  const clv_ctx *cx;
  const int64_t *uid, *rep;
  const int32_t *x, *tx, *T, *hold, *ch;
  const double *pa, *ep, *ev, *clv;
  char (*days)[18];      ///< the text of d / unit for day counts d = 0..dmax
  uint8_t *day_len;
} rows_ctx;

/* Appends the text of day count d in units. */
static inline char *put_days(char *p, const rows_ctx *c, int32_t d) {
  memcpy(p, c->days[d], 16);
  return p + c->day_len[d];
}

static size_t format_rows(const rows_ctx *c, int64_t b, int64_t e, char *buf) {
  char *p = buf;
  for (int64_t i = b; i < e; i++) {
    p = fmt_i64(p, c->uid[i]);
    *p++ = ',';
    p = fmt_i64(p, c->x[i]);
    *p++ = ',';
    p = put_days(p, c, c->tx[i]);
    *p++ = ',';
    p = put_days(p, c, c->T[i]);
    *p++ = ',';
    if (c->x[i] > 0) p = fmt_g10(p, (double)c->rep[i] / 1e6 / c->x[i]);
    *p++ = ',';
    p = fmt_g10(p, c->pa[i]);
    *p++ = ',';
    if (c->ch[i] >= 0) *p++ = (char)('0' + c->ch[i]);
    *p++ = ',';
    p = fmt_g10(p, c->ep[i]);
    *p++ = ',';
    p = fmt_g10(p, c->ev[i]);
    *p++ = ',';
    p = fmt_g10(p, c->clv[i]);
    if (c->cx->holdout_days > 0) {
      *p++ = ',';
      p = fmt_i64(p, c->hold[i]);
    }
    *p++ = '\n';
  }
  return (size_t)(p - buf);
}

static sc_status write_customers(const sc_run *run, const clv_ctx *cx) {
  const sc_table *t = &cx->cust;
  rows_ctx c = {cx,
                table_i64(t, "user_id"),
                table_i64(t, "repeat_micro"),
                table_i32(t, "x"),
                table_i32(t, "tx_days"),
                table_i32(t, "T_days"),
                table_i32(t, "holdout"),
                table_i32(t, "churned"),
                table_f64(t, "p_alive"),
                table_f64(t, "expected_purchases"),
                table_f64(t, "expected_value"),
                table_f64(t, "clv"),
                NULL,
                NULL};
  /* t_x and T are whole days over the unit: their text from a table (two
     of the row's nine numbers) */
  int32_t dmax = 0;
  for (int64_t i = 0; i < t->n; i++) dmax = c.T[i] > dmax ? c.T[i] : dmax;
  SC_TRY(comm_agree(sc_alloc(&c.days, sizeof *c.days * ((size_t)dmax + 1))));
  sc_status s0 = comm_agree(sc_alloc(&c.day_len, (size_t)dmax + 1));
  if (s0) {
    free(c.days);
    return s0;
  }
  for (int32_t d = 0; d <= dmax; d++) c.day_len[d] = (uint8_t)(fmt_g10(c.days[d], d / cx->unit) - c.days[d]);
  const char *header = cx->holdout_days > 0 ? "user_id,x,t_x,T,m_x,p_alive,churned,expected_purchases,expected_value,clv,"
                                              "holdout_purchases\n"
                                            : "user_id,x,t_x,T,m_x,p_alive,churned,expected_purchases,expected_value,clv\n";
  /* this rank's text: the header on rank 0, then its rows */
  const size_t row_max = 24 + 12 + 9 * 18;
  char *buf = NULL;
  size_t hl = comm_rank() == 0 ? strlen(header) : 0;
  sc_status s = comm_agree(sc_alloc(&buf, hl + row_max * (size_t)t->n + 1));
  size_t len = 0;
  if (!s) {
    memcpy(buf, header, hl);
    len = hl + format_rows(&c, 0, t->n, buf + hl);
  }
  free(c.days);
  free(c.day_len);
  if (!s) s = fmt_write_ranked(run, "clv.csv", buf, len);
  free(buf);
  return s;
}

/* ---- the small tables ------------------------------------------------------------- */

static void put_num(FILE *f, double v) {
  if (isfinite(v)) fprintf(f, "%.10g", v);
}

static double div_or_nan(double a, double b) { return b > 0 ? a / b : NAN; }

static sc_status write_small(const sc_run *run, const clv_ctx *cx) {
  if (comm_rank() != 0) return SC_OK;
  FILE *f = NULL;
  SC_TRY(out_open(run, "clv_p_alive.csv", &f));
  fputs("p_alive_from,p_alive_to,customers,customer_share\n", f);
  for (int b = 0; b < CLV_PBINS; b++) {
    fprintf(f, "%.2f,%.2f,%lld,", (double)b / CLV_PBINS, (double)(b + 1) / CLV_PBINS, (long long)cx->pbins[b]);
    put_num(f, div_or_nan((double)cx->pbins[b], (double)cx->with_p));
    fputc('\n', f);
  }
  SC_TRY(out_commit(run, "clv_p_alive.csv", f));
  SC_TRY(out_open(run, "clv_lorenz.csv", &f));
  fputs("customer_share,customers,clv_share\n", f);
  for (int i = 0; cx->has_lorenz && i <= 100; i++)
    fprintf(f, "%.2f,%lld,%.6f\n", i / 100.0, (long long)cx->lorenz_k[i], cx->lorenz_share[i]);
  SC_TRY(out_commit(run, "clv_lorenz.csv", f));
  if (cx->holdout_days <= 0) return SC_OK;
  SC_TRY(out_open(run, "clv_calibration.csv", &f));
  fputs("x,customers,actual_mean,predicted_mean\n", f);
  for (int b = 0; b < CLV_XBUCKETS; b++) {
    fprintf(f, b == CLV_XBUCKETS - 1 ? "%d+,%lld," : "%d,%lld,", b, (long long)cx->xb_n[b]);
    put_num(f, div_or_nan((double)cx->xb_actual[b], (double)cx->xb_n[b]));
    fputc(',', f);
    if (cx->bg.fitted) put_num(f, div_or_nan(cx->xb_pred[b], (double)cx->xb_n[b]));
    fputc('\n', f);
  }
  SC_TRY(out_commit(run, "clv_calibration.csv", f));
  SC_TRY(out_open(run, "clv_tracking.csv", &f));
  fputs("period,end_date,in_holdout,actual_cumulative,predicted_cumulative\n", f);
  for (int64_t w = 0; w < cx->nperiods; w++) {
    char d[16];
    ins_iso_day(cx->period_end[w], d);
    fprintf(f, "%lld,%s,%d,%lld,", (long long)w + 1, d, cx->period_end[w] > cx->cal_end, (long long)cx->period_actual[w]);
    put_num(f, cx->period_pred[w]);
    fputc('\n', f);
  }
  return out_commit(run, "clv_tracking.csv", f);
}

/* ---- the segment CSVs' CLV columns -------------------------------------------------- */

static const char *const seg_cols[3] = {"p_alive_mean", "churned_share", "clv_total"};

/* Rewrites `name` (rank 0) with the CLV columns of the row whose key column
 * names segment k (find maps the key text to k, or -1). */
static sc_status add_columns(const sc_run *run, const char *name, const char *key_col,
                             int (*find)(const char *text, const clv_ctx *cx), const clv_ctx *cx,
                             const clv_seg_row *rows, int nrows) {
  char p[SC_PATH_MAX];
  rtable t;
  int exists = 0;
  SC_TRY(rtable_read(out_read_path(run, name, p), &t, &exists));
  if (!exists) return SC_OK;
  int kc = rtable_col(&t, key_col);
  sc_status s = kc < 0 ? sc_fail(SC_EINPUT, "clv: %s has no column %s", p, key_col) : SC_OK;
  FILE *f = NULL;
  if (!s) s = out_open(run, name, &f);
  if (!s) {
    int first = 1;
    for (int c = 0; c < t.ncol; c++) {
      if (!strcmp(t.cols[c], seg_cols[0]) || !strcmp(t.cols[c], seg_cols[1]) || !strcmp(t.cols[c], seg_cols[2])) continue;
      if (!first) fputc(',', f);
      out_csv_field(f, t.cols[c]);
      first = 0;
    }
    fprintf(f, ",%s,%s,%s\n", seg_cols[0], seg_cols[1], seg_cols[2]);
    for (int64_t r = 0; r < t.nrow; r++) {
      first = 1;
      for (int c = 0; c < t.ncol; c++) {
        if (!strcmp(t.cols[c], seg_cols[0]) || !strcmp(t.cols[c], seg_cols[1]) || !strcmp(t.cols[c], seg_cols[2]))
          continue;
        if (!first) fputc(',', f);
        out_csv_field(f, rtable_cell(&t, r, c));
        first = 0;
      }
      int k = find(rtable_cell(&t, r, kc), cx);
      const clv_seg_row *sr = k >= 0 && k < nrows ? &rows[k] : NULL;
      fputc(',', f);
      if (sr && sr->with_p) fprintf(f, "%.6f", sr->p_alive_sum / (double)sr->with_p);
      fputc(',', f);
      if (sr && sr->with_p) fprintf(f, "%.6f", (double)sr->churned / (double)sr->with_p);
      fputc(',', f);
      if (sr && sr->with_clv) fprintf(f, "%.6f", sr->clv_sum);
      fputc('\n', f);
    }
    s = out_commit(run, name, f);
  }
  rtable_free(&t);
  return s;
}

static int find_cluster(const char *text, const clv_ctx *cx) {
  char *end = NULL;
  long k = strtol(text, &end, 10);
  return end != text && !*end && k >= 0 && k < cx->nclusters ? (int)k : -1;
}

static int find_rfm(const char *text, const clv_ctx *cx) {
  (void)cx;
  for (int g = 0; g < SEG_NRFM; g++)
    if (!strcmp(text, seg_rfm_names[g])) return g;
  return -1;
}

/* ---- results.h5 -------------------------------------------------------------------- */

/* A replicated table: only rank 0 keeps rows. */
static sc_status small_table(sc_table *t, const char *name, const char *spec, int64_t rows) {
  SC_TRY(table_init(t, name, spec));
  return table_resize(t, comm_rank() == 0 ? rows : 0);
}

static sc_status h5_customers(sc_h5 *h, const clv_ctx *cx) {
  const sc_table *c = &cx->cust;
  int64_t n = c->n;
  sc_table t;
  sc_status s = table_init(&t, "customers",
                           "user_id:i64,x:i32,t_x:f64,T:f64,m_x:f64,p_alive:f64,churned:i32,expected_purchases:f64,"
                           "expected_value:f64,clv:f64,holdout_purchases:i32");
  if (!s) s = table_resize(&t, n);
  if (!s) {
    const int32_t *x = table_i32(c, "x"), *tx = table_i32(c, "tx_days"), *T = table_i32(c, "T_days");
    const int64_t *rep = table_i64(c, "repeat_micro");
    double *ttx = table_f64(&t, "t_x"), *tT = table_f64(&t, "T"), *tm = table_f64(&t, "m_x");
    static const char *const same[] = {"user_id", "x", "p_alive", "churned", "expected_purchases", "expected_value", "clv"};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
      memcpy(table_col(&t, same[k]), table_col(c, same[k]), coltype_size(t.cols[table_col_index(&t, same[k])].type) * (size_t)n);
    memcpy(table_col(&t, "holdout_purchases"), table_col(c, "holdout"), sizeof(int32_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
      ttx[i] = tx[i] / cx->unit;
      tT[i] = T[i] / cx->unit;
      tm[i] = x[i] > 0 ? (double)rep[i] / 1e6 / x[i] : NAN;
    }
  }
  s = comm_agree(s);
  /* the doubles are model outputs with full mantissas: deflate took 0.6 s
     of the 1M-user stage for a tenth of their size */
  h->plain_doubles = 1;
  if (!s) s = h5_write_table(h, "/clv/customers", &t);
  h->plain_doubles = 0;
  table_free(&t);
  return s;
}

static sc_status h5_small(sc_h5 *h, const clv_ctx *cx) {
  sc_table t;
  sc_status s = small_table(&t, "p_alive", "p_alive_from:f64,customers:i64", CLV_PBINS);
  for (int b = 0; !s && b < t.n; b++) {
    table_f64(&t, "p_alive_from")[b] = (double)b / CLV_PBINS;
    table_i64(&t, "customers")[b] = cx->pbins[b];
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/clv/p_alive", &t);
  table_free(&t);
  if (!s) s = small_table(&t, "lorenz", "customer_share:f64,customers:i64,clv_share:f64", cx->has_lorenz ? 101 : 0);
  for (int i = 0; !s && i < t.n; i++) {
    table_f64(&t, "customer_share")[i] = i / 100.0;
    table_i64(&t, "customers")[i] = cx->lorenz_k[i];
    table_f64(&t, "clv_share")[i] = cx->lorenz_share[i];
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(h, "/clv/lorenz", &t);
  table_free(&t);
  if (!s && cx->holdout_days > 0) {
    s = small_table(&t, "calibration", "x:i32,customers:i64,actual_mean:f64,predicted_mean:f64", CLV_XBUCKETS);
    for (int b = 0; !s && b < t.n; b++) {
      table_i32(&t, "x")[b] = b;
      table_i64(&t, "customers")[b] = cx->xb_n[b];
      table_f64(&t, "actual_mean")[b] = div_or_nan((double)cx->xb_actual[b], (double)cx->xb_n[b]);
      table_f64(&t, "predicted_mean")[b] = cx->bg.fitted ? div_or_nan(cx->xb_pred[b], (double)cx->xb_n[b]) : NAN;
    }
    s = comm_agree(s);
    if (!s) s = h5_write_table(h, "/clv/calibration", &t);
    table_free(&t);
    if (!s) s = small_table(&t, "tracking", "end_day:i32,actual_cumulative:i64,predicted_cumulative:f64", cx->nperiods);
    for (int64_t w = 0; !s && w < t.n; w++) {
      table_i32(&t, "end_day")[w] = cx->period_end[w];
      table_i64(&t, "actual_cumulative")[w] = cx->period_actual[w];
      table_f64(&t, "predicted_cumulative")[w] = cx->period_pred[w];
    }
    s = comm_agree(s);
    if (!s) s = h5_write_table(h, "/clv/tracking", &t);
    table_free(&t);
  }
  /* parameters (NaN: not fitted), then log-likelihood and gradient norm */
  double bg[6], gg[5];
  for (int i = 0; i < 4; i++) bg[i] = cx->bg.fitted && !(cx->bg.boundary && i == 3) ? exp(cx->bg.st.th[i]) : NAN;
  bg[4] = cx->bg.fitted ? cx->bg.st.at.f : NAN;
  bg[5] = cx->bg.fitted ? nt_gnorm(&cx->bg.st.at, 4) : NAN;
  for (int i = 0; i < 3; i++) gg[i] = cx->gg.fitted ? exp(cx->gg.st.th[i]) : NAN;
  gg[3] = cx->gg.fitted ? cx->gg.st.at.f : NAN;
  gg[4] = cx->gg.fitted ? nt_gnorm(&cx->gg.st.at, 3) : NAN;
  if (!s) s = h5_write_f64(h, "/clv/bgnbd", bg, 1, 6);
  if (!s) s = h5_write_f64(h, "/clv/gamma_gamma", gg, 1, 5);
  return s;
}

sc_status clv_write_outputs(sc_run *run, clv_ctx *cx, sc_h5 *results) {
  SC_TRY(write_customers(run, cx));
  SC_TRY(comm_agree(write_small(run, cx)));
  if (cx->has_segments && comm_rank() == 0) {
    sc_status s = add_columns(run, "segment_profiles.csv", "cluster", find_cluster, cx, cx->clusters, cx->nclusters);
    if (!s) s = add_columns(run, "rfm_segments.csv", "rfm_segment", find_rfm, cx, cx->rfm, SEG_NRFM);
    SC_TRY(comm_agree(s));
  } else {
    SC_TRY(comm_agree(SC_OK));
  }
  if (results) {
    SC_TRY(h5_customers(results, cx));
    SC_TRY(h5_small(results, cx));
  }
  return SC_OK;
}

/* ---- summary.json -------------------------------------------------------------------- */

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static const char *status_name(int st) {
  static const char *const n[] = {"running", "converged", "at bound", "stalled", "evaluation limit"};
  return st >= 0 && st <= 4 ? n[st] : "not run";
}

static json_t *fit_json(const clv_fit *m, int dim, const char *const *names) {
  json_t *o = json_object();
  json_object_set_new(o, "fitted", json_boolean(m->fitted));
  if (!m->fitted) json_object_set_new(o, "reason", json_string(m->reason));
  if (m->boundary) json_object_set_new(o, "boundary", json_string(m->reason));
  json_object_set_new(o, "customers", json_integer(m->customers));
  for (int i = 0; i < dim; i++)
    json_object_set_new(o, names[i], m->fitted && !(m->boundary && i == 3) ? num(exp(m->st.th[i])) : json_null());
  json_object_set_new(o, "log_likelihood", m->attempted && m->st.have_at ? num(m->st.at.f) : json_null());
  json_object_set_new(o, "gradient_norm", m->attempted && m->st.have_at ? num(nt_gnorm(&m->st.at, dim)) : json_null());
  json_object_set_new(o, "iterations", json_integer(m->st.steps));
  json_object_set_new(o, "evaluations", json_integer(m->st.evals));
  json_object_set_new(o, "newton_steps", json_integer(m->st.newton_steps));
  json_object_set_new(o, "gradient_steps", json_integer(m->st.gradient_steps));
  json_object_set_new(o, "status", json_string(m->attempted ? status_name(m->st.status) : "not run"));
  if (m->warm_used) {
    json_t *w = json_object();
    json_object_set_new(w, "sample_customers", json_integer(m->warm_customers));
    json_object_set_new(w, "iterations", json_integer(m->warm.steps));
    json_object_set_new(w, "evaluations", json_integer(m->warm.evals));
    json_object_set_new(w, "status", json_string(status_name(m->warm.status)));
    json_object_set_new(o, "sample_start", w);
  }
  json_object_set_new(o, "seconds", json_real(m->seconds));
  return o;
}

void clv_summary_json(sc_run *run, const clv_ctx *cx) {
  json_t *o = json_object();
  char d[16];
  json_object_set_new(o, "customers", json_integer(cx->n_total));
  json_object_set_new(o, "unit_days", json_integer((json_int_t)cx->unit));
  json_object_set_new(o, "cal_end", json_string(ins_iso_day(cx->cal_end, d)));
  json_object_set_new(o, "holdout_days", json_integer(cx->holdout_days));
  json_object_set_new(o, "horizon_days", json_integer(cx->holdout_days > 0 ? cx->holdout_days
                                                                             : run->cfg.clv_horizon_days));
  json_object_set_new(o, "churn_threshold", json_real(cx->threshold));
  json_object_set_new(o, "annual_discount_rate", json_real(cx->discount));
  static const char *const bgn[4] = {"r", "alpha", "a", "b"}, *const ggn[3] = {"p", "q", "gamma"};
  json_object_set_new(o, "bgnbd", fit_json(&cx->bg, 4, bgn));
  json_object_set_new(o, "gamma_gamma", fit_json(&cx->gg, 3, ggn));
  json_object_set_new(o, "mean_p_alive", num(div_or_nan(cx->p_alive_sum, (double)cx->with_p)));
  json_object_set_new(o, "churned", json_integer(cx->churned));
  json_object_set_new(o, "churned_share", num(div_or_nan((double)cx->churned, (double)cx->with_p)));
  json_object_set_new(o, "expected_purchases", cx->with_pred == cx->n_total ? num(cx->pred_total) : json_null());
  json_object_set_new(o, "expected_clv", cx->with_clv == cx->n_total ? num(cx->pred_clv_total) : json_null());
  if (cx->holdout_days > 0) {
    json_t *h = json_object();
    json_object_set_new(h, "predicted", cx->with_pred == cx->n_total ? num(cx->pred_total) : json_null());
    json_object_set_new(h, "actual", json_integer(cx->actual_total));
    json_object_set_new(o, "holdout", h);
  }
  json_t *sec = json_object();
  json_object_set_new(sec, "summarize", json_real(cx->t_summarize));
  json_object_set_new(sec, "partition", json_real(cx->t_partition));
  json_object_set_new(sec, "fit_bgnbd", json_real(cx->bg.seconds));
  json_object_set_new(sec, "fit_gamma_gamma", json_real(cx->gg.seconds));
  json_object_set_new(sec, "predict", json_real(cx->t_predict));
  json_object_set_new(sec, "outputs", json_real(cx->t_outputs));
  json_object_set_new(o, "seconds", sec);
  json_object_set_new(run->summary, "clv", o);
}
