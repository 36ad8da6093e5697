/* gbdt.h: the hot loops of histogram gradient-boosted trees (XGBoost's
 * `hist` algorithm), over plain arrays: no MPI, no files, no globals.
 *
 * Data. Every row's features are bin codes (quantile.h), stored row-major
 * as u8 (at most 256 codes per feature) or u16: code b < nbins[f] is bin b
 * of feature f, code nbins[f] means missing. A node's histogram has one
 * slot per code: slot hoff[f] + code, each slot two int64 sums (G, H).
 *
 * Order-free sums. Gradients and hessians are quantised to int32 fixed
 * point (value x 2^k, k chosen from the global max |g| so no sum can
 * overflow) and summed as int64, as XGBoost's GPU path does, so a
 * histogram is the same whatever the order of rows, threads or ranks:
 * that is what makes the trees identical at any rank or thread count.
 *
 * Rows of each node are a contiguous range of a position array `pos`
 * (XGBoost's row sets); a level's splits partition every node's range
 * into left then right rows, each side monotone in memory order, so
 * histogram building streams through the codes (forward or backward).
 *
 * Split finding follows XGBoost 1.7 (src/tree/hist/evaluate_splits.h):
 * gain G^2/(H+lambda), both children need H >= min_child_weight, a
 * forward scan with missing values going right, and, when the node has
 * missing values, a backward scan with them going left.
 */
#ifndef SEGCAST_GBDT_H
#define SEGCAST_GBDT_H

#include <stddef.h>
#include <stdint.h>

/// Bin codes of the rows, as the kernels read them.
typedef struct {
  int64_t n;               ///< rows
  int nfeat;               ///< features (columns of the code matrix)
  const uint8_t *codes8;   ///< n x nfeat codes when every feature fits u8, else NULL
  const uint16_t *codes16; ///< n x nfeat codes otherwise
  const uint8_t *cols8;    ///< the same codes column-major (nfeat x n), or NULL: partitioning
  const uint16_t *cols16;  ///< reads one feature of many rows, 1 byte a row instead of a cache line
  const int32_t *nbins;    ///< real bins of feature f; the code nbins[f] means missing
  const int32_t *hoff;     ///< first slot of feature f in a node histogram; hoff[nfeat] = slots
} gbdt_matrix;

/// Regularisation and the fixed-point scales of one tree.
typedef struct {
  double lambda;           ///< L2 penalty on leaf weights
  double gamma;            ///< minimum loss reduction of a split
  double min_child_weight; ///< minimum hessian sum in each child
  double gscale, hscale;   ///< quantised = real x scale (powers of two)
} gbdt_param;

/// The best split of a node.
typedef struct {
  double loss_chg;         ///< gain of the split; 0 when there is none
  int32_t feat;            ///< split feature, -1 when the node stays a leaf
  int32_t bin;             ///< rows with code <= bin go left
  uint8_t default_left;    ///< where missing values go
  int64_t gl, hl;          ///< left child's quantised sums (right = node - left)
} gbdt_split;

/// One tree node, with the fields of XGBoost's JSON trees.
typedef struct {
  int32_t left, right;     ///< children; -1 for a leaf
  int32_t parent;          ///< -1 for the root
  int32_t feat, bin;       ///< split: code <= bin (float x < cond) goes left
  uint8_t default_left;    ///< missing values go left
  float cond;              ///< split condition (a cut value), or the leaf value
  float loss_chg;          ///< gain of the split (0 for a leaf)
  float sum_hess;          ///< hessian sum of the node's rows
  float base_weight;       ///< the node's weight (leaves: the leaf value)
} gbdt_node;

/// A tree: nodes in creation order (breadth-first, root 0).
typedef struct {
  int32_t n, cap;
  gbdt_node *nodes;
} gbdt_tree;

/// Objectives.
enum { GBDT_SQUARED = 0, GBDT_POISSON = 1 };
/// XGBoost's max_delta_step for count:poisson (the hessian is exp(m + 0.7)).
#define GBDT_POISSON_MAX_DELTA 0.7

/// XGBoost's leaf weight -G/(H+lambda) (0 when H < min_child_weight or H <= 0).
double gbdt_weight(double G, double H, const gbdt_param *p);
/// XGBoost's node gain G^2/(H+lambda) (0 when H < min_child_weight).
double gbdt_gain(double G, double H, const gbdt_param *p);

