/* The front end: validates the tables, then only chains the eight stages. */
#include <string.h>

#include "kws_frontend.h"

size_t kws_frontend_state_size(void) { return sizeof(kws_frontend_state); }

static int arithmetic_shift_ok(void)
{
    volatile int32_t minus_three = -3;
    volatile int64_t minus_five = -5;
    return (minus_three >> 1) == -2 && (minus_five >> 1) == -3;
}

kws_status kws_frontend_init(kws_frontend_state *st, const kws_frontend_tables *t)
{
    int32_t m, rc, lo, hi;
    if (st == NULL || t == NULL) return KWS_ERR_NULL;
    if (!arithmetic_shift_ok()) return KWS_ERR_PLATFORM;
    memset(st, 0, sizeof *st);
    if (t->fft_size < KWS_FFT_MIN || t->fft_size > KWS_FFT_MAX) return KWS_ERR_BAD_CONFIG;
    if (t->window_samples < 1 || t->window_samples > t->fft_size) return KWS_ERR_BAD_CONFIG;
    if (t->hop_samples < 1 || t->hop_samples > t->window_samples) return KWS_ERR_BAD_CONFIG;
    if (t->window_len != t->window_samples) return KWS_ERR_BAD_TABLE;
    m = t->fft_size / 2;
    rc = kws_window_init(&st->window, t->window, t->window_len);
    if (rc == KWS_OK)
        rc = kws_fft_init(&st->fft, m, t->perm, t->perm_len, t->twiddle, t->twiddle_len,
                          (uint32_t *)(void *)st->b.z, KWS_FFT_MAX); /* z as scratch */
    if (rc == KWS_OK)
        rc = kws_mel_init(&st->mel, t->num_mel, m + 1, t->mel_start, t->mel_len,
                          t->mel_bands_len, t->mel_weights, t->mel_weights_len);
    lo = st->mel.bin_lo;
    hi = st->mel.bin_hi;
    if (rc == KWS_OK) rc = kws_split_init(&st->split, m, t->split, t->split_len, lo, hi);
    if (rc == KWS_OK)
        rc = kws_log2_init(&st->log2, t->eps, t->eps_len, t->log2, t->log2_len, t->exp_base);
    if (rc == KWS_OK)
        rc = kws_project_init(&st->project, t->proj, t->proj_len, t->num_outputs, t->num_mel,
                              t->proj_q, t->output_zero_point);
    if (rc != KWS_OK) {
        memset(st, 0, sizeof *st);
        return (kws_status)rc;
    }
    st->tables = *t;
    return KWS_OK;
}

void kws_frontend_reset(kws_frontend_state *st)
{
    if (st != NULL) st->fill = 0;
}

int32_t kws_frontend_frames_for(const kws_frontend_state *st, int32_t num_samples)
{
    if (st == NULL || st->tables.hop_samples < 1 || num_samples < st->tables.window_samples)
        return 0;
    return 1 + (num_samples - st->tables.window_samples) / st->tables.hop_samples;
}

int32_t kws_frontend_num_outputs(const kws_frontend_state *st)
{
    return st == NULL ? 0 : st->tables.num_outputs;
}

kws_status kws_frontend_compute_frame(kws_frontend_state *st, const int16_t *samples,
                                      int32_t num_samples, int8_t *out, int32_t out_len)
{
    const kws_frontend_tables *t;
    uint32_t peak;
    int32_t shift, rc;
    if (st == NULL || samples == NULL || out == NULL) return KWS_ERR_NULL;
    t = &st->tables;
    if (t->fft_size == 0) return KWS_ERR_BAD_CONFIG; /* not initialized */
    if (num_samples < t->window_samples || out_len < t->num_outputs) return KWS_ERR_SHORT_BUFFER;
    rc = kws_window_process(&st->window, samples, num_samples, &peak);
    if (rc == KWS_OK) rc = kws_normalize_process(peak, &shift);
    if (rc == KWS_OK)
        rc = kws_fft_process(&st->fft, samples, num_samples, t->window, t->window_samples, shift,
                             st->b.z, KWS_FFT_MAX + 2);
    if (rc == KWS_OK) rc = kws_split_process(&st->split, st->b.z, KWS_FFT_MAX + 2);
    if (rc == KWS_OK) /* in place: mag[k] (word k) after X[k] (words 2k, 2k+1) is read */
        rc = kws_magnitude_process(st->b.z, KWS_FFT_MAX + 2, st->split.bin_lo, st->split.bin_hi,
                                   (uint32_t *)(void *)st->b.z, KWS_FFT_MAX / 2 + 1);
    if (rc == KWS_OK)
        rc = kws_mel_process(&st->mel, (const uint32_t *)(const void *)st->b.z,
                             KWS_FFT_MAX / 2 + 1, st->b.w.mel_energy, KWS_MEL_MAX);
    if (rc == KWS_OK)
        rc = kws_log2_process(&st->log2, st->b.w.mel_energy, t->num_mel, shift, st->b.w.log_mel,
                              KWS_MEL_MAX);
    if (rc == KWS_OK)
        rc = kws_project_process(&st->project, st->b.w.log_mel, t->num_mel, out, out_len);
    return (kws_status)rc;
}

