/* test_csv.c: unit tests of kernels/csv.c against DATA.md section 7.
 *
 * Every expected value comes from outside the kernel: hand-written cases
 * from the rules, a decode-then-check UTF-8 validator, glibc's strtod (exact
 * on strings of any length) for decimals, and glibc's timegm plus a naive
 * day-by-day calendar walk for dates. Random inputs come from a fixed-seed
 * splitmix64, so a failure reproduces.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv.h"
#include "test_rng.h"

/* ---- helpers ---- */

/// Parser over a C string (the common case in these tests).
#define S(str) (str), strlen(str)

static csv_code i64(const char *s, int64_t *v) { return parse_i64(S(s), v); }
static csv_code id(const char *s, int64_t *v) { return parse_id(S(s), v); }
static csv_code dec(const char *s, double *v) { return parse_decimal(S(s), v); }

/// Bitwise equality of doubles (so -0.0 != 0.0 and the last bit counts).
static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* ---- error words ---- */

static void test_error_text(void) {
  static const char *const want[] = {
      "ok", "unclosed quote", "text after closing quote", "wrong field count", "invalid UTF-8",
      "NUL byte", "empty required value", "bad integer", "bad id", "bad number", "bad date",
      "value out of range", "carriage return outside quotes", "record longer than input.max_record_lines"};
  CU_ASSERT_EQUAL(sizeof want / sizeof want[0], CSV_E_COUNT);
  for (int c = 0; c < CSV_E_COUNT; c++) CU_ASSERT_STRING_EQUAL(csv_error_text((csv_code)c), want[c]);
  CU_ASSERT_STRING_EQUAL(csv_error_text(CSV_E_COUNT), "unknown error");
}

/* ---- counting ---- */

static void test_newlines(void) {
  rng r = {1};
  enum { N = 70000 };
  char *buf = malloc(N);
  static const char alphabet[] = "\"\n,a\r\xC3";
  for (size_t i = 0; i < N; i++) buf[i] = alphabet[rng_below(&r, sizeof alphabet - 1)];
  CU_ASSERT_EQUAL(csv_newlines(buf, 0), 0);
  int bad = 0;
  for (size_t off = 0; off < 300; off += 7)
    for (size_t n = 0; off + n <= N; n += 997) {
      uint64_t want = 0;
      for (size_t i = off; i < off + n; i++) want += buf[i] == '\n';
      if (csv_newlines(buf + off, n) != want) bad++;
    }
  CU_ASSERT_EQUAL(bad, 0);
  free(buf);
}

