/* insights.c: the analyst's numbers (stage_insights): KPIs, monthly revenue,
 * seasonality, cohort retention, revenue concentration, top products and
 * regions, and the daily sales fact table, as BI-ready CSVs, as tables in
 * results.h5 (/insights/...) and as numbers under summary.json "insights".
 *
 * How it works. Lines arrive partitioned by user and sorted by
 * (user_id, row), so everything per customer (first month, active months,
 * monetary, distinct products and regions) is computed where the customer
 * lives; month and calendar totals are int64 arrays added with one
 * Allreduce. Keys that span users (orders, products, regions, days) go
 * through a group-by on records (insights_core.h): each key is merged on
 * one owner rank. The daily fact table is range-partitioned by date (ranks
 * own contiguous days, balanced by the global count of rows per day), so
 * rank r's rows follow rank r-1's in (date, sku, region) order and each
 * rank writes its text at its offset of the CSV (MPI-IO). The group-bys are
 * radix sorts (kernels/groupby.c) and the pass over the lines runs on the
 * OpenMP threads, a slice of whole customers each. Revenue concentration uses
 * the exact distributed top-k sums of insights_core.h: no rank holds more
 * than its own customers. Money is int64 micro-units throughout, so every
 * output is the same, byte for byte, at any rank count. The definitions are
 * in docs/bi.md.
 */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "fmt.h"
#include "groupby.h"
#include "insights_core.h"
#include "keymap.h"
#include "stages.h"

#define TOP_PRODUCTS 25
#define TOP_REGIONS 25
#define MAX_MONTHS 1200           /* 100 years: the cohort matrix is months x months */
#define PASS_MIN_LINES 512        /* lines (or daily rows) a thread takes at least */

static const int concentration_pcts[4] = {1, 5, 10, 20};
static const int retention_months[3] = {1, 3, 6};

/* What the stage computed, replicated on every rank. */
typedef struct {
  int32_t day0, day1;  ///< range of the valid lines' dates
  int32_t m0;          ///< month index of day0
  int nm;              ///< months in the range
  int has_sku;         ///< some valid line has a product
  /* totals */
  int64_t revenue, units, valid_lines, return_lines, returned_fx, orders, customers, customer_revenue;
  /* per month of the range */
  int64_t *m_rev, *m_units, *m_lines, *m_cust, *m_new, *m_orders;
  /* calendar */
  int64_t moy_rev[12], moy_units[12], moy_orders[12], dow_rev[7], dow_units[7], dow_orders[7];
  int64_t *cohort;  ///< [c * nm + k]: customers of cohort c active k months later
  /* concentration */
  int64_t lorenz_k[101], lorenz_fx[101];
  int64_t top_k[4], top_fx[4];
  /* top lists */
  ins_rec *products, *regions;
  int64_t n_products, n_regions;
  int64_t daily_rows;
} insights;

/* Sort keys that make the outputs sorted by the names users see (the
 * dictionary text for online-retail and transactions, the number for
 * marketplace ids). */
typedef struct {
  int64_t *sku_key, *region_key;
  int64_t n_sku, n_region;
} name_keys;

/* C11's qsort takes no context: the names being ranked (one call at a time,
   on the master thread). */
static char *const *sort_names;
static int name_cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  int c = strcmp(sort_names[x], sort_names[y]);
  return c ? c : (x < y ? -1 : x > y);
}

static sc_status name_ranks(char *const *names, int64_t n, int64_t **key) {
  *key = NULL;
  if (!names || n <= 0) return SC_OK;
  int64_t *order = NULL;
  SC_TRY(sc_alloc(&order, (size_t)n * sizeof *order));
  sc_status s = sc_alloc(key, (size_t)n * sizeof **key);
  if (!s) {
    for (int64_t i = 0; i < n; i++) order[i] = i;
    sort_names = names;
    if (n > 1) qsort(order, (size_t)n, sizeof *order, name_cmp);
    for (int64_t i = 0; i < n; i++) (*key)[order[i]] = i;
  }
  free(order);
  return s;
}

/* Both keys are one-to-one: names' ranks land in [0, n), other ids (none
 * named) keep their value, outside [0, n). */
static int64_t sku_key(const name_keys *nk, int64_t sku) {
  return (nk->sku_key && sku >= 0 && sku < nk->n_sku) ? nk->sku_key[sku] : sku;
}
static int64_t region_key(const name_keys *nk, int64_t region) {
  return (nk->region_key && region >= 0 && region < nk->n_region) ? nk->region_key[region] : region;
}

/* Owners of group-by keys. */
static int dest_hash_k0(const ins_rec *r, int size, const void *ctx) {
  (void)ctx;
  return rank_of_hash(sc_mix64((uint64_t)r->k[0]), size);
}
typedef struct {
  int32_t day0;
  const int32_t *owner;  ///< rank of each day of the range
} day_owner;
static int dest_day(const ins_rec *r, int size, const void *ctx) {
  (void)size;
  const day_owner *o = ctx;
  return o->owner[r->k[0] - o->day0];
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  int64_t *v;
  int64_t n, cap;
} i64vec;
static sc_status vec_push(i64vec *a, int64_t x) {
  if (a->n == a->cap) {
    int64_t cap = a->cap ? a->cap * 2 : 64;
    SC_TRY(sc_realloc(&a->v, (size_t)cap * sizeof *a->v));
    a->cap = cap;
  }
  a->v[a->n++] = x;
  return SC_OK;
}

static void insights_free(insights *in) {
  free(in->m_rev);
  free(in->m_units);
  free(in->m_lines);
  free(in->m_cust);
  free(in->m_new);
  free(in->m_orders);
  free(in->cohort);
  free(in->products);
  free(in->regions);
}

/* ---- pass over the lines -------------------------------------------------- */

typedef struct {
  const int64_t *user, *order, *sku;
  const int32_t *region, *day, *qty;
  const double *amount;
  const uint8_t *flags;
  int64_t n;
} line_cols;

static sc_status lines_columns(const sc_table *t, line_cols *c) {
  c->n = t->n;
  if (!(c->user = table_i64(t, "user_id")) || !(c->order = table_i64(t, "order_id")) ||
      !(c->sku = table_i64(t, "sku")) || !(c->region = table_i32(t, "region")) || !(c->day = table_i32(t, "day")) ||
      !(c->qty = table_i32(t, "quantity")) || !(c->amount = table_f64(t, "amount")) ||
      !(c->flags = table_u8(t, "flags")))
    return SC_EINTERNAL;
  return SC_OK;
}

/* Global date range of the valid lines and whether any has a product. */
static sc_status scan_range(const line_cols *c, insights *in) {
  int64_t lo = INT64_MAX, hi = INT64_MIN, sku = 0;
  sc_status s = SC_OK;
  for (int64_t i = 0; i < c->n; i++) {
    if (!(c->flags[i] & SC_LINE_VALID)) continue;
    if (c->day[i] == SC_NO_DAY) {
      s = sc_fail(SC_EINTERNAL, "insights: a valid line (row %lld) has no date", (long long)i);
      break;
    }
    lo = SC_MIN(lo, c->day[i]);
    hi = SC_MAX(hi, c->day[i]);
    sku |= c->sku[i] >= 0;
  }
  if (!s)
    for (int64_t i = 1; i < c->n; i++)
      if (c->user[i] < c->user[i - 1]) {
        s = sc_fail(SC_EINTERNAL, "insights: lines are not sorted by user_id (store written by another version?)");
        break;
      }
  SC_TRY(comm_agree(s));
  int64_t r[3] = {-lo, hi, sku};
  comm_max_i64(r, 3);
  in->has_sku = r[2] != 0;
  if (r[1] == INT64_MIN) {  /* no valid line anywhere */
    in->day0 = in->day1 = 0;
    in->nm = 0;
    return SC_OK;
  }
  in->day0 = (int32_t)-r[0];
  in->day1 = (int32_t)r[1];
  in->m0 = ins_month_index(in->day0);
  int64_t nm = (int64_t)ins_month_index(in->day1) - in->m0 + 1;
  if (nm > MAX_MONTHS)
    return comm_agree(sc_fail(SC_EINPUT,
                              "insights: the valid lines span %lld months (more than %d): check the input's dates",
                              (long long)nm, MAX_MONTHS));
  in->nm = (int)nm;
  return SC_OK;
}

