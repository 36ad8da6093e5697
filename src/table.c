/* table.c: struct-of-arrays tables: allocation, permutation, sorting, and
 * the row exchange between ranks (one Alltoallv per column).
 *
 * Sorting builds a permutation with a stable merge sort on the key columns
 * and applies it column by column, so wide tables move each column once.
 */
#include "table.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "radix.h"

size_t coltype_size(sc_coltype t) {
  static const size_t sz[] = {1, 4, 8, 8};
  return sz[t];
}

sc_status table_init(sc_table *t, const char *name, const char *spec) {
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  const char *p = spec;
  while (*p) {
    if (t->ncols == SC_TABLE_MAXCOLS) return sc_fail(SC_EINTERNAL, "table %s: too many columns", name);
    const char *colon = strchr(p, ':');
    if (!colon) return sc_fail(SC_EINTERNAL, "table %s: bad spec '%s'", name, spec);
    sc_column *c = &t->cols[t->ncols++];
    size_t len = (size_t)(colon - p);
    if (len >= sizeof c->name) return sc_fail(SC_EINTERNAL, "table %s: column name too long", name);
    memcpy(c->name, p, len);
    c->name[len] = 0;
    const char *ty = colon + 1;
    if (!strncmp(ty, "u8", 2)) c->type = SC_U8;
    else if (!strncmp(ty, "i32", 3)) c->type = SC_I32;
    else if (!strncmp(ty, "i64", 3)) c->type = SC_I64;
    else if (!strncmp(ty, "f64", 3)) c->type = SC_F64;
    else return sc_fail(SC_EINTERNAL, "table %s: bad type in '%s'", name, spec);
    const char *comma = strchr(ty, ',');
    p = comma ? comma + 1 : ty + strlen(ty);
  }
  return SC_OK;
}

void table_free(sc_table *t) {
  for (int i = 0; i < t->ncols; i++) {
    free(t->cols[i].data);
    t->cols[i].data = NULL;
  }
  t->n = t->cap = 0;
}

sc_status table_reserve(sc_table *t, int64_t rows) {
  if (rows <= t->cap) return SC_OK;
  int64_t cap = t->cap ? t->cap : 1024;
  while (cap < rows) cap += cap / 2 + 1;
  for (int i = 0; i < t->ncols; i++)
    SC_TRY(sc_realloc(&t->cols[i].data, (size_t)cap * coltype_size(t->cols[i].type)));
  t->cap = cap;
  return SC_OK;
}

sc_status table_resize(sc_table *t, int64_t rows) {
  SC_TRY(table_reserve(t, rows));
  t->n = rows;
  return SC_OK;
}

int table_col_index(const sc_table *t, const char *name) {
  for (int i = 0; i < t->ncols; i++)
    if (!strcmp(t->cols[i].name, name)) return i;
  return -1;
}

void *table_col(const sc_table *t, const char *name) {
  int i = table_col_index(t, name);
  return i < 0 ? NULL : t->cols[i].data;
}

static void *table_typed(const sc_table *t, const char *name, sc_coltype ty) {
  int i = table_col_index(t, name);
  if (i < 0 || t->cols[i].type != ty) {
    sc_fail(SC_EINTERNAL, "table %s has no column %s of the expected type", t->name, name);
    return NULL;
  }
  if (!t->cols[i].data && table_reserve((sc_table *)t, 1)) return NULL;
  return t->cols[i].data;
}

int64_t *table_i64(const sc_table *t, const char *name) { return table_typed(t, name, SC_I64); }
int32_t *table_i32(const sc_table *t, const char *name) { return table_typed(t, name, SC_I32); }
double *table_f64(const sc_table *t, const char *name) { return table_typed(t, name, SC_F64); }
uint8_t *table_u8(const sc_table *t, const char *name) { return table_typed(t, name, SC_U8); }

sc_status table_append(sc_table *dst, const sc_table *src) {
  if (dst->ncols != src->ncols) return sc_fail(SC_EINTERNAL, "table_append: %s and %s differ", dst->name, src->name);
  int64_t n0 = dst->n;
  SC_TRY(table_resize(dst, n0 + src->n));
  for (int i = 0; i < src->ncols; i++) {
    size_t es = coltype_size(src->cols[i].type);
    if (src->n) memcpy((char *)dst->cols[i].data + (size_t)n0 * es, src->cols[i].data, (size_t)src->n * es);
  }
  return SC_OK;
}

