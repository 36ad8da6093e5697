/* test_sopack.c: kernels/sopack.c against HDF5's own scale-offset filter.
 *
 * The peer is HDF5 1.10's filter function itself (the H5Z_SCALEOFFSET class
 * its library exports), called on the same chunk with the parameters HDF5
 * gives it: every coded chunk must be the same bytes and the same size,
 * HDF5 must decode ours to the input, and ours must decode HDF5's. Chunks:
 * every width and sign, with and without a fill value, ranges from one
 * value to the full width, all-fill chunks, fill values inside and at the
 * ends of the range, lengths that leave partial words and bytes. Random
 * values come from a fixed-seed splitmix64, so a failure reproduces.
 * Malformed coded chunks (short, too wide) must be refused, not read past.
 */
#include <CUnit/CUnit.h>
#include <dlfcn.h>
#include <hdf5.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sopack.h"
#include "test_rng.h"

static const H5Z_class2_t *hdf5_class(void) {
  H5open();
  return (const H5Z_class2_t *)dlsym(RTLD_DEFAULT, "H5Z_SCALEOFFSET");
}

/* HDF5's parameters for a chunk of n values (H5Zscaleoffset.c's set_local) */
static void hdf5_params(const so_params *p, size_t n, unsigned cd[20]) {
  memset(cd, 0, 20 * sizeof *cd);
  cd[0] = H5Z_SO_INT;
  cd[2] = (unsigned)n;
  cd[4] = p->size;
  cd[5] = p->is_signed ? 1 : 0;
  cd[7] = p->has_fill ? 1 : 0;
  cd[8] = (unsigned)(uint32_t)p->fill;
  if (p->size == 8) cd[9] = (unsigned)(uint32_t)(p->fill >> 32);
}

/* runs HDF5's filter on a copy of `in` (n values or `len` coded bytes) */
static void *hdf5_run(const H5Z_class2_t *c, unsigned flags, const so_params *p, size_t n, const void *in, size_t len,
                      size_t *out_len) {
  unsigned cd[20];
  hdf5_params(p, n, cd);
  void *buf = H5allocate_memory(len, 0);
  memcpy(buf, in, len);
  size_t cap = len;
  *out_len = c->filter(flags, 20, cd, len, &cap, &buf);
  return buf;
}

static int cases, mismatches;

static void check_chunk(const H5Z_class2_t *c, const so_params *p, const void *vals, size_t n) {
  cases++;
  size_t raw = n * p->size;
  unsigned char *ours = malloc(so_encode_bound(n, p->size));
  size_t our_len = so_encode(vals, n, p, ours);
  size_t their_len = 0;
  unsigned char *theirs = hdf5_run(c, 0, p, n, vals, raw, &their_len);
  /* with every value equal (0 bits a value) HDF5 1.10 leaves the one
   * byte after the header as malloc gave it; ours is 0 */
  uint32_t minbits = ours[0] | (uint32_t)ours[1] << 8;
  int same = our_len == their_len && memcmp(ours, theirs, minbits == 0 ? SO_HEADER : our_len) == 0;
  if (!same && mismatches++ < 5)
    printf("\n  coded chunks differ: size %u signed %d fill %d n %zu: %zu vs %zu bytes, minbits %u vs %u\n", p->size,
           p->is_signed, p->has_fill, n, our_len, their_len, ours[0], theirs[0]);
  CU_ASSERT(same);
  /* HDF5 decodes our bytes, we decode HDF5's */
  size_t back_len = 0;
  void *back = hdf5_run(c, H5Z_FLAG_REVERSE, p, n, ours, our_len, &back_len);
  CU_ASSERT(back_len == raw && memcmp(back, vals, raw) == 0);
  void *mine = malloc(raw + 1);
  CU_ASSERT(so_decode(theirs, their_len, n, p, mine) == 0);
  CU_ASSERT(memcmp(mine, vals, raw) == 0);
  H5free_memory(back);
  H5free_memory(theirs);
  free(mine);
  free(ours);
}

static void store(void *v, size_t i, unsigned w, uint64_t x) { memcpy((char *)v + i * w, &x, w); }

/* a chunk of n values: offsets below 2^bits from base, some set to fill */
static void make(rng *r, void *v, size_t n, unsigned w, uint64_t base, unsigned bits, const so_params *p, int fill_every) {
  for (size_t i = 0; i < n; i++) {
    uint64_t off = bits >= 64 ? rng_next(r) : rng_next(r) & ((1ull << bits) - 1);
    uint64_t x = base + off;
    if (p->has_fill && fill_every && rng_next(r) % (uint64_t)fill_every == 0) x = p->fill;
    store(v, i, w, x);
  }
}

