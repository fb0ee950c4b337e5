/* kws_detect.h - streaming keyword decision: posterior smoothing, thresholds, refractory time.
 *
 * The C twin of kws/detect.py (whose module docstring is the definition). Integer only:
 *   u[c]     = clamp(q[c] - zp, 0, 255)         uint8 posterior, Q0.8
 *   S[c]     = sum of the last K posteriors     uint16 (<= 255 * 16)
 *   score[c] = S[c] / K  (floor)                uint8
 *   fire     if t >= suppress_until and score[c] >= threshold[c] (256 = class disabled);
 *            highest score wins, ties go to the lowest index; suppress_until = t + refractory.
 * Caller-owned state, no malloc, no globals.
 */
#ifndef KWS_DETECT_H
#define KWS_DETECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_DETECT_MAX_CLASSES
#define KWS_DETECT_MAX_CLASSES 32
#endif
#ifndef KWS_DETECT_MAX_WINDOW
#define KWS_DETECT_MAX_WINDOW 16
#endif
#define KWS_DETECT_THRESHOLD_OFF 256u

enum {
    KWS_DETECT_OK = 0,
    KWS_DETECT_ERR_NULL = -1,      /* a NULL pointer */
    KWS_DETECT_ERR_CONFIG = -2,    /* class count, window or threshold out of range */
    KWS_DETECT_ERR_LENGTH = -3     /* output vector length differs from the class count */
};

typedef struct {
    uint16_t num_classes;          /* 1..KWS_DETECT_MAX_CLASSES */
    uint16_t average_window;       /* K, 1..KWS_DETECT_MAX_WINDOW */
    uint32_t refractory_ms;        /* no detection until t >= t_last + refractory_ms */
    int32_t output_zero_point;     /* the model's int8 output zero point (-128 for softmax) */
    const uint16_t *thresholds;    /* num_classes values, 0..256; 256 disables a class */
} kws_detect_config;

typedef struct {
    uint32_t time_ms;              /* time of the newest sample the inference saw */
    uint16_t label_index;          /* index into the model's labels */
    uint8_t score;                 /* smoothed uint8 score, S / K */
} kws_detection;

typedef struct {
    kws_detect_config cfg;
    uint16_t thresholds[KWS_DETECT_MAX_CLASSES];                  /* copy of cfg.thresholds */
    uint8_t history[KWS_DETECT_MAX_WINDOW][KWS_DETECT_MAX_CLASSES]; /* ring of u, Q0.8 */
    uint16_t sum[KWS_DETECT_MAX_CLASSES];                         /* S[c], <= 255 * K */
    uint16_t pos;                                                 /* next ring slot */
    uint32_t suppress_until_ms;
} kws_detect_state;

/* Validate cfg, copy it into s and reset. */
int kws_detect_init(kws_detect_state *s, const kws_detect_config *cfg);

/* Zero the history and end any refractory time. */
int kws_detect_reset(kws_detect_state *s);

/* Push one int8 model output (n == num_classes) seen at time_ms.
 * Returns 1 and fills *out on a detection, 0 when none, a negative error code on bad input. */
int kws_detect_process_s8(kws_detect_state *s, const int8_t *output, size_t n,
                          uint32_t time_ms, kws_detection *out);

/* Current smoothed scores (S / K) into scores[0..n), n >= num_classes. */
int kws_detect_scores(const kws_detect_state *s, uint8_t *scores, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KWS_DETECT_H */
