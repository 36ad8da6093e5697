/* ingest.c: the first stage: CSV -> cleaned, partitioned tables -> store.
 *
 * For each layout (DATA.md 1) this file names the columns each file needs
 * and converts one record into table rows (the converters below); the
 * parallel reading itself is csvread.c. After reading:
 *   - network.csv is replicated on every rank (a later duplicate dc_id is
 *     rejected); orders get their region from it;
 *   - delivery.csv joins orders by order_id (both exchanged by a hash of
 *     order_id; the first delivery row with an arr_time wins);
 *   - lines, users and clicks move to the rank of their user (hash of the
 *     user id) and are sorted by (user_id, row); a later duplicate user_id
 *     is rejected; inventory moves to the rank of its (sku, region) series
 *     and is summed to available DCs per day;
 *   - text ids (stock codes, countries, regions) get global dictionary ids
 *     that do not depend on the rank count (dict.c).
 * Malformed rows go to rejects.csv; a file whose rejected share exceeds
 * input.max_reject_fraction stops the run, naming its first bad rows.
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "csvread.h"
#include "dict.h"
#include "keymap.h"
#include "radix.h"
#include "search.h"
#include "stages.h"
#include "store.h"

/* ---- converter helpers ---------------------------------------------- */

typedef struct ingest_ctx ingest_ctx;
#define DC_DENSE 1024

struct ingest_ctx {
  const sc_config *cfg;
  int file_index;
  int T;
  sc_table *out;        /* one output window per thread (views into shared) */
  sc_table shared;      /* the file's rows */
  int64_t *base, *bound; /* each thread's window: first row and size */
  int overflow;         /* a window was too small (a bug) */
  sc_dict *dict_sku;    /* per thread (text ids) */
  sc_dict *dict_region; /* per thread */
  const int64_t *dc_ids; /* sorted network dc ids and their regions */
  const int32_t *dc_regions;
  int64_t n_dc;
  /* the same map as an array over [dc_lo, dc_lo + DC_DENSE) when the ids
   * fit there (-1: no such dc): one load per row instead of a search */
  int dc_is_dense;
  int64_t dc_lo;
  int32_t dc_dense[DC_DENSE];
  int has_amount, has_quantity, has_unit_price, has_order, has_sku, has_region;
  csv_date_memo *memo; /* two per thread (MEMO): a file's date columns in time order */
};

/* each thread's pair of memos on cache lines of its own: a memo is rewritten
 * when its column's date changes, and pairs side by side made two threads
 * read delivery.csv slower than one (false sharing) */
#define MEMO_STRIDE 8
#define MEMO(x, r, k) (&(x)->memo[MEMO_STRIDE * (r)->tid + (k)])

/* All threads write into one table, each in its own window sized by the
 * reader's upper bound; read_file closes the gaps afterwards. One
 * allocation, no concatenation copy. */
static sc_status ingest_reserve(void *ctx, int tid, int64_t rows) {
  ingest_ctx *x = ctx;
  x->base[tid] = tid ? x->base[tid - 1] + x->bound[tid - 1] : 0;
  x->bound[tid] = rows;
  if (tid < x->T - 1) return SC_OK;
  SC_TRY(table_resize(&x->shared, x->base[tid] + rows));
  for (int k = 0; k < x->T; k++) {
    x->out[k] = x->shared;
    for (int c = 0; c < x->shared.ncols; c++)
      x->out[k].cols[c].data = (char *)x->shared.cols[c].data + (size_t)x->base[k] * coltype_size(x->shared.cols[c].type);
    x->out[k].n = 0;
    x->out[k].cap = x->bound[k];
  }
  return SC_OK;
}

/* The field of wanted column c (NULL when the header lacks it). */
static inline const csv_field *fld(const csvr_row *r, int c) { return r->idx[c] >= 0 ? &r->f[r->idx[c]] : NULL; }

#define NEED(c, code_expr)                       \
  do {                                           \
    csv_code e_ = (code_expr);                   \
    if (e_ != CSV_OK) {                          \
      *bad = (c);                                \
      return e_;                                 \
    }                                            \
  } while (0)

/* A row being checked (a candidate record of several lines, csvrec.h) is
 * parsed in full but stores nothing: no row, no dictionary entry. Every
 * converter says this after its last check and before its first store. */
#define CHECK_ONLY(r)             \
  do {                            \
    if ((r)->check) return CSV_OK; \
  } while (0)

/* Required value: empty is CSV_E_EMPTY. */
static inline csv_code req(const csv_field *f) { return (!f || f->len == 0) ? CSV_E_EMPTY : CSV_OK; }

static inline int64_t rowkey(const ingest_ctx *x, const csvr_row *r) {
  return ((int64_t)x->file_index << 40) | r->line;
}

static int32_t dc_region(const ingest_ctx *x, int64_t dc) {
  if (x->dc_is_dense) return dc >= x->dc_lo && dc - x->dc_lo < DC_DENSE ? x->dc_dense[dc - x->dc_lo] : -1;
  int64_t lo = lower_bound_i64(x->dc_ids, x->n_dc, dc);
  return lo < x->n_dc && x->dc_ids[lo] == dc ? x->dc_regions[lo] : -1;
}

/* Appends one row to the thread's table; returns its index or -1. */
static int64_t add_row(ingest_ctx *x, int tid) {
  sc_table *t = &x->out[tid];
  if (t->n == t->cap) {
    x->overflow = 1;
    return -1;
  }
  return t->n++;
}

/* Column by position in the table's spec (no name lookup per row: hot). */
#define COL(t, i, type) ((type *)(t)->cols[i].data)

/* ---- marketplace ------------------------------------------------------ */

enum { U_ID, U_CREATED, U_AGE, U_GENDER, U_CITY };
static const csvr_col users_cols[] = {{{"user_id"}, 1}, {{"created_at"}, 0}, {{"age"}, 0}, {{"gender"}, 0}, {{"city_level"}, 0}};

static csv_code users_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t uid, v;
  int32_t created = SC_NO_DAY, age = SC_NO_I32, city = SC_NO_I32;
  uint8_t gender = 0;
  const csv_field *f;
  NEED(U_ID, req(fld(r, U_ID)));
  NEED(U_ID, parse_id(fld(r, U_ID)->p, fld(r, U_ID)->len, &uid));
  if ((f = fld(r, U_CREATED)) && f->len) NEED(U_CREATED, parse_date(f->p, f->len, &created));
  if ((f = fld(r, U_AGE)) && f->len) {
    NEED(U_AGE, parse_i64(f->p, f->len, &v));
    NEED(U_AGE, v < 0 || v > 120 ? CSV_E_RANGE : CSV_OK);
    age = (int32_t)v;
  }
  if ((f = fld(r, U_GENDER)) && f->len) {
    NEED(U_GENDER, f->len != 1 || (f->p[0] != 'M' && f->p[0] != 'F' && f->p[0] != 'U') ? CSV_E_RANGE : CSV_OK);
    gender = (uint8_t)f->p[0];
  }
  if ((f = fld(r, U_CITY)) && f->len) {
    NEED(U_CITY, parse_i64(f->p, f->len, &v));
    NEED(U_CITY, v < 1 || v > 5 ? CSV_E_RANGE : CSV_OK);
    city = (int32_t)v;
  }
  CHECK_ONLY(r);
  sc_table *t = &x->out[r->tid];
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  COL(t, 0, int64_t)[i] = rowkey(x, r);
  COL(t, 1, int64_t)[i] = uid;
  COL(t, 2, int32_t)[i] = created;
  COL(t, 3, int32_t)[i] = age;
  COL(t, 4, uint8_t)[i] = gender;
  COL(t, 5, int32_t)[i] = city;
  COL(t, 6, int64_t)[i] = r->offset;
  return CSV_OK;
}

enum { O_ORDER, O_USER, O_SKU, O_TIME, O_QTY, O_ORIG, O_FINAL, O_DC };
static const csvr_col orders_cols[] = {{{"order_id"}, 1},           {{"user_id"}, 1},
                                       {{"sku_id"}, 1},             {{"order_time"}, 1},
                                       {{"quantity"}, 1},           {{"original_unit_price"}, 1},
                                       {{"final_unit_price"}, 1},   {{"dc_ori"}, 1}};

static csv_code int32_field(const csv_field *f, int32_t *out) {
  int64_t v;
  csv_code c = parse_i64(f->p, f->len, &v);
  if (c != CSV_OK) return c;
  if (v < INT32_MIN + 1 || v > INT32_MAX) return CSV_E_RANGE;
  *out = (int32_t)v;
  return CSV_OK;
}

