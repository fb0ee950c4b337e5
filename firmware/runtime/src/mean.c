/* mean.c - int8 MEAN over any dimensions, TFLite's integer QuantizedMeanOrSum bit for bit:
 * per output, the int32 sum of the int8 inputs of its reduced dimensions, minus
 * input_zero_point * count, requantized (1 / count folded into the multiplier by the exporter),
 * plus output_zero_point, saturated to int8.
 *
 * Adjacent reduced dimensions are contiguous in memory, so they merge into one run of
 * (count, stride); four dimensions give at most two runs (e.g. H and W of NHWC: one run of
 * H * W elements, stride C), summed by a two-level loop.
 *
 * DSP path, where the channels (the last dimension) are kept and at most 256 elements make an
 * output (the usual MEAN over time and / or frequency): four adjacent channels at a time, per
 * reduced element one word load and SXTAB16 / SXTAB16 ROR 8 into int16 lanes (channels 0, 2
 * and 1, 3; |lane| <= 128 * 256 never wraps), so the sums are the portable path's exactly. */
#include "kws_internal.h"
#include "kws_simd.h"

typedef struct {
    int32_t n[2], stride[2]; /* outer and inner run of the reduced elements */
} mean_runs_t;

/* The reduced dimensions of axis_mask as at most two runs; *count: elements per output. */
static mean_runs_t mean_runs(const kws_dims4_t *d, uint32_t axis_mask, const int32_t stride[4],
                             int32_t *count)
{
    mean_runs_t r = {{1, 1}, {0, 0}};
    int k = -1, prev = 0;
    *count = 1;
    for (int i = 0; i < 4; ++i) {
        const int red = (axis_mask >> i) & 1u;
        if (red) {
            *count *= d->d[i];
            if (prev && k >= 0) {
                r.n[k] *= d->d[i];             /* contiguous with the run before */
                r.stride[k] = stride[i];
            } else {
                ++k;                           /* a new run (k <= 1: no two runs touch) */
                r.n[k] = d->d[i];
                r.stride[k] = stride[i];
            }
        }
        prev = red;
    }
    if (k == 0) {                              /* one run: make it the inner one */
        r.n[1] = r.n[0];
        r.stride[1] = r.stride[0];
        r.n[0] = 1;
        r.stride[0] = 0;
    }
    return r;
}

#if KWS_USE_DSP
/* Sums of the reduced elements of four adjacent channels from x0 (runs r, <= 256 elements). */
static void mean_sum4(const int8_t *x0, mean_runs_t r, int32_t sum[4])
{
    uint32_t even = 0, odd = 0; /* int16 lanes: channels 0, 2 and 1, 3 */
    for (int32_t j = 0; j < r.n[0]; ++j, x0 += r.stride[0]) {
        const int8_t *x = x0;
        for (int32_t i = 0; i < r.n[1]; ++i, x += r.stride[1]) {
            const uint32_t w = kws_read_u32(x);
            even = kws_sxtab16(even, w);
            odd = kws_sxtab16_ror8(odd, w);
        }
    }
    sum[0] = (int16_t)(even & 0xFFFFu);
    sum[1] = (int16_t)(odd & 0xFFFFu);
    sum[2] = (int16_t)(even >> 16);
    sum[3] = (int16_t)(odd >> 16);
}
#endif

kws_status_t kws_mean_s8(const kws_mean_params_t *p, const kws_dims4_t *in_dims,
                         uint32_t axis_mask, const int8_t *input, size_t input_len,
                         int8_t *output, size_t output_len)
{
    if (p == NULL || in_dims == NULL || input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const int64_t n_in = kws_dims4_count(in_dims);
    if (n_in < 0 || axis_mask == 0 || axis_mask > 15 || !kws_shift_ok(p->multiplier, p->shift) ||
        p->input_zero_point < -128 || p->input_zero_point > 127 ||
        p->output_zero_point < -128 || p->output_zero_point > 127) {
        return KWS_ERR_BAD_CONFIG;
    }
    int32_t kept[4], stride[4], s = 1, count;
    for (int i = 3; i >= 0; --i) {
        stride[i] = s;
        s *= in_dims->d[i];
        kept[i] = ((axis_mask >> i) & 1u) ? 1 : in_dims->d[i];
    }
    const mean_runs_t r = mean_runs(in_dims, axis_mask, stride, &count);
    if (input_len < (size_t)n_in || output_len < (size_t)(n_in / count)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    const kws_requant_t rq = {&p->multiplier, &p->shift, 1};
    const kws_rq1_t rq1 = kws_rq1(&rq, 0);
    const int32_t zp_sum = p->input_zero_point * count;
    int8_t *y = output;
    /* channels [0, c4) four at a time on the DSP path: the last dimension kept, <= 256 sums */
    const int32_t c4 = KWS_USE_DSP && !(axis_mask & 8u) && count <= 256 ? kept[3] / 4 * 4 : 0;
    (void)c4;
    for (int32_t a0 = 0; a0 < kept[0]; ++a0)
        for (int32_t a1 = 0; a1 < kept[1]; ++a1)
            for (int32_t a2 = 0; a2 < kept[2]; ++a2)
                for (int32_t a3 = 0; a3 < kept[3]; ++a3) {
#if KWS_USE_DSP
                    if (a3 + 4 <= c4) { /* four channels at once */
                        int32_t sum[4];
                        mean_sum4(input + a0 * stride[0] + a1 * stride[1] + a2 * stride[2] + a3,
                                  r, sum);
                        for (int k = 0; k < 4; ++k) {
                            *y++ = kws_out1_s8(sum[k] - zp_sum, rq1, p->output_zero_point,
                                               -128, 127);
                        }
                        a3 += 3;
                        continue;
                    }
#endif
                    const int8_t *x0 = input + a0 * stride[0] + a1 * stride[1] +
                                       a2 * stride[2] + a3 * stride[3];
                    int32_t sum = 0;
                    for (int32_t j = 0; j < r.n[0]; ++j, x0 += r.stride[0]) {
                        const int8_t *x = x0;
                        for (int32_t i = 0; i < r.n[1]; ++i, x += r.stride[1]) {
                            sum += *x;
                        }
                    }
                    *y++ = kws_out1_s8(sum - zp_sum, rq1, p->output_zero_point, -128, 127);
                }
    return KWS_OK;
}
