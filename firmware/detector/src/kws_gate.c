/* kws_gate.c - see kws_gate.h and kws/gate.py (the definition). */
#include "kws_gate.h"

#include <string.h>

int kws_gate_init(kws_gate_state *s, const kws_gate_config *cfg)
{
    if (s == NULL || cfg == NULL) {
        return KWS_GATE_ERR_NULL;
    }
    if (cfg->enabled > 1u || (cfg->enabled && cfg->hangover < 1u)) {
        return KWS_GATE_ERR_CONFIG;
    }
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    return kws_gate_reset(s);
}

int kws_gate_reset(kws_gate_state *s)
{
    if (s == NULL) {
        return KWS_GATE_ERR_NULL;
    }
    s->floor = KWS_GATE_FLOOR_INIT;
    s->hold = s->cfg.hangover;
    return KWS_GATE_OK;
}

static int32_t bit_length(uint32_t v)
{
#if defined(__GNUC__)
    return v ? 32 - (int32_t)__builtin_clz(v) : 0;   /* one CLZ on the M4 */
#else
    int32_t n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
#endif
}

int32_t kws_gate_log2_q3(uint32_t v)
{
    int32_t n;
    uint32_t frac;
    if (v == 0u) {
        return 0;
    }
    n = bit_length(v) - 1;                                   /* floor(log2 v), 0..31 */
    frac = n >= 3 ? (v >> (n - 3)) & 7u : (v << (3 - n)) & 7u;
    return 8 * n + (int32_t)frac;                            /* Q3 */
}

int kws_gate_step(kws_gate_state *s, uint32_t magnitude)
{
    const kws_gate_config *c;
    uint32_t level, up;
    int active;
    if (s == NULL) {
        return KWS_GATE_ERR_NULL;
    }
    c = &s->cfg;
    if (!c->enabled) {
        return 1;
    }
    level = (uint32_t)kws_gate_log2_q3(magnitude) << 8;              /* Q8 of Q3, <= 255 << 8 */
    active = level >= ((uint32_t)c->min_level << 8) &&
             level >= s->floor + ((uint32_t)c->margin << 8);         /* <= 2^31 + 2^16 */
    up = s->floor + c->rise;                                          /* no wrap: floor < 2^31 */
    s->floor = up < level ? up : level;
    if (active) {
        s->hold = c->hangover;
    } else if (s->hold > 0u) {
        s->hold--;
    }
    return s->hold > 0u;
}

int kws_gate_process_s16(kws_gate_state *s, const int16_t *x, size_t n)
{
    uint32_t sum = 0u;
    size_t i;
    if (s == NULL || (x == NULL && n > 0u)) {
        return KWS_GATE_ERR_NULL;
    }
    if (!s->cfg.enabled) {
        return 1;
    }
    if (n > 65536u) {
        return KWS_GATE_ERR_LENGTH;                  /* 65536 * 32768 = 2^31: fits */
    }
    for (i = 0; i < n; i++) {
        int32_t v = x[i];
        sum += (uint32_t)(v < 0 ? -v : v);           /* |x| <= 32768 */
    }
    return kws_gate_step(s, sum);
}
