/*
 * conv.c - int8 conv2d and 1x1 (pointwise) conv, TFLite int8 semantics (kws_kernels.h).
 *
 * Portable path: the reference loops. DSP path (Cortex-M4, or emulated on the host): one core,
 * dot_dsp, computes out[p][o] for P pixels of n int8 values each (stride n) against the
 * int8 filter rows (o x n):
 *  - the input offset goes into the bias, acc = bias[o] + input_offset * sum_i w[o][i] +
 *    sum_i x[p][i] * w[o][i], exact because every x[p][i] is either an input value or, for
 *    conv2d padding, -input_offset (its (x + input_offset) is 0, as TFLite's skipped taps);
 *  - output channels two at a time: their rows are widened once to int16 in scratch (SXTB16
 *    lane order), doubled when the fast requantization applies (kws_rqf_t: 2 * acc, SMMULR);
 *  - pixels two at a time: per four values, 2 LDR + 4 SXTB16 (inputs), 2 LDRD (weights) and
 *    8 SMLAD (16 MACs), sixteen values per loop step, in assembly on the M4.
 * pointwise runs dot_dsp on the input itself (P = all pixels, n = in_c); conv2d first copies
 * blocks of pixels' receptive fields into int8 im2col columns (n = k_h * k_w * in_c) in
 * scratch, padding with -input_offset.
 *
 * kws_pointwise_conv_s8_prepared (weights prepared by `kws export`, kws_pw_prepared_t): pixels
 * outer, two at a time, widened once to int16 in scratch; then per pair of channels and four
 * inputs 4 LDRD + 8 SMLAD (16 MACs) on the doubled int16 weights, and the fast requantization
 * with the exported per-channel parameters. Its portable path is TFLite's arithmetic on the
 * prepared values (acc = (prepared bias + sum(x * 2 w)) / 2, then kws_requantize).
 */
#include <string.h>

#include "kws_internal.h"
#include "kws_simd.h"

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

/* im2col bytes of conv2d's DSP path: at most KWS_CONV_COL_BYTES per block of pixels (at
 * least two pixels per block). */
#define KWS_CONV_COL_BYTES 8192

/* Pixels per im2col block of conv2d's DSP path (even unless it is all of them). */
static int32_t conv_block_pixels(const kws_conv_shape_t *s)
{
    const int32_t kk = s->k_h * s->k_w * s->in_c, pixels = s->out_h * s->out_w;
    if ((int64_t)kk * pixels <= KWS_CONV_COL_BYTES) {
        return pixels;
    }
    const int32_t b = (KWS_CONV_COL_BYTES / kk) & ~1;
    return b < 2 ? 2 : b;
}

size_t kws_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP || !kws_shape_ok(shape)) {
        return 0;
    }
    /* two filter rows widened to int16 (kk rounded down to a multiple of 4), then one block
     * of im2col columns of kk int8 */
    const size_t kk = (size_t)shape->k_h * shape->k_w * shape->in_c;
    return 4 * (kk & ~(size_t)3) + kk * (size_t)conv_block_pixels(shape);
}

#if KWS_USE_DSP
/* im2col of output pixels [p0, p0 + count): pixel p's column at col + (p - p0) * kk holds its
 * receptive field in filter order (ky, kx, ic), -input_offset where it is padding. */
static void im2col_s8(const kws_conv_shape_t *s, int32_t input_offset, const int8_t *input,
                      int32_t p0, int32_t count, int8_t *col)
{
    const int32_t cin = s->in_c, row = s->k_w * cin;
    const int8_t pad = (int8_t)(-input_offset); /* in -128..127 */
    for (int32_t p = p0; p < p0 + count; ++p) {
        const int32_t oy = p / s->out_w, ox = p % s->out_w;
        const int32_t iy0 = oy * s->stride_h - s->pad_top, ix0 = ox * s->stride_w - s->pad_left;
        /* kernel columns [kx0, kx1) are inside the input on every row that is */
        const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
        const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
        const int32_t lead = kx0 * cin, run = (kx1 - kx0) * cin;
        for (int32_t ky = 0; ky < s->k_h; ++ky, col += row) {
            const int32_t iy = iy0 + ky;
            if (iy < 0 || iy >= s->in_h) {
                for (int32_t t = 0; t < row; ++t) {
                    col[t] = pad;
                }
                continue;
            }
            const int8_t *x = input + ((size_t)iy * s->in_w + ix0 + kx0) * cin;
            int32_t t = 0;
            for (; t < lead; ++t) {
                col[t] = pad;
            }
            for (int32_t i = 0; i < run; ++i) {
                col[t + i] = x[i];
            }
            for (t += run; t < row; ++t) {
                col[t] = pad;
            }
        }
    }
}
#endif

