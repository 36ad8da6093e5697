/* csvread.h: reads one CSV file in parallel (ranks x threads).
 *
 * The file is memory-mapped and cut into fixed blocks (1 MiB); each rank
 * takes a contiguous run of blocks, hashes each (xxh3, for the store's
 * checksum), counts its newlines and finds its openers (kernels/csvrec.h:
 * lines that end inside a quoted field, with the extent of the record they
 * would begin), all on its OpenMP threads. Line numbers come from an
 * exclusive prefix sum of newline counts. Each opener's candidate is
 * checked as a row, then a rank resolves its openers from its entry (the
 * first record start at or after its first byte) to its exit, which is the
 * next rank's entry: a few rounds of one small allgather settle the chain
 * (one round when no accepted multi-line record crosses a rank boundary).
 * The rank's records are then cut at block boundaries for its threads, each
 * starting at the first record start at or after its cut, and read.
 *
 * Each record is checked (quoting, UTF-8, NUL, '\r', field count) and
 * handed to the layout's converter, which parses the values it needs into
 * the thread's output table or names the column that failed. Malformed rows
 * become reject entries (line, reason, raw text of the first line); blank
 * lines are skipped. Every physical line is accounted for: header, blank,
 * first line of a row, or continuation line of a row; the sum is checked
 * against the file's line count (a mismatch is an internal error).
 */
#ifndef SEGCAST_CSVREAD_H
#define SEGCAST_CSVREAD_H

#include <stdint.h>

#include "csv.h"
#include "csvrec.h"
#include "segcast.h"

#define CSVR_MAXCOLS 16

/// A column the converter wants: accepted header names (first is the
/// canonical one), and whether a file without it is refused.
typedef struct {
  const char *names[3];
  int required;
} csvr_col;

/// What a converter sees for one record (kernels/csvrec.h), and its type.
typedef csv_row csvr_row;
typedef csv_convert csvr_convert;

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
  int64_t blank, cont;             ///< this rank's blank and continuation lines (the header's in rank 0's)
  int64_t lines;                   ///< the file's physical lines (every rank: the whole file)
  int64_t bytes;                   ///< file size
  uint64_t checksum;               ///< xxh3-64 over the blocks' xxh3-64 values
  csvr_reject *rejects;            ///< this rank's, in line order
  int64_t n_rejects, cap_rejects;
  char header_names[CSVR_MAXCOLS][64]; ///< the header name found per wanted column
  int present[CSVR_MAXCOLS];       ///< 1 when the column is in the header
} csvr_result;

/// Collective: reads `path`. `label` names the file in messages; the
/// converter is called for each well-formed record by the OpenMP threads;
/// a quoted field may run over at most max_lines physical lines
/// (input.max_record_lines). Fails (every rank) on a missing/empty file, a
/// header without a required column, no data rows when `need_rows`, or a
/// line count that does not add up (internal error).
sc_status csvr_read(const char *path, const char *label, const csvr_col *cols, int ncols, csvr_convert fn,
                    csvr_reserve rfn, void *ctx, int need_rows, int64_t max_lines, csvr_result *res);
/// The reader's block size (bytes; default 1 MiB). Tests set small blocks
/// to put rank and thread cuts everywhere; 0 restores the default.
void csvr_set_block(int64_t bytes);
/// Adds a reject for a record known by its byte offset (e.g. a duplicate
/// key found after partitioning): re-reads the raw text from the file.
sc_status csvr_reject_at(csvr_result *res, const char *path, int64_t line, int64_t offset, const char *reason);
/// Appends a formatted reject (reason and raw bytes) to res.
sc_status csvr_add_reject(csvr_result *res, int64_t line, const char *reason, const char *raw, size_t len);
void csvr_free(csvr_result *res);

/// Formats "reason,raw" as CSV fields into a new string (raw quoted, '"'
/// doubled, invalid UTF-8 and NUL bytes as \xNN, a formula start guarded
/// with '\'' as every CSV text cell: csvtext.h).
char *csvr_format_reject(const char *reason, const char *raw, size_t len);

#endif
