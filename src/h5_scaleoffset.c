/* h5_scaleoffset.c: HDF5's scale-offset filter with a faster integer coder.
 *
 * HDF5 1.10's scale-offset filter packs a bit at a time: it was most of the
 * store write's CPU time (about 0.5 ns per output bit). HDF5 refuses to
 * re-register a predefined filter through H5Zregister, but its shared
 * library exports both the filter's class (H5Z_SCALEOFFSET) and the
 * internal H5Z_register, which replaces a registered class. We register a
 * copy of HDF5's own class with one change: the filter function codes
 * little-endian integer chunks with kernels/sopack.c, which writes the same
 * bytes, and hands every other case (floating point, big-endian, fixed
 * bit counts) to HDF5's function. The files are plain scale-offset files:
 * the filter id and parameters in them are HDF5's own, read by any HDF5.
 * Where the two symbols are missing (another HDF5 build) nothing changes.
 *
 * The parameters (cd_values) follow H5Zscaleoffset.c: 0 scale type,
 * 1 scale factor, 2 values per chunk, 3 class (0 integer), 4 size, 5 sign
 * (1 two's complement), 6 byte order (0 little-endian), 7 fill value
 * defined, 8.. the fill value's bytes, 4 to a parameter, low bytes first.
 */
#include <dlfcn.h>
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "h5.h"
#include "h5_filter.h"
#include "sopack.h"

typedef herr_t (*register_fn)(const H5Z_class2_t *);

static const H5Z_class2_t *builtin; /* HDF5's class, NULL until looked up */
static H5Z_class2_t fast;           /* the copy registered in its place */
static int active;

/* our parameters from HDF5's; 0 when the chunk is not ours to code */
static int params_of(size_t cd_nelmts, const unsigned cd[], so_params *p) {
  if (cd_nelmts < 9 || cd[0] != H5Z_SO_INT || cd[1] != 0 || cd[3] != 0 || cd[6] != 0) return 0;
  if (cd[4] != 1 && cd[4] != 2 && cd[4] != 4 && cd[4] != 8) return 0;
  if (cd[4] == 8 && cd_nelmts < 10) return 0;
  p->size = cd[4];
  p->is_signed = cd[5] == 1;
  p->has_fill = cd[7] == 1;
  p->fill = (uint64_t)(uint32_t)cd[8];
  if (p->size == 8) p->fill |= (uint64_t)(uint32_t)cd[9] << 32;
  return 1;
}

/* our parameters for a chunk segcast's coder takes: little-endian host and
 * parameters it codes */
static int ours(size_t cd_nelmts, const unsigned cd[], so_params *p) {
  return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && params_of(cd_nelmts, cd, p);
}

static size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd[], size_t nbytes, size_t *buf_size,
                          void **buf) {
  so_params p;
  if (!ours(cd_nelmts, cd, &p)) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  size_t n = cd[2];
  if (flags & H5Z_FLAG_REVERSE) {
    unsigned char *out = H5allocate_memory(n * p.size, 0);
    if (!out) return 0;
    if (so_decode(*buf, nbytes, n, &p, out) < 0) {
      H5free_memory(out);
      return 0;
    }
    H5free_memory(*buf);
    *buf = out;
    *buf_size = n * p.size;
    return n * p.size;
  }
  if (nbytes != n * p.size) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  size_t cap = so_encode_bound(n, p.size);
  unsigned char *out = H5allocate_memory(cap, 0);
  if (!out) return 0;
  size_t used = so_encode(*buf, n, &p, out);
  H5free_memory(*buf);
  *buf = out;
  *buf_size = cap;
  return used;
}

int h5_so_ours(size_t cd_nelmts, const unsigned cd[]) {
  so_params p;
  return ours(cd_nelmts, cd, &p);
}

size_t h5_so_encode_chunk(size_t cd_nelmts, const unsigned cd[], const void *in, void **out, size_t *cap) {
  so_params p;
  if (!ours(cd_nelmts, cd, &p)) return 0;
  size_t n = cd[2], need = so_encode_bound(n, p.size);
  if (*cap < need) {
    void *b = realloc(*out, need);
    if (!b) return 0;
    *out = b;
    *cap = need;
  }
  return so_encode(in, n, &p, *out);
}

const H5Z_class2_t *h5_builtin_filter(const char *symbol, int id) {
  H5open();
  const H5Z_class2_t *c = (const H5Z_class2_t *)dlsym(RTLD_DEFAULT, symbol);
  if (!c || c->version != H5Z_CLASS_T_VERS || c->id != id) return NULL;
  if (H5Zfilter_avail(id) <= 0) return NULL; /* also starts HDF5's filter table */
  return c;
}

int h5_replace_filter(const H5Z_class2_t *cls) {
  register_fn reg = (register_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "H5Z_register");
  return reg && reg(cls) >= 0;
}

int h5_swap_filter(const char *symbol, int id, const H5Z_class2_t **builtin, H5Z_class2_t *fast, H5Z_func_t fn,
                   int on) {
  if (!*builtin) *builtin = h5_builtin_filter(symbol, id);
  if (!*builtin) return 0;
  if (on) {
    *fast = **builtin; /* the name too: version-1 pipeline messages store it */
    fast->filter = fn;
  }
  return h5_replace_filter(on ? fast : *builtin) ? on : 0;
}

int h5_fast_scaleoffset(int on) {
  return active = h5_swap_filter("H5Z_SCALEOFFSET", H5Z_FILTER_SCALEOFFSET, &builtin, &fast, fast_filter, on);
}
