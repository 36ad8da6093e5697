/* csv.c: the CSV and value parsers declared in csv.h.
 *
 * Everything here is a pure function over a byte buffer; the ingest stage
 * calls it from many OpenMP threads at once, so there is no state beyond
 * constant tables.
 *
 * Speed comes from three habits:
 * - Newline counting (csv_newlines) runs in blocks of 255 bytes with 8-bit
 *   counters, a loop the compiler turns into SIMD compares and adds; the
 *   block sums are widened once per block.
 * - csv_split's quoted fields jump with memchr, which libc implements with
 *   SIMD, and never rescan bytes: the cost is linear in the record whatever
 *   its quoting (a multi-megabyte field full of "" escapes included).
 * - UTF-8 validation (csv_check_text) skips ASCII 32 bytes at a time with
 *   a SWAR test ((w - 0x01..) | w) & 0x80.. that is non-zero exactly when
 *   some byte is NUL or >= 0x80, and decodes byte by byte only around the
 *   non-ASCII bytes.
 *
 * parse_decimal is correctly rounded: up to 19 significant digits are
 * gathered into an integer m with a decimal exponent e; when m <= 2^53 and
 * |e| <= 22 both m and 10^|e| are exact doubles, so one IEEE multiply or
 * divide gives the correctly rounded result (Clinger's fast path). Every
 * other value goes to strtod on a bounded, NUL-terminated canonical copy
 * "0.<digits>e<exp>" whose digit string is cut at 780 digits with a sticky
 * '1' appended when a non-zero digit was cut: more than the 767 digits that
 * can decide a double's rounding, so the result is the same as for the full
 * string. The program never calls setlocale, so strtod reads '.'.
 *
 * Dates use Howard Hinnant's days_from_civil / civil_from_days
 * (http://howardhinnant.github.io/date_algorithms.html), computed in 64-bit
 * so that no int32_t day number overflows in between.
 */
#include "csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

const char *csv_error_text(csv_code c) {
  static const char *const text[CSV_E_COUNT] = {
      [CSV_OK] = "ok",
      [CSV_E_UNCLOSED_QUOTE] = "unclosed quote",
      [CSV_E_AFTER_QUOTE] = "text after closing quote",
      [CSV_E_FIELD_COUNT] = "wrong field count",
      [CSV_E_UTF8] = "invalid UTF-8",
      [CSV_E_NUL] = "NUL byte",
      [CSV_E_EMPTY] = "empty required value",
      [CSV_E_INTEGER] = "bad integer",
      [CSV_E_ID] = "bad id",
      [CSV_E_DECIMAL] = "bad number",
      [CSV_E_DATE] = "bad date",
      [CSV_E_RANGE] = "value out of range",
      [CSV_E_CR] = "carriage return outside quotes",
      [CSV_E_LONG_RECORD] = "record longer than input.max_record_lines",
  };
  if ((int)c < 0 || c >= CSV_E_COUNT) return "unknown error";
  return text[c];
}

/* ---- byte counting and record boundaries ---- */

/// Number of bytes equal to c in b[0..n): 8-bit counters per 255-byte
/// block (no lane can overflow), widened once per block; vectorised by
/// the compiler.
static uint64_t count_byte(const unsigned char *b, size_t n, unsigned char c) {
  uint64_t total = 0;
  size_t i = 0;
  for (; n - i >= 255; i += 255) {
    uint8_t k = 0;
    for (size_t j = 0; j < 255; j++) k += b[i + j] == c;
    total += k;
  }
  for (; i < n; i++) total += b[i] == c;
  return total;
}

uint64_t csv_newlines(const char *buf, size_t n) { return count_byte((const unsigned char *)buf, n, '\n'); }

void csv_count(const char *buf, size_t n, uint64_t *quotes, uint64_t *newlines) {
  const unsigned char *b = (const unsigned char *)buf;
  uint64_t q = 0, nl = 0;
  size_t i = 0;
  /* Both counts in one pass: the buffer is read from memory once. */
  for (; n - i >= 255; i += 255) {
    uint8_t kq = 0, kn = 0;
    for (size_t j = 0; j < 255; j++) {
      kq += b[i + j] == '"';
      kn += b[i + j] == '\n';
    }
    q += kq;
    nl += kn;
  }
  for (; i < n; i++) {
    q += b[i] == '"';
    nl += b[i] == '\n';
  }
  *quotes = q;
  *newlines = nl;
}

