/* kws_engine.h - the whole keyword spotter in one caller-owned struct: the fixed-point front
 * end, the generated int8 model with its arena, and the streaming detector.
 *
 *   static kws_engine engine;                    // no heap: static or on a big enough stack
 *   kws_engine_init(&engine);                    // KWS_DETECTOR_OK or a KWS_DETECTOR_ERR_*
 *   kws_detector_process(&engine.detector, pcm, n, events, max_events, &count);
 *
 * Settings (window, hop, frames, labels, thresholds, smoothing, refractory time, the
 * voice-activity gate) come from the generated kws_app_config.h; the model from kws_model.h /
 * kws_model.c. A streamable model (KWS_APP_MODEL_STREAM = 1: kws export generated
 * kws_model_step) runs one step per hop while the gate is open, on a persistent state and a
 * small per-step arena, instead of the window model on its arena.
 */
#ifndef KWS_ENGINE_H
#define KWS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "kws_app_config.h"
#include "kws_detector.h"
#include "kws_frontend.h"
#include "kws_model.h"
#if defined(KWS_MODEL_OUTPUT_UNSIGNED) && (KWS_MODEL_OUTPUT_UNSIGNED || KWS_MODEL_INPUT_UNSIGNED)
#error "the detector takes int8 features and int8 class scores; this model has uint8 I/O"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if KWS_APP_MODEL_STREAM && !defined(KWS_MODEL_STREAM)
#error "KWS_APP_MODEL_STREAM=1 but the exported model has no streaming step function"
#endif

typedef struct {
    kws_frontend_state frontend;                          /* one feature frame per hop */
#if KWS_APP_MODEL_STREAM
    uint32_t state[(KWS_MODEL_STREAM_STATE_BYTES + 3) / 4];     /* persistent between steps */
    uint32_t arena[(KWS_MODEL_STREAM_ARENA_BYTES + 3) / 4 + 1]; /* free between steps */
#else
    uint32_t arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];  /* the model's activations */
#endif
    uint16_t thresholds[KWS_APP_NUM_CLASSES];             /* per label, 256 = never */
    kws_detector_state detector;                          /* pass &engine.detector to the API */
} kws_engine;

/* Initialize the front end, the model and the detector. Returns KWS_DETECTOR_OK, or
 * KWS_DETECTOR_ERR_FRONTEND when the front end's tables are rejected, or the error of
 * kws_detector_init (KWS_DETECTOR_ERR_SETTINGS_HASH: model and front end disagree). */
int kws_engine_init(kws_engine *e);

/* Number of labels and the label of a detection (kws_detection.label_index); NULL if out of
 * range. */
uint16_t kws_engine_num_labels(void);
const char *kws_engine_label(uint16_t index);

#ifdef __cplusplus
}
#endif

#endif /* KWS_ENGINE_H */
