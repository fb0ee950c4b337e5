/*
 * kws_frontend.h - the fixed-point MFCC / log-mel front end: int16 audio -> int8 feature frames.
 *
 * The C twin of kws/frontend/fixed.py, bit for bit. The pipeline and its Q formats are defined
 * in that module's docstring; dsp/src/ has one file per stage with the NumPy stage's name, and
 * frontend.c only chains them.
 *
 * Memory: the caller owns everything. kws_frontend_state has a fixed maximum size set by
 * KWS_FFT_MAX / KWS_MEL_MAX (override them with -D for a smaller device build; the library and
 * its callers must agree: compare kws_frontend_state_size() with sizeof). The tables are not
 * copied: the arrays behind kws_frontend_tables must outlive the state.
 *
 * Tables: computed in Python only (kws/frontend/tables.py, emitted by kws/frontend/codegen.py
 * as dsp/generated/kws_frontend_tables.c, or passed at run time). kws_frontend_init validates
 * them and never computes a table itself.
 *
 * Streaming contract: kws_frontend_process consumes what it can, up to the end of the next
 * frame, and says how many samples it used and whether a frame is ready. Frame t covers samples
 * [t * hop, t * hop + window) of the stream since the last reset, exactly as
 * kws.frontend.reference.frame_signal cuts a clip.
 */
#ifndef KWS_FRONTEND_H
#define KWS_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "kws_status.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_FFT_MAX
#define KWS_FFT_MAX 2048 /* largest real FFT size the state holds (power of two) */
#endif
#ifndef KWS_MEL_MAX
#define KWS_MEL_MAX 128 /* most mel bands (and outputs) per frame */
#endif

#define KWS_FFT_MIN 8
#define KWS_S_MIN (-2)           /* block shift range, tables.S_MIN / S_MAX */
#define KWS_S_MAX 28
#define KWS_BLOCK_TARGET_BITS 28 /* peak of the shifted products lies in [2^28, 2^29) */
#define KWS_LOG2_BITS 6          /* log2 lookup: 2^6 intervals, 65 entries */
#define KWS_EPS_LEN (KWS_S_MAX - KWS_S_MIN + 1)
#define KWS_LOG2_LEN ((1 << KWS_LOG2_BITS) + 1)

/* kws_status: KWS_OK, KWS_ERR_NULL, KWS_ERR_SHORT_BUFFER, KWS_ERR_BAD_CONFIG,
 * KWS_ERR_BAD_TABLE, KWS_ERR_PLATFORM (common/include/kws_status.h). */

/* Everything Python computes for one FrontendSettings (see kws/frontend/tables.py).
 * Lengths count elements of the pointed-to type. */
typedef struct {
    int32_t window_samples;    /* L: samples per frame */
    int32_t hop_samples;       /* samples between frames, 1..L */
    int32_t fft_size;          /* N: real FFT size, power of two, L <= N <= KWS_FFT_MAX */
    int32_t num_mel;           /* mel bands, 1..KWS_MEL_MAX */
    int32_t num_outputs;       /* values per frame, 1..KWS_MEL_MAX */
    int32_t proj_q;            /* fractional bits of proj, -15..24 */
    int32_t exp_base;          /* E(s) = exp_base + s: binary exponent of the mel energies */
    int32_t output_zero_point; /* int8 zero point, -128..127 */
    const int32_t *window;     /* [L] Q31 window */
    int32_t window_len;
    const uint16_t *perm;      /* [M] DIT input order of the M = N/2 point complex FFT */
    int32_t perm_len;
    const int32_t *twiddle;    /* [2 * (M/2+1)] Q31 (re, im) of exp(-2 pi i k / N), k in [0, M/2],
                                * for the FFT (W_M^e = W_N^2e; W_N^k = -conj(W_N^(M-k))) */
    int32_t twiddle_len;
    const int32_t *split;      /* [2 * (M/2+1)] the same table for the real-FFT split (the generated
                                * tables point both at one array; run-time tables may too) */
    int32_t split_len;
    const uint16_t *mel_start; /* [num_mel] first bin of each band */
    const uint16_t *mel_len;   /* [num_mel] bins in each band */
    int32_t mel_bands_len;
    const uint16_t *mel_weights; /* [sum(mel_len)] Q15 weights, band after band */
    int32_t mel_weights_len;
    const uint64_t *eps;       /* [KWS_EPS_LEN] log floor at each block shift, < 2^62 */
    int32_t eps_len;
    const int32_t *log2;       /* [KWS_LOG2_LEN] Q16 log2(1 + i/64), non-decreasing, 0..65536 */
    int32_t log2_len;
    const int16_t *proj;       /* [num_outputs * num_mel] DCT (or identity) in Q proj_q */
    int32_t proj_len;
} kws_frontend_tables;

