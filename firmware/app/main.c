/* main.c - streaming wake-word firmware: microphone -> DMA double buffer -> ring -> kws_detector
 * -> one JSON line per detection.
 *
 * Under QEMU the "microphone" is a raw file of 16 kHz mono int16 little-endian samples (the
 * host converts anything else with kws.audio.load_audio first), named by argv[1] (the
 * semihosting command line). Board support: firmware/boards/mps2_an386 (kws_board.h). A CMSDK timer interrupt every KWS_APP_BLOCK_US reads one block into the next
 * half of the DMA buffer and raises the half/full-complete callback, as DMA hardware would.
 * The main loop takes whole blocks from the ring and feeds them to kws_detector_process.
 *
 * stdout: one line per detection, {"time_ms":T,"label":"L","score":S}
 * stderr: a summary line, {"blocks":B,"overruns":O,"inferences":I,"stack_bytes":S,...}
 * Exit status: 0 ok, 2 bad settings (hash mismatch), 3 fault, 4 I/O error.
 */
#include <string.h>

#include "app_backend.h"
#include "audio_ring.h"
#include "kws_board.h"
#include "jsonl.h"
#include "kws_app_config.h"
#include "kws_detector.h"
#ifndef KWS_APP_BLOB_SLOT
#define KWS_APP_BLOB_SLOT 0   /* 1: backend_blob.c (KWS_APP_BACKEND=blob) */
#endif
#if KWS_APP_BLOB_SLOT
#include "app_blob.h"   /* weights and detector settings from a model blob in flash */
#endif

/* The build fails when the model's front-end settings hash differs from the front end's.
 * (KWS_APP_TEST_SKIP_STATIC_HASH_CHECK exists only so a test can show that init fails too.) */
#if !defined(KWS_APP_TEST_SKIP_STATIC_HASH_CHECK)
_Static_assert(KWS_APP_FRONTEND_SETTINGS_HASH == KWS_APP_MODEL_SETTINGS_HASH,
               "the model was trained on other front-end settings than the front end built in");
#endif

#ifndef KWS_APP_SLOW_TICKS_PER_BLOCK
#define KWS_APP_SLOW_TICKS_PER_BLOCK 0   /* test hook: a consumer that takes N ticks per block */
#endif

typedef struct {
    kws_audio_ring ring;
    kws_audio_dma dma;
    int16_t ring_storage[KWS_APP_RING_BLOCKS * KWS_APP_BLOCK_SAMPLES];
    int16_t dma_buffer[2 * KWS_APP_BLOCK_SAMPLES];
    int32_t file;                          /* semihosting handle of the audio */
    kws_timer_t timer;                     /* CMSDK timer 0: one block per interrupt */
    volatile uint32_t ticks;               /* timer interrupts so far */
    volatile uint32_t blocks_in;           /* whole blocks the "DMA" delivered */
    volatile int eof;
    volatile int io_error;
    volatile uint32_t tail_len;            /* samples of the final partial block */
    int16_t tail[KWS_APP_BLOCK_SAMPLES];
} kws_mic;

typedef struct {
    kws_mic mic;
    kws_detector_state detector;
    int16_t block[KWS_APP_BLOCK_SAMPLES];
    kws_detection events[4];
    char line[160];
    int32_t out;
    int32_t err;
} kws_app;

/* The TCG plugin counts instructions between the board's markers: one front-end frame between
 * kws_mark_start/kws_mark_end, one inference between kws_mark_start2/kws_mark_end2. */
static int frame_marked(void *ctx, const int16_t *w, size_t wl, int8_t *f, size_t fl)
{
    int r;
    kws_mark_start();
    r = kws_app_frame(ctx, w, wl, f, fl);
    kws_mark_end();
    return r;
}

static int model_marked(void *ctx, const int8_t *in, size_t il, int8_t *out, size_t ol)
{
    int r;
    kws_mark_start2();
    r = kws_app_model(ctx, in, il, out, ol);
    kws_mark_end2();
    return r;
}

/* Timer interrupt: the simulated DMA transfer of one block. */
static void mic_tick(void *ctx)
{
    kws_mic *m = (kws_mic *)ctx;
    int16_t *half;
    long got;
    m->ticks++;
    if (m->eof) {
        return;
    }
    half = kws_audio_dma_next_half(&m->dma);
    got = kws_sh_read(m->file, half, sizeof(int16_t) * KWS_APP_BLOCK_SAMPLES);
    if (got == (long)(sizeof(int16_t) * KWS_APP_BLOCK_SAMPLES)) {
        m->blocks_in++;
        if (m->dma.next_half == 0u) {
            (void)kws_audio_dma_half_complete(&m->dma);
        } else {
            (void)kws_audio_dma_full_complete(&m->dma);
        }
        return;
    }
    if (got < 0) {
        m->io_error = 1;
        got = 0;
    }
    memcpy(m->tail, half, (size_t)got);
    m->tail_len = (uint32_t)got / sizeof(int16_t);
    m->eof = 1;
    (void)kws_timer_stop(&m->timer);
}

static void say(int32_t handle, const char *s)
{
    (void)kws_sh_write(handle, s, strlen(s));
}

static void print_events(kws_app *app, size_t count)
{
#if KWS_APP_BLOB_SLOT
    const char *const *labels = kws_app_blob_labels(app->detector.cfg.model_ctx);
#else
    static const char *const labels[KWS_APP_NUM_CLASSES] = KWS_APP_LABELS;
#endif
    size_t i;
    for (i = 0; i < count; i++) {
        int len = kws_jsonl_detection(app->line, sizeof(app->line), app->events[i].time_ms,
                                      labels[app->events[i].label_index], app->events[i].score);
        if (len > 0) {
            (void)kws_sh_write(app->out, app->line, (size_t)len);
        }
    }
}