#if KWS_USE_DSP
/* Output modes of the pointwise path: doubled accumulators (2 * acc: the widened weights and
 * the bias are doubled) with the fast requantization kws_rqf_t and an SSAT or a min / max
 * clamp, or plain accumulators with the exact requantization. */
enum { PW_FAST_SSAT, PW_FAST_CLAMP, PW_EXACT };

/* One output of channel o from its accumulator a (2 * acc in the fast modes; fast: the
 * channel's kws_rqf_t is valid, else the exact path on acc = a / 2, exact since a is even). */
static KWS_ALWAYS_INLINE int8_t pw_out(int32_t a, int mode, int fast, kws_rqf_t f,
                                       const kws_requant_t *rq, int32_t o, const kws_act_t *act)
{
    if (mode == PW_EXACT) {
        return kws_output_s8(a, rq, o, act);
    }
    if (!fast) {
        return kws_output_s8(a >> 1, rq, o, act);
    }
    const int32_t y = kws_rqf_apply(a, f);
    return (int8_t)(mode == PW_FAST_SSAT ? kws_ssat8(y) : kws_clamp(y, act->act_min, act->act_max));
}

/* Four input channels of two pixels against two output channels: the pixels' int8 words
 * xa, xb widened by SXTB16 (lanes 0 2 and 1 3), the weights from the widened rows
 * wq = (w0[0,2], w0[1,3], w1[0,2], w1[1,3]) (2 LDRD): 2 LDR + 4 SXTB16 + 2 LDRD + 8 SMLAD. */
#define PW_STEP(xp0, xp1, wq)                                                               \
    do {                                                                                    \
        const uint32_t xa = kws_read_u32(xp0), xb = kws_read_u32(xp1);                      \
        const uint32_t ae = kws_sxtb16(xa), be = kws_sxtb16(xb);                            \
        const uint32_t ao = kws_sxtb16_ror8(xa), bo = kws_sxtb16_ror8(xb);                  \
        a00 = kws_smlad(ae, (wq)[0], a00);                                                  \
        a10 = kws_smlad(be, (wq)[0], a10);                                                  \
        a00 = kws_smlad(ao, (wq)[1], a00);                                                  \
        a10 = kws_smlad(bo, (wq)[1], a10);                                                  \
        a01 = kws_smlad(ae, (wq)[2], a01);                                                  \
        a11 = kws_smlad(be, (wq)[2], a11);                                                  \
        a01 = kws_smlad(ao, (wq)[3], a01);                                                  \
        a11 = kws_smlad(bo, (wq)[3], a11);                                                  \
    } while (0)

#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
/* PW_STEP in assembly (operands named as in dot_dsp's asm blocks): ldr / ldr post-increment,
 * 4 SXTB16, 2 LDRD post-increment, 8 SMLAD. */
#define PW_ASM_GROUP                                                                        \
    "ldr %[xb], [%[xp], %[dx]]\n\t"                                                          \
    "ldr %[xa], [%[xp]], #4\n\t"                                                              \
    "sxtb16 %[ae], %[xa]\n\t"                                                                 \
    "sxtb16 %[xa], %[xa], ror #8\n\t"                                                         \
    "sxtb16 %[be], %[xb]\n\t"                                                                 \
    "sxtb16 %[xb], %[xb], ror #8\n\t"                                                         \
    "ldrd %[wa], %[wb], [%[wp]], #8\n\t"                                                      \
    "smlad %[a00], %[ae], %[wa], %[a00]\n\t"                                                  \
    "smlad %[a00], %[xa], %[wb], %[a00]\n\t"                                                  \
    "smlad %[a10], %[be], %[wa], %[a10]\n\t"                                                  \
    "smlad %[a10], %[xb], %[wb], %[a10]\n\t"                                                  \
    "ldrd %[wa], %[wb], [%[wp]], #8\n\t"                                                      \
    "smlad %[a01], %[ae], %[wa], %[a01]\n\t"                                                  \
    "smlad %[a01], %[xa], %[wb], %[a01]\n\t"                                                  \
    "smlad %[a11], %[be], %[wa], %[a11]\n\t"                                                  \
    "smlad %[a11], %[xb], %[wb], %[a11]\n\t"
#endif

/* The DSP core (see the file comment): out[p][o] for pixels [0, pixels) of x (n int8 each,
 * stride n), output pixel stride oc_n; wq: scratch for two widened filter rows. */
