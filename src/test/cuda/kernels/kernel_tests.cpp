// Kernel tests for src/main/cuda/continuum.cu against float64 scalar references. One source, two builds:
//   CPU shim: g++ -std=c++20 -O1 -ffp-contract=off -fsanitize=address,undefined -DCONTINUUM_CPU_SHIM
//             -Isrc/test/cuda/shim -I/usr/local/cuda/include src/test/cuda/kernels/kernel_tests.cpp -lpthread
//   real GPU: src/main/cuda/build.sh device-tests OUTDIR   (nvcc -x cu)
// Every check prints one line "PASS <name> ..." or "FAIL <name> ..."; the exit status is the number of failures.
// Buffers are allocated at exactly the size a kernel may touch, so under ASan any read or write past what the
// ABI allows (rows, ntok, tiles, partial GEMM tiles) is a heap-buffer-overflow.
#include "../../../main/cuda/continuum.cu"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

// ---- Launch and memory: the only part that differs between the builds ---------------------------------------
#ifdef CONTINUUM_CPU_SHIM
template <class T> struct Buf {
    std::vector<T> h;
    explicit Buf(size_t n) : h(n) {}
    T* d() { return h.data(); }
    void up() {}
    void down() {}
};
#define LAUNCH(kernel, grid, block, ...) shim::launch(grid, block, [&] { kernel(__VA_ARGS__); })
static const char* kBuild = "cpu-shim";
#else
static void cuda_check(const char* what, cudaError_t e) {
    if (e != cudaSuccess) {
        printf("FAIL %s: %s\n", what, cudaGetErrorString(e));
        exit(100);
    }
}
template <class T> struct Buf {
    std::vector<T> h;
    T* p = nullptr;
    explicit Buf(size_t n) : h(n) { cuda_check("cudaMalloc", cudaMalloc(&p, std::max<size_t>(1, n) * sizeof(T))); }
    ~Buf() { cudaFree(p); }
    Buf(const Buf&) = delete;
    T* d() { return p; }
    void up() { cuda_check("upload", cudaMemcpy(p, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice)); }
    void down() { cuda_check("download", cudaMemcpy(h.data(), p, h.size() * sizeof(T), cudaMemcpyDeviceToHost)); }
};
#define LAUNCH(kernel, grid, block, ...) \
    do { kernel<<<grid, block>>>(__VA_ARGS__); cuda_check(#kernel, cudaDeviceSynchronize()); } while (0)
static const char* kBuild = "cuda";
#endif

// ---- Checks ----------------------------------------------------------------------------------------------------
static int g_fail = 0, g_pass = 0;
static std::mt19937 rng(20240601);
static float urand(float a = -1.f, float b = 1.f) { return std::uniform_real_distribution<float>(a, b)(rng); }

static void report(const std::string& name, bool ok, const char* fmt, double a = 0, double b = 0) {
    char buf[256];
    snprintf(buf, sizeof buf, fmt, a, b);
    printf("%s %s %s\n", ok ? "PASS" : "FAIL", name.c_str(), buf);
    (ok ? g_pass : g_fail)++;
}
// max |got - ref| / max(max |ref|, 1e-30): an error relative to the output's scale.
static double rel_err(const float* got, const double* ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = std::fabs((double) got[i] - ref[i]);
        num = std::isnan(e) ? INFINITY : std::max(num, e);
        den = std::max(den, std::fabs(ref[i]));
    }
    return num / std::max(den, 1e-30);
}
static void check_close(const std::string& name, const float* got, const double* ref, size_t n, double tol) {
    const double e = rel_err(got, ref, n);
    report(name, e <= tol, "max rel err %.3e (tol %.0e)", e, tol);
}
static size_t count_bit_diffs(const float* a, const float* b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += std::memcmp(a + i, b + i, 4) != 0;
    return d;
}
static void check_bits(const std::string& name, const float* a, const float* b, size_t n) {
    const size_t d = count_bit_diffs(a, b, n);
    report(name, d == 0, "%.0f of %.0f values differ in bits", (double) d, (double) n);
}
static float h2f(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }
static uint16_t f2h(float f) { return __half_as_ushort(__float2half(f)); }
static float round_half(float f) { return __half2float(__float2half(f)); }

// ---- Weights in the five formats -------------------------------------------------------------------------------
static const char* kFmtName[] = {"f32", "f16", "bf16", "q8_0", "q4_0"};
struct Weights {
    int fmt, rows, cols;
    std::vector<uint8_t> bytes;
    size_t row_bytes() const {
        switch (fmt) {
            case FMT_F32: return (size_t) cols * 4;
            case FMT_F16: case FMT_BF16: return (size_t) cols * 2;
            case FMT_Q8_0: return (size_t) cols / QK * 34;
            default: return (size_t) cols / QK * 18;
        }
    }
    Weights(int f, int r, int c) : fmt(f), rows(r), cols(c), bytes(row_bytes() * r) {
        uint8_t* p = bytes.data();
        if (fmt == FMT_F32) for (size_t i = 0; i < (size_t) r * c; i++) { float v = urand(); memcpy(p + 4 * i, &v, 4); }
        if (fmt == FMT_F16) for (size_t i = 0; i < (size_t) r * c; i++) { uint16_t v = f2h(urand()); memcpy(p + 2 * i, &v, 2); }
        if (fmt == FMT_BF16)
            for (size_t i = 0; i < (size_t) r * c; i++) { float f = urand(); uint32_t u; memcpy(&u, &f, 4); uint16_t v = u >> 16; memcpy(p + 2 * i, &v, 2); }
        if (fmt == FMT_Q8_0 || fmt == FMT_Q4_0) {
            const size_t bs = fmt == FMT_Q8_0 ? 34 : 18, nblk = (size_t) r * c / QK;
            for (size_t b = 0; b < nblk; b++) {
                uint16_t d = f2h(urand(0.001f, 0.05f));
                memcpy(p + b * bs, &d, 2);
                for (size_t j = 2; j < bs; j++) p[b * bs + j] = (uint8_t) (rng() & 0xff);
            }
        }
    }
    // The value as the kernels dequantize it (exact in float for every format).
    float at(int r, int c) const {
        const uint8_t* row = bytes.data() + row_bytes() * r;
        uint16_t u16;
        switch (fmt) {
            case FMT_F32: { float f; memcpy(&f, row + 4 * c, 4); return f; }
            case FMT_F16: memcpy(&u16, row + 2 * c, 2); return h2f(u16);
            case FMT_BF16: { memcpy(&u16, row + 2 * c, 2); uint32_t u = (uint32_t) u16 << 16; float f; memcpy(&f, &u, 4); return f; }
            case FMT_Q8_0: {
                const uint8_t* b = row + (c / QK) * 34;
                memcpy(&u16, b, 2);
                return h2f(u16) * (float) (int8_t) b[2 + c % QK];
            }
            default: {
                const uint8_t* b = row + (c / QK) * 18;
                memcpy(&u16, b, 2);
                const int j = c % QK, n = j < 16 ? (b[2 + j] & 15) : (b[2 + j - 16] >> 4);
                return h2f(u16) * (float) (n - 8);
            }
        }
    }
};

// ---- embed -----------------------------------------------------------------------------------------------------
template <class K> static void test_embed(int fmt, K kernel) {
    const int vocab = 11, dim = fmt >= FMT_Q8_0 ? 96 : 172, rows = 4;
    Weights w(fmt, vocab, dim);
    Buf<uint8_t> table(w.bytes.size()); table.h = w.bytes; table.up();
    Buf<int> tok(rows); tok.h = {5, 0, 10, 5}; tok.up();
    Buf<float> x((size_t) rows * dim); x.up();
    LAUNCH(kernel, dim3(rows), dim3(128), table.d(), tok.d(), x.d(), dim);
    x.down();
    std::vector<double> ref((size_t) rows * dim);
    for (int r = 0; r < rows; r++) for (int i = 0; i < dim; i++) ref[(size_t) r * dim + i] = w.at(tok.h[r], i);
    check_close(std::string("embed_") + kFmtName[fmt] + " dim " + std::to_string(dim), x.h.data(), ref.data(), ref.size(), 0.0);
}

// ---- rmsnorm, add_bias, swiglu ---------------------------------------------------------------------------------
static void test_rmsnorm(int dim, bool indexed) {
    const int xrows = 3, rows = indexed ? 2 : 3;
    Buf<float> x((size_t) xrows * dim), w(dim), out((size_t) rows * dim);
    for (auto& v : x.h) v = urand(-3, 3);
    for (auto& v : w.h) v = urand(0.5f, 1.5f);
    Buf<int> idx(2); idx.h = {2, 0};
    x.up(); w.up(); idx.up();
    const float eps = 1e-5f;
    LAUNCH(rmsnorm, dim3(rows), dim3(256), x.d(), indexed ? idx.d() : (const int*) nullptr, w.d(), out.d(), dim, eps);
    out.down();
    std::vector<double> ref(out.h.size());
    for (int r = 0; r < rows; r++) {
        const float* xr = x.h.data() + (size_t) (indexed ? idx.h[r] : r) * dim;
        double s = 0;
        for (int i = 0; i < dim; i++) s += (double) xr[i] * xr[i];
        const double sc = 1.0 / std::sqrt(s / dim + eps);
        for (int i = 0; i < dim; i++) ref[(size_t) r * dim + i] = xr[i] * sc * w.h[i];
    }
    check_close("rmsnorm dim " + std::to_string(dim) + (indexed ? " row_index" : ""), out.h.data(), ref.data(), ref.size(), 1e-6);
}

static void test_add_bias() {
    const int rows = 5, width = 172;
    Buf<float> x((size_t) rows * width), b(width);
    for (auto& v : x.h) v = urand();
    for (auto& v : b.h) v = urand();
    std::vector<float> x0 = x.h;
    x.up(); b.up();
    const int n = rows * width;
    LAUNCH(add_bias, dim3((n + 255) / 256), dim3(256), x.d(), b.d(), rows, width);
    x.down();
    std::vector<float> want(x0.size());
    for (int i = 0; i < n; i++) want[i] = x0[i] + b.h[i % width];
    check_bits("add_bias 5x172 (exact)", x.h.data(), want.data(), want.size());
    // A grid smaller than the data: the grid-stride loop covers the rest.
    x.h = x0; x.up();
    LAUNCH(add_bias, dim3(1), dim3(256), x.d(), b.d(), rows, width);
    x.down();
    check_bits("add_bias grid-stride (1 block)", x.h.data(), want.data(), want.size());
}

static void test_swiglu() {
    const int n = 1001;
    Buf<float> g(n), u(n);
    std::vector<double> ref(n);
    for (int i = 0; i < n; i++) {
        g.h[i] = urand(-8, 8); u.h[i] = urand();
        ref[i] = g.h[i] / (1 + std::exp(-(double) g.h[i])) * u.h[i];
    }
    g.up(); u.up();
    LAUNCH(swiglu, dim3((n + 255) / 256), dim3(256), g.d(), u.d(), n);
    g.down();
    check_close("swiglu n 1001", g.h.data(), ref.data(), n, 1e-6);
}

// ---- quantize_q8: bit-identical to QuantizedActivations.quantizeTile ------------------------------------------
// A transcription of the Java (float arithmetic, Math.floor on the float sum widened to double).
static void quantize_tile_java(const float* x, signed char* q, float* d_out) {
    float amax = 0.f;
    for (int j = 0; j < 32; j++) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    for (int j = 0; j < 32; j++) {
        const float v = x[j] * id;
        const int r = (int) (v < 0 ? -std::floor((double) (-v + 0.5f)) : std::floor((double) (v + 0.5f)));
        q[j] = (signed char) r;
    }
    *d_out = d;
}
static void test_quantize_q8() {
    const int tiles = 29;   // not a multiple of the 4 tiles per block
    Buf<float> x((size_t) tiles * 32);
    for (auto& v : x.h) v = urand(-4, 4);
    for (int j = 0; j < 32; j++) x.h[32 + j] = 0.f;                                   // an all-zero tile: d = 0
    for (int j = 0; j < 32; j++) x.h[64 + j] = (j == 0 ? 127.f : (float) (j % 7) - 3.5f);  // ties: d = 1, x = k + 0.5
    for (int j = 0; j < 32; j++) x.h[96 + j] = urand(-1e-30f, 1e-30f);                 // tiny (subnormal d)
    x.up();
    Buf<signed char> xq(x.h.size());
    Buf<float> xd(tiles);
    LAUNCH(quantize_q8, dim3((tiles + 3) / 4), dim3(128), x.d(), xq.d(), xd.d(), tiles);
    xq.down(); xd.down();
    size_t qdiff = 0, ddiff = 0;
    for (int t = 0; t < tiles; t++) {
        signed char q[32]; float d;
        quantize_tile_java(x.h.data() + 32 * t, q, &d);
        ddiff += memcmp(&d, &xd.h[t], 4) != 0;
        for (int j = 0; j < 32; j++) qdiff += q[j] != xq.h[32 * t + j];
    }
    report("quantize_q8 29 tiles bit-identical to quantizeTile (q)", qdiff == 0, "%.0f of %.0f quants differ", (double) qdiff, tiles * 32.0);
    report("quantize_q8 29 tiles bit-identical to quantizeTile (d)", ddiff == 0, "%.0f of %.0f scales differ", (double) ddiff, (double) tiles);
}

// ---- GEMV ------------------------------------------------------------------------------------------------------
typedef void (*GemvF)(const void*, const float*, float*, int, int, int, int);
typedef void (*GemvQ)(const void*, const signed char*, const float*, float*, int, int, int, int);
struct GemvSet { GemvF f[4]; GemvQ q[4]; };
static const int kNs[4] = {1, 2, 4, 8};

// Q8_0 and Q4_0 multiply 8-bit activations (quantize_q8), as the CPU's Q8_0Tensor and Q4_0Tensor do.
static bool quantized_x(int fmt) { return fmt == FMT_Q8_0 || fmt == FMT_Q4_0; }

// Runs the GEMV of format fmt with N = kNs[ni] over ntok tokens. x (or xq/xd) hold exactly ntok rows.
static void run_gemv(int fmt, const GemvSet& s, int ni, Buf<uint8_t>& W, const float* xp, const signed char* xqp,
                     const float* xdp, float* yp, int rows, int cols, int ntok, int acc) {
    const dim3 grid((rows + 3) / 4), block(128);
    if (quantized_x(fmt)) {
        GemvQ k = s.q[ni];
        LAUNCH(k, grid, block, W.d(), xqp, xdp, yp, rows, cols, ntok, acc);
    } else {
        GemvF k = s.f[ni];
        LAUNCH(k, grid, block, W.d(), xp, yp, rows, cols, ntok, acc);
    }
}

static void test_gemv(int fmt, const GemvSet& s, int rows, int cols) {
    const std::string base = std::string("gemv_") + kFmtName[fmt] + " " + std::to_string(rows) + "x" + std::to_string(cols);
    Weights w(fmt, rows, cols);
    Buf<uint8_t> W(w.bytes.size()); W.h = w.bytes; W.up();
    const int T = 8, nb = cols / QK;
    // x with one spare float in front, so x + 1 is a misaligned copy (forces the scalar path of the float formats).
    Buf<float> xbuf((size_t) T * cols + 1);
    for (auto& v : xbuf.h) v = urand();
    xbuf.up();
    float* x = xbuf.d() + 1;   // misaligned by 4 bytes
    const float* xh = xbuf.h.data() + 1;
    Buf<float> xal((size_t) T * cols);   // the same values, 16-byte aligned
    memcpy(xal.h.data(), xh, xal.h.size() * 4); xal.up();
    // Q8_0/Q4_0: the activations quantized on the device (quantize_q8, tested above), the reference uses q * d.
    const bool qx = quantized_x(fmt);
    Buf<signed char> xq((size_t) T * cols);
    Buf<float> xd(qx ? (size_t) T * nb : 1);
    if (qx) {
        const int tiles = T * nb;
        LAUNCH(quantize_q8, dim3((tiles + 3) / 4), dim3(128), xal.d(), xq.d(), xd.d(), tiles);
        xq.down(); xd.down();
    }
    std::vector<double> ref((size_t) T * rows), ref_x((size_t) T * rows);
    for (int t = 0; t < T; t++)
        for (int r = 0; r < rows; r++) {
            double a = 0, b = 0;
            for (int c = 0; c < cols; c++) {
                const double wv = w.at(r, c);
                const double xv = xh[(size_t) t * cols + c];
                b += wv * xv;
                a += qx ? wv * (double) xq.h[(size_t) t * cols + c] * xd.h[(size_t) t * nb + c / QK] : wv * xv;
            }
            ref[(size_t) t * rows + r] = a;
            ref_x[(size_t) t * rows + r] = b;
        }
    // Single-token runs, one per token: the reference bits for every N (batch invariance).
    Buf<float> ysingle((size_t) T * rows);
    for (int t = 0; t < T; t++)
        run_gemv(fmt, s, 0, W, xal.d() + (size_t) t * cols, xq.d() + (size_t) t * cols, xd.d() + (size_t) t * nb,
                 ysingle.d() + (size_t) t * rows, rows, cols, 1, 0);
    ysingle.down();
    check_close(base + " t1 vs float64" + (qx ? " of quantized x" : ""), ysingle.h.data(), ref.data(), ref.size(), 2e-6);
    if (qx) check_close(base + " t1 vs float64 of unquantized x", ysingle.h.data(), ref_x.data(), ref.size(), 2e-2);
    for (int ni = 0; ni < 4; ni++) {
        const int N = kNs[ni];
        for (int ntok : {N, N - 1}) {
            if (ntok < 1 || (ntok == N - 1 && N == 1)) continue;
            const std::string name = base + " t" + std::to_string(N) + " ntok " + std::to_string(ntok);
            // x, xq, xd and y hold exactly ntok rows: touching token ntok is an ASan error.
            Buf<float> xs((size_t) ntok * cols);
            memcpy(xs.h.data(), xh, xs.h.size() * 4); xs.up();
            Buf<signed char> xqs((size_t) ntok * cols);
            memcpy(xqs.h.data(), xq.h.data(), xqs.h.size()); xqs.up();
            Buf<float> xds(qx ? (size_t) ntok * nb : 1);
            if (qx) { memcpy(xds.h.data(), xd.h.data(), xds.h.size() * 4); xds.up(); }
            Buf<float> y((size_t) ntok * rows);
            run_gemv(fmt, s, ni, W, xs.d(), xqs.d(), xds.d(), y.d(), rows, cols, ntok, 0);
            y.down();
            check_bits(name + " == t1 per token (bits)", y.h.data(), ysingle.h.data(), y.h.size());
            // accumulate: y0 + dot, exactly the float sum of y0 and the plain result.
            std::vector<float> y0(y.h.size()), want(y.h.size());
            for (size_t i = 0; i < y0.size(); i++) { y0[i] = urand(); want[i] = y0[i] + ysingle.h[i]; }
            y.h = y0; y.up();
            run_gemv(fmt, s, ni, W, xs.d(), xqs.d(), xds.d(), y.d(), rows, cols, ntok, 1);
            y.down();
            check_bits(name + " accumulate (bits)", y.h.data(), want.data(), want.size());
        }
    }
    if (fmt <= FMT_BF16) {
        // Misaligned activations take the scalar path: same arithmetic, same order, same bits.
        Buf<float> y((size_t) T * rows);
        run_gemv(fmt, s, 3, W, x, nullptr, nullptr, y.d(), rows, cols, T, 0);
        y.down();
        check_bits(base + " t8 misaligned x (scalar path) == t1 (bits)", y.h.data(), ysingle.h.data(), y.h.size());
    } else {
        // xq one byte past a 4-byte boundary takes the bytewise loads: same integer sums, same bits.
        Buf<signed char> xqm((size_t) T * cols + 1);
        memcpy(xqm.h.data() + 1, xq.h.data(), (size_t) T * cols); xqm.up();
        Buf<float> y((size_t) T * rows);
        run_gemv(fmt, s, 3, W, nullptr, xqm.d() + 1, xd.d(), y.d(), rows, cols, T, 0);
        y.down();
        check_bits(base + " t8 misaligned xq (bytewise loads) == t1 (bits)", y.h.data(), ysingle.h.data(), y.h.size());
    }
}

// ---- GEMM ------------------------------------------------------------------------------------------------------
typedef void (*GemmK)(const float*, const void*, float*, int, int, int, int);
static void test_gemm(int fmt, GemmK kernel, int N, int K) {
    const std::string base = std::string("gemm_") + kFmtName[fmt] + " N " + std::to_string(N) + " K " + std::to_string(K);
    const int M = 70;
    Weights w(fmt, N, K);
    Buf<uint8_t> B(w.bytes.size()); B.h = w.bytes; B.up();
    Buf<float> A((size_t) M * K);
    for (auto& v : A.h) v = urand();
    A.up();
    std::vector<double> ref((size_t) M * N), ref_exact((size_t) M * N);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0, e = 0;
            for (int k = 0; k < K; k++) {
                const float a = A.h[(size_t) m * K + k], b = w.at(n, k);
                s += (double) round_half(a) * round_half(b);
                e += (double) a * b;
            }
            ref[(size_t) m * N + n] = s;
            ref_exact[(size_t) m * N + n] = e;
        }
    const dim3 block(128);
    Buf<float> C((size_t) M * N);
    LAUNCH(kernel, dim3((N + 63) / 64, (M + 63) / 64), block, A.d(), B.d(), C.d(), M, N, K, 0);
    C.down();
    check_close(base + " M 70 vs float64 of f16-rounded inputs", C.h.data(), ref.data(), ref.size(), 1e-5);
    check_close(base + " M 70 vs float64 of exact inputs", C.h.data(), ref_exact.data(), ref.size(), 1e-2);
    // M = 1 with rows 0 and 65 of A: the same bits as those rows in the M = 70 launch.
    for (int m : {0, 65}) {
        Buf<float> A1(K), C1(N);
        memcpy(A1.h.data(), A.h.data() + (size_t) m * K, K * 4); A1.up();
        LAUNCH(kernel, dim3((N + 63) / 64, 1), block, A1.d(), B.d(), C1.d(), 1, N, K, 0);
        C1.down();
        check_bits(base + " M 1 == row " + std::to_string(m) + " of M 70 (bits)", C1.h.data(), C.h.data() + (size_t) m * N, N);
    }
    // accumulate: C0 + A.B, exactly the float sum of C0 and the plain result.
    std::vector<float> c0(C.h.size()), want(C.h.size());
    for (size_t i = 0; i < c0.size(); i++) { c0[i] = urand(); want[i] = c0[i] + C.h[i]; }
    Buf<float> C2(C.h.size()); C2.h = c0; C2.up();
    LAUNCH(kernel, dim3((N + 63) / 64, (M + 63) / 64), block, A.d(), B.d(), C2.d(), M, N, K, 1);
    C2.down();
    check_bits(base + " accumulate (bits)", C2.h.data(), want.data(), want.size());
}

