/* custfeat.h: customer features (DATA.md 3) from a rank's order lines.
 *
 * Input is the lines table as plain arrays, sorted by (user_id, row) so
 * that every user's lines are one contiguous run in file order. The
 * kernels find those runs (feat_groups), then compute each run's features
 * independently with OpenMP over users (feat_compute): the arithmetic of
 * one customer never depends on the other customers, the thread count or
 * the rank count. Joins with the users and clicks tables (sorted by
 * user_id) are binary searches per customer.
 *
 * Only lines dated before as_of count: the features describe a customer
 * as of the analysis date (with the default as_of every line does).
 * Float features are rounded to 6 decimals (feat_round6): the rounded
 * value is the one printed, ranked and clustered, so a reader of
 * customer_segments.csv (segcast predict) sees exactly the same numbers.
 */
#ifndef SEGCAST_CUSTFEAT_H
#define SEGCAST_CUSTFEAT_H

#include <stdint.h>

/// Line flag bits the kernels read (same values as table.h's SC_LINE_*).
enum { FEAT_LINE_VALID = 1, FEAT_LINE_RETURN = 2 };

/// The lines of one rank, sorted by (user_id, row). sku may be NULL.
typedef struct {
  int64_t n;
  const int64_t *user_id;
  const int64_t *order_id;
  const int64_t *sku;
  const int32_t *day;
  const double *amount;       ///< quantity x final unit price (transactions: the amount)
  const double *orig_amount;  ///< quantity x original unit price
  const uint8_t *flags;       ///< FEAT_LINE_* bits
} feat_lines;

/// Per-user results of feat_compute, one entry per group.
typedef struct {
  int64_t *user_id;
  int64_t *valid_lines;   ///< valid lines dated before as_of (0: not a customer)
  int32_t *first_day;     ///< first valid line's date
  int32_t *last_day;      ///< last valid line's date
  int64_t *frequency;     ///< distinct order ids of valid lines
  int64_t *diversity;     ///< distinct skus of valid lines (0 when sku is NULL)
  int64_t *return_lines;  ///< lines with quantity < 0 dated before as_of
  double *monetary;       ///< compensated sum of amount over valid lines
  double *final_sum;      ///< = monetary (kept apart for the discount rate)
  double *orig_sum;       ///< compensated sum of orig_amount over valid lines
} feat_out;

/// Writes the start offset of every run of equal non-zero user ids into
/// starts (room for n + 1 entries) and returns the number of runs G;
/// starts[G] is the end of the last run. Lines with user_id 0 (no user)
/// are skipped.
int64_t feat_groups(const int64_t *user_id, int64_t n, int64_t *starts);

/// Computes every group's features (OpenMP over groups). Returns 0, or -1
/// when scratch memory could not be allocated.
int feat_compute(const feat_lines *in, const int64_t *starts, int64_t ngroups, int32_t as_of, feat_out *out);

/// For each customer (sorted user ids), the count of rows of a second
/// table (sorted by user id) of the same user whose day d has
/// lo <= d < hi (clicks_90d).
void feat_count_window(const int64_t *cust_uid, int64_t nc, const int64_t *row_uid, const int32_t *row_day,
                       int64_t nrows, int32_t lo, int32_t hi, int64_t *out);

/// For each customer (sorted user ids), the value of `val` in the row of
/// a second table (sorted, unique user ids) with that user id, or
/// `missing` when there is none (users.created_day).
void feat_lookup_i32(const int64_t *cust_uid, int64_t nc, const int64_t *row_uid, const int32_t *val, int64_t nrows,
                     int32_t missing, int32_t *out);

/// v rounded to 6 decimals, as the nearest double to the decimal
/// (rint(v * 1e6) / 1e6), with -0 turned into 0.
double feat_round6(double v);
/// v in millionths (rint(v * 1e6)): the exact integer behind a rounded value.
int64_t feat_micro(double v);

#endif
