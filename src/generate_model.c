/* generate_model.c: the synthetic marketplace's generative model.
 *
 * How it works (docs/generator.md has every parameter and what it is for):
 *
 * 1. Fixed layout: 12 regions, 24 DCs (3/2/1 per region), 20 categories
 *    with a price level, a yearly season and a return rate; n_sku skus
 *    (1,000 at 1M users) with a category, brand, base price, a Zipf
 *    popularity rank and a price elasticity, all drawn from hashes of
 *    (seed, sku).
 * 2. Tables, pure functions of (seed, sku, DC/region, day), built a day
 *    range at a time (OpenMP over days, each day by one thread; generate.c
 *    gives each rank a range and gathers the rest):
 *    list prices (revised every 8 weeks), promotions (national and regional
 *    campaigns plus sale events), stock-out episodes per (sku, DC), and per
 *    (day, DC) the cumulative weights of the skus a customer homed at that
 *    DC buys: popularity x regional taste x season x trend x price lift x
 *    promotion lift x daily shock x availability.
 * 3. Customers: each user's draws come from splitmix64 streams keyed by
 *    (seed, user id, purpose) (profile, orders, clicks, delivery), so a
 *    user's rows never depend on which rank or thread makes them. A user
 *    has a home region and DC, is a non-buyer, a one-time buyer or a repeat
 *    buyer with an activity window that may end in churn, an order rate
 *    (lognormal: heavy-tailed spend), order days drawn from the weekly and
 *    yearly day weights, lines drawn from the day's sku table, returns,
 *    clicks before purchases, browsing clicks and deliveries with delays.
 *
 * Output is CSV text formatted by hand (no printf in the loops).
 */
#include "generate_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

/* ---- the fixed layout ---------------------------------------------------- */

static const int region_ndc[GEN_REGIONS] = {3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1};
static const int region_first[GEN_REGIONS] = {0, 3, 6, 9, 12, 14, 16, 18, 20, 21, 22, 23};
static const int8_t dc_region[GEN_DCS] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11};
/* users per region (relative) and mean transit hours from DC to customer */
static const double region_users[GEN_REGIONS] = {14, 12, 11, 10, 9, 8, 7, 7, 6, 6, 5, 5};
static const double region_transit_h[GEN_REGIONS] = {16, 18, 20, 24, 28, 30, 34, 38, 44, 50, 58, 70};
/* share of a region's customers homed at its 1st, 2nd, 3rd DC */
static const double dc_share[4][3] = {{0, 0, 0}, {1, 0, 0}, {0.6, 0.4, 0}, {0.45, 0.33, 0.22}};

/// DC id as written in the files: 10 x region id + number within region.
static int dc_id_of(int c) { return 10 * (dc_region[c] + 1) + (c - region_first[dc_region[c]]) + 1; }

typedef struct {
  const char *name;
  double price;    ///< median base price in currency units
  double amp;      ///< amplitude of the yearly season (log scale)
  int peak;        ///< day of year of the season's peak (0 = Jan 1)
  double ret;      ///< share of lines returned
} gen_category;

static const gen_category cats[GEN_CATEGORIES] = {
    {"electronics", 89, 0.15, 330, 0.04}, {"mobile", 199, 0.10, 255, 0.03}, {"computers", 349, 0.15, 235, 0.03},
    {"appliances", 149, 0.20, 190, 0.02}, {"kitchen", 24, 0.10, 340, 0.03},  {"home", 19, 0.10, 90, 0.03},
    {"furniture", 129, 0.10, 110, 0.05},  {"apparel", 29, 0.30, 100, 0.10},  {"shoes", 49, 0.25, 270, 0.09},
    {"beauty", 17, 0.10, 320, 0.02},      {"health", 14, 0.06, 20, 0.01},    {"baby", 21, 0.05, 0, 0.03},
    {"toys", 19, 0.45, 350, 0.03},        {"sports", 34, 0.30, 150, 0.04},   {"outdoor", 39, 0.45, 180, 0.04},
    {"grocery", 5, 0.05, 355, 0.005},     {"books", 12, 0.10, 240, 0.02},    {"pets", 13, 0.05, 0, 0.01},
    {"garden", 24, 0.50, 130, 0.03},      {"jewelry", 59, 0.20, 40, 0.06}};

/* ---- model parameters (docs/generator.md) -------------------------------- */

#define ZIPF_ALPHA 1.05        /* popularity ~ (rank + ZIPF_OFFSET)^-alpha */
#define ZIPF_OFFSET 3.0
#define REGION_TASTE_SD 0.35   /* log-sd of a sku's popularity per region */
#define SHOCK_SD 0.12          /* log-sd of the daily (sku, region) demand shock */
#define TREND_AMP_MAX 0.30     /* amplitude of a (sku, region) cycle, log scale */
#define LIFECYCLE_SD 0.35      /* log change of a sku's demand over the year */
#define PRICE_STEP_DAYS 56     /* list prices are revised every 8 weeks */
#define PRICE_STEP_RANGE 0.14  /* by a factor in [1 - r/2, 1 + r/2] */
#define PROMO_BLOCK 7          /* campaigns live inside 7-day blocks */
#define PROMO_BOOST 1.3        /* display lift of a promoted sku beyond its price effect */
#define OUT_BLOCK 6            /* stock-out episodes start once per 6-day block at most */
#define REROUTE_SHARE 0.10     /* demand kept when the home DC is out but another DC of the region is not */

#define P_NONBUYER 0.08
#define P_ONE_TIME 0.47
#define P_EXISTING 0.40
#define P_LOYAL 0.35
#define CHURN_MEAN_DAYS 100.0
#define RATE_MEDIAN 0.6        /* repeat buyers' orders per 30 days: lognormal median */
#define RATE_LOG_SD 1.0
#define P_REBUY 0.15
#define P_COUPON 0.05
#define P_CLICK_BEFORE 0.30
#define P_NOT_SHIPPED 0.004
#define P_LOST 0.012

#define MAX_ORDERS 300
#define MAX_LINES_PER_ORDER 12
#define MAX_CLICKS_PER_LINE 6
#define MAX_BROWSE 400
#define MAX_LINES (MAX_ORDERS * MAX_LINES_PER_ORDER)
#define MAX_CLICKS (MAX_LINES * MAX_CLICKS_PER_LINE + MAX_BROWSE)
#define END_SEC (GEN_DAYS * 86400)
#define DAY_2016 (-2556)       /* 2016-01-01 relative to 2023-01-01 */

