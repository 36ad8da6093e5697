/* segment_model.h: the customer features' names and the fitted segment
 * model, shared by the segment stage (which writes kmeans_model.json) and
 * `segcast predict` (which reads it).
 *
 * The transform is one inline function used on both sides, so a customer
 * row read back from customer_segments.csv is standardized with the same
 * operations as in training and lands in the same cluster.
 */
#ifndef SEGCAST_SEGMENT_MODEL_H
#define SEGCAST_SEGMENT_MODEL_H

#include <math.h>
#include <stdio.h>

#include "kmeans.h"
#include "segcast.h"

/// The customer features of DATA.md 3, in the order of the outputs.
enum {
  SEG_RECENCY,
  SEG_FREQUENCY,
  SEG_MONETARY,
  SEG_DIVERSITY,
  SEG_AOV,
  SEG_SPAN,
  SEG_TENURE,
  SEG_DISCOUNT,
  SEG_CLICKS,
  SEG_RETURNS,
  SEG_NFEAT
};

/// Column name of each feature.
extern const char *const seg_feature_name[SEG_NFEAT];
/// 1 for integer-valued features (days, counts), 0 for money and rates
/// (rounded to 6 decimals).
int seg_feature_is_int(int f);
/// Index of a feature by name, or -1.
int seg_feature_find(const char *name);

/// z = (log1p(x) - mean) / std: the clustering transform (DATA.md 5).
static inline double seg_transform(double x, double mean, double std) { return (log1p(x) - mean) / std; }

#define SEG_NAME_MAX 64
#define SEG_ACTION_MAX 192

/// Everything `predict` needs.
typedef struct {
  int d;                              ///< clustering features
  int feat[KM_MAX_D];                 ///< their indices (SEG_*)
  double mean[KM_MAX_D], std[KM_MAX_D];
  int k;
  double *C;                          ///< k x d centroids in the standardized space
  char (*name)[SEG_NAME_MAX];         ///< k cluster names
  char (*action)[SEG_ACTION_MAX];     ///< k recommended actions
} seg_model;

/// Writes the model as JSON (stable key order, doubles that read back
/// to the same bits) into an open file.
sc_status seg_model_write(const seg_model *m, FILE *f, const char *what);
/// Reads a model written by seg_model_write; errors name the file and key.
sc_status seg_model_read(const char *path, seg_model *m);
void seg_model_free(seg_model *m);

#endif
