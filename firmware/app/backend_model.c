/* backend_model.c - the real model for the app: the exported, interpreter-free int8 model
 * (kws export -> kws_model.h / kws_model.c) and its static arena. */
#include "app_backend.h"
#include "kws_app_config.h"
#include "kws_model.h"

_Static_assert(KWS_MODEL_FRONTEND_SETTINGS_HASH == KWS_APP_FRONTEND_SETTINGS_HASH,
               "the model was trained on other front-end settings than the front end built in");
_Static_assert(KWS_MODEL_INPUT_SIZE == KWS_APP_NUM_FRAMES * KWS_APP_NUM_FEATURES,
               "model input size differs from the feature window");
_Static_assert(KWS_MODEL_OUTPUT_SIZE == KWS_APP_NUM_CLASSES,
               "model output size differs from the label count");

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

uint32_t kws_app_model_hash(void) { return KWS_MODEL_FRONTEND_SETTINGS_HASH; }
