/* demand.c: builds the demand table (DATA.md §6-7; see demand.h).
 *
 * demand_build filters the valid lines with a known region, sends each to
 * the rank of its series, and calls demand_from_lines, which
 *   1. numbers the series with a hash map and orders them by (sku, region);
 *   2. groups line and inventory indices by series (counting sort);
 *   3. counts each series' rows, so every series gets its output slice;
 *   4. gathers the lines' columns in series order (money as exact
 *      integer millionths), so each series reads contiguous memory;
 *   5. per series, in parallel: fills dense day arrays (units, amounts,
 *      availability, lead-time difference arrays) and writes one row per
 *      on-sale day with lags, rolling means and carried-forward prices.
 * Every series' rows depend only on that series' lines, and every sum is
 * an exact integer sum, so the table is the same whatever the rank count
 * and whatever order the lines arrive in.
 */
#include "demand.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "keymap.h"

const char *const demand_features[DEMAND_NFEAT] = {
    "avg_price", "avg_discount_rate", "availability", "lead_time_hours", "dow",    "dom",         "month",
    "week",      "lag_1",             "lag_7",        "lag_14",          "lag_28", "roll_mean_7", "roll_mean_28"};

#define DAY_SECONDS 86400

/* ---- calendar -------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int32_t days_from_civil(int y, int m, int d) {
  y -= m <= 2;
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d) {
  z += 719468;
  int era = (z >= 0 ? z : z - 146096) / 146097;
  int doe = z - era * 146097;
  int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

void demand_calendar(int32_t day, int *dow, int *dom, int *month, int *week) {
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  *dom = d;
  *month = m;
  int w = (int)(((int64_t)day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday (3) */
  *dow = w;
  /* ISO week: the week's Thursday decides the year */
  int32_t thu = day - w + 3;
  int ty, tm, td;
  civil_from_days(thu, &ty, &tm, &td);
  *week = (thu - days_from_civil(ty, 1, 1)) / 7 + 1;
}

void demand_date_text(int32_t day, char *buf) {
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  snprintf(buf, 11, "%04d-%02d-%02d", y % 10000, m, d);
}

typedef struct {
  int64_t sku;
  int32_t region, idx;
} series_key;

static int series_cmp(const void *a, const void *b) {
  const series_key *x = a, *y = b;
  if (x->sku != y->sku) return x->sku < y->sku ? -1 : 1;
  return (x->region > y->region) - (x->region < y->region);
}

/* Counting sort by series: first[s]..first[s+1] are the positions of
 * sorted series s, and item i (ser[i] >= 0) goes to position dst[i], in
 * item order within a series. Scattering columns through dst reads them
 * in order and writes to one cursor per series, which stays in cache;
 * gathering through an index would read at random instead. */
static sc_status group_by(const int32_t *ser, int64_t n, const int32_t *rank, int64_t nser, int64_t **first,
                          int32_t **dst) {
  SC_TRY(sc_calloc(first, (size_t)nser + 1, sizeof **first));
  SC_TRY(sc_alloc(dst, (size_t)(n + 1) * sizeof **dst));
  int64_t *f = *first;
  for (int64_t i = 0; i < n; i++)
    if (ser[i] >= 0) f[rank[ser[i]] + 1]++;
  for (int64_t s = 0; s < nser; s++) f[s + 1] += f[s];
  int64_t *cur = NULL;
  SC_TRY(sc_alloc(&cur, ((size_t)nser + 1) * sizeof *cur));
  memcpy(cur, f, ((size_t)nser + 1) * sizeof *cur);
  for (int64_t i = 0; i < n; i++) (*dst)[i] = ser[i] >= 0 ? (int32_t)cur[rank[ser[i]]]++ : -1;
  free(cur);
  return SC_OK;
}

/* ---- per-series work --------------------------------------------------- */

/* Money is summed exactly, as integers in millionths of the currency unit,
 * so a day's total does not depend on the order of its lines (which
 * depends on the rank count). Finer fractions are rounded per line. */
#define MICRO 1e6
static int64_t to_micro(double x) {
  double v = x * MICRO;
  return (int64_t)(v >= 0 ? v + 0.5 : v - 0.5);
}

