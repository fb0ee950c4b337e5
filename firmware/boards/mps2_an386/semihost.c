/*
 * semihost.c - Arm semihosting calls (BKPT 0xAB) and console output. Our own code.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "kws_board.h"

enum {
  SYS_OPEN = 0x01,
  SYS_CLOSE = 0x02,
  SYS_WRITE0 = 0x04,
  SYS_WRITE = 0x05,
  SYS_READ = 0x06,
  SYS_FLEN = 0x0C,
  SYS_GET_CMDLINE = 0x15,
  SYS_EXIT = 0x18,
  SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static inline int32_t kws_semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm("r0") = op;
  register const void *r1 __asm("r1") = arg;
  __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return (int32_t)r0;
}

int32_t kws_sh_open(const char *path, uint32_t mode) {
  if (path == NULL) return KWS_BOARD_ENULL;
  const uint32_t args[3] = {(uint32_t)(uintptr_t)path, mode, (uint32_t)strlen(path)};
  const int32_t h = kws_semihost(SYS_OPEN, args);
  return h < 0 ? KWS_BOARD_EIO : h;
}

int32_t kws_sh_close(int32_t handle) {
  const uint32_t args[1] = {(uint32_t)handle};
  return kws_semihost(SYS_CLOSE, args) == 0 ? KWS_BOARD_OK : KWS_BOARD_EIO;
}

int32_t kws_sh_write(int32_t handle, const void *buf, size_t len) {
  if (buf == NULL && len != 0u) return KWS_BOARD_ENULL;
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)len};
  /* SYS_WRITE returns the number of bytes NOT written. */
  return kws_semihost(SYS_WRITE, args) == 0 ? KWS_BOARD_OK : KWS_BOARD_EIO;
}

int32_t kws_sh_read(int32_t handle, void *buf, size_t len) {
  if (buf == NULL && len != 0u) return KWS_BOARD_ENULL;
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, (uint32_t)len};
  /* SYS_READ returns the number of bytes NOT read. */
  const int32_t left = kws_semihost(SYS_READ, args);
  if (left < 0 || (uint32_t)left > len) return KWS_BOARD_EIO;
  return (int32_t)(len - (uint32_t)left);
}

int32_t kws_sh_flen(int32_t handle) {
  const uint32_t args[1] = {(uint32_t)handle};
  const int32_t n = kws_semihost(SYS_FLEN, args);
  return n < 0 ? KWS_BOARD_EIO : n;
}

int32_t kws_sh_cmdline(char *buf, size_t len) {
  if (buf == NULL) return KWS_BOARD_ENULL;
  if (len < 2u) return KWS_BOARD_ESHORT;
  uint32_t args[2] = {(uint32_t)(uintptr_t)buf, (uint32_t)len};
  if (kws_semihost(SYS_GET_CMDLINE, args) != 0) return KWS_BOARD_ESHORT;
  /* QEMU passes "<kernel path> <-append text>"; drop the program name. */
  const size_t n = strnlen(buf, len);
  size_t i = 0;
  while (i < n && buf[i] != ' ') ++i;
  while (i < n && buf[i] == ' ') ++i;
  memmove(buf, buf + i, n - i + 1u);
  return (int32_t)(n - i);
}

void kws_sh_exit(int32_t status) {
  const uint32_t args[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
  (void)kws_semihost(SYS_EXIT_EXTENDED, args);
  /* Fallback for hosts without SYS_EXIT_EXTENDED: only success/failure survives. */
  (void)kws_semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                                     : 0x20023u));
  for (;;) __asm volatile("wfi");
}

int32_t kws_read_file(const char *path, void *buf, size_t len) {
  const int32_t h = kws_sh_open(path, KWS_SH_MODE_RB);
  if (h < 0) return h;
  const int32_t flen = kws_sh_flen(h);
  int32_t rc;
  if (flen < 0) rc = flen;
  else if ((uint32_t)flen > len) rc = KWS_BOARD_ESHORT;
  else rc = kws_sh_read(h, buf, (size_t)flen);
  (void)kws_sh_close(h);
  return rc;
}

int32_t kws_write_file(const char *path, const void *buf, size_t len) {
  const int32_t h = kws_sh_open(path, KWS_SH_MODE_WB);
  if (h < 0) return h;
  const int32_t rc = kws_sh_write(h, buf, len);
  const int32_t rc2 = kws_sh_close(h);
  return rc != 0 ? rc : rc2;
}

void kws_puts(const char *s) {
  if (s == NULL) return;
  char chunk[65];
  size_t n = strlen(s);
  while (n > 0u) {
    const size_t k = n < 64u ? n : 64u;
    memcpy(chunk, s, k);
    chunk[k] = '\0';
    (void)kws_semihost(SYS_WRITE0, chunk);
    s += k;
    n -= k;
  }
}

void kws_put_u32(uint32_t v) {
  char buf[11];
  int i = 10;
  buf[i] = '\0';
  do {
    buf[--i] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0u);
  kws_puts(&buf[i]);
}

void kws_put_i32(int32_t v) {
  if (v < 0) {
    kws_puts("-");
    kws_put_u32(0u - (uint32_t)v);
  } else {
    kws_put_u32((uint32_t)v);
  }
}

void kws_put_hex32(uint32_t v) {
  char buf[11] = "0x";
  for (int i = 0; i < 8; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
  buf[10] = '\0';
  kws_puts(buf);
}

/* Append the digits of v in `base` to out[*at..], zero- or space-padded to `width`. */
static void kws_fmt_digits(char *out, size_t cap, size_t *at, uint32_t v, uint32_t base,
                           int negative, unsigned width, char pad) {
  char rev[12];
  unsigned n = 0u;
  do {
    rev[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0u);
  if (negative) rev[n++] = '-';
  for (unsigned w = n; w < width && *at + 1u < cap; ++w) out[(*at)++] = pad;
  while (n > 0u && *at + 1u < cap) out[(*at)++] = rev[--n];
}

int kws_printf(const char *fmt, ...) {
  char out[256];
  size_t at = 0u;
  va_list ap;
  va_start(ap, fmt);
  for (const char *p = fmt; *p != '\0' && at + 1u < sizeof out; ++p) {
    if (*p != '%') {
      out[at++] = *p;
      continue;
    }
    ++p;
    const char pad = *p == '0' ? '0' : ' ';
    unsigned width = 0u;
    while (*p >= '0' && *p <= '9') width = width * 10u + (unsigned)(*p++ - '0');
    if (*p == 'l') ++p; /* long is 32 bits on the M4 */
    if (*p == 'd' || *p == 'i') {
      const int32_t v = (int32_t)va_arg(ap, long);
      kws_fmt_digits(out, sizeof out, &at, v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10u, v < 0,
                     width, pad);
    } else if (*p == 'u' || *p == 'x') {
      kws_fmt_digits(out, sizeof out, &at, (uint32_t)va_arg(ap, unsigned long),
                     *p == 'x' ? 16u : 10u, 0, width, pad);
    } else if (*p == 'c') {
      out[at++] = (char)va_arg(ap, int);
    } else if (*p == 's') {
      for (const char *q = va_arg(ap, const char *); q && *q && at + 1u < sizeof out;) out[at++] = *q++;
    } else {
      out[at++] = '%';
      if (*p == '\0') break;
      if (*p != '%' && at + 1u < sizeof out) out[at++] = *p;
    }
  }
  va_end(ap);
  out[at] = '\0';
  kws_puts(out);
  return (int)at;
}
