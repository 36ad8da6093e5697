/* fletcher32.c: the Fletcher-32 checksum of HDF5's filter (fletcher32.h). */
#include "fletcher32.h"

static uint32_t fold(uint32_t s) { return (s & 0xffff) + (s >> 16); }

uint32_t fletcher32(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t a = 0, b = 0;
  size_t words = len / 2;
  while (words) {
    size_t block = words < 360 ? words : 360; /* 360 words cannot overflow the sums */
    words -= block;
    for (size_t i = 0; i < block; i++, p += 2) {
      a += (uint32_t)p[0] << 8 | p[1];
      b += a;
    }
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
