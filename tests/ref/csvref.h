/* csvref.h: a plain sequential CSV reader, the oracle of the parallel one.
 *
 * Written from DATA.md 2 and 7 and docs/ingest.md alone, line by line and
 * byte by byte (the state machine of Python's csv module with strict=True:
 * START_FIELD, IN_FIELD, IN_QUOTED_FIELD, QUOTE_IN_QUOTED_FIELD), with no
 * code shared with kernels/csv.c, kernels/csvrec.c or src/csvread.c: its
 * own UTF-8 validator, number, id and date checks. It is slow on purpose
 * (one byte at a time, every record read from its first line) so that it
 * is easy to check against the text of the rules.
 *
 * Used by the differential test (tests/mpi/csv_diff_driver.c), the
 * libFuzzer target (tests/fuzz/fuzz_csv.c) and, through its command line
 * (csvref_main.c), the damaged-marketplace test.
 */
#ifndef SEGCAST_CSVREF_H
#define SEGCAST_CSVREF_H

#include <stddef.h>
#include <stdint.h>

/// Value types the reference checks (a converter's rules, DATA.md 7).
enum {
  REF_TEXT,     ///< anything
  REF_INT,      ///< -?[0-9]+ within int64, then within [lo, hi]
  REF_ID,       ///< a positive int64, optionally followed by '.' and zeros
  REF_DEC,      ///< -?([0-9]+(.[0-9]*)?|.[0-9]+), finite as a double
  REF_DATE,     ///< YYYY-MM-DD, a real date
  REF_DATETIME, ///< YYYY-MM-DD HH:MM:SS, a real date and time
  REF_ENUM      ///< exactly one of the bytes of `chars`
};

typedef struct {
  const char *name; ///< header name
  int type;
  int optional;     ///< an empty value is fine (else "empty required value")
  int64_t lo, hi;   ///< REF_INT range (lo > hi: none)
  const char *chars;///< REF_ENUM
} csvref_col;

typedef struct {
  int ncols;
  csvref_col col[16]; ///< checked in this order, as the converter does
} csvref_schema;

/// One outcome, in line order.
typedef struct {
  int kind;          ///< REF_ROW, REF_REJECT
  int64_t line;      ///< its first physical line
  int64_t lines;     ///< physical lines (rows)
  int nf;            ///< fields (rows)
  char **field;      ///< the field values (rows), NUL-terminated copies
  size_t *flen;      ///< their lengths
  char *raw;         ///< rejects: the first line's text without its line end
  size_t rawlen;
  char reason[256];  ///< rejects
  int64_t offset;    ///< byte offset of the first line
} csvref_rec;
enum { REF_ROW = 1, REF_REJECT = 2 };

typedef struct {
  csvref_rec *rec;
  int64_t n, cap;
  int64_t lines, blank, read, rejected, cont;
  int nh;            ///< header fields
  char error[256];   ///< a whole-file error (bad header), else ""
} csvref_result;

/// Reads buf[0..n) (a whole file). Returns 0, or 1 with result->error set.
int csvref_read(const char *buf, size_t n, const csvref_schema *schema, int64_t max_lines, csvref_result *result);
void csvref_free(csvref_result *result);
/// Appends a zeroed record to result (for harnesses that write results in
/// this form, such as tests/unit/csv_sim.c).
csvref_rec *csvref_add(csvref_result *result);

#endif
