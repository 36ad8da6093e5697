/* segment_internal.h: what the segment stage's files share (segment.c,
 * segment_out.c): the stage's working state and the rule tables.
 */
#ifndef SEGCAST_SEGMENT_INTERNAL_H
#define SEGCAST_SEGMENT_INTERNAL_H

#include "run.h"
#include "segment_kmeans.h"
#include "segment_model.h"
#include "stages.h"
#include "table.h"

/// The customer table: every feature (those a layout lacks stay 0 and
/// are left out of the outputs) and the RFM scores.
#define SEG_CUST_SPEC                                                                                              \
  "user_id:i64,recency_days:i64,frequency:i64,monetary:f64,product_diversity:i64,avg_order_value:f64,"           \
  "purchase_span_days:i64,tenure_days:i64,avg_discount_rate:f64,clicks_90d:i64,return_lines:i64,r_score:i32,"   \
  "f_score:i32,m_score:i32,rfm_segment:i32"

/// Above this many customers, k-means seedings run on a uniform sample of
/// this size and compete on the full data (docs/segmentation.md).
#define SEG_KM_SAMPLE 65536

#define SEG_NRFM 10
/// Rule-based segment names (DATA.md 4), in the table's order.
extern const char *const seg_rfm_names[SEG_NRFM];
/// The rule-based segment of an (r_score, f_score) pair: first match wins.
int seg_rfm_segment(int r, int f);
#define SEG_NARCH 8
/// Names k clusters from their recency scores r (minus the mean recency z)
/// and value scores v (mean of frequency and monetary z): arch[c] gets the
/// archetype (name and action) and nth[c] the round (1, or 2.. when there
/// are more clusters than archetypes). See docs/segmentation.md.
void seg_name_clusters(const double *r, const double *v, int k, int *arch, int *nth);
/// An archetype's name.
const char *seg_archetype_name(int a);

/// One cluster's profile row.
typedef struct {
  int64_t customers;
  double customer_share, revenue_share;
  double mean[SEG_NFEAT], median[SEG_NFEAT];
  double score_r, score_v;
  char name[SEG_NAME_MAX];
  char action[SEG_ACTION_MAX];
} seg_profile_row;

/// The stage's working state.
typedef struct {
  int present[SEG_NFEAT];  ///< features the layout has
  int d, feat[KM_MAX_D];   ///< clustering features
  int k_fixed;             ///< segment.k as a number, 0 for auto
  int32_t as_of;
  sc_table cust;           ///< this rank's customers (user-id range after step 2)
  int64_t n_total;
  int64_t *fi[SEG_NFEAT];  ///< integer feature columns of cust
  double *fd[SEG_NFEAT];   ///< float feature columns of cust
  double lmean[SEG_NFEAT], lstd[SEG_NFEAT]; ///< log1p mean and std (clustering features, R, F, M)
  double mean[KM_MAX_D], std[KM_MAX_D], mean_var; ///< the clustering transform
  double *X;               ///< standardized clustering matrix (column-major)
  int32_t *labels;         ///< cluster of each local customer
  seg_sample sample;       ///< the silhouette sample
  seg_km_data kms;         ///< the k-means sample (when has_kms)
  int has_kms;
  seg_sweep sweep;
  int chosen;              ///< index of the chosen model in sweep.models
  int k;
  seg_km_model model;      ///< the chosen model, clusters in output order
  seg_profile_row *prof;   ///< k rows
  double t_features, t_rfm, t_standardize, t_sweep, t_profiles, t_outputs;
} seg_ctx;

/// Value of feature f of local customer i as a double.
double seg_value(const seg_ctx *cx, int f, int64_t i);
/// Medians per cluster of every present feature (collective).
sc_status seg_medians(seg_ctx *cx);
/// Writes every segmentation output and results.h5 tables (collective).
sc_status seg_write_outputs(sc_run *run, const sc_dataset *ds, seg_ctx *cx, sc_h5 *results);
/// Adds the "segment" key to the summary.
void seg_summary(sc_run *run, const seg_ctx *cx);
/// Formats a day number (days since 1970-01-01) as YYYY-MM-DD into buf (11 bytes).
void seg_format_day(int32_t day, char *buf);

#endif