static int feed(kws_app *app, const int16_t *samples, size_t n)
{
    size_t count = 0;
    int r = kws_detector_process(&app->detector, samples, n, app->events,
                                 sizeof(app->events) / sizeof(app->events[0]), &count);
    print_events(app, count);
    return r;
}

int kws_app_main(int argc, char **argv)
{
    static kws_app app;
    static const uint16_t thresholds[KWS_APP_NUM_CLASSES] = KWS_APP_THRESHOLDS;
    static const char *const keys[6] = {"blocks", "overruns", "inferences", "tail_samples",
                                        "stack_bytes", "stack_size"};
    kws_detector_config cfg;
    uint32_t values[6];
    void *frame_ctx, *model_ctx;
    int len;

    app.out = kws_sh_open(":tt", 4u);       /* "w": the host's stdout */
    app.err = kws_sh_open(":tt", 8u);       /* "a": the host's stderr */

    if (kws_app_frontend_init(&frame_ctx) != 0 || kws_app_model_init(&model_ctx) != 0) {
        say(app.err, "kws: backend init failed\n");
        return 2;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.sample_rate = KWS_APP_SAMPLE_RATE;
    cfg.window_samples = KWS_APP_WINDOW_SAMPLES;
    cfg.hop_samples = KWS_APP_HOP_SAMPLES;
    cfg.num_frames = KWS_APP_NUM_FRAMES;
    cfg.num_features = KWS_APP_NUM_FEATURES;
    cfg.model_every_hops = KWS_APP_MODEL_EVERY_HOPS;
    cfg.frontend_settings_hash = kws_app_frontend_hash();
    cfg.model_settings_hash = kws_app_model_hash();
    cfg.detect.num_classes = KWS_APP_NUM_CLASSES;
    cfg.detect.average_window = KWS_APP_AVERAGE_WINDOW;
    cfg.detect.refractory_ms = KWS_APP_REFRACTORY_MS;
    cfg.detect.output_zero_point = KWS_APP_OUTPUT_ZERO_POINT;
    cfg.detect.thresholds = thresholds;
    cfg.frame_fn = frame_marked;
    cfg.frame_ctx = frame_ctx;
    cfg.model_fn = model_marked;
    cfg.model_ctx = model_ctx;
#if KWS_APP_BLOB_SLOT
    kws_app_blob_apply(model_ctx, &cfg, app.err);   /* a line per slot; the model's settings */
#endif
    if (kws_detector_init(&app.detector, &cfg) != KWS_DETECTOR_OK) {
        say(app.err, "kws: kws_detector_init failed (settings hash or config)\n");
        return 2;
    }

    app.mic.file = kws_sh_open(argc > 1 ? argv[1] : "audio.raw", KWS_SH_MODE_RB);
    if (app.mic.file < 0) {
        say(app.err, "kws: cannot open the audio file\n");
        return 4;
    }
    if (kws_audio_ring_init(&app.mic.ring, app.mic.ring_storage,
                            sizeof(app.mic.ring_storage) / sizeof(int16_t),
                            KWS_APP_BLOCK_SAMPLES, KWS_APP_RING_BLOCKS) != KWS_RING_OK ||
        kws_audio_dma_init(&app.mic.dma, app.mic.dma_buffer,
                           sizeof(app.mic.dma_buffer) / sizeof(int16_t),
                           &app.mic.ring) != KWS_RING_OK ||
        kws_timer_start(&app.mic.timer, 0u,
                        (uint32_t)((uint64_t)KWS_TIMER_CLOCK_HZ * KWS_APP_BLOCK_US / 1000000u),
                        mic_tick, &app.mic) != KWS_BOARD_OK) {
        say(app.err, "kws: audio init failed\n");
        return 2;
    }

    for (;;) {
        uint32_t gap = 0;
        if (kws_audio_ring_pop(&app.mic.ring, app.block, KWS_APP_BLOCK_SAMPLES, &gap) ==
            KWS_RING_OK) {
            if (gap != 0u) {
                (void)kws_detector_skip(&app.detector, gap * KWS_APP_BLOCK_SAMPLES);
            }
            (void)feed(&app, app.block, KWS_APP_BLOCK_SAMPLES);
#if KWS_APP_SLOW_TICKS_PER_BLOCK > 0
            {
                uint32_t t0 = app.mic.ticks;
                while (app.mic.ticks - t0 < KWS_APP_SLOW_TICKS_PER_BLOCK && !app.mic.eof) {
                    kws_wait_for_interrupt();
                }
            }
#endif
            continue;
        }
        if (app.mic.eof) {
            break;
        }
        kws_irq_disable();
        if (kws_audio_ring_count(&app.mic.ring) == 0u && !app.mic.eof) {
            kws_wait_for_interrupt();     /* wakes on the pending interrupt even when masked */
        }
        kws_irq_enable();
    }
    (void)feed(&app, app.mic.tail, app.mic.tail_len);
    (void)kws_sh_close(app.mic.file);

    values[0] = app.mic.blocks_in;
    values[1] = kws_audio_ring_overruns(&app.mic.ring);
    values[2] = app.detector.inferences;
    values[3] = app.mic.tail_len;
    values[4] = kws_stack_high_water();
    values[5] = kws_stack_size();
    len = kws_jsonl_counters(app.line, sizeof(app.line), keys, values, 6);
    if (len > 0) {
        (void)kws_sh_write(app.err, app.line, (size_t)len);
    }
    return app.mic.io_error ? 4 : 0;
}
