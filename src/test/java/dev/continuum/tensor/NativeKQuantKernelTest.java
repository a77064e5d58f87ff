package dev.continuum.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The native AVX512-VNNI block-format kernels ({@code src/main/native/cpu/kquant_vnni.c}) on {@link KQuantLayout}'s
 * repacked sets against the scalar reference, {@link BlockQuantTensor#dot} on the file's bytes, bit for bit: Q4_1,
 * Q5_0, Q5_1, IQ4_NL and Q2_K to Q6_K, 1 to 13 tokens (the kernels' one-to-four-token groups and their
 * remainders), rows of 256 and 1792 columns, two sets and row-major tail rows, random blocks, all-zero blocks, extreme float16 scales (largest and
 * smallest normal, subnormal, signed zeros, negative) and activations near the float range. Under {@code CI=true}
 * the native route must be the one chosen (CI machines have AVX512-VNNI and gcc).
 */
class NativeKQuantKernelTest {
    private static final BlockFormat[] NATIVE = {BlockFormat.Q4_1, BlockFormat.Q5_0, BlockFormat.Q5_1,
            BlockFormat.IQ4_NL, BlockFormat.Q2_K, BlockFormat.Q3_K, BlockFormat.Q4_K, BlockFormat.Q5_K,
            BlockFormat.Q6_K};
    private static final int ROWS = 2 * KQuantLayout.SET_ROWS + 7;
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

    @Test
    void ciRunsTheNativeKQuantKernels() {
        assumeTrue("true".equals(System.getenv("CI")) || NativeCpuKernels.enabled(),
                "not CI and no native kernels here: " + NativeCpuKernels.describe());
        assertTrue(NativeCpuKernels.enabled(), "CI must run the native K-quant kernels: " + NativeCpuKernels.describe());
        for (BlockFormat f : NATIVE) {
            WeightTensor w = WeightTensor.of("w", f.type, BlockQuantKernelTest.blocks(f, ROWS, 512, 1), ROWS, 512)
                    .interleaved();
            assertNotNull(w.kernels().allTokens(), f + ": the native set kernel serves the whole sets");
            assertTrue(w.interleavedRows() == 2 * KQuantLayout.SET_ROWS, f + " sets: " + w.interleavedRows());
        }
    }

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (BlockFormat f : NATIVE) {
            for (int cols : new int[] {256, 1792}) {
                cases.add(Arguments.of(f, cols));
            }
        }
        return cases.build();
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void nativeSetsEqualTheScalarReferenceForOneToThirteenTokens(BlockFormat format, int cols) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        MemorySegment m = BlockQuantKernelTest.blocks(format, ROWS, cols, 31L * format.ordinal() + cols);
        WeightTensor plain = WeightTensor.of("w", format.type, m, ROWS, cols);
        WeightTensor w = plain.interleaved();
        assertNotNull(w.kernels().allTokens());
        float[] x = BlockQuantKernelTest.activations(13, cols, cols + 5);
        for (int tokens = 1; tokens <= 13; tokens++) {
            float[] expected = reference(plain, x, tokens);
            for (ComputePool pool : new ComputePool[] {single, multi}) {
                float[] out = new float[tokens * ROWS];
                MatMul.matmul(w, x, tokens, out, pool);
                assertBits(expected, out, format + " " + tokens + " tokens, " + pool.threads() + " threads");
            }
        }
    }

    /** Every extreme scale in every block position, zero blocks among them, and extreme activations. */
    @ParameterizedTest
    @EnumSource(value = BlockFormat.class, mode = EnumSource.Mode.EXCLUDE, names = "Q8_K")
    void extremeScalesZeroBlocksAndExtremeActivationsMatchTheReference(BlockFormat format) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        short[] extremes = {0x7bff, 0x0400, 0x03ff, 0x0001, 0x0000, (short) 0x8000, (short) 0xbc00, (short) 0xfbff,
                0x2e66, 0x1400};
        int cols = 1024;
        MemorySegment m = BlockQuantKernelTest.blocks(format, ROWS, cols, 99 + format.ordinal());
        int blocksPerRow = cols / format.blockSize;
        for (int r = 0; r < ROWS; r++) {
            for (int b = 0; b < blocksPerRow; b++) {
                long at = ((long) r * blocksPerRow + b) * format.blockBytes;
                BlockQuantKernelTest.setScale(format, m, at, extremes[(r + b) % extremes.length], r % 2 == 1);
                if ((r + b) % 7 == 0) {
                    m.asSlice(at, format.blockBytes).fill((byte) 0);
                }
            }
        }
        WeightTensor plain = WeightTensor.of("w", format.type, m, ROWS, cols);
        WeightTensor w = plain.interleaved();
        float[] x = BlockQuantKernelTest.activations(6, cols, 12);
        x[3] = 1e30f;
        x[cols + 40] = 1e-40f;
        x[2 * cols + 100] = -3e25f;
        for (int tokens = 1; tokens <= 6; tokens++) {
            float[] out = new float[tokens * ROWS];
            MatMul.matmul(w, x, tokens, out, multi);
            assertBits(reference(plain, x, tokens), out, format + " " + tokens + " tokens");
        }
    }

    /** The repacked tensor still reads as the file: same bytes written back, same dequantized rows, asked once. */
    @ParameterizedTest
    @EnumSource(value = BlockFormat.class, mode = EnumSource.Mode.EXCLUDE, names = "Q8_K")
    void theFileBytesStayReadable(BlockFormat format) {
        assumeTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        int cols = 512;
        MemorySegment m = BlockQuantKernelTest.blocks(format, ROWS, cols, 5);
        byte[] original = m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        WeightTensor plain = WeightTensor.of("w", format.type, m, ROWS, cols);
        WeightTensor w = plain.interleaved();
        assertSame(w, plain.interleaved(), "prepared once");
        MemorySegment written = Arena.ofAuto().allocate(m.byteSize());
        w.writeRowMajor(written);
        assertArrayEquals(original, written.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        float[] a = new float[cols];
        float[] b = new float[cols];
        for (int r = 0; r < ROWS; r += 13) {
            plain.dequantizeRow(r, a, 0);
            w.dequantizeRow(r, b, 0);
            assertArrayEquals(a, b);
        }
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

    private static void assertBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                throw new AssertionError(what + ": output " + i + " (row " + i % ROWS + ", token " + i / ROWS
                        + ") expected " + expected[i] + " got " + actual[i]);
            }
        }
    }
}
