// An emulated CUDA driver (libcuda.so.1) over host memory, running the project's kernels compiled for the CPU
// (kernels.cpp). Implements the driver calls JCuda's Java facade uses (gpu-abi.md, "Emulated driver"), with the
// real signatures of cuda.h and the exported names of the real driver (_v2 where it has one). Everything runs
// synchronously on the calling thread; see README.md for what is and is not emulated.
#define __CUDA_API_VERSION_INTERNAL 1  // the header then declares the exact exported names (cuMemAlloc_v2, ...)
#include <cuda.h>

#include "kernel_table.h"

#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#define EMU_API extern "C" __attribute__((visibility("default")))

// ---- state ---------------------------------------------------------------------------------------------------

struct CUctx_st;
struct CUmod_st {
    CUctx_st* ctx;
    std::string ptx;  // the PTX text when loaded from PTX: names must appear as .entry
    std::vector<CUfunc_st*> functions;
};
struct CUfunc_st {
    const ContinuumEmuKernel* kernel;
    CUmod_st* module;
};
struct CUstream_st {
    CUctx_st* ctx;
    unsigned flags;
};
struct CUevent_st {
    CUctx_st* ctx;
    unsigned flags;
    bool recorded;
    struct timespec when;
};
struct Device;
struct CUctx_st {
    Device* device;
    int refs = 0;  // primary context retain count; 0 = inactive (not created or released)
    std::set<CUmod_st*> modules;
    std::set<CUstream_st*> streams;
    std::set<CUevent_st*> events;
};
struct Device {
    int ordinal;
    size_t total;
    size_t used = 0;
    CUctx_st primary;
};
struct Allocation {
    size_t size;      // requested
    size_t charged;   // rounded up to 256, counted against the device
    CUctx_st* ctx;
};

namespace {

std::mutex g_lock;
bool g_env_read = false;
bool g_initialized = false;
CUresult g_init_error = CUDA_SUCCESS;
int g_driver_version = 13000;
std::vector<Device*> g_devices;
std::map<uintptr_t, Allocation> g_allocs;     // device allocations by base address
std::map<uintptr_t, size_t> g_host_allocs;    // pinned host allocations
std::set<CUfunc_st*> g_functions;
thread_local CUctx_st* t_current = nullptr;

constexpr size_t kAlign = 256;
constexpr size_t kDefaultMemory = size_t(8) << 30;

long long env_number(const char* name, long long fallback) {
    const char* s = std::getenv(name);
    if (!s || !*s) return fallback;
    char* end = nullptr;
    long long v = std::strtoll(s, &end, 10);
    if (end == s) return fallback;
    switch (*end) {
        case 'k': case 'K': v <<= 10; break;
        case 'm': case 'M': v <<= 20; break;
        case 'g': case 'G': v <<= 30; break;
        default: break;
    }
    return v;
}

void read_env() {
    if (g_env_read) return;
    g_env_read = true;
    long long n = env_number("CONTINUUM_EMULATED_CUDA_DEVICES", 1);
    if (n < 0) n = 0;
    if (n > 16) n = 16;
    long long mem = env_number("CONTINUUM_EMULATED_CUDA_MEMORY", (long long) kDefaultMemory);
    if (mem < 0) mem = 0;
    g_driver_version = (int) env_number("CONTINUUM_EMULATED_CUDA_DRIVER", 13000);
    for (int i = 0; i < n; i++) {
        Device* d = new Device{i, (size_t) mem, 0, {}};
        d->primary.device = d;
        g_devices.push_back(d);
    }
}

CUresult initialized() {
    if (!g_initialized) return g_init_error != CUDA_SUCCESS ? g_init_error : CUDA_ERROR_NOT_INITIALIZED;
    return CUDA_SUCCESS;
}

CUresult device(CUdevice dev, Device** out) {
    if (CUresult r = initialized()) return r;
    if (dev < 0 || dev >= (int) g_devices.size()) return CUDA_ERROR_INVALID_DEVICE;
    *out = g_devices[dev];
    return CUDA_SUCCESS;
}

// The calling thread's current context, which must be active: proves the caller made it current on this thread.
CUresult current(CUctx_st** out) {
    if (CUresult r = initialized()) return r;
    if (!t_current || t_current->refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    *out = t_current;
    return CUDA_SUCCESS;
}

// The allocation holding [p, p + n), or null.
const Allocation* device_range(uintptr_t p, size_t n) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    if (p < it->first || n > it->second.size || p - it->first > it->second.size - n) return nullptr;
    return &it->second;
}

bool valid_stream(CUctx_st* ctx, CUstream s) {
    if (s == nullptr || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD) return true;
    return ctx->streams.count(s) != 0;
}

void free_allocation(std::map<uintptr_t, Allocation>::iterator it) {
    it->second.ctx->device->used -= it->second.charged;
    std::free(reinterpret_cast<void*>(it->first));
    g_allocs.erase(it);
}

// Releasing the last reference destroys the primary context's resources, as the real driver does.
void destroy_context_resources(CUctx_st* ctx) {
    for (auto it = g_allocs.begin(); it != g_allocs.end();) {
        auto next = std::next(it);
        if (it->second.ctx == ctx) free_allocation(it);
        it = next;
    }
    for (CUmod_st* m : ctx->modules) {
        for (CUfunc_st* f : m->functions) { g_functions.erase(f); delete f; }
        delete m;
    }
    for (CUstream_st* s : ctx->streams) delete s;
    for (CUevent_st* e : ctx->events) delete e;
    ctx->modules.clear();
    ctx->streams.clear();
    ctx->events.clear();
}

CUresult copy_checked(void* dst, const void* src, size_t n) {
    if (n) std::memmove(dst, src, n);
    return CUDA_SUCCESS;
}

CUresult htod(CUdeviceptr dst, const void* src, size_t n) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (!src || !device_range(dst, n)) return CUDA_ERROR_INVALID_VALUE;
    return copy_checked(reinterpret_cast<void*>(dst), src, n);
}

