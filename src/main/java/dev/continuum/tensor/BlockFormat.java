package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The block formats read through {@link BlockQuantTensor}, one constant per ggml type, as ggml describes each type
 * once in its type traits. Each knows its block layout and one thing about it: how to decode a block into the
 * integer form every computation on it starts from ({@link #decode}):
 * <ul>
 *   <li>{@code levels[j]}, the block's integer levels with the format's offset folded in (signed where the format
 *   subtracts one);</li>
 *   <li>for each 16 columns {@code h}, an integer scale {@code scales[h]} and, for the formats with a min, an
 *   integer min {@code scales[half + h]} ({@code half = blockSize / 16}); formats whose scale covers 32 or more
 *   columns repeat it;</li>
 *   <li>two floats: {@code factors[0] = d} and {@code factors[1] = dminSigned}, the min's factor with the sign the
 *   format's formula gives it (K-quants subtract {@code dmin * m}, Q4_1 and Q5_1 add their min {@code m}).</li>
 * </ul>
 * llama.cpp's dequantization ({@code dequantize_row_*} in ggml-quants.c) is, for every one of these formats, the
 * float expression {@code (d * s) * q}, then {@code + dminSigned * m} for a format with a min (Q4_1's
 * {@code x*d + m} is that with {@code s = m = 1}; negating a product is exact), so {@link BlockQuantTensor}
 * dequantizes all of them with that one expression; the reference vectors prove it bit for bit.
 *
 * <p>Layouts (byte offsets in a block; f16 little-endian; {@code q[j]} the level of element {@code j}):
 * <pre>
 * Q4_1   20 B / 32:  [d f16][m f16][qs 16]            q[j] = qs[j] lo nibble, q[j+16] = qs[j] hi; v = q*d + m
 * Q5_0   22 B / 32:  [d][qh u32][qs 16]               q[j] = nibble | (qh bit j) &lt;&lt; 4, minus 16; v = q*d
 * Q5_1   24 B / 32:  [d][m][qh u32][qs 16]            q as Q5_0 without the 16; v = q*d + m
 * IQ4_NL 18 B / 32:  [d][qs 16]                       q = KVALUES[nibble] (a non-linear table); v = d*q
 * Q2_K   84 B / 256: [scales 16][qs 64][d][dmin]      per 16 elements one byte: lo 4 bits scale, hi 4 bits min
 *                    tile k (32 elements): q = qs[32*(k/4) + l] &gt;&gt; 2*(k%4) &amp; 3, l = 0..31; v = d*s*q - dmin*m
 * Q3_K  110 B / 256: [hmask 32][qs 64][scales 12][d]  q as Q2_K's 2 bits minus 4 where hmask[l] bit k is clear;
 *                    16 six-bit scales (minus 32) packed: lo 4 bits in bytes 0-7 (two per byte), hi 2 bits in 8-11
 * Q4_K  144 B / 256: [d][dmin][scales 12][qs 128]     8 six-bit scales and mins (see {@link #k4ScaleMin});
 *                    tile k: q = qs[32*(k/2) + l] lo nibble for even k, hi for odd; v = d*s*q - dmin*m
 * Q5_K  176 B / 256: [d][dmin][scales 12][qh 32][qs 128]  q = Q4_K's nibble | (qh[l] bit k) &lt;&lt; 4
 * Q6_K  210 B / 256: [ql 128][qh 64][scales 16 int8][d]   tile k, n = k/4, p = k%4: q = (ql[64n + 32*(p&amp;1) + l]
 *                    &gt;&gt; 4*(p/2) &amp; 15 | (qh[32n + l] &gt;&gt; 2p &amp; 3) &lt;&lt; 4) - 32, one scale per 16 elements; v = d*s*q
 * Q8_K  292 B / 256: [d f32][qs 256 int8][bsums 16 x i16]  q = qs[j]; v = d*q (bsums unused here)
 * </pre>
 */
enum BlockFormat {
    Q4_1(GgmlType.Q4_1, true) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            nibbles(m, b + 4, levels, 0);
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            ones(scales, 2, true);
            factors[0] = f16(m, b);
            factors[1] = f16(m, b + 2);
        }
    },
    Q5_0(GgmlType.Q5_0, false) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            nibbles(m, b + 6, levels, 0);
            highBits(m.get(INT_LE, b + 2), levels, -16);
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            ones(scales, 2, false);
            factors[0] = f16(m, b);
            factors[1] = 0f;
        }
    },
    Q5_1(GgmlType.Q5_1, true) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            nibbles(m, b + 8, levels, 0);
            highBits(m.get(INT_LE, b + 4), levels, 0);
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            ones(scales, 2, true);
            factors[0] = f16(m, b);
            factors[1] = f16(m, b + 2);
        }
    },
    IQ4_NL(GgmlType.IQ4_NL, false) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int j = 0; j < 16; j++) {
                int packed = m.get(ValueLayout.JAVA_BYTE, b + 2 + j);
                levels[j] = KVALUES[packed & 0x0f];
                levels[j + 16] = KVALUES[(packed >> 4) & 0x0f];
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            ones(scales, 2, false);
            factors[0] = f16(m, b);
            factors[1] = 0f;
        }
    },
    Q2_K(GgmlType.Q2_K, true) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int k = 0; k < 8; k++) {
                long q = b + 16 + 32L * (k / 4);
                int shift = 2 * (k % 4);
                for (int l = 0; l < 32; l++) {
                    levels[32 * k + l] = (byte) ((m.get(ValueLayout.JAVA_BYTE, q + l) >> shift) & 3);
                }
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            long lo = m.get(LONG_LE, b);
            long hi = m.get(LONG_LE, b + 8);
            for (int h = 0; h < 16; h++) {
                int sc = (int) ((h < 8 ? lo : hi) >>> (8 * (h & 7))) & 0xff;
                scales[h] = sc & 0x0f;
                scales[16 + h] = sc >> 4;
            }
            factors[0] = f16(m, b + 80);
            factors[1] = -f16(m, b + 82);
        }
    },
    Q3_K(GgmlType.Q3_K, false) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int k = 0; k < 8; k++) {
                long q = b + 32 + 32L * (k / 4);
                int shift = 2 * (k % 4);
                for (int l = 0; l < 32; l++) {
                    int low = (m.get(ValueLayout.JAVA_BYTE, q + l) >> shift) & 3;
                    boolean high = ((m.get(ValueLayout.JAVA_BYTE, b + l) >> k) & 1) != 0;
                    levels[32 * k + l] = (byte) (low - (high ? 0 : 4));
                }
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            // Scale s: low 4 bits from byte (s/4 odd ? 4 : 0) + s%4, its lo nibble for s < 8, hi nibble after;
            // high 2 bits from byte 8 + s%4, bits 2*(s/4) and up.
            long lows = m.get(LONG_LE, b + 96);
            int highs = m.get(INT_LE, b + 104);
            for (int s = 0; s < 16; s++) {
                int g = s / 4;
                int i = s % 4;
                int low = (int) (lows >>> (8 * ((g & 1) * 4 + i) + (g >= 2 ? 4 : 0))) & 0x0f;
                int high = (highs >>> (8 * i + 2 * g)) & 3;
                scales[s] = (low | high << 4) - 32;
            }
            factors[0] = f16(m, b + 108);
            factors[1] = 0f;
        }
    },
    Q4_K(GgmlType.Q4_K, true) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int k = 0; k < 8; k++) {
                long q = b + 16 + 32L * (k / 2);
                int shift = 4 * (k % 2);
                for (int l = 0; l < 32; l++) {
                    levels[32 * k + l] = (byte) ((m.get(ValueLayout.JAVA_BYTE, q + l) >> shift) & 0x0f);
                }
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            k4ScaleMin(m, b + 4, scales);
            factors[0] = f16(m, b);
            factors[1] = -f16(m, b + 2);
        }
    },
    Q5_K(GgmlType.Q5_K, true) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int k = 0; k < 8; k++) {
                long q = b + 48 + 32L * (k / 2);
                int shift = 4 * (k % 2);
                for (int l = 0; l < 32; l++) {
                    int low = (m.get(ValueLayout.JAVA_BYTE, q + l) >> shift) & 0x0f;
                    int high = (m.get(ValueLayout.JAVA_BYTE, b + 16 + l) >> k) & 1;
                    levels[32 * k + l] = (byte) (low | high << 4);
                }
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            k4ScaleMin(m, b + 4, scales);
            factors[0] = f16(m, b);
            factors[1] = -f16(m, b + 2);
        }
    },
    Q6_K(GgmlType.Q6_K, false) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            for (int k = 0; k < 8; k++) {
                int n = k / 4;
                int p = k % 4;
                long ql = b + 64L * n + 32L * (p & 1);
                long qh = b + 128 + 32L * n;
                for (int l = 0; l < 32; l++) {
                    int low = (m.get(ValueLayout.JAVA_BYTE, ql + l) >> (4 * (p / 2))) & 0x0f;
                    int high = (m.get(ValueLayout.JAVA_BYTE, qh + l) >> (2 * p)) & 3;
                    levels[32 * k + l] = (byte) ((low | high << 4) - 32);
                }
            }
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            // llama.cpp gives element 128n + 32p + l the scale 8n + 2p + l/16: half h's scale is byte h.
            long lo = m.get(LONG_LE, b + 192);
            long hi = m.get(LONG_LE, b + 200);
            for (int h = 0; h < 16; h++) {
                scales[h] = (byte) ((h < 8 ? lo : hi) >>> (8 * (h & 7)));
            }
            factors[0] = f16(m, b + 208);
            factors[1] = 0f;
        }
    },
    Q8_K(GgmlType.Q8_K, false) {
        @Override
        void levels(MemorySegment m, long b, byte[] levels) {
            MemorySegment.copy(m, ValueLayout.JAVA_BYTE, b + 4, levels, 0, 256);
        }

        @Override
        void scales(MemorySegment m, long b, int[] scales, float[] factors) {
            ones(scales, 16, false);
            factors[0] = m.get(FLOAT_LE, b);
            factors[1] = 0f;
        }
    };

    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** IQ4_NL's 16 levels ({@code kvalues_iq4nl} in ggml-common.h): denser near zero, as weights are. */
    static final byte[] KVALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** The most 16-column halves a block has (256 / 16): the length of {@code scales / 2}. */
    static final int MAX_HALVES = 16;
    /** The most elements a block has. */
    static final int MAX_BLOCK = 256;

    final GgmlType type;
    /** Whether the format has a min term ({@code dminSigned * m}); the others' mins and min factor are zero. */
    final boolean hasMin;
    final int blockSize;
    final int blockBytes;
    /** 16-column halves per block: where a block's mins start in {@code scales}. */
    final int halves;

    BlockFormat(GgmlType type, boolean hasMin) {
        this.type = type;
        this.hasMin = hasMin;
        this.blockSize = type.blockSize;
        this.blockBytes = type.blockBytes;
        this.halves = type.blockSize / 16;
    }

    /**
     * Decodes the block at byte {@code b} of {@code m} into its integer form (see the class comment):
     * {@code blockSize} levels into {@code levels[0 ..]}, {@code 2 * halves} scales then mins into {@code scales},
     * {@code d} and {@code dminSigned} into {@code factors[0..1]}. The scalar reference every kernel reproduces.
     */
    final void decode(MemorySegment m, long b, byte[] levels, int[] scales, float[] factors) {
        levels(m, b, levels);
        scales(m, b, scales, factors);
    }

    /** The block's {@code blockSize} levels, as {@link #decode}; the vector kernels have their own for each format. */
    abstract void levels(MemorySegment m, long b, byte[] levels);

    /** The block's scales, mins and float factors, as {@link #decode}. */
    abstract void scales(MemorySegment m, long b, int[] scales, float[] factors);

    /** The format of a ggml type, or null when {@link BlockQuantTensor} does not read it. */
    static BlockFormat of(GgmlType type) {
        for (BlockFormat f : values()) {
            if (f.type == type) {
                return f;
            }
        }
        return null;
    }

    static float f16(MemorySegment m, long at) {
        return Float.float16ToFloat(m.get(Q8_0Tensor.SHORT_LE, at));
    }

    /** 32 four-bit levels: byte {@code j} of {@code qs} holds element {@code j} (lo) and {@code j + 16} (hi). */
    private static void nibbles(MemorySegment m, long qs, byte[] levels, int offset) {
        for (int j = 0; j < 16; j++) {
            int packed = m.get(ValueLayout.JAVA_BYTE, qs + j);
            levels[j] = (byte) ((packed & 0x0f) + offset);
            levels[j + 16] = (byte) (((packed >> 4) & 0x0f) + offset);
        }
    }

    /** Q5_0/Q5_1: bit {@code j} of {@code qh} is element {@code j}'s fifth bit; then {@code offset} added. */
    private static void highBits(int qh, byte[] levels, int offset) {
        for (int j = 0; j < 32; j++) {
            levels[j] = (byte) (levels[j] + (((qh >>> j) & 1) << 4) + offset);
        }
    }

    /** Scales (and mins) of 1 over {@code halves} halves: a format whose only scale is the block's float. */
    private static void ones(int[] scales, int halves, boolean mins) {
        for (int h = 0; h < halves; h++) {
            scales[h] = 1;
            scales[halves + h] = mins ? 1 : 0;
        }
    }

    /**
     * Q4_K/Q5_K's 12 scale bytes: eight 6-bit scales {@code sc} and mins {@code m}, one per 32 elements
     * ({@code get_scale_min_k4}); sub-block {@code j < 4}: {@code sc = s[j] & 63, m = s[j+4] & 63}; {@code j >= 4}:
     * low 4 bits from {@code s[j+4]} (lo nibble for the scale, hi for the min), high 2 bits from the top bits of
     * {@code s[j-4]} (scale) and {@code s[j]} (min):
     * <pre>
     *   bit:        7 6 | 5 4 3 2 1 0
     *   bytes 0..3: sc4..7 hi2 | sc0..3          bytes 4..7: m4..7 hi2 | m0..3
     *   bytes 8..11: [7..4] m4..7 lo4 | [3..0] sc4..7 lo4
     * </pre>
     * Written out per half of 16 columns (each value twice): scales in {@code out[0..16)}, mins in {@code [16..32)}.
     */
    static void k4ScaleMin(MemorySegment m, long s, int[] out) {
        // Two reads instead of twelve: each MemorySegment access checks bounds and the arena.
        long b0 = m.get(LONG_LE, s);
        int b8 = m.get(INT_LE, s + 8);
        for (int j = 0; j < 8; j++) {
            int sc;
            int mn;
            if (j < 4) {
                sc = (int) (b0 >>> (8 * j)) & 63;
                mn = (int) (b0 >>> (8 * (j + 4))) & 63;
            } else {
                int packed = (b8 >>> (8 * (j - 4))) & 0xff;
                sc = (packed & 0x0f) | ((int) (b0 >>> (8 * (j - 4) + 6)) & 3) << 4;
                mn = (packed >> 4) | ((int) (b0 >>> (8 * j + 6)) & 3) << 4;
            }
            out[2 * j] = sc;
            out[2 * j + 1] = sc;
            out[16 + 2 * j] = mn;
            out[16 + 2 * j + 1] = mn;
        }
    }
}
