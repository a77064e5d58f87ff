package dev.continuum.model;

import dev.continuum.tensor.MatMul;

/**
 * The feed-forward half of a Llama block over a batch of rows, from the feed-forward norm's output to the residual
 * add: dense SwiGLU ({@link SwiGluFeedForward}) or a mixture of experts ({@link ExpertFeedForward}, Mixtral). A model
 * picks one at construction from its config, so the layer loop reads the same whichever it is.
 *
 * <p>Each keeps its own scratch, grown with the largest batch seen and reused: a step allocates nothing.
 */
interface FeedForward {
    /**
     * {@code x[i] += ffn(normed[i])} for each of the {@code n} rows ({@code dim} floats each) with layer
     * {@code w}'s weights; {@code normed} may be overwritten.
     */
    void addTo(LayerWeights w, float[] normed, int n, float[] x);

    /** The feed-forward {@code config} describes: experts when it has any, dense SwiGLU otherwise. */
    static FeedForward of(LlamaConfig config, LlamaWeights weights, MatMul matmul) {
        return config.expertCount() == 0 ? new SwiGluFeedForward(config, weights, matmul)
                : new ExpertFeedForward(config, weights, matmul, ExpertFeedForward.Schedule.fromSystemProperty());
    }
}