CUresult dtoh(void* dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (!dst || !device_range(src, n)) return CUDA_ERROR_INVALID_VALUE;
    return copy_checked(dst, reinterpret_cast<const void*>(src), n);
}

CUresult dtod(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (n == 0) return CUDA_SUCCESS;
    if (!device_range(dst, n) || !device_range(src, n)) return CUDA_ERROR_INVALID_VALUE;
    return copy_checked(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n);
}

template <class T> CUresult memset_elems(CUdeviceptr dst, T value, size_t count) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (count == 0) return CUDA_SUCCESS;
    if (dst % sizeof(T) != 0 || count > SIZE_MAX / sizeof(T) || !device_range(dst, count * sizeof(T)))
        return CUDA_ERROR_INVALID_VALUE;
    T* p = reinterpret_cast<T*>(dst);
    for (size_t i = 0; i < count; i++) p[i] = value;
    return CUDA_SUCCESS;
}

CUresult check_stream(CUstream s) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    return valid_stream(ctx, s) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

struct ErrorText {
    CUresult code;
    const char* name;
    const char* text;
};
const ErrorText kErrors[] = {
    {CUDA_SUCCESS, "CUDA_SUCCESS", "no error"},
    {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED", "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED", "driver shutting down"},
    {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"},
    {CUDA_ERROR_INVALID_IMAGE, "CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"},
    {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT", "invalid device context"},
    {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"},
    {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND", "named symbol not found"},
    {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY", "device not ready"},
    {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"},
    {CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"},
    {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED", "operation not supported"},
    {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN", "unknown error"},
};

const ErrorText* error_text(CUresult code) {
    for (const ErrorText& e : kErrors)
        if (e.code == code) return &e;
    return nullptr;
}

bool looks_like_ptx(const char* s, std::string* out) {
    // PTX is NUL-terminated text; refuse to scan binary garbage.
    unsigned char c0 = (unsigned char) s[0];
    if (!(c0 == '/' || c0 == '.' || c0 == '\n' || c0 == '\r' || c0 == '\t' || c0 == ' ')) return false;
    size_t n = strnlen(s, size_t(1) << 28);
    std::string text(s, n);
    if (text.find(".version") == std::string::npos || text.find(".target") == std::string::npos) return false;
    *out = std::move(text);
    return true;
}

bool ptx_has_entry(const std::string& ptx, const char* name) {
    const std::string key = ".entry ";
    const size_t len = std::strlen(name);
    for (size_t at = ptx.find(key); at != std::string::npos; at = ptx.find(key, at + 1)) {
        size_t p = at + key.size();
        while (p < ptx.size() && ptx[p] == ' ') p++;
        if (ptx.compare(p, len, name) == 0) {
            char after = p + len < ptx.size() ? ptx[p + len] : '\0';
            if (after == '(' || after == ' ' || after == '\n' || after == '\r' || after == '\t') return true;
        }
    }
    return false;
}

double seconds(const struct timespec& t) { return (double) t.tv_sec + (double) t.tv_nsec * 1e-9; }

}  // namespace

// ---- initialization, version, devices ------------------------------------------------------------------------

EMU_API CUresult cuInit(unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    read_env();
    if (g_devices.empty()) {
        g_init_error = CUDA_ERROR_NO_DEVICE;
        return g_init_error;
    }
    g_initialized = true;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDriverGetVersion(int* version) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (!version) return CUDA_ERROR_INVALID_VALUE;
    read_env();
    *version = g_driver_version;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDeviceGetCount(int* count) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    if (CUresult r = initialized()) return r;
    *count = (int) g_devices.size();
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDeviceGet(CUdevice* out, int ordinal) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (!out) return CUDA_ERROR_INVALID_VALUE;
    Device* d;
    if (CUresult r = device(ordinal, &d)) return r;
    *out = ordinal;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    Device* d;
    if (CUresult r = device(dev, &d)) return r;
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    std::snprintf(name, (size_t) len, "%s", "Continuum emulated CUDA device");
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    Device* d;
    if (CUresult r = device(dev, &d)) return r;
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    *bytes = d->total;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDeviceGetAttribute(int* pi, CUdevice_attribute attrib, CUdevice dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    Device* d;
    if (CUresult r = device(dev, &d)) return r;
    if (!pi || attrib <= 0 || attrib >= CU_DEVICE_ATTRIBUTE_MAX) return CUDA_ERROR_INVALID_VALUE;
    int v = 0;  // attributes not listed: 0 (feature absent)
    switch (attrib) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: v = 9; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: v = 0; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: v = 132; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: v = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: v = 64; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: v = 2147483647; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: v = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: v = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: v = 49152; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: v = 232448; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: v = 233472; break;
        case CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: v = 32; break;
        case CU_DEVICE_ATTRIBUTE_MAX_PITCH: v = 2147483647; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: v = 65536; break;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: v = 1980000; break;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: v = 2619000; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: v = 6144; break;
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: v = 52428800; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR: v = 2048; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR: v = 32; break;
        case CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT: v = 512; break;
        case CU_DEVICE_ATTRIBUTE_GPU_OVERLAP: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT: v = 2; break;
        case CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_MODE: v = CU_COMPUTEMODE_DEFAULT; break;
        case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: v = d->ordinal; break;
        case CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED: v = 1; break;
        case CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY: v = 0; break;
        default: v = 0; break;
    }
    *pi = v;
    return CUDA_SUCCESS;
}

// ---- contexts ------------------------------------------------------------------------------------------------

EMU_API CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    Device* d;
    if (CUresult r = device(dev, &d)) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    d->primary.refs++;
    *pctx = &d->primary;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    Device* d;
    if (CUresult r = device(dev, &d)) return r;
    if (d->primary.refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    if (--d->primary.refs == 0) destroy_context_resources(&d->primary);
    return CUDA_SUCCESS;
}

EMU_API CUresult cuCtxSetCurrent(CUcontext ctx) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    if (ctx) {
        bool known = false;
        for (Device* d : g_devices) known |= ctx == &d->primary;
        if (!known || ctx->refs <= 0) return CUDA_ERROR_INVALID_CONTEXT;
    }
    t_current = ctx;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuCtxGetCurrent(CUcontext* pctx) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = t_current;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuCtxGetDevice(CUdevice* dev) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!dev) return CUDA_ERROR_INVALID_VALUE;
    *dev = ctx->device->ordinal;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuCtxSynchronize() {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    return current(&ctx);  // nothing is ever pending
}

// ---- memory --------------------------------------------------------------------------------------------------

EMU_API CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!free_bytes || !total_bytes) return CUDA_ERROR_INVALID_VALUE;
    *total_bytes = ctx->device->total;
    *free_bytes = ctx->device->total - ctx->device->used;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!dptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
    Device* d = ctx->device;
    if (bytes > SIZE_MAX - kAlign) return CUDA_ERROR_OUT_OF_MEMORY;
    const size_t charged = (bytes + kAlign - 1) / kAlign * kAlign;
    if (charged > d->total - d->used) return CUDA_ERROR_OUT_OF_MEMORY;
    void* p = std::aligned_alloc(kAlign, charged);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    // Device memory is not zeroed: fill it with 0xFF bytes (NaN as f32/f16) so that code relying on zeroed
    // allocations fails here rather than by chance on a GPU.
    std::memset(p, 0xFF, charged);
    d->used += charged;
    g_allocs[reinterpret_cast<uintptr_t>(p)] = Allocation{bytes, charged, ctx};
    *dptr = reinterpret_cast<CUdeviceptr>(p);
    return CUDA_SUCCESS;
}

EMU_API CUresult cuMemFree_v2(CUdeviceptr dptr) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (dptr == 0) return CUDA_SUCCESS;
    auto it = g_allocs.find(dptr);
    if (it == g_allocs.end()) return CUDA_ERROR_INVALID_VALUE;  // never allocated, already freed, or interior
    free_allocation(it);
    return CUDA_SUCCESS;
}

EMU_API CUresult cuMemHostAlloc(void** pp, size_t bytes, unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!pp || bytes == 0 || bytes > SIZE_MAX - kAlign) return CUDA_ERROR_INVALID_VALUE;
    if (flags & ~(unsigned) (CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED))
        return CUDA_ERROR_INVALID_VALUE;
    void* p = std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
    if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
    g_host_allocs[reinterpret_cast<uintptr_t>(p)] = bytes;
    *pp = p;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuMemAllocHost_v2(void** pp, size_t bytes) {
    return cuMemHostAlloc(pp, bytes, 0);
}

EMU_API CUresult cuMemFreeHost(void* p) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    auto it = g_host_allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == g_host_allocs.end()) return CUDA_ERROR_INVALID_VALUE;
    std::free(p);
    g_host_allocs.erase(it);
    return CUDA_SUCCESS;
}

EMU_API CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) { return htod(dst, src, n); }
EMU_API CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) { return dtoh(dst, src, n); }
EMU_API CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) { return dtod(dst, src, n); }