/// Offset of the first c in buf[from..to), or to when there is none.
static inline size_t find_byte(const char *buf, size_t from, size_t to, char c) {
  if (from >= to) return to;
  const char *p = memchr(buf + from, c, to - from);
  return p ? (size_t)(p - buf) : to;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/// Up to 8 bytes at p (k of them) as a little-endian word, the missing
/// bytes filled with `pad`.
static inline uint64_t load_word(const char *p, size_t k, unsigned char pad) {
  uint64_t w;
  if (k >= 8) {
    memcpy(&w, p, 8); /* a fixed-size copy: one unaligned load */
    return w;
  }
  w = ONES * pad;
  unsigned char *d = (unsigned char *)&w;
  for (size_t j = 0; j < k; j++) d[j] = (unsigned char)p[j];
  return w;
}

/// Bit k set when rec[base + k] is ',' or '\r', for k < 64 and
/// base + k < len: 16 bytes a step with SSE2 (every x86-64 has it), the
/// rest byte by byte, never reading past len.
static inline uint64_t sep_mask(const char *rec, size_t base, size_t len) {
  size_t k = len - base < 64 ? len - base : 64;
  uint64_t m = 0;
  size_t j = 0;
#ifdef __SSE2__
  const __m128i comma = _mm_set1_epi8(','), cr = _mm_set1_epi8('\r');
  for (; j + 16 <= k; j += 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(rec + base + j));
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, cr));
    m |= (uint64_t)(unsigned)_mm_movemask_epi8(hit) << j;
  }
  if (j < k && base + k >= 16) {
    /* The last r < 16 bytes: load the 16 bytes that end at base + k (all
     * inside the record) and keep the top r bits of their mask. */
    size_t r = k - j;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(rec + base + k - 16));
    __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, cr));
    m |= (uint64_t)((unsigned)_mm_movemask_epi8(hit) >> (16 - r)) << j;
    return m;
  }
#endif
  for (; j < k; j++) {
    char c = rec[base + j];
    m |= (uint64_t)(c == ',' || c == '\r') << j;
  }
  return m;
}

/// Index of the lowest set bit of m != 0.
static inline int lowest_bit(uint64_t m) {
#if defined(__GNUC__)
  return __builtin_ctzll(m);
#else
  int k = 0;
  while (!(m & 1)) {
    m >>= 1;
    k++;
  }
  return k;
#endif
}

/// A window of separator bits over a record: bit k of mask is byte
/// base + k. The record is scanned once, 64 bytes at a time; bits below
/// the parse position are cleared as fields are consumed, so the next
/// separator is always the lowest set bit (a short dependency chain).
typedef struct {
  size_t base;
  uint64_t mask;
} sep_window;

/// Offset of the first ',' or '\r' in rec[i..len), or len. Needs the bits
/// of the window below i cleared (window_consume / window_skip).
static inline size_t find_sep(const char *rec, size_t i, size_t len, sep_window *w) {
  if (i >= len) return len;
  if (i >= w->base + 64) { /* jumped past the window (after a quoted field) */
    w->base = i;
    w->mask = sep_mask(rec, i, len);
  }
  while (!w->mask) {
    if (w->base + 64 >= len) return len;
    w->base += 64;
    w->mask = sep_mask(rec, w->base, len);
  }
  return w->base + (size_t)lowest_bit(w->mask);
}

/// Clears the lowest set bit: the separator find_sep just returned.
static inline void window_consume(sep_window *w) { w->mask &= w->mask - 1; }

/// Clears the bits below offset i (parsing continues at i).
static inline void window_skip(sep_window *w, size_t i) {
  if (i < w->base + 64) w->mask &= ~0ull << (i - w->base);
}

/* ---- fields ---- */

csv_code csv_split(const char *rec, size_t len, csv_field *fields, int max_fields, int *nfields,
                   char *scratch) {
  size_t i = 0;
  int nf = 0, cr = 0;
  char *s = scratch;
  sep_window win = {0, sep_mask(rec, 0, len)};
  for (;;) {
    const char *fp;
    size_t flen;
    size_t end; /* offset just past the field (at ',' or len) */
    if (i < len && rec[i] == '"') {
      size_t q = find_byte(rec, i + 1, len, '"');
      if (q == len) {
        *nfields = nf;
        return CSV_E_UNCLOSED_QUOTE;
      }
      if (q + 1 < len && rec[q + 1] == '"') {
        /* An escaped quote: copy the content to scratch, one '"' per "". */
        char *start = s;
        size_t from = i + 1;
        for (;;) {
          memcpy(s, rec + from, q + 1 - from); /* includes one '"' */
          s += q + 1 - from;
          from = q + 2;
          q = find_byte(rec, from, len, '"');
          if (q == len) {
            *nfields = nf;
            return CSV_E_UNCLOSED_QUOTE;
          }
          if (q + 1 < len && rec[q + 1] == '"') continue;
          memcpy(s, rec + from, q - from);
          s += q - from;
          break;
        }
        fp = start;
        flen = (size_t)(s - start);
      } else {
        fp = rec + i + 1;
        flen = q - i - 1;
      }
      end = q + 1;
      window_skip(&win, end + 1); /* the next field starts past the comma */
      if (end < len && rec[end] != ',') {
        *nfields = nf;
        return CSV_E_AFTER_QUOTE;
      }
    } else {
      /* unquoted: to the next ',' ('"' is an ordinary byte here); a '\r'
       * on the way is noted and passed */
      size_t j = find_sep(rec, i, len, &win);
      while (j < len && rec[j] == '\r') {
        cr = 1;
        window_consume(&win);
        j = find_sep(rec, j + 1, len, &win);
      }
      window_consume(&win);
      fp = rec + i;
      flen = j - i;
      end = j;
    }
    if (nf < max_fields) {
      fields[nf].p = fp;
      fields[nf].len = (uint32_t)flen;
    }
    nf++;
    if (end >= len) break;
    i = end + 1; /* past the ',' (a trailing ',' gives one more empty field) */
  }
  *nfields = nf;
  return cr ? CSV_E_CR : CSV_OK;
}

/* ---- the common record in one pass ---- */

