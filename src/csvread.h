/* csvread.h: reads one CSV file in parallel (ranks x threads).
 *
 * The file is cut into fixed 1 MiB blocks; each rank takes a contiguous run
 * of blocks, reads it with pread, hashes each block (xxh3, for the store's
 * checksum) and counts quotes and newlines. An exclusive prefix sum over
 * ranks gives each rank the quote parity and the line number at its first
 * byte, so it finds its first record boundary on its own (csv.h explains
 * why parity suffices); records that straddle ranks belong to the rank
 * where they start, which reads past its range to finish them. Inside a
 * rank the same cut is repeated for the OpenMP threads.
 *
 * Each record is checked (UTF-8, NUL, quoting, field count) and handed to
 * the layout's converter, which parses the values it needs into the
 * thread's output table or names the column that failed. Malformed records
 * become reject entries (line, reason, raw text); blank lines are skipped.
 */
#ifndef SEGCAST_CSVREAD_H
#define SEGCAST_CSVREAD_H

#include <stdint.h>

#include "csv.h"
#include "segcast.h"

#define CSVR_MAXCOLS 16

/// A column the converter wants: accepted header names (first is the
/// canonical one), and whether a file without it is refused.
typedef struct {
  const char *names[3];
  int required;
} csvr_col;

/// What a converter sees for one record.
typedef struct {
  const csv_field *f;  ///< all fields of the record
  const int *idx;      ///< idx[c] = field index of wanted column c, or -1
  int64_t line;        ///< physical line number of the record's start
  int64_t offset;      ///< byte offset of the record in the file
  int tid;             ///< OpenMP thread number (for per-thread outputs)
} csvr_row;

/// Parses one record. Returns CSV_OK, or a csv_code with *bad_col set to
/// the wanted column at fault (or -1 for a record-level reason).
typedef csv_code (*csvr_convert)(void *ctx, const csvr_row *row, int *bad_col);

/// Optional: called once per thread, for tid = 0..T-1 in order by one
/// thread, before any record is converted, with an upper bound of the
/// records thread tid will see, so outputs are allocated once.
typedef sc_status (*csvr_reserve)(void *ctx, int tid, int64_t rows);

/// A malformed record, kept until rejects.csv is written.
typedef struct {
  int64_t line;
  char *text;  ///< "reason,raw" already formatted as two CSV fields
} csvr_reject;

typedef struct {
  int64_t read, loaded, rejected;  ///< this rank's counts (data rows)
  int64_t bytes;                   ///< file size
  uint64_t checksum;               ///< xxh3-64 over the blocks' xxh3-64 values
  csvr_reject *rejects;            ///< this rank's, in line order
  int64_t n_rejects, cap_rejects;
  char header_names[CSVR_MAXCOLS][64]; ///< the header name found per wanted column
  int present[CSVR_MAXCOLS];       ///< 1 when the column is in the header
} csvr_result;

/// Collective: reads `path`. `label` names the file in messages; the
/// converter is called for each well-formed record by `nthreads` threads.
/// Fails (every rank) on a missing/empty file, a header without a required
/// column, or no data rows when `need_rows`.
sc_status csvr_read(const char *path, const char *label, const csvr_col *cols, int ncols, csvr_convert fn,
                    csvr_reserve rfn, void *ctx, int need_rows, csvr_result *res);
/// Adds a reject for a record known by its byte offset (e.g. a duplicate
/// key found after partitioning): re-reads the raw text from the file.
sc_status csvr_reject_at(csvr_result *res, const char *path, int64_t line, int64_t offset, const char *reason);
/// Appends a formatted reject (reason and raw bytes) to res.
sc_status csvr_add_reject(csvr_result *res, int64_t line, const char *reason, const char *raw, size_t len);
void csvr_free(csvr_result *res);

/// Formats "reason,raw" as CSV fields into a new string (raw quoted, '"'
/// doubled, invalid UTF-8 and NUL bytes as \xNN).
char *csvr_format_reject(const char *reason, const char *raw, size_t len);

#endif
