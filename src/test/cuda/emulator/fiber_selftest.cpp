// Self-test and micro benchmark of the fiber executor (src/test/cuda/shim/fiber_executor.h), without the shim:
//   g++ -std=c++20 -O2 -I/usr/local/cuda/include -I../shim fiber_selftest.cpp -o /tmp/fiber_selftest && /tmp/fiber_selftest
// build.sh runs it once per input hash (cheap) and prints its figures; exit status != 0 on any failure.
#include "fiber_executor.h"

#include <chrono>
#include <cmath>
#include <cstring>

static int failures = 0;
#define CHECK(c, ...) do { if (!(c)) { std::printf("FAIL %s:%d: ", __FILE__, __LINE__); std::printf(__VA_ARGS__); std::printf("\n"); failures++; } } while (0)

static uint64_t shfl_xor(uint64_t v, int mask) {
    uint64_t* s = shim::warp_slots();
    unsigned lane = shim::thread_idx().x & 31;
    s[lane] = v;
    shim::warp_barrier();
    uint64_t r = s[lane ^ mask];
    shim::warp_barrier();
    return r;
}

int main() {
    // 1. Thread/block indices and 3-D decomposition: every (block, thread) runs exactly once.
    {
        dim3 grid(3, 2, 2), block(8, 4, 2);
        std::vector<std::atomic<int>> hits(12 * 64);
        bool ok = shim::launch(grid, block, [&] {
            dim3 t = shim::thread_idx(), b = shim::block_idx();
            unsigned bl = b.x + 3 * (b.y + 2 * b.z), tl = t.x + 8 * (t.y + 4 * t.z);
            if (shim::block_dim().x == 8 && shim::grid_dim().z == 2) hits[bl * 64 + tl]++;
        });
        int bad = 0;
        for (auto& h : hits) bad += h.load() != 1;
        CHECK(ok && bad == 0, "indices: ok=%d bad=%d", ok, bad);
    }
    // 2. Block barrier with early returns and block-private shared memory while blocks run in parallel.
    {
        const unsigned blocks = 64, threads = 200;
        std::vector<int> out(blocks * threads, -1);
        bool ok = shim::launch(dim3(blocks), dim3(threads), [&] {
            SHIM_SHARED int sh[256];
            unsigned t = shim::thread_idx().x, b = shim::block_idx().x;
            if (t % 7 == 3) { out[b * threads + t] = -2; return; }  // returned threads stop counting
            sh[t] = (int) (b * 1000 + t);
            shim::block_barrier();
            unsigned peer = (t + 1) % threads;
            while (peer % 7 == 3) peer = (peer + 1) % threads;
            int v = sh[peer];
            shim::block_barrier();
            sh[t] = -1;
            shim::block_barrier();
            out[b * threads + t] = v;
        });
        int bad = 0;
        for (unsigned b = 0; b < blocks; b++)
            for (unsigned t = 0; t < threads; t++) {
                unsigned peer = (t + 1) % threads;
                while (peer % 7 == 3) peer = (peer + 1) % threads;
                int want = t % 7 == 3 ? -2 : (int) (b * 1000 + peer);
                bad += out[b * threads + t] != want;
            }
        CHECK(ok && bad == 0, "block barrier/shared: ok=%d bad=%d", ok, bad);
    }
    // 3. Warp shuffles (xor butterfly sum), partial last warp, lanes returning before the shuffle.
    {
        const unsigned threads = 80;  // warps of 32, 32, 16
        std::vector<uint64_t> out(threads, 0);
        bool ok = shim::launch(dim3(5), dim3(threads), [&] {
            unsigned t = shim::thread_idx().x;
            if (t >= 64 + 12) return;  // last warp: lanes 12..15 have returned
            uint64_t v = t;
            for (int o = 16; o > 0; o >>= 1) {
                uint64_t r = shfl_xor(v, o);
                unsigned partner = t ^ o;
                bool live = partner < threads && partner < 76 && (partner >> 5) == (t >> 5);
                v += live ? r : 0;
            }
            if (shim::block_idx().x == 0) out[t] = v;
        });
        int bad = 0;
        for (unsigned t = 0; t < 64; t++) bad += out[t] != (t < 32 ? 496u : 32u * 32 + 496u);
        CHECK(ok && bad == 0, "warp shuffle: ok=%d bad=%d (out[0]=%llu)", ok, bad, (unsigned long long) out[0]);
    }
    // 4. A barrier one live thread never reaches: the launch fails instead of hanging.
    {
        bool ok = shim::launch(dim3(4), dim3(64), [&] {
            if (shim::thread_idx().x == 5) { shim::warp_barrier(); return; }
            shim::block_barrier();
        });
        // Thread 5 waits at its warp barrier, which the rest of warp 0 never reaches (they wait at the block
        // barrier, which thread 5 never reaches): deadlock.
        CHECK(!ok, "deadlock not reported");
        bool ok2 = shim::launch(dim3(2), dim3(32), [] { shim::block_barrier(); });
        CHECK(ok2, "launch after a failed one");
    }
    // 5. Floating-point control state is per fiber: a fiber that sets round-toward-zero does not leak it.
    {
        std::vector<float> out(64);
        bool ok = shim::launch(dim3(1), dim3(64), [&] {
            unsigned t = shim::thread_idx().x;
            if (t == 0) { unsigned csr; asm volatile("stmxcsr %0" : "=m"(csr)); csr |= 0x6000; asm volatile("ldmxcsr %0" :: "m"(csr)); }
            shim::block_barrier();
            volatile float a = 1.0f, b = 3.0f;
            out[t] = a / b;
        });
        int bad = 0;
        for (unsigned t = 1; t < 64; t++) bad += out[t] != 1.0f / 3.0f;
        CHECK(ok && bad == 0 && out[0] != 1.0f / 3.0f, "MXCSR isolation: bad=%d", bad);
    }
    // 6. Micro benchmark: one block of 128 threads, warp barriers only (each is a switch per waiting lane), on
    // one worker. Then a whole-pool figure with many blocks.
    {
        const int iters = 20000;
        auto t0 = std::chrono::steady_clock::now();
        shim::launch(dim3(1), dim3(128), [&] { for (int i = 0; i < iters; i++) shim::warp_barrier(); });
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double switches = 128.0 * iters;  // every lane but the last arrival switches away, plus the resume
        std::printf("fiber switch: %.1f ns per warp-barrier wait per lane (%.0f M switches/s, one worker)\n",
                    s * 1e9 / switches, switches / s / 1e6);
        t0 = std::chrono::steady_clock::now();
        shim::launch(dim3(2000), dim3(128), [&] { for (int i = 0; i < 200; i++) shim::warp_barrier(); });
        s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        switches = 2000.0 * 128 * 200;
        std::printf("fiber switch: %.0f M switches/s over %u workers\n", switches / s / 1e6, shim::fiber::Pool::get().size());
        t0 = std::chrono::steady_clock::now();
        const int launches = 2000;
        for (int i = 0; i < launches; i++) shim::launch(dim3(1), dim3(128), [] {});
        s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("empty launch (1 block of 128): %.1f us\n", s * 1e6 / launches);
    }
    std::printf(failures ? "fiber executor self-test: %d FAILED\n" : "fiber executor self-test: passed\n", failures);
    return failures ? 1 : 0;
}
