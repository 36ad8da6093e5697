/* gbdt.c: histogram building, split finding, row partitioning and tree
 * walking for the boosted trees (see gbdt.h for the data layout and why
 * the sums are int64 fixed point).
 *
 * Threads. Histogram building splits the rows of all nodes of a level
 * into one contiguous share per thread; a node wholly inside a share is
 * built straight into the output, the (at most two) nodes cut by a
 * share's ends are built privately and added afterwards. Integer sums make
 * the result independent of that split. Partitioning works on blocks of
 * rows: one pass decides and counts, a prefix sum gives each block its
 * place, a second pass scatters; both passes are parallel over blocks.
 */
#include "gbdt.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

double gbdt_weight(double G, double H, const gbdt_param *p) {
  if (H < p->min_child_weight || H <= 0.0) return 0.0;
  return -G / (H + p->lambda);
}

double gbdt_gain(double G, double H, const gbdt_param *p) {
  if (H < p->min_child_weight) return 0.0;
  return G * G / (H + p->lambda);
}

double gbdt_scale_for(double max_abs) {
  if (!(max_abs > 0.0) || !isfinite(max_abs)) return 1.0;
  int e;
  frexp(max_abs, &e); /* max_abs < 2^e */
  return ldexp(1.0, 30 - e);
}

void gbdt_gradients(int objective, const int32_t *rows, int64_t n, const float *margin, const float *label,
                    double *g, double *h, double *gmax, double *hmax) {
  double gm = 0.0, hm = 0.0;
#pragma omp parallel for schedule(static) reduction(max : gm, hm)
  for (int64_t i = 0; i < n; i++) {
    int32_t r = rows[i];
    double m = margin[r], y = label[r], gi, hi;
    if (objective == GBDT_POISSON) {
      gi = exp(m) - y;
      hi = exp(m + GBDT_POISSON_MAX_DELTA);
    } else {
      gi = m - y;
      hi = 1.0;
    }
    g[r] = gi;
    h[r] = hi;
    gm = fmax(gm, fabs(gi));
    hm = fmax(hm, hi);
  }
  *gmax = gm;
  *hmax = hm;
}

void gbdt_quantize(const int32_t *rows, int64_t n, const double *v, double scale, int32_t *q) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) q[rows[i]] = (int32_t)llrint(v[rows[i]] * scale);
}

/* ---- histograms ------------------------------------------------------ */

/* Adds rows pos[a..b) into one node's histogram h (slots x 2). */
#define HIST_ROWS(NAME, CODE_T)                                                                                    \
  static void NAME(const CODE_T *codes, int nf, const int32_t *hoff, const int32_t *pos, int64_t a, int64_t b,   \
                   const int32_t *gq, const int32_t *hq, int32_t hconst, int64_t *h) {                           \
    for (int64_t i = a; i < b; i++) {                                                                              \
      int32_t r = pos[i];                                                                                          \
      const CODE_T *c = codes + (size_t)r * (size_t)nf;                                                            \
      int64_t g = gq[r], hh = hq ? hq[r] : hconst;                                                                 \
      for (int f = 0; f < nf; f++) {                                                                               \
        int64_t *s = h + 2 * (size_t)(hoff[f] + c[f]);                                                             \
        s[0] += g;                                                                                                 \
        s[1] += hh;                                                                                                \
      }                                                                                                            \
    }                                                                                                              \
  }
HIST_ROWS(hist_rows8, uint8_t)
HIST_ROWS(hist_rows16, uint16_t)

static void hist_rows(const gbdt_matrix *m, const int32_t *pos, int64_t a, int64_t b, const int32_t *gq,
                      const int32_t *hq, int32_t hconst, int64_t *h) {
  if (m->codes8) hist_rows8(m->codes8, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h);
  else hist_rows16(m->codes16, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h);
}