sc_status table_permute(sc_table *t, const int64_t *perm, int64_t n_out) {
  int64_t n = n_out > t->n ? n_out : t->n;
  for (int c = 0; c < t->ncols; c++) {
    size_t es = coltype_size(t->cols[c].type);
    /* a buffer of this column's size: the heap hands back the one the
     * previous column of that size freed (no fresh pages, no copy) */
    void *tmp = NULL;
    SC_TRY(sc_alloc(&tmp, (size_t)(n + SC_TABLE_SPARE_ROWS) * es));
    /* typed gathers: a memcpy call per element would dominate */
    switch (es) {
      case 1: {
        const uint8_t *src = t->cols[c].data;
        uint8_t *d = tmp;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n_out; i++) d[i] = src[perm[i]];
        break;
      }
      case 4: {
        const uint32_t *src = t->cols[c].data;
        uint32_t *d = tmp;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n_out; i++) d[i] = src[perm[i]];
        break;
      }
      default: {
        const uint64_t *src = t->cols[c].data;
        uint64_t *d = tmp;
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < n_out; i++) d[i] = src[perm[i]];
        break;
      }
    }
    free(t->cols[c].data);
    t->cols[c].data = tmp;
  }
  t->cap = n + SC_TABLE_SPARE_ROWS; /* every column now holds that many rows */
  t->n = n_out;
  return SC_OK;
}

/* Stable merge sort of an index array by up to three int64 keys. */
typedef struct {
  const int64_t *k[3];
  int nk;
} sort_keys;

static int key_less(const sort_keys *s, int64_t a, int64_t b) {
  for (int i = 0; i < s->nk; i++) {
    int64_t x = s->k[i][a], y = s->k[i][b];
    if (x != y) return x < y;
  }
  return 0;
}

static void merge_sort(const sort_keys *s, int64_t *a, int64_t *tmp, int64_t n, int depth) {
  if (n < 32) {
    for (int64_t i = 1; i < n; i++) {
      int64_t v = a[i], j = i;
      while (j > 0 && key_less(s, v, a[j - 1])) {
        a[j] = a[j - 1];
        j--;
      }
      a[j] = v;
    }
    return;
  }
  int64_t h = n / 2;
  if (depth < 4 && n > 100000) {
#pragma omp task shared(s, a, tmp)
    merge_sort(s, a, tmp, h, depth + 1);
#pragma omp task shared(s, a, tmp)
    merge_sort(s, a + h, tmp + h, n - h, depth + 1);
#pragma omp taskwait
  } else {
    merge_sort(s, a, tmp, h, depth + 1);
    merge_sort(s, a + h, tmp + h, n - h, depth + 1);
  }
  if (!key_less(s, a[h], a[h - 1])) return; /* already in order */
  int64_t i = 0, j = h, o = 0;
  while (i < h && j < n) tmp[o++] = key_less(s, a[j], a[i]) ? a[j++] : a[i++];
  while (i < h) tmp[o++] = a[i++];
  while (j < n) tmp[o++] = a[j++];
  memcpy(a, tmp, (size_t)n * sizeof *a);
}

/* Falls (rows below their predecessor) at most this many: a merge sort of
 * the row indices, whose merges inside a run are skipped; more: one stable
 * radix argsort per key, last key first (a merge sort comparing through the
 * index arrays took 0.4 s for 4 million lines of a file in time order). */
#define SORT_FEW_FALLS 64

