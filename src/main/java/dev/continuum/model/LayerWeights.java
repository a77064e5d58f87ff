package dev.continuum.model;

import dev.continuum.tensor.WeightTensor;

import java.util.function.UnaryOperator;

/**
 * The weights of one transformer block, as llama.cpp's {@code llama_layer} holds them: the tensors every
 * architecture has, then those only some have, null where the architecture has none. Which forward pass reads
 * which is {@link Architecture}'s business; the loader fills exactly what the file's architecture requires.
 *
 * @param bq, bk, bv      projection biases (Qwen2, GPT-2)
 * @param gate            the SwiGLU/GeGLU gate; null for GPT-2's ungated MLP and for a mixture of experts
 * @param up, down        the feed-forward's matrices; null for a mixture of experts
 * @param qNorm, kNorm    per-head query and key norms over the head size, applied before rotation (Qwen3)
 * @param postAttnNorm    norm of the attention's output before the residual add (Gemma 2)
 * @param postFfnNorm     norm of the feed-forward's output before the residual add (Gemma 2)
 * @param attnNormBias    LayerNorm bias of the attention's input norm (GPT-2)
 * @param ffnNormBias     LayerNorm bias of the feed-forward's input norm (GPT-2)
 * @param bo              bias of the attention's output projection (GPT-2)
 * @param upBias          bias of the up projection (GPT-2)
 * @param downBias        bias of the down projection (GPT-2)
 * @param experts         the mixture-of-experts feed-forward (Mixtral), in place of gate, up and down
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
        float[] kNorm,
        float[] postAttnNorm,
        float[] postFfnNorm,
        float[] attnNormBias,
        float[] ffnNormBias,
        float[] bo,
        float[] upBias,
        float[] downBias,
        Experts experts) {

    /** A Llama-block layer, with Qwen3's per-head query and key norms or without (null). */
    public LayerWeights(float[] attnNorm, WeightTensor wq, WeightTensor wk, WeightTensor wv, float[] bq, float[] bk,
                        float[] bv, WeightTensor wo, float[] ffnNorm, WeightTensor gate, WeightTensor up,
                        WeightTensor down, float[] qNorm, float[] kNorm) {
        this(attnNorm, wq, wk, wv, bq, bk, bv, wo, ffnNorm, gate, up, down, qNorm, kNorm, null, null, null, null,
                null, null, null, null);
    }

    /** A Llama-block layer without per-head query and key norms (all but Qwen3). */
    public LayerWeights(float[] attnNorm, WeightTensor wq, WeightTensor wk, WeightTensor wv, float[] bq, float[] bk,
                        float[] bv, WeightTensor wo, float[] ffnNorm, WeightTensor gate, WeightTensor up,
                        WeightTensor down) {
        this(attnNorm, wq, wk, wv, bq, bk, bv, wo, ffnNorm, gate, up, down, null, null);
    }

    /** This layer with a mixture-of-experts feed-forward in place of its dense gate, up and down (all null). */
    public LayerWeights withExperts(Experts e) {
        if (gate != null || up != null || down != null) {
            throw new IllegalArgumentException("a layer with experts has no dense feed-forward matrices");
        }
        return new LayerWeights(attnNorm, wq, wk, wv, bq, bk, bv, wo, ffnNorm, gate, up, down, qNorm, kNorm,
                postAttnNorm, postFfnNorm, attnNormBias, ffnNormBias, bo, upBias, downBias, e);
    }

    /**
     * This layer with every matrix the forward pass multiplies (experts' included) replaced by {@code f} of it,
     * every vector kept: how a runner repacks the layer for its kernels and how load-time quantization converts it.
     */
    public LayerWeights mapMatrices(UnaryOperator<WeightTensor> f) {
        return new LayerWeights(attnNorm, map(f, wq), map(f, wk), map(f, wv), bq, bk, bv, map(f, wo), ffnNorm,
                map(f, gate), map(f, up), map(f, down), qNorm, kNorm, postAttnNorm, postFfnNorm, attnNormBias,
                ffnNormBias, bo, upBias, downBias, experts == null ? null : experts.map(f));
    }

    /** Calls {@code visit} with every matrix of the layer, experts' included (null ones skipped). */
    public void forEachMatrix(java.util.function.Consumer<WeightTensor> visit) {
        mapMatrices(t -> {
            visit.accept(t);
            return t;
        });
    }

    private static WeightTensor map(UnaryOperator<WeightTensor> f, WeightTensor t) {
        return t == null ? null : f.apply(t);
    }
}
