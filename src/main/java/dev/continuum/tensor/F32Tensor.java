package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** F32 weights: each element is a little-endian IEEE float32, rows packed back to back. */
public final class F32Tensor extends WeightTensor {
    private static final ValueLayout.OfFloat FLOAT_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final FormatKernels kernels = FormatKernels.floatTiles(this::multiplyRow);

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

    /**
     * The tiled path for whole sets (no fused kernels: F32's tiles are plain copies of the weights), and
     * {@link #multiplyRow} for the rows outside them.
     */
    @Override
    FormatKernels kernels() {
        return kernels;
    }

    /**
     * The rows outside the interleaved sets: all of a matrix narrower than a set or whose width is not whole tiles
     * (a 64-wide model's key, value and down projections), and the rows after the last set. {@link #dotRowMajor}'s
     * sum is one FMA chain per tile, each FMA waiting for the one before; here several chains run side by side so
     * that the core overlaps them: four tokens of the row at a time (each weight read once for the four), and for
     * a lone token up to four of its tiles at a time. Each chain is the reference's, and the tiles' sums are added
     * in the same order, so every output has {@link #dot}'s bits.
     */
    private void multiplyRow(int row, float[] x, QuantizedActivations qa, int tokens, float[] out, int outOffset,
                             int outStride, RowScratch scratch) {
        long base = (long) row * cols * Float.BYTES;
        int t = 0;
        for (; t + 4 <= tokens; t += 4) {
            fourTokens(base, x, t * cols, out, outOffset + t * outStride, outStride);
        }
        for (; t < tokens; t++) {
            out[outOffset + t * outStride] = oneToken(base, x, t * cols);
        }
    }

    private float w(long offset) {
        return data.get(FLOAT_LE, offset);
    }

    private void fourTokens(long base, float[] x, int xo, float[] out, int oo, int os) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        for (int t = 0; t < cols; t += TILE) {
            float p0 = 0f;
            float p1 = 0f;
            float p2 = 0f;
            float p3 = 0f;
            int end = Math.min(cols, t + TILE);
            for (int j = t; j < end; j++) {
                float wj = w(base + (long) j * Float.BYTES);
                p0 = Math.fma(wj, x[xo + j], p0);
                p1 = Math.fma(wj, x[xo + cols + j], p1);
                p2 = Math.fma(wj, x[xo + 2 * cols + j], p2);
                p3 = Math.fma(wj, x[xo + 3 * cols + j], p3);
            }
            s0 += p0;
            s1 += p1;
            s2 += p2;
            s3 += p3;
        }
        out[oo] = s0;
        out[oo + os] = s1;
        out[oo + 2 * os] = s2;
        out[oo + 3 * os] = s3;
    }

    private float oneToken(long base, float[] x, int xo) {
        float total = 0f;
        int full = cols / TILE;
        int t = 0;
        for (; t + 4 <= full; t += 4) {
            long w0 = base + (long) t * TILE * Float.BYTES;
            int x0 = xo + t * TILE;
            float p0 = 0f;
            float p1 = 0f;
            float p2 = 0f;
            float p3 = 0f;
            for (int j = 0; j < TILE; j++) {
                p0 = Math.fma(w(w0 + (long) j * Float.BYTES), x[x0 + j], p0);
                p1 = Math.fma(w(w0 + (long) (TILE + j) * Float.BYTES), x[x0 + TILE + j], p1);
                p2 = Math.fma(w(w0 + (long) (2 * TILE + j) * Float.BYTES), x[x0 + 2 * TILE + j], p2);
                p3 = Math.fma(w(w0 + (long) (3 * TILE + j) * Float.BYTES), x[x0 + 3 * TILE + j], p3);
            }
            total = total + p0 + p1 + p2 + p3; // left to right: the reference's order of tiles
        }
        for (; t + 2 <= full; t += 2) {
            long w0 = base + (long) t * TILE * Float.BYTES;
            int x0 = xo + t * TILE;
            float p0 = 0f;
            float p1 = 0f;
            for (int j = 0; j < TILE; j++) {
                p0 = Math.fma(w(w0 + (long) j * Float.BYTES), x[x0 + j], p0);
                p1 = Math.fma(w(w0 + (long) (TILE + j) * Float.BYTES), x[x0 + TILE + j], p1);
            }
            total = total + p0 + p1;
        }
        for (; t * TILE < cols; t++) {
            float p = 0f;
            int end = Math.min(cols, (t + 1) * TILE);
            for (int j = t * TILE; j < end; j++) {
                p = Math.fma(w(base + (long) j * Float.BYTES), x[xo + j], p);
            }
            total += p;
        }
        return total;
    }
}