static void put_line(sc_table *t, int64_t i, int64_t row, int64_t user, int64_t order, int64_t sku, int32_t region,
                     int32_t day, int32_t sec, int32_t qty, double amount, double orig, uint8_t flags) {
  COL(t, 0, int64_t)[i] = row;
  COL(t, 1, int64_t)[i] = user;
  COL(t, 2, int64_t)[i] = order;
  COL(t, 3, int64_t)[i] = sku;
  COL(t, 4, int32_t)[i] = region;
  COL(t, 5, int32_t)[i] = day;
  COL(t, 6, int32_t)[i] = sec;
  COL(t, 7, int32_t)[i] = qty;
  COL(t, 8, double)[i] = amount;
  COL(t, 9, double)[i] = orig;
  COL(t, 10, int64_t)[i] = SC_NO_TS;
  COL(t, 11, uint8_t)[i] = flags;
}

static csv_code orders_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t order, user, sku, dc;
  int32_t day, sec, qty;
  double amount, orig_amount;
  NEED(O_ORDER, parse_id(fld(r, O_ORDER)->p, fld(r, O_ORDER)->len, &order));
  NEED(O_USER, parse_id(fld(r, O_USER)->p, fld(r, O_USER)->len, &user));
  NEED(O_SKU, parse_id(fld(r, O_SKU)->p, fld(r, O_SKU)->len, &sku));
  NEED(O_TIME, parse_datetime_memo(MEMO(x, r, 0), fld(r, O_TIME)->p, fld(r, O_TIME)->len, &day, &sec));
  NEED(O_QTY, int32_field(fld(r, O_QTY), &qty));
  NEED(O_ORIG, parse_decimal_times(fld(r, O_ORIG)->p, fld(r, O_ORIG)->len, qty, NULL, &orig_amount));
  NEED(O_FINAL, parse_decimal_times(fld(r, O_FINAL)->p, fld(r, O_FINAL)->len, qty, NULL, &amount));
  NEED(O_DC, parse_id(fld(r, O_DC)->p, fld(r, O_DC)->len, &dc));
  /* a valid line: quantity and final price above 0; with qty > 0 the
   * amount (the exact product, its sign the price's) says the price's */
  uint8_t flags = (qty > 0 && amount > 0 ? SC_LINE_VALID : 0) | (qty < 0 ? SC_LINE_RETURN : 0);
  CHECK_ONLY(r);
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  put_line(&x->out[r->tid], i, rowkey(x, r), user, order, sku, dc_region(x, dc), day, sec, qty, amount, orig_amount,
           flags);
  return CSV_OK;
}

enum { C_USER, C_SKU, C_TS, C_PLATFORM };
static const csvr_col clicks_cols[] = {{{"user_id"}, 1}, {{"sku_id"}, 1}, {{"ts"}, 1}, {{"platform"}, 0}};

static csv_code clicks_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t user, sku;
  int32_t day, sec;
  NEED(C_USER, parse_id(fld(r, C_USER)->p, fld(r, C_USER)->len, &user));
  NEED(C_SKU, parse_id(fld(r, C_SKU)->p, fld(r, C_SKU)->len, &sku));
  NEED(C_TS, parse_datetime_memo(MEMO(x, r, 0), fld(r, C_TS)->p, fld(r, C_TS)->len, &day, &sec));
  CHECK_ONLY(r);
  sc_table *t = &x->out[r->tid];
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  COL(t, 0, int64_t)[i] = rowkey(x, r);
  COL(t, 1, int64_t)[i] = user;
  COL(t, 2, int64_t)[i] = sku;
  COL(t, 3, int32_t)[i] = day;
  return CSV_OK;
}

enum { D_ORDER, D_SHIP, D_ARR };
static const csvr_col delivery_cols[] = {{{"order_id"}, 1}, {{"ship_time"}, 0}, {{"arr_time"}, 1}};
#define DELIVERY_SPEC "order_id:i64,arr_ts:i64"

static csv_code delivery_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t order;
  int32_t day, sec;
  const csv_field *f;
  NEED(D_ORDER, req(fld(r, D_ORDER)));
  NEED(D_ORDER, parse_id(fld(r, D_ORDER)->p, fld(r, D_ORDER)->len, &order));
  if ((f = fld(r, D_SHIP)) && f->len) NEED(D_SHIP, parse_datetime_memo(MEMO(x, r, 0), f->p, f->len, &day, &sec));
  if (!(f = fld(r, D_ARR)) || !f->len) return CSV_OK; /* loaded; only arrivals join the lines */
  NEED(D_ARR, parse_datetime_memo(MEMO(x, r, 1), f->p, f->len, &day, &sec));
  CHECK_ONLY(r);
  sc_table *t = &x->out[r->tid];
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  COL(t, 0, int64_t)[i] = order;
  COL(t, 1, int64_t)[i] = (int64_t)day * 86400 + sec;
  return CSV_OK;
}

enum { I_DATE, I_DC, I_SKU, I_FLAG };
static const csvr_col inventory_cols[] = {{{"date"}, 1}, {{"dc_id"}, 1}, {{"sku_id"}, 1}, {{"available_flag"}, 1}};
/* SC_INVENTORY_SPEC's columns, the count named flag until summed */
#define INVRAW_SPEC "sku:i64,region:i32,day:i32,flag:i32"

static csv_code inventory_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t dc, sku, flag;
  int32_t day;
  NEED(I_DATE, parse_date_memo(MEMO(x, r, 0), fld(r, I_DATE)->p, fld(r, I_DATE)->len, &day));
  NEED(I_DC, parse_id(fld(r, I_DC)->p, fld(r, I_DC)->len, &dc));
  NEED(I_SKU, parse_id(fld(r, I_SKU)->p, fld(r, I_SKU)->len, &sku));
  NEED(I_FLAG, parse_i64(fld(r, I_FLAG)->p, fld(r, I_FLAG)->len, &flag));
  NEED(I_FLAG, flag != 0 && flag != 1 ? CSV_E_RANGE : CSV_OK);
  int32_t region = dc_region(x, dc);
  if (region < 0) return CSV_OK; /* loaded, but no region to count it in */
  CHECK_ONLY(r);
  sc_table *t = &x->out[r->tid];
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  COL(t, 0, int64_t)[i] = sku;
  COL(t, 1, int32_t)[i] = region;
  COL(t, 2, int32_t)[i] = day;
  COL(t, 3, int32_t)[i] = (int32_t)flag;
  return CSV_OK;
}

enum { N_DC, N_REGION };
static const csvr_col network_cols[] = {{{"dc_id"}, 1}, {{"region_id"}, 1}};

static csv_code network_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t dc;
  int32_t region;
  NEED(N_DC, parse_id(fld(r, N_DC)->p, fld(r, N_DC)->len, &dc));
  NEED(N_REGION, int32_field(fld(r, N_REGION), &region));
  NEED(N_REGION, region < 0 ? CSV_E_RANGE : CSV_OK);
  CHECK_ONLY(r);
  sc_table *t = &x->out[r->tid];
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  COL(t, 0, int64_t)[i] = dc;
  COL(t, 1, int32_t)[i] = region;
  COL(t, 2, int64_t)[i] = r->line;
  COL(t, 3, int64_t)[i] = r->offset;
  return CSV_OK;
}

enum { K_SKU, K_CATEGORY, K_BRAND };
static const csvr_col skus_cols[] = {{{"sku_id"}, 1}, {{"category"}, 0}, {{"brand_id"}, 0}};

static csv_code skus_row(void *ctx, const csvr_row *r, int *bad) {
  (void)ctx;
  int64_t sku, brand;
  const csv_field *f;
  NEED(K_SKU, req(fld(r, K_SKU)));
  NEED(K_SKU, parse_id(fld(r, K_SKU)->p, fld(r, K_SKU)->len, &sku));
  if ((f = fld(r, K_BRAND)) && f->len) NEED(K_BRAND, parse_i64(f->p, f->len, &brand));
  return CSV_OK;
}

/* ---- online-retail ---------------------------------------------------- */

/* Text ids are thread-local until globalize_column: the thread number
 * rides in the high bits (int32 columns: 24 bits of id, 7 of thread). */
#define TAG64(tid, id) (((int64_t)(tid) << 32) | (id))
#define TAG32(tid, id) ((int64_t)(((int32_t)(tid) << 24) | (int32_t)(id)))
/* What the tags hold: the thread in 7 bits (ingest_single refuses more
 * threads), a thread's id in 24 (regions) or 32 (SKUs) bits; a row whose
 * text would pass that is "value out of range" rather than a wrong id. */
#define TAG_MAX_THREADS 127
#define TAG32_MAX_ID (((int64_t)1 << 24) - 1)
#define TAG64_MAX_ID (((int64_t)1 << 32) - 1)
#define UNTAG_T(v, is64) ((is64) ? (int)((v) >> 32) : (int)((v) >> 24))
#define UNTAG_ID(v, is64) ((is64) ? ((v) & 0xffffffffLL) : ((v) & 0xffffffLL))

enum { R_INVOICE, R_CODE, R_DESC, R_QTY, R_DATE, R_PRICE, R_CUSTOMER, R_COUNTRY };
static const csvr_col retail_cols[] = {
    {{"InvoiceNo", "Invoice"}, 1}, {{"StockCode"}, 1}, {{"Description"}, 0},         {{"Quantity"}, 1},
    {{"InvoiceDate"}, 1},          {{"UnitPrice", "Price"}, 1}, {{"CustomerID", "Customer ID"}, 1}, {{"Country"}, 1}};

