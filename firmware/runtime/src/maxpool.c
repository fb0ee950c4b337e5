/* maxpool.c - int8 MAX_POOL_2D, TFLite reference_integer_ops::MaxPool: the maximum over the
 * window's taps inside the input, clamped to the fused activation. */
#include "kws_internal.h"

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
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t y0 = iy0 < 0 ? 0 : iy0;
        const int32_t y1 = iy0 + s->k_h > s->in_h ? s->in_h : iy0 + s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t x0 = ix0 < 0 ? 0 : ix0;
            const int32_t x1 = ix0 + s->k_w > s->in_w ? s->in_w : ix0 + s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * c_n;
            for (int32_t c = 0; c < c_n; ++c) {
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
