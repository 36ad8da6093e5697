/* fmt.h: the big CSV outputs spread over the ranks (customer_segments.csv,
 * clv.csv): their number cells, on kernels/numtext.h's printf-exact
 * conversions, and their one write.
 *
 * The text depends on the value only (no locale, no rank or thread), and
 * each rank's rows go at their offset in rank order, so the files are the
 * same bytes at any rank count.
 */
#ifndef SEGCAST_FMT_H
#define SEGCAST_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/// Writes v in decimal; returns the end.
char *fmt_i64(char *p, int64_t v);
/// Writes v as printf's "%.10g" does (-0 as 0); nothing for NaN or
/// infinities (an empty CSV cell). Returns the end; at most 17 bytes.
char *fmt_g10(char *p, double v);

/// Writes output `name` from every rank's text, in rank order (rank 0's
/// begins with the header): one collective write at the exscan'd offsets
/// (comm_write_ordered), so every rank formats its own rows at the same
/// time and no rank holds or receives another's. Collective.
sc_status fmt_write_ranked(const sc_run *run, const char *name, const char *text, size_t len);

#endif
