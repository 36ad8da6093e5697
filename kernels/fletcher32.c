/* fletcher32.c: the Fletcher-32 checksum of HDF5's filter (fletcher32.h).
 *
 * HDF5 adds the big-endian words one at a time (a += w; b += a) and folds
 * both sums every 360 words. Over a block of k words the same sums are
 * a + S and b + k*a + sum of (k - i) * w_i (i from 0), computed here in
 * eight independent lanes of vector additions; all of it modulo
 * 2^32 as HDF5's 32-bit sums wrap, and folded at the same points, so the
 * value is HDF5's bit for bit. */
#include "fletcher32.h"

#include <string.h>

static uint32_t fold(uint32_t s) { return (s & 0xffff) + (s >> 16); }

typedef uint32_t v4u __attribute__((vector_size(16)));

/* The sums of a block of k words (k <= 360) from p: *s = sum of w_i and
 * *t = sum of (k - i) * w_i, modulo 2^32. Eight lanes, word i in lane
 * j = i % 8: lane j keeps the sum s_j of its words and the running sum
 * c_j of that (c_j = sum over its steps q of (Q - q) * w), so that for the
 * first 8Q words t = sum over lanes of 8 c_j - j s_j: additions only. The
 * lanes are two vectors of four (even and odd words: 16 bytes read as
 * four 32-bit values hold words 2m and 2m + 1 of the step in lane m),
 * which SSE2 adds four at a time. */
static void block_sums(const uint8_t *p, uint32_t k, uint32_t *s_out, uint32_t *t_out) {
  v4u se = {0, 0, 0, 0}, so = se, ce = se, co = se;
  const v4u m8 = {0xff, 0xff, 0xff, 0xff}, m16 = m8 << 8;
  uint32_t q8 = k / 8 * 8;
  for (uint32_t i = 0; i < q8; i += 8) {
    v4u x;
    memcpy(&x, p + 2 * i, sizeof x); /* little-endian: bytes b0 b1 b2 b3 of each value */
    se += (x & m8) << 8 | ((x >> 8) & m8); /* b0 << 8 | b1 */
    so += ((x >> 8) & m16) | (x >> 24);    /* b2 << 8 | b3 */
    ce += se;
    co += so;
  }
  uint32_t s = 0, t = 0;
  for (uint32_t m = 0; m < 4; m++) {
    s += se[m] + so[m];
    t += 8 * ce[m] - 2 * m * se[m] + 8 * co[m] - (2 * m + 1) * so[m];
  }
  uint32_t r = k - q8; /* the last words: their weights are r down to 1 */
  t += r * s;
  for (uint32_t i = 0; i < r; i++) {
    uint32_t w = (uint32_t)p[2 * (q8 + i)] << 8 | p[2 * (q8 + i) + 1];
    s += w;
    t += (r - i) * w;
  }
  *s_out = s;
  *t_out = t;
}

uint32_t fletcher32(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t a = 0, b = 0;
  size_t words = len / 2;
  while (words) {
    uint32_t block = words < 360 ? (uint32_t)words : 360; /* HDF5 folds every 360 words */
    words -= block;
    uint32_t s, t;
    block_sums(p, block, &s, &t);
    p += 2 * (size_t)block;
    b += block * a + t;
    a += s;
    a = fold(a);
    b = fold(b);
  }
  if (len & 1) {
    a += (uint32_t)p[0] << 8;
    b += a;
    a = fold(a);
    b = fold(b);
  }
  return fold(b) << 16 | fold(a);
}
