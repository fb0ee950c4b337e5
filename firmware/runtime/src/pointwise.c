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

kws_status_t kws_pointwise_conv_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                                   const kws_requant_t *rq,
                                   const int8_t *input, size_t input_len,
                                   const int8_t *filter, size_t filter_len,
                                   const int32_t *bias, size_t bias_len,
                                   int8_t *output, size_t output_len,
                                   void *scratch, size_t scratch_len)
{
    kws_status_t st = kws_conv_check(s, act, rq, input, input_len, filter, filter_len, bias,
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