/* Invoice: an optional letter then digits; the letter goes to bits 40+. */
static csv_code parse_invoice(const csv_field *f, int64_t *order, int *cancelled) {
  const char *p = f->p;
  size_t n = f->len;
  int64_t letter = 0;
  *cancelled = 0;
  if (n && p[0] >= 'A' && p[0] <= 'Z') {
    letter = p[0] - 'A' + 1;
    *cancelled = p[0] == 'C';
    p++;
    n--;
  }
  int64_t v;
  if (!n || parse_i64(p, n, &v) != CSV_OK || v < 0 || v >= ((int64_t)1 << 40)) return CSV_E_ID;
  *order = (letter << 40) | v;
  return CSV_OK;
}

static int is_product_code(const csv_field *f) {
  if (f->len < 5) return 0;
  for (int i = 0; i < 5; i++)
    if (f->p[i] < '0' || f->p[i] > '9') return 0;
  return 1;
}

static csv_code retail_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t order, user = 0, sku, region;
  int cancelled;
  int32_t day, sec, qty;
  double price;
  const csv_field *f;
  NEED(R_INVOICE, req(fld(r, R_INVOICE)));
  NEED(R_INVOICE, parse_invoice(fld(r, R_INVOICE), &order, &cancelled));
  NEED(R_CODE, req(fld(r, R_CODE)));
  NEED(R_QTY, req(fld(r, R_QTY)));
  NEED(R_QTY, int32_field(fld(r, R_QTY), &qty));
  NEED(R_DATE, req(fld(r, R_DATE)));
  NEED(R_DATE, parse_retail_datetime(fld(r, R_DATE)->p, fld(r, R_DATE)->len, &day, &sec));
  NEED(R_PRICE, req(fld(r, R_PRICE)));
  NEED(R_PRICE, parse_decimal(fld(r, R_PRICE)->p, fld(r, R_PRICE)->len, &price));
  if ((f = fld(r, R_CUSTOMER)) && f->len) NEED(R_CUSTOMER, parse_id(f->p, f->len, &user));
  CHECK_ONLY(r);
  f = fld(r, R_CODE);
  if (dict_intern(&x->dict_sku[r->tid], f->p, f->len, &sku) || sku > TAG64_MAX_ID) return CSV_E_RANGE;
  sku = TAG64(r->tid, sku);
  int product = is_product_code(f);
  f = fld(r, R_COUNTRY);
  if (dict_intern(&x->dict_region[r->tid], f->p, f->len, &region) || region > TAG32_MAX_ID) return CSV_E_RANGE;
  region = TAG32(r->tid, region);
  uint8_t flags = (qty > 0 && price > 0 && !cancelled && product ? SC_LINE_VALID : 0) | (qty < 0 ? SC_LINE_RETURN : 0) |
                  (cancelled ? SC_LINE_CANCELLED : 0) | (product ? 0 : SC_LINE_NONPRODUCT);
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  double amount = decimal_times(qty, fld(r, R_PRICE)->p, fld(r, R_PRICE)->len, price);
  put_line(&x->out[r->tid], i, rowkey(x, r), user, order, sku, (int32_t)region, day, sec, qty, amount, amount, flags);
  return CSV_OK;
}

/* ---- transactions ----------------------------------------------------- */

enum { T_USER, T_DATE, T_AMOUNT, T_QTY, T_PRICE, T_ORDER, T_SKU, T_REGION, T_NCOLS };

static csv_code transactions_row(void *ctx, const csvr_row *r, int *bad) {
  ingest_ctx *x = ctx;
  int64_t user, order, sku = -1, region = 0;
  int32_t day, sec, qty = 1;
  double amount = 0, price = 0;
  const csv_field *f;
  NEED(T_USER, req(fld(r, T_USER)));
  NEED(T_USER, parse_id(fld(r, T_USER)->p, fld(r, T_USER)->len, &user));
  NEED(T_DATE, req(fld(r, T_DATE)));
  NEED(T_DATE, parse_any_date(fld(r, T_DATE)->p, fld(r, T_DATE)->len, &day, &sec));
  if (x->has_quantity) {
    NEED(T_QTY, req(fld(r, T_QTY)));
    NEED(T_QTY, int32_field(fld(r, T_QTY), &qty));
  }
  if (x->has_unit_price) {
    NEED(T_PRICE, req(fld(r, T_PRICE)));
    NEED(T_PRICE, parse_decimal(fld(r, T_PRICE)->p, fld(r, T_PRICE)->len, &price));
  }
  if (x->has_amount) {
    NEED(T_AMOUNT, req(fld(r, T_AMOUNT)));
    NEED(T_AMOUNT, parse_decimal(fld(r, T_AMOUNT)->p, fld(r, T_AMOUNT)->len, &amount));
    amount += 0.0; /* "-0.00" is +0.0, as every zero amount */
  } else {
    amount = x->has_unit_price ? decimal_times(qty, fld(r, T_PRICE)->p, fld(r, T_PRICE)->len, price) : 0.0;
  }
  order = rowkey(x, r);
  if (x->has_order) {
    NEED(T_ORDER, req(fld(r, T_ORDER)));
    NEED(T_ORDER, parse_id(fld(r, T_ORDER)->p, fld(r, T_ORDER)->len, &order));
  }
  if (x->has_sku) {
    NEED(T_SKU, req(fld(r, T_SKU)));
    NEED(T_SKU, parse_id(fld(r, T_SKU)->p, fld(r, T_SKU)->len, &sku));
  }
  CHECK_ONLY(r);
  f = x->has_region ? fld(r, T_REGION) : NULL;
  if (dict_intern(&x->dict_region[r->tid], f ? f->p : "all", f ? f->len : 3, &region) || region > TAG32_MAX_ID)
    return CSV_E_RANGE;
  region = TAG32(r->tid, region);
  int sale = x->has_amount ? amount > 0 : (qty > 0 && price > 0);
  if (x->has_quantity && qty <= 0) sale = 0;
  uint8_t flags = (sale ? SC_LINE_VALID : 0) | ((amount < 0 || qty < 0) ? SC_LINE_RETURN : 0);
  int64_t i = add_row(x, r->tid);
  if (i < 0) return CSV_E_RANGE;
  put_line(&x->out[r->tid], i, rowkey(x, r), user, order, sku, (int32_t)region, day, sec, qty, amount, amount, flags);
  return CSV_OK;
}

/* ---- reading one file ------------------------------------------------- */

typedef struct {
  char label[64];
  char path[SC_PATH_MAX + 64];
  csvr_result res;
  int read_done;
} file_state;

#define MAX_FILES 8

typedef struct {
  file_state f[MAX_FILES];
  int n;
} ingest_files;

/* Reads one file into `out` (rows of every thread concatenated in order). */
static sc_status read_file(sc_run *run, ingest_files *files, const char *label, const char *path,
                           const csvr_col *cols, int ncols, csvr_convert fn, ingest_ctx *proto, const char *spec,
                           sc_table *out, int need_rows) {
  (void)run;
  file_state *fs = &files->f[files->n];
  proto->file_index = files->n;
  files->n++;
  snprintf(fs->label, sizeof fs->label, "%s", label);
  snprintf(fs->path, sizeof fs->path, "%s", path);
  int T = omp_get_max_threads();
  ingest_ctx x = *proto;
  x.T = T;
  x.overflow = 0;
  sc_status s = sc_calloc(&x.out, (size_t)T, sizeof *x.out);
  if (!s) s = sc_calloc(&x.base, (size_t)T, sizeof *x.base);
  if (!s) s = sc_calloc(&x.bound, (size_t)T, sizeof *x.bound);
  if (!s) s = sc_calloc(&x.memo, MEMO_STRIDE * (size_t)T, sizeof *x.memo);
  if (!s) s = table_init(&x.shared, out->name, spec);
  SC_TRY(comm_agree(s));
  double t0 = sc_now();
  s = csvr_read(path, label, cols, ncols, fn, ingest_reserve, &x, need_rows, run->cfg.max_record_lines, &fs->res);
  fs->read_done = 1;
  if (!s && x.overflow) s = sc_fail(SC_EINTERNAL, "%s: a thread's output window was too small", label);
  if (!s) {
    /* close the gaps between the threads' windows, in thread order */
    int64_t o = 0;
    for (int t = 0; t < T; t++) {
      for (int c = 0; c < x.shared.ncols; c++) {
        size_t es = coltype_size(x.shared.cols[c].type);
        char *d = x.shared.cols[c].data;
        if (o != x.base[t] && x.out[t].n) memmove(d + (size_t)o * es, d + (size_t)x.base[t] * es, (size_t)x.out[t].n * es);
      }
      o += x.out[t].n;
    }
    x.shared.n = o;
    *out = x.shared;
  } else {
    table_free(&x.shared);
  }
  free(x.out);
  free(x.base);
  free(x.bound);
  free(x.memo);
  s = comm_agree(s);
  if (!s) {
    int64_t g[2] = {fs->res.read, fs->res.bytes};
    comm_sum_i64(g, 1);
    double dt = sc_now() - t0;
    sc_say("ingest: %s: %lld rows, %.1f MB in %.2f s (%.0f MB/s)", label, (long long)g[0], fs->res.bytes / 1e6, dt,
           dt > 0 ? fs->res.bytes / 1e6 / dt : 0);
  }
  return s;
}

