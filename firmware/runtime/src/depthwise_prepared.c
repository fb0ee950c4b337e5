/*
 * depthwise_prepared.c - int8 depthwise conv2d on weights prepared by `kws export`
 * (kws_dw_prepared_t): any kernel, stride and padding, no scratch; depth_multiplier 1, or a
 * multiple of 4 on a one-channel input (TFLM micro_speech's 10x8 stride-2 layer, 8 per input),
 * where each group of four channels reads the one input byte, widened to both int16 lanes
 * with LDRSB + PKHBT instead of LDR + 2 SXTB16.
 *
 * Arithmetic. With w' = 2 w and B = 2 * (bias + input_offset * sum over all taps of w) (both
 * exported), and x' = x for a tap inside the input, -input_offset for a tap in the padding:
 *   B + sum over all taps of x' * w' = 2 * (bias + sum over the taps inside of
 *                                            (x + input_offset) * w) = 2 acc,
 * TFLite's accumulator doubled (the padding taps cancel their share of the folded offset).
 * The exporter proves |acc| < 2^30, so 2 acc fits int32 (the partial sums may wrap; the
 * total is exact modulo 2^32).
 *
 * Portable path: per output value the sum above, then kws_requantize as TFLite does.
 *
 * DSP path: per output pixel and group of four channels, the accumulators start at B; per
 * tap one LDR of the four channels' inputs (a word of four -input_offset bytes for a padding
 * tap), SXTB16 and SXTB16 ROR 8 to the int16 lanes (c0, c2) and (c1, c3), and SMLABB /
 * SMLATT with the tap's two weight words: 4 MACs per LDR + LDRD + 2 SXTB16 + 4 MACs (on the
 * M4 in assembly, an interior pixel's taps read through a table of their input offsets, built
 * once per call: one more LDR per tap, and one loop for every kernel shape, e.g. the (k, 1)
 * time kernels of streaming steps; the prepared array is read as one stream). Each output is
 * the fast requantization
 * of kws_rqf_t (kws_internal.h) in two fewer instructions:
 *   t = SMMLAR(2 acc, m, k) = SMMULR(2 acc, m) + k,   y = SSAT8((t + (2 acc >> 31)) >> r)
 * where [acc < 0] replaces [SMMULR(2 acc, m) < 0]: the two differ only when SMMULR gives 0,
 * and then floor((2^(r-1) + output_offset 2^r - 1) / 2^r) = floor((2^(r-1) + output_offset
 * 2^r) / 2^r) = output_offset for r >= 1. The channels past the last full group of four use
 * the portable arithmetic.
 */
#include "kws_internal.h"
#include "kws_simd.h"

/* DWP_NOINLINE: keep a function's stack buffers out of its caller's frame (the layers that
 * never call it do not pay for them; one frame per kernel call, not one per inlined copy). */
#if defined(__GNUC__)
#define DWP_NOINLINE __attribute__((noinline))
#else
#define DWP_NOINLINE
#endif

/* Words of prepared data per group of four channels besides the weights: four biases and
 * (m, k, r) x 4. */
#define DWP_PARAMS 16

/* Prepared words of one group of four channels. */
static size_t dwp_group_words(int32_t taps) { return DWP_PARAMS + 2 * (size_t)taps; }

/* The prepared requantization (m, k, r) of channel o. */
static const int32_t *dwp_rq(const kws_dw_prepared_t *prep, int32_t taps, int32_t o)
{
    return prep->data + (size_t)(o / 4) * dwp_group_words(taps) + 4 + 2 * (size_t)taps +
           3 * (size_t)(o & 3);
}

/* 1 if the prepared requantization of channels [first, cout) is one kws_requantize takes. */
static int dwp_rq_ok(const kws_dw_prepared_t *prep, int32_t taps, int32_t first, int32_t cout)
{
    for (int32_t o = first; o < cout; ++o) {
        const int32_t *q = dwp_rq(prep, taps, o);
        if (q[0] < 0 || q[2] < 1 || q[2] > 31) {
            return 0;
        }
    }
    return 1;
}

/* Output channels [4 g0, out_c) at the pixel whose window starts at (iy0, ix0) (taps inside:
 * rows [ky0, ky1), columns [kx0, kx1)): the portable arithmetic, a group of four channels at
 * a time (per tap the group's two weight words), then kws_rq1_apply with the prepared
 * multiplier and shift -r as TFLite's kws_requantize. */
static DWP_NOINLINE void dwp_portable(const kws_conv_shape_t *s, const kws_act_t *act,
                         const kws_dw_prepared_t *prep, const int8_t *input, int32_t iy0,
                         int32_t ix0, int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1,
                         int32_t g0, int8_t *y)
{
    const int32_t taps = s->k_h * s->k_w, cout = s->out_c, cin = s->in_c;
    const int32_t dm = s->depth_multiplier, pad = -act->input_offset;
    const size_t gw = dwp_group_words(taps);
    const int interior = ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w;
    for (int32_t g = g0; 4 * g < cout; ++g) {
        const int32_t *d = prep->data + (size_t)g * gw;
        /* 2 acc, wrapping: the partial sums may leave int32, the total does not */
        uint32_t a0 = (uint32_t)d[0], a1 = (uint32_t)d[1], a2 = (uint32_t)d[2],
                 a3 = (uint32_t)d[3];
        const int32_t *wd = d + 4;
        /* the input channels of the group's channels (a padding channel reads the last) */
        int32_t ic[4];
        for (int32_t j = 0; j < 4; ++j) {
            const int32_t o = 4 * g + j < cout ? 4 * g + j : cout - 1;
            ic[j] = dm == 1 ? o : o / dm;
        }
        for (int32_t ky = 0; ky < s->k_h; ++ky) {
            const int32_t row = (iy0 + ky) * s->in_w + ix0; /* pixel index at kx = 0 */
            const int row_in = interior || (ky >= ky0 && ky < ky1);
            for (int32_t kx = 0; kx < s->k_w; ++kx, wd += 2) {
                const uint32_t we = (uint32_t)wd[0], wo = (uint32_t)wd[1];
                int32_t xa = pad, xb = pad, xc = pad, xd = pad;
                if (interior || (row_in && kx >= kx0 && kx < kx1)) {
                    const int8_t *xp = input + (size_t)(row + kx) * cin;
                    xa = xp[ic[0]];
                    xb = xp[ic[1]];
                    xc = xp[ic[2]];
                    xd = xp[ic[3]];
                }
                a0 += (uint32_t)(xa * (int16_t)(we & 0xFFFFu));
                a2 += (uint32_t)(xc * (int16_t)(we >> 16));
                a1 += (uint32_t)(xb * (int16_t)(wo & 0xFFFFu));
                a3 += (uint32_t)(xd * (int16_t)(wo >> 16));
            }
        }
        const int32_t acc2[4] = {(int32_t)a0, (int32_t)a1, (int32_t)a2, (int32_t)a3};
        for (int32_t j = 0; j < 4 && 4 * g + j < cout; ++j) {
            const int32_t *q = wd + 3 * j;
            if (q[2] <= 22) {
                /* the DSP path's arithmetic in C (kws_rqf_t: SMMULR(2 acc, m) + k, the sign
                 * term, the shift), exact for the exporter's r <= 22 */
                const int32_t t = (int32_t)(((int64_t)acc2[j] * q[0] + ((int64_t)1 << 31)) >> 32);
                y[4 * g + j] = (int8_t)kws_clamp((t + q[1] + (acc2[j] >> 31)) >> q[2], -128, 127);
                continue;
            }
            kws_rq1_t r; /* kws_rq1 of (m, -r): r >= 1 (dwp_rq_ok) */
            r.multiplier = q[0];
            r.left = 0;
            r.right = q[2];
            r.round = ((int64_t)1 << 30) + ((int64_t)1 << (q[2] + 30));
            y[4 * g + j] = kws_out1_s8_full(acc2[j] / 2, r, act->output_offset);
        }
    }
}


