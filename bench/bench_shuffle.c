/* bench_shuffle.c: the HDF5 filters segcast codes itself, beside HDF5's own.
 *
 * Times, best of five on one thread, one chunk of 256 Ki doubles (2 MiB,
 * the chunk h5.c writes) shaped like the demand table's rolling means
 * (two decimals of a few units): the byte shuffle by kernels/shuffle.c and
 * by HDF5 1.10's shuffle filter function (the class its library exports),
 * and the level-1 deflate of the shuffled bytes by ISA-L's igzip
 * (h5_deflate_code) and by zlib's compress2, and the store's Fletcher-32
 * checksum of the chunk by kernels/fletcher32.c and by HDF5's
 * H5_checksum_fletcher32. Prints ns per value, the
 * ratio, whether both shuffles gave the same bytes (they must) and the two
 * deflate sizes; whether both checksums agree (they must).
 *
 * Usage: bench_shuffle
 */
#include <dlfcn.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bench_util.h"
#include "fletcher32.h"
#include "h5.h"
#include "shuffle.h"

#define N ((size_t)1 << 18)

uint32_t H5_checksum_fletcher32(const void *data, size_t len); /* HDF5's, exported */

int main(void) {
  H5open();
  const H5Z_class2_t *c = (const H5Z_class2_t *)dlsym(RTLD_DEFAULT, "H5Z_SHUFFLE");
  if (!c) {
    fprintf(stderr, "bench_shuffle: this HDF5 does not export H5Z_SHUFFLE; nothing to compare\n");
    return 1;
  }
  size_t bytes = N * 8, zcap = h5_deflate_bound(bytes) + compressBound((uLong)bytes);
  double *v = malloc(bytes);
  unsigned char *ours = malloc(bytes), *z = malloc(zcap);
  uint64_t seed = 42;
  for (size_t i = 0; i < N; i++) v[i] = (double)(rng_next(&seed) % 2000) / 100.0;
  double t_h = 1e9, t_o = 1e9, t_z = 1e9, t_i = 1e9, t_fh = 1e9, t_fo = 1e9;
  uint32_t fh = 0, fo = 0;
  size_t zl = 0, il = 0;
  int same = 1;
  unsigned size = 8;
  for (int rep = 0; rep < 5; rep++) {
    void *buf = H5allocate_memory(bytes, 0);
    memcpy(buf, v, bytes);
    size_t cap = bytes;
    double t = now_s();
    c->filter(0, 1, &size, bytes, &cap, &buf);
    t_h = SC_MIN(t_h, now_s() - t);
    t = now_s();
    shuffle_bytes(v, bytes, 8, ours);
    t_o = SC_MIN(t_o, now_s() - t);
    same &= memcmp(buf, ours, bytes) == 0;
    H5free_memory(buf);
    uLongf zn = (uLongf)zcap;
    t = now_s();
    compress2(z, &zn, ours, (uLong)bytes, 1);
    t_z = SC_MIN(t_z, now_s() - t);
    zl = zn;
    t = now_s();
    il = h5_deflate_code(1, ours, bytes, z, zcap);
    t_i = SC_MIN(t_i, now_s() - t);
    t = now_s();
    fh = H5_checksum_fletcher32(v, bytes);
    t_fh = SC_MIN(t_fh, now_s() - t);
    t = now_s();
    fo = fletcher32(v, bytes);
    t_fo = SC_MIN(t_fo, now_s() - t);
  }
  printf("%-36s %10s %10s %7s\n", "chunk of 256 Ki doubles", "HDF5/zlib", "segcast", "ratio");
  printf("%-36s %8.2f ns %7.2f ns %6.1fx  same bytes: %s\n", "shuffle", 1e9 * t_h / N, 1e9 * t_o / N, t_h / t_o,
         same ? "yes" : "NO");
  printf("%-36s %8.2f ns %7.2f ns %6.1fx  %zu vs %zu bytes\n", "deflate level 1 (zlib / igzip)", 1e9 * t_z / N,
         1e9 * t_i / N, t_z / t_i, zl, il);
  printf("%-36s %8.2f ns %7.2f ns %6.1fx  same value: %s\n", "Fletcher-32 (the store)", 1e9 * t_fh / N,
         1e9 * t_fo / N, t_fh / t_fo, fh == fo ? "yes" : "NO");
  same &= fh == fo;
  free(v);
  free(ours);
  free(z);
  return same ? 0 : 1;
}
