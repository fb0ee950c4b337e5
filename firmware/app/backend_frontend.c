/* backend_frontend.c - the real front end for the app: dsp/'s fixed-point MFCC, one frame per
 * hop from the newest window (kws_frontend_compute_frame), with the generated default tables. */
#include "app_backend.h"
#include "kws_app_config.h"
#include "kws_frontend_config.h"   /* KWS_FRONTEND_SETTINGS_HASH, kws_frontend_default_tables */

_Static_assert(KWS_FRONTEND_SETTINGS_HASH == KWS_APP_FRONTEND_SETTINGS_HASH,
               "dsp/generated is not the front end this app was configured for");
_Static_assert(KWS_FRONTEND_WINDOW_SAMPLES == KWS_APP_WINDOW_SAMPLES &&
               KWS_FRONTEND_HOP_SAMPLES == KWS_APP_HOP_SAMPLES &&
               KWS_FRONTEND_NUM_OUTPUTS == KWS_APP_NUM_FEATURES,
               "front-end sizes differ from the app's");

/* The front end's state: buffers sized by KWS_FFT_MAX / KWS_MEL_MAX (set for this build). */
static kws_frontend_state g_frontend;

int kws_app_frontend_init(void **ctx)
{
    if (kws_frontend_state_size() != sizeof(g_frontend) ||
        kws_frontend_init(&g_frontend, &kws_frontend_default_tables) != KWS_OK) {
        return -1;
    }
    *ctx = &g_frontend;
    return 0;
}

int kws_app_frame(void *ctx, const int16_t *window, size_t window_len, int8_t *frame,
                  size_t frame_len)
{
    return kws_frontend_compute_frame((kws_frontend_state *)ctx, window, (int32_t)window_len,
                                      frame, (int32_t)frame_len) == KWS_OK ? 0 : -1;
}

uint32_t kws_app_frontend_hash(void) { return KWS_FRONTEND_SETTINGS_HASH; }