#if KWS_USE_DSP
/* DWP_ASM: 1 where the inner loops are the M4 assembly (a 32-bit address space: the border
 * pixels' tables hold addresses). */
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
#define DWP_ASM 1
#else
#define DWP_ASM 0
#endif

/* Channels up to which the M4 border pixels run the assembly loop (a row of padding bytes on
 * the stack). */
#define DWP_MAX_PAD 128

/* Taps up to which the M4 loop runs unrolled (a straight run of taps per group). */
#define DWP_UNROLL 16

/* Taps up to which an interior pixel runs the table-driven loop (the table is on the stack);
 * it needs 2 or more. */
#define DWP_MAX_TABLE 81

/* One output of the DSP path from 2 acc and the channel's (m, k, r) (see the file comment). */
static KWS_ALWAYS_INLINE int8_t dwp_out(int32_t acc2, const int32_t *q)
{
    const int32_t t = kws_smmlar(acc2, q[0], q[1]); /* SMMULR(2 acc, m) + k */
    return (int8_t)kws_ssat8((t + (acc2 >> 31)) >> q[2]);
}

/* One tap of four channels: the input word xv, the weight words w[0] (c0, c2), w[1] (c1, c3). */
#define DWP_TAP(xv, w)                                                                      \
    do {                                                                                    \
        const uint32_t xe_ = kws_sxtb16(xv), xo_ = kws_sxtb16_ror8(xv);                     \
        a0 = kws_smlabb(xe_, (uint32_t)(w)[0], a0);                                         \
        a2 = kws_smlatt(xe_, (uint32_t)(w)[0], a2);                                         \
        a1 = kws_smlabb(xo_, (uint32_t)(w)[1], a1);                                         \
        a3 = kws_smlatt(xo_, (uint32_t)(w)[1], a3);                                         \
    } while (0)

/* The four outputs of a group from its accumulators; q: the group's (m, k, r) x 4. */
#define DWP_OUT4(y, q)                                                                      \
    do {                                                                                    \
        (y)[0] = dwp_out(a0, (q));                                                          \
        (y)[1] = dwp_out(a1, (q) + 3);                                                      \
        (y)[2] = dwp_out(a2, (q) + 6);                                                      \
        (y)[3] = dwp_out(a3, (q) + 9);                                                      \
    } while (0)

/* The input word of one tap of a group in the lane order of DWP_TAP (bytes 0, 2 the lanes
 * of channels 0, 2; bytes 1, 3 of channels 1, 3). */
static KWS_ALWAYS_INLINE uint32_t dwp_xword(const int8_t *p, int mode)
{
    if (mode == 0) {
        return kws_read_u32(p);
    }
    if (mode == 2) {
        return (uint32_t)(uint8_t)p[0] * 0x0101u | (uint32_t)(uint8_t)p[1] * 0x01010000u;
    }
    return (uint32_t)(uint8_t)p[0] * 0x01010101u;
}

/* How a group of four channels reads its inputs: four channels (depth multiplier 1), two
 * channels twice each (depth multiplier 2: LDRH, PKHBT, one SXTB16 gives both lane pairs), or
 * one channel four times (a multiple of 4: LDRSB, PKHBT). */
enum { DWP_WORD, DWP_BCAST, DWP_DM2 };

/* Groups [0, groups) of `pixels` interior pixels (every tap inside) of one output row, each
 * window xstep input bytes after the previous one and each output 4 * groups bytes after the
 * previous one: x the input at the first window's first tap, channel 0; tab the taps' (2 or
 * more) input offsets from it; d the prepared data; y the first pixel's output; mode a
 * DWP_* read, gstep the input bytes from one group to the next (4, 2, or 1 / 0). */
