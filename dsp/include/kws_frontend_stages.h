/*
 * kws_frontend_stages.h - the eight stages of the front end, one file each in dsp/src/, with the
 * names of the NumPy stages in kws/frontend/fixed.py. Included by kws_frontend.h.
 *
 * Verbs: init (validates its table, returns kws_status) and process (state first). The stages
 * keep no per-stream state, so none needs a reset; kws_frontend_reset resets the stream.
 * process functions check NULL pointers and buffer lengths once per call (cheap: a few compares
 * per frame) and then run integer-only loops.
 */
#ifndef KWS_FRONTEND_STAGES_H
#define KWS_FRONTEND_STAGES_H

#include <stdint.h>

/* 1. window: p[n] = (w[n] x[n]) >> 16  (Q31 * int16 -> Q30, floor; SMULWB) */
typedef struct {
    const int32_t *coeffs; /* Q31 */
    int32_t len;
} kws_window_state;
int kws_window_init(kws_window_state *st, const int32_t *coeffs, int32_t len);
/* *peak gets the OR of all |p| (products not stored), whose bit length is that of max |p|. */
int kws_window_process(const kws_window_state *st, const int16_t *in, int32_t in_len,
                       uint32_t *peak);

/* 2. normalize: block floating point; the shift s from the peak's bit length. The FFT's input
 * gather forms the products, applies s and pads with zeros (one pass over the frame). */
int kws_normalize_process(uint32_t peak, int32_t *shift);

/* 3. fft: complex DIT FFT of M = N/2 points on z = p[even] + j p[odd]; every stage divides by
 * its radix (radix 2 first when log2 M is odd, then radix 4). */
typedef struct {
    int32_t m;              /* complex points */
    const uint16_t *perm;   /* [m] */
    const int32_t *twiddle; /* [2 * (m/2+1)] Q31 W_N^k, k in [0, m/2] (W_M^e = W_N^2e) */
} kws_fft_state;
/* 1 if every (re, im) of twiddle[0..count) has |W| <= 1 (+ rounding) and no INT32_MIN part. */
int kws_twiddle_q31_ok(const int32_t *twiddle, int32_t count);
/* scratch (>= m/32 + 1 words) is used to check that perm is a permutation. */
int kws_fft_init(kws_fft_state *st, int32_t m, const uint16_t *perm, int32_t perm_len,
                 const int32_t *twiddle, int32_t twiddle_len, uint32_t *scratch,
                 int32_t scratch_len);
/* z[i] = (p[2 perm[i]] + j p[2 perm[i] + 1]) with p[n] = ((w[n] x[n]) >> 16) << s for n < len,
 * else 0 (w: the Q31 window); then the stages. */
int kws_fft_process(const kws_fft_state *st, const int16_t *x, int32_t x_len, const int32_t *w,
                    int32_t len, int32_t shift, int32_t *z, int32_t z_len);

/* 4. split: M complex points -> bins [bin_lo, bin_hi) of the N-point real spectrum X ~ DFT/N,
 * in place: (re, im) of X[k] at z[2k], z[2k+1] (z holds 2(M+1) words). Bins outside the mel
 * bands are never computed. */
typedef struct {
    int32_t m;
    const int32_t *twiddle; /* [2 * (m/2+1)] Q31 W_N^k, k in [0, m/2] */
    int32_t bin_lo, bin_hi;
} kws_split_state;
int kws_split_init(kws_split_state *st, int32_t m, const int32_t *twiddle, int32_t twiddle_len,
                   int32_t bin_lo, int32_t bin_hi);
int kws_split_process(const kws_split_state *st, int32_t *z, int32_t z_len);

/* 5. magnitude: mag[k] = isqrt(P >> 2r) << r, P = re^2 + im^2, for k in [bin_lo, bin_hi); mag may
 * overlay x (mag[k] over word k: written after x[2k], x[2k+1] are read) */
int kws_magnitude_process(const int32_t *x, int32_t x_len, int32_t bin_lo, int32_t bin_hi,
                          uint32_t *mag, int32_t mag_len);

/* 6. mel: mel[j] = sum_k W[j, k] mag[k]  (uint32 * Q15 summed in uint64) */
typedef struct {
    int32_t num_mel;
    const uint16_t *start, *len, *weights;
    int32_t bin_lo, bin_hi; /* union of the bands' bins (bin_lo == bin_hi when all empty) */
} kws_mel_state;
int kws_mel_init(kws_mel_state *st, int32_t num_mel, int32_t num_bins, const uint16_t *start,
                 const uint16_t *len, int32_t bands_len, const uint16_t *weights,
                 int32_t weights_len);
int kws_mel_process(const kws_mel_state *st, const uint32_t *mag, int32_t mag_len,
                    uint64_t *mel, int32_t mel_len);

/* 7. log2: Q16 log2 of mel_true + eps, mel_true = mel * 2^-E(s) */
typedef struct {
    const uint64_t *eps;  /* [KWS_EPS_LEN] */
    const int32_t *table; /* [KWS_LOG2_LEN] */
    int32_t exp_base;
} kws_log2_state;
int kws_log2_init(kws_log2_state *st, const uint64_t *eps, int32_t eps_len,
                  const int32_t *table, int32_t table_len, int32_t exp_base);
int kws_log2_process(const kws_log2_state *st, const uint64_t *mel, int32_t mel_len,
                     int32_t shift, int32_t *out, int32_t out_len);

/* 8. project: q = clamp((C . L + B) >> (16 + Q_C), -128, 127) */
typedef struct {
    const int16_t *proj;
    int32_t num_outputs, num_mel, proj_q;
    int64_t bias; /* zp * 2^(16+Q_C) + 2^(15+Q_C) */
} kws_project_state;
int kws_project_init(kws_project_state *st, const int16_t *proj, int32_t proj_len,
                     int32_t num_outputs, int32_t num_mel, int32_t proj_q, int32_t zero_point);
int kws_project_process(const kws_project_state *st, const int32_t *log_mel, int32_t log_mel_len,
                        int8_t *out, int32_t out_len);

#endif /* KWS_FRONTEND_STAGES_H */
