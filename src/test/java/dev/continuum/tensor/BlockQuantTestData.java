package dev.continuum.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Random block-format weights for tests outside this package (nothing in the project encodes these formats). */
public final class BlockQuantTestData {
    private BlockQuantTestData() {
    }

    /**
     * A {@code rows x cols} tensor of {@code type} (one of the block formats) of random blocks whose float16 scales
     * lie in {@code [scale, 11 * scale)}, in {@code arena}.
     */
    public static WeightTensor random(GgmlType type, int rows, int cols, long seed, float scale, Arena arena) {
        BlockFormat format = BlockFormat.of(type);
        if (format == null) {
            throw new IllegalArgumentException(type + " is not a block format");
        }
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        int n = rows * (cols / format.blockSize);
        byte[] bytes = new byte[n * format.blockBytes];
        random.nextBytes(bytes);
        MemorySegment m = arena.allocate(bytes.length, 64).copyFrom(MemorySegment.ofArray(bytes));
        for (int b = 0; b < n; b++) {
            short d = Float.floatToFloat16((float) (scale * (1 + 10 * random.nextDouble())));
            BlockQuantKernelTest.setScale(format, m, (long) b * format.blockBytes, d, random.nextBoolean());
        }
        return WeightTensor.of("random " + type, type, m, rows, cols);
    }
}
