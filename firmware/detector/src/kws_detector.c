/* kws_detector.c - see kws_detector.h; the schedule mirrors kws/simulate.py. */
#include "kws_detector.h"

#include <string.h>

int kws_detector_reset(kws_detector_state *s)
{
    if (s == NULL) {
        return KWS_DETECTOR_ERR_NULL;
    }
    s->fill = 0u;
    s->frames_total = 0u;
    /* the first inference comes when the window holds num_frames frames */
    s->hops_until_model = s->cfg.num_frames;
    s->clock = 0u;
    s->inferences = 0u;
    s->skipped = 0u;
    s->steps = 0u;
    s->in_sync = 0u;
    memset(s->features, 0, sizeof(s->features));
    memset(s->output, 0, sizeof(s->output));
    if (kws_gate_reset(&s->gate) != KWS_GATE_OK) {
        return KWS_DETECTOR_ERR_CONFIG;
    }
    return kws_detect_reset(&s->detect) == KWS_DETECT_OK ? KWS_DETECTOR_OK
                                                         : KWS_DETECTOR_ERR_CONFIG;
}

int kws_detector_init(kws_detector_state *s, const kws_detector_config *cfg)
{
    if (s == NULL || cfg == NULL || cfg->frame_fn == NULL ||
        (cfg->model_fn == NULL && cfg->model_step_fn == NULL) ||
        ((cfg->model_step_fn == NULL) != (cfg->model_reset_fn == NULL))) {
        return KWS_DETECTOR_ERR_NULL;
    }
    if (cfg->model_settings_hash != cfg->frontend_settings_hash) {
        return KWS_DETECTOR_ERR_SETTINGS_HASH;
    }
    if (cfg->sample_rate == 0u || cfg->window_samples == 0u || cfg->hop_samples == 0u ||
        cfg->hop_samples > cfg->window_samples ||
        cfg->window_samples > KWS_DETECTOR_MAX_WINDOW_SAMPLES ||
        cfg->num_frames == 0u || cfg->num_features == 0u ||
        (uint32_t)cfg->num_frames * cfg->num_features > KWS_DETECTOR_MAX_FEATURES ||
        cfg->model_every_hops == 0u) {
        return KWS_DETECTOR_ERR_CONFIG;
    }
    memset(s, 0, sizeof(*s));
    if (kws_detect_init(&s->detect, &cfg->detect) != KWS_DETECT_OK ||
        kws_gate_init(&s->gate, &cfg->gate) != KWS_GATE_OK) {
        return KWS_DETECTOR_ERR_CONFIG;
    }
    s->cfg = *cfg;
    s->cfg.detect.thresholds = s->detect.thresholds;
    return kws_detector_reset(s);
}

int kws_detector_skip(kws_detector_state *s, uint32_t n)
{
    if (s == NULL) {
        return KWS_DETECTOR_ERR_NULL;
    }
    s->clock += n;
    s->fill = 0u;
    return KWS_DETECTOR_OK;
}

/* Streaming model, gate open: step on the newest frame; out of sync (after init/reset or a
 * closed gate), reset it and feed every frame of the feature window, oldest first. */
static int stream_step(kws_detector_state *s, size_t total)
{
    const kws_detector_config *c = &s->cfg;
    const size_t frame = c->num_features;
    size_t first = total - frame;       /* in sync: the newest frame only */
    size_t at;
    if (!s->in_sync) {
        uint32_t have = s->frames_total < c->num_frames ? s->frames_total : c->num_frames;
        if (c->model_reset_fn(c->model_ctx) != 0) {
            return KWS_DETECTOR_ERR_MODEL;
        }
        first = total - (size_t)have * frame;
        s->in_sync = 1u;
    }
    for (at = first; at < total; at += frame) {
        if (c->model_step_fn(c->model_ctx, s->features + at, frame, s->output,
                             c->detect.num_classes) != 0) {
            return KWS_DETECTOR_ERR_MODEL;
        }
        s->steps++;
    }
    return KWS_DETECTOR_OK;
}

