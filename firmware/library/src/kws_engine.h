/* kws_engine.h - the whole keyword spotter in one caller-owned struct: the fixed-point front
 * end, the generated int8 model with its arena, and the streaming detector.
 *
 *   static kws_engine engine;                    // no heap: static or on a big enough stack
 *   kws_engine_init(&engine);                    // KWS_DETECTOR_OK or a KWS_DETECTOR_ERR_*
 *   kws_detector_process(&engine.detector, pcm, n, events, max_events, &count);
 *
 * Settings (window, hop, frames, labels, thresholds, smoothing, refractory time) come from the
 * generated kws_app_config.h; the model from kws_model.h / kws_model.c.
 */
#ifndef KWS_ENGINE_H
#define KWS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "kws_app_config.h"
#include "kws_detector.h"
#include "kws_frontend.h"
#include "kws_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    kws_frontend_state frontend;                          /* one feature frame per hop */
    uint32_t arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];  /* the model's activations */
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