sc_status table_sort(sc_table *t, const char *k1, const char *k2, const char *k3) {
  sort_keys s = {{0}, 0};
  const char *names[3] = {k1, k2, k3};
  for (int i = 0; i < 3; i++) {
    if (!names[i]) continue;
    const int64_t *k = table_i64(t, names[i]);
    if (!k) return SC_EINTERNAL;
    s.k[s.nk++] = k;
  }
  int64_t falls = 0;
  for (int64_t i = 1; i < t->n; i++) falls += key_less(&s, i, i - 1);
  if (falls == 0) return SC_OK;
  int64_t *perm = NULL, *tmp = NULL;
  SC_TRY(sc_alloc(&perm, (size_t)(t->n + 1) * sizeof *perm));
  sc_status st = sc_alloc(&tmp, (size_t)(t->n + 1) * sizeof *tmp);
  for (int64_t i = 0; !st && i < t->n; i++) perm[i] = i;
  if (!st && falls <= SORT_FEW_FALLS) {
#pragma omp parallel
#pragma omp single
    merge_sort(&s, perm, tmp, t->n, 0);
  } else if (!st) {
    /* perm: the order so far (the identity while every key sorted was in
     * order); each key reordered by it, sorted, and the orders composed */
    int64_t *o = NULL;
    int identity = 1;
    st = sc_alloc(&o, (size_t)(t->n + 1) * sizeof *o);
    for (int j = s.nk - 1; j >= 0 && !st; j--) {
      const int64_t *kj = s.k[j];
      if (!identity) {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < t->n; i++) tmp[i] = kj[perm[i]];
        kj = tmp;
      }
      int r = radix_argsort_i64(kj, t->n, o, NULL);
      if (r < 0) st = sc_fail(SC_ENOMEM, "out of memory sorting %s", t->name);
      else if (r == 0 && identity) {
        int64_t *x = perm;
        perm = o;
        o = x;
        identity = 0;
      } else if (r == 0) {
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < t->n; i++) tmp[i] = perm[o[i]];
        memcpy(perm, tmp, (size_t)t->n * sizeof *perm);
      }
    }
    free(o);
  }
  free(tmp);
  if (!st) st = table_permute(t, perm, t->n);
  free(perm);
  return st;
}

/* The places of four rows in their destinations' runs, h[d] being the next
 * free place of destination d: each destination's counter loaded once, the
 * group's earlier rows of the same destination counted, the counters stored
 * back in row order (a later row's store wins). A counter loaded, bumped
 * and stored for every row made each row wait for the previous row's store
 * of the same counter (store forwarding, about 5 cycles; at 2 ranks half
 * the rows follow one with their destination). */
static inline void next4(const int32_t *d, int64_t *h, int64_t p[4]) {
  int32_t d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3];
  p[0] = h[d0];
  p[1] = h[d1] + (d1 == d0);
  p[2] = h[d2] + (d2 == d0) + (d2 == d1);
  p[3] = h[d3] + (d3 == d0) + (d3 == d1) + (d3 == d2);
  h[d0] = p[0] + 1;
  h[d1] = p[1] + 1;
  h[d2] = p[2] + 1;
  h[d3] = p[3] + 1;
}

/* Rows [a, b) of column c (elements of type T) to base[dest[i]] at their
 * destination's next place nx[dest[i]], four at a time (next4). */
#define SCATTER(T)                                                                 \
  do {                                                                             \
    const T *src = t->cols[c].data;                                                \
    int64_t i = a, p[4];                                                           \
    for (; i + 4 <= b; i += 4) {                                                   \
      next4(dest + i, nx, p);                                                      \
      for (int q = 0; q < 4; q++) ((T *)(void *)base[dest[i + q]])[p[q]] = src[i + q]; \
    }                                                                              \
    for (; i < b; i++) ((T *)(void *)base[dest[i]])[nx[dest[i]]++] = src[i];       \
  } while (0)

/* Rows move to their destination rank in one scatter per column, each
 * thread its slice of the rows (per-thread histograms give every thread
 * its places): rows for other ranks into a send buffer grouped by rank,
 * this rank's own rows straight to their place in the new column, which
 * is also where the other ranks' rows are received (in source rank order,
 * each source's rows in its order). A row that stays is copied once, a
 * row that leaves twice (send buffer, then the transfer); no permutation
 * index is read. */
