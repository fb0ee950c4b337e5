/*
 * depthwise.c - int8 depthwise conv2d, TFLite int8 semantics (kws_kernels.h).
 *
 * Output channel o reads input channel o / depth_multiplier. Portable path: the reference
 * loop. DSP group path (the shapes the plane path below does not take: depth_multiplier 1,
 * groups of four channels, up to KWS_DW_MAX_TAPS taps):
 * per group, the weights are packed once in tap pairs (w[t0] | w[t1] << 16, on the stack) and
 * bias + input_offset * sum(w) is precomputed; at an interior pixel (every tap inside the
 * input) the inputs of two taps are widened with SXTB16, paired per channel with PKHBT /
 * PKHTB and accumulated with one SMLAD (two MACs). Border pixels add the input offset to each
 * tap (SADD16) and accumulate only the taps inside, with SMLABB / SMLATT. Channels left over
 * (out_c % 4) use the portable loop.
 *
 * DSP direct path (depth_multiplier 1, at most KWS_DW_DIRECT_MAX_PIXELS output pixels: the
 * shapes of a streaming step, e.g. a (k, 1) temporal kernel over the last k time slices, where
 * the per-call setup of the other paths costs more than the MACs): four channels per word,
 * per tap one word of inputs and one of weights, widened with SXTB16 / SXTB16 ROR 8, the input
 * offset added to the inputs (SADD16: |x + input_offset| <= 255 fits a lane), then SMLABB /
 * SMLATT per channel: 2 LDR + 4 SXTB16 + 2 SADD16 + 4 MACs per 4 MACs; no setup, no scratch.
 *
 * DSP plane path (depth_multiplier 1, 3 x 3 kernel, stride 1; any channel count): one channel
 * at a time, the input channel is copied to an int16 plane in the caller's scratch with the
 * padding around it (rows of 6 * ceil(out_w / 6) + 2 int16, so two neighbours are one word).
 * The padding holds -input_offset, so that (x + input_offset) is 0 there: the whole 3 x 3
 * window is always summed, and acc = bias + input_offset * sum(w) + sum(x * w) is exact.
 * Six outputs ox0..ox0+5 of a row at a time: per kernel row, the words W0..W3 =
 * (p0,p1) (p2,p3) (p4,p5) (p6,p7) of the plane row and the weight pairs wa = (w0, w1),
 * wb = (w1, w2) give, with one SMLAD and one SMLABT / SMLATB per output,
 *   y0 = W0.wa + p2 w2   y1 = W1.wb + p1 w0   y2 = W1.wa + p4 w2
 *   y3 = W2.wb + p3 w0   y4 = W2.wa + p6 w2   y5 = W3.wb + p5 w0
 * i.e. 4 LDR + 1 LDRD + 12 MAC instructions for 18 MACs (in assembly on the M4: C spills).
 * Weights and bias are doubled so that the fast requantization (kws_rqf_t) applies; the
 * exact path is kept per channel where it does not.
 */
#include "kws_internal.h"
#include "kws_simd.h"

/* The DSP path's stack tables: (KWS_DW_MAX_TAPS + 1) / 2 * 16 + 4 * KWS_DW_MAX_TAPS bytes. */
#define KWS_DW_MAX_TAPS 25

/* Output pixels up to which the DSP direct path (no per-call setup) runs. */
#define KWS_DW_DIRECT_MAX_PIXELS 8

/* Whether the shape takes the DSP direct path. */
static int dw_direct(const kws_conv_shape_t *s)
{
    return KWS_USE_DSP && s->depth_multiplier == 1 && s->out_c >= 4 &&
           s->out_h * s->out_w <= KWS_DW_DIRECT_MAX_PIXELS;
}

/* Plane path geometry: int16 per plane row (6 * ceil(out_w / 6) + 2: the last chunk of six
 * outputs reads eight columns), 0 when the shape does not take the plane path. */
static int32_t dw_plane_row(const kws_conv_shape_t *s)
{
    if (!KWS_USE_DSP || s->depth_multiplier != 1 || s->k_h != 3 || s->k_w != 3 ||
        s->stride_h != 1 || s->stride_w != 1 || dw_direct(s)) {
        return 0;
    }
    const int32_t row = 6 * ((s->out_w + 5) / 6) + 2;
    /* every input pixel has its place in the plane (shapes from the exporter always do) */
    if (s->in_w + s->pad_left > row || s->in_h + s->pad_top > s->out_h + 2) {
        return 0;
    }
    return row;
}

