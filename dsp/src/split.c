/* Stage 4, split: the real-FFT split of the M-point complex spectrum Z of z = p[even] + j p[odd]
 * into bins k of the N-point real spectrum, X ~ DFT_N(p << s) / N. Mirror: split_stage.
 *   Zk = Z[k mod M], Zc = conj(Z[(M - k) mod M])
 *   e = (Zk + Zc) >> 1, d = (Zk - Zc) >> 1, o = (d.im, -d.re)
 *   t = cmulr(o, W_N^k) (k = 0: o >> 1),  X[k] = (e >> 1) + t
 *   (W_N^k: kws_twiddle_n on the Q31 table of k in [0, M/2] shared with fft.c; kws_cmulr
 *   halves: t ~ o W / 2)
 * Only bins [bin_lo, bin_hi) are computed: the others never reach the mel stage. In place:
 * X[k] is written over Z[k] (x[2k], x[2k+1]), X[M] into the slot after Z (z has 2(M+1) words). */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_split_init(kws_split_state *st, int32_t m, const int32_t *twiddle, int32_t twiddle_len,
                   int32_t bin_lo, int32_t bin_hi)
{
    if (st == NULL || twiddle == NULL) return KWS_ERR_NULL;
    if (m < 1 || bin_lo < 0 || bin_hi < bin_lo || bin_hi > m + 1) return KWS_ERR_BAD_CONFIG;
    if (twiddle_len != 2 * (m / 2 + 1)) return KWS_ERR_BAD_TABLE;
    if (!kws_twiddle_q31_ok(twiddle, m / 2 + 1)) return KWS_ERR_BAD_TABLE;
    st->m = m;
    st->twiddle = twiddle;
    st->bin_lo = bin_lo;
    st->bin_hi = bin_hi;
    return KWS_OK;
}

/* Bin k > 0 of X from Zk and Zc = conj(Z[(M - k) mod M]), values read by the caller (Q of z),
 * with its twiddle W_N^k = (wr, wi) (Q31) given. */
KWS_INLINE void split_bin_tw(int32_t wr, int32_t wi, int32_t zr, int32_t zi, int32_t cr,
                             int32_t ci, int32_t *xr, int32_t *xi)
{
    int32_t er = (zr + cr) >> 1, ei = (zi + ci) >> 1;
    int32_t dr = (zr - cr) >> 1, di = (zi - ci) >> 1;
    int32_t tr, ti;
    kws_cmulr(di, -dr, wr, wi, &tr, &ti); /* t = o W / 2 */
    *xr = (er >> 1) + tr;
    *xi = (ei >> 1) + ti;
}

/* Any bin k; k = 0 has W = 1 and takes t = o >> 1. */
KWS_INLINE void split_bin(const kws_split_state *st, int32_t k, int32_t zr, int32_t zi,
                          int32_t cr, int32_t ci, int32_t *xr, int32_t *xi)
{
    if (k == 0) {
        int32_t er = (zr + cr) >> 1, ei = (zi + ci) >> 1;
        int32_t dr = (zr - cr) >> 1, di = (zi - ci) >> 1;
        *xr = (er >> 1) + (di >> 1); /* o = (d.im, -d.re) */
        *xi = (ei >> 1) + ((-dr) >> 1);
    } else {
        int32_t wr, wi;
        kws_twiddle_n(st->twiddle, st->m, k, &wr, &wi); /* W_N^k, any k in [1, M] */
        split_bin_tw(wr, wi, zr, zi, cr, ci, xr, xi);
    }
}

