/*
 * frontend_m4.c - the kws C front end (dsp/) on the Cortex-M4: int16 audio in, int8 frames out,
 * over semihosting. The `qemu` backend of kws.frontend runs it (kws/frontend/qemubackend.py).
 * SPDX-License-Identifier: Apache-2.0
 *
 *   frontend_m4 IN OUT        tables and clips from IN (layout below), frames to OUT
 *   frontend_m4 default OUT   the compiled-in tables (dsp/generated) over a built-in test tone
 *
 * IN (little-endian int32 header, then the arrays back to back, then the audio):
 *   magic 0x4B575351, version 1, window_samples, hop_samples, fft_size, num_mel, num_outputs,
 *   proj_q, exp_base, output_zero_point, then the element counts of window, perm, twiddle,
 *   split, mel bands, mel_weights, eps, log2, proj, then num_clips, clip_len;
 *   arrays: window i16, perm u16, twiddle i16, split i16, mel_start u16, mel_len u16,
 *   mel_weights u16, eps u64, log2 i32, proj i16; audio: i16[num_clips][clip_len].
 * OUT: int32 init_status, int32 frames (all clips), int32 num_outputs, then int8 frames from
 *   kws_frontend_compute_frame (one call per hop), then int8 frames from kws_frontend_process
 *   (streaming, one 320-sample block at a time; the state is reset between clips).
 *
 * Instruction-count markers: pair 0 (kws_mark_start/kws_mark_end) wraps every
 * kws_frontend_compute_frame call: one interval per hop. Pair 2 (kws_mark_start2/kws_mark_end2)
 * wraps every kws_frontend_process call of the streaming pass.
 */
#include <stdint.h>
#include <string.h>

#include "kws_board.h"
#include "kws_frontend.h"
#include "kws_frontend_config.h"

#define KWS_IN_MAGIC 0x4B575351
#define KWS_NHEAD 21
#define KWS_IN_MAX (1536u * 1024u)
#define KWS_OUT_MAX (256u * 1024u)

static uint8_t in_buf[KWS_IN_MAX];
static uint64_t table_arena[16384]; /* 128 KiB, 8-byte aligned copies of the tables */
static int8_t out_buf[KWS_OUT_MAX];
static kws_frontend_state state;

typedef struct {
  const uint8_t *p;
  const uint8_t *end;
  uint8_t *arena;
  uint8_t *arena_end;
} reader;

/* Copy `count` elements of `size` bytes into the aligned arena; NULL if the input is short. */
static const void *take(reader *r, int32_t count, size_t size) {
  if (count < 0) return NULL;
  const size_t n = (size_t)count * size;
  const size_t padded = (n + 7u) & ~(size_t)7u;
  if ((size_t)(r->end - r->p) < n || (size_t)(r->arena_end - r->arena) < padded) return NULL;
  void *dst = r->arena;
  memcpy(dst, r->p, n);
  r->p += n;
  r->arena += padded;
  return dst;
}

static int32_t put_i32(int8_t *dst, int32_t v) {
  memcpy(dst, &v, 4);
  return 4;
}

/* Run both passes over clips; write OUT. Returns the exit status. */
static int run(const kws_frontend_tables *t, const int16_t *audio, int32_t num_clips,
               int32_t clip_len, const char *out_path) {
  const kws_status init = kws_frontend_init(&state, t);
  int32_t frames_per_clip = 0, outs = 0;
  if (init == KWS_OK) {
    frames_per_clip = kws_frontend_frames_for(&state, clip_len);
    outs = kws_frontend_num_outputs(&state);
  }
  const int32_t total = frames_per_clip * num_clips;
  if (12 + 2 * (int64_t)total * outs > (int64_t)KWS_OUT_MAX) return 5;
  int8_t *o = out_buf;
  o += put_i32(o, (int32_t)init);
  o += put_i32(o, total);
  o += put_i32(o, outs);
  if (init == KWS_OK) {
    const int32_t hop = t->hop_samples, win = t->window_samples;
    int8_t *batch = o;
    for (int32_t c = 0; c < num_clips; ++c) {
      const int16_t *clip = audio + (int64_t)c * clip_len;
      for (int32_t f = 0; f < frames_per_clip; ++f) {
        kws_mark_start();
        const kws_status st = kws_frontend_compute_frame(&state, clip + (int64_t)f * hop, win, o, outs);
        kws_mark_end();
        if (st != KWS_OK) return 6;
        o += outs;
      }
    }
    for (int32_t c = 0; c < num_clips; ++c) {
      const int16_t *clip = audio + (int64_t)c * clip_len;
      int32_t pos = 0;
      kws_frontend_reset(&state);
      while (pos < clip_len) {
        const int32_t block = (clip_len - pos) < hop ? (clip_len - pos) : hop;
        int32_t used = 0, ready = 0;
        kws_mark_start2();
        const kws_status st = kws_frontend_process(&state, clip + pos, block, &used, o, outs, &ready);
        kws_mark_end2();
        if (st != KWS_OK || used <= 0) return 7;
        pos += used;
        if (ready) o += outs;
      }
    }
    if (o - batch != 2 * total * outs) return 8;
  }
  kws_puts("stack_high_water=");
  kws_put_u32(kws_stack_high_water());
  kws_puts(" state_bytes=");
  kws_put_u32((uint32_t)sizeof state);
  kws_puts("\n");
  return kws_write_file(out_path, out_buf, (size_t)(o - out_buf)) == 0 ? 0 : 4;
}

