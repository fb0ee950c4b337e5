/*
 * depthwise.c - int8 depthwise conv2d, TFLite int8 semantics (kws_kernels.h).
 *
 * Output channel o reads input channel o / depth_multiplier. Portable path: the reference
 * loop. DSP path (depth_multiplier 1): four channels per step; per tap one word of inputs and
 * one of weights are widened with SXTB16, the input offset is added to both lanes with SADD16
 * (x + input_offset fits int16), and SMLABB / SMLATT accumulate each channel separately.
 */
#include "kws_internal.h"
#include "kws_simd.h"

kws_status_t kws_depthwise_conv2d_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                                     const kws_requant_t *rq,
                                     const int8_t *input, size_t input_len,
                                     const int8_t *filter, size_t filter_len,
                                     const int32_t *bias, size_t bias_len,
                                     int8_t *output, size_t output_len)
{
    if (s == NULL || act == NULL || rq == NULL || input == NULL || filter == NULL ||
        output == NULL) {
        return KWS_ERR_NULL;
    }
    if (!kws_shape_ok(s) || !kws_act_ok(act) || !kws_requant_ok(rq, s->out_c) ||
        s->depth_multiplier < 1 || s->out_c != s->in_c * s->depth_multiplier) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        filter_len < (size_t)s->k_h * s->k_w * s->out_c ||
        output_len < (size_t)s->out_h * s->out_w * s->out_c ||
        (bias != NULL && bias_len < (size_t)s->out_c)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const int32_t cin = s->in_c, cout = s->out_c, m = s->depth_multiplier;
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout;
            int32_t o = 0;
#if KWS_USE_DSP
            if (m == 1) {
                /* (input_offset, input_offset) as two int16 lanes */
                const uint32_t off2 = ((uint32_t)(uint16_t)act->input_offset) * 0x00010001u;
                const int32_t out_off = act->output_offset;
                const int32_t lo = act->act_min, hi = act->act_max;
                const int full3 = s->k_w == 3 && kx0 == 0 && kx1 == 3;
                for (; o + 4 <= cout; o += 4) {
                    int32_t a0 = bias ? bias[o] : 0, a1 = bias ? bias[o + 1] : 0;
                    int32_t a2 = bias ? bias[o + 2] : 0, a3 = bias ? bias[o + 3] : 0;
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *xr = input + ((size_t)(iy0 + ky) * s->in_w + ix0) * cin + o;
                        const int8_t *wr = filter + (size_t)ky * s->k_w * cout + o;
                        if (full3) {
                            /* three taps of a row, unrolled: 2 LDR, 4 SXTB16, 2 SADD16,
                             * 4 SMLAxy per tap for four channels */
                            for (int32_t kx = 0; kx < 3; ++kx) {
                                const uint32_t xv = kws_read_u32(xr + (size_t)kx * cin);
                                const uint32_t wv = kws_read_u32(wr + (size_t)kx * cout);
                                const uint32_t xe = kws_sadd16(kws_sxtb16(xv), off2);
                                const uint32_t xo = kws_sadd16(kws_sxtb16_ror8(xv), off2);
                                const uint32_t we = kws_sxtb16(wv), wo = kws_sxtb16_ror8(wv);
                                a0 = kws_smlabb(xe, we, a0);
                                a2 = kws_smlatt(xe, we, a2);
                                a1 = kws_smlabb(xo, wo, a1);
                                a3 = kws_smlatt(xo, wo, a3);
                            }
                            continue;
                        }
                        for (int32_t kx = kx0; kx < kx1; ++kx) {
                            const uint32_t xv = kws_read_u32(xr + (size_t)kx * cin);
                            const uint32_t wv = kws_read_u32(wr + (size_t)kx * cout);
                            const uint32_t xe = kws_sadd16(kws_sxtb16(xv), off2);      /* c0 c2 */
                            const uint32_t xo = kws_sadd16(kws_sxtb16_ror8(xv), off2); /* c1 c3 */
                            const uint32_t we = kws_sxtb16(wv), wo = kws_sxtb16_ror8(wv);
                            a0 = kws_smlabb(xe, we, a0);
                            a2 = kws_smlatt(xe, we, a2);
                            a1 = kws_smlabb(xo, wo, a1);
                            a3 = kws_smlatt(xo, wo, a3);
                        }
                    }
                    y[o] = kws_out1_s8(a0, kws_rq1(rq, o), out_off, lo, hi);
                    y[o + 1] = kws_out1_s8(a1, kws_rq1(rq, o + 1), out_off, lo, hi);
                    y[o + 2] = kws_out1_s8(a2, kws_rq1(rq, o + 2), out_off, lo, hi);
                    y[o + 3] = kws_out1_s8(a3, kws_rq1(rq, o + 3), out_off, lo, hi);
                }
            }
#endif
            for (; o < cout; ++o) {
                const int32_t ic = o / m;
                int32_t acc = bias ? bias[o] : 0;
                for (int32_t ky = ky0; ky < ky1; ++ky) {
                    for (int32_t kx = kx0; kx < kx1; ++kx) {
                        const int32_t x =
                            input[((size_t)(iy0 + ky) * s->in_w + ix0 + kx) * cin + ic];
                        const int32_t w = filter[((size_t)ky * s->k_w + kx) * cout + o];
                        acc += (x + act->input_offset) * w;
                    }
                }
                y[o] = kws_output_s8(acc, rq, o, act);
            }
        }
    }
    return KWS_OK;
}
