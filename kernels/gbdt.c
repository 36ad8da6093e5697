/* gbdt.c: histogram building, split finding, row partitioning and tree
 * walking for the boosted trees (see gbdt.h for the data layout and why
 * the sums are int64 fixed point).
 *
 * Threads. Histogram building cuts the rows of all nodes of a level into
 * chunks (a few per thread) handed out dynamically, so a thread the
 * machine delays holds up little; a chunk that is a whole node is built
 * straight into the output, the pieces of bigger nodes in a thread's
 * private histogram that is added to the node when the thread moves on.
 * Integer sums make the result independent of who built what.
 * Partitioning works on blocks of rows: one pass splits each block in
 * place (lefts, then rights) and counts, a prefix sum gives each block its
 * place, a second pass copies the two pieces into the other position
 * array; both passes are parallel over blocks. On one thread a node's
 * blocks are split and copied one after another.
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

void gbdt_grad_max(int objective, const int32_t *rows, int64_t n, const float *margin, const float *label,
                   double *gmax, double *hmax) {
  double gm = 0.0, hm = 0.0;
#pragma omp parallel for schedule(static) reduction(max : gm, hm)
  for (int64_t i = 0; i < n; i++) {
    int32_t r = rows[i];
    double m = margin[r], gi, hi;
    if (objective == GBDT_POISSON) {
      gi = exp(m) - label[r];
      hi = exp(m + GBDT_POISSON_MAX_DELTA);
    } else {
      gi = m - (double)label[r];
      hi = 1.0;
    }
    gi = gi < 0 ? -gi : gi;
    gm = gi > gm ? gi : gm;
    hm = hi > hm ? hi : hm;
  }
  *gmax = gm;
  *hmax = hm;
}

/* round half away from zero; |x| <= 2^30 by the choice of scale */
static inline int64_t quantize(double x) { return (int64_t)(x >= 0 ? x + 0.5 : x - 0.5); }

void gbdt_grad_quantize(int objective, const int32_t *rows, int64_t n, const float *margin, const float *label,
                        double gscale, double hscale, int64_t *gq, int32_t *hq) {
  if (objective == GBDT_POISSON) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      int32_t r = rows[i];
      double m = margin[r];
      gq[r] = quantize((exp(m) - label[r]) * gscale);
      hq[r] = (int32_t)quantize(exp(m + GBDT_POISSON_MAX_DELTA) * hscale);
    }
  } else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      int32_t r = rows[i];
      gq[r] = quantize(((double)margin[r] - (double)label[r]) * gscale);
    }
  }
}

/* ---- histograms ------------------------------------------------------ */

/* A (G, H) pair as one 128-bit vector: each histogram update is one
 * vector add instead of two scalar ones (SSE2 on x86-64; GCC and Clang
 * vector extension, any target). */
typedef int64_t gh_pair __attribute__((vector_size(16)));

/* Rows per range above which extra copies of the histogram pay: rows go
 * to HIST_COPIES copies in turn, so the updates of consecutive rows to the
 * same slot (a series' days share their month, week, lags...) do not wait
 * for each other's stores. */
#define HIST_MANY_ROWS 16384
#define HIST_COPIES 4
/* Rows ahead whose codes and gradients are prefetched: a node's rows are
 * sorted but, below the root, scattered over the code matrix. */
#define HIST_PREFETCH 24

/* Adds rows pos[a..b) into one node's histogram h (slots pairs);
 * spare (HIST_COPIES - 1 histograms, may be NULL) is scratch for the copies. */
/* A row's quantised gradient: read, or computed (and kept) when src is set. */
#define GQ(r) (src ? (gq[r] = quantize(((double)src->margin[r] - (double)src->label[r]) * src->gscale)) : gq[r])