size_t kws_depthwise_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !kws_shape_ok(shape)) {
        return 0;
    }
    const int32_t row = dw_plane_row(shape);
    return (size_t)row * (size_t)(shape->out_h + 2) * sizeof(int16_t);
}

#if KWS_USE_DSP
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
/* One kernel row of dw_chunk6 in assembly: LDRD (wa, wb), 4 LDR, 12 MACs, next plane row. */
#define DW_ASM_KROW                                                                     \
    "ldrd %[wa], %[wb], [%[wk]], #8\n\t"                                                  \
    "ldr %[d0], [%[p]]\n\t"                                                               \
    "ldr %[d1], [%[p], #4]\n\t"                                                           \
    "smlad %[a0], %[d0], %[wa], %[a0]\n\t"                                                \
    "smlabt %[a0], %[d1], %[wb], %[a0]\n\t"                                               \
    "smlad %[a1], %[d1], %[wb], %[a1]\n\t"                                                \
    "smlatb %[a1], %[d0], %[wa], %[a1]\n\t"                                               \
    "ldr %[d0], [%[p], #8]\n\t"                                                           \
    "smlad %[a2], %[d1], %[wa], %[a2]\n\t"                                                \
    "smlabt %[a2], %[d0], %[wb], %[a2]\n\t"                                               \
    "smlad %[a3], %[d0], %[wb], %[a3]\n\t"                                                \
    "smlatb %[a3], %[d1], %[wa], %[a3]\n\t"                                               \
    "ldr %[d1], [%[p], #12]\n\t"                                                          \
    "smlad %[a4], %[d0], %[wa], %[a4]\n\t"                                                \
    "smlabt %[a4], %[d1], %[wb], %[a4]\n\t"                                               \
    "smlad %[a5], %[d1], %[wb], %[a5]\n\t"                                                \
    "smlatb %[a5], %[d0], %[wa], %[a5]\n\t"                                               \
    "add %[p], %[p], %[rb]\n\t"
#endif

/* Accumulators of six outputs of one plane row (see the file comment): p the plane at
 * (oy, ox0), 4-byte aligned; row_bytes the plane row stride; wk the channel's six weight words
 * (wa, wb) per kernel row; every accumulator starts at init. */
