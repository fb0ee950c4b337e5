/* timer_irq.c - the TIMER0 interrupt fires every `period` ticks while main() spins; each IRQ
 * records the spin counter's value. Under qemu -icount the list is the same on every run.
 * Prints "ticks=<n> period=<p>" and one "irq <k> <counter>" line per interrupt.
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "kws_board.h"

#define KWS_N_IRQ 20u

typedef struct {
  volatile uint32_t spin;
  uint32_t seen[KWS_N_IRQ];
  volatile uint32_t n;
} timer_log;

static void on_tick(void *ctx) {
  timer_log *log = (timer_log *)ctx;
  if (log->n < KWS_N_IRQ) log->seen[log->n] = log->spin;
  log->n++;
}

int kws_app_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  static timer_log log;
  kws_timer_t timer;
  const uint32_t period = 25000u; /* 1 ms at 25 MHz */
  if (kws_timer_start(&timer, 0u, period, on_tick, &log) != 0) return 2;
  kws_irq_enable();
  while (log.n < KWS_N_IRQ) log.spin++;
  (void)kws_timer_stop(&timer);
  kws_puts("ticks=");
  kws_put_u32(timer.ticks);
  kws_puts(" period=");
  kws_put_u32(period);
  kws_puts("\n");
  for (uint32_t i = 0; i < KWS_N_IRQ; ++i) {
    kws_puts("irq ");
    kws_put_u32(i);
    kws_puts(" ");
    kws_put_u32(log.seen[i]);
    kws_puts("\n");
  }
  return 0;
}
