/* mul.c - int8 MUL with broadcasting, TFLite reference_integer_ops::Mul bit for bit:
 * requantize((x1 + offset1) * (x2 + offset2)) + output offset, clamped. */
#include "binary_broadcast.h"

static inline int8_t mul1(const kws_mul_params_t *p, int8_t a, int8_t b)
{
    const int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
    const int32_t y = kws_requantize(prod, p->multiplier, p->shift) + p->output_offset;
    return (int8_t)kws_clamp(y, p->act_min, p->act_max);
}

kws_status_t kws_mul_s8(const kws_mul_params_t *p, const kws_dims4_t *out_dims,
                        const kws_dims4_t *in1_dims, const int8_t *in1, size_t in1_len,
                        const kws_dims4_t *in2_dims, const int8_t *in2, size_t in2_len,
                        int8_t *output, size_t output_len)
{
    int32_t s1[4], s2[4];
    int64_t n;
    kws_status_t st = kws_binary_check(p, out_dims, in1_dims, in1, in1_len, in2_dims, in2,
                                       in2_len, output, output_len, s1, s2, &n);
    if (st != KWS_OK) {
        return st;
    }
    if (p->input1_offset < -127 || p->input1_offset > 128 || p->input2_offset < -127 ||
        p->input2_offset > 128 || p->output_offset < -128 || p->output_offset > 127 ||
        p->act_min < -128 || p->act_min > p->act_max || p->act_max > 127 ||
        !kws_shift_ok(p->multiplier, p->shift)) {
        return KWS_ERR_BAD_CONFIG;
    }
    KWS_BROADCAST_LOOP(out_dims, in1, s1, in2, s2, output, mul1(p, a, b));
    return KWS_OK;
}