/* Purposes of the keyed hashes: every random value is hk(seed, purpose, ids). */
enum {
  P_SKU_CAT = 1, P_SKU_BRAND, P_SKU_PRICE, P_SKU_POP, P_SKU_ELAST, P_SKU_OUT, P_SKU_PRICE_OFF, P_SKU_LIFE,
  P_SKU_PROMO, P_SG_TASTE, P_SG_TREND, P_SG_PROMO, P_PRICE_STEP, P_PROMO_NAT, P_PROMO_REG, P_PROMO_EVENT,
  P_OUT_OFF, P_OUT_EP, P_SHOCK, P_USER, P_ORDERS, P_CLICKS, P_DELIVERY, P_SKU_MISSING
};

/* ---- deterministic math ------------------------------------------------------
 * The model's draws use these instead of libm: glibc picks FMA or plain code
 * for exp/log/sin/cos at run time by processor, so two kinds of nodes could
 * disagree in the last bit and draw a different sku. Plain IEEE arithmetic
 * (C11 mode: no contraction into FMA), frexp/ldexp and sqrt are exact or
 * correctly rounded everywhere, so these give the same bits on any x86-64
 * or other IEEE machine. Relative error is below 1e-15 on the ranges used. */

#define GM_LN2_HI 6.93147180369123816490e-01
#define GM_LN2_LO 1.90821492927058770002e-10
#define GM_2PI 6.283185307179586

static inline uint64_t gm_bits(double x) {
  uint64_t u;
  memcpy(&u, &x, sizeof u);
  return u;
}
static inline double gm_double(uint64_t u) {
  double x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* log x for normal x > 0: x = m 2^e with m in [0.707, 1.414), log m = 2 atanh f. */
static inline double gm_log(double x) {
  static const double c[10] = {1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11,
                               1.0 / 13, 1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21};
  uint64_t u = gm_bits(x);
  int e = (int)((u >> 52) & 0x7FF) - 1022;
  double m = gm_double((u & 0x000FFFFFFFFFFFFFULL) | 0x3FE0000000000000ULL); /* [0.5, 1) */
  if (m < 0.70710678118654752440) {
    m *= 2;
    e--;
  }
  double f = (m - 1) / (m + 1), f2 = f * f; /* |f| < 0.172 */
  double t = c[9];
  for (int k = 8; k >= 0; k--) t = c[k] + f2 * t;
  return e * GM_LN2_HI + (e * GM_LN2_LO + 2 * f * (1 + f2 * t));
}

/* e^x = 2^k e^r with |r| <= ln2/2 (Taylor to r^13); x clamped to [-700, 700]. */
static inline double gm_exp(double x) {
  static const double c[13] = {1.0 / 2,  1.0 / 3,  1.0 / 4,  1.0 / 5,  1.0 / 6,  1.0 / 7, 1.0 / 8,
                               1.0 / 9,  1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13, 1.0 / 14};
  if (x < -700) return 0;
  if (x > 700) x = 700;
  double k = floor(x * 1.44269504088896340736 + 0.5);
  double r = (x - k * GM_LN2_HI) - k * GM_LN2_LO;
  double t = 1.0;
  for (int i = 12; i >= 0; i--) t = 1.0 + r * t * c[i];
  return (1.0 + r * t) * gm_double((uint64_t)((int)k + 1023) << 52);
}

/* cos x: reduced to [0, pi/2] by symmetry, Taylor to x^20. */
static inline double gm_cos(double x) {
  static const double c[10] = {1.0 / 2,   1.0 / 12,  1.0 / 30,  1.0 / 56,  1.0 / 90,
                               1.0 / 132, 1.0 / 182, 1.0 / 240, 1.0 / 306, 1.0 / 380};
  x = fabs(x - GM_2PI * floor(x / GM_2PI + 0.5)); /* [0, pi] */
  double sign = 1.0;
  if (x > GM_2PI / 4) {
    x = GM_2PI / 2 - x;
    sign = -1.0;
  }
  double x2 = x * x, t = 1.0;
  for (int i = 9; i >= 0; i--) t = 1.0 - x2 * t * c[i];
  return sign * t;
}
static inline double gm_sin(double x) { return gm_cos(x - GM_2PI / 4); }

static inline uint64_t hk(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t h = sc_mix64(seed ^ (purpose * 0xD6E8FEB86659FD93ULL));
  h = sc_mix64(h ^ a);
  h = sc_mix64(h ^ (b * 0x9E3779B97F4A7C15ULL));
  return sc_mix64(h ^ (c * 0xC2B2AE3D27D4EB4FULL));
}
static inline double unit_of(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; }
/* A standard normal from one hash (Box-Muller on its two 32-bit halves). */
static inline double normal_of(uint64_t h) {
  double u1 = ((double)(h >> 32) + 0.5) * 0x1.0p-32, u2 = (double)(h & 0xFFFFFFFFu) * 0x1.0p-32;
  return sqrt(-2.0 * gm_log(u1)) * gm_cos(GM_2PI * u2);
}

/* A splitmix64 stream: the random draws of one user for one purpose. */
typedef struct {
  uint64_t s;
} rng;
static inline rng rng_key(uint64_t seed, uint64_t purpose, int64_t id) {
  rng r = {hk(seed, purpose, (uint64_t)id, 0, 0)};
  return r;
}
static inline uint64_t rng_u64(rng *r) {
  uint64_t z = sc_mix64(r->s);
  r->s += 0x9E3779B97F4A7C15ULL;
  return z;
}
static inline double rng_unit(rng *r) { return unit_of(rng_u64(r)); }
static inline double rng_normal(rng *r) { return normal_of(rng_u64(r)); }
static inline double rng_expo(rng *r, double mean) { return -mean * gm_log(1.0 - rng_unit(r)); }
/* Failures before the first success, success probability p. */
static inline int rng_geom(rng *r, double p) { return (int)floor(gm_log(1.0 - rng_unit(r)) / gm_log(1.0 - p)); }
static int rng_poisson(rng *r, double mean) {
  if (mean <= 0) return 0;
  if (mean > 30) {
    double x = floor(mean + sqrt(mean) * rng_normal(r) + 0.5);
    return x < 0 ? 0 : (int)x;
  }
  double lim = gm_exp(-mean), p = 1.0;
  int k = -1;
  do {
    k++;
    p *= rng_unit(r);
  } while (p > lim);
  return k;
}

/* ---- calendar ------------------------------------------------------------ */

/* Day of month (1..31) of day d of 2023. */
static int day_of_month(int d) {
  static const int start[13] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};
  int mo = 0;
  while (d >= start[mo + 1]) mo++;
  return d - start[mo] + 1;
}

