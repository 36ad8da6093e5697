/* shuffle.c: HDF5's byte shuffle, eight elements at a time (shuffle.h). */
#include "shuffle.h"

#include <stdint.h>
#include <string.h>

/* x[r] holds row r of an 8 x 8 byte matrix (byte c of x[r], little-endian,
 * is column c); afterwards byte c of x[r] is what byte r of x[c] was. */
static inline void transpose8(uint64_t x[8]) {
  for (int i = 0; i < 4; i++) {
    uint64_t a = x[i], b = x[i + 4];
    x[i] = (a & 0x00000000FFFFFFFFull) | (b << 32);
    x[i + 4] = (a >> 32) | (b & 0xFFFFFFFF00000000ull);
  }
  static const int pairs[4] = {0, 1, 4, 5};
  for (int k = 0; k < 4; k++) {
    int i = pairs[k];
    uint64_t a = x[i], b = x[i + 2];
    x[i] = (a & 0x0000FFFF0000FFFFull) | ((b & 0x0000FFFF0000FFFFull) << 16);
    x[i + 2] = ((a >> 16) & 0x0000FFFF0000FFFFull) | (b & 0xFFFF0000FFFF0000ull);
  }
  for (int i = 0; i < 8; i += 2) {
    uint64_t a = x[i], b = x[i + 1];
    x[i] = (a & 0x00FF00FF00FF00FFull) | ((b & 0x00FF00FF00FF00FFull) << 8);
    x[i + 1] = ((a >> 8) & 0x00FF00FF00FF00FFull) | (b & 0xFF00FF00FF00FF00ull);
  }
}

/* one byte at a time, elements [from, n) */
static void shuffle_tail(const uint8_t *in, size_t n, size_t size, size_t from, uint8_t *out) {
  for (size_t j = 0; j < size; j++) {
    const uint8_t *p = in + from * size + j;
    uint8_t *q = out + j * n + from;
    for (size_t k = from; k < n; k++, p += size) *q++ = *p;
  }
}

static void unshuffle_tail(const uint8_t *in, size_t n, size_t size, size_t from, uint8_t *out) {
  for (size_t j = 0; j < size; j++) {
    const uint8_t *p = in + j * n + from;
    uint8_t *q = out + from * size + j;
    for (size_t k = from; k < n; k++, q += size) *q = *p++;
  }
}

/* 8 x 8 byte transposes: 8 elements of 8 bytes in, 8 bytes to each plane */
static size_t shuffle8(const uint8_t *in, size_t n, uint8_t *out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x[8];
    memcpy(x, in + i * 8, sizeof x);
    transpose8(x);
    for (int j = 0; j < 8; j++) memcpy(out + (size_t)j * n + i, &x[j], 8);
  }
  return i;
}

static size_t unshuffle8(const uint8_t *in, size_t n, uint8_t *out) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x[8];
    for (int j = 0; j < 8; j++) memcpy(&x[j], in + (size_t)j * n + i, 8);
    transpose8(x);
    memcpy(out + i * 8, x, sizeof x);
  }
  return i;
}

/* either way: the whole groups of eight 8-byte elements in registers, the
 * rest a byte at a time, the leftover bytes copied */
static void run(const void *in, size_t nbytes, size_t size, void *out, int reverse) {
  const uint8_t *s = in;
  uint8_t *d = out;
  size_t n = size ? nbytes / size : 0;
  if (size <= 1 || n <= 1) {
    memcpy(d, s, nbytes);
    return;
  }
  size_t done = size != 8 ? 0 : reverse ? unshuffle8(s, n, d) : shuffle8(s, n, d);
  if (reverse) unshuffle_tail(s, n, size, done, d);
  else shuffle_tail(s, n, size, done, d);
  memcpy(d + n * size, s + n * size, nbytes - n * size);
}

void shuffle_bytes(const void *in, size_t nbytes, size_t size, void *out) { run(in, nbytes, size, out, 0); }

void unshuffle_bytes(const void *in, size_t nbytes, size_t size, void *out) { run(in, nbytes, size, out, 1); }