/* Stops the run when a file's rejected share is above the limit, naming
 * its first malformed rows. */
static sc_status check_rejects(sc_run *run, file_state *fs) {
  int64_t c[2] = {fs->res.read, fs->res.rejected};
  comm_sum_i64(c, 2);
  if (c[1] == 0 || (double)c[1] <= run->cfg.max_reject_fraction * (double)c[0]) return SC_OK;
  /* first three bad lines over all ranks (ranks hold ascending lines) */
  int64_t mine[3] = {INT64_MAX, INT64_MAX, INT64_MAX};
  for (int i = 0; i < 3 && i < fs->res.n_rejects; i++) mine[i] = fs->res.rejects[i].line;
  int64_t *all = NULL;
  SC_TRY(sc_alloc(&all, sizeof mine * (size_t)run->size));
  comm_allgather(mine, sizeof mine, all);
  int64_t first[3] = {INT64_MAX, INT64_MAX, INT64_MAX};
  for (int i = 0; i < 3 * run->size; i++) {
    int64_t v = all[i];
    for (int k = 0; k < 3; k++)
      if (v < first[k]) {
        for (int m = 2; m > k; m--) first[m] = first[m - 1];
        first[k] = v;
        break;
      }
  }
  free(all);
  char lines[96] = "";
  for (int k = 0; k < 3 && first[k] != INT64_MAX; k++)
    snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%lld", k ? ", " : "", (long long)first[k]);
  return sc_fail(SC_EINPUT,
                 "%s: %lld of %lld rows (%.2f%%) are malformed, above input.max_reject_fraction = %g; first bad "
                 "lines: %s. Fix the file or raise the limit",
                 fs->label, (long long)c[1], (long long)c[0], 100.0 * (double)c[1] / (double)c[0],
                 run->cfg.max_reject_fraction, lines);
}

/* ---- after reading: joins, partitioning, dictionaries ----------------- */

static int32_t *dest_alloc(int64_t n) { return malloc(sizeof(int32_t) * (size_t)(n + 1)); }

/* Moves rows to the rank of their user; rows without a user spread by row. */
static sc_status partition_by_user(sc_table *t, int size) {
  const int64_t *u = table_i64(t, "user_id"), *row = table_i64(t, "row");
  if (!u || !row) return SC_EINTERNAL;
  sc_status s = SC_OK;
  if (size > 1) { /* one rank holds every user: no destinations to find */
    int32_t *d = dest_alloc(t->n);
    if (!d) return sc_fail(SC_ENOMEM, "out of memory partitioning %s", t->name);
    for (int64_t i = 0; i < t->n; i++) d[i] = u[i] ? part_user(u[i], size) : part_user(row[i], size);
    s = table_exchange(t, d);
    free(d);
  }
  if (!s) s = table_sort(t, "user_id", "row", NULL);
  return comm_agree(s);
}

/* The rank that answers for an order id. When the ranks' order lines hold
 * order ids in disjoint ranges rising with the rank (a file in order-id
 * order, as the generator's and Online Retail's invoices are), an order id
 * belongs to the rank whose lines begin at or below it: its delivery rows
 * and its lines' questions then mostly stay where they are. Otherwise order
 * ids spread by a hash. Either way every delivery row of one order meets on
 * one rank, so the join's answer does not depend on the choice. */
typedef struct {
  int size, ranged, nb; /* ranged: nb ranks with lines */
  int64_t *lo;          /* ranged: the least order id of each, rising */
  int32_t *rk;          /* ranged: their ranks */
} order_owner;

static sc_status order_owner_init(order_owner *w, const sc_table *lines, int size) {
  memset(w, 0, sizeof *w);
  w->size = size;
  const int64_t *o = table_i64(lines, "order_id");
  int64_t mine[3] = {INT64_MAX, INT64_MIN, lines->n}, *all = NULL;
  for (int64_t i = 0; i < lines->n; i++) {
    mine[0] = o[i] < mine[0] ? o[i] : mine[0];
    mine[1] = o[i] > mine[1] ? o[i] : mine[1];
  }
  sc_status s = comm_agree(sc_alloc(&all, sizeof mine * (size_t)size));
  if (s) return s;
  comm_allgather(mine, sizeof mine, all);
  int ok = 1, nb = 0;
  int64_t prev_hi = INT64_MIN;
  for (int r = 0; r < size; r++)
    if (all[3 * r + 2] > 0) {
      ok &= all[3 * r] >= prev_hi; /* equal: one order's lines cut by a range boundary */
      prev_hi = all[3 * r + 1];
      nb++;
    }
  if (ok && nb > 1) { /* one rank with lines (or none): the hash is as good */
    s = sc_alloc(&w->lo, sizeof *w->lo * (size_t)nb);
    if (!s) s = sc_alloc(&w->rk, sizeof *w->rk * (size_t)nb);
    for (int r = 0, k = 0; !s && r < size; r++)
      if (all[3 * r + 2] > 0) {
        w->lo[k] = all[3 * r];
        w->rk[k++] = r;
      }
    w->ranged = !s;
    w->nb = nb;
  }
  free(all);
  return comm_agree(s);
}

static void order_owner_free(order_owner *w) {
  free(w->lo);
  free(w->rk);
}

/* *k carries the range of the previous call (start it at 0): ids in order
 * cost two compares */
static inline int32_t order_owner_of(const order_owner *w, int64_t order, int *k) {
  if (!w->ranged) return rank_of_hash(sc_mix64((uint64_t)order ^ 0x5bd1e995ULL), w->size);
  int j = *k;
  if (!(w->lo[j] <= order && (j + 1 == w->nb || order < w->lo[j + 1]))) {
    j = (int)(order == INT64_MAX ? w->nb : lower_bound_i64(w->lo, w->nb, order + 1)) - 1; /* the last lo <= order */
    if (j < 0) j = 0;
    *k = j;
  }
  return w->rk[j];
}

/* The arrival of `order` given at = the lower bound of order in the sorted
 * orders ord (arr: their arrivals); SC_NO_TS when the order has none. */
static inline int64_t arrival_at(const int64_t *ord, const int64_t *arr, int64_t n_ord, int64_t at, int64_t order) {
  return at < n_ord && ord[at] == order ? arr[at] : SC_NO_TS;
}

/* Questions falling below their predecessor more often than once in 16
 * are answered through a sort (answer_sorted); fewer falls, by galloping
 * from the previous answer. */
static int unordered(int64_t falls, int64_t n) { return falls > n / 16; }

static int mostly_rising(const int64_t *q, int64_t n) {
  int64_t falls = 0;
  for (int64_t i = 1; i < n; i++) falls += q[i] < q[i - 1];
  return !unordered(falls, n);
}

/* out[where[j]] (where NULL: out[j]) = the arrival of order q[j] in the
 * sorted pairs (ord, arr), SC_NO_TS when it has none. The questions are
 * sorted with their places and meet the pairs in one merge walk: a search
 * from a random place costs a cache miss a step, and the order ids of a
 * file in time order made galloping take 1.2 s for 4 million lines. q and
 * out may be the same array. */
static sc_status answer_sorted(const int64_t *ord, const int64_t *arr, int64_t n_ord, const int64_t *q,
                               const int64_t *where, int64_t n, int64_t *out) {
  int64_t *key = NULL, *pos = NULL;
  sc_status s = sc_alloc(&key, sizeof *key * (size_t)(n + 1));
  if (!s) s = sc_alloc(&pos, sizeof *pos * (size_t)(n + 1));
  if (!s && radix_argsort_i64(q, n, pos, key) < 0) s = sc_fail(SC_ENOMEM, "out of memory joining delivery.csv");
  for (int64_t j = 0, at = 0; !s && j < n; j++) {
    while (at < n_ord && ord[at] < key[j]) at++;
    out[where ? where[pos[j]] : pos[j]] = arrival_at(ord, arr, n_ord, at, key[j]);
  }
  free(key);
  free(pos);
  return s;
}

/* out[j] = the arrival of order q[j] for every j (q and out may be the same
 * array): mostly rising questions gallop through the sorted pairs, each
 * thread from its own previous answer (its first lookup a full search, so
 * the split does not change a result); others through answer_sorted. */
