package dev.continuum.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every format's element decoding and reference dot product against an independent decoding of ggml-layout test
 * data, in the file's row-major layout and in the interleaved layout the vector kernels read.
 */
class WeightTensorKernelTest {
    /**
     * Allowed |error| of a float dot product, relative to sum_j |w_j * x_j|. Rounding error of any summation
     * order is bounded by about n * 2^-24 of that sum in the worst case, but for random data it behaves like
     * sqrt(n) * 2^-24, i.e. ~3e-6 at n = 2080 (observed: well below 1e-6). A wrong element, block scale or
     * nibble moves the result by at least ~1/n of the sum, far beyond this.
     */
    static final double RELATIVE_TOLERANCE = 1e-5;

    /** One interleaved set plus a few row-major rows after it, when the vector kernels are on. */
    private static final int ROWS = Interleaving.SET_ROWS + 5;
    private static final int[] BLOCK_COLS = {32, 64, 288, 768, 2048 + 32};
    private static final int[] FLOAT_ONLY_COLS = {1, 17, 100, 15, 33};

    static Stream<Arguments> cases() {
        Stream.Builder<Arguments> cases = Stream.builder();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
                GgmlType.Q4_0}) {
            for (int cols : BLOCK_COLS) {
                cases.add(Arguments.of(type, cols));
            }
            if (type.blockSize == 1) {
                for (int cols : FLOAT_ONLY_COLS) {
                    cases.add(Arguments.of(type, cols));
                }
            }
        }
        return cases.build();
    }

    /** The cases whose rows are whole tiles, the only ones the vector kernels interleave. */
    static Stream<Arguments> wholeTileCases() {
        return cases().filter(a -> (int) a.get()[1] % WeightTensor.TILE == 0);
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void dequantizeRowMatchesReferenceDecodingExactlyInBothLayouts(GgmlType type, int cols) {
        Fixture f = new Fixture(type, ROWS, cols, 31L * type.id + cols);
        for (WeightTensor t : new WeightTensor[] {f.tensor, f.interleaved}) {
            float[] row = new float[cols + 3];
            for (int r = 0; r < ROWS; r++) {
                t.dequantizeRow(r, row, 3);
                float[] expected = Arrays.copyOfRange(f.reference, r * cols, (r + 1) * cols);
                float[] actual = Arrays.copyOfRange(row, 3, cols + 3);
                int rr = r;
                assertArrayEquals(bits(expected), bits(actual), () -> type + " row " + rr + " of " + t.interleavedRows()
                        + "-interleaved tensor differs");
            }
        }
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void dotMatchesDoublePrecisionReference(GgmlType type, int cols) {
        Fixture f = new Fixture(type, ROWS, cols, 31L * type.id + cols);
        for (int r = 0; r < ROWS; r++) {
            double[] exact = f.exactDot(r);
            float actual = f.tensor.dot(r, f.x, f.xOffset);
            if (type == GgmlType.Q4_0 || type == GgmlType.Q8_0) {
                // Q4_0 and Q8_0 multiply activations rounded to 8 bits per tile, as llama.cpp does: each x_j moves
                // by at most max|x|/254.
                double bound = f.activationQuantizationBound(r) + RELATIVE_TOLERANCE * exact[1];
                int rr = r;
                assertTrue(Math.abs(actual - exact[0]) <= bound, () -> type + " dot row " + rr + ": " + actual
                        + " vs exact " + exact[0] + " (bound " + bound + ")");
            } else {
                assertClose(exact, actual, type + " dot row " + r);
            }
        }
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void interleavedLayoutKeepsEveryDotBitForBit(GgmlType type, int cols) {
        Fixture f = new Fixture(type, ROWS, cols, 17L * type.id + cols);
        if (VectorSupport.ENABLED && cols % WeightTensor.TILE == 0) {
            assertEquals(Interleaving.SET_ROWS, f.interleaved.interleavedRows(), "one set interleaved");
        }
        for (int r = 0; r < ROWS; r++) {
            assertEquals(Float.floatToRawIntBits(f.tensor.dot(r, f.x, f.xOffset)),
                    Float.floatToRawIntBits(f.interleaved.dot(r, f.x, f.xOffset)), type + " row " + r);
        }
    }

    /**
     * The tiled path's decoding of a set's tiles (to floats, and for Q4_0 to 16-bit integers) gives each element's
     * stored value and each row's block scale exactly, in the {@code [column][row]} order the tile kernels read;
     * at 4 lanes this decodes quantized bytes with its own widening.
     */
    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("wholeTileCases")
    void decodedSetTilesHoldEveryWeightAndScaleExactly(GgmlType type, int cols) {
        Assumptions.assumeTrue(VectorSupport.ENABLED, "vector kernels off: nothing is interleaved");
        Fixture f = new Fixture(type, ROWS, cols, 13L * type.id + cols);
        WeightTensor t = f.interleaved;
        assertEquals(Interleaving.SET_ROWS, t.interleavedRows(), "one set interleaved");
        int g = Interleaving.SET_ROWS;
        float[] w = new float[g * WeightTensor.TILE];
        short[] shorts = new short[g * WeightTensor.TILE];
        float[] s = new float[g];
        for (int tile = 0; tile < cols / WeightTensor.TILE; tile++) {
            Arrays.fill(s, Float.NaN);
            t.decodeSetTile(0, tile, w, s);
            for (int r = 0; r < g; r++) {
                if (t.scaleBytes() > 0) {
                    assertEquals(Float.floatToRawIntBits(t.scale(r, tile)), Float.floatToRawIntBits(s[r]),
                            type + " scale of row " + r + ", tile " + tile);
                }
                for (int k = 0; k < WeightTensor.TILE; k++) {
                    int col = tile * WeightTensor.TILE + k;
                    assertEquals(Float.floatToRawIntBits(t.weight(r, col)), Float.floatToRawIntBits(w[k * g + r]),
                            type + " row " + r + ", column " + col);
                }
            }
            if (t.kernels().shortTiles() != null) {
                t.kernels().shortTiles().decode(0, tile, shorts, s);
                for (int r = 0; r < g; r++) {
                    for (int k = 0; k < WeightTensor.TILE; k++) {
                        assertEquals(t.weight(r, tile * WeightTensor.TILE + k), shorts[k * g + r],
                                type + " 16-bit row " + r + ", column " + (tile * WeightTensor.TILE + k));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void writeRowMajorGivesBackTheFileBytes(GgmlType type, int cols) {
        Fixture f = new Fixture(type, ROWS, cols, 5L * type.id + cols);
        byte[] restored = new byte[(int) f.interleaved.data().byteSize()];
        f.interleaved.writeRowMajor(MemorySegment.ofArray(restored));
        assertArrayEquals(f.tensor.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), restored);
    }

    @ParameterizedTest(name = "{0} x {1} cols")
    @MethodSource("cases")
    void dotIsRepeatableToTheBit(GgmlType type, int cols) {
        Fixture f = new Fixture(type, 5, cols, 31L * type.id + cols);
        float[] first = new float[5];
        for (int r = 0; r < 5; r++) {
            first[r] = f.tensor.dot(r, f.x, f.xOffset);
        }
        // Enough calls for C2 to compile the kernel: results must not change when it does.
        for (int rep = 0; rep < 2000; rep++) {
            for (int r = 0; r < 5; r++) {
                float again = f.tensor.dot(r, f.x, f.xOffset);
                if (Float.floatToRawIntBits(again) != Float.floatToRawIntBits(first[r])) {
                    throw new AssertionError(type + " row " + r + " changed from " + first[r] + " to " + again
                            + " on repetition " + rep);
                }
            }
        }
    }

    static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    private static void assertClose(double[] exact, float actual, String what) {
        double tolerance = RELATIVE_TOLERANCE * exact[1] + Float.MIN_NORMAL;
        assertTrue(Math.abs(actual - exact[0]) <= tolerance,
                () -> what + ": " + actual + " vs exact " + exact[0] + " (tolerance " + tolerance + ")");
    }

    /**
     * A seeded random tensor of one type and shape, twice: as stored ({@code tensor}) and repacked for the vector
     * kernels ({@code interleaved}, its own copy of the bytes); the reference decoding; an activation vector.
     */
    static final class Fixture {
        final WeightTensor tensor;
        final WeightTensor interleaved;
        final float[] reference;
        final float[] x;
        final int xOffset = 7;
        final int cols;

        Fixture(GgmlType type, int rows, int cols, long seed) {
            Random random = new Random(seed);
            this.cols = cols;
            float[] values = new float[rows * cols];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * 0.05);
            }
            if (type == GgmlType.F16 || type == GgmlType.BF16 || type == GgmlType.F32) {
                sprinkleEdgeValues(values, random);
            }
            MemorySegment segment = GgmlTestEncoding.encode(type, values);
            this.tensor = WeightTensor.of("test", type, segment, rows, cols);
            this.interleaved = WeightTensor.of("copy", type, GgmlTestEncoding.encode(type, values), rows, cols)
                    .interleaved();
            this.reference = GgmlTestEncoding.decode(type, segment, values.length);
            this.x = new float[xOffset + cols + 5];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (random.nextGaussian());
            }
        }

        /** Zeros, negative zeros and F16 subnormals, which take separate paths through half conversion. */
        private static void sprinkleEdgeValues(float[] values, Random random) {
            for (int i = 0; i < values.length; i += 1 + random.nextInt(9)) {
                values[i] = switch (random.nextInt(4)) {
                    case 0 -> 0f;
                    case 1 -> -0f;
                    case 2 -> (float) (random.nextGaussian() * 3e-6);
                    default -> (float) (random.nextGaussian() * 1e-7);
                };
            }
        }

        /** Largest change of row {@code row}'s dot from rounding x to 8 bits per tile: sum_j |w_j| * max|x|_tile / 254. */
        double activationQuantizationBound(int row) {
            double bound = 0;
            for (int t = 0; t < cols / 32; t++) {
                double amax = 0;
                for (int j = t * 32; j < (t + 1) * 32; j++) {
                    amax = Math.max(amax, Math.abs(x[xOffset + j]));
                }
                for (int j = t * 32; j < (t + 1) * 32; j++) {
                    bound += Math.abs(reference[row * cols + j]) * amax / 254 * 1.0001;
                }
            }
            return bound;
        }

        /** {exact dot product, sum of |w_j * x_j|} in double precision over the reference decoding. */
        double[] exactDot(int row) {
            double sum = 0;
            double magnitude = 0;
            for (int j = 0; j < cols; j++) {
                double p = (double) reference[row * cols + j] * x[xOffset + j];
                sum += p;
                magnitude += Math.abs(p);
            }
            return new double[] {sum, magnitude};
        }
    }
}