static KWS_ALWAYS_INLINE void dot_dsp(int32_t pixels, int32_t n, int32_t oc_n,
                                      const kws_act_t *act, const kws_requant_t *rq,
                                      const int8_t *input, const int8_t *filter,
                                      const int32_t *bias, int8_t *output, uint32_t *wq,
                                      int mode)
{
    const int32_t n4 = n & ~3, n16 = n & ~15, m = mode == PW_EXACT ? 1 : 2;
    for (int32_t o = 0; o < oc_n; o += 2) {
        const int two = o + 1 < oc_n;
        const int8_t *w0 = filter + (size_t)o * n, *w1 = two ? w0 + n : w0;
        int32_t sum0 = 0, sum1 = 0; /* sum(w) of both rows, by SMLAD with (1, 1) */
        for (int32_t i = 0; i < n4; i += 4) {
            const uint32_t v0 = kws_read_u32(w0 + i), v1 = kws_read_u32(w1 + i);
            uint32_t q[4] = {kws_sxtb16(v0), kws_sxtb16_ror8(v0), kws_sxtb16(v1),
                             kws_sxtb16_ror8(v1)};
            sum0 = kws_smlad(q[0], 0x00010001u, kws_smlad(q[1], 0x00010001u, sum0));
            sum1 = kws_smlad(q[2], 0x00010001u, kws_smlad(q[3], 0x00010001u, sum1));
            for (int j = 0; j < 4; ++j) {
                wq[i + j] = m == 2 ? kws_sadd16(q[j], q[j]) : q[j]; /* |2w| <= 256 */
            }
        }
        for (int32_t i = n4; i < n; ++i) {
            sum0 += w0[i];
            sum1 += w1[i];
        }
        /* m * (bias + input_offset * sum(w)): int32 (the caller bounded |acc| < 2^30) */
        const int32_t b0 = m * ((bias ? bias[o] : 0) + act->input_offset * sum0);
        const int32_t b1 = m * ((bias && two ? bias[o + 1] : 0) + act->input_offset * sum1);
        kws_rqf_t f0 = {0, 0, 1}, f1 = {0, 0, 1};
        const int fast0 = mode != PW_EXACT && kws_rqf(rq, o, act->output_offset, 0, &f0);
        const int fast1 = mode != PW_EXACT && kws_rqf(rq, two ? o + 1 : o, act->output_offset,
                                                      0, &f1);
        int32_t p0 = 0; /* pixels [0, p0) done by the assembly loop below */
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
        if (mode == PW_FAST_SSAT && fast0 && fast1 && two && n4 == n && pixels >= 2) {
            /* Every complete pixel pair in one assembly loop: per pair, the accumulators from
             * the biases, the MAC loops as below, the fast requantization of the four
             * accumulators (SMMULR, ADD k, SUB t LSR 31, ASR r, SSAT), the four stores and
             * the next pair. Its state lives in ctx (whose register is pushed during the MAC
             * loops, where it serves as a temporary): loop counts, (multiplier, k, right) of
             * both channels, output pointer and pixel stride, biases, pairs left, input
             * pointer, widened rows, n. */
            int32_t ctx[16] = {n16 / 16, (n4 - n16) / 4, f0.multiplier, f0.k, f0.right,
                               f1.multiplier, f1.k, f1.right,
                               (int32_t)(intptr_t)(output + o), oc_n, b0, b1, pixels / 2,
                               (int32_t)(intptr_t)input, (int32_t)(intptr_t)wq, n};
            int32_t *c = ctx;
            const int8_t *xp;
            const uint32_t *wp;
            int32_t a00, a01, a10, a11, dx, cnt;
            uint32_t xa, xb, ae, be, wa;
            __asm__ volatile(
                "5:\n\t"
                "ldrd %[a00], %[a01], [%[wb], #40]\n\t"
                "mov %[a10], %[a00]\n\t"
                "mov %[a11], %[a01]\n\t"
                "ldrd %[xp], %[wp], [%[wb], #52]\n\t"
                "ldr %[dx], [%[wb], #60]\n\t"
                "ldr %[cnt], [%[wb]]\n\t"
                "push {%[wb]}\n\t"
                "cmp %[cnt], #0\n\t"
                "beq 3f\n\t"
                "1:\n\t" PW_ASM_GROUP PW_ASM_GROUP PW_ASM_GROUP PW_ASM_GROUP
                "subs %[cnt], %[cnt], #1\n\t"
                "bne 1b\n\t"
                "3:\n\t"
                "ldr %[wb], [sp]\n\t"
                "ldr %[cnt], [%[wb], #4]\n\t"
                "cmp %[cnt], #0\n\t"
                "beq 4f\n\t"
                "2:\n\t" PW_ASM_GROUP
                "subs %[cnt], %[cnt], #1\n\t"
                "bne 2b\n\t"
                "4:\n\t"
                "pop {%[wb]}\n\t"
                "ldrd %[xa], %[xb], [%[wb], #8]\n\t"
                "ldr %[ae], [%[wb], #16]\n\t"
                "smmulr %[be], %[a00], %[xa]\n\t"
                "add %[wa], %[be], %[xb]\n\t"
                "sub %[wa], %[wa], %[be], lsr #31\n\t"
                "asr %[wa], %[wa], %[ae]\n\t"
                "ssat %[wa], #8, %[wa]\n\t"
                "smmulr %[be], %[a10], %[xa]\n\t"
                "add %[a00], %[be], %[xb]\n\t"
                "sub %[a00], %[a00], %[be], lsr #31\n\t"
                "asr %[a00], %[a00], %[ae]\n\t"
                "ssat %[a00], #8, %[a00]\n\t"
                "ldrd %[xa], %[xb], [%[wb], #20]\n\t"
                "ldr %[ae], [%[wb], #28]\n\t"
                "smmulr %[be], %[a01], %[xa]\n\t"
                "add %[cnt], %[be], %[xb]\n\t"
                "sub %[cnt], %[cnt], %[be], lsr #31\n\t"
                "asr %[cnt], %[cnt], %[ae]\n\t"
                "ssat %[cnt], #8, %[cnt]\n\t"
                "smmulr %[be], %[a11], %[xa]\n\t"
                "add %[a10], %[be], %[xb]\n\t"
                "sub %[a10], %[a10], %[be], lsr #31\n\t"
                "asr %[a10], %[a10], %[ae]\n\t"
                "ssat %[a10], #8, %[a10]\n\t"
                "ldrd %[xp], %[dx], [%[wb], #32]\n\t"
                "strb %[wa], [%[xp]]\n\t"
                "strb %[cnt], [%[xp], #1]\n\t"
                "strb %[a00], [%[xp], %[dx]]\n\t"
                "add %[xp], %[xp], %[dx]\n\t"
                "strb %[a10], [%[xp], #1]\n\t"
                "add %[xp], %[xp], %[dx]\n\t"
                "str %[xp], [%[wb], #32]\n\t"
                "ldr %[xa], [%[wb], #52]\n\t"
                "ldr %[xb], [%[wb], #60]\n\t"
                "add %[xa], %[xa], %[xb], lsl #1\n\t"
                "str %[xa], [%[wb], #52]\n\t"
                "ldr %[cnt], [%[wb], #48]\n\t"
                "subs %[cnt], %[cnt], #1\n\t"
                "str %[cnt], [%[wb], #48]\n\t"
                "bne 5b\n\t"
                : [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11),
                  [xp] "=&r"(xp), [wp] "=&r"(wp), [cnt] "=&r"(cnt), [dx] "=&r"(dx),
                  [wb] "+r"(c), [xa] "=&r"(xa), [xb] "=&r"(xb), [ae] "=&r"(ae),
                  [be] "=&r"(be), [wa] "=&r"(wa)
                :
                : "cc", "memory");
            p0 = pixels / 2 * 2;
        }
#endif
        for (int32_t p = p0; p < pixels; p += 2) {
            const int two_px = p + 1 < pixels;
            const int8_t *x0 = input + (size_t)p * n, *x1 = two_px ? x0 + n : x0;
            int32_t a00 = b0, a01 = b1, a10 = b0, a11 = b1;
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
            /* PW_STEP in assembly, sixteen channels per loop step: GCC spills registers in
             * the C loop (4 accumulators, 3 pointers, a counter and 6 temporaries need all 14
             * allocatable registers), here 16 instructions per 16 MACs + 2 per loop step. */
            if (n4 > 0) {
                const int8_t *xp = x0;
                const uint32_t *wp = wq;
                const int32_t dx = (int32_t)(x1 - x0);
                uint32_t xa, xb, ae, be, wa, wb;
                int32_t cnt = n16 / 16;
                if (cnt > 0) {
                    __asm__ volatile("1:\n\t" PW_ASM_GROUP PW_ASM_GROUP PW_ASM_GROUP PW_ASM_GROUP
                                     "subs %[cnt], %[cnt], #1\n\t"
                                     "bne 1b\n\t"
                                     : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),
                                       [a11] "+r"(a11), [xp] "+r"(xp), [wp] "+r"(wp),
                                       [cnt] "+r"(cnt), [xa] "=&r"(xa), [xb] "=&r"(xb),
                                       [ae] "=&r"(ae), [be] "=&r"(be), [wa] "=&r"(wa),
                                       [wb] "=&r"(wb)
                                     : [dx] "r"(dx)
                                     : "cc", "memory");
                }
                cnt = (n4 - n16) / 4;
                if (cnt > 0) {
                    __asm__ volatile("2:\n\t" PW_ASM_GROUP
                                     "subs %[cnt], %[cnt], #1\n\t"
                                     "bne 2b\n\t"
                                     : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10),
                                       [a11] "+r"(a11), [xp] "+r"(xp), [wp] "+r"(wp),
                                       [cnt] "+r"(cnt), [xa] "=&r"(xa), [xb] "=&r"(xb),
                                       [ae] "=&r"(ae), [be] "=&r"(be), [wa] "=&r"(wa),
                                       [wb] "=&r"(wb)
                                     : [dx] "r"(dx)
                                     : "cc", "memory");
                }
            }
#else
            const int8_t *xp0 = x0, *xp1 = x1;
            const uint32_t *wp = wq;
            for (const uint32_t *wend = wq + n16; wp < wend; wp += 16) {
                PW_STEP(xp0, xp1, wp);
                PW_STEP(xp0 + 4, xp1 + 4, wp + 4);
                PW_STEP(xp0 + 8, xp1 + 8, wp + 8);
                PW_STEP(xp0 + 12, xp1 + 12, wp + 12);
                xp0 += 16;
                xp1 += 16;
            }
            for (const uint32_t *wend = wq + n4; wp < wend; wp += 4) {
                PW_STEP(xp0, xp1, wp);
                xp0 += 4;
                xp1 += 4;
            }
#endif
            for (int32_t i = n4; i < n; ++i) {
                a00 += m * x0[i] * w0[i];
                a01 += m * x0[i] * w1[i];
                a10 += m * x1[i] * w0[i];
                a11 += m * x1[i] * w1[i];
            }
            int8_t *y0 = output + (size_t)p * oc_n + o, *y1 = y0 + oc_n;
            y0[0] = pw_out(a00, mode, fast0, f0, rq, o, act);
            if (two_px) {
                y1[0] = pw_out(a10, mode, fast0, f0, rq, o, act);
            }
            if (two) {
                y0[1] = pw_out(a01, mode, fast1, f1, rq, o + 1, act);
                if (two_px) {
                    y1[1] = pw_out(a11, mode, fast1, f1, rq, o + 1, act);
                }
            }
        }
    }
}
#endif

