/* kernel_fuzz.c - the conv kernels against inline TFLite reference loops. Depthwise: over
 * random shapes that take the DSP path's 3 x 3 stride-1 plane kernel (odd and even widths,
 * SAME and VALID padding, 1..19 channels) and random quantization chosen to reach each of its
 * output modes: fast requantization with the SSAT clamp (activation range -128..127) and with
 * a min / max clamp (narrow range), and the exact fallback (TFLite shift >= 0, or a bias too
 * large for the doubled accumulator). Inputs: uniform random, all -128, all 127, alternating
 * -128 / 127, and a single impulse. Then conv2d and pointwise over random shapes, strides and
 * padding, in the same quantization modes (pointwise also through
 * kws_pointwise_conv_s8_reusing, its widened rows in its own input and output); average pool
 * over random windows (up to 256 pixels, the limit of the DSP path's 16-bit lane sums); fully
 * connected (1..9 outputs: the four- and two-output blocks and the tail). Then depthwise of any kernel (temporal (k, 1), (1, k) and
 * rectangular), stride 1..3, any padding and depth multiplier, mostly with few output pixels
 * (the streaming step's shapes, the DSP direct path) in every quantization mode; the running
 * average pool of the streaming step over long slice sequences with resets. Run by
 * tests/test_runtime.py on both kernel paths;
 * prints the number of cases and outputs checked and of mismatches, exits non-zero on any. */
#include <stdarg.h>
#include <string.h>

#include "kws_kernels.h"
#include "kws_nn_fixed.h"

/* Output: printf on the host; on the M4 (KWS_FUZZ_M4, run under QEMU by
 * tests/test_runtime_qemu.py) the board's semihosting console, with %d / %ld / %s only. */
#ifdef KWS_FUZZ_M4
#include "kws_board.h"

static void fz_printf(const char *fmt, ...)
{
    char lit[2] = {0, 0};
    va_list ap;
    va_start(ap, fmt);
    for (const char *f = fmt; *f != '\0'; ++f) {
        if (*f != '%') {
            lit[0] = *f;
            kws_puts(lit);
            continue;
        }
        ++f;
        if (*f == 'l') {
            ++f;
            const long v = va_arg(ap, long);
            if (*f == 'u') {
                kws_put_u32((uint32_t)v);
            } else {
                kws_put_i32((int32_t)v);
            }
        } else if (*f == 's') {
            kws_puts(va_arg(ap, const char *));
        } else {
            kws_put_i32((int32_t)va_arg(ap, int));
        }
    }
    va_end(ap);
}
#else
#include <stdio.h>
#define fz_printf printf
#endif

static uint32_t rng_state = 12345u;

static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

/* TFLite's int8 ADD of one element (reference_integer_ops::Add), inline. */
static int32_t ref_add(const kws_add_params_t *p, int8_t a, int8_t b)
{
    const int32_t x1 = kws_requantize((a + p->input1_offset) * (1 << p->left_shift),
                                      p->input1_multiplier, p->input1_shift);
    const int32_t x2 = kws_requantize((b + p->input2_offset) * (1 << p->left_shift),
                                      p->input2_multiplier, p->input2_shift);
    const int32_t y = kws_requantize(x1 + x2, p->output_multiplier, p->output_shift) +
                      p->output_offset;
    return kws_clamp(y, p->act_min, p->act_max);
}

/* ADD and MUL with broadcasting: random rank-4 shapes (some dimensions of each input 1),
 * big enough for ADD's table path (> 128 outputs) and small, adversarial and random inputs,
 * random multipliers and shifts (output shifts left and right), narrow clamps. */
static long fuzz_add_mul(void)
{
    static int8_t a[1200], b[1200], y[1200];
    static int32_t tables[512];
    long cases = 0, outputs = 0, nbad = 0;
    for (int it = 0; it < 1500; ++it) {
        kws_dims4_t od, d1, d2;
        int32_t n = 1, n1 = 1, n2 = 1;
        for (int i = 0; i < 4; ++i) {
            od.d[i] = i == 0 ? 1 : rnd_in(1, it % 2 ? 12 : 4);
            d1.d[i] = (rnd() % 4 == 0) ? 1 : od.d[i];
            d2.d[i] = (rnd() % 3 == 0) ? 1 : od.d[i];
            n *= od.d[i];
            n1 *= d1.d[i];
            n2 *= d2.d[i];
        }
        if (n > 1200) {
            continue;
        }
        const int32_t kind = (int32_t)(rnd() % 4);
        for (int32_t i = 0; i < n1 || i < n2; ++i) {
            a[i] = kind == 0 ? (int8_t)rnd_in(-128, 127) : kind == 1 ? -128 : 127;
            b[i] = kind == 3 ? (int8_t)((i & 1) ? 127 : -128) : (int8_t)rnd_in(-128, 127);
        }
        const int32_t lo = it % 3 == 1 ? rnd_in(-128, 0) : -128;
        const int32_t hi = it % 3 == 1 ? rnd_in(lo, 127) : 127;
        const kws_add_params_t ap = {rnd_in(-127, 128), rnd_in(-127, 128), rnd_in(-128, 127), 20,
                                     (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu)),
                                     rnd_in(-8, -1),
                                     (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu)),
                                     rnd_in(-8, -1),
                                     (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu)),
                                     rnd_in(-22, 2), lo, hi};
        const kws_mul_params_t mp = {ap.input1_offset, ap.input2_offset, ap.output_offset,
                                     ap.output_multiplier, rnd_in(-20, 1), lo, hi};
        if (kws_add_s8_tables(&ap, tables, KWS_ADD_TABLES_LEN) != KWS_OK) {
            fz_printf("add case %d: tables refused\n", it);
            return 1;
        }
        /* op 0: add with its tables (the DSP path), 1: add without (per element), 2: mul */
        for (int op = 0; op < 3; ++op) {
            const kws_status_t st = op < 2
                ? kws_add_s8(&ap, &od, &d1, a, (size_t)n1, &d2, b, (size_t)n2, y, (size_t)n,
                             op == 0 ? tables : NULL, op == 0 ? KWS_ADD_TABLES_LEN : 0)
                : kws_mul_s8(&mp, &od, &d1, a, (size_t)n1, &d2, b, (size_t)n2, y, (size_t)n);
            if (st != KWS_OK) {
                fz_printf("%s case %d: kernel error %d\n", op == 2 ? "mul" : "add", it, (int)st);
                return 1;
            }
            ++cases;
            int32_t k = 0;
            for (int32_t i0 = 0; i0 < od.d[0]; ++i0)
                for (int32_t i1 = 0; i1 < od.d[1]; ++i1)
                    for (int32_t i2 = 0; i2 < od.d[2]; ++i2)
                        for (int32_t i3 = 0; i3 < od.d[3]; ++i3, ++k) {
                            const int32_t j[4] = {i0, i1, i2, i3};
                            int32_t x1 = 0, x2 = 0;
                            for (int d = 0; d < 4; ++d) {
                                x1 = x1 * d1.d[d] + (d1.d[d] == 1 ? 0 : j[d]);
                                x2 = x2 * d2.d[d] + (d2.d[d] == 1 ? 0 : j[d]);
                            }
                            const int32_t want = op < 2 ? ref_add(&ap, a[x1], b[x2])
                                : kws_clamp(kws_requantize((a[x1] + mp.input1_offset) *
                                                           (b[x2] + mp.input2_offset),
                                                           mp.multiplier, mp.shift) +
                                            mp.output_offset, lo, hi);
                            ++outputs;
                            if (y[k] != want) {
                                if (nbad < 5) {
                                    fz_printf("%s case %d (%d): got %d want %d\n",
                                              op == 2 ? "mul" : "add", it, k, y[k],
                                              want);
                                }
                                ++nbad;
                            }
                        }
        }
    }
    fz_printf("add/mul: %ld cases %ld outputs %ld mismatches\n", cases, outputs, nbad);
    return nbad;
}

