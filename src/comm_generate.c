/* comm_generate.c: the generator's collectives (comm_generate.h).
 *
 * comm_allgather_rows: one row is one MPI element (a contiguous type of
 * row_bytes), so counts are row counts and stay far below INT_MAX.
 * comm_write_ordered_pieces: an exclusive prefix sum gives each rank its
 * offset; each rank then writes its pieces with independent MPI-IO writes
 * (pieces above 1 GiB in parts), and the collective close ends the file.
 */
#include "comm_generate.h"

#include "comm.h"

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

sc_status comm_write_ordered_pieces(const char *path, const char *const *pieces, const size_t *lens, int64_t n) {
  int64_t mine = 0;
  for (int64_t i = 0; i < n; i++) mine += (int64_t)lens[i];
  MPI_Offset off = (MPI_Offset)comm_exscan_i64(mine);
  MPI_File fh;
  int rc = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &fh);
  sc_status s = SC_OK;
  if (rc != MPI_SUCCESS) s = sc_fail(SC_EIO, "cannot create %s: check the folder exists and is writable", path);
  s = comm_agree(s);
  if (s) {
    if (rc == MPI_SUCCESS) MPI_File_close(&fh);
    return s;
  }
  MPI_File_set_size(fh, 0); /* collective: an older, longer file is cut */
  const size_t part = (size_t)1 << 30;
  for (int64_t i = 0; i < n && !s; i++) {
    for (size_t done = 0; done < lens[i] && !s; done += part) {
      int c = (int)(lens[i] - done < part ? lens[i] - done : part);
      if (MPI_File_write_at(fh, off, pieces[i] + done, c, MPI_BYTE, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        s = sc_fail(SC_EIO, "writing %s failed: check free disk space", path);
      off += c;
    }
  }
  MPI_File_close(&fh);
  return comm_agree(s);
}
