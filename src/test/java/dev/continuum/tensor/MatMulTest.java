package dev.continuum.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Every MatMul path (fused single-token kernel, four-token tiles, single-token tiles, row-major leftover rows)
 * gives exactly the bits of the tensor's scalar reference dot product, whatever the batch size and thread split.
 */
class MatMulTest {
    private static final int ROWS = 2 * Interleaving.SET_ROWS + 19;

    private static ComputePool single;
    private static ComputePool multi;

    @BeforeAll
    static void startPools() {
        single = new ComputePool(1);
        multi = new ComputePool(3);
    }

    @AfterAll
    static void stopPools() {
        single.close();
        multi.close();
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
                GgmlType.Q4_0}) {
            for (int cols : new int[] {32, 288, 2048}) {
                cases.add(Arguments.of(type, cols));
            }
            if (type.blockSize == 1) {
                cases.add(Arguments.of(type, 100));
            }
        }
        return cases.build();
    }

    @org.junit.jupiter.api.Test
    void matricesMultipliedTogetherMatchTheirReferenceDotsBitForBit() {
        int cols = 288;
        WeightTensorKernelTest.Fixture a = new WeightTensorKernelTest.Fixture(GgmlType.Q4_0, ROWS, cols, 1);
        WeightTensorKernelTest.Fixture b = new WeightTensorKernelTest.Fixture(GgmlType.Q8_0, Interleaving.SET_ROWS, cols, 2);
        WeightTensorKernelTest.Fixture c = new WeightTensorKernelTest.Fixture(GgmlType.F16, 7, cols, 3);
        Random random = new Random(11);
        for (int tokens : new int[] {1, 5}) {
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            for (ComputePool pool : new ComputePool[] {single, multi}) {
                float[][] outs = new float[3][];
                WeightTensorKernelTest.Fixture[] fs = {a, b, c};
                for (int m = 0; m < 3; m++) {
                    outs[m] = new float[tokens * fs[m].interleaved.rows()];
                }
                new MatMul(pool).multiply(x, tokens, a.interleaved, outs[0], b.interleaved, outs[1], c.interleaved,
                        outs[2]);
                for (int m = 0; m < 3; m++) {
                    int rows = fs[m].tensor.rows();
                    float[] expected = new float[tokens * rows];
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            expected[t * rows + r] = fs[m].tensor.dot(r, x, t * cols);
                        }
                    }
                    assertArrayEquals(WeightTensorKernelTest.bits(expected), WeightTensorKernelTest.bits(outs[m]),
                            "matrix " + m + ", " + tokens + " tokens, " + pool.threads() + " threads");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void everyTokenOfEveryBatchMatchesTheReferenceDotBitForBit(GgmlType type, int cols) {
        WeightTensorKernelTest.Fixture f = new WeightTensorKernelTest.Fixture(type, ROWS, cols, 42 + type.id + cols);
        Random random = new Random(7);
        for (int tokens : new int[] {1, 2, 3, 4, 5, 6, 9, 15, 16, 19, 33}) {
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] expected = new float[tokens * ROWS];
            for (int t = 0; t < tokens; t++) {
                for (int r = 0; r < ROWS; r++) {
                    expected[t * ROWS + r] = f.tensor.dot(r, x, t * cols);
                }
            }
            for (ComputePool pool : new ComputePool[] {single, multi}) {
                float[] out = new float[tokens * ROWS];
                MatMul.matmul(f.interleaved, x, tokens, out, pool);
                assertArrayEquals(WeightTensorKernelTest.bits(expected), WeightTensorKernelTest.bits(out),
                        type + " x " + cols + ", " + tokens + " tokens, " + pool.threads() + " threads");
            }
        }
    }

    /**
     * Q8_0's integer kernels (single token, the token groups and their remainders: every batch from 1 to 20
     * tokens) against its scalar reference, bit for bit, on blocks chosen to hit the edges of the integer sums:
     * the largest and smallest normal float16 scales (both signs) and zero, all-zero blocks, whole blocks of -128
     * (which a file may hold, though llama.cpp's quantizer never writes it) and of 127, alternating -128/127;
     * activations with one huge element per tile (every other element then rounds to 0), all-zero tiles, and
     * ordinary ones. Rows after the last whole set take the row-major path. Each token's outputs are also the
     * same bits as when it is multiplied alone: a batch never changes a token's result.
     */
    @org.junit.jupiter.api.Test
    void q8_0IntegerKernelsMatchTheReferenceOnExtremeBlocksInEveryBatch() {
        int rows = 2 * Interleaving.SET_ROWS + 7;
        for (int cols : new int[] {128, 2048 + 32}) {
            Random random = new Random(cols);
            WeightTensor[] tensors = extremeQ8_0(rows, cols, random);
            WeightTensor reference = tensors[0];
            WeightTensor interleaved = tensors[1];
            org.junit.jupiter.api.Assertions.assertEquals(VectorSupport.ENABLED ? 2 * Interleaving.SET_ROWS : 0,
                    interleaved.interleavedRows());
            org.junit.jupiter.api.Assertions.assertEquals(VectorSupport.ENABLED,
                    interleaved.kernels().fuses(1), "normal scales keep the fused (or native) kernels");
            int maxTokens = 20;
            float[] x = extremeActivations(maxTokens, cols, random);
            float[] expected = new float[maxTokens * rows];
            for (int t = 0; t < maxTokens; t++) {
                for (int r = 0; r < rows; r++) {
                    expected[t * rows + r] = reference.dot(r, x, t * cols);
                }
            }
            for (int tokens = 1; tokens <= maxTokens; tokens++) {
                for (ComputePool pool : new ComputePool[] {single, multi}) {
                    float[] out = new float[tokens * rows];
                    MatMul.matmul(interleaved, x, tokens, out, pool);
                    assertArrayEquals(WeightTensorKernelTest.bits(java.util.Arrays.copyOf(expected, tokens * rows)),
                            WeightTensorKernelTest.bits(out),
                            "Q8_0 x " + cols + ", " + tokens + " tokens, " + pool.threads() + " threads");
                }
            }
            // Batch invariance, token by token: alone, and at every position of a batch of 13 (six, six, one).
            float[] batch = new float[13 * rows];
            MatMul.matmul(interleaved, x, 13, batch, multi);
            for (int t = 0; t < 13; t++) {
                float[] alone = new float[rows];
                MatMul.matmul(interleaved, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, alone,
                        multi);
                assertArrayEquals(WeightTensorKernelTest.bits(alone),
                        WeightTensorKernelTest.bits(java.util.Arrays.copyOfRange(batch, t * rows, (t + 1) * rows)),
                        "token " + t + " alone and in a batch of 13");
            }
        }
    }

    /** {reference (row-major), interleaved copy} of a Q8_0 tensor whose blocks are drawn from the edge cases. */
    private static WeightTensor[] extremeQ8_0(int rows, int cols, Random random) {
        short[] scales = {0x7bff, (short) 0xfbff, 0x0400, (short) 0x8400, 0x0000, (short) 0x8000, 0x3c00};
        byte[] bytes = new byte[rows * cols / WeightTensor.TILE * 34];
        java.lang.foreign.MemorySegment m = java.lang.foreign.MemorySegment.ofArray(bytes);
        for (int b = 0; b < rows * cols / WeightTensor.TILE; b++) {
            long o = 34L * b;
            short d = random.nextInt(3) == 0 ? scales[random.nextInt(scales.length)]
                    : Float.floatToFloat16((float) (random.nextGaussian() * 0.01));
            if ((d & 0x7c00) == 0 && (d & 0x7fff) != 0) {
                d = (short) ((d & 0x8000) | 0x0400); // a subnormal scale would drop the fused kernels
            }
            m.set(Q8_0Tensor.SHORT_LE, o, d);
            int kind = random.nextInt(6);
            for (int j = 0; j < WeightTensor.TILE; j++) {
                int q = switch (kind) {
                    case 0 -> 0;
                    case 1 -> -128;
                    case 2 -> 127;
                    case 3 -> (j & 1) == 0 ? -128 : 127;
                    default -> random.nextInt(256) - 128;
                };
                bytes[(int) o + 2 + j] = (byte) q;
            }
        }
        WeightTensor reference = WeightTensor.of("reference", GgmlType.Q8_0, m, rows, cols);
        WeightTensor interleaved = WeightTensor.of("copy", GgmlType.Q8_0,
                java.lang.foreign.MemorySegment.ofArray(bytes.clone()), rows, cols).interleaved();
        return new WeightTensor[] {reference, interleaved};
    }

    /** Activations whose tiles are ordinary, all zero, or one huge element among small ones (either sign). */
    private static float[] extremeActivations(int tokens, int cols, Random random) {
        float[] x = new float[tokens * cols];
        for (int t = 0; t < tokens * cols / WeightTensor.TILE; t++) {
            int kind = random.nextInt(4);
            for (int j = 0; j < WeightTensor.TILE; j++) {
                x[t * WeightTensor.TILE + j] = kind == 0 ? 0f : (float) random.nextGaussian();
            }
            if (kind == 1) {
                x[t * WeightTensor.TILE + random.nextInt(WeightTensor.TILE)] = random.nextBoolean() ? 3e4f : -3e4f;
            }
        }
        return x;
    }

    /**
     * The fused F16 kernels convert only finite halves: a tensor with an infinity anywhere in its interleaved rows
     * (tried at each position of the finiteness check's 64-bit words) takes the tiled path and still matches its
     * reference, while the largest finite half keeps the fused kernels.
     */
    @org.junit.jupiter.api.Test
    void f16InfinitiesDisableTheFusedKernelsAndStillMatchTheReference() {
        int cols = 64;
        int rows = Interleaving.SET_ROWS;
        Random random = new Random(5);
        float[] x = new float[2 * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int position = 0; position < 4; position++) {
            for (float special : new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 65504f, -65504f}) {
                float[] values = new float[rows * cols];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (random.nextGaussian() * 0.05);
                }
                values[3 * cols + 8 + position] = special;
                WeightTensor reference = WeightTensor.of("reference", GgmlType.F16,
                        GgmlTestEncoding.encode(GgmlType.F16, values), rows, cols);
                WeightTensor interleaved = WeightTensor.of("copy", GgmlType.F16,
                        GgmlTestEncoding.encode(GgmlType.F16, values), rows, cols).interleaved();
                boolean finite = Float.isFinite(special);
                if (NativeCpuKernels.enabled()) {
                    // The native kernel widens every half exactly, infinities included: it keeps the tensor.
                    org.junit.jupiter.api.Assertions.assertNotNull(interleaved.kernels().allTokens());
                } else {
                    org.junit.jupiter.api.Assertions.assertEquals(finite && VectorSupport.ENABLED,
                            interleaved.kernels().single() != null, special + " at " + position);
                }
                for (int tokens = 1; tokens <= 2; tokens++) {
                    float[] out = new float[tokens * rows];
                    MatMul.matmul(interleaved, x, tokens, out, multi);
                    // (the native kernel's 1..4-token paths are all reached by the other F16 tests' batches)
                    float[] expected = new float[tokens * rows];
                    for (int t = 0; t < tokens; t++) {
                        for (int r = 0; r < rows; r++) {
                            expected[t * rows + r] = reference.dot(r, x, t * cols);
                        }
                    }
                    assertArrayEquals(WeightTensorKernelTest.bits(expected), WeightTensorKernelTest.bits(out),
                            special + " at " + position + ", " + tokens + " tokens");
                }
            }
        }
    }
}
