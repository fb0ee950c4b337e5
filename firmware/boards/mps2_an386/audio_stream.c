/*
 * audio_stream.c - audio blocks delivered from a timer interrupt into a ring buffer.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Single producer (the timer IRQ) and single consumer (the main loop): head and tail only
 * grow (mod 2^32), each side writes its own index, so no lock is needed on the Cortex-M4.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kws_board.h"

static void kws_audio_stream_tick(void *ctx) {
  kws_audio_stream *s = (kws_audio_stream *)ctx;
  if (s->next >= s->source_len) {
    s->done = 1u;
    return;
  }
  if (s->head - s->tail + s->block > s->ring_len) {
    s->dropped++;
  } else {
    const uint32_t at = s->head % s->ring_len;
    const uint32_t left = s->source_len - s->next;
    const uint32_t n = left < s->block ? left : s->block;
    memcpy(&s->ring[at], &s->source[s->next], 2u * n);
    if (n < s->block) memset(&s->ring[at + n], 0, 2u * (s->block - n)); /* pad the last block */
    s->head += s->block;
  }
  s->next += s->block;
  if (s->next >= s->source_len) s->done = 1u;
}

int32_t kws_audio_stream_start(kws_audio_stream *s, const int16_t *source, uint32_t source_len,
                               int16_t *ring, uint32_t ring_len, uint32_t block,
                               uint32_t sample_rate, uint32_t timer_index) {
  if (s == NULL || source == NULL || ring == NULL) return KWS_BOARD_ENULL;
  if (block == 0u || sample_rate == 0u || ring_len < block || ring_len % block != 0u)
    return KWS_BOARD_ECONFIG;
  const uint64_t ticks = (uint64_t)block * KWS_TIMER_CLOCK_HZ;
  if (ticks % sample_rate != 0u || ticks / sample_rate < 2u) return KWS_BOARD_ECONFIG;
  s->source = source;
  s->source_len = source_len;
  s->next = 0u;
  s->ring = ring;
  s->ring_len = ring_len;
  s->block = block;
  s->head = 0u;
  s->tail = 0u;
  s->dropped = 0u;
  s->done = source_len == 0u;
  return kws_timer_start(&s->timer, timer_index, (uint32_t)(ticks / sample_rate),
                         kws_audio_stream_tick, s);
}

int32_t kws_audio_stream_pop(kws_audio_stream *s, int16_t *out, uint32_t out_len) {
  if (s == NULL || out == NULL) return KWS_BOARD_ENULL;
  if (out_len < s->block) return KWS_BOARD_ESHORT;
  if (s->head - s->tail < s->block) return 0;
  memcpy(out, &s->ring[s->tail % s->ring_len], 2u * s->block);
  s->tail += s->block;
  return 1;
}

int32_t kws_audio_stream_stop(kws_audio_stream *s) {
  if (s == NULL) return KWS_BOARD_ENULL;
  return kws_timer_stop(&s->timer);
}
