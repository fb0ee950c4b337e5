/* wav_detect - feed a 16 kHz mono 16-bit PCM WAV file through the keyword spotter and print one
 * JSON line per detection: {"time_ms":T,"label":"L","score":S}.
 *
 *   wav_detect input.wav
 *
 * Exit status: 0 ok, 1 usage or unreadable/unsupported WAV, 2 engine error. */
#include <stdio.h>
#include <string.h>

#include "kws_engine.h"

#define BLOCK 320   /* samples per call; any size works */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Check the RIFF/WAVE header and the fmt chunk; leave f at the first sample of "data". */
static int open_wav_data(FILE *f, uint32_t *data_bytes)
{
    unsigned char h[12], c[8], fmt[16];
    int have_fmt = 0;
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) {
        return -1;
    }
    while (fread(c, 1, 8, f) == 8) {
        uint32_t len = le32(c + 4);
        if (memcmp(c, "fmt ", 4) == 0 && len >= 16) {
            if (fread(fmt, 1, 16, f) != 16 || fseek(f, (long)(len - 16 + (len & 1u)), SEEK_CUR)) {
                return -1;
            }
            if (le16(fmt) != 1 || le16(fmt + 2) != 1 || le32(fmt + 4) != KWS_APP_SAMPLE_RATE ||
                le16(fmt + 14) != 16) {
                return -2;
            }
            have_fmt = 1;
        } else if (memcmp(c, "data", 4) == 0) {
            *data_bytes = len;
            return have_fmt ? 0 : -1;
        } else if (fseek(f, (long)(len + (len & 1u)), SEEK_CUR) != 0) {
            return -1;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    static kws_engine engine;
    static unsigned char raw[2 * BLOCK];
    static int16_t pcm[BLOCK];
    kws_detection events[4];
    uint32_t left = 0;
    FILE *f;
    int r;
    if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL) {
        fprintf(stderr, "usage: wav_detect input.wav (16 kHz mono 16-bit PCM)\n");
        return 1;
    }
    if ((r = open_wav_data(f, &left)) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1],
                r == -2 ? "not 16-bit mono PCM at the model's sample rate" : "not a WAV file");
        fclose(f);
        return 1;
    }
    if ((r = kws_engine_init(&engine)) != KWS_DETECTOR_OK) {
        fprintf(stderr, "kws_engine_init failed: %d\n", r);
        fclose(f);
        return 2;
    }
    while (left >= 2u) {
        size_t want = left / 2u < BLOCK ? left / 2u : BLOCK;
        size_t got = fread(raw, 2, want, f), i, count = 0;
        if (got == 0u) {
            break;
        }
        left -= (uint32_t)(2u * got);
        for (i = 0; i < got; i++) {
            pcm[i] = (int16_t)le16(raw + 2 * i);
        }
        r = kws_detector_process(&engine.detector, pcm, got, events, 4, &count);
        for (i = 0; i < count; i++) {
            printf("{\"time_ms\":%lu,\"label\":\"%s\",\"score\":%u}\n",
                   (unsigned long)events[i].time_ms, kws_engine_label(events[i].label_index),
                   (unsigned)events[i].score);
        }
        if (r != KWS_DETECTOR_OK && r != KWS_DETECTOR_ERR_EVENTS) {
            fprintf(stderr, "kws_detector_process failed: %d\n", r);
            fclose(f);
            return 2;
        }
    }
    fclose(f);
    return 0;
}
