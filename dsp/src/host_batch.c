/* Host-only batch kernel (compiled in only with KWS_HOST_FAST, the CMake KWS_NATIVE build that
 * Python loads through ctypes; never on the M4). kws_frontend_batch hands it up to KWS_HOST_LANES
 * frames at a time; it runs the FFT and split (stages 3, 4) (and the mel sums, stage 6) on all of them at once, structure of arrays: one
 * GCC vector of KWS_HOST_LANES int32 holds the same element of every frame, so each butterfly
 * is a handful of SIMD instructions for all frames. Every other stage is the scalar code of
 * dsp/src, per frame. Same integers as fft.c, operation for operation:
 *   the window product kws_mulw(w, x) = floor(w x / 2^16) (Q31 w, int16 x) is computed in 32-bit
 *   lanes as (w >> 16) x + (((w & 0xFFFF) x) >> 16): w = 2^16 hi + lo with 0 <= lo < 2^16, so
 *   w x / 2^16 = hi x + lo x / 2^16 and hi x is an integer; |lo x| < 2^31, |hi x| <= 2^30,
 *   and the sum is the (in-range) exact result;
 *   the Q31 twiddle multiplies kws_mulr / kws_mlar / kws_mlsr form the exact 64-bit products,
 *   add the rounding constant and keep the high 32 bits: the formulas of kws_fixed.h. With AVX2
 *   and 8 lanes: VPMULDQ on the even lanes and on the odd lanes shifted down, the high halves
 *   blended back in lane order (7 instructions per 8 products, no 64-bit multiply); elsewhere
 *   GCC vectors of int64. */
#include "kws_frontend.h"
#include "kws_fixed.h"

#if defined(KWS_HOST_FAST) && defined(__GNUC__)

#if defined(__AVX2__) && KWS_HOST_LANES == 8
#include <immintrin.h>
#define KWS_HOST_AVX2 1
#endif

typedef int32_t kws_v8 __attribute__((vector_size(4 * KWS_HOST_LANES)));
typedef uint32_t kws_u8 __attribute__((vector_size(4 * KWS_HOST_LANES)));
typedef uint64_t kws_u64v __attribute__((vector_size(8 * KWS_HOST_LANES)));
typedef int64_t kws_l8 __attribute__((vector_size(8 * KWS_HOST_LANES)));

/* v in every lane (GCC broadcasts the scalar of a vector-scalar operation: one VPBROADCASTD) */
KWS_INLINE kws_v8 splat(int32_t v)
{
    kws_v8 zero = {0};
    return zero + v;
}

#if defined(KWS_HOST_AVX2)
/* high 32 bits of (sign * x w + 2^31) per lane (sign = +1 or -1; w a splat): the products of
 * the even lanes (VPMULDQ reads the low int32 of each int64) and of the odd lanes (shifted
 * down), each plus 2^31 in 64 bits; the even results' high halves shifted down into the even
 * lanes, blended with the odd results' high halves (already in the odd lanes) */
KWS_INLINE kws_v8 vhigh(kws_v8 x, kws_v8 w, int negate)
{
    const __m256i half = _mm256_set1_epi64x((int64_t)1 << 31);
    __m256i xv = (__m256i)x, wv = (__m256i)w;
    __m256i even = _mm256_mul_epi32(xv, wv);                          /* lanes 0, 2, 4, 6 */
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(xv, 32), wv);    /* lanes 1, 3, 5, 7 */
    even = negate ? _mm256_sub_epi64(half, even) : _mm256_add_epi64(even, half);
    odd = negate ? _mm256_sub_epi64(half, odd) : _mm256_add_epi64(odd, half);
    return (kws_v8)_mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* kws_mulr per lane: (x w + 2^31) >> 32, w a Q31 splat */
KWS_INLINE kws_v8 vmulr(kws_v8 x, kws_v8 w) { return vhigh(x, w, 0); }

