/*
 * depthwise.c - int8 depthwise conv2d, TFLite int8 semantics (kws_kernels.h).
 *
 * Output channel o reads input channel o / depth_multiplier. Portable path: the reference
 * loop. DSP path (depth_multiplier 1, groups of four channels, up to KWS_DW_MAX_TAPS taps):
 * per group, the weights are packed once in tap pairs (w[t0] | w[t1] << 16, on the stack) and
 * bias + input_offset * sum(w) is precomputed; at an interior pixel (every tap inside the
 * input) the inputs of two taps are widened with SXTB16, paired per channel with PKHBT /
 * PKHTB and accumulated with one SMLAD (two MACs). Border pixels add the input offset to each
 * tap (SADD16) and accumulate only the taps inside, with SMLABB / SMLATT. Channels left over
 * (out_c % 4) use the portable loop.
 */
#include "kws_internal.h"
#include "kws_simd.h"

/* The DSP path's stack tables: (KWS_DW_MAX_TAPS + 1) / 2 * 16 + 4 * KWS_DW_MAX_TAPS bytes. */
#define KWS_DW_MAX_TAPS 25

#if KWS_USE_DSP
/* One tap pair q of the interior loop: two words of four channels, paired per channel. */
#define DW_PAIR(q)                                                                    \
    do {                                                                              \
        const uint32_t xa = kws_read_u32(base + tapoff[2 * (q)]);                     \
        const uint32_t xb = kws_read_u32(base + tapoff[2 * (q) + 1]);                 \
        const uint32_t ae = kws_sxtb16(xa), ao = kws_sxtb16_ror8(xa);                 \
        const uint32_t be = kws_sxtb16(xb), bo = kws_sxtb16_ror8(xb);                 \
        a0 = kws_smlad(kws_pkhbt(ae, be), wpack[q][0], a0);                           \
        a1 = kws_smlad(kws_pkhbt(ao, bo), wpack[q][1], a1);                           \
        a2 = kws_smlad(kws_pkhtb(be, ae), wpack[q][2], a2);                           \
        a3 = kws_smlad(kws_pkhtb(bo, ao), wpack[q][3], a3);                           \
    } while (0)

/* DW_PAIR with the two taps' addresses given (3 x 3: row pointers, no offset table). */
#define DW_PAIR3(q, pa, pb)                                                           \
    do {                                                                              \
        const uint32_t xa = kws_read_u32(pa), xb = kws_read_u32(pb);                  \
        const uint32_t ae = kws_sxtb16(xa), ao = kws_sxtb16_ror8(xa);                 \
        const uint32_t be = kws_sxtb16(xb), bo = kws_sxtb16_ror8(xb);                 \
        a0 = kws_smlad(kws_pkhbt(ae, be), wpack[q][0], a0);                           \
        a1 = kws_smlad(kws_pkhbt(ao, bo), wpack[q][1], a1);                           \
        a2 = kws_smlad(kws_pkhtb(be, ae), wpack[q][2], a2);                           \
        a3 = kws_smlad(kws_pkhtb(bo, ao), wpack[q][3], a3);                           \
    } while (0)