static sc_status answer_all(const int64_t *ord, const int64_t *arr, int64_t n_ord, const int64_t *q, int64_t n,
                            int64_t *out) {
  if (!mostly_rising(q, n)) return answer_sorted(ord, arr, n_ord, q, NULL, n, out);
#pragma omp parallel
  {
    int64_t at = 0;
#pragma omp for schedule(static)
    for (int64_t j = 0; j < n; j++) {
      at = gallop_lower_bound_i64(ord, n_ord, q[j], at);
      out[j] = arrival_at(ord, arr, n_ord, at, q[j]);
    }
  }
  return SC_OK;
}

/* Turns the (order, arrival) pairs of delivery rows in line order into
 * one pair per order, the first by line, sorted by order (*n: their count,
 * then the orders'). When the order ids span at most four times the rows
 * (ids from a sequence, as most order systems hand out), a dense array
 * indexed by the id keeps each order's first arrival and one walk over it
 * yields the pairs in order: no sort, which a carrier's file in ship-time
 * order needs (its ids nearly sorted: 0.2 s for 3.8 million rows, issue
 * 15). Otherwise a stable sort (the first row by line stays first) and a
 * cut to the first of each order. Both give the same pairs. */
static sc_status first_arrivals(int64_t *ord, int64_t *arr, int64_t *n) {
  const int64_t rows = *n;
  int64_t lo = INT64_MAX, hi = INT64_MIN, m = 0;
  for (int64_t i = 0; i < rows; i++) {
    lo = ord[i] < lo ? ord[i] : lo;
    hi = ord[i] > hi ? ord[i] : hi;
  }
  const double span = rows ? (double)hi - (double)lo + 1 : 0;
  /* malloc: without the memory the sort still answers */
  int64_t *first = rows && span <= 4.0 * (double)rows + 4096 ? malloc(sizeof(int64_t) * (size_t)span) : NULL;
  if (first) {
    for (int64_t k = 0; k < (int64_t)span; k++) first[k] = SC_NO_TS; /* arrivals are never SC_NO_TS */
    for (int64_t i = 0; i < rows; i++)
      if (first[ord[i] - lo] == SC_NO_TS) first[ord[i] - lo] = arr[i];
    for (int64_t k = 0; k < (int64_t)span; k++)
      if (first[k] != SC_NO_TS) {
        ord[m] = lo + k;
        arr[m++] = first[k];
      }
    free(first);
    *n = m;
    return SC_OK;
  }
  if (radix_sort_i64(ord, arr, rows)) return sc_fail(SC_ENOMEM, "out of memory joining delivery.csv");
  for (int64_t i = 0; i < rows; i++)
    if (m == 0 || ord[i] != ord[m - 1]) {
      ord[m] = ord[i];
      arr[m++] = arr[i];
    }
  *n = m;
  return SC_OK;
}

/* The first delivery row (by line) with an arrival gives each order its
 * arrival time. Delivery rows without an arrival are counted as read but
 * never leave the reader; the others move to the rank that answers for
 * their order id (order_owner), where their (order, arrival) pairs are
 * sorted by order (stably: the first row by line stays first) and cut to one
 * per order. Order lines stay where they are. A line whose order this rank
 * answers for finds its arrival here; the others ask: each rank sends those
 * order ids grouped by answering rank, the answering rank overwrites each id
 * with its arrival (or SC_NO_TS) in place and sends the array back, and the
 * asker puts the answers where the questions came from. At most 8 bytes
 * travel each way per line; the wide line rows cross the network once, to
 * their user's rank. Questions come in their lines' order, so a file in
 * order-id order is answered by galloping from the previous answer through
 * the sorted orders: a step or two each, where a hash table costs a cache
 * miss a probe; questions out of order (a file in time order) are sorted
 * first and met in one merge walk (answer_sorted). */
static sc_status join_delivery(sc_table *lines, sc_table *deliv, int size) {
  const int me = comm_rank();
  order_owner w;
  SC_TRY(order_owner_init(&w, lines, size));
  const int64_t *dord = table_i64(deliv, "order_id");
  /* one rank answers for every order: nothing moves, no owner to find */
  const int alone = size == 1;
  int32_t *d = alone ? NULL : dest_alloc(deliv->n);
  sc_status s = (alone || d) && dord ? SC_OK : sc_fail(SC_ENOMEM, "out of memory partitioning %s", deliv->name);
  int k = 0;
  for (int64_t i = 0; !s && !alone && i < deliv->n; i++) d[i] = order_owner_of(&w, dord[i], &k);
  s = comm_agree(s);
  if (!s && !alone) s = table_exchange(deliv, d);
  free(d);
  if (s) {
    order_owner_free(&w);
    return s;
  }
  /* deliv holds the rows with an arrival, in line order: ranks read the
   * file in rank order and the exchange keeps the senders' order (its
   * contract, table.h). Its two columns become the (order, arrival) pairs,
   * sorted in place (stably: each order's first row by line stays first)
   * and owned here from now on. */
  int64_t *ord = table_i64(deliv, "order_id"), *arr = table_i64(deliv, "arr_ts"), n_ord = deliv->n;
  for (int c = 0; c < deliv->ncols; c++) deliv->cols[c].data = NULL;
  table_free(deliv);
  int64_t *counts = NULL, *rcounts = NULL, *ask = NULL, *answer = NULL;
  int64_t n_answer = 0;
  s = n_ord > 0 && (!ord || !arr) ? SC_EINTERNAL : SC_OK;
  if (!s) s = first_arrivals(ord, arr, &n_ord);
  /* questions: the order ids of this rank's lines that another rank
   * answers for, grouped by that rank (in line order within a group); the
   * answers come back to the same places, and the same walk over the lines
   * finds them again */
  int64_t *next = NULL, *sdisp = NULL, *rdisp = NULL;
  if (!s) s = sc_calloc(&counts, (size_t)size, sizeof *counts);
  if (!s) s = sc_calloc(&rcounts, (size_t)size, sizeof *rcounts);
  if (!s) s = sc_alloc(&next, sizeof *next * (size_t)size);
  if (!s) s = sc_alloc(&sdisp, sizeof *sdisp * (size_t)size);
  if (!s) s = sc_alloc(&rdisp, sizeof *rdisp * (size_t)size);
  const int64_t *lord = s ? NULL : table_i64(lines, "order_id");
  int64_t n_ask = 0;
  if (!s) {
    k = 0;
    for (int64_t i = 0; !alone && i < lines->n; i++) counts[order_owner_of(&w, lord[i], &k)]++;
    counts[me] = 0;
    for (int r = 0; r < size; r++) next[r] = sdisp[r] = r ? sdisp[r - 1] + counts[r - 1] : 0;
    n_ask = sdisp[size - 1] + counts[size - 1];
    s = sc_alloc(&ask, sizeof(int64_t) * (size_t)(n_ask + 1));
  }
  if (!s && n_ask > 0) {
    k = 0;
    for (int64_t i = 0; i < lines->n; i++) {
      int r = order_owner_of(&w, lord[i], &k);
      if (r != me) ask[next[r]++] = lord[i];
    }
  }
  s = comm_agree(s);
  if (!s) s = comm_agree(comm_alltoallv(ask, counts, sizeof(int64_t), (void **)&answer, rcounts, &n_answer));
  if (!s) {
    for (int r = 0; r < size; r++) rdisp[r] = r ? rdisp[r - 1] + rcounts[r - 1] : 0;
    s = answer_all(ord, arr, n_ord, answer, n_answer, answer);
    /* the answers return to where the questions left from */
    s = comm_agree(s);
    if (!s) s = comm_alltoallv_into(answer, rcounts, rdisp, ask, counts, sdisp, sizeof(int64_t));
  }
  if (!s && alone) {
    /* every line's order is answered here: the lines' own order ids are
     * the questions, in place */
    s = answer_all(ord, arr, n_ord, lord, lines->n, table_i64(lines, "arr_ts"));
  } else if (!s) {
    /* the answers to their lines; this rank's own questions counted, and
     * whether they come in rising order */
    int64_t *larr = table_i64(lines, "arr_ts"), n_own = 0, falls = 0, prev = INT64_MIN;
    for (int r = 0; r < size; r++) next[r] = sdisp[r];
    k = 0;
    for (int64_t i = 0; i < lines->n; i++) {
      int r = order_owner_of(&w, lord[i], &k);
      if (r != me) {
        larr[i] = ask[next[r]++];
        continue;
      }
      n_own++;
      falls += lord[i] < prev;
      prev = lord[i];
    }
    if (!unordered(falls, n_own)) {
      /* each thread gallops from its own previous answer */
#pragma omp parallel
      {
        int64_t at = 0;
        int kt = 0;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < lines->n; i++)
          if (order_owner_of(&w, lord[i], &kt) == me) {
            at = gallop_lower_bound_i64(ord, n_ord, lord[i], at);
            larr[i] = arrival_at(ord, arr, n_ord, at, lord[i]);
          }
      }
    } else if (n_own == lines->n) {
      /* every line's order is answered here (ranges): the lines' own order
       * ids are the questions, in place */
      s = answer_sorted(ord, arr, n_ord, lord, NULL, n_own, larr);
    } else {
      /* gathered with their lines' places, answered through a sort */
      int64_t *q = NULL, *where = NULL, m = 0;
      s = sc_alloc(&q, sizeof *q * (size_t)(n_own + 1));
      if (!s) s = sc_alloc(&where, sizeof *where * (size_t)(n_own + 1));
      k = 0;
      for (int64_t i = 0; !s && i < lines->n; i++)
        if (order_owner_of(&w, lord[i], &k) == me) {
          q[m] = lord[i];
          where[m++] = i;
        }
      if (!s) s = answer_sorted(ord, arr, n_ord, q, where, n_own, larr);
      free(q);
      free(where);
    }
  }
  order_owner_free(&w);
  free(ord);
  free(arr);
  free(counts);
  free(rcounts);
  free(next);
  free(sdisp);
  free(rdisp);
  free(ask);
  free(answer);
  return comm_agree(s);
}

