/* kws_detect.c - see kws_detect.h and kws/detect.py (the definition). */
#include "kws_detect.h"

#include <string.h>

int kws_detect_init(kws_detect_state *s, const kws_detect_config *cfg)
{
    uint16_t c;
    if (s == NULL || cfg == NULL || cfg->thresholds == NULL) {
        return KWS_DETECT_ERR_NULL;
    }
    if (cfg->num_classes < 1u || cfg->num_classes > KWS_DETECT_MAX_CLASSES ||
        cfg->average_window < 1u || cfg->average_window > KWS_DETECT_MAX_WINDOW ||
        cfg->output_zero_point < -128 || cfg->output_zero_point > 127) {
        return KWS_DETECT_ERR_CONFIG;
    }
    for (c = 0; c < cfg->num_classes; c++) {
        if (cfg->thresholds[c] > KWS_DETECT_THRESHOLD_OFF) {
            return KWS_DETECT_ERR_CONFIG;
        }
    }
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    memcpy(s->thresholds, cfg->thresholds, cfg->num_classes * sizeof(uint16_t));
    s->cfg.thresholds = s->thresholds;
    return KWS_DETECT_OK;
}

int kws_detect_reset(kws_detect_state *s)
{
    if (s == NULL) {
        return KWS_DETECT_ERR_NULL;
    }
    memset(s->history, 0, sizeof(s->history));
    memset(s->sum, 0, sizeof(s->sum));
    s->pos = 0;
    s->suppress_until_ms = 0;
    return KWS_DETECT_OK;
}

int kws_detect_scores(const kws_detect_state *s, uint8_t *scores, size_t n)
{
    uint16_t c;
    if (s == NULL || scores == NULL) {
        return KWS_DETECT_ERR_NULL;
    }
    if (n < s->cfg.num_classes) {
        return KWS_DETECT_ERR_LENGTH;
    }
    for (c = 0; c < s->cfg.num_classes; c++) {
        scores[c] = (uint8_t)(s->sum[c] / s->cfg.average_window);   /* uint8: S / K <= 255 */
    }
    return KWS_DETECT_OK;
}

int kws_detect_process_s8(kws_detect_state *s, const int8_t *output, size_t n,
                          uint32_t time_ms, kws_detection *out)
{
    uint16_t c;
    uint8_t *slot;
    int best = -1;
    uint16_t best_score = 0;
    if (s == NULL || output == NULL || out == NULL) {
        return KWS_DETECT_ERR_NULL;
    }
    if (n != s->cfg.num_classes) {
        return KWS_DETECT_ERR_LENGTH;
    }
    slot = s->history[s->pos];
    for (c = 0; c < s->cfg.num_classes; c++) {
        int32_t u = (int32_t)output[c] - s->cfg.output_zero_point;   /* -255..255 */
        u = u < 0 ? 0 : (u > 255 ? 255 : u);                          /* uint8, Q0.8 */
        s->sum[c] = (uint16_t)(s->sum[c] - slot[c] + (uint16_t)u);    /* <= 255 * K */
        slot[c] = (uint8_t)u;
    }
    s->pos = (uint16_t)((s->pos + 1u) % s->cfg.average_window);
    if (time_ms < s->suppress_until_ms) {
        return 0;
    }
    for (c = 0; c < s->cfg.num_classes; c++) {
        uint16_t score = (uint16_t)(s->sum[c] / s->cfg.average_window);  /* uint8 */
        uint16_t th = s->thresholds[c];
        if (th < KWS_DETECT_THRESHOLD_OFF && score >= th && (best < 0 || score > best_score)) {
            best = (int)c;
            best_score = score;
        }
    }
    if (best < 0) {
        return 0;
    }
    out->time_ms = time_ms;
    out->label_index = (uint16_t)best;
    out->score = (uint8_t)best_score;
    s->suppress_until_ms = time_ms + s->cfg.refractory_ms;
    return 1;
}
