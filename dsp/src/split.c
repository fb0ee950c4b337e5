/* Stage 4, split: the real-FFT split of the M-point complex spectrum Z of z = p[even] + j p[odd]
 * into bins k of the N-point real spectrum, X ~ DFT_N(p << s) / N. Mirror: split_stage.
 *   Zk = Z[k mod M], Zc = conj(Z[(M - k) mod M])
 *   e = (Zk + Zc) >> 1, d = (Zk - Zc) >> 1, o = (d.im, -d.re)
 *   t = cmulw(o, W_N^k) (k = 0: o >> 1),  X[k] = (e >> 1) + t
 * Only bins [bin_lo, bin_hi) are computed: the others never reach the mel stage. In place:
 * X[k] is written over Z[k] (x[2k], x[2k+1]), X[M] into the slot after Z (z has 2(M+1) words). */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_split_init(kws_split_state *st, int32_t m, const int16_t *twiddle, int32_t twiddle_len,
                   int32_t bin_lo, int32_t bin_hi)
{
    int32_t i;
    if (st == NULL || twiddle == NULL) return KWS_ERR_NULL;
    if (m < 1 || bin_lo < 0 || bin_hi < bin_lo || bin_hi > m + 1) return KWS_ERR_BAD_CONFIG;
    if (twiddle_len != 2 * (m + 1)) return KWS_ERR_BAD_TABLE;
    for (i = 0; i <= m; i++) {
        int32_t re = twiddle[2 * i], im = twiddle[2 * i + 1];
        if (re * re + im * im > (1 << 30) + (1 << 16)) return KWS_ERR_BAD_TABLE;
    }
    st->m = m;
    st->twiddle = twiddle;
    st->bin_lo = bin_lo;
    st->bin_hi = bin_hi;
    return KWS_OK;
}

/* Bin k of X from Zk = Z[ka] and Zc = conj(Z[kc]), values read by the caller (Q of z). */
KWS_INLINE void split_bin(const kws_split_state *st, int32_t k, int32_t zr, int32_t zi,
                          int32_t cr, int32_t ci, int32_t *xr, int32_t *xi)
{
    int32_t er = (zr + cr) >> 1, ei = (zi + ci) >> 1;
    int32_t dr = (zr - cr) >> 1, di = (zi - ci) >> 1;
    int32_t or_ = di, oi = -dr;
    int32_t tr, ti;
    if (k == 0) {
        tr = or_ >> 1;
        ti = oi >> 1;
    } else {
        int32_t w = kws_load_pair(st->twiddle + 2 * k);
        kws_cmulw(or_, oi, w, &tr, &ti); /* halves o */
    }
    *xr = (er >> 1) + tr;
    *xi = (ei >> 1) + ti;
}

int kws_split_process(const kws_split_state *st, int32_t *z, int32_t z_len)
{
    int32_t m, k, lo, hi;
    if (st == NULL || z == NULL) return KWS_ERR_NULL;
    m = st->m;
    if (z_len < 2 * (m + 1)) return KWS_ERR_SHORT_BUFFER;
    lo = st->bin_lo;
    hi = st->bin_hi;
    /* In place, by pairs: bins k and M - k both read only Z[k] and Z[M - k] (Z[0] alone for
     * bins 0 and M), so X[k], X[M - k] overwrite them once both are read. X[M] goes to the
     * extra slot z[2M], z[2M + 1]. */
    for (k = 0; 2 * k <= m; k++) {
        int32_t kb = m - k; /* the partner bin */
        int32_t a = k, b = k == 0 ? 0 : kb; /* Z slots: Z[k mod M], Z[(M - k) mod M] */
        int32_t ar, ai, br, bi, xr, xi, yr, yi;
        int use_k = k >= lo && k < hi, use_kb = kb != k && kb >= lo && kb < hi;
        if (!use_k && !use_kb) continue;
        ar = z[2 * a];
        ai = z[2 * a + 1];
        br = z[2 * b];
        bi = z[2 * b + 1];
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
    return KWS_OK;
}
