/*
 * add.c - int8 ADD with broadcasting, TFLite reference_integer_ops::Add bit for bit.
 *
 * Portable path: per element, each input's (x + offset) << left_shift rescaled by its
 * multiplier (kws_requantize, shift <= 0), the sum rescaled to the output, plus the output
 * offset, clamped. DSP path: the rescaled inputs depend on the int8 value only, so they are
 * tabulated once per call (2 x 256 int32 in scratch) when the output has more elements than
 * the tables; per element two table loads, an add and the output requantization.
 */
#include "binary_broadcast.h"

static inline int32_t add_in(int32_t x, int32_t offset, int32_t left_shift, int32_t m, int32_t s)
{
    return kws_requantize((x + offset) * (1 << left_shift), m, s);
}

static inline int8_t add_out(const kws_add_params_t *p, int32_t sum)
{
    const int32_t y = kws_requantize(sum, p->output_multiplier, p->output_shift) +
                      p->output_offset;
    return (int8_t)kws_clamp(y, p->act_min, p->act_max);
}

static inline int8_t add1(const kws_add_params_t *p, int8_t a, int8_t b)
{
    return add_out(p, add_in(a, p->input1_offset, p->left_shift, p->input1_multiplier,
                             p->input1_shift) +
                          add_in(b, p->input2_offset, p->left_shift, p->input2_multiplier,
                                 p->input2_shift));
}

size_t kws_add_s8_get_buffer_size(void)
{
    return KWS_USE_DSP ? 2 * 256 * sizeof(int32_t) : 0;
}

static int add_params_ok(const kws_add_params_t *p)
{
    return p->input1_offset >= -127 && p->input1_offset <= 128 && p->input2_offset >= -127 &&
           p->input2_offset <= 128 && p->output_offset >= -128 && p->output_offset <= 127 &&
           p->left_shift >= 0 && p->left_shift <= 22 && p->act_min >= -128 &&
           p->act_min <= p->act_max && p->act_max <= 127 &&
           kws_shift_ok(p->input1_multiplier, p->input1_shift) && p->input1_shift <= 0 &&
           kws_shift_ok(p->input2_multiplier, p->input2_shift) && p->input2_shift <= 0 &&
           kws_shift_ok(p->output_multiplier, p->output_shift);
}

kws_status_t kws_add_s8(const kws_add_params_t *p, const kws_dims4_t *out_dims,
                        const kws_dims4_t *in1_dims, const int8_t *in1, size_t in1_len,
                        const kws_dims4_t *in2_dims, const int8_t *in2, size_t in2_len,
                        int8_t *output, size_t output_len, void *scratch, size_t scratch_len)
{
    int32_t s1[4], s2[4];
    int64_t n;
    kws_status_t st = kws_binary_check(p, out_dims, in1_dims, in1, in1_len, in2_dims, in2,
                                       in2_len, output, output_len, s1, s2, &n);
    if (st != KWS_OK) {
        return st;
    }
    if (!add_params_ok(p)) {
        return KWS_ERR_BAD_CONFIG;
    }
#if KWS_USE_DSP
    if (scratch == NULL) {
        return KWS_ERR_NULL;
    }
    if (scratch_len < kws_add_s8_get_buffer_size()) {
        return KWS_ERR_SHORT_BUFFER;
    }
    if (n > 512) {
        int32_t *t1 = (int32_t *)scratch + 128, *t2 = t1 + 256; /* indexed by int8 value */
        for (int32_t v = -128; v < 128; ++v) {
            t1[v] = add_in(v, p->input1_offset, p->left_shift, p->input1_multiplier,
                           p->input1_shift);
            t2[v] = add_in(v, p->input2_offset, p->left_shift, p->input2_multiplier,
                           p->input2_shift);
        }
        const kws_requant_t rq = {&p->output_multiplier, &p->output_shift, 1};
        const kws_rq1_t r = kws_rq1(&rq, 0);
        if (s1[3] == 1 && s2[3] == 1 && kws_dims4_count(in1_dims) == n &&
            kws_dims4_count(in2_dims) == n) {
            for (int64_t i = 0; i < n; ++i) {
                output[i] = kws_out1_s8(t1[in1[i]] + t2[in2[i]], r, p->output_offset,
                                        p->act_min, p->act_max);
            }
        } else {
            KWS_BROADCAST_LOOP(out_dims, in1, s1, in2, s2, output,
                               kws_out1_s8(t1[a] + t2[b], r, p->output_offset, p->act_min,
                                           p->act_max));
        }
        return KWS_OK;
    }
#else
    (void)scratch;
    (void)scratch_len;
#endif
    KWS_BROADCAST_LOOP(out_dims, in1, s1, in2, s2, output, add1(p, a, b));
    return KWS_OK;
}
