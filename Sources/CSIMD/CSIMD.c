// The gathers are header-only (include/CSIMD.h); the floating-point mode is here.
#include "CSIMD.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
// MXCSR: flush-to-zero (bit 15) and denormals-are-zero (bit 6).
static const unsigned int flushBits = 0x8040;

unsigned long streamscore_flush_denormals_begin(void) {
    unsigned int saved = _mm_getcsr();
    _mm_setcsr(saved | flushBits);
    return saved;
}

void streamscore_flush_denormals_end(unsigned long saved) {
    _mm_setcsr((unsigned int)saved);
}
#elif defined(__aarch64__)
// FPCR: flush-to-zero (bit 24) covers both inputs and results on AArch64.
unsigned long streamscore_flush_denormals_begin(void) {
    unsigned long saved;
    __asm__ volatile("mrs %0, fpcr" : "=r"(saved));
    __asm__ volatile("msr fpcr, %0" : : "r"(saved | (1UL << 24)));
    return saved;
}

void streamscore_flush_denormals_end(unsigned long saved) {
    __asm__ volatile("msr fpcr, %0" : : "r"(saved));
}
#else
unsigned long streamscore_flush_denormals_begin(void) { return 0; }
void streamscore_flush_denormals_end(unsigned long saved) { (void)saved; }
#endif
