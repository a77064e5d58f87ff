package dev.continuum.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The interleaved weight layout the vector kernels read, and the in-place repacking into it.
 *
 * <p>Rows are taken in sets of {@link #SET_ROWS} (four float vectors of outputs). For each tile of 32 columns a
 * set stores, instead of its rows' consecutive ggml blocks, the block scales side by side and then storage unit
 * {@code u} of every row side by side, for {@code u = 0 .. units-1}. Q8_0 with 16 lanes:
 * <pre>
 *   row-major:    [d r0][q0 q1 .. q31 r0] [d r1][q0 .. q31 r1] ...              64 x 34 bytes
 *   interleaved:  [d r0 .. d r63][q0 r0 .. q0 r63][q1 r0 .. q1 r63] ...         the same 2176 bytes
 * </pre>
 * so one load of {@code LANES} bytes gives column {@code j} of a vector of the set's rows, which the kernels widen
 * to floats and multiply by the broadcast activation {@code x[j]}: no horizontal sums, each weight read once per
 * step however many tokens use it, and one sequential stream per thread. A set keeps its byte range, so
 * repacking needs no extra memory and a model file keeps its size in memory. Rows after the last whole set stay
 * row-major. (Q4_0 packs its nibbles differently within the same frame, see {@link Q4_0Tensor}.)
 */
public final class Interleaving {
    /** Float lanes of the vector kernels (16 otherwise, although nothing then interleaves). */
    public static final int LANES = VectorSupport.ENABLED ? VectorSupport.LANES : 16;

    /** Float vectors of outputs a kernel call covers: enough independent accumulators to hide the FMA latency. */
    public static final int SET_VECTORS = 4;

    /** Rows a kernel call covers, stored together. */
    public static final int SET_ROWS = LANES * SET_VECTORS;

    private Interleaving() {
    }

    /** How many leading rows the vector kernels can take for {@code w}: whole sets, and only when rows are whole tiles. */
    static int rowsToInterleave(WeightTensor w) {
        if (!VectorSupport.ENABLED || w.cols() % WeightTensor.TILE != 0 || w.rowMajorOnly()) {
            return 0;
        }
        return w.rows() / SET_ROWS * SET_ROWS;
    }

    /** Rewrites rows {@code [0, rows)} of a row-major tensor into the interleaved layout, one group at a time. */
    static void repack(WeightTensor w, int rows) {
        if (w.interleavedRows() != 0) {
            throw new IllegalStateException("tensor is already interleaved");
        }
        MemorySegment data = w.data();
        long groupBytes = w.rowBytes() * SET_ROWS;
        byte[] rowMajor = new byte[Math.toIntExact(groupBytes)];
        MemorySegment buffer = MemorySegment.ofArray(rowMajor);
        for (int g = 0; g < rows / SET_ROWS; g++) {
            long base = g * groupBytes;
            MemorySegment.copy(data, base, buffer, 0, groupBytes);
            w.permuteGroup(buffer, data, base, true);
        }
    }

    /** Undoes the interleaving in {@code target}, a copy of {@code w}'s bytes, leaving ggml's row-major layout. */
    static void restoreRowMajor(WeightTensor w, MemorySegment target) {
        long groupBytes = w.rowBytes() * SET_ROWS;
        byte[] interleaved = new byte[Math.toIntExact(groupBytes)];
        MemorySegment buffer = MemorySegment.ofArray(interleaved);
        for (int g = 0; g < w.interleavedRows() / SET_ROWS; g++) {
            long base = g * groupBytes;
            MemorySegment.copy(target, base, buffer, 0, groupBytes);
            w.permuteGroup(buffer, target, base, false);
        }
    }

    /**
     * Moves one group between layouts, storage unit by storage unit: from {@code src} (the group's bytes, starting
     * at 0) into {@code dst} at {@code base}; {@code toInterleaved} says which way.
     */
    static void permute(WeightTensor w, MemorySegment src, MemorySegment dst, long base, boolean toInterleaved) {
        int scaleBytes = w.scaleBytes();
        int units = w.tileUnits();
        int unitBytes = w.unitBytes();
        int rowTile = w.rowTileBytes();
        long rowBytes = w.rowBytes();
        int group = SET_ROWS;
        int groupTile = rowTile * group;
        for (int t = 0; t < w.tilesPerRow(); t++) {
            for (int r = 0; r < group; r++) {
                long rowMajorTile = r * rowBytes + (long) t * rowTile;
                long interleavedTile = (long) t * groupTile;
                long a = rowMajorTile;
                long b = interleavedTile + (long) r * scaleBytes;
                copy(src, dst, base, toInterleaved ? a : b, toInterleaved ? b : a, scaleBytes);
                for (int u = 0; u < units; u++) {
                    a = rowMajorTile + scaleBytes + (long) u * unitBytes;
                    b = interleavedTile + (long) group * scaleBytes + ((long) u * group + r) * unitBytes;
                    copy(src, dst, base, toInterleaved ? a : b, toInterleaved ? b : a, unitBytes);
                }
            }
        }
    }

    private static void copy(MemorySegment src, MemorySegment dst, long base, long from, long to, int bytes) {
        for (int i = 0; i < bytes; i++) {
            dst.set(ValueLayout.JAVA_BYTE, base + to + i, src.get(ValueLayout.JAVA_BYTE, from + i));
        }
    }
}