kws_status kws_frontend_process(kws_frontend_state *st, const int16_t *samples,
                                int32_t num_samples, int32_t *num_used, int8_t *frame,
                                int32_t frame_len, int32_t *frame_ready)
{
    int32_t win, take, keep;
    kws_status rc;
    if (st == NULL || num_used == NULL || frame == NULL || frame_ready == NULL) return KWS_ERR_NULL;
    if (samples == NULL && num_samples > 0) return KWS_ERR_NULL;
    *num_used = 0;
    *frame_ready = 0;
    if (st->tables.fft_size == 0) return KWS_ERR_BAD_CONFIG;
    if (num_samples < 0) return KWS_ERR_BAD_CONFIG;
    if (frame_len < st->tables.num_outputs) return KWS_ERR_SHORT_BUFFER;
    win = st->tables.window_samples;
    take = win - st->fill;
    take = take < num_samples ? take : num_samples;
    if (take > 0) memcpy(st->ring + st->fill, samples, (size_t)take * sizeof(int16_t));
    st->fill += take;
    *num_used = take;
    if (st->fill < win) return KWS_OK;
    rc = kws_frontend_compute_frame(st, st->ring, win, frame, frame_len);
    if (rc != KWS_OK) return rc;
    keep = win - st->tables.hop_samples; /* slide by one hop */
    memmove(st->ring, st->ring + st->tables.hop_samples, (size_t)keep * sizeof(int16_t));
    st->fill = keep;
    *frame_ready = 1;
    return KWS_OK;
}

kws_status kws_frontend_process_frames(kws_frontend_state *st, const int16_t *samples,
                                       int32_t num_samples, int32_t *num_used, int8_t *frames,
                                       int32_t frames_len, int32_t *num_frames)
{
    int32_t used = 0, count = 0, outs;
    if (st == NULL || num_used == NULL || frames == NULL || num_frames == NULL) return KWS_ERR_NULL;
    if (samples == NULL && num_samples > 0) return KWS_ERR_NULL;
    *num_used = 0;
    *num_frames = 0;
    if (st->tables.fft_size == 0 || num_samples < 0) return KWS_ERR_BAD_CONFIG;
    outs = st->tables.num_outputs;
    while (used < num_samples && frames_len - count * outs >= outs) {
        int32_t step, ready;
        kws_status rc = kws_frontend_process(st, samples + used, num_samples - used, &step,
                                             frames + (size_t)count * (size_t)outs,
                                             frames_len - count * outs, &ready);
        if (rc != KWS_OK) return rc;
        used += step;
        count += ready;
        *num_used = used;
        *num_frames = count;
    }
    return KWS_OK;
}

kws_status kws_frontend_batch(kws_frontend_state *st, const int16_t *clips, int32_t num_clips,
                              int32_t clip_len, int8_t *out, int64_t out_len)
{
    int32_t frames, outs, c, f;
    if (st == NULL || clips == NULL || out == NULL) return KWS_ERR_NULL;
    if (st->tables.fft_size == 0 || num_clips < 0 || clip_len < 0) return KWS_ERR_BAD_CONFIG;
    frames = kws_frontend_frames_for(st, clip_len);
    outs = st->tables.num_outputs;
    if (out_len < (int64_t)num_clips * frames * outs) return KWS_ERR_SHORT_BUFFER;
#if defined(KWS_HOST_FAST)
    { /* host build: KWS_HOST_LANES frames at a time through the SIMD kernel (host_batch.c) */
        const int16_t *srcs[KWS_HOST_LANES];
        int8_t *dsts[KWS_HOST_LANES];
        int64_t total = (int64_t)num_clips * frames, g;
        int32_t n = 0, hop = st->tables.hop_samples;
        for (g = 0; g < total; g++) {
            int32_t cc = (int32_t)(g / frames), ff = (int32_t)(g % frames);
            srcs[n] = clips + (size_t)cc * (size_t)clip_len + (size_t)ff * (size_t)hop;
            dsts[n] = out + (size_t)g * (size_t)outs;
            if (++n == KWS_HOST_LANES || g + 1 == total) {
                /* every frame has at least window samples: the shortest is the last of a clip */
                kws_status rc = (kws_status)kws_host_frames(
                    st, srcs, n, st->tables.window_samples, dsts, outs);
                if (rc != KWS_OK) return rc;
                n = 0;
            }
        }
        return KWS_OK;
    }
#endif
    for (c = 0; c < num_clips; c++) {
        const int16_t *clip = clips + (size_t)c * (size_t)clip_len;
        for (f = 0; f < frames; f++) {
            int8_t *dst = out + ((size_t)c * (size_t)frames + (size_t)f) * (size_t)outs;
            kws_status rc = kws_frontend_compute_frame(
                st, clip + (size_t)f * (size_t)st->tables.hop_samples,
                clip_len - f * st->tables.hop_samples, dst, outs);
            if (rc != KWS_OK) return rc;
        }
    }
    return KWS_OK;
}
