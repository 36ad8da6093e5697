/* h5_fletcher32.c: HDF5's Fletcher-32 filter computed by kernels/fletcher32.c.
 *
 * Every chunk of the store carries a Fletcher-32 checksum (issue 17),
 * computed when it is written and checked each time a stage reads it.
 * HDF5 1.10 sums a word at a time; kernels/fletcher32.c gives the same
 * value several times faster. As h5_scaleoffset.c does, a copy of HDF5's
 * class is registered in its place: writing appends the same four bytes
 * (little-endian, as HDF5's UINT32ENCODE); reading strips them when they
 * match, and hands any chunk whose checksum does not match to HDF5's own
 * function, which accepts the checksum of its older byte order or fails
 * with its own "data error detected by Fletcher32 checksum" (what h5.c
 * looks for).
 */
#include <hdf5.h>
#include <string.h>

#include "fletcher32.h"
#include "h5.h"
#include "h5_filter.h"

static const H5Z_class2_t *builtin; /* HDF5's class, NULL until looked up */
static H5Z_class2_t fast;           /* the copy registered in its place */

static size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd[], size_t nbytes, size_t *buf_size,
                          void **buf) {
  if (flags & H5Z_FLAG_REVERSE) {
    if (nbytes < 4) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
    if (!(flags & H5Z_FLAG_SKIP_EDC)) {
      const unsigned char *t = (const unsigned char *)*buf + nbytes - 4;
      uint32_t stored = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
      if (stored != fletcher32(*buf, nbytes - 4)) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
    }
    return nbytes - 4;
  }
  unsigned char *out = *buf;
  if (*buf_size < nbytes + 4) {
    out = H5allocate_memory(nbytes + 4, 0);
    if (!out) return 0;
    memcpy(out, *buf, nbytes);
    H5free_memory(*buf);
    *buf = out;
    *buf_size = nbytes + 4;
  }
  uint32_t f = fletcher32(out, nbytes);
  for (int i = 0; i < 4; i++) out[nbytes + (size_t)i] = (unsigned char)(f >> (8 * i));
  return nbytes + 4;
}

int h5_fast_fletcher32(int on) { return h5_swap_filter("H5Z_FLETCHER32", H5Z_FILTER_FLETCHER32, &builtin, &fast, fast_filter, on); }