/* kws_dw_prepared_t data of a depthwise layer (the exporter's
 * kws/export/lowering/depthwise_prep.py in C): per group of four channels the folded doubled
 * biases, the int16 doubled weights per tap, and (m, k, r) per channel. */
static size_t dw_prepare(int32_t taps, int32_t c, const int8_t *w, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, int32_t per_channel,
                         int32_t input_offset, int32_t output_offset, int32_t pair,
                         int32_t *d)
{
    const int32_t c4 = (c + 3) / 4 * 4;
    int32_t *d0 = d;
    for (int32_t g = 0; g < c4 / 4; ++g, d += 16 + 2 * taps) {
        for (int32_t t = 0; t < taps; ++t) {
            int32_t v[4];
            for (int32_t j = 0; j < 4; ++j) {
                v[j] = 4 * g + j < c ? 2 * w[t * c + 4 * g + j] : 0;
            }
            d[4 + 2 * t] = (int32_t)((uint32_t)(uint16_t)v[0] | (uint32_t)(uint16_t)v[2] << 16);
            d[5 + 2 * t] = (int32_t)((uint32_t)(uint16_t)v[1] | (uint32_t)(uint16_t)v[3] << 16);
        }
        for (int32_t j = 0; j < 4; ++j) {
            const int32_t o = 4 * g + j < c ? 4 * g + j : c - 1, q = per_channel ? o : 0;
            int32_t wsum = 0;
            for (int32_t t = 0; t < taps; ++t) {
                wsum += 4 * g + j < c ? w[t * c + o] : 0;
            }
            const int32_t r = -shift[q];
            int32_t *p = d + 4 + 2 * taps + 3 * j;
            d[j] = 4 * g + j < c ? 2 * (bias[o] + input_offset * wsum) : 0;
            p[0] = mult[q];
            p[1] = (int32_t)(1u << (r - 1)) + output_offset * (int32_t)(1u << r);
            p[2] = r;
        }
    }
    if (!pair) {
        return (size_t)(d - d0);
    }
    /* the pair section of three-tap one-dimensional kernels (depth multiplier 1, c a multiple
     * of 4): per channel 2 b, 2 b, (2 w0, 2 w1), (2 w1, 2 w2), m, k, r */
    for (int32_t g = 0; g < c / 4; ++g) {
        const int32_t *gd = d0 + (size_t)g * (16 + 2 * taps);
        for (int32_t j = 0; j < 4; ++j, d += 7) {
            const int32_t o = 4 * g + j;
            const uint32_t w0 = (uint16_t)(2 * w[o]), w1 = (uint16_t)(2 * w[c + o]);
            const uint32_t w2 = (uint16_t)(2 * w[2 * c + o]);
            d[0] = d[1] = gd[j];
            d[2] = (int32_t)(w0 | w1 << 16);
            d[3] = (int32_t)(w1 | w2 << 16);
            memcpy(d + 4, gd + 4 + 2 * taps + 3 * j, 3 * sizeof(int32_t));
        }
    }
    return (size_t)(d - d0);
}

/* Prepared depthwise (kws_depthwise_conv2d_s8_prepared): any kernel (1..9 x 1..9, (k, 1) and
 * (1, k) often), stride 1..3, any padding, 1..40 channels (the four-channel groups and the
 * tail), one to many output pixels (streaming steps and whole maps), per-channel and
 * per-layer requantization with shifts -22..-1, biases up to the exactness bound, input
 * offsets at -127 and 128 and random, and random / all -128 / all 127 / alternating /
 * impulse inputs. mode 1: depth multipliers (4..40 on one input channel, 2 on 1..20
 * channels, 4, 8 and 12 on 2..10). mode 2: the three-tap pair kernel ((1, 3) stride 1 along
 * the row on maps of 1..4 x 2..12 pixels, (3, 1) on one-column maps of 2..13 outputs, 4..40
 * and 68..128 channels, with padding) under adversarial requantization: multipliers 2^30 (a
 * tie at every other accumulator) and 2^31 - 1, shifts -1 and -22, output offsets -128 and
 * 127, biases at the exactness bound. */