/* Dense numbers 0..n-1 of the product (or region) ids of this rank's
 * valid lines: id - lo when the ids span a range not much wider than the
 * lines, else first-seen numbers from a keymap (idx: a number for each
 * line, ids in map.a). */
typedef struct {
  int64_t lo, n;
  int32_t *idx;
  keymap map;
} id_index;

/* Per-id sums of one thread: revenue, units, lines, customers, and the
 * last customer counted (stamp). */
typedef struct {
  int64_t *fx, *q, *lines, *cust, *stamp;
} id_sums;

/* What one thread adds up over its slice of the lines (whole customers). */
typedef struct {
  id_sums ids[2];        ///< products, regions
  int64_t *id_block;
  int64_t revenue, units, valid_lines, return_lines, returned_fx, customers, customer_revenue;
  int64_t moy_rev[12], moy_units[12], dow_rev[7], dow_units[7];
  int64_t *m_rev, *m_units, *m_lines, *m_cust, *m_new, *cohort;  ///< nm each, cohort nm x nm
  int64_t *stamp, *act;  ///< per month: the last customer active in it; this customer's active months
  int64_t *block;        ///< the memory of the arrays above
  i64vec monetary;
  ins_recs orders;
} pass_acc;

/* First line of slice t of T: the lines split evenly, moved on to the
 * next customer's first line. */
static int64_t slice_start(const int64_t *user, int64_t n, int t, int T) {
  int64_t i = sc_muldiv(t, n, T);
  while (i > 0 && i < n && user[i] == user[i - 1]) i++;
  return i;
}

/* Month (from m0) and weekday of each day of the range. */
typedef struct {
  int32_t day0;
  int32_t *month;
  uint8_t *weekday;
} day_table;

/* Appends a record without merging (order runs: nearly one per order, so
 * compacting on the way would only sort them more often). */
static sc_status recs_add(ins_recs *a, int64_t k0, int64_t v0, int64_t v1, int64_t v2) {
  if (a->n == a->cap) {
    int64_t cap = a->cap ? 2 * a->cap : 4096;
    SC_TRY(sc_realloc(&a->r, (size_t)cap * sizeof *a->r));
    a->cap = cap;
  }
  a->r[a->n++] = (ins_rec){{k0, 0, 0}, {v0, v1, v2, 0}};
  return SC_OK;
}

/* One slice: totals, months, calendar, cohorts, monetary per customer and
 * order runs; the valid lines' rows and amounts from position p on. */
static sc_status pass_slice(const line_cols *c, const insights *in, const day_table *dt, const id_index *ix,
                            int64_t lo, int64_t hi, int64_t p, int64_t *vrow, int64_t *vfx, pass_acc *a) {
  int nm = in->nm;
  sc_status s = SC_OK;
  /* consecutive lines of one order (the usual case: lines are sorted by
     source row) become one record before the group-by */
  int64_t run_order = 0, run_fx = 0, run_day = 0, run_lines = 0;
  for (int m = 0; m < nm; m++) a->stamp[m] = -1;
  for (int w = 0; w < 2; w++)
    for (int64_t k = 0; k < ix[w].n; k++) a->ids[w].stamp[k] = -1;
  int64_t i = lo;
  while (!s && i < hi) {
    int64_t u = c->user[i], j = i, fx_user = 0, na = 0;
    for (; !s && j < hi && c->user[j] == u; j++) {
      uint8_t fl = c->flags[j];
      int64_t fx = ins_fx(c->amount[j]);
      if (fl & SC_LINE_RETURN) {
        a->return_lines++;
        a->returned_fx -= fx;
      }
      if (!(fl & SC_LINE_VALID)) continue;
      int32_t d = c->day[j];
      int mi = dt->month[d - dt->day0], moy = (mi + in->m0) % 12, dow = dt->weekday[d - dt->day0];
      int64_t q = c->qty[j];
      a->valid_lines++;
      a->revenue += fx;
      a->units += q;
      a->m_rev[mi] += fx;
      a->m_units[mi] += q;
      a->m_lines[mi]++;
      a->moy_rev[moy] += fx;
      a->moy_units[moy] += q;
      a->dow_rev[dow] += fx;
      a->dow_units[dow] += q;
      vrow[p] = j;
      vfx[p++] = fx;
      /* products (lines with one) and regions: sums, and customers as the
         first line of each customer for the id */
      for (int w = 0; w < 2; w++) {
        int64_t id = w == 0 ? c->sku[j] : c->region[j];
        if (w == 0 && id < 0) continue;
        int64_t k = ix[w].idx ? ix[w].idx[j] : id - ix[w].lo;
        id_sums *su = &a->ids[w];
        su->fx[k] += fx;
        su->q[k] += q;
        su->lines[k]++;
        if (u != 0 && su->stamp[k] != i) {
          su->stamp[k] = i;
          su->cust[k]++;
        }
      }
      if (run_lines && run_order != c->order[j]) {
        s = recs_add(&a->orders, run_order, run_fx, run_day, run_lines);
        run_lines = 0;
      }
      if (!run_lines) {
        run_order = c->order[j];
        run_fx = 0;
        run_day = d;
      }
      run_fx += fx;
      run_day = SC_MIN(run_day, d);
      run_lines++;
      if (u != 0) {
        fx_user += fx;
        if (a->stamp[mi] != i) {
          a->stamp[mi] = i;
          a->act[na++] = mi;
        }
      }
    }
    i = j;
    if (s || u == 0 || na == 0) continue;
    /* a customer: one with at least one valid line */
    a->customers++;
    a->customer_revenue += fx_user;
    s = vec_push(&a->monetary, fx_user);
    int64_t first = a->act[0];
    for (int64_t k = 1; k < na; k++) first = SC_MIN(first, a->act[k]);
    a->m_new[first]++;
    for (int64_t k = 0; k < na; k++) {
      a->m_cust[a->act[k]]++;
      a->cohort[first * nm + (a->act[k] - first)]++;
    }
  }
  if (!s && run_lines) s = recs_add(&a->orders, run_order, run_fx, run_day, run_lines);
  return s;
}

/* Adds thread b's sums to a (int64: exact in any order). */
static void acc_add(pass_acc *a, const pass_acc *b, int nm) {
  a->revenue += b->revenue;
  a->units += b->units;
  a->valid_lines += b->valid_lines;
  a->return_lines += b->return_lines;
  a->returned_fx += b->returned_fx;
  a->customers += b->customers;
  a->customer_revenue += b->customer_revenue;
  for (int m = 0; m < 12; m++) a->moy_rev[m] += b->moy_rev[m], a->moy_units[m] += b->moy_units[m];
  for (int d = 0; d < 7; d++) a->dow_rev[d] += b->dow_rev[d], a->dow_units[d] += b->dow_units[d];
  for (int m = 0; m < nm; m++) {
    a->m_rev[m] += b->m_rev[m];
    a->m_units[m] += b->m_units[m];
    a->m_lines[m] += b->m_lines[m];
    a->m_cust[m] += b->m_cust[m];
    a->m_new[m] += b->m_new[m];
  }
  for (int64_t x = 0; x < (int64_t)nm * nm; x++) a->cohort[x] += b->cohort[x];
}

/* Moves b's records to the end of a (b is left empty); into an empty a
 * they move without a copy. */
static sc_status recs_append(ins_recs *a, ins_recs *b) {
  if (!b->n) return SC_OK;
  if (!a->n) {
    free(a->r);
    *a = (ins_recs){b->r, b->n, b->cap, a->min_mask};
    *b = (ins_recs){NULL, 0, 0, b->min_mask};
    return SC_OK;
  }
  if (a->n + b->n > a->cap) {
    SC_TRY(sc_realloc(&a->r, (size_t)(a->n + b->n) * sizeof *a->r));
    a->cap = a->n + b->n;
  }
  memcpy(a->r + a->n, b->r, (size_t)b->n * sizeof *b->r);
  a->n += b->n;
  ins_recs_free(b);
  return SC_OK;
}

