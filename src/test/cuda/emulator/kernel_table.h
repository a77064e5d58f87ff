// The interface between the kernel translation unit (kernels.cpp: continuum.cu compiled for the CPU) and the
// driver (emulated_cuda.cpp). Kept free of CUDA and shim headers: the two units see different macro worlds.
#pragma once

struct ContinuumEmuKernel {
    const char* name;
    // dims = grid x, y, z, block x, y, z; params = cuLaunchKernel's kernelParams (one pointer per parameter).
    // Returns 0 when every block ran to completion, 1 when a block deadlocked at a barrier or could not start.
    int (*run)(const unsigned* dims, void** params);
    unsigned arity;
};

extern "C" {
__attribute__((visibility("hidden"))) extern const ContinuumEmuKernel continuum_emu_kernels[];
__attribute__((visibility("hidden"))) extern const unsigned continuum_emu_kernel_count;
__attribute__((visibility("hidden"))) unsigned continuum_emu_worker_threads();
}
