package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

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

    F16Tensor(MemorySegment data, int rows, int cols, int interleavedRows) {
        super(data, rows, cols, interleavedRows);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    int scaleBytes() {
        return 0;
    }

    @Override
    int tileUnits() {
        return TILE;
    }

    @Override
    int unitBytes() {
        return Short.BYTES;
    }

    @Override
    float weight(int row, int col) {
        return Float.float16ToFloat(data.get(SHORT_LE, unitOffset(row, col / TILE, col % TILE)));
    }

    @Override
    float scale(int row, int tile) {
        return 1f;
    }

    @Override
    float dotRowMajor(int row, float[] x, int xo) {
        long base = (long) row * cols * Short.BYTES;
        float total = 0f;
        for (int t = 0; t < cols; t += TILE) {
            float p = 0f;
            int end = Math.min(cols, t + TILE);
            for (int j = t; j < end; j++) {
                p = Math.fma(Float.float16ToFloat(data.get(SHORT_LE, base + (long) j * Short.BYTES)), x[xo + j], p);
            }
            total += p;
        }
        return total;
    }

    @Override
    void decodeTile(int group, int tile, float[] w, int wo, float[] s, int so) {
        long base = tileOffset(group, tile);
        // A plain loop: C2 vectorizes it into hardware half-to-float conversions, which the Vector API lacks.
        for (int i = 0; i < TILE * Interleaving.GROUP; i++) {
            w[wo + i] = Float.float16ToFloat(data.get(SHORT_LE, base + 2L * i));
        }
    }

    /**
     * Vector API helpers, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links on a JVM started without that module.
     */
    static final class Vectorized {
        private Vectorized() {
        }

        /** {@code lanes} float16 values at {@code offset}, converted exactly. */
        static FloatVector load(MemorySegment w, long offset) {
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
