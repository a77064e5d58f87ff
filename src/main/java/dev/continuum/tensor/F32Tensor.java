package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: each element is a little-endian IEEE float32, rows packed back to back. */
public final class F32Tensor extends WeightTensor {
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float dot(int row, float[] x, int xOffset) {
        return VectorSupport.ENABLED ? dotVector(row, x, xOffset) : dotScalar(row, x, xOffset);
    }

    @Override
    float dotScalar(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return dotScalar(data, (long) row * cols * Float.BYTES, cols, x, xOffset);
    }

    @Override
    float dotVector(int row, float[] x, int xOffset) {
        checkDotArguments(row, x, xOffset);
        return Vectorized.dot(data, (long) row * cols * Float.BYTES, cols, x, xOffset);
    }

    @Override
    public void dequantizeRow(int row, float[] out, int outOffset) {
        long base = (long) row * cols * Float.BYTES;
        for (int j = 0; j < cols; j++) {
            out[outOffset + j] = data.get(FLOAT_LE, base + (long) j * Float.BYTES);
        }
    }

    static float dotScalar(MemorySegment w, long base, int n, float[] x, int xo) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += w.get(FLOAT_LE, base + (long) j * Float.BYTES) * x[xo + j];
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
            // Four independent accumulators hide the FMA latency; which one an element lands in depends only on j.
            FloatVector acc0 = FloatVector.zero(f);
            FloatVector acc1 = FloatVector.zero(f);
            FloatVector acc2 = FloatVector.zero(f);
            FloatVector acc3 = FloatVector.zero(f);
            int step = 4 * lanes;
            int j = 0;
            for (; j <= n - step; j += step) {
                long o = base + (long) j * Float.BYTES;
                acc0 = load(w, o, f).fma(FloatVector.fromArray(f, x, xo + j), acc0);
                acc1 = load(w, o + lanes * 4L, f).fma(FloatVector.fromArray(f, x, xo + j + lanes), acc1);
                acc2 = load(w, o + lanes * 8L, f).fma(FloatVector.fromArray(f, x, xo + j + 2 * lanes), acc2);
                acc3 = load(w, o + lanes * 12L, f).fma(FloatVector.fromArray(f, x, xo + j + 3 * lanes), acc3);
            }
            for (; j <= n - lanes; j += lanes) {
                acc0 = load(w, base + (long) j * Float.BYTES, f).fma(FloatVector.fromArray(f, x, xo + j), acc0);
            }
            float sum = VectorShapes.sumLanes(acc0.add(acc1).add(acc2.add(acc3)));
            for (; j < n; j++) {
                sum += w.get(FLOAT_LE, base + (long) j * Float.BYTES) * x[xo + j];
            }
            return sum;
        }

        private static FloatVector load(MemorySegment w, long offset, VectorSpecies<Float> f) {
            return FloatVector.fromMemorySegment(f, w, offset, ByteOrder.LITTLE_ENDIAN);
        }
    }
}
