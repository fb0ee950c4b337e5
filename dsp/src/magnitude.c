/* Stage 5, magnitude: |X| with 16 significant bits. Mirror: magnitude_stage.
 *   P = re^2 + im^2            (uint64, < 2^62)
 *   r = max(0, (bitlen(P) - 31) / 2)   so that P >> 2r < 2^32
 *   mag = isqrt(P >> 2r) << r  (exact floor square root) */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_magnitude_process(const int32_t *x, int32_t x_len, int32_t bin_lo, int32_t bin_hi,
                          uint32_t *mag, int32_t mag_len)
{
    int32_t k;
    if (x == NULL || mag == NULL) return KWS_ERR_NULL;
    if (bin_lo < 0 || bin_hi < bin_lo) return KWS_ERR_BAD_CONFIG;
    if (x_len < 2 * bin_hi || mag_len < bin_hi) return KWS_ERR_SHORT_BUFFER;
    for (k = bin_lo; k < bin_hi; k++) mag[k] = kws_mag32(x[2 * k], x[2 * k + 1]);
    return KWS_OK;
}
