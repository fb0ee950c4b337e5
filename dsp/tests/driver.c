/* Test / fuzz driver for the front end: reads tables + audio from a file written by
 * kws/frontend/cbackend.py (write_driver_input), runs the batch path and the streaming path
 * with pseudo-random chunk sizes and frame-buffer sizes, and writes
 *   int32 init_status, int32 frames, int32 outputs, int8 batch[frames*outputs],
 *   int8 stream[frames*outputs]
 * The driver (not the library) may use malloc. Exit status: 0 ok, 1 I/O error, 2 the two paths
 * disagree or a call failed after a successful init. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kws_frontend.h"

#define MAGIC 0x4B575346
#define NHEAD 21

static void *read_array(FILE *f, size_t count, size_t size)
{
    void *p = malloc(count * size + 8);
    if (p == NULL || fread(p, size, count, f) != count) {
        free(p);
        return NULL;
    }
    return p;
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

int main(int argc, char **argv)
{
    int32_t h[NHEAD];
    kws_frontend_tables t;
    kws_frontend_state *st;
    FILE *f, *o;
    int16_t *audio;
    int8_t *batch = NULL, *stream = NULL;
    int32_t rc, frames = 0, outs = 0, n, pos = 0, count = 0;
    uint32_t seed;
    void *arrays[10];
    int ok = 1;
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
        return 1;
    }
    f = fopen(argv[1], "rb");
    if (f == NULL || fread(h, sizeof(int32_t), NHEAD, f) != NHEAD || h[0] != MAGIC) return 1;
    memset(&t, 0, sizeof t);
    t.window_samples = h[2]; t.hop_samples = h[3]; t.fft_size = h[4]; t.num_mel = h[5];
    t.num_outputs = h[6]; t.proj_q = h[7]; t.exp_base = h[8]; t.output_zero_point = h[9];
    t.window_len = h[10]; t.perm_len = h[11]; t.twiddle_len = h[12]; t.split_len = h[13];
    t.mel_bands_len = h[14]; t.mel_weights_len = h[15]; t.eps_len = h[16]; t.log2_len = h[17];
    t.proj_len = h[18];
    n = h[19];
    seed = (uint32_t)h[20];
    arrays[0] = read_array(f, (size_t)t.window_len, 4);
    arrays[1] = read_array(f, (size_t)t.perm_len, 2);
    arrays[2] = read_array(f, (size_t)t.twiddle_len, 4);
    arrays[3] = read_array(f, (size_t)t.split_len, 4);
    arrays[4] = read_array(f, (size_t)t.mel_bands_len, 2);
    arrays[5] = read_array(f, (size_t)t.mel_bands_len, 2);
    arrays[6] = read_array(f, (size_t)t.mel_weights_len, 2);
    arrays[7] = read_array(f, (size_t)t.eps_len, 8);
    arrays[8] = read_array(f, (size_t)t.log2_len, 4);
    arrays[9] = read_array(f, (size_t)t.proj_len, 2);
    audio = read_array(f, (size_t)n, 2);
    fclose(f);
    for (rc = 0; rc < 10; rc++)
        if (arrays[rc] == NULL) return 1;
    if (audio == NULL) return 1;
    t.window = arrays[0]; t.perm = arrays[1]; t.twiddle = arrays[2]; t.split = arrays[3];
    t.mel_start = arrays[4]; t.mel_len = arrays[5]; t.mel_weights = arrays[6];
    t.eps = arrays[7]; t.log2 = arrays[8]; t.proj = arrays[9];

    st = malloc(sizeof *st);
    if (st == NULL) return 1;
    rc = kws_frontend_init(st, &t);
    if (rc == KWS_OK) {
        frames = kws_frontend_frames_for(st, n);
        outs = kws_frontend_num_outputs(st);
        batch = malloc((size_t)frames * (size_t)outs + 1);
        stream = malloc((size_t)frames * (size_t)outs + 1);
        if (batch == NULL || stream == NULL) return 1;
        if (kws_frontend_batch(st, audio, 1, n, batch, (int64_t)frames * outs) != KWS_OK) ok = 0;
        /* streaming: random chunks of 1..4000 samples, random frame-buffer capacity 1..8 */
        kws_frontend_reset(st);
        while (ok && pos < n) {
            int32_t chunk = 1 + (int32_t)(lcg(&seed) % 4000u), used, got;
            int32_t cap = 1 + (int32_t)(lcg(&seed) % 8u);
            if (chunk > n - pos) chunk = n - pos;
            if (cap > frames - count) cap = frames - count;
            if (cap < 1) cap = 1;
            if (count + cap > frames) { /* all frames done: only a partial window remains */
                int8_t spare[KWS_MEL_MAX];
                if (kws_frontend_process_frames(st, audio + pos, chunk, &used, spare,
                                                KWS_MEL_MAX, &got) != KWS_OK || got != 0) ok = 0;
            } else if (kws_frontend_process_frames(st, audio + pos, chunk, &used,
                                                   stream + (size_t)count * (size_t)outs,
                                                   cap * outs, &got) != KWS_OK) {
                ok = 0;
            }
            pos += used;
            count += got;
        }
        if (count != frames) ok = 0;
    }
    o = fopen(argv[2], "wb");
    if (o == NULL) return 1;
    fwrite(&rc, 4, 1, o);
    fwrite(&frames, 4, 1, o);
    fwrite(&outs, 4, 1, o);
    if (rc == KWS_OK) {
        fwrite(batch, 1, (size_t)frames * (size_t)outs, o);
        fwrite(stream, 1, (size_t)frames * (size_t)outs, o);
    }
    fclose(o);
    for (rc = 0; rc < 10; rc++) free(arrays[rc]);
    free(audio); free(batch); free(stream); free(st);
    return ok ? 0 : 2;
}