static DWP_NOINLINE void dwp_interior(const int8_t *x, const int32_t *tab, int32_t taps,
                                      int32_t groups, const int32_t *d, int8_t *y,
                                      int32_t pixels, int32_t xstep, int mode, int32_t gstep)
{
#if defined(__ARM_FEATURE_DSP) && !defined(KWS_SIMD_EMULATE)
    /* r0-r3 accumulators, r4-r6 / r8 temporaries, r9 table, r10 group input, r11 data,
     * r12 taps left, lr output; ctx: table, taps, the pixel's output end, input, data, output,
     * pixels left, next window - this one's last group, output bytes per pixel */
    int32_t ctx[10] = {(int32_t)(intptr_t)tab, taps, (int32_t)(intptr_t)(y + 4 * groups),
                       (int32_t)(intptr_t)x, (int32_t)(intptr_t)d, (int32_t)(intptr_t)y,
                       pixels, xstep - gstep * groups, 4 * groups, gstep};
#define DWP_ASM_TAP                                                                         \
    "ldr r8, [r9], #4\n\t"                                                                  \
    "ldr r8, [r10, r8]\n\t"                                                                 \
    "ldrd r5, r6, [r11], #8\n\t"                                                            \
    "sxtb16 r4, r8\n\t"                                                                     \
    "sxtb16 r8, r8, ror #8\n\t"                                                             \
    "smlabb r0, r4, r5, r0\n\t"                                                             \
    "smlatt r2, r4, r5, r2\n\t"                                                             \
    "smlabb r1, r8, r6, r1\n\t"                                                             \
    "smlatt r3, r8, r6, r3\n\t"
    /* one tap of one input channel broadcast to the four channels (depth multiplier) */
#define DWP_ASM_TAP_BCAST                                                                   \
    "ldr r8, [r9], #4\n\t"                                                                  \
    "ldrsb r8, [r10, r8]\n\t"                                                               \
    "ldrd r5, r6, [r11], #8\n\t"                                                            \
    "pkhbt r4, r8, r8, lsl #16\n\t"                                                         \
    "smlabb r0, r4, r5, r0\n\t"                                                             \
    "smlatt r2, r4, r5, r2\n\t"                                                             \
    "smlabb r1, r4, r6, r1\n\t"                                                             \
    "smlatt r3, r4, r6, r3\n\t"
    /* one tap of two input channels, each to two channels (depth multiplier 2): the bytes
     * (x0, x1, x1, 0), SXTB16 to the lanes (x0, x1) */
#define DWP_ASM_TAP_DM2                                                                     \
    "ldr r8, [r9], #4\n\t"                                                                  \
    "ldrh r8, [r10, r8]\n\t"                                                                \
    "ldrd r5, r6, [r11], #8\n\t"                                                            \
    "pkhbt r8, r8, r8, lsl #8\n\t"                                                          \
    "sxtb16 r4, r8\n\t"                                                                     \
    "smlabb r0, r4, r5, r0\n\t"                                                             \
    "smlatt r2, r4, r5, r2\n\t"                                                             \
    "smlabb r1, r4, r6, r1\n\t"                                                             \
    "smlatt r3, r4, r6, r3\n\t"
    /* two outputs from accumulators a, b and (m, k, r) in r4-r6 / r8, r9, r12 */
#define DWP_ASM_OUT2(a, b)                                                                  \
    "ldm r11!, {r4, r5, r6, r8, r9, r12}\n\t"                                               \
    "smmlar r5, " a ", r4, r5\n\t"                                                          \
    "add r5, r5, " a ", asr #31\n\t"                                                        \
    "asr r5, r5, r6\n\t"                                                                    \
    "ssat r5, #8, r5\n\t"                                                                   \
    "strb r5, [lr], #1\n\t"                                                                 \
    "smmlar r9, " b ", r8, r9\n\t"                                                          \
    "add r9, r9, " b ", asr #31\n\t"                                                        \
    "asr r9, r9, r12\n\t"                                                                   \
    "ssat r9, #8, r9\n\t"                                                                   \
    "strb r9, [lr], #1\n\t"
    /* step: the instructions that move r10 to the next group's input */
#define DWP_ASM_GROUP_END(step)                                                             \
    DWP_ASM_OUT2("r0", "r1")                                                                \
    DWP_ASM_OUT2("r2", "r3")                                                                \
    step                                                                                    \
    "ldr r12, [%[c], #8]\n\t"                                                               \
    "cmp lr, r12\n\t"                                                                       \
    "bne 1b\n\t"                                                                            \
    "ldrd r11, r12, [%[c], #24]\n\t" /* pixels left, window step */                         \
    "add r10, r10, r12\n\t"                                                                 \
    "ldr r12, [%[c], #32]\n\t"                                                              \
    "add r12, lr, r12\n\t"                                                                  \
    "str r12, [%[c], #8]\n\t"                                                               \
    "subs r11, r11, #1\n\t"                                                                 \
    "str r11, [%[c], #24]\n\t"                                                              \
    "ldr r11, [%[c], #16]\n\t" /* the data again */                                        \
    "bne 1b\n\t"
    if (mode == DWP_DM2) {
        __asm__ volatile(
            "ldr r10, [%[c], #12]\n\t"
            "ldr r11, [%[c], #16]\n\t"
            "ldr lr, [%[c], #20]\n\t"
            "1:\n\t"
            "ldm r11!, {r0, r1, r2, r3}\n\t"
            "ldrd r9, r12, [%[c]]\n\t"
            "lsrs r12, r12, #1\n\t" /* r12 tap pairs (>= 1), carry: an odd tap first */
            "bcc 2f\n\t"
            DWP_ASM_TAP_DM2
            "2:\n\t"
            DWP_ASM_TAP_DM2
            DWP_ASM_TAP_DM2
            "subs r12, r12, #1\n\t"
            "bne 2b\n\t"
            DWP_ASM_GROUP_END("add r10, r10, #2\n\t")
            :
            : [c] "r"(ctx)
            : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
              "cc", "memory");
        return;
    }
    if (mode == DWP_BCAST) {
        __asm__ volatile(
            "ldr r10, [%[c], #12]\n\t"
            "ldr r11, [%[c], #16]\n\t"
            "ldr lr, [%[c], #20]\n\t"
            "1:\n\t"
            "ldm r11!, {r0, r1, r2, r3}\n\t"
            "ldrd r9, r12, [%[c]]\n\t"
            "lsrs r12, r12, #1\n\t" /* r12 tap pairs (>= 1), carry: an odd tap first */
            "bcc 2f\n\t"
            DWP_ASM_TAP_BCAST
            "2:\n\t"
            DWP_ASM_TAP_BCAST
            DWP_ASM_TAP_BCAST
            "subs r12, r12, #1\n\t"
            "bne 2b\n\t"
            DWP_ASM_GROUP_END("ldr r12, [%[c], #36]\n\tadd r10, r10, r12\n\t")
            :
            : [c] "r"(ctx)
            : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
              "cc", "memory");
        return;
    }
    if (taps <= DWP_UNROLL) {
        /* the taps unrolled: each group branches (TBH) to tap DWP_UNROLL - taps of a straight
         * run of DWP_UNROLL taps */
        ctx[1] = DWP_UNROLL - taps;
        __asm__ volatile(
            "ldr r10, [%[c], #12]\n\t"
            "ldr r11, [%[c], #16]\n\t"
            "ldr lr, [%[c], #20]\n\t"
            "1:\n\t"
            "ldm r11!, {r0, r1, r2, r3}\n\t"
            "ldrd r9, r12, [%[c]]\n\t"
            "tbh [pc, r12, lsl #1]\n\t"
            "4:\n\t"
            ".hword (40f-4b)/2, (41f-4b)/2, (42f-4b)/2, (43f-4b)/2\n\t"
            ".hword (44f-4b)/2, (45f-4b)/2, (46f-4b)/2, (47f-4b)/2\n\t"
            ".hword (48f-4b)/2, (49f-4b)/2, (50f-4b)/2, (51f-4b)/2\n\t"
            ".hword (52f-4b)/2, (53f-4b)/2, (54f-4b)/2, (55f-4b)/2\n\t"
            "40:\n\t" DWP_ASM_TAP "41:\n\t" DWP_ASM_TAP "42:\n\t" DWP_ASM_TAP
            "43:\n\t" DWP_ASM_TAP "44:\n\t" DWP_ASM_TAP "45:\n\t" DWP_ASM_TAP
            "46:\n\t" DWP_ASM_TAP "47:\n\t" DWP_ASM_TAP "48:\n\t" DWP_ASM_TAP
            "49:\n\t" DWP_ASM_TAP "50:\n\t" DWP_ASM_TAP "51:\n\t" DWP_ASM_TAP
            "52:\n\t" DWP_ASM_TAP "53:\n\t" DWP_ASM_TAP "54:\n\t" DWP_ASM_TAP
            "55:\n\t" DWP_ASM_TAP
            DWP_ASM_GROUP_END("add r10, r10, #4\n\t")
            :
            : [c] "r"(ctx)
            : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
              "cc", "memory");
        return;
    }
    __asm__ volatile(
        "ldr r10, [%[c], #12]\n\t"
        "ldr r11, [%[c], #16]\n\t"
        "ldr lr, [%[c], #20]\n\t"
        "1:\n\t"
        "ldm r11!, {r0, r1, r2, r3}\n\t"
        "ldrd r9, r12, [%[c]]\n\t"
        "lsrs r12, r12, #1\n\t" /* r12 tap pairs (>= 1), carry: an odd tap first */
        "bcc 2f\n\t"
        DWP_ASM_TAP
        "2:\n\t"
        DWP_ASM_TAP
        DWP_ASM_TAP
        "subs r12, r12, #1\n\t"
        "bne 2b\n\t"
        DWP_ASM_GROUP_END("add r10, r10, #4\n\t")
        :
        : [c] "r"(ctx)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
          "cc", "memory");
#undef DWP_ASM_TAP
#undef DWP_ASM_TAP_BCAST
#undef DWP_ASM_TAP_DM2
#undef DWP_ASM_OUT2
#undef DWP_ASM_GROUP_END
#else
    for (int32_t p = 0; p < pixels; ++p, x += xstep) {
        const int32_t *q = d;
        const int8_t *xg = x;
        for (int32_t g = 0; g < groups; ++g, xg += gstep, y += 4) {
            int32_t a0 = q[0], a1 = q[1], a2 = q[2], a3 = q[3]; /* 2 acc */
            q += 4;
            for (int32_t t = 0; t < taps; ++t, q += 2) {
                const uint32_t xv = dwp_xword(xg + tab[t], mode);
                DWP_TAP(xv, q);
            }
            DWP_OUT4(y, q);
            q += 12;
        }
    }
#endif
}

/* Words of the pair section per group of four channels: per channel 2 b, 2 b, (2 w0, 2 w1),
 * (2 w1, 2 w2), m, k, r. */
#define DWP_PAIR_WORDS 28

#if DWP_ASM
/* one channel: its P01 / P23 (int16 pairs of taps 0, 1 and 2, 3) into r0 / r1 by the two
 * SXTB16 given, then the two pixels' accumulators, the requantization and the stores */
#define DWP_ASM_PAIR_CH(sx0, sx1)                                                           \
    sx0 "\n\t" sx1 "\n\t"                                                                   \
    "ldm r11!, {r2, r3, r7, r12}\n\t"                                                       \
    "smlad r2, r0, r7, r2\n\t"                                                              \
    "smlabt r2, r1, r12, r2\n\t"                                                            \
    "smlad r3, r1, r12, r3\n\t"                                                             \
    "smlatb r3, r0, r7, r3\n\t"                                                             \
    "ldm r11!, {r0, r1, r7}\n\t"                                                            \
    "add r12, r1, r2, asr #31\n\t"                                                          \
    "smmlar r2, r2, r0, r12\n\t"                                                            \
    "add r12, r1, r3, asr #31\n\t"                                                          \
    "smmlar r3, r3, r0, r12\n\t"                                                            \
    "asr r2, r2, r7\n\t"                                                                    \
    "ssat r2, #8, r2\n\t"                                                                   \
    "asr r3, r3, r7\n\t"                                                                    \
    "ssat r3, #8, r3\n\t"                                                                   \
    "strb r3, [lr, r9]\n\t"                                                                 \
    "strb r2, [lr], #1\n\t"
/* one group of four channels of a pair: r10 moved on 4 bytes to the group's input, the four
 * input pixels' words at r10, r10 + r9, ... packed, then the four channels */
