/*
 * conv_core.c - the shared int8 dot core of conv2d and pointwise conv (TFLite int8 semantics).
 *
 * The DSP path (Cortex-M4, or emulated on the host): dot_dsp computes out[p][o] for P pixels of
 * n int8 values each (stride n) against the int8 filter rows (o x n):
 *  - the input offset goes into the bias, acc = bias[o] + input_offset * sum_i w[o][i] +
 *    sum_i x[p][i] * w[o][i], exact because every x[p][i] is either an input value or, for
 *    conv2d padding, -input_offset (its (x + input_offset) is 0, as TFLite's skipped taps);
 *  - output channels two at a time: their rows are widened once to int16 in scratch (SXTB16
 *    lane order), doubled when the fast requantization applies (kws_rqf_t: 2 * acc, SMMULR);
 *  - pixels two at a time: per four values, 2 LDR + 4 SXTB16 (inputs), 2 LDRD (weights) and
 *    8 SMLAD (16 MACs), sixteen values per loop step, in assembly on the M4.
 * pointwise.c runs it on the input itself (P = all pixels, n = in_c); conv2d.c on blocks of
 * im2col columns (n = k_h * k_w * in_c).
 *
 * The direct path (kws_conv_direct_s8), where the caller gives no scratch (the planner's choice
 * at a layer that bounds the arena): output channels two at a time, per output pixel each
 * kernel row inside the input is a run of contiguous int8 inputs (k_w * in_c, fewer at a
 * border) read once per four values: 1 LDR + 2 SXTB16 for the inputs (+ 2 SADD16, the input
 * offset, at border pixels; inside, input_offset * sum(w) starts the accumulator), per channel
 * 1 LDR + 2 SXTB16 + 2 SMLAD: 13 (15) instructions per 8 MACs; the taps outside
 * the input are skipped, as TFLite's reference does; the exact requantization unpacked once
 * per channel (kws_rq1_t).
 */
#include "conv_core.h"
#include "kws_simd.h"