/* A series' lines, gathered contiguously (series order). */
typedef struct {
  int32_t *day, *sec, *qty;
  int64_t *amt, *orig, *arr_ts; /* amounts in millionths */
  int32_t *inv_day, *inv_av;    /* inventory rows (available ones) */
} series_lines;

/* Per-thread scratch over the R days of the range. */
typedef struct {
  int64_t *units, *amt, *orig, *ltsum, *pref;
  int32_t *ltcnt, *avail;
  uint8_t *mark;
} scratch;

static void scratch_free(scratch *w) {
  free(w->units);
  free(w->amt);
  free(w->orig);
  free(w->ltsum);
  free(w->pref);
  free(w->ltcnt);
  free(w->avail);
  free(w->mark);
  memset(w, 0, sizeof *w);
}

static sc_status scratch_init(scratch *w, int64_t R) {
  memset(w, 0, sizeof *w);
  size_t r1 = (size_t)R + 2;
  SC_TRY(sc_calloc(&w->units, r1, sizeof *w->units));
  SC_TRY(sc_calloc(&w->amt, r1, sizeof *w->amt));
  SC_TRY(sc_calloc(&w->orig, r1, sizeof *w->orig));
  SC_TRY(sc_calloc(&w->ltsum, r1, sizeof *w->ltsum));
  SC_TRY(sc_calloc(&w->pref, r1, sizeof *w->pref));
  SC_TRY(sc_calloc(&w->ltcnt, r1, sizeof *w->ltcnt));
  SC_TRY(sc_calloc(&w->avail, r1, sizeof *w->avail));
  return sc_calloc(&w->mark, r1, 1);
}

/* The calendar of every day of the range, computed once. */
typedef struct {
  double *dow, *dom, *month, *week;
} calendar;

typedef struct {
  int64_t *sku;
  int32_t *region, *date;
  int64_t *units;
  double *f[DEMAND_NFEAT];
} out_cols;

/* Rows of one series: lines [la, lb), inventory rows [ia, ib). */
static int64_t series_count(const demand_opts *o, const series_lines *c, int64_t la, int64_t lb, int64_t ia,
                            int64_t ib, int64_t R, scratch *w) {
  const int32_t fd = o->first_day;
  if (!o->has_inventory) {
    int64_t m = R;
    for (int64_t i = la; i < lb; i++) m = SC_MIN(m, (int64_t)c->day[i] - fd);
    return R - m;
  }
  int64_t rows = 0;
  for (int64_t i = la; i < lb; i++) {
    rows += !w->mark[c->day[i] - fd];
    w->mark[c->day[i] - fd] = 1;
  }
  for (int64_t i = ia; i < ib; i++) {
    rows += !w->mark[c->inv_day[i] - fd];
    w->mark[c->inv_day[i] - fd] = 1;
  }
  for (int64_t i = la; i < lb; i++) w->mark[c->day[i] - fd] = 0;
  for (int64_t i = ia; i < ib; i++) w->mark[c->inv_day[i] - fd] = 0;
  return rows;
}