/* Rejects later rows with the same key in a table sorted by (key, row);
 * rows with `off` are re-read from the file for the reject text. */
static sc_status reject_duplicates(sc_table *t, const char *key, file_state *fs, const char *reason, int writer) {
  const int64_t *k = table_i64(t, key), *row = table_i64(t, "row"), *off = table_i64(t, "off");
  int64_t *keep = NULL, m = 0;
  sc_status s = sc_alloc(&keep, sizeof(int64_t) * (size_t)(t->n + 1));
  for (int64_t i = 0; !s && i < t->n; i++) {
    if (i > 0 && k[i] == k[i - 1]) {
      if (writer) s = csvr_reject_at(&fs->res, fs->path, row[i] & (((int64_t)1 << 40) - 1), off[i], reason);
      continue;
    }
    keep[m++] = i;
  }
  if (!s) s = table_permute(t, keep, m);
  free(keep);
  return comm_agree(s);
}

/* The skus of sku[0..rows) as dense indices 0..*nsku in first-seen order
 * (idx[i]), through a keymap that grows with the distinct skus (a
 * catalog's thousand fit in the L2 cache); gives up (returns 0) once
 * *nsku x per_sku would pass `limit`, so many distinct skus cost at most
 * that many inserts before the caller's hash. Returns -1 when out of
 * memory. */
static int dense_skus(const int64_t *sku, int64_t rows, double per_sku, double limit, int32_t *idx, int64_t *nsku) {
  keymap h;
  keymap_init(&h);
  int ok = 1;
  for (int64_t i = 0; ok == 1 && i < rows; i++) {
    idx[i] = keymap_get(&h, sku[i], 0);
    if (idx[i] < 0) ok = -1;
    else if ((double)h.n * per_sku > limit) ok = 0;
  }
  *nsku = h.n;
  keymap_free(&h);
  return ok;
}

/* Sums the rows of the same (sku, region, day) of t (columns sku, region,
 * day and a count column `cnt`, in that order) in place: afterwards its
 * first rows are the groups, in first-seen order, each with its summed
 * count (a group's row is never after the rows it sums, so each row is read
 * before anything is written there). When the keys' box (skus x region
 * range x day range) is at most four times the row count, as for a daily
 * stock table, a dense array indexed by the key finds the group in one
 * access; otherwise an open-addressing hash on the key. The box counts the
 * sku range when it is narrow (skus 1..1000) and the distinct skus, given
 * dense indices first (dense_skus), when it is not (catalog ids such as
 * 10446, 399871: the hash on 9 million stock rows cost 1.6 s, issue 15).
 * Either way the groups come out in first-seen order: the same rows. */
static sc_status sum_by_series_day(sc_table *t, const char *cnt) {
  int64_t *sku = table_i64(t, "sku");
  int32_t *reg = table_i32(t, "region"), *day = table_i32(t, "day"), *c = table_i32(t, cnt);
  if (!sku || !reg || !day || !c) return SC_EINTERNAL;
  const int64_t rows = t->n;
  int64_t n = 0;
#define OPEN_GROUP(sk, rg, dy) (sku[n] = (sk), reg[n] = (rg), day[n] = (dy), c[n] = 0, n++)
  int64_t s0 = INT64_MAX, s1 = INT64_MIN, r0 = INT32_MAX, r1 = INT32_MIN, d0 = INT32_MAX, d1 = INT32_MIN;
  for (int64_t i = 0; i < rows; i++) {
    if (sku[i] < s0) s0 = sku[i];
    if (sku[i] > s1) s1 = sku[i];
    if (reg[i] < r0) r0 = reg[i];
    if (reg[i] > r1) r1 = reg[i];
    if (day[i] < d0) d0 = day[i];
    if (day[i] > d1) d1 = day[i];
  }
  const double limit = 4.0 * (double)rows + 4096, per_sku = rows ? (double)(r1 - r0 + 1) * (double)(d1 - d0 + 1) : 0;
  double box = rows ? ((double)s1 - (double)s0 + 1) * per_sku : 0;
  int32_t *si = NULL; /* dense sku indices, when the sku range is too wide */
  int64_t ns = s1 - s0 + 1;
  if (rows && box > limit && per_sku * 2 <= limit) {
    SC_TRY(sc_alloc(&si, sizeof(int32_t) * (size_t)rows));
    int e = dense_skus(sku, rows, per_sku, limit < (double)INT32_MAX ? limit : (double)INT32_MAX, si, &ns);
    if (e < 0) {
      free(si);
      return sc_fail(SC_ENOMEM, "out of memory summing %s", t->name);
    }
    if (e == 1) box = (double)ns * per_sku;
    else {
      free(si);
      si = NULL;
    }
  }
  if (rows && box <= limit && box < (double)INT32_MAX) {
    int64_t nr = r1 - r0 + 1;
    int32_t *at = NULL; /* key -> group row, -1: none yet */
    sc_status st = sc_alloc(&at, sizeof(int32_t) * (size_t)box);
    if (st) {
      free(si);
      return st;
    }
    memset(at, 0xff, sizeof(int32_t) * (size_t)box);
    for (int64_t i = 0; i < rows; i++) {
      int64_t sk = sku[i];
      int32_t rg = reg[i], dy = day[i], ci = c[i];
      int64_t k = ((int64_t)(dy - d0) * nr + (rg - r0)) * ns + (si ? si[i] : sk - s0);
      if (at[k] < 0) at[k] = (int32_t)OPEN_GROUP(sk, rg, dy);
      c[at[k]] += ci;
    }
    free(at);
    free(si);
    t->n = n;
    return SC_OK;
  }
  int64_t nslots = 16;
  while (nslots < 2 * rows) nslots *= 2;
  int64_t *slot = NULL;
  SC_TRY(sc_alloc(&slot, sizeof(int64_t) * (size_t)nslots));
  memset(slot, 0xff, sizeof(int64_t) * (size_t)nslots);
  for (int64_t i = 0; i < rows; i++) {
    int64_t sk = sku[i];
    int32_t rg = reg[i], dy = day[i], ci = c[i];
    uint64_t h = sc_mix64((uint64_t)sk * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)(uint32_t)rg << 32 | (uint32_t)dy));
    int64_t k = (int64_t)(h & (uint64_t)(nslots - 1));
    while (slot[k] >= 0 && !(sku[slot[k]] == sk && reg[slot[k]] == rg && day[slot[k]] == dy))
      k = (k + 1) & (nslots - 1);
    if (slot[k] < 0) slot[k] = OPEN_GROUP(sk, rg, dy);
    c[slot[k]] += ci;
  }
#undef OPEN_GROUP
  t->n = n;
  free(slot);
  return SC_OK;
}

/* Counts available DCs per (sku, region, day) on the series' rank: sums on
 * each rank first (a region has several DCs), then moves the partial sums
 * and adds them up, all in the raw table's columns, which become inv's. */
static sc_status aggregate_inventory(sc_table *raw, sc_table *inv, int size) {
  sc_status s = sum_by_series_day(raw, "flag");
  int32_t *d = s ? NULL : malloc(sizeof(int32_t) * (size_t)(raw->n + 1));
  if (!s && !d) s = sc_fail(SC_ENOMEM, "out of memory partitioning inventory");
  if (!s) {
    const int64_t *sku = table_i64(raw, "sku");
    const int32_t *reg = table_i32(raw, "region");
    for (int64_t i = 0; i < raw->n; i++) d[i] = part_series(sku[i], reg[i], size);
  }
  s = comm_agree(s);
  if (!s) s = table_exchange(raw, d);
  free(d);
  if (!s) s = sum_by_series_day(raw, "flag");
  if (s) {
    table_free(raw);
    return comm_agree(s);
  }
  *inv = *raw; /* the same columns under the stored names (SC_INVENTORY_SPEC) */
  snprintf(inv->name, sizeof inv->name, "inventory");
  snprintf(inv->cols[table_col_index(inv, "flag")].name, sizeof inv->cols[0].name, "available_dcs");
  return comm_agree(SC_OK);
}

