package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q8_0 weights: blocks of 32 elements, each a float16 scale and 32 signed bytes; element value = d * q.
 * <pre>
 *   byte:  0    2    3    4         33
 *         [ d  ][q0 ][q1 ][ ... ][q31]      34 bytes per block, d little-endian F16
 * </pre>
 */
public final class Q8_0Tensor extends WeightTensor {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int BLOCK_BYTES = 34;

    Q8_0Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    int scaleBytes() {
        return 2;
    }

    @Override
    int tileUnits() {
        return TILE;
    }

    @Override
    int unitBytes() {
        return 1;
    }

    @Override
    float weight(int row, int col) {
        return data.get(ValueLayout.JAVA_BYTE, unitOffset(row, col / TILE, col % TILE));
    }

    @Override
    float scale(int row, int tile) {
        return Float.float16ToFloat(data.get(SHORT_LE, scaleOffset(row, tile)));
    }

    @Override
    float dotRowMajor(int row, float[] x, int xo) {
        long base = (long) row * (cols / TILE) * BLOCK_BYTES;
        float total = 0f;
        for (int b = 0; b < cols / TILE; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xo + b * TILE;
            float p = 0f;
            for (int j = 0; j < TILE; j++) {
                p = Math.fma(data.get(ValueLayout.JAVA_BYTE, block + 2 + j), x[xb + j], p);
            }
            total = Math.fma(p, Float.float16ToFloat(data.get(SHORT_LE, block)), total);
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        long base = tileOffset(set, tile);
        if (hasOnlyNormalScales()) {
            Vectorized.decode(data, base, w, s);
            return;
        }
        int rows = Interleaving.SET_ROWS;
        for (int r = 0; r < rows; r++) {
            s[r] = Float.float16ToFloat(data.get(SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * rows;
        for (int i = 0; i < TILE * rows; i++) {
            w[i] = data.get(ValueLayout.JAVA_BYTE, q + i);
        }
    }

    @Override
    boolean hasSingleTokenKernel() {
        return hasOnlyNormalScales();
    }

    @Override
    void multiplySingle(int set, float[] x, QuantizedActivations qa, float[] out, int outOffset, float[] scales) {
        Vectorized.single(data, tileOffset(set, 0), cols / TILE, x, 0, out, outOffset, scales);
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars and arrays cross its boundary, so no vector is ever boxed.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        /**
         * One token times a set of {@code 4 * lanes} rows starting at byte {@code base}, as four vectors of rows:
         * four independent accumulator chains keep the FMA unit busy, and the set's weights stream sequentially.
         * Every vector operation is written out here rather than in helpers: a vector passed to or returned from
         * a call the JIT does not inline is boxed, which costs more than the kernel.
         */
        static void single(MemorySegment w, long base, int tiles, float[] x, int xo, float[] out, int oo,
                           float[] scales) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            VectorSpecies<Byte> b8 = VectorShapes.BYTE;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            long tileBytes = (long) rows * BLOCK_BYTES;
            FloatVector t0 = FloatVector.zero(f);
            FloatVector t1 = t0;
            FloatVector t2 = t0;
            FloatVector t3 = t0;
            for (int b = 0; b < tiles; b++) {
                long s0 = base + b * tileBytes;
                long q0 = s0 + 2L * rows;
                int xb = xo + b * TILE;
                FloatVector p0 = FloatVector.zero(f);
                FloatVector p1 = p0;
                FloatVector p2 = p0;
                FloatVector p3 = p0;
                for (int j = 0; j < TILE; j++) {
                    FloatVector xj = FloatVector.broadcast(f, x[xb + j]);
                    long o = q0 + (long) j * rows;
                    p0 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p0);
                    p1 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + lanes, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p1);
                    p2 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + 2 * lanes, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p2);
                    p3 = ((FloatVector) ByteVector.fromMemorySegment(b8, w, o + 3 * lanes, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, f, 0)).fma(xj, p3);
                }
                F16Tensor.Vectorized.scales(w, s0, 2L * lanes, 4, scales, 0);
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

        /** A set's tile as floats, column by column ({@code [k][rows]}), and its scales. */
        static void decode(MemorySegment w, long base, float[] out, float[] s) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = VectorShapes.LANES;
            int rows = 4 * lanes;
            F16Tensor.Vectorized.scales(w, base, 2L * lanes, 4, s, 0);
            long q = base + 2L * rows;
            for (int i = 0; i < TILE * rows; i += lanes) {
                ((FloatVector) ByteVector.fromMemorySegment(VectorShapes.BYTE, w, q + i, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2F, f, 0)).intoArray(out, i);
            }
        }
    }
}
