/* pool.c - int8 average pool, TFLite reference_integer_ops::AveragePool semantics.
 *
 * DSP path (windows of at most 256 pixels, so that 16-bit lane sums of int8 cannot wrap:
 * 256 * 128 = 32768 fits as -32768, 256 * 127 < 32767): four channels at a time, one word load
 * per pixel and SXTAB16 / SXTAB16 ROR 8 into two words of 16-bit lane sums (channels 0 2 and
 * 1 3); then the portable rounding division. */
#include "kws_internal.h"
#include "kws_simd.h"

/* TFLite's rounding of acc / count: to nearest, ties away from zero (C division truncates). */
static inline int8_t avg_out(int32_t acc, int32_t count, int32_t act_min, int32_t act_max)
{
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return (int8_t)kws_clamp(acc, act_min, act_max);
}

kws_status_t kws_avgpool_s8(const kws_conv_shape_t *s, int32_t act_min, int32_t act_max,
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
            const int32_t count = (y1 - y0) * (x1 - x0);
            if (count <= 0) {
                return KWS_ERR_BAD_CONFIG; /* TFLite fails the same way */
            }
            int32_t c = 0;
#if KWS_USE_DSP
            if (count <= 256) {
                for (; c + 4 <= c_n; c += 4) {
                    uint32_t s02 = 0, s13 = 0; /* int16 lanes: channels c, c+2 and c+1, c+3 */
                    for (int32_t iy = y0; iy < y1; ++iy) {
                        const int8_t *x = input + ((size_t)iy * s->in_w + x0) * c_n + c;
                        for (int32_t ix = x0; ix < x1; ++ix, x += c_n) {
                            const uint32_t v = kws_read_u32(x);
                            s02 = kws_sxtab16(s02, v);
                            s13 = kws_sxtab16_ror8(s13, v);
                        }
                    }
                    int8_t *y = output + ((size_t)oy * s->out_w + ox) * c_n + c;
                    y[0] = avg_out((int16_t)(s02 & 0xFFFFu), count, act_min, act_max);
                    y[1] = avg_out((int16_t)(s13 & 0xFFFFu), count, act_min, act_max);
                    y[2] = avg_out((int16_t)(s02 >> 16), count, act_min, act_max);
                    y[3] = avg_out((int16_t)(s13 >> 16), count, act_min, act_max);
                }
            }
#endif
            for (; c < c_n; ++c) {
                int32_t acc = 0; /* sum of int8: int32 */
                for (int32_t iy = y0; iy < y1; ++iy) {
                    const int8_t *x = input + ((size_t)iy * s->in_w) * c_n + c;
                    for (int32_t ix = x0; ix < x1; ++ix) {
                        acc += x[(size_t)ix * c_n];
                    }
                }
                output[((size_t)oy * s->out_w + ox) * c_n + c] =
                    avg_out(acc, count, act_min, act_max);
            }
        }
    }
    return KWS_OK;
}

/* ---- running average pool along time (streaming step) ---- */

static int running_shape_ok(const kws_conv_shape_t *s)
{
    return s->in_h > 0 && s->in_w > 0 && s->in_c > 0 && s->out_c == s->in_c &&
           s->k_h == s->in_h && s->out_h == 1 && s->pad_top == 0 && s->stride_h == 1 &&
           s->k_w > 0 && s->stride_w > 0 && s->pad_left >= 0 && s->out_w > 0 &&
           /* every output column sees at least one input column */
           s->k_w > s->pad_left && (s->out_w - 1) * s->stride_w - s->pad_left < s->in_w;
}

size_t kws_avgpool_running_get_state_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !running_shape_ok(shape)) {
        return 0;
    }
    const size_t slice = (size_t)shape->in_w * shape->in_c;
    /* head, int32 sums, ring of k slices; rounded up to a word */
    return (sizeof(uint32_t) + slice * sizeof(int32_t) + (size_t)shape->in_h * slice + 3u) &
           ~(size_t)3u;
}

kws_status_t kws_avgpool_running_s8(void *state, size_t state_len, const kws_conv_shape_t *shape,
                                    int32_t act_min, int32_t act_max,
                                    const int8_t *newest, size_t newest_len,
                                    int8_t *output, size_t output_len)
{
    if (state == NULL || shape == NULL || newest == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const kws_conv_shape_t *s = shape;
    if (!running_shape_ok(s) || act_min < -128 || act_min > act_max || act_max > 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    const int32_t c_n = s->in_c;
    const size_t slice = (size_t)s->in_w * c_n;
    if (state_len < kws_avgpool_running_get_state_size(s) || newest_len < slice ||
        output_len < (size_t)s->out_w * c_n) {
        return KWS_ERR_SHORT_BUFFER;
    }
    uint32_t *head = (uint32_t *)state;
    int32_t *sums = (int32_t *)(head + 1); /* per column and channel: sum of the ring (int32) */
    int8_t *ring = (int8_t *)(sums + slice);
    if (*head >= (uint32_t)s->in_h) {
        return KWS_ERR_BAD_CONFIG; /* not a state of this shape */
    }
    int8_t *oldest = ring + (size_t)*head * slice; /* leaves the window; the newest takes its slot */
    *head = *head + 1u == (uint32_t)s->in_h ? 0u : *head + 1u;
    if (s->in_w == 1) { /* one column (out_w 1): update and average in one pass */
        const int32_t count = s->in_h;
        for (int32_t c = 0; c < c_n; ++c) {
            const int32_t acc = sums[c] + newest[c] - oldest[c];
            sums[c] = acc;
            oldest[c] = newest[c];
            output[c] = avg_out(acc, count, act_min, act_max);
        }
        return KWS_OK;
    }
    for (size_t j = 0; j < slice; ++j) {
        sums[j] += (int32_t)newest[j] - oldest[j];
        oldest[j] = newest[j];
    }
    for (int32_t ox = 0; ox < s->out_w; ++ox) {
        const int32_t ix0 = ox * s->stride_w - s->pad_left;
        const int32_t x0 = ix0 < 0 ? 0 : ix0;
        const int32_t x1 = ix0 + s->k_w > s->in_w ? s->in_w : ix0 + s->k_w;
        const int32_t count = (x1 - x0) * s->in_h; /* > 0: running_shape_ok */
        for (int32_t c = 0; c < c_n; ++c) {
            int32_t acc = 0; /* int32, as TFLite's */
            for (int32_t x = x0; x < x1; ++x) {
                acc += sums[(size_t)x * c_n + c];
            }
            output[(size_t)ox * c_n + c] = avg_out(acc, count, act_min, act_max);
        }
    }
    return KWS_OK;
}
