/* fully_connected.c - int8 fully connected (batch 1), TFLite int8 semantics. The DSP path
 * folds the input offset into the bias and uses SXTB16 + SMLAD, four taps per step. */
#include "kws_internal.h"
#include "kws_simd.h"

kws_status_t kws_fully_connected_s8(int32_t num_in, int32_t num_out, const kws_act_t *act,
                                    const kws_requant_t *rq,
                                    const int8_t *input, size_t input_len,
                                    const int8_t *filter, size_t filter_len,
                                    const int32_t *bias, size_t bias_len,
                                    int8_t *output, size_t output_len)
{
    if (act == NULL || rq == NULL || input == NULL || filter == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (num_in <= 0 || num_out <= 0 || !kws_act_ok(act) || !kws_requant_ok(rq, num_out)) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)num_in || filter_len < (size_t)num_in * num_out ||
        output_len < (size_t)num_out || (bias != NULL && bias_len < (size_t)num_out)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (int32_t o = 0; o < num_out; ++o) {
        const int8_t *w = filter + (size_t)o * num_in;
        int32_t acc = bias ? bias[o] : 0; /* int32 */
        int32_t i = 0;
#if KWS_USE_DSP
        int32_t wsum = 0;
        for (int32_t j = 0; j < num_in; ++j) {
            wsum += w[j];
        }
        acc += act->input_offset * wsum;
        for (; i + 4 <= num_in; i += 4) {
            const uint32_t xv = kws_read_u32(input + i), wv = kws_read_u32(w + i);
            acc = kws_smlad(kws_sxtb16(xv), kws_sxtb16(wv), acc);
            acc = kws_smlad(kws_sxtb16_ror8(xv), kws_sxtb16_ror8(wv), acc);
        }
        for (; i < num_in; ++i) {
            acc += (int32_t)input[i] * w[i];
        }
#else
        for (; i < num_in; ++i) {
            acc += ((int32_t)input[i] + act->input_offset) * w[i];
        }
#endif
        output[o] = kws_output_s8(acc, rq, o, act);
    }
    return KWS_OK;
}
