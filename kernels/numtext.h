/* numtext.h: numbers as text, the same bytes as printf's conversions,
 * several times faster (the CSV and JSON outputs write millions of them).
 *
 * numtext_f, numtext_e and numtext_g give exactly what snprintf's "%.*f",
 * "%.*e" / "%.*E" and "%.*g" give in the C locale, for every double:
 * the digits are the exact decimal value of the double rounded to
 * nearest, ties to even, as glibc does. Values the fast path cannot do
 * exactly (more than 15 significant digits, magnitudes outside about
 * 1e-14 .. 9e18, subnormals, NaN and infinities) go through snprintf
 * itself. tests/unit/test_numtext.c compares every function with snprintf
 * on millions of random and edge values; bench/bench_numtext.c times them.
 *
 * Every function writes at p, returns the end (no NUL), and writes at most
 * NUMTEXT_MAX bytes (a "%.17f" of 1e308 is 327).
 */
#ifndef SEGCAST_NUMTEXT_H
#define SEGCAST_NUMTEXT_H

#include <stdint.h>

#define NUMTEXT_MAX 340

/// v in decimal ("%llu" / "%lld"); at most 20 bytes.
char *numtext_u64(char *p, uint64_t v);
char *numtext_i64(char *p, int64_t v);
/// printf's "%.*f" with prec decimals (0 <= prec <= 17).
char *numtext_f(char *p, double v, int prec);
/// printf's "%.*e" (upper = 0) or "%.*E" (upper = 1), 0 <= prec <= 17.
char *numtext_e(char *p, double v, int prec, int upper);
/// printf's "%.*g", 0 <= prec <= 17 (0 is taken as 1, as printf does).
char *numtext_g(char *p, double v, int prec);

#endif