#if KWS_USE_DSP
/* dot_dsp in the mode the layer allows: doubled accumulators fit in int32 when |acc| < 2^30
 * for every channel, |acc| <= |bias| + 255 * 128 * n (|x + input_offset| <= 255, |w| <= 128);
 * an activation range of all of int8 clamps with SSAT. */
static void dot_dispatch(int32_t pixels, int32_t n, int32_t oc_n, const kws_act_t *act,
                         const kws_requant_t *rq, const int8_t *input, const int8_t *filter,
                         const int32_t *bias, int8_t *output, uint32_t *wq)
{
    uint32_t bmax = 0;
    for (int32_t o = 0; bias != NULL && o < oc_n; ++o) {
        const uint32_t b = bias[o] < 0 ? 0u - (uint32_t)bias[o] : (uint32_t)bias[o];
        bmax = b > bmax ? b : bmax;
    }
    if (n >= 32768 || bmax >= (1u << 30) - 32640u * (uint32_t)n) {
        dot_dsp(pixels, n, oc_n, act, rq, input, filter, bias, output, wq, PW_EXACT);
    } else if (act->act_min == -128 && act->act_max == 127) {
        dot_dsp(pixels, n, oc_n, act, rq, input, filter, bias, output, wq, PW_FAST_SSAT);
    } else {
        dot_dsp(pixels, n, oc_n, act, rq, input, filter, bias, output, wq, PW_FAST_CLAMP);
    }
}
#endif

