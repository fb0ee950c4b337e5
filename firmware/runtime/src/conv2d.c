/*
 * conv2d.c - int8 conv2d, TFLite int8 semantics (kws_kernels.h).
 *
 * Portable path: the reference loops. DSP path: blocks of output pixels' receptive fields are
 * copied into int8 im2col columns (n = k_h * k_w * in_c) in scratch, padded with
 * -input_offset, then the shared dot core (conv_core.c) runs on them; with less scratch than
 * two columns and the widened filter rows (none at all included), the scratch-free direct
 * path of conv_core.c.
 */
#include "conv_core.h"

/* im2col bytes of conv2d's DSP path: at most KWS_CONV_COL_BYTES per block of pixels (at
 * least two pixels per block). */
#define KWS_CONV_COL_BYTES 8192

/* Pixels per im2col block of conv2d's DSP path (even unless it is all of them). */
static int32_t conv_block_pixels(const kws_conv_shape_t *s)
{
    const int32_t kk = s->k_h * s->k_w * s->in_c, pixels = s->out_h * s->out_w;
    if ((int64_t)kk * pixels <= KWS_CONV_COL_BYTES) {
        return pixels;
    }
    const int32_t b = (KWS_CONV_COL_BYTES / kk) & ~1;
    return b < 2 ? 2 : b;
}

size_t kws_conv2d_s8_get_min_buffer_size(const kws_conv_shape_t *shape)
{
    (void)shape; /* any length: below the im2col path's least, the direct path needs none */
    return 0;
}

size_t kws_conv2d_s8_get_buffer_size(const kws_conv_shape_t *shape)
{
    if (shape == NULL || !KWS_USE_DSP || !kws_shape_ok(shape)) {
        return 0;
    }
    /* two filter rows widened to int16 (kk rounded down to a multiple of 4), then one block
     * of im2col columns of kk int8 */
    const size_t kk = (size_t)shape->k_h * shape->k_w * shape->in_c;
    return 4 * (kk & ~(size_t)3) + kk * (size_t)conv_block_pixels(shape);
}

#if KWS_USE_DSP
/* Pixels per im2col block with scratch_len bytes of scratch: the preferred block, or fewer
 * (an even count >= 2) when the caller gives less (0 if not even two columns fit). */
static int32_t conv_block_fit(const kws_conv_shape_t *s, size_t scratch_len)
{
    const size_t kk = (size_t)s->k_h * s->k_w * s->in_c, rows = 4 * (kk & ~(size_t)3);
    const int32_t pixels = s->out_h * s->out_w, best = conv_block_pixels(s);
    const size_t fit = scratch_len < rows ? 0 : (scratch_len - rows) / kk;
    if (fit >= (size_t)best) {
        return best;
    }
    const int32_t need = pixels < 2 ? pixels : 2;
    return fit < (size_t)need ? 0 : (int32_t)(fit & ~(size_t)1);
}

/* im2col of output pixels [p0, p0 + count): pixel p's column at col + (p - p0) * kk holds its
 * receptive field in filter order (ky, kx, ic), -input_offset where it is padding. */
static void im2col_s8(const kws_conv_shape_t *s, int32_t input_offset, const int8_t *input,
                      int32_t p0, int32_t count, int8_t *col)
{
    const int32_t cin = s->in_c, row = s->k_w * cin;
    const int8_t pad = (int8_t)(-input_offset); /* in -128..127 */
    for (int32_t p = p0; p < p0 + count; ++p) {
        const int32_t oy = p / s->out_w, ox = p % s->out_w;
        const int32_t iy0 = oy * s->stride_h - s->pad_top, ix0 = ox * s->stride_w - s->pad_left;
        /* kernel columns [kx0, kx1) are inside the input on every row that is */
        const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
        const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
        const int32_t lead = kx0 * cin, run = (kx1 - kx0) * cin;
        for (int32_t ky = 0; ky < s->k_h; ++ky, col += row) {
            const int32_t iy = iy0 + ky;
            if (iy < 0 || iy >= s->in_h) {
                for (int32_t t = 0; t < row; ++t) {
                    col[t] = pad;
                }
                continue;
            }
            const int8_t *x = input + ((size_t)iy * s->in_w + ix0 + kx0) * cin;
            int32_t t = 0;
            for (; t < lead; ++t) {
                col[t] = pad;
            }
            for (int32_t i = 0; i < run; ++i) {
                col[t + i] = x[i];
            }
            for (t += run; t < row; ++t) {
                col[t] = pad;
            }
        }
    }
}
#endif

kws_status_t kws_conv2d_s8(const kws_conv_shape_t *s, const kws_act_t *act,
                           const kws_requant_t *rq,
                           const int8_t *input, size_t input_len,
                           const int8_t *filter, size_t filter_len,
                           const int32_t *bias, size_t bias_len,
                           int8_t *output, size_t output_len,
                           void *scratch, size_t scratch_len)
{
    kws_status_t st = kws_conv_check(s, act, rq, input, input_len, filter, filter_len, bias,
                                     bias_len, output, output_len);
    if (st != KWS_OK) {
        return st;
    }
#if KWS_USE_DSP
    /* blocks of im2col columns after the two widened filter rows (as many columns as the
     * scratch holds, up to the preferred block), then the DSP core; without room for two
     * columns, the direct path */
    const int32_t block = scratch == NULL ? 0 : conv_block_fit(s, scratch_len);
    if (block == 0) {
        kws_conv_direct_s8(s, act, rq, input, filter, bias, output);
        return KWS_OK;
    }
    const int32_t kk = s->k_h * s->k_w * s->in_c, pixels = s->out_h * s->out_w;
    uint32_t *wq = (uint32_t *)scratch; /* 4-byte aligned */
    int8_t *col = (int8_t *)scratch + 4 * (size_t)(kk & ~3);
    for (int32_t p = 0; p < pixels; p += block) {
        const int32_t count = pixels - p < block ? pixels - p : block;
        im2col_s8(s, act->input_offset, input, p, count, col);
        kws_dot_s8(count, kk, s->out_c, act, rq, col, filter, bias,
                   output + (size_t)p * s->out_c, wq);
    }
#else
    const int32_t cin = s->in_c;
    (void)scratch;
    (void)scratch_len;
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            const int32_t run = (kx1 - kx0) * cin; /* contiguous taps of one kernel row */
            for (int32_t o = 0; o < s->out_c; ++o) {
                int32_t acc = bias ? bias[o] : 0; /* int32 */
                for (int32_t ky = ky0; ky < ky1; ++ky) {
                    const int8_t *x = input + ((size_t)(iy0 + ky) * s->in_w + ix0 + kx0) * cin;
                    const int8_t *w = filter + (((size_t)o * s->k_h + ky) * s->k_w + kx0) * cin;
                    for (int32_t i = 0; i < run; ++i) {
                        acc += ((int32_t)x[i] + act->input_offset) * w[i];
                    }
                }
                output[((size_t)oy * s->out_w + ox) * s->out_c + o] =
                    kws_output_s8(acc, rq, o, act);
            }
        }
    }
#endif
    return KWS_OK;
}
