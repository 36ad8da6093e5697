/* comm.h: the communication module. The only place that includes mpi.h.
 *
 * Thin wrappers over the MPI calls segcast makes, in the spirit of CoMD's
 * parallel.h: stages and kernels call these and never MPI directly. Every
 * function is collective over all ranks unless it says otherwise. Byte
 * counts are size_t; large transfers are split internally so no single MPI
 * count exceeds INT_MAX.
 */
#ifndef SEGCAST_COMM_H
#define SEGCAST_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "segcast.h"

/// Starts MPI (thread level FUNNELED: only the master thread calls MPI).
sc_status comm_init(int *argc, char ***argv);
/// Ends MPI. Safe to call once at exit.
void comm_finalize(void);
/// Aborts every rank with `code` (not collective; for unrecoverable bugs).
void comm_abort(int code);
/// Not collective: this rank prints the recorded failure (one line, naming
/// the rank and `why`), runs the cleanup set by comm_on_abort and aborts
/// every rank with the failure's status. For a failure after which the
/// ranks' collective calls no longer match (a parallel HDF5 write that
/// failed part-way on some ranks, e.g. a full disk): waiting for the others
/// would hang the job.
void comm_fatal(sc_status s, const char *why) __attribute__((noreturn));
/// The cleanup comm_fatal runs before aborting (main: out_abort_cleanup).
void comm_on_abort(void (*cleanup)(void));

/// This rank's number, 0..size-1 (not collective).
int comm_rank(void);
/// Number of ranks (not collective).
int comm_size(void);

/// Combines every rank's status: returns the first non-OK status by rank
/// order everywhere, and copies that rank's sc_message() to rank 0 so rank
/// 0 can print it. Call at the end of each collective step.
sc_status comm_agree(sc_status local);

/// Waits for every rank.
void comm_barrier(void);

/// In-place element-wise reductions over all ranks.
void comm_sum_i64(int64_t *buf, size_t n);
void comm_max_i64(int64_t *buf, size_t n);
void comm_min_i64(int64_t *buf, size_t n);
void comm_sum_double(double *buf, size_t n);
void comm_max_double(double *buf, size_t n);
void comm_min_double(double *buf, size_t n);
/// Scalar conveniences.
int64_t comm_sum1_i64(int64_t v);
int64_t comm_max1_i64(int64_t v);
int64_t comm_min1_i64(int64_t v);
double comm_max1_double(double v);
double comm_min1_double(double v);
/// Exclusive prefix sum of v over ranks (0 on rank 0).
int64_t comm_exscan_i64(int64_t v);

/// Broadcasts `bytes` bytes from `root`.
void comm_bcast(void *buf, size_t bytes, int root);
/// Every rank contributes `bytes` bytes; `recv` gets size*bytes, rank order.
void comm_allgather(const void *send, size_t bytes, void *recv);
/// Every rank contributes `bytes` (may differ); *recv is allocated with the
/// concatenation in rank order, *recv_bytes its length; `counts` (optional,
/// size entries) receives each rank's byte count.
sc_status comm_allgatherv(const void *send, size_t bytes, void **recv, size_t *recv_bytes, size_t *counts);

/// Personalised all-to-all of fixed-size elements. send holds, for rank r,
/// send_counts[r] elements of elem_size bytes, contiguous in rank order.
/// *recv is allocated (caller frees) with the elements received, in source
/// rank order; recv_counts (size entries) gets the per-source counts and
/// *recv_n their total.
sc_status comm_alltoallv(const void *send, const int64_t *send_counts, size_t elem_size, void **recv,
                         int64_t *recv_counts, int64_t *recv_n);
/// recv_counts[r] = the send_counts[me] of rank r (what r sends here).
void comm_alltoall_counts(const int64_t *send_counts, int64_t *recv_counts);
/// Personalised all-to-all into the caller's buffers: for rank r,
/// send_counts[r] elements from send + send_displs[r] elements, and
/// recv_counts[r] elements to recv + recv_displs[r]. Fails on every rank
/// when a count or displacement passes 2^31 elements.
sc_status comm_alltoallv_into(const void *send, const int64_t *send_counts, const int64_t *send_displs, void *recv,
                              const int64_t *recv_counts, const int64_t *recv_displs, size_t elem_size);

/// Point to point, for rank 0 streaming outputs from one rank at a time.
/// comm_send_bytes sends n bytes; comm_recv_bytes allocates *buf.
sc_status comm_send_bytes(int dest, int tag, const void *buf, size_t n);
sc_status comm_recv_bytes(int src, int tag, void **buf, size_t *n);

/// Writes one file collectively: rank r's `n` bytes land after those of
/// ranks 0..r-1. Written to `path` directly (callers pass a temporary name).
sc_status comm_write_ordered(const char *path, const void *buf, size_t n);

/// HDF5 property lists for parallel access (caller closes with H5Pclose):
/// file access through MPI-IO with collective metadata, and collective
/// transfers. Returned as int64_t to keep hdf5.h out of this header.
int64_t comm_h5_fapl(void);
int64_t comm_h5_dxpl(void);

#endif