#define HIST_ROWS(NAME, CODE_T)                                                                                    \
  static void NAME(const CODE_T *codes, int nf, const int32_t *hoff, const int32_t *pos, int64_t a, int64_t b,   \
                   int64_t *gq, const int32_t *hq, int32_t hconst, int64_t *h, int64_t *spare,                    \
                   const gbdt_grad_src *src) {                                                                     \
    const int32_t S = hoff[nf];                                                                                    \
    gh_pair *h0 = (gh_pair *)h;                                                                                    \
    int64_t i = a;                                                                                                 \
    const int many = spare && b - a >= HIST_MANY_ROWS;                                                             \
    if (many) {                                                                                                    \
      gh_pair *h1 = (gh_pair *)spare, *h2 = h1 + S, *h3 = h2 + S;                                                  \
      memset(spare, 0, 3 * 2 * (size_t)S * sizeof *spare);                                                         \
      for (; i + 3 < b; i += 4) {                                                                                  \
        if (i + HIST_PREFETCH + 3 < b)                                                                             \
          for (int j = 0; j < 4; j++) {                                                                            \
            __builtin_prefetch(codes + (size_t)pos[i + HIST_PREFETCH + j] * (size_t)nf);                           \
            __builtin_prefetch(gq + pos[i + HIST_PREFETCH + j]);                                                   \
          }                                                                                                        \
        int32_t r0 = pos[i], r1 = pos[i + 1], r2 = pos[i + 2], r3 = pos[i + 3];                                    \
        const CODE_T *c0 = codes + (size_t)r0 * (size_t)nf, *c1 = codes + (size_t)r1 * (size_t)nf;                 \
        const CODE_T *c2 = codes + (size_t)r2 * (size_t)nf, *c3 = codes + (size_t)r3 * (size_t)nf;                 \
        gh_pair u0 = {GQ(r0), hq ? hq[r0] : hconst}, u1 = {GQ(r1), hq ? hq[r1] : hconst};                          \
        gh_pair u2 = {GQ(r2), hq ? hq[r2] : hconst}, u3 = {GQ(r3), hq ? hq[r3] : hconst};                          \
        for (int f = 0; f < nf; f++) {                                                                             \
          const int32_t o = hoff[f];                                                                               \
          h0[o + c0[f]] += u0;                                                                                     \
          h1[o + c1[f]] += u1;                                                                                     \
          h2[o + c2[f]] += u2;                                                                                     \
          h3[o + c3[f]] += u3;                                                                                     \
        }                                                                                                          \
      }                                                                                                            \
      for (int32_t k = 0; k < S; k++) h0[k] += h1[k] + h2[k] + h3[k];                                              \
    }                                                                                                              \
    for (; i < b; i++) {                                                                                           \
      if (i + HIST_PREFETCH < b) {                                                                                 \
        __builtin_prefetch(codes + (size_t)pos[i + HIST_PREFETCH] * (size_t)nf);                                   \
        __builtin_prefetch(gq + pos[i + HIST_PREFETCH]);                                                           \
      }                                                                                                            \
      int32_t r = pos[i];                                                                                          \
      const CODE_T *c = codes + (size_t)r * (size_t)nf;                                                            \
      gh_pair u = {GQ(r), hq ? hq[r] : hconst};                                                                    \
      for (int f = 0; f < nf; f++) h0[hoff[f] + c[f]] += u;                                                        \
    }                                                                                                              \
  }
HIST_ROWS(hist_rows8, uint8_t)
HIST_ROWS(hist_rows16, uint16_t)

static void hist_rows(const gbdt_matrix *m, const int32_t *pos, int64_t a, int64_t b, int64_t *gq,
                      const int32_t *hq, int32_t hconst, int64_t *h, int64_t *spare, const gbdt_grad_src *src) {
  if (m->codes8) hist_rows8(m->codes8, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h, spare, src);
  else hist_rows16(m->codes16, m->nfeat, m->hoff, pos, a, b, gq, hq, hconst, h, spare, src);
}

size_t gbdt_hist_scratch_size(const gbdt_matrix *m) {
  /* per thread: one private histogram and the extra copies */
  return (size_t)omp_get_max_threads() * HIST_COPIES * 2 * (size_t)m->hoff[m->nfeat] + 1;
}

/* Chunks of the level's rows handed to threads: about HIST_CHUNKS per
 * thread, so a thread that the machine delays holds up little work. */
#define HIST_CHUNKS 6
#define HIST_MIN_CHUNK 16384

