// Fiber executor for the CPU shim (selected with -DCONTINUUM_SHIM_FIBERS; contract: /work/gpu-abi.md, "CPU shim
// executor hooks"). A block's CUDA threads run as fibers on one OS thread; blocks run in parallel on a reused pool of
// OS threads (CONTINUUM_EMULATED_CUDA_THREADS, default: available cores), one block at a time per worker, so
// `__shared__` = `static thread_local` is private to the running block.
//
// Why fibers: a warp shuffle is two warp barriers, so a whole forward pass does tens of millions of barrier waits.
// With one OS thread per CUDA thread each is a futex round trip (microseconds); here a wait is one user-space
// context switch (callee-saved registers, rsp, MXCSR and the x87 control word: about 10-20 ns).
//
// Layout: every fiber owns a kStackBytes region aligned to kStackBytes: [descriptor page][guard page][stack ...].
// The running fiber is found from its stack pointer (rsp & ~(kStackBytes - 1), plus a colour offset), so the hooks
// need no TLS lookup.
// Scheduling is cooperative and deterministic: a fiber that waits passes control to the next runnable fiber of its
// warp (warp barrier) or block (block barrier), in index order; the last arrival releases the barrier and runs on.
// A fiber that returns stops counting at both barriers, as an exited GPU thread does. If no fiber can run while some
// are still waiting (a barrier not every live thread reaches), the block is abandoned and launch() reports failure.
#ifndef CONTINUUM_FIBER_EXECUTOR_H
#define CONTINUUM_FIBER_EXECUTOR_H

#include <vector_types.h>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <semaphore>
#include <thread>
#include <type_traits>
#include <vector>

#undef SHIM_SHARED
#define SHIM_SHARED static thread_local

#if !defined(__x86_64__)
#error "fiber_executor.h: the context switch is x86-64 (System V) only"
#endif

extern "C" {
// Saves the callee-saved state of the caller on its stack, stores rsp in *save_sp, resumes the context at next_sp.
void continuum_fiber_switch(void** save_sp, void* next_sp);
// First frame of a new fiber: calls r13(r12). Never returns.
void continuum_fiber_start();
}

// In a COMDAT group so that several translation units including this header link to one copy.
asm(R"(
    .pushsection .text.continuum_fiber_switch,"axG",@progbits,continuum_fiber_switch,comdat
    .weak continuum_fiber_switch
    .hidden continuum_fiber_switch
    .type continuum_fiber_switch,@function
    .p2align 4
continuum_fiber_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size continuum_fiber_switch, .-continuum_fiber_switch

    .weak continuum_fiber_start
    .hidden continuum_fiber_start
    .type continuum_fiber_start,@function
    .p2align 4
continuum_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size continuum_fiber_start, .-continuum_fiber_start
    .popsection
)");

namespace shim {
namespace fiber {

constexpr size_t kStackBytes = 128 * 1024;  // per fiber, including the descriptor and guard pages
constexpr size_t kPage = 4096;
constexpr unsigned kMaxThreads = 1024;      // per block, as on the GPU

enum State : uint32_t { kReady, kWaiting, kDone };

struct Barrier {
    uint32_t expected;  // live participants
    uint32_t arrived;   // in the current phase
    uint32_t gen;       // phases completed
};

struct Worker;

struct Fiber {
    void* sp;           // saved stack pointer while switched out
    dim3 tid;
    uint32_t index;     // linear thread index in the block
    uint32_t state;
    Barrier* wait;      // when kWaiting: the barrier and the phase waited for
    uint32_t wait_gen;
    uint32_t phase;     // shuffles done in this block (the shim alternates slot sets by it)
    Worker* worker;
};
static_assert(sizeof(Fiber) <= 128);

struct alignas(64) Warp {
    Barrier bar;
    uint32_t first, end;  // fiber indices of the warp
    alignas(64) uint64_t slot[64];
};

struct Worker {
    char* region = nullptr;   // capacity * kStackBytes, aligned to kStackBytes
    size_t mapped = 0;
    void* map_base = nullptr;
    unsigned capacity = 0;
    unsigned nthreads = 0;
    unsigned live = 0;
    bool failed = false;
    uint32_t csr[2] = {0, 0};  // MXCSR and x87 control word new fibers start with
    Barrier block_bar{};
    Warp warps[kMaxThreads / 32];
    dim3 block_idx, block_dim, grid_dim;
    void* main_sp = nullptr;
    void (*body)(void*) = nullptr;
    void* ctx = nullptr;

