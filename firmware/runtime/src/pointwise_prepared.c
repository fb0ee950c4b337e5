/*
 * pointwise_prepared.c - int8 1x1 conv on weights prepared by `kws export` (kws_pw_prepared_t).
 *
 * DSP path: pixels outer, two at a time, widened once to int16 in scratch; then per pair of
 * channels and four inputs 4 LDRD + 8 SMLAD (16 MACs) on the doubled int16 weights, and the
 * fast requantization with the exported per-channel parameters. Portable path: TFLite's
 * arithmetic on the prepared values (acc = (prepared bias + sum(x * 2 w)) / 2, then
 * kws_requantize).
 */
#include "kws_internal.h"
#include "kws_simd.h"

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
