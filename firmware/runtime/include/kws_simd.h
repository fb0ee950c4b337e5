/*
 * kws_simd.h - the Cortex-M4 DSP-extension intrinsics the kernels use, through ACLE.
 *
 * On a target with __ARM_FEATURE_DSP these are <arm_acle.h>'s instructions. With
 * KWS_SIMD_EMULATE (host builds), they are plain C with the same bit-for-bit results, so the
 * DSP path can be tested on the host against the portable path.
 *
 *   kws_sxtb16(x)       two int8 (bytes 0 and 2) -> two int16 lanes               SXTB16
 *   kws_sxtb16_ror8(x)  two int8 (bytes 1 and 3) -> two int16 lanes               SXTB16 ROR #8
 *   kws_smlad(x, y, a)  a + x.lo * y.lo + x.hi * y.hi (int16 lanes)              SMLAD
 *   kws_pkhbt(lo, hi)   low halfword of lo, low halfword of hi << 16            PKHBT
 *   kws_pkhtb(hi, lo)   high halfword of hi, high halfword of lo >> 16          PKHTB
 *   kws_sadd16(x, y)    wrap-around halfword add                                SADD16
 *   kws_smlabb / kws_smlatt  a + lo(x) * lo(y) / a + hi(x) * hi(y)              SMLABB/SMLATT
 *   kws_smlabt / kws_smlatb  a + lo(x) * hi(y) / a + hi(x) * lo(y)              SMLABT/SMLATB
 *   kws_smlal(a, x, y)  int64 a + int32 x * int32 y (wraps like the hardware)      SMLAL
 *   kws_ssat8(x)        x saturated to -128..127                                  SSAT #8
 *   kws_smmulr(x, y)    (x * y + 2^31) >> 32, the rounded high word               SMMULR
 *   kws_smmlar(x, y, a) a + ((x * y + 2^31) >> 32) (wraps like the hardware)          SMMLAR
 *   kws_sxtab16(a, x)   a + SXTB16(x), wrap-around halfword lanes                  SXTAB16
 *   kws_sxtab16_ror8(a, x)  a + SXTB16(x ROR 8)                                    SXTAB16 ROR #8
 *   kws_max_s8x4(a, b)  per byte lane max(a, b) of four int8                      SSUB8 + SEL
 *   kws_min_s8x4(a, b)  per byte lane min(a, b) of four int8                      SSUB8 + SEL
 */
#ifndef KWS_SIMD_H
#define KWS_SIMD_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
#include <arm_acle.h>

static inline uint32_t kws_sxtb16(uint32_t x) { return __sxtb16(x); }
static inline uint32_t kws_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t kws_smlad(uint32_t x, uint32_t y, int32_t a) { return __smlad(x, y, a); }
static inline uint32_t kws_sadd16(uint32_t x, uint32_t y) { return __sadd16(x, y); }
static inline int32_t kws_smlabb(uint32_t x, uint32_t y, int32_t a) { return __smlabb(x, y, a); }
static inline int32_t kws_smlatt(uint32_t x, uint32_t y, int32_t a) { return __smlatt(x, y, a); }
static inline int32_t kws_smlabt(uint32_t x, uint32_t y, int32_t a) { return __smlabt(x, y, a); }
static inline int32_t kws_smlatb(uint32_t x, uint32_t y, int32_t a) { return __smlatb(x, y, a); }
static inline int32_t kws_ssat8(int32_t x) { return __ssat(x, 8); }
static inline int32_t kws_smmulr(int32_t x, int32_t y)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(x), "r"(y));
    return r;
}
static inline int32_t kws_smmlar(int32_t x, int32_t y, int32_t a)
{
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(y), "r"(a));
    return r;
}
static inline uint32_t kws_sxtab16(uint32_t a, uint32_t x) { return __sxtab16(a, x); }
static inline uint32_t kws_sxtab16_ror8(uint32_t a, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
static inline int64_t kws_smlal(int64_t a, int32_t x, int32_t y)
{
    __asm__("smlal %Q0, %R0, %1, %2" : "+r"(a) : "r"(x), "r"(y));
    return a;
}
static inline uint32_t kws_pkhbt(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}
static inline uint32_t kws_pkhtb(uint32_t hi, uint32_t lo)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}
/* SSUB8 sets GE[i] where a_i - b_i >= 0 (signed lanes); SEL picks a's lane there. One asm
 * block, so that nothing touches the GE flags between the two. */
