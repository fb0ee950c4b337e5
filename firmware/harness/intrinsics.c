/* intrinsics.c - evaluates every intrinsic of firmware/cmsis/cmsis_compiler.h on operand
 * triples read from argv[1] (uint32 a, b, c little-endian) and writes the results to argv[2]
 * (KWS_N_RESULTS uint32 per triple). Built for the M4 (real DSP instructions) and for the host
 * (plain-C emulation); the two output files must be identical.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "cmsis_compiler.h"
#include "kws_board.h"

#define KWS_MAX_TRIPLES 8192u
#define KWS_N_RESULTS 44u

static uint32_t in[3u * KWS_MAX_TRIPLES];
static uint32_t out[KWS_N_RESULTS * KWS_MAX_TRIPLES];

static void eval(uint32_t a, uint32_t b, uint32_t c, uint32_t *r) {
  const uint64_t acc = ((uint64_t)c << 32) | (a ^ b);
  int k = 0;
  r[k++] = (uint32_t)__SSAT((int32_t)a, 1);
  r[k++] = (uint32_t)__SSAT((int32_t)a, 8);
  r[k++] = (uint32_t)__SSAT((int32_t)a, 16);
  r[k++] = (uint32_t)__SSAT((int32_t)a, 31);
  r[k++] = (uint32_t)__SSAT((int32_t)a, 32);
  r[k++] = (uint32_t)__SSAT((int32_t)(a >> (c & 31u)), 16);
  r[k++] = __USAT((int32_t)a, 0);
  r[k++] = __USAT((int32_t)a, 8);
  r[k++] = __USAT((int32_t)a, 15);
  r[k++] = __USAT((int32_t)a, 31);
  r[k++] = __CLZ(a >> (b & 31u));
  r[k++] = __ROR(a, b & 31u);
  r[k++] = (uint32_t)__QADD((int32_t)a, (int32_t)b);
  r[k++] = (uint32_t)__QSUB((int32_t)a, (int32_t)b);
  r[k++] = __QADD16(a, b);
  r[k++] = __QSUB16(a, b);
  r[k++] = __QASX(a, b);
  r[k++] = __QSAX(a, b);
  r[k++] = __SHADD16(a, b);
  r[k++] = __SHSUB16(a, b);
  r[k++] = __SHASX(a, b);
  r[k++] = __SHSAX(a, b);
  r[k++] = __QADD8(a, b);
  r[k++] = __QSUB8(a, b);
  r[k++] = __SXTB16(a);
  r[k++] = __SXTB16(__ROR(a, 8));
  r[k++] = __SMUAD(a, b);
  r[k++] = __SMUADX(a, b);
  r[k++] = __SMUSD(a, b);
  r[k++] = __SMUSDX(a, b);
  r[k++] = __SMLAD(a, b, c);
  r[k++] = __SMLADX(a, b, c);
  r[k++] = __SMLSD(a, b, c);
  r[k++] = __SMLSDX(a, b, c);
  uint64_t l = __SMLALD(a, b, acc);
  r[k++] = (uint32_t)l;
  r[k++] = (uint32_t)(l >> 32);
  l = __SMLALDX(a, b, acc);
  r[k++] = (uint32_t)l;
  r[k++] = (uint32_t)(l >> 32);
  r[k++] = (uint32_t)__SMMLA((int32_t)a, (int32_t)b, (int32_t)c);
  r[k++] = __PKHBT(a, b, 0);
  r[k++] = __PKHBT(a, b, 16);
  r[k++] = __PKHTB(a, b, 0);
  r[k++] = __PKHTB(a, b, 16);
  r[k++] = __PKHTB(a, b, 5);
}

int kws_app_main(int argc, char **argv) {
  if (argc != 3) return 2;
  const int32_t n = kws_read_file(argv[1], in, sizeof in);
  if (n < 0 || n % 12 != 0) return 3;
  const uint32_t triples = (uint32_t)n / 12u;
  for (uint32_t i = 0; i < triples; ++i)
    eval(in[3u * i], in[3u * i + 1u], in[3u * i + 2u], &out[KWS_N_RESULTS * i]);
  return kws_write_file(argv[2], out, (size_t)triples * KWS_N_RESULTS * 4u) == 0 ? 0 : 4;
}
