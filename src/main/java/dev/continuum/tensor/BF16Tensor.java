package dev.continuum.tensor;

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

    private final FormatKernels kernels;

    BF16Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
        this.kernels = interleavedRows > 0 ? new FormatKernels(
                FormatKernels.Activations.FLOAT,
                this::multiplySingle,
                this::multiplyPair,
                null, // no six-token kernel, as F16
                FormatKernels.DECODE_BATCHES,
                null) : FormatKernels.FLOAT_TILES;
    }

    @Override
    FormatKernels kernels() {
        return kernels;
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
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

    static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    @Override
    float weight(int row, int col) {
        return bf16ToFloat(data.get(SHORT_LE, unitOffset(row, col / TILE, col % TILE)));
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
                p = Math.fma(bf16ToFloat(data.get(SHORT_LE, base + (long) j * Short.BYTES)), x[xo + j], p);
            }
            total += p;
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        long base = tileOffset(set, tile);
        for (int i = 0; i < TILE * Interleaving.SET_ROWS; i++) {
            w[i] = Float.intBitsToFloat(data.get(SHORT_LE, base + 2L * i) << 16);
        }
    }

    private void multiplySingle(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                                float[] scratch) {
        SixteenBitFloatKernel.single(data, tileOffset(set, 0), cols / TILE, SixteenBitFloatKernel.BF16, x,
                token * cols, out, outOffset);
    }

    private void multiplyPair(int set, float[] x, QuantizedActivations qa, int token, float[] out, int outOffset,
                              int outStride, float[] scratch) {
        SixteenBitFloatKernel.pair(data, tileOffset(set, 0), cols / TILE, SixteenBitFloatKernel.BF16, x,
                token * cols, cols, out, outOffset, outStride);
    }
}
