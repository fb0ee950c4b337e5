/* The front end on the Cortex-M4 (QEMU mps2-an386, semihosting): batch and streaming features
 * of deterministic test clips with the committed default tables, printed as hex for
 * tests/test_frontend_c.py to compare with NumPy. Clip c (0..NUM_CLIPS-1) of CLIP samples:
 *   c < 16: LCG noise (int16)(state >> 16) >> c       (0 dBFS down to a few LSB)
 *   16: full-scale square wave, period 37 samples;  17: one impulse of -32768 at 7001
 *   18: DC 32767;  19: silence
 * Line per clip: "B <hex of batch frames>" and "S <hex of streamed frames>". */
#include "kws_board.h"
#include "kws_frontend_config.h"

#define NUM_CLIPS 20
#define CLIP KWS_FRONTEND_CLIP_SAMPLES

static int16_t clip[CLIP];
static int8_t out[KWS_FRONTEND_NUM_FRAMES * KWS_FRONTEND_NUM_OUTPUTS];
static kws_frontend_state state;

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static void make_clip(int c, uint32_t *seed)
{
    int32_t n;
    for (n = 0; n < CLIP; n++) {
        int16_t v = 0;
        if (c < 16) v = (int16_t)((int16_t)(lcg(seed) >> 16) >> c);
        else if (c == 16) v = (n % 37) < 18 ? 32767 : -32768;
        else if (c == 17) v = n == 7001 ? -32768 : 0;
        else if (c == 18) v = 32767;
        clip[n] = v;
    }
}

static char line[2 * KWS_FRONTEND_NUM_FRAMES * KWS_FRONTEND_NUM_OUTPUTS + 4];

static void dump(char tag, const int8_t *v, int32_t len)
{
    int32_t i;
    line[0] = tag;
    line[1] = ' ';
    for (i = 0; i < len; i++) {
        line[2 + 2 * i] = "0123456789abcdef"[(uint8_t)v[i] >> 4];
        line[3 + 2 * i] = "0123456789abcdef"[(uint8_t)v[i] & 15u];
    }
    line[2 + 2 * len] = '\n';
    line[3 + 2 * len] = '\0';
    kws_puts(line);
}

int main(void)
{
    uint32_t seed = 1u, chunks = 99u;
    int c;
    const int32_t len = KWS_FRONTEND_NUM_FRAMES * KWS_FRONTEND_NUM_OUTPUTS;
    if (kws_frontend_init(&state, &kws_frontend_default_tables) != KWS_OK) {
        kws_printf("init failed\n");
        return 1;
    }
    kws_printf("hash %08lx state %lu\n", (unsigned long)KWS_FRONTEND_SETTINGS_HASH,
           (unsigned long)kws_frontend_state_size());
    for (c = 0; c < NUM_CLIPS; c++) {
        int32_t pos = 0, count = 0;
        make_clip(c, &seed);
        if (kws_frontend_batch(&state, clip, 1, CLIP, out, len) != KWS_OK) return 1;
        dump('B', out, len);
        kws_frontend_reset(&state);
        while (pos < CLIP) {
            int32_t chunk = 1 + (int32_t)(lcg(&chunks) >> 8) % 4000, used, got;
            if (chunk > CLIP - pos) chunk = CLIP - pos;
            if (count == KWS_FRONTEND_NUM_FRAMES) break;
            if (kws_frontend_process_frames(&state, clip + pos, chunk, &used,
                                            out + count * KWS_FRONTEND_NUM_OUTPUTS,
                                            len - count * KWS_FRONTEND_NUM_OUTPUTS,
                                            &got) != KWS_OK)
                return 1;
            pos += used;
            count += got;
        }
        dump('S', out, len);
    }
    kws_printf("done\n");
    return 0;
}
