package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

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

    Q8_0Tensor(MemorySegment data, int rows, int cols, int interleavedRows) {
        super(data, rows, cols, interleavedRows);
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
    void decodeTile(int group, int tile, float[] w, int wo, float[] s, int so) {
        long base = tileOffset(group, tile);
        int g = Interleaving.GROUP;
        for (int r = 0; r < g; r++) {
            s[so + r] = Float.float16ToFloat(data.get(SHORT_LE, base + 2L * r));
        }
        long q = base + 2L * g;
        for (int i = 0; i < TILE * g; i++) {
            w[wo + i] = data.get(ValueLayout.JAVA_BYTE, q + i);
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
        private Vectorized() {
        }

        /**
         * One token times four consecutive groups, starting at byte {@code base}; groups are {@code groupBytes}
         * apart. Four independent accumulator chains (one per group) keep the FMA unit busy, and each group's
         * weights stream sequentially.
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
                for (int j = 0; j < TILE; j++) {
                    FloatVector xj = FloatVector.broadcast(VectorShapes.FLOAT, x[xb + j]);
                    long o = q0 + (long) j * lanes;
                    p0 = quants(w, o).fma(xj, p0);
                    p1 = quants(w, o + groupBytes).fma(xj, p1);
                    p2 = quants(w, o + 2 * groupBytes).fma(xj, p2);
                    p3 = quants(w, o + 3 * groupBytes).fma(xj, p3);
                }
                t0 = p0.fma(scales(w, s0), t0);
                t1 = p1.fma(scales(w, s0 + groupBytes), t1);
                t2 = p2.fma(scales(w, s0 + 2 * groupBytes), t2);
                t3 = p3.fma(scales(w, s0 + 3 * groupBytes), t3);
            }
            t0.intoArray(out, oo);
            t1.intoArray(out, oo + lanes);
            t2.intoArray(out, oo + 2 * lanes);
            t3.intoArray(out, oo + 3 * lanes);
        }

        /** One column of a group: {@code lanes} signed bytes widened to floats. */
        private static FloatVector quants(MemorySegment w, long offset) {
            ByteVector q = ByteVector.fromMemorySegment(VectorShapes.BYTE, w, offset, ByteOrder.LITTLE_ENDIAN);
            return (FloatVector) q.convertShape(VectorOperators.B2F, VectorShapes.FLOAT, 0);
        }

        /** A group's block scales: {@code lanes} float16 values, converted exactly. */
        static FloatVector scales(MemorySegment w, long offset) {
            return F16Tensor.Vectorized.load(w, offset);
        }
    }
}
