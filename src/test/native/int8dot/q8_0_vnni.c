/*
 * Issue 18, measurements only (nothing in production loads this): the native route for Int8DotBenchmark's "vnni"
 * case. One token times a whole Q8_0 matrix in one call, AVX512-VNNI vpdpbusd, on the GGUF file's own row-major
 * layout (per row, blocks of 34 bytes: float16 scale, then 32 int8 weights).
 *
 * It computes, per row, exactly what Int8DotKernels.reference spells out, bit for bit: per 32-column block the exact
 * int sum isum = sum_j w[j] * x[j], then total = fmaf((float) isum, dw * dx, total) over the blocks in order.
 *
 * Signed x signed: vpdpbusd multiplies unsigned bytes by signed bytes. The weights are made unsigned by the +128
 * offset (w ^ 0x80 = w + 128, 0..255), the activations stay signed, and the offset is taken back out with the
 * block's activation sum, which the quantizer already computed: sum (w + 128) * x = isum + 128 * xsum. Everything
 * is int32 and exact (|sum| <= 32 * 255 * 127), so the order of the int additions is free; one xor per 64 weights,
 * cheaper than moving the weights' signs onto the activations (abs, mask, masked negate).
 *
 * Sixteen rows at a time: their isums for one block end up in one int32 vector (eight vpdpbusd, each two rows'
 * blocks, then a transposing reduction), so the float chain total = fma(isum, dw * dx, total) runs across the 16
 * rows' lanes, block after block, in the reference's order: vcvtdq2ps is exact (|isum| < 2^24), the scale product
 * is one rounded multiply, the FMA one rounding, as Math.fma. Built with -ffp-contract=off so the scalar tail is
 * not re-fused either.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define BLOCK 32
#define BLOCK_BYTES 34

/* 1 when this CPU has AVX512-VNNI (and the AVX512F/BW/VL it is used with). */
int q8_0_vnni_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
}

static inline float f16_to_f32(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

/* Two rows' 32 weights of one block as unsigned (w + 128), row a in the low half, row b in the high half. */
static inline __m512i two_rows(const uint8_t *a, const uint8_t *b, __m512i offset) {
    __m512i v = _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) a));
    v = _mm512_inserti64x4(v, _mm256_loadu_si256((const __m256i *) b), 1);
    return _mm512_xor_si512(v, offset);
}

/* Per 128-bit lane: (a0+a2, b0+b2, a1+a3, b1+b3). */
static inline __m512i merge32(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
}

/* Per 128-bit lane: (a0+a1, b0+b1, a2+a3, b2+b3) of merge32's pairs. */
static inline __m512i merge64(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
}

static float scalar_row(const uint8_t *row, int64_t tiles, const int8_t *x, const float *dx) {
    float total = 0.0f;
    for (int64_t t = 0; t < tiles; t++) {
        const int8_t *w = (const int8_t *) (row + t * BLOCK_BYTES + 2);
        int32_t isum = 0;
        for (int j = 0; j < BLOCK; j++) {
            isum += (int32_t) w[j] * (int32_t) x[t * BLOCK + j];
        }
        total = __builtin_fmaf((float) isum, f16_to_f32(row + t * BLOCK_BYTES) * dx[t], total);
    }
    return total;
}

/*
 * out[r] = row r of the Q8_0 matrix w (rows x cols, row-major GGUF blocks) dotted with the quantized token: xq
 * (cols values, -127..127, as int16 the way QuantizedActivations keeps them), dx (one scale per block) and xsum (per
 * block, the sum of the block's xq).
 */