    Fiber* fiber(unsigned i);

    bool reserve(unsigned n) {
        if (n <= capacity) return true;
        if (map_base) munmap(map_base, mapped);
        capacity = 0; region = nullptr; map_base = nullptr;
        size_t bytes = (size_t) n * kStackBytes + kStackBytes;
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) return false;
        map_base = p; mapped = bytes;
        region = reinterpret_cast<char*>(((uintptr_t) p + kStackBytes - 1) & ~(uintptr_t) (kStackBytes - 1));
        for (unsigned i = 0; i < n; i++) mprotect(region + (size_t) i * kStackBytes + kPage, kPage, PROT_NONE);
        capacity = n;
        return true;
    }
};

// Regions are kStackBytes-aligned, so the same offset in every region maps to the same cache set: with descriptors
// and stack tops at one offset, 128 fibers fight over one L1/L2 set (measured: the GEMV smoke ran 2.5x slower).
// Each region therefore places its descriptor and its stack top at a colour derived from its address.
inline unsigned colour(uintptr_t base) { return (unsigned) ((base / kStackBytes) & 31); }
inline Fiber* fiber_at(uintptr_t base) { return reinterpret_cast<Fiber*>(base + colour(base) * 128); }
inline uintptr_t stack_top(uintptr_t base) { return base + kStackBytes - (colour(base) & 15) * 256; }
inline Fiber* Worker::fiber(unsigned i) { return fiber_at(reinterpret_cast<uintptr_t>(region) + (size_t) i * kStackBytes); }

// The running fiber, from the stack pointer (valid only on a fiber stack, i.e. inside a kernel body).
inline Fiber* self() {
    uintptr_t sp;
    asm("movq %%rsp, %0" : "=r"(sp));
    return fiber_at(sp & ~(uintptr_t) (kStackBytes - 1));
}

inline bool runnable(const Fiber* f) {
    return f->state == kReady || (f->state == kWaiting && f->wait->gen != f->wait_gen);
}

// Next runnable fiber after `from` among indices [first, end), circularly; null if none (`from` excluded).
inline Fiber* next_in(Worker* w, unsigned from, unsigned first, unsigned end) {
    const unsigned n = end - first;
    unsigned i = from;
    for (unsigned k = 1; k < n; k++) {
        if (++i == end) i = first;
        Fiber* f = w->fiber(i);
        if (runnable(f)) return f;
    }
    return nullptr;
}

// Blocks `f` (already marked kWaiting) until its barrier phase completes.
inline void wait(Fiber* f, unsigned first, unsigned end) {
    Worker* w = f->worker;
    Fiber* next = next_in(w, f->index, first, end);
    if (!next && (first != 0 || end != w->nthreads)) next = next_in(w, f->index, 0, w->nthreads);
    if (!next) {  // nobody can run: a barrier some live thread never reaches
        w->failed = true;
        continuum_fiber_switch(&f->sp, w->main_sp);
        __builtin_unreachable();
    }
    continuum_fiber_switch(&f->sp, next->sp);
    // Resumed: someone found us runnable, so the phase is over.
    f->state = kReady;
}

inline void arrive(Fiber* f, Barrier& b, unsigned first, unsigned end) {
    if (++b.arrived >= b.expected) {
        b.arrived = 0;
        b.gen++;
        return;
    }
    f->state = kWaiting;
    f->wait = &b;
    f->wait_gen = b.gen;
    wait(f, first, end);
}

inline void drop(Barrier& b) {
    b.expected--;
    if (b.arrived > 0 && b.arrived >= b.expected) {
        b.arrived = 0;
        b.gen++;
    }
}

inline void fiber_main(void* arg) {
    Fiber* f = static_cast<Fiber*>(arg);
    Worker* w = f->worker;
    w->body(w->ctx);
    f->state = kDone;
    w->live--;
    drop(w->block_bar);
    drop(w->warps[f->index >> 5].bar);
    Fiber* next = w->live ? next_in(w, f->index, 0, w->nthreads) : nullptr;
    if (w->live && !next) w->failed = true;
    continuum_fiber_switch(&f->sp, next ? next->sp : w->main_sp);
    __builtin_unreachable();
}

// Runs one block on the calling (worker) thread; false if it deadlocked.
inline bool run_block(Worker* w, dim3 bidx) {
    const unsigned n = w->nthreads;
    const dim3 bd = w->block_dim;
    w->block_idx = bidx;
    w->live = n;
    w->failed = false;
    w->block_bar = Barrier{n, 0, 0};
    for (unsigned k = 0; k < (n + 31) / 32; k++) {
        Warp& wp = w->warps[k];
        wp.first = k * 32;
        wp.end = k * 32 + 32 < n ? k * 32 + 32 : n;
        wp.bar = Barrier{wp.end - wp.first, 0, 0};
    }
    for (unsigned i = 0; i < n; i++) {
        Fiber* f = w->fiber(i);
        f->tid = dim3(i % bd.x, (i / bd.x) % bd.y, i / (bd.x * bd.y));
        f->index = i;
        f->state = kReady;
        f->wait = nullptr;
        f->phase = 0;
        f->worker = w;
        // Initial frame, popped by continuum_fiber_switch: csr, r15, r14, r13 = entry, r12 = arg, rbx, rbp, return
        // address = continuum_fiber_start. The return slot is 8 mod 16 so that the stub's call is 16-aligned.
        uintptr_t top = stack_top(reinterpret_cast<uintptr_t>(f) & ~(uintptr_t) (kStackBytes - 1));
        uint64_t* sp = reinterpret_cast<uint64_t*>(top - 24 - 56);
        sp[0] = (uint64_t) w->csr[0] | ((uint64_t) w->csr[1] << 32);
        sp[1] = 0; sp[2] = 0;
        sp[3] = reinterpret_cast<uint64_t>(&fiber_main);
        sp[4] = reinterpret_cast<uint64_t>(f);
        sp[5] = 0; sp[6] = 0;
        sp[7] = reinterpret_cast<uint64_t>(&continuum_fiber_start);
        f->sp = sp;
    }
    continuum_fiber_switch(&w->main_sp, w->fiber(0)->sp);
    return !w->failed;
}

// One launch: the blocks handed out to the workers one at a time.
struct Job {
    dim3 grid, block;
    void (*body)(void*);
    void* ctx;
    uint64_t total;
    std::atomic<uint64_t> next{0};
    std::atomic<unsigned> pending{0};
    std::atomic<bool> failed{false};
    std::binary_semaphore done{0};
};

inline void run_job(Worker* w, Job* j) {
    const unsigned n = j->block.x * j->block.y * j->block.z;
    if (!w->reserve(n)) { j->failed = true; return; }
    w->nthreads = n;
    w->block_dim = j->block;
    w->grid_dim = j->grid;
    w->body = j->body;
    w->ctx = j->ctx;
    const uint64_t gx = j->grid.x, gxy = (uint64_t) j->grid.x * j->grid.y;
    for (;;) {
        if (j->failed.load(std::memory_order_relaxed)) return;
        uint64_t b = j->next.fetch_add(1, std::memory_order_relaxed);
        if (b >= j->total) return;
        if (!run_block(w, dim3((unsigned) (b % gx), (unsigned) ((b / gx) % j->grid.y), (unsigned) (b / gxy)))) {
            j->failed = true;
            return;
        }
    }
}

inline void capture_csr(Worker* w) {
    asm volatile("stmxcsr %0" : "=m"(w->csr[0]));
    uint16_t cw;
    asm volatile("fnstcw %0" : "=m"(cw));
    w->csr[1] = cw;
}

class Pool {
  public:
    static Pool& get() {
        static Pool* pool = new Pool();  // never destroyed: its threads idle until the process exits
        return *pool;
    }

