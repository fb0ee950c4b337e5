/*
 * conv.c - int8 conv2d and 1x1 (pointwise) conv, TFLite int8 semantics (kws_kernels.h).
 *
 * Portable path: the reference loop. DSP path (Cortex-M4, or emulated on the host):
 *  - pointwise: the input offset is folded into the bias (no padding, so it is exact):
 *      acc = bias[o] + input_offset * sum_i w[o][i] + sum_i x[p][i] * w[o][i]
 *    and the int8 dot products run two pixels by two output channels at a time, four taps per
 *    step, with SXTB16 widening and SMLAD (two 16x16 MACs per instruction).
 *  - conv2d: im2col of one output pixel into int16 scratch with the input offset added
 *    (padding becomes 0), stored in SXTB16 lane order, then SMLAD against the int8 filter.
 */
#include <string.h>

#include "kws_internal.h"
#include "kws_simd.h"

/* Largest input depth (multiple of 4) of the pointwise DSP path: its stack buffer holds two
 * widened filter rows, 4 * KWS_PW_MAX_IN bytes. Deeper layers use the portable loop. */
#define KWS_PW_MAX_IN 512

static kws_status_t conv_check(const kws_conv_shape_t *s, const kws_act_t *act,
                               const kws_requant_t *rq, const int8_t *input, size_t input_len,
                               const int8_t *filter, size_t filter_len, const int32_t *bias,
                               size_t bias_len, const int8_t *output, size_t output_len)
{
    if (s == NULL || act == NULL || rq == NULL || input == NULL || filter == NULL ||
        output == NULL) {
        return KWS_ERR_NULL;
    }
    if (!kws_shape_ok(s) || !kws_act_ok(act) || !kws_requant_ok(rq, s->out_c)) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        filter_len < (size_t)s->out_c * s->k_h * s->k_w * s->in_c ||
        output_len < (size_t)s->out_h * s->out_w * s->out_c ||
        (bias != NULL && bias_len < (size_t)s->out_c)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    return KWS_OK;
}

size_t kws_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP) {
        return 0;
    }
    /* two im2col columns of k_h * k_w * in_c int16, each rounded up to a whole word */
    const size_t kk = (size_t)shape->k_h * shape->k_w * shape->in_c;
    return 2 * ((kk + 1) & ~(size_t)1) * sizeof(int16_t);
}

#if KWS_USE_DSP
/* sum_i x[i] * w[i] over n int8 values, four at a time (SXTB16 + SMLAD). */
static inline int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = kws_read_u32(x + i), wv = kws_read_u32(w + i);
        acc = kws_smlad(kws_sxtb16(xv), kws_sxtb16(wv), acc);
        acc = kws_smlad(kws_sxtb16_ror8(xv), kws_sxtb16_ror8(wv), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)x[i] * w[i];
    }
    return acc;
}

static int32_t filter_sum(const int8_t *w, int32_t n)
{
    int32_t s = 0;
    for (int32_t i = 0; i < n; ++i) {
        s += w[i];
    }
    return s;
}
#endif

#if KWS_USE_DSP
/* im2col of output pixel p: tap t = (ky * k_w + kx) * in_c + ic holds x + input_offset
 * (int16; 0 for padding). The first kk4 taps are stored in groups of four as t0 t2 t1 t3, the
 * lane order of SXTB16 / SXTB16 ROR 8 applied to four int8 weights. */
static void im2col_q15(const kws_conv_shape_t *s, int32_t input_offset, const int8_t *input,
                       int32_t p, int32_t kk4, int16_t *col)
{
    const int32_t cin = s->in_c, oy = p / s->out_w, ox = p % s->out_w;
    const int32_t iy0 = oy * s->stride_h - s->pad_top, ix0 = ox * s->stride_w - s->pad_left;
    /* kernel columns [kx0, kx1) are inside the input on every row that is */
    const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
    const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
    const int32_t row = s->k_w * cin, lead = kx0 * cin, run = (kx1 - kx0) * cin;
    static const uint8_t perm4[4] = {0, 2, 1, 3}; /* SXTB16 lane order within four taps */
    int32_t t = 0;
    for (int32_t ky = 0; ky < s->k_h; ++ky) {
        const int32_t iy = iy0 + ky, end = t + row;
        if (iy < 0 || iy >= s->in_h) {
            for (; t < end; ++t) {
                col[t < kk4 ? (t & ~3) + perm4[t & 3] : t] = 0;
            }
            continue;
        }
        const int8_t *x = input + ((size_t)iy * s->in_w + ix0 + kx0) * cin;
        const int32_t lead_end = t + lead, run_end = lead_end + run;
        for (; t < lead_end; ++t) {
            col[t < kk4 ? (t & ~3) + perm4[t & 3] : t] = 0;
        }
        for (; t < run_end; ++t, ++x) {
            col[t < kk4 ? (t & ~3) + perm4[t & 3] : t] = (int16_t)(*x + input_offset);
        }
        for (; t < end; ++t) {
            col[t < kk4 ? (t & ~3) + perm4[t & 3] : t] = 0;
        }
    }
}
#endif