/* Numbers for the ids of this rank's valid lines (w 0: products, ids
 * >= 0 only; 1: regions), whose range [lo, hi] the caller found (any: some
 * line has one); nv valid lines. */
static sc_status id_index_build(const line_cols *c, int w, int any, int64_t lo, int64_t hi, int64_t nv, id_index *ix) {
  memset(ix, 0, sizeof *ix);
  keymap_init(&ix->map);
  if (!any) return SC_OK;
  if ((uint64_t)hi - (uint64_t)lo < (uint64_t)(2 * nv + 65536)) {
    ix->lo = lo;
    ix->n = hi - lo + 1;
    return SC_OK;
  }
  SC_TRY(sc_alloc(&ix->idx, (size_t)(c->n + 1) * sizeof *ix->idx));
  for (int64_t j = 0; j < c->n; j++) {
    int64_t id = w == 0 ? c->sku[j] : c->region[j];
    if (!(c->flags[j] & SC_LINE_VALID) || (w == 0 && id < 0)) continue;
    int32_t k = keymap_get(&ix->map, id, 0);
    if (k < 0) return sc_fail(SC_ENOMEM, "out of memory (numbering %s ids)", w == 0 ? "product" : "region");
    ix->idx[j] = k;
  }
  ix->n = ix->map.n;
  return SC_OK;
}

static void id_index_free(id_index *ix) {
  free(ix->idx);
  keymap_free(&ix->map);
}

/* The id of number k. */
static int64_t id_of(const id_index *ix, int64_t k) { return ix->idx ? ix->map.a[k] : ix->lo + k; }

/* The pass over the lines on the threads, each a slice of whole
 * customers; then the sums into in, the customers' monetary values (in
 * line order) the order records, and
 * the product and region records (summed in dense arrays by id number). *vrow and *vfx receive the valid
 * lines' row numbers and amounts (micro-units), *nv their count. */
static sc_status scan_lines(const line_cols *c, insights *in, i64vec *monetary, ins_recs *orders, ins_recs *products,
                            ins_recs *regions, int64_t **vrow, int64_t **vfx, int64_t *nv) {
  int nm = in->nm, T = omp_get_max_threads();
  if ((int64_t)T > c->n / PASS_MIN_LINES) T = (int)(c->n / PASS_MIN_LINES);
  if (T < 1) T = 1;
  int64_t nd = nm ? (int64_t)in->day1 - in->day0 + 1 : 0;
  day_table dt = {in->day0, NULL, NULL};
  id_index ix[2];
  memset(ix, 0, sizeof ix);
  pass_acc *acc = NULL;
  int64_t *bound = NULL, *off = NULL;
  *vrow = *vfx = NULL;
  *nv = 0;
  sc_status s = sc_calloc(&acc, (size_t)T, sizeof *acc);
  if (!s) s = sc_alloc(&bound, (size_t)(T + 1) * sizeof *bound);
  if (!s) s = sc_calloc(&off, (size_t)(T + 1), sizeof *off);
  if (!s) s = sc_alloc(&dt.month, (size_t)(nd + 1) * sizeof *dt.month);
  if (!s) s = sc_alloc(&dt.weekday, (size_t)(nd + 1));
  size_t per = 7 * (size_t)nm + (size_t)nm * (size_t)nm + 1;
  for (int t = 0; !s && t < T; t++) {
    s = sc_calloc(&acc[t].block, per, sizeof(int64_t));
    if (s) break;
    int64_t *b = acc[t].block;
    acc[t].m_rev = b, acc[t].m_units = b + nm, acc[t].m_lines = b + 2 * nm, acc[t].m_cust = b + 3 * nm;
    acc[t].m_new = b + 4 * nm, acc[t].stamp = b + 5 * nm, acc[t].act = b + 6 * nm, acc[t].cohort = b + 7 * nm;
    acc[t].orders.min_mask = orders->min_mask;
  }
  if (s) goto done;
  for (int64_t d = 0; d < nd; d++) {
    dt.month[d] = ins_month_index((int32_t)(in->day0 + d)) - in->m0;
    dt.weekday[d] = (uint8_t)ins_weekday((int32_t)(in->day0 + d));
  }
  for (int t = 0; t <= T; t++) bound[t] = t == T ? c->n : slice_start(c->user, c->n, t, T);
  /* the valid lines of each slice, so each knows where its rows go, and
     the range of their product and region ids */
  int64_t slo = INT64_MAX, shi = INT64_MIN, rlo = INT64_MAX, rhi = INT64_MIN;
#pragma omp parallel for num_threads(T) schedule(static, 1) reduction(min : slo, rlo) reduction(max : shi, rhi)
  for (int t = 0; t < T; t++) {
    int64_t k = 0;
    for (int64_t i = bound[t]; i < bound[t + 1]; i++) {
      if (!(c->flags[i] & SC_LINE_VALID)) continue;
      k++;
      if (c->sku[i] >= 0) slo = SC_MIN(slo, c->sku[i]), shi = SC_MAX(shi, c->sku[i]);
      rlo = SC_MIN(rlo, (int64_t)c->region[i]);
      rhi = SC_MAX(rhi, (int64_t)c->region[i]);
    }
    off[t + 1] = k;
  }
  for (int t = 0; t < T; t++) off[t + 1] += off[t];
  *nv = off[T];
  s = sc_alloc(vrow, (size_t)(*nv + 1) * sizeof **vrow);
  if (!s) s = sc_alloc(vfx, (size_t)(*nv + 1) * sizeof **vfx);
  if (!s) s = id_index_build(c, 0, slo <= shi, slo, shi, *nv, &ix[0]);
  if (!s) s = id_index_build(c, 1, rlo <= rhi, rlo, rhi, *nv, &ix[1]);
  size_t nid = 5 * (size_t)(ix[0].n + ix[1].n) + 1;
  for (int t = 0; !s && t < T; t++) {
    s = sc_calloc(&acc[t].id_block, nid, sizeof(int64_t));
    int64_t *b = acc[t].id_block;
    for (int w = 0; !s && w < 2; w++) {
      id_sums *su = &acc[t].ids[w];
      su->fx = b, su->q = b + ix[w].n, su->lines = b + 2 * ix[w].n, su->cust = b + 3 * ix[w].n;
      su->stamp = b + 4 * ix[w].n;
      b += 5 * ix[w].n;
    }
  }
  if (s) goto done;
  /* each thread's status (a failure is a failed allocation) */
  sc_status *ts = NULL;
  s = sc_calloc(&ts, (size_t)T, sizeof *ts);
  if (s) goto done;
#pragma omp parallel for num_threads(T) schedule(static, 1)
  for (int t = 0; t < T; t++) {
    sc_status e = pass_slice(c, in, &dt, ix, bound[t], bound[t + 1], off[t], *vrow, *vfx, &acc[t]);
    ts[t] = e;
  }
  for (int t = 0; t < T && !s; t++) s = ts[t];
  free(ts);
  if (s) goto done;
  for (int t = 1; t < T; t++) acc_add(&acc[0], &acc[t], nm);
  in->revenue = acc[0].revenue;
  in->units = acc[0].units;
  in->valid_lines = acc[0].valid_lines;
  in->return_lines = acc[0].return_lines;
  in->returned_fx = acc[0].returned_fx;
  in->customers = acc[0].customers;
  in->customer_revenue = acc[0].customer_revenue;
  memcpy(in->moy_rev, acc[0].moy_rev, sizeof in->moy_rev);
  memcpy(in->moy_units, acc[0].moy_units, sizeof in->moy_units);
  memcpy(in->dow_rev, acc[0].dow_rev, sizeof in->dow_rev);
  memcpy(in->dow_units, acc[0].dow_units, sizeof in->dow_units);
  memcpy(in->m_rev, acc[0].m_rev, (size_t)nm * sizeof *in->m_rev);
  memcpy(in->m_units, acc[0].m_units, (size_t)nm * sizeof *in->m_units);
  memcpy(in->m_lines, acc[0].m_lines, (size_t)nm * sizeof *in->m_lines);
  memcpy(in->m_cust, acc[0].m_cust, (size_t)nm * sizeof *in->m_cust);
  memcpy(in->m_new, acc[0].m_new, (size_t)nm * sizeof *in->m_new);
  memcpy(in->cohort, acc[0].cohort, (size_t)nm * (size_t)nm * sizeof *in->cohort);
  for (int t = 0; !s && t < T; t++) {
    if (!monetary->n) {
      free(monetary->v);
      *monetary = acc[t].monetary;
      acc[t].monetary = (i64vec){0};
    } else {
      for (int64_t k = 0; !s && k < acc[t].monetary.n; k++) s = vec_push(monetary, acc[t].monetary.v[k]);
    }
    if (!s) s = recs_append(orders, &acc[t].orders);
  }
  /* products and regions: the ids with lines, sorted by id */
  for (int w = 0; !s && w < 2; w++) {
    ins_recs *out = w == 0 ? products : regions;
    id_sums *su = &acc[0].ids[w];
    for (int t = 1; t < T; t++)
      for (int64_t k = 0; k < ix[w].n; k++) {
        su->fx[k] += acc[t].ids[w].fx[k];
        su->q[k] += acc[t].ids[w].q[k];
        su->lines[k] += acc[t].ids[w].lines[k];
        su->cust[k] += acc[t].ids[w].cust[k];
      }
    for (int64_t k = 0; !s && k < ix[w].n; k++)
      if (su->lines[k]) s = ins_recs_push(out, id_of(&ix[w], k), 0, 0, su->fx[k], su->q[k], su->lines[k], su->cust[k]);
    if (!s) s = ins_recs_compact(out);
  }
done:
  for (int w = 0; w < 2; w++) id_index_free(&ix[w]);
  for (int t = 0; acc && t < T; t++) {
    free(acc[t].id_block);
    free(acc[t].block);
    free(acc[t].monetary.v);
    ins_recs_free(&acc[t].orders);
  }
  free(acc);
  free(bound);
  free(off);
  free(dt.month);
  free(dt.weekday);
  return s;
}

