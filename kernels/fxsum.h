/* fxsum.h: exact, order-independent sums of doubles in fixed point.
 *
 * A floating-point sum depends on the order of its additions, so a sum
 * split over ranks and threads changes with their number (scikit-learn
 * #9784). segcast instead turns every term into an integer number of
 * 2^-frac units (truncated toward zero) and adds the integers in a 128-bit
 * accumulator: integer addition is associative, so the result is the same
 * bits whatever the order, the rank count or the thread count.
 *
 * Across ranks an accumulator travels as two int64 limbs (fx_split): the
 * high part floor(a / 2^32) and the low 32 bits. Ranks add limbs with an
 * int64 Allreduce (the low limbs stay far below 2^63 for any realistic
 * rank count) and fx_join puts the 128-bit value back together.
 *
 * Units: FX_FRAC (32 fractional bits) for standardized coordinates
 * (|z| < 2^31), FX_FRAC_D2 (24 bits) for squared distances (< 2^39).
 */
#ifndef SEGCAST_FXSUM_H
#define SEGCAST_FXSUM_H

#include <stdint.h>

/// A 128-bit fixed-point accumulator (GCC/Clang extension type).
__extension__ typedef __int128 fx_acc;

#define FX_FRAC 32
#define FX_FRAC_D2 24

/// v in 2^-32 units, truncated toward zero (|v| < 2^31).
static inline int64_t fx_q(double v) { return (int64_t)(v * 0x1p32); }
/// v in 2^-24 units (squared distances, 0 <= v < 2^39).
static inline int64_t fx_q_d2(double v) { return (int64_t)(v * 0x1p24); }
/// The value of an accumulator of 2^-32 units.
static inline double fx_value(fx_acc a) { return (double)a * 0x1p-32; }
/// The value of an accumulator of 2^-24 units.
static inline double fx_value_d2(fx_acc a) { return (double)a * 0x1p-24; }

/// Splits a into limbs[0] = floor(a / 2^32) and limbs[1] = a mod 2^32.
static inline void fx_split(fx_acc a, int64_t *limbs) {
  limbs[0] = (int64_t)(a >> 32); /* arithmetic shift: floor for negatives */
  limbs[1] = (int64_t)((uint64_t)a & 0xFFFFFFFFull);
}
/// The inverse of fx_split, also valid for limb-wise sums of split values.
static inline fx_acc fx_join(const int64_t *limbs) { return (fx_acc)limbs[0] * ((fx_acc)1 << 32) + (fx_acc)limbs[1]; }

#endif