void gbdt_hist_build(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end, int nn,
                     const int32_t *gq, const int32_t *hq, int32_t hconst, int64_t *hist) {
  const size_t width = 2 * (size_t)m->hoff[m->nfeat]; /* int64 per node */
  int64_t total = 0;
  for (int k = 0; k < nn; k++) total += end[k] - begin[k];
  int nt = omp_get_max_threads();
  if (total < 20000 || nt == 1) {
    for (int k = 0; k < nn; k++) {
      memset(hist + k * width, 0, width * sizeof *hist);
      hist_rows(m, pos, begin[k], end[k], gq, hq, hconst, hist + k * width);
    }
    return;
  }
  /* Prefix of row counts: node k covers [acc[k], acc[k+1]) of the level. */
  int64_t *acc = malloc(((size_t)nn + 1) * sizeof *acc);
  int64_t *scratch = malloc((size_t)nt * 2 * width * sizeof *scratch);
  if (!acc || !scratch) { /* no memory: fall back to one thread, no scratch needed */
    free(acc);
    free(scratch);
    for (int k = 0; k < nn; k++) {
      memset(hist + k * width, 0, width * sizeof *hist);
      hist_rows(m, pos, begin[k], end[k], gq, hq, hconst, hist + k * width);
    }
    return;
  }
  acc[0] = 0;
  for (int k = 0; k < nn; k++) acc[k + 1] = acc[k] + (end[k] - begin[k]);
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num(), nth = omp_get_num_threads();
    int64_t lo = total * t / nth, hi = total * (t + 1) / nth;
    int npart = 0, part_node[2] = {-1, -1};
    /* empty nodes: nobody's share covers them */
    if (t == 0)
      for (int k = 0; k < nn; k++)
        if (end[k] == begin[k]) memset(hist + k * width, 0, width * sizeof *hist);
    /* first node with rows at or after lo */
    int k = 0;
    while (k < nn && acc[k + 1] <= lo) k++;
    for (; k < nn && acc[k] < hi; k++) {
      if (acc[k + 1] == acc[k]) continue;
      int64_t a = lo > acc[k] ? lo : acc[k], b = hi < acc[k + 1] ? hi : acc[k + 1];
      int64_t *dst;
      if (a == acc[k] && b == acc[k + 1]) {
        dst = hist + k * width;
      } else {
        if (a == acc[k]) memset(hist + k * width, 0, width * sizeof *hist); /* owner of the first row zeroes */
        dst = scratch + ((size_t)t * 2 + (size_t)npart) * width;
        part_node[npart++] = k;
      }
      memset(dst, 0, width * sizeof *dst);
      hist_rows(m, pos, begin[k] + (a - acc[k]), begin[k] + (b - acc[k]), gq, hq, hconst, dst);
    }
#pragma omp barrier
    for (int j = 0; j < npart; j++) {
      const int64_t *src = scratch + ((size_t)t * 2 + (size_t)j) * width;
      int64_t *dst = hist + (size_t)part_node[j] * width;
#pragma omp critical(gbdt_hist_merge)
      for (size_t i = 0; i < width; i++) dst[i] += src[i];
    }
  }
  free(acc);
  free(scratch);
}

void gbdt_hist_subtract(const int64_t *parent, const int64_t *sibling, int64_t *child, int64_t slots) {
  for (int64_t i = 0; i < 2 * slots; i++) child[i] = parent[i] - sibling[i];
}

/* ---- split finding --------------------------------------------------- */

static void split_consider(gbdt_split *best, double loss, int32_t f, int32_t b, uint8_t dl, int64_t gl, int64_t hl) {
  if (loss > best->loss_chg) {
    best->loss_chg = loss;
    best->feat = f;
    best->bin = b;
    best->default_left = dl;
    best->gl = gl;
    best->hl = hl;
  }
}

