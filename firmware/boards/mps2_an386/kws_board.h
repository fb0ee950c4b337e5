/*
 * kws_board.h - board support for QEMU's mps2-an386 (Cortex-M4F): semihosting I/O and exit,
 * the CMSDK APB timer with its interrupt, stack painting, and the instruction-count markers.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Error convention: functions return 0 (KWS_BOARD_OK) or a negative KWS_BOARD_E* code.
 */
#ifndef KWS_BOARD_H
#define KWS_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  KWS_BOARD_OK = 0,
  KWS_BOARD_ENULL = -1,   /* a required pointer is NULL */
  KWS_BOARD_ESHORT = -2,  /* a buffer is too short */
  KWS_BOARD_EIO = -3,     /* the host refused a semihosting call */
  KWS_BOARD_ECONFIG = -4, /* a bad parameter (timer index, reload value, ...) */
};

/* ---- semihosting (Arm semihosting v2 over BKPT 0xAB; QEMU -semihosting) ---------------- */
/* Open mode, as in the semihosting spec: "rb" = 1, "wb" = 5, "ab" = 9. */
enum { KWS_SH_MODE_RB = 1, KWS_SH_MODE_WB = 5, KWS_SH_MODE_AB = 9 };

/* Open `path` (NUL-terminated) with a semihosting mode; return a handle >= 0 or a code < 0. */
int32_t kws_sh_open(const char *path, uint32_t mode);
int32_t kws_sh_close(int32_t handle);
/* Write `len` bytes; return 0 when all were written, else a code < 0. */
int32_t kws_sh_write(int32_t handle, const void *buf, size_t len);
/* Read up to `len` bytes; return the number of bytes read (0 at end of file) or a code < 0. */
int32_t kws_sh_read(int32_t handle, void *buf, size_t len);
/* Length of an open file in bytes, or a code < 0. */
int32_t kws_sh_flen(int32_t handle);
/* Copy the command line (what follows the program name, from qemu -append) into `buf`
 * (NUL-terminated). Return its length or a code < 0 (KWS_BOARD_ESHORT if it does not fit). */
int32_t kws_sh_cmdline(char *buf, size_t len);
/* End the program; `status` becomes qemu-system-arm's exit status (SYS_EXIT_EXTENDED). */
void kws_sh_exit(int32_t status) __attribute__((noreturn));

/* Whole-file helpers: read at most `len` bytes of `path` into `buf`; return bytes read or < 0
 * (KWS_BOARD_ESHORT if the file is longer than `len`). Write `len` bytes to `path`. */
int32_t kws_read_file(const char *path, void *buf, size_t len);
int32_t kws_write_file(const char *path, const void *buf, size_t len);

/* ---- console output through semihosting (SYS_WRITE0 in chunks; text without NULs) ------- */
void kws_puts(const char *s);                 /* no newline added */
void kws_put_i32(int32_t v);                  /* decimal */
void kws_put_u32(uint32_t v);                 /* decimal */
void kws_put_hex32(uint32_t v);               /* 0x%08x */
/* printf-style output of up to 255 characters, without newlib's stdio (which needs a heap):
 * %d %i %u %x (optional 0-padded width, optional l: 32 bits either way), %c, %s, %%. For test
 * programs shared with the host, whose printf it stands in for. */
int kws_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- CMSDK APB timer (TIMER0 at 0x40000000 = IRQ 8, TIMER1 at 0x40001000 = IRQ 9) ------- */
#define KWS_TIMER_CLOCK_HZ 25000000u /* the MPS2 APB clock that drives the timers */

typedef void (*kws_timer_callback)(void *ctx);

/* Caller-owned timer state. While the timer runs, the board keeps a pointer to it so the
 * interrupt handler can call back (the one piece of interrupt-time state; one per timer). */
typedef struct {
  uint32_t index;             /* 0 or 1 */
  kws_timer_callback callback;
  void *ctx;
  volatile uint32_t ticks;    /* interrupts served since kws_timer_start */
} kws_timer_t;

/* Start timer `index` so that it interrupts every `period` clock ticks (period >= 2) and calls
 * `callback(ctx)` from the interrupt. Under qemu -icount the interrupt times are
 * deterministic (virtual time advances with the instruction count). */
int32_t kws_timer_start(kws_timer_t *t, uint32_t index, uint32_t period,
                        kws_timer_callback callback, void *ctx);
int32_t kws_timer_stop(kws_timer_t *t);
/* Free-running tick counter on timer `index` (no interrupt): counts down from 0xFFFFFFFF at
 * KWS_TIMER_CLOCK_HZ. Elapsed ticks between two reads a, b: a - b (mod 2^32). */
int32_t kws_ticker_start(uint32_t index);
uint32_t kws_ticker_read(uint32_t index);
/* Wait for an interrupt (WFI). */
void kws_wait_for_interrupt(void);
void kws_irq_enable(void);
void kws_irq_disable(void);

/* ---- audio delivered by a timer interrupt ---------------------------------------------------
 * Plays `source` (int16 samples) into a caller-owned ring of `ring_len` samples, one block of
 * `block` samples per timer interrupt, like a microphone DMA would; the main loop takes blocks
 * with kws_audio_stream_pop. Blocks arriving while the ring is full are dropped and counted.
 * Period: block * KWS_TIMER_CLOCK_HZ / sample_rate ticks (must be whole). */
typedef struct {
  const int16_t *source;
  uint32_t source_len;
  uint32_t next;               /* next source sample to deliver */
  int16_t *ring;
  uint32_t ring_len;           /* a multiple of block */
  uint32_t block;
  volatile uint32_t head;      /* samples written (IRQ side) */
  volatile uint32_t tail;      /* samples taken (main side) */
  volatile uint32_t dropped;   /* blocks lost to a full ring */
  volatile uint32_t done;      /* 1 once the whole source was delivered */
  kws_timer_t timer;
} kws_audio_stream;

int32_t kws_audio_stream_start(kws_audio_stream *s, const int16_t *source, uint32_t source_len,
                               int16_t *ring, uint32_t ring_len, uint32_t block,
                               uint32_t sample_rate, uint32_t timer_index);
/* Copy the oldest complete block into `out` (block samples); 1 if one was taken, 0 if none is
 * ready, < 0 on error. */
int32_t kws_audio_stream_pop(kws_audio_stream *s, int16_t *out, uint32_t out_len);
int32_t kws_audio_stream_stop(kws_audio_stream *s);

/* ---- stack high-water mark (the stack is painted at reset) -------------------------------- */
/* Bytes of stack ever used since reset (the deepest non-painted word), and the stack size. */
uint32_t kws_stack_high_water(void);
uint32_t kws_stack_size(void);

/* ---- instruction-count markers (tools/qemu-plugin/kws_insn_count.c) ----------------------
 * The plugin counts instructions from entry to kws_mark_start up to (not including) entry to
 * kws_mark_end, one interval per call pair. Both are empty non-inlined functions, so a call
 * costs the BL and the BX LR. kws_mark_start2/kws_mark_end2 give a second, independent pair. */
void kws_mark_start(void);
void kws_mark_end(void);
void kws_mark_start2(void);
void kws_mark_end2(void);

#ifdef __cplusplus
}
#endif
#endif /* KWS_BOARD_H */
