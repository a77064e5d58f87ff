/*
 * K-quant weights (llama.cpp's Q2_K to Q6_K) times 8-bit activations with AVX512-VNNI, called through the FFM
 * API by dev.continuum.tensor.NativeCpuKernels, in the scheme of quant_vnni.c: per set of 64 rows, the running
 * totals of 16 rows in each float vector, the tiles in order, so the float chain is the Java reference's
 * (BlockQuantTensor's dot) bit for bit, and the int sums are exact in any order.
 *
 * What is computed, per row and token, per 32-column tile from total = 0 (the Java reference):
 *   A = s0 * sum_{j<16} q_j xq_j + s1 * sum_{j>=16} q_j xq_j     exact int; s0 = s1 for 32-column sub-blocks
 *   total = fmaf((float) A, d * dx, total)
 *   B = m0 * sum_{j<16} xq_j + m1 * sum_{j>=16} xq_j               Q2_K, Q4_K, Q5_K (m0 = m1 for the last two)
 *   total = fmaf((float) B, (-dmin) * dx, total)
 * with q the level (Q2_K 0..3, Q3_K q3 - 4, Q4_K 0..15, Q5_K 0..31, Q6_K q6 - 32), d and dmin the superblock's
 * float16 scales, s and m its sub-block scales and mins (4-bit for Q2_K, 6-bit for the others; Q3_K's and Q6_K's
 * signed, per 16 columns), xq and dx the activation tile. The 32-element formats are the same with s = 1: Q4_1 and
 * Q5_1 add their min (B = sum xq times +m), Q5_0's level is q5 - 16, IQ4_NL's a table's value (stored as its index,
 * mapped with vpshufb to value + 128 and taken off with the sums as Q6_K's 32).
 *
 * The file's superblocks keep their scales packed and their levels in planes that suit a row at a time; these
 * kernels read a layout repacked once at load (KQuantLayout.java), per set of 64 rows and superblock of 256 columns:
 *
 *   Q4_K  [d r0..r63 f16][dmin r0..r63 f16] then per tile t = 0..7:
 *         [sc r0..r63 u8][m r0..r63 u8][pair 0 | pair 1 | pair 2 | pair 3]          256 + 8 * 1152 = 9472 bytes
 *   Q5_K  as Q4_K, and after each tile's pairs its high-bit plane [r0 b0..b3 | .. | r63 b0..b3]
 *                                                                                   256 + 8 * 1408 = 11520 bytes
 *   Q6_K  [d r0..r63 f16] then per tile: [s0 r0..r63 i8][s1 r0..r63 i8][quad 0 | quad 1 | .. | quad 7]
 *                                                                                   128 + 8 * 2176 = 17536 bytes
 *   Q2_K  [d][dmin] then per tile: [s0 u8][s1 u8][m0 u8][m1 u8][plane2 half 0][plane2 half 1]
 *                                                                                   256 + 8 * 768 = 6400 bytes
 *   Q3_K  [d] then per tile: [s0 i8][s1 i8][plane2 half 0][plane2 half 1][plane1]  128 + 8 * 896 = 7296 bytes
 *
 * and per set and block of 32 (the file's size exactly): Q4_1 [d][m][pairs], Q5_0 [d][pairs][plane], Q5_1
 * [d][m][pairs][plane], IQ4_NL [d][pairs of table indices].
 *
 * A pair (256 bytes) is Q4_0's (quant_vnni.c): row r's 4 bytes, byte k holding column 8p + k in its low nibble and
 * column 8p + 4 + k in its high nibble, so one 64-byte load is 16 rows x 8 columns. The Q5_K plane: row r's byte k,
 * bit i is the fifth bit of column 4i + k. So the levels of quad i (4 columns) of 16 rows come from one nibble load
 * and one plane load with shifts and masks, as unsigned bytes for vpdpbusd. Q6_K's levels are whole bytes: a quad
 * (256 bytes) is row r's 4 bytes, byte k the stored level (0..63, the format's + 32) of column 4i + k, one load per 16 rows x
 * 4 columns and no unpacking: with nibbles and two 2-bit planes the unpacking took eleven vector operations per two
 * vpdpbusd and held the kernel to 45 G multiply-adds/s a thread where Q4_K runs 112; the bytes cost 30 % more
 * memory than the file's 6.56 bits. Q6_K's -32 is taken off with the activation sums, sum (q6 - 32) x = sum q6 x -
 * 32 sum x. A 2-bit plane of half h (Q2_K's levels, Q3_K's low bits): row r's byte k, bits 2i..2i+1 are those of
 * column 16h + 4i + k; Q3_K's third bit is a plane as Q5_K's (bit i of byte k: column 4i + k), its level q3 - 4 taken
 * as (stored - 4). Sizes against the file: Q4_K/Q5_K +2-3 % (scales unpacked), Q6_K +30 %, Q2_K +19 %, Q3_K +4 %.
 */
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define KTILE 32
#define KSET 64
#define TILES_PER_SB 8

