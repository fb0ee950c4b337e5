/* board.h - what the wake-word app needs from a board: file I/O to the host (the QEMU
 * "microphone" and the console), a periodic timer interrupt, interrupt masking, sleep, exit,
 * and stack painting. board/mps2_an386.c implements it for QEMU's mps2-an386 (Cortex-M4F). */
#ifndef KWS_BOARD_H
#define KWS_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void board_init(void);

/* Host files over semihosting. Return a handle >= 0, or -1. */
int board_open_read(const char *path);
int board_open_console(int err);            /* stdout (err = 0) or stderr (err = 1) */
/* Read up to n bytes; returns bytes read (0 at end of file), -1 on error. */
long board_read(int handle, void *buf, size_t n);
int board_write(int handle, const void *buf, size_t n);
int board_close(int handle);
/* The command line the host passed (QEMU -semihosting-config arg=...); 0 ok. */
int board_cmdline(char *buf, size_t n);

/* Call fn(ctx) from the timer interrupt every `period_us` microseconds of (virtual) time. */
typedef void (*board_tick_fn)(void *ctx);
int board_timer_start(uint32_t period_us, board_tick_fn fn, void *ctx);
void board_timer_stop(void);

void board_irq_disable(void);
void board_irq_enable(void);
void board_wait_for_interrupt(void);       /* wakes on a pending interrupt even when masked */

/* Fill the unused stack with a pattern; later, the deepest byte that was written. */
void board_stack_paint(void);
size_t board_stack_high_water(void);       /* bytes of stack used at the deepest point */
size_t board_stack_size(void);

void board_exit(int status) __attribute__((noreturn));

#ifdef __cplusplus
}
#endif
#endif /* KWS_BOARD_H */
