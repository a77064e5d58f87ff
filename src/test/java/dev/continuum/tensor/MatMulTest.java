package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
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

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void everyTokenOfEveryBatchMatchesTheReferenceDotBitForBit(GgmlType type, int cols) {
        WeightTensorKernelTest.Fixture f = new WeightTensorKernelTest.Fixture(type, ROWS, cols, 42 + type.id + cols);
        Random random = new Random(7);
        for (int tokens : new int[] {1, 2, 3, 4, 5, 9}) {
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
}
