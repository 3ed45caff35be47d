// Header-only target: see include/CSIMD.h.
