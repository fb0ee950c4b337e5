/*
 * startup.c - reset handler and vector table for mps2-an386 (Cortex-M4F). Our own code.
 * SPDX-License-Identifier: Apache-2.0
 *
 * Reset: enable the FPU (CP10/CP11 full access), copy .data, zero .bss, paint the stack,
 * call main(), and pass its return value to the host as the exit status (hosted programs:
 * newlib stdio opened before main and flushed after it, see hosted.c).
 */
#include <stdint.h>

#include "kws_board.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[], __stack_limit[];

int main(void);
void kws_reset_handler(void) __attribute__((noreturn));
void kws_default_handler(void);
void kws_hardfault_handler(void);
void kws_stack_paint(void);
/* Defined only in hosted programs (hosted.c: newlib stdio); weak, so absent elsewhere. */
void kws_board_start_hook(void) __attribute__((weak));
void kws_board_exit_hook(void) __attribute__((weak));

#define KWS_SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define KWS_SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("kws_default_handler")))
WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(TIMER0_IRQHandler);
WEAK_HANDLER(TIMER1_IRQHandler);

typedef void (*kws_vector)(void);

/* 16 system exceptions + 32 external interrupts (AN386: UARTs 0-7, timers at 8 and 9, ...). */
__attribute__((section(".isr_vector"), used)) const kws_vector kws_vector_table[16 + 32] = {
    (kws_vector)(uintptr_t)__stack_top,
    kws_reset_handler,
    NMI_Handler,
    kws_hardfault_handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    [16 + 0] = kws_default_handler,
    [16 + 1] = kws_default_handler,
    [16 + 2] = kws_default_handler,
    [16 + 3] = kws_default_handler,
    [16 + 4] = kws_default_handler,
    [16 + 5] = kws_default_handler,
    [16 + 6] = kws_default_handler,
    [16 + 7] = kws_default_handler,
    [16 + 8] = TIMER0_IRQHandler,
    [16 + 9] = TIMER1_IRQHandler,
    [16 + 10 ... 16 + 31] = kws_default_handler,
};

void kws_reset_handler(void) {
  KWS_SCB_CPACR |= (0xFu << 20); /* CP10, CP11: full access (FPU on) */
  __asm volatile("dsb\n\tisb" ::: "memory");
  for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;) *d++ = *s++;
  for (uint32_t *d = __bss_start; d < __bss_end;) *d++ = 0u;
  kws_stack_paint();
  if (kws_board_start_hook) kws_board_start_hook();
  const int status = main();
  if (kws_board_exit_hook) kws_board_exit_hook();
  kws_sh_exit(status);
}

void kws_default_handler(void) {
  kws_puts("kws: unexpected exception\n");
  kws_sh_exit(97);
}

void kws_hardfault_handler(void) {
  kws_puts("kws: hard fault, CFSR=");
  kws_put_hex32(KWS_SCB_CFSR);
  kws_puts("\n");
  kws_sh_exit(98);
}
