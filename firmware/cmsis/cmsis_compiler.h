/*
 * cmsis_compiler.h - the small subset of CMSIS-Core that CMSIS-DSP needs, written for kws.
 * SPDX-License-Identifier: Apache-2.0
 *
 * CMSIS-DSP includes "cmsis_compiler.h" for compiler attributes and the Armv7E-M DSP
 * intrinsics. This header provides both for GCC:
 *
 *   - On Arm with the DSP extension (__ARM_FEATURE_DSP, e.g. -mcpu=cortex-m4) every intrinsic
 *     maps to GCC's <arm_acle.h> (or a one-instruction inline asm where ACLE has no builtin),
 *     so the compiler emits the single DSP instruction.
 *   - Anywhere else (the host build) every intrinsic is emulated in plain C with exactly the
 *     instruction's result, so a host build of CMSIS-DSP compiled with -DARM_MATH_DSP=1 takes
 *     the same DSP-extension code path as the Cortex-M4 and gives the same bits.
 *
 * Only the result register is modelled: the Q (sticky saturation) and GE flags are not, and
 * CMSIS-DSP never reads them.
 *
 * Legend for the packed SIMD operands (uint32_t holding two int16 halves):
 *   lo(x) = (int16_t)(x & 0xFFFF), hi(x) = (int16_t)(x >> 16).
 */
#ifndef KWS_CMSIS_COMPILER_H
#define KWS_CMSIS_COMPILER_H

#include <stdint.h>

#if !defined(__GNUC__)
#error "kws cmsis_compiler.h supports GCC (and GCC-compatible compilers) only"
#endif

/* ---- attributes ------------------------------------------------------------------------- */
#ifndef __ASM
#define __ASM __asm
#endif
#ifndef __INLINE
#define __INLINE inline
#endif
#ifndef __STATIC_INLINE
#define __STATIC_INLINE static inline
#endif
#ifndef __STATIC_FORCEINLINE
#define __STATIC_FORCEINLINE __attribute__((always_inline)) static inline
#endif
#ifndef __NO_RETURN
#define __NO_RETURN __attribute__((__noreturn__))
#endif
#ifndef __USED
#define __USED __attribute__((used))
#endif
#ifndef __WEAK
#define __WEAK __attribute__((weak))
#endif
#ifndef __PACKED
#define __PACKED __attribute__((packed, aligned(1)))
#endif
#ifndef __ALIGNED
#define __ALIGNED(x) __attribute__((aligned(x)))
#endif
#ifndef __RESTRICT
#define __RESTRICT __restrict
#endif
#ifndef __UNALIGNED_UINT32_READ
#define __UNALIGNED_UINT32_READ(addr) (*(const uint32_t *)(const void *)(addr))
#endif

/* ---- pack halfwords: plain C on both sides (GCC folds these into PKHBT/PKHTB on Arm) ---- */
/* PKHBT: low half of a, high half of (b << sh). */
#define __PKHBT(a, b, sh) \
  ((uint32_t)(((uint32_t)(a) & 0x0000FFFFUL) | (((uint32_t)(b) << (sh)) & 0xFFFF0000UL)))
/* PKHTB: high half of a, low half of (b >> sh) with an arithmetic shift. */
#define __PKHTB(a, b, sh) \
  ((uint32_t)(((uint32_t)(a) & 0xFFFF0000UL) | ((uint32_t)((int32_t)(b) >> (sh)) & 0x0000FFFFUL)))

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1)
/* =========================== Arm: GCC ACLE intrinsics ==================================== */
#include <arm_acle.h>

#define __SSAT(x, n) ((int32_t)__ssat((int32_t)(x), (n)))
#define __USAT(x, n) ((uint32_t)__usat((int32_t)(x), (n)))

/* GCC 12's ACLE lacks __clz/__ror; GCC folds these into one CLZ / ROR instruction
 * (it knows CLZ gives 32 for 0 on Arm). */
__STATIC_FORCEINLINE uint8_t __CLZ(uint32_t x) {
  return (uint8_t)(x == 0u ? 32 : __builtin_clz(x));
}
__STATIC_FORCEINLINE uint32_t __ROR(uint32_t x, uint32_t n) {
  n &= 31u;
  return (x >> n) | (x << ((32u - n) & 31u));
}

__STATIC_FORCEINLINE int32_t __QADD(int32_t a, int32_t b) { return __qadd(a, b); }
__STATIC_FORCEINLINE int32_t __QSUB(int32_t a, int32_t b) { return __qsub(a, b); }

