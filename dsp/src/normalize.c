/* Stage 2, normalize: block floating point.
 *   s = 28 - floor(log2(peak)) (0 when peak == 0), clamped to [-2, 28]
 *   p <<= s (or >>= -s, a floor shift); the peak then lies in [2^28, 2^29)
 * Mirror: normalize_stage. The FFT input is zero-padded from len to padded_len here. */
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
    if (s > 0) {
        for (n = 0; n < len; n++) p[n] = kws_shl32(p[n], s); /* Q30+s, |p| < 2^29 */
    } else if (s < 0) {
        for (n = 0; n < len; n++) p[n] >>= -s; /* floor shift */
    }
    for (n = len; n < padded_len; n++) p[n] = 0;
    *shift = s;
    return KWS_OK;
}