static KWS_ALWAYS_INLINE void dw_chunk6(const int16_t *p, int32_t row_bytes, const uint32_t *wk,
                                        int32_t init, int32_t acc[6])
{
    int32_t a0 = init, a1 = init, a2 = init, a3 = init, a4 = init, a5 = init;
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
    uint32_t d0, d1, wa, wb;
    __asm__(DW_ASM_KROW DW_ASM_KROW DW_ASM_KROW
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
              [a5] "+r"(a5), [p] "+r"(p), [wk] "+r"(wk), [d0] "=&r"(d0), [d1] "=&r"(d1),
              [wa] "=&r"(wa), [wb] "=&r"(wb)
            : [rb] "r"(row_bytes)
            : "memory");
#else
    for (int ky = 0; ky < 3; ++ky) {
        /* the plane row's words (int16 pairs; memcpy: no aliasing of the int16 stores) */
        const uint32_t w0 = kws_read_u32(p), w1 = kws_read_u32(p + 2);
        const uint32_t w2 = kws_read_u32(p + 4), w3 = kws_read_u32(p + 6);
        const uint32_t wa = wk[2 * ky], wb = wk[2 * ky + 1];
        a0 = kws_smlabt(w1, wb, kws_smlad(w0, wa, a0));
        a1 = kws_smlatb(w0, wa, kws_smlad(w1, wb, a1));
        a2 = kws_smlabt(w2, wb, kws_smlad(w1, wa, a2));
        a3 = kws_smlatb(w1, wa, kws_smlad(w2, wb, a3));
        a4 = kws_smlabt(w3, wb, kws_smlad(w2, wa, a4));
        a5 = kws_smlatb(w2, wa, kws_smlad(w3, wb, a5));
        p += row_bytes / (int32_t)sizeof(int16_t);
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
}

/* Output modes of the plane path: fast requantization (kws_rqf_t, weights and bias doubled)
 * with an SSAT clamp or a min / max clamp, or the exact general path (kws_rq1_t). */
enum { DW_FAST_SSAT, DW_FAST_CLAMP, DW_EXACT };

/* One channel over its plane; mode is a constant at every call, so each call is specialized. */
static KWS_ALWAYS_INLINE void dw_plane_channel(const int16_t *plane, int32_t row,
                                               int32_t out_h, int32_t out_w, int32_t cout,
                                               const uint32_t *wk, int32_t init, int mode,
                                               kws_rqf_t f, kws_rq1_t r, const kws_act_t *act,
                                               int8_t *y)
{
    const int32_t lo = act->act_min, hi = act->act_max, out_off = act->output_offset;
    const int32_t row_bytes = row * (int32_t)sizeof(int16_t);
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
    if (mode == DW_FAST_SSAT && out_w <= 6) {
        /* all rows of the channel in one assembly loop (one chunk per row): per row the 3
         * kernel rows, then per output SMMULR, ADD k, SUB t LSR 31, ASR r, SSAT, STRB
         * (stride cout), out_w of the six stored. ctx: multiplier, k, right, output pointer,
         * cout, out_w, init, plane row pointer, weights, plane row bytes, rows left. */
        int32_t ctx[11] = {f.multiplier, f.k, f.right, (int32_t)(intptr_t)y, cout, out_w, init,
                           (int32_t)(intptr_t)plane, (int32_t)(intptr_t)wk, row_bytes, out_h};
        const int32_t *c = ctx;
        int32_t a0, a1, a2, a3, a4, a5, rb;
        const int16_t *p;
        const uint32_t *wkp;
        uint32_t d0, d1, wa, wb;
#define DW_ASM_OUT(ai)                                                                  \
    "smmulr %[d0], %[" ai "], %[wa]\n\t"                                                  \
    "add %[" ai "], %[d0], %[wb]\n\t"                                                     \
    "sub %[" ai "], %[" ai "], %[d0], lsr #31\n\t"                                          \
    "asr %[" ai "], %[" ai "], %[rb]\n\t"                                                 \
    "ssat %[" ai "], #8, %[" ai "]\n\t"                                                   \
    "strb %[" ai "], [%[p]]\n\t"                                                         \
    "add %[p], %[p], %[wk]\n\t"                                                          \
    "subs %[d1], %[d1], #1\n\t"                                                          \
    "beq 5f\n\t"
        __asm__ volatile("6:\n\t"
                         "ldr %[a0], [%[c], #24]\n\t"
                         "mov %[a1], %[a0]\n\t"
                         "mov %[a2], %[a0]\n\t"
                         "mov %[a3], %[a0]\n\t"
                         "mov %[a4], %[a0]\n\t"
                         "mov %[a5], %[a0]\n\t"
                         "ldrd %[p], %[wk], [%[c], #28]\n\t"
                         "ldr %[rb], [%[c], #36]\n\t"
                         DW_ASM_KROW DW_ASM_KROW DW_ASM_KROW
                         "ldrd %[wa], %[wb], [%[c]]\n\t"
                         "ldr %[rb], [%[c], #8]\n\t"
                         "ldrd %[p], %[wk], [%[c], #12]\n\t"
                         "ldr %[d1], [%[c], #20]\n\t"
                         DW_ASM_OUT("a0") DW_ASM_OUT("a1") DW_ASM_OUT("a2")
                         DW_ASM_OUT("a3") DW_ASM_OUT("a4") DW_ASM_OUT("a5")
                         "5:\n\t"
                         "str %[p], [%[c], #12]\n\t"
                         "ldr %[p], [%[c], #28]\n\t"
                         "ldr %[rb], [%[c], #36]\n\t"
                         "add %[p], %[p], %[rb]\n\t"
                         "str %[p], [%[c], #28]\n\t"
                         "ldr %[d1], [%[c], #40]\n\t"
                         "subs %[d1], %[d1], #1\n\t"
                         "str %[d1], [%[c], #40]\n\t"
                         "bne 6b\n\t"
                         : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3),
                           [a4] "=&r"(a4), [a5] "=&r"(a5), [p] "=&r"(p), [wk] "=&r"(wkp),
                           [rb] "=&r"(rb), [d0] "=&r"(d0), [d1] "=&r"(d1), [wa] "=&r"(wa),
                           [wb] "=&r"(wb)
                         : [c] "r"(c)
                         : "cc", "memory");
#undef DW_ASM_OUT
        return;
    }
#endif
    for (int32_t oy = 0; oy < out_h; ++oy) {
        for (int32_t ox = 0; ox < out_w; ox += 6) {
            int32_t acc[6];
            dw_chunk6(plane + (size_t)oy * row + ox, row_bytes, wk, init, acc);
            const int32_t n = out_w - ox < 6 ? out_w - ox : 6;
            for (int32_t j = 0; j < n; ++j) {
                int32_t v;
                if (mode == DW_EXACT) {
                    v = kws_out1_s8(acc[j], r, out_off, lo, hi);
                } else if (mode == DW_FAST_SSAT) {
                    v = kws_ssat8(kws_rqf_apply(acc[j], f));
                } else {
                    v = kws_clamp(kws_rqf_apply(acc[j], f), lo, hi);
                }
                y[(size_t)j * cout] = (int8_t)v;
            }
            y += (size_t)n * cout;
        }
    }
}

