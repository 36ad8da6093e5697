/* csv.h: CSV and value parsing as pure functions over byte buffers.
 *
 * No I/O, no MPI, no globals, no allocation: every function reads the
 * bytes it is given and writes only through its out-parameters, so each
 * is easy to unit-test and to fuzz (libFuzzer harnesses call these).
 *
 * Record boundaries are not found here: a quoted field may hold newlines,
 * and where records begin is csvrec.h's business (the RFC 4180 state
 * machine, DATA.md 7). This file splits one record into fields and parses
 * values.
 *
 * Fields (RFC 4180, read as Python's csv module with strict=True): only a
 * field whose first byte is '"' is quoted; inside it '""' is one '"' and
 * anything else (commas, newlines, '\r') is data; its closing quote must be
 * followed by ',' or the end of the record. A '"' anywhere else in an
 * unquoted field is an ordinary byte. A '\r' in an unquoted field is
 * malformed (the '\r's of a line end are not part of the record).
 */
#ifndef SEGCAST_CSV_H
#define SEGCAST_CSV_H

#include <stddef.h>
#include <stdint.h>

/// Result codes of the parsers (0 = ok). csv_error_text() names each one
/// in words fit for rejects.csv ("unclosed quote", ...).
typedef enum {
  CSV_OK = 0,
  CSV_E_UNCLOSED_QUOTE,   ///< a quote left open at the end of the record/file
  CSV_E_AFTER_QUOTE,      ///< a closing quote followed by something other than ',' (e.g. "1"x)
  CSV_E_FIELD_COUNT,      ///< more or fewer fields than the header
  CSV_E_UTF8,             ///< invalid UTF-8
  CSV_E_NUL,              ///< a NUL byte
  CSV_E_EMPTY,            ///< a required value is empty
  CSV_E_INTEGER,          ///< not an integer (-?[0-9]+)
  CSV_E_ID,               ///< not a positive id (digits, optionally .0+)
  CSV_E_DECIMAL,          ///< not a decimal number
  CSV_E_DATE,             ///< not a real date in the expected format
  CSV_E_RANGE,            ///< a value outside its stated range
  CSV_E_CR,               ///< a '\r' outside quotes that is not part of the line end
  CSV_E_LONG_RECORD,      ///< a quoted field still open after input.max_record_lines lines
  CSV_E_COUNT             ///< number of codes
} csv_code;

/// Words for a code, e.g. "bad number".
const char *csv_error_text(csv_code c);

/// A field: points into the record, or into the caller's scratch buffer
/// when unquoting changed it.
typedef struct {
  const char *p;
  uint32_t len;
} csv_field;

/// Number of '\n' bytes in buf[0..n) (8-bit counters per 255-byte block,
/// vectorised by the compiler): line numbers of block starts.
uint64_t csv_newlines(const char *buf, size_t n);
/// The '"' and '\n' bytes of buf[0..n) in one pass: a block without
/// quotes holds no opener (csvrec.h), so its scan can be skipped.
void csv_count(const char *buf, size_t n, uint64_t *quotes, uint64_t *newlines);

/// Splits one record rec[0..len) (without its line end) into at most
/// max_fields fields. Unquoted content is written to scratch (capacity >=
/// len). *nfields gets the count found (it may exceed max_fields: counting
/// continues, fields beyond are not stored). Returns CSV_OK,
/// CSV_E_UNCLOSED_QUOTE / CSV_E_AFTER_QUOTE (the first quoting error), or
/// CSV_E_CR when there is no quoting error but an unquoted field holds a
/// '\r' (the fields are then all found).
csv_code csv_split(const char *rec, size_t len, csv_field *fields, int max_fields, int *nfields, char *scratch);

/// csv_plain_record's answer for a record it leaves to the functions above.
#define CSV_NOT_PLAIN ((size_t)-1)

/// 64 bytes of a buffer from offset base, classified: bit k of each mask
/// is byte base + k (',', '\n', '"', and NUL, '\r' or >= 0x80). Carried from one
/// record to the next, so short records share one classification; zero-
/// initialise it (valid = 0) for a new buffer.
typedef struct {
  size_t base;
  uint64_t comma, nl, quote, odd;
  int valid;
} csv_window;

/// The common record in one pass over its bytes, 64 at a time: when the
/// record that starts at buf[pos] is one line with no quote, no NUL, no
/// byte >= 0x80 and no '\r' but those of its line end, splits it at its
/// commas as csv_split would (fields point into buf), sets *len to its
/// length without the line end ('\n' and the '\r's before it) and returns
/// the offset of its '\n' (or of the end n) from pos. Otherwise returns
/// CSV_NOT_PLAIN and the record needs csv_split and csv_check_text.
/// *nfields counts every field; at most max_fields are stored. Reads
/// buf[0..n) only. A new window starts at the 64-byte boundary at or
/// before buf + pos when that lies in the buffer: its four 16-byte loads
/// then stay in one cache line (a window across two lines made the
/// tokenizer 10 % slower on file data coming from memory).
size_t csv_plain_record(const char *buf, size_t n, size_t pos, csv_window *w, csv_field *fields, int max_fields,
                        int *nfields, size_t *len);

/// CSV_OK when buf is valid UTF-8 without NUL bytes; else CSV_E_UTF8 or
/// CSV_E_NUL. ASCII runs are checked a word at a time.
csv_code csv_check_text(const char *buf, size_t n);

