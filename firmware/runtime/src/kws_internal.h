/* kws_internal.h - shared argument checks and the path switch of the kernels (not installed). */
#ifndef KWS_INTERNAL_H
#define KWS_INTERNAL_H

#include "kws_nn_fixed.h"
#include "kws_kernels.h"
#include "kws_simd.h"

/* KWS_ALWAYS_INLINE: force inlining where a constant argument specializes a kernel body. */
#if defined(__GNUC__)
#define KWS_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define KWS_ALWAYS_INLINE inline
#endif

/* KWS_USE_DSP: 1 for the DSP-extension path (on an M4, or emulated on the host). */
#if !defined(KWS_PORTABLE) && (defined(__ARM_FEATURE_DSP) || defined(KWS_SIMD_EMULATE))
#define KWS_USE_DSP 1
#else
#define KWS_USE_DSP 0
#endif

static inline int kws_act_ok(const kws_act_t *act)
{
    return act->input_offset >= -127 && act->input_offset <= 128 &&
           act->output_offset >= -128 && act->output_offset <= 127 &&
           act->act_min >= -128 && act->act_min <= act->act_max && act->act_max <= 127;
}

static inline int kws_requant_ok(const kws_requant_t *rq, int32_t channels)
{
    if (rq->multiplier == NULL || rq->shift == NULL || !(rq->num == 1 || rq->num == channels)) {
        return 0;
    }
    for (int32_t i = 0; i < rq->num; ++i) {
        if (rq->multiplier[i] < 0 || rq->shift[i] < -31 || rq->shift[i] > 30) {
            return 0;
        }
    }
    return 1;
}

/* Requantize one accumulator of output channel c and clamp it to the fused activation. */
static inline int8_t kws_output_s8(int32_t acc, const kws_requant_t *rq, int32_t c,
                                   const kws_act_t *act)
{
    const int32_t i = rq->num == 1 ? 0 : c;
    const int32_t y = kws_requantize(acc, rq->multiplier[i], rq->shift[i]) + act->output_offset;
    return (int8_t)kws_clamp(y, act->act_min, act->act_max);
}

/* Requantization of one output channel, unpacked once per channel by the fast paths.
 *
 * With a right shift r >= 1 (left shift 0) the two roundings of kws_requantize fuse into one
 * 64-bit floor division. With h = kws_srdhm(a, m) = floor((a*m + 2^30) / 2^31):
 *   kws_rdivpot(h, r) = floor((h + 2^(r-1) - [h < 0]) / 2^r)          (ties away from zero)
 * and [h < 0] may be replaced by [a < 0] (m >= 0: h != 0 has the sign of a, and for h = 0 both
 * give 0 when r >= 1). Nested floors by powers of two combine (floor(floor(Y/p)/q) =
 * floor(Y/(pq)), an integer added inside moves through), so
 *   y = floor((a*m + 2^30 + 2^(r+30) - [a < 0] * 2^31) / 2^(31+r))
 *     = (int32)(Y >> 32) >> (r - 1),  Y the int64 in the parentheses (|Y| < 2^63).
 * On the M4: SMLAL (a*m + round), LSR + SMLAL (the [a < 0] term), ASR. */
typedef struct {
    int32_t multiplier; /* Q0.31, >= 0 (so kws_srdhm never saturates) */
    int32_t left;       /* max(shift, 0) */
    int32_t right;      /* max(-shift, 0) */
    int64_t round;      /* right >= 1: 2^30 + 2^(right+30); right = 0: 2^30 */
} kws_rq1_t;

static inline kws_rq1_t kws_rq1(const kws_requant_t *rq, int32_t c)
{
    const int32_t i = rq->num == 1 ? 0 : c;
    kws_rq1_t r;
    r.multiplier = rq->multiplier[i];
    r.left = rq->shift[i] > 0 ? rq->shift[i] : 0;
    r.right = rq->shift[i] > 0 ? 0 : -rq->shift[i];
    r.round = ((int64_t)1 << 30) + (r.right ? (int64_t)1 << (r.right + 30) : 0);
    return r;
}

/* kws_requantize(acc, multiplier, shift) with the channel's parameters already unpacked. */
static inline int32_t kws_rq1_apply(int32_t acc, kws_rq1_t r)
{
    if (r.right) {
        /* fused kws_srdhm + kws_rdivpot (see kws_rq1_t); the [acc < 0] term is
         * (acc >>> 31) * INT32_MIN, a second multiply-accumulate */
        const int64_t t = kws_smlal(kws_smlal(r.round, acc, r.multiplier),
                                    (int32_t)((uint32_t)acc >> 31), INT32_MIN);
        return (int32_t)(t >> 32) >> (r.right - 1);
    }
    const int32_t xl = (int32_t)((uint32_t)acc << r.left);                 /* wraps like TFLite */
    return (int32_t)(((int64_t)xl * r.multiplier + r.round) >> 31);        /* kws_srdhm */
}

/* kws_out1_s8 for an activation range of the whole int8 range (-128..127, the usual case:
 * a ReLU output's zero point is -128): the clamp is one SSAT. */
