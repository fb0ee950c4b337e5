/* requantize.c - QUANTIZE int8 -> int8, TFLite reference_ops::Requantize:
 * requantize(x - input_zero_point) + output_zero_point, saturated to int8. */
#include "kws_internal.h"

kws_status_t kws_requantize_s8(int32_t input_zero_point, int32_t multiplier, int32_t shift,
                               int32_t output_zero_point, const int8_t *input,
                               size_t input_len, int8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (!kws_shift_ok(multiplier, shift) || input_zero_point < -128 || input_zero_point > 127 ||
        output_zero_point < -128 || output_zero_point > 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (output_len < input_len) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (size_t i = 0; i < input_len; ++i) {
        const int32_t y = kws_requantize((int32_t)input[i] - input_zero_point, multiplier,
                                         shift) + output_zero_point;
        output[i] = (int8_t)kws_clamp(y, -128, 127);
    }
    return KWS_OK;
}
