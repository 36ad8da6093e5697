/* h5_shuffle.c: HDF5's shuffle filter moved by kernels/shuffle.c.
 *
 * HDF5 1.10 shuffles a byte at a time: after igzip took deflate's time
 * (h5_deflate.c), the shuffle of results.h5's double columns was the
 * largest part of their filters. As h5_scaleoffset.c does, a copy of
 * HDF5's class is registered in its place with a filter function that
 * writes the same bytes eight elements at a time; parameters it does not
 * expect go to HDF5's own function. Files are unchanged: same filter, same
 * bytes.
 */
#include <hdf5.h>

#include "h5.h"
#include "h5_filter.h"
#include "shuffle.h"

static const H5Z_class2_t *builtin; /* HDF5's class, NULL until looked up */
static H5Z_class2_t fast;           /* the copy registered in its place */

static size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd[], size_t nbytes, size_t *buf_size,
                          void **buf) {
  if (cd_nelmts != 1 || cd[0] == 0) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  size_t size = cd[0];
  if (size <= 1 || nbytes / size <= 1) return nbytes; /* HDF5 leaves such chunks as they are */
  void *out = H5allocate_memory(nbytes, 0);
  if (!out) return 0;
  if (flags & H5Z_FLAG_REVERSE) unshuffle_bytes(*buf, nbytes, size, out);
  else shuffle_bytes(*buf, nbytes, size, out);
  H5free_memory(*buf);
  *buf = out;
  *buf_size = nbytes;
  return nbytes;
}

int h5_fast_shuffle(int on) { return h5_swap_filter("H5Z_SHUFFLE", H5Z_FILTER_SHUFFLE, &builtin, &fast, fast_filter, on); }
