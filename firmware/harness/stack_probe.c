/* stack_probe.c - uses argv[1] bytes of stack in a callee, then prints the painted high-water
 * mark: "high_water=<bytes> size=<bytes>". SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "kws_board.h"

__attribute__((noinline)) static uint32_t use_stack(uint32_t n) {
  volatile uint8_t buf[n]; /* C99 VLA: n bytes of stack */
  for (uint32_t i = 0; i < n; ++i) buf[i] = (uint8_t)i;
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n; i += 64u) sum += buf[i];
  return sum;
}

int kws_app_main(int argc, char **argv) {
  uint32_t n = 0;
  if (argc > 1)
    for (const char *p = argv[1]; *p >= '0' && *p <= '9'; ++p) n = n * 10u + (uint32_t)(*p - '0');
  if (n > 0u) (void)use_stack(n);
  kws_puts("high_water=");
  kws_put_u32(kws_stack_high_water());
  kws_puts(" size=");
  kws_put_u32(kws_stack_size());
  kws_puts("\n");
  return 0;
}
