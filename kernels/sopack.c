/* sopack.c: HDF5's scale-offset coding of integer chunks (see sopack.h).
 *
 * Values are handled as keys: the raw bits with the sign bit flipped for
 * signed types, so one unsigned comparison orders them and key - min is the
 * offset HDF5 codes (flipping the top bit adds 2^(w-1) modulo 2^w). One
 * body per width, made constant by the always-inline calls, so each width
 * compiles to its own loop. A large chunk is coded by the OpenMP threads,
 * each a slice of whole 64-value groups (byte-aligned: the same bytes).
 */
#include "sopack.h"

#include <omp.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

INLINE uint64_t load(const void *in, size_t i, unsigned w) {
  const unsigned char *b = (const unsigned char *)in + i * w;
  if (w == 1) return *b;
  if (w == 2) {
    uint16_t v;
    memcpy(&v, b, 2);
    return v;
  }
  if (w == 4) {
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
  }
  uint64_t v;
  memcpy(&v, b, 8);
  return v;
}

INLINE void put(void *out, size_t i, unsigned w, uint64_t v) {
  unsigned char *b = (unsigned char *)out + i * w;
  if (w == 1) *b = (unsigned char)v;
  else if (w == 2) {
    uint16_t x = (uint16_t)v;
    memcpy(b, &x, 2);
  } else if (w == 4) {
    uint32_t x = (uint32_t)v;
    memcpy(b, &x, 4);
  } else
    memcpy(b, &v, 8);
}

/* HDF5's H5Z__scaleoffset_log2: the least b with 2^b >= x (0 for x <= 1) */
static unsigned ceil_log2(uint64_t x) { return x <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(x - 1); }

/* the typed minimum as HDF5 stores it: an unsigned long long converted from
 * the C type, so signed minima are sign-extended */
static uint64_t widen(uint64_t v, unsigned bits, int is_signed) {
  if (!is_signed || bits == 64 || !(v >> (bits - 1) & 1)) return v;
  return v | ~((1ull << bits) - 1);
}

size_t so_encode_bound(size_t n, unsigned size) { return SO_HEADER + n * size + 1; }

/* A big-endian bit stream being written: `nacc` bits (< 64) wait in the
 * low end of `acc`; whole words leave at o. */
typedef struct {
  uint64_t acc;
  unsigned nacc;
  unsigned char *o;
} bitsink;

/* Appends the low b bits of x (1 <= b <= 64, x < 2^b). */
INLINE void push(bitsink *k, uint64_t x, unsigned b) {
  if (k->nacc + b < 64) {
    k->acc = k->acc << b | x;
    k->nacc += b;
    return;
  }
  unsigned r = 64 - k->nacc; /* 1..b: the bits of x that fit */
  uint64_t word = __builtin_bswap64((r == 64 ? 0 : k->acc << r) | (r == b ? x : x >> (b - r)));
  memcpy(k->o, &word, 8);
  k->o += 8;
  k->nacc = b - r;
  k->acc = k->nacc ? x & ((1ull << k->nacc) - 1) : 0;
}

/* Widens [*lo, *hi] to the key of v (its bits ^ sbit) unless v is the
 * fill value (selects, no branch). */
INLINE void widen_range(uint64_t v, uint64_t sbit, int has_fill, uint64_t fill, uint64_t *lo, uint64_t *hi) {
  uint64_t k = v ^ sbit;
  int skip = has_fill && v == fill;
  uint64_t kl = skip ? ~0ull : k, kh = skip ? 0 : k;
  *lo = kl < *lo ? kl : *lo;
  *hi = kh > *hi ? kh : *hi;
}

/* The range [*lo, *hi] of the keys of values [a, b), fill values left out
 * (selects, no branch: the loop vectorises); *lo > *hi when there are none. */
INLINE void range_w(const void *in, size_t a, size_t b, uint64_t sbit, int has_fill, uint64_t fill, unsigned w,
                    uint64_t *lo_out, uint64_t *hi_out) {
  /* four independent minima and maxima: one chain of compares and moves
   * took two cycles a value, four overlap */
  uint64_t l4[4] = {~0ull, ~0ull, ~0ull, ~0ull}, h4[4] = {0, 0, 0, 0}, lo = ~0ull, hi = 0;
  size_t i = a;
  const size_t m = a + (b - a) / 4 * 4; /* the tail after m: at most 3 values */
  for (; i < m; i += 4)
    for (size_t j = 0; j < 4; j++) widen_range(load(in, i + j, w), sbit, has_fill, fill, &l4[j], &h4[j]);
  for (; i < b; i++) widen_range(load(in, i, w), sbit, has_fill, fill, &l4[0], &h4[0]);
  for (int j = 0; j < 4; j++) {
    lo = l4[j] < lo ? l4[j] : lo;
    hi = h4[j] > hi ? h4[j] : hi;
  }
  *lo_out = lo;
  *hi_out = hi;
}

