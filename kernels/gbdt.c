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
  if (objective == GBDT_POISSON) {
#pragma omp parallel for schedule(static) reduction(max : gm, hm)
    for (int64_t i = 0; i < n; i++) {
      int32_t r = rows[i];
      double m = margin[r], gi = exp(m) - label[r], hi = exp(m + GBDT_POISSON_MAX_DELTA), ga = gi < 0 ? -gi : gi;
      g[r] = gi;
      h[r] = hi;
      gm = ga > gm ? ga : gm;
      hm = hi > hm ? hi : hm;
    }
  } else {
#pragma omp parallel for schedule(static) reduction(max : gm)
    for (int64_t i = 0; i < n; i++) {
      int32_t r = rows[i];
      double gi = (double)margin[r] - (double)label[r], ga = gi < 0 ? -gi : gi;
      g[r] = gi;
      gm = ga > gm ? ga : gm;
    }
    hm = n > 0 ? 1.0 : 0.0;
  }
  *gmax = gm;
  *hmax = hm;
}

void gbdt_quantize(const int32_t *rows, int64_t n, const double *v, double scale, int32_t *q) {
  /* round half away from zero; |v x scale| <= 2^30 by the choice of scale */
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    double x = v[rows[i]] * scale;
    q[rows[i]] = (int32_t)(x >= 0 ? x + 0.5 : x - 0.5);
  }
}

/* ---- histograms ------------------------------------------------------ */

/* A (G, H) pair as one 128-bit vector: each histogram update is one
 * vector add instead of two scalar ones (SSE2 on x86-64; GCC and Clang
 * vector extension, any target). */
typedef int64_t gh_pair __attribute__((vector_size(16)));

/* Rows per range above which a second copy of the histogram pays: two
 * rows go to two copies at a time, so the updates of consecutive rows to
 * the same slot (low-cardinality features) do not wait for each other. */
#define HIST_TWO_COPIES 8192
/* Rows ahead whose codes and gradients are prefetched: a node's rows are
 * sorted but, below the root, scattered over the code matrix. */
#define HIST_PREFETCH 24

/* Adds rows pos[a..b) into one node's histogram h (slots pairs);
 * spare (slots pairs, may be NULL) is scratch for the second copy. */
#define HIST_ROWS(NAME, CODE_T)                                                                                    \
  static void NAME(const CODE_T *codes, int nf, const int32_t *hoff, const int32_t *pos, int64_t a, int64_t b,   \
                   const int32_t *gq, const int32_t *hq, int32_t hconst, int64_t *h, int64_t *spare) {           \
    gh_pair *h1 = (gh_pair *)h, *h2 = (gh_pair *)spare;                                                            \
    int64_t i = a;                                                                                                 \
    if (spare && b - a >= HIST_TWO_COPIES) {                                                                       \
      memset(spare, 0, 2 * (size_t)hoff[nf] * sizeof *spare);                                                      \
      for (; i + 1 < b; i += 2) {                                                                                  \
        if (i + HIST_PREFETCH + 1 < b) {                                                                           \
          __builtin_prefetch(codes + (size_t)pos[i + HIST_PREFETCH] * (size_t)nf);                                 \
          __builtin_prefetch(codes + (size_t)pos[i + HIST_PREFETCH + 1] * (size_t)nf);                             \
          __builtin_prefetch(gq + pos[i + HIST_PREFETCH]);                                                         \
          __builtin_prefetch(gq + pos[i + HIST_PREFETCH + 1]);                                                     \
        }                                                                                                          \
        int32_t r = pos[i], r2 = pos[i + 1];                                                                       \
        const CODE_T *c = codes + (size_t)r * (size_t)nf, *c2 = codes + (size_t)r2 * (size_t)nf;                   \
        gh_pair u = {gq[r], hq ? hq[r] : hconst}, u2 = {gq[r2], hq ? hq[r2] : hconst};                             \
        for (int f = 0; f < nf; f++) {                                                                             \
          h1[hoff[f] + c[f]] += u;                                                                                 \
          h2[hoff[f] + c2[f]] += u2;                                                                               \
        }                                                                                                          \
      }                                                                                                            \
    }                                                                                                              \
    for (; i < b; i++) {                                                                                           \
      if (i + HIST_PREFETCH < b) {                                                                                 \
        __builtin_prefetch(codes + (size_t)pos[i + HIST_PREFETCH] * (size_t)nf);                                   \
        __builtin_prefetch(gq + pos[i + HIST_PREFETCH]);                                                           \
      }                                                                                                            \
      int32_t r = pos[i];                                                                                          \
      const CODE_T *c = codes + (size_t)r * (size_t)nf;                                                            \
      gh_pair u = {gq[r], hq ? hq[r] : hconst};                                                                    \
      for (int f = 0; f < nf; f++) h1[hoff[f] + c[f]] += u;                                                        \
    }                                                                                                              \
    if (spare && b - a >= HIST_TWO_COPIES)                                                                         \
      for (int32_t k = 0; k < hoff[nf]; k++) h1[k] += h2[k];                                                       \
  }
