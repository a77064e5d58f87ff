package dev.continuum.tensor;

import dev.continuum.format.ModelFormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The block formats' decoding: dequantization bit for bit against llama.cpp's {@code dequantize_row_*} (reference
 * vectors under {@code reference/formats}, made by ggml itself, see the README there), the vector level decoders
 * against the scalar ones, and hostile data.
 */
class BlockQuantFormatsTest {
    /** Reference rows: gaussian with a zero first half, tiny (subnormal scales), large, all positive. */
    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void dequantizeRowMatchesLlamaCppBitForBit(BlockFormat format) throws IOException {
        Reference ref = Reference.load(format);
        WeightTensor w = WeightTensor.of("ref", format.type, MemorySegment.ofArray(ref.bytes), ref.rows, ref.cols);
        assertEquals(format.type, w.type());
        float[] out = new float[ref.rows * ref.cols];
        for (int r = 0; r < ref.rows; r++) {
            w.dequantizeRow(r, out, r * ref.cols);
        }
        for (int i = 0; i < out.length; i++) {
            int expected = ref.expectedBits[i];
            int actual = Float.floatToRawIntBits(out[i]);
            if (expected != actual) {
                throw new AssertionError(format + " row " + i / ref.cols + " col " + i % ref.cols + ": expected "
                        + Float.intBitsToFloat(expected) + " (0x" + Integer.toHexString(expected) + "), got "
                        + out[i] + " (0x" + Integer.toHexString(actual) + ")");
            }
        }
        // Row 0's zero half decodes to zeros (llama.cpp's sign of zero included, which the bits above checked).
        assertEquals(0f, Math.abs(out[0]));
    }

