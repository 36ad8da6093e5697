/* config.h: the run's configuration (INI via libinih, plus --set overrides).
 *
 * Every key lives in one table in config.c with its type, range, default
 * and one line of documentation (docs/config.md lists them). An unknown key
 * or a bad value stops the run with a message naming the key.
 */
#ifndef SEGCAST_CONFIG_H
#define SEGCAST_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "segcast.h"

#define SC_PATH_MAX 1024
#define SC_NAME_MAX 128

typedef struct {
  /* [input] */
  char layout[32];           ///< marketplace | online-retail | transactions
  char path[SC_PATH_MAX];    ///< folder (marketplace) or CSV file
  char col_user[SC_NAME_MAX], col_date[SC_NAME_MAX], col_amount[SC_NAME_MAX], col_quantity[SC_NAME_MAX],
      col_unit_price[SC_NAME_MAX], col_order[SC_NAME_MAX], col_sku[SC_NAME_MAX], col_region[SC_NAME_MAX];
  double max_reject_fraction;
  int64_t max_record_lines;  ///< a quoted field may span at most this many physical lines
  /* [generate] */
  int64_t gen_users;         ///< users to generate into input.path when it has no data (0: never)
  int64_t gen_seed;
  /* [run] */
  char out[SC_PATH_MAX];
  char store[SC_PATH_MAX];
  char as_of[16];            ///< "" = latest valid line + 1 day
  int64_t seed;
  double checkpoint_seconds; ///< save a checkpoint at most this often (0: only on signals)
  char checkpoint[SC_PATH_MAX]; ///< checkpoint file ("" = out/checkpoint.h5)
  /* [segment] */
  char features[512];
  char k[16];                ///< number or "auto"
  int64_t k_min, k_max, n_init, silhouette_sample, max_iter;
  double tol;
  /* [forecast] */
  int enabled;
  int64_t rounds, max_depth, max_bin, test_days, valid_days, early_stopping_rounds;
  double eta, lambda, gamma, min_child_weight, subsample, colsample;
  char objective[32];        ///< squarederror | poisson
  double service_level, lead_time_days;
  /* [clv] */
  int clv_enabled;
  int64_t clv_unit_days, clv_holdout_days, clv_horizon_days;
  double clv_churn_threshold, clv_discount_rate;
  /* [output] */
  int csv_raw_text;          ///< write the input's text as it is (no '\'' before a formula start)
} sc_config;

/// Fills every key with its default.
void config_defaults(sc_config *c);
/// Reads an INI file over the current values. Errors name file, line, key.
sc_status config_load(sc_config *c, const char *path);
/// Applies one "section.key=value" override.
sc_status config_set(sc_config *c, const char *assignment);
/// Checks cross-key rules (k_min <= k_max, paths set, ...).
sc_status config_validate(const sc_config *c);
/// Writes every key and its value as INI text into buf (for summary.json).
/// Returns the number of characters needed (like snprintf).
size_t config_dump(const sc_config *c, char *buf, size_t cap);
/// Calls fn(section, key, value_text, doc) for each key (docs, summary).
void config_each(const sc_config *c, void (*fn)(void *ctx, const char *section, const char *key, const char *value,
                                                const char *doc),
                 void *ctx);

/// Writes the key table as documentation: "markdown" (docs/config.md's
/// tables), "man" (the man page's key list) or "ini" (every key with its
/// default, a configuration to start from). `segcast keys` prints it.
sc_status config_write_keys(FILE *f, const char *format);

#endif
