/*
 * stream_frontend.c - the front end fed in real time: a timer interrupt delivers one hop (320
 * samples, 20 ms) of audio at a time, as a microphone would, and the main loop turns blocks
 * into frames with kws_frontend_process (compiled-in default tables, dsp/generated).
 * SPDX-License-Identifier: Apache-2.0
 *
 *   stream_frontend AUDIO OUT    AUDIO: int16 little-endian samples at 16 kHz; OUT: int8 frames
 * Prints "blocks=<n> dropped=<n> frames=<n> period_ticks=<n> busy_ticks=<n> max_block_ticks=<n>"
 * (ticks of the 25 MHz timer clock; under qemu -icount they follow the instruction count).
 */
#include <stdint.h>
#include <string.h>

#include "kws_board.h"
#include "kws_frontend.h"
#include "kws_frontend_config.h"

#define KWS_MAX_SAMPLES (KWS_FRONTEND_SAMPLE_RATE * 30)
#define KWS_BLOCK KWS_FRONTEND_HOP_SAMPLES
#define KWS_MAX_FRAMES (KWS_MAX_SAMPLES / KWS_FRONTEND_HOP_SAMPLES + 1)

static int16_t audio[KWS_MAX_SAMPLES];
static int16_t ring[4 * KWS_BLOCK];
static int8_t frames[KWS_MAX_FRAMES * KWS_FRONTEND_NUM_OUTPUTS];
static kws_frontend_state state;
static kws_audio_stream stream;

static void put_field(const char *name, uint32_t v) {
  kws_puts(name);
  kws_put_u32(v);
}

int kws_app_main(int argc, char **argv) {
  if (argc != 3) {
    kws_puts("usage: stream_frontend AUDIO OUT\n");
    return 2;
  }
  const int32_t n = kws_read_file(argv[1], audio, sizeof audio);
  if (n < 0 || n % 2 != 0) return 3;
  if (kws_frontend_init(&state, &kws_frontend_default_tables) != KWS_OK) return 5;
  if (kws_ticker_start(1u) != 0) return 6;
  if (kws_audio_stream_start(&stream, audio, (uint32_t)n / 2u, ring, 4u * KWS_BLOCK, KWS_BLOCK,
                             KWS_FRONTEND_SAMPLE_RATE, 0u) != 0)
    return 6;
  kws_irq_enable();
  uint32_t blocks = 0, n_frames = 0, busy = 0, max_block = 0;
  int16_t block[KWS_BLOCK];
  for (;;) {
    const int32_t got = kws_audio_stream_pop(&stream, block, KWS_BLOCK);
    if (got < 0) return 7;
    if (got == 0) {
      if (stream.done && stream.head - stream.tail < KWS_BLOCK) break;
      kws_wait_for_interrupt();
      continue;
    }
    const uint32_t t0 = kws_ticker_read(1u);
    int32_t pos = 0;
    while (pos < KWS_BLOCK) {
      int32_t used = 0, ready = 0;
      if (n_frames >= KWS_MAX_FRAMES) return 8;
      if (kws_frontend_process(&state, block + pos, KWS_BLOCK - pos, &used,
                               &frames[n_frames * KWS_FRONTEND_NUM_OUTPUTS],
                               KWS_FRONTEND_NUM_OUTPUTS, &ready) != KWS_OK)
        return 9;
      pos += used;
      n_frames += (uint32_t)ready;
    }
    const uint32_t dt = t0 - kws_ticker_read(1u); /* the ticker counts down */
    busy += dt;
    if (dt > max_block) max_block = dt;
    blocks++;
  }
  (void)kws_audio_stream_stop(&stream);
  put_field("blocks=", blocks);
  put_field(" dropped=", stream.dropped);
  put_field(" frames=", n_frames);
  put_field(" period_ticks=",
            (uint32_t)((uint64_t)KWS_BLOCK * KWS_TIMER_CLOCK_HZ / KWS_FRONTEND_SAMPLE_RATE));
  put_field(" busy_ticks=", busy);
  put_field(" max_block_ticks=", max_block);
  kws_puts("\n");
  return kws_write_file(argv[2], frames, n_frames * KWS_FRONTEND_NUM_OUTPUTS) == 0 ? 0 : 4;
}
