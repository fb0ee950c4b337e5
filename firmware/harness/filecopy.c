/* filecopy.c - reads argv[1], writes argv[2] with every byte XOR 0x5A and the length appended
 * as 4 little-endian bytes (so a passing test proves both directions really moved data).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "kws_board.h"

static uint8_t buf[256 * 1024 + 4];

int kws_app_main(int argc, char **argv) {
  if (argc != 3) return 2;
  const int32_t n = kws_read_file(argv[1], buf, sizeof buf - 4u);
  if (n < 0) {
    kws_puts("filecopy: cannot read input\n");
    return 3;
  }
  for (int32_t i = 0; i < n; ++i) buf[i] ^= 0x5Au;
  for (int i = 0; i < 4; ++i) buf[n + i] = (uint8_t)((uint32_t)n >> (8 * i));
  if (kws_write_file(argv[2], buf, (size_t)n + 4u) != 0) return 4;
  return 0;
}
