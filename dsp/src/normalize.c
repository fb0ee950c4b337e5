/* Stage 2, normalize: block floating point.
 *   s = 28 - floor(log2(peak)) (0 when peak == 0), clamped to [-2, 28]
 *   p <<= s (or >>= -s, a floor shift); the peak then lies in [2^28, 2^29)
 * Mirror: normalize_stage. Here: s only; the products, the shift and the zero padding
 * from len to N are all produced by the FFT's input gather (fft.c), which reads every sample once
 * anyway. */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_normalize_process(uint32_t peak, int32_t *shift)
{
    int32_t s = 0;
    if (shift == NULL) return KWS_ERR_NULL;
    if (peak != 0u) {
        s = KWS_BLOCK_TARGET_BITS - (kws_bitlen32(peak) - 1);
        s = s < KWS_S_MIN ? KWS_S_MIN : (s > KWS_S_MAX ? KWS_S_MAX : s);
    }
    *shift = s;
    return KWS_OK;
}