static int32_t region_dcs(const demand_opts *o, int32_t region) {
  int64_t lo = 0, hi = o->n_dc_regions;
  while (lo < hi) {
    int64_t mid = (lo + hi) / 2;
    if (o->dc_region[mid] < region) lo = mid + 1;
    else hi = mid;
  }
  return lo < o->n_dc_regions && o->dc_region[lo] == region ? o->dc_count[lo] : 0;
}

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* Writes the rows of one series from out row `at`. */
static void series_fill(const demand_opts *o, const series_lines *c, int64_t la, int64_t lb, int64_t ia,
                        int64_t ib, int64_t sku, int32_t region, int64_t R, const calendar *cal, scratch *w,
                        const out_cols *out, int64_t at) {
  const int32_t fd = o->first_day;
  memset(w->units, 0, (size_t)R * sizeof *w->units);
  memset(w->amt, 0, (size_t)R * sizeof *w->amt);
  memset(w->orig, 0, (size_t)R * sizeof *w->orig);
  memset(w->avail, 0, (size_t)R * sizeof *w->avail);
  memset(w->ltsum, 0, ((size_t)R + 1) * sizeof *w->ltsum);
  memset(w->ltcnt, 0, ((size_t)R + 1) * sizeof *w->ltcnt);
  int64_t first_sale = R;
  for (int64_t k = la; k < lb; k++) {
    int64_t d = c->day[k] - fd;
    first_sale = SC_MIN(first_sale, d);
    w->units[d] += c->qty[k];
    w->amt[d] += c->amt[k];
    w->orig[d] += c->orig[k];
    if (o->has_delivery && c->arr_ts[k] != SC_NO_TS) {
      /* the line counts for the dates t with day < t <= day + 28 and arr_ts < t 00:00 */
      int64_t order_ts = (int64_t)c->day[k] * DAY_SECONDS + c->sec[k];
      int64_t arr_day = floor_div(c->arr_ts[k], DAY_SECONDS);
      int64_t lo = SC_MAX((int64_t)c->day[k] + 1, arr_day + 1) - fd, hi = SC_MIN((int64_t)c->day[k] + 28 - fd, R - 1);
      if (lo <= hi) {
        int64_t secs = c->arr_ts[k] - order_ts;
        w->ltsum[lo] += secs;
        w->ltsum[hi + 1] -= secs;
        w->ltcnt[lo] += 1;
        w->ltcnt[hi + 1] -= 1;
      }
    }
  }
  for (int64_t i = ia; i < ib; i++) w->avail[c->inv_day[i] - fd] = c->inv_av[i];
  w->pref[0] = 0;
  for (int64_t d = 0; d < R; d++) w->pref[d + 1] = w->pref[d] + w->units[d];
  const int32_t ndc = o->has_inventory ? region_dcs(o, region) : 0;
  double price = NAN, disc = NAN;
  int64_t lts = 0, ltc = 0, r = at;
  for (int64_t d = 0; d < R; d++) {
    lts += w->ltsum[d];
    ltc += w->ltcnt[d];
    if (w->units[d] > 0) {
      price = (double)w->amt[d] / MICRO / (double)w->units[d];
      disc = w->orig[d] > 0 ? 1.0 - (double)w->amt[d] / (double)w->orig[d] : NAN;
    }
    int on = o->has_inventory ? (w->avail[d] > 0 || w->units[d] > 0) : d >= first_sale;
    if (!on) continue;
    out->sku[r] = sku;
    out->region[r] = region;
    out->date[r] = fd + (int32_t)d;
    out->units[r] = w->units[d];
    out->f[0][r] = price;
    out->f[1][r] = disc;
    out->f[2][r] = o->has_inventory && ndc > 0 ? (double)w->avail[d] / (double)ndc : NAN;
    out->f[3][r] = o->has_delivery && ltc > 0 ? (double)lts / (double)ltc / 3600.0 : NAN;
    out->f[4][r] = cal->dow[d];
    out->f[5][r] = cal->dom[d];
    out->f[6][r] = cal->month[d];
    out->f[7][r] = cal->week[d];
    out->f[8][r] = d >= 1 ? (double)w->units[d - 1] : NAN;
    out->f[9][r] = d >= 7 ? (double)w->units[d - 7] : NAN;
    out->f[10][r] = d >= 14 ? (double)w->units[d - 14] : NAN;
    out->f[11][r] = d >= 28 ? (double)w->units[d - 28] : NAN;
    out->f[12][r] = d >= 7 ? (double)(w->pref[d] - w->pref[d - 7]) / 7.0 : NAN;
    out->f[13][r] = d >= 28 ? (double)(w->pref[d] - w->pref[d - 28]) / 28.0 : NAN;
    r++;
  }
}