EMU_API CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return htod(dst, src, n);
}
EMU_API CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return dtoh(dst, src, n);
}
EMU_API CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return dtod(dst, src, n);
}

EMU_API CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char v, size_t n) { return memset_elems<uint8_t>(dst, v, n); }
EMU_API CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short v, size_t n) { return memset_elems<uint16_t>(dst, v, n); }
EMU_API CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned int v, size_t n) { return memset_elems<uint32_t>(dst, v, n); }
EMU_API CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return memset_elems<uint8_t>(dst, v, n);
}
EMU_API CUresult cuMemsetD16Async(CUdeviceptr dst, unsigned short v, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return memset_elems<uint16_t>(dst, v, n);
}
EMU_API CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned int v, size_t n, CUstream s) {
    if (CUresult r = check_stream(s)) return r;
    return memset_elems<uint32_t>(dst, v, n);
}

// ---- modules and launches ------------------------------------------------------------------------------------

EMU_API CUresult cuModuleLoadData(CUmodule* module, const void* image) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!module || !image) return CUDA_ERROR_INVALID_VALUE;
    uint32_t magic;
    std::memcpy(&magic, image, sizeof magic);
    std::string ptx;
    if (magic != 0xBA55ED50u && !looks_like_ptx(static_cast<const char*>(image), &ptx))
        return CUDA_ERROR_INVALID_IMAGE;
    CUmod_st* m = new CUmod_st{ctx, std::move(ptx), {}};
    ctx->modules.insert(m);
    *module = m;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuModuleUnload(CUmodule module) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    CUctx_st* owner = nullptr;
    for (Device* d : g_devices)
        if (d->primary.modules.count(module)) owner = &d->primary;
    if (!owner) return CUDA_ERROR_INVALID_HANDLE;
    for (CUfunc_st* f : module->functions) { g_functions.erase(f); delete f; }
    owner->modules.erase(module);
    delete module;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuModuleGetFunction(CUfunction* hfunc, CUmodule module, const char* name) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    if (!hfunc || !name) return CUDA_ERROR_INVALID_VALUE;
    bool live = false;
    for (Device* d : g_devices) live |= d->primary.modules.count(module) != 0;
    if (!live) return CUDA_ERROR_INVALID_HANDLE;
    for (CUfunc_st* f : module->functions)
        if (std::strcmp(f->kernel->name, name) == 0) { *hfunc = f; return CUDA_SUCCESS; }
    const ContinuumEmuKernel* k = nullptr;
    for (unsigned i = 0; i < continuum_emu_kernel_count; i++)
        if (std::strcmp(continuum_emu_kernels[i].name, name) == 0) k = &continuum_emu_kernels[i];
    if (!k) return CUDA_ERROR_NOT_FOUND;
    if (!module->ptx.empty() && !ptx_has_entry(module->ptx, name)) return CUDA_ERROR_NOT_FOUND;
    CUfunc_st* f = new CUfunc_st{k, module};
    module->functions.push_back(f);
    g_functions.insert(f);
    *hfunc = f;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuFuncGetAttribute(int* pi, CUfunction_attribute attrib, CUfunction hfunc) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    if (!g_functions.count(hfunc)) return CUDA_ERROR_INVALID_HANDLE;
    switch (attrib) {
        case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *pi = 1024; break;
        case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: *pi = 0; break;
        case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: *pi = 0; break;
        case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: *pi = 0; break;
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *pi = 32; break;
        case CU_FUNC_ATTRIBUTE_PTX_VERSION: *pi = 90; break;
        case CU_FUNC_ATTRIBUTE_BINARY_VERSION: *pi = 90; break;
        case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: *pi = 49152; break;
        case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: *pi = -1; break;
        default:
            if (attrib < 0 || attrib >= CU_FUNC_ATTRIBUTE_MAX) return CUDA_ERROR_INVALID_VALUE;
            *pi = 0;
    }
    return CUDA_SUCCESS;
}

