package dev.continuum.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The activation quantizer gives the same bits on its vector path as in scalar code, and keeps its three copies of
 * the values (floats, shorts, bytes) equal: the kernels reading each copy must multiply the same numbers.
 */
class QuantizedActivationsTest {
    @Test
    void everyCopyHoldsTheScalarQuantizationExactly() {
        Random random = new Random(3);
        int tokens = 5;
        int cols = 256;
        float[] x = new float[tokens * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        x[40] = -1e6f; // one huge element: the rest of its tile rounds to 0
        java.util.Arrays.fill(x, 64, 96, 0f); // an all-zero tile: scale 0, values 0
        QuantizedActivations qa = new QuantizedActivations();
        qa.quantize(x, tokens, cols);
        int n = tokens * cols;
        float[] values = new float[n];
        short[] shorts = new short[n];
        float[] scales = new float[n / WeightTensor.TILE];
        int[] sums = new int[n / WeightTensor.TILE];
        for (int t = 0; t < n / WeightTensor.TILE; t++) {
            QuantizedActivations.quantizeTile(x, t * WeightTensor.TILE, values, shorts, scales, sums, t);
        }
        assertArrayEquals(WeightTensorKernelTest.bits(values),
                WeightTensorKernelTest.bits(java.util.Arrays.copyOf(qa.values, n)), "values");
        assertArrayEquals(shorts, java.util.Arrays.copyOf(qa.shorts, n), "shorts");
        assertArrayEquals(WeightTensorKernelTest.bits(scales),
                WeightTensorKernelTest.bits(java.util.Arrays.copyOf(qa.scales, scales.length)), "scales");
        assertArrayEquals(sums, java.util.Arrays.copyOf(qa.sums, sums.length), "sums");
        for (int i = 0; i < n; i++) {
            assertEquals(shorts[i], qa.bytes[i], "byte " + i);
        }
        assertEquals(-127, qa.bytes[40]);
        assertEquals(0, qa.bytes[41]);
    }
}
