package dev.continuum.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The block formats' kernels against their scalar reference, {@link BlockQuantTensor#dot}, bit for bit: whatever
 * kernel this JVM runs (the vector one at the width in effect, or the scalar one with the vector API off; the
 * {@code vector-128} and {@code java-kernels} executions rerun this class), for 1 to 13 tokens, rows of 256 to
 * 4096 columns, random blocks, all-zero blocks and extreme scales; the scalar row kernel as well in every JVM. And
 * the quantized-activation product against a float product of the dequantized weights.
 */
class BlockQuantKernelTest {
    private static final int[] COLS = {256, 768, 4096};
    /** float16 scales worth testing: largest and smallest normal, subnormals, zeros, negatives, ordinary. */
    private static final short[] EXTREME_F16 = {0x7bff, 0x0400, 0x03ff, 0x0001, 0x0000, (short) 0x8000,
            (short) 0xbc00, (short) 0xfbff, 0x2e66, 0x1400};
    private static ComputePool single;
    private static ComputePool multi;

    @BeforeAll
    static void pools() {
        single = new ComputePool(1);
        multi = new ComputePool(3);
    }

    @AfterAll
    static void close() {
        single.close();
        multi.close();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (BlockFormat f : BlockFormat.values()) {
            for (int cols : COLS) {
                cases.add(Arguments.of(f, cols));
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void matmulEqualsTheScalarReferenceForOneToThirteenTokens(BlockFormat format, int cols) {
        int rows = 7;
        MemorySegment m = blocks(format, rows, cols, 1000L * format.ordinal() + cols);
        WeightTensor w = WeightTensor.of("w", format.type, m, rows, cols).interleaved();
        float[] x = activations(13, cols, cols);
        for (int tokens = 1; tokens <= 13; tokens++) {
            float[] expected = reference(w, x, tokens);
            for (ComputePool pool : new ComputePool[] {single, multi}) {
                float[] out = new float[tokens * rows];
                MatMul.matmul(w, x, tokens, out, pool);
                assertBits(expected, out, format + " " + tokens + " tokens, " + pool.threads() + " threads");
            }
            assertBits(expected, scalarKernel(w, x, tokens), format + " scalar kernel, " + tokens + " tokens");
        }
    }

    /** Every extreme scale in every block position, with zero blocks among them. */
    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void extremeScalesAndZeroBlocksMatchTheReference(BlockFormat format) {
        int cols = 1024;
        int rows = EXTREME_F16.length * 2;
        MemorySegment m = blocks(format, rows, cols, 77 + format.ordinal());
        int blocksPerRow = cols / format.blockSize;
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                long at = ((long) r * blocksPerRow + b) * format.blockBytes;
                short d = EXTREME_F16[(r + b) % EXTREME_F16.length];
                setScale(format, m, at, d, r % 2 == 1);
                if ((r + b) % 5 == 0) {
                    m.asSlice(at, format.blockBytes).fill((byte) 0);
                }
            }
        }
        WeightTensor w = WeightTensor.of("w", format.type, m, rows, cols);
        float[] x = activations(5, cols, 11);
        x[3] = 1e30f;  // one tile's scale near the float range
        x[cols + 40] = 1e-40f; // a subnormal activation
        for (int tokens = 1; tokens <= 5; tokens++) {
            float[] expected = reference(w, x, tokens);
            float[] out = new float[tokens * rows];
            MatMul.matmul(w, x, tokens, out, multi);
            assertBits(expected, out, format + " " + tokens + " tokens");
            assertBits(expected, scalarKernel(w, x, tokens), format + " scalar kernel");
        }
    }

    /**
     * The quantized-activation product against a float product of the dequantized row: they differ only by the
     * activations' 8-bit rounding, at most half a step ({@code dx / 2}) per element, so by at most
     * {@code sum_tiles dx_t / 2 * sum_j |w_j|} plus float rounding. Random activations sit far inside that bound
     * (errors cancel); a wrong level, scale or min moves a row by a whole weight times an activation.
     */
    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void logitsMatchAFloatProductOfTheDequantizedWeightsWithinTheActivationRounding(BlockFormat format) {
        int cols = 2048;
        int rows = 32;
        MemorySegment m = blocks(format, rows, cols, 4242 + format.ordinal());
        WeightTensor w = WeightTensor.of("w", format.type, m, rows, cols);
        float[] x = activations(1, cols, 3);
        float[] out = new float[rows];
        MatMul.matmul(w, x, 1, out, multi);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            double exact = 0;
            double bound = 0;
            for (int t = 0; t < cols / 32; t++) {
                float amax = 0;
                double weights = 0;
                for (int j = 32 * t; j < 32 * t + 32; j++) {
                    amax = Math.max(amax, Math.abs(x[j]));
                    exact += (double) row[j] * x[j];
                    weights += Math.abs(row[j]);
                }
                bound += amax / 127.0 / 2 * weights;
            }
            double magnitude = 0;
            for (int j = 0; j < cols; j++) {
                magnitude += Math.abs((double) row[j] * x[j]);
            }
            double error = Math.abs(out[r] - exact);
            assertTrue(error <= bound + 1e-5 * magnitude, format + " row " + r + ": " + out[r] + " vs " + exact
                    + ", error " + error + " above " + bound);
            // And not trivially: the bound is a small part of the row's products.
            assertTrue(bound < 0.2 * magnitude, format + " bound " + bound + " vs magnitude " + magnitude);
        }
    }

