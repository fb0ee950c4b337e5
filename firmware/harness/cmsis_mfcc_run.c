/* cmsis_mfcc_run.c - see cmsis_mfcc_run.h. SPDX-License-Identifier: Apache-2.0 */
#include "cmsis_mfcc_run.h"

#include "arm_math.h"
#include "kws_board.h"

#define KWS_FFT_LEN 512u

int32_t kws_cmsis_mfcc_q15(const uint32_t *config, size_t config_bytes, int16_t *frames,
                           size_t n_frames, int16_t *out, size_t out_len) {
  if (config == NULL || frames == NULL || out == NULL) return -1;
  if (config_bytes < 12u) return -2;
  const uint32_t fft_len = config[0], n_mel = config[1], n_dct = config[2];
  if (fft_len != KWS_FFT_LEN || n_mel == 0u || n_mel > fft_len / 2u + 1u || n_dct == 0u ||
      n_dct > n_mel)
    return -3;
  const size_t dct_bytes = ((size_t)2u * n_dct * n_mel + 3u) & ~(size_t)3u;
  if (config_bytes < 12u + dct_bytes + 8u * n_mel) return -2;
  const q15_t *dct = (const q15_t *)(const void *)&config[3];
  const uint32_t *pos = (const uint32_t *)(const void *)((const uint8_t *)&config[3] + dct_bytes);
  const uint32_t *len = pos + n_mel;
  size_t n_coefs = 0;
  for (uint32_t i = 0; i < n_mel; ++i) {
    if (len[i] == 0u || pos[i] + len[i] > fft_len / 2u + 1u) return -3;
    n_coefs += len[i];
  }
  if (config_bytes < 12u + dct_bytes + 8u * n_mel + 2u * (n_coefs + fft_len)) return -2;
  const q15_t *coefs = (const q15_t *)(const void *)(len + n_mel);
  const q15_t *window = coefs + n_coefs;
  if (out_len < n_frames * n_dct) return -2;

  arm_mfcc_instance_q15 mfcc;
  if (arm_mfcc_init_512_q15(&mfcc, n_mel, n_dct, dct, pos, len, coefs, window) !=
      ARM_MATH_SUCCESS)
    return -3;
  q31_t tmp[2u * KWS_FFT_LEN]; /* arm_mfcc_q15 scratch: 2 * fft_len q31 (complex spectrum) */
  for (size_t f = 0; f < n_frames; ++f) {
    kws_mark_start();
    const arm_status st = arm_mfcc_q15(&mfcc, &frames[f * fft_len], &out[f * n_dct], tmp);
    kws_mark_end();
    if (st != ARM_MATH_SUCCESS) return -4;
  }
  return 0;
}