#if KWS_USE_DSP
/* The pointwise DSP path (input depth n <= KWS_PW_MAX_IN); full_range: the activation range is
 * -128..127, so the clamp is one SSAT (two call sites: the compiler specializes both). */
static void pointwise_dsp(const kws_conv_shape_t *s, const kws_act_t *act,
                          const kws_requant_t *rq, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, int8_t *output, int full_range)
{
    const int32_t n = s->in_c, oc_n = s->out_c, pixels = s->in_h * s->in_w;
    /* Output channels outer, two at a time: sum(w) is computed and the two filter rows are
     * widened to int16 once (on the stack, in the lane order of SXTB16: per four taps
     * w0[0,2], w0[1,3], w1[0,2], w1[1,3]); then every pair of pixels costs, per four taps,
     * 2 LDR + 4 SXTB16 for the inputs, 4 LDR for the weights and 8 SMLAD (16 MACs). */
    uint32_t wq[KWS_PW_MAX_IN]; /* n / 4 * 4 words: two rows of int16 pairs */
    const int32_t n4 = n & ~3;
    for (int32_t o = 0; o < oc_n; o += 2) {
        const int two = o + 1 < oc_n;
        const int8_t *w0 = filter + (size_t)o * n, *w1 = two ? w0 + n : w0;
        /* bias + input_offset * sum(w): int32 */
        const int32_t b0 = (bias ? bias[o] : 0) + act->input_offset * filter_sum(w0, n);
        const int32_t b1 = two ? (bias ? bias[o + 1] : 0) + act->input_offset * filter_sum(w1, n)
                               : 0;
        for (int32_t i = 0; i < n4; i += 4) {
            const uint32_t v0 = kws_read_u32(w0 + i), v1 = kws_read_u32(w1 + i);
            wq[i] = kws_sxtb16(v0);
            wq[i + 1] = kws_sxtb16_ror8(v0);
            wq[i + 2] = kws_sxtb16(v1);
            wq[i + 3] = kws_sxtb16_ror8(v1);
        }
        const kws_rq1_t r0 = kws_rq1(rq, o), r1 = kws_rq1(rq, two ? o + 1 : o);
        const int32_t out_off = act->output_offset, lo = act->act_min, hi = act->act_max;
        int32_t p = 0;
        for (; p + 2 <= pixels; p += 2) {
            const int8_t *x0 = input + (size_t)p * n, *x1 = x0 + n;
            int32_t a00 = b0, a01 = b1, a10 = b0, a11 = b1;
            const int8_t *xp0 = x0, *xp1 = x1;
            for (const uint32_t *wp = wq, *wend = wq + n4; wp < wend; wp += 4) {
                const uint32_t xa = kws_read_u32(xp0), xb = kws_read_u32(xp1);
                xp0 += 4;
                xp1 += 4;
                uint32_t ve = kws_sxtb16(xa), vo = kws_sxtb16(xb);        /* taps 0, 2 */
                a00 = kws_smlad(ve, wp[0], a00);
                a10 = kws_smlad(vo, wp[0], a10);
                a01 = kws_smlad(ve, wp[2], a01);
                a11 = kws_smlad(vo, wp[2], a11);
                ve = kws_sxtb16_ror8(xa);                                  /* taps 1, 3 */
                vo = kws_sxtb16_ror8(xb);
                a00 = kws_smlad(ve, wp[1], a00);
                a10 = kws_smlad(vo, wp[1], a10);
                a01 = kws_smlad(ve, wp[3], a01);
                a11 = kws_smlad(vo, wp[3], a11);
            }
            for (int32_t i = n4; i < n; ++i) {
                a00 += (int32_t)x0[i] * w0[i];
                a01 += (int32_t)x0[i] * w1[i];
                a10 += (int32_t)x1[i] * w0[i];
                a11 += (int32_t)x1[i] * w1[i];
            }
            int8_t *y0 = output + (size_t)p * oc_n + o, *y1 = y0 + oc_n;
            if (full_range) { /* a constant in each of the two calls */
                y0[0] = kws_out1_s8_full(a00, r0, out_off);
                y1[0] = kws_out1_s8_full(a10, r0, out_off);
                if (two) {
                    y0[1] = kws_out1_s8_full(a01, r1, out_off);
                    y1[1] = kws_out1_s8_full(a11, r1, out_off);
                }
            } else {
                y0[0] = kws_out1_s8(a00, r0, out_off, lo, hi);
                y1[0] = kws_out1_s8(a10, r0, out_off, lo, hi);
                if (two) {
                    y0[1] = kws_out1_s8(a01, r1, out_off, lo, hi);
                    y1[1] = kws_out1_s8(a11, r1, out_off, lo, hi);
                }
            }
        }
        if (p < pixels) {
            const int8_t *x0 = input + (size_t)p * n;
            output[(size_t)p * oc_n + o] = kws_output_s8(dot_s8(x0, w0, n, b0), rq, o, act);
            if (two) {
                output[(size_t)p * oc_n + o + 1] =
                    kws_output_s8(dot_s8(x0, w1, n, b1), rq, o + 1, act);
            }
        }
    }
}
#endif

