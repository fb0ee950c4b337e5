/*
 * pointwise.c - int8 1x1 (pointwise) conv, TFLite int8 semantics (kws_kernels.h).
 *
 * Portable path: the reference loop. DSP path: the shared dot core (conv_core.c) on the input
 * itself (all pixels, n = in_c); with less scratch than its two widened filter rows (none at
 * all included), the scratch-free direct path of conv_core.c.
 */
#include "conv_core.h"

size_t kws_pointwise_conv_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP) {
        return 0;
    }
    /* two filter rows widened to int16: in_c rounded down to a multiple of 4, 2 bytes each */
    return 2 * (size_t)(shape->in_c & ~3) * sizeof(int16_t);
}

/* kws_conv_check and a 1x1 stride-1 unpadded shape (KWS_ERR_BAD_CONFIG otherwise). */
static kws_status_t pw_check(const kws_conv_shape_t *s, const kws_act_t *act,
                             const kws_requant_t *rq, const int8_t *input, size_t input_len,
                             const int8_t *filter, size_t filter_len, const int32_t *bias,
                             size_t bias_len, const int8_t *output, size_t output_len)
{
    const kws_status_t st = kws_conv_check(s, act, rq, input, input_len, filter, filter_len,
                                           bias, bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
    if (s->k_h != 1 || s->k_w != 1 || s->stride_h != 1 || s->stride_w != 1 ||
        s->pad_top != 0 || s->pad_left != 0 || s->in_h != s->out_h || s->in_w != s->out_w) {
        return KWS_ERR_BAD_CONFIG;
    }
    return KWS_OK;
}

kws_status_t kws_pointwise_conv_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                                   const kws_requant_t *rq,
                                   const int8_t *input, size_t input_len,
                                   const int8_t *filter, size_t filter_len,
                                   const int32_t *bias, size_t bias_len,
                                   int8_t *output, size_t output_len,
                                   void *scratch, size_t scratch_len)
{
    const kws_status_t st = pw_check(s, act, rq, input, input_len, filter, filter_len, bias,
                                     bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
    const int32_t n = s->in_c, oc_n = s->out_c, pixels = s->in_h * s->in_w;
#if KWS_USE_DSP
    const size_t need = kws_pointwise_conv_s8_get_buffer_size(s);
    if (need > 0 && (scratch == NULL || scratch_len < need)) {
        kws_conv_direct_s8(s, act, rq, input, filter, bias, output);
        return KWS_OK;
    }
    kws_dot_s8(pixels, n, oc_n, act, rq, input, filter, bias, output,
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

int32_t kws_pointwise_conv_s8_reuse_pixels(const kws_conv_shape_t *s)
{
    if (s == NULL || s->in_h <= 0 || s->in_w <= 0 || s->in_c <= 0 || s->out_c <= 0) {
        return 0;
    }
    const size_t need = kws_pointwise_conv_s8_get_buffer_size(s);
    const size_t pixels = (size_t)s->in_h * s->in_w, oc = (size_t)s->out_c;
    if (need == 0) {
        return 0;
    }
    for (size_t t = 1; t < pixels; ++t) {
        const size_t start = ((pixels - t) * oc + 3) & ~(size_t)3; /* the tail's first word */
        if (start + need <= pixels * oc) {
            /* the input's first pixels (all but the last t) hold the last t pixels widened
             * (pw_few_pixels: 2 bytes per input, need / 4 inputs per pixel) after */
            return t * need / 2 <= (pixels - t) * (size_t)s->in_c ? (int32_t)t : 0;
        }
    }
    return 0;
}

#if KWS_USE_DSP
/* One output of pw_few_pixels from acc: the fast requantization where fast (2 acc fits int32),
 * else TFLite's. */
static KWS_ALWAYS_INLINE int8_t pw_few_out(int32_t acc, int fast, kws_rqf_t f,
                                           const kws_requant_t *rq, int32_t o,
                                           const kws_act_t *act)
{
    return fast ? (int8_t)kws_clamp(kws_rqf_apply(2 * acc, f), act->act_min, act->act_max)
                : kws_output_s8(acc, rq, o, act);
}

/* out[p][o] for the few pixels [0, pixels) of x (n int8 each) and every output channel: each
 * pixel's inputs widened once to int16 with the input offset added (per four inputs the words
 * (x0, x2), (x1, x3) of SXTB16 and SADD16) into xw (pixels * (n & ~3) * 2 bytes, 4-byte
 * aligned), the filter widened as it is read, four pixels at a time (per four inputs: 1 LDR,
 * 2 SXTB16, 8 LDR, 8 SMLAD), then the fast requantization where 2 acc fits int32 (kws_rqf_t;
 * |acc| <= |bias| + 255 * 128 * n), else TFLite's (kws_output_s8). The second pass of
 * kws_pointwise_conv_s8_reusing: the filter rows were widened once per channel in the first. */
static void pw_few_pixels(int32_t pixels, int32_t n, int32_t oc, const kws_act_t *act,
                          const kws_requant_t *rq, const int8_t *x, const int8_t *filter,
                          const int32_t *bias, int8_t *y, uint32_t *xw)
{
    const int32_t n4 = n & ~3, row = n4 / 2; /* widened words per pixel */
    const uint32_t off = (uint32_t)(uint16_t)act->input_offset * 0x00010001u;
    uint32_t bmax = 0;
    for (int32_t o = 0; bias != NULL && o < oc; ++o) {
        const uint32_t b = bias[o] < 0 ? 0u - (uint32_t)bias[o] : (uint32_t)bias[o];
        bmax = b > bmax ? b : bmax;
    }
    const uint32_t bound = n < 32768 ? bmax + 32640u * (uint32_t)n : 0xFFFFFFFFu;
    for (int32_t p = 0; p < pixels; ++p) {
        for (int32_t i = 0; i < n4; i += 4) {
            const uint32_t v = kws_read_u32(x + (size_t)p * n + i);
            xw[(size_t)p * row + i / 2] = kws_sadd16(kws_sxtb16(v), off);
            xw[(size_t)p * row + i / 2 + 1] = kws_sadd16(kws_sxtb16_ror8(v), off);
        }
    }
    for (int32_t o = 0; o < oc; ++o) {
        const int8_t *w = filter + (size_t)o * n;
        kws_rqf_t f = {0, 0, 1};
        const int fast = kws_rqf(rq, o, act->output_offset, bound, &f);
        const int32_t b = bias != NULL ? bias[o] : 0;
        int32_t p = 0;
        for (; p + 4 <= pixels; p += 4) {
            const uint32_t *x0 = xw + (size_t)p * row, *x1 = x0 + row, *x2 = x1 + row;
            const uint32_t *x3 = x2 + row;
            int32_t a0 = b, a1 = b, a2 = b, a3 = b;
            const int8_t *wp = w;
            for (const uint32_t *end = x0 + row; x0 < end; x0 += 2, x1 += 2, x2 += 2, x3 += 2) {
                const uint32_t v = kws_read_u32(wp);
                const uint32_t we = kws_sxtb16(v), wo = kws_sxtb16_ror8(v);
                wp += 4;
                a0 = kws_smlad(wo, x0[1], kws_smlad(we, x0[0], a0));
                a1 = kws_smlad(wo, x1[1], kws_smlad(we, x1[0], a1));
                a2 = kws_smlad(wo, x2[1], kws_smlad(we, x2[0], a2));
                a3 = kws_smlad(wo, x3[1], kws_smlad(we, x3[0], a3));
            }
            for (int32_t i = n4; i < n; ++i) {
                const int8_t *xi = x + (size_t)p * n + i;
                a0 += (xi[0] + act->input_offset) * w[i];
                a1 += (xi[n] + act->input_offset) * w[i];
                a2 += (xi[2 * n] + act->input_offset) * w[i];
                a3 += (xi[3 * n] + act->input_offset) * w[i];
            }
            int8_t *yp = y + (size_t)p * oc + o;
            yp[0] = pw_few_out(a0, fast, f, rq, o, act);
            yp[oc] = pw_few_out(a1, fast, f, rq, o, act);
            yp[2 * oc] = pw_few_out(a2, fast, f, rq, o, act);
            yp[3 * oc] = pw_few_out(a3, fast, f, rq, o, act);
        }
        for (; p < pixels; ++p) { /* the last 1..3 */
            const uint32_t *x0 = xw + (size_t)p * row;
            int32_t a0 = b;
            for (int32_t i = 0; i < n4; i += 4) {
                const uint32_t v = kws_read_u32(w + i);
                a0 = kws_smlad(kws_sxtb16_ror8(v), x0[i / 2 + 1],
                               kws_smlad(kws_sxtb16(v), x0[i / 2], a0));
            }
            for (int32_t i = n4; i < n; ++i) {
                a0 += (x[(size_t)p * n + i] + act->input_offset) * w[i];
            }
            y[(size_t)p * oc + o] = pw_few_out(a0, fast, f, rq, o, act);
        }
    }
}
#endif

kws_status_t kws_pointwise_conv_s8_reusing(const kws_conv_shape_t *s, const kws_act_t *act,
                                           const kws_requant_t *rq,
                                           int8_t *input, size_t input_len,
                                           const int8_t *filter, size_t filter_len,
                                           const int32_t *bias, size_t bias_len,
                                           int8_t *output, size_t output_len)
{
#if KWS_USE_DSP
    const kws_status_t st = pw_check(s, act, rq, input, input_len, filter, filter_len, bias,
                                     bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
    const int32_t t = kws_pointwise_conv_s8_reuse_pixels(s);
    if (t > 0 && ((uintptr_t)input & 3) == 0 && ((uintptr_t)output & 3) == 0) {
        const int32_t n = s->in_c, oc = s->out_c, head = s->in_h * s->in_w - t;
        /* pixels [0, head) with the rows in the output's tail (written only after), then
         * [head, pixels) widened into the input's first bytes (read by then) */
        uint32_t *tail = (uint32_t *)(void *)(output + (((size_t)head * oc + 3) & ~(size_t)3));
        kws_dot_s8(head, n, oc, act, rq, input, filter, bias, output, tail);
        pw_few_pixels(t, n, oc, act, rq, input + (size_t)head * n, filter, bias,
                      output + (size_t)head * oc, (uint32_t *)(void *)input);
        return KWS_OK;
    }
#endif
    return kws_pointwise_conv_s8(s, act, rq, input, input_len, filter, filter_len, bias,
                                 bias_len, output, output_len, NULL, 0);
}
