/* forecast_gbdt.c: the distributed boosting driver (see forecast_gbdt.h).
 *
 * Round by round: sample rows by key, gradients in fixed point, then grow
 * one tree depth-wise. Per level: find every open node's best split
 * (identical on all ranks, since the histograms are), partition the rows,
 * build the smaller child's histogram of each split on every rank, sum
 * them with one comm_sum_i64, and derive each sibling as parent - child.
 * Rows a tree did not train on (held-out, unsampled) walk it through their
 * bin codes.
 *
 * Squared error on every training row (the default): the gradient is
 * margin - label, linear in the margin, so the gradients are kept as int64
 * fixed point for the whole training (each leaf adds round(value x scale)
 * to its rows) and the next tree's root histogram is this tree's plus, for
 * every leaf, its value times its rows per slot (from the leaf's hessian
 * sums, rows x a constant): the root, the largest histogram of a tree, is
 * built once. The last split level gets its leaves' share of that in one
 * pass without partitioning (gbdt_last_level): the smaller children's
 * slot counts, one slot vector summed over ranks. The training rows' float margins are then not kept (the
 * gradients are): should the mode end, they are replayed from the trees. Otherwise (Poisson, row sampling) gradients are made per
 * tree with a per-tree scale, and the last split level adds leaf values
 * without partitioning.
 */
#include "forecast_gbdt.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "comm.h"
#include "quantile.h"
#include "run.h"

/* Salts of the keyed random choices, so they are independent. */
#define SALT_SKETCH 0x51A7C4E5D00DULL
#define SALT_ROWS 0x5B5A4D71E0ULL
#define SALT_COLS 0xC0150A3B1EULL

const char *const fc_phase_names[FC_PHASES] = {"setup",     "gradients", "histograms", "allreduce",
                                                "splits",    "partition", "leaves",     "held-out rows"};

double fc_sum_exact(const double *v, int64_t n) {
  double m = 0.0;
  for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
  m = comm_max1_double(m);
  int64_t ng = comm_sum1_i64(n);
  if (!(m > 0.0) || ng == 0) {
    comm_sum1_i64(0); /* keep the collective sequence the same on every rank */
    return 0.0;
  }
  /* each |v| x s <= 2^62 / ng, so no partial sum can overflow */
  double bound = ldexp(1.0, 62) / (double)ng / m;
  int k = (int)floor(log2(bound));
  if (k > 900) k = 900;
  double s = ldexp(1.0, k);
  int64_t acc = 0;
  for (int64_t i = 0; i < n; i++) acc += (int64_t)llrint(v[i] * s);
  acc = comm_sum1_i64(acc);
  return (double)acc / s;
}

void fc_booster_free(fc_booster *b) {
  for (int i = 0; i < b->rounds_done; i++) gbdt_tree_free(&b->trees[i]);
  free(b->trees);
  free(b->nbins);
  free(b->has_missing);
  free(b->cut_off);
  free(b->cuts);
  free(b->valid_rmse);
  free(b->tree_gain);
  memset(b, 0, sizeof *b);
}

void fc_importance(const fc_booster *b, double *out) {
  for (int f = 0; f < b->nfeat; f++) out[f] = 0.0;
  for (int t = 0; t < b->ntrees; t++)
    for (int f = 0; f < b->nfeat; f++) out[f] += b->tree_gain[(size_t)t * (size_t)b->nfeat + (size_t)f];
}

float fc_base_margin(const fc_booster *b) {
  return b->objective == GBDT_POISSON ? logf(b->base_score) : b->base_score;
}

float fc_predict(const fc_booster *b, const float *x) {
  float m = fc_base_margin(b);
  for (int t = 0; t < b->ntrees; t++) m += gbdt_tree_leaf_float(&b->trees[t], x);
  return b->objective == GBDT_POISSON ? expf(m) : m;
}

sc_status fc_predict_rows(const fc_booster *b, const double *const *x, const int64_t *rows, int64_t n, float *out) {
  gbdt_forest fo;
  if (gbdt_forest_build(b->trees, b->ntrees, &fo))
    return sc_fail(SC_ENOMEM, "out of memory laying out %d trees for prediction", b->ntrees);
  gbdt_forest_predict(&fo, x, b->nfeat, rows, n, fc_base_margin(b), out);
  gbdt_forest_free(&fo);
  if (b->objective == GBDT_POISSON)
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) out[i] = expf(out[i]);
  return SC_OK;
}

/* ---- bin cuts ---------------------------------------------------------- */