#define FMT_Q4_K 0
#define FMT_Q5_K 1
#define FMT_Q6_K 2
#define FMT_Q2_K 3
#define FMT_Q3_K 4
#define FMT_Q4_1 5
#define FMT_Q5_0 6
#define FMT_Q5_1 7
#define FMT_IQ4_NL 8

#define KVNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))

/* Bytes of one set's superblock in the layout above, and of one tile inside it, and of the superblock header. */
#define HAS_DMIN(f) ((f) == FMT_Q4_K || (f) == FMT_Q5_K || (f) == FMT_Q2_K)
/* The 32-element block formats: one tile per block, no sub-block scales, a min that is added (Q4_1, Q5_1). */
#define BLOCK32(f) ((f) >= FMT_Q4_1)
#define HAS_MIN32(f) ((f) == FMT_Q4_1 || (f) == FMT_Q5_1)
#define TILES_PER_BLOCK(f) (BLOCK32(f) ? 1 : TILES_PER_SB)
/* Formats whose scales cover 16 columns: two accumulators per tile, one per half. */
#define SPLIT(f) ((f) == FMT_Q6_K || (f) == FMT_Q3_K || (f) == FMT_Q2_K)
/* What the stored unsigned level exceeds the format's level by. */
#define LEVEL_OFFSET(f) ((f) == FMT_Q6_K ? 32 : (f) == FMT_Q3_K ? 4 : (f) == FMT_Q5_0 ? 16 : (f) == FMT_IQ4_NL ? 128 : 0)
/* Nibble pairs (Q4_K, Q5_K, the 32-blocks) or 2-bit planes (Q2_K, Q3_K) for a tile's low bits; Q6_K's whole bytes. */
#define NIBBLES(f) ((f) != FMT_Q2_K && (f) != FMT_Q3_K && (f) != FMT_Q6_K)
/* Bit 4 of the stored level in a one-bit plane (Q5_K, Q5_0, Q5_1). */
#define FIFTH_BIT(f) ((f) == FMT_Q5_K || (f) == FMT_Q5_0 || (f) == FMT_Q5_1)
#define HEADER_BYTES(f) (HAS_DMIN(f) || HAS_MIN32(f) ? 4 * KSET : 2 * KSET)
#define KTILE_BYTES(f) ((f) == FMT_Q4_K ? 1152 : (f) == FMT_Q5_K ? 1408 : (f) == FMT_Q6_K ? 2176 \
        : (f) == FMT_Q2_K ? 768 : (f) == FMT_Q3_K ? 896 : FIFTH_BIT(f) ? 1280 : 1024)
/* Where a tile's level bytes start, after its scales (and mins). */
#define LEVELS_AT(f) (BLOCK32(f) ? 0 : (f) == FMT_Q2_K ? 4 * KSET : 2 * KSET)
#define SB_BYTES(f) (HEADER_BYTES(f) + TILES_PER_BLOCK(f) * KTILE_BYTES(f))

KVNNI static inline __m512i kquad_of(const int8_t *x) {
    int32_t v;
    memcpy(&v, x, 4);
    return _mm512_set1_epi32(v);
}

/* The sum of 16 signed bytes, exactly. */
KVNNI static inline int32_t sum16(const int8_t *x) {
    __m128i v = _mm_xor_si128(_mm_loadu_si128((const __m128i *) x), _mm_set1_epi8((char) 0x80));
    __m128i s = _mm_sad_epu8(v, _mm_setzero_si128());
    return _mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4) - 16 * 128;
}