/* The plane path (see the file comment); plane: dw_plane_row(s) * (out_h + 2) int16. */
static void depthwise_dsp_plane(const kws_conv_shape_t *s, const kws_act_t *act,
                                const kws_requant_t *rq, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output,
                                int16_t *plane)
{
    const int32_t cin = s->in_c, cout = s->out_c, row = dw_plane_row(s);
    const int32_t rows = s->out_h + 2, in_w = s->in_w;
    const int full_range = act->act_min == -128 && act->act_max == 127;
    const int16_t pad = (int16_t)(-act->input_offset); /* x + input_offset = 0 */
    for (int32_t i = 0; i < row * rows; ++i) {
        plane[i] = pad; /* the interior is overwritten per channel, the border stays */
    }
    for (int32_t c = 0; c < cout; ++c) {
        /* the channel's input into the plane interior: LDRSB + ADD + STRH per value, rows of
         * up to eight unrolled */
        const int8_t *x = input + c;
        int16_t *q = plane + (size_t)s->pad_top * row + s->pad_left;
        for (int32_t iy = 0; iy < s->in_h; ++iy, q += row) {
            int32_t ix = 0;
            if (in_w <= 8) {
                switch (in_w) { /* each case falls through to the next */
                case 8: q[ix++] = *x; x += cin; /* fall through */
                case 7: q[ix++] = *x; x += cin; /* fall through */
                case 6: q[ix++] = *x; x += cin; /* fall through */
                case 5: q[ix++] = *x; x += cin; /* fall through */
                case 4: q[ix++] = *x; x += cin; /* fall through */
                case 3: q[ix++] = *x; x += cin; /* fall through */
                case 2: q[ix++] = *x; x += cin; /* fall through */
                default: q[ix++] = *x; x += cin;
                }
                continue;
            }
            for (; ix < in_w; ++ix, x += cin) {
                q[ix] = *x;
            }
        }
        /* weights, their sum and |sum|, per kernel row: (w0, w1) and (w1, w2) */
        int32_t w[9], wsum = 0;
        uint32_t wabs = 0;
        for (int32_t t = 0; t < 9; ++t) {
            w[t] = filter[(size_t)t * cout + c];
            wsum += w[t];
            wabs += (uint32_t)(w[t] < 0 ? -w[t] : w[t]);
        }
        const int32_t b = bias ? bias[c] : 0;
        const int32_t init = b + act->input_offset * wsum; /* int32 */
        /* |acc| <= |bias| + 255 * sum |w| (|x + input_offset| <= 255) */
        const uint32_t babs = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
        const uint32_t bound = babs >= (1u << 30) ? babs : babs + 255u * wabs; /* no wrap */
        kws_rqf_t f = {0, 0, 1};
        const int fast = kws_rqf(rq, c, act->output_offset, bound, &f);
        const int32_t m = fast ? 2 : 1; /* fast: doubled weights and bias give 2 * acc */
        uint32_t wk[6];
        for (int32_t ky = 0; ky < 3; ++ky) {
            wk[2 * ky] = kws_pkhbt((uint32_t)(m * w[3 * ky]), (uint32_t)(m * w[3 * ky + 1]));
            wk[2 * ky + 1] = kws_pkhbt((uint32_t)(m * w[3 * ky + 1]),
                                       (uint32_t)(m * w[3 * ky + 2]));
        }
        const kws_rq1_t r = kws_rq1(rq, c);
        int8_t *y = output + c;
        if (!fast) {
            dw_plane_channel(plane, row, s->out_h, s->out_w, cout, wk, init, DW_EXACT, f, r,
                             act, y);
        } else if (full_range) {
            dw_plane_channel(plane, row, s->out_h, s->out_w, cout, wk, 2 * init, DW_FAST_SSAT,
                             f, r, act, y);
        } else {
            dw_plane_channel(plane, row, s->out_h, s->out_w, cout, wk, 2 * init, DW_FAST_CLAMP,
                             f, r, act, y);
        }
    }
}