/* Cuts of every feature from the training rows of all ranks. */
static sc_status bins_build(const fc_data *d, const fc_params *p, const int32_t *train, int64_t ntrain,
                            int64_t ntrain_global, fc_booster *b) {
  const int F = d->nfeat;
  int64_t miss[64];
  double vmin[64], vmax[64];
  for (int f = 0; f < F; f++) {
    const double *x = d->x[f];
    int64_t any = 0;
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t r = 0; r < d->n; r++)
      if (x[r] != x[r]) any = 1;
    for (int64_t i = 0; i < ntrain; i++) {
      double v = x[train[i]];
      if (v != v) continue;
      float fv = (float)v;
      lo = fmin(lo, fv);
      hi = fmax(hi, fv);
    }
    miss[f] = any;
    vmin[f] = lo;
    vmax[f] = hi;
  }
  comm_max_i64(miss, (size_t)F);
  comm_min_double(vmin, (size_t)F);
  comm_max_double(vmax, (size_t)F);

  sc_status s = SC_OK;
  int allow[64];
  int64_t total_allow = 0;
  for (int f = 0; f < F; f++) {
    allow[f] = p->max_bin - (int)miss[f];
    if (allow[f] < 1) allow[f] = 1;
    total_allow += allow[f];
  }
  /* exact distinct values when few: [F counts as float bits][values] per rank */
  int dlimit[64];
  for (int f = 0; f < F; f++) dlimit[f] = allow[f] < 4096 ? allow[f] : 4096;
  float *loc = NULL;
  s = sc_alloc(&loc, (size_t)(F + total_allow + 1) * sizeof *loc);
  int32_t cnt[64];
  float *vals = loc + F;
  if (!s) {
    int64_t off[65];
    off[0] = 0;
    for (int f = 0; f < F; f++) off[f + 1] = off[f] + allow[f];
#pragma omp parallel for schedule(dynamic, 1)
    for (int f = 0; f < F; f++)
      cnt[f] = quantile_distinct(d->x[f], train, ntrain, dlimit[f], vals + off[f]);
    /* compact: counts, then each feature's values */
    int64_t w = 0;
    for (int f = 0; f < F; f++) {
      if (cnt[f] > 0) memmove(vals + w, vals + off[f], (size_t)cnt[f] * sizeof *vals);
      if (cnt[f] > 0) w += cnt[f];
      memcpy(&loc[f], &cnt[f], sizeof cnt[f]);
    }
    total_allow = w;
  }
  s = comm_agree(s);
  if (s) {
    free(loc);
    return s;
  }
  void *all = NULL;
  size_t all_bytes = 0;
  size_t *counts = NULL;
  int size = comm_size();
  s = sc_alloc(&counts, (size_t)size * sizeof *counts);
  if (!s) s = comm_allgatherv(loc, (size_t)(F + total_allow) * sizeof(float), &all, &all_bytes, counts);
  free(loc);
  s = comm_agree(s);
  /* union per feature; -1 = too many values, use the sample */
  float *uni = NULL, *tmpu = NULL;
  int32_t ucount[64];
  int64_t ucap = 0;
  for (int f = 0; f < F; f++) ucap += dlimit[f];
  if (!s) s = sc_alloc(&uni, (size_t)(ucap + 1) * sizeof *uni);
  if (!s) s = sc_alloc(&tmpu, (size_t)(4097) * sizeof *tmpu);
  int64_t uoff[65];
  uoff[0] = 0;
  for (int f = 0; f < F; f++) uoff[f + 1] = uoff[f] + dlimit[f];
  if (!s) {
    for (int f = 0; f < F; f++) ucount[f] = 0;
    const char *base = all;
    for (int r = 0; r < size; r++) {
      const float *blk = (const float *)base;
      int32_t c[64];
      memcpy(c, blk, (size_t)F * sizeof *c);
      const float *v = blk + F;
      for (int f = 0; f < F; f++) {
        if (c[f] < 0) ucount[f] = -1;
        if (ucount[f] >= 0 && c[f] > 0) {
          int k = quantile_union(uni + uoff[f], ucount[f], v, c[f], dlimit[f], tmpu);
          if (k >= 0) memcpy(uni + uoff[f], tmpu, (size_t)k * sizeof *tmpu);
          ucount[f] = k;
        }
        if (c[f] > 0) v += c[f];
      }
      base += counts[r];
    }
  }
  free(all);
  free(counts);
  free(tmpu);
  s = comm_agree(s);
  if (s) {
    free(uni);
    return s;
  }

  /* the sample, for features with more values than bins */
  int need[64], nneed = 0;
  for (int f = 0; f < F; f++)
    if (ucount[f] < 0) need[nneed++] = f;
  float *sample = NULL;
  int64_t sample_rows = 0;
  if (nneed > 0) {
    double target = fmin(fmax(262144.0, 32.0 * p->max_bin), 4194304.0);
    double prob = ntrain_global > 0 ? target / (double)ntrain_global : 1.0;
    int64_t m = 0;
    for (int64_t i = 0; i < ntrain; i++)
      if (prob >= 1.0 || sc_unit(d->key[train[i]] ^ SALT_SKETCH) < prob) m++;
    float *mine = NULL;
    s = sc_alloc(&mine, (size_t)(m * nneed + 1) * sizeof *mine);
    if (!s) {
      int64_t w = 0;
      for (int64_t i = 0; i < ntrain; i++) {
        int32_t r = train[i];
        if (!(prob >= 1.0 || sc_unit(d->key[r] ^ SALT_SKETCH) < prob)) continue;
        for (int j = 0; j < nneed; j++) mine[w++] = (float)d->x[need[j]][r];
      }
    }
    s = comm_agree(s);
    void *got = NULL;
    size_t got_bytes = 0;
    if (!s) s = comm_agree(comm_allgatherv(mine, (size_t)(m * nneed) * sizeof(float), &got, &got_bytes, NULL));
    free(mine);
    if (s) {
      free(uni);
      return s;
    }
    sample = got;
    sample_rows = (int64_t)(got_bytes / sizeof(float)) / nneed;
  }

  /* cuts: exact values or sample quantiles */
  s = sc_calloc(&b->nbins, (size_t)F, sizeof *b->nbins);
  if (!s) s = sc_calloc(&b->has_missing, (size_t)F, sizeof *b->has_missing);
  if (!s) s = sc_calloc(&b->cut_off, (size_t)F + 1, sizeof *b->cut_off);
  if (!s) s = sc_alloc(&b->cuts, (size_t)(total_allow + (int64_t)F * p->max_bin + 1) * sizeof *b->cuts);
  float *col = NULL, *tmp = NULL;
  if (!s && nneed > 0) s = sc_alloc(&col, (size_t)(sample_rows + 1) * sizeof *col);
  if (!s && nneed > 0) s = sc_alloc(&tmp, (size_t)(sample_rows + 1) * sizeof *tmp);
  int64_t *tmp64 = NULL;
  if (!s && nneed > 0) s = sc_alloc(&tmp64, (size_t)(2 * sample_rows + 2) * sizeof *tmp64);
  if (!s) {
    int32_t o = 0;
    for (int f = 0; f < F; f++) {
      b->has_missing[f] = (uint8_t)miss[f];
      b->cut_off[f] = o;
      float *c = b->cuts + o;
      int k;
      if (ucount[f] >= 0) {
        k = quantile_cuts_distinct(uni + uoff[f], ucount[f], c);
      } else {
        int j = 0;
        while (need[j] != f) j++;
        int64_t mm = 0;
        for (int64_t i = 0; i < sample_rows; i++) {
          float v = sample[i * nneed + j];
          if (v == v) col[mm++] = v + 0.0f;
        }
        quantile_sort(col, mm, tmp);
        k = quantile_cuts_sample(col, mm, allow[f], (float)vmin[f], (float)vmax[f], c, tmp64);
      }
      b->nbins[f] = k;
      o += k;
    }
    b->cut_off[F] = o;
  }
  free(col);
  free(tmp);
  free(tmp64);
  free(sample);
  free(uni);
  return comm_agree(s);
}

/* Bin codes of every local row: column-major (k8 / k16) one feature at a
 * time so its cuts stay in cache, then transposed by blocks of rows into
 * the row-major copy (c8 / c16) that histogram building streams. */
static void codes_build(const fc_data *d, const fc_booster *b, uint8_t *c8, uint16_t *c16, uint8_t *k8,
                        uint16_t *k16) {
  const int F = d->nfeat;
  const int64_t n = d->n;
  for (int f = 0; f < F; f++) {
    const double *x = d->x[f];
    const float *cuts = b->cuts + b->cut_off[f];
    const int nb = b->nbins[f];
    uint8_t *o8 = k8 ? k8 + (size_t)f * (size_t)n : NULL;
    uint16_t *o16 = k16 ? k16 + (size_t)f * (size_t)n : NULL;
    const int64_t B = 65536;
#pragma omp parallel for schedule(static)
    for (int64_t r0 = 0; r0 < n; r0 += B)
      quantile_bins(cuts, nb, x + r0, r0 + B < n ? B : n - r0, nb, o8 ? o8 + r0 : NULL, o16 ? o16 + r0 : NULL);
  }
  const int64_t B = 4096;
#pragma omp parallel for schedule(static)
  for (int64_t r0 = 0; r0 < n; r0 += B) {
    int64_t r1 = r0 + B < n ? r0 + B : n;
    for (int f = 0; f < F; f++) {
      if (c8) {
        const uint8_t *src = k8 + (size_t)f * (size_t)n;
        for (int64_t r = r0; r < r1; r++) c8[r * F + f] = src[r];
      } else {
        const uint16_t *src = k16 + (size_t)f * (size_t)n;
        for (int64_t r = r0; r < r1; r++) c16[r * F + f] = src[r];
      }
    }
  }
}

/* ---- growing one tree ------------------------------------------------ */

typedef struct {
  int32_t id;
  int64_t begin, end, G, H;
  int64_t *hist;
} open_node;

/* Histogram buffers kept across levels and trees (grown when needed):
 * a level's histograms live in one pair, its children's in the other. */
typedef struct {
  int64_t *buf[2][2]; /* [pair][small, sibling] */
  size_t cap[2][2];   /* int64 entries */
  int64_t *scratch;   /* gbdt_hist_build's per-thread scratch */
} hist_pool;

static sc_status pool_get(hist_pool *hp, int pair, int which, size_t n, int64_t **out) {
  if (hp->cap[pair][which] < n) {
    free(hp->buf[pair][which]);
    hp->buf[pair][which] = NULL;
    hp->cap[pair][which] = 0;
    SC_TRY(sc_alloc(&hp->buf[pair][which], n * sizeof(int64_t)));
    hp->cap[pair][which] = n;
  }
  *out = hp->buf[pair][which];
  return SC_OK;
}

