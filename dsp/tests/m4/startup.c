/* Minimal Cortex-M4 start-up for the front-end checks under QEMU (mps2-an386): a vector table at
 * 0x0, FPU on, then newlib's rdimon crt0 (_start: .bss, semihosting stdio, main, exit). */
#include <stdint.h>
extern void _start(void);
void Reset_Handler(void);
void Reset_Handler(void)
{
    *(volatile uint32_t *)0xE000ED88 |= (0xFu << 20); /* CPACR: enable CP10/CP11 (FPU) */
    __asm volatile("dsb\n isb");
    _start();
    for (;;) {}
}
static void Fault_Handler(void) { for (;;) {} }
__attribute__((section(".vectors"), used)) const void *vectors[16] = {
    (void *)0x00400000, (void *)Reset_Handler, (void *)Fault_Handler, (void *)Fault_Handler,
    (void *)Fault_Handler, (void *)Fault_Handler, (void *)Fault_Handler};
