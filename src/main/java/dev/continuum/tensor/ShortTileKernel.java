package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The tiled multiply for weights and activations that are both small integers (Q4_0's {@code nibble - 8} times
 * 8-bit quantized activations): one tile of 32 columns of a set of rows, as 16-bit weights ({@code w}: row
 * {@code r}, column {@code k} at {@code k * SET_ROWS + r}), times eight tokens, in 16-bit lanes: twice the lanes
 * of a float FMA, and a multiply and an add that issue side by side. A tile's products are at most
 * {@code 32 * 8 * 127 = 32512} in magnitude, so the 16-bit sums are exact; they widen once per tile, and each
 * output becomes {@code fma(sum, d * dx, out)}, the same bits as the float path and the scalar reference.
 */
final class ShortTileKernel {
    static final int TOKENS = 8;

    private ShortTileKernel() {
    }

    /**
     * Eight tokens: token {@code i}'s quantized activations start at {@code xq[xo + i * xs]} (the tile's first
     * column), its tile scale is {@code dx[dxo + i * dxs]}, its outputs for the set's first row are at
     * {@code out[oo + i * os]}; {@code s} holds the rows' block scales; {@code sums} is scratch.
     */
    static void eight(short[] w, float[] s, short[] xq, int xo, int xs, float[] dx, int dxo, int dxs, float[] out,
                      int oo, int os, short[] sums) {
        VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
        int half = s16.length();
        int rows = 2 * half;
        ShortVector zero = ShortVector.zero(s16);
        ShortVector a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
        ShortVector a40 = zero, a41 = zero, a50 = zero, a51 = zero, a60 = zero, a61 = zero, a70 = zero, a71 = zero;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            ShortVector w0 = ShortVector.fromArray(s16, w, k * rows);
            ShortVector w1 = ShortVector.fromArray(s16, w, k * rows + half);
            int xk = xo + k;
            ShortVector x = ShortVector.broadcast(s16, xq[xk]);
            a00 = w0.mul(x).add(a00);
            a01 = w1.mul(x).add(a01);
            x = ShortVector.broadcast(s16, xq[xk + xs]);
            a10 = w0.mul(x).add(a10);
            a11 = w1.mul(x).add(a11);
            x = ShortVector.broadcast(s16, xq[xk + 2 * xs]);
            a20 = w0.mul(x).add(a20);
            a21 = w1.mul(x).add(a21);
            x = ShortVector.broadcast(s16, xq[xk + 3 * xs]);
            a30 = w0.mul(x).add(a30);
            a31 = w1.mul(x).add(a31);
            x = ShortVector.broadcast(s16, xq[xk + 4 * xs]);
            a40 = w0.mul(x).add(a40);
            a41 = w1.mul(x).add(a41);
            x = ShortVector.broadcast(s16, xq[xk + 5 * xs]);
            a50 = w0.mul(x).add(a50);
            a51 = w1.mul(x).add(a51);
            x = ShortVector.broadcast(s16, xq[xk + 6 * xs]);
            a60 = w0.mul(x).add(a60);
            a61 = w1.mul(x).add(a61);
            x = ShortVector.broadcast(s16, xq[xk + 7 * xs]);
            a70 = w0.mul(x).add(a70);
            a71 = w1.mul(x).add(a71);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, half);
        a10.intoArray(sums, rows);
        a11.intoArray(sums, rows + half);
        a20.intoArray(sums, 2 * rows);
        a21.intoArray(sums, 2 * rows + half);
        a30.intoArray(sums, 3 * rows);
        a31.intoArray(sums, 3 * rows + half);
        a40.intoArray(sums, 4 * rows);
        a41.intoArray(sums, 4 * rows + half);
        a50.intoArray(sums, 5 * rows);
        a51.intoArray(sums, 5 * rows + half);
        a60.intoArray(sums, 6 * rows);
        a61.intoArray(sums, 6 * rows + half);
        a70.intoArray(sums, 7 * rows);
        a71.intoArray(sums, 7 * rows + half);
        addSums(sums, TOKENS, s, dx, dxo, dxs, out, oo, os);
    }

    /** Four tokens, as {@link #eight}. */
    static void four(short[] w, float[] s, short[] xq, int xo, int xs, float[] dx, int dxo, int dxs, float[] out,
                     int oo, int os, short[] sums) {
        VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
        int half = s16.length();
        int rows = 2 * half;
        ShortVector zero = ShortVector.zero(s16);
        ShortVector a00 = zero, a01 = zero, a10 = zero, a11 = zero, a20 = zero, a21 = zero, a30 = zero, a31 = zero;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            ShortVector w0 = ShortVector.fromArray(s16, w, k * rows);
            ShortVector w1 = ShortVector.fromArray(s16, w, k * rows + half);
            int xk = xo + k;
            ShortVector x = ShortVector.broadcast(s16, xq[xk]);
            a00 = w0.mul(x).add(a00);
            a01 = w1.mul(x).add(a01);
            x = ShortVector.broadcast(s16, xq[xk + xs]);
            a10 = w0.mul(x).add(a10);
            a11 = w1.mul(x).add(a11);
            x = ShortVector.broadcast(s16, xq[xk + 2 * xs]);
            a20 = w0.mul(x).add(a20);
            a21 = w1.mul(x).add(a21);
            x = ShortVector.broadcast(s16, xq[xk + 3 * xs]);
            a30 = w0.mul(x).add(a30);
            a31 = w1.mul(x).add(a31);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, half);
        a10.intoArray(sums, rows);
        a11.intoArray(sums, rows + half);
        a20.intoArray(sums, 2 * rows);
        a21.intoArray(sums, 2 * rows + half);
        a30.intoArray(sums, 3 * rows);
        a31.intoArray(sums, 3 * rows + half);
        addSums(sums, 4, s, dx, dxo, dxs, out, oo, os);
    }

    /** Two tokens, as {@link #eight}: two batched sequences read each weight tile once, not twice. */
    static void two(short[] w, float[] s, short[] xq, int xo, int xs, float[] dx, int dxo, int dxs, float[] out,
                    int oo, int os, short[] sums) {
        VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
        int half = s16.length();
        int rows = 2 * half;
        ShortVector zero = ShortVector.zero(s16);
        ShortVector a00 = zero, a01 = zero, a10 = zero, a11 = zero;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            ShortVector w0 = ShortVector.fromArray(s16, w, k * rows);
            ShortVector w1 = ShortVector.fromArray(s16, w, k * rows + half);
            int xk = xo + k;
            ShortVector x = ShortVector.broadcast(s16, xq[xk]);
            a00 = w0.mul(x).add(a00);
            a01 = w1.mul(x).add(a01);
            x = ShortVector.broadcast(s16, xq[xk + xs]);
            a10 = w0.mul(x).add(a10);
            a11 = w1.mul(x).add(a11);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, half);
        a10.intoArray(sums, rows);
        a11.intoArray(sums, rows + half);
        addSums(sums, 2, s, dx, dxo, dxs, out, oo, os);
    }

    /** One token, as {@link #eight}; the two accumulators' chains are short next to the tile's other work. */
    static void one(short[] w, float[] s, short[] xq, int xo, float[] dx, int dxo, float[] out, int oo,
                    short[] sums) {
        VectorSpecies<Short> s16 = VectorShapes.SHORT_WIDE;
        int half = s16.length();
        int rows = 2 * half;
        ShortVector a0 = ShortVector.zero(s16);
        ShortVector a1 = a0;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            ShortVector x = ShortVector.broadcast(s16, xq[xo + k]);
            a0 = ShortVector.fromArray(s16, w, k * rows).mul(x).add(a0);
            a1 = ShortVector.fromArray(s16, w, k * rows + half).mul(x).add(a1);
        }
        a0.intoArray(sums, 0);
        a1.intoArray(sums, half);
        addSums(sums, 1, s, dx, dxo, 0, out, oo, 0);
    }

    /** {@code out = fma(sum, s * dx, out)} for each token's rows, sums widened from 16 bits. */
    private static void addSums(short[] sums, int tokens, float[] s, float[] dx, int dxo, int dxs, float[] out,
                                int oo, int os) {
        VectorSpecies<Float> f = VectorShapes.FLOAT;
        VectorSpecies<Short> s16 = VectorShapes.SHORT;
        int lanes = VectorShapes.LANES;
        int rows = 4 * lanes;
        for (int i = 0; i < tokens; i++) {
            float d = dx[dxo + i * dxs];
            for (int v = 0; v < 4; v++) {
                int o = oo + i * os + v * lanes;
                IntVector sum = (IntVector) ShortVector.fromArray(s16, sums, i * rows + v * lanes)
                        .convertShape(VectorOperators.S2I, VectorShapes.INT, 0);
                FloatVector scale = FloatVector.fromArray(f, s, v * lanes).mul(d);
                ((FloatVector) sum.convert(VectorOperators.I2F, 0)).fma(scale, FloatVector.fromArray(f, out, o))
                        .intoArray(out, o);
            }
        }
    }
}
