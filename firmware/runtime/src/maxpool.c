/* maxpool.c - int8 MAX_POOL_2D, TFLite reference_integer_ops::MaxPool: the maximum over the
 * window's taps inside the input, clamped to the fused activation.
 *
 * Portable path: per output and channel, the loop over the taps. DSP path: channels four at a
 * time (adjacent in NHWC), per tap one word load and the lane-wise maximum (SSUB8 + SEL), the
 * clamp the same way against four copies of act_min / act_max, one word store; the channels
 * left over (in_c % 4) by the portable loop. A maximum is exact: the two paths agree bit for
 * bit. */
#include "kws_internal.h"
#include "kws_simd.h"

/* The four copies of an int8 value in one word. */
static inline uint32_t splat4(int32_t v) { return (uint32_t)(uint8_t)v * 0x01010101u; }

kws_status_t kws_maxpool_s8(const kws_conv_shape_t *s, int32_t act_min, int32_t act_max,
                            const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len)
{
    if (s == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (s->in_h <= 0 || s->in_w <= 0 || s->in_c <= 0 || s->out_h <= 0 || s->out_w <= 0 ||
        s->out_c != s->in_c || s->k_h <= 0 || s->k_w <= 0 || s->stride_h <= 0 ||
        s->stride_w <= 0 || s->pad_top < 0 || s->pad_left < 0 || act_min < -128 ||
        act_min > act_max || act_max > 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        output_len < (size_t)s->out_h * s->out_w * s->out_c) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const int32_t c_n = s->in_c;
    const int32_t c4 = KWS_USE_DSP ? c_n / 4 * 4 : 0; /* channels [0, c4): four at a time */
    const uint32_t lo4 = splat4(act_min), hi4 = splat4(act_max);
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t y0 = iy0 < 0 ? 0 : iy0;
        const int32_t y1 = iy0 + s->k_h > s->in_h ? s->in_h : iy0 + s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t x0 = ix0 < 0 ? 0 : ix0;
            const int32_t x1 = ix0 + s->k_w > s->in_w ? s->in_w : ix0 + s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * c_n;
            for (int32_t c = 0; c < c4; c += 4) {
                uint32_t m = splat4(-128);
                for (int32_t iy = y0; iy < y1; ++iy) {
                    const int8_t *x = input + ((size_t)iy * s->in_w + x0) * c_n + c;
                    for (int32_t ix = x0; ix < x1; ++ix, x += c_n) {
                        m = kws_max_s8x4(m, kws_read_u32(x));
                    }
                }
                kws_write_u32(y + c, kws_min_s8x4(kws_max_s8x4(m, lo4), hi4));
            }
            for (int32_t c = c4; c < c_n; ++c) {
                int32_t m = -128;
                for (int32_t iy = y0; iy < y1; ++iy) {
                    const int8_t *x = input + ((size_t)iy * s->in_w) * c_n + c;
                    for (int32_t ix = x0; ix < x1; ++ix) {
                        m = x[(size_t)ix * c_n] > m ? x[(size_t)ix * c_n] : m;
                    }
                }
                y[c] = (int8_t)kws_clamp(m, act_min, act_max);
            }
        }
    }
    return KWS_OK;
}
