/* kws_gate.h - voice-activity gate: an integer energy gate that skips model work in silence.
 *
 * The C twin of kws/gate.py (whose module docstring is the definition). One step per
 * front-end hop, on the hop's new samples (the newest `hop` samples of the frame's window):
 *   v      = sum |x|                                   uint32, <= hop * 32768
 *   L      = log2_q3(v)                                Q3 log2 (1/8 octave = 0.75 dB)
 *   active = L >= min_level && 256 L >= floor + 256 margin      (floor before the update)
 *   floor  = min(floor + rise, 256 L)                  uint32, Q8 of the Q3 level
 *   hold   = active ? hangover : max(hold - 1, 0);  open = hold > 0
 * Reset: floor = 2^31 - 1 (the first hop sets it), hold = hangover (starts open).
 * Caller-owned state, no malloc, no globals.
 */
#ifndef KWS_GATE_H
#define KWS_GATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KWS_GATE_FLOOR_INIT 0x7FFFFFFFu

enum {
    KWS_GATE_OK = 0,
    KWS_GATE_ERR_NULL = -1,        /* a NULL pointer */
    KWS_GATE_ERR_CONFIG = -2,      /* a setting out of range */
    KWS_GATE_ERR_LENGTH = -3       /* more samples than a uint32 sum can hold */
};

typedef struct {
    uint8_t enabled;               /* 0: always open (a zeroed config is a disabled gate) */
    uint8_t margin;                /* Q3 octaves above the floor, 0..255 */
    uint8_t min_level;             /* Q3 log2 of sum |x|, 0..255 */
    uint16_t rise;                 /* floor rise per hop, Q11 octaves */
    uint16_t hangover;             /* hops open after the last active one, >= 1 */
} kws_gate_config;

typedef struct {
    kws_gate_config cfg;
    uint32_t floor;                /* Q8 of the Q3 level */
    uint16_t hold;                 /* hops left open */
} kws_gate_state;

/* Validate cfg, copy it into s and reset. */
int kws_gate_init(kws_gate_state *s, const kws_gate_config *cfg);

/* Floor unknown, gate open for `hangover` hops. */
int kws_gate_reset(kws_gate_state *s);

/* 8 * floor(log2 v) + the three bits below the leading one; 0 for v == 0. */
int32_t kws_gate_log2_q3(uint32_t v);

/* One hop: n new samples (n <= 65536). Returns 1 when the gate is open after this hop, 0 when
 * closed, a negative error code on bad input. A disabled gate returns 1 without reading x. */
int kws_gate_process_s16(kws_gate_state *s, const int16_t *x, size_t n);

/* The same step from a precomputed sum |x| (the host simulation and tests use it). */
int kws_gate_step(kws_gate_state *s, uint32_t magnitude);

#ifdef __cplusplus
}
#endif
#endif /* KWS_GATE_H */