/// Classifies the 64 bytes at p (all readable) into w's masks.
static inline void classify64(const char *p, csv_window *w) {
#ifdef __SSE2__
  const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), quote = _mm_set1_epi8('"'),
                cr = _mm_set1_epi8('\r'), zero = _mm_setzero_si128();
  uint64_t c = 0, n = 0, q = 0, o = 0;
  for (int k = 0; k < 4; k++) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
    c |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) << (16 * k);
    n |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) << (16 * k);
    q |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) << (16 * k);
    /* odd: NUL, '\r' or >= 0x80 (a '\r' is most often the line end's) */
    __m128i nul_cr = _mm_or_si128(_mm_cmpeq_epi8(v, zero), _mm_cmpeq_epi8(v, cr));
    o |= (uint64_t)(unsigned)(_mm_movemask_epi8(v) | _mm_movemask_epi8(nul_cr)) << (16 * k);
  }
  w->comma = c;
  w->nl = n;
  w->quote = q;
  w->odd = o;
#else
  w->comma = w->nl = w->quote = w->odd = 0;
  for (int k = 0; k < 64; k++) {
    unsigned char b = (unsigned char)p[k];
    w->comma |= (uint64_t)(b == ',') << k;
    w->nl |= (uint64_t)(b == '\n') << k;
    w->quote |= (uint64_t)(b == '"') << k;
    w->odd |= (uint64_t)(b == 0 || b == '\r' || b >= 0x80) << k;
  }
#endif
}

/// Makes w the window that starts at buf[base]; past n the bytes read as
/// '\n' (a padded copy), which ends the last record at n.
static inline void window_at(const char *buf, size_t n, size_t base, csv_window *w) {
  w->base = base;
  w->valid = 1;
  if (n - base >= 64) {
    classify64(buf + base, w);
    return;
  }
  char tail[64];
  memset(tail, '\n', sizeof tail);
  memcpy(tail, buf + base, n - base);
  classify64(tail, w);
}

size_t csv_plain_record(const char *buf, size_t n, size_t pos, csv_window *w, csv_field *fields, int max_fields,
                        int *nfields, size_t *len) {
  if (!w->valid || pos < w->base || pos - w->base >= 64) {
    /* the window from the cache line that holds buf[pos] (csv.h) */
    size_t skew = (size_t)((uintptr_t)(buf + pos) & 63);
    window_at(buf, n, skew <= pos ? pos - skew : pos, w);
  }
  size_t start = pos;
  int nf = 0;
  uint64_t from = ~0ull << (pos - w->base); /* the bytes at and after pos */
  size_t run = 0;                           /* 1 + offset of a '\r' run that ends the line, or 0 */
  for (;;) {
    uint64_t nl = w->nl & from;
    uint64_t below = nl ? (nl & -nl) - 1 : ~0ull; /* the bytes before the first '\n' */
    below &= from;
    if (w->quote & below) return CSV_NOT_PLAIN;
    /* odd bytes only as the run of '\r's that ends at the '\n' (the line
     * end, CRLF), checked byte by byte (a run is short); the run may begin
     * in the window before (run: where), then it fills this one up to the
     * '\n' */
    uint64_t crs = w->odd & below;
    if (crs | run) {
      uint64_t end = nl & -nl; /* 0 without '\n': the run then reaches bit 63 */
      if (run && !(crs & 1) && end != 1) return CSV_NOT_PLAIN; /* the carried run must go on or end here */
      if (crs && crs + (crs & -crs) != end) return CSV_NOT_PLAIN;
      for (uint64_t m = crs; m; m &= m - 1)
        if (buf[w->base + (size_t)lowest_bit(m)] != '\r') return CSV_NOT_PLAIN;
      if (!run && crs) run = w->base + (size_t)lowest_bit(crs) + 1;
    }
    uint64_t commas = w->comma & below;
    while (commas) {
      size_t c = w->base + (size_t)lowest_bit(commas);
      if (nf < max_fields) fields[nf] = (csv_field){buf + start, (uint32_t)(c - start)};
      nf++;
      start = c + 1;
      commas &= commas - 1;
    }
    if (nl) {
      size_t e = w->base + (size_t)lowest_bit(nl);
      size_t l = run ? run - 1 : e;
      if (nf < max_fields) fields[nf] = (csv_field){buf + start, (uint32_t)(l - start)};
      *nfields = nf + 1;
      *len = l - pos;
      return e - pos;
    }
    window_at(buf, n, w->base + 64, w);
    from = ~0ull;
  }
}

/* ---- text ---- */

int csv_utf8_len(const char *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  if (n == 0) return 0;
  unsigned c = b[0];
  if (c < 0x80) return c ? 1 : 0;
  /* Unicode Table 3-7, well-formed byte sequences: the second byte's
   * range excludes overlongs (E0, F0), surrogates (ED) and code points
   * above U+10FFFF (F4). */
  int len;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0; /* 80..C1 (continuation, overlong lead) and F5..FF */
  }
  if (n < (size_t)len) return 0;
  if (b[1] < lo || b[1] > hi) return 0;
  for (int k = 2; k < len; k++)
    if (b[k] < 0x80 || b[k] > 0xBF) return 0;
  return len;
}

/// Non-zero when one of the 32 bytes at b is NUL or >= 0x80.
static inline int block_needs_check(const unsigned char *b) {
  uint64_t w[4];
  memcpy(w, b, sizeof w);
  uint64_t r = 0;
  for (int k = 0; k < 4; k++) r |= (w[k] - ONES) | w[k];
  return (r & HIGHS) != 0;
}

