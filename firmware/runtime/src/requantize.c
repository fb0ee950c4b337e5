/* requantize.c - QUANTIZE between int8 and uint8 tensors, TFLite reference_ops::Requantize:
 * requantize(x - input_zero_point) + output_zero_point, saturated to the output type. With
 * equal scales (multiplier 2^30, shift 1) and zero points 128 apart this is TFLite's XOR 0x80
 * fast path, which the general formula reproduces exactly. */
#include "kws_internal.h"

/* KWS_OK unless the requantization or the zero points (each in its tensor's range) are bad. */
static kws_status_t check(int32_t multiplier, int32_t shift, int32_t input_zero_point,
                          int32_t in_lo, int32_t output_zero_point, int32_t out_lo,
                          size_t input_len, size_t output_len)
{
    if (!kws_shift_ok(multiplier, shift) || input_zero_point < in_lo ||
        input_zero_point > in_lo + 255 || output_zero_point < out_lo ||
        output_zero_point > out_lo + 255) {
        return KWS_ERR_BAD_CONFIG;
    }
    return output_len < input_len ? KWS_ERR_SHORT_BUFFER : KWS_OK;
}

static inline int32_t rq(int32_t x, int32_t input_zero_point, int32_t multiplier,
                         int32_t shift, int32_t output_zero_point, int32_t out_lo)
{
    const int32_t y = kws_requantize(x - input_zero_point, multiplier, shift) +
                      output_zero_point;
    return kws_clamp(y, out_lo, out_lo + 255);
}

kws_status_t kws_requantize_s8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                               int32_t output_zero_point, const int8_t *input,
                               size_t input_len, int8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const kws_status_t st = check(multiplier, shift, input_zero_point, -128,
                                  output_zero_point, -128, input_len, output_len);
    if (st != KWS_OK) {
        return st;
    }
    for (size_t i = 0; i < input_len; ++i) {
        output[i] = (int8_t)rq(input[i], input_zero_point, multiplier, shift,
                               output_zero_point, -128);
    }
    return KWS_OK;
}

kws_status_t kws_requantize_s8_u8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                                  int32_t output_zero_point, const int8_t *input,
                                  size_t input_len, uint8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const kws_status_t st = check(multiplier, shift, input_zero_point, -128,
                                  output_zero_point, 0, input_len, output_len);
    if (st != KWS_OK) {
        return st;
    }
    for (size_t i = 0; i < input_len; ++i) {
        output[i] = (uint8_t)rq(input[i], input_zero_point, multiplier, shift,
                                output_zero_point, 0);
    }
    return KWS_OK;
}

kws_status_t kws_requantize_u8_s8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                                  int32_t output_zero_point, const uint8_t *input,
                                  size_t input_len, int8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const kws_status_t st = check(multiplier, shift, input_zero_point, 0,
                                  output_zero_point, -128, input_len, output_len);
    if (st != KWS_OK) {
        return st;
    }
    for (size_t i = 0; i < input_len; ++i) {
        output[i] = (int8_t)rq(input[i], input_zero_point, multiplier, shift,
                               output_zero_point, -128);
    }
    return KWS_OK;
}
