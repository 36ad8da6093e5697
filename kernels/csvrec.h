/* csvrec.h: where CSV records begin and end, by the RFC 4180 state machine.
 *
 * DATA.md 7 reads quotes as Python's csv module with strict=True does: only
 * a field whose first byte is '"' is a quoted field; anywhere else '"' is an
 * ordinary byte. A quoted field may hold newlines, so one record may span
 * several physical lines, and a record that cannot be read (a quoting
 * error, or malformed for any reason of DATA.md 2) costs only its first
 * physical line: reading resumes at the next line. So where records begin
 * depends on what came before only through quoted newlines, and quote
 * parity says nothing about it (a stray '"' in an unquoted field toggles
 * parity but not the state).
 *
 * The reader's steps, each a pure function over a byte buffer:
 *
 *  1. scan (csvrec_scan; per block, blocks in parallel). An *opener* is a
 *     physical line that, read from its first byte as a record, ends inside
 *     a quoted field. The lines after an opener are read inside the quoted
 *     field until the first one where the quoted context ends: the record
 *     closes at its end, or it holds a quoting error (a *stopper*), or the
 *     file ends, or input.max_record_lines pass. That stretch is the
 *     opener's *candidate*. Lines without '"' are skipped at memchr speed
 *     (they are neither openers nor stoppers) and openers whose candidates
 *     overlap share one stopper, found in the same forward pass: the scan is
 *     linear in the bytes whatever the input. The same pass notes each
 *     candidate's first invalid UTF-8 or NUL byte, stray '\r' and field
 *     count, which is all a check needs for most malformed candidates.
 *  2. check (csvrec_check; per opener, in parallel): is the candidate one
 *     well-formed row? The checks and their order are a one-line record's:
 *     quoting, UTF-8 / NUL, CR outside quotes, field count, then the
 *     converter's values (called with row.check set: it parses but stores
 *     nothing).
 *  3. resolve (csvrec_resolve; sequential, but over openers only). From a
 *     known record start, openers are taken in order: one inside the span of
 *     an accepted multi-line record is a continuation line (COVERED); any
 *     other is a record start, a RECORD when its candidate is a row (its
 *     lines are read as one), else a REJECT (its first line alone is
 *     rejected). Every line that is not an opener and not covered is a
 *     record of one line. This is exactly the sequential reader's chain,
 *     whatever the cut: a rank resolves its own openers from its entry, and
 *     its exit (the first record start at or after its last byte) is the
 *     next rank's entry; csvrec_start gives the first record start at or
 *     after any line start, where threads begin.
 *  4. read (csvrec_read_range; per thread): the records of [start, stop),
 *     which tile it exactly: plain one-line records through
 *     csv_plain_record, others split by csv_split, each handed to the
 *     converter; the lines are accounted as blank, first lines of rows and
 *     continuation lines.
 *
 * Rules chosen where DATA.md is silent (docs/ingest.md): the line end is
 * '\n' with every '\r' directly before it (or before the end of the file)
 * when that is outside a quoted field; inside a quoted field the bytes are
 * the value as they are, a CRLF included. A line of nothing but a line end
 * is blank. A rejected record of several lines is reported with its
 * reason and " across N lines".
 */
#ifndef SEGCAST_CSVREC_H
#define SEGCAST_CSVREC_H

#include <stddef.h>
#include <stdint.h>

#include "csv.h"

/// csvrec_line_scan's answer for one physical line.
enum {
  CSVREC_LINE_END = 0,  ///< the line ends outside a quoted field
  CSVREC_LINE_OPEN = 1, ///< the line ends inside a quoted field
  CSVREC_LINE_ERR = 2   ///< a closing quote followed by something other than ',' or the line end
};

/// Reads one physical line p[0..n) (without its '\n'; '\r's before it
/// included) from its first byte as a record start (in_quote 0) or inside
/// a quoted field (in_quote 1). *seps gets the field separators (commas
/// outside quotes) met before the line's end or its error; *cr is 1 when a
/// '\r' outside quotes is not part of the line end.
int csvrec_line_scan(const char *p, size_t n, int in_quote, int64_t *seps, int *cr);

/// What ends an opener's candidate.
enum {
  CSVREC_CLOSED = 0,     ///< the record closes at the end of a line: a candidate row
  CSVREC_AFTER_QUOTE = 1,///< a quoting error on a line of it
  CSVREC_EOF = 2,        ///< the file ends inside the quoted field
  CSVREC_LONG = 3        ///< still open after max_lines lines
};

/// What an opener turned out to be (csvrec_resolve).
enum { CSVREC_UNKNOWN = 0, CSVREC_RECORD, CSVREC_REJECT, CSVREC_COVERED };

/// One opener and its candidate.
typedef struct {
  int64_t off;    ///< offset of the opener line's first byte
  int64_t line;   ///< newlines between the scan's `from` and off
  int64_t end;    ///< CLOSED: offset just past the candidate's last line ('\n' or end of buffer)
  int64_t lines;  ///< physical lines of the candidate (LONG: max_lines + 1)
  int64_t fields; ///< CLOSED: fields of the candidate (separators + 1)
  int32_t code;   ///< csvrec_check's result: CSV_OK, or why the candidate is not a row
  int32_t nf;     ///< the fields the check's split found (for the field count reason)
  int16_t bad;    ///< the converter's wanted column at fault, or -1
  int8_t text;    ///< the candidate's first text error (invalid UTF-8, NUL) or CSV_OK
  uint8_t cr;     ///< 1: a '\r' outside quotes that is not part of a line end
  uint8_t status; ///< CSVREC_CLOSED ... CSVREC_LONG
  uint8_t fate;   ///< CSVREC_UNKNOWN until csvrec_resolve
} csvrec_opener;

