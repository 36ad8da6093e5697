/* test_fletcher32.c: kernels/fletcher32.c against HDF5's own checksum.
 *
 * The peer is H5_checksum_fletcher32, the function HDF5 1.10's Fletcher-32
 * filter calls (exported by its library): every length from 0 to 2,000
 * bytes (every way a length ends inside or at the end of a 360-word block,
 * odd and even), long buffers of random bytes and of 0xff (the largest
 * sums), must give the same value. Random bytes from a fixed-seed
 * splitmix64, so a failure reproduces.
 */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "fletcher32.h"
#include "test_rng.h"

uint32_t H5_checksum_fletcher32(const void *data, size_t len); /* HDF5's, exported */

static void test_same_as_hdf5(void) {
  rng r = {17};
  const size_t N = ((size_t)1 << 21) + 3;
  unsigned char *v = malloc(N);
  for (size_t i = 0; i < N; i++) v[i] = (unsigned char)rng_next(&r);
  int bad = 0;
  for (size_t n = 0; n <= 2000; n++) bad += fletcher32(v, n) != H5_checksum_fletcher32(v, n);
  bad += fletcher32(v, N) != H5_checksum_fletcher32(v, N);
  bad += fletcher32(v + 1, N - 1) != H5_checksum_fletcher32(v + 1, N - 1);
  memset(v, 0xff, N);
  for (size_t n = 700; n <= 1500; n++) bad += fletcher32(v, n) != H5_checksum_fletcher32(v, n);
  bad += fletcher32(v, N) != H5_checksum_fletcher32(v, N);
  CU_ASSERT_EQUAL(bad, 0);
  free(v);
}

static void test_known_value(void) {
  /* "abcde": words 0x6162, 0x6364 and a last 0x65 as the high byte */
  CU_ASSERT_EQUAL(fletcher32("abcde", 5), H5_checksum_fletcher32("abcde", 5));
  CU_ASSERT_NOT_EQUAL(fletcher32("abcde", 5), fletcher32("abcdf", 5));
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("fletcher32", NULL, NULL);
  CU_add_test(s, "the same value as HDF5's checksum", test_same_as_hdf5);
  CU_add_test(s, "a flipped byte changes it", test_known_value);
}
