package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The tanh form of GELU, {@code gelu(x) = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, as GPT-2's MLP
 * ({@link #apply}) and Gemma's GeGLU gate ({@link #geluTimes}) define it. Since {@code (1 + tanh(y)) / 2 = 1 / (1 + e^(-2y))}, it is
 * computed as {@code x / (1 + e^(-z))} with {@code z = x (C1 + C2 x^2)}, {@code C1 = 2 sqrt(2/pi)},
 * {@code C2 = C1 * 0.044715}: one exponential ({@link ExpKernel#exp}, whose every step is an exactly specified
 * IEEE operation) instead of a tanh, and no cancellation in {@code 1 + tanh} for negative x, where GELU is tiny.
 * A JDK {@code tanh} would not do here: its vector intrinsic and fallback may differ, so scalar and vector code
 * would not agree to the bit.
 *
 * <p>llama.cpp's CPU backend (ggml-cpu.c, {@code GGML_GELU_FP16}, on by default) instead rounds x to float16 and
 * looks up a float16 table of GELU: its results carry a relative error of up to about 2^-11 from each of the two
 * roundings, which this kernel does not reproduce (the architecture tests' tolerance says what it costs).
 *
 * <p>The vector code runs only where {@link VectorSupport} says the Vector API kernels run, at its width, and
 * lives in {@link Vectorized} so that this class links on a JVM without {@code jdk.incubator.vector}; the scalar
 * path computes every element with {@link #gelu}, the very bits of a vector lane.
 */
final class GeluKernel {
    /** The gate's decision, read once: fixed for the JVM's life, the same for every kernel. */
    private static final boolean VECTOR = VectorSupport.enabled();
    /** 2 sqrt(2 / pi), rounded to float. */
    static final float C1 = 1.5957691216057308f;
    /** 2 sqrt(2 / pi) * 0.044715, rounded to float. */
    static final float C2 = 0.07135481627260025f;

    private GeluKernel() {
    }

    /** GELU's tanh form of {@code x}, the scalar twin of the vector lanes. */
    static float gelu(float x) {
        float z = x * Math.fma(x * x, C2, C1);
        return x / (1f + ExpKernel.exp(-z));
    }

    /** GPT-2's activation: {@code a[i] = gelu(a[i])} for {@code i} in {@code [0, n)}. */
    static void apply(float[] a, int n) {
        geluTimes(a, null, n);
    }

    /** GeGLU's gate: {@code g[i] = gelu(g[i]) * u[i]} for {@code i} in {@code [0, n)}; {@code u} null: times 1. */
    static void geluTimes(float[] g, float[] u, int n) {
        if (VECTOR) {
            Vectorized.geluTimes(g, u, n);
            return;
        }
        geluTimesScalar(g, u, 0, n);
    }

    /** {@link #geluTimes} for {@code i} in {@code [from, n)}, one element at a time: the vector lanes' bits. */
    static void geluTimesScalar(float[] g, float[] u, int from, int n) {
        for (int i = from; i < n; i++) {
            g[i] = u == null ? gelu(g[i]) : gelu(g[i]) * u[i];
        }
    }

    /**
     * The Vector API code, at {@link VectorSupport#floatLanes()} lanes, kept in a nested class because verifying
     * code that uses vector types loads {@code jdk.incubator.vector}: only touched when the gate is on. Each lane
     * takes {@link GeluKernel#gelu}'s steps in its order, with {@link ExpKernel#exp}'s reduction and polynomial.
     */
    static final class Vectorized {
        static final VectorSpecies<Float> F =
                VectorSpecies.of(float.class, VectorShape.forBitSize(VectorSupport.floatLanes() * Float.SIZE));

        private Vectorized() {
        }

        /** {@link GeluKernel#geluTimes} a vector at a time, the tail with {@link GeluKernel#geluTimesScalar}. */
        static void geluTimes(float[] g, float[] u, int n) {
            int i = 0;
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                FloatVector gate = FloatVector.fromArray(F, g, i);
                FloatVector negated = gate.mul(gate).fma(C2, C1).mul(gate).neg();
                FloatVector x = negated.max(ExpKernel.MIN).min(ExpKernel.MAX);
                FloatVector nf = x.mul(ExpKernel.LOG2E).add(ExpKernel.ROUNDER).sub(ExpKernel.ROUNDER);
                FloatVector r = nf.fma(FloatVector.broadcast(F, -ExpKernel.LN2_HI), x);
                r = nf.fma(FloatVector.broadcast(F, -ExpKernel.LN2_LO), r);
                FloatVector p = r.fma(FloatVector.broadcast(F, ExpKernel.P0), FloatVector.broadcast(F, ExpKernel.P1));
                p = p.fma(r, FloatVector.broadcast(F, ExpKernel.P2));
                p = p.fma(r, FloatVector.broadcast(F, ExpKernel.P3));
                p = p.fma(r, FloatVector.broadcast(F, ExpKernel.P4));
                p = p.fma(r, FloatVector.broadcast(F, ExpKernel.P5));
                p = p.fma(r.mul(r), r.add(1f));
                IntVector bits = ((IntVector) nf.convert(VectorOperators.F2I, 0)).add(127)
                        .lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul(bits.reinterpretAsFloats())
                        .blend(0f, negated.compare(VectorOperators.LT, ExpKernel.MIN));
                FloatVector out = gate.div(e.add(1f));
                (u == null ? out : out.mul(FloatVector.fromArray(F, u, i))).intoArray(g, i);
            }
            geluTimesScalar(g, u, i, n);
        }
    }
}