/* Sign-extends 16 int8 or zero-extends 16 uint8 at p to int32 lanes. */
KVNNI static inline __m512i widen_u8(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) p));
}

KVNNI static inline __m512i widen_i8(const uint8_t *p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) p));
}

/*
 * T tokens times row groups g0 .. g0 + G - 1 (16 rows each) of one set, all superblocks, format F; constant F, T and
 * G so that everything unrolls into registers.
 */
KVNNI static inline __attribute__((always_inline)) void k_rows_tokens(
        const uint8_t *set, int64_t tiles, const int8_t *xq, int64_t cols, const float *dx, const int32_t *xsum,
        float *out, const int F, int T, int g0, int G) {
    const __m512i low = _mm512_set1_epi8(0x0f);
    const __m512i m1 = _mm512_set1_epi8(0x01);
    const __m512i m3 = _mm512_set1_epi8(0x03);
    __m512 total[4][4];
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            total[t][g] = _mm512_setzero_ps();
        }
    }
    /* IQ4_NL's table, stored + 128 as unsigned bytes, in each 128-bit lane for vpshufb. */
    const __m512i table = _mm512_broadcast_i32x4(_mm_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, (char) 129,
            (char) 141, (char) 153, (char) 166, (char) 181, (char) 197, (char) 217, (char) 241));
    int64_t superblocks = tiles / TILES_PER_BLOCK(F);
    for (int64_t s = 0; s < superblocks; s++) {
        const uint8_t *sb = set + s * SB_BYTES(F);
        __m512 d[4];
        __m512 ndmin[4];
        for (int g = 0; g < G; g++) {
            d[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (sb + 32 * (g0 + g))));
            if (HAS_MIN32(F)) {
                ndmin[g] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (sb + 2 * KSET + 32 * (g0 + g))));
            } else if (HAS_DMIN(F)) {
                /* -dmin by its sign bit, as Java's negation (0 - dmin would turn -0 into +0). */
                ndmin[g] = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_set1_epi32((int) 0x80000000),
                        _mm512_castps_si512(_mm512_cvtph_ps(
                                _mm256_loadu_si256((const __m256i *) (sb + 2 * KSET + 32 * (g0 + g)))))));
            }
        }
        if (g0 == 0 && G < 4) {
            for (int line = 0; line < HEADER_BYTES(F); line += 64) {
                _mm_prefetch((const char *) (sb + line), _MM_HINT_T1);
            }
        }
        for (int k = 0; k < TILES_PER_BLOCK(F); k++) {
            const uint8_t *tile = sb + HEADER_BYTES(F) + k * KTILE_BYTES(F);
            const uint8_t *pairs = tile + LEVELS_AT(F);
            if (g0 == 0 && G < 4) {
                /* As quant_vnni.c's rows_tokens: the first of two passes brings the whole tile into L2. */
                for (int line = 0; line < KTILE_BYTES(F); line += 64) {
                    _mm_prefetch((const char *) (tile + line), _MM_HINT_T1);
                }
            }
            int64_t b = s * TILES_PER_BLOCK(F) + k;
            /* acc[t][g][h]: the unsigned levels times xq, per 16-column half h where scales cover 16 columns. */
            __m512i acc[4][4][2];
            for (int t = 0; t < T; t++) {
                for (int g = 0; g < G; g++) {
                    acc[t][g][0] = _mm512_setzero_si512();
                    acc[t][g][1] = _mm512_setzero_si512();
                }
            }
            for (int p = 0; p < 4; p++) {
                __m512i lo[4];
                __m512i hi[4];
                for (int g = 0; g < G; g++) {
                    if (NIBBLES(F)) {
                        __m512i v = _mm512_loadu_si512((const void *) (pairs + p * 256 + (g0 + g) * 64));
                        lo[g] = _mm512_and_si512(v, low);
                        hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
                        if (F == FMT_IQ4_NL) {
                            lo[g] = _mm512_shuffle_epi8(table, lo[g]);
                            hi[g] = _mm512_shuffle_epi8(table, hi[g]);
                        }
                    } else if (F == FMT_Q6_K) {
                        lo[g] = _mm512_loadu_si512((const void *) (pairs + (2 * p) * 256 + (g0 + g) * 64));
                        hi[g] = _mm512_loadu_si512((const void *) (pairs + (2 * p + 1) * 256 + (g0 + g) * 64));
                    } else {
                        /* Quads 2p and 2p + 1 both lie in half p / 2, at positions (2p) % 4 and (2p + 1) % 4. */
                        __m512i v = _mm512_loadu_si512((const void *) (pairs + (p / 2) * 256 + (g0 + g) * 64));
                        lo[g] = _mm512_and_si512(_mm512_srli_epi16(v, 2 * ((2 * p) % 4)), m3);
                        hi[g] = _mm512_and_si512(_mm512_srli_epi16(v, 2 * ((2 * p + 1) % 4)), m3);
                    }
                    if (F == FMT_Q3_K) {
                        __m512i plane = _mm512_loadu_si512((const void *) (pairs + 512 + (g0 + g) * 64));
                        __m512i bl = _mm512_and_si512(_mm512_srli_epi16(plane, 2 * p), m1);
                        __m512i bh = _mm512_and_si512(_mm512_srli_epi16(plane, 2 * p + 1), m1);
                        lo[g] = _mm512_or_si512(lo[g], _mm512_slli_epi16(bl, 2));
                        hi[g] = _mm512_or_si512(hi[g], _mm512_slli_epi16(bh, 2));
                    } else if (FIFTH_BIT(F)) {
                        /* Quads 2p (lo) and 2p + 1 (hi): bits 2p and 2p + 1 of the plane's bytes, moved to bit 4. */
                        __m512i plane = _mm512_loadu_si512((const void *) (pairs + 1024 + (g0 + g) * 64));
                        __m512i bl = _mm512_and_si512(_mm512_srli_epi16(plane, 2 * p), m1);
                        __m512i bh = _mm512_and_si512(_mm512_srli_epi16(plane, 2 * p + 1), m1);
                        lo[g] = _mm512_or_si512(lo[g], _mm512_slli_epi16(bl, 4));
                        hi[g] = _mm512_or_si512(hi[g], _mm512_slli_epi16(bh, 4));
                    }
                }
                for (int t = 0; t < T; t++) {
                    __m512i xl = kquad_of(xq + t * cols + b * KTILE + 8 * p);
                    __m512i xh = kquad_of(xq + t * cols + b * KTILE + 8 * p + 4);
                    int half = SPLIT(F) ? p / 2 : 0;
                    for (int g = 0; g < G; g++) {
                        acc[t][g][half] = _mm512_dpbusd_epi32(acc[t][g][half], lo[g], xl);
                        acc[t][g][half] = _mm512_dpbusd_epi32(acc[t][g][half], hi[g], xh);
                    }
                }
            }
            for (int t = 0; t < T; t++) {
                __m512 dxv = _mm512_set1_ps(dx[t * tiles + b]);
                if (BLOCK32(F)) {
                    int32_t x = xsum[t * tiles + b];
                    __m512i off = _mm512_set1_epi32(LEVEL_OFFSET(F) * x);
                    for (int g = 0; g < G; g++) {
                        __m512i a = _mm512_sub_epi32(acc[t][g][0], off);
                        total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(d[g], dxv), total[t][g]);
                        if (HAS_MIN32(F)) {
                            total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_set1_epi32(x)),
                                    _mm512_mul_ps(ndmin[g], dxv), total[t][g]);
                        }
                    }
                } else if (SPLIT(F)) {
                    const int8_t *xt = xq + t * cols + b * KTILE;
                    int32_t x0 = sum16(xt);
                    int32_t x1 = xsum[t * tiles + b] - x0;
                    __m512i off0 = _mm512_set1_epi32(LEVEL_OFFSET(F) * x0);
                    __m512i off1 = _mm512_set1_epi32(LEVEL_OFFSET(F) * x1);
                    for (int g = 0; g < G; g++) {
                        __m512i s0 = widen_i8(tile + (g0 + g) * 16);
                        __m512i s1 = widen_i8(tile + KSET + (g0 + g) * 16);
                        __m512i a = _mm512_add_epi32(
                                _mm512_mullo_epi32(s0, _mm512_sub_epi32(acc[t][g][0], off0)),
                                _mm512_mullo_epi32(s1, _mm512_sub_epi32(acc[t][g][1], off1)));
                        total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(d[g], dxv), total[t][g]);
                        if (F == FMT_Q2_K) {
                            __m512i m0 = widen_u8(tile + 2 * KSET + (g0 + g) * 16);
                            __m512i mm1 = widen_u8(tile + 3 * KSET + (g0 + g) * 16);
                            __m512i bm = _mm512_add_epi32(_mm512_mullo_epi32(m0, _mm512_set1_epi32(x0)),
                                    _mm512_mullo_epi32(mm1, _mm512_set1_epi32(x1)));
                            total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(bm), _mm512_mul_ps(ndmin[g], dxv),
                                    total[t][g]);
                        }
                    }
                } else {
                    __m512i xs = _mm512_set1_epi32(xsum[t * tiles + b]);
                    for (int g = 0; g < G; g++) {
                        __m512i sc = widen_u8(tile + (g0 + g) * 16);
                        __m512i mn = widen_u8(tile + KSET + (g0 + g) * 16);
                        __m512i a = _mm512_mullo_epi32(sc, acc[t][g][0]);
                        __m512i bm = _mm512_mullo_epi32(mn, xs);
                        total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(d[g], dxv), total[t][g]);
                        total[t][g] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(bm), _mm512_mul_ps(ndmin[g], dxv),
                                total[t][g]);
                    }
                }
            }
        }
    }
    for (int t = 0; t < T; t++) {
        for (int g = 0; g < G; g++) {
            _mm512_storeu_ps(out + t * KSET + 16 * (g0 + g), total[t][g]);
        }
    }
}