/// A growable array of openers, in offset order.
typedef struct {
  csvrec_opener *v;
  size_t n, cap;
} csvrec_openers;

/// Appends the openers among the lines that start in [from, to) to out
/// (a line starts at 0 or just after a '\n'; from need not be a line
/// start). Candidates may run past `to`, up to n. Returns 0, or -1 when out
/// of memory. Linear in the bytes it reads.
int csvrec_scan(const char *buf, size_t n, size_t from, size_t to, int64_t max_lines, csvrec_openers *out);
void csvrec_openers_free(csvrec_openers *o);

/// The extent of the one record that starts at buf[0] (a line start), as
/// the sequential reader reads it before checking it: *end gets the offset
/// just past its last line, *lines its physical lines; returns
/// CSVREC_CLOSED or the quoting error (then *end is past the first line).
/// Returns -1 when out of memory.
int csvrec_extent(const char *buf, size_t n, int64_t max_lines, int64_t *end, int64_t *lines);

/// Length of a line or record's text without its line end: the '\n' at
/// p[n - 1] (if any) and every '\r' directly before it.
size_t csvrec_text_len(const char *p, size_t n);

/* ---- rows: what the converters see ---- */

/// One record handed to a converter.
typedef struct {
  const csv_field *f; ///< all fields of the record
  int nf;             ///< how many (the header's count: other records are rejected first)
  const int *idx;     ///< idx[c] = field index of wanted column c, or -1
  int64_t line;       ///< physical line number of the record's start
  int64_t offset;     ///< byte offset of the record in the file
  int tid;            ///< OpenMP thread number (for per-thread outputs)
  int check;          ///< 1: only say whether the row is valid; store nothing
} csv_row;

/// Parses one record. Returns CSV_OK, or a csv_code with *bad_col set to
/// the wanted column at fault (or -1 for a record-level reason). With
/// row->check set it must give the same answer and have no effect.
typedef csv_code (*csv_convert)(void *ctx, const csv_row *row, int *bad_col);

/// What a file's records are read against.
typedef struct {
  const char *buf;               ///< the whole file
  size_t n;                      ///< its length
  int nh;                        ///< fields in the header
  const int *idx;                ///< wanted column -> field index (-1: absent)
  const char *const *col_names;  ///< wanted column -> its header name (for reasons)
  int64_t max_lines;             ///< input.max_record_lines
  csv_convert conv;
  void *ctx;
} csvrec_file;

/// A thread's working memory: field array and unquoting scratch, grown on
/// demand. Zero-initialise; csvrec_scratch_free when done.
typedef struct {
  csv_field *fld;
  int fcap;
  char *buf;
  size_t cap;
} csvrec_scratch;
void csvrec_scratch_free(csvrec_scratch *s);

/// Step 2 for one opener: sets o->code (CSV_OK when the candidate is a
/// row), o->bad and o->nf. Returns 0, or -1 when out of memory.
int csvrec_check(const csvrec_file *f, csvrec_opener *o, int tid, csvrec_scratch *s);

/// Step 3: the fates of o[0..n) for a reader that starts at the record
/// start `entry` (openers before it are COVERED). Returns the end of the
/// last record it accepts, or entry: the first record start at or after
/// every opener's line.
int64_t csvrec_resolve(csvrec_opener *o, size_t n, int64_t entry);

/// The first record start at or after the line start x (x >= entry), given
/// resolved openers: x, or the end of the accepted record that spans x.
int64_t csvrec_start(const csvrec_opener *o, size_t n, int64_t entry, int64_t x);

/// Index of the first opener with off >= x.
size_t csvrec_lower_bound(const csvrec_opener *o, size_t n, int64_t x);

/// The line accounting of DATA.md 7 for a range of records.
typedef struct {
  int64_t blank;    ///< lines of nothing but a line end
  int64_t read;     ///< rows: records that are not blank (loaded + rejected)
  int64_t rejected; ///< rows rejected here
  int64_t cont;     ///< continuation lines of rows read as one record
} csvrec_counts;

/// Called for a malformed row: its first line's number, the reason in
/// words (rejects.csv's reason) and its raw text. Returns 0, or -1 to stop.
typedef int (*csvrec_reject_fn)(void *ctx, int tid, int64_t line, const char *reason, const char *raw, size_t len);

/// Words for a reject: csv_error_text, "<text> in <column>", the field
/// count "(nf, header has nh)", max_lines for a long record, and
/// " across N lines" for a record of N > 1 lines. At most 200 bytes.
void csvrec_reason(char *buf, size_t cap, csv_code c, const char *col, int nf, int nh, int64_t lines,
                   int64_t max_lines);

/// Return codes of csvrec_read_range beyond 0.
enum { CSVREC_ENOMEM = -1, CSVREC_EINCONSISTENT = -2, CSVREC_EREJECT = -3 };

/// Step 4: reads the records of [start, stop) (start a record start, stop
/// the next range's) whose first line is number `line`, with the resolved
/// openers o[0..no), into the converter; malformed rows go to rej. Adds to
/// *cnt. Returns 0, or a CSVREC_E* code: CSVREC_EINCONSISTENT when the
/// steps disagree with each other (a bug, never a silent result).
int csvrec_read_range(const csvrec_file *f, const csvrec_opener *o, size_t no, int64_t start, int64_t stop,
                      int64_t line, int tid, csvrec_reject_fn rej, void *rctx, csvrec_counts *cnt,
                      csvrec_scratch *s);

#endif