static void pool_free(hist_pool *hp) {
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++) free(hp->buf[i][j]);
  free(hp->scratch);
  memset(hp, 0, sizeof *hp);
}

typedef struct {
  const gbdt_matrix *m;
  const fc_params *p;
  gbdt_param gp;
  int32_t *pos, *pos2; /* a level's rows are in pos; partitioning writes pos2, then they swap */
  int64_t *gq;
  const int32_t *hq;
  int32_t hconst;
  const gbdt_grad_src *gsrc; /* set: the root histogram makes the gradients */
  /* squared error without row sampling: gradients kept in fixed point (gq
   * += round(leaf x gscale) at every leaf), so the next root histogram is
   * this one's plus every leaf's value times its row counts per slot */
  int incremental;
  int64_t *root;        /* in: the root histogram (have_root) / out: it, for the next tree */
  int have_root;
  int64_t *dg;          /* the next root's gradient change, per slot */
  const uint8_t *use_feat;
  const float *cuts;
  const int32_t *cut_off;
  float *margin;
  double *gain_total;
  hist_pool *pool;
  double *phase;
  int64_t *hist_rows;
} grow_ctx;

/* The clock of the phase timings: wall time, or this process's CPU time
 * when SEGCAST_CPU_CLOCK is set (profiling on a shared machine). */
