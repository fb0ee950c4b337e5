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
#include "cmsis_mfcc_run.h"
#include "kws_board.h"

#define KWS_FFT_LEN 512u
#define KWS_MAX_FRAMES 256u
#define KWS_MAX_MEL 128u
#define KWS_MAX_DCT 64u

static int16_t frames[KWS_MAX_FRAMES * KWS_FFT_LEN];
static int16_t results[KWS_MAX_FRAMES * 2u * KWS_FFT_LEN];
static uint32_t config_words[(12u + KWS_MAX_MEL * KWS_MAX_DCT * 2u + 8u * KWS_MAX_MEL +
                              KWS_FFT_LEN * 2u + KWS_FFT_LEN * 2u) / 4u + 1u];
static q15_t frame_buf[KWS_FFT_LEN];
static q15_t fft_out[2u * KWS_FFT_LEN];

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
  const int32_t n = kws_read_file(in_path, frames, sizeof frames);
  if (n < 0 || n % (int32_t)(2u * KWS_FFT_LEN) != 0) return 3;
  const uint32_t n_frames = (uint32_t)n / (2u * KWS_FFT_LEN);
  const uint32_t n_dct = config_words[2];
  const int32_t rc = kws_cmsis_mfcc_q15(config_words, (size_t)cfg_len, frames, n_frames, results,
                                        sizeof results / sizeof results[0]);
  if (rc != 0) {
    kws_puts("cmsis_parity: kws_cmsis_mfcc_q15 failed\n");
    return 10 - rc;
  }
  return kws_write_file(out_path, results, (size_t)n_frames * n_dct * 2u) == 0 ? 0 : 4;
}

int kws_app_main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "rfft") == 0) return run_rfft(argv[2], argv[3]);
  if (argc == 5 && strcmp(argv[1], "mfcc") == 0) return run_mfcc(argv[2], argv[3], argv[4]);
  kws_puts("usage: cmsis_parity rfft IN OUT | mfcc CONFIG IN OUT\n");
  return 2;
}
