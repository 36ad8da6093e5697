/* segment_kmeans.h: distributed k-means with k-means|| seeding, model
 * selection scores and the sweep over k.
 *
 * Customers are spread over ranks (any partition); each rank holds its
 * points as a column-major matrix. Every collective step combines
 * fixed-point partial sums with an int64 Allreduce, and every random
 * choice is keyed by (seed, k, seeding, user id), so the centroids,
 * labels and scores are the same bits at any rank or thread count.
 *
 * The sweep's state between seedings and between k's is small (the best
 * centroids so far, their inertia, the next seeding's index, the scores
 * of the k's done) and lives in one struct, seg_sweep, so that a later
 * checkpoint can save and restore it whole.
 */
#ifndef SEGCAST_SEGMENT_KMEANS_H
#define SEGCAST_SEGMENT_KMEANS_H

#include <stdint.h>

#include "fxsum.h"
#include "segcast.h"

struct seg_km_model;

/// The points of this rank and the fitting options.
typedef struct seg_km_data {
  const double *X;     ///< column-major n x d: X[j * n + i]
  const int64_t *uid;  ///< user id of each point (keys the random choices)
  int64_t n;           ///< points on this rank
  int64_t n_total;     ///< points on all ranks
  int d;
  uint64_t seed;
  int n_init, max_iter;
  double tol;          ///< scikit-learn's tol; scaled by the mean feature variance
  double mean_var;     ///< mean over features of the variance of X
  /// Optional: a uniform sample of these points (seg_km_subsample). When
  /// set, each seeding runs k-means|| and Lloyd on the sample, the
  /// seedings compete by their inertia on the full data, and Lloyd on the
  /// full data continues from the winner.
  const struct seg_km_data *sample;
  int64_t sample_size;  ///< the sample's size (for the record)
  /// Optional, collective: called after every seeding with the model so
  /// far (a checkpoint saves it; a non-OK status stops the fit).
  sc_status (*after_seeding)(void *ctx, const struct seg_km_model *so_far);
  void *hook_ctx;
} seg_km_data;

/// One fitted model and its scores. Between seedings it is also the fit's
/// whole state (best centroids, inertia, seedings done): a fit given a
/// model with inits_done > 0 and its centroids resumes after them, and
/// the random choices of the remaining seedings are keyed by (seed, k,
/// seeding), so a resumed fit ends with the same bits.
typedef struct seg_km_model {
  int k;
  double *C;            ///< k x d centroids (row-major), allocated by the fit
  double inertia;       ///< sum of squared distances to the assigned centroid
  int n_iter;           ///< Lloyd iterations of the best seeding
  int best_init;        ///< which seeding won
  double silhouette, calinski_harabasz, davies_bouldin;
  int64_t nonempty;     ///< clusters with at least one customer
  int inits_done;       ///< seedings completed
} seg_km_model;

/// Fits k clusters: n_init seedings (k-means||), Lloyd from each, the
/// lowest inertia kept (the first seeding on ties); with data->sample the
/// seedings and their Lloyd run on the sample and the winner is refined
/// on the full data. labels (n) receives the final assignment. `out` must
/// be zeroed for a fresh fit, or hold a saved state to resume. Collective.
sc_status seg_kmeans_fit(const seg_km_data *data, int k, seg_km_model *out, int32_t *labels);

/// Assigns the points to the model's centroids (labels, n entries) and
/// computes inertia, Calinski-Harabasz and Davies-Bouldin (on all points,
/// scikit-learn's definitions). Collective.
sc_status seg_kmeans_scores(const seg_km_data *data, seg_km_model *m, int32_t *labels);

/// The silhouette sample, replicated on every rank: the m customers with
/// the smallest hash of (seed, user id), in user-id order.
typedef struct {
  int64_t m;         ///< sample size
  int d;
  double *P;         ///< m x d row-major
  int64_t *local;    ///< this rank's points in the sample (indices), in user-id order
  int64_t n_local;
} seg_sample;

/// The k-means sample: a uniform subset of `want` points (smallest hash
/// of (seed, user id)), each rank keeping its own (collective). S gets the
/// same options; free with seg_km_subsample_free.
sc_status seg_km_subsample(const seg_km_data *data, int64_t want, seg_km_data *S);
void seg_km_subsample_free(seg_km_data *S);

/// Draws the sample (collective). Ranks must hold customers in user-id
/// order (range partition) so the concatenation is in user-id order.
sc_status seg_sample_draw(const seg_km_data *data, int64_t want, seg_sample *s);
void seg_sample_free(seg_sample *s);
/// Exact mean silhouette of the sample under the given labels of this
/// rank's points (collective; rows split over ranks and threads).
sc_status seg_silhouette(const seg_sample *s, const int32_t *labels, int k, double *out);

/// The sweep over k, kept small so it can be checkpointed.
typedef struct {
  int k_min, k_max;   ///< range tried
  int next;           ///< next k to fit (k_min .. k_max + 1)
  int nk;             ///< k's done
  int cap;            ///< models allocated
  seg_km_model *models; ///< one per k done, in the order tried
} seg_sweep;

void seg_sweep_free(seg_sweep *s);

/// Sums fixed-point accumulators over ranks (two int64 limbs each).
sc_status seg_allreduce_fx(fx_acc *v, size_t n);

/// The k chosen by the documented rule: the knee of the inertia curve
/// (largest distance below the chord, after scaling both axes to [0, 1]),
/// kept when its silhouette is within 10 % of the best silhouette;
/// otherwise the best silhouette among the knee and its neighbours.
int seg_choose_k(const seg_km_model *models, int nk);

#endif
