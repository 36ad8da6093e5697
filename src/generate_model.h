/* generate_model.h: the generative model of the synthetic marketplace.
 *
 * Everything `segcast generate` writes comes from here; generate.c only
 * splits the work over ranks and threads and writes the files. The model
 * has two halves (docs/generator.md describes every mechanism):
 *
 * - Tables that are pure functions of (seed, sku, DC or region, day):
 *   list prices, promotions, stock-outs, and for every (day, DC) the
 *   cumulative weights from which a customer homed at that DC picks a sku
 *   (popularity x yearly season x trend x price and promotion lift x daily
 *   shock x availability). Every rank builds the same tables (gen_model_build).
 * - Customers: gen_user() draws one user's profile, orders, lines, returns,
 *   clicks and deliveries from random streams keyed by (seed, user id,
 *   purpose) and the tables above, and appends CSV text to buffers. It
 *   never looks at ranks or threads, so any split of the users gives the
 *   same bytes.
 *
 * No MPI and no files here.
 */
#ifndef SEGCAST_GENERATE_MODEL_H
#define SEGCAST_GENERATE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "segcast.h"

#define GEN_DAYS 365         ///< 2023-01-01 .. 2023-12-31
#define GEN_DAY0 19358       ///< 2023-01-01 as days since 1970-01-01
#define GEN_REGIONS 12       ///< region ids 1..12
#define GEN_DCS 24           ///< DCs: 3 in regions 1-4, 2 in 5-8, 1 in 9-12
#define GEN_CATEGORIES 20

/// A growing byte buffer of CSV text.
typedef struct {
  char *p;
  size_t n, cap;
} gen_buf;

/// Makes room for `more` bytes after the current end; 0 or -1 (no memory).
int gen_buf_reserve(gen_buf *b, size_t more);
void gen_buf_free(gen_buf *b);

/// The model's tables; read-only once built, shared by all threads.
typedef struct {
  uint64_t seed;
  int64_t users;
  int n_sku;                 ///< sku ids are 1..n_sku
  /* per sku (index sku - 1) */
  uint8_t *sku_cat;          ///< category index
  int32_t *sku_brand;        ///< brand id
  int32_t *sku_base_cents;   ///< base list price in cents
  /* per day */
  double day_cum[GEN_DAYS + 1];  ///< cumulative order-day weight (weekly, yearly, events)
  double hour_cum[25];           ///< cumulative hour-of-day weight
  char day_text[GEN_DAYS][10];   ///< the days as "YYYY-MM-DD"
  /* per (day, dc, sku): index (d * GEN_DCS + c) * n_sku + s - 1 */
  uint8_t *stock;            ///< 1 = available_flag 1
  float *cum;                ///< cumulative sku weights of a customer homed at DC c on day d
  /* per (day, region, sku): index (d * GEN_REGIONS + g) * n_sku + s - 1 */
  uint8_t *promo_pct;        ///< promotion discount in percent (0: none)
  /* per (day, sku): index d * n_sku + s - 1 */
  int32_t *list_cents;       ///< list (original) unit price in cents
  struct gen_consts *consts; ///< per-sku constants the day tables are built from
} gen_model;

/// Number of skus for a data set of `users` users (1,000 at 1M users).
int gen_sku_count(int64_t users);

/// Sets up the model: sku attributes, day weights, and the tables
/// allocated but not filled. Identical on every rank.
sc_status gen_model_init(gen_model *m, int64_t users, uint64_t seed);
/// Fills the tables' days [d0, d1) (OpenMP over days). A day's tables are
/// pure functions of (seed, day), so ranks may fill different days and
/// exchange them (generate.c) or one process may fill all.
sc_status gen_model_build_days(gen_model *m, int d0, int d1);
/// gen_model_init, then every day.
sc_status gen_model_build(gen_model *m, int64_t users, uint64_t seed);
void gen_model_free(gen_model *m);

/// The four day-major tables (stock, cum, promo_pct, list_cents) and the
/// bytes of one day of each, for exchanging days between ranks.
void gen_model_tables(gen_model *m, void *tables[4], size_t day_bytes[4]);

/// Per-thread scratch space for gen_user (sized once).
typedef struct gen_scratch gen_scratch;
gen_scratch *gen_scratch_new(void);
void gen_scratch_free(gen_scratch *s);

/// Appends user `uid`'s rows (ids 1..users) to the five buffers: one users.csv
/// row, its orders.csv lines (returns included), clicks.csv rows, one
/// delivery.csv row per order, and its truth.csv row (the ground truth the
/// data hides: never, once or repeatedly a buyer, and the day it stopped
/// buying for good). 0, or -1 when a buffer cannot grow.
int gen_user(const gen_model *m, gen_scratch *s, int64_t uid, gen_buf *users, gen_buf *orders, gen_buf *clicks,
             gen_buf *delivery, gen_buf *truth);

/// Appends the inventory.csv rows of days [d0, d1) (date, then DC, then sku).
int gen_inventory(const gen_model *m, int d0, int d1, gen_buf *out);
/// The whole network.csv and skus.csv bodies (without headers).
int gen_network(gen_buf *out);
int gen_skus(const gen_model *m, gen_buf *out);

/// The files: the seven of the marketplace layout, then truth.csv (not an
/// input: what the lifetime-value test checks the models against).
#define GEN_NFILES 8
/// Header lines of the files, in the order generate.c writes them.
extern const char *const gen_headers[GEN_NFILES];
extern const char *const gen_files[GEN_NFILES];

/// Formats "YYYY-MM-DD" of a day (days since 1970-01-01) into out (10 bytes,
/// no terminator). Exposed for the unit test.
void gen_format_date(int32_t day, char *out);
/// Formats a timestamp, seconds since 2023-01-01 00:00:00 (0 .. 365 days),
/// as "YYYY-MM-DD HH:MM:SS" (19 bytes, no terminator).
void gen_format_ts(int32_t t, char *out);
/// Writes a non-negative amount of cents as "D.CC"; returns bytes written.
int gen_format_cents(int64_t cents, char *out);
/// Writes a signed integer; returns bytes written.
int gen_format_i64(int64_t v, char *out);

#endif