kws_status_t kws_pointwise_conv_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                                   const kws_requant_t *rq,
                                   const int8_t *input, size_t input_len,
                                   const int8_t *filter, size_t filter_len,
                                   const int32_t *bias, size_t bias_len,
                                   int8_t *output, size_t output_len)
{
    kws_status_t st = conv_check(s, act, rq, input, input_len, filter, filter_len, bias,
                                 bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
    if (s->k_h != 1 || s->k_w != 1 || s->stride_h != 1 || s->stride_w != 1 ||
        s->pad_top != 0 || s->pad_left != 0 || s->in_h != s->out_h || s->in_w != s->out_w) {
        return KWS_ERR_BAD_CONFIG;
    }
    const int32_t n = s->in_c, oc_n = s->out_c, pixels = s->in_h * s->in_w;
#if KWS_USE_DSP
    if ((n & ~3) <= KWS_PW_MAX_IN) {
        if (act->act_min == -128 && act->act_max == 127) {
            pointwise_dsp(s, act, rq, input, filter, bias, output, 1);
        } else {
            pointwise_dsp(s, act, rq, input, filter, bias, output, 0);
        }
        return KWS_OK;
    }
#endif
    for (int32_t p = 0; p < pixels; ++p) {
        const int8_t *x = input + (size_t)p * n;
        for (int32_t o = 0; o < oc_n; ++o) {
            const int8_t *w = filter + (size_t)o * n;
            int32_t acc = bias ? bias[o] : 0;
            for (int32_t i = 0; i < n; ++i) {
                acc += ((int32_t)x[i] + act->input_offset) * w[i];
            }
            output[(size_t)p * oc_n + o] = kws_output_s8(acc, rq, o, act);
        }
    }
    return KWS_OK;
}

#if KWS_USE_DSP
/* One output value: SSAT when the activation range is all of int8 (full_range, a constant in
 * each of the two calls of conv2d_dsp, which the compiler specializes), else min / max. */
#define OUT1(acc, r)                                                                          \
    (full_range ? kws_out1_s8_full((acc), (r), out_off) : kws_out1_s8((acc), (r), out_off, lo, hi))

/* The conv2d DSP path; scratch holds two im2col columns (kws_conv2d_s8_get_buffer_size). */
static void conv2d_dsp(const kws_conv_shape_t *s, const kws_act_t *act, const kws_requant_t *rq,
                       const int8_t *input, const int8_t *filter, const int32_t *bias,
                       int8_t *output, void *scratch, int full_range)
{
    const int32_t cin = s->in_c;
    /* Two output pixels at a time: their im2col columns (x + input_offset as int16, padding 0,
     * SXTB16 lane order) in scratch, then two output channels at a time against the int8
     * filter: per four taps 4 LDR + 2 LDR + 4 SXTB16 + 8 SMLAD (16 MACs). */
    const int32_t kk = s->k_h * s->k_w * cin, kk4 = kk & ~3, stride = (kk + 1) & ~1;
    int16_t *col0 = (int16_t *)scratch, *col1 = col0 + stride;
    const int32_t pixels = s->out_h * s->out_w, oc_n = s->out_c;
    const int32_t out_off = act->output_offset, lo = act->act_min, hi = act->act_max;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int two_px = p + 1 < pixels;
        im2col_q15(s, act->input_offset, input, p, kk4, col0);
        im2col_q15(s, act->input_offset, input, two_px ? p + 1 : p, kk4, col1);
        int8_t *y0 = output + (size_t)p * oc_n, *y1 = y0 + oc_n;
        for (int32_t o = 0; o < oc_n; o += 2) {
            const int two = o + 1 < oc_n;
            const int8_t *w0 = filter + (size_t)o * kk, *w1 = two ? w0 + kk : w0;
            const int32_t b0 = bias ? bias[o] : 0, b1 = bias && two ? bias[o + 1] : 0;
            int32_t a00 = b0, a01 = b1, a10 = b0, a11 = b1;
            int32_t i = 0;
            for (; i < kk4; i += 4) {
                const uint32_t c0a = kws_read_u32(col0 + i), c0b = kws_read_u32(col0 + i + 2);
                const uint32_t c1a = kws_read_u32(col1 + i), c1b = kws_read_u32(col1 + i + 2);
                uint32_t wv = kws_read_u32(w0 + i);
                uint32_t we = kws_sxtb16(wv), wo = kws_sxtb16_ror8(wv);
                a00 = kws_smlad(c0a, we, a00);
                a00 = kws_smlad(c0b, wo, a00);
                a10 = kws_smlad(c1a, we, a10);
                a10 = kws_smlad(c1b, wo, a10);
                wv = kws_read_u32(w1 + i);
                we = kws_sxtb16(wv);
                wo = kws_sxtb16_ror8(wv);
                a01 = kws_smlad(c0a, we, a01);
                a01 = kws_smlad(c0b, wo, a01);
                a11 = kws_smlad(c1a, we, a11);
                a11 = kws_smlad(c1b, wo, a11);
            }
            for (; i < kk; ++i) {
                a00 += (int32_t)col0[i] * w0[i];
                a01 += (int32_t)col0[i] * w1[i];
                a10 += (int32_t)col1[i] * w0[i];
                a11 += (int32_t)col1[i] * w1[i];
            }
            const kws_rq1_t r0 = kws_rq1(rq, o);
            y0[o] = OUT1(a00, r0);
            if (two_px) {
                y1[o] = OUT1(a10, r0);
            }
            if (two) {
                const kws_rq1_t r1 = kws_rq1(rq, o + 1);
                y0[o + 1] = OUT1(a01, r1);
                if (two_px) {
                    y1[o + 1] = OUT1(a11, r1);
                }
            }
        }
    }
}
#undef OUT1
#endif

