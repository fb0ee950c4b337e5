/*
 * depthwise_prepared.c - int8 depthwise conv2d on weights prepared by `kws export`
 * (kws_dw_prepared_t): any kernel, stride and padding, depth_multiplier 1, no scratch.
 *
 * Arithmetic. With w' = 2 w and B = 2 * (bias + input_offset * sum over all taps of w) (both
 * exported), and x' = x for a tap inside the input, -input_offset for a tap in the padding:
 *   B + sum over all taps of x' * w' = 2 * (bias + sum over the taps inside of
 *                                            (x + input_offset) * w) = 2 acc,
 * TFLite's accumulator doubled (the padding taps cancel their share of the folded offset).
 * The exporter proves |acc| < 2^30, so 2 acc fits int32 (the partial sums may wrap; the
 * total is exact modulo 2^32).
 *
 * Portable path: per output value the sum above, then kws_requantize as TFLite does.
 *
 * DSP path: per output pixel and group of four channels, the accumulators start at B; per
 * tap one LDR of the four channels' inputs (a word of four -input_offset bytes for a padding
 * tap), SXTB16 and SXTB16 ROR 8 to the int16 lanes (c0, c2) and (c1, c3), and SMLABB /
 * SMLATT with the tap's two weight words: 4 MACs per LDR + LDRD + 2 SXTB16 + 4 MACs. Taps
 * are walked as rows of columns; a (k, 1) kernel is one row of k taps a whole input row apart,
 * so the time kernels of streaming steps run one loop. Each output is the fast requantization
 * of kws_rqf_t (kws_internal.h) in two fewer instructions:
 *   t = SMMLAR(2 acc, m, k) = SMMULR(2 acc, m) + k,   y = SSAT8((t + (2 acc >> 31)) >> r)
 * where [acc < 0] replaces [SMMULR(2 acc, m) < 0]: the two differ only when SMMULR gives 0,
 * and then floor((2^(r-1) + output_offset 2^r - 1) / 2^r) = floor((2^(r-1) + output_offset
 * 2^r) / 2^r) = output_offset for r >= 1. The channels past the last full group of four use
 * the portable arithmetic.
 */
#include "kws_internal.h"
#include "kws_simd.h"

/* Words of prepared parameters per group of four channels: four biases, (m, k, r) x 4. */
#define DWP_PARAMS 16

/* The prepared (doubled, int16) weight of tap t of channel o; taps = k_h * k_w. */
static int32_t dwp_weight(const kws_dw_prepared_t *prep, int32_t taps, int32_t t, int32_t o)
{
    const uint32_t word = prep->filter[((size_t)(o / 4) * (size_t)taps + (size_t)t) * 2 +
                                       (size_t)(o & 1)];
    return (int16_t)((o & 2) ? word >> 16 : word & 0xFFFFu);
}

/* Output channel o at the pixel whose window starts at (iy0, ix0): the portable arithmetic. */
static int8_t dwp_channel(const kws_conv_shape_t *s, const kws_act_t *act,
                          const kws_requant_t *rq, const kws_dw_prepared_t *prep,
                          const int8_t *input, int32_t iy0, int32_t ix0, int32_t o)
{
    const int32_t taps = s->k_h * s->k_w;
    /* 2 acc, wrapping: the partial sums may leave int32, the total does not */
    uint32_t acc2 = (uint32_t)prep->params[(size_t)(o / 4) * DWP_PARAMS + (size_t)(o & 3)];
    for (int32_t ky = 0; ky < s->k_h; ++ky) {
        const int32_t iy = iy0 + ky;
        for (int32_t kx = 0; kx < s->k_w; ++kx) {
            const int32_t ix = ix0 + kx;
            const int32_t x = (iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w)
                ? input[((size_t)iy * s->in_w + ix) * s->in_c + o] : -act->input_offset;
            acc2 += (uint32_t)(x * dwp_weight(prep, taps, ky * s->k_w + kx, o));
        }
    }
    return kws_output_s8((int32_t)acc2 / 2, rq, o, act);
}

#if KWS_USE_DSP
/* One output of the DSP path from 2 acc and the channel's (m, k, r) (see the file comment). */
static KWS_ALWAYS_INLINE int8_t dwp_out(int32_t acc2, const int32_t *q)
{
    const int32_t t = kws_smmlar(acc2, q[0], q[1]); /* SMMULR(2 acc, m) + k */
    return (int8_t)kws_ssat8((t + (acc2 >> 31)) >> q[2]);
}

/* One tap of four channels: the input word xv, the weight words w[0] (c0, c2), w[1] (c1, c3). */
#define DWP_TAP(xv, w)                                                                      \
    do {                                                                                    \
        const uint32_t xe_ = kws_sxtb16(xv), xo_ = kws_sxtb16_ror8(xv);                     \
        a0 = kws_smlabb(xe_, (w)[0], a0);                                                   \
        a2 = kws_smlatt(xe_, (w)[0], a2);                                                   \
        a1 = kws_smlabb(xo_, (w)[1], a1);                                                   \
        a3 = kws_smlatt(xo_, (w)[1], a3);                                                   \
    } while (0)

/* Tap walk of an interior pixel: rows of cols taps, cstride bytes apart, a row rstride bytes
 * after the previous one. */
