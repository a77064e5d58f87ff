package dev.continuum.tensor;

import dev.continuum.loader.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** MatMul's outputs are bit-identical whatever the batch size and thread split. */
class MatMulTest {
    private static final int ROWS = 67;
    private static final int COLS = 288;
    private static final int TOKENS = 5;

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

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void batchOfFiveMatchesFiveSingleTokenCallsBitForBit(GgmlType type) {
        WeightTensor w = new WeightTensorKernelTest.Fixture(type, ROWS, COLS, 42 + type.id).tensor;
        Random random = new Random(7);
        float[] x = new float[TOKENS * COLS];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }

        float[] batched = new float[TOKENS * ROWS];
        MatMul.matmul(w, x, TOKENS, batched, multi);

        for (int t = 0; t < TOKENS; t++) {
            float[] xt = Arrays.copyOfRange(x, t * COLS, (t + 1) * COLS);
            float[] one = new float[ROWS];
            MatMul.matmul(w, xt, 1, one, single);
            float[] oneSplit = new float[ROWS];
            MatMul.matmul(w, xt, 1, oneSplit, multi);
            float[] fromBatch = Arrays.copyOfRange(batched, t * ROWS, (t + 1) * ROWS);
            assertArrayEquals(bits(one), bits(fromBatch), type + " token " + t + ": batch vs single");
            assertArrayEquals(bits(one), bits(oneSplit), type + " token " + t + ": 1 vs 3 threads");
        }
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
