/* shuffle.h: HDF5's byte shuffle (H5Pset_shuffle) and its inverse.
 *
 * The shuffle filter stores byte j of every element together: for n
 * elements of `size` bytes, out[j * n + i] = in[i * size + j], and the
 * nbytes % size bytes past the last whole element are copied as they are
 * after the planes. Doubles shuffled so deflate much better (their sign and
 * exponent bytes repeat). HDF5 1.10 moves one byte at a time; this does the
 * same bytes eight elements at a time for 8-byte types (an 8 x 8 byte
 * transpose in registers). No MPI, no I/O; any thread.
 */
#ifndef SEGCAST_SHUFFLE_H
#define SEGCAST_SHUFFLE_H

#include <stddef.h>

/// Shuffles nbytes at `in` into out (nbytes, not overlapping in).
void shuffle_bytes(const void *in, size_t nbytes, size_t size, void *out);
/// The inverse: unshuffle_bytes(shuffled) gives the original bytes.
void unshuffle_bytes(const void *in, size_t nbytes, size_t size, void *out);

#endif
