/* reshape.c - reshape is a copy of the bytes (in place when the planner aliases the buffers). */
#include <string.h>

#include "kws_kernels.h"

kws_status_t kws_reshape_s8(const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (output_len < input_len) {
        return KWS_ERR_SHORT_BUFFER;
    }
    if (input != output) {
        memmove(output, input, input_len);
    }
    return KWS_OK;
}
