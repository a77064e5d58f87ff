package dev.continuum.model;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** GPT-2's LayerNorm against hand-computed values and against the definition in double. */
class LayerNormTest {
    @Test
    void centresScalesAndAppliesWeightAndBias() {
        float[] x = {1, 2, 3, 4};
        float[] out = new float[6];
        // mean 2.5, variance 1.25: (x - 2.5) / sqrt(1.25) = -1.3416408, -0.4472136, 0.4472136, 1.3416408
        LayerNorm.apply(out, 1, x, 0, new float[] {1, 1, 1, 1}, new float[] {0, 0, 0, 0}, 4, 0f);
        assertArrayEquals(new float[] {0, -1.3416408f, -0.4472136f, 0.4472136f, 1.3416408f, 0}, out, 2e-7f);
        LayerNorm.apply(out, 0, x, 0, new float[] {2, 1, 0, -1}, new float[] {0.5f, 0, 1, 0}, 4, 0f);
        assertArrayEquals(new float[] {-2.1832817f, -0.4472136f, 1f, -1.3416408f}, java.util.Arrays.copyOf(out, 4),
                1e-6f);
    }

    @Test
    void epsilonKeepsAConstantRowFinite() {
        float[] x = {3, 3, 3};
        float[] out = new float[3];
        LayerNorm.apply(out, 0, x, 0, new float[] {1, 1, 1}, new float[] {0.25f, 0.5f, 0.75f}, 3, 1e-5f);
        assertArrayEquals(new float[] {0.25f, 0.5f, 0.75f}, out);
    }

    @Test
    void matchesTheDefinitionInDouble() {
        Random random = new Random(11);
        int n = 768;
        float[] x = new float[n];
        float[] w = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (3 + random.nextGaussian() * 5);
            w[i] = (float) (1 + random.nextGaussian() * 0.1);
            b[i] = (float) (random.nextGaussian() * 0.1);
        }
        double mean = 0;
        for (float v : x) {
            mean += v;
        }
        mean /= n;
        double var = 0;
        for (float v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= n;
        float[] out = x.clone();
        LayerNorm.apply(out, 0, out, 0, w, b, n, 1e-5f); // in place, as the pass may
        for (int i = 0; i < n; i++) {
            double expected = (x[i] - mean) / Math.sqrt(var + 1e-5) * w[i] + b[i];
            assertEquals(expected, out[i], 1e-6 * Math.max(1, Math.abs(expected)), "element " + i);
        }
    }
}
