package dev.continuum.quantize;

import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightEncoder;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every encoder on edge rows of 256 values (all zero, one huge value, negative only, constant, a spread, values
 * below GROUP_MAX_EPS) against the bytes ggml_quantize_chunk gives for them
 * (reference/quantize/edge-blocks.tsv; its README gives the program that made it).
 */
class EdgeBlocksTest {
    private static final List<String> CASES = List.of("all-zero", "one-huge", "negative-only", "constant", "spread", "tiny");

    /** The rows of the reference program (reference/quantize/README.md), in the same float arithmetic. */
    static float[] row(String name) {
        int c = CASES.indexOf(name);
        float[] x = new float[256];
        for (int i = 0; i < 256; i++) {
            x[i] = switch (c) {
                case 0 -> 0.0f;
                case 1 -> i == 7 ? 1000.0f : 0.001f * (float) ((i % 17) - 8);
                case 2 -> -(float) (i + 1) / 256.0f;
                case 3 -> 0.5f;
                case 4 -> (float) ((i * 7919 + 13) % 1000) / 1000.0f - 0.5f;
                case 5 -> 1e-16f * (float) (i % 5);
                default -> throw new IllegalArgumentException(name);
            };
        }
        return x;
    }

    @Test
    void everyEncoderMatchesGgmlOnEdgeRows() throws IOException {
        int checked = 0;
        for (String line : reference()) {
            String[] f = line.split("\t");
            GgmlType type = GgmlType.valueOf(f[0].toUpperCase(Locale.ROOT));
            byte[] expected = HexFormat.of().parseHex(f[2]);
            byte[] actual = new byte[(int) type.bytesFor(256)];
            BlockEncoder.of(type).encodeRow(row(f[1]), 0, 256, actual, 0);
            assertEquals(HexFormat.of().formatHex(expected), HexFormat.of().formatHex(actual), f[0] + " " + f[1]);
            checked++;
        }
        assertEquals(11 * CASES.size(), checked);
    }

    /** WeightEncoder, which the dummy models and kernels' tests use, writes Q8_0 and Q4_0 as these encoders do. */
    @Test
    void weightEncoderAgreesForItsTypes() throws IOException {
        for (String line : reference()) {
            String[] f = line.split("\t");
            GgmlType type = GgmlType.valueOf(f[0].toUpperCase(Locale.ROOT));
            if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0) {
                continue;
            }
            byte[] actual = new byte[(int) type.bytesFor(256)];
            WeightEncoder.encode(type, row(f[1]), 0, 256, MemorySegment.ofArray(actual), 0);
            assertArrayEquals(HexFormat.of().parseHex(f[2]), actual, f[0] + " " + f[1]);
        }
    }

    /** The float just below 0.5 rounds to 0 as C's roundf does, where floor(v + 0.5f) would give 1. */
    @Test
    void q8RoundsTheFloatBelowAHalfDown() {
        float below = Math.nextDown(0.5f);
        assertEquals(0, Q8_0Encoder.roundHalfAway(below));
        assertEquals(0, Q8_0Encoder.roundHalfAway(-below));
        assertEquals(1, Q8_0Encoder.roundHalfAway(0.5f));
        assertEquals(-3, Q8_0Encoder.roundHalfAway(-2.5f));
        // A block whose max is 127 maps 63.5 * (127/127) = 63.5 -> 64 and the value just below 0.5 -> 0.
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = below;
        byte[] ours = new byte[34];
        new Q8_0Encoder().encodeBlock(x, 0, ours, 0);
        byte[] theirs = new byte[34];
        WeightEncoder.encode(GgmlType.Q8_0, x, 0, 32, MemorySegment.ofArray(theirs), 0);
        assertEquals(0, ours[3]);
        assertArrayEquals(ours, theirs);
    }

    @Test
    void nearestIntRoundsHalfToEven() {
        assertEquals(2, ScaleSearch.nearestInt(2.5f));
        assertEquals(4, ScaleSearch.nearestInt(3.5f));
        assertEquals(-2, ScaleSearch.nearestInt(-2.5f));
        assertEquals(-7, ScaleSearch.nearestInt(-6.6f));
        assertEquals(4194303, ScaleSearch.nearestInt(4194303f));
    }

    private static List<String> reference() throws IOException {
        try (InputStream in = EdgeBlocksTest.class.getResourceAsStream("/reference/quantize/edge-blocks.tsv")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
