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
    static final int BLOCK = 32;
    static final int BLOCK_BYTES = 34;
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    Q8_0Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return VectorSupport.ENABLED ? dotVector(row, x, xOffset) : dotScalar(row, x, xOffset);
    }

    @Override
    float dotScalar(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return dotScalar(data, rowOffset(row), cols / BLOCK, x, xOffset);
    }

    @Override
    float dotVector(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return Vectorized.dot(data, rowOffset(row), cols / BLOCK, x, xOffset);
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = rowOffset(row);
        for (int b = 0; b < cols / BLOCK; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            float d = Float.float16ToFloat(data.get(SHORT_LE, block));
            for (int i = 0; i < BLOCK; i++) {
                out[outOffset + b * BLOCK + i] = d * data.get(ValueLayout.JAVA_BYTE, block + 2 + i);
            }
        }
    }

    private long rowOffset(int row) {
        return (long) row * (cols / BLOCK) * BLOCK_BYTES;
    }

    static float dotScalar(MemorySegment w, long base, int blocks, float[] x, int xo) {
        float sum = 0f;
        for (int b = 0; b < blocks; b++) {
            long block = base + (long) b * BLOCK_BYTES;
            int xb = xo + b * BLOCK;
            float blockSum = 0f;
            for (int i = 0; i < BLOCK; i++) {
                blockSum += w.get(ValueLayout.JAVA_BYTE, block + 2 + i) * x[xb + i];
            }
            sum += Float.float16ToFloat(w.get(SHORT_LE, block)) * blockSum;
        }
        return sum;
    }

    /**
     * The Vector API kernel, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links, and runs its scalar kernel, on a JVM
     * started without that module. Only scalars cross into {@link #dot}, so no vector is ever boxed.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        static float dot(MemorySegment w, long base, int blocks, float[] x, int xo) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            // Even and odd blocks go to separate accumulators so consecutive blocks' FMAs do not wait on each other.
            FloatVector acc0 = FloatVector.zero(f);
            FloatVector acc1 = FloatVector.zero(f);
            int b = 0;
            for (; b + 1 < blocks; b += 2) {
                acc0 = block(w, base + (long) b * BLOCK_BYTES, x, xo + b * BLOCK, acc0);
                acc1 = block(w, base + (long) (b + 1) * BLOCK_BYTES, x, xo + (b + 1) * BLOCK, acc1);
            }
            if (b < blocks) {
                acc0 = block(w, base + (long) b * BLOCK_BYTES, x, xo + b * BLOCK, acc0);
            }
            return VectorShapes.sumLanes(acc0.add(acc1));
        }

        /** acc + d * (q . x) for one block, the q . x part lane-wise over the block's float vectors. */
        private static FloatVector block(MemorySegment w, long block, float[] x, int xb, FloatVector acc) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = f.length();
            // Start from a product: an fma into a zero vector is a wasted dependent op on every block.
            FloatVector partial = quants(w, block, 0).mul(FloatVector.fromArray(f, x, xb));
            for (int i = lanes; i < BLOCK; i += lanes) {
                partial = quants(w, block, i).fma(FloatVector.fromArray(f, x, xb + i), partial);
            }
            float d = Float.float16ToFloat(w.get(SHORT_LE, block));
            return partial.fma(FloatVector.broadcast(f, d), acc);
        }

        /** Block elements {@code [i, i + lanes)} as floats. */
        private static FloatVector quants(MemorySegment w, long block, int i) {
            ByteVector q = ByteVector.fromMemorySegment(VectorShapes.BYTE, w, block + 2 + i, ByteOrder.LITTLE_ENDIAN);
            return (FloatVector) q.convertShape(VectorOperators.B2F, VectorShapes.FLOAT, 0);
        }
    }
}