kws_status_t kws_conv2d_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                           const kws_requant_t *rq,
                           const int8_t *input, size_t input_len,
                           const int8_t *filter, size_t filter_len,
                           const int32_t *bias, size_t bias_len,
                           int8_t *output, size_t output_len,
                           void *scratch, size_t scratch_len)
{
    kws_status_t st = conv_check(s, act, rq, input, input_len, filter, filter_len, bias,
                                 bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
#if KWS_USE_DSP
    if (scratch == NULL) {
        return KWS_ERR_NULL;
    }
    if (scratch_len < kws_conv2d_s8_get_buffer_size(s)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    if (act->act_min == -128 && act->act_max == 127) {
        conv2d_dsp(s, act, rq, input, filter, bias, output, scratch, 1);
    } else {
        conv2d_dsp(s, act, rq, input, filter, bias, output, scratch, 0);
    }
#else
    const int32_t cin = s->in_c;
    (void)scratch;
    (void)scratch_len;
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            const int32_t run = (kx1 - kx0) * cin; /* contiguous taps of one kernel row */
            for (int32_t o = 0; o < s->out_c; ++o) {
                int32_t acc = bias ? bias[o] : 0; /* int32 */
                for (int32_t ky = ky0; ky < ky1; ++ky) {
                    const int8_t *x = input + ((size_t)(iy0 + ky) * s->in_w + ix0 + kx0) * cin;
                    const int8_t *w = filter + (((size_t)o * s->k_h + ky) * s->k_w + kx0) * cin;
                    for (int32_t i = 0; i < run; ++i) {
                        acc += ((int32_t)x[i] + act->input_offset) * w[i];
                    }
                }
                output[((size_t)oy * s->out_w + ox) * s->out_c + o] =
                    kws_output_s8(acc, rq, o, act);
            }
        }
    }
#endif
    return KWS_OK;
}
