/*
 * softmax.c - int8 softmax, TFLite reference_ops::Softmax (int8 in, int8 out) bit for bit.
 *
 * Fixed-point exp and reciprocal as in gemmlowp (fixedpoint.h), which TFLite uses:
 *   diff = x - max(row) <= 0, rescaled by input_multiplier << input_left_shift to Q5.26;
 *   exp(diff) in Q0.31 by exp_on_negative_values; the sum of exps in Q12.19;
 *   1 / sum by Newton-Raphson (one_over_one_plus_x_for_x_in_0_1) in Q0.31;
 *   y = round(exp * (1 / sum) * 256) - 128, clamped to int8 (scale 1/256, zero point -128).
 * Every element is read before it is written and only at its own index in the last pass, so
 * input == output is allowed.
 */
#include "kws_internal.h"

/* gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0: saturating x * 2^e. */
static int32_t sat_shl(int32_t x, int32_t e)
{
    const int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0): a and result Q0.31. */
static int32_t exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;     /* exp(-1/8), Q0.31 */
    const int32_t constant_1_over_3 = 715827883;  /* 1/3, Q0.31 */
    const int32_t x = a + (1 << 28);              /* a + 1/8, Q0.31 */
    const int32_t x2 = kws_srdhm(x, x);
    const int32_t x3 = kws_srdhm(x2, x);
    const int32_t x4 = kws_srdhm(x2, x2);
    const int32_t x4_over_4 = kws_rdivpot(x4, 2);
    const int32_t poly = kws_rdivpot(kws_srdhm(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + kws_srdhm(constant_term, x + poly);
}

/* exp(a) for a <= 0: a in Q5.26, result Q0.31. */
static int32_t exp_on_negative_values_q5_26(int32_t a)
{
    static const int32_t multipliers[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242
    }; /* exp(-2^k) for k = -2..4, Q0.31 */
    const int32_t one_quarter = 1 << 24;                  /* Q5.26 */
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        sat_shl(a_mod_quarter_minus_one_quarter, 5));     /* Q5.26 -> Q0.31 */
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    for (int32_t k = 0; k < 7; ++k) {                     /* barrel shifter over 2^-2 .. 2^4 */
        if (remainder & (1 << (24 + k))) {
            result = kws_srdhm(result, multipliers[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1): a and result Q0.31. */
static int32_t one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2); /* Q0.31 */
    const int32_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    int32_t x = constant_48_over_17 + kws_srdhm(half_denominator, constant_neg_32_over_17);
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = kws_srdhm(half_denominator, x);     /* Q2.29 */
        const int32_t one_minus = (1 << 29) - half_denominator_times_x;             /* Q2.29 */
        x = x + sat_shl(kws_srdhm(x, one_minus), 2);  /* Q4.27 -> Q2.29 */
    }
    return sat_shl(x, 1); /* x / 2 in Q1.30 -> Q0.31 */
}

static int32_t count_leading_zeros(uint32_t x)
{
    int32_t n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

kws_status_t kws_softmax_s8(int32_t rows, int32_t depth, int32_t input_multiplier,
                            int32_t input_left_shift, int32_t diff_min,
                            const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len)
{
    if (input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    if (rows <= 0 || depth <= 0 || input_multiplier < 0 || input_left_shift < 0 ||
        input_left_shift > 30 || diff_min > 0) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (input_len < (size_t)rows * depth || output_len < (size_t)rows * depth) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (int32_t r = 0; r < rows; ++r) {
        const int8_t *x = input + (size_t)r * depth;
        int8_t *y = output + (size_t)r * depth;
        int32_t max_in_row = -128;
        for (int32_t c = 0; c < depth; ++c) {
            max_in_row = x[c] > max_in_row ? x[c] : max_in_row;
        }
        int32_t sum_of_exps = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= diff_min) {
                const int32_t scaled = kws_srdhm(diff * (1 << input_left_shift),
                                                 input_multiplier);   /* Q5.26 */
                sum_of_exps += kws_rdivpot(exp_on_negative_values_q5_26(scaled), 12);
            }
        }
        const int32_t headroom_plus_one = count_leading_zeros((uint32_t)sum_of_exps);
        const int32_t num_bits_over_unit = 12 - headroom_plus_one;
        const int32_t shifted_sum_minus_one =
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - (1u << 31));
        const int32_t shifted_scale = one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            int32_t out = -128;
            if (diff >= diff_min) {
                const int32_t scaled = kws_srdhm(diff * (1 << input_left_shift),
                                                 input_multiplier);   /* Q5.26 */
                const int32_t e = exp_on_negative_values_q5_26(scaled); /* Q0.31 */
                const int32_t unsat = kws_rdivpot(kws_srdhm(shifted_scale, e),
                                                  num_bits_over_unit + 31 - 8);
                out = kws_clamp(unsat - 128, -128, 127);
            }
            y[c] = (int8_t)out;
        }
    }
    return KWS_OK;
}
