/*
 * kws_nn_fixed.h - fixed-point primitives of the int8 runtime, with TFLite / gemmlowp rounding.
 *
 * Legend (every kernel uses these and nothing else for rounding):
 *   kws_srdhm(a, b)        saturating rounding doubling high multiply: round(a * b / 2^31),
 *                          ties toward +infinity (what gemmlowp's nudge-and-truncate gives);
 *                          (INT32_MIN, INT32_MIN) saturates to INT32_MAX.
 *                          With b a Q0.31 multiplier the result keeps a's Q format.
 *   kws_rdivpot(x, e)      x / 2^e rounded to nearest, ties away from zero (0 <= e <= 31).
 *   kws_requantize(x,m,s)  x * m * 2^s with m in Q0.31, as TFLite's
 *                          MultiplyByQuantizedMultiplier (double rounding: the shift left is
 *                          applied before kws_srdhm, the shift right after).
 *   kws_clamp(x, lo, hi)   min(max(x, lo), hi).
 * The Python exporter computes (m, s) with TFLite's QuantizeMultiplier.
 */
#ifndef KWS_NN_FIXED_H
#define KWS_NN_FIXED_H

#include <stdint.h>

static inline int32_t kws_srdhm(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    /* gemmlowp adds a nudge of 2^30 (ab >= 0) or 1 - 2^30 (ab < 0) and divides by 2^31
     * truncating toward zero; both cases equal floor((ab + 2^30) / 2^31), one shift. */
    const int64_t ab = (int64_t)a * (int64_t)b;                        /* Q(a) * Q0.31 */
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);                 /* arithmetic shift */
}

static inline int32_t kws_rdivpot(int32_t x, int32_t e)
{
    if (e == 0) {
        return x;
    }
    const int32_t mask = (int32_t)(0xFFFFFFFFu >> (32 - e));          /* 2^e - 1 */
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> e) + (remainder > threshold ? 1 : 0);
}

static inline int32_t kws_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t xl = (int32_t)((uint32_t)x << left);                 /* wraps like TFLite */
    return kws_rdivpot(kws_srdhm(xl, multiplier), right);
}

static inline int32_t kws_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#endif /* KWS_NN_FIXED_H */
