/*
 * Continuum's native CPU kernels (issue 18): Q8_0 and Q4_0 weights times 8-bit activations with AVX512-VNNI
 * (vpdpbusd, 64 multiply-adds per instruction), called through the FFM API by dev.continuum.tensor.NativeCpuKernels. The library
 * is compiled for x86-64 with these instructions enabled per function (target attributes), so it loads on any
 * x86-64 CPU; continuum_cpu_features() says which kernels this CPU may run, and Java calls no other function when it
 * lacks them (the pure-Java kernels are the fallback and the reference).
 *
 * What every kernel computes, bit for bit the same as the Java kernels (Q8_0Tensor, Q4_0Tensor, their dot), per row and
 * token: per 32-column tile the exact int sum isum = sum_j w[j] * xq[j], then total = fmaf((float) isum, dw * dx,
 * total) over the tiles in order from total = 0, with dw the tile's float16 weight scale and dx the activation
 * tile's scale. The int sums are exact in any order (|isum| <= 32 * 128 * 127 < 2^24, so the conversion to float is
 * exact too); the float chain is vectorized across rows, never across tiles, so its order is the reference's.
 * Compiled with -ffp-contract=off: no multiply here may be fused into an add the reference rounds separately.
 *
 * The Q8_0 weight layout, a set of 64 rows (Interleaving.SET_ROWS at 512-bit vectors) and one tile of 32 columns, 2176
 * bytes as the 64 rows' GGUF blocks take, repacked once at load (Q8_0Tensor.permuteGroup):
 *
 *   byte 0          128                    384                         2176
 *        [d r0..r63 ][quad 0: r0 c0-3, r1 c0-3, ... r63 c0-3][quad 1: c4-7] ... [quad 7: c28-31]
 *         64 x f16     64 rows x 4 bytes = 256 bytes per quad of columns, each byte w + 128 (w ^ 0x80)
 *
 * so one 64-byte load is 16 rows x 4 columns, exactly vpdpbusd's operand: each int32 lane accumulates one row's
 * four products, and the 16 lanes are 16 rows. No horizontal reduction anywhere: a tile's isums for 16 rows are one
 * vector after 8 instructions. vpdpbusd multiplies unsigned by signed bytes, hence the +128 on the weights (stored
 * that way, no work per call) and the correction with the activation tile's sum, which the quantizer keeps:
 * sum (w + 128) x = isum + 128 xsum.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define TILE 32
#define SET_ROWS 64
#define SCALE_BYTES (2 * SET_ROWS)
#define QUAD_BYTES (4 * SET_ROWS)
#define TILE_BYTES (SCALE_BYTES + 8 * QUAD_BYTES)

#define CONTINUUM_ABI_VERSION 2

#define FEATURE_AVX512_VNNI 1

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

/* The ABI version this library implements; Java refuses a library whose version differs from its own. */
int continuum_abi_version(void) {
    return CONTINUUM_ABI_VERSION;
}

/* Bit set of the kernel families this CPU can run: FEATURE_AVX512_VNNI (AVX512 F/BW/VL + VNNI). */
int continuum_cpu_features(void) {
    __builtin_cpu_init();
    int features = 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
        features |= FEATURE_AVX512_VNNI;
    }
    return features;
}

/* One broadcast of activation bytes x[0..3] as an int32, the signed operand of vpdpbusd. */
VNNI static inline __m512i quad_of(const int8_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
}

/*
 * T tokens times row groups g0 .. g0 + G - 1 (16 rows each) of one set, every tile, the running totals kept in
 * registers: T * G accumulators, T * G totals, G weight vectors. Called with constant T and G so the loops unroll.
 *
 * Three and four tokens take two passes over the set (G = 2: 4 T accumulators and totals for all four groups would
 * not fit in 32 registers). The first pass reads only the first half of every 256-byte quad, so on its own it
 * streams memory in strided halves and the second pass finds the rest missing: 4-token products read 11-12 GB/s
 * from DRAM where 1-token products read 20-22. The first pass therefore prefetches the other groups' lines of each
 * quad into L2 as it goes (a set is at most a few hundred KiB), and the second pass reads them from there: 15-17
 * GB/s, the in-cache speed unchanged (PERFORMANCE.md, "Kernel design choices measured"). Keeping every total in
 * registers across in-tile passes instead reached 19 GB/s but spilled, 12 % slower in cache, where prompts' later
 * token groups find the set.
 */