csv_code csv_check_text(const char *buf, size_t n) {
  const unsigned char *b = (const unsigned char *)buf;
  size_t i = 0;
  while (i < n) {
    while (n - i >= 32 && !block_needs_check(b + i)) i += 32;
    /* A tail of a long buffer: the 32 bytes that end at n overlap what was
     * checked and are all inside the buffer. */
    if (i < n && n - i < 32 && n >= 32 && !block_needs_check(b + n - 32)) return CSV_OK;
    /* The tail (and short records) a word at a time, padded with spaces. */
    while (n - i < 32 && i < n) {
      uint64_t w = load_word(buf + i, n - i, ' ');
      if (((w - ONES) | w) & HIGHS) break;
      i += n - i < 8 ? n - i : 8;
    }
    if (i >= n) break;
    size_t stop = n - i >= 32 ? i + 32 : n;
    while (i < stop) {
      unsigned c = b[i];
      if (c - 1u < 0x7Fu) { /* 0x01..0x7F */
        i++;
        continue;
      }
      if (c == 0) return CSV_E_NUL;
      int len = csv_utf8_len(buf + i, n - i);
      if (len == 0) return CSV_E_UTF8;
      i += (size_t)len;
    }
  }
  return CSV_OK;
}

size_t csv_quote_raw(char *dst, const char *src, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  char *d = dst;
  *d++ = '"';
  size_t i = 0;
  while (i < n) {
    int len = csv_utf8_len(src + i, n - i);
    if (len == 0) {
      unsigned char c = (unsigned char)src[i++];
      *d++ = '\\';
      *d++ = 'x';
      *d++ = hex[c >> 4];
      *d++ = hex[c & 15];
      continue;
    }
    if (src[i] == '"') *d++ = '"';
    memcpy(d, src + i, (size_t)len);
    d += len;
    i += (size_t)len;
  }
  *d++ = '"';
  return (size_t)(d - dst);
}

/* ---- numbers ---- */

static inline int is_digit(char c) { return (unsigned)(c - '0') < 10u; }

csv_code parse_i64(const char *p, size_t n, int64_t *out) {
  if (n == 0) return CSV_E_EMPTY;
  size_t i = 0;
  int neg = p[0] == '-';
  i += (size_t)neg;
  if (i == n) return CSV_E_INTEGER;
  /* Accumulate the magnitude; the limit is 2^63 for a negative value. */
  const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
  uint64_t v = 0;
  for (; i < n; i++) {
    if (!is_digit(p[i])) return CSV_E_INTEGER;
    unsigned d = (unsigned)(p[i] - '0');
    if (v > (limit - d) / 10) return CSV_E_INTEGER;
    v = v * 10 + d;
  }
  *out = neg ? (int64_t)(0u - v) : (int64_t)v;
  return CSV_OK;
}

csv_code parse_id(const char *p, size_t n, int64_t *out) {
  if (n == 0) return CSV_E_EMPTY;
  size_t i = 0;
  uint64_t v = 0;
  /* 18 digits cannot overflow: no check in the common loop. */
  size_t easy = n < 18 ? n : 18;
  for (; i < easy; i++) {
    unsigned d = (unsigned)(unsigned char)p[i] - '0';
    if (d > 9) break;
    v = v * 10 + d;
  }
  for (; i < n && is_digit(p[i]); i++) {
    unsigned d = (unsigned)(p[i] - '0');
    if (v > ((uint64_t)INT64_MAX - d) / 10) return CSV_E_ID;
    v = v * 10 + d;
  }
  if (i == 0) return CSV_E_ID;
  if (i < n) {
    /* Only a zero fraction may follow: '.' and one or more '0'. */
    if (p[i] != '.' || i + 1 == n) return CSV_E_ID;
    for (i++; i < n; i++)
      if (p[i] != '0') return CSV_E_ID;
  }
  if (v == 0) return CSV_E_ID;
  *out = (int64_t)v;
  return CSV_OK;
}

/// 10^k for k = 0..22: all exact doubles (5^22 < 2^53).
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/// The slow, exact path: value = 0.D[f..] x 10^e10 where D is the digit
/// string (integer digits int_p[0..ni) then fraction digits frac_p[0..nf)),
/// f the index of its first non-zero digit.
static csv_code decimal_slow(int neg, const char *int_p, size_t ni, const char *frac_p, size_t nf,
                             double *out) {
  enum { MAX_DIGITS = 780 };
  size_t total = ni + nf, f = 0;
#define DIGIT_AT(k) ((k) < ni ? int_p[(k)] : frac_p[(k) - ni])
  while (f < total && DIGIT_AT(f) == '0') f++;
  if (f == total) {
    *out = neg ? -0.0 : 0.0;
    return CSV_OK;
  }
  /* e10: the value is 0.S x 10^e10. |e10| <= the field length, so int64. */
  int64_t e10 = (int64_t)ni - (int64_t)f;
  if (e10 > 330) return CSV_E_DECIMAL; /* >= 10^329: beyond every double */
  if (e10 < -400) {                    /* < 10^-400: rounds to zero */
    *out = neg ? -0.0 : 0.0;
    return CSV_OK;
  }
  char tmp[MAX_DIGITS + 32];
  size_t t = 0;
  if (neg) tmp[t++] = '-';
  tmp[t++] = '0';
  tmp[t++] = '.';
  size_t k = f;
  for (; k < total && k - f < MAX_DIGITS; k++) tmp[t++] = DIGIT_AT(k);
  for (; k < total; k++) {
    if (DIGIT_AT(k) != '0') {
      tmp[t++] = '1'; /* sticky digit: something non-zero was cut */
      break;
    }
  }
#undef DIGIT_AT
  tmp[t++] = 'e';
  int64_t e = e10;
  if (e < 0) {
    tmp[t++] = '-';
    e = -e;
  }
  char rev[8];
  int r = 0;
  do {
    rev[r++] = (char)('0' + e % 10);
    e /= 10;
  } while (e);
  while (r) tmp[t++] = rev[--r];
  tmp[t] = '\0';
  double v = strtod(tmp, NULL);
  if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) return CSV_E_DECIMAL;
  *out = v;
  return CSV_OK;
}