kws_status_t kws_conv_check(const kws_conv_shape_t *s, const kws_act_t *act,
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
void kws_dot_s8(int32_t pixels, int32_t n, int32_t oc_n, const kws_act_t *act,
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

#if KWS_USE_DSP
/* Accumulators a[0], a[1] of one output pixel and channels w0, w1 (rows of kk int8; w1 == w0
 * for a lone last channel) over the kernel rows [ky0, ky1) of runs of `run` inputs; with_offset
 * (a constant at each call): add input_offset to the inputs (SADD16), else the caller has put
 * input_offset * sum(w) into the accumulators (every tap inside the input). */
static KWS_ALWAYS_INLINE void direct_pair(const int8_t *x, int32_t x_row, const int8_t *w0,
                                          const int8_t *w1, int32_t w_row, int32_t rows,
                                          int32_t run, int32_t input_offset, int with_offset,
                                          int32_t a[2])
{
    const uint32_t off2 = kws_pkhbt((uint32_t)input_offset, (uint32_t)input_offset);
    const int32_t off1 = with_offset ? input_offset : 0;
    int32_t a0 = a[0], a1 = a[1];
    for (int32_t r = 0; r < rows; ++r, x += x_row, w0 += w_row, w1 += w_row) {
        int32_t i = 0;
        for (; i + 4 <= run; i += 4) {
            const uint32_t xw = kws_read_u32(x + i);
            uint32_t xe = kws_sxtb16(xw), xo = kws_sxtb16_ror8(xw); /* x0, x2 and x1, x3 */
            if (with_offset) {
                xe = kws_sadd16(xe, off2);
                xo = kws_sadd16(xo, off2);
            }
            const uint32_t u0 = kws_read_u32(w0 + i), u1 = kws_read_u32(w1 + i);
            a0 = kws_smlad(kws_sxtb16(u0), xe, a0);
            a0 = kws_smlad(kws_sxtb16_ror8(u0), xo, a0);
            a1 = kws_smlad(kws_sxtb16(u1), xe, a1);
            a1 = kws_smlad(kws_sxtb16_ror8(u1), xo, a1);
        }
        for (; i < run; ++i) {
            const int32_t v = x[i] + off1;
            a0 += v * w0[i];
            a1 += v * w1[i];
        }
    }
    a[0] = a0;
    a[1] = a1;
}

/* Output pixels from which the direct path folds input_offset * sum(w) into the accumulators
 * of interior pixels (the sums cost about kk per channel; each interior pixel saves kk / 4). */
#define KWS_DIRECT_FOLD_MIN_PIXELS 32

/* input_offset * the sum of a filter row of kk int8 (int32: |sum| <= 128 kk). */
static int32_t offset_times_sum(const int8_t *w, int32_t kk, int32_t input_offset)
{
    int32_t sum = 0;
    for (int32_t i = 0; i < kk; ++i) {
        sum += w[i];
    }
    return input_offset * sum;
}

void kws_conv_direct_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                        const kws_requant_t *rq, const int8_t *input, const int8_t *filter,
                        const int32_t *bias, int8_t *output)
{
    const int32_t cin = s->in_c, cout = s->out_c, kk = s->k_h * s->k_w * cin;
    for (int32_t o = 0; o < cout; o += 2) { /* a pair of channels over every pixel */
        const int two = o + 1 < cout;
        const kws_rq1_t r0 = kws_rq1(rq, o), r1 = kws_rq1(rq, two ? o + 1 : o);
        const int32_t b0 = bias ? bias[o] : 0, b1 = two && bias ? bias[o + 1] : 0;
        const int8_t *f0 = filter + (size_t)o * kk, *f1 = two ? f0 + kk : f0;
        /* accumulator starts of pixels whose taps are all inside the input, where there are
         * enough pixels to repay the sums (they cost about what 4 pixels' SADD16 save) */
        const int fold = s->out_h * s->out_w >= KWS_DIRECT_FOLD_MIN_PIXELS;
        const int32_t in0 = fold ? b0 + offset_times_sum(f0, kk, act->input_offset) : b0;
        const int32_t in1 = fold && two ? b1 + offset_times_sum(f1, kk, act->input_offset) : b1;
        int8_t *y = output + o;
        if (s->k_h == 1 && s->k_w == 1 && s->stride_h == 1 && s->stride_w == 1 &&
            s->pad_top == 0 && s->pad_left == 0) { /* pointwise: pixel p reads its own row */
            const int8_t *x = input;
            for (int32_t p = s->out_h * s->out_w; p > 0; --p, x += cin, y += cout) {
                int32_t a[2] = {in0, in1};
                if (fold) {
                    direct_pair(x, 0, f0, f1, 0, 1, cin, act->input_offset, 0, a);
                } else {
                    direct_pair(x, 0, f0, f1, 0, 1, cin, act->input_offset, 1, a);
                }
                y[0] = kws_out1_s8(a[0], r0, act->output_offset, act->act_min, act->act_max);
                if (two) {
                    y[1] = kws_out1_s8(a[1], r1, act->output_offset, act->act_min,
                                       act->act_max);
                }
            }
            continue;
        }
        for (int32_t oy = 0; oy < s->out_h; ++oy) {
            const int32_t iy0 = oy * s->stride_h - s->pad_top;
            const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
            const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
            for (int32_t ox = 0; ox < s->out_w; ++ox, y += cout) {
                const int32_t ix0 = ox * s->stride_w - s->pad_left;
                const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
                const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
                const int8_t *x = input + ((size_t)(iy0 + ky0) * s->in_w + ix0 + kx0) * cin;
                const size_t w_first = ((size_t)ky0 * s->k_w + kx0) * cin;
                if (fold && ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w) {
                    int32_t a[2] = {in0, in1};
                    direct_pair(x, s->in_w * cin, f0, f1, s->k_w * cin, s->k_h, s->k_w * cin,
                                act->input_offset, 0, a);
                    y[0] = kws_out1_s8(a[0], r0, act->output_offset, act->act_min,
                                       act->act_max);
                    if (two) {
                        y[1] = kws_out1_s8(a[1], r1, act->output_offset, act->act_min,
                                           act->act_max);
                    }
                    continue;
                }
                int32_t a[2] = {b0, b1};
                direct_pair(x, s->in_w * cin, f0 + w_first, f1 + w_first, s->k_w * cin,
                            ky1 - ky0, (kx1 - kx0) * cin, act->input_offset, 1, a);
                y[0] = kws_out1_s8(a[0], r0, act->output_offset, act->act_min, act->act_max);
                if (two) {
                    y[1] = kws_out1_s8(a[1], r1, act->output_offset, act->act_min,
                                       act->act_max);
                }
            }
        }
    }
}
#endif
