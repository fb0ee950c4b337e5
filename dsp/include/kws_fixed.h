/*
 * kws_fixed.h - every fixed-point primitive of the front end, in one place.
 *
 * Legend (the NumPy mirror in kws/frontend/fixed.py uses the same names and rounding):
 *   kws_mulw(x, w)      (x * w) >> 16, x int32, w int16: ARM SMULWB semantics (floor shift
 *                       of the 48-bit product; no rounding, no saturation)
 *   kws_mulwb/_mulwt    kws_mulw with w the bottom / top int16 half of a packed word
 *                       (the window: Q31 w[n] times x[n], x[n+1] loaded as one word)
 *   kws_mlawb/_mlawt    acc + kws_mulwb/_mulwt (ARM SMLAWB/SMLAWT; never overflows here)
 *   kws_mulr(x, w)      (x * w + 2^31) >> 32, x, w int32: ARM SMMULR (rounded high multiply;
 *                       with w in Q31 it is round(x * w_real / 2), half the product)
 *   kws_mlar(acc, x, w) acc + ((x * w + 2^31) >> 32): ARM SMMLAR (= acc + kws_mulr(x, w))
 *   kws_mlsr(acc, x, w) acc + ((2^31 - x * w) >> 32): ARM SMMLSR (acc - kws_mulr(x, w) except
 *                       when x * w + 2^31 is a multiple of 2^32, where it is one more)
 *   kws_cmulr           complex z * W / 2 for a Q31 twiddle W: (mlsr(mulr(re, wr), im, wi),
 *                       mlar(mulr(im, wr), re, wi)): four instructions on the M4
 *   kws_load_pair(p)    packs p[0] (bottom) and p[1] (top) into one 32-bit word
 *   kws_clz32(x)        count of leading zeros, 32 for x == 0
 *   kws_bitlen32/64(x)  number of significant bits, 0 for 0 (= 32 - clz)
 *   kws_shl32(x, s)     x * 2^s for 0 <= s < 32 without signed-shift UB (result must fit)
 *   kws_sat_s8(x)       clamp an int64 to [-128, 127]
 *   kws_isqrt32(x)      exact floor(sqrt(x)) for any uint32
 *
 * ">>" on a negative signed value is an arithmetic (floor) shift: implementation-defined in C99,
 * but so on every compiler we target (GCC, Clang, armcc); src/frontend.c checks it at init.
 *
 * The multiplies have a portable C version and, where __ARM_FEATURE_DSP is defined (Cortex-M4,
 * M7, M33 with DSP), a version on the ACLE intrinsics of <arm_acle.h> (__smlawb/__smlawt) or, for
 * the SMMUL family that GCC 12's <arm_acle.h> lacks, one-instruction inline assembly, giving
 * identical results (dsp/tests/test_fixed.c, run on both by tests/test_frontend_c.py).
 * kws_clz32 uses __builtin_clz (one CLZ; GCC 12's <arm_acle.h> has no __clz); kws_sat_s8 is
 * plain compares (GCC 12's __ssat macro trips -Wsign-conversion).
 */
#ifndef KWS_FIXED_H
#define KWS_FIXED_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#if defined(__GNUC__)
#define KWS_INLINE static inline __attribute__((always_inline))
#else
#define KWS_INLINE static inline
#endif

/* ---------------------------------------------------------------- multiply */
/* GCC 12's <arm_acle.h> has __smlawb/__smlawt but not __smulwb/__smulwt: SMLAWB with a zero
 * accumulator is SMULWB exactly (the accumulate is a plain 32-bit add after the >> 16). */
#if defined(__ARM_FEATURE_DSP)
KWS_INLINE int32_t kws_mulwb(int32_t x, int32_t pair) { return __smlawb(x, pair, 0); }
KWS_INLINE int32_t kws_mulwt(int32_t x, int32_t pair) { return __smlawt(x, pair, 0); }
KWS_INLINE int32_t kws_mlawb(int32_t x, int32_t pair, int32_t acc) { return __smlawb(x, pair, acc); }
KWS_INLINE int32_t kws_mlawt(int32_t x, int32_t pair, int32_t acc) { return __smlawt(x, pair, acc); }
KWS_INLINE int32_t kws_mulw(int32_t x, int16_t w) { return __smlawb(x, (int32_t)w, 0); }
#else
/* floor(x w / 2^16) without a 64-bit product (it vectorizes in 32-bit lanes): with
 * x = 2^16 hi + lo, 0 <= lo < 2^16, x w / 2^16 = hi w + lo w / 2^16 and hi w is an integer;
 * |hi w| <= 2^30, 0 <= |lo w| < 2^31, so every term and the sum fit in int32. */
