/* Stage 1, window: p[n] = x[n] * w[n], int16 * Q15 -> Q30 (exact, |p| <= 2^30).
 * Mirror: window_stage in kws/frontend/fixed.py. Also returns, for normalize, the OR of all |p|:
 * it has the same bit length as max |p| (normalize needs only that), for 3 instructions a sample
 * (EOR, SUB with ASR #31 operands, ORR) instead of an abs and a compare-select. */
#include "kws_frontend.h"

int kws_window_init(kws_window_state *st, const int16_t *coeffs, int32_t len)
{
    if (st == NULL || coeffs == NULL) return KWS_ERR_NULL;
    if (len < 1 || len > KWS_FFT_MAX) return KWS_ERR_BAD_CONFIG;
    st->coeffs = coeffs; /* any int16 is safe: |x * w| <= 2^30 */
    st->len = len;
    return KWS_OK;
}

int kws_window_process(const kws_window_state *st, const int16_t *in, int32_t in_len,
                       int32_t *out, int32_t out_len, uint32_t *peak)
{
    const int16_t *w;
    uint32_t bits = 0u;
    int32_t n;
    if (st == NULL || in == NULL || out == NULL || peak == NULL) return KWS_ERR_NULL;
    if (in_len < st->len || out_len < st->len) return KWS_ERR_SHORT_BUFFER;
    w = st->coeffs;
    for (n = 0; n < st->len; n++) {
        int32_t p = (int32_t)in[n] * (int32_t)w[n]; /* Q30 */
        uint32_t sign = (uint32_t)(p >> 31);         /* 0 or all ones */
        out[n] = p;
        bits |= ((uint32_t)p ^ sign) - sign;          /* |p| */
    }
    *peak = bits;
    return KWS_OK;
}
