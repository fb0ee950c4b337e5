/* cmsis_parity.c - runs CMSIS-DSP's arm_rfft_q15 or arm_mfcc_q15 over int16 frames from a
 * file and writes the int16 results; the same source builds for the M4 and the host.
 *
 *   cmsis_parity rfft <frames.bin> <out.bin>
 *       frames: int16[n][512]; out: int16[n][1024] (arm_rfft_q15, 512 points, forward)
 *   cmsis_parity mfcc <config.bin> <frames.bin> <out.bin>
 *       config (little-endian): u32 fft_len, u32 n_mel, u32 n_dct,
 *               q15 dct[n_dct][n_mel], u32 filter_pos[n_mel], u32 filter_len[n_mel],
 *               q15 filter_coefs[sum(filter_len)], q15 window[fft_len]
 *       frames: int16[n][fft_len]; out: int16[n][n_dct] (arm_mfcc_q15, q8.7)
 * Each call of the transform is wrapped in kws_mark_start()/kws_mark_end(), so the TCG
 * plugin reports one instruction count per frame.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <string.h>

#include "arm_math.h"
#include "kws_board.h"

#define KWS_FFT_LEN 512u
#define KWS_MAX_FRAMES 256u
#define KWS_MAX_MEL 64u
#define KWS_MAX_DCT 32u

static int16_t frames[KWS_MAX_FRAMES * KWS_FFT_LEN];
static int16_t results[KWS_MAX_FRAMES * 2u * KWS_FFT_LEN];
static uint32_t config_words[(12u + KWS_MAX_MEL * KWS_MAX_DCT * 2u + 8u * KWS_MAX_MEL +
                              KWS_FFT_LEN * 2u + KWS_FFT_LEN * 2u) / 4u + 1u];
static q15_t frame_buf[KWS_FFT_LEN];
static q15_t fft_out[2u * KWS_FFT_LEN];
static q31_t mfcc_tmp[2u * KWS_FFT_LEN];

static int run_rfft(const char *in_path, const char *out_path) {
  const int32_t n = kws_read_file(in_path, frames, sizeof frames);
  if (n < 0 || n % (int32_t)(2u * KWS_FFT_LEN) != 0) return 3;
  const uint32_t n_frames = (uint32_t)n / (2u * KWS_FFT_LEN);
  arm_rfft_instance_q15 rfft;
  if (arm_rfft_init_512_q15(&rfft, 0, 1) != ARM_MATH_SUCCESS) return 5;
  for (uint32_t f = 0; f < n_frames; ++f) {
    memcpy(frame_buf, &frames[f * KWS_FFT_LEN], sizeof frame_buf);
    memset(fft_out, 0, sizeof fft_out);
    kws_mark_start();
    arm_rfft_q15(&rfft, frame_buf, fft_out);
    kws_mark_end();
    memcpy(&results[f * 2u * KWS_FFT_LEN], fft_out, sizeof fft_out);
  }
  return kws_write_file(out_path, results, (size_t)n_frames * 2u * KWS_FFT_LEN * 2u) == 0 ? 0 : 4;
}

static int run_mfcc(const char *cfg_path, const char *in_path, const char *out_path) {
  const int32_t cfg_len = kws_read_file(cfg_path, config_words, sizeof config_words);
  if (cfg_len < 12) return 3;
  const uint32_t fft_len = config_words[0], n_mel = config_words[1], n_dct = config_words[2];
  if (fft_len != KWS_FFT_LEN || n_mel == 0u || n_mel > KWS_MAX_MEL || n_dct == 0u ||
      n_dct > KWS_MAX_DCT)
    return 6;
  const uint8_t *p = (const uint8_t *)&config_words[3];
  const q15_t *dct = (const q15_t *)p;
  p += 2u * n_dct * n_mel;
  p += (4u - ((uintptr_t)p & 3u)) & 3u; /* the u32 arrays start 4-byte aligned */
  const uint32_t *pos = (const uint32_t *)p;
  const uint32_t *len = pos + n_mel;
  uint32_t n_coefs = 0;
  for (uint32_t i = 0; i < n_mel; ++i) n_coefs += len[i];
  const q15_t *coefs = (const q15_t *)(len + n_mel);
  const q15_t *window = coefs + n_coefs;
  if ((const uint8_t *)(window + fft_len) > (const uint8_t *)config_words + cfg_len) return 7;

  const int32_t n = kws_read_file(in_path, frames, sizeof frames);
  if (n < 0 || n % (int32_t)(2u * fft_len) != 0) return 3;
  const uint32_t n_frames = (uint32_t)n / (2u * fft_len);
  arm_mfcc_instance_q15 mfcc;
  if (arm_mfcc_init_512_q15(&mfcc, n_mel, n_dct, dct, pos, len, coefs, window) !=
      ARM_MATH_SUCCESS)
    return 5;
  for (uint32_t f = 0; f < n_frames; ++f) {
    memcpy(frame_buf, &frames[f * fft_len], 2u * fft_len);
    kws_mark_start();
    const arm_status st = arm_mfcc_q15(&mfcc, frame_buf, &results[f * n_dct], mfcc_tmp);
    kws_mark_end();
    if (st != ARM_MATH_SUCCESS) return 8;
  }
  return kws_write_file(out_path, results, (size_t)n_frames * n_dct * 2u) == 0 ? 0 : 4;
}

int kws_app_main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "rfft") == 0) return run_rfft(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "mfcc") == 0) return run_mfcc(argv[2], argv[3], argv[4]);
  kws_puts("usage: cmsis_parity rfft IN OUT | mfcc CONFIG IN OUT\n");
  return 2;
}
