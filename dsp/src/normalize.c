/* Stage 2, normalize: block floating point.
 *   s = 28 - floor(log2(peak)) (0 when peak == 0), clamped to [-2, 28]
 *   p <<= s (or >>= -s, a floor shift); the peak then lies in [2^28, 2^29)
 * Mirror: normalize_stage. Here: s, and the zero padding of the FFT input from len to
 * padded_len; the shift itself is applied by the FFT's input gather (fft.c), which reads every
 * product once anyway. */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_normalize_process(int32_t *p, int32_t len, int32_t padded_len, uint32_t peak,
                          int32_t *shift)
{
    int32_t s = 0;
    int32_t n;
    if (p == NULL || shift == NULL) return KWS_ERR_NULL;
    if (len < 0 || padded_len < len) return KWS_ERR_SHORT_BUFFER;
    if (peak != 0u) {
        s = KWS_BLOCK_TARGET_BITS - (kws_bitlen32(peak) - 1);
        s = s < KWS_S_MIN ? KWS_S_MIN : (s > KWS_S_MAX ? KWS_S_MAX : s);
    }
    for (n = len; n < padded_len; n++) p[n] = 0;
    *shift = s;
    return KWS_OK;
}
