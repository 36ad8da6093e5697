/* test_store_load.c: loads a store at the current rank count and checks it.
 *
 * usage: test_store_load STORE LAYOUT EXPECTED_LINES
 * Checks that every line sits on the rank of its user's hash, that each
 * rank's lines are sorted by (user_id, row), that the global count is the
 * expected one, and prints an order-free checksum of every column of every
 * table (a wrapping sum of per-row hashes), which must be the same whatever
 * rank count wrote or reads the store. Exit status 0 when all hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comm.h"
#include "stages.h"

static uint64_t table_checksum(const sc_table *t) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < t->n; i++) {
    uint64_t h = 0;
    for (int c = 0; c < t->ncols; c++) {
      uint64_t v = 0;
      memcpy(&v, (const char *)t->cols[c].data + (size_t)i * coltype_size(t->cols[c].type), coltype_size(t->cols[c].type));
      h = sc_mix64(h ^ v ^ ((uint64_t)c << 56));
    }
    sum += h;
  }
  return sum;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: test_store_load STORE LAYOUT EXPECTED_LINES\n");
    return 2;
  }
  comm_init(&argc, &argv);
  sc_config cfg;
  config_defaults(&cfg);
  snprintf(cfg.store, sizeof cfg.store, "%s", argv[1]);
  snprintf(cfg.layout, sizeof cfg.layout, "%s", argv[2]);
  sc_run run;
  run_init(&run, &cfg);
  sc_dataset ds;
  sc_status s = store_load(&run, &ds);
  int bad = 0;
  if (s) {
    if (run.rank == 0) fprintf(stderr, "test_store_load: %s\n", sc_message());
    comm_finalize();
    return 1;
  }
  const int64_t *u = table_i64(&ds.lines, "user_id"), *row = table_i64(&ds.lines, "row");
  for (int64_t i = 0; i < ds.lines.n; i++) {
    int32_t want = u[i] ? part_user(u[i], run.size) : part_user(row[i], run.size);
    if (want != run.rank) bad |= 1;
    if (i && (u[i] < u[i - 1] || (u[i] == u[i - 1] && row[i] <= row[i - 1]))) bad |= 2;
  }
  int64_t total = comm_sum1_i64(ds.lines.n);
  if (total != atoll(argv[3])) bad |= 4;
  uint64_t sums[4] = {table_checksum(&ds.lines), table_checksum(&ds.users), table_checksum(&ds.clicks),
                      table_checksum(&ds.inventory)};
  comm_sum_i64((int64_t *)sums, 4);
  int64_t anybad = comm_max1_i64(bad);
  if (run.rank == 0) {
    printf("lines %lld checksum %016llx %016llx %016llx %016llx network %lld dict %lld/%lld\n", (long long)total,
           (unsigned long long)sums[0], (unsigned long long)sums[1], (unsigned long long)sums[2],
           (unsigned long long)sums[3], (long long)ds.network.n, (long long)ds.n_sku_names, (long long)ds.n_region_names);
    if (anybad) fprintf(stderr, "test_store_load: failed checks (bits %lld: 1 partition, 2 order, 4 count)\n", (long long)anybad);
  }
  dataset_free(&ds);
  run_free(&run);
  comm_finalize();
  return anybad ? 1 : 0;
}