// ---- rope_kv_write ---------------------------------------------------------------------------------------------
static void test_rope(int head_dim, int rope_dims, int neox) {
    const std::string name = "rope_kv_write hd " + std::to_string(head_dim) + " rope " + std::to_string(rope_dims) + (neox ? " neox" : " interleaved");
    const int rows = 3, heads = 4, kvh = 2, bs = 4, nblocks = 4;
    Buf<int> pos(rows), slot(rows);
    pos.h = {0, 7, 1000};
    slot.h = {13, 2, 5};   // blocks 3, 0, 1: scattered
    Buf<float> q((size_t) rows * heads * head_dim), k((size_t) rows * kvh * head_dim), v(k.h.size());
    for (auto& e : q.h) e = urand(); for (auto& e : k.h) e = urand(); for (auto& e : v.h) e = urand();
    const std::vector<float> q0 = q.h, k0 = k.h;
    const size_t csize = (size_t) nblocks * kvh * bs * head_dim;
    Buf<half> kc(csize), vc(csize);
    for (size_t i = 0; i < csize; i++) { kc.h[i] = __float2half(99.f); vc.h[i] = __float2half(99.f); }
    q.up(); k.up(); v.up(); kc.up(); vc.up(); pos.up(); slot.up();
    const float theta_scale = (float) std::pow(10000.0, -2.0 / rope_dims);
    LAUNCH(rope_kv_write, dim3(rows), dim3(128), q.d(), k.d(), v.d(), kc.d(), vc.d(), pos.d(), slot.d(), heads, kvh,
           head_dim, rope_dims, theta_scale, neox, bs);
    q.down(); k.down(); kc.down(); vc.down();
    // Reference: Rope.java's float angle recurrence, the rotation in double.
    auto rotate = [&](const std::vector<float>& in, int nh, std::vector<double>& out) {
        out.assign(in.begin(), in.end());
        for (int r = 0; r < rows; r++) {
            float theta = (float) pos.h[r];
            for (int i = 0; i < rope_dims / 2; i++) {
                const double c = (float) std::cos((double) theta), s = (float) std::sin((double) theta);
                for (int h = 0; h < nh; h++) {
                    const size_t b = ((size_t) r * nh + h) * head_dim;
                    const int i0 = neox ? i : 2 * i, i1 = neox ? i + rope_dims / 2 : 2 * i + 1;
                    const double x0 = in[b + i0], x1 = in[b + i1];
                    out[b + i0] = x0 * c - x1 * s;
                    out[b + i1] = x0 * s + x1 * c;
                }
                theta *= theta_scale;
            }
        }
    };
    std::vector<double> qref, kref;
    rotate(q0, heads, qref);
    rotate(k0, kvh, kref);
    check_close(name + " q", q.h.data(), qref.data(), qref.size(), 1e-6);
    check_close(name + " k", k.h.data(), kref.data(), kref.size(), 1e-6);
    // Cache: k (as rotated by the kernel) and v rounded to f16 at their slots, everything else untouched.
    size_t bad = 0;
    std::vector<bool> written(csize, false);
    for (int r = 0; r < rows; r++)
        for (int e = 0; e < kvh * head_dim; e++) {
            const int h = e / head_dim, d = e % head_dim, blk = slot.h[r] / bs, off = slot.h[r] % bs;
            const size_t i = (((size_t) blk * kvh + h) * bs + off) * head_dim + d;
            written[i] = true;
            const size_t src = (size_t) r * kvh * head_dim + e;
            bad += __half_as_ushort(kc.h[i]) != f2h(k.h[src]);
            bad += __half_as_ushort(vc.h[i]) != f2h(v.h[src]);
        }
    for (size_t i = 0; i < csize; i++)
        if (!written[i]) bad += __half2float(kc.h[i]) != 99.f || __half2float(vc.h[i]) != 99.f;
    report(name + " cache", bad == 0, "%.0f cache values wrong of %.0f", (double) bad, 2.0 * csize);
}

