/* Stage 1, window: p[n] = (w[n] * x[n]) >> 16, Q31 * int16 = Q46, floor >> 16 -> Q30
 * (|p| <= 2^30; one SMULWB / SMULWT on the M4).
 * Mirror: window_stage in kws/frontend/fixed.py. The products are not stored (that would take an
 * int32 buffer of N words of state): this pass only finds their peak for normalize, and the FFT's
 * input gather (fft.c) recomputes each product, one multiply, as it reads it. The peak is the OR of all |p|:
 * it has the same bit length as max |p| (normalize needs only that), for 3 instructions a sample
 * (EOR, SUB with ASR #31 operands, ORR) instead of an abs and a compare-select. */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_window_init(kws_window_state *st, const int32_t *coeffs, int32_t len)
{
    if (st == NULL || coeffs == NULL) return KWS_ERR_NULL;
    if (len < 1 || len > KWS_FFT_MAX) return KWS_ERR_BAD_CONFIG;
    st->coeffs = coeffs; /* any int32 is safe: |(w x) >> 16| <= 2^46 / 2^16 = 2^30 */
    st->len = len;
    return KWS_OK;
}

int kws_window_process(const kws_window_state *st, const int16_t *in, int32_t in_len,
                       uint32_t *peak)
{
    const int32_t *w;
    uint32_t bits = 0u;
    int32_t n, len;
    if (st == NULL || in == NULL || peak == NULL) return KWS_ERR_NULL;
    len = st->len;
    if (in_len < len) return KWS_ERR_SHORT_BUFFER;
    w = st->coeffs;
    n = 0;
#if defined(__ARM_FEATURE_DSP)
    /* two samples per step: one 32-bit load of x, SMULWB + SMULWT on the M4
     * (elsewhere the plain loop below vectorizes better) */
    for (; n + 1 < len; n += 2) {
        int32_t xx = kws_load_pair(in + n);
        int32_t p0 = kws_mulwb(w[n], xx);     /* Q31 * x[n] >> 16: Q30 */
        int32_t p1 = kws_mulwt(w[n + 1], xx); /* Q31 * x[n+1] >> 16: Q30 */
        uint32_t s0 = (uint32_t)(p0 >> 31), s1 = (uint32_t)(p1 >> 31);      /* 0 or all ones */
        bits |= (((uint32_t)p0 ^ s0) - s0) | (((uint32_t)p1 ^ s1) - s1);     /* |p0| | |p1| */
    }
#endif
    for (; n < len; n++) {
        int32_t p = kws_mulw(w[n], in[n]); /* Q31 * int16 >> 16: Q30 */
        uint32_t sign = (uint32_t)(p >> 31);
        bits |= ((uint32_t)p ^ sign) - sign;
    }
    *peak = bits;
    return KWS_OK;
}