void gbdt_hist_build(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end, int nn,
                     int64_t *gq, const int32_t *hq, int32_t hconst, int64_t *hist, int64_t *scratch,
                     const gbdt_grad_src *src) {
  const size_t width = 2 * (size_t)m->hoff[m->nfeat]; /* int64 per node */
  int64_t total = 0;
  for (int k = 0; k < nn; k++) total += end[k] - begin[k];
  int nt = omp_get_max_threads();
  int64_t csize = total / ((int64_t)nt * HIST_CHUNKS) + 1;
  if (csize < HIST_MIN_CHUNK) csize = HIST_MIN_CHUNK;
  int64_t nchunk = 0;
  for (int k = 0; k < nn; k++) nchunk += (end[k] - begin[k] + csize - 1) / csize;
  int64_t *chunk = nt > 1 && total >= 2 * HIST_MIN_CHUNK ? malloc((size_t)(nchunk + 1) * 3 * sizeof *chunk) : NULL;
  if (!chunk) { /* one thread (or little work, or no memory) */
    for (int k = 0; k < nn; k++) {
      memset(hist + k * width, 0, width * sizeof *hist);
      hist_rows(m, pos, begin[k], end[k], gq, hq, hconst, hist + k * width, scratch, src);
    }
    return;
  }
  /* chunks (node, first row, end row), in node order */
  int64_t j = 0;
  for (int k = 0; k < nn; k++)
    for (int64_t a = begin[k]; a < end[k]; a += csize) {
      chunk[3 * j] = k;
      chunk[3 * j + 1] = a;
      chunk[3 * j + 2] = a + csize < end[k] ? a + csize : end[k];
      j++;
    }
  /* A chunk that is a whole node is built in place; the pieces of a bigger
   * node go to the thread's private histogram, added to the node (under a
   * lock) when the thread moves on to another node. Sums are integers, so
   * which thread takes which chunk does not matter. */
  for (int k = 0; k < nn; k++)
    if (end[k] - begin[k] > csize || end[k] == begin[k]) memset(hist + k * width, 0, width * sizeof *hist);
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int64_t *priv = scratch + (size_t)t * HIST_COPIES * width, *spare = priv + width;
    int64_t held = -1; /* node whose rows priv holds */
#pragma omp for schedule(dynamic, 1) nowait
    for (int64_t q = 0; q < nchunk; q++) {
      int64_t k = chunk[3 * q], a = chunk[3 * q + 1], b = chunk[3 * q + 2];
      if (a == begin[k] && b == end[k]) {
        int64_t *dst = hist + (size_t)k * width;
        memset(dst, 0, width * sizeof *dst);
        hist_rows(m, pos, a, b, gq, hq, hconst, dst, spare, src);
        continue;
      }
      if (held != k) {
        if (held >= 0) {
          int64_t *dst = hist + (size_t)held * width;
#pragma omp critical(gbdt_hist_merge)
          for (size_t i = 0; i < width; i++) dst[i] += priv[i];
        }
        memset(priv, 0, width * sizeof *priv);
        held = k;
      }
      hist_rows(m, pos, a, b, gq, hq, hconst, priv, spare, src);
    }
    if (held >= 0) {
      int64_t *dst = hist + (size_t)held * width;
#pragma omp critical(gbdt_hist_merge)
      for (size_t i = 0; i < width; i++) dst[i] += priv[i];
    }
  }
  free(chunk);
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

/* One pass over rows pos[s..e) of a node: a row that goes left is stored
 * at dst[*l] (then *l moves up), one that goes right at dst[*r] (then *r
 * moves down); go[c] says whether code c goes left (the split's bin, the
 * missing code and its direction in one table, so a decision is one
 * load), col(row) is the row's code of the split feature. The store's
 * address is computed from the decision with a mask, so nothing branches
 * on it (a branch mispredicts on every other row of an even split). With
 * dst == NULL the lefts are only counted (into *l). Prefetches only when
 * the rows are scattered (below the first levels; a node's rows run
 * ascending or descending, see gbdt_partition). */