/* Day weights of ordering: weekly and yearly rhythm and sale events (2023). */
static double day_weight(int d) {
  static const double weekly[7] = {0.97, 0.94, 0.95, 0.98, 1.04, 1.20, 1.16};  /* Monday first */
  double w = weekly[(d + 6) % 7] * (1.0 + 0.10 * gm_cos(GM_2PI * (d - 350) / 365.0));
  if (d >= 20 && d <= 26) w *= 0.85;                  /* Lunar New Year week */
  if (d >= 166 && d <= 168) w *= 1.5;                 /* 618 festival, Jun 16-18 */
  if (d >= 312 && d <= 314) w *= d == 314 ? 2.0 : 1.4; /* Singles' Day, Nov 9-11 */
  if (d >= 327 && d <= 330) w *= 1.6;                 /* Black Friday .. Cyber Monday */
  if (d >= 334 && d <= 355) w *= 1.15;                /* Christmas shopping, Dec 1-22 */
  if (d == 357 || d == 358) w *= 0.75;                /* Dec 24-25 */
  if (day_of_month(d) == 18) w *= 1.3;                /* monthly member day */
  return w;
}
/* The sale event a day belongs to (0: none); 35 % of skus get an event discount. */
static int day_event(int d) {
  if (d >= 166 && d <= 168) return 1;
  if (d >= 312 && d <= 314) return 2;
  if (d >= 327 && d <= 330) return 3;
  if (d >= 359 && d <= 363) return 4; /* Boxing week, Dec 26-30 */
  if (day_of_month(d) == 18) return 5 + d / 31; /* member day, one event id per month */
  return 0;
}
/* Delivery slows down in the peak season. */
static double day_congestion(int d) { return (d >= 310 && d <= 356) ? 1.6 : day_event(d) ? 1.4 : 1.0; }

static const double hour_weight[24] = {0.30, 0.15, 0.08, 0.05, 0.05, 0.08, 0.20, 0.40, 0.60, 0.75, 0.85, 0.90,
                                       1.00, 0.95, 0.90, 0.90, 0.95, 1.00, 1.05, 1.20, 1.45, 1.55, 1.30, 0.80};


/* ---- formatting ----------------------------------------------------------- */