/// A power of two s such that max_abs * s <= 2^30 (1 when max_abs is 0).
double gbdt_scale_for(double max_abs);

/// Largest |g| and h over rows[0..n) for margins and labels: squared
/// error g = m - y, h = 1; Poisson g = e^m - y, h = e^(m + 0.7).
void gbdt_grad_max(int objective, const int32_t *rows, int64_t n, const float *margin, const float *label,
                   double *gmax, double *hmax);

/// Quantised gradients round(g x gscale) (int64) into gq[r] for r in rows[0..n)
/// (half away from zero), and for Poisson hessians round(h x hscale) into
/// hq[r]; squared error's hessian is the constant round(hscale). One pass.
void gbdt_grad_quantize(int objective, const int32_t *rows, int64_t n, const float *margin, const float *label,
                        double gscale, double hscale, int64_t *gq, int32_t *hq);

/// int64 entries of the scratch gbdt_hist_build needs (threads x 2 nodes).
size_t gbdt_hist_scratch_size(const gbdt_matrix *m);

/// Squared-error gradients made while histogramming (the root level, which
/// reads every row anyway): gq[r] = round((margin[r] - label[r]) x gscale).
typedef struct {
  const float *margin, *label;
  double gscale;
} gbdt_grad_src;

/// Builds the histograms of nn nodes: node k's rows are pos[begin[k]..end[k]);
/// hist receives nn x slots x 2 int64 (overwritten). hq NULL means every
/// row's quantised hessian is hconst. With src, each row's gq is computed
/// from it and stored, else read. OpenMP over rows, balanced; scratch
/// holds gbdt_hist_scratch_size(m) entries.
void gbdt_hist_build(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end, int nn,
                     int64_t *gq, const int32_t *hq, int32_t hconst, int64_t *hist, int64_t *scratch,
                     const gbdt_grad_src *src);

/// child := parent - sibling over one node's slots x 2 sums.
void gbdt_hist_subtract(const int64_t *parent, const int64_t *sibling, int64_t *child, int64_t slots);

/// Best split of one node from its histogram and totals (G, H); features
/// with use_feat[f] == 0 are skipped (use_feat may be NULL: all).
void gbdt_split_find(const gbdt_matrix *m, const int64_t *hist, int64_t G, int64_t H, const uint8_t *use_feat,
                     const gbdt_param *p, gbdt_split *best);

/// Partitions the rows of nn nodes into dst in one pass: node k's rows
/// pos[begin[k]..end[k]) go to dst[begin[k]..end[k]), its left rows first
/// in their order in pos, then its right rows in reverse order (written
/// from end[k] down), and nleft[k] gets the lefts. A row goes left when its
/// code of feat[k] is <= bin[k], or is the missing code and dleft[k]. A
/// node's rows thus stay monotone in memory (ascending or descending) at
/// every level. On several threads, blocks of rows are split in one pass
/// each over their own rows in pos, then copied where one thread would put
/// them: the same bits at any thread count. pos is scratch afterwards (the
/// caller swaps pos and dst).
void gbdt_partition(const gbdt_matrix *m, int32_t *pos, int32_t *dst, const int64_t *begin, const int64_t *end,
                    const int32_t *feat, const int32_t *bin, const uint8_t *dleft, int nn, int64_t *nleft);

/// The leaves of a level take their values, all in one parallel region:
/// margin[pos[i]] += v[k] for the rows pos[begin[k]..end[k]) of leaf k
/// (unless margin is NULL), and gq[pos[i]] += vq[k] when gq is not NULL
/// (fixed-point gradients).
void gbdt_add_leaves(const int32_t *pos, const int64_t *begin, const int64_t *end, const float *v, const int64_t *vq,
                     int nn, float *margin, int64_t *gq);

/// The last split level without partitioning: the rows pos[begin[k]..end[k])
/// of node k, split at (feat[k], bin[k], dleft[k]), add vl[k] (left) or
/// vr[k] (right) to their margin. Parallel over nodes.
void gbdt_split_add(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end,
                    const int32_t *feat, const int32_t *bin, const uint8_t *dleft, const float *vl, const float *vr,
                    int nn, float *margin);