/* Gives text-id columns their global dictionary ids. The converters stored
 * (thread << 32 | thread-local id); merge thread dictionaries, then
 * globalize across ranks. */
static sc_status globalize_column(sc_dict *per_thread, int T, int64_t *col64, int32_t *col32, int64_t n, char ***names,
                                  int64_t *n_names) {
  sc_dict rank;
  dict_init(&rank);
  int64_t **tmap = calloc((size_t)T, sizeof *tmap);
  sc_status s = tmap ? SC_OK : sc_fail(SC_ENOMEM, "out of memory merging dictionaries");
  for (int t = 0; !s && t < T; t++) {
    s = sc_alloc(&tmap[t], sizeof(int64_t) * (size_t)(per_thread[t].n + 1));
    for (int64_t i = 0; !s && i < per_thread[t].n; i++)
      s = dict_intern(&rank, per_thread[t].str[i], per_thread[t].len[i], &tmap[t][i]);
  }
  int64_t *g = NULL;
  s = comm_agree(s);
  if (!s) s = dict_globalize(&rank, &g);
  if (!s) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
      int64_t v = col64 ? col64[i] : col32[i];
      int64_t gid = g[tmap[UNTAG_T(v, col64 != NULL)][UNTAG_ID(v, col64 != NULL)]];
      if (col64) col64[i] = gid;
      else col32[i] = (int32_t)gid;
    }
    dict_release(&rank, names, n_names);
  } else {
    dict_free(&rank);
  }
  for (int t = 0; tmap && t < T; t++) free(tmap[t]);
  free(tmap);
  free(g);
  return s;
}

/* ---- rejects.csv and the summary ------------------------------------- */

static int cmp_reject(const void *a, const void *b) {
  const csvr_reject *x = a, *y = b;
  return (x->line > y->line) - (x->line < y->line);
}

/* Rank 0 receives each rank's rejects in turn and writes rejects.csv. */
static sc_status write_rejects(sc_run *run, ingest_files *files) {
  FILE *f = NULL;
  sc_status s = SC_OK;
  if (run->rank == 0) {
    s = out_open(run, "rejects.csv", &f);
    if (!s) fputs("file,line,reason,raw\n", f);
  }
  SC_TRY(comm_agree(s));
  for (int i = 0; i < files->n; i++) {
    file_state *fs = &files->f[i];
    /* serialize: line (8 bytes) + NUL-terminated text */
    size_t bytes = 0;
    for (int64_t k = 0; k < fs->res.n_rejects; k++) bytes += 8 + strlen(fs->res.rejects[k].text) + 1;
    char *blob = malloc(bytes + 1), *o = blob;
    for (int64_t k = 0; blob && k < fs->res.n_rejects; k++) {
      memcpy(o, &fs->res.rejects[k].line, 8);
      o += 8;
      size_t l = strlen(fs->res.rejects[k].text) + 1;
      memcpy(o, fs->res.rejects[k].text, l);
      o += l;
    }
    if (!blob) s = sc_fail(SC_ENOMEM, "out of memory collecting rejects");
    SC_TRY(comm_agree(s));
    if (run->rank == 0) {
      /* collect all ranks' entries of this file, then sort by line */
      csvr_reject *all = NULL;
      int64_t n = 0, cap = 0;
      char **bufs = calloc((size_t)run->size, sizeof *bufs);
      if (!bufs) s = sc_fail(SC_ENOMEM, "out of memory collecting rejects");
      for (int r = 0; r < run->size && !s; r++) {
        char *b = NULL;
        size_t len = 0;
        if (r == 0) {
          b = blob;
          len = bytes;
          blob = NULL;
        } else {
          s = comm_recv_bytes(r, 77, (void **)&b, &len);
        }
        bufs[r] = b;
        for (size_t p = 0; !s && p < len;) {
          if (n == cap) {
            cap = cap ? 2 * cap : 256;
            s = sc_realloc(&all, (size_t)cap * sizeof *all);
            if (s) break;
          }
          memcpy(&all[n].line, b + p, 8);
          all[n].text = b + p + 8;
          p += 8 + strlen(b + p + 8) + 1;
          n++;
        }
      }
      if (!s) {
        /* equal lines cannot occur within one file; no rejects: `all` is NULL,
         * which qsort must not get (UBSan found it) */
        if (n > 1) qsort(all, (size_t)n, sizeof *all, cmp_reject);
        for (int64_t k = 0; k < n; k++) fprintf(f, "%s,%lld,%s\n", fs->label, (long long)all[k].line, all[k].text);
      }
      for (int r = 0; bufs && r < run->size; r++) free(bufs[r]);
      free(bufs);
      free(all);
    } else {
      s = comm_send_bytes(0, 77, blob, bytes);
    }
    free(blob);
    SC_TRY(comm_agree(s));
  }
  if (run->rank == 0) s = out_commit(run, "rejects.csv", f);
  return comm_agree(s);
}

/* ---- the stage ------------------------------------------------------- */

static sc_status ingest_marketplace(sc_run *run, sc_dataset *ds, ingest_files *files, ingest_ctx *proto) {
  const char *dir = run->cfg.path;
  char p[SC_PATH_MAX + 64];
  FILE *probe;
#define PATH(name) (snprintf(p, sizeof p, "%s/%s", dir, name), p)
#define EXISTS(name) ((probe = fopen(PATH(name), "rb")) ? (fclose(probe), 1) : 0)
  int has[4];
  if (run->rank == 0) {
    has[0] = EXISTS("network.csv");
    has[1] = EXISTS("clicks.csv");
    has[2] = EXISTS("delivery.csv");
    has[3] = EXISTS("inventory.csv");
  }
  comm_bcast(has, sizeof has, 0);
  ds->has_network = has[0];
  ds->has_clicks = has[1];
  ds->has_delivery = has[2] && has[0];
  ds->has_inventory = has[3] && has[0];
  ds->has_users = 1;
  ds->has_sku = 1;

  /* network first: orders and inventory need the dc -> region map */
  sc_table net;
  table_init(&net, "network", SC_NETWORK_SPEC ",row:i64,off:i64");
  int64_t *dc_ids = NULL;
  int32_t *dc_reg = NULL;
  if (ds->has_network) {
    SC_TRY(read_file(run, files, "network.csv", PATH("network.csv"), network_cols, 2, network_row, proto,
                     SC_NETWORK_SPEC ",row:i64,off:i64", &net, 0));
    SC_TRY(check_rejects(run, &files->f[files->n - 1]));
    SC_TRY(table_allgather(&net));
    SC_TRY(table_sort(&net, "dc_id", "row", NULL));
    SC_TRY(reject_duplicates(&net, "dc_id", &files->f[files->n - 1], "duplicate dc_id", run->rank == 0));
    table_drop_last(&net);
    table_drop_last(&net);
  }
  table_init(&ds->network, "network", SC_NETWORK_SPEC);
  if (ds->has_network) SC_TRY(table_append(&ds->network, &net));
  table_free(&net);
  dc_ids = table_i64(&ds->network, "dc_id");
  dc_reg = table_i32(&ds->network, "region_id");
  proto->dc_ids = dc_ids;
  proto->dc_regions = dc_reg;
  proto->n_dc = ds->network.n;
  proto->dc_is_dense = proto->n_dc > 0 && dc_ids[proto->n_dc - 1] - dc_ids[0] < DC_DENSE;
  if (proto->dc_is_dense) {
    proto->dc_lo = dc_ids[0];
    for (int k = 0; k < DC_DENSE; k++) proto->dc_dense[k] = -1;
    for (int64_t k = 0; k < proto->n_dc; k++) proto->dc_dense[dc_ids[k] - proto->dc_lo] = dc_reg[k];
  }

  double t = sc_now(); /* the steps' clock (summary.seconds_steps.ingest) */
  /* users */
  sc_table users;
  users.name[0] = 0;
  snprintf(users.name, sizeof users.name, "users");
  SC_TRY(read_file(run, files, "users.csv", PATH("users.csv"), users_cols, 5, users_row, proto,
                   SC_USERS_SPEC ",off:i64", &users, 1));
  file_state *ufs = &files->f[files->n - 1];
  SC_TRY(check_rejects(run, ufs));
  SC_TRY(partition_by_user(&users, run->size));
  SC_TRY(reject_duplicates(&users, "user_id", ufs, "duplicate user_id", 1));
  table_drop_last(&users);
  ds->users = users;
  run_step(run, "ingest", "users.csv", &t);

  /* orders */
  snprintf(ds->lines.name, sizeof ds->lines.name, "lines");
  SC_TRY(read_file(run, files, "orders.csv", PATH("orders.csv"), orders_cols, 8, orders_row, proto, SC_LINES_SPEC,
                   &ds->lines, 1));
  SC_TRY(check_rejects(run, &files->f[files->n - 1]));
  run_step(run, "ingest", "orders.csv", &t);

  if (ds->has_delivery) {
    sc_table deliv;
    snprintf(deliv.name, sizeof deliv.name, "delivery");
    SC_TRY(read_file(run, files, "delivery.csv", PATH("delivery.csv"), delivery_cols, 3, delivery_row, proto,
                     DELIVERY_SPEC, &deliv, 0));
    SC_TRY(check_rejects(run, &files->f[files->n - 1]));
    run_step(run, "ingest", "delivery.csv", &t);
    SC_TRY(join_delivery(&ds->lines, &deliv, run->size));
    table_free(&deliv);
    run_step(run, "ingest", "delivery join", &t);
  }
  SC_TRY(partition_by_user(&ds->lines, run->size));
  run_step(run, "ingest", "lines to their users' ranks", &t);

  if (ds->has_clicks) {
    snprintf(ds->clicks.name, sizeof ds->clicks.name, "clicks");
    SC_TRY(read_file(run, files, "clicks.csv", PATH("clicks.csv"), clicks_cols, 4, clicks_row, proto, SC_CLICKS_SPEC,
                     &ds->clicks, 0));
    SC_TRY(check_rejects(run, &files->f[files->n - 1]));
    SC_TRY(partition_by_user(&ds->clicks, run->size));
    run_step(run, "ingest", "clicks.csv, to their users' ranks", &t);
  } else {
    table_init(&ds->clicks, "clicks", SC_CLICKS_SPEC);
  }

  if (ds->has_inventory) {
    sc_table raw;
    snprintf(raw.name, sizeof raw.name, "inventory_raw");
    SC_TRY(read_file(run, files, "inventory.csv", PATH("inventory.csv"), inventory_cols, 4, inventory_row, proto,
                     INVRAW_SPEC, &raw, 0));
    SC_TRY(check_rejects(run, &files->f[files->n - 1]));
    SC_TRY(aggregate_inventory(&raw, &ds->inventory, run->size));
    run_step(run, "ingest", "inventory.csv, sums", &t);
  } else {
    table_init(&ds->inventory, "inventory", SC_INVENTORY_SPEC);
  }

  int has_skus = 0;
  if (run->rank == 0) has_skus = EXISTS("skus.csv");
  comm_bcast(&has_skus, sizeof has_skus, 0);
  if (has_skus) {
    sc_table none;
    snprintf(none.name, sizeof none.name, "skus");
    SC_TRY(read_file(run, files, "skus.csv", PATH("skus.csv"), skus_cols, 3, skus_row, proto, "sku:i64", &none, 0));
    SC_TRY(check_rejects(run, &files->f[files->n - 1]));
    table_free(&none);
    run_step(run, "ingest", "skus.csv", &t);
  }
#undef PATH
#undef EXISTS
  return SC_OK;
}

