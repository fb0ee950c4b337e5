/* Stage 6, mel: mel[j] = sum_k W[j, k] mag[k], W sparse Q15 (uint16), exact in uint64
 * (mag < 2^31, at most 1025 bins: < 2^57). Mirror: mel_stage. */
#include "kws_frontend.h"

int kws_mel_init(kws_mel_state *st, int32_t num_mel, int32_t num_bins, const uint16_t *start,
                 const uint16_t *len, int32_t bands_len, const uint16_t *weights,
                 int32_t weights_len)
{
    int32_t j, total = 0, lo = num_bins, hi = 0;
    if (st == NULL || start == NULL || len == NULL || weights == NULL) return KWS_ERR_NULL;
    if (num_mel < 1 || num_mel > KWS_MEL_MAX || num_bins < 1) return KWS_ERR_BAD_CONFIG;
    if (bands_len != num_mel) return KWS_ERR_BAD_TABLE;
    for (j = 0; j < num_mel; j++) {
        int32_t s = start[j], n = len[j];
        if (s + n > num_bins) return KWS_ERR_BAD_TABLE; /* band inside the bins */
        total += n;
        if (n > 0) {
            lo = s < lo ? s : lo;
            hi = s + n > hi ? s + n : hi;
        }
    }
    if (total != weights_len) return KWS_ERR_BAD_TABLE;
    st->num_mel = num_mel;
    st->start = start;
    st->len = len;
    st->weights = weights;
    st->bin_lo = lo < hi ? lo : 0;
    st->bin_hi = lo < hi ? hi : 0;
    return KWS_OK;
}

int kws_mel_process(const kws_mel_state *st, const uint32_t *mag, int32_t mag_len,
                    uint64_t *mel, int32_t mel_len)
{
    const uint16_t *w;
    int32_t j;
    if (st == NULL || mag == NULL || mel == NULL) return KWS_ERR_NULL;
    if (mag_len < st->bin_hi || mel_len < st->num_mel) return KWS_ERR_SHORT_BUFFER;
    w = st->weights;
    for (j = 0; j < st->num_mel; j++) {
        const uint32_t *m = mag + st->start[j];
        int32_t n = st->len[j], k;
        uint64_t acc = 0u;
        for (k = 0; k < n; k++) acc += (uint64_t)m[k] * w[k]; /* UMLAL; Q15 * |X| */
        w += n;
        mel[j] = acc;
    }
    return KWS_OK;
}