#define DWP_ASM_PAIR_GROUP                                                                  \
    "ldr r0, [r10, #4]!\n\t"                                                                \
    "ldr r1, [r10, r9]\n\t"                                                                 \
    "ldr r2, [r10, r9, lsl #1]\n\t"                                                         \
    "add r3, r10, r9, lsl #1\n\t"                                                           \
    "ldr r3, [r3, r9]\n\t"                                                                  \
    "pkhbt r4, r0, r1, lsl #16\n\t" /* c0 c1 of taps 0, 1 */                                \
    "pkhtb r5, r1, r0, asr #16\n\t" /* c2 c3 of taps 0, 1 */                                \
    "pkhbt r6, r2, r3, lsl #16\n\t" /* taps 2, 3 */                                         \
    "pkhtb r8, r3, r2, asr #16\n\t"                                                         \
    DWP_ASM_PAIR_CH("sxtb16 r0, r4", "sxtb16 r1, r6")                                       \
    DWP_ASM_PAIR_CH("sxtb16 r0, r4, ror #8", "sxtb16 r1, r6, ror #8")                       \
    DWP_ASM_PAIR_CH("sxtb16 r0, r5", "sxtb16 r1, r8")                                       \
    DWP_ASM_PAIR_CH("sxtb16 r0, r5, ror #8", "sxtb16 r1, r8, ror #8")
#endif

#if DWP_ASM
/* one channel of a single pixel: P01 into r0 by the SXTB16 given, tap 2 (the lane of r6 / r8
 * the SMLA given takes) */
#define DWP_ASM_SINGLE_CH(sx0, mla2)                                                        \
    sx0 "\n\t"                                                                              \
    "ldm r11!, {r2, r3, r7, r12}\n\t"                                                       \
    "smlad r2, r0, r7, r2\n\t"                                                              \
    mla2 "\n\t"                                                                             \
    "ldm r11!, {r0, r1, r7}\n\t"                                                            \
    "add r12, r1, r2, asr #31\n\t"                                                          \
    "smmlar r2, r2, r0, r12\n\t"                                                            \
    "asr r2, r2, r7\n\t"                                                                    \
    "ssat r2, #8, r2\n\t"                                                                   \
    "strb r2, [lr], #1\n\t"
/* one group of four channels of a single pixel: r10 moved on 4 bytes, taps 0, 1 packed as
 * in a pair, tap 2 sign-extended to (c0, c2) in r6 and (c1, c3) in r8 */
#define DWP_ASM_SINGLE_GROUP                                                                \
    "ldr r0, [r10, #4]!\n\t"                                                                \
    "ldr r1, [r10, r9]\n\t"                                                                 \
    "ldr r2, [r10, r9, lsl #1]\n\t"                                                         \
    "pkhbt r4, r0, r1, lsl #16\n\t"                                                         \
    "pkhtb r5, r1, r0, asr #16\n\t"                                                         \
    "sxtb16 r6, r2\n\t"                                                                     \
    "sxtb16 r8, r2, ror #8\n\t"                                                             \
    DWP_ASM_SINGLE_CH("sxtb16 r0, r4", "smlabt r2, r6, r12, r2")                            \
    DWP_ASM_SINGLE_CH("sxtb16 r0, r4, ror #8", "smlabt r2, r8, r12, r2")                    \
    DWP_ASM_SINGLE_CH("sxtb16 r0, r5", "smlatt r2, r6, r12, r2")                            \
    DWP_ASM_SINGLE_CH("sxtb16 r0, r5, ror #8", "smlatt r2, r8, r12, r2")
#endif

/* `pairs` pairs of output pixels of a three-tap (1, 3) stride-1 kernel, depth multiplier 1,
 * every tap inside (see the file comment): x the first pixel's first tap (channel 0), in_c
 * (== out_c, a multiple of four) bytes from one tap or pixel to the next; pd the pair section;
 * y the first pixel's output. */
static DWP_NOINLINE void dwp_pairs(const int8_t *x, int32_t cin, int32_t pairs,
                                   const int32_t *pd, int8_t *y)
{
#if DWP_ASM
    /* r0-r3, r12 temporaries and accumulators, r4 / r5 / r6 / r8 the rows' packed bytes,
     * r7 (saved) weights and r, r9 in_c, r10 input, r11 pair data, lr output; on the stack
     * the group loop's output end, pairs left, the pair data */
    const int32_t ctx[5] = {(int32_t)(intptr_t)x, (int32_t)(intptr_t)pd, (int32_t)(intptr_t)y,
                            pairs, cin};
    __asm__ volatile(
        "ldr r10, [%[c]]\n\t"
        "sub r10, r10, #4\n\t" /* DWP_ASM_PAIR_GROUP moves it on first */
        "ldr r11, [%[c], #4]\n\t"
        "ldr lr, [%[c], #8]\n\t"
        "ldr r0, [%[c], #12]\n\t"
        "ldr r9, [%[c], #16]\n\t"
        "push {r7}\n\t"
        "sub sp, sp, #12\n\t"
        "str r0, [sp, #4]\n\t"
        "str r11, [sp, #8]\n\t"
        "1:\n\t"
        "add r0, lr, r9\n\t"
        "str r0, [sp]\n\t"
        "2:\n\t"
        DWP_ASM_PAIR_GROUP
        "ldr r0, [sp]\n\t"
        "cmp lr, r0\n\t"
        "bne 2b\n\t"
        "add lr, lr, r9\n\t"   /* the next pair: two pixels on */
        "add r10, r10, r9\n\t"
        "ldr r11, [sp, #8]\n\t"
        "ldr r0, [sp, #4]\n\t"
        "subs r0, r0, #1\n\t"
        "str r0, [sp, #4]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #12\n\t"
        "pop {r7}\n\t"
        :
        : [c] "r"(ctx)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
          "cc", "memory");
#else
    for (int32_t p = 0; p < pairs; ++p, x += 2 * cin, y += 2 * cin) {
        const int32_t *q = pd;
        for (int32_t g = 0; g < cin / 4; ++g) {
            const int8_t *xg = x + 4 * g;
            const uint32_t x0 = kws_read_u32(xg), x1 = kws_read_u32(xg + cin);
            const uint32_t x2 = kws_read_u32(xg + 2 * cin), x3 = kws_read_u32(xg + 3 * cin);
            const uint32_t t01 = kws_pkhbt(x0, x1), u01 = kws_pkhtb(x1, x0);
            const uint32_t t23 = kws_pkhbt(x2, x3), u23 = kws_pkhtb(x3, x2);
            for (int32_t j = 0; j < 4; ++j, q += 7) {
                const uint32_t a = j < 2 ? t01 : u01, b = j < 2 ? t23 : u23;
                const uint32_t p01 = (j & 1) ? kws_sxtb16_ror8(a) : kws_sxtb16(a);
                const uint32_t p23 = (j & 1) ? kws_sxtb16_ror8(b) : kws_sxtb16(b);
                const int32_t acc_a = kws_smlabt(p23, (uint32_t)q[3],
                                                 kws_smlad(p01, (uint32_t)q[2], q[0]));
                const int32_t acc_b = kws_smlatb(p01, (uint32_t)q[2],
                                                 kws_smlad(p23, (uint32_t)q[3], q[1]));
                y[4 * g + j] = dwp_out(acc_a, q + 4);
                y[cin + 4 * g + j] = dwp_out(acc_b, q + 4);
            }
        }
    }
#endif
}

/* Channels up to which a row of the pair kernel runs its border pixels through a window of
 * four taps on the stack. */
#define DWP_PAIR_MAX_C 32


/* dwp_interior for the layer's depth multiplier: one call for depth multipliers 1, 2 and 4
 * and for a one-channel input; for a multiple of 4 above 4 on several input channels (the
 * group's input channel changes every dm / 4 groups) one call per pixel and input channel. */
