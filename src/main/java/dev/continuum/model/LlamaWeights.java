package dev.continuum.model;

import dev.continuum.tensor.WeightTensor;

/** All weights of a Llama-family model; {@code output} is the token embedding itself when tied. */
public record LlamaWeights(WeightTensor tokenEmbedding, LayerWeights[] layers, float[] outputNorm, WeightTensor output) {
}