/* The pair (k, M - k) in place, computing only the bins in [lo, hi). */
static void split_pair(const kws_split_state *st, int32_t *z, int32_t k, int32_t lo, int32_t hi)
{
    int32_t m = st->m, kb = m - k; /* the partner bin */
    int32_t a = k, b = k == 0 ? 0 : kb; /* Z slots: Z[k mod M], Z[(M - k) mod M] */
    int32_t ar = z[2 * a], ai = z[2 * a + 1], br = z[2 * b], bi = z[2 * b + 1];
    int32_t xr = 0, xi = 0, yr = 0, yi = 0;
    int use_k = k >= lo && k < hi, use_kb = kb != k && kb >= lo && kb < hi;
    if (use_k) split_bin(st, k, ar, ai, br, -bi, &xr, &xi);    /* Zk = Z[a], Zc = conj Z[b] */
    if (use_kb) split_bin(st, kb, br, bi, ar, -ai, &yr, &yi); /* Zk = Z[b], Zc = conj Z[a] */
    if (use_k) {
        z[2 * k] = xr;
        z[2 * k + 1] = xi;
    }
    if (use_kb) {
        z[2 * kb] = yr;
        z[2 * kb + 1] = yi;
    }
}

int kws_split_process(const kws_split_state *st, int32_t *z, int32_t z_len)
{
    int32_t m, k, lo, hi, k0, k1;
    if (st == NULL || z == NULL) return KWS_ERR_NULL;
    m = st->m;
    if (z_len < 2 * (m + 1)) return KWS_ERR_SHORT_BUFFER;
    lo = st->bin_lo;
    hi = st->bin_hi;
    /* In place, by pairs: bins k and M - k both read only Z[k] and Z[M - k] (Z[0] alone for
     * bins 0 and M), so X[k], X[M - k] overwrite them once both are read. X[M] goes to the
     * extra slot z[2M], z[2M + 1]. Pairs k in [k0, k1) have both bins in [lo, hi) and
     * 0 < k < M/2: a loop without tests; the others go through split_pair. */
    if (hi <= m / 2 + 1) {
        /* Only the lower half (the default: bands up to fs/4): bin k reads slots k and M - k and
         * writes slot k; every slot M - k >= M/2 that a later bin reads is written by no bin
         * except M/2, which reads it itself first. So plain ascending order is in place. */
        k = lo;
        if (k == 0 && k < hi) {
            split_bin(st, 0, z[0], z[1], z[0], -z[1], &z[0], &z[1]);
            k = 1;
        }
        for (; k < hi; k++) { /* 1 <= k <= M/2: W_N^k straight from the table */
            int32_t *za = z + 2 * k, *zb = z + 2 * (m - k);
            const int32_t *w = st->twiddle + 2 * k;
            split_bin_tw(w[0], w[1], za[0], za[1], zb[0], -zb[1], &za[0], &za[1]);
        }
        return KWS_OK;
    }
    k0 = lo > 1 ? lo : 1;
    k0 = k0 > m - hi + 1 ? k0 : m - hi + 1;
    k1 = hi < m - lo + 1 ? hi : m - lo + 1;
    k1 = k1 < (m + 1) / 2 ? k1 : (m + 1) / 2; /* k < M/2 */
    if (k1 < k0) k1 = k0;
    for (k = 0; k < k0 && 2 * k <= m; k++) split_pair(st, z, k, lo, hi);
    for (k = k0; k < k1; k++) {
        int32_t *za = z + 2 * k, *zb = z + 2 * (m - k);
        int32_t ar = za[0], ai = za[1], br = zb[0], bi = zb[1];
        int32_t xr, xi, yr, yi;
        int32_t wr = st->twiddle[2 * k], wi = st->twiddle[2 * k + 1]; /* W_N^k, 0 < k < M/2 */
        /* W_N^(M-k) = -conj(W_N^k); all four inputs are in locals: store each bin when done */
        split_bin_tw(-wr, wi, br, bi, ar, -ai, &yr, &yi);
        zb[0] = yr;
        zb[1] = yi;
        split_bin_tw(wr, wi, ar, ai, br, -bi, &xr, &xi);
        za[0] = xr;
        za[1] = xi;
    }
    for (k = k1; 2 * k <= m; k++) split_pair(st, z, k, lo, hi);
    return KWS_OK;
}