static const char two_digits[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

static inline char *put2(char *p, unsigned v) {
  memcpy(p, two_digits + 2 * v, 2);
  return p + 2;
}
static inline char *put_u64(char *p, uint64_t v) {
  int n = 1;
  uint64_t x = v;
  if (x >= 10000000000ULL) {
    n += 10;
    x /= 10000000000ULL;
  }
  if (x >= 100000) {
    n += 5;
    x /= 100000;
  }
  if (x >= 1000) {
    n += 3;
    x /= 1000;
  }
  n += x >= 100 ? 2 : x >= 10 ? 1 : 0;
  char *q = p + n;
  while (v >= 100) {
    q -= 2;
    memcpy(q, two_digits + 2 * (v % 100), 2);
    v /= 100;
  }
  if (v >= 10) memcpy(q - 2, two_digits + 2 * v, 2);
  else q[-1] = (char)('0' + v);
  return p + n;
}
static inline char *put_i64(char *p, int64_t v) {
  if (v < 0) {
    *p++ = '-';
    return put_u64(p, (uint64_t)0 - (uint64_t)v);
  }
  return put_u64(p, (uint64_t)v);
}
static inline char *put_cents(char *p, int64_t cents) {
  p = put_u64(p, (uint64_t)(cents / 100));
  *p++ = '.';
  return put2(p, (unsigned)(cents % 100));
}

void gen_format_date(int32_t day, char *out) {
  int y, mo, da;
  civil_from_days(day, &y, &mo, &da);
  put2(put2(out, (unsigned)(y / 100)), (unsigned)(y % 100));
  out[4] = '-';
  put2(out + 5, (unsigned)mo);
  out[7] = '-';
  put2(out + 8, (unsigned)da);
}

static inline char *put_hms(char *p, int r) {
  p = put2(p, (unsigned)(r / 3600));
  *p++ = ':';
  p = put2(p, (unsigned)(r / 60 % 60));
  *p++ = ':';
  return put2(p, (unsigned)(r % 60));
}

/* Dates come from the model's table of the year's 365 formatted days. */
static inline char *put_date(const gen_model *m, char *p, int d) {
  memcpy(p, m->day_text[d], 10);
  return p + 10;
}
static inline char *put_ts(const gen_model *m, char *p, int32_t t) {
  p = put_date(m, p, t / 86400);
  *p++ = ' ';
  return put_hms(p, t % 86400);
}

void gen_format_ts(int32_t t, char *out) {
  gen_format_date(GEN_DAY0 + t / 86400, out);
  out[10] = ' ';
  put_hms(out + 11, t % 86400);
}
int gen_format_cents(int64_t cents, char *out) { return (int)(put_cents(out, cents) - out); }
int gen_format_i64(int64_t v, char *out) { return (int)(put_i64(out, v) - out); }

/* ---- buffers -------------------------------------------------------------- */

int gen_buf_reserve(gen_buf *b, size_t more) {
  if (b->n + more <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 1 << 16;
  while (cap < b->n + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

void gen_buf_free(gen_buf *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}

const char *const gen_files[GEN_NFILES] = {"users.csv",     "orders.csv",  "clicks.csv", "delivery.csv",
                                           "inventory.csv", "network.csv", "skus.csv",   "truth.csv"};
const char *const gen_headers[GEN_NFILES] = {
    "user_id,created_at,age,gender,city_level\n",
    "order_id,user_id,sku_id,order_time,quantity,original_unit_price,final_unit_price,dc_ori\n",
    "user_id,sku_id,ts,platform\n",
    "order_id,ship_time,arr_time\n",
    "date,dc_id,sku_id,available_flag\n",
    "dc_id,region_id\n",
    "sku_id,category,brand_id\n",
    "user_id,kind,churn_date\n"};

/* ---- the tables ------------------------------------------------------------ */

int gen_sku_count(int64_t users) {
  int64_t s = (users + 500) / 1000;
  return (int)(s < 100 ? 100 : s > 20000 ? 20000 : s);
}

/* Rounds a price to a shop's ending: x.99 from 10 up, 0.x9 below. */
static int32_t price_cents(double p) {
  if (p < 0.49) p = 0.49;
  if (p >= 10) return (int32_t)floor(p) * 100 + 99;
  return (int32_t)floor(p * 10) * 10 + 9;
}

/* Per-(sku, region) and per-sku constants used while the tables are built. */
typedef struct gen_consts {
  double *pop;       /* [s * R + g] popularity x regional taste */
  double *trend_amp, *trend_freq, *trend_phase;  /* [s * R + g] */
  double *promo_reg_p;  /* [s * R + g] */
  int *promo_reg_off;   /* [s * R + g] */
  double *base_price, *elast, *out_p, *life, *promo_nat_p;  /* [s] */
  int *price_off, *promo_nat_off;  /* [s] */
} gen_consts;

static void consts_free(gen_consts *k) {
  if (!k) return;
  free(k->pop); free(k->trend_amp); free(k->trend_freq); free(k->trend_phase); free(k->promo_reg_p);
  free(k->promo_reg_off); free(k->base_price); free(k->elast); free(k->out_p); free(k->life);
  free(k->promo_nat_p); free(k->price_off); free(k->promo_nat_off);
  free(k);
}

typedef struct {
  uint64_t key;
  int sku;
} pop_key;
static int pop_key_cmp(const void *a, const void *b) {
  const pop_key *x = a, *y = b;
  return x->key < y->key ? -1 : x->key > y->key ? 1 : x->sku - y->sku;
}

static sc_status consts_build(gen_consts *k, const gen_model *m) {
  int S = m->n_sku, R = GEN_REGIONS;
  uint64_t seed = m->seed;
  size_t sr = (size_t)S * R;
  memset(k, 0, sizeof *k);
  SC_TRY(sc_alloc(&k->pop, sr * sizeof(double)));
  SC_TRY(sc_alloc(&k->trend_amp, sr * sizeof(double)));
  SC_TRY(sc_alloc(&k->trend_freq, sr * sizeof(double)));
  SC_TRY(sc_alloc(&k->trend_phase, sr * sizeof(double)));
  SC_TRY(sc_alloc(&k->promo_reg_p, sr * sizeof(double)));
  SC_TRY(sc_alloc(&k->promo_reg_off, sr * sizeof(int)));
  SC_TRY(sc_alloc(&k->base_price, (size_t)S * sizeof(double)));
  SC_TRY(sc_alloc(&k->elast, (size_t)S * sizeof(double)));
  SC_TRY(sc_alloc(&k->out_p, (size_t)S * sizeof(double)));
  SC_TRY(sc_alloc(&k->life, (size_t)S * sizeof(double)));
  SC_TRY(sc_alloc(&k->promo_nat_p, (size_t)S * sizeof(double)));
  SC_TRY(sc_alloc(&k->price_off, (size_t)S * sizeof(int)));
  SC_TRY(sc_alloc(&k->promo_nat_off, (size_t)S * sizeof(int)));

  /* Popularity rank: skus ordered by a hash, so sku 1 is not the favourite. */
  pop_key *pk;
  SC_TRY(sc_alloc(&pk, (size_t)S * sizeof(pop_key)));
  for (int s = 0; s < S; s++) pk[s] = (pop_key){hk(seed, P_SKU_POP, (uint64_t)s + 1, 0, 0), s};
  qsort(pk, (size_t)S, sizeof *pk, pop_key_cmp);
  for (int r = 0; r < S; r++) {
    int s = pk[r].sku;
    double pop = gm_exp(-ZIPF_ALPHA * gm_log(r + ZIPF_OFFSET));
    for (int g = 0; g < R; g++) {
      double z = normal_of(hk(seed, P_SG_TASTE, (uint64_t)s + 1, (uint64_t)g, 0));
      k->pop[(size_t)s * R + g] = pop * gm_exp(REGION_TASTE_SD * z - 0.5 * REGION_TASTE_SD * REGION_TASTE_SD);
    }
  }
  free(pk);

  for (int s = 0; s < S; s++) {
    uint64_t id = (uint64_t)s + 1;
    int cat = m->sku_cat[s];
    k->base_price[s] = cats[cat].price * gm_exp(0.55 * normal_of(hk(seed, P_SKU_PRICE, id, 0, 0)));
    k->elast[s] = 1.6 + 0.4 * unit_of(hk(seed, P_SKU_ELAST, id, 0, 0));
    k->out_p[s] = 0.03 + 0.07 * unit_of(hk(seed, P_SKU_OUT, id, 0, 0));
    k->life[s] = LIFECYCLE_SD * normal_of(hk(seed, P_SKU_LIFE, id, 0, 0));
    uint64_t h = hk(seed, P_SKU_PROMO, id, 0, 0);
    k->promo_nat_p[s] = 0.08 + 0.08 * unit_of(h);
    k->promo_nat_off[s] = (int)(h & 0xFF) % PROMO_BLOCK;
    k->price_off[s] = (int)(hk(seed, P_SKU_PRICE_OFF, id, 0, 0) % PRICE_STEP_DAYS);
    for (int g = 0; g < R; g++) {
      size_t i = (size_t)s * R + g;
      uint64_t t = hk(seed, P_SG_TREND, id, (uint64_t)g, 0);
      k->trend_amp[i] = TREND_AMP_MAX * unit_of(t);
      k->trend_freq[i] = GM_2PI / (30.0 + 90.0 * unit_of(sc_mix64(t)));
      k->trend_phase[i] = GM_2PI * unit_of(sc_mix64(t ^ 1));
      uint64_t p = hk(seed, P_SG_PROMO, id, (uint64_t)g, 0);
      k->promo_reg_p[i] = 0.04 + 0.04 * unit_of(p);
      k->promo_reg_off[i] = (int)(p & 0xFF) % PROMO_BLOCK;
    }
  }
  return SC_OK;
}

/* A promotion's discount from a hash: 10 to 50 %, shallow ones likelier. */
static int promo_depth(uint64_t h) {
  static const int depth[10] = {10, 10, 15, 15, 20, 20, 25, 25, 30, 40};
  return depth[(h >> 8) % 10];
}

/* Discount (percent) of sku s in region g on day d: the deepest of a
 * national campaign, a regional campaign and a sale event. A campaign
 * starts inside a 7-day block (offset per sku or sku x region) and runs to
 * the block's end. */
static int promo_of(const gen_consts *k, uint64_t seed, int s, int g, int d) {
  uint64_t id = (uint64_t)s + 1;
  int pct = 0;
  int b = (d + k->promo_nat_off[s]) / PROMO_BLOCK, in = (d + k->promo_nat_off[s]) % PROMO_BLOCK;
  uint64_t h = hk(seed, P_PROMO_NAT, id, (uint64_t)b, 0);
  if (unit_of(h) < k->promo_nat_p[s] && in >= (int)(h & 0xFF) % 4) pct = promo_depth(h);
  size_t i = (size_t)s * GEN_REGIONS + g;
  b = (d + k->promo_reg_off[i]) / PROMO_BLOCK;
  in = (d + k->promo_reg_off[i]) % PROMO_BLOCK;
  h = hk(seed, P_PROMO_REG, id, (uint64_t)g, (uint64_t)b);
  if (unit_of(h) < k->promo_reg_p[i] && in >= (int)(h & 0xFF) % 4) pct = SC_MAX(pct, promo_depth(h));
  int ev = day_event(d);
  if (ev) {
    h = hk(seed, P_PROMO_EVENT, id, (uint64_t)ev, 0);
    if (unit_of(h) < 0.35) pct = SC_MAX(pct, promo_depth(h) + 10);
  }
  return pct;
}

/* Whether sku s is in stock at DC c on day d. An episode may start once per
 * 6-day block (offset per sku x DC) and lasts 1 to 9 days, so a day is out
 * when its block's or the previous block's episode covers it. */
static int in_stock(const gen_consts *k, uint64_t seed, int s, int c, int d) {
  uint64_t id = (uint64_t)s + 1;
  int off = (int)(hk(seed, P_OUT_OFF, id, (uint64_t)c, 0) % OUT_BLOCK);
  int b = (d + off) / OUT_BLOCK;
  for (int bb = b; bb >= b - 1 && bb >= 0; bb--) {
    uint64_t h = hk(seed, P_OUT_EP, id, (uint64_t)c, (uint64_t)bb);
    if (unit_of(h) >= k->out_p[s]) continue;
    int start = bb * OUT_BLOCK - off + (int)(h & 0xFF) % OUT_BLOCK, len = 1 + (int)((h >> 8) & 0xFF) % 9;
    if (d >= start && d < start + len) return 0;
  }
  return 1;
}

/* Fills the tables of one day (one thread per day). bw: scratch of S x R. */
static void day_build(gen_model *m, const gen_consts *k, int d, double *bw) {
  int S = m->n_sku, R = GEN_REGIONS;
  uint64_t seed = m->seed;
  size_t dS = (size_t)d * S;
  for (int s = 0; s < S; s++) {
    int step = (d + k->price_off[s]) / PRICE_STEP_DAYS;
    double f = 1.0 + PRICE_STEP_RANGE * (unit_of(hk(seed, P_PRICE_STEP, (uint64_t)s + 1, (uint64_t)step, 0)) - 0.5);
    m->list_cents[dS + s] = price_cents(k->base_price[s] * f);
  }
  uint8_t *stock = m->stock + (size_t)d * GEN_DCS * S;
  for (int c = 0; c < GEN_DCS; c++)
    for (int s = 0; s < S; s++) stock[(size_t)c * S + s] = (uint8_t)in_stock(k, seed, s, c, d);

  for (int s = 0; s < S; s++) {
    const gen_category *cat = &cats[m->sku_cat[s]];
    double list = (double)m->list_cents[dS + s];
    /* season, life cycle and the list price's effect are the same in every region */
    double sku_day = gm_exp(cat->amp * gm_cos(GM_2PI * (d - cat->peak) / 365.0) + k->life[s] * (d - 182) / 365.0 -
                            k->elast[s] * gm_log(list / (double)m->sku_base_cents[s]));
    for (int g = 0; g < R; g++) {
      size_t i = (size_t)s * R + g;
      int pct = promo_of(k, seed, s, g, d);
      m->promo_pct[((size_t)d * R + g) * S + s] = (uint8_t)pct;
      double promo = pct ? PROMO_BOOST * gm_exp(-k->elast[s] * gm_log((100 - pct) / 100.0)) : 1.0;
      double z = normal_of(hk(seed, P_SHOCK, (uint64_t)s + 1, (uint64_t)g, (uint64_t)d));
      double trend_shock = gm_exp(k->trend_amp[i] * gm_sin(k->trend_freq[i] * d + k->trend_phase[i]) + SHOCK_SD * z -
                                  0.5 * SHOCK_SD * SHOCK_SD);
      bw[(size_t)g * S + s] = k->pop[i] * sku_day * promo * trend_shock;
    }
  }

  for (int c = 0; c < GEN_DCS; c++) {
    int g = dc_region[c];
    float *cum = m->cum + ((size_t)d * GEN_DCS + c) * S;
    double acc = 0;
    for (int s = 0; s < S; s++) {
      double w = bw[(size_t)g * S + s];
      if (!stock[(size_t)c * S + s]) {
        /* Out at the home DC: a quarter of the demand ships from another
         * DC of the region that has it; the rest is lost. */
        int other = 0;
        for (int j = 0; j < region_ndc[g]; j++) other |= stock[(size_t)(region_first[g] + j) * S + s];
        w *= other ? REROUTE_SHARE : 0.0;
      }
      acc += w;
      cum[s] = (float)acc;
    }
  }
}

sc_status gen_model_init(gen_model *m, int64_t users, uint64_t seed) {
  memset(m, 0, sizeof *m);
  m->seed = seed;
  m->users = users;
  int S = m->n_sku = gen_sku_count(users);
  sc_status st = SC_OK;
  if (!st) st = sc_alloc(&m->sku_cat, (size_t)S);
  if (!st) st = sc_alloc(&m->sku_brand, (size_t)S * sizeof(int32_t));
  if (!st) st = sc_alloc(&m->sku_base_cents, (size_t)S * sizeof(int32_t));
  if (!st) st = sc_alloc(&m->stock, (size_t)GEN_DAYS * GEN_DCS * S);
  if (!st) st = sc_alloc(&m->cum, (size_t)GEN_DAYS * GEN_DCS * S * sizeof(float));
  if (!st) st = sc_alloc(&m->promo_pct, (size_t)GEN_DAYS * GEN_REGIONS * S);
  if (!st) st = sc_alloc(&m->list_cents, (size_t)GEN_DAYS * S * sizeof(int32_t));
  if (!st) st = sc_calloc(&m->consts, 1, sizeof(gen_consts));
  if (st) {
    gen_model_free(m);
    return st;
  }
  for (int s = 0; s < S; s++) {
    m->sku_cat[s] = (uint8_t)(hk(seed, P_SKU_CAT, (uint64_t)s + 1, 0, 0) % GEN_CATEGORIES);
    m->sku_brand[s] = 1 + (int32_t)(hk(seed, P_SKU_BRAND, (uint64_t)s + 1, 0, 0) % (uint64_t)(S / 8 + 5));
  }
  st = consts_build(m->consts, m);
  if (st) {
    gen_model_free(m);
    return st;
  }
  for (int s = 0; s < S; s++) m->sku_base_cents[s] = price_cents(m->consts->base_price[s]);
  double acc = 0;
  for (int d = 0; d < GEN_DAYS; d++) m->day_cum[d + 1] = acc += day_weight(d);
  acc = 0;
  for (int h = 0; h < 24; h++) m->hour_cum[h + 1] = acc += hour_weight[h];
  for (int d = 0; d < GEN_DAYS; d++) gen_format_date(GEN_DAY0 + d, m->day_text[d]);
  return SC_OK;
}

sc_status gen_model_build_days(gen_model *m, int d0, int d1) {
  int failed = 0;
#pragma omp parallel
  {
    double *bw = malloc((size_t)m->n_sku * GEN_REGIONS * sizeof(double));
    if (!bw) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (int d = d0; d < d1; d++)
      if (bw) day_build(m, m->consts, d, bw);
    free(bw);
  }
  if (failed) return sc_fail(SC_ENOMEM, "generate: out of memory building the model tables of %d skus", m->n_sku);
  return SC_OK;
}

sc_status gen_model_build(gen_model *m, int64_t users, uint64_t seed) {
  SC_TRY(gen_model_init(m, users, seed));
  sc_status st = gen_model_build_days(m, 0, GEN_DAYS);
  if (st) gen_model_free(m);
  return st;
}

void gen_model_tables(gen_model *m, void *tables[4], size_t day_bytes[4]) {
  size_t S = (size_t)m->n_sku;
  tables[0] = m->stock;
  day_bytes[0] = GEN_DCS * S;
  tables[1] = m->cum;
  day_bytes[1] = GEN_DCS * S * sizeof(float);
  tables[2] = m->promo_pct;
  day_bytes[2] = GEN_REGIONS * S;
  tables[3] = m->list_cents;
  day_bytes[3] = S * sizeof(int32_t);
}

void gen_model_free(gen_model *m) {
  consts_free(m->consts);
  free(m->sku_cat);
  free(m->sku_brand);
  free(m->sku_base_cents);
  free(m->stock);
  free(m->cum);
  free(m->promo_pct);
  free(m->list_cents);
  memset(m, 0, sizeof *m);
}

/* ---- customers ------------------------------------------------------------- */

/* A click packed as one sortable key: ts << 32 | sku << 2 | platform. */
static inline uint64_t click_key(int32_t ts, int32_t sku, int platform) {
  return (uint64_t)ts << 32 | (uint64_t)sku << 2 | (uint64_t)platform;
}

struct gen_scratch {
  int32_t order_ts[MAX_ORDERS];
  int32_t bought[MAX_LINES];  /* skus of the user's earlier lines (rebuys) */
  uint64_t clicks[MAX_CLICKS];
};

gen_scratch *gen_scratch_new(void) { return malloc(sizeof(gen_scratch)); }
void gen_scratch_free(gen_scratch *s) { free(s); }

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}
/* Ascending sort; most users have a few dozen values at most. */
static void sort_u64(uint64_t *v, int n) {
  if (n > 64) {
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return;
  }
  for (int i = 1; i < n; i++) {
    uint64_t x = v[i];
    int j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}
static void sort_i32(int32_t *v, int n) {
  for (int i = 1; i < n; i++) {
    int32_t x = v[i];
    int j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

/* A day in [lo, hi] drawn with the day weights. */
static int draw_day(const gen_model *m, int lo, int hi, double u) {
  double x = m->day_cum[lo] + u * (m->day_cum[hi + 1] - m->day_cum[lo]);
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (m->day_cum[mid] <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/* A second of day d: the hour from the hour-of-day weights. */
static int32_t draw_time(const gen_model *m, rng *r, int d) {
  const double *cum = m->hour_cum;
  double x = rng_unit(r) * cum[24];
  int lo = 0, hi = 23;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cum[mid + 1] > x) hi = mid;
    else lo = mid + 1;
  }
  return (int32_t)d * 86400 + lo * 3600 + (int32_t)(rng_u64(r) % 3600);
}

/* A sku bought by a customer homed at DC c on day d. */
static int draw_sku(const gen_model *m, int c, int d, double u) {
  int S = m->n_sku;
  const float *cum = m->cum + ((size_t)d * GEN_DCS + c) * S;
  double x = u * (double)cum[S - 1];
  int lo = 0, hi = S - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if ((double)cum[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo + 1;
}

/* The DC that ships sku s to a customer homed at c on day d: c when it has
 * the sku, else the next DC of the region that has it, else -1. */
static int ship_dc(const gen_model *m, int c, int s, int d) {
  int S = m->n_sku, g = dc_region[c], n = region_ndc[g], first = region_first[g];
  const uint8_t *stock = m->stock + (size_t)d * GEN_DCS * S + (size_t)(s - 1);
  for (int j = 0; j < n; j++) {
    int cc = first + (c - first + j) % n;
    if (stock[(size_t)cc * S]) return cc;
  }
  return -1;
}

static int pick_weighted(const double *w, int n, double u) {
  double tot = 0;
  for (int i = 0; i < n; i++) tot += w[i];
  double x = u * tot;
  for (int i = 0; i < n - 1; i++) {
    if (x < w[i]) return i;
    x -= w[i];
  }
  return n - 1;
}

#define ROOM(b, k) \
  if (gen_buf_reserve((b), (k))) return -1

static const char *const platform_name[4] = {"", "app", "web", "mini"};
static const size_t platform_len[4] = {0, 3, 3, 4};

/* A click's platform: mostly the user's own, sometimes another, 2 % unknown. */
static int draw_platform(rng *r, int own) {
  uint64_t h = rng_u64(r);
  if ((h & 0xFFFF) < 1311) return 0; /* 2 % of 65536 */
  return unit_of(h) < 0.85 ? own : 1 + (int)((h >> 16) & 0xFF) % 3;
}
/* One orders.csv line (a return has q < 0). */
typedef struct {
  int32_t sku, ts, q, dc_id;
  int64_t orig, fin;
} gen_line;
#define LINE_MAX_BYTES 96

static char *put_line(const gen_model *m, char *p, int64_t oid, int64_t uid, const gen_line *ln) {
  p = put_i64(p, oid);
  *p++ = ',';
  p = put_i64(p, uid);
  *p++ = ',';
  p = put_i64(p, ln->sku);
  *p++ = ',';
  p = put_ts(m, p, ln->ts);
  *p++ = ',';
  p = put_i64(p, ln->q);
  *p++ = ',';
  p = put_cents(p, ln->orig);
  *p++ = ',';
  p = put_cents(p, ln->fin);
  *p++ = ',';
  p = put_i64(p, ln->dc_id);
  *p++ = '\n';
  return p;
}

int gen_user(const gen_model *m, gen_scratch *sc, int64_t uid, gen_buf *users, gen_buf *orders, gen_buf *clicks,
             gen_buf *delivery, gen_buf *truth) {
  uint64_t seed = m->seed;
  rng ru = rng_key(seed, P_USER, uid), ro = rng_key(seed, P_ORDERS, uid);
  rng rc = rng_key(seed, P_CLICKS, uid), rd = rng_key(seed, P_DELIVERY, uid);

  /* Profile: every draw is made whatever the branch, so the streams stay aligned. */
  int g = pick_weighted(region_users, GEN_REGIONS, rng_unit(&ru));
  int c = region_first[g] + pick_weighted(dc_share[region_ndc[g]], region_ndc[g], rng_unit(&ru));
  int buyer = rng_unit(&ru) >= P_NONBUYER;
  int one_time = rng_unit(&ru) < P_ONE_TIME;
  int existing = rng_unit(&ru) < P_EXISTING;
  int loyal = rng_unit(&ru) < P_LOYAL;
  double churn_after = 14.0 + rng_expo(&ru, CHURN_MEAN_DAYS);
  double rate = RATE_MEDIAN * gm_exp(RATE_LOG_SD * rng_normal(&ru));
  double u_first = rng_unit(&ru), u_created = rng_unit(&ru), u_old_account = rng_unit(&ru);
  static const double city_w[5] = {0.12, 0.20, 0.28, 0.25, 0.15};
  int city = 1 + pick_weighted(city_w, 5, rng_unit(&ru));
  int age = (int)floor(36.0 + 12.0 * rng_normal(&ru));
  age = age < 16 ? 16 : age > 85 ? 85 : age;
  double ug = rng_unit(&ru);
  char gender = ug < 0.46 ? 'M' : ug < 0.96 ? 'F' : 'U';
  static const double plat_w[3] = {0.6, 0.3, 0.1};
  int platform = 1 + pick_weighted(plat_w, 3, rng_unit(&ru));
  double browse_mean = (buyer ? 1.0 : 2.5) * gm_exp(0.8 * rng_normal(&ru) - 0.32);
  int miss_created = rng_unit(&ru) < 0.015, miss_age = rng_unit(&ru) < 0.04;
  int miss_gender = rng_unit(&ru) < 0.02, miss_city = rng_unit(&ru) < 0.03;
  /* Higher-tier cities buy a little more often. */
  rate *= 1.0 + 0.08 * (3 - city);
  if (rate > 20) rate = 20;

  /* Orders: when, and how many. */
  int n_orders = 0, a = 0, e = GEN_DAYS - 1;
  if (buyer && one_time) {
    a = e = draw_day(m, 0, GEN_DAYS - 1, u_first);
    sc->order_ts[n_orders++] = draw_time(m, &ro, a);
  } else if (buyer) {
    a = existing ? 0 : draw_day(m, 0, GEN_DAYS - 15, u_first);
    e = loyal ? GEN_DAYS - 1 : SC_MIN(GEN_DAYS - 1, a + (int)churn_after);
    int k = 2 + rng_poisson(&ro, rate * (e - a + 1) / 30.0);
    n_orders = SC_MIN(k, MAX_ORDERS);
    for (int i = 0; i < n_orders; i++) {
      int d = (i == 0 && !existing) ? a : draw_day(m, a, e, rng_unit(&ro));
      sc->order_ts[i] = draw_time(m, &ro, d);
    }
    sort_i32(sc->order_ts, n_orders);
  }

  /* truth.csv: the day after the user's activity window when it ends
   * before the data does (a one-time buyer's ends on its order day);
   * empty when the user is still active on the last day, or never bought */
  ROOM(truth, 48);
  char *q = truth->p + truth->n;
  q = put_i64(q, uid);
  static const char *const kinds[3] = {",none,", ",one_time,", ",repeat,"};
  static const size_t kind_len[3] = {6, 10, 8};
  int kind = !buyer ? 0 : one_time ? 1 : 2;
  memcpy(q, kinds[kind], kind_len[kind]);
  q += kind_len[kind];
  int churned = buyer && (one_time || (!loyal && a + churn_after < GEN_DAYS - 1));
  if (churned) {
    gen_format_date(GEN_DAY0 + e + 1, q);
    q += 10;
  }
  *q++ = '\n';
  truth->n = (size_t)(q - truth->p);

  /* users.csv */
  int created;
  if (!buyer) created = DAY_2016 + (int)(u_created * (GEN_DAYS - DAY_2016));
  else if (existing || u_old_account < 0.3) created = DAY_2016 + (int)(u_created * (-DAY_2016));
  else created = a - (int)(-25.0 * gm_log(1.0 - u_created));
  ROOM(users, 64);
  char *p = users->p + users->n;
  p = put_i64(p, uid);
  *p++ = ',';
  if (!miss_created) {
    gen_format_date(GEN_DAY0 + created, p);
    p += 10;
  }
  *p++ = ',';
  if (!miss_age) p = put_i64(p, age);
  *p++ = ',';
  if (!miss_gender) *p++ = gender;
  *p++ = ',';
  if (!miss_city) p = put_i64(p, city);
  *p++ = '\n';
  users->n = (size_t)(p - users->p);

  /* Lines, returns, clicks before purchases, deliveries. */
  int n_bought = 0, n_clicks = 0;
  const int S = m->n_sku;
  for (int k = 0; k < n_orders; k++) {
    int32_t t = sc->order_ts[k];
    int d = t / 86400;
    int64_t oid = uid * 1000 + k + 1;
    int n_lines = SC_MIN(1 + rng_geom(&ro, 0.5), MAX_LINES_PER_ORDER);
    int first_line = n_bought, n_ret = 0;
    gen_line ret[MAX_LINES_PER_ORDER];
    ROOM(orders, (size_t)n_lines * 2 * LINE_MAX_BYTES);
    p = orders->p + orders->n;
    for (int j = 0; j < n_lines; j++) {
      gen_line ln = {.ts = t};
      int dc = -1;
      if (k > 0 && first_line > 0 && rng_unit(&ro) < P_REBUY) {
        ln.sku = sc->bought[rng_u64(&ro) % (uint64_t)first_line];
        dc = ship_dc(m, c, ln.sku, d);
      }
      /* A fresh draw when there is no rebuy, the rebuy is out everywhere in
       * the region, or (three times at most) the sku is already in the order.
       * A drawn sku always has a DC in stock: its weight is 0 otherwise. */
      for (int tries = 0; tries < 8; tries++) {
        int dup = 0;
        for (int i = first_line; i < n_bought && tries < 3; i++) dup |= sc->bought[i] == ln.sku;
        if (dc >= 0 && !dup) break;
        ln.sku = draw_sku(m, c, d, rng_unit(&ro));
        dc = ship_dc(m, c, ln.sku, d);
      }
      if (dc < 0) dc = c;
      ln.dc_id = dc_id_of(dc);
      sc->bought[n_bought++] = ln.sku;
      int pct = m->promo_pct[((size_t)d * GEN_REGIONS + g) * S + (ln.sku - 1)];
      ln.orig = m->list_cents[(size_t)d * S + (ln.sku - 1)];
      ln.fin = (ln.orig * (100 - pct) + 50) / 100;
      if (rng_unit(&ro) < P_COUPON) ln.fin = (ln.fin * 95 + 50) / 100;
      if (ln.fin < 1) ln.fin = 1;
      /* Mostly one unit; more under a promotion and for cheap items. */
      double p_multi = (pct ? 0.28 : 0.18) + (ln.orig < 1000 ? 0.1 : 0.0);
      ln.q = rng_unit(&ro) < p_multi ? SC_MIN(2 + rng_geom(&ro, 0.6), 20) : 1;
      p = put_line(m, p, oid, uid, &ln);
      /* A return: the same order, sku, prices and DC, 1 to 21 days later. */
      if (rng_unit(&ro) < cats[m->sku_cat[ln.sku - 1]].ret) {
        gen_line r = ln;
        r.q = (ln.q > 1 && rng_unit(&ro) < 0.3) ? -(1 + (int)(rng_u64(&ro) % (uint64_t)(ln.q - 1))) : -ln.q;
        r.ts = t + 86400 + (int32_t)(rng_u64(&ro) % (20 * 86400));
        if (r.ts < END_SEC) ret[n_ret++] = r;
      }
      /* Clicks on the sku in the hours before buying it. */
      if (rng_unit(&rc) < P_CLICK_BEFORE) {
        int nc = SC_MIN(1 + rng_geom(&rc, 0.55), MAX_CLICKS_PER_LINE);
        for (int i = 0; i < nc; i++) {
          int32_t ct = t - 30 - (int32_t)rng_expo(&rc, 4 * 3600.0);
          int pl = draw_platform(&rc, platform);
          if (ct >= 0) sc->clicks[n_clicks++] = click_key(ct, ln.sku, pl);
        }
      }
    }
    for (int i = 0; i < n_ret; i++) p = put_line(m, p, oid, uid, &ret[i]);
    orders->n = (size_t)(p - orders->p);

    /* delivery.csv: shipped hours later, arriving after a regional transit
     * time; slower in the peak season; a few never ship or never arrive,
     * and nothing after the end of 2023 is known yet. */
    ROOM(delivery, 64);
    p = delivery->p + delivery->n;
    p = put_i64(p, oid);
    *p++ = ',';
    double cong = day_congestion(d);
    int not_shipped = rng_unit(&rd) < P_NOT_SHIPPED, lost = rng_unit(&rd) < P_LOST;
    double ship = t + 1800.0 + rng_expo(&rd, 10 * 3600.0) * cong;
    double arr = ship + 3600.0 * region_transit_h[g] * gm_exp(0.35 * rng_normal(&rd)) * (cong > 1 ? 1.4 : 1.0);
    if (!not_shipped && ship < END_SEC) {
      p = put_ts(m, p, (int32_t)ship);
      *p++ = ',';
      if (!lost && arr < END_SEC) p = put_ts(m, p, (int32_t)arr);
    } else {
      *p++ = ',';
    }
    *p++ = '\n';
    delivery->n = (size_t)(p - delivery->p);
  }

  /* Browsing clicks: skus of the day's mix, on days the user is around. */
  int lo = buyer ? a : SC_MAX(0, SC_MIN(created, GEN_DAYS - 1));
  int hi = buyer ? e : GEN_DAYS - 1;
  int nb = SC_MIN(rng_poisson(&rc, browse_mean * (buyer ? 1.0 + 0.15 * n_orders : 1.0)), MAX_BROWSE);
  for (int i = 0; i < nb; i++) {
    int d = draw_day(m, lo, hi, rng_unit(&rc));
    int32_t ct = draw_time(m, &rc, d);
    int s = draw_sku(m, c, d, rng_unit(&rc));
    sc->clicks[n_clicks++] = click_key(ct, s, draw_platform(&rc, platform));
  }
  sort_u64(sc->clicks, n_clicks);
  ROOM(clicks, (size_t)n_clicks * 48);
  p = clicks->p + clicks->n;
  for (int i = 0; i < n_clicks; i++) {
    uint64_t ck = sc->clicks[i];
    int pl = (int)(ck & 3);
    p = put_i64(p, uid);
    *p++ = ',';
    p = put_i64(p, (int64_t)((ck >> 2) & 0x3FFFFFFF));
    *p++ = ',';
    p = put_ts(m, p, (int32_t)(ck >> 32));
    *p++ = ',';
    memcpy(p, platform_name[pl], platform_len[pl]);
    p += platform_len[pl];
    *p++ = '\n';
  }
  clicks->n = (size_t)(p - clicks->p);
  return 0;
}

/* ---- the small files and inventory ---------------------------------------- */

int gen_inventory(const gen_model *m, int d0, int d1, gen_buf *out) {
  int S = m->n_sku;
  for (int d = d0; d < d1; d++) {
    for (int c = 0; c < GEN_DCS; c++) {
      ROOM(out, (size_t)S * 32);
      char *p = out->p + out->n, prefix[24];
      char *q = put_date(m, prefix, d);
      *q++ = ',';
      q = put_i64(q, dc_id_of(c));
      *q++ = ',';
      size_t plen = (size_t)(q - prefix);
      const uint8_t *stock = m->stock + ((size_t)d * GEN_DCS + c) * S;
      for (int s = 0; s < S; s++) {
        memcpy(p, prefix, plen);
        p = put_i64(p + plen, s + 1);
        *p++ = ',';
        *p++ = (char)('0' + stock[s]);
        *p++ = '\n';
      }
      out->n = (size_t)(p - out->p);
    }
  }
  return 0;
}

int gen_network(gen_buf *out) {
  ROOM(out, (size_t)GEN_DCS * 16);
  char *p = out->p + out->n;
  for (int c = 0; c < GEN_DCS; c++) {
    p = put_i64(p, dc_id_of(c));
    *p++ = ',';
    p = put_i64(p, dc_region[c] + 1);
    *p++ = '\n';
  }
  out->n = (size_t)(p - out->p);
  return 0;
}

int gen_skus(const gen_model *m, gen_buf *out) {
  ROOM(out, (size_t)m->n_sku * 40);
  char *p = out->p + out->n;
  for (int s = 0; s < m->n_sku; s++) {
    /* About 1 % of the catalogue lacks a category or a brand. */
    uint64_t h = hk(m->seed, P_SKU_MISSING, (uint64_t)s + 1, 0, 0);
    p = put_i64(p, s + 1);
    *p++ = ',';
    if (h % 100 != 0) {
      size_t n = strlen(cats[m->sku_cat[s]].name);
      memcpy(p, cats[m->sku_cat[s]].name, n);
      p += n;
    }
    *p++ = ',';
    if ((h >> 16) % 100 != 0) p = put_i64(p, m->sku_brand[s]);
    *p++ = '\n';
  }
  out->n = (size_t)(p - out->p);
  return 0;
}
