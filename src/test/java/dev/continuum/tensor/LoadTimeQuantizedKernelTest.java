package dev.continuum.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The load-time formats ({@code --quantize}): the Vector API kernel and {@link MatMul} give the scalar reference's
 * bits for every row kind (random, zero, constant, extreme magnitudes) and token count 1..13, at the widths the
 * {@code vector-128} and {@code java-kernels} executions rerun this class with; and each format's round trip stays
 * within its bound.
 */
class LoadTimeQuantizedKernelTest {
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

    private static final List<Function<WeightTensor, LoadTimeQuantized>> FORMATS = List.of(
            Int8Tensor::quantize, t -> Int4Tensor.quantize(t, 32), t -> Int4Tensor.quantize(t, 128),
            t -> Int4Tensor.quantize(t, 256), Nf4Tensor::quantize);

    /** Rows of every kind: random normal, zero, constant, extremes of 1e30 beside 1e-30, one outlier. */
    static float[] matrix(int rows, int cols, long seed) {
        Random r = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                w[i * cols + j] = switch (i % 5) {
                    case 0 -> (float) r.nextGaussian();
                    case 1 -> 0f;
                    case 2 -> 0.375f;
                    case 3 -> (j % 2 == 0 ? 1e30f : -1e-30f) * (r.nextBoolean() ? 1 : -1);
                    default -> j == 7 ? 1000f : (float) r.nextGaussian() * 1e-3f;
                };
            }
        }
        return w;
    }

    static WeightTensor f32(float[] w, int rows, int cols, Arena arena) {
        MemorySegment seg = arena.allocate(4L * w.length, 64);
        WeightEncoder.encode(GgmlType.F32, w, 0, w.length, seg, 0);
        return WeightTensor.of("w", GgmlType.F32, seg, rows, cols);
    }

    @Test
    void kernelsReproduceTheReferenceBitForBit() {
        try (Arena arena = Arena.ofConfined()) {
            for (int cols : new int[] {256, 768}) {
                int rows = 23;
                WeightTensor src = f32(matrix(rows, cols, cols), rows, cols, arena);
                for (Function<WeightTensor, LoadTimeQuantized> f : FORMATS) {
                    LoadTimeQuantized q = f.apply(src);
                    assertTrue(q.interleaved() == q, "stays row-major");
                    for (int tokens = 1; tokens <= 13; tokens++) {
                        float[] x = activations(tokens * cols, tokens);
                        float[] out = new float[tokens * rows];
                        for (ComputePool pool : new ComputePool[] {single, multi}) {
                            new MatMul(pool).multiply(q, x, tokens, out);
                            for (int t = 0; t < tokens; t++) {
                                for (int r = 0; r < rows; r++) {
                                    float ref = q.dot(r, x, t * cols);
                                    assertEquals(Float.floatToRawIntBits(ref), Float.floatToRawIntBits(out[t * rows + r]),
                                            q.format() + " cols " + cols + " row " + r + " token " + t + " of "
                                                    + tokens + ": " + ref + " vs " + out[t * rows + r]);
                                    if (VectorSupport.ENABLED && tokens == 1) {
                                        assertEquals(Float.floatToRawIntBits(ref),
                                                Float.floatToRawIntBits(q.vectorDot(r, x, t * cols)), "vector kernel");
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] activations(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = i % 97 == 3 ? 0f : (float) r.nextGaussian() * (i % 31 == 0 ? 50f : 1f);
        }
        return x;
    }

    @Test
    void int8RoundTripIsWithinHalfAScale() {
        int rows = 10;
        int cols = 64;
        float[] w = matrix(rows, cols, 1);
        try (Arena arena = Arena.ofConfined()) {
            Int8Tensor q = Int8Tensor.quantize(f32(w, rows, cols, arena));
            float[] dq = new float[cols];
            for (int r = 0; r < rows; r++) {
                q.dequantizeRow(r, dq, 0);
                float scale = q.rowScale(r);
                for (int j = 0; j < cols; j++) {
                    float err = Math.abs(w[r * cols + j] - dq[j]);
                    assertTrue(err <= scale / 2 * (1 + 1e-6f) + Math.ulp(dq[j]),
                            "row " + r + " col " + j + ": " + w[r * cols + j] + " -> " + dq[j] + ", scale " + scale);
                }
            }
            assertEquals(0f, q.rowScale(1) == Math.ulp(1f) ? 0f : 1f, "a zero row's scale is float epsilon");
            assertEquals(0.375f / 127, q.rowScale(2), "a constant row's scale");
            assertEquals(0.375f, dq(q, 2, 0), 1e-7f, "a constant row decodes to itself");
        }
    }

    private static float dq(LoadTimeQuantized q, int row, int col) {
        float[] out = new float[q.cols()];
        q.dequantizeRow(row, out, 0);
        return out[col];
    }

    @Test
    void int4RoundTripIsWithinHalfAScale() {
        int rows = 10;
        int cols = 256;
        float[] w = matrix(rows, cols, 2);
        try (Arena arena = Arena.ofConfined()) {
            for (int g : new int[] {32, 64, 128, 256}) {
                Int4Tensor q = Int4Tensor.quantize(f32(w, rows, cols, arena), g);
                float[] dq = new float[cols];
                for (int r = 0; r < rows; r++) {
                    q.dequantizeRow(r, dq, 0);
                    for (int j = 0; j < cols; j++) {
                        float scale = q.groupScale(r, j / g);
                        float err = Math.abs(w[r * cols + j] - dq[j]);
                        // Half a step, plus float rounding of min + scale * 8 and the decode at the group's magnitude.
                        float slack = 4 * Math.ulp(Math.max(Math.abs(w[r * cols + j]), scale * 8));
                        assertTrue(err <= scale / 2 + slack, "int4:" + g + " row " + r + " col " + j + ": "
                                + w[r * cols + j] + " -> " + dq[j] + ", scale " + scale);
                        assertTrue(q.code(r, j) >= 0 && q.code(r, j) <= 15);
                    }
                }
                // A constant group: scale = 1e-6 / 15 (gpt-fast's guard), code 0, decoded within 1e-6 of the value.
                assertEquals(1e-6f / 15f, q.groupScale(2, 0));
                assertEquals(0, q.code(2, 5));
                assertEquals(0.375f, dq(q, 2, 5), 1e-6f);
                assertEquals(0f, dq(q, 1, 5), 1e-6f, "a zero row decodes to (about) zero");
            }
        }
    }

    @Test
    void nf4CodesAreTheNearestLevelAndTheRoundTripIsBounded() {
        int rows = 10;
        int cols = 128;
        float[] w = matrix(rows, cols, 3);
        try (Arena arena = Arena.ofConfined()) {
            Nf4Tensor q = Nf4Tensor.quantize(f32(w, rows, cols, arena));
            float[] dq = new float[cols];
            for (int r = 0; r < rows; r++) {
                q.dequantizeRow(r, dq, 0);
                for (int b = 0; b < cols / Nf4Tensor.BLOCK; b++) {
                    float exact = 0f;
                    for (int j = b * 64; j < b * 64 + 64; j++) {
                        exact = Math.max(exact, Math.abs(w[r * cols + j]));
                    }
                    float decoded = q.blockAbsmax(r, b);
                    for (int j = b * 64; j < b * 64 + 64; j++) {
                        float v = exact == 0 ? 0 : w[r * cols + j] / exact;
                        int code = q.code(r, j);
                        for (float level : Nf4Tensor.LEVELS) {
                            assertTrue(Math.abs(Nf4Tensor.LEVELS[code] - v) <= Math.abs(level - v),
                                    "row " + r + " col " + j + ": code " + code + " is the nearest level to " + v);
                        }
                        // Largest NF4 gap is 1 - 0.7229..: half of it, times the block scale, plus the
                        // double-quantized absmax's own error.
                        float bound = 0.5f * (1f - 0.7229568362236023f) * exact + Math.abs(decoded - exact);
                        assertTrue(Math.abs(w[r * cols + j] - dq[j]) <= bound * (1 + 1e-5f),
                                "row " + r + " col " + j + ": " + w[r * cols + j] + " -> " + dq[j]);
                    }
                }
            }
            assertEquals(7, q.code(1, 0), "zero maps to NF4's exact 0 level");
            assertEquals(15, q.code(2, 0), "a constant positive block maps to level 1.0");
        }
    }

    @Test
    void theDynamicMapIsBitsandbytesShape() {
        float[] code = DynamicMap.CODE;
        assertEquals(256, code.length);
        assertEquals(-1f + 0, code[0], 0.01f, "the most negative code is -0.99375 (0.1..1 midpoints at 10^0)");
        assertEquals(1f, code[255]);
        List<Float> zeros = new ArrayList<>();
        for (int i = 1; i < 256; i++) {
            assertTrue(code[i] > code[i - 1] || code[i] == 0f, "sorted");
            if (code[i] == 0f) {
                zeros.add(code[i]);
            }
        }
        assertEquals(1, zeros.size(), "one exact zero");
        assertEquals(0.55e-6f, code[128], 1e-12f, "the smallest positive code: the 0.1..1 midpoint times 1e-6");
    }

    @Test
    void rowsThatAreNotWholeGroupsAreRefused() {
        try (Arena arena = Arena.ofConfined()) {
            WeightTensor src = f32(new float[2 * 96], 2, 96, arena);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Int4Tensor.quantize(src, 64));
            assertEquals("tensor 'w' rows of 96 columns are not whole int4 groups of 64", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Nf4Tensor.quantize(src));
            assertThrows(UnsupportedOperationException.class,
                    () -> Int8Tensor.quantize(src).writeRowMajor(MemorySegment.ofArray(new byte[192])));
        }
    }
}