sc_status demand_from_lines(const demand_opts *o, const sc_table *lines, const sc_table *inv, sc_table *out) {
  SC_TRY(table_init(out, "demand", DEMAND_SPEC));
  const int64_t R = (int64_t)o->last_day - o->first_day + 1;
  if (R <= 0 || R > 100000)
    return sc_fail(SC_EINPUT, "demand table: the date range %d..%d is empty or longer than 100000 days", o->first_day,
                   o->last_day);
  if (lines->n > INT32_MAX || (inv && inv->n > INT32_MAX))
    return sc_fail(SC_EINPUT, "demand table: more than 2^31 lines on one rank: run on more ranks");
  const int64_t *sku, *arr_ts;
  const int32_t *region, *day, *sec, *qty;
  const double *amount, *orig_amount;
  if (!(sku = table_i64(lines, "sku")) || !(region = table_i32(lines, "region")) || !(day = table_i32(lines, "day")) ||
      !(sec = table_i32(lines, "sec")) || !(qty = table_i32(lines, "quantity")) ||
      !(amount = table_f64(lines, "amount")) || !(orig_amount = table_f64(lines, "orig_amount")) ||
      !(arr_ts = table_i64(lines, "arr_ts")))
    return SC_EINTERNAL;
  const int64_t *inv_sku = NULL;
  const int32_t *inv_reg = NULL, *inv_day = NULL, *inv_av = NULL;
  int64_t nin = inv ? inv->n : 0;
  if (nin > 0 && (!(inv_sku = table_i64(inv, "sku")) || !(inv_reg = table_i32(inv, "region")) ||
                  !(inv_day = table_i32(inv, "day")) || !(inv_av = table_i32(inv, "available_dcs"))))
    return SC_EINTERNAL;
  const int64_t n = lines->n;
  for (int64_t i = 0; i < n; i++)
    if (day[i] < o->first_day || day[i] > o->last_day || qty[i] <= 0)
      return sc_fail(SC_EINTERNAL, "demand table: a line (sku %lld, day %d) outside the date range or not a sale",
                     (long long)sku[i], day[i]);

  /* 1. series numbers; inventory rows count only when available and in range */
  keymap map; /* (sku, region) -> series number, first seen first */
  keymap_init(&map);
  int32_t *lser = NULL, *iser = NULL, *order = NULL, *rank = NULL, *ldst = NULL, *idst = NULL;
  int64_t *lfirst = NULL, *ifirst = NULL, *ofirst = NULL;
  series_lines c;
  memset(&c, 0, sizeof c);
  calendar cal = {NULL, NULL, NULL, NULL};
  scratch *ws = NULL;
  int nt = omp_get_max_threads();
  sc_status s = sc_alloc(&lser, (size_t)(n + 1) * sizeof *lser);
  if (!s) s = sc_alloc(&iser, (size_t)(nin + 1) * sizeof *iser);
  for (int64_t i = 0; !s && i < n; i++)
    if ((lser[i] = keymap_get(&map, sku[i], region[i])) < 0) s = SC_ENOMEM;
  for (int64_t i = 0; !s && i < nin; i++) {
    iser[i] = -1;
    if (!o->has_inventory || inv_av[i] <= 0 || inv_day[i] < o->first_day || inv_day[i] > o->last_day) continue;
    if ((iser[i] = keymap_get(&map, inv_sku[i], inv_reg[i])) < 0) s = SC_ENOMEM;
  }
  const int64_t nser = map.n;
  if (!s) s = sc_alloc(&order, (size_t)(nser + 1) * sizeof *order);
  if (!s) s = sc_alloc(&rank, (size_t)(nser + 1) * sizeof *rank);
  series_key *keys = NULL;
  if (!s) s = sc_alloc(&keys, (size_t)(nser + 1) * sizeof *keys);
  if (!s) {
    for (int64_t i = 0; i < nser; i++) keys[i] = (series_key){map.a[i], map.b[i], (int32_t)i};
    if (nser > 1) qsort(keys, (size_t)nser, sizeof *keys, series_cmp);
    for (int64_t i = 0; i < nser; i++) {
      order[i] = keys[i].idx;
      rank[keys[i].idx] = (int32_t)i;
    }
  }
  free(keys);
  /* 2. group lines and inventory rows by series, and gather their columns
   * in that order, so each series reads contiguous memory */
  if (!s) s = group_by(lser, n, rank, nser, &lfirst, &ldst);
  if (!s) s = group_by(iser, nin, rank, nser, &ifirst, &idst);
  int64_t ni = !s ? ifirst[nser] : 0;
  if (!s) s = sc_alloc(&c.day, (size_t)(n + 1) * sizeof *c.day);
  if (!s) s = sc_alloc(&c.sec, (size_t)(n + 1) * sizeof *c.sec);
  if (!s) s = sc_alloc(&c.qty, (size_t)(n + 1) * sizeof *c.qty);
  if (!s) s = sc_alloc(&c.amt, (size_t)(n + 1) * sizeof *c.amt);
  if (!s) s = sc_alloc(&c.orig, (size_t)(n + 1) * sizeof *c.orig);
  if (!s) s = sc_alloc(&c.arr_ts, (size_t)(n + 1) * sizeof *c.arr_ts);
  if (!s) s = sc_alloc(&c.inv_day, (size_t)(ni + 1) * sizeof *c.inv_day);
  if (!s) s = sc_alloc(&c.inv_av, (size_t)(ni + 1) * sizeof *c.inv_av);
  if (!s) {
    /* one column per pass: sequential reads, one write cursor per series */
#pragma omp parallel sections
    {
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.day[ldst[i]] = day[i];
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.sec[ldst[i]] = sec[i];
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.qty[ldst[i]] = qty[i];
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.amt[ldst[i]] = to_micro(amount[i]);
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.orig[ldst[i]] = to_micro(orig_amount[i]);
#pragma omp section
      for (int64_t i = 0; i < n; i++) c.arr_ts[ldst[i]] = arr_ts[i];
#pragma omp section
      for (int64_t i = 0; i < nin; i++)
        if (idst[i] >= 0) {
          c.inv_day[idst[i]] = inv_day[i];
          c.inv_av[idst[i]] = inv_av[i];
        }
    }
  }
  /* the calendar of the range */
  if (!s) s = sc_alloc(&cal.dow, (size_t)(4 * R) * sizeof *cal.dow);
  if (!s) {
    cal.dom = cal.dow + R;
    cal.month = cal.dom + R;
    cal.week = cal.month + R;
    for (int64_t d = 0; d < R; d++) {
      int dw, dm, mo, wk;
      demand_calendar(o->first_day + (int32_t)d, &dw, &dm, &mo, &wk);
      cal.dow[d] = dw;
      cal.dom[d] = dm;
      cal.month[d] = mo;
      cal.week[d] = wk;
    }
  }
  /* 3. rows per series */
  if (!s) s = sc_calloc(&ofirst, (size_t)nser + 1, sizeof *ofirst);
  if (!s) s = sc_calloc(&ws, (size_t)nt, sizeof *ws);
  for (int t = 0; !s && t < nt; t++) s = scratch_init(&ws[t], R);
  if (!s) {
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t q = 0; q < nser; q++)
      ofirst[q + 1] = series_count(o, &c, lfirst[q], lfirst[q + 1], ifirst[q], ifirst[q + 1], R,
                                   &ws[omp_get_thread_num()]);
    for (int64_t q = 0; q < nser; q++) ofirst[q + 1] += ofirst[q];
    s = table_resize(out, ofirst[nser]);
  }
  /* 4. the rows */
  if (!s) {
    out_cols oc;
    oc.sku = table_i64(out, "sku_id");
    oc.region = table_i32(out, "region_id");
    oc.date = table_i32(out, "date");
    oc.units = table_i64(out, "units");
    for (int j = 0; j < DEMAND_NFEAT; j++) oc.f[j] = table_f64(out, demand_features[j]);
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t q = 0; q < nser; q++) {
      int32_t id = order[q];
      series_fill(o, &c, lfirst[q], lfirst[q + 1], ifirst[q], ifirst[q + 1], map.a[id], map.b[id], R, &cal,
                  &ws[omp_get_thread_num()], &oc, ofirst[q]);
    }
  }
  for (int t = 0; ws && t < nt; t++) scratch_free(&ws[t]);
  free(ws);
  keymap_free(&map);
  free(lser);
  free(iser);
  free(order);
  free(rank);
  free(lfirst);
  free(ifirst);
  free(ofirst);
  free(ldst);
  free(idst);
  free(c.day);
  free(c.sec);
  free(c.qty);
  free(c.amt);
  free(c.orig);
  free(c.arr_ts);
  free(c.inv_day);
  free(c.inv_av);
  free(cal.dow);
  if (s == SC_ENOMEM && !sc_message()[0]) s = sc_fail(SC_ENOMEM, "demand table: out of memory: run on more ranks");
  return s;
}

