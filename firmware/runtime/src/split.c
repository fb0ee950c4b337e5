/* split.c - SPLIT / SPLIT_V of an int8 tensor: each output copies its slice of every row. */
#include <string.h>

#include "kws_kernels.h"

kws_status_t kws_split_s8(int32_t outer, const int8_t *input, size_t input_len,
                          int32_t num_outputs, int8_t *const *outputs,
                          const size_t *output_lens, const int32_t *sizes)
{
    if (input == NULL || outputs == NULL || output_lens == NULL || sizes == NULL) {
        return KWS_ERR_NULL;
    }
    if (outer <= 0 || num_outputs <= 0) {
        return KWS_ERR_BAD_CONFIG;
    }
    size_t row = 0;
    for (int32_t i = 0; i < num_outputs; ++i) {
        if (outputs[i] == NULL) {
            return KWS_ERR_NULL;
        }
        if (sizes[i] < 0) {
            return KWS_ERR_BAD_CONFIG;
        }
        if (output_lens[i] < (size_t)outer * (size_t)sizes[i]) {
            return KWS_ERR_SHORT_BUFFER;
        }
        row += (size_t)sizes[i];
    }
    if (input_len < (size_t)outer * row) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (int32_t o = 0; o < outer; ++o) {
        const int8_t *x = input + (size_t)o * row;
        for (int32_t i = 0; i < num_outputs; ++i) {
            memcpy(outputs[i] + (size_t)o * (size_t)sizes[i], x, (size_t)sizes[i]);
            x += sizes[i];
        }
    }
    return KWS_OK;
}