    /**
     * The reference data exercise what they claim: row 1's block scales are float16 subnormals in the 32-element
     * formats and Q2_K (the other K-quants' super-scales underflow to zero there, also a case).
     */
    @ParameterizedTest
    @EnumSource(value = BlockFormat.class, names = {"Q4_1", "Q5_0", "Q2_K"})
    void referenceRowsReachSubnormalScales(BlockFormat format) throws IOException {
        Reference ref = Reference.load(format);
        int at = ref.bytes.length / ref.rows + (format == BlockFormat.Q2_K ? 80 : 0);
        int d = (ref.bytes[at + 1] & 0xff) << 8 | (ref.bytes[at] & 0xff);
        assertEquals(0, d & 0x7c00, format + " row 1's first d is a subnormal f16: 0x" + Integer.toHexString(d));
        assertTrue((d & 0x3ff) != 0, format + " row 1's first d is not zero");
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void vectorLevelDecodersEqualScalarOnRandomBlocks(BlockFormat format) {
        // Called directly, so this runs whatever the gate says (the test JVMs always have the Vector API module);
        // the decoders' 128-bit byte vectors are the same at every width.
        SplittableRandom random = new SplittableRandom(format.ordinal() * 7919L + 3);
        byte[] bytes = new byte[format.blockBytes * 64];
        random.nextBytes(bytes);
        MemorySegment m = MemorySegment.ofArray(bytes);
        byte[] scalar = new byte[format.blockSize];
        byte[] vector = new byte[format.blockSize];
        for (int b = 0; b < 64; b++) {
            format.levels(m, (long) b * format.blockBytes, scalar);
            BlockLevels.Vectorized.decode(format, m, (long) b * format.blockBytes, vector);
            assertArrayEquals(scalar, vector, format + " block " + b);
        }
    }

    /** Levels land in the range each format's layout gives: a decoder that misplaces a bit leaves it. */
    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void levelsStayInTheFormatsRange(BlockFormat format) {
        int[][] range = {{0, 15}, {-16, 15}, {0, 31}, {-127, 113}, {0, 3}, {-4, 3}, {0, 15}, {0, 31}, {-32, 31},
                {-128, 127}};
        SplittableRandom random = new SplittableRandom(99 + format.ordinal());
        byte[] bytes = new byte[format.blockBytes * 32];
        random.nextBytes(bytes);
        byte[] levels = new byte[format.blockSize];
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int b = 0; b < 32; b++) {
            format.levels(MemorySegment.ofArray(bytes), (long) b * format.blockBytes, levels);
            for (byte l : levels) {
                min = Math.min(min, l);
                max = Math.max(max, l);
            }
        }
        assertEquals(range[format.ordinal()][0], min, format + " lowest level");
        assertEquals(range[format.ordinal()][1], max, format + " highest level");
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void tensorOfTheWrongByteSizeIsRefusedNamingIt(BlockFormat format) {
        int cols = format.blockSize * 2;
        byte[] shortBy = new byte[2 * 2 * format.blockBytes - 1];
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of("blk.0.attn_q.weight", format.type, MemorySegment.ofArray(shortBy), 2, cols));
        assertTrue(e.getMessage().contains("'blk.0.attn_q.weight'") && e.getMessage().contains(format.type.name())
                && e.getMessage().contains("bytes"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void rowsThatAreNotWholeBlocksAreRefused(BlockFormat format) {
        if (format.blockSize == 32) {
            // 48 columns: the byte count of 1.5 blocks is not whole either, so the size check speaks first.
            byte[] bytes = new byte[3 * format.blockBytes];
            ModelFormatException e = assertThrows(ModelFormatException.class,
                    () -> WeightTensor.of("w", format.type, MemorySegment.ofArray(bytes), 2, 48));
            assertTrue(e.getMessage().contains("'w'"), e.getMessage());
            return;
        }
        // Two rows of 128 columns: one superblock's bytes in all, but half a superblock per row.
        byte[] bytes = new byte[format.blockBytes];
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of("w", format.type, MemorySegment.ofArray(bytes), 2, 128));
        assertTrue(e.getMessage().contains("not a multiple of " + format.type + "'s block size 256"),
                e.getMessage());
    }

    /** A NaN or infinite float16 scale decodes to NaN or infinity and multiplies without an exception. */
    @ParameterizedTest
    @EnumSource(BlockFormat.class)
    void nanAndInfiniteScalesDoNotCrash(BlockFormat format) {
        int cols = 256;
        int blocks = cols / format.blockSize;
        byte[] bytes = new byte[2 * blocks * format.blockBytes];
        new SplittableRandom(5).nextBytes(bytes);
        MemorySegment m = MemorySegment.ofArray(bytes);
        for (int b = 0; b < 2 * blocks; b++) {
            BlockQuantKernelTest.setScale(format, m, (long) b * format.blockBytes, b % 2 == 0 ? (short) 0x7e00
                    : (short) 0x7c00, false);
        }
        WeightTensor w = WeightTensor.of("w", format.type, m, 2, cols);
        float[] row = new float[cols];
        w.dequantizeRow(0, row, 0);
        float[] x = new float[cols];
        java.util.Arrays.fill(x, 0.5f);
        float[] out = new float[2];
        try (ComputePool pool = new ComputePool(1)) {
            MatMul.matmul(w, x, 1, out, pool);
        }
        assertTrue(Float.isNaN(out[0]) || Float.isInfinite(out[0]), "row 0: " + out[0]);
        assertEquals(Float.floatToIntBits(w.dot(1, x, 0)), Float.floatToIntBits(out[1]));
    }

    @Test
    void unsupportedTypeMessageListsEveryReadableType() {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> WeightTensor.of("w", GgmlType.IQ2_XXS, MemorySegment.ofArray(new byte[66]), 1, 256));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
        assertTrue(e.getMessage().contains("(supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K,"
                + " Q5_K, Q6_K, Q8_K, IQ4_NL, BF16)"), e.getMessage());
        for (BlockFormat f : BlockFormat.values()) {
            assertTrue(f.type.supported, f + " is marked supported");
            assertEquals(f, BlockFormat.of(f.type));
        }
    }

    /**
     * The file's bytes stay row-major: on the Java route interleaving returns the tensor itself; on the native route
     * a tensor whose whole sets the native kernels read from their own copy ({@link KQuantLayout}), over the same
     * row-major data.
     */
    @Test
    void blockFormatsKeepTheFileLayout() {
        byte[] bytes = new byte[Interleaving.SET_ROWS * 2 * GgmlType.Q4_K.blockBytes];
        WeightTensor w = WeightTensor.of("w", GgmlType.Q4_K, MemorySegment.ofArray(bytes), Interleaving.SET_ROWS,
                512);
        WeightTensor prepared = w.interleaved();
        if (NativeCpuKernels.enabled()) {
            assertEquals(Interleaving.SET_ROWS, prepared.interleavedRows());
            assertSame(w.data(), prepared.data());
        } else {
            assertSame(w, prepared);
            assertEquals(0, prepared.interleavedRows());
        }
    }

    /** The kernel warm-up runs the block formats' kernels too (on random blocks of one superblock per row). */
    @Test
    void kernelWarmupTakesTheBlockFormats() {
        java.util.EnumSet<GgmlType> types = java.util.EnumSet.noneOf(GgmlType.class);
        for (BlockFormat f : BlockFormat.values()) {
            types.add(f.type);
        }
        try (ComputePool pool = new ComputePool(2)) {
            long calls = KernelWarmup.run(types, pool, 50_000_000L);
            assertTrue(calls >= types.size(), "warm-up made " + calls + " calls");
        }
    }

    /** One format's reference file: per row, the row's ggml bytes in hex, then its floats' bits in hex. */
    record Reference(int rows, int cols, byte[] bytes, int[] expectedBits) {
        static Reference load(BlockFormat format) throws IOException {
            String name = "/reference/formats/" + format.type + ".txt";
            try (InputStream in = BlockQuantFormatsTest.class.getResourceAsStream(name)) {
                assertNotNull(in, name);
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
                String[] header = r.readLine().split(" ");
                assertEquals(format.type.name(), header[0]);
                int rows = Integer.parseInt(header[1]);
                int cols = Integer.parseInt(header[2]);
                long rowBytes = format.type.bytesFor(cols);
                byte[] bytes = new byte[(int) (rows * rowBytes)];
                int[] bits = new int[rows * cols];
                HexFormat hex = HexFormat.of();
                for (int row = 0; row < rows; row++) {
                    byte[] b = hex.parseHex(r.readLine());
                    assertEquals(rowBytes, b.length);
                    System.arraycopy(b, 0, bytes, (int) (row * rowBytes), b.length);
                    String floats = r.readLine();
                    assertEquals(8 * cols, floats.length());
                    for (int j = 0; j < cols; j++) {
                        bits[row * cols + j] = (int) Long.parseLong(floats.substring(8 * j, 8 * j + 8), 16);
                    }
                }
                return new Reference(rows, cols, bytes, bits);
            }
        }
    }
}