// ---- paged_attention -------------------------------------------------------------------------------------------
typedef void (*AttK)(float*, const float*, const half*, const half*, const int*, const int*, const int*, int, int,
                     int, int, int, float);
static void test_attention(const char* kname, AttK kernel, int D, int heads, int kvh) {
    const std::string name = std::string(kname) + " hd " + std::to_string(D) + " heads " + std::to_string(heads) + "/" + std::to_string(kvh);
    const int bs = 16, max_blocks = 6, nphys = 17, rows = 5, nseq = 3;
    Buf<int> tables(nseq * max_blocks), rslot(rows), rpos(rows);
    const int perm[] = {7, 3, 16, 0, 11, 5, 2, 9, 14, 1, 4, 6, 8, 10, 12, 13, 15, 0};   // scattered physical blocks
    for (int i = 0; i < nseq * max_blocks; i++) tables.h[i] = perm[i];
    rslot.h = {0, 1, 1, 2, 2};
    rpos.h = {0, 40, 77, 15, 16};   // a fresh sequence, a prefill chunk, exactly one block, just past one
    const size_t csize = (size_t) nphys * kvh * bs * D;
    Buf<half> kc(csize), vc(csize);
    for (auto& e : kc.h) e = __float2half(urand()); for (auto& e : vc.h) e = __float2half(urand());
    Buf<float> q((size_t) rows * heads * D), out(q.h.size());
    for (auto& e : q.h) e = urand(-2, 2);
    tables.up(); rslot.up(); rpos.up(); kc.up(); vc.up(); q.up();
    const float scale = 1.f / std::sqrt((float) D);
    LAUNCH(kernel, dim3(heads, rows), dim3(128), out.d(), q.d(), kc.d(), vc.d(), tables.d(), rslot.d(), rpos.d(), heads,
           kvh, D, bs, max_blocks, scale);
    out.down();
    std::vector<double> ref(out.h.size());
    for (int r = 0; r < rows; r++)
        for (int h = 0; h < heads; h++) {
            const int g = h / (heads / kvh), n = rpos.h[r] + 1;
            auto at = [&](const Buf<half>& c, int p, int d) {
                const int b = tables.h[rslot.h[r] * max_blocks + p / bs];
                return (double) __half2float(c.h[(((size_t) b * kvh + g) * bs + p % bs) * D + d]);
            };
            std::vector<double> s(n);
            double mx = -INFINITY, sum = 0;
            for (int p = 0; p < n; p++) {
                double a = 0;
                for (int d = 0; d < D; d++) a += (double) q.h[((size_t) r * heads + h) * D + d] * at(kc, p, d);
                s[p] = a * scale;
                mx = std::max(mx, s[p]);
            }
            for (auto& e : s) { e = std::exp(e - mx); sum += e; }
            for (int d = 0; d < D; d++) {
                double o = 0;
                for (int p = 0; p < n; p++) o += s[p] * at(vc, p, d);
                ref[((size_t) r * heads + h) * D + d] = o / sum;
            }
        }
    check_close(name, out.h.data(), ref.data(), ref.size(), 2e-6);
}

