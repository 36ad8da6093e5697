/* csv_sim.h: the parallel reader's steps run in one process, for testing.
 *
 * csv_sim_read reads a buffer the way src/csvread.c reads a file at R ranks
 * x T threads with blocks of B bytes: per block csvrec_scan and newline
 * counts, the header by csvrec_extent, every opener checked, the ranks'
 * entries and exits settled in rounds exactly as the allgather rounds do,
 * each rank's records cut at block boundaries for its threads, and each
 * thread's range read by csvrec_read_range, with a converter that checks a
 * csvref_schema's columns with the kernel's parsers (parse_i64, parse_id,
 * parse_decimal, parse_date, parse_datetime). The outcome is written as a
 * csvref_result, so that csv_sim_compare can set it beside the reference
 * reader's (tests/ref/csvref.c). Used by the CUnit differential test and
 * the libFuzzer target; src/csvread.c itself is checked against the same
 * reference under mpirun by tests/mpi/csv_diff_driver.c.
 *
 * csv_gen writes a random CSV for a random schema and then damages it
 * (stray quotes in every position, quoted newlines, "", CRLF and CRs,
 * junk after closing quotes, quotes opened mid-file and at the end,
 * invalid UTF-8, NUL, blank lines, wrong field counts, bad values, no
 * final newline).
 */
#ifndef SEGCAST_CSV_SIM_H
#define SEGCAST_CSV_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "csvrec.h"
#include "csvref.h"
#include "test_rng.h"

typedef struct {
  int64_t block;     ///< block size, bytes (>= 1)
  int ranks, threads;
  int64_t max_lines; ///< input.max_record_lines
} csv_sim_cfg;

/// Reads buf[0..n). Returns 0, 1 for a whole-file error (result->error
/// set, as the reference does), or -1 when the steps disagree with each
/// other (result->error says where).
int csv_sim_read(const char *buf, size_t n, const csv_sim_cfg *cfg, const csvref_schema *schema,
                 csvref_result *result);

/// A row's schema columns through the kernel's parsers, in order: CSV_OK,
/// or why not with *bad the column (the test converters' rules).
csv_code csv_sim_check(const csvref_schema *schema, const csv_row *r, int *bad);

/// 0 when a and b hold the same records (kind, line, fields, reason, raw)
/// and counts; else 1 with the first difference in words in why.
int csv_sim_compare(const csvref_result *a, const csvref_result *b, char *why, size_t cap);

/// A random damaged CSV of about `size` bytes into buf (capacity cap >=
/// 2 * size + 256) for a random schema; returns its length.
size_t csv_gen(rng *r, char *buf, size_t cap, size_t size, csvref_schema *schema);

#endif