/// The last split level with fixed-point gradients, in one pass instead
/// of a partition, the children's histograms and the leaves: node k's rows
/// pos[begin[k]..end[k]) split at (feat[k], bin[k], dleft[k]) take
/// gq[r] += vql[k] (left) or vqr[k] (right); and delta[j] (slots entries,
/// overwritten) gets, over the rows of each node's smaller child (the right
/// when small_right[k]) and every feature, that child's value minus its
/// sibling's in the row's slot. With the parents' slot counts C_k this
/// rank's share of the next root's gradient change is delta + sum_k
/// (sibling's value) x C_k, so only delta, one slot vector, is summed over
/// ranks. Blocks of rows in parallel, a private delta per thread (integer
/// sums: the same at any thread count); scratch holds gbdt_hist_scratch_size(m).
void gbdt_last_level(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end,
                     const int32_t *feat, const int32_t *bin, const uint8_t *dleft, const int64_t *vql,
                     const int64_t *vqr, const uint8_t *small_right, int nn, int64_t *gq, int64_t *delta,
                     int64_t *scratch);

/// margin[rows[i]] += the leaf value of tree t for that row, found through
/// the bin codes (rows outside the tree's row sets: held-out, unsampled).
void gbdt_tree_add_codes(const gbdt_tree *t, const gbdt_matrix *m, const int32_t *rows, int64_t n, float *margin);

/// gq[rows[i]] += round(leaf value x scale) of tree t for each row (the
/// fixed-point margins of squared error kept without float rounding).
void gbdt_tree_add_codes_fixed(const gbdt_tree *t, const gbdt_matrix *m, const int32_t *rows, int64_t n,
                               double scale, int64_t *gq);

/// A leaf's share of the next root histogram's gradient sums, for squared
/// error with a constant hessian: dg[j] += vq x (rows of the leaf in slot
/// j), the rows counted as H / hconst from the leaf's histogram.
void gbdt_hist_leaf_delta(const int64_t *hist, int64_t slots, int64_t vq, int32_t hconst, int64_t *dg);

/// round(x) half away from zero, as the gradients are quantised.
int64_t gbdt_quantize_one(double x);

/// Leaf value of tree t for one row of float features x (NaN = missing):
/// left when x[feat] < cond, as XGBoost predicts.
float gbdt_tree_leaf_float(const gbdt_tree *t, const float *x);

/// A forest laid out for predicting many rows: every tree's nodes in one
/// array, 16 bytes a node, a leaf pointing to itself both ways, so a row
/// takes exactly depth[t] steps down tree t with no test for leaves and
/// the rows of a block walk side by side (gbdt_forest_predict).
typedef struct {
  float cond;              ///< split condition; a leaf's value
  int32_t next[2];         ///< [0]: where x < cond goes, [1]: the other way (leaf: itself)
  uint16_t feat;           ///< split feature (0 for a leaf)
  uint8_t default_left;    ///< missing values go to next[0]
  uint8_t pad;
} gbdt_pnode;

typedef struct {
  int32_t ntrees;
  int32_t *root;           ///< first node of tree t
  int32_t *depth;          ///< steps from tree t's root to its deepest leaf
  gbdt_pnode *nodes;
} gbdt_forest;

/// Most features a forest reads (gbdt_forest_predict's block of rows).
#define GBDT_FOREST_MAXFEAT 64

/// Lays out trees[0..ntrees) for prediction; 0, or -1 on no memory (or a
/// split on a feature from GBDT_FOREST_MAXFEAT on).
int gbdt_forest_build(const gbdt_tree *trees, int ntrees, gbdt_forest *fo);
void gbdt_forest_free(gbdt_forest *fo);

/// Margins of rows[0..n) (indices into the nfeat <= GBDT_FOREST_MAXFEAT columns x, doubles read
/// as float32, NaN = missing): out[i] = base + the leaf of every tree in
/// tree order, each added in float32: the same bits as a row-by-row sum of
/// gbdt_tree_leaf_float. Blocks of rows walk each tree side by side, the
/// tree staying in cache; OpenMP over blocks.
void gbdt_forest_predict(const gbdt_forest *fo, const double *const *x, int nfeat, const int64_t *rows, int64_t n,
                         float base, float *out);

/// Appends a node (grows the tree); returns its index or -1 on no memory.
int32_t gbdt_tree_push(gbdt_tree *t, const gbdt_node *nd);
void gbdt_tree_free(gbdt_tree *t);

#endif