void gbdt_split_find(const gbdt_matrix *m, const int64_t *hist, int64_t G, int64_t H, const uint8_t *use_feat,
                     const gbdt_param *p, gbdt_split *best) {
  best->loss_chg = 0.0;
  best->feat = -1;
  best->bin = -1;
  best->default_left = 0;
  best->gl = best->hl = 0;
  const double gs = 1.0 / p->gscale, hs = 1.0 / p->hscale, mcw = p->min_child_weight;
  const double root_gain = gbdt_gain((double)G * gs, (double)H * hs, p);
  for (int f = 0; f < m->nfeat; f++) {
    if (use_feat && !use_feat[f]) continue;
    const int nb = m->nbins[f];
    const int64_t *s = hist + 2 * (size_t)m->hoff[f];
    const int has_miss_slot = m->hoff[f + 1] - m->hoff[f] > nb;
    const int64_t gm = has_miss_slot ? s[2 * nb] : 0, hm = has_miss_slot ? s[2 * nb + 1] : 0;
    /* forward: missing goes right */
    int64_t gl = 0, hl = 0;
    for (int b = 0; b < nb - 1; b++) {
      gl += s[2 * b];
      hl += s[2 * b + 1];
      double HL = (double)hl * hs;
      if (HL < mcw) continue;
      double HR = (double)(H - hl) * hs;
      if (HR < mcw) break; /* hessians are >= 0: the right side only shrinks */
      double loss = gbdt_gain((double)gl * gs, HL, p) + gbdt_gain((double)(G - gl) * gs, HR, p) - root_gain;
      split_consider(best, loss, f, b, 0, gl, hl);
    }
    if (gm == 0 && hm == 0) continue;
    /* backward: missing goes left */
    int64_t gr = 0, hr = 0;
    for (int b = nb - 1; b >= 1; b--) {
      gr += s[2 * b];
      hr += s[2 * b + 1];
      double HR = (double)hr * hs;
      if (HR < mcw) continue;
      double HL = (double)(H - hr) * hs;
      if (HL < mcw) break;
      double loss = gbdt_gain((double)(G - gr) * gs, HL, p) + gbdt_gain((double)gr * gs, HR, p) - root_gain;
      split_consider(best, loss, f, b - 1, 1, G - gr, H - hr);
    }
  }
  /* XGBoost's validity rule: a real gain, non-empty children, gamma */
  if (best->feat >= 0 &&
      (best->loss_chg <= 1e-6 || best->hl == 0 || H - best->hl == 0 || best->loss_chg < p->gamma)) {
    best->feat = -1;
    best->loss_chg = 0.0;
  }
}

/* ---- partitioning ----------------------------------------------------- */

static inline int row_goes_left(const gbdt_matrix *m, int32_t r, int32_t f, int32_t bin, uint8_t dl) {
  int c = m->codes8 ? m->codes8[(size_t)r * (size_t)m->nfeat + (size_t)f]
                    : m->codes16[(size_t)r * (size_t)m->nfeat + (size_t)f];
  return c == m->nbins[f] ? dl : c <= bin;
}

#define PART_BLOCK 8192

void gbdt_partition(const gbdt_matrix *m, int32_t *pos, int32_t *tmp, uint8_t *dec, const int64_t *begin,
                    const int64_t *end, const int32_t *feat, const int32_t *bin, const uint8_t *dleft, int nn,
                    int64_t *nleft) {
  /* blocks: (node, start) pairs of at most PART_BLOCK rows */
  int64_t nblk = 0;
  for (int k = 0; k < nn; k++) nblk += (end[k] - begin[k] + PART_BLOCK - 1) / PART_BLOCK;
  int32_t *bnode = malloc(((size_t)nblk + 1) * sizeof *bnode);
  int64_t *bstart = malloc(((size_t)nblk + 1) * sizeof *bstart);
  int64_t *bleft = malloc(((size_t)nblk + 1) * sizeof *bleft);
  if (!bnode || !bstart || !bleft) {
    /* no memory for block bookkeeping: one sequential stable pass per node */
    for (int k = 0; k < nn; k++) {
      int64_t l = begin[k], o = 0;
      for (int64_t i = begin[k]; i < end[k]; i++) {
        if (row_goes_left(m, pos[i], feat[k], bin[k], dleft[k])) pos[l++] = pos[i];
        else tmp[o++] = pos[i];
      }
      memcpy(pos + l, tmp, (size_t)o * sizeof *pos);
      nleft[k] = l - begin[k];
    }
    free(bnode);
    free(bstart);
    free(bleft);
    return;
  }
  int64_t j = 0;
  for (int k = 0; k < nn; k++)
    for (int64_t s = begin[k]; s < end[k]; s += PART_BLOCK) {
      bnode[j] = k;
      bstart[j++] = s;
    }
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t q = 0; q < nblk; q++) {
    int k = bnode[q];
    int64_t s = bstart[q], e = s + PART_BLOCK < end[k] ? s + PART_BLOCK : end[k], cnt = 0;
    int32_t f = feat[k], b = bin[k];
    uint8_t dl = dleft[k];
    for (int64_t i = s; i < e; i++) {
      uint8_t d = (uint8_t)row_goes_left(m, pos[i], f, b, dl);
      dec[i] = d;
      cnt += d;
    }
    bleft[q] = cnt;
  }
  /* per node: left rows of earlier blocks, then the node's right side */
  for (int k = 0; k < nn; k++) nleft[k] = 0;
  for (int64_t q = 0; q < nblk; q++) nleft[bnode[q]] += bleft[q];
  int64_t *lo = malloc(((size_t)nblk + 1) * 2 * sizeof *lo);
  if (!lo) { /* sequential scatter using dec */
    for (int k = 0; k < nn; k++) {
      int64_t l = begin[k], r = begin[k] + nleft[k];
      for (int64_t i = begin[k]; i < end[k]; i++) tmp[dec[i] ? l++ : r++] = pos[i];
      memcpy(pos + begin[k], tmp + begin[k], (size_t)(end[k] - begin[k]) * sizeof *pos);
    }
  } else {
    int64_t *ro = lo + nblk + 1;
    int prev = -1;
    int64_t l = 0, r = 0;
    for (int64_t q = 0; q < nblk; q++) {
      int k = bnode[q];
      if (k != prev) {
        l = begin[k];
        r = begin[k] + nleft[k];
        prev = k;
      }
      int64_t e = bstart[q] + PART_BLOCK < end[k] ? bstart[q] + PART_BLOCK : end[k];
      lo[q] = l;
      ro[q] = r;
      l += bleft[q];
      r += (e - bstart[q]) - bleft[q];
    }
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t q = 0; q < nblk; q++) {
      int k = bnode[q];
      int64_t s = bstart[q], e = s + PART_BLOCK < end[k] ? s + PART_BLOCK : end[k];
      int64_t l2 = lo[q], r2 = ro[q];
      for (int64_t i = s; i < e; i++) {
        if (dec[i]) tmp[l2++] = pos[i];
        else tmp[r2++] = pos[i];
      }
    }
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t q = 0; q < nblk; q++) {
      int k = bnode[q];
      int64_t s = bstart[q], e = s + PART_BLOCK < end[k] ? s + PART_BLOCK : end[k];
      memcpy(pos + s, tmp + s, (size_t)(e - s) * sizeof *pos);
    }
    free(lo);
  }
  free(bnode);
  free(bstart);
  free(bleft);
}