#define PART_RUN_FN(NAME, CODE_T)                                                                                 \
  static void NAME(const CODE_T *col, size_t stride, const int32_t *pos, int64_t s, int64_t e, const uint8_t *go, \
                   int32_t *dst, int64_t *lp, int64_t *rp) {                                                      \
    int64_t l = *lp, r = rp ? *rp : 0, i = s;                                                                      \
    const int64_t span = e > s ? (int64_t)pos[e - 1] - pos[s] : 0;                                                 \
    if (span > 8 * (e - s) || -span > 8 * (e - s))                                                                 \
      for (; i + PART_PREFETCH < e; i++) {                                                                         \
        __builtin_prefetch(col + (size_t)pos[i + PART_PREFETCH] * stride);                                         \
        int32_t row = pos[i];                                                                                      \
        int64_t d = go[col[(size_t)row * stride]];                                                                 \
        if (dst) {                                                                                                 \
          dst[r + ((l - r) & -d)] = row;                                                                           \
          r -= 1 - d;                                                                                              \
        }                                                                                                          \
        l += d;                                                                                                    \
      }                                                                                                            \
    if (dst)                                                                                                       \
      for (; i < e; i++) {                                                                                         \
        int32_t row = pos[i];                                                                                      \
        int64_t d = go[col[(size_t)row * stride]];                                                                 \
        dst[r + ((l - r) & -d)] = row;                                                                             \
        l += d;                                                                                                    \
        r -= 1 - d;                                                                                                \
      }                                                                                                            \
    else                                                                                                           \
      for (; i < e; i++) l += go[col[(size_t)pos[i] * stride]];                                                    \
    *lp = l;                                                                                                       \
    if (rp) *rp = r;                                                                                               \
  }
PART_RUN_FN(part_run8, uint8_t)
PART_RUN_FN(part_run16, uint16_t)

/* The go-left table of a split: codes 0..ncodes-1 (ncodes = bins + 1). */
static void part_table(int nbins, int32_t bin, int dl, uint8_t *go) {
  for (int c = 0; c < nbins; c++) go[c] = c <= bin;
  go[nbins] = (uint8_t)dl;
}

/* part_run on feature f, through the column-major codes when there are some. */
static void part_run(const gbdt_matrix *m, const int32_t *pos, int64_t s, int64_t e, int32_t f, const uint8_t *go,
                     int32_t *dst, int64_t *l, int64_t *r) {
  const size_t nf = (size_t)m->nfeat, n = (size_t)m->n;
  if (m->cols8) part_run8(m->cols8 + (size_t)f * n, 1, pos, s, e, go, dst, l, r);
  else if (m->cols16) part_run16(m->cols16 + (size_t)f * n, 1, pos, s, e, go, dst, l, r);
  else if (m->codes8) part_run8(m->codes8 + f, nf, pos, s, e, go, dst, l, r);
  else part_run16(m->codes16 + f, nf, pos, s, e, go, dst, l, r);
}

/* Node by node on this thread, in one pass each. */
static void part_seq(const gbdt_matrix *m, const int32_t *pos, int32_t *dst, const int64_t *begin, const int64_t *end,
                     const int32_t *feat, const int32_t *bin, const uint8_t *dleft, int nn, int64_t *nleft) {
  uint8_t go[65537];
  for (int k = 0; k < nn; k++) {
    part_table(m->nbins[feat[k]], bin[k], dleft[k], go);
    int64_t l = begin[k], r = end[k] - 1;
    part_run(m, pos, begin[k], end[k], feat[k], go, dst, &l, &r);
    nleft[k] = l - begin[k];
  }
}

