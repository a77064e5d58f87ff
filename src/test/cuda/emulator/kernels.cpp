// The project's kernels compiled for the CPU, and their name -> trampoline table (from the CONTINUUM_KERNELS
// X-macro at the end of continuum.cu). Built by build.sh with -DCONTINUUM_CPU_SHIM -DCONTINUUM_SHIM_FIBERS and
// -DCONTINUUM_CU='"/path/to/continuum.cu"'.
#include "fiber_executor.h"

#ifndef CONTINUUM_CU
#error "define CONTINUUM_CU as the quoted path of continuum.cu"
#endif
#include CONTINUUM_CU

#ifndef CONTINUUM_KERNELS
#error "continuum.cu defines no CONTINUUM_KERNELS(X) list under CONTINUUM_CPU_SHIM (see gpu-abi.md)"
#endif

#include "kernel_table.h"

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace {

// Unpacks cuLaunchKernel's void** kernelParams into the kernel's typed parameters: parameter I is read from
// *(T_I*) params[I], as the real driver copies sizeof(T_I) bytes from params[I].
template <class Fn> struct Trampoline;
template <class... A> struct Trampoline<void(A...)> {
    static constexpr unsigned arity = sizeof...(A);

    template <void (*K)(A...)> static int run(const unsigned* d, void** params) {
        return invoke<K>(d, params, std::index_sequence_for<A...>{});
    }

    template <void (*K)(A...), std::size_t... I>
    static int invoke(const unsigned* d, [[maybe_unused]] void** params, std::index_sequence<I...>) {
        std::tuple<std::decay_t<A>...> args{*static_cast<const std::decay_t<A>*>(params[I])...};
        const bool ok = shim::launch(dim3(d[0], d[1], d[2]), dim3(d[3], d[4], d[5]), [&args] { std::apply(K, args); });
        return ok ? 0 : 1;
    }
};

}  // namespace

#define CONTINUUM_EMU_ENTRY(name) \
    {#name, &Trampoline<decltype(name)>::template run<&name>, Trampoline<decltype(name)>::arity},

extern "C" {
const ContinuumEmuKernel continuum_emu_kernels[] = {CONTINUUM_KERNELS(CONTINUUM_EMU_ENTRY)};
const unsigned continuum_emu_kernel_count = sizeof(continuum_emu_kernels) / sizeof(continuum_emu_kernels[0]);
unsigned continuum_emu_worker_threads() { return shim::fiber::Pool::get().size(); }
}