/* kws_mlsr per lane: acc + ((2^31 - x w) >> 32) */
KWS_INLINE kws_v8 vmlsr(kws_v8 acc, kws_v8 x, kws_v8 w) { return acc + vhigh(x, w, 1); }
#else
/* kws_mulr per lane: (x w + 2^31) >> 32, w a Q31 splat, in int64 lanes */
KWS_INLINE kws_v8 vmulr(kws_v8 x, kws_v8 w)
{
    kws_l8 p = __builtin_convertvector(x, kws_l8) * __builtin_convertvector(w, kws_l8);
    return __builtin_convertvector((p + ((int64_t)1 << 31)) >> 32, kws_v8); /* |p| <= 2^62 */
}

/* kws_mlsr per lane: acc + ((2^31 - x w) >> 32) */
KWS_INLINE kws_v8 vmlsr(kws_v8 acc, kws_v8 x, kws_v8 w)
{
    kws_l8 p = __builtin_convertvector(x, kws_l8) * __builtin_convertvector(w, kws_l8);
    return acc + __builtin_convertvector((((int64_t)1 << 31) - p) >> 32, kws_v8);
}
#endif

static void vradix2(kws_v8 *zr, kws_v8 *zi, int32_t m)
{
    int32_t i;
    for (i = 0; i < m; i += 2) {
        kws_v8 ar = zr[i], ai = zi[i], br = zr[i + 1], bi = zi[i + 1];
        zr[i] = (ar + br) >> 1;
        zi[i] = (ai + bi) >> 1;
        zr[i + 1] = (ar - br) >> 1;
        zi[i + 1] = (ai - bi) >> 1;
    }
}

/* fft.c's radix4_out on vectors: c = sums / differences of b, y = c >> 1 */
KWS_INLINE void vr4out(kws_v8 *zr, kws_v8 *zi, int32_t i, int32_t q, kws_v8 b0r, kws_v8 b0i,
                       kws_v8 b1r, kws_v8 b1i, kws_v8 b2r, kws_v8 b2i, kws_v8 b3r, kws_v8 b3i)
{
    kws_v8 c0r = b0r + b2r, c0i = b0i + b2i, c1r = b0r - b2r, c1i = b0i - b2i;
    kws_v8 c2r = b1r + b3r, c2i = b1i + b3i, c3r = b1r - b3r, c3i = b1i - b3i;
    zr[i] = (c0r + c2r) >> 1;         zi[i] = (c0i + c2i) >> 1;
    zr[i + q] = (c1r + c3i) >> 1;     zi[i + q] = (c1i - c3r) >> 1;
    zr[i + 2 * q] = (c0r - c2r) >> 1; zi[i + 2 * q] = (c0i - c2i) >> 1;
    zr[i + 3 * q] = (c1r - c3i) >> 1; zi[i + 3 * q] = (c1i + c3r) >> 1;
}

/* kws_cmulr: (mlsr(mulr(re, wr), im, wi), mlar(mulr(im, wr), re, wi)) */
KWS_INLINE void vcmulr(kws_v8 re, kws_v8 im, kws_v8 wr, kws_v8 wi, kws_v8 *or_, kws_v8 *oi)
{
    *or_ = vmlsr(vmulr(re, wr), im, wi);
    *oi = vmulr(im, wr) + vmulr(re, wi); /* mlar(acc, x, w) = acc + mulr(x, w) exactly */
}

/* fft.c's twiddle_m: W_M^e from the shared Q31 table of W_N^k, as splats */
KWS_INLINE void vtwiddle(const int32_t *t, int32_t m, int32_t e, kws_v8 *wr, kws_v8 *wi)
{
    int32_t k = 2 * e, sign = 1, re, im;
    if (k > m) {
        k -= m;
        sign = -1;
    }
    kws_twiddle_n(t, m, k, &re, &im);
    *wr = splat(sign * re);
    *wi = splat(sign * im);
}

