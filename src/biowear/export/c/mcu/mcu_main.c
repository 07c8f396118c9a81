/* Runs the windows embedded in windows.h through the model on the Cortex-M4 (written by biowear.export.build).
 *
 * Output, through semihosting: one line per window with the MODEL_OUTPUTS int8 output codes, space-separated;
 * then "# stack_high_water BYTES" (the deepest stack model_run touched, measured by painting the stack below
 * main's frame with a pattern before each call and scanning for the lowest overwritten word afterwards; BYTES
 * equal to MCU_STACK_PAINT_BYTES means "at least") and "# done N". QEMU then exits through semihosting. */
#include <stdint.h>
#include <stdio.h>

#include "model.h"
#include "semihost.h"
#include "windows.h"

#ifndef MCU_STACK_PAINT_BYTES
#define MCU_STACK_PAINT_BYTES 65536u
#endif
#define MCU_STACK_PATTERN 0xA5C3E1F7u

extern void initialise_monitor_handles(void);
extern char end; /* start of the heap (linker script); the painted area must stay above it */

static int8_t input[MODEL_INPUT_SIZE];
static int8_t output[MODEL_OUTPUTS];

static inline uint32_t current_sp(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

int main(void) {
    uint32_t high_water = 0u;
    unsigned w;
    initialise_monitor_handles();
    for (w = 0; w < MCU_N_WINDOWS; ++w) {
        volatile uint32_t *lo, *hi, *p;
        uint32_t sp, used;
        int k;
        model_quantize_input(mcu_windows[w], input);
        /* Paint inline (no call) so that nothing below this frame is live while the pattern is written. */
        sp = current_sp() & ~3u;
        lo = (volatile uint32_t *)(sp - MCU_STACK_PAINT_BYTES);
        if ((uintptr_t)lo < (uintptr_t)&end + 4096u) {
            lo = (volatile uint32_t *)(((uintptr_t)&end + 4096u) & ~(uintptr_t)3u);
        }
        hi = (volatile uint32_t *)sp;
        for (p = lo; p < hi; ++p) {
            *p = MCU_STACK_PATTERN;
        }
        model_run(input, output);
        for (p = lo; p < hi && *p == MCU_STACK_PATTERN; ++p) {
        }
        used = sp - (uint32_t)(uintptr_t)p;
        if (used > high_water) {
            high_water = used;
        }
        for (k = 0; k < MODEL_OUTPUTS; ++k) {
            printf(k ? " %d" : "%d", (int)output[k]);
        }
        printf("\n");
    }
    printf("# stack_high_water %lu\n", (unsigned long)high_water);
    printf("# done %u\n", (unsigned)MCU_N_WINDOWS);
    fflush(stdout);
    return 0;
}
