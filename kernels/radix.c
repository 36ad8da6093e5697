/* radix.c: stable LSD radix sort of (int64 key, int64 payload) pairs.
 *
 * Keys are biased to unsigned (flip the sign bit) so unsigned digit order
 * is signed key order. Six passes of 11 bits cover 64 bits; a pass whose
 * histogram has a single full bucket is skipped.
 */
#include "radix.h"

#include <stdlib.h>
#include <string.h>

#define RADIX_BITS 11
#define RADIX_SIZE (1 << RADIX_BITS)

int radix_sort_i64(int64_t *key, int64_t *val, int64_t n) {
  if (n < 2) return 0;
  uint64_t *k0 = malloc(sizeof(uint64_t) * (size_t)n), *k1 = malloc(sizeof(uint64_t) * (size_t)n);
  int64_t *v1 = malloc(sizeof(int64_t) * (size_t)n), *cnt = malloc(sizeof(int64_t) * RADIX_SIZE);
  if (!k0 || !k1 || !v1 || !cnt) {
    free(k0);
    free(k1);
    free(v1);
    free(cnt);
    return -1;
  }
  for (int64_t i = 0; i < n; i++) k0[i] = (uint64_t)key[i] ^ 0x8000000000000000ull;
  uint64_t *ks = k0, *kd = k1;
  int64_t *vs = val, *vd = v1;
  for (int shift = 0; shift < 64; shift += RADIX_BITS) {
    memset(cnt, 0, sizeof(int64_t) * RADIX_SIZE);
    for (int64_t i = 0; i < n; i++) cnt[(ks[i] >> shift) & (RADIX_SIZE - 1)]++;
    if (cnt[(ks[0] >> shift) & (RADIX_SIZE - 1)] == n) continue;
    int64_t sum = 0;
    for (int b = 0; b < RADIX_SIZE; b++) {
      int64_t c = cnt[b];
      cnt[b] = sum;
      sum += c;
    }
    for (int64_t i = 0; i < n; i++) {
      int64_t o = cnt[(ks[i] >> shift) & (RADIX_SIZE - 1)]++;
      kd[o] = ks[i];
      vd[o] = vs[i];
    }
    uint64_t *kt = ks;
    ks = kd;
    kd = kt;
    int64_t *vt = vs;
    vs = vd;
    vd = vt;
  }
  for (int64_t i = 0; i < n; i++) key[i] = (int64_t)(ks[i] ^ 0x8000000000000000ull);
  if (vs != val) memcpy(val, vs, sizeof(int64_t) * (size_t)n);
  free(k0);
  free(k1);
  free(v1);
  free(cnt);
  return 0;
}

int64_t radix_double_key(double v) {
  if (v == 0) v = 0.0; /* -0 sorts as +0 */
  int64_t b;
  memcpy(&b, &v, sizeof b);
  return b < 0 ? b ^ INT64_MAX : b;
}

double radix_key_double(int64_t k) {
  int64_t b = k < 0 ? k ^ INT64_MAX : k;
  double v;
  memcpy(&v, &b, sizeof v);
  return v;
}