static void vradix4(kws_v8 *zr, kws_v8 *zi, int32_t m, int32_t sub, const int32_t *tw)
{
    int32_t length = 4 * sub, stride = m / length, q = sub, blk, j;
    for (blk = 0; blk < m; blk += length)
        vr4out(zr, zi, blk, q, zr[blk] >> 1, zi[blk] >> 1, zr[blk + q] >> 1, zi[blk + q] >> 1,
               zr[blk + 2 * q] >> 1, zi[blk + 2 * q] >> 1, zr[blk + 3 * q] >> 1,
               zi[blk + 3 * q] >> 1);
    for (j = 1; j < sub; j++) {
        kws_v8 w1r, w1i, w2r, w2i, w3r, w3i;
        vtwiddle(tw, m, j * stride, &w1r, &w1i);
        vtwiddle(tw, m, 2 * j * stride, &w2r, &w2i);
        vtwiddle(tw, m, 3 * j * stride, &w3r, &w3i);
        for (blk = j; blk < m; blk += length) {
            kws_v8 b1r, b1i, b2r, b2i, b3r, b3i;
            vcmulr(zr[blk + q], zi[blk + q], w1r, w1i, &b1r, &b1i);
            vcmulr(zr[blk + 2 * q], zi[blk + 2 * q], w2r, w2i, &b2r, &b2i);
            vcmulr(zr[blk + 3 * q], zi[blk + 3 * q], w3r, w3i, &b3r, &b3i);
            vr4out(zr, zi, blk, q, zr[blk] >> 1, zi[blk] >> 1, b1r, b1i, b2r, b2i, b3r, b3i);
        }
    }
}