typedef struct {
    int32_t rows, cols, cstride, rstride;
} dwp_walk_t;

/* Groups [0, groups) of an interior pixel (every tap inside); x: the input at the window's
 * first tap, channel 0; y: the pixel's output. */
static void dwp_interior(const int8_t *x, int32_t groups, dwp_walk_t wk, const uint32_t *w,
                         const int32_t *pp, int8_t *y)
{
    for (int32_t g = 0; g < groups; ++g, x += 4, y += 4, pp += DWP_PARAMS) {
        int32_t a0 = pp[0], a1 = pp[1], a2 = pp[2], a3 = pp[3]; /* 2 acc */
        const int8_t *xr = x;
        for (int32_t r = 0; r < wk.rows; ++r, xr += wk.rstride) {
            const int8_t *xc = xr;
            for (int32_t c = 0; c < wk.cols; ++c, xc += wk.cstride, w += 2) {
                const uint32_t xv = kws_read_u32(xc);
                DWP_TAP(xv, w);
            }
        }
        y[0] = dwp_out(a0, pp + 4);
        y[1] = dwp_out(a1, pp + 7);
        y[2] = dwp_out(a2, pp + 10);
        y[3] = dwp_out(a3, pp + 13);
    }
}

/* Groups [0, groups) of a pixel with taps in the padding (window at (iy0, ix0), taps inside:
 * rows [ky0, ky1), columns [kx0, kx1)); pad: four bytes of -input_offset. */
static void dwp_border(const kws_conv_shape_t *s, const int8_t *input, int32_t iy0,
                       int32_t ix0, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                       int32_t groups, const uint32_t *w, const int32_t *pp, uint32_t pad,
                       int8_t *y)
{
    const int32_t cin = s->in_c;
    for (int32_t g = 0; g < groups; ++g, y += 4, pp += DWP_PARAMS) {
        int32_t a0 = pp[0], a1 = pp[1], a2 = pp[2], a3 = pp[3]; /* 2 acc */
        for (int32_t ky = 0; ky < s->k_h; ++ky) {
            const int row_in = ky >= ky0 && ky < ky1;
            const int8_t *xr = row_in ? input + ((size_t)(iy0 + ky) * s->in_w) * cin + 4 * g
                                      : input;
            for (int32_t kx = 0; kx < s->k_w; ++kx, w += 2) {
                const uint32_t xv = (row_in && kx >= kx0 && kx < kx1)
                    ? kws_read_u32(xr + (size_t)(ix0 + kx) * cin) : pad;
                DWP_TAP(xv, w);
            }
        }
        y[0] = dwp_out(a0, pp + 4);
        y[1] = dwp_out(a1, pp + 7);
        y[2] = dwp_out(a2, pp + 10);
        y[3] = dwp_out(a3, pp + 13);
    }
}
#endif

kws_status_t kws_depthwise_conv2d_s8_prepared(const kws_conv_shape_t *s, const kws_act_t *act,
                                              const kws_requant_t *rq,
                                              const kws_dw_prepared_t *prep,
                                              const int8_t *input, size_t input_len,
                                              int8_t *output, size_t output_len)
{
    if (s == NULL || act == NULL || rq == NULL || prep == NULL || prep->filter == NULL ||
        prep->params == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (!kws_shape_ok(s) || !kws_act_ok(act) || !kws_requant_ok(rq, s->out_c) ||
        s->depth_multiplier != 1 || s->out_c != s->in_c || act->act_min != -128 ||
        act->act_max != 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    const int32_t taps = s->k_h * s->k_w, cout = s->out_c;
    const size_t groups4 = (size_t)(cout + 3) / 4;
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        output_len < (size_t)s->out_h * s->out_w * cout ||
        prep->filter_len < 2 * (size_t)taps * groups4 ||
        prep->params_len < DWP_PARAMS * groups4) {
        return KWS_ERR_SHORT_BUFFER;
    }
#if KWS_USE_DSP
    const int32_t groups = cout / 4; /* full groups: the DSP path */
    const uint32_t pad = (uint32_t)(uint8_t)(int8_t)(-act->input_offset) * 0x01010101u;
    dwp_walk_t wk = {s->k_h, s->k_w, s->in_c, s->in_w * s->in_c};
    if (s->k_w == 1) { /* a (k, 1) kernel: one row of k taps, an input row apart */
        wk.rows = 1;
        wk.cols = s->k_h;
        wk.cstride = s->in_w * s->in_c;
    }
#else
    const int32_t groups = 0;
#endif
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout;
#if KWS_USE_DSP
            if (groups > 0) {
                if (ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w) {
                    dwp_interior(input + ((size_t)iy0 * s->in_w + ix0) * s->in_c, groups, wk,
                                 prep->filter, prep->params, y);
                } else {
                    dwp_border(s, input, iy0, ix0, ky0, ky1, kx0, kx1, groups, prep->filter,
                               prep->params, pad, y);
                }
            }
#else
            (void)ky0, (void)ky1, (void)kx0, (void)kx1;
#endif
            for (int32_t o = 4 * groups; o < cout; ++o) {
                y[o] = dwp_channel(s, act, rq, prep, input, iy0, ix0, o);
            }
        }
    }
    return KWS_OK;
}
