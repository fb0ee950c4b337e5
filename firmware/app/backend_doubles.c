/* backend_doubles.c - integer test doubles for the front end and the model (see app_backend.h).
 * Their exact Python mirrors are kws/device/doubles.py; they are NOT a feature extractor or a
 * classifier, only deterministic functions of their inputs that move with the audio. */
#include <string.h>

#include "app_backend.h"
#include "kws_app_config.h"
#include "kws_app_doubles.h"   /* KWS_DOUBLES_WEIGHTS[classes][frames * features], int8 */

int kws_app_frontend_init(void **ctx)
{
    *ctx = NULL;
    return 0;
}

/* The streaming double keeps the frames it was fed since its reset (zeros before) and runs
 * the window double on them: it equals the window double only if the detector feeds it right. */
typedef struct {
    int8_t frames[KWS_APP_NUM_FRAMES * KWS_APP_NUM_FEATURES];
} kws_doubles_stream;

static kws_doubles_stream g_stream;

int kws_app_model_init(void **ctx)
{
    *ctx = &g_stream;
    return 0;
}

int kws_app_model_reset(void *ctx)
{
    memset(((kws_doubles_stream *)ctx)->frames, 0, sizeof(g_stream.frames));
    return 0;
}

int kws_app_model_step(void *ctx, const int8_t *frame, size_t frame_len, int8_t *output,
                       size_t output_len)
{
    kws_doubles_stream *m = (kws_doubles_stream *)ctx;
    const size_t total = sizeof(m->frames);
    if (frame_len != KWS_APP_NUM_FEATURES) {
        return -1;
    }
    memmove(m->frames, m->frames + frame_len, total - frame_len);
    memcpy(m->frames + total - frame_len, frame, frame_len);
    return kws_app_model(ctx, m->frames, total, output, output_len);
}

/* frame[f] = clamp((sum_j x[j] * c(f, j)) >> 10, -128, 127), c(f, j) = (j*(2f+1) + f) % 9 - 4 */
int kws_app_frame(void *ctx, const int16_t *window, size_t window_len, int8_t *frame,
                  size_t frame_len)
{
    size_t f, j;
    (void)ctx;
    for (f = 0; f < frame_len; f++) {
        int32_t acc = 0;                                   /* |acc| <= 32768 * 4 * L */
        uint32_t c = (uint32_t)f % 9u;                     /* (j*(2f+1) + f) mod 9 */
        for (j = 0; j < window_len; j++) {
            acc += (int32_t)window[j] * ((int32_t)c - 4);
            c += 2u * (uint32_t)f + 1u;
            c %= 9u;
        }
        acc >>= 10;
        frame[f] = (int8_t)(acc < -128 ? -128 : (acc > 127 ? 127 : acc));
    }
    return 0;
}

/* out[k] = clamp((sum_i W[k][i] * x[i]) >> 4, -128, 127) */
int kws_app_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                  size_t output_len)
{
    size_t k, i;
    (void)ctx;
    if (input_len != KWS_APP_NUM_FRAMES * KWS_APP_NUM_FEATURES ||
        output_len != KWS_APP_NUM_CLASSES) {
        return -1;
    }
    for (k = 0; k < output_len; k++) {
        int32_t acc = 0;
        for (i = 0; i < input_len; i++) {
            acc += (int32_t)KWS_DOUBLES_WEIGHTS[k][i] * input[i];
        }
        acc >>= 4;
        output[k] = (int8_t)(acc < -128 ? -128 : (acc > 127 ? 127 : acc));
    }
    return 0;
}

uint32_t kws_app_frontend_hash(void) { return KWS_APP_FRONTEND_SETTINGS_HASH; }
uint32_t kws_app_model_hash(void) { return KWS_APP_MODEL_SETTINGS_HASH; }
