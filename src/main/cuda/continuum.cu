// Continuum CUDA kernels. The contract (names, signatures, layouts, launch configurations) is the ABI in
// src/main/cuda/README.md; the Java runner, the emulated driver and the CPU shim all code against it.
//
// Rules every kernel here follows, and why:
// - Every reduction has an order fixed by the output's row (and the row's shape) alone, never by how many tokens
//   or rows share a launch, so decode results do not depend on batch composition (the CPU's batch invariance).
// - Where the CPU's numerics are to be tracked bit for bit (quantize_q8, rmsnorm's epilogue, RoPE), products and
//   sums use the explicitly rounded intrinsics (__fmul_rn, __fadd_rn): nvcc would otherwise contract a*b+c into
//   one FMA and round once where Java rounds twice.
// - Quantized blocks are 34 or 18 bytes, so only 2-byte alignment holds: block data is read with 16-bit loads.
//   Float weights and activations take 16-byte vector loads only when the shape and the pointers allow it, and a
//   scalar path otherwise that performs the same arithmetic in the same order (so results do not depend on it).
// - The same source compiles for the CPU shim (src/test/cuda/shim/cuda_cpu_shim.h) with -DCONTINUUM_CPU_SHIM.
#ifdef CONTINUUM_CPU_SHIM
#include "cuda_cpu_shim.h"
#else
#include <cuda_fp16.h>
#include <mma.h>
#endif
#include <stdint.h>

using namespace nvcuda;

// ---------------------------------------------------------------------------------------------------------------
// Block formats (GGML layouts).
//
// block_q8_0, 34 bytes, 32 weights w[j] = d * qs[j]:
//   byte  0      2                                   34
//        +------+-----------------------------------+
//        | d f16| qs[0] qs[1] ... qs[31]  (int8)    |
//        +------+-----------------------------------+
//
// block_q4_0, 18 bytes, 32 weights w[j] = d * (n[j] - 8), n unsigned 4-bit:
//   byte  0      2        3              17      18
//        +------+--------+----- ... -----+--------+
//        | d f16| qs[0]  |               | qs[15] |      qs[j] = n[j] | n[j+16] << 4
//        +------+--------+----- ... -----+--------+
//                 bits 7..4 = n[16], bits 3..0 = n[0]
#define QK 32
struct block_q8_0 { half d; int8_t qs[QK]; };
struct block_q4_0 { half d; uint8_t qs[QK / 2]; };
static_assert(sizeof(block_q8_0) == 34, "ggml block_q8_0 is 34 bytes");
static_assert(sizeof(block_q4_0) == 18, "ggml block_q4_0 is 18 bytes");

enum { FMT_F32, FMT_F16, FMT_BF16, FMT_Q8_0, FMT_Q4_0 };

// Register budgets: __launch_bounds__(threads, min blocks per SM) caps ptxas at 65536 / (threads * blocks)
// registers; the build gate (CudaKernelBuildGateTest) checks the PTX carries these and ptxas stays within them.
#define LB_ELEMENTWISE __launch_bounds__(256, 4)   // 64 registers
#define LB_ROW128 __launch_bounds__(128, 8)        // 64 registers
#define LB_GEMV __launch_bounds__(128, 4)          // 128 registers (t8 holds 8 accumulators and 8 x vectors)
#define LB_GEMM __launch_bounds__(128, 4)          // 128 registers (4 accumulator fragments + 2+2 operands)
#define LB_ATTENTION __launch_bounds__(128, 8)     // 64 registers

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ double warp_sum_double(double v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}
__device__ __forceinline__ bool aligned16(const void* p) { return ((uintptr_t) p & 15) == 0; }

// 32 bits from a 2-byte aligned address, as two 16-bit loads (little endian, as the GPU and x86 are).
__device__ __forceinline__ uint32_t load_u32_b2(const void* p) {
    const uint16_t* s = (const uint16_t*) p;
    return (uint32_t) s[0] | ((uint32_t) s[1] << 16);
}
__device__ __forceinline__ float f16_bits(uint32_t bits) { return __half2float(__ushort_as_half((unsigned short) bits)); }
// bfloat16 is the top half of a float32: widening is a shift.
__device__ __forceinline__ float bf16_bits(uint32_t bits) { return __uint_as_float((bits & 0xffffu) << 16); }

