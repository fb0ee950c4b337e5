/* Stage 7, log2: Q16 log2 of mel_true + eps, with mel_true = mel * 2^-E(s), E(s) = exp_base + s.
 * Mirror: log2_stage.
 *   v = mel + eps[s]; n = bitlen(v) - 1; f = the 31 bits below the leading one
 *   i = f >> 25 (6 bits), r = (f >> 9) & 0xFFFF (next 16 bits)
 *   L = (n - E(s)) * 2^16 + T[i] + (((T[i+1] - T[i]) * r) >> 16)        (Q16) */
#include "kws_frontend.h"
#include "kws_fixed.h"

int kws_log2_init(kws_log2_state *st, const uint64_t *eps, int32_t eps_len,
                  const int32_t *table, int32_t table_len, int32_t exp_base)
{
    int32_t i;
    if (st == NULL || eps == NULL || table == NULL) return KWS_ERR_NULL;
    if (exp_base < 0 || exp_base > 64) return KWS_ERR_BAD_CONFIG;
    if (eps_len != KWS_EPS_LEN || table_len != KWS_LOG2_LEN) return KWS_ERR_BAD_TABLE;
    for (i = 0; i < KWS_EPS_LEN; i++)
        if (eps[i] >= ((uint64_t)1 << 62)) return KWS_ERR_BAD_TABLE; /* mel + eps < 2^63 */
    for (i = 0; i < KWS_LOG2_LEN; i++) {
        if (table[i] < 0 || table[i] > 65536) return KWS_ERR_BAD_TABLE;
        if (i > 0 && table[i] < table[i - 1]) return KWS_ERR_BAD_TABLE;
    }
    st->eps = eps;
    st->table = table;
    st->exp_base = exp_base;
    return KWS_OK;
}

int kws_log2_process(const kws_log2_state *st, const uint64_t *mel, int32_t mel_len,
                     int32_t shift, int32_t *out, int32_t out_len)
{
    const int32_t *t;
    uint64_t eps;
    int32_t j, e;
    if (st == NULL || mel == NULL || out == NULL) return KWS_ERR_NULL;
    if (out_len < mel_len) return KWS_ERR_SHORT_BUFFER;
    if (shift < KWS_S_MIN || shift > KWS_S_MAX) return KWS_ERR_BAD_CONFIG;
    t = st->table;
    eps = st->eps[shift - KWS_S_MIN];
    e = st->exp_base + shift;
    for (j = 0; j < mel_len; j++) {
        uint64_t v = mel[j] + eps;
        int32_t n = kws_bitlen64(v) - 1;  /* -1 when v == 0 */
        uint32_t f, i, r;
        if (n > 31) {
            f = (uint32_t)(v >> (n - 31)) & 0x7FFFFFFFu; /* 31 fraction bits */
        } else if (n >= 0) {
            f = ((uint32_t)v << (31 - n)) & 0x7FFFFFFFu;
        } else {
            f = 0u;
        }
        i = f >> (31 - KWS_LOG2_BITS);
        r = (f >> (31 - KWS_LOG2_BITS - 16)) & 0xFFFFu;
        /* Q16: table step (< 2^16) * r (< 2^16) >> 16 */
        out[j] = (n - e) * 65536 + t[i] + (int32_t)(((int64_t)(t[i + 1] - t[i]) * r) >> 16);
    }
    return KWS_OK;
}
