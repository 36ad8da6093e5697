/* demand.h: the daily sku x region demand table of DATA.md §6-7.
 *
 * One row per (sku, region, date) on which the sku was on sale in the
 * region, zero rows included, with the 14 model features. The valid lines
 * move to the rank of their series (part_series), so every series is
 * whole on one rank and its lags, rolling means and carried-forward prices
 * are computed locally, one series at a time, over a dense day array.
 *
 * Every sum is exact: quantities and lead-time seconds are integers, money
 * is summed in integer millionths, so the table is the same at any rank
 * count whatever order the lines arrive in.
 */
#ifndef SEGCAST_DEMAND_H
#define SEGCAST_DEMAND_H

#include <stdint.h>

#include "run.h"
#include "table.h"

/// Columns of the demand table, in DATA.md §6 order.
#define DEMAND_SPEC                                                                                                 \
  "sku_id:i64,region_id:i32,date:i32,units:i64,avg_price:f64,avg_discount_rate:f64,availability:f64,"             \
  "lead_time_hours:f64,dow:f64,dom:f64,month:f64,week:f64,lag_1:f64,lag_7:f64,lag_14:f64,lag_28:f64,"             \
  "roll_mean_7:f64,roll_mean_28:f64"

/// Number of model features (the columns after units).
#define DEMAND_NFEAT 14
/// The model's feature names, in order.
extern const char *const demand_features[DEMAND_NFEAT];

/// The compact line table the builder works on (valid lines of known
/// region, one rank's series): see SC_LINES_SPEC for the meanings.
#define DEMAND_LINES_SPEC "sku:i64,region:i32,day:i32,sec:i32,quantity:i32,amount:f64,orig_amount:f64,arr_ts:i64"

/// What the builder needs besides the lines.
typedef struct {
  int32_t first_day, last_day;  ///< the date range (days since 1970-01-01)
  int has_inventory;            ///< rows on available days or sale days; else first sale .. range end
  int has_delivery;             ///< lead_time_hours computed (else empty)
  const int64_t *dc_region;     ///< region ids with their DC counts (sorted by id), marketplace
  const int32_t *dc_count;
  int64_t n_dc_regions;
} demand_opts;

/// Builds the demand rows of the series present in `lines` (DEMAND_LINES_SPEC)
/// and `inv` (SC_INVENTORY_SPEC, may be NULL) into `out` (DEMAND_SPEC,
/// initialised here), series in (sku, region) order, dates ascending.
/// Not collective: every series must be whole in its inputs.
sc_status demand_from_lines(const demand_opts *o, const sc_table *lines, const sc_table *inv, sc_table *out);

/// Collective: moves the valid lines of ds (region >= 0) to their series'
/// rank and builds this rank's part of the demand table into `out`.
sc_status demand_build(const sc_dataset *ds, sc_table *out);

/// Calendar of a day number: day of week (Monday 0), day of month, month,
/// ISO week number.
void demand_calendar(int32_t day, int *dow, int *dom, int *month, int *week);

/// Writes a day number as YYYY-MM-DD into buf (11 bytes).
void demand_date_text(int32_t day, char *buf);

#endif