/* A valid line's units and amount, side by side for the fold. */
typedef struct {
  int64_t units, fx;
} units_fx;

/* The group-by of the valid lines into the daily fact rows by (day,
 * product, region) in name order: a radix sort (kernels/groupby.c), then
 * one record for each run of equal keys. */
static sc_status group_lines(const line_cols *c, const name_keys *nk, const int64_t *vrow, const int64_t *vfx,
                             int64_t nv, ins_recs *daily) {
  int64_t *k0 = NULL, *k12 = NULL, *order = NULL, *start = NULL;
  sc_status s = sc_alloc(&k0, (size_t)(nv + 1) * sizeof *k0);
  /* keys 1 and 2 side by side; after the sort the same memory holds each
     line's units and amount (units_fx is two int64) */
  if (!s) s = sc_alloc(&k12, 2 * (size_t)(nv + 1) * sizeof *k12);
  int64_t *k1 = k12, *k2 = k12 + nv + 1;
  if (!s) s = sc_alloc(&order, (size_t)(nv + 1) * sizeof *order);
  if (!s) s = sc_alloc(&start, (size_t)(nv + 2) * sizeof *start);
  if (s) goto done;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < nv; p++) {
    int64_t j = vrow[p];
    k0[p] = c->day[j];
    k1[p] = sku_key(nk, c->sku[j]);
    k2[p] = region_key(nk, c->region[j]);
  }
  const int64_t *dcols[3] = {k0, k1, k2};
  int64_t ng = gb_sort(dcols, 3, 1, nv, order, start);
  if (ng < 0) s = sc_fail(SC_ENOMEM, "out of memory (grouping %lld lines)", (long long)nv);
  if (!s) s = sc_alloc(&daily->r, (size_t)(ng + 1) * sizeof *daily->r);
  if (s) goto done;
  daily->n = daily->cap = ng;
  units_fx *pay = (units_fx *)k12;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < nv; p++) pay[p] = (units_fx){c->qty[vrow[p]], vfx[p]};
#pragma omp parallel for schedule(static)
  for (int64_t g = 0; g < ng; g++) {
    int64_t p0 = order[start[g]], q = 0, fx = 0, j0 = vrow[p0];
    for (int64_t x = start[g]; x < start[g + 1]; x++) {
      q += pay[order[x]].units;
      fx += pay[order[x]].fx;
    }
    /* sku_key and region_key are one-to-one (names' ranks in [0, n), other
       ids as they are, outside it): a group has one product and region */
    daily->r[g] = (ins_rec){{k0[p0], sku_key(nk, c->sku[j0]), region_key(nk, c->region[j0])},
                            {q, fx, c->sku[j0], c->region[j0]}};
  }
done:
  free(k0);
  free(k12);
  free(order);
  free(start);
  return s;
}

/* Adds the per-rank totals and arrays over all ranks. */
static sc_status reduce_totals(insights *in) {
  int nm = in->nm;
  size_t n = 8 + 6 * (size_t)nm + 12 * 2 + 7 * 2 + (size_t)nm * (size_t)nm, o = 0;
  int64_t *b = NULL;
  SC_TRY(comm_agree(sc_alloc(&b, n * sizeof *b)));
  int64_t *scal[] = {&in->revenue,   &in->units,     &in->valid_lines,     &in->return_lines,
                     &in->returned_fx, &in->customers, &in->customer_revenue, &in->orders};
  int64_t *arrs[] = {in->m_rev, in->m_units, in->m_lines, in->m_cust, in->m_new, in->m_orders};
  for (int k = 0; k < 8; k++) b[o++] = *scal[k];
  for (int k = 0; k < 6; k++)
    for (int m = 0; m < nm; m++) b[o++] = arrs[k][m];
  for (int m = 0; m < 12; m++) b[o++] = in->moy_rev[m];
  for (int m = 0; m < 12; m++) b[o++] = in->moy_units[m];
  for (int d = 0; d < 7; d++) b[o++] = in->dow_rev[d];
  for (int d = 0; d < 7; d++) b[o++] = in->dow_units[d];
  for (size_t x = 0; x < (size_t)nm * (size_t)nm; x++) b[o++] = in->cohort[x];
  comm_sum_i64(b, n);
  o = 0;
  for (int k = 0; k < 8; k++) *scal[k] = b[o++];
  for (int k = 0; k < 6; k++)
    for (int m = 0; m < nm; m++) arrs[k][m] = b[o++];
  for (int m = 0; m < 12; m++) in->moy_rev[m] = b[o++];
  for (int m = 0; m < 12; m++) in->moy_units[m] = b[o++];
  for (int d = 0; d < 7; d++) in->dow_rev[d] = b[o++];
  for (int d = 0; d < 7; d++) in->dow_units[d] = b[o++];
  for (size_t x = 0; x < (size_t)nm * (size_t)nm; x++) in->cohort[x] = b[o++];
  free(b);
  return SC_OK;
}

/* Orders: merged on their owner rank; an order is dated by its first valid
 * line. Counts per month, month of year and weekday. */
static sc_status count_orders(ins_recs *orders, insights *in) {
  SC_TRY(ins_recs_exchange_all(orders, dest_hash_k0, NULL));
  for (int64_t i = 0; i < orders->n; i++) {
    int32_t d = (int32_t)orders->r[i].v[1], mi = ins_month_index(d);
    in->m_orders[mi - in->m0]++;
    in->moy_orders[mi % 12]++;
    in->dow_orders[ins_weekday(d)]++;
  }
  in->orders = (int64_t)orders->n;
  ins_recs_free(orders);
  return SC_OK;
}

/* Exact shares of revenue held by the top customers and the Lorenz curve. */
static sc_status concentration(i64vec *monetary, insights *in) {
  if (monetary->n > 1) qsort(monetary->v, (size_t)monetary->n, sizeof *monetary->v, cmp_i64);
  int64_t n = comm_sum1_i64(monetary->n), ks[105];
  /* Lorenz point i: the bottom floor(i n / 100) customers hold total minus
     the top n - floor(i n / 100) */
  for (int i = 0; i <= 100; i++) {
    in->lorenz_k[i] = sc_muldiv(i, n, 100);
    ks[i] = n - in->lorenz_k[i];
  }
  /* top p %: the ceil(p n / 100) customers with the highest monetary */
  for (int q = 0; q < 4; q++) {
    in->top_k[q] = sc_muldiv_ceil(concentration_pcts[q], n, 100);
    ks[101 + q] = in->top_k[q];
  }
  int64_t sums[105];
  SC_TRY(ins_topk_sums_all(monetary->v, monetary->n, ks, 105, sums));
  for (int i = 0; i <= 100; i++) in->lorenz_fx[i] = in->customer_revenue - sums[i];
  for (int q = 0; q < 4; q++) in->top_fx[q] = sums[101 + q];
  return SC_OK;
}

