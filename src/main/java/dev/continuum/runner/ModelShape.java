package dev.continuum.runner;

/**
 * What the engine needs to know about a model to plan its work, whatever runs it: the vocabulary (the width of
 * a logits row), the longest context the model was trained for, and what one cached token costs in the runner's
 * KV storage, so the engine can size its block pool.
 *
 * @param vocabSize        tokens in the vocabulary: floats per logits row
 * @param contextLength    positions the model supports
 * @param layers           transformer blocks (for logs and KV sizing)
 * @param kvBytesPerToken  bytes of KV storage one token takes across all layers, in the runner's own layout
 */
public record ModelShape(int vocabSize, int contextLength, int layers, long kvBytesPerToken) {
    public ModelShape {
        if (vocabSize < 1 || contextLength < 1 || layers < 1 || kvBytesPerToken < 1) {
            throw new IllegalArgumentException("a model shape needs positive sizes: " + vocabSize + " tokens, context "
                    + contextLength + ", " + layers + " layers, " + kvBytesPerToken + " KV bytes per token");
        }
    }

    /** Bytes one KV block of {@code blockSize} tokens takes. */
    public long kvBytesPerBlock(int blockSize) {
        return kvBytesPerToken * blockSize;
    }
}
