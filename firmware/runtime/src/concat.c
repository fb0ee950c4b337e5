/* concat.c - CONCATENATION of int8 tensors with one quantization: a copy, row by row. */
#include <string.h>

#include "kws_kernels.h"

kws_status_t kws_concat_s8(int32_t outer, int32_t num_inputs, const int8_t *const *inputs,
                           const size_t *input_lens, const int32_t *sizes,
                           int8_t *output, size_t output_len)
{
    if (inputs == NULL || input_lens == NULL || sizes == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (outer <= 0 || num_inputs <= 0) {
        return KWS_ERR_BAD_CONFIG;
    }
    size_t row = 0;
    for (int32_t i = 0; i < num_inputs; ++i) {
        if (inputs[i] == NULL) {
            return KWS_ERR_NULL;
        }
        if (sizes[i] < 0) {
            return KWS_ERR_BAD_CONFIG;
        }
        if (input_lens[i] < (size_t)outer * (size_t)sizes[i]) {
            return KWS_ERR_SHORT_BUFFER;
        }
        row += (size_t)sizes[i];
    }
    if (output_len < (size_t)outer * row) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (int32_t o = 0; o < outer; ++o) {
        int8_t *y = output + (size_t)o * row;
        for (int32_t i = 0; i < num_inputs; ++i) {
            memcpy(y, inputs[i] + (size_t)o * (size_t)sizes[i], (size_t)sizes[i]);
            y += sizes[i];
        }
    }
    return KWS_OK;
}