void gbdt_add_leaf(const int32_t *pos, int64_t a, int64_t b, float v, float *margin) {
#pragma omp parallel for schedule(static) if (b - a > 50000)
  for (int64_t i = a; i < b; i++) margin[pos[i]] += v;
}

void gbdt_split_add(const gbdt_matrix *m, const int32_t *pos, int64_t a, int64_t b, int32_t feat, int32_t bin,
                    uint8_t dleft, float vl, float vr, float *margin) {
#pragma omp parallel for schedule(static) if (b - a > 50000)
  for (int64_t i = a; i < b; i++) {
    int32_t r = pos[i];
    margin[r] += row_goes_left(m, r, feat, bin, dleft) ? vl : vr;
  }
}

/* ---- walking trees ----------------------------------------------------- */

void gbdt_tree_add_codes(const gbdt_tree *t, const gbdt_matrix *m, const int32_t *rows, int64_t n, float *margin) {
  const gbdt_node *nd = t->nodes;
#pragma omp parallel for schedule(static) if (n > 20000)
  for (int64_t i = 0; i < n; i++) {
    int32_t r = rows[i], k = 0;
    while (nd[k].left >= 0)
      k = row_goes_left(m, r, nd[k].feat, nd[k].bin, nd[k].default_left) ? nd[k].left : nd[k].right;
    margin[r] += nd[k].cond;
  }
}

float gbdt_tree_leaf_float(const gbdt_tree *t, const float *x) {
  const gbdt_node *nd = t->nodes;
  int32_t k = 0;
  while (nd[k].left >= 0) {
    float v = x[nd[k].feat];
    if (v != v) k = nd[k].default_left ? nd[k].left : nd[k].right;
    else k = v < nd[k].cond ? nd[k].left : nd[k].right;
  }
  return nd[k].cond;
}

int32_t gbdt_tree_push(gbdt_tree *t, const gbdt_node *nd) {
  if (t->n == t->cap) {
    int32_t cap = t->cap ? 2 * t->cap : 64;
    gbdt_node *p = realloc(t->nodes, (size_t)cap * sizeof *p);
    if (!p) return -1;
    t->nodes = p;
    t->cap = cap;
  }
  t->nodes[t->n] = *nd;
  return t->n++;
}

void gbdt_tree_free(gbdt_tree *t) {
  free(t->nodes);
  t->nodes = NULL;
  t->n = t->cap = 0;
}