static int run_default(const char *out_path) {
  /* A 1 s tone sweep with a DC offset: enough to exercise every stage. */
  static int16_t tone[KWS_FRONTEND_CLIP_SAMPLES];
  uint32_t phase = 0, step = 1u << 24;
  for (int32_t i = 0; i < KWS_FRONTEND_CLIP_SAMPLES; ++i) {
    phase += step;
    step += 1u << 12;
    const int32_t tri = (int32_t)(phase >> 16) - 32768; /* sawtooth, q15 */
    tone[i] = (int16_t)(tri / 4 + 1000);
  }
  return run(&kws_frontend_default_tables, tone, 1, KWS_FRONTEND_CLIP_SAMPLES, out_path);
}

int kws_app_main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "default") == 0) return run_default(argv[2]);
  if (argc != 3) {
    kws_puts("usage: frontend_m4 IN OUT | default OUT\n");
    return 2;
  }
  const int32_t n = kws_read_file(argv[1], in_buf, sizeof in_buf);
  if (n < 4 * KWS_NHEAD) return 3;
  int32_t h[KWS_NHEAD];
  memcpy(h, in_buf, sizeof h);
  if (h[0] != KWS_IN_MAGIC || h[1] != 1) return 3;
  reader r = {in_buf + sizeof h, in_buf + n, (uint8_t *)table_arena,
              (uint8_t *)table_arena + sizeof table_arena};
  kws_frontend_tables t;
  memset(&t, 0, sizeof t);
  t.window_samples = h[2]; t.hop_samples = h[3]; t.fft_size = h[4]; t.num_mel = h[5];
  t.num_outputs = h[6]; t.proj_q = h[7]; t.exp_base = h[8]; t.output_zero_point = h[9];
  t.window_len = h[10]; t.perm_len = h[11]; t.twiddle_len = h[12]; t.split_len = h[13];
  t.mel_bands_len = h[14]; t.mel_weights_len = h[15]; t.eps_len = h[16]; t.log2_len = h[17];
  t.proj_len = h[18];
  const int32_t num_clips = h[19], clip_len = h[20];
  t.window = take(&r, t.window_len, 4);
  t.perm = take(&r, t.perm_len, 2);
  t.twiddle = take(&r, t.twiddle_len, 4);
  t.split = take(&r, t.split_len, 4);
  t.mel_start = take(&r, t.mel_bands_len, 2);
  t.mel_len = take(&r, t.mel_bands_len, 2);
  t.mel_weights = take(&r, t.mel_weights_len, 2);
  t.eps = take(&r, t.eps_len, 8);
  t.log2 = take(&r, t.log2_len, 4);
  t.proj = take(&r, t.proj_len, 2);
  if (num_clips < 1 || clip_len < 1 ||
      (int64_t)(r.end - r.p) != 2 * (int64_t)num_clips * clip_len)
    return 3;
  /* The audio stays in in_buf: realign it to 2 bytes (the header and arrays keep it even). */
  if (((uintptr_t)r.p & 1u) != 0u) return 3;
  return run(&t, (const int16_t *)(const void *)r.p, num_clips, clip_len, argv[2]);
}
