/* backend_model.c - the real model for the app: the exported, interpreter-free int8 model
 * (kws export -> kws_model.h / kws_model.c) and its static memory. With KWS_APP_MODEL_STREAM=1
 * the app runs the generated streaming step function (kws_model_step: persistent state and a
 * per-step arena), and the window model's arena is not allocated. */
#include "app_backend.h"
#include "kws_app_config.h"
#include "kws_model.h"
#if defined(KWS_MODEL_OUTPUT_UNSIGNED) && (KWS_MODEL_OUTPUT_UNSIGNED || KWS_MODEL_INPUT_UNSIGNED)
#error "the detector takes int8 features and int8 class scores; this model has uint8 I/O"
#endif

_Static_assert(KWS_MODEL_FRONTEND_SETTINGS_HASH == KWS_APP_FRONTEND_SETTINGS_HASH,
               "the model was trained on other front-end settings than the front end built in");
_Static_assert(KWS_MODEL_INPUT_SIZE == KWS_APP_NUM_FRAMES * KWS_APP_NUM_FEATURES,
               "model input size differs from the feature window");
_Static_assert(KWS_MODEL_OUTPUT_SIZE == KWS_APP_NUM_CLASSES,
               "model output size differs from the label count");

#if KWS_APP_MODEL_STREAM
#if !defined(KWS_MODEL_STREAM)
#error "KWS_APP_MODEL_STREAM=1 but the exported model has no streaming step function"
#endif
_Static_assert(KWS_MODEL_STREAM_FRAME_SIZE == KWS_APP_NUM_FEATURES &&
               KWS_MODEL_STREAM_WINDOW == KWS_APP_NUM_FRAMES,
               "the step function's frame or window differs from the front end's");

typedef struct {
    uint32_t state[(KWS_MODEL_STREAM_STATE_BYTES + 3) / 4];   /* persistent between steps */
    uint32_t arena[(KWS_MODEL_STREAM_ARENA_BYTES + 3) / 4 + 1]; /* free between steps */
} kws_app_stream_model;

static kws_app_stream_model g_model;

int kws_app_model_init(void **ctx)
{
    *ctx = &g_model;
    return kws_model_stream_reset(g_model.state, sizeof(g_model.state)) == KWS_OK ? 0 : -1;
}

int kws_app_model_reset(void *ctx)
{
    kws_app_stream_model *m = (kws_app_stream_model *)ctx;
    return kws_model_stream_reset(m->state, sizeof(m->state)) == KWS_OK ? 0 : -1;
}

int kws_app_model_step(void *ctx, const int8_t *frame, size_t frame_len, int8_t *output,
                       size_t output_len)
{
    kws_app_stream_model *m = (kws_app_stream_model *)ctx;
    return kws_model_step(m->state, sizeof(m->state), frame, frame_len, output, output_len,
                          m->arena, sizeof(m->arena), NULL) == KWS_OK ? 0 : -1;
}

int kws_app_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                  size_t output_len)
{
    (void)ctx, (void)input, (void)input_len, (void)output, (void)output_len;
    return -1;                          /* the streaming build never runs the window model */
}
#else
/* The model's activations; offsets come from the exporter's offline planner. */
static uint32_t g_arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];

int kws_app_model_init(void **ctx)
{
    *ctx = g_arena;
    return 0;
}

int kws_app_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                  size_t output_len)
{
    return kws_model_invoke(input, input_len, output, output_len, ctx, sizeof(g_arena)) ==
           KWS_OK ? 0 : -1;
}

int kws_app_model_reset(void *ctx)
{
    (void)ctx;
    return -1;
}

int kws_app_model_step(void *ctx, const int8_t *frame, size_t frame_len, int8_t *output,
                       size_t output_len)
{
    (void)ctx, (void)frame, (void)frame_len, (void)output, (void)output_len;
    return -1;
}
#endif

uint32_t kws_app_model_hash(void) { return KWS_MODEL_FRONTEND_SETTINGS_HASH; }