size_t kws_pointwise_conv_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP) {
        return 0;
    }
    /* two filter rows widened to int16: in_c rounded down to a multiple of 4, 2 bytes each */
    return 2 * (size_t)(shape->in_c & ~3) * sizeof(int16_t);
}

kws_status_t kws_pointwise_conv_s8(const kws_conv_shape_t *s, const kws_act_t *act,
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
    if (s->k_h != 1 || s->k_w != 1 || s->stride_h != 1 || s->stride_w != 1 ||
        s->pad_top != 0 || s->pad_left != 0 || s->in_h != s->out_h || s->in_w != s->out_w) {
        return KWS_ERR_BAD_CONFIG;
    }
    const int32_t n = s->in_c, oc_n = s->out_c, pixels = s->in_h * s->in_w;
#if KWS_USE_DSP
    const size_t need = kws_pointwise_conv_s8_get_buffer_size(s);
    if (need > 0 && scratch == NULL) {
        return KWS_ERR_NULL;
    }
    if (scratch_len < need) {
        return KWS_ERR_SHORT_BUFFER;
    }
    dot_dispatch(pixels, n, oc_n, act, rq, input, filter, bias, output,
                 (uint32_t *)scratch); /* 4-byte aligned */
    return KWS_OK;
#else
    (void)scratch;
    (void)scratch_len;
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
    /* blocks of im2col columns after the two widened filter rows, then the DSP core */
    const int32_t kk = s->k_h * s->k_w * s->in_c, pixels = s->out_h * s->out_w;
    const int32_t block = conv_block_pixels(s);
    uint32_t *wq = (uint32_t *)scratch; /* 4-byte aligned */
    int8_t *col = (int8_t *)scratch + 4 * (size_t)(kk & ~3);
    for (int32_t p = 0; p < pixels; p += block) {
        const int32_t count = pixels - p < block ? pixels - p : block;
        im2col_s8(s, act->input_offset, input, p, count, col);
        dot_dispatch(count, kk, s->out_c, act, rq, col, filter, bias,
                     output + (size_t)p * s->out_c, wq);
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

size_t kws_pointwise_conv_s8_prepared_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP) {
        return 0;
    }
    /* two pixels of in_c4 int16 */
    return 4 * (size_t)((shape->in_c + 3) & ~3);
}

