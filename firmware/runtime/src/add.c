/*
 * add.c - int8 ADD with broadcasting, TFLite reference_integer_ops::Add bit for bit.
 *
 * Portable path: per element, each input's (x + offset) << left_shift rescaled by its
 * multiplier (kws_requantize, shift <= 0), the sum rescaled to the output, plus the output
 * offset, clamped. DSP path: the rescaled inputs depend on the int8 value only, so they are
 * tabulated, doubled (kws_add_s8_tables; the exporter writes them as const data, so the call
 * needs no RAM beyond its operands); given the tables, per element two table loads, an add
 * and the fast exact requantization (SMMULR, add, shift, SSAT), row by row over the broadcast.
 */
#include "binary_broadcast.h"
#include "kws_simd.h"

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

#if KWS_USE_DSP
/* One run of n outputs from tables t1, t2 (indexed by int8 value) with input strides sa, sb
 * (0 or 1): the doubled sum requantized by f (SMMULR, add, shift; see kws_rqf_t) and SSAT'ed
 * (full: the activation range is all of int8) or clamped. */
static KWS_ALWAYS_INLINE void add_run(const int8_t *a, int32_t sa, const int8_t *b, int32_t sb,
                                      int8_t *y, int32_t n, const int32_t *t1,
                                      const int32_t *t2, kws_rqf_t f, int full,
                                      int32_t lo, int32_t hi)
{
    for (int32_t i = 0; i < n; ++i, a += sa, b += sb) {
        const int32_t v = kws_rqf_apply(t1[*a] + t2[*b], f);
        y[i] = (int8_t)(full ? kws_ssat8(v) : kws_clamp(v, lo, hi));
    }
}

/* The DSP path over the caller's tables (kws_add_s8_tables): the fast exact requantization
 * of the doubled sum when it applies (kws_rqf: output shift -22..-1 and |sum| < 2^30, which
 * holds since |(x + offset) << 20| * m / 2^31 < 2^28), else TFLite's two-step requantization
 * of the sum. */
static void add_tables_dsp(const kws_add_params_t *p, const kws_dims4_t *od,
                           const int8_t *in1, const int32_t s1[4], const int8_t *in2,
                           const int32_t s2[4], int8_t *output, const int32_t *tables)
{
    const int32_t *t1 = tables + 128, *t2 = t1 + 256; /* indexed by int8 value */
    const kws_requant_t rq = {&p->output_multiplier, &p->output_shift, 1};
    kws_rqf_t f;
    if (!kws_rqf(&rq, 0, p->output_offset, 1u << 29, &f)) {
        KWS_BROADCAST_LOOP(od, in1, s1, in2, s2, output,
                           add_out(p, (t1[a] + t2[b]) / 2));
        return;
    }
    const int full = p->act_min == -128 && p->act_max == 127;
    const int32_t row = od->d[3];
    int8_t *y = output;
    for (int32_t i0 = 0; i0 < od->d[0]; ++i0) {
        for (int32_t i1 = 0; i1 < od->d[1]; ++i1) {
            for (int32_t i2 = 0; i2 < od->d[2]; ++i2, y += row) {
                const int8_t *a = in1 + i0 * s1[0] + i1 * s1[1] + i2 * s1[2];
                const int8_t *b = in2 + i0 * s2[0] + i1 * s2[1] + i2 * s2[2];
                if (full) {
                    add_run(a, s1[3], b, s2[3], y, row, t1, t2, f, 1, -128, 127);
                } else {
                    add_run(a, s1[3], b, s2[3], y, row, t1, t2, f, 0, p->act_min, p->act_max);
                }
            }
        }
    }
}
#endif

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

kws_status_t kws_add_s8_tables(const kws_add_params_t *p, int32_t *tables, size_t tables_len)
{
    if (p == NULL || tables == NULL) {
        return KWS_ERR_NULL;
    }
    if (!add_params_ok(p)) {
        return KWS_ERR_BAD_CONFIG;
    }
    if (tables_len < KWS_ADD_TABLES_LEN) {
        return KWS_ERR_SHORT_BUFFER;
    }
    for (int32_t v = -128; v < 128; ++v) {
        tables[v + 128] = 2 * add_in(v, p->input1_offset, p->left_shift, p->input1_multiplier,
                                     p->input1_shift);
        tables[v + 384] = 2 * add_in(v, p->input2_offset, p->left_shift, p->input2_multiplier,
                                     p->input2_shift);
    }
    return KWS_OK;
}

kws_status_t kws_add_s8(const kws_add_params_t *p, const kws_dims4_t *out_dims,
                        const kws_dims4_t *in1_dims, const int8_t *in1, size_t in1_len,
                        const kws_dims4_t *in2_dims, const int8_t *in2, size_t in2_len,
                        int8_t *output, size_t output_len, const int32_t *tables,
                        size_t tables_len)
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
    if (tables != NULL && tables_len < KWS_ADD_TABLES_LEN) {
        return KWS_ERR_SHORT_BUFFER;
    }
#if KWS_USE_DSP
    if (tables != NULL) {
        add_tables_dsp(p, out_dims, in1, s1, in2, s2, output, tables);
        return KWS_OK;
    }
#else
    (void)tables;
#endif
    KWS_BROADCAST_LOOP(out_dims, in1, s1, in2, s2, output, add1(p, a, b));
    return KWS_OK;
}
