/* comm_generate.h: the one collective the generator needs beyond comm.h.
 *
 * The model tables are built by day ranges, one range per rank, and then
 * shared in place: no second copy of the tables is allocated (and none is
 * freed), which keeps the generator's memory at its share of the CSV text.
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

#endif
