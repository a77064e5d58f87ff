package dev.continuum.kvcache;

/**
 * Where the attention keys and values of every cached token live. Each layer has one key and one value array;
 * a token's {@code kvDim} floats start at {@code slot(seq, pos) * kvDim}. Implementations decide the slot
 * mapping (contiguous per sequence, or paged through block tables), the model only asks.
 */
public interface KvCache {
    int layers();

    int kvDim();

    /** Storage slot of sequence {@code seq}'s token at position {@code pos}; the position must be allocated. */
    int slot(int seq, int pos);

    float[] keys(int layer);

    float[] values(int layer);
}