KWS_INLINE int32_t kws_mulw(int32_t x, int16_t w)
{
    return (x >> 16) * w + (((x & 0xFFFF) * w) >> 16);
}
KWS_INLINE int32_t kws_mulwb(int32_t x, int32_t pair)
{
    return kws_mulw(x, (int16_t)(uint16_t)((uint32_t)pair & 0xFFFFu));
}
KWS_INLINE int32_t kws_mulwt(int32_t x, int32_t pair)
{
    return kws_mulw(x, (int16_t)(uint16_t)((uint32_t)pair >> 16));
}
KWS_INLINE int32_t kws_mlawb(int32_t x, int32_t pair, int32_t acc) { return acc + kws_mulwb(x, pair); }
KWS_INLINE int32_t kws_mlawt(int32_t x, int32_t pair, int32_t acc) { return acc + kws_mulwt(x, pair); }
#endif

KWS_INLINE int32_t kws_load_pair(const int16_t *p)
{
#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    int32_t v;
    memcpy(&v, p, sizeof v); /* one LDR on the M4: p[0] lands in the bottom half */
    return v;
#else
    return (int32_t)((uint32_t)(uint16_t)p[0] | ((uint32_t)(uint16_t)p[1] << 16));
#endif
}


/* Rounded 32 x 32 high multiplies (Q31 twiddles). None overflows here: |x w| <= 2^62, and the
 * accumulations stay inside int32 (bounds in src/fft.c). */
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
KWS_INLINE int32_t kws_mulr(int32_t x, int32_t w)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(x), "r"(w));
    return r;
}
KWS_INLINE int32_t kws_mlar(int32_t acc, int32_t x, int32_t w)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(w), "r"(acc));
    return r;
}
KWS_INLINE int32_t kws_mlsr(int32_t acc, int32_t x, int32_t w)
{
    int32_t r;
    __asm__("smmlsr %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(w), "r"(acc));
    return r;
}
#else
KWS_INLINE int32_t kws_mulr(int32_t x, int32_t w)
{
    return (int32_t)(((int64_t)x * (int64_t)w + ((int64_t)1 << 31)) >> 32); /* Q31: x w / 2 */
}
KWS_INLINE int32_t kws_mlar(int32_t acc, int32_t x, int32_t w)
{
    return acc + kws_mulr(x, w);
}
KWS_INLINE int32_t kws_mlsr(int32_t acc, int32_t x, int32_t w)
{
    return acc + (int32_t)((((int64_t)1 << 31) - (int64_t)x * (int64_t)w) >> 32);
}
#endif

/* cmulr: z W / 2 for a Q31 twiddle W = (wr, wi): re = mulr(re, wr) "-" mulr(im, wi) (SMMULR +
 * SMMLSR), im = mulr(im, wr) + mulr(re, wi) (SMMULR + SMMLAR). Q of z, halved. */
KWS_INLINE void kws_cmulr(int32_t re, int32_t im, int32_t wr, int32_t wi, int32_t *out_re,
                          int32_t *out_im)
{
    *out_re = kws_mlsr(kws_mulr(re, wr), im, wi);
    *out_im = kws_mlar(kws_mulr(im, wr), re, wi);
}

/* W_N^k for k in [0, M] from the Q31 table t of W_N^k, k in [0, M/2] (tables.py):
 * t[k] for 2k <= M, else (-t[M-k].re, t[M-k].im), as W_N^k = -conj(W_N^(M-k)).
 * Entries are clipped to +-(2^31 - 1), so the negation never overflows. */
KWS_INLINE void kws_twiddle_n(const int32_t *t, int32_t m, int32_t k, int32_t *wr, int32_t *wi)
{
    if (2 * k <= m) {
        *wr = t[2 * k];
        *wi = t[2 * k + 1];
    } else {
        *wr = -t[2 * (m - k)];
        *wi = t[2 * (m - k) + 1];
    }
}

/* ---------------------------------------------------------------- bit counting */
#if defined(__GNUC__) /* one CLZ instruction on the M4 (GCC 12's <arm_acle.h> lacks __clz) */
KWS_INLINE int32_t kws_clz32(uint32_t x) { return x ? (int32_t)__builtin_clz(x) : 32; }
#else
KWS_INLINE int32_t kws_clz32(uint32_t x)
{
    int32_t n = 0;
    if (x == 0u) return 32;
    while (!(x & 0x80000000u)) { x <<= 1; n++; }
    return n;
}
#endif

KWS_INLINE int32_t kws_bitlen32(uint32_t x) { return 32 - kws_clz32(x); }

KWS_INLINE int32_t kws_bitlen64(uint64_t x)
{
    uint32_t hi = (uint32_t)(x >> 32);
    return hi ? 64 - kws_clz32(hi) : kws_bitlen32((uint32_t)x);
}

/* ---------------------------------------------------------------- shifts, saturation */
KWS_INLINE int32_t kws_shl32(int32_t x, int32_t s) { return (int32_t)((uint32_t)x << s); }

KWS_INLINE int8_t kws_sat_s8(int64_t x)
{
    return (int8_t)(x > 127 ? 127 : (x < -128 ? -128 : x));
}

/* ---------------------------------------------------------------- square root */
/* Exact floor(sqrt(x)). Integer Newton steps y <- (y + x / y) / 2 taken from any y >= sqrt(x)
 * stay >= floor(sqrt(x)) (AM-GM; Crandall & Pomerance, alg. 9.2.11). Seed: with x = t 4^k,
 * t in [1, 4), the tangent of sqrt at t = 9/4 lies above it: sqrt(t) <= t/3 + 3/4 (at most 8.3%
 * high), so y0 = x 21846 / 2^(16+k) + 3 2^k / 4 + 2 >= sqrt(x) (21846 / 2^16 > 1/3; +2 covers
 * the floors). Two steps bring the error to < 0.4 (8.3% -> 0.32% -> 5e-6 of <= 2^16), so
 * y is floor(sqrt(x)) or one more: one 64-bit square (UMULL) decides. Two UDIVs in all.
 * Checked on every uint32 by dsp/tests/test_fixed.c --all (a slow test). */
#if defined(KWS_HOST_FAST)
/* Host build only (CMake KWS_NATIVE: the ctypes library, never the M4): the same exact
 * floor(sqrt(x)) from the FPU. x < 2^32 is exact in a double and sqrt is correctly rounded, so y
 * is floor(sqrt(x)) or one above it (when the rounding reaches the next integer); the two
 * corrections make it exact regardless. No divides (the Newton steps below take two). */
KWS_INLINE uint32_t kws_isqrt32(uint32_t x)
{
    uint32_t y = (uint32_t)__builtin_sqrt((double)x); /* <= 65536 */
    y -= (uint32_t)((uint64_t)y * y > x);
    y += (uint32_t)((uint64_t)(y + 1u) * (y + 1u) <= x);
    return y;
}
#else
KWS_INLINE uint32_t kws_isqrt32(uint32_t x)
{
    uint32_t k, y;
    if (x == 0u) return 0u;
    k = (uint32_t)(kws_bitlen32(x) - 1) >> 1;                          /* x in [4^k, 4^(k+1)) */
    y = (uint32_t)(((uint64_t)x * 21846u) >> (16u + k)) + ((3u << k) >> 2) + 2u; /* UMULL */
    y = (y + x / y) >> 1;
    y = (y + x / y) >> 1;
    return (uint64_t)y * y > x ? y - 1u : y;
}
#endif

/* ---------------------------------------------------------------- magnitude of one bin */
/* Stage 5 for one bin (dsp/src/magnitude.c): P = re^2 + im^2 (uint64, < 2^62),
 * r = max(0, (bitlen(P) - 31) / 2), |X| = isqrt(P >> 2r) << r. */
KWS_INLINE uint32_t kws_mag32(int32_t re32, int32_t im32)
{
    int64_t re = re32, im = im32;
    uint64_t power = (uint64_t)(re * re) + (uint64_t)(im * im); /* SMULL + SMLAL, < 2^62 */
    uint32_t hi = (uint32_t)(power >> 32), lo = (uint32_t)power, r, top;
    if (hi == 0u) return kws_isqrt32(lo); /* bitlen(P) <= 32: r = 0 */
    r = (uint32_t)(kws_bitlen32(hi) + 1) >> 1; /* (bitlen(P) - 31) / 2, 1 <= r <= 15 */
    top = (lo >> (2u * r)) | (hi << (32u - 2u * r)); /* P >> 2r, < 2^32 */
    return kws_isqrt32(top) << r;
}

#endif /* KWS_FIXED_H */