/* One full window is in s->samples: compute the newest frame, slide, maybe run the model. */
static int on_hop(kws_detector_state *s, kws_detection *events, size_t max_events,
                  size_t *num_events, int *lost)
{
    const kws_detector_config *c = &s->cfg;
    const size_t frame = c->num_features;
    const size_t total = (size_t)c->num_frames * frame;
    kws_detection hit;
    uint32_t t_ms;
    int r, open;

    /* slide the feature window by one frame; only the newest frame is computed */
    memmove(s->features, s->features + frame, total - frame);
    if (c->frame_fn(c->frame_ctx, s->samples, c->window_samples,
                    s->features + total - frame, frame) != 0) {
        return KWS_DETECTOR_ERR_FRONTEND;
    }
    s->frames_total++;
    /* the gate steps on every hop, on the samples that arrived since the previous frame */
    open = kws_gate_process_s16(&s->gate, s->samples + (c->window_samples - c->hop_samples),
                                c->hop_samples);
    if (open < 0) {
        return KWS_DETECTOR_ERR_CONFIG;
    }
    if (c->model_step_fn != NULL) {
        if (!open) {
            s->in_sync = 0u;            /* the state misses this frame: catch up on reopening */
        } else if ((r = stream_step(s, total)) != KWS_DETECTOR_OK) {
            return r;
        }
    }
    /* time of the newest sample seen: the end of this frame, in ms (floor) */
    t_ms = (uint32_t)((s->clock * 1000u) / c->sample_rate);
    if (--s->hops_until_model != 0u) {
        return KWS_DETECTOR_OK;
    }
    s->hops_until_model = c->model_every_hops;
    if (!open) {
        s->skipped++;                   /* no model, no detector step */
        return KWS_DETECTOR_OK;
    }
    if (c->model_step_fn == NULL &&
        c->model_fn(c->model_ctx, s->features, total, s->output, c->detect.num_classes) != 0) {
        return KWS_DETECTOR_ERR_MODEL;
    }
    s->inferences++;
    if (c->inference_fn != NULL) {
        c->inference_fn(c->inference_ctx, s->output, c->detect.num_classes, t_ms);
    }
    r = kws_detect_process_s8(&s->detect, s->output, c->detect.num_classes, t_ms, &hit);
    if (r < 0) {
        return KWS_DETECTOR_ERR_CONFIG;
    }
    if (r == 1) {
        if (*num_events < max_events) {
            events[(*num_events)++] = hit;
        } else {
            *lost = 1;
        }
    }
    return KWS_DETECTOR_OK;
}

int kws_detector_process(kws_detector_state *s, const int16_t *samples, size_t n,
                         kws_detection *events, size_t max_events, size_t *num_events)
{
    size_t used = 0u;
    int lost = 0;
    if (s == NULL || (samples == NULL && n > 0u) || num_events == NULL ||
        (events == NULL && max_events > 0u)) {
        return KWS_DETECTOR_ERR_NULL;
    }
    *num_events = 0u;
    while (used < n) {
        const uint32_t win = s->cfg.window_samples;
        size_t take = win - s->fill;
        int r;
        if (take > n - used) {
            take = n - used;
        }
        memcpy(&s->samples[s->fill], &samples[used], take * sizeof(int16_t));
        s->fill += (uint32_t)take;
        s->clock += take;
        used += take;
        if (s->fill < win) {
            break;
        }
        r = on_hop(s, events, max_events, num_events, &lost);
        if (r != KWS_DETECTOR_OK) {
            return r;
        }
        /* keep the newest window - hop samples: the start of the next frame */
        memmove(s->samples, &s->samples[s->cfg.hop_samples],
                (win - s->cfg.hop_samples) * sizeof(int16_t));
        s->fill = win - s->cfg.hop_samples;
    }
    return lost ? KWS_DETECTOR_ERR_EVENTS : KWS_DETECTOR_OK;
}