static inline uint32_t kws_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
static inline uint32_t kws_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}
#else
static inline uint32_t kws_lanes(int32_t lo, int32_t hi)
{
    return ((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16);
}
static inline int32_t kws_lane_lo(uint32_t x) { return (int16_t)(x & 0xFFFFu); }
static inline int32_t kws_lane_hi(uint32_t x) { return (int16_t)(x >> 16); }
static inline uint32_t kws_sxtb16(uint32_t x)
{
    return kws_lanes((int8_t)(x & 0xFFu), (int8_t)((x >> 16) & 0xFFu));
}
static inline uint32_t kws_sxtb16_ror8(uint32_t x)
{
    return kws_lanes((int8_t)((x >> 8) & 0xFFu), (int8_t)((x >> 24) & 0xFFu));
}
static inline int32_t kws_smlad(uint32_t x, uint32_t y, int32_t a)
{
    const int64_t r = (int64_t)a + (int64_t)kws_lane_lo(x) * kws_lane_lo(y)
                    + (int64_t)kws_lane_hi(x) * kws_lane_hi(y);
    return (int32_t)(uint32_t)r; /* the kernels never overflow; wrap like the hardware */
}
static inline uint32_t kws_sadd16(uint32_t x, uint32_t y)
{
    return kws_lanes(kws_lane_lo(x) + kws_lane_lo(y), kws_lane_hi(x) + kws_lane_hi(y));
}
static inline int32_t kws_smlabb(uint32_t x, uint32_t y, int32_t a)
{
    return (int32_t)((uint32_t)a + (uint32_t)(kws_lane_lo(x) * kws_lane_lo(y)));
}
static inline int32_t kws_smlatt(uint32_t x, uint32_t y, int32_t a)
{
    return (int32_t)((uint32_t)a + (uint32_t)(kws_lane_hi(x) * kws_lane_hi(y)));
}
static inline int32_t kws_smlabt(uint32_t x, uint32_t y, int32_t a)
{
    return (int32_t)((uint32_t)a + (uint32_t)(kws_lane_lo(x) * kws_lane_hi(y)));
}
static inline int32_t kws_smlatb(uint32_t x, uint32_t y, int32_t a)
{
    return (int32_t)((uint32_t)a + (uint32_t)(kws_lane_hi(x) * kws_lane_lo(y)));
}
static inline int32_t kws_ssat8(int32_t x) { return x < -128 ? -128 : (x > 127 ? 127 : x); }
static inline int32_t kws_smmulr(int32_t x, int32_t y)
{
    return (int32_t)(((int64_t)x * y + ((int64_t)1 << 31)) >> 32); /* arithmetic shift */
}
static inline int32_t kws_smmlar(int32_t x, int32_t y, int32_t a)
{
    /* (a * 2^32 + x * y + 2^31) >> 32: the integer a moves through the floor */
    return (int32_t)((uint32_t)a + (uint32_t)kws_smmulr(x, y));
}
static inline uint32_t kws_sxtab16(uint32_t a, uint32_t x)
{
    return kws_sadd16(a, kws_sxtb16(x));
}
static inline uint32_t kws_sxtab16_ror8(uint32_t a, uint32_t x)
{
    return kws_sadd16(a, kws_sxtb16_ror8(x));
}
static inline int64_t kws_smlal(int64_t a, int32_t x, int32_t y)
{
    return (int64_t)((uint64_t)a + (uint64_t)((int64_t)x * y));
}
static inline uint32_t kws_pkhbt(uint32_t lo, uint32_t hi)
{
    return (lo & 0xFFFFu) | (hi << 16);
}
static inline uint32_t kws_pkhtb(uint32_t hi, uint32_t lo)
{
    return (hi & 0xFFFF0000u) | (uint32_t)((int32_t)lo >> 16 & 0xFFFF);
}
/* Per byte lane a_i >= b_i (signed) ? a_i : b_i, or the other lane for pick_b_on_ge. */
static inline uint32_t kws_sel_ge_s8x4(uint32_t a, uint32_t b, int pick_b_on_ge)
{
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        const int ge = x >= y;
        r |= (uint32_t)(uint8_t)((ge != pick_b_on_ge) ? x : y) << i;
    }
    return r;
}
static inline uint32_t kws_max_s8x4(uint32_t a, uint32_t b) { return kws_sel_ge_s8x4(a, b, 0); }
static inline uint32_t kws_min_s8x4(uint32_t a, uint32_t b) { return kws_sel_ge_s8x4(a, b, 1); }
#endif

/* Unaligned 32-bit load (one LDR on the M4, which allows unaligned word loads). */
static inline uint32_t kws_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Unaligned 32-bit store (one STR on the M4). */
static inline void kws_write_u32(void *p, uint32_t v) { memcpy(p, &v, sizeof v); }

#endif /* KWS_SIMD_H */
