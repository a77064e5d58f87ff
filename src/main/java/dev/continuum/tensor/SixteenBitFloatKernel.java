package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Fused one- and two-token kernels for the 16-bit float formats (F16, BF16) in the interleaved layout: each
 * weight is widened to a float in registers on its way to the FMA, so a set's weights stream from memory once and
 * never pass through a scratch tile. The Vector API has no half-precision conversion, so a 16-bit value {@code h}
 * (sign-extended to 32 bits) becomes a float in three integer-and-float operations,
 * {@code intBitsToFloat((h << shift) & mask) * factor}:
 * <ul>
 *   <li>BF16: {@code shift = 16}, {@code mask = -1}, {@code factor = 1}: the bits are the upper half of a float.</li>
 *   <li>F16: {@code shift = 13}, {@code mask = 0x8fffffff}, {@code factor = 2^112}. The shift puts the 5-bit
 *   exponent and 10-bit mantissa at the bottom of a float's exponent and mantissa fields; the mask keeps the sign
 *   and clears the sign-extension bits between. That float is the half's value times {@code 2^-112} exactly, for
 *   normal and subnormal halves alike (a subnormal half becomes a subnormal float), and the multiply by
 *   {@code 2^112} is exact. Infinities and NaNs come out finite and wrong, so {@link F16Tensor} uses these kernels
 *   only on weights it has checked are finite. A subnormal operand costs nothing on the AMD machines this was
 *   measured on (some Intel cores take a microcode assist for it; subnormal weights are a few per mille).</li>
 * </ul>
 * The summation order is {@link WeightTensor}'s: per tile {@code p = fma(w, x, p)} over its 32 columns, then
 * {@code out = out + p}. Only scalars and arrays cross these methods' boundaries, so no vector is ever boxed.
 */
final class SixteenBitFloatKernel {
    /** A format's conversion {@code intBitsToFloat((h << shift) & mask) * factor} (see the class comment). */
    record Widening(int shift, int mask, float factor) {
    }

    static final Widening F16 = new Widening(13, 0x8fffffff, 0x1p112f);
    static final Widening BF16 = new Widening(16, -1, 1f);

    private SixteenBitFloatKernel() {
    }

    /**
     * One token times a set of {@code 4 * lanes} rows starting at byte {@code base} ({@code tiles} tiles of
     * 32 columns, each column's rows side by side): {@code out[oo + r] = dot(row r, x[xo ..])}.
     */
    static void single(MemorySegment w, long base, int tiles, Widening widening, float[] x, int xo, float[] out,
                       int oo) {
        int shift = widening.shift();
        int mask = widening.mask();
        float factor = widening.factor();
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        VectorSpecies<Short> s16 = VectorShapes.SHORT;
        VectorSpecies<Integer> i32 = VectorShapes.INT;
        int lanes = VectorShapes.LANES;
        long columnBytes = 8L * lanes;
        long laneBytes = 2L * lanes;
        FloatVector zero = FloatVector.zero(f);
        FloatVector t0 = zero, t1 = zero, t2 = zero, t3 = zero;
        for (int b = 0; b < tiles; b++) {
            long q0 = base + b * WeightTensor.TILE * columnBytes;
            int xb = xo + b * WeightTensor.TILE;
            FloatVector p0 = zero, p1 = zero, p2 = zero, p3 = zero;
            for (int j = 0; j < WeightTensor.TILE; j++) {
                FloatVector xj = FloatVector.broadcast(f, x[xb + j]);
                long o = q0 + j * columnBytes;
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, i32, 0)).lanewise(VectorOperators.LSHL, shift)
                        .and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + 2 * laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + 3 * laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                p0 = w0.fma(xj, p0);
                p1 = w1.fma(xj, p1);
                p2 = w2.fma(xj, p2);
                p3 = w3.fma(xj, p3);
            }
            t0 = p0.add(t0);
            t1 = p1.add(t1);
            t2 = p2.add(t2);
            t3 = p3.add(t3);
        }
        t0.intoArray(out, oo);
        t1.intoArray(out, oo + lanes);
        t2.intoArray(out, oo + 2 * lanes);
        t3.intoArray(out, oo + 3 * lanes);
    }

    /**
     * Two tokens, as {@link #single}: token {@code i}'s activations start at {@code x[xo + i * xs]}, its outputs
     * at {@code out[oo + i * os]}; each widened weight vector serves both.
     */
    static void pair(MemorySegment w, long base, int tiles, Widening widening, float[] x, int xo, int xs,
                     float[] out, int oo, int os) {
        int shift = widening.shift();
        int mask = widening.mask();
        float factor = widening.factor();
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        VectorSpecies<Short> s16 = VectorShapes.SHORT;
        VectorSpecies<Integer> i32 = VectorShapes.INT;
        int lanes = VectorShapes.LANES;
        long columnBytes = 8L * lanes;
        long laneBytes = 2L * lanes;
        FloatVector zero = FloatVector.zero(f);
        FloatVector t00 = zero, t10 = zero, t20 = zero, t30 = zero;
        FloatVector t01 = zero, t11 = zero, t21 = zero, t31 = zero;
        for (int b = 0; b < tiles; b++) {
            long q0 = base + b * WeightTensor.TILE * columnBytes;
            int xa = xo + b * WeightTensor.TILE;
            int xc = xa + xs;
            FloatVector p00 = zero, p10 = zero, p20 = zero, p30 = zero;
            FloatVector p01 = zero, p11 = zero, p21 = zero, p31 = zero;
            for (int j = 0; j < WeightTensor.TILE; j++) {
                FloatVector a = FloatVector.broadcast(f, x[xa + j]);
                FloatVector c = FloatVector.broadcast(f, x[xc + j]);
                long o = q0 + j * columnBytes;
                FloatVector w0 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, i32, 0)).lanewise(VectorOperators.LSHL, shift)
                        .and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w1 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w2 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + 2 * laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                FloatVector w3 = ((IntVector) ShortVector.fromMemorySegment(s16, w, o + 3 * laneBytes,
                        ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.S2I, i32, 0))
                        .lanewise(VectorOperators.LSHL, shift).and(mask).reinterpretAsFloats().mul(factor);
                p00 = w0.fma(a, p00);
                p10 = w1.fma(a, p10);
                p20 = w2.fma(a, p20);
                p30 = w3.fma(a, p30);
                p01 = w0.fma(c, p01);
                p11 = w1.fma(c, p11);
                p21 = w2.fma(c, p21);
                p31 = w3.fma(c, p31);
            }
            t00 = p00.add(t00);
            t10 = p10.add(t10);
            t20 = p20.add(t20);
            t30 = p30.add(t30);
            t01 = p01.add(t01);
            t11 = p11.add(t11);
            t21 = p21.add(t21);
            t31 = p31.add(t31);
        }
        t00.intoArray(out, oo);
        t10.intoArray(out, oo + lanes);
        t20.intoArray(out, oo + 2 * lanes);
        t30.intoArray(out, oo + 3 * lanes);
        t01.intoArray(out, oo + os);
        t11.intoArray(out, oo + os + lanes);
        t21.intoArray(out, oo + os + 2 * lanes);
        t31.intoArray(out, oo + os + 3 * lanes);
    }
}