/* Channels [0, 4 * groups) of a depthwise conv with depth_multiplier 1. */
static void depthwise_dsp_groups(const kws_conv_shape_t *s, const kws_act_t *act,
                                 const kws_requant_t *rq, const int8_t *input,
                                 const int8_t *filter, const int32_t *bias, int8_t *output,
                                 int32_t groups, int full_range)
{
    const int32_t cin = s->in_c, cout = s->out_c;
    const int32_t taps = s->k_h * s->k_w, pairs = (taps + 1) / 2;
    const uint32_t off2 = ((uint32_t)(uint16_t)act->input_offset) * 0x00010001u;
    const int32_t out_off = act->output_offset, lo = act->act_min, hi = act->act_max;
    int32_t tapoff[KWS_DW_MAX_TAPS + 1] = {0};
    uint32_t wpack[(KWS_DW_MAX_TAPS + 1) / 2][4];
    for (int32_t t = 0; t < taps; ++t) {
        tapoff[t] = ((t / s->k_w) * s->in_w + t % s->k_w) * cin;
    }
    tapoff[taps] = tapoff[taps - 1]; /* odd count: the pad tap re-reads the last one */
    for (int32_t g = 0; g < groups; ++g) {
        const int32_t o = 4 * g;
        int32_t init[4], b4[4];
        kws_rq1_t r[4];
        for (int32_t j = 0; j < 4; ++j) {
            int32_t wsum = 0;
            for (int32_t t = 0; t < taps; ++t) {
                wsum += filter[(size_t)t * cout + o + j];
            }
            b4[j] = bias ? bias[o + j] : 0;
            init[j] = b4[j] + act->input_offset * wsum; /* int32 */
            r[j] = kws_rq1(rq, o + j);
            for (int32_t q = 0; q < pairs; ++q) {
                const int32_t w0 = filter[(size_t)(2 * q) * cout + o + j];
                const int32_t w1 = 2 * q + 1 < taps ? filter[(size_t)(2 * q + 1) * cout + o + j]
                                                    : 0;
                wpack[q][j] = kws_pkhbt((uint32_t)w0, (uint32_t)w1); /* (w0, w1) int16 lanes */
            }
        }
        for (int32_t oy = 0; oy < s->out_h; ++oy) {
            const int32_t iy0 = oy * s->stride_h - s->pad_top;
            const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
            const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
            for (int32_t ox = 0; ox < s->out_w; ++ox) {
                const int32_t ix0 = ox * s->stride_w - s->pad_left;
                const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
                int32_t a0, a1, a2, a3;
                if (ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w) {
                    a0 = init[0];
                    a1 = init[1];
                    a2 = init[2];
                    a3 = init[3];
                    const int8_t *base = input + ((size_t)iy0 * s->in_w + ix0) * cin + o;
                    if (s->k_h == 3 && s->k_w == 3) {
                        /* 3 x 3: the five tap pairs unrolled, taps addressed from three row
                         * pointers (no offset table on the stack) */
                        const int32_t c1 = cin, c2 = 2 * cin, rs = s->in_w * cin;
                        const int8_t *b1 = base + rs, *b2 = b1 + rs;
                        DW_PAIR3(0, base, base + c1);
                        DW_PAIR3(1, base + c2, b1);
                        DW_PAIR3(2, b1 + c1, b1 + c2);
                        DW_PAIR3(3, b2, b2 + c1);
                        DW_PAIR3(4, b2 + c2, b2 + c2);
                    } else {
                    for (int32_t q = 0; q < pairs; ++q) {
                        const uint32_t xa = kws_read_u32(base + tapoff[2 * q]);
                        const uint32_t xb = kws_read_u32(base + tapoff[2 * q + 1]);
                        const uint32_t ae = kws_sxtb16(xa), ao = kws_sxtb16_ror8(xa);
                        const uint32_t be = kws_sxtb16(xb), bo = kws_sxtb16_ror8(xb);
                        a0 = kws_smlad(kws_pkhbt(ae, be), wpack[q][0], a0); /* (a.c0, b.c0) */
                        a1 = kws_smlad(kws_pkhbt(ao, bo), wpack[q][1], a1);
                        a2 = kws_smlad(kws_pkhtb(be, ae), wpack[q][2], a2); /* (a.c2, b.c2) */
                        a3 = kws_smlad(kws_pkhtb(bo, ao), wpack[q][3], a3);
                    }
                    }
                } else {
                    a0 = b4[0];
                    a1 = b4[1];
                    a2 = b4[2];
                    a3 = b4[3];
                    for (int32_t ky = ky0; ky < ky1; ++ky) {
                        const int8_t *xr = input + ((size_t)(iy0 + ky) * s->in_w + ix0) * cin + o;
                        const int8_t *wr = filter + (size_t)ky * s->k_w * cout + o;
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
                }
                int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout + o;
                if (full_range) { /* a constant in each of the two calls below */
                    y[0] = kws_out1_s8_full(a0, r[0], out_off);
                    y[1] = kws_out1_s8_full(a1, r[1], out_off);
                    y[2] = kws_out1_s8_full(a2, r[2], out_off);
                    y[3] = kws_out1_s8_full(a3, r[3], out_off);
                } else {
                    y[0] = kws_out1_s8(a0, r[0], out_off, lo, hi);
                    y[1] = kws_out1_s8(a1, r[1], out_off, lo, hi);
                    y[2] = kws_out1_s8(a2, r[2], out_off, lo, hi);
                    y[3] = kws_out1_s8(a3, r[3], out_off, lo, hi);
                }
            }
        }
    }
}
#endif

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
    int32_t first = 0; /* channels [0, first) done by the DSP path */
#if KWS_USE_DSP
    if (m == 1 && s->k_h * s->k_w <= KWS_DW_MAX_TAPS && cout >= 4) {
        /* two call sites, so the compiler specializes the output clamp (SSAT or min/max) */
        if (act->act_min == -128 && act->act_max == 127) {
            depthwise_dsp_groups(s, act, rq, input, filter, bias, output, cout / 4, 1);
        } else {
            depthwise_dsp_groups(s, act, rq, input, filter, bias, output, cout / 4, 0);
        }
        first = cout / 4 * 4;
    }
#endif
    if (first == cout) {
        return KWS_OK;
    }
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout;
            for (int32_t o = first; o < cout; ++o) {
                const int32_t ic = o / m;
                int32_t acc = bias ? bias[o] : 0; /* int32 */
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
