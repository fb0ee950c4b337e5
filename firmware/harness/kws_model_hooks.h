/* kws_model_hooks.h - per-layer hooks of the generated model for the QEMU runner: each layer
 * runs between kws_mark_start() and kws_mark_end(), so the counting plugin reports one
 * interval per layer (pair 0); the runner brackets the whole inference with pair 1. */
#ifndef KWS_MODEL_HOOKS_H
#define KWS_MODEL_HOOKS_H

#include "kws_board.h"

#define KWS_LAYER_BEGIN(i) kws_mark_start()
#define KWS_LAYER_END(i) kws_mark_end()

#endif /* KWS_MODEL_HOOKS_H */
