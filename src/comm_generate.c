/* comm_generate.c: the generator's in-place row all-gather (comm_generate.h).
 *
 * One row is one MPI element (a contiguous type of row_bytes), so counts
 * are row counts and stay far below INT_MAX whatever the row size.
 */
#include "comm_generate.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

sc_status comm_allgather_rows(void *buf, int64_t rows, size_t row_bytes) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (rows > INT_MAX || row_bytes > INT_MAX)
    return sc_fail(SC_EINTERNAL, "comm_allgather_rows: %lld rows of %zu bytes is beyond one collective",
                   (long long)rows, row_bytes);
  int *counts = malloc(sizeof(int) * 2 * (size_t)size);
  /* every rank computes the same split, so all fail or none does */
  if (!counts) return sc_fail(SC_ENOMEM, "comm_allgather_rows: out of memory");
  int *displs = counts + size;
  for (int r = 0; r < size; r++) {
    int64_t lo = rows * r / size, hi = rows * (r + 1) / size;
    counts[r] = (int)(hi - lo);
    displs[r] = (int)lo;
  }
  MPI_Datatype row;
  MPI_Type_contiguous((int)row_bytes, MPI_BYTE, &row);
  MPI_Type_commit(&row);
  int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts, displs, row, MPI_COMM_WORLD);
  MPI_Type_free(&row);
  free(counts);
  return rc == MPI_SUCCESS ? SC_OK : sc_fail(SC_EINTERNAL, "comm_allgather_rows: MPI_Allgatherv failed");
}