HIST_ROWS(hist_rows8, uint8_t)
HIST_ROWS(hist_rows16, uint16_t)

static void hist_rows(const gbdt_matrix *m, const int32_t *pos, int64_t a, int64_t b, const int32_t *gq,
                      const int32_t *hq, int32_t hconst, int64_t *h, int64_t *spare) {
  if (m->codes8) hist_rows8(m->codes8, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h, spare);
  else hist_rows16(m->codes16, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h, spare);
}

size_t gbdt_hist_scratch_size(const gbdt_matrix *m) {
  return (size_t)omp_get_max_threads() * 3 * 2 * (size_t)m->hoff[m->nfeat] + 1;
}

void gbdt_hist_build(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end, int nn,
                     const int32_t *gq, const int32_t *hq, int32_t hconst, int64_t *hist, int64_t *scratch) {
  const size_t width = 2 * (size_t)m->hoff[m->nfeat]; /* int64 per node */
  int64_t total = 0;
  for (int k = 0; k < nn; k++) total += end[k] - begin[k];
  int nt = omp_get_max_threads();
  if (total < 20000 || nt == 1) {
    for (int k = 0; k < nn; k++) {
      memset(hist + k * width, 0, width * sizeof *hist);
      hist_rows(m, pos, begin[k], end[k], gq, hq, hconst, hist + k * width, scratch);
    }
    return;
  }
  /* Prefix of row counts: node k covers [acc[k], acc[k+1]) of the level. */
  int64_t *acc = malloc(((size_t)nn + 1) * sizeof *acc);
  if (!acc) { /* no memory: fall back to one thread, no scratch needed */
    for (int k = 0; k < nn; k++) {
      memset(hist + k * width, 0, width * sizeof *hist);
      hist_rows(m, pos, begin[k], end[k], gq, hq, hconst, hist + k * width, scratch);
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
        dst = scratch + ((size_t)t * 3 + (size_t)npart) * width;
        part_node[npart++] = k;
      }
      memset(dst, 0, width * sizeof *dst);
      hist_rows(m, pos, begin[k] + (a - acc[k]), begin[k] + (b - acc[k]), gq, hq, hconst, dst,
                scratch + ((size_t)t * 3 + 2) * width);
    }
#pragma omp barrier
    for (int j = 0; j < npart; j++) {
      const int64_t *src = scratch + ((size_t)t * 3 + (size_t)j) * width;
      int64_t *dst = hist + (size_t)part_node[j] * width;
#pragma omp critical(gbdt_hist_merge)
      for (size_t i = 0; i < width; i++) dst[i] += src[i];
    }
  }
  free(acc);
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

#define PART_BLOCK 16384
#define PART_PREFETCH 32

/* One block of a node's rows: lefts to tl[s..), rights to tr[s..), in
 * order, branch-free. col(row) is the row's code of the split feature.
 * Returns the number of lefts. */
#define PART_BLOCK_FN(NAME, CODE_T)                                                                               \
  static int64_t NAME(const CODE_T *col, size_t stride, const int32_t *pos, int64_t s, int64_t e, int miss,       \
                      int32_t bin, int dl, int32_t *tl, int32_t *tr) {                                            \
    int64_t l = s, r = s;                                                                                          \
    for (int64_t i = s; i < e; i++) {                                                                              \
      if (i + PART_PREFETCH < e) __builtin_prefetch(col + (size_t)pos[i + PART_PREFETCH] * stride);               \
      int32_t row = pos[i];                                                                                        \
      int c = col[(size_t)row * stride];                                                                           \
      int go = c == miss ? dl : c <= bin;                                                                          \
      tl[l] = row;                                                                                                 \
      tr[r] = row;                                                                                                 \
      l += go;                                                                                                     \
      r += !go;                                                                                                    \
    }                                                                                                              \
    return l - s;                                                                                                  \
  }
PART_BLOCK_FN(part_block8, uint8_t)
PART_BLOCK_FN(part_block16, uint16_t)

/* Partitions one block by feature f, through the column-major codes when there are some. */
static int64_t part_block(const gbdt_matrix *m, const int32_t *pos, int64_t s, int64_t e, int32_t f, int32_t bin,
                          int dl, int32_t *tl, int32_t *tr) {
  const size_t nf = (size_t)m->nfeat, n = (size_t)m->n;
  if (m->cols8) return part_block8(m->cols8 + (size_t)f * n, 1, pos, s, e, m->nbins[f], bin, dl, tl, tr);
  if (m->cols16) return part_block16(m->cols16 + (size_t)f * n, 1, pos, s, e, m->nbins[f], bin, dl, tl, tr);
  if (m->codes8) return part_block8(m->codes8 + f, nf, pos, s, e, m->nbins[f], bin, dl, tl, tr);
  return part_block16(m->codes16 + f, nf, pos, s, e, m->nbins[f], bin, dl, tl, tr);
}

