/* insights_core.c: calendar, fixed-point money, group-by records and exact
 * distributed top-k sums for the insights stage (see insights_core.h).
 *
 * The group-by follows the usual map/shuffle/reduce shape: each rank merges
 * its own records first (so the shuffle carries one row per key and rank),
 * sends each row to the key's owner with one Alltoallv, and merges again.
 * Merging is a sort by the keys (kernels/groupby.c: a radix sort, the keys
 * packed into one word when their ranges allow), then one pass over each
 * run of equal keys.
 * Values are int64 (counts, micro-units), so the merge is exact and the
 * result is the same on any rank count.
 */
#include "insights_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "comm.h"
#include "csv.h"
#include "fmt.h"
#include "groupby.h"
#include "search.h"

const char *const ins_month_names[12] = {"January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December"};
const char *const ins_weekday_names[7] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

/* ---- calendar ----------------------------------------------------------- */


int32_t ins_month_index(int32_t day) {
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  return (int32_t)(y * 12 + m - 1);
}

int ins_weekday(int32_t day) {
  /* 1970-01-01 was a Thursday (3 with Monday = 0) */
  int64_t w = ((int64_t)day + 3) % 7;
  return (int)(w < 0 ? w + 7 : w);
}

char *ins_iso_day(int32_t day, char *buf) {
  return format_date(day, buf);
}

char *ins_iso_month(int32_t month_index, char *buf) {
  int32_t y = month_index / 12, m = month_index % 12 + 1;
  snprintf(buf, 11, "%04d-%02d-01", (int)y, (int)m);
  return buf;
}

/* ---- fixed point money --------------------------------------------------- */

int64_t ins_fx(double amount) { return (int64_t)llround(amount * INS_FX_SCALE); }

char *ins_fx_put(char *p, int64_t fx) {
  uint64_t a = fx < 0 ? (uint64_t)0 - (uint64_t)fx : (uint64_t)fx;
  uint64_t frac = a % INS_FX_SCALE;
  if (fx < 0) *p++ = '-';
  p = fmt_i64(p, (int64_t)(a / INS_FX_SCALE));
  if (frac) {
    int e = 6;
    while (frac % 10 == 0) frac /= 10, e--;
    *p++ = '.';
    for (int i = e - 1; i >= 0; i--, frac /= 10) p[i] = (char)('0' + frac % 10);
    p += e;
  }
  return p;
}

char *ins_fx_text(int64_t fx, char *buf) {
  *ins_fx_put(buf, fx) = 0;
  return buf;
}

/* ---- aggregation records ------------------------------------------------- */

static void rec_merge(ins_rec *o, const int64_t *v, unsigned min_mask) {
  for (int j = 0; j < 4; j++) {
    if (min_mask & (1u << j)) o->v[j] = SC_MIN(o->v[j], v[j]);
    else o->v[j] += v[j];
  }
}

sc_status ins_recs_push(ins_recs *a, int64_t k0, int64_t k1, int64_t k2, int64_t v0, int64_t v1, int64_t v2,
                        int64_t v3) {
  if (a->n == a->cap) {
    /* full: merge what is there first, and grow only when that leaves the
       array more than half full (few keys: the memory stays small) */
    if (a->n) SC_TRY(ins_recs_compact(a));
    if (2 * a->n > a->cap || !a->cap) {
      int64_t cap = a->cap ? a->cap * 2 : 1024;
      SC_TRY(sc_realloc(&a->r, (size_t)cap * sizeof *a->r));
      a->cap = cap;
    }
  }
  ins_rec *r = &a->r[a->n++];
  r->k[0] = k0;
  r->k[1] = k1;
  r->k[2] = k2;
  r->v[0] = v0;
  r->v[1] = v1;
  r->v[2] = v2;
  r->v[3] = v3;
  return SC_OK;
}

void ins_recs_free(ins_recs *a) {
  free(a->r);
  a->r = NULL;
  a->n = a->cap = 0;
}