int kws_host_frames(kws_frontend_state *st, const int16_t *const *frames, int32_t count,
                    int32_t frame_len, int8_t *const *outs, int32_t out_len)
{
    kws_v8 zr[KWS_FFT_MAX / 2], zi[KWS_FFT_MAX / 2]; /* Q(30 + s) per lane, as in fft.c */
    kws_v8 xr[KWS_FFT_MAX / 2 + 1], xi[KWS_FFT_MAX / 2 + 1]; /* split's X[lo..hi), Q of z */
    kws_u8 mag[KWS_FFT_MAX / 2 + 1];                 /* |X|[lo..hi) per lane */
    uint64_t mel[KWS_MEL_MAX][KWS_HOST_LANES];       /* mel energies per lane */
    int32_t p[KWS_FFT_MAX];                          /* one frame's products, Q(30 + s) */
    int32_t shift[KWS_HOST_LANES];
    const kws_frontend_tables *t;
    int32_t m, i, k, lo, hi, lane, sub, stages, len, s, rc = KWS_OK;
    if (st == NULL || frames == NULL || outs == NULL) return KWS_ERR_NULL;
    t = &st->tables;
    if (t->fft_size == 0) return KWS_ERR_BAD_CONFIG;
    if (count < 1 || count > KWS_HOST_LANES) return KWS_ERR_BAD_CONFIG;
    if (frame_len < t->window_samples || out_len < t->num_outputs) return KWS_ERR_SHORT_BUFFER;
    m = st->fft.m;
    for (lane = 0; lane < KWS_HOST_LANES; lane++) {
        const int16_t *x;
        uint32_t peak;
        if (lane >= count) { /* unused lanes: zeros (computed, never read back) */
            for (i = 0; i < m; i++) zr[i][lane] = zi[i][lane] = 0;
            continue;
        }
        x = frames[lane];
        if (x == NULL || outs[lane] == NULL) return KWS_ERR_NULL;
        rc = kws_window_process(&st->window, x, frame_len, &peak);
        if (rc == KWS_OK) rc = kws_normalize_process(peak, &shift[lane]);
        if (rc != KWS_OK) return rc;
        /* the gather of fft.c, into lane `lane`: first the products p[n] (fft.c's windowed(),
         * Q(30 + s), 0 past the window) in plain loops that vectorize, then the permutation;
         * (w x) >> 16 in 32-bit lanes as (w >> 16) x + (((w & 0xFFFF) x) >> 16) (see the top) */
        len = t->window_samples;
        s = shift[lane];
        if (s >= 0) {
            for (i = 0; i < len; i++) {
                int32_t w = t->window[i], xn = x[i];
                int32_t q30 = (w >> 16) * xn + (((w & 0xFFFF) * xn) >> 16); /* Q30 */
                p[i] = (int32_t)((uint32_t)q30 << s);
            }
        } else {
            for (i = 0; i < len; i++) {
                int32_t w = t->window[i], xn = x[i];
                p[i] = ((w >> 16) * xn + (((w & 0xFFFF) * xn) >> 16)) >> -s; /* Q30 >> -s */
            }
        }
        for (i = len; i < 2 * m; i++) p[i] = 0;
        for (i = 0; i < m; i++) {
            int32_t n = 2 * (int32_t)st->fft.perm[i];
            zr[i][lane] = p[n];
            zi[i][lane] = p[n + 1];
        }
    }
    stages = 0;
    while ((1 << stages) < m) stages++;
    sub = 1;
    if (stages & 1) {
        vradix2(zr, zi, m);
        sub = 2;
    }
    for (; sub < m; sub *= 4) vradix4(zr, zi, m, sub, st->fft.twiddle);
    /* stage 4, split (split.c's split_bin on vectors), bins [lo, hi) only, out of place into
     * xr, xi (never aliased: any lo, hi):
     *   Zk = Z[k mod M], Zc = conj(Z[(M - k) mod M]), e = (Zk + Zc) >> 1, d = (Zk - Zc) >> 1,
     *   o = (d.im, -d.re), t = cmulw(o, W_N^k) (k = 0: o >> 1), X[k] = (e >> 1) + t */
    lo = st->split.bin_lo;
    hi = st->split.bin_hi;
    for (k = lo; k < hi; k++) {
        int32_t a = k % m, b = (m - k) % m;
        kws_v8 cr = zr[b], ci = -zi[b];
        kws_v8 er = (zr[a] + cr) >> 1, ei = (zi[a] + ci) >> 1;
        kws_v8 dr = (zr[a] - cr) >> 1, di = (zi[a] - ci) >> 1;
        kws_v8 tr, ti;
        if (k == 0) {
            tr = di >> 1;
            ti = (-dr) >> 1;
        } else {
            int32_t wr, wi;
            kws_twiddle_n(st->split.twiddle, m, k, &wr, &wi);
            vcmulr(di, -dr, splat(wr), splat(wi), &tr, &ti);
        }
        xr[k - lo] = (er >> 1) + tr;
        xi[k - lo] = (ei >> 1) + ti;
    }
    for (k = lo; k < hi; k++) /* stage 5 (magnitude.c's kws_mag32), scalar per lane */
        for (lane = 0; lane < KWS_HOST_LANES; lane++)
            mag[k - lo][lane] = kws_mag32(xr[k - lo][lane], xi[k - lo][lane]);
    if (rc != KWS_OK) return rc;
    /* stage 6, mel (mel.c on vectors): mel[j] = sum_k |X|[start_j + k] w[k], uint64 per lane,
     * Q15 * |X| (each product < 2^48, exact); same products and sum, in the same order */
    {
        const uint16_t *w = st->mel.weights;
        int32_t j, n;
        for (j = 0; j < st->mel.num_mel; j++) {
            int32_t first = (int32_t)st->mel.start[j] - lo;
            kws_u64v acc = {0u};
            n = st->mel.len[j];
            for (k = 0; k < n; k++) {
                acc += __builtin_convertvector(mag[first + k], kws_u64v) * (uint64_t)w[k];
            }
            w += n;
            for (lane = 0; lane < KWS_HOST_LANES; lane++) mel[j][lane] = acc[lane];
        }
    }
    for (lane = 0; lane < count && rc == KWS_OK; lane++) { /* stages 7, 8 per frame */
        for (k = 0; k < st->mel.num_mel; k++) st->b.w.mel_energy[k] = mel[k][lane];
        rc = kws_log2_process(&st->log2, st->b.w.mel_energy, t->num_mel, shift[lane],
                              st->b.w.log_mel, KWS_MEL_MAX);
        if (rc == KWS_OK)
            rc = kws_project_process(&st->project, st->b.w.log_mel, t->num_mel, outs[lane],
                                     out_len);
    }
    return rc;
}

#endif
