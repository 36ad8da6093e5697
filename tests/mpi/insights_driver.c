/* insights_driver.c: runs stage_insights on a lines fixture, without ingest.
 *
 *   insights_driver LINES.csv SKU_NAMES.txt|- REGION_NAMES.txt|- OUTDIR
 *
 * LINES.csv has the header row,user_id,order_id,sku,region,day,quantity,
 * amount,flags (the columns of the store's lines table, table.h); the name
 * files hold one dictionary name per line ("-": ids are shown as numbers,
 * as for marketplace). Every rank reads the fixture and keeps the rows the
 * store's partitioning gives it (hash of user_id, lines without a user by
 * hash of row), sorted by (user_id, row) as ingest leaves them. The outputs
 * (CSVs, results.h5, summary.json) land in OUTDIR, where
 * tests/ref/insights_ref.py checks them against pandas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "stages.h"

static sc_status read_names(const char *path, char ***names, int64_t *n) {
  *names = NULL;
  *n = 0;
  if (!strcmp(path, "-")) return SC_OK;
  FILE *f = fopen(path, "rb");
  if (!f) return sc_fail(SC_EIO, "cannot read %s", path);
  char line[1024];
  int64_t cap = 0;
  sc_status s = SC_OK;
  while (!s && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      s = sc_realloc(names, (size_t)cap * sizeof **names);
    }
    if (!s) (*names)[(*n)++] = strdup(line);
  }
  fclose(f);
  return s;
}

static sc_status read_lines(const char *path, sc_table *t) {
  FILE *f = fopen(path, "rb");
  if (!f) return sc_fail(SC_EIO, "cannot read %s", path);
  char line[1024];
  sc_status s = SC_OK;
  int size = comm_size(), rank = comm_rank();
  if (!fgets(line, sizeof line, f)) s = sc_fail(SC_EINPUT, "%s is empty", path);
  while (!s && fgets(line, sizeof line, f)) {
    long long row, user, order, sku;
    int region, day, qty, flags;
    double amount;
    if (sscanf(line, "%lld,%lld,%lld,%lld,%d,%d,%d,%lf,%d", &row, &user, &order, &sku, &region, &day, &qty, &amount,
               &flags) != 9) {
      s = sc_fail(SC_EINPUT, "%s: bad fixture line '%s'", path, line);
      break;
    }
    int dest = user ? part_user(user, size) : part_user(row, size);
    if (dest != rank) continue;
    int64_t i = t->n;
    s = table_resize(t, i + 1);
    if (s) break;
    ((int64_t *)table_col(t, "row"))[i] = row;
    ((int64_t *)table_col(t, "user_id"))[i] = user;
    ((int64_t *)table_col(t, "order_id"))[i] = order;
    ((int64_t *)table_col(t, "sku"))[i] = sku;
    ((int32_t *)table_col(t, "region"))[i] = region;
    ((int32_t *)table_col(t, "day"))[i] = day;
    ((int32_t *)table_col(t, "sec"))[i] = 0;
    ((int32_t *)table_col(t, "quantity"))[i] = qty;
    ((double *)table_col(t, "amount"))[i] = amount;
    ((double *)table_col(t, "orig_amount"))[i] = amount;
    ((int64_t *)table_col(t, "arr_ts"))[i] = SC_NO_TS;
    ((uint8_t *)table_col(t, "flags"))[i] = (uint8_t)flags;
  }
  fclose(f);
  if (!s) s = table_sort(t, "user_id", "row", NULL);
  return s;
}

int main(int argc, char **argv) {
  sc_status s = comm_init(&argc, &argv);
  if (s) return s;
  if (argc != 5) {
    if (comm_rank() == 0) fprintf(stderr, "usage: insights_driver LINES.csv SKU_NAMES|- REGION_NAMES|- OUTDIR\n");
    comm_finalize();
    return SC_EUSAGE;
  }
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.out, sizeof cfg.out, "%s", argv[4]);
  sc_run run;
  sc_dataset ds;
  memset(&ds, 0, sizeof ds);
  s = run_init(&run, &cfg);
  if (!s) s = out_begin(&run, 1);
  if (!s) s = comm_agree(table_init(&ds.lines, "lines", SC_LINES_SPEC));
  if (!s) s = comm_agree(read_lines(argv[1], &ds.lines));
  if (!s) s = comm_agree(read_names(argv[2], &ds.sku_names, &ds.n_sku_names));
  if (!s) s = comm_agree(read_names(argv[3], &ds.region_names, &ds.n_region_names));
  if (!s) {
    sc_h5 res;
    char tmp[SC_PATH_MAX];
    s = h5_create(&res, out_tmp_path(&run, "results.h5", tmp));
    if (!s) {
      s = stage_insights(&run, &ds, &res);
      sc_status c = h5_close(&res);
      if (!s) s = c;
    }
    if (!s) s = comm_agree(comm_rank() == 0 ? out_commit_path(&run, "results.h5") : SC_OK);
  }
  if (!s) s = comm_agree(run_write_summary(&run));
  if (!s) s = out_publish(&run);
  if (s && comm_rank() == 0) fprintf(stderr, "insights_driver: error: %s\n", sc_message());
  if (s) out_cleanup();
  dataset_free(&ds);
  run_free(&run);
  comm_finalize();
  return s;
}
