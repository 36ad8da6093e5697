/* radix.h: a stable LSD radix sort of int64 keys carrying an int64 payload.
 *
 * Used to order a rank's customers by a score key (RFM ranks, medians, the
 * silhouette sample) before a distributed selection; the input is usually
 * in user-id order already, so sorting stably by the key alone yields the
 * (key, user id) order that ranks need. 11-bit digits; a digit on which
 * every key agrees costs one counting pass and no move, so keys with a
 * small range (days, counts, cluster ids) sort in one or two passes.
 */
#ifndef SEGCAST_RADIX_H
#define SEGCAST_RADIX_H

#include <stdint.h>

/// Sorts (key[i], val[i]) by key ascending (signed), stably. Returns 0,
/// or -1 when the scratch buffers could not be allocated.
int radix_sort_i64(int64_t *key, int64_t *val, int64_t n);

/// The stable order of n keys: order[i] is the index of the i-th least key
/// (equal keys in index order); sorted, unless NULL, receives the keys in
/// that order. Keys spanning less than 2^32 (n < 2^32) are sorted as one
/// word each, their offset from the least key above their index. Returns
/// 1 when the keys were in order already (order is 0, 1, 2, ...), 0 when
/// sorted, -1 when the scratch buffers could not be allocated.
int radix_argsort_i64(const int64_t *key, int64_t n, int64_t *order, int64_t *sorted);
/// A signed int64 with the same order as the double v (-0 as +0, NaN
/// above +infinity), so doubles sort and bisect as integers.
int64_t radix_double_key(double v);
/// The inverse of radix_double_key.
double radix_key_double(int64_t k);

#endif