#define KWS_ACLE2(NAME, fn)                                                    \
  __STATIC_FORCEINLINE uint32_t NAME(uint32_t a, uint32_t b) {                 \
    return (uint32_t)fn((int16x2_t)a, (int16x2_t)b);                           \
  }
KWS_ACLE2(__QADD16, __qadd16)
KWS_ACLE2(__QSUB16, __qsub16)
KWS_ACLE2(__QASX, __qasx)
KWS_ACLE2(__QSAX, __qsax)
KWS_ACLE2(__SHADD16, __shadd16)
KWS_ACLE2(__SHSUB16, __shsub16)
KWS_ACLE2(__SHASX, __shasx)
KWS_ACLE2(__SHSAX, __shsax)
KWS_ACLE2(__SMUAD, __smuad)
KWS_ACLE2(__SMUADX, __smuadx)
KWS_ACLE2(__SMUSD, __smusd)
KWS_ACLE2(__SMUSDX, __smusdx)
#undef KWS_ACLE2

__STATIC_FORCEINLINE uint32_t __QADD8(uint32_t a, uint32_t b) {
  return (uint32_t)__qadd8((int8x4_t)a, (int8x4_t)b);
}
__STATIC_FORCEINLINE uint32_t __QSUB8(uint32_t a, uint32_t b) {
  return (uint32_t)__qsub8((int8x4_t)a, (int8x4_t)b);
}
__STATIC_FORCEINLINE uint32_t __SXTB16(uint32_t x) { return (uint32_t)__sxtb16((int8x4_t)x); }

#define KWS_ACLE3(NAME, fn)                                                    \
  __STATIC_FORCEINLINE uint32_t NAME(uint32_t a, uint32_t b, uint32_t c) {     \
    return (uint32_t)fn((int16x2_t)a, (int16x2_t)b, (int32_t)c);               \
  }
KWS_ACLE3(__SMLAD, __smlad)
KWS_ACLE3(__SMLADX, __smladx)
KWS_ACLE3(__SMLSD, __smlsd)
KWS_ACLE3(__SMLSDX, __smlsdx)
#undef KWS_ACLE3

