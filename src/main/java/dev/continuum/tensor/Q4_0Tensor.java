package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_0 weights: blocks of 32 elements, each a float16 scale and 16 bytes of 4-bit values; element value =
 * d * (nibble - 8). Byte j carries element j in its low nibble and element j + 16 in its high nibble:
 * <pre>
 *   byte:  0    2             3             ...  17
 *         [ d  ][e16 | e0    ][e17 | e1    ] ... [e31 | e15   ]     18 bytes per block
 *               hi 4   lo 4
 * </pre>
 * A tile is summed byte by byte, low nibble first: columns 0, 16, 1, 17, ..., 15, 31 (see {@link #tileColumn}).
 */
public final class Q4_0Tensor extends WeightTensor {
    private static final int BLOCK_BYTES = 18;

    Q4_0Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    @Override
    int scaleBytes() {
        return 2;
    }

    @Override
    int tileUnits() {
        return TILE / 2;
    }

    @Override
    int unitBytes() {
        return 1;
    }

    @Override
    int tileColumn(int k) {
        return (k & 1) * (TILE / 2) + (k >> 1);
    }

    @Override
    float weight(int row, int col) {
        int j = col % TILE;
        int packed = data.get(ValueLayout.JAVA_BYTE, unitOffset(row, col / TILE, j % (TILE / 2)));
        return (j < TILE / 2 ? packed & 0x0f : (packed >> 4) & 0x0f) - 8;
    }

    @Override
    float scale(int row, int tile) {
        return Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, scaleOffset(row, tile)));
    }

    @Override
    float dotRowMajor(int row, float[] x, int xo) {
        long base = (long) row * (cols / TILE) * BLOCK_BYTES;
        float total = 0f;
        for (int b = 0; b < cols / TILE; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xo + b * TILE;
            float p = 0f;
            for (int j = 0; j < TILE / 2; j++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, block + 2 + j);
                p = Math.fma((packed & 0x0f) - 8, x[xb + j], p);
                p = Math.fma(((packed >> 4) & 0x0f) - 8, x[xb + j + TILE / 2], p);
            }
            total = Math.fma(p, Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, block)), total);
        }
        return total;
    }

    @Override
    void decodeTile(int group, int tile, float[] w, int wo, float[] s, int so) {
        long base = tileOffset(group, tile);
        if (hasOnlyNormalScales()) {
            Vectorized.decode(data, base, w, wo, s, so);
            return;
        }
        int g = Interleaving.GROUP;
        for (int r = 0; r < g; r++) {
            s[so + r] = Float.float16ToFloat(data.get(Q8_0Tensor.SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * g;
        for (int u = 0; u < TILE / 2; u++) {
            int lo = wo + 2 * u * g;
            int hi = lo + g;
            for (int r = 0; r < g; r++) {
                int packed = data.get(ValueLayout.JAVA_BYTE, q + (long) u * g + r);
                w[lo + r] = (packed & 0x0f) - 8;
                w[hi + r] = ((packed >> 4) & 0x0f) - 8;
            }
        }
    }

    @Override
    boolean hasSingleTokenKernel() {
        return hasOnlyNormalScales();
    }

    @Override
    void multiplySingle(int set, float[] x, int xOffset, float[] out, int outOffset, float[] scales) {
        Vectorized.single(data, tileOffset(set * Interleaving.SET_GROUPS, 0), rowBytes() * Interleaving.GROUP,
                cols / TILE, x, xOffset, out, outOffset, scales);
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars and arrays cross its boundary, so no vector is ever boxed.
     */
    static final class Vectorized {
        /**
         * Float bits of {@code (i & 15) - 8} for the {@code 2 * lanes} entries a two-table lookup can index; the
         * lookup wraps its index, so a whole byte can index its low nibble, and the byte shifted right by 4 its
         * high nibble.
         */
        private static final IntVector NIBBLES_LOW = nibbleTable(0);
        private static final IntVector NIBBLES_HIGH = nibbleTable(VectorShapes.LANES);

        private Vectorized() {
        }

        private static IntVector nibbleTable(int first) {
            int[] t = new int[VectorShapes.LANES];
            for (int i = 0; i < t.length; i++) {
                t[i] = Float.floatToRawIntBits(((first + i) & 15) - 8);
            }
            return IntVector.fromArray(VectorShapes.INT, t, 0);
        }

        /**
         * One token times four consecutive groups starting at byte {@code base}, groups {@code groupBytes} apart;
         * {@code x} is in the kernel's column order (see {@link MatMul}), so byte {@code u}'s two nibbles meet
         * {@code x[2u]} and {@code x[2u + 1]}. Every vector operation is written out here rather than in helpers:
         * a vector passed to or returned from a call the JIT does not inline is boxed.
         */
        static void single(MemorySegment w, long base, long groupBytes, int tiles, float[] x, int xo,
                           float[] out, int oo, float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE;
            VectorSpecies<Integer> i32 = VectorShapes.INT;
            IntVector lowTable = NIBBLES_LOW;
            IntVector highTable = NIBBLES_HIGH;
            int lanes = VectorShapes.LANES;
            long tileBytes = (long) lanes * BLOCK_BYTES;
            long g1 = groupBytes;
            long g2 = 2 * groupBytes;
            long g3 = 3 * groupBytes;
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * lanes;
                int xb = xo + b * TILE;
                FloatVector p0 = FloatVector.zero(f);
                FloatVector p1 = p0;
                FloatVector p2 = p0;
                FloatVector p3 = p0;
                for (int u = 0; u < TILE / 2; u++) {
                    FloatVector xl = FloatVector.broadcast(f, x[xb + 2 * u]);
                    FloatVector xh = FloatVector.broadcast(f, x[xb + 2 * u + 1]);
                    long o = q0 + (long) u * lanes;
                    IntVector v0 = (IntVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, i32, 0);
                    IntVector v1 = (IntVector) ByteVector.fromMemorySegment(b8, w, o + g1, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, i32, 0);
                    IntVector v2 = (IntVector) ByteVector.fromMemorySegment(b8, w, o + g2, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, i32, 0);
                    IntVector v3 = (IntVector) ByteVector.fromMemorySegment(b8, w, o + g3, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, i32, 0);
                    p0 = v0.selectFrom(lowTable, highTable).reinterpretAsFloats().fma(xl, p0);
                    p1 = v1.selectFrom(lowTable, highTable).reinterpretAsFloats().fma(xl, p1);
                    p2 = v2.selectFrom(lowTable, highTable).reinterpretAsFloats().fma(xl, p2);
                    p3 = v3.selectFrom(lowTable, highTable).reinterpretAsFloats().fma(xl, p3);
                    p0 = v0.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .fma(xh, p0);
                    p1 = v1.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .fma(xh, p1);
                    p2 = v2.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .fma(xh, p2);
                    p3 = v3.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                            .fma(xh, p3);
                }
                F16Tensor.Vectorized.scales(w, s0, groupBytes, 4, scales, 0);
                t0 = p0.fma(FloatVector.fromArray(f, scales, 0), t0);
                t1 = p1.fma(FloatVector.fromArray(f, scales, lanes), t1);
                t2 = p2.fma(FloatVector.fromArray(f, scales, 2 * lanes), t2);
                t3 = p3.fma(FloatVector.fromArray(f, scales, 3 * lanes), t3);
            }
            t0.intoArray(out, oo);
            t1.intoArray(out, oo + lanes);
            t2.intoArray(out, oo + 2 * lanes);
            t3.intoArray(out, oo + 3 * lanes);
        }

        /** A group's tile as floats in summation order (low then high nibble of each byte), and its scales. */
        static void decode(MemorySegment w, long base, float[] out, int oo, float[] s, int so) {
            IntVector lowTable = NIBBLES_LOW;
            IntVector highTable = NIBBLES_HIGH;
            int lanes = VectorShapes.LANES;
            F16Tensor.Vectorized.scales(w, base, 0, 1, s, so);
            long q = base + 2L * lanes;
            for (int u = 0; u < TILE / 2; u++) {
                IntVector v = (IntVector) ByteVector.fromMemorySegment(VectorShapes.BYTE, w, q + (long) u * lanes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, VectorShapes.INT, 0);
                v.selectFrom(lowTable, highTable).reinterpretAsFloats().intoArray(out, oo + 2 * u * lanes);
                v.lanewise(VectorOperators.LSHR, 4).selectFrom(lowTable, highTable).reinterpretAsFloats()
                        .intoArray(out, oo + (2 * u + 1) * lanes);
            }
        }
    }
}
