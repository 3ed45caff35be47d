#ifndef STREAMSCORE_ALLOCATION_COUNTER_H
#define STREAMSCORE_ALLOCATION_COUNTER_H

/// Heap allocations (malloc, calloc, realloc, aligned and page-aligned allocations) made
/// by the calling thread since it started. The test binary links this target, whose
/// definitions of the allocator entry points take precedence over glibc's for the whole
/// process; each one counts, then forwards to glibc's own (`__libc_malloc`, ...).
unsigned long streamscore_thread_allocations(void);

#endif
