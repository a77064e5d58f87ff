package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled multiply shared by every format: one tile of 32 columns of a set of rows, decoded to floats
 * ({@code w}: the set's row {@code r}, column {@code k} at {@code k * SET_ROWS + r}), times a few tokens'
 * activations, added into their outputs. A weight vector loaded once serves four tokens, and each token's
 * activation broadcast serves the set's four vectors of rows, so the loop is bound by the FMA unit rather than by
 * loads.
 *
 * <p>Every output is computed exactly as {@link WeightTensor#dot} defines: {@code p = fma(w, x, p)} over the tile's
 * columns from 0, then {@code out = fma(p, scale, out)} (or {@code out + p} without scales), where the scale is
 * the row's block scale times, for formats that quantize activations, the token's tile scale. Vector types stay
 * inside these static methods, so none is ever boxed.
 */
final class TileKernel {
    private static final VectorSpecies<Float> F = VectorShapes.FLOAT;

    private TileKernel() {
    }

    /**
     * Four tokens: token {@code i}'s activations start at {@code x[xo + i * xs]} (the tile's first column), its
     * outputs for the set's first row at {@code out[oo + i * os]}.
     */
    static void four(float[] w, float[] s, float[] x, int xo, int xs, float[] out, int oo, int os, float[] partial,
                     float[] ts, int tso, int tss) {
        int g = VectorShapes.LANES;
        int rows = 4 * g;
        int g1 = g;
        int g2 = 2 * g;
        int g3 = 3 * g;
        FloatVector zero = FloatVector.zero(F);
        FloatVector p00 = zero, p01 = zero, p02 = zero, p03 = zero;
        FloatVector p10 = zero, p11 = zero, p12 = zero, p13 = zero;
        FloatVector p20 = zero, p21 = zero, p22 = zero, p23 = zero;
        FloatVector p30 = zero, p31 = zero, p32 = zero, p33 = zero;
        int x0 = xo;
        int x1 = xo + xs;
        int x2 = xo + 2 * xs;
        int x3 = xo + 3 * xs;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            int wk = k * rows;
            FloatVector w0 = FloatVector.fromArray(F, w, wk);
            FloatVector w1 = FloatVector.fromArray(F, w, wk + g1);
            FloatVector w2 = FloatVector.fromArray(F, w, wk + g2);
            FloatVector w3 = FloatVector.fromArray(F, w, wk + g3);
            FloatVector a = FloatVector.broadcast(F, x[x0 + k]);
            p00 = w0.fma(a, p00);
            p10 = w1.fma(a, p10);
            p20 = w2.fma(a, p20);
            p30 = w3.fma(a, p30);
            a = FloatVector.broadcast(F, x[x1 + k]);
            p01 = w0.fma(a, p01);
            p11 = w1.fma(a, p11);
            p21 = w2.fma(a, p21);
            p31 = w3.fma(a, p31);
            a = FloatVector.broadcast(F, x[x2 + k]);
            p02 = w0.fma(a, p02);
            p12 = w1.fma(a, p12);
            p22 = w2.fma(a, p22);
            p32 = w3.fma(a, p32);
            a = FloatVector.broadcast(F, x[x3 + k]);
            p03 = w0.fma(a, p03);
            p13 = w1.fma(a, p13);
            p23 = w2.fma(a, p23);
            p33 = w3.fma(a, p33);
        }
        // The epilogue goes through memory: a helper taking vectors would not be inlined into a method this
        // large, and a vector crossing a call is boxed.
        p00.intoArray(partial, 0);
        p10.intoArray(partial, g);
        p20.intoArray(partial, 2 * g);
        p30.intoArray(partial, 3 * g);
        p01.intoArray(partial, 4 * g);
        p11.intoArray(partial, 5 * g);
        p21.intoArray(partial, 6 * g);
        p31.intoArray(partial, 7 * g);
        p02.intoArray(partial, 8 * g);
        p12.intoArray(partial, 9 * g);
        p22.intoArray(partial, 10 * g);
        p32.intoArray(partial, 11 * g);
        p03.intoArray(partial, 12 * g);
        p13.intoArray(partial, 13 * g);
        p23.intoArray(partial, 14 * g);
        p33.intoArray(partial, 15 * g);
        addPartials(partial, 4, s, out, oo, os, ts, tso, tss);
    }

    /** Two tokens, as {@link #four}: two batched sequences read each decoded tile once, not twice. */
    static void two(float[] w, float[] s, float[] x, int xo, int xs, float[] out, int oo, int os, float[] partial,
                    float[] ts, int tso, int tss) {
        int g = VectorShapes.LANES;
        int rows = 4 * g;
        FloatVector zero = FloatVector.zero(F);
        FloatVector p00 = zero, p01 = zero, p10 = zero, p11 = zero;
        FloatVector p20 = zero, p21 = zero, p30 = zero, p31 = zero;
        int x0 = xo;
        int x1 = xo + xs;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            int wk = k * rows;
            FloatVector w0 = FloatVector.fromArray(F, w, wk);
            FloatVector w1 = FloatVector.fromArray(F, w, wk + g);
            FloatVector w2 = FloatVector.fromArray(F, w, wk + 2 * g);
            FloatVector w3 = FloatVector.fromArray(F, w, wk + 3 * g);
            FloatVector a = FloatVector.broadcast(F, x[x0 + k]);
            p00 = w0.fma(a, p00);
            p10 = w1.fma(a, p10);
            p20 = w2.fma(a, p20);
            p30 = w3.fma(a, p30);
            a = FloatVector.broadcast(F, x[x1 + k]);
            p01 = w0.fma(a, p01);
            p11 = w1.fma(a, p11);
            p21 = w2.fma(a, p21);
            p31 = w3.fma(a, p31);
        }
        p00.intoArray(partial, 0);
        p10.intoArray(partial, g);
        p20.intoArray(partial, 2 * g);
        p30.intoArray(partial, 3 * g);
        p01.intoArray(partial, 4 * g);
        p11.intoArray(partial, 5 * g);
        p21.intoArray(partial, 6 * g);
        p31.intoArray(partial, 7 * g);
        addPartials(partial, 2, s, out, oo, os, ts, tso, tss);
    }

    /** One token: activations from {@code x[xo]}, outputs for the set's first row at {@code out[oo]}. */
    static void one(float[] w, float[] s, float[] x, int xo, float[] out, int oo, float[] partial, float[] ts,
                    int tso) {
        int g = VectorShapes.LANES;
        int rows = 4 * g;
        FloatVector p0 = FloatVector.zero(F);
        FloatVector p1 = p0;
        FloatVector p2 = p0;
        FloatVector p3 = p0;
        for (int k = 0; k < WeightTensor.TILE; k++) {
            int wk = k * rows;
            FloatVector a = FloatVector.broadcast(F, x[xo + k]);
            p0 = FloatVector.fromArray(F, w, wk).fma(a, p0);
            p1 = FloatVector.fromArray(F, w, wk + g).fma(a, p1);
            p2 = FloatVector.fromArray(F, w, wk + 2 * g).fma(a, p2);
            p3 = FloatVector.fromArray(F, w, wk + 3 * g).fma(a, p3);
        }
        p0.intoArray(partial, 0);
        p1.intoArray(partial, g);
        p2.intoArray(partial, 2 * g);
        p3.intoArray(partial, 3 * g);
        addPartials(partial, 1, s, out, oo, 0, ts, tso, 0);
    }

    /**
     * {@code out = fma(p, scale, out)} (or {@code out + p} without scales) for each token's four group partials,
     * stored token by token in {@code partial}; token {@code i}'s tile scale, if any, is {@code ts[tso + i * tss]}.
     */
    private static void addPartials(float[] partial, int tokens, float[] s, float[] out, int oo, int os,
                                    float[] ts, int tso, int tss) {
        int g = VectorShapes.LANES;
        for (int i = 0; i < tokens; i++) {
            for (int grp = 0; grp < Interleaving.SET_VECTORS; grp++) {
                int o = oo + i * os + grp * g;
                FloatVector p = FloatVector.fromArray(F, partial, (i * Interleaving.SET_VECTORS + grp) * g);
                FloatVector acc = FloatVector.fromArray(F, out, o);
                if (s == null) {
                    acc = p.add(acc);
                } else {
                    FloatVector scale = FloatVector.fromArray(F, s, grp * g);
                    if (ts != null) {
                        scale = scale.mul(ts[tso + i * tss]);
                    }
                    acc = p.fma(scale, acc);
                }
                acc.intoArray(out, o);
            }
        }
    }
}
