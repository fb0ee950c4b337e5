/* Checks of the kws_fixed.h primitives against plain 64-bit arithmetic:
 * kws_isqrt32 on every perfect square and its neighbours, every power of two and 4M random
 * values (with --all: every uint32); kws_mulw*, kws_mulr / kws_mlar / kws_mlsr / kws_cmulr on
 * random and extreme operands; bit lengths.
 * Prints "ok" and exits 0, or prints the first failure and exits 1. */
#include <stdio.h>

#include "kws_fixed.h"

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static int check_sqrt(uint32_t x)
{
    uint64_t y = kws_isqrt32(x);
    if (y * y > x || (y + 1) * (y + 1) <= x) {
        printf("isqrt32(%lu) = %lu\n", (unsigned long)x, (unsigned long)y);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t seed = 12345u, i, ties = 0u;
    int32_t ext[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30), -65536, -1, 0, 1, 65535, 1 << 30,
                     INT32_MAX};
    int16_t wext[] = {-32768, -32767, -1, 0, 1, 23170, 32767};
    for (i = 0; i <= 65535u; i++) {
        uint32_t sq = i * i;
        if (check_sqrt(sq) || check_sqrt(sq + 1u) || (sq > 0u && check_sqrt(sq - 1u))) return 1;
        if (i > 0u && check_sqrt(sq + 2u * i)) return 1; /* (i + 1)^2 - 1 */
    }
    for (i = 0; i < 32u; i++)
        if (check_sqrt(1u << i) || check_sqrt((1u << i) - 1u) || check_sqrt((1u << i) + 1u)) return 1;
    if (check_sqrt(0xFFFFFFFFu)) return 1;
    for (i = 0; i < 4000000u; i++)
        if (check_sqrt(lcg(&seed))) return 1;
    if (argc > 1 && argv[1][0] == '-') { /* --all: every uint32 (about a minute) */
        i = 0u;
        do {
            if (check_sqrt(i)) return 1;
        } while (++i != 0u);
    }
    for (i = 0; i < 1000000u; i++) {
        int32_t x = (int32_t)lcg(&seed), pair = (int32_t)lcg(&seed), acc = (int32_t)(lcg(&seed) >> 2);
        int16_t lo = (int16_t)(uint16_t)((uint32_t)pair & 0xFFFFu);
        int16_t hi = (int16_t)(uint16_t)((uint32_t)pair >> 16);
        int32_t re, im;
        if (i < 70u) {
            x = ext[i % 10u];
            lo = wext[i % 7u];
            pair = (int32_t)((uint32_t)(uint16_t)lo | ((uint32_t)(uint16_t)hi << 16));
        }
        if (kws_mulwb(x, pair) != (int32_t)(((int64_t)x * lo) >> 16) ||
            kws_mulwt(x, pair) != (int32_t)(((int64_t)x * hi) >> 16) ||
            kws_mlawt(x >> 2, pair, acc) != acc + (int32_t)(((int64_t)(x >> 2) * hi) >> 16)) {
            printf("mulw(%ld, %ld)\n", (long)x, (long)pair);
            return 1;
        }
        { /* the Q31 multiplies: x, w any int32 (extremes first), acc small enough not to wrap */
            int32_t w = i < 100u ? ext[(i / 10u) % 10u] : (int32_t)lcg(&seed);
            int32_t y = (int32_t)lcg(&seed) >> 2, xx = i < 100u ? ext[i % 10u] : x;
            if (i >= 100u && i < 100u + 4u * 31u) { /* ties: x w = 2^31 (mod 2^32) */
                uint32_t c = i - 100u, b = c % 31u;
                int32_t sign = ((c / 31u) & 1u) ? -1 : 1, odd = c >= 62u ? 3 : 1;
                xx = sign * (int32_t)(1u << b);
                w = b == 0u ? INT32_MIN
                            : (b >= 2u ? odd * (int32_t)(1u << (31u - b)) : (int32_t)(1u << 30));
                ties += kws_mlsr(acc, xx, w) != acc - kws_mulr(xx, w); /* where SMMLSR differs */
            }
            int64_t mr = ((int64_t)xx * w + ((int64_t)1 << 31)) >> 32;
            int64_t ms = ((((int64_t)1 << 31) - (int64_t)xx * w) >> 32);
            if (kws_mulr(xx, w) != (int32_t)mr || kws_mlar(acc, xx, w) != acc + (int32_t)mr ||
                kws_mlsr(acc, xx, w) != acc + (int32_t)ms) {
                printf("mulr/mlar/mlsr(%ld, %ld, %ld)\n", (long)acc, (long)xx, (long)w);
                return 1;
            }
            kws_cmulr(x >> 2, y, w, pair, &re, &im);
            if (re != (int32_t)(((int64_t)(x >> 2) * w + ((int64_t)1 << 31)) >> 32) +
                          (int32_t)((((int64_t)1 << 31) - (int64_t)y * pair) >> 32) ||
                im != (int32_t)(((int64_t)y * w + ((int64_t)1 << 31)) >> 32) +
                          (int32_t)(((int64_t)(x >> 2) * pair + ((int64_t)1 << 31)) >> 32)) {
                printf("cmulr(%ld, %ld, %ld, %ld)\n", (long)x, (long)y, (long)w, (long)pair);
                return 1;
            }
        }
        if (kws_bitlen32((uint32_t)x) != (x == 0 ? 0 : 32 - __builtin_clz((uint32_t)x))) {
            printf("bitlen32(%ld)\n", (long)x);
            return 1;
        }
    }
    if (ties != 4u * 31u) { /* every tie case hits the one place where SMMLSR != acc - SMMULR */
        printf("ties: %lu\n", (unsigned long)ties);
        return 1;
    }
    if (kws_bitlen64(0) != 0 || kws_bitlen64(1) != 1 || kws_bitlen64((uint64_t)1 << 40) != 41 ||
        kws_bitlen64(~(uint64_t)0) != 64 || kws_sat_s8(1000) != 127 || kws_sat_s8(-1000) != -128 ||
        kws_sat_s8((int64_t)1 << 40) != 127 || kws_sat_s8(-5) != -5) {
        printf("bitlen64 / sat_s8\n");
        return 1;
    }
    printf("ok\n");
    return 0;
}