static int rec_key_cmp(const void *pa, const void *pb) {
  const ins_rec *a = pa, *b = pb;
  for (int i = 0; i < 3; i++)
    if (a->k[i] != b->k[i]) return a->k[i] < b->k[i] ? -1 : 1;
  return 0;
}

sc_status ins_recs_compact(ins_recs *a) {
  if (a->n < 2) return SC_OK;
  int64_t *order = NULL, *start = NULL;
  ins_rec *out = NULL;
  sc_status s = sc_alloc(&order, (size_t)a->n * sizeof *order);
  if (!s) s = sc_alloc(&start, (size_t)(a->n + 1) * sizeof *start);
  if (!s) s = sc_alloc(&out, (size_t)a->cap * sizeof *out);
  int64_t ng = -1;
  if (!s) {
    const int64_t *cols[3] = {&a->r[0].k[0], &a->r[0].k[1], &a->r[0].k[2]};
    ng = gb_sort(cols, 3, sizeof(ins_rec) / sizeof(int64_t), a->n, order, start);
    if (ng < 0) s = sc_fail(SC_ENOMEM, "out of memory (sorting %lld records)", (long long)a->n);
  }
  if (!s) {
    /* a group's records in row order: sums and minima are exact, so the
       merge gives the same values in any order */
#pragma omp parallel for schedule(static) if (ng > (1 << 16) && !omp_in_parallel())
    for (int64_t g = 0; g < ng; g++) {
      out[g] = a->r[order[start[g]]];
      for (int64_t p = start[g] + 1; p < start[g + 1]; p++) rec_merge(&out[g], a->r[order[p]].v, a->min_mask);
    }
    free(a->r);
    a->r = out;
    a->n = ng;
    out = NULL;
  }
  free(order);
  free(start);
  free(out);
  return s;
}

sc_status ins_recs_exchange_all(ins_recs *a, ins_dest_fn dest, const void *ctx) {
  int size = comm_size();
  int64_t *counts = NULL, *offs = NULL, *rcounts = NULL;
  int32_t *d = NULL;
  ins_rec *send = NULL;
  sc_status s = sc_calloc(&counts, (size_t)size, sizeof *counts);
  if (!s) s = sc_calloc(&offs, (size_t)size, sizeof *offs);
  if (!s) s = sc_calloc(&rcounts, (size_t)size, sizeof *rcounts);
  if (!s) s = sc_alloc(&d, (size_t)(a->n + 1) * sizeof *d);
  if (!s) s = sc_alloc(&send, (size_t)(a->n + 1) * sizeof *send);
  if (!s) {
    for (int64_t i = 0; i < a->n; i++) {
      d[i] = dest(&a->r[i], size, ctx);
      counts[d[i]]++;
    }
    for (int r = 1; r < size; r++) offs[r] = offs[r - 1] + counts[r - 1];
    for (int64_t i = 0; i < a->n; i++) send[offs[d[i]]++] = a->r[i];
  }
  s = comm_agree(s);
  void *recv = NULL;
  int64_t rn = 0;
  if (!s) s = comm_agree(comm_alltoallv(send, counts, sizeof(ins_rec), &recv, rcounts, &rn));
  if (!s) {
    free(a->r);
    a->r = recv;
    a->n = a->cap = rn;
    s = comm_agree(ins_recs_compact(a));
  } else {
    free(recv);
  }
  free(counts);
  free(offs);
  free(rcounts);
  free(d);
  free(send);
  return s;
}

static int rec_top_cmp(const void *pa, const void *pb) {
  const ins_rec *a = pa, *b = pb;
  if (a->v[0] != b->v[0]) return a->v[0] > b->v[0] ? -1 : 1;
  return rec_key_cmp(a, b);
}

