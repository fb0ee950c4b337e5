/* mean.c - int8 MEAN over any dimensions, TFLite's integer QuantizedMeanOrSum bit for bit:
 * per output, the int32 sum of the int8 inputs of its reduced dimensions, minus
 * input_zero_point * count, requantized (1 / count folded into the multiplier by the exporter),
 * plus output_zero_point, saturated to int8. */
#include "kws_internal.h"

kws_status_t kws_mean_s8(const kws_mean_params_t *p, const kws_dims4_t *in_dims,
                         uint32_t axis_mask, const int8_t *input, size_t input_len,
                         int8_t *output, size_t output_len)
{
    if (p == NULL || in_dims == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const int64_t n_in = kws_dims4_count(in_dims);
    if (n_in < 0 || axis_mask == 0 || axis_mask > 15 || !kws_shift_ok(p->multiplier, p->shift) ||
        p->input_zero_point < -128 || p->input_zero_point > 127 ||
        p->output_zero_point < -128 || p->output_zero_point > 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    int32_t kept[4], red[4], stride[4];
    int32_t s = 1, count = 1;
    for (int i = 3; i >= 0; --i) {
        stride[i] = s;
        s *= in_dims->d[i];
        const int r = (axis_mask >> i) & 1u;
        kept[i] = r ? 1 : in_dims->d[i];
        red[i] = r ? in_dims->d[i] : 1;
        count *= red[i];
    }
    if (input_len < (size_t)n_in || output_len < (size_t)(n_in / count)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const int32_t zp_sum = p->input_zero_point * count;
    int8_t *y = output;
    for (int32_t a0 = 0; a0 < kept[0]; ++a0)
        for (int32_t a1 = 0; a1 < kept[1]; ++a1)
            for (int32_t a2 = 0; a2 < kept[2]; ++a2)
                for (int32_t a3 = 0; a3 < kept[3]; ++a3) {
                    const int8_t *x0 = input + a0 * stride[0] + a1 * stride[1] +
                                       a2 * stride[2] + a3 * stride[3];
                    int32_t sum = 0;
                    for (int32_t r0 = 0; r0 < red[0]; ++r0)
                        for (int32_t r1 = 0; r1 < red[1]; ++r1)
                            for (int32_t r2 = 0; r2 < red[2]; ++r2) {
                                const int8_t *x = x0 + r0 * stride[0] + r1 * stride[1] +
                                                  r2 * stride[2];
                                for (int32_t r3 = 0; r3 < red[3]; ++r3) {
                                    sum += x[r3 * stride[3]];
                                }
                            }
                    const int32_t v = kws_requantize(sum - zp_sum, p->multiplier, p->shift) +
                                      p->output_zero_point;
                    *y++ = (int8_t)kws_clamp(v, -128, 127);
                }
    return KWS_OK;
}
