/* Instruction counting on the Cortex-M4 under QEMU: init the front end with the committed
 * default tables, then compute NFRAMES frames of deterministic noise (-12 dBFS). Built with
 * NFRAMES = 1 and 11 (m4_count1, m4_count11: firmware/harness/CMakeLists.txt); kws/bench/frontend.py profiles both; the difference of the two executed-instruction
 * counts / 10 is the cost of one hop (kws_frontend_compute_frame). */
#include "kws_frontend_config.h"

#ifndef NFRAMES
#define NFRAMES 1
#endif

static kws_frontend_state state;
static int16_t frame[KWS_FRONTEND_WINDOW_SAMPLES];

int main(void)
{
    uint32_t seed = 1u;
    int8_t out[KWS_FRONTEND_NUM_OUTPUTS];
    int32_t i;
    if (kws_frontend_init(&state, &kws_frontend_default_tables) != KWS_OK) return 1;
    for (i = 0; i < KWS_FRONTEND_WINDOW_SAMPLES; i++) {
        seed = seed * 1664525u + 1013904223u;
        frame[i] = (int16_t)((int16_t)(seed >> 16) >> 2);
    }
    for (i = 0; i < NFRAMES; i++) {
        frame[i] ^= 1; /* a different frame each time */
        if (kws_frontend_compute_frame(&state, frame, KWS_FRONTEND_WINDOW_SAMPLES, out,
                                       KWS_FRONTEND_NUM_OUTPUTS) != KWS_OK)
            return 1;
    }
    return 0;
}
