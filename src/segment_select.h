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

/// Collective. a, b: this rank's n pairs, sorted ascending by (a, b).
/// For each of the nq queries, finds the pair at 0-based position pos[q]
/// of the global (a, b) order (0 <= pos[q] < global count) and writes it
/// to out_a[q], out_b[q] on every rank.
sc_status seg_select(const int64_t *a, const int64_t *b, int64_t n, const int64_t *pos, int nq, int64_t *out_a,
                     int64_t *out_b);

/// Local count of pairs <= (x, y) in sorted pairs (a, b).
int64_t seg_count_le(const int64_t *a, const int64_t *b, int64_t n, int64_t x, int64_t y);

#endif