static long fuzz_dw_prepared(int mode)
{
    enum { MAXN = 13 * 12 * 40 };
    static int8_t x[MAXN], y[MAXN], w[81 * 40];
    static int32_t bias[128], mult[128], shift[128], dd[(16 + 2 * 81) * 10 + 28 * 10];
    long cases = 0, outputs = 0, nbad = 0, planted = 0, caught = 0;
    const int multiplier = mode == 1, pairs = mode == 2;
    for (int it = 0; it < (pairs ? 1500 : 2500); ++it) {
        /* pairs: 68..128 channels in one case of five (rows of interior pairs, the border
         * pixels through the one-pixel loops) */
        const int32_t c0 = pairs && it % 5 == 4 ? 4 * rnd_in(17, 32)
                         : multiplier || pairs ? 4 * rnd_in(1, 10) : rnd_in(1, 40);
        /* multiplier: a one-channel input (depth multiplier 4..40), depth multiplier 2 on
         * 1..20 channels, or 4, 8, 12 on several */
        const int32_t mkind = it % 3;
        const int32_t mdm = !multiplier ? 1 : mkind == 0 ? c0 : mkind == 1 ? 2
                          : 4 * rnd_in(1, 3);
        const int32_t mcin = !multiplier || mkind == 0 ? 1
                           : mkind == 1 ? rnd_in(1, 20) : rnd_in(2, 40 / mdm);
        const int32_t cin = multiplier ? mcin : c0, dm = multiplier ? mdm : 1, c = cin * dm;
        const int32_t shape = pairs ? it % 2 : it % 4; /* (k,1), (1,k), rectangular, 3x3 */
        const int32_t kh = pairs ? (shape == 0 ? 3 : 1)
                         : shape == 1 ? 1 : shape == 3 ? 3 : rnd_in(1, 9);
        const int32_t kw = pairs ? (shape == 0 ? 1 : 3)
                         : shape == 0 ? 1 : shape == 3 ? 3 : rnd_in(1, 9);
        const int32_t sh = pairs ? (shape == 0 ? 1 : rnd_in(1, 2))
                         : (it % 3 == 0) ? 1 : rnd_in(1, 3);
        const int32_t sw = pairs ? 1 : (it % 3 == 0) ? 1 : rnd_in(1, 3);
        const int32_t ph = rnd_in(0, kh - 1), pwd = rnd_in(0, kw - 1);
        const int few = (it % 2) == 0;
        const int32_t oh = pairs ? (shape == 0 ? rnd_in(2, 13) : rnd_in(1, 4))
                         : few ? 1 : rnd_in(1, 8);
        const int32_t ow = pairs ? (shape == 0 ? 1 : rnd_in(2, 12))
                         : few ? rnd_in(1, 4) : rnd_in(1, 8);
        const int32_t ih = (oh - 1) * sh + kh - ph - rnd_in(0, ph);
        const int32_t iw = (ow - 1) * sw + kw - pwd - rnd_in(0, pwd);
        if (ih < 1 || iw < 1 || ih * iw * cin > MAXN || oh * ow * c > MAXN) {
            continue;
        }
        const kws_conv_shape_t s = {ih, iw, cin, oh, ow, c, kh, kw, sh, sw, ph, pwd, dm};
        const int32_t off_kind = it % 5, zo_kind = pairs ? it % 3 : 2;
        const kws_act_t act = {off_kind == 0 ? -127 : off_kind == 1 ? 128 : rnd_in(-127, 128),
                               zo_kind == 0 ? -128 : zo_kind == 1 ? 127 : rnd_in(-128, 127),
                               -128, 127};
        const int32_t taps = kh * kw;
        for (int32_t i = 0; i < taps * c; ++i) {
            w[i] = (int8_t)(it % 7 == 3 ? ((i & 1) ? 127 : -128) : rnd_in(-128, 127));
        }
        for (int32_t o = 0; o < c; ++o) {
            int32_t wabs = 0;
            for (int32_t t = 0; t < taps; ++t) {
                wabs += w[t * c + o] < 0 ? -w[t * c + o] : w[t * c + o];
            }
            const int32_t room = (1 << 30) - 1 - 255 * wabs; /* |bias| < room: exact */
            mult[o] = (int32_t)((1u << 30) + (rnd() << 6 & 0x3FFFFFFFu));
            shift[o] = rnd_in(-22, -1);
            bias[o] = it % 6 == 5 ? ((rnd() & 1) ? room : -room) : rnd_in(-40000, 40000);
            if (pairs && it % 4 < 2) { /* extreme multipliers: ties, the largest */
                mult[o] = it % 4 == 0 ? (int32_t)(1u << 30) : INT32_MAX;
            }
            if (pairs && it % 8 >= 6) { /* extreme shifts */
                shift[o] = it % 8 == 6 ? -1 : -22;
            }
        }
        const int32_t per_channel = (int32_t)(rnd() & 1);
        const int32_t pair = dm == 1 && c % 4 == 0 && taps == 3 && (kh == 1 || kw == 1);
        const size_t dlen = dw_prepare(taps, c, w, bias, mult, shift, per_channel,
                                       act.input_offset, act.output_offset, pair, dd);
        const int32_t n_in = ih * iw * cin, kind = (int32_t)(rnd() % 5);
        for (int32_t i = 0; i < n_in; ++i) {
            x[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                 : kind == 1 ? -128 : kind == 2 ? 127 : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                 : (int8_t)(i == n_in / 2 ? 127 : -128);
        }
        const kws_dw_prepared_t prep = {dd, dlen};
        if (kws_depthwise_conv2d_s8_prepared(&s, &act, &prep, x, (size_t)n_in, y,
                                             (size_t)(oh * ow * c)) != KWS_OK) {
            fz_printf("dw prepared case %d: kernel error\n", it);
            return 1;
        }
        ++cases;
        for (int32_t oy = 0; oy < oh; ++oy) {
            for (int32_t ox = 0; ox < ow; ++ox) {
                for (int32_t o = 0; o < c; ++o) {
                    int32_t acc = bias[o];
                    for (int32_t ky = 0; ky < kh; ++ky) {
                        for (int32_t kx = 0; kx < kw; ++kx) {
                            const int32_t iy = oy * sh + ky - ph, ix = ox * sw + kx - pwd;
                            if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) {
                                acc += (x[(iy * iw + ix) * cin + o / dm] + act.input_offset) *
                                       w[(ky * kw + kx) * c + o];
                            }
                        }
                    }
                    const int32_t q = per_channel ? o : 0;
                    const int32_t want = kws_clamp(kws_requantize(acc, mult[q], shift[q]) +
                                                   act.output_offset, -128, 127);
                    const int32_t got = y[(oy * ow + ox) * c + o];
                    ++outputs;
                    if (got != want) {
                        if (nbad < 5) {
                            fz_printf("dw prepared case %d (%d,%d,%d): got %d want %d\n", it,
                                      oy, ox, o, got, want);
                        }
                        ++nbad;
                    }
                }
            }
        }
        if (pairs && pair && dlen > (size_t)((16 + 2 * taps) * (c / 4))) {
            /* a deliberately broken pair kernel: k - 1 in every channel's pair parameters
             * rounds positive ties down; the adversarial cases must catch it (the DSP path
             * reads the pair section; the portable path does not) */
            static int8_t y2[MAXN];
            for (size_t i = (size_t)((16 + 2 * taps) * (c / 4)); i < dlen; i += 7) {
                dd[i + 5] -= 1;
            }
            if (kws_depthwise_conv2d_s8_prepared(&s, &act, &prep, x, (size_t)n_in, y2,
                                                 (size_t)(oh * ow * c)) != KWS_OK) {
                return nbad + 1;
            }
            ++planted;
            caught += memcmp(y, y2, (size_t)(oh * ow * c)) != 0;
        }
    }
    fz_printf("dw prepared%s: %ld cases %ld outputs %ld mismatches\n",
              multiplier ? " (depth multiplier)" : pairs ? " (three-tap pairs)" : "", cases,
              outputs, nbad);
    if (pairs) {
        fz_printf("dw prepared (three-tap pairs, k - 1 planted): %ld of %ld cases caught\n",
                  caught, planted);
    }
    return nbad;
}

/* Running average pool (the streaming step's pool, kws_avgpool_running_s8) against the inline
 * reference on the window of the last k slices (zero slices before the first and before a
 * reset), step by step over 1..2.5 k steps, the state zeroed in the middle of half of the
 * sequences; random k (1..160: sums far beyond 16 bits), columns, column windows, strides,
 * padding and clamps; slices uniform random, all -128, all 127 or alternating. */
