/* app_blob.h - the blob-slot build of the app (KWS_APP_BLOB_SLOT=1, backend_blob.c): at start the
 * model's weights and settings come from the newest valid blob in the flash slots A and B (see
 * firmware/blob/include/kws_blob.h), else from the model compiled in.
 *
 * Slots: 512 KiB each at __kws_blob_slot_a / __kws_blob_slot_b (the board's linker script). A slot
 * whose first word is 0xFFFFFFFF is erased (empty). Slot A is tried first, then slot B; each
 * valid blob not older than the running model replaces it (kws_model_load), so the newest valid
 * blob ends up active and every refusal leaves the running model untouched. */
#ifndef KWS_APP_BLOB_H
#define KWS_APP_BLOB_H

#include <stdint.h>

#include "kws_detector.h"

#define KWS_APP_BLOB_SLOTS 2u
#define KWS_APP_BLOB_EMPTY 1   /* a slot's outcome: erased (any other: a kws_blob_status) */

/* Print one line per non-empty slot on the semihosting handle `out`:
 *   "kws: blob slot A: loaded model version V"
 *   "kws: blob slot A: refused: NAME (what NAME means); running model version V"
 * and set the detector's settings (model_every_hops, averaging, refractory time, output zero
 * point, thresholds) to the active model's. model_ctx: from kws_app_model_init. */
void kws_app_blob_apply(void *model_ctx, kws_detector_config *cfg, int32_t out);

/* The active model's labels (KWS_APP_NUM_CLASSES strings). */
const char *const *kws_app_blob_labels(const void *model_ctx);

#endif /* KWS_APP_BLOB_H */
