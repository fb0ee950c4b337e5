/* Stage 3, fft: complex FFT of M = N/2 points on z = p[2n] + j p[2n+1], decimation in time.
 * Mirror: fft_stage. Stages: one radix-2 stage first when log2 M is odd, then radix 4; every
 * stage divides by its radix, so |z| never grows: components stay below 2^29.5 and the widest
 * intermediate (c0 + c2 in radix 4) below 2^30.5, inside int32.
 *   radix 2: y0 = (a + b) >> 1, y1 = (a - b) >> 1
 *   radix 4: b0 = a0 >> 1, bq = cmulr(aq, W_M^e) (e = 0: aq >> 1), e = j q M / length
 *            (kws_cmulr: Q31 twiddle, rounded high multiplies, result z W / 2 in the Q of z)
 *            c0 = b0 + b2, c1 = b0 - b2, c2 = b1 + b3, c3 = b1 - b3
 *            y0 = (c0 + c2) >> 1, y1 = (c1 - j c3) >> 1, y2 = (c0 - c2) >> 1,
 *            y3 = (c1 + j c3) >> 1
 * Twiddles: one Q31 table of W_N^k, k in [0, M/2] (shared with split.c; kws_twiddle_n gives any
 * k in [0, M]): W_M^e = W_N^(2e) for 2e <= M, else -W_N^(2e - M) (every entry is negatable:
 * tables.py clips to +-(2^31 - 1)). */
#include "kws_frontend.h"
#include "kws_fixed.h"

static int32_t log2_exact(int32_t m)
{
    int32_t k = 0;
    while ((1 << k) < m) k++;
    return (1 << k) == m ? k : -1;
}

/* |W| <= 1 plus rounding, and no INT32_MIN component (negated above); shared with split.c */
int kws_twiddle_q31_ok(const int32_t *twiddle, int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        int64_t re = twiddle[2 * i], im = twiddle[2 * i + 1];
        if (re == INT32_MIN || im == INT32_MIN) return 0;
        if ((uint64_t)(re * re) + (uint64_t)(im * im) > ((uint64_t)1 << 62) + ((uint64_t)1 << 32))
            return 0;
    }
    return 1;
}

int kws_fft_init(kws_fft_state *st, int32_t m, const uint16_t *perm, int32_t perm_len,
                 const int32_t *twiddle, int32_t twiddle_len, uint32_t *scratch,
                 int32_t scratch_len)
{
    int32_t i;
    if (st == NULL || perm == NULL || twiddle == NULL || scratch == NULL) return KWS_ERR_NULL;
    if (m < KWS_FFT_MIN / 2 || m > KWS_FFT_MAX / 2 || log2_exact(m) < 0) return KWS_ERR_BAD_CONFIG;
    if (scratch_len < m / 32 + 1) return KWS_ERR_SHORT_BUFFER;
    if (perm_len != m || twiddle_len != 2 * (m / 2 + 1)) return KWS_ERR_BAD_TABLE;
    for (i = 0; i < m / 32 + 1; i++) scratch[i] = 0u;
    for (i = 0; i < m; i++) { /* perm must be a permutation of 0..m-1 */
        uint32_t v = perm[i];
        if ((int32_t)v >= m || (scratch[v >> 5] >> (v & 31u)) & 1u) return KWS_ERR_BAD_TABLE;
        scratch[v >> 5] |= 1u << (v & 31u);
    }
    if (!kws_twiddle_q31_ok(twiddle, m / 2 + 1)) return KWS_ERR_BAD_TABLE; /* keeps the bounds */
    st->m = m;
    st->perm = perm;
    st->twiddle = twiddle;
    return KWS_OK;
}

static void radix2_stage(int32_t *z, int32_t m)
{
    int32_t i;
    for (i = 0; i < m; i += 2) {
        int32_t ar = z[2 * i], ai = z[2 * i + 1], br = z[2 * i + 2], bi = z[2 * i + 3];
        z[2 * i] = (ar + br) >> 1;
        z[2 * i + 1] = (ai + bi) >> 1;
        z[2 * i + 2] = (ar - br) >> 1;
        z[2 * i + 3] = (ai - bi) >> 1;
    }
}

/* The radix-4 butterfly on b0..b3 (already halved / rotated): c = sums and differences, y = c / 2,
 * written over a0..a3. c0 + c2 stays below 2^30.5 (see the top of this file). */
KWS_INLINE void radix4_out(int32_t *a0, int32_t *a1, int32_t *a2, int32_t *a3,
                           int32_t b0r, int32_t b0i, int32_t b1r, int32_t b1i,
                           int32_t b2r, int32_t b2i, int32_t b3r, int32_t b3i)
{
    int32_t c0r = b0r + b2r, c0i = b0i + b2i, c1r = b0r - b2r, c1i = b0i - b2i;
    int32_t c2r = b1r + b3r, c2i = b1i + b3i, c3r = b1r - b3r, c3i = b1i - b3i;
    a0[0] = (c0r + c2r) >> 1; a0[1] = (c0i + c2i) >> 1;
    a1[0] = (c1r + c3i) >> 1; a1[1] = (c1i - c3r) >> 1;
    a2[0] = (c0r - c2r) >> 1; a2[1] = (c0i - c2i) >> 1;
    a3[0] = (c1r - c3i) >> 1; a3[1] = (c1i + c3r) >> 1;
}