EMU_API CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                                unsigned int by, unsigned int bz, unsigned int shared_bytes, CUstream stream,
                                void** params, void** extra) {
    const ContinuumEmuKernel* k;
    {
        std::lock_guard<std::mutex> lock(g_lock);
        CUctx_st* ctx;
        if (CUresult r = current(&ctx)) return r;
        if (!g_functions.count(f)) return CUDA_ERROR_INVALID_HANDLE;
        if (f->module->ctx != ctx) return CUDA_ERROR_INVALID_CONTEXT;
        if (!valid_stream(ctx, stream)) return CUDA_ERROR_INVALID_HANDLE;
        if (extra) return CUDA_ERROR_NOT_SUPPORTED;  // parameters are passed through kernelParams only
        if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
        if (gx > 2147483647u || gy > 65535 || gz > 65535 || bx > 1024 || by > 1024 || bz > 64)
            return CUDA_ERROR_INVALID_VALUE;
        if ((uint64_t) bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
        if (shared_bytes > 232448) return CUDA_ERROR_INVALID_VALUE;
        k = f->kernel;
        if (k->arity > 0) {
            if (!params) return CUDA_ERROR_INVALID_VALUE;
            for (unsigned i = 0; i < k->arity; i++)
                if (!params[i]) return CUDA_ERROR_INVALID_VALUE;
        }
    }
    const unsigned dims[6] = {gx, gy, gz, bx, by, bz};
    return k->run(dims, params) == 0 ? CUDA_SUCCESS : CUDA_ERROR_LAUNCH_FAILED;
}

// ---- streams and events --------------------------------------------------------------------------------------

EMU_API CUresult cuStreamCreate(CUstream* ps, unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!ps || (flags & ~(unsigned) CU_STREAM_NON_BLOCKING)) return CUDA_ERROR_INVALID_VALUE;
    CUstream_st* s = new CUstream_st{ctx, flags};
    ctx->streams.insert(s);
    *ps = s;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuStreamDestroy_v2(CUstream s) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    for (Device* d : g_devices)
        if (d->primary.streams.erase(s)) { delete s; return CUDA_SUCCESS; }
    return CUDA_ERROR_INVALID_HANDLE;
}