/// The digits of "-?[0-9]*(.[0-9]*)?" as one integer m with nf of them
/// after the point. 0 when p is not of that shape, has no digit, or has
/// more than 19 digits (m would not be exact).
static inline int decimal_digits(const char *p, size_t n, uint64_t *m, size_t *nf) {
  size_t i = n && p[0] == '-';
  uint64_t v = 0;
  size_t digits = 0, frac = 0;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)p[i] - '0';
    if (d > 9) break;
    v = v * 10 + d;
    digits++;
  }
  if (i < n && p[i] == '.') {
    size_t start = ++i;
    for (; i < n; i++) {
      unsigned d = (unsigned)(unsigned char)p[i] - '0';
      if (d > 9) break;
      v = v * 10 + d;
    }
    frac = i - start;
    digits += frac;
  }
  if (i != n || digits == 0 || digits > 19) return 0;
  *m = v;
  *nf = frac;
  return 1;
}

/// The signed value of the digits m with nf of them after the point:
/// correctly rounded for m <= 2^53 (Clinger's fast path, nf <= 19).
static inline double digits_value(uint64_t m, size_t nf, int neg) {
  double v = nf ? (double)m / pow10_exact[nf] : (double)m;
  return neg ? -v : v;
}

/// q x (the digits' value) into *out, formed exactly and rounded once,
/// when q x m fits 53 bits (an overflow test, not a division, decides);
/// returns 0 otherwise. A zero product is +0.0.
static inline int digits_times(uint64_t m, size_t nf, int neg, int64_t q, double *out) {
  uint64_t qm, aq = q < 0 ? (uint64_t)0 - (uint64_t)q : (uint64_t)q;
  if (__builtin_mul_overflow(aq, m, &qm) || qm > (1ull << 53)) return 0;
  double r = nf ? (double)qm / pow10_exact[nf] : (double)qm;
  *out = (neg ^ (q < 0)) && r != 0 ? -r : r;
  return 1;
}

/// The common case in one pass: at most 19 digits in all (so the digit
/// string is exact in a uint64_t) and a value that Clinger's fast path
/// rounds exactly. Returns 0 when the general parser must decide.
static inline int decimal_short(const char *p, size_t n, double *out) {
  uint64_t m;
  size_t nf;
  if (!decimal_digits(p, n, &m, &nf) || m > (1ull << 53)) return 0;
  *out = digits_value(m, nf, p[0] == '-');
  return 1;
}

double decimal_times(int64_t q, const char *p, size_t n, double v) {
  uint64_t m;
  size_t nf;
  double r;
  if (!decimal_digits(p, n, &m, &nf) || !digits_times(m, nf, n && p[0] == '-', q, &r)) return (double)q * v + 0.0;
  return r;
}

csv_code parse_decimal_times(const char *p, size_t n, int64_t q, double *value, double *times) {
  uint64_t m;
  size_t nf;
  /* both from one scan of the digits when decimal_short and decimal_times
   * would take their exact paths; the two functions otherwise. The value
   * costs a division, so it is formed only when asked for or needed. */
  if (n > 0 && n <= 21 && decimal_digits(p, n, &m, &nf) && m <= (1ull << 53)) {
    int neg = p[0] == '-', exact = digits_times(m, nf, neg, q, times);
    if (value || !exact) {
      double v = digits_value(m, nf, neg);
      if (value) *value = v;
      if (!exact) *times = (double)q * v + 0.0;
    }
    return CSV_OK;
  }
  double v;
  csv_code c = parse_decimal(p, n, &v);
  if (c == CSV_OK) {
    if (value) *value = v;
    *times = decimal_times(q, p, n, v);
  }
  return c;
}

/* value == c / 10^k exactly, c the nearest integer to value x 10^k */
static inline int decimal_fits(double v, int k, int64_t *c) {
  double x = v * pow10_exact[k];
  if (!(x > -9007199254740992.0 && x < 9007199254740992.0)) return 0;
  *c = round_half_away(x);
  double back = (double)*c / pow10_exact[k];
  return memcmp(&back, &v, sizeof v) == 0;
}

