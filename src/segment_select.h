/* segment_select.h: distributed order statistics without gathering.
 *
 * RFM quintiles, medians, the silhouette sample and the user-id range
 * partition all need "the element at global position p" of a total order
 * over values spread across ranks. Each rank sorts its own (a, b) pairs;
 * seg_select then bisects on a, and within the winning a on b: every step
 * is a local binary search plus one small Allreduce of counts, for all
 * queries at once. No rank ever holds more than its own customers, and
 * the answer is the same at any rank count because it is defined by the
 * global order alone.
 */
#ifndef SEGCAST_SEGMENT_SELECT_H
#define SEGCAST_SEGMENT_SELECT_H

#include <stdint.h>

#include "segcast.h"
#include "table.h"

/// Collective. a, b: this rank's n pairs, sorted ascending by (a, b).
/// For each of the nq queries, finds the pair at 0-based position pos[q]
/// of the global (a, b) order (0 <= pos[q] < global count) and writes it
/// to out_a[q], out_b[q] on every rank.
sc_status seg_select(const int64_t *a, const int64_t *b, int64_t n, const int64_t *pos, int nq, int64_t *out_a,
                     int64_t *out_b);

/// Collective: moves the rows of t to ranks by ranges of its int64 column
/// `key` (distinct values, sorted on each rank), so that rank r holds the
/// r-th block of the global key order (n_total * r / size rows before it),
/// sorted by key: outputs can then stream in key order. *n_total gets the
/// global row count; splitters (size - 1 entries, may be NULL) the first
/// key of every rank's block after rank 0's, for seg_range_rank.
sc_status seg_partition_by_range(sc_table *t, const char *key, int64_t *n_total, int64_t *splitters);
/// The rank that holds `key` under seg_partition_by_range's splitters
/// (not collective).
int32_t seg_range_rank(const int64_t *splitters, int size, int64_t key);

/// Local count of pairs <= (x, y) in sorted pairs (a, b).
int64_t seg_count_le(const int64_t *a, const int64_t *b, int64_t n, int64_t x, int64_t y);

#endif
