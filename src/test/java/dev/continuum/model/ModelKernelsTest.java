package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Attention's and the exp kernel's vector code against their scalar paths (what a JVM without the Vector API
 * runs), bit for bit, at whatever width the gate runs (the build runs this at the preferred width and again at
 * 128 bits): every score, value sum, exponential and SiLU output, and the softmax sum in its documented order.
 */
class ModelKernelsTest {
    private static int lanes;

    @BeforeAll
    static void vectorKernelsRun() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.enabled(),
                "the vector kernels are off in this JVM: there is nothing to compare the scalar path with");
        lanes = VectorSupport.floatLanes();
    }

    @Test
    void theModelsKernelsRunAtTheGatesWidth() {
        assertEquals(lanes, Attention.Vectorized.S.length());
        assertEquals(lanes, ExpKernel.Vectorized.F.length());
    }

    @Test
    void blockScoresAreTheScalarScoresBitForBit() {
        Random random = new Random(3);
        for (int headDim : new int[] {64, 48, 17, 6, 3, 1}) {
            for (int blockSize : new int[] {lanes, 16, 32, 64}) {
                float[] q = gaussian(random, 5 + headDim);
                float[] keys = gaussian(random, headDim * blockSize);
                float[] vector = new float[3 + blockSize];
                float[] scalar = new float[3 + blockSize];
                Attention.Vectorized.scoreBlock(q, 5, keys, headDim, blockSize, 0.125f, vector, 3);
                Attention.scoreBlockScalar(q, 5, keys, headDim, blockSize, 0.125f, scalar, 3);
                assertArrayEquals(bits(scalar), bits(vector), "head " + headDim + ", block " + blockSize);
            }
        }
    }

    @Test
    void valueSumsAreTheScalarSumsBitForBit() {
        Random random = new Random(4);
        for (int headDim : new int[] {128, 64, 4 * lanes + 3, lanes + 1, 6, 1}) {
            for (int count : new int[] {1, 7, 16, 32}) {
                float[] p = gaussian(random, 2 + count);
                float[] values = gaussian(random, count * headDim);
                float[] start = gaussian(random, 9 + headDim);
                float[] vector = start.clone();
                float[] scalar = start.clone();
                Attention.Vectorized.accumulateValues(p, 2, count, values, headDim, vector, 9);
                Attention.accumulateValuesScalar(p, 2, count, values, headDim, scalar, 9, 0);
                assertArrayEquals(bits(scalar), bits(vector), "head " + headDim + ", " + count + " positions");
            }
        }
    }

    @Test
    void headsSideBySideSumTheirValuesAsEachHeadAloneBitForBit() {
        Random random = new Random(5);
        for (int spread : new int[] {2, 4}) {
            if (lanes % spread != 0 || lanes / spread < 1) {
                continue;
            }
            int headDim = lanes / spread;
            assertEquals(spread, Attention.headsPerVector(headDim, spread * 3), "head " + headDim);
            for (int count : new int[] {1, 5, 16}) {
                int stride = count + 7;
                float[] p = gaussian(random, 3 + spread * stride);
                float[] values = java.util.Arrays.copyOf(gaussian(random, count * headDim), count * headDim + lanes);
                float[] start = gaussian(random, 4 + spread * headDim);
                float[] vector = start.clone();
                float[] scalar = start.clone();
                Attention.Vectorized.accumulateSpreadValues(p, 3, stride, count, values, headDim, spread, vector, 4);
                for (int k = 0; k < spread; k++) {
                    Attention.accumulateValuesScalar(p, 3 + k * stride, count, values, headDim, scalar,
                            4 + k * headDim, 0);
                }
                assertArrayEquals(bits(scalar), bits(vector), spread + " heads of " + headDim + ", " + count
                        + " positions");
            }
        }
        assertEquals(1, Attention.headsPerVector(lanes, 2), "a head as wide as a vector takes its own path");
        assertEquals(1, Attention.headsPerVector(lanes / 2, 3), "a group of 3 cannot fill vectors of 2 heads");
    }

    @Test
    void normalisersSumTheScalarExponentialsInTheirFixedOrderAndMaximaAreExact() {
        Random random = new Random(15);
        int doubleLanes = lanes / 2;
        for (int n : new int[] {0, 1, 5, lanes, 3 * lanes + 3, 100, 1000, 32000}) {
            float[] a = new float[4 + n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (random.nextGaussian() * 20);
            }
            float[] before = a.clone();
            float shift = 20f;
            double vectorSum = ExpKernel.Vectorized.sumExpShifted(a, 4, n, shift);
            assertArrayEquals(bits(before), bits(a), "the row is left as it was");
            // The documented order: per whole vector, lanes [0, lanes/2) into one double accumulator and the
            // rest into the other; then the first accumulator's lanes, the second's, and the tail.
            double[] low = new double[doubleLanes];
            double[] high = new double[doubleLanes];
            int whole = n / lanes * lanes;
            for (int i = 0; i < whole; i++) {
                int lane = i % lanes;
                double e = ExpKernel.exp(a[4 + i] - shift);
                if (lane < doubleLanes) {
                    low[lane] += e;
                } else {
                    high[lane - doubleLanes] += e;
                }
            }
            double expected = 0;
            for (double v : low) {
                expected += v;
            }
            for (double v : high) {
                expected += v;
            }
            for (int i = whole; i < n; i++) {
                expected += ExpKernel.exp(a[4 + i] - shift);
            }
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(vectorSum), n + " logits");
            double scalarSum = 0;
            for (int i = 0; i < n; i++) {
                scalarSum += ExpKernel.exp(a[4 + i] - shift);
            }
            assertEquals(scalarSum, vectorSum, 1e-12 * Math.max(1, scalarSum), n + " logits, in order");

            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, a[4 + i]);
            }
            assertEquals(Float.floatToRawIntBits(max), Float.floatToRawIntBits(ExpKernel.Vectorized.max(a, 4, n)));
        }
        float[] withNaN = new float[3 * lanes];
        withNaN[lanes + 1] = Float.NaN;
        assertEquals(Float.NaN, ExpKernel.Vectorized.max(withNaN, 0, withNaN.length), "a NaN anywhere is the max");
    }

    @Test
    void softmaxExponentialsAreTheScalarOnesBitForBitAndSumInTheirFixedOrder() {
        Random random = new Random(5);
        for (int n : new int[] {0, 1, 5, lanes, 3 * lanes + 3, 100, 1000}) {
            float[] a = new float[4 + n];
            for (int i = 0; i < a.length; i++) {
                // Scores spread wide enough that some fall below the cut-off at -64 after the shift.
                a[i] = (float) (random.nextGaussian() * 20);
            }
            float shift = 20f;
            float[] vector = a.clone();
            float[] scalar = a.clone();
            float vectorSum = ExpKernel.Vectorized.expShifted(vector, 4, n, shift);
            float scalarSum = ExpKernel.expShiftedScalar(scalar, 4, n, shift);
            assertArrayEquals(bits(scalar), bits(vector), n + " scores");
            // The vector path's order: lane-wise over whole vectors, then the lanes, then the tail, in order.
            float[] laneSums = new float[lanes];
            int whole = n / lanes * lanes;
            for (int i = 0; i < whole; i++) {
                laneSums[i % lanes] += scalar[4 + i];
            }
            float expected = 0f;
            for (float s : laneSums) {
                expected += s;
            }
            for (int i = whole; i < n; i++) {
                expected += scalar[4 + i];
            }
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(vectorSum), n + " scores' sum");
            assertEquals(scalarSum, vectorSum, 1e-5f * Math.max(1f, scalarSum), n + " scores' scalar sum");
        }
    }

    @Test
    void siluGatesAreTheScalarOnesBitForBit() {
        Random random = new Random(6);
        for (int n : new int[] {1, lanes - 1, lanes, 5 * lanes + 2, 1000}) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = (float) (random.nextGaussian() * 40);
            }
            float[] u = gaussian(random, n);
            float[] vector = g.clone();
            float[] scalar = g.clone();
            ExpKernel.Vectorized.siluTimes(vector, u, n);
            ExpKernel.siluTimesScalar(scalar, u, 0, n);
            assertArrayEquals(bits(scalar), bits(vector), n + " gates");
        }
    }

    private static float[] gaussian(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextGaussian();
        }
        return a;
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