void gbdt_partition(const gbdt_matrix *m, int32_t *pos, int32_t *dst, const int64_t *begin, const int64_t *end,
                    const int32_t *feat, const int32_t *bin, const uint8_t *dleft, int nn, int64_t *nleft) {
  /* blocks: (node, start) pairs of at most PART_BLOCK rows */
  int64_t nblk = 0;
  for (int k = 0; k < nn; k++) nblk += (end[k] - begin[k] + PART_BLOCK - 1) / PART_BLOCK;
  if (nblk <= 1 || omp_get_max_threads() == 1) {
    part_seq(m, pos, dst, begin, end, feat, bin, dleft, nn, nleft);
    return;
  }
  enum { STACK_BLOCKS = 1024 };
  int64_t stack[3 * STACK_BLOCKS];
  /* the go-left table of every node: (bins + 1) bytes each */
  size_t tw = 0;
  for (int k = 0; k < nn; k++) tw = tw > (size_t)m->nbins[feat[k]] + 1 ? tw : (size_t)m->nbins[feat[k]] + 1;
  uint8_t *go = malloc((size_t)nn * tw + 1);
  int64_t *mem = nblk <= STACK_BLOCKS ? NULL : malloc((size_t)nblk * 3 * sizeof *mem);
  if (!go || (nblk > STACK_BLOCKS && !mem)) { /* no memory: one thread */
    free(go);
    free(mem);
    part_seq(m, pos, dst, begin, end, feat, bin, dleft, nn, nleft);
    return;
  }
  for (int k = 0; k < nn; k++) part_table(m->nbins[feat[k]], bin[k], dleft[k], go + (size_t)k * tw);
  int64_t cap = mem ? nblk : STACK_BLOCKS;
  int64_t *bnode = mem ? mem : stack, *bstart = bnode + cap, *bleft = bstart + cap;
  int64_t j = 0;
  for (int k = 0; k < nn; k++)
    for (int64_t st = begin[k]; st < end[k]; st += PART_BLOCK) {
      bnode[j] = k;
      bstart[j++] = st;
    }
  /* each block split in one pass into a buffer of its thread (its lefts in
   * order, its rights from the buffer's end down) and copied back over its
   * rows; then the two pieces are copied to where one thread puts them: the
   * same bits, and the rows' codes are read once */
#pragma omp parallel
  {
    int32_t buf[PART_BLOCK];
#pragma omp for schedule(dynamic, 1)
    for (int64_t q = 0; q < nblk; q++) {
      int k = (int)bnode[q];
      int64_t st = bstart[q], e = st + PART_BLOCK < end[k] ? st + PART_BLOCK : end[k], l = 0, r = e - st - 1;
      part_run(m, pos, st, e, feat[k], go + (size_t)k * tw, buf, &l, &r);
      memcpy(pos + st, buf, (size_t)(e - st) * sizeof *pos);
      bleft[q] = l;
    }
  }
  for (int k = 0; k < nn; k++) nleft[k] = 0;
  for (int64_t q = 0; q < nblk; q++) {
    int64_t nl = bleft[q];
    bleft[q] = nleft[bnode[q]]; /* now: the node's lefts in the blocks before q */
    nleft[bnode[q]] += nl;
  }
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t q = 0; q < nblk; q++) {
    int k = (int)bnode[q];
    int64_t st = bstart[q], e = st + PART_BLOCK < end[k] ? st + PART_BLOCK : end[k];
    int64_t nl = (q + 1 < nblk && bnode[q + 1] == k ? bleft[q + 1] : nleft[k]) - bleft[q];
    /* rights before this block: its rows before it minus their lefts */
    int64_t rb = (st - begin[k]) - bleft[q], nr = e - st - nl;
    memcpy(dst + begin[k] + bleft[q], pos + st, (size_t)nl * sizeof *dst);
    memcpy(dst + end[k] - rb - nr, pos + st + nl, (size_t)nr * sizeof *dst);
  }
  free(mem);
  free(go);
}

