/* audio_ring.h - audio capture shaped like a DMA double buffer feeding a ring of whole blocks.
 *
 * Producer (interrupt context): a DMA engine (or, under QEMU, the timer ISR standing in for
 * one) fills half 0 then half 1 of a double buffer of 2 x block_samples int16, and raises the
 * half-complete and full-complete callbacks. Each callback copies the finished half into the
 * ring as one block.
 *
 * Consumer (main loop): takes whole blocks in order.
 *
 * Overruns: when a block completes and the ring is full, the NEW block is dropped whole and
 * counted. The next block that does get in carries the number of blocks dropped just before
 * it (its gap), so the consumer knows the samples are not contiguous, advances its clock by
 * the missing samples and restarts its sample history (the front end never computes a
 * frame that mixes samples from before and after a gap). Blocks are never split or merged.
 *
 * Single producer, single consumer, lock-free: the producer writes only `head`, the consumer
 * only `tail`; both are free-running uint32 counters (capacity <= KWS_AUDIO_RING_MAX_BLOCKS).
 * On a Cortex-M4 aligned 32-bit loads/stores are atomic; a data memory barrier orders the block
 * copy before the head update.
 */
#ifndef KWS_AUDIO_RING_H
#define KWS_AUDIO_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_AUDIO_RING_MAX_BLOCKS
#define KWS_AUDIO_RING_MAX_BLOCKS 16
#endif

enum {
    KWS_RING_OK = 0,
    KWS_RING_ERR_NULL = -1,     /* a NULL pointer */
    KWS_RING_ERR_CONFIG = -2,   /* block size 0 or capacity out of 1..MAX_BLOCKS */
    KWS_RING_ERR_LENGTH = -3,   /* storage or caller buffer too short */
    KWS_RING_EMPTY = -4         /* nothing to read */
};

typedef struct {
    int16_t *storage;                     /* capacity * block_samples, caller-owned */
    size_t block_samples;
    uint32_t capacity;                    /* blocks */
    volatile uint32_t head;               /* blocks written (producer) */
    volatile uint32_t tail;               /* blocks read (consumer) */
    volatile uint32_t overruns;           /* blocks dropped because the ring was full */
    volatile uint32_t pending_gap;        /* producer: blocks dropped since the last write */
    volatile uint32_t gap[KWS_AUDIO_RING_MAX_BLOCKS]; /* per slot: blocks dropped before it */
} kws_audio_ring;

/* storage_len is in int16 elements and must be >= capacity * block_samples. */
int kws_audio_ring_init(kws_audio_ring *r, int16_t *storage, size_t storage_len,
                        size_t block_samples, uint32_t capacity);
/* Empty the ring (consumer side, with the producer stopped); the overrun count is kept. */
int kws_audio_ring_reset(kws_audio_ring *r);

/* Producer: push one whole block of exactly block_samples. Returns KWS_RING_OK, or 1 when the
 * ring was full and the block was dropped (counted in overruns). */
int kws_audio_ring_push(kws_audio_ring *r, const int16_t *block, size_t n);

/* Consumer: copy the oldest block into out (out_len >= block_samples). *gap is the number of
 * blocks dropped just before this one (0: contiguous). Returns KWS_RING_OK or KWS_RING_EMPTY. */
int kws_audio_ring_pop(kws_audio_ring *r, int16_t *out, size_t out_len, uint32_t *gap);

uint32_t kws_audio_ring_count(const kws_audio_ring *r);     /* blocks waiting */
uint32_t kws_audio_ring_overruns(const kws_audio_ring *r);  /* blocks dropped so far */

/* ---------------------------------------------------------------- DMA double buffer */
typedef struct {
    int16_t *buffer;          /* 2 * block_samples, caller-owned: the DMA target */
    size_t block_samples;
    kws_audio_ring *ring;     /* where finished halves go */
    uint32_t next_half;       /* which half the "hardware" fills next: 0 or 1 */
} kws_audio_dma;

int kws_audio_dma_init(kws_audio_dma *d, int16_t *buffer, size_t buffer_len,
                       kws_audio_ring *ring);
/* The half-transfer and transfer-complete interrupt callbacks: half 0 / half 1 is finished. */
int kws_audio_dma_half_complete(kws_audio_dma *d);
int kws_audio_dma_full_complete(kws_audio_dma *d);
/* Where the "hardware" writes next (block_samples long); for simulated DMA sources. */
int16_t *kws_audio_dma_next_half(kws_audio_dma *d);

#ifdef __cplusplus
}
#endif
#endif /* KWS_AUDIO_RING_H */
