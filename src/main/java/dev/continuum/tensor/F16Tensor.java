package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F16 weights: each element is a little-endian IEEE 754 half-precision float. */
public final class F16Tensor extends WeightTensor {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    // Constants of the vector half-to-float conversion, in float32 bit positions (see toFloats).
    private static final int HALF_EXP_MASK = 0x7c00 << 13;
    private static final int REBIAS = (127 - 15) << 23;
    private static final int SUBNORMAL_MAGIC = (127 - 15 + 1) << 23; // the float 2^-14

    F16Tensor(MemorySegment data, int rows, int cols) {
        super(data, rows, cols);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
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
            out[outOffset + j] = Float.float16ToFloat(data.get(SHORT_LE, base + (long) j * Short.BYTES));
        }
    }

    static float dotScalar(MemorySegment w, long base, int n, float[] x, int xo) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            sum += Float.float16ToFloat(w.get(SHORT_LE, base + (long) j * Short.BYTES)) * x[xo + j];
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
                sum += Float.float16ToFloat(w.get(SHORT_LE, base + (long) j * Short.BYTES)) * x[xo + j];
            }
            return sum;
        }

        private static FloatVector load(MemorySegment w, long offset) {
            ShortVector s = ShortVector.fromMemorySegment(VectorShapes.SHORT, w, offset, ByteOrder.LITTLE_ENDIAN);
            return toFloats((IntVector) s.convertShape(VectorOperators.S2I, VectorShapes.INT, 0));
        }

        /**
         * Exact half-to-float conversion of sign-extended halves, lane by lane. The JDK has no vector HF2F
         * conversion yet, so this moves the bits by hand and never does arithmetic on a subnormal float:
         * <pre>
         *   half:   [s eeeee mmmmmmmmmm]                      sign-extended to 32 bits by S2I
         *   float:  [s EEEEEEEE mmmmmmmmmm0000000000000]      (h &amp; 0x7fff) &lt;&lt; 13, then E = e + 112
         * </pre>
         * e == 31 (inf/NaN) needs E = 255, so it gets a second +112. e == 0 (zero/subnormal, value m * 2^-24)
         * is built as the normal float 2^-14 * (1 + m/1024) and then 2^-14 is subtracted, which is exact.
         */
        static FloatVector toFloats(IntVector h) {
            IntVector bits = h.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
            IntVector exp = bits.and(HALF_EXP_MASK);
            bits = bits.add(REBIAS);
            bits = bits.lanewise(VectorOperators.ADD, REBIAS, exp.compare(VectorOperators.EQ, HALF_EXP_MASK));
            VectorMask<Integer> subnormal = exp.compare(VectorOperators.EQ, 0);
            bits = bits.lanewise(VectorOperators.ADD, 1 << 23, subnormal);
            FloatVector magnitude = bits.reinterpretAsFloats().lanewise(VectorOperators.SUB,
                    Float.intBitsToFloat(SUBNORMAL_MAGIC), subnormal.cast(VectorShapes.FLOAT));
            // Sign extension already put the half's sign in bit 31.
            IntVector sign = h.and(0x80000000);
            return magnitude.reinterpretAsInts().or(sign).reinterpretAsFloats();
        }
    }
}