void gbdt_add_leaves(const int32_t *pos, const int64_t *begin, const int64_t *end, const float *v, const int64_t *vq,
                     int nn, float *margin, int64_t *gq) {
  /* blocks of up to 32768 rows of every leaf, handed out dynamically */
  enum { B = 32768 };
  int64_t nblk = 0;
  for (int k = 0; k < nn; k++) nblk += (end[k] - begin[k] + B - 1) / B;
  int64_t total = 0;
  for (int k = 0; k < nn; k++) total += end[k] - begin[k];
  int k = 0;
  int64_t base = 0; /* blocks before leaf k */
#pragma omp parallel for schedule(dynamic, 1) firstprivate(k, base) if (total > 50000)
  for (int64_t q = 0; q < nblk; q++) {
    while (q >= base + (end[k] - begin[k] + B - 1) / B) base += (end[k] - begin[k] + B - 1) / B, k++;
    int64_t a = begin[k] + (q - base) * B, b = a + B < end[k] ? a + B : end[k];
    float vk = v[k];
    if (gq && !margin) {
      int64_t qk = vq[k];
      for (int64_t i = a; i < b; i++) gq[pos[i]] += qk;
    } else if (gq) {
      int64_t qk = vq[k];
      for (int64_t i = a; i < b; i++) {
        margin[pos[i]] += vk;
        gq[pos[i]] += qk;
      }
    } else {
      for (int64_t i = a; i < b; i++) margin[pos[i]] += vk;
    }
  }
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

/* ---- the last split level ------------------------------------------- */

#define LAST_BLOCK 4096
#define LAST_PREFETCH 16

/* delta[hoff[f] + code] += dv over the rows rows[0..n) and every feature;
 * rows go to LAST_COPIES copies of delta (S slots apart) in turn, so the
 * updates of consecutive rows to one slot do not wait on each other. */
#define LAST_COPIES 4
#define LAST_COUNT_FN(NAME, CODE_T)                                                                               \
  static void NAME(const CODE_T *codes, int nf, const int32_t *hoff, const int32_t *rows, int64_t n, int64_t dv,  \
                   int64_t *delta, int32_t S) {                                                                   \
    int64_t j = 0;                                                                                                 \
    for (; j + 3 < n; j += 4) {                                                                                    \
      if (j + LAST_PREFETCH + 3 < n)                                                                               \
        for (int u = 0; u < 4; u++) __builtin_prefetch(codes + (size_t)rows[j + LAST_PREFETCH + u] * (size_t)nf); \
      const CODE_T *c0 = codes + (size_t)rows[j] * (size_t)nf, *c1 = codes + (size_t)rows[j + 1] * (size_t)nf;    \
      const CODE_T *c2 = codes + (size_t)rows[j + 2] * (size_t)nf, *c3 = codes + (size_t)rows[j + 3] * (size_t)nf; \
      int64_t *d1 = delta + S, *d2 = d1 + S, *d3 = d2 + S;                                                         \
      for (int f = 0; f < nf; f++) {                                                                               \
        const int32_t o = hoff[f];                                                                                 \
        delta[o + c0[f]] += dv;                                                                                    \
        d1[o + c1[f]] += dv;                                                                                       \
        d2[o + c2[f]] += dv;                                                                                       \
        d3[o + c3[f]] += dv;                                                                                       \
      }                                                                                                            \
    }                                                                                                              \
    for (; j < n; j++) {                                                                                           \
      const CODE_T *c = codes + (size_t)rows[j] * (size_t)nf;                                                      \
      for (int f = 0; f < nf; f++) delta[hoff[f] + c[f]] += dv;                                                    \
    }                                                                                                              \
  }
LAST_COUNT_FN(last_count8, uint8_t)
LAST_COUNT_FN(last_count16, uint16_t)

/* The decisions of rows pos[a..b): gq moves by the side's value, the rows
 * of the smaller side (left when sr is 0) go to small; returns them. */
#define LAST_SPLIT_FN(NAME, CODE_T)                                                                               \
  static int64_t NAME(const CODE_T *col, size_t stride, const int32_t *pos, int64_t a, int64_t b, int32_t bk,      \
                      int32_t miss, int dl, int sr, int64_t vl, int64_t vr, int64_t *gq, int32_t *small) {         \
    int64_t ns = 0;                                                                                                \
    for (int64_t i = a; i < b; i++) {                                                                              \
      if (i + LAST_PREFETCH < b) {                                                                                 \
        __builtin_prefetch(gq + pos[i + LAST_PREFETCH]);                                                           \
        __builtin_prefetch(col + (size_t)pos[i + LAST_PREFETCH] * stride);                                         \
      }                                                                                                            \
      int32_t r = pos[i];                                                                                          \
      int c = col[(size_t)r * stride];                                                                             \
      int64_t d = (c <= bk) | ((c == miss) & dl);                                                                  \
      gq[r] += vr + ((vl - vr) & -d);                                                                              \
      small[ns] = r;                                                                                               \
      ns += d ^ sr;                                                                                                \
    }                                                                                                              \
    return ns;                                                                                                     \
  }
LAST_SPLIT_FN(last_split8, uint8_t)
LAST_SPLIT_FN(last_split16, uint16_t)

void gbdt_last_level(const gbdt_matrix *m, const int32_t *pos, const int64_t *begin, const int64_t *end,
                     const int32_t *feat, const int32_t *bin, const uint8_t *dleft, const int64_t *vql,
                     const int64_t *vqr, const uint8_t *small_right, int nn, int64_t *gq, int64_t *delta,
                     int64_t *scratch) {
  const int32_t S = m->hoff[m->nfeat];
  int64_t nblk = 0, total = 0;
  for (int k = 0; k < nn; k++) {
    nblk += (end[k] - begin[k] + LAST_BLOCK - 1) / LAST_BLOCK;
    total += end[k] - begin[k];
  }
  const int nt = total > 50000 ? omp_get_max_threads() : 1;
  memset(scratch, 0, (size_t)nt * LAST_COPIES * (size_t)S * sizeof *scratch);
  int k = 0;
  int64_t base = 0; /* blocks before node k */
#pragma omp parallel num_threads(nt) firstprivate(k, base)
  {
    int64_t *priv = scratch + (size_t)omp_get_thread_num() * LAST_COPIES * (size_t)S;
    int32_t small[LAST_BLOCK];
#pragma omp for schedule(dynamic, 1)
    for (int64_t q = 0; q < nblk; q++) {
      while (q >= base + (end[k] - begin[k] + LAST_BLOCK - 1) / LAST_BLOCK)
        base += (end[k] - begin[k] + LAST_BLOCK - 1) / LAST_BLOCK, k++;
      const int64_t a = begin[k] + (q - base) * LAST_BLOCK, b = a + LAST_BLOCK < end[k] ? a + LAST_BLOCK : end[k];
      const int32_t f = feat[k], bk = bin[k], miss = m->nbins[f];
      const int dl = dleft[k], sr = small_right[k];
      const int64_t vl = vql[k], vr = vqr[k];
      const size_t n = (size_t)m->n, nf = (size_t)m->nfeat;
      int64_t ns = m->cols8 ? last_split8(m->cols8 + (size_t)f * n, 1, pos, a, b, bk, miss, dl, sr, vl, vr, gq, small)
                   : m->cols16 ? last_split16(m->cols16 + (size_t)f * n, 1, pos, a, b, bk, miss, dl, sr, vl, vr, gq, small)
                   : m->codes8 ? last_split8(m->codes8 + f, nf, pos, a, b, bk, miss, dl, sr, vl, vr, gq, small)
                               : last_split16(m->codes16 + f, nf, pos, a, b, bk, miss, dl, sr, vl, vr, gq, small);
      const int64_t dv = sr ? vr - vl : vl - vr;
      if (m->codes8) last_count8(m->codes8, m->nfeat, m->hoff, small, ns, dv, priv, S);
      else last_count16(m->codes16, m->nfeat, m->hoff, small, ns, dv, priv, S);
    }
  }
  for (int32_t j = 0; j < S; j++) {
    int64_t v = 0;
    for (int t = 0; t < nt * LAST_COPIES; t++) v += scratch[(size_t)t * (size_t)S + (size_t)j];
    delta[j] = v;
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

void gbdt_tree_add_codes_fixed(const gbdt_tree *t, const gbdt_matrix *m, const int32_t *rows, int64_t n,
                               double scale, int64_t *gq) {
  const gbdt_node *nd = t->nodes;
#pragma omp parallel for schedule(static) if (n > 20000)
  for (int64_t i = 0; i < n; i++) {
    int32_t r = rows[i], k = 0;
    while (nd[k].left >= 0)
      k = row_goes_left(m, r, nd[k].feat, nd[k].bin, nd[k].default_left) ? nd[k].left : nd[k].right;
    gq[r] += quantize((double)nd[k].cond * scale);
  }
}

void gbdt_hist_leaf_delta(const int64_t *hist, int64_t slots, int64_t vq, int32_t hconst, int64_t *dg) {
  for (int64_t j = 0; j < slots; j++) dg[j] += vq * (hist[2 * j + 1] / hconst);
}

int64_t gbdt_quantize_one(double x) { return quantize(x); }

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

/* ---- predicting many rows ------------------------------------------- */

int gbdt_forest_build(const gbdt_tree *trees, int ntrees, gbdt_forest *fo) {
  memset(fo, 0, sizeof *fo);
  int64_t total = 0;
  for (int t = 0; t < ntrees; t++) total += trees[t].n;
  fo->root = malloc((size_t)(ntrees + 1) * 2 * sizeof *fo->root);
  fo->nodes = malloc((size_t)(total + 1) * sizeof *fo->nodes);
  if (!fo->root || !fo->nodes || total > INT32_MAX) {
    gbdt_forest_free(fo);
    return -1;
  }
  fo->depth = fo->root + ntrees + 1;
  fo->ntrees = ntrees;
  int32_t at = 0;
  for (int t = 0; t < ntrees; t++) {
    const gbdt_node *nd = trees[t].nodes;
    gbdt_pnode *o = fo->nodes + at;
    int32_t depth = 0;
    fo->root[t] = at;
    for (int32_t k = 0; k < trees[t].n; k++) {
      int leaf = nd[k].left < 0;
      if (!leaf && (nd[k].feat < 0 || nd[k].feat >= GBDT_FOREST_MAXFEAT)) {
        gbdt_forest_free(fo);
        return -1;
      }
      o[k].cond = nd[k].cond;
      o[k].next[0] = at + (leaf ? k : nd[k].left);
      o[k].next[1] = at + (leaf ? k : nd[k].right);
      o[k].feat = (uint16_t)(leaf ? 0 : nd[k].feat);
      o[k].default_left = nd[k].default_left;
      o[k].pad = 0;
      /* the depth of a node: its parent's + 1 (parents come first) */
      int32_t d = 0;
      for (int32_t p = nd[k].parent; p >= 0; p = nd[p].parent) d++;
      if (d > depth) depth = d;
    }
    fo->depth[t] = depth;
    at += trees[t].n;
  }
  return 0;
}

void gbdt_forest_free(gbdt_forest *fo) {
  free(fo->root);
  free(fo->nodes);
  memset(fo, 0, sizeof *fo);
}

/* Rows walking a tree side by side: enough that their independent loads
 * overlap, few enough that their features stay in L1. */
#define PRED_BLOCK 64

void gbdt_forest_predict(const gbdt_forest *fo, const double *const *x, int nfeat, const int64_t *rows, int64_t n,
                         float base, float *out) {
  const gbdt_pnode *nodes = fo->nodes;
#pragma omp parallel for schedule(dynamic, 16) if (n > 4 * PRED_BLOCK)
  for (int64_t b0 = 0; b0 < n; b0 += PRED_BLOCK) {
    const int B = n - b0 < PRED_BLOCK ? (int)(n - b0) : PRED_BLOCK;
    float xf[PRED_BLOCK * GBDT_FOREST_MAXFEAT]; /* the block's features, row-major */
    float m[PRED_BLOCK];
    int32_t k[PRED_BLOCK];
    const int F = nfeat < GBDT_FOREST_MAXFEAT ? nfeat : GBDT_FOREST_MAXFEAT;
    for (int i = 0; i < B; i++) {
      int64_t r = rows[b0 + i];
      for (int f = 0; f < F; f++) xf[i * F + f] = (float)x[f][r];
      m[i] = base;
    }
    for (int t = 0; t < fo->ntrees; t++) {
      const int32_t r0 = fo->root[t], depth = fo->depth[t];
      for (int i = 0; i < B; i++) k[i] = r0;
      for (int d = 0; d < depth; d++)
        for (int i = 0; i < B; i++) {
          const gbdt_pnode *nd = &nodes[k[i]];
          float v = xf[i * F + nd->feat];
          int right = v != v ? !nd->default_left : !(v < nd->cond);
          k[i] = nd->next[right];
        }
      for (int i = 0; i < B; i++) m[i] += nodes[k[i]].cond;
    }
    memcpy(out + b0, m, (size_t)B * sizeof *m);
  }
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
