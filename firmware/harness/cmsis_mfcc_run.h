/* cmsis_mfcc_run.h - run CMSIS-DSP's arm_mfcc_q15 over frames with tables passed at run time.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Config blob (little-endian), as written by kws/bench/cmsis_mfcc.py:config_bytes():
 *   u32 fft_len (512), u32 n_mel, u32 n_dct, q15 dct[n_dct][n_mel], zero padding to a multiple
 *   of 4 bytes, u32 filter_pos[n_mel], u32 filter_len[n_mel], q15 filter_coefs[sum(filter_len)],
 *   q15 window[fft_len].
 * The blob must be 4-byte aligned.
 */
#ifndef KWS_CMSIS_MFCC_RUN_H
#define KWS_CMSIS_MFCC_RUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes: 0 ok; -1 NULL; -2 short buffer; -3 bad config; -4 arm_mfcc_q15 failed. */
/* frames: int16[n_frames][512], used as scratch and left modified; out: int16[n_frames][n_dct]
 * in q8.7. Each frame's arm_mfcc_q15 call sits between kws_mark_start() and kws_mark_end(). */
int32_t kws_cmsis_mfcc_q15(const uint32_t *config, size_t config_bytes, int16_t *frames,
                           size_t n_frames, int16_t *out, size_t out_len);

#ifdef __cplusplus
}
#endif
#endif
