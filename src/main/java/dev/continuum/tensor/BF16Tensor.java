package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * BF16 weights: each element is the upper half of a float32, stored as a little-endian short.
 * <pre>
 *   bf16:   [s eeeeeeee mmmmmmm]                      16 bits
 *   float:  [s eeeeeeee mmmmmmm 0000000000000000]     bf16 &lt;&lt; 16
 * </pre>
 */
public final class BF16Tensor extends WeightTensor {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    BF16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return VectorSupport.ENABLED ? dotVector(row, x, xOffset) : dotScalar(row, x, xOffset);
    }

    @Override
    float dotScalar(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return dotScalar(data, (long) row * cols * Short.BYTES, cols, x, xOffset);
    }

    @Override
    float dotVector(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return Vectorized.dot(data, (long) row * cols * Short.BYTES, cols, x, xOffset);
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = (long) row * cols * Short.BYTES;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = bf16ToFloat(data.get(SHORT_LE, base + (long) j * Short.BYTES));
        }
    }

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    static float dotScalar(MemorySegment w, long base, int n, float[] x, int xo) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += bf16ToFloat(w.get(SHORT_LE, base + (long) j * Short.BYTES)) * x[xo + j];
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

        static float dot(MemorySegment w, long base, int n, float[] x, int xo) {
            VectorSpecies<Float> f = VectorShapes.FLOAT;
            int lanes = f.length();
            FloatVector acc0 = FloatVector.zero(f);
            FloatVector acc1 = FloatVector.zero(f);
            int step = 2 * lanes;
            int j = 0;
            for (; j <= n - step; j += step) {
                long o = base + (long) j * Short.BYTES;
                acc0 = load(w, o).fma(FloatVector.fromArray(f, x, xo + j), acc0);
                acc1 = load(w, o + lanes * 2L).fma(FloatVector.fromArray(f, x, xo + j + lanes), acc1);
            }
            for (; j <= n - lanes; j += lanes) {
                acc0 = load(w, base + (long) j * Short.BYTES).fma(FloatVector.fromArray(f, x, xo + j), acc0);
            }
            float sum = VectorShapes.sumLanes(acc0.add(acc1));
            for (; j < n; j++) {
                sum += bf16ToFloat(w.get(SHORT_LE, base + (long) j * Short.BYTES)) * x[xo + j];
            }
            return sum;
        }

        /** One float vector of weights: widen the shorts to ints (sign extension is shifted out) and move them up. */
        private static FloatVector load(MemorySegment w, long offset) {
            ShortVector s = ShortVector.fromMemorySegment(VectorShapes.SHORT, w, offset, ByteOrder.LITTLE_ENDIAN);
            IntVector i = (IntVector) s.convertShape(VectorOperators.S2I, VectorShapes.INT, 0);
            return i.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
    }
}
