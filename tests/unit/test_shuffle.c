/* test_shuffle.c: kernels/shuffle.c against HDF5's own shuffle filter.
 *
 * The peer is HDF5 1.10's filter function (the H5Z_SHUFFLE class its
 * library exports), called on the same bytes with the parameter HDF5 gives
 * it (the element size): every shuffled buffer must be the same bytes, and
 * unshuffling must give the input back, for element sizes 1 to 16 and
 * lengths that leave partial groups of eight and leftover bytes. Random
 * bytes come from a fixed-seed splitmix64, so a failure reproduces.
 */
#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "shuffle.h"
#include "test_rng.h"

/* HDF5's shuffle (reverse: unshuffle) of n bytes; a buffer it allocated */
static void *hdf5_shuffle(const H5Z_class2_t *c, const void *in, size_t n, unsigned size, int reverse) {
  void *buf = H5allocate_memory(n ? n : 1, 0);
  memcpy(buf, in, n);
  size_t cap = n, got = c->filter(reverse ? H5Z_FLAG_REVERSE : 0, 1, &size, n, &cap, &buf);
  CU_ASSERT_EQUAL(got, n);
  return buf;
}

static void test_same_bytes_as_hdf5(void) {
  H5open();
  const H5Z_class2_t *c = (const H5Z_class2_t *)dlsym(RTLD_DEFAULT, "H5Z_SHUFFLE");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  rng r = {3};
  static const size_t lens[] = {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099, 262144 * 8 + 5};
  size_t maxn = lens[sizeof lens / sizeof *lens - 1];
  unsigned char *in = malloc(maxn), *ours = malloc(maxn), *back = malloc(maxn);
  for (size_t i = 0; i < maxn; i++) in[i] = (unsigned char)rng_next(&r);
  int bad = 0;
  for (unsigned size = 1; size <= 16; size++)
    for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
      size_t n = lens[li];
      void *theirs = hdf5_shuffle(c, in, n, size, 0);
      shuffle_bytes(in, n, size, ours);
      bad += memcmp(ours, theirs, n) != 0;
      unshuffle_bytes(ours, n, size, back);
      bad += memcmp(back, in, n) != 0;
      void *unsh = hdf5_shuffle(c, ours, n, size, 1);
      bad += memcmp(unsh, in, n) != 0;
      H5free_memory(theirs);
      H5free_memory(unsh);
    }
  CU_ASSERT_EQUAL(bad, 0);
  free(in);
  free(ours);
  free(back);
}

static void test_planes(void) {
  /* 9 doubles' bytes 0..71 and one leftover byte: plane j holds byte j */
  unsigned char in[73], out[73];
  for (int i = 0; i < 73; i++) in[i] = (unsigned char)i;
  shuffle_bytes(in, 73, 8, out);
  int bad = 0;
  for (int j = 0; j < 8; j++)
    for (int i = 0; i < 9; i++) bad += out[j * 9 + i] != in[i * 8 + j];
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT_EQUAL(out[72], 72);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("shuffle", NULL, NULL);
  CU_add_test(s, "shuffled bytes are HDF5's, each unshuffles the other", test_same_bytes_as_hdf5);
  CU_add_test(s, "byte planes and the leftover bytes", test_planes);
}
