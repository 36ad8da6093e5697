/* fmt.h: the number cells of the big CSV outputs (customer_segments.csv,
 * clv.csv), on kernels/numtext.h's printf-exact conversions.
 *
 * The text depends on the value only (no locale, no rank or thread), so
 * streamed outputs are the same bytes at any rank count.
 */
#ifndef SEGCAST_FMT_H
#define SEGCAST_FMT_H

#include <stdint.h>

/// Writes v in decimal; returns the end.
char *fmt_i64(char *p, int64_t v);
/// Writes v as printf's "%.10g" does (-0 as 0); nothing for NaN or
/// infinities (an empty CSV cell). Returns the end; at most 17 bytes.
char *fmt_g10(char *p, double v);

#endif