/* The direct path (see the file comment): channels [0, 4 * (out_c / 4)), any kernel, stride
 * and padding. */
static void depthwise_dsp_direct(const kws_conv_shape_t *s, const kws_act_t *act,
                                 const kws_requant_t *rq, const int8_t *input,
                                 const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t cin = s->in_c, cout = s->out_c, groups = cout / 4;
    const uint32_t off2 = ((uint32_t)(uint16_t)act->input_offset) * 0x00010001u;
    const int32_t out_off = act->output_offset, lo = act->act_min, hi = act->act_max;
    const int full_range = lo == -128 && hi == 127;
    const int32_t taps = s->k_h * s->k_w;
    int32_t tapoff[KWS_DW_MAX_TAPS]; /* interior pixels: input offset of each tap */
    const int flat = taps <= KWS_DW_MAX_TAPS;
    for (int32_t t = 0; flat && t < taps; ++t) {
        tapoff[t] = ((t / s->k_w) * s->in_w + t % s->k_w) * cin;
    }
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            const int interior = flat && ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout;
            for (int32_t g = 0; g < groups; ++g) {
                const int32_t o = 4 * g;
                int32_t a0 = bias ? bias[o] : 0, a1 = bias ? bias[o + 1] : 0; /* int32 */
                int32_t a2 = bias ? bias[o + 2] : 0, a3 = bias ? bias[o + 3] : 0;
                if (interior) {
                    /* every tap inside: one flat loop over the taps (offset table) */
                    const int8_t *xb = input + ((size_t)iy0 * s->in_w + ix0) * cin + o;
                    const int8_t *w = filter + o;
                    for (int32_t t = 0; t < taps; ++t, w += cout) {
                        const uint32_t xv = kws_read_u32(xb + tapoff[t]);
                        const uint32_t wv = kws_read_u32(w);
                        const uint32_t xe = kws_sadd16(kws_sxtb16(xv), off2);      /* c0 c2 */
                        const uint32_t xo = kws_sadd16(kws_sxtb16_ror8(xv), off2); /* c1 c3 */
                        const uint32_t we = kws_sxtb16(wv), wo = kws_sxtb16_ror8(wv);
                        a0 = kws_smlabb(xe, we, a0);
                        a2 = kws_smlatt(xe, we, a2);
                        a1 = kws_smlabb(xo, wo, a1);
                        a3 = kws_smlatt(xo, wo, a3);
                    }
                } else {
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
                if (full_range) {
                    y[o] = kws_out1_s8_full(a0, kws_rq1(rq, o), out_off);
                    y[o + 1] = kws_out1_s8_full(a1, kws_rq1(rq, o + 1), out_off);
                    y[o + 2] = kws_out1_s8_full(a2, kws_rq1(rq, o + 2), out_off);
                    y[o + 3] = kws_out1_s8_full(a3, kws_rq1(rq, o + 3), out_off);
                } else {
                    y[o] = kws_out1_s8(a0, kws_rq1(rq, o), out_off, lo, hi);
                    y[o + 1] = kws_out1_s8(a1, kws_rq1(rq, o + 1), out_off, lo, hi);
                    y[o + 2] = kws_out1_s8(a2, kws_rq1(rq, o + 2), out_off, lo, hi);
                    y[o + 3] = kws_out1_s8(a3, kws_rq1(rq, o + 3), out_off, lo, hi);
                }
            }
        }
    }
}

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
                                     int8_t *output, size_t output_len,
                                     void *scratch, size_t scratch_len)
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
    const size_t need = kws_depthwise_conv2d_s8_get_buffer_size(s);
    if (need > 0 && scratch == NULL) {
        return KWS_ERR_NULL;
    }
    if (scratch_len < need) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const int32_t cin = s->in_c, cout = s->out_c, m = s->depth_multiplier;
    int32_t first = 0; /* channels [0, first) done by the DSP path */
#if KWS_USE_DSP
    if (need > 0) {
        depthwise_dsp_plane(s, act, rq, input, filter, bias, output, (int16_t *)scratch);
        return KWS_OK;
    }
    if (dw_direct(s)) {
        depthwise_dsp_direct(s, act, rq, input, filter, bias, output);
        first = cout / 4 * 4;
    } else if (m == 1 && s->k_h * s->k_w <= KWS_DW_MAX_TAPS && cout >= 4) {
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