sc_status ins_recs_top_all(const ins_recs *a, int64_t n_top, ins_rec **top, int64_t *n_out) {
  ins_rec *mine = NULL;
  *top = NULL;
  *n_out = 0;
  sc_status s = sc_alloc(&mine, (size_t)(a->n + 1) * sizeof *mine);
  int64_t m = 0;
  if (!s) {
    if (a->n) memcpy(mine, a->r, (size_t)a->n * sizeof *mine);
    if (a->n > 1) qsort(mine, (size_t)a->n, sizeof *mine, rec_top_cmp);
    m = SC_MIN(a->n, n_top);
  }
  s = comm_agree(s);
  void *all = NULL;
  size_t bytes = 0;
  if (!s) s = comm_agree(comm_allgatherv(mine, (size_t)m * sizeof *mine, &all, &bytes, NULL));
  free(mine);
  if (s) {
    free(all);
    return s;
  }
  int64_t n = (int64_t)(bytes / sizeof(ins_rec));
  if (n > 1) qsort(all, (size_t)n, sizeof(ins_rec), rec_top_cmp);
  *top = all;
  *n_out = SC_MIN(n, n_top);
  return SC_OK;
}

/* ---- exact top-k sums ---------------------------------------------------- */


sc_status ins_topk_sums_all(const int64_t *v, int64_t n, const int64_t *ks, int nq, int64_t *sums) {
  int64_t total = comm_sum1_i64(n);
  int64_t *pre = NULL, *lo = NULL, *hi = NULL, *buf = NULL;
  sc_status s = sc_alloc(&pre, (size_t)(n + 1) * sizeof *pre);
  if (!s) s = sc_alloc(&lo, (size_t)(nq + 1) * sizeof *lo);
  if (!s) s = sc_alloc(&hi, (size_t)(nq + 1) * sizeof *hi);
  if (!s) s = sc_alloc(&buf, (size_t)(2 * nq + 2) * sizeof *buf);
  for (int q = 0; !s && q < nq; q++)
    if (ks[q] < 0 || ks[q] > total)
      s = sc_fail(SC_EINTERNAL, "insights: top-%lld query over %lld values", (long long)ks[q], (long long)total);
  s = comm_agree(s);
  if (s) goto done;
  pre[0] = 0;
  for (int64_t i = 0; i < n; i++) pre[i + 1] = pre[i] + v[i];
  int64_t gmin = comm_min1_i64(n ? v[0] : INT64_MAX), gmax = comm_max1_i64(n ? v[n - 1] : INT64_MIN);
  /* invariant per query: count(>= lo) >= k and count(>= hi) < k */
  /* no values at all: every k is 0 and nothing is bisected (gmin is then
   * INT64_MAX, and gmin + 1 overflowed: UBSan found it) */
  for (int q = 0; q < nq; q++) {
    lo[q] = total ? gmin : 0;
    hi[q] = total ? gmax + 1 : 1;
  }
  for (;;) {
    int open = 0;
    for (int q = 0; q < nq; q++) {
      if (ks[q] > 0 && hi[q] - lo[q] > 1) {
        open = 1;
        int64_t mid = lo[q] + (hi[q] - lo[q]) / 2;
        buf[q] = n - lower_bound_i64(v, n, mid);
      } else {
        buf[q] = 0;
      }
    }
    /* every rank sees the same lo/hi, so all agree on `open` */
    if (!open) break;
    comm_sum_i64(buf, (size_t)nq);
    for (int q = 0; q < nq; q++) {
      if (ks[q] <= 0 || hi[q] - lo[q] <= 1) continue;
      int64_t mid = lo[q] + (hi[q] - lo[q]) / 2;
      if (buf[q] >= ks[q]) lo[q] = mid;
      else hi[q] = mid;
    }
  }
  /* count and sum of the values strictly above each threshold */
  for (int q = 0; q < nq; q++) {
    int64_t i = ks[q] > 0 ? lower_bound_i64(v, n, lo[q] + 1) : n;
    buf[2 * q] = n - i;
    buf[2 * q + 1] = pre[n] - pre[i];
  }
  comm_sum_i64(buf, (size_t)(2 * nq));
  for (int q = 0; q < nq; q++)
    sums[q] = ks[q] > 0 ? buf[2 * q + 1] + (ks[q] - buf[2 * q]) * lo[q] : 0;
done:
  free(pre);
  free(lo);
  free(hi);
  free(buf);
  return s;
}
