/* comm_generate.h: the two collectives the generator needs beyond comm.h.
 *
 * The model tables are built by day ranges, one range per rank, and then
 * shared in place: no second copy of the tables is allocated (and none is
 * freed). The CSV text, made by threads in chunks, is written as those
 * chunks, without joining them into one buffer first. Both keep the
 * generator's memory at its share of the CSV text.
 */
#ifndef SEGCAST_COMM_GENERATE_H
#define SEGCAST_COMM_GENERATE_H

#include <stddef.h>
#include <stdint.h>

#include "segcast.h"

/// In-place all-gather of a table split by rows: rank r holds rows
/// [r*rows/size, (r+1)*rows/size) of `buf` (row_bytes each, at their final
/// place); afterwards every rank holds all rows. Collective.
sc_status comm_allgather_rows(void *buf, int64_t rows, size_t row_bytes);

/// Writes one file collectively, like comm_write_ordered, from `n` pieces:
/// rank r's pieces, in order, land after all bytes of ranks 0..r-1. The file
/// is created or truncated. Every rank calls it (n may be 0).
sc_status comm_write_ordered_pieces(const char *path, const char *const *pieces, const size_t *lens, int64_t n);

#endif