static inline int8_t kws_out1_s8_full(int32_t acc, kws_rq1_t r, int32_t output_offset)
{
    return (int8_t)kws_ssat8(kws_rq1_apply(acc, r) + output_offset);
}

/* kws_requantize + output offset + clamp, with the channel's parameters already unpacked.
 * Same result as kws_output_s8 (the multiplier is never INT32_MIN, so no saturation). */
static inline int8_t kws_out1_s8(int32_t acc, kws_rq1_t r, int32_t output_offset,
                                 int32_t act_min, int32_t act_max)
{
    const int32_t y = kws_rq1_apply(acc, r) + output_offset;
    return (int8_t)(y < act_min ? act_min : (y > act_max ? act_max : y));
}

#if KWS_USE_DSP
/* Fast exact requantization of a doubled accumulator (DSP path).
 *
 * For a multiplier m in [0, 2^31) and a right shift r >= 1 (TFLite shift = -r, no left shift):
 *   kws_srdhm(a, m) = floor((a*m + 2^30) / 2^31) = floor((2a*m + 2^31) / 2^32) = SMMULR(2a, m)
 * whenever 2a fits in int32, and kws_rdivpot(t, r) + output_offset
 *   = (t + 2^(r-1) - [t < 0] + output_offset * 2^r) >> r          (arithmetic shift)
 * (ties away from zero; the output offset, a multiple of 2^r, moves through the floor).
 * The kernels get 2a for free by doubling their int16 weights and the bias, so one output is
 * SMMULR, ADD k, SUB t LSR 31, ASR r, SSAT (or a min / max clamp).
 * Exactness needs |2a| < 2^31 (the caller proves |a| < 2^30 from the bias and the weights)
 * and no overflow in t + k - 1: |t| <= |a| < 2^30 (m < 2^31) and |k| <= 2^(r-1) + 2^(r+7)
 * <= 2^21 + 2^29 for r <= 22. Checked by tests/requant_fused.c. */
typedef struct {
    int32_t multiplier; /* Q0.31 */
    int32_t k;          /* 2^(r-1) + output_offset * 2^r */
    int32_t right;      /* r, 1..22 */
} kws_rqf_t;

/* 1 and the channel's fast parameters if the fast path is exact for channel c, given a bound
 * on |acc| (TFLite's int32 accumulator, before doubling); else 0. */
static inline int kws_rqf(const kws_requant_t *rq, int32_t c, int32_t output_offset,
                          uint32_t acc_bound, kws_rqf_t *f)
{
    const int32_t i = rq->num == 1 ? 0 : c;
    const int32_t r = -rq->shift[i];
    if (r < 1 || r > 22 || acc_bound >= (1u << 30)) {
        return 0;
    }
    f->multiplier = rq->multiplier[i];
    f->right = r;
    f->k = (int32_t)(1u << (r - 1)) + output_offset * (int32_t)(1u << r);
    return 1;
}

/* kws_requantize(acc) + output_offset, from acc2 = 2 * acc (see kws_rqf_t). */
static inline int32_t kws_rqf_apply(int32_t acc2, kws_rqf_t f)
{
    const int32_t t = kws_smmulr(acc2, f.multiplier);                  /* Q(acc) */
    return (t + f.k - (int32_t)((uint32_t)t >> 31)) >> f.right;        /* arithmetic shift */
}
#endif

static inline int kws_shape_ok(const kws_conv_shape_t *s)
{
    return s->in_h > 0 && s->in_w > 0 && s->in_c > 0 && s->out_h > 0 && s->out_w > 0 &&
           s->out_c > 0 && s->k_h > 0 && s->k_w > 0 && s->stride_h > 0 && s->stride_w > 0 &&
           s->pad_top >= 0 && s->pad_left >= 0 && s->pad_top < s->k_h && s->pad_left < s->k_w;
}

/* Elements of a kws_dims4_t, or -1 if a dimension is not positive. */
static inline int64_t kws_dims4_count(const kws_dims4_t *d)
{
    int64_t n = 1;
    for (int i = 0; i < 4; ++i) {
        if (d->d[i] <= 0) {
            return -1;
        }
        n *= d->d[i];
    }
    return n;
}

/* Element strides of `in` read against `out` with broadcasting: 0 where in's dimension is 1
 * and out's is not; returns 0 if in does not broadcast to out. */
static inline int kws_broadcast_strides(const kws_dims4_t *in, const kws_dims4_t *out,
                                        int32_t strides[4])
{
    int32_t s = 1;
    for (int i = 3; i >= 0; --i) {
        if (in->d[i] != out->d[i] && in->d[i] != 1) {
            return 0;
        }
        strides[i] = in->d[i] == 1 ? 0 : s;
        s *= in->d[i];
    }
    return 1;
}

static inline int kws_shift_ok(int32_t multiplier, int32_t shift)
{
    return multiplier >= 0 && shift >= -31 && shift <= 30;
}

#endif /* KWS_INTERNAL_H */
