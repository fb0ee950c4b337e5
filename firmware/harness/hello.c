/* hello.c - prints through semihosting and exits with the status given as its first argument.
 * SPDX-License-Identifier: Apache-2.0 */
#include "kws_board.h"

int kws_app_main(int argc, char **argv) {
  kws_puts("hello from the cortex-m4\n");
  int32_t status = 0;
  if (argc > 1) {
    for (const char *p = argv[1]; *p >= '0' && *p <= '9'; ++p) status = status * 10 + (*p - '0');
  }
  kws_puts("argc=");
  kws_put_i32(argc - 1);
  kws_puts(" status=");
  kws_put_i32(status);
  kws_puts("\n");
  return status;
}
