/* mps2_an386.c - board.h for QEMU's mps2-an386 (Cortex-M4F): vector table, reset, semihosting,
 * CMSDK APB timer 0 (IRQ 8, 25 MHz), stack painting. Minimal and self-contained; no heap. */
#include "board.h"

#include <string.h>

#define SYSCLK_HZ 25000000u

/* ---------------------------------------------------------------- memory map (linker.ld) */
extern uint32_t __data_load__, __data_start__, __data_end__, __bss_start__, __bss_end__;
extern uint32_t __stack_bottom__, __stack_top__;

/* ---------------------------------------------------------------- semihosting */
enum {
    SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE = 0x05, SYS_READ = 0x06,
    SYS_GET_CMDLINE = 0x15, SYS_EXIT_EXTENDED = 0x20
};

static int semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int board_open_read(const char *path)
{
    uint32_t args[3] = {(uint32_t)path, 1u /* "rb" */, (uint32_t)strlen(path)};
    return semihost(SYS_OPEN, args);
}

int board_open_console(int err)
{
    static const char tt[] = ":tt";
    uint32_t args[3] = {(uint32_t)tt, err ? 8u /* "a": stderr */ : 4u /* "w": stdout */, 3u};
    return semihost(SYS_OPEN, args);
}

long board_read(int handle, void *buf, size_t n)
{
    uint32_t args[3] = {(uint32_t)handle, (uint32_t)buf, (uint32_t)n};
    int left = semihost(SYS_READ, args);           /* bytes NOT read */
    return left < 0 || (size_t)left > n ? -1 : (long)(n - (size_t)left);
}

int board_write(int handle, const void *buf, size_t n)
{
    uint32_t args[3] = {(uint32_t)handle, (uint32_t)buf, (uint32_t)n};
    return semihost(SYS_WRITE, args) == 0 ? 0 : -1;
}

int board_close(int handle)
{
    uint32_t args[1] = {(uint32_t)handle};
    return semihost(SYS_CLOSE, args);
}

int board_cmdline(char *buf, size_t n)
{
    uint32_t args[2] = {(uint32_t)buf, (uint32_t)n};
    return semihost(SYS_GET_CMDLINE, args);
}

void board_exit(int status)
{
    uint32_t args[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)status};
    for (;;) {
        (void)semihost(SYS_EXIT_EXTENDED, args);
    }
}

/* ---------------------------------------------------------------- CMSDK timer 0 */
typedef struct {
    volatile uint32_t ctrl, value, reload, intstatus;
} cmsdk_timer;
#define TIMER0 ((cmsdk_timer *)0x40000000u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ICER0 (*(volatile uint32_t *)0xE000E180u)
#define TIMER0_IRQ 8u

/* The one piece of global state: where the timer interrupt goes (set by board_timer_start). */
static struct {
    board_tick_fn fn;
    void *ctx;
} g_tick;

void TIMER0_Handler(void)
{
    TIMER0->intstatus = 1u;                        /* clear */
    if (g_tick.fn != NULL) {
        g_tick.fn(g_tick.ctx);
    }
}

int board_timer_start(uint32_t period_us, board_tick_fn fn, void *ctx)
{
    if (fn == NULL || period_us == 0u) {
        return -1;
    }
    g_tick.fn = fn;
    g_tick.ctx = ctx;
    TIMER0->ctrl = 0u;
    TIMER0->reload = (SYSCLK_HZ / 1000000u) * period_us - 1u;
    TIMER0->value = TIMER0->reload;
    TIMER0->intstatus = 1u;
    NVIC_ISER0 = 1u << TIMER0_IRQ;
    TIMER0->ctrl = 1u | 8u;                        /* enable, interrupt enable */
    return 0;
}

void board_timer_stop(void)
{
    TIMER0->ctrl = 0u;
    NVIC_ICER0 = 1u << TIMER0_IRQ;
}

void board_irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
void board_irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
void board_wait_for_interrupt(void) { __asm__ volatile("wfi" ::: "memory"); }

/* ---------------------------------------------------------------- stack painting */
#define STACK_PAINT 0xC5C5C5C5u

void board_stack_paint(void)
{
    uint32_t *p = &__stack_bottom__;
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    while (p < sp - 16) {                          /* leave the live frame alone */
        *p++ = STACK_PAINT;
    }
}

size_t board_stack_high_water(void)
{
    const uint32_t *p = &__stack_bottom__;
    while (p < &__stack_top__ && *p == STACK_PAINT) {
        p++;
    }
    return (size_t)((const uint8_t *)&__stack_top__ - (const uint8_t *)p);
}

size_t board_stack_size(void)
{
    return (size_t)((const uint8_t *)&__stack_top__ - (const uint8_t *)&__stack_bottom__);
}

void board_init(void)
{
    /* FPU: full access to CP10/CP11 */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
}

/* ---------------------------------------------------------------- reset and vectors */
int main(void);

void Reset_Handler(void)
{
    uint32_t *src = &__data_load__, *dst = &__data_start__;
    while (dst < &__data_end__) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0u;
    }
    board_init();
    board_exit(main());
}

static void Fault_Handler(void)
{
    board_exit(3);
}

__attribute__((section(".vectors"), used))
static void (*const g_vectors[16 + 32])(void) = {
    (void (*)(void))(&__stack_top__), Reset_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    [16 + TIMER0_IRQ] = TIMER0_Handler,
};
