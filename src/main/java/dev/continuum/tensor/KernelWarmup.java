package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.EnumSet;
import java.util.SplittableRandom;

/**
 * Gets the matmul kernels JIT-compiled before real work arrives. Until C2 compiles them, vector kernels run
 * interpreted, slower by orders of magnitude (PERFORMANCE.md, "Kernel design choices measured"), and warming up
 * on the model itself would take that long. The kernels' code does not depend on matrix shapes, so they are
 * exercised instead on small synthetic matrices of each weight type the model uses, through every path (one token,
 * two-, four- and eight-token tiles, single-token tiles, row-major rows) and on every pool thread, for a fixed time.
 */
public final class KernelWarmup {
    private static final int COLS = 2 * WeightTensor.TILE;
    /** Columns of the block formats' warm-up matrices: one superblock (their kernels loop per block). */
    private static final int BLOCK_COLS = 256;
    /** Calls per weight type and token count: past C2's compile thresholds for the kernels they reach. */
    private static final int ROUNDS = 12_000;
    /**
     * Token counts reaching every kernel and their combinations: single, pair and six-token fused kernels (and a
     * pair or six plus an odd token), one-, two- and four-token tiles, eight-token 16-bit tiles, and the tiled
     * path of formats whose fused kernels serve only decode batches ({@link FormatKernels#DECODE_BATCHES}).
     */
    private static final int[] TOKEN_COUNTS = {1, 2, 3, 4, 5, 6, 8, FormatKernels.DECODE_BATCHES};

    private KernelWarmup() {
    }

    /**
     * Runs the kernels of {@code types} on {@code pool}, {@value #ROUNDS} times each way or until {@code nanos}
     * have passed; returns the calls made.
     */
    public static long run(Collection<GgmlType> types, ComputePool pool, long nanos) {
        EnumSet<GgmlType> distinct = EnumSet.copyOf(types);
        MatMul matmul = new MatMul(pool);
        long calls = 0;
        try (Arena arena = Arena.ofShared()) {
            SplittableRandom random = new SplittableRandom(7);
            int rows = 2 * Interleaving.SET_ROWS + 3;
            float[] x = new float[FormatKernels.DECODE_BATCHES * BLOCK_COLS];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] out = new float[FormatKernels.DECODE_BATCHES * rows];
            long end = System.nanoTime() + nanos;
            WeightTensor[] tensors = distinct.stream().map(t -> synthetic(t, rows, arena, random))
                    .toArray(WeightTensor[]::new);
            for (int round = 0; round < ROUNDS && System.nanoTime() < end; round++) {
                for (WeightTensor w : tensors) {
                    for (int tokens : TOKEN_COUNTS) {
                        matmul.multiply(w, x, tokens, out);
                        calls++;
                    }
                }
            }
        }
        return calls;
    }

    private static WeightTensor synthetic(GgmlType type, int rows, Arena arena, SplittableRandom random) {
        BlockFormat block = BlockFormat.of(type);
        if (block != null) {
            // Nothing here encodes these formats, and the kernels' speed does not depend on the values: random
            // bytes (a NaN scale among them costs nothing) warm them as well as real weights would.
            MemorySegment data = arena.allocate(type.bytesFor((long) rows * BLOCK_COLS), 64);
            byte[] bytes = new byte[(int) data.byteSize()];
            random.nextBytes(bytes);
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, data, 0, bytes.length);
            return WeightTensor.of("warmup", type, data, rows, BLOCK_COLS);
        }
        long rowBytes = type.bytesFor(COLS);
        MemorySegment data = arena.allocate(rowBytes * rows, 64);
        float[] row = new float[COLS];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < COLS; j++) {
                row[j] = (float) (random.nextGaussian() * 0.02);
            }
            WeightEncoder.encode(type, row, 0, COLS, data, r * rowBytes);
        }
        return WeightTensor.of("warmup", type, data, rows, COLS).interleaved();
    }
}