/* W_M^e from the shared table of W_N^k (see the top of this file) */
KWS_INLINE void twiddle_m(const int32_t *t, int32_t m, int32_t e, int32_t *wr, int32_t *wi)
{
    int32_t k = 2 * e;
    if (k <= m) {
        kws_twiddle_n(t, m, k, wr, wi);
    } else { /* k - m < M/2: straight from the table, negated */
        *wr = -t[2 * (k - m)];
        *wi = -t[2 * (k - m) + 1];
    }
}

/* One radix-4 stage combining sub-DFTs of length sub: element q of block blk, index j, is
 * z[blk + q sub + j]; the twiddle of element q is W_M^(j q M / (4 sub)). The loop runs over j
 * outside and the blocks inside, so each twiddle is loaded once per stage; j = 0 is a plain
 * halving (no multiply). Every butterfly is independent: the order does not change results. */
static void radix4_stage(int32_t *z, int32_t m, int32_t sub, const int32_t *twiddle)
{
    int32_t length = 4 * sub;
    int32_t stride = m / length; /* twiddle exponent step */
    int32_t q = 2 * sub;         /* int32 distance between the four inputs */
    int32_t step = 2 * length;   /* int32 distance between blocks */
    int32_t *end = z + 2 * m;
    int32_t *a;
    int32_t j;
    for (a = z; a < end; a += step)
        radix4_out(a, a + q, a + 2 * q, a + 3 * q, a[0] >> 1, a[1] >> 1, a[q] >> 1,
                   a[q + 1] >> 1, a[2 * q] >> 1, a[2 * q + 1] >> 1, a[3 * q] >> 1,
                   a[3 * q + 1] >> 1);
    for (j = 1; j < sub; j++) {
        int32_t w1r, w1i, w2r, w2i, w3r, w3i; /* Q31 */
        twiddle_m(twiddle, m, j * stride, &w1r, &w1i);     /* W_M^(j stride) */
        twiddle_m(twiddle, m, 2 * j * stride, &w2r, &w2i); /* W_M^(2 j stride) */
        twiddle_m(twiddle, m, 3 * j * stride, &w3r, &w3i); /* W_M^(3 j stride) */
        for (a = z + 2 * j; a < end; a += step) {
            int32_t *a1 = a + q, *a2 = a1 + q, *a3 = a2 + q;
            int32_t b1r, b1i, b2r, b2i, b3r, b3i;
            kws_cmulr(a1[0], a1[1], w1r, w1i, &b1r, &b1i); /* Q of z, halved by the Q31 twiddle */
            kws_cmulr(a2[0], a2[1], w2r, w2i, &b2r, &b2i);
            kws_cmulr(a3[0], a3[1], w3r, w3i, &b3r, &b3i);
            radix4_out(a, a1, a2, a3, a[0] >> 1, a[1] >> 1, b1r, b1i, b2r, b2i, b3r, b3i);
        }
    }
}

/* Product n of the windowed frame, Q30, shifted by s to Q(30 + s); 0 past the window (the
 * zero padding to N). Same value as window.c's p[n], then normalize's shift. */
KWS_INLINE int32_t windowed(const int16_t *x, const int32_t *w, int32_t len, int32_t n,
                            int32_t shift)
{
    int32_t p;
    if (n >= len) return 0;
    p = kws_mulw(w[n], x[n]); /* Q31 * int16 >> 16: Q30 */
    return shift >= 0 ? kws_shl32(p, shift) : p >> -shift; /* floor shift when s < 0 */
}

int kws_fft_process(const kws_fft_state *st, const int16_t *x, int32_t x_len, const int32_t *w,
                    int32_t len, int32_t shift, int32_t *z, int32_t z_len)
{
    int32_t m, i, sub, stages;
    if (st == NULL || x == NULL || w == NULL || z == NULL) return KWS_ERR_NULL;
    m = st->m;
    if (len < 0 || len > 2 * m || x_len < len || z_len < 2 * m) return KWS_ERR_SHORT_BUFFER;
    if (shift < KWS_S_MIN || shift > KWS_S_MAX) return KWS_ERR_BAD_CONFIG;
    /* gather in DIT order, with the window products and normalize's block shift:
     * z[i] = p[2 perm[i]] + j p[2 perm[i]+1], p[n] = ((w[n] x[n]) >> 16) << s, 0 for n >= len;
     * Q(30 + s), |z| < 2^29 per component */
    if (shift >= 0) {
        for (i = 0; i < m; i++) {
            int32_t n = 2 * (int32_t)st->perm[i];
            if (n + 1 < len) { /* both inside the window: one 32-bit load of x */
                int32_t xx = kws_load_pair(x + n);
                int32_t p0 = kws_mulwb(w[n], xx);     /* Q30 */
                int32_t p1 = kws_mulwt(w[n + 1], xx); /* Q30 */
                z[2 * i] = kws_shl32(p0, shift);
                z[2 * i + 1] = kws_shl32(p1, shift);
            } else {
                z[2 * i] = windowed(x, w, len, n, shift);
                z[2 * i + 1] = windowed(x, w, len, n + 1, shift);
            }
        }
    } else {
        for (i = 0; i < m; i++) {
            int32_t n = 2 * (int32_t)st->perm[i];
            z[2 * i] = windowed(x, w, len, n, shift);
            z[2 * i + 1] = windowed(x, w, len, n + 1, shift);
        }
    }
    stages = log2_exact(m);
    sub = 1;
    if (stages & 1) {
        radix2_stage(z, m);
        sub = 2;
    }
    for (; sub < m; sub *= 4) radix4_stage(z, m, sub, st->twiddle);
    return KWS_OK;
}
