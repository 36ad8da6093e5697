/* h5_deflate.c: HDF5's deflate filter with ISA-L's igzip as the coder.
 *
 * results.h5 keeps its double columns shuffled and deflated at level 1,
 * which zlib codes at about 100 MB/s: 1.7 s of the 1M-user forecast
 * stage went to writing the demand table. ISA-L's igzip (Debian's
 * libisal2) writes the same format, a zlib stream (RFC 1950: header,
 * deflate blocks, Adler-32), several times faster, so any HDF5 reads the
 * chunks with its own deflate filter: the file names filter 1 (deflate,
 * level 1) as before; only the coded bytes differ from zlib's, not the
 * data read back. As h5_scaleoffset.c does for scale-offset, a copy of
 * HDF5's class is registered in its place (H5Z_register) with a filter
 * function that codes level-1 chunks with igzip and decodes every chunk
 * with igzip's inflate (the zlib header and Adler-32 checked as zlib
 * does); other levels, any chunk igzip cannot fit and any stream it finds
 * damaged go to HDF5's own function (which then reports the damage).
 */
#include <hdf5.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "h5.h"
#include "h5_filter.h"

static const H5Z_class2_t *builtin; /* HDF5's class, NULL until looked up */
static H5Z_class2_t fast;           /* the copy registered in its place */

size_t h5_deflate_bound(size_t n) {
  /* stored blocks (5 bytes a 64 KiB block) past the worst case, plus the
   * zlib header, the largest block header igzip writes and the trailer */
  return n + n / 4096 + 64 + ISAL_DEF_MAX_HDR_SIZE;
}

size_t h5_deflate_code(unsigned level, const void *in, size_t n, void *out, size_t cap) {
  if (level != 1 || n > UINT32_MAX || cap > UINT32_MAX) return 0;
  struct isal_zstream z;
  /* isal_deflate_stateless_init leaves some fields unset that
   * isal_deflate_stateless reads: zero the whole stream first, or the coded
   * bytes can depend on stack garbage (valgrind_unit_h5deflate found it) */
  memset(&z, 0, sizeof z);
  isal_deflate_stateless_init(&z);
  uint8_t *lb = malloc(ISAL_DEF_LVL1_DEFAULT);
  if (!lb) return 0;
  z.level = 1;
  z.level_buf = lb;
  z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
  z.gzip_flag = IGZIP_ZLIB;
  z.next_in = (uint8_t *)(uintptr_t)in;
  z.avail_in = (uint32_t)n;
  z.next_out = out;
  z.avail_out = (uint32_t)cap;
  z.end_of_stream = 1;
  z.flush = NO_FLUSH;
  int r = isal_deflate_stateless(&z);
  free(lb);
  return r == COMP_OK && z.avail_in == 0 ? (size_t)z.total_out : 0;
}

/* Inflates a chunk into a buffer of HDF5's memory, grown as HDF5's filter
 * grows it (doubled while output remains). 0 when the stream is not whole
 * and valid (HDF5's function then says why). */
static size_t inflate_chunk(size_t nbytes, size_t *buf_size, void **buf) {
  size_t cap = *buf_size > nbytes ? *buf_size : 2 * nbytes + 64;
  unsigned char *out = NULL;
  struct inflate_state st;
  isal_inflate_init(&st);
  st.crc_flag = ISAL_ZLIB; /* header parsed, Adler-32 checked */
  st.next_in = *buf;
  st.avail_in = (uint32_t)nbytes;
  if (nbytes > UINT32_MAX) return 0;
  for (;;) {
    if (cap > UINT32_MAX) break;
    unsigned char *grown = out ? H5resize_memory(out, cap) : H5allocate_memory(cap, 0);
    if (!grown) break;
    out = grown;
    st.next_out = out + st.total_out;
    st.avail_out = (uint32_t)(cap - st.total_out);
    int r = isal_inflate(&st);
    if (r < 0 || r == ISAL_NEED_DICT) break;
    if (st.block_state == ISAL_BLOCK_FINISH) {
      H5free_memory(*buf);
      *buf = out;
      *buf_size = cap;
      return st.total_out;
    }
    if (st.avail_out > 0) break; /* the input ended before the stream did */
    cap *= 2;
  }
  if (out) H5free_memory(out);
  return 0;
}

static size_t fast_filter(unsigned flags, size_t cd_nelmts, const unsigned cd[], size_t nbytes, size_t *buf_size,
                          void **buf) {
  unsigned level = cd_nelmts >= 1 ? cd[0] : 6;
  if (flags & H5Z_FLAG_REVERSE) {
    size_t got = inflate_chunk(nbytes, buf_size, buf);
    return got ? got : builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  }
  if (level != 1) return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  size_t cap = h5_deflate_bound(nbytes);
  void *out = H5allocate_memory(cap, 0);
  if (!out) return 0;
  size_t used = h5_deflate_code(level, *buf, nbytes, out, cap);
  if (!used) {
    H5free_memory(out);
    return builtin->filter(flags, cd_nelmts, cd, nbytes, buf_size, buf);
  }
  H5free_memory(*buf);
  *buf = out;
  *buf_size = cap;
  return used;
}

int h5_fast_deflate(int on) { return h5_swap_filter("H5Z_DEFLATE", H5Z_FILTER_DEFLATE, &builtin, &fast, fast_filter, on); }
