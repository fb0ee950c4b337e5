/* fully_connected.c - int8 fully connected (batch 1), TFLite int8 semantics. The DSP path:
 * per four inputs, one word load widened by SXTB16 (lanes 0 2, 1 3) with the input offset
 * added (SADD16: |x + input_offset| <= 255 fits a lane); for inputs of up to
 * KWS_FC_WIDE_MAX values, widened once into a stack buffer and read four outputs at a time
 * (per four inputs LDRD, then per output one word load of weights, 2 SXTB16 and 2 SMLAD),
 * else shared by two outputs at a time. A streaming step runs its 1x1
 * convolutions on one time slice through this kernel (kws/export/streaming.py). */
#include "kws_internal.h"
#include "kws_simd.h"

/* Inputs up to which the four-output path widens the input once on the stack (2 bytes each). */
#define KWS_FC_WIDE_MAX 256

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
    int32_t o = 0;
#if KWS_USE_DSP
    const uint32_t off2 = ((uint32_t)(uint16_t)act->input_offset) * 0x00010001u;
    const int32_t n4 = num_in & ~3;
    if (num_in <= KWS_FC_WIDE_MAX && num_out >= 4) {
        /* the input widened once, with the offset added, as SXTB16 lane pairs per four
         * inputs: (x0 x2) (x1 x3) + input_offset; then per four outputs and four inputs one
         * LDRD and per output LDR + 2 SXTB16 + 2 SMLAD */
        uint32_t xw[KWS_FC_WIDE_MAX / 2];
        for (int32_t i = 0; i < n4; i += 4) {
            const uint32_t xv = kws_read_u32(input + i);
            xw[i / 2] = kws_sadd16(kws_sxtb16(xv), off2);
            xw[i / 2 + 1] = kws_sadd16(kws_sxtb16_ror8(xv), off2);
        }
        for (; o + 4 <= num_out; o += 4) {
            const int8_t *w0 = filter + (size_t)o * num_in;
            const int8_t *w1 = w0 + num_in, *w2 = w1 + num_in, *w3 = w2 + num_in;
            int32_t a0 = bias ? bias[o] : 0, a1 = bias ? bias[o + 1] : 0; /* int32 */
            int32_t a2 = bias ? bias[o + 2] : 0, a3 = bias ? bias[o + 3] : 0;
            const uint32_t *xp = xw;
            int32_t i = 0;
            for (; i < n4; i += 4, xp += 2) {
                const uint32_t xe = xp[0], xo = xp[1];
                uint32_t wv = kws_read_u32(w0 + i);
                a0 = kws_smlad(xe, kws_sxtb16(wv), a0);
                a0 = kws_smlad(xo, kws_sxtb16_ror8(wv), a0);
                wv = kws_read_u32(w1 + i);
                a1 = kws_smlad(xe, kws_sxtb16(wv), a1);
                a1 = kws_smlad(xo, kws_sxtb16_ror8(wv), a1);
                wv = kws_read_u32(w2 + i);
                a2 = kws_smlad(xe, kws_sxtb16(wv), a2);
                a2 = kws_smlad(xo, kws_sxtb16_ror8(wv), a2);
                wv = kws_read_u32(w3 + i);
                a3 = kws_smlad(xe, kws_sxtb16(wv), a3);
                a3 = kws_smlad(xo, kws_sxtb16_ror8(wv), a3);
            }
            for (; i < num_in; ++i) {
                const int32_t x = (int32_t)input[i] + act->input_offset;
                a0 += x * w0[i];
                a1 += x * w1[i];
                a2 += x * w2[i];
                a3 += x * w3[i];
            }
            output[o] = kws_output_s8(a0, rq, o, act);
            output[o + 1] = kws_output_s8(a1, rq, o + 1, act);
            output[o + 2] = kws_output_s8(a2, rq, o + 2, act);
            output[o + 3] = kws_output_s8(a3, rq, o + 3, act);
        }
    }
    for (; o + 2 <= num_out; o += 2) {
        const int8_t *w0 = filter + (size_t)o * num_in, *w1 = w0 + num_in;
        int32_t a0 = bias ? bias[o] : 0, a1 = bias ? bias[o + 1] : 0; /* int32 */
        int32_t i = 0;
        for (; i < n4; i += 4) {
            const uint32_t xv = kws_read_u32(input + i);
            const uint32_t xe = kws_sadd16(kws_sxtb16(xv), off2);      /* x0 x2 + offset */
            const uint32_t xo = kws_sadd16(kws_sxtb16_ror8(xv), off2); /* x1 x3 + offset */
            uint32_t wv = kws_read_u32(w0 + i);
            a0 = kws_smlad(xe, kws_sxtb16(wv), a0);
            a0 = kws_smlad(xo, kws_sxtb16_ror8(wv), a0);
            wv = kws_read_u32(w1 + i);
            a1 = kws_smlad(xe, kws_sxtb16(wv), a1);
            a1 = kws_smlad(xo, kws_sxtb16_ror8(wv), a1);
        }
        for (; i < num_in; ++i) {
            const int32_t x = (int32_t)input[i] + act->input_offset;
            a0 += x * w0[i];
            a1 += x * w1[i];
        }
        output[o] = kws_output_s8(a0, rq, o, act);
        output[o + 1] = kws_output_s8(a1, rq, o + 1, act);
    }
#endif
    for (; o < num_out; ++o) {
        const int8_t *w = filter + (size_t)o * num_in;
        int32_t acc = bias ? bias[o] : 0; /* int32 */
        for (int32_t i = 0; i < num_in; ++i) {
            acc += ((int32_t)input[i] + act->input_offset) * w[i];
        }
        output[o] = kws_output_s8(acc, rq, o, act);
    }
    return KWS_OK;
}
