package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import static dev.continuum.model.ExpKernel.LN2_HI;
import static dev.continuum.model.ExpKernel.LN2_LO;
import static dev.continuum.model.ExpKernel.LOG2E;
import static dev.continuum.model.ExpKernel.MAX;
import static dev.continuum.model.ExpKernel.MIN;
import static dev.continuum.model.ExpKernel.P0;
import static dev.continuum.model.ExpKernel.P1;
import static dev.continuum.model.ExpKernel.P2;
import static dev.continuum.model.ExpKernel.P3;
import static dev.continuum.model.ExpKernel.P4;
import static dev.continuum.model.ExpKernel.P5;
import static dev.continuum.model.ExpKernel.ROUNDER;

/**
 * The tanh approximation of GELU over float arrays (GPT-2's feed-forward activation), vectorized, with a scalar
 * twin that gives the very same bits:
 * <pre>
 *   gelu(x) = 0.5 x (1 + tanh(u)),   u = sqrt(2/pi) (x + 0.044715 x^3)
 *           = x / (1 + e^(-2u))       since (1 + tanh(u)) / 2 = sigmoid(2u)
 * </pre>
 * computed as {@code x / (1 + exp(K x (1 + A x^2)))} with {@code K = -2 sqrt(2/pi)}, {@code A = 0.044715} and
 * {@link ExpKernel#exp}: the sigmoid form has no cancellation for negative {@code x}, where {@code 1 + tanh(u)}
 * loses digits. For {@code x <= -10} the result is 0 (it is below 1e-22), as ggml's CPU GELU does; from there
 * up the exponent stays below {@link ExpKernel}'s clamp at 88.
 *
 * <p>ggml's CPU backend (c392e509, {@code GGML_GELU_FP16}) instead rounds x to float16 and reads a table of
 * float16 results, so its activations carry float16 rounding (relative 2^-11); this kernel computes the float32
 * function, as ggml's CUDA backend and Hugging Face do. The difference that makes to a model's logits is stated
 * where the GPT-2 references are (src/test/resources/reference/architectures/README.md).
 *
 * <p>The vector code runs only where {@link VectorSupport} says the Vector API kernels run, at its width, in
 * {@link Vectorized} so that this class links on a JVM without {@code jdk.incubator.vector}.
 */
final class GeluKernel {
    /** The gate's decision, read once: fixed for the JVM's life, the same for every kernel. */
    private static final boolean VECTOR = VectorSupport.enabled();
    static final float A = 0.044715f;
    /** -2 sqrt(2 / pi), rounded to float. */
    static final float K = (float) (-2 * Math.sqrt(2 / Math.PI));
    /** At and below this the result is 0, as in ggml. */
    static final float ZERO_BELOW = -10f;

    private GeluKernel() {
    }

    /** gelu(x), the scalar twin of the vector lanes. */
    static float gelu(float x) {
        if (x <= ZERO_BELOW) {
            return 0f;
        }
        float inner = Math.fma(A, x * x, 1f);
        return x / (1f + ExpKernel.exp((K * x) * inner));
    }

    /** {@code a[i] = gelu(a[i])} for {@code i} in {@code [0, n)}. */
    static void apply(float[] a, int n) {
        if (VECTOR) {
            Vectorized.apply(a, n);
            return;
        }
        applyScalar(a, 0, n);
    }

    /** {@link #apply} for {@code i} in {@code [from, n)}, one element at a time: the vector lanes' bits. */
    static void applyScalar(float[] a, int from, int n) {
        for (int i = from; i < n; i++) {
            a[i] = gelu(a[i]);
        }
    }

    /**
     * The Vector API code, at {@link VectorSupport#floatLanes()} lanes, kept in a nested class because verifying
     * code that uses vector types loads {@code jdk.incubator.vector}: only touched when the gate is on. It inlines
     * {@link ExpKernel}'s steps (no vector crosses a method boundary, so none is boxed).
     */
    static final class Vectorized {
        static final VectorSpecies<Float> F =
                VectorSpecies.of(float.class, VectorShape.forBitSize(VectorSupport.floatLanes() * Float.SIZE));

        private Vectorized() {
        }

        /** {@link GeluKernel#apply} a vector at a time, the tail with {@link GeluKernel#applyScalar}. */
        static void apply(float[] a, int n) {
            int i = 0;
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, a, i);
                FloatVector inner = v.mul(v).fma(A, 1f);
                FloatVector arg = v.mul(K).mul(inner);
                FloatVector x = arg.max(MIN).min(MAX);
                FloatVector nf = x.mul(LOG2E).add(ROUNDER).sub(ROUNDER);
                FloatVector r = nf.fma(FloatVector.broadcast(F, -LN2_HI), x);
                r = nf.fma(FloatVector.broadcast(F, -LN2_LO), r);
                FloatVector p = r.fma(FloatVector.broadcast(F, P0), FloatVector.broadcast(F, P1));
                p = p.fma(r, FloatVector.broadcast(F, P2));
                p = p.fma(r, FloatVector.broadcast(F, P3));
                p = p.fma(r, FloatVector.broadcast(F, P4));
                p = p.fma(r, FloatVector.broadcast(F, P5));
                p = p.fma(r.mul(r), r.add(1f));
                IntVector bits = ((IntVector) nf.convert(VectorOperators.F2I, 0)).add(127)
                        .lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(0f, arg.compare(VectorOperators.LT, MIN));
                v.div(e.add(1f)).blend(0f, v.compare(VectorOperators.LE, ZERO_BELOW)).intoArray(a, i);
            }
            applyScalar(a, i, n);
        }
    }
}
