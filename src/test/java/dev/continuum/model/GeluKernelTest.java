package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The tanh-GELU kernel: its scalar function against the published definition in double, and its vector code
 * against the scalar twin bit for bit at whatever width the gate runs.
 */
class GeluKernelTest {
    /** {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))} in double: the definition, as Hugging Face's gelu_new. */
    private static double reference(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    @Test
    void theScalarFunctionIsTheDefinitionToAboutTenUlps() {
        double worst = 0;
        for (int i = -100_000; i <= 100_000; i++) {
            float x = i / 10_000f; // [-10, 10]
            double expected = reference(x);
            double err = Math.abs(GeluKernel.gelu(x) - expected);
            // Relative where the value is large; absolute (against the float ulp of 1) near GELU's zero crossings.
            worst = Math.max(worst, err / Math.max(Math.abs(expected), 1e-3));
        }
        // Measured 1.2e-6 (10 ulps), at strongly negative x: there the exponent is about 30, and its own float
        // rounding (30 x 2^-24) is the exponential's relative error; exp itself adds about 2 ulps.
        assertEquals(0, worst, 2e-6, "relative error " + worst);
    }

    @Test
    void exactValuesAtKnownPoints() {
        assertEquals(0f, GeluKernel.gelu(0f));
        assertEquals(0f, GeluKernel.gelu(-10f));
        assertEquals(0f, GeluKernel.gelu(-1e30f));
        assertEquals(10f, GeluKernel.gelu(10f));
        assertEquals(1e30f, GeluKernel.gelu(1e30f));
        assertEquals(0.841192f, GeluKernel.gelu(1f), 1e-6f); // gelu_new(1) = 0.8411919906
        assertEquals(-0.158808f, GeluKernel.gelu(-1f), 1e-6f);
        assertEquals(1.954597f, GeluKernel.gelu(2f), 1e-6f); // 1.9545976940
    }

    @Test
    void vectorLanesAreTheScalarOnesBitForBit() {
        assumeTrue(VectorSupport.enabled(), "the vector kernels are off in this JVM: nothing to compare with");
        int lanes = VectorSupport.floatLanes();
        assertEquals(lanes, GeluKernel.Vectorized.F.length());
        Random random = new Random(7);
        for (int n : new int[] {1, lanes - 1, lanes, 5 * lanes + 2, 1000, 4096}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                // Mostly the activations' range, some beyond the cut-offs at -10 and 10.
                a[i] = (float) (random.nextGaussian() * (i % 7 == 0 ? 30 : 3));
            }
            float[] vector = a.clone();
            float[] scalar = a.clone();
            GeluKernel.Vectorized.apply(vector, n);
            GeluKernel.applyScalar(scalar, 0, n);
            assertArrayEquals(bits(scalar), bits(vector), n + " activations");
        }
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
