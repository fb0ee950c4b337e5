/* kws_detector.h - the one C API a product needs: samples in, keyword detections out.
 *
 * Pipeline (the same schedule as kws/simulate.py, the Python simulation):
 *   samples --> sample history (the newest `window` samples)
 *           --> every hop: ONE new feature frame from the front end; the feature window
 *               (num_frames x num_features int8, oldest first) slides by one frame
 *           --> every hop: the voice-activity gate (kws_gate.h) on the hop's new samples
 *           --> every N hops, once the window is full and while the gate is open: the int8
 *               model (a closed gate skips the inference: the detector is not stepped);
 *               a streaming model instead steps on every hop while the gate is open
 *           --> kws_detect (smoothing over K inferences, thresholds, refractory time)
 *
 * Frame f covers samples [f*hop, f*hop + window) of the stream. The model runs at frame f when
 * f >= num_frames - 1 and (f - (num_frames - 1)) % N == 0; that inference's time is
 * (f*hop + window) * 1000 / sample_rate ms (floor).
 *
 * The front end and the model are reached through two function pointers, so the same detector
 * drives the generated model on the device, a CMSIS-NN backend, or host test doubles.
 * firmware/app/app_backend.h (backend_frontend.c, backend_model.c) wires them to the dsp/ front
 * end and the exported kws_model_invoke().
 *
 * Memory: kws_detector_state is caller-owned (static or on the stack); no malloc, no globals.
 * Audio gaps (dropped blocks): kws_detector_skip() advances the clock and restarts the sample
 * history, so no frame ever mixes samples from both sides of a gap.
 */
#ifndef KWS_DETECTOR_H
#define KWS_DETECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "kws_detect.h"
#include "kws_gate.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_DETECTOR_MAX_WINDOW_SAMPLES
#define KWS_DETECTOR_MAX_WINDOW_SAMPLES 1024   /* int16 samples of history */
#endif
#ifndef KWS_DETECTOR_MAX_FEATURES
#define KWS_DETECTOR_MAX_FEATURES 640          /* num_frames * num_features, int8 */
#endif

enum {
    KWS_DETECTOR_OK = 0,
    KWS_DETECTOR_ERR_NULL = -1,          /* a NULL pointer */
    KWS_DETECTOR_ERR_CONFIG = -2,        /* sizes out of range or inconsistent */
    KWS_DETECTOR_ERR_SETTINGS_HASH = -3, /* model trained on other front-end settings */
    KWS_DETECTOR_ERR_FRONTEND = -4,      /* the front end returned an error */
    KWS_DETECTOR_ERR_MODEL = -5,         /* the model returned an error */
    KWS_DETECTOR_ERR_EVENTS = -6         /* more detections than the events buffer holds */
};

/* Compute one int8 feature frame (frame_len values) from window_len int16 samples. 0 = ok. */
typedef int (*kws_frame_fn)(void *ctx, const int16_t *window, size_t window_len,
                            int8_t *frame, size_t frame_len);
/* Run the int8 model on input_len features; write output_len int8 scores. 0 = ok. */
typedef int (*kws_model_fn)(void *ctx, const int8_t *input, size_t input_len,
                            int8_t *output, size_t output_len);
/* A streaming model (optional; kws export generates kws_model_step for streamable models):
 * reset its state, and feed it one frame, getting the output for the window ending at that
 * frame. 0 = ok. */
typedef int (*kws_model_reset_fn)(void *ctx);
typedef int (*kws_model_step_fn)(void *ctx, const int8_t *frame, size_t frame_len,
                                 int8_t *output, size_t output_len);
/* Optional observer: called after every inference that ran, with its int8 output and time. */
typedef void (*kws_inference_fn)(void *ctx, const int8_t *output, size_t output_len,
                                 uint32_t time_ms);

typedef struct {
    uint32_t sample_rate;               /* Hz */
    uint16_t window_samples;            /* front-end window */
    uint16_t hop_samples;               /* front-end hop, <= window */
    uint16_t num_frames;                /* frames in the model input */
    uint16_t num_features;              /* values per frame */
    uint16_t model_every_hops;          /* N >= 1 */
    uint32_t frontend_settings_hash;    /* hash of the front end compiled in */
    uint32_t model_settings_hash;       /* hash stamped into the model at export */
    kws_detect_config detect;           /* smoothing, thresholds, refractory */
    kws_frame_fn frame_fn;
    void *frame_ctx;
    kws_model_fn model_fn;
    void *model_ctx;
    kws_gate_config gate;               /* voice-activity gate; gate.enabled = 0: always open */
    /* Streaming model (both set) instead of model_fn: stepped on every hop while the gate is
     * open, so its state always holds the frames of the feature window; when the gate opens
     * again (or after init/reset) the model is reset and fed the window's frames (at most
     * num_frames steps), so every output equals the window model on the same window. The
     * detector still decides every model_every_hops hops. model_fn may then be NULL. */
    kws_model_reset_fn model_reset_fn;
    kws_model_step_fn model_step_fn;
    kws_inference_fn inference_fn;      /* optional (NULL): sees every inference's output */
    void *inference_ctx;
} kws_detector_config;

typedef struct {
    kws_detector_config cfg;
    kws_detect_state detect;
    kws_gate_state gate;
    int16_t samples[KWS_DETECTOR_MAX_WINDOW_SAMPLES]; /* newest samples, oldest first */
    uint32_t fill;                      /* valid samples in `samples` */
    int8_t features[KWS_DETECTOR_MAX_FEATURES];       /* feature window, oldest frame first */
    uint32_t frames_total;              /* frames computed since init/reset */
    uint32_t hops_until_model;          /* frames to go before the next inference */
    uint64_t clock;                     /* samples of stream time seen (incl. skipped) */
    uint32_t inferences;                /* model runs since init/reset */
    uint32_t skipped;                   /* inferences the closed gate skipped */
    uint32_t steps;                     /* streaming model steps since init/reset */
    uint8_t in_sync;                    /* streaming model: state holds the feature window */
    int8_t output[KWS_DETECT_MAX_CLASSES];            /* latest model output */
} kws_detector_state;

/* Check cfg (sizes, hash match) and reset. Returns KWS_DETECTOR_ERR_SETTINGS_HASH when the
 * model's front-end settings hash differs from the front end's. */
int kws_detector_init(kws_detector_state *s, const kws_detector_config *cfg);

/* Forget all audio, features and detector history; the clock restarts at 0. */
int kws_detector_reset(kws_detector_state *s);

/* Feed n samples. Detections go to events[0..max_events); *num_events says how many.
 * Returns KWS_DETECTOR_OK, or KWS_DETECTOR_ERR_EVENTS if a detection did not fit (it is
 * dropped; processing goes on), or another error. */
int kws_detector_process(kws_detector_state *s, const int16_t *samples, size_t n,
                         kws_detection *events, size_t max_events, size_t *num_events);

/* A gap of n samples in the input (dropped audio): the clock advances by n and the sample
 * history restarts; the feature window and the detector keep their history. */
int kws_detector_skip(kws_detector_state *s, uint32_t n);

#ifdef __cplusplus
}
#endif
#endif /* KWS_DETECTOR_H */
