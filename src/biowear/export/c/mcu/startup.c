/* Minimal Cortex-M4 start-up for QEMU's mps2-an386 board (written by biowear.export.build): the vector table,
 * a reset handler that copies .data from flash, zeroes .bss and calls main, and fault handlers that report
 * through semihosting and stop QEMU instead of hanging. */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
extern int main(void);

void Reset_Handler(void);
void Fault_Handler(void);

__attribute__((used, section(".isr_vector"))) void (*const vector_table[16])(void) = {
    (void (*)(void))(&_estack), /* initial stack pointer */
    Reset_Handler,
    Fault_Handler, /* NMI */
    Fault_Handler, /* HardFault */
    Fault_Handler, /* MemManage */
    Fault_Handler, /* BusFault */
    Fault_Handler, /* UsageFault */
    0, 0, 0, 0,
    Fault_Handler, /* SVCall */
    Fault_Handler, /* DebugMonitor */
    0,
    Fault_Handler, /* PendSV */
    Fault_Handler, /* SysTick */
};

void Reset_Handler(void) {
    uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0u;
    }
    semihost_exit(main() == 0);
}

void Fault_Handler(void) {
    semihost_write0("mcu: fault exception\n");
    semihost_exit(0);
}
