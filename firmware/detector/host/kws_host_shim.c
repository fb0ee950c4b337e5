/* kws_host_shim.c - sizes of the caller-owned state structs, for the host ctypes binding
 * (kws/device/host.py allocates them from Python). Not part of the device build. */
#include <stddef.h>

#include "audio_ring.h"
#include "kws_detect.h"
#include "kws_detector.h"
#include "kws_gate.h"

size_t kws_host_sizeof_detect_state(void) { return sizeof(kws_detect_state); }
size_t kws_host_sizeof_detector_state(void) { return sizeof(kws_detector_state); }
size_t kws_host_sizeof_detector_config(void) { return sizeof(kws_detector_config); }
size_t kws_host_sizeof_audio_ring(void) { return sizeof(kws_audio_ring); }
size_t kws_host_sizeof_audio_dma(void) { return sizeof(kws_audio_dma); }
size_t kws_host_sizeof_gate_state(void) { return sizeof(kws_gate_state); }

void kws_host_detector_counters(const kws_detector_state *s, uint32_t *inferences,
                                uint32_t *skipped, uint32_t *steps)
{
    *inferences = s->inferences;
    *skipped = s->skipped;
    *steps = s->steps;
}