static double phase_clock(void) {
  static int cpu = -1;
  if (cpu < 0) cpu = getenv("SEGCAST_CPU_CLOCK") != NULL;
  if (!cpu) return sc_now();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define PHASE(c, ph, stmt)                 \
  do {                                     \
    double t_ = phase_clock();             \
    stmt;                                  \
    (c)->phase[ph] += phase_clock() - t_;  \
  } while (0)

static float leaf_value(const grow_ctx *c, int64_t G, int64_t H) {
  return (float)(c->p->eta * gbdt_weight((double)G / c->gp.gscale, (double)H / c->gp.hscale, &c->gp));
}

static sc_status node_push(gbdt_tree *t, int32_t parent, int64_t H, const grow_ctx *c, int32_t *id) {
  gbdt_node nd = {-1, -1, parent, 0, 0, 0, 0.0f, 0.0f, (float)((double)H / c->gp.hscale), 0.0f};
  *id = gbdt_tree_push(t, &nd);
  return *id < 0 ? sc_fail(SC_ENOMEM, "out of memory growing a tree: use fewer rounds or a smaller max_depth")
                 : SC_OK;
}

static void node_leaf(gbdt_tree *t, int32_t id, float v) {
  t->nodes[id].left = t->nodes[id].right = -1;
  t->nodes[id].cond = v;
  t->nodes[id].base_weight = v;
}

/* The leaves a level made, applied together (one parallel region). */
typedef struct {
  int n;
  int64_t *begin, *end, *vq;
  float *v;
} leaf_batch;

static sc_status batch_init(leaf_batch *lb, int cap) {
  memset(lb, 0, sizeof *lb);
  SC_TRY(sc_alloc(&lb->begin, (size_t)(cap + 1) * 3 * sizeof *lb->begin));
  lb->end = lb->begin + cap + 1;
  lb->vq = lb->end + cap + 1;
  return sc_alloc(&lb->v, (size_t)(cap + 1) * sizeof *lb->v);
}

static void batch_free(leaf_batch *lb) {
  free(lb->begin);
  free(lb->v);
  memset(lb, 0, sizeof *lb);
}

/* A node becomes a leaf of value v: its rows will take v; with fixed-point
 * gradients, they and the next root's gradient sums (from the node's
 * histogram) move by round(v x scale) too. */
static void leaf_add(grow_ctx *c, leaf_batch *lb, const open_node *o, float v) {
  int64_t vq = 0;
  if (c->incremental) {
    vq = gbdt_quantize_one((double)v * c->gp.gscale);
    gbdt_hist_leaf_delta(o->hist, c->m->hoff[c->m->nfeat], vq, c->hconst, c->dg);
  }
  lb->begin[lb->n] = o->begin;
  lb->end[lb->n] = o->end;
  lb->v[lb->n] = v;
  lb->vq[lb->n++] = vq;
}

static void batch_apply(grow_ctx *c, leaf_batch *lb) {
  if (lb->n > 0)
    PHASE(c, FC_PH_LEAF, gbdt_add_leaves(c->pos, lb->begin, lb->end, lb->v, lb->vq, lb->n,
                                         c->incremental ? NULL : c->margin, c->incremental ? c->gq : NULL));
  lb->n = 0;
}

static sc_status tree_grow(grow_ctx *c, int64_t nrows, gbdt_tree *t) {
  const gbdt_matrix *m = c->m;
  const size_t width = 2 * (size_t)m->hoff[m->nfeat];
  const int max_depth = c->p->max_depth;
  sc_status s = SC_OK;
  memset(t, 0, sizeof *t);
  int64_t *buf = NULL;
  open_node *cur = NULL, *next = NULL;
  gbdt_split *sp = NULL;
  int64_t *arr = NULL;
  SC_TRY(pool_get(c->pool, 0, 0, width, &buf));
  int64_t b0 = 0, e0 = nrows;
  if (c->incremental && c->have_root) {
    memcpy(buf, c->root, width * sizeof *buf); /* last tree's root plus its leaves' changes */
    if (getenv("SEGCAST_GBDT_CHECK_ROOT")) { /* test-only: the update equals a full build */
      int64_t *full = NULL;
      SC_TRY(sc_alloc(&full, width * sizeof *full));
      gbdt_hist_build(m, c->pos, &b0, &e0, 1, c->gq, c->hq, c->hconst, full, c->pool->scratch, NULL);
      comm_sum_i64(full, width);
      int same = !memcmp(full, buf, width * sizeof *buf);
      free(full);
      if (!same) return sc_fail(SC_EINTERNAL, "forecast: the updated root histogram differs from a full build");
    }
  } else {
    PHASE(c, FC_PH_HIST,
          gbdt_hist_build(m, c->pos, &b0, &e0, 1, c->gq, c->hq, c->hconst, buf, c->pool->scratch, c->gsrc));
    *c->hist_rows += nrows;
    PHASE(c, FC_PH_REDUCE, comm_sum_i64(buf, width));
    if (c->incremental) {
      memcpy(c->root, buf, width * sizeof *buf);
      c->have_root = 1;
    }
  }
  int64_t G = 0, H = 0;
  for (int32_t k = 0; k < m->hoff[1]; k++) {
    G += buf[2 * k];
    H += buf[2 * k + 1];
  }
  int32_t root;
  s = node_push(t, -1, H, c, &root);
  if (!s) s = sc_alloc(&cur, sizeof *cur);
  if (s) return s;
  cur[0] = (open_node){root, 0, nrows, G, H, buf};
  int ncur = 1;
  for (int depth = 0; ncur > 0 && !s; depth++) {
    leaf_batch lb;
    s = batch_init(&lb, ncur);
    if (s) break;
    if (depth == max_depth) {
      for (int k = 0; k < ncur; k++) {
        float v = leaf_value(c, cur[k].G, cur[k].H);
        node_leaf(t, cur[k].id, v);
        leaf_add(c, &lb, &cur[k], v);
      }
      batch_apply(c, &lb);
      batch_free(&lb);
      break;
    }
    s = sc_alloc(&sp, (size_t)ncur * sizeof *sp);
    if (s) {
      batch_free(&lb);
      break;
    }
    double t_split = phase_clock();
    /* a few thousand slots per node: cheaper alone than waking the threads */
    for (int k = 0; k < ncur; k++) gbdt_split_find(m, cur[k].hist, cur[k].G, cur[k].H, c->use_feat, &c->gp, &sp[k]);
    c->phase[FC_PH_SPLIT] += phase_clock() - t_split;
    int nsplit = 0;
    for (int k = 0; k < ncur; k++) nsplit += sp[k].feat >= 0;
    /* arrays for the split nodes: begin, end, feat, bin, dleft, nleft */
    s = sc_alloc(&arr, (size_t)(nsplit + 1) * 6 * sizeof *arr);
    if (!s && nsplit > 0) s = sc_alloc(&next, (size_t)nsplit * 2 * sizeof *next);
    if (s) {
      batch_free(&lb);
      break;
    }
    int64_t *sb = arr, *se = arr + nsplit, *snl = arr + 2 * nsplit;
    int32_t *sf = (int32_t *)(arr + 3 * nsplit), *sbin = sf + nsplit;
    uint8_t *sdl = (uint8_t *)(arr + 5 * nsplit);
    int j = 0;
    for (int k = 0; k < ncur && !s; k++) {
      open_node *o = &cur[k];
      if (sp[k].feat < 0) {
        float v = leaf_value(c, o->G, o->H);
        node_leaf(t, o->id, v);
        leaf_add(c, &lb, o, v);
        continue;
      }
      int32_t f = sp[k].feat, l, r;
      int64_t gl = sp[k].gl, hl = sp[k].hl;
      s = node_push(t, o->id, hl, c, &l);
      if (!s) s = node_push(t, o->id, o->H - hl, c, &r);
      if (s) break;
      gbdt_node *nd = &t->nodes[o->id];
      nd->left = l;
      nd->right = r;
      nd->feat = f;
      nd->bin = sp[k].bin;
      nd->default_left = sp[k].default_left;
      nd->cond = c->cuts[c->cut_off[f] + sp[k].bin];
      nd->loss_chg = (float)sp[k].loss_chg;
      nd->base_weight = (float)gbdt_weight((double)o->G / c->gp.gscale, (double)o->H / c->gp.hscale, &c->gp);
      c->gain_total[f] += sp[k].loss_chg;
      sb[j] = o->begin;
      se[j] = o->end;
      sf[j] = f;
      sbin[j] = sp[k].bin;
      sdl[j] = sp[k].default_left;
      next[2 * j] = (open_node){l, 0, 0, gl, hl, NULL};
      next[2 * j + 1] = (open_node){r, 0, 0, o->G - gl, o->H - hl, NULL};
      j++;
    }
    batch_apply(c, &lb); /* before partitioning moves the rows */
    batch_free(&lb);
    if (s) break;
    if (depth + 1 == max_depth && c->incremental && nsplit > 0) {
      /* children are leaves: one pass moves their rows' gradients and
       * gives the next root's change from the smaller children's slot
       * counts (gbdt_last_level), instead of partitioning, histograms of
       * 2 x nsplit nodes and an Allreduce of nsplit of them */
      const int64_t slots = m->hoff[m->nfeat];
      int64_t *vq = NULL, *delta = NULL;
      uint8_t *sright = NULL;
      s = sc_alloc(&vq, (size_t)(2 * nsplit + 1) * sizeof *vq);
      if (!s) s = sc_alloc(&delta, (size_t)(slots + 1) * sizeof *delta);
      if (!s) s = sc_alloc(&sright, (size_t)nsplit + 1);
      if (!s) {
        for (int q = 0; q < nsplit; q++) {
          float vl = leaf_value(c, next[2 * q].G, next[2 * q].H), vr = leaf_value(c, next[2 * q + 1].G, next[2 * q + 1].H);
          node_leaf(t, next[2 * q].id, vl);
          node_leaf(t, next[2 * q + 1].id, vr);
          vq[q] = gbdt_quantize_one((double)vl * c->gp.gscale);
          vq[nsplit + q] = gbdt_quantize_one((double)vr * c->gp.gscale);
          sright[q] = next[2 * q + 1].H < next[2 * q].H; /* the rule of the smaller child below */
        }
        PHASE(c, FC_PH_LEAF, gbdt_last_level(m, c->pos, sb, se, sf, sbin, sdl, vq, vq + nsplit, sright, nsplit, c->gq,
                                             delta, c->pool->scratch));
        PHASE(c, FC_PH_REDUCE, comm_sum_i64(delta, (size_t)slots));
        for (int64_t jj = 0; jj < slots; jj++) c->dg[jj] += delta[jj];
        int q = 0;
        for (int k = 0; k < ncur; k++) {
          if (sp[k].feat < 0) continue;
          /* the sibling's value on every row of the parent */
          gbdt_hist_leaf_delta(cur[k].hist, slots, sright[q] ? vq[q] : vq[nsplit + q], c->hconst, c->dg);
          q++;
        }
      }
      free(vq);
      free(delta);
      free(sright);
      break;
    }
    if (depth + 1 == max_depth && !c->incremental) {
      /* children are leaves: add their values without moving rows (with
       * fixed-point gradients they need histograms: they go the usual way) */
      float *vl = NULL;
      s = sc_alloc(&vl, (size_t)(2 * nsplit + 1) * sizeof *vl);
      if (s) break;
      float *vr = vl + nsplit;
      for (int q = 0; q < nsplit; q++) {
        vl[q] = leaf_value(c, next[2 * q].G, next[2 * q].H);
        vr[q] = leaf_value(c, next[2 * q + 1].G, next[2 * q + 1].H);
        node_leaf(t, next[2 * q].id, vl[q]);
        node_leaf(t, next[2 * q + 1].id, vr[q]);
      }
      PHASE(c, FC_PH_LEAF, gbdt_split_add(m, c->pos, sb, se, sf, sbin, sdl, vl, vr, nsplit, c->margin));
      free(vl);
      break;
    }
    if (nsplit > 0) {
      PHASE(c, FC_PH_PARTITION, gbdt_partition(m, c->pos, c->pos2, sb, se, sf, sbin, sdl, nsplit, snl));
      int32_t *swap = c->pos;
      c->pos = c->pos2;
      c->pos2 = swap;
      /* the smaller child (by global hessian) is built, the other derived */
      int64_t *bb = NULL, *be = NULL;
      s = sc_alloc(&bb, (size_t)nsplit * 2 * sizeof *bb);
      int64_t *small = NULL, *sib = NULL;
      int pair = (depth + 1) & 1;
      if (!s) s = pool_get(c->pool, pair, 0, (size_t)nsplit * width, &small);
      if (!s) s = pool_get(c->pool, pair, 1, (size_t)nsplit * width, &sib);
      if (s) {
        free(bb);
        break;
      }
      be = bb + nsplit;
      for (int q = 0; q < nsplit; q++) {
        next[2 * q].begin = sb[q];
        next[2 * q].end = sb[q] + snl[q];
        next[2 * q + 1].begin = sb[q] + snl[q];
        next[2 * q + 1].end = se[q];
        int right_small = next[2 * q + 1].H < next[2 * q].H;
        open_node *sm = &next[2 * q + right_small];
        bb[q] = sm->begin;
        be[q] = sm->end;
      }
      PHASE(c, FC_PH_HIST,
            gbdt_hist_build(m, c->pos, bb, be, nsplit, c->gq, c->hq, c->hconst, small, c->pool->scratch, NULL));
      for (int q = 0; q < nsplit; q++) *c->hist_rows += be[q] - bb[q];
      PHASE(c, FC_PH_REDUCE, comm_sum_i64(small, (size_t)nsplit * width));
      int q = 0;
      for (int k = 0; k < ncur; k++) {
        if (sp[k].feat < 0) continue;
        int right_small = next[2 * q + 1].H < next[2 * q].H;
        open_node *sm = &next[2 * q + right_small], *ot = &next[2 * q + !right_small];
        sm->hist = small + (size_t)q * width;
        ot->hist = sib + (size_t)q * width;
        gbdt_hist_subtract(cur[k].hist, sm->hist, ot->hist, (int64_t)(width / 2));
        q++;
      }
      free(bb);
    }
    free(cur);
    cur = next;
    next = NULL;
    ncur = 2 * nsplit;
    free(sp);
    sp = NULL;
    free(arr);
    arr = NULL;
  }
  free(cur);
  free(next);
  free(sp);
  free(arr);
  return s;
}

/* ---- checkpoint and restart of boosting --------------------------------
 *
 * A step is one boosting round. After every round the loop asks
 * checkpoint_due; when due it saves, replicated on every rank:
 *   progress        [rounds done, best round, finished, nfeat, ntrees]
 *   bins.nbins, bins.has_missing, bins.cut_off (i64), bins.cuts (f64)
 *   base_score, best_score (f64, one value each)
 *   trees.offsets   first node of each tree (rounds done + 1, i64)
 *   trees.links     nodes x 6: left, right, parent, feat, bin, default_left
 *   trees.values    nodes x 4: cond, loss_chg, sum_hess, base_weight
 *   valid_rmse      one per round done; tree_gain: rounds done x nfeat
 * Margins are not saved (they are per row, not replicated): on resume every
 * saved tree adds its leaf to every row through the bin codes, one float
 * addition per row and tree in round order, which is exactly what training
 * did (a trained row's leaf value is added once per tree, by the leaf or
 * split kernels, and the walk through the same codes reaches that leaf).
 * The key is the configuration key mixed with a data key of every demand
 * row's (row key, set, label, features). */

/// Boosting's checkpoint.
typedef struct {
  sc_run *run;
  checkpoint_state st;
  int64_t test_round;  ///< SEGCAST_TEST_SIGNAL_AT: round to raise SIGUSR1 after (-1: none, -2: at the end)
  int test_rank;
} fc_ck;

/* SEGCAST_TEST_SIGNAL_AT=forecast:<round>[:<rank>] or forecast:done[:<rank>]
 * (test-only): rank <rank> (default 0) raises SIGUSR1 just before the
 * checkpoint_due after that round (or before checkpoint_done), so a stop at
 * an exact round is reproducible. Other stages' values are left to them. */
static sc_status ck_test_signal(fc_ck *ck) {
  return checkpoint_test_signal("forecast", "round", &ck->test_round, &ck->test_rank);
}

static void ck_maybe_raise(const fc_ck *ck, int64_t round) {
  if (ck->test_round == round && comm_rank() == ck->test_rank) checkpoint_test_raise();
}

/* The key: configuration x (row key, set, label, features) of every demand
 * row (collective). */
static sc_status ck_key(const sc_run *run, const fc_data *d, uint64_t *key) {
  int64_t *h = NULL;
  SC_TRY(comm_agree(sc_alloc(&h, sizeof(int64_t) * (size_t)(d->n + 1))));
  for (int64_t r = 0; r < d->n; r++) {
    uint64_t v = sc_mix64(d->key[r] ^ ((uint64_t)d->set[r] << 61)), bits;
    memcpy(&bits, &d->y[r], sizeof bits);
    v = sc_mix64(v ^ bits);
    for (int f = 0; f < d->nfeat; f++) {
      memcpy(&bits, &d->x[f][r], sizeof bits);
      v = sc_mix64(v ^ bits);
    }
    h[r] = (int64_t)v;
  }
  uint64_t data = checkpoint_data_key(h, d->n);
  free(h);
  *key = checkpoint_key_mix(checkpoint_config_key(run), data);
  return SC_OK;
}

/* Refills the state from the booster (finished: no round follows). */
static sc_status ck_fill(fc_ck *ck, const fc_booster *b, int finished) {
  checkpoint_state *st = &ck->st;
  const int F = b->nfeat, R = b->rounds_done;
  int64_t nodes = 0, ncuts = b->cut_off[F];
  for (int t = 0; t < R; t++) nodes += b->trees[t].n;
  int64_t ni = nodes * 6 > R + 1 ? nodes * 6 : R + 1;
  if (ni < F + 1) ni = F + 1;
  int64_t nf = nodes * 4 > ncuts ? nodes * 4 : ncuts;
  int64_t *iv = NULL;
  double *fv = NULL;
  sc_status s = sc_alloc(&iv, sizeof(int64_t) * (size_t)(ni + 1));
  if (!s) s = sc_alloc(&fv, sizeof(double) * (size_t)(nf + 1));
  if (!s) {
    int64_t pr[5] = {R, b->best_round, finished, F, b->ntrees};
    s = checkpoint_put_i64(st, "progress", pr, 5);
  }
  for (int k = 0; !s && k < 3; k++) {
    for (int f = 0; f < F; f++) iv[f] = k == 0 ? b->nbins[f] : k == 1 ? b->has_missing[f] : b->cut_off[f];
    iv[F] = b->cut_off[F];
    s = checkpoint_put_i64(st, k == 0 ? "bins.nbins" : k == 1 ? "bins.has_missing" : "bins.cut_off", iv,
                           k == 2 ? F + 1 : F);
  }
  if (!s) {
    for (int64_t i = 0; i < ncuts; i++) fv[i] = b->cuts[i];
    s = checkpoint_put_f64(st, "bins.cuts", fv, ncuts, 1);
  }
  if (!s) {
    double v = b->base_score;
    s = checkpoint_put_f64(st, "base_score", &v, 1, 1);
  }
  if (!s) s = checkpoint_put_f64(st, "best_score", &b->best_score, 1, 1);
  if (!s) {
    iv[0] = 0;
    for (int t = 0; t < R; t++) iv[t + 1] = iv[t] + b->trees[t].n;
    s = checkpoint_put_i64(st, "trees.offsets", iv, R + 1);
  }
  if (!s) {
    int64_t j = 0;
    for (int t = 0; t < R; t++)
      for (int32_t k = 0; k < b->trees[t].n; k++, j++) {
        const gbdt_node *nd = &b->trees[t].nodes[k];
        int64_t *o = iv + 6 * j;
        o[0] = nd->left;
        o[1] = nd->right;
        o[2] = nd->parent;
        o[3] = nd->feat;
        o[4] = nd->bin;
        o[5] = nd->default_left;
        double *q = fv + 4 * j;
        q[0] = nd->cond;
        q[1] = nd->loss_chg;
        q[2] = nd->sum_hess;
        q[3] = nd->base_weight;
      }
    s = checkpoint_put_i64(st, "trees.links", iv, nodes * 6);
    if (!s) s = checkpoint_put_f64(st, "trees.values", fv, nodes, 4);
  }
  if (!s) s = checkpoint_put_f64(st, "valid_rmse", b->valid_rmse, R, 1);
  if (!s) s = checkpoint_put_f64(st, "tree_gain", b->tree_gain, R, F);
  free(iv);
  free(fv);
  return comm_agree(s);
}

static sc_status ck_bad(const fc_ck *ck) {
  return sc_fail(SC_ESTORE, "checkpoint %s: the forecast state is inconsistent; delete the file to start over",
                 ck->run->checkpoint_path);
}

/* Restores the bin cuts and base score (before the codes are built). */
static sc_status ck_restore_bins(const fc_ck *ck, const fc_params *p, fc_booster *b) {
  const checkpoint_state *st = &ck->st;
  const int F = b->nfeat;
  const int64_t *pr, *nb, *hm, *co;
  const double *cuts, *base;
  int64_t n, n1, n2, n3, rows, cols, rc, cc;
  sc_status s = checkpoint_get_i64(st, "progress", &pr, &n);
  if (!s) s = checkpoint_get_i64(st, "bins.nbins", &nb, &n1);
  if (!s) s = checkpoint_get_i64(st, "bins.has_missing", &hm, &n2);
  if (!s) s = checkpoint_get_i64(st, "bins.cut_off", &co, &n3);
  if (!s) s = checkpoint_get_f64(st, "bins.cuts", &cuts, &rows, &cols);
  if (!s) s = checkpoint_get_f64(st, "base_score", &base, &rc, &cc);
  if (s) return s;
  if (n != 5 || pr[3] != F || pr[0] < 0 || pr[0] > p->rounds || n1 != F || n2 != F || n3 != F + 1 ||
      co[F] != rows || rc != 1)
    return ck_bad(ck);
  s = sc_calloc(&b->nbins, (size_t)F, sizeof *b->nbins);
  if (!s) s = sc_calloc(&b->has_missing, (size_t)F, sizeof *b->has_missing);
  if (!s) s = sc_calloc(&b->cut_off, (size_t)F + 1, sizeof *b->cut_off);
  if (!s) s = sc_alloc(&b->cuts, (size_t)(rows + 1) * sizeof *b->cuts);
  if (s) return s;
  for (int f = 0; f < F; f++) {
    b->nbins[f] = (int32_t)nb[f];
    b->has_missing[f] = (uint8_t)hm[f];
    b->cut_off[f] = (int32_t)co[f];
    if (co[f] < 0 || nb[f] < 0 || co[f] + nb[f] > rows) return ck_bad(ck);
  }
  b->cut_off[F] = (int32_t)co[F];
  for (int64_t i = 0; i < rows; i++) b->cuts[i] = (float)cuts[i];
  b->base_score = (float)base[0];
  return SC_OK;
}

/* Restores the trees and the early-stopping record (into arrays of
 * p->rounds + 1) and sets *finished. */
static sc_status ck_restore_trees(const fc_ck *ck, fc_booster *b, int *finished) {
  const checkpoint_state *st = &ck->st;
  const int F = b->nfeat;
  const int64_t *pr, *off, *links;
  const double *vals, *best, *vr, *tg;
  int64_t n, no, nl, rv, cv, r1, c1, r2, c2, r3, c3;
  sc_status s = checkpoint_get_i64(st, "progress", &pr, &n);
  if (!s) s = checkpoint_get_i64(st, "trees.offsets", &off, &no);
  if (!s) s = checkpoint_get_i64(st, "trees.links", &links, &nl);
  if (!s) s = checkpoint_get_f64(st, "trees.values", &vals, &rv, &cv);
  if (!s) s = checkpoint_get_f64(st, "best_score", &best, &r1, &c1);
  if (!s) s = checkpoint_get_f64(st, "valid_rmse", &vr, &r2, &c2);
  if (!s) s = checkpoint_get_f64(st, "tree_gain", &tg, &r3, &c3);
  if (s) return s;
  const int64_t R = pr[0];
  if (no != R + 1 || off[0] != 0 || off[R] != rv || nl != 6 * rv || cv != 4 || r1 != 1 || r2 != R || r3 != R ||
      (R > 0 && c3 != F) || pr[1] < -1 || pr[1] >= (R > 0 ? R : 1) || pr[4] < 0 || pr[4] > R)
    return ck_bad(ck);
  for (int64_t t = 0; t < R; t++) {
    int64_t cnt = off[t + 1] - off[t];
    if (cnt < 1 || cnt > INT32_MAX) return ck_bad(ck);
    for (int64_t j = off[t]; j < off[t + 1]; j++) {
      const int64_t *l = links + 6 * j;
      if (l[0] >= cnt || l[1] >= cnt || (l[0] >= 0 && (l[1] < 0 || l[3] < 0 || l[3] >= F))) return ck_bad(ck);
    }
  }
  for (int64_t t = 0; t < R; t++) {
    gbdt_tree *tr = &b->trees[t];
    int32_t cnt = (int32_t)(off[t + 1] - off[t]);
    SC_TRY(sc_alloc(&tr->nodes, (size_t)cnt * sizeof *tr->nodes));
    tr->n = tr->cap = cnt;
    b->rounds_done = (int)t + 1; /* so fc_booster_free releases what is there */
    for (int32_t k = 0; k < cnt; k++) {
      const int64_t *l = links + 6 * (off[t] + k);
      const double *q = vals + 4 * (off[t] + k);
      tr->nodes[k] = (gbdt_node){(int32_t)l[0], (int32_t)l[1], (int32_t)l[2], (int32_t)l[3], (int32_t)l[4],
                                 (uint8_t)l[5], (float)q[0], (float)q[1], (float)q[2], (float)q[3]};
    }
  }
  b->rounds_done = (int)R;
  b->best_round = (int)pr[1];
  b->best_score = best[0];
  b->ntrees = (int)pr[4];
  memcpy(b->valid_rmse, vr, (size_t)R * sizeof *vr);
  memcpy(b->tree_gain, tg, (size_t)R * (size_t)F * sizeof *tg);
  *finished = pr[2] != 0;
  return SC_OK;
}

/* ---- boosting -------------------------------------------------------- */

/* Training, checkpointed when run is not NULL (collective). */
static sc_status train(sc_run *run, const fc_data *d, const fc_params *p, fc_booster *b) {
  memset(b, 0, sizeof *b);
  const double t_setup = phase_clock();
  const int F = d->nfeat;
  if (F > 64) return comm_agree(sc_fail(SC_EINTERNAL, "forecast: at most 64 features"));
  if (d->n > INT32_MAX) return comm_agree(sc_fail(SC_EINPUT, "forecast: %lld demand rows on one rank, above 2^31: run on more ranks", (long long)d->n));
  b->nfeat = F;
  b->objective = p->objective;
  b->seed = p->seed;
  b->best_round = -1;
  b->best_score = INFINITY;

  int32_t *train = NULL, *valid = NULL;
  int64_t ntrain = 0, nvalid = 0;
  sc_status s = sc_alloc(&train, (size_t)(d->n + 1) * sizeof *train);
  if (!s) s = sc_alloc(&valid, (size_t)(d->n + 1) * sizeof *valid);
  if (!s) {
    for (int64_t r = 0; r < d->n; r++) {
      if (d->set[r] == FC_TRAIN) train[ntrain++] = (int32_t)r;
      if (d->set[r] == FC_VALID) valid[nvalid++] = (int32_t)r;
    }
  }
  s = comm_agree(s);
  int64_t ntrain_g = comm_sum1_i64(ntrain), nvalid_g = comm_sum1_i64(nvalid);
  if (!s && ntrain_g == 0)
    s = sc_fail(SC_EINPUT, "forecast: no training rows: the data's date range is not longer than "
                           "forecast.test_days + forecast.valid_days; lower them or use more data");
  /* base score: the training mean, an exact sum (labels are counts) */
  double *yt = NULL;
  if (!s) s = sc_alloc(&yt, (size_t)(ntrain + 1) * sizeof *yt);
  s = comm_agree(s);
  if (!s) {
    for (int64_t i = 0; i < ntrain; i++) yt[i] = d->y[train[i]];
    double mean = fc_sum_exact(yt, ntrain) / (double)ntrain_g;
    if (p->objective == GBDT_POISSON && !(mean > 1e-6)) mean = 1e-6;
    b->base_score = (float)mean;
  }
  free(yt);
  /* the checkpoint: a resumed state brings its cuts, trees and record */
  fc_ck ck;
  memset(&ck, 0, sizeof ck);
  ck.run = run;
  ck.test_round = -1;
  int found = 0, finished = 0;
  if (!s && run) {
    uint64_t key = 0;
    s = comm_agree(ck_test_signal(&ck));
    if (!s) s = ck_key(run, d, &key);
    if (!s) s = checkpoint_resume(run, "forecast", key, &ck.st, &found);
    if (!s && found) s = comm_agree(ck_restore_bins(&ck, p, b));
  }
  if (!s && !found) s = bins_build(d, p, train, ntrain, ntrain_g, b);

  /* codes, margins, labels and scratch */
  int code_max = 0;
  int32_t *hoff = NULL;
  uint8_t *c8 = NULL, *k8 = NULL;
  uint16_t *c16 = NULL, *k16 = NULL;
  float *margin = NULL, *label = NULL;
  int64_t *gq = NULL, *root_hist = NULL, *dg = NULL;
  int32_t *hq = NULL, *pos = NULL, *pos2 = NULL, *rest = NULL;
  hist_pool pool;
  memset(&pool, 0, sizeof pool);
  size_t n1 = (size_t)d->n + 1;
  if (!s) {
    s = sc_alloc(&hoff, (size_t)(F + 1) * sizeof *hoff);
    if (!s) {
      hoff[0] = 0;
      for (int f = 0; f < F; f++) {
        int codes = b->nbins[f] + b->has_missing[f];
        code_max = codes > code_max ? codes : code_max;
        hoff[f + 1] = hoff[f] + codes;
      }
    }
    if (!s) s = code_max <= 256 ? sc_alloc(&c8, n1 * (size_t)F) : sc_alloc(&c16, n1 * (size_t)F * 2);
    if (!s) s = code_max <= 256 ? sc_alloc(&k8, n1 * (size_t)F) : sc_alloc(&k16, n1 * (size_t)F * 2);
    if (!s) s = sc_alloc(&margin, n1 * sizeof *margin);
    if (!s) s = sc_alloc(&label, n1 * sizeof *label);
    if (!s) s = sc_alloc(&gq, n1 * sizeof *gq);
    if (!s && p->objective != GBDT_SQUARED) s = sc_alloc(&hq, n1 * sizeof *hq);
    if (!s) s = sc_alloc(&pos, n1 * sizeof *pos);
    if (!s) s = sc_alloc(&pos2, n1 * sizeof *pos2);
    if (!s) s = sc_alloc(&rest, n1 * sizeof *rest);
    if (!s) s = sc_calloc(&b->trees, (size_t)p->rounds + 1, sizeof *b->trees);
    if (!s) s = sc_calloc(&b->valid_rmse, (size_t)p->rounds + 1, sizeof *b->valid_rmse);
    if (!s) s = sc_calloc(&b->tree_gain, ((size_t)p->rounds + 1) * (size_t)F, sizeof *b->tree_gain);
  }
  s = comm_agree(s);
  if (!s) {
    codes_build(d, b, c8, c16, k8, k16);
    float m0 = fc_base_margin(b);
    for (int64_t r = 0; r < d->n; r++) {
      margin[r] = m0;
      label[r] = (float)d->y[r];
    }
  }
  gbdt_matrix mat = {d->n, F, c8, c16, k8, k16, b->nbins, hoff};
  if (!s) s = comm_agree(sc_alloc(&pool.scratch, gbdt_hist_scratch_size(&mat) * sizeof *pool.scratch));
  const size_t width = hoff ? 2 * (size_t)hoff[F] : 0; /* no hoff: an earlier step failed */
  if (!s) s = comm_agree(sc_alloc(&root_hist, width * sizeof *root_hist));
  if (!s) s = comm_agree(sc_alloc(&dg, (width / 2 + 1) * sizeof *dg));
  uint8_t use_feat[64];
  /* validation margins are only followed when they decide when to stop */
  const int track_valid = p->early_stopping_rounds > 0 && nvalid_g > 0;
  double *verr = NULL;
  if (!s) s = comm_agree(sc_alloc(&verr, (size_t)(nvalid + 1) * sizeof *verr));
  /* bounds for the squared-error scale: |margin| <= mbound, |label| <= ymax */
  double mbound = fabs((double)fc_base_margin(b)), ymax = 0.0;
  if (!s && found) {
    /* resumed: the saved trees, added to every row in round order as
     * training added them (the same float additions), and the bound */
    s = comm_agree(ck_restore_trees(&ck, b, &finished));
    for (int64_t r = 0; !s && r < d->n; r++) rest[r] = (int32_t)r;
    for (int t = 0; !s && t < b->rounds_done; t++) {
      gbdt_tree_add_codes(&b->trees[t], &mat, rest, d->n, margin);
      double leaf_max = 0.0;
      for (int32_t k = 0; k < b->trees[t].n; k++)
        if (b->trees[t].nodes[k].left < 0) leaf_max = fmax(leaf_max, fabs((double)b->trees[t].nodes[k].cond));
      mbound += leaf_max;
    }
    if (!s)
      sc_say("forecast: resumed from the checkpoint after %d rounds%s", b->rounds_done,
             finished ? " (boosting was finished)" : "");
  }
  for (int64_t i = 0; !s && i < ntrain; i++) ymax = fmax(ymax, fabs(d->y[train[i]]));
  ymax = comm_max1_double(ymax);
  /* Fixed-point gradients for squared error without row sampling: one
   * scale for all trees, with room for |margin - label| up to four times
   * the labels' range and every training row's sum in an int64; the mode
   * ends (for good, on every rank alike) if the margins' bound outgrows it. */
  int incremental = p->objective == GBDT_SQUARED && p->subsample >= 1.0, have_root = 0;
  const double base_abs = fabs((double)fc_base_margin(b));
  double qscale = 1.0, qlimit = 0.0;
  if (incremental) {
    double room = ldexp(1.0, 61) / (double)(ntrain_g > 0 ? ntrain_g : 1);
    qscale = ldexp(1.0, (int)floor(log2(room / (4.0 * (ymax + base_abs) + 1.0))));
    qlimit = room / qscale; /* |margin - label| must stay below this */
  }
  if (!s && incremental) {
    /* the fixed-point gradients of the current margins: base - label, plus
     * every tree so far (resumed), replayed through the codes, while the
     * bound allowed the mode */
    float m0 = fc_base_margin(b);
    for (int64_t i = 0; i < ntrain; i++) gq[train[i]] = gbdt_quantize_one(((double)m0 - (double)label[train[i]]) * qscale);
    double mb = base_abs;
    for (int t = 0; t < b->rounds_done && incremental; t++) {
      if ((mb + ymax) * (1 + 1e-3) >= qlimit) incremental = 0;
      else gbdt_tree_add_codes_fixed(&b->trees[t], &mat, train, ntrain, qscale, gq);
      double leaf_max = 0.0;
      for (int32_t k = 0; k < b->trees[t].n; k++)
        if (b->trees[t].nodes[k].left < 0) leaf_max = fmax(leaf_max, fabs((double)b->trees[t].nodes[k].cond));
      mb += leaf_max;
    }
  }
  sc_progress prog;
  b->phase[FC_PH_SETUP] = phase_clock() - t_setup;
  /* the progress line counts the rounds boosted by this run */
  const int first_round = b->rounds_done;
  const int prog_on = !s && !finished && first_round < p->rounds;
  if (prog_on) progress_start(&prog, "forecast: boosting", p->rounds - first_round, "trees");
  for (int t = b->rounds_done; !s && !finished && t < p->rounds; t++) {
    /* rows of this tree, keyed by (seed, round, row key) */
    int64_t np = 0, nr = 0;
    if (p->subsample >= 1.0) {
      memcpy(pos, train, (size_t)ntrain * sizeof *pos);
      np = ntrain;
    } else {
      uint64_t rkey = sc_mix64(p->seed ^ SALT_ROWS ^ sc_mix64((uint64_t)t));
      for (int64_t i = 0; i < ntrain; i++) {
        int32_t r = train[i];
        if (sc_unit(d->key[r] ^ rkey) < p->subsample) pos[np++] = r;
        else rest[nr++] = r;
      }
    }
    if (track_valid) {
      memcpy(rest + nr, valid, (size_t)nvalid * sizeof *rest);
      nr += nvalid;
    }
    /* features of this tree: the k with the smallest keyed hashes */
    int kf = (int)(p->colsample * F);
    if (kf < 1) kf = 1;
    if (kf > F) kf = F;
    uint64_t fh[64];
    for (int f = 0; f < F; f++) fh[f] = sc_mix64(p->seed ^ SALT_COLS ^ sc_mix64((uint64_t)t * 64 + (uint64_t)f));
    for (int f = 0; f < F; f++) {
      int rank = 0;
      for (int f2 = 0; f2 < F; f2++) rank += fh[f2] < fh[f] || (fh[f2] == fh[f] && f2 < f);
      use_feat[f] = rank < kf;
    }
    /* fixed-point scales: squared error from a bound on |margin - label|
     * that every rank knows (the labels' max and the leaves so far), so no
     * pass and no Allreduce; Poisson from the exact global maxima */
    double mx[2] = {(mbound + ymax) * (1 + 1e-3) + 1e-9, 1.0}, t_grad = phase_clock();
    if (incremental && (mbound + ymax) * (1 + 1e-3) >= qlimit) {
      /* the mode ends: the training rows' float margins, which it leaves
       * alone, are replayed through the trees so far (the same additions) */
      incremental = have_root = 0;
      float m0 = fc_base_margin(b);
      for (int64_t i = 0; i < ntrain; i++) margin[train[i]] = m0;
      for (int k = 0; k < t; k++) gbdt_tree_add_codes(&b->trees[k], &mat, train, ntrain, margin);
    }
    if (p->objective == GBDT_POISSON) {
      gbdt_grad_max(p->objective, pos, np, margin, label, &mx[0], &mx[1]);
      comm_max_double(mx, 2);
    }
    grow_ctx c;
    memset(&c, 0, sizeof c);
    c.m = &mat;
    c.p = p;
    c.gp = (gbdt_param){p->lambda, p->gamma, p->min_child_weight, gbdt_scale_for(mx[0]), gbdt_scale_for(mx[1])};
    if (incremental) c.gp.gscale = qscale;
    gbdt_grad_src gsrc = {margin, label, c.gp.gscale};
    if (incremental) { /* gq already holds the gradients */
    } else if (p->objective == GBDT_SQUARED) {
      c.gsrc = &gsrc; /* made by the root histogram, no pass of their own */
    } else {
      gbdt_grad_quantize(p->objective, pos, np, margin, label, c.gp.gscale, c.gp.hscale, gq, hq);
    }
    c.incremental = incremental;
    c.root = root_hist;
    c.have_root = have_root;
    c.dg = dg;
    if (incremental) memset(dg, 0, (width / 2) * sizeof *dg);
    b->phase[FC_PH_GRAD] += phase_clock() - t_grad;
    c.phase = b->phase;
    c.hist_rows = &b->hist_rows;
    c.pos = pos;
    c.pos2 = pos2;
    c.pool = &pool;
    c.gq = gq;
    c.hq = hq;
    c.hconst = (int32_t)llrint(c.gp.hscale);
    c.use_feat = use_feat;
    c.cuts = b->cuts;
    c.cut_off = b->cut_off;
    c.margin = margin;
    c.gain_total = b->tree_gain + (size_t)t * (size_t)F;
    s = comm_agree(tree_grow(&c, np, &b->trees[t]));
    if (s) break;
    b->rounds_done = t + 1;
    if (incremental) { /* the next root: these gradients, moved by the leaves */
      have_root = c.have_root;
      for (size_t j = 0; j < width / 2; j++) root_hist[2 * j] += dg[j];
    }
    double leaf_max = 0.0;
    for (int32_t k = 0; k < b->trees[t].n; k++)
      if (b->trees[t].nodes[k].left < 0) leaf_max = fmax(leaf_max, fabs((double)b->trees[t].nodes[k].cond));
    mbound += leaf_max;
    double t_held = phase_clock();
    if (nr > 0) gbdt_tree_add_codes(&b->trees[t], &mat, rest, nr, margin);
    /* validation score and early stopping */
    if (track_valid) {
      for (int64_t i = 0; i < nvalid; i++) {
        int32_t r = valid[i];
        double pr = p->objective == GBDT_POISSON ? (double)expf(margin[r]) : (double)margin[r];
        verr[i] = (pr - d->y[r]) * (pr - d->y[r]);
      }
      double rmse = sqrt(fc_sum_exact(verr, nvalid) / (double)nvalid_g);
      b->phase[FC_PH_HELD] += phase_clock() - t_held;
      b->valid_rmse[t] = rmse;
      if (rmse < b->best_score) {
        b->best_score = rmse;
        b->best_round = t;
      } else if (t - b->best_round >= p->early_stopping_rounds) {
        finished = 1;
        break;
      }
    }
    if (prog_on) progress_update(&prog, t + 1 - first_round);
    if (run) {
      ck_maybe_raise(&ck, t + 1);
      if (checkpoint_due(run)) {
        s = ck_fill(&ck, b, 0);
        ck.st.step = t + 1;
        if (!s) s = checkpoint_save(run, &ck.st);
      }
    }
  }
  if (!s) {
    if (prog_on) progress_end(&prog, b->rounds_done - first_round);
    b->ntrees = b->rounds_done;
    if (p->early_stopping_rounds > 0 && b->best_round >= 0) b->ntrees = b->best_round + 1;
  }
  if (!s && run) {
    /* the finished boosting is kept for later saves (a stop after it must
     * not redo it); a signal that came after the last round saves it now */
    s = ck_fill(&ck, b, 1);
    ck.st.step = b->rounds_done;
    ck_maybe_raise(&ck, -2);
    if (!s) s = checkpoint_done(run, &ck.st);
  }
  checkpoint_state_free(&ck.st);
  free(verr);
  free(train);
  free(valid);
  pool_free(&pool);
  free(hoff);
  free(c8);
  free(c16);
  free(k8);
  free(k16);
  free(margin);
  free(label);
  free(gq);
  free(root_hist);
  free(dg);
  free(hq);
  free(pos);
  free(pos2);
  free(rest);
  return s;
}

sc_status fc_train(const fc_data *d, const fc_params *p, fc_booster *b) { return train(NULL, d, p, b); }

sc_status fc_train_checkpointed(sc_run *run, const fc_data *d, const fc_params *p, fc_booster *b) {
  return train(run, d, p, b);
}
