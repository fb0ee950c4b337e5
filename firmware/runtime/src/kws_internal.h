/* kws_internal.h - shared argument checks and the path switch of the kernels (not installed). */
#ifndef KWS_INTERNAL_H
#define KWS_INTERNAL_H

#include "kws_fixed.h"
#include "kws_kernels.h"

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

/* Requantization of one output channel, unpacked once per channel by the fast paths. */
typedef struct {
    int32_t multiplier; /* Q0.31, >= 0 (so kws_srdhm never saturates) */
    int32_t left;       /* max(shift, 0) */
    int32_t right;      /* max(-shift, 0) */
    int32_t mask;       /* 2^right - 1 (0 when right = 0) */
    int32_t half;       /* mask >> 1 */
} kws_rq1_t;

static inline kws_rq1_t kws_rq1(const kws_requant_t *rq, int32_t c)
{
    const int32_t i = rq->num == 1 ? 0 : c;
    kws_rq1_t r;
    r.multiplier = rq->multiplier[i];
    r.left = rq->shift[i] > 0 ? rq->shift[i] : 0;
    r.right = rq->shift[i] > 0 ? 0 : -rq->shift[i];
    r.mask = r.right ? (int32_t)(0xFFFFFFFFu >> (32 - r.right)) : 0;
    r.half = r.mask >> 1;
    return r;
}

/* kws_requantize + output offset + clamp, with the channel's parameters already unpacked.
 * Same result as kws_output_s8 (the multiplier is never INT32_MIN, so no saturation). */
static inline int8_t kws_out1_s8(int32_t acc, kws_rq1_t r, int32_t output_offset,
                                 int32_t act_min, int32_t act_max)
{
    const int32_t xl = (int32_t)((uint32_t)acc << r.left);
    const int64_t ab = (int64_t)xl * r.multiplier;
    const int32_t hi = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);    /* kws_srdhm */
    /* kws_rdivpot(hi, r.right) without a branch: with right = 0 the mask is 0 and the
     * remainder never exceeds the threshold */
    const int32_t threshold = r.half + (int32_t)((uint32_t)hi >> 31);
    const int32_t y = (hi >> r.right) + ((hi & r.mask) > threshold ? 1 : 0) + output_offset;
    return (int8_t)(y < act_min ? act_min : (y > act_max ? act_max : y));
}

static inline int kws_shape_ok(const kws_conv_shape_t *s)
{
    return s->in_h > 0 && s->in_w > 0 && s->in_c > 0 && s->out_h > 0 && s->out_w > 0 &&
           s->out_c > 0 && s->k_h > 0 && s->k_w > 0 && s->stride_h > 0 && s->stride_w > 0 &&
           s->pad_top >= 0 && s->pad_left >= 0 && s->pad_top < s->k_h && s->pad_left < s->k_w;
}

#endif /* KWS_INTERNAL_H */