static KWS_ALWAYS_INLINE void dwp_run(const kws_conv_shape_t *s, const int8_t *x,
                                       const int32_t *tab, int32_t groups, const int32_t *d,
                                       int8_t *y, int32_t pixels, int32_t xstep)
{
    const int32_t dm = s->depth_multiplier, taps = s->k_h * s->k_w;
    if (dm == 1) {
        dwp_interior(x, tab, taps, groups, d, y, pixels, xstep, DWP_WORD, 4);
    } else if (dm == 2) {
        dwp_interior(x, tab, taps, groups, d, y, pixels, xstep, DWP_DM2, 2);
    } else if (dm == 4 || s->in_c == 1) {
        dwp_interior(x, tab, taps, groups, d, y, pixels, xstep, DWP_BCAST, s->in_c == 1 ? 0 : 1);
    } else {
        const size_t gw = dwp_group_words(taps) * (size_t)(dm / 4);
        for (int32_t p = 0; p < pixels; ++p) {
            for (int32_t i = 0; i < s->in_c; ++i) {
                dwp_interior(x + (ptrdiff_t)p * xstep + i, tab, taps, dm / 4, d + i * gw,
                             y + (size_t)p * 4 * groups + (size_t)i * dm, 1, 0, DWP_BCAST, 0);
            }
        }
    }
}

#if !DWP_ASM
/* The first output pixel of a pair (dwp_pairs' arithmetic on taps 0..2; the row's odd last
 * pixel): x its first tap (channel 0), cin bytes from one tap to the next; pd the pair
 * section; y its output. (On the M4 the subroutine at 80 of dwp_pair_layer.) */
static void dwp_single(const int8_t *x, int32_t cin, const int32_t *pd, int8_t *y)
{
    const int32_t *q = pd;
    for (int32_t g = 0; g < cin / 4; ++g) {
        const int8_t *xg = x + 4 * g;
        const uint32_t x0 = kws_read_u32(xg), x1 = kws_read_u32(xg + cin);
        const uint32_t x2 = kws_read_u32(xg + 2 * cin);
        const uint32_t t01 = kws_pkhbt(x0, x1), u01 = kws_pkhtb(x1, x0);
        const uint32_t x2e = kws_sxtb16(x2), x2o = kws_sxtb16_ror8(x2);
        for (int32_t j = 0; j < 4; ++j, q += 7) {
            const uint32_t a = j < 2 ? t01 : u01, x2j = (j & 1) ? x2o : x2e;
            const uint32_t p01 = (j & 1) ? kws_sxtb16_ror8(a) : kws_sxtb16(a);
            const int32_t acc = kws_smlad(p01, (uint32_t)q[2], q[0]);
            y[4 * g + j] = dwp_out(j < 2 ? kws_smlabt(x2j, (uint32_t)q[3], acc)
                                         : kws_smlatt(x2j, (uint32_t)q[3], acc), q + 4);
        }
    }
}
#endif

/* One pair layer's rows as a fixed plan (the same for every row): at most one window pair on
 * the left (pair 0, its first input pixel in the padding), a run of pairs whose four input
 * pixels are inside, at most one window pair on the right (its last pixels in the padding, or
 * an odd last output pixel). A window holds the pair's four input pixels: the padding slots
 * are filled once per layer, the inside slots copied per row. On the M4 field i is at byte
 * 4 i (dwp_pair_layer's assembly reads them so). */
typedef struct {
    const int8_t *x; /* the row's input */
    int8_t *y;       /* the row's output */
    int32_t rows;
    int32_t xstep;   /* input bytes from one row to the next */
    int32_t ystep;   /* output bytes from one row to the next */
    int32_t c;       /* channels (a multiple of 4) */
    const int32_t *pd; /* the pair section */
    int8_t *dst;     /* the assembly's: the output of the pairs it runs */
    int8_t *lwin;    /* the left window, or NULL */
    int32_t lsrc;    /* its inside pixels: input bytes from the row's start */
    int8_t *ldst;    /* where they go in the window */
    int32_t llen;    /* their bytes (a multiple of 4, maybe 0) */
    int32_t ni;      /* pairs inside */
    int32_t isrc;    /* their first input pixel: bytes from the row's start */
    int32_t iy;      /* their first output pixel: bytes from the row's start */
    int8_t *rwin;    /* the right window, or NULL; its inside pixels: */
    int32_t rsrc;
    int8_t *rdst;
    int32_t rlen;
    int32_t ry;      /* its output: bytes from the row's start */
    int32_t odd;     /* 1: the right window's pair has one output pixel (the row's last) */
} dwp_pair_plan_t;

#if DWP_ASM
/* the assembly's field offsets: every field 4 bytes on the M4 */
typedef char dwp_pair_plan_layout[offsetof(dwp_pair_plan_t, odd) == 80 ? 1 : -1];
#endif

/* The window of the pair whose first input pixel is ix: its slots in the padding filled
 * with pad (four bytes of -input_offset), then the inside slots' source, destination and
 * length in *src, *dst, *len (copied per row). */
static KWS_ALWAYS_INLINE int8_t *dwp_pair_window(int32_t ix, int32_t in_w, int32_t c, uint32_t pad,
                               uint32_t *win, int32_t *src, int8_t **dst, int32_t *len)
{
    int32_t r0 = ix < 0 ? -ix : 0, r1 = in_w - ix < 4 ? in_w - ix : 4;
    r1 = r1 < r0 ? r0 : r1;
    for (int32_t i = 0; i < r0 * (c / 4); ++i) { /* slots [0, r0), then [r1, 4) */
        win[i] = pad;
    }
    for (int32_t i = r1 * (c / 4); i < c; ++i) {
        win[i] = pad;
    }
    *src = r1 > r0 ? (ix + r0) * c : 0;
    *dst = (int8_t *)win + (r1 > r0 ? r0 * c : 0);
    *len = (r1 - r0) * c;
    return (int8_t *)win;
}

/* A pair layer's rows along its kernel: a (1, 3) kernel's rows, or the one row of a (3, 1)
 * kernel on a one-column map (the same bytes, the taps and pixels in the same order). */
typedef struct {
    int32_t rows, xstep; /* rows, input bytes from one to the next */
    int32_t in_w, out_w; /* pixels of an input / output row */
    int32_t pad;         /* padding pixels before the first */
    int32_t c;           /* channels */
} dwp_rows_t;

/* The pairs of a pair layer's rows whose four input pixels are inside, [*ja, *jb) (pair j:
 * output pixels 2 j, 2 j + 1, input pixels 2 j - pad_left ..  2 j - pad_left + 3), the
 * others window pairs: 1 where there is at most one window pair on each side (0 for padding
 * 2 on both sides of an odd width: then the body runs the layer). */
static int dwp_pair_span(const dwp_rows_t *v, int32_t *ja, int32_t *jb)
{
    const int32_t pl = v->pad, np = (v->out_w + 1) / 2;
    const int32_t a = (pl + 1) / 2; /* the first pair with 2 j >= pad_left */
    /* the last pair inside: 2 j - pl + 3 < in_w and 2 j + 1 < out_w */
    const int32_t lim = v->in_w - 4 + pl < v->out_w - 2 ? v->in_w - 4 + pl : v->out_w - 2;
    if (lim >= 0 && lim / 2 >= a) {
        *ja = a;
        *jb = lim / 2 + 1;
    } else { /* no pair inside: one right window, or a left and a right one */
        *ja = *jb = np == 1 ? 0 : 1;
    }
    return *ja <= 1 && np - *jb <= 1;
}

/* The plan of a pair layer (out_c <= DWP_PAIR_MAX_C) whose pairs inside are [ja, jb)
 * (dwp_pair_span) in *p, with its windows lwin and rwin (DWP_PAIR_MAX_C words each). pad:
 * four bytes of -input_offset. */
