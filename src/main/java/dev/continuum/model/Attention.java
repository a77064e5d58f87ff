package dev.continuum.model;

import dev.continuum.kvcache.PagedKvCache;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of one query head over one sequence's cached keys and values, read straight
 * from the paged cache's blocks: scores block by block (the cache stores a block's keys transposed, so one vector
 * FMA per head dimension scores a vector of positions), a softmax over the scores, then the values summed
 * position by position. The arithmetic depends only on the sequence and head, never on the rest of the batch.
 */
final class Attention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private Attention() {
    }

    /**
     * {@code out[oo..oo+headDim) = softmax(q·K[0..pos] * scale) · V[0..pos]} for query head {@code q[qo..]}
     * against KV head {@code kvHead} of sequence {@code seq}; {@code scores} is scratch of at least
     * {@code pos + 1} rounded up to whole blocks.
     */
    static void head(float[] q, int qo, PagedKvCache kv, int layer, int seq, int pos, int kvHead, float scale,
                     float[] out, int oo, float[] scores) {
        int n = pos + 1;
        int blockSize = kv.blockSize();
        int headDim = kv.headDim();
        int[] table = kv.blockTable(seq);
        float[] keys = kv.keys(layer);
        int blocks = (n + blockSize - 1) / blockSize;
        int blockKeys = kv.kvDim() * blockSize;
        for (int b = 0; b < blocks; b++) {
            int base = table[b] * blockKeys + kvHead * headDim * blockSize;
            if (blockSize % S.length() == 0) {
                scoreBlockVector(q, qo, keys, base, headDim, blockSize, scale, scores, b * blockSize);
            } else {
                scoreBlockScalar(q, qo, keys, base, headDim, blockSize, scale, scores, b * blockSize);
            }
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            max = Math.max(max, scores[t]);
        }
        float sum = ExpKernel.expShifted(scores, n, max);

        float[] values = kv.values(layer);
        int kvDim = kv.kvDim();
        int headOffset = kvHead * headDim;
        int vecEnd = S.loopBound(headDim);
        for (int i = 0; i < headDim; i++) {
            out[oo + i] = 0f;
        }
        for (int b = 0; b < blocks; b++) {
            int first = b * blockSize;
            int last = Math.min(n, first + blockSize);
            int v = table[b] * blockSize * kvDim + headOffset;
            for (int t = first; t < last; t++, v += kvDim) {
                float p = scores[t];
                int i = 0;
                if (vecEnd > 0) {
                    FloatVector pv = FloatVector.broadcast(S, p);
                    for (; i < vecEnd; i += S.length()) {
                        FloatVector.fromArray(S, values, v + i).fma(pv, FloatVector.fromArray(S, out, oo + i))
                                .intoArray(out, oo + i);
                    }
                }
                for (; i < headDim; i++) {
                    out[oo + i] = Math.fma(values[v + i], p, out[oo + i]);
                }
            }
        }
        float inv = 1f / sum;
        for (int i = 0; i < headDim; i++) {
            out[oo + i] *= inv;
        }
    }

    /**
     * Scores of a block's positions, a vector of positions at a time: {@code sum_d q[d] * K[d][slot]} with four
     * partial sums over {@code d mod 4} (independent FMA chains), added in a fixed order.
     */
    private static void scoreBlockVector(float[] q, int qo, float[] keys, int base, int headDim, int blockSize,
                                         float scale, float[] scores, int so) {
        for (int i = 0; i < blockSize; i += S.length()) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int k = base + i;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                a0 = FloatVector.fromArray(S, keys, k + d * blockSize).fma(FloatVector.broadcast(S, q[qo + d]), a0);
                a1 = FloatVector.fromArray(S, keys, k + (d + 1) * blockSize).fma(FloatVector.broadcast(S, q[qo + d + 1]), a1);
                a2 = FloatVector.fromArray(S, keys, k + (d + 2) * blockSize).fma(FloatVector.broadcast(S, q[qo + d + 2]), a2);
                a3 = FloatVector.fromArray(S, keys, k + (d + 3) * blockSize).fma(FloatVector.broadcast(S, q[qo + d + 3]), a3);
            }
            for (; d < headDim; d++) {
                a0 = FloatVector.fromArray(S, keys, k + d * blockSize).fma(FloatVector.broadcast(S, q[qo + d]), a0);
            }
            a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(scores, so + i);
        }
    }

    /** The same scores one position at a time, with the same partial sums, for blocks narrower than a vector. */
    private static void scoreBlockScalar(float[] q, int qo, float[] keys, int base, int headDim, int blockSize,
                                         float scale, float[] scores, int so) {
        for (int i = 0; i < blockSize; i++) {
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            int k = base + i;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                a0 = Math.fma(keys[k + d * blockSize], q[qo + d], a0);
                a1 = Math.fma(keys[k + (d + 1) * blockSize], q[qo + d + 1], a1);
                a2 = Math.fma(keys[k + (d + 2) * blockSize], q[qo + d + 2], a2);
                a3 = Math.fma(keys[k + (d + 3) * blockSize], q[qo + d + 3], a3);
            }
            for (; d < headDim; d++) {
                a0 = Math.fma(keys[k + d * blockSize], q[qo + d], a0);
            }
            scores[so + i] = ((a0 + a1) + (a2 + a3)) * scale;
        }
    }
}