// Element c of weight row r of a [rows][cols] matrix in format F, as float (the scalar path of every kernel).
template <int F>
__device__ __forceinline__ float weight_at(const void* W, size_t r, int cols, int c) {
    if (F == FMT_F32) return ((const float*) W)[r * cols + c];
    if (F == FMT_F16) return f16_bits(((const uint16_t*) W)[r * cols + c]);
    if (F == FMT_BF16) return bf16_bits(((const uint16_t*) W)[r * cols + c]);
    if (F == FMT_Q8_0) {
        const block_q8_0* b = (const block_q8_0*) W + r * (cols / QK) + c / QK;
        return __half2float(b->d) * (float) b->qs[c % QK];
    }
    const block_q4_0* b = (const block_q4_0*) W + r * (cols / QK) + c / QK;
    const int j = c % QK;
    const int n = j < 16 ? (b->qs[j] & 15) : (b->qs[j - 16] >> 4);
    return __half2float(b->d) * (float) (n - 8);
}

// ---------------------------------------------------------------------------------------------------------------
// Embedding: x[r][:] = dequant(table[tokens[r]][:]).                                  [grid rows, block 128]
template <int F>
__device__ __forceinline__ void embed_body(const void* table, const int* tokens, float* x, int dim) {
    const size_t row = blockIdx.x;
    const size_t src = (size_t) tokens[row];
    for (int i = threadIdx.x; i < dim; i += blockDim.x) x[row * dim + i] = weight_at<F>(table, src, dim, i);
}
#define EMBED(NAME, F) \
    extern "C" __global__ void LB_ROW128 embed_##NAME(const void* table, const int* tokens, float* x, int dim) { \
        embed_body<F>(table, tokens, x, dim); }
EMBED(f32, FMT_F32) EMBED(f16, FMT_F16) EMBED(bf16, FMT_BF16) EMBED(q8_0, FMT_Q8_0) EMBED(q4_0, FMT_Q4_0)

// ---------------------------------------------------------------------------------------------------------------
// RMSNorm, one block per row, as RmsNorm.java: squares rounded to float, summed in double (per thread strided,
// then a butterfly in the warp, then the warps in index order: fixed by dim and the block size alone), mean and
// eps in float, scale = (float) (1 / sqrt((double) (mean + eps))), out = (x * scale) * w.   [grid rows, block 256]
extern "C" __global__ void LB_ELEMENTWISE rmsnorm(const float* __restrict__ x, const int* __restrict__ row_index,
                                                  const float* __restrict__ w, float* __restrict__ out, int dim,
                                                  float eps) {
    __shared__ double part[32];
    __shared__ double total;
    const size_t row = blockIdx.x;
    const size_t src = row_index ? (size_t) row_index[row] : row;
    const float* xr = x + src * dim;
    double s = 0.0;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = xr[i];
        s += (double) __fmul_rn(v, v);
    }
    s = warp_sum_double(s);
    const int warps = (blockDim.x + 31) >> 5;
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = s;
    __syncthreads();   // every warp's partial is in shared memory before warp 0 adds them
    if (threadIdx.x == 0) {
        double t = 0.0;
        for (int i = 0; i < warps; i++) t += part[i];
        total = t;
    }
    __syncthreads();   // the total is visible to every thread
    const float mean = (float) (total / dim);
    const float scale = (float) (1.0 / sqrt((double) __fadd_rn(mean, eps)));
    float* o = out + row * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = __fmul_rn(__fmul_rn(xr[i], scale), w[i]);
}

// x[r][j] += bias[j], grid-stride.                                   [grid ceil(rows*width/256), block 256]
extern "C" __global__ void LB_ELEMENTWISE add_bias(float* __restrict__ x, const float* __restrict__ bias, int rows,
                                                   int width) {
    const size_t n = (size_t) rows * width;
    for (size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t) gridDim.x * blockDim.x)
        x[i] = __fadd_rn(x[i], bias[i % width]);
}