static KWS_ALWAYS_INLINE void dwp_pair_plan(const dwp_rows_t *v, int32_t ja, int32_t jb,
                                             const int8_t *input, int8_t *output,
                                             const int32_t *pd, uint32_t pad, uint32_t *lwin,
                                             uint32_t *rwin, dwp_pair_plan_t *p)
{
    const int32_t c = v->c, in_w = v->in_w, out_w = v->out_w, pl = v->pad;
    const int32_t np = (out_w + 1) / 2;
    p->x = input;
    p->y = output;
    p->rows = v->rows;
    p->xstep = v->xstep;
    p->ystep = out_w * c;
    p->c = c;
    p->pd = pd;
    p->dst = output;
    p->lwin = ja == 1 ? dwp_pair_window(-pl, in_w, c, pad, lwin, &p->lsrc, &p->ldst, &p->llen)
                      : NULL;
    p->ni = jb - ja;
    p->isrc = (2 * ja - pl) * c;
    p->iy = 2 * ja * c;
    p->rwin = jb < np ? dwp_pair_window(2 * jb - pl, in_w, c, pad, rwin, &p->rsrc, &p->rdst,
                                        &p->rlen)
                      : NULL;
    p->ry = 2 * jb * c;
    p->odd = jb < np && 2 * jb + 1 == out_w;
}

/* The rows of a planned pair layer: per row the left window's pair, the pairs inside, the
 * right window's pair (dwp_single for an odd last pixel); on the M4 one assembly loop over
 * the rows, the pairs and the single pixel subroutines of it. */
static DWP_NOINLINE void dwp_pair_layer(dwp_pair_plan_t *p)
{
#if DWP_ASM
    /* r7 the plan (the subroutines save it); the subroutine at 90: r0 pairs from r10 to
     * p->dst, at 80: one pixel; their frame: the pair data's end, the output's end, the pair
     * data */
    /* a word copy: r2 bytes (a multiple of 4) from r0 to r1; r3-r6 */
#define DWP_ASM_COPY                                                                        \
    "subs r2, r2, #16\n\t"                                                                  \
    "blt 71f\n\t"                                                                           \
    "70:\n\t"                                                                               \
    "ldm r0!, {r3, r4, r5, r6}\n\t"                                                         \
    "stm r1!, {r3, r4, r5, r6}\n\t"                                                         \
    "subs r2, r2, #16\n\t"                                                                  \
    "bge 70b\n\t"                                                                           \
    "71:\n\t"                                                                               \
    "adds r2, r2, #16\n\t"                                                                  \
    "beq 73f\n\t"                                                                           \
    "72:\n\t"                                                                               \
    "ldr r3, [r0], #4\n\t"                                                                  \
    "str r3, [r1], #4\n\t"                                                                  \
    "subs r2, r2, #4\n\t"                                                                   \
    "bne 72b\n\t"                                                                           \
    "73:\n\t"
    __asm__ volatile(
        "push {r7}\n\t"
        "mov r7, %[p]\n\t"
        "sub sp, sp, #12\n\t"
        "ldr r0, [r7, #24]\n\t"
        "str r0, [sp, #8]\n\t" /* the pair data */
        "ldr r1, [r7, #20]\n\t"
        "movs r2, #28\n\t"
        "mla r0, r1, r2, r0\n\t"
        "str r0, [sp]\n\t" /* its end: 7 words per channel */
        "10:\n\t"              /* a row */
        "ldr r10, [r7, #32]\n\t"
        "cmp r10, #0\n\t"
        "beq 20f\n\t"
        "ldr r0, [r7]\n\t"
        "ldr r3, [r7, #36]\n\t"
        "add r0, r0, r3\n\t"
        "ldr r1, [r7, #40]\n\t"
        "ldr r2, [r7, #44]\n\t"
        DWP_ASM_COPY
        "ldr r1, [r7, #4]\n\t"
        "str r1, [r7, #28]\n\t"
        "movs r0, #1\n\t"
        "bl 90f\n\t"
        "20:\n\t" /* the pairs inside */
        "ldr r0, [r7, #48]\n\t"
        "cmp r0, #0\n\t"
        "beq 30f\n\t"
        "ldr r10, [r7]\n\t"
        "ldr r3, [r7, #52]\n\t"
        "add r10, r10, r3\n\t"
        "ldr r1, [r7, #4]\n\t"
        "ldr r3, [r7, #56]\n\t"
        "add r1, r1, r3\n\t"
        "str r1, [r7, #28]\n\t"
        "bl 90f\n\t"
        "30:\n\t" /* the right window */
        "ldr r10, [r7, #60]\n\t"
        "cmp r10, #0\n\t"
        "beq 40f\n\t"
        "ldr r0, [r7]\n\t"
        "ldr r3, [r7, #64]\n\t"
        "add r0, r0, r3\n\t"
        "ldr r1, [r7, #68]\n\t"
        "ldr r2, [r7, #72]\n\t"
        DWP_ASM_COPY
        "ldr r1, [r7, #4]\n\t"
        "ldr r3, [r7, #76]\n\t"
        "add r1, r1, r3\n\t"
        "str r1, [r7, #28]\n\t"
        "ldr r1, [r7, #80]\n\t"
        "movs r0, #1\n\t"
        "cmp r1, #0\n\t"
        "bne 31f\n\t"
        "bl 90f\n\t"
        "b 40f\n\t"
        "31:\n\t"
        "bl 80f\n\t"
        "40:\n\t" /* the next row */
        "ldr r0, [r7]\n\t"
        "ldr r1, [r7, #12]\n\t"
        "add r0, r0, r1\n\t"
        "str r0, [r7]\n\t"
        "ldr r0, [r7, #4]\n\t"
        "ldr r1, [r7, #16]\n\t"
        "add r0, r0, r1\n\t"
        "str r0, [r7, #4]\n\t"
        "ldr r0, [r7, #8]\n\t"
        "subs r0, r0, #1\n\t"
        "str r0, [r7, #8]\n\t"
        "bne 10b\n\t"
        "b 99f\n\t"
        "80:\n\t" /* one pixel (the taps of a pair's first) from r10 to p->dst */
        "push {r7, lr}\n\t"
        "sub r10, r10, #4\n\t"
        "ldr lr, [r7, #28]\n\t"
        "ldr r9, [r7, #20]\n\t"
        "ldr r11, [sp, #16]\n\t"
        "81:\n\t"
        DWP_ASM_SINGLE_GROUP
        "ldr r0, [sp, #8]\n\t"
        "cmp r11, r0\n\t"
        "bne 81b\n\t"
        "pop {r7, pc}\n\t"
        "90:\n\t" /* r0 pairs from r10 to p->dst */
        "push {r7, lr}\n\t"
        "ldr lr, [r7, #28]\n\t"
        "ldr r9, [r7, #20]\n\t"
        "mul r0, r0, r9\n\t"
        "add r0, lr, r0, lsl #1\n\t"
        "str r0, [sp, #12]\n\t" /* the output's end */
        "sub r10, r10, #4\n\t"  /* DWP_ASM_PAIR_GROUP moves it on first */
        "91:\n\t"
        "ldr r11, [sp, #16]\n\t"
        "tst r9, #4\n\t" /* two groups a pass; an odd count enters at the second */
        "bne 93f\n\t"
        "92:\n\t"
        DWP_ASM_PAIR_GROUP
        "93:\n\t"
        DWP_ASM_PAIR_GROUP
        "ldr r0, [sp, #8]\n\t"
        "cmp r11, r0\n\t"
        "bne 92b\n\t"
        "add lr, lr, r9\n\t" /* the next pair: two pixels on */
        "add r10, r10, r9\n\t"
        "ldr r0, [sp, #12]\n\t"
        "cmp lr, r0\n\t"
        "bne 91b\n\t"
        "pop {r7, pc}\n\t"
        "99:\n\t"
        "add sp, sp, #12\n\t"
        "pop {r7}\n\t"
        :
        : [p] "r"(p)
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr",
          "cc", "memory");
#undef DWP_ASM_COPY
#undef DWP_ASM_SINGLE_GROUP
#undef DWP_ASM_SINGLE_CH
#undef DWP_ASM_PAIR_GROUP
#undef DWP_ASM_PAIR_CH
#else
    const int32_t c = p->c;
    for (int32_t row = 0; row < p->rows; ++row, p->x += p->xstep, p->y += p->ystep) {
        if (p->lwin != NULL) {
            memcpy(p->ldst, p->x + p->lsrc, (size_t)p->llen);
            dwp_pairs(p->lwin, c, 1, p->pd, p->y);
        }
        if (p->ni > 0) {
            dwp_pairs(p->x + p->isrc, c, p->ni, p->pd, p->y + p->iy);
        }
        if (p->rwin != NULL) {
            memcpy(p->rdst, p->x + p->rsrc, (size_t)p->rlen);
            if (p->odd) {
                dwp_single(p->rwin, c, p->pd, p->y + p->ry);
            } else {
                dwp_pairs(p->rwin, c, 1, p->pd, p->y + p->ry);
            }
        }
    }
#endif
}

