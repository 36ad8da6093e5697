/* fuzz_csv.c: libFuzzer target over the CSV record splitter and field parser.
 *
 * The input's first four bytes choose how it is read: the block size (1 to
 * 256 bytes, or 1 MiB), the simulated ranks (1-4) and threads (1-3),
 * input.max_record_lines (1-6, or 10,000) and a schema (1-5 columns of int,
 * id, decimal, date or text). The rest is the CSV file. It is read by the
 * parallel reader's steps (tests/unit/csv_sim.c: kernels/csvrec.c and
 * kernels/csv.c at that split) and by the sequential reference
 * (tests/ref/csvref.c); any difference in rows, rejects or line counts, or
 * a disagreement between the steps, aborts with the difference printed, so
 * libFuzzer keeps the input. Built with clang -fsanitize=fuzzer,address,
 * undefined by tests/fuzz.cmake and run for a bounded time by the suite
 * (test fuzz_csv) from the seeds in tests/fuzz/corpus/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_sim.h"
#include "csvref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 4) return 0;
  static const int64_t blocks[8] = {1, 2, 3, 7, 16, 61, 256, 1 << 20};
  csv_sim_cfg cfg = {blocks[data[0] & 7] + (data[0] >> 3), 1 + (data[1] & 3), 1 + (data[1] >> 2) % 3,
                     data[2] < 200 ? 10000 : 1 + data[2] % 6};
  static const char *names[] = {"c0", "c1", "c2", "c3", "c4"};
  static const int types[] = {REF_INT, REF_TEXT, REF_ID, REF_DEC, REF_DATE, REF_TEXT, REF_INT, REF_DATETIME};
  csvref_schema sch;
  memset(&sch, 0, sizeof sch);
  sch.ncols = 1 + data[3] % 5;
  for (int c = 0; c < sch.ncols; c++) {
    sch.col[c] = (csvref_col){names[c], types[(data[3] >> (c + 1)) & 7], c == 1, 1, 0, NULL};
  }
  const char *csv = (const char *)data + 4;
  size_t n = size - 4;
  /* the readers take a buffer of exactly n bytes: AddressSanitizer sees any
   * read past it */
  char *buf = malloc(n ? n : 1);
  memcpy(buf, csv, n);
  csvref_result want, got;
  csvref_read(buf, n, &sch, cfg.max_lines, &want);
  int rc = csv_sim_read(buf, n, &cfg, &sch, &got);
  char why[512] = "";
  int bad = rc < 0 ? (snprintf(why, sizeof why, "the steps disagree: %s", got.error), 1)
                   : csv_sim_compare(&got, &want, why, sizeof why);
  if (bad) {
    fprintf(stderr, "fuzz_csv: %lld-byte blocks, %d ranks x %d threads, max_record_lines %lld: %s\n",
            (long long)cfg.block, cfg.ranks, cfg.threads, (long long)cfg.max_lines, why);
    abort();
  }
  csvref_free(&want);
  csvref_free(&got);
  free(buf);
  return 0;
}