    unsigned size() const { return (unsigned) slots_.size(); }

    bool run(Job& j) {
        std::lock_guard<std::mutex> lock(launch_);
        uint64_t want = j.total < slots_.size() ? j.total : slots_.size();
        j.pending.store((unsigned) want);
        for (uint64_t i = 0; i < want; i++) {
            slots_[i]->job = &j;
            slots_[i]->go.release();
        }
        j.done.acquire();
        return !j.failed.load();
    }

  private:
    struct Slot {
        std::binary_semaphore go{0};
        Job* job = nullptr;
        Worker worker;
    };

    Pool() {
        unsigned n = std::thread::hardware_concurrency();
        if (const char* s = std::getenv("CONTINUUM_EMULATED_CUDA_THREADS")) {
            long v = std::strtol(s, nullptr, 10);
            if (v > 0) n = (unsigned) v;
        }
        if (n == 0) n = 1;
        if (n > 1024) n = 1024;
        for (unsigned i = 0; i < n; i++) slots_.push_back(new Slot());
        for (unsigned i = 0; i < n; i++) {
            Slot* s = slots_[i];
            std::thread([s] {
                capture_csr(&s->worker);
                for (;;) {
                    s->go.acquire();
                    Job* j = s->job;
                    run_job(&s->worker, j);
                    if (j->pending.fetch_sub(1) == 1) j->done.release();
                }
            }).detach();
        }
    }