VNNI static inline __attribute__((always_inline)) void rows_tokens(
        const uint8_t *set, int64_t tiles, const int8_t *xq, int64_t cols, const float *dx, const int32_t *xsum,
        float *out, int T, int g0, int G) {
    __m512 total[4][4];
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            total[t][g] = _mm512_setzero_ps();
        }
    }
    for (int64_t b = 0; b < tiles; b++) {
        const uint8_t *tile = set + b * TILE_BYTES;
        __m512i acc[4][4];
        for (int t = 0; t < T; t++) {
            for (int g = 0; g < G; g++) {
                acc[t][g] = _mm512_setzero_si512();
            }
        }
        if (g0 == 0 && G < 4) {
            _mm_prefetch((const char *) (tile + 64), _MM_HINT_T1); /* groups 2 and 3's scales */
        }
        for (int q = 0; q < 8; q++) {
            __m512i w[4];
            for (int g = 0; g < G; g++) {
                w[g] = _mm512_loadu_si512((const void *) (tile + SCALE_BYTES + q * QUAD_BYTES + (g0 + g) * 64));
            }
            if (g0 == 0) {
                for (int g = G; g < 4; g++) {
                    _mm_prefetch((const char *) (tile + SCALE_BYTES + q * QUAD_BYTES + g * 64), _MM_HINT_T1);
                }
            }
            for (int t = 0; t < T; t++) {
                __m512i x = quad_of(xq + t * cols + b * TILE + 4 * q);
                for (int g = 0; g < G; g++) {
                    acc[t][g] = _mm512_dpbusd_epi32(acc[t][g], w[g], x);
                }
            }
        }
        __m512 dw[4];
        for (int g = 0; g < G; g++) {
            dw[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (tile + 2 * 16 * (g0 + g))));
        }
        for (int t = 0; t < T; t++) {
            __m512i offset = _mm512_set1_epi32(128 * xsum[t * tiles + b]);
            __m512 d = _mm512_set1_ps(dx[t * tiles + b]);
            for (int g = 0; g < G; g++) {
                __m512 isum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[t][g], offset));
                total[t][g] = _mm512_fmadd_ps(isum, _mm512_mul_ps(dw[g], d), total[t][g]);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            _mm512_storeu_ps(out + t * SET_ROWS + 16 * (g0 + g), total[t][g]);
        }
    }
}

VNNI static void tokens1(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d, const int32_t *u,
                         float *o) {
    rows_tokens(s, n, x, c, d, u, o, 1, 0, 4);
}

VNNI static void tokens2(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d, const int32_t *u,
                         float *o) {
    rows_tokens(s, n, x, c, d, u, o, 2, 0, 4);
}

VNNI static void tokens3(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d, const int32_t *u,
                         float *o) {
    rows_tokens(s, n, x, c, d, u, o, 3, 0, 2);
    rows_tokens(s, n, x, c, d, u, o, 3, 2, 2);
}

VNNI static void tokens4(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d, const int32_t *u,
                         float *o) {
    rows_tokens(s, n, x, c, d, u, o, 4, 0, 2);
    rows_tokens(s, n, x, c, d, u, o, 4, 2, 2);
}

/* A kernel for a fixed number of tokens (1 to 4) times one set. */
typedef void (*quant_tokens)(const uint8_t *, int64_t, const int8_t *, int64_t, const float *, const int32_t *,
                             float *);

/* Every token, four at a time and then the rest, through a format's kernels by[n] for n tokens. */
VNNI static void quant_set(const quant_tokens by[5], intptr_t set, int64_t tiles, int64_t tokens, intptr_t xq,
                           intptr_t dx, intptr_t xsum, intptr_t out) {
    const uint8_t *s = (const uint8_t *) set;
    const int8_t *x = (const int8_t *) xq;
    const float *d = (const float *) dx;
    const int32_t *u = (const int32_t *) xsum;
    float *o = (float *) out;
    int64_t cols = tiles * TILE;
    for (int64_t t = 0; t < tokens; t += 4) {
        int64_t n = tokens - t < 4 ? tokens - t : 4;
        by[n](s, tiles, x + t * cols, cols, d + t * tiles, u + t * tiles, o + t * SET_ROWS);
    }
}

/*
 * tokens x one set of 64 rows, every tile: out[t * 64 + r] for token t and the set's row r.
 *
 * set:  the set's tile 0 (the layout above); tiles: tiles per row (cols / 32)
 * xq:   tokens x cols int8 activations, token t at xq + t * cols
 * dx:   tokens x tiles activation scales; xsum: tokens x tiles sums of each activation tile's values
 *
 * Pointers are passed as integers (the Java side holds the memory); no allocation, no state.
 */