/// A quoted multi-megabyte field full of "" escapes: the split must stay
/// linear (this would take minutes if it rescanned).
static void test_split_long_field(void) {
  size_t n = 6u << 20;
  char *buf = malloc(n + 8);
  size_t k = 0;
  buf[k++] = '"';
  while (k < n - 4) {
    buf[k++] = '"';
    buf[k++] = '"';
    buf[k] = (k % 1000 == 0) ? '\n' : 'x';
    k++;
  }
  buf[k++] = '"';
  int nf = 0;
  csv_field f[2];
  char *scratch = malloc(k);
  CU_ASSERT_EQUAL(csv_split(buf, k, f, 2, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 1);
  CU_ASSERT(f[0].len == (k - 2) / 3 * 2 && f[0].p == scratch);
  free(scratch);
  free(buf);
}

/* ---- fields ---- */

static int split(const char *rec, csv_field *f, int max, int *nf, char *scratch) {
  return csv_split(rec, strlen(rec), f, max, nf, scratch);
}

static int field_is(const csv_field *f, const char *want) {
  return f->len == strlen(want) && memcmp(f->p, want, f->len) == 0;
}

static void test_split_cases(void) {
  csv_field f[8];
  char scratch[256];
  int nf;
  CU_ASSERT_EQUAL(split("a,bb,,ccc", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 4);
  CU_ASSERT(field_is(&f[0], "a") && field_is(&f[1], "bb") && field_is(&f[2], "") &&
            field_is(&f[3], "ccc"));
  CU_ASSERT_EQUAL(split("", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 1 && field_is(&f[0], ""));
  CU_ASSERT_EQUAL(split("a,", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 2 && field_is(&f[1], ""));
  CU_ASSERT_EQUAL(split(",", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 2);
  /* Quoted commas and newlines; an unchanged quoted field points into the record. */
  const char *rec = "1,\"BOX, RED\",\"two\nlines\",x";
  CU_ASSERT_EQUAL(split(rec, f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 4);
  CU_ASSERT(field_is(&f[1], "BOX, RED") && f[1].p == rec + 3);
  CU_ASSERT(field_is(&f[2], "two\nlines"));
  CU_ASSERT(field_is(&f[3], "x"));
  /* "" escapes go through scratch. */
  CU_ASSERT_EQUAL(split("\"12\"\" RULER\",\"\"\"\",\"\",\"a\"\"\"", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 4);
  CU_ASSERT(field_is(&f[0], "12\" RULER") && f[0].p >= scratch && f[0].p < scratch + sizeof scratch);
  CU_ASSERT(field_is(&f[1], "\""));
  CU_ASSERT(field_is(&f[2], ""));
  CU_ASSERT(field_is(&f[3], "a\""));
  /* Malformed quoting. */
  CU_ASSERT_EQUAL(split("\"1\"x,2", f, 8, &nf, scratch), CSV_E_AFTER_QUOTE);
  CU_ASSERT_EQUAL(split("a,\"1\" ,2", f, 8, &nf, scratch), CSV_E_AFTER_QUOTE);
  CU_ASSERT_EQUAL(split("a,\"1\"\"x", f, 8, &nf, scratch), CSV_E_UNCLOSED_QUOTE);
  CU_ASSERT_EQUAL(split("a,\"open", f, 8, &nf, scratch), CSV_E_UNCLOSED_QUOTE);
  CU_ASSERT_EQUAL(split("\"", f, 8, &nf, scratch), CSV_E_UNCLOSED_QUOTE);
  CU_ASSERT_EQUAL(split("a,\"\"\"", f, 8, &nf, scratch), CSV_E_UNCLOSED_QUOTE);
  /* A '"' that does not open a field is an ordinary byte (DATA.md 7). */
  CU_ASSERT_EQUAL(split("a,b\"c,d", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 3 && field_is(&f[1], "b\"c"));
  CU_ASSERT_EQUAL(split("12\" VINYL,x", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 2 && field_is(&f[0], "12\" VINYL") && f[0].p < scratch);
  CU_ASSERT_EQUAL(split("a, \"b\"", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 2 && field_is(&f[1], " \"b\""));
  CU_ASSERT_EQUAL(split("a,b\"", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 2 && field_is(&f[1], "b\""));
  /* A '\r' in an unquoted field is malformed, found after every field
   * (a quoting error later in the record wins); in quotes it is data. The
   * line end's '\r's are the caller's to remove. */
  CU_ASSERT_EQUAL(split("a,b\r", f, 8, &nf, scratch), CSV_E_CR);
  CU_ASSERT(nf == 2 && field_is(&f[1], "b\r"));
  CU_ASSERT_EQUAL(split("a\rb,c,d", f, 8, &nf, scratch), CSV_E_CR);
  CU_ASSERT(nf == 3 && field_is(&f[0], "a\rb") && field_is(&f[2], "d"));
  CU_ASSERT_EQUAL(split("\r,\"x\"y", f, 8, &nf, scratch), CSV_E_AFTER_QUOTE);
  CU_ASSERT_EQUAL(split("\"a\rb\",\"\r\"", f, 8, &nf, scratch), CSV_OK);
  CU_ASSERT(nf == 2 && field_is(&f[0], "a\rb") && field_is(&f[1], "\r"));
  CU_ASSERT_EQUAL(split("a,\"b\"\r", f, 8, &nf, scratch), CSV_E_AFTER_QUOTE);
  /* More fields than room: all are counted, only max_fields stored. */
  f[2].p = NULL;
  CU_ASSERT_EQUAL(split("1,2,3,4,5", f, 2, &nf, scratch), CSV_OK);
  CU_ASSERT_EQUAL(nf, 5);
  CU_ASSERT(field_is(&f[0], "1") && field_is(&f[1], "2") && f[2].p == NULL);
  /* A quoting error beyond max_fields is still found. */
  CU_ASSERT_EQUAL(split("1,2,3,\"4\"x", f, 2, &nf, scratch), CSV_E_AFTER_QUOTE);
}

static void test_split_random(void) {
  rng r = {11};
  enum { MAXF = 12, MAXLEN = 20 };
  static const char alphabet[] = "ab,\"\n \xC3\xA9";
  int bad = 0;
  for (int round = 0; round < 20000 && !bad; round++) {
    char want[MAXF][MAXLEN + 1];
    size_t wlen[MAXF];
    int nfields = 1 + (int)rng_below(&r, MAXF);
    char rec[MAXF * (2 * MAXLEN + 3)];
    size_t n = 0;
    for (int f = 0; f < nfields; f++) {
      wlen[f] = rng_below(&r, MAXLEN + 1);
      int needs_quotes = 0;
      for (size_t k = 0; k < wlen[f]; k++) {
        char c = alphabet[rng_below(&r, sizeof alphabet - 1)];
        want[f][k] = c;
        if (c == ',' || c == '"' || c == '\n') needs_quotes = 1;
      }
      if (f) rec[n++] = ',';
      if (needs_quotes || rng_below(&r, 4) == 0) {
        rec[n++] = '"';
        for (size_t k = 0; k < wlen[f]; k++) {
          if (want[f][k] == '"') rec[n++] = '"';
          rec[n++] = want[f][k];
        }
        rec[n++] = '"';
      } else {
        memcpy(rec + n, want[f], wlen[f]);
        n += wlen[f];
      }
    }
    csv_field got[MAXF];
    char scratch[sizeof rec];
    int nf = -1;
    if (csv_split(rec, n, got, MAXF, &nf, scratch) != CSV_OK || nf != nfields) {
      bad = 1;
      break;
    }
    for (int f = 0; f < nfields; f++)
      if (got[f].len != wlen[f] || memcmp(got[f].p, want[f], wlen[f]) != 0) bad = 2;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

/* ---- UTF-8 ---- */

/// Reference: decode a code point, then reject overlongs, surrogates and
/// values above U+10FFFF. Returns the sequence length or 0.
static int ref_utf8_len(const unsigned char *b, size_t n) {
  if (n == 0 || b[0] == 0) return 0;
  if (b[0] < 0x80) return 1;
  int len;
  uint32_t cp;
  if ((b[0] & 0xE0) == 0xC0) {
    len = 2;
    cp = b[0] & 0x1F;
  } else if ((b[0] & 0xF0) == 0xE0) {
    len = 3;
    cp = b[0] & 0x0F;
  } else if ((b[0] & 0xF8) == 0xF0) {
    len = 4;
    cp = b[0] & 0x07;
  } else {
    return 0;
  }
  if ((size_t)len > n) return 0;
  for (int k = 1; k < len; k++) {
    if ((b[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b[k] & 0x3F);
  }
  static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

static csv_code ref_check_text(const char *buf, size_t n) {
  const unsigned char *b = (const unsigned char *)buf;
  for (size_t i = 0; i < n;) {
    if (b[i] == 0) return CSV_E_NUL;
    int len = ref_utf8_len(b + i, n - i);
    if (!len) return CSV_E_UTF8;
    i += (size_t)len;
  }
  return CSV_OK;
}

static csv_code check(const char *s) { return csv_check_text(s, strlen(s)); }

static void test_utf8_cases(void) {
  CU_ASSERT_EQUAL(check(""), CSV_OK);
  CU_ASSERT_EQUAL(check("plain ASCII, with \"quotes\"\r\n\x7F"), CSV_OK);
  CU_ASSERT_EQUAL(check("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), CSV_OK); /* é € 😀 */
  CU_ASSERT_EQUAL(check("\xC2\x80 \xDF\xBF"), CSV_OK);                     /* U+0080, U+07FF */
  CU_ASSERT_EQUAL(check("\xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF"), CSV_OK);
  CU_ASSERT_EQUAL(check("\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF"), CSV_OK); /* U+10000, U+10FFFF */
  CU_ASSERT_EQUAL(check("\xEF\xBB\xBFInvoiceNo"), CSV_OK);            /* a BOM is valid text */
  /* Overlongs. */
  CU_ASSERT_EQUAL(check("\xC0\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xC0\xAF"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xC1\xBF"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xE0\x80\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xE0\x9F\xBF"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xF0\x80\x80\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xF0\x8F\xBF\xBF"), CSV_E_UTF8);
  /* Surrogates. */
  CU_ASSERT_EQUAL(check("\xED\xA0\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xED\xBF\xBF"), CSV_E_UTF8);
  /* Above U+10FFFF, and bytes that never occur. */
  CU_ASSERT_EQUAL(check("\xF4\x90\x80\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xF5\x80\x80\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xF8\x88\x80\x80\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xFF"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xFE"), CSV_E_UTF8);
  /* Truncated sequences, at the end and before ASCII. */
  CU_ASSERT_EQUAL(check("abc\xC3"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("abc\xE2\x82"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("abc\xF0\x9F\x98"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xE2\x82x"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("\xC3,"), CSV_E_UTF8);
  /* Lone continuation bytes; Latin-1 text. */
  CU_ASSERT_EQUAL(check("\x80"), CSV_E_UTF8);
  CU_ASSERT_EQUAL(check("caf\xE9"), CSV_E_UTF8);
  /* NUL, and which error comes first. */
  CU_ASSERT_EQUAL(csv_check_text("a\0b", 3), CSV_E_NUL);
  CU_ASSERT_EQUAL(csv_check_text("\0", 1), CSV_E_NUL);
  CU_ASSERT_EQUAL(csv_check_text("\xFF\0", 2), CSV_E_UTF8);
  CU_ASSERT_EQUAL(csv_check_text("\0\xFF", 2), CSV_E_NUL);
}

/// One bad byte at every position of a long ASCII buffer (so at every
/// place inside and across the 32-byte fast blocks), and a long valid
/// mixed buffer checked against the reference.
static void test_utf8_positions(void) {
  enum { N = 300 };
  char buf[N];
  int bad = 0;
  static const char *const faults[] = {"\0", "\xFF", "\xC3", "\xE2\x82", "\xED\xA0\x80"};
  static const size_t fault_len[] = {1, 1, 1, 2, 3};
  static const csv_code fault_code[] = {CSV_E_NUL, CSV_E_UTF8, CSV_E_UTF8, CSV_E_UTF8, CSV_E_UTF8};
  for (int f = 0; f < 5; f++) {
    for (size_t pos = 0; pos + fault_len[f] <= N; pos++) {
      memset(buf, 'a', N);
      memcpy(buf + pos, faults[f], fault_len[f]);
      if (csv_check_text(buf, N) != fault_code[f]) bad++;
      /* Cut just after the fault: the error is still found at the edge. */
      if (csv_check_text(buf, pos + fault_len[f]) != fault_code[f]) bad++;
      if (csv_check_text(buf, pos) != CSV_OK) bad++;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  /* Random bytes biased to UTF-8-like sequences, against the reference. */
  rng r = {3};
  static const unsigned char pool[] = {'a', ',', '"', '\n', 0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                       0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                       0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  for (int round = 0; round < 200000; round++) {
    size_t n = rng_below(&r, 12);
    unsigned char b[12];
    for (size_t k = 0; k < n; k++) b[k] = pool[rng_below(&r, sizeof pool)];
    if (csv_check_text((const char *)b, n) != ref_check_text((const char *)b, n)) bad++;
    if (n && csv_utf8_len((const char *)b, n) != ref_utf8_len(b, n)) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
  /* Every 1-4 byte sequence of lead bytes C0..FF with continuation-range
   * bytes, exhaustively for the second byte. */
  for (unsigned lead = 0x80; lead <= 0xFF; lead++) {
    for (unsigned second = 0; second <= 0xFF; second++) {
      unsigned char b[4] = {(unsigned char)lead, (unsigned char)second, 0x80, 0xBF};
      for (size_t n = 1; n <= 4; n++)
        if (csv_utf8_len((const char *)b, n) != ref_utf8_len(b, n)) bad++;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_quote_raw(void) {
  char out[64];
  size_t n = csv_quote_raw(out, S("536365,\"A, B\",x"));
  CU_ASSERT(n == strlen("\"536365,\"\"A, B\"\",x\"") && memcmp(out, "\"536365,\"\"A, B\"\",x\"", n) == 0);
  n = csv_quote_raw(out, "a\0b\xC3\xA9\xFF", 6);
  CU_ASSERT(n == strlen("\"a\\x00b\xC3\xA9\\xFF\"") && memcmp(out, "\"a\\x00b\xC3\xA9\\xFF\"", n) == 0);
  n = csv_quote_raw(out, S("\xE0\x80\xAF|\xE2\x82x|\xF0\x9F\x98"));
  const char *want = "\"\\xE0\\x80\\xAF|\\xE2\\x82x|\\xF0\\x9F\\x98\"";
  CU_ASSERT(n == strlen(want) && memcmp(out, want, n) == 0);
  n = csv_quote_raw(out, "", 0);
  CU_ASSERT(n == 2 && memcmp(out, "\"\"", 2) == 0);
  /* Worst case fits the stated capacity. */
  char big[CSV_QUOTE_RAW_MAX(8)];
  CU_ASSERT_EQUAL(csv_quote_raw(big, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 8), CSV_QUOTE_RAW_MAX(8));
  CU_ASSERT_EQUAL(csv_quote_raw(big, "\"\"\"\"\"\"\"\"", 8), 18);
}

/* ---- integers and ids ---- */

static void test_parse_i64(void) {
  int64_t v = 0;
  CU_ASSERT(i64("0", &v) == CSV_OK && v == 0);
  CU_ASSERT(i64("-0", &v) == CSV_OK && v == 0);
  CU_ASSERT(i64("6", &v) == CSV_OK && v == 6);
  CU_ASSERT(i64("-80995", &v) == CSV_OK && v == -80995);
  CU_ASSERT(i64("007", &v) == CSV_OK && v == 7);
  CU_ASSERT(i64("9223372036854775807", &v) == CSV_OK && v == INT64_MAX);
  CU_ASSERT(i64("-9223372036854775808", &v) == CSV_OK && v == INT64_MIN);
  v = 12345;
  CU_ASSERT_EQUAL(i64("9223372036854775808", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("-9223372036854775809", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("99999999999999999999999", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(v, 12345); /* untouched on error */
  CU_ASSERT_EQUAL(i64("+5", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64(" 5", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("5 ", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("1e5", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("1.0", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("0x10", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("-", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("--1", &v), CSV_E_INTEGER);
  CU_ASSERT_EQUAL(i64("", &v), CSV_E_EMPTY);
  CU_ASSERT_EQUAL(parse_i64("12\0", 3, &v), CSV_E_INTEGER);
  /* Every value around powers of ten round-trips through printf. */
  rng r = {5};
  int bad = 0;
  for (int k = 0; k < 100000; k++) {
    int64_t want = (int64_t)rng_next(&r) >> rng_below(&r, 63);
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)want);
    if (i64(s, &v) != CSV_OK || v != want) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

static void test_parse_id(void) {
  int64_t v = 0;
  CU_ASSERT(id("17850", &v) == CSV_OK && v == 17850);
  CU_ASSERT(id("17850.0", &v) == CSV_OK && v == 17850);
  CU_ASSERT(id("17850.00", &v) == CSV_OK && v == 17850);
  CU_ASSERT(id("00001", &v) == CSV_OK && v == 1); /* CDNOW keeps leading zeros */
  CU_ASSERT(id("9223372036854775807", &v) == CSV_OK && v == INT64_MAX);
  v = 42;
  CU_ASSERT_EQUAL(id("17850.", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("17850.5", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("17850.01", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("17850.0 ", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id(" 17850", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("+17850", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("-17850", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("0", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("0.0", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("000", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id(".0", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("1e3", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("9223372036854775808", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("17850..0", &v), CSV_E_ID);
  CU_ASSERT_EQUAL(id("", &v), CSV_E_EMPTY);
  CU_ASSERT_EQUAL(v, 42);
}

/* ---- decimals ---- */

static void dec_ok(const char *s, double want) {
  double v = 12345.0;
  csv_code c = dec(s, &v);
  CU_ASSERT_EQUAL(c, CSV_OK);
  if (c != CSV_OK || !same_bits(v, want)) {
    fprintf(stderr, "\nparse_decimal(\"%.60s\") = %.17g (code %d), want %.17g\n", s, v, c, want);
    CU_FAIL("decimal value");
  }
}

static void test_decimal_cases(void) {
  dec_ok("17850.0", 17850.0);
  dec_ok("2.55", 2.55);
  dec_ok(".5", 0.5);
  dec_ok("5.", 5.0);
  dec_ok("-.5", -0.5);
  dec_ok("-11062.06", -11062.06);
  dec_ok("0", 0.0);
  dec_ok("-0", -0.0);
  dec_ok("-0.000", -0.0);
  dec_ok("000123.4500", 123.45);
  dec_ok("0.1", 0.1);
  dec_ok("0.1000000000000000055511151231257827021181583404541015625", 0.1);
  dec_ok("9007199254740992", 9007199254740992.0);
  dec_ok("9007199254740993", 9007199254740992.0); /* halfway: to even */
  dec_ok("9007199254740993.0000000000000000000001", 9007199254740994.0);
  dec_ok("9007199254740995", 9007199254740996.0);
  dec_ok("123456789012345678901234567890", 1.2345678901234568e29);
  dec_ok("1000000000000000000000000000000000000", 1e36);
  dec_ok("0.0000000000000000000000000000000000001", 1e-37);
  /* 309 and 310 integer digits: DBL_MAX written out, and 10^309 (too large). */
  char big[400];
  memset(big, '0', sizeof big);
  memcpy(big, "17976931348623157", 17);
  big[309] = '\0';
  dec_ok(big, 1.7976931348623157e308);
  double v;
  big[0] = '1';
  memset(big + 1, '0', 16);
  big[309] = '0';
  big[310] = '\0';
  CU_ASSERT_EQUAL(dec(big, &v), CSV_E_DECIMAL);
  big[309] = '\0';
  dec_ok(big, 1e308);
  CU_ASSERT_EQUAL(dec("17850.", &v), CSV_OK);
  CU_ASSERT_EQUAL(dec("1e5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("1E5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("+5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec(" 5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("5 ", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("-", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec(".", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("-.", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("1.2.3", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("--1", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("1,5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("inf", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("nan", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("0x1p3", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("\xC2\xA3" "5", &v), CSV_E_DECIMAL);
  CU_ASSERT_EQUAL(dec("", &v), CSV_E_EMPTY);
  CU_ASSERT_EQUAL(parse_decimal("1.5\0", 4, &v), CSV_E_DECIMAL);
  /* Not NUL-terminated: the parser must not read past n. */
  char buf[4] = {'1', '2', '3', '4'};
  CU_ASSERT(parse_decimal(buf, 2, &v) == CSV_OK && v == 12.0);
}

/// decimal_times against the exact product written out as text and read
/// by strtod: q x m / 10^nf in integers, so the reference rounds once.
static void test_decimal_times(void) {
  CU_ASSERT(same_bits(decimal_times(3, S("0.1"), 0.1), 0.3));
  CU_ASSERT(same_bits(decimal_times(-3, S("0.1"), 0.1), -0.3));
  CU_ASSERT(same_bits(decimal_times(3, S("-0.1"), -0.1), -0.3));
  CU_ASSERT(same_bits(decimal_times(-2, S("-.25"), -0.25), 0.5));
  CU_ASSERT(same_bits(decimal_times(7, S("12"), 12.0), 84.0));
  CU_ASSERT(same_bits(decimal_times(4, S("5."), 5.0), 20.0));
  /* zero products are +0.0 whatever the signs */
  CU_ASSERT(same_bits(decimal_times(-3, S("0.00"), 0.0), 0.0));
  CU_ASSERT(same_bits(decimal_times(0, S("-1.5"), -1.5), 0.0));
  CU_ASSERT(same_bits(decimal_times(-1, S("-0"), -0.0), 0.0));
  /* too many digits or bits for the exact path: the double product */
  double big;
  CU_ASSERT(dec("12345678901234.56789", &big) == CSV_OK);
  CU_ASSERT(same_bits(decimal_times(1000, S("12345678901234.56789"), big), 1000.0 * big));
  CU_ASSERT(same_bits(decimal_times(INT32_MAX, S("9007199254.740993"), 9007199254.740993),
                      (double)INT32_MAX * 9007199254.740993));
  rng r = {17};
  int bad = 0;
  for (int k = 0; k < 200000; k++) {
    int64_t q = (int64_t)rng_below(&r, 2001) - 1000;
    uint64_t m = rng_next(&r) % 100000000ull;
    unsigned nf = rng_below(&r, 6);
    int neg = rng_below(&r, 4) == 0;
    char s[64], want_s[80];
    snprintf(s, sizeof s, "%s%llu", neg ? "-" : "", (unsigned long long)m);
    if (nf) { /* put the point nf digits from the right, padding with zeros */
      char digits[40];
      snprintf(digits, sizeof digits, "%0*llu", (int)nf + 1, (unsigned long long)m);
      size_t L = strlen(digits);
      snprintf(s, sizeof s, "%s%.*s.%s", neg ? "-" : "", (int)(L - nf), digits, digits + L - nf);
    }
    double v;
    if (dec(s, &v) != CSV_OK) {
      bad++;
      continue;
    }
    long long p = (long long)q * (long long)m * (neg ? -1 : 1);
    snprintf(want_s, sizeof want_s, "%llde-%u", p, nf);
    double want = strtod(want_s, NULL) + 0.0;
    if (!same_bits(decimal_times(q, S(s), v), want) && bad++ < 5) fprintf(stderr, "\n%lld x %s\n", (long long)q, s);
  }
  CU_ASSERT_EQUAL(bad, 0);
}

/* parse_decimal_times is parse_decimal then decimal_times, code and bits
 * (with and without the value asked for), on number-like texts (signs, points, long digit strings, junk) and
 * quantities from 0 to beyond the exact path's 53 bits. */
static void test_decimal_times_fused(void) {
  rng r = {41};
  static const char alphabet[] = "0123456789.-9e";
  int wrong = 0;
  for (int k = 0; k < 300000; k++) {
    char s[40];
    size_t n = rng_below(&r, 25);
    for (size_t j = 0; j < n; j++) s[j] = alphabet[rng_below(&r, rng_below(&r, 3) ? 11 : sizeof alphabet - 1)];
    int64_t q = rng_below(&r, 3) == 0 ? (int64_t)(rng_next(&r) >> rng_below(&r, 64)) * (rng_below(&r, 2) ? -1 : 1)
                                      : (int64_t)rng_below(&r, 2001) - 1000;
    double v1 = -7, t1 = -7, v2 = -8, t2 = -8, t3 = -9;
    csv_code c1 = parse_decimal(s, n, &v1), c2 = parse_decimal_times(s, n, q, &v2, &t2),
             c3 = parse_decimal_times(s, n, q, NULL, &t3);
    if (c1 == CSV_OK) t1 = decimal_times(q, s, n, v1);
    if (c1 != c2 || c1 != c3 || (c1 == CSV_OK && (!same_bits(v1, v2) || !same_bits(t1, t2) || !same_bits(t1, t3))))
      wrong++;
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

/// The store's exact integer encoding of decimal doubles.
static void test_decimal_places(void) {
  const double prices[] = {12.99, 0.5, 3, -7.25, 1e6};
  CU_ASSERT_EQUAL(decimal_places(prices, 5, NULL), 2);
  CU_ASSERT_EQUAL(decimal_places(prices + 2, 1, NULL), 0);
  CU_ASSERT_EQUAL(decimal_places(prices, 0, NULL), 0);
  const double third = 1.0 / 3, sum = 0.1 + 0.2, nz = -0.0, huge = 1e300, tiny = 1e-10;
  double nan_v = NAN;
  CU_ASSERT_EQUAL(decimal_places(&third, 1, NULL), -1);
  CU_ASSERT_EQUAL(decimal_places(&sum, 1, NULL), -1);
  CU_ASSERT_EQUAL(decimal_places(&nz, 1, NULL), -1);
  CU_ASSERT_EQUAL(decimal_places(&huge, 1, NULL), -1);
  CU_ASSERT_EQUAL(decimal_places(&tiny, 1, NULL), -1);
  CU_ASSERT_EQUAL(decimal_places(&nan_v, 1, NULL), -1);
  /* random prices with up to 4 places round-trip bit for bit; one place
   * too few does not */
  rng r = {23};
  enum { N = 50000 };
  double *v = malloc(N * sizeof *v), *back = malloc(N * sizeof *back);
  int64_t *c = malloc(N * sizeof *c);
  for (int i = 0; i < N; i++) v[i] = (double)((int64_t)(rng_next(&r) % 2000000001ull) - 1000000000) / 1e4;
  v[0] = 0.0001;
  CU_ASSERT_EQUAL(decimal_places(v, N, NULL), 4);
  CU_ASSERT_EQUAL(decimal_pack(v, N, 3, c), 0);
  /* packed in the same pass, with the places found late in the column
   * (every value before it repacked): the same as decimal_pack at 4 */
  int64_t *c2 = malloc(N * sizeof *c2);
  double *w = malloc(N * sizeof *w);
  for (int i = 0; i < N; i++) w[i] = (double)(i % 1000) / 100;
  w[N - 1] = 0.0001;
  CU_ASSERT_EQUAL(decimal_places(w, N, c2), 4);
  CU_ASSERT_EQUAL(decimal_pack(w, N, 4, c), 1);
  CU_ASSERT(memcmp(c, c2, N * sizeof *c) == 0);
  CU_ASSERT_EQUAL(decimal_places(w, N - 1, c2), 2);
  CU_ASSERT_EQUAL(decimal_pack(w, N - 1, 2, c), 1);
  CU_ASSERT(memcmp(c, c2, (N - 1) * sizeof *c) == 0);
  free(w);
  free(c2);
  const double big[] = {4611686018427387904.0, -4611686018427387904.5, 9007199254740993.0, 2.5, -2.5, 0.49999999999999994,
                        -0.0, 1e18 + 0.5};
  for (int i = 0; i < 8; i++) CU_ASSERT_EQUAL(round_half_away(big[i]), llround(big[i]));
  /* the packed values are llround's, halves (away from zero) included,
   * whether or not they come back exactly */
  const double halves[] = {0.125, -0.125, 2.5e-2, -2.5e-2, 0.0049999999999999999, 4503599627370495.5e-2, -1.005};
  int64_t hc[7];
  decimal_pack(halves, 7, 2, hc);
  for (int i = 0; i < 7; i++) CU_ASSERT_EQUAL(hc[i], llround(halves[i] * 100));
  for (int i = 0; i < N; i++) back[i] = (double)(int64_t)(rng_next(&r) % 4000001ull - 2000000) / 8;
  decimal_pack(back, N, 1, c);
  int off = 0;
  for (int i = 0; i < N; i++) off += c[i] != llround(back[i] * 10);
  CU_ASSERT_EQUAL(off, 0);
  CU_ASSERT_EQUAL(decimal_pack(v, N, 4, c), 1);
  decimal_unpack(c, N, 4, back);
  CU_ASSERT(memcmp(v, back, N * sizeof *v) == 0);
  memcpy(back, c, N * sizeof *c); /* in place, as the store reader does */
  decimal_unpack((int64_t *)back, N, 4, back);
  CU_ASSERT(memcmp(v, back, N * sizeof *v) == 0);
  free(v);
  free(back);
  free(c);
}

/// Compares parse_decimal with strtod on the same string, bit for bit.
static int dec_matches_strtod(const char *s) {
  double v, want = strtod(s, NULL);
  if (dec(s, &v) != CSV_OK) return 0;
  return same_bits(v, want);
}

static void test_decimal_random(void) {
  rng r = {9};
  int bad = 0;
  char s[128];
  /* Short shapes: prices, quantities, long fractions, leading zeros. */
  for (int k = 0; k < 300000; k++) {
    size_t n = 0;
    if (rng_below(&r, 3) == 0) s[n++] = '-';
    unsigned ni = rng_below(&r, 24), nf = rng_below(&r, 26);
    int point = nf > 0 || rng_below(&r, 4) == 0;
    if (ni == 0 && !point) ni = 1;
    if (ni == 0 && nf == 0) nf = 1;
    unsigned zeros = rng_below(&r, 4) == 0 ? rng_below(&r, 20) : 0;
    for (unsigned j = 0; j < ni; j++) s[n++] = (char)('0' + (j < zeros ? 0 : rng_below(&r, 10)));
    if (point) s[n++] = '.';
    for (unsigned j = 0; j < nf; j++) s[n++] = (char)('0' + rng_below(&r, 10));
    s[n] = '\0';
    if (!dec_matches_strtod(s)) {
      if (bad++ < 5) fprintf(stderr, "\nmismatch on %s\n", s);
    }
  }
  /* Random doubles printed at 15..17 significant digits, in %f and %e-free form. */
  for (int k = 0; k < 100000; k++) {
    uint64_t bits = rng_next(&r) & 0x7FFFFFFFFFFFFFFFull;
    double x;
    memcpy(&x, &bits, sizeof x);
    if (!isfinite(x) || fabs(x) > 1e30 || fabs(x) < 1e-30) continue;
    snprintf(s, sizeof s, "%.*f", 15 + (int)rng_below(&r, 3) + 30, x);
    if (!dec_matches_strtod(s)) {
      if (bad++ < 10) fprintf(stderr, "\nmismatch on %s\n", s);
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
}

/// Exact halfway points between adjacent doubles, then nudged by a digit
/// far beyond the 780 kept: rounding must follow the full string.
static void test_decimal_halfway(void) {
  rng r = {13};
  int bad = 0;
  enum { CAP = 4000 };
  char *s = malloc(CAP);
  for (int k = 0; k < 400; k++) {
    /* x in [1, 2^60): the midpoint with its neighbour is exact in long double. */
    double x = ldexp(1.0 + (double)(rng_next(&r) >> 12) / 4503599627370496.0, (int)rng_below(&r, 60));
    double y = nextafter(x, INFINITY);
    long double mid = ((long double)x + (long double)y) / 2;
    int len = snprintf(s, CAP, "%.80Lf", mid); /* glibc prints the exact value */
    CU_ASSERT_FATAL(len > 0 && len < 200);
    while (s[len - 1] == '0') s[--len] = '\0';
    if (!dec_matches_strtod(s)) bad++;
    /* Pad with zeros past the cut, then with and without a final 1. */
    int pad = len;
    while (pad < 1500) s[pad++] = '0';
    s[pad] = '\0';
    if (!dec_matches_strtod(s)) bad++;
    s[pad] = '1';
    s[pad + 1] = '\0';
    if (!dec_matches_strtod(s)) bad++;
    double v;
    if (dec(s, &v) != CSV_OK || !same_bits(v, y)) bad++; /* above halfway: up */
  }
  /* Tiny and subnormal values written out in full. */
  static const double tiny[] = {4.9406564584124654e-324, 2.2250738585072014e-308,
                                2.2250738585072011e-308, 1e-320, 7e-310};
  for (size_t k = 0; k < sizeof tiny / sizeof tiny[0]; k++) {
    snprintf(s, CAP, "%.1100f", tiny[k]);
    if (!dec_matches_strtod(s)) bad++;
  }
  snprintf(s, CAP, "0.%0500d1", 0); /* 10^-502: rounds to zero */
  if (!dec_matches_strtod(s)) bad++;
  free(s);
  CU_ASSERT_EQUAL(bad, 0);
}

/* ---- dates ---- */

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static void test_days_civil(void) {
  /* Against glibc's timegm for every day from 1700 to 2300. */
  int bad = 0;
  int64_t want = -1;
  for (int y = 1700; y <= 2300; y++) {
    for (int m = 1; m <= 12; m++) {
      static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      int dim = mdays[m - 1] + (m == 2 && is_leap(y));
      for (int d = 1; d <= dim; d++) {
        struct tm tm = {0};
        tm.tm_year = y - 1900;
        tm.tm_mon = m - 1;
        tm.tm_mday = d;
        int64_t t = (int64_t)timegm(&tm);
        int64_t days = t / 86400 - (t % 86400 < 0);
        if (want != -1 && days != want + 1) bad++; /* consecutive */
        want = days;
        if (days_from_civil(y, m, d) != days) bad++;
        int yy, mm, dd;
        civil_from_days((int32_t)days, &yy, &mm, &dd);
        if (yy != y || mm != m || dd != d) bad++;
      }
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT_EQUAL(days_from_civil(1970, 1, 1), 0);
  CU_ASSERT_EQUAL(days_from_civil(2000, 3, 1), 11017);
  CU_ASSERT_EQUAL(days_from_civil(1969, 12, 31), -1);
  CU_ASSERT_EQUAL(days_from_civil(0, 3, 1), -719468);
  CU_ASSERT_EQUAL(days_from_civil(-1, 12, 31), -719529);
  /* Round trip over a wide range, far years and negative ones included. */
  for (int32_t z = -3000000; z <= 3000000; z += 997) {
    int y, m, d;
    civil_from_days(z, &y, &m, &d);
    if (days_from_civil(y, m, d) != z || m < 1 || m > 12 || d < 1 || d > 31) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

static int32_t ymd(int y, int m, int d) {
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  return (int32_t)(timegm(&tm) / 86400);
}

/* A plain reference for "YYYY-MM-DD": every digit and separator checked one
 * by one, the calendar by the Gregorian rule, the day by days_from_civil. */
static csv_code ref_date(const char *t, int32_t *day) {
  for (int k = 0; k < 10; k++)
    if (k == 4 || k == 7 ? t[k] != '-' : !(t[k] >= '0' && t[k] <= '9')) return CSV_E_DATE;
  int y = atoi(t), m = (t[5] - '0') * 10 + t[6] - '0', d = (t[8] - '0') * 10 + t[9] - '0';
  static const int dim[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1 || d > dim[m] + (m == 2 && leap)) return CSV_E_DATE;
  *day = days_from_civil(y, m, d);
  return CSV_OK;
}

/* 1 when parse_date and the reference disagree on the 10 bytes at t */
static int date_disagrees(const char *t) {
  int32_t a = 7, b = 7;
  csv_code ca = parse_date(t, 10, &a), cb = ref_date(t, &b);
  return ca != cb || (ca == CSV_OK && a != b);
}

/* parse_date's word path (years 1900-2155 from a table) and its general
 * path agree with the reference on every day of 1890-2170 with months and
 * days one past each end, and on dates with bytes changed at random. */
static void test_parse_date_table(void) {
  int wrong = 0;
  char t[16];
  for (int y = 1890; y <= 2170; y++)
    for (int m = 0; m <= 13; m++)
      for (int d = 0; d <= 32; d++) {
        snprintf(t, sizeof t, "%04d-%02d-%02d", y, m, d);
        wrong += date_disagrees(t);
      }
  CU_ASSERT_EQUAL(wrong, 0);
  rng r = {91};
  static const char alphabet[] = "0123456789-/: a\x00\xff";
  for (int i = 0; i < 200000; i++) {
    int32_t z = (int32_t)(rng_next(&r) % 120000) - 30000, y, m, d;
    civil_from_days(z, &y, &m, &d);
    snprintf(t, sizeof t, "%04d-%02d-%02d", y, m, d);
    for (int k = (int)(rng_next(&r) % 3); k > 0; k--) t[rng_next(&r) % 10] = alphabet[rng_next(&r) % (sizeof alphabet - 1)];
    wrong += date_disagrees(t);
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

/* 1 when parse_datetime of the 19 bytes at t does not give `sec` (ok) or
 * CSV_E_DATE (not ok) */
static int clock_wrong(const char *t, int ok, int sec) {
  int32_t day = 0, got = -1;
  csv_code c = parse_datetime(t, 19, &day, &got);
  return ok ? !(c == CSV_OK && got == sec) : c != CSV_E_DATE;
}

/* parse_datetime's clock against plain arithmetic on every second
 * of a day, hours/minutes/seconds one past the end, and changed bytes. */
static void test_parse_hms_all(void) {
  int wrong = 0;
  char t[32];
  for (int h = 0; h <= 24; h++)
    for (int m = 0; m <= 60; m++)
      for (int s = 0; s <= 60; s++) {
        snprintf(t, sizeof t, "2023-05-06 %02d:%02d:%02d", h, m, s);
        wrong += clock_wrong(t, h < 24 && m < 60 && s < 60, h * 3600 + m * 60 + s);
      }
  rng r = {5};
  static const char alphabet[] = "0123456789:-/ a";
  for (int i = 0; i < 100000; i++) {
    snprintf(t, sizeof t, "2023-05-06 %02d:%02d:%02d", (int)(rng_next(&r) % 24), (int)(rng_next(&r) % 60),
             (int)(rng_next(&r) % 60));
    int k = 11 + (int)(rng_next(&r) % 8);
    t[k] = alphabet[rng_next(&r) % (sizeof alphabet - 1)];
    int ok = 1;
    for (int j = 11; j < 19; j++) ok &= j == 13 || j == 16 ? t[j] == ':' : t[j] >= '0' && t[j] <= '9';
    int h = (t[11] - '0') * 10 + t[12] - '0', m = (t[14] - '0') * 10 + t[15] - '0', s = (t[17] - '0') * 10 + t[18] - '0';
    wrong += clock_wrong(t, ok && h < 24 && m < 60 && s < 60, h * 3600 + m * 60 + s);
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

/* A plain reference for ids: digits (any number, then optionally '.' and
 * one or more '0'), a value from 1 to INT64_MAX. */
static csv_code ref_id(const char *t, size_t n, int64_t *out) {
  if (n == 0) return CSV_E_EMPTY;
  size_t i = 0;
  unsigned __int128 v = 0;
  for (; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
    v = v * 10 + (unsigned)(t[i] - '0');
    if (v > INT64_MAX) return CSV_E_ID;
  }
  if (i == 0) return CSV_E_ID;
  if (i < n) {
    if (t[i] != '.' || i + 1 == n) return CSV_E_ID;
    for (i++; i < n; i++)
      if (t[i] != '0') return CSV_E_ID;
  }
  if (v == 0) return CSV_E_ID;
  *out = (int64_t)v;
  return CSV_OK;
}

/* parse_id's word path (1 to 8 digits) and its general path against the
 * reference: every length up to 21, digits with other bytes mixed in,
 * leading zeros, zero fractions, and the largest ids. */
static void test_parse_id_word(void) {
  rng r = {77};
  static const char other[] = ".a -+/:\x00\xff";
  int wrong = 0;
  char t[32];
  for (int i = 0; i < 400000; i++) {
    size_t n = rng_next(&r) % 22;
    for (size_t k = 0; k < n; k++)
      t[k] = rng_next(&r) % 6 ? (char)('0' + rng_next(&r) % 10) : other[rng_next(&r) % (sizeof other - 1)];
    if (n > 2 && rng_next(&r) % 5 == 0) t[n - 2] = '.', t[n - 1] = '0';
    if (n > 0 && rng_next(&r) % 7 == 0) t[0] = '0';
    int64_t a = -7, b = -7;
    csv_code ca = parse_id(t, n, &a), cb = ref_id(t, n, &b);
    wrong += ca != cb || (ca == CSV_OK && a != b);
  }
  const char *edge[] = {"1", "9", "0", "00000000", "00000001", "99999999", "10000000", "123456789", "9223372036854775807",
                        "9223372036854775808", "17850.0", "17850.", "7.00", "0.0", "1e3", "12345678.0"};
  for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
    int64_t a = -7, b = -7;
    csv_code ca = parse_id(edge[i], strlen(edge[i]), &a), cb = ref_id(edge[i], strlen(edge[i]), &b);
    wrong += ca != cb || (ca == CSV_OK && a != b);
  }
  CU_ASSERT_EQUAL(wrong, 0);
}

static void test_parse_date(void) {
  int32_t day = 7, sec = 7;
  CU_ASSERT(parse_date(S("2023-02-28"), &day) == CSV_OK && day == ymd(2023, 2, 28));
  CU_ASSERT(parse_date(S("2024-02-29"), &day) == CSV_OK && day == ymd(2024, 2, 29));
  CU_ASSERT(parse_date(S("2000-02-29"), &day) == CSV_OK && day == ymd(2000, 2, 29));
  CU_ASSERT(parse_date(S("1970-01-01"), &day) == CSV_OK && day == 0);
  CU_ASSERT(parse_date(S("1969-12-31"), &day) == CSV_OK && day == -1);
  CU_ASSERT(parse_date(S("2011-12-31"), &day) == CSV_OK && day == ymd(2011, 12, 31));
  day = 7;
  CU_ASSERT_EQUAL(parse_date(S("2023-02-29"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("1900-02-29"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-02-30"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-04-31"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-13-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-00-10"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-01-00"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-01-32"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-1-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("23-01-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("02023-01-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023/01/01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-01-01 "), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S(" 2023-01-1"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("+023-01-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("2023-0a-01"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S("20230101"), &day), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_date(S(""), &day), CSV_E_EMPTY);
  CU_ASSERT_EQUAL(day, 7);

  CU_ASSERT(parse_datetime(S("2023-01-01 00:00:00"), &day, &sec) == CSV_OK && day == ymd(2023, 1, 1) &&
            sec == 0);
  CU_ASSERT(parse_datetime(S("2011-12-09 23:59:59"), &day, &sec) == CSV_OK && day == ymd(2011, 12, 9) &&
            sec == 86399);
  CU_ASSERT(parse_datetime(S("2010-12-01 08:26:07"), &day, &sec) == CSV_OK && sec == 8 * 3600 + 26 * 60 + 7);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-02-30 10:00:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01 24:00:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01 12:60:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01 12:00:60"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01T12:00:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01 12:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01 12-00-00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01  2:00:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S("2023-01-01"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_datetime(S(""), &day, &sec), CSV_E_EMPTY);
}

static void test_parse_retail_datetime(void) {
  int32_t day = 0, sec = 0;
  CU_ASSERT(parse_retail_datetime(S("12/1/2010 8:26"), &day, &sec) == CSV_OK && day == ymd(2010, 12, 1) &&
            sec == 8 * 3600 + 26 * 60);
  CU_ASSERT(parse_retail_datetime(S("1/12/2011 17:05"), &day, &sec) == CSV_OK && day == ymd(2011, 1, 12) &&
            sec == 17 * 3600 + 5 * 60);
  CU_ASSERT(parse_retail_datetime(S("12/09/2011 08:06"), &day, &sec) == CSV_OK && day == ymd(2011, 12, 9) &&
            sec == 8 * 3600 + 6 * 60);
  CU_ASSERT(parse_retail_datetime(S("2/29/2012 0:00"), &day, &sec) == CSV_OK && day == ymd(2012, 2, 29) &&
            sec == 0);
  CU_ASSERT(parse_retail_datetime(S("2010-12-01 08:26:02"), &day, &sec) == CSV_OK &&
            day == ymd(2010, 12, 1) && sec == 8 * 3600 + 26 * 60 + 2);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("2/29/2011 1:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("13/1/2010 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("0/1/2010 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/10 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010 8:6"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010 24:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010 8:60"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010 8:26:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("123/1/2010 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010  8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010 8:26 "), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12-1-2010 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/2010"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/20100 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("12/1/"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("2010-12-01 8:26"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S("2010-02-30 08:26:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_retail_datetime(S(""), &day, &sec), CSV_E_EMPTY);
  /* Every prefix of a valid value is rejected without reading past n. */
  const char *full = "12/31/2010 23:59";
  for (size_t n = 1; n < strlen(full); n++)
    CU_ASSERT_EQUAL(parse_retail_datetime(full, n, &day, &sec), CSV_E_DATE);
}

static void test_parse_any_date(void) {
  int32_t day = 0, sec = -1;
  CU_ASSERT(parse_any_date(S("19970101"), &day, &sec) == CSV_OK && day == ymd(1997, 1, 1) && sec == 0);
  CU_ASSERT(parse_any_date(S("1998-06-30"), &day, &sec) == CSV_OK && day == ymd(1998, 6, 30) && sec == 0);
  CU_ASSERT(parse_any_date(S("1998-06-30 12:34:56"), &day, &sec) == CSV_OK && day == ymd(1998, 6, 30) &&
            sec == 45296);
  CU_ASSERT_EQUAL(parse_any_date(S("19970230"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S("1997011"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S("1997-01-1"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S("1997010a"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S("1/1/1997"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S("1997-01-01 25:00:00"), &day, &sec), CSV_E_DATE);
  CU_ASSERT_EQUAL(parse_any_date(S(""), &day, &sec), CSV_E_EMPTY);
}

/// Every function on random short inputs in heap buffers of exactly n
/// bytes (an AddressSanitizer build catches any read past n), with cross
/// checks where a libc function gives the answer: a parse that succeeds
/// must agree with strtoll / strtod on a NUL-terminated copy.
static void test_exact_buffers(void) {
  rng r = {17};
  static const char alphabet[] = "0123456789-.,\":/ \n\r\x80\xC3\xA9" "e+";
  int bad = 0;
  for (int round = 0; round < 200000; round++) {
    size_t n = rng_below(&r, 40);
    char *b = malloc(n ? n : 1);
    char z[48];
    for (size_t k = 0; k < n; k++) b[k] = alphabet[rng_below(&r, sizeof alphabet - 1)];
    if (rng_below(&r, 2) && n) /* a plausible number now and then */
      for (size_t k = 0; k < n; k++) b[k] = "0123456789."[rng_below(&r, k + 1 < n ? 11 : 10)];
    memcpy(z, b, n);
    z[n] = '\0';
    if (csv_newlines(b, n) > n) bad++;
    csv_field f[4];
    char scratch[48];
    int nf;
    csv_split(b, n, f, 4, &nf, scratch);
    csv_check_text(b, n);
    size_t plen;
    csv_window win = {0};
    if (csv_plain_record(b, n, 0, &win, f, 4, &nf, &plen) != CSV_NOT_PLAIN && plen > n) bad++;
    int64_t iv;
    double dv;
    int32_t day, sec;
    if (parse_i64(b, n, &iv) == CSV_OK && (strtoll(z, NULL, 10) != iv || z[0] == '+')) bad++;
    if (parse_id(b, n, &iv) == CSV_OK && (iv <= 0 || strtoll(z, NULL, 10) != iv)) bad++;
    if (parse_decimal(b, n, &dv) == CSV_OK && !same_bits(strtod(z, NULL), dv)) bad++;
    parse_date(b, n, &day);
    parse_datetime(b, n, &day, &sec);
    parse_retail_datetime(b, n, &day, &sec);
    parse_any_date(b, n, &day, &sec);
    if (n) csv_utf8_len(b, n);
    free(b);
  }
  CU_ASSERT_EQUAL(bad, 0);
}

/* csv_plain_record against the general path it stands for: random
 * buffers of 0 to 300 bytes over an alphabet of separators, line endings,
 * quotes, CRs, NUL and non-ASCII bytes are read line by line, as the
 * reader does, with the window carried from record to record (and now and
 * then dropped). Every line it takes must give the line end's offset, the
 * length without the line end ('\n' and every '\r' before it), text
 * csv_check_text accepts and csv_split's fields (same bytes, same places);
 * every line it leaves must hold a quote, a NUL, a byte >= 0x80 or a '\r'
 * that is not part of its line end. Plain ASCII lines must always be taken.
 * Buffers are allocated to their exact size. */
static void test_plain_record(void) {
  rng r = {23};
  static const char alphabet[] = "ab1,,,\n\n\r\"\x80\xC3\xA9 ";
  int taken = 0, left = 0, wrong = 0, crlf = 0;
  csv_field f1[8], f2[8];
  char scratch[512];
  for (int round = 0; round < 50000; round++) {
    size_t n = rng_below(&r, 301);
    int plain_only = rng_below(&r, 3) == 0;
    char *b = malloc(n ? n : 1);
    for (size_t k = 0; k < n; k++) {
      b[k] = plain_only ? "ab1,,\r \n"[rng_below(&r, 8)] : alphabet[rng_below(&r, sizeof alphabet - 1)];
      if (!plain_only && rng_below(&r, 500) == 0) b[k] = 0;
    }
    if (plain_only) /* a '\r' only directly before a '\n' */
      for (size_t k = 0; k < n; k++)
        if (b[k] == '\r' && k + 1 < n && b[k + 1] != '\n' && b[k + 1] != '\r') b[k] = 'a';
    csv_window win = {0};
    size_t pos = 0;
    do {
      if (rng_below(&r, 10) == 0) win.valid = 0;
      int nf1 = -1, nf2 = -1;
      size_t len1 = 0;
      size_t e1 = csv_plain_record(b, n, pos, &win, f1, 8, &nf1, &len1);
      const char *rec = b + pos;
      size_t e2 = n - pos; /* the first '\n' */
      for (size_t k = 0; k < n - pos; k++)
        if (rec[k] == '\n') {
          e2 = k;
          break;
        }
      size_t len2 = e2;
      while (len2 && rec[len2 - 1] == '\r') len2--;
      if (e1 == CSV_NOT_PLAIN) {
        left++;
        /* a CR of the line end may be left to the general path only when
         * it is not in the window of the line's '\n' (a rare, safe case) */
        int odd = 0, cr = 0;
        for (size_t k = 0; k < len2; k++) odd |= rec[k] == '"' || rec[k] == 0 || (unsigned char)rec[k] >= 0x80;
        for (size_t k = 0; k < e2; k++) cr |= rec[k] == '\r';
        if ((!odd && !cr) || (plain_only && !cr)) wrong++;
      } else {
        taken++;
        crlf += len2 < e2;
        csv_code c1 = csv_check_text(rec, len2), c2 = csv_split(rec, len2, f2, 8, &nf2, scratch);
        int same = e1 == e2 && len1 == len2 && c1 == CSV_OK && c2 == CSV_OK && nf1 == nf2;
        for (int k = 0; same && k < nf1 && k < 8; k++) same = f1[k].p == f2[k].p && f1[k].len == f2[k].len;
        if (!same) wrong++;
      }
      pos += e2 + 1;
    } while (pos < n);
    free(b);
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(taken > 100000 && left > 30000 && crlf > 10000);
}

/* Every place of one or two '\r's in lines of 1 to 200 bytes, at every
 * alignment of the buffer to the 64-byte windows: csv_plain_record takes a
 * line exactly when its '\r's are the run that ends it (a run may start in
 * the window before its '\n'), with csv_split's fields. */
static void test_plain_record_cr(void) {
  char *mem = malloc(512 + 64);
  csv_field f1[64], f2[64];
  char scratch[512];
  int wrong = 0, taken = 0;
  for (size_t align = 0; align < 64; align++)
    for (size_t len = 1; len <= 200; len += 3)
      for (size_t a = 0; a < len; a++)
        for (size_t b = a; b < len && b < a + 3; b++) {
          char *buf = mem + align;
          for (size_t k = 0; k < len; k++) buf[k] = k % 7 == 3 ? ',' : 'x';
          buf[a] = buf[b] = '\r';
          buf[len] = '\n';
          size_t n = len + 1, plen = 0;
          int nf1 = 0, nf2 = 0;
          csv_window w = {0};
          size_t e = csv_plain_record(buf, n, 0, &w, f1, 64, &nf1, &plen);
          size_t tl = len;
          while (tl && buf[tl - 1] == '\r') tl--;
          int ends = 1; /* are the '\r's the run that ends the line? */
          for (size_t k = 0; k < len; k++) ends &= buf[k] != '\r' || k >= tl;
          if (e == CSV_NOT_PLAIN) {
            wrong += ends;
          } else {
            taken++;
            int same = ends && e == len && plen == tl && csv_split(buf, tl, f2, 64, &nf2, scratch) == CSV_OK && nf1 == nf2;
            for (int k = 0; same && k < nf1; k++) same = f1[k].p == f2[k].p && f1[k].len == f2[k].len;
            wrong += !same;
          }
        }
  free(mem);
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(taken > 5000); /* 2 of the places per length end the line */
}

/* The memo versions give parse_date's and parse_datetime's results and
 * codes on a stream of dates that mostly repeat the previous one, with
 * bad dates, other lengths and different times of day mixed in. */
static void test_date_memo(void) {
  rng r = {31};
  static const char *dates[] = {"2023-01-01", "2023-01-02", "2024-02-29", "2023-02-29", "2023-13-01",
                                "2023-1-01",  "2023-01-0x", "1999-12-31", "",           "2023-01-01x"};
  csv_date_memo md = {0}, mt = {0};
  int wrong = 0, hits = 0;
  for (int i = 0; i < 200000; i++) {
    const char *d = dates[rng_below(&r, 10) < 7 ? rng_below(&r, 2) : rng_below(&r, 10)];
    int32_t a = -1, b = -2, sa = -3, sb = -4;
    csv_code c1 = parse_date(d, strlen(d), &a), c2 = parse_date_memo(&md, d, strlen(d), &b);
    if (c1 != c2 || (c1 == CSV_OK && a != b)) wrong++;
    char ts[40];
    snprintf(ts, sizeof ts, "%s %02u:%02u:%02u", d, rng_below(&r, 25), rng_below(&r, 60), rng_below(&r, 61));
    int was = mt.valid && !memcmp(&mt.head, ts, 8);
    c1 = parse_datetime(ts, strlen(ts), &a, &sa);
    c2 = parse_datetime_memo(&mt, ts, strlen(ts), &b, &sb);
    hits += was;
    if (c1 != c2 || (c1 == CSV_OK && (a != b || sa != sb))) wrong++;
  }
  CU_ASSERT_EQUAL(wrong, 0);
  CU_ASSERT(hits > 50000);
}

/* format_date is the inverse of parse_date for every day of 1700-2300. */
static void test_format_date(void) {
  char buf[11];
  CU_ASSERT_STRING_EQUAL(format_date(0, buf), "1970-01-01");
  CU_ASSERT_STRING_EQUAL(format_date(-1, buf), "1969-12-31");
  CU_ASSERT_STRING_EQUAL(format_date(days_from_civil(2024, 2, 29), buf), "2024-02-29");
  int bad = 0;
  for (int32_t d = days_from_civil(1700, 1, 1); d <= days_from_civil(2300, 12, 31); d++) {
    int32_t back;
    format_date(d, buf);
    if (parse_date(buf, 10, &back) != CSV_OK || back != d) bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("csv", NULL, NULL);
  CU_add_test(s, "error words", test_error_text);
  CU_add_test(s, "csv_newlines", test_newlines);
  CU_add_test(s, "multi-megabyte quoted field", test_split_long_field);
  CU_add_test(s, "csv_split cases", test_split_cases);
  CU_add_test(s, "csv_split random round trip", test_split_random);
  CU_add_test(s, "csv_plain_record = line end + check + split", test_plain_record);
  CU_add_test(s, "csv_plain_record: CRs at every place and alignment", test_plain_record_cr);
  CU_add_test(s, "UTF-8 cases", test_utf8_cases);
  CU_add_test(s, "UTF-8 positions and reference", test_utf8_positions);
  CU_add_test(s, "csv_quote_raw", test_quote_raw);
  CU_add_test(s, "parse_i64", test_parse_i64);
  CU_add_test(s, "parse_id", test_parse_id);
  CU_add_test(s, "parse_id word path against a reference", test_parse_id_word);
  CU_add_test(s, "parse_decimal cases", test_decimal_cases);
  CU_add_test(s, "parse_decimal vs strtod", test_decimal_random);
  CU_add_test(s, "parse_decimal halfway and long", test_decimal_halfway);
  CU_add_test(s, "decimal_times exact products", test_decimal_times);
  CU_add_test(s, "parse_decimal_times = parse_decimal + decimal_times", test_decimal_times_fused);
  CU_add_test(s, "decimal_places / pack / unpack", test_decimal_places);
  CU_add_test(s, "days_from_civil / civil_from_days", test_days_civil);
  CU_add_test(s, "parse_date / parse_datetime", test_parse_date);
  CU_add_test(s, "parse_date word path against a reference", test_parse_date_table);
  CU_add_test(s, "parse_datetime clock, every second", test_parse_hms_all);
  CU_add_test(s, "parse_retail_datetime", test_parse_retail_datetime);
  CU_add_test(s, "date memos", test_date_memo);
  CU_add_test(s, "parse_any_date", test_parse_any_date);
  CU_add_test(s, "exact-size buffers", test_exact_buffers);
  CU_add_test(s, "format_date", test_format_date);
}
