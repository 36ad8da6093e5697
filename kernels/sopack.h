/* sopack.h: HDF5's scale-offset coding of integer chunks, a word at a time.
 *
 * The store's integer columns are compressed with HDF5's scale-offset filter
 * (H5Z_FILTER_SCALEOFFSET, H5Z_SO_INT, bits per value from the chunk). Its
 * coded chunk is: 4 bytes of `minbits` (little-endian), 1 byte giving the
 * size of the minimum (8), the minimum as 8 little-endian bytes, zeros up to
 * byte 21, then every value minus the minimum in `minbits` bits, packed
 * most significant bit first into a big-endian bit stream. With a fill
 * value declared, fill values are left out of the range and coded as all
 * ones; when the range needs the type's full width the values are copied
 * as they are. HDF5 1.10 packs a bit at a time (about 0.5 ns per output
 * bit); these functions produce the same bytes from 64-bit words, so the
 * file stays one that any HDF5 reads with its own filter.
 *
 * Pure functions over byte buffers: no HDF5, no MPI, no files.
 */
#ifndef SEGCAST_SOPACK_H
#define SEGCAST_SOPACK_H

#include <stddef.h>
#include <stdint.h>

/// Bytes before the packed values in a coded chunk.
#define SO_HEADER 21

/// What the filter knows of a column: its values' width and sign, and its
/// fill value (the bits of the low `size` bytes) when one is declared.
typedef struct {
  unsigned size; ///< bytes per value: 1, 2, 4 or 8
  int is_signed;
  int has_fill;
  uint64_t fill;
} so_params;

/// Size of the buffer so_encode needs for n values (HDF5's worst case:
/// the header, every value at full width, one spare byte).
size_t so_encode_bound(size_t n, unsigned size);

/// Codes n little-endian values of `in` into `out` (so_encode_bound bytes)
/// and returns the coded size HDF5's own filter returns; the bytes up to
/// that size are written, the rest of `out` is left as it was.
size_t so_encode(const void *in, size_t n, const so_params *p, unsigned char *out);

/// Decodes a coded chunk of `len` bytes into n values. Returns 0, or -1
/// when the chunk is malformed (a width wider than the type, too short for
/// its n values); `out` is then unspecified.
int so_decode(const unsigned char *in, size_t len, size_t n, const so_params *p, void *out);

#endif