VNNI void continuum_q8_0_vnni_set(intptr_t set, int64_t tiles, int64_t tokens, intptr_t xq, intptr_t dx,
                                  intptr_t xsum, intptr_t out) {
    static const quant_tokens by[5] = {0, tokens1, tokens2, tokens3, tokens4};
    quant_set(by, set, tiles, tokens, xq, dx, xsum, out);
}

/*
 * Q4_0, the same scheme at half the bytes. Per set of 64 rows and tile, 1152 bytes as the rows' GGUF blocks take:
 *
 *   byte 0          128                                             384            1152
 *        [d r0..r63 ][pair 0: r0 b0..b3 | r1 b0..b3 | .. | r63 b0..b3 ][pair 1] .. [pair 3]
 *
 * byte k (0..3) of row r in pair p holds column 8p + k in its low nibble and column 8p + 4 + k in its high nibble,
 * each as stored in the file (n = w + 8, 0..15). One load is 16 rows x 8 columns; an and and a shift give the two
 * quads of columns as unsigned bytes, vpdpbusd's unsigned operand as they are: sum (w + 8) x = isum + 8 xsum.
 */
#define Q4_TILE_BYTES (SCALE_BYTES + 4 * QUAD_BYTES)

VNNI static inline __attribute__((always_inline)) void q4_rows_tokens(
        const uint8_t *set, int64_t tiles, const int8_t *xq, int64_t cols, const float *dx, const int32_t *xsum,
        float *out, int T, int g0, int G) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    __m512 total[4][4];
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            total[t][g] = _mm512_setzero_ps();
        }
    }
    for (int64_t b = 0; b < tiles; b++) {
        const uint8_t *tile = set + b * Q4_TILE_BYTES;
        __m512i acc[4][4];
        for (int t = 0; t < T; t++) {
            for (int g = 0; g < G; g++) {
                acc[t][g] = _mm512_setzero_si512();
            }
        }
        if (g0 == 0 && G < 4) {
            _mm_prefetch((const char *) (tile + 64), _MM_HINT_T1);
        }
        for (int p = 0; p < 4; p++) {
            __m512i lo[4];
            __m512i hi[4];
            if (g0 == 0) {
                for (int g = G; g < 4; g++) {
                    _mm_prefetch((const char *) (tile + SCALE_BYTES + p * QUAD_BYTES + g * 64), _MM_HINT_T1);
                }
            }
            for (int g = 0; g < G; g++) {
                __m512i v = _mm512_loadu_si512((const void *) (tile + SCALE_BYTES + p * QUAD_BYTES + (g0 + g) * 64));
                lo[g] = _mm512_and_si512(v, low);
                hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
            }
            for (int t = 0; t < T; t++) {
                __m512i xl = quad_of(xq + t * cols + b * TILE + 8 * p);
                __m512i xh = quad_of(xq + t * cols + b * TILE + 8 * p + 4);
                for (int g = 0; g < G; g++) {
                    acc[t][g] = _mm512_dpbusd_epi32(acc[t][g], lo[g], xl);
                    acc[t][g] = _mm512_dpbusd_epi32(acc[t][g], hi[g], xh);
                }
            }
        }
        __m512 dw[4];
        for (int g = 0; g < G; g++) {
            dw[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (tile + 2 * 16 * (g0 + g))));
        }
        for (int t = 0; t < T; t++) {
            __m512i offset = _mm512_set1_epi32(8 * xsum[t * tiles + b]);
            __m512 d = _mm512_set1_ps(dx[t * tiles + b]);
            for (int g = 0; g < G; g++) {
                __m512 isum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[t][g], offset));
                total[t][g] = _mm512_fmadd_ps(isum, _mm512_mul_ps(dw[g], d), total[t][g]);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            _mm512_storeu_ps(out + t * SET_ROWS + 16 * (g0 + g), total[t][g]);
        }
    }
}

VNNI static void q4_tokens1(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d,
                            const int32_t *u, float *o) {
    q4_rows_tokens(s, n, x, c, d, u, o, 1, 0, 4);
}

VNNI static void q4_tokens2(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d,
                            const int32_t *u, float *o) {
    q4_rows_tokens(s, n, x, c, d, u, o, 2, 0, 4);
}

VNNI static void q4_tokens3(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d,
                            const int32_t *u, float *o) {
    q4_rows_tokens(s, n, x, c, d, u, o, 3, 0, 2);
    q4_rows_tokens(s, n, x, c, d, u, o, 3, 2, 2);
}

VNNI static void q4_tokens4(const uint8_t *s, int64_t n, const int8_t *x, int64_t c, const float *d,
                            const int32_t *u, float *o) {
    q4_rows_tokens(s, n, x, c, d, u, o, 4, 0, 2);
    q4_rows_tokens(s, n, x, c, d, u, o, 4, 2, 2);
}

