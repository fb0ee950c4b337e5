/* app_backend.h - the front end and the model the app plugs into the kws_detector API.
 *
 * backend_frontend.c, backend_model.c: the dsp/ fixed-point front end and the exported model
 * (kws_model_invoke, or the streaming kws_model_step).
 * backend_doubles.c: integer test doubles with exact Python mirrors (kws/device/doubles.py),
 * used to test the firmware's plumbing (timer, DMA, ring, schedule, printing) under QEMU
 * independently of the front end and the runtime. */
#ifndef KWS_APP_BACKEND_H
#define KWS_APP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* Prepare the front end / the model; *ctx is passed back to kws_app_frame / kws_app_model.
 * Return 0, or a negative error code. (Two translation units in the real backend: the front
 * end's and the runtime's headers are never included together.) */
int kws_app_frontend_init(void **ctx);
int kws_app_model_init(void **ctx);

int kws_app_frame(void *ctx, const int16_t *window, size_t window_len, int8_t *frame,
                  size_t frame_len);
int kws_app_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                  size_t output_len);

/* The streaming model (built with KWS_APP_MODEL_STREAM=1): reset its state; feed one frame and
 * get the output for the window ending at it (see kws_detector.h). */
int kws_app_model_reset(void *ctx);
int kws_app_model_step(void *ctx, const int8_t *frame, size_t frame_len, int8_t *output,
                       size_t output_len);

/* Hashes of the front-end settings: the front end compiled in, and the model's. */
uint32_t kws_app_frontend_hash(void);
uint32_t kws_app_model_hash(void);

#endif /* KWS_APP_BACKEND_H */
