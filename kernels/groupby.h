/* groupby.h: group-by on int64 key columns by a stable radix sort.
 *
 * The insights stage groups millions of order lines by (day, product,
 * region), by (product, customer), by order: instead of a hash table
 * probed once a line (a cache miss a line once the table outgrows the
 * cache) or a comparison sort, the rows are sorted by their keys with
 * kernels/radix.c and each run of equal keys is a group. When the keys'
 * ranges fit together in 64 bits (the usual case: days, product and region
 * numbers, user ids) they are packed into one word, so a sort is a few
 * passes over 8-byte words; otherwise the columns are sorted one after the
 * other, last first (LSD over the columns, each sort stable).
 */
#ifndef SEGCAST_GROUPBY_H
#define SEGCAST_GROUPBY_H

#include <stddef.h>
#include <stdint.h>

/// Most key columns a group-by takes.
#define GB_MAX_KEYS 4

/// Sorts n rows by nk key columns (cols[0] compared first, signed), stably:
/// row i's key j is cols[j][i * stride], so a column may be a field of an
/// array of structs (stride in int64 elements; 1 for a plain array).
/// order[p] receives the row at position p; start (n + 1 entries) the
/// first position of each group of equal keys, start[groups] = n. Returns
/// the number of groups, or -1 when memory ran out (or nk is not 1..4).
int64_t gb_sort(const int64_t *const *cols, int nk, size_t stride, int64_t n, int64_t *order, int64_t *start);

#endif
