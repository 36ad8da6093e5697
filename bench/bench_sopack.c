/* bench_sopack.c: the store's scale-offset coder beside HDF5's own.
 *
 * Times, best of five on one thread, the coding and decoding of one chunk
 * (1 Mi values, the store's chunk) by kernels/sopack.c and by HDF5 1.10's
 * scale-offset filter function (the class its library exports), for
 * columns shaped like the store's: int64 ids over a 30-bit range, int64
 * times with the "none" sentinel as fill value (26 bits), int32 days
 * (10 bits) and uint8 flags (2 bits). Prints ns per value, the ratio, and
 * whether both coded the same bytes (they must).
 *
 * Usage: bench_sopack
 */
#include <dlfcn.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "sopack.h"

#define N ((size_t)1 << 20)

typedef struct {
  const char *name;
  so_params p;
  unsigned bits; /* range of the values */
  int fill_every;
} column;

int main(void) {
  H5open();
  const H5Z_class2_t *c = (const H5Z_class2_t *)dlsym(RTLD_DEFAULT, "H5Z_SCALEOFFSET");
  if (!c) {
    fprintf(stderr, "bench_sopack: this HDF5 does not export H5Z_SCALEOFFSET; nothing to compare\n");
    return 1;
  }
  static const column cols[] = {
      {"int64 ids, 30 bits", {8, 1, 0, 0}, 30, 0},
      {"int64 times, sentinel fill, 26 bits", {8, 1, 1, 1ull << 63}, 25, 3},
      {"int32 days, 10 bits", {4, 1, 0, 0}, 10, 0},
      {"uint8 flags, 2 bits", {1, 0, 0, 0}, 2, 0},
  };
  printf("%-38s %12s %12s %7s %12s %12s %7s  %s\n", "chunk of 1 Mi values", "HDF5 code", "segcast", "ratio",
         "HDF5 decode", "segcast", "ratio", "same bytes");
  uint64_t seed = 42;
  for (size_t k = 0; k < sizeof cols / sizeof *cols; k++) {
    const column *col = &cols[k];
    size_t w = col->p.size, raw = N * w;
    unsigned char *vals = malloc(raw), *ours = malloc(so_encode_bound(N, (unsigned)w)), *back = malloc(raw);
    for (size_t i = 0; i < N; i++) {
      uint64_t v = 1000000 + (rng_next(&seed) & ((1ull << col->bits) - 1));
      if (col->fill_every && i % (size_t)col->fill_every == 0) v = col->p.fill;
      memcpy(vals + i * w, &v, w);
    }
    unsigned cd[20] = {H5Z_SO_INT, 0, (unsigned)N, 0, (unsigned)w, (unsigned)col->p.is_signed, 0,
                       (unsigned)col->p.has_fill, (unsigned)(uint32_t)col->p.fill,
                       (unsigned)(uint32_t)(col->p.fill >> 32)};
    double best[4] = {1e9, 1e9, 1e9, 1e9};
    size_t their_len = 0, our_len = 0;
    unsigned char *theirs = NULL;
    for (int rep = 0; rep < 5; rep++) {
      void *buf = H5allocate_memory(raw, 0);
      memcpy(buf, vals, raw);
      size_t cap = raw;
      double t0 = now_s();
      their_len = c->filter(0, 20, cd, raw, &cap, &buf);
      double t1 = now_s();
      our_len = so_encode(vals, N, &col->p, ours);
      double t2 = now_s();
      void *dec = H5allocate_memory(their_len, 0);
      memcpy(dec, buf, their_len);
      cap = their_len;
      double t3 = now_s();
      c->filter(H5Z_FLAG_REVERSE, 20, cd, their_len, &cap, &dec);
      double t4 = now_s();
      so_decode(ours, our_len, N, &col->p, back);
      double t5 = now_s();
      double d[4] = {t1 - t0, t2 - t1, t4 - t3, t5 - t4};
      for (int q = 0; q < 4; q++)
        if (d[q] < best[q]) best[q] = d[q];
      if (memcmp(dec, back, raw) != 0 || memcmp(back, vals, raw) != 0) {
        fprintf(stderr, "bench_sopack: %s: decoded values differ\n", col->name);
        return 1;
      }
      H5free_memory(dec);
      if (theirs) H5free_memory(theirs);
      theirs = buf;
    }
    int same = their_len == our_len && memcmp(theirs, ours, our_len) == 0;
    double ns = 1e9 / (double)N;
    printf("%-38s %9.2f ns %9.2f ns %6.1fx %9.2f ns %9.2f ns %6.1fx  %s\n", col->name, best[0] * ns, best[1] * ns,
           best[0] / best[1], best[2] * ns, best[3] * ns, best[2] / best[3], same ? "yes" : "NO");
    H5free_memory(theirs);
    free(vals);
    free(ours);
    free(back);
  }
  return 0;
}