int decimal_places(const double *v, int64_t n, int64_t *out) {
  int k = 0;
  int64_t scratch;
#define SLOT(i) (out ? &out[i] : &scratch)
  for (int64_t i = 0; i < n; i++) {
    if (decimal_fits(v[i], k, SLOT(i))) continue;
    /* more places, until this value and every one before it fit (their
     * packed values are rewritten at the new k; at most 9 times in all) */
    for (;;) {
      if (++k > DECIMAL_MAX_PLACES) return -1;
      int64_t j = i;
      while (j >= 0 && decimal_fits(v[j], k, SLOT(j))) j--;
      if (j < 0) break;
    }
  }
#undef SLOT
  return k;
}

int decimal_pack(const double *v, int64_t n, int k, int64_t *out) {
  int ok = 1;
  for (int64_t i = 0; i < n; i++) ok &= decimal_fits(v[i], k, &out[i]);
  return ok;
}

void decimal_unpack(const int64_t *in, int64_t n, int k, double *out) {
  for (int64_t i = 0; i < n; i++) {
    int64_t c;
    memcpy(&c, &in[i], sizeof c); /* in and out may be the same buffer */
    out[i] = (double)c / pow10_exact[k];
  }
}

csv_code parse_decimal(const char *p, size_t n, double *out) {
  if (n == 0) return CSV_E_EMPTY;
  if (n <= 21 && decimal_short(p, n, out)) return CSV_OK;
  size_t i = 0;
  int neg = p[0] == '-';
  i += (size_t)neg;
  const char *int_p = p + i;
  uint64_t m = 0; /* up to 19 significant digits */
  int nd = 0;     /* significant digits in m */
  int64_t e10 = 0;
  int cut = 0; /* a digit did not fit in m */
  for (; i < n && is_digit(p[i]); i++) {
    unsigned d = (unsigned)(p[i] - '0');
    if (nd == 0 && d == 0) continue;
    if (nd < 19) {
      m = m * 10 + d;
      nd++;
    } else {
      e10++;
      cut = 1;
    }
  }
  size_t ni = (size_t)(p + i - int_p);
  const char *frac_p = p + i;
  size_t nf = 0;
  if (i < n && p[i] == '.') {
    i++;
    frac_p = p + i;
    for (; i < n && is_digit(p[i]); i++) {
      unsigned d = (unsigned)(p[i] - '0');
      if (nd == 0 && d == 0) {
        e10--;
        continue;
      }
      if (nd < 19) {
        m = m * 10 + d;
        nd++;
        e10--;
      } else {
        cut = 1;
      }
    }
    nf = (size_t)(p + i - frac_p);
  }
  if (i != n || (ni == 0 && nf == 0)) return CSV_E_DECIMAL;
  if (!cut) {
    if (m == 0) {
      *out = neg ? -0.0 : 0.0;
      return CSV_OK;
    }
    while (m % 10 == 0) { /* 1.50 -> 15e-1: widens the fast path */
      m /= 10;
      e10++;
    }
    if (m <= (1ull << 53)) {
      double v = (double)m;
      int fast = 1;
      if (e10 < 0 && e10 >= -22) {
        v /= pow10_exact[-e10];
      } else if (e10 >= 0 && e10 <= 22) {
        v *= pow10_exact[e10];
      } else if (e10 > 22 && e10 <= 22 + 15) {
        /* m x 10^(e10-22) may still be an exact integer below 2^53. */
        uint64_t mm = m;
        for (int64_t k = 22; k < e10 && mm <= (1ull << 53); k++) mm *= 10;
        if (mm <= (1ull << 53))
          v = (double)mm * 1e22;
        else
          fast = 0;
      } else {
        fast = 0;
      }
      if (fast) {
        *out = neg ? -v : v;
        return CSV_OK;
      }
    }
  }
  return decimal_slow(neg, int_p, ni, frac_p, nf, out);
}

/* ---- dates ---- */

int32_t days_from_civil(int y, int m, int d) {
  int64_t yy = (int64_t)y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;                                    /* [0, 399] */
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;   /* [0, 365] */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;             /* [0, 146096] */
  return (int32_t)(era * 146097 + doe - 719468);
}

void civil_from_days(int32_t z, int *y, int *m, int *d) {
  int64_t zz = (int64_t)z + 719468;
  int64_t era = (zz >= 0 ? zz : zz - 146096) / 146097;
  int64_t doe = zz - era * 146097;                                    /* [0, 146096] */
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
  int64_t mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
  int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
  int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yoe + era * 400 + (mm <= 2));
  *m = mm;
  *d = dd;
}

char *format_date(int32_t day, char *buf) {
  int y, m, d;
  civil_from_days(day, &y, &m, &d);
  unsigned uy = (unsigned)(y < 0 ? 0 : y % 10000);
  buf[0] = (char)('0' + uy / 1000);
  buf[1] = (char)('0' + uy / 100 % 10);
  buf[2] = (char)('0' + uy / 10 % 10);
  buf[3] = (char)('0' + uy % 10);
  buf[4] = '-';
  buf[5] = (char)('0' + m / 10);
  buf[6] = (char)('0' + m % 10);
  buf[7] = '-';
  buf[8] = (char)('0' + d / 10);
  buf[9] = (char)('0' + d % 10);
  buf[10] = 0;
  return buf;
}

/// Value of the k digits at p, or -1 when one is not a digit.
static inline int digits_at(const char *p, int k) {
  int v = 0;
  unsigned bad = 0; /* no branch per digit: one test at the end */
  for (int j = 0; j < k; j++) {
    unsigned d = (unsigned)(unsigned char)p[j] - '0';
    bad |= d > 9;
    v = v * 10 + (int)d;
  }
  return bad ? -1 : v;
}

