/* fletcher32.h: the Fletcher-32 checksum as HDF5's filter computes it.
 *
 * HDF5's Fletcher-32 filter (H5Pset_fletcher32) appends to each chunk,
 * after the other filters, four bytes: this checksum of the coded chunk,
 * little-endian. segcast writes some chunks itself (H5Dwrite_chunk, see
 * h5.c), so it computes the same value: sums of big-endian 16-bit words
 * (a last odd byte as the high half of one), both sums started at 0 and
 * folded to 16 bits every 360 words. No MPI, no I/O.
 */
#ifndef SEGCAST_FLETCHER32_H
#define SEGCAST_FLETCHER32_H

#include <stddef.h>
#include <stdint.h>

uint32_t fletcher32(const void *data, size_t len);

#endif