/* Group-by of products or regions, then the global top list. */
static sc_status top_list(ins_recs *a, int64_t n_top, ins_rec **top, int64_t *n_out) {
  SC_TRY(ins_recs_exchange_all(a, dest_hash_k0, NULL));
  sc_status s = ins_recs_top_all(a, n_top, top, n_out);
  ins_recs_free(a);
  return s;
}

/* ---- outputs --------------------------------------------------------------- */

static double share(int64_t part, int64_t whole) { return whole ? (double)part / (double)whole : 0.0; }

/* Fraction of each cohort active k months after its first month, over the
 * cohorts whose month k lies inside the data (weighted by cohort size). */
static int retention_at(const insights *in, int k, double *out) {
  int64_t act = 0, size = 0;
  for (int c = 0; c + k < in->nm; c++) {
    act += in->cohort[(int64_t)c * in->nm + k];
    size += in->cohort[(int64_t)c * in->nm];
  }
  *out = share(act, size);
  return size > 0;
}

static int argmax(const int64_t *v, int n) {
  int b = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

static void put_real(json_t *o, const char *k, double v) { json_object_set_new(o, k, json_real(v)); }
static void put_int(json_t *o, const char *k, int64_t v) { json_object_set_new(o, k, json_integer(v)); }
static void put_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, json_string(v)); }

static json_t *top_json(const sc_dataset *ds, const ins_rec *r, int64_t revenue, int is_sku) {
  char b[256];
  json_t *o = json_object();
  put_str(o, is_sku ? "sku_id" : "region_id",
          is_sku ? dataset_sku_name(ds, r->k[0], b) : dataset_region_name(ds, (int32_t)r->k[0], b));
  put_real(o, "revenue", ins_fx_value(r->v[0]));
  put_real(o, "revenue_share", share(r->v[0], revenue));
  put_int(o, "units", r->v[1]);
  put_int(o, "customers", r->v[3]);
  return o;
}

static void summary_add(sc_run *run, const sc_dataset *ds, const insights *in) {
  json_t *ins = json_object(), *k = json_object(), *p = json_object(), *se = json_object(), *co = json_object(),
         *ce = json_object();
  char b[32];
  put_real(k, "revenue", ins_fx_value(in->revenue));
  put_int(k, "orders", in->orders);
  put_int(k, "customers", in->customers);
  put_real(k, "avg_order_value", in->orders ? ins_fx_value(in->revenue) / (double)in->orders : 0.0);
  put_real(k, "return_rate", share(in->return_lines, in->valid_lines));
  put_int(k, "valid_lines", in->valid_lines);
  put_int(k, "return_lines", in->return_lines);
  put_int(k, "units", in->units);
  put_real(k, "returned_value", ins_fx_value(in->returned_fx));
  put_real(k, "customer_revenue", ins_fx_value(in->customer_revenue));
  put_real(k, "revenue_per_customer", in->customers ? ins_fx_value(in->customer_revenue) / (double)in->customers : 0);
  json_object_set_new(ins, "kpis", k);

  if (in->nm) {
    put_str(p, "first_day", ins_iso_day(in->day0, b));
    put_str(p, "last_day", ins_iso_day(in->day1, b));
  }
  put_int(p, "months", in->nm);
  json_object_set_new(ins, "period", p);

  int pm = argmax(in->moy_rev, 12), pw = argmax(in->dow_rev, 7), pc = in->nm ? argmax(in->m_rev, in->nm) : 0;
  if (in->revenue > 0) {
    put_int(se, "peak_month", pm + 1);
    put_str(se, "peak_month_name", ins_month_names[pm]);
    put_real(se, "peak_month_revenue_share", share(in->moy_rev[pm], in->revenue));
    put_int(se, "peak_weekday", pw);
    put_str(se, "peak_weekday_name", ins_weekday_names[pw]);
    put_real(se, "peak_weekday_revenue_share", share(in->dow_rev[pw], in->revenue));
    put_str(se, "peak_calendar_month", ins_iso_month(in->m0 + pc, b));
  } else { /* no sales: no peak */
    static const char *const keys[] = {"peak_month", "peak_month_name", "peak_month_revenue_share", "peak_weekday",
                                       "peak_weekday_name", "peak_weekday_revenue_share", "peak_calendar_month"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) json_object_set_new(se, keys[i], json_null());
  }
  json_object_set_new(ins, "seasonality", se);

  int64_t cohorts = 0;
  for (int c = 0; c < in->nm; c++) cohorts += in->cohort[(int64_t)c * in->nm] > 0;
  put_int(co, "cohorts", cohorts);
  for (int r = 0; r < 3; r++) {
    double v;
    char key[32];
    snprintf(key, sizeof key, "month_%d", retention_months[r]);
    json_object_set_new(co, key, retention_at(in, retention_months[r], &v) ? json_real(v) : json_null());
  }
  json_object_set_new(ins, "cohort_retention", co);

  put_int(ce, "customers", in->customers);
  for (int q = 0; q < 4; q++) {
    char key[32];
    snprintf(key, sizeof key, "top_%d_pct", concentration_pcts[q]);
    put_real(ce, key, share(in->top_fx[q], in->customer_revenue));
  }
  put_real(ce, "bottom_50_pct", share(in->lorenz_fx[50], in->customer_revenue));
  json_object_set_new(ins, "concentration", ce);

  if (in->n_products) json_object_set_new(ins, "top_product", top_json(ds, &in->products[0], in->revenue, 1));
  if (in->n_regions) json_object_set_new(ins, "top_region", top_json(ds, &in->regions[0], in->revenue, 0));
  put_int(ins, "daily_sales_rows", in->daily_rows);
  json_object_set(run->summary, "insights", ins);
  json_decref(ins);
}

