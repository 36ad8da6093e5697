/* test_h5deflate.c: the ISA-L deflate coder of h5_deflate.c against zlib and
 * HDF5's own deflate filter.
 *
 * Every stream h5_deflate_code writes must be a zlib stream that zlib's
 * uncompress() turns back into the input (zeros, random bytes that do not
 * compress, shuffled doubles, odd and tiny lengths). Through HDF5: a
 * shuffled + deflated dataset written with igzip must read back the same
 * with HDF5's zlib filter, and one written with zlib must read back with
 * igzip's inflate; a damaged or cut stream must fail the read (Adler-32 or
 * a broken block), never give values. Random values come from a fixed-seed
 * splitmix64, so a failure reproduces.
 */
#include <CUnit/CUnit.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "h5.h"
#include "test_rng.h"

static int round_trip(const void *in, size_t n) {
  size_t cap = h5_deflate_bound(n);
  unsigned char *out = malloc(cap), *back = malloc(n + 1);
  size_t len = h5_deflate_code(1, in, n, out, cap);
  uLongf got = (uLongf)(n + 1);
  int ok = len > 0 && uncompress(back, &got, out, (uLong)len) == Z_OK && got == n && memcmp(back, in, n) == 0;
  free(out);
  free(back);
  return ok;
}

static void test_zlib_reads_igzip(void) {
  rng r = {11};
  const size_t N = (size_t)1 << 21;
  unsigned char *v = calloc(N, 1);
  CU_ASSERT(round_trip(v, N)); /* all zeros: HDF5's fill chunks */
  CU_ASSERT(round_trip(v, 0));
  CU_ASSERT(round_trip(v, 1));
  for (size_t i = 0; i < N; i++) v[i] = (unsigned char)rng_next(&r); /* incompressible: stored blocks */
  CU_ASSERT(round_trip(v, N));
  CU_ASSERT(round_trip(v, 4097));
  double *d = (double *)v;
  for (size_t i = 0; i < N / 8; i++) d[i] = (double)(rng_below(&r, 1000)) / 7.0;
  CU_ASSERT(round_trip(v, N));
  CU_ASSERT(round_trip(v, N - 3));
  CU_ASSERT_EQUAL(h5_deflate_code(6, v, N, v, N), 0); /* only level 1 is igzip's */
  free(v);
}

#define ROWS 300000
#define CHUNK 65536

static char path[64];

/* writes `v` shuffled + deflated (level 1) with igzip on or off */
static int write_file(const double *v, int fast) {
  h5_fast_deflate(fast);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims = ROWS, chunk = CHUNK;
  hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_shuffle(dcpl);
  H5Pset_deflate(dcpl, 1);
  hid_t ds = H5Dcreate2(f, "v", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t e = H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
  return e >= 0;
}

/* 1 when the file reads back as v with igzip on or off; 0 when the read
 * fails; -1 when it gives other values */
static int read_file(const double *v, int fast) {
  h5_fast_deflate(fast);
  double *got = malloc(ROWS * sizeof *got);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t ds = H5Dopen2(f, "v", H5P_DEFAULT);
  herr_t e = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got);
  int r = e < 0 ? 0 : memcmp(got, v, ROWS * sizeof *v) ? -1 : 1;
  H5Dclose(ds);
  H5Fclose(f);
  free(got);
  return r;
}

static double *values(void) {
  rng r = {5};
  double *v = malloc(ROWS * sizeof *v);
  for (int i = 0; i < ROWS; i++) v[i] = i % 97 ? (double)rng_below(&r, 5000) / 100.0 : (double)rng_next(&r);
  return v;
}

static void test_through_hdf5(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  snprintf(path, sizeof path, "/tmp/test_h5deflate_%d.h5", (int)getpid());
  double *v = values();
  CU_ASSERT(write_file(v, 1));
  CU_ASSERT_EQUAL(read_file(v, 0), 1); /* zlib reads igzip's chunks */
  CU_ASSERT_EQUAL(read_file(v, 1), 1);
  CU_ASSERT(write_file(v, 0));
  CU_ASSERT_EQUAL(read_file(v, 1), 1); /* igzip reads zlib's */
  CU_ASSERT_EQUAL(h5_fast_deflate(1), 1);
  unlink(path);
  free(v);
}

/* one chunk written as given (H5Dwrite_chunk), the others not at all */
static void write_raw_chunk(const void *bytes, size_t len) {
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims = CHUNK, chunk = CHUNK, off = 0;
  hid_t sp = H5Screate_simple(1, &dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &chunk);
  H5Pset_deflate(dcpl, 1);
  hid_t ds = H5Dcreate2(f, "v", H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  CU_ASSERT(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, &off, len, bytes) >= 0);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(sp);
  H5Fclose(f);
}

static int read_chunk_values(double *got) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t ds = H5Dopen2(f, "v", H5P_DEFAULT);
  herr_t e = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, got);
  H5Dclose(ds);
  H5Fclose(f);
  return e >= 0;
}

static void test_damage_detected(void) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  snprintf(path, sizeof path, "/tmp/test_h5deflate_%d.h5", (int)getpid());
  double *v = values(), *got = malloc(CHUNK * sizeof *got);
  size_t n = CHUNK * sizeof *v, cap = h5_deflate_bound(n);
  unsigned char *z = malloc(cap);
  size_t len = h5_deflate_code(1, v, n, z, cap);
  CU_ASSERT_FATAL(len > 16);
  h5_fast_deflate(1);
  write_raw_chunk(z, len);
  CU_ASSERT(read_chunk_values(got) && memcmp(got, v, n) == 0);
  for (int fast = 0; fast <= 1; fast++) {
    h5_fast_deflate(fast);
    z[len - 2] ^= 0x40; /* the Adler-32 */
    write_raw_chunk(z, len);
    CU_ASSERT(!read_chunk_values(got));
    z[len - 2] ^= 0x40;
    write_raw_chunk(z, len / 2); /* cut short */
    CU_ASSERT(!read_chunk_values(got));
  }
  h5_fast_deflate(1);
  unlink(path);
  free(z);
  free(got);
  free(v);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("h5deflate", NULL, NULL);
  CU_add_test(s, "igzip writes zlib streams zlib reads", test_zlib_reads_igzip);
  CU_add_test(s, "HDF5 files: each coder reads the other's", test_through_hdf5);
  CU_add_test(s, "damaged or cut streams fail the read", test_damage_detected);
}
