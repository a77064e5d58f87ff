package dev.continuum.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F16 weights: each element is a little-endian IEEE 754 half-precision float. */
public final class F16Tensor extends WeightTensor {
    private static final ValueLayout.OfShort SHORT_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final FormatKernels kernels;

    F16Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
        if (interleavedRows > 0 && NativeCpuKernels.enabled()) {
            // The native kernel reads this layout as it is and widens every half exactly (vcvtph2ps).
            this.kernels = new FormatKernels(FormatKernels.Activations.FLOAT, null, null, null, 0, null,
                    this::multiplyNative);
            return;
        }
        // The fused kernels' conversion requires every interleaved weight to be finite.
        boolean finite = interleavedRows > 0 && allFinite(data, (long) interleavedRows * cols * Short.BYTES);
        this.kernels = finite ? new FormatKernels(
                FormatKernels.Activations.FLOAT,
                this::multiplySingle,
                this::multiplyPair,
                // No six-token kernel: one measured slower than pairs (PERFORMANCE.md, "Kernel design choices
                // measured").
                null,
                FormatKernels.DECODE_BATCHES,
                null) : FormatKernels.FLOAT_TILES;
    }

    @Override
    FormatKernels kernels() {
        return kernels;
    }

    private void multiplyNative(int set, int tokens, NativeActivations na, MemorySegment scratch, float[] out,
                                int outOffset, int outStride) {
        NativeCpuKernels.f16(data.address() + tileOffset(set, 0), cols / TILE, tokens, na, scratch, out, outOffset,
                outStride);
    }

    /**
     * Whether none of the first {@code bytes / 2} halves is infinite or NaN (exponent all ones), four halves per
     * 64-bit word: a lane of {@code (h & E) ^ E} is zero exactly when its exponent is all ones, and adding
     * {@code E} to a nonzero lane carries into its top bit, never into the next lane.
     */
    private static boolean allFinite(MemorySegment data, long bytes) {
        long exponents = 0x7c007c007c007c00L;
        long tops = 0x8000800080008000L;
        long i = 0;
        for (; i + Long.BYTES <= bytes; i += Long.BYTES) {
            long t = (data.get(LONG_LE, i) & exponents) ^ exponents;
            if (((t + exponents) & tops) != tops) {
                return false;
            }
        }
        for (; i < bytes; i += Short.BYTES) {
            if ((data.get(SHORT_LE, i) & 0x7c00) == 0x7c00) {
                return false;
            }
        }
        return true;
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
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        long base = tileOffset(set, tile);
        // A plain loop: C2 vectorizes it into hardware half-to-float conversions, which the Vector API lacks.
        for (int i = 0; i < TILE * Interleaving.SET_ROWS; i++) {
            w[i] = Float.float16ToFloat(data.get(SHORT_LE, base + 2L * i));
        }
    }

    private void multiplySingle(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                                float[] scratch) {
        SixteenBitFloatKernel.single(data, tileOffset(set, 0), cols / TILE, SixteenBitFloatKernel.F16, x,
                token * cols, out, outOffset);
    }

    private void multiplyPair(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                              int outStride, float[] scratch) {
        SixteenBitFloatKernel.pair(data, tileOffset(set, 0), cols / TILE, SixteenBitFloatKernel.F16, x,
                token * cols, cols, out, outOffset, outStride);
    }

    /**
     * Vector API helpers, kept in a nested class because verifying code that uses vector types loads
     * {@code jdk.incubator.vector}: this way the outer class still links on a JVM started without that module.
     */
    static final class Vectorized {
        static final int REBIAS = (127 - 15) << 23;

        private Vectorized() {
        }

        /**
         * Converts the float16 block scales of {@code groups} groups, {@code lanes} at {@code offset + g * stride}
         * for group {@code g}, exactly into {@code out[oo + g * lanes ..]}, for scales that are zero or normal (see
         * {@link WeightTensor#hasOnlyNormalScales}). A normal half only needs its exponent rebiased, in integer
         * arithmetic, so no float arithmetic ever sees a subnormal (which costs a microcode assist per operation on
         * some CPUs):
         * <pre>
         *   half, sign-extended:    [sss...s eeeee mmmmmmmmmm]
         *   &lt;&lt; 13 &amp; 0x0fffffff:    [0 000 eeeee mmmmmmmmmm 0000000000000]   + (127 - 15) &lt;&lt; 23 unless zero, | sign
         * </pre>
         * Neither takes nor returns a vector, so nothing is boxed whether or not the JIT inlines it.
         */
        static void scales(MemorySegment w, long offset, long stride, int groups, float[] out, int oo) {
            int lanes = VectorShapes.LANES;
            for (int g = 0; g < groups; g++) {
                ShortVector s = ShortVector.fromMemorySegment(VectorShapes.SHORT, w, offset + g * stride,
                        ByteOrder.LITTLE_ENDIAN);
                IntVector h = (IntVector) s.convertShape(VectorOperators.S2I, VectorShapes.INT, 0);
                IntVector magnitude = h.lanewise(VectorOperators.LSHL, 13).and(0x0fffffff);
                IntVector rebiased = magnitude.lanewise(VectorOperators.ADD, REBIAS,
                        magnitude.compare(VectorOperators.NE, 0));
                rebiased.or(h.and(0x80000000)).reinterpretAsFloats().intoArray(out, oo + g * lanes);
            }
        }
    }
}