/* The small CSVs, written by rank 0. */
static sc_status write_small_csvs(const sc_run *run, const sc_dataset *ds, const insights *in) {
  FILE *f;
  char b[32], c[32], nb[256];
  int nm = in->nm;

  SC_TRY(out_open(run, "monthly_revenue.csv", &f));
  fputs("month,revenue,orders,customers,new_customers,units,lines\n", f);
  for (int m = 0; m < nm; m++)
    fprintf(f, "%s,%s,%lld,%lld,%lld,%lld,%lld\n", ins_iso_month(in->m0 + m, b), ins_fx_text(in->m_rev[m], c),
            (long long)in->m_orders[m], (long long)in->m_cust[m], (long long)in->m_new[m], (long long)in->m_units[m],
            (long long)in->m_lines[m]);
  SC_TRY(out_commit(run, "monthly_revenue.csv", f));

  SC_TRY(out_open(run, "seasonality_month.csv", &f));
  fputs("month_of_year,month_name,revenue,revenue_share,orders,units\n", f);
  for (int m = 0; m < 12; m++)
    fprintf(f, "%d,%s,%s,%.6f,%lld,%lld\n", m + 1, ins_month_names[m], ins_fx_text(in->moy_rev[m], c),
            share(in->moy_rev[m], in->revenue), (long long)in->moy_orders[m], (long long)in->moy_units[m]);
  SC_TRY(out_commit(run, "seasonality_month.csv", f));

  SC_TRY(out_open(run, "seasonality_weekday.csv", &f));
  fputs("weekday,weekday_name,revenue,revenue_share,orders,units\n", f);
  for (int d = 0; d < 7; d++)
    fprintf(f, "%d,%s,%s,%.6f,%lld,%lld\n", d, ins_weekday_names[d], ins_fx_text(in->dow_rev[d], c),
            share(in->dow_rev[d], in->revenue), (long long)in->dow_orders[d], (long long)in->dow_units[d]);
  SC_TRY(out_commit(run, "seasonality_weekday.csv", f));

  SC_TRY(out_open(run, "cohort_retention.csv", &f));
  fputs("cohort_month,months_since,cohort_customers,active_customers,retention\n", f);
  for (int co = 0; co < nm; co++) {
    int64_t size = in->cohort[(int64_t)co * nm];
    if (!size) continue;
    for (int k = 0; co + k < nm; k++) {
      int64_t a = in->cohort[(int64_t)co * nm + k];
      fprintf(f, "%s,%d,%lld,%lld,%.6f\n", ins_iso_month(in->m0 + co, b), k, (long long)size, (long long)a,
              share(a, size));
    }
  }
  SC_TRY(out_commit(run, "cohort_retention.csv", f));

  SC_TRY(out_open(run, "lorenz.csv", &f));
  fputs("customer_share,customers,revenue_share\n", f);
  for (int i = 0; i <= 100; i++)
    fprintf(f, "%.2f,%lld,%.6f\n", i / 100.0, (long long)in->lorenz_k[i], share(in->lorenz_fx[i], in->customer_revenue));
  SC_TRY(out_commit(run, "lorenz.csv", f));

  SC_TRY(out_open(run, "revenue_concentration.csv", &f));
  fputs("top_pct,customers,revenue,revenue_share\n", f);
  for (int q = 0; q < 4; q++)
    fprintf(f, "%d,%lld,%s,%.6f\n", concentration_pcts[q], (long long)in->top_k[q], ins_fx_text(in->top_fx[q], c),
            share(in->top_fx[q], in->customer_revenue));
  SC_TRY(out_commit(run, "revenue_concentration.csv", f));

  if (in->has_sku) {
    SC_TRY(out_open(run, "top_products.csv", &f));
    fputs("rank,sku_id,revenue,revenue_share,units,lines,customers\n", f);
    for (int64_t i = 0; i < in->n_products; i++) {
      const ins_rec *r = &in->products[i];
      fprintf(f, "%lld,", (long long)i + 1);
      out_csv_field(f, dataset_sku_name(ds, r->k[0], nb));
      fprintf(f, ",%s,%.6f,%lld,%lld,%lld\n", ins_fx_text(r->v[0], c), share(r->v[0], in->revenue), (long long)r->v[1],
              (long long)r->v[2], (long long)r->v[3]);
    }
    SC_TRY(out_commit(run, "top_products.csv", f));
  }

  SC_TRY(out_open(run, "top_regions.csv", &f));
  fputs("rank,region_id,revenue,revenue_share,units,lines,customers\n", f);
  for (int64_t i = 0; i < in->n_regions; i++) {
    const ins_rec *r = &in->regions[i];
    fprintf(f, "%lld,", (long long)i + 1);
    out_csv_field(f, r->k[0] < 0 ? "" : dataset_region_name(ds, (int32_t)r->k[0], nb));
    fprintf(f, ",%s,%.6f,%lld,%lld,%lld\n", ins_fx_text(r->v[0], c), share(r->v[0], in->revenue), (long long)r->v[1],
            (long long)r->v[2], (long long)r->v[3]);
  }
  return out_commit(run, "top_regions.csv", f);
}

/* CSV cells of product or region ids: the dictionary name or the number,
 * as a CSV text cell (csvtext.h; no id: an empty cell). Ids over a range
 * not much wider than the rows are formatted once each; others each time. */
typedef struct {
  const sc_dataset *ds;
  int is_sku;
  int64_t lo, n;      ///< ids lo .. lo+n-1 cached (n = 0: none)
  uint32_t *off, *len;
  char *text;
} cell_cache;

static size_t id_cell(const sc_dataset *ds, int is_sku, int64_t id, char *dst) {
  char b[256];
  if (id < 0) return 0;
  return csvtext_cell(dst, is_sku ? dataset_sku_name(ds, id, b) : dataset_region_name(ds, (int32_t)id, b));
}

/* Longest cell: a 255-byte name doubled and quoted. */
#define CELL_MAX CSVTEXT_MAX(255)

static sc_status cells_build(cell_cache *cc, const sc_dataset *ds, int is_sku, const ins_recs *rows) {
  memset(cc, 0, sizeof *cc);
  cc->ds = ds;
  cc->is_sku = is_sku;
  int64_t lo = INT64_MAX, hi = -1;
  for (int64_t i = 0; i < rows->n; i++) {
    int64_t id = rows->r[i].v[is_sku ? 2 : 3];
    if (id < 0) continue;
    lo = SC_MIN(lo, id);
    hi = SC_MAX(hi, id);
  }
  if (hi < 0 || (uint64_t)(hi - lo) >= (uint64_t)(4 * rows->n + 65536)) return SC_OK;
  int64_t n = hi - lo + 1;
  uint8_t *seen = NULL;
  sc_status s = sc_calloc(&seen, (size_t)n, 1);
  if (!s) s = sc_alloc(&cc->off, (size_t)n * sizeof *cc->off);
  if (!s) s = sc_calloc(&cc->len, (size_t)n, sizeof *cc->len);
  size_t total = 0;
  if (!s) {
    for (int64_t i = 0; i < rows->n; i++) {
      int64_t id = rows->r[i].v[is_sku ? 2 : 3];
      if (id >= 0) seen[id - lo] = 1;
    }
    int64_t distinct = 0;
    for (int64_t k = 0; k < n; k++) distinct += seen[k];
    s = sc_alloc(&cc->text, (size_t)distinct * CELL_MAX + 1);
  }
  for (int64_t k = 0; !s && k < n; k++) {
    if (!seen[k]) continue;
    cc->off[k] = (uint32_t)total;
    cc->len[k] = (uint32_t)id_cell(ds, is_sku, lo + k, cc->text + total);
    total += cc->len[k];
  }
  free(seen);
  if (!s && total > UINT32_MAX) s = sc_fail(SC_EINTERNAL, "insights: %zu bytes of product names", total);
  if (s) {
    free(cc->off);
    free(cc->len);
    free(cc->text);
    cc->off = cc->len = NULL;
    cc->text = NULL;
    return s;
  }
  cc->lo = lo;
  cc->n = n;
  return SC_OK;
}

static void cells_free(cell_cache *cc) {
  free(cc->off);
  free(cc->len);
  free(cc->text);
}

static char *put_cell(const cell_cache *cc, int64_t id, char *p) {
  if (id >= 0 && id - cc->lo < cc->n && id >= cc->lo) {
    memcpy(p, cc->text + cc->off[id - cc->lo], cc->len[id - cc->lo]);
    return p + cc->len[id - cc->lo];
  }
  return p + id_cell(cc->ds, cc->is_sku, id, p);
}

/* Longest daily row: date, two cells, units, revenue, separators. */
#define DAILY_ROW_MAX (11 + 2 * (CELL_MAX + 1) + 21 + 29 + 1)

/* This rank's daily_sales.csv text (the header first on rank 0): the rows
 * date,sku_id,region_id,units,revenue formatted on the threads, a slice of
 * rows each, then joined in row order. */