static long fuzz_avgpool_running(void)
{
    enum { MAX_K = 160, MAX_SLICE = 48, MAX_STEPS = 5 * MAX_K / 2 + 8 };
    static int8_t hist[MAX_STEPS * MAX_SLICE], out[2 * MAX_SLICE]; /* out_w < 2 in_w */
    static uint32_t state[(4 + 4 * MAX_SLICE + MAX_K * MAX_SLICE) / 4 + 1];
    long cases = 0, outputs = 0, nbad = 0;
    for (int it = 0; it < 400; ++it) {
        const int32_t k = it % 8 == 0 ? MAX_K : rnd_in(1, it % 2 ? 40 : MAX_K);
        const int32_t wd = rnd_in(1, 6), c = rnd_in(1, MAX_SLICE / wd);
        const int32_t kw = rnd_in(1, wd), sw = rnd_in(1, 3), pl = rnd_in(0, kw - 1);
        const int32_t ow = rnd_in(1, (wd - 1 + pl) / sw + 1);
        const kws_conv_shape_t s = {k, wd, c, 1, ow, c, k, kw, 1, sw, 0, pl, 1};
        int32_t lo = -128, hi = 127;
        if (it % 3 == 1) {
            lo = rnd_in(-128, 0);
            hi = rnd_in(lo, 127);
        }
        const size_t slice = (size_t)wd * c, need = kws_avgpool_running_get_state_size(&s);
        if (need == 0 || need > sizeof state) {
            fz_printf("avgpool running case %d: state size %ld\n", it, (long)need);
            return 1;
        }
        const int32_t steps = rnd_in(1, 5 * k / 2 + 8), kind = (int32_t)(rnd() % 4);
        const int32_t reset_at = (rnd() & 1) ? rnd_in(0, steps - 1) : -1;
        for (size_t i = 0; i < need / 4; ++i) {
            state[i] = 0u;
        }
        int32_t base = 0; /* slices before base are zero in the window */
        for (int32_t t = 0; t < steps; ++t) {
            int8_t *x = hist + (size_t)t * slice;
            for (size_t i = 0; i < slice; ++i) {
                x[i] = kind == 0 ? (int8_t)rnd_in(-128, 127) : kind == 1 ? -128 : kind == 2 ? 127
                     : (int8_t)(((size_t)t + i) & 1 ? 127 : -128);
            }
            if (t == reset_at) {
                for (size_t i = 0; i < need / 4; ++i) {
                    state[i] = 0u;
                }
                base = t;
            }
            if (kws_avgpool_running_s8(state, need, &s, lo, hi, x, slice, out,
                                       (size_t)ow * c) != KWS_OK) {
                fz_printf("avgpool running case %d step %d: kernel error\n", it, t);
                return 1;
            }
            for (int32_t ox = 0; ox < ow; ++ox) {
                for (int32_t o = 0; o < c; ++o) {
                    int32_t acc = 0, count = 0;
                    for (int32_t ty = t - k + 1; ty <= t; ++ty) {
                        for (int32_t kx = 0; kx < kw; ++kx) {
                            const int32_t ix = ox * sw + kx - pl;
                            if (ix >= 0 && ix < wd) {
                                acc += ty >= base ? hist[(size_t)ty * slice + (size_t)ix * c + o]
                                                  : 0;
                                ++count;
                            }
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    const int32_t y = kws_clamp(acc, lo, hi);
                    ++outputs;
                    if (out[ox * c + o] != y) {
                        if (nbad < 5) {
                            fz_printf("avgpool running case %d step %d (%d,%d): got %d want %d\n",
                                      it, t, ox, o, out[ox * c + o], y);
                        }
                        ++nbad;
                    }
                }
            }
        }
        ++cases;
    }
    fz_printf("avgpool running: %ld cases %ld outputs %ld mismatches\n", cases, outputs, nbad);
    return nbad;
}

/* STRIDED_SLICE against the index formula over random shapes, starts and strides (positive,
 * negative, 1 in the inner dimensions so that the contiguous-run path runs, whole rows so that
 * it spans dimension 2); returns the number of mismatches. */
static long fuzz_strided_slice(void)
{
    static int8_t x[4 * 9 * 9 * 9], y[4 * 9 * 9 * 9 + 1];
    long cases = 0, outputs = 0, nbad = 0;
    for (int it = 0; it < 3000; ++it) {
        kws_dims4_t in, start, stride, out;
        int32_t es[4], s = 1, n_in = 1, n_out = 1;
        for (int i = 3; i >= 0; --i) {
            in.d[i] = rnd_in(1, i == 0 ? 4 : 9);
            const int32_t pick = rnd_in(0, 7);
            stride.d[i] = pick < 4 ? 1 : pick == 4 ? -1 : pick == 5 ? 2 : pick == 6 ? -2 : 3;
            start.d[i] = rnd_in(0, in.d[i] - 1);
            const int32_t room = stride.d[i] > 0 ? (in.d[i] - 1 - start.d[i]) / stride.d[i]
                                                 : start.d[i] / -stride.d[i];
            out.d[i] = rnd_in(1, room + 1);
            if (it % 3 == 0 && i >= 2) { /* whole inner rows: the run spans dimension 2 */
                stride.d[i] = 1;
                start.d[i] = i == 3 ? 0 : start.d[i];
                out.d[i] = in.d[i] - start.d[i];
            }
            es[i] = s;
            s *= in.d[i];
            n_in *= in.d[i];
            n_out *= out.d[i];
        }
        for (int32_t i = 0; i < n_in; ++i) {
            x[i] = (int8_t)rnd();
        }
        memset(y, 0x5A, sizeof y);
        if (kws_strided_slice_s8(&in, &start, &stride, &out, x, (size_t)n_in, y,
                                 (size_t)n_out) != KWS_OK) {
            fz_printf("strided slice case %d: kernel error\n", it);
            return 1;
        }
        ++cases;
        int32_t k = 0;
        for (int32_t i0 = 0; i0 < out.d[0]; ++i0)
            for (int32_t i1 = 0; i1 < out.d[1]; ++i1)
                for (int32_t i2 = 0; i2 < out.d[2]; ++i2)
                    for (int32_t i3 = 0; i3 < out.d[3]; ++i3, ++k) {
                        const int32_t j = (start.d[0] + i0 * stride.d[0]) * es[0] +
                                          (start.d[1] + i1 * stride.d[1]) * es[1] +
                                          (start.d[2] + i2 * stride.d[2]) * es[2] +
                                          start.d[3] + i3 * stride.d[3];
                        ++outputs;
                        if (y[k] != x[j]) {
                            if (nbad < 5) {
                                fz_printf("strided slice case %d (%d): got %d want %d\n", it, k,
                                          y[k], x[j]);
                            }
                            ++nbad;
                        }
                    }
        nbad += y[n_out] != 0x5A; /* nothing written past the output */
    }
    fz_printf("strided slice: %ld cases %ld outputs %ld mismatches\n", cases, outputs, nbad);
    return nbad;
}

/* MAX_POOL_2D against the reference loop: random shapes, windows, strides, SAME / VALID
 * padding, channel counts with and without a remainder of four, activation ranges, random and
 * constant (-128, 127) inputs; returns the number of mismatches. */
static long fuzz_maxpool(void)
{
    static int8_t x[12 * 12 * 21], y[12 * 12 * 21];
    long cases = 0, outputs = 0, nbad = 0;
    for (int it = 0; it < 2000; ++it) {
        kws_conv_shape_t s;
        s.in_h = rnd_in(1, 12);
        s.in_w = rnd_in(1, 12);
        s.in_c = s.out_c = rnd_in(1, 21);
        s.k_h = rnd_in(1, s.in_h);
        s.k_w = rnd_in(1, s.in_w);
        s.stride_h = rnd_in(1, 3);
        s.stride_w = rnd_in(1, 3);
        s.depth_multiplier = 1;
        if (it % 2) { /* SAME */
            s.out_h = (s.in_h + s.stride_h - 1) / s.stride_h;
            s.out_w = (s.in_w + s.stride_w - 1) / s.stride_w;
            const int32_t ph = (s.out_h - 1) * s.stride_h + s.k_h - s.in_h;
            const int32_t pw = (s.out_w - 1) * s.stride_w + s.k_w - s.in_w;
            s.pad_top = ph > 0 ? ph / 2 : 0;
            s.pad_left = pw > 0 ? pw / 2 : 0;
        } else { /* VALID */
            s.out_h = (s.in_h - s.k_h) / s.stride_h + 1;
            s.out_w = (s.in_w - s.k_w) / s.stride_w + 1;
            s.pad_top = s.pad_left = 0;
        }
        const int32_t n_in = s.in_h * s.in_w * s.in_c, kind = rnd_in(0, 5);
        for (int32_t i = 0; i < n_in; ++i) {
            x[i] = kind == 0 ? -128 : kind == 1 ? 127 : (int8_t)rnd();
        }
        const int32_t lo = it % 3 == 1 ? rnd_in(-128, 0) : -128;
        const int32_t hi = it % 3 == 1 ? rnd_in(lo, 127) : 127;
        if (kws_maxpool_s8(&s, lo, hi, x, (size_t)n_in, y, sizeof y) != KWS_OK) {
            fz_printf("maxpool case %d: kernel error\n", it);
            return 1;
        }
        ++cases;
        for (int32_t oy = 0; oy < s.out_h; ++oy)
            for (int32_t ox = 0; ox < s.out_w; ++ox)
                for (int32_t c = 0; c < s.in_c; ++c) {
                    int32_t m = -128;
                    for (int32_t ky = 0; ky < s.k_h; ++ky)
                        for (int32_t kx = 0; kx < s.k_w; ++kx) {
                            const int32_t iy = oy * s.stride_h - s.pad_top + ky;
                            const int32_t ix = ox * s.stride_w - s.pad_left + kx;
                            if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) {
                                const int32_t v = x[(iy * s.in_w + ix) * s.in_c + c];
                                m = v > m ? v : m;
                            }
                        }
                    const int32_t want = kws_clamp(m, lo, hi);
                    const int32_t got = y[(oy * s.out_w + ox) * s.in_c + c];
                    ++outputs;
                    if (got != want) {
                        if (nbad < 5) {
                            fz_printf("maxpool case %d: got %d want %d\n", it, got, want);
                        }
                        ++nbad;
                    }
                }
    }
    fz_printf("maxpool: %ld cases %ld outputs %ld mismatches\n", cases, outputs, nbad);
    return nbad;
}

/* MEAN against the sum-and-requantize formula: random shapes (sums of up to 324 elements, so
 * both sides of the DSP path's 256 limit), every axis mask, zero points, multipliers, random and
 * constant inputs; returns the number of mismatches. */
static long fuzz_mean(void)
{
    static int8_t x[4 * 9 * 9 * 21], y[4 * 9 * 9 * 21];
    long cases = 0, outputs = 0, nbad = 0;
    for (int it = 0; it < 3000; ++it) {
        const kws_dims4_t d = {{rnd_in(1, 4), rnd_in(1, 9), rnd_in(1, 9), rnd_in(1, 21)}};
        const uint32_t mask = (uint32_t)rnd_in(1, 15);
        const int32_t n_in = d.d[0] * d.d[1] * d.d[2] * d.d[3], kind = rnd_in(0, 5);
        for (int32_t i = 0; i < n_in; ++i) {
            x[i] = kind == 0 ? -128 : kind == 1 ? 127 : (int8_t)rnd();
        }
        const kws_mean_params_t p = {rnd_in(-128, 127), rnd_in(-128, 127),
                                     (int32_t)((1u << 30) + (rnd() & 0x3FFFFFFFu)),
                                     rnd_in(-14, 0)};
        if (kws_mean_s8(&p, &d, mask, x, (size_t)n_in, y, sizeof y) != KWS_OK) {
            fz_printf("mean case %d: kernel error\n", it);
            return 1;
        }
        ++cases;
        int32_t kept[4], count = 1, k = 0;
        for (int i = 0; i < 4; ++i) {
            kept[i] = (mask >> i) & 1u ? 1 : d.d[i];
            count *= (mask >> i) & 1u ? d.d[i] : 1;
        }
        static int32_t sums[4 * 9 * 9 * 21];
        const int32_t n_out = kept[0] * kept[1] * kept[2] * kept[3];
        memset(sums, 0, sizeof sums);
        for (int32_t i0 = 0; i0 < d.d[0]; ++i0)
            for (int32_t i1 = 0; i1 < d.d[1]; ++i1)
                for (int32_t i2 = 0; i2 < d.d[2]; ++i2)
                    for (int32_t i3 = 0; i3 < d.d[3]; ++i3) {
                        /* the output of this input: its index in the kept dimensions */
                        const int32_t o = ((((mask & 1u) ? 0 : i0) * kept[1] +
                                            ((mask & 2u) ? 0 : i1)) * kept[2] +
                                           ((mask & 4u) ? 0 : i2)) * kept[3] +
                                          ((mask & 8u) ? 0 : i3);
                        sums[o] += x[((i0 * d.d[1] + i1) * d.d[2] + i2) * d.d[3] + i3];
                    }
        for (k = 0; k < n_out; ++k) {
            const int32_t want = kws_clamp(
                kws_requantize(sums[k] - p.input_zero_point * count, p.multiplier, p.shift) +
                    p.output_zero_point, -128, 127);
            ++outputs;
            if (y[k] != want) {
                if (nbad < 5) {
                    fz_printf("mean case %d (%d): got %d want %d\n", it, k, y[k], want);
                }
                ++nbad;
            }
        }
    }
    fz_printf("mean: %ld cases %ld outputs %ld mismatches\n", cases, outputs, nbad);
    return nbad;
}

int main(void)
{
    enum { MAX_H = 13, MAX_W = 12, MAX_C = 19 };
    static int8_t in[MAX_H * MAX_W * 40], out[MAX_H * MAX_W * 40], w[9 * MAX_C];
    static int32_t bias[MAX_C], mult[MAX_C], shift[MAX_C];
    static int32_t scratch[(MAX_W + 4) * (MAX_H + 2) / 2]; /* 4-byte aligned int16 plane */
    long cases = 0, outputs = 0, bad = 0;
    for (int it = 0; it < 3000; ++it) {
        const int32_t h = rnd_in(1, MAX_H), wd = rnd_in(1, MAX_W), c = rnd_in(1, MAX_C);
        const int same = (int)(rnd() & 1);
        if (!same && (h < 3 || wd < 3)) {
            continue;
        }
        const kws_conv_shape_t s = {h, wd, c, same ? h : h - 2, same ? wd : wd - 2, c, 3, 3,
                                    1, 1, same, same, 1};
        const int mode = it % 4; /* 0: full range, 1: narrow clamp, 2: shift >= 0, 3: big bias */
        kws_act_t act = {rnd_in(-127, 128), rnd_in(-128, 127), -128, 127};
        if (mode == 1) {
            act.act_min = rnd_in(-128, 0);
            act.act_max = rnd_in(act.act_min, 127);
        }
        for (int32_t i = 0; i < c; ++i) {
            mult[i] = (int32_t)((1u << 30) + (rnd() << 6 & 0x3FFFFFFFu));
            shift[i] = mode == 2 ? rnd_in(-2, 3) : rnd_in(-20, -1);
            bias[i] = mode == 3 ? (int32_t)(rnd() << 8) : rnd_in(-40000, 40000);
        }
        const kws_requant_t rq = {mult, shift, (rnd() & 1) ? c : 1};
        for (int32_t i = 0; i < 9 * c; ++i) {
            w[i] = (int8_t)rnd_in(-128, 127);
        }
        const int32_t n_in = h * wd * c, kind = (int32_t)(rnd() % 5);
        for (int32_t i = 0; i < n_in; ++i) {
            in[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                  : kind == 1 ? -128 : kind == 2 ? 127 : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                  : (int8_t)(i == n_in / 2 ? 127 : -128);
        }
        const size_t need = kws_depthwise_conv2d_s8_get_buffer_size(&s);
        if (need > sizeof scratch) {
            fz_printf("scratch %lu > %lu\n", (unsigned long)need, (unsigned long)sizeof scratch);
            return 1;
        }
        const int32_t n_out = s.out_h * s.out_w * c;
        if (kws_depthwise_conv2d_s8(&s, &act, &rq, in, (size_t)n_in, w, (size_t)(9 * c), bias,
                                    (size_t)c, out, (size_t)n_out, scratch,
                                    sizeof scratch) != KWS_OK) {
            fz_printf("case %d: kernel error\n", it);
            return 1;
        }
        ++cases;
        for (int32_t oy = 0; oy < s.out_h; ++oy) {
            for (int32_t ox = 0; ox < s.out_w; ++ox) {
                for (int32_t o = 0; o < c; ++o) {
                    int32_t acc = bias[o];
                    for (int32_t ky = 0; ky < 3; ++ky) {
                        for (int32_t kx = 0; kx < 3; ++kx) {
                            const int32_t iy = oy + ky - same, ix = ox + kx - same;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                acc += (in[(iy * wd + ix) * c + o] + act.input_offset) *
                                       w[(ky * 3 + kx) * c + o];
                            }
                        }
                    }
                    const int32_t q = rq.num == 1 ? 0 : o;
                    const int32_t y = kws_clamp(kws_requantize(acc, mult[q], shift[q]) +
                                                act.output_offset, act.act_min, act.act_max);
                    ++outputs;
                    if (out[(oy * s.out_w + ox) * c + o] != y) {
                        if (bad < 5) {
                            fz_printf("case %d mode %d (%d,%d,%d): got %d want %d\n", it, mode, oy,
                                   ox, o, out[(oy * s.out_w + ox) * c + o], y);
                        }
                        ++bad;
                    }
                }
            }
        }
    }
    fz_printf("%ld cases %ld outputs %ld mismatches\n", cases, outputs, bad);
    if (bad != 0) {
        return 1;
    }
    /* depthwise, any kernel / stride / padding / multiplier: mostly <= 8 output pixels */
    {
        static int8_t dw_w[9 * 9 * 40];
        static int32_t dbias[40], dmult[40], dshift[40];
        long dcases = 0, doutputs = 0, dbad = 0;
        for (int it = 0; it < 2500; ++it) {
            const int32_t dm = (it % 5 == 4) ? rnd_in(2, 3) : 1;
            const int32_t cin = rnd_in(1, 40 / dm), cout = cin * dm;
            const int shape = it % 3; /* 0: (k, 1) temporal, 1: (1, k), 2: rectangular */
            const int32_t kh = shape == 1 ? 1 : rnd_in(1, 9), kw = shape == 0 ? 1 : rnd_in(1, 9);
            const int32_t sh = rnd_in(1, 3), sw = rnd_in(1, 3);
            const int32_t ph = rnd_in(0, kh - 1), pw = rnd_in(0, kw - 1);
            const int few = (it % 4) != 0;
            const int32_t oh = few ? rnd_in(1, 2) : rnd_in(1, 4), ow = few ? rnd_in(1, 4)
                                                                          : rnd_in(1, 5);
            /* an input that the output grid reads, with some taps in the padding */
            const int32_t ih = (oh - 1) * sh + kh - ph - rnd_in(0, ph);
            const int32_t iw = (ow - 1) * sw + kw - pw - rnd_in(0, pw);
            if (ih < 1 || iw < 1 || ih * iw * cin > MAX_H * MAX_W * 40 ||
                oh * ow * cout > MAX_H * MAX_W * 40) {
                continue;
            }
            const kws_conv_shape_t s = {ih, iw, cin, oh, ow, cout, kh, kw, sh, sw, ph, pw, dm};
            const int mode = it % 4;
            kws_act_t act = {rnd_in(-127, 128), rnd_in(-128, 127), -128, 127};
            if (mode == 1) {
                act.act_min = rnd_in(-128, 0);
                act.act_max = rnd_in(act.act_min, 127);
            }
            for (int32_t i = 0; i < cout; ++i) {
                dmult[i] = (int32_t)((1u << 30) + (rnd() << 6 & 0x3FFFFFFFu));
                dshift[i] = mode == 2 ? rnd_in(-2, 3) : rnd_in(-20, -1);
                dbias[i] = mode == 3 ? (int32_t)(rnd() << 8) : rnd_in(-40000, 40000);
            }
            const kws_requant_t rq = {dmult, dshift, (rnd() & 1) ? cout : 1};
            for (int32_t i = 0; i < kh * kw * cout; ++i) {
                dw_w[i] = (int8_t)rnd_in(-128, 127);
            }
            const int32_t n_in = ih * iw * cin, kind = (int32_t)(rnd() % 5);
            for (int32_t i = 0; i < n_in; ++i) {
                in[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                      : kind == 1 ? -128 : kind == 2 ? 127
                      : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                      : (int8_t)(i == n_in / 2 ? 127 : -128);
            }
            const size_t need = kws_depthwise_conv2d_s8_get_buffer_size(&s);
            if (need > sizeof scratch) {
                fz_printf("dw scratch %lu\n", (unsigned long)need);
                return 1;
            }
            const int32_t n_out = oh * ow * cout;
            if (kws_depthwise_conv2d_s8(&s, &act, &rq, in, (size_t)n_in, dw_w,
                                        (size_t)(kh * kw * cout), dbias, (size_t)cout, out,
                                        (size_t)n_out, scratch, sizeof scratch) != KWS_OK) {
                fz_printf("dw case %d: kernel error\n", it);
                return 1;
            }
            ++dcases;
            for (int32_t oy = 0; oy < oh; ++oy) {
                for (int32_t ox = 0; ox < ow; ++ox) {
                    for (int32_t o = 0; o < cout; ++o) {
                        int32_t acc = dbias[o];
                        for (int32_t ky = 0; ky < kh; ++ky) {
                            for (int32_t kx = 0; kx < kw; ++kx) {
                                const int32_t iy = oy * sh + ky - ph, ix = ox * sw + kx - pw;
                                if (iy >= 0 && iy < ih && ix >= 0 && ix < iw) {
                                    acc += (in[(iy * iw + ix) * cin + o / dm] +
                                            act.input_offset) * dw_w[(ky * kw + kx) * cout + o];
                                }
                            }
                        }
                        const int32_t q = rq.num == 1 ? 0 : o;
                        const int32_t y = kws_clamp(kws_requantize(acc, dmult[q], dshift[q]) +
                                                    act.output_offset, act.act_min, act.act_max);
                        ++doutputs;
                        if (out[(oy * ow + ox) * cout + o] != y) {
                            if (dbad < 5) {
                                fz_printf("dw case %d (%d,%d,%d): got %d want %d\n", it, oy, ox,
                                          o, out[(oy * ow + ox) * cout + o], y);
                            }
                            ++dbad;
                        }
                    }
                }
            }
        }
        fz_printf("dw any: %ld cases %ld outputs %ld mismatches\n", dcases, doutputs, dbad);
        if (dbad != 0) {
            return 1;
        }
    }
    /* conv2d (any kernel, stride, SAME / VALID) and pointwise: the DSP path's dot core in each
     * mode (fast SSAT, fast min / max, exact per channel (shift >= 0), exact per layer (a bias
     * too large for the doubled accumulator)) and its tails (n % 4, n % 16, odd pixel and
     * channel counts) */
    static int8_t cw[9 * 5 * 5 * 40];
    static int32_t cscratch[4096];
    long ccases = 0, coutputs = 0, cbad = 0, blocks = 0, prcases = 0, proutputs = 0, prbad = 0;
    long dcases_ns = 0, doutputs_ns = 0, dbad_ns = 0;
    long rcases = 0, rreused = 0, routputs = 0, rbad = 0;
    for (int it = 0; it < 3000; ++it) {
        const int pw = it % 2;
        const int big = !pw && it % 20 == 2; /* im2col in several blocks */
        const int32_t h = big ? rnd_in(9, 12) : rnd_in(1, 9), wd = big ? rnd_in(9, 12) : rnd_in(1, 9);
        const int32_t cin = pw ? rnd_in(1, 40) : big ? rnd_in(6, 8) : rnd_in(1, 6), oc = rnd_in(1, 9);
        const int32_t kh = pw ? 1 : big ? 5 : rnd_in(1, h < 5 ? h : 5);
        const int32_t kw = pw ? 1 : big ? 5 : rnd_in(1, wd < 5 ? wd : 5);
        const int32_t sh = pw || big ? 1 : rnd_in(1, 2), sw = pw || big ? 1 : rnd_in(1, 2);
        const int same = pw ? 0 : (int)(rnd() & 1);
        const int32_t oh = same ? (h + sh - 1) / sh : (h - kh + sh) / sh;
        const int32_t ow = same ? (wd + sw - 1) / sw : (wd - kw + sw) / sw;
        const int32_t pt = same ? ((oh - 1) * sh + kh - h > 0 ? ((oh - 1) * sh + kh - h) / 2 : 0) : 0;
        const int32_t pl = same ? ((ow - 1) * sw + kw - wd > 0 ? ((ow - 1) * sw + kw - wd) / 2 : 0) : 0;
        const kws_conv_shape_t s = {h, wd, cin, oh, ow, oc, kh, kw, sh, sw, pt, pl, 1};
        const int mode = (it / 2) % 4;
        kws_act_t act = {rnd_in(-127, 128), rnd_in(-128, 127), -128, 127};
        if (mode == 1) {
            act.act_min = rnd_in(-128, 0);
            act.act_max = rnd_in(act.act_min, 127);
        }
        for (int32_t i = 0; i < oc; ++i) {
            mult[i] = (int32_t)((1u << 30) + (rnd() << 6 & 0x3FFFFFFFu));
            shift[i] = mode == 2 ? rnd_in(-2, 3) : rnd_in(-20, -1);
            bias[i] = mode == 3 && i == 0 ? (int32_t)(rnd() << 8) : rnd_in(-40000, 40000);
        }
        const kws_requant_t rq = {mult, shift, (rnd() & 1) ? oc : 1};
        const int32_t kk = kh * kw * cin, n_in = h * wd * cin, n_out = oh * ow * oc;
        for (int32_t i = 0; i < oc * kk; ++i) {
            cw[i] = (int8_t)rnd_in(-128, 127);
        }
        const int32_t kind = (int32_t)(rnd() % 5);
        for (int32_t i = 0; i < n_in; ++i) {
            in[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                  : kind == 1 ? -128 : kind == 2 ? 127 : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                  : (int8_t)(i == n_in / 2 ? 127 : -128);
        }
        const size_t need = pw ? kws_pointwise_conv_s8_get_buffer_size(&s)
                               : kws_conv2d_s8_get_buffer_size(&s);
        if (need > sizeof cscratch) {
            fz_printf("scratch %lu > %lu\n", (unsigned long)need, (unsigned long)sizeof cscratch);
            return 1;
        }
        /* conv2d: every other case with a scratch between the least and the preferred
         * length (smaller im2col blocks) */
        const size_t least = pw ? need : kws_conv2d_s8_get_min_buffer_size(&s);
        const size_t len = (it & 1) && need > least ? least + rnd() % (need - least + 1)
                                                    : sizeof cscratch;
        const kws_status_t st =
            pw ? kws_pointwise_conv_s8(&s, &act, &rq, in, (size_t)n_in, cw, (size_t)(oc * kk),
                                       bias, (size_t)oc, out, (size_t)n_out, cscratch,
                                       sizeof cscratch)
               : kws_conv2d_s8(&s, &act, &rq, in, (size_t)n_in, cw, (size_t)(oc * kk), bias,
                               (size_t)oc, out, (size_t)n_out, cscratch, len);
        if (st != KWS_OK) {
            fz_printf("conv case %d: kernel error %d\n", it, st);
            return 1;
        }
        ++ccases;
        blocks += !pw && (long)kk * oh * ow > 8192; /* conv2d im2col in several blocks */
        for (int32_t oy = 0; oy < oh; ++oy) {
            for (int32_t ox = 0; ox < ow; ++ox) {
                for (int32_t o = 0; o < oc; ++o) {
                    int32_t acc = bias[o];
                    for (int32_t ky = 0; ky < kh; ++ky) {
                        for (int32_t kx = 0; kx < kw; ++kx) {
                            const int32_t iy = oy * sh + ky - pt, ix = ox * sw + kx - pl;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wd) {
                                continue;
                            }
                            for (int32_t ic = 0; ic < cin; ++ic) {
                                acc += (in[(iy * wd + ix) * cin + ic] + act.input_offset) *
                                       cw[((o * kh + ky) * kw + kx) * cin + ic];
                            }
                        }
                    }
                    const int32_t q = rq.num == 1 ? 0 : o;
                    const int32_t y = kws_clamp(kws_requantize(acc, mult[q], shift[q]) +
                                                act.output_offset, act.act_min, act.act_max);
                    ++coutputs;
                    if (out[(oy * ow + ox) * oc + o] != y) {
                        if (cbad < 5) {
                            fz_printf("%s case %d mode %d (%d,%d,%d): got %d want %d\n",
                                   pw ? "pointwise" : "conv", it, mode, oy, ox, o,
                                   out[(oy * ow + ox) * oc + o], y);
                        }
                        ++cbad;
                    }
                }
            }
        }
        {
            /* the same layer without scratch (the direct path on the DSP build) */
            static int8_t out_d[MAX_H * MAX_W * 40];
            const kws_status_t sd =
                pw ? kws_pointwise_conv_s8(&s, &act, &rq, in, (size_t)n_in, cw,
                                           (size_t)(oc * kk), bias, (size_t)oc, out_d,
                                           (size_t)n_out, NULL, 0)
                   : kws_conv2d_s8(&s, &act, &rq, in, (size_t)n_in, cw, (size_t)(oc * kk),
                                   bias, (size_t)oc, out_d, (size_t)n_out, NULL, 0);
            ++dcases_ns;
            for (int32_t i = 0; i < n_out; ++i, ++doutputs_ns) {
                if (sd != KWS_OK || out_d[i] != out[i]) {
                    if (dbad_ns < 5) {
                        fz_printf("%s case %d without scratch (%d): got %d want %d\n",
                                  pw ? "pointwise" : "conv", it, i, out_d[i], out[i]);
                    }
                    ++dbad_ns;
                }
            }
        }
        if (pw) {
            /* the same layer through kws_pointwise_conv_s8_reusing on a copy of the input
             * (4-byte aligned, exactly n_in / n_out bytes): equal to the output checked above;
             * "reusing": the cases that wrote their widened rows into the input */
            enum { RW = (MAX_H * MAX_W * 40 + 3) / 4 };
            static int32_t in_rw[RW], out_rw[RW];
            int8_t *in_r = (int8_t *)in_rw, *out_r = (int8_t *)out_rw;
            memcpy(in_r, in, (size_t)n_in);
            const kws_status_t sr = kws_pointwise_conv_s8_reusing(
                &s, &act, &rq, in_r, (size_t)n_in, cw, (size_t)(oc * kk), bias, (size_t)oc,
                out_r, (size_t)n_out);
            ++rcases;
            rreused += memcmp(in_r, in, (size_t)n_in) != 0;
            for (int32_t i = 0; i < n_out; ++i, ++routputs) {
                if (sr != KWS_OK || out_r[i] != out[i]) {
                    if (rbad < 5) {
                        fz_printf("pointwise case %d reusing (%d): got %d want %d\n", it, i,
                                  out_r[i], out[i]);
                    }
                    ++rbad;
                }
            }
        }
        if (pw && mode == 0) {
            /* the same layer through kws_pointwise_conv_s8_prepared, its weights prepared as
             * kws export does (kws/export/codegen.py _prepare_pointwise): equal to the output
             * just checked against the reference */
            static uint32_t pf[10 * 40 / 2];
            static int32_t pb[10], pr[30];
            static int8_t out2[MAX_H * MAX_W * 40];
            const int32_t oc2 = (oc + 1) & ~1, ic4 = (cin + 3) & ~3;
            for (int32_t o = 0; o < oc2; ++o) {
                int32_t sum = 0;
                for (int32_t i = 0; o < oc && i < cin; ++i) {
                    sum += cw[o * cin + i];
                }
                pb[o] = o < oc ? 2 * (bias[o] + act.input_offset * sum) : 0;
                const int32_t q = rq.num == 1 ? 0 : (o < oc ? o : oc - 1);
                const int32_t r = -shift[q];
                pr[3 * o] = mult[q];
                pr[3 * o + 1] = (1 << (r - 1)) + act.output_offset * (1 << r);
                pr[3 * o + 2] = r;
                for (int32_t g = 0; g < ic4 / 4; ++g) {
                    for (int32_t t = 0; t < 2; ++t) {
                        const int32_t il = 4 * g + t, ih = il + 2;
                        const int32_t wl = o < oc && il < cin ? 2 * cw[o * cin + il] : 0;
                        const int32_t wh = o < oc && ih < cin ? 2 * cw[o * cin + ih] : 0;
                        pf[(((o / 2) * (ic4 / 4) + g) * 2 + (o % 2)) * 2 + t] =
                            (uint32_t)(uint16_t)wl | (uint32_t)(uint16_t)wh << 16;
                    }
                }
            }
            const kws_pw_prepared_t prep = {pf, (size_t)(oc2 * ic4 / 2), pb, (size_t)oc2, pr,
                                            (size_t)(3 * oc2), ic4};
            if (kws_pointwise_conv_s8_prepared(&s, &act, &rq, &prep, in, (size_t)n_in, out2,
                                               (size_t)n_out, cscratch,
                                               sizeof cscratch) != KWS_OK) {
                fz_printf("prepared case %d: kernel error\n", it);
                return 1;
            }
            ++prcases;
            for (int32_t i = 0; i < n_out; ++i) {
                ++proutputs;
                if (out2[i] != out[i]) {
                    if (prbad < 5) {
                        fz_printf("prepared case %d (%d): got %d want %d\n", it, i, out2[i],
                                  out[i]);
                    }
                    ++prbad;
                }
            }
        }
    }
    fz_printf("conv/pointwise: %ld cases (%ld multi-block) %ld outputs %ld mismatches\n", ccases,
           blocks, coutputs, cbad);
    bad += cbad;
    fz_printf("prepared pointwise: %ld cases %ld outputs %ld mismatches\n", prcases, proutputs,
              prbad);
    bad += prbad;
    fz_printf("conv/pointwise without scratch: %ld cases %ld outputs %ld mismatches\n",
              dcases_ns, doutputs_ns, dbad_ns);
    bad += dbad_ns;
    fz_printf("pointwise reusing its input: %ld cases (%ld reusing) %ld outputs %ld mismatches\n",
              rcases, rreused, routputs, rbad);
    bad += rbad;
    /* average pool: random shapes, windows, strides, SAME / VALID, clamps; inputs as above
     * (all 127 / all -128 over the largest windows reach the 16-bit lane sums' limits) */
    long pcases = 0, poutputs = 0, pbad = 0;
    for (int it = 0; it < 2000; ++it) {
        const int32_t h = rnd_in(1, 16), wd = rnd_in(1, 16), c = rnd_in(1, 19);
        const int32_t kh = rnd_in(1, h), kw = rnd_in(1, wd);
        const int32_t sh = rnd_in(1, 3), sw = rnd_in(1, 3);
        const int same = (int)(rnd() & 1);
        const int32_t oh = same ? (h + sh - 1) / sh : (h - kh + sh) / sh;
        const int32_t ow = same ? (wd + sw - 1) / sw : (wd - kw + sw) / sw;
        const int32_t pt = same ? ((oh - 1) * sh + kh - h > 0 ? ((oh - 1) * sh + kh - h) / 2 : 0) : 0;
        const int32_t pl = same ? ((ow - 1) * sw + kw - wd > 0 ? ((ow - 1) * sw + kw - wd) / 2 : 0) : 0;
        const kws_conv_shape_t s = {h, wd, c, oh, ow, c, kh, kw, sh, sw, pt, pl, 1};
        int32_t lo = -128, hi = 127;
        if (it % 3 == 1) {
            lo = rnd_in(-128, 0);
            hi = rnd_in(lo, 127);
        }
        const int32_t n_in = h * wd * c, kind = (int32_t)(rnd() % 5);
        for (int32_t i = 0; i < n_in; ++i) {
            in[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                  : kind == 1 ? -128 : kind == 2 ? 127 : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                  : (int8_t)(i == n_in / 2 ? 127 : -128);
        }
        if (kws_avgpool_s8(&s, lo, hi, in, (size_t)n_in, out, (size_t)(oh * ow * c)) != KWS_OK) {
            fz_printf("avgpool case %d: kernel error\n", it);
            return 1;
        }
        ++pcases;
        for (int32_t oy = 0; oy < oh; ++oy) {
            for (int32_t ox = 0; ox < ow; ++ox) {
                for (int32_t o = 0; o < c; ++o) {
                    int32_t acc = 0, count = 0;
                    for (int32_t ky = 0; ky < kh; ++ky) {
                        for (int32_t kx = 0; kx < kw; ++kx) {
                            const int32_t iy = oy * sh + ky - pt, ix = ox * sw + kx - pl;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                acc += in[(iy * wd + ix) * c + o];
                                ++count;
                            }
                        }
                    }
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    const int32_t y = kws_clamp(acc, lo, hi);
                    ++poutputs;
                    if (out[(oy * ow + ox) * c + o] != y) {
                        if (pbad < 5) {
                            fz_printf("avgpool case %d (%d,%d,%d): got %d want %d\n", it, oy, ox,
                                      o, out[(oy * ow + ox) * c + o], y);
                        }
                        ++pbad;
                    }
                }
            }
        }
    }
    fz_printf("avgpool: %ld cases %ld outputs %ld mismatches\n", pcases, poutputs, pbad);
    bad += pbad;
    /* fully connected: 1..200 inputs (tails of 4), 1..9 outputs (odd counts), every mode */
    long fcases = 0, foutputs = 0, fbad = 0;
    for (int it = 0; it < 2000; ++it) {
        const int32_t ni = rnd_in(1, 200), no = rnd_in(1, 9), mode = it % 4;
        kws_act_t act = {rnd_in(-127, 128), rnd_in(-128, 127), -128, 127};
        if (mode == 1) {
            act.act_min = rnd_in(-128, 0);
            act.act_max = rnd_in(act.act_min, 127);
        }
        for (int32_t i = 0; i < no; ++i) {
            mult[i] = (int32_t)((1u << 30) + (rnd() << 6 & 0x3FFFFFFFu));
            shift[i] = mode == 2 ? rnd_in(-2, 3) : rnd_in(-20, -1);
            bias[i] = mode == 3 ? (int32_t)(rnd() << 8) : rnd_in(-40000, 40000);
        }
        const kws_requant_t rq = {mult, shift, (rnd() & 1) ? no : 1};
        for (int32_t i = 0; i < ni * no; ++i) {
            cw[i] = (int8_t)rnd_in(-128, 127);
        }
        const int32_t kind = (int32_t)(rnd() % 5);
        for (int32_t i = 0; i < ni; ++i) {
            in[i] = kind == 0 ? (int8_t)rnd_in(-128, 127)
                  : kind == 1 ? -128 : kind == 2 ? 127 : kind == 3 ? (int8_t)((i & 1) ? 127 : -128)
                  : (int8_t)(i == ni / 2 ? 127 : -128);
        }
        if (kws_fully_connected_s8(ni, no, &act, &rq, in, (size_t)ni, cw, (size_t)(ni * no), bias,
                                   (size_t)no, out, (size_t)no) != KWS_OK) {
            fz_printf("fc case %d: kernel error\n", it);
            return 1;
        }
        ++fcases;
        for (int32_t o = 0; o < no; ++o) {
            int32_t acc = bias[o];
            for (int32_t i = 0; i < ni; ++i) {
                acc += (in[i] + act.input_offset) * cw[o * ni + i];
            }
            const int32_t q = rq.num == 1 ? 0 : o;
            const int32_t y = kws_clamp(kws_requantize(acc, mult[q], shift[q]) + act.output_offset,
                                        act.act_min, act.act_max);
            ++foutputs;
            if (out[o] != y) {
                if (fbad < 5) {
                    fz_printf("fc case %d (%d): got %d want %d\n", it, o, out[o], y);
                }
                ++fbad;
            }
        }
    }
    fz_printf("fc: %ld cases %ld outputs %ld mismatches\n", fcases, foutputs, fbad);
    bad += fbad;
    bad += fuzz_add_mul();
    bad += fuzz_dw_prepared(0);
    bad += fuzz_dw_prepared(1);
    bad += fuzz_dw_prepared(2);
    bad += fuzz_strided_slice();
    bad += fuzz_maxpool();
    bad += fuzz_mean();
    bad += fuzz_avgpool_running();
    return bad != 0;
}
