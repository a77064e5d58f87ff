package dev.continuum.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native AVX512-VNNI Q8_0 and Q4_0 kernels and the AVX-512 F16 kernel ({@code src/main/native/cpu/quant_vnni.c})
 * against the scalar reference ({@link WeightTensor#dot}), bit for bit, through {@link MatMul} as the model calls it. Hostile blocks
 * included: Q8_0 weights -128 and 127 (the +128 offset's edges), Q4_0 nibbles 0 and 15, all-zero blocks, zero scales, the largest and smallest normal and
 * subnormal float16 scales (which the native kernel converts exactly, unlike the Java kernels' fast rebias, so it
 * serves those tensors too), activations with one huge element per tile. Under {@code CI=true} the native route must
 * be the one chosen: CI machines have AVX512-VNNI and gcc, so a silent fallback would leave the kernel untested.
 */
class NativeQuantKernelTest {
    private static final short[] EXTREME_SCALES = {
        0x0000, // zero
        0x7bff, // largest normal, 65504
        0x0400, // smallest normal, 2^-14
        0x0001, // smallest subnormal
        0x03ff, // largest subnormal
        (short) 0x8400, // a negative scale
        0x3c00, // 1.0
    };

    @Test
    void ciRunsTheNativeRoute() {
        assumeTrue("true".equals(System.getenv("CI")) || NativeCpuKernels.enabled(),
                "not CI and no native kernels here: " + NativeCpuKernels.describe());
        assertTrue(NativeCpuKernels.enabled(), "CI must run the native Q8_0 kernel, got: " + NativeCpuKernels.describe());
        assertTrue(NativeCpuKernels.describe().contains("native AVX512-VNNI"), NativeCpuKernels.describe());
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.F16}) {
            for (int cols : new int[] {32, 96, 768, 2080}) {
                cases.add(Arguments.of(type, cols));
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0} x {1} columns")
    @MethodSource("cases")
    void everyTokenCountMatchesTheReferenceBitForBit(GgmlType type, int cols) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        int rows = 2 * Interleaving.SET_ROWS + 7; // two native sets and row-major tail rows
        Random random = new Random(cols);
        WeightTensor w = WeightTensor.of("w", type, hostileBlocks(type, rows, cols, random), rows, cols)
                .interleaved();
        assertEquals(2 * Interleaving.SET_ROWS, w.interleavedRows());
        assertTrue(w.kernels().allTokens() != null, "the native kernel serves the interleaved sets");
        try (ComputePool pool = new ComputePool(2)) {
            MatMul matmul = new MatMul(pool);
            for (int tokens = 1; tokens <= 13; tokens++) {
                float[] x = activations(tokens, cols, random);
                float[] out = new float[tokens * rows];
                matmul.multiply(w, x, tokens, out);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        float expected = w.dot(r, x, t * cols);
                        int tt = t;
                        int rr = r;
                        int n = tokens;
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[t * rows + r]),
                                () -> "token " + tt + " of " + n + ", row " + rr + ": " + expected + " vs native");
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "F16"})
    void aTokensOutputsDoNotDependOnItsBatch(GgmlType type) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        int rows = Interleaving.SET_ROWS;
        int cols = 256;
        Random random = new Random(7);
        WeightTensor w = WeightTensor.of("w", type, hostileBlocks(type, rows, cols, random), rows, cols)
                .interleaved();
        float[] x = activations(9, cols, random);
        try (ComputePool pool = new ComputePool(1)) {
            MatMul matmul = new MatMul(pool);
            float[] batch = new float[9 * rows];
            matmul.multiply(w, x, 9, batch);
            for (int t = 0; t < 9; t++) {
                float[] solo = new float[rows];
                float[] one = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
                matmul.multiply(w, one, 1, solo);
                float[] inBatch = java.util.Arrays.copyOfRange(batch, t * rows, (t + 1) * rows);
                assertArrayEquals(solo, inBatch, "token " + t + " alone and in a batch of 9");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0", "F16"})
    void theLayoutRoundTripsToTheFilesBytes(GgmlType type) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        int rows = Interleaving.SET_ROWS + 3;
        int cols = 160;
        MemorySegment original = hostileBlocks(type, rows, cols, new Random(3));
        byte[] before = original.toArray(ValueLayout.JAVA_BYTE);
        WeightTensor plain = WeightTensor.of("w", type, MemorySegment.ofArray(before.clone()), rows, cols);
        WeightTensor w = WeightTensor.of("w", type, original, rows, cols).interleaved();
        MemorySegment back = Arena.ofAuto().allocate(w.data().byteSize());
        w.writeRowMajor(back);
        assertArrayEquals(before, back.toArray(ValueLayout.JAVA_BYTE));
        float[] row = new float[cols];
        float[] expected = new float[cols];
        for (int r = 0; r < rows; r++) {
            w.dequantizeRow(r, row, 0);
            plain.dequantizeRow(r, expected, 0);
            assertArrayEquals(expected, row, "row " + r);
        }
    }

    /**
     * Row-major Q8_0 or Q4_0 blocks: random weights with their extremes, some all-zero blocks (Q4_0: nibble 8),
     * hostile scales.
     */
    static MemorySegment hostileBlocks(GgmlType type, int rows, int cols, Random random) {
        if (type == GgmlType.F16) {
            // F16: random weights with the odd extreme half (largest, subnormal, signed zero); finite, as NaN
            // payloads are not part of the contract.
            short[] extremes = {0x7bff, (short) 0xfbff, 0x0001, (short) 0x8001, 0x03ff, 0x0000, (short) 0x8000};
            MemorySegment h = Arena.ofAuto().allocate(2L * rows * cols);
            for (long i = 0; i < (long) rows * cols; i++) {
                short v = random.nextInt(50) == 0 ? extremes[random.nextInt(extremes.length)]
                        : Float.floatToFloat16((float) random.nextGaussian() * 0.05f);
                h.set(Q8_0Tensor.SHORT_LE, 2 * i, v);
            }
            return h;
        }
        int tiles = cols / 32;
        boolean q8 = type == GgmlType.Q8_0;
        int blockBytes = q8 ? 34 : 18;
        MemorySegment s = Arena.ofAuto().allocate((long) rows * tiles * blockBytes);
        for (int r = 0; r < rows; r++) {
            for (int t = 0; t < tiles; t++) {
                long block = ((long) r * tiles + t) * blockBytes;
                int kind = random.nextInt(10);
                short scale = kind == 0 ? EXTREME_SCALES[random.nextInt(EXTREME_SCALES.length)]
                        : Float.floatToFloat16((random.nextFloat() + 0.01f) * 0.02f);
                s.set(Q8_0Tensor.SHORT_LE, block, scale);
                for (int j = 0; j < blockBytes - 2; j++) {
                    byte v;
                    if (q8) {
                        v = kind == 1 ? 0 : kind == 2 ? (j % 2 == 0 ? (byte) -128 : (byte) 127)
                                : (byte) (random.nextInt(256) - 128);
                    } else {
                        v = kind == 1 ? (byte) 0x88 : kind == 2 ? (byte) (j % 2 == 0 ? 0x0f : 0xf0)
                                : (byte) random.nextInt(256);
                    }
                    s.set(ValueLayout.JAVA_BYTE, block + 2 + j, v);
                }
            }
        }
        return s;
    }

    /** Activations with the odd huge element and some all-zero tiles. */
    static float[] activations(int tokens, int cols, Random random) {
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int t = 0; t < tokens * cols / 32; t++) {
            int kind = random.nextInt(8);
            if (kind == 0) {
                x[t * 32 + random.nextInt(32)] = 1e6f;
            } else if (kind == 1) {
                java.util.Arrays.fill(x, t * 32, t * 32 + 32, 0f);
            }
        }
        return x;
    }
}
