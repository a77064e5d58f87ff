// Runs the CUDA C kernels of src/main/cuda/continuum.cu on the CPU (compile with -DCONTINUUM_CPU_SHIM, g++
// -std=c++20, -I/usr/local/cuda/include for CUDA's host-compilable cuda_fp16.h / vector types).
//
// The built-ins and intrinsics the kernels use are defined here over a small executor interface (the hooks of the
// kernel ABI, src/main/cuda/README.md):
//   namespace shim {
//     dim3& thread_idx(); dim3& block_idx(); dim3& block_dim(); dim3& grid_dim();  // of the calling CUDA thread
//     void block_barrier();   // __syncthreads: threads that have returned no longer count
//     void warp_barrier();    // __syncwarp of the caller's warp (threads that have returned no longer count)
//     uint64_t* warp_slots(); // 64 exchange slots of the caller's warp, for shuffles (two sets of 32)
//     unsigned& lane_phase(); // the calling CUDA thread's shuffle count in this block, 0 at its start
//     template <class F> void launch(dim3 grid, dim3 block, F&& body);  // body() once per CUDA thread
//   }
//   SHIM_SHARED             // what __shared__ expands to: storage private to the running block
// Two executors provide them: the threaded one below (one std::thread per CUDA thread, blocks one after another,
// __shared__ = function static), used by the kernel unit tests under ASan/UBSan because every CUDA thread is a
// real thread the sanitizers see; and the fiber executor (fiber_executor.h, with -DCONTINUUM_SHIM_FIBERS), used
// by the emulated driver where speed matters.
//
// What a clean run here cannot show: performance, coalescing, GPU memory-ordering or lockstep-timing bugs,
// tensor-core rounding (WMMA accumulates in ordinary float here), register and shared-memory limits.
#pragma once
#include <cuda_fp16.h>   // half, __half2float, __float2half, half2: host-compilable
#include <vector_types.h>
#include <vector_functions.h>
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>
using std::max;
using std::min;

#undef __global__
#undef __device__
#undef __forceinline__
#undef __shared__
#undef __align__
#undef __launch_bounds__
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

#ifdef CONTINUUM_SHIM_FIBERS
#include "fiber_executor.h"
#else
// ---- Threaded executor ---------------------------------------------------------------------------------------
namespace shim {
struct Warp {
    explicit Warp(std::ptrdiff_t n) : bar(n) {}
    std::barrier<> bar;
    uint64_t slot[64] = {};
};
struct Block {
    std::unique_ptr<std::barrier<>> bar;
    std::vector<std::unique_ptr<Warp>> warps;
};
namespace detail {
inline thread_local dim3 t_idx;
inline thread_local Block* t_block = nullptr;
inline thread_local dim3 t_bidx, t_bdim, t_gdim;
inline thread_local unsigned t_phase = 0;
inline unsigned linear_tid() {
    return t_idx.x + t_idx.y * t_bdim.x + t_idx.z * t_bdim.x * t_bdim.y;
}
inline Warp& warp() { return *t_block->warps[linear_tid() >> 5]; }
}  // namespace detail
inline dim3& thread_idx() { return detail::t_idx; }
inline dim3& block_idx() { return detail::t_bidx; }
inline dim3& block_dim() { return detail::t_bdim; }
inline dim3& grid_dim() { return detail::t_gdim; }
inline void block_barrier() { detail::t_block->bar->arrive_and_wait(); }
inline void warp_barrier() { detail::warp().bar.arrive_and_wait(); }
inline uint64_t* warp_slots() { return detail::warp().slot; }
inline unsigned& lane_phase() { return detail::t_phase; }

// Blocks run one after another (so a function-static is private to the running block); a block's threads all run
// at once. A thread that returns drops out of its block's and its warp's barriers, as an exited GPU thread does.
// The OS threads are created once per launch and reused for every block: between blocks they meet at a launch
// barrier whose completion step installs the next block's fresh barriers (creating threads per block made the
// kernel tests spend most of their time in the kernel).
template <class F> void launch(dim3 grid, dim3 block, F&& body) {
    const unsigned n = block.x * block.y * block.z;
    const unsigned long total = (unsigned long) grid.x * grid.y * grid.z;
    if (n == 0 || total == 0) return;
    Block blk;
    unsigned long current = 0;
    auto fresh = [&] {
        blk.bar = std::make_unique<std::barrier<>>(n);
        blk.warps.clear();
        for (unsigned w = 0; w < (n + 31) / 32; w++) blk.warps.push_back(std::make_unique<Warp>(std::min(32u, n - w * 32)));
    };
    fresh();
    auto next = [&]() noexcept {
        if (++current < total) fresh();
    };
    std::barrier<decltype(next)> between(n, next);
    std::vector<std::thread> ts;
    ts.reserve(n);
    for (unsigned t = 0; t < n; t++)
        ts.emplace_back([&, t] {
            detail::t_idx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
            detail::t_bdim = block;
            detail::t_gdim = grid;
            detail::t_block = &blk;
            while (current < total) {   // read after the launch barrier: every thread sees the same value
                const unsigned long b = current;
                detail::t_bidx = dim3(b % grid.x, (b / grid.x) % grid.y, b / ((unsigned long) grid.x * grid.y));
                detail::t_phase = 0;
                body();
                blk.bar->arrive_and_drop();
                blk.warps[t >> 5]->bar.arrive_and_drop();
                between.arrive_and_wait();
            }
        });
    for (auto& t : ts) t.join();
}
}  // namespace shim
#define SHIM_SHARED static
#endif

