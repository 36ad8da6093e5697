/* forecast_out.h: what the forecast stage writes, and small shared helpers.
 *
 * forecast.csv (test window, sorted by sku, region, date),
 * feature_importance.csv, gbdt_model.json and the results.h5 tables
 * /forecast/demand, /forecast/rows, /forecast/forecast, /forecast/importance.
 * Files are written by rank 0 through out_open/out_commit (atomic).
 */
#ifndef SEGCAST_FORECAST_OUT_H
#define SEGCAST_FORECAST_OUT_H

#include "forecast_gbdt.h"
#include "h5.h"
#include "run.h"

/// Accuracy of a forecast on the test window.
typedef struct {
  double r2, rmse, wape;
} fc_metrics;

/// Everything the outputs are made from.
typedef struct {
  const sc_table *demand;   ///< the demand table (this rank's series)
  const sc_table *rows;     ///< beside it, row by row: set, predicted, reorder_point
  const fc_booster *b;      ///< the trained model
  int32_t test_start, valid_start;
  fc_metrics model, baseline;
  double pooled_sigma;      ///< pooled spread of the error-window residuals
} fc_outputs;

/// Writes every forecast output (collective; files from rank 0); the
/// seconds of each part go into steps (fc_step).
sc_status forecast_write_outputs(sc_run *run, const sc_dataset *ds, sc_h5 *results, const fc_outputs *o,
                                 json_t *steps);

/// Adds the seconds since *t to steps[name] and restarts *t (this rank's wall clock).
void fc_step(json_t *steps, const char *name, double *t);

/// A JSON number, or null for NaN / infinity.
json_t *fc_json_number(double v);

/// Inverse of the standard normal CDF.
double fc_normal_quantile(double p);

#endif
