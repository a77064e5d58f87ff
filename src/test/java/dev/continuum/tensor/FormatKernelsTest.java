package dev.continuum.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel table's rules (what a format may declare), which batches it sends to the fused kernels, and the
 * table each format's tensors carry: the format's own when the data allows the fused kernels, without them when
 * it does not, in which case {@link MatMul} still gives the reference bits through the tiles.
 */
class FormatKernelsTest {
    private static final FormatKernels.SingleTokenKernel SINGLE = (set, x, qa, token, out, oo, scratch) -> { };
    private static final FormatKernels.TokenGroupKernel GROUP = (set, x, qa, token, out, oo, os, scratch) -> { };
    private static final FormatKernels.ShortTileDecoder SHORTS = (set, tile, w, scales) -> { };
    private static final FormatKernels.Activations FLOAT = FormatKernels.Activations.FLOAT;
    private static final FormatKernels.Activations QUANTIZED = FormatKernels.Activations.QUANTIZED;

    @Test
    void aTableMustNameItsActivations() {
        assertThrows(IllegalArgumentException.class, () -> new FormatKernels(null, null, null, null, 0, null));
    }

    @Test
    void aPairKernelNeedsASingleTokenKernelForTheOddToken() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FormatKernels(FLOAT, null, GROUP, null, 5, null));
        assertTrue(e.getMessage().contains("single-token"), e.getMessage());
    }

    @Test
    void aSixTokenKernelNeedsAPairKernelForTheTokensLeftOver() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FormatKernels(FLOAT, SINGLE, null, GROUP, 0, null));
        assertTrue(e.getMessage().contains("token-pair"), e.getMessage());
    }

    @Test
    void theFusedBoundMustLetEveryFusedKernelRun() {
        assertThrows(IllegalArgumentException.class, () -> new FormatKernels(FLOAT, SINGLE, GROUP, null, 2, null));
        assertThrows(IllegalArgumentException.class, () -> new FormatKernels(FLOAT, SINGLE, GROUP, GROUP, 6, null));
        assertThrows(IllegalArgumentException.class, () -> new FormatKernels(FLOAT, SINGLE, null, null, 5, null));
        assertEquals(3, new FormatKernels(FLOAT, SINGLE, GROUP, null, 3, null).fusedTokensBelow());
        assertEquals(7, new FormatKernels(FLOAT, SINGLE, GROUP, GROUP, 7, null).fusedTokensBelow());
    }

    @Test
    void shortTilesMultiplyOnlyQuantizedActivations() {
        assertThrows(IllegalArgumentException.class, () -> new FormatKernels(FLOAT, null, null, null, 0, SHORTS));
        assertSame(SHORTS, new FormatKernels(QUANTIZED, null, null, null, 0, SHORTS).shortTiles());
    }

    @Test
    void batchesBelowTheBoundTakeTheFusedKernels() {
        FormatKernels pairs = new FormatKernels(FLOAT, SINGLE, GROUP, null, 5, null);
        for (int tokens = 1; tokens < 5; tokens++) {
            assertTrue(pairs.fuses(tokens), tokens + " tokens");
        }
        assertFalse(pairs.fuses(5));
        assertFalse(pairs.fuses(64));
        FormatKernels singleOnly = new FormatKernels(FLOAT, SINGLE, null, null, 0, null);
        assertTrue(singleOnly.fuses(1));
        assertFalse(singleOnly.fuses(2));
        assertTrue(new FormatKernels(FLOAT, SINGLE, GROUP, GROUP, FormatKernels.ANY_TOKEN_COUNT, null).fuses(4096));
        assertFalse(FormatKernels.FLOAT_TILES.fuses(1));
        assertFalse(FormatKernels.FLOAT_TILES.fuses(2));
    }

    @Test
    void withoutFusedKernelsKeepsTheActivationsAndTheShortTiles() {
        FormatKernels all = new FormatKernels(QUANTIZED, SINGLE, GROUP, GROUP, 9, SHORTS);
        FormatKernels tiles = all.withoutFusedKernels();
        assertEquals(QUANTIZED, tiles.activations());
        assertSame(SHORTS, tiles.shortTiles());
        assertNull(tiles.single());
        assertNull(tiles.pair());
        assertNull(tiles.six());
        assertFalse(tiles.fuses(1));
        assertFalse(tiles.fuses(2));
    }

    /** The java-kernels execution forces the Java route: it must be the one in effect, or it tests nothing new. */
    @org.junit.jupiter.api.Test
    void aForcedRouteIsTheOneInEffect() {
        String forced = System.getProperty(NativeCpuKernels.PROPERTY);
        if ("java".equals(forced)) {
            assertFalse(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        } else if ("native".equals(forced)) {
            assertTrue(NativeCpuKernels.enabled(), NativeCpuKernels.describe());
        }
        assertEquals(NativeCpuKernels.enabled(), NativeCpuKernels.describe().startsWith("native AVX512-VNNI"));
    }

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0"})
    void eachFormatDeclaresItsTable(GgmlType type) {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "tensors are interleaved only with the vector kernels on");
        WeightTensorKernelTest.Fixture f = new WeightTensorKernelTest.Fixture(type, Interleaving.SET_ROWS, 64, 3);
        FormatKernels k = f.interleaved.kernels();
        assertEquals(type == GgmlType.Q4_0 || type == GgmlType.Q8_0 ? QUANTIZED : FLOAT, k.activations());
        switch (type) {
            case F32 -> {
                // The tiled path for whole sets, the row kernel for the rows outside them, no fused kernels.
                assertNotNull(k.rowTokens());
                assertNull(k.single());
                assertNull(k.allTokens());
                assertNull(k.shortTiles());
                assertFalse(k.fuses(1) || k.fuses(4));
            }
            case F16 -> {
                if (NativeCpuKernels.enabled()) {
                    assertNotNull(k.allTokens());
                    assertNull(k.single());
                } else {
                    assertNotNull(k.single());
                    assertNotNull(k.pair());
                    assertNull(k.six());
                    assertEquals(FormatKernels.DECODE_BATCHES, k.fusedTokensBelow());
                }
                assertNull(k.shortTiles());
            }
            case BF16 -> {
                assertNotNull(k.single());
                assertNotNull(k.pair());
                assertNull(k.six());
                assertEquals(FormatKernels.DECODE_BATCHES, k.fusedTokensBelow());
                assertNull(k.shortTiles());
            }
            case Q8_0, Q4_0 -> {
                if (NativeCpuKernels.enabled()) {
                    // The native route: one kernel for every token count, nothing else.
                    assertNotNull(k.allTokens());
                    assertNull(k.single());
                    assertNull(k.shortTiles());
                    assertTrue(k.fuses(1) && k.fuses(7) && k.fuses(300));
                } else if (type == GgmlType.Q8_0) {
                    assertJavaQ8_0(k);
                } else {
                    assertJavaQ4_0(k);
                }
            }
            default -> throw new AssertionError(type);
        }
        // Row-major tensors (as read from the file) have no interleaved sets for the fused kernels.
        assertFalse(f.tensor.kernels().fuses(1), "row-major " + type);
        assertEquals(k.activations(), f.tensor.kernels().activations());
    }

    private static void assertJavaQ8_0(FormatKernels k) {
        assertNull(k.allTokens());
        assertNotNull(k.six());
        assertEquals(FormatKernels.ANY_TOKEN_COUNT, k.fusedTokensBelow());
        assertNull(k.shortTiles());
    }

    private static void assertJavaQ4_0(FormatKernels k) {
        assertNull(k.allTokens());
        assertNotNull(k.pair());
        assertNull(k.six());
        assertEquals(5, k.fusedTokensBelow());
        assertNotNull(k.shortTiles());
    }

    /**
     * A block scale the kernels' fast conversion does not take (a subnormal float16) anywhere in the interleaved
     * rows leaves the tensor without fused kernels; every batch then goes through the tiles and still gives the
     * reference bits.
     */
    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"Q8_0", "Q4_0"})
    void aSubnormalScaleDropsTheFusedKernelsAndKeepsTheReferenceBits(GgmlType type) {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "tensors are interleaved only with the vector kernels on");
        int rows = Interleaving.SET_ROWS;
        int cols = 96;
        Random random = new Random(13);
        float[] values = new float[rows * cols];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 0.05);
        }
        MemorySegment bytes = GgmlTestEncoding.encode(type, values);
        long scaleOffset = 3 * (bytes.byteSize() / rows) + type.blockBytes; // row 3, tile 1
        bytes.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), scaleOffset, (short) 0x0007);
        WeightTensor reference = WeightTensor.of("reference", type, bytes, rows, cols);
        WeightTensor interleaved = WeightTensor.of("copy", type,
                MemorySegment.ofArray(bytes.toArray(ValueLayout.JAVA_BYTE)), rows, cols).interleaved();
        assertEquals(rows, interleaved.interleavedRows());
        FormatKernels k = interleaved.kernels();
        if (NativeCpuKernels.enabled()) {
            // The native kernels convert every float16 scale exactly: they keep serving this tensor.
            assertNotNull(k.allTokens());
        } else {
            assertNull(k.single());
            assertFalse(k.fuses(1));
            assertFalse(k.fuses(2));
            assertEquals(type == GgmlType.Q4_0, k.shortTiles() != null);
        }
        try (ComputePool pool = new ComputePool(2)) {
            for (int tokens : new int[] {1, 2, 3, 6, 7}) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextGaussian();
                }
                float[] out = new float[tokens * rows];
                MatMul.matmul(interleaved, x, tokens, out, pool);
                float[] expected = new float[tokens * rows];
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        expected[t * rows + r] = reference.dot(r, x, t * cols);
                    }
                }
                assertArrayEquals(WeightTensorKernelTest.bits(expected), WeightTensorKernelTest.bits(out),
                        type + ", " + tokens + " tokens");
            }
        }
    }
}
