/* blob_fuzz_m4.c - blob_fuzz.c's protocol on the Cortex-M4 under QEMU (mps2-an386), with the
 * real loader (kws_model_load, mbedTLS) and no heap.
 *
 *   blob_fuzz_m4 CASES INPUTS [guard-test]
 * CASES and INPUTS as for blob_fuzz.c (semihosting files). Each case is copied so that it ends
 * where a 32-byte MPU region with no access begins (its start rounded down to 4 bytes): a read
 * past the blob faults (exit 97/98) instead of passing unnoticed. "guard-test" reads the guard
 * once, to show that it faults. Console: one line per case "i status", the final model's
 * outputs on every input ("out ..."), a JSON summary. Exit 0 when every expectation held. */
#include <stdint.h>
#include <string.h>

#include "kws_board.h"
#include "kws_model_blob.h"

#define CASES_MAX (1024u * 1024u)
#define INPUTS_MAX (16u * 1024u)
#define CASE_MAX (64u * 1024u)

static uint8_t g_cases[CASES_MAX] __attribute__((aligned(4)));
static int8_t g_inputs[INPUTS_MAX];
static uint32_t g_arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];
/* The case area and, right after it, the guard the MPU forbids. */
static struct {
    uint8_t data[CASE_MAX];
    uint8_t guard[32];
} g_case __attribute__((aligned(64 * 1024)));

#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)
#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)

/* Region 0: the 32-byte guard, no access, execute never; the default map elsewhere. */
static void guard_on(void)
{
    MPU_RNR = 0u;
    MPU_RBAR = (uint32_t)(uintptr_t)g_case.guard;
    MPU_RASR = (1u << 28) | (0u << 24) | (4u << 1) | 1u;  /* XN, AP none, 2^(4+1) B, on */
    MPU_CTRL = (1u << 2) | 1u;                            /* PRIVDEFENA, ENABLE */
    SCB_SHCSR |= 1u << 16;                                /* MemManage faults */
    __asm volatile("dsb\n\tisb" ::: "memory");
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_line_u(const char *a, uint32_t v, const char *b)
{
    kws_puts(a);
    kws_put_u32(v);
    kws_puts(b);
}

int kws_app_main(int argc, char **argv)
{
    int32_t cases_len, inputs_len;
    uint32_t count, i, at = 4, refused = 0, accepted = 0, wrong = 0, changed = 0;
    kws_model_t model, before;
    int8_t out[KWS_MODEL_OUTPUT_SIZE];
    if (argc < 3) {
        kws_puts("usage: blob_fuzz_m4 CASES INPUTS [guard-test]\n");
        return 2;
    }
    cases_len = kws_read_file(argv[1], g_cases, sizeof(g_cases));
    inputs_len = kws_read_file(argv[2], g_inputs, sizeof(g_inputs));
    if (cases_len < 4 || inputs_len < 0) {
        kws_puts("blob_fuzz_m4: cannot read the case or input file\n");
        return 2;
    }
    guard_on();
    if (argc > 3 && strcmp(argv[3], "guard-test") == 0) {
        volatile const uint8_t *p = g_case.guard;
        put_line_u("guard read: ", *p, "\n");   /* must not return */
        return 0;
    }
    kws_model_builtin(&model);
    count = rd32(g_cases);
    for (i = 0; i < count; i++) {
        uint8_t expect;
        uint32_t len, start;
        int st;
        if ((uint32_t)cases_len - at < 5u) {
            kws_puts("truncated case file\n");
            return 2;
        }
        expect = g_cases[at];
        len = rd32(g_cases + at + 1);
        at += 5;
        if ((uint32_t)cases_len - at < len || len > CASE_MAX) {
            kws_puts("truncated case file or case too long\n");
            return 2;
        }
        start = (CASE_MAX - len) & ~3u;
        memcpy(g_case.data + start, g_cases + at, len);
        at += len;
        before = model;
        /* an accepted blob must stay in place while used: cases after it may not overwrite
         * it (the test puts at most one valid blob, last) */
        st = kws_model_load(g_case.data + start, len, &model);
        put_line_u("", i, " ");
        kws_puts(kws_blob_status_name(st));
        kws_puts("\n");
        if (st == KWS_BLOB_OK) {
            accepted++;
            wrong += expect ? 0u : 1u;
        } else {
            refused++;
            wrong += expect == 1u ? 1u : 0u;   /* 2: either */
            changed += memcmp(&before, &model, sizeof(model)) != 0 ? 1u : 0u;
        }
    }
    for (at = 0; at + KWS_MODEL_INPUT_SIZE <= (uint32_t)inputs_len; at += KWS_MODEL_INPUT_SIZE) {
        size_t k;
        if (kws_model_run(&model, g_inputs + at, KWS_MODEL_INPUT_SIZE, out, sizeof(out),
                          g_arena, sizeof(g_arena)) != KWS_OK) {
            kws_puts("kws_model_run failed\n");
            return 2;
        }
        kws_puts("out");
        for (k = 0; k < sizeof(out); k++) {
            kws_puts(" ");
            kws_put_i32(out[k]);
        }
        kws_puts("\n");
    }
    put_line_u("{\"cases\":", count, ",");
    put_line_u("\"accepted\":", accepted, ",");
    put_line_u("\"refused\":", refused, ",");
    put_line_u("\"wrong\":", wrong, ",");
    put_line_u("\"changed\":", changed, ",");
    put_line_u("\"version\":", model.version, "}\n");
    return wrong == 0u && changed == 0u ? 0 : 1;
}