#if KWS_USE_DSP
/* Widen pixels x0 and x1 (n int8 each, zeros up to n4 = in_c4) into xs: per four channels
 * pixel 0's SXTB16 words (x0 x2), (x1 x3), then pixel 1's. */
static void pw_widen2(const int8_t *x0, const int8_t *x1, int32_t n, int32_t n4, uint32_t *xs)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4, xs += 4) {
        const uint32_t v0 = kws_read_u32(x0 + i), v1 = kws_read_u32(x1 + i);
        xs[0] = kws_sxtb16(v0);
        xs[1] = kws_sxtb16_ror8(v0);
        xs[2] = kws_sxtb16(v1);
        xs[3] = kws_sxtb16_ror8(v1);
    }
    if (i < n4) {
        int8_t t0[4] = {0, 0, 0, 0}, t1[4] = {0, 0, 0, 0};
        for (int32_t j = 0; i + j < n; ++j) {
            t0[j] = x0[i + j];
            t1[j] = x1[i + j];
        }
        const uint32_t v0 = kws_read_u32(t0), v1 = kws_read_u32(t1);
        xs[0] = kws_sxtb16(v0);
        xs[1] = kws_sxtb16_ror8(v0);
        xs[2] = kws_sxtb16(v1);
        xs[3] = kws_sxtb16_ror8(v1);
    }
}
#endif

