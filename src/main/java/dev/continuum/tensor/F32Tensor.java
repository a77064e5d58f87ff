package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: each element is a little-endian IEEE float32, rows packed back to back. */
public final class F32Tensor extends WeightTensor {
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    F32Tensor(String name, MemorySegment data, int rows, int cols, int interleavedRows) {
        super(name, data, rows, cols, interleavedRows);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
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
        return Float.BYTES;
    }

    @Override
    float weight(int row, int col) {
        return data.get(FLOAT_LE, unitOffset(row, col / TILE, col % TILE));
    }

    @Override
    float scale(int row, int tile) {
        return 1f;
    }

    @Override
    float dotRowMajor(int row, float[] x, int xo) {
        long base = (long) row * cols * Float.BYTES;
        float total = 0f;
        for (int t = 0; t < cols; t += TILE) {
            float p = 0f;
            int end = Math.min(cols, t + TILE);
            for (int j = t; j < end; j++) {
                p = Math.fma(data.get(FLOAT_LE, base + (long) j * Float.BYTES), x[xo + j], p);
            }
            total += p;
        }
        return total;
    }

    @Override
    void decodeSetTile(int set, int tile, float[] w, float[] s) {
        MemorySegment.copy(data, FLOAT_LE, tileOffset(set, tile), w, 0, TILE * Interleaving.SET_ROWS);
    }

    /** Only the tiled path: no fused kernels were written for F32, whose tiles are plain copies of the weights. */
    @Override
    FormatKernels kernels() {
        return FormatKernels.FLOAT_TILES;
    }
}
