package dev.continuum.kvcache;

/**
 * A KV cache with a fixed contiguous region of {@code contextLength} tokens per sequence: simple, and enough
 * for single-stream generation. The server uses the paged cache instead.
 */
public final class SequenceKvCache implements KvCache {
    private final int kvDim;
    private final int contextLength;
    private final int sequences;
    private final float[][] keys;
    private final float[][] values;

    public SequenceKvCache(int layers, int kvDim, int sequences, int contextLength) {
        long floats = (long) sequences * contextLength * kvDim;
        if (floats > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("KV cache of " + sequences + " x " + contextLength + " tokens x "
                    + kvDim + " is too large for one array per layer");
        }
        this.kvDim = kvDim;
        this.contextLength = contextLength;
        this.sequences = sequences;
        this.keys = new float[layers][(int) floats];
        this.values = new float[layers][(int) floats];
    }

    public int contextLength() {
        return contextLength;
    }

    @Override
    public int layers() {
        return keys.length;
    }

    @Override
    public int kvDim() {
        return kvDim;
    }

    @Override
    public int slot(int seq, int pos) {
        if (seq < 0 || seq >= sequences || pos < 0 || pos >= contextLength) {
            throw new IndexOutOfBoundsException("sequence " + seq + " position " + pos + " outside the cache ("
                    + sequences + " x " + contextLength + ")");
        }
        return seq * contextLength + pos;
    }

    @Override
    public float[] keys(int layer) {
        return keys[layer];
    }

    @Override
    public float[] values(int layer) {
        return values[layer];
    }
}
