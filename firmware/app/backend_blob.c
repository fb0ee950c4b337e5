/* backend_blob.c - the model for the blob-slot app (see app_blob.h): the generated layer graph
 * (kws_model_blob.c from `kws firmware build --blob-slot`) with its weights and detector
 * settings taken from a validated blob in flash, or the ones compiled in. */
#include <string.h>

#include "app_backend.h"
#include "app_blob.h"
#include "kws_app_config.h"
#include "kws_board.h"
#include "kws_model_blob.h"

_Static_assert(KWS_MODEL_FRONTEND_SETTINGS_HASH == KWS_APP_FRONTEND_SETTINGS_HASH,
               "the model was trained on other front-end settings than the front end built in");
_Static_assert(KWS_MODEL_INPUT_SIZE == KWS_APP_NUM_FRAMES * KWS_APP_NUM_FEATURES,
               "model input size differs from the feature window");
_Static_assert(KWS_MODEL_NUM_LABELS == KWS_APP_NUM_CLASSES,
               "model output size differs from the label count");

/* The slots (linker script); only their addresses are used. */
extern const uint8_t __kws_blob_slot_a[];
extern const uint8_t __kws_blob_slot_b[];
extern const uint8_t __kws_blob_slot_bytes[];

typedef struct {
    kws_model_t model;                      /* the active model: built-in or a blob's */
    int outcome[KWS_APP_BLOB_SLOTS];        /* KWS_APP_BLOB_EMPTY or a kws_blob_status */
    uint32_t version[KWS_APP_BLOB_SLOTS];   /* the running model's version after each slot */
    union {                                 /* the arena is free while the slots load */
        uint32_t arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];
        uint64_t load[(KWS_MODEL_LOAD_WORK_BYTES + 7) / 8];
    } mem;
} kws_app_blob_model;

static kws_app_blob_model g_model;

/* The TCG plugin counts one kws_model_load (validation, signature check) between these. */
__attribute__((noinline, noipa, used)) void kws_app_mark_blob_start(void)
{
    __asm volatile("@ kws_app_mark_blob_start");
}
__attribute__((noinline, noipa, used)) void kws_app_mark_blob_end(void)
{
    __asm volatile("@ kws_app_mark_blob_end");
}

static uint32_t first_word(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int kws_app_model_init(void **ctx)
{
    const uint8_t *const slots[KWS_APP_BLOB_SLOTS] = {__kws_blob_slot_a, __kws_blob_slot_b};
    const size_t slot_bytes = (size_t)(uintptr_t)__kws_blob_slot_bytes;
    size_t i;
    kws_model_builtin(&g_model.model);
    for (i = 0; i < KWS_APP_BLOB_SLOTS; i++) {
        if (first_word(slots[i]) == 0xFFFFFFFFu) {
            g_model.outcome[i] = KWS_APP_BLOB_EMPTY;
        } else {
            kws_app_mark_blob_start();
            g_model.outcome[i] = (int)kws_model_load_work(slots[i], slot_bytes, &g_model.model,
                                                          g_model.mem.load,
                                                          sizeof(g_model.mem.load));
            kws_app_mark_blob_end();
        }
        g_model.version[i] = g_model.model.version;
    }
    *ctx = &g_model;
    return 0;
}

int kws_app_model(void *ctx, const int8_t *input, size_t input_len, int8_t *output,
                  size_t output_len)
{
    kws_app_blob_model *m = (kws_app_blob_model *)ctx;
    return kws_model_run(&m->model, input, input_len, output, output_len, m->mem.arena,
                         sizeof(m->mem.arena)) == KWS_OK ? 0 : -1;
}

uint32_t kws_app_model_hash(void) { return KWS_MODEL_FRONTEND_SETTINGS_HASH; }

/* Append s to line[*at..len) (always NUL-terminated). */
static void put(char *line, size_t len, size_t *at, const char *s)
{
    while (*s != '\0' && *at + 1u < len) {
        line[(*at)++] = *s++;
    }
    line[*at] = '\0';
}

static void put_u32(char *line, size_t len, size_t *at, uint32_t v)
{
    char digits[11];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0u) {
        char c[2] = {digits[--n], '\0'};
        put(line, len, at, c);
    }
}

void kws_app_blob_apply(void *model_ctx, kws_detector_config *cfg, int32_t out)
{
    const kws_app_blob_model *m = (const kws_app_blob_model *)model_ctx;
    char line[200];
    size_t i;
    for (i = 0; i < KWS_APP_BLOB_SLOTS; i++) {
        size_t at = 0;
        char slot[2] = {(char)('A' + i), '\0'};
        if (m->outcome[i] == KWS_APP_BLOB_EMPTY) {
            continue;
        }
        put(line, sizeof(line), &at, "kws: blob slot ");
        put(line, sizeof(line), &at, slot);
        if (m->outcome[i] == KWS_BLOB_OK) {
            put(line, sizeof(line), &at, ": loaded model version ");
            put_u32(line, sizeof(line), &at, m->version[i]);
        } else {
            put(line, sizeof(line), &at, ": refused: ");
            put(line, sizeof(line), &at, kws_blob_status_name(m->outcome[i]));
            put(line, sizeof(line), &at, " (");
            put(line, sizeof(line), &at, kws_blob_status_text(m->outcome[i]));
            put(line, sizeof(line), &at, "); running model version ");
            put_u32(line, sizeof(line), &at, m->version[i]);
        }
        put(line, sizeof(line), &at, "\n");
        (void)kws_sh_write(out, line, at);
    }
    cfg->model_every_hops = m->model.model_every_hops;
    cfg->detect.average_window = m->model.average_window;
    cfg->detect.refractory_ms = m->model.refractory_ms;
    cfg->detect.output_zero_point = m->model.output_zero_point;
    cfg->detect.thresholds = m->model.thresholds;
}

const char *const *kws_app_blob_labels(const void *model_ctx)
{
    return ((const kws_app_blob_model *)model_ctx)->model.labels;
}