kws_status_t kws_pointwise_conv_s8_prepared(const kws_conv_shape_t *s, const kws_act_t *act,
                                            const kws_requant_t *rq,
                                            const kws_pw_prepared_t *prep,
                                            const int8_t *input, size_t input_len,
                                            int8_t *output, size_t output_len,
                                            void *scratch, size_t scratch_len)
{
    if (s == NULL || act == NULL || rq == NULL || prep == NULL || prep->filter == NULL ||
        prep->bias == NULL || prep->rqf == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (!kws_shape_ok(s) || !kws_act_ok(act) || !kws_requant_ok(rq, s->out_c) ||
        s->k_h != 1 || s->k_w != 1 || s->stride_h != 1 || s->stride_w != 1 ||
        s->pad_top != 0 || s->pad_left != 0 || s->in_h != s->out_h || s->in_w != s->out_w ||
        act->act_min != -128 || act->act_max != 127 || prep->in_c4 != ((s->in_c + 3) & ~3)) {
        return KWS_ERR_BAD_CONFIG;
    }
    const size_t oc2 = (size_t)((s->out_c + 1) & ~1);
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        output_len < (size_t)s->out_h * s->out_w * s->out_c ||
        prep->filter_len < oc2 * (size_t)prep->in_c4 / 2 || prep->bias_len < oc2 ||
        prep->rqf_len < 3 * oc2) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const int32_t n = s->in_c, n4 = prep->in_c4, oc_n = s->out_c, pixels = s->in_h * s->in_w;
#if KWS_USE_DSP
    const size_t need = kws_pointwise_conv_s8_prepared_get_buffer_size(s);
    if (scratch == NULL) {
        return KWS_ERR_NULL;
    }
    if (scratch_len < need) {
        return KWS_ERR_SHORT_BUFFER;
    }
    uint32_t *xs = (uint32_t *)scratch; /* 4-byte aligned */
    const int32_t groups = n4 / 4;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int two_px = p + 1 < pixels;
        const int8_t *x0 = input + (size_t)p * n;
        pw_widen2(x0, two_px ? x0 + n : x0, n, n4, xs);
        int8_t *y0 = output + (size_t)p * oc_n, *y1 = y0 + oc_n;
        const uint32_t *wp = prep->filter;
        int32_t o = 0;
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
        const int32_t pairs = oc_n / 2;
        if (two_px && pairs > 0) {
            /* every complete channel pair in one assembly loop: biases, 4 LDRD + 8 SMLAD per
             * four inputs, SMMULR / ADD / SUB LSR 31 / ASR / SSAT per output, four stores.
             * ctx: groups, widened pixels, output pointer, output pixel stride, pairs left,
             * bias pointer, rqf pointer */
            int32_t ctx[7] = {groups, (int32_t)(intptr_t)xs, (int32_t)(intptr_t)y0, oc_n,
                              pairs, (int32_t)(intptr_t)prep->bias,
                              (int32_t)(intptr_t)prep->rqf};
            const int32_t *c = ctx;
            int32_t a00, a01, a10, a11, cnt;
            uint32_t e0, o0, e1, o1, wa, wb;
            const uint32_t *xq;
            const uint32_t *wq = wp;
            __asm__ volatile(
                "7:\n\t"
                "ldr %[cnt], [%[c], #20]\n\t"
                "ldrd %[a00], %[a01], [%[cnt]], #8\n\t"
                "str %[cnt], [%[c], #20]\n\t"
                "mov %[a10], %[a00]\n\t"
                "mov %[a11], %[a01]\n\t"
                "ldrd %[cnt], %[xq], [%[c]]\n\t"
                "1:\n\t"
                "ldrd %[e0], %[o0], [%[xq]], #16\n\t"
                "ldrd %[e1], %[o1], [%[xq], #-8]\n\t"
                "ldrd %[wa], %[wb], [%[wq]], #8\n\t"
                "smlad %[a00], %[e0], %[wa], %[a00]\n\t"
                "smlad %[a00], %[o0], %[wb], %[a00]\n\t"
                "smlad %[a10], %[e1], %[wa], %[a10]\n\t"
                "smlad %[a10], %[o1], %[wb], %[a10]\n\t"
                "ldrd %[wa], %[wb], [%[wq]], #8\n\t"
                "smlad %[a01], %[e0], %[wa], %[a01]\n\t"
                "smlad %[a01], %[o0], %[wb], %[a01]\n\t"
                "smlad %[a11], %[e1], %[wa], %[a11]\n\t"
                "smlad %[a11], %[o1], %[wb], %[a11]\n\t"
                "subs %[cnt], %[cnt], #1\n\t"
                "bne 1b\n\t"
                "ldr %[xq], [%[c], #24]\n\t"
                "ldrd %[e0], %[o0], [%[xq]]\n\t"
                "ldr %[e1], [%[xq], #8]\n\t"
                "smmulr %[wa], %[a00], %[e0]\n\t"
                "add %[a00], %[wa], %[o0]\n\t"
                "sub %[a00], %[a00], %[wa], lsr #31\n\t"
                "asr %[a00], %[a00], %[e1]\n\t"
                "ssat %[a00], #8, %[a00]\n\t"
                "smmulr %[wa], %[a10], %[e0]\n\t"
                "add %[a10], %[wa], %[o0]\n\t"
                "sub %[a10], %[a10], %[wa], lsr #31\n\t"
                "asr %[a10], %[a10], %[e1]\n\t"
                "ssat %[a10], #8, %[a10]\n\t"
                "ldrd %[e0], %[o0], [%[xq], #12]\n\t"
                "ldr %[e1], [%[xq], #20]\n\t"
                "add %[xq], %[xq], #24\n\t"
                "str %[xq], [%[c], #24]\n\t"
                "smmulr %[wa], %[a01], %[e0]\n\t"
                "add %[a01], %[wa], %[o0]\n\t"
                "sub %[a01], %[a01], %[wa], lsr #31\n\t"
                "asr %[a01], %[a01], %[e1]\n\t"
                "ssat %[a01], #8, %[a01]\n\t"
                "smmulr %[wa], %[a11], %[e0]\n\t"
                "add %[a11], %[wa], %[o0]\n\t"
                "sub %[a11], %[a11], %[wa], lsr #31\n\t"
                "asr %[a11], %[a11], %[e1]\n\t"
                "ssat %[a11], #8, %[a11]\n\t"
                "ldrd %[xq], %[wb], [%[c], #8]\n\t"
                "strb %[a00], [%[xq]]\n\t"
                "strb %[a01], [%[xq], #1]\n\t"
                "strb %[a10], [%[xq], %[wb]]\n\t"
                "add %[wa], %[xq], %[wb]\n\t"
                "strb %[a11], [%[wa], #1]\n\t"
                "add %[xq], %[xq], #2\n\t"
                "str %[xq], [%[c], #8]\n\t"
                "ldr %[cnt], [%[c], #16]\n\t"
                "subs %[cnt], %[cnt], #1\n\t"
                "str %[cnt], [%[c], #16]\n\t"
                "bne 7b\n\t"
                : [a00] "=&r"(a00), [a01] "=&r"(a01), [a10] "=&r"(a10), [a11] "=&r"(a11),
                  [cnt] "=&r"(cnt), [e0] "=&r"(e0), [o0] "=&r"(o0), [e1] "=&r"(e1),
                  [o1] "=&r"(o1), [wa] "=&r"(wa), [wb] "=&r"(wb), [xq] "=&r"(xq),
                  [wq] "+r"(wq)
                : [c] "r"(c)
                : "cc", "memory");
            o = 2 * pairs;
            wp = wq;
        }
#endif
        for (; o < oc_n; o += 2) {
            const int two = o + 1 < oc_n;
            const int32_t *b = prep->bias + o, *r = prep->rqf + 3 * o;
            int32_t a00 = b[0], a01 = b[1], a10 = b[0], a11 = b[1]; /* 2 * acc */
            const uint32_t *xq = xs;
            for (int32_t g = 0; g < groups; ++g, xq += 4, wp += 4) {
                const uint32_t *w = wp; /* o: (w0 w2) (w1 w3), o + 1: (w0 w2) (w1 w3) */
                a00 = kws_smlad(xq[1], w[1], kws_smlad(xq[0], w[0], a00));
                a10 = kws_smlad(xq[3], w[1], kws_smlad(xq[2], w[0], a10));
                a01 = kws_smlad(xq[1], w[3], kws_smlad(xq[0], w[2], a01));
                a11 = kws_smlad(xq[3], w[3], kws_smlad(xq[2], w[2], a11));
            }
            const kws_rqf_t f0 = {r[0], r[1], r[2]}, f1 = {r[3], r[4], r[5]};
            y0[o] = (int8_t)kws_ssat8(kws_rqf_apply(a00, f0));
            if (two_px) {
                y1[o] = (int8_t)kws_ssat8(kws_rqf_apply(a10, f0));
            }
            if (two) {
                y0[o + 1] = (int8_t)kws_ssat8(kws_rqf_apply(a01, f1));
                if (two_px) {
                    y1[o + 1] = (int8_t)kws_ssat8(kws_rqf_apply(a11, f1));
                }
            }
        }
    }
    return KWS_OK;