// ---- Built-ins over the hooks --------------------------------------------------------------------------------
#define __shared__ SHIM_SHARED
#define threadIdx (shim::thread_idx())
#define blockIdx (shim::block_idx())
#define blockDim (shim::block_dim())
#define gridDim (shim::grid_dim())

inline unsigned shim_lane() {
    const dim3& t = shim::thread_idx();
    const dim3& b = shim::block_dim();
    return (t.x + t.y * b.x + t.z * b.x * b.y) & 31u;
}
inline void __syncthreads() { shim::block_barrier(); }
inline void __syncwarp(unsigned = 0xffffffffu) { shim::warp_barrier(); }

// Shuffles: every lane publishes its value, a barrier, every lane reads its partner's. Shuffle k of a block uses
// slot set k % 2, so no second barrier is needed before the next shuffle may write: a lane writes set k % 2 again
// only at shuffle k + 2, after the barrier of shuffle k + 1, which every lane reaches only once it has read at
// shuffle k. (One barrier per shuffle instead of two: shuffles are most of the emulated device's time.) Full-warp
// masks only, as the kernels use; every lane of a warp runs the same shuffles, so their counts agree.
template <class T> T __shfl_xor_sync(unsigned, T v, int mask) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "shuffle of at most 8 bytes");
    unsigned& phase = shim::lane_phase();
    uint64_t* slots = shim::warp_slots() + 32 * (phase++ & 1u);
    const unsigned lane = shim_lane();
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    slots[lane] = bits;
    shim::warp_barrier();
    const uint64_t got = slots[lane ^ (unsigned) mask];
    T r;
    std::memcpy(&r, &got, sizeof(T));
    return r;
}

template <class T> inline T __ldg(const T* p) { return *p; }
inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int) (int8_t) (a >> (8 * i)) * (int) (int8_t) (b >> (8 * i));
    return c;
}
// IEEE round-to-nearest float operations: the host's float arithmetic is exactly that (SSE, and the kernels'
// build uses -ffp-contract=off so nothing is fused).
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float a) { return 1.f / a; }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }

// ---- WMMA subset: m16n16k16, half inputs, float accumulator ------------------------------------------------
// A and B fragments are held whole by every lane. The accumulator is distributed as on the GPU: lane l owns the
// elements e with e % 32 == l, and mma_sync computes only those (32 times less work than every lane doing all);
// store_matrix_sync writes each lane's own elements and then synchronises the warp. Accumulator fragments are
// only ever filled, multiplied into and stored, so nothing reads an element another lane owns.
namespace nvcuda { namespace wmma {
struct row_major {}; struct col_major {}; struct matrix_a {}; struct matrix_b {}; struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };
template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "only m16n16k16");
    T x[16 * 16];   // the logical 16x16 matrix, [row][col]
};
template <class Use, class T, class L>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const T* p, unsigned ld) {
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++) f.x[r * 16 + c] = std::is_same_v<L, row_major> ? p[r * ld + c] : p[c * ld + r];
}
template <class T> void fill_fragment(fragment<accumulator, 16, 16, 16, T>& f, T v) {
    for (auto& e : f.x) e = v;
}
template <class LA, class LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d, const fragment<matrix_a, 16, 16, 16, half, LA>& a,
              const fragment<matrix_b, 16, 16, 16, half, LB>& b, const fragment<accumulator, 16, 16, 16, float>& c) {
    for (unsigned e = shim_lane(); e < 256; e += 32) {
        const unsigned i = e / 16, j = e % 16;
        float s = c.x[e];
        for (int k = 0; k < 16; k++) s += __half2float(a.x[i * 16 + k]) * __half2float(b.x[k * 16 + j]);
        d.x[e] = s;
    }
}
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f, unsigned ld, layout_t l) {
    for (unsigned e = shim_lane(); e < 256; e += 32) {
        const unsigned r = e / 16, c = e % 16;
        (l == mem_row_major ? p[r * ld + c] : p[c * ld + r]) = f.x[e];
    }
    shim::warp_barrier();
}
}}  // namespace nvcuda::wmma
