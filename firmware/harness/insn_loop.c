/* insn_loop.c - runs kws_insn_loop(argv[1]) once, and a second pair of markers around a
 * repeated call to check many intervals per run. SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "kws_board.h"

void kws_insn_loop(uint32_t n);
void kws_insn_mix(void);

int kws_app_main(int argc, char **argv) {
  uint32_t n = 0;
  if (argc > 1) {
    for (const char *p = argv[1]; *p >= '0' && *p <= '9'; ++p) n = n * 10u + (uint32_t)(*p - '0');
  }
  if (n == 0u) return 2;
  /* Intervals 0..4 of pair 1: n, n+1, ..., n+4 iterations. */
  for (uint32_t k = 0; k < 5u; ++k) kws_insn_loop(n + k);
  /* Pair kws_mark_start2/kws_mark_end2: twice over many encodings (insn_mix.S). */
  kws_insn_mix();
  kws_insn_mix();
  return 0;
}