static sc_status daily_text(const sc_dataset *ds, const ins_recs *daily, char **out, size_t *len) {
  static const char header[] = "date,sku_id,region_id,units,revenue\n";
  cell_cache sc, rc;
  *out = NULL;
  *len = 0;
  SC_TRY(cells_build(&sc, ds, 1, daily));
  sc_status s = cells_build(&rc, ds, 0, daily);
  if (s) {
    cells_free(&sc);
    return s;
  }
  int T = omp_get_max_threads();
  if ((int64_t)T > daily->n / PASS_MIN_LINES) T = (int)(daily->n / PASS_MIN_LINES);
  if (T < 1) T = 1;
  char **part = NULL;
  size_t *plen = NULL;
  s = sc_calloc(&part, (size_t)T, sizeof *part);
  if (!s) s = sc_calloc(&plen, (size_t)T, sizeof *plen);
  for (int t = 0; !s && t < T; t++) {
    int64_t rows = sc_muldiv(t + 1, daily->n, T) - sc_muldiv(t, daily->n, T);
    s = sc_alloc(&part[t], (size_t)rows * DAILY_ROW_MAX + 1);
  }
  if (!s) {
#pragma omp parallel for num_threads(T) schedule(static, 1)
    for (int t = 0; t < T; t++) {
      char *p = part[t], day[16];
      int64_t last = INT64_MIN;
      for (int64_t i = sc_muldiv(t, daily->n, T); i < sc_muldiv(t + 1, daily->n, T); i++) {
        const ins_rec *r = &daily->r[i];
        if (r->k[0] != last) ins_iso_day((int32_t)(last = r->k[0]), day);
        memcpy(p, day, 10);
        p += 10;
        *p++ = ',';
        p = put_cell(&sc, r->v[2], p);
        *p++ = ',';
        p = put_cell(&rc, r->v[3], p);
        *p++ = ',';
        p = fmt_i64(p, r->v[0]);
        *p++ = ',';
        p = ins_fx_put(p, r->v[1]);
        *p++ = '\n';
      }
      plen[t] = (size_t)(p - part[t]);
    }
    size_t hl = comm_rank() == 0 ? sizeof header - 1 : 0, total = hl;
    for (int t = 0; t < T; t++) total += plen[t];
    s = sc_alloc(out, total + 1);
    if (!s) {
      memcpy(*out, header, hl);
      size_t o = hl;
      for (int t = 0; t < T; t++) memcpy(*out + o, part[t], plen[t]), o += plen[t];
      *len = total;
    }
  }
  for (int t = 0; part && t < T; t++) free(part[t]);
  free(part);
  free(plen);
  cells_free(&sc);
  cells_free(&rc);
  return s;
}

/* The daily fact table: range-partitioned by date, written to results.h5
 * collectively and to daily_sales.csv with MPI-IO, each rank at its offset. */
static sc_status daily_sales(sc_run *run, const sc_dataset *ds, ins_recs *daily, insights *in, sc_h5 *res,
                             double *tstep) {
  int size = comm_size();
  int64_t nd = in->nm ? (int64_t)in->day1 - in->day0 + 1 : 1;
  int64_t *hist = NULL;
  int32_t *owner = NULL;
  sc_status s = sc_calloc(&hist, (size_t)nd, sizeof *hist);
  if (!s) s = sc_alloc(&owner, (size_t)nd * sizeof *owner);
  s = comm_agree(s);
  if (s) goto done;
  for (int64_t i = 0; i < daily->n; i++) hist[daily->r[i].k[0] - in->day0]++;
  comm_sum_i64(hist, (size_t)nd);
  int64_t total = 0;
  for (int64_t d = 0; d < nd; d++) total += hist[d];
  /* rank of a day: the share of rows before it, so ranks get similar work */
  for (int64_t d = 0, before = 0; d < nd; d++) {
    owner[d] = total ? (int32_t)SC_MIN((int64_t)size - 1, sc_muldiv(before, size, total)) : 0;
    before += hist[d];
  }
  day_owner o = {in->day0, owner};
  s = ins_recs_exchange_all(daily, dest_day, &o);
  if (s) goto done;
  in->daily_rows = comm_sum1_i64(daily->n);  /* keys now live on one rank each */
  run_step(run, "insights", "daily sales group-by", tstep);

  /* results.h5: ids as the store has them (days since 1970-01-01) */
  sc_table t;
  s = table_init(&t, "daily_sales", "day:i32,sku:i64,region:i32,units:i64,revenue:f64");
  if (!s) s = table_resize(&t, daily->n);
  if (!s) {
    int32_t *day = table_col(&t, "day"), *reg = table_col(&t, "region");
    int64_t *sku = table_col(&t, "sku"), *units = table_col(&t, "units");
    double *rev = table_col(&t, "revenue");
    for (int64_t i = 0; i < daily->n; i++) {
      day[i] = (int32_t)daily->r[i].k[0];
      sku[i] = daily->r[i].v[2];
      reg[i] = (int32_t)daily->r[i].v[3];
      units[i] = daily->r[i].v[0];
      rev[i] = ins_fx_value(daily->r[i].v[1]);
    }
  }
  s = comm_agree(s);
  if (!s) s = h5_write_table(res, "/insights/daily_sales", &t);
  table_free(&t);
  if (s) goto done;
  run_step(run, "insights", "results.h5 /insights/daily_sales", tstep);

  /* daily_sales.csv: each rank's text at its offset (MPI-IO), rank r's
     rows after those of ranks 0..r-1 */
  char *text = NULL;
  size_t len = 0;
  s = comm_agree(daily_text(ds, daily, &text, &len));
  if (!s) s = fmt_write_ranked(run, "daily_sales.csv", text, len);
  free(text);
  if (!s) run_step(run, "insights", "daily_sales.csv", tstep);
done:
  free(hist);
  free(owner);
  ins_recs_free(daily);
  return s;
}