    std::mutex launch_;
    std::vector<Slot*> slots_;
};

}  // namespace fiber

// ---- the hooks (gpu-abi.md) ----------------------------------------------------------------------------------
inline dim3& thread_idx() { return fiber::self()->tid; }
inline dim3& block_idx() { return fiber::self()->worker->block_idx; }
inline dim3& block_dim() { return fiber::self()->worker->block_dim; }
inline dim3& grid_dim() { return fiber::self()->worker->grid_dim; }

inline void block_barrier() {
    fiber::Fiber* f = fiber::self();
    fiber::arrive(f, f->worker->block_bar, 0, f->worker->nthreads);
}

inline void warp_barrier() {
    fiber::Fiber* f = fiber::self();
    fiber::Warp& w = f->worker->warps[f->index >> 5];
    fiber::arrive(f, w.bar, w.first, w.end);
}

inline uint64_t* warp_slots() {
    fiber::Fiber* f = fiber::self();
    return f->worker->warps[f->index >> 5].slot;
}

inline unsigned& lane_phase() { return fiber::self()->phase; }

// Runs body() once per CUDA thread of the grid; returns when all are done. Returns false (rather than hanging) if a
// block deadlocked at a barrier, or the block is larger than 1024 threads, or fiber stacks could not be mapped.
template <class F> bool launch(dim3 grid, dim3 block, F&& body) {
    const uint64_t total = (uint64_t) grid.x * grid.y * grid.z;
    const uint64_t threads = (uint64_t) block.x * block.y * block.z;
    if (total == 0 || threads == 0 || threads > fiber::kMaxThreads) return false;
    using Body = std::remove_reference_t<F>;
    fiber::Job j;
    j.grid = grid;
    j.block = block;
    j.body = [](void* p) { (*static_cast<Body*>(p))(); };
    j.ctx = const_cast<void*>(static_cast<const void*>(&body));
    j.total = total;
    return fiber::Pool::get().run(j);
}

}  // namespace shim

#endif  // CONTINUUM_FIBER_EXECUTOR_H