EMU_API CUresult cuStreamSynchronize(CUstream s) { return check_stream(s); }
EMU_API CUresult cuStreamQuery(CUstream s) { return check_stream(s); }

EMU_API CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!valid_stream(ctx, s) || !ctx->events.count(e)) return CUDA_ERROR_INVALID_HANDLE;
    return flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EMU_API CUresult cuEventCreate(CUevent* pe, unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!pe || (flags & ~(unsigned) (CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS)))
        return CUDA_ERROR_INVALID_VALUE;
    CUevent_st* e = new CUevent_st{ctx, flags, false, {}};
    ctx->events.insert(e);
    *pe = e;
    return CUDA_SUCCESS;
}

EMU_API CUresult cuEventRecord(CUevent e, CUstream s) {
    std::lock_guard<std::mutex> lock(g_lock);
    CUctx_st* ctx;
    if (CUresult r = current(&ctx)) return r;
    if (!ctx->events.count(e) || !valid_stream(ctx, s)) return CUDA_ERROR_INVALID_HANDLE;
    clock_gettime(CLOCK_MONOTONIC, &e->when);
    e->recorded = true;
    return CUDA_SUCCESS;
}

static bool live_event(CUevent e) {
    for (Device* d : g_devices)
        if (d->primary.events.count(e)) return true;
    return false;
}

