/* segment_driver.c: runs the segment stage on a synthetic data set built in
 * memory, without the ingest stage, at any rank count.
 *
 *   segment_driver OUTDIR USERS LAYOUT [--set section.key=value ...]
 *
 * Every user's lines are drawn from generators keyed by the user id, so
 * the data set is the same whatever the rank count; each rank keeps the
 * users that part_user assigns to it, sorted by (user_id, row), exactly as
 * ingest leaves them. Lines without a user, returns, zero-price lines and
 * lines after as_of are mixed in. LAYOUT is marketplace (users with
 * created dates, clicks, discounts, skus) or transactions (amount only, no
 * sku). Each rank also dumps its raw lines to OUTDIR/lines_RANK.csv (and
 * users_RANK.csv, clicks_RANK.csv) so that tests/ref/segment_ref.py can
 * recompute every feature independently with pandas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "stages.h"

static double unit(uint64_t a, uint64_t b) { return sc_unit(sc_mix64(a * 0x9E3779B97F4A7C15ULL) ^ b); }

typedef struct {
  sc_dataset ds;
  FILE *dump;
} gen;

static sc_status add_line(sc_table *L, FILE *dump, int64_t row, int64_t user, int64_t order, int64_t sku, int32_t day,
                          int32_t q, double pf, double po) {
  int64_t i = L->n;
  SC_TRY(table_resize(L, i + 1));
  table_i64(L, "row")[i] = row;
  table_i64(L, "user_id")[i] = user;
  table_i64(L, "order_id")[i] = order;
  table_i64(L, "sku")[i] = sku;
  table_i32(L, "region")[i] = 0;
  table_i32(L, "day")[i] = day;
  table_i32(L, "sec")[i] = 0;
  table_i32(L, "quantity")[i] = q;
  table_f64(L, "amount")[i] = q * pf;
  table_f64(L, "orig_amount")[i] = q * po;
  table_i64(L, "arr_ts")[i] = SC_NO_TS;
  uint8_t fl = 0;
  if (q > 0 && pf > 0) fl |= SC_LINE_VALID;
  if (q < 0) fl |= SC_LINE_RETURN;
  table_u8(L, "flags")[i] = fl;
  fprintf(dump, "%lld,%lld,%lld,%lld,%d,%d,%.17g,%.17g\n", (long long)row, (long long)user, (long long)order,
          (long long)sku, day, q, pf, po);
  return SC_OK;
}

/* Lines of user u: 1..~40 orders, heavy-tailed spend, churn, returns. */
static sc_status gen_user(sc_dataset *ds, FILE *dump, int64_t u, int market) {
  sc_table *L = &ds->lines;
  int64_t row = u << 16;
  double r = unit(u, 1);
  int orders = 1 + (int)(r < 0.45 ? 0 : r < 0.7 ? unit(u, 2) * 3 : r < 0.93 ? unit(u, 3) * 10 : unit(u, 4) * 40);
  int32_t start = 18000 + (int32_t)(unit(u, 5) * 600), churn = start + (int32_t)(unit(u, 6) * 700);
  double spend = 5 + 200 * unit(u, 7) * unit(u, 7) * unit(u, 7) * 10;
  for (int o = 0; o < orders; o++) {
    int32_t day = start + (int32_t)((churn - start) * unit(u * 64 + o, 8));
    int lines = 1 + (int)(unit(u * 64 + o, 9) * 4);
    int64_t order = u * 100 + o;
    for (int l = 0; l < lines; l++) {
      uint64_t key = (uint64_t)(u * 64 + o) * 8 + (uint64_t)l;
      int32_t q = 1 + (int32_t)(unit(key, 10) * 5);
      if (unit(key, 11) < 0.04) q = -q;
      double pf = (double)(int64_t)(spend * unit(key, 12) * 100) / 100.0;
      if (unit(key, 13) < 0.02) pf = 0;
      double po = market ? pf + (double)(int64_t)(unit(key, 14) * 300) / 100.0 : pf;
      int64_t sku = market ? 1 + (int64_t)(unit(key, 15) * 300) : -1;
      SC_TRY(add_line(L, dump, row++, u, order, sku, day, q, pf, po));
    }
  }
  return SC_OK;
}