/* ---- collective driver ------------------------------------------------- */

/* DC count of every region from the replicated network table, sorted by region. */
static sc_status region_counts(const sc_table *net, int64_t **ids, int32_t **cnt, int64_t *n) {
  *n = 0;
  SC_TRY(sc_alloc(ids, (size_t)(net->n + 1) * sizeof **ids));
  SC_TRY(sc_alloc(cnt, (size_t)(net->n + 1) * sizeof **cnt));
  if (net->n == 0) return SC_OK;
  const int32_t *reg = table_i32(net, "region_id");
  if (!reg) return SC_EINTERNAL;
  int64_t *tmp = NULL;
  SC_TRY(sc_alloc(&tmp, (size_t)net->n * sizeof *tmp));
  for (int64_t i = 0; i < net->n; i++) tmp[i] = reg[i];
  /* small table: insertion sort */
  for (int64_t i = 1; i < net->n; i++) {
    int64_t v = tmp[i], j = i;
    while (j > 0 && tmp[j - 1] > v) {
      tmp[j] = tmp[j - 1];
      j--;
    }
    tmp[j] = v;
  }
  for (int64_t i = 0; i < net->n; i++) {
    if (*n > 0 && (*ids)[*n - 1] == tmp[i]) (*cnt)[*n - 1]++;
    else {
      (*ids)[*n] = tmp[i];
      (*cnt)[(*n)++] = 1;
    }
  }
  free(tmp);
  return SC_OK;
}

