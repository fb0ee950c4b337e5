/* blob_fuzz.c - drive kws_model_load with many blobs (host, under ASan/UBSan; or the M4 under
 * QEMU through semihosting stdio) and check that the running model never changes on a refusal.
 *
 *   blob_fuzz CASES INPUTS
 * CASES: u32 count, then per case u8 expect (1 = must load, 0 = must be refused, 2 = either:
 * when it loads, the model runs once on every input, so UBSan sees the kernels on whatever
 * weights the checks let through), u32 length, the bytes. Each case is copied into its own buffer of exactly its length (ASan sees any
 * read past it). INPUTS: raw int8 model inputs (KWS_MODEL_INPUT_SIZE each).
 * stdout: one line per case "i status", then the outputs of the final model on every input as
 * hex lines, then a JSON summary. Exit 0 when every expectation held, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kws_model_blob.h"

static uint32_t g_arena[(KWS_MODEL_ARENA_BYTES + 3) / 4 + 1];

static int read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        return -1;
    }
    *data = (uint8_t *)malloc((size_t)n + 1u);
    *len = (size_t)n;
    if (*data == NULL || fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
    uint8_t *cases, *inputs, *held = NULL;
    size_t cases_len, inputs_len, at = 4, i;
    uint32_t count, refused = 0, accepted = 0, wrong = 0, changed = 0;
    kws_model_t model, before;
    int8_t out[KWS_MODEL_OUTPUT_SIZE];
    if (argc < 3 || read_file(argv[1], &cases, &cases_len) != 0 || cases_len < 4u ||
        read_file(argv[2], &inputs, &inputs_len) != 0) {
        fprintf(stderr, "usage: blob_fuzz CASES INPUTS\n");
        return 2;
    }
    kws_model_builtin(&model);
    count = rd32(cases);
    for (i = 0; i < count; i++) {
        uint8_t expect, *copy;
        uint32_t len;
        size_t k;
        int st;
        if (cases_len - at < 5u) {
            fprintf(stderr, "truncated case file\n");
            return 2;
        }
        expect = cases[at];
        len = rd32(cases + at + 1);
        at += 5;
        if (cases_len - at < len) {
            fprintf(stderr, "truncated case file\n");
            return 2;
        }
        copy = (uint8_t *)malloc(len ? len : 1u);
        memcpy(copy, cases + at, len);
        at += len;
        before = model;
        st = kws_model_load(copy, len, &model);
        printf("%lu %s\n", (unsigned long)i, kws_blob_status_name(st));
        if (st == KWS_BLOB_OK) {
            accepted++;
            wrong += expect ? 0u : 1u;
            for (k = 0; expect == 2u && k + KWS_MODEL_INPUT_SIZE <= inputs_len;
                 k += KWS_MODEL_INPUT_SIZE) {
                if (kws_model_run(&model, (const int8_t *)inputs + k, KWS_MODEL_INPUT_SIZE, out,
                                  sizeof(out), g_arena, sizeof(g_arena)) != KWS_OK) {
                    fprintf(stderr, "kws_model_run failed on an accepted blob\n");
                    return 2;
                }
            }
            /* an accepted blob must stay in place while used: kept until the next one */
            free(held);
            held = copy;
        } else {
            refused++;
            wrong += expect == 1u ? 1u : 0u;
            changed += memcmp(&before, &model, sizeof(model)) != 0 ? 1u : 0u;
            free(copy);
        }
    }
    for (at = 0; at + KWS_MODEL_INPUT_SIZE <= inputs_len; at += KWS_MODEL_INPUT_SIZE) {
        size_t k;
        if (kws_model_run(&model, (const int8_t *)inputs + at, KWS_MODEL_INPUT_SIZE, out,
                          sizeof(out), g_arena, sizeof(g_arena)) != KWS_OK) {
            fprintf(stderr, "kws_model_run failed\n");
            return 2;
        }
        printf("out");
        for (k = 0; k < sizeof(out); k++) {
            printf(" %d", out[k]);
        }
        printf("\n");
    }
    printf("{\"cases\":%lu,\"accepted\":%lu,\"refused\":%lu,\"wrong\":%lu,\"changed\":%lu,"
           "\"version\":%lu}\n", (unsigned long)count, (unsigned long)accepted,
           (unsigned long)refused, (unsigned long)wrong, (unsigned long)changed,
           (unsigned long)model.version);
    free(held);
    free(cases);
    free(inputs);
    return wrong == 0u && changed == 0u ? 0 : 1;
}