    /** Random ggml blocks of {@code format} whose float16 scales are ordinary (so products stay finite). */
    static MemorySegment blocks(BlockFormat format, int rows, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int n = rows * cols / format.blockSize;
        byte[] bytes = new byte[n * format.blockBytes];
        random.nextBytes(bytes);
        MemorySegment m = MemorySegment.ofArray(bytes);
        for (int b = 0; b < n; b++) {
            short d = Float.floatToFloat16((float) (0.001 + random.nextDouble() * 0.01));
            setScale(format, m, (long) b * format.blockBytes, d, random.nextBoolean());
        }
        return m;
    }

    /**
     * Writes {@code d} as the block's float16 scale (Q8_K: as its float32 {@code d}) and, where the format has a
     * second one (a min or {@code dmin}), {@code d} or its negation too.
     */
    static void setScale(BlockFormat format, MemorySegment m, long block, short d, boolean negateMin) {
        short min = negateMin ? (short) (d ^ 0x8000) : d;
        switch (format) {
            case Q4_1, Q5_1, Q4_K, Q5_K -> {
                m.set(Q8_0Tensor.SHORT_LE, block, d);
                m.set(Q8_0Tensor.SHORT_LE, block + 2, min);
            }
            case Q5_0, IQ4_NL -> m.set(Q8_0Tensor.SHORT_LE, block, d);
            case Q2_K -> {
                m.set(Q8_0Tensor.SHORT_LE, block + 80, d);
                m.set(Q8_0Tensor.SHORT_LE, block + 82, min);
            }
            case Q3_K -> m.set(Q8_0Tensor.SHORT_LE, block + 108, d);
            case Q6_K -> m.set(Q8_0Tensor.SHORT_LE, block + 208, d);
            case Q8_K -> m.set(BlockFormat.FLOAT_LE, block, Float.float16ToFloat(d));
        }
    }

    static float[] activations(int tokens, int cols, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static float[] reference(WeightTensor w, float[] x, int tokens) {
        float[] expected = new float[tokens * w.rows()];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < w.rows(); r++) {
                expected[t * w.rows() + r] = w.dot(r, x, t * w.cols());
            }
        }
        return expected;
    }

    /** The scalar row kernel, which JVMs without the vector kernels run, on the same activations. */
    private static float[] scalarKernel(WeightTensor w, float[] x, int tokens) {
        BlockQuantTensor b = (BlockQuantTensor) w;
        QuantizedActivations qa = new QuantizedActivations();
        qa.quantize(x, tokens, w.cols());
        float[] out = new float[tokens * w.rows()];
        RowScratch scratch = new RowScratch();
        for (int r = 0; r < w.rows(); r++) {
            BlockRowKernel.multiply(b.format(), w.data(), b.blockOffset(r, 0), w.cols() / b.format().blockSize, qa,
                    0, tokens, out, r, w.rows(), scratch);
            if (tokens == 1) {
                assertEquals(Float.floatToIntBits(out[r]), Float.floatToIntBits(b.dotRow(r, x, 0, qa, 0)));
            }
        }
        return out;
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": output " + i + " expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