/// Days since epoch of (y, m, d) into *day when that is a real date.
static csv_code civil_checked(int y, int m, int d, int32_t *day) {
  static const int mdays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 0 || m < 1 || m > 12 || d < 1) return CSV_E_DATE;
  if (d > 28) { /* every month has 28 days: the calendar only past that */
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = mdays[m] + (m == 2 && leap);
    if (d > dim) return CSV_E_DATE;
  }
  *day = days_from_civil(y, m, d);
  return CSV_OK;
}

/* Day numbers of 1 January of the years 1900 to 2156 (days_from_civil;
 * test_csv checks every entry): the common date is a table lookup. */
static const int32_t year_start[257] = {
    -25567, -25202, -24837, -24472, -24107, -23741, -23376, -23011, -22646, -22280,
    -21915, -21550, -21185, -20819, -20454, -20089, -19724, -19358, -18993, -18628,
    -18263, -17897, -17532, -17167, -16802, -16436, -16071, -15706, -15341, -14975,
    -14610, -14245, -13880, -13514, -13149, -12784, -12419, -12053, -11688, -11323,
    -10958, -10592, -10227, -9862, -9497, -9131, -8766, -8401, -8036, -7670,
    -7305, -6940, -6575, -6209, -5844, -5479, -5114, -4748, -4383, -4018,
    -3653, -3287, -2922, -2557, -2192, -1826, -1461, -1096, -731, -365,
    0, 365, 730, 1096, 1461, 1826, 2191, 2557, 2922, 3287,
    3652, 4018, 4383, 4748, 5113, 5479, 5844, 6209, 6574, 6940,
    7305, 7670, 8035, 8401, 8766, 9131, 9496, 9862, 10227, 10592,
    10957, 11323, 11688, 12053, 12418, 12784, 13149, 13514, 13879, 14245,
    14610, 14975, 15340, 15706, 16071, 16436, 16801, 17167, 17532, 17897,
    18262, 18628, 18993, 19358, 19723, 20089, 20454, 20819, 21184, 21550,
    21915, 22280, 22645, 23011, 23376, 23741, 24106, 24472, 24837, 25202,
    25567, 25933, 26298, 26663, 27028, 27394, 27759, 28124, 28489, 28855,
    29220, 29585, 29950, 30316, 30681, 31046, 31411, 31777, 32142, 32507,
    32872, 33238, 33603, 33968, 34333, 34699, 35064, 35429, 35794, 36160,
    36525, 36890, 37255, 37621, 37986, 38351, 38716, 39082, 39447, 39812,
    40177, 40543, 40908, 41273, 41638, 42004, 42369, 42734, 43099, 43465,
    43830, 44195, 44560, 44926, 45291, 45656, 46021, 46387, 46752, 47117,
    47482, 47847, 48212, 48577, 48942, 49308, 49673, 50038, 50403, 50769,
    51134, 51499, 51864, 52230, 52595, 52960, 53325, 53691, 54056, 54421,
    54786, 55152, 55517, 55882, 56247, 56613, 56978, 57343, 57708, 58074,
    58439, 58804, 59169, 59535, 59900, 60265, 60630, 60996, 61361, 61726,
    62091, 62457, 62822, 63187, 63552, 63918, 64283, 64648, 65013, 65379,
    65744, 66109, 66474, 66840, 67205, 67570, 67935,
};

/* The days before each month, in a common and in a leap year. */
static const int16_t month_start[2][13] = {{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334},
                                           {0, 0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335}};