static void test_same_bytes_as_hdf5(void) {
  const H5Z_class2_t *c = hdf5_class();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  static const size_t lens[] = {1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4099};
  static const unsigned sizes[] = {1, 2, 4, 8};
  rng r = {42};
  for (unsigned si = 0; si < 4; si++) {
    unsigned w = sizes[si], tb = 8 * w;
    uint64_t tmask = tb == 64 ? ~0ull : (1ull << tb) - 1;
    void *v = malloc(4099 * 8);
    for (int sg = 0; sg < 2; sg++)
      for (int hf = 0; hf < 2; hf++)
        for (unsigned li = 0; li < sizeof lens / sizeof *lens; li++) {
          size_t n = lens[li];
          /* fill values: the type's minimum (segcast's sentinel), its
           * maximum, zero, one inside the values' range */
          uint64_t fills[4] = {sg ? 1ull << (tb - 1) : 0, sg ? tmask >> 1 : tmask, 0, 5};
          for (int fi = 0; fi < (hf ? 4 : 1); fi++) {
            so_params p = {w, sg, hf, fills[fi] & tmask};
            for (unsigned bits = 0; bits <= tb; bits++) {
              if (bits > 3 && bits < tb - 3 && bits % 5 != 0) continue; /* the edges and a sample between */
              uint64_t base = rng_next(&r) & tmask;
              make(&r, v, n, w, base, bits, &p, 4);
              check_chunk(c, &p, v, n);
            }
            /* every value the fill (HDF5: min = max = 0), and one value */
            for (size_t i = 0; i < n; i++) store(v, i, w, hf ? p.fill : 7);
            check_chunk(c, &p, v, n);
            /* the full range exactly: min and max of the type, and both
             * ends one short (the widths HDF5 still packs) */
            if (n >= 2) {
              uint64_t lo = sg ? 1ull << (tb - 1) : 0, hi = (lo + tmask) & tmask;
              for (int d = 0; d < 3; d++) {
                make(&r, v, n, w, lo, tb - 1, &p, 0);
                store(v, 0, w, (lo + (uint64_t)d) & tmask);
                store(v, n - 1, w, hi);
                check_chunk(c, &p, v, n);
              }
            }
          }
        }
    free(v);
  }
  printf("\n  %d chunks, %d differ from HDF5's ", cases, mismatches);
}

/* Chunks large enough to be coded by several threads (slices of 64-value
 * groups, the last one uneven) give HDF5's bytes too, at 1, 2 and 3
 * threads. */
static void test_threads_same_bytes(void) {
  const H5Z_class2_t *c = hdf5_class();
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  static const size_t lens[] = {(size_t)1 << 16, 100003, (size_t)1 << 18};
  static const unsigned sizes[] = {1, 4, 8};
  static const unsigned bitss[] = {1, 3, 7, 13, 30, 37, 62};
  rng r = {7};
  void *v = malloc(((size_t)1 << 18) * 8);
  int before = mismatches;
  const int threads_before = omp_get_max_threads();
  for (int threads = 1; threads <= 3; threads++) {
    omp_set_num_threads(threads);
    for (unsigned si = 0; si < 3; si++)
      for (unsigned li = 0; li < 3; li++)
        for (unsigned bi = 0; bi < 7; bi++) {
          unsigned w = sizes[si], tb = 8 * w;
          if (bitss[bi] >= tb) continue;
          uint64_t tmask = tb == 64 ? ~0ull : (1ull << tb) - 1;
          so_params p = {w, 1, bi % 2, (1ull << (tb - 1)) & tmask}; /* half with the sentinel fill */
          make(&r, v, lens[li], w, rng_next(&r) & tmask, bitss[bi], &p, 5);
          check_chunk(c, &p, v, lens[li]);
        }
  }
  omp_set_num_threads(threads_before);
  CU_ASSERT_EQUAL(mismatches, before);
  free(v);
}

static void test_malformed_refused(void) {
  so_params p = {8, 1, 0, 0};
  int64_t v[100], out[100];
  for (int i = 0; i < 100; i++) v[i] = i * 1000003;
  unsigned char coded[SO_HEADER + 100 * 8 + 1];
  size_t len = so_encode(v, 100, &p, coded);
  CU_ASSERT(so_decode(coded, len, 100, &p, out) == 0);
  CU_ASSERT(memcmp(out, v, sizeof v) == 0);
  /* every shorter length than the bits need is refused */
  size_t need = SO_HEADER + (100 * coded[0] + 7) / 8;
  for (size_t l = 0; l < need; l++) CU_ASSERT(so_decode(coded, l, 100, &p, out) == -1);
  CU_ASSERT(so_decode(coded, need, 100, &p, out) == 0);
  /* a width above the type's */
  coded[0] = 65;
  CU_ASSERT(so_decode(coded, len, 100, &p, out) == -1);
  /* full width needs every byte */
  coded[0] = 64;
  CU_ASSERT(so_decode(coded, SO_HEADER + 799, 100, &p, out) == -1);
  p.size = 3;
  CU_ASSERT(so_decode(coded, len, 100, &p, out) == -1);
}

void register_tests(void) {
  CU_pSuite s = CU_add_suite("sopack", NULL, NULL);
  CU_add_test(s, "coded chunks are HDF5's bytes, each decodes the other", test_same_bytes_as_hdf5);
  CU_add_test(s, "coded by several threads: the same bytes", test_threads_same_bytes);
  CU_add_test(s, "malformed chunks refused", test_malformed_refused);
}