/* As continuum_q8_0_vnni_set, for a Q4_0 set in the layout above. */
VNNI void continuum_q4_0_vnni_set(intptr_t set, int64_t tiles, int64_t tokens, intptr_t xq, intptr_t dx,
                                  intptr_t xsum, intptr_t out) {
    static const quant_tokens by[5] = {0, q4_tokens1, q4_tokens2, q4_tokens3, q4_tokens4};
    quant_set(by, set, tiles, tokens, xq, dx, xsum, out);
}

/*
 * F16 over float activations, on the Java kernels' own interleaved layout (no repacking): per set of 64 rows and
 * tile, column j's 64 halves side by side (4096 bytes per tile), so one 32-byte load is column j of 16 rows and
 * vcvtph2ps widens it exactly. The order is the Java reference's (WeightTensor.dot for float formats): per tile
 * p = fma(w[j], x[j], p) for j = 0..31 from p = 0, then total = total + p.
 */
#define F16_TILE_BYTES (TILE * SET_ROWS * 2)
#define F16 __attribute__((target("avx512f,f16c,fma")))

F16 static inline __attribute__((always_inline)) void f16_rows_tokens(
        const uint8_t *set, int64_t tiles, const float *x, int64_t cols, float *out, int T, int g0, int G) {
    __m512 total[4][4];
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            total[t][g] = _mm512_setzero_ps();
        }
    }
    for (int64_t b = 0; b < tiles; b++) {
        const uint8_t *tile = set + b * F16_TILE_BYTES;
        __m512 p[4][4];
        for (int t = 0; t < T; t++) {
            for (int g = 0; g < G; g++) {
                p[t][g] = _mm512_setzero_ps();
            }
        }
        for (int j = 0; j < TILE; j++) {
            __m512 w[4];
            for (int g = 0; g < G; g++) {
                w[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (tile + j * 2 * SET_ROWS + (g0 + g) * 32)));
            }
            for (int t = 0; t < T; t++) {
                __m512 xj = _mm512_set1_ps(x[t * cols + b * TILE + j]);
                for (int g = 0; g < G; g++) {
                    p[t][g] = _mm512_fmadd_ps(w[g], xj, p[t][g]);
                }
            }
        }
        for (int t = 0; t < T; t++) {
            for (int g = 0; g < G; g++) {
                total[t][g] = _mm512_add_ps(total[t][g], p[t][g]);
            }
        }
    }
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            _mm512_storeu_ps(out + t * SET_ROWS + 16 * (g0 + g), total[t][g]);
        }
    }
}

F16 static void f16_tokens1(const uint8_t *s, int64_t n, const float *x, int64_t c, float *o) {
    f16_rows_tokens(s, n, x, c, o, 1, 0, 4);
}

F16 static void f16_tokens2(const uint8_t *s, int64_t n, const float *x, int64_t c, float *o) {
    f16_rows_tokens(s, n, x, c, o, 2, 0, 4);
}

F16 static void f16_tokens3(const uint8_t *s, int64_t n, const float *x, int64_t c, float *o) {
    f16_rows_tokens(s, n, x, c, o, 3, 0, 2);
    f16_rows_tokens(s, n, x, c, o, 3, 2, 2);
}

F16 static void f16_tokens4(const uint8_t *s, int64_t n, const float *x, int64_t c, float *o) {
    f16_rows_tokens(s, n, x, c, o, 4, 0, 2);
    f16_rows_tokens(s, n, x, c, o, 4, 2, 2);
}

/* tokens x one F16 set (the layout above): out[t * 64 + r]; x is tokens x cols floats. */
F16 void continuum_f16_set(intptr_t set, int64_t tiles, int64_t tokens, intptr_t x, intptr_t out) {
    const uint8_t *s = (const uint8_t *) set;
    const float *xf = (const float *) x;
    float *o = (float *) out;
    int64_t cols = tiles * TILE;
    int64_t t = 0;
    for (; t + 4 <= tokens; t += 4) {
        f16_tokens4(s, tiles, xf + t * cols, cols, o + t * SET_ROWS);
    }
    switch (tokens - t) {
        case 3:
            f16_tokens3(s, tiles, xf + t * cols, cols, o + t * SET_ROWS);
            break;
        case 2:
            f16_tokens2(s, tiles, xf + t * cols, cols, o + t * SET_ROWS);
            break;
        case 1:
            f16_tokens1(s, tiles, xf + t * cols, cols, o + t * SET_ROWS);
            break;
        default:
            break;
    }
}