static const uint8_t month_days[2][13] = {{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
                                          {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};

static csv_code parse_date_general(const char *p, size_t n, int32_t *day) {
  if (n == 0) return CSV_E_EMPTY;
  if (n != 10 || p[4] != '-' || p[7] != '-') return CSV_E_DATE;
  return civil_checked(digits_at(p, 4), digits_at(p + 5, 2), digits_at(p + 8, 2), day);
}

/* "YYYY-MM-DD" of the years 1900-2155 as words: the eight bytes
 * "YYYY-MM-" and the two "DD" checked and split with masks (a digit is
 * 0x3_ with a low nibble that does not carry when 6 is added), the day from
 * the tables. Anything else takes the general path, which also names the
 * error. */
csv_code parse_date(const char *p, size_t n, int32_t *day) {
  if (n != 10) return parse_date_general(p, n, day);
  uint64_t a;
  uint16_t b;
  memcpy(&a, p, 8);
  memcpy(&b, p + 8, 2);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  a = __builtin_bswap64(a); /* byte k of the text is bits 8k.. */
  b = __builtin_bswap16(b);
#endif
  const uint64_t digit = 0x00ffff00ffffffffull, sep = 0xff0000ff00000000ull;
  uint64_t lo = a & 0x0f0f0f0f0f0f0f0full & digit;
  unsigned blo = b & 0x0f0fu;
  if ((a & sep) != 0x2d00002d00000000ull || (a & 0xf0f0f0f0f0f0f0f0ull & digit) != (0x3030303030303030ull & digit) ||
      ((lo + 0x0606060606060606ull) & 0x1010101010101010ull & digit) || (b & 0xf0f0u) != 0x3030u ||
      ((blo + 0x0606u) & 0x1010u))
    return parse_date_general(p, n, day);
  int y = (int)(lo & 0xff) * 1000 + (int)(lo >> 8 & 0xff) * 100 + (int)(lo >> 16 & 0xff) * 10 + (int)(lo >> 24 & 0xff);
  int m = (int)(lo >> 40 & 0xff) * 10 + (int)(lo >> 48 & 0xff);
  int d = (int)(blo & 0xff) * 10 + (int)(blo >> 8);
  unsigned yi = (unsigned)(y - 1900);
  if (yi > 255 || m < 1 || m > 12 || d < 1) return parse_date_general(p, n, day);
  int leap = year_start[yi + 1] - year_start[yi] - 365;
  if (d > month_days[leap][m]) return CSV_E_DATE;
  *day = year_start[yi] + month_start[leap][m] + d - 1;
  return CSV_OK;
}

/// "HH:MM:SS" at p (8 bytes) -> seconds since midnight.
static csv_code parse_hms(const char *p, int32_t *sec) {
  if (p[2] != ':' || p[5] != ':') return CSV_E_DATE;
  int h = digits_at(p, 2), mi = digits_at(p + 3, 2), s = digits_at(p + 6, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) return CSV_E_DATE;
  *sec = h * 3600 + mi * 60 + s;
  return CSV_OK;
}

csv_code parse_datetime(const char *p, size_t n, int32_t *day, int32_t *sec) {
  if (n == 0) return CSV_E_EMPTY;
  if (n != 19 || p[10] != ' ') return CSV_E_DATE;
  int32_t dd, ss;
  csv_code c = parse_date(p, 10, &dd);
  if (c != CSV_OK) return c;
  c = parse_hms(p + 11, &ss);
  if (c != CSV_OK) return c;
  *day = dd;
  *sec = ss;
  return CSV_OK;
}

csv_code parse_date_memo(csv_date_memo *m, const char *p, size_t n, int32_t *day) {
  if (n != 10) return parse_date(p, n, day);
  uint64_t head;
  uint16_t tail;
  memcpy(&head, p, 8);
  memcpy(&tail, p + 8, 2);
  if (m->valid && head == m->head && tail == m->tail) {
    *day = m->day;
    return CSV_OK;
  }
  csv_code c = parse_date(p, n, day);
  if (c == CSV_OK) *m = (csv_date_memo){head, tail, 1, *day};
  return c;
}

csv_code parse_datetime_memo(csv_date_memo *m, const char *p, size_t n, int32_t *day, int32_t *sec) {
  if (n != 19 || p[10] != ' ') return parse_datetime(p, n, day, sec);
  int32_t dd, ss;
  csv_code c = parse_date_memo(m, p, 10, &dd);
  if (c != CSV_OK) return c;
  c = parse_hms(p + 11, &ss);
  if (c != CSV_OK) return c;
  *day = dd;
  *sec = ss;
  return CSV_OK;
}

/// Reads 1 or 2 digits at p[*i], stopping before n; -1 when there are none.
static int read_1or2(const char *p, size_t n, size_t *i) {
  size_t j = *i;
  if (j >= n || !is_digit(p[j])) return -1;
  int v = p[j++] - '0';
  if (j < n && is_digit(p[j])) v = v * 10 + (p[j++] - '0');
  *i = j;
  return v;
}

csv_code parse_retail_datetime(const char *p, size_t n, int32_t *day, int32_t *sec) {
  if (n == 0) return CSV_E_EMPTY;
  if (n == 19 && p[4] == '-') return parse_datetime(p, n, day, sec);
  /* M/D/YYYY H:MM */
  size_t i = 0;
  int m = read_1or2(p, n, &i);
  if (m < 0 || i >= n || p[i++] != '/') return CSV_E_DATE;
  int d = read_1or2(p, n, &i);
  if (d < 0 || i >= n || p[i++] != '/') return CSV_E_DATE;
  if (n - i < 4) return CSV_E_DATE;
  int y = digits_at(p + i, 4);
  i += 4;
  if (y < 0 || i >= n || p[i++] != ' ') return CSV_E_DATE;
  int h = read_1or2(p, n, &i);
  if (h < 0 || i >= n || p[i++] != ':') return CSV_E_DATE;
  if (n - i != 2) return CSV_E_DATE;
  int mi = digits_at(p + i, 2);
  if (h > 23 || mi < 0 || mi > 59) return CSV_E_DATE;
  int32_t dd;
  csv_code c = civil_checked(y, m, d, &dd);
  if (c != CSV_OK) return c;
  *day = dd;
  *sec = h * 3600 + mi * 60;
  return CSV_OK;
}

csv_code parse_any_date(const char *p, size_t n, int32_t *day, int32_t *sec) {
  if (n == 0) return CSV_E_EMPTY;
  if (n == 19) return parse_datetime(p, n, day, sec);
  int32_t dd;
  csv_code c;
  if (n == 10) {
    c = parse_date(p, n, &dd);
  } else if (n == 8) {
    c = civil_checked(digits_at(p, 4), digits_at(p + 4, 2), digits_at(p + 6, 2), &dd);
  } else {
    return CSV_E_DATE;
  }
  if (c != CSV_OK) return c;
  *day = dd;
  *sec = 0;
  return CSV_OK;
}