EMU_API CUresult cuEventSynchronize(CUevent e) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    return live_event(e) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EMU_API CUresult cuEventQuery(CUevent e) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    return live_event(e) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EMU_API CUresult cuEventElapsedTime_v2(float* ms, CUevent start, CUevent end) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    if (!live_event(start) || !live_event(end)) return CUDA_ERROR_INVALID_HANDLE;
    if ((start->flags | end->flags) & CU_EVENT_DISABLE_TIMING) return CUDA_ERROR_INVALID_HANDLE;
    if (!start->recorded || !end->recorded) return CUDA_ERROR_INVALID_HANDLE;
    *ms = (float) ((seconds(end->when) - seconds(start->when)) * 1e3);
    return CUDA_SUCCESS;
}

// JCuda 12.0 binds the unversioned name; CUDA 12.8+ headers map cuEventElapsedTime to _v2. Export both.
EMU_API CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    return cuEventElapsedTime_v2(ms, start, end);
}

EMU_API CUresult cuEventDestroy_v2(CUevent e) {
    std::lock_guard<std::mutex> lock(g_lock);
    if (CUresult r = initialized()) return r;
    for (Device* d : g_devices)
        if (d->primary.events.erase(e)) { delete e; return CUDA_SUCCESS; }
    return CUDA_ERROR_INVALID_HANDLE;
}

// ---- errors --------------------------------------------------------------------------------------------------

EMU_API CUresult cuGetErrorName(CUresult error, const char** str) {
    if (!str) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = error_text(error);
    *str = e ? e->name : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EMU_API CUresult cuGetErrorString(CUresult error, const char** str) {
    if (!str) return CUDA_ERROR_INVALID_VALUE;
    const ErrorText* e = error_text(error);
    *str = e ? e->text : nullptr;
    return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// Not a CUDA call: lets tests see which build they run and how many OS threads run blocks.
EMU_API const char* continuum_emulated_cuda_info() {
    static char buf[128];
    std::snprintf(buf, sizeof buf, "continuum emulated CUDA: %u kernels, %u worker threads", continuum_emu_kernel_count,
                  continuum_emu_worker_threads());
    return buf;
}
