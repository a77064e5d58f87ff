package dev.continuum.model;

import dev.continuum.tensor.WeightTensor;

/** The weights of one transformer block; biases are null when the architecture has none. */
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
        WeightTensor down) {
}