/* Every token of the call, four at a time (rows in two halves for 3-4 tokens, so the accumulators fit). */
KVNNI static inline __attribute__((always_inline)) void k_set(
        const int F, intptr_t set, int64_t tiles, int64_t tokens, intptr_t xq, intptr_t dx, intptr_t xsum,
        intptr_t out) {
    const uint8_t *s = (const uint8_t *) set;
    const int8_t *x = (const int8_t *) xq;
    const float *d = (const float *) dx;
    const int32_t *u = (const int32_t *) xsum;
    float *o = (float *) out;
    int64_t cols = tiles * KTILE;
    for (int64_t t = 0; t < tokens; t += 4) {
        int64_t n = tokens - t < 4 ? tokens - t : 4;
        const int8_t *xt = x + t * cols;
        const float *dt = d + t * tiles;
        const int32_t *ut = u + t * tiles;
        float *ot = o + t * KSET;
        switch (n) {
            case 1:
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 1, 0, 4);
                break;
            case 2:
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 2, 0, 2);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 2, 2, 2);
                break;
            case 3:
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 3, 0, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 3, 1, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 3, 2, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 3, 3, 1);
                break;
            default:
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 4, 0, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 4, 1, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 4, 2, 1);
                k_rows_tokens(s, tiles, xt, cols, dt, ut, ot, F, 4, 3, 1);
                break;
        }
    }
}

/*
 * tokens x one set of 64 rows in the layout above: out[t * 64 + r] for token t and the set's row r. Arguments as
 * continuum_q8_0_vnni_set's (tiles = cols / 32, a multiple of 8 for the K-quants). One entry point per format, so
 * that each call compiles k_set for a constant F.
 */
#define K_ENTRY(name, F) \
    KVNNI void continuum_##name##_vnni_set(intptr_t set, int64_t tiles, int64_t tokens, intptr_t xq, intptr_t dx, \
                                           intptr_t xsum, intptr_t out) { \
        k_set(F, set, tiles, tokens, xq, dx, xsum, out); \
    }

K_ENTRY(q4_k, FMT_Q4_K)
K_ENTRY(q5_k, FMT_Q5_K)
K_ENTRY(q6_k, FMT_Q6_K)
K_ENTRY(q2_k, FMT_Q2_K)
K_ENTRY(q3_k, FMT_Q3_K)
K_ENTRY(q4_1, FMT_Q4_1)
K_ENTRY(q5_0, FMT_Q5_0)
K_ENTRY(q5_1, FMT_Q5_1)
K_ENTRY(iq4_nl, FMT_IQ4_NL)
