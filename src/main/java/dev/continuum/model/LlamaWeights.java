package dev.continuum.model;

import dev.continuum.tensor.GgmlType;
import dev.continuum.tensor.WeightTensor;

import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * All weights of a model; {@code output} is the token embedding itself when tied.
 *
 * @param positionEmbedding learned absolute position embeddings, one row per position (GPT-2); null elsewhere
 * @param outputNormBias    LayerNorm bias of the final norm (GPT-2); null elsewhere
 */
public record LlamaWeights(WeightTensor tokenEmbedding, LayerWeights[] layers, float[] outputNorm, WeightTensor output,
                           WeightTensor positionEmbedding, float[] outputNormBias) {

    /** The weights of a model without learned position embeddings or a final norm bias. */
    public LlamaWeights(WeightTensor tokenEmbedding, LayerWeights[] layers, float[] outputNorm, WeightTensor output) {
        this(tokenEmbedding, layers, outputNorm, output, null, null);
    }

    /**
     * These weights with every matrix the forward pass multiplies repacked in place into the layout the vector
     * kernels read ({@link WeightTensor#interleaved}); the token embedding is repacked only when it is also the
     * output matrix (its rows are otherwise only looked up). The original tensors must not be used afterwards.
     */
    public LlamaWeights interleaved() {
        Map<WeightTensor, WeightTensor> done = new IdentityHashMap<>();
        LayerWeights[] repacked = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            repacked[l] = layers[l].mapMatrices(t -> done.computeIfAbsent(t, WeightTensor::interleaved));
        }
        WeightTensor out = done.computeIfAbsent(output, WeightTensor::interleaved);
        return new LlamaWeights(done.getOrDefault(tokenEmbedding, tokenEmbedding), repacked, outputNorm, out,
                positionEmbedding, outputNormBias);
    }

    /** The weight types of every matrix the forward pass multiplies. */
    public Set<GgmlType> matrixTypes() {
        EnumSet<GgmlType> types = EnumSet.of(output.type());
        for (LayerWeights w : layers) {
            w.forEachMatrix(t -> types.add(t.type()));
        }
        return types;
    }
}
