package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

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

    Q4_0Tensor(MemorySegment data, int rows, int cols, int interleavedRows) {
        super(data, rows, cols, interleavedRows);
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
        return true;
    }

    @Override
    void multiplySingle(int set, float[] x, int xOffset, float[] out, int outOffset) {
        Vectorized.single(data, tileOffset(set * Interleaving.SET_GROUPS, 0), rowBytes() * Interleaving.GROUP,
                cols / TILE, x, xOffset, out, outOffset);
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars and arrays cross its boundary, so no vector is ever boxed.
     */
    static final class Vectorized {
        /**
         * Float bits of {@code (i & 15) - 8} for the {@code 2 * lanes} entries a two-table lookup can index; the
         * lookup wraps its index, so a whole byte can index the low nibble and the high nibble shifted down.
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
         * {@code x[2u]} and {@code x[2u + 1]}.
         */
        static void single(MemorySegment w, long base, long groupBytes, int tiles, float[] x, int xo,
                           float[] out, int oo) {
            int lanes = VectorShapes.LANES;
            long tileBytes = (long) lanes * BLOCK_BYTES;
            FloatVector t0 = FloatVector.zero(VectorShapes.FLOAT);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * lanes;
                int xb = xo + b * TILE;
                FloatVector p0 = FloatVector.zero(VectorShapes.FLOAT);
                FloatVector p1 = p0;
                FloatVector p2 = p0;
                FloatVector p3 = p0;
                for (int u = 0; u < TILE / 2; u++) {
                    FloatVector xl = FloatVector.broadcast(VectorShapes.FLOAT, x[xb + 2 * u]);
                    FloatVector xh = FloatVector.broadcast(VectorShapes.FLOAT, x[xb + 2 * u + 1]);
                    long o = q0 + (long) u * lanes;
                    IntVector v0 = bytes(w, o);
                    p0 = low(v0).fma(xl, p0);
                    p0 = high(v0).fma(xh, p0);
                    IntVector v1 = bytes(w, o + groupBytes);
                    p1 = low(v1).fma(xl, p1);
                    p1 = high(v1).fma(xh, p1);
                    IntVector v2 = bytes(w, o + 2 * groupBytes);
                    p2 = low(v2).fma(xl, p2);
                    p2 = high(v2).fma(xh, p2);
                    IntVector v3 = bytes(w, o + 3 * groupBytes);
                    p3 = low(v3).fma(xl, p3);
                    p3 = high(v3).fma(xh, p3);
                }
                t0 = p0.fma(Q8_0Tensor.Vectorized.scales(w, s0), t0);
                t1 = p1.fma(Q8_0Tensor.Vectorized.scales(w, s0 + groupBytes), t1);
                t2 = p2.fma(Q8_0Tensor.Vectorized.scales(w, s0 + 2 * groupBytes), t2);
                t3 = p3.fma(Q8_0Tensor.Vectorized.scales(w, s0 + 3 * groupBytes), t3);
            }
            t0.intoArray(out, oo);
            t1.intoArray(out, oo + lanes);
            t2.intoArray(out, oo + 2 * lanes);
            t3.intoArray(out, oo + 3 * lanes);
        }

        /** One packed column pair of a group: {@code lanes} bytes, zero-extended to ints. */
        private static IntVector bytes(MemorySegment w, long offset) {
            ByteVector b = ByteVector.fromMemorySegment(VectorShapes.BYTE, w, offset, ByteOrder.LITTLE_ENDIAN);
            return (IntVector) b.convertShape(VectorOperators.ZERO_EXTEND_B2I, VectorShapes.INT, 0);
        }

        private static FloatVector low(IntVector packed) {
            return packed.selectFrom(NIBBLES_LOW, NIBBLES_HIGH).reinterpretAsFloats();
        }

        private static FloatVector high(IntVector packed) {
            return packed.lanewise(VectorOperators.LSHR, 4).selectFrom(NIBBLES_LOW, NIBBLES_HIGH).reinterpretAsFloats();
        }
    }
}