sc_status demand_build(const sc_dataset *ds, sc_table *out) {
  const sc_table *L = &ds->lines;
  sc_table dl;
  sc_status s = table_init(&dl, "demand_lines", DEMAND_LINES_SPEC);
  const int64_t *sku = table_col(L, "sku"), *arr = table_col(L, "arr_ts");
  const int32_t *region = table_col(L, "region"), *day = table_col(L, "day"), *sec = table_col(L, "sec"),
                *qty = table_col(L, "quantity");
  const double *amount = table_col(L, "amount"), *orig = table_col(L, "orig_amount");
  const uint8_t *flags = table_col(L, "flags");
  if (!s && L->n > 0 && (!sku || !arr || !region || !day || !sec || !qty || !amount || !orig || !flags))
    s = sc_fail(SC_ESTORE, "demand table: the lines table lacks a column: rebuild the store with segcast ingest");
  int64_t m = 0;
  for (int64_t i = 0; !s && i < L->n; i++) m += (flags[i] & SC_LINE_VALID) && region[i] >= 0 && sku[i] >= 0;
  if (!s) s = table_resize(&dl, m);
  int32_t *dest = NULL;
  if (!s) s = sc_alloc(&dest, (size_t)(m + 1) * sizeof *dest);
  if (!s) {
    int64_t *dsku = table_i64(&dl, "sku"), *darr = table_i64(&dl, "arr_ts");
    int32_t *dreg = table_i32(&dl, "region"), *dday = table_i32(&dl, "day"), *dsec = table_i32(&dl, "sec"),
            *dq = table_i32(&dl, "quantity");
    double *dam = table_f64(&dl, "amount"), *dor = table_f64(&dl, "orig_amount");
    int size = comm_size();
    int64_t j = 0;
    for (int64_t i = 0; i < L->n; i++) {
      if (!((flags[i] & SC_LINE_VALID) && region[i] >= 0 && sku[i] >= 0)) continue;
      dsku[j] = sku[i];
      darr[j] = arr[i];
      dreg[j] = region[i];
      dday[j] = day[i];
      dsec[j] = sec[i];
      dq[j] = qty[i];
      dam[j] = amount[i];
      dor[j] = orig[i];
      dest[j] = part_series(sku[i], region[i], size);
      j++;
    }
  }
  s = comm_agree(s);
  if (!s) s = table_exchange(&dl, dest);
  free(dest);
  demand_opts o;
  memset(&o, 0, sizeof o);
  o.first_day = ds->first_day;
  o.last_day = ds->last_day;
  o.has_inventory = ds->has_inventory;
  o.has_delivery = ds->has_delivery;
  int64_t *ids = NULL;
  int32_t *cnt = NULL;
  if (!s) s = region_counts(&ds->network, &ids, &cnt, &o.n_dc_regions);
  o.dc_region = ids;
  o.dc_count = cnt;
  if (!s) s = demand_from_lines(&o, &dl, ds->has_inventory ? &ds->inventory : NULL, out);
  free(ids);
  free(cnt);
  table_free(&dl);
  return comm_agree(s);
}
