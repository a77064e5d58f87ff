package dev.continuum.model;

import dev.continuum.kvcache.KvCache;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of one query head over one sequence's cached keys and values, with an online
 * softmax so no score buffer is needed and the result accumulates straight into the output slice.
 */
final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {
    }

    /**
     * {@code out[oo..oo+headDim) = softmax(q·K[0..pos] * scale) · V[0..pos]} for query head {@code q[qo..]}
     * against KV head {@code kvHead} of sequence {@code seq}.
     */
    static void head(float[] q, int qo, KvCache kv, int layer, int seq, int pos, int kvHead, int headDim,
                     float scale, float[] out, int oo) {
        float[] keys = kv.keys(layer);
        float[] values = kv.values(layer);
        int kvDim = kv.kvDim();
        int headOffset = kvHead * headDim;
        int vecEnd = S.loopBound(headDim);
        for (int i = 0; i < headDim; i++) {
            out[oo + i] = 0f;
        }
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int t = 0; t <= pos; t++) {
            int base = kv.slot(seq, t) * kvDim + headOffset;
            float score = dot(q, qo, keys, base, headDim, vecEnd) * scale;
            if (score > max) {
                // Rescale what has been accumulated so far to the new maximum.
                float correction = (float) Math.exp(max - score);
                sum *= correction;
                scaleInPlace(out, oo, correction, headDim, vecEnd);
                max = score;
            }
            float p = (float) Math.exp(score - max);
            sum += p;
            axpy(p, values, base, out, oo, headDim, vecEnd);
        }
        scaleInPlace(out, oo, 1f / sum, headDim, vecEnd);
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n, int vecEnd) {
        float s = 0f;
        int i = 0;
        if (vecEnd > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < vecEnd; i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            s = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    private static void axpy(float p, float[] v, int vo, float[] out, int oo, int n, int vecEnd) {
        int i = 0;
        if (vecEnd > 0) {
            FloatVector pv = FloatVector.broadcast(S, p);
            for (; i < vecEnd; i += S.length()) {
                FloatVector.fromArray(S, v, vo + i).fma(pv, FloatVector.fromArray(S, out, oo + i))
                        .intoArray(out, oo + i);
            }
        }
        for (; i < n; i++) {
            out[oo + i] += p * v[vo + i];
        }
    }

    private static void scaleInPlace(float[] out, int oo, float f, int n, int vecEnd) {
        int i = 0;
        if (vecEnd > 0) {
            for (; i < vecEnd; i += S.length()) {
                FloatVector.fromArray(S, out, oo + i).mul(f).intoArray(out, oo + i);
            }
        }
        for (; i < n; i++) {
            out[oo + i] *= f;
        }
    }
}
