/* requant_fused.c - the fast paths' requantization (kws_rq1 + kws_rq1_apply: one fused 64-bit
 * rounding for right shifts) equals kws_requantize (TFLite's two roundings) bit for bit, over
 * every shift -31..30, edge and random multipliers, and accumulators from every tie region:
 * a dense sweep around zero, powers of two +-1, INT32_MIN / INT32_MAX, and random values
 * (run by tests/test_runtime.py). On the DSP path, also the fast requantization of a doubled
 * accumulator (kws_rqf + kws_rqf_apply: SMMULR, ADD k, SUB t LSR 31, ASR) equals
 * kws_requantize + output offset over every right shift 1..22, output offsets -128..127 and
 * accumulators |acc| < 2^30 from every tie region. Prints the first mismatches; exits non-zero
 * on any. */
#include <stdio.h>

#include "kws_internal.h"

static uint32_t rng_state = 12345u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static long failures = 0, checks = 0;

static void check(int32_t acc, int32_t m, int32_t shift)
{
    const kws_requant_t rq = {&m, &shift, 1};
    const int32_t got = kws_rq1_apply(acc, kws_rq1(&rq, 0));
    const int32_t want = kws_requantize(acc, m, shift);
    ++checks;
    if (got != want && ++failures <= 10) {
        printf("FAIL acc=%ld m=%ld shift=%ld: got %ld, want %ld\n", (long)acc, (long)m,
               (long)shift, (long)got, (long)want);
    }
}

int main(void)
{
    int32_t mults[16] = {0, 1, 1 << 30, (1 << 30) + 1, 0x7FFFFFFF, 0x7FFFFFFE, 1518500250,
                         1963413581};
    for (int i = 8; i < 16; ++i) {
        mults[i] = (int32_t)((1u << 30) | (rnd() & 0x3FFFFFFFu));
    }
    for (int32_t shift = -31; shift <= 30; ++shift) {
        for (int i = 0; i < 16; ++i) {
            const int32_t m = mults[i];
            for (int32_t a = -5000; a <= 5000; ++a) {
                check(a, m, shift);
            }
            for (int k = 0; k < 31; ++k) {
                const int32_t p = (int32_t)(1u << k);
                for (int32_t d = -2; d <= 2; ++d) {
                    check(p + d, m, shift);
                    check(-p + d, m, shift);
                }
            }
            check(INT32_MIN, m, shift);
            check(INT32_MIN + 1, m, shift);
            check(INT32_MAX, m, shift);
            check(INT32_MAX - 1, m, shift);
            for (int n = 0; n < 20000; ++n) {
                const uint32_t v = rnd();
                check((int32_t)(v >> (rnd() & 31u)) * ((v & 1u) ? -1 : 1), m, shift);
            }
        }
    }
    printf("%ld checks, %ld failures\n", checks, failures);
#if KWS_USE_DSP
    long fchecks = 0, ffail = 0;
    const int32_t offs[6] = {-128, -100, -1, 0, 5, 127};
    for (int32_t shift = -22; shift <= -1; ++shift) {
        for (int i = 0; i < 16; ++i) {
            for (int j = 0; j < 6; ++j) {
                int32_t m = mults[i], sh = shift;
                const kws_requant_t rq = {&m, &sh, 1};
                kws_rqf_t f;
                if (!kws_rqf(&rq, 0, offs[j], 0, &f)) {
                    printf("FAIL rqf refused shift %ld\n", (long)shift);
                    ++ffail;
                    continue;
                }
                for (int n = 0; n < 6000; ++n) {
                    int32_t acc;
                    if (n < 2000) {
                        acc = n - 1000;                                  /* around zero */
                    } else if (n < 2000 + 31 * 10) {
                        const int k = (n - 2000) / 10, d = (n - 2000) % 10;  /* ties: 2^k +-2 */
                        acc = (int32_t)((d < 5 ? 1 : -1) * ((int64_t)1 << k) + (d % 5) - 2);
                    } else {
                        acc = (int32_t)(rnd() >> (rnd() % 30u + 2u)) * ((n & 1) ? -1 : 1); /* < 2^30 */
                    }
                    if (acc >= (1 << 30) || acc <= -(1 << 30)) {
                        continue;
                    }
                    const int32_t got = kws_rqf_apply(2 * acc, f);
                    const int32_t want = kws_requantize(acc, m, sh) + offs[j];
                    ++fchecks;
                    if (got != want && ++ffail <= 10) {
                        printf("FAIL rqf acc=%ld m=%ld shift=%ld off=%ld: got %ld, want %ld\n",
                               (long)acc, (long)m, (long)sh, (long)offs[j], (long)got,
                               (long)want);
                    }
                }
            }
        }
    }
    printf("rqf: %ld checks, %ld failures\n", fchecks, ffail);
    failures += ffail;
#else
    printf("rqf: not on the portable path\n");
#endif
    return failures != 0;
}
