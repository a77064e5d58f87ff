package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp} over float arrays for softmax and SiLU, vectorized, with a scalar twin that gives the very same
 * bits for the tail: range reduction {@code x = n ln2 + r} (n rounded to nearest with the 1.5 * 2^23 trick),
 * a degree-6 polynomial for {@code e^r} evaluated with FMAs, and {@code 2^n} built in the exponent bits. Every
 * step is an exactly specified IEEE operation, so interpreted, C1 and C2 code agree to the bit, unlike the JDK's
 * vector {@code EXP}, whose intrinsic and fallback may differ. Accuracy is about 2 ulp, which is all softmax and
 * SiLU need. Inputs above 88 are clamped; below -64 the result is exactly 0: e^-64 is 1.6e-28, far below a
 * softmax sum's rounding, and smaller values would soon be multiplied into subnormal floats, each of which costs
 * a microcode assist on common CPUs (a few such scores per head made attention many times slower: PERFORMANCE.md,
 * "Kernel design choices measured").
 *
 * <p>The vector code runs only where {@link VectorSupport} says the Vector API kernels run, at its width, and
 * lives in {@link Vectorized} so that this class links on a JVM without {@code jdk.incubator.vector}; the scalar
 * path computes every element with {@link #exp}, the very bits of a vector lane.
 */
public final class ExpKernel {
    /** The gate's decision, read once: fixed for the JVM's life, the same for every kernel. */
    private static final boolean VECTOR = VectorSupport.enabled();
    // Package-private so that GeluKernel's vector lanes compute this very exp, bit for bit.
    static final float MIN = -64f;
    static final float MAX = 88f;
    static final float LOG2E = 1.44269504088896341f;
    static final float ROUNDER = 0x1.8p23f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float P0 = 1.9875691500e-4f;
    static final float P1 = 1.3981999507e-3f;
    static final float P2 = 8.3334519073e-3f;
    static final float P3 = 4.1665795894e-2f;
    static final float P4 = 1.6666665459e-1f;
    static final float P5 = 5.0000001201e-1f;

    private ExpKernel() {
    }

    /** {@code e^x}, the scalar twin of the vector lanes. */
    static float exp(float x) {
        if (x < MIN) {
            return 0f;
        }
        x = Math.min(x, MAX);
        float n = (x * LOG2E + ROUNDER) - ROUNDER;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(P0, r, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = Math.fma(p, r * r, r + 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /**
     * {@code a[o + i] = e^(a[o + i] - shift)} for {@code i} in {@code [0, n)}; returns their sum. The vector path
     * accumulates it lane-wise over whole vectors and then adds the lanes and the tail in order; the scalar path
     * adds the elements in order. Either order is fixed, so the sum depends only on the row (not on the batch),
     * and the elements themselves are the same bits on both paths; the sums may differ in their last bits.
     */
    static float expShifted(float[] a, int o, int n, float shift) {
        if (VECTOR) {
            return Vectorized.expShifted(a, o, n, shift);
        }
        return expShiftedScalar(a, o, n, shift);
    }

    /**
     * The sum of {@code e^(a[o + i] - shift)} for {@code i} in {@code [0, n)}, in double, leaving {@code a} as it
     * is: a log-softmax's normaliser. Each exponential is {@link #exp}'s float; the vector path adds them lane-wise
     * in doubles (see {@link Vectorized#sumExpShifted}), the scalar path in order, so the two may differ in their
     * last bits; each is fixed for a row. Public for {@code dev.continuum.sampling.Logprobs}.
     */
    public static double sumExpShifted(float[] a, int o, int n, float shift) {
        if (VECTOR) {
            return Vectorized.sumExpShifted(a, o, n, shift);
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += exp(a[o + i] - shift);
        }
        return total;
    }

    /** The largest of {@code a[o..o+n)} (NaN if any is NaN, as {@link Math#max}). */
    public static float max(float[] a, int o, int n) {
        if (VECTOR) {
            return Vectorized.max(a, o, n);
        }
        float result = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            result = Math.max(result, a[o + i]);
        }
        return result;
    }

    /** {@link #expShifted} one element at a time. */
    static float expShiftedScalar(float[] a, int o, int n, float shift) {
        float total = 0f;
        for (int i = 0; i < n; i++) {
            a[o + i] = exp(a[o + i] - shift);
            total += a[o + i];
        }
        return total;
    }

    /** SwiGLU's gate: {@code g[i] = silu(g[i]) * u[i]} for {@code i} in {@code [0, n)}, silu(x) = x / (1 + e^-x). */
    static void siluTimes(float[] g, float[] u, int n) {
        if (VECTOR) {
            Vectorized.siluTimes(g, u, n);
            return;
        }
        siluTimesScalar(g, u, 0, n);
    }

    /** {@link #siluTimes} for {@code i} in {@code [from, n)}, one element at a time: the vector lanes' bits. */
    static void siluTimesScalar(float[] g, float[] u, int from, int n) {
        for (int i = from; i < n; i++) {
            g[i] = g[i] / (1f + exp(-g[i])) * u[i];
        }
    }

    /**
     * The Vector API code, at {@link VectorSupport#floatLanes()} lanes, kept in a nested class because verifying
     * code that uses vector types loads {@code jdk.incubator.vector}: only touched when the gate is on. Only
     * scalars and arrays cross its methods' boundaries, so no vector is ever boxed. That is why each method spells
     * the polynomial out: a shared helper taking a vector, once C2 had compiled it on its own, was called instead
     * of inlined ("already compiled into a big method"), and every operation in it ran the Vector API's Java
     * fallback, allocating on every call (seen in about one JVM of four that warmed several models in turn). For
     * the same reason a vector carried round a loop is an argument, never the receiver ({@code sum = e.add(sum)}):
     * C2 parses the loop with only its declared type and binds the call by the shared type profile, which is not
     * always usable (the pom's note by SteadyStateAllocationTest).
     */
    static final class Vectorized {
        static final VectorSpecies<Float> F =
                VectorSpecies.of(float.class, VectorShape.forBitSize(VectorSupport.floatLanes() * Float.SIZE));
        /** Doubles in a vector of F's width: half as many lanes, each float vector's halves in turn. */
        static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());

        private Vectorized() {
        }

        /** {@link ExpKernel#expShifted} a vector at a time, the tail with {@link ExpKernel#exp}. */
        static float expShifted(float[] a, int o, int n, float shift) {
            int i = 0;
            int bound = F.loopBound(n);
            FloatVector sum = FloatVector.zero(F);
            for (; i < bound; i += F.length()) {
                FloatVector shifted = FloatVector.fromArray(F, a, o + i).sub(shift);
                FloatVector x = shifted.max(MIN).min(MAX);
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
                FloatVector e = p.mul(bits.reinterpretAsFloats())
                        .blend(0f, shifted.compare(VectorOperators.LT, MIN));
                e.intoArray(a, o + i);
                sum = e.add(sum);
            }
            float total = 0f;
            for (int lane = 0; lane < F.length(); lane++) {
                total += sum.lane(lane);
            }
            for (; i < n; i++) {
                a[o + i] = exp(a[o + i] - shift);
                total += a[o + i];
            }
            return total;
        }

        /**
         * {@link ExpKernel#sumExpShifted} a vector at a time: each vector's exponentials widened to doubles (its
         * lower and upper halves) and added lane-wise into two double accumulators; then the lower accumulator's
         * lanes, the upper's, and the tail, in order.
         */
        static double sumExpShifted(float[] a, int o, int n, float shift) {
            int i = 0;
            int bound = F.loopBound(n);
            DoubleVector low = DoubleVector.zero(D);
            DoubleVector high = DoubleVector.zero(D);
            for (; i < bound; i += F.length()) {
                FloatVector shifted = FloatVector.fromArray(F, a, o + i).sub(shift);
                FloatVector x = shifted.max(MIN).min(MAX);
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
                FloatVector e = p.mul(bits.reinterpretAsFloats())
                        .blend(0f, shifted.compare(VectorOperators.LT, MIN));
                low = ((DoubleVector) e.convertShape(VectorOperators.F2D, D, 0)).add(low);
                high = ((DoubleVector) e.convertShape(VectorOperators.F2D, D, 1)).add(high);
            }
            double total = 0;
            for (int lane = 0; lane < D.length(); lane++) {
                total += low.lane(lane);
            }
            for (int lane = 0; lane < D.length(); lane++) {
                total += high.lane(lane);
            }
            for (; i < n; i++) {
                total += exp(a[o + i] - shift);
            }
            return total;
        }

        /**
         * The largest of {@code a[o..o+n)}: lane-wise in four accumulators over groups of four vectors (one
         * accumulator's chain of Java-semantics maxima, several instructions each, took 7 us per 32 000 logits),
         * then single vectors, the accumulators, the lanes and the tail. Maximum is exact in any order.
         */
        static float max(float[] a, int o, int n) {
            int i = 0;
            int step = F.length();
            int bound = F.loopBound(n);
            FloatVector m0 = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            FloatVector m1 = m0;
            FloatVector m2 = m0;
            FloatVector m3 = m0;
            for (; i + 4 * step <= bound; i += 4 * step) {
                m0 = FloatVector.fromArray(F, a, o + i).max(m0);
                m1 = FloatVector.fromArray(F, a, o + i + step).max(m1);
                m2 = FloatVector.fromArray(F, a, o + i + 2 * step).max(m2);
                m3 = FloatVector.fromArray(F, a, o + i + 3 * step).max(m3);
            }
            for (; i < bound; i += step) {
                m0 = FloatVector.fromArray(F, a, o + i).max(m0);
            }
            float result = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
            for (; i < n; i++) {
                result = Math.max(result, a[o + i]);
            }
            return result;
        }

        /** {@link ExpKernel#siluTimes} a vector at a time, the tail with {@link ExpKernel#siluTimesScalar}. */
        static void siluTimes(float[] g, float[] u, int n) {
            int i = 0;
            int bound = F.loopBound(n);
            for (; i < bound; i += F.length()) {
                FloatVector gate = FloatVector.fromArray(F, g, i);
                FloatVector negated = gate.neg();
                FloatVector x = negated.max(MIN).min(MAX);
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
                FloatVector e = p.mul(bits.reinterpretAsFloats()).blend(0f, negated.compare(VectorOperators.LT, MIN));
                gate.div(e.add(1f)).mul(FloatVector.fromArray(F, u, i)).intoArray(g, i);
            }
            siluTimesScalar(g, u, i, n);
        }
    }
}