sc_status table_exchange(sc_table *t, const int32_t *dest) {
  const int size = comm_size(), me = comm_rank();
  if (size == 1) return comm_agree(SC_OK); /* every row stays, in order */
  const int T = omp_get_max_threads();
  const int64_t n = t->n;
  int64_t *counts = NULL, *rcounts = NULL, *sdisp = NULL, *rdisp = NULL, *start = NULL, *next = NULL;
  char **base = NULL, *sendbuf = NULL;
  sc_status s = sc_calloc(&counts, (size_t)size, sizeof *counts);
  if (!s) s = sc_calloc(&rcounts, (size_t)size, sizeof *rcounts);
  if (!s) s = sc_alloc(&sdisp, sizeof *sdisp * (size_t)size);
  if (!s) s = sc_alloc(&rdisp, sizeof *rdisp * (size_t)size);
  if (!s) s = sc_alloc(&base, sizeof *base * (size_t)size);
  if (!s) s = sc_calloc(&start, (size_t)T * (size_t)size, sizeof *start); /* per thread and destination */
  if (!s) s = sc_alloc(&next, sizeof *next * (size_t)T * (size_t)size);
  if (!s) {
#pragma omp parallel num_threads(T)
    {
      int th = omp_get_thread_num();
      int64_t *h = start + (size_t)th * (size_t)size;
      int64_t i = n * th / T, e = n * (th + 1) / T, p[4];
      for (; i + 4 <= e; i += 4) next4(dest + i, h, p);
      for (; i < e; i++) h[dest[i]]++;
    }
    for (int th = 0; th < T; th++)
      for (int r = 0; r < size; r++) counts[r] += start[(size_t)th * (size_t)size + (size_t)r];
  }
  s = comm_agree(s);
  if (s) goto done;
  comm_alltoall_counts(counts, rcounts);
  /* receive layout: source rank order; send layout: the other ranks' groups */
  int64_t rn = 0, sn = 0;
  for (int r = 0; r < size; r++) {
    rdisp[r] = rn;
    rn += rcounts[r];
    sdisp[r] = sn;
    if (r != me) sn += counts[r];
  }
  for (int r = 0; r < size; r++) {
    int64_t o = r == me ? rdisp[me] : sdisp[r];
    for (int th = 0; th < T; th++) {
      int64_t c = start[(size_t)th * (size_t)size + (size_t)r];
      start[(size_t)th * (size_t)size + (size_t)r] = o;
      o += c;
    }
  }
  /* this rank's own rows do not travel */
  counts[me] = 0;
  rcounts[me] = 0;
  s = comm_agree(sc_alloc(&sendbuf, (size_t)(sn ? sn : 1) * 8));
  /* nothing leaves and nothing arrives: the columns stay as they are (this
   * rank still joins every collective call, as in the other case) */
  const int still = sn == 0 && rn == n;
  for (int c = 0; !s && c < t->ncols; c++) {
    size_t es = coltype_size(t->cols[c].type);
    char *recv = still ? t->cols[c].data : NULL;
    s = comm_agree(still ? SC_OK : sc_alloc(&recv, (size_t)(rn + SC_TABLE_SPARE_ROWS) * es));
    if (s) break;
    if (still) {
      s = comm_alltoallv_into(sendbuf, counts, sdisp, recv, rcounts, rdisp, es);
      continue;
    }
    for (int r = 0; r < size; r++) base[r] = r == me ? recv : sendbuf;
    memcpy(next, start, sizeof *next * (size_t)T * (size_t)size);
#pragma omp parallel num_threads(T)
    {
      int th = omp_get_thread_num();
      int64_t *nx = next + (size_t)th * (size_t)size;
      int64_t a = n * th / T, b = n * (th + 1) / T;
      switch (es) {
        case 1: SCATTER(uint8_t); break;
        case 4: SCATTER(uint32_t); break;
        default: SCATTER(uint64_t); break;
      }
    }
    s = comm_alltoallv_into(sendbuf, counts, sdisp, recv, rcounts, rdisp, es);
    if (s) {
      free(recv);
      break;
    }
    free(t->cols[c].data);
    t->cols[c].data = recv;
  }
  if (!s) {
    if (!still) t->cap = rn + SC_TABLE_SPARE_ROWS;
    t->n = rn;
  }
done:
  free(counts);
  free(rcounts);
  free(sdisp);
  free(rdisp);
  free(base);
  free(start);
  free(next);
  free(sendbuf);
  return s;
}

sc_status table_allgather(sc_table *t) {
  sc_status s = SC_OK;
  int64_t total = 0;
  for (int c = 0; !s && c < t->ncols; c++) {
    size_t es = coltype_size(t->cols[c].type), got = 0;
    void *all = NULL;
    s = comm_allgatherv(t->cols[c].data, (size_t)t->n * es, &all, &got, NULL);
    if (!s) {
      free(t->cols[c].data);
      t->cols[c].data = all;
      total = (int64_t)(got / es);
    }
  }
  if (!s) t->n = t->cap = total;
  return comm_agree(s);
}

void table_drop_last(sc_table *t) {
  if (t->ncols == 0) return;
  t->ncols--;
  free(t->cols[t->ncols].data);
  t->cols[t->ncols].data = NULL;
}
