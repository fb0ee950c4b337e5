/* startup.c - a minimal QEMU mps2-an386 (Cortex-M4F) start for testing an exported library's
 * example as a plain C program: newlib with semihosting (rdimon) gives it fopen/printf/exit.
 * The example reads "input.wav" from QEMU's working directory. Test-only. */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern int main(int argc, char **argv);
extern void initialise_monitor_handles(void);

void kws_test_reset(void);
void kws_test_fault(void);

void kws_test_reset(void)
{
    static char name[] = "wav_detect", arg[] = "input.wav";
    static char *argv[] = {name, arg, 0};
    uint32_t *d = &__data_start, *s = &__data_load;
    while (d < &__data_end) {
        *d++ = *s++;
    }
    for (d = &__bss_start; d < &__bss_end; d++) {
        *d = 0u;
    }
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;   /* CPACR: enable the FPU */
    __asm__ volatile("dsb\n\tisb");
    initialise_monitor_handles();
    exit(main(2, argv));
}

void kws_test_fault(void)
{
    exit(3);
}

__attribute__((section(".isr_vector"), used)) static const void *const vectors[16] = {
    &__stack_top, (const void *)kws_test_reset, (const void *)kws_test_fault,
    (const void *)kws_test_fault, (const void *)kws_test_fault, (const void *)kws_test_fault,
    (const void *)kws_test_fault, 0, 0, 0, 0, (const void *)kws_test_fault,
    (const void *)kws_test_fault, 0, (const void *)kws_test_fault,
    (const void *)kws_test_fault};
