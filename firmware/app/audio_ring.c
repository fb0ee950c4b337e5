/* audio_ring.c - see audio_ring.h. */
#include "audio_ring.h"

#include <string.h>

#if defined(__arm__)
#define KWS_DMB() __asm__ volatile("dmb" ::: "memory")
#else
#define KWS_DMB() __asm__ volatile("" ::: "memory")
#endif

int kws_audio_ring_init(kws_audio_ring *r, int16_t *storage, size_t storage_len,
                        size_t block_samples, uint32_t capacity)
{
    if (r == NULL || storage == NULL) {
        return KWS_RING_ERR_NULL;
    }
    if (block_samples == 0u || capacity < 1u || capacity > KWS_AUDIO_RING_MAX_BLOCKS) {
        return KWS_RING_ERR_CONFIG;
    }
    if (storage_len < (size_t)capacity * block_samples) {
        return KWS_RING_ERR_LENGTH;
    }
    memset(r, 0, sizeof(*r));
    r->storage = storage;
    r->block_samples = block_samples;
    r->capacity = capacity;
    return KWS_RING_OK;
}

int kws_audio_ring_reset(kws_audio_ring *r)
{
    if (r == NULL) {
        return KWS_RING_ERR_NULL;
    }
    r->tail = r->head;
    r->pending_gap = 0;
    return KWS_RING_OK;
}

uint32_t kws_audio_ring_count(const kws_audio_ring *r)
{
    return r == NULL ? 0u : (uint32_t)(r->head - r->tail);
}

uint32_t kws_audio_ring_overruns(const kws_audio_ring *r)
{
    return r == NULL ? 0u : r->overruns;
}

int kws_audio_ring_push(kws_audio_ring *r, const int16_t *block, size_t n)
{
    uint32_t head, slot;
    if (r == NULL || block == NULL) {
        return KWS_RING_ERR_NULL;
    }
    if (n != r->block_samples) {
        return KWS_RING_ERR_LENGTH;
    }
    head = r->head;
    if ((uint32_t)(head - r->tail) >= r->capacity) {
        r->overruns++;            /* drop the whole new block; never overwrite unread data */
        r->pending_gap++;
        return 1;
    }
    slot = head % r->capacity;
    memcpy(&r->storage[(size_t)slot * r->block_samples], block, n * sizeof(int16_t));
    r->gap[slot] = r->pending_gap;
    r->pending_gap = 0u;
    KWS_DMB();                    /* the block is in memory before the consumer can see it */
    r->head = head + 1u;
    return KWS_RING_OK;
}

int kws_audio_ring_pop(kws_audio_ring *r, int16_t *out, size_t out_len, uint32_t *gap)
{
    uint32_t tail, slot;
    if (r == NULL || out == NULL || gap == NULL) {
        return KWS_RING_ERR_NULL;
    }
    if (out_len < r->block_samples) {
        return KWS_RING_ERR_LENGTH;
    }
    tail = r->tail;
    if (r->head == tail) {
        return KWS_RING_EMPTY;
    }
    KWS_DMB();
    slot = tail % r->capacity;
    memcpy(out, &r->storage[(size_t)slot * r->block_samples],
           r->block_samples * sizeof(int16_t));
    *gap = r->gap[slot];
    KWS_DMB();                    /* done reading before the producer may reuse the slot */
    r->tail = tail + 1u;
    return KWS_RING_OK;
}

int kws_audio_dma_init(kws_audio_dma *d, int16_t *buffer, size_t buffer_len,
                       kws_audio_ring *ring)
{
    if (d == NULL || buffer == NULL || ring == NULL) {
        return KWS_RING_ERR_NULL;
    }
    if (buffer_len < 2u * ring->block_samples) {
        return KWS_RING_ERR_LENGTH;
    }
    d->buffer = buffer;
    d->block_samples = ring->block_samples;
    d->ring = ring;
    d->next_half = 0u;
    return KWS_RING_OK;
}

int16_t *kws_audio_dma_next_half(kws_audio_dma *d)
{
    return d == NULL ? NULL : &d->buffer[(size_t)d->next_half * d->block_samples];
}

static int dma_complete(kws_audio_dma *d, uint32_t half)
{
    if (d == NULL) {
        return KWS_RING_ERR_NULL;
    }
    d->next_half = half ^ 1u;
    return kws_audio_ring_push(d->ring, &d->buffer[(size_t)half * d->block_samples],
                               d->block_samples);
}

int kws_audio_dma_half_complete(kws_audio_dma *d)
{
    return dma_complete(d, 0u);
}

int kws_audio_dma_full_complete(kws_audio_dma *d)
{
    return dma_complete(d, 1u);
}