/* The small tables in results.h5: rank 0 holds the rows, others none. */
static sc_status write_h5(sc_h5 *res, const sc_dataset *ds, const insights *in) {
  int root = comm_rank() == 0, nm = in->nm;
  sc_table t;
  sc_status s;

#define H5_TABLE(group, spec, rows, fill)                     \
  do {                                                        \
    s = table_init(&t, group, spec);                          \
    if (!s) s = table_resize(&t, root ? (rows) : 0);          \
    if (!s && root) { fill; }                                 \
    s = comm_agree(s);                                        \
    if (!s) s = h5_write_table(res, "/insights/" group, &t);  \
    table_free(&t);                                           \
    if (s) return s;                                          \
  } while (0)

  H5_TABLE("monthly_revenue", "year:i32,month:i32,revenue:f64,orders:i64,customers:i64,new_customers:i64,units:i64,lines:i64",
           nm, {
             for (int m = 0; m < nm; m++) {
               ((int32_t *)table_col(&t, "year"))[m] = (in->m0 + m) / 12;
               ((int32_t *)table_col(&t, "month"))[m] = (in->m0 + m) % 12 + 1;
               ((double *)table_col(&t, "revenue"))[m] = ins_fx_value(in->m_rev[m]);
               ((int64_t *)table_col(&t, "orders"))[m] = in->m_orders[m];
               ((int64_t *)table_col(&t, "customers"))[m] = in->m_cust[m];
               ((int64_t *)table_col(&t, "new_customers"))[m] = in->m_new[m];
               ((int64_t *)table_col(&t, "units"))[m] = in->m_units[m];
               ((int64_t *)table_col(&t, "lines"))[m] = in->m_lines[m];
             }
           });
  H5_TABLE("seasonality_month", "month_of_year:i32,revenue:f64,orders:i64,units:i64", 12, {
    for (int m = 0; m < 12; m++) {
      ((int32_t *)table_col(&t, "month_of_year"))[m] = m + 1;
      ((double *)table_col(&t, "revenue"))[m] = ins_fx_value(in->moy_rev[m]);
      ((int64_t *)table_col(&t, "orders"))[m] = in->moy_orders[m];
      ((int64_t *)table_col(&t, "units"))[m] = in->moy_units[m];
    }
  });
  H5_TABLE("seasonality_weekday", "weekday:i32,revenue:f64,orders:i64,units:i64", 7, {
    for (int d = 0; d < 7; d++) {
      ((int32_t *)table_col(&t, "weekday"))[d] = d;
      ((double *)table_col(&t, "revenue"))[d] = ins_fx_value(in->dow_rev[d]);
      ((int64_t *)table_col(&t, "orders"))[d] = in->dow_orders[d];
      ((int64_t *)table_col(&t, "units"))[d] = in->dow_units[d];
    }
  });
  int64_t nc = 0;
  for (int c = 0; c < nm; c++)
    if (in->cohort[(int64_t)c * nm]) nc += nm - c;
  H5_TABLE("cohort_retention",
           "cohort_year:i32,cohort_month:i32,months_since:i32,cohort_customers:i64,active_customers:i64,retention:f64", nc,
           {
             int64_t r = 0;
             for (int c = 0; c < nm; c++) {
               int64_t size = in->cohort[(int64_t)c * nm];
               if (!size) continue;
               for (int k = 0; c + k < nm; k++, r++) {
                 ((int32_t *)table_col(&t, "cohort_year"))[r] = (in->m0 + c) / 12;
                 ((int32_t *)table_col(&t, "cohort_month"))[r] = (in->m0 + c) % 12 + 1;
                 ((int32_t *)table_col(&t, "months_since"))[r] = k;
                 ((int64_t *)table_col(&t, "cohort_customers"))[r] = size;
                 ((int64_t *)table_col(&t, "active_customers"))[r] = in->cohort[(int64_t)c * nm + k];
                 ((double *)table_col(&t, "retention"))[r] = share(in->cohort[(int64_t)c * nm + k], size);
               }
             }
           });
  H5_TABLE("lorenz", "customer_share:f64,customers:i64,revenue_share:f64", 101, {
    for (int i = 0; i <= 100; i++) {
      ((double *)table_col(&t, "customer_share"))[i] = i / 100.0;
      ((int64_t *)table_col(&t, "customers"))[i] = in->lorenz_k[i];
      ((double *)table_col(&t, "revenue_share"))[i] = share(in->lorenz_fx[i], in->customer_revenue);
    }
  });
  H5_TABLE("revenue_concentration", "top_pct:i32,customers:i64,revenue:f64,revenue_share:f64", 4, {
    for (int q = 0; q < 4; q++) {
      ((int32_t *)table_col(&t, "top_pct"))[q] = concentration_pcts[q];
      ((int64_t *)table_col(&t, "customers"))[q] = in->top_k[q];
      ((double *)table_col(&t, "revenue"))[q] = ins_fx_value(in->top_fx[q]);
      ((double *)table_col(&t, "revenue_share"))[q] = share(in->top_fx[q], in->customer_revenue);
    }
  });
  const char *names[2] = {"top_products", "top_regions"};
  const ins_rec *lists[2] = {in->products, in->regions};
  int64_t counts[2] = {in->n_products, in->n_regions};
  for (int l = 0; l < 2; l++) {
    char group[64];
    snprintf(group, sizeof group, "/insights/%s", names[l]);
    s = table_init(&t, names[l], "rank:i32,id:i64,revenue:f64,revenue_share:f64,units:i64,lines:i64,customers:i64");
    if (!s) s = table_resize(&t, root ? counts[l] : 0);
    char **text = NULL;
    if (!s) s = sc_calloc(&text, (size_t)counts[l] + 1, sizeof *text);
    /* the table's rows live on rank 0; the names are replicated (every
       rank passes the same list to h5_write_strings) */
    for (int64_t i = 0; !s && i < counts[l]; i++) {
      const ins_rec *r = &lists[l][i];
      char nb[256];
      text[i] = strdup(l == 0 ? dataset_sku_name(ds, r->k[0], nb) : dataset_region_name(ds, (int32_t)r->k[0], nb));
      if (!text[i]) s = sc_fail(SC_ENOMEM, "out of memory");
      if (!root) continue;
      ((int32_t *)table_col(&t, "rank"))[i] = (int32_t)i + 1;
      ((int64_t *)table_col(&t, "id"))[i] = r->k[0];
      ((double *)table_col(&t, "revenue"))[i] = ins_fx_value(r->v[0]);
      ((double *)table_col(&t, "revenue_share"))[i] = share(r->v[0], in->revenue);
      ((int64_t *)table_col(&t, "units"))[i] = r->v[1];
      ((int64_t *)table_col(&t, "lines"))[i] = r->v[2];
      ((int64_t *)table_col(&t, "customers"))[i] = r->v[3];
    }
    s = comm_agree(s);
    if (!s) s = h5_write_table(res, group, &t);
    /* the names users see (StockCode, Country), beside the internal ids */
    snprintf(group + strlen(group), sizeof group - strlen(group), "/names");
    if (!s) s = h5_write_strings(res, group, text, counts[l]);
    for (int64_t i = 0; text && i < counts[l]; i++) free(text[i]);
    free(text);
    table_free(&t);
    if (s) return s;
  }
#undef H5_TABLE
  return SC_OK;
}

sc_status stage_insights(sc_run *run, const sc_dataset *ds, sc_h5 *results) {
  insights in;
  memset(&in, 0, sizeof in);
  line_cols c;
  name_keys nk = {0};
  i64vec monetary = {0};
  ins_recs orders = {.min_mask = 2}, products = {0}, regions = {0}, daily = {.min_mask = 4 | 8};
  double t = sc_now();
  sc_status s = comm_agree(lines_columns(&ds->lines, &c));
  if (s) return s;
  SC_TRY(scan_range(&c, &in));
  sc_say("insights: %lld months of sales, %s products", (long long)in.nm, in.has_sku ? "with" : "without");

  s = name_ranks(ds->sku_names, ds->n_sku_names, &nk.sku_key);
  nk.n_sku = ds->n_sku_names;
  if (!s) s = name_ranks(ds->region_names, ds->n_region_names, &nk.region_key);
  nk.n_region = ds->n_region_names;
  size_t nm = (size_t)in.nm;
  if (!s) s = sc_calloc(&in.m_rev, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.m_units, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.m_lines, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.m_cust, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.m_new, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.m_orders, nm + 1, sizeof(int64_t));
  if (!s) s = sc_calloc(&in.cohort, nm * nm + 1, sizeof(int64_t));
  int64_t *vrow = NULL, *vfx = NULL, nv = 0;
  if (!s) s = scan_lines(&c, &in, &monetary, &orders, &products, &regions, &vrow, &vfx, &nv);
  s = comm_agree(s);
  if (!s) run_step(run, "insights", "pass over the lines", &t);
  if (!s) s = comm_agree(group_lines(&c, &nk, vrow, vfx, nv, &daily));
  free(vrow);
  free(vfx);
  if (!s) run_step(run, "insights", "group-bys of the lines", &t);
  if (!s) s = reduce_totals(&in);
  if (!s) run_step(run, "insights", "totals", &t);
  if (!s) s = count_orders(&orders, &in);
  if (!s) {
    /* orders were counted where they live: add them up */
    int64_t *b = NULL;
    s = comm_agree(sc_alloc(&b, (nm + 20) * sizeof *b));
    if (!s) {
      for (size_t m = 0; m < nm; m++) b[m] = in.m_orders[m];
      for (int m = 0; m < 12; m++) b[nm + (size_t)m] = in.moy_orders[m];
      for (int d = 0; d < 7; d++) b[nm + 12 + (size_t)d] = in.dow_orders[d];
      b[nm + 19] = in.orders;
      comm_sum_i64(b, nm + 20);
      for (size_t m = 0; m < nm; m++) in.m_orders[m] = b[m];
      for (int m = 0; m < 12; m++) in.moy_orders[m] = b[nm + (size_t)m];
      for (int d = 0; d < 7; d++) in.dow_orders[d] = b[nm + 12 + (size_t)d];
      in.orders = b[nm + 19];
      free(b);
    }
  }
  if (!s) run_step(run, "insights", "orders", &t);
  if (!s) s = concentration(&monetary, &in);
  if (!s) run_step(run, "insights", "concentration", &t);
  if (!s && in.has_sku) s = top_list(&products, TOP_PRODUCTS, &in.products, &in.n_products);
  if (!s) s = top_list(&regions, TOP_REGIONS, &in.regions, &in.n_regions);
  if (!s) run_step(run, "insights", "top products and regions", &t);
  if (!s) s = daily_sales(run, ds, &daily, &in, results, &t);
  if (!s) s = write_h5(results, ds, &in);
  if (!s) s = comm_agree(run->rank == 0 ? write_small_csvs(run, ds, &in) : SC_OK);
  if (!s) run_step(run, "insights", "small tables (results.h5, CSVs)", &t);
  if (!s) {
    summary_add(run, ds, &in);
    sc_say("insights: revenue %.2f, %lld orders, %lld customers; top 10%% of customers bring %.1f%% of revenue",
           ins_fx_value(in.revenue), (long long)in.orders, (long long)in.customers,
           100.0 * share(in.top_fx[2], in.customer_revenue));
  }
  free(monetary.v);
  free(nk.sku_key);
  free(nk.region_key);
  ins_recs_free(&orders);
  ins_recs_free(&products);
  ins_recs_free(&regions);
  ins_recs_free(&daily);
  insights_free(&in);
  return s;
}
