/* kmeans.h: the hot loops of k-means, its seeding and its quality scores.
 *
 * Points are a column-major matrix: coordinate j of point i is
 * X[j * n + i], so each coordinate streams as one contiguous array and
 * the assignment loop vectorises over points. Centroids are row-major
 * (C[c * d + j]); k and d are small (k <= 1000, d <= KM_MAX_D).
 *
 * Assignment (km_assign) follows scikit-learn's Lloyd: blocks of
 * KM_BLOCK points, the nearest centroid by ||c||^2 - 2 x.c, the lowest
 * index on ties. Everything a caller adds up across points (per-cluster
 * coordinate sums, counts, inertia, sums of distances) is accumulated in
 * fixed point (fxsum.h), per thread and then combined, so the totals are
 * the same bits at any thread or rank count. The per-point arithmetic
 * never depends on which thread or rank handles the point, so the labels
 * are the same too, here and in `segcast predict`.
 *
 * Coordinates must satisfy |x| < 2^19 (standardized features do: |z| is
 * at most sqrt(n)), which keeps fx_q exact and a block's fixed-point sums
 * within int64. On x86-64 km_assign picks an AVX2 path at run time when
 * the processor has it; it gives the same bits as the baseline path.
 *
 * All functions are pure: plain arrays in, arrays out, OpenMP inside, no
 * MPI, no files, no globals. Those that allocate scratch return -1 when
 * memory runs out and 0 otherwise.
 */
#ifndef SEGCAST_KMEANS_H
#define SEGCAST_KMEANS_H

#include <stdint.h>

#include "fxsum.h"

#define KM_BLOCK 256
#define KM_MAX_D 16

/// What one assignment pass computes; NULL pointers skip that output.
typedef struct {
  int32_t *labels;  ///< in: previous labels (for `changed`); out: nearest centroid
  int64_t changed;  ///< out: points whose label changed (when labels given)
  int64_t *counts;  ///< out: k points per cluster
  fx_acc *sums;     ///< out: k*d coordinate sums per cluster (2^-32 units)
  int want_inertia; ///< compute `inertia`
  fx_acc inertia;   ///< out: sum of ||x - c_label||^2, direct form (2^-24 units)
  int baseline;     ///< 1: use the baseline instruction set even where AVX2 is there (tests)
  /// 1 (with labels): counts and sums hold the totals for the labels passed
  /// in (zeros with all labels -1) and are updated in place by the points
  /// whose label changes only. Exact integers make the result the same bits
  /// as a full recount; after the first iterations few points move, so a
  /// Lloyd iteration costs little more than the assignment.
  int incremental;
} km_pass;

/// Assigns every point to its nearest centroid and accumulates what `p`
/// asks for. Returns 0, or -1 when scratch memory ran out.
int km_assign(const double *X, int64_t n, int d, const double *C, int k, km_pass *p);

/// Nearest centroid of one point given as d coordinates: exactly the
/// label km_assign gives (same arithmetic), for `segcast predict`.
int km_nearest(const double *x, int d, const double *C, int k);

/// d2[i] = min(d2[i], min_c ||x_i - c||^2) over the m centroids C (direct
/// form); with `reset`, d2 is first set to +infinity. *total gets the sum
/// of the new d2 in 2^-24 units.
void km_d2_update(const double *X, int64_t n, int d, const double *C, int64_t m, double *d2, int reset,
                  fx_acc *total);

/// k-means|| oversampling: marks point i (mark[i] = 1) when the uniform
/// number keyed by (key, uid[i]) is below l * d2[i] / phi. Returns the
/// number of points marked.
int64_t km_oversample(const double *d2, const int64_t *uid, int64_t n, double l, double phi, uint64_t key,
                      uint8_t *mark);

/// The m points farthest from their own centroid, by distance descending
/// then uid ascending; writes up to m local indices into idx and their
/// squared distances into dist, returns how many (min(m, n)).
int km_farthest(const double *X, int64_t n, int d, const double *C, const int32_t *labels, const int64_t *uid,
                int m, int64_t *idx, double *dist);

/// Weighted k-means++ (greedy, 2 + floor(ln k) trials per centre, as
/// scikit-learn) on m candidate points P (row-major m x d, weights w),
/// followed by at most 30 weighted Lloyd iterations on the candidates (as
/// Spark's local k-means). Random numbers are keyed by `key` only, so the
/// result depends on the candidates and the key, nothing else. Writes k
/// centroids (row-major) into C. Returns 0 or -1 (memory).
int km_pp_weighted(const double *P, const double *w, int64_t m, int d, int k, uint64_t key, double *C);

/// Per-cluster sums for the quality scores given labels and the clusters'
/// means M (row-major k x d): *within += sum ||x - M_label||^2 (2^-24
/// units) and dist[c] += sum over cluster c of ||x - M_c|| (2^-32 units).
/// Returns 0 or -1 (memory).
int km_cluster_spread(const double *X, int64_t n, int d, const int32_t *labels, const double *M, int k,
                      fx_acc *within, fx_acc *dist);

/// Sum over j in [j0, j1) of the distance from point j of S (column-major,
/// m points, d = 3) to x, in eight fixed lanes: the same bits on the AVX2
/// path and on the portable one (baseline = 1 forces it; tests compare).
double km_dist3_sum(const double *S, int64_t m, const double *x, int64_t j0, int64_t j1, int baseline);

/// Exact silhouette of rows [lo, hi) of a sample S (column-major, m
/// points) that is sorted by cluster: cluster c holds rows
/// start[c] .. start[c+1]-1. Adds sum of s_i over those rows to *sum
/// (2^-32 units). s_i = (b - a) / max(a, b) with scikit-learn's
/// conventions (0 for a point alone in its cluster). Returns 0 or -1.
int km_silhouette_rows(const double *S, int64_t m, int d, const int64_t *start, int k, int64_t lo, int64_t hi,
                       fx_acc *sum);

#endif