#else
    (void)scratch;
    (void)scratch_len;
    /* the readable twin: w and the bias back from the prepared (doubled) values, TFLite's
     * arithmetic on them */
    for (int32_t p = 0; p < pixels; ++p) {
        const int8_t *x = input + (size_t)p * n;
        for (int32_t o = 0; o < oc_n; ++o) {
            /* channel o's words: pair o / 2 (n4 words), group i / 4 (4 words), o % 2 (2) */
            const uint32_t *wr = prep->filter + (size_t)(o / 2) * n4 + (o % 2) * 2;
            int32_t acc2 = prep->bias[o]; /* 2 * (bias + input_offset * sum(w)) */
            for (int32_t i = 0; i < n; i += 4, wr += 4) {
                /* inputs i..i+3: words (2 w[i], 2 w[i+2]) and (2 w[i+1], 2 w[i+3]); the
                 * padding inputs past n have zero weights */
                const int32_t w[4] = {(int16_t)(wr[0] & 0xFFFFu), (int16_t)(wr[1] & 0xFFFFu),
                                      (int16_t)(wr[0] >> 16), (int16_t)(wr[1] >> 16)};
                if (i + 4 <= n) {
                    acc2 += x[i] * w[0] + x[i + 1] * w[1] + x[i + 2] * w[2] + x[i + 3] * w[3];
                } else {
                    for (int32_t j = 0; i + j < n; ++j) {
                        acc2 += x[i + j] * w[j];
                    }
                }
            }
            output[(size_t)p * oc_n + o] = kws_output_s8(acc2 / 2, rq, o, act);
        }
    }
    return KWS_OK;
#endif
}