static sc_status ingest_single(sc_run *run, sc_dataset *ds, ingest_files *files, ingest_ctx *proto) {
  int retail = !strcmp(run->cfg.layout, "online-retail");
  int T = omp_get_max_threads();
  /* every rank agrees (a rank of another thread count must not hang) */
  SC_TRY(comm_agree(T <= TAG_MAX_THREADS ? SC_OK
                                         : sc_fail(SC_EUSAGE, "ingest: %d threads a rank; the %s reader numbers its "
                                                              "texts per thread and takes at most %d: set "
                                                              "OMP_NUM_THREADS=%d or fewer (and run more ranks)",
                                                   T, run->cfg.layout, TAG_MAX_THREADS, TAG_MAX_THREADS)));
  SC_TRY(sc_calloc(&proto->dict_sku, (size_t)T, sizeof(sc_dict)));
  SC_TRY(sc_calloc(&proto->dict_region, (size_t)T, sizeof(sc_dict)));
  const char *base = strrchr(run->cfg.path, '/');
  base = base ? base + 1 : run->cfg.path;
  snprintf(ds->lines.name, sizeof ds->lines.name, "lines");
  double t = sc_now(); /* the steps' clock (summary.seconds_steps.ingest) */
  sc_status s;
  if (retail) {
    s = read_file(run, files, base, run->cfg.path, retail_cols, 8, retail_row, proto, SC_LINES_SPEC, &ds->lines, 1);
  } else {
    const sc_config *c = &run->cfg;
    csvr_col cols[T_NCOLS] = {{{c->col_user}, 1},     {{c->col_date}, 1},       {{c->col_amount}, c->col_amount[0] != 0},
                              {{c->col_quantity}, c->col_quantity[0] != 0}, {{c->col_unit_price}, c->col_unit_price[0] != 0},
                              {{c->col_order}, c->col_order[0] != 0},        {{c->col_sku}, c->col_sku[0] != 0},
                              {{c->col_region}, c->col_region[0] != 0}};
    /* an unset optional column must match no header name */
    for (int i = 0; i < T_NCOLS; i++)
      if (!cols[i].names[0][0]) cols[i].names[0] = "\x01unset";
    proto->has_amount = c->col_amount[0] != 0;
    proto->has_quantity = c->col_quantity[0] != 0;
    proto->has_unit_price = c->col_unit_price[0] != 0;
    proto->has_order = c->col_order[0] != 0;
    proto->has_sku = c->col_sku[0] != 0;
    proto->has_region = c->col_region[0] != 0;
    ds->has_amount_col = proto->has_amount;
    s = read_file(run, files, base, run->cfg.path, cols, T_NCOLS, transactions_row, proto, SC_LINES_SPEC, &ds->lines, 1);
  }
  ds->has_sku = retail || proto->has_sku;
  if (!s) s = check_rejects(run, &files->f[files->n - 1]);
  /* text ids -> global ids (before partitioning: thread tags are local) */
  if (!s && retail)
    s = globalize_column(proto->dict_sku, T, table_i64(&ds->lines, "sku"), NULL, ds->lines.n, &ds->sku_names,
                         &ds->n_sku_names);
  if (!s)
    s = globalize_column(proto->dict_region, T, NULL, table_i32(&ds->lines, "region"), ds->lines.n, &ds->region_names,
                         &ds->n_region_names);
  for (int t = 0; t < T; t++) {
    dict_free(&proto->dict_sku[t]);
    dict_free(&proto->dict_region[t]);
  }
  free(proto->dict_sku);
  free(proto->dict_region);
  SC_TRY(s);
  run_step(run, "ingest", base, &t);
  SC_TRY(partition_by_user(&ds->lines, run->size));
  run_step(run, "ingest", "lines to their users' ranks", &t);
  table_init(&ds->users, "users", SC_USERS_SPEC);
  table_init(&ds->clicks, "clicks", SC_CLICKS_SPEC);
  table_init(&ds->inventory, "inventory", SC_INVENTORY_SPEC);
  table_init(&ds->network, "network", SC_NETWORK_SPEC);
  return SC_OK;
}

sc_status stage_ingest(sc_run *run, sc_dataset *ds) {
  memset(ds, 0, sizeof *ds);
  snprintf(ds->layout, sizeof ds->layout, "%s", run->cfg.layout);
  if (!run->cfg.path[0])
    return comm_agree(sc_fail(SC_EUSAGE, "input.path is not set: name the data folder or CSV file in the configuration"));
  ingest_files *files = calloc(1, sizeof *files);
  if (!files) return comm_agree(sc_fail(SC_ENOMEM, "out of memory"));
  ingest_ctx proto;
  memset(&proto, 0, sizeof proto);
  proto.cfg = &run->cfg;
  sc_status s = !strcmp(run->cfg.layout, "marketplace") ? ingest_marketplace(run, ds, files, &proto)
                                                         : ingest_single(run, ds, files, &proto);
  double t = sc_now();
  if (!s) s = dataset_finish(run, ds);
  if (!s) s = write_rejects(run, files);
  if (!s) {
    /* per file: rows and lines over all ranks (csvr_read checked that the
     * lines add up; the duplicate-key rejects since are rows too) */
    store_source src[MAX_FILES];
    for (int i = 0; i < files->n; i++) {
      const csvr_result *r = &files->f[i].res;
      int64_t c[5] = {r->read, r->loaded, r->rejected, r->blank, r->cont};
      comm_sum_i64(c, 5);
      snprintf(src[i].name, sizeof src[i].name, "%s", files->f[i].label);
      src[i].bytes = r->bytes;
      src[i].checksum = r->checksum;
      src[i].read = c[0];
      src[i].loaded = c[1];
      src[i].rejected = c[2];
      src[i].lines = r->lines;
      src[i].blank = c[3];
      src[i].cont = c[4];
    }
    store_summarize_input(run, run->cfg.layout, src, files->n);
    store_summarize_sales(run, ds);
    run_step(run, "ingest", "counts, rejects, summary", &t);
    s = store_write(run, ds, src, files->n);
    if (!s) sc_say("ingest: store %s written in %.2f s", run->store_path, sc_now() - t);
    if (!s) run_step(run, "ingest", "store write", &t);
  }
  for (int i = 0; i < files->n; i++) csvr_free(&files->f[i].res);
  free(files);
  return s;
}
