/* Stage 8, project: DCT (or identity for log-mel) and int8 quantization. Mirror: project_stage.
 *   acc = sum_j C[i, j] L[j]   (Q(16 + Q_C), int64: |L| < 2^23, |C| <= 2^15, <= 128 terms)
 *   q = clamp((acc + B) >> (16 + Q_C), -128, 127),  B = zp * 2^(16+Q_C) + 2^(15+Q_C) */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_project_init(kws_project_state *st, const int16_t *proj, int32_t proj_len,
                     int32_t num_outputs, int32_t num_mel, int32_t proj_q, int32_t zero_point)
{
    int32_t shift = 16 + proj_q;
    if (st == NULL || proj == NULL) return KWS_ERR_NULL;
    if (num_outputs < 1 || num_outputs > KWS_MEL_MAX || num_mel < 1 || num_mel > KWS_MEL_MAX)
        return KWS_ERR_BAD_CONFIG;
    if (proj_q < -15 || proj_q > 24 || zero_point < -128 || zero_point > 127)
        return KWS_ERR_BAD_CONFIG;
    if (proj_len != num_outputs * num_mel) return KWS_ERR_BAD_TABLE;
    st->proj = proj;
    st->num_outputs = num_outputs;
    st->num_mel = num_mel;
    st->proj_q = proj_q;
    st->bias = (int64_t)zero_point * ((int64_t)1 << shift) + ((int64_t)1 << (shift - 1));
    return KWS_OK;
}

int kws_project_process(const kws_project_state *st, const int32_t *log_mel, int32_t log_mel_len,
                        int8_t *out, int32_t out_len)
{
    const int16_t *c;
    int32_t i, j, shift;
    if (st == NULL || log_mel == NULL || out == NULL) return KWS_ERR_NULL;
    if (log_mel_len < st->num_mel || out_len < st->num_outputs) return KWS_ERR_SHORT_BUFFER;
    shift = 16 + st->proj_q;
    c = st->proj;
    for (i = 0; i < st->num_outputs; i++) {
        int64_t acc = st->bias;
        for (j = 0; j < st->num_mel; j++) acc += (int64_t)c[j] * log_mel[j]; /* SMLAL */
        c += st->num_mel;
        out[i] = kws_sat_s8(acc >> shift);
    }
    return KWS_OK;
}
