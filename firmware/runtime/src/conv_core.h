/* conv_core.h - the shared int8 dot core of conv2d and pointwise conv (not installed). */
#ifndef KWS_CONV_CORE_H
#define KWS_CONV_CORE_H

#include "kws_internal.h"

/* The common argument checks of conv2d and pointwise conv: NULLs, shape, activation,
 * requantization, and every buffer length against the shape. */
kws_status_t kws_conv_check(const kws_conv_shape_t *s, const kws_act_t *act,
                            const kws_requant_t *rq, const int8_t *input, size_t input_len,
                            const int8_t *filter, size_t filter_len, const int32_t *bias,
                            size_t bias_len, const int8_t *output, size_t output_len);

#if KWS_USE_DSP
/* The DSP core (conv_core.c): out[p][o] for pixels [0, pixels) of input (n int8 each, stride
 * n) against the int8 filter rows (oc_n x n), output pixel stride oc_n, in the fastest mode
 * the layer's bias and activation allow; wq: scratch for two filter rows widened to int16
 * (4 * (n & ~3) bytes, 4-byte aligned). */
void kws_dot_s8(int32_t pixels, int32_t n, int32_t oc_n, const kws_act_t *act,
                const kws_requant_t *rq, const int8_t *input, const int8_t *filter,
                const int32_t *bias, int8_t *output, uint32_t *wq);

/* The scratch-free DSP path of conv2d and pointwise conv (conv_core.c), for a caller that
 * gives less scratch than the im2col / widened-row path needs: per output pixel and pair of
 * output channels, each kernel row's contiguous inputs against both filter rows, widened in
 * registers. */
void kws_conv_direct_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                        const kws_requant_t *rq, const int8_t *input, const int8_t *filter,
                        const int32_t *bias, int8_t *output);
#endif

#endif /* KWS_CONV_CORE_H */