int main(int argc, char **argv) {
  sc_status s = comm_init(&argc, &argv);
  if (s || argc < 4) {
    fprintf(stderr, "usage: segment_driver OUTDIR USERS marketplace|transactions [--set k=v ...]\n");
    comm_finalize();
    return 2;
  }
  const char *out = argv[1];
  int64_t users = atoll(argv[2]);
  int market = !strcmp(argv[3], "marketplace");
  int rank = comm_rank(), size = comm_size();
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.out, sizeof cfg.out, "%s", out);
  snprintf(cfg.layout, sizeof cfg.layout, "%s", market ? "marketplace" : "transactions");
  for (int i = 4; !s && i + 1 < argc; i += 2)
    if (!strcmp(argv[i], "--set")) s = config_set(&cfg, argv[i + 1]);
  s = comm_agree(s);
  if (!s) s = comm_agree(rank == 0 ? sc_mkdirs(out) : SC_OK);
  sc_run run;
  memset(&run, 0, sizeof run);
  sc_dataset ds;
  memset(&ds, 0, sizeof ds);
  if (!s) s = run_init(&run, &cfg);
  if (!s) s = out_begin(&run, 1);
  char path[2048];
  snprintf(path, sizeof path, "%s/lines_%d.csv", out, rank);
  FILE *dump = fopen(path, "w"), *udump = NULL, *cdump = NULL;
  snprintf(path, sizeof path, "%s/users_%d.csv", out, rank);
  udump = fopen(path, "w");
  snprintf(path, sizeof path, "%s/clicks_%d.csv", out, rank);
  cdump = fopen(path, "w");
  if (!dump || !udump || !cdump) s = sc_fail(SC_EIO, "cannot write dumps into %s", out);
  s = comm_agree(s);
  if (!s) {
    snprintf(ds.layout, sizeof ds.layout, "%s", cfg.layout);
    s = table_init(&ds.lines, "lines", SC_LINES_SPEC);
    if (!s) s = table_init(&ds.users, "users", SC_USERS_SPEC);
    if (!s) s = table_init(&ds.clicks, "clicks", SC_CLICKS_SPEC);
    fprintf(dump, "row,user_id,order_id,sku,day,quantity,final_price,orig_price\n");
    fprintf(udump, "user_id,created_day\n");
    fprintf(cdump, "user_id,day\n");
    /* lines without a user: rank of their row hash, as ingest does */
    for (int64_t j = 0; !s && j < users / 10 + 1; j++)
      if (part_user(-(j + 1), size) == rank)
        s = add_line(&ds.lines, dump, j, 0, 999999999 - j, market ? 7 : -1, 18500 + (int32_t)(j % 300), 2, 3.5, 4.0);
    for (int64_t u = 1; !s && u <= users; u++) {
      int64_t uid = u * 7 + 3; /* sparse ids */
      if (part_user(uid, size) != rank) continue;
      s = gen_user(&ds, dump, uid, market);
      if (!s && market && unit(uid, 20) < 0.9) {
        int64_t i = ds.users.n;
        s = table_resize(&ds.users, i + 1);
        if (!s) {
          int32_t cd = unit(uid, 21) < 0.1 ? SC_NO_DAY : 17800 + (int32_t)(unit(uid, 22) * 200);
          table_i64(&ds.users, "row")[i] = uid;
          table_i64(&ds.users, "user_id")[i] = uid;
          table_i32(&ds.users, "created_day")[i] = cd;
          table_i32(&ds.users, "age")[i] = SC_NO_I32;
          table_u8(&ds.users, "gender")[i] = 0;
          table_i32(&ds.users, "city_level")[i] = SC_NO_I32;
          if (cd == SC_NO_DAY) fprintf(udump, "%lld,\n", (long long)uid);
          else fprintf(udump, "%lld,%d\n", (long long)uid, cd);
        }
      }
      int nclicks = market ? (int)(unit(uid, 23) * 12) : 0;
      for (int c = 0; !s && c < nclicks; c++) {
        int64_t i = ds.clicks.n;
        s = table_resize(&ds.clicks, i + 1);
        if (!s) {
          int32_t day = 19000 + (int32_t)(unit(uid * 16 + c, 24) * 400);
          table_i64(&ds.clicks, "row")[i] = (uid << 8) + c;
          table_i64(&ds.clicks, "user_id")[i] = uid;
          table_i64(&ds.clicks, "sku")[i] = 1;
          table_i32(&ds.clicks, "day")[i] = day;
          fprintf(cdump, "%lld,%d\n", (long long)uid, day);
        }
      }
    }
    if (!s) s = table_sort(&ds.lines, "user_id", "row", NULL);
    if (!s) s = table_sort(&ds.users, "user_id", NULL, NULL);
    if (!s) s = table_sort(&ds.clicks, "user_id", "row", NULL);
    ds.has_users = market;
    ds.has_clicks = market;
    ds.has_sku = market;
    /* as_of: latest valid line + 1 day, unless run.as_of is set */
    int32_t last = INT32_MIN;
    const uint8_t *fl = table_u8(&ds.lines, "flags");
    const int32_t *dy = table_i32(&ds.lines, "day");
    for (int64_t i = 0; i < ds.lines.n; i++)
      if (fl[i] & SC_LINE_VALID) last = dy[i] > last ? dy[i] : last;
    ds.as_of_day = (int32_t)comm_max1_i64(last) + 1;
    if (cfg.as_of[0]) {
      int y, m, d;
      sscanf(cfg.as_of, "%d-%d-%d", &y, &m, &d);
      /* days from civil (H. Hinnant) */
      y -= m <= 2;
      int era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
      int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
      ds.as_of_day = era * 146097 + doe - 719468;
    }
  }
  if (dump) fclose(dump);
  if (udump) fclose(udump);
  if (cdump) fclose(cdump);
  s = comm_agree(s);
  if (!s) {
    sc_h5 res;
    char tmp[SC_PATH_MAX];
    s = h5_create(&res, out_tmp_path(&run, "results.h5", tmp));
    if (!s) {
      s = stage_segment(&run, &ds, &res);
      sc_status c = h5_close(&res);
      if (!s) s = c;
    }
    if (!s && rank == 0) s = out_commit_path(&run, "results.h5");
    s = comm_agree(s);
  }
  if (!s) s = comm_agree(run_write_summary(&run));
  if (!s) s = out_publish(&run);
  if (s && rank == 0) fprintf(stderr, "segment_driver: error: %s\n", sc_message());
  if (s) out_cleanup();
  if (run.summary) run_free(&run);
  dataset_free(&ds);
  comm_finalize();
  return s;
}