__STATIC_FORCEINLINE uint64_t __SMLALD(uint32_t a, uint32_t b, uint64_t acc) {
  return (uint64_t)__smlald((int16x2_t)a, (int16x2_t)b, (int64_t)acc);
}
__STATIC_FORCEINLINE uint64_t __SMLALDX(uint32_t a, uint32_t b, uint64_t acc) {
  return (uint64_t)__smlaldx((int16x2_t)a, (int16x2_t)b, (int64_t)acc);
}
/* SMMLA: c + high word of the 64-bit product a*b (truncated); ACLE has no builtin. */
__STATIC_FORCEINLINE int32_t __SMMLA(int32_t a, int32_t b, int32_t c) {
  int32_t r;
  __ASM volatile("smmla %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}

#else
/* =========================== host: exact emulation in plain C ============================= */
#define KWS_LO(x) ((int32_t)(int16_t)((uint32_t)(x) & 0xFFFFu))
#define KWS_HI(x) ((int32_t)(int16_t)((uint32_t)(x) >> 16))
#define KWS_PACK(hi, lo) ((((uint32_t)(hi) & 0xFFFFu) << 16) | ((uint32_t)(lo) & 0xFFFFu))

/* SSAT: saturate to a signed n-bit range [-2^(n-1), 2^(n-1)-1], 1 <= n <= 32. */
__STATIC_FORCEINLINE int32_t kws_ssat(int32_t x, uint32_t n) {
  if (n >= 32u) return x;
  const int32_t max = (int32_t)((1u << (n - 1u)) - 1u);
  const int32_t min = -max - 1;
  return x > max ? max : (x < min ? min : x);
}
/* USAT: saturate to an unsigned n-bit range [0, 2^n - 1], 0 <= n <= 31. */
__STATIC_FORCEINLINE uint32_t kws_usat(int32_t x, uint32_t n) {
  const int32_t max = (int32_t)((1u << n) - 1u);
  return (uint32_t)(x > max ? max : (x < 0 ? 0 : x));
}
#define __SSAT(x, n) kws_ssat((int32_t)(x), (uint32_t)(n))
#define __USAT(x, n) kws_usat((int32_t)(x), (uint32_t)(n))

__STATIC_FORCEINLINE uint8_t __CLZ(uint32_t x) {
  uint8_t n = 0;
  if (x == 0u) return 32u;
  while ((x & 0x80000000u) == 0u) { x <<= 1; ++n; }
  return n;
}
__STATIC_FORCEINLINE uint32_t __ROR(uint32_t x, uint32_t n) {
  n &= 31u;
  return n == 0u ? x : (x >> n) | (x << (32u - n));
}

__STATIC_FORCEINLINE int32_t kws_sat32(int64_t v) {
  return v > INT32_MAX ? INT32_MAX : (v < INT32_MIN ? INT32_MIN : (int32_t)v);
}
__STATIC_FORCEINLINE int32_t __QADD(int32_t a, int32_t b) { return kws_sat32((int64_t)a + b); }
__STATIC_FORCEINLINE int32_t __QSUB(int32_t a, int32_t b) { return kws_sat32((int64_t)a - b); }

__STATIC_FORCEINLINE int32_t kws_sat16(int32_t v) {
  return v > 32767 ? 32767 : (v < -32768 ? -32768 : v);
}
__STATIC_FORCEINLINE int32_t kws_sat8(int32_t v) { return v > 127 ? 127 : (v < -128 ? -128 : v); }

/* Two-halfword operations: hi result from (hi-ish operands), lo result from (lo-ish). */
__STATIC_FORCEINLINE uint32_t __QADD16(uint32_t a, uint32_t b) {
  return KWS_PACK(kws_sat16(KWS_HI(a) + KWS_HI(b)), kws_sat16(KWS_LO(a) + KWS_LO(b)));
}
__STATIC_FORCEINLINE uint32_t __QSUB16(uint32_t a, uint32_t b) {
  return KWS_PACK(kws_sat16(KWS_HI(a) - KWS_HI(b)), kws_sat16(KWS_LO(a) - KWS_LO(b)));
}
/* QASX: hi = a.hi + b.lo, lo = a.lo - b.hi (saturated). QSAX: the other way round. */
__STATIC_FORCEINLINE uint32_t __QASX(uint32_t a, uint32_t b) {
  return KWS_PACK(kws_sat16(KWS_HI(a) + KWS_LO(b)), kws_sat16(KWS_LO(a) - KWS_HI(b)));
}
__STATIC_FORCEINLINE uint32_t __QSAX(uint32_t a, uint32_t b) {
  return KWS_PACK(kws_sat16(KWS_HI(a) - KWS_LO(b)), kws_sat16(KWS_LO(a) + KWS_HI(b)));
}
/* Halving forms: the 17-bit sum/difference shifted right by one (arithmetic). */
__STATIC_FORCEINLINE uint32_t __SHADD16(uint32_t a, uint32_t b) {
  return KWS_PACK((KWS_HI(a) + KWS_HI(b)) >> 1, (KWS_LO(a) + KWS_LO(b)) >> 1);
}
__STATIC_FORCEINLINE uint32_t __SHSUB16(uint32_t a, uint32_t b) {
  return KWS_PACK((KWS_HI(a) - KWS_HI(b)) >> 1, (KWS_LO(a) - KWS_LO(b)) >> 1);
}
__STATIC_FORCEINLINE uint32_t __SHASX(uint32_t a, uint32_t b) {
  return KWS_PACK((KWS_HI(a) + KWS_LO(b)) >> 1, (KWS_LO(a) - KWS_HI(b)) >> 1);
}
__STATIC_FORCEINLINE uint32_t __SHSAX(uint32_t a, uint32_t b) {
  return KWS_PACK((KWS_HI(a) - KWS_LO(b)) >> 1, (KWS_LO(a) + KWS_HI(b)) >> 1);
}
__STATIC_FORCEINLINE uint32_t kws_pack8(const int32_t v[4]) {
  return ((uint32_t)(v[3] & 0xFF) << 24) | ((uint32_t)(v[2] & 0xFF) << 16) |
         ((uint32_t)(v[1] & 0xFF) << 8) | (uint32_t)(v[0] & 0xFF);
}
__STATIC_FORCEINLINE uint32_t __QADD8(uint32_t a, uint32_t b) {
  int32_t v[4];
  for (int i = 0; i < 4; ++i)
    v[i] = kws_sat8((int32_t)(int8_t)(a >> (8 * i)) + (int32_t)(int8_t)(b >> (8 * i)));
  return kws_pack8(v);
}
__STATIC_FORCEINLINE uint32_t __QSUB8(uint32_t a, uint32_t b) {
  int32_t v[4];
  for (int i = 0; i < 4; ++i)
    v[i] = kws_sat8((int32_t)(int8_t)(a >> (8 * i)) - (int32_t)(int8_t)(b >> (8 * i)));
  return kws_pack8(v);
}
/* SXTB16: sign-extend bytes 0 and 2 into the two halfwords. */
__STATIC_FORCEINLINE uint32_t __SXTB16(uint32_t x) {
  return KWS_PACK((int32_t)(int8_t)(x >> 16), (int32_t)(int8_t)x);
}

/* Dual 16x16 multiplies. Products are computed in 64 bits and wrapped to 32 like the hardware
 * (only 0x8000*0x8000 + 0x8000*0x8000 can overflow; the hardware wraps and sets Q). */
#define KWS_W32(v) ((uint32_t)(uint64_t)(v))
__STATIC_FORCEINLINE uint32_t __SMUAD(uint32_t a, uint32_t b) {
  return KWS_W32((int64_t)KWS_LO(a) * KWS_LO(b) + (int64_t)KWS_HI(a) * KWS_HI(b));
}
__STATIC_FORCEINLINE uint32_t __SMUADX(uint32_t a, uint32_t b) {
  return KWS_W32((int64_t)KWS_LO(a) * KWS_HI(b) + (int64_t)KWS_HI(a) * KWS_LO(b));
}
__STATIC_FORCEINLINE uint32_t __SMUSD(uint32_t a, uint32_t b) {
  return KWS_W32((int64_t)KWS_LO(a) * KWS_LO(b) - (int64_t)KWS_HI(a) * KWS_HI(b));
}
__STATIC_FORCEINLINE uint32_t __SMUSDX(uint32_t a, uint32_t b) {
  return KWS_W32((int64_t)KWS_LO(a) * KWS_HI(b) - (int64_t)KWS_HI(a) * KWS_LO(b));
}
__STATIC_FORCEINLINE uint32_t __SMLAD(uint32_t a, uint32_t b, uint32_t c) {
  return KWS_W32((int64_t)(int32_t)c + (int64_t)KWS_LO(a) * KWS_LO(b) +
                 (int64_t)KWS_HI(a) * KWS_HI(b));
}
__STATIC_FORCEINLINE uint32_t __SMLADX(uint32_t a, uint32_t b, uint32_t c) {
  return KWS_W32((int64_t)(int32_t)c + (int64_t)KWS_LO(a) * KWS_HI(b) +
                 (int64_t)KWS_HI(a) * KWS_LO(b));
}
__STATIC_FORCEINLINE uint32_t __SMLSD(uint32_t a, uint32_t b, uint32_t c) {
  return KWS_W32((int64_t)(int32_t)c + (int64_t)KWS_LO(a) * KWS_LO(b) -
                 (int64_t)KWS_HI(a) * KWS_HI(b));
}
__STATIC_FORCEINLINE uint32_t __SMLSDX(uint32_t a, uint32_t b, uint32_t c) {
  return KWS_W32((int64_t)(int32_t)c + (int64_t)KWS_LO(a) * KWS_HI(b) -
                 (int64_t)KWS_HI(a) * KWS_LO(b));
}
/* 64-bit accumulate: wraps modulo 2^64 like the hardware. */
__STATIC_FORCEINLINE uint64_t __SMLALD(uint32_t a, uint32_t b, uint64_t acc) {
  return acc + (uint64_t)((int64_t)KWS_LO(a) * KWS_LO(b) + (int64_t)KWS_HI(a) * KWS_HI(b));
}
__STATIC_FORCEINLINE uint64_t __SMLALDX(uint32_t a, uint32_t b, uint64_t acc) {
  return acc + (uint64_t)((int64_t)KWS_LO(a) * KWS_HI(b) + (int64_t)KWS_HI(a) * KWS_LO(b));
}
/* SMMLA: c + (a*b >> 32), the 64-bit product's high word truncated, wrapped to 32 bits. */
__STATIC_FORCEINLINE int32_t __SMMLA(int32_t a, int32_t b, int32_t c) {
  return (int32_t)((uint32_t)c + (uint32_t)(((int64_t)a * b) >> 32));
}
#undef KWS_W32
#endif /* __ARM_FEATURE_DSP */

#endif /* KWS_CMSIS_COMPILER_H */