/* All rows v of a pair layer whose pairs inside are [ja, jb) (dwp_pair_span); pad:
 * -input_offset. */
static DWP_NOINLINE kws_status_t dwp_pair_rows(const dwp_rows_t *v, int32_t ja, int32_t jb,
                                               const int8_t *input, int8_t *output,
                                               const int32_t *pd, int8_t pad)
{
    uint32_t lwin[DWP_PAIR_MAX_C], rwin[DWP_PAIR_MAX_C];
    dwp_pair_plan_t plan;
    dwp_pair_plan(v, ja, jb, input, output, pd, (uint32_t)(uint8_t)pad * 0x01010101u, lwin,
                  rwin, &plan);
    dwp_pair_layer(&plan);
    return KWS_OK;
}

/* The pair section of a layer the pair kernel runs, or NULL: the exporter appends it to
 * three-tap (1, 3) stride-1 layers (and (3, 1) on a one-column map, read as (1, 3)), depth
 * multiplier 1, out_c a multiple of 4; two output pixels per pass share their taps' inputs. */
static KWS_ALWAYS_INLINE const int32_t *dwp_pair_data(const kws_conv_shape_t *s,
                                                      const kws_dw_prepared_t *prep)
{
    const int32_t cout = s->out_c;
    const size_t gen_words = dwp_group_words(3) * (size_t)(cout / 4);
    return s->depth_multiplier == 1 && s->k_h == 1 && s->k_w == 3 && s->stride_w == 1 &&
           cout % 4 == 0 && prep->data_len >= gen_words + DWP_PAIR_WORDS * (size_t)(cout / 4)
        ? prep->data + gen_words : NULL;
}

/* The taps' input offsets from an interior window's first tap, row-major: each row of k_w
 * taps in_c apart, rows in_w * in_c apart. */
static void dwp_offsets(const kws_conv_shape_t *s, int32_t *tab)
{
    const int32_t row = s->in_w * s->in_c, step = s->k_w == 1 ? row : s->in_c;
    for (int32_t t = 0, off = 0, kx = 0; t < s->k_h * s->k_w; ++t) {
        tab[t] = off;
        off += step;
        if (++kx == s->k_w && s->k_w > 1) {
            kx = 0;
            off += row - s->k_w * s->in_c;
        }
    }
}

/* Groups [0, groups) of a pixel with taps in the padding, or of more taps than the table
 * holds (window at (iy0, ix0), taps inside: rows [ky0, ky1), columns [kx0, kx1)); pad: four
 * bytes of -input_offset. */
static void dwp_any(const kws_conv_shape_t *s, const int8_t *input, int32_t iy0, int32_t ix0,
                    int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1, int32_t groups,
                    const int32_t *d, uint32_t pad, int8_t *y)
{
    const int32_t cin = s->in_c, dm = s->depth_multiplier;
    const int mode = dm == 1 ? DWP_WORD : dm == 2 ? DWP_DM2 : DWP_BCAST;
    for (int32_t g = 0; g < groups; ++g, y += 4) {
        int32_t a0 = d[0], a1 = d[1], a2 = d[2], a3 = d[3]; /* 2 acc */
        d += 4;
        for (int32_t ky = 0; ky < s->k_h; ++ky) {
            const int row_in = ky >= ky0 && ky < ky1;
            const int8_t *xr = row_in ? input + ((size_t)(iy0 + ky) * s->in_w) * cin +
                                            4 * g / dm
                                      : input;
            for (int32_t kx = 0; kx < s->k_w; ++kx, d += 2) {
                const int in = row_in && kx >= kx0 && kx < kx1;
                const uint32_t xv = !in ? pad
                    : dwp_xword(xr + (size_t)(ix0 + kx) * cin, mode);
                DWP_TAP(xv, d);
            }
        }
        DWP_OUT4(y, d);
        d += 12;
    }
}
#endif

/* The kernel on a checked configuration (kws_depthwise_conv2d_s8_prepared), in its own frame
 * (its tables are not on the stack of the pair rows or of the one-column wrapper). */
static DWP_NOINLINE kws_status_t dwp_body(const kws_conv_shape_t *s, const kws_act_t *act,
                                          const kws_dw_prepared_t *prep, const int8_t *input,
                                          int8_t *output)
{
    const int32_t cout = s->out_c;
#if KWS_USE_DSP
    const int32_t dm = s->depth_multiplier, taps = s->k_h * s->k_w;
    const int32_t groups = cout / 4; /* full groups: the DSP path */
    const uint32_t pad = (uint32_t)(uint8_t)(int8_t)(-act->input_offset) * 0x01010101u;
    int32_t tab[DWP_MAX_TABLE]; /* the taps' input offsets (interior) or addresses (border) */
    int8_t padrow[DWP_MAX_PAD];  /* M4 border pixels: the padding's -input_offset bytes */
    int padded = 0;
    const int table = taps >= 2 && taps <= DWP_MAX_TABLE;
    int offsets = 0; /* whether tab holds the offsets (else a border pixel's addresses) */
    if (table) {
        dwp_offsets(s, tab);
        offsets = 1;
    }
    const int32_t *pair = dwp_pair_data(s, prep); /* interior runs of more channels */
#else
    const int32_t groups = 0;
#endif
#if KWS_USE_DSP
    if (table && groups == cout / 4 && cout % 4 == 0 && s->out_h == 1 && s->out_w == 1 &&
        s->pad_top == 0 && s->pad_left == 0 && s->k_h <= s->in_h && s->k_w <= s->in_w) {
        /* one interior output pixel (a streaming step's (k, 1) kernel): no pixel loop */
        dwp_run(s, input, tab, groups, prep->data, output, 1, 0);
        return KWS_OK;
    }
#endif
    for (int32_t oy = 0; oy < s->out_h; ++oy) {
        const int32_t iy0 = oy * s->stride_h - s->pad_top;
        const int32_t ky0 = iy0 < 0 ? -iy0 : 0;
        const int32_t ky1 = iy0 + s->k_h > s->in_h ? s->in_h - iy0 : s->k_h;
#if KWS_USE_DSP
        /* the row's interior pixels [oxa, oxb) in one call when every channel is in a group */
        int32_t oxa = s->out_w, oxb = s->out_w;
        if (table && groups * 4 == cout && ky0 == 0 && ky1 == s->k_h &&
            s->in_w - s->k_w + s->pad_left >= 0) {
            oxa = (s->pad_left + s->stride_w - 1) / s->stride_w;
            oxb = (s->in_w - s->k_w + s->pad_left) / s->stride_w + 1;
            oxb = oxb > s->out_w ? s->out_w : oxb;
            oxa = oxa > oxb ? oxb : oxa;
        }
#endif
        for (int32_t ox = 0; ox < s->out_w; ++ox) {
#if KWS_USE_DSP
            if (ox == oxa && oxb > oxa) {
                if (!offsets) {
                    dwp_offsets(s, tab);
                    offsets = 1;
                }
                const int8_t *xi = input + ((size_t)iy0 * s->in_w +
                                            (size_t)(ox * s->stride_w - s->pad_left)) * s->in_c;
                int8_t *yi = output + ((size_t)oy * s->out_w + ox) * cout;
                int32_t n = oxb - oxa;
                if (pair != NULL && n >= 2) {
                    dwp_pairs(xi, s->in_c, n / 2, pair, yi);
                    xi += (size_t)(n / 2 * 2) * s->in_c;
                    yi += (size_t)(n / 2 * 2) * cout;
                    n &= 1;
                }
                if (n > 0) {
                    dwp_run(s, xi, tab, groups, prep->data, yi, n, s->stride_w * s->in_c);
                }
                ox = oxb - 1;
                continue;
            }
#endif
            const int32_t ix0 = ox * s->stride_w - s->pad_left;
            const int32_t kx0 = ix0 < 0 ? -ix0 : 0;
            const int32_t kx1 = ix0 + s->k_w > s->in_w ? s->in_w - ix0 : s->k_w;
            int8_t *y = output + ((size_t)oy * s->out_w + ox) * cout;
#if KWS_USE_DSP
            if (groups > 0) {
                if (table && ky0 == 0 && ky1 == s->k_h && kx0 == 0 && kx1 == s->k_w) {
                    if (!offsets) {
                        dwp_offsets(s, tab);
                        offsets = 1;
                    }
                    dwp_run(s, input + ((size_t)iy0 * s->in_w + ix0) * s->in_c, tab, groups,
                            prep->data, y, 1, 0);
                } else if (DWP_ASM && table && cout <= DWP_MAX_PAD &&
                           (dm <= 4 || s->in_c == 1)) {
                    /* the same loop on the taps' addresses, the padding's at a row of
                     * -input_offset bytes (the table entries are addresses, the group offset
                     * 4 g is added to them) */
                    if (!padded) {
                        memset(padrow, (int)(uint8_t)pad, (size_t)cout);
                        padded = 1;
                    }
                    for (int32_t ky = 0, t = 0; ky < s->k_h; ++ky) {
                        for (int32_t kx = 0; kx < s->k_w; ++kx, ++t) {
                            const int in = ky >= ky0 && ky < ky1 && kx >= kx0 && kx < kx1;
                            const int8_t *a = in ? input + ((size_t)(iy0 + ky) * s->in_w +
                                                            (size_t)(ix0 + kx)) * s->in_c
                                                 : padrow;
                            tab[t] = (int32_t)(intptr_t)a;
                        }
                    }
                    offsets = 0; /* tab holds this pixel's addresses now */
                    dwp_interior(NULL, tab, taps, groups, prep->data, y, 1, 0,
                                 dm == 1 ? DWP_WORD : dm == 2 ? DWP_DM2 : DWP_BCAST,
                                 dm == 1 ? 4 : dm == 2 ? 2 : s->in_c == 1 ? 0 : 1);
                } else {
                    dwp_any(s, input, iy0, ix0, ky0, ky1, kx0, kx1, groups, prep->data, pad, y);
                }
            }
#endif
            if (4 * groups < cout) {
                dwp_portable(s, act, prep, input, iy0, ix0, ky0, ky1, kx0, kx1, groups, y);
            }
        }
    }
    return KWS_OK;
}

