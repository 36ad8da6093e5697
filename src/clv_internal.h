/* clv_internal.h: what the clv stage's files share (clv.c: summaries, fits
 * and predictions; clv_out.c: outputs): the stage's working state.
 */
#ifndef SEGCAST_CLV_INTERNAL_H
#define SEGCAST_CLV_INTERNAL_H

#include "checkpoint.h"
#include "clv.h"
#include "h5.h"
#include "newton.h"
#include "run.h"
#include "table.h"

/// The customer table of the stage, one row per customer of DATA.md 8
/// (a valid line on or before cal_end), by user-id range after the
/// partition. Predictions are NaN where a model could not be fitted;
/// churned is -1 there. cluster and rfm_segment are -1 for customers
/// the segmentation did not label (or when it did not run).
#define CLV_CUST_SPEC                                                                                               \
  "user_id:i64,x:i32,tx_days:i32,T_days:i32,first_day:i32,repeat_micro:i64,holdout:i32,p_alive:f64,"            \
  "expected_purchases:f64,expected_value:f64,clv:f64,churned:i32,cluster:i32,rfm_segment:i32"

/// One model's fit.
typedef struct {
  int attempted;       ///< 0: not fitted because the data cannot identify it (reason says why)
  int warm_used;       ///< the fit started from a fit on a sample (clv_fit.c)
  int64_t warm_customers;
  nt_state warm;       ///< that sample fit
  int fitted;          ///< the maximum was reached at finite parameters (or at BG/NBD's a = 0 limit)
  int boundary;        ///< BG/NBD: the maximum is its a = 0 limit, the NBD (st holds it, a = 0, b unused)
  char reason[256];    ///< why not fitted, or "" when fitted
  nt_state st;         ///< the optimiser's state (st.at: the final evaluation)
  int64_t customers;   ///< customers the likelihood sums over
  double seconds;
} clv_fit;

/// Per segment (cluster or RFM segment) CLV figures.
typedef struct {
  int64_t customers;   ///< clv customers in the segment
  int64_t with_p;      ///< of them with a P(alive)
  double p_alive_sum;
  int64_t churned;
  int64_t with_clv;
  double clv_sum;
} clv_seg_row;

#define CLV_PBINS 20
#define CLV_XBUCKETS 8   ///< calibration chart: x = 0..6 and 7+

/// The stage's working state.
typedef struct {
  /* configuration */
  int32_t as_of, cal_end, data_first;
  int64_t holdout_days;
  double unit;         ///< days per unit
  double h_units;      ///< prediction span in units: the holdout, or the horizon
  double threshold, discount;
  /* customers */
  sc_table cust;
  int64_t n_total;
  int64_t *splitters;  ///< size - 1 user-id splitters of the range partition
  /* tracking: repeat transactions and first purchases per day, day0 .. as_of-1 */
  int32_t day0, ndays;
  int64_t *repeat_days, *first_days;
  /* fits */
  clv_fit bg, gg;
  /* aggregates (replicated) */
  double pred_total, pred_clv_total, p_alive_sum;
  int64_t actual_total, churned, with_p, with_clv, with_pred, nan_series;
  int64_t xb_n[CLV_XBUCKETS], xb_actual[CLV_XBUCKETS];
  double xb_pred[CLV_XBUCKETS];
  int64_t pbins[CLV_PBINS];
  int has_lorenz;
  int64_t lorenz_k[101];
  double lorenz_share[101];
  int64_t nperiods;
  int32_t *period_end;        ///< last day of each period
  int64_t *period_actual;     ///< cumulative repeat transactions to its end
  double *period_pred;        ///< the model's cumulative repeat transactions
  /* segments */
  int has_segments, nclusters;
  clv_seg_row *clusters, rfm[10];
  double t_summarize, t_partition, t_predict, t_outputs;
} clv_ctx;

/// What the fits need, kept for the predictions (clv_fit.c).
typedef struct {
  sc_run *run;
  clv_ctx *cx;
  /* BG/NBD: every customer's (x, t_x, T) group, and the sample's groups */
  clv_groups g, gs;
  int32_t *gx, *gtx, *gT, *sx, *stx, *sT;
  int64_t *gcount, *scount;
  int64_t *grp;                 ///< group of each local customer in g
  clv_bg_tables tab;            ///< the tables of the last evaluation
  /* Gamma-Gamma: its customers (x > 0) and the sample's */
  clv_gg_data gd, gds;
  int32_t *ggx;
  double *ggm;
  int64_t *nx, *nxs;            ///< global histograms of x (1..xmax)
  int ggxmax;
  double consts[2], consts_s[2];
  int sample;                   ///< the evaluations sum over the sample
  /* checkpoint */
  checkpoint_state st;
  int64_t test_step;
  int test_rank;
  int phase;                    ///< sub-fit in progress (0..3), 4: done
} clv_fitctx;

/// Fits BG/NBD and Gamma-Gamma (collective), resuming from a checkpoint.
sc_status clv_fits(sc_run *run, clv_ctx *cx, clv_fitctx *f);
void clv_fitctx_free(clv_fitctx *f);
/// Adds fixed-point accumulators v[0..n) and integers extra[0..ne) over
/// ranks in one Allreduce (n <= 64, ne <= 64).
void clv_allreduce(fx_acc *v, int n, int64_t *extra, int ne);

/// Writes clv.csv, the small CSVs, results.h5's clv tables and the
/// segment CSVs' CLV columns (collective).
sc_status clv_write_outputs(sc_run *run, clv_ctx *cx, sc_h5 *results);
/// Adds the "clv" key to the summary.
void clv_summary_json(sc_run *run, const clv_ctx *cx);

#endif