void q8_0_vnni_rows(const uint8_t *w, int64_t rows, int64_t cols, const int16_t *xq, const float *dx,
                    const int32_t *xsum, float *out) {
    int64_t tiles = cols / BLOCK;
    int64_t row_bytes = tiles * BLOCK_BYTES;
    int8_t x[cols];
    for (int64_t i = 0; i < cols; i++) {
        x[i] = (int8_t) xq[i];
    }
    const __m512i offset = _mm512_set1_epi8((char) 0x80);
    /* Lane i of the reduced vector is row i when vector k holds rows (k, k+4) for k < 4 and (k+4, k+8) after. */
    const __m512i lane_rows = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i scale_offsets = _mm512_mullo_epi32(lane_rows, _mm512_set1_epi32((int) row_bytes));
    int64_t r = 0;
    for (; r + 16 <= rows; r += 16) {
        const uint8_t *base = w + r * row_bytes;
        __m512 total = _mm512_setzero_ps();
        for (int64_t t = 0; t < tiles; t++) {
            const uint8_t *b = base + t * BLOCK_BYTES;
            const uint8_t *q = b + 2;
            __m512i xv = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (x + t * BLOCK)));
            __m512i z = _mm512_setzero_si512();
            __m512i v0 = _mm512_dpbusd_epi32(z, two_rows(q + 0 * row_bytes, q + 4 * row_bytes, offset), xv);
            __m512i v1 = _mm512_dpbusd_epi32(z, two_rows(q + 1 * row_bytes, q + 5 * row_bytes, offset), xv);
            __m512i v2 = _mm512_dpbusd_epi32(z, two_rows(q + 2 * row_bytes, q + 6 * row_bytes, offset), xv);
            __m512i v3 = _mm512_dpbusd_epi32(z, two_rows(q + 3 * row_bytes, q + 7 * row_bytes, offset), xv);
            __m512i v4 = _mm512_dpbusd_epi32(z, two_rows(q + 8 * row_bytes, q + 12 * row_bytes, offset), xv);
            __m512i v5 = _mm512_dpbusd_epi32(z, two_rows(q + 9 * row_bytes, q + 13 * row_bytes, offset), xv);
            __m512i v6 = _mm512_dpbusd_epi32(z, two_rows(q + 10 * row_bytes, q + 14 * row_bytes, offset), xv);
            __m512i v7 = _mm512_dpbusd_epi32(z, two_rows(q + 11 * row_bytes, q + 15 * row_bytes, offset), xv);
            __m512i a = merge64(merge32(v0, v1), merge32(v2, v3));
            __m512i c = merge64(merge32(v4, v5), merge32(v6, v7));
            /* a: 128-bit lanes (rows 0-3 half 1, rows 0-3 half 2, rows 4-7 half 1, rows 4-7 half 2); c: 8-15. */
            __m512i lo = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(2, 0, 2, 0));
            __m512i hi = _mm512_shuffle_i64x2(a, c, _MM_SHUFFLE(3, 1, 3, 1));
            __m512i isum = _mm512_sub_epi32(_mm512_add_epi32(lo, hi), _mm512_set1_epi32(128 * xsum[t]));
            __m512i d16 = _mm512_i32gather_epi32(scale_offsets, (const void *) b, 1);
            __m512 dw = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(d16));
            __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(dx[t]));
            total = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), scale, total);
        }
        _mm512_storeu_ps(out + r, total);
    }
    for (; r < rows; r++) {
        out[r] = scalar_row(w + r * row_bytes, tiles, x, dx);
    }
}

/*
 * The same product in llama.cpp's order (ggml_vec_dot_q8_0_q8_0): per block the eight int32 lanes of one vpdpbusd
 * are converted to floats as they are and folded into eight float lanes, total += lanes * (dw * dx); the lanes are
 * added only at the end of the row. No horizontal reduction per block, so fewer instructions, but not the
 * reference's rounding order: it is checked against the reference within a tolerance, not bit for bit. The +128
 * offset is taken back out per lane: 16 * xsum from each of the eight lanes is 128 * xsum in all, still exact.
 * Four rows at a time, so that four FMA chains are in flight.
 */
void q8_0_vnni_rows_lanes(const uint8_t *w, int64_t rows, int64_t cols, const int16_t *xq, const float *dx,
                          const int32_t *xsum, float *out) {
    int64_t tiles = cols / BLOCK;
    int64_t row_bytes = tiles * BLOCK_BYTES;
    int8_t x[cols];
    for (int64_t i = 0; i < cols; i++) {
        x[i] = (int8_t) xq[i];
    }
    const __m256i offset = _mm256_set1_epi8((char) 0x80);
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const uint8_t *b0 = w + r * row_bytes;
        const uint8_t *b1 = b0 + row_bytes;
        const uint8_t *b2 = b1 + row_bytes;
        const uint8_t *b3 = b2 + row_bytes;
        __m256 t0 = _mm256_setzero_ps(), t1 = t0, t2 = t0, t3 = t0;
        for (int64_t t = 0; t < tiles; t++) {
            int64_t o = t * BLOCK_BYTES;
            __m256i xv = _mm256_loadu_si256((const __m256i *) (x + t * BLOCK));
            __m256i corr = _mm256_set1_epi32(16 * xsum[t]);
            __m256 d = _mm256_set1_ps(dx[t]);
#define LANES(tk, bk) do { \
                __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (bk + o + 2)), offset); \
                __m256i s = _mm256_sub_epi32(_mm256_dpbusd_epi32(_mm256_setzero_si256(), q, xv), corr); \
                __m256 sc = _mm256_mul_ps(_mm256_set1_ps(f16_to_f32(bk + o)), d); \
                tk = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), sc, tk); \
            } while (0)
            LANES(t0, b0);
            LANES(t1, b1);
            LANES(t2, b2);
            LANES(t3, b3);
#undef LANES
        }
        __m256 all[4] = {t0, t1, t2, t3};
        for (int k = 0; k < 4; k++) {
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(all[k]), _mm256_extractf128_ps(all[k], 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            h = _mm_add_ss(h, _mm_movehdup_ps(h));
            out[r + k] = _mm_cvtss_f32(h);
        }
    }
    for (; r < rows; r++) {
        out[r] = scalar_row(w + r * row_bytes, tiles, x, dx);
    }
}