void gbdt_partition(const gbdt_matrix *m, int32_t *pos, int32_t *tl, int32_t *tr, const int64_t *begin,
                    const int64_t *end, const int32_t *feat, const int32_t *bin, const uint8_t *dleft, int nn,
                    int64_t *nleft) {
  /* blocks: (node, start) pairs of at most PART_BLOCK rows */
  int64_t nblk = 0;
  for (int k = 0; k < nn; k++) nblk += (end[k] - begin[k] + PART_BLOCK - 1) / PART_BLOCK;
  enum { STACK_BLOCKS = 1024 };
  int64_t stack[4 * STACK_BLOCKS];
  int64_t *mem = nblk <= STACK_BLOCKS ? NULL : malloc((size_t)nblk * 4 * sizeof *mem);
  int64_t *bnode = mem ? mem : stack, *bstart = bnode + (mem ? nblk : STACK_BLOCKS);
  int64_t *bleft = bstart + (mem ? nblk : STACK_BLOCKS), *bl = bleft + (mem ? nblk : STACK_BLOCKS);
  if (nblk > STACK_BLOCKS && !mem) nblk = -1; /* no memory: handled below, one block per node */
  int64_t j = 0;
  if (nblk >= 0) {
    for (int k = 0; k < nn; k++)
      for (int64_t st = begin[k]; st < end[k]; st += PART_BLOCK) {
        bnode[j] = k;
        bstart[j++] = st;
      }
  }
#pragma omp parallel for schedule(dynamic, 1) if (nblk > 1)
  for (int64_t q = 0; q < (nblk >= 0 ? nblk : nn); q++) {
    int k = nblk >= 0 ? (int)bnode[q] : (int)q;
    int64_t st = nblk >= 0 ? bstart[q] : begin[k];
    int64_t e = nblk >= 0 && st + PART_BLOCK < end[k] ? st + PART_BLOCK : end[k];
    int64_t nl = part_block(m, pos, st, e, feat[k], bin[k], dleft[k], tl, tr);
    if (nblk >= 0) bleft[q] = nl;
    else nleft[k] = nl;
  }
  if (nblk < 0) { /* one block per node: lefts then rights */
    for (int k = 0; k < nn; k++) {
      memcpy(pos + begin[k], tl + begin[k], (size_t)nleft[k] * sizeof *pos);
      memcpy(pos + begin[k] + nleft[k], tr + begin[k], (size_t)(end[k] - begin[k] - nleft[k]) * sizeof *pos);
    }
    return;
  }
  /* destinations: a node's lefts in block order, then its rights */
  for (int k = 0; k < nn; k++) nleft[k] = 0;
  for (int64_t q = 0; q < nblk; q++) nleft[bnode[q]] += bleft[q];
  int prev = -1;
  int64_t l = 0, r = 0;
  for (int64_t q = 0; q < nblk; q++) {
    int k = (int)bnode[q];
    if (k != prev) {
      l = begin[k];
      r = begin[k] + nleft[k];
      prev = k;
    }
    int64_t e = bstart[q] + PART_BLOCK < end[k] ? bstart[q] + PART_BLOCK : end[k];
    bl[q] = l;
    l += bleft[q];
    bnode[q] = r; /* reused: where the block's rights go */
    r += (e - bstart[q]) - bleft[q];
    bleft[q] |= (int64_t)k << 40; /* keep the node for the copy below */
  }
#pragma omp parallel for schedule(dynamic, 1) if (nblk > 1)
  for (int64_t q = 0; q < nblk; q++) {
    int k = (int)(bleft[q] >> 40);
    int64_t nl = bleft[q] & (((int64_t)1 << 40) - 1), st = bstart[q];
    int64_t e = st + PART_BLOCK < end[k] ? st + PART_BLOCK : end[k];
    memcpy(pos + bl[q], tl + st, (size_t)nl * sizeof *pos);
    memcpy(pos + bnode[q], tr + st, (size_t)(e - st - nl) * sizeof *pos);
  }
  free(mem);
}

void gbdt_add_leaf(const int32_t *pos, int64_t a, int64_t b, float v, float *margin) {
#pragma omp parallel for schedule(static) if (b - a > 50000)
  for (int64_t i = a; i < b; i++) margin[pos[i]] += v;
}

void gbdt_split_add(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end,
                    const int32_t *feat, const int32_t *bin, const uint8_t *dleft, const float *vl, const float *vr,
                    int nn, float *margin) {
  const size_t n = (size_t)m->n;
  int64_t total = 0;
  for (int k = 0; k < nn; k++) total += end[k] - begin[k];
#pragma omp parallel for schedule(dynamic, 1) if (total > 50000)
  for (int k = 0; k < nn; k++) {
    const int32_t f = feat[k], miss = m->nbins[f], b = bin[k];
    const int dl = dleft[k];
    const float v[2] = {vr[k], vl[k]};
    for (int64_t i = begin[k]; i < end[k]; i++) {
      int32_t r = pos[i];
      int c = m->cols8 ? m->cols8[(size_t)f * n + (size_t)r]
              : m->cols16 ? m->cols16[(size_t)f * n + (size_t)r]
              : m->codes8 ? m->codes8[(size_t)r * (size_t)m->nfeat + (size_t)f]
                          : m->codes16[(size_t)r * (size_t)m->nfeat + (size_t)f];
      margin[r] += v[c == miss ? dl : c <= b];
    }
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
