/* insights_core.h: the building blocks of the insights stage.
 *
 * - Calendar: days since 1970-01-01 to civil dates, month indices, ISO text.
 * - Fixed point: money as int64 micro-units, so every sum is exact and the
 *   same whatever the rank count or the order of additions.
 * - Aggregation records: a row of up to three int64 keys and four int64
 *   values; compacted (sorted, equal keys merged) locally, moved to an owner
 *   rank with one all-to-all, compacted again. Group-by on any rank count.
 * - Exact top-k sums over a distributed multiset of int64 values (revenue
 *   concentration) by a collective bisection on the value: no rank ever
 *   holds more than its own values.
 * Everything named *_all is collective; the rest is local.
 */
#ifndef SEGCAST_INSIGHTS_CORE_H
#define SEGCAST_INSIGHTS_CORE_H

#include <stdint.h>
#include <stdio.h>

#include "segcast.h"

/* ---- calendar ----------------------------------------------------------- */

/// Month index year*12 + (month-1) of a day number.
int32_t ins_month_index(int32_t day);
/// Day of week of a day number, Monday = 0 .. Sunday = 6 (DATA.md 6).
int ins_weekday(int32_t day);
/// "YYYY-MM-DD" of a day number into buf (11 bytes at least).
char *ins_iso_day(int32_t day, char *buf);
/// "YYYY-MM-01" of a month index into buf (11 bytes at least).
char *ins_iso_month(int32_t month_index, char *buf);
/// English names, index 0..11 and 0..6 (Monday first).
extern const char *const ins_month_names[12];
extern const char *const ins_weekday_names[7];

/* ---- fixed point money --------------------------------------------------- */

/// Micro-units per currency unit.
#define INS_FX_SCALE 1000000
/// A currency amount as int64 micro-units (rounded half away from zero).
int64_t ins_fx(double amount);
/// The amount as a double (for JSON and shares).
static inline double ins_fx_value(int64_t fx) { return (double)fx / INS_FX_SCALE; }
/// Exact decimal text of a micro-unit amount, trailing zeros dropped
/// ("15.3", "-2", "0.000125"); buf holds 32 bytes.
char *ins_fx_text(int64_t fx, char *buf);
/// The same text at p, no NUL (at most 28 bytes); returns its end.
char *ins_fx_put(char *p, int64_t fx);

/* ---- CSV text ------------------------------------------------------------ */


/* ---- aggregation records ------------------------------------------------- */

/// One group-by row: keys compared in order k[0], k[1], k[2].
typedef struct {
  int64_t k[3];
  int64_t v[4];
} ins_rec;

/// Records to aggregate by key: pushes append, and ins_recs_compact (run
/// also when the array is full, and by the exchange) sorts them by key and
/// merges equal keys into one record. `min_mask` says how values merge:
/// summed, except those whose bit is set (bit j for v[j]), which keep the
/// minimum.
typedef struct {
  ins_rec *r;
  int64_t n, cap;
  unsigned min_mask;
} ins_recs;

/// Adds a record; equal keys are merged by the next compaction. A full
/// array is compacted before it grows, so few keys take little memory.
sc_status ins_recs_push(ins_recs *a, int64_t k0, int64_t k1, int64_t k2, int64_t v0, int64_t v1, int64_t v2,
                        int64_t v3);
void ins_recs_free(ins_recs *a);
/// Sorts by keys and merges equal keys (see min_mask): one record per key.
sc_status ins_recs_compact(ins_recs *a);

/// Chooses the rank of a record (0..size-1).
typedef int (*ins_dest_fn)(const ins_rec *r, int size, const void *ctx);
/// Collective: moves every record to the rank dest() names, then compacts
/// there (compact before, too, so each rank sends one record per key). Afterwards each key lives on exactly one rank.
sc_status ins_recs_exchange_all(ins_recs *a, ins_dest_fn dest, const void *ctx);

/// Collective: the global top `n_top` records by v[0] descending, then keys
/// ascending, from compacted, exchanged records (each key on one rank).
/// *top is allocated with the same array on every rank; *n_out its length.
sc_status ins_recs_top_all(const ins_recs *a, int64_t n_top, ins_rec **top, int64_t *n_out);

/* ---- exact top-k sums ---------------------------------------------------- */

/// Collective. `v` holds this rank's values sorted ascending (n of them);
/// for every query ks[q] (0 <= ks[q] <= global count) sums[q] receives the
/// exact sum of the ks[q] largest values of the union over ranks. The k-th
/// largest value t is found by bisection on the value (about 64 rounds of
/// one small Allreduce for all queries at once); then
/// sum = Σ(values > t) + (k − count(values > t)) · t, which does not depend
/// on how ties are ordered. Sums must fit in int64.
sc_status ins_topk_sums_all(const int64_t *v, int64_t n, const int64_t *ks, int nq, int64_t *sums);

#endif
