/*
 * host_board.c - the host (x86/any POSIX) side of kws_board.h's I/O subset, so that one app
 * source builds both for the M4 (semihosting) and for the host (stdio).
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>
#include <stdlib.h>

#include "kws_board.h"

int32_t kws_read_file(const char *path, void *buf, size_t len) {
  if (path == NULL || (buf == NULL && len != 0u)) return KWS_BOARD_ENULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return KWS_BOARD_EIO;
  size_t n = fread(buf, 1, len, f);
  int extra = fgetc(f);
  fclose(f);
  if (extra != EOF) return KWS_BOARD_ESHORT;
  return (int32_t)n;
}

int32_t kws_write_file(const char *path, const void *buf, size_t len) {
  if (path == NULL || (buf == NULL && len != 0u)) return KWS_BOARD_ENULL;
  FILE *f = fopen(path, "wb");
  if (f == NULL) return KWS_BOARD_EIO;
  size_t n = fwrite(buf, 1, len, f);
  int rc = fclose(f);
  return (n == len && rc == 0) ? KWS_BOARD_OK : KWS_BOARD_EIO;
}

void kws_puts(const char *s) { fputs(s, stdout); }
void kws_put_i32(int32_t v) { printf("%ld", (long)v); }
void kws_put_u32(uint32_t v) { printf("%lu", (unsigned long)v); }
void kws_put_hex32(uint32_t v) { printf("0x%08lx", (unsigned long)v); }
void kws_mark_start2(void) {}
void kws_mark_end2(void) {}
uint32_t kws_stack_high_water(void) { return 0u; }
uint32_t kws_stack_size(void) { return 0u; }

int kws_app_main(int argc, char **argv);
int main(int argc, char **argv) { return kws_app_main(argc, argv); }
