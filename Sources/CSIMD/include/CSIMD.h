#ifndef STREAMSCORE_CSIMD_H
#define STREAMSCORE_CSIMD_H

// The calling thread's floating-point mode for scoring: subnormal inputs read as zero and
// subnormal results become zero (x86: MXCSR's DAZ and FTZ; AArch64: FPCR.FZ), because x86
// takes a microcode assist of ~100 cycles on every subnormal operand or result. Returns
// the previous mode, for `streamscore_flush_denormals_end`, which restores it.
unsigned long streamscore_flush_denormals_begin(void);
void streamscore_flush_denormals_end(unsigned long saved);

// x86 AVX2 gathers for Inference's tree walk (TreeEnsemble+Vector.swift). Clang defines the gather intrinsics as
// function-like macros, which Swift cannot import; these inline wrappers can be. They
// exist only when the including Swift code is compiled for a CPU with AVX2 (the Makefile's
// release build: -target-cpu haswell), and Swift uses them only under STREAMSCORE_AVX2.
#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

/// base[index[i]] for each of the eight lanes (floats).
static inline __attribute__((always_inline)) __m256 streamscore_gather_f32(const float *base, __m256i index) {
    return _mm256_i32gather_ps(base, index, 4);
}
/// Gathers eight 64-bit nodes (low word: packed node, high word: threshold bits) with two
/// four-lane 64-bit gathers, and stores their low words to `packed[0..<8]` and high words
/// to `threshold[0..<8]`, in lane order (inlined, the stores stay in registers).
static inline __attribute__((always_inline)) void streamscore_gather_nodes(
    const long long *base, __m256i index, int *packed, float *threshold) {
    __m256i low = _mm256_i32gather_epi64(base, _mm256_castsi256_si128(index), 8);
    __m256i high = _mm256_i32gather_epi64(base, _mm256_extracti128_si256(index, 1), 8);
    // shuffle_ps interleaves 128-bit halves: (0,1,4,5 | 2,3,6,7); permute4x64 restores 0..7.
    __m256 even = _mm256_shuffle_ps(_mm256_castsi256_ps(low), _mm256_castsi256_ps(high), 0x88);
    __m256 odd = _mm256_shuffle_ps(_mm256_castsi256_ps(low), _mm256_castsi256_ps(high), 0xDD);
    _mm256_storeu_si256((__m256i *)packed, _mm256_permute4x64_epi64(_mm256_castps_si256(even), 0xD8));
    _mm256_storeu_si256((__m256i *)threshold, _mm256_permute4x64_epi64(_mm256_castps_si256(odd), 0xD8));
}
#endif

#endif