/* Packs the codes of values [a, b) at `minbits` (1..bits-1) bits from o,
 * a byte boundary (a is a multiple of 8); returns the end of the bytes
 * written (a partial last byte included). */
INLINE unsigned char *pack_w(const void *in, size_t a, size_t b, uint64_t sbit, int has_fill, uint64_t fill,
                             uint64_t lo, unsigned minbits, unsigned w, unsigned char *o) {
  bitsink k = {0, 0, o};
  const uint64_t ones = (1ull << minbits) - 1;
#define CODE(i) (has_fill && load(in, (i), w) == fill ? ones : (load(in, (i), w) ^ sbit) - lo)
  /* narrow codes go in twos, fours or eights: one push per group */
  size_t i = a;
  if (minbits <= 8)
    for (; i + 8 <= b; i += 8) {
      uint64_t g = 0;
      for (int j = 0; j < 8; j++) g = g << minbits | CODE(i + j);
      push(&k, g, 8 * minbits);
    }
  else if (minbits <= 16)
    for (; i + 4 <= b; i += 4) {
      uint64_t g = 0;
      for (int j = 0; j < 4; j++) g = g << minbits | CODE(i + j);
      push(&k, g, 4 * minbits);
    }
  else if (minbits <= 32)
    for (; i + 2 <= b; i += 2) push(&k, CODE(i) << minbits | CODE(i + 1), 2 * minbits);
  for (; i < b; i++) push(&k, CODE(i), minbits);
#undef CODE
  o = k.o;
  if (k.nacc > 0) {
    uint64_t word = __builtin_bswap64(k.acc << (64 - k.nacc));
    memcpy(o, &word, (k.nacc + 7) / 8);
    o += (k.nacc + 7) / 8;
  }
  return o;
}

/* range_w and pack_w with the width made constant again: OpenMP outlines a
 * parallel region before inlining, so a region's body calls these (each
 * width its own loop) rather than the always-inline bodies directly. */
static void range_any(const void *in, size_t a, size_t b, uint64_t sbit, int has_fill, uint64_t fill, unsigned w,
                      uint64_t *lo, uint64_t *hi) {
  switch (w) {
  case 1: range_w(in, a, b, sbit, has_fill, fill, 1, lo, hi); break;
  case 2: range_w(in, a, b, sbit, has_fill, fill, 2, lo, hi); break;
  case 4: range_w(in, a, b, sbit, has_fill, fill, 4, lo, hi); break;
  default: range_w(in, a, b, sbit, has_fill, fill, 8, lo, hi); break;
  }
}

static unsigned char *pack_any(const void *in, size_t a, size_t b, uint64_t sbit, int has_fill, uint64_t fill,
                               uint64_t lo, unsigned minbits, unsigned w, unsigned char *o) {
  switch (w) {
  case 1: return pack_w(in, a, b, sbit, has_fill, fill, lo, minbits, 1, o);
  case 2: return pack_w(in, a, b, sbit, has_fill, fill, lo, minbits, 2, o);
  case 4: return pack_w(in, a, b, sbit, has_fill, fill, lo, minbits, 4, o);
  default: return pack_w(in, a, b, sbit, has_fill, fill, lo, minbits, 8, o);
  }
}

/* Values per thread below which a chunk is coded by one thread (the fork
 * and join of a parallel region cost microseconds). */
#define SO_PAR_MIN ((size_t)1 << 15)