int main() {
    printf("continuum kernel tests (%s build)\n", kBuild);
    test_embed(FMT_F32, embed_f32);
    test_embed(FMT_F16, embed_f16);
    test_embed(FMT_BF16, embed_bf16);
    test_embed(FMT_Q8_0, embed_q8_0);
    test_embed(FMT_Q4_0, embed_q4_0);
    test_rmsnorm(172, false);
    test_rmsnorm(288, true);
    test_rmsnorm(8, false);
    test_add_bias();
    test_swiglu();
    test_quantize_q8();

    const GemvSet sets[5] = {
        {{gemv_f32_t1, gemv_f32_t2, gemv_f32_t4, gemv_f32_t8}, {}},
        {{gemv_f16_t1, gemv_f16_t2, gemv_f16_t4, gemv_f16_t8}, {}},
        {{gemv_bf16_t1, gemv_bf16_t2, gemv_bf16_t4, gemv_bf16_t8}, {}},
        {{}, {gemv_q8_0_t1, gemv_q8_0_t2, gemv_q8_0_t4, gemv_q8_0_t8}},
        {{}, {gemv_q4_0_t1, gemv_q4_0_t2, gemv_q4_0_t4, gemv_q4_0_t8}},
    };
    for (int f = FMT_F32; f <= FMT_BF16; f++) {
        test_gemv(f, sets[f], 37, 172);   // odd width: the scalar tail
        test_gemv(f, sets[f], 6, 264);    // chunks not a multiple of 32 lanes, vector path
    }
    for (int f = FMT_Q8_0; f <= FMT_Q4_0; f++) {
        test_gemv(f, sets[f], 37, 288);   // 9 blocks: lanes get unequal block counts
        test_gemv(f, sets[f], 5, 32);     // one block per row
    }

    const GemmK gemms[5] = {gemm_f32, gemm_f16, gemm_bf16, gemm_q8_0, gemm_q4_0};
    for (int f = FMT_F32; f <= FMT_BF16; f++) {
        test_gemm(f, gemms[f], 100, 172);   // partial N tile, K tail (scalar loads)
        test_gemm(f, gemms[f], 64, 96);     // whole N tile, vector loads
    }
    for (int f = FMT_Q8_0; f <= FMT_Q4_0; f++) test_gemm(f, gemms[f], 100, 96);

    for (int hd : {8, 48, 64, 128}) {
        test_rope(hd, hd, 0);
        test_rope(hd, hd, 1);
    }
    test_rope(48, 32, 0);   // partial rotary dims
    test_rope(64, 32, 1);

    for (int hd : {8, 48, 64, 128, 256}) test_attention("paged_attention", paged_attention, hd, 8, 2);
    test_attention("paged_attention", paged_attention, 48, 6, 6);   // no GQA
    test_attention("paged_attention_d64", paged_attention_d64, 64, 8, 2);
    test_attention("paged_attention_d128", paged_attention_d128, 128, 4, 1);

    printf("%s: %d passed, %d failed\n", g_fail ? "FAILED" : "ALL PASSED", g_pass, g_fail);
    return g_fail;
}