/* KWS_ERR_SHORT_BUFFER / KWS_ERR_BAD_CONFIG for buffers too short for the shape or a prepared
 * requantization the portable arithmetic cannot take, else KWS_OK. */
static KWS_ALWAYS_INLINE kws_status_t dwp_check(const kws_conv_shape_t *s,
                                                const kws_dw_prepared_t *prep,
                                                size_t input_len, size_t output_len)
{
    const int32_t taps = s->k_h * s->k_w, cout = s->out_c;
    if (input_len < (size_t)s->in_h * s->in_w * s->in_c ||
        output_len < (size_t)s->out_h * s->out_w * cout ||
        prep->data_len < dwp_group_words(taps) * (size_t)((cout + 3) / 4)) {
        return KWS_ERR_SHORT_BUFFER;
    }
    /* the prepared requantization of the channels the portable arithmetic runs (past the last
     * group of four on the DSP path, every channel on the portable path) must be one
     * kws_requantize takes; the DSP path's outputs take any (m, k, r) the exporter wrote,
     * unchecked like the weights, so that a streaming step's few MACs do not pay a loop over
     * every channel */
    if (!dwp_rq_ok(prep, taps, KWS_USE_DSP ? cout / 4 * 4 : 0, cout)) {
        return KWS_ERR_BAD_CONFIG;
    }
    return KWS_OK;
}

#if KWS_USE_DSP
/* The pair section of a pair layer of up to DWP_PAIR_MAX_C channels and its rows in *v: a
 * (1, 3) stride-1 kernel, or a (3, 1) stride-1 kernel on a one-column map (one row of its
 * out_h pixels), depth multiplier 1, out_c a multiple of 4; else NULL. */
static KWS_ALWAYS_INLINE const int32_t *dwp_pair_view(const kws_conv_shape_t *s,
                                                      const kws_dw_prepared_t *prep,
                                                      dwp_rows_t *v)
{
    const int32_t cout = s->out_c;
    const size_t gen_words = dwp_group_words(3) * (size_t)(cout / 4);
    const int column = s->in_w == 1 && s->out_w == 1 && s->k_w == 1 && s->out_h > 1;
    if (s->depth_multiplier != 1 || cout % 4 != 0 || cout > DWP_PAIR_MAX_C ||
        prep->data_len < gen_words + DWP_PAIR_WORDS * (size_t)(cout / 4) ||
        !(column ? s->k_h == 3 && s->stride_h == 1
                 : s->k_h == 1 && s->k_w == 3 && s->stride_w == 1)) {
        return NULL;
    }
    v->rows = column ? 1 : s->out_h;
    v->xstep = s->stride_h * s->in_w * cout;
    v->in_w = column ? s->in_h : s->in_w;
    v->out_w = column ? s->out_h : s->out_w;
    v->pad = column ? s->pad_top : s->pad_left;
    v->c = cout;
    return prep->data + gen_words;
}
#endif

/* A (k, 1) kernel on a one-column map is the (1, k) kernel on the one-row map of the same
 * bytes (the taps and pixels in the same order): its output pixels are one row, so the DSP
 * path runs them in one interior call (or pair runs). */
static DWP_NOINLINE kws_status_t dwp_column(const kws_conv_shape_t *s, const kws_act_t *act,
                                            const kws_dw_prepared_t *prep, const int8_t *input,
                                            int8_t *output)
{
    kws_conv_shape_t row = *s;
    row.in_w = s->in_h;
    row.out_w = s->out_h;
    row.k_w = s->k_h;
    row.stride_w = s->stride_h;
    row.pad_left = s->pad_top;
    row.in_h = row.out_h = row.k_h = row.stride_h = 1;
    row.pad_top = 0;
    return dwp_body(&row, act, prep, input, output);
}

kws_status_t kws_depthwise_conv2d_s8_prepared(const kws_conv_shape_t *s, const kws_act_t *act,
                                              const kws_dw_prepared_t *prep,
                                              const int8_t *input, size_t input_len,
                                              int8_t *output, size_t output_len)
{
    if (s == NULL || act == NULL || prep == NULL || prep->data == NULL ||
        input == NULL || output == NULL) {
        return KWS_ERR_NULL;
    }
    const int32_t dm = s->depth_multiplier;
    if (!kws_shape_ok(s) || !kws_act_ok(act) || act->act_min != -128 || act->act_max != 127 ||
        !(dm == 1 || dm == 2 || (dm > 0 && dm % 4 == 0)) || s->out_c != s->in_c * dm) {
        return KWS_ERR_BAD_CONFIG;
    }
    const kws_status_t st = dwp_check(s, prep, input_len, output_len);
    if (st != KWS_OK) {
        return st;
    }
#if KWS_USE_DSP
    /* a pair layer (of up to DWP_PAIR_MAX_C channels, at most one window pair a side) */
    dwp_rows_t v;
    int32_t ja, jb;
    const int32_t *pair = dwp_pair_view(s, prep, &v);
    if (pair != NULL && dwp_pair_span(&v, &ja, &jb)) {
        return dwp_pair_rows(&v, ja, jb, input, output, pair, (int8_t)(-act->input_offset));
    }
#endif
    if (s->in_w == 1 && s->out_w == 1 && s->k_w == 1 && s->out_h > 1) {
        return dwp_column(s, act, prep, input, output);
    }
    return dwp_body(s, act, prep, input, output); /* tail calls: this frame is gone */
}
