/* kws_engine.c - see kws_engine.h: wires the front end and the model into kws_detector. */
#include "kws_engine.h"

#include <string.h>

#include "kws_frontend_config.h"   /* kws_frontend_default_tables, KWS_FRONTEND_SETTINGS_HASH */

static int engine_frame(void *ctx, const int16_t *window, size_t window_len, int8_t *frame,
                        size_t frame_len)
{
    return kws_frontend_compute_frame((kws_frontend_state *)ctx, window, (int32_t)window_len,
                                      frame, (int32_t)frame_len) == KWS_OK ? 0 : -1;
}

#if KWS_APP_MODEL_STREAM
static int engine_reset(void *ctx)
{
    kws_engine *e = (kws_engine *)ctx;
    return kws_model_stream_reset(e->state, sizeof(e->state)) == KWS_OK ? 0 : -1;
}

static int engine_step(void *ctx, const int8_t *frame, size_t frame_len, int8_t *output,
                       size_t output_len)
{
    kws_engine *e = (kws_engine *)ctx;
    return kws_model_step(e->state, sizeof(e->state), frame, frame_len, output, output_len,
                          e->arena, sizeof(e->arena), NULL) == KWS_OK ? 0 : -1;
}
#else
static int engine_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                        size_t output_len)
{
    kws_engine *e = (kws_engine *)ctx;
    return kws_model_invoke(input, input_len, output, output_len, e->arena, sizeof(e->arena)) ==
           KWS_OK ? 0 : -1;
}
#endif

int kws_engine_init(kws_engine *e)
{
    static const uint16_t thresholds[KWS_APP_NUM_CLASSES] = KWS_APP_THRESHOLDS;
    kws_detector_config cfg;
    if (e == NULL) {
        return KWS_DETECTOR_ERR_NULL;
    }
    memset(e, 0, sizeof(*e));
    if (kws_frontend_init(&e->frontend, &kws_frontend_default_tables) != KWS_OK) {
        return KWS_DETECTOR_ERR_FRONTEND;
    }
    memcpy(e->thresholds, thresholds, sizeof(thresholds));
    memset(&cfg, 0, sizeof(cfg));
    cfg.sample_rate = KWS_APP_SAMPLE_RATE;
    cfg.window_samples = KWS_APP_WINDOW_SAMPLES;
    cfg.hop_samples = KWS_APP_HOP_SAMPLES;
    cfg.num_frames = KWS_APP_NUM_FRAMES;
    cfg.num_features = KWS_APP_NUM_FEATURES;
    cfg.model_every_hops = KWS_APP_MODEL_EVERY_HOPS;
    cfg.frontend_settings_hash = KWS_FRONTEND_SETTINGS_HASH;
    cfg.model_settings_hash = KWS_MODEL_FRONTEND_SETTINGS_HASH;
    cfg.detect.num_classes = KWS_APP_NUM_CLASSES;
    cfg.detect.average_window = KWS_APP_AVERAGE_WINDOW;
    cfg.detect.refractory_ms = KWS_APP_REFRACTORY_MS;
    cfg.detect.output_zero_point = KWS_APP_OUTPUT_ZERO_POINT;
    cfg.detect.thresholds = e->thresholds;
    cfg.frame_fn = engine_frame;
    cfg.frame_ctx = &e->frontend;
    cfg.gate.enabled = KWS_APP_GATE_ENABLED;
    cfg.gate.margin = KWS_APP_GATE_MARGIN;
    cfg.gate.min_level = KWS_APP_GATE_MIN_LEVEL;
    cfg.gate.rise = KWS_APP_GATE_RISE;
    cfg.gate.hangover = KWS_APP_GATE_HANGOVER;
    cfg.model_ctx = e;
#if KWS_APP_MODEL_STREAM /* the detector resets the state before its first step */
    cfg.model_reset_fn = engine_reset;
    cfg.model_step_fn = engine_step;
#else
    cfg.model_fn = engine_model;
#endif
    return kws_detector_init(&e->detector, &cfg);
}

uint16_t kws_engine_num_labels(void)
{
    return (uint16_t)KWS_APP_NUM_CLASSES;
}

const char *kws_engine_label(uint16_t index)
{
    static const char *const labels[KWS_APP_NUM_CLASSES] = KWS_APP_LABELS;
    return index < KWS_APP_NUM_CLASSES ? labels[index] : NULL;
}
