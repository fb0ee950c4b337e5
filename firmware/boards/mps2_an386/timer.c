/*
 * timer.c - CMSDK APB timer driver with interrupt (mps2-an386: TIMER0 IRQ 8, TIMER1 IRQ 9).
 * SPDX-License-Identifier: Apache-2.0
 *
 * The timer counts VALUE down at KWS_TIMER_CLOCK_HZ; at zero it raises its interrupt and
 * reloads from RELOAD, so the period is RELOAD + 1 ticks.
 */
#include <stddef.h>
#include <stdint.h>

#include "kws_board.h"

typedef struct {
  volatile uint32_t ctrl;      /* 0x00: bit0 enable, bit3 interrupt enable */
  volatile uint32_t value;     /* 0x04 */
  volatile uint32_t reload;    /* 0x08 */
  volatile uint32_t intstatus; /* 0x0C: read status, write 1 to clear */
} kws_cmsdk_timer_regs;

#define KWS_TIMER_CTRL_EN 0x1u
#define KWS_TIMER_CTRL_IRQEN 0x8u
#define KWS_NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define KWS_NVIC_ICER0 (*(volatile uint32_t *)0xE000E180u)
#define KWS_NVIC_ICPR0 (*(volatile uint32_t *)0xE000E280u)

static kws_cmsdk_timer_regs *kws_timer_regs(uint32_t index) {
  return (kws_cmsdk_timer_regs *)(uintptr_t)(0x40000000u + 0x1000u * index);
}

/* The interrupt handlers need to find the caller's state: one pointer per hardware timer. */
static kws_timer_t *kws_active_timer[2];

int32_t kws_timer_start(kws_timer_t *t, uint32_t index, uint32_t period,
                        kws_timer_callback callback, void *ctx) {
  if (t == NULL || callback == NULL) return KWS_BOARD_ENULL;
  if (index > 1u || period < 2u) return KWS_BOARD_ECONFIG;
  kws_cmsdk_timer_regs *r = kws_timer_regs(index);
  t->index = index;
  t->callback = callback;
  t->ctx = ctx;
  t->ticks = 0u;
  r->ctrl = 0u;
  r->intstatus = 1u;
  kws_active_timer[index] = t;
  r->reload = period - 1u;
  r->value = period - 1u;
  KWS_NVIC_ICPR0 = 1u << (8u + index);
  KWS_NVIC_ISER0 = 1u << (8u + index);
  r->ctrl = KWS_TIMER_CTRL_EN | KWS_TIMER_CTRL_IRQEN;
  return KWS_BOARD_OK;
}

int32_t kws_timer_stop(kws_timer_t *t) {
  if (t == NULL) return KWS_BOARD_ENULL;
  if (t->index > 1u) return KWS_BOARD_ECONFIG;
  kws_cmsdk_timer_regs *r = kws_timer_regs(t->index);
  r->ctrl = 0u;
  r->intstatus = 1u;
  KWS_NVIC_ICER0 = 1u << (8u + t->index);
  kws_active_timer[t->index] = NULL;
  return KWS_BOARD_OK;
}

int32_t kws_ticker_start(uint32_t index) {
  if (index > 1u) return KWS_BOARD_ECONFIG;
  if (kws_active_timer[index] != NULL) return KWS_BOARD_ECONFIG; /* in use with an IRQ */
  kws_cmsdk_timer_regs *r = kws_timer_regs(index);
  r->ctrl = 0u;
  r->reload = 0xFFFFFFFFu;
  r->value = 0xFFFFFFFFu;
  r->ctrl = KWS_TIMER_CTRL_EN;
  return KWS_BOARD_OK;
}

uint32_t kws_ticker_read(uint32_t index) { return index > 1u ? 0u : kws_timer_regs(index)->value; }

static void kws_timer_irq(uint32_t index) {
  kws_timer_regs(index)->intstatus = 1u;
  kws_timer_t *t = kws_active_timer[index];
  if (t != NULL) {
    t->ticks++;
    t->callback(t->ctx);
  }
}

void TIMER0_IRQHandler(void) { kws_timer_irq(0u); }
void TIMER1_IRQHandler(void) { kws_timer_irq(1u); }

void kws_wait_for_interrupt(void) { __asm volatile("wfi" ::: "memory"); }
void kws_irq_enable(void) { __asm volatile("cpsie i" ::: "memory"); }
void kws_irq_disable(void) { __asm volatile("cpsid i" ::: "memory"); }