#include "kws_frontend_stages.h"

typedef struct {
    kws_frontend_tables tables;
    kws_window_state window;
    kws_fft_state fft;
    kws_split_state split;
    kws_mel_state mel;
    kws_log2_state log2;
    kws_project_state project;
    int32_t fill;                        /* samples waiting in ring */
    int16_t ring[KWS_FFT_MAX];           /* the current partial frame */
    /* One work buffer, reused by stages whose lifetimes do not overlap (no window-product
     * buffer: the FFT's gather recomputes x[n] w[n] from the samples):
     *   z: FFT data (M complex, re/im interleaved) -> split's X in place (M+1 bins)
     *      -> |X| in place (mag[k] over word k, as uint32: same object size, signedness only)
     *   w: mel energies and Q16 log2-mel, after the M+1 magnitude words
     * (each member is written before it is read through that member) */
    union {
        int32_t z[KWS_FFT_MAX + 2]; /* M+1 complex values */
        struct {
            int32_t spectrum[KWS_FFT_MAX / 2 + 2]; /* mag[0..M] lives here (through z) */
            uint64_t mel_energy[KWS_MEL_MAX];      /* mel energies, exponent E(s) */
            int32_t log_mel[KWS_MEL_MAX];          /* Q16 log2 of mel + eps */
        } w;
    } b;
} kws_frontend_state;

/* Host-only multi-frame kernel (dsp/src/host_batch.c, only with KWS_HOST_FAST): the frames
 * frames[0..count) (each frame_len >= window samples) into outs[0..count) (each out_len bytes),
 * 1 <= count <= KWS_HOST_LANES. Same results as kws_frontend_compute_frame on each. */
#ifndef KWS_HOST_LANES
#define KWS_HOST_LANES 8 /* frames per SIMD group (power of two) */
#endif
#if defined(KWS_HOST_FAST)
int kws_host_frames(kws_frontend_state *st, const int16_t *const *frames, int32_t count,
                    int32_t frame_len, int8_t *const *outs, int32_t out_len);
#endif


/* sizeof(kws_frontend_state) as the library was compiled. */
size_t kws_frontend_state_size(void);

/* Validate the tables and prepare the state (also resets it). On error the state is unusable. */
kws_status kws_frontend_init(kws_frontend_state *st, const kws_frontend_tables *tables);

/* Forget buffered samples: the next frame starts with the next sample fed. */
void kws_frontend_reset(kws_frontend_state *st);

/* Frames that num_samples samples give in one batch: 0 if shorter than a window. */
int32_t kws_frontend_frames_for(const kws_frontend_state *st, int32_t num_samples);

/* Values per frame (num_outputs). */
int32_t kws_frontend_num_outputs(const kws_frontend_state *st);

/* One frame of window_samples int16 samples -> num_outputs int8 values (ring not touched). */
kws_status kws_frontend_compute_frame(kws_frontend_state *st, const int16_t *samples,
                                      int32_t num_samples, int8_t *out, int32_t out_len);

/* Streaming: consume samples until one frame is complete or the input runs out.
 * *num_used: samples consumed; *frame_ready: 1 if frame[0..num_outputs) was written. */
kws_status kws_frontend_process(kws_frontend_state *st, const int16_t *samples,
                                int32_t num_samples, int32_t *num_used, int8_t *frame,
                                int32_t frame_len, int32_t *frame_ready);

/* Streaming: consume samples and write up to frames_len / num_outputs frames. Stops early (with
 * *num_used < num_samples) when the frame buffer is full; feed the rest later. */
kws_status kws_frontend_process_frames(kws_frontend_state *st, const int16_t *samples,
                                       int32_t num_samples, int32_t *num_used, int8_t *frames,
                                       int32_t frames_len, int32_t *num_frames);

/* Batch: num_clips clips of clip_len samples, row after row -> out[clip][frame][output],
 * frames_for(clip_len) frames per clip. The ring is not touched. */
kws_status kws_frontend_batch(kws_frontend_state *st, const int16_t *clips, int32_t num_clips,
                              int32_t clip_len, int8_t *out, int64_t out_len);

#ifdef __cplusplus
}
#endif

#endif /* KWS_FRONTEND_H */
