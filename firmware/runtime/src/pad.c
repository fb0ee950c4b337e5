/* pad.c - PAD / PADV2 of an int8 tensor of rank <= 4 with a constant (quantized) value. */
#include <string.h>

#include "kws_internal.h"

kws_status_t kws_pad_s8(const kws_dims4_t *in_dims, const kws_dims4_t *before,
                        const kws_dims4_t *after, int8_t pad_value,
                        const int8_t *input, size_t input_len,
                        int8_t *output, size_t output_len)
{
    if (in_dims == NULL || before == NULL || after == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    kws_dims4_t out;
    for (int i = 0; i < 4; ++i) {
        if (before->d[i] < 0 || after->d[i] < 0) {
            return KWS_ERR_BAD_CONFIG;
        }
        out.d[i] = before->d[i] + in_dims->d[i] + after->d[i];
    }
    const int64_t n_in = kws_dims4_count(in_dims), n_out = kws_dims4_count(&out);
    if (n_in < 0 || n_out < 0) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)n_in || output_len < (size_t)n_out) {
        return KWS_ERR_SHORT_BUFFER;
    }
    memset(output, pad_value, (size_t)n_out);
    const int32_t *d = in_dims->d;
    const size_t w3 = (size_t)d[3];
    for (int32_t i0 = 0; i0 < d[0]; ++i0)
        for (int32_t i1 = 0; i1 < d[1]; ++i1)
            for (int32_t i2 = 0; i2 < d[2]; ++i2) {
                const size_t o = (((size_t)(i0 + before->d[0]) * out.d[1] + i1 + before->d[1]) *
                                      out.d[2] + i2 + before->d[2]) * out.d[3] + before->d[3];
                const size_t x = (((size_t)i0 * d[1] + i1) * d[2] + i2) * w3;
                memcpy(output + o, input + x, w3);
            }
    return KWS_OK;
}