/// Integer: -?[0-9]+, no '+', no spaces; overflow is CSV_E_INTEGER.
csv_code parse_i64(const char *p, size_t n, int64_t *out);
/// Id: a positive integer, optionally followed by '.' and one or more '0'
/// (17850.0). 0, negatives, "17850." and spaces are CSV_E_ID.
csv_code parse_id(const char *p, size_t n, int64_t *out);
/// Decimal: -?([0-9]+(\.[0-9]*)?|\.[0-9]+), correctly rounded to double.
csv_code parse_decimal(const char *p, size_t n, double *out);

/// q x the decimal text p[0..n) (already accepted by parse_decimal as v),
/// computed exactly and rounded once: 3 x "0.1" is the double nearest
/// 0.3, where 3.0 * 0.1 is 0.30000000000000004. Falls back to q * v when
/// the product needs more than 53 bits. A zero product is +0.0.
double decimal_times(int64_t q, const char *p, size_t n, double v);
/// parse_decimal and decimal_times of the same text in one call (one scan
/// of the digits in the common case): the same codes and the same bits.
/// value may be NULL when only the product is wanted (it saves a division).
csv_code parse_decimal_times(const char *p, size_t n, int64_t q, double *value, double *times);

/// llround(x) for |x| < 2^63, inline (no libm call): x less its integer
/// part is exact, so the half-way test is too (halves round away from zero).
static inline int64_t round_half_away(double x) {
  int64_t t = (int64_t)x;
  double f = x - (double)t;
  return t + (f >= 0.5) - (f <= -0.5);
}

/// Decimal columns stored as integers (the store's exact encoding of
/// prices and amounts): the fewest places k (0..DECIMAL_MAX_PLACES) such
/// that every v[i] is bit for bit (double)llround(v[i] x 10^k) / 10^k,
/// or -1 when there is none (NaN, -0.0, |v| x 10^k >= 2^53, 1/3 ...).
/// With out (may be NULL), out[i] gets llround(v[i] x 10^k): the values
/// packed in the same pass.
#define DECIMAL_MAX_PLACES 9
int decimal_places(const double *v, int64_t n, int64_t *out);
/// out[i] = llround(v[i] x 10^k); 1 when every value comes back exactly.
int decimal_pack(const double *v, int64_t n, int k, int64_t *out);
/// out[i] = in[i] / 10^k (in and out may be the same memory).
void decimal_unpack(const int64_t *in, int64_t n, int k, double *out);

/// Days since 1970-01-01 of a proleptic Gregorian date (any year).
int32_t days_from_civil(int y, int m, int d);
/// Inverse of days_from_civil.
void civil_from_days(int32_t z, int *y, int *m, int *d);
/// Writes the ISO date "YYYY-MM-DD" of a day number into buf (11 bytes,
/// NUL-terminated; 4-digit years); returns buf. The one date formatter
/// of every output.
char *format_date(int32_t day, char *buf);
/// Date "YYYY-MM-DD" (a real date) -> days since epoch.
csv_code parse_date(const char *p, size_t n, int32_t *day);
/// Timestamp "YYYY-MM-DD HH:MM:SS" (real date, 00-23:00-59:00-59) ->
/// day and seconds since midnight.
csv_code parse_datetime(const char *p, size_t n, int32_t *day, int32_t *sec);

/// The last date one reader parsed: files in time order repeat the previous
/// row's date, and a repeat costs a 10-byte compare instead of a parse.
/// Zero-initialise; one per thread and column.
typedef struct {
  uint64_t head;
  uint16_t tail;
  int valid;
  int32_t day;
} csv_date_memo;

/// parse_date and parse_datetime through a memo: the same results and
/// codes, the date part of a repeated text taken from the memo.
csv_code parse_date_memo(csv_date_memo *m, const char *p, size_t n, int32_t *day);
csv_code parse_datetime_memo(csv_date_memo *m, const char *p, size_t n, int32_t *day, int32_t *sec);
/// Online Retail's "M/D/YYYY H:MM" (one or two digits for M, D, H) or
/// "YYYY-MM-DD HH:MM:SS" -> day and seconds.
csv_code parse_retail_datetime(const char *p, size_t n, int32_t *day, int32_t *sec);
/// Transactions dates: "YYYY-MM-DD", "YYYY-MM-DD HH:MM:SS" or "YYYYMMDD".
csv_code parse_any_date(const char *p, size_t n, int32_t *day, int32_t *sec);

/* Additions (after the first contract; additive only).
 *
 * Every parse_* function above returns CSV_E_EMPTY for an empty value
 * (n == 0), so a caller can map any parser's code to its reject reason
 * with csv_error_text() directly. Dates accept any 4-digit year
 * (0000-9999); parse_decimal returns CSV_E_DECIMAL for a value too large
 * for a finite double (more than about 309 integer digits). */

/// Length (1-4) of the valid UTF-8 sequence starting at p[0] (n > 0
/// bytes available), or 0 when p[0] starts none or is a NUL byte. A byte
/// for which this is 0 is the one rejects.csv writes as \xNN.
int csv_utf8_len(const char *p, size_t n);

/// Capacity csv_quote_raw needs for n input bytes.
#define CSV_QUOTE_RAW_MAX(n) (4 * (size_t)(n) + 2)
/// Writes src[0..n) as one quoted CSV field for rejects.csv's raw column:
/// '"' + text + '"', a '"' doubled, each byte that is not part of a valid
/// UTF-8 sequence (NUL included) written as \xNN (uppercase hex). dst
/// needs CSV_QUOTE_RAW_MAX(n) bytes; returns the bytes written (no NUL).
size_t csv_quote_raw(char *dst, const char *src, size_t n);

#endif
