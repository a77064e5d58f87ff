package dev.continuum.model;

import dev.continuum.tensor.WeightTensor;

/**
 * The weights of one transformer block; biases are null when the architecture has none (Qwen2 has them), and so
 * are the per-head query and key norms (Qwen3's, over the head size, applied before rotation).
 */
public record LayerWeights(
        float[] attnNorm,
        WeightTensor wq,
        WeightTensor wk,
        WeightTensor wv,
        float[] bq,
        float[] bk,
        float[] bv,
        WeightTensor wo,
        float[] ffnNorm,
        WeightTensor gate,
        WeightTensor up,
        WeightTensor down,
        float[] qNorm,
        float[] kNorm) {

    /** A layer without per-head query and key norms (all but Qwen3). */
    public LayerWeights(float[] attnNorm, WeightTensor wq, WeightTensor wk, WeightTensor wv, float[] bq, float[] bk,
                        float[] bv, WeightTensor wo, float[] ffnNorm, WeightTensor gate, WeightTensor up,
                        WeightTensor down) {
        this(attnNorm, wq, wk, wv, bq, bk, bv, wo, ffnNorm, gate, up, down, null, null);
    }
}
