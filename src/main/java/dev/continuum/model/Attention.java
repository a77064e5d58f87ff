package dev.continuum.model;

import dev.continuum.kvcache.KvCache;

/**
 * Causal grouped-query attention of one query head over one sequence's cached keys and values, with an online
 * softmax so no score buffer is needed and the result accumulates straight into the output slice.
 */
final class Attention {
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
        for (int i = 0; i < headDim; i++) {
            out[oo + i] = 0f;
        }
        float max = Float.NEGATIVE_INFINITY;
        float sum = 0f;
        for (int t = 0; t <= pos; t++) {
            int base = kv.slot(seq, t) * kvDim + headOffset;
            float score = 0f;
            for (int i = 0; i < headDim; i++) {
                score += q[qo + i] * keys[base + i];
            }
            score *= scale;
            if (score > max) {
                // Rescale what has been accumulated so far to the new maximum.
                float correction = (float) Math.exp(max - score);
                sum *= correction;
                for (int i = 0; i < headDim; i++) {
                    out[oo + i] *= correction;
                }
                max = score;
            }
            float p = (float) Math.exp(score - max);
            sum += p;
            for (int i = 0; i < headDim; i++) {
                out[oo + i] += p * values[base + i];
            }
        }
        float inv = 1f / sum;
        for (int i = 0; i < headDim; i++) {
            out[oo + i] *= inv;
        }
    }
}
