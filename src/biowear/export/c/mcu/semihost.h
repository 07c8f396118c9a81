/* ARM semihosting calls used by the biowear MCU image (BKPT 0xAB on M-profile; QEMU needs
 * -semihosting-config enable=on). */
#ifndef BIOWEAR_SEMIHOST_H
#define BIOWEAR_SEMIHOST_H

#define SEMIHOST_SYS_WRITE0 0x04
#define SEMIHOST_SYS_EXIT 0x18
#define SEMIHOST_ADP_STOPPED_APPLICATION_EXIT 0x20026 /* QEMU exits with status 0 */
#define SEMIHOST_ADP_STOPPED_RUNTIME_ERROR 0x20023    /* QEMU exits with status 1 */

static inline int semihost_call(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static inline void semihost_write0(const char *text) { semihost_call(SEMIHOST_SYS_WRITE0, text); }

/* Stop the emulator: ok != 0 exits QEMU with status 0, otherwise with status 1. Does not return. */
static inline void semihost_exit(int ok) {
    semihost_call(SEMIHOST_SYS_EXIT, (const void *)(ok ? SEMIHOST_ADP_STOPPED_APPLICATION_EXIT
                                                       : SEMIHOST_ADP_STOPPED_RUNTIME_ERROR));
    for (;;) {
    }
}

#endif
