/* fxsum.h: exact, order-independent sums of doubles in fixed point.
 *
 * A floating-point sum depends on the order of its additions, so a sum
 * split over ranks and threads changes with their number (scikit-learn
 * #9784). segcast instead turns every term into an integer number of
 * 2^-frac units (rounded to nearest, so the errors do not pile up in one
 * direction) and adds the integers in a 128-bit
 * accumulator: integer addition is associative, so the result is the same
 * bits whatever the order, the rank count or the thread count.
 *
 * Across ranks an accumulator travels as FX_LIMBS = 3 int64 limbs
 * (fx_split): floor(a / 2^84) and two 42-bit digits. Ranks add limbs with
 * an int64 Allreduce (the digits stay below 2^63 up to 2^21 ranks) and
 * fx_join puts the 128-bit value back together.
 *
 * Units: 2^-32 (fx_q) for the coordinates the Lloyd loop adds per point
 * (|z| < 2^19; cheap: a multiply, an add and an integer subtract), 2^-24 (fx_q_d2)
 * for squared distances (< 2^39), and 2^-63 (fx_q63) where precision
 * matters more than speed (means and variances of the transform: values
 * repeat, e.g. log1p of small integer frequencies, so coarse rounding
 * errors would not average out).
 */
#ifndef SEGCAST_FXSUM_H
#define SEGCAST_FXSUM_H

#include <stdint.h>

/// A 128-bit fixed-point accumulator (GCC/Clang extension type).
__extension__ typedef __int128 fx_acc;

#define FX_FRAC 32
#define FX_FRAC_D2 24

/// v in 2^-32 units, rounded to nearest (ties to even), for |v| < 2^19:
/// adding 1.5 * 2^52 leaves the rounded integer in the low mantissa bits,
/// a trick that also vectorises (SSE2 has no double-to-int64 conversion).
static inline int64_t fx_q(double v) {
  double t = v * 0x1p32 + 0x1.8p52;
  int64_t b;
  __builtin_memcpy(&b, &t, sizeof b);
  return b - 0x4338000000000000LL;
}
/// v in 2^-24 units (squared distances, 0 <= v < 2^39).
static inline int64_t fx_q_d2(double v) { return (int64_t)(v * 0x1p24 + 0.5); }
/// The value of an accumulator of 2^-32 units.
static inline double fx_value(fx_acc a) { return (double)a * 0x1p-32; }
/// The value of an accumulator of 2^-24 units.
static inline double fx_value_d2(fx_acc a) { return (double)a * 0x1p-24; }

/// v in 2^-63 units, exact for |v| >= 2^-10 (|v| < 2^62): the integer
/// part and the fraction (both exact in double) are converted apart.
static inline fx_acc fx_q63(double v) {
  double ip = __builtin_trunc(v);
  return (fx_acc)(int64_t)ip * ((fx_acc)1 << 63) + (fx_acc)(int64_t)((v - ip) * 0x1p63);
}
/// The value of an accumulator of 2^-63 units (correctly rounded).
static inline double fx_value63(fx_acc a) { return (double)a * 0x1p-63; }

#define FX_LIMBS 3
/// Splits a into limbs[0] = floor(a / 2^84) and two 42-bit digits.
static inline void fx_split(fx_acc a, int64_t *limbs) {
  const uint64_t m42 = ((uint64_t)1 << 42) - 1;
  limbs[0] = (int64_t)(a >> 84); /* arithmetic shift: floor for negatives */
  limbs[1] = (int64_t)((uint64_t)(a >> 42) & m42);
  limbs[2] = (int64_t)((uint64_t)a & m42);
}
/// The inverse of fx_split, also valid for limb-wise sums of split values.
static inline fx_acc fx_join(const int64_t *limbs) {
  return (fx_acc)limbs[0] * ((fx_acc)1 << 84) + (fx_acc)limbs[1] * ((fx_acc)1 << 42) + (fx_acc)limbs[2];
}

#endif
