/* Stage 4, split: the real-FFT split of the M-point complex spectrum Z of z = p[even] + j p[odd]
 * into bins k of the N-point real spectrum, X ~ DFT_N(p << s) / N. Mirror: split_stage.
 *   Zk = Z[k mod M], Zc = conj(Z[(M - k) mod M])
 *   e = (Zk + Zc) >> 1, d = (Zk - Zc) >> 1, o = (d.im, -d.re)
 *   t = cmulw(o, W_N^k) (k = 0: o >> 1),  X[k] = (e >> 1) + t
 * Only bins [bin_lo, bin_hi) are computed: the others never reach the mel stage. */
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

int kws_split_process(const kws_split_state *st, const int32_t *z, int32_t z_len, int32_t *x,
                      int32_t x_len)
{
    int32_t m, k;
    if (st == NULL || z == NULL || x == NULL) return KWS_ERR_NULL;
    m = st->m;
    if (z_len < 2 * m || x_len < 2 * (m + 1)) return KWS_ERR_SHORT_BUFFER;
    for (k = st->bin_lo; k < st->bin_hi; k++) {
        int32_t ka = k == m ? 0 : k;   /* k mod M */
        int32_t kc = k == 0 ? 0 : m - k; /* (M - k) mod M */
        int32_t zr = z[2 * ka], zi = z[2 * ka + 1];
        int32_t cr = z[2 * kc], ci = -z[2 * kc + 1]; /* conj */
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
        x[2 * k] = (er >> 1) + tr;
        x[2 * k + 1] = (ei >> 1) + ti;
    }
    return KWS_OK;
}
