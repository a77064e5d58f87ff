package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GELU kernel: its scalar form against GELU's tanh definition in double, and its vector code against the
 * scalar path (what a JVM without the Vector API runs) bit for bit, at whatever width the gate runs.
 */
class GeluKernelTest {
    /**
     * GELU's tanh form in double, as Gemma and GPT-2 define it, {@code x/2 (1 + tanh(y))}, written as the equal
     * {@code x / (1 + e^(-2y))}: in the first form {@code 1 + tanh(y)} cancels to 0 in double below x = -9.
     */
    private static double geluTanh(double x) {
        double y = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
        return x / (1 + Math.exp(-2 * y));
    }

    @Test
    void theScalarFormIsGelusTanhDefinition() {
        double worst = 0;
        for (int i = -200_000; i <= 200_000; i++) {
            float x = i * 1e-4f; // -20 .. 20
            double expected = geluTanh(x);
            double error = Math.abs(GeluKernel.gelu(x) - expected);
            // A few float roundings, relative, and those of the exponent's argument z = 2y: e^z moves by z times
            // z's relative error, which is what float can do for large |x|; 1e-30 where GELU underflows to 0.
            double z = Math.abs(2 * Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x));
            double allowed = Math.max(Math.abs(expected), 1e-30) * 0x1p-21 * (2 + z);
            assertTrue(error <= allowed, "gelu(" + x + ") = " + GeluKernel.gelu(x) + ", not " + expected);
            worst = Math.max(worst, error / Math.ulp((float) Math.max(Math.abs(expected), 1e-30)));
        }
        assertTrue(worst > 0, "not a single rounding: the comparison is not comparing");
        assertEquals(0f, GeluKernel.gelu(0f));
        assertEquals(100f, GeluKernel.gelu(100f));
        assertEquals(-0f, GeluKernel.gelu(-100f), 1e-30f);
    }

    @Test
    void vectorGatesAreTheScalarOnesBitForBit() {
        org.junit.jupiter.api.Assumptions.assumeTrue(VectorSupport.enabled(),
                "the vector kernels are off in this JVM: there is nothing to compare the scalar path with");
        int lanes = VectorSupport.floatLanes();
        assertEquals(lanes, GeluKernel.Vectorized.F.length());
        Random random = new Random(7);
        for (int n : new int[] {1, lanes - 1, lanes, 5 * lanes + 2, 1000}) {
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                // Wide enough that some gates saturate at both ends (exp's cut-off and clamp).
                g[i] = (float) (random.nextGaussian() * 30);
            }
            float[] u = new float[n];
            for (int i = 0; i < n; i++) {
                u[i] = (float) random.nextGaussian();
            }
            float[] vector = g.clone();
            float[] scalar = g.clone();
            GeluKernel.Vectorized.geluTimes(vector, u, n);
            GeluKernel.geluTimesScalar(scalar, u, 0, n);
            assertArrayEquals(bits(scalar), bits(vector), n + " gates");
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(GeluKernel.gelu(g[i]) * u[i]), Float.floatToRawIntBits(scalar[i]));
            }
        }
    }

    /** GPT-2's ungated activation is the gate's GELU with nothing to multiply: the same bits, vector and scalar. */
    @Test
    void theUngatedActivationIsGeluItself() {
        Random random = new Random(11);
        for (int n : new int[] {1, 17, 1000}) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = (float) (random.nextGaussian() * (i % 7 == 0 ? 30 : 3));
            }
            float[] out = a.clone();
            GeluKernel.apply(out, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(GeluKernel.gelu(a[i])), Float.floatToRawIntBits(out[i]), "x " + a[i]);
            }
        }
        assertEquals(0.841192f, GeluKernel.gelu(1f), 1e-6f); // gelu_new(1) = 0.8411919906
        assertEquals(-0.158808f, GeluKernel.gelu(-1f), 1e-6f);
        assertEquals(1.954597f, GeluKernel.gelu(2f), 1e-6f); // 1.9545976940
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }
}