INLINE size_t encode_w(const void *in, size_t n, const so_params *p, unsigned char *out, unsigned w) {
  const unsigned bits = 8 * w;
  const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  const uint64_t sbit = p->is_signed ? 1ull << (bits - 1) : 0;
  const uint64_t fill = p->fill & mask;
  const int has_fill = p->has_fill;
  /* threads: slices of whole groups of 64 values, so every slice's codes
   * start on a byte boundary and the slices' bytes simply follow each other
   * (the same bytes as one thread's); one thread inside a parallel region
   * or for a small chunk */
  int T = omp_in_parallel() ? 1 : omp_get_max_threads();
  if ((size_t)T > n / SO_PAR_MIN) T = (int)(n / SO_PAR_MIN);
  if (T < 1) T = 1;
#define SLICE(t) ((t) == T ? n : n / 64 * (size_t)(t) / (size_t)T * 64)

  /* the range of the keys; a chunk of nothing but fill (or of nothing) has
   * HDF5's min = max = 0 */
  uint64_t lo = ~0ull, hi = 0;
  if (T == 1) range_w(in, 0, n, sbit, has_fill, fill, w, &lo, &hi);
  else {
#pragma omp parallel num_threads(T) reduction(min : lo) reduction(max : hi)
    {
      int t = omp_get_thread_num();
      range_any(in, SLICE(t), SLICE(t + 1), sbit, has_fill, fill, w, &lo, &hi);
    }
  }
  if (lo > hi) lo = hi = sbit;

  unsigned minbits;
  uint64_t minval;
  if (hi - lo > mask - 2) {
    /* full width: HDF5 stores no minimum here, except for signed chars
     * without a fill value (its one hand-written case) */
    minbits = bits;
    minval = (!has_fill && w == 1 && p->is_signed) ? widen(lo ^ sbit, bits, 1) : 0;
  } else {
    uint64_t span = hi - lo + 1;
    minbits = ceil_log2(has_fill ? span + 1 : span);
    minval = widen(lo ^ sbit, bits, p->is_signed);
  }

  memset(out, 0, SO_HEADER);
  for (unsigned i = 0; i < 4; i++) out[i] = (unsigned char)(minbits >> (8 * i));
  out[4] = 8;
  for (unsigned i = 0; i < 8; i++) out[5 + i] = (unsigned char)(minval >> (8 * i));
  if (minbits == bits) {
    memcpy(out + SO_HEADER, in, n * w);
    out[SO_HEADER + n * w] = 0;
    return SO_HEADER + n * w;
  }
  const size_t total = SO_HEADER + n * minbits / 8 + 1;
  unsigned char *o = out + SO_HEADER;
  if (minbits > 0 && T == 1) o = pack_w(in, 0, n, sbit, has_fill, fill, lo, minbits, w, o);
  else if (minbits > 0) {
    unsigned char *end = o;
#pragma omp parallel num_threads(T)
    {
      int t = omp_get_thread_num();
      unsigned char *e = pack_any(in, SLICE(t), SLICE(t + 1), sbit, has_fill, fill, lo, minbits, w,
                                  o + SLICE(t) / 8 * minbits);
      if (t == T - 1) end = e;
    }
    o = end;
  }
#undef SLICE
  memset(o, 0, (size_t)(out + total - o)); /* the spare byte HDF5 counts */
  return total;
}

size_t so_encode(const void *in, size_t n, const so_params *p, unsigned char *out) {
  switch (p->size) {
  case 1: return encode_w(in, n, p, out, 1);
  case 2: return encode_w(in, n, p, out, 2);
  case 4: return encode_w(in, n, p, out, 4);
  default: return encode_w(in, n, p, out, 8);
  }
}

/* `b` bits (1..64) at bit `pos` of d, one bit at a time (the stream's end,
 * widths above 56) */
static uint64_t bits_at(const unsigned char *d, size_t pos, unsigned b) {
  uint64_t c = 0;
  for (unsigned k = 0; k < b; k++, pos++) c = c << 1 | (uint64_t)(d[pos >> 3] >> (7 - (pos & 7)) & 1);
  return c;
}

INLINE int decode_w(const unsigned char *in, size_t len, size_t n, const so_params *p, void *out, unsigned w) {
  const unsigned bits = 8 * w;
  if (len < SO_HEADER) return -1;
  uint32_t minbits = 0;
  for (unsigned i = 0; i < 4; i++) minbits |= (uint32_t)in[i] << (8 * i);
  if (minbits > bits) return -1;
  unsigned msz = in[4] < 8 ? in[4] : 8;
  uint64_t minval = 0;
  for (unsigned i = 0; i < msz; i++) minval |= (uint64_t)in[5 + i] << (8 * i);
  if (minbits == bits) {
    if (len - SO_HEADER < n * w) return -1;
    memcpy(out, in + SO_HEADER, n * w);
    return 0;
  }
  const unsigned char *d = in + SO_HEADER;
  const size_t dlen = len - SO_HEADER;
  if (dlen < (n * minbits + 7) / 8) return -1;
  const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
  const uint64_t ones = (1ull << minbits) - 1;
  const uint64_t fill = p->fill & mask;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++, pos += minbits) {
    uint64_t c = 0;
    if (minbits > 0) {
      size_t at = pos >> 3;
      unsigned sh = (unsigned)(pos & 7);
      if (at + 8 <= dlen && minbits + sh <= 64) {
        uint64_t word;
        memcpy(&word, d + at, 8);
        c = (__builtin_bswap64(word) << sh) >> (64 - minbits);
      } else
        c = bits_at(d, pos, minbits);
    }
    put(out, i, w, p->has_fill && c == ones ? fill : c + minval);
  }
  return 0;
}

int so_decode(const unsigned char *in, size_t len, size_t n, const so_params *p, void *out) {
  switch (p->size) {
  case 1: return decode_w(in, len, n, p, out, 1);
  case 2: return decode_w(in, len, n, p, out, 2);
  case 4: return decode_w(in, len, n, p, out, 4);
  case 8: return decode_w(in, len, n, p, out, 8);
  default: return -1;
  }
}