// g[i] = silu(g[i]) * u[i] = g / (1 + exp(-g)) * u, grid-stride.                [grid ceil(n/256), block 256]
extern "C" __global__ void LB_ELEMENTWISE swiglu(float* __restrict__ g, const float* __restrict__ u, int n) {
    for (size_t i = (size_t) blockIdx.x * blockDim.x + threadIdx.x; i < (size_t) n; i += (size_t) gridDim.x * blockDim.x) {
        const float a = g[i];
        g[i] = __fmul_rn(__fdiv_rn(a, __fadd_rn(1.f, expf(-a))), u[i]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// 8-bit activations per 32-value tile, bit-identical to QuantizedActivations.quantizeTile:
//   amax = max |x|; d = amax / 127f; id = d != 0 ? 1f / d : 0; v = x * id (float);
//   q = v < 0 ? -floor(-v + 0.5f) : floor(v + 0.5f)   (the + 0.5f rounds in float, then floor).
// Every step is a single IEEE-rounded float operation (division and reciprocal correctly rounded), and the max
// is exact in any order, so the warp butterfly gives the CPU's bits.          [grid ceil(tiles/4), block 128]
extern "C" __global__ void LB_ROW128 quantize_q8(const float* __restrict__ x, signed char* __restrict__ xq,
                                                 float* __restrict__ xd, int tiles) {
    const size_t tile = (size_t) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (tile >= (size_t) tiles) return;   // whole warps leave together: the shuffles below see full warps
    const float v = x[tile * QK + lane];
    const float amax = warp_max(fabsf(v));
    const float d = __fdiv_rn(amax, 127.f);
    const float id = d != 0.f ? __frcp_rn(d) : 0.f;
    const float s = __fmul_rn(v, id);
    const float r = floorf(__fadd_rn(fabsf(s), 0.5f));
    xq[tile * QK + lane] = (signed char) (int) (s < 0.f ? -r : r);
    if (lane == 0) xd[tile] = d;
}

// ---------------------------------------------------------------------------------------------------------------
// Decode GEMV, N tokens per launch: y[t][r] (+)= dot(W[r], x[t]) for t < ntok. One warp per row, 4 rows per block,
// weights read once for all N tokens. Float formats: chunk q of a row holds elements q*C .. q*C+C-1 (C = 4 for
// f32, 8 for f16/bf16: 16 bytes of weights); lane l takes chunks l, l+32, ... and adds each chunk's products in
// element order into one accumulator per token; then a butterfly over the warp. That order is the same in the
// vector path (16-byte loads, when cols % C == 0 and W and x are 16-byte aligned) and in the scalar path (the
// tail of odd widths like 172), so each output depends only on (r, cols).       [grid ceil(rows/4), block 128]
template <int F> struct FloatChunk { static constexpr int C = F == FMT_F32 ? 4 : 8; };

template <int F>
__device__ __forceinline__ void load_chunk_vec(const void* wrow, int q, float* w) {
    if (F == FMT_F32) {
        const float4 a = __ldg((const float4*) wrow + q);
        w[0] = a.x; w[1] = a.y; w[2] = a.z; w[3] = a.w;
    } else {
        const uint4 a = __ldg((const uint4*) wrow + q);
        const uint32_t u[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            w[2 * i] = F == FMT_F16 ? f16_bits(u[i] & 0xffffu) : bf16_bits(u[i] & 0xffffu);
            w[2 * i + 1] = F == FMT_F16 ? f16_bits(u[i] >> 16) : bf16_bits(u[i] >> 16);
        }
    }
}

template <int F, int N>
__device__ __forceinline__ void gemv_float_body(const void* __restrict__ W, const float* __restrict__ x,
                                                float* __restrict__ y, int rows, int cols, int ntok, int accumulate) {
    constexpr int C = FloatChunk<F>::C;
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    const int nchunks = (cols + C - 1) / C;
    const size_t esize = F == FMT_F32 ? 4 : 2;
    const char* wrow = (const char*) W + (size_t) row * cols * esize;
    if (cols % C == 0 && aligned16(wrow) && aligned16(x)) {
        for (int q = lane; q < nchunks; q += 32) {
            float w[C];
            load_chunk_vec<F>(wrow, q, w);
#pragma unroll
            for (int t = 0; t < N; t++) {
                if (t < ntok) {
                    const float4* xv = (const float4*) (x + (size_t) t * cols + (size_t) q * C);
#pragma unroll
                    for (int v = 0; v < C / 4; v++) {
                        const float4 a = __ldg(xv + v);
                        acc[t] = fmaf(w[4 * v], a.x, acc[t]);
                        acc[t] = fmaf(w[4 * v + 1], a.y, acc[t]);
                        acc[t] = fmaf(w[4 * v + 2], a.z, acc[t]);
                        acc[t] = fmaf(w[4 * v + 3], a.w, acc[t]);
                    }
                }
            }
        }
    } else {
        for (int q = lane; q < nchunks; q += 32) {
#pragma unroll
            for (int e = 0; e < C; e++) {
                const int c = q * C + e;
                if (c < cols) {
                    const float w = weight_at<F>(W, row, cols, c);
#pragma unroll
                    for (int t = 0; t < N; t++)
                        if (t < ntok) acc[t] = fmaf(w, __ldg(x + (size_t) t * cols + c), acc[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float s = warp_sum(acc[t]);   // every lane takes part, also for t >= ntok (then s is unused)
        if (lane == 0 && t < ntok) {
            float* o = y + (size_t) t * rows + row;
            *o = accumulate ? *o + s : s;
        }
    }
}

// xq is read with 32-bit loads when 4-byte aligned, bytewise otherwise (a GEMV launch may start mid-buffer).
__device__ __forceinline__ int load_i32_any(const signed char* p, bool a4) {
    if (a4) return *(const int*) p;
    return (int) ((uint32_t) (uint8_t) p[0] | ((uint32_t) (uint8_t) p[1] << 8) | ((uint32_t) (uint8_t) p[2] << 16) |
                  ((uint32_t) (uint8_t) p[3] << 24));
}

// Q8_0 over 8-bit activations (quantize_q8) with dp4a, as Q4_0 below and as the CPU's Q8_0Tensor: per tile the
// integer dot sum(w[j] * q[j]) is exact. Lane l takes quarter (l & 3) of blocks (l >> 2) + 8k: weight bytes
// 8*quarter .. +7 (two 32-bit words built from 16-bit loads; blocks are 2-byte aligned), the same 8 activation
// bytes; then acc = fma((float) dot, d * xd, acc). |dot| <= 8 * 127 * 128 < 2^24, so the conversion is exact.
template <int N>
__device__ __forceinline__ void gemv_q8_0_body(const block_q8_0* __restrict__ W, const signed char* __restrict__ xq,
                                               const float* __restrict__ xd, float* __restrict__ y, int rows, int cols,
                                               int ntok, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int nb = cols / QK;
    const int quarter = lane & 3;
    const block_q8_0* wr = W + (size_t) row * nb;
    const bool a4 = ((uintptr_t) xq & 3) == 0;
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    for (int b = lane >> 2; b < nb; b += 8) {
        const block_q8_0* blk = wr + b;
        const float d = __half2float(blk->d);
        const int w0 = (int) load_u32_b2(blk->qs + quarter * 8);
        const int w1 = (int) load_u32_b2(blk->qs + quarter * 8 + 4);
#pragma unroll
        for (int t = 0; t < N; t++) {
            if (t < ntok) {
                const signed char* xt = xq + (size_t) t * cols + (size_t) b * QK + quarter * 8;
                const int dot = __dp4a(w1, load_i32_any(xt + 4, a4), __dp4a(w0, load_i32_any(xt, a4), 0));
                acc[t] = fmaf((float) dot, __fmul_rn(d, xd[(size_t) t * nb + b]), acc[t]);
            }
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float s = warp_sum(acc[t]);
        if (lane == 0 && t < ntok) {
            float* o = y + (size_t) t * rows + row;
            *o = accumulate ? *o + s : s;
        }
    }
}

// Q4_0 over 8-bit activations (quantize_q8) with dp4a: per tile the integer dot is exact,
// sum((n - 8) * q) = dot(n, q) - 8 * sum(q). Lane l takes quarter (l & 3) of blocks (l >> 2) + 8k: weight bytes
// 4*quarter .. +3, i.e. elements 4*quarter .. +3 (low nibbles) and 16 + 4*quarter .. +3 (high nibbles).
template <int N>
__device__ __forceinline__ void gemv_q4_0_body(const block_q4_0* __restrict__ W, const signed char* __restrict__ xq,
                                               const float* __restrict__ xd, float* __restrict__ y, int rows, int cols,
                                               int ntok, int accumulate) {
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows) return;
    const int nb = cols / QK;
    const int quarter = lane & 3;
    const block_q4_0* wr = W + (size_t) row * nb;
    const bool a4 = ((uintptr_t) xq & 3) == 0;
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    for (int b = lane >> 2; b < nb; b += 8) {
        const block_q4_0* blk = wr + b;
        const float d = __half2float(blk->d);
        const uint32_t packed = load_u32_b2(blk->qs + quarter * 4);
        const int lo = (int) (packed & 0x0F0F0F0Fu);          // n[4q .. 4q+3], 0..15
        const int hi = (int) ((packed >> 4) & 0x0F0F0F0Fu);   // n[16+4q .. 16+4q+3]
#pragma unroll
        for (int t = 0; t < N; t++) {
            if (t < ntok) {
                const signed char* xt = xq + (size_t) t * cols + (size_t) b * QK + quarter * 4;
                const int xlo = load_i32_any(xt, a4);
                const int xhi = load_i32_any(xt + 16, a4);
                const int dot = __dp4a(hi, xhi, __dp4a(lo, xlo, 0));
                const int qsum = __dp4a(0x01010101, xhi, __dp4a(0x01010101, xlo, 0));
                const float p = (float) (dot - 8 * qsum);
                acc[t] = fmaf(p, __fmul_rn(d, xd[(size_t) t * nb + b]), acc[t]);
            }
        }
    }
#pragma unroll
    for (int t = 0; t < N; t++) {
        const float s = warp_sum(acc[t]);
        if (lane == 0 && t < ntok) {
            float* o = y + (size_t) t * rows + row;
            *o = accumulate ? *o + s : s;
        }
    }
}

#define GEMV_FLOAT(NAME, F, N) \
    extern "C" __global__ void LB_GEMV gemv_##NAME##_t##N(const void* W, const float* x, float* y, int rows, \
                                                          int cols, int ntok, int accumulate) { \
        gemv_float_body<F, N>(W, x, y, rows, cols, ntok, accumulate); }
#define GEMV_Q8(N) \
    extern "C" __global__ void LB_GEMV gemv_q8_0_t##N(const void* W, const signed char* xq, const float* xd, \
                                                      float* y, int rows, int cols, int ntok, int accumulate) { \
        gemv_q8_0_body<N>((const block_q8_0*) W, xq, xd, y, rows, cols, ntok, accumulate); }
#define GEMV_Q4(N) \
    extern "C" __global__ void LB_GEMV gemv_q4_0_t##N(const void* W, const signed char* xq, const float* xd, \
                                                      float* y, int rows, int cols, int ntok, int accumulate) { \
        gemv_q4_0_body<N>((const block_q4_0*) W, xq, xd, y, rows, cols, ntok, accumulate); }
#define GEMV_ALL(N) GEMV_FLOAT(f32, FMT_F32, N) GEMV_FLOAT(f16, FMT_F16, N) GEMV_FLOAT(bf16, FMT_BF16, N) \
    GEMV_Q8(N) GEMV_Q4(N)
GEMV_ALL(1) GEMV_ALL(2) GEMV_ALL(4) GEMV_ALL(8)

// ---------------------------------------------------------------------------------------------------------------
// Prefill GEMM on tensor cores (WMMA m16n16k16, f16 in, f32 accumulate): C[m][n] (+)= sum_k A[m][k] * B[n][k].
// Block tile 64 (M) x 64 (N), 4 warps of 32x32 (2x2 fragments), K step 32. Per step A (f32) is rounded to f16
// into shared memory and B is converted/dequantized to f16 into shared memory (for Q8_0/Q4_0 one K step is
// exactly one block per row). Elements past M, N or K are zeros, so partial tiles and (float formats) any K work.
// Each C element is the sum over k-steps of its own row of A and column of B: nothing of other rows enters it.
//                                                                 [grid (ceil(N/64), ceil(M/64)), block 128]
#define GT_M 64
#define GT_N 64
#define GT_K 32
#define GT_LD (GT_K + 8)   // padded row (80 bytes): keeps every fragment pointer 32-byte aligned, spreads banks

// 8 consecutive elements of row r from column k (k % 8 == 0) of a float-format matrix as floats; zeros past
// cols. vec: the whole row is 16-byte aligned and cols % 8 == 0, so the 8 values are one or two 16-byte loads.
template <int F>
__device__ __forceinline__ void load8_float(const void* M_, size_t r, int cols, int k, bool vec, float* v) {
    if (vec) {
        const char* row = (const char*) M_ + r * cols * (F == FMT_F32 ? 4 : 2);
        if (F == FMT_F32) {
            load_chunk_vec<F>(row, k / 4, v);
            load_chunk_vec<F>(row, k / 4 + 1, v + 4);
        } else {
            load_chunk_vec<F>(row, k / 8, v);
        }
    } else {
#pragma unroll
        for (int e = 0; e < 8; e++) v[e] = k + e < cols ? weight_at<F>(M_, r, cols, k + e) : 0.f;
    }
}

template <int F>
__device__ __forceinline__ void gemm_body(const float* __restrict__ A, const void* __restrict__ B, float* __restrict__ C,
                                          int M, int N, int K, int accumulate) {
    __shared__ __align__(32) half As[GT_M][GT_LD];
    __shared__ __align__(32) half Bs[GT_N][GT_LD];
    __shared__ __align__(32) float Cs[4][32][36];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int m0 = blockIdx.y * GT_M, n0 = blockIdx.x * GT_N;
    const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
    const bool avec = K % 8 == 0 && aligned16(A);
    const bool bvec = K % 8 == 0 && aligned16(B);
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.f);
    for (int k0 = 0; k0 < K; k0 += GT_K) {
        // A tile: 64 rows x 4 chunks of 8; thread takes chunks tid and tid + 128.
#pragma unroll
        for (int i = 0; i < 2; i++) {
            const int idx = tid + i * 128, r = idx >> 2, c = (idx & 3) * 8;
            float v[8];
            if (m0 + r < M && k0 + c < K) {
                load8_float<FMT_F32>(A, (size_t) (m0 + r), K, k0 + c, avec, v);
            } else {
#pragma unroll
                for (int e = 0; e < 8; e++) v[e] = 0.f;
            }
#pragma unroll
            for (int e = 0; e < 8; e++) As[r][c + e] = __float2half(v[e]);
        }
        if (F == FMT_Q8_0 || F == FMT_Q4_0) {
            // B tile: 64 rows x one block; two threads per row, 16 elements each (elements h*16 .. h*16+15).
            const int r = tid >> 1, h = tid & 1;
            if (n0 + r < N) {
                const size_t bi = (size_t) (n0 + r) * (K / QK) + k0 / QK;
                if (F == FMT_Q8_0) {
                    const block_q8_0* blk = (const block_q8_0*) B + bi;
                    const float d = __half2float(blk->d);
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        const uint32_t q = load_u32_b2(blk->qs + h * 16 + j * 4);
#pragma unroll
                        for (int e = 0; e < 4; e++)
                            Bs[r][h * 16 + j * 4 + e] = __float2half(d * (float) (int8_t) (q >> (8 * e)));
                    }
                } else {
                    // Thread h = 0 takes the low nibbles of bytes 0..15 (elements 0..15), h = 1 the high ones.
                    const block_q4_0* blk = (const block_q4_0*) B + bi;
                    const float d = __half2float(blk->d);
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        const uint32_t q = load_u32_b2(blk->qs + j * 4) >> (4 * h);
#pragma unroll
                        for (int e = 0; e < 4; e++)
                            Bs[r][h * 16 + j * 4 + e] = __float2half(d * (float) ((int) ((q >> (8 * e)) & 15) - 8));
                    }
                }
            } else {
#pragma unroll
                for (int e = 0; e < 16; e++) Bs[r][h * 16 + e] = __float2half(0.f);
            }
        } else {
#pragma unroll
            for (int i = 0; i < 2; i++) {
                const int idx = tid + i * 128, r = idx >> 2, c = (idx & 3) * 8;
                float v[8];
                if (n0 + r < N && k0 + c < K) {
                    load8_float<F>(B, (size_t) (n0 + r), K, k0 + c, bvec, v);
                } else {
#pragma unroll
                    for (int e = 0; e < 8; e++) v[e] = 0.f;
                }
#pragma unroll
                for (int e = 0; e < 8; e++) Bs[r][c + e] = __float2half(v[e]);
            }
        }
        __syncthreads();   // tiles complete before any warp reads them
#pragma unroll
        for (int kk = 0; kk < GT_K; kk += 16) {
            wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> b[2];
#pragma unroll
            for (int i = 0; i < 2; i++) wmma::load_matrix_sync(a[i], &As[wm + i * 16][kk], GT_LD);
#pragma unroll
            for (int j = 0; j < 2; j++) wmma::load_matrix_sync(b[j], &Bs[wn + j * 16][kk], GT_LD);
#pragma unroll
            for (int i = 0; i < 2; i++)
#pragma unroll
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        __syncthreads();   // every warp is done with the tiles before the next step overwrites them
    }
#pragma unroll
    for (int i = 0; i < 2; i++)
#pragma unroll
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(&Cs[warp][i * 16][j * 16], acc[i][j], 36, wmma::mem_row_major);
    __syncwarp();   // the warp's fragments are in shared memory before its lanes read them back
    for (int e = lane; e < 32 * 32; e += 32) {
        const int r = e >> 5, c = e & 31;
        const int m = m0 + wm + r, n = n0 + wn + c;
        if (m < M && n < N) {
            float* o = C + (size_t) m * N + n;
            *o = accumulate ? *o + Cs[warp][r][c] : Cs[warp][r][c];
        }
    }
}
#define GEMM(NAME, F) \
    extern "C" __global__ void LB_GEMM gemm_##NAME(const float* A, const void* B, float* C, int M, int N, int K, \
                                                   int accumulate) { \
        gemm_body<F>(A, B, C, M, N, K, accumulate); }
GEMM(f32, FMT_F32) GEMM(f16, FMT_F16) GEMM(bf16, FMT_BF16) GEMM(q8_0, FMT_Q8_0) GEMM(q4_0, FMT_Q4_0)

// ---------------------------------------------------------------------------------------------------------------
// RoPE in place on q [rows][heads][head_dim] and k [rows][kv_heads][head_dim], then k and v rows stored as f16
// into the layer's paged cache half[blocks][kv_heads][block_size][head_dim] at slot_mapping[r].
// Angles as Rope.java: theta_0 = (float) pos, theta_{i+1} = theta_i * theta_scale in float, cos/sin as
// (float) cos((double) theta); the per-row table (rope_dims / 2 <= 128 entries) is built once in shared memory.
// Rotation x0' = x0*c - x1*s, x1' = x0*s + x1*c with separately rounded products, as Java computes it.
// Pairs: (2i, 2i+1) interleaved, (i, i + rope_dims/2) NeoX; elements past rope_dims pass through.
//                                                                                    [grid rows, block 128]
extern "C" __global__ void LB_ROW128 rope_kv_write(float* __restrict__ q, float* __restrict__ k,
                                                   const float* __restrict__ v, half* __restrict__ k_cache,
                                                   half* __restrict__ v_cache, const int* __restrict__ positions,
                                                   const int* __restrict__ slot_mapping, int heads, int kv_heads,
                                                   int head_dim, int rope_dims, float theta_scale, int neox,
                                                   int block_size) {
    __shared__ float cos_t[128], sin_t[128];
    const size_t row = blockIdx.x;
    const int half_ = rope_dims / 2;
    const int pos = positions[row];
    for (int i = threadIdx.x; i < half_; i += blockDim.x) {
        float theta = (float) pos;
        for (int j = 0; j < i; j++) theta = __fmul_rn(theta, theta_scale);
        cos_t[i] = (float) cos((double) theta);
        sin_t[i] = (float) sin((double) theta);
    }
    __syncthreads();   // the angle table is complete before any rotation reads it
    const int pairs = (heads + kv_heads) * half_;
    for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
        const int h = p / half_, i = p % half_;
        float* base = h < heads ? q + (row * heads + h) * head_dim : k + (row * kv_heads + (h - heads)) * head_dim;
        const int i0 = neox ? i : 2 * i, i1 = neox ? i + half_ : 2 * i + 1;
        const float x0 = base[i0], x1 = base[i1], c = cos_t[i], s = sin_t[i];
        base[i0] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
        base[i1] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
    }
    __syncthreads();   // k is rotated (by other threads) before it is stored
    const int slot = slot_mapping[row];
    const size_t blk = (size_t) (slot / block_size), off = (size_t) (slot % block_size);
    const int kv_dim = kv_heads * head_dim;
    for (int e = threadIdx.x; e < kv_dim; e += blockDim.x) {
        const int h = e / head_dim, d = e % head_dim;
        const size_t dst = ((blk * kv_heads + h) * block_size + off) * head_dim + d;
        k_cache[dst] = __float2half(k[row * kv_dim + e]);
        v_cache[dst] = __float2half(v[row * kv_dim + e]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Paged attention for a ragged batch. Block (h, r): query head h of row r, which belongs to sequence slot
// row_slot[r] at position row_pos[r] and attends to positions 0..row_pos[r] through the slot's block table.
// Its 4 warps take the sequence's logical blocks round robin (warp w: blocks w, w+4, ...); in a warp, lane l
// holds the element pairs l, l+32, ... of the head (head_dim / 2 <= 128 pairs: at most 4 per lane), so one
// position's K (or V) row is read as one coalesced run of half2. Each warp keeps an online softmax in base 2
// (running max m, sum l, accumulator); the 4 are merged in warp order through shared memory.
// HD = 0: head_dim from the argument (any even value <= 256); HD > 0: fixed at compile time (same parameters).
//                                                                             [grid (heads, rows), block 128]
#define ATT_WARPS 4
template <int HD>
__device__ __forceinline__ void attention_body(float* __restrict__ out, const float* __restrict__ q,
                                               const half* __restrict__ k_cache, const half* __restrict__ v_cache,
                                               const int* __restrict__ block_tables, const int* __restrict__ row_slot,
                                               const int* __restrict__ row_pos, int heads, int kv_heads, int head_dim,
                                               int block_size, int max_blocks, float scale) {
    constexpr int P = HD ? (HD / 2 + 31) / 32 : 4;   // pairs per lane
    const int D = HD ? HD : head_dim;
    const int npairs = D / 2;
    const int h = blockIdx.x;
    const size_t row = blockIdx.y;
    const int kvh = h / (heads / kv_heads);
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int len = row_pos[row] + 1;
    const int* table = block_tables + (size_t) row_slot[row] * max_blocks;
    const float qscale = scale * 1.4426950408889634f;   // scores in base 2: exp(x) = exp2(x * log2 e)
    const float* qh = q + (row * heads + h) * D;
    float2 qr[P], acc[P];
#pragma unroll
    for (int j = 0; j < P; j++) {
        const int p = lane + 32 * j;
        qr[j] = p < npairs ? make_float2(qh[2 * p] * qscale, qh[2 * p + 1] * qscale) : make_float2(0.f, 0.f);
        acc[j] = make_float2(0.f, 0.f);
    }
    float m = -INFINITY, l = 0.f;
    const int nblocks = (len + block_size - 1) / block_size;
    for (int lb = warp; lb < nblocks; lb += ATT_WARPS) {
        const size_t base = ((size_t) table[lb] * kv_heads + kvh) * block_size * D;
        const int end = min(block_size, len - lb * block_size);
        for (int i = 0; i < end; i++) {
            const half2* kp = (const half2*) (k_cache + base + (size_t) i * D);
            const half2* vp = (const half2*) (v_cache + base + (size_t) i * D);
            float s = 0.f;
#pragma unroll
            for (int j = 0; j < P; j++) {
                const int p = lane + 32 * j;
                if (p < npairs) {
                    const float2 kk = __half22float2(kp[p]);
                    s = fmaf(qr[j].x, kk.x, s);
                    s = fmaf(qr[j].y, kk.y, s);
                }
            }
            s = warp_sum(s);
            const float mn = fmaxf(m, s);
            const float corr = exp2f(m - mn);   // 0 at the first position (m = -inf)
            const float pr = exp2f(s - mn);
            l = fmaf(l, corr, pr);
#pragma unroll
            for (int j = 0; j < P; j++) {
                const int p = lane + 32 * j;
                if (p < npairs) {
                    const float2 vv = __half22float2(vp[p]);
                    acc[j].x = fmaf(pr, vv.x, acc[j].x * corr);
                    acc[j].y = fmaf(pr, vv.y, acc[j].y * corr);
                }
            }
            m = mn;
        }
    }
    __shared__ float sm_m[ATT_WARPS], sm_l[ATT_WARPS];
    __shared__ float sm_acc[ATT_WARPS][HD ? HD : 256];
    if (lane == 0) { sm_m[warp] = m; sm_l[warp] = l; }
#pragma unroll
    for (int j = 0; j < P; j++) {
        const int p = lane + 32 * j;
        if (p < npairs) { sm_acc[warp][2 * p] = acc[j].x; sm_acc[warp][2 * p + 1] = acc[j].y; }
    }
    __syncthreads();   // all warps' partial softmax states are in shared memory before the merge
    float Mx = -INFINITY;
#pragma unroll
    for (int w = 0; w < ATT_WARPS; w++) Mx = fmaxf(Mx, sm_m[w]);
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float L = 0.f, S = 0.f;
#pragma unroll
        for (int w = 0; w < ATT_WARPS; w++) {
            const float c = sm_l[w] > 0.f ? exp2f(sm_m[w] - Mx) : 0.f;   // a warp without positions adds nothing
            L = fmaf(sm_l[w], c, L);
            S = fmaf(sm_acc[w][d], c, S);
        }
        out[(row * heads + h) * D + d] = S / L;
    }
}
#define ATTENTION(NAME, HD) \
    extern "C" __global__ void LB_ATTENTION NAME(float* out, const float* q, const half* k_cache, const half* v_cache, \
            const int* block_tables, const int* row_slot, const int* row_pos, int heads, int kv_heads, int head_dim, \
            int block_size, int max_blocks, float scale) { \
        attention_body<HD>(out, q, k_cache, v_cache, block_tables, row_slot, row_pos, heads, kv_heads, head_dim, \
                           block_size, max_blocks, scale); }
ATTENTION(paged_attention, 0) ATTENTION(paged_attention_d64, 64) ATTENTION(paged_attention_d128, 128)

// ---------------------------------------------------------------------------------------------------------------
#ifdef CONTINUUM_CPU_SHIM
// Every entry point, for the emulated driver's name -> function table; the build gate checks this list equals
// the .entry set of the PTX.
#define CONTINUUM_KERNELS(X) \
    X(embed_f32) X(embed_f16) X(embed_bf16) X(embed_q8_0) X(embed_q4_0) \
    X(rmsnorm) X(add_bias) X(swiglu) X(quantize_q8) \
    X(gemv_f32_t1) X(gemv_f32_t2) X(gemv_f32_t4) X(gemv_f32_t8) \
    X(gemv_f16_t1) X(gemv_f16_t2) X(gemv_f16_t4) X(gemv_f16_t8) \
    X(gemv_bf16_t1) X(gemv_bf16_t2) X(gemv_bf16_t4) X(gemv_bf16_t8) \
    X(gemv_q8_0_t1) X(gemv_q8_0_t2) X(gemv_q8_0_t4) X(gemv_q8_0_t8) \
    X(gemv_q4_0_t1) X(gemv_q4_0_t2) X(gemv_q4_0_t4) X(gemv_q4_0_t8) \
    X(gemm_f32) X(gemm_f16) X(gemm_bf16) X(gemm_q8_0) X(gemm_q4_0) \
    X(rope_kv_write) \
    X(paged_attention) X(paged_attention_d64) X(paged_attention_d128)
#endif
