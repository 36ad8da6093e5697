/* forecast_gbdt.h: distributed training of the demand model (histogram
 * gradient-boosted trees, XGBoost's `hist`), collective over all ranks.
 *
 * Each rank holds the demand rows of its own series. Bin cuts come from a
 * row-keyed sample (or the exact distinct values) gathered from every
 * rank; each tree level builds per-rank histograms of the smaller
 * children with OpenMP, sums them with one int64 Allreduce, derives the
 * siblings by subtraction and picks the same splits on every rank. The
 * result does not depend on the rank or thread count (kernels/gbdt.h).
 *
 * The boosting state (fc_booster) is everything training needs to go on:
 * cuts, trees so far, rounds completed, the early-stopping record and the
 * seed. Margins are not part of it: they are recomputed from the trees,
 * which is what a checkpoint restart does.
 */
#ifndef SEGCAST_FORECAST_GBDT_H
#define SEGCAST_FORECAST_GBDT_H

#include <stdint.h>

#include "gbdt.h"
#include "run.h"
#include "segcast.h"

/// Boosting parameters (XGBoost's names), from the forecast.* keys.
typedef struct {
  int rounds, max_depth, max_bin, objective;  ///< objective: GBDT_SQUARED or GBDT_POISSON
  int early_stopping_rounds;                  ///< 0: never stop early
  double eta, lambda, gamma, min_child_weight, subsample, colsample;
  uint64_t seed;
} fc_params;

/// Which part of the time line a demand row belongs to.
enum { FC_TRAIN = 0, FC_VALID = 1, FC_TEST = 2 };

/// The rows one rank trains on and predicts (borrowed arrays).
typedef struct {
  int64_t n;                 ///< local rows
  int nfeat;                 ///< feature columns
  const double *const *x;    ///< nfeat columns of n values (NaN = missing)
  const double *y;           ///< label (units)
  const uint64_t *key;       ///< row key, the same at any rank count (sampling)
  const uint8_t *set;        ///< FC_TRAIN, FC_VALID or FC_TEST
} fc_data;

/// Phases of training that are timed (see fc_phase_names).
enum { FC_PH_SETUP, FC_PH_GRAD, FC_PH_HIST, FC_PH_REDUCE, FC_PH_SPLIT, FC_PH_PARTITION, FC_PH_LEAF, FC_PH_HELD,
       FC_PHASES };
/// Names of the phases, for the summary and the benchmark.
extern const char *const fc_phase_names[FC_PHASES];

/// Everything boosting needs to continue (checkpointable; see above).
typedef struct {
  int nfeat;
  int32_t *nbins;            ///< real bins of each feature
  uint8_t *has_missing;      ///< feature has a missing-value code
  int32_t *cut_off;          ///< cuts of feature f: cuts[cut_off[f] .. cut_off[f] + nbins[f])
  float *cuts;
  int objective;
  float base_score;          ///< in output space (the training mean), as XGBoost's JSON holds it
  int rounds_done;           ///< boosting rounds completed
  int ntrees;                ///< trees kept (after early stopping: best_round + 1)
  gbdt_tree *trees;
  int best_round;            ///< round with the best validation score so far (-1: none)
  double best_score;         ///< its validation RMSE
  double *valid_rmse;        ///< validation RMSE after each round (rounds_done entries)
  uint64_t seed;
  double *tree_gain;         ///< split gain of each feature in each round (rounds x nfeat)
  double phase[FC_PHASES];   ///< seconds spent in each phase of training (fc_phase_names)
  int64_t hist_rows;         ///< rows histogrammed (all trees, this rank)
} fc_booster;

/// Trains on d with p (collective). rounds_done counts from 0; the booster
/// is released with fc_booster_free.
sc_status fc_train(const fc_data *d, const fc_params *p, fc_booster *b);
/// fc_train with checkpoint and restart (stage "forecast", checkpoint.h):
/// resumes a saved state of this configuration and data, saves after any
/// round when checkpoint_due (SC_CHECKPOINTED after a signal), and ends
/// with checkpoint_done. The result is the same bits as fc_train's.
sc_status fc_train_checkpointed(sc_run *run, const fc_data *d, const fc_params *p, fc_booster *b);
void fc_booster_free(fc_booster *b);

/// Prediction of one row of float32 features x (NaN = missing), summed in
/// float32 tree by tree from base_score's margin exactly as XGBoost 1.7
/// does, then transformed (Poisson: exp).
float fc_predict(const fc_booster *b, const float *x);

/// fc_predict of many rows: out[i] for row rows[i] of the nfeat double
/// columns x (read as float32), the same bits, through gbdt_forest_predict.
sc_status fc_predict_rows(const fc_booster *b, const double *const *x, const int64_t *rows, int64_t n, float *out);

/// Total split gain of each feature over the kept trees (XGBoost's
/// "total_gain" importance, in double precision) into out[nfeat].
void fc_importance(const fc_booster *b, double *out);

/// The margin that base_score stands for (log for Poisson).
float fc_base_margin(const fc_booster *b);

/// Exact global sum of v[0..n) over all ranks (collective): every value is
/// rounded to a fixed point scaled by the global max |v|, summed as int64,
/// so the result does not depend on the rank count or order.
double fc_sum_exact(const double *v, int64_t n);

#endif
