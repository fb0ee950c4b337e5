/* lut.c - an int8 -> int8 function by table (LOGISTIC: TFLite's integer arithmetic evaluated
 * by the exporter on all 256 inputs). input == output is allowed. */
#include "kws_kernels.h"

kws_status_t kws_lut_s8(const int8_t *table, size_t table_len,
                        const int8_t *input, size_t input_len,
                        int8_t *output, size_t output_len)
{
    if (table == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (table_len < 256 || output_len < input_len) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (size_t i = 0; i < input_len; ++i) {
        output[i] = table[input[i] + 128];
    }
    return KWS_OK;
}
